package dev.dyepack.image;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;

import java.awt.image.BufferedImage;
import java.awt.image.IndexColorModel;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.util.Arrays;
import java.util.SplittableRandom;
import javax.imageio.ImageIO;
import org.junit.jupiter.api.Test;

/**
 * The plain PNG decoder against the pixels the files were written from (ImageIO's writer picks a filter
 * per row, so every filter type occurs), at 1 and 3 channels; and every file it must leave to ImageIO
 * declined rather than misread.
 */
class PlainPngTest {
    private static final long NO_LIMIT = Long.MAX_VALUE;

    private static byte[] png(BufferedImage img) throws IOException {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        ImageIO.write(img, "png", out);
        return out.toByteArray();
    }

    /** Smooth gradients with noise (Sub, Up, Average, Paeth rows) or pure noise (None rows). */
    private static int sample(SplittableRandom rng, int x, int y, int base, boolean noisy) {
        return noisy ? rng.nextInt(256) : (base + 3 * x + 5 * y + rng.nextInt(4)) & 0xff;
    }

    /**
     * A PNG whose every row, the first included, uses {@code filter} (0-4), filtered by PNG's rules as
     * written out in the specification: a, b, c are the left, upper and upper-left samples, 0 outside the
     * image.
     */
    private static byte[] pngWithFilter(byte[] px, int w, int h, int bpp, int filter) throws IOException {
        int stride = w * bpp;
        ByteArrayOutputStream raw = new ByteArrayOutputStream();
        for (int y = 0; y < h; y++) {
            raw.write(filter);
            for (int x = 0; x < stride; x++) {
                raw.write(TestImages.pngFiltered(px, stride, bpp, x, y, filter));
            }
        }
        byte[] z = TestImages.zlib(raw.toByteArray(), java.util.zip.Deflater.DEFAULT_COMPRESSION);
        ByteArrayOutputStream file = new ByteArrayOutputStream();
        file.write(new byte[] {(byte) 0x89, 'P', 'N', 'G', 13, 10, 26, 10});
        byte[] ihdr = java.nio.ByteBuffer.allocate(13).putInt(w).putInt(h)
                .put(new byte[] {8, (byte) (bpp == 1 ? 0 : 2), 0, 0, 0}).array();
        TestImages.pngChunk(file, "IHDR", ihdr);
        TestImages.pngChunk(file, "IDAT", z);
        TestImages.pngChunk(file, "IEND", new byte[0]);
        return file.toByteArray();
    }

    @Test
    void everyFilterOnEveryRowIncludingTheFirstGivesTheSamples() throws IOException {
        SplittableRandom rng = new SplittableRandom(16);
        for (int bpp : new int[] {1, 3}) {
            for (int filter = 0; filter <= 4; filter++) {
                for (int round = 0; round < 12; round++) {
                    int w = 1 + rng.nextInt(40);
                    int h = 1 + rng.nextInt(20);
                    byte[] px = new byte[w * h * bpp];
                    for (int i = 0; i < px.length; i++) {
                        px[i] = (byte) (round % 2 == 0 ? rng.nextInt(256) : (7 * (i % (w * bpp)) + 3 * (i / (w * bpp))
                                + rng.nextInt(5)));
                    }
                    byte[] file = pngWithFilter(px, w, h, bpp, filter);
                    String what = "filter " + filter + ", " + w + "x" + h + "x" + bpp;
                    assertArrayEquals(px, PlainPng.decode(file, bpp, w, h, NO_LIMIT), what);
                    if (round == 0) {
                        // ImageIO reads the hand-made file as the same samples: it is a valid PNG.
                        BufferedImage img = ImageIO.read(new java.io.ByteArrayInputStream(file));
                        int[] got = img.getRaster().getPixels(0, 0, w, h, (int[]) null);
                        byte[] asBytes = new byte[got.length];
                        for (int i = 0; i < got.length; i++) {
                            asBytes[i] = (byte) got[i];
                        }
                        assertArrayEquals(px, asBytes, what + ", read by ImageIO");
                    }
                }
            }
        }
    }

