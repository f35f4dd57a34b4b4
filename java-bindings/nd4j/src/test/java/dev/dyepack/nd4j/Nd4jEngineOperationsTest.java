package dev.dyepack.nd4j;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.dyepack.BoundaryScores;
import dev.dyepack.Engine;
import dev.dyepack.InvalidArgumentException;
import dev.dyepack.Layout;
import dev.dyepack.Tensor;
import dev.dyepack.key.OwnerKey;
import dev.dyepack.surrogate.LinearHead;
import dev.dyepack.surrogate.LinearSurrogate;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.FloatBuffer;
import java.nio.IntBuffer;
import java.util.Random;
import java.util.function.Consumer;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.linalg.indexing.NDArrayIndex;

/**
 * Every engine operation through {@link Nd4jEngine}: the same bytes as the plain {@link Engine} on a direct
 * buffer holding the same values (the engine's own tests check the plain engine against independent
 * arithmetic), and bad arrays refused with a typed exception and left as they were.
 */
@SuppressWarnings("deprecation") // ND4J 1.0.0-M2.1 deprecates the name UBYTE
class Nd4jEngineOperationsTest {
    private static final int N = 6;
    private static final int C = 3;
    private static final int H = 9;
    private static final int W = 11;
    private static final int SAMPLE = C * H * W;
    private static final long[] SOME = {4, 0, 5};

    private static Engine engine;

    @BeforeAll
    static void open() {
        engine = Engine.open();
    }

    @AfterAll
    static void close() {
        engine.close();
    }

    private static float[] uniform(long seed, int count, float lo, float hi) {
        Random r = new Random(seed);
        float[] v = new float[count];
        for (int i = 0; i < count; i++) {
            v[i] = lo + (hi - lo) * r.nextFloat();
        }
        return v;
    }

    /** A float32 NCHW batch as an ND4J array and as a direct buffer with the same values. */
    private record Pair(INDArray array, FloatBuffer buffer) {
        static Pair floats(float[] values, long... shape) {
            FloatBuffer b = ByteBuffer.allocateDirect(values.length * 4).order(ByteOrder.nativeOrder()).asFloatBuffer();
            b.put(values).flip();
            return new Pair(Nd4j.createFromArray(values).reshape('c', shape), b);
        }

        float[] reference() {
            float[] v = new float[buffer.capacity()];
            buffer.duplicate().get(v);
            return v;
        }
    }

    private static Pair images(long seed) {
        return Pair.floats(uniform(seed, N * SAMPLE, 0, 255), N, C, H, W);
    }

    private static Tensor nchw(FloatBuffer b) {
        return Tensor.of(b, Layout.NCHW, N, C, H, W);
    }

    private static void assertSameBytes(Pair p) {
        float[] got = p.array().data().asFloat();
        float[] want = p.reference();
        assertEquals(want.length, got.length);
        for (int i = 0; i < want.length; i++) {
            assertEquals(Float.floatToRawIntBits(want[i]), Float.floatToRawIntBits(got[i]), "element " + i);
        }
    }

