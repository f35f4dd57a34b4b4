package dev.dyepack.select;

/** Which samples are candidates, and whether their labels change. */
public enum SelectionMode {
    /** Non-target samples, relabelled to the target: those nearest the target's boundary first. */
    DIRTY,
    /** Target-class samples, labels kept: those nearest their own boundary (the hardest) first. */
    CLEAN
}
