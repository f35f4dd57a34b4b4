package dev.dyepack.trigger;

import dev.dyepack.InvalidArgumentException;
import dev.dyepack.Layout;
import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotSame;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;

class ResizeTest {
    /**
     * 2x2 {{0, 4}, {8, 12}} to 4x4 with half-pixel centres: destination index d reads source
     * coordinate (d + 0.5)/2 - 0.5 = -0.25, 0.25, 0.75, 1.25, clamped to 0, 0.25, 0.75, 1. Along a row
     * 0..4 gives 0, 1, 3, 4; down a column 0..8 gives 0, 2, 6, 8; the grid is their sum.
     */
    private static final float[] UP_4X4 = {
        0, 1, 3, 4,
        2, 3, 5, 6,
        6, 7, 9, 10,
        8, 9, 11, 12,
    };

    @Test
    void sameSizeIsAnEqualCopy() {
        ImagePattern p = new ImagePattern(new float[] {1.5f, -2f, 3.25f, 0.1f, 7f, 8f}, new float[] {0.3f, 0.7f},
                3, 1, 2, Layout.NHWC);
        ImagePattern q = PatternResize.resize(p, 1, 2);
        assertEquals(p, q);
        assertNotSame(p, q);
    }

    @Test
    void twoByTwoToFourByFourMatchesHandComputedBilinear() {
        ImagePattern p = new ImagePattern(new float[] {0, 4, 8, 12}, null, 1, 2, 2, Layout.NHWC);
        ImagePattern q = PatternResize.resize(p, 4, 4);
        assertEquals(4, q.height());
        assertEquals(4, q.width());
        assertArrayEquals(UP_4X4, q.values());
        assertNull(q.alpha());
    }

    @Test
    void eachChannelAndTheAlphaAreResampledOnTheirOwnInEitherLayout() {
        // Channel c holds the 2x2 above plus 100*c; alpha holds it divided by 12.
        float[] alpha = {0f, 4f / 12, 8f / 12, 1f};
        float[] nchw = new float[12];
        float[] nhwc = new float[12];
        for (int c = 0; c < 3; c++) {
            for (int i = 0; i < 4; i++) {
                float v = 4 * i + 100 * c;
                nchw[c * 4 + i] = v;
                nhwc[i * 3 + c] = v;
            }
        }
        ImagePattern a = PatternResize.resize(new ImagePattern(nchw, alpha, 3, 2, 2, Layout.NCHW), 4, 4);
        ImagePattern b = PatternResize.resize(new ImagePattern(nhwc, alpha, 3, 2, 2, Layout.NHWC), 4, 4);
        float[] av = a.values();
        float[] bv = b.values();
        for (int c = 0; c < 3; c++) {
            for (int i = 0; i < 16; i++) {
                assertEquals(UP_4X4[i] + 100 * c, av[c * 16 + i], "NCHW c=" + c + " i=" + i);
                assertEquals(UP_4X4[i] + 100 * c, bv[i * 3 + c], "NHWC c=" + c + " i=" + i);
            }
        }
        for (int i = 0; i < 16; i++) {
            assertEquals(UP_4X4[i] / 12, a.alpha()[i], 1e-6f);
            assertEquals(UP_4X4[i] / 12, b.alpha()[i], 1e-6f);
        }
    }

    @Test
    void constantImageStaysExactlyConstant() {
        float[] values = new float[3 * 5 * 7];
        java.util.Arrays.fill(values, 0.1f);
        float[] alpha = new float[5 * 7];
        java.util.Arrays.fill(alpha, 0.3f);
        ImagePattern p = new ImagePattern(values, alpha, 3, 5, 7, Layout.NCHW);
        int[][] sizes = {{3, 11}, {13, 2}, {1, 1}, {17, 19}};
        for (int[] s : sizes) {
            ImagePattern q = PatternResize.resize(p, s[0], s[1]);
            for (float v : q.values()) {
                assertEquals(0.1f, v, "to " + s[0] + "x" + s[1]);
            }
            for (float v : q.alpha()) {
                assertEquals(0.3f, v, "to " + s[0] + "x" + s[1]);
            }
        }
    }

    @Test
    void halvingAGradientAveragesPairs() {
        // v = 10*y + x on 6x6; halving reads coordinate 2d + 0.5, midway between two pixels.
        float[] values = new float[36];
        for (int y = 0; y < 6; y++) {
            for (int x = 0; x < 6; x++) {
                values[y * 6 + x] = 10 * y + x;
            }
        }
        ImagePattern q = PatternResize.resize(new ImagePattern(values, null, 1, 6, 6, Layout.NHWC), 3, 3);
        assertArrayEquals(new float[] {
            5.5f, 7.5f, 9.5f,
            25.5f, 27.5f, 29.5f,
            45.5f, 47.5f, 49.5f}, q.values());
    }

    @Test
    void nonIntegerDownscaleOfARampSamplesTheRampAtTheMappedCoordinate() {
        float[] ramp = {0, 1, 2, 3, 4, 5, 6, 7};
        ImagePattern p = new ImagePattern(ramp, null, 1, 1, 8, Layout.NHWC);
        assertArrayEquals(new float[] {0.5f, 2.5f, 4.5f, 6.5f}, PatternResize.resize(p, 1, 4).values());
        // (d + 0.5) * 8/3 - 0.5 = 5/6, 7/2, 37/6
        float[] three = PatternResize.resize(p, 1, 3).values();
        assertEquals(5.0 / 6, three[0], 1e-6);
        assertEquals(3.5, three[1], 1e-6);
        assertEquals(37.0 / 6, three[2], 1e-6);
        // A single output pixel reads the centre of the row.
        assertArrayEquals(new float[] {3.5f}, PatternResize.resize(p, 1, 1).values());
    }

    @Test
    void badSizesAreRejected() {
        ImagePattern p = new ImagePattern(new float[] {1}, null, 1, 1, 1, Layout.NHWC);
        assertThrows(InvalidArgumentException.class, () -> PatternResize.resize(p, 0, 1));
        assertThrows(InvalidArgumentException.class, () -> PatternResize.resize(p, 1, -3));
        assertThrows(InvalidArgumentException.class, () -> PatternResize.resize(null, 1, 1));
        assertThrows(InvalidArgumentException.class, () -> PatternResize.resize(p, 65536, 65536));
    }
}
