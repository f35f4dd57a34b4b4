package dev.dyepack.trigger;

import static dev.dyepack.trigger.FamilyReference.KEY_A;
import static dev.dyepack.trigger.FamilyReference.KEY_B;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.dyepack.DType;
import dev.dyepack.Layout;
import dev.dyepack.Tensor;
import dev.dyepack.trigger.FamilyReference.Batch;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Random;
import java.util.Set;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * The blend family (Blended): {@code x' = (1 - alpha) x + alpha t} by the mask-blend rule with amount
 * alpha and mask 1 (or the image's alpha). The keyed noise t is never taken from the main code: it is
 * observed through the engine with alpha = 1, where the rule writes t exactly, and then used to
 * predict every other alpha bit for bit.
 */
class BlendTriggerFamilyTest {

    @TempDir
    Path dir;

    static Stream<Arguments> geometries() {
        List<Arguments> out = new ArrayList<>();
        int[][] shapes = {{3, 1, 1, 1}, {3, 3, 37, 41}, {2, 4, 41, 37}, {3, 1, 37, 41}};
        for (DType dtype : new DType[] {DType.UINT8, DType.FLOAT32}) {
            for (Layout layout : Layout.values()) {
                for (int[] s : shapes) {
                    out.add(Arguments.of(dtype, layout, s[0], s[1], s[2], s[3]));
                }
            }
        }
        return out.stream();
    }

    /** t as the engine writes it with alpha = 1 (the rule's w == 1 end gives the pattern exactly). */
    private static float[] observedNoise(Batch b, String params, TriggerContext ctx) {
        float[] got = b.run(TriggerSpec.parse("blend:alpha=1" + params), null, ctx);
        float[] t = new float[b.sampleElems()];
        System.arraycopy(got, 0, t, 0, t.length);
        for (int s = 1; s < b.n; s++) {
            for (int e = 0; e < t.length; e++) {
                assertEquals(t[e], got[s * t.length + e], "one pattern per key: sample " + s + " element " + e);
            }
        }
        return t;
    }

    @ParameterizedTest(name = "{0} {1} N={2} C={3} {4}x{5}")
    @MethodSource("geometries")
    void noiseIsOnePatternPerKeyAndAlphaFollowsTheRule(DType dtype, Layout layout, int n, int c, int h, int w) {
        Random rng = new Random(c * 1000L + h * 10L + w + dtype.ordinal() * 7L + layout.ordinal());
        Batch b = FamilyReference.randomBatch(rng, dtype, layout, n, c, h, w);
        float full = dtype == DType.UINT8 ? 255f : 2.5f;
        String params = ",pattern=noise,value=" + SpecFormat.number(full);
        // (a) alpha = 1: every stamped element equals t, the same for every sample and batch, whatever the data.
        float[] t = observedNoise(b, params, TriggerContext.of(KEY_A));
        Batch other = FamilyReference.randomBatch(new Random(99), dtype, layout, n, c, h, w);
        assertArrayEquals(t, observedNoise(other, params, TriggerContext.of(KEY_A).at(500)),
                "t depends on the key only, not on the data or the dataset index");
        for (float v : t) {
            assertTrue(v >= 0f && v <= full, "noise " + v + " in [0, " + full + "]");
            if (dtype == DType.UINT8) {
                assertEquals(Math.rint(v), v, "uint8 noise is integral");
            }
        }
        if (t.length >= 16) {
            float[] tb = observedNoise(b, params, TriggerContext.of(KEY_B));
            assertFalse(java.util.Arrays.equals(t, tb), "another key gives another pattern");
        }
        // (b) alpha in (0, 1): exactly the rule with amount alpha, mask 1 and pattern t.
        for (float alpha : new float[] {0.2f, 0.5f, 0.7310586f}) {
            for (boolean all : new boolean[] {true, false}) {
                long[] idx = FamilyReference.indices(n, all);
                float[] got = b.run(TriggerSpec.parse("blend:alpha=" + alpha + params), idx, TriggerContext.of(KEY_A));
                float[] expected = b.values.clone();
                boolean[] sel = FamilyReference.selected(n, idx);
                for (int s = 0; s < n; s++) {
                    for (int e = 0; sel[s] && e < t.length; e++) {
                        int at = s * t.length + e;
                        expected[at] = FamilyReference.store(dtype, FamilyReference.blend(b.values[at], alpha * 1f, t[e]));
                    }
                }
                FamilyReference.assertExact(b, expected, got, "alpha=" + alpha + " all=" + all);
            }
        }
        // alpha = 0 changes nothing, bit for bit.
        FamilyReference.assertExact(b, b.values, b.run(TriggerSpec.parse("blend:alpha=0" + params), null,
                TriggerContext.of(KEY_A)), "alpha=0");
    }

    @Test
    void uint8NoiseBelowFullScaleCoversZeroToValue() {
        Batch b = FamilyReference.filled(DType.UINT8, Layout.NHWC, 1, 3, 37, 41, 200f);
        float[] t = observedNoise(b, ",value=3", TriggerContext.of(KEY_A));
        Set<Float> seen = new HashSet<>();
        for (float v : t) {
            seen.add(v);
        }
        assertEquals(Set.of(0f, 1f, 2f, 3f), seen, "integers 0..value");
    }

    @Test
    void float32NoiseIsContinuousBelowValue() {
        Batch b = FamilyReference.filled(DType.FLOAT32, Layout.NCHW, 1, 3, 37, 41, -9f);
        float[] t = observedNoise(b, ",value=0.75", TriggerContext.of(KEY_A));
        Set<Float> seen = new HashSet<>();
        double sum = 0;
        for (float v : t) {
            assertTrue(v >= 0f && v < 0.75f, "float noise in [0, value): " + v);
            seen.add(v);
            sum += v;
        }
        assertTrue(seen.size() > t.length * 9 / 10, "mostly distinct values");
        double mean = sum / t.length;
        assertTrue(Math.abs(mean - 0.375) < 0.02, "uniform mean " + mean);
    }

    // ------------------------------------------------------------ image patterns

    /** The file's pixels for channel c, resized to h x w with the reference bilinear resize. */
    private static float[][] resizedChannel(int[][][] px, int ch, int channels, int h, int w) {
        float[][] plane = new float[px.length][px[0].length];
        for (int y = 0; y < px.length; y++) {
            for (int x = 0; x < px[0].length; x++) {
                plane[y][x] = FamilyReference.pixelValue(px[y][x], ch, channels);
            }
        }
        return FamilyReference.resize(plane, h, w);
    }

    static Stream<Arguments> imageCases() {
        return Stream.of(Arguments.of(Layout.NHWC, 3, 37, 41), Arguments.of(Layout.NCHW, 3, 41, 37),
                Arguments.of(Layout.NCHW, 1, 37, 41), Arguments.of(Layout.NHWC, 1, 1, 1),
                Arguments.of(Layout.NHWC, 3, 7, 5));
    }

    @ParameterizedTest(name = "{0} C={1} {2}x{3}")
    @MethodSource("imageCases")
    void opaqueImageIsResizedToTheDataAndBlended(Layout layout, int c, int h, int w) throws IOException {
        Random rng = new Random(h * 31L + w + c + layout.ordinal());
        int[][][] px = FamilyReference.randomPixels(rng, 7, 5, 3);
        Path png = FamilyReference.writeRgbPng(dir, "blend.png", px);
        int n = 3;
        // alpha = 1 on float32 data writes the resized pattern itself. Our resize and the main code's may
        // round differently in the last float bit (evaluation order in double), so compare within 1e-4.
        Batch f = FamilyReference.randomBatch(rng, DType.FLOAT32, layout, n, c, h, w);
        float[] t = f.run(TriggerSpec.parse("blend:alpha=1,image=" + png), null, TriggerContext.keyless());
        float[][][] ref = new float[c][][];
        for (int ch = 0; ch < c; ch++) {
            ref[ch] = resizedChannel(px, ch, c, h, w);
        }
        float[] expected = new float[t.length];
        for (int s = 0; s < n; s++) {
            for (int ch = 0; ch < c; ch++) {
                for (int y = 0; y < h; y++) {
                    for (int x = 0; x < w; x++) {
                        expected[f.at(s, ch, y, x)] = ref[ch][y][x];
                    }
                }
            }
        }
        FamilyReference.assertClose(f, expected, t, 1e-4 / 255, "resized image");
        // With the observed pattern (exact), any alpha on uint8 data is the rule exactly.
        float[] pattern = java.util.Arrays.copyOf(t, f.sampleElems());
        Batch u = FamilyReference.randomBatch(rng, DType.UINT8, layout, n, c, h, w);
        long[] idx = {1};
        float[] got = u.run(TriggerSpec.parse("blend:alpha=0.3,image=" + png), idx, TriggerContext.keyless());
        float[] want = u.values.clone();
        for (int e = 0; e < pattern.length; e++) {
            int at = u.sampleElems() + e;
            want[at] = FamilyReference.toU8(FamilyReference.blend(u.values[at], 0.3f * 1f, pattern[e]));
        }
        FamilyReference.assertExact(u, want, got, "uint8 alpha=0.3 image");
    }

    @ParameterizedTest
    @ValueSource(strings = {"NHWC", "NCHW"})
    void imageAlphaScalesTheMix(Layout layout) throws IOException {
        Random rng = new Random(17 + layout.ordinal());
        int[][][] px = FamilyReference.randomPixels(rng, 6, 9, 4);
        Path png = FamilyReference.writeRgbaPng(dir, "alpha.png", px);
        int c = 3;
        int h = 37;
        int w = 41;
        Batch f = FamilyReference.randomBatch(rng, DType.FLOAT32, layout, 2, c, h, w);
        float alpha = 0.6f;
        float[] got = f.run(TriggerSpec.parse("blend:alpha=0.6,image=" + png), null, TriggerContext.keyless());
        float[][] opacity = new float[px.length][px[0].length];
        for (int y = 0; y < px.length; y++) {
            for (int x = 0; x < px[0].length; x++) {
                opacity[y][x] = px[y][x][3] / 255f;
            }
        }
        float[][] m = FamilyReference.resize(opacity, h, w);
        float[] expected = f.values.clone();
        for (int ch = 0; ch < c; ch++) {
            float[][] t = resizedChannel(px, ch, c, h, w);
            for (int s = 0; s < 2; s++) {
                for (int y = 0; y < h; y++) {
                    for (int x = 0; x < w; x++) {
                        int at = f.at(s, ch, y, x);
                        expected[at] = FamilyReference.blend(f.values[at], alpha * m[y][x], t[y][x]);
                    }
                }
            }
        }
        // The resized pattern and mask may differ from ours in the last float bit: 1e-5 relative.
        FamilyReference.assertClose(f, expected, got, 1e-5, "image with alpha");
    }

    @Test
    void noiseNeedsTheKey() {
        Tensor t = Tensor.of(java.nio.ByteBuffer.allocateDirect(12), Layout.NHWC, 1, 3, 2, 2);
        FamilyReference.assertNeedsKey(TriggerSpec.parse("blend"), t);
    }

    @Test
    void uint8ValueAboveTheRangeIsRefused() {
        FamilyReference.assertRefused(() -> TriggerSpec.parse("blend:value=300")
                .validateFor(Tensor.empty(DType.UINT8, Layout.NHWC, 3, 4, 4)), "uint8 range");
        TriggerSpec.parse("blend:value=300").validateFor(Tensor.empty(DType.FLOAT32, Layout.NHWC, 3, 4, 4));
        FamilyReference.assertRefused(() -> TriggerSpec.parse("blend:alpha=1.5"), "alpha");
    }

    // ------------------------------------------------------------ spec forms

    @ParameterizedTest
    @ValueSource(strings = {"blend", "blend:alpha=0.2", "blend:alpha=1,value=3", "blend:alpha=0,pattern=noise",
        "blend:alpha=0.33333334,value=0.5", "blend:image=/tmp/a b/c.png,alpha=0.5", "blend:image=x.png,value=100"})
    void specRoundTrips(String spec) {
        FamilyReference.assertRoundTrip(spec, "blend");
    }

    @Test
    void keyedExactlyWithNoise() {
        assertTrue(TriggerSpec.parse("blend").keyed());
        assertTrue(TriggerSpec.parse("blend:pattern=noise,alpha=0.5").keyed());
        assertFalse(TriggerSpec.parse("blend:image=p.png").keyed());
    }

    @Test
    void negativeZeroSurvivesTheCanonicalForm() {
        TriggerSpec t = TriggerSpec.parse("blend:alpha=-0");
        assertEquals(t, TriggerSpec.parse(t.toString()), t.toString());
    }

    @Test
    void unknownFieldNamesTheAllowedOnes() {
        FamilyReference.assertUnknownFieldNamesAllowed("blend", "alpha, pattern, value, image");
    }
}
