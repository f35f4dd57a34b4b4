package dev.dyepack;

import dev.dyepack.internal.RawPointer;
import java.nio.Buffer;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.FloatBuffer;
import java.nio.IntBuffer;
import java.util.Objects;
import org.bytedeco.javacpp.BytePointer;
import org.bytedeco.javacpp.FloatPointer;
import org.bytedeco.javacpp.IntPointer;
import org.bytedeco.javacpp.Pointer;

/**
 * A view of a batch of N images (C channels, H x W) in host or device memory, in a given
 * {@link Layout}. A tensor does not own its memory: it keeps the buffer it was made from reachable,
 * and operations change that memory in place. Immutable and thread-safe as a descriptor; the memory
 * it points to is the caller's to synchronise.
 *
 * <p>Host tensors are made from direct {@link ByteBuffer}s (uint8), direct native-order
 * {@link FloatBuffer}s (float32), or JavaCPP pointers. A host tensor always knows the extent of its
 * memory in bytes, never assumed: a buffer's remaining elements (which must be exactly the tensor), a
 * pointer's own limit or capacity, or an extent the caller gives
 * ({@link #ofHost(Pointer, long, DType, Layout, long, long, long, long)}, needed for an ND4J array's
 * {@code data().addressPointer()}, which knows none); the tensor must fit in it. A typed pointer's
 * element type must be the dtype's, and memory must be dense in the declared layout: a caller holding
 * strides has them checked ({@link #requireContiguous}). So a refused call has neither read nor
 * written anything.
 */
public final class Tensor {
    private final DType dtype;
    private final Layout layout;
    private final long n;
    private final long c;
    private final long h;
    private final long w;
    private final long address;
    private final boolean device;
    private final Object owner; // keeps the memory reachable while the tensor is

    private Tensor(DType dtype, Layout layout, long n, long c, long h, long w, long address, boolean device,
            Object owner) {
        this.dtype = dtype;
        this.layout = layout;
        checkShape(dtype, layout, n, c, h, w);
        if (n > 0 && address == 0) {
            throw new InvalidArgumentException("tensor data pointer is null but N=" + n, Parameters.MEMORY, "null",
                    "memory holding the tensor");
        }
        this.n = n;
        this.c = c;
        this.h = h;
        this.w = w;
        this.address = address;
        this.device = device;
        this.owner = owner;
    }

    /**
     * A uint8 batch over a direct byte buffer, from its position to its limit.
     *
     * @param data   a direct buffer holding exactly N*C*H*W bytes remaining
     * @param layout NHWC or NCHW
     * @param n      samples; c channels, h height, w width
     * @return the view
     * @throws InvalidArgumentException if the buffer is not direct or its size does not match
     */
    public static Tensor of(ByteBuffer data, Layout layout, long n, long c, long h, long w) {
        empty(DType.UINT8, layout, c, h, w); // dimensions first, then the buffer against them
        checkBuffer(data, n * c * h * w, "byte");
        return new Tensor(DType.UINT8, layout, n, c, h, w, RawPointer.addressOf(data, 1), false, data);
    }

    /**
     * A float32 batch over a direct float buffer in native byte order, from its position to its limit.
     *
     * @param data   a direct, native-order buffer holding exactly N*C*H*W floats remaining
     * @param layout NHWC or NCHW
     * @param n      samples; c channels, h height, w width
     * @return the view
     * @throws InvalidArgumentException if the buffer is not direct, not native order, or its size does not match
     */
    public static Tensor of(FloatBuffer data, Layout layout, long n, long c, long h, long w) {
        empty(DType.FLOAT32, layout, c, h, w);
        checkBuffer(data, n * c * h * w, "float");
        if (data.order() != ByteOrder.nativeOrder()) {
            throw new InvalidArgumentException("float buffer must be in native byte order (" + ByteOrder.nativeOrder()
                    + "), got " + data.order() + "; create it with ByteBuffer.allocateDirect(..).order(ByteOrder.nativeOrder())");
        }
        return new Tensor(DType.FLOAT32, layout, n, c, h, w, RawPointer.addressOf(data, 4), false, data);
    }

