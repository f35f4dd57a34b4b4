package dev.dyepack.trigger;

import dev.dyepack.Engine;
import dev.dyepack.InvalidArgumentException;
import dev.dyepack.Tensor;
import dev.dyepack.key.KeyedRandom;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Objects;

/**
 * The WaNet warping trigger (Nguyen and Tran, 2021): a k x k field of keyed offsets, uniform in
 * [-1, 1] and normalised by their mean absolute value, upsampled to the image by bicubic
 * interpolation (align-corners, a = -0.75, as PyTorch's {@code upsample_bicubic2d}), scaled by
 * {@code s / H}, added to the identity sampling grid in [-1, 1] coordinates, multiplied by
 * {@code rescale}, clamped to the image, and sampled bilinearly. {@code s = 0} is the identity,
 * exactly. The field depends only on the key.
 *
 * @param k       control-grid size (&gt;= 2)
 * @param s       warping strength (&gt;= 0)
 * @param rescale grid rescale factor (&gt; 0; WaNet's {@code grid_rescale})
 */
public record WarpTrigger(int k, float s, float rescale) implements TriggerSpec {
    /** The family name in spec strings. */
    public static final String FAMILY = "warp";

    static final TriggerParameter K = TriggerParameter.integer("k", "4", 2, 1024, "control-grid size");
    static final TriggerParameter S = TriggerParameter.number("s", "0.5", 0f, 1e6f, "warping strength");
    static final TriggerParameter RESCALE = TriggerParameter.number("rescale", "1", Float.MIN_VALUE, 1e6f,
            "WaNet's `grid_rescale`");

    /** The family's registry entry. */
    static final TriggerFamily DESCRIPTOR = new TriggerFamily(FAMILY, DataKind.IMAGES, "WaNet warping field",
            "always", java.util.List.of(K, S, RESCALE), WarpTrigger::fromFields);

    /** @throws InvalidArgumentException for out-of-range parameters */
    public WarpTrigger {
        K.checkInteger(FAMILY, k);
        S.checkNumber(FAMILY, s);
        RESCALE.checkNumber(FAMILY, rescale);
    }

    static WarpTrigger fromFields(Map<String, String> raw) {
        return new WarpTrigger(K.readInteger(FAMILY, raw, 4), S.readNumber(FAMILY, raw, 0.5f),
                RESCALE.readNumber(FAMILY, raw, 1f));
    }

    @Override
    public String family() {
        return FAMILY;
    }

    @Override
    public DataKind kind() {
        return DataKind.IMAGES;
    }

    @Override
    public boolean keyed() {
        return true;
    }

    @Override
    public Map<String, Object> parameters() {
        Map<String, Object> p = new LinkedHashMap<>();
        p.put("k", k);
        p.put("s", s);
        p.put("rescale", rescale);
        return p;
    }

    @Override
    public void validateFor(Tensor batch) {
        TriggerSpec.requireImages(FAMILY, batch);
    }

    /**
     * The sampling grid for an h x w image: source row of every pixel, then source column, in pixels.
     *
     * @param rng the keyed stream of the warp field
     * @param h   height
     * @param w   width
     * @return 2*h*w values
     */
    float[] grid(KeyedRandom rng, int h, int w) {
        double[] field = new double[2 * k * k]; // plane 0: column (x) offsets, plane 1: row (y) offsets
        double meanAbs = 0;
        for (int i = 0; i < field.length; i++) {
            field[i] = rng.uniform(0, i) * 2.0 - 1.0;
            meanAbs += Math.abs(field[i]);
        }
        meanAbs /= field.length;
        for (int i = 0; i < field.length; i++) {
            field[i] /= meanAbs;
        }
        double[] dx = upsample(field, 0, h, w);
        double[] dy = upsample(field, k * k, h, w);
        float[] grid = new float[2 * h * w];
        for (int y = 0; y < h; y++) {
            for (int x = 0; x < w; x++) {
                int p = y * w + x;
                // (W-1)/2 * (rescale * (identity + s*d/H) + 1), written so that s = 0 and rescale = 1
                // give the pixel's own integer coordinate exactly.
                grid[p] = (float) clamp(source(y, h, dy[p], h), h);
                grid[h * w + p] = (float) clamp(source(x, w, dx[p], h), w);
            }
        }
        return grid;
    }

    private double source(int i, int n, double d, int height) {
        if (n == 1) {
            return 0;
        }
        return i * (double) rescale + (n - 1) / 2.0 * (1.0 - rescale) + rescale * (n - 1) * (double) s * d / (2.0 * height);
    }

    private static double clamp(double v, int n) {
        return Math.max(0, Math.min(n - 1, v));
    }

    /** Bicubic (a = -0.75), align-corners upsampling of one k x k plane to h x w, border taps clamped. */
    private double[] upsample(double[] field, int base, int h, int w) {
        double[] rows = new double[k * w];
        for (int r = 0; r < k; r++) {
            for (int x = 0; x < w; x++) {
                rows[r * w + x] = cubic(field, base + r * k, 1, k, w == 1 ? 0 : x * (k - 1.0) / (w - 1));
            }
        }
        double[] out = new double[h * w];
        for (int y = 0; y < h; y++) {
            for (int x = 0; x < w; x++) {
                out[y * w + x] = cubic(rows, x, w, k, h == 1 ? 0 : y * (k - 1.0) / (h - 1));
            }
        }
        return out;
    }

    private static double cubic(double[] v, int start, int stride, int n, double real) {
        int i = (int) Math.floor(real);
        double t = real - i;
        double a = -0.75;
        double w0 = ((a * (t + 1) - 5 * a) * (t + 1) + 8 * a) * (t + 1) - 4 * a;
        double w1 = ((a + 2) * t - (a + 3)) * t * t + 1;
        double w2 = ((a + 2) * (1 - t) - (a + 3)) * (1 - t) * (1 - t) + 1;
        double w3 = ((a * (2 - t) - 5 * a) * (2 - t) + 8 * a) * (2 - t) - 4 * a;
        return w0 * tap(v, start, stride, n, i - 1) + w1 * tap(v, start, stride, n, i)
                + w2 * tap(v, start, stride, n, i + 1) + w3 * tap(v, start, stride, n, i + 2);
    }

    private static double tap(double[] v, int start, int stride, int n, int i) {
        return v[start + stride * Math.max(0, Math.min(n - 1, i))];
    }

    @Override
    public PreparedTrigger prepare(Engine engine, Tensor template, TriggerContext context) {
        Objects.requireNonNull(context, "context");
        validateFor(template);
        KeyedRandom rng = new KeyedRandom(context.requireKey(FAMILY).philoxKey(Patterns.WARP_FIELD));
        Operands operands = new Operands(engine);
        operands.floats("grid", grid(rng, Math.toIntExact(template.h()), Math.toIntExact(template.w())));
        return new Prepared(this, engine, template, operands, null,
                (e, ops, batch, indices, first) -> e.warp(batch, ops.floats("grid"), indices));
    }

    @Override
    public String toString() {
        return SpecFormat.spec(FAMILY, parameters());
    }
}
