package dev.dyepack.trigger;

import static dev.dyepack.trigger.FamilyReference.KEY_A;
import static dev.dyepack.trigger.FamilyReference.KEY_B;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.dyepack.Backend;
import dev.dyepack.DType;
import dev.dyepack.Engine;
import dev.dyepack.Layout;
import dev.dyepack.Tensor;
import dev.dyepack.key.KeyedRandom;
import dev.dyepack.key.OwnerKey;
import dev.dyepack.trigger.FamilyReference.Batch;
import java.nio.ByteBuffer;
import java.nio.FloatBuffer;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;
import org.junit.jupiter.params.provider.ValueSource;

/** The warp family (WaNet): properties on many shapes, and an independent WaNet reference on small cases. */
class WarpTriggerFamilyTest {

    static Stream<Arguments> shapes() {
        List<Arguments> out = new ArrayList<>();
        int[][] shapes = {{3, 1, 1, 1}, {3, 3, 37, 41}, {2, 4, 41, 37}, {2, 1, 1, 9}, {2, 3, 9, 1}};
        for (DType dtype : new DType[] {DType.UINT8, DType.FLOAT32}) {
            for (Layout layout : Layout.values()) {
                for (int[] s : shapes) {
                    out.add(Arguments.of(dtype, layout, s[0], s[1], s[2], s[3]));
                }
            }
        }
        return out.stream();
    }

    @ParameterizedTest(name = "{0} {1} N={2} C={3} {4}x{5}")
    @MethodSource("shapes")
    void zeroStrengthIsTheExactIdentity(DType dtype, Layout layout, int n, int c, int h, int w) {
        Batch b = FamilyReference.randomBatch(new Random(n + c + h + w), dtype, layout, n, c, h, w);
        for (String spec : new String[] {"warp:s=0", "warp:s=0,k=7", "warp:k=2,s=0,rescale=1"}) {
            for (OwnerKey key : new OwnerKey[] {KEY_A, KEY_B}) {
                FamilyReference.assertExact(b, b.values, b.run(TriggerSpec.parse(spec), null, TriggerContext.of(key)),
                        spec);
            }
        }
    }

    @ParameterizedTest(name = "{0} {1} N={2} C={3} {4}x{5}")
    @MethodSource("shapes")
    void warpedValuesAreReproducibleKeyedAndConvex(DType dtype, Layout layout, int n, int c, int h, int w) {
        Random rng = new Random(7L * n + 5L * c + 3L * h + w + dtype.ordinal());
        Batch b = FamilyReference.randomBatch(rng, dtype, layout, n, c, h, w);
        TriggerSpec t = TriggerSpec.parse("warp:k=4,s=3");
        for (boolean all : new boolean[] {true, false}) {
            long[] idx = FamilyReference.indices(n, all);
            float[] a1 = b.run(t, idx, TriggerContext.of(KEY_A));
            float[] a2 = b.run(t, idx, TriggerContext.of(KEY_A));
            assertArrayEquals(a1, a2, "reproducible");
            if (h > 8 && w > 8) {
                assertFalse(java.util.Arrays.equals(a1, b.run(t, idx, TriggerContext.of(KEY_B))), "keyed");
                assertFalse(java.util.Arrays.equals(a1, b.values), "s > 0 moves pixels");
            }
            boolean[] sel = FamilyReference.selected(n, idx);
            for (int s = 0; s < n; s++) {
                for (int ch = 0; ch < c; ch++) {
                    float lo = Float.POSITIVE_INFINITY;
                    float hi = Float.NEGATIVE_INFINITY;
                    for (int y = 0; y < h; y++) {
                        for (int x = 0; x < w; x++) {
                            lo = Math.min(lo, b.values[b.at(s, ch, y, x)]);
                            hi = Math.max(hi, b.values[b.at(s, ch, y, x)]);
                        }
                    }
                    for (int y = 0; y < h; y++) {
                        for (int x = 0; x < w; x++) {
                            int at = b.at(s, ch, y, x);
                            if (!sel[s]) {
                                assertEquals(b.values[at], a1[at], "unselected samples untouched");
                            } else {
                                // bilinear is a convex combination of the sample's own channel values
                                assertTrue(a1[at] >= lo && a1[at] <= hi, "value " + a1[at] + " within [" + lo + ", " + hi
                                        + "] at " + FamilyReference.describe(b, at));
                            }
                        }
                    }
                }
            }
        }
    }