    @Test
    void graySamplesAreTheWrittenOnes() throws IOException {
        SplittableRandom rng = new SplittableRandom(14);
        for (int round = 0; round < 60; round++) {
            int w = 1 + rng.nextInt(70);
            int h = 1 + rng.nextInt(40);
            boolean noisy = round % 3 == 0;
            int base = rng.nextInt(256);
            byte[] want = new byte[w * h];
            BufferedImage img = new BufferedImage(w, h, BufferedImage.TYPE_BYTE_GRAY);
            for (int y = 0; y < h; y++) {
                for (int x = 0; x < w; x++) {
                    int v = sample(rng, x, y, base, noisy);
                    want[y * w + x] = (byte) v;
                    img.getRaster().setSample(x, y, 0, v);
                }
            }
            byte[] file = png(img);
            assertArrayEquals(want, PlainPng.decode(file, 1, w, h, NO_LIMIT), w + "x" + h);
            byte[] rgb = new byte[3 * w * h];
            for (int i = 0; i < want.length; i++) {
                Arrays.fill(rgb, 3 * i, 3 * i + 3, want[i]);
            }
            assertArrayEquals(rgb, PlainPng.decode(file, 3, -1, -1, NO_LIMIT), w + "x" + h + " as RGB");
            assertArrayEquals(want, Images.decodeUint8(file, "g.png", 1, w, h), "through Images");
        }
    }

    @Test
    void rgbSamplesAreTheWrittenOnes() throws IOException {
        SplittableRandom rng = new SplittableRandom(15);
        for (int round = 0; round < 40; round++) {
            int w = 1 + rng.nextInt(50);
            int h = 1 + rng.nextInt(30);
            boolean noisy = round % 4 == 0;
            byte[] want = new byte[3 * w * h];
            BufferedImage img = new BufferedImage(w, h, BufferedImage.TYPE_3BYTE_BGR);
            for (int y = 0; y < h; y++) {
                for (int x = 0; x < w; x++) {
                    int r = sample(rng, x, y, 10, noisy);
                    int g = sample(rng, x, y, 90, noisy);
                    int b = sample(rng, x, y, 200, noisy);
                    int at = 3 * (y * w + x);
                    want[at] = (byte) r;
                    want[at + 1] = (byte) g;
                    want[at + 2] = (byte) b;
                    img.setRGB(x, y, (r << 16) | (g << 8) | b);
                }
            }
            byte[] file = png(img);
            assertArrayEquals(want, PlainPng.decode(file, 3, w, h, NO_LIMIT), w + "x" + h);
            assertArrayEquals(want, Images.decodeUint8(file, "c.png", 3, w, h), "through Images");
            // RGB to one channel is ImageIO's path (luma), never this decoder's.
            assertNull(PlainPng.decode(file, 1, w, h, NO_LIMIT));
        }
    }

    @Test
    void whatItDoesNotTakeIsDeclined() throws IOException {
        BufferedImage gray = new BufferedImage(9, 7, BufferedImage.TYPE_BYTE_GRAY);
        gray.getRaster().setSample(3, 3, 0, 77);
        byte[] file = png(gray);
        assertNotNull(PlainPng.decode(file, 1, 9, 7, NO_LIMIT));
        assertNull(PlainPng.decode(file, 1, 8, 7, NO_LIMIT), "another size than required");
        assertNull(PlainPng.decode(file, 1, -1, -1, 62), "more pixels than allowed");
        assertNull(PlainPng.decode(Arrays.copyOf(file, file.length - 12), 1, -1, -1, NO_LIMIT), "no IEND");
        assertNull(PlainPng.decode(Arrays.copyOf(file, file.length / 2), 1, -1, -1, NO_LIMIT), "truncated");
        byte[] badCrc = file.clone();
        badCrc[8 + 8 + 13] ^= 1; // IHDR's CRC
        assertNull(PlainPng.decode(badCrc, 1, -1, -1, NO_LIMIT), "a bad CRC");
        byte[] notPng = file.clone();
        notPng[1] = 'Q';
        assertNull(PlainPng.decode(notPng, 1, -1, -1, NO_LIMIT), "not a PNG");

        byte[] grays = new byte[16];
        for (int i = 0; i < 16; i++) {
            grays[i] = (byte) (i * 17);
        }
        BufferedImage palette = new BufferedImage(5, 5, BufferedImage.TYPE_BYTE_INDEXED,
                new IndexColorModel(4, 16, grays, grays, grays));
        assertNull(PlainPng.decode(png(palette), 1, -1, -1, NO_LIMIT), "a palette image");
        BufferedImage alpha = new BufferedImage(5, 5, BufferedImage.TYPE_INT_ARGB);
        assertNull(PlainPng.decode(png(alpha), 3, -1, -1, NO_LIMIT), "an image with alpha");
        BufferedImage wide = new BufferedImage(5, 5, BufferedImage.TYPE_USHORT_GRAY);
        assertNull(PlainPng.decode(png(wide), 1, -1, -1, NO_LIMIT), "16-bit samples");
    }
}
