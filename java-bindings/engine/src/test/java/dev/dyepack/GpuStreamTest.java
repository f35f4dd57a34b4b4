package dev.dyepack;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import dev.dyepack.key.OwnerKey;
import dev.dyepack.trigger.PreparedTrigger;
import dev.dyepack.trigger.TriggerContext;
import dev.dyepack.trigger.TriggerSpec;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.util.Random;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * Prepared triggers on CUDA, their operands resident on the device, applied batch by batch to device
 * batches on the engine's own streams and on a caller's stream, against the CPU, bit for bit. Skipped
 * (never passed) without a GPU.
 */
@Tag("gpu")
class GpuStreamTest {
    private static final OwnerKey KEY = new OwnerKey("gpu stream test key, 32 bytes!!!".getBytes(StandardCharsets.UTF_8));

    /**
     * {@code cudaStreamPerThread}: a stream handle the CUDA runtime defines for every thread, so the
     * test needs no CUDA bindings of its own to make one.
     */
    private static final long CUDA_STREAM_PER_THREAD = 0x2;

    @ParameterizedTest(name = "{0} {1} {2}")
    @CsvSource(delimiter = ';', value = {
        "patch:size=5,pattern=random,pos=random;UINT8;NHWC",
        "blend:alpha=0.7,pattern=noise;FLOAT32;NCHW",
        "sig:delta=30,freq=5;UINT8;NCHW",
        "lowfreq:amp=25,freqs=1x2+3x1,space=yuv;FLOAT32;NHWC",
        "warp:k=4,s=3;UINT8;NHWC",
        "noise:eps=9;UINT8;NCHW"})
    void preparedTriggersOnACallersStreamMatchTheCpu(String spec, DType dtype, Layout layout) {
        CudaStatus cuda = CudaStatus.query();
        assumeTrue(cuda.available(), "no usable GPU: " + cuda.reason());
        int n = 12;
        int c = 3;
        int h = 33;
        int w = 29;
        int per = n * c * h * w * dtype.bytes();
        int batches = 3;
        TriggerSpec t = TriggerSpec.parse(spec);
        TriggerContext ctx = new TriggerContext(KEY, 500);
        Tensor template = Tensor.empty(dtype, layout, c, h, w);
        long[] indices = {11, 0, 5, 7};
        try (Engine cpu = Engine.open(Backend.CPU);
                Engine gpu = Engine.open(Backend.CUDA);
                PreparedTrigger onCpu = t.prepare(cpu, template, ctx);
                PreparedTrigger onGpu = t.prepare(gpu, template, ctx);
                DeviceBuffer d = gpu.allocate(per)) {
            long uploads = gpu.operandUploads();
            for (boolean callersStream : new boolean[] {false, true}) {
                if (callersStream) {
                    gpu.useStream(CUDA_STREAM_PER_THREAD);
                    assertEquals(CUDA_STREAM_PER_THREAD, gpu.stream());
                }
                for (int b = 0; b < batches; b++) {
                    byte[] data = randomBytes(new Random(31L * b + spec.hashCode()), dtype, per);
                    ByteBuffer expected = direct(data);
                    onCpu.apply(view(expected, dtype, layout, n, c, h, w), indices, 500L + (long) b * n);
                    d.copyFrom(direct(data));
                    onGpu.apply(Tensor.onDevice(d, dtype, layout, n, c, h, w), indices, 500L + (long) b * n);
                    // On a caller's stream a device batch's results are in place once the stream passes them.
                    gpu.synchronize();
                    ByteBuffer got = direct(new byte[per]);
                    d.copyTo(got);
                    assertArrayEquals(bytes(expected), bytes(got), spec + " batch " + b + " caller's stream "
                            + callersStream);
                }
                gpu.useDefaultStream();
                assertEquals(0, gpu.stream());
            }
            assertEquals(uploads, gpu.operandUploads(), "applies uploaded operands again");
        }
    }

    private static byte[] randomBytes(Random rng, DType dtype, int bytes) {
        byte[] data = new byte[bytes];
        if (dtype == DType.UINT8) {
            rng.nextBytes(data);
        } else {
            ByteBuffer f = ByteBuffer.wrap(data).order(ByteOrder.nativeOrder());
            for (int i = 0; i < bytes / 4; i++) {
                f.putFloat(rng.nextFloat() * 255f);
            }
        }
        return data;
    }

    private static ByteBuffer direct(byte[] data) {
        return ByteBuffer.allocateDirect(data.length).order(ByteOrder.nativeOrder()).put(data).flip();
    }

    private static byte[] bytes(ByteBuffer b) {
        byte[] out = new byte[b.capacity()];
        b.duplicate().rewind().get(out);
        return out;
    }

    private static Tensor view(ByteBuffer b, DType dtype, Layout layout, int n, int c, int h, int w) {
        return dtype == DType.UINT8 ? Tensor.of(b, layout, n, c, h, w)
                : Tensor.of(b.duplicate().order(ByteOrder.nativeOrder()).asFloatBuffer(), layout, n, c, h, w);
    }
}
