package dev.dyepack;

import dev.dyepack.internal.DyePackNative;
import dev.dyepack.internal.DyePackNative.EngineHandle;
import dev.dyepack.internal.NativeLibrary;
import dev.dyepack.internal.RawPointer;
import dev.dyepack.internal.Status;
import java.lang.ref.Cleaner;
import java.lang.ref.Reference;
import java.util.Objects;
import java.util.function.Consumer;
import org.bytedeco.javacpp.FloatPointer;
import org.bytedeco.javacpp.LongPointer;
import org.bytedeco.javacpp.Pointer;

/**
 * The trigger engine: a native context on the CPU or a CUDA device that runs trigger primitives on
 * batches in place. Results are the same bits on every backend and thread count (see the numeric rule
 * in {@code docs/numerics.md}).
 *
 * <pre>{@code
 * try (Engine engine = Engine.open()) {            // CUDA if a device answers, else the CPU
 *     System.out.println(engine.backend() + ": " + engine.reason());
 *     engine.maskBlend(batch, pattern, mask, 1.0f, null);
 * }
 * }</pre>
 *
 * <p>Thread-safety: an engine may be shared; its calls are serialised. It owns one native context:
 * {@link #close()} releases it, a second close does nothing, and use after close throws
 * {@link IllegalStateException}. An engine that is never closed is released by a cleaner, which logs
 * the leak.
 */
public final class Engine implements AutoCloseable {
    private static final Cleaner CLEANER = Cleaner.create();
    private static final System.Logger LOG = System.getLogger(Engine.class.getName());

    private final Backend backend;
    private final int device;
    private final String reason;
    private final NativeState state;
    private final Cleaner.Cleanable cleanable;

    /** Holds the handle for the cleaner; never references the engine. */
    private static final class NativeState implements Runnable {
        private EngineHandle handle;
        private volatile boolean closedExplicitly;

        NativeState(EngineHandle handle) {
            this.handle = handle;
        }

        @Override
        public synchronized void run() {
            if (handle != null) {
                if (!closedExplicitly) {
                    LOG.log(System.Logger.Level.WARNING, "a DyePack Engine was not closed; releasing it now");
                }
                DyePackNative.dp_engine_destroy(handle);
                handle = null;
            }
        }
    }

    private Engine(EngineHandle handle, int device) {
        this.backend = Backend.fromCode(DyePackNative.dp_engine_backend(handle));
        this.device = backend == Backend.CUDA ? device : -1;
        this.reason = NativeLibrary.string(DyePackNative.dp_engine_reason(handle));
        this.state = new NativeState(handle);
        this.cleanable = CLEANER.register(this, state);
    }

    /**
     * Opens an engine on CUDA device 0 when it answers, else on the CPU.
     *
     * @return the engine; {@link #reason()} says why it runs where it does
     * @throws NativeLibraryException if the native library could not be loaded
     */
    public static Engine open() {
        return open(Backend.AUTO, 0);
    }

    /**
     * Opens an engine on the given backend (device 0 for CUDA).
     *
     * @param backend AUTO, CPU or CUDA
     * @return the engine
     * @throws NoGpuException if CUDA is requested and unavailable; the message says why
     * @throws NativeLibraryException if the native library could not be loaded
     */
    public static Engine open(Backend backend) {
        return open(backend, 0);
    }

    /**
     * Opens an engine on the given backend and CUDA device.
     *
     * @param backend AUTO, CPU or CUDA
     * @param device  CUDA device index (ignored on the CPU)
     * @return the engine
     * @throws NoGpuException if CUDA is requested and unavailable; the message says why
     * @throws InvalidArgumentException for a negative or missing device index
     * @throws NativeLibraryException if the native library could not be loaded
     */
    public static Engine open(Backend backend, int device) {
        Objects.requireNonNull(backend, "backend");
        NativeLibrary.require();
        EngineHandle handle = new EngineHandle();
        Status.check(DyePackNative.dp_engine_create(backend.code(), device, handle));
        return new Engine(handle, device);
    }

    /**
     * @return the library version
     * @throws NativeLibraryException if the native library could not be loaded
     */
    public static String version() {
        NativeLibrary.require();
        return NativeLibrary.string(DyePackNative.dp_version());
    }

    /** @return CPU or CUDA: where this engine runs */
    public Backend backend() {
        return backend;
    }

    /** @return the CUDA device index, or -1 on the CPU */
    public int device() {
        return device;
    }

    /** @return why the engine runs where it does (for AUTO: why CUDA was or was not chosen) */
    public String reason() {
        return reason;
    }

