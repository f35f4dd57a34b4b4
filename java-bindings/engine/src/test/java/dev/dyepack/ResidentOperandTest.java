package dev.dyepack;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertDoesNotThrow;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.FloatBuffer;
import java.util.Arrays;
import java.util.Random;
import java.util.function.Consumer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * Resident operands give the same bytes as the array overloads of every primitive (whose own results
 * are checked against independent references elsewhere), and follow the ownership rules: one owner,
 * a harmless second close, refusal after close or on another engine, release with the engine.
 */
class ResidentOperandTest {
    private static final int N = 6;
    private static final int C = 3;
    private static final int H = 7;
    private static final int W = 9;

    /** A direct host batch with random contents: bytes for uint8, floats in [0, 255) for float32. */
    private static ByteBuffer randomBatch(Random rng, DType dtype) {
        int elements = N * C * H * W;
        ByteBuffer b = ByteBuffer.allocateDirect(elements * dtype.bytes()).order(ByteOrder.nativeOrder());
        for (int i = 0; i < elements; i++) {
            if (dtype == DType.UINT8) {
                b.put((byte) rng.nextInt(256));
            } else {
                b.putFloat(rng.nextFloat() * 255f);
            }
        }
        return b.flip();
    }

    private static ByteBuffer copy(ByteBuffer b) {
        ByteBuffer c = ByteBuffer.allocateDirect(b.capacity()).order(ByteOrder.nativeOrder());
        c.put(b.duplicate()).flip();
        return c;
    }

    private static Tensor view(ByteBuffer b, DType dtype, Layout layout) {
        return dtype == DType.UINT8 ? Tensor.of(b, layout, N, C, H, W)
                : Tensor.of(b.duplicate().order(ByteOrder.nativeOrder()).asFloatBuffer(), layout, N, C, H, W);
    }

    private static byte[] bytes(ByteBuffer b) {
        byte[] out = new byte[b.capacity()];
        b.duplicate().get(out);
        return out;
    }

    private static float[] uniform(Random rng, int count, float low, float high) {
        float[] v = new float[count];
        for (int i = 0; i < count; i++) {
            v[i] = low + rng.nextFloat() * (high - low);
        }
        return v;
    }

    /** Runs the array form on one copy and the operand form on another; both must change the same bytes. */
    private static void assertSameBytes(DType dtype, Layout layout, long seed, Consumer<Tensor> withArrays,
            Consumer<Tensor> withOperands) {
        ByteBuffer original = randomBatch(new Random(seed), dtype);
        ByteBuffer a = copy(original);
        ByteBuffer b = copy(original);
        withArrays.accept(view(a, dtype, layout));
        withOperands.accept(view(b, dtype, layout));
        assertArrayEquals(bytes(a), bytes(b), "operand and array forms differ");
        assertFalse(Arrays.equals(bytes(original), bytes(b)), "the primitive changed nothing");
    }

    @ParameterizedTest(name = "{0} {1}")
    @CsvSource({"UINT8, NHWC", "UINT8, NCHW", "FLOAT32, NHWC", "FLOAT32, NCHW"})
    void everyImagePrimitiveGivesTheArrayFormsBytes(DType dtype, Layout layout) {
        Random rng = new Random(dtype.ordinal() * 10L + layout.ordinal());
        int elems = C * H * W;
        float[] pattern = uniform(rng, elems, 0f, 255f);
        float[] mask = uniform(rng, elems, 0f, 1f);
        long[] some = {5, 0, 3};
        int ph = 3;
        int pw = 4;
        float[] patch = uniform(rng, C * ph * pw, 0f, 255f);
        float[] patchMask = uniform(rng, C * ph * pw, 0.2f, 1f);
        long[] offsets = {4, 5, 0, 0, 2, 3};
        float[] signal = uniform(rng, elems, -40f, 40f);
        float[] grid = new float[2 * H * W];
        for (int i = 0; i < H * W; i++) {
            grid[i] = -1f + rng.nextFloat() * (H + 1);
            grid[H * W + i] = -1f + rng.nextFloat() * (W + 1);
        }
        try (Engine engine = Engine.open(Backend.CPU);
                Engine.Operand p = engine.upload(pattern);
                Engine.Operand m = engine.upload(mask);
                Engine.Operand pa = engine.upload(patch);
                Engine.Operand pm = engine.upload(patchMask);
                Engine.Operand s = engine.upload(signal);
                Engine.Operand g = engine.upload(grid)) {
            for (long[] indices : new long[][] {null, some}) {
                long[] offs = indices == null ? new long[2 * N] : offsets;
                if (indices == null) {
                    for (int i = 0; i < N; i++) {
                        offs[2 * i] = i % (H - ph + 1);
                        offs[2 * i + 1] = (2 * i) % (W - pw + 1);
                    }
                }
                assertSameBytes(dtype, layout, 1, t -> engine.maskBlend(t, pattern, mask, 0.6f, indices),
                        t -> engine.maskBlend(t, p, m, 0.6f, indices));
                assertSameBytes(dtype, layout, 2, t -> engine.paste(t, patch, patchMask, ph, pw, 0.9f, offs, indices),
                        t -> engine.paste(t, pa, pm, ph, pw, 0.9f, offs, indices));
                assertSameBytes(dtype, layout, 3, t -> engine.addSignal(t, signal, indices),
                        t -> engine.addSignal(t, s, indices));
                assertSameBytes(dtype, layout, 4, t -> engine.warp(t, grid, indices), t -> engine.warp(t, g, indices));
            }
        }
    }

