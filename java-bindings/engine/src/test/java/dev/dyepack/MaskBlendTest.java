package dev.dyepack;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.ByteBuffer;
import java.nio.FloatBuffer;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/** The CPU mask blend against the independent reference, on random inputs of many shapes. */
class MaskBlendTest {
    private static Engine engine;

    @BeforeAll
    static void open() {
        engine = Engine.open(Backend.CPU);
    }

    @AfterAll
    static void close() {
        engine.close();
    }

    static Stream<Arguments> cases() {
        long[][] shapes = {{1, 1, 1, 1}, {0, 3, 5, 5}, {1, 3, 37, 41}, {4, 4, 41, 37}, {7, 1, 1, 1}, {200, 1, 28, 28},
            {3, 3, 1, 1}};
        List<Arguments> out = new ArrayList<>();
        for (DType dtype : DType.values()) {
            for (Layout layout : Layout.values()) {
                for (long[] s : shapes) {
                    for (boolean all : new boolean[] {true, false}) {
                        out.add(Arguments.of(dtype, layout, s[0], s[1], s[2], s[3], all));
                    }
                }
            }
        }
        return out.stream();
    }

    @ParameterizedTest(name = "{0} {1} N={2} C={3} H={4} W={5} all={6}")
    @MethodSource("cases")
    void matchesReference(DType dtype, Layout layout, long n, long c, long h, long w, boolean all) {
        Random rng = new Random(31 * n + 7 * c + h * 3 + w + (all ? 1 : 0) + dtype.ordinal() * 101 + layout.ordinal());
        int e = (int) (c * h * w);
        float[] pattern = BlendReference.randomPattern(rng, e);
        float[] mask = BlendReference.randomMask(rng, e);
        float amount = rng.nextFloat();
        boolean[] selected = new boolean[(int) n];
        long[] indices = null;
        if (all) {
            java.util.Arrays.fill(selected, true);
        } else {
            List<Long> picked = new ArrayList<>();
            for (int i = (int) n - 1; i >= 0; i -= 2) { // descending: order must not matter
                picked.add((long) i);
                selected[i] = true;
            }
            indices = picked.stream().mapToLong(Long::longValue).toArray();
        }
        if (dtype == DType.UINT8) {
            byte[] data = new byte[(int) n * e];
            rng.nextBytes(data);
            ByteBuffer buf = BlendReference.direct(data);
            engine.maskBlend(Tensor.of(buf, layout, n, c, h, w), pattern, mask, amount, indices);
            assertArrayEquals(BlendReference.blendU8(data, e, pattern, mask, amount, selected), BlendReference.bytes(buf));
        } else {
            float[] data = new float[(int) n * e];
            for (int i = 0; i < data.length; i++) {
                data[i] = rng.nextFloat() * 400f - 50f;
            }
            FloatBuffer buf = BlendReference.direct(data);
            engine.maskBlend(Tensor.of(buf, layout, n, c, h, w), pattern, mask, amount, indices);
            assertArrayEquals(BlendReference.blendF32(data, e, pattern, mask, amount, selected),
                    BlendReference.floats(buf));
        }
    }

    @Test
    void uint8ResultIsWithinHalfAUnitOfTheExactBlend() {
        // The rounding rule itself: compare with the blend computed in double precision.
        Random rng = new Random(5);
        int e = 4096;
        byte[] data = new byte[e];
        rng.nextBytes(data);
        float[] pattern = BlendReference.randomPattern(rng, e);
        float[] mask = BlendReference.randomMask(rng, e);
        ByteBuffer buf = BlendReference.direct(data);
        engine.maskBlend(Tensor.of(buf, Layout.NHWC, 1, 1, 1, e), pattern, mask, 0.7f, null);
        byte[] got = BlendReference.bytes(buf);
        for (int i = 0; i < e; i++) {
            double w = (double) (0.7f * mask[i]);
            double exact = (1 - w) * (data[i] & 0xff) + w * pattern[i];
            assertTrue(Math.abs((got[i] & 0xff) - exact) <= 0.5 + 1e-4, "element " + i + ": " + (got[i] & 0xff)
                    + " vs exact " + exact);
        }
    }

    @Test
    void resultsDoNotDependOnThreadCount() {
        // 700 x 3,072 elements: enough work for all 8 threads (the engine shares out 2^18 elements per thread at
        // least), handed out in pieces to the process's workers, each thread count giving the reference's bytes.
        Random rng = new Random(9);
        int n = 700;
        int e = 3 * 32 * 32;
        byte[] data = new byte[n * e];
        rng.nextBytes(data);
        float[] pattern = BlendReference.randomPattern(rng, e);
        float[] mask = BlendReference.randomMask(rng, e);
        boolean[] all = new boolean[n];
        java.util.Arrays.fill(all, true);
        byte[] want = BlendReference.blendU8(data, e, pattern, mask, 0.35f, all);
        for (int threads : new int[] {1, 2, 3, 8}) {
            ByteBuffer buf = BlendReference.direct(data);
            engine.threads(threads).maskBlend(Tensor.of(buf, Layout.NCHW, n, 3, 32, 32), pattern, mask, 0.35f, null);
            assertArrayEquals(want, BlendReference.bytes(buf), "threads=" + threads);
        }
        engine.threads(0);
    }

