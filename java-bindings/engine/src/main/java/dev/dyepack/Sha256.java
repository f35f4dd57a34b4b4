package dev.dyepack;

import dev.dyepack.internal.DyePackNative;
import dev.dyepack.internal.NativeLibrary;
import dev.dyepack.internal.Status;
import java.nio.ByteBuffer;
import org.bytedeco.javacpp.BytePointer;
import org.bytedeco.javacpp.Pointer;

/**
 * SHA-256 (FIPS 180-4) computed by the native library, on the processor's SHA extensions where it has
 * them: the same digest as {@code MessageDigest.getInstance("SHA-256")}, several times faster where
 * the JDK does not use those instructions. Direct buffers are hashed in place; heap arrays and heap
 * buffers are copied through a small native buffer owned by this object.
 *
 * <p>One instance serves one thread at a time (like {@code MessageDigest}). It owns native memory:
 * close it (closing twice is harmless; any other use after close throws).
 */
public final class Sha256 implements AutoCloseable {
    /** Bytes of heap data copied to native memory per call. */
    private static final int STAGING_BYTES = 64 * 1024;
    /** The ABI revision that brought {@code dp_sha256_update2}. */
    private static final int BOTH_REVISION = 5;

    private BytePointer state;
    private BytePointer staging;
    private BytePointer out;

    /**
     * Starts an empty digest.
     *
     * @throws NativeLibraryException   if the native library is not loaded
     * @throws InvalidArgumentException if the environment variable {@code DYEPACK_SHA256} names no
     *                                  variant, or one this processor cannot run
     */
    public Sha256() {
        NativeLibrary.require();
        state = new BytePointer(DyePackNative.DP_SHA256_STATE_BYTES);
        out = new BytePointer(32);
        try {
            Status.check(DyePackNative.dp_sha256_init(state));
        } catch (RuntimeException e) {
            close();
            throw e;
        }
    }

    /**
     * The SHA-256 of {@code data}, at once.
     *
     * @param data the bytes
     * @return their 32-byte digest
     * @throws InvalidArgumentException if {@code data} is null
     * @throws NativeLibraryException   if the native library is not loaded
     */
    public static byte[] of(byte[] data) {
        if (data == null) {
            throw new InvalidArgumentException("data must not be null");
        }
        try (Sha256 sha = new Sha256()) {
            return sha.update(data, 0, data.length).digest();
        }
    }

    /**
     * Which compression runs in this process: {@code "sha-ni"} (the x86 SHA extensions) or
     * {@code "portable"}.
     *
     * @return the name
     * @throws NativeLibraryException   if the native library is not loaded
     * @throws InvalidArgumentException if {@code DYEPACK_SHA256} names no variant, or one that cannot run
     */
    public static String implementation() {
        NativeLibrary.require();
        BytePointer name = DyePackNative.dp_sha256_implementation();
        if (name == null || name.isNull()) {
            Status.check(DyePackNative.DP_ERR_INVALID_ARGUMENT);
        }
        return NativeLibrary.string(name);
    }

    /**
     * Adds {@code length} bytes of {@code data} from {@code offset}.
     *
     * @param data   the array
     * @param offset where the bytes start
     * @param length how many
     * @return this
     * @throws InvalidArgumentException if {@code data} is null or the range lies outside it
     * @throws IllegalStateException    if this digest was closed
     */
    public Sha256 update(byte[] data, int offset, int length) {
        if (data == null) {
            throw new InvalidArgumentException("data must not be null");
        }
        if (offset < 0 || length < 0 || offset > data.length - length) {
            throw new InvalidArgumentException("range [" + offset + ", " + offset + " + " + length
                    + ") lies outside an array of " + data.length + " bytes");
        }
        BytePointer s = live();
        while (length > 0) {
            int n = Math.min(length, STAGING_BYTES);
            BytePointer buffer = staging();
            buffer.position(0).put(data, offset, n);
            Status.check(DyePackNative.dp_sha256_update(s, buffer, n));
            offset += n;
            length -= n;
        }
        return this;
    }

