package dev.dyepack.surrogate;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.dyepack.Backend;
import dev.dyepack.BoundaryScores;
import dev.dyepack.Engine;
import dev.dyepack.InvalidArgumentException;
import dev.dyepack.Layout;
import dev.dyepack.Tensor;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.FloatBuffer;
import java.util.Random;
import org.junit.jupiter.api.Test;

/**
 * The label-consistent push against a linear surrogate: each chosen sample moves by
 * {@code -eps * sign(w_t - w_r)} (r its rival), which lowers the surrogate's margin of the target over r
 * by exactly {@code eps * ||w_t - w_r||_1} on float data; expectations are written out by hand or
 * computed here from the head with plain loops.
 */
class LabelConsistentPushTest {

    /** Three classes over 2 x 3 single-channel images (D = 6); rows chosen by hand. */
    private static final float[] W = {
        1f, -1f, 0f, 2f, -3f, 0.5f,   // class 0, the target
        0f, 1f, 0f, -1f, -3f, 1f,     // class 1
        -1f, -1f, 2f, 2f, 0f, 0.5f,   // class 2
    };
    private static final LinearHead HEAD = new LinearHead(W, new float[] {0.1f, 0f, -0.1f}, 3, 6);

    @Test
    void theSignalIsMinusEpsTimesTheSignOfTheRowDifference() {
        LabelConsistentPush p = LabelConsistentPush.of(HEAD, 0, 10f);
        // w_0 - w_1 = (1, -2, 0, 3, 0, -0.5); w_0 - w_2 = (2, 0, -2, 0, -3, 0)
        assertArrayEquals(new float[] {-10f, 10f, 0f, -10f, 0f, 10f}, p.signal(1));
        assertArrayEquals(new float[] {-10f, 0f, 10f, 0f, 10f, 0f}, p.signal(2));
        assertThrows(InvalidArgumentException.class, () -> p.signal(0));
        assertThrows(InvalidArgumentException.class, () -> LabelConsistentPush.of(HEAD, 3, 10f));
        assertThrows(InvalidArgumentException.class, () -> LabelConsistentPush.of(HEAD, 0, 0f));
        assertThrows(InvalidArgumentException.class, () -> LabelConsistentPush.of(HEAD, 0, Float.NaN));
    }

    @Test
    void uint8SamplesMoveByTheirRivalsSignalClampedAndTheRestStay() {
        byte[] pixels = {
            (byte) 100, (byte) 100, (byte) 100, (byte) 100, (byte) 100, (byte) 100,
            (byte) 5, (byte) 250, (byte) 0, (byte) 255, (byte) 7, (byte) 3,
            (byte) 50, (byte) 60, (byte) 70, (byte) 80, (byte) 90, (byte) 100,
        };
        ByteBuffer buf = ByteBuffer.allocateDirect(pixels.length);
        buf.put(0, pixels);
        Tensor batch = Tensor.of(buf, Layout.NHWC, 3, 1, 2, 3);
        try (Engine engine = Engine.open(Backend.CPU)) {
            LabelConsistentPush.of(HEAD, 0, 10f).apply(engine, batch, new long[] {1, 0}, new int[] {2, 1});
        }
        int[] expected = {
            90, 110, 100, 90, 100, 110,   // sample 0, rival 1: + (-10, 10, 0, -10, 0, 10)
            0, 250, 10, 255, 17, 3,       // sample 1, rival 2: + (-10, 0, 10, 0, 10, 0), clamped at 0
            50, 60, 70, 80, 90, 100,      // sample 2: not chosen
        };
        for (int i = 0; i < expected.length; i++) {
            assertEquals(expected[i], buf.get(i) & 0xff, "element " + i);
        }
    }

    @Test
    void onFloatDataTheMarginOverTheRivalFallsByEpsTimesTheL1Distance() {
        Random rng = new Random(5);
        int n = 40;
        float[] x = new float[n * 6];
        for (int i = 0; i < x.length; i++) {
            x[i] = rng.nextFloat() * 4f - 2f;
        }
        FloatBuffer rows = ByteBuffer.allocateDirect(x.length * 4).order(ByteOrder.nativeOrder()).asFloatBuffer();
        rows.put(0, x);
        float eps = 0.25f;
        try (Engine engine = Engine.open(Backend.CPU)) {
            LabelConsistentPush p = LabelConsistentPush.of(HEAD, 0, eps);
            BoundaryScores s = engine.scoreBoundary(Tensor.rows(rows, n, 6), W, HEAD.bias(), 0);
            int[] rivals = p.rivals(s);
            long[] all = new long[n];
            for (int i = 0; i < n; i++) {
                all[i] = i;
                // The rival: the predicted class unless it is the target, else the best other class (by hand).
                float[] z = logits(x, i);
                int best = z[1] >= z[2] ? 1 : 2;
                int argmax = z[0] >= z[1] && z[0] >= z[2] ? 0 : best;
                assertEquals(argmax == 0 ? best : argmax, rivals[i], "rival of sample " + i);
            }
            FloatBuffer images = ByteBuffer.allocateDirect(x.length * 4).order(ByteOrder.nativeOrder())
                    .asFloatBuffer();
            images.put(0, x);
            p.apply(engine, Tensor.of(images, Layout.NCHW, n, 1, 2, 3), all, rivals);
            float[] pushed = new float[x.length];
            images.get(0, pushed);
            for (int i = 0; i < n; i++) {
                int r = rivals[i];
                float l1 = 0;
                for (int e = 0; e < 6; e++) {
                    l1 += Math.abs(W[e] - W[r * 6 + e]);
                    assertTrue(Math.abs(pushed[i * 6 + e] - x[i * 6 + e]) <= eps * (1 + 1e-6f), "L-inf bound");
                }
                float before = logits(x, i)[0] - logits(x, i)[r];
                float after = logits(pushed, i)[0] - logits(pushed, i)[r];
                assertEquals(before - eps * l1, after, 1e-4, "margin of sample " + i);
            }
        }
    }

    @Test
    void badArgumentsAreRefusedBeforeAnyWrite() {
        ByteBuffer buf = ByteBuffer.allocateDirect(12);
        Tensor batch = Tensor.of(buf, Layout.NHWC, 2, 1, 2, 3);
        LabelConsistentPush p = LabelConsistentPush.of(HEAD, 0, 10f);
        try (Engine engine = Engine.open(Backend.CPU)) {
            assertThrows(InvalidArgumentException.class, () -> p.apply(engine, batch, new long[] {0, 0},
                    new int[] {1, 2}), "a sample twice");
            assertThrows(InvalidArgumentException.class, () -> p.apply(engine, batch, new long[] {0},
                    new int[] {0}), "the target as rival");
            assertThrows(InvalidArgumentException.class, () -> p.apply(engine, batch, new long[] {0, 1},
                    new int[] {1}), "lengths differ");
            assertThrows(InvalidArgumentException.class, () -> p.apply(engine,
                    Tensor.of(ByteBuffer.allocateDirect(8), Layout.NHWC, 2, 1, 2, 2), new long[] {0}, new int[] {1}),
                    "another sample size");
        }
        for (int i = 0; i < 12; i++) {
            assertEquals(0, buf.get(i));
        }
    }

    private static float[] logits(float[] x, int i) {
        float[] z = new float[3];
        for (int k = 0; k < 3; k++) {
            double acc = HEAD.bias()[k];
            for (int e = 0; e < 6; e++) {
                acc += (double) W[k * 6 + e] * x[i * 6 + e];
            }
            z[k] = (float) acc;
        }
        return z;
    }
}
