package dev.dyepack.image;

import dev.dyepack.trigger.ImagePattern;
import dev.dyepack.InvalidArgumentException;
import dev.dyepack.InvalidInputException;
import dev.dyepack.Layout;
import java.awt.Transparency;
import java.awt.color.ColorSpace;
import java.awt.image.BufferedImage;
import java.awt.image.ComponentColorModel;
import java.awt.image.DataBuffer;
import java.awt.image.IndexColorModel;
import java.awt.image.WritableRaster;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.Arrays;
import java.util.Random;
import javax.imageio.ImageIO;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeFalse;

class ReadPngTest {
    @TempDir
    Path dir;

    private Path write(BufferedImage img, String format, String name) throws IOException {
        Path file = dir.resolve(name);
        assertTrue(ImageIO.write(img, format, file.toFile()), "no " + format + " writer for this image");
        return file;
    }

    // Hand-written index formulas, independent of Layout.offset.
    private static int nhwc(int c, int h, int w, int channels, int width) {
        return (h * width + w) * channels + c;
    }

    private static int nchw(int c, int h, int w, int height, int width) {
        return (c * height + h) * width + w;
    }

    /** 3 wide, 2 high, rows {10, 20, 30}, {40, 250, 255}. */
    private Path gray8() throws IOException {
        BufferedImage img = new BufferedImage(3, 2, BufferedImage.TYPE_BYTE_GRAY);
        WritableRaster r = img.getRaster();
        int[] levels = {10, 20, 30, 40, 250, 255};
        for (int i = 0; i < 6; i++) {
            r.setSample(i % 3, i / 3, 0, levels[i]);
        }
        return write(img, "png", "gray.png");
    }

    @Test
    void grayPngGivesItsBytesExactlyAndNoAlpha() throws IOException {
        ImagePattern p = Images.readPng(gray8(), 1, Layout.NHWC);
        assertEquals(1, p.channels());
        assertEquals(2, p.height());
        assertEquals(3, p.width());
        assertArrayEquals(new float[] {10, 20, 30, 40, 250, 255}, p.values());
        assertNull(p.alpha());
    }

    @Test
    void grayPngAsThreeChannelsRepeatsTheLevel() throws IOException {
        Path file = gray8();
        float[] levels = {10, 20, 30, 40, 250, 255};
        float[] nchw = Images.readPng(file, 3, Layout.NCHW).values();
        float[] nhwc = Images.readPng(file, 3, Layout.NHWC).values();
        for (int h = 0; h < 2; h++) {
            for (int w = 0; w < 3; w++) {
                for (int c = 0; c < 3; c++) {
                    assertEquals(levels[h * 3 + w], nchw[nchw(c, h, w, 2, 3)]);
                    assertEquals(levels[h * 3 + w], nhwc[nhwc(c, h, w, 3, 3)]);
                }
            }
        }
    }

    private static final int[][] RGB = {
        {200, 100, 50}, {10, 20, 30}, {77, 77, 77},
        {255, 0, 0}, {0, 255, 0}, {0, 0, 255},
    };

    private Path rgb8() throws IOException {
        BufferedImage img = new BufferedImage(3, 2, BufferedImage.TYPE_INT_RGB);
        for (int i = 0; i < 6; i++) {
            img.setRGB(i % 3, i / 3, (RGB[i][0] << 16) | (RGB[i][1] << 8) | RGB[i][2]);
        }
        return write(img, "png", "rgb.png");
    }

    @Test
    void rgbPngInBothLayouts() throws IOException {
        Path file = rgb8();
        ImagePattern hwc = Images.readPng(file, 3, Layout.NHWC);
        ImagePattern chw = Images.readPng(file, 3, Layout.NCHW);
        assertNull(hwc.alpha());
        assertEquals(Layout.NCHW, chw.layout());
        float[] a = hwc.values();
        float[] b = chw.values();
        for (int h = 0; h < 2; h++) {
            for (int w = 0; w < 3; w++) {
                for (int c = 0; c < 3; c++) {
                    assertEquals(RGB[h * 3 + w][c], a[nhwc(c, h, w, 3, 3)], "NHWC c=" + c + " h=" + h + " w=" + w);
                    assertEquals(RGB[h * 3 + w][c], b[nchw(c, h, w, 2, 3)], "NCHW c=" + c + " h=" + h + " w=" + w);
                }
            }
        }
    }

