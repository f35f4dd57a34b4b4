package dev.dyepack.key;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.dyepack.InvalidArgumentException;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import org.junit.jupiter.api.Test;

class KeyedRandomTest {
    private static final int[] KEY = {0x1234abcd, 0x9e3779b9};
    /** 2^32 mod this is about 2^32 / 3, so a third of first draws are rejected: exercises the retries. */
    private static final long HIGH_REJECT_BOUND = (1L << 32) / 3 + 1;

    /** The counter layout from the class Javadoc, written out independently of the implementation. */
    private static int layoutReference(int[] key, long stream, long index) {
        long block = index >>> 2;
        int[] out = Philox.block((int) block, (int) (block >>> 32), (int) stream, (int) (stream >>> 32), key[0], key[1]);
        return out[(int) (index & 3)];
    }

    /** {@link KeyedRandom#below}'s documented rule, written out from its Javadoc. */
    private static long belowReference(int[] key, long stream, long index, long bound) {
        long rem = (1L << 32) % bound;
        long u = Integer.toUnsignedLong(layoutReference(key, stream, index));
        int[] retryKey = {key[0] ^ 0x44507274, key[1] ^ 0x72793031};
        int[] h = Philox.block((int) index, (int) (index >>> 32), (int) stream, (int) (stream >>> 32), retryKey[0], retryKey[1]);
        long retryStream = (h[0] & 0xffffffffL) | ((h[1] & 0xffffffffL) << 32);
        for (long a = 1; u < rem; a++) {
            u = Integer.toUnsignedLong(layoutReference(retryKey, retryStream, a - 1));
        }
        return u % bound;
    }

    @Test
    void zeroKeyStreamZeroIsRandom123sFirstKnownAnswer() {
        KeyedRandom r = new KeyedRandom(new int[] {0, 0});
        int[] expected = {0x6627e8d5, 0xe169c58d, 0xbc57ac4c, 0x9b00dbd8};
        for (int i = 0; i < 4; i++) {
            assertEquals(expected[i], r.bits(0, i), "word " + i);
        }
    }

    @Test
    void followsTheCounterLayoutSharedWithNativeCode() {
        KeyedRandom r = new KeyedRandom(KEY);
        long stream = 0x0123456789abcdefL;
        long index = (0x0000000500000007L << 2) | 3;
        int[] block = Philox.block(7, 5, 0x89abcdef, 0x01234567, KEY[0], KEY[1]);
        assertEquals(block[3], r.bits(stream, index));
        assertEquals(block[0], r.bits(stream, index - 3));
        // Index is unsigned 64-bit: -1 is element 2^64 - 1, word 3 of block 2^62 - 1.
        assertEquals(Philox.block(-1, 0x3fffffff, 0, 0, KEY[0], KEY[1])[3], r.bits(0, -1L));
        for (long s : new long[] {0, 1, -1, Long.MIN_VALUE, 1L << 32}) {
            for (long i : new long[] {0, 1, 2, 3, 4, 5, 1L << 34, (1L << 34) + 1, Long.MAX_VALUE}) {
                assertEquals(layoutReference(KEY, s, i), r.bits(s, i), "stream " + s + " index " + i);
            }
        }
    }

    @Test
    void fillBitsGivesTheWordsOfBitsInOrder() {
        // The reference is the documented counter layout (layoutReference), word by word, for lengths
        // around the block of four and streams whose high half is set.
        int[][] keys = {KEY, {0, 0}, {-1, 0x7fffffff}};
        for (int[] key : keys) {
            KeyedRandom r = new KeyedRandom(key);
            for (long stream : new long[] {0, 1, -1, 0x0123456789abcdefL}) {
                for (int length : new int[] {0, 1, 3, 4, 5, 7, 8, KeyedRandom.NATIVE_MIN - 1, KeyedRandom.NATIVE_MIN, 1027, 150_529}) {
                    int[] out = new int[length];
                    java.util.Arrays.fill(out, 0x5a5a5a5a);
                    r.fillBits(stream, out);
                    int[] portable = new int[length];
                    r.fillBitsPortable(stream, portable);
                    for (int i = 0; i < length; i++) {
                        assertEquals(layoutReference(key, stream, i), out[i],
                                "stream " + stream + " length " + length + " word " + i);
                        assertEquals(out[i], portable[i], "portable loop, stream " + stream + " word " + i);
                    }
                }
            }
        }
        assertThrows(NullPointerException.class, () -> new KeyedRandom(KEY).fillBits(0, null));
    }

