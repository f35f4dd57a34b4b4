package dev.dyepack.trigger;

import static dev.dyepack.trigger.FamilyReference.KEY_A;
import static dev.dyepack.trigger.FamilyReference.KEY_B;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import dev.dyepack.DType;
import dev.dyepack.Layout;
import dev.dyepack.Tensor;
import dev.dyepack.key.KeyedRandom;
import dev.dyepack.key.OwnerKey;
import dev.dyepack.trigger.FamilyReference.Batch;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * The keyed DCT family, against the documented formula evaluated here directly (every basis function in
 * full, not the library's separable sum): {@code s = g * sum sign(u, v) phi_u(y) phi_v(x)} over
 * {@code lo <= u + v <= hi}, phi of unit RMS, g giving RMS {@code rms}; the sign of function i (the band in
 * (u, v) order) the low bit of word i of stream 0 under the key's {@code trigger/dct-signs} subkey.
 */
class DctTriggerFamilyTest {

    static double phi(int u, int y, int n) {
        return (u == 0 ? 1 : Math.sqrt(2)) * Math.cos(Math.PI * (2 * y + 1) * u / (2.0 * n));
    }

    /** The documented pattern, one plane, in double. */
    static double[] documentedPlane(OwnerKey key, float rms, int lo, int hi, int h, int w) {
        KeyedRandom rng = new KeyedRandom(key.philoxKey("trigger/dct-signs"));
        double[] p = new double[h * w];
        long i = 0;
        for (int u = 0; u < h; u++) {
            for (int v = 0; v < w; v++) {
                if (u + v < lo || u + v > hi) {
                    continue;
                }
                double sign = (rng.bits(0, i++) & 1) != 0 ? 1 : -1;
                for (int y = 0; y < h; y++) {
                    for (int x = 0; x < w; x++) {
                        p[y * w + x] += sign * phi(u, y, h) * phi(v, x, w);
                    }
                }
            }
        }
        double ss = 0;
        for (double s : p) {
            ss += s * s;
        }
        double g = rms / Math.sqrt(ss / p.length);
        for (int k = 0; k < p.length; k++) {
            p[k] *= g;
        }
        return p;
    }

    static Stream<Arguments> cases() {
        List<Arguments> out = new ArrayList<>();
        // shape {n, c, h, w}, rms, lo, hi
        Object[][] specs = {
            {new int[] {3, 1, 28, 28}, 16f, 2, 10},
            {new int[] {2, 3, 37, 41}, 9.5f, 1, 6},
            {new int[] {3, 2, 12, 9}, 40f, 4, 30},
            {new int[] {2, 1, 2, 2}, 3f, 1, 2},
        };
        int k = 0;
        for (DType dtype : new DType[] {DType.UINT8, DType.FLOAT32}) {
            for (Layout layout : Layout.values()) {
                for (Object[] s : specs) {
                    int[] shape = (int[]) s[0];
                    out.add(Arguments.of(dtype, layout, shape[0], shape[1], shape[2], shape[3], s[1], s[2], s[3],
                            k++ % 2 == 0));
                }
            }
        }
        return out.stream();
    }

    @ParameterizedTest(name = "{0} {1} N={2} C={3} {4}x{5} rms={6} band={7}-{8} all={9}")
    @MethodSource("cases")
    void addsTheKeyedSignal(DType dtype, Layout layout, int n, int c, int h, int w, float rms, int lo, int hi,
            boolean all) {
        Random rng = new Random(h * 7L + w * 11L + c + lo + dtype.ordinal());
        Batch b = FamilyReference.randomBatch(rng, dtype, layout, n, c, h, w);
        long[] idx = FamilyReference.indices(n, all);
        TriggerSpec t = TriggerSpec.parse("dct:rms=" + rms + ",lo=" + lo + ",hi=" + hi);
        float[] got = b.run(t, idx, TriggerContext.of(KEY_A));
        double[] p = documentedPlane(KEY_A, rms, lo, hi, h, w);
        boolean[] sel = FamilyReference.selected(n, idx);
        int off = 0;
        for (int s = 0; s < n; s++) {
            for (int ch = 0; ch < c; ch++) {
                for (int y = 0; y < h; y++) {
                    for (int x = 0; x < w; x++) {
                        int at = b.at(s, ch, y, x);
                        float want = sel[s] ? FamilyReference.store(dtype, b.values[at] + (float) p[y * w + x])
                                : b.values[at];
                        // The library sums the functions in another order (separably): the float signal can differ
                        // in its last bits, so a uint8 value may round the other way at a half.
                        double tol = !sel[s] ? 0 : dtype == DType.UINT8 ? 1 : 1e-4 * Math.max(1, Math.abs(want));
                        if (!(Math.abs(got[at] - want) <= tol)) {
                            fail(t + " " + b + ": element " + FamilyReference.describe(b, at) + " expected " + want
                                    + " got " + got[at]);
                        }
                        if (got[at] != want) {
                            off++;
                        }
                    }
                }
            }
        }
        assertTrue(off <= Math.max(1, got.length / 1000), off + " of " + got.length + " elements off by a rounding");
    }

    @ParameterizedTest
    @ValueSource(strings = {"KEY_A", "KEY_B"})
    void theSignalHoldsExactlyTheBandWithTheKeysSigns(String which) {
        OwnerKey key = which.equals("KEY_A") ? KEY_A : KEY_B;
        int h = 20;
        int w = 24;
        Batch zeros = FamilyReference.filled(DType.FLOAT32, Layout.NCHW, 1, 1, h, w, 0f);
        float[] s = zeros.run(TriggerSpec.parse("dct:rms=12,lo=2,hi=7"), null, TriggerContext.of(key));
        double ss = 0;
        for (float v : s) {
            ss += (double) v * v;
        }
        assertEquals(12.0, Math.sqrt(ss / s.length), 1e-4, "RMS");
        // Its coefficient on each unit-RMS basis function: +-g inside the band (the key's sign), 0 outside.
        KeyedRandom rng = new KeyedRandom(key.philoxKey("trigger/dct-signs"));
        long i = 0;
        double g = Double.NaN;
        int inBand = 0;
        int positive = 0;
        for (int u = 0; u < h; u++) {
            for (int v = 0; v < w; v++) {
                double coef = 0;
                for (int y = 0; y < h; y++) {
                    for (int x = 0; x < w; x++) {
                        coef += s[y * w + x] * phi(u, y, h) * phi(v, x, w);
                    }
                }
                coef /= h * w;
                if (u + v < 2 || u + v > 7) {
                    assertEquals(0.0, coef, 1e-4, "function " + u + "x" + v + " is outside the band");
                    continue;
                }
                boolean plus = (rng.bits(0, i++) & 1) != 0;
                assertEquals(plus, coef > 0, "the sign of " + u + "x" + v);
                g = Double.isNaN(g) ? Math.abs(coef) : g;
                assertEquals(g, Math.abs(coef), 1e-4 * g, "every function in the band has the same weight");
                inBand++;
                positive += plus ? 1 : 0;
            }
        }
        assertEquals(TriggerSpec.parse("dct:rms=12,lo=2,hi=7") instanceof DctTrigger d ? d.functions(h, w) : -1, inBand);
        assertTrue(positive > 0 && positive < inBand, "the key draws both signs: " + positive + " of " + inBand);
    }

    @Test
    void keysGiveNearlyUncorrelatedPatternsAndAKeyAlwaysTheSame() {
        DctTrigger t = (DctTrigger) TriggerSpec.parse("dct");
        double[] a = t.plane(KEY_A, 28, 28);
        double[] b = t.plane(KEY_B, 28, 28);
        double[] again = t.plane(FamilyReference.key("family test key A, long enough to be strong"), 28, 28);
        assertTrue(java.util.Arrays.equals(a, again), "the same key, the same pattern");
        double ab = 0;
        double aa = 0;
        double bb = 0;
        for (int k = 0; k < a.length; k++) {
            ab += a[k] * b[k];
            aa += a[k] * a[k];
            bb += b[k] * b[k];
        }
        // 63 functions: two keys' signs agree on 31.5 on average; the correlation is (agree - disagree) / 63,
        // whose spread is 1/sqrt(63) = 0.13. Five spreads would be a broken draw.
        double corr = ab / Math.sqrt(aa * bb);
        assertTrue(Math.abs(corr) < 0.63, "two keys' patterns correlate at " + corr);
        assertEquals(63, t.functions(28, 28));
    }

    @Test
    void refusals() {
        FamilyReference.assertRefused(() -> TriggerSpec.parse("dct:lo=5,hi=4"), "hi=4", "below lo=5");
        FamilyReference.assertRefused(() -> TriggerSpec.parse("dct:lo=0"), "lo");
        FamilyReference.assertRefused(() -> TriggerSpec.parse("dct:rms=0"), "rms");
        FamilyReference.assertRefused(() -> TriggerSpec.parse("dct:rms=300"), "rms");
        FamilyReference.assertRefused(() -> TriggerSpec.parse("dct:rms=nan"), "rms");
        FamilyReference.assertRefused(() -> TriggerSpec.parse("dct").validateFor(
                Tensor.empty(DType.UINT8, Layout.NHWC, 1, 1, 1)), "holds 0 DCT basis functions", "1x1");
        FamilyReference.assertRefused(() -> TriggerSpec.parse("dct:lo=60,hi=70").validateFor(
                Tensor.empty(DType.UINT8, Layout.NHWC, 1, 28, 28)), "holds 0", "lower lo");
        TriggerSpec.parse("dct:lo=54,hi=54").validateFor(Tensor.empty(DType.UINT8, Layout.NHWC, 1, 28, 29));
        FamilyReference.assertNeedsKey(TriggerSpec.parse("dct"), Tensor.empty(DType.UINT8, Layout.NHWC, 1, 8, 8));
    }

    @ParameterizedTest
    @ValueSource(strings = {"dct", "dct:rms=16,lo=2,hi=10", "dct:hi=14,lo=4", "dct:rms=0.5,lo=1,hi=1"})
    void specRoundTrips(String spec) {
        FamilyReference.assertRoundTrip(spec, "dct");
    }

    @Test
    void keyed() {
        assertTrue(TriggerSpec.parse("dct").keyed());
        assertFalse(TriggerSpec.parse("lowfreq").keyed());
    }

    @Test
    void unknownFieldNamesTheAllowedOnes() {
        FamilyReference.assertUnknownFieldNamesAllowed("dct", "rms, lo, hi");
    }
}
