package dev.dyepack.trigger;

import static dev.dyepack.trigger.FamilyReference.KEY_A;
import static dev.dyepack.trigger.FamilyReference.KEY_B;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
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

/** The patch family (BadNets) through the CPU engine against an independent reference. */
class PatchTriggerFamilyTest {

    @TempDir
    Path dir;

    // ------------------------------------------------------------ fixed positions, solid and checker

    /** Top-left corner of an S x S patch, from the Position Javadoc. */
    private static int[] corner(String pos, int size, int h, int w, int atY, int atX) {
        return switch (pos) {
            case "tl" -> new int[] {0, 0};
            case "tr" -> new int[] {0, w - size};
            case "bl" -> new int[] {h - size, 0};
            case "br" -> new int[] {h - size, w - size};
            case "center" -> new int[] {Math.floorDiv(h - size, 2), Math.floorDiv(w - size, 2)};
            case "at" -> new int[] {atY, atX};
            default -> throw new IllegalArgumentException(pos);
        };
    }

    static Stream<Arguments> fixedCases() {
        List<Arguments> out = new ArrayList<>();
        String[] positions = {"br", "bl", "tr", "tl", "center", "at"};
        int[][] shapes = {{3, 1, 1, 1}, {3, 3, 37, 41}, {2, 4, 37, 41}, {4, 1, 41, 37}};
        int k = 0;
        for (DType dtype : new DType[] {DType.UINT8, DType.FLOAT32}) {
            for (Layout layout : Layout.values()) {
                for (int[] s : shapes) {
                    for (String pattern : new String[] {"solid", "checker"}) {
                        String pos = positions[k % positions.length];
                        boolean all = k % 3 != 0;
                        out.add(Arguments.of(dtype, layout, s[0], s[1], s[2], s[3], pattern, pos, all));
                        k++;
                    }
                }
            }
        }
        // Every position with every dtype at least once on the odd-sized image.
        for (String pos : positions) {
            out.add(Arguments.of(DType.UINT8, Layout.NCHW, 2, 3, 37, 41, "checker", pos, true));
            out.add(Arguments.of(DType.FLOAT32, Layout.NHWC, 2, 1, 37, 41, "solid", pos, false));
        }
        return out.stream();
    }

    @ParameterizedTest(name = "{0} {1} N={2} C={3} {4}x{5} {6} pos={7} all={8}")
    @MethodSource("fixedCases")
    void fixedPatchesMatchTheReference(DType dtype, Layout layout, int n, int c, int h, int w, String pattern,
            String pos, boolean all) {
        Random rng = new Random(n * 7919L + c * 131L + h * 17L + w + pattern.hashCode() + pos.hashCode()
                + dtype.ordinal() * 3L + layout.ordinal());
        Batch b = FamilyReference.randomBatch(rng, dtype, layout, n, c, h, w);
        int size = Math.min(h, w) == 1 ? 1 : 1 + rng.nextInt(7);
        int atY = pos.equals("at") ? rng.nextInt(h - size + 1) : 0;
        int atX = pos.equals("at") ? rng.nextInt(w - size + 1) : 0;
        float value = dtype == DType.UINT8 ? 200f : -0.125f;
        float low = dtype == DType.UINT8 ? 17f : 1.5f;
        String spec = "patch:size=" + size + ",pos=" + pos + (pos.equals("at") ? ",y=" + atY + ",x=" + atX : "")
                + ",pattern=" + pattern + ",value=" + SpecFormat.number(value) + ",low=" + SpecFormat.number(low);
        long[] idx = FamilyReference.indices(n, all);
        float[] got = b.run(TriggerSpec.parse(spec), idx, TriggerContext.keyless());

        float[] expected = b.values.clone();
        boolean[] sel = FamilyReference.selected(n, idx);
        int[] tl = corner(pos, size, h, w, atY, atX);
        for (int s = 0; s < n; s++) {
            if (!sel[s]) {
                continue;
            }
            for (int ch = 0; ch < c; ch++) {
                for (int y = 0; y < size; y++) {
                    for (int x = 0; x < size; x++) {
                        // checkerboard in patch coordinates: value where (row + column) is even
                        float p = pattern.equals("solid") || (y + x) % 2 == 0 ? value : low;
                        // amount 1, mask 1: the blend rule gives p exactly, then the store rule
                        expected[b.at(s, ch, tl[0] + y, tl[1] + x)] = FamilyReference.store(dtype,
                                FamilyReference.blend(b.values[b.at(s, ch, tl[0] + y, tl[1] + x)], 1f, p));
                    }
                }
            }
        }
        FamilyReference.assertExact(b, expected, got, spec);
    }

