package dev.dyepack.job;

import dev.dyepack.select.Budget;
import dev.dyepack.select.SelectionMode;
import dev.dyepack.select.Strategy;
import dev.dyepack.trigger.TriggerSpec;

/**
 * The options every poisoning takes, checked and resolved by a {@link PoisonOptionsBuilder}: what
 * {@link PoisonJob.Options} (files) and {@link Poisoner} (arrays in memory) share, defined once.
 * Immutable.
 */
public abstract class PoisonSettings {
    private final TriggerSpec trigger;
    private final boolean triggerByDefault;
    private final int target;
    private final Budget budget;
    private final boolean allowOver5Percent;
    private final String overrideReason;
    private final Strategy strategy;
    private final SelectionMode mode;
    private final boolean stratified;
    private final PoisonJob.Surrogate surrogate;
    private final double negatives;
    /** Whether the negatives were left to the default, which depends on the budget's share of the data. */
    private final boolean negativesByDefault;
    private final int negativeKeys;
    private final double cleanEps;

    /** Only the two option types of this package extend it, from a builder that has checked itself. */
    PoisonSettings(PoisonOptionsBuilder<?> b, PoisonOptionsBuilder.Selection selection, double negatives) {
        this.negativeKeys = b.negativeKeys;
        this.cleanEps = b.resolvedCleanEps(selection);
        this.trigger = b.trigger;
        this.triggerByDefault = b.triggerByDefault;
        this.target = b.target;
        this.budget = b.budget;
        this.allowOver5Percent = b.allowOver5Percent;
        this.overrideReason = b.overrideReason;
        this.strategy = selection.strategy();
        this.mode = b.mode;
        // As dyepack poison: AUTO always spreads the budget over the source classes.
        this.stratified = b.resolvedStratified();
        this.surrogate = selection.surrogate();
        this.negatives = negatives;
        this.negativesByDefault = Double.isNaN(b.negatives);
    }

    /**
     * @return the trigger as set; for the default ({@link PoisonOptionsBuilder#defaultTrigger()}) the one
     *         used at budgets of {@link PoisonJob#SMALL_BUDGET} and more
     */
    public TriggerSpec trigger() {
        return trigger;
    }

    /** @return whether the trigger was left to the default, which depends on the budget's share of the data */
    public boolean triggerByDefault() {
        return triggerByDefault;
    }

    /**
     * The trigger for a poisoning of {@code count} of {@code n} samples of this geometry: as {@link #trigger()}
     * when the trigger was set; the default otherwise, which depends on the share poisoned, the mode and the
     * images' size ({@link PoisonJob#DEFAULT_TRIGGER}; {@link PoisonJob#SMALL_BUDGET_TRIGGER} for dirty-label
     * below {@link PoisonJob#SMALL_BUDGET} of the data; each only where the images hold at least four times its
     * pixels, else {@link PoisonJob#SMALL_IMAGE_TRIGGER}; docs/efficacy.md).
     *
     * @param count    the samples poisoned
     * @param n        the samples in the data
     * @param geometry the samples' geometry
     * @return the trigger to stamp and record
     * @throws IllegalArgumentException if count or n is negative
     * @throws NullPointerException     if geometry is null
     */
    public TriggerSpec trigger(long count, long n, dev.dyepack.Tensor geometry) {
        java.util.Objects.requireNonNull(geometry, "geometry");
        if (count < 0 || n < 0) {
            throw new IllegalArgumentException("count and n must be >= 0, got " + count + " and " + n);
        }
        if (!triggerByDefault) {
            return trigger;
        }
        return TriggerSpec.parse(PoisonJob.defaultTrigger(count, n, geometry.h(), geometry.w(), mode));
    }

    /** @return the target class */
    public int target() {
        return target;
    }

    /** @return the budget, a fraction or a count */
    public Budget budget() {
        return budget;
    }

    /** @return whether a budget above 5% is allowed (recorded) */
    public boolean allowOver5Percent() {
        return allowOver5Percent;
    }

