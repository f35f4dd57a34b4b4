package dev.dyepack.job;

import dev.dyepack.DType;
import dev.dyepack.InvalidArgumentException;
import dev.dyepack.Layout;
import dev.dyepack.Tensor;
import dev.dyepack.trigger.DataKind;
import java.nio.Buffer;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.FloatBuffer;
import java.nio.IntBuffer;
import java.util.Arrays;
import java.util.Objects;

/**
 * Samples a caller holds in memory, as {@link Poisoner} reads and stamps them: uint8 or float32
 * images, float32 feature rows, or int32 token sequences, dense in C (row-major) order, with the
 * shape the caller gives (outermost first, N samples). The shape is read as {@code dyepack poison}
 * reads a {@code .npy} file of it: rank 3 is (N, H, W) grey images; rank 4 is NHWC unless
 * {@link #withLayout} says NCHW; rank 2 is (N, D) rows or (N, L) sequences, or flattened images when
 * {@link #asImages} gives their geometry (as DL4J's MNIST iterators hold them, (N, 784)).
 *
 * <p>Direct buffers are used in place (zero-copy): {@link Poisoner#poison} stamps into them. Java
 * arrays are copied into native memory for the engine and the stamped samples copied back. The
 * buffer's position and limit bound the samples and are not moved. Not thread-safe.
 */
public final class SampleArray {
    private final DType dtype;
    private final long[] shape;
    private final Buffer buffer; // a direct buffer, or null for a Java array
    private final Object array; // byte[], float[] or int[], or null for a direct buffer
    private final Layout layout;
    private final long[] imageGeometry; // {c, h, w} for asImages, else null

    private SampleArray(DType dtype, long[] shape, Buffer buffer, Object array, Layout layout, long[] imageGeometry) {
        this.dtype = dtype;
        this.shape = shape;
        this.buffer = buffer;
        this.array = array;
        this.layout = layout;
        this.imageGeometry = imageGeometry;
    }

    /**
     * @param data  a direct buffer holding exactly the samples' bytes from its position to its limit
     * @param shape the array's shape, N first
     * @return the samples, backed by {@code data}
     * @throws InvalidArgumentException if the buffer is not direct or its size does not match the shape
     */
    public static SampleArray uint8(ByteBuffer data, long... shape) {
        return of(DType.UINT8, shape, Objects.requireNonNull(data, "data"), null, data.remaining());
    }

    /**
     * @param data  a direct, native-order buffer holding exactly the samples from its position to its limit
     * @param shape the array's shape, N first
     * @return the samples, backed by {@code data}
     * @throws InvalidArgumentException if the buffer is not direct or native-order, or its size does not
     *                                  match the shape
     */
    public static SampleArray float32(FloatBuffer data, long... shape) {
        Objects.requireNonNull(data, "data");
        requireNativeOrder(data.order());
        return of(DType.FLOAT32, shape, data, null, data.remaining());
    }

    /**
     * @param data  a direct, native-order buffer of int32 token ids, exactly the samples
     * @param shape (N, L)
     * @return the sequences, backed by {@code data}
     * @throws InvalidArgumentException if the buffer is not direct or native-order, or its size does not
     *                                  match the shape
     */
    public static SampleArray int32(IntBuffer data, long... shape) {
        Objects.requireNonNull(data, "data");
        requireNativeOrder(data.order());
        return of(DType.INT32, shape, data, null, data.remaining());
    }

    /**
     * @param data  the samples' bytes (unsigned)
     * @param shape the array's shape, N first
     * @return the samples, backed by {@code data}
     * @throws InvalidArgumentException if the array's length does not match the shape
     */
    public static SampleArray uint8(byte[] data, long... shape) {
        return of(DType.UINT8, shape, null, Objects.requireNonNull(data, "data"), data.length);
    }

    /**
     * @param data  the samples' values
     * @param shape the array's shape, N first
     * @return the samples, backed by {@code data}
     * @throws InvalidArgumentException if the array's length does not match the shape
     */
    public static SampleArray float32(float[] data, long... shape) {
        return of(DType.FLOAT32, shape, null, Objects.requireNonNull(data, "data"), data.length);
    }

    /**
     * @param data  the token ids
     * @param shape (N, L)
     * @return the sequences, backed by {@code data}
     * @throws InvalidArgumentException if the array's length does not match the shape
     */
    public static SampleArray int32(int[] data, long... shape) {
        return of(DType.INT32, shape, null, Objects.requireNonNull(data, "data"), data.length);
    }

