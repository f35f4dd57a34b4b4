/**
 * Dataset files: NumPy {@code .npy} reading ({@link dev.dyepack.io.Npy},
 * {@link dev.dyepack.io.NpyReader}) and all-or-nothing writing ({@link dev.dyepack.io.NpyWriter}),
 * index lists ({@link dev.dyepack.io.IndexList}) and the embedded default dataset
 * ({@link dev.dyepack.io.EmbeddedSample}).
 *
 * <p>Unusable input files raise {@link dev.dyepack.InvalidInputException} with a message naming
 * the file; bad parameters raise {@link dev.dyepack.InvalidArgumentException}. No file content is
 * ever evaluated or unpickled.
 */
package dev.dyepack.io;
