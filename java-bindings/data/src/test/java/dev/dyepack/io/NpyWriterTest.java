package dev.dyepack.io;

import dev.dyepack.InvalidArgumentException;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.stream.Collectors;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class NpyWriterTest {
    @TempDir
    Path dir;

    private List<String> names() throws IOException {
        try (Stream<Path> s = Files.list(dir)) {
            return s.map(p -> p.getFileName().toString()).sorted().collect(Collectors.toList());
        }
    }

    private static ByteBuffer floats(float... values) {
        ByteBuffer b = ByteBuffer.allocate(values.length * 4).order(ByteOrder.LITTLE_ENDIAN);
        for (float v : values) {
            b.putFloat(v);
        }
        return b.flip();
    }

    @Test
    void writesTheHeaderNumPyWritesAlignedTo64() throws IOException {
        Path f = dir.resolve("x.npy");
        try (NpyWriter w = NpyWriter.create(f, "<f4", new long[] {2, 3})) {
            w.write(floats(1, 2, 3, 4, 5, 6));
            w.commit();
        }
        byte[] bytes = Files.readAllBytes(f);
        // NumPy's layout: 10 + 59-character dict + newline = 70, padded with spaces to 128
        assertEquals(128 + 24, bytes.length);
        assertEquals((byte) 0x93, bytes[0]);
        assertEquals("NUMPY", new String(bytes, 1, 5, StandardCharsets.US_ASCII));
        assertEquals(1, bytes[6]);
        assertEquals(0, bytes[7]);
        assertEquals(118, (bytes[8] & 0xff) | (bytes[9] & 0xff) << 8);
        String text = new String(bytes, 10, 118, StandardCharsets.US_ASCII);
        assertTrue(text.startsWith("{'descr': '<f4', 'fortran_order': False, 'shape': (2, 3), }"), text);
        assertTrue(text.endsWith(" \n"), text);
        assertEquals(3.0f, ByteBuffer.wrap(bytes).order(ByteOrder.LITTLE_ENDIAN).getFloat(128 + 8));
    }

    @Test
    void roundTripsThroughTheReader() throws IOException {
        long[][] shapes = {{5}, {3, 4, 4}, {2, 4, 4, 3}, {}, {0, 28, 28}};
        for (long[] shape : shapes) {
            Path f = dir.resolve("rt.npy");
            long count = 1;
            for (long d : shape) {
                count *= d;
            }
            byte[] data = NpyBytes.counting((int) count);
            try (NpyWriter w = NpyWriter.create(f, "|u1", shape)) {
                assertEquals(count, w.header().dataBytes());
                w.write(ByteBuffer.wrap(data));
                w.commit();
            }
            NpyHeader h = Npy.readHeader(f);
            assertArrayEquals(shape, h.shape());
            assertEquals(0, h.dataOffset() % 64);
            byte[] back = Files.readAllBytes(f);
            assertArrayEquals(data, java.util.Arrays.copyOfRange(back, (int) h.dataOffset(), back.length));
        }
    }

    @Test
    void writesInPiecesFromDirectBuffers() throws IOException {
        Path f = dir.resolve("pieces.npy");
        try (NpyWriter w = NpyWriter.create(f, "<i8", new long[] {4})) {
            ByteBuffer a = ByteBuffer.allocateDirect(16).order(ByteOrder.LITTLE_ENDIAN).putLong(-1).putLong(2).flip();
            w.write(a);
            assertEquals(0, a.remaining());
            assertEquals(16, w.bytesWritten());
            w.write(ByteBuffer.wrap(NpyBytes.littleEndian(8, 3, Long.MIN_VALUE)));
            w.commit();
        }
        assertArrayEquals(new long[] {-1, 2, 3, Long.MIN_VALUE}, Npy.readIntegers(f));
    }

    @Test
    void nothingAppearsUnderTheFinalNameBeforeCommit() throws IOException {
        Path f = dir.resolve("final.npy");
        try (NpyWriter w = NpyWriter.create(f, "|u1", new long[] {4})) {
            w.write(ByteBuffer.wrap(new byte[] {1, 2, 3, 4}));
            assertFalse(Files.exists(f));
            assertTrue(Files.exists(w.tempPath()));
            assertEquals(dir, w.tempPath().getParent());
            String temp = w.tempPath().getFileName().toString();
            assertTrue(temp.matches("\\.final\\.npy\\.dyepack-tmp-" + ProcessHandle.current().pid() + "-[0-9a-f]+"), temp);
            w.commit();
            assertTrue(Files.exists(f));
            assertFalse(Files.exists(w.tempPath()));
        }
        assertEquals(List.of("final.npy"), names());
    }

    @Test
    void closingWithoutCommitLeavesNothing() throws IOException {
        Path f = dir.resolve("abandoned.npy");
        try (NpyWriter w = NpyWriter.create(f, "|u1", new long[] {4})) {
            w.write(ByteBuffer.wrap(new byte[] {1, 2, 3, 4}));
        }
        assertEquals(List.of(), names());
    }

    @Test
    void anExceptionInsideTheTryLeavesNothing() throws IOException {
        Path f = dir.resolve("failed.npy");
        assertThrows(IllegalArgumentException.class, () -> {
            try (NpyWriter w = NpyWriter.create(f, "|u1", new long[] {4})) {
                w.write(ByteBuffer.wrap(new byte[] {1, 2}));
                throw new IllegalArgumentException("simulated failure while producing the data");
            }
        });
        assertEquals(List.of(), names());
    }

    @Test
    void committingTooFewBytesThrowsAndLeavesNothing() throws IOException {
        Path f = dir.resolve("short.npy");
        try (NpyWriter w = NpyWriter.create(f, "<f4", new long[] {2, 3})) {
            w.write(floats(1, 2, 3));
            IllegalStateException e = assertThrows(IllegalStateException.class, w::commit);
            assertTrue(e.getMessage().contains("12") && e.getMessage().contains("24"), e.getMessage());
            assertEquals(List.of(), names()); // already gone, before close
            assertThrows(IllegalStateException.class, () -> w.write(floats(1)));
        }
        assertEquals(List.of(), names());
    }

    @Test
    void writingPastTheDeclaredSizeIsRefused() throws IOException {
        Path f = dir.resolve("long.npy");
        try (NpyWriter w = NpyWriter.create(f, "|u1", new long[] {3})) {
            ByteBuffer four = ByteBuffer.wrap(new byte[] {1, 2, 3, 4});
            assertThrows(IllegalStateException.class, () -> w.write(four));
            assertEquals(0, four.position()); // nothing consumed
            w.write(four.limit(3));
            w.commit();
        }
        assertArrayEquals(new long[] {1, 2, 3}, Npy.readIntegers(f));
    }

    @Test
    void commitReplacesAnExistingFileOnlyAtCommit() throws IOException {
        Path f = dir.resolve("old.npy");
        Files.write(f, "previous contents".getBytes(StandardCharsets.US_ASCII));
        try (NpyWriter w = NpyWriter.create(f, "|u1", new long[] {1})) {
            w.write(ByteBuffer.wrap(new byte[] {42}));
            assertEquals("previous contents", Files.readString(f));
            w.commit();
        }
        assertArrayEquals(new long[] {42}, Npy.readIntegers(f));
        assertEquals(List.of("old.npy"), names());
    }

    @Test
    void commitTwiceOrAfterCloseIsAnError() throws IOException {
        Path f = dir.resolve("twice.npy");
        NpyWriter w = NpyWriter.create(f, "|u1", new long[] {1});
        w.write(ByteBuffer.wrap(new byte[] {1}));
        w.commit();
        assertThrows(IllegalStateException.class, w::commit);
        w.close(); // after commit: keeps the file
        assertTrue(Files.exists(f));

        NpyWriter closed = NpyWriter.create(dir.resolve("closed.npy"), "|u1", new long[] {0});
        closed.close();
        assertThrows(IllegalStateException.class, closed::commit);
        assertEquals(List.of("twice.npy"), names());
    }

    @Test
    void rejectsUnsupportedDtypesAndShapesBeforeTouchingTheDisk() throws IOException {
        Path f = dir.resolve("bad.npy");
        for (String d : new String[] {"|O", ">f4", "|b1", "<c8", "float32"}) {
            assertThrows(InvalidArgumentException.class, () -> NpyWriter.create(f, d, new long[] {1}), d);
        }
        assertThrows(InvalidArgumentException.class, () -> NpyWriter.create(f, null, new long[] {1}));
        assertThrows(InvalidArgumentException.class, () -> NpyWriter.create(f, "|u1", null));
        assertThrows(InvalidArgumentException.class, () -> NpyWriter.create(null, "|u1", new long[] {1}));
        assertThrows(InvalidArgumentException.class, () -> NpyWriter.create(f, "|u1", new long[] {-2}));
        assertThrows(InvalidArgumentException.class,
                () -> NpyWriter.create(f, "<f8", new long[] {1L << 40, 1L << 40}));
        assertEquals(List.of(), names());
    }

    @Test
    void missingDirectoryIsAnIOException() {
        assertThrows(IOException.class,
                () -> NpyWriter.create(dir.resolve("no/such/dir/x.npy"), "|u1", new long[] {1}));
    }

    // ---- NumPy cross-checks ----

    @Test
    void numPyLoadsWhatTheWriterWrites() throws Exception {
        PythonNumPy.assumeAvailable();
        Path f32 = dir.resolve("f32.npy");
        try (NpyWriter w = NpyWriter.create(f32, "<f4", new long[] {2, 2, 2, 1})) {
            w.write(floats(0.5f, -1f, 2.25f, 3f, 4f, 5f, 6f, 1e-3f));
            w.commit();
        }
        Path u8 = dir.resolve("u8.npy");
        try (NpyWriter w = NpyWriter.create(u8, "|u1", new long[] {2, 3})) {
            w.write(ByteBuffer.wrap(new byte[] {0, 1, 2, (byte) 253, (byte) 254, (byte) 255}));
            w.commit();
        }
        Path i8 = dir.resolve("i8.npy");
        try (NpyWriter w = NpyWriter.create(i8, "<i8", new long[] {3})) {
            w.write(ByteBuffer.wrap(NpyBytes.littleEndian(8, -7, 0, Long.MAX_VALUE)));
            w.commit();
        }
        Path scalar = dir.resolve("s.npy");
        try (NpyWriter w = NpyWriter.create(scalar, "<f4", new long[0])) {
            w.write(floats(7.5f));
            w.commit();
        }
        String out = PythonNumPy.run("import sys, numpy as np\n"
                + "for p in sys.argv[1:]:\n"
                + "    a = np.load(p, allow_pickle=False)\n"
                + "    print(a.dtype.str, a.shape, a.flags['C_CONTIGUOUS'], a.ravel().tolist())\n",
                f32.toString(), u8.toString(), i8.toString(), scalar.toString());
        assertEquals(String.join("\n",
                "<f4 (2, 2, 2, 1) True [0.5, -1.0, 2.25, 3.0, 4.0, 5.0, 6.0, 0.0010000000474974513]",
                "|u1 (2, 3) True [0, 1, 2, 253, 254, 255]",
                "<i8 (3,) True [-7, 0, 9223372036854775807]",
                "<f4 () True [7.5]"), out);
    }

    @Test
    void headerDictAndDataSizeMatchNumPys() throws Exception {
        PythonNumPy.assumeAvailable();
        // NumPy adds spare spaces for in-place growth; both must still be valid, 64-aligned v1 headers
        // whose dict text (before the padding) is identical.
        Path ours = dir.resolve("ours.npy");
        try (NpyWriter w = NpyWriter.create(ours, "<f4", new long[] {3, 28, 28})) {
            w.write(ByteBuffer.allocate(3 * 28 * 28 * 4));
            w.commit();
        }
        Path theirs = dir.resolve("theirs.npy");
        PythonNumPy.run("import sys, numpy as np\nnp.save(sys.argv[1], np.zeros((3, 28, 28), dtype='<f4'))\n",
                theirs.toString());
        String a = new String(Files.readAllBytes(ours), 10, 100, StandardCharsets.ISO_8859_1);
        String b = new String(Files.readAllBytes(theirs), 10, 100, StandardCharsets.ISO_8859_1);
        assertEquals(b.substring(0, b.indexOf('}') + 1), a.substring(0, a.indexOf('}') + 1));
        assertEquals(Files.size(theirs) - Npy.readHeader(theirs).dataOffset(),
                Files.size(ours) - Npy.readHeader(ours).dataOffset());
    }
}