    @Test
    void bufferPositionIsRespected() {
        // The view starts at the buffer's position: bytes before it must stay untouched.
        ByteBuffer whole = ByteBuffer.allocateDirect(10);
        for (int i = 0; i < 10; i++) {
            whole.put(i, (byte) i);
        }
        whole.position(6);
        engine.maskBlend(Tensor.of(whole.slice(), Layout.NHWC, 1, 1, 2, 2), new float[] {9, 9, 9, 9},
                new float[] {1, 1, 1, 1}, 1f, null);
        whole.position(0);
        whole.limit(10);
        ByteBuffer view = whole.duplicate();
        whole.position(7);
        engine.maskBlend(Tensor.of(whole, Layout.NHWC, 1, 1, 1, 3), new float[] {100, 100, 100},
                new float[] {1, 0, 1}, 1f, null);
        byte[] got = BlendReference.bytes(view.position(0));
        assertArrayEquals(new byte[] {0, 1, 2, 3, 4, 5, 9, 100, 9, 100}, got);
    }

    @Test
    void badArgumentsAreRejectedAndNothingIsWritten() {
        byte[] data = {1, 2, 3, 4, 5, 6, 7, 8};
        ByteBuffer buf = BlendReference.direct(data);
        Tensor t = Tensor.of(buf, Layout.NHWC, 2, 1, 2, 2);
        float[] p = {1, 2, 3, 4};
        float[] m = {1, 1, 1, 1};
        assertMessage(() -> engine.maskBlend(t, p, m, 1.5f, null), "amount");
        assertMessage(() -> engine.maskBlend(t, p, m, Float.NaN, null), "amount");
        assertMessage(() -> engine.maskBlend(t, p, m, 1f, new long[] {2}), "out of range");
        assertMessage(() -> engine.maskBlend(t, p, m, 1f, new long[] {0, 0}), "more than once");
        assertMessage(() -> engine.maskBlend(t, new float[] {1, 2, 3}, m, 1f, null), "C*H*W");
        assertMessage(() -> engine.maskBlend(t, new float[] {1, 2, 300, 4}, m, 1f, null), "uint8 range");
        assertMessage(() -> engine.maskBlend(t, new float[] {1, 2, Float.NaN, 4}, m, 1f, null), "not finite");
        assertMessage(() -> engine.maskBlend(t, p, new float[] {1, 2, 1, 1}, 1f, null), "mask[1]");
        assertArrayEquals(data, BlendReference.bytes(buf));
        assertMessage(() -> Tensor.of(ByteBuffer.allocate(8), Layout.NHWC, 2, 1, 2, 2), "direct");
        assertMessage(() -> Tensor.of(buf, Layout.NHWC, 3, 1, 2, 2), "remaining");
        assertMessage(() -> Tensor.of(buf, Layout.NHWC, 2, 0, 2, 2), "at least 1");
        assertMessage(() -> Tensor.of(ByteBuffer.allocateDirect(16).asFloatBuffer(), Layout.NHWC, 1, 1, 2, 2),
                "byte order");
        assertMessage(() -> engine.maskBlend(Tensor.onDevice(0x1000, DType.UINT8, Layout.NHWC, 2, 1, 2, 2), p, m, 1f,
                null), "device memory");
    }

    @Test
    void javacppPointerTensorsWorkFromTheirPosition() {
        // A JavaCPP pointer with a position, as ND4J's data().addressPointer() gives for a view.
        try (org.bytedeco.javacpp.BytePointer p = new org.bytedeco.javacpp.BytePointer(8)) {
            for (int i = 0; i < 8; i++) {
                p.put(i, (byte) (10 + i));
            }
            p.position(4);
            engine.maskBlend(Tensor.ofHost(p, DType.UINT8, Layout.NHWC, 1, 1, 2, 2), new float[] {0, 0, 0, 0},
                    new float[] {1, 0, 1, 0}, 1f, null);
            p.position(0);
            byte[] got = new byte[8];
            p.get(got);
            assertArrayEquals(new byte[] {10, 11, 12, 13, 0, 15, 0, 17}, got);
        }
        assertThrows(InvalidArgumentException.class, () -> engine.allocate(16));
        try (org.bytedeco.javacpp.BytePointer small = new org.bytedeco.javacpp.BytePointer(8)) {
            small.position(6);
            assertMessage(() -> Tensor.ofHost(small, DType.UINT8, Layout.NHWC, 1, 1, 2, 2), "holds 2 bytes");
        }
    }

    @Test
    void emptyIndexListChangesNothing() {
        byte[] data = {10, 20, 30, 40};
        ByteBuffer buf = BlendReference.direct(data);
        engine.maskBlend(Tensor.of(buf, Layout.NHWC, 4, 1, 1, 1), new float[] {0}, new float[] {1}, 1f, new long[0]);
        assertArrayEquals(data, BlendReference.bytes(buf));
    }

    private static void assertMessage(org.junit.jupiter.api.function.Executable call, String fragment) {
        InvalidArgumentException e = assertThrows(InvalidArgumentException.class, call);
        assertTrue(e.getMessage().contains(fragment), "message '" + e.getMessage() + "' should contain '" + fragment + "'");
    }

    @Test
    void engineLifecycle() {
        Engine e = Engine.open(Backend.CPU);
        assertEquals(Backend.CPU, e.backend());
        assertTrue(e.reason().contains("CPU"), e.reason());
        e.close();
        e.close(); // harmless
        assertThrows(IllegalStateException.class, () -> e.threads(1));
    }
}
