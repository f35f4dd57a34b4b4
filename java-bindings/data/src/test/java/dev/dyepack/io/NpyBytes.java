package dev.dyepack.io;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * Builds {@code .npy} files byte by byte for tests, independently of {@link NpyWriter}: the caller
 * gives the version and the exact header text, so malformed files can be made as easily as good ones.
 */
final class NpyBytes {
    private NpyBytes() {
    }

    /**
     * Magic, version {@code major.0}, the header length (u16 for v1, u32 otherwise), the dict text
     * padded with spaces and a newline to a 64-byte boundary, then {@code data}.
     */
    static byte[] file(int major, String dict, byte[] data) {
        int preamble = major == 1 ? 10 : 12;
        StringBuilder text = new StringBuilder(dict);
        while ((preamble + text.length() + 1) % 64 != 0) {
            text.append(' ');
        }
        text.append('\n');
        return raw(major, 0, text.toString().getBytes(StandardCharsets.UTF_8), data);
    }

    /** Version-1 file with the usual NumPy dict for {@code descr} and {@code shape}. */
    static byte[] v1(String descr, String shape, byte[] data) {
        return file(1, dict(descr, shape), data);
    }

    /** The dict {@code numpy.save} writes. */
    static String dict(String descr, String shape) {
        return "{'descr': '" + descr + "', 'fortran_order': False, 'shape': " + shape + ", }";
    }

    /** Exactly the given header bytes, with no padding added. */
    static byte[] raw(int major, int minor, byte[] header, byte[] data) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        out.write(0x93);
        out.writeBytes("NUMPY".getBytes(StandardCharsets.US_ASCII));
        out.write(major);
        out.write(minor);
        ByteBuffer len = ByteBuffer.allocate(major == 1 ? 2 : 4).order(ByteOrder.LITTLE_ENDIAN);
        if (major == 1) {
            len.putShort((short) header.length);
        } else {
            len.putInt(header.length);
        }
        out.writeBytes(len.array());
        out.writeBytes(header);
        out.writeBytes(data);
        return out.toByteArray();
    }

    /** {@code 0, 1, 2, ...} modulo 256. */
    static byte[] counting(int n) {
        byte[] b = new byte[n];
        for (int i = 0; i < n; i++) {
            b[i] = (byte) i;
        }
        return b;
    }

    /** Little-endian encoding of longs in {@code size} bytes each (truncating). */
    static byte[] littleEndian(int size, long... values) {
        ByteBuffer b = ByteBuffer.allocate(values.length * size).order(ByteOrder.LITTLE_ENDIAN);
        for (long v : values) {
            for (int i = 0; i < size; i++) {
                b.put((byte) (v >>> (8 * i)));
            }
        }
        return b.array();
    }

    static Path write(Path file, byte[] bytes) throws IOException {
        Files.write(file, bytes);
        return file;
    }
}