    @Test
    void uint8PatchValuesRoundHalfToEven() {
        Batch b = FamilyReference.filled(DType.UINT8, Layout.NHWC, 1, 1, 3, 3, 7f);
        float[] got = b.run(TriggerSpec.parse("patch:size=2,pos=tl,pattern=checker,value=100.5,low=101.5"), null,
                TriggerContext.keyless());
        // 100.5 -> 100, 101.5 -> 102 (ties to even), untouched pixels stay 7
        assertArrayEquals(new float[] {100, 102, 7, 102, 100, 7, 7, 7, 7}, got);
    }

    // ------------------------------------------------------------ image patterns

    static Stream<Arguments> imageCases() {
        return Stream.of(Arguments.of(DType.UINT8, Layout.NHWC, 3), Arguments.of(DType.UINT8, Layout.NCHW, 3),
                Arguments.of(DType.UINT8, Layout.NHWC, 1), Arguments.of(DType.FLOAT32, Layout.NCHW, 3),
                Arguments.of(DType.FLOAT32, Layout.NHWC, 1));
    }

    @ParameterizedTest(name = "{0} {1} C={2}")
    @MethodSource("imageCases")
    void imagePatchBlendsByItsAlpha(DType dtype, Layout layout, int c) throws IOException {
        Random rng = new Random(41 + c + dtype.ordinal() * 5 + layout.ordinal());
        int s = 5;
        int[][][] px = FamilyReference.randomPixels(rng, s, s, 4);
        px[0][0][3] = 0; // fully transparent: untouched
        px[0][1][3] = 255; // opaque: exactly the pattern
        px[1][1] = new int[] {90, 90, 90, 128}; // gray pixel: luma is R exactly
        Path png = FamilyReference.writeRgbaPng(dir, "patch.png", px);
        int n = 3;
        int h = 37;
        int w = 41;
        Batch b = FamilyReference.randomBatch(rng, dtype, layout, n, c, h, w);
        long[] idx = {2, 0};
        TriggerSpec t = TriggerSpec.parse("patch:pos=at,y=30,x=4,image=" + png);
        assertEquals(PatchTrigger.Pattern.IMAGE, ((PatchTrigger) t).pattern());
        float[] got = b.run(t, idx, TriggerContext.keyless());

        float[] expected = b.values.clone();
        for (long si : idx) {
            int sample = (int) si;
            for (int ch = 0; ch < c; ch++) {
                for (int y = 0; y < s; y++) {
                    for (int x = 0; x < s; x++) {
                        float alpha = px[y][x][3] / 255f; // mask = alpha, amount 1: w = 1 * alpha
                        float p = FamilyReference.pixelValue(px[y][x], ch, c); // value=255: no scaling
                        int at = b.at(sample, ch, 30 + y, 4 + x);
                        expected[at] = FamilyReference.store(dtype, FamilyReference.blend(b.values[at], 1f * alpha, p));
                    }
                }
            }
        }
        FamilyReference.assertExact(b, expected, got, "image patch");
    }

    // ------------------------------------------------------------ keyed random positions

    /** The (top, left) of the one S x S square of 255s in each sample of an all-zero uint8 batch. */
    private static int[][] findSquares(Batch b, float[] got, int size) {
        int[][] out = new int[b.n][];
        for (int s = 0; s < b.n; s++) {
            int top = Integer.MAX_VALUE;
            int left = Integer.MAX_VALUE;
            int count = 0;
            for (int y = 0; y < b.h; y++) {
                for (int x = 0; x < b.w; x++) {
                    if (got[b.at(s, 0, y, x)] == 255f) {
                        top = Math.min(top, y);
                        left = Math.min(left, x);
                        count++;
                    }
                }
            }
            if (count == 0) {
                continue;
            }
            assertEquals(size * size, count, "sample " + s + " should hold one " + size + "x" + size + " square");
            assertTrue(top + size <= b.h && left + size <= b.w, "sample " + s + " patch inside the image");
            for (int y = 0; y < size; y++) {
                for (int x = 0; x < size; x++) {
                    for (int ch = 0; ch < b.c; ch++) {
                        assertEquals(255f, got[b.at(s, ch, top + y, left + x)], "square is solid in every channel");
                    }
                }
            }
            out[s] = new int[] {top, left};
        }
        return out;
    }

