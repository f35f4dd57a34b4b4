package dev.dyepack;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

/** How an engine picks its backend, and how it explains the choice. */
class EngineSelectionTest {

    @Test
    void autoExplainsItsChoice() {
        CudaStatus cuda = CudaStatus.query();
        assertFalse(cuda.reason().isBlank(), "the CUDA probe must always give a reason");
        try (Engine e = Engine.open()) {
            if (cuda.available()) {
                assertEquals(Backend.CUDA, e.backend());
                assertEquals(0, e.device());
            } else {
                assertEquals(Backend.CPU, e.backend());
                assertEquals(-1, e.device());
                assertTrue(e.reason().contains(cuda.reason()), e.reason() + " should carry " + cuda.reason());
                assertTrue(cuda.devices().isEmpty() || cuda.state() == CudaStatus.State.NO_SUPPORTED_DEVICE);
            }
        }
    }

    @Test
    void cudaRequestWithoutGpuFailsWithTheReason() {
        CudaStatus cuda = CudaStatus.query();
        if (cuda.available()) {
            try (Engine e = Engine.open(Backend.CUDA)) {
                assertEquals(Backend.CUDA, e.backend());
            }
            assertThrows(InvalidArgumentException.class, () -> Engine.open(Backend.CUDA, cuda.devices().size()));
        } else {
            NoGpuException e = assertThrows(NoGpuException.class, () -> Engine.open(Backend.CUDA));
            assertTrue(e.getMessage().contains(cuda.reason()), e.getMessage());
        }
    }

    @Test
    void compiledArchitecturesAreReported() {
        CudaStatus cuda = CudaStatus.query();
        if (cuda.compiled()) {
            assertTrue(cuda.architectures().contains("sm_75") && cuda.architectures().contains("compute_"),
                    cuda.architectures());
        } else {
            assertEquals(CudaStatus.State.NOT_COMPILED, cuda.state());
            assertEquals("", cuda.architectures());
        }
    }

    @Test
    void badDeviceIndexIsRejected() {
        InvalidArgumentException e = assertThrows(InvalidArgumentException.class, () -> Engine.open(Backend.CPU, -1));
        assertTrue(e.getMessage().contains("device"), e.getMessage());
    }

    @Test
    void versionIsReported() {
        assertFalse(Engine.version().isBlank());
    }
}
