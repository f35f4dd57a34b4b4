package dev.dyepack.image;

import dev.dyepack.InvalidArgumentException;
import dev.dyepack.Layout;
import java.awt.Graphics2D;
import java.awt.image.BufferedImage;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.stream.Stream;
import javax.imageio.ImageIO;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

class ContactSheetTest {
    private static final int C = 3;
    private static final int H = 4;
    private static final int W = 5;
    private static final int K = 3;
    private static final int S = 3;

    @TempDir
    Path dir;

    /** Clean sample j: every element 100 + j. */
    private static List<float[]> clean() {
        List<float[]> out = new ArrayList<>();
        for (int j = 0; j < K; j++) {
            float[] v = new float[C * H * W];
            Arrays.fill(v, 100 + j);
            out.add(v);
        }
        return out;
    }

    /** Clean plus 10 in channel 0 at (1, 2) and minus 20 in every channel at (3, 4); NHWC. */
    private static List<float[]> triggered() {
        List<float[]> out = new ArrayList<>();
        for (float[] c : clean()) {
            float[] t = c.clone();
            t[(1 * W + 2) * C] += 10;
            for (int ch = 0; ch < C; ch++) {
                t[(3 * W + 4) * C + ch] -= 20;
            }
            out.add(t);
        }
        return out;
    }

    private static BufferedImage sheet() {
        return ContactSheet.render(clean(), triggered(), C, H, W, Layout.NHWC, 0f, 255f, 4f, S);
    }

    // The documented geometry, evaluated by hand for K=3, W=5, H=4, S=3: tiles 15x12.
    private static int tileX(int j) {
        return 84 + 2 + j * 17;
    }

    private static int tileY(int row) {
        return 2 + row * 14;
    }

    /** Asserts the whole S x S block of source pixel (h, w) in a tile has one colour. */
    private static void assertBlock(BufferedImage img, int row, int j, int h, int w, int rgb) {
        for (int dy = 0; dy < S; dy++) {
            for (int dx = 0; dx < S; dx++) {
                int x = tileX(j) + w * S + dx;
                int y = tileY(row) + h * S + dy;
                assertEquals(Integer.toHexString(rgb), Integer.toHexString(img.getRGB(x, y) & 0xffffff),
                        "row " + row + " sample " + j + " pixel (" + h + ", " + w + ") at " + x + "," + y);
            }
        }
    }

    private static int gray(int level) {
        return level * 0x010101;
    }

    @Test
    void sizeFollowsTheDocumentedGeometry() {
        BufferedImage img = sheet();
        assertEquals(ContactSheet.LABEL_WIDTH + ContactSheet.SEPARATOR + K * (W * S + ContactSheet.SEPARATOR),
                img.getWidth());
        assertEquals(84 + 2 + 3 * 17, img.getWidth());
        assertEquals(2 + 3 * 14, img.getHeight());
        assertEquals(BufferedImage.TYPE_INT_RGB, img.getType());
    }

    @Test
    void cleanAndTriggeredRowsShowTheSamples() {
        BufferedImage img = sheet();
        for (int j = 0; j < K; j++) {
            assertBlock(img, 0, j, 0, 0, gray(100 + j));
            assertBlock(img, 0, j, 1, 2, gray(100 + j));
            assertBlock(img, 1, j, 0, 0, gray(100 + j));
            assertBlock(img, 1, j, 1, 2, ((110 + j) << 16) | ((100 + j) << 8) | (100 + j));
            assertBlock(img, 1, j, 3, 4, gray(80 + j));
        }
    }

    @Test
    void diffRowIsMidGreyWhereNothingChangedBrighterOrDarkerWhereItDid() {
        BufferedImage img = sheet();
        for (int j = 0; j < K; j++) {
            for (int h = 0; h < H; h++) {
                for (int w = 0; w < W; w++) {
                    if ((h == 1 && w == 2) || (h == 3 && w == 4)) {
                        continue;
                    }
                    assertBlock(img, 2, j, h, w, gray(128));
                }
            }
            // Mid 127.5 + 4*10 = 167.5 -> 168 in red only; 127.5 - 4*20 = 47.5 -> 48 everywhere.
            assertBlock(img, 2, j, 1, 2, (168 << 16) | (128 << 8) | 128);
            assertBlock(img, 2, j, 3, 4, gray(48));
        }
    }

