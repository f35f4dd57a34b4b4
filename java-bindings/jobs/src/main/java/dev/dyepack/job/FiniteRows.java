package dev.dyepack.job;

import dev.dyepack.InvalidInputException;
import java.nio.FloatBuffer;

/**
 * The check that float32 samples are finite where DyePack computes with them: the rows it stamps (a trigger blended
 * into NaN is NaN, so the watermark would be silently missing from that sample) and the rows a surrogate reads. Rows
 * nothing touches are copied as they are, whatever they hold. The error names the file, the sample and the element.
 */
final class FiniteRows {
    private FiniteRows() {}

    /**
     * Throws for the first non-finite value among the given rows of a chunk.
     *
     * @param chunk        the chunk's values, position 0, {@code count * sampleFloats} of them
     * @param sampleFloats values per sample
     * @param first        the dataset index of the chunk's first sample
     * @param count        samples in the chunk
     * @param local        chunk-local indices of the rows to check, or null for every row
     * @param source       the file or array the samples come from, for the message
     * @throws InvalidInputException naming the sample and element of the first NaN or infinity
     */
    static void require(FloatBuffer chunk, long sampleFloats, long first, int count, long[] local, String source) {
        int rows = local == null ? count : local.length;
        for (int i = 0; i < rows; i++) {
            long row = local == null ? i : local[i];
            int base = Math.toIntExact(row * sampleFloats);
            for (int e = 0; e < sampleFloats; e++) {
                float v = chunk.get(base + e);
                if (!Float.isFinite(v)) {
                    throw new InvalidInputException(message(source, first + row, v, e));
                }
            }
        }
    }

    /**
     * @param source  the file or array, for the message
     * @param sample  the dataset index of the sample
     * @param value   the non-finite value
     * @param element its index within the sample
     * @return the one-line error for a non-finite value where DyePack stamps or reads
     */
    static String message(String source, long sample, float value, long element) {
        return source + ": sample " + sample + " holds " + (Float.isNaN(value) ? "NaN" : value > 0 ? "+infinity"
                : "-infinity") + " at element " + element + "; float32 samples must be finite where DyePack stamps"
                + " or reads them";
    }
}
