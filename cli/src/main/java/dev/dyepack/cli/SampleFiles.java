package dev.dyepack.cli;

import dev.dyepack.io.EmbeddedSample;
import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Comparator;
import java.util.stream.Stream;

/** The embedded sample's images and labels, extracted to a temporary folder removed on close. */
final class SampleFiles implements AutoCloseable {
    private final Path dir;
    private final Path images;
    private final Path labels;

    private SampleFiles(Path dir) throws IOException {
        this.dir = dir;
        this.images = EmbeddedSample.extractImages(dir);
        this.labels = EmbeddedSample.extractLabels(dir);
    }

    /**
     * @param err where to say that the embedded sample is used
     * @return the extracted files
     * @throws IOException if they cannot be written
     */
    static SampleFiles extract(PrintWriter err) throws IOException {
        Path dir = Files.createTempDirectory("dyepack-sample");
        try {
            SampleFiles files = new SampleFiles(dir);
            err.println("using the embedded " + EmbeddedSample.description());
            return files;
        } catch (IOException | RuntimeException e) {
            deleteTree(dir);
            throw e;
        }
    }

    Path images() {
        return images;
    }

    Path labels() {
        return labels;
    }

    @Override
    public void close() throws IOException {
        deleteTree(dir);
    }

    private static void deleteTree(Path dir) throws IOException {
        try (Stream<Path> walk = Files.walk(dir)) {
            for (Path p : walk.sorted(Comparator.reverseOrder()).toList()) {
                Files.deleteIfExists(p);
            }
        }
    }
}
