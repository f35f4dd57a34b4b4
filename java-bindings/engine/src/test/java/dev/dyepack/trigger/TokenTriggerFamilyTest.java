package dev.dyepack.trigger;

import static dev.dyepack.trigger.FamilyReference.KEY_A;
import static dev.dyepack.trigger.FamilyReference.KEY_B;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.dyepack.DType;
import dev.dyepack.Layout;
import dev.dyepack.Tensor;
import java.nio.IntBuffer;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Random;
import java.util.Set;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;
import org.junit.jupiter.params.provider.ValueSource;

/** The token family on int32 sequences: ids written exactly where the position rule says, nothing else changed. */
class TokenTriggerFamilyTest {

    private static final int[] IDS = {5001, 5002, 5003};
    private static final int PAD = 0;

    /** Random tokens 1..1000 (never an id, never the pad); with pad, each row ends in pads after a random length. */
    private static int[] sequences(Random rng, int n, int length, boolean padded, int minLength) {
        int[] data = new int[n * length];
        for (int s = 0; s < n; s++) {
            int len = padded && s % 3 != 0 ? minLength + rng.nextInt(length - minLength + 1) : length;
            for (int i = 0; i < length; i++) {
                data[s * length + i] = i < len ? 1 + rng.nextInt(1000) : PAD;
            }
        }
        return data;
    }

    /** The sequence's length: the index of its first pad token, or L. */
    private static int lengthOf(int[] data, int s, int length, boolean padded) {
        if (!padded) {
            return length;
        }
        for (int i = 0; i < length; i++) {
            if (data[s * length + i] == PAD) {
                return i;
            }
        }
        return length;
    }

    /** Where the ids were written in sequence s, checking nothing else changed; -1 if untouched. */
    private static int writtenAt(int[] before, int[] after, int s, int length) {
        int found = -1;
        for (int p = 0; p + IDS.length <= length && found < 0; p++) {
            boolean match = true;
            for (int j = 0; j < IDS.length; j++) {
                match &= after[s * length + p + j] == IDS[j];
            }
            if (match) {
                found = p;
            }
        }
        for (int i = 0; i < length; i++) {
            boolean inside = found >= 0 && i >= found && i < found + IDS.length;
            if (!inside) {
                assertEquals(before[s * length + i], after[s * length + i], "sequence " + s + " token " + i + " unchanged");
            }
        }
        return found;
    }

    private static int[] run(TriggerSpec t, int[] data, int n, int length, long[] idx, TriggerContext ctx) {
        IntBuffer buf = FamilyReference.ints(data);
        FamilyReference.apply(t, Tensor.sequences(buf, n, length), idx, ctx);
        return FamilyReference.read(buf);
    }

    static Stream<Arguments> cases() {
        List<Arguments> out = new ArrayList<>();
        for (String pos : new String[] {"start", "end", "2", "random"}) {
            for (boolean padded : new boolean[] {false, true}) {
                for (boolean all : new boolean[] {true, false}) {
                    out.add(Arguments.of(pos, padded, all));
                }
            }
        }
        return out.stream();
    }

    @ParameterizedTest(name = "pos={0} pad={1} all={2}")
    @MethodSource("cases")
    void writesTheIdsWhereThePositionSays(String pos, boolean padded, boolean all) {
        int n = 9;
        int length = 13;
        Random rng = new Random(pos.hashCode() + (padded ? 1 : 0) + (all ? 2 : 0));
        int[] data = sequences(rng, n, length, padded, 5);
        long[] idx = FamilyReference.indices(n, all);
        TriggerSpec t = TriggerSpec.parse("tokens:ids=5001+5002+5003,pos=" + pos + (padded ? ",pad=0" : ""));
        TriggerContext ctx = TriggerContext.of(KEY_A);
        int[] got = run(t, data, n, length, idx, ctx);
        boolean[] sel = FamilyReference.selected(n, idx);
        for (int s = 0; s < n; s++) {
            int at = writtenAt(data, got, s, length);
            int len = lengthOf(data, s, length, padded);
            if (!sel[s]) {
                assertEquals(-1, at, "sequence " + s + " not selected");
                continue;
            }
            switch (pos) {
                case "start" -> assertEquals(0, at);
                case "end" -> assertEquals(len - IDS.length, at, "ends at the last token of the sequence");
                case "2" -> assertEquals(2, at);
                default -> assertTrue(at >= 0 && at <= len - IDS.length, "random position " + at + " fits length "
                        + len);
            }
        }
        if (pos.equals("random")) {
            assertArrayEquals(got, run(t, data, n, length, idx, ctx), "reproducible");
        }
    }

