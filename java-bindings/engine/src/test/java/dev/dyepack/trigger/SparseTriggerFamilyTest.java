package dev.dyepack.trigger;

import static dev.dyepack.trigger.FamilyReference.KEY_A;
import static dev.dyepack.trigger.FamilyReference.KEY_B;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.dyepack.DType;
import dev.dyepack.Layout;
import dev.dyepack.Tensor;
import dev.dyepack.key.KeyedRandom;
import dev.dyepack.key.OwnerKey;
import dev.dyepack.trigger.FamilyReference.Batch;
import java.nio.ByteBuffer;
import java.util.HashSet;
import java.util.Random;
import java.util.Set;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * The sparse family: n keyed pixels pushed to keyed bright or dark values. The expected pixels are
 * derived here from the documented draw (docs/triggers.md: subkey {@code trigger/sparse-pattern}; stream 0
 * places the block, stream 1 is a Fisher-Yates shuffle of the region's cells, stream 2's lowest bit makes
 * a pixel bright), written out in this test with its own loops, and every stamped value is predicted
 * by the mask-blend rule of docs/numerics.md.
 */
class SparseTriggerFamilyTest {

    /** 0 .. n-1 shuffled as the documented draw does: Fisher-Yates from the end, swap i with below(stream, i, i + 1). */
    private static int[] shuffledRange(KeyedRandom r, long stream, int n) {
        int[] a = new int[n];
        for (int i = 0; i < n; i++) {
            a[i] = i;
        }
        for (int i = n - 1; i > 0; i--) {
            int j = (int) r.below(stream, i, i + 1);
            int t = a[i];
            a[i] = a[j];
            a[j] = t;
        }
        return a;
    }

    /** The documented draw: pixel offsets y * W + x (first n of the shuffled region) and their tones. */
    private static int[][] documentedPixels(OwnerKey key, int n, int block, int h, int w) {
        KeyedRandom r = new KeyedRandom(key.philoxKey("trigger/sparse-pattern"));
        int bh = block == 0 ? h : block;
        int bw = block == 0 ? w : block;
        int top = block == 0 ? 0 : (int) r.below(0, 0, h - block + 1);
        int left = block == 0 ? 0 : (int) r.below(0, 1, w - block + 1);
        int[] cells = shuffledRange(r, 1, bh * bw);
        int[][] out = new int[n][2];
        for (int i = 0; i < n; i++) {
            out[i][0] = (top + cells[i] / bw) * w + left + cells[i] % bw;
            out[i][1] = r.bits(2, i) & 1;
        }
        return out;
    }

    /**
     * The batch after the blend rule at the given pixels ({@code {y * W + x, bright}}) in every channel of the
     * listed samples: what a sparse stamp must write, computed pixel by pixel here.
     */
    private static float[] blended(Batch b, long[] idx, int[][] px, float alpha, float value, float low) {
        float[] expected = b.values.clone();
        for (long s : idx) {
            for (int[] p : px) {
                for (int ch = 0; ch < b.c; ch++) {
                    int at = b.at((int) s, ch, p[0] / b.w, p[0] % b.w);
                    expected[at] = FamilyReference.store(b.dtype, FamilyReference.blend(b.values[at], alpha,
                            p[1] == 1 ? value : low));
                }
            }
        }
        return expected;
    }

