package dev.dyepack;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.FloatBuffer;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

/** Engine.copyToHost, copyFromHost and copy: host tensors on the CPU engine, and device tensors on CUDA. */
class EngineCopyTest {
    private static FloatBuffer floats(float[] v) {
        FloatBuffer b = ByteBuffer.allocateDirect(v.length * 4).order(ByteOrder.nativeOrder()).asFloatBuffer();
        b.put(v).flip();
        return b;
    }

    private static float[] random(int n, long seed) {
        SplittableRandom r = new SplittableRandom(seed);
        float[] v = new float[n];
        for (int i = 0; i < n; i++) {
            v[i] = (float) r.nextGaussian();
        }
        return v;
    }

    private static float[] read(ByteBuffer b) {
        float[] v = new float[b.remaining() / 4];
        b.duplicate().order(ByteOrder.nativeOrder()).asFloatBuffer().get(v);
        return v;
    }

    @Test
    void hostTensorsAreCopiedByteForByteWithinTheirBounds() {
        float[] a = random(6 * 7, 1);
        FloatBuffer src = floats(a);
        FloatBuffer dst = floats(new float[a.length]);
        Tensor s = Tensor.rows(src, 6, 7);
        Tensor d = Tensor.rows(dst, 6, 7);
        try (Engine engine = Engine.open(Backend.CPU)) {
            // Row 2 out, changed, and into row 4 of another tensor.
            ByteBuffer row = ByteBuffer.allocateDirect(7 * 4).order(ByteOrder.nativeOrder());
            engine.copyToHost(s, 2 * 7 * 4, row);
            assertEquals(0, row.position(), "the buffer's position is not changed");
            float[] r2 = read(row);
            for (int c = 0; c < 7; c++) {
                assertEquals(a[2 * 7 + c], r2[c]);
            }
            engine.copyFromHost(row, d, 4 * 7 * 4);
            float[] got = new float[a.length];
            dst.duplicate().get(got);
            float[] expected = new float[a.length];
            System.arraycopy(a, 2 * 7, expected, 4 * 7, 7);
            assertArrayEquals(expected, got);
            // The whole tensor.
            engine.copy(s, d);
            dst.duplicate().get(got);
            assertArrayEquals(a, got);
            float[] before = a.clone();
            src.duplicate().get(a);
            assertArrayEquals(before, a, "the source is not changed");

            // Out of bounds, another size, a heap buffer, a device tensor on the CPU: refused, nothing copied.
            assertThrows(InvalidArgumentException.class, () -> engine.copyToHost(s, 6 * 7 * 4 - 8, row));
            assertThrows(InvalidArgumentException.class, () -> engine.copyFromHost(row, d, -4));
            assertThrows(InvalidArgumentException.class, () -> engine.copy(s, Tensor.rows(floats(new float[7]), 1, 7)));
            assertTrue(assertThrows(InvalidArgumentException.class, () -> engine.copyToHost(s, 0,
                    ByteBuffer.allocate(8))).getMessage().contains("direct"));
            Tensor device = Tensor.onDevice(1 << 20, DType.FLOAT32, Layout.NHWC, 6, 1, 1, 7);
            String m = assertThrows(InvalidArgumentException.class, () -> engine.copy(device, d)).getMessage();
            assertTrue(m.contains("device memory") && m.contains("cpu"), m);
            float[] overlap = new float[a.length];
            dst.duplicate().get(overlap);
            assertArrayEquals(a, overlap);
        }
        Engine closed = Engine.open(Backend.CPU);
        closed.close();
        assertThrows(IllegalStateException.class, () -> closed.copy(s, d), "a closed engine copies nothing");
    }

    @Test
    @Tag("gpu")
    void deviceTensorsAreCopiedBetweenHostAndDeviceAndOnTheDevice() {
        CudaStatus cuda = CudaStatus.query();
        assumeTrue(cuda.available(), "no usable GPU: " + cuda.reason());
        float[] a = random(1000 * 10, 2);
        try (Engine engine = Engine.open(Backend.CUDA); DeviceBuffer x = engine.allocate(a.length * 4L);
                DeviceBuffer y = engine.allocate(a.length * 4L)) {
            Tensor dx = Tensor.onDevice(x, DType.FLOAT32, Layout.NHWC, 1000, 1, 1, 10);
            Tensor dy = Tensor.onDevice(y, DType.FLOAT32, Layout.NHWC, 1000, 1, 1, 10);
            engine.copy(Tensor.rows(floats(a), 1000, 10), dx);           // host to device
            engine.copy(dx, dy);                                          // device to device
            ByteBuffer row = ByteBuffer.allocateDirect(40).order(ByteOrder.nativeOrder());
            row.asFloatBuffer().put(new float[] {1, 2, 3, 4, 5, 6, 7, 8, 9, 10});
            engine.copyFromHost(row, dy, 999 * 40);                       // the last row replaced
            ByteBuffer all = ByteBuffer.allocateDirect(a.length * 4).order(ByteOrder.nativeOrder());
            engine.copyToHost(dy, 0, all);
            float[] expected = a.clone();
            for (int c = 0; c < 10; c++) {
                expected[999 * 10 + c] = c + 1;
            }
            assertArrayEquals(expected, read(all));
            FloatBuffer back = floats(new float[a.length]);
            engine.copy(dx, Tensor.rows(back, 1000, 10));                 // device to host
            float[] got = new float[a.length];
            back.duplicate().get(got);
            assertArrayEquals(a, got);
            assertThrows(InvalidArgumentException.class, () -> engine.copyFromHost(row, dy, 1000 * 40));
        }
    }
}
