package dev.dyepack.job;

import dev.dyepack.BoundaryScores;
import dev.dyepack.Engine;
import dev.dyepack.InvalidArgumentException;
import dev.dyepack.Tensor;
import dev.dyepack.select.SelectionMode;
import dev.dyepack.surrogate.LinearHead;
import dev.dyepack.trigger.DataKind;
import dev.dyepack.trigger.TriggerSpec;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.FloatBuffer;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;

/**
 * The parts of planning a poisoning that {@link PoisonJob} (files) and {@link Poisoner} (arrays in
 * memory) share, so that both choose the same samples and record the same manifest for the same data,
 * key and options.
 */
final class Planning {
    private Planning() {
    }

    /**
     * The label-consistent push's bound for this data, from the one the options resolved
     * ({@link PoisonSettings#cleanEps()}): the default is {@link PoisonJob#DEFAULT_CLEAN_EPS} for uint8 images
     * whose surrogate features are their pixels, and no push where it cannot be applied (float32 data, whose
     * units only the owner knows; images whose features are pooled; image folders, which are re-encoded
     * image by image), with a note saying so; a bound given for data it cannot apply to is refused.
     *
     * @param requested the resolved option: 0, a bound, or NaN for the default
     * @param geometry  the samples' geometry
     * @param folder    whether the data is an image folder
     * @param note      receives a line when the default comes to no push
     * @return the bound, 0 for none
     * @throws InvalidArgumentException naming "cleanEps" for a bound this data cannot take
     */
    static double cleanEps(double requested, Tensor geometry, boolean folder, java.util.function.Consumer<String> note) {
        if (requested == 0) {
            return 0;
        }
        boolean pixels = dev.dyepack.surrogate.PooledFeatures.of(geometry.c(), geometry.h(), geometry.w(),
                geometry.layout()).factor() == 1;
        String why = folder ? "image folders (re-encoded image by image) get no label-consistent push"
                : !pixels ? "images over " + dev.dyepack.surrogate.PooledFeatures.MAX_FEATURES + " pixels (whose "
                        + "surrogate sees block means) get no label-consistent push"
                : null;
        if (!Double.isNaN(requested)) {
            if (why != null) {
                throw new InvalidArgumentException(why, "cleanEps", requested, "0 for this data");
            }
            return requested;
        }
        if (geometry.dtype() != dev.dyepack.DType.UINT8) {
            note.accept("note: clean-label float32 data get no label-consistent push unless its bound is given in the "
                    + "data's units");
            return 0;
        }
        if (why != null) {
            note.accept("note: " + why);
            return 0;
        }
        return PoisonJob.DEFAULT_CLEAN_EPS;
    }

    /**
     * Negatives per poisoned sample, resolved: for a keyed image trigger when not given,
     * {@link PoisonJob#DEFAULT_NEGATIVES} under dirty-label poisoning and {@link PoisonJob#CLEAN_NEGATIVES} under
     * clean-label (weaker, but without them other keys' models answer the owner's pattern; docs/efficacy.md,
     * section 18); 0 for any other trigger.
     *
     * @param trigger   the trigger
     * @param mode      dirty- or clean-label
     * @param requested the ratio asked for, or NaN for the default
     * @return the ratio
     * @throws InvalidArgumentException if the ratio is outside [0, {@value PoisonJob#MAX_NEGATIVES}], or
     *                                  positive for a trigger that is the same under every key
     */
    static double negatives(TriggerSpec trigger, SelectionMode mode, double requested) {
        boolean keyedImages = trigger.keyed() && trigger.kind() == DataKind.IMAGES;
        if (Double.isNaN(requested)) {
            return !keyedImages ? 0 : mode == SelectionMode.DIRTY ? PoisonJob.DEFAULT_NEGATIVES
                    : PoisonJob.CLEAN_NEGATIVES;
        }
        if (!(requested >= 0 && requested <= PoisonJob.MAX_NEGATIVES)) {
            throw InvalidArgumentException.of("negatives", requested, "a number in [0, " + PoisonJob.MAX_NEGATIVES
                    + "]");
        }
        if (requested > 0 && !keyedImages) {
            throw new InvalidArgumentException("negatives need a keyed image trigger: under another key "
                    + trigger.family() + " " + (trigger.keyed() ? "is not an image trigger" : "is the same pattern"),
                    "negatives", requested, "0 for " + trigger);
        }
        return requested;
    }

    /**
     * The scores selection sorts by: the distance to the target's boundary (dirty-label) or to the nearest
     * boundary (clean-label), scored on the engine chunk by chunk.
     *
     * @param engine the engine
     * @param x      N x d feature rows
     * @param n      N
     * @param head   the surrogate's head (its dim is d)
     * @param labels the samples' labels
     * @param target the target class
     * @param mode   dirty- or clean-label
     * @param out    receives the N scores
     * @return the surrogate's accuracy on the samples
     */
    static double score(Engine engine, float[] x, int n, LinearHead head, long[] labels, int target,
            SelectionMode mode, float[] out) {
        int d = head.dim();
        int chunk = Math.max(1, Math.min(n, (16 << 20) / Math.max(d * 4, 1)));
        long correct = 0;
        // One direct buffer for every chunk: allocating direct memory per chunk can stall on the JVM's
        // direct-memory accounting.
        FloatBuffer buffer = ByteBuffer.allocateDirect(chunk * d * 4).order(ByteOrder.nativeOrder()).asFloatBuffer();
        for (int first = 0; first < n; first += chunk) {
            int count = Math.min(chunk, n - first);
            FloatBuffer rows = buffer.clear().put(x, first * d, count * d).flip();
            BoundaryScores s = engine.scoreBoundary(Tensor.rows(rows, count, d), head.weight(), head.bias(), target);
            for (int i = 0; i < count; i++) {
                out[first + i] = mode == SelectionMode.DIRTY ? s.targetDistance()[i] : s.distance()[i];
                if (s.predicted()[i] == labels[first + i]) {
                    correct++;
                }
            }
        }
        return (double) correct / Math.max(n, 1);
    }

    /**
     * The fingerprint a manifest records for a fitted head: SHA-256 of W then b as little-endian float32.
     *
     * @param head the head
     * @return lower-case hex
     */
    static String headSha(LinearHead head) {
        try {
            MessageDigest md = MessageDigest.getInstance("SHA-256");
            ByteBuffer b = ByteBuffer.allocate((head.weight().length + head.bias().length) * 4)
                    .order(ByteOrder.LITTLE_ENDIAN);
            for (float v : head.weight()) {
                b.putFloat(v);
            }
            for (float v : head.bias()) {
                b.putFloat(v);
            }
            return HexFormat.of().formatHex(md.digest(b.array()));
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("SHA-256 is missing from this Java runtime", e);
        }
    }
}
