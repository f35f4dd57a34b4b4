package dev.dyepack.io;

import dev.dyepack.InvalidInputException;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class NpyTest {
    @TempDir
    Path dir;

    private Path file(String name, byte[] bytes) throws IOException {
        return NpyBytes.write(dir.resolve(name), bytes);
    }

    /** Reading must fail with InvalidInputException whose message names the file and every keyword. */
    private InvalidInputException assertRejected(byte[] bytes, String... keywords) throws IOException {
        Path f = file("bad.npy", bytes);
        InvalidInputException e = assertThrows(InvalidInputException.class, () -> Npy.readHeader(f));
        assertTrue(e.getMessage().contains(f.toString()), () -> "message lacks the file name: " + e.getMessage());
        for (String k : keywords) {
            assertTrue(e.getMessage().contains(k), () -> "message lacks '" + k + "': " + e.getMessage());
        }
        return e;
    }

    private InvalidInputException assertDictRejected(String dict, byte[] data, String... keywords) throws IOException {
        return assertRejected(NpyBytes.file(1, dict, data), keywords);
    }

    // ---- accepted headers ----

    @Test
    void readsVersion1Images() throws IOException {
        byte[] bytes = NpyBytes.v1("|u1", "(2, 3, 4)", NpyBytes.counting(24));
        NpyHeader h = Npy.readHeader(file("a.npy", bytes));
        assertEquals("|u1", h.descr());
        assertFalse(h.fortranOrder());
        assertArrayEquals(new long[] {2, 3, 4}, h.shape());
        assertEquals(bytes.length - 24, h.dataOffset());
        // 10-byte preamble + 62-character dict + newline = 73, padded to the next multiple of 64
        assertEquals(128, h.dataOffset());
        assertEquals(1, h.elementSize());
        assertEquals(24, h.dataBytes());
    }

    @Test
    void readsVersion2And3Headers() throws IOException {
        byte[] v2 = NpyBytes.file(2, NpyBytes.dict("<f4", "(2, 4, 4, 3)"), new byte[2 * 4 * 4 * 3 * 4]);
        NpyHeader h2 = Npy.readHeader(file("v2.npy", v2));
        assertArrayEquals(new long[] {2, 4, 4, 3}, h2.shape());
        assertEquals("<f4", h2.descr());
        assertEquals(128, h2.dataOffset()); // 12 + 65 + 1 = 78, padded
        assertEquals(4, h2.elementSize());

        byte[] v3 = NpyBytes.file(3, NpyBytes.dict("<i8", "(7,)"), new byte[56]);
        NpyHeader h3 = Npy.readHeader(file("v3.npy", v3));
        assertArrayEquals(new long[] {7}, h3.shape());
        assertEquals(8, h3.elementSize());
    }

    @Test
    void readsRank1ScalarAndEmptyShapes() throws IOException {
        assertArrayEquals(new long[] {5}, Npy.readHeader(file("r1.npy", NpyBytes.v1("|u1", "(5,)", new byte[5]))).shape());
        NpyHeader scalar = Npy.readHeader(file("r0.npy", NpyBytes.v1("<f4", "()", new byte[4])));
        assertEquals(0, scalar.rank());
        assertEquals(1, scalar.count());
        NpyHeader empty = Npy.readHeader(file("e.npy", NpyBytes.v1("<f4", "(0, 28, 28)", new byte[0])));
        assertEquals(0, empty.dataBytes());
    }

    @Test
    void acceptsKeysInAnyOrderDoubleQuotesAndPython2Longs() throws IOException {
        String dict = "{\"shape\": (2L, 3L), 'fortran_order': False, 'descr': \"<i2\"}";
        NpyHeader h = Npy.readHeader(file("py2.npy", NpyBytes.file(1, dict, new byte[12])));
        assertEquals("<i2", h.descr());
        assertArrayEquals(new long[] {2, 3}, h.shape());
    }

    @Test
    void acceptsAnUnalignedHeader() throws IOException {
        // Old NumPy versions aligned to 16 bytes; any length the field states is valid.
        byte[] header = (NpyBytes.dict("|u1", "(3,)") + "\n").getBytes(StandardCharsets.US_ASCII);
        byte[] bytes = NpyBytes.raw(1, 0, header, new byte[] {7, 8, 9});
        NpyHeader h = Npy.readHeader(file("u.npy", bytes));
        assertEquals(10 + header.length, h.dataOffset());
    }

    @Test
    void acceptsEverySupportedIntegerAndFloatDtype() throws IOException {
        String[] descrs = {"|u1", "<u1", "u1", "|i1", "<i1", "<u2", "<i2", "<u4", "<i4", "<u8", "<i8", "<f2", "<f4", "<f8"};
        for (String d : descrs) {
            int size = Integer.parseInt(d.substring(d.length() - 1));
            NpyHeader h = Npy.readHeader(file("d.npy", NpyBytes.v1(d, "(3,)", new byte[3 * size])));
            assertEquals(d, h.descr());
            assertEquals(size, h.elementSize(), d);
        }
    }

    @Test
    void parseHeaderReadsFromTheBufferPositionWithoutMovingIt() {
        byte[] bytes = NpyBytes.v1("<f4", "(2, 3)", new byte[24]);
        ByteBuffer b = ByteBuffer.allocate(bytes.length + 5);
        b.position(5);
        b.put(bytes);
        b.position(5);
        NpyHeader h = Npy.parseHeader(b);
        assertEquals(5, b.position());
        assertEquals(128, h.dataOffset()); // 10 + 59 + 1 = 70, padded
        assertArrayEquals(new long[] {2, 3}, h.shape());

        // The header alone suffices; the data need not be in the buffer.
        assertEquals(h, Npy.parseHeader(ByteBuffer.wrap(Arrays.copyOf(bytes, 128))));
        InvalidInputException e = assertThrows(InvalidInputException.class,
                () -> Npy.parseHeader(ByteBuffer.wrap(Arrays.copyOf(bytes, 100))));
        assertTrue(e.getMessage().contains("truncated header"), e.getMessage());
    }

    // ---- rejected files ----

    @Test
    void rejectsAFileWithoutTheMagic() throws IOException {
        byte[] zip = {'P', 'K', 3, 4, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0};
        assertRejected(zip, "not a .npy file");
        assertRejected(new byte[0], "not a .npy file");
        byte[] almost = NpyBytes.v1("|u1", "(1,)", new byte[1]);
        almost[3] = 'n';
        assertRejected(almost, "not a .npy file");
    }

    @Test
    void rejectsUnsupportedVersions() throws IOException {
        byte[] header = (NpyBytes.dict("|u1", "(1,)") + "\n").getBytes(StandardCharsets.US_ASCII);
        assertRejected(NpyBytes.raw(4, 0, header, new byte[1]), "unsupported", "version 4.0");
        assertRejected(NpyBytes.raw(1, 1, header, new byte[1]), "unsupported", "version 1.1");
        assertRejected(NpyBytes.raw(0, 0, header, new byte[1]), "unsupported", "version 0.0");
    }

    @Test
    void rejectsATruncatedHeader() throws IOException {
        byte[] full = NpyBytes.v1("<f4", "(2, 3)", new byte[24]);
        assertRejected(Arrays.copyOf(full, 4), "truncated header");
        assertRejected(Arrays.copyOf(full, 9), "truncated header"); // inside the length field
        assertRejected(Arrays.copyOf(full, 40), "truncated header"); // inside the dict
        byte[] v2 = NpyBytes.file(2, NpyBytes.dict("<f4", "(2, 3)"), new byte[24]);
        assertRejected(Arrays.copyOf(v2, 11), "truncated header");
    }

    @Test
    void rejectsMalformedDicts() throws IOException {
        byte[] six = new byte[6];
        assertDictRejected("{'descr': '|u1', 'fortran_order': False, 'shape': (6,), ", six, "malformed");
        assertDictRejected("['descr', '|u1']", six, "malformed");
        assertDictRejected("{'descr': '|u1' 'fortran_order': False, 'shape': (6,)}", six, "malformed");
        assertDictRejected("{'descr': '|u1', 'shape': (6,)}", six, "malformed", "fortran_order", "missing");
        assertDictRejected("{'descr': '|u1', 'fortran_order': False, 'shape': (6,), 'extra': 1}", six,
                "malformed", "extra");
        assertDictRejected("{'descr': '|u1', 'descr': '|u1', 'fortran_order': False, 'shape': (6,)}", six,
                "malformed", "duplicate");
        assertDictRejected("{'descr': '|u1', 'fortran_order': False, 'shape': [6]}", six, "malformed", "shape");
        assertDictRejected("{'descr': '|u1', 'fortran_order': False, 'shape': (6)}", six, "malformed", "shape");
        assertDictRejected("{'descr': '|u1', 'fortran_order': 0, 'shape': (6,)}", six, "malformed", "fortran_order");
        assertDictRejected("{'descr': '|u1', 'fortran_order': False, 'shape': ('6',)}", six, "malformed");
        assertDictRejected("{'descr': '|u1', 'fortran_order': False, 'shape': (6,)} junk", six, "malformed");
        assertDictRejected("{'descr': 'it\\'s', 'fortran_order': False, 'shape': (6,)}", six, "malformed");
        // Code is text to reject, never something to run.
        assertDictRejected("{'descr': __import__('os').system('false'), 'fortran_order': False, 'shape': (6,)}",
                six, "malformed");
        assertDictRejected("{'descr': '|u1', 'fortran_order': False, 'shape': (6,), 3: 4}", six, "malformed");
    }

    @Test
    void rejectsObjectArraysWithoutUnpickling() throws IOException {
        assertDictRejected(NpyBytes.dict("|O", "(2,)"), new byte[16],
                "object arrays are not supported (they would need unpickling)");
    }

    @Test
    void rejectsStructuredAndUnknownDtypes() throws IOException {
        assertDictRejected("{'descr': [('x', '<f4'), ('y', '<i4')], 'fortran_order': False, 'shape': (2,), }",
                new byte[16], "structured");
        for (String d : new String[] {"<c8", "|S10", "<U3", "<M8[ns]", "<f16", "<i3", "|V8", "float32"}) {
            InvalidInputException e = assertDictRejected(NpyBytes.dict(d, "(1,)"), new byte[16]);
            String m = e.getMessage();
            assertTrue(m.contains("unsupported dtype") || m.contains("structured"), m);
        }
    }

    @Test
    void rejectsBool() throws IOException {
        assertDictRejected(NpyBytes.dict("|b1", "(3,)"), new byte[3], "bool", "not supported");
    }

    @Test
    void rejectsBigEndianMultiByteDtypes() throws IOException {
        for (String d : new String[] {">f4", ">i8", ">u2", ">f8"}) {
            int size = Integer.parseInt(d.substring(2));
            assertDictRejected(NpyBytes.dict(d, "(2,)"), new byte[2 * size], "big-endian", d);
        }
        // No byte order stated for a multi-byte type is ambiguous in a file.
        assertDictRejected(NpyBytes.dict("f4", "(2,)"), new byte[8], "byte order");
    }

    @Test
    void rejectsFortranOrder() throws IOException {
        assertDictRejected("{'descr': '<f4', 'fortran_order': True, 'shape': (2, 3), }", new byte[24],
                "Fortran-order arrays are not supported; save with C order");
    }

    @Test
    void rejectsNegativeDimensions() throws IOException {
        assertDictRejected(NpyBytes.dict("|u1", "(-1, 3)"), new byte[0], "negative dimension");
    }

    @Test
    void rejectsSizeOverflow() throws IOException {
        assertDictRejected(NpyBytes.dict("<f4", "(9223372036854775807, 2)"), new byte[0], "size overflow");
        assertDictRejected(NpyBytes.dict("|u1", "(4294967296, 4294967296)"), new byte[0], "size overflow");
        assertDictRejected(NpyBytes.dict("|u1", "(99999999999999999999,)"), new byte[0], "size overflow");
    }

    @Test
    void rejectsDataShorterOrLongerThanTheHeaderSays() throws IOException {
        assertRejected(NpyBytes.v1("<f4", "(2, 3)", new byte[20]), "truncated",
                "header says shape (2, 3) of <f4 = 24 bytes but the file holds 20 bytes after the header");
        InvalidInputException longer = assertRejected(NpyBytes.v1("<f4", "(2, 3)", new byte[28]),
                "header says shape (2, 3) of <f4 = 24 bytes but the file holds 28 bytes after the header");
        assertFalse(longer.getMessage().contains("truncated"), longer.getMessage());
        assertRejected(NpyBytes.v1("|u1", "(1000, 28, 28)", new byte[0]), "truncated", "= 784000 bytes");
    }

    @Test
    void rejectsAMissingFile() {
        Path missing = dir.resolve("missing.npy");
        InvalidInputException e = assertThrows(InvalidInputException.class, () -> Npy.readHeader(missing));
        assertTrue(e.getMessage().contains(missing.toString()), e.getMessage());
    }

    // ---- readIntegers ----

    @Test
    void readIntegersWidensEveryIntegerDtype() throws IOException {
        long[] small = {0, 1, 127, 128, 255};
        assertArrayEquals(small, Npy.readIntegers(file("u1.npy", NpyBytes.v1("|u1", "(5,)", NpyBytes.littleEndian(1, small)))));
        assertArrayEquals(small, Npy.readIntegers(file("u1b.npy", NpyBytes.v1("<u1", "(5,)", NpyBytes.littleEndian(1, small)))));
        assertArrayEquals(new long[] {0, 1, 127, -128, -1},
                Npy.readIntegers(file("i1.npy", NpyBytes.v1("|i1", "(5,)", NpyBytes.littleEndian(1, small)))));
        assertArrayEquals(new long[] {0, 1, 127, -128, -1},
                Npy.readIntegers(file("i1b.npy", NpyBytes.v1("<i1", "(5,)", NpyBytes.littleEndian(1, small)))));

        long[] u2 = {0, 258, 65535};
        assertArrayEquals(u2, Npy.readIntegers(file("u2.npy", NpyBytes.v1("<u2", "(3,)", NpyBytes.littleEndian(2, u2)))));
        assertArrayEquals(new long[] {0, 258, -1},
                Npy.readIntegers(file("i2.npy", NpyBytes.v1("<i2", "(3,)", NpyBytes.littleEndian(2, u2)))));

        long[] u4 = {0, 16909060, 4294967295L};
        assertArrayEquals(u4, Npy.readIntegers(file("u4.npy", NpyBytes.v1("<u4", "(3,)", NpyBytes.littleEndian(4, u4)))));
        assertArrayEquals(new long[] {0, 16909060, -1},
                Npy.readIntegers(file("i4.npy", NpyBytes.v1("<i4", "(3,)", NpyBytes.littleEndian(4, u4)))));

        long[] i8 = {0, -5, Long.MAX_VALUE, Long.MIN_VALUE, 72623859790382856L};
        assertArrayEquals(i8, Npy.readIntegers(file("i8.npy", NpyBytes.v1("<i8", "(5,)", NpyBytes.littleEndian(8, i8)))));
        long[] u8 = {0, Long.MAX_VALUE};
        assertArrayEquals(u8, Npy.readIntegers(file("u8.npy", NpyBytes.v1("<u8", "(2,)", NpyBytes.littleEndian(8, u8)))));

        assertArrayEquals(new long[0], Npy.readIntegers(file("empty.npy", NpyBytes.v1("<i8", "(0,)", new byte[0]))));
    }

    @Test
    void readIntegersSpansItsInternalChunks() throws IOException {
        int n = 300_000; // more than one 1 MiB chunk of int64
        long[] expected = new long[n];
        for (int i = 0; i < n; i++) {
            expected[i] = (long) i * 7919 - 1_000_000;
        }
        Path f = file("big.npy", NpyBytes.v1("<i8", "(" + n + ",)", NpyBytes.littleEndian(8, expected)));
        assertArrayEquals(expected, Npy.readIntegers(f));
    }

    @Test
    void readIntegersRejectsUint64AboveLongMax() throws IOException {
        Path f = file("u8.npy", NpyBytes.v1("<u8", "(2,)", NpyBytes.littleEndian(8, 3, -1L)));
        InvalidInputException e = assertThrows(InvalidInputException.class, () -> Npy.readIntegers(f));
        assertTrue(e.getMessage().contains("18446744073709551615"), e.getMessage());
        assertTrue(e.getMessage().contains("position 1"), e.getMessage());
    }

    @Test
    void readIntegersRejectsFloatsAndOtherRanks() throws IOException {
        Path floats = file("f.npy", NpyBytes.v1("<f4", "(2,)", new byte[8]));
        InvalidInputException e1 = assertThrows(InvalidInputException.class, () -> Npy.readIntegers(floats));
        assertTrue(e1.getMessage().contains("integer") && e1.getMessage().contains("<f4"), e1.getMessage());

        Path matrix = file("m.npy", NpyBytes.v1("<i8", "(2, 2)", new byte[32]));
        InvalidInputException e2 = assertThrows(InvalidInputException.class, () -> Npy.readIntegers(matrix));
        assertTrue(e2.getMessage().contains("1-d") && e2.getMessage().contains("(2, 2)"), e2.getMessage());

        Path scalar = file("s.npy", NpyBytes.v1("<i8", "()", new byte[8]));
        assertThrows(InvalidInputException.class, () -> Npy.readIntegers(scalar));
    }

    // ---- NumPy cross-checks ----

    @ParameterizedTest
    @ValueSource(strings = {"(1, 0)", "(2, 0)", "(3, 0)"})
    void readsWhatNumPyWrites(String version) throws Exception {
        PythonNumPy.assumeAvailable();
        Path f = dir.resolve("np.npy");
        PythonNumPy.run("import sys, numpy as np\n"
                + "a = np.arange(2 * 3 * 4, dtype='<f4').reshape(2, 3, 4) * 0.5\n"
                + "with open(sys.argv[1], 'wb') as fh:\n"
                + "    np.lib.format.write_array(fh, a, version=" + version + ")\n", f.toString());
        NpyHeader h = Npy.readHeader(f);
        assertEquals("<f4", h.descr());
        assertArrayEquals(new long[] {2, 3, 4}, h.shape());
        try (NpyReader r = NpyReader.open(f)) {
            ByteBuffer b = ByteBuffer.allocate(96).order(ByteOrder.LITTLE_ENDIAN);
            r.readSamples(0, 2, b);
            b.flip();
            for (int i = 0; i < 24; i++) {
                assertEquals(i * 0.5f, b.getFloat(), "element " + i);
            }
        }
    }

    @Test
    void readsNumPyIntegerFilesOfEveryDtype() throws Exception {
        PythonNumPy.assumeAvailable();
        String[] dtypes = {"u1", "i1", "<u2", "<i2", "<u4", "<i4", "<u8", "<i8"};
        for (String d : dtypes) {
            Path f = dir.resolve("int.npy");
            PythonNumPy.run("import sys, numpy as np\n"
                    + "info = np.iinfo(np.dtype(sys.argv[2]))\n"
                    + "np.save(sys.argv[1], np.array([0, 1, info.max, info.min, 42], dtype=sys.argv[2]))\n",
                    f.toString(), d);
            int bits = Integer.parseInt(d.substring(d.length() - 1)) * 8;
            boolean unsigned = d.contains("u");
            long max = unsigned ? (bits == 64 ? -1 : (1L << bits) - 1) : (1L << (bits - 1)) - 1;
            long min = unsigned ? 0 : -(1L << (bits - 1));
            if (bits == 64 && unsigned) {
                // uint64 max is beyond a long and must be refused, naming the value.
                InvalidInputException e = assertThrows(InvalidInputException.class, () -> Npy.readIntegers(f));
                assertTrue(e.getMessage().contains("18446744073709551615"), e.getMessage());
            } else {
                assertArrayEquals(new long[] {0, 1, max, min, 42}, Npy.readIntegers(f), d);
            }
        }
    }
}
