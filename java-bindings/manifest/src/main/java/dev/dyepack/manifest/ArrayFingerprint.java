package dev.dyepack.manifest;

import dev.dyepack.InvalidArgumentException;
import dev.dyepack.io.NpyWriter;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.security.MessageDigest;
import java.util.Arrays;
import java.util.HexFormat;

/**
 * The SHA-256 fingerprint of an array held in memory, as a manifest records it for data that was
 * never a file. The bytes hashed are exactly those of the {@code .npy} file that {@code numpy.save}
 * (or DyePack's {@link NpyWriter}) writes for the array: the format-1.0 header for its dtype and
 * shape ({@link NpyWriter#headerBytes}), then every element in C (row-major) order, little-endian.
 * So {@code sha256sum arr.npy} of a file holding the same array, with the same dtype and shape, gives
 * the same hex digits, and {@link DatasetCheck} can compare such a file with the manifest.
 *
 * <p>Used as a stream: {@link #start} with the dtype and the whole array's shape, {@link #update}
 * with the elements in order (in any number of pieces), {@link #finish} once all of them came. Not
 * thread-safe.
 */
public final class ArrayFingerprint {
    private final MessageDigest digest = Fingerprints.newSha256();
    private final String descr;
    private final long[] shape;
    private final long expectedBytes;
    private long seen;
    private boolean finished;

    private ArrayFingerprint(String descr, long[] shape, long expectedBytes) {
        this.descr = descr;
        this.shape = shape;
        this.expectedBytes = expectedBytes;
        digest.update(NpyWriter.headerBytes(descr, shape));
    }

    /**
     * Starts the fingerprint of an array.
     *
     * @param descr the NumPy dtype: {@code "|u1"}, {@code "<i4"}, {@code "<i8"} or {@code "<f4"}
     * @param shape the whole array's dimensions, outermost first, each &gt;= 0
     * @return the fingerprint in progress
     * @throws InvalidArgumentException if the dtype is not one of those, or the shape is null, has a
     *                                  negative dimension or a size that overflows
     */
    public static ArrayFingerprint start(String descr, long... shape) {
        int width = switch (descr == null ? "" : descr) {
            case "|u1" -> 1;
            case "<i4", "<f4" -> 4;
            case "<i8" -> 8;
            default -> throw InvalidArgumentException.of("dtype", descr, "|u1, <i4, <i8 or <f4");
        };
        if (shape == null) {
            throw new InvalidArgumentException("an array's shape must not be null");
        }
        long bytes = width;
        for (long d : shape) {
            if (d < 0) {
                throw InvalidArgumentException.of("shape", Arrays.toString(shape), "dimensions >= 0");
            }
            try {
                bytes = Math.multiplyExact(bytes, d);
            } catch (ArithmeticException e) {
                throw InvalidArgumentException.of("shape", Arrays.toString(shape), "a size below 2^63 bytes");
            }
        }
        return new ArrayFingerprint(descr, shape.clone(), bytes);
    }

    /**
     * Adds the next elements, from the buffer's position to its limit, as little-endian bytes; the
     * buffer's position and limit are left as they were.
     *
     * @param elements the next bytes of the array (a byte buffer's own order is ignored: its bytes are
     *                 taken as they lie, so they must already be little-endian)
     * @return this
     * @throws InvalidArgumentException if more bytes come than the shape holds, or after {@link #finish}
     */
    public ArrayFingerprint update(ByteBuffer elements) {
        requireOpen();
        int n = elements.remaining();
        if (n > expectedBytes - seen) {
            throw new InvalidArgumentException("the array of shape " + Arrays.toString(shape) + " and dtype " + descr
                    + " holds " + expectedBytes + " bytes but " + (seen + n) + " were given");
        }
        digest.update(elements.duplicate());
        seen += n;
        return this;
    }

    /**
     * Adds float32 elements (written little-endian whatever the platform's order).
     *
     * @param values the elements
     * @param from   the first to add
     * @param count  how many
     * @return this
     * @throws InvalidArgumentException as {@link #update(ByteBuffer)}
     */
    public ArrayFingerprint update(float[] values, int from, int count) {
        ByteBuffer b = ByteBuffer.allocate(count * 4).order(ByteOrder.LITTLE_ENDIAN);
        b.asFloatBuffer().put(values, from, count);
        return update(b);
    }

    /**
     * @return the 64 lowercase hex digits of the SHA-256
     * @throws InvalidArgumentException if fewer bytes came than the shape holds, or it was finished before
     */
    public String finish() {
        requireOpen();
        if (seen != expectedBytes) {
            throw new InvalidArgumentException("the array of shape " + Arrays.toString(shape) + " and dtype " + descr
                    + " holds " + expectedBytes + " bytes but only " + seen + " were given");
        }
        finished = true;
        return HexFormat.of().formatHex(digest.digest());
    }

    /** @return the bytes added so far */
    public long bytesSeen() {
        return seen;
    }

    private void requireOpen() {
        if (finished) {
            throw new InvalidArgumentException("this fingerprint is finished");
        }
    }
}
