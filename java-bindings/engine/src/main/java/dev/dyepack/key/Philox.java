package dev.dyepack.key;

/**
 * The Philox4x32-10 counter-based block function (Salmon et al., "Parallel random numbers: as easy as
 * 1, 2, 3", SC'11), bit for bit the {@code philox4x32_R(10, ctr, key)} of Random123 that the native
 * CPU and CUDA code use. A block maps a 128-bit counter and a 64-bit key to 128 pseudorandom bits;
 * there is no state, so any block can be computed on its own, on any thread or device.
 *
 * <p>All {@code int} values are unsigned 32-bit words carried in Java's signed type: compare them with
 * {@code Integer.toUnsignedString} or {@code & 0xffffffffL}, never as signed numbers.
 *
 * <p>Not a cipher for secrecy of its own: the key is what keeps the output unpredictable, and it should
 * come from {@link OwnerKey#philoxKey(String)}.
 */
public final class Philox {
    /** Number of rounds; 10 is Random123's default and the one its known-answer vectors cover. */
    public static final int ROUNDS = 10;

    // Multipliers of the two S-boxes and the Weyl sequence increments of the key schedule
    // (Random123's PHILOX_M4x32_0/1 and PHILOX_W32_0/1).
    private static final long M0 = 0xD2511F53L;
    private static final long M1 = 0xCD9E8D57L;
    private static final int W0 = 0x9E3779B9;
    private static final int W1 = 0xBB67AE85;

    private Philox() {
    }

    /**
     * One Philox4x32-10 block.
     *
     * <p>Each round computes the full 64-bit products {@code M0 * c0} and {@code M1 * c2} and sets
     * {@code (c0, c1, c2, c3) = (hi(M1*c2) ^ c1 ^ k0, lo(M1*c2), hi(M0*c0) ^ c3 ^ k1, lo(M0*c0))}; the key
     * is advanced by the Weyl increments {@code (k0 += W0, k1 += W1)} between rounds, so round r (0-based)
     * uses the key plus r increments and the key is bumped 9 times in all.
     *
     * @param c0 counter word 0 (least significant)
     * @param c1 counter word 1
     * @param c2 counter word 2
     * @param c3 counter word 3 (most significant)
     * @param k0 key word 0
     * @param k1 key word 1
     * @return a new array of the 4 output words, in Random123's order (every input is valid, so this
     *         method throws nothing)
     */
    public static int[] block(int c0, int c1, int c2, int c3, int k0, int k1) {
        int[] out = new int[4];
        block(c0, c1, c2, c3, k0, k1, out);
        return out;
    }

    /**
     * As {@link #block(int, int, int, int, int, int)}, into a caller's array, so that loops drawing
     * millions of words (a Fisher-Yates shuffle of every pixel of an image) allocate nothing per block.
     *
     * @param out receives the 4 output words at indices 0-3; must have at least 4 elements
     * @throws ArrayIndexOutOfBoundsException if {@code out} has fewer than 4 elements
     * @throws NullPointerException           if {@code out} is null
     */
    static void block(int c0, int c1, int c2, int c3, int k0, int k1, int[] out) {
        int x0 = c0;
        int x1 = c1;
        int x2 = c2;
        int x3 = c3;
        int key0 = k0;
        int key1 = k1;
        for (int round = 0; round < ROUNDS; round++) {
            if (round > 0) {
                key0 += W0;
                key1 += W1;
            }
            // The products of two uint32 fit in 64 unsigned bits; a negative long here is just the
            // top bit set, and >>> and the narrowing casts read the bits exactly.
            long p0 = M0 * (x0 & 0xffffffffL);
            long p1 = M1 * (x2 & 0xffffffffL);
            int hi0 = (int) (p0 >>> 32);
            int lo0 = (int) p0;
            int hi1 = (int) (p1 >>> 32);
            int lo1 = (int) p1;
            int n0 = hi1 ^ x1 ^ key0;
            int n2 = hi0 ^ x3 ^ key1;
            x0 = n0;
            x1 = lo1;
            x2 = n2;
            x3 = lo0;
        }
        out[0] = x0;
        out[1] = x1;
        out[2] = x2;
        out[3] = x3;
    }
}
