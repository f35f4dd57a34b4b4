package dev.dyepack.key;

import dev.dyepack.InvalidArgumentException;
import dev.dyepack.InvalidInputException;
import java.io.IOException;
import java.io.InputStream;
import java.nio.ByteBuffer;
import java.nio.CharBuffer;
import java.nio.charset.CharsetDecoder;
import java.nio.charset.CoderResult;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.nio.file.AccessDeniedException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.util.Arrays;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;

/**
 * The data owner's secret key, from which every subkey and random choice is derived.
 *
 * <p>The key comes from a file ({@link #fromFile}) or the {@value #ENV_VAR} environment variable
 * ({@link #fromEnvironment}), never from the command line, where other users could read it in the
 * process list. This class never logs, prints or writes the key: {@link #toString()} shows only the
 * {@linkplain #fingerprint() fingerprint}, and error messages name the file, never its content. The
 * bytes are copied in and kept private; {@link #destroy()} zero-fills them when the caller is done.
 *
 * <p>Derivation: {@code derive(purpose, n) = HKDF-SHA256(salt = "dyepack-v1", ikm = key,
 * info = "dyepack/v1/" + purpose, n)}. The version in the salt and label lets a future scheme coexist
 * with this one; changing any of them changes every derived value.
 *
 * <p>Thread-safety: every method may be called concurrently, except {@link #destroy()}, which must not
 * race with other calls on the same key.
 */
public final class OwnerKey {
    /** Environment variable holding the key (its UTF-8 bytes). */
    public static final String ENV_VAR = "DYEPACK_KEY";
    /** Keys shorter than this many bytes are accepted but {@linkplain #isWeak() weak}. */
    public static final int MIN_STRONG_LENGTH = 16;
    /**
     * Largest key file read, 1 MiB: a key is tens of bytes, so a larger file is almost certainly the
     * wrong path (a dataset, say) and is refused rather than read into memory.
     */
    public static final long MAX_FILE_SIZE = 1L << 20;
    /** Longest output of {@link #derive}: 255 SHA-256 blocks. */
    public static final int MAX_DERIVE_LENGTH = Hkdf.MAX_LENGTH;
    /** Prefix of {@link #fingerprint()}, naming the fingerprint scheme. */
    public static final String FINGERPRINT_PREFIX = "dpk1:";

    private static final byte[] SALT = "dyepack-v1".getBytes(StandardCharsets.US_ASCII);
    private static final String INFO_PREFIX = "dyepack/v1/";
    private static final int FINGERPRINT_BYTES = 16;
    private static final char[] HEX = "0123456789abcdef".toCharArray();

    private final byte[] key;
    // Computed once so hashCode() depends on a one-way value, never on the key bytes themselves.
    private final String fingerprint;
    private volatile boolean destroyed;

    /**
     * @param key the raw key bytes; copied, so the caller may (and should) zero-fill its array afterwards
     * @throws NullPointerException     if {@code key} is null
     * @throws InvalidArgumentException if {@code key} is empty
     */
    public OwnerKey(byte[] key) {
        Objects.requireNonNull(key, "key");
        if (key.length == 0) {
            throw new InvalidArgumentException("the owner key is empty");
        }
        this.key = key.clone();
        this.fingerprint = computeFingerprint();
    }

    /**
     * Reads a key file. The whole file is the key, as raw bytes, with one exception so that
     * {@code echo secret > key} works: if the content is valid UTF-8 text, ONE trailing {@code "\n"} or
     * {@code "\r\n"} is removed (a lone {@code "\r"}, further newlines and other whitespace are kept).
     * Content that is not valid UTF-8 (a binary key) is used verbatim, trailing newline included.
     * Pipes are read like files, so {@code --key-file <(command)} works.
     *
     * @param file the key file
     * @return the key
     * @throws NullPointerException     if {@code file} is null
     * @throws InvalidInputException    if the file is missing, unreadable, a directory or larger than
     *                                  {@link #MAX_FILE_SIZE}; the message names the file, never its content
     * @throws InvalidArgumentException if the key is empty after removing the trailing newline
     */
    public static OwnerKey fromFile(Path file) {
        Objects.requireNonNull(file, "file");
        byte[] content = readKeyFile(file);
        try {
            int length = content.length;
            if (isUtf8(content)) {
                if (length >= 2 && content[length - 2] == '\r' && content[length - 1] == '\n') {
                    length -= 2;
                } else if (length >= 1 && content[length - 1] == '\n') {
                    length -= 1;
                }
            }
            if (length == 0) {
                throw new InvalidArgumentException("key file " + file + " is empty");
            }
            byte[] trimmed = Arrays.copyOf(content, length);
            try {
                return new OwnerKey(trimmed);
            } finally {
                Arrays.fill(trimmed, (byte) 0);
            }
        } finally {
            Arrays.fill(content, (byte) 0);
        }
    }

