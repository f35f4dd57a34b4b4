package dev.dyepack.nd4j.cuda;

import dev.dyepack.Backend;
import dev.dyepack.BoundaryScores;
import dev.dyepack.Engine;
import dev.dyepack.InvalidArgumentException;
import dev.dyepack.Layout;
import dev.dyepack.Tensor;
import dev.dyepack.nd4j.Nd4jEngine;
import dev.dyepack.nd4j.Nd4jTensors;
import dev.dyepack.trigger.TriggerContext;
import dev.dyepack.trigger.TriggerSpec;
import java.util.Objects;
import java.util.function.Consumer;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

/**
 * The CUDA engine on ND4J arrays that live in device memory under ND4J's CUDA backend, without a copy:
 * the engine reads and writes the array's device copy by its device pointer, with its work queued on
 * ND4J's stream of the calling thread.
 *
 * <p>Host/device rules (ND4J keeps a host and a device copy of each array and ticks which one was
 * written last), for every operation:
 * <ol>
 *   <li>Before: {@code AtomicAllocator.getPointer(array, context)} makes the device copy current; if the
 *       host copy was written last (e.g. the array was filled from Java), ND4J copies it to the device
 *       on its stream first.</li>
 *   <li>The engine is bound to ND4J's stream for the call ({@link Engine#useStream}), so its work runs
 *       behind every ND4J op queued earlier on that stream.</li>
 *   <li>After: the device copy is ticked as written ({@code tickDeviceWrite}, also on the buffer a view
 *       belongs to), so ND4J copies device to host before the next host read and never copies a stale
 *       host copy over the result.</li>
 *   <li>The engine goes back to the stream it had, which waits for its work: when a call returns, the
 *       result is in device memory and later ND4J ops on any stream see it.</li>
 * </ol>
 * Scoring reads the features the same way and returns host arrays; the features are not ticked.
 *
 * <p>Refused with an {@link InvalidArgumentException}, before anything is queued: a CPU engine (it
 * cannot reach device memory: use {@link Nd4jEngine}, which works on host copies), arrays while ND4J
 * runs on its CPU backend (host arrays handed to this device-only path), an engine on another device
 * than ND4J's for the calling thread, and every array {@link Nd4jTensors} refuses (double, 'f' order,
 * views not dense in C order). Thread-safe as far as the engine is.
 */
public final class Nd4jCudaEngine {
    private final Engine engine;
    private final Layout rank4;

    /**
     * @param engine a CUDA engine on ND4J's device
     * @throws InvalidArgumentException for a CPU engine
     */
    public Nd4jCudaEngine(Engine engine) {
        this(engine, Layout.NCHW);
    }

    /**
     * @param engine a CUDA engine on ND4J's device
     * @param rank4  how rank-4 arrays are read: NCHW (DL4J's convolution layout) or NHWC
     * @throws InvalidArgumentException for a CPU engine
     */
    public Nd4jCudaEngine(Engine engine, Layout rank4) {
        this.engine = Objects.requireNonNull(engine, "engine");
        this.rank4 = Objects.requireNonNull(rank4, "rank4");
        if (engine.backend() != Backend.CUDA) {
            throw new InvalidArgumentException("a CPU engine cannot reach ND4J's device memory; open a CUDA engine "
                    + "(Engine.open(Backend.CUDA, device)), or use Nd4jEngine, which works on ND4J's host copies",
                    "engine", engine.backend(), "a CUDA engine");
        }
    }

    /** @return the engine */
    public Engine engine() {
        return engine;
    }

    /**
     * @return whether ND4J runs on its CUDA backend in this process (its arrays then live in device memory)
     */
    public static boolean nd4jOnCuda() {
        return Nd4j.getBackend().getClass().getName().equals("org.nd4j.linalg.jcublas.JCublasBackend");
    }

    /**
     * Runs engine work on an array's device copy, on ND4J's stream, under the rules above; the work may
     * call any engine operation on the tensor it is given (operand overloads included).
     *
     * @param array  the array, changed in place on the device
     * @param work   the engine work on the array's device tensor
     * @return {@code array}
     * @throws InvalidArgumentException for a refused array or engine, as above, or as the work's operation
     * @throws dev.dyepack.CudaException if a CUDA call fails
     */
    public INDArray onDevice(INDArray array, Consumer<Tensor> work) {
        Objects.requireNonNull(work, "work");
        run(array, true, work);
        return array;
    }

