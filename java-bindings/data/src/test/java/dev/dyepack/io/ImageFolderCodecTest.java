package dev.dyepack.io;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.dyepack.InvalidInputException;
import dev.dyepack.Layout;
import dev.dyepack.image.Images;
import java.awt.image.BufferedImage;
import java.awt.image.IndexColorModel;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.zip.CRC32;
import javax.imageio.ImageIO;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Image folders decode with the same codec, and the same rules, as trigger patterns. */
class ImageFolderCodecTest {
    @TempDir
    Path dir;

    private Path one(String cls, String name, BufferedImage img, String format) throws IOException {
        Path f = Files.createDirectories(dir.resolve("ds").resolve(cls)).resolve(name);
        ImageIO.write(img, format, f.toFile());
        return f;
    }

    private static BufferedImage rgb(int seed) {
        BufferedImage img = new BufferedImage(16, 16, BufferedImage.TYPE_3BYTE_BGR);
        for (int y = 0; y < 16; y++) {
            for (int x = 0; x < 16; x++) {
                img.setRGB(x, y, (seed * 31 + x * 13 + y * 7) * 0x010305 & 0xffffff);
            }
        }
        return img;
    }

    private void truncate(Path f) throws IOException {
        byte[] b = Files.readAllBytes(f);
        Files.write(f, Arrays.copyOf(b, b.length * 2 / 3));
    }

    @Test
    void truncatedPngAndJpegAreRefusedNamingTheFile() throws IOException {
        for (String format : new String[] {"png", "jpg"}) {
            Path root = dir.resolve("ds");
            one("a", "0." + format, rgb(1), format);
            Path bad = one("a", "1." + format, rgb(2), format);
            truncate(bad);
            ImageFolder folder = ImageFolder.scan(root);
            InvalidInputException e = assertThrows(InvalidInputException.class,
                    () -> folder.readImages(0, 2, ByteBuffer.allocate(2 * 16 * 16 * 3), 3));
            assertTrue(e.getMessage().contains(bad.toString()), e.getMessage());
            ImageFolder.deleteTree(root);
        }
    }

    /** The folder's uint8 values are the pattern's values rounded half up, for 1 and 3 channels. */
    private void sameAsPattern(BufferedImage img) throws IOException {
        Path f = one("a", "x.png", img, "png");
        ImageFolder folder = ImageFolder.scan(dir.resolve("ds"));
        for (int c : new int[] {1, 3}) {
            float[] v = Images.readPng(f, c, Layout.NHWC).values();
            byte[] want = new byte[v.length];
            for (int i = 0; i < v.length; i++) {
                want[i] = (byte) (int) Math.floor(v[i] + 0.5);
            }
            ByteBuffer got = ByteBuffer.allocate(v.length);
            folder.readImages(0, 1, got, c);
            assertArrayEquals(want, got.array(), "channels " + c);
        }
        ImageFolder.deleteTree(dir.resolve("ds"));
    }

    @Test
    void sixteenBitGrayPaletteAndGrayAlphaMatchThePatternPath() throws IOException {
        BufferedImage g16 = new BufferedImage(9, 7, BufferedImage.TYPE_USHORT_GRAY);
        for (int i = 0; i < 63; i++) {
            g16.getRaster().setSample(i % 9, i / 9, 0, i * 1040 + 257 * (i % 3) + 128);
        }
        sameAsPattern(g16);
        byte[] r = {0, (byte) 200, 10, (byte) 255};
        byte[] g = {0, 100, (byte) 240, (byte) 255};
        byte[] b = {0, 50, 30, 0};
        BufferedImage pal = new BufferedImage(9, 7, BufferedImage.TYPE_BYTE_INDEXED,
                new IndexColorModel(2, 4, r, g, b));
        for (int i = 0; i < 63; i++) {
            pal.getRaster().setSample(i % 9, i / 9, 0, i % 4);
        }
        sameAsPattern(pal);
        BufferedImage ga = new java.awt.image.BufferedImage(
                new java.awt.image.ComponentColorModel(java.awt.color.ColorSpace.getInstance(
                        java.awt.color.ColorSpace.CS_GRAY), true, false, java.awt.Transparency.TRANSLUCENT,
                        java.awt.image.DataBuffer.TYPE_BYTE),
                java.awt.image.Raster.createInterleavedRaster(java.awt.image.DataBuffer.TYPE_BYTE, 9, 7, 2, null),
                false, null);
        for (int i = 0; i < 63; i++) {
            ga.getRaster().setSample(i % 9, i / 9, 0, i * 4);
            ga.getRaster().setSample(i % 9, i / 9, 1, 255 - i);
        }
        sameAsPattern(ga);
    }

    @Test
    void aHugeDeclaredSizeIsRefusedBeforeDecoding() throws IOException {
        // A PNG whose header declares 100000 x 100000 pixels and holds no image data.
        ByteArrayOutputStream png = new ByteArrayOutputStream();
        png.write(new byte[] {(byte) 0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n'});
        ByteBuffer ihdr = ByteBuffer.allocate(17).put("IHDR".getBytes(java.nio.charset.StandardCharsets.US_ASCII))
                .putInt(100_000).putInt(100_000).put((byte) 8).put((byte) 0).put((byte) 0).put((byte) 0).put((byte) 0);
        CRC32 crc = new CRC32();
        crc.update(ihdr.array());
        png.write(ByteBuffer.allocate(4).putInt(13).array());
        png.write(ihdr.array());
        png.write(ByteBuffer.allocate(4).putInt((int) crc.getValue()).array());
        for (String empty : new String[] {"IDAT", "IEND"}) {
            byte[] type = empty.getBytes(java.nio.charset.StandardCharsets.US_ASCII);
            CRC32 c = new CRC32();
            c.update(type);
            png.write(new byte[4]);
            png.write(type);
            png.write(ByteBuffer.allocate(4).putInt((int) c.getValue()).array());
        }
        Path f = Files.createDirectories(dir.resolve("ds").resolve("a")).resolve("huge.png");
        Files.write(f, png.toByteArray());
        // Refused from the header when the folder is listed, before any pixel buffer exists.
        InvalidInputException e = assertThrows(InvalidInputException.class, () -> ImageFolder.scan(dir.resolve("ds")));
        assertTrue(e.getMessage().contains(f.toString()) && e.getMessage().contains("100000x100000"), e.getMessage());
    }
}