    /**
     * Reads the key from {@value #ENV_VAR}: the UTF-8 bytes of its value, verbatim (no newline is
     * removed; shells' {@code $(...)} already strips them).
     *
     * @param env the environment, normally {@link System#getenv()}
     * @return the key, or empty if the variable is not set
     * @throws NullPointerException     if {@code env} is null
     * @throws InvalidArgumentException if the variable is set but empty
     */
    public static Optional<OwnerKey> fromEnvironment(Map<String, String> env) {
        Objects.requireNonNull(env, "env");
        String value = env.get(ENV_VAR);
        if (value == null) {
            return Optional.empty();
        }
        if (value.isEmpty()) {
            throw new InvalidArgumentException(ENV_VAR + " is set but empty");
        }
        byte[] bytes = value.getBytes(StandardCharsets.UTF_8);
        try {
            return Optional.of(new OwnerKey(bytes));
        } finally {
            Arrays.fill(bytes, (byte) 0);
        }
    }

    /**
     * Finds the key the user gave: the key file when one is named (even if {@value #ENV_VAR} is also set,
     * and without falling back to it when the file is unusable), otherwise the environment variable.
     *
     * @param keyFileOrNull the {@code --key-file} path, or null when none was given
     * @param env           the environment, normally {@link System#getenv()}
     * @return the key, or empty when neither source is given
     * @throws NullPointerException     if {@code env} is null
     * @throws InvalidInputException    if the key file cannot be read (see {@link #fromFile})
     * @throws InvalidArgumentException if the chosen source holds an empty key
     */
    public static Optional<OwnerKey> resolve(Path keyFileOrNull, Map<String, String> env) {
        Objects.requireNonNull(env, "env");
        if (keyFileOrNull != null) {
            return Optional.of(fromFile(keyFileOrNull));
        }
        return fromEnvironment(env);
    }

    /**
     * Whether the key is shorter than {@link #MIN_STRONG_LENGTH} bytes; such keys work, but callers
     * should warn that they may be guessed.
     *
     * @return true if the key is weak
     * @throws IllegalStateException if the key was destroyed
     */
    public boolean isWeak() {
        checkLive();
        return key.length < MIN_STRONG_LENGTH;
    }

    /**
     * A subkey for one purpose: HKDF-SHA256 with salt {@code "dyepack-v1"}, the key as input keying
     * material and info {@code "dyepack/v1/" + purpose} (UTF-8). Different purposes give independent
     * subkeys, and no subkey reveals the key or another subkey.
     *
     * @param purpose what the subkey is for, for example {@code "noise"}; not empty
     * @param length  number of bytes, 1 to {@link #MAX_DERIVE_LENGTH}
     * @return the subkey, owned by the caller (zero-fill it when done)
     * @throws NullPointerException     if {@code purpose} is null
     * @throws InvalidArgumentException if {@code purpose} is empty or {@code length} is out of range
     * @throws IllegalStateException    if the key was destroyed
     */
    public byte[] derive(String purpose, int length) {
        Objects.requireNonNull(purpose, "purpose");
        if (purpose.isEmpty()) {
            throw new InvalidArgumentException("key derivation purpose must not be empty");
        }
        if (length < 1 || length > MAX_DERIVE_LENGTH) {
            throw new InvalidArgumentException(
                    "derived key length must be between 1 and " + MAX_DERIVE_LENGTH + " bytes, got " + length);
        }
        checkLive();
        byte[] info = (INFO_PREFIX + purpose).getBytes(StandardCharsets.UTF_8);
        return Hkdf.derive(SALT, key, info, length);
    }

    /**
     * A Philox4x32 key for one purpose: {@code derive(purpose, 8)} read as two little-endian uint32
     * words (bytes 0..3 are word 0, bytes 4..7 word 1), ready for {@link KeyedRandom}.
     *
     * @param purpose what the random stream is for; not empty
     * @return a new {@code int[2]}
     * @throws NullPointerException     if {@code purpose} is null
     * @throws InvalidArgumentException if {@code purpose} is empty
     * @throws IllegalStateException    if the key was destroyed
     */
    public int[] philoxKey(String purpose) {
        byte[] b = derive(purpose, 8);
        try {
            return new int[] {littleEndianInt(b, 0), littleEndianInt(b, 4)};
        } finally {
            Arrays.fill(b, (byte) 0);
        }
    }

    /**
     * A public identifier of the key that reveals nothing about it, for manifests and messages:
     * {@code "dpk1:"} followed by the lowercase hex of the first 16 bytes of
     * {@code derive("fingerprint", 32)} (37 characters in all). Equal keys have equal fingerprints;
     * different keys collide with probability about 2^-128.
     *
     * @return the fingerprint
     * @throws IllegalStateException if the key was destroyed
     */
    public String fingerprint() {
        checkLive();
        return fingerprint;
    }