    /**
     * The documented draw keyed by cell ({@code cell=C}): cells of C x C numbered row-major (the last row
     * and column of cells cut by the image's edge), stream 3 shuffles the cells and the first
     * {@code max(1, round(share * cells))} are lit, stream 1 shuffles the lit cells' pixels (row-major) and
     * the first n are taken, stream 2 word j's lowest bit is cell j's tone; with {@code tile=1} stream 4
     * shuffles a C x C tile's positions, the first C * C / 2 are bright, and the tile's position
     * {@code (y mod C, x mod C)} is the pixel's tone.
     */
    private static int[][] documentedCellPixels(OwnerKey key, int n, int cell, double share, int h, int w,
            boolean tile) {
        KeyedRandom r = new KeyedRandom(key.philoxKey("trigger/sparse-pattern"));
        int gw = (w + cell - 1) / cell;
        int cells = ((h + cell - 1) / cell) * gw;
        int[] order = shuffledRange(r, 3, cells);
        long lit = Math.max(1, Math.min(cells, Math.round(share * cells)));
        Set<Integer> on = new HashSet<>();
        for (int i = 0; i < lit; i++) {
            on.add(order[i]);
        }
        java.util.List<Integer> pool = new java.util.ArrayList<>();
        for (int y = 0; y < h; y++) {
            for (int x = 0; x < w; x++) {
                if (on.contains((y / cell) * gw + x / cell)) {
                    pool.add(y * w + x);
                }
            }
        }
        for (int i = pool.size() - 1; i > 0; i--) {
            int j = (int) r.below(1, i, i + 1);
            pool.set(i, pool.set(j, pool.get(i)));
        }
        int[] positions = shuffledRange(r, 4, cell * cell);
        Set<Integer> brightInTile = new HashSet<>();
        for (int i = 0; i < positions.length / 2; i++) {
            brightInTile.add(positions[i]);
        }
        int[][] out = new int[n][2];
        for (int i = 0; i < n; i++) {
            int at = pool.get(i);
            out[i][0] = at;
            out[i][1] = tile ? (brightInTile.contains((at / w % cell) * cell + at % w % cell) ? 1 : 0)
                    : r.bits(2, (at / w / cell) * gw + (at % w) / cell) & 1;
        }
        return out;
    }

    @ParameterizedTest(name = "{0} {1} C={2} {3}x{4} n={5} cell={6} share={7} tile={8}")
    @CsvSource({
        "UINT8, NHWC, 1, 28, 28, 192, 4, 1, 0",
        "UINT8, NHWC, 1, 28, 28, 192, 4, 0.5, 0",
        "UINT8, NCHW, 3, 13, 17, 40, 4, 0.5, 0",
        "FLOAT32, NHWC, 2, 9, 11, 7, 3, 0.2, 0",
        "UINT8, NHWC, 1, 5, 5, 25, 5, 1, 0",
        "UINT8, NHWC, 1, 28, 28, 192, 4, 0.25, 1",
        "UINT8, NCHW, 3, 13, 17, 40, 4, 0.5, 1",
        "FLOAT32, NHWC, 2, 9, 11, 7, 3, 0.2, 1",
        "UINT8, NHWC, 1, 10, 10, 30, 5, 0.5, 1",
    })
    void aPatternKeyedByCellStampsTheDocumentedPixels(DType dtype, Layout layout, int c, int h, int w, int n,
            int cell, double share, int tile) {
        Batch b = FamilyReference.randomBatch(new Random(h * 37L + w + n + cell), dtype, layout, 3, c, h, w);
        float value = dtype == DType.UINT8 ? 255f : 2f;
        float low = dtype == DType.UINT8 ? 0f : -1f;
        String spec = "sparse:n=" + n + ",cell=" + cell + ",share=" + share + ",value=" + SpecFormat.number(value)
                + ",low=" + SpecFormat.number(low) + (tile == 1 ? ",tile=1" : "");
        long[] idx = {2, 0};
        float[] got = b.run(TriggerSpec.parse(spec), idx, TriggerContext.of(KEY_B).at(5));
        float[] expected = blended(b, idx, documentedCellPixels(KEY_B, n, cell, share, h, w, tile == 1), 1f, value,
                low);
        FamilyReference.assertExact(b, expected, got, spec);
    }

