package dev.dyepack.trigger;

import dev.dyepack.InvalidArgumentException;
import dev.dyepack.Layout;
import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class ImagePatternTest {
    // 2 rows x 3 columns of alpha, row-major.
    private static final float[] ALPHA = {0f, 0.25f, 0.5f, 0.75f, 1f, 0.125f};

    private static ImagePattern gray2x3(float[] alpha) {
        return new ImagePattern(new float[] {1, 2, 3, 4, 5, 6}, alpha, 1, 2, 3, Layout.NHWC);
    }

    @Test
    void maskForNhwcRepeatsEachPixelsAlphaAcrossItsChannels() {
        float[] mask = gray2x3(ALPHA).maskFor(3, Layout.NHWC);
        // (h*W + w)*C + c, written out pixel by pixel.
        assertArrayEquals(new float[] {
            0f, 0f, 0f, 0.25f, 0.25f, 0.25f, 0.5f, 0.5f, 0.5f,
            0.75f, 0.75f, 0.75f, 1f, 1f, 1f, 0.125f, 0.125f, 0.125f}, mask);
    }

    @Test
    void maskForNchwRepeatsTheAlphaPlaneOncePerChannel() {
        float[] mask = gray2x3(ALPHA).maskFor(2, Layout.NCHW);
        assertArrayEquals(new float[] {
            0f, 0.25f, 0.5f, 0.75f, 1f, 0.125f,
            0f, 0.25f, 0.5f, 0.75f, 1f, 0.125f}, mask);
    }

    @Test
    void maskForAnOpaquePatternIsAllOnes() {
        ImagePattern p = gray2x3(null);
        assertFalse(p.hasAlpha());
        assertNull(p.alpha());
        float[] mask = p.maskFor(3, Layout.NCHW);
        assertEquals(18, mask.length);
        for (float m : mask) {
            assertEquals(1f, m);
        }
    }

    @Test
    void maskForRejectsBadChannelsAndLayout() {
        ImagePattern p = gray2x3(ALPHA);
        assertThrows(InvalidArgumentException.class, () -> p.maskFor(0, Layout.NHWC));
        assertThrows(InvalidArgumentException.class, () -> p.maskFor(1, null));
    }

    @Test
    void arraysAreCopiedInAndOut() {
        float[] values = {1, 2, 3, 4, 5, 6};
        float[] alpha = ALPHA.clone();
        ImagePattern p = new ImagePattern(values, alpha, 1, 2, 3, Layout.NHWC);
        values[0] = 99;
        alpha[0] = 1f;
        p.values()[1] = 99;
        p.alpha()[1] = 1f;
        assertArrayEquals(new float[] {1, 2, 3, 4, 5, 6}, p.values());
        assertArrayEquals(ALPHA, p.alpha());
    }

    @Test
    void equalityIsByContent() {
        ImagePattern a = gray2x3(ALPHA);
        ImagePattern b = gray2x3(ALPHA.clone());
        assertEquals(a, b);
        assertEquals(a.hashCode(), b.hashCode());
        assertNotEquals(a, gray2x3(null));
        assertNotEquals(a, new ImagePattern(new float[] {1, 2, 3, 4, 5, 6}, ALPHA, 1, 3, 2, Layout.NHWC));
        assertNotEquals(a, new ImagePattern(new float[] {1, 2, 3, 4, 5, 6}, ALPHA, 1, 2, 3, Layout.NCHW));
        assertTrue(a.toString().contains("1x2x3"));
    }

    @Test
    void constructorRejectsInconsistentOrOutOfRangeInput() {
        float[] six = {1, 2, 3, 4, 5, 6};
        assertThrows(InvalidArgumentException.class, () -> new ImagePattern(null, null, 1, 2, 3, Layout.NHWC));
        assertThrows(InvalidArgumentException.class, () -> new ImagePattern(six, null, 1, 2, 3, null));
        assertThrows(InvalidArgumentException.class, () -> new ImagePattern(six, null, 2, 2, 3, Layout.NHWC));
        assertThrows(InvalidArgumentException.class, () -> new ImagePattern(six, null, 0, 2, 3, Layout.NHWC));
        assertThrows(InvalidArgumentException.class, () -> new ImagePattern(six, null, 1, 0, 3, Layout.NHWC));
        assertThrows(InvalidArgumentException.class, () -> new ImagePattern(six, new float[5], 1, 2, 3, Layout.NHWC));
        assertThrows(InvalidArgumentException.class,
                () -> new ImagePattern(six, new float[] {0, 0, 0, 0, 0, 1.0001f}, 1, 2, 3, Layout.NHWC));
        assertThrows(InvalidArgumentException.class,
                () -> new ImagePattern(six, new float[] {0, 0, 0, 0, 0, -0.5f}, 1, 2, 3, Layout.NHWC));
        assertThrows(InvalidArgumentException.class,
                () -> new ImagePattern(six, new float[] {0, 0, 0, 0, 0, Float.NaN}, 1, 2, 3, Layout.NHWC));
        assertThrows(InvalidArgumentException.class,
                () -> new ImagePattern(new float[] {1, 2, Float.NaN, 4, 5, 6}, null, 1, 2, 3, Layout.NHWC));
        assertThrows(InvalidArgumentException.class,
                () -> new ImagePattern(new float[] {1, 2, Float.POSITIVE_INFINITY, 4, 5, 6}, null, 1, 2, 3,
                        Layout.NHWC));
    }
}