    @Test
    void uniformIsTheTop24BitsScaled() {
        KeyedRandom r = new KeyedRandom(KEY);
        for (long i = 0; i < 10_000; i++) {
            float u = r.uniform(3, i);
            double expected = (r.bits(3, i) >>> 8) / 16777216.0;
            assertEquals(expected, u, 0.0);
            assertTrue(u >= 0f && u < 1f, "u = " + u);
        }
    }

    @Test
    void valuesDoNotDependOnComputationOrderOrInstance() {
        KeyedRandom forward = new KeyedRandom(KEY);
        Map<List<Long>, Integer> expected = new HashMap<>();
        List<List<Long>> points = new ArrayList<>();
        for (long s = 0; s < 4; s++) {
            for (long i = 0; i < 250; i++) {
                expected.put(List.of(s, i), forward.bits(s, i));
                points.add(List.of(s, i));
            }
        }
        Collections.shuffle(points, new Random(7));
        KeyedRandom other = new KeyedRandom(KEY.clone());
        for (List<Long> p : points) {
            assertEquals(expected.get(p), other.bits(p.get(0), p.get(1)), "at " + p);
        }
    }

    @Test
    void keysAndStreamsGiveDifferentValues() {
        KeyedRandom a = new KeyedRandom(KEY);
        KeyedRandom b = new KeyedRandom(new int[] {KEY[0] ^ 1, KEY[1]});
        int[] a0 = new int[64];
        int[] a1 = new int[64];
        int[] b0 = new int[64];
        for (int i = 0; i < 64; i++) {
            a0[i] = a.bits(0, i);
            a1[i] = a.bits(1, i);
            b0[i] = b.bits(0, i);
        }
        assertFalse(Arrays.equals(a0, a1));
        assertFalse(Arrays.equals(a0, b0));
    }

    @Test
    void constructorCopiesAndChecksTheKey() {
        int[] key = KEY.clone();
        KeyedRandom r = new KeyedRandom(key);
        int before = r.bits(0, 0);
        key[0] ^= 0xffff;
        assertEquals(before, r.bits(0, 0));
        assertThrows(NullPointerException.class, () -> new KeyedRandom(null));
        InvalidArgumentException e = assertThrows(InvalidArgumentException.class, () -> new KeyedRandom(new int[3]));
        assertTrue(e.getMessage().contains("exactly 2 words"), e.getMessage());
        assertFalse(r.toString().contains(Integer.toHexString(KEY[0])), r.toString());
    }

    @Test
    void belowStaysInRangeAndIsDeterministic() {
        KeyedRandom r = new KeyedRandom(KEY);
        KeyedRandom again = new KeyedRandom(KEY);
        for (long bound : new long[] {1, 2, 3, 7, 10, 1000, 65537, HIGH_REJECT_BOUND, (1L << 31) - 1, 1L << 31}) {
            for (long i = 0; i < 2_000; i++) {
                long v = r.below(5, i, bound);
                assertTrue(v >= 0 && v < bound, v + " not in [0, " + bound + ")");
                assertEquals(v, again.below(5, i, bound));
            }
        }
        for (long i = 0; i < 100; i++) {
            assertEquals(0, r.below(9, i, 1));
            // 2^32 is a multiple of 2^31: nothing is rejected, the result is the low 31 bits.
            assertEquals(r.bits(9, i) & 0x7fffffffL, r.below(9, i, 1L << 31));
        }
    }

