package dev.dyepack.job;

import dev.dyepack.Sha256;
import java.nio.ByteBuffer;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;

/**
 * The SHA-256 of a file's bytes as a stream delivers them, for the manifest's {@code files[].sha256} (the
 * SHA-256 of the whole file, as {@code sha256sum} prints it). Computed by the native library
 * ({@link Sha256}) where it runs on the processor's SHA extensions: it hashes direct buffers and file
 * mappings where they are, and runs at full speed from the first byte, where the JDK's digest copies
 * direct buffers to the heap 4 KiB at a time and runs slower until the JIT has compiled its intrinsic
 * (the first 400-500 MB of a run; docs/benchmarks.md). Elsewhere (no SHA extensions, where the portable
 * native loop is slower than the JDK's; or no native library) the JDK's {@code MessageDigest}. Both give
 * the same digest.
 *
 * <p>One thread at a time; close it (it may own native memory).
 */
final class StreamDigest implements AutoCloseable {
    /** Whether the native digest runs on SHA extensions in this process; decided once. */
    private static final boolean NATIVE = nativeIsFast();

    private final Sha256 nativeDigest;
    private final MessageDigest jdkDigest;

    private StreamDigest(Sha256 nativeDigest, MessageDigest jdkDigest) {
        this.nativeDigest = nativeDigest;
        this.jdkDigest = jdkDigest;
    }

    /**
     * An empty digest.
     *
     * @return the digest
     * @throws IllegalStateException if neither the native library nor the JDK offers SHA-256
     */
    static StreamDigest sha256() {
        if (NATIVE) {
            return new StreamDigest(new Sha256(), null);
        }
        try {
            return new StreamDigest(null, MessageDigest.getInstance("SHA-256"));
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("SHA-256 is unavailable in this JDK", e);
        }
    }

    /** @return whether digests here run in the native library */
    static boolean isNative() {
        return NATIVE;
    }

    private static boolean nativeIsFast() {
        try {
            return "sha-ni".equals(Sha256.implementation());
        } catch (RuntimeException | LinkageError e) {
            return false;
        }
    }

    /** Adds bytes. */
    void update(byte[] bytes) {
        if (nativeDigest != null) {
            nativeDigest.update(bytes, 0, bytes.length);
        } else {
            jdkDigest.update(bytes);
        }
    }

    /** Adds the bytes between the buffer's position and limit, and moves its position to the limit. */
    void update(ByteBuffer bytes) {
        if (nativeDigest != null) {
            nativeDigest.update(bytes);
        } else {
            jdkDigest.update(bytes);
        }
    }

    /**
     * Adds {@code x} to {@code a} and {@code y} to {@code b} (equal lengths), as two {@link #update(ByteBuffer)}
     * calls would; native digests of direct buffers are taken together, interleaved on this thread
     * ({@link Sha256#updateBoth}).
     */
    static void updateBoth(StreamDigest a, ByteBuffer x, StreamDigest b, ByteBuffer y) {
        if (a.nativeDigest != null && b.nativeDigest != null) {
            Sha256.updateBoth(a.nativeDigest, x, b.nativeDigest, y);
        } else {
            a.update(x);
            b.update(y);
        }
    }

    /** @return the digest of everything added, as 64 lowercase hex digits */
    String hex() {
        return HexFormat.of().formatHex(nativeDigest != null ? nativeDigest.digest() : jdkDigest.digest());
    }

    @Override
    public void close() {
        if (nativeDigest != null) {
            nativeDigest.close();
        }
    }
}
