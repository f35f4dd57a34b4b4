package dev.dyepack.nd4j.cuda;

import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.dyepack.Backend;
import dev.dyepack.Engine;
import dev.dyepack.InvalidArgumentException;
import org.junit.jupiter.api.Test;
import org.nd4j.linalg.factory.Nd4j;

/** What the ND4J CUDA path refuses on any machine: a CPU engine; and it knows ND4J runs on its CPU backend here. */
class Nd4jCudaChecksTest {
    @Test
    void aCpuEngineIsRefusedWithTheWayOut() {
        try (Engine cpu = Engine.open(Backend.CPU)) {
            InvalidArgumentException e = assertThrows(InvalidArgumentException.class, () -> new Nd4jCudaEngine(cpu));
            assertTrue(e.getMessage().contains("CUDA engine") && e.getMessage().contains("Nd4jEngine"), e.getMessage());
        }
    }

    @Test
    void nd4jOnItsCpuBackendIsToldApartFromCuda() {
        // The test class path holds ND4J's CPU backend (and the CUDA backend's Java classes without natives).
        Nd4j.create(2, 2);
        assertFalse(Nd4jCudaEngine.nd4jOnCuda(), Nd4j.getBackend().getClass().getName());
    }
}