    @Test
    void rgbPngAsOneChannelIsBt601Luminance() throws IOException {
        float[] v = Images.readPng(rgb8(), 1, Layout.NCHW).values();
        // By hand: 0.299*200 + 0.587*100 + 0.114*50 = 59.8 + 58.7 + 5.7
        assertEquals(124.2f, v[0], 1e-4f);
        // 0.299*10 + 0.587*20 + 0.114*30 = 2.99 + 11.74 + 3.42
        assertEquals(18.15f, v[1], 1e-4f);
        // A gray pixel stays exactly its level.
        assertEquals(77f, v[2]);
        assertEquals(76.245f, v[3], 1e-4f);
        assertEquals(149.685f, v[4], 1e-4f);
        assertEquals(29.07f, v[5], 1e-4f);
        // Not rounded to whole levels.
        assertTrue(v[0] != Math.round(v[0]));
    }

    @Test
    void rgbaPngGivesStraightColoursAndAlphaOver255() throws IOException {
        int[] a = {0, 128, 255, 51};
        BufferedImage img = new BufferedImage(2, 2, BufferedImage.TYPE_INT_ARGB);
        for (int i = 0; i < 4; i++) {
            img.setRGB(i % 2, i / 2, (a[i] << 24) | (RGB[i][0] << 16) | (RGB[i][1] << 8) | RGB[i][2]);
        }
        Path file = write(img, "png", "rgba.png");
        ImagePattern p = Images.readPng(file, 3, Layout.NHWC);
        float[] v = p.values();
        for (int i = 0; i < 4; i++) {
            for (int c = 0; c < 3; c++) {
                assertEquals(RGB[i][c], v[i * 3 + c], "pixel " + i + " channel " + c);
            }
        }
        assertArrayEquals(new float[] {0f, 128f / 255f, 1f, 0.2f}, p.alpha());
        float[] mask = p.maskFor(3, Layout.NCHW);
        assertEquals(128f / 255f, mask[4 + 1]);
        assertEquals(0.2f, mask[8 + 3]);
    }

    @Test
    void grayAlphaPng() throws IOException {
        ComponentColorModel cm = new ComponentColorModel(ColorSpace.getInstance(ColorSpace.CS_GRAY),
                new int[] {8, 8}, true, false, Transparency.TRANSLUCENT, DataBuffer.TYPE_BYTE);
        WritableRaster r = cm.createCompatibleWritableRaster(2, 1);
        r.setSample(0, 0, 0, 90);
        r.setSample(0, 0, 1, 255);
        r.setSample(1, 0, 0, 180);
        r.setSample(1, 0, 1, 102);
        Path file = write(new BufferedImage(cm, r, false, null), "png", "ga.png");
        ImagePattern p = Images.readPng(file, 1, Layout.NHWC);
        assertArrayEquals(new float[] {90, 180}, p.values());
        assertArrayEquals(new float[] {1f, 0.4f}, p.alpha());
    }

    private static IndexColorModel palette(boolean transparentEntry) {
        byte[] r = {0, (byte) 255, 12, (byte) 200};
        byte[] g = {0, (byte) 128, 34, (byte) 201};
        byte[] b = {0, 64, 56, (byte) 202};
        if (transparentEntry) {
            byte[] a = {(byte) 255, (byte) 255, (byte) 255, 0};
            return new IndexColorModel(8, 4, r, g, b, a);
        }
        return new IndexColorModel(8, 4, r, g, b);
    }