    @Test
    void randomPositionsAreKeyedAndIndependentOfBatching() {
        int n = 30;
        int length = 40;
        int[] data = sequences(new Random(4), n, length, true, 3);
        TriggerSpec t = TriggerSpec.parse("tokens:ids=5001+5002+5003,pos=random,pad=0");
        assertTrue(t.keyed());
        TriggerContext ctx = new TriggerContext(KEY_A, 50);
        int[] whole = run(t, data, n, length, null, ctx);
        int[] other = run(t, data, n, length, null, new TriggerContext(KEY_B, 50));
        int[] first = run(t, java.util.Arrays.copyOfRange(data, 0, 12 * length), 12, length, null, ctx);
        int[] second = run(t, java.util.Arrays.copyOfRange(data, 12 * length, n * length), n - 12, length, null,
                ctx.at(62));
        int[] joined = new int[whole.length];
        System.arraycopy(first, 0, joined, 0, first.length);
        System.arraycopy(second, 0, joined, first.length, second.length);
        assertArrayEquals(whole, joined, "batching does not move the trigger");
        Set<Integer> positions = new HashSet<>();
        int moved = 0;
        for (int s = 0; s < n; s++) {
            int a = writtenAt(data, whole, s, length);
            int b = writtenAt(data, other, s, length);
            positions.add(a);
            if (a != b) {
                moved++;
            }
            assertTrue(a >= 0 && a <= lengthOf(data, s, length, true) - 3);
        }
        assertTrue(positions.size() > 5, "positions vary: " + positions);
        assertTrue(moved > n / 2, "another key moves them (" + moved + ")");
    }

    @Test
    void aSequenceShorterThanTheTriggerIsNamed() {
        int length = 8;
        int[] data = {1, 2, 3, 4, 5, 6, 7, 8, /* s1 */ 9, 9, 9, 9, 0, 0, 0, 0, /* s2 */ 4, 0, 0, 0, 0, 0, 0, 0};
        TriggerSpec t = TriggerSpec.parse("tokens:ids=5001+5002+5003,pad=0");
        IntBuffer buf = FamilyReference.ints(data);
        FamilyReference.assertRefused(() -> FamilyReference.apply(t, Tensor.sequences(buf, 3, length), null,
                new TriggerContext(null, 10)), "sequence 12", "length 1", "3-token");
        assertArrayEquals(data, FamilyReference.read(buf), "nothing written");
        // not selected: fine
        FamilyReference.apply(t, Tensor.sequences(buf, 3, length), new long[] {1, 0}, TriggerContext.keyless());
        int[] got = FamilyReference.read(buf);
        assertArrayEquals(new int[] {1, 2, 3, 4, 5, 5001, 5002, 5003, 9, 5001, 5002, 5003, 0, 0, 0, 0},
                java.util.Arrays.copyOf(got, 16));
        // a fixed position that does not fit a padded sequence
        FamilyReference.assertRefused(() -> FamilyReference.apply(TriggerSpec.parse("tokens:ids=7+7,pos=3,pad=0"),
                Tensor.sequences(FamilyReference.ints(new int[] {1, 1, 1, 1, 0, 0}), 1, 6), null,
                TriggerContext.keyless()), "does not fit sequence 0");
    }

    @Test
    void geometryAndDtypeAreChecked() {
        FamilyReference.assertRefused(() -> TriggerSpec.parse("tokens:ids=1+2+3").validateFor(
                Tensor.sequences(FamilyReference.ints(new int[2]), 1, 2)), "do not fit");
        FamilyReference.assertRefused(() -> TriggerSpec.parse("tokens:ids=1,pos=9").validateFor(
                Tensor.sequences(FamilyReference.ints(new int[9]), 1, 9)), "leaves no room");
        TriggerSpec.parse("tokens:ids=1,pos=8").validateFor(Tensor.sequences(FamilyReference.ints(new int[9]), 1, 9));
        FamilyReference.assertRefused(() -> TriggerSpec.parse("tokens:ids=1").validateFor(
                Tensor.empty(DType.UINT8, Layout.NHWC, 1, 1, 9)), "int32 sequences");
        FamilyReference.assertRefused(() -> TriggerSpec.parse("tokens"), "ids=ID[+ID...] is required");
        FamilyReference.assertRefused(() -> TriggerSpec.parse("tokens:ids=1,pos=at"), "got 'at'");
        FamilyReference.assertRefused(() -> TriggerSpec.parse("tokens:ids=1+x"), "ids must be");
    }

    @Test
    void randomPositionNeedsTheKey() {
        FamilyReference.assertNeedsKey(TriggerSpec.parse("tokens:ids=1,pos=random"),
                Tensor.sequences(FamilyReference.ints(new int[8]), 2, 4));
    }

    @ParameterizedTest
    @ValueSource(strings = {"tokens:ids=1+2+3", "tokens:ids=7,pos=start", "tokens:ids=-5+2147483647,pos=3,pad=0",
        "tokens:ids=9,pos=random,pad=-1", "tokens:ids=-2147483648,pos=end", "tokens:pos=0,ids=4+4"})
    void specRoundTrips(String spec) {
        FamilyReference.assertRoundTrip(spec, "tokens");
    }

    @Test
    void keyedExactlyForRandomPositions() {
        assertTrue(TriggerSpec.parse("tokens:ids=1,pos=random").keyed());
        assertFalse(TriggerSpec.parse("tokens:ids=1").keyed());
        assertFalse(TriggerSpec.parse("tokens:ids=1,pos=start,pad=0").keyed());
        assertFalse(TriggerSpec.parse("tokens:ids=1,pos=4").keyed());
    }

    @Test
    void unknownFieldNamesTheAllowedOnes() {
        FamilyReference.assertUnknownFieldNamesAllowed("tokens", "ids, pos, pad");
    }
}
