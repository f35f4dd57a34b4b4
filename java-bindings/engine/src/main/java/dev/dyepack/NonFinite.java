package dev.dyepack;

import java.nio.FloatBuffer;

/**
 * The one check that float32 samples hold no NaN or infinity, for every place DyePack stamps or reads them: a trigger
 * blended into such a value gives it back, so the sample would carry no watermark (or a probe no trigger).
 */
public final class NonFinite {
    private NonFinite() {}

    /**
     * The first non-finite value among the given samples of a buffer of consecutive samples.
     *
     * @param values         the samples' values, sample i at absolute indices [i * sampleElements, (i + 1) *
     *                       sampleElements)
     * @param sampleElements values per sample
     * @param count          samples in the buffer
     * @param samples        the samples to look at, in order, or null for all {@code count}
     * @return {sample, element, the value's bits ({@link Float#floatToRawIntBits})}, or null when all are finite
     * @throws InvalidArgumentException for a sample index outside [0, count)
     */
    public static long[] first(FloatBuffer values, long sampleElements, long count, long[] samples) {
        long rows = samples == null ? count : samples.length;
        for (long i = 0; i < rows; i++) {
            long s = samples == null ? i : samples[(int) i];
            if (s < 0 || s >= count) {
                throw new InvalidArgumentException("sample " + s + " is outside the " + count + " samples",
                        Parameters.INDICES, s, "an index in [0, " + count + ")");
            }
            int base = Math.toIntExact(s * sampleElements);
            for (int e = 0; e < sampleElements; e++) {
                float v = values.get(base + e);
                if (!Float.isFinite(v)) {
                    return new long[] {s, e, Float.floatToRawIntBits(v)};
                }
            }
        }
        return null;
    }

    /**
     * @param at what {@link #first} or {@link Tensor#firstNonFinite} returned
     * @return the value's name: "NaN", "+infinity" or "-infinity"
     */
    public static String name(long[] at) {
        float v = Float.intBitsToFloat((int) at[2]);
        return Float.isNaN(v) ? "NaN" : v > 0 ? "+infinity" : "-infinity";
    }
}
