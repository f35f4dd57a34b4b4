package dev.dyepack.image;

import dev.dyepack.InvalidArgumentException;
import dev.dyepack.Layout;
import java.awt.image.BufferedImage;
import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

class ToImageTest {
    private static int[] graySamples(BufferedImage img) {
        assertEquals(BufferedImage.TYPE_BYTE_GRAY, img.getType());
        return img.getRaster().getSamples(0, 0, img.getWidth(), img.getHeight(), 0, (int[]) null);
    }

    @Test
    void grayMapsTheRangeLinearlyAndClamps() {
        float[] v = {-0.5f, 0f, 0.25f, 0.5f, 1f, 2f};
        BufferedImage img = Images.toImage(v, 1, 2, 3, Layout.NHWC, 0f, 1f);
        assertEquals(3, img.getWidth());
        assertEquals(2, img.getHeight());
        // 0.25*255 = 63.75 -> 64; 0.5*255 = 127.5 -> 128 (half up).
        assertArrayEquals(new int[] {0, 0, 64, 128, 255, 255}, graySamples(img));
    }

    @Test
    void levelsRoundHalfUp() {
        float[] v = {0.5f, 1.5f, 2.5f, 254.49f, 254.5f, Float.NaN};
        BufferedImage img = Images.toImage(v, 1, 1, 6, Layout.NCHW, 0f, 255f);
        assertArrayEquals(new int[] {1, 2, 3, 254, 255, 0}, graySamples(img));
    }

    @Test
    void offsetRangeIsShifted() {
        // [-1, 1]: -1 black, 0 mid (127.5 -> 128), 1 white.
        BufferedImage img = Images.toImage(new float[] {-1f, 0f, 1f}, 1, 1, 3, Layout.NHWC, -1f, 1f);
        assertArrayEquals(new int[] {0, 128, 255}, graySamples(img));
    }

    @Test
    void threeChannelsGiveRgbInEitherLayout() {
        // Two pixels: (255, 0, 51) and (0, 102, 255) in units of 0..255.
        float[] nhwc = {255, 0, 51, 0, 102, 255};
        float[] nchw = {255, 0, 0, 102, 51, 255};
        for (BufferedImage img : new BufferedImage[] {
            Images.toImage(nhwc, 3, 1, 2, Layout.NHWC, 0f, 255f),
            Images.toImage(nchw, 3, 1, 2, Layout.NCHW, 0f, 255f)}) {
            assertEquals(BufferedImage.TYPE_INT_RGB, img.getType());
            assertEquals(0xff0033, img.getRGB(0, 0) & 0xffffff);
            assertEquals(0x0066ff, img.getRGB(1, 0) & 0xffffff);
        }
    }

    @Test
    void otherChannelCountsShowChannelZeroAsGray() {
        // NCHW, 4 channels, 1x2: channel 0 is {10, 200}, the rest must not show.
        float[] v = {10, 200, 99, 99, 0, 0, 255, 255};
        assertArrayEquals(new int[] {10, 200}, graySamples(Images.toImage(v, 4, 1, 2, Layout.NCHW, 0f, 255f)));
        float[] two = {30, 99, 40, 99}; // NHWC, 2 channels
        assertArrayEquals(new int[] {30, 40}, graySamples(Images.toImage(two, 2, 1, 2, Layout.NHWC, 0f, 255f)));
    }

    @Test
    void badArgumentsAreRejected() {
        float[] v = new float[6];
        assertThrows(InvalidArgumentException.class, () -> Images.toImage(v, 1, 2, 3, Layout.NHWC, 1f, 1f));
        assertThrows(InvalidArgumentException.class, () -> Images.toImage(v, 1, 2, 3, Layout.NHWC, 2f, 1f));
        assertThrows(InvalidArgumentException.class, () -> Images.toImage(v, 1, 2, 3, Layout.NHWC, Float.NaN, 1f));
        assertThrows(InvalidArgumentException.class,
                () -> Images.toImage(v, 1, 2, 3, Layout.NHWC, 0f, Float.POSITIVE_INFINITY));
        assertThrows(InvalidArgumentException.class, () -> Images.toImage(v, 3, 2, 3, Layout.NHWC, 0f, 1f));
        assertThrows(InvalidArgumentException.class, () -> Images.toImage(null, 1, 2, 3, Layout.NHWC, 0f, 1f));
        assertThrows(InvalidArgumentException.class, () -> Images.toImage(v, 1, 2, 3, null, 0f, 1f));
        assertThrows(InvalidArgumentException.class, () -> Images.toImage(v, 0, 2, 3, Layout.NHWC, 0f, 1f));
    }
}
