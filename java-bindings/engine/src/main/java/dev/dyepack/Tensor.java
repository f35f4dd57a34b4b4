package dev.dyepack;

import dev.dyepack.internal.RawPointer;
import java.nio.Buffer;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.FloatBuffer;
import java.nio.IntBuffer;
import java.util.Objects;
import org.bytedeco.javacpp.Pointer;

/**
 * A view of a batch of N images (C channels, H x W) in host or device memory, in a given
 * {@link Layout}. A tensor does not own its memory: it keeps the buffer it was made from reachable,
 * and operations change that memory in place. Immutable and thread-safe as a descriptor; the memory
 * it points to is the caller's to synchronise.
 *
 * <p>Host tensors are made from direct {@link ByteBuffer}s (uint8), direct native-order
 * {@link FloatBuffer}s (float32), or JavaCPP pointers (for example an ND4J array's
 * {@code data().addressPointer()}). The view starts at the buffer's position and must cover exactly
 * its remaining elements.
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
        this.dtype = Objects.requireNonNull(dtype, "dtype");
        this.layout = Objects.requireNonNull(layout, "layout");
        if (n < 0) {
            throw new InvalidArgumentException("sample count N must be >= 0, got " + n);
        }
        if (c < 1 || h < 1 || w < 1) {
            throw new InvalidArgumentException(
                    "channels, height and width must each be at least 1, got C=" + c + ", H=" + h + ", W=" + w);
        }
        try {
            Math.multiplyExact(Math.multiplyExact(Math.multiplyExact(Math.multiplyExact(n, c), h), w), dtype.bytes());
        } catch (ArithmeticException e) {
            throw new InvalidArgumentException("tensor of N=" + n + ", C=" + c + ", H=" + h + ", W=" + w
                    + " is too large (its size overflows 64 bits)");
        }
        if (n > 0 && address == 0) {
            throw new InvalidArgumentException("tensor data pointer is null but N=" + n);
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
     * A batch over host memory behind a JavaCPP pointer, starting at its position (for example an
     * ND4J array's {@code data().addressPointer()}, which already includes the view's offset; make
     * views contiguous first). The pointer is kept reachable while the tensor is.
     *
     * @param data   host memory holding N*C*H*W elements of {@code dtype} from its position
     * @param dtype  element type
     * @param layout NHWC or NCHW
     * @param n      samples; c channels, h height, w width
     * @return the view
     * @throws InvalidArgumentException if the pointer is null for N &gt; 0, the shape is invalid, or the
     *                                  pointer's known extent is smaller than the tensor
     */
    public static Tensor ofHost(Pointer data, DType dtype, Layout layout, long n, long c, long h, long w) {
        Objects.requireNonNull(data, "data");
        long address = data.isNull() ? 0 : data.address() + data.position() * (long) data.sizeof();
        Tensor t = new Tensor(dtype, layout, n, c, h, w, address, false, data);
        // A pointer that knows its extent (JavaCPP allocations and views do) must cover the tensor;
        // native code would otherwise read or write past it.
        long limit = data.limit() > 0 ? data.limit() : data.capacity();
        if (limit > 0 && (limit - data.position()) * (long) data.sizeof() < t.bytes()) {
            throw new InvalidArgumentException("the pointer holds " + (limit - data.position()) * (long) data.sizeof()
                    + " bytes from its position but the tensor needs " + t.bytes());
        }
        return t;
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
                    + t.bytes());
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

    private static void checkBuffer(Buffer data, long expected, String kind) {
        Objects.requireNonNull(data, "data");
        if (!data.isDirect()) {
            throw new InvalidArgumentException("the " + kind + " buffer must be direct (allocateDirect) so that native"
                    + " code can use it without a copy");
        }
        if (data.remaining() != expected) {
            throw new InvalidArgumentException("the " + kind + " buffer has " + data.remaining()
                    + " elements remaining but the shape needs " + expected);
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
