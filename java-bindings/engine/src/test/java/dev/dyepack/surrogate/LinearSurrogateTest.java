package dev.dyepack.surrogate;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.dyepack.InvalidArgumentException;
import dev.dyepack.surrogate.LinearHead;
import dev.dyepack.key.OwnerKey;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.Random;
import org.junit.jupiter.api.Test;

class LinearSurrogateTest {
    private static final dev.dyepack.Engine ENGINE = dev.dyepack.Engine.open(dev.dyepack.Backend.CPU);

    @org.junit.jupiter.api.AfterAll
    static void close() {
        ENGINE.close();
    }

    @Test
    void oneFullBatchStepFollowsTheUpdateRule() {
        // From W = 0, b = 0 the softmax is uniform, so one step is W = -rate/m * (1/C - onehot)^T X and
        // b = -rate/m * sum(1/C - onehot): an independent double-precision expectation.
        int n = 7;
        int d = 3;
        int classes = 4;
        Random rng = new Random(2);
        float[] x = new float[n * d];
        for (int i = 0; i < x.length; i++) {
            x[i] = rng.nextFloat();
        }
        int[] y = {0, 1, 2, 3, 1, 1, 0};
        long[] order = {3, 0, 6, 1, 5, 2, 4};
        java.nio.FloatBuffer rows = java.nio.ByteBuffer.allocateDirect(x.length * 4)
                .order(java.nio.ByteOrder.nativeOrder()).asFloatBuffer().put(x).flip();
        float[] wb = ENGINE.fitLinear(dev.dyepack.Tensor.rows(rows, n, d), y, classes, order, 1, n, 0.5f, 0f);
        for (int c = 0; c < classes; c++) {
            double gb = 0;
            for (int k = 0; k < n; k++) {
                gb += 1.0 / classes - (y[k] == c ? 1 : 0);
            }
            assertEquals(-0.5 / n * gb, wb[classes * d + c], 1e-6, "b[" + c + "]");
            for (int j = 0; j < d; j++) {
                double g = 0;
                for (int k = 0; k < n; k++) {
                    g += (1.0 / classes - (y[k] == c ? 1 : 0)) * x[k * d + j];
                }
                assertEquals(-0.5 / n * g, wb[c * d + j], 1e-6, "W[" + c + ", " + j + "]");
            }
        }
        // The same fit on the Java array, read in place by the library: the same bits.
        assertArrayEquals(wb, ENGINE.fitLinear(x, n, d, y, classes, order, 1, n, 0.5f, 0f));
        // A bad order (not a permutation) is refused, on both paths.
        long[] notPermutation = {0, 0, 1, 2, 3, 4, 5};
        InvalidArgumentException e = assertThrows(InvalidArgumentException.class, () -> ENGINE.fitLinear(
                dev.dyepack.Tensor.rows(rows, n, d), y, classes, notPermutation, 1, n, 0.5f, 0f));
        assertTrue(e.getMessage().contains("not a permutation"), e.getMessage());
        e = assertThrows(InvalidArgumentException.class,
                () -> ENGINE.fitLinear(x, n, d, y, classes, notPermutation, 1, n, 0.5f, 0f));
        assertTrue(e.getMessage().contains("not a permutation"), e.getMessage());
    }

    @Test
    void fitOnJavaArrayRefusesBadInputAndLeavesItAlone() {
        int n = 4;
        int d = 3;
        float[] x = {0.1f, 0.2f, 0.3f, 0.4f, 0.5f, 0.6f, 0.7f, 0.8f, Float.NaN, 1.0f, 1.1f, 1.2f};
        float[] before = x.clone();
        int[] y = {0, 1, 0, 1};
        long[] order = {2, 0, 3, 1};
        InvalidArgumentException e = assertThrows(InvalidArgumentException.class,
                () -> ENGINE.fitLinear(x, n, d, y, 2, order, 1, 2, 0.5f, 0f));
        assertTrue(e.getMessage().contains("non-finite"), e.getMessage());
        e = assertThrows(InvalidArgumentException.class,
                () -> ENGINE.fitLinear(new float[11], n, d, y, 2, order, 1, 2, 0.5f, 0f));
        assertTrue(e.getMessage().contains("11 values"), e.getMessage());
        e = assertThrows(InvalidArgumentException.class,
                () -> ENGINE.fitLinear(new float[12], n, d, new int[] {0, 1, 0, 2}, 2, order, 1, 2, 0.5f, 0f));
        assertTrue(e.getMessage().contains("labels[3]"), e.getMessage());
        e = assertThrows(InvalidArgumentException.class,
                () -> ENGINE.fitLinear(new float[0], 0, d, new int[0], 2, new long[0], 1, 2, 0.5f, 0f));
        assertTrue(e.getMessage().contains("at least one sample"), e.getMessage());
        assertArrayEquals(before, x);
        // Finite values: the fit runs and the rows are as they were.
        x[8] = 0.9f;
        float[] finite = x.clone();
        float[] wb = ENGINE.fitLinear(x, n, d, y, 2, order, 1, 2, 0.5f, 1e-3f);
        assertArrayEquals(finite, x);
        assertEquals(2 * (d + 1), wb.length);
    }

