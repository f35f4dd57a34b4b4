package dev.dyepack.cuda;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.dyepack.Backend;
import dev.dyepack.DType;
import dev.dyepack.Engine;
import dev.dyepack.InvalidArgumentException;
import dev.dyepack.Layout;
import dev.dyepack.Tensor;
import org.bytedeco.cuda.cudart.CUstream_st;
import org.bytedeco.javacpp.FloatPointer;
import org.bytedeco.javacpp.Pointer;
import org.junit.jupiter.api.Test;

/**
 * What the presets integration refuses before anything reaches a device, on any machine: the CPU
 * engine refuses a caller's stream and a device batch (typed, the address never read), and a batch
 * larger than its pointer, a null pointer or a pointer of another element type are refused.
 */
class CudaPresetsCheckTest {
    /** A plain Pointer at an address no one may read: the checks must refuse it before any access. */
    private static Pointer at(long value) {
        // Inside the subclass `address` names Pointer's field, so the parameter has another name.
        Pointer p = new Pointer() {
            {
                address = value;
            }
        };
        return new Pointer(p);
    }

    private static CUstream_st stream(long address) {
        return new CUstream_st(at(address));
    }

    @Test
    void theCpuEngineRefusesACallersStreamAndKeepsItsOwn() {
        try (Engine cpu = Engine.open(Backend.CPU)) {
            InvalidArgumentException e = assertThrows(InvalidArgumentException.class,
                    () -> CudaPresets.onStream(cpu, stream(0x7f00_0000_1000L)));
            assertTrue(e.getMessage().contains("CPU engine"), e.getMessage());
            assertEquals(0, cpu.stream());
            // Stream handle 0 is CUDA's legacy default stream, which a CPU engine refuses as well.
            assertEquals(CudaPresets.CUDA_STREAM_LEGACY, CudaPresets.address(new CUstream_st()));
            assertThrows(InvalidArgumentException.class, () -> CudaPresets.onStream(cpu, new CUstream_st()));
        }
    }

    @Test
    void theCpuEngineRefusesADeviceBatchWithoutReadingIt() {
        try (Engine cpu = Engine.open(Backend.CPU)) {
            // An address that would crash the JVM if it were read: the refusal must come first.
            Tensor batch = CudaPresets.batch(at(0x10), 4L * 3 * 8 * 8, DType.UINT8, Layout.NHWC, 4, 3, 8, 8);
            assertTrue(batch.isDevice());
            float[] pattern = new float[3 * 8 * 8];
            float[] mask = new float[3 * 8 * 8];
            InvalidArgumentException e = assertThrows(InvalidArgumentException.class,
                    () -> cpu.maskBlend(batch, pattern, mask, 1f, null));
            assertTrue(e.getMessage().contains("device memory") && e.getMessage().contains("CPU"), e.getMessage());
            Tensor rows = CudaPresets.rows(at(0x10), 4L * 5 * 4, 4, 5);
            e = assertThrows(InvalidArgumentException.class,
                    () -> cpu.scoreBoundary(rows, new float[10], new float[2], -1));
            assertTrue(e.getMessage().contains("device memory"), e.getMessage());
        }
    }

    @Test
    void aBatchLargerThanItsPointerANullPointerOrAMismatchedTypeAreRefused() {
        // Stated extent: 2 images of 3x8x8 uint8 fit in 384 bytes, 3 do not.
        CudaPresets.batch(at(0x1000), 384, DType.UINT8, Layout.NCHW, 2, 3, 8, 8);
        InvalidArgumentException e = assertThrows(InvalidArgumentException.class,
                () -> CudaPresets.batch(at(0x1000), 384, DType.UINT8, Layout.NCHW, 3, 3, 8, 8));
        assertTrue(e.getMessage().contains("576 bytes") && e.getMessage().contains("384"), e.getMessage());
        // Extent JavaCPP knows: a capacity of 100 floats from position 10 leaves 90 floats = 360 bytes.
        Pointer known = at(0x2000).capacity(400).position(40);
        assertThrows(InvalidArgumentException.class, () -> CudaPresets.rows(known, -1, 1, 361));
        try (FloatPointer host = new FloatPointer(100)) {
            host.position(10);
            CudaPresets.batch(host, DType.FLOAT32, Layout.NHWC, 1, 1, 1, 90);
            e = assertThrows(InvalidArgumentException.class,
                    () -> CudaPresets.batch(host, DType.FLOAT32, Layout.NHWC, 1, 1, 1, 91));
            assertTrue(e.getMessage().contains("360"), e.getMessage());
            e = assertThrows(InvalidArgumentException.class,
                    () -> CudaPresets.batch(host, DType.UINT8, Layout.NHWC, 1, 1, 1, 4));
            assertTrue(e.getMessage().contains("FloatPointer"), e.getMessage());
        }
        e = assertThrows(InvalidArgumentException.class,
                () -> CudaPresets.batch(new Pointer(), 64, DType.UINT8, Layout.NHWC, 1, 1, 8, 8));
        assertTrue(e.getMessage().contains("null"), e.getMessage());
    }
}