    /**
     * Token sequences: N int32 sequences of one length, over a direct native-order int buffer.
     *
     * @param data   a direct, native-order buffer holding exactly N*length ints remaining
     * @param n      sequences
     * @param length tokens per sequence
     * @return the view (C = H = 1, W = length)
     * @throws InvalidArgumentException if the buffer is not direct, not native order, or its size does not match
     */
    public static Tensor sequences(IntBuffer data, long n, long length) {
        empty(DType.INT32, Layout.NHWC, 1, 1, length);
        checkBuffer(data, n * length, "int");
        if (data.order() != ByteOrder.nativeOrder()) {
            throw new InvalidArgumentException("int buffer must be in native byte order (" + ByteOrder.nativeOrder()
                    + "), got " + data.order());
        }
        return new Tensor(DType.INT32, Layout.NHWC, n, 1, 1, length, RawPointer.addressOf(data, 4), false, data);
    }

    /**
     * Tabular rows: N float32 rows of one width, over a direct native-order float buffer.
     *
     * @param data  a direct, native-order buffer holding exactly N*width floats remaining
     * @param n     rows
     * @param width features per row
     * @return the view (C = H = 1, W = width)
     * @throws InvalidArgumentException if the buffer is not direct, not native order, or its size does not match
     */
    public static Tensor rows(FloatBuffer data, long n, long width) {
        return of(data, Layout.NHWC, n, 1, 1, width);
    }

    /**
     * A batch over host memory behind a JavaCPP pointer that knows its extent, starting at its
     * position. Pointers made by JavaCPP allocations ({@code new FloatPointer(n)}), from direct buffers,
     * or given a {@code capacity(...)} or {@code limit(...)} know it; ND4J's
     * {@code data().addressPointer()} does not (its limit and capacity are 0): use
     * {@link #ofHost(Pointer, long, DType, Layout, long, long, long, long)} and give the extent. A typed
     * pointer must hold the dtype's elements ({@code BytePointer} for uint8, {@code FloatPointer} for
     * float32, {@code IntPointer} for int32); a plain {@code Pointer} counts its position, limit and
     * capacity in bytes and may carry any dtype. The memory must be dense in {@code layout}; callers that
     * hold strides use {@link #ofHost(Pointer, DType, Layout, long, long, long, long, long[])}. The pointer
     * is kept reachable while the tensor is. For direct NIO buffers use {@link #of(FloatBuffer, Layout,
     * long, long, long, long)} and its kin, which read the buffer's position themselves: a typed JavaCPP
     * pointer made from a typed buffer with a non-zero position does not point at that position.
     *
     * @param data   host memory holding at least N*C*H*W elements of {@code dtype} from its position
     * @param dtype  element type
     * @param layout NHWC or NCHW
     * @param n      samples; c channels, h height, w width
     * @return the view
     * @throws InvalidArgumentException if the shape is invalid, the pointer is null for N &gt; 0, its
     *                                  element type does not match {@code dtype}, it does not know its
     *                                  extent (for N &gt; 0), or that extent is smaller than the tensor
     */
    public static Tensor ofHost(Pointer data, DType dtype, Layout layout, long n, long c, long h, long w) {
        Objects.requireNonNull(data, "data");
        long needed = checkShape(dtype, layout, n, c, h, w);
        checkElementType(data, dtype);
        long extent = knownExtent(data);
        if (extent < 0) {
            if (needed > 0) {
                throw InvalidArgumentException.about(Parameters.EXTENT_BYTES, null, "the " + pointerName(data)
                        + " does not know the extent of its memory (its limit and capacity are 0, as for ND4J's"
                        + " data().addressPointer()), so the " + needed + " bytes of " + describe(dtype, layout, n, c,
                        h, w) + " cannot be checked against it; give the extent in bytes explicitly with"
                        + " Tensor.ofHost(pointer, extentBytes, ...), or set the pointer's capacity(...)");
            }
            extent = 0;
        }
        return host(data, extent, dtype, layout, n, c, h, w);
    }