    private static final OwnerKey KEY = new OwnerKey("surrogate test key, 32 bytes ok.".getBytes(StandardCharsets.UTF_8));

    /** Three Gaussian blobs in 5 dimensions, well apart: a linear model must separate them. */
    private static float[] blobs(int n, long[] labels, Random rng) {
        float[] x = new float[n * 5];
        for (int i = 0; i < n; i++) {
            labels[i] = i % 3;
            for (int e = 0; e < 5; e++) {
                x[i * 5 + e] = (float) (rng.nextGaussian() * 0.3 + (e == labels[i] ? 2 : 0));
            }
        }
        return x;
    }

    private static double accuracy(LinearHead h, float[] x, long[] y) {
        int right = 0;
        for (int i = 0; i < y.length; i++) {
            int best = 0;
            double bestZ = Double.NEGATIVE_INFINITY;
            for (int c = 0; c < h.classes(); c++) {
                double z = h.bias()[c];
                for (int e = 0; e < h.dim(); e++) {
                    z += (double) h.weight()[c * h.dim() + e] * x[i * h.dim() + e];
                }
                if (z > bestZ) {
                    bestZ = z;
                    best = c;
                }
            }
            right += best == y[i] ? 1 : 0;
        }
        return (double) right / y.length;
    }

    @Test
    void separatesSeparableDataAndIsReproducible() {
        long[] y = new long[600];
        float[] x = blobs(600, y, new Random(1));
        LinearHead a = LinearSurrogate.fit(ENGINE, x, 600, 5, y, 3, KEY, LinearSurrogate.Settings.DEFAULT);
        LinearHead b = LinearSurrogate.fit(ENGINE, x, 600, 5, y, 3, KEY, LinearSurrogate.Settings.DEFAULT);
        assertTrue(accuracy(a, x, y) > 0.97, "accuracy " + accuracy(a, x, y));
        assertArrayEquals(a.weight(), b.weight(), "same key and data give the same head");
        LinearHead c = LinearSurrogate.fit(ENGINE, x, 600, 5, y, 3,
                new OwnerKey("another surrogate key, 32 bytes!".getBytes(StandardCharsets.UTF_8)),
                LinearSurrogate.Settings.DEFAULT);
        assertFalse(Arrays.equals(a.weight(), c.weight()), "the key orders the training samples");
    }

    @Test
    void headFromJavaArrayEqualsHeadFromNativeRows() {
        // 4.7 M values read in place by the library from the Java array (pinned for the call), on the
        // engine's threads: the head must be the one fitted on the same values handed over in one direct
        // buffer, and the array must be left as it was.
        int n = 6000;
        int d = 784;
        Random rng = new Random(4);
        long[] y = new long[n];
        float[] x = new float[n * d];
        for (int i = 0; i < n; i++) {
            y[i] = rng.nextInt(10);
            for (int e = 0; e < d; e++) {
                x[i * d + e] = rng.nextFloat() + (e % 10 == y[i] ? 0.5f : 0f);
            }
        }
        LinearSurrogate.Settings one = new LinearSurrogate.Settings(1, 64, 0.5f, 1e-4f);
        float[] before = x.clone();
        LinearHead fromArray = LinearSurrogate.fit(ENGINE, x, n, d, y, 10, KEY, one);
        assertArrayEquals(before, x);
        java.nio.FloatBuffer rows = java.nio.ByteBuffer.allocateDirect(x.length * 4)
                .order(java.nio.ByteOrder.nativeOrder()).asFloatBuffer().put(x).flip();
        LinearHead fromRows = LinearSurrogate.fit(ENGINE, dev.dyepack.Tensor.rows(rows, n, d), y, 10, KEY, one);
        assertArrayEquals(fromRows.weight(), fromArray.weight());
        assertArrayEquals(fromRows.bias(), fromArray.bias());
        assertTrue(accuracy(fromArray, x, y) > 0.9, "accuracy " + accuracy(fromArray, x, y));
    }

    @Test
    void refusesInconsistentInput() {
        assertThrows(InvalidArgumentException.class,
                () -> LinearSurrogate.fit(ENGINE, new float[10], 2, 5, new long[] {0, 3}, 3, KEY,
                        LinearSurrogate.Settings.DEFAULT));
        assertThrows(InvalidArgumentException.class,
                () -> LinearSurrogate.fit(ENGINE, new float[9], 2, 5, new long[] {0, 1}, 3, KEY,
                        LinearSurrogate.Settings.DEFAULT));
        assertThrows(InvalidArgumentException.class, () -> new LinearSurrogate.Settings(0, 1, 0.1f, 0f));
    }
}
