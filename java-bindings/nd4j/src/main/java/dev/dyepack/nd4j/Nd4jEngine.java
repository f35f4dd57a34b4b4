package dev.dyepack.nd4j;

import dev.dyepack.BoundaryScores;
import dev.dyepack.Engine;
import dev.dyepack.InvalidArgumentException;
import dev.dyepack.Layout;
import dev.dyepack.Tensor;
import dev.dyepack.trigger.TriggerContext;
import dev.dyepack.trigger.TriggerSpec;
import java.util.Objects;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.concurrency.AffinityManager;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

/**
 * The engine's operations with ND4J arrays in and out. Batches are changed in place, through
 * {@link Nd4jTensors} (no copy); small operands (patterns, masks, signals, heads) are read from arrays
 * of any layout as float32; scores come back as new ND4J arrays. With a GPU backend of ND4J, a batch's
 * host copy is made current before the operation and marked as the newest after it, so ND4J copies it
 * to the device when next used there. Rank-4 batches are NCHW unless a layout is given.
 *
 * <p>Thread-safe as far as the engine is; each batch must not be used by another thread meanwhile.
 */
public final class Nd4jEngine {
    private final Engine engine;

    /**
     * @param engine the engine to run on (its CPU backend reaches host memory)
     * @throws NullPointerException if {@code engine} is null
     */
    public Nd4jEngine(Engine engine) {
        this.engine = Objects.requireNonNull(engine, "engine");
    }

    /** @return the engine */
    public Engine engine() {
        return engine;
    }

    /**
     * Stamps a trigger on the listed samples of a batch, in place.
     *
     * @param trigger the trigger
     * @param batch   the batch (see {@link Nd4jTensors#of(INDArray, Layout)})
     * @param rank4   the layout of a rank-4 batch
     * @param indices batch-local sample positions, or null for all
     * @param context the owner's key and the global index of the batch's first sample
     * @return {@code batch}
     * @throws InvalidArgumentException for an array the engine cannot take, or a trigger that does not fit
     */
    public INDArray apply(TriggerSpec trigger, INDArray batch, Layout rank4, long[] indices, TriggerContext context) {
        Tensor t = Nd4jTensors.of(batch, rank4);
        trigger.apply(engine, t, indices == null ? all(t.n()) : indices, context);
        written(batch);
        return batch;
    }

    /**
     * As {@link #apply(TriggerSpec, INDArray, Layout, long[], TriggerContext)} on an already made view (for
     * flattened images, {@link Nd4jTensors#images}).
     *
     * @param trigger the trigger
     * @param batch   the array behind {@code view}
     * @param view    the view of {@code batch}
     * @param indices batch-local positions, or null for all
     * @param context key and first global index
     * @return {@code batch}
     * @throws InvalidArgumentException as the other overload
     */
    public INDArray apply(TriggerSpec trigger, INDArray batch, Tensor view, long[] indices, TriggerContext context) {
        trigger.apply(engine, view, indices == null ? all(view.n()) : indices, context);
        written(batch);
        return batch;
    }

    /**
     * {@code x' = (1 - a*M) * x + a*M * P} on the listed samples; see {@link Engine#maskBlend}.
     *
     * @param batch   the batch, changed in place
     * @param pattern one sample's values (C*H*W, in the batch's layout)
     * @param mask    one sample's mask (C*H*W)
     * @param amount  a in [0, 1]
     * @param indices batch-local positions, or null for all
     * @return {@code batch}
     * @throws InvalidArgumentException as {@link Engine#maskBlend}
     */
    public INDArray maskBlend(INDArray batch, INDArray pattern, INDArray mask, float amount, long[] indices) {
        Tensor t = Nd4jTensors.of(batch);
        engine.maskBlend(t, floats(pattern), floats(mask), amount, indices == null ? all(t.n()) : indices);
        written(batch);
        return batch;
    }

    /**
     * {@code x' = clip(x + P)} on the listed samples; see {@link Engine#addSignal}.
     *
     * @param batch   the batch, changed in place
     * @param signal  one sample's signal (C*H*W)
     * @param indices batch-local positions, or null for all
     * @return {@code batch}
     * @throws InvalidArgumentException as {@link Engine#addSignal}
     */
    public INDArray addSignal(INDArray batch, INDArray signal, long[] indices) {
        Tensor t = Nd4jTensors.of(batch);
        engine.addSignal(t, floats(signal), indices == null ? all(t.n()) : indices);
        written(batch);
        return batch;
    }

    /**
     * Sets or shifts feature columns of float32 rows; see {@link Engine#setColumns}.
     *
     * @param rows    (N, D) float32 rows, changed in place
     * @param columns the columns
     * @param values  one value per column
     * @param shift   add instead of set
     * @param indices batch-local rows, or null for all
     * @return {@code rows}
     * @throws InvalidArgumentException as {@link Engine#setColumns}
     */
    public INDArray setColumns(INDArray rows, long[] columns, INDArray values, boolean shift, long[] indices) {
        Tensor t = Nd4jTensors.of(rows);
        engine.setColumns(t, columns, floats(values), shift, indices == null ? all(t.n()) : indices);
        written(rows);
        return rows;
    }

    /**
     * Decision-boundary scores of feature rows under a linear head; see {@link Engine#scoreBoundary}.
     *
     * @param features (N, D) float32 rows
     * @param weight   (classes, D) head weights, any layout or float dtype
     * @param bias     classes biases
     * @param target   the target class, or -1
     * @return the scores as new ND4J arrays
     * @throws InvalidArgumentException as {@link Engine#scoreBoundary}
     */
    public Scores scoreBoundary(INDArray features, INDArray weight, INDArray bias, int target) {
        BoundaryScores s = engine.scoreBoundary(Nd4jTensors.of(features), floats(weight), floats(bias), target);
        return new Scores(Nd4j.createFromArray(s.predicted()), Nd4j.createFromArray(s.runnerUp()),
                Nd4j.createFromArray(s.margin()), Nd4j.createFromArray(s.distance()),
                s.targetDistance() == null ? null : Nd4j.createFromArray(s.targetDistance()));
    }

    /**
     * Boundary scores as ND4J arrays, one element per sample.
     *
     * @param predicted      int32 predicted classes
     * @param runnerUp       int32 runner-up classes
     * @param margin         float32 logit margins
     * @param distance       float32 distances to the nearest decision boundary
     * @param targetDistance float32 distances to the target's boundary, or null without a target
     */
    public record Scores(INDArray predicted, INDArray runnerUp, INDArray margin, INDArray distance,
            INDArray targetDistance) {}

    private static float[] floats(INDArray a) {
        Objects.requireNonNull(a, "operand");
        if (a.dataType() != DataType.FLOAT && a.dataType() != DataType.DOUBLE && a.dataType() != DataType.FLOAT16) {
            throw InvalidArgumentException.of("operand", a.dataType(), "a floating-point array");
        }
        return a.castTo(DataType.FLOAT).dup('c').reshape(a.length()).toFloatVector();
    }

    private static long[] all(long n) {
        long[] all = new long[(int) n];
        for (int i = 0; i < all.length; i++) {
            all[i] = i;
        }
        return all;
    }

    /** Marks the host copy as the newest (a no-op on ND4J's CPU backend). */
    static void written(INDArray array) {
        Nd4j.getAffinityManager().tagLocation(array, AffinityManager.Location.HOST);
    }
}
