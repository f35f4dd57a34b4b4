package dev.dyepack.trigger;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.dyepack.DType;
import dev.dyepack.Layout;
import dev.dyepack.Tensor;
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
 * The low-frequency family: {@code s(y, x) = amp * mean_k cos(pi (2y+1) u_k / 2H) cos(pi (2x+1) v_k / 2W)}
 * in double (StrictMath), cast to float; rgb adds s to every channel, yuv (BT.601) adds
 * gain_c * s with gains R 1.13983, G -0.39465 - 0.58060, B 2.03211 (in double, then cast).
 */
class LowFreqTriggerFamilyTest {

    /** The DCT plane in double. */
    static double[] plane(float amp, int[][] freqs, int h, int w) {
        double[] p = new double[h * w];
        for (int y = 0; y < h; y++) {
            for (int x = 0; x < w; x++) {
                double sum = 0;
                for (int[] uv : freqs) {
                    sum += StrictMath.cos(Math.PI * (2 * y + 1) * uv[0] / (2.0 * h))
                            * StrictMath.cos(Math.PI * (2 * x + 1) * uv[1] / (2.0 * w));
                }
                p[y * w + x] = amp * sum / freqs.length;
            }
        }
        return p;
    }

    static final double[] YUV_GAIN = {1.13983, -0.39465 - 0.58060, 2.03211};

    static float signal(double[] plane, boolean yuv, int ch, int y, int x, int w) {
        double s = plane[y * w + x];
        return (float) (yuv ? YUV_GAIN[ch] * s : s);
    }

    static Stream<Arguments> cases() {
        List<Arguments> out = new ArrayList<>();
        // shape {n, c, h, w}, freqs, space
        Object[][] specs = {
            {new int[] {3, 1, 1, 1}, "0x0", "rgb"},
            {new int[] {3, 3, 1, 1}, "0x0", "yuv"},
            {new int[] {3, 3, 37, 41}, "1x2+2x1", "rgb"},
            {new int[] {3, 3, 37, 41}, "1x2+2x1", "yuv"},
            {new int[] {2, 4, 41, 37}, "3x5", "rgb"},
            {new int[] {2, 1, 37, 41}, "0x1+1x0+36x40", "rgb"},
            {new int[] {3, 3, 41, 37}, "4x4+0x7+2x3", "yuv"},
        };
        int k = 0;
        for (DType dtype : new DType[] {DType.UINT8, DType.FLOAT32}) {
            for (Layout layout : Layout.values()) {
                for (Object[] s : specs) {
                    int[] shape = (int[]) s[0];
                    float amp = k % 3 == 0 ? 8f : k % 3 == 1 ? 30.5f : 0.75f;
                    out.add(Arguments.of(dtype, layout, shape[0], shape[1], shape[2], shape[3], s[1], s[2], amp,
                            k % 2 == 0));
                    k++;
                }
            }
        }
        return out.stream();
    }

    private static int[][] freqs(String text) {
        String[] parts = text.split("\\+");
        int[][] f = new int[parts.length][];
        for (int i = 0; i < parts.length; i++) {
            String[] uv = parts[i].split("x");
            f[i] = new int[] {Integer.parseInt(uv[0]), Integer.parseInt(uv[1])};
        }
        return f;
    }

    @ParameterizedTest(name = "{0} {1} N={2} C={3} {4}x{5} freqs={6} space={7} amp={8} all={9}")
    @MethodSource("cases")
    void addsTheDctSignal(DType dtype, Layout layout, int n, int c, int h, int w, String freqText, String space,
            float amp, boolean all) {
        Random rng = new Random(h * 5L + w * 3L + c + freqText.hashCode() + space.hashCode() + dtype.ordinal());
        Batch b = FamilyReference.randomBatch(rng, dtype, layout, n, c, h, w);
        long[] idx = FamilyReference.indices(n, all);
        TriggerSpec t = TriggerSpec.parse("lowfreq:amp=" + amp + ",freqs=" + freqText + ",space=" + space);
        float[] got = b.run(t, idx, TriggerContext.keyless());
        double[] p = plane(amp, freqs(freqText), h, w);
        float[] expected = b.values.clone();
        boolean[] sel = FamilyReference.selected(n, idx);
        for (int s = 0; s < n; s++) {
            for (int ch = 0; sel[s] && ch < c; ch++) {
                for (int y = 0; y < h; y++) {
                    for (int x = 0; x < w; x++) {
                        int at = b.at(s, ch, y, x);
                        expected[at] = FamilyReference.store(dtype,
                                b.values[at] + signal(p, space.equals("yuv"), ch, y, x, w));
                    }
                }
            }
        }
        // The signal is the published formula evaluated in double in the formula's own order and rounded
        // to float once; the addition and the store rule are exact. Both dtypes compare bit for bit.
        FamilyReference.assertExact(b, expected, got, t.toString());
    }