    @Test
    void theFieldDependsOnTheKeyOnly() {
        // Pixel value encodes the column (x*8 for W=32): the warped value is 8 * the source column.
        int n = 4;
        int h = 32;
        int w = 32;
        float[] cols = new float[n * h * w];
        float[] rows = new float[n * h * w];
        for (int s = 0; s < n; s++) {
            for (int y = 0; y < h; y++) {
                for (int x = 0; x < w; x++) {
                    cols[(s * h + y) * w + x] = x * 8;
                    rows[(s * h + y) * w + x] = y * 8;
                }
            }
        }
        TriggerSpec t = TriggerSpec.parse("warp:k=4,s=1");
        Batch bc = new Batch(DType.UINT8, Layout.NHWC, n, 1, h, w, cols);
        Batch br = new Batch(DType.UINT8, Layout.NHWC, n, 1, h, w, rows);
        float[] xs = bc.run(t, null, TriggerContext.of(KEY_A));
        float[] ys = br.run(t, null, TriggerContext.of(KEY_A).at(1234));
        int moved = 0;
        for (int s = 1; s < n; s++) {
            for (int p = 0; p < h * w; p++) {
                assertEquals(xs[p], xs[s * h * w + p], "same column displacement for every sample");
                assertEquals(ys[p], ys[s * h * w + p], "same row displacement for every sample");
            }
        }
        for (int y = 0; y < h; y++) {
            for (int x = 0; x < w; x++) {
                if (xs[y * w + x] != x * 8 || ys[y * w + x] != y * 8) {
                    moved++;
                }
            }
        }
        assertTrue(moved > h * w / 2, "most pixels move (" + moved + ")");
        // Another batch of the same geometry, at another place in the dataset, gets the same field.
        float[] later = bc.slice(0, 1).run(t, null, TriggerContext.of(KEY_A).at(99));
        assertArrayEquals(java.util.Arrays.copyOf(xs, h * w), later, "the field does not follow the dataset index");
        float[] otherKey = bc.run(t, null, TriggerContext.of(KEY_B));
        assertFalse(java.util.Arrays.equals(xs, otherKey), "another key, another field");
    }

    @ParameterizedTest
    @ValueSource(strings = {"UINT8", "FLOAT32"})
    void borderClampingNeverReadsOutside(DType dtype) {
        // A constant image stays constant under any warp only if no sample reads beyond the border.
        // lerp(v, v, f) = fma(f, v, (1 - f) * v) may be off v by an ulp in float32; uint8 rounds it back.
        float v = dtype == DType.UINT8 ? 200f : 3f;
        Batch b = FamilyReference.filled(dtype, Layout.NCHW, 2, 3, 37, 41, v);
        float[] got = b.run(TriggerSpec.parse("warp:k=3,s=40,rescale=1.5"), null, TriggerContext.of(KEY_A));
        for (float g : got) {
            if (dtype == DType.UINT8) {
                assertEquals(v, g, "constant stays constant");
            } else {
                assertEquals(v, g, 1e-5f, "constant stays constant");
            }
        }
    }

    // ------------------------------------------------------------ independent WaNet reference

    /** (a*x - 5a)x + 8a)x - 4a, for 1 < |x| < 2 (PyTorch's cubic_convolution2). */
    private static double cc2(double x) {
        double a = -0.75;
        return ((a * x - 5 * a) * x + 8 * a) * x - 4 * a;
    }

    /** ((a+2)x - (a+3))x^2 + 1, for |x| <= 1 (PyTorch's cubic_convolution1). */
    private static double cc1(double x) {
        double a = -0.75;
        return ((a + 2) * x - (a + 3)) * x * x + 1;
    }