    /**
     * Sets the number of CPU worker threads; results never depend on it.
     *
     * @param threads 0 for one per hardware thread, else 1..4096
     * @return this engine
     * @throws InvalidArgumentException for a value out of range
     */
    public Engine threads(int threads) {
        withHandle(h -> Status.check(DyePackNative.dp_engine_set_threads(h, threads)));
        return this;
    }

    /**
     * Mask blend in place: for every selected sample x and element e,
     * {@code x'[e] = (1 - a*m[e]) * x[e] + a*m[e] * p[e]} (elements with weight 0 untouched, weight 1
     * set to the pattern; uint8 results rounded half to even and clamped to [0, 255]).
     *
     * @param batch   the images (host memory, or device memory on a CUDA engine)
     * @param pattern C*H*W finite values in the batch's layout; within [0, 255] for uint8 batches
     * @param mask    C*H*W values in [0, 1], in the batch's layout
     * @param amount  a in [0, 1]
     * @param indices the samples to change, each in [0, N) once, any order; null for all samples
     * @throws InvalidArgumentException for any bad argument, before anything is written
     * @throws CudaException if a CUDA call fails
     * @throws IllegalStateException if the engine is closed
     */
    public void maskBlend(Tensor batch, float[] pattern, float[] mask, float amount, long[] indices) {
        Objects.requireNonNull(batch, "batch");
        Objects.requireNonNull(pattern, "pattern");
        Objects.requireNonNull(mask, "mask");
        long elems = batch.sampleElements();
        if (pattern.length != elems || mask.length != elems) {
            throw new InvalidArgumentException("pattern and mask must each hold C*H*W = " + elems
                    + " values for " + batch + ", got " + pattern.length + " and " + mask.length);
        }
        try (DyePackNative.Tensor b = describe(batch);
                FloatPointer p = new FloatPointer(pattern);
                FloatPointer m = new FloatPointer(mask);
                DyePackNative.Tensor pt = operand(batch, p);
                DyePackNative.Tensor mt = operand(batch, m);
                LongPointer idx = indices == null || indices.length == 0 ? null : new LongPointer(indices)) {
            long count = indices == null ? DyePackNative.DP_ALL_SAMPLES : indices.length;
            withHandle(h -> Status.check(DyePackNative.dp_mask_blend(h, b, pt, mt, amount, idx, count)));
        } finally {
            Reference.reachabilityFence(batch);
        }
    }

    /**
     * Allocates device memory on this engine's CUDA device.
     *
     * @param bytes size, &gt; 0
     * @return the buffer, to be closed before the engine
     * @throws InvalidArgumentException on a CPU engine, or for a size of 0
     * @throws DeviceOutOfMemoryException if the device is full
     */
    public DeviceBuffer allocate(long bytes) {
        Pointer[] out = new Pointer[1];
        withHandle(h -> {
            Pointer p = new Pointer((Pointer) null);
            Status.check(DyePackNative.dp_device_alloc(h, bytes, p));
            out[0] = p;
        });
        return new DeviceBuffer(this, out[0].address(), bytes);
    }

    /**
     * Waits for all work queued by this engine (a no-op on the CPU; operations already return with
     * their results in place).
     *
     * @throws CudaException if the device reports an error
     */
    public void synchronize() {
        withHandle(h -> Status.check(DyePackNative.dp_engine_synchronize(h)));
    }

    synchronized void withHandle(Consumer<EngineHandle> body) {
        EngineHandle h;
        synchronized (state) {
            h = state.handle;
        }
        if (h == null) {
            throw new IllegalStateException("engine is closed");
        }
        body.accept(h);
    }

    synchronized boolean isClosed() {
        synchronized (state) {
            return state.handle == null;
        }
    }

    /** Releases the native context; a second call does nothing. */
    @Override
    public synchronized void close() {
        state.closedExplicitly = true;
        cleanable.clean();
    }

    private static DyePackNative.Tensor describe(Tensor t) {
        DyePackNative.Tensor d = new DyePackNative.Tensor();
        d.dtype(t.dtype().code()).layout(t.layout().code())
                .memory(t.isDevice() ? DyePackNative.DP_MEMORY_DEVICE : DyePackNative.DP_MEMORY_HOST)
                .n(t.n()).c(t.c()).h(t.h()).w(t.w()).data(new RawPointer(t.address()));
        return d;
    }

    private static DyePackNative.Tensor operand(Tensor batch, FloatPointer values) {
        DyePackNative.Tensor d = new DyePackNative.Tensor();
        d.dtype(DType.FLOAT32.code()).layout(batch.layout().code()).memory(DyePackNative.DP_MEMORY_HOST)
                .n(1).c(batch.c()).h(batch.h()).w(batch.w()).data(values);
        return d;
    }
}
