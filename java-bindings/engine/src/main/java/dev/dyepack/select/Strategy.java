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
    BOUNDARY_FAR
}
