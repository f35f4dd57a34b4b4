package dev.dyepack.cli;

import static java.nio.charset.StandardCharsets.UTF_8;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.awt.image.BufferedImage;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import javax.imageio.ImageIO;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * An auditor without DyePack: {@code scripts/verify_manifest.py} (standard-library Python, the same
 * text as in {@code docs/manifest-format.md}) accepts manifests the CLI wrote and refuses edited ones
 * and other keys.
 */
class ManifestPythonVerifierTest {
    private static final Path ROOT = Path.of("..").toAbsolutePath().normalize();
    private static final Path SCRIPT = ROOT.resolve("scripts/verify_manifest.py");
    private static final String SECRET = "auditor test key: 32 bytes long!";

    @TempDir
    Path dir;

    record Result(int code, String out) {}

    @BeforeAll
    static void python3IsThere() {
        assumeTrue(python3("--version").code() == 0, "python3 is not installed");
    }

    private static Result python3(String... args) {
        try {
            List<String> command = new java.util.ArrayList<>(List.of("python3"));
            command.addAll(List.of(args));
            Process p = new ProcessBuilder(command).redirectErrorStream(true).start();
            String out = new String(p.getInputStream().readAllBytes(), UTF_8);
            assertTrue(p.waitFor(60, TimeUnit.SECONDS), "python3 finished");
            return new Result(p.exitValue(), out.strip());
        } catch (IOException e) {
            return new Result(-1, e.toString());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return new Result(-1, e.toString());
        }
    }

    private Path key(String text) throws IOException {
        return Files.writeString(dir.resolve("key-" + text.hashCode()), text + "\n");
    }

    private void assertVerifies(Path manifest) throws IOException {
        Path key = key(SECRET);
        assertEquals(new Result(0, "valid"), python3(SCRIPT.toString(), manifest.toString(), key.toString(), "--files"));
        // An edit of a signed number, or the same bytes checked with another key, is refused.
        String text = Files.readString(manifest, UTF_8);
        Path edited = Files.writeString(dir.resolve("edited.json"), text.replaceFirst("\"count\": (\\d+)", "\"count\": 1$1"));
        Result r = python3(SCRIPT.toString(), edited.toString(), key.toString());
        assertEquals(1, r.code(), r.out());
        assertEquals("invalid: signature does not match: the manifest was changed or signed with another key", r.out());
        Result other = python3(SCRIPT.toString(), manifest.toString(), key("another owner's key").toString());
        assertEquals(1, other.code(), other.out());
        assertTrue(other.out().startsWith("invalid: the manifest records key dpk1:"), other.out());
    }

    @Test
    void npyManifestWithAFloatTriggerVerifiesInPython() throws IOException {
        Path out = dir.resolve("poisoned");
        CliTest.Run r = CliTriggerTest.run(Map.of("DYEPACK_KEY", SECRET), "poison", "--trigger",
                "blend:alpha=0.1", "--target", "0", "--budget", "0.02", "--out", out.toString());
        assertEquals(0, r.code(), r.err());
        String text = Files.readString(out.resolve("manifest.json"), UTF_8);
        assertTrue(text.contains("\"format\": \"dyepack-manifest/2\""), text);
        assertTrue(text.contains("\"alpha\": 0.1,"), "the float32 0.1 is recorded as 0.1");
        assertVerifies(out.resolve("manifest.json"));
    }

    @Test
    void imageFolderManifestVerifiesInPython() throws IOException {
        Path root = dir.resolve("shapes");
        for (String cls : List.of("circle", "square")) {
            Files.createDirectories(root.resolve(cls));
            for (int i = 0; i < 10; i++) {
                BufferedImage img = new BufferedImage(8, 8, BufferedImage.TYPE_BYTE_GRAY);
                img.getRaster().setSample(i % 8, i / 8, 0, 17 * i + cls.length());
                ImageIO.write(img, "png", root.resolve(cls).resolve(cls + "-" + i + ".png").toFile());
            }
        }
        Path out = dir.resolve("out");
        CliTest.Run r = CliTriggerTest.run(Map.of("DYEPACK_KEY", SECRET), "poison", "--data", root.toString(),
                "--trigger", "patch:size=2,pos=tl,value=255", "--target", "0", "--budget", "3",
                "--allow-over-5-percent", "--out", out.toString());
        assertEquals(0, r.code(), r.err());
        assertVerifies(out.resolve("manifest.json"));
    }

    @Test
    void theDocumentShowsTheScriptVerbatim() throws IOException {
        String doc = Files.readString(ROOT.resolve("docs/manifest-format.md"), UTF_8);
        String begin = "```python\n";
        int start = doc.indexOf(begin, doc.indexOf("<!-- verify_manifest.py -->"));
        assertTrue(start >= 0, "docs/manifest-format.md shows the verifier");
        int end = doc.indexOf("```\n", start + begin.length());
        assertEquals(Files.readString(SCRIPT, UTF_8), doc.substring(start + begin.length(), end));
    }
}
