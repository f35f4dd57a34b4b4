package dev.dyepack.io;

import dev.dyepack.InvalidInputException;
import dev.dyepack.surrogate.LinearHead;
import java.io.IOException;
import java.io.InputStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.zip.ZipEntry;
import java.util.zip.ZipFile;

/**
 * {@code .npz} archives (a zip of {@code .npy} arrays, as {@code numpy.savez} writes): a linear head
 * from arrays {@code W} (C x D) and {@code b} (C), float32 or float64 (stored as float32).
 */
public final class Npz {
    private static final long MAX_ENTRY = 1L << 31;

    private Npz() {}

    /**
     * Reads a head.
     *
     * @param file the .npz
     * @return the head
     * @throws InvalidInputException if the file is not a zip, lacks W or b, or their dtypes or shapes are wrong
     */
    public static LinearHead readHead(Path file) {
        try (ZipFile zip = new ZipFile(file.toFile())) {
            float[][] w = new float[1][];
            long[] wShape = array(zip, file, "W", w);
            float[][] b = new float[1][];
            long[] bShape = array(zip, file, "b", b);
            if (wShape.length != 2 || bShape.length != 1 || wShape[0] != bShape[0]) {
                throw new InvalidInputException(file + ": W must be (C, D) and b (C,), got W " + Arrays.toString(wShape)
                        + " and b " + Arrays.toString(bShape));
            }
            if (wShape[0] < 2) {
                throw new InvalidInputException(file + ": the head has " + wShape[0] + " class(es); at least 2 needed");
            }
            return new LinearHead(w[0], b[0], (int) wShape[0], (int) wShape[1]);
        } catch (java.util.zip.ZipException e) {
            throw new InvalidInputException(file + ": not an .npz (zip) file: " + e.getMessage(), e);
        } catch (IOException e) {
            throw new InvalidInputException(file + ": cannot read: " + e, e);
        }
    }

    private static long[] array(ZipFile zip, Path file, String name, float[][] out) throws IOException {
        ZipEntry entry = zip.getEntry(name + ".npy");
        if (entry == null) {
            throw new InvalidInputException(file + ": no array '" + name + "' (expected " + name + ".npy in the .npz)");
        }
        if (entry.getSize() > MAX_ENTRY) {
            throw new InvalidInputException(file + ": array '" + name + "' is too large");
        }
        byte[] bytes;
        try (InputStream in = zip.getInputStream(entry)) {
            bytes = in.readNBytes((int) Math.min(MAX_ENTRY, Integer.MAX_VALUE - 8));
        }
        ByteBuffer buf = ByteBuffer.wrap(bytes).order(ByteOrder.LITTLE_ENDIAN);
        NpyHeader h;
        try {
            h = Npy.parseHeader(buf);
        } catch (InvalidInputException e) {
            throw new InvalidInputException(file + ": array '" + name + "': " + e.getMessage(), e);
        }
        boolean f64 = h.descr().equals("<f8");
        if (!f64 && !h.descr().equals("<f4")) {
            throw new InvalidInputException(file + ": array '" + name + "' must be float32 or float64, got " + h.descr());
        }
        long count = h.count();
        if (h.dataOffset() + h.dataBytes() != bytes.length) {
            throw new InvalidInputException(file + ": array '" + name + "' is truncated or has trailing bytes");
        }
        float[] values = new float[Math.toIntExact(count)];
        buf.position((int) h.dataOffset());
        for (int i = 0; i < values.length; i++) {
            values[i] = f64 ? (float) buf.getDouble() : buf.getFloat();
            if (!Float.isFinite(values[i])) {
                throw new InvalidInputException(file + ": array '" + name + "' holds a non-finite value at " + i);
            }
        }
        out[0] = values;
        return h.shape();
    }
}
