package dev.dyepack.surrogate;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import dev.dyepack.Backend;
import dev.dyepack.CudaStatus;
import dev.dyepack.Engine;
import dev.dyepack.key.OwnerKey;
import java.nio.charset.StandardCharsets;
import java.util.Random;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * The surrogate fitted on a CUDA engine (on the device) against the CPU engine's: the same head, bit for bit,
 * so boundary selection picks the same samples on a GPU server as on a laptop. Skipped (never passed) without
 * a GPU.
 */
@Tag("gpu")
class GpuLinearSurrogateTest {
    private static final OwnerKey KEY = new OwnerKey("gpu surrogate test key, 32 bytes".getBytes(StandardCharsets.UTF_8));

    @ParameterizedTest(name = "n={0} d={1} classes={2}")
    @CsvSource({"1, 3, 2", "37, 31, 2", "500, 784, 10", "300, 1024, 100"})
    void deviceFitMatchesCpu(int n, int d, int classes) {
        CudaStatus cuda = CudaStatus.query();
        assumeTrue(cuda.available(), "no usable GPU: " + cuda.reason());
        Random rng = new Random(31L * n + d);
        float[] x = new float[n * d];
        long[] labels = new long[n];
        for (int i = 0; i < n; i++) {
            labels[i] = rng.nextInt(classes);
            for (int e = 0; e < d; e++) {
                x[i * d + e] = rng.nextFloat() * 2 - 1 + (e % classes == labels[i] ? 1 : 0);
            }
        }
        float[] before = x.clone();
        try (Engine cpu = Engine.open(Backend.CPU); Engine gpu = Engine.open(Backend.CUDA)) {
            assertEquals(Backend.CUDA, gpu.backend());
            LinearHead a = LinearSurrogate.fit(cpu, x, n, d, labels, classes, KEY, LinearSurrogate.Settings.DEFAULT);
            LinearHead b = LinearSurrogate.fit(gpu, x, n, d, labels, classes, KEY, LinearSurrogate.Settings.DEFAULT);
            assertArrayEquals(a.weight(), b.weight(), 0.0f, "weights differ from the CPU fit");
            assertArrayEquals(a.bias(), b.bias(), 0.0f, "biases differ from the CPU fit");
            for (int i = 0; i < a.weight().length; i++) {
                assertEquals(Float.floatToRawIntBits(a.weight()[i]), Float.floatToRawIntBits(b.weight()[i]),
                        "weight " + i);
            }
        }
        assertArrayEquals(before, x, 0.0f, "the features were changed");
    }
}
