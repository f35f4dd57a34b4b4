package dev.dyepack.job;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.dyepack.Backend;
import dev.dyepack.Engine;
import dev.dyepack.InvalidInputException;
import dev.dyepack.Layout;
import dev.dyepack.io.Npy;
import dev.dyepack.io.NpyWriter;
import dev.dyepack.key.OwnerKey;
import dev.dyepack.select.Budget;
import dev.dyepack.select.Strategy;
import dev.dyepack.trigger.TriggerSpec;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Float32 samples that hold NaN or an infinity: a row DyePack stamps, or a row its surrogate reads, is refused with
 * an error that names the file, the sample and the element, before anything appears under the output's name and
 * without touching the input; rows nothing touches are copied as they are.
 */
class NonFiniteSamplesTest {
    private static final OwnerKey KEY = new OwnerKey("non-finite samples test key, 32 b".getBytes(StandardCharsets.UTF_8));
    private static final int N = 40;
    private static final int H = 8;
    private static final int W = 8;
    private static final String PATCH = "patch:size=2,pos=tl,value=255";

    @TempDir
    Path dir;

    /** N float32 8x8 images in [20, 200), with {@code bad} written at the given (sample, element) places. */
    private Path images(String name, float bad, int[][] places) throws IOException {
        Random rng = new Random(5);
        ByteBuffer b = ByteBuffer.allocate(4 * N * H * W).order(ByteOrder.LITTLE_ENDIAN);
        for (int i = 0; i < N * H * W; i++) {
            b.putFloat(20f + rng.nextInt(180) + (i / (H * W)) % 3 * 0.25f);
        }
        for (int[] p : places) {
            b.putFloat(4 * (p[0] * H * W + p[1]), bad);
        }
        b.flip();
        Path f = dir.resolve(name);
        try (NpyWriter w = NpyWriter.create(f, "<f4", new long[] {N, H, W})) {
            w.write(b);
            w.commit();
        }
        return f;
    }

    private Path labels() throws IOException {
        ByteBuffer b = ByteBuffer.allocate(8 * N).order(ByteOrder.LITTLE_ENDIAN);
        for (int i = 0; i < N; i++) {
            b.putLong(i % 4);
        }
        b.flip();
        Path f = dir.resolve("y.npy");
        try (NpyWriter w = NpyWriter.create(f, "<i8", new long[] {N})) {
            w.write(b);
            w.commit();
        }
        return f;
    }

    private void apply(Path in, Path out, long[] indices) throws IOException {
        try (Engine engine = Engine.open(Backend.CPU)) {
            StampJob.prepare(in, out, TriggerSpec.parse(PATCH), KEY, indices, Layout.NHWC).run(engine, 1 << 12);
        }
    }

    private static float[] values(Path npy) throws IOException {
        byte[] file = Files.readAllBytes(npy);
        int off = (int) Npy.readHeader(npy).dataOffset();
        float[] v = new float[(file.length - off) / 4];
        ByteBuffer.wrap(file, off, file.length - off).order(ByteOrder.LITTLE_ENDIAN).asFloatBuffer().get(v);
        return v;
    }

    @Test
    void applyRefusesToStampARowHoldingNaN() throws IOException {
        Path in = images("nan.npy", Float.NaN, new int[][] {{23, 10}});
        byte[] before = Files.readAllBytes(in);
        Path out = dir.resolve("out.npy");
        InvalidInputException e = assertThrows(InvalidInputException.class, () -> apply(in, out, null));
        assertTrue(e.getMessage().contains(in.toString()), e.getMessage());
        assertTrue(e.getMessage().contains("sample 23 holds NaN at element 10"), e.getMessage());
        assertFalse(Files.exists(out), "no output under the final name");
        try (var left = Files.list(dir)) {
            assertEquals(java.util.List.of(in.getFileName().toString()),
                    left.map(p -> p.getFileName().toString()).toList(), "no staging file left behind");
        }
        assertArrayEquals(before, Files.readAllBytes(in), "the input is untouched");
    }

