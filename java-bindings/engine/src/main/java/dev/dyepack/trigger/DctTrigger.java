package dev.dyepack.trigger;

import dev.dyepack.Engine;
import dev.dyepack.InvalidArgumentException;
import dev.dyepack.Tensor;
import dev.dyepack.key.KeyedRandom;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Objects;

/**
 * A keyed low-frequency pattern: keyed signs over the DCT-II basis functions of a band of frequencies,
 * {@code s(y, x) = g * sum_(u,v) sign_k(u, v) * phi_u(y) * phi_v(x)} over every (u, v) with
 * {@code lo <= u + v <= hi} (u &lt; H, v &lt; W), where {@code phi_u(y) = cos(pi (2y+1) u / 2H)}, times
 * sqrt(2) for u &gt; 0, has unit RMS, and g scales the sum to an RMS of {@code rms} data units. The same
 * signal is added to every channel, then clipped. Two keys' patterns share each function's sign by
 * chance, so their correlation is about 1/sqrt(functions) (63 functions by default: 0.13), and the
 * pattern is smooth, so it keeps its shape through a network's pooling. The default RMS, 24, took hold at
 * 95-99% on the evaluation's CNN at 1% (22-23 dB) under one training run and 86-98% under another;
 * docs/efficacy.md, section 38, measured it against the sparse default, which is stronger and more specific to
 * its key. It is weak elsewhere: 16-40% at 0.1%, 7-21% under clean-label and 20-45% at 1% in a small ResNet
 * (sections 39 and 40), where {@code dyepack poison} warns.
 *
 * <p>The signs: function i, counted over the band in (u, v) order (u outer, v inner), takes +1 when the low
 * bit of word i of stream 0 of the key's {@code trigger/dct-signs} subkey is set, -1 otherwise.
 *
 * @param rms the pattern's root mean square, in data units (&gt; 0)
 * @param lo  the lowest u + v in the band (at least 1: u + v = 0 is a change of brightness, not a pattern)
 * @param hi  the highest u + v in the band (&gt;= lo)
 */
public record DctTrigger(float rms, int lo, int hi) implements TriggerSpec {
    /** The family name in spec strings. */
    public static final String FAMILY = "dct";

    static final TriggerParameter RMS = TriggerParameter.number("rms", "24", Float.MIN_VALUE, 255f,
            "the pattern's root mean square, data units");
    static final TriggerParameter LO = TriggerParameter.integer("lo", "2", 1, 1 << 20,
            "the band's lowest u + v");
    static final TriggerParameter HI = TriggerParameter.integer("hi", "10", 1, 1 << 20,
            "the band's highest u + v (at least lo)");

    /** The family's registry entry. */
    static final TriggerFamily DESCRIPTOR = new TriggerFamily(FAMILY, DataKind.IMAGES,
            "keyed signs over a band of DCT basis functions", "always", java.util.List.of(RMS, LO, HI),
            DctTrigger::fromFields);

    /** @throws InvalidArgumentException for out-of-range parameters */
    public DctTrigger {
        RMS.checkNumber(FAMILY, rms);
        LO.checkInteger(FAMILY, lo);
        HI.checkInteger(FAMILY, hi);
        if (hi < lo) {
            throw new InvalidArgumentException("dct: hi=" + hi + " is below lo=" + lo + " (the band is lo <= u + v <= hi)",
                    "hi", hi, "at least lo (" + lo + ")");
        }
    }

    static DctTrigger fromFields(Map<String, String> raw) {
        return new DctTrigger(RMS.readNumber(FAMILY, raw, 24f), LO.readInteger(FAMILY, raw, 2),
                HI.readInteger(FAMILY, raw, 10));
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
        p.put("rms", rms);
        p.put("lo", lo);
        p.put("hi", hi);
        return p;
    }

    /**
     * How many basis functions the band holds on an image of this size.
     *
     * @param h the image's height
     * @param w the image's width
     * @return the number of (u, v) with u &lt; h, v &lt; w and lo &lt;= u + v &lt;= hi
     */
    public long functions(long h, long w) {
        long count = 0;
        for (long u = 0; u < h && u <= hi; u++) {
            long from = Math.max(0, lo - u);
            long to = Math.min(w - 1, hi - u);
            count += Math.max(0, to - from + 1);
        }
        return count;
    }