    @Test
    void oneChannelNchwDiffIsGrayAndSaturates() {
        // 1x2 NCHW samples in [-1, 1]; the second element rises by 0.5, amplified x10 past white.
        List<float[]> clean = List.of(new float[] {0.25f, -0.5f});
        List<float[]> trig = List.of(new float[] {0.25f, 0f});
        BufferedImage img = ContactSheet.render(clean, trig, 1, 1, 2, Layout.NCHW, -1f, 1f, 10f, 1);
        int x0 = ContactSheet.LABEL_WIDTH + ContactSheet.SEPARATOR;
        int y2 = ContactSheet.SEPARATOR + 2 * (1 + ContactSheet.SEPARATOR);
        assertEquals(gray(159), img.getRGB(x0, ContactSheet.SEPARATOR) & 0xffffff); // 0.625*255 = 159.4
        assertEquals(gray(128), img.getRGB(x0, y2) & 0xffffff);
        assertEquals(gray(255), img.getRGB(x0 + 1, y2) & 0xffffff);
    }

    @Test
    void separatorsAndLabelColumnBackgroundAreTheNeutralColour() {
        BufferedImage img = sheet();
        int bg = ContactSheet.BACKGROUND;
        for (int y = 0; y < img.getHeight(); y++) {
            assertEquals(bg, img.getRGB(tileX(0) - 1, y) & 0xffffff);
            assertEquals(bg, img.getRGB(img.getWidth() - 1, y) & 0xffffff);
            assertEquals(bg, img.getRGB(tileX(1) - 2, y) & 0xffffff);
        }
        for (int x = ContactSheet.LABEL_WIDTH; x < img.getWidth(); x++) {
            assertEquals(bg, img.getRGB(x, 0) & 0xffffff);
            assertEquals(bg, img.getRGB(x, tileY(1) - 1) & 0xffffff);
            assertEquals(bg, img.getRGB(x, img.getHeight() - 1) & 0xffffff);
        }
    }

    @Test
    void labelsAreDrawnWhereTheJvmCanRenderText() {
        assumeTrue(canDrawText(), "no usable fonts in this JVM");
        BufferedImage img = ContactSheet.render(clean(), triggered(), C, H, W, Layout.NHWC, 0f, 255f, 4f, 8);
        int tileH = H * 8;
        for (int row = 0; row < 3; row++) {
            int top = ContactSheet.SEPARATOR + row * (tileH + ContactSheet.SEPARATOR);
            boolean ink = false;
            for (int y = top; y < top + tileH && !ink; y++) {
                for (int x = 0; x < ContactSheet.LABEL_WIDTH && !ink; x++) {
                    ink = (img.getRGB(x, y) & 0xffffff) != ContactSheet.BACKGROUND;
                }
            }
            assertTrue(ink, "no label text in row " + row);
        }
    }

    private static boolean canDrawText() {
        try {
            BufferedImage probe = new BufferedImage(40, 20, BufferedImage.TYPE_INT_RGB);
            Graphics2D g = probe.createGraphics();
            g.drawString("x", 5, 15);
            g.dispose();
            return true;
        } catch (RuntimeException | Error e) {
            return false;
        }
    }

    @Test
    void diffLabelDropsATrailingZero() {
        assertEquals("diff x10", ContactSheet.diffLabel(10f));
        assertEquals("diff x2.5", ContactSheet.diffLabel(2.5f));
        assertEquals("diff x0.001", ContactSheet.diffLabel(0.001f));
    }

    private List<Path> listDir() throws IOException {
        try (Stream<Path> s = Files.list(dir)) {
            return s.sorted().toList();
        }
    }

    @Test
    void writeLeavesOnlyThePngAndItReadsBackIdentical() throws IOException {
        BufferedImage img = sheet();
        Path out = dir.resolve("sheet.png");
        Files.writeString(out, "an older file to be replaced");
        ContactSheet.write(img, out);
        assertEquals(List.of(out), listDir());
        BufferedImage back = ImageIO.read(out.toFile());
        assertNotNull(back);
        assertEquals(img.getWidth(), back.getWidth());
        assertEquals(img.getHeight(), back.getHeight());
        for (int y = 0; y < img.getHeight(); y++) {
            for (int x = 0; x < img.getWidth(); x++) {
                assertEquals(img.getRGB(x, y), back.getRGB(x, y), "pixel " + x + "," + y);
            }
        }
    }

