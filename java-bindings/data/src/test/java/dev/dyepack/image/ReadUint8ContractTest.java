package dev.dyepack.image;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;

import dev.dyepack.Layout;
import java.awt.image.BufferedImage;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The contract of {@link Images#readUint8}: the values of {@link Images#readPng} for the same file and
 * channels, rounded half up; and {@link Images#decodeUint8} on the file's bytes gives the same. Checked on
 * gray, RGB, RGBA, 16-bit and JPEG files, each read with 1 and with 3 channels.
 */
class ReadUint8ContractTest {
    @TempDir
    Path dir;

    private static byte[] expected(Path file, int channels) {
        float[] v = Images.readPng(file, channels, Layout.NHWC).values();
        byte[] out = new byte[v.length];
        for (int i = 0; i < v.length; i++) {
            out[i] = (byte) Math.min(255, (int) Math.floor(v[i] + 0.5f));
        }
        return out;
    }

    @Test
    void uint8IsThePatternRoundedHalfUp() throws IOException {
        Random rng = new Random(21);
        int[] types = {BufferedImage.TYPE_BYTE_GRAY, BufferedImage.TYPE_3BYTE_BGR, BufferedImage.TYPE_4BYTE_ABGR,
            BufferedImage.TYPE_INT_RGB, BufferedImage.TYPE_USHORT_GRAY};
        for (int type : types) {
            BufferedImage img = new BufferedImage(13, 7, type);
            for (int y = 0; y < 7; y++) {
                for (int x = 0; x < 13; x++) {
                    for (int b = 0; b < img.getRaster().getNumBands(); b++) {
                        int max = type == BufferedImage.TYPE_USHORT_GRAY ? 65535 : 255;
                        // Some gray pixels in colour images (R = G = B), where luma must give R exactly.
                        int v = x % 3 == 0 ? (y * 37) % 256 : rng.nextInt(max + 1);
                        img.getRaster().setSample(x, y, b, type == BufferedImage.TYPE_USHORT_GRAY ? v * 257 % 65536 : v);
                    }
                }
            }
            for (String format : new String[] {"png", "jpeg"}) {
                if (format.equals("jpeg") && (type == BufferedImage.TYPE_4BYTE_ABGR
                        || type == BufferedImage.TYPE_USHORT_GRAY)) {
                    continue;
                }
                byte[] bytes = format.equals("png") ? TestImages.png(img, null) : TestImages.jpeg(img, 0.8f, null);
                Path file = Files.write(dir.resolve("t" + type + "." + format), bytes);
                for (int channels : new int[] {1, 3}) {
                    byte[] want = expected(file, channels);
                    assertArrayEquals(want, Images.readUint8(file, channels, -1, -1), file + " " + channels);
                    assertArrayEquals(want, Images.decodeUint8(bytes, "b", channels, -1, -1), file + " " + channels);
                }
            }
        }
    }
}
