package dev.dyepack.image;

import dev.dyepack.InvalidArgumentException;
import java.util.List;

/**
 * The quality a JPEG was written at, estimated from its quantisation tables.
 *
 * <p>Nearly every encoder in use (libjpeg and libjpeg-turbo, hence PIL, OpenCV, ImageMagick and browsers,
 * and the JDK's ImageIO) derives its tables from the example tables of the JPEG standard (ITU T.81,
 * Annex K) with the Independent JPEG Group's quality scaling: for a quality Q in 1..100 the factor is
 * {@code S = Q < 50 ? 5000 / Q : 200 - 2Q} (integer division), and each entry becomes
 * {@code clamp((T * S + 50) / 100, 1, 255)}. The estimate is the Q whose tables are nearest the file's
 * (sum of absolute differences over the luminance table and, when present, the first chrominance table);
 * for a file written by such an encoder it is the quality it was written at (the JDK's float scaling
 * gives the same tables up to a rounding in a few entries), and {@link Estimate#exact()} says whether the
 * tables matched entry for entry. Tables from elsewhere (camera firmware, other libraries) give the
 * nearest IJG quality, with {@code exact()} false.
 *
 * <p>Stateless and thread-safe.
 */
public final class JpegQuality {
    /** The luminance example table of ITU T.81 Annex K (K.1), in natural (row-major) order. */
    private static final int[] LUMINANCE = {
        16, 11, 10, 16, 24, 40, 51, 61,
        12, 12, 14, 19, 26, 58, 60, 55,
        14, 13, 16, 24, 40, 57, 69, 56,
        14, 17, 22, 29, 51, 87, 80, 62,
        18, 22, 37, 56, 68, 109, 103, 77,
        24, 35, 55, 64, 81, 104, 113, 92,
        49, 64, 78, 87, 103, 121, 120, 101,
        72, 92, 95, 98, 112, 100, 103, 99};

    /** The chrominance example table of ITU T.81 Annex K (K.2), in natural order. */
    private static final int[] CHROMINANCE = {
        17, 18, 24, 47, 99, 99, 99, 99,
        18, 21, 26, 66, 99, 99, 99, 99,
        24, 26, 56, 99, 99, 99, 99, 99,
        47, 66, 99, 99, 99, 99, 99, 99,
        99, 99, 99, 99, 99, 99, 99, 99,
        99, 99, 99, 99, 99, 99, 99, 99,
        99, 99, 99, 99, 99, 99, 99, 99,
        99, 99, 99, 99, 99, 99, 99, 99};

    /** The natural-order position of the k-th coefficient of the zig-zag sequence (T.81 Figure A.6). */
    private static final int[] ZIGZAG = {
        0, 1, 8, 16, 9, 2, 3, 10, 17, 24, 32, 25, 18, 11, 4, 5,
        12, 19, 26, 33, 40, 48, 41, 34, 27, 20, 13, 6, 7, 14, 21, 28,
        35, 42, 49, 56, 57, 50, 43, 36, 29, 22, 15, 23, 30, 37, 44, 51,
        58, 59, 52, 45, 38, 31, 39, 46, 53, 60, 61, 54, 47, 55, 62, 63};

    private JpegQuality() {
    }

    /**
     * An estimate.
     *
     * @param quality the IJG quality, 1..100, whose tables are nearest the file's
     * @param exact   whether the file's tables are exactly the IJG tables at that quality
     * @param error   the sum of absolute differences between the file's tables and those tables
     */
    public record Estimate(int quality, boolean exact, long error) {}

    /**
     * The IJG table at a quality, in natural order.
     *
     * @param quality    1..100
     * @param luminance  the luminance table if true, else the chrominance table
     * @return 64 entries, each in 1..255
     * @throws InvalidArgumentException if quality is outside 1..100
     */
    public static int[] table(int quality, boolean luminance) {
        if (quality < 1 || quality > 100) {
            throw new InvalidArgumentException("JPEG quality must be in 1..100, got " + quality);
        }
        int scale = quality < 50 ? 5000 / quality : 200 - 2 * quality;
        int[] base = luminance ? LUMINANCE : CHROMINANCE;
        int[] out = new int[64];
        for (int i = 0; i < 64; i++) {
            out[i] = Math.max(1, Math.min(255, (base[i] * scale + 50) / 100));
        }
        return out;
    }

    /**
     * Estimates the quality from a JPEG's tables as {@link ImageHeader#quantTables()} gives them (zig-zag
     * order, slot 0 first; slot 0 is taken as luminance, the next as chrominance, any further ones are not
     * looked at).
     *
     * @param zigzagTables the tables, at least one of 64 entries
     * @return the estimate
     * @throws InvalidArgumentException if there is no table or one does not hold 64 entries
     */
    public static Estimate estimate(List<int[]> zigzagTables) {
        if (zigzagTables == null || zigzagTables.isEmpty()) {
            throw new InvalidArgumentException("a JPEG quality estimate needs at least one quantisation table");
        }
        int used = Math.min(2, zigzagTables.size());
        int[][] natural = new int[used][64];
        for (int t = 0; t < used; t++) {
            int[] z = zigzagTables.get(t);
            if (z == null || z.length != 64) {
                throw new InvalidArgumentException("a quantisation table holds 64 entries");
            }
            for (int k = 0; k < 64; k++) {
                natural[t][ZIGZAG[k]] = z[k];
            }
        }
        int best = 1;
        long bestError = Long.MAX_VALUE;
        for (int q = 1; q <= 100; q++) {
            long error = 0;
            for (int t = 0; t < used; t++) {
                int[] ref = table(q, t == 0);
                for (int i = 0; i < 64; i++) {
                    error += Math.abs(natural[t][i] - ref[i]);
                }
            }
            // On a tie (low qualities clamp to 255 alike) the higher quality is kept: encoding at it loses least.
            if (error <= bestError) {
                bestError = error;
                best = q;
            }
        }
        return new Estimate(best, bestError == 0, bestError);
    }
}