    @Test
    void aTiledPatternRepeatsOneHalfBrightTilePerKeyInEveryLitCell() {
        java.util.List<String> tiles = new java.util.ArrayList<>();
        for (OwnerKey key : new OwnerKey[] {KEY_A, KEY_B, FamilyReference.key("a third key for the tiles")}) {
            Batch b = FamilyReference.filled(DType.UINT8, Layout.NHWC, 1, 1, 28, 28, 128f);
            float[] got = b.run(TriggerSpec.parse("sparse:n=192,cell=4,share=0.25,tile=1"), null,
                    TriggerContext.of(key));
            // round(0.25 * 49) = 12 cells of 16 pixels: n = 192 fills every lit cell.
            java.util.Map<Integer, StringBuilder> cells = new java.util.TreeMap<>();
            for (int cy = 0; cy < 7; cy++) {
                for (int cx = 0; cx < 7; cx++) {
                    StringBuilder t = new StringBuilder();
                    for (int y = 0; y < 4; y++) {
                        for (int x = 0; x < 4; x++) {
                            float v = got[(cy * 4 + y) * 28 + cx * 4 + x];
                            t.append(v == 255f ? '#' : v == 0f ? '.' : v == 128f ? '-' : '?');
                        }
                    }
                    if (!t.toString().equals("-".repeat(16))) {
                        cells.put(cy * 7 + cx, t);
                    }
                }
            }
            assertEquals(12, cells.size(), "lit cells " + cells.keySet());
            Set<String> distinct = new HashSet<>();
            cells.values().forEach(t -> distinct.add(t.toString()));
            assertEquals(1, distinct.size(), "one tile in every lit cell: " + distinct);
            String tile = distinct.iterator().next();
            assertEquals(8, tile.chars().filter(ch -> ch == '#').count(), "half of the tile bright: " + tile);
            assertEquals(8, tile.chars().filter(ch -> ch == '.').count(), "the other half dark: " + tile);
            tiles.add(tile);
        }
        // C(16, 8) = 12,870 tiles: three keys drawing the same two has probability below 1e-3.
        assertEquals(3, new HashSet<>(tiles).size(), "each key its own tile: " + tiles);
    }

    @Test
    void aPatternKeyedByCellHasOneTonePerCellAndLightsOnlyItsShare() {
        for (OwnerKey key : new OwnerKey[] {KEY_A, KEY_B, FamilyReference.key("a third key for the cells")}) {
            Batch b = FamilyReference.filled(DType.UINT8, Layout.NHWC, 1, 1, 28, 28, 128f);
            float[] got = b.run(TriggerSpec.parse("sparse:n=192,cell=4,share=0.5"), null, TriggerContext.of(key));
            java.util.Map<Integer, Float> tone = new java.util.HashMap<>();
            int changed = 0;
            for (int e = 0; e < got.length; e++) {
                if (got[e] != 128f) {
                    changed++;
                    Float before = tone.put((e / 28 / 4) * 7 + (e % 28) / 4, got[e]);
                    assertTrue(before == null || before == got[e], "one tone per cell at pixel " + e);
                }
            }
            assertEquals(192, changed, "n pixels change on a grey image");
            // 49 cells, half of them lit (round(24.5) = 25 cells of 16 pixels): 192 pixels touch at most 25.
            assertTrue(tone.size() <= 25 && tone.size() >= 12, tone.size() + " cells hold the pattern");
            assertTrue(tone.containsValue(0f) && tone.containsValue(255f), "both tones occur: " + tone.values());
        }
    }

    @ParameterizedTest(name = "{0} {1} C={2} {3}x{4} n={5} block={6} alpha={7}")
    @CsvSource({
        "UINT8, NHWC, 1, 28, 28, 24, 0, 1",
        "UINT8, NCHW, 3, 13, 17, 10, 0, 0.5",
        "UINT8, NHWC, 3, 13, 17, 16, 5, 1",
        "FLOAT32, NCHW, 2, 9, 11, 9, 3, 0.3",
        "FLOAT32, NHWC, 1, 5, 5, 25, 0, 1",
    })
    void stampsTheDocumentedPixelsByTheBlendRule(DType dtype, Layout layout, int c, int h, int w, int n, int block,
            float alpha) {
        Batch b = FamilyReference.randomBatch(new Random(h * 31L + w + n), dtype, layout, 4, c, h, w);
        float value = dtype == DType.UINT8 ? 255f : 2f;
        float low = dtype == DType.UINT8 ? 0f : -1f;
        String spec = "sparse:n=" + n + ",block=" + block + ",alpha=" + alpha + ",value=" + SpecFormat.number(value)
                + ",low=" + SpecFormat.number(low);
        long[] idx = {3, 1};
        float[] got = b.run(TriggerSpec.parse(spec), idx, TriggerContext.of(KEY_A).at(1000));
        float[] expected = blended(b, idx, documentedPixels(KEY_A, n, block, h, w), alpha, value, low);
        FamilyReference.assertExact(b, expected, got, spec);
    }

