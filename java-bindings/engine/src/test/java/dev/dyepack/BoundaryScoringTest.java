package dev.dyepack;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.FloatBuffer;
import java.util.Random;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/** Decision-boundary scoring against an independent double-precision reference. */
class BoundaryScoringTest {
    private static Engine engine;

    @BeforeAll
    static void open() {
        engine = Engine.open(Backend.CPU);
    }

    @AfterAll
    static void close() {
        engine.close();
    }

    static FloatBuffer rows(float[] v) {
        return ByteBuffer.allocateDirect(v.length * 4).order(ByteOrder.nativeOrder()).asFloatBuffer().put(v).flip();
    }

    /** The reference, in double precision: logits, argmax, runner-up, distances. */
    record Ref(int y, int r, double margin, double distance, double targetDistance, double gap) {}

    static Ref reference(float[] x, int i, int d, float[] w, float[] b, int classes, int target) {
        double[] z = new double[classes];
        for (int c = 0; c < classes; c++) {
            double s = b[c];
            for (int e = 0; e < d; e++) {
                s += (double) x[i * d + e] * w[c * d + e];
            }
            z[c] = s;
        }
        int y = 0;
        for (int c = 1; c < classes; c++) {
            if (z[c] > z[y]) {
                y = c;
            }
        }
        int r = y == 0 ? 1 : 0;
        for (int c = 0; c < classes; c++) {
            if (c != y && z[c] > z[r]) {
                r = c;
            }
        }
        double best = Double.POSITIVE_INFINITY;
        double tdist = Double.NaN;
        for (int j = 0; j < classes; j++) {
            if (j == y) {
                continue;
            }
            double norm = 0;
            for (int e = 0; e < d; e++) {
                double diff = (double) w[y * d + e] - w[j * d + e];
                norm += diff * diff;
            }
            norm = Math.sqrt(norm);
            double dist = norm > 0 ? (z[y] - z[j]) / norm : (z[y] - z[j] > 0 ? Double.POSITIVE_INFINITY : 0);
            best = Math.min(best, dist);
            if (j == target) {
                tdist = dist;
            }
        }
        if (target == y) {
            tdist = 0;
        }
        // The gap between the best and second-best logits tells how close to a tie the reference is.
        return new Ref(y, r, z[y] - z[r], best, tdist, z[y] - z[r]);
    }

    @ParameterizedTest(name = "N={0} D={1} C={2}")
    @CsvSource({"200,17,2", "300,784,10", "40,64,1000", "1,1,2", "257,33,7"})
    void matchesTheDoublePrecisionReference(int n, int d, int classes) {
        Random rng = new Random(n * 31L + d * 7L + classes);
        float[] x = new float[n * d];
        float[] w = new float[classes * d];
        float[] b = new float[classes];
        for (int i = 0; i < x.length; i++) {
            x[i] = (float) rng.nextGaussian();
        }
        for (int i = 0; i < w.length; i++) {
            w[i] = (float) (rng.nextGaussian() * 0.1);
        }
        for (int i = 0; i < classes; i++) {
            b[i] = (float) rng.nextGaussian();
        }
        int target = classes - 1;
        BoundaryScores s = engine.scoreBoundary(Tensor.rows(rows(x), n, d), w, b, target);
        assertEquals(n, s.size());
        int checked = 0;
        for (int i = 0; i < n; i++) {
            Ref ref = reference(x, i, d, w, b, classes, target);
            // float32 logits differ from double ones by far less than 1e-3 here; closer gaps are
            // near-ties whose argmax may legitimately differ.
            if (ref.gap() < 1e-3) {
                continue;
            }
            checked++;
            assertEquals(ref.y(), s.predicted()[i], "predicted, sample " + i);
            double tol = 1e-4 * (1 + Math.abs(ref.margin()));
            assertEquals(ref.margin(), s.margin()[i], tol, "margin, sample " + i);
            assertEquals(ref.distance(), s.distance()[i], 1e-4 * (1 + Math.abs(ref.distance())), "distance, sample " + i);
            assertEquals(ref.targetDistance(), s.targetDistance()[i], 1e-4 * (1 + Math.abs(ref.targetDistance())),
                    "target distance, sample " + i);
            if (classes == 2 || ref.margin() > 1e-3) {
                assertEquals(ref.r(), s.runnerUp()[i], "runner-up, sample " + i);
            }
        }
        assertTrue(checked >= n * 9 / 10, "too few samples away from ties: " + checked);
    }