    private static double cubic1d(double x0, double x1, double x2, double x3, double t) {
        return x0 * cc2(t + 1) + x1 * cc1(t) + x2 * cc1(1 - t) + x3 * cc2(2 - t);
    }

    /** PyTorch upsample_bicubic2d(align_corners=True) of plane [base, base + k*k) to h x w, clamped taps. */
    private static double[] bicubic(double[] f, int base, int k, int h, int w) {
        double scaleY = h > 1 ? (k - 1.0) / (h - 1) : 0;
        double scaleX = w > 1 ? (k - 1.0) / (w - 1) : 0;
        double[] out = new double[h * w];
        for (int y = 0; y < h; y++) {
            double ry = scaleY * y;
            int iy = (int) Math.floor(ry);
            double ty = ry - iy;
            for (int x = 0; x < w; x++) {
                double rx = scaleX * x;
                int ix = (int) Math.floor(rx);
                double tx = rx - ix;
                double[] r = new double[4];
                for (int i = 0; i < 4; i++) {
                    int row = Math.max(0, Math.min(k - 1, iy - 1 + i));
                    double[] v = new double[4];
                    for (int j = 0; j < 4; j++) {
                        int col = Math.max(0, Math.min(k - 1, ix - 1 + j));
                        v[j] = f[base + row * k + col];
                    }
                    r[i] = cubic1d(v[0], v[1], v[2], v[3], tx);
                }
                out[y * w + x] = cubic1d(r[0], r[1], r[2], r[3], ty);
            }
        }
        return out;
    }

    /** Source pixel along an axis of n pixels, from WaNet's grid in [-1, 1] with align_corners. */
    private static double source(int i, int n, double d, double s, double rescale, int height) {
        if (n == 1) {
            return 0;
        }
        double v = i * rescale + (n - 1) / 2.0 * (1 - rescale) + rescale * (n - 1) * s * d / (2.0 * height);
        return Math.max(0, Math.min(n - 1, v));
    }

    /** Row plane then column plane, in pixels, as float. */
    static float[] wanetGrid(OwnerKey key, int k, double s, double rescale, int h, int w) {
        KeyedRandom rng = new KeyedRandom(key.philoxKey("trigger/warp-field"));
        double[] f = new double[2 * k * k];
        double mean = 0;
        for (int i = 0; i < f.length; i++) {
            f[i] = rng.uniform(0, i) * 2.0 - 1.0;
            mean += Math.abs(f[i]);
        }
        mean /= f.length;
        for (int i = 0; i < f.length; i++) {
            f[i] /= mean;
        }
        double[] dx = bicubic(f, 0, k, h, w); // plane 0: column offsets
        double[] dy = bicubic(f, k * k, k, h, w); // plane 1: row offsets
        float[] grid = new float[2 * h * w];
        for (int y = 0; y < h; y++) {
            for (int x = 0; x < w; x++) {
                int p = y * w + x;
                grid[p] = (float) source(y, h, dy[p], s, rescale, h);
                grid[h * w + p] = (float) source(x, w, dx[p], s, rescale, h);
            }
        }
        return grid;
    }

    /** Bilinear sampling of every sample at the grid, with the float32 lerp rule, then the store rule. */
    static float[] sample(Batch b, float[] grid) {
        float[] out = b.values.clone();
        int hw = b.h * b.w;
        for (int s = 0; s < b.n; s++) {
            for (int y = 0; y < b.h; y++) {
                for (int x = 0; x < b.w; x++) {
                    float sy = Math.max(0f, Math.min(b.h - 1, grid[y * b.w + x]));
                    float sx = Math.max(0f, Math.min(b.w - 1, grid[hw + y * b.w + x]));
                    int y0 = (int) sy;
                    int x0 = (int) sx;
                    int y1 = Math.min(y0 + 1, b.h - 1);
                    int x1 = Math.min(x0 + 1, b.w - 1);
                    float fy = sy - y0;
                    float fx = sx - x0;
                    for (int ch = 0; ch < b.c; ch++) {
                        float v00 = b.values[b.at(s, ch, y0, x0)];
                        float v01 = b.values[b.at(s, ch, y0, x1)];
                        float v10 = b.values[b.at(s, ch, y1, x0)];
                        float v11 = b.values[b.at(s, ch, y1, x1)];
                        float v = FamilyReference.lerp(FamilyReference.lerp(v00, v01, fx),
                                FamilyReference.lerp(v10, v11, fx), fy);
                        out[b.at(s, ch, y, x)] = FamilyReference.store(b.dtype, v);
                    }
                }
            }
        }
        return out;
    }