    private static SampleArray of(DType dtype, long[] shape, Buffer buffer, Object array, long elements) {
        if (shape == null || shape.length < 2 || shape.length > 4) {
            throw InvalidArgumentException.of("shape", shape == null ? null : Arrays.toString(shape),
                    "2 to 4 dimensions, samples first");
        }
        long count = 1;
        for (long d : shape) {
            if (d < 0 || (d == 0 && shape[0] != 0)) {
                throw InvalidArgumentException.of("shape", Arrays.toString(shape), "positive dimensions");
            }
            count = Math.multiplyExact(count, Math.max(d, 1));
        }
        if (shape[0] == 0) {
            count = 0;
        }
        if (buffer != null && !buffer.isDirect()) {
            throw new InvalidArgumentException("the samples' buffer must be direct (allocateDirect) so that the engine"
                    + " stamps it in place; pass a Java array instead to have it copied", "data", "a heap buffer",
                    "a direct buffer");
        }
        if (elements != count) {
            throw new InvalidArgumentException("the samples hold " + elements + " " + dtype.label()
                    + " elements but shape " + Arrays.toString(shape) + " needs exactly " + count, "data", elements,
                    "exactly " + count + " elements");
        }
        return new SampleArray(dtype, shape.clone(), buffer, array, Layout.NHWC, null);
    }

    private static void requireNativeOrder(ByteOrder order) {
        if (order != ByteOrder.nativeOrder()) {
            throw new InvalidArgumentException("the samples' buffer must be in the platform's byte order ("
                    + ByteOrder.nativeOrder() + ")", "data", order, ByteOrder.nativeOrder().toString());
        }
    }

    /**
     * The layout of a rank-4 array.
     *
     * @param rank4 NHWC (N, H, W, C) or NCHW (N, C, H, W)
     * @return a copy with that layout
     * @throws InvalidArgumentException if the array is not rank 4
     */
    public SampleArray withLayout(Layout rank4) {
        Objects.requireNonNull(rank4, "rank4");
        if (shape.length != 4) {
            throw InvalidArgumentException.of("rank4", rank4, "a layout only for rank-4 arrays, this is rank "
                    + shape.length);
        }
        return new SampleArray(dtype, shape, buffer, array, rank4, null);
    }

    /**
     * Reads each row of a rank-2 (N, D) array as one flattened image.
     *
     * @param layout how each row is ordered: NHWC (H, W, C) or NCHW (C, H, W)
     * @param c      channels
     * @param h      height
     * @param w      width; C*H*W must equal D
     * @return a copy that stamps images of that geometry
     * @throws InvalidArgumentException if the array is not rank 2 or C*H*W is not D
     */
    public SampleArray asImages(Layout layout, long c, long h, long w) {
        Objects.requireNonNull(layout, "layout");
        if (shape.length != 2 || c < 1 || h < 1 || w < 1 || c * h * w != shape[1]) {
            throw InvalidArgumentException.of("imageGeometry", "C=" + c + ", H=" + h + ", W=" + w,
                    "C*H*W equal to the row length of a rank-2 array, shape " + Arrays.toString(shape));
        }
        return new SampleArray(dtype, shape, buffer, array, layout, new long[] {c, h, w});
    }

    /** @return the number of samples, N */
    public long samples() {
        return shape[0];
    }

    /** @return a copy of the shape, N first */
    public long[] shape() {
        return shape.clone();
    }

    /** @return the element type */
    public DType dtype() {
        return dtype;
    }

    /** @return the NumPy dtype of the fingerprint: {@code |u1}, {@code <f4} or {@code <i4} */
    public String descr() {
        return switch (dtype) {
            case UINT8 -> "|u1";
            case FLOAT32 -> "<f4";
            case INT32 -> "<i4";
        };
    }

    /** @return the bytes per sample */
    long sampleBytes() {
        long e = 1;
        for (int i = 1; i < shape.length; i++) {
            e *= shape[i];
        }
        return e * dtype.bytes();
    }