    private static FloatBuffer rows(float[] v) {
        return ByteBuffer.allocateDirect(v.length * 4).order(ByteOrder.nativeOrder()).asFloatBuffer().put(v).flip();
    }

    private static float[] read(FloatBuffer b) {
        float[] out = new float[b.capacity()];
        b.duplicate().rewind().get(out);
        return out;
    }

    @ParameterizedTest(name = "shift={0}")
    @CsvSource({"false", "true"})
    void setColumnsGivesTheArrayFormsBytes(boolean shift) {
        Random rng = new Random(shift ? 7 : 8);
        int n = 5;
        int d = 8;
        float[] data = uniform(rng, n * d, -3f, 3f);
        long[] columns = {1, 6, 3};
        float[] values = {2.5f, -1.25f, 1e-3f};
        FloatBuffer a = rows(data);
        FloatBuffer b = rows(data);
        try (Engine engine = Engine.open(Backend.CPU); Engine.Operand v = engine.upload(values)) {
            engine.setColumns(Tensor.rows(a, n, d), columns, values, shift, new long[] {4, 1});
            engine.setColumns(Tensor.rows(b, n, d), columns, v, shift, new long[] {4, 1});
        }
        assertArrayEquals(read(a), read(b));
        assertFalse(Arrays.equals(data, read(b)));
    }

    @ParameterizedTest(name = "target={0}")
    @CsvSource({"-1", "2"})
    void scoringWithAResidentHeadGivesTheSameScores(int target) {
        Random rng = new Random(11 + target);
        int n = 40;
        int d = 6;
        int classes = 4;
        float[] x = uniform(rng, n * d, -2f, 2f);
        float[] weight = uniform(rng, classes * d, -1f, 1f);
        float[] bias = uniform(rng, classes, -0.5f, 0.5f);
        try (Engine engine = Engine.open(Backend.CPU);
                Engine.Operand w = engine.upload(weight);
                Engine.Operand b = engine.upload(bias)) {
            Tensor features = Tensor.rows(rows(x), n, d);
            BoundaryScores fromArrays = engine.scoreBoundary(features, weight, bias, target);
            // Twice: the second call reuses what the engine kept with the weight operand.
            for (int round = 0; round < 2; round++) {
                BoundaryScores fromOperands = engine.scoreBoundary(features, w, b, target);
                assertArrayEquals(fromArrays.predicted(), fromOperands.predicted());
                assertArrayEquals(fromArrays.runnerUp(), fromOperands.runnerUp());
                assertArrayEquals(fromArrays.margin(), fromOperands.margin());
                assertArrayEquals(fromArrays.distance(), fromOperands.distance());
                assertArrayEquals(fromArrays.targetDistance(), fromOperands.targetDistance());
            }
            assertThrows(InvalidArgumentException.class, () -> engine.scoreBoundary(features, b, w, target),
                    "weight and bias swapped");
        }
    }

    @Test
    void anOperandOfTheWrongSizeIsRefusedBeforeAnythingIsWritten() {
        ByteBuffer batch = randomBatch(new Random(3), DType.UINT8);
        byte[] before = bytes(batch);
        try (Engine engine = Engine.open(Backend.CPU);
                Engine.Operand small = engine.upload(new float[C * H * W - 1]);
                Engine.Operand mask = engine.upload(new float[C * H * W])) {
            Tensor t = view(batch, DType.UINT8, Layout.NHWC);
            InvalidArgumentException e = assertThrows(InvalidArgumentException.class,
                    () -> engine.maskBlend(t, small, mask, 1f, null));
            assertTrue(e.getMessage().contains("pattern") && e.getMessage().contains(Integer.toString(C * H * W)),
                    e.getMessage());
            assertThrows(InvalidArgumentException.class, () -> engine.addSignal(t, small, null));
            assertThrows(InvalidArgumentException.class, () -> engine.warp(t, mask, null));
            assertThrows(InvalidArgumentException.class,
                    () -> engine.setColumns(Tensor.rows(rows(new float[8]), 1, 8), new long[] {1, 2}, small, false, null));
        }
        assertArrayEquals(before, bytes(batch));
    }

