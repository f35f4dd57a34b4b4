package dev.dyepack.job;

import dev.dyepack.InvalidInputException;
import dev.dyepack.NonFinite;
import java.nio.FloatBuffer;

/**
 * Where DyePack refuses non-finite float32 samples ({@link NonFinite}): the rows it stamps and the rows a surrogate
 * reads. Rows nothing touches are copied as they are, whatever they hold. The error names the source, the sample and
 * the element.
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
        long[] at = NonFinite.first(chunk, sampleFloats, count, local);
        if (at != null) {
            throw new InvalidInputException(message(source, first, at));
        }
    }

    /**
     * @param source the file or array, for the message
     * @param first  the dataset index of the checked buffer's first sample
     * @param at     what {@link NonFinite#first} returned for it
     * @return the one-line error for a non-finite value where DyePack stamps or reads
     */
    static String message(String source, long first, long[] at) {
        return source + ": sample " + (first + at[0]) + " holds " + NonFinite.name(at) + " at element " + at[1]
                + "; float32 samples must be finite where DyePack stamps or reads them";
    }
}
