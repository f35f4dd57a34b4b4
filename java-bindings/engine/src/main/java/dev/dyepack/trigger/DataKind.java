package dev.dyepack.trigger;

/** The kind of data a trigger family applies to. */
public enum DataKind {
    /** uint8 or float32 images, N x C x H x W. */
    IMAGES,
    /** int32 token sequences, N x L. */
    SEQUENCES,
    /** float32 tabular rows, N x D. */
    ROWS
}