    @Override
    public void validateFor(Tensor batch) {
        TriggerSpec.requireImages(FAMILY, batch);
        long n = functions(batch.h(), batch.w());
        if (n < 2) {
            throw new InvalidArgumentException("dct: the band " + lo + " <= u + v <= " + hi + " holds " + n
                    + " DCT basis function" + (n == 1 ? "" : "s") + " of a " + batch.h() + "x" + batch.w()
                    + " image; a keyed pattern needs at least 2 (lower lo or hi)", "lo", lo,
                    "a band with at least 2 functions below u + v = " + (batch.h() + batch.w() - 2));
        }
    }

    /**
     * The key's signal for an image geometry, one H x W plane (the same for every channel), row-major.
     *
     * @param key the owner's (or a derived) key
     * @param h   the image's height
     * @param w   the image's width
     * @return H * W values with root mean square {@link #rms()}
     */
    public double[] plane(dev.dyepack.key.OwnerKey key, int h, int w) {
        Objects.requireNonNull(key, "key");
        KeyedRandom rng = new KeyedRandom(key.philoxKey(Patterns.DCT_SIGNS));
        double[][] rows = basis(h, Math.min(h - 1, hi));
        double[][] cols = basis(w, Math.min(w - 1, hi));
        double[] plane = new double[Math.multiplyExact(h, w)];
        double[] line = new double[w];
        long i = 0;
        // Separable: for each u, the row profile sum_v sign(u, v) phi_v(x), then its outer product with phi_u(y).
        for (int u = 0; u < rows.length; u++) {
            int from = Math.max(0, lo - u);
            int to = Math.min(w - 1, hi - u);
            if (from > to) {
                continue;
            }
            java.util.Arrays.fill(line, 0);
            for (int v = from; v <= to; v++, i++) {
                double sign = (rng.bits(0, i) & 1) != 0 ? 1 : -1;
                double[] phi = cols[v];
                for (int x = 0; x < w; x++) {
                    line[x] += sign * phi[x];
                }
            }
            double[] phiU = rows[u];
            for (int y = 0; y < h; y++) {
                double a = phiU[y];
                int base = y * w;
                for (int x = 0; x < w; x++) {
                    plane[base + x] += a * line[x];
                }
            }
        }
        double sum = 0;
        for (double s : plane) {
            sum += s * s;
        }
        double gain = rms / Math.sqrt(sum / plane.length);
        for (int k = 0; k < plane.length; k++) {
            plane[k] *= gain;
        }
        return plane;
    }

    /** phi_u over n points for u = 0..last: cos(pi (2y+1) u / 2n), times sqrt(2) for u > 0 (unit RMS). */
    private static double[][] basis(int n, int last) {
        double[][] out = new double[last + 1][n];
        for (int u = 0; u <= last; u++) {
            double scale = u == 0 ? 1 : Math.sqrt(2);
            for (int y = 0; y < n; y++) {
                out[u][y] = scale * StrictMath.cos(Math.PI * (2 * y + 1) * u / (2.0 * n));
            }
        }
        return out;
    }

    @Override
    public PreparedTrigger prepare(Engine engine, Tensor template, TriggerContext context) {
        Objects.requireNonNull(context, "context");
        validateFor(template);
        int h = (int) template.h();
        int w = (int) template.w();
        double[] plane = plane(context.requireKey(FAMILY), h, w);
        Operands operands = new Operands(engine);
        operands.floats("signal", Patterns.fill((int) template.c(), h, w, template.layout(),
                (c, y, x) -> (float) plane[y * w + x]));
        return new Prepared(this, engine, template, operands, null,
                (e, ops, batch, indices, first) -> e.addSignal(batch, ops.floats("signal"), indices));
    }

    @Override
    public String toString() {
        return SpecFormat.spec(FAMILY, parameters());
    }
}
