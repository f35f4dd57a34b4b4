package dev.dyepack.io;

import dev.dyepack.InvalidArgumentException;
import dev.dyepack.InvalidInputException;
import dev.dyepack.io.IdxReaderTest.Bytes;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.io.InputStream;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.util.Arrays;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

class IdxTest {
    private static final Path DEBIAN = Paths.get("/usr/share/datasets/fashion-mnist");

    @TempDir
    Path dir;

    private Path write(String name, byte[] bytes) throws IOException {
        Path f = dir.resolve(name);
        Files.write(f, bytes);
        return f;
    }

    @Test
    void recognisesIdxFilesPlainAndCompressed() throws IOException {
        byte[] idx = Bytes.idx(Idx.UINT8, new int[] {2}, new byte[] {1, 2});
        assertTrue(Idx.isIdx(write("a", idx)));
        assertTrue(Idx.isIdx(write("b.txt", Bytes.gzip(idx))));
        // Only the start is looked at: a truncated file still starts like IDX.
        assertTrue(Idx.isIdx(write("c", Arrays.copyOf(idx, 4))));

        assertFalse(Idx.isIdx(write("npy", NpyBytes.v1("|u1", "(2,)", new byte[2]))));
        assertFalse(Idx.isIdx(write("text", "0,1,2\n".getBytes(StandardCharsets.US_ASCII))));
        assertFalse(Idx.isIdx(write("empty", new byte[0])));
        assertFalse(Idx.isIdx(write("short", new byte[] {0, 0, 8})));
        assertFalse(Idx.isIdx(write("gz-text", Bytes.gzip("hello".getBytes(StandardCharsets.US_ASCII)))));
        assertFalse(Idx.isIdx(write("type7", new byte[] {0, 0, 7, 1, 0, 0, 0, 0})));
        assertFalse(Idx.isIdx(write("rank0", new byte[] {0, 0, 8, 0})));
        assertFalse(Idx.isIdx(write("rank9", new byte[] {0, 0, 8, 9})));
        assertFalse(Idx.isIdx(write("gz-cut", new byte[] {0x1f, (byte) 0x8b})));

        assertThrows(InvalidInputException.class, () -> Idx.isIdx(dir.resolve("missing")));
        assertThrows(InvalidArgumentException.class, () -> Idx.isIdx(null));
    }

    @Test
    void readsLabelsOfEveryIntegerType() throws IOException {
        byte[] u8 = {0, 9, (byte) 255, (byte) 128};
        assertArrayEquals(new long[] {0, 9, 255, 128}, Idx.readLabels(write("u8", Bytes.idx(Idx.UINT8, new int[] {4}, u8))));
        assertArrayEquals(new long[] {0, 9, -1, -128}, Idx.readLabels(write("i8", Bytes.idx(Idx.INT8, new int[] {4}, u8))));
        long[] shorts = {-300, 300, Short.MAX_VALUE};
        assertArrayEquals(shorts, Idx.readLabels(write("i16.gz",
                Bytes.gzip(Bytes.idx(Idx.INT16, new int[] {3}, Bytes.bigEndian(2, shorts))))));
        long[] ints = {Integer.MIN_VALUE, 70000, 5};
        assertArrayEquals(ints, Idx.readLabels(write("i32", Bytes.idx(Idx.INT32, new int[] {3}, Bytes.bigEndian(4, ints)))));
        assertArrayEquals(new long[0], Idx.readLabels(write("none", Bytes.idx(Idx.UINT8, new int[] {0}, new byte[0]))));
    }

    @Test
    void readsLabelsLongerThanOneChunk() throws IOException {
        long[] values = new long[100_000];
        for (int i = 0; i < values.length; i++) {
            values[i] = (i * 7919L) % 60000 - 30000;
        }
        Path f = write("many", Bytes.idx(Idx.INT32, new int[] {values.length}, Bytes.bigEndian(4, values)));
        assertArrayEquals(values, Idx.readLabels(f));
    }