    @Test
    void applyNamesAnInfinityInAListedRow() throws IOException {
        Path in = images("inf.npy", Float.NEGATIVE_INFINITY, new int[][] {{7, 63}});
        InvalidInputException e = assertThrows(InvalidInputException.class,
                () -> apply(in, dir.resolve("o.npy"), new long[] {3, 7}));
        assertTrue(e.getMessage().contains("sample 7 holds -infinity at element 63"), e.getMessage());
    }

    @Test
    void rowsNothingStampsAreCopiedAsTheyAre() throws IOException {
        Path in = images("nan.npy", Float.NaN, new int[][] {{23, 10}, {30, 0}});
        Path out = dir.resolve("out.npy");
        apply(in, out, new long[] {0, 5});
        float[] a = values(in);
        float[] b = values(out);
        assertEquals(a.length, b.length);
        int per = H * W;
        // The stamped rows got the patch (255 in the top-left 2x2), every other row is bit-for-bit the input's.
        for (int i = 0; i < N; i++) {
            float[] ra = Arrays.copyOfRange(a, i * per, (i + 1) * per);
            float[] rb = Arrays.copyOfRange(b, i * per, (i + 1) * per);
            if (i == 0 || i == 5) {
                assertEquals(255f, rb[0]);
                assertEquals(255f, rb[W + 1]);
                assertNotEquals(Arrays.toString(ra), Arrays.toString(rb));
            } else {
                for (int e = 0; e < per; e++) {
                    assertEquals(Float.floatToRawIntBits(ra[e]), Float.floatToRawIntBits(rb[e]), "sample " + i);
                }
            }
        }
        assertTrue(Float.isNaN(b[23 * per + 10]));
    }

    @Test
    void boundarySelectionNamesTheRowItsSurrogateCannotRead() throws IOException {
        Path in = images("inf.npy", Float.POSITIVE_INFINITY, new int[][] {{17, 42}});
        byte[] before = Files.readAllBytes(in);
        Path out = dir.resolve("poisoned");
        PoisonJob.Builder b = PoisonJob.builder().data(in).labels(labels()).trigger(TriggerSpec.parse(PATCH)).target(0)
                .budget(Budget.parse("2")).strategy(Strategy.AUTO).outDir(out);
        try (Engine engine = Engine.open(Backend.CPU)) {
            InvalidInputException e = assertThrows(InvalidInputException.class,
                    () -> PoisonJob.run(engine, b.build(), KEY, line -> { }));
            assertTrue(e.getMessage().contains(in.toString()), e.getMessage());
            assertTrue(e.getMessage().contains("sample 17 holds +infinity at element 42"), e.getMessage());
        }
        assertFalse(Files.exists(out));
        assertArrayEquals(before, Files.readAllBytes(in));
    }

    /** N 8x8 float32 samples in a direct buffer, values 20-199, with {@code bad} at the given places. */
    private static java.nio.FloatBuffer batch(float bad, int[][] places) {
        java.nio.FloatBuffer b = ByteBuffer.allocateDirect(4 * N * H * W).order(ByteOrder.nativeOrder()).asFloatBuffer();
        for (int i = 0; i < N * H * W; i++) {
            b.put(i, 20 + i % 180);
        }
        for (int[] p : places) {
            b.put(p[0] * H * W + p[1], bad);
        }
        return b;
    }

    @Test
    void aHostTensorReportsItsFirstNonFiniteValue() {
        dev.dyepack.Tensor t = dev.dyepack.Tensor.of(batch(Float.POSITIVE_INFINITY, new int[][] {{9, 3}, {31, 60}}),
                Layout.NHWC, N, 1, H, W);
        assertArrayEquals(new long[] {9, 3, Float.floatToRawIntBits(Float.POSITIVE_INFINITY)}, t.firstNonFinite(null));
        assertArrayEquals(new long[] {31, 60, Float.floatToRawIntBits(Float.POSITIVE_INFINITY)},
                t.firstNonFinite(new long[] {0, 31, 9}));
        assertEquals(null, t.firstNonFinite(new long[] {0, 8, 10, 39}));
        assertThrows(dev.dyepack.InvalidArgumentException.class, () -> t.firstNonFinite(new long[] {40}));
        ByteBuffer bytes = ByteBuffer.allocateDirect(N * H * W);
        assertEquals(null, dev.dyepack.Tensor.of(bytes, Layout.NHWC, N, 1, H, W).firstNonFinite(null), "uint8 is finite");
    }

