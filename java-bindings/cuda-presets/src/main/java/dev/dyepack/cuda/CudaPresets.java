package dev.dyepack.cuda;

import dev.dyepack.DType;
import dev.dyepack.Engine;
import dev.dyepack.InvalidArgumentException;
import dev.dyepack.Layout;
import dev.dyepack.Parameters;
import dev.dyepack.Tensor;
import java.util.Objects;
import org.bytedeco.cuda.cudart.CUstream_st;
import org.bytedeco.javacpp.BytePointer;
import org.bytedeco.javacpp.FloatPointer;
import org.bytedeco.javacpp.IntPointer;
import org.bytedeco.javacpp.Pointer;

/**
 * The CUDA engine with the JavaCPP CUDA presets' streams and device pointers, without copies:
 *
 * <pre>{@code
 * CUstream_st stream = new CUstream_st();
 * cudart.cudaStreamCreate(stream);
 * try (Engine engine = Engine.open(Backend.CUDA);
 *         StreamBinding on = CudaPresets.onStream(engine, stream)) {
 *     Tensor batch = CudaPresets.batch(images, bytes, DType.UINT8, Layout.NHWC, n, 3, 224, 224);
 *     trigger.apply(engine, batch, indices, context);  // queued on `stream`, behind the caller's work
 * }
 * cudart.cudaStreamSynchronize(stream);               // the stamped images are in place
 * }</pre>
 *
 * <p>Ordering: while bound, every engine operation is queued on the caller's stream behind the work the
 * caller queued there before; operations on device batches return without waiting (see
 * {@link Engine#useStream} for the whole contract), so the caller synchronises the stream, or queues
 * the work that reads the results on it. Closing the {@link StreamBinding} waits for the engine's work
 * and puts back the stream the engine used before.
 *
 * <p>Checks before anything is queued: a CPU engine refuses a stream and a device batch (a typed
 * {@link InvalidArgumentException}); a CUDA engine refuses a pointer that CUDA does not report as
 * device memory of its device (host memory handed to a device-only call), a stream CUDA does not know
 * or of another device; this class refuses a null pointer and a batch larger than the pointer's known
 * extent. Stateless and thread-safe; the engine serialises its calls.
 */
public final class CudaPresets {
    /**
     * CUDA's {@code cudaStreamLegacy}: the legacy default stream, for a caller whose stream handle is 0
     * (the engine reads 0 as "its own streams").
     */
    public static final long CUDA_STREAM_LEGACY = 0x1;

    private CudaPresets() {}

    /**
     * The value of a {@code cudaStream_t} as the engine takes it.
     *
     * @param stream a stream from the presets ({@code cudaStreamCreate}), or one wrapping CUDA's
     *               per-thread (0x2) or legacy (0x1) default stream
     * @return its address; CUDA's legacy default stream ({@link #CUDA_STREAM_LEGACY}) for a handle of 0
     * @throws NullPointerException if {@code stream} is null
     */
    public static long address(CUstream_st stream) {
        Objects.requireNonNull(stream, "stream");
        long a = stream.address();
        return a == 0 ? CUDA_STREAM_LEGACY : a;
    }

    /**
     * Runs the engine's work on the caller's stream until the returned binding is closed; see
     * {@link Engine#useStream} for what changes meanwhile.
     *
     * @param engine a CUDA engine
     * @param stream the caller's stream, of the engine's device (0 means CUDA's legacy default stream)
     * @return the binding; closing it waits for the engine's work and restores the previous stream
     * @throws InvalidArgumentException on a CPU engine, or for a stream CUDA reports as invalid or of
     *                                  another device
     * @throws dev.dyepack.CudaException if waiting for the previous stream fails
     * @throws IllegalStateException if the engine is closed
     */
    public static StreamBinding onStream(Engine engine, CUstream_st stream) {
        Objects.requireNonNull(engine, "engine");
        long handle = address(stream);
        synchronized (engine) {
            long previous = engine.stream();
            engine.useStream(handle);
            return new StreamBinding(engine, handle, previous);
        }
    }