    /**
     * A batch over host memory behind a JavaCPP pointer, with the extent of that memory given by the
     * caller: the bytes that may be read and written from the pointer's position (for an ND4J array,
     * {@code length() * dataType().width()} for a dense array viewed from its first element). When the
     * pointer knows its own extent as well, the given one may not exceed it. Element type and density
     * rules are those of {@link #ofHost(Pointer, DType, Layout, long, long, long, long)}.
     *
     * @param data        host memory, from its position
     * @param extentBytes bytes available from the pointer's position, &gt;= 0
     * @param dtype       element type
     * @param layout      NHWC or NCHW
     * @param n           samples; c channels, h height, w width
     * @return the view
     * @throws InvalidArgumentException if the shape is invalid, the pointer is null for N &gt; 0, its
     *                                  element type does not match {@code dtype}, the extent is negative or
     *                                  larger than the pointer's own, or smaller than the tensor
     */
    public static Tensor ofHost(Pointer data, long extentBytes, DType dtype, Layout layout, long n, long c, long h,
            long w) {
        Objects.requireNonNull(data, "data");
        checkShape(dtype, layout, n, c, h, w);
        checkElementType(data, dtype);
        if (extentBytes < 0) {
            throw InvalidArgumentException.of(Parameters.EXTENT_BYTES, extentBytes, ">= 0");
        }
        long known = knownExtent(data);
        if (known >= 0 && extentBytes > known) {
            throw new InvalidArgumentException("the extent given, " + extentBytes + " bytes, is larger than the "
                    + known + " bytes the " + pointerName(data) + " holds from its position",
                    Parameters.EXTENT_BYTES, extentBytes, "at most " + known);
        }
        return host(data, extentBytes, dtype, layout, n, c, h, w);
    }

    /**
     * A batch over host memory at a raw address with the extent given by the caller (for callers that
     * hold an address as a number, e.g. ND4J's {@code data().address()} plus the view's offset in bytes).
     * Nothing keeps that memory alive: it must outlive every use of the tensor.
     *
     * @param address     the absolute address of the first element
     * @param extentBytes bytes available from {@code address}, &gt;= 0
     * @param dtype       element type
     * @param layout      NHWC or NCHW
     * @param n           samples; c channels, h height, w width
     * @return the view
     * @throws InvalidArgumentException if the shape is invalid, the address is 0 for N &gt; 0, or the
     *                                  extent is negative or smaller than the tensor
     */
    public static Tensor ofHost(long address, long extentBytes, DType dtype, Layout layout, long n, long c, long h,
            long w) {
        long needed = checkShape(dtype, layout, n, c, h, w);
        if (extentBytes < 0) {
            throw InvalidArgumentException.of(Parameters.EXTENT_BYTES, extentBytes, ">= 0");
        }
        checkCovers(extentBytes, needed, "memory at the address", dtype, layout, n, c, h, w);
        return new Tensor(dtype, layout, n, c, h, w, address, false, null);
    }

    /**
     * As {@link #ofHost(Pointer, DType, Layout, long, long, long, long)}, for callers that hold the
     * memory's strides (an ND4J array's {@code stride()}, a NumPy-style view): the strides must be the
     * contiguous ones of {@code layout}, see {@link #requireContiguous}.
     *
     * @param data              host memory that knows its extent, from its position
     * @param dtype             element type
     * @param layout            NHWC or NCHW
     * @param n                 samples; c channels, h height, w width
     * @param stridesInElements the step of each axis in elements, in the layout's axis order
     * @return the view
     * @throws InvalidArgumentException as for the overload without strides, and if the strides are not
     *                                  the contiguous ones of {@code layout}
     */
    public static Tensor ofHost(Pointer data, DType dtype, Layout layout, long n, long c, long h, long w,
            long[] stridesInElements) {
        checkShape(dtype, layout, n, c, h, w);
        requireContiguous(layout, n, c, h, w, stridesInElements);
        return ofHost(data, dtype, layout, n, c, h, w);
    }

