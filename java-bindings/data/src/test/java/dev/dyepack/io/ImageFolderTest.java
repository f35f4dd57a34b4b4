package dev.dyepack.io;

import dev.dyepack.InvalidArgumentException;
import dev.dyepack.InvalidInputException;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import javax.imageio.ImageIO;
import java.awt.image.BufferedImage;
import java.awt.image.IndexColorModel;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class ImageFolderTest {
    @TempDir
    Path dir;

    /**
     * Writes image files with javax.imageio directly, independently of {@link ImageFolder.Writer}.
     * Samples go into the raster, so gray values are stored exactly as given.
     */
    static final class Images {
        private Images() {
        }

        /** An 8-bit gray image of {@code width x height} with row-major {@code values}. */
        static Path gray(Path file, int width, int height, int... values) throws IOException {
            BufferedImage img = new BufferedImage(width, height, BufferedImage.TYPE_BYTE_GRAY);
            img.getRaster().setSamples(0, 0, width, height, 0, values);
            return write(img, file, "png");
        }

        /** An 8-bit RGB image with row-major {@code rgb} triples. */
        static Path rgb(Path file, int width, int height, int... rgb) throws IOException {
            BufferedImage img = new BufferedImage(width, height, BufferedImage.TYPE_INT_RGB);
            img.getRaster().setPixels(0, 0, width, height, rgb);
            return write(img, file, "png");
        }

        /** A gray image of one value everywhere, as any format javax.imageio writes ("png", "jpg"). */
        static Path uniform(Path file, int width, int height, int value, String format) throws IOException {
            int[] values = new int[width * height];
            Arrays.fill(values, value);
            BufferedImage img = new BufferedImage(width, height, BufferedImage.TYPE_BYTE_GRAY);
            img.getRaster().setSamples(0, 0, width, height, 0, values);
            return write(img, file, format);
        }

        static Path write(BufferedImage img, Path file, String format) throws IOException {
            Files.createDirectories(file.getParent());
            assertTrue(ImageIO.write(img, format, file.toFile()), "no writer for " + format);
            return file;
        }
    }

    private static byte[] bytes(int... values) {
        byte[] b = new byte[values.length];
        for (int i = 0; i < values.length; i++) {
            b[i] = (byte) values[i];
        }
        return b;
    }

    private static byte[] read(ImageFolder f, long first, int count, int channels) {
        int n = count * f.height() * f.width() * channels;
        ByteBuffer dst = ByteBuffer.allocate(n);
        f.readImages(first, count, dst, channels);
        assertEquals(n, dst.position());
        return dst.array();
    }

    @Test
    void ordersClassesAndFilesByNameAndSkipsWhatIsNotAnImage() throws IOException {
        Path root = dir.resolve("data");
        for (String c : new String[] {"b", "a", "c9", "c10"}) {
            Images.uniform(root.resolve(c).resolve("z.png"), 2, 2, 1, "png");
        }
        Images.uniform(root.resolve("a").resolve("2.png"), 2, 2, 2, "png");
        Images.uniform(root.resolve("a").resolve("10.PNG"), 2, 2, 3, "png");
        Images.uniform(root.resolve("a").resolve("x.jpeg"), 2, 2, 4, "jpg");
        Files.writeString(root.resolve("a").resolve("notes.txt"), "not an image");
        Images.uniform(root.resolve("a").resolve(".hidden.png"), 2, 2, 5, "png");
        Images.uniform(root.resolve("a").resolve("nested").resolve("n.png"), 2, 2, 6, "png");
        Images.uniform(root.resolve(".ipynb_checkpoints").resolve("c.png"), 2, 2, 7, "png");
        Images.uniform(root.resolve("at-the-root.png"), 2, 2, 8, "png");

        ImageFolder f = ImageFolder.scan(root);
        assertEquals(List.of("a", "b", "c10", "c9"), f.classes());
        assertEquals(7, f.size());
        String[] expected = {"a/10.PNG", "a/2.png", "a/x.jpeg", "a/z.png", "b/z.png", "c10/z.png", "c9/z.png"};
        int[] labels = {0, 0, 0, 0, 1, 2, 3};
        for (int i = 0; i < expected.length; i++) {
            assertEquals(root.resolve(expected[i]), f.file(i));
            assertEquals(labels[i], f.label(i));
        }
        assertArrayEquals(new long[] {0, 0, 0, 0, 1, 2, 3}, f.labels());
        assertEquals(root, f.root());
        // What was passed over, sorted by name: hidden names, a file that is not an image, a folder inside a
        // class folder, a plain file at the root.
        assertEquals(List.of(root.resolve(".ipynb_checkpoints").toString(), root.resolve("a/.hidden.png").toString(),
                root.resolve("a/nested").toString(), root.resolve("a/notes.txt").toString(),
                root.resolve("at-the-root.png").toString()), f.skipped());
        // A folder named like an image inside a class folder is not an image either.
        Files.createDirectories(root.resolve("b").resolve("folder.png"));
        assertEquals(7, ImageFolder.scan(root).size());
        assertTrue(ImageFolder.scan(root).skipped().contains(root.resolve("b/folder.png").toString()));
        // An image that is a link is refused, naming it: the reader never follows links.
        Files.createSymbolicLink(root.resolve("c9").resolve("linked.png"), root.resolve("c9").resolve("z.png"));
        InvalidInputException e = assertThrows(InvalidInputException.class, () -> ImageFolder.scan(root));
        assertTrue(e.getMessage().contains("linked.png") && e.getMessage().contains("symbolic link"), e.getMessage());
    }

    @Test
    void namesSortByCodePointAsPythonDoes() throws IOException {
        Path root = dir.resolve("unicode");
        // U+FF21 sorts before U+1F600 by code point, after it by UTF-16 unit (0xD83D < 0xFF21).
        String fullwidthA = "\uFF21";
        String emoji = "\uD83D\uDE00";
        Images.uniform(root.resolve(emoji).resolve("1.png"), 1, 1, 0, "png");
        Images.uniform(root.resolve(fullwidthA).resolve("1.png"), 1, 1, 0, "png");
        assertEquals(List.of(fullwidthA, emoji), ImageFolder.scan(root).classes());
    }

    @Test
    void grayPixelsAreReadUnchangedAndRepeatedForThreeChannels() throws IOException {
        Path root = dir.resolve("gray");
        Images.gray(root.resolve("k").resolve("a.png"), 3, 2, 0, 1, 127, 128, 254, 255);
        Images.gray(root.resolve("k").resolve("b.png"), 3, 2, 9, 8, 7, 6, 5, 4);
        ImageFolder f = ImageFolder.scan(root);
        assertEquals(2, f.height());
        assertEquals(3, f.width());
        assertEquals(1, f.channels());
        assertArrayEquals(bytes(0, 1, 127, 128, 254, 255, 9, 8, 7, 6, 5, 4), read(f, 0, 2, 1));
        assertArrayEquals(bytes(9, 9, 9, 8, 8, 8, 7, 7, 7, 6, 6, 6, 5, 5, 5, 4, 4, 4), read(f, 1, 1, 3));
    }

    @Test
    void rgbPixelsAreReadAsIsOrAsBt601Luma() throws IOException {
        Path root = dir.resolve("rgb");
        int[] rgb = {255, 0, 0, 0, 255, 0, 0, 0, 255, 10, 20, 30, 200, 100, 50, 255, 255, 255};
        Images.rgb(root.resolve("k").resolve("a.png"), 3, 2, rgb);
        ImageFolder f = ImageFolder.scan(root);
        assertEquals(3, f.channels());
        byte[] expected = new byte[rgb.length];
        for (int i = 0; i < rgb.length; i++) {
            expected[i] = (byte) rgb[i];
        }
        assertArrayEquals(expected, read(f, 0, 1, 3));
        // floor(0.299 R + 0.587 G + 0.114 B + 0.5), worked by hand:
        // 76.245, 149.685, 29.07, 18.15, 124.2, 255.0
        assertArrayEquals(bytes(76, 150, 29, 18, 124, 255), read(f, 0, 1, 1));
    }

    @Test
    void channelsFollowTheFirstImageOfAMixedFolder() throws IOException {
        Path root = dir.resolve("mixed");
        Images.gray(root.resolve("a").resolve("1.png"), 1, 1, 77);
        Images.rgb(root.resolve("b").resolve("1.png"), 1, 1, 0, 255, 0);
        ImageFolder f = ImageFolder.scan(root);
        assertEquals(1, f.channels());
        assertArrayEquals(bytes(77, 150), read(f, 0, 2, 1));
        assertArrayEquals(bytes(77, 77, 77, 0, 255, 0), read(f, 0, 2, 3));
    }

    @Test
    void sixteenBitGrayIsRoundedToEightBits() throws IOException {
        Path root = dir.resolve("g16");
        BufferedImage img = new BufferedImage(6, 1, BufferedImage.TYPE_USHORT_GRAY);
        img.getRaster().setSamples(0, 0, 6, 1, 0, new int[] {0, 65535, 25700, 128, 129, 32896});
        Images.write(img, root.resolve("k").resolve("a.png"), "png");
        ImageFolder f = ImageFolder.scan(root);
        assertEquals(1, f.channels());
        // v / 257 rounded: 0, 255, 100, 0.498 -> 0, 0.502 -> 1, 128
        assertArrayEquals(bytes(0, 255, 100, 0, 1, 128), read(f, 0, 1, 1));
    }

    @Test
    void aPaletteOfGraysCountsAsGray() throws IOException {
        Path root = dir.resolve("palette");
        byte[] levels = bytes(0, 85, 170, 255);
        IndexColorModel cm = new IndexColorModel(2, 4, levels, levels, levels);
        BufferedImage img = new BufferedImage(4, 1, BufferedImage.TYPE_BYTE_BINARY, cm);
        img.getRaster().setSamples(0, 0, 4, 1, 0, new int[] {3, 2, 1, 0});
        Images.write(img, root.resolve("k").resolve("a.png"), "png");
        ImageFolder f = ImageFolder.scan(root);
        assertEquals(1, f.channels());
        assertArrayEquals(bytes(255, 170, 85, 0), read(f, 0, 1, 1));
    }

    @Test
    void decodesJpegFiles() throws IOException {
        Path root = dir.resolve("jpeg");
        // A uniform block at the JPEG level shift has a zero DC term and decodes exactly.
        Images.uniform(root.resolve("k").resolve("a.jpg"), 8, 8, 128, "jpg");
        ImageFolder f = ImageFolder.scan(root);
        assertEquals(1, f.channels());
        byte[] expected = new byte[64];
        Arrays.fill(expected, (byte) 128);
        assertArrayEquals(expected, read(f, 0, 1, 1));
    }

    @Test
    void refusesAnImageOfAnotherSizeNamingItAndBothSizes() throws IOException {
        Path root = dir.resolve("sizes");
        Images.uniform(root.resolve("k").resolve("1.png"), 3, 2, 0, "png");
        Path odd = Images.uniform(root.resolve("k").resolve("2.png"), 4, 2, 0, "png");
        ImageFolder f = ImageFolder.scan(root);
        ByteBuffer dst = ByteBuffer.allocate(100);
        InvalidInputException e = assertThrows(InvalidInputException.class, () -> f.readImages(0, 2, dst, 1));
        assertTrue(e.getMessage().startsWith(odd + ": "), e.getMessage());
        assertTrue(e.getMessage().contains("4x2") && e.getMessage().contains("3x2"), e.getMessage());
        assertEquals(0, dst.position());
        f.readImages(0, 1, dst, 1);
        assertEquals(6, dst.position());
    }

    @Test
    void refusesUndecodableFilesNamingThem() throws IOException {
        Path root = dir.resolve("broken");
        Path good = Images.uniform(root.resolve("k").resolve("1.png"), 2, 2, 0, "png");
        Path garbage = root.resolve("k").resolve("2.png");
        Files.write(garbage, bytes(1, 2, 3, 4, 5, 6, 7, 8));
        Path cut = root.resolve("k").resolve("3.png");
        byte[] png = Files.readAllBytes(good);
        // Half the file: javax.imageio decodes a PNG missing only IEND and the zlib checksum, since
        // the pixels are complete, but not one that ends inside its data.
        Files.write(cut, Arrays.copyOf(png, png.length / 2));
        ImageFolder f = ImageFolder.scan(root); // only the first image is looked at
        assertEquals(3, f.size());
        for (int i = 1; i <= 2; i++) {
            long index = i;
            InvalidInputException e = assertThrows(InvalidInputException.class,
                    () -> f.readImages(index, 1, ByteBuffer.allocate(4), 1));
            assertTrue(e.getMessage().startsWith(f.file(index) + ": "), e.getMessage());
        }
        Files.write(good, bytes(9, 9, 9));
        InvalidInputException first = assertThrows(InvalidInputException.class, () -> ImageFolder.scan(root));
        assertTrue(first.getMessage().startsWith(good + ": "), first.getMessage());
    }

    @Test
    void refusesFoldersWithoutImages() throws IOException {
        Path missing = dir.resolve("missing");
        assertTrue(assertThrows(InvalidInputException.class, () -> ImageFolder.scan(missing)).getMessage()
                .contains("does not exist"));
        Path file = Files.writeString(dir.resolve("file"), "x");
        assertThrows(InvalidInputException.class, () -> ImageFolder.scan(file));

        Path flat = dir.resolve("flat");
        Images.uniform(flat.resolve("1.png"), 1, 1, 0, "png");
        InvalidInputException noClasses = assertThrows(InvalidInputException.class, () -> ImageFolder.scan(flat));
        assertTrue(noClasses.getMessage().contains("no class folders"), noClasses.getMessage());

        Path withEmpty = dir.resolve("with-empty");
        Images.uniform(withEmpty.resolve("a").resolve("1.png"), 1, 1, 0, "png");
        Files.createDirectories(withEmpty.resolve("b"));
        Files.writeString(withEmpty.resolve("b").resolve("labels.csv"), "1,2");
        InvalidInputException empty = assertThrows(InvalidInputException.class, () -> ImageFolder.scan(withEmpty));
        assertTrue(empty.getMessage().startsWith(withEmpty.resolve("b") + ": "), empty.getMessage());
        assertTrue(empty.getMessage().contains("holds no .png, .jpg or .jpeg image"), empty.getMessage());

        assertThrows(InvalidArgumentException.class, () -> ImageFolder.scan(null));
    }

    @Test
    void refusesBadArgumentsAndLeavesThePositionAlone() throws IOException {
        Path root = dir.resolve("args");
        Images.gray(root.resolve("k").resolve("1.png"), 2, 1, 1, 2);
        Images.gray(root.resolve("k").resolve("2.png"), 2, 1, 3, 4);
        ImageFolder f = ImageFolder.scan(root);
        ByteBuffer dst = ByteBuffer.allocate(4);
        assertThrows(InvalidArgumentException.class, () -> f.readImages(0, 1, dst, 2));
        assertThrows(InvalidArgumentException.class, () -> f.readImages(-1, 1, dst, 1));
        assertThrows(InvalidArgumentException.class, () -> f.readImages(0, -1, dst, 1));
        assertThrows(InvalidArgumentException.class, () -> f.readImages(1, 2, dst, 1));
        assertThrows(InvalidArgumentException.class, () -> f.readImages(0, 2, dst, 3));
        assertThrows(InvalidArgumentException.class, () -> f.readImages(0, 1, null, 1));
        assertThrows(InvalidArgumentException.class, () -> f.readImages(0, 1, dst.asReadOnlyBuffer(), 1));
        assertEquals(0, dst.position());
        f.readImages(2, 0, dst, 1);
        assertEquals(0, dst.position());
        assertThrows(InvalidArgumentException.class, () -> f.file(2));
        assertThrows(InvalidArgumentException.class, () -> f.label(-1));

        ByteBuffer direct = ByteBuffer.allocateDirect(5).position(1);
        f.readImages(0, 2, direct, 1);
        assertEquals(5, direct.position());
        assertEquals(3, direct.get(3));
    }
}