    @Test
    void exactTiesGoToTheLowestIndex() {
        // Small integers: every logit is exact in float32, so ties are exact.
        float[] w = {1, 0, 0, 1, 1, 0, 0, 0}; // classes 0 and 2 identical; class 3 all zero
        float[] b = {0, 0, 0, 1};
        float[] x = {1, 0, 0, 1, 0, 0};
        BoundaryScores s = engine.scoreBoundary(Tensor.rows(rows(x), 3, 2), w, b, -1);
        assertNull(s.targetDistance());
        // x0: z = (1, 0, 1, 1): predicted 0 (ties with 2 and 3), runner-up 2, margin 0, distance 0.
        assertEquals(0, s.predicted()[0]);
        assertEquals(2, s.runnerUp()[0]);
        assertEquals(0f, s.margin()[0]);
        assertEquals(0f, s.distance()[0]);
        // x1: z = (0, 1, 0, 1): predicted 1 (tie with 3), runner-up 3.
        assertEquals(1, s.predicted()[1]);
        assertEquals(3, s.runnerUp()[1]);
        // x2: z = (0, 0, 0, 1): predicted 3, runner-up 0, margin 1; ||w3 - w0|| = 1 -> distance 1.
        assertEquals(3, s.predicted()[2]);
        assertEquals(0, s.runnerUp()[2]);
        assertEquals(1f, s.margin()[2]);
        assertEquals(1f, s.distance()[2]);
    }

    @Test
    void resultsDoNotDependOnThreadCount() {
        Random rng = new Random(4);
        int n = 500;
        int d = 50;
        float[] x = new float[n * d];
        float[] w = new float[5 * d];
        for (int i = 0; i < x.length; i++) {
            x[i] = rng.nextFloat();
        }
        for (int i = 0; i < w.length; i++) {
            w[i] = rng.nextFloat() - 0.5f;
        }
        float[] b = {0.1f, 0.2f, -0.3f, 0f, 0.05f};
        BoundaryScores one = engine.threads(1).scoreBoundary(Tensor.rows(rows(x), n, d), w, b, 2);
        BoundaryScores two = engine.threads(2).scoreBoundary(Tensor.rows(rows(x), n, d), w, b, 2);
        engine.threads(0);
        assertArrayEquals(one.predicted(), two.predicted());
        assertArrayEquals(one.distance(), two.distance());
        assertArrayEquals(one.targetDistance(), two.targetDistance());
    }

    @Test
    void badInputsAreRejected() {
        float[] x = {1, 2, 3, 4};
        float[] w = {1, 0, 0, 1};
        float[] b = {0, 0};
        Tensor t = Tensor.rows(rows(x), 2, 2);
        assertThrows(InvalidArgumentException.class, () -> engine.scoreBoundary(t, new float[3], b, -1));
        assertThrows(InvalidArgumentException.class, () -> engine.scoreBoundary(t, new float[] {1, 0}, new float[] {0}, -1));
        assertThrows(InvalidArgumentException.class, () -> engine.scoreBoundary(t, w, b, 2));
        InvalidArgumentException e = assertThrows(InvalidArgumentException.class,
                () -> engine.scoreBoundary(Tensor.rows(rows(new float[] {1, Float.NaN, 0, 0}), 2, 2), w, b, -1));
        assertTrue(e.getMessage().contains("features[0, 1] is not finite"), e.getMessage());
        e = assertThrows(InvalidArgumentException.class,
                () -> engine.scoreBoundary(t, new float[] {1, 0, Float.POSITIVE_INFINITY, 1}, b, -1));
        assertTrue(e.getMessage().contains("weight[1, 0]"), e.getMessage());
    }
}
