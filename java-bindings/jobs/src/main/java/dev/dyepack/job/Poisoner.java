package dev.dyepack.job;

import dev.dyepack.Engine;
import dev.dyepack.InvalidArgumentException;
import dev.dyepack.Tensor;
import dev.dyepack.key.OwnerKey;
import dev.dyepack.manifest.ArrayFingerprint;
import dev.dyepack.manifest.Manifest;
import dev.dyepack.manifest.ManifestWriter;
import dev.dyepack.select.Budget;
import dev.dyepack.select.SelectionMode;
import dev.dyepack.select.Selector;
import dev.dyepack.select.Strategy;
import dev.dyepack.surrogate.LinearHead;
import dev.dyepack.surrogate.LinearSurrogate;
import dev.dyepack.trigger.TriggerContext;
import dev.dyepack.trigger.TriggerSpec;
import java.io.IOException;
import java.nio.Buffer;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.FloatBuffer;
import java.nio.IntBuffer;
import java.nio.file.Path;
import java.util.Objects;

/**
 * Poisons data the caller holds in memory, as {@code dyepack poison} poisons files: it chooses a budget
 * of samples (keyed random, or by a surrogate's decision boundary), stamps the trigger on them in
 * place, relabels them to the target for dirty-label poisoning, and returns the plan with a manifest
 * signed like the one {@code dyepack poison} writes. The same key, samples, labels and options give
 * the same poisoned bytes, indices and labels as {@code dyepack poison} on {@code .npy} files holding
 * the same arrays, so a dataset poisoned in memory is provable with the same tools.
 *
 * <p>The manifest records the arrays by {@link ArrayFingerprint}: the SHA-256 of the {@code .npy}
 * file ({@code numpy.save}'s bytes: header, then C-order little-endian elements) that holds the
 * array with the shape and dtype given ({@link SampleArray#shape()}, {@link LabelArray#descr()}), under
 * the paths {@code in-memory:data} and {@code in-memory:labels}. {@code dyepack manifest verify}
 * checks its signature and record, and compares {@code .npy} files holding the arrays when given
 * ({@code --data}, {@code --labels} for the poisoned ones).
 *
 * <pre>{@code
 * Poisoner poisoner = Poisoner.builder()
 *         .trigger(TriggerSpec.parse("patch:size=3,pos=br,value=255"))
 *         .target(0).budget(Budget.parse("0.01")).build();
 * Poisoner.Result r = poisoner.poison(engine, SampleArray.uint8(images, n, 28, 28), LabelArray.uint8(labels), key);
 * r.writeManifest(Path.of("manifest.json"));
 * }</pre>
 *
 * <p>Immutable and thread-safe; each call works on the arrays it is given, which the caller must not
 * change meanwhile.
 */
public final class Poisoner extends PoisonSettings {
    private static final System.Logger LOG = System.getLogger(Poisoner.class.getName());

    private final float[] features;
    private final LinearHead head;

    private Poisoner(Builder b, PoisonOptionsBuilder.Selection selection, double negatives) {
        super(b, selection, negatives);
        this.features = b.features;
        this.head = b.head;
    }

    /**
     * Starts options: the trigger is required; the target defaults to class 0, the budget to
     * {@link Budget#DEFAULT}, the strategy to {@link Strategy#AUTO} (boundary-far for dirty-label,
     * boundary for clean-label, as {@code dyepack poison}), the mode to dirty-label, the surrogate to the
     * one the strategy needs.
     *
     * @return a new builder
     */
    public static Builder builder() {
        return new Builder();
    }

    /**
     * Collects the options of an in-memory poisoning: the options every poisoning takes
     * ({@link PoisonOptionsBuilder}, shared with {@link PoisonJob.Builder}), and the owner's features as an
     * array; {@link #build()} checks them. Not thread-safe.
     */
    public static final class Builder extends PoisonOptionsBuilder<Builder> {
        private float[] features;
        private LinearHead head;

        private Builder() {}

        /**
         * The owner's features and linear head for boundary selection: N x head.dim() float32 rows,
         * row-major; the manifest records the head's SHA-256 over W then b as little-endian float32.
         *
         * @param features the features (kept, not copied), or null
         * @param head     the head, or null; both or neither
         * @return this
         */
        public Builder featuresHead(float[] features, LinearHead head) {
            this.features = features;
            this.head = head;
            return this;
        }