    static Stream<Arguments> wanetCases() {
        return Stream.of(Arguments.of(4, 0.5f, 1f, 16, 16, 3, Layout.NHWC),
                Arguments.of(3, 2f, 1.1f, 9, 13, 1, Layout.NCHW),
                Arguments.of(5, 4f, 0.9f, 13, 9, 4, Layout.NHWC),
                Arguments.of(2, 1f, 1f, 1, 7, 3, Layout.NCHW));
    }

    @ParameterizedTest(name = "k={0} s={1} rescale={2} {3}x{4} C={5} {6}")
    @MethodSource("wanetCases")
    void matchesAnIndependentWanetReference(int k, float s, float rescale, int h, int w, int c, Layout layout) {
        TriggerSpec t = TriggerSpec.parse("warp:k=" + k + ",s=" + s + ",rescale=" + rescale);
        float[] grid = wanetGrid(KEY_A, k, s, rescale, h, w);
        // The main code's own grid agrees with ours to rounding (both are doubles rounded to float once;
        // evaluation orders differ, e.g. scale * i vs i * (k - 1) / (n - 1), so allow a few ulps).
        float[] mainGrid = ((WarpTrigger) t).grid(new KeyedRandom(KEY_A.philoxKey("trigger/warp-field")), h, w);
        for (int i = 0; i < grid.length; i++) {
            assertEquals(grid[i], mainGrid[i], 1e-5 * Math.max(1, Math.abs(grid[i])), "grid element " + i);
        }
        Random rng = new Random(k * 31L + h + w);
        int agree = 0;
        for (int p = 0; p < h * w; p++) {
            if (grid[p] == mainGrid[p] && grid[h * w + p] == mainGrid[h * w + p]) {
                agree++;
            }
        }
        assertTrue(agree > h * w / 2, "most grid points agree bit for bit (" + agree + " of " + h * w + ")");
        for (DType dtype : new DType[] {DType.FLOAT32, DType.UINT8}) {
            Batch b = FamilyReference.randomBatch(rng, dtype, layout, 3, c, h, w);
            compareWithReference(b, grid, mainGrid, b.run(t, null, TriggerContext.of(KEY_A)));
        }
    }

    /**
     * Where our float grid equals the main code's bit for bit, the result must be the lerp rule exactly
     * (float32 and uint8). Where it differs in the last bits (both are doubles rounded to float once, by
     * different evaluation orders), the bilinear weights move by at most the grid difference: float32 is
     * then checked within |dgrid| * (max - min) * 2 + 1e-5 relative, and uint8 within 1 level.
     */
    private static void compareWithReference(Batch b, float[] grid, float[] mainGrid, float[] got) {
        float[] expected = sample(b, grid);
        int hw = b.h * b.w;
        float lo = Float.POSITIVE_INFINITY;
        float hi = Float.NEGATIVE_INFINITY;
        for (float v : b.values) {
            lo = Math.min(lo, v);
            hi = Math.max(hi, v);
        }
        for (int s = 0; s < b.n; s++) {
            for (int ch = 0; ch < b.c; ch++) {
                for (int y = 0; y < b.h; y++) {
                    for (int x = 0; x < b.w; x++) {
                        int p = y * b.w + x;
                        int at = b.at(s, ch, y, x);
                        double dg = Math.abs(grid[p] - mainGrid[p]) + Math.abs(grid[hw + p] - mainGrid[hw + p]);
                        String where = b + " " + FamilyReference.describe(b, at);
                        if (dg == 0) {
                            assertEquals(Float.floatToIntBits(expected[at]), Float.floatToIntBits(got[at]),
                                    where + ": expected " + expected[at] + " got " + got[at]);
                        } else if (b.dtype == DType.UINT8) {
                            assertTrue(Math.abs(expected[at] - got[at]) <= 1f, where);
                        } else {
                            double tol = 2 * dg * (hi - lo) + 1e-5 * Math.max(1, Math.abs(expected[at]));
                            assertTrue(Math.abs(expected[at] - got[at]) <= tol, where + ": expected " + expected[at]
                                    + " got " + got[at]);
                        }
                    }
                }
            }
        }
    }