    @Test
    void maskBlendPasteSignalAndWarpGiveThePlainEnginesBytesWithArraysAndWithResidentOperands() {
        Nd4jEngine nd = new Nd4jEngine(engine);
        float[] pattern = uniform(1, SAMPLE, 0, 255);
        float[] mask = uniform(2, SAMPLE, 0, 1);
        float[] patch = uniform(3, C * 2 * 3, 0, 255);
        float[] patchMask = uniform(4, C * 2 * 3, 0, 1);
        long[] offsets = {0, 0, 7, 8, 3, 5};
        float[] signal = uniform(5, SAMPLE, -20, 20);
        float[] grid = new float[2 * H * W];
        for (int y = 0; y < H; y++) {
            for (int x = 0; x < W; x++) {
                grid[y * W + x] = y + 0.37f * (float) Math.sin(x);
                grid[H * W + y * W + x] = x - 0.41f * (float) Math.cos(y);
            }
        }
        INDArray gridArray = Nd4j.createFromArray(grid).reshape('c', 2, H, W);

        Pair p = images(10);
        nd.maskBlend(p.array(), Nd4j.createFromArray(pattern), Nd4j.createFromArray(mask), 0.7f, SOME);
        engine.maskBlend(nchw(p.buffer()), pattern, mask, 0.7f, SOME);
        nd.paste(p.array(), Nd4j.createFromArray(patch), Nd4j.createFromArray(patchMask), 2, 3, 1f, offsets, SOME);
        engine.paste(nchw(p.buffer()), patch, patchMask, 2, 3, 1f, offsets, SOME);
        nd.addSignal(p.array(), Nd4j.createFromArray(signal), null);
        engine.addSignal(nchw(p.buffer()), signal, null);
        nd.warp(p.array(), gridArray, SOME);
        engine.warp(nchw(p.buffer()), grid, SOME);
        long[] elements = {SAMPLE - 1, 0, 40, 7};
        float[] values = {255f, 0f, 12.5f, 200f};
        nd.scatterBlend(p.array(), elements, Nd4j.createFromArray(values), 0.6f, SOME);
        engine.scatterBlend(nchw(p.buffer()), elements, values, 0.6f, SOME);
        assertSameBytes(p);

        Pair q = images(11);
        try (Engine.Operand po = nd.upload(Nd4j.createFromArray(pattern));
                Engine.Operand mo = nd.upload(Nd4j.createFromArray(mask));
                Engine.Operand pa = nd.upload(Nd4j.createFromArray(patch));
                Engine.Operand pm = nd.upload(Nd4j.createFromArray(patchMask));
                Engine.Operand so = nd.upload(Nd4j.createFromArray(signal));
                Engine.Operand go = nd.upload(gridArray)) {
            nd.maskBlend(q.array(), po, mo, 0.7f, SOME);
            nd.paste(q.array(), pa, pm, 2, 3, 1f, offsets, SOME);
            nd.addSignal(q.array(), so, null);
            nd.warp(q.array(), go, SOME);
        }
        engine.maskBlend(nchw(q.buffer()), pattern, mask, 0.7f, SOME);
        engine.paste(nchw(q.buffer()), patch, patchMask, 2, 3, 1f, offsets, SOME);
        engine.addSignal(nchw(q.buffer()), signal, null);
        engine.warp(nchw(q.buffer()), grid, SOME);
        assertSameBytes(q);
        // The operations did something: the stamped array is no longer the clean one.
        assertNotEquals(images(11).array(), q.array());
    }

    @Test
    void keyedNoiseOnUint8NhwcGivesThePlainEnginesBytesAndDependsOnTheGlobalIndexOnly() {
        Random r = new Random(20);
        byte[] pixels = new byte[N * SAMPLE];
        r.nextBytes(pixels);
        INDArray array = Nd4j.createFromArray(pixels).castTo(DataType.UBYTE).reshape('c', N, H, W, C);
        // createFromArray(byte[]) is signed int8; castTo saturates, so read back what ND4J holds.
        byte[] held = new byte[N * SAMPLE];
        for (int i = 0; i < held.length; i++) {
            held[i] = (byte) array.data().getInt(i);
        }
        ByteBuffer buffer = ByteBuffer.allocateDirect(held.length);
        buffer.put(held).flip();
        int[] key = new OwnerKey(new byte[32]).philoxKey("test/noise");
        INDArray again = array.dup('c');

        new Nd4jEngine(engine, Layout.NHWC).keyedNoise(array, key, 12f, 1000, SOME);
        engine.keyedNoise(Tensor.of(buffer, Layout.NHWC, N, C, H, W), key, 12f, 1000, SOME);
        for (int i = 0; i < held.length; i++) {
            assertEquals(buffer.get(i) & 0xff, array.data().getInt(i), "element " + i);
        }

        // Sample 4 alone, as sample 0 of a one-sample view whose global index is still 1004.
        INDArray four = again.get(NDArrayIndex.interval(4, 5), NDArrayIndex.all(), NDArrayIndex.all(),
                NDArrayIndex.all());
        new Nd4jEngine(engine, Layout.NHWC).keyedNoise(four, key, 12f, 1004, null);
        for (int i = 4 * SAMPLE; i < 5 * SAMPLE; i++) {
            assertEquals(buffer.get(i) & 0xff, again.data().getInt(i), "element " + i);
        }
    }