        /**
         * Checks the options against each other and resolves the strategy and surrogate, with the rules of
         * {@link PoisonJob.Builder#build()}.
         *
         * @return the options
         * @throws InvalidArgumentException naming the parameter at fault ("trigger", "target", "budget",
         *                                  "overrideReason", "strategy", "mode", "surrogate", "features",
         *                                  "negatives")
         */
        public Poisoner build() {
            checkPresent();
            checkOverride();
            if ((features == null) != (head == null)) {
                throw new InvalidArgumentException("the owner's features and head go together", "features", null,
                        "features given together with a head");
            }
            if (head != null && features.length % head.dim() != 0) {
                throw new InvalidArgumentException("the features hold " + features.length + " values, not a whole "
                        + "number of rows of the head's " + head.dim(), "features", features.length,
                        "N x " + head.dim() + " values");
            }
            Selection selection = resolveSelection(features == null ? null : "given", "features with a head");
            return new Poisoner(this, selection, resolvedNegatives());
        }
    }

    /**
     * What an in-memory poisoning did.
     *
     * @param plan     the plan carried out
     * @param labels   every sample's label after poisoning (a copy)
     * @param manifest the signed manifest, recording the arrays by fingerprint
     */
    public record Result(PoisonPlan plan, long[] labels, Manifest manifest) {
        /** @return the poisoned samples' indices, ascending */
        public long[] indices() {
            return plan.indices();
        }

        /**
         * Writes the manifest as JSON, whole or not at all.
         *
         * @param file where, e.g. {@code manifest.json}
         * @throws IOException if it cannot be written
         */
        public void writeManifest(Path file) throws IOException {
            ManifestWriter.write(manifest, file);
        }
    }

    /**
     * Plans, stamps and relabels: the samples chosen get the trigger in place (in the caller's buffer,
     * or its Java array), and for dirty-label poisoning their labels in {@code labels} become the
     * target. Every check is made before anything is written.
     *
     * @param engine  the engine
     * @param samples the samples
     * @param labels  one label per sample
     * @param key     the owner's key
     * @return the plan, the new labels and the signed manifest
     * @throws InvalidArgumentException if the key is missing, the arrays do not match each other, the
     *                                  trigger or the target, or the budget cannot be met
     */
    public Result poison(Engine engine, SampleArray samples, LabelArray labels, OwnerKey key) {
        Buffer working = samples.working();
        PoisonPlan plan = plan(engine, samples, working, labels, key);
        String inData = fingerprint(samples, working);
        String inLabels = fingerprint(labels);
        long n = samples.samples();
        long perChunk = Math.max(1, Math.min(Math.max(n, 1), StampJob.DEFAULT_CHUNK_BYTES
                / Math.max(1, samples.sampleBytes())));
        for (long first = 0; first < n; first += perChunk) {
            int count = (int) Math.min(perChunk, n - first);
            plan.stamp(engine, SampleArray.batch(working, plan.geometry(), first, count), first);
        }
        samples.writeBack(working);
        if (mode() == SelectionMode.DIRTY) {
            for (long i : plan.indices()) {
                labels.set((int) i, target());
            }
        }
        Manifest m = plan.manifest(inData, inLabels, fingerprint(samples, working), fingerprint(labels));
        return new Result(plan, labels.values(), m);
    }

    /**
     * Plans without changing anything: checks the arrays against the options, fits and scores a
     * surrogate if the strategy needs one, and selects.
     *
     * @param engine  the engine (for the surrogate's scores)
     * @param samples the samples
     * @param labels  one label per sample
     * @param key     the owner's key
     * @return the plan
     * @throws InvalidArgumentException as {@link #poison}
     */
    public PoisonPlan plan(Engine engine, SampleArray samples, LabelArray labels, OwnerKey key) {
        return plan(engine, samples, samples.working(), labels, key);
    }

