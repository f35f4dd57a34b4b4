package dev.dyepack.image;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.awt.image.BufferedImage;
import java.awt.image.IndexColorModel;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import java.util.zip.CRC32;
import java.util.zip.Inflater;
import javax.imageio.ImageIO;
import org.junit.jupiter.api.Test;

/**
 * The plain PNG writer ({@link PlainPng#reencode}) that stamped images of the commonest PNGs take: the
 * written file holds exactly the new samples (read back by ImageIO, an independent decoder), every chunk but
 * the image data is the source's, byte for byte and in its place, the image data is split as the source's
 * was, each row carries the filter PNG writers' usual heuristic picks (recomputed here from the
 * specification's formulas), and every file it must leave to ImageIO is declined.
 */
class PlainPngReencodeTest {
    private static final long NO_LIMIT = Long.MAX_VALUE;

    private record Chunk(String type, byte[] data) {}

    private static List<Chunk> chunks(byte[] png) {
        List<Chunk> out = new ArrayList<>();
        ByteBuffer b = ByteBuffer.wrap(png);
        b.position(8);
        while (b.remaining() >= 12) {
            int length = b.getInt();
            byte[] type = new byte[4];
            b.get(type);
            byte[] data = new byte[length];
            b.get(data);
            int crc = b.getInt();
            CRC32 want = new CRC32();
            want.update(type);
            want.update(data);
            assertEquals((int) want.getValue(), crc, "CRC of " + new String(type, StandardCharsets.US_ASCII));
            out.add(new Chunk(new String(type, StandardCharsets.US_ASCII), data));
        }
        assertEquals(0, b.remaining(), "nothing after IEND");
        return out;
    }

    /**
     * A source file: unfiltered rows of {@code px} (any valid file will do as a source), a tEXt and a pHYs
     * chunk before the image data, a tIME chunk after it, the image data in chunks of {@code split} bytes
     * (0: one chunk).
     */
    private static byte[] source(byte[] px, int w, int h, int bpp, int split) {
        ByteArrayOutputStream raw = new ByteArrayOutputStream();
        for (int y = 0; y < h; y++) {
            raw.write(0);
            raw.write(px, y * w * bpp, w * bpp);
        }
        byte[] stream = TestImages.zlib(raw.toByteArray(), 1);
        ByteArrayOutputStream file = new ByteArrayOutputStream();
        file.writeBytes(new byte[] {(byte) 0x89, 'P', 'N', 'G', 13, 10, 26, 10});
        TestImages.pngChunk(file, "IHDR", ByteBuffer.allocate(13).putInt(w).putInt(h)
                .put(new byte[] {8, (byte) (bpp == 1 ? 0 : 2), 0, 0, 0}).array());
        TestImages.pngChunk(file, "tEXt", "Comment\0owner's scan".getBytes(StandardCharsets.ISO_8859_1));
        TestImages.pngChunk(file, "pHYs", new byte[] {0, 0, 11, 19, 0, 0, 11, 19, 1});
        int step = split == 0 ? stream.length : split;
        for (int from = 0; from < stream.length; from += step) {
            TestImages.pngChunk(file, "IDAT", java.util.Arrays.copyOfRange(stream, from, Math.min(stream.length, from + step)));
        }
        TestImages.pngChunk(file, "tIME", new byte[] {7, (byte) 0xea, 11, 30, 12, 0, 0});
        TestImages.pngChunk(file, "IEND", new byte[0]);
        return file.toByteArray();
    }

    /** The filter PNG writers' heuristic picks for each row: the least sum of the filtered bytes as signed. */
    private static int[] expectedFilters(byte[] px, int w, int h, int bpp) {
        int stride = w * bpp;
        int[] chosen = new int[h];
        for (int y = 0; y < h; y++) {
            long best = Long.MAX_VALUE;
            for (int f = 0; f <= 4; f++) {
                long sum = 0;
                for (int x = 0; x < stride; x++) {
                    sum += Math.abs(TestImages.pngFiltered(px, stride, bpp, x, y, f));
                }
                if (sum < best) {
                    best = sum;
                    chosen[y] = f;
                }
            }
        }
        return chosen;
    }

    private static byte[] inflate(List<Chunk> chunks, int size) throws Exception {
        ByteArrayOutputStream z = new ByteArrayOutputStream();
        for (Chunk c : chunks) {
            if (c.type().equals("IDAT")) {
                z.writeBytes(c.data());
            }
        }
        Inflater inf = new Inflater();
        inf.setInput(z.toByteArray());
        byte[] out = new byte[size];
        int got = 0;
        while (got < size && !inf.finished()) {
            got += inf.inflate(out, got, size - got);
        }
        assertTrue(inf.finished() || inf.inflate(new byte[1]) == 0 && inf.finished(), "one zlib stream, whole");
        inf.end();
        assertEquals(size, got);
        return out;
    }

    private static byte[] readByImageIo(byte[] png, int w, int h) throws IOException {
        BufferedImage img = ImageIO.read(new ByteArrayInputStream(png));
        assertNotNull(img, "ImageIO reads the file");
        int[] got = img.getRaster().getPixels(0, 0, w, h, (int[]) null);
        byte[] b = new byte[got.length];
        for (int i = 0; i < got.length; i++) {
            b[i] = (byte) got[i];
        }
        return b;
    }

