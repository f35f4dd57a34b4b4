package dev.dyepack.io;

import dev.dyepack.InvalidArgumentException;
import dev.dyepack.io.IdxReaderTest.Bytes;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.stream.Collectors;
import java.util.stream.Stream;
import java.util.zip.GZIPInputStream;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class IdxWriterTest {
    @TempDir
    Path dir;

    private List<String> names() throws IOException {
        try (Stream<Path> s = Files.list(dir)) {
            return s.map(p -> p.getFileName().toString()).sorted().collect(Collectors.toList());
        }
    }

    private static byte[] gunzip(byte[] gz) throws IOException {
        try (InputStream in = new GZIPInputStream(new ByteArrayInputStream(gz))) {
            return in.readAllBytes();
        }
    }

    private static void writeAndCommit(Path f, int type, long[] shape, boolean gzip, byte[] littleEndian)
            throws IOException {
        try (IdxWriter w = IdxWriter.create(f, type, shape, gzip)) {
            w.write(ByteBuffer.wrap(littleEndian));
            w.commit();
        }
    }

    @Test
    void storesInt32BigEndianWithTheIdxHeader() throws IOException {
        long[] values = {1, -2, 0x01020304, Integer.MIN_VALUE};
        Path f = dir.resolve("v-idx2-int");
        writeAndCommit(f, Idx.INT32, new long[] {2, 2}, false, Bytes.littleEndian(4, values));
        assertArrayEquals(Bytes.idx(Idx.INT32, new int[] {2, 2}, Bytes.bigEndian(4, values)), Files.readAllBytes(f));
    }

    @Test
    void gzipOutputIsTheSameFileCompressedAndReproducible() throws IOException {
        long[] values = {3, -4, 5};
        Path a = dir.resolve("a.gz");
        Path b = dir.resolve("b.gz");
        writeAndCommit(a, Idx.INT16, new long[] {3}, true, Bytes.littleEndian(2, values));
        writeAndCommit(b, Idx.INT16, new long[] {3}, true, Bytes.littleEndian(2, values));
        byte[] gz = Files.readAllBytes(a);
        assertEquals(0x1f, gz[0] & 0xff);
        assertEquals(0x8b, gz[1] & 0xff);
        assertArrayEquals(Bytes.idx(Idx.INT16, new int[] {3}, Bytes.bigEndian(2, values)), gunzip(gz));
        assertArrayEquals(gz, Files.readAllBytes(b));
    }

    @Test
    void everyTypeRoundTripsThroughTheReader() throws IOException {
        int[] types = {Idx.UINT8, Idx.INT8, Idx.INT16, Idx.INT32, Idx.FLOAT32, Idx.FLOAT64};
        for (int type : types) {
            for (boolean gzip : new boolean[] {false, true}) {
                int size = Idx.elementSize(type);
                long[] shape = {5, 3, 2};
                byte[] data = Bytes.counting(30 * size); // arbitrary bytes, NaN patterns included
                Path f = dir.resolve("rt-" + type + (gzip ? ".gz" : ""));
                try (IdxWriter w = IdxWriter.create(f, type, shape, gzip)) {
                    // In pieces from a direct buffer, each a whole number of elements.
                    ByteBuffer src = ByteBuffer.allocateDirect(data.length).put(data).flip();
                    ByteBuffer head = src.duplicate().limit(6 * size);
                    w.write(head);
                    assertEquals(6 * size, w.bytesWritten());
                    src.position(6 * size);
                    w.write(src);
                    assertEquals(0, src.remaining());
                    w.commit();
                }
                try (IdxReader r = IdxReader.open(f)) {
                    assertEquals(gzip, r.isGzip());
                    assertEquals(type, r.type());
                    assertArrayEquals(shape, r.shape());
                    ByteBuffer back = ByteBuffer.allocate(data.length);
                    r.readSamples(0, 5, back);
                    assertArrayEquals(data, back.array(), "type " + type + " gzip " + gzip);
                }
            }
        }
    }

    @Test
    void floatValuesSurviveTheRoundTrip() throws IOException {
        float[] values = {0.1f, -7.25f, Float.MAX_VALUE, Float.MIN_NORMAL};
        ByteBuffer src = ByteBuffer.allocate(16).order(ByteOrder.LITTLE_ENDIAN);
        for (float v : values) {
            src.putFloat(v);
        }
        Path f = dir.resolve("f");
        try (IdxWriter w = IdxWriter.create(f, Idx.FLOAT32, new long[] {4}, false)) {
            w.write(src.flip());
            w.commit();
        }
        ByteBuffer stored = ByteBuffer.wrap(Files.readAllBytes(f)).order(ByteOrder.BIG_ENDIAN);
        for (int i = 0; i < values.length; i++) {
            assertEquals(values[i], stored.getFloat(8 + 4 * i));
        }
    }

    @Test
    void theSourceBufferIsNotModified() throws IOException {
        byte[] data = Bytes.littleEndian(4, 1, 2);
        ByteBuffer src = ByteBuffer.wrap(data.clone());
        try (IdxWriter w = IdxWriter.create(dir.resolve("s"), Idx.INT32, new long[] {2}, false)) {
            w.write(src);
            w.commit();
        }
        assertArrayEquals(data, src.array());
    }

    @Test
    void nothingAppearsUnderTheFinalNameBeforeCommit() throws IOException {
        for (boolean gzip : new boolean[] {false, true}) {
            Path f = dir.resolve(gzip ? "final.gz" : "final");
            try (IdxWriter w = IdxWriter.create(f, Idx.UINT8, new long[] {4}, gzip)) {
                w.write(ByteBuffer.wrap(new byte[] {1, 2, 3, 4}));
                assertFalse(Files.exists(f));
                assertEquals(dir, w.tempPath().getParent());
                String temp = w.tempPath().getFileName().toString();
                assertTrue(temp.matches(java.util.regex.Pattern.quote("." + f.getFileName()) + "\\.dyepack-tmp-" + ProcessHandle.current().pid() + "-[0-9a-f]+"), temp);
                w.commit();
                assertTrue(Files.exists(f));
                assertFalse(Files.exists(w.tempPath()));
            }
        }
        assertEquals(List.of("final", "final.gz"), names());
    }

    @Test
    void closingWithoutCommitLeavesNothing() throws IOException {
        for (boolean gzip : new boolean[] {false, true}) {
            try (IdxWriter w = IdxWriter.create(dir.resolve("abandoned"), Idx.UINT8, new long[] {4}, gzip)) {
                w.write(ByteBuffer.wrap(new byte[] {1, 2}));
            }
        }
        assertEquals(List.of(), names());
    }

    @Test
    void aWrongByteCountFailsTheCommitAndLeavesNothing() throws IOException {
        Path f = dir.resolve("short");
        try (IdxWriter w = IdxWriter.create(f, Idx.UINT8, new long[] {4}, true)) {
            w.write(ByteBuffer.wrap(new byte[] {1, 2, 3}));
            IllegalStateException e = assertThrows(IllegalStateException.class, w::commit);
            assertTrue(e.getMessage().contains("3 data bytes were written but shape (4,) of uint8 needs 4"),
                    e.getMessage());
            assertThrows(IllegalStateException.class, () -> w.write(ByteBuffer.wrap(new byte[1])));
        }
        assertEquals(List.of(), names());
    }

    @Test
    void anExistingFileIsReplacedOnlyOnCommit() throws IOException {
        Path f = dir.resolve("old");
        Files.write(f, new byte[] {42});
        try (IdxWriter w = IdxWriter.create(f, Idx.UINT8, new long[] {1}, false)) {
            w.write(ByteBuffer.wrap(new byte[] {7}));
            assertArrayEquals(new byte[] {42}, Files.readAllBytes(f));
        }
        assertArrayEquals(new byte[] {42}, Files.readAllBytes(f));
        writeAndCommit(f, Idx.UINT8, new long[] {1}, false, new byte[] {7});
        assertArrayEquals(Bytes.idx(Idx.UINT8, new int[] {1}, new byte[] {7}), Files.readAllBytes(f));
    }

    @Test
    void refusesTooManyBytesAndPartialElements() throws IOException {
        try (IdxWriter w = IdxWriter.create(dir.resolve("x"), Idx.INT32, new long[] {2}, false)) {
            assertThrows(IllegalStateException.class, () -> w.write(ByteBuffer.allocate(12)));
            ByteBuffer partial = ByteBuffer.allocate(6);
            assertThrows(InvalidArgumentException.class, () -> w.write(partial));
            assertEquals(0, partial.position());
            assertThrows(InvalidArgumentException.class, () -> w.write(null));
            assertEquals(0, w.bytesWritten());
        }
        assertEquals(List.of(), names());
    }

    @Test
    void refusesShapesAndTypesIdxCannotHold() {
        Path f = dir.resolve("bad");
        assertThrows(InvalidArgumentException.class, () -> IdxWriter.create(f, 0x07, new long[] {1}, false));
        assertThrows(InvalidArgumentException.class, () -> IdxWriter.create(f, Idx.UINT8, new long[0], false));
        assertThrows(InvalidArgumentException.class, () -> IdxWriter.create(f, Idx.UINT8, new long[9], false));
        assertThrows(InvalidArgumentException.class, () -> IdxWriter.create(f, Idx.UINT8, new long[] {-1}, false));
        assertThrows(InvalidArgumentException.class, () -> IdxWriter.create(f, Idx.UINT8, new long[] {2, 0}, false));
        assertThrows(InvalidArgumentException.class,
                () -> IdxWriter.create(f, Idx.UINT8, new long[] {1L << 31}, false));
        assertThrows(InvalidArgumentException.class, () -> IdxWriter.create(null, Idx.UINT8, new long[] {1}, false));
        assertThrows(InvalidArgumentException.class, () -> IdxWriter.create(f, Idx.UINT8, null, false));
        long big = Integer.MAX_VALUE;
        assertThrows(InvalidArgumentException.class,
                () -> IdxWriter.create(f, Idx.FLOAT64, new long[] {big, big, big}, false));
        assertFalse(Files.exists(f));
    }

    @Test
    void zeroSamplesWriteAHeaderOnlyFile() throws IOException {
        Path f = dir.resolve("none");
        try (IdxWriter w = IdxWriter.create(f, Idx.UINT8, new long[] {0, 28, 28}, false)) {
            w.commit();
        }
        assertArrayEquals(Bytes.idx(Idx.UINT8, new int[] {0, 28, 28}, new byte[0]), Files.readAllBytes(f));
    }
}
