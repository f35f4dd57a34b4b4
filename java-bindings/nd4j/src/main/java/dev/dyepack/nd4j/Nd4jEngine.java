package dev.dyepack.nd4j;

import dev.dyepack.BoundaryScores;
import dev.dyepack.Engine;
import dev.dyepack.InvalidArgumentException;
import dev.dyepack.Layout;
import dev.dyepack.Tensor;
import dev.dyepack.key.OwnerKey;
import dev.dyepack.surrogate.LinearHead;
import dev.dyepack.surrogate.LinearSurrogate;
import dev.dyepack.trigger.TriggerContext;
import dev.dyepack.trigger.TriggerSpec;
import java.util.Arrays;
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
 * to the device when next used there. Rank-4 batches are NCHW unless the engine was made with another
 * layout ({@link #Nd4jEngine(Engine, Layout)}).
 *
 * <p>Every operation of {@link Engine} has its counterpart here, with the same checks and the same
 * bits: the primitives with Java-array and with resident operands ({@link #upload}), keyed noise,
 * tokens and columns, scoring, and the surrogate fit ({@link #fitLinear}, {@link #fitSurrogate}). Bad
 * arrays (double, 'f' order, views not dense in C order, indices outside the batch) are refused with
 * an {@link InvalidArgumentException} before any memory is touched.
 *
 * <p>Thread-safe as far as the engine is; each batch must not be used by another thread meanwhile.
 */
public final class Nd4jEngine {
    private final Engine engine;
    private final Layout rank4;

    /**
     * @param engine the engine to run on (its CPU backend reaches host memory)
     * @throws NullPointerException if {@code engine} is null
     */
    public Nd4jEngine(Engine engine) {
        this(engine, Layout.NCHW);
    }

    /**
     * @param engine the engine to run on
     * @param rank4  how the operations read rank-4 batches: NCHW (N, C, H, W), DL4J's convolution
     *               layout, or NHWC (N, H, W, C)
     * @throws NullPointerException if an argument is null
     */
    public Nd4jEngine(Engine engine, Layout rank4) {
        this.engine = Objects.requireNonNull(engine, "engine");
        this.rank4 = Objects.requireNonNull(rank4, "rank4");
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
        Tensor t = Nd4jTensors.of(batch, rank4);
        engine.maskBlend(t, floats(pattern), floats(mask), amount, indices == null ? all(t.n()) : indices);
        written(batch);
        return batch;
    }

    /**
     * The mask blend at listed elements of the listed samples (keyed sparse triggers); see {@link Engine#scatterBlend}.
     *
     * @param batch    the batch, changed in place
     * @param elements distinct offsets within one sample, in the batch's layout
     * @param values   one value per element
     * @param amount   a in [0, 1]
     * @param indices  batch-local positions, or null for all
     * @return {@code batch}
     * @throws InvalidArgumentException as {@link Engine#scatterBlend}
     */
    public INDArray scatterBlend(INDArray batch, long[] elements, INDArray values, float amount, long[] indices) {
        Tensor t = Nd4jTensors.of(batch, rank4);
        engine.scatterBlend(t, elements, floats(values), amount, indices == null ? all(t.n()) : indices);
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
        Tensor t = Nd4jTensors.of(batch, rank4);
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
        Tensor t = Nd4jTensors.of(rows, rank4);
        engine.setColumns(t, columns, floats(values), shift, indices == null ? all(t.n()) : indices);
        written(rows);
        return rows;
    }

    /**
     * Pastes a patch at a position of its own in each listed sample; see {@link Engine#paste}.
     *
     * @param batch   the batch, changed in place
     * @param patch   C*height*width values in the batch's layout
     * @param mask    C*height*width values in [0, 1]
     * @param height  patch height
     * @param width   patch width
     * @param amount  a in [0, 1]
     * @param offsets (top, left) per listed sample, in list order
     * @param indices batch-local positions, or null for all
     * @return {@code batch}
     * @throws InvalidArgumentException as {@link Engine#paste}
     */
    public INDArray paste(INDArray batch, INDArray patch, INDArray mask, int height, int width, float amount,
            long[] offsets, long[] indices) {
        Tensor t = Nd4jTensors.of(batch, rank4);
        engine.paste(t, floats(patch), floats(mask), height, width, amount, offsets, indices == null ? all(t.n())
                : indices);
        written(batch);
        return batch;
    }

    /**
     * Warps the listed samples by a sampling grid (WaNet); see {@link Engine#warp}.
     *
     * @param batch   the batch, changed in place
     * @param grid    2*H*W source positions: the row plane, then the column plane (shape (2, H, W) or flat)
     * @param indices batch-local positions, or null for all
     * @return {@code batch}
     * @throws InvalidArgumentException as {@link Engine#warp}
     */
    public INDArray warp(INDArray batch, INDArray grid, long[] indices) {
        Tensor t = Nd4jTensors.of(batch, rank4);
        engine.warp(t, floats(grid), indices == null ? all(t.n()) : indices);
        written(batch);
        return batch;
    }

    /**
     * Adds keyed per-sample noise to the listed samples; see {@link Engine#keyedNoise}. The noise of a
     * sample depends only on the key and its global index {@code firstSample + position}.
     *
     * @param batch       the batch, changed in place
     * @param key         the Philox key, two words (e.g. {@code OwnerKey.philoxKey(purpose)})
     * @param eps         the L-infinity bound
     * @param firstSample the global index of the batch's sample 0
     * @param indices     batch-local positions, or null for all
     * @return {@code batch}
     * @throws InvalidArgumentException as {@link Engine#keyedNoise}
     */
    public INDArray keyedNoise(INDArray batch, int[] key, float eps, long firstSample, long[] indices) {
        Tensor t = Nd4jTensors.of(batch, rank4);
        engine.keyedNoise(t, key, eps, firstSample, indices == null ? all(t.n()) : indices);
        written(batch);
        return batch;
    }

    /**
     * Writes trigger tokens into int32 sequences; see {@link Engine#writeTokens}.
     *
     * @param sequences (N, L) int32 sequences, changed in place
     * @param ids       the token ids
     * @param positions one start position per listed sequence, in list order
     * @param indices   batch-local sequences, or null for all
     * @return {@code sequences}
     * @throws InvalidArgumentException as {@link Engine#writeTokens}, and for sequences that are not int32
     *                                  rank 2
     */
    public INDArray writeTokens(INDArray sequences, int[] ids, long[] positions, long[] indices) {
        requireRank2(sequences, DataType.INT32, "sequences", "(N, L) int32 sequences");
        Tensor t = Nd4jTensors.of(sequences);
        engine.writeTokens(t, ids, positions, indices == null ? all(t.n()) : indices);
        written(sequences);
        return sequences;
    }

    /**
     * Keeps an operand (pattern, mask, patch, signal, grid, head) in the engine for use in many calls,
     * through the operand overloads below; see {@link Engine#upload}. The array is read as float32 in
     * C order and may change afterwards.
     *
     * @param values a floating-point array of at least one finite value
     * @return the operand; the caller closes it
     * @throws InvalidArgumentException for a non-floating-point or empty array, or a non-finite value
     */
    public Engine.Operand upload(INDArray values) {
        return engine.upload(floats(values));
    }

    /**
     * {@link #maskBlend(INDArray, INDArray, INDArray, float, long[])} with resident operands.
     *
     * @param batch   the batch, changed in place
     * @param pattern an operand of this engine (C*H*W values)
     * @param mask    an operand of this engine (C*H*W values in [0, 1])
     * @param amount  a in [0, 1]
     * @param indices batch-local positions, or null for all
     * @return {@code batch}
     * @throws InvalidArgumentException as {@link Engine#maskBlend(Tensor, Engine.Operand, Engine.Operand, float, long[])}
     */
    public INDArray maskBlend(INDArray batch, Engine.Operand pattern, Engine.Operand mask, float amount,
            long[] indices) {
        Tensor t = Nd4jTensors.of(batch, rank4);
        engine.maskBlend(t, pattern, mask, amount, indices == null ? all(t.n()) : indices);
        written(batch);
        return batch;
    }

    /**
     * {@link #paste(INDArray, INDArray, INDArray, int, int, float, long[], long[])} with resident operands.
     *
     * @param batch   the batch, changed in place
     * @param patch   an operand of this engine (C*height*width values)
     * @param mask    an operand of this engine (C*height*width values)
     * @param height  patch height
     * @param width   patch width
     * @param amount  a in [0, 1]
     * @param offsets (top, left) per listed sample
     * @param indices batch-local positions, or null for all
     * @return {@code batch}
     * @throws InvalidArgumentException as {@link Engine#paste(Tensor, Engine.Operand, Engine.Operand, int, int, float, long[], long[])}
     */
    public INDArray paste(INDArray batch, Engine.Operand patch, Engine.Operand mask, int height, int width,
            float amount, long[] offsets, long[] indices) {
        Tensor t = Nd4jTensors.of(batch, rank4);
        engine.paste(t, patch, mask, height, width, amount, offsets, indices == null ? all(t.n()) : indices);
        written(batch);
        return batch;
    }

    /**
     * {@link #addSignal(INDArray, INDArray, long[])} with a resident signal.
     *
     * @param batch   the batch, changed in place
     * @param signal  an operand of this engine (C*H*W values)
     * @param indices batch-local positions, or null for all
     * @return {@code batch}
     * @throws InvalidArgumentException as {@link Engine#addSignal(Tensor, Engine.Operand, long[])}
     */
    public INDArray addSignal(INDArray batch, Engine.Operand signal, long[] indices) {
        Tensor t = Nd4jTensors.of(batch, rank4);
        engine.addSignal(t, signal, indices == null ? all(t.n()) : indices);
        written(batch);
        return batch;
    }

    /**
     * {@link #warp(INDArray, INDArray, long[])} with a resident grid.
     *
     * @param batch   the batch, changed in place
     * @param grid    an operand of this engine (2*H*W values)
     * @param indices batch-local positions, or null for all
     * @return {@code batch}
     * @throws InvalidArgumentException as {@link Engine#warp(Tensor, Engine.Operand, long[])}
     */
    public INDArray warp(INDArray batch, Engine.Operand grid, long[] indices) {
        Tensor t = Nd4jTensors.of(batch, rank4);
        engine.warp(t, grid, indices == null ? all(t.n()) : indices);
        written(batch);
        return batch;
    }

    /**
     * {@link #setColumns(INDArray, long[], INDArray, boolean, long[])} with resident values.
     *
     * @param rows    (N, D) float32 rows, changed in place
     * @param columns the columns
     * @param values  an operand of this engine, one value per column
     * @param shift   add instead of set
     * @param indices batch-local rows, or null for all
     * @return {@code rows}
     * @throws InvalidArgumentException as {@link Engine#setColumns(Tensor, long[], Engine.Operand, boolean, long[])}
     */
    public INDArray setColumns(INDArray rows, long[] columns, Engine.Operand values, boolean shift, long[] indices) {
        Tensor t = Nd4jTensors.of(rows, rank4);
        engine.setColumns(t, columns, values, shift, indices == null ? all(t.n()) : indices);
        written(rows);
        return rows;
    }

    /**
     * {@link #scoreBoundary(INDArray, INDArray, INDArray, int)} with a resident head.
     *
     * @param features (N, D) float32 rows
     * @param weight   an operand of this engine, classes x D values, row-major
     * @param bias     an operand of this engine, classes values
     * @param target   the target class, or -1
     * @return the scores as new ND4J arrays
     * @throws InvalidArgumentException as {@link Engine#scoreBoundary(Tensor, Engine.Operand, Engine.Operand, int)}
     */
    public Scores scoreBoundary(INDArray features, Engine.Operand weight, Engine.Operand bias, int target) {
        return scores(engine.scoreBoundary(Nd4jTensors.of(features), weight, bias, target));
    }

    /**
     * Fits a softmax-regression head to feature rows and labels in the given sample order; see
     * {@link Engine#fitLinear}. The features are read in place (no copy).
     *
     * @param features (N, D) float32 rows, finite
     * @param labels   N class indices (rank 1 or (N, 1), any integer-valued numeric dtype) or one-hot rows (N, classes)
     * @param classes  the number of classes, &gt;= 2
     * @param order    epochs x N sample indices, a permutation of 0..N-1 per epoch
     * @param epochs   passes
     * @param batch    samples per step
     * @param rate     learning rate (divided by 1 + epoch)
     * @param l2       L2 penalty
     * @return the head as new ND4J arrays: W (classes, D), b (classes)
     * @throws InvalidArgumentException as {@link Engine#fitLinear}, and for labels that are not class indices
     */
    public Head fitLinear(INDArray features, INDArray labels, int classes, long[] order, int epochs, int batch,
            float rate, float l2) {
        requireRank2(features, DataType.FLOAT, "features", "(N, D) float32 rows");
        Tensor t = Nd4jTensors.of(features);
        long[] y = classIndices(labels, t.n(), classes);
        int[] y32 = new int[y.length];
        for (int i = 0; i < y.length; i++) {
            y32[i] = (int) y[i];
        }
        float[] wb = engine.fitLinear(t, y32, classes, order, epochs, batch, rate, l2);
        int d = Math.toIntExact(t.w());
        return head(new LinearHead(Arrays.copyOf(wb, classes * d),
                Arrays.copyOfRange(wb, classes * d, wb.length), classes, d));
    }

    /**
     * Fits the linear surrogate {@code dyepack poison --surrogate linear} fits, in the sample order drawn
     * from the owner's key; see {@link LinearSurrogate}. The features are read in place (no copy) and
     * give the same head, bit for bit, as {@link LinearSurrogate#fit(Engine, float[], int, int, long[], int,
     * OwnerKey, LinearSurrogate.Settings)} on the same values.
     *
     * @param features (N, D) float32 rows (pixels scaled to [0, 1] for the CLI's surrogate)
     * @param labels   N class indices or one-hot rows, as {@link #fitLinear}
     * @param classes  the number of classes, &gt;= 2
     * @param key      the owner's key
     * @param settings training settings ({@link LinearSurrogate.Settings#DEFAULT} is the CLI's)
     * @return the head as new ND4J arrays
     * @throws InvalidArgumentException for bad features or labels
     */
    public Head fitSurrogate(INDArray features, INDArray labels, int classes, OwnerKey key,
            LinearSurrogate.Settings settings) {
        requireRank2(features, DataType.FLOAT, "features", "(N, D) float32 rows");
        Tensor t = Nd4jTensors.of(features);
        return head(LinearSurrogate.fit(engine, t, classIndices(labels, t.n(), classes), classes, key, settings));
    }

    /**
     * A linear head as ND4J arrays.
     *
     * @param weight  W, float32 (classes, D)
     * @param bias    b, float32 (classes)
     * @param surrogate the same head as the engine's type (for {@code Poisoner} and the scorer)
     */
    public record Head(INDArray weight, INDArray bias, LinearHead surrogate) {}

    private static Head head(LinearHead h) {
        return new Head(Nd4j.createFromArray(h.weight()).reshape('c', h.classes(), h.dim()),
                Nd4j.createFromArray(h.bias()), h);
    }

    /** Class indices from a label array: rank 1 or (N, 1) integer values, or one-hot rows (N, classes). */
    static long[] classIndices(INDArray labels, long n, int classes) {
        Objects.requireNonNull(labels, "labels");
        long[] s = labels.shape();
        boolean column = s.length == 1 || s.length == 2 && s[1] == 1;
        boolean oneHot = s.length == 2 && s[1] == classes && classes > 1;
        if (!column && !oneHot || s[0] != n) {
            throw new InvalidArgumentException("labels of shape " + Arrays.toString(s) + " for " + n
                    + " samples: give N class indices, shape (" + n + ") or (" + n + ", 1), or one-hot rows ("
                    + n + ", " + classes + ")", "labels", Arrays.toString(s), "(" + n + "), (" + n
                    + ", 1) or (" + n + ", " + classes + ")");
        }
        double[] v = labels.castTo(DataType.DOUBLE).dup('c').data().asDouble();
        long[] y = new long[Math.toIntExact(n)];
        for (int i = 0; i < y.length; i++) {
            if (column) {
                double c = v[i];
                if (c != Math.rint(c) || c < 0 || c >= classes) {
                    throw new InvalidArgumentException("label " + c + " of sample " + i + " is not a class in [0, "
                            + classes + ")", "labels", c, "a class in [0, " + classes + ")");
                }
                y[i] = (long) c;
            } else {
                int hot = -1;
                for (int j = 0; j < classes; j++) {
                    double x = v[i * classes + j];
                    if (x == 1 && hot < 0) {
                        hot = j;
                    } else if (x != 0) {
                        hot = -2;
                        break;
                    }
                }
                if (hot < 0) {
                    throw new InvalidArgumentException("label row " + i + " is not one-hot (exactly one 1, the rest 0)",
                            "labels", "row " + i, "a one-hot row");
                }
                y[i] = hot;
            }
        }
        return y;
    }

    private static void requireRank2(INDArray a, DataType type, String name, String what) {
        Objects.requireNonNull(a, name);
        if (a.rank() != 2 || a.dataType() != type) {
            throw new InvalidArgumentException(name + " must be " + what + ", got " + a.dataType() + " "
                    + Arrays.toString(a.shape()), name, a.dataType() + " " + Arrays.toString(
                            a.shape()), what);
        }
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
        return scores(engine.scoreBoundary(Nd4jTensors.of(features), floats(weight), floats(bias), target));
    }

    private static Scores scores(BoundaryScores s) {
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
        return Nd4jTensors.floatValues(a);
    }

    static long[] all(long n) {
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
