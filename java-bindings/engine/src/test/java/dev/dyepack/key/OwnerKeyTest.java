package dev.dyepack.key;

import static java.nio.charset.StandardCharsets.US_ASCII;
import static java.nio.charset.StandardCharsets.UTF_8;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTimeoutPreemptively;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.dyepack.InvalidArgumentException;
import dev.dyepack.InvalidInputException;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.lang.reflect.Field;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Arrays;
import java.util.HexFormat;
import java.util.Map;
import java.util.Optional;
import javax.crypto.Mac;
import javax.crypto.spec.SecretKeySpec;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class OwnerKeyTest {
    private static final String SECRET = "hunter2hunter2hunter2";

    @TempDir
    Path dir;

    private Path write(String name, byte[] content) throws IOException {
        return Files.write(dir.resolve(name), content);
    }

    private static OwnerKey key(String s) {
        return new OwnerKey(s.getBytes(UTF_8));
    }

    /** HKDF-SHA256 for outputs of at most 32 bytes, written out with javax.crypto.Mac alone. */
    private static byte[] hkdfReference(byte[] ikm, String purpose, int length) throws Exception {
        Mac mac = Mac.getInstance("HmacSHA256");
        mac.init(new SecretKeySpec("dyepack-v1".getBytes(US_ASCII), "HmacSHA256"));
        byte[] prk = mac.doFinal(ikm);
        mac.init(new SecretKeySpec(prk, "HmacSHA256"));
        mac.update(("dyepack/v1/" + purpose).getBytes(UTF_8));
        mac.update((byte) 1);
        return Arrays.copyOf(mac.doFinal(), length);
    }

    @Test
    void oneTrailingNewlineOrCrLfIsNotPartOfTheKey() throws IOException {
        OwnerKey bare = OwnerKey.fromFile(write("bare", SECRET.getBytes(UTF_8)));
        OwnerKey lf = OwnerKey.fromFile(write("lf", (SECRET + "\n").getBytes(UTF_8)));
        OwnerKey crlf = OwnerKey.fromFile(write("crlf", (SECRET + "\r\n").getBytes(UTF_8)));
        assertEquals(key(SECRET), bare);
        assertEquals(bare, lf);
        assertEquals(bare, crlf);
        assertEquals(bare.fingerprint(), lf.fingerprint());
        assertEquals(bare.fingerprint(), crlf.fingerprint());
        assertEquals(bare.hashCode(), crlf.hashCode());
    }

    @Test
    void onlyOneNewlineIsRemoved() throws IOException {
        assertEquals(key(SECRET + "\n"), OwnerKey.fromFile(write("two", (SECRET + "\n\n").getBytes(UTF_8))));
        assertEquals(key(SECRET + "\r"), OwnerKey.fromFile(write("cr", (SECRET + "\r").getBytes(UTF_8))));
        assertEquals(key(" " + SECRET + " "), OwnerKey.fromFile(write("spaces", (" " + SECRET + " \n").getBytes(UTF_8))));
        assertEquals(key("clé secrète"), OwnerKey.fromFile(write("accents", "clé secrète\n".getBytes(UTF_8))));
    }

    @Test
    void binaryKeyFilesAreKeptVerbatim() throws IOException {
        // 0xff and 0xfe never occur in UTF-8, so this is not text and its final newline is key material.
        byte[] binary = {(byte) 0xff, (byte) 0xfe, 0x00, 0x41, (byte) 0x80, 0x0d, 0x0a};
        OwnerKey k = OwnerKey.fromFile(write("binary", binary));
        assertEquals(new OwnerKey(binary), k);
        assertNotEquals(new OwnerKey(Arrays.copyOf(binary, 5)), k);
        byte[] binaryLf = {(byte) 0xc3, 0x28, 0x0a};  // 0xc3 0x28 is a malformed two-byte sequence
        assertEquals(new OwnerKey(binaryLf), OwnerKey.fromFile(write("binaryLf", binaryLf)));
    }

    @Test
    void emptyKeyFilesAreRejectedNamingTheFile() throws IOException {
        for (String content : new String[] {"", "\n", "\r\n"}) {
            Path f = write("empty.key", content.getBytes(UTF_8));
            InvalidArgumentException e = assertThrows(InvalidArgumentException.class, () -> OwnerKey.fromFile(f));
            assertEquals("key file " + f + " is empty", e.getMessage());
        }
    }

    @Test
    void unreadableKeyFilesNameTheFileButNeverTheKey() throws IOException {
        Path missing = dir.resolve("no-such.key");
        Map<String, String> env = Map.of(OwnerKey.ENV_VAR, SECRET);
        // The named file wins even when it is missing: no silent fallback to another key.
        InvalidInputException e = assertThrows(InvalidInputException.class, () -> OwnerKey.resolve(missing, env));
        assertTrue(e.getMessage().contains(missing.toString()), e.getMessage());
        assertTrue(e.getMessage().contains("does not exist"), e.getMessage());
        assertFalse(e.getMessage().contains(SECRET), e.getMessage());

        Path directory = Files.createDirectory(dir.resolve("a-directory"));
        e = assertThrows(InvalidInputException.class, () -> OwnerKey.fromFile(directory));
        assertTrue(e.getMessage().contains(directory.toString()), e.getMessage());
        assertTrue(e.getMessage().contains("is a directory"), e.getMessage());
    }

    @Test
    void readsKeysFromPipesLikeProcessSubstitution() throws Exception {
        Path fifo = dir.resolve("key.fifo");
        boolean made;
        try {
            made = new ProcessBuilder("mkfifo", fifo.toString()).start().waitFor() == 0;
        } catch (IOException e) {
            made = false;
        }
        Assumptions.assumeTrue(made, "mkfifo is not available here");
        Thread writer = new Thread(() -> {
            try {
                Files.write(fifo, (SECRET + "\n").getBytes(UTF_8));
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
        });
        writer.setDaemon(true);  // never keeps the JVM alive if the read side fails to open the pipe
        writer.start();
        OwnerKey k = assertTimeoutPreemptively(Duration.ofSeconds(10), () -> OwnerKey.fromFile(fifo));
        assertEquals(key(SECRET), k);
        writer.join(10_000);
    }

    @Test
    void refusesKeyFilesTooLargeToBeKeys() throws IOException {
        byte[] big = new byte[(int) OwnerKey.MAX_FILE_SIZE + 1];
        Arrays.fill(big, (byte) 'k');
        Path f = write("dataset.npy", big);
        InvalidInputException e = assertThrows(InvalidInputException.class, () -> OwnerKey.fromFile(f));
        assertTrue(e.getMessage().contains(f.toString()) && e.getMessage().contains("right file"), e.getMessage());
        assertFalse(e.getMessage().contains("kkkk"), e.getMessage());
    }

    @Test
    void environmentVariableIsReadAsUtf8Verbatim() {
        assertEquals(Optional.empty(), OwnerKey.fromEnvironment(Map.of()));
        assertEquals(Optional.empty(), OwnerKey.fromEnvironment(Map.of("OTHER", "x")));
        assertEquals(Optional.of(key("clé")), OwnerKey.fromEnvironment(Map.of(OwnerKey.ENV_VAR, "clé")));
        assertEquals(Optional.of(key(SECRET + "\n")), OwnerKey.fromEnvironment(Map.of(OwnerKey.ENV_VAR, SECRET + "\n")));
        InvalidArgumentException e = assertThrows(InvalidArgumentException.class,
                () -> OwnerKey.fromEnvironment(Map.of(OwnerKey.ENV_VAR, "")));
        assertEquals("DYEPACK_KEY is set but empty", e.getMessage());
    }

    @Test
    void resolvePrefersTheFileThenTheEnvironment() throws IOException {
        Path f = write("k", "from-file\n".getBytes(UTF_8));
        Map<String, String> env = Map.of(OwnerKey.ENV_VAR, "from-env");
        assertEquals(Optional.of(key("from-file")), OwnerKey.resolve(f, env));
        assertEquals(Optional.of(key("from-env")), OwnerKey.resolve(null, env));
        assertEquals(Optional.empty(), OwnerKey.resolve(null, Map.of()));
    }

    @Test
    void toStringAndFingerprintNeverShowTheKey() {
        OwnerKey k = key(SECRET);
        String hexKey = HexFormat.of().formatHex(SECRET.getBytes(UTF_8));
        for (String shown : new String[] {k.toString(), k.fingerprint()}) {
            assertFalse(shown.contains(SECRET), shown);
            assertFalse(shown.contains("hunter2"), shown);
            assertFalse(shown.contains(hexKey.substring(0, 8)), shown);
        }
        assertEquals("OwnerKey[" + k.fingerprint() + "]", k.toString());
        assertTrue(k.fingerprint().matches("dpk1:[0-9a-f]{32}"), k.fingerprint());
    }

    @Test
    void fingerprintIsTheFirst16BytesOfTheFingerprintSubkey() throws Exception {
        byte[] secret = SECRET.getBytes(UTF_8);
        String expected = "dpk1:" + HexFormat.of().formatHex(hkdfReference(secret, "fingerprint", 16));
        assertEquals(expected, new OwnerKey(secret).fingerprint());
    }

    @Test
    void deriveIsHkdfWithTheVersionedSaltAndLabel() throws Exception {
        OwnerKey k = key(SECRET);
        assertArrayEquals(hkdfReference(SECRET.getBytes(UTF_8), "noise", 32), k.derive("noise", 32));
        assertArrayEquals(hkdfReference(SECRET.getBytes(UTF_8), "noise", 7), k.derive("noise", 7));
        assertEquals(8160, k.derive("long", 8160).length);
        for (int bad : new int[] {0, -1, 8161}) {
            InvalidArgumentException e = assertThrows(InvalidArgumentException.class, () -> k.derive("noise", bad));
            assertTrue(e.getMessage().contains("between 1 and 8160"), e.getMessage());
        }
        assertThrows(InvalidArgumentException.class, () -> k.derive("", 8));
    }

    @Test
    void philoxKeyIsTheSubkeyReadLittleEndian() throws Exception {
        OwnerKey k = key(SECRET);
        ByteBuffer b = ByteBuffer.wrap(hkdfReference(SECRET.getBytes(UTF_8), "blend", 8)).order(ByteOrder.LITTLE_ENDIAN);
        assertArrayEquals(new int[] {b.getInt(0), b.getInt(4)}, k.philoxKey("blend"));
    }

    @Test
    void differentPurposesGiveDifferentSubkeys() {
        OwnerKey k = key(SECRET);
        assertFalse(Arrays.equals(k.derive("noise", 32), k.derive("selection", 32)));
        assertFalse(Arrays.equals(k.philoxKey("noise"), k.philoxKey("selection")));
        assertArrayEquals(k.derive("noise", 32), key(SECRET).derive("noise", 32));
    }

    @Test
    void differentKeysGiveDifferentFingerprints() {
        assertNotEquals(key(SECRET).fingerprint(), key(SECRET + "!").fingerprint());
        assertNotEquals(key("a").fingerprint(), key("b").fingerprint());
        assertNotEquals(key(SECRET), key(SECRET + "!"));
        assertEquals(key(SECRET).fingerprint(), key(SECRET).fingerprint());
    }

    @Test
    void shortKeysAreAcceptedButWeak() {
        assertTrue(key("123456789012345").isWeak());
        assertFalse(key("1234567890123456").isWeak());
        assertThrows(InvalidArgumentException.class, () -> new OwnerKey(new byte[0]));
    }

    @Test
    void constructorCopiesTheBytes() {
        byte[] bytes = SECRET.getBytes(UTF_8);
        OwnerKey k = new OwnerKey(bytes);
        String before = k.fingerprint();
        Arrays.fill(bytes, (byte) 0);
        assertEquals(before, k.fingerprint());
        assertEquals(key(SECRET), k);
    }

    @Test
    void destroyZeroFillsAndLaterUseThrows() throws ReflectiveOperationException {
        OwnerKey k = key(SECRET);
        k.destroy();
        Field f = OwnerKey.class.getDeclaredField("key");
        f.setAccessible(true);
        byte[] inside = (byte[]) f.get(k);
        assertArrayEquals(new byte[SECRET.length()], inside);

        assertThrows(IllegalStateException.class, () -> k.derive("noise", 8));
        assertThrows(IllegalStateException.class, () -> k.philoxKey("noise"));
        assertThrows(IllegalStateException.class, k::fingerprint);
        assertThrows(IllegalStateException.class, k::isWeak);
        assertEquals("OwnerKey[destroyed]", k.toString());
        assertNotEquals(key(SECRET), k);
        assertEquals(k, k);
        k.destroy();
    }
}