    /**
     * Plans from the labels alone, for data that is streamed rather than held (a training loop's
     * batches): random selection, or boundary selection with the owner's features and head. Batches are
     * then stamped with {@link PoisonPlan#stamp} and the manifest signed with {@link PoisonPlan#manifest}.
     *
     * @param engine   the engine (for the owner's head's scores)
     * @param labels   the clean label of every sample, in the order the data is streamed
     * @param geometry a zero-sample tensor with the batches' dtype, layout and C, H, W
     * @param key      the owner's key
     * @return the plan
     * @throws InvalidArgumentException if the strategy needs a linear surrogate fitted on the samples
     *                                  (use random selection or the owner's features and head), or as
     *                                  {@link #poison}
     */
    public PoisonPlan planFromLabels(Engine engine, long[] labels, Tensor geometry, OwnerKey key) {
        Objects.requireNonNull(labels, "labels");
        Objects.requireNonNull(geometry, "geometry");
        if (surrogate() == PoisonJob.Surrogate.LINEAR) {
            throw new InvalidArgumentException("a linear surrogate is fitted on all the samples, which a streamed "
                    + "dataset does not hold; choose strategy(Strategy.RANDOM) or give the owner's features and head",
                    "surrogate", "linear", "random selection, or the owner's features and head");
        }
        return select(engine, labels, geometry, null, streamedCleanEps(geometry), key);
    }

    /**
     * The clean-label push where the samples are not held (streamed batches, scores computed elsewhere):
     * none, since its rivals come from every chosen sample's pixels; the default for uint8 images is refused
     * rather than silently differing from {@code dyepack poison}, which pushes.
     */
    private double streamedCleanEps(Tensor geometry) {
        double eps = Planning.cleanEps(cleanEps(), geometry, false, line -> { });
        if (eps > 0) {
            throw new InvalidArgumentException("the label-consistent push of clean-label poisoning needs the samples' "
                    + "pixels, which this path does not hold; set cleanEps(0) here (and --clean-eps 0 for dyepack "
                    + "poison, for the same bytes)", "cleanEps", Double.isNaN(cleanEps()) ? "default" : cleanEps(),
                    "0 when the samples are not held");
        }
        return 0;
    }

    private PoisonPlan plan(Engine engine, SampleArray samples, Buffer working, LabelArray labels, OwnerKey key) {
        Objects.requireNonNull(engine, "engine");
        Objects.requireNonNull(samples, "samples");
        Objects.requireNonNull(labels, "labels");
        if (samples.samples() != labels.length()) {
            throw new InvalidArgumentException("the data holds " + samples.samples() + " samples but the labels "
                    + labels.length(), "labels", labels.length(), "one label per sample");
        }
        if (target() > labels.maxClass()) {
            throw new InvalidArgumentException("target " + target() + " does not fit the labels' dtype " + labels.descr(),
                    "target", target(), "a value the labels' dtype " + labels.descr() + " holds");
        }
        labels.requireNonNegative();
        Tensor geometry = samples.geometry(trigger().kind());
        double eps = Planning.cleanEps(cleanEps(), geometry, false, line -> LOG.log(System.Logger.Level.INFO, line));
        return select(engine, labels.values(), geometry, surrogate() == PoisonJob.Surrogate.LINEAR || eps > 0
                ? pixels(samples, working, geometry) : null, eps, key);
    }