    @Test
    void belowFollowsItsDocumentedRetryRule() {
        KeyedRandom r = new KeyedRandom(KEY);
        long rem = (1L << 32) % HIGH_REJECT_BOUND;
        int firstRejected = 0;
        for (long i = 0; i < 3_000; i++) {
            long stream = i * 0x9E3779B97F4A7C15L;
            if (Integer.toUnsignedLong(r.bits(stream, i)) < rem) {
                firstRejected++;
            }
            assertEquals(belowReference(KEY, stream, i, HIGH_REJECT_BOUND), r.below(stream, i, HIGH_REJECT_BOUND),
                    "stream " + stream + " index " + i);
        }
        // About a third of the first draws are rejected, so the retry path was checked hundreds of times.
        assertTrue(firstRejected > 800, "only " + firstRejected + " retries exercised");
    }

    @Test
    void belowIsRoughlyUniform() {
        KeyedRandom r = new KeyedRandom(KEY);
        int n = 100_000;
        for (long bound : new long[] {10, HIGH_REJECT_BOUND}) {
            long[] counts = new long[10];
            for (long i = 0; i < n; i++) {
                counts[(int) (r.below(11, i, bound) * 10 / bound)]++;
            }
            // 9 degrees of freedom: chi-square above 50 has probability about 1e-7 for a fair generator.
            assertTrue(chiSquare(counts, n / 10.0) < 50, "bound " + bound + ": " + Arrays.toString(counts));
        }
    }

    @Test
    void belowRejectsBoundsOutsideOneToTwoPow31() {
        KeyedRandom r = new KeyedRandom(KEY);
        for (long bound : new long[] {0, -1, (1L << 31) + 1, Long.MAX_VALUE}) {
            InvalidArgumentException e = assertThrows(InvalidArgumentException.class, () -> r.below(0, 0, bound));
            assertTrue(e.getMessage().contains("between 1 and 2^31"), e.getMessage());
        }
    }

    @Test
    void shuffleIsADeterministicFisherYatesPermutation() {
        KeyedRandom r = new KeyedRandom(KEY);
        long[] original = new long[52];
        for (int i = 0; i < original.length; i++) {
            original[i] = 100 + i;
        }
        long[] a = original.clone();
        r.shuffle(42, a);
        long[] b = original.clone();
        new KeyedRandom(KEY).shuffle(42, b);
        assertArrayEquals(a, b);
        assertFalse(Arrays.equals(original, a));
        long[] sorted = a.clone();
        Arrays.sort(sorted);
        assertArrayEquals(original, sorted);

        long[] other = original.clone();
        r.shuffle(43, other);
        assertFalse(Arrays.equals(a, other));

        // The documented swaps, applied by hand.
        long[] expected = original.clone();
        for (int i = expected.length - 1; i > 0; i--) {
            int j = (int) r.below(42, i, i + 1L);
            long t = expected[i];
            expected[i] = expected[j];
            expected[j] = t;
        }
        assertArrayEquals(expected, a);

        long[] empty = {};
        r.shuffle(1, empty);
        long[] one = {5};
        r.shuffle(1, one);
        assertArrayEquals(new long[] {5}, one);
        assertThrows(NullPointerException.class, () -> r.shuffle(1, null));
    }

    /**
     * The shuffle draws a Philox block per 4 swaps; every key must still give the permutation of the
     * documented rule (existing manifests, probe sets and sparse triggers depend on it): a plain
     * Fisher-Yates over {@link KeyedRandom#below}, one call per swap, for several keys, streams (with
     * high words set) and sizes around the block's 4 words, and shuffles large enough that some first
     * draws are rejected (about n^2 / 2^33 of them per shuffle of n).
     */
    @Test
    void shuffleMatchesAPlainFisherYatesOverBelow() {
        Random seeds = new Random(20261130);
        int rejectedShuffles = 0;
        int[] sizes = {0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 17, 784, KeyedRandom.NATIVE_MIN - 1, KeyedRandom.NATIVE_MIN, 50_176,
                150_001};
        long[] streams = {0, 1, -1, 0x0123456789abcdefL};
        for (int k = 0; k < 4; k++) {
            int[] key = {seeds.nextInt(), seeds.nextInt()};
            KeyedRandom r = new KeyedRandom(key);
            for (long stream : streams) {
                for (int n : sizes) {
                    long[] expected = new long[n];
                    for (int i = 0; i < n; i++) {
                        expected[i] = 3L * i + 1;
                    }
                    long[] actual = expected.clone();
                    boolean rejected = false;
                    for (int i = n - 1; i > 0; i--) {
                        long bound = i + 1L;
                        rejected |= Integer.toUnsignedLong(layoutReference(key, stream, i)) < (1L << 32) % bound;
                        int j = (int) r.below(stream, i, bound);
                        long t = expected[i];
                        expected[i] = expected[j];
                        expected[j] = t;
                    }
                    long[] portable = actual.clone();
                    r.shuffle(stream, actual);
                    assertArrayEquals(expected, actual, "key " + k + ", stream " + stream + ", n " + n);
                    r.shufflePortable(stream, portable);
                    assertArrayEquals(expected, portable, "portable loop, key " + k + ", stream " + stream + ", n " + n);
                    rejectedShuffles += rejected ? 1 : 0;
                }
            }
        }
        // Without a rejected first draw the fallback to below() would be untested.
        assertTrue(rejectedShuffles > 0, "no shuffle met a rejected draw");
    }