    /**
     * As {@link #ofHost(Pointer, long, DType, Layout, long, long, long, long)}, for callers that hold the
     * memory's strides; see {@link #requireContiguous}.
     *
     * @param data              host memory, from its position
     * @param extentBytes       bytes available from the pointer's position, &gt;= 0
     * @param dtype             element type
     * @param layout            NHWC or NCHW
     * @param n                 samples; c channels, h height, w width
     * @param stridesInElements the step of each axis in elements, in the layout's axis order
     * @return the view
     * @throws InvalidArgumentException as for the overload without strides, and if the strides are not
     *                                  the contiguous ones of {@code layout}
     */
    public static Tensor ofHost(Pointer data, long extentBytes, DType dtype, Layout layout, long n, long c, long h,
            long w, long[] stridesInElements) {
        checkShape(dtype, layout, n, c, h, w);
        requireContiguous(layout, n, c, h, w, stridesInElements);
        return ofHost(data, extentBytes, dtype, layout, n, c, h, w);
    }

    /**
     * Checks that memory with the given strides is dense in {@code layout}, which is the only
     * arrangement the engine reads and writes. The strides are in elements, one per axis in the layout's
     * order: (N, H, W, C) for NHWC, (N, C, H, W) for NCHW; or two, (N, W), for rows and sequences
     * (C = H = 1). An axis of extent 1 is never stepped, so its stride is not checked. Views with gaps
     * (sub-arrays, steps), broadcast (stride 0) or reversed (negative) axes, column-major ('f' order)
     * arrays and arrays in the other layout are refused, with the way to make them contiguous.
     *
     * @param layout            NHWC or NCHW
     * @param n                 samples; c channels, h height, w width
     * @param c                 channels
     * @param h                 height
     * @param w                 width
     * @param stridesInElements the strides, in elements
     * @throws InvalidArgumentException if the strides are not the contiguous ones, or not 4 (or 2 for
     *                                  C = H = 1) values
     */
    public static void requireContiguous(Layout layout, long n, long c, long h, long w, long[] stridesInElements) {
        Objects.requireNonNull(layout, "layout");
        Objects.requireNonNull(stridesInElements, "stridesInElements");
        boolean flat = stridesInElements.length == 2 && c == 1 && h == 1;
        if (stridesInElements.length != 4 && !flat) {
            throw new InvalidArgumentException("strides must be 4 values, one per axis in " + axes(layout, false)
                    + " order (or 2, for (N, W) when C = H = 1), got " + stridesInElements.length,
                    Parameters.STRIDES, stridesInElements, "4 values");
        }
        long[] extents = flat ? new long[] {n, w}
                : layout == Layout.NHWC ? new long[] {n, h, w, c} : new long[] {n, c, h, w};
        long[] dense = new long[extents.length];
        long step = 1;
        for (int i = extents.length - 1; i >= 0; i--) {
            dense[i] = step;
            step *= Math.max(extents[i], 1);
        }
        if (matches(stridesInElements, dense, extents)) {
            return;
        }
        String axes = axes(layout, flat);
        StringBuilder m = new StringBuilder("strides ").append(java.util.Arrays.toString(stridesInElements))
                .append(" (in elements, axes ").append(axes).append(") are not the contiguous ")
                .append(flat ? "row-major" : layout.toString()).append(" strides ")
                .append(java.util.Arrays.toString(dense)).append(": ");
        long[] columnMajor = new long[extents.length];
        step = 1;
        for (int i = 0; i < extents.length; i++) {
            columnMajor[i] = step;
            step *= Math.max(extents[i], 1);
        }
        Layout other = layout == Layout.NHWC ? Layout.NCHW : Layout.NHWC;
        if (!flat && matches(stridesInElements, otherLayoutStrides(layout, n, c, h, w), extents)) {
            m.append("they describe dense ").append(other).append(" memory; declare Layout.").append(other)
                    .append(" with the strides in ").append(axes(other, false)).append(" order, or make a ")
                    .append(layout).append(" copy");
        } else if (matches(stridesInElements, columnMajor, extents)) {
            m.append("the array is column-major ('f' order); make a row-major ('c' order) copy first (in ND4J: "
                    + "dup('c'))");
        } else {
            boolean broadcast = false;
            boolean reversed = false;
            for (int i = 0; i < extents.length; i++) {
                broadcast |= extents[i] > 1 && stridesInElements[i] == 0;
                reversed |= extents[i] > 1 && stridesInElements[i] < 0;
            }
            m.append(broadcast ? "a stride of 0 repeats elements (a broadcast view)"
                    : reversed ? "a negative stride walks backwards (a reversed view)"
                    : "the view skips or reorders elements (a sub-array, a step or a permutation)")
                    .append("; make the view contiguous first (in ND4J: dup('c'); otherwise copy it into a dense ")
                    .append(flat ? "row-major" : layout.toString()).append(" buffer)");
        }
        throw new InvalidArgumentException(m.toString(), Parameters.STRIDES, stridesInElements,
                java.util.Arrays.toString(dense));
    }

