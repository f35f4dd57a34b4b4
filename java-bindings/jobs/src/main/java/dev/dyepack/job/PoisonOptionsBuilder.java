package dev.dyepack.job;

import dev.dyepack.InvalidArgumentException;
import dev.dyepack.select.Budget;
import dev.dyepack.select.SelectionMode;
import dev.dyepack.select.Strategy;
import dev.dyepack.trigger.DataKind;
import dev.dyepack.trigger.TriggerSpec;
import java.util.Locale;

/**
 * The options every poisoning takes, defined once, with their defaults and the checks that tie them
 * together: {@link PoisonJob.Builder} (files, for {@code dyepack poison}) and {@link Poisoner.Builder}
 * (arrays in memory) extend it and add only what is their own (paths and output, or the owner's
 * features as an array). So the two builders cannot drift apart, and the same options plan the same
 * poisoning. Not thread-safe.
 *
 * <p>Defaults: target class 0, the budget {@link Budget#DEFAULT}, {@link Strategy#AUTO} (boundary-far
 * spread over the source classes for dirty-label, random for the {@code dct} family, boundary for clean-label),
 * dirty-label, the surrogate the strategy needs, negatives resolved from the trigger and mode
 * ({@link PoisonJob#DEFAULT_NEGATIVES} for a keyed image trigger under dirty-label, {@link PoisonJob#CLEAN_NEGATIVES}
 * under clean-label, 0 for a keyless one).
 *
 * @param <B> the builder's own type, which every setter returns
 */
public abstract class PoisonOptionsBuilder<B extends PoisonOptionsBuilder<B>> {
    TriggerSpec trigger;
    /** Whether the trigger is the default, which depends on the budget's share of the data. */
    boolean triggerByDefault;
    int target;
    Budget budget = Budget.parse(Budget.DEFAULT);
    boolean allowOver5Percent;
    String overrideReason;
    Strategy strategy = Strategy.AUTO;
    SelectionMode mode = SelectionMode.DIRTY;
    boolean stratified;
    double negatives = Double.NaN;
    int negativeKeys = PoisonJob.NEGATIVE_KEYS;
    double cleanEps = Double.NaN;
    PoisonJob.Surrogate surrogate;

    /** Only the two builders of this package extend it. */
    PoisonOptionsBuilder() {}

    @SuppressWarnings("unchecked") // B is this class's own type by the declaration of every subclass
    private B self() {
        return (B) this;
    }

    /** @param v the trigger @return this */
    public B trigger(TriggerSpec v) {
        trigger = v;
        triggerByDefault = false;
        return self();
    }

    /**
     * Poisons with the default trigger, as {@code dyepack poison} does without {@code --trigger}:
     * {@link PoisonJob#DEFAULT_TRIGGER}; for dirty-label {@link PoisonJob#SMALL_BUDGET_TRIGGER} when fewer than
     * {@link PoisonJob#SMALL_BUDGET} of the samples are poisoned; {@link PoisonJob#SMALL_IMAGE_TRIGGER} on small
     * images (resolved once the data's size is known; {@link PoisonSettings#trigger(long, long,
     * dev.dyepack.Tensor)}).
     *
     * @return this
     */
    public B defaultTrigger() {
        trigger = TriggerSpec.parse(PoisonJob.DEFAULT_TRIGGER);
        triggerByDefault = true;
        return self();
    }

    /** @param v the target class @return this */
    public B target(int v) {
        target = v;
        return self();
    }

    /** @param v the budget @return this */
    public B budget(Budget v) {
        budget = v;
        return self();
    }

    /** @param v whether more than 5% may be poisoned @return this */
    public B allowOver5Percent(boolean v) {
        allowOver5Percent = v;
        return self();
    }

    /** @param v why more than 5% (recorded), or null; only with the override @return this */
    public B overrideReason(String v) {
        overrideReason = v;
        return self();
    }

    /** @param v the selection strategy, AUTO to let the mode decide @return this */
    public B strategy(Strategy v) {
        strategy = v;
        return self();
    }

    /** @param v dirty- or clean-label @return this */
    public B mode(SelectionMode v) {
        mode = v;
        return self();
    }

    /** @param v whether to split the budget across classes (always done under AUTO) @return this */
    public B stratified(boolean v) {
        stratified = v;
        return self();
    }

    /**
     * @param v negatives per poisoned sample (other samples stamped with the trigger under keys derived
     *          from the owner's, labels kept; see {@link dev.dyepack.select.Selector#negatives}), in
     *          [0, {@value PoisonJob#MAX_NEGATIVES}]; NaN for the default ({@link PoisonJob#DEFAULT_NEGATIVES}
     *          for a keyed image trigger under dirty-label, {@link PoisonJob#CLEAN_NEGATIVES} under clean-label, 0
     *          for a keyless one)
     * @return this
     */
    public B negatives(double v) {
        negatives = v;
        return self();
    }

    /**
     * @param v how many keys derived from the owner's stamp the negatives, dealt in turn, in [1,
     *          {@value PoisonJob#MAX_NEGATIVE_KEYS}] (default {@value PoisonJob#NEGATIVE_KEYS}): the more
     *          keys, the more of the family's other patterns a network is shown as "not the owner's"
     * @return this
     */
    public B negativeKeys(int v) {
        negativeKeys = v;
        return self();
    }

