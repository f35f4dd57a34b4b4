package dev.dyepack.key;

import dev.dyepack.InvalidArgumentException;
import java.security.InvalidKeyException;
import java.security.NoSuchAlgorithmException;
import java.util.Arrays;
import java.util.Objects;
import javax.crypto.Mac;
import javax.crypto.spec.SecretKeySpec;

/**
 * HKDF with HMAC-SHA256 (RFC 5869): {@link #extract} turns input keying material into a pseudorandom
 * key, {@link #expand} stretches that key into as many output bytes as asked, bound to an
 * {@code info} label so that different purposes get independent outputs.
 *
 * <p>Stateless and thread-safe. Arguments are never modified; intermediate secrets this class creates
 * are zero-filled before returning (the JDK's {@link SecretKeySpec} keeps its own copy, which this class
 * cannot clear).
 */
public final class Hkdf {
    /** Output size of SHA-256 in bytes (RFC 5869's HashLen). */
    public static final int HASH_LENGTH = 32;
    /** Longest output RFC 5869 allows: 255 blocks of {@link #HASH_LENGTH} bytes. */
    public static final int MAX_LENGTH = 255 * HASH_LENGTH;

    private static final String HMAC = "HmacSHA256";

    private Hkdf() {
    }

    /**
     * HKDF-Extract: {@code PRK = HMAC-SHA256(salt, ikm)}.
     *
     * @param salt optional salt; {@code null} or empty means {@link #HASH_LENGTH} zero bytes, as the RFC says
     * @param ikm  input keying material, may be empty
     * @return the 32-byte pseudorandom key; the caller owns it and should zero-fill it when done
     * @throws NullPointerException if {@code ikm} is null
     */
    public static byte[] extract(byte[] salt, byte[] ikm) {
        Objects.requireNonNull(ikm, "ikm");
        byte[] effectiveSalt = salt == null || salt.length == 0 ? new byte[HASH_LENGTH] : salt;
        Mac mac = newMac(effectiveSalt);
        return mac.doFinal(ikm);
    }

    /**
     * HKDF-Expand: {@code T(i) = HMAC-SHA256(prk, T(i-1) || info || i)}, output the first {@code length}
     * bytes of {@code T(1) || T(2) || ...}.
     *
     * @param prk    pseudorandom key of at least {@link #HASH_LENGTH} bytes (normally from {@link #extract})
     * @param info   context label binding the output to one purpose; {@code null} means empty
     * @param length number of output bytes, 0 to {@link #MAX_LENGTH}
     * @return {@code length} bytes of output keying material, owned by the caller
     * @throws NullPointerException     if {@code prk} is null
     * @throws InvalidArgumentException if {@code prk} is shorter than 32 bytes or {@code length} is out of range
     */
    public static byte[] expand(byte[] prk, byte[] info, int length) {
        Objects.requireNonNull(prk, "prk");
        if (prk.length < HASH_LENGTH) {
            throw new InvalidArgumentException(
                    "HKDF: prk must be at least " + HASH_LENGTH + " bytes, got " + prk.length);
        }
        checkLength(length);
        byte[] label = info == null ? new byte[0] : info;
        Mac mac = newMac(prk);
        byte[] out = new byte[length];
        byte[] block = new byte[0];
        int filled = 0;
        for (int i = 1; filled < length; i++) {
            mac.update(block);
            mac.update(label);
            mac.update((byte) i);
            byte[] next = mac.doFinal();
            Arrays.fill(block, (byte) 0);
            block = next;
            int n = Math.min(HASH_LENGTH, length - filled);
            System.arraycopy(block, 0, out, filled, n);
            filled += n;
        }
        Arrays.fill(block, (byte) 0);
        return out;
    }

    /**
     * Extract then expand, zero-filling the intermediate pseudorandom key.
     *
     * @param salt   optional salt; {@code null} or empty means 32 zero bytes
     * @param ikm    input keying material
     * @param info   context label; {@code null} means empty
     * @param length number of output bytes, 0 to {@link #MAX_LENGTH}
     * @return {@code length} bytes of output keying material, owned by the caller
     * @throws NullPointerException     if {@code ikm} is null
     * @throws InvalidArgumentException if {@code length} is out of range
     */
    public static byte[] derive(byte[] salt, byte[] ikm, byte[] info, int length) {
        Objects.requireNonNull(ikm, "ikm");
        // Checked before any work so a bad length fails the same way whatever the other arguments.
        checkLength(length);
        byte[] prk = extract(salt, ikm);
        try {
            return expand(prk, info, length);
        } finally {
            Arrays.fill(prk, (byte) 0);
        }
    }

    private static void checkLength(int length) {
        if (length < 0 || length > MAX_LENGTH) {
            throw new InvalidArgumentException(
                    "HKDF: length must be between 0 and " + MAX_LENGTH + " bytes, got " + length);
        }
    }

    private static Mac newMac(byte[] key) {
        try {
            Mac mac = Mac.getInstance(HMAC);
            mac.init(new SecretKeySpec(key, HMAC));
            return mac;
        } catch (NoSuchAlgorithmException | InvalidKeyException e) {
            // Every Java SE implementation must provide HmacSHA256 and accept a non-empty raw key.
            throw new IllegalStateException("HmacSHA256 is unavailable in this JDK", e);
        }
    }
}
