package dev.dyepack.job;

import dev.dyepack.InvalidArgumentException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.Objects;

/**
 * Class labels a caller holds in a Java array, one per sample, as {@link Poisoner} reads and (for
 * dirty-label poisoning) rewrites them. The element type is part of the labels' fingerprint: uint8
 * ({@code byte[]}, read unsigned), int32 ({@code int[]}) or int64 ({@code long[]}), recorded as the
 * NumPy dtypes {@code |u1}, {@code <i4} and {@code <i8}. The array is the caller's, not a copy:
 * {@link Poisoner#poison} writes the target class into it. Not thread-safe.
 */
public final class LabelArray {
    private final Object array;
    private final String descr;
    private final int length;

    private LabelArray(Object array, String descr, int length) {
        this.array = array;
        this.descr = descr;
        this.length = length;
    }

    /**
     * @param labels one unsigned byte per sample (NumPy uint8)
     * @return the labels, backed by {@code labels}
     * @throws NullPointerException if {@code labels} is null
     */
    public static LabelArray uint8(byte[] labels) {
        return new LabelArray(Objects.requireNonNull(labels, "labels"), "|u1", labels.length);
    }

    /**
     * @param labels one int per sample (NumPy int32)
     * @return the labels, backed by {@code labels}
     * @throws NullPointerException if {@code labels} is null
     */
    public static LabelArray int32(int[] labels) {
        return new LabelArray(Objects.requireNonNull(labels, "labels"), "<i4", labels.length);
    }

    /**
     * @param labels one long per sample (NumPy int64)
     * @return the labels, backed by {@code labels}
     * @throws NullPointerException if {@code labels} is null
     */
    public static LabelArray int64(long[] labels) {
        return new LabelArray(Objects.requireNonNull(labels, "labels"), "<i8", labels.length);
    }

    /** @return the number of labels */
    public int length() {
        return length;
    }

    /** @return the NumPy dtype the fingerprint records: {@code |u1}, {@code <i4} or {@code <i8} */
    public String descr() {
        return descr;
    }

    /** @return a copy of the labels as longs (uint8 read unsigned) */
    public long[] values() {
        long[] out = new long[length];
        for (int i = 0; i < length; i++) {
            out[i] = get(i);
        }
        return out;
    }

    long get(int i) {
        if (array instanceof byte[] b) {
            return b[i] & 0xff;
        }
        return array instanceof int[] v ? v[i] : ((long[]) array)[i];
    }

    void set(int i, int value) {
        if (array instanceof byte[] b) {
            b[i] = (byte) value;
        } else if (array instanceof int[] v) {
            v[i] = value;
        } else {
            ((long[]) array)[i] = value;
        }
    }

    /** @return the largest class this dtype holds */
    long maxClass() {
        return switch (descr) {
            case "|u1" -> 255;
            case "<i4" -> Integer.MAX_VALUE;
            default -> Long.MAX_VALUE;
        };
    }

    /** The labels' bytes as a {@code .npy} file holds them (little-endian). */
    ByteBuffer littleEndianBytes() {
        ByteBuffer b = ByteBuffer.allocate(Math.multiplyExact(length, width())).order(ByteOrder.LITTLE_ENDIAN);
        if (array instanceof byte[] v) {
            b.put(v);
        } else if (array instanceof int[] v) {
            b.asIntBuffer().put(v);
        } else {
            b.asLongBuffer().put((long[]) array);
        }
        return b.clear();
    }

    private int width() {
        return switch (descr) {
            case "|u1" -> 1;
            case "<i4" -> 4;
            default -> 8;
        };
    }

    /**
     * Checks that every label is a class index in [0, max] for the dtype.
     *
     * @throws InvalidArgumentException naming the first negative label
     */
    void requireNonNegative() {
        for (int i = 0; i < length; i++) {
            if (get(i) < 0) {
                throw InvalidArgumentException.of("labels", "label " + get(i) + " of sample " + i,
                        "non-negative class indices");
            }
        }
    }
}
