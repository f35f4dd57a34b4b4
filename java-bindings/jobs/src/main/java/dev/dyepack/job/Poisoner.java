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
import dev.dyepack.trigger.DataKind;
import dev.dyepack.trigger.TriggerContext;
import dev.dyepack.trigger.TriggerSpec;
import java.io.IOException;
import java.nio.Buffer;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.FloatBuffer;
import java.nio.IntBuffer;
import java.nio.file.Path;
import java.util.Locale;
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
public final class Poisoner {
    private final TriggerSpec trigger;
    private final int target;
    private final Budget budget;
    private final boolean allowOver5Percent;
    private final String overrideReason;
    private final Strategy strategy;
    private final SelectionMode mode;
    private final boolean stratified;
    private final PoisonJob.Surrogate surrogate;
    private final float[] features;
    private final LinearHead head;
    private final double negatives;

    private Poisoner(Builder b, Strategy strategy, PoisonJob.Surrogate surrogate, double negatives) {
        this.trigger = b.trigger;
        this.target = b.target;
        this.budget = b.budget;
        this.allowOver5Percent = b.allowOver5Percent;
        this.overrideReason = b.overrideReason;
        this.strategy = strategy;
        this.mode = b.mode;
        // As dyepack poison: AUTO always spreads the budget over the source classes.
        this.stratified = b.strategy.stratified(b.stratified);
        this.surrogate = surrogate;
        this.negatives = negatives;
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

    /** @return the trigger */
    public TriggerSpec trigger() {
        return trigger;
    }

    /** @return the target class */
    public int target() {
        return target;
    }

    /** @return the budget */
    public Budget budget() {
        return budget;
    }

    /** @return whether more than 5% may be poisoned */
    public boolean allowOver5Percent() {
        return allowOver5Percent;
    }

    /** @return why more than 5%, or null */
    public String overrideReason() {
        return overrideReason;
    }

    /** @return the selection strategy, resolved (never AUTO) */
    public Strategy strategy() {
        return strategy;
    }

    /** @return dirty- or clean-label */
    public SelectionMode mode() {
        return mode;
    }

    /** @return whether the budget is split across classes in proportion */
    public boolean stratified() {
        return stratified;
    }

    /**
     * @return negatives per poisoned sample, resolved as {@code dyepack poison} resolves them:
     *         {@link PoisonJob#DEFAULT_NEGATIVES} for a keyed image trigger under dirty-label unless set, 0 otherwise
     */
    public double negatives() {
        return negatives;
    }

    /** @return the scores' source, resolved: NONE exactly for random selection */
    public PoisonJob.Surrogate surrogate() {
        return surrogate;
    }

    /** Collects the options of an in-memory poisoning; {@link #build()} checks them. Not thread-safe. */
    public static final class Builder {
        private TriggerSpec trigger;
        private int target;
        private Budget budget = Budget.parse(Budget.DEFAULT);
        private boolean allowOver5Percent;
        private String overrideReason;
        private Strategy strategy = Strategy.AUTO;
        private SelectionMode mode = SelectionMode.DIRTY;
        private boolean stratified;
        private double negatives = Double.NaN;
        private PoisonJob.Surrogate surrogate;
        private float[] features;
        private LinearHead head;

        private Builder() {}

        /** @param v the trigger @return this */
        public Builder trigger(TriggerSpec v) {
            trigger = v;
            return this;
        }

        /** @param v the target class @return this */
        public Builder target(int v) {
            target = v;
            return this;
        }

        /** @param v the budget @return this */
        public Builder budget(Budget v) {
            budget = v;
            return this;
        }

        /** @param v whether more than 5% may be poisoned @return this */
        public Builder allowOver5Percent(boolean v) {
            allowOver5Percent = v;
            return this;
        }

        /** @param v why more than 5% (recorded), or null; only with the override @return this */
        public Builder overrideReason(String v) {
            overrideReason = v;
            return this;
        }

        /** @param v the selection strategy, AUTO to let the mode decide @return this */
        public Builder strategy(Strategy v) {
            strategy = v;
            return this;
        }

        /** @param v dirty- or clean-label @return this */
        public Builder mode(SelectionMode v) {
            mode = v;
            return this;
        }

        /** @param v whether to split the budget across classes @return this */
        public Builder stratified(boolean v) {
            stratified = v;
            return this;
        }

        /**
         * @param v negatives per poisoned sample (other samples stamped with the trigger under keys derived
         *          from the owner's, labels kept), in [0, {@value PoisonJob#MAX_NEGATIVES}]; NaN for the
         *          default, as {@link PoisonJob.Builder#negatives}
         * @return this
         */
        public Builder negatives(double v) {
            negatives = v;
            return this;
        }

        /** @param v the scores' source, or null to choose from the strategy and features @return this */
        public Builder surrogate(PoisonJob.Surrogate v) {
            surrogate = v;
            return this;
        }

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
         *                                  "overrideReason", "strategy", "mode", "surrogate", "features")
         */
        public Poisoner build() {
            require(trigger, "trigger", "a trigger spec");
            require(budget, "budget", "a fraction in (0, 1) or a count >= 1");
            require(strategy, "strategy", "auto, random, boundary or boundary-far");
            require(mode, "mode", "dirty or clean");
            if (target < 0) {
                throw InvalidArgumentException.of("target", target, "a class >= 0");
            }
            if (overrideReason != null && !allowOver5Percent) {
                throw new InvalidArgumentException("an override reason is only for a budget allowed over 5%",
                        "overrideReason", overrideReason, "given only with allowOver5Percent");
            }
            if ((features == null) != (head == null)) {
                throw new InvalidArgumentException("the owner's features and head go together", "features", null,
                        "features given together with a head");
            }
            if (head != null && features.length % head.dim() != 0) {
                throw new InvalidArgumentException("the features hold " + features.length + " values, not a whole "
                        + "number of rows of the head's " + head.dim(), "features", features.length,
                        "N x " + head.dim() + " values");
            }
            Strategy s = strategy.resolve(mode);
            PoisonJob.Surrogate g = surrogate != null ? surrogate
                    : s == Strategy.RANDOM ? PoisonJob.Surrogate.NONE
                    : features != null ? PoisonJob.Surrogate.FEATURES_HEAD : PoisonJob.Surrogate.LINEAR;
            if (g == PoisonJob.Surrogate.FEATURES_HEAD && features == null) {
                throw new InvalidArgumentException("the features-and-head surrogate needs the owner's features and "
                        + "head", "features", null, "features with a head");
            }
            if (g != PoisonJob.Surrogate.FEATURES_HEAD && features != null) {
                throw new InvalidArgumentException("this selection uses no features or head", "features", "given",
                        "absent unless the surrogate is the owner's features and head");
            }
            if (trigger.kind() != DataKind.IMAGES && g == PoisonJob.Surrogate.LINEAR) {
                throw new InvalidArgumentException("a linear surrogate fits on image pixels; for " + trigger.family()
                        + " data give the owner's features and head", "surrogate", "linear",
                        "the owner's features and head for non-image data");
            }
            if (s != Strategy.RANDOM && g == PoisonJob.Surrogate.NONE) {
                throw new InvalidArgumentException("boundary selection needs a surrogate: a linear one, or the "
                        + "owner's features and head", "surrogate", "none", "linear or features and head");
            }
            if (s == Strategy.RANDOM && g != PoisonJob.Surrogate.NONE) {
                throw new InvalidArgumentException("random selection uses no surrogate", "surrogate",
                        g.name().toLowerCase(Locale.ROOT), "none with random selection");
            }
            double neg = Planning.negatives(trigger, mode, negatives);
            return new Poisoner(this, s, g, neg);
        }

        private static void require(Object v, String parameter, String allowed) {
            if (v == null) {
                throw InvalidArgumentException.of(parameter, null, allowed);
            }
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
        if (mode == SelectionMode.DIRTY) {
            for (long i : plan.indices()) {
                labels.set((int) i, target);
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
        if (surrogate == PoisonJob.Surrogate.LINEAR) {
            throw new InvalidArgumentException("a linear surrogate is fitted on all the samples, which a streamed "
                    + "dataset does not hold; choose strategy(Strategy.RANDOM) or give the owner's features and head",
                    "surrogate", "linear", "random selection, or the owner's features and head");
        }
        return select(engine, labels, geometry, null, key);
    }

    private PoisonPlan plan(Engine engine, SampleArray samples, Buffer working, LabelArray labels, OwnerKey key) {
        Objects.requireNonNull(engine, "engine");
        Objects.requireNonNull(samples, "samples");
        Objects.requireNonNull(labels, "labels");
        if (samples.samples() != labels.length()) {
            throw new InvalidArgumentException("the data holds " + samples.samples() + " samples but the labels "
                    + labels.length(), "labels", labels.length(), "one label per sample");
        }
        if (target > labels.maxClass()) {
            throw new InvalidArgumentException("target " + target + " does not fit the labels' dtype " + labels.descr(),
                    "target", target, "a value the labels' dtype " + labels.descr() + " holds");
        }
        labels.requireNonNegative();
        Tensor geometry = samples.geometry(trigger.kind());
        return select(engine, labels.values(), geometry, surrogate == PoisonJob.Surrogate.LINEAR
                ? pixels(samples, working) : null, key);
    }

    private PoisonPlan select(Engine engine, long[] labels, Tensor geometry, float[] pixels, OwnerKey key) {
        if (key == null) {
            throw new InvalidArgumentException("poisoning needs the owner's key (it chooses the samples and signs the "
                    + "manifest)", "key", null, "the owner's key");
        }
        trigger.validateFor(geometry);
        if (trigger.keyed()) {
            new TriggerContext(key, 0).requireKey(trigger.family());
        }
        int n = labels.length;
        long max = 0;
        for (long v : labels) {
            if (v < 0) {
                throw InvalidArgumentException.of("labels", v, "non-negative class indices");
            }
            max = Math.max(max, v);
        }
        int classes = (int) Math.max(Math.max(max + 1, target + 1L), 2);
        long count = budget.countFor(n, allowOver5Percent);
        float[] scores = null;
        double accuracy = Double.NaN;
        String surrogateSha = null;
        if (strategy != Strategy.RANDOM) {
            LinearHead h;
            float[] x;
            if (surrogate == PoisonJob.Surrogate.FEATURES_HEAD) {
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
            accuracy = Planning.score(engine, x, n, h, labels, target, mode, scores);
        }
        Selector.Result sel = Selector.select(labels, classes, target, mode, strategy, scores, count, stratified, key);
        long negativeCount = Math.round(negatives * sel.indices().length);
        Selector.Negatives neg = negativeCount > 0
                ? Selector.negatives(n, sel.indices(), negativeCount,
                        (int) Math.min(PoisonJob.NEGATIVE_KEYS, negativeCount), key) : null;
        return new PoisonPlan(this, key, geometry, n, classes, sel, neg, surrogateSha, accuracy);
    }

    /** The samples as float rows for a linear surrogate: uint8 scaled to [0, 1], float32 as they are. */
    private static float[] pixels(SampleArray samples, Buffer working) {
        long elems = samples.samples() * samples.sampleBytes() / samples.dtype().bytes();
        if (elems > Integer.MAX_VALUE - 8) {
            throw new InvalidArgumentException("a linear surrogate holds the pixels in memory; " + elems
                    + " values are too many (give the owner's features and head instead)", "surrogate", "linear",
                    "the owner's features and head for data this large");
        }
        float[] x = new float[(int) elems];
        if (working instanceof ByteBuffer b) {
            for (int i = 0; i < x.length; i++) {
                x[i] = (b.get(i) & 0xff) / 255f;
            }
        } else if (working instanceof FloatBuffer f) {
            f.duplicate().clear().get(x);
        } else {
            IntBuffer v = (IntBuffer) working;
            for (int i = 0; i < x.length; i++) {
                x[i] = v.get(i);
            }
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
