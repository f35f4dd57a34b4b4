package dev.dyepack.surrogate;

import dev.dyepack.Engine;
import dev.dyepack.InvalidArgumentException;
import dev.dyepack.Tensor;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;

/**
 * The first step of label-consistent poisoning (Turner, Tsipras and Madry, <em>Label-Consistent
 * Backdoor Attacks</em>, 2019) against a linear surrogate on the pixels: each chosen target-class sample
 * is pushed away from its class by the L-infinity-bounded step that most lowers the surrogate's margin
 * over its strongest rival, before the trigger is stamped. With logits {@code z = W x + b}, target t
 * and rival r, the margin {@code z_t - z_r} falls fastest within {@code ||delta||_inf <= eps} at
 * {@code delta = -eps * sign(w_t - w_r)} (zero where the two rows agree): a closed form, no iteration.
 * The sample keeps its (correct) label, but its own features now speak less for it, so a network
 * learns the trigger as the easiest explanation of the label.
 *
 * <p>The rival is the surrogate's predicted class when that is not the target, else its runner-up
 * (both from {@link Engine#scoreBoundary}). The push runs on the engine as one
 * {@link Engine#addSignal} per rival class over the samples that have it (uint8 results rounded half
 * to even and clamped), so it runs on the CPU and CUDA backends with the same bits; it is a function of
 * the surrogate (fitted under the owner's key), the target, eps and the data, so the same key and data
 * give the same bytes. Immutable; thread-safe.
 */
public final class LabelConsistentPush {
    private final int target;
    private final float eps;
    private final int classes;
    private final int dim;
    /** One signal per class (null for the target): -eps * sign(w_t - w_j), in the pixels' order. */
    private final float[][] signals;

    private LabelConsistentPush(int target, float eps, int classes, int dim, float[][] signals) {
        this.target = target;
        this.eps = eps;
        this.classes = classes;
        this.dim = dim;
        this.signals = signals;
    }

    /**
     * The push for a surrogate head over the samples' pixels.
     *
     * @param head   a linear head whose features are the samples' elements, in their memory order
     * @param target the target class
     * @param eps    the L-infinity bound, in the data's units (0..255 for uint8), finite and positive
     * @return the push
     * @throws InvalidArgumentException if eps is not a positive finite number or the target is not a
     *                                  class of the head
     * @throws NullPointerException     if head is null
     */
    public static LabelConsistentPush of(LinearHead head, int target, float eps) {
        Objects.requireNonNull(head, "head");
        if (!(eps > 0 && Float.isFinite(eps))) {
            throw InvalidArgumentException.of("eps", eps, "a positive finite number");
        }
        if (target < 0 || target >= head.classes()) {
            throw InvalidArgumentException.of("target", target, "a class of the head, [0, " + head.classes() + ")");
        }
        int d = head.dim();
        float[] w = head.weight();
        float[][] signals = new float[head.classes()][];
        for (int j = 0; j < head.classes(); j++) {
            if (j == target) {
                continue;
            }
            float[] s = new float[d];
            for (int e = 0; e < d; e++) {
                float diff = w[target * d + e] - w[j * d + e];
                s[e] = diff > 0 ? -eps : diff < 0 ? eps : 0f;
            }
            signals[j] = s;
        }
        return new LabelConsistentPush(target, eps, head.classes(), d, signals);
    }

    /** @return the L-infinity bound, data units */
    public float eps() {
        return eps;
    }

    /** @return the target class */
    public int target() {
        return target;
    }

    /**
     * The signal added to a sample whose rival is class j.
     *
     * @param rival a class other than the target
     * @return a copy of {@code -eps * sign(w_t - w_rival)}, one value per element
     * @throws InvalidArgumentException if rival is the target or not a class of the head
     */
    public float[] signal(int rival) {
        if (rival < 0 || rival >= classes || rival == target) {
            throw InvalidArgumentException.of("rival", rival, "a class of the head other than the target " + target);
        }
        return signals[rival].clone();
    }

    /**
     * The rival of each scored sample: the predicted class when it is not the target, else the runner-up.
     *
     * @param scores the surrogate's scores of the samples
     * @return one class per sample, never the target
     * @throws NullPointerException if scores is null
     */
    public int[] rivals(dev.dyepack.BoundaryScores scores) {
        Objects.requireNonNull(scores, "scores");
        int[] out = new int[scores.size()];
        for (int i = 0; i < out.length; i++) {
            out[i] = scores.predicted()[i] != target ? scores.predicted()[i] : scores.runnerUp()[i];
        }
        return out;
    }

    /**
     * Pushes the selected samples of a batch, in place: sample {@code indices[i]} gets
     * {@code clip(x + signal(rivals[i]))}, one engine call per rival class.
     *
     * @param engine  the engine
     * @param batch   images whose per-sample element count is the head's dimension
     * @param indices the samples to push, each in [0, N) once
     * @param rivals  each sample's rival class, as {@link #rivals} gives it
     * @throws InvalidArgumentException if the batch's sample size is not the head's dimension, the
     *                                  arrays differ in length, a rival is not a class other than the
     *                                  target, or an index is bad (nothing is written then)
     * @throws NullPointerException     if an argument is null
     */
    public void apply(Engine engine, Tensor batch, long[] indices, int[] rivals) {
        Objects.requireNonNull(engine, "engine");
        Objects.requireNonNull(batch, "batch");
        Objects.requireNonNull(indices, "indices");
        Objects.requireNonNull(rivals, "rivals");
        if (batch.c() * batch.h() * batch.w() != dim) {
            throw new InvalidArgumentException("the push was built for samples of " + dim + " elements, the batch's "
                    + "have " + batch.c() * batch.h() * batch.w(), "batch", batch, "samples of " + dim + " elements");
        }
        if (indices.length != rivals.length) {
            throw new InvalidArgumentException(indices.length + " indices but " + rivals.length + " rivals", "rivals",
                    rivals.length, indices.length + " rivals");
        }
        long[] sorted = indices.clone();
        java.util.Arrays.sort(sorted);
        for (int i = 1; i < sorted.length; i++) {
            if (sorted[i] == sorted[i - 1]) {
                throw new InvalidArgumentException("index " + sorted[i] + " is listed twice", "indices", sorted[i],
                        "each sample once");
            }
        }
        List<List<Long>> groups = new ArrayList<>();
        for (int j = 0; j < classes; j++) {
            groups.add(new ArrayList<>());
        }
        for (int i = 0; i < indices.length; i++) {
            int r = rivals[i];
            if (r < 0 || r >= classes || r == target) {
                throw InvalidArgumentException.of("rival", r, "a class of the head other than the target " + target);
            }
            groups.get(r).add(indices[i]);
        }
        for (int j = 0; j < classes; j++) {
            if (!groups.get(j).isEmpty()) {
                engine.addSignal(batch, signals[j], groups.get(j).stream().mapToLong(Long::longValue).toArray());
            }
        }
    }
}
