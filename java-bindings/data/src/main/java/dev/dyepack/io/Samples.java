package dev.dyepack.io;

import dev.dyepack.InvalidInputException;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * Datasets of samples, .npy or IDX (plain or gzip) array files and image folders
 * ({@link ImageFolder}), behind one interface, so the jobs stream any of them and write their output
 * in the input's format. Data reaches callers as the bytes of a little-endian C-order array with the
 * dtype {@link Reader#descr()}; an image folder reads as uint8 (N, H, W, C).
 */
public final class Samples {
    private Samples() {}

    /** A streaming reader of samples (the first dimension). */
    public interface Reader extends AutoCloseable {
        /** @return the NumPy dtype string of the elements ({@code "|u1"}, {@code "<f4"}, ...) */
        String descr();

        /** @return the array's shape; shape[0] is the number of samples */
        long[] shape();

        /** @return bytes per sample */
        long sampleBytes();

        /**
         * Reads samples [first, first + count) into dst at its position, advancing it.
         *
         * @param first the first sample
         * @param count how many
         * @param dst   the destination, with room for count * sampleBytes() bytes
         * @throws InvalidInputException if the file is truncated or changed
         */
        void readSamples(long first, int count, ByteBuffer dst);

        /** @return "npy", "idx" or "folder" */
        String format();

        @Override
        void close();
    }

    /** A writer of a complete array, in a temporary file moved into place on commit. */
    public interface Writer extends AutoCloseable {
        /**
         * Appends little-endian element bytes.
         *
         * @param src the bytes between position and limit
         * @throws IOException on a write failure
         */
        void write(ByteBuffer src) throws IOException;

        /**
         * Checks the size and moves the file into place.
         *
         * @throws IOException on a failure (nothing is left under the final name)
         */
        void commit() throws IOException;

        @Override
        void close() throws IOException;
    }

    /**
     * Opens a dataset: a directory as an {@link ImageFolder} (its natural channel count), a file as
     * IDX when it has IDX's magic (gzip or not) and as .npy otherwise.
     *
     * @param file the file or folder
     * @return the reader
     * @throws InvalidInputException if it is none of these, or unusable
     */
    public static Reader open(Path file) {
        if (file != null && Files.isDirectory(file)) {
            return ImageFolder.scan(file);
        }
        return Idx.isIdx(file) ? IdxReader.open(file) : NpyReader.open(file);
    }

    /**
     * Creates a writer of the same format as an input file: .npy, or IDX (gzip when the input is).
     *
     * @param out   the final path
     * @param like  the input whose format to mirror
     * @param descr the NumPy dtype of the output
     * @param shape the output's shape
     * @return the writer
     * @throws IOException if the temporary file cannot be created
     * @throws InvalidInputException if the dtype has no IDX type
     */
    public static Writer create(Path out, Path like, String descr, long[] shape) throws IOException {
        if (Idx.isIdx(like)) {
            boolean gzip;
            try (IdxReader r = IdxReader.open(like)) {
                gzip = r.isGzip();
            }
            return IdxWriter.create(out, idxType(descr), shape, gzip);
        }
        return NpyWriter.create(out, descr, shape);
    }

    private static int idxType(String descr) {
        return switch (descr) {
            case "|u1", "<u1", "u1" -> Idx.UINT8;
            case "|i1", "<i1", "i1" -> Idx.INT8;
            case "<i2" -> Idx.INT16;
            case "<i4" -> Idx.INT32;
            case "<f4" -> Idx.FLOAT32;
            case "<f8" -> Idx.FLOAT64;
            default -> throw new InvalidInputException("dtype " + descr + " has no IDX type");
        };
    }

    /**
     * Reads integer labels of a rank-1 .npy or IDX file.
     *
     * @param file the labels
     * @return one value per sample
     * @throws InvalidInputException if the file is not a rank-1 integer array
     */
    public static long[] labels(Path file) {
        return Idx.isIdx(file) ? Idx.readLabels(file) : Npy.readIntegers(file);
    }
}
