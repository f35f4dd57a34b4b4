package dev.dyepack.io;

import dev.dyepack.InvalidArgumentException;
import dev.dyepack.InvalidInputException;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.zip.GZIPOutputStream;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class IdxReaderTest {
    @TempDir
    Path dir;

    /**
     * Builds IDX files byte by byte, independently of {@link IdxWriter}, so malformed files are as
     * easy to make as good ones.
     */
    static final class Bytes {
        private Bytes() {
        }

        /** {@code 00 00 type rank}, the dimensions as big-endian int32, then {@code data} as given. */
        static byte[] idx(int type, int[] dims, byte[] data) {
            ByteArrayOutputStream out = new ByteArrayOutputStream();
            out.write(0);
            out.write(0);
            out.write(type);
            out.write(dims.length);
            out.writeBytes(bigEndian(4, Arrays.stream(dims).asLongStream().toArray()));
            out.writeBytes(data);
            return out.toByteArray();
        }

        /** Big-endian encoding of longs in {@code size} bytes each (truncating). */
        static byte[] bigEndian(int size, long... values) {
            byte[] b = new byte[values.length * size];
            for (int v = 0; v < values.length; v++) {
                for (int i = 0; i < size; i++) {
                    b[v * size + i] = (byte) (values[v] >>> (8 * (size - 1 - i)));
                }
            }
            return b;
        }

        /** Little-endian encoding of longs in {@code size} bytes each (truncating). */
        static byte[] littleEndian(int size, long... values) {
            byte[] b = new byte[values.length * size];
            for (int v = 0; v < values.length; v++) {
                for (int i = 0; i < size; i++) {
                    b[v * size + i] = (byte) (values[v] >>> (8 * i));
                }
            }
            return b;
        }

        static byte[] gzip(byte[] plain) {
            ByteArrayOutputStream bytes = new ByteArrayOutputStream();
            try (GZIPOutputStream gz = new GZIPOutputStream(bytes)) {
                gz.write(plain);
            } catch (IOException e) {
                throw new AssertionError(e);
            }
            return bytes.toByteArray();
        }

        /** {@code 0, 1, 2, ...} modulo 256. */
        static byte[] counting(int n) {
            byte[] b = new byte[n];
            for (int i = 0; i < n; i++) {
                b[i] = (byte) i;
            }
            return b;
        }
    }

    private Path write(String name, byte[] bytes) throws IOException {
        Path f = dir.resolve(name);
        Files.write(f, bytes);
        return f;
    }

    /** Shape (10, 3, 4) uint8 whose data byte i is i mod 256, plain and gzip. */
    private Path[] images() throws IOException {
        byte[] plain = Bytes.idx(Idx.UINT8, new int[] {10, 3, 4}, Bytes.counting(120));
        return new Path[] {write("img-idx3-ubyte", plain), write("img-idx3-ubyte.gz", Bytes.gzip(plain))};
    }

    private static byte[] written(ByteBuffer b, int from, int to) {
        byte[] out = new byte[to - from];
        ByteBuffer d = b.duplicate();
        d.position(from);
        d.get(out);
        return out;
    }

    private InvalidInputException refused(String name, byte[] bytes) throws IOException {
        Path f = write(name, bytes);
        InvalidInputException e = assertThrows(InvalidInputException.class, () -> IdxReader.open(f).close());
        assertTrue(e.getMessage().startsWith(f.toString() + ": "), e.getMessage());
        return e;
    }

    @Test
    void reportsTypeShapeAndSampleSizeOfPlainAndGzipFiles() throws IOException {
        Path[] files = images();
        for (Path f : files) {
            try (IdxReader r = IdxReader.open(f)) {
                assertEquals(f.getFileName().toString().endsWith(".gz"), r.isGzip());
                assertEquals(Idx.UINT8, r.type());
                assertEquals("|u1", r.npyDescr());
                assertEquals(1, r.elementSize());
                assertArrayEquals(new long[] {10, 3, 4}, r.shape());
                assertEquals(10, r.samples());
                assertEquals(12, r.sampleBytes());
                assertEquals(120, r.dataBytes());
                assertEquals(f, r.file());
            }
        }
        Path floats = write("f", Bytes.idx(Idx.FLOAT64, new int[] {2, 5, 5, 3}, new byte[2 * 75 * 8]));
        try (IdxReader r = IdxReader.open(floats)) {
            assertEquals(2, r.samples());
            assertEquals(75 * 8, r.sampleBytes());
            assertEquals("<f8", r.npyDescr());
        }
    }

    @Test
    void gzipIsRecognisedByItsMagicNotByTheName() throws IOException {
        byte[] plain = Bytes.idx(Idx.UINT8, new int[] {3}, new byte[] {7, 8, 9});
        for (Path f : new Path[] {write("plain.gz", plain), write("compressed.idx", Bytes.gzip(plain))}) {
            try (IdxReader r = IdxReader.open(f)) {
                assertEquals(f.getFileName().toString().equals("compressed.idx"), r.isGzip());
                ByteBuffer dst = ByteBuffer.allocate(3);
                r.readSamples(0, 3, dst);
                assertArrayEquals(new byte[] {7, 8, 9}, dst.array());
            }
        }
    }

    @Test
    void readsSamplesAtOffsetsIntoHeapAndDirectBuffersInAnyOrder() throws IOException {
        byte[] expected = Bytes.counting(120);
        for (Path f : images()) {
            try (IdxReader r = IdxReader.open(f)) {
                // Forward, forward with a gap, then backwards (a gzip stream must start over).
                long[][] reads = {{0, 2}, {4, 3}, {9, 1}, {1, 2}, {0, 10}, {10, 0}, {5, 0}};
                for (long[] read : reads) {
                    for (ByteBuffer dst : new ByteBuffer[] {ByteBuffer.allocate(130), ByteBuffer.allocateDirect(130)}) {
                        int first = (int) read[0];
                        int count = (int) read[1];
                        dst.position(3); // written at the position, not at 0
                        r.readSamples(first, count, dst);
                        assertEquals(3 + 12 * count, dst.position(), f + " " + first + "+" + count);
                        assertArrayEquals(Arrays.copyOfRange(expected, 12 * first, 12 * (first + count)),
                                written(dst, 3, 3 + 12 * count), f + " " + first + "+" + count);
                    }
                }
            }
        }
    }

    @Test
    void int32ElementsComeOutLittleEndianWithTheirValues() throws IOException {
        long[] values = {1, -2, 0x01020304, Integer.MIN_VALUE, Integer.MAX_VALUE, 0};
        byte[] plain = Bytes.idx(Idx.INT32, new int[] {3, 2}, Bytes.bigEndian(4, values));
        for (Path f : new Path[] {write("i", plain), write("i.gz", Bytes.gzip(plain))}) {
            try (IdxReader r = IdxReader.open(f)) {
                assertEquals("<i4", r.npyDescr());
                assertEquals(8, r.sampleBytes());
                ByteBuffer dst = ByteBuffer.allocate(24);
                r.readSamples(0, 3, dst);
                // The bytes a little-endian .npy of dtype <i4 would hold.
                assertArrayEquals(Bytes.littleEndian(4, values), dst.array());
                dst.flip().order(ByteOrder.LITTLE_ENDIAN);
                for (long v : values) {
                    assertEquals((int) v, dst.getInt());
                }
                // A middle sample alone, into a big-endian-ordered direct buffer: order is irrelevant.
                ByteBuffer one = ByteBuffer.allocateDirect(8).order(ByteOrder.BIG_ENDIAN);
                r.readSamples(1, 1, one);
                assertEquals(0x01020304, one.order(ByteOrder.LITTLE_ENDIAN).getInt(0));
                assertEquals(Integer.MIN_VALUE, one.getInt(4));
            }
        }
    }

    @Test
    void float32ElementsComeOutLittleEndianBitForBit() throws IOException {
        float[] values = {1.5f, -0.0f, Float.MIN_VALUE, 3.4e38f, Float.NEGATIVE_INFINITY, -123.456f};
        long[] bits = new long[values.length];
        for (int i = 0; i < values.length; i++) {
            bits[i] = Float.floatToRawIntBits(values[i]);
        }
        byte[] plain = Bytes.idx(Idx.FLOAT32, new int[] {6}, Bytes.bigEndian(4, bits));
        for (Path f : new Path[] {write("f", plain), write("f.gz", Bytes.gzip(plain))}) {
            try (IdxReader r = IdxReader.open(f)) {
                assertEquals("<f4", r.npyDescr());
                ByteBuffer dst = ByteBuffer.allocate(24).order(ByteOrder.LITTLE_ENDIAN);
                r.readSamples(0, 6, dst);
                for (int i = 0; i < values.length; i++) {
                    assertEquals(Float.floatToRawIntBits(values[i]), Float.floatToRawIntBits(dst.getFloat(4 * i)));
                }
            }
        }
    }

    @Test
    void int8Int16AndFloat64ConvertToo() throws IOException {
        Path i8 = write("b", Bytes.idx(Idx.INT8, new int[] {3}, new byte[] {-1, 0, 127}));
        try (IdxReader r = IdxReader.open(i8)) {
            assertEquals("|i1", r.npyDescr());
            ByteBuffer dst = ByteBuffer.allocate(3);
            r.readSamples(0, 3, dst);
            assertArrayEquals(new byte[] {-1, 0, 127}, dst.array());
        }
        long[] shorts = {-2, 0x0102, Short.MIN_VALUE};
        Path i16 = write("s", Bytes.idx(Idx.INT16, new int[] {3}, Bytes.bigEndian(2, shorts)));
        try (IdxReader r = IdxReader.open(i16)) {
            assertEquals("<i2", r.npyDescr());
            ByteBuffer dst = ByteBuffer.allocate(6);
            r.readSamples(0, 3, dst);
            assertArrayEquals(Bytes.littleEndian(2, shorts), dst.array());
        }
        long[] doubles = {Double.doubleToRawLongBits(Math.PI), Double.doubleToRawLongBits(-1e-300)};
        Path f64 = write("d.gz", Bytes.gzip(Bytes.idx(Idx.FLOAT64, new int[] {2}, Bytes.bigEndian(8, doubles))));
        try (IdxReader r = IdxReader.open(f64)) {
            ByteBuffer dst = ByteBuffer.allocate(16).order(ByteOrder.LITTLE_ENDIAN);
            r.readSamples(0, 2, dst);
            assertEquals(Math.PI, dst.getDouble(0));
            assertEquals(-1e-300, dst.getDouble(8));
        }
    }

    @Test
    void zeroSamplesAreAllowed() throws IOException {
        byte[] plain = Bytes.idx(Idx.UINT8, new int[] {0, 28, 28}, new byte[0]);
        for (Path f : new Path[] {write("empty", plain), write("empty.gz", Bytes.gzip(plain))}) {
            try (IdxReader r = IdxReader.open(f)) {
                assertEquals(0, r.samples());
                assertEquals(784, r.sampleBytes());
                r.readSamples(0, 0, ByteBuffer.allocate(0));
            }
        }
    }

    @Test
    void refusesFilesThatAreNotIdx() throws IOException {
        assertTrue(refused("empty", new byte[0]).getMessage().contains("not an IDX file"));
        InvalidInputException text = refused("text", "hello world".getBytes(java.nio.charset.StandardCharsets.US_ASCII));
        assertTrue(text.getMessage().contains("not an IDX file (expected the magic 00 00 <type> <rank>, found 68 65 6c 6c)"),
                text.getMessage());
        InvalidInputException npy = refused("x.npy", NpyBytes.v1("|u1", "(2,)", new byte[2]));
        assertTrue(npy.getMessage().contains("not an IDX file") && npy.getMessage().contains(".npy"), npy.getMessage());
        InvalidInputException gzText = refused("text.gz", Bytes.gzip(new byte[] {1, 2, 3, 4, 5}));
        assertTrue(gzText.getMessage().contains("not an IDX file"), gzText.getMessage());
        assertTrue(refused("short", new byte[] {0, 0, 8}).getMessage().contains("truncated header"));
    }

    @Test
    void refusesUnknownTypesAndRanks() throws IOException {
        for (int type : new int[] {0x00, 0x07, 0x0A, 0x0F, 0xFF}) {
            InvalidInputException e = refused("t" + type, Bytes.idx(type, new int[] {1}, new byte[8]));
            assertTrue(e.getMessage().contains(String.format("unknown IDX element type 0x%02X", type)), e.getMessage());
        }
        InvalidInputException rank0 = refused("r0", new byte[] {0, 0, 8, 0});
        assertTrue(rank0.getMessage().contains("unsupported IDX rank 0"), rank0.getMessage());
        InvalidInputException rank9 = refused("r9", Bytes.idx(Idx.UINT8, new int[] {1, 1, 1, 1, 1, 1, 1, 1, 1}, new byte[1]));
        assertTrue(rank9.getMessage().contains("unsupported IDX rank 9"), rank9.getMessage());
        // Rank 8 is the limit and fine.
        try (IdxReader r = IdxReader.open(write("r8", Bytes.idx(Idx.UINT8, new int[] {2, 1, 1, 1, 1, 1, 1, 1}, new byte[2])))) {
            assertEquals(8, r.shape().length);
        }
        InvalidInputException cut = refused("cut", Arrays.copyOf(Bytes.idx(Idx.UINT8, new int[] {1, 2, 3}, new byte[6]), 10));
        assertTrue(cut.getMessage().contains("truncated header: rank 3 needs 16 header bytes but the file holds only 10"),
                cut.getMessage());
    }

    @Test
    void refusesNegativeZeroAndOverflowingDimensions() throws IOException {
        InvalidInputException negative = refused("neg", Bytes.idx(Idx.UINT8, new int[] {2, -1}, new byte[0]));
        assertTrue(negative.getMessage().contains("negative dimension -1 at axis 1"), negative.getMessage());
        InvalidInputException zero = refused("zero", Bytes.idx(Idx.UINT8, new int[] {2, 0, 3}, new byte[0]));
        assertTrue(zero.getMessage().contains("dimension 0 at axis 1"), zero.getMessage());
        int big = Integer.MAX_VALUE;
        InvalidInputException overflow = refused("huge", Bytes.idx(Idx.FLOAT64, new int[] {big, big, big}, new byte[0]));
        assertTrue(overflow.getMessage().contains("size overflow"), overflow.getMessage());
    }

    @Test
    void refusesAPlainFileOfTheWrongLength() throws IOException {
        byte[] good = Bytes.idx(Idx.UINT8, new int[] {10, 3, 4}, Bytes.counting(120));
        InvalidInputException shortFile = refused("short", Arrays.copyOf(good, good.length - 5));
        assertTrue(shortFile.getMessage().contains("truncated: header says 136 bytes (16-byte header + shape (10, 3, 4)"
                + " of uint8 = 120 data bytes), the file holds 131"), shortFile.getMessage());
        InvalidInputException longFile = refused("long", Arrays.copyOf(good, good.length + 1));
        assertTrue(longFile.getMessage().contains("the file holds 137 (trailing bytes)"), longFile.getMessage());
    }

    @Test
    void refusesTruncatedGzipBeforeAnyRead() throws IOException {
        byte[] plain = Bytes.idx(Idx.UINT8, new int[] {100, 28, 28}, Bytes.counting(78400));
        byte[] gz = Bytes.gzip(plain);
        // The compressed stream cut short: the deflate data or its trailer ends early.
        for (int keep : new int[] {gz.length / 2, gz.length - 4}) {
            InvalidInputException e = refused("cut" + keep + ".gz", Arrays.copyOf(gz, keep));
            assertTrue(e.getMessage().contains("truncated gzip stream"), e.getMessage());
        }
        // A complete gzip stream of a truncated IDX file.
        InvalidInputException inner = refused("inner.gz", Bytes.gzip(Arrays.copyOf(plain, plain.length - 784)));
        assertTrue(inner.getMessage().contains("truncated: header says 78416 bytes (16-byte header + shape (100, 28, 28)"
                + " of uint8 = 78400 data bytes), the decompressed gzip stream holds 77632"), inner.getMessage());
        InvalidInputException trailing = refused("trailing.gz", Bytes.gzip(Arrays.copyOf(plain, plain.length + 3)));
        assertTrue(trailing.getMessage().contains("(trailing bytes)"), trailing.getMessage());
    }

    @Test
    void refusesCorruptGzipBytes() throws IOException {
        byte[] plain = Bytes.idx(Idx.UINT8, new int[] {100, 28, 28}, Bytes.counting(78400));
        byte[] gz = Bytes.gzip(plain);
        // A flipped byte in the deflate data or in the CRC-32 of the trailer.
        for (int at : new int[] {gz.length / 2, gz.length - 6}) {
            byte[] bad = gz.clone();
            bad[at] ^= 0x5a;
            InvalidInputException e = refused("bad" + at + ".gz", bad);
            assertTrue(e.getMessage().contains("gzip stream"), e.getMessage());
        }
    }

    @Test
    void theInputFileIsNotModified() throws IOException {
        for (Path f : images()) {
            byte[] before = Files.readAllBytes(f);
            try (IdxReader r = IdxReader.open(f)) {
                r.readSamples(0, 10, ByteBuffer.allocate(120));
            }
            assertArrayEquals(before, Files.readAllBytes(f));
        }
    }

    @Test
    void aGzipFileReplacedAfterOpenIsNoticedWhenReadAgain() throws IOException {
        Path f = images()[1];
        try (IdxReader r = IdxReader.open(f)) {
            r.readSamples(5, 1, ByteBuffer.allocate(12));
            Files.write(f, Bytes.gzip(Bytes.idx(Idx.UINT8, new int[] {10, 4, 3}, Bytes.counting(120))));
            InvalidInputException e = assertThrows(InvalidInputException.class,
                    () -> r.readSamples(0, 1, ByteBuffer.allocate(12)));
            assertTrue(e.getMessage().contains("changed since it was opened"), e.getMessage());
        }
    }

    @Test
    void refusesBadArgumentsAndLeavesThePositionAlone() throws IOException {
        for (Path f : images()) {
            try (IdxReader r = IdxReader.open(f)) {
                ByteBuffer dst = ByteBuffer.allocate(24);
                assertThrows(InvalidArgumentException.class, () -> r.readSamples(-1, 1, dst));
                assertThrows(InvalidArgumentException.class, () -> r.readSamples(0, -1, dst));
                assertThrows(InvalidArgumentException.class, () -> r.readSamples(9, 2, dst));
                assertThrows(InvalidArgumentException.class, () -> r.readSamples(11, 0, dst));
                assertThrows(InvalidArgumentException.class, () -> r.readSamples(0, 3, dst));
                assertThrows(InvalidArgumentException.class, () -> r.readSamples(0, 1, null));
                assertThrows(InvalidArgumentException.class, () -> r.readSamples(0, 1, dst.asReadOnlyBuffer()));
                assertEquals(0, dst.position());
            }
        }
        assertThrows(InvalidArgumentException.class, () -> IdxReader.open(null));
        InvalidInputException missing = assertThrows(InvalidInputException.class,
                () -> IdxReader.open(dir.resolve("missing")));
        assertTrue(missing.getMessage().contains("missing"), missing.getMessage());
    }

    @Test
    void aClosedReaderRefusesToReadAndClosesTwiceQuietly() throws IOException {
        for (Path f : images()) {
            IdxReader r = IdxReader.open(f);
            r.readSamples(0, 1, ByteBuffer.allocate(12));
            r.close();
            r.close();
            assertThrows(IllegalStateException.class, () -> r.readSamples(0, 1, ByteBuffer.allocate(12)));
        }
    }

    @Test
    void theShapeIsACopy() throws IOException {
        try (IdxReader r = IdxReader.open(images()[0])) {
            r.shape()[0] = 99;
            assertEquals(10, r.shape()[0]);
            assertFalse(r.isGzip());
        }
    }
}
