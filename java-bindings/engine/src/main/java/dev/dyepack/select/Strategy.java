package dev.dyepack.select;

/** How samples are chosen among the candidates. */
public enum Strategy {
    /** Uniformly at random, keyed. */
    RANDOM,
    /** The k nearest the decision boundary (under a surrogate), ties broken by the key. */
    BOUNDARY,
    /**
     * The k farthest from it. For dirty-label poisoning these are the non-target samples least like the
     * target, which a model can only fit by learning the trigger (see docs/benchmarks.md).
     */
    BOUNDARY_FAR,
    /**
     * The boundary side measured to work best for the mode (docs/benchmarks.md): {@link #BOUNDARY_FAR}
     * for dirty-label, {@link #BOUNDARY} for clean-label. See {@link #resolve}.
     */
    AUTO;

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
}