    /**
     * A batch in device memory at a presets pointer (from {@code cudaMalloc}, or a position within
     * such memory): no copy, the engine stamps it in place. The pointer's extent is what JavaCPP
     * knows of it ({@code limit}, else {@code capacity}, from its position on); use
     * {@link #batch(Pointer, long, DType, Layout, long, long, long, long)} to state it when JavaCPP does
     * not know it (as after {@code cudaMalloc}).
     *
     * @param device the device pointer (a {@code BytePointer}, {@code FloatPointer} or {@code IntPointer}
     *               must match the dtype; a plain {@code Pointer} is bytes)
     * @param dtype  element type
     * @param layout NHWC or NCHW
     * @param n      samples
     * @param c      channels
     * @param h      height
     * @param w      width
     * @return the tensor
     * @throws InvalidArgumentException for a null pointer, a typed pointer of another element type, a bad
     *                                  shape, or a batch larger than the pointer's known extent
     */
    public static Tensor batch(Pointer device, DType dtype, Layout layout, long n, long c, long h, long w) {
        return batch(device, -1, dtype, layout, n, c, h, w);
    }

    /**
     * As {@link #batch(Pointer, DType, Layout, long, long, long, long)}, with the bytes available from
     * the pointer's position stated by the caller (the size given to {@code cudaMalloc}, less the offset).
     *
     * @param device      the device pointer
     * @param extentBytes the bytes the batch may use from the pointer's position, or -1 for what JavaCPP
     *                    knows of the pointer (unchecked when it knows nothing)
     * @param dtype       element type
     * @param layout      NHWC or NCHW
     * @param n           samples
     * @param c           channels
     * @param h           height
     * @param w           width
     * @return the tensor
     * @throws InvalidArgumentException as the other overload, and when the batch needs more than
     *                                  {@code extentBytes}
     */
    public static Tensor batch(Pointer device, long extentBytes, DType dtype, Layout layout, long n, long c, long h,
            long w) {
        Objects.requireNonNull(dtype, "dtype");
        long address = deviceAddress(device, dtype);
        Tensor t = Tensor.onDevice(address, dtype, layout, n, c, h, w);
        long extent = extentBytes >= 0 ? extentBytes : knownExtent(device);
        if (extent >= 0 && t.bytes() > extent) {
            throw new InvalidArgumentException("the batch of N=" + n + ", C=" + c + ", H=" + h + ", W=" + w + " needs "
                    + t.bytes() + " bytes but the device pointer holds " + extent + " from its position",
                    Parameters.EXTENT_BYTES, extent, "at least " + t.bytes());
        }
        return t;
    }

    /**
     * Float32 feature rows (N, D) in device memory, for scoring.
     *
     * @param device      the device pointer
     * @param extentBytes the bytes available from its position, or -1 for what JavaCPP knows
     * @param n           rows
     * @param d           features per row
     * @return the tensor
     * @throws InvalidArgumentException as {@link #batch(Pointer, long, DType, Layout, long, long, long, long)}
     */
    public static Tensor rows(Pointer device, long extentBytes, long n, long d) {
        return batch(device, extentBytes, DType.FLOAT32, Layout.NHWC, n, 1, 1, d);
    }

    /**
     * Int32 token sequences (N, L) in device memory.
     *
     * @param device      the device pointer
     * @param extentBytes the bytes available from its position, or -1 for what JavaCPP knows
     * @param n           sequences
     * @param length      tokens per sequence
     * @return the tensor
     * @throws InvalidArgumentException as {@link #batch(Pointer, long, DType, Layout, long, long, long, long)}
     */
    public static Tensor sequences(Pointer device, long extentBytes, long n, long length) {
        return batch(device, extentBytes, DType.INT32, Layout.NHWC, n, 1, 1, length);
    }

    /** The bytes JavaCPP knows from the pointer's position ({@code limit}, else {@code capacity}), or -1. */
    private static long knownExtent(Pointer p) {
        Objects.requireNonNull(p, "device");
        long end = p.limit() > 0 ? p.limit() : p.capacity();
        return end > 0 ? Math.max(0, end - p.position()) * p.sizeof() : -1;
    }

    private static long deviceAddress(Pointer p, DType dtype) {
        Objects.requireNonNull(p, "device");
        if (p.isNull()) {
            throw new InvalidArgumentException("the device pointer is null; allocate device memory first (cudaMalloc)",
                    Parameters.MEMORY, "null", "a device pointer");
        }
        boolean typed = p.getClass() != Pointer.class;
        boolean agrees = switch (dtype) {
            case UINT8 -> p instanceof BytePointer;
            case FLOAT32 -> p instanceof FloatPointer;
            case INT32 -> p instanceof IntPointer;
        };
        if (typed && !agrees) {
            throw new InvalidArgumentException("a " + p.getClass().getSimpleName() + " cannot hold " + dtype.label()
                    + " data; give a pointer of that element type or a plain Pointer", Parameters.DTYPE,
                    p.getClass().getSimpleName(), "a pointer to " + dtype.label() + " elements");
        }
        return p.address() + p.position() * p.sizeof();
    }
}
