package dev.dyepack.select;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.dyepack.InvalidArgumentException;
import dev.dyepack.key.OwnerKey;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

class SelectorTest {
    private static final OwnerKey KEY = new OwnerKey("selector test key, thirty-two b".getBytes(StandardCharsets.UTF_8));
    private static final OwnerKey OTHER = new OwnerKey("another selector key, 32 bytes!".getBytes(StandardCharsets.UTF_8));

    @ParameterizedTest
    @CsvSource({"0.01,60000,600", "0.01,1000,10", "0.015,1000,15", "0.0125,1000,13", "0.0005,1000,1", "600,60000,600",
        "1,100,1", "0.05,1000,50"})
    void budgetArithmetic(String budget, long n, long expected) {
        assertEquals(expected, Budget.parse(budget).countFor(n, false));
    }

    @Test
    void budgetRefusals() {
        assertTrue(assertThrows(InvalidArgumentException.class, () -> Budget.parse("0.0004").countFor(1000, false))
                .getMessage().contains("rounds to 0"));
        InvalidArgumentException e = assertThrows(InvalidArgumentException.class,
                () -> Budget.parse("0.06").countFor(1000, false));
        assertTrue(e.getMessage().contains("5% cap") && !e.getMessage().contains("--"), e.getMessage());
        assertEquals(java.util.Optional.of(dev.dyepack.Parameters.ALLOW_OVER_5_PERCENT), e.parameter());
        assertEquals(java.util.Optional.of("false"), e.value());
        assertEquals(60, Budget.parse("0.06").countFor(1000, true));
        assertThrows(InvalidArgumentException.class, () -> Budget.parse("51").countFor(1000, false));
        assertThrows(InvalidArgumentException.class, () -> Budget.parse("2000").countFor(1000, true));
        for (String bad : new String[] {"0", "1.5", "-0.1", "abc", "", "0.0"}) {
            assertThrows(InvalidArgumentException.class, () -> Budget.parse(bad), bad);
        }
    }

    private static long[] labels(int n, int classes, long seed) {
        Random rng = new Random(seed);
        long[] y = new long[n];
        for (int i = 0; i < n; i++) {
            y[i] = rng.nextInt(classes);
        }
        return y;
    }

    @Test
    void randomSelectionIsKeyedAndRespectsTheMode() {
        long[] y = labels(1000, 10, 1);
        Selector.Result a = Selector.select(y, 10, 3, SelectionMode.DIRTY, Strategy.RANDOM, null, 25, false, KEY);
        Selector.Result b = Selector.select(y, 10, 3, SelectionMode.DIRTY, Strategy.RANDOM, null, 25, false, KEY);
        Selector.Result c = Selector.select(y, 10, 3, SelectionMode.DIRTY, Strategy.RANDOM, null, 25, false, OTHER);
        assertArrayEquals(a.indices(), b.indices());
        assertFalse(Arrays.equals(a.indices(), c.indices()));
        assertEquals(25, a.indices().length);
        for (int k = 0; k < a.indices().length; k++) {
            assertTrue(y[(int) a.indices()[k]] != 3, "dirty-label picks non-target samples");
            if (k > 0) {
                assertTrue(a.indices()[k] > a.indices()[k - 1], "ascending and distinct");
            }
        }
        Selector.Result clean = Selector.select(y, 10, 3, SelectionMode.CLEAN, Strategy.RANDOM, null, 20, false, KEY);
        assertTrue(Arrays.stream(clean.indices()).allMatch(i -> y[(int) i] == 3), "clean-label picks target samples");
        assertEquals(20, clean.perClassChosen()[3]);
        assertEquals(Arrays.stream(y).filter(v -> v == 3).count(), clean.perClassTotal()[3]);
    }

    @Test
    void boundarySelectionTakesTheNearestAndBreaksTiesByKey() {
        int n = 200;
        long[] y = labels(n, 4, 2);
        float[] scores = new float[n];
        Random rng = new Random(3);
        for (int i = 0; i < n; i++) {
            scores[i] = rng.nextInt(5); // many exact ties
        }
        Selector.Result r = Selector.select(y, 4, 0, SelectionMode.DIRTY, Strategy.BOUNDARY, scores, 30, false, KEY);
        // Independent check: the chosen candidates' scores are the 30 smallest candidate scores.
        float[] cand = new float[n];
        int m = 0;
        for (int i = 0; i < n; i++) {
            if (y[i] != 0) {
                cand[m++] = scores[i];
            }
        }
        float[] sorted = Arrays.copyOf(cand, m);
        Arrays.sort(sorted);
        float[] picked = new float[30];
        for (int k = 0; k < 30; k++) {
            picked[k] = scores[(int) r.indices()[k]];
        }
        Arrays.sort(picked);
        assertArrayEquals(Arrays.copyOf(sorted, 30), picked);
        // The tie at the cut-off is broken differently by another key.
        Selector.Result other = Selector.select(y, 4, 0, SelectionMode.DIRTY, Strategy.BOUNDARY, scores, 30, false, OTHER);
        assertFalse(Arrays.equals(r.indices(), other.indices()));
    }

    @Test
    void boundaryFarTakesTheFarthest() {
        long[] y = {1, 1, 1, 1, 0, 1};
        float[] scores = {0.5f, 3f, 1f, 2f, 9f, 0.1f};
        Selector.Result far = Selector.select(y, 2, 0, SelectionMode.DIRTY, Strategy.BOUNDARY_FAR, scores, 2, false, KEY);
        assertArrayEquals(new long[] {1, 3}, far.indices(), "scores 3 and 2; the target-class sample is no candidate");
        Selector.Result near = Selector.select(y, 2, 0, SelectionMode.DIRTY, Strategy.BOUNDARY, scores, 2, false, KEY);
        assertArrayEquals(new long[] {0, 5}, near.indices());
    }

