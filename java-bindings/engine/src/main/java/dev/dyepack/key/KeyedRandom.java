package dev.dyepack.key;

import dev.dyepack.InvalidArgumentException;
import dev.dyepack.internal.DyePackNative;
import dev.dyepack.internal.NativeLibrary;
import dev.dyepack.internal.Status;
import java.util.Objects;

/**
 * A stateless keyed random stream on {@link Philox}: every value is a pure function of the key, a
 * 64-bit {@code stream} and a 64-bit {@code index}, so values can be computed in any order, in any
 * batch size, on any thread or device, and always come out the same.
 *
 * <h2>Counter layout (a contract shared with the native C++/CUDA code)</h2>
 * <p>{@link #bits(long, long) bits(stream, index)} is word {@code index % 4} of
 * {@code Philox.block(c0, c1, c2, c3, k0, k1)} with
 * <pre>
 *   c0 = low 32 bits of (index / 4)     c2 = low 32 bits of stream
 *   c1 = high 32 bits of (index / 4)    c3 = high 32 bits of stream
 * </pre>
 * where {@code index} is read as an unsigned 64-bit number ({@code index >>> 2} and {@code index & 3}),
 * and {@link #uniform(long, long) uniform(stream, index)} is {@code (bits >>> 8) * 2^-24}. For
 * per-sample noise the native code uses exactly this with {@code stream = sample} and
 * {@code index = element}; changing the layout changes every poisoned dataset, so it must change in
 * both places together (and with a new key-derivation version).
 *
 * <p>Immutable and thread-safe. {@link #toString()} does not show the key.
 */
public final class KeyedRandom {
    /** Largest bound {@link #below} accepts: 2^31. */
    public static final long MAX_BOUND = 1L << 31;

    /**
     * XOR masks that turn the key into the retry key of {@link #below} (ASCII "DPrt" and "ry01"), so
     * retry draws never share a Philox block with {@link #bits} draws.
     */
    static final int RETRY_MASK0 = 0x44507274;
    static final int RETRY_MASK1 = 0x72793031;

    private static final float TWO_POW_MINUS_24 = 0x1p-24f;

    private final int k0;
    private final int k1;

    /**
     * @param philoxKey the two Philox key words, normally from {@link OwnerKey#philoxKey(String)}; copied
     * @throws NullPointerException     if {@code philoxKey} is null
     * @throws InvalidArgumentException if {@code philoxKey} does not have exactly 2 words
     */
    public KeyedRandom(int[] philoxKey) {
        Objects.requireNonNull(philoxKey, "philoxKey");
        if (philoxKey.length != 2) {
            throw new InvalidArgumentException(
                    "a Philox key has exactly 2 words, got " + philoxKey.length);
        }
        this.k0 = philoxKey[0];
        this.k1 = philoxKey[1];
    }

    /**
     * 32 random bits at {@code (stream, index)}, laid out as the class documentation specifies.
     *
     * @param stream which stream (for example a sample number); any 64-bit value
     * @param index  position in the stream (for example an element number); read as unsigned 64-bit
     * @return an unsigned 32-bit word carried in an {@code int}; never throws
     */
    public int bits(long stream, long index) {
        return bitsWithKey(k0, k1, stream, index);
    }

    /**
     * A uniform float in [0, 1): the top 24 bits of {@link #bits} times 2^-24, so every value is a
     * multiple of 2^-24, exactly representable, and 1.0 is never returned.
     *
     * @param stream which stream; any 64-bit value
     * @param index  position in the stream; read as unsigned 64-bit
     * @return a value in [0, 1); never throws
     */
    public float uniform(long stream, long index) {
        return (bits(stream, index) >>> 8) * TWO_POW_MINUS_24;
    }

    /**
     * An unbiased integer in {@code [0, bound)} by rejection sampling on 32-bit words.
     *
     * <p>Let {@code rem = 2^32 mod bound}. Draws {@code u_0, u_1, ...} are read as unsigned 32-bit
     * numbers; the result is {@code u_a mod bound} for the first {@code a} with {@code u_a >= rem} (the
     * accepted range {@code [rem, 2^32)} holds a whole multiple of {@code bound} values, hence no bias;
     * a draw is rejected with probability below 1/2, and never when bound is a power of two).
     * <ul>
     *   <li>{@code u_0 = bits(stream, index)}, so most calls cost one block.</li>
     *   <li>For {@code a >= 1}, with the retry key {@code R = (k0 ^ 0x44507274, k1 ^ 0x72793031)}:
     *       {@code (h0, h1, h2, h3) = Philox.block(lo(index), hi(index), lo(stream), hi(stream), R)},
     *       the retry stream is {@code S = h0 | h1 << 32} (h0 the low word), and
     *       {@code u_a = new KeyedRandom(R).bits(S, a - 1)}: successive indices 0, 1, 2, ... of a
     *       stream private to this {@code (stream, index)}, under a key {@link #bits} never uses.</li>
     * </ul>
     *
     * @param stream which stream; any 64-bit value
     * @param index  position in the stream; read as unsigned 64-bit
     * @param bound  exclusive upper limit, 1 to {@link #MAX_BOUND}
     * @return a value in {@code [0, bound)}
     * @throws InvalidArgumentException if {@code bound} is outside [1, 2^31]
     */
    public long below(long stream, long index, long bound) {
        if (bound < 1 || bound > MAX_BOUND) {
            throw new InvalidArgumentException("bound must be between 1 and 2^31, got " + bound);
        }
        long rem = (1L << 32) % bound;
        long u = Integer.toUnsignedLong(bits(stream, index));
        if (u >= rem) {
            return u % bound;
        }
        int r0 = k0 ^ RETRY_MASK0;
        int r1 = k1 ^ RETRY_MASK1;
        int[] h = Philox.block((int) index, (int) (index >>> 32), (int) stream, (int) (stream >>> 32), r0, r1);
        long retryStream = Integer.toUnsignedLong(h[0]) | ((long) h[1] << 32);
        for (long attempt = 0; ; attempt++) {
            u = Integer.toUnsignedLong(bitsWithKey(r0, r1, retryStream, attempt));
            if (u >= rem) {
                return u % bound;
            }
        }
    }