    @ParameterizedTest
    @ValueSource(strings = {"NHWC", "NCHW"})
    void randomPositionsAreInsideKeyedAndReproducible(Layout layout) {
        int n = 24;
        int size = 5;
        Batch zeros = FamilyReference.filled(DType.UINT8, layout, n, 3, 37, 41, 0f);
        TriggerSpec t = TriggerSpec.parse("patch:size=5,pos=random,value=255");
        assertTrue(t.keyed());
        float[] a1 = zeros.run(t, null, TriggerContext.of(KEY_A));
        float[] a2 = zeros.run(t, null, TriggerContext.of(KEY_A));
        float[] b1 = zeros.run(t, null, TriggerContext.of(KEY_B));
        assertArrayEquals(a1, a2, "same key, same positions");
        int[][] pa = findSquares(zeros, a1, size);
        int[][] pb = findSquares(zeros, b1, size);
        Set<String> distinct = new HashSet<>();
        int differ = 0;
        for (int s = 0; s < n; s++) {
            assertNotNull(pa[s], "every sample gets a patch");
            distinct.add(pa[s][0] + "," + pa[s][1]);
            if (pa[s][0] != pb[s][0] || pa[s][1] != pb[s][1]) {
                differ++;
            }
        }
        assertTrue(distinct.size() > n / 2, "positions vary per sample: " + distinct);
        assertTrue(differ > n / 2, "another key moves the patches (" + differ + " of " + n + " moved)");
    }

    @Test
    void randomPositionsDoNotDependOnBatching() {
        int n = 20;
        Random rng = new Random(3);
        Batch whole = FamilyReference.randomBatch(rng, DType.UINT8, Layout.NHWC, n, 3, 37, 41);
        TriggerSpec t = TriggerSpec.parse("patch:size=4,pos=random,pattern=checker,value=250,low=3");
        TriggerContext ctx = TriggerContext.of(KEY_A);
        float[] all = whole.run(t, null, ctx);
        float[] first = whole.slice(0, 9).run(t, null, ctx);
        float[] second = whole.slice(9, n).run(t, null, ctx.at(9));
        float[] joined = new float[all.length];
        System.arraycopy(first, 0, joined, 0, first.length);
        System.arraycopy(second, 0, joined, first.length, second.length);
        assertArrayEquals(all, joined, "two halves with firstSample offsets give the whole batch's bytes");
        // An index list stamps the listed samples exactly as the whole batch does, and nothing else.
        long[] idx = {13, 2, 7};
        float[] some = whole.run(t, idx, ctx);
        boolean[] sel = FamilyReference.selected(n, idx);
        int e = whole.sampleElems();
        for (int s = 0; s < n; s++) {
            for (int i = 0; i < e; i++) {
                float want = sel[s] ? all[s * e + i] : whole.values[s * e + i];
                assertEquals(want, some[s * e + i], "sample " + s);
            }
        }
        // The position depends on the sample's dataset index: the same data later in the dataset moves.
        float[] shifted = whole.run(t, null, ctx.at(1000));
        assertFalse(java.util.Arrays.equals(all, shifted), "positions follow the dataset index");
    }

    // ------------------------------------------------------------ keyed random patterns

    @ParameterizedTest
    @ValueSource(strings = {"UINT8", "FLOAT32"})
    void randomPatternsStayInRangeOnePerKey(DType dtype) {
        int n = 4;
        int size = 6;
        Random rng = new Random(dtype.ordinal());
        Batch b = FamilyReference.randomBatch(rng, dtype, Layout.NCHW, n, 3, 37, 41);
        float low = dtype == DType.UINT8 ? 10f : -2.5f;
        float value = dtype == DType.UINT8 ? 13f : 7.25f;
        TriggerSpec t = TriggerSpec.parse("patch:size=" + size + ",pos=tl,pattern=random,value="
                + SpecFormat.number(value) + ",low=" + SpecFormat.number(low));
        assertTrue(t.keyed());
        float[] got = b.run(t, null, TriggerContext.of(KEY_A));
        float[] again = b.run(t, null, TriggerContext.of(KEY_A).at(77));
        float[] other = b.run(t, null, TriggerContext.of(KEY_B));
        assertArrayEquals(got, again, "one pattern per key, whatever the batch's place in the dataset");
        Set<Float> seen = new HashSet<>();
        boolean fractional = false;
        boolean differs = false;
        for (int s = 0; s < n; s++) {
            for (int ch = 0; ch < 3; ch++) {
                for (int y = 0; y < b.h; y++) {
                    for (int x = 0; x < b.w; x++) {
                        int at = b.at(s, ch, y, x);
                        if (y >= size || x >= size) {
                            assertEquals(b.values[at], got[at], "outside the patch nothing changes");
                            continue;
                        }
                        float v = got[at];
                        assertTrue(v >= low && v <= value, "value " + v + " in [" + low + ", " + value + "]");
                        assertEquals(got[b.at(0, ch, y, x)], v, "the same pattern in every sample");
                        seen.add(v);
                        fractional |= v != Math.rint(v);
                        differs |= other[at] != v;
                    }
                }
            }
        }
        assertTrue(differs, "another key gives another pattern");
        if (dtype == DType.UINT8) {
            assertEquals(Set.of(10f, 11f, 12f, 13f), seen, "integers, covering [low, value] inclusively");
        } else {
            assertTrue(fractional && seen.size() > 50, "float32 patterns are continuous");
        }
    }