    /**
     * @param v clean-label only: the L-infinity bound, in the data's units, of the label-consistent push
     *          that moves each chosen target-class sample away from its class against the linear
     *          surrogate before it is stamped ({@link dev.dyepack.surrogate.LabelConsistentPush}); 0 for none;
     *          NaN (the default) for {@link PoisonJob#DEFAULT_CLEAN_EPS} on uint8 data, none on float32 data
     * @return this
     */
    public B cleanEps(double v) {
        cleanEps = v;
        return self();
    }

    /** @param v the scores' source, or null to choose from the strategy and features @return this */
    public B surrogate(PoisonJob.Surrogate v) {
        surrogate = v;
        return self();
    }

    /**
     * Checks that the shared options are present and the target is a class.
     *
     * @throws InvalidArgumentException naming "trigger", "budget", "strategy", "mode" or "target"
     */
    final void checkPresent() {
        require(trigger, "trigger", "a trigger spec");
        require(budget, "budget", "a fraction in (0, 1) or a count >= 1");
        require(strategy, "strategy", "auto, random, boundary or boundary-far");
        require(mode, "mode", "dirty or clean");
        if (target < 0) {
            throw InvalidArgumentException.of("target", target, "a class >= 0");
        }
    }

    /**
     * Checks that an override reason comes only with the override.
     *
     * @throws InvalidArgumentException naming "overrideReason"
     */
    final void checkOverride() {
        if (overrideReason != null && !allowOver5Percent) {
            throw new InvalidArgumentException("an override reason is only for a budget allowed over 5%",
                    "overrideReason", overrideReason, "given only with allowOver5Percent");
        }
    }

    /**
     * The strategy resolved for the mode, and the surrogate it uses.
     *
     * @param strategy  never AUTO
     * @param surrogate NONE exactly for random selection
     */
    record Selection(Strategy strategy, PoisonJob.Surrogate surrogate) {}

    /**
     * Resolves the strategy and the surrogate and checks them against each other and the owner's
     * features: boundary selection needs a surrogate, random selection none; the owner's features and
     * head exactly with that surrogate; a linear surrogate only for images.
     *
     * @param features        the owner's features as the caller gave them (a path, an array), or null
     * @param featuresAllowed what the message asks for when the features are missing
     * @return the resolved selection
     * @throws InvalidArgumentException naming "features" or "surrogate"
     */
    final Selection resolveSelection(Object features, String featuresAllowed) {
        Strategy s = strategy.resolve(mode, trigger);
        PoisonJob.Surrogate g = surrogate != null ? surrogate
                : s == Strategy.RANDOM ? PoisonJob.Surrogate.NONE
                : features != null ? PoisonJob.Surrogate.FEATURES_HEAD : PoisonJob.Surrogate.LINEAR;
        if (g == PoisonJob.Surrogate.FEATURES_HEAD && features == null) {
            throw new InvalidArgumentException("the features-and-head surrogate needs the owner's features and "
                    + "head", "features", null, featuresAllowed);
        }
        if (g != PoisonJob.Surrogate.FEATURES_HEAD && features != null) {
            throw new InvalidArgumentException((g == PoisonJob.Surrogate.NONE ? "random selection"
                    : "a linear surrogate") + " uses no features or head", "features", features,
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
        return new Selection(s, g);
    }

    /** @return whether the budget is split over the source classes: always under AUTO, else as set */
    final boolean resolvedStratified() {
        return strategy.stratified(stratified);
    }

    /**
     * @return the negatives per poisoned sample, resolved from the trigger
     * @throws InvalidArgumentException naming "negatives" for a ratio out of range or one a keyless trigger
     *                                  cannot have
     */
    final double resolvedNegatives() {
        if (negativeKeys < 1 || negativeKeys > PoisonJob.MAX_NEGATIVE_KEYS) {
            throw InvalidArgumentException.of("negativeKeys", negativeKeys, "an integer in [1, "
                    + PoisonJob.MAX_NEGATIVE_KEYS + "]");
        }
        return Planning.negatives(trigger, mode, negatives);
    }

    /**
     * The label-consistent push's bound, checked against the mode and the surrogate: 0 (none) for
     * dirty-label, the owner's features and head, or non-image data; NaN stays the default, resolved once
     * the data's dtype is known ({@link Planning#cleanEps}).
     *
     * @param selection the resolved selection
     * @return the bound, 0, or NaN for the default
     * @throws InvalidArgumentException naming "cleanEps" for a bound out of range or one the mode or the
     *                                  surrogate cannot use
     */
    final double resolvedCleanEps(Selection selection) {
        double eps = cleanEps;
        if (!Double.isNaN(eps) && !(eps >= 0 && eps <= 1e6)) {
            throw InvalidArgumentException.of("cleanEps", eps, "a number in [0, 1000000] (data units)");
        }
        if (mode == SelectionMode.DIRTY) {
            if (!Double.isNaN(eps) && eps > 0) {
                throw new InvalidArgumentException("the label-consistent push is for clean-label poisoning; "
                        + "dirty-label samples are relabelled instead", "cleanEps", eps, "0 for dirty-label");
            }
            return 0;
        }
        if (selection.surrogate() == PoisonJob.Surrogate.FEATURES_HEAD || trigger.kind() != DataKind.IMAGES) {
            if (!Double.isNaN(eps) && eps > 0) {
                throw new InvalidArgumentException("the label-consistent push needs a linear surrogate on the "
                        + "pixels; the owner's features and head do not say which pixels to change", "cleanEps",
                        eps, "0 with the owner's features and head");
            }
            return 0;
        }
        return eps;
    }

    static void require(Object v, String parameter, String allowed) {
        if (v == null) {
            throw InvalidArgumentException.of(parameter, null, allowed);
        }
    }
}
