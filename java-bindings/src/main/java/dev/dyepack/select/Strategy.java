package dev.dyepack.select;

/** How samples are chosen among the candidates. */
public enum Strategy {
    /** Uniformly at random, keyed. */
    RANDOM,
    /** The k nearest the decision boundary (under a surrogate), ties broken by the key. */
    BOUNDARY
}
