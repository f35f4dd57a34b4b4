package dev.dyepack.trigger;

import dev.dyepack.InvalidArgumentException;
import dev.dyepack.Layout;

/** Bilinear resampling of trigger patterns (pure arithmetic: no image library involved). */
public final class PatternResize {
    private PatternResize() {}

    /**
     * Resamples a pattern's values and alpha bilinearly to {@code height x width}.
     *
     * <p>Convention: pixel centres sit at half-integer coordinates and the corners are not aligned
     * (PyTorch's {@code interpolate(mode="bilinear", align_corners=False)}, OpenCV's
     * {@code INTER_LINEAR}). Destination row y reads source row coordinate
     * {@code sy = (y + 0.5) * srcH / height - 0.5}, clamped to [0, srcH - 1]; likewise for columns.
     * The value is the interpolation between the two neighbouring rows and columns, computed in
     * double as {@code a + t * (b - a)} (so a constant image stays exactly constant) and rounded to
     * float once. Values and alpha are resampled independently, each channel on its own; the colour
     * of fully transparent pixels can therefore bleed into the edge of a resized pattern. Large
     * reductions alias, as plain bilinear does (no prefiltering).
     *
     * <p>When the size is unchanged the result is an equal copy.
     *
     * @param src    the pattern to resample
     * @param height the new height, at least 1
     * @param width  the new width, at least 1
     * @return a new pattern with the same channels, layout and presence of alpha
     * @throws InvalidArgumentException if {@code src} is null, a size is below 1, or the result
     *                                  would not fit in a Java array
     */
    public static ImagePattern resize(ImagePattern src, int height, int width) {
        if (src == null) {
            throw new InvalidArgumentException("pattern to resize must not be null");
        }
        if (height < 1 || width < 1) {
            throw new InvalidArgumentException("resize: height and width must be at least 1, got "
                    + height + "x" + width);
        }
        int channels = src.channels();
        if ((long) channels * height * width > Integer.MAX_VALUE - 8) {
            throw new InvalidArgumentException("resize: a " + channels + "x" + height + "x" + width
                    + " pattern does not fit in a Java array");
        }
        if (height == src.height() && width == src.width()) {
            return new ImagePattern(src.values(), src.alpha(), channels, height, width, src.layout());
        }
        Axis rows = new Axis(src.height(), height);
        Axis cols = new Axis(src.width(), width);
        Layout layout = src.layout();
        float[] in = src.values();
        float[] out = new float[channels * height * width];
        int sh = src.height();
        int sw = src.width();
        for (int c = 0; c < channels; c++) {
            final int ch = c;
            resamplePlane(rows, cols, (y, x) -> in[(int) layout.offset(ch, y, x, channels, sh, sw)],
                    (y, x, v) -> out[(int) layout.offset(ch, y, x, channels, height, width)] = v);
        }
        float[] alpha = null;
        float[] srcAlpha = src.alpha();
        if (srcAlpha != null) {
            float[] a = new float[height * width];
            resamplePlane(rows, cols, (y, x) -> srcAlpha[y * sw + x],
                    (y, x, v) -> a[y * width + x] = Math.min(1f, Math.max(0f, v)));
            alpha = a;
        }
        return new ImagePattern(out, alpha, channels, height, width, layout);
    }

    private interface PlaneIn {
        float get(int y, int x);
    }

    private interface PlaneOut {
        void set(int y, int x, float v);
    }

    /** For each destination index along one axis: the two source indices and the weight of the second. */
    private static final class Axis {
        final int[] lo;
        final int[] hi;
        final double[] t;

        Axis(int srcSize, int dstSize) {
            lo = new int[dstSize];
            hi = new int[dstSize];
            t = new double[dstSize];
            double ratio = (double) srcSize / dstSize;
            for (int d = 0; d < dstSize; d++) {
                double s = (d + 0.5) * ratio - 0.5;
                s = Math.min(srcSize - 1, Math.max(0.0, s));
                int i = (int) Math.floor(s);
                lo[d] = i;
                hi[d] = Math.min(i + 1, srcSize - 1);
                t[d] = s - i;
            }
        }
    }

    private static void resamplePlane(Axis rows, Axis cols, PlaneIn in, PlaneOut out) {
        for (int y = 0; y < rows.t.length; y++) {
            int y0 = rows.lo[y];
            int y1 = rows.hi[y];
            double ty = rows.t[y];
            for (int x = 0; x < cols.t.length; x++) {
                int x0 = cols.lo[x];
                int x1 = cols.hi[x];
                double tx = cols.t[x];
                double top = lerp(in.get(y0, x0), in.get(y0, x1), tx);
                double bottom = lerp(in.get(y1, x0), in.get(y1, x1), tx);
                out.set(y, x, (float) lerp(top, bottom, ty));
            }
        }
    }

    private static double lerp(double a, double b, double t) {
        return a + t * (b - a);
    }
}