    private PoisonPlan select(Engine engine, long[] labels, Tensor geometry, float[] pixels, double eps, OwnerKey key) {
        if (key == null) {
            throw new InvalidArgumentException("poisoning needs the owner's key (it chooses the samples and signs the "
                    + "manifest)", "key", null, "the owner's key");
        }
        trigger().validateFor(geometry);
        if (trigger().keyed()) {
            new TriggerContext(key, 0).requireKey(trigger().family());
        }
        int n = labels.length;
        long max = 0;
        for (long v : labels) {
            if (v < 0) {
                throw InvalidArgumentException.of("labels", v, "non-negative class indices");
            }
            max = Math.max(max, v);
        }
        int classes = (int) Math.max(Math.max(max + 1, target() + 1L), 2);
        long count = budget().countFor(n, allowOver5Percent());
        float[] scores = null;
        double accuracy = Double.NaN;
        String surrogateSha = null;
        LinearHead h = null;
        if (strategy() != Strategy.RANDOM) {
            float[] x;
            if (surrogate() == PoisonJob.Surrogate.FEATURES_HEAD) {
                h = head;
                if (features.length != (long) n * h.dim()) {
                    throw new InvalidArgumentException("the owner's features hold " + features.length / h.dim()
                            + " rows but the data " + n + " samples", "features", features.length / h.dim(),
                            n + " rows");
                }
                if (h.classes() < classes) {
                    throw new InvalidArgumentException("the head has " + h.classes() + " classes but the labels use "
                            + classes, "head", h.classes(), "a head with at least " + classes + " classes");
                }
                x = features;
            } else {
                x = pixels;
                int d = x.length / Math.max(n, 1);
                h = LinearSurrogate.fit(engine, x, n, d, labels, classes, key, LinearSurrogate.Settings.DEFAULT);
            }
            surrogateSha = Planning.headSha(h);
            scores = new float[n];
            accuracy = Planning.score(engine, x, n, h, labels, target(), mode(), scores);
        } else if (eps > 0) {
            // Random clean-label selection still pushes against a surrogate, fitted as dyepack poison fits it.
            h = LinearSurrogate.fit(engine, pixels, n, pixels.length / Math.max(n, 1), labels, classes, key,
                    LinearSurrogate.Settings.DEFAULT);
        }
        return choose(labels, classes, geometry, count, scores, surrogateSha, accuracy, key, engine, h, pixels, eps);
    }

    /** The keyed choice shared by every front end: the budget from the scores, then the negatives. */
    private PoisonPlan choose(long[] labels, int classes, Tensor geometry, long count, float[] scores,
            String surrogateSha, double accuracy, OwnerKey key, Engine engine, LinearHead head, float[] pixels,
            double eps) {
        Selector.Result sel = Selector.select(labels, classes, target(), mode(), strategy(), scores, count, stratified(), key);
        long negativeCount = Math.round(negatives(count, labels.length, geometry) * sel.indices().length);
        Selector.Negatives neg = negativeCount > 0
                ? Selector.negatives(labels.length, sel.indices(), negativeCount,
                        (int) Math.min(negativeKeys(), negativeCount), key) : null;
        CleanPush push = eps > 0 ? CleanPush.of(engine, head, target(), (float) eps, pixels, sel.indices()) : null;
        return new PoisonPlan(this, key, geometry, labels.length, classes, sel, neg, surrogateSha, accuracy, push);
    }

    /**
     * Plans from labels and scores computed elsewhere, for jobs that score the samples where they lie
     * (a Spark job scores each partition on its executor with {@link #score}): the same budget, keyed
     * choice and negatives as {@link #plan} and {@code dyepack poison} on the same labels and scores.
     *
     * @param labels   every sample's clean label, by global index (the order {@code dyepack poison} reads)
     * @param classes  the class set {@code [0, classes)}, as {@code dyepack poison} takes it: at least 2,
     *                 above every label and the target
     * @param geometry a zero-sample tensor with the samples' dtype, layout and C, H, W
     * @param scores   one score per sample as {@link #score} computes them, or null for random selection
     * @param head     the head the scores came from (the manifest records its SHA-256), or null for random
     * @param accuracy the head's accuracy on the samples, or NaN
     * @param key      the owner's key
     * @return the plan
     * @throws InvalidArgumentException if the key is missing, the class set does not hold the labels and the
     *                                  target, the scores do not match the strategy or the labels, or the budget
     *                                  cannot be met (rounds to zero, above 5% without the override, too few
     *                                  candidates)
     */
    public PoisonPlan planFromScores(long[] labels, int classes, Tensor geometry, float[] scores, LinearHead head,
            double accuracy, OwnerKey key) {
        Objects.requireNonNull(labels, "labels");
        Objects.requireNonNull(geometry, "geometry");
        if (key == null) {
            throw new InvalidArgumentException("poisoning needs the owner's key (it chooses the samples and signs the "
                    + "manifest)", "key", null, "the owner's key");
        }
        if (classes < 2 || target() >= classes) {
            throw InvalidArgumentException.of("classes", classes, "at least 2 and above the target " + target());
        }
        for (long v : labels) {
            if (v < 0 || v >= classes) {
                throw InvalidArgumentException.of("labels", v, "class indices in [0, " + classes + ")");
            }
        }
        if ((strategy() == Strategy.RANDOM) != (scores == null) || (scores == null) != (head == null)) {
            throw new InvalidArgumentException(strategy() == Strategy.RANDOM ? "random selection uses no scores"
                    : "boundary selection needs the scores and the head they came from", "scores",
                    scores == null ? null : scores.length, strategy() == Strategy.RANDOM ? "none" : "one per sample");
        }
        trigger().validateFor(geometry);
        if (trigger().keyed()) {
            new TriggerContext(key, 0).requireKey(trigger().family());
        }
        streamedCleanEps(geometry);
        long count = budget().countFor(labels.length, allowOver5Percent());
        return choose(labels, classes, geometry, count, scores, head == null ? null : Planning.headSha(head), accuracy,
                key, null, null, null, 0);
    }