    @Test
    void tokensAndColumnsGiveThePlainEnginesBytes() {
        int[] seq = new int[N * 12];
        for (int i = 0; i < seq.length; i++) {
            seq[i] = 1000 + i;
        }
        INDArray sequences = Nd4j.createFromArray(seq).reshape('c', N, 12);
        IntBuffer ib = ByteBuffer.allocateDirect(seq.length * 4).order(ByteOrder.nativeOrder()).asIntBuffer();
        ib.put(seq).flip();
        new Nd4jEngine(engine).writeTokens(sequences, new int[] {7, 8, 9}, new long[] {0, 9, 4}, SOME);
        engine.writeTokens(Tensor.sequences(ib, N, 12), new int[] {7, 8, 9}, new long[] {0, 9, 4}, SOME);
        int[] want = new int[seq.length];
        ib.duplicate().get(want);
        assertArrayEquals(want, sequences.data().asInt());
        assertEquals(9, sequences.getInt(0, 11)); // sequence 0's tokens at 9..11

        Pair rows = Pair.floats(uniform(30, N * 8, -1, 1), N, 8);
        float[] values = {1.5f, -2f};
        long[] cols = {3, 7};
        new Nd4jEngine(engine).setColumns(rows.array(), cols, Nd4j.createFromArray(values), true, SOME);
        engine.setColumns(Tensor.rows(rows.buffer(), N, 8), cols, values, true, SOME);
        try (Engine.Operand v = engine.upload(values)) {
            new Nd4jEngine(engine).setColumns(rows.array(), cols, v, false, null);
        }
        engine.setColumns(Tensor.rows(rows.buffer(), N, 8), cols, values, false, null);
        assertSameBytes(rows);
    }

    @Test
    void scoringWithArraysAndWithAResidentHeadGivesThePlainEnginesScores() {
        int n = 40;
        int d = 17;
        int classes = 5;
        Pair x = Pair.floats(uniform(40, n * d, -1, 1), n, d);
        float[] w = uniform(41, classes * d, -1, 1);
        float[] b = uniform(42, classes, -0.1f, 0.1f);
        BoundaryScores want = engine.scoreBoundary(Tensor.rows(x.buffer(), n, d), w, b, 2);
        Nd4jEngine nd = new Nd4jEngine(engine);
        Nd4jEngine.Scores got = nd.scoreBoundary(x.array(), Nd4j.createFromArray(w).reshape('c', classes, d),
                Nd4j.createFromArray(b), 2);
        Nd4jEngine.Scores resident;
        try (Engine.Operand wo = engine.upload(w); Engine.Operand bo = engine.upload(b)) {
            resident = nd.scoreBoundary(x.array(), wo, bo, 2);
        }
        for (Nd4jEngine.Scores s : new Nd4jEngine.Scores[] {got, resident}) {
            assertArrayEquals(want.predicted(), s.predicted().toIntVector());
            assertArrayEquals(want.runnerUp(), s.runnerUp().toIntVector());
            assertArrayEquals(want.margin(), s.margin().toFloatVector());
            assertArrayEquals(want.distance(), s.distance().toFloatVector());
            assertArrayEquals(want.targetDistance(), s.targetDistance().toFloatVector());
        }
    }

