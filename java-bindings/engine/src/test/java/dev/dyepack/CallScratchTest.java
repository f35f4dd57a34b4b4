package dev.dyepack;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;

import dev.dyepack.internal.DyePackNative;
import dev.dyepack.internal.RawPointer;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import org.bytedeco.javacpp.FloatPointer;
import org.bytedeco.javacpp.IntPointer;
import org.bytedeco.javacpp.LongPointer;
import org.junit.jupiter.api.Test;

/**
 * The per-thread native memory engine calls take their descriptors and small arrays from: what is written
 * is what the native side reads, scopes give memory back in stack order, requests larger than the block are
 * served all the same, and threads sharing an engine each get their own results.
 */
class CallScratchTest {

    @Test
    void descriptorsReadBackThroughTheNativeLibrarysOwnGetters() {
        try (CallScratch s = CallScratch.open()) {
            DyePackNative.Tensor d = s.tensor(DType.FLOAT32.code(), Layout.NCHW.code(),
                    DyePackNative.DP_MEMORY_OPERAND, 7L, 3L, 224L, 225L, new RawPointer(0xdead_beef_0L));
            assertEquals(DType.FLOAT32.code(), d.dtype());
            assertEquals(Layout.NCHW.code(), d.layout());
            assertEquals(DyePackNative.DP_MEMORY_OPERAND, d.memory());
            assertEquals(0, d.reserved());
            assertEquals(7L, d.n());
            assertEquals(3L, d.c());
            assertEquals(224L, d.h());
            assertEquals(225L, d.w());
            assertEquals(0xdead_beef_0L, d.data().address());
        }
        // A slot used before is written whole again: nothing of the previous descriptor is left in it.
        try (CallScratch s = CallScratch.open()) {
            DyePackNative.Tensor d = s.tensor(DType.UINT8.code(), Layout.NHWC.code(), DyePackNative.DP_MEMORY_HOST,
                    1L, 1L, 2L, 2L, null);
            assertEquals(0, d.reserved());
            assertEquals(0L, d.data() == null ? 0L : d.data().address());
            assertEquals(DType.UINT8.code(), d.dtype());
        }
    }

    @Test
    void scopesGiveMemoryBackInStackOrder() {
        try (CallScratch outer = CallScratch.open()) {
            LongPointer a = outer.longs(new long[] {1, 2, 3});
            long inner;
            try (CallScratch nested = CallScratch.open()) {
                LongPointer b = nested.longs(new long[] {4});
                inner = b.address();
                assertNotEquals(a.address(), inner);
                assertEquals(1L, a.get(0));
                assertEquals(4L, b.get(0));
            }
            LongPointer c = outer.longs(new long[] {5});
            assertEquals(inner, c.address(), "the nested scope's memory is reused once it is closed");
            assertArrayEquals(new long[] {1, 2, 3}, read(a, 3), "memory taken before the nested scope is kept");
        }
        CallScratch s = CallScratch.open();
        s.close();
        assertThrows(IllegalStateException.class, s::close);
        assertThrows(IllegalStateException.class, () -> s.longs(new long[] {1}));
    }

    @Test
    void arraysOfEverySizeArriveWhole() {
        Random rng = new Random(3);
        try (CallScratch s = CallScratch.open()) {
            assertNull(s.longs(null));
            assertNull(s.longs(new long[0]));
            // From a few values (in the block) to several times the block (allocated on their own).
            for (int n : new int[] {1, 17, 2048, 2049, 5000, 20000}) {
                long[] l = rng.longs(n).toArray();
                float[] f = new float[n];
                int[] i = rng.ints(n).toArray();
                for (int k = 0; k < n; k++) {
                    f[k] = rng.nextFloat();
                }
                try (LongPointer lp = s.longs(l); FloatPointer fp = s.floats(f); IntPointer ip = s.ints(i)) {
                    assertArrayEquals(l, read(lp, n), "longs, n=" + n);
                    float[] fr = new float[n];
                    fp.get(fr);
                    assertArrayEquals(f, fr, "floats, n=" + n);
                    int[] ir = new int[n];
                    ip.get(ir);
                    assertArrayEquals(i, ir, "ints, n=" + n);
                }
            }
        }
    }

    @Test
    void threadsSharingAnEngineEachGetTheirOwnResults() throws Exception {
        int threads = 4;
        ExecutorService pool = Executors.newFixedThreadPool(threads);
        try (Engine engine = Engine.open(Backend.CPU)) {
            List<Future<?>> runs = new ArrayList<>();
            for (int t = 0; t < threads; t++) {
                int seed = t;
                runs.add(pool.submit(() -> {
                    Random rng = new Random(seed);
                    for (int round = 0; round < 200; round++) {
                        int n = 1 + rng.nextInt(40);
                        int e = 28 * 28;
                        byte[] data = new byte[n * e];
                        rng.nextBytes(data);
                        float[] pattern = BlendReference.randomPattern(rng, e);
                        float[] mask = BlendReference.randomMask(rng, e);
                        boolean[] selected = new boolean[n];
                        List<Long> picked = new ArrayList<>();
                        for (int k = 0; k < n; k++) {
                            if (rng.nextBoolean()) {
                                selected[k] = true;
                                picked.add((long) k);
                            }
                        }
                        long[] indices = picked.stream().mapToLong(Long::longValue).toArray();
                        ByteBuffer buf = BlendReference.direct(data);
                        engine.maskBlend(Tensor.of(buf, Layout.NHWC, n, 1, 28, 28), pattern, mask, 0.4f,
                                indices.length == 0 ? new long[0] : indices);
                        assertArrayEquals(BlendReference.blendU8(data, e, pattern, mask, 0.4f, selected),
                                BlendReference.bytes(buf), "seed " + seed + ", round " + round);
                    }
                    return null;
                }));
            }
            for (Future<?> f : runs) {
                f.get();
            }
        } finally {
            pool.shutdownNow();
        }
    }

    private static long[] read(LongPointer p, int n) {
        long[] out = new long[n];
        p.get(out);
        return out;
    }
}
