package dev.dyepack.job;

import dev.dyepack.Engine;
import dev.dyepack.InvalidArgumentException;
import dev.dyepack.InvalidInputException;
import dev.dyepack.Tensor;
import dev.dyepack.key.OwnerKey;
import dev.dyepack.manifest.Manifest;
import dev.dyepack.manifest.ManifestSigner;
import dev.dyepack.select.SelectionMode;
import dev.dyepack.select.Selector;
import dev.dyepack.trigger.TriggerContext;
import dev.dyepack.trigger.TriggerSpec;
import java.time.Instant;
import java.util.Arrays;
import java.util.Map;
import java.util.TreeMap;

/**
 * A poisoning decided but not necessarily carried out: which samples of a dataset of N carry the
 * trigger (by their global index, 0-based, in the order the data is held or streamed) and what their
 * labels become. Made by {@link Poisoner#plan} or {@link Poisoner#planFromLabels}; carried out on the
 * whole array by {@link Poisoner#poison}, or batch by batch by {@link #stamp} (as a training loop
 * sees the data), which gives the same bytes because the trigger's keyed randomness follows the global
 * index. {@link #manifest} signs the record once the fingerprints of the arrays are known.
 *
 * <p>Holds a reference to the owner's key (to stamp keyed triggers and sign the manifest); never
 * prints or records it. Immutable and thread-safe; {@link #stamp} writes only the batch it is given.
 */
public final class PoisonPlan {
    /** Names under which the manifest records in-memory arrays. */
    static final String DATA_NAME = "data";
    static final String LABELS_NAME = "labels";

    private final Poisoner poisoner;
    /** The trigger stamped and recorded: the poisoner's, with its default resolved for the budget. */
    private final TriggerSpec trigger;
    private final OwnerKey key;
    private final Tensor geometry;
    private final long samples;
    private final int classes;
    private final long[] indices;
    /** Negatives by derived key (group j under {@code Selector.negativeKey(key, j)}), each ascending; none: empty. */
    private final long[][] negativeGroups;
    private final long[] perClassChosen;
    private final long[] perClassTotal;
    private final String surrogateSha;
    private final double surrogateAccuracy;
    /** The clean-label push of the owner's samples (over the same sorted indices), or null for none. */
    private final CleanPush push;

    PoisonPlan(Poisoner poisoner, OwnerKey key, Tensor geometry, long samples, int classes, Selector.Result sel,
            Selector.Negatives negatives, String surrogateSha, double surrogateAccuracy, CleanPush push) {
        this.trigger = poisoner.trigger(sel.indices().length, samples, geometry);
        this.push = push;
        this.poisoner = poisoner;
        this.key = key;
        this.geometry = geometry;
        this.samples = samples;
        this.classes = classes;
        long[] sorted = sel.indices().clone();
        Arrays.sort(sorted);
        this.indices = sorted;
        this.negativeGroups = negatives == null ? new long[0][] : Arrays.stream(negatives.groups()).map(g -> {
            long[] c = g.clone();
            Arrays.sort(c);
            return c;
        }).toArray(long[][]::new);
        this.perClassChosen = sel.perClassChosen().clone();
        this.perClassTotal = sel.perClassTotal().clone();
        this.surrogateSha = surrogateSha;
        this.surrogateAccuracy = surrogateAccuracy;
    }

    /** @return the trigger the plan stamps and records (a poisoner's default resolved for the budget) */
    public TriggerSpec trigger() {
        return trigger;
    }

    /** @return N, the samples the plan covers */
    public long samples() {
        return samples;
    }

    /** @return the poisoned samples' global indices, ascending (a copy) */
    public long[] indices() {
        return indices.clone();
    }

    /**
     * @return the negatives' global indices, ascending (a copy): samples stamped with the trigger under
     *         keys derived from the owner's, their labels kept, so that a network learns the owner's pattern
     *         rather than its family (docs/efficacy.md); empty when there are none
     */
    public long[] negatives() {
        return Arrays.stream(negativeGroups).flatMapToLong(Arrays::stream).sorted().toArray();
    }