    /**
     * Stamps a trigger on the listed samples of an array, in place on the device.
     *
     * @param trigger the trigger
     * @param batch   the batch
     * @param indices batch-local positions, or null for all
     * @param context the owner's key and the global index of the batch's first sample
     * @return {@code batch}
     * @throws InvalidArgumentException as {@link #onDevice}, or for a trigger that does not fit
     */
    public INDArray apply(TriggerSpec trigger, INDArray batch, long[] indices, TriggerContext context) {
        Objects.requireNonNull(trigger, "trigger");
        return onDevice(batch, t -> trigger.apply(engine, t, indices == null ? all(t.n()) : indices, context));
    }

    /**
     * Mask blend on the device; see {@link Engine#maskBlend(Tensor, float[], float[], float, long[])}.
     *
     * @param batch   the batch
     * @param pattern one sample's pattern (C*H*W)
     * @param mask    one sample's mask (C*H*W)
     * @param amount  a in [0, 1]
     * @param indices batch-local positions, or null for all
     * @return {@code batch}
     * @throws InvalidArgumentException as {@link #onDevice} and the engine's operation
     */
    public INDArray maskBlend(INDArray batch, INDArray pattern, INDArray mask, float amount, long[] indices) {
        float[] p = Nd4jTensors.floatValues(pattern);
        float[] m = Nd4jTensors.floatValues(mask);
        return onDevice(batch, t -> engine.maskBlend(t, p, m, amount, indices));
    }

    /**
     * Patch pasted on the device; see {@link Engine#paste(Tensor, float[], float[], int, int, float, long[], long[])}.
     *
     * @param batch   the batch
     * @param patch   C*height*width values in the batch's layout
     * @param mask    C*height*width values in [0, 1]
     * @param height  patch height
     * @param width   patch width
     * @param amount  a in [0, 1]
     * @param offsets (top, left) per listed sample
     * @param indices batch-local positions, or null for all
     * @return {@code batch}
     * @throws InvalidArgumentException as {@link #onDevice} and the engine's operation
     */
    public INDArray paste(INDArray batch, INDArray patch, INDArray mask, int height, int width, float amount,
            long[] offsets, long[] indices) {
        float[] p = Nd4jTensors.floatValues(patch);
        float[] m = Nd4jTensors.floatValues(mask);
        return onDevice(batch, t -> engine.paste(t, p, m, height, width, amount, offsets, indices));
    }

    /**
     * The mask blend at listed elements of device-resident samples (keyed sparse triggers); see
     * {@link Engine#scatterBlend}.
     *
     * @param batch    the batch on the device, changed in place
     * @param elements distinct offsets within one sample, in the batch's layout
     * @param values   one value per element
     * @param amount   a in [0, 1]
     * @param indices  batch-local samples, or null for all
     * @return {@code batch}
     * @throws InvalidArgumentException as {@link #onDevice} and the engine's operation
     */
    public INDArray scatterBlend(INDArray batch, long[] elements, INDArray values, float amount, long[] indices) {
        float[] v = Nd4jTensors.floatValues(values);
        return onDevice(batch, t -> engine.scatterBlend(t, elements, v, amount, indices));
    }

    /**
     * Additive signal on the device; see {@link Engine#addSignal(Tensor, float[], long[])}.
     *
     * @param batch   the batch
     * @param signal  one sample's signal (C*H*W)
     * @param indices batch-local positions, or null for all
     * @return {@code batch}
     * @throws InvalidArgumentException as {@link #onDevice} and the engine's operation
     */
    public INDArray addSignal(INDArray batch, INDArray signal, long[] indices) {
        float[] s = Nd4jTensors.floatValues(signal);
        return onDevice(batch, t -> engine.addSignal(t, s, indices));
    }

    /**
     * Warp on the device; see {@link Engine#warp(Tensor, float[], long[])}.
     *
     * @param batch   the batch
     * @param grid    2*H*W source positions (row plane, then column plane)
     * @param indices batch-local positions, or null for all
     * @return {@code batch}
     * @throws InvalidArgumentException as {@link #onDevice} and the engine's operation
     */
    public INDArray warp(INDArray batch, INDArray grid, long[] indices) {
        float[] g = Nd4jTensors.floatValues(grid);
        return onDevice(batch, t -> engine.warp(t, g, indices));
    }

    /**
     * Keyed per-sample noise on the device; see {@link Engine#keyedNoise}.
     *
     * @param batch       the batch
     * @param key         the Philox key, two words
     * @param eps         the L-infinity bound
     * @param firstSample the global index of the batch's sample 0
     * @param indices     batch-local positions, or null for all
     * @return {@code batch}
     * @throws InvalidArgumentException as {@link #onDevice} and the engine's operation
     */
    public INDArray keyedNoise(INDArray batch, int[] key, float eps, long firstSample, long[] indices) {
        return onDevice(batch, t -> engine.keyedNoise(t, key, eps, firstSample, indices));
    }

