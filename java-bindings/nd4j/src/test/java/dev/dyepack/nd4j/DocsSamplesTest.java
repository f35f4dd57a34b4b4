package dev.dyepack.nd4j;

import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * Keeps the Java samples of docs/integrations.md honest: every line of every {@code java} block must
 * appear (ignoring indentation) in the tests and example that compile and run that code.
 */
class DocsSamplesTest {
    private static final Path ROOT = Path.of("../..");
    private static final List<Path> SOURCES = List.of(
            ROOT.resolve("cli/src/test/java/dev/dyepack/cli/PoisonerCliTest.java"),
            ROOT.resolve("java-bindings/nd4j/src/test/java/dev/dyepack/nd4j/Nd4jTensorsTest.java"),
            ROOT.resolve("java-bindings/nd4j/src/test/java/dev/dyepack/nd4j/Nd4jEngineOperationsTest.java"),
            // Compiled in CI; run where a GPU answers (tag gpu).
            ROOT.resolve("java-bindings/cuda-presets/src/test/java/dev/dyepack/cuda/GpuCudaPresetsTest.java"),
            ROOT.resolve("java-bindings/nd4j-cuda/src/test/java/dev/dyepack/nd4j/cuda/GpuNd4jCudaTest.java"),
            ROOT.resolve("examples/dl4j-poisoning/src/main/java/dev/dyepack/examples/dl4j/Dl4jPoisoningExample.java"));

    @Test
    void everySampleLineIsInCodeThatCiRuns() throws IOException {
        StringBuilder code = new StringBuilder();
        for (Path p : SOURCES) {
            for (String line : Files.readAllLines(p)) {
                code.append(line.strip()).append('\n');
            }
        }
        List<String> lines = Files.readAllLines(ROOT.resolve("docs/integrations.md"));
        List<String> missing = new ArrayList<>();
        int samples = 0;
        boolean inJava = false;
        for (String line : lines) {
            if (line.startsWith("```java")) {
                inJava = true;
                samples++;
            } else if (line.startsWith("```")) {
                inJava = false;
            } else if (inJava && !line.isBlank() && !code.toString().contains(line.strip() + "\n")) {
                missing.add(line);
            }
        }
        assertTrue(samples >= 3, "the page's Java samples were found: " + samples);
        assertTrue(missing.isEmpty(), "sample lines not in the code CI runs: " + missing);
    }
}