    @Test
    void stratificationSplitsInProportion() {
        long[] y = new long[1000];
        for (int i = 0; i < 1000; i++) {
            y[i] = i < 500 ? 1 : i < 800 ? 2 : i < 900 ? 3 : 0; // non-target sizes 500, 300, 100 (target 0)
        }
        Selector.Result r = Selector.select(y, 4, 0, SelectionMode.DIRTY, Strategy.RANDOM, null, 18, true, KEY);
        assertArrayEquals(new long[] {0, 10, 6, 2}, r.perClassChosen());
        Selector.Result r2 = Selector.select(y, 4, 0, SelectionMode.DIRTY, Strategy.RANDOM, null, 10, true, KEY);
        // 10 * (5/9, 3/9, 1/9) = 5.56, 3.33, 1.11 -> 5, 3, 1 plus the largest remainder (class 1).
        assertArrayEquals(new long[] {0, 6, 3, 1}, r2.perClassChosen());
    }

    @Test
    void autoTakesTheFarthestOfEachSourceClassInProportionForDirtyLabel() {
        long[] y = new long[1000];
        float[] scores = new float[1000];
        for (int i = 0; i < 1000; i++) {
            y[i] = i < 500 ? 1 : i < 800 ? 2 : i < 900 ? 3 : 0; // non-target sizes 500, 300, 100 (target 0)
            scores[i] = y[i] == 3 ? 2000 + i : (i * 37) % 1000; // distinct; class 3 is farthest of all
        }
        Selector.Result auto = Selector.select(y, 4, 0, SelectionMode.DIRTY, Strategy.AUTO, scores, 18, false, KEY);
        // 18 * (5/9, 3/9, 1/9): the counts of a balanced choice, not the 18 farthest (all of class 3).
        assertArrayEquals(new long[] {0, 10, 6, 2}, auto.perClassChosen());
        // Within each class, the farthest: the reference sorts each class's scores on its own.
        long[] expected = java.util.stream.LongStream.concat(java.util.stream.LongStream.concat(
                farthest(y, scores, 1, 10), farthest(y, scores, 2, 6)), farthest(y, scores, 3, 2)).sorted().toArray();
        assertArrayEquals(expected, auto.indices());
        assertEquals(Strategy.BOUNDARY_FAR, Strategy.AUTO.resolve(SelectionMode.DIRTY));
        assertEquals(Strategy.BOUNDARY, Strategy.AUTO.resolve(SelectionMode.CLEAN));
        dev.dyepack.trigger.TriggerSpec dct = dev.dyepack.trigger.TriggerSpec.parse("dct");
        assertEquals(Strategy.RANDOM, Strategy.AUTO.resolve(SelectionMode.DIRTY, dct), "the smooth keyed pattern");
        assertEquals(Strategy.BOUNDARY, Strategy.AUTO.resolve(SelectionMode.CLEAN, dct));
        assertEquals(Strategy.BOUNDARY_FAR, Strategy.AUTO.resolve(SelectionMode.DIRTY,
                dev.dyepack.trigger.TriggerSpec.parse("sparse:n=48")));
        assertEquals(Strategy.BOUNDARY_FAR, Strategy.AUTO.resolve(SelectionMode.DIRTY, null), "not yet chosen");
        assertEquals(Strategy.BOUNDARY, Strategy.BOUNDARY.resolve(SelectionMode.DIRTY, dct), "explicit stays");
        assertTrue(Strategy.AUTO.stratified(false));
        assertFalse(Strategy.BOUNDARY_FAR.stratified(false), "explicit strategies stratify only when asked");
        Selector.Result plainFar = Selector.select(y, 4, 0, SelectionMode.DIRTY, Strategy.BOUNDARY_FAR, scores, 18,
                false, KEY);
        assertArrayEquals(new long[] {0, 0, 0, 18}, plainFar.perClassChosen(), "explicit boundary-far is unchanged");
    }

    private static java.util.stream.LongStream farthest(long[] y, float[] scores, int c, int k) {
        return java.util.stream.IntStream.range(0, y.length).filter(i -> y[i] == c).boxed()
                .sorted((a, b) -> Float.compare(scores[b], scores[a])).limit(k).mapToLong(Integer::longValue);
    }

    @Test
    void impossibleSelectionsAreRefused() {
        long[] y = {0, 0, 1, 1, 1};
        InvalidArgumentException e = assertThrows(InvalidArgumentException.class,
                () -> Selector.select(y, 2, 0, SelectionMode.CLEAN, Strategy.RANDOM, null, 3, false, KEY));
        assertTrue(e.getMessage().contains("only 2 are of the target class 0"), e.getMessage());
        assertThrows(InvalidArgumentException.class,
                () -> Selector.select(y, 2, 5, SelectionMode.CLEAN, Strategy.RANDOM, null, 1, false, KEY));
        assertThrows(InvalidArgumentException.class,
                () -> Selector.select(new long[] {0, 7}, 2, 0, SelectionMode.DIRTY, Strategy.RANDOM, null, 1, false, KEY));
        assertThrows(InvalidArgumentException.class,
                () -> Selector.select(y, 2, 0, SelectionMode.DIRTY, Strategy.BOUNDARY, null, 1, false, KEY));
    }
}