    /**
     * @return the negatives by the derived key they are stamped under: group j (ascending, a copy) under
     *         {@link Selector#negativeKey Selector.negativeKey(key, j)}; no groups when there are no negatives
     */
    public long[][] negativeGroups() {
        return Arrays.stream(negativeGroups).map(long[]::clone).toArray(long[][]::new);
    }

    /** @return the options the plan was made with */
    public Poisoner poisoner() {
        return poisoner;
    }

    /** @return a zero-sample tensor with the dtype, layout and C, H, W every batch must have */
    public Tensor geometry() {
        return geometry;
    }

    /** @return the surrogate's accuracy on the data, or NaN when selection used none */
    public double surrogateAccuracy() {
        return surrogateAccuracy;
    }

    /**
     * @param index a global sample index
     * @return whether that sample is poisoned
     */
    public boolean isPoisoned(long index) {
        return Arrays.binarySearch(indices, index) >= 0;
    }

    /**
     * The label a sample has after poisoning: the target for a poisoned sample under dirty-label
     * poisoning, its own label otherwise.
     *
     * @param index    a global sample index
     * @param original its label in the clean data
     * @return the label to train on
     */
    public long labelOf(long index, long original) {
        return poisoner.mode() == SelectionMode.DIRTY && isPoisoned(index) ? poisoner.target() : original;
    }

    /**
     * @param first the first global index of a batch
     * @param count the batch's samples
     * @return the batch-local positions of the poisoned samples in [first, first + count), ascending
     */
    public long[] poisonedIn(long first, long count) {
        int from = lowerBound(first);
        int to = lowerBound(first + count);
        long[] local = new long[to - from];
        for (int i = from; i < to; i++) {
            local[i - from] = indices[i] - first;
        }
        return local;
    }

    private int lowerBound(long v) {
        return lowerBound(indices, v);
    }

    private static int lowerBound(long[] sorted, long v) {
        int at = Arrays.binarySearch(sorted, v);
        return at >= 0 ? at : -at - 1;
    }

    /**
     * Stamps the trigger, in place, on the poisoned samples of one batch: the samples with global
     * indices [firstSample, firstSample + batch.n()). The batch must have the plan's geometry and lie
     * within the N samples; nothing is written when a check fails.
     *
     * @param engine      the engine (its backend must reach the batch's memory)
     * @param batch       the batch, host or device memory
     * @param firstSample the global index of its first sample
     * @return how many samples of the batch were stamped
     * @throws InvalidArgumentException if the batch's dtype, layout or C, H, W differ from the plan's, or
     *                                  [firstSample, firstSample + N) is not within [0, samples())
     */
    public int stamp(Engine engine, Tensor batch, long firstSample) {
        if (batch.dtype() != geometry.dtype() || batch.layout() != geometry.layout() || batch.c() != geometry.c()
                || batch.h() != geometry.h() || batch.w() != geometry.w()) {
            throw new InvalidArgumentException("the batch " + batch + " does not have the plan's geometry " + geometry,
                    "batch", batch.toString(), "the geometry the plan was made for");
        }
        if (firstSample < 0 || firstSample > samples - batch.n()) {
            throw new InvalidArgumentException("a batch of " + batch.n() + " samples from index " + firstSample
                    + " does not fit the plan's " + samples + " samples", "firstSample", firstSample,
                    "a batch within [0, " + samples + ")");
        }
        long[] local = poisonedIn(firstSample, batch.n());
        long[][] negatives = new long[negativeGroups.length][];
        for (int j = 0; j < negativeGroups.length; j++) {
            long[] g = negativeGroups[j];
            int from = lowerBound(g, firstSample);
            int to = lowerBound(g, firstSample + batch.n());
            negatives[j] = new long[to - from];
            for (int i = from; i < to; i++) {
                negatives[j][i - from] = g[i] - firstSample;
            }
        }
        // Nothing is stamped when a row to be stamped holds NaN or an infinity (host float32 batches).
        requireFinite(batch, local, firstSample);
        for (long[] mine : negatives) {
            requireFinite(batch, mine, firstSample);
        }
        if (local.length > 0) {
            if (push != null) {
                // Pushed first, so the trigger is stamped on the pushed image, as dyepack poison does.
                push.apply(engine, batch, local, lowerBound(firstSample), lowerBound(firstSample) + local.length);
            }
            trigger.apply(engine, batch, local, new TriggerContext(key, firstSample));
        }
        // The negatives, each group under its derived key, as dyepack poison stamps them.
        for (int j = 0; j < negatives.length; j++) {
            if (negatives[j].length > 0) {
                trigger.apply(engine, batch, negatives[j], new TriggerContext(Selector.negativeKey(key, j),
                        firstSample));
            }
        }
        return local.length;
    }