    /**
     * Token ids written into int32 sequences on the device; see {@link Engine#writeTokens}.
     *
     * @param sequences (N, L) int32
     * @param ids       the token ids
     * @param positions one start per listed sequence
     * @param indices   batch-local sequences, or null for all
     * @return {@code sequences}
     * @throws InvalidArgumentException as {@link #onDevice} and the engine's operation
     */
    public INDArray writeTokens(INDArray sequences, int[] ids, long[] positions, long[] indices) {
        return onDevice(sequences, t -> engine.writeTokens(t, ids, positions, indices));
    }

    /**
     * Feature columns set or shifted on the device; see {@link Engine#setColumns(Tensor, long[], float[], boolean, long[])}.
     *
     * @param rows    (N, D) float32
     * @param columns the columns
     * @param values  one value per column
     * @param shift   add instead of set
     * @param indices batch-local rows, or null for all
     * @return {@code rows}
     * @throws InvalidArgumentException as {@link #onDevice} and the engine's operation
     */
    public INDArray setColumns(INDArray rows, long[] columns, INDArray values, boolean shift, long[] indices) {
        float[] v = Nd4jTensors.floatValues(values);
        return onDevice(rows, t -> engine.setColumns(t, columns, v, shift, indices));
    }

    /**
     * Boundary scores of device-resident feature rows; see {@link Engine#scoreBoundary}.
     *
     * @param features (N, D) float32 rows on the device
     * @param weight   (classes, D) head weights
     * @param bias     classes biases
     * @param target   the target class, or -1
     * @return the scores as new ND4J arrays
     * @throws InvalidArgumentException as {@link #onDevice} and the engine's operation
     */
    public Nd4jEngine.Scores scoreBoundary(INDArray features, INDArray weight, INDArray bias, int target) {
        float[] w = Nd4jTensors.floatValues(weight);
        float[] b = Nd4jTensors.floatValues(bias);
        BoundaryScores[] out = new BoundaryScores[1];
        run(features, false, t -> out[0] = engine.scoreBoundary(t, w, b, target));
        BoundaryScores s = out[0];
        return new Nd4jEngine.Scores(Nd4j.createFromArray(s.predicted()), Nd4j.createFromArray(s.runnerUp()),
                Nd4j.createFromArray(s.margin()), Nd4j.createFromArray(s.distance()),
                s.targetDistance() == null ? null : Nd4j.createFromArray(s.targetDistance()));
    }

    /**
     * The checks, then the work bound to ND4J's stream; the device copy ticked when the work writes.
     * The engine's lock keeps another thread from changing its stream in between.
     */
    private void run(INDArray array, boolean writes, Consumer<Tensor> work) {
        Objects.requireNonNull(array, "array");
        Nd4jTensors.dtypeOf(array);
        Nd4jTensors.requireDenseC(array);
        if (!nd4jOnCuda()) {
            throw new InvalidArgumentException("ND4J runs on its CPU backend (" + Nd4j.getBackend().getClass()
                    .getSimpleName() + "), so the array is in host memory; this path takes device arrays of ND4J's "
                    + "CUDA backend: use Nd4jEngine for host arrays", "array", "a host array",
                    "an array of ND4J's CUDA backend");
        }
        Integer nd4jDevice = Nd4j.getAffinityManager().getDeviceForCurrentThread();
        if (nd4jDevice == null || nd4jDevice != engine.device()) {
            throw new InvalidArgumentException("ND4J uses CUDA device " + nd4jDevice + " on this thread but the "
                    + "engine runs on device " + engine.device() + "; open the engine on ND4J's device",
                    "device", engine.device(), "ND4J's device " + nd4jDevice);
        }
        synchronized (engine) {
            DeviceArrays.Current current = DeviceArrays.current(array);
            Tensor tensor = Nd4jTensors.onDevice(array, rank4, current.deviceAddress());
            long previous = engine.stream();
            engine.useStream(current.stream());
            try {
                work.accept(tensor);
            } finally {
                if (writes) {
                    DeviceArrays.deviceWritten(array);
                }
                engine.useStream(previous);
            }
        }
    }

    private static long[] all(long n) {
        long[] all = new long[Math.toIntExact(n)];
        for (int i = 0; i < all.length; i++) {
            all[i] = i;
        }
        return all;
    }
}
