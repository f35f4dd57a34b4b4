/**
 * Dataset files: NumPy {@code .npy} reading ({@link dev.dyepack.io.Npy},
 * {@link dev.dyepack.io.NpyReader}) and all-or-nothing writing ({@link dev.dyepack.io.NpyWriter});
 * IDX files, gzip or plain ({@link dev.dyepack.io.Idx}, {@link dev.dyepack.io.IdxReader},
 * {@link dev.dyepack.io.IdxWriter}); both behind one streaming interface
 * ({@link dev.dyepack.io.Samples}); PNG/JPEG folders in the one-folder-per-class layout
 * ({@link dev.dyepack.io.ImageFolder}); linear heads in {@code .npz} files
 * ({@link dev.dyepack.surrogate.LinearHead}); index lists ({@link dev.dyepack.io.IndexList}); and the embedded
 * default dataset ({@link dev.dyepack.io.EmbeddedSample}).
 *
 * <p>Unusable input files raise {@link dev.dyepack.InvalidInputException} with a message naming
 * the file; bad parameters raise {@link dev.dyepack.InvalidArgumentException}. No file content is
 * ever evaluated or unpickled. Outputs are written under a temporary name and moved into place.
 */
package dev.dyepack.io;