    @Test
    void theSurrogateFitGivesTheHeadOfTheArrayFitBitForBitFromIndicesOrOneHotLabels() {
        int n = 120;
        int d = 10;
        int classes = 3;
        float[] x = uniform(50, n * d, 0, 1);
        long[] y = new long[n];
        float[][] oneHot = new float[n][classes];
        for (int i = 0; i < n; i++) {
            // A learnable rule: the class of the largest of the first three features.
            int best = 0;
            for (int j = 1; j < classes; j++) {
                best = x[i * d + j] > x[i * d + best] ? j : best;
            }
            y[i] = best;
            oneHot[i][best] = 1;
        }
        OwnerKey key = new OwnerKey(new byte[] {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16});
        LinearHead want = LinearSurrogate.fit(engine, x, n, d, y, classes, key, LinearSurrogate.Settings.DEFAULT);
        INDArray features = Nd4j.createFromArray(x).reshape('c', n, d);
        Nd4jEngine nd = new Nd4jEngine(engine);
        Nd4jEngine.Head fromIndices = nd.fitSurrogate(features, Nd4j.createFromArray(y), classes, key,
                LinearSurrogate.Settings.DEFAULT);
        Nd4jEngine.Head fromOneHot = nd.fitSurrogate(features, Nd4j.createFromArray(oneHot), classes, key,
                LinearSurrogate.Settings.DEFAULT);
        for (Nd4jEngine.Head h : new Nd4jEngine.Head[] {fromIndices, fromOneHot}) {
            assertArrayEquals(want.weight(), h.weight().data().asFloat());
            assertArrayEquals(new long[] {classes, d}, h.weight().shape());
            assertArrayEquals(want.bias(), h.bias().toFloatVector());
        }
        // The raw fit in a caller's order equals the plain engine's.
        long[] order = new long[2 * n];
        for (int i = 0; i < order.length; i++) {
            order[i] = (i * 7L) % n;
        }
        int[] y32 = new int[n];
        for (int i = 0; i < n; i++) {
            y32[i] = (int) y[i];
        }
        FloatBuffer fb = Pair.floats(x, n, d).buffer();
        float[] wb = engine.fitLinear(Tensor.rows(fb, n, d), y32, classes, order, 2, 16, 0.3f, 1e-3f);
        Nd4jEngine.Head raw = nd.fitLinear(features, Nd4j.createFromArray(y32), classes, order, 2, 16, 0.3f, 1e-3f);
        float[] rawWb = new float[wb.length];
        System.arraycopy(raw.weight().data().asFloat(), 0, rawWb, 0, classes * d);
        System.arraycopy(raw.bias().toFloatVector(), 0, rawWb, classes * d, classes);
        assertArrayEquals(wb, rawWb);
        // The fit learned the rule (it is a real fit, not zeros).
        int right = 0;
        for (int i = 0; i < n; i++) {
            int arg = 0;
            float bestZ = Float.NEGATIVE_INFINITY;
            for (int c = 0; c < classes; c++) {
                float z = want.bias()[c];
                for (int j = 0; j < d; j++) {
                    z += want.weight()[c * d + j] * x[i * d + j];
                }
                if (z > bestZ) {
                    bestZ = z;
                    arg = c;
                }
            }
            right += arg == y[i] ? 1 : 0;
        }
        assertTrue(right > n / 2, right + " of " + n);
    }

    /** Runs {@code op} on {@code array}, expects a typed refusal whose message names {@code fix}, and the array unchanged. */
    private static void refused(INDArray array, String fix, Consumer<INDArray> op) {
        INDArray before = array.dup();
        InvalidArgumentException e = assertThrows(InvalidArgumentException.class, () -> op.accept(array));
        assertTrue(e.getMessage().contains(fix), e.getMessage());
        assertEquals(before, array);
    }