    /** @return why more than 5%, or null */
    public String overrideReason() {
        return overrideReason;
    }

    /** @return the selection strategy, resolved: RANDOM, BOUNDARY or BOUNDARY_FAR (never AUTO) */
    public Strategy strategy() {
        return strategy;
    }

    /** @return dirty- or clean-label */
    public SelectionMode mode() {
        return mode;
    }

    /** @return whether the budget is split across the source classes in proportion */
    public boolean stratified() {
        return stratified;
    }

    /** @return the scores' source, resolved: NONE exactly for random selection */
    public PoisonJob.Surrogate surrogate() {
        return surrogate;
    }

    /**
     * @return negatives per poisoned sample, resolved as {@code dyepack poison} resolves them:
     *         for a keyed image trigger unless set, {@link PoisonJob#DEFAULT_NEGATIVES} under dirty-label and
     *         {@link PoisonJob#CLEAN_NEGATIVES} under clean-label; 0 otherwise
     */
    public double negatives() {
        return negatives;
    }

    /**
     * The negatives per poisoned sample for a poisoning of {@code count} of {@code n} samples of this geometry:
     * as {@link #negatives()}, except that below {@link PoisonJob#SMALL_BUDGET} of the data the default is at
     * most {@link PoisonJob#smallBudgetNegatives(TriggerSpec, long)} for the trigger stamped: one, and two for
     * the small-budget pattern from {@link PoisonJob#SMALL_BUDGET_MORE_FROM} poisoned samples on and three from
     * {@link PoisonJob#SMALL_BUDGET_MOST_FROM} on (at 0.1% the
     * evaluation measured four negatives cutting the watermark's strength by more than half, and one keeping it
     * above 80%; from 40 poisoned samples two kept the small-budget pattern's strength and halved other keys'
     * answers, and from 60 a third lowered them by almost a third again; docs/efficacy.md). A ratio that was set is
     * kept at every budget.
     *
     * @param count    the samples poisoned
     * @param n        the samples in the data
     * @param geometry the data's geometry (the default trigger depends on the image size)
     * @return the ratio
     * @throws IllegalArgumentException if count or n is negative
     */
    public double negatives(long count, long n, dev.dyepack.Tensor geometry) {
        return negatives(smallBudgetDefault(count, n) ? trigger(count, n, geometry) : null, count, n);
    }

    /**
     * As {@link #negatives(long, long, dev.dyepack.Tensor)}, for a poisoning that stamped {@code stamped}
     * (e.g. the trigger a finished job reports).
     *
     * @param stamped the trigger stamped, as resolved for this poisoning
     * @param count   the samples poisoned
     * @param n       the samples in the data
     * @return the ratio
     * @throws IllegalArgumentException if count or n is negative
     */
    public double negatives(TriggerSpec stamped, long count, long n) {
        if (!smallBudgetDefault(count, n)) {
            return negatives;
        }
        return Math.min(negatives, PoisonJob.smallBudgetNegatives(stamped, count));
    }

    /** Whether the small-budget default limits the negatives of this poisoning. */
    private boolean smallBudgetDefault(long count, long n) {
        if (count < 0 || n < 0) {
            throw new IllegalArgumentException("count and n must be >= 0, got " + count + " and " + n);
        }
        return negativesByDefault && negatives > 0 && PoisonJob.smallBudget(count, n);
    }

    /** @return how many keys derived from the owner's stamp the negatives (dealt in turn), at most */
    public int negativeKeys() {
        return negativeKeys;
    }

    /**
     * @return the label-consistent push's L-infinity bound for clean-label poisoning, in data units: 0 for
     *         none (always for dirty-label), NaN for the default ({@link PoisonJob#DEFAULT_CLEAN_EPS} for
     *         uint8 images with a linear surrogate, none otherwise; resolved once the data's dtype is known)
     */
    public double cleanEps() {
        return cleanEps;
    }
}