    @Test
    void labelsMustBeRank1Integers() throws IOException {
        Path images = write("img", Bytes.idx(Idx.UINT8, new int[] {2, 2}, new byte[4]));
        InvalidInputException rank = assertThrows(InvalidInputException.class, () -> Idx.readLabels(images));
        assertTrue(rank.getMessage().contains("rank-1") && rank.getMessage().contains("(2, 2)"), rank.getMessage());
        Path floats = write("f", Bytes.idx(Idx.FLOAT32, new int[] {1}, new byte[4]));
        InvalidInputException type = assertThrows(InvalidInputException.class, () -> Idx.readLabels(floats));
        assertTrue(type.getMessage().contains("float32"), type.getMessage());
    }

    @Test
    void mapsTypesToNpyDtypesAndSizes() {
        assertEquals("|u1", Idx.npyDescr(0x08));
        assertEquals("|i1", Idx.npyDescr(0x09));
        assertEquals("<i2", Idx.npyDescr(0x0B));
        assertEquals("<i4", Idx.npyDescr(0x0C));
        assertEquals("<f4", Idx.npyDescr(0x0D));
        assertEquals("<f8", Idx.npyDescr(0x0E));
        assertArrayEquals(new int[] {1, 1, 2, 4, 4, 8},
                new int[] {Idx.elementSize(0x08), Idx.elementSize(0x09), Idx.elementSize(0x0B),
                        Idx.elementSize(0x0C), Idx.elementSize(0x0D), Idx.elementSize(0x0E)});
        assertEquals("int16", Idx.typeName(Idx.INT16));
        assertEquals("float64", Idx.typeName(Idx.FLOAT64));
        assertThrows(InvalidArgumentException.class, () -> Idx.npyDescr(0x0A));
        assertThrows(InvalidArgumentException.class, () -> Idx.elementSize(0));
    }

    /** The embedded sample was cut from this file by a Python script, so the two must agree. */
    @Test
    void debianFashionMnistTestImagesMatchTheEmbeddedSample() throws IOException {
        Path images = DEBIAN.resolve("t10k-images-idx3-ubyte.gz");
        assumeTrue(Files.isRegularFile(images), images + " is not installed");
        assertTrue(Idx.isIdx(images));
        byte[] expected = embedded(true, 1000 * 784);
        try (IdxReader r = IdxReader.open(images)) {
            assertTrue(r.isGzip());
            assertEquals(Idx.UINT8, r.type());
            assertArrayEquals(new long[] {10000, 28, 28}, r.shape());
            ByteBuffer first = ByteBuffer.allocate(784);
            r.readSamples(0, 1, first);
            assertArrayEquals(Arrays.copyOf(expected, 784), first.array());
            ByteBuffer all = ByteBuffer.allocate(1000 * 784);
            r.readSamples(0, 1000, all);
            assertArrayEquals(expected, all.array());
        }
    }

    @Test
    void debianFashionMnistTestLabelsMatchTheEmbeddedSample() throws IOException {
        Path labels = DEBIAN.resolve("t10k-labels-idx1-ubyte.gz");
        assumeTrue(Files.isRegularFile(labels), labels + " is not installed");
        long[] all = Idx.readLabels(labels);
        assertEquals(10000, all.length);
        byte[] expected = embedded(false, 1000);
        for (int i = 0; i < 1000; i++) {
            assertEquals(expected[i] & 0xff, all[i], "label " + i);
        }
    }

    /** The first {@code n} data bytes of the embedded {@code .npy} sample, after its header. */
    private static byte[] embedded(boolean images, int n) throws IOException {
        try (InputStream in = images ? EmbeddedSample.openImages() : EmbeddedSample.openLabels()) {
            byte[] head = in.readNBytes(4096);
            NpyHeader h = Npy.parseHeader(ByteBuffer.wrap(head));
            byte[] rest = in.readNBytes(n);
            byte[] all = new byte[head.length + rest.length];
            System.arraycopy(head, 0, all, 0, head.length);
            System.arraycopy(rest, 0, all, head.length, rest.length);
            assertTrue(all.length >= h.dataOffset() + n);
            return Arrays.copyOfRange(all, (int) h.dataOffset(), (int) h.dataOffset() + n);
        }
    }
}
