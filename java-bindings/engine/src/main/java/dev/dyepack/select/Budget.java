package dev.dyepack.select;

import dev.dyepack.InvalidArgumentException;
import dev.dyepack.Parameters;
import java.util.Locale;

/**
 * How many samples to poison: a fraction of the dataset ({@code 0.01}) or a count ({@code 600}). A
 * fraction is rounded to the nearest count (halves up); a count of 0 is an error. Above 5% of the data
 * is refused unless explicitly overridden, and the override is recorded.
 *
 * @param requested the text the user gave
 * @param fraction  the requested fraction, or NaN when a count was given
 * @param count     the requested count, or -1 when a fraction was given
 */
public record Budget(String requested, double fraction, long count) {
    /** The default budget: 1% of the data. */
    public static final String DEFAULT = "0.01";
    /** Above this share of the data an explicit override is required. */
    public static final double CAP = 0.05;

    /**
     * Parses a budget: a number in (0, 1) is a fraction, a whole number &gt;= 1 a count.
     *
     * @param text the budget
     * @return the budget
     * @throws InvalidArgumentException for anything else
     */
    public static Budget parse(String text) {
        String t = text == null ? "" : text.trim();
        try {
            if (t.matches("[0-9]+")) {
                long c = Long.parseLong(t);
                if (c < 1) {
                    throw invalid(t);
                }
                return new Budget(t, Double.NaN, c);
            }
            double f = Double.parseDouble(t);
            if (!(f > 0 && f < 1)) {
                throw invalid(t);
            }
            return new Budget(t, f, -1);
        } catch (NumberFormatException e) {
            throw invalid(t);
        }
    }

    private static InvalidArgumentException invalid(String text) {
        return new InvalidArgumentException("budget must be a fraction in (0, 1) or a count >= 1, got '" + text + "'",
                Parameters.BUDGET, text, "a fraction in (0, 1) or a count >= 1");
    }

    /**
     * The number of samples this budget means for a dataset of n.
     *
     * @param n                 the dataset's size
     * @param allowOver5Percent whether the 5% cap is overridden
     * @return the count, &gt;= 1
     * @throws InvalidArgumentException if it rounds to 0, exceeds n, or exceeds 5% without the override
     */
    public long countFor(long n, boolean allowOver5Percent) {
        long c = count >= 0 ? count : Math.round(fraction * n);
        if (c < 1) {
            throw new InvalidArgumentException("budget " + requested + " of " + n + " samples rounds to 0; give a larger "
                    + "fraction or a count", Parameters.BUDGET, requested, "at least 1 sample");
        }
        if (c > n) {
            throw new InvalidArgumentException("budget " + requested + " asks for " + c + " samples but the data has " + n,
                    Parameters.BUDGET, requested, "at most " + n + " samples");
        }
        if (c > CAP * n && !allowOver5Percent) {
            // The fault is the missing override, not the budget: a front end names its override option.
            throw new InvalidArgumentException(String.format(Locale.ROOT,
                    "budget %s is %d samples, %.2f%% of the data: above the 5%% cap. Protective poisoning should stay "
                            + "small; going above the cap takes an explicit override, which the manifest records",
                    requested, c, 100.0 * c / n), Parameters.ALLOW_OVER_5_PERCENT, false,
                    "true to go above 5% (recorded in the manifest)");
        }
        return c;
    }
}