    @Test
    void failedWriteLeavesNoTemporaryFile() throws IOException {
        Path occupied = Files.createDirectory(dir.resolve("sheet.png"));
        Files.createFile(occupied.resolve("keep"));
        assertThrows(IOException.class, () -> ContactSheet.write(sheet(), occupied));
        assertEquals(List.of(occupied), listDir());
        assertThrows(IOException.class, () -> ContactSheet.write(sheet(), dir.resolve("missing").resolve("s.png")));
        assertEquals(List.of(occupied), listDir());
        assertThrows(InvalidArgumentException.class, () -> ContactSheet.write(null, dir.resolve("s.png")));
        assertThrows(InvalidArgumentException.class, () -> ContactSheet.write(sheet(), null));
    }

    @Test
    void badArgumentsAreRejected() {
        List<float[]> c = clean();
        List<float[]> t = triggered();
        Layout l = Layout.NHWC;
        assertThrows(InvalidArgumentException.class, () -> ContactSheet.render(List.of(), List.of(), C, H, W, l, 0, 255, 4, 1));
        assertThrows(InvalidArgumentException.class, () -> ContactSheet.render(c, t.subList(0, 2), C, H, W, l, 0, 255, 4, 1));
        assertThrows(InvalidArgumentException.class, () -> ContactSheet.render(null, t, C, H, W, l, 0, 255, 4, 1));
        assertThrows(InvalidArgumentException.class, () -> ContactSheet.render(c, null, C, H, W, l, 0, 255, 4, 1));
        assertThrows(InvalidArgumentException.class, () -> ContactSheet.render(c, t, C, H, W + 1, l, 0, 255, 4, 1));
        assertThrows(InvalidArgumentException.class, () -> ContactSheet.render(c, t, C, H, W, null, 0, 255, 4, 1));
        List<float[]> withNull = new ArrayList<>(t);
        withNull.set(1, null);
        assertThrows(InvalidArgumentException.class, () -> ContactSheet.render(c, withNull, C, H, W, l, 0, 255, 4, 1));
        List<float[]> shortOne = new ArrayList<>(t);
        shortOne.set(2, new float[C * H * W - 1]);
        assertThrows(InvalidArgumentException.class, () -> ContactSheet.render(c, shortOne, C, H, W, l, 0, 255, 4, 1));
        assertThrows(InvalidArgumentException.class, () -> ContactSheet.render(c, t, C, H, W, l, 0, 255, 4, 0));
        assertThrows(InvalidArgumentException.class, () -> ContactSheet.render(c, t, C, H, W, l, 0, 255, 4, 33));
        assertThrows(InvalidArgumentException.class, () -> ContactSheet.render(c, t, C, H, W, l, 0, 255, 0, 1));
        assertThrows(InvalidArgumentException.class, () -> ContactSheet.render(c, t, C, H, W, l, 0, 255, -2, 1));
        assertThrows(InvalidArgumentException.class, () -> ContactSheet.render(c, t, C, H, W, l, 0, 255, Float.NaN, 1));
        assertThrows(InvalidArgumentException.class,
                () -> ContactSheet.render(c, t, C, H, W, l, 0, 255, Float.POSITIVE_INFINITY, 1));
        assertThrows(InvalidArgumentException.class, () -> ContactSheet.render(c, t, C, H, W, l, 255, 255, 4, 1));
        assertThrows(InvalidArgumentException.class, () -> ContactSheet.render(c, t, C, H, W, l, 255, 0, 4, 1));
        // 32 * 1000 pixels wide, 32 * 1000 high per tile: far past the pixel limit.
        List<float[]> big = List.of(new float[1000 * 1000]);
        assertThrows(InvalidArgumentException.class, () -> ContactSheet.render(big, big, 1, 1000, 1000, l, 0, 255, 4, 32));
        // The bounds themselves are accepted.
        assertEquals(84 + 2 + W * 32 + 2,
                ContactSheet.render(c.subList(0, 1), t.subList(0, 1), C, H, W, l, 0, 255, 4, 32).getWidth());
        assertEquals(84 + 2 + W + 2,
                ContactSheet.render(c.subList(0, 1), t.subList(0, 1), C, H, W, l, 0, 255, 1e-6f, 1).getWidth());
    }
}
