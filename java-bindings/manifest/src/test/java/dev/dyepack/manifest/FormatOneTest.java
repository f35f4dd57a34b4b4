package dev.dyepack.manifest;

import static java.nio.charset.StandardCharsets.UTF_8;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Manifests of format 1, written by DyePack before format 2, keep verifying. */
class FormatOneTest {
    @TempDir
    Path dir;

    /** Written by the format-1 writer (blend trigger with alpha 0.1, the sample's fields, Samples.key()). */
    private Path fixture() throws IOException {
        try (InputStream in = FormatOneTest.class.getResourceAsStream("format1-manifest.json")) {
            Path file = dir.resolve("manifest.json");
            Files.write(file, in.readAllBytes());
            return file;
        }
    }

    @Test
    void aFormatOneManifestVerifiesAndStaysFormatOne() throws IOException {
        Path file = fixture();
        Manifest m = ManifestReader.read(file);
        assertEquals(Manifest.FORMAT_1, m.format());
        assertTrue(ManifestSigner.verify(m, Samples.key()).ok());
        assertFalse(ManifestSigner.verify(m, Samples.otherKey()).ok());
        // Written again, it is the same file, byte for byte.
        Path again = dir.resolve("again.json");
        ManifestWriter.write(m, again);
        assertEquals(Files.readString(file, UTF_8), Files.readString(again, UTF_8));
    }

    @Test
    void anEditedFormatOneManifestFails() throws IOException {
        Path file = fixture();
        Files.writeString(file, Files.readString(file, UTF_8).replace("\"alpha\": 0.1", "\"alpha\": 0.2"));
        Verification v = ManifestSigner.verify(ManifestReader.read(file), Samples.key());
        assertEquals("failed: signature does not match: the manifest was changed or signed with another key", v.toString());
    }

    @Test
    void newManifestsAreFormatTwoWithTheRfc8785Form() {
        Manifest m = Samples.unsigned();
        assertEquals("dyepack-manifest/2", m.format());
        String canonical = new String(m.canonical(), UTF_8);
        assertTrue(canonical.startsWith("{\"budget\":{\"count\":20,\"fraction\":0.01,\"n\":2000,\"requested\":\"0.01\"},"
                + "\"created\":\"2025-03-01T12:34:56Z\",\"files\":[{\"path\":\"in/data.npy\",\"role\":\"data\""), canonical);
    }
}