    /**
     * A copy of the key's bytes, for the one journey they must make: to the worker processes of a
     * distributed job (Spark executors), which rebuild the key with {@link #OwnerKey(byte[])} to stamp
     * keyed triggers. Never print, log or store the copy; zero-fill it when done.
     *
     * @return the raw key bytes, owned by the caller
     * @throws IllegalStateException if the key was destroyed
     */
    public byte[] exportBytes() {
        checkLive();
        return key.clone();
    }

    /**
     * Zero-fills the key bytes. Afterwards every method that uses the key throws
     * {@link IllegalStateException}; {@code toString} still works, and a second call does nothing.
     */
    public void destroy() {
        destroyed = true;
        Arrays.fill(key, (byte) 0);
    }

    /**
     * Keys are equal when their bytes are, compared in time that does not depend on where they differ.
     * A destroyed key equals only itself.
     *
     * @param o the other object
     * @return whether {@code o} is an owner key with the same bytes
     */
    @Override
    public boolean equals(Object o) {
        if (this == o) {
            return true;
        }
        if (!(o instanceof OwnerKey)) {
            return false;
        }
        OwnerKey other = (OwnerKey) o;
        if (destroyed || other.destroyed) {
            return false;
        }
        return MessageDigest.isEqual(key, other.key);
    }

    /**
     * Derived from the fingerprint, never from the key bytes directly.
     *
     * @return a hash code consistent with {@link #equals}
     */
    @Override
    public int hashCode() {
        return fingerprint.hashCode();
    }

    /**
     * Never shows the key.
     *
     * @return {@code "OwnerKey[" + fingerprint() + "]"}, or {@code "OwnerKey[destroyed]"}
     */
    @Override
    public String toString() {
        return destroyed ? "OwnerKey[destroyed]" : "OwnerKey[" + fingerprint + "]";
    }

    private String computeFingerprint() {
        byte[] d = derive("fingerprint", 32);
        try {
            StringBuilder sb = new StringBuilder(FINGERPRINT_PREFIX.length() + 2 * FINGERPRINT_BYTES);
            sb.append(FINGERPRINT_PREFIX);
            for (int i = 0; i < FINGERPRINT_BYTES; i++) {
                sb.append(HEX[(d[i] >> 4) & 0xf]).append(HEX[d[i] & 0xf]);
            }
            return sb.toString();
        } finally {
            Arrays.fill(d, (byte) 0);
        }
    }

    private void checkLive() {
        if (destroyed) {
            throw new IllegalStateException("the owner key was destroyed");
        }
    }

    private static int littleEndianInt(byte[] b, int off) {
        return (b[off] & 0xff) | (b[off + 1] & 0xff) << 8 | (b[off + 2] & 0xff) << 16 | (b[off + 3] & 0xff) << 24;
    }

    private static byte[] readKeyFile(Path file) {
        if (Files.isDirectory(file)) {
            throw new InvalidInputException("key file " + file + " is a directory");
        }
        // A stream rather than Files.size + readAllBytes so that pipes work too
        // (--key-file <(pass show dyepack) keeps the key off the disk), with the size bounded all the same.
        byte[] content;
        try (InputStream in = Files.newInputStream(file)) {
            content = in.readNBytes((int) MAX_FILE_SIZE + 1);
        } catch (NoSuchFileException e) {
            throw new InvalidInputException("key file " + file + " does not exist", e);
        } catch (AccessDeniedException e) {
            throw new InvalidInputException("key file " + file + " cannot be read: permission denied", e);
        } catch (IOException e) {
            // The I/O error's own message describes the failure (and names paths), never the content.
            throw new InvalidInputException("key file " + file + " cannot be read: " + e.getMessage(), e);
        }
        if (content.length > MAX_FILE_SIZE) {
            Arrays.fill(content, (byte) 0);
            throw new InvalidInputException("key file " + file + " is larger than " + MAX_FILE_SIZE
                    + " bytes, far more than a key; is it the right file?");
        }
        return content;
    }

    /** Strict UTF-8 check that zero-fills the decoded characters, which are a copy of the key. */
    private static boolean isUtf8(byte[] content) {
        CharsetDecoder decoder = StandardCharsets.UTF_8.newDecoder()
                .onMalformedInput(CodingErrorAction.REPORT)
                .onUnmappableCharacter(CodingErrorAction.REPORT);
        // UTF-8 never decodes to more UTF-16 units than it has bytes.
        CharBuffer chars = CharBuffer.allocate(content.length);
        try {
            CoderResult r = decoder.decode(ByteBuffer.wrap(content), chars, true);
            if (r.isError()) {
                return false;
            }
            return !decoder.flush(chars).isError();
        } finally {
            Arrays.fill(chars.array(), '\0');
        }
    }
}