    /**
     * Fills {@code out} with {@code bits(stream, 0)}, {@code bits(stream, 1)}, ...: the same words as
     * {@link #bits} one by one, computed a Philox block (four words) at a time, with no allocation per word.
     * A keyed pattern of a 224 x 224 x 3 image is 150,528 words; one block per word made preparing the
     * patterns of many negative keys the larger part of poisoning a large file.
     *
     * @param stream which stream; any 64-bit value
     * @param out    receives word {@code i} of the stream at index {@code i}
     * @throws NullPointerException if {@code out} is null
     */
    public void fillBits(long stream, int[] out) {
        Objects.requireNonNull(out, "out");
        if (out.length >= NATIVE_MIN && Native.AVAILABLE) {
            Status.check(DyePackNative.dp_keyed_bits(k0, k1, stream, out, out.length));
            return;
        }
        fillBitsPortable(stream, out);
    }

    /** {@link #fillBits} in Java: the reference the native loop is tested against, and the path for short arrays. */
    void fillBitsPortable(long stream, int[] out) {
        int[] words = new int[4];
        int s0 = (int) stream;
        int s1 = (int) (stream >>> 32);
        int whole = out.length & ~3;
        for (int i = 0; i < whole; i += 4) {
            Philox.block(i >>> 2, 0, s0, s1, k0, k1, words);
            out[i] = words[0];
            out[i + 1] = words[1];
            out[i + 2] = words[2];
            out[i + 3] = words[3];
        }
        if (whole < out.length) {
            Philox.block(whole >>> 2, 0, s0, s1, k0, k1, words);
            for (int i = whole; i < out.length; i++) {
                out[i] = words[i & 3];
            }
        }
    }

    /**
     * Shuffles {@code array} in place with Fisher-Yates: for {@code i} from {@code length - 1} down to 1,
     * swap elements {@code i} and {@code below(stream, i, i + 1)}. Every permutation is equally likely
     * and the result depends only on the key, {@code stream} and the array's contents.
     *
     * @param stream which stream to draw from; one stream per independent shuffle
     * @param array  the values to permute; modified in place
     * @throws NullPointerException if {@code array} is null
     */
    public void shuffle(long stream, long[] array) {
        Objects.requireNonNull(array, "array");
        if (array.length >= NATIVE_MIN && Native.AVAILABLE) {
            Status.check(DyePackNative.dp_keyed_shuffle(k0, k1, stream, array, array.length));
            return;
        }
        shufflePortable(stream, array);
    }

    /** {@link #shuffle} in Java: the reference the native loop is tested against, and the path for short arrays. */
    void shufflePortable(long stream, long[] array) {
        // The same draws as below(stream, i, i + 1) for each i, computed a block at a time: the indices
        // i run down through each Philox block's 4 words in turn, so one block serves 4 swaps (the
        // shuffle of a 224 x 224 image's cells is 50,175 draws; one block per draw made it the larger
        // part of poisoning with a sparse trigger and many negative keys). A rejected first draw
        // (probability (2^32 mod (i + 1)) / 2^32, below (i + 1) / 2^32) takes the general path, whose
        // retries come from their own stream.
        int[] words = new int[4];
        long cached = -1;
        int s0 = (int) stream;
        int s1 = (int) (stream >>> 32);
        for (int i = array.length - 1; i > 0; i--) {
            long block = i >>> 2;
            if (block != cached) {
                Philox.block((int) block, 0, s0, s1, k0, k1, words);
                cached = block;
            }
            long bound = i + 1L;
            long u = Integer.toUnsignedLong(words[i & 3]);
            // 2^32 mod bound is below bound, so a draw at or above bound is accepted without computing it
            // (a long remainder is a runtime call in the JIT's quick compiler, which the CLI runs with).
            int j = (int) (u >= bound || u >= (1L << 32) % bound ? u % bound : below(stream, i, bound));
            long t = array[i];
            array[i] = array[j];
            array[j] = t;
        }
    }

    /**
     * Does not show the key.
     *
     * @return a fixed description of the generator
     */
    @Override
    public String toString() {
        return "KeyedRandom[Philox4x32-10]";
    }

    /**
     * Arrays at least this long are filled or shuffled by the native library ({@code dp_keyed_bits},
     * {@code dp_keyed_shuffle}: the same words and swaps), where it is loaded. The CLI runs with the
     * JIT's quick compiler, whose Philox loop took about 6 ms per 150,528 words (a 224 x 224 x 3 pattern)
     * against under 1 ms native: a blend with 160 negative keys spent a second of CPU drawing patterns.
     */
    static final int NATIVE_MIN = 1024;

    /** Whether the native loops can serve: looked up on first use by a long array only. */
    private static final class Native {
        static final boolean AVAILABLE = available();

        private static boolean available() {
            try {
                return NativeLibrary.isLoaded() && DyePackNative.dp_abi_revision() >= 4;
            } catch (LinkageError e) {
                return false;
            }
        }
    }

    private static int bitsWithKey(int key0, int key1, long stream, long index) {
        long block = index >>> 2;
        int[] out = Philox.block((int) block, (int) (block >>> 32), (int) stream, (int) (stream >>> 32), key0, key1);
        return out[(int) (index & 3)];
    }
}
