package dev.dyepack.io;

import dev.dyepack.DType;
import dev.dyepack.InvalidArgumentException;
import dev.dyepack.InvalidInputException;

import java.util.Arrays;
import java.util.Objects;

/**
 * The header of a NumPy {@code .npy} file, as {@link Npy#readHeader} accepted it: a supported
 * little-endian (or single-byte) numeric dtype in C order with a non-negative shape whose byte size
 * fits in a {@code long}.
 *
 * <p>Immutable: the shape is copied on the way in and on the way out.
 *
 * @param descr        the dtype string exactly as in the file, e.g. {@code "|u1"}, {@code "<f4"},
 *                     {@code "<i8"}
 * @param fortranOrder whether the file declares Fortran (column-major) order; files read by
 *                     {@link Npy} always have {@code false}
 * @param shape        the array dimensions, outermost first; empty for a 0-d (scalar) array
 * @param dataOffset   bytes from the start of the file to the first data byte
 * @param elementSize  bytes per element, as given by {@code descr}
 */
public record NpyHeader(String descr, boolean fortranOrder, long[] shape, long dataOffset, int elementSize) {

    /**
     * Checks the components and copies the shape.
     *
     * @param descr        the dtype string as in the file
     * @param fortranOrder whether the file declares Fortran order
     * @param shape        the dimensions, outermost first (copied)
     * @param dataOffset   bytes from the start of the file to the data
     * @param elementSize  bytes per element
     * @throws InvalidArgumentException if {@code descr} or {@code shape} is null, a dimension is
     *                                  negative, {@code elementSize} is not positive,
     *                                  {@code dataOffset} is negative, or the data size or the end
     *                                  of the data overflows a {@code long}
     */
    public NpyHeader {
        if (descr == null) {
            throw new InvalidArgumentException("descr must not be null");
        }
        if (shape == null) {
            throw new InvalidArgumentException("shape must not be null");
        }
        if (elementSize <= 0) {
            throw new InvalidArgumentException("elementSize must be positive, got " + elementSize);
        }
        if (dataOffset < 0) {
            throw new InvalidArgumentException("dataOffset must be non-negative, got " + dataOffset);
        }
        shape = shape.clone();
        for (int i = 0; i < shape.length; i++) {
            if (shape[i] < 0) {
                throw new InvalidArgumentException(
                        "shape " + Arrays.toString(shape) + " has a negative dimension at axis " + i);
            }
        }
        // Every later size computation may then use plain arithmetic.
        if (byteSize(shape, elementSize) < 0 || byteSize(shape, elementSize) > Long.MAX_VALUE - dataOffset) {
            throw new InvalidArgumentException("shape " + Arrays.toString(shape) + " of " + descr
                    + " at offset " + dataOffset + " overflows a 64-bit size");
        }
    }

    /**
     * Product of the dimensions times {@code elementSize}, or -1 on overflow.
     */
    static long byteSize(long[] shape, int elementSize) {
        try {
            long n = 1;
            for (long d : shape) {
                n = Math.multiplyExact(n, d);
            }
            return Math.multiplyExact(n, (long) elementSize);
        } catch (ArithmeticException e) {
            return -1;
        }
    }

    /** @return a copy of the dimensions, outermost first */
    @Override
    public long[] shape() {
        return shape.clone();
    }

    /** @return the number of dimensions (0 for a scalar) */
    public int rank() {
        return shape.length;
    }

    /** @return the number of elements: the product of the shape, 1 for shape {@code ()} */
    public long count() {
        long n = 1;
        for (long d : shape) {
            n *= d;
        }
        return n;
    }

    /** @return {@code count() * elementSize()}: the bytes of data after the header */
    public long dataBytes() {
        return count() * elementSize;
    }

    /**
     * The image element type this dtype stands for.
     *
     * @return {@link DType#UINT8} for {@code |u1}, {@code <u1} or {@code u1} (or {@code >u1},
     *         {@code =u1}); {@link DType#FLOAT32} for {@code <f4}
     * @throws InvalidInputException for any other dtype, naming it
     */
    public DType imageDType() {
        return imageDType(descr);
    }

    /**
     * The image element type a NumPy dtype string stands for (also for IDX data, through its
     * {@code .npy} dtype).
     *
     * @param descr the dtype string
     * @return {@link DType#UINT8} for every spelling of uint8; {@link DType#FLOAT32} for {@code <f4}
     * @throws InvalidInputException for any other dtype, naming it
     */
    public static DType imageDType(String descr) {
        // Byte order is meaningless for one byte, so every spelling of uint8 counts.
        if (Npy.dtypeProblem(descr) == null && Npy.dtypeKind(descr) == 'u' && Npy.elementSize(descr) == 1) {
            return DType.UINT8;
        }
        if (descr.equals("<f4")) {
            return DType.FLOAT32;
        }
        throw new InvalidInputException("dtype '" + descr + "' (" + Npy.dtypeName(descr)
                + ") cannot hold images: images must be uint8 or float32");
    }

    /** @return whether the dtype is a signed or unsigned integer (kind {@code i} or {@code u}) */
    public boolean isInteger() {
        char kind = Npy.dtypeKind(descr);
        return kind == 'i' || kind == 'u';
    }

    /** @return the shape in Python tuple notation, e.g. {@code (3, 28, 28)}, {@code (5,)} or {@code ()} */
    public String shapeString() {
        return Npy.shapeString(shape);
    }

    /**
     * Compares all components, the shape by content.
     *
     * @param o the object to compare with
     * @return whether {@code o} is an equal header
     */
    @Override
    public boolean equals(Object o) {
        if (this == o) {
            return true;
        }
        if (!(o instanceof NpyHeader)) {
            return false;
        }
        NpyHeader h = (NpyHeader) o;
        return fortranOrder == h.fortranOrder && dataOffset == h.dataOffset && elementSize == h.elementSize
                && descr.equals(h.descr) && Arrays.equals(shape, h.shape);
    }

    /** @return a hash consistent with {@link #equals}, using the shape's content */
    @Override
    public int hashCode() {
        return Objects.hash(descr, fortranOrder, Arrays.hashCode(shape), dataOffset, elementSize);
    }

    /** @return the components, the shape by content */
    @Override
    public String toString() {
        return "NpyHeader[descr=" + descr + ", fortranOrder=" + fortranOrder + ", shape="
                + Arrays.toString(shape) + ", dataOffset=" + dataOffset + ", elementSize=" + elementSize + "]";
    }
}