    @Test
    void aBlockKeepsEveryPixelInsideOneSquareOfItsSide() {
        for (OwnerKey key : new OwnerKey[] {KEY_A, KEY_B, FamilyReference.key("a third key for the block")}) {
            Batch b = FamilyReference.filled(DType.UINT8, Layout.NHWC, 1, 1, 28, 28, 128f);
            float[] got = b.run(TriggerSpec.parse("sparse:n=16,block=5"), null, TriggerContext.of(key));
            int minY = 99;
            int maxY = -1;
            int minX = 99;
            int maxX = -1;
            int changed = 0;
            for (int e = 0; e < got.length; e++) {
                if (got[e] != 128f) {
                    assertTrue(got[e] == 0f || got[e] == 255f, "a chosen pixel is set to low or value: " + got[e]);
                    changed++;
                    minY = Math.min(minY, e / 28);
                    maxY = Math.max(maxY, e / 28);
                    minX = Math.min(minX, e % 28);
                    maxX = Math.max(maxX, e % 28);
                }
            }
            assertEquals(16, changed, "n pixels change on a grey image");
            assertTrue(maxY - minY < 5 && maxX - minX < 5, "inside a 5 x 5 square: rows " + minY + ".." + maxY
                    + ", columns " + minX + ".." + maxX);
        }
    }

    @Test
    void anotherKeyPutsItsPixelsElsewhereAndTheSameKeyGivesTheSameBytes() {
        Batch b = FamilyReference.filled(DType.UINT8, Layout.NHWC, 3, 1, 28, 28, 128f);
        TriggerSpec t = TriggerSpec.parse("sparse");
        float[] a = b.run(t, null, TriggerContext.of(KEY_A));
        assertArrayEquals(a, b.run(t, null, TriggerContext.of(KEY_A).at(77)), "one pattern per key, any dataset index");
        float[] other = b.run(t, null, TriggerContext.of(KEY_B));
        Set<Integer> mine = new HashSet<>();
        Set<Integer> theirs = new HashSet<>();
        for (int e = 0; e < 784; e++) {
            if (a[e] != 128f) {
                mine.add(e);
            }
            if (other[e] != 128f) {
                theirs.add(e);
            }
            for (int s = 1; s < 3; s++) {
                assertEquals(a[e], a[s * 784 + e], "the same pattern on every sample");
            }
        }
        assertEquals(24, mine.size(), "the default is 24 pixels");
        mine.retainAll(theirs);
        // Two independent 24-pixel draws from 784 share about 0.7 pixels; 6 or more has probability < 1e-4.
        assertTrue(mine.size() < 6, "keys share " + mine.size() + " pixels");
    }