    private Path indexed(boolean transparentEntry, String name) throws IOException {
        BufferedImage img = new BufferedImage(4, 1, BufferedImage.TYPE_BYTE_INDEXED, palette(transparentEntry));
        WritableRaster raster = img.getRaster();
        int[] indices = {3, 2, 1, 0};
        for (int x = 0; x < 4; x++) {
            raster.setSample(x, 0, 0, indices[x]);
        }
        return write(img, "png", name);
    }

    @Test
    void palettePngGivesThePaletteColours() throws IOException {
        ImagePattern p = Images.readPng(indexed(false, "pal.png"), 3, Layout.NCHW);
        assertNull(p.alpha());
        assertArrayEquals(new float[] {
            200, 12, 255, 0,
            201, 34, 128, 0,
            202, 56, 64, 0}, p.values());
    }

    @Test
    void palettePngWithATransparentEntryHasAlpha() throws IOException {
        ImagePattern p = Images.readPng(indexed(true, "pal-t.png"), 3, Layout.NHWC);
        assertArrayEquals(new float[] {0f, 1f, 1f, 1f}, p.alpha());
        assertArrayEquals(new float[] {200, 201, 202, 12, 34, 56, 255, 128, 64, 0, 0, 0}, p.values());
    }

    @Test
    void sixteenBitGrayIsScaledTo0To255() throws IOException {
        BufferedImage img = new BufferedImage(6, 1, BufferedImage.TYPE_USHORT_GRAY);
        int[] samples = {0, 257, 25700, 65535, 1000, 32768};
        for (int x = 0; x < 6; x++) {
            img.getRaster().setSample(x, 0, 0, samples[x]);
        }
        float[] v = Images.readPng(write(img, "png", "g16.png"), 1, Layout.NHWC).values();
        // Multiples of 257 land on whole levels exactly.
        assertEquals(0f, v[0]);
        assertEquals(1f, v[1]);
        assertEquals(100f, v[2]);
        assertEquals(255f, v[3]);
        // The others keep their fraction: 1000*255/65535 and 32768*255/65535.
        assertEquals(3.8910506f, v[4], 1e-5f);
        assertEquals(127.50195f, v[5], 1e-4f);
    }

    @Test
    void sixteenBitRgbaIsScaledTo0To255() throws IOException {
        ComponentColorModel cm = new ComponentColorModel(ColorSpace.getInstance(ColorSpace.CS_sRGB),
                new int[] {16, 16, 16, 16}, true, false, Transparency.TRANSLUCENT, DataBuffer.TYPE_USHORT);
        WritableRaster r = cm.createCompatibleWritableRaster(1, 1);
        r.setPixel(0, 0, new int[] {65535, 257 * 7, 0, 13107});
        Path file = write(new BufferedImage(cm, r, false, null), "png", "rgba16.png");
        ImagePattern p = Images.readPng(file, 3, Layout.NHWC);
        assertArrayEquals(new float[] {255, 7, 0}, p.values());
        assertArrayEquals(new float[] {0.2f}, p.alpha());
    }

    @Test
    void jpegIsReadToo() throws IOException {
        BufferedImage img = new BufferedImage(16, 16, BufferedImage.TYPE_INT_RGB);
        for (int y = 0; y < 16; y++) {
            for (int x = 0; x < 16; x++) {
                img.setRGB(x, y, 0xc86432); // 200, 100, 50
            }
        }
        ImagePattern p = Images.readPng(write(img, "jpg", "flat.jpg"), 3, Layout.NCHW);
        assertNull(p.alpha());
        float[] v = p.values();
        for (int i = 0; i < 256; i++) {
            assertEquals(200f, v[i], 4f);
            assertEquals(100f, v[256 + i], 4f);
            assertEquals(50f, v[512 + i], 4f);
        }
    }

    private void assertRefused(Path file) {
        InvalidInputException e = assertThrows(InvalidInputException.class, () -> Images.readPng(file, 3, Layout.NHWC));
        assertTrue(e.getMessage().contains(file.toString()), e.getMessage());
    }

    @Test
    void randomBytesAreRefused() throws IOException {
        byte[] junk = new byte[4096];
        new Random(42).nextBytes(junk);
        Path file = dir.resolve("junk.png");
        Files.write(file, junk);
        assertRefused(file);
    }

