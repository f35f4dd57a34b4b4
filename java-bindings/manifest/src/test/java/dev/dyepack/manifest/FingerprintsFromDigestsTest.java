package dev.dyepack.manifest;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.dyepack.InvalidArgumentException;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** A folder's fingerprint from digests a job already holds equals the one read from the disk. */
class FingerprintsFromDigestsTest {
    @TempDir
    Path dir;

    private static String hex(byte[] bytes) {
        try {
            return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(bytes));
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }

    @Test
    void digestsGiveTheFingerprintOfTheFolderHoldingThoseFiles() throws IOException {
        Path root = Files.createDirectories(dir.resolve("set"));
        Map<String, String> digests = new LinkedHashMap<>();
        String[] names = {"b/2.png", "a/10.png", "a/9.png", "b/1.jpg"};
        for (int i = 0; i < names.length; i++) {
            byte[] content = ("image " + i).getBytes(StandardCharsets.US_ASCII);
            Path f = root.resolve(names[i]);
            Files.createDirectories(f.getParent());
            Files.write(f, content);
            digests.put(names[i], hex(content));
        }
        // Hand-made reference: the lines in byte order, a/10 < a/9 < b/1 < b/2.
        String lines = "a/10.png\0" + digests.get("a/10.png") + "\n" + "a/9.png\0" + digests.get("a/9.png") + "\n"
                + "b/1.jpg\0" + digests.get("b/1.jpg") + "\n" + "b/2.png\0" + digests.get("b/2.png") + "\n";
        String expected = hex(lines.getBytes(StandardCharsets.UTF_8));
        assertEquals(expected, Fingerprints.treeSha256(digests));
        assertEquals(expected, Fingerprints.treeSha256(root));
        // Known digests of some files, the others read: still the same fingerprint.
        assertEquals(expected, Fingerprints.treeSha256(root, Map.of("a/9.png", digests.get("a/9.png"))));
        // A file the digests do not list is read: it changes the fingerprint.
        Files.write(root.resolve("a/.hidden"), new byte[] {1});
        assertNotEquals(expected, Fingerprints.treeSha256(root, digests));
    }

    @Test
    void namesOutsideAsciiSortAfterAsciiNamesAsUnsignedBytes() {
        // The documented order (docs/manifest-format.md, and its Python verifier's sorted() of bytes) compares
        // UTF-8 bytes as unsigned: "\u00e9" (0xC3 0xA9) comes after "z". A signed comparison would put it first.
        // (Digests given, not files: a file system's name encoding depends on the machine's locale.)
        String z = hex(new byte[] {1});
        String accented = hex(new byte[] {2});
        String lines = "z.png\0" + z + "\n" + "\u00e9t\u00e9.png\0" + accented + "\n";
        String expected = hex(lines.getBytes(StandardCharsets.UTF_8));
        assertEquals(expected, Fingerprints.treeSha256(Map.of("\u00e9t\u00e9.png", accented, "z.png", z)));
    }

    @Test
    void malformedEntriesAreRefused() {
        assertThrows(InvalidArgumentException.class, () -> Fingerprints.treeSha256((Map<String, String>) null));
        assertThrows(InvalidArgumentException.class, () -> Fingerprints.treeSha256(Map.of("a.png", "abc")));
        assertThrows(InvalidArgumentException.class,
                () -> Fingerprints.treeSha256(Map.of("/a.png", hex(new byte[0]))));
        // A digest must be exactly 64 lowercase hex digits: one too many or too few, an uppercase digit, a
        // letter past f, a character just outside each digit range.
        String good = hex(new byte[0]);
        assertEquals(64, good.length());
        for (String bad : new String[] {good + "0", good.substring(1), "A" + good.substring(1), "g" + good.substring(1),
            "/" + good.substring(1), ":" + good.substring(1), "`" + good.substring(1), good.substring(1) + " "}) {
            InvalidArgumentException e = assertThrows(InvalidArgumentException.class,
                    () -> Fingerprints.treeSha256(Map.of("a.png", bad)), bad);
            assertTrue(e.getMessage().contains("a.png"), e.getMessage());
        }
    }
}