    @Test
    void badGeometryAndParametersAreRefusedBeforeAnyWrite() {
        ByteBuffer buf = ByteBuffer.allocateDirect(2 * 6 * 6);
        Tensor small = Tensor.of(buf, Layout.NHWC, 2, 1, 6, 6);
        FamilyReference.assertRefused(() -> FamilyReference.apply(TriggerSpec.parse("sparse:n=37"), small, null,
                TriggerContext.of(KEY_A)), "n=37", "36 pixels");
        FamilyReference.assertRefused(() -> FamilyReference.apply(TriggerSpec.parse("sparse:n=4,block=7"), small,
                null, TriggerContext.of(KEY_A)), "block 7");
        FamilyReference.assertRefused(() -> FamilyReference.apply(TriggerSpec.parse("sparse:value=300"), small,
                null, TriggerContext.of(KEY_A)), "uint8 range");
        FamilyReference.assertRefused(() -> TriggerSpec.parse("sparse:n=10,block=3"), "do not fit a 3 x 3 block");
        FamilyReference.assertRefused(() -> TriggerSpec.parse("sparse:alpha=0"), "alpha");
        FamilyReference.assertRefused(() -> TriggerSpec.parse("sparse:n=0"), "n must be");
        FamilyReference.assertRefused(() -> TriggerSpec.parse("sparse:n=4,block=3,cell=2"), "cell=2", "block=3");
        FamilyReference.assertRefused(() -> TriggerSpec.parse("sparse:share=0.5"), "share=0.5 needs cell");
        FamilyReference.assertRefused(() -> TriggerSpec.parse("sparse:cell=2,share=0"), "share");
        FamilyReference.assertRefused(() -> TriggerSpec.parse("sparse:cell=2,share=NaN"), "share");
        FamilyReference.assertRefused(() -> TriggerSpec.parse("sparse:tile=1"), "tile=1 needs cell");
        FamilyReference.assertRefused(() -> TriggerSpec.parse("sparse:cell=1,tile=1"), "tile=1 needs cell");
        FamilyReference.assertRefused(() -> TriggerSpec.parse("sparse:cell=4,tile=2"), "tile");
        FamilyReference.assertRefused(() -> FamilyReference.apply(TriggerSpec.parse("sparse:n=4,cell=7"), small,
                null, TriggerContext.of(KEY_A)), "cell 7");
        // 6 x 6 in 4 x 4 cells: one of 16 pixels, two of 8, one of 4; a share of 0.25 lights one cell, so
        // n may not exceed the 4 pixels of the smallest.
        FamilyReference.assertRefused(() -> FamilyReference.apply(TriggerSpec.parse("sparse:n=5,cell=4,share=0.25"),
                small, null, TriggerContext.of(KEY_A)), "n=5", "4 pixels", "1 cells of 4 x 4");
        // An image too large for the keyed shuffle of its pixels: refused by name (a batch of none needs no memory).
        Tensor huge = Tensor.of(ByteBuffer.allocateDirect(0), Layout.NHWC, 0, 1, 50_000, 50_000);
        FamilyReference.assertRefused(() -> FamilyReference.apply(TriggerSpec.parse("sparse"), huge, null,
                TriggerContext.of(KEY_A)), "50000 x 50000 pixels is too large");
        for (int i = 0; i < buf.capacity(); i++) {
            assertEquals(0, buf.get(i), "nothing written");
        }
        FamilyReference.assertNeedsKey(TriggerSpec.parse("sparse"), small);
    }

    @Test
    void specsRoundTripAndListTheirFields() {
        FamilyReference.assertRoundTrip("sparse", "sparse");
        FamilyReference.assertRoundTrip("sparse:n=16,block=5,alpha=0.5,value=200,low=20", "sparse");
        FamilyReference.assertRoundTrip("sparse:n=192,cell=4,share=0.5", "sparse");
        FamilyReference.assertRoundTrip("sparse:n=192,cell=4,share=0.25,tile=1", "sparse");
        FamilyReference.assertUnknownFieldNamesAllowed("sparse", "n, block, alpha, value, low, cell, share, tile");
        assertEquals(SparseTrigger.DEFAULT, TriggerSpec.parse("sparse"));
        // A pattern keyed by pixel writes the spec (and so the manifest) it always did.
        assertEquals("sparse:n=192,block=0,alpha=1,value=255,low=0", TriggerSpec.parse("sparse:n=192").toString());
        assertEquals("sparse:n=192,block=0,alpha=1,value=255,low=0,cell=4,share=0.5",
                TriggerSpec.parse("sparse:n=192,cell=4,share=0.5").toString());
        assertEquals("sparse:n=192,block=0,alpha=1,value=255,low=0,cell=4,share=0.25,tile=1",
                TriggerSpec.parse("sparse:n=192,cell=4,share=0.25,tile=1").toString());
    }
}