    /**
     * Long arrays go to the native loops (dp_keyed_bits, dp_keyed_shuffle) wherever the library is
     * loaded, as it is for these tests; they must give the Java loops' words and swaps, including the
     * retry draws of large shuffles (about n^2 / 2^34 rejected first draws per shuffle of n: some 60
     * for 2^20).
     */
    @Test
    void nativeLoopsGiveTheJavaLoopsResults() {
        assertTrue(dev.dyepack.internal.NativeLibrary.isLoaded(), "the native library must be loaded for these tests");
        Random seeds = new Random(42);
        for (int k = 0; k < 3; k++) {
            int[] key = {seeds.nextInt(), seeds.nextInt()};
            KeyedRandom r = new KeyedRandom(key);
            long stream = seeds.nextLong();
            int[] bits = new int[1 << 20];
            int[] bitsPortable = new int[bits.length];
            r.fillBits(stream, bits);
            r.fillBitsPortable(stream, bitsPortable);
            assertArrayEquals(bitsPortable, bits, "key " + k);
            long[] values = new long[1 << 20];
            for (int i = 0; i < values.length; i++) {
                values[i] = i;
            }
            long[] portable = values.clone();
            r.shuffle(stream, values);
            r.shufflePortable(stream, portable);
            assertArrayEquals(portable, values, "key " + k);
        }
        // The native entry points check their arguments like the rest of the ABI.
        assertEquals(dev.dyepack.internal.DyePackNative.DP_ERR_INVALID_ARGUMENT,
                dev.dyepack.internal.DyePackNative.dp_keyed_bits(1, 2, 0, new int[4], -1));
        assertEquals(dev.dyepack.internal.DyePackNative.DP_ERR_INVALID_ARGUMENT,
                dev.dyepack.internal.DyePackNative.dp_keyed_shuffle(1, 2, 0, new long[4], (1L << 31) + 1));
    }

    @Test
    void shuffleMakesEveryPermutationEquallyLikely() {
        KeyedRandom r = new KeyedRandom(KEY);
        Map<String, Long> counts = new HashMap<>();
        int n = 60_000;
        for (long s = 0; s < n; s++) {
            long[] a = {0, 1, 2};
            r.shuffle(s, a);
            counts.merge(Arrays.toString(a), 1L, Long::sum);
        }
        assertEquals(6, counts.size(), counts.toString());
        long[] c = counts.values().stream().mapToLong(Long::longValue).toArray();
        // 5 degrees of freedom: chi-square above 40 has probability about 1e-7.
        assertTrue(chiSquare(c, n / 6.0) < 40, counts.toString());
    }

    @Test
    void differentStreamsOfBelowDiffer() {
        KeyedRandom r = new KeyedRandom(KEY);
        long[] x = new long[32];
        long[] y = new long[32];
        for (int i = 0; i < 32; i++) {
            x[i] = r.below(0, i, 1000);
            y[i] = r.below(1, i, 1000);
        }
        assertNotEquals(Arrays.toString(x), Arrays.toString(y));
    }

    private static double chiSquare(long[] counts, double expected) {
        double chi = 0;
        for (long c : counts) {
            chi += (c - expected) * (c - expected) / expected;
        }
        return chi;
    }
}