    private static void requireFinite(Tensor batch, long[] rows, long firstSample) {
        if (rows.length == 0) {
            return;
        }
        long[] at = batch.firstNonFinite(rows);
        if (at != null) {
            throw new InvalidInputException(FiniteRows.message("the batch", firstSample, at));
        }
    }

    /**
     * The signed manifest of this poisoning, recording the arrays by their {@link
     * dev.dyepack.manifest.ArrayFingerprint fingerprints} as in-memory entries
     * ({@code in-memory:data}, {@code in-memory:labels}); an absent fingerprint is not recorded.
     *
     * @param inputData    the clean samples' fingerprint, or null
     * @param inputLabels  the clean labels' fingerprint, or null
     * @param outputData   the poisoned samples' fingerprint, or null
     * @param outputLabels the poisoned labels' fingerprint, or null
     * @return the manifest, signed with a subkey of the owner's key
     * @throws InvalidArgumentException if a fingerprint is not 64 lowercase hex digits
     */
    public Manifest manifest(String inputData, String inputLabels, String outputData, String outputLabels) {
        Map<Long, Long> poisoned = new TreeMap<>();
        Map<Long, Long> total = new TreeMap<>();
        for (int c = 0; c < classes; c++) {
            total.put((long) c, perClassTotal[c]);
            poisoned.put((long) c, perClassChosen[c]);
        }
        Manifest.Builder b = Manifest.builder()
                .toolVersion(Engine.version())
                .created(Instant.now())
                .keyFingerprint(key.fingerprint());
        add(b, Manifest.Stage.INPUT, Manifest.Role.DATA, DATA_NAME, inputData);
        add(b, Manifest.Stage.INPUT, Manifest.Role.LABELS, LABELS_NAME, inputLabels);
        add(b, Manifest.Stage.OUTPUT, Manifest.Role.DATA, DATA_NAME, outputData);
        add(b, Manifest.Stage.OUTPUT, Manifest.Role.LABELS, LABELS_NAME, outputLabels);
        Poisoner p = poisoner;
        Manifest m = b.trigger(trigger.toString(), trigger.toJson())
                .targetClass(p.target())
                .mode(p.mode() == SelectionMode.DIRTY ? Manifest.Mode.DIRTY : Manifest.Mode.CLEAN)
                .budget(Manifest.Budget.of(p.budget().requested(), indices.length, samples))
                .override(p.allowOver5Percent() ? new Manifest.BudgetOverride(true, p.overrideReason())
                        : Manifest.BudgetOverride.NONE)
                .selection(new Manifest.Selection(
                        switch (p.strategy()) {
                            case BOUNDARY -> Manifest.Strategy.BOUNDARY;
                            case BOUNDARY_FAR -> Manifest.Strategy.BOUNDARY_FAR;
                            case RANDOM -> Manifest.Strategy.RANDOM;
                            case AUTO -> throw new IllegalStateException("AUTO is resolved by Poisoner.Builder.build()");
                        },
                        p.stratified(),
                        switch (p.surrogate()) {
                            case NONE -> Manifest.SurrogateKind.NONE;
                            case LINEAR -> Manifest.SurrogateKind.LINEAR;
                            case FEATURES_HEAD -> Manifest.SurrogateKind.FEATURES_HEAD;
                        }, surrogateSha))
                .classCounts(poisoned, total)
                .indices(indices)
                .negatives(negativeGroups.length, negatives())
                .build();
        return ManifestSigner.sign(m, key);
    }

    private static void add(Manifest.Builder b, Manifest.Stage stage, Manifest.Role role, String name, String sha) {
        if (sha != null) {
            b.addFile(Manifest.DatasetFile.inMemory(stage, role, name, sha));
        }
    }
}