    private static boolean matches(long[] strides, long[] expected, long[] extents) {
        for (int i = 0; i < extents.length; i++) {
            if (extents[i] > 1 && strides[i] != expected[i]) {
                return false;
            }
        }
        return true;
    }

    /** The dense strides of the other layout, listed in {@code layout}'s axis order. */
    private static long[] otherLayoutStrides(Layout layout, long n, long c, long h, long w) {
        return layout == Layout.NHWC
                ? new long[] {c * h * w, w, 1, h * w}     // NCHW memory seen as (N, H, W, C)
                : new long[] {h * w * c, 1, w * c, c};    // NHWC memory seen as (N, C, H, W)
    }

    private static String axes(Layout layout, boolean flat) {
        return flat ? "(N, W)" : layout == Layout.NHWC ? "(N, H, W, C)" : "(N, C, H, W)";
    }

    /** Checks the extent against the tensor and makes the view at the pointer's position. */
    private static Tensor host(Pointer data, long extentBytes, DType dtype, Layout layout, long n, long c, long h,
            long w) {
        long needed = checkShape(dtype, layout, n, c, h, w);
        checkCovers(extentBytes, needed, pointerName(data), dtype, layout, n, c, h, w);
        long address = data.isNull() ? 0 : data.address() + data.position() * (long) data.sizeof();
        return new Tensor(dtype, layout, n, c, h, w, address, false, data);
    }

    private static void checkCovers(long extentBytes, long needed, String what, DType dtype, Layout layout, long n,
            long c, long h, long w) {
        // Native code reads and writes every byte of the tensor: memory it does not cover would be
        // overrun (a crash or silent corruption of whatever lies beyond).
        if (extentBytes < needed) {
            throw new InvalidArgumentException("the " + what + " holds " + extentBytes + " bytes from its position but "
                    + describe(dtype, layout, n, c, h, w) + " needs " + needed, Parameters.EXTENT_BYTES, extentBytes,
                    "at least " + needed);
        }
    }

    /**
     * The bytes a pointer knows it holds from its position: its limit (else its capacity) less its
     * position, in its own element size; -1 when it knows neither.
     */
    private static long knownExtent(Pointer data) {
        long end = data.limit() > 0 ? data.limit() : data.capacity();
        if (end <= 0) {
            return -1;
        }
        if (data.position() > end) {
            throw new InvalidArgumentException("the " + pointerName(data) + "'s position " + data.position()
                    + " lies beyond its limit " + end, Parameters.MEMORY, data.position(), "at most " + end);
        }
        try {
            return Math.multiplyExact(end - data.position(), (long) data.sizeof());
        } catch (ArithmeticException e) {
            return Long.MAX_VALUE;
        }
    }