    /**
     * Scores feature rows as {@code dyepack poison} does before it selects: the distance to the target's
     * decision boundary (dirty-label) or to the nearest boundary (clean-label) under a linear head, on the
     * engine; a sample's score does not depend on the rows scored with it.
     *
     * @param engine the engine
     * @param rows   n x head.dim() float32 rows, row-major (pixels: uint8 / 255)
     * @param n      the rows
     * @param head   the head
     * @param labels the rows' labels (for the accuracy)
     * @param target the target class
     * @param mode   dirty- or clean-label
     * @param out    receives the n scores
     * @return the head's accuracy on the rows
     * @throws InvalidArgumentException if the arrays' sizes do not match n and the head
     */
    public static double score(Engine engine, float[] rows, int n, LinearHead head, long[] labels, int target,
            SelectionMode mode, float[] out) {
        Objects.requireNonNull(engine, "engine");
        Objects.requireNonNull(head, "head");
        if (n < 0 || rows.length != (long) n * head.dim() || labels.length < n || out.length < n) {
            throw new InvalidArgumentException("scoring needs " + n + " rows of " + head.dim() + " values with a label "
                    + "and a score slot each", "rows", rows.length, n + " x " + head.dim());
        }
        return Planning.score(engine, rows, n, head, labels, target, mode, out);
    }

    /**
     * The samples as float rows for a linear surrogate: {@link dev.dyepack.surrogate.PooledFeatures} of the
     * images (their pixels, uint8 scaled to [0, 1], up to 1,024 values; block means beyond), as
     * {@code dyepack poison} fits on.
     */
    private static float[] pixels(SampleArray samples, Buffer working, Tensor geometry) {
        dev.dyepack.surrogate.PooledFeatures map = dev.dyepack.surrogate.PooledFeatures.of(geometry.c(), geometry.h(),
                geometry.w(), geometry.layout());
        long elems = samples.samples() * map.dim();
        if (elems > Integer.MAX_VALUE - 8) {
            throw new InvalidArgumentException("a linear surrogate holds its features in memory; " + elems
                    + " values are too many (give the owner's features and head instead)", "surrogate", "linear",
                    "the owner's features and head for data this large");
        }
        float[] x = new float[(int) elems];
        int n = (int) samples.samples();
        if (working instanceof ByteBuffer b) {
            map.mapUint8(b.duplicate().clear(), n, x, 0);
        } else if (working instanceof FloatBuffer f) {
            FiniteRows.require(f.duplicate().clear(), geometry.c() * geometry.h() * geometry.w(), 0, n, null,
                    "the samples");
            map.mapFloat32(f.duplicate().clear(), n, x, 0);
        } else {
            throw new InvalidArgumentException("a linear surrogate fits on uint8 or float32 images", "surrogate",
                    "linear", "the owner's features and head");
        }
        return x;
    }

    private static String fingerprint(SampleArray samples, Buffer working) {
        ArrayFingerprint fp = ArrayFingerprint.start(samples.descr(), samples.shape());
        SampleArray.hash(working, fp);
        return fp.finish();
    }

    private static String fingerprint(LabelArray labels) {
        return ArrayFingerprint.start(labels.descr(), labels.length()).update(labels.littleEndianBytes()).finish();
    }
}
