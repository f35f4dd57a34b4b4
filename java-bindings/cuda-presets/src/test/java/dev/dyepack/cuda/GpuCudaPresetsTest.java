package dev.dyepack.cuda;

import static org.bytedeco.cuda.global.cudart.cudaFree;
import static org.bytedeco.cuda.global.cudart.cudaMalloc;
import static org.bytedeco.cuda.global.cudart.cudaMemcpyAsync;
import static org.bytedeco.cuda.global.cudart.cudaMemcpyDeviceToHost;
import static org.bytedeco.cuda.global.cudart.cudaMemcpyHostToDevice;
import static org.bytedeco.cuda.global.cudart.cudaStreamCreate;
import static org.bytedeco.cuda.global.cudart.cudaStreamDestroy;
import static org.bytedeco.cuda.global.cudart.cudaStreamSynchronize;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import dev.dyepack.Backend;
import dev.dyepack.CudaStatus;
import dev.dyepack.DType;
import dev.dyepack.Engine;
import dev.dyepack.InvalidArgumentException;
import dev.dyepack.Layout;
import dev.dyepack.Tensor;
import dev.dyepack.key.OwnerKey;
import dev.dyepack.trigger.TriggerContext;
import dev.dyepack.trigger.TriggerSpec;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.Random;
import org.bytedeco.cuda.cudart.CUstream_st;
import org.bytedeco.javacpp.BytePointer;
import org.bytedeco.javacpp.Loader;
import org.bytedeco.javacpp.Pointer;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

/**
 * The CUDA engine on a stream and device memory made with the JavaCPP CUDA presets, against the CPU
 * engine on the same bytes. The copies in, the engine's work and the copy out are queued on the
 * caller's stream without a wait between them, so a result equal to the CPU's shows the work was
 * ordered on that stream. Skipped (never passed) without a device, or where the presets' natives or
 * the CUDA 13 runtime cannot be loaded.
 */
@Tag("gpu")
class GpuCudaPresetsTest {
    private static final OwnerKey KEY = new OwnerKey("presets stream test key, 32 bytes".getBytes(
            StandardCharsets.UTF_8));

    @BeforeAll
    static void needsDeviceAndPresets() {
        CudaStatus cuda = CudaStatus.query();
        assumeTrue(cuda.available(), "no usable GPU: " + cuda.reason());
        try {
            Loader.load(org.bytedeco.cuda.global.cudart.class);
        } catch (Throwable e) {
            assumeTrue(false, "the JavaCPP CUDA presets' natives or the CUDA runtime could not be loaded: " + e);
        }
    }

    private static void ok(int status, String what) {
        assertEquals(0, status, what + " failed with CUDA error " + status);
    }

    @Test
    void triggersOnACallersStreamAndDeviceMemoryMatchTheCpuBitForBit() {
        int n = 64;
        int c = 3;
        int h = 96;
        int w = 80;
        long bytes = (long) n * c * h * w;
        byte[] clean = new byte[(int) bytes];
        new Random(5).nextBytes(clean);
        long[] indices = {63, 0, 17, 40, 41};
        for (String spec : new String[] {"patch:size=7,pattern=random,pos=random", "blend:alpha=0.3,pattern=noise",
                "warp:k=4,s=2", "noise:eps=6"}) {
            TriggerSpec t = TriggerSpec.parse(spec);
            TriggerContext ctx = new TriggerContext(KEY, 1000);
            ByteBuffer expected = ByteBuffer.allocateDirect(clean.length);
            expected.put(clean).flip();
            try (Engine cpu = Engine.open(Backend.CPU)) {
                t.apply(cpu, Tensor.of(expected, Layout.NHWC, n, c, h, w), indices, ctx);
            }
            CUstream_st stream = new CUstream_st();
            ok(cudaStreamCreate(stream), "cudaStreamCreate");
            BytePointer host = new BytePointer(bytes);
            BytePointer device = new BytePointer();
            try (Engine gpu = Engine.open(Backend.CUDA)) {
                ok(cudaMalloc(device, bytes), "cudaMalloc");
                host.put(clean);
                try (StreamBinding on = CudaPresets.onStream(gpu, stream)) {
                    assertEquals(stream.address(), on.stream());
                    assertEquals(on.stream(), gpu.stream());
                    ok(cudaMemcpyAsync(device, host, bytes, cudaMemcpyHostToDevice, stream), "copy in");
                    t.apply(gpu, CudaPresets.batch(device, bytes, DType.UINT8, Layout.NHWC, n, c, h, w), indices, ctx);
                    ok(cudaMemcpyAsync(host, device, bytes, cudaMemcpyDeviceToHost, stream), "copy out");
                    ok(cudaStreamSynchronize(stream), "cudaStreamSynchronize");
                }
                assertEquals(0, gpu.stream());
                byte[] got = new byte[clean.length];
                host.get(got);
                byte[] want = new byte[clean.length];
                expected.get(want);
                assertArrayEquals(want, got, spec);
            } finally {
                cudaFree(device);
                host.close();
                cudaStreamDestroy(stream);
            }
        }
    }

    @Test
    void hostMemoryHandedToADeviceOnlyCallIsRefusedAndLeftAlone() {
        try (Engine gpu = Engine.open(Backend.CUDA); BytePointer host = new BytePointer(3 * 8 * 8)) {
            byte[] before = new byte[3 * 8 * 8];
            new Random(9).nextBytes(before);
            host.put(before);
            // A host pointer described as a device batch: CUDA reports it as host memory.
            Tensor lie = CudaPresets.batch(new Pointer(host), DType.UINT8, Layout.NHWC, 1, 3, 8, 8);
            float[] ones = new float[3 * 8 * 8];
            java.util.Arrays.fill(ones, 1f);
            InvalidArgumentException e = assertThrows(InvalidArgumentException.class,
                    () -> gpu.maskBlend(lie, new float[3 * 8 * 8], ones, 1f, null));
            assertTrue(e.getMessage().contains("not"), e.getMessage());
            byte[] after = new byte[before.length];
            host.get(after);
            assertArrayEquals(before, after);
        }
    }
}
