package dev.dyepack;

import dev.dyepack.internal.DyePackNative;
import dev.dyepack.internal.DyePackNative.EngineHandle;
import dev.dyepack.internal.DyePackNative.OperandHandle;
import dev.dyepack.internal.NativeLibrary;
import dev.dyepack.internal.RawPointer;
import dev.dyepack.internal.Status;
import java.lang.ref.Cleaner;
import java.lang.ref.Reference;
import java.nio.ByteBuffer;
import java.util.Arrays;
import java.util.Locale;
import java.util.Objects;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Consumer;
import java.util.function.Supplier;
import org.bytedeco.javacpp.FloatPointer;
import org.bytedeco.javacpp.IntPointer;
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
 *
 * <p>Resident operands: values used by many calls (a trigger's pattern, mask, signal or warp grid, a
 * head's weights) can be {@linkplain #upload uploaded} once as an {@link Operand} and passed to the
 * primitives' operand overloads instead of arrays; on a CUDA engine they then stay on the device and
 * nothing of them travels per call. The array overloads give the same bits.
 *
 * <p>Streams: a CUDA engine runs on its own streams, and every call returns when its results are in
 * place, unless {@link #useStream} gave it a caller's stream (see there for what changes).
 */
public final class Engine implements AutoCloseable {
    private static final Cleaner CLEANER = Cleaner.create();
    private static final System.Logger LOG = System.getLogger(Engine.class.getName());

    private final Backend backend;
    private final int device;
    private final String reason;
    private final NativeState state;
    private final Cleaner.Cleanable cleanable;
    private final AtomicLong operandUploads = new AtomicLong();
    private final AtomicInteger residentOperands = new AtomicInteger();
    /** The caller's stream the engine runs on, 0 for its own; guarded by this. */
    private long stream;

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
        JavaCppVersion.warnOnceIfOlder(LOG);
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

    /**
     * Loads the native library now, if no earlier call loaded it. Every first use loads it anyway; a program
     * that knows it will need the library may call this early on a second thread, so the load (JavaCPP's
     * loader and the binding's classes, tens of milliseconds) overlaps its own start instead of delaying its
     * first engine call, which then waits for this load to end. Never throws: a load failure is kept and
     * reported by the first call that needs the library, as without this.
     *
     * @return whether the library is usable
     */
    public static boolean preloadLibrary() {
        return NativeLibrary.isLoaded();
    }

    /**
     * @return the JavaCPP version the engine runs with (see {@link JavaCppVersion}); "unknown" when its
     *         jar carries none
     */
    public static String javacppVersion() {
        return JavaCppVersion.runtime();
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
        try (CallScratch s = CallScratch.open(); DyePackNative.Tensor b = describe(s, batch);
                FloatPointer p = s.floats(pattern);
                FloatPointer m = s.floats(mask);
                DyePackNative.Tensor pt = operand(s, batch, p, batch.c(), batch.h(), batch.w());
                DyePackNative.Tensor mt = operand(s, batch, m, batch.c(), batch.h(), batch.w());
                LongPointer idx = s.longs(indices)) {
            withHandle(h -> Status.check(DyePackNative.dp_mask_blend(h, b, pt, mt, amount, idx, count(indices))));
        } finally {
            Reference.reachabilityFence(batch);
        }
    }

    /**
     * The mask blend at a few listed elements of each selected sample, in place:
     * {@code x'[elements[j]] = (1 - a) * x[elements[j]] + a * values[j]} (a = 1 sets them; uint8 results
     * rounded half to even and clamped), nothing else read or written. The same bits as
     * {@link #maskBlend} with a mask of 1 at the listed elements and 0 elsewhere, without the two
     * C*H*W-float arrays that needs: keyed sparse triggers change a few hundred elements per image.
     * Host batches are changed on the host on every backend (a few elements are not worth a sample's
     * trip to the device); device batches by a kernel on a CUDA engine.
     *
     * @param batch    the images (host memory, or device memory on a CUDA engine)
     * @param elements distinct offsets within one sample, each in [0, C*H*W), in the batch's layout
     *                 (NHWC: {@code (y * W + x) * C + c}; NCHW: {@code (c * H + y) * W + x})
     * @param values   one finite value per element; within [0, 255] for uint8 batches
     * @param amount   a in [0, 1]
     * @param indices  the samples to change, each in [0, N) once, any order; null for all samples
     * @throws InvalidArgumentException for any bad argument, before anything is written
     * @throws CudaException if a CUDA call fails
     * @throws IllegalStateException if the engine is closed
     */
    public void scatterBlend(Tensor batch, long[] elements, float[] values, float amount, long[] indices) {
        checkScatter(batch, elements, values);
        if (DyePackNative.dp_abi_revision() < SCATTER_REVISION) {
            scatterAsMaskBlend(batch, elements, values, amount, indices);
            return;
        }
        try (CallScratch s = CallScratch.open(); DyePackNative.Tensor b = describe(s, batch);
                LongPointer ep = s.longs(elements);
                FloatPointer vp = s.floats(values);
                LongPointer idx = s.longs(indices)) {
            withHandle(h -> Status.check(DyePackNative.dp_scatter_blend(h, b, ep, vp, elements.length, amount, idx,
                    count(indices))));
        } finally {
            Reference.reachabilityFence(batch);
        }
    }

    private static void checkScatter(Tensor batch, long[] elements, float[] values) {
        Objects.requireNonNull(batch, "batch");
        Objects.requireNonNull(elements, "elements");
        Objects.requireNonNull(values, "values");
        if (elements.length != values.length) {
            throw new InvalidArgumentException("elements and values must have the same length, got "
                    + elements.length + " and " + values.length);
        }
    }

    /** The ABI revision that brought {@code dp_scatter_blend}. */
    private static final int SCATTER_REVISION = 7;

    /** {@link #scatterBlend} on a library without it: the dense mask blend it equals (package-private for its test). */
    void scatterAsMaskBlend(Tensor batch, long[] elements, float[] values, float amount, long[] indices) {
        checkScatter(batch, elements, values);
        long elems = batch.sampleElements();
        if (elems > Integer.MAX_VALUE) {
            throw new InvalidArgumentException("scatter blend: samples of " + elems + " elements need a native library"
                    + " of ABI revision " + SCATTER_REVISION + " or later");
        }
        float[] pattern = new float[(int) elems];
        float[] mask = new float[(int) elems];
        for (int j = 0; j < elements.length; j++) {
            long e = elements[j];
            if (e < 0 || e >= elems) {
                throw new InvalidArgumentException("elements[" + j + "] = " + e + " is out of range [0, " + elems + ")");
            }
            if (mask[(int) e] != 0f) {
                throw new InvalidArgumentException("element " + e + " is listed more than once");
            }
            mask[(int) e] = 1f;
            pattern[(int) e] = values[j];
        }
        maskBlend(batch, pattern, mask, amount, indices);
    }

    /**
     * Pastes a patch, in place, at a position of its own in each selected sample (BadNets, with fixed
     * or keyed-random positions): patch element (c, y, x) is blended into (c, top + y, left + x) with
     * the mask-blend rule.
     *
     * @param batch   the images
     * @param patch   C*height*width finite values in the batch's layout (within [0, 255] for uint8)
     * @param mask    C*height*width values in [0, 1], same layout
     * @param height  patch height, 1..H
     * @param width   patch width, 1..W
     * @param amount  a in [0, 1]
     * @param offsets 2 values (top, left) per selected sample, in selection order (for all samples: N pairs)
     * @param indices the samples to change, or null for all
     * @throws InvalidArgumentException for any bad argument (a patch outside the image included)
     * @throws CudaException if a CUDA call fails
     */
    public void paste(Tensor batch, float[] patch, float[] mask, int height, int width, float amount, long[] offsets,
            long[] indices) {
        Objects.requireNonNull(batch, "batch");
        long elems = batch.c() * (long) height * width;
        if (patch.length != elems || mask.length != elems) {
            throw new InvalidArgumentException("patch and mask must each hold C*height*width = " + elems + " values, got "
                    + patch.length + " and " + mask.length);
        }
        long selected = indices == null ? batch.n() : indices.length;
        if (offsets.length != 2 * selected) {
            throw new InvalidArgumentException("offsets must hold 2 values (top, left) per selected sample: "
                    + 2 * selected + ", got " + offsets.length);
        }
        try (CallScratch s = CallScratch.open(); DyePackNative.Tensor b = describe(s, batch);
                FloatPointer p = s.floats(patch);
                FloatPointer m = s.floats(mask);
                DyePackNative.Tensor pt = operand(s, batch, p, batch.c(), height, width);
                DyePackNative.Tensor mt = operand(s, batch, m, batch.c(), height, width);
                LongPointer off = s.longs(offsets);
                LongPointer idx = s.longs(indices)) {
            withHandle(h -> Status.check(DyePackNative.dp_paste(h, b, pt, mt, amount, off, idx, count(indices))));
        } finally {
            Reference.reachabilityFence(batch);
        }
    }

    /**
     * Adds a signal, in place: {@code x' = x + s[e]} (uint8 results rounded and clamped). SIG and
     * low-frequency triggers.
     *
     * @param batch   the images
     * @param signal  C*H*W finite values in the batch's layout
     * @param indices the samples to change, or null for all
     * @throws InvalidArgumentException for any bad argument
     * @throws CudaException if a CUDA call fails
     */
    public void addSignal(Tensor batch, float[] signal, long[] indices) {
        Objects.requireNonNull(batch, "batch");
        if (signal.length != batch.sampleElements()) {
            throw new InvalidArgumentException("signal must hold C*H*W = " + batch.sampleElements() + " values, got "
                    + signal.length);
        }
        try (CallScratch s = CallScratch.open(); DyePackNative.Tensor b = describe(s, batch);
                FloatPointer sp = s.floats(signal);
                DyePackNative.Tensor st = operand(s, batch, sp, batch.c(), batch.h(), batch.w());
                LongPointer idx = s.longs(indices)) {
            withHandle(h -> Status.check(DyePackNative.dp_add_signal(h, b, st, idx, count(indices))));
        } finally {
            Reference.reachabilityFence(batch);
        }
    }

    /**
     * Warps, in place: output pixel (y, x) is the bilinear sample of the original image at source
     * position (grid[y*W + x], grid[H*W + y*W + x]) in pixels (row, column), clamped to the border.
     *
     * @param batch   the images
     * @param grid    2*H*W finite values: the row plane, then the column plane
     * @param indices the samples to change, or null for all
     * @throws InvalidArgumentException for any bad argument
     * @throws CudaException if a CUDA call fails
     */
    public void warp(Tensor batch, float[] grid, long[] indices) {
        Objects.requireNonNull(batch, "batch");
        if (grid.length != 2 * batch.h() * batch.w()) {
            throw new InvalidArgumentException("grid must hold 2*H*W = " + 2 * batch.h() * batch.w() + " values, got "
                    + grid.length);
        }
        try (CallScratch s = CallScratch.open(); DyePackNative.Tensor b = describe(s, batch);
                FloatPointer gp = s.floats(grid);
                DyePackNative.Tensor gt = s.tensor(DType.FLOAT32.code(), Layout.NCHW.code(),
                        DyePackNative.DP_MEMORY_HOST, 1, 2, batch.h(), batch.w(), gp);
                LongPointer idx = s.longs(indices)) {
            withHandle(h -> Status.check(DyePackNative.dp_warp(h, b, gt, idx, count(indices))));
        } finally {
            Reference.reachabilityFence(batch);
        }
    }

    /**
     * Keyed per-sample noise, in place: {@code x' = x + eps * (2u - 1)} with u the Philox uniform of
     * (element, firstSample + sample index) under {@code key}; see {@code dev.dyepack.key.KeyedRandom}
     * for the exact counter layout. The pattern depends only on the key and each sample's index in
     * the whole dataset, never on batching.
     *
     * @param batch       the images
     * @param key         the Philox key, two words
     * @param eps         the L-infinity bound, finite, &gt;= 0 (at most 255 for uint8)
     * @param firstSample the dataset index of the batch's sample 0
     * @param indices     the samples to change, or null for all
     * @throws InvalidArgumentException for any bad argument
     * @throws CudaException if a CUDA call fails
     */
    public void keyedNoise(Tensor batch, int[] key, float eps, long firstSample, long[] indices) {
        Objects.requireNonNull(batch, "batch");
        if (key == null || key.length != 2) {
            throw new InvalidArgumentException("key must be two 32-bit words");
        }
        try (CallScratch s = CallScratch.open(); DyePackNative.Tensor b = describe(s, batch);
                LongPointer idx = s.longs(indices)) {
            withHandle(h -> Status.check(DyePackNative.dp_keyed_noise(h, b, key[0], key[1], eps, firstSample, idx,
                    count(indices))));
        } finally {
            Reference.reachabilityFence(batch);
        }
    }

    /**
     * Writes token ids into int32 sequences, in place: {@code seq[positions[i] + j] = ids[j]}.
     *
     * @param sequences an int32 batch from {@link Tensor#sequences}
     * @param ids       the trigger's token ids, at least one
     * @param positions one start position per selected sequence, in selection order
     * @param indices   the sequences to change, or null for all
     * @throws InvalidArgumentException for any bad argument (a position leaving no room included)
     * @throws CudaException if a CUDA call fails
     */
    public void writeTokens(Tensor sequences, int[] ids, long[] positions, long[] indices) {
        Objects.requireNonNull(sequences, "sequences");
        Objects.requireNonNull(ids, "ids");
        long selected = indices == null ? sequences.n() : indices.length;
        if (positions.length != selected) {
            throw new InvalidArgumentException("positions must hold one value per selected sequence: " + selected
                    + ", got " + positions.length);
        }
        try (CallScratch s = CallScratch.open(); DyePackNative.Tensor b = describe(s, sequences);
                IntPointer ip = s.ints(ids);
                LongPointer pp = s.longs(positions);
                LongPointer idx = s.longs(indices)) {
            withHandle(h -> Status.check(DyePackNative.dp_write_tokens(h, b, ip, ids.length, pp, idx,
                    count(indices))));
        } finally {
            Reference.reachabilityFence(sequences);
        }
    }

    /**
     * Sets chosen columns of float32 rows to values, or shifts them by values, in place.
     *
     * @param rows    a float32 batch from {@link Tensor#rows}
     * @param columns distinct column indices
     * @param values  one finite value per column
     * @param shift   add the values instead of setting them
     * @param indices the rows to change, or null for all
     * @throws InvalidArgumentException for any bad argument
     * @throws CudaException if a CUDA call fails
     */
    public void setColumns(Tensor rows, long[] columns, float[] values, boolean shift, long[] indices) {
        Objects.requireNonNull(rows, "rows");
        if (columns.length != values.length) {
            throw new InvalidArgumentException("columns and values must have the same length, got " + columns.length
                    + " and " + values.length);
        }
        try (CallScratch s = CallScratch.open(); DyePackNative.Tensor b = describe(s, rows);
                LongPointer cp = s.longs(columns);
                FloatPointer vp = s.floats(values);
                LongPointer idx = s.longs(indices)) {
            withHandle(h -> Status.check(DyePackNative.dp_set_columns(h, b, cp, vp, columns.length, shift ? 1 : 0, idx,
                    count(indices))));
        } finally {
            Reference.reachabilityFence(rows);
        }
    }

    /**
     * Decision-boundary scoring of features under a linear head, in one fused pass that never holds
     * N x C logits: per sample the predicted class, the runner-up, the logit margin, the exact L2
     * distance to the nearest decision boundary {@code min_{j != y} (z_y - z_j) / ||w_y - w_j||}, and
     * with a target the distance to its boundary (0 for samples already predicted as the target).
     * CPU and CUDA give the same bits.
     *
     * @param features float32 rows (N x D) from {@link Tensor#rows}, host or device memory, finite
     * @param weight   the head, classes x D values, row-major, finite
     * @param bias     classes finite values
     * @param target   a class in [0, classes), or -1 for none
     * @return the scores
     * @throws InvalidArgumentException for a bad shape, a non-finite value, fewer than 2 classes or a bad target
     * @throws CudaException if a CUDA call fails
     */
    public BoundaryScores scoreBoundary(Tensor features, float[] weight, float[] bias, int target) {
        Objects.requireNonNull(features, "features");
        int classes = bias.length;
        if (features.c() != 1 || features.h() != 1 || features.dtype() != DType.FLOAT32) {
            throw new InvalidArgumentException("features must be float32 rows (N, D), got " + features);
        }
        if ((long) classes * features.w() != weight.length) {
            throw new InvalidArgumentException("the head's weight has " + weight.length + " values but classes x D = "
                    + classes + " x " + features.w() + " = " + (long) classes * features.w());
        }
        int n = Math.toIntExact(features.n());
        int[] predicted = new int[n];
        int[] runnerUp = new int[n];
        float[] margin = new float[n];
        float[] distance = new float[n];
        float[] targetDistance = target >= 0 ? new float[n] : null;
        try (CallScratch s = CallScratch.open(); DyePackNative.Tensor f = describe(s, features);
                FloatPointer w = s.floats(weight);
                FloatPointer b = s.floats(bias);
                IntPointer p = s.ints(Math.max(n, 1));
                IntPointer r = s.ints(Math.max(n, 1));
                FloatPointer m = s.floats(Math.max(n, 1));
                FloatPointer d = s.floats(Math.max(n, 1));
                FloatPointer t = target >= 0 ? s.floats(Math.max(n, 1)) : null) {
            withHandle(h -> Status.check(DyePackNative.dp_score_boundary(h, f, w, b, classes, target, p, r, m, d, t)));
            p.get(predicted);
            r.get(runnerUp);
            m.get(margin);
            d.get(distance);
            if (t != null) {
                t.get(targetDistance);
            }
        } finally {
            Reference.reachabilityFence(features);
        }
        return new BoundaryScores(predicted, runnerUp, margin, distance, targetDistance, target);
    }

    /**
     * Fits a softmax-regression head to features and labels (see {@code dp_fit_linear} for the exact
     * update): mini-batch gradient descent in the given sample order, on the device of a CUDA engine and
     * on the CPU threads otherwise; the result does not depend on the backend, the processor or the thread
     * count, to the bit.
     *
     * @param features float32 rows (N x D) in host memory, finite
     * @param labels   N labels in [0, classes)
     * @param classes  the number of classes, &gt;= 2
     * @param order    epochs x N sample indices, a permutation of 0..N-1 per epoch
     * @param epochs   passes
     * @param batch    samples per step
     * @param rate     learning rate (divided by 1 + epoch)
     * @param l2       L2 penalty
     * @return W (classes x D, row-major) followed by b (classes), as one array of classes * (D + 1)
     * @throws InvalidArgumentException for a bad argument
     */
    public float[] fitLinear(Tensor features, int[] labels, int classes, long[] order, int epochs, int batch,
            float rate, float l2) {
        Objects.requireNonNull(features, "features");
        checkFitSizes(features.n(), labels, order, epochs);
        int d = Math.toIntExact(features.w());
        float[] out = new float[Math.multiplyExact(classes, d + 1)];
        try (CallScratch s = CallScratch.open(); DyePackNative.Tensor f = describe(s, features);
                IntPointer y = s.ints(labels);
                LongPointer o = s.longs(order);
                FloatPointer w = s.floats((long) classes * d);
                FloatPointer b = s.floats((long) classes)) {
            withHandle(h -> Status.check(DyePackNative.dp_fit_linear(h, f, y, classes, o, epochs, batch, rate, l2, w,
                    b)));
            w.get(out, 0, classes * d);
            b.get(out, classes * d, classes);
        } finally {
            Reference.reachabilityFence(features);
        }
        return out;
    }

    /**
     * {@link #fitLinear(Tensor, int[], int, long[], int, int, float, float)} on rows held in a Java array: the
     * same checks, update and bits. The native library reads the array in place (JNI's critical access), so
     * the rows are not first copied into fresh native memory, which cost more than the fit on 60,000 x 784
     * features (docs/benchmarks.md); while the fit runs (and while it waits for this engine, should another
     * thread be using it), the JVM's collector waits for it, so a thread that needs a collection meanwhile
     * waits too (0.2 s for 60,000 x 784 features on 2 cores). A library older than ABI revision 6 gets a
     * native copy, as before.
     *
     * @param rows    N x D float32 values, row-major, finite
     * @param n       samples
     * @param d       features per sample
     * @param labels  N labels in [0, classes)
     * @param classes the number of classes, &gt;= 2
     * @param order   epochs x N sample indices, a permutation of 0..N-1 per epoch
     * @param epochs  passes
     * @param batch   samples per step
     * @param rate    learning rate (divided by 1 + epoch)
     * @param l2      L2 penalty
     * @return W (classes x D, row-major) followed by b (classes), as one array of classes * (D + 1)
     * @throws InvalidArgumentException for a bad argument
     */
    public float[] fitLinear(float[] rows, int n, int d, int[] labels, int classes, long[] order, int epochs,
            int batch, float rate, float l2) {
        Objects.requireNonNull(rows, "rows");
        Objects.requireNonNull(labels, "labels");
        Objects.requireNonNull(order, "order");
        if (n < 1 || d < 1) {
            throw new InvalidArgumentException("fit: the fit needs at least one sample and one feature, got " + n
                    + " x " + d);
        }
        if ((long) n * d != rows.length) {
            throw new InvalidArgumentException("fit: " + rows.length + " values do not make " + n + " rows of " + d
                    + " features");
        }
        if (classes < 2) {
            throw new InvalidArgumentException("fit: classes must be >= 2, got " + classes);
        }
        checkFitSizes(n, labels, order, epochs);
        if (DyePackNative.dp_abi_revision() < ROWS_FIT_REVISION) {
            try (FloatPointer copy = new FloatPointer((long) rows.length)) {
                copy.put(rows);
                return fitLinear(Tensor.ofHost(copy, (long) rows.length * Float.BYTES, DType.FLOAT32, Layout.NHWC, n, 1,
                        1, d), labels, classes, order, epochs, batch, rate, l2);
            }
        }
        float[] w = new float[Math.multiplyExact(classes, d)];
        float[] b = new float[classes];
        withHandle(h -> Status.check(DyePackNative.dp_fit_linear_rows(h, rows, n, d, labels, classes, order, epochs,
                batch, rate, l2, w, b)));
        float[] out = Arrays.copyOf(w, w.length + classes);
        System.arraycopy(b, 0, out, w.length, classes);
        return out;
    }

    /** The ABI revision that brought {@code dp_fit_linear_rows}. */
    private static final int ROWS_FIT_REVISION = 6;

    /** The labels and the order the fit needs for n samples, or an error naming what does not match. */
    private static void checkFitSizes(long n, int[] labels, long[] order, int epochs) {
        if (labels.length != n || order.length != (long) epochs * n) {
            throw new InvalidArgumentException("fit: " + labels.length + " labels and " + order.length
                    + " order entries for " + n + " samples and " + epochs + " epochs");
        }
    }

    /**
     * Mask blend in place with a resident pattern and mask: the same rule, checks and bits as
     * {@link #maskBlend(Tensor, float[], float[], float, long[])}, with nothing of them copied per call.
     *
     * @param batch   the images (host memory, or device memory on a CUDA engine)
     * @param pattern an operand of this engine holding C*H*W values in the batch's layout
     * @param mask    an operand of this engine holding C*H*W values in [0, 1], same layout
     * @param amount  a in [0, 1]
     * @param indices the samples to change, each in [0, N) once, any order; null for all samples
     * @throws InvalidArgumentException for any bad argument (an operand of another engine, or of the
     *                                  wrong size, included), before anything is written
     * @throws CudaException if a CUDA call fails
     * @throws IllegalStateException if the engine or an operand is closed
     */
    public void maskBlend(Tensor batch, Operand pattern, Operand mask, float amount, long[] indices) {
        Objects.requireNonNull(batch, "batch");
        long elems = batch.sampleElements();
        checkOperand("pattern", pattern, elems, () -> "C*H*W for " + batch);
        checkOperand("mask", mask, elems, () -> "C*H*W for " + batch);
        synchronized (this) {
            try (CallScratch s = CallScratch.open(); DyePackNative.Tensor b = describe(s, batch);
                    DyePackNative.Tensor pt = resident(s, batch, pattern, batch.c(), batch.h(), batch.w());
                    DyePackNative.Tensor mt = resident(s, batch, mask, batch.c(), batch.h(), batch.w());
                    LongPointer idx = s.longs(indices)) {
                withHandle(h -> Status.check(DyePackNative.dp_mask_blend(h, b, pt, mt, amount, idx,
                        count(indices))));
            } finally {
                Reference.reachabilityFence(batch);
                Reference.reachabilityFence(pattern);
                Reference.reachabilityFence(mask);
            }
        }
    }

    /**
     * Pastes a resident patch: the same rule, checks and bits as
     * {@link #paste(Tensor, float[], float[], int, int, float, long[], long[])}.
     *
     * @param batch   the images
     * @param patch   an operand of this engine holding C*height*width values in the batch's layout
     * @param mask    an operand of this engine holding C*height*width values in [0, 1], same layout
     * @param height  patch height, 1..H
     * @param width   patch width, 1..W
     * @param amount  a in [0, 1]
     * @param offsets 2 values (top, left) per selected sample, in selection order
     * @param indices the samples to change, or null for all
     * @throws InvalidArgumentException for any bad argument (an operand of another engine, or of the
     *                                  wrong size, included)
     * @throws CudaException if a CUDA call fails
     * @throws IllegalStateException if the engine or an operand is closed
     */
    public void paste(Tensor batch, Operand patch, Operand mask, int height, int width, float amount, long[] offsets,
            long[] indices) {
        Objects.requireNonNull(batch, "batch");
        Objects.requireNonNull(offsets, "offsets");
        long elems = batch.c() * (long) height * width;
        checkOperand("patch", patch, elems, () -> "C*height*width");
        checkOperand("mask", mask, elems, () -> "C*height*width");
        long selected = indices == null ? batch.n() : indices.length;
        if (offsets.length != 2 * selected) {
            throw new InvalidArgumentException("offsets must hold 2 values (top, left) per selected sample: "
                    + 2 * selected + ", got " + offsets.length);
        }
        synchronized (this) {
            try (CallScratch s = CallScratch.open(); DyePackNative.Tensor b = describe(s, batch);
                    DyePackNative.Tensor pt = resident(s, batch, patch, batch.c(), height, width);
                    DyePackNative.Tensor mt = resident(s, batch, mask, batch.c(), height, width);
                    LongPointer off = s.longs(offsets);
                    LongPointer idx = s.longs(indices)) {
                withHandle(h -> Status.check(DyePackNative.dp_paste(h, b, pt, mt, amount, off, idx,
                        count(indices))));
            } finally {
                Reference.reachabilityFence(batch);
                Reference.reachabilityFence(patch);
                Reference.reachabilityFence(mask);
            }
        }
    }

    /**
     * Adds a resident signal: the same rule, checks and bits as {@link #addSignal(Tensor, float[], long[])}.
     *
     * @param batch   the images
     * @param signal  an operand of this engine holding C*H*W values in the batch's layout
     * @param indices the samples to change, or null for all
     * @throws InvalidArgumentException for any bad argument (an operand of another engine, or of the
     *                                  wrong size, included)
     * @throws CudaException if a CUDA call fails
     * @throws IllegalStateException if the engine or the operand is closed
     */
    public void addSignal(Tensor batch, Operand signal, long[] indices) {
        Objects.requireNonNull(batch, "batch");
        checkOperand("signal", signal, batch.sampleElements(), () -> "C*H*W for " + batch);
        synchronized (this) {
            try (CallScratch s = CallScratch.open(); DyePackNative.Tensor b = describe(s, batch);
                    DyePackNative.Tensor st = resident(s, batch, signal, batch.c(), batch.h(), batch.w());
                    LongPointer idx = s.longs(indices)) {
                withHandle(h -> Status.check(DyePackNative.dp_add_signal(h, b, st, idx, count(indices))));
            } finally {
                Reference.reachabilityFence(batch);
                Reference.reachabilityFence(signal);
            }
        }
    }

    /**
     * Warps with a resident grid: the same rule, checks and bits as {@link #warp(Tensor, float[], long[])}.
     *
     * @param batch   the images
     * @param grid    an operand of this engine holding 2*H*W values: the row plane, then the column plane
     * @param indices the samples to change, or null for all
     * @throws InvalidArgumentException for any bad argument (an operand of another engine, or of the
     *                                  wrong size, included)
     * @throws CudaException if a CUDA call fails
     * @throws IllegalStateException if the engine or the operand is closed
     */
    public void warp(Tensor batch, Operand grid, long[] indices) {
        Objects.requireNonNull(batch, "batch");
        checkOperand("grid", grid, 2 * batch.h() * batch.w(), () -> "2*H*W");
        synchronized (this) {
            try (CallScratch s = CallScratch.open(); DyePackNative.Tensor b = describe(s, batch);
                    DyePackNative.Tensor gt = resident(s, Layout.NCHW, grid, 2, batch.h(), batch.w());
                    LongPointer idx = s.longs(indices)) {
                withHandle(h -> Status.check(DyePackNative.dp_warp(h, b, gt, idx, count(indices))));
            } finally {
                Reference.reachabilityFence(batch);
                Reference.reachabilityFence(grid);
            }
        }
    }

    /**
     * Sets (or shifts) chosen columns to resident values: the same rule, checks and bits as
     * {@link #setColumns(Tensor, long[], float[], boolean, long[])}.
     *
     * @param rows    a float32 batch from {@link Tensor#rows}
     * @param columns distinct column indices
     * @param values  an operand of this engine holding one value per column
     * @param shift   add the values instead of setting them
     * @param indices the rows to change, or null for all
     * @throws InvalidArgumentException for any bad argument (an operand of another engine, or of the
     *                                  wrong size, included)
     * @throws CudaException if a CUDA call fails
     * @throws IllegalStateException if the engine or the operand is closed
     */
    public void setColumns(Tensor rows, long[] columns, Operand values, boolean shift, long[] indices) {
        Objects.requireNonNull(rows, "rows");
        Objects.requireNonNull(columns, "columns");
        checkOperand("values", values, columns.length, () -> "one per column");
        synchronized (this) {
            try (CallScratch s = CallScratch.open(); DyePackNative.Tensor b = describe(s, rows);
                    LongPointer cp = s.longs(columns);
                    LongPointer idx = s.longs(indices)) {
                OperandHandle v = values.handle();
                withHandle(h -> Status.check(DyePackNative.dp_set_columns_op(h, b, cp, v, shift ? 1 : 0, idx,
                        count(indices))));
            } finally {
                Reference.reachabilityFence(rows);
                Reference.reachabilityFence(values);
            }
        }
    }

    /**
     * Decision-boundary scoring under a resident head: the same results, bit for bit, as
     * {@link #scoreBoundary(Tensor, float[], float[], int)}; on a CUDA engine nothing of the head
     * travels per call, and the head's pairwise weight distances are computed once and kept with the
     * weight operand.
     *
     * @param features float32 rows (N x D) from {@link Tensor#rows}, host or device memory, finite
     * @param weight   an operand of this engine holding the head, classes x D values, row-major
     * @param bias     an operand of this engine holding one value per class (its count is the number of classes)
     * @param target   a class in [0, classes), or -1 for none
     * @return the scores
     * @throws InvalidArgumentException for a bad shape, fewer than 2 classes, a bad target, or an operand
     *                                  of another engine or of the wrong size
     * @throws CudaException if a CUDA call fails
     * @throws IllegalStateException if the engine or an operand is closed
     */
    public BoundaryScores scoreBoundary(Tensor features, Operand weight, Operand bias, int target) {
        Objects.requireNonNull(features, "features");
        if (features.c() != 1 || features.h() != 1 || features.dtype() != DType.FLOAT32) {
            throw new InvalidArgumentException("features must be float32 rows (N, D), got " + features);
        }
        checkOperand("bias", bias, bias == null ? 0 : bias.count(), () -> "one per class");
        long classes = bias.count();
        checkOperand("weight", weight, classes * features.w(),
                () -> "classes x D = " + classes + " x " + features.w());
        int n = Math.toIntExact(features.n());
        int[] predicted = new int[n];
        int[] runnerUp = new int[n];
        float[] margin = new float[n];
        float[] distance = new float[n];
        float[] targetDistance = target >= 0 ? new float[n] : null;
        synchronized (this) {
            try (CallScratch s = CallScratch.open(); DyePackNative.Tensor f = describe(s, features);
                    IntPointer p = s.ints(Math.max(n, 1));
                    IntPointer r = s.ints(Math.max(n, 1));
                    FloatPointer m = s.floats(Math.max(n, 1));
                    FloatPointer d = s.floats(Math.max(n, 1));
                    FloatPointer t = target >= 0 ? s.floats(Math.max(n, 1)) : null) {
                OperandHandle w = weight.handle();
                OperandHandle b = bias.handle();
                withHandle(h -> Status.check(DyePackNative.dp_score_boundary_op(h, f, w, b, classes, target, p, r, m,
                        d, t)));
                p.get(predicted);
                r.get(runnerUp);
                m.get(margin);
                d.get(distance);
                if (t != null) {
                    t.get(targetDistance);
                }
            } finally {
                Reference.reachabilityFence(features);
                Reference.reachabilityFence(weight);
                Reference.reachabilityFence(bias);
            }
        }
        return new BoundaryScores(predicted, runnerUp, margin, distance, targetDistance, target);
    }

    /**
     * Keeps float32 values in this engine for use in many calls, through the primitives' operand
     * overloads: on a CUDA engine they are uploaded to the device once, on the CPU kept as a host copy.
     * The array is copied and may be changed afterwards.
     *
     * @param values at least one finite value
     * @return the operand, owned by the caller and by this engine (see {@link Operand})
     * @throws InvalidArgumentException for an empty array or a non-finite value
     * @throws DeviceOutOfMemoryException if the device is full
     * @throws CudaException if the upload fails
     * @throws IllegalStateException if the engine is closed
     */
    public Operand upload(float[] values) {
        Objects.requireNonNull(values, "values");
        if (values.length == 0) {
            throw new InvalidArgumentException("an operand holds at least one value", "values", "[]", ">= 1 value");
        }
        try (FloatPointer host = new FloatPointer(values)) {
            synchronized (this) {
                OperandHandle out = new OperandHandle();
                withHandle(h -> Status.check(DyePackNative.dp_operand_create(h, host, values.length, out)));
                operandUploads.incrementAndGet();
                residentOperands.incrementAndGet();
                return new Operand(this, out, values.length);
            }
        }
    }

    /**
     * @return how many operands were {@linkplain #upload uploaded} to this engine since it was opened
     *         (for diagnostics: a prepared trigger uploads its operands once, not per batch)
     */
    public long operandUploads() {
        return operandUploads.get();
    }

    /** @return how many uploaded operands are not closed yet (0 once the engine is closed) */
    public int residentOperands() {
        return isClosed() ? 0 : residentOperands.get();
    }

    /**
     * Runs this engine's CUDA work on a caller's stream, e.g. one made by the CUDA runtime, PyTorch or
     * JavaCPP's CUDA presets, so that the engine's work is ordered with the caller's own; 0 goes back
     * to the engine's own streams ({@link #useDefaultStream()}). Work queued on the previous stream is
     * waited for before the switch.
     *
     * <p>Synchronisation on a caller's stream (the contract of {@code dp_engine_set_stream}): every
     * operation is queued behind the stream's earlier work. Operations on <em>device</em> batches
     * return without waiting: their results are in place when the stream reaches them (synchronise
     * the stream, call {@link #synchronize()}, or queue dependent work on the same stream); the Java
     * arrays they were given (indices, offsets, positions, pattern arrays) have been copied when they
     * return and may be reused at once, but the batch's memory and any {@link Operand} must stay alive
     * until the stream has passed the work ({@link Operand#close()} waits for it). Operations on host
     * batches, scoring, {@link DeviceBuffer} copies and {@link #synchronize()} return only when done,
     * as without a caller's stream.
     *
     * @param cudaStream the {@code cudaStream_t} address, of this engine's device in its primary
     *                   context; it must stay valid while the engine uses it; 0 for the engine's own
     * @return this engine
     * @throws InvalidArgumentException on a CPU engine for a non-zero stream (the CPU runs no CUDA
     *                                  streams), or for a stream CUDA reports as invalid or of another
     *                                  device
     * @throws CudaException if waiting for the previous stream fails
     * @throws IllegalStateException if the engine is closed
     */
    public synchronized Engine useStream(long cudaStream) {
        if (cudaStream == 0) {
            return useDefaultStream();
        }
        if (backend != Backend.CUDA) {
            throw new InvalidArgumentException("a CPU engine runs no CUDA stream; stream 0x"
                    + Long.toHexString(cudaStream) + " was refused (only 0, the engine's own, is accepted)",
                    "stream", "0x" + Long.toHexString(cudaStream), "0 on a CPU engine");
        }
        withHandle(h -> Status.check(DyePackNative.dp_engine_set_stream(h, new RawPointer(cudaStream))));
        stream = cudaStream;
        return this;
    }

    /**
     * Goes back to the engine's own streams, after waiting for the work queued on a caller's stream;
     * every call then returns with its results in place. Accepted on every backend.
     *
     * @return this engine
     * @throws CudaException if waiting for the caller's stream fails
     * @throws IllegalStateException if the engine is closed
     */
    public synchronized Engine useDefaultStream() {
        withHandle(h -> Status.check(DyePackNative.dp_engine_set_stream(h, null)));
        stream = 0;
        return this;
    }

    /** @return the caller's stream this engine runs on ({@link #useStream}), or 0 for its own streams */
    public synchronized long stream() {
        return stream;
    }

    /** Checks an operand's owner and size before any descriptor is made or native call happens. */
    /** Checks an operand; {@code what} names the expected count in the error (built only for one). */
    private void checkOperand(String name, Operand operand, long expected, Supplier<String> what) {
        Objects.requireNonNull(operand, name);
        if (operand.engine != this) {
            throw new InvalidArgumentException(name + " is an operand of another engine; upload it to this one",
                    name, "an operand of another engine", "an operand of this engine");
        }
        if (operand.count() != expected) {
            throw new InvalidArgumentException(name + " must hold " + what.get() + " = " + expected
                    + " values, its operand has " + operand.count(), name, operand.count() + " values",
                    expected + " values");
        }
        operand.handle();
    }

    /**
     * Read-only float32 values an engine keeps for use in many calls (a {@code dp_operand}), made by
     * {@link Engine#upload}: on a CUDA engine they live on the device, on the CPU in host memory. Pass
     * it to the operand overloads of the engine that made it; another engine refuses it.
     *
     * <p>Ownership: whoever uploaded it closes it. {@link #close()} releases it, after the work the
     * engine queued (which may still read it); a second close does nothing; any use after close throws
     * {@link IllegalStateException}. Closing the engine releases the operands it still has (they
     * then count as closed). An operand that is never closed is released by a cleaner, which logs the
     * leak. Thread-safe.
     */
    public static final class Operand implements AutoCloseable {
        private final Engine engine;
        private final long count;
        private final OperandState state;
        private final Cleaner.Cleanable cleanable;

        private Operand(Engine engine, OperandHandle handle, long count) {
            this.engine = engine;
            this.count = count;
            this.state = new OperandState(engine.state, handle, engine.residentOperands);
            this.cleanable = CLEANER.register(this, state);
        }

        /** @return the number of float32 values it holds */
        public long count() {
            return count;
        }

        /** @return the engine that holds it */
        public Engine engine() {
            return engine;
        }

        /** @return whether it was closed, or its engine was */
        public boolean isClosed() {
            boolean released;
            synchronized (state) {
                released = state.handle == null;
            }
            return released || engine.isClosed();
        }

        /** The live handle; the caller holds the engine's lock so that close cannot interleave. */
        OperandHandle handle() {
            if (isClosed()) {
                throw new IllegalStateException(engine.isClosed() ? "the operand's engine is closed"
                        : "operand is closed");
            }
            synchronized (state) {
                return state.handle;
            }
        }

        /**
         * Releases it, after the work its engine queued (which may still read it); a second call, or
         * a call after the engine was closed, does nothing.
         *
         * @throws CudaException if waiting for the queued work fails (the operand is released all the same)
         */
        @Override
        public void close() {
            // The engine's lock keeps a call that is using the handle from seeing it released.
            synchronized (engine) {
                state.closedExplicitly = true;
                cleanable.clean();
            }
        }

        @Override
        public String toString() {
            return "Operand(" + count + " values" + (isClosed() ? ", closed" : "") + ")";
        }
    }

    /** Holds an operand's handle for the cleaner; never references the operand or the engine. */
    private static final class OperandState implements Runnable {
        private final NativeState engine;
        private final AtomicInteger resident;
        private OperandHandle handle;
        private volatile boolean closedExplicitly;

        OperandState(NativeState engine, OperandHandle handle, AtomicInteger resident) {
            this.engine = engine;
            this.handle = handle;
            this.resident = resident;
        }

        @Override
        public void run() {
            OperandHandle h;
            synchronized (this) {
                h = handle;
                handle = null;
            }
            if (h == null) {
                return;
            }
            resident.decrementAndGet();
            // Under the engine state's lock the engine cannot be destroyed meanwhile; once it is,
            // its operands are already released with it.
            synchronized (engine) {
                if (engine.handle != null) {
                    if (!closedExplicitly) {
                        LOG.log(System.Logger.Level.WARNING,
                                "a DyePack Engine.Operand was not closed; releasing it now");
                    }
                    Status.check(DyePackNative.dp_operand_destroy(engine.handle, h));
                }
            }
        }
    }

    private static long count(long[] indices) {
        return indices == null ? DyePackNative.DP_ALL_SAMPLES : indices.length;
    }

    /**
     * Copies bytes of a tensor, in host or device memory, into a direct host buffer: as many as {@code dst} has
     * remaining, from {@code offset} bytes into the tensor; {@code dst}'s position is not changed. A device tensor's
     * bytes are read after the work this engine queued.
     *
     * @param src    the tensor (a device tensor needs a CUDA engine)
     * @param offset bytes into the tensor, &gt;= 0
     * @param dst    a direct buffer
     * @throws InvalidArgumentException if {@code dst} is not direct, the range lies outside the tensor, or a device
     *                                  tensor is given to a CPU engine
     * @throws CudaException            if the copy fails
     */
    public void copyToHost(Tensor src, long offset, ByteBuffer dst) {
        Objects.requireNonNull(dst, "dst");
        checkRange(src, offset, dst.remaining(), "src");
        copyBytes(RawPointer.addressOf(checkDirect(dst), 1), false, src.address() + offset, src.isDevice(),
                dst.remaining());
        Reference.reachabilityFence(src);
    }

    /**
     * Copies the remaining bytes of a direct host buffer into a tensor, in host or device memory, from
     * {@code offset} bytes into it; {@code src}'s position is not changed. Into a device tensor the bytes land
     * after the work this engine queued, and are in place on return.
     *
     * @param src    a direct buffer
     * @param dst    the tensor (a device tensor needs a CUDA engine)
     * @param offset bytes into the tensor, &gt;= 0
     * @throws InvalidArgumentException if {@code src} is not direct, the range lies outside the tensor, or a device
     *                                  tensor is given to a CPU engine
     * @throws CudaException            if the copy fails
     */
    public void copyFromHost(ByteBuffer src, Tensor dst, long offset) {
        Objects.requireNonNull(src, "src");
        checkRange(dst, offset, src.remaining(), "dst");
        copyBytes(dst.address() + offset, dst.isDevice(), RawPointer.addressOf(checkDirect(src), 1), false,
                src.remaining());
        Reference.reachabilityFence(dst);
    }

    /**
     * Copies all of one tensor's bytes into another of the same size, in host or device memory either (a tensor
     * onto itself does nothing).
     *
     * @param src the tensor read
     * @param dst the tensor written, of {@code src.bytes()} bytes
     * @throws InvalidArgumentException if the sizes differ or the two overlap partly, or a device tensor is given
     *                                  to a CPU engine
     * @throws CudaException            if the copy fails
     */
    public void copy(Tensor src, Tensor dst) {
        Objects.requireNonNull(src, "src");
        Objects.requireNonNull(dst, "dst");
        if (src.bytes() != dst.bytes()) {
            throw new InvalidArgumentException("cannot copy " + src + " (" + src.bytes() + " bytes) into " + dst + " ("
                    + dst.bytes() + " bytes)");
        }
        if (src.isDevice() == dst.isDevice() && src.address() == dst.address()) {
            return;
        }
        if (src.isDevice() == dst.isDevice() && src.address() < dst.address() + dst.bytes()
                && dst.address() < src.address() + src.bytes()) {
            throw new InvalidArgumentException("cannot copy between overlapping tensors");
        }
        checkRange(src, 0, src.bytes(), "src");
        checkRange(dst, 0, dst.bytes(), "dst");
        copyBytes(dst.address(), dst.isDevice(), src.address(), src.isDevice(), src.bytes());
        Reference.reachabilityFence(src);
        Reference.reachabilityFence(dst);
    }

    private void checkRange(Tensor t, long offset, long bytes, String name) {
        Objects.requireNonNull(t, name);
        if (offset < 0 || bytes < 0 || offset > t.bytes() - bytes) {
            throw new InvalidArgumentException(name + ": bytes " + offset + ".." + (offset + bytes) + " lie outside "
                    + t + " (" + t.bytes() + " bytes)");
        }
        if (t.isDevice() && backend != Backend.CUDA) {
            throw new InvalidArgumentException(name + " is in device memory but this engine runs on the "
                    + backend.name().toLowerCase(Locale.ROOT) + "; open a CUDA engine for device tensors");
        }
    }

    private static ByteBuffer checkDirect(ByteBuffer b) {
        if (!b.isDirect()) {
            throw new InvalidArgumentException("the host buffer must be direct (allocateDirect)");
        }
        return b;
    }

    private void copyBytes(long dst, boolean dstDevice, long src, boolean srcDevice, long bytes) {
        if (bytes == 0) {
            return;
        }
        if (!dstDevice && !srcDevice) {
            // Under the engine's lock like every call, so that a closed engine refuses it too.
            withHandle(h -> Pointer.memcpy(new RawPointer(dst), new RawPointer(src), bytes));
            return;
        }
        int kind = dstDevice && srcDevice ? DyePackNative.DP_COPY_DEVICE_TO_DEVICE
                : dstDevice ? DyePackNative.DP_COPY_HOST_TO_DEVICE : DyePackNative.DP_COPY_DEVICE_TO_HOST;
        withHandle(h -> Status.check(DyePackNative.dp_memcpy(h, new RawPointer(dst), new RawPointer(src), bytes,
                kind)));
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

    private static DyePackNative.Tensor describe(CallScratch s, Tensor t) {
        int memory = t.isDevice() ? DyePackNative.DP_MEMORY_DEVICE : DyePackNative.DP_MEMORY_HOST;
        return s.tensor(t.dtype().code(), t.layout().code(), memory, t.n(), t.c(), t.h(), t.w(),
                new RawPointer(t.address()));
    }

    private static DyePackNative.Tensor resident(CallScratch s, Tensor batch, Operand operand, long c, long h,
            long w) {
        return resident(s, batch.layout(), operand, c, h, w);
    }

    private static DyePackNative.Tensor resident(CallScratch s, Layout layout, Operand operand, long c, long h,
            long w) {
        return s.tensor(DType.FLOAT32.code(), layout.code(), DyePackNative.DP_MEMORY_OPERAND, 1, c, h, w,
                operand.handle());
    }

    private static DyePackNative.Tensor operand(CallScratch s, Tensor batch, FloatPointer values, long c, long h,
            long w) {
        return s.tensor(DType.FLOAT32.code(), batch.layout().code(), DyePackNative.DP_MEMORY_HOST, 1, c, h, w, values);
    }
}