    @Test
    void theWarpPrimitiveSamplesAGivenGridExactly() {
        // With the same float grid on both sides, the engine's bilinear sampling is the lerp rule exactly.
        Random rng = new Random(5);
        for (Layout layout : Layout.values()) {
            float[] grid = wanetGrid(KEY_B, 4, 6, 1.2, 19, 23);
            Batch u = FamilyReference.randomBatch(rng, DType.UINT8, layout, 2, 3, 19, 23);
            Batch f = FamilyReference.randomBatch(rng, DType.FLOAT32, layout, 2, 3, 19, 23);
            ByteBuffer ub = ByteBuffer.allocateDirect(u.values.length);
            for (int i = 0; i < u.values.length; i++) {
                ub.put(i, (byte) (int) u.values[i]);
            }
            FloatBuffer fb = FamilyReference.floats(f.values);
            try (Engine engine = Engine.open(Backend.CPU)) {
                engine.warp(Tensor.of(ub, layout, 2, 3, 19, 23), grid, null);
                engine.warp(Tensor.of(fb, layout, 2, 3, 19, 23), grid, null);
            }
            float[] gotU = new float[u.values.length];
            for (int i = 0; i < gotU.length; i++) {
                gotU[i] = ub.get(i) & 0xff;
            }
            FamilyReference.assertExact(u, sample(u, grid), gotU, "uint8 warp primitive");
            FamilyReference.assertExact(f, sample(f, grid), FamilyReference.read(fb), "float32 warp primitive");
        }
    }

    @Test
    void warpNeedsTheKey() {
        FamilyReference.assertNeedsKey(TriggerSpec.parse("warp"),
                Tensor.of(ByteBuffer.allocateDirect(16), Layout.NHWC, 1, 1, 4, 4));
        // even the identity: a keyed family never runs without its key
        FamilyReference.assertNeedsKey(TriggerSpec.parse("warp:s=0"),
                Tensor.of(ByteBuffer.allocateDirect(16), Layout.NHWC, 1, 1, 4, 4));
    }

    @Test
    void badParametersAreRefused() {
        FamilyReference.assertRefused(() -> TriggerSpec.parse("warp:k=1"), "k must be an integer in [2, 1024]");
        FamilyReference.assertRefused(() -> TriggerSpec.parse("warp:s=-1"), "s must be");
        FamilyReference.assertRefused(() -> TriggerSpec.parse("warp:rescale=0"), "rescale");
    }

    @ParameterizedTest
    @ValueSource(strings = {"warp", "warp:k=4,s=0.5,rescale=1", "warp:s=0", "warp:k=1024,s=1000000,rescale=2.5",
        "warp:rescale=0.75,k=2"})
    void specRoundTrips(String spec) {
        FamilyReference.assertRoundTrip(spec, "warp");
    }

    @Test
    void alwaysKeyed() {
        assertTrue(TriggerSpec.parse("warp").keyed());
        assertTrue(TriggerSpec.parse("warp:s=0").keyed());
    }

    @Test
    void negativeZeroSurvivesTheCanonicalForm() {
        TriggerSpec t = TriggerSpec.parse("warp:s=-0");
        assertEquals(t, TriggerSpec.parse(t.toString()), t.toString());
    }

    @Test
    void unknownFieldNamesTheAllowedOnes() {
        FamilyReference.assertUnknownFieldNamesAllowed("warp", "k, s, rescale");
    }
}