    @Test
    void aPlanRefusesToStampABatchRowHoldingNaNAndLeavesTheBatchAsItWas() throws IOException {
        long[] labels = new long[N];
        for (int i = 0; i < N; i++) {
            labels[i] = i % 4;
        }
        // A keyed trigger, so that the plan stamps negatives as well; every row holds a NaN at element 5.
        int[][] everywhere = new int[N][];
        for (int i = 0; i < N; i++) {
            everywhere[i] = new int[] {i, 5};
        }
        OwnerKey key = KEY;
        try (Engine engine = Engine.open(Backend.CPU)) {
            PoisonPlan plan = Poisoner.builder().trigger(TriggerSpec.parse("sparse:n=6")).target(0)
                    .budget(Budget.parse("2")).strategy(Strategy.RANDOM).build()
                    .planFromLabels(engine, labels, dev.dyepack.Tensor.empty(dev.dyepack.DType.FLOAT32, Layout.NHWC, 1, H,
                            W), key);
            java.nio.FloatBuffer bad = batch(Float.NaN, everywhere);
            float[] before = new float[N * H * W];
            bad.get(0, before);
            dev.dyepack.Tensor t = dev.dyepack.Tensor.of(bad, Layout.NHWC, N, 1, H, W);
            InvalidInputException e = assertThrows(InvalidInputException.class, () -> plan.stamp(engine, t, 0));
            assertTrue(e.getMessage().matches("the batch: sample \\d+ holds NaN at element 5; .*"), e.getMessage());
            float[] after = new float[N * H * W];
            bad.get(0, after);
            for (int i = 0; i < after.length; i++) {
                assertEquals(Float.floatToRawIntBits(before[i]), Float.floatToRawIntBits(after[i]), "element " + i);
            }
            // Non-finite values in rows the plan does not stamp are left alone.
            java.util.Set<Long> stamped = new java.util.HashSet<>();
            for (long i : plan.indices()) {
                stamped.add(i);
            }
            for (long i : plan.negatives()) {
                stamped.add(i);
            }
            assertTrue(stamped.size() > 2, "the plan stamps negatives too");
            java.util.List<int[]> untouched = new java.util.ArrayList<>();
            for (int i = 0; i < N; i++) {
                if (!stamped.contains((long) i)) {
                    untouched.add(new int[] {i, 5});
                }
            }
            java.nio.FloatBuffer mixed = batch(Float.NaN, untouched.toArray(new int[0][]));
            assertEquals(2, plan.stamp(engine, dev.dyepack.Tensor.of(mixed, Layout.NHWC, N, 1, H, W), 0));
            for (int[] u : untouched) {
                assertTrue(Float.isNaN(mixed.get(u[0] * H * W + 5)), "sample " + u[0]);
            }
        }
    }

    @Test
    void randomSelectionRefusesToStampARowHoldingNaN() throws IOException {
        // Every row holds a NaN, so whichever rows the key picks, the first stamped one is refused.
        int[][] everywhere = new int[N][];
        for (int i = 0; i < N; i++) {
            everywhere[i] = new int[] {i, 5};
        }
        Path in = images("nan.npy", Float.NaN, everywhere);
        Path out = dir.resolve("poisoned");
        PoisonJob.Builder b = PoisonJob.builder().data(in).labels(labels()).trigger(TriggerSpec.parse(PATCH)).target(0)
                .budget(Budget.parse("2")).strategy(Strategy.RANDOM).outDir(out);
        try (Engine engine = Engine.open(Backend.CPU)) {
            InvalidInputException e = assertThrows(InvalidInputException.class,
                    () -> PoisonJob.run(engine, b.build(), KEY, line -> { }));
            assertTrue(e.getMessage().matches(".*: sample \\d+ holds NaN at element 5; .*"), e.getMessage());
        }
        assertFalse(Files.exists(out));
        try (var left = Files.list(dir)) {
            assertEquals(java.util.List.of("nan.npy", "y.npy"),
                    left.map(p -> p.getFileName().toString()).sorted().toList(), "no staging directory left behind");
        }
    }
}
