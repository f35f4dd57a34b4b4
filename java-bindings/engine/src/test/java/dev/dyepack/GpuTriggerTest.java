package dev.dyepack;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import dev.dyepack.key.OwnerKey;
import dev.dyepack.trigger.TriggerContext;
import dev.dyepack.trigger.TriggerSpec;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.util.Random;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/** Every image family on CUDA against the CPU, bit for bit. Skipped (never passed) without a GPU. */
@Tag("gpu")
class GpuTriggerTest {
    private static final OwnerKey KEY = new OwnerKey("gpu trigger test key, 32 bytes!!".getBytes(StandardCharsets.UTF_8));

    @ParameterizedTest(name = "{0} {1} {2} device={3}")
    @CsvSource(delimiter = ';', value = {
        "patch:size=5,pattern=random,pos=random;UINT8;NHWC;true",
        "patch:size=3,pattern=checker,pos=center;FLOAT32;NCHW;false",
        "blend:alpha=0.3,pattern=noise;UINT8;NCHW;false",
        "blend:alpha=0.7,pattern=noise;FLOAT32;NHWC;true",
        "sig:delta=30,freq=5;UINT8;NHWC;false",
        "lowfreq:amp=25,freqs=1x2+3x1,space=yuv;UINT8;NCHW;true",
        "warp:k=4,s=3;UINT8;NHWC;true",
        "warp:k=8,s=1.5;FLOAT32;NCHW;false",
        "noise:eps=9;UINT8;NCHW;true",
        "noise:eps=0.25;FLOAT32;NHWC;false",
        "sparse:n=192,cell=4;UINT8;NHWC;true",
        "sparse:n=192,cell=4;UINT8;NCHW;false",
        "sparse:n=40,alpha=0.5,value=0.9,low=0.1;FLOAT32;NCHW;true",
        "dct:rms=20,lo=1,hi=8;UINT8;NHWC;true",
        "dct:rms=0.1,lo=2,hi=12;FLOAT32;NCHW;false"})
    void cudaMatchesCpu(String spec, DType dtype, Layout layout, boolean device) {
        CudaStatus cuda = CudaStatus.query();
        assumeTrue(cuda.available(), "no usable GPU: " + cuda.reason());
        int n = 29;
        int c = 3;
        int h = 37;
        int w = 41;
        int bytes = n * c * h * w * dtype.bytes();
        byte[] data = new byte[bytes];
        Random rng = new Random(spec.hashCode());
        if (dtype == DType.UINT8) {
            rng.nextBytes(data);
        } else {
            ByteBuffer f = ByteBuffer.wrap(data).order(ByteOrder.nativeOrder());
            for (int i = 0; i < n * c * h * w; i++) {
                f.putFloat(rng.nextFloat());
            }
        }
        long[] indices = {28, 3, 11, 0, 17};
        TriggerSpec t = TriggerSpec.parse(spec);
        TriggerContext ctx = new TriggerContext(KEY, 1000);
        ByteBuffer cpuBuf = ByteBuffer.allocateDirect(bytes).order(ByteOrder.nativeOrder()).put(data).flip();
        ByteBuffer gpuBuf = ByteBuffer.allocateDirect(bytes).order(ByteOrder.nativeOrder()).put(data).flip();
        try (Engine cpu = Engine.open(Backend.CPU); Engine gpu = Engine.open(Backend.CUDA)) {
            t.apply(cpu, view(cpuBuf, dtype, layout, n, c, h, w), indices, ctx);
            if (device) {
                try (DeviceBuffer d = gpu.allocate(bytes)) {
                    d.copyFrom(gpuBuf);
                    t.apply(gpu, Tensor.onDevice(d, dtype, layout, n, c, h, w), indices, ctx);
                    d.copyTo(gpuBuf);
                }
            } else {
                t.apply(gpu, view(gpuBuf, dtype, layout, n, c, h, w), indices, ctx);
            }
        }
        byte[] a = new byte[bytes];
        byte[] b = new byte[bytes];
        cpuBuf.get(a);
        gpuBuf.get(b);
        assertArrayEquals(a, b);
    }

    private static Tensor view(ByteBuffer b, DType dtype, Layout layout, int n, int c, int h, int w) {
        return dtype == DType.UINT8 ? Tensor.of(b, layout, n, c, h, w)
                : Tensor.of(b.duplicate().order(ByteOrder.nativeOrder()).asFloatBuffer(), layout, n, c, h, w);
    }
}