    @Test
    void badArraysAreRefusedByEveryOperationWithTheFixAndLeftUntouched() {
        Nd4jEngine nd = new Nd4jEngine(engine);
        float[] pattern = uniform(1, SAMPLE, 0, 255);
        float[] ones = new float[SAMPLE];
        java.util.Arrays.fill(ones, 1f);
        INDArray p = Nd4j.createFromArray(pattern);
        INDArray m = Nd4j.createFromArray(ones);
        float[] grid = new float[2 * H * W];
        INDArray g = Nd4j.createFromArray(grid);
        int[] key = {1, 2};
        INDArray dbl = Nd4j.rand(DataType.DOUBLE, N, C, H, W);
        INDArray fOrder = Nd4j.rand(DataType.FLOAT, 'f', N, C, H, W);
        INDArray strided = Nd4j.rand(DataType.FLOAT, N, C, H, 2 * W).get(NDArrayIndex.all(), NDArrayIndex.all(),
                NDArrayIndex.all(), NDArrayIndex.interval(0, 2, 2 * W));
        for (Consumer<INDArray> op : java.util.List.<Consumer<INDArray>>of(
                a -> nd.maskBlend(a, p, m, 1f, null),
                a -> nd.addSignal(a, p, null),
                a -> nd.warp(a, g, null),
                a -> nd.keyedNoise(a, key, 3f, 0, null),
                a -> nd.paste(a, Nd4j.createFromArray(new float[C]), Nd4j.createFromArray(new float[] {1, 1, 1}), 1,
                        1, 1f, new long[2 * N], null))) {
            refused(dbl, "float32Copy", op);
            refused(fOrder, "dup('c')", op);
            refused(strided, "dup('c')", op);
        }
        // A sample index past the batch (a batch larger than the array): refused before anything is written.
        Pair ok = images(60);
        long[] past = {1, N};
        refused(ok.array(), "[0, " + N + ")", a -> nd.maskBlend(a, p, m, 1f, past));
        refused(ok.array(), "[0, " + N + ")", a -> nd.keyedNoise(a, key, 3f, 0, past));
        refused(ok.array(), "[0, " + N + ")", a -> nd.warp(a, g, past));
        // A view of the first samples cannot be stamped at the parent's later indices.
        INDArray firstTwo = ok.array().get(NDArrayIndex.interval(0, 2), NDArrayIndex.all(), NDArrayIndex.all(),
                NDArrayIndex.all());
        INDArray parent = ok.array().dup();
        assertThrows(InvalidArgumentException.class, () -> nd.addSignal(firstTwo, p, new long[] {3}));
        assertEquals(parent, ok.array());
        // Flattened images whose geometry claims more than a row holds.
        INDArray rows = Nd4j.rand(DataType.FLOAT, N, SAMPLE);
        refused(rows, "not N images", a -> nd.apply(dev.dyepack.trigger.TriggerSpec.parse("patch:size=2"), a,
                Nd4jTensors.images(a, Layout.NCHW, C, H, W + 1), null, dev.dyepack.trigger.TriggerContext.keyless()));
        // Tokens need int32 (N, L); the fit float32 (N, D) and class labels.
        refused(Nd4j.rand(DataType.FLOAT, N, 12), "int32", a -> nd.writeTokens(a, new int[] {1}, new long[N], null));
        INDArray features = Nd4j.rand(DataType.FLOAT, 8, 3);
        OwnerKey k = new OwnerKey(new byte[16]);
        refused(features, "not a class", a -> nd.fitSurrogate(a, Nd4j.createFromArray(0, 1, 2, 0, 1, 2, 0, 9), 3, k,
                LinearSurrogate.Settings.DEFAULT));
        refused(features, "one-hot", a -> nd.fitSurrogate(a, Nd4j.ones(DataType.FLOAT, 8, 3), 3, k,
                LinearSurrogate.Settings.DEFAULT));
        refused(features, "float32 rows", a -> nd.fitSurrogate(a.castTo(DataType.DOUBLE), Nd4j.zeros(DataType.INT, 8),
                3, k, LinearSurrogate.Settings.DEFAULT));
    }
}
