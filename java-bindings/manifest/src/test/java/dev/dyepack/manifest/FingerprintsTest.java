package dev.dyepack.manifest;

import static java.nio.charset.StandardCharsets.US_ASCII;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.dyepack.InvalidInputException;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.util.HexFormat;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class FingerprintsTest {
    @TempDir
    Path dir;

    @Test
    void knownAnswers() throws IOException {
        // FIPS 180-2, appendix B.1, and the hash of nothing.
        assertEquals("ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad",
                Fingerprints.sha256(Files.write(dir.resolve("abc"), "abc".getBytes(US_ASCII))));
        assertEquals("e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
                Fingerprints.sha256(Files.write(dir.resolve("empty"), new byte[0])));
        // FIPS 180-2, appendix B.2 (two blocks).
        assertEquals("248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1",
                Fingerprints.sha256(Files.write(dir.resolve("two-blocks"),
                        "abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq".getBytes(US_ASCII))));
    }

    @Test
    void filesLargerThanTheBufferAreHashedWhole() throws Exception {
        byte[] content = new byte[3 * 65536 + 17];
        new Random(7).nextBytes(content);
        Path f = Files.write(dir.resolve("big.bin"), content);
        String expected = HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(content));
        assertEquals(expected, Fingerprints.sha256(f));
    }

    @Test
    void unreadableInputsNameTheFile() {
        Path missing = dir.resolve("missing.npy");
        InvalidInputException e = assertThrows(InvalidInputException.class, () -> Fingerprints.sha256(missing));
        assertEquals(missing + ": does not exist", e.getMessage());
    }

    @Test
    void directoriesHashTheirFilesByRelativePath() throws Exception {
        Path root = dir.resolve("ds");
        Files.createDirectories(root.resolve("b"));
        Files.createDirectories(root.resolve("a"));
        Files.writeString(root.resolve("b/x.png"), "two");
        Files.writeString(root.resolve("a/y.png"), "one");
        MessageDigest md = MessageDigest.getInstance("SHA-256");
        HexFormat hex = HexFormat.of();
        String expected = hex.formatHex(md.digest(("a/y.png\0" + hex.formatHex(MessageDigest.getInstance("SHA-256")
                .digest("one".getBytes(StandardCharsets.UTF_8))) + "\nb/x.png\0" + hex.formatHex(
                MessageDigest.getInstance("SHA-256").digest("two".getBytes(StandardCharsets.UTF_8))) + "\n")
                .getBytes(StandardCharsets.UTF_8)));
        assertEquals(expected, Fingerprints.sha256(root));
        Files.move(root.resolve("b/x.png"), root.resolve("a/x.png"));
        assertTrue(!expected.equals(Fingerprints.sha256(root)), "moving a file between classes changes the hash");
    }

    @Test
    void pathsAreRelativeToTheBaseWhenPossible() {
        Path base = dir.resolve("run");
        assertEquals(Path.of("out", "data.npy"), Fingerprints.relativize(base, base.resolve("out/data.npy")));
        assertEquals(Path.of("..", "in", "data.npy"), Fingerprints.relativize(base, dir.resolve("in/data.npy")));
        assertEquals(Path.of("x.npy"), Fingerprints.relativize(base, base.resolve("a/../x.npy")));
        // A relative file is taken from the working directory, like every other path the user gives.
        Path cwd = Path.of("").toAbsolutePath();
        assertEquals(Path.of("labels.npy"), Fingerprints.relativize(cwd, Path.of("labels.npy")));
        assertEquals("out/data.npy", Fingerprints.portable(Path.of("out", "data.npy")));
    }
}
