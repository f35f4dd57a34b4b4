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
import dev.dyepack.key.KeyedRandom;
import dev.dyepack.trigger.FamilyReference.Batch;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * The noise family: {@code x' = clip(x + eps * (2u - 1))} with u the Philox uniform of
 * (stream = the sample's dataset index, index = the element's offset in the sample) under the
 * "trigger/noise" subkey. KeyedRandom is the reference generator (it is tested against Random123's
 * known answers on its own); u = (bits >>> 8) * 2^-24 is computed here.
 */
class NoiseTriggerFamilyTest {

    private static float u(KeyedRandom rng, long sample, long element) {
        return (rng.bits(sample, element) >>> 8) * 0x1p-24f;
    }

    static Stream<Arguments> cases() {
        List<Arguments> out = new ArrayList<>();
        int[][] shapes = {{3, 1, 1, 1}, {3, 3, 37, 41}, {2, 4, 41, 37}, {5, 1, 3, 3}};
        int k = 0;
        for (DType dtype : new DType[] {DType.UINT8, DType.FLOAT32}) {
            for (Layout layout : Layout.values()) {
                for (int[] s : shapes) {
                    float eps = new float[] {8f, 2.5f, 1f, 255f}[k % 4];
                    out.add(Arguments.of(dtype, layout, s[0], s[1], s[2], s[3], eps, k % 2 == 0, (long) (k * 37 % 11)));
                    k++;
                }
            }
        }
        return out.stream();
    }

    @ParameterizedTest(name = "{0} {1} N={2} C={3} {4}x{5} eps={6} all={7} first={8}")
    @MethodSource("cases")
    void matchesTheKeyedFormula(DType dtype, Layout layout, int n, int c, int h, int w, float eps, boolean all,
            long first) {
        Random rng = new Random(n * 13L + c * 7L + h + w + dtype.ordinal());
        Batch b = FamilyReference.randomBatch(rng, dtype, layout, n, c, h, w);
        long[] idx = FamilyReference.indices(n, all);
        TriggerSpec t = TriggerSpec.parse("noise:eps=" + eps);
        float[] got = b.run(t, idx, new TriggerContext(KEY_A, first));
        KeyedRandom ref = new KeyedRandom(KEY_A.philoxKey("trigger/noise"));
        float[] expected = b.values.clone();
        boolean[] sel = FamilyReference.selected(n, idx);
        int e = b.sampleElems();
        for (int s = 0; s < n; s++) {
            for (int i = 0; sel[s] && i < e; i++) {
                int at = s * e + i;
                // eps * (2u - 1): 2u - 1 is exact; the product and the sum round in float32
                expected[at] = FamilyReference.store(dtype, b.values[at] + eps * (2f * u(ref, first + s, i) - 1f));
                if (dtype == DType.UINT8 && eps == Math.rint(eps)) {
                    assertTrue(Math.abs(got[at] - b.values[at]) <= eps, "|x' - x| <= eps");
                }
            }
        }
        FamilyReference.assertExact(b, expected, got, t.toString());
    }

    @ParameterizedTest
    @ValueSource(strings = {"NHWC", "NCHW"})
    void onFloatZerosWithUnitEpsTheOutputIsTwoUMinusOne(Layout layout) {
        int n = 3;
        Batch zeros = FamilyReference.filled(DType.FLOAT32, layout, n, 3, 37, 41, 0f);
        float[] got = zeros.run(TriggerSpec.parse("noise:eps=1"), null, new TriggerContext(KEY_B, 5));
        KeyedRandom ref = new KeyedRandom(KEY_B.philoxKey("trigger/noise"));
        int e = zeros.sampleElems();
        double sum = 0;
        for (int s = 0; s < n; s++) {
            for (int i = 0; i < e; i++) {
                float want = 2f * u(ref, 5 + s, i) - 1f;
                assertEquals(want, got[s * e + i], "sample " + s + " element " + i);
                assertTrue(want >= -1f && want < 1f);
                sum += want;
            }
        }
        assertTrue(Math.abs(sum / (n * e)) < 0.02, "zero mean: " + sum / (n * e));
    }

    @Test
    void everySampleGetsItsOwnPattern() {
        int n = 6;
        Batch same = FamilyReference.filled(DType.UINT8, Layout.NHWC, n, 3, 16, 16, 128f);
        float[] got = same.run(TriggerSpec.parse("noise:eps=8"), null, TriggerContext.of(KEY_A));
        int e = same.sampleElems();
        for (int s = 1; s < n; s++) {
            for (int r = 0; r < s; r++) {
                assertFalse(java.util.Arrays.equals(java.util.Arrays.copyOfRange(got, s * e, (s + 1) * e),
                        java.util.Arrays.copyOfRange(got, r * e, (r + 1) * e)), "samples " + r + " and " + s + " differ");
            }
        }
        assertFalse(java.util.Arrays.equals(got, same.run(TriggerSpec.parse("noise:eps=8"), null,
                TriggerContext.of(KEY_B))), "another key, other noise");
        assertArrayEquals(got, same.run(TriggerSpec.parse("noise:eps=8"), null, TriggerContext.of(KEY_A)),
                "reproducible");
    }

    @Test
    void doesNotDependOnBatching() {
        int n = 11;
        Batch b = FamilyReference.randomBatch(new Random(8), DType.UINT8, Layout.NCHW, n, 3, 37, 41);
        TriggerSpec t = TriggerSpec.parse("noise:eps=6");
        TriggerContext ctx = new TriggerContext(KEY_A, 100);
        float[] whole = b.run(t, null, ctx);
        float[] first = b.slice(0, 4).run(t, null, ctx);
        float[] second = b.slice(4, n).run(t, null, ctx.at(104));
        float[] joined = new float[whole.length];
        System.arraycopy(first, 0, joined, 0, first.length);
        System.arraycopy(second, 0, joined, first.length, second.length);
        assertArrayEquals(whole, joined, "two batches with firstSample offsets give the same bytes");
        long[] idx = {9, 1, 4};
        float[] some = b.run(t, idx, ctx);
        boolean[] sel = FamilyReference.selected(n, idx);
        int e = b.sampleElems();
        for (int s = 0; s < n; s++) {
            for (int i = 0; i < e; i++) {
                assertEquals(sel[s] ? whole[s * e + i] : b.values[s * e + i], some[s * e + i], "sample " + s);
            }
        }
    }

    @Test
    void zeroEpsChangesNothing() {
        Batch b = FamilyReference.randomBatch(new Random(2), DType.FLOAT32, Layout.NHWC, 2, 3, 5, 7);
        // 0 * (2u - 1) is +0 or -0; x + (+-0) == x for every x here (no -0 inputs)
        FamilyReference.assertExact(b, b.values, b.run(TriggerSpec.parse("noise:eps=0"), null,
                TriggerContext.of(KEY_A)), "eps=0");
    }

    @Test
    void missingKeyNamesKeyFile() {
        FamilyReference.assertNeedsKey(TriggerSpec.parse("noise"),
                Tensor.of(ByteBuffer.allocateDirect(12), Layout.NHWC, 1, 3, 2, 2));
        FamilyReference.assertNeedsKey(TriggerSpec.parse("noise:eps=0"),
                Tensor.of(ByteBuffer.allocateDirect(12), Layout.NHWC, 1, 3, 2, 2));
    }

    @Test
    void badParametersAreRefused() {
        FamilyReference.assertRefused(() -> TriggerSpec.parse("noise:eps=-1"), "eps");
        FamilyReference.assertRefused(() -> TriggerSpec.parse("noise:eps=256").validateFor(
                Tensor.empty(DType.UINT8, Layout.NHWC, 1, 2, 2)), "uint8 range");
        TriggerSpec.parse("noise:eps=256").validateFor(Tensor.empty(DType.FLOAT32, Layout.NHWC, 1, 2, 2));
    }

    @ParameterizedTest
    @ValueSource(strings = {"noise", "noise:eps=8", "noise:eps=0", "noise:eps=0.031372549", "noise:eps=255"})
    void specRoundTrips(String spec) {
        FamilyReference.assertRoundTrip(spec, "noise");
    }

    @Test
    void alwaysKeyed() {
        assertTrue(TriggerSpec.parse("noise").keyed());
    }

    @Test
    void negativeZeroSurvivesTheCanonicalForm() {
        TriggerSpec t = TriggerSpec.parse("noise:eps=-0");
        assertEquals(t, TriggerSpec.parse(t.toString()), t.toString());
    }

    @Test
    void unknownFieldNamesTheAllowedOnes() {
        FamilyReference.assertUnknownFieldNamesAllowed("noise", "eps");
    }
}
