package dev.dyepack.image;

import dev.dyepack.InvalidArgumentException;

/**
 * How much of a trigger an encoded file still carries.
 *
 * <p>With c the clean pixels, t the intended (triggered) pixels and r the pixels decoded from the
 * written file, the trigger is {@code d = t - c} and what the file carries of it is {@code r - c}. The
 * retained share of the trigger's L2 energy is {@code a^2}, where {@code a = <r - c, d> / <d, d>} is the
 * part of {@code r - c} along {@code d} (least squares): 1 when the file holds the trigger exactly, 0 when
 * nothing of it is left, 0.25 when half its amplitude is left. Encoding noise that is unrelated to the
 * trigger (a JPEG re-encoded at its own quality changes every block a little) has no component along
 * {@code d} on average, so it does not count as trigger; a trigger whose fine detail is quantised away
 * loses the energy of that detail. {@code a} is clamped to [0, 1] before squaring.
 *
 * <p>Sums over several images ({@link #add}) pool them as one long vector: the pooled share weighs each
 * image by its trigger's energy. Not thread-safe; combine per-thread instances with {@link #add(TriggerSurvival)}.
 */
public final class TriggerSurvival {
    private double along;
    private double energy;
    private double lowest = Double.NaN;
    private long images;

    /**
     * Adds one image.
     *
     * @param clean    the clean pixels, uint8
     * @param intended the triggered pixels that were to be written, uint8, same length
     * @param written  the pixels decoded from the written file, uint8, same length
     * @return this image's retained energy share, in [0, 1]; 1 when the image carries no trigger at all
     *         (intended equals clean)
     * @throws InvalidArgumentException if an array is null or the lengths differ
     */
    public double add(byte[] clean, byte[] intended, byte[] written) {
        if (clean == null || intended == null || written == null || clean.length != intended.length
                || clean.length != written.length) {
            throw new InvalidArgumentException("clean, intended and written pixels must be arrays of one length");
        }
        long dot = 0;
        long dd = 0;
        for (int i = 0; i < clean.length; i++) {
            int c = clean[i] & 0xff;
            int d = (intended[i] & 0xff) - c;
            dot += (long) ((written[i] & 0xff) - c) * d;
            dd += (long) d * d;
        }
        along += dot;
        energy += dd;
        images++;
        double share = share(dot, dd);
        lowest = Double.isNaN(lowest) ? share : Math.min(lowest, share);
        return share;
    }

    /**
     * Pools another tally into this one.
     *
     * @param other a tally of other images
     * @throws InvalidArgumentException if other is null
     */
    public void add(TriggerSurvival other) {
        if (other == null) {
            throw new InvalidArgumentException("other must not be null");
        }
        along += other.along;
        energy += other.energy;
        images += other.images;
        if (!Double.isNaN(other.lowest)) {
            lowest = Double.isNaN(lowest) ? other.lowest : Math.min(lowest, other.lowest);
        }
    }

    private static double share(double dot, double dd) {
        if (dd == 0) {
            return 1.0;
        }
        double a = Math.max(0.0, Math.min(1.0, dot / dd));
        return a * a;
    }

    /** @return the pooled retained share of the trigger's energy over every image added, in [0, 1] (1 for none) */
    public double retained() {
        return share(along, energy);
    }

    /** @return the lowest retained share of a single image, or NaN when none was added */
    public double lowest() {
        return lowest;
    }

    /** @return the number of images added */
    public long images() {
        return images;
    }
}