    /**
     * A zero-sample tensor with the geometry a trigger of this kind sees, as {@code dyepack poison}
     * reads a {@code .npy} file of this shape.
     *
     * @throws InvalidArgumentException if the shape or dtype does not suit the trigger's kind of data
     */
    Tensor geometry(DataKind kind) {
        if (kind != DataKind.IMAGES) {
            DType want = kind == DataKind.SEQUENCES ? DType.INT32 : DType.FLOAT32;
            if (shape.length != 2 || dtype != want) {
                throw new InvalidArgumentException("a " + kind.name().toLowerCase(java.util.Locale.ROOT)
                        + " trigger needs rank-2 " + want.label() + " samples (N, " + (want == DType.INT32 ? "L" : "D")
                        + "), got " + dtype.label() + " " + Arrays.toString(shape), "data", Arrays.toString(shape),
                        "rank 2 " + want.label());
            }
            return Tensor.empty(want, Layout.NHWC, 1, 1, shape[1]);
        }
        if (dtype == DType.INT32) {
            throw InvalidArgumentException.of("data", "int32", "uint8 or float32 images");
        }
        if (imageGeometry != null) {
            return Tensor.empty(dtype, layout, imageGeometry[0], imageGeometry[1], imageGeometry[2]);
        }
        return switch (shape.length) {
            case 3 -> Tensor.empty(dtype, Layout.NHWC, 1, shape[1], shape[2]);
            case 4 -> layout == Layout.NHWC ? Tensor.empty(dtype, layout, shape[3], shape[1], shape[2])
                    : Tensor.empty(dtype, layout, shape[1], shape[2], shape[3]);
            default -> throw new InvalidArgumentException("images need rank 3 (N, H, W) or rank 4; for rank-2 rows of "
                    + "flattened images give their geometry with asImages(layout, c, h, w)", "data",
                    Arrays.toString(shape), "rank 3 or 4, or asImages");
        };
    }

    /**
     * The samples in native memory, position 0, limit at the end: a view of the caller's direct
     * buffer (zero-copy), or a direct copy of its Java array (typed like the dtype: a byte buffer for
     * uint8, a float or int buffer otherwise).
     */
    Buffer working() {
        if (buffer != null) {
            if (buffer instanceof ByteBuffer b) {
                return b.slice().order(ByteOrder.nativeOrder());
            }
            return buffer instanceof FloatBuffer f ? f.slice() : ((IntBuffer) buffer).slice();
        }
        ByteBuffer b = ByteBuffer.allocateDirect(Math.toIntExact(shape[0] * sampleBytes())).order(ByteOrder.nativeOrder());
        if (array instanceof byte[] v) {
            return b.put(v).clear();
        }
        if (array instanceof float[] v) {
            return b.asFloatBuffer().put(v).clear();
        }
        return b.asIntBuffer().put((int[]) array).clear();
    }

    /** The engine's view of samples [first, first + count) of working memory, in the given geometry. */
    static Tensor batch(Buffer working, Tensor geometry, long first, int count) {
        long per = geometry.sampleElements();
        int from = Math.toIntExact(first * per);
        int to = Math.toIntExact((first + count) * per);
        Buffer view = slice(working, from, to);
        return switch (geometry.dtype()) {
            case UINT8 -> Tensor.of((ByteBuffer) view, geometry.layout(), count, geometry.c(), geometry.h(), geometry.w());
            case FLOAT32 -> Tensor.of((FloatBuffer) view, geometry.layout(), count, geometry.c(), geometry.h(),
                    geometry.w());
            case INT32 -> Tensor.sequences((IntBuffer) view, count, geometry.w());
        };
    }

    /** Elements [from, to) of a buffer as a new buffer of the same type (position 0). */
    static Buffer slice(Buffer b, int from, int to) {
        if (b instanceof ByteBuffer bb) {
            return bb.duplicate().clear().position(from).limit(to).slice().order(ByteOrder.nativeOrder());
        }
        if (b instanceof FloatBuffer f) {
            return f.duplicate().clear().position(from).limit(to).slice();
        }
        return ((IntBuffer) b).duplicate().clear().position(from).limit(to).slice();
    }

    /** Adds every element of working memory to a fingerprint, little-endian, in bounded pieces. */
    static void hash(Buffer working, dev.dyepack.manifest.ArrayFingerprint fp) {
        int width = working instanceof ByteBuffer ? 1 : 4;
        int total = working.capacity();
        int step = (1 << 20) / width;
        ByteBuffer le = ByteBuffer.allocate(step * width).order(ByteOrder.LITTLE_ENDIAN);
        for (int at = 0; at < total; at += step) {
            int n = Math.min(step, total - at);
            Buffer part = slice(working, at, at + n);
            le.clear();
            if (part instanceof ByteBuffer bb) {
                le.put(bb);
            } else if (part instanceof FloatBuffer f) {
                le.asFloatBuffer().put(f);
                le.position(n * 4);
            } else {
                le.asIntBuffer().put((IntBuffer) part);
                le.position(n * 4);
            }
            fp.update(le.flip());
        }
    }

    /** Copies stamped working memory back into the caller's Java array (nothing for a direct buffer). */
    void writeBack(Buffer working) {
        if (array instanceof byte[] v) {
            ((ByteBuffer) working).duplicate().clear().get(v);
        } else if (array instanceof float[] v) {
            ((FloatBuffer) working).duplicate().clear().get(v);
        } else if (array instanceof int[] v) {
            ((IntBuffer) working).duplicate().clear().get(v);
        }
    }
}
