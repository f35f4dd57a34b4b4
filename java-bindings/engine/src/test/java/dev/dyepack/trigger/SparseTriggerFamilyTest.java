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

    /** The documented draw: pixel offsets y * W + x (first n of the shuffled region) and their tones. */
    private static int[][] documentedPixels(OwnerKey key, int n, int block, int h, int w) {
        KeyedRandom r = new KeyedRandom(key.philoxKey("trigger/sparse-pattern"));
        int bh = block == 0 ? h : block;
        int bw = block == 0 ? w : block;
        int top = block == 0 ? 0 : (int) r.below(0, 0, h - block + 1);
        int left = block == 0 ? 0 : (int) r.below(0, 1, w - block + 1);
        int[] cells = new int[bh * bw];
        for (int i = 0; i < cells.length; i++) {
            cells[i] = i;
        }
        for (int i = cells.length - 1; i > 0; i--) {
            int j = (int) r.below(1, i, i + 1);
            int t = cells[i];
            cells[i] = cells[j];
            cells[j] = t;
        }
        int[][] out = new int[n][2];
        for (int i = 0; i < n; i++) {
            out[i][0] = (top + cells[i] / bw) * w + left + cells[i] % bw;
            out[i][1] = r.bits(2, i) & 1;
        }
        return out;
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
        float[] expected = b.values.clone();
        int[][] px = documentedPixels(KEY_A, n, block, h, w);
        for (long s : idx) {
            for (int[] p : px) {
                for (int ch = 0; ch < c; ch++) {
                    int at = b.at((int) s, ch, p[0] / w, p[0] % w);
                    expected[at] = FamilyReference.store(dtype, FamilyReference.blend(b.values[at], alpha,
                            p[1] == 1 ? value : low));
                }
            }
        }
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
        for (int i = 0; i < buf.capacity(); i++) {
            assertEquals(0, buf.get(i), "nothing written");
        }
        FamilyReference.assertNeedsKey(TriggerSpec.parse("sparse"), small);
    }

    @Test
    void specsRoundTripAndListTheirFields() {
        FamilyReference.assertRoundTrip("sparse", "sparse");
        FamilyReference.assertRoundTrip("sparse:n=16,block=5,alpha=0.5,value=200,low=20", "sparse");
        FamilyReference.assertUnknownFieldNamesAllowed("sparse", "n, block, alpha, value, low");
        assertEquals(SparseTrigger.DEFAULT, TriggerSpec.parse("sparse"));
    }
}