    /** A typed pointer must hold the dtype's own elements; a plain {@code Pointer} is bytes. */
    private static void checkElementType(Pointer data, DType dtype) {
        if (data.getClass() == Pointer.class) {
            return;
        }
        boolean agrees = switch (dtype) {
            case UINT8 -> data instanceof BytePointer;
            case FLOAT32 -> data instanceof FloatPointer;
            case INT32 -> data instanceof IntPointer;
        };
        if (!agrees) {
            String expected = switch (dtype) {
                case UINT8 -> "BytePointer";
                case FLOAT32 -> "FloatPointer";
                case INT32 -> "IntPointer";
            };
            throw new InvalidArgumentException("the " + data.getClass().getSimpleName() + " (" + data.sizeof()
                    + "-byte elements of its own type) cannot hold " + dtype.label() + " data (" + dtype.bytes()
                    + "-byte elements); convert the data to " + dtype.label()
                    + " first, or describe it with the dtype it holds", Parameters.DTYPE, dtype.label(),
                    "the dtype of the " + data.getClass().getSimpleName() + " (give a " + expected
                            + " or a plain Pointer for " + dtype.label() + ")");
        }
    }

    private static String pointerName(Pointer data) {
        return data.getClass().getSimpleName();
    }

    private static String describe(DType dtype, Layout layout, long n, long c, long h, long w) {
        return "the " + dtype.label() + " " + layout + " tensor of N=" + n + ", C=" + c + ", H=" + h + ", W=" + w;
    }

    /**
     * A batch in device memory of the engine's CUDA device, at an absolute device address (for
     * callers who already hold device pointers, e.g. from the JavaCPP CUDA presets). Only a CUDA
     * engine accepts it; the native side checks that the address is device memory.
     *
     * @param deviceAddress the device pointer's value
     * @param dtype  element type
     * @param layout NHWC or NCHW
     * @param n      samples; c channels, h height, w width
     * @return the view
     * @throws InvalidArgumentException if the address is 0 for N &gt; 0, or the shape is invalid
     */
    public static Tensor onDevice(long deviceAddress, DType dtype, Layout layout, long n, long c, long h, long w) {
        return new Tensor(dtype, layout, n, c, h, w, deviceAddress, true, null);
    }

    /**
     * A batch in a device buffer allocated by an engine.
     *
     * @param buffer the device memory, at least N*C*H*W elements of {@code dtype}
     * @param dtype  element type
     * @param layout NHWC or NCHW
     * @param n      samples; c channels, h height, w width
     * @return the view
     * @throws InvalidArgumentException if the buffer is smaller than the tensor
     */
    public static Tensor onDevice(DeviceBuffer buffer, DType dtype, Layout layout, long n, long c, long h, long w) {
        Tensor t = new Tensor(dtype, layout, n, c, h, w, buffer.address(), true, buffer);
        if (t.bytes() > buffer.bytes()) {
            throw new InvalidArgumentException("device buffer holds " + buffer.bytes() + " bytes but the tensor needs "
                    + t.bytes(), Parameters.EXTENT_BYTES, buffer.bytes(), "at least " + t.bytes());
        }
        return t;
    }

    /**
     * A batch of no samples: carries the geometry alone, for checking parameters before data exists.
     *
     * @param dtype  element type
     * @param layout NHWC or NCHW
     * @param c      channels; h height, w width
     * @return the empty view
     * @throws InvalidArgumentException for a dimension below 1
     */
    public static Tensor empty(DType dtype, Layout layout, long c, long h, long w) {
        return new Tensor(dtype, layout, 0, c, h, w, 0, false, null);
    }

