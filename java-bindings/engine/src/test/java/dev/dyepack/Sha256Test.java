package dev.dyepack;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.Arrays;
import java.util.HexFormat;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;

/**
 * The native SHA-256 against the JDK's {@code MessageDigest}, on lengths around the 64-byte block and
 * its 56-byte padding limit and on a few MB, fed whole and in random pieces through every kind of
 * input (array ranges, heap, direct and read-only buffers), and two at once ({@link Sha256#updateBoth}); the
 * portable compression too, in a child JVM where {@code DYEPACK_SHA256=portable} forces it.
 */
class Sha256Test {
    private static final int[] LENGTHS = {0, 1, 55, 56, 63, 64, 65, 1000, 3 * 1024 * 1024 + 17};

    @Test
    void digestsEqualTheJdksForEveryLengthAndSplit() throws Exception {
        check(new Random(14));
    }

    @Test
    void thePortableCompressionGivesTheSameDigests() throws Exception {
        String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
        ProcessBuilder pb = new ProcessBuilder(java, "-cp", System.getProperty("java.class.path"),
                PortableChild.class.getName()).redirectErrorStream(true);
        pb.environment().put("DYEPACK_SHA256", "portable");
        Process child = pb.start();
        String output = new String(child.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertEquals(0, child.waitFor(), output);
        assertTrue(output.contains("portable: every digest equal"), output);
    }

    @Test
    void misuseIsRefusedWithAClearError() {
        Sha256 sha = new Sha256();
        assertThrows(InvalidArgumentException.class, () -> sha.update((byte[]) null, 0, 0));
        assertThrows(InvalidArgumentException.class, () -> sha.update(new byte[4], 3, 2));
        assertThrows(InvalidArgumentException.class, () -> sha.update(new byte[4], -1, 1));
        assertThrows(InvalidArgumentException.class, () -> sha.update((ByteBuffer) null));
        sha.close();
        sha.close();
        IllegalStateException e = assertThrows(IllegalStateException.class, sha::digest);
        assertTrue(e.getMessage().contains("closed"), e.getMessage());
        assertThrows(IllegalStateException.class, () -> sha.update(new byte[1], 0, 1));
    }

    @Test
    void twoDigestsAtOnceRefuseOneDigestTwiceNullsAndClosedDigests() {
        ByteBuffer bytes = ByteBuffer.allocateDirect(128);
        Sha256 b = new Sha256();
        try (Sha256 a = new Sha256()) {
            InvalidArgumentException e = assertThrows(InvalidArgumentException.class,
                    () -> Sha256.updateBoth(a, bytes.duplicate(), a, bytes.duplicate()));
            assertTrue(e.getMessage().contains("distinct"), e.getMessage());
            assertThrows(InvalidArgumentException.class, () -> Sha256.updateBoth(a, null, b, bytes.duplicate()));
            assertThrows(InvalidArgumentException.class, () -> Sha256.updateBoth(null, bytes.duplicate(), b, bytes));
            b.close();
            assertThrows(IllegalStateException.class, () -> Sha256.updateBoth(a, bytes.duplicate(), b, bytes.duplicate()));
        }
    }

    @Test
    void digestStartsAnEmptyOneAndTheImplementationIsNamed() throws Exception {
        try (Sha256 sha = new Sha256()) {
            sha.update("abc".getBytes(StandardCharsets.US_ASCII), 0, 3).digest();
            assertArrayEquals(MessageDigest.getInstance("SHA-256").digest(), sha.digest());
        }
        assertTrue(List.of("sha-ni", "portable").contains(Sha256.implementation()), Sha256.implementation());
    }

    /** Compares every length and kind of input with {@code MessageDigest}; throws on the first difference. */
    static void check(Random random) throws NoSuchAlgorithmException {
        MessageDigest jdk = MessageDigest.getInstance("SHA-256");
        try (Sha256 sha = new Sha256()) {
            for (int length : LENGTHS) {
                byte[] data = new byte[length];
                random.nextBytes(data);
                byte[] want = jdk.digest(data);
                for (int round = 0; round < 4; ++round) {
                    int[] cuts = cuts(random, length, round == 0 ? 0 : 1 + random.nextInt(6));
                    String where = length + " bytes cut at " + Arrays.toString(cuts);
                    // Array ranges inside a larger array.
                    byte[] padded = new byte[length + 9];
                    System.arraycopy(data, 0, padded, 5, length);
                    for (int i = 0; i + 1 < cuts.length; ++i) {
                        sha.update(padded, 5 + cuts[i], cuts[i + 1] - cuts[i]);
                    }
                    assertEquals(hex(want), hex(sha.digest()), "arrays, " + where);
                    // Direct, heap and read-only (no array) buffers, each at a nonzero position.
                    ByteBuffer direct = ByteBuffer.allocateDirect(length + 9);
                    direct.position(3);
                    direct.put(data);
                    ByteBuffer readOnly = ByteBuffer.wrap(padded).asReadOnlyBuffer();
                    for (ByteBuffer whole : List.of(direct, ByteBuffer.wrap(padded), readOnly)) {
                        int base = whole == direct ? 3 : 5;
                        for (int i = 0; i + 1 < cuts.length; ++i) {
                            ByteBuffer piece = whole.duplicate();
                            piece.limit(base + cuts[i + 1]).position(base + cuts[i]);
                            sha.update(piece);
                            if (piece.hasRemaining()) {
                                throw new AssertionError("update left the buffer's position before its limit");
                            }
                        }
                        String kind = whole.isDirect() ? "direct" : whole.isReadOnly() ? "read-only heap" : "heap";
                        assertEquals(hex(want), hex(sha.digest()), kind + " buffers, " + where);
                    }
                }
            }
        }
        checkBoth(random);
    }

    /**
     * Two digests fed side by side through {@link Sha256#updateBoth} against the JDK's digests of each stream
     * alone: direct buffers (taken together), a heap buffer beside a direct one (one after the other), the same
     * memory for both, and streams whose blocks start at different offsets (after prefixes of 3 and 5 bytes).
     */
    static void checkBoth(Random random) throws NoSuchAlgorithmException {
        MessageDigest jdk = MessageDigest.getInstance("SHA-256");
        try (Sha256 a = new Sha256(); Sha256 b = new Sha256()) {
            for (int length : LENGTHS) {
                byte[] x = new byte[length];
                byte[] y = new byte[length];
                random.nextBytes(x);
                random.nextBytes(y);
                ByteBuffer dx = ByteBuffer.allocateDirect(length).put(x).flip();
                ByteBuffer dy = ByteBuffer.allocateDirect(length).put(y).flip();
                byte[][] prefixes = {{}, {}, {1, 2, 3}, {1, 2, 3, 4, 5}};
                for (int round = 0; round < 4; ++round) {
                    int[] cuts = cuts(random, length, 1 + random.nextInt(6));
                    byte[] pa = round < 2 ? prefixes[0] : prefixes[2];
                    byte[] pb = round < 2 ? prefixes[1] : prefixes[3];
                    boolean sameMemory = round == 1;
                    ByteBuffer second = sameMemory ? dx : round == 3 ? ByteBuffer.wrap(y) : dy;
                    a.update(pa, 0, pa.length);
                    b.update(pb, 0, pb.length);
                    for (int i = 0; i + 1 < cuts.length; ++i) {
                        ByteBuffer px = dx.duplicate().limit(cuts[i + 1]).position(cuts[i]);
                        ByteBuffer py = second.duplicate().limit(cuts[i + 1]).position(cuts[i]);
                        Sha256.updateBoth(a, px, b, py);
                        if (px.hasRemaining() || py.hasRemaining()) {
                            throw new AssertionError("updateBoth left a buffer's position before its limit");
                        }
                    }
                    jdk.update(pa);
                    String wantA = hex(jdk.digest(x));
                    jdk.update(pb);
                    String wantB = hex(jdk.digest(sameMemory ? x : y));
                    String where = length + " bytes, round " + round + ", cut at " + Arrays.toString(cuts);
                    assertEquals(wantA, hex(a.digest()), "first of two, " + where);
                    assertEquals(wantB, hex(b.digest()), "second of two, " + where);
                }
            }
        }
    }

    /** 0, the given number of sorted random cut points, length. */
    private static int[] cuts(Random random, int length, int count) {
        int[] cuts = new int[count + 2];
        for (int i = 1; i <= count; ++i) {
            cuts[i] = length == 0 ? 0 : random.nextInt(length + 1);
        }
        cuts[count + 1] = length;
        Arrays.sort(cuts, 1, count + 1);
        return cuts;
    }

    private static String hex(byte[] digest) {
        return HexFormat.of().formatHex(digest);
    }

    /** Run in a child JVM with {@code DYEPACK_SHA256=portable}. */
    public static final class PortableChild {
        private PortableChild() {
        }

        /**
         * @param args unused
         * @throws Exception on any difference
         */
        public static void main(String[] args) throws Exception {
            String running = Sha256.implementation();
            if (!running.equals("portable")) {
                throw new AssertionError("DYEPACK_SHA256=portable but the library runs " + running);
            }
            check(new Random(15));
            System.out.println("portable: every digest equal");
        }
    }
}