    @Test
    void pngSignatureFollowedByGarbageIsRefused() throws IOException {
        byte[] junk = new byte[4096];
        new Random(7).nextBytes(junk);
        System.arraycopy(new byte[] {(byte) 0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n'}, 0, junk, 0, 8);
        Path file = dir.resolve("garbage.png");
        Files.write(file, junk);
        assertRefused(file);
    }

    private byte[] noisyPng() throws IOException {
        BufferedImage img = new BufferedImage(64, 64, BufferedImage.TYPE_INT_RGB);
        Random rnd = new Random(1);
        for (int y = 0; y < 64; y++) {
            for (int x = 0; x < 64; x++) {
                img.setRGB(x, y, rnd.nextInt(1 << 24));
            }
        }
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        ImageIO.write(img, "png", out);
        return out.toByteArray();
    }

    @Test
    void truncatedPngIsRefused() throws IOException {
        byte[] whole = noisyPng();
        for (int keep : new int[] {whole.length / 2, 40, 8}) {
            Path file = dir.resolve("cut" + keep + ".png");
            Files.write(file, Arrays.copyOf(whole, keep));
            assertRefused(file);
        }
    }

    @Test
    void truncatedJpegIsRefusedRatherThanFilledWithGray() throws IOException {
        BufferedImage img = new BufferedImage(64, 64, BufferedImage.TYPE_INT_RGB);
        Random rnd = new Random(2);
        for (int y = 0; y < 64; y++) {
            for (int x = 0; x < 64; x++) {
                img.setRGB(x, y, rnd.nextInt(1 << 24));
            }
        }
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        ImageIO.write(img, "jpg", out);
        byte[] whole = out.toByteArray();
        Path file = dir.resolve("cut.jpg");
        Files.write(file, Arrays.copyOf(whole, whole.length / 2));
        assertRefused(file);
    }

    /** A PNG whose header says 0 pixels wide, with correct CRCs so only the size is wrong. */
    @Test
    void zeroWidthPngIsRefused() throws IOException {
        ByteBuffer ihdr = ByteBuffer.allocate(13).putInt(0).putInt(5).put((byte) 8).put((byte) 0)
                .put((byte) 0).put((byte) 0).put((byte) 0);
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        out.write(new byte[] {(byte) 0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n'});
        TestImages.pngChunk(out, "IHDR", ihdr.array());
        TestImages.pngChunk(out, "IEND", new byte[0]);
        Path file = dir.resolve("empty.png");
        Files.write(file, out.toByteArray());
        assertRefused(file);
    }

    @Test
    void missingEmptyAndDirectoryAreRefused() throws IOException {
        assertRefused(dir.resolve("nope.png"));
        Path empty = Files.createFile(dir.resolve("empty.png"));
        assertRefused(empty);
        assertRefused(Files.createDirectory(dir.resolve("folder.png")));
    }

    @Test
    void unreadableFileIsRefused() throws IOException {
        Path file = gray8();
        try {
            Files.setPosixFilePermissions(file, PosixFilePermissions.fromString("---------"));
        } catch (UnsupportedOperationException e) {
            assumeFalse(true, "no POSIX permissions here");
        }
        assumeFalse(Files.isReadable(file), "running as a user who can read any file");
        assertRefused(file);
    }

    @Test
    void channelsOtherThanOneOrThreeAreRejected() throws IOException {
        Path file = gray8();
        for (int c : new int[] {0, 2, 4}) {
            InvalidArgumentException e = assertThrows(InvalidArgumentException.class,
                    () -> Images.readPng(file, c, Layout.NHWC));
            assertEquals("image patterns need 1 or 3 channels, the data has " + c, e.getMessage());
        }
        assertThrows(InvalidArgumentException.class, () -> Images.readPng(file, 3, null));
        assertThrows(InvalidArgumentException.class, () -> Images.readPng(null, 3, Layout.NHWC));
    }
}