    /**
     * Adds the bytes between {@code data}'s position and limit, and moves its position to the limit.
     *
     * @param data a direct or heap buffer
     * @return this
     * @throws InvalidArgumentException if {@code data} is null
     * @throws IllegalStateException    if this digest was closed
     */
    public Sha256 update(ByteBuffer data) {
        if (data == null) {
            throw new InvalidArgumentException("data must not be null");
        }
        BytePointer s = live();
        int remaining = data.remaining();
        if (remaining == 0) {
            return this;
        }
        if (data.isDirect()) {
            // A JavaCPP view of the buffer (no copy, no ownership) starts at its address plus its position.
            Status.check(DyePackNative.dp_sha256_update(s, new Pointer(data), remaining));
            data.position(data.limit());
        } else if (data.hasArray()) {
            update(data.array(), data.arrayOffset() + data.position(), remaining);
            data.position(data.limit());
        } else {
            byte[] chunk = new byte[Math.min(remaining, STAGING_BYTES)];
            while (data.hasRemaining()) {
                int n = Math.min(chunk.length, data.remaining());
                data.get(chunk, 0, n);
                update(chunk, 0, n);
            }
        }
        return this;
    }

    /**
     * Adds {@code x}'s remaining bytes to {@code a} and {@code y}'s to {@code b}, as {@code a.update(x)} and
     * {@code b.update(y)} would, with the same digests. Where both are direct buffers of the same length the
     * two are hashed together on this thread: the processor's SHA extensions run two digests interleaved
     * about 1.5 times as fast as one after the other, which lets a stream take the SHA-256 of its input and
     * of its output on one core (docs/benchmarks.md). Otherwise one after the other.
     *
     * @param a a digest
     * @param x the bytes for {@code a}; its position moves to its limit
     * @param b another digest (not {@code a})
     * @param y the bytes for {@code b} (may be a view of the same memory as {@code x}); its position moves to
     *          its limit
     * @throws InvalidArgumentException if an argument is null, or {@code a} and {@code b} are the same digest
     * @throws IllegalStateException    if either digest was closed
     */
    public static void updateBoth(Sha256 a, ByteBuffer x, Sha256 b, ByteBuffer y) {
        if (a == null || x == null || b == null || y == null) {
            throw new InvalidArgumentException("digests and buffers must not be null");
        }
        if (a == b) {
            throw new InvalidArgumentException("the two digests must be distinct");
        }
        int n = x.remaining();
        if (!x.isDirect() || !y.isDirect() || y.remaining() != n || n == 0
                || DyePackNative.dp_abi_revision() < BOTH_REVISION) {
            a.update(x);
            b.update(y);
            return;
        }
        Status.check(DyePackNative.dp_sha256_update2(a.live(), new Pointer(x), b.live(), new Pointer(y), n));
        x.position(x.limit());
        y.position(y.limit());
    }

    /**
     * Ends the digest and starts a new, empty one (as {@code MessageDigest.digest()} resets).
     *
     * @return the 32-byte SHA-256 of everything added since the last digest
     * @throws IllegalStateException if this digest was closed
     */
    public byte[] digest() {
        BytePointer s = live();
        Status.check(DyePackNative.dp_sha256_final(s, out));
        byte[] digest = new byte[32];
        out.position(0).get(digest);
        Status.check(DyePackNative.dp_sha256_init(s));
        return digest;
    }

    /** Frees the native memory; later calls other than {@code close} throw. */
    @Override
    public void close() {
        for (BytePointer p : new BytePointer[] {state, staging, out}) {
            if (p != null) {
                p.close();
            }
        }
        state = null;
        staging = null;
        out = null;
    }

    private BytePointer live() {
        if (state == null) {
            throw new IllegalStateException("this SHA-256 digest was closed");
        }
        return state;
    }

    private BytePointer staging() {
        if (staging == null) {
            staging = new BytePointer(STAGING_BYTES);
        }
        return staging;
    }
}