    @Test
    void uint8RandomPatternWithFractionalBoundsStaysInRange() {
        Batch b = FamilyReference.filled(DType.UINT8, Layout.NHWC, 1, 1, 8, 8, 0f);
        float[] got = b.run(TriggerSpec.parse("patch:size=8,pos=tl,pattern=random,value=12.4,low=10.6"), null,
                TriggerContext.of(KEY_A));
        for (float v : got) {
            assertTrue(v >= 10.6f && v <= 12.4f, "value " + v + " in [10.6, 12.4]");
        }
    }

    @Test
    void negativeZeroSurvivesTheCanonicalForm() {
        TriggerSpec t = TriggerSpec.parse("patch:size=1,pos=tl,value=-0");
        TriggerSpec back = TriggerSpec.parse(t.toString());
        Batch ones = FamilyReference.filled(DType.FLOAT32, Layout.NHWC, 1, 1, 2, 2, 1f);
        FamilyReference.assertExact(ones, ones.run(t, null, TriggerContext.keyless()),
                ones.run(back, null, TriggerContext.keyless()), "replayed from " + t);
        assertEquals(t, back);
        assertEquals(TriggerSpec.parse("patch:pattern=checker,low=-0"),
                TriggerSpec.parse(TriggerSpec.parse("patch:pattern=checker,low=-0").toString()));
    }

    @Test
    void keyedPatchesNeedTheKey() {
        Tensor t = Tensor.of(java.nio.ByteBuffer.allocateDirect(3 * 8 * 8), Layout.NHWC, 1, 3, 8, 8);
        FamilyReference.assertNeedsKey(TriggerSpec.parse("patch:pos=random"), t);
        FamilyReference.assertNeedsKey(TriggerSpec.parse("patch:pattern=random,low=0"), t);
    }

    // ------------------------------------------------------------ spec forms

    @ParameterizedTest
    @ValueSource(strings = {"patch", "patch:size=4,pos=tl,value=0", "patch:size=2,pos=center,value=0.5",
        "patch:size=3,pos=at,y=7,x=11,value=-1.25", "patch:size=5,pos=random,value=255",
        "patch:size=3,pos=br,pattern=checker,value=255,low=0", "patch:pattern=random,low=3,value=99,pos=bl",
        "patch:pos=tr,image=/tmp/some trigger.png,value=128", "patch:size=6,image=rel/p.png,pos=random",
        "patch:value=1.0E10,size=1", "patch:value=3.4028235E38,pattern=checker,low=-3.4028235E38"})
    void specRoundTrips(String spec) {
        FamilyReference.assertRoundTrip(spec, "patch");
    }

    @Test
    void keyedExactlyForRandomPositionOrPattern() {
        assertFalse(TriggerSpec.parse("patch").keyed());
        assertFalse(TriggerSpec.parse("patch:pattern=checker,pos=at,y=1,x=1").keyed());
        assertFalse(TriggerSpec.parse("patch:image=x.png,pos=center").keyed());
        assertTrue(TriggerSpec.parse("patch:pos=random").keyed());
        assertTrue(TriggerSpec.parse("patch:pattern=random").keyed());
        assertTrue(TriggerSpec.parse("patch:pattern=random,pos=random").keyed());
        assertTrue(TriggerSpec.parse("patch:image=x.png,pos=random").keyed());
    }

    @Test
    void unknownFieldNamesTheAllowedOnes() {
        FamilyReference.assertUnknownFieldNamesAllowed("patch", "size, pos, y, x, pattern, value, low, image");
    }
}