    @Test
    void theFileHoldsTheNewSamplesAndTheSourcesOtherChunks() throws Exception {
        SplittableRandom rng = new SplittableRandom(41);
        for (int bpp : new int[] {1, 3}) {
            for (int round = 0; round < 16; round++) {
                int w = 1 + rng.nextInt(48);
                int h = 1 + rng.nextInt(24);
                int stride = w * bpp;
                byte[] old = new byte[w * h * bpp];
                byte[] px = new byte[old.length];
                for (int i = 0; i < px.length; i++) {
                    old[i] = (byte) rng.nextInt(256);
                    // Smooth rows (Sub, Up, Average, Paeth win) and noisy ones (None wins), row by row.
                    int y = i / stride;
                    int x = i % stride;
                    px[i] = (byte) ((y + round) % 3 == 0 ? rng.nextInt(256) : 5 * x + 3 * y + rng.nextInt(3));
                }
                int split = round % 3 == 0 ? 0 : 7 + rng.nextInt(40);
                byte[] src = source(old, w, h, bpp, split);
                byte[] srcCopy = src.clone();
                byte[] pxCopy = px.clone();
                String what = w + "x" + h + "x" + bpp + ", IDAT split " + split;
                byte[] out = PlainPng.reencode(src, px, NO_LIMIT);
                assertNotNull(out, what);
                assertArrayEquals(srcCopy, src, "the source is not modified");
                assertArrayEquals(pxCopy, px, "the samples are not modified");
                assertArrayEquals(px, readByImageIo(out, w, h), what + ": the new samples, read by ImageIO");
                assertArrayEquals(px, PlainPng.decode(out, bpp, w, h, NO_LIMIT), what);

                List<Chunk> in = chunks(src);
                List<Chunk> got = chunks(out);
                List<String> inOthers = new ArrayList<>();
                List<String> gotOthers = new ArrayList<>();
                for (List<Chunk> l : List.of(in, got)) {
                    List<String> into = l == in ? inOthers : gotOthers;
                    boolean idatSeen = false;
                    for (Chunk c : l) {
                        if (c.type().equals("IDAT")) {
                            if (!idatSeen) {
                                into.add("IDAT");
                            }
                            idatSeen = true;
                        } else {
                            into.add(c.type() + ":" + java.util.HexFormat.of().formatHex(c.data()));
                        }
                    }
                }
                assertEquals(inOthers, gotOthers, what + ": every other chunk kept, in its place");
                List<Chunk> idats = got.stream().filter(c -> c.type().equals("IDAT")).toList();
                int sourceIdats = (int) in.stream().filter(c -> c.type().equals("IDAT")).count();
                int firstLength = in.stream().filter(c -> c.type().equals("IDAT")).findFirst().orElseThrow().data().length;
                for (int k = 0; k < idats.size(); k++) {
                    int len = idats.get(k).data().length;
                    if (sourceIdats == 1) {
                        assertEquals(1, idats.size(), what + ": one IDAT, as the source");
                    } else if (k < idats.size() - 1) {
                        assertEquals(firstLength, len, what + ": IDAT chunks as long as the source's first");
                    } else {
                        assertTrue(len >= 1 && len <= firstLength, what + ": the last IDAT chunk");
                    }
                }
                byte[] filtered = inflate(got, (stride + 1) * h);
                int[] filters = new int[h];
                for (int y = 0; y < h; y++) {
                    filters[y] = filtered[y * (stride + 1)];
                }
                assertArrayEquals(expectedFilters(px, w, h, bpp), filters, what + ": each row's filter");
            }
        }
    }

    @Test
    void whatItDoesNotTakeIsDeclined() throws IOException {
        byte[] px = new byte[5 * 5];
        byte[] gray = source(px, 5, 5, 1, 0);
        assertNotNull(PlainPng.reencode(gray, px, NO_LIMIT));
        assertNull(PlainPng.reencode(gray, new byte[5 * 5 * 3], NO_LIMIT), "samples of another channel count");
        assertNull(PlainPng.reencode(gray, new byte[24], NO_LIMIT), "too few samples");
        assertNull(PlainPng.reencode(gray, px, 24), "more pixels than allowed");
        byte[] badCrc = gray.clone();
        badCrc[8 + 8 + 13] ^= 1;
        assertNull(PlainPng.reencode(badCrc, px, NO_LIMIT), "a bad CRC");
        assertNull(PlainPng.reencode(java.util.Arrays.copyOf(gray, gray.length - 12), px, NO_LIMIT), "no IEND");

        byte[] grays = new byte[16];
        for (int i = 0; i < 16; i++) {
            grays[i] = (byte) (i * 17);
        }
        BufferedImage palette = new BufferedImage(5, 5, BufferedImage.TYPE_BYTE_INDEXED,
                new IndexColorModel(4, 16, grays, grays, grays));
        assertNull(PlainPng.reencode(png(palette), px, NO_LIMIT), "a palette image");
        assertNull(PlainPng.reencode(png(new BufferedImage(5, 5, BufferedImage.TYPE_INT_ARGB)), new byte[100], NO_LIMIT),
                "an image with alpha");
        assertNull(PlainPng.reencode(png(new BufferedImage(5, 5, BufferedImage.TYPE_USHORT_GRAY)), px, NO_LIMIT),
                "16-bit samples");
    }

    private static byte[] png(BufferedImage img) throws IOException {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        ImageIO.write(img, "png", out);
        return out.toByteArray();
    }
}
