package dev.dyepack.trigger;

import dev.dyepack.InvalidArgumentException;
import dev.dyepack.Layout;
import java.util.Arrays;

/**
 * A picture to stamp as a trigger: colour values plus an optional per-pixel opacity. Immutable: the
 * constructor copies both arrays and the accessors return copies, so a pattern can be shared between
 * threads and reused for many stamps.
 *
 * <p><b>values</b> holds {@code channels * height * width} floats in {@code layout}: element
 * (c, h, w) is at {@code layout.offset(c, h, w, channels, height, width)}, that is
 * {@code (h*W + w)*C + c} for {@link Layout#NHWC} and {@code (c*H + h)*W + w} for
 * {@link Layout#NCHW}. The values are in the units of the data they will be stamped into;
 * {@code dev.dyepack.image.Images.readPng} gives 0..255 whatever the bit depth of the file.
 *
 * <p><b>alpha</b> is either null (the pattern is opaque everywhere) or {@code height * width} floats
 * in [0, 1], row-major ({@code h*W + w}) and the same for every layout: 0 leaves the image pixel
 * untouched, 1 replaces it by the pattern. {@link #maskFor} spreads it over the channels.
 *
 * <p>{@code equals} and {@code hashCode} compare the array contents (as {@link Arrays#equals(float[],
 * float[])} does), not the array identities a record would compare by default.
 *
 * @param values   the colour values, {@code channels * height * width} finite floats in {@code layout}
 * @param alpha    the opacity, {@code height * width} floats in [0, 1], or null when opaque
 * @param channels C, at least 1
 * @param height   H, at least 1
 * @param width    W, at least 1
 * @param layout   the order of {@code values}
 */
public record ImagePattern(float[] values, float[] alpha, int channels, int height, int width, Layout layout) {

    /**
     * Checks and copies the arrays.
     *
     * @param values   see the record description
     * @param alpha    see the record description; null when opaque
     * @param channels C
     * @param height   H
     * @param width    W
     * @param layout   the order of {@code values}
     * @throws InvalidArgumentException if a size is below 1, the layout or values is null, an array
     *                                  has the wrong length, a value is not finite, or an alpha is
     *                                  outside [0, 1] (NaN included)
     */
    public ImagePattern {
        if (channels < 1 || height < 1 || width < 1) {
            throw new InvalidArgumentException("image pattern: channels, height and width must be at least 1, got "
                    + channels + "x" + height + "x" + width);
        }
        if (layout == null) {
            throw new InvalidArgumentException("image pattern: layout must not be null");
        }
        if (values == null) {
            throw new InvalidArgumentException("image pattern: values must not be null");
        }
        long plane = (long) height * width;
        long expected = plane * channels;
        if (values.length != expected) {
            throw new InvalidArgumentException("image pattern: values has " + values.length + " elements, "
                    + channels + "x" + height + "x" + width + " needs " + expected);
        }
        for (int i = 0; i < values.length; i++) {
            if (!Float.isFinite(values[i])) {
                throw new InvalidArgumentException("image pattern: values[" + i + "] is " + values[i]
                        + ", values must be finite");
            }
        }
        if (alpha != null) {
            if (alpha.length != plane) {
                throw new InvalidArgumentException("image pattern: alpha has " + alpha.length + " elements, "
                        + height + "x" + width + " needs " + plane);
            }
            for (int i = 0; i < alpha.length; i++) {
                // Written as a negated range test so that NaN is refused too.
                if (!(alpha[i] >= 0f && alpha[i] <= 1f)) {
                    throw new InvalidArgumentException("image pattern: alpha[" + i + "] is " + alpha[i]
                            + ", alpha must be in [0, 1]");
                }
            }
            alpha = alpha.clone();
        }
        values = values.clone();
    }

    /** @return a copy of the colour values, in {@link #layout()} */
    @Override
    public float[] values() {
        return values.clone();
    }

    /** @return a copy of the row-major opacity, or null when the pattern is opaque */
    @Override
    public float[] alpha() {
        return alpha == null ? null : alpha.clone();
    }

    /** @return whether the pattern carries an opacity plane */
    public boolean hasAlpha() {
        return alpha != null;
    }

    /**
     * The opacity spread over {@code channels} channels, ready to use as a per-element blend mask for
     * an image of this pattern's height and width: element (c, h, w) of the result, at
     * {@code layout.offset(c, h, w, channels, height, width)}, is {@code alpha[h*W + w]}, or 1 when
     * the pattern has no alpha. The channel count may differ from the pattern's own (a gray pattern
     * can mask a colour image).
     *
     * @param channels the channel count of the mask, at least 1
     * @param layout   the order of the mask
     * @return a new array of {@code channels * height * width} floats in [0, 1]
     * @throws InvalidArgumentException if {@code channels < 1}, {@code layout} is null, or the mask
     *                                  would not fit in a Java array
     */
    public float[] maskFor(int channels, Layout layout) {
        if (channels < 1) {
            throw new InvalidArgumentException("mask channels must be at least 1, got " + channels);
        }
        if (layout == null) {
            throw new InvalidArgumentException("mask layout must not be null");
        }
        long n = (long) channels * height * width;
        if (n > Integer.MAX_VALUE - 8) {
            throw new InvalidArgumentException("a " + channels + "x" + height + "x" + width
                    + " mask does not fit in a Java array");
        }
        float[] mask = new float[(int) n];
        if (alpha == null) {
            Arrays.fill(mask, 1f);
            return mask;
        }
        for (int c = 0; c < channels; c++) {
            for (int h = 0; h < height; h++) {
                for (int w = 0; w < width; w++) {
                    mask[(int) layout.offset(c, h, w, channels, height, width)] = alpha[h * width + w];
                }
            }
        }
        return mask;
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof ImagePattern p
                && channels == p.channels && height == p.height && width == p.width && layout == p.layout
                && Arrays.equals(values, p.values) && Arrays.equals(alpha, p.alpha);
    }

    @Override
    public int hashCode() {
        int h = Arrays.hashCode(values);
        h = 31 * h + Arrays.hashCode(alpha);
        h = 31 * h + channels;
        h = 31 * h + height;
        h = 31 * h + width;
        return 31 * h + layout.hashCode();
    }

    /** @return the shape and whether there is an alpha plane; the values themselves are left out */
    @Override
    public String toString() {
        return "ImagePattern[" + channels + "x" + height + "x" + width + " " + layout
                + (alpha == null ? ", opaque]" : ", with alpha]");
    }
}
