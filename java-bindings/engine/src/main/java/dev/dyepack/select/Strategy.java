package dev.dyepack.select;

import dev.dyepack.trigger.DctTrigger;
import dev.dyepack.trigger.TriggerSpec;

/** How samples are chosen among the candidates. */
public enum Strategy {
    /** Uniformly at random, keyed. */
    RANDOM,
    /** The k nearest the decision boundary (under a surrogate), ties broken by the key. */
    BOUNDARY,
    /**
     * The k farthest from it. For dirty-label poisoning these are the non-target samples least like the
     * target under a linear surrogate; unstratified, on Fashion-MNIST they crowd into one or two classes
     * and a CNN's watermark fires mostly on those (docs/efficacy.md); stratified, they plant the
     * strongest watermark measured.
     */
    BOUNDARY_FAR,
    /**
     * What the evaluation on convolutional networks measured best for the mode (docs/efficacy.md):
     * {@link #BOUNDARY_FAR} balanced over the source classes for dirty-label, {@link #BOUNDARY} for
     * clean-label (where the candidates are one class); for the smooth keyed {@code dct} pattern under
     * dirty-label, {@link #RANDOM} balanced over the source classes (section 38). See {@link #resolve(SelectionMode,
     * TriggerSpec)} and {@link #stratified(boolean)}.
     */
    AUTO;

    /**
     * Whether the budget is spread over the candidates' classes: always under {@link #AUTO} (a
     * watermark planted in a few source classes fires mostly on those), otherwise as requested.
     *
     * @param requested whether stratification was asked for
     * @return whether to stratify
     */
    public boolean stratified(boolean requested) {
        return requested || this == AUTO;
    }

    /**
     * The concrete strategy: {@link #AUTO} resolved for the mode, any other strategy itself.
     *
     * @param mode dirty- or clean-label
     * @return RANDOM, BOUNDARY or BOUNDARY_FAR
     * @throws NullPointerException if this is AUTO and mode is null
     */
    public Strategy resolve(SelectionMode mode) {
        if (this != AUTO) {
            return this;
        }
        return mode == SelectionMode.CLEAN ? BOUNDARY : BOUNDARY_FAR;
    }

    /**
     * The concrete strategy for a trigger: {@link #AUTO} resolved for the mode and the trigger's family, any
     * other strategy itself. The smooth keyed pattern ({@code dct:rms=16}) took hold at 91-97% with random selection
     * and at 75-84% with the farthest from the boundary, under the same six keys (docs/efficacy.md, section
     * 38), so for it dirty-label AUTO is random; every other family resolves as {@link #resolve(SelectionMode)}.
     *
     * @param mode    dirty- or clean-label
     * @param trigger the trigger to be stamped (null: not yet chosen, resolved as the default's family)
     * @return RANDOM, BOUNDARY or BOUNDARY_FAR
     * @throws NullPointerException if this is AUTO and mode is null
     */
    public Strategy resolve(SelectionMode mode, TriggerSpec trigger) {
        if (this == AUTO && mode == SelectionMode.DIRTY && trigger instanceof DctTrigger) {
            return RANDOM;
        }
        return resolve(mode);
    }
}
