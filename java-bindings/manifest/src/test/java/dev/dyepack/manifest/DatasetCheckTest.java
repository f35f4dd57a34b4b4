package dev.dyepack.manifest;

import static java.nio.charset.StandardCharsets.UTF_8;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import dev.dyepack.InvalidArgumentException;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class DatasetCheckTest {
    @TempDir
    Path dir;

    private Manifest manifest;

    private static String sha256(byte[] content) throws Exception {
        return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(content));
    }

    private Path write(String name, String content) throws IOException {
        Path f = dir.resolve(name);
        Files.createDirectories(f.getParent());
        return Files.writeString(f, content, UTF_8);
    }

    @BeforeEach
    void runAndRecord() throws IOException {
        Path inData = write("in/data.npy", "clean samples");
        Path outData = write("run/out/data.npy", "poisoned samples");
        Path outLabels = write("run/out/labels.npy", "labels");
        Path runDir = dir.resolve("run");
        manifest = Samples.withoutFiles()
                .addFile(Manifest.DatasetFile.of(Manifest.Stage.INPUT, Manifest.Role.DATA, runDir, inData))
                .addFile(Manifest.DatasetFile.of(Manifest.Stage.OUTPUT, Manifest.Role.DATA, runDir, outData))
                .addFile(Manifest.DatasetFile.of(Manifest.Stage.OUTPUT, Manifest.Role.LABELS, runDir, outLabels))
                .build();
    }

    @Test
    void filesAreRecordedRelativeToTheManifestWithTheirHashes() throws Exception {
        assertEquals(List.of("../in/data.npy", "out/data.npy", "out/labels.npy"),
                manifest.files().stream().map(Manifest.DatasetFile::path).toList());
        assertEquals(sha256("poisoned samples".getBytes(UTF_8)), manifest.files().get(1).sha256());
    }

    @Test
    void anUnchangedDatasetHasNoFindings() {
        assertEquals(List.of(), DatasetCheck.compare(manifest, dir.resolve("run")));
        assertEquals(List.of(), DatasetCheck.compare(manifest, dir.resolve("run"),
                Map.of("output.data", dir.resolve("run/out/data.npy"), "output.labels", dir.resolve("run/out/labels.npy"))));
    }

    @Test
    void aChangedFileIsNamedWithoutItsOwnDigest() throws Exception {
        String recorded = manifest.files().get(1).sha256();
        write("run/out/data.npy", "poisoned samples, then edited");
        String now = sha256("poisoned samples, then edited".getBytes(UTF_8));
        List<String> findings = DatasetCheck.compare(manifest, dir.resolve("run"));
        assertEquals(List.of("output.data: out/data.npy is not the file the manifest records (its SHA-256 differs "
                + "from the recorded " + recorded + ")"), findings);
        // The digest of what is there is never told: it would be a hash oracle over any file.
        assertFalse(findings.get(0).contains(now), findings.get(0));
        // A file given elsewhere is shown relative to the manifest's directory, like the recorded paths.
        Path copy = Files.copy(dir.resolve("run/out/data.npy"), dir.resolve("copy.npy"));
        assertEquals(List.of("output.data: ../copy.npy is not the file the manifest records (its SHA-256 differs "
                + "from the recorded " + recorded + ")"), DatasetCheck.compare(manifest, dir.resolve("run"),
                Map.of("output.data", copy)));
    }

    @Test
    void linksAndSpecialFilesAreFindingsAndNeverRead() throws Exception {
        Path outData = dir.resolve("run/out/data.npy");
        Files.move(outData, dir.resolve("elsewhere.npy"));
        Files.createSymbolicLink(outData, dir.resolve("elsewhere.npy"));
        assertEquals(List.of("output.data: out/data.npy is a symbolic link, not the file the manifest records "
                + "(links are not followed)"), DatasetCheck.compare(manifest, dir.resolve("run"),
                Map.of("output.data", outData)));
        // A FIFO would block a read forever; it is named, not opened.
        Path fifo = dir.resolve("run/out/fifo");
        assumeTrue(new ProcessBuilder("mkfifo", fifo.toString()).start().waitFor() == 0, "mkfifo unavailable");
        assertEquals(List.of("output.labels: out/fifo is a device, FIFO or other special file, not the file the "
                + "manifest records"), DatasetCheck.compare(manifest, dir.resolve("run"), Map.of("output.labels", fifo)));
    }

    @Test
    void missingFilesAreNamed() throws IOException {
        Files.delete(dir.resolve("in/data.npy"));
        Files.delete(dir.resolve("run/out/labels.npy"));
        assertEquals(List.of("input.data: ../in/data.npy is missing", "output.labels: out/labels.npy is missing"),
                DatasetCheck.compare(manifest, dir.resolve("run")));
    }

    @Test
    void filesTheManifestDoesNotRecordAreNamedAndUnknownKeysRefused() {
        assertEquals(List.of("input.labels: the manifest records no such file"),
                DatasetCheck.compare(manifest, dir.resolve("run"), Map.of("input.labels", dir.resolve("x.npy"))));
        assertThrows(InvalidArgumentException.class,
                () -> DatasetCheck.compare(manifest, dir, Map.of("data", dir.resolve("x.npy"))));
    }
}