    @ParameterizedTest
    @ValueSource(strings = {"1x2+2x1", "0x0", "5x0+0x5+3x3", "36x40", "1x1+1x1+1x1"})
    void signalNeverExceedsAmp(String freqText) {
        float amp = 12.25f;
        Batch zeros = FamilyReference.filled(DType.FLOAT32, Layout.NHWC, 1, 1, 37, 41, 0f);
        float[] s = zeros.run(TriggerSpec.parse("lowfreq:amp=12.25,freqs=" + freqText), null, TriggerContext.keyless());
        float max = 0;
        for (float v : s) {
            assertTrue(Math.abs(v) <= amp, "|s| = " + Math.abs(v) + " exceeds amp");
            max = Math.max(max, Math.abs(v));
        }
        assertTrue(max > amp / 4, "the signal is not trivially small: " + max);
    }

    @Test
    void yuvGainsPerChannel() {
        // On zeros, channel c holds gain_c * s: R / B and G / B follow the BT.601 chroma gains.
        Batch zeros = FamilyReference.filled(DType.FLOAT32, Layout.NCHW, 1, 3, 8, 8, 0f);
        float[] got = zeros.run(TriggerSpec.parse("lowfreq:amp=10,freqs=0x0,space=yuv"), null, TriggerContext.keyless());
        for (int i = 0; i < 64; i++) {
            assertEquals((float) (1.13983 * 10), got[i]);
            assertEquals((float) ((-0.39465 - 0.58060) * 10), got[64 + i]);
            assertEquals((float) (2.03211 * 10), got[128 + i]);
        }
        float[] rgb = zeros.run(TriggerSpec.parse("lowfreq:amp=10,freqs=0x0,space=rgb"), null, TriggerContext.keyless());
        float[] tens = new float[192];
        java.util.Arrays.fill(tens, 10f);
        assertArrayEquals(tens, rgb, "rgb: the same s in every channel");
    }

    @Test
    void frequenciesOutsideTheImageAreRefused() {
        Tensor img = Tensor.empty(DType.UINT8, Layout.NHWC, 3, 37, 41);
        TriggerSpec.parse("lowfreq:freqs=36x40").validateFor(img);
        FamilyReference.assertRefused(() -> TriggerSpec.parse("lowfreq:freqs=37x0").validateFor(img),
                "frequency 37x0", "outside");
        FamilyReference.assertRefused(() -> TriggerSpec.parse("lowfreq:freqs=1x1+0x41").validateFor(img),
                "frequency 0x41");
        FamilyReference.assertRefused(() -> TriggerSpec.parse("lowfreq").validateFor(
                Tensor.empty(DType.FLOAT32, Layout.NHWC, 1, 1, 1)), "frequency 1x2");
        Batch one = FamilyReference.filled(DType.UINT8, Layout.NHWC, 2, 3, 2, 2, 9f);
        FamilyReference.assertRefused(() -> one.run(TriggerSpec.parse("lowfreq:freqs=2x0"), null,
                TriggerContext.keyless()), "frequency 2x0");
    }

    @ParameterizedTest
    @ValueSource(ints = {1, 2, 4})
    void yuvNeedsThreeChannels(int c) {
        FamilyReference.assertRefused(() -> TriggerSpec.parse("lowfreq:space=yuv").validateFor(
                Tensor.empty(DType.UINT8, Layout.NCHW, c, 16, 16)), "space=yuv needs 3", "has " + c);
    }

    @Test
    void badFrequencyListsAreRefused() {
        FamilyReference.assertRefused(() -> TriggerSpec.parse("lowfreq:freqs=1x2x3"), "UxV");
        FamilyReference.assertRefused(() -> TriggerSpec.parse("lowfreq:freqs=1-2"), "UxV");
        FamilyReference.assertRefused(() -> TriggerSpec.parse("lowfreq:freqs=-1x2"), "non-negative");
        FamilyReference.assertRefused(() -> TriggerSpec.parse("lowfreq:amp=0"), "amp");
    }

    @ParameterizedTest
    @ValueSource(strings = {"lowfreq", "lowfreq:amp=8,freqs=1x2+2x1,space=rgb", "lowfreq:space=yuv,amp=0.5",
        "lowfreq:freqs=0x0", "lowfreq:freqs=3x4+4x3+10x0,amp=255"})
    void specRoundTrips(String spec) {
        FamilyReference.assertRoundTrip(spec, "lowfreq");
    }

    @Test
    void neverKeyed() {
        assertFalse(TriggerSpec.parse("lowfreq").keyed());
        assertFalse(TriggerSpec.parse("lowfreq:space=yuv").keyed());
    }

    @Test
    void unknownFieldNamesTheAllowedOnes() {
        FamilyReference.assertUnknownFieldNamesAllowed("lowfreq", "amp, freqs, space");
    }
}