    @Test
    void uploadRefusesEmptyAndNonFiniteValues() {
        try (Engine engine = Engine.open(Backend.CPU)) {
            assertThrows(InvalidArgumentException.class, () -> engine.upload(new float[0]));
            assertThrows(InvalidArgumentException.class, () -> engine.upload(new float[] {1f, Float.NaN}));
            assertThrows(InvalidArgumentException.class, () -> engine.upload(new float[] {Float.POSITIVE_INFINITY}));
            assertEquals(0, engine.residentOperands());
        }
    }

    @Test
    void theUploadedArrayMayBeChangedAfterwards() {
        float[] signal = new float[C * H * W];
        Arrays.fill(signal, 10f);
        ByteBuffer a = randomBatch(new Random(4), DType.FLOAT32);
        ByteBuffer b = copy(a);
        try (Engine engine = Engine.open(Backend.CPU); Engine.Operand s = engine.upload(signal)) {
            engine.addSignal(view(a, DType.FLOAT32, Layout.NHWC), signal.clone(), null);
            Arrays.fill(signal, -99f);
            engine.addSignal(view(b, DType.FLOAT32, Layout.NHWC), s, null);
        }
        assertArrayEquals(bytes(a), bytes(b));
    }

    @Test
    void closingTwiceIsHarmlessAndUseAfterCloseIsRefused() {
        ByteBuffer batch = randomBatch(new Random(5), DType.UINT8);
        byte[] before = bytes(batch);
        try (Engine engine = Engine.open(Backend.CPU)) {
            Engine.Operand s = engine.upload(new float[C * H * W]);
            assertEquals(1, engine.residentOperands());
            assertFalse(s.isClosed());
            s.close();
            assertDoesNotThrow(s::close);
            assertTrue(s.isClosed());
            assertEquals(0, engine.residentOperands());
            IllegalStateException e = assertThrows(IllegalStateException.class,
                    () -> engine.addSignal(view(batch, DType.UINT8, Layout.NCHW), s, null));
            assertTrue(e.getMessage().contains("closed"), e.getMessage());
        }
        assertArrayEquals(before, bytes(batch));
    }

    @Test
    void anOperandOfAnotherEngineIsRefused() {
        ByteBuffer batch = randomBatch(new Random(6), DType.FLOAT32);
        byte[] before = bytes(batch);
        try (Engine mine = Engine.open(Backend.CPU);
                Engine other = Engine.open(Backend.CPU);
                Engine.Operand foreign = other.upload(new float[C * H * W])) {
            InvalidArgumentException e = assertThrows(InvalidArgumentException.class,
                    () -> mine.addSignal(view(batch, DType.FLOAT32, Layout.NHWC), foreign, null));
            assertTrue(e.getMessage().contains("another engine"), e.getMessage());
            assertEquals("signal", e.parameter().orElseThrow());
            assertEquals(0, mine.residentOperands());
            assertEquals(1, other.residentOperands());
        }
        assertArrayEquals(before, bytes(batch));
    }

    @Test
    void closingTheEngineFirstReleasesItsOperands() {
        Engine engine = Engine.open(Backend.CPU);
        Engine.Operand s = engine.upload(new float[C * H * W]);
        Engine.Operand g = engine.upload(new float[2 * H * W]);
        assertEquals(2, engine.residentOperands());
        engine.close();
        assertTrue(s.isClosed());
        assertEquals(0, engine.residentOperands());
        assertDoesNotThrow(s::close);
        assertDoesNotThrow(g::close);
        assertDoesNotThrow(g::close);
        ByteBuffer batch = randomBatch(new Random(7), DType.UINT8);
        assertThrows(IllegalStateException.class, () -> engine.addSignal(view(batch, DType.UINT8, Layout.NHWC), s,
                null));
        assertThrows(IllegalStateException.class, () -> engine.upload(new float[] {1f}));
    }

    @Test
    void aCpuEngineRefusesACallersStream() {
        try (Engine engine = Engine.open(Backend.CPU)) {
            InvalidArgumentException e = assertThrows(InvalidArgumentException.class,
                    () -> engine.useStream(0x7f00_0000_1000L));
            assertTrue(e.getMessage().contains("CPU") && e.getMessage().contains("stream"), e.getMessage());
            assertEquals(0, engine.stream());
            // 0 and the default are accepted everywhere and change nothing.
            assertDoesNotThrow(() -> engine.useStream(0));
            assertDoesNotThrow(engine::useDefaultStream);
            assertEquals(0, engine.stream());
            ByteBuffer a = randomBatch(new Random(8), DType.UINT8);
            ByteBuffer b = copy(a);
            float[] signal = uniform(new Random(9), C * H * W, -20f, 20f);
            engine.addSignal(view(a, DType.UINT8, Layout.NHWC), signal, null);
            try (Engine fresh = Engine.open(Backend.CPU)) {
                fresh.addSignal(view(b, DType.UINT8, Layout.NHWC), signal, null);
            }
            assertArrayEquals(bytes(b), bytes(a));
        }
    }
}