    /**
     * Checks dtype, layout and dimensions.
     *
     * @return the tensor's size in bytes
     */
    private static long checkShape(DType dtype, Layout layout, long n, long c, long h, long w) {
        Objects.requireNonNull(dtype, "dtype");
        Objects.requireNonNull(layout, "layout");
        if (n < 0) {
            throw new InvalidArgumentException("sample count N must be >= 0, got " + n, Parameters.SHAPE, "N=" + n,
                    "N >= 0");
        }
        if (c < 1 || h < 1 || w < 1) {
            throw new InvalidArgumentException("channels, height and width must each be at least 1, got C=" + c
                    + ", H=" + h + ", W=" + w, Parameters.SHAPE, "C=" + c + ", H=" + h + ", W=" + w, "each >= 1");
        }
        try {
            return Math.multiplyExact(Math.multiplyExact(Math.multiplyExact(Math.multiplyExact(n, c), h), w),
                    dtype.bytes());
        } catch (ArithmeticException e) {
            throw new InvalidArgumentException("tensor of N=" + n + ", C=" + c + ", H=" + h + ", W=" + w
                    + " is too large (its size overflows 64 bits)", Parameters.SHAPE,
                    "N=" + n + ", C=" + c + ", H=" + h + ", W=" + w, "a size below 2^63 bytes");
        }
    }

    private static void checkBuffer(Buffer data, long expected, String kind) {
        Objects.requireNonNull(data, "data");
        if (!data.isDirect()) {
            throw new InvalidArgumentException("the " + kind + " buffer must be direct (allocateDirect) so that native"
                    + " code can use it without a copy", Parameters.MEMORY, "a heap buffer", "a direct buffer");
        }
        if (data.remaining() != expected) {
            throw new InvalidArgumentException("the " + kind + " buffer has " + data.remaining()
                    + " elements remaining but the shape needs " + expected, Parameters.MEMORY, data.remaining(),
                    "exactly " + expected + " elements remaining");
        }
    }

    /** @return the element type */
    public DType dtype() {
        return dtype;
    }

    /** @return the memory order */
    public Layout layout() {
        return layout;
    }

    /** @return samples N */
    public long n() {
        return n;
    }

    /** @return channels C */
    public long c() {
        return c;
    }

    /** @return height H */
    public long h() {
        return h;
    }

    /** @return width W */
    public long w() {
        return w;
    }

    /** @return elements per sample, C*H*W */
    public long sampleElements() {
        return c * h * w;
    }

    /** @return total size in bytes */
    public long bytes() {
        return n * sampleElements() * dtype.bytes();
    }

    /** @return whether the data lives in device memory */
    public boolean isDevice() {
        return device;
    }

    /** @return the absolute address of the first element (host or device) */
    public long address() {
        return address;
    }

    /**
     * Where a host float32 tensor holds NaN or an infinity among the given samples: a trigger blended into such a
     * value gives it back, so that sample would carry no watermark. Reads the samples in place.
     *
     * @param samples the samples to look at (indices in [0, n)), or null for every sample
     * @return {sample, element, the value's bits ({@link Float#floatToRawIntBits})} of the first non-finite value in
     *         the order given, or null when all are finite, the tensor is not float32, or it lives in device memory
     *         (not read from here)
     * @throws InvalidArgumentException for a sample index outside [0, n)
     */
    public long[] firstNonFinite(long[] samples) {
        if (device || dtype != DType.FLOAT32 || n == 0) {
            return null;
        }
        long per = sampleElements();
        long count = samples == null ? n : samples.length;
        for (long i = 0; i < count; i++) {
            long s = samples == null ? i : samples[(int) i];
            if (s < 0 || s >= n) {
                throw new InvalidArgumentException("sample " + s + " is outside the tensor's " + n + " samples",
                        Parameters.INDICES, s, "an index in [0, " + n + ")");
            }
            // Read in place, one sample at a time (a batch may exceed 2^31 elements).
            try (FloatPointer p = new FloatPointer(new RawPointer(address + 4 * s * per))) {
                long[] at = NonFinite.first(p.capacity(per).asBuffer(), per, 1, null);
                if (at != null) {
                    return new long[] {s, at[1], at[2]};
                }
            }
        }
        return null;
    }

    /** @return the object that owns the memory (buffer or pointer), or null */
    Object owner() {
        return owner;
    }

    @Override
    public String toString() {
        return dtype.label() + " " + layout + " (N=" + n + ", C=" + c + ", H=" + h + ", W=" + w + ")"
                + (device ? " on device" : "");
    }
}
