package dev.dyepack;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.nio.ByteBuffer;
import java.util.Random;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/** CUDA against the CPU backend, bit for bit. Skipped (never passed) where no GPU answers. */
@Tag("gpu")
class GpuMaskBlendTest {

    private static void requireGpu() {
        CudaStatus cuda = CudaStatus.query();
        assumeTrue(cuda.available(), "no usable GPU: " + cuda.reason());
    }

    @ParameterizedTest(name = "{0} N={1} C={2} H={3} W={4} device={5} all={6}")
    @CsvSource({"UINT8,1,1,1,1,true,true", "UINT8,37,3,41,37,false,false", "UINT8,64,3,224,224,false,true",
        "FLOAT32,5,4,37,41,true,false", "FLOAT32,40,3,224,224,false,false", "UINT8,0,3,8,8,true,true",
        "FLOAT32,129,1,1,129,true,true"})
    void cudaMatchesCpu(DType dtype, int n, int c, int h, int w, boolean device, boolean all) {
        requireGpu();
        Random rng = new Random(n * 31L + h);
        int e = c * h * w;
        float[] pattern = BlendReference.randomPattern(rng, e);
        float[] mask = BlendReference.randomMask(rng, e);
        long[] indices = null;
        if (!all) {
            indices = rng.longs(0, n).distinct().limit(n / 2).toArray();
        }
        int bytes = n * e * dtype.bytes();
        byte[] data = new byte[bytes];
        if (dtype == DType.UINT8) {
            rng.nextBytes(data);
        } else {
            ByteBuffer f = ByteBuffer.wrap(data).order(java.nio.ByteOrder.nativeOrder());
            for (int i = 0; i < n * e; i++) {
                f.putFloat(rng.nextFloat() * 300f - 20f);
            }
        }
        ByteBuffer cpuBuf = BlendReference.direct(data);
        ByteBuffer gpuBuf = BlendReference.direct(data);
        try (Engine cpu = Engine.open(Backend.CPU); Engine gpu = Engine.open(Backend.CUDA)) {
            cpu.maskBlend(view(cpuBuf, dtype, n, c, h, w), pattern, mask, 0.4f, indices);
            if (device && bytes > 0) {
                try (DeviceBuffer d = gpu.allocate(bytes)) {
                    d.copyFrom(gpuBuf);
                    gpu.maskBlend(Tensor.onDevice(d, dtype, Layout.NHWC, n, c, h, w), pattern, mask, 0.4f, indices);
                    d.copyTo(gpuBuf);
                }
            } else {
                gpu.maskBlend(view(gpuBuf, dtype, n, c, h, w), pattern, mask, 0.4f, indices);
            }
        }
        assertArrayEquals(BlendReference.bytes(cpuBuf), BlendReference.bytes(gpuBuf));
    }

    private static Tensor view(ByteBuffer b, DType dtype, int n, int c, int h, int w) {
        return dtype == DType.UINT8 ? Tensor.of(b, Layout.NHWC, n, c, h, w)
                : Tensor.of(b.duplicate().order(java.nio.ByteOrder.nativeOrder()).asFloatBuffer(), Layout.NHWC, n, c, h,
                        w);
    }

    @Test
    void hostPointerAsDeviceMemoryIsRejected() {
        requireGpu();
        ByteBuffer host = ByteBuffer.allocateDirect(16);
        try (Engine gpu = Engine.open(Backend.CUDA)) {
            InvalidArgumentException e = org.junit.jupiter.api.Assertions.assertThrows(InvalidArgumentException.class,
                    () -> gpu.maskBlend(Tensor.onDevice(Tensor.of(host, Layout.NHWC, 1, 1, 4, 4).address(), DType.UINT8,
                            Layout.NHWC, 1, 1, 4, 4), new float[16], new float[16], 1f, null));
            org.junit.jupiter.api.Assertions.assertTrue(e.getMessage().contains("device memory"), e.getMessage());
        }
    }
}
