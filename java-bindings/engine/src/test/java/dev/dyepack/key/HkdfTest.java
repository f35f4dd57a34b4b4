package dev.dyepack.key;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.dyepack.InvalidArgumentException;
import java.util.Arrays;
import java.util.HexFormat;
import org.junit.jupiter.api.Test;

/** RFC 5869 appendix A, test cases 1 to 3 (the SHA-256 ones), plus the argument checks. */
class HkdfTest {
    private static final HexFormat HEX = HexFormat.of();

    private static byte[] hex(String s) {
        return HEX.parseHex(s);
    }

    private static byte[] range(int from, int toExclusive) {
        byte[] b = new byte[toExclusive - from];
        for (int i = 0; i < b.length; i++) {
            b[i] = (byte) (from + i);
        }
        return b;
    }

    private static void check(byte[] salt, byte[] ikm, byte[] info, int length, String prk, String okm) {
        assertArrayEquals(hex(prk), Hkdf.extract(salt, ikm), "PRK");
        assertArrayEquals(hex(okm), Hkdf.expand(hex(prk), info, length), "OKM from expand");
        assertArrayEquals(hex(okm), Hkdf.derive(salt, ikm, info, length), "OKM from derive");
    }

    @Test
    void rfc5869TestCase1Basic() {
        byte[] ikm = new byte[22];
        Arrays.fill(ikm, (byte) 0x0b);
        check(hex("000102030405060708090a0b0c"), ikm, hex("f0f1f2f3f4f5f6f7f8f9"), 42,
                "077709362c2e32df0ddc3f0dc47bba6390b6c73bb50f9c3122ec844ad7c2b3e5",
                "3cb25f25faacd57a90434f64d0362f2a2d2d0a90cf1a5a4c5db02d56ecc4c5bf34007208d5b887185865");
    }

    @Test
    void rfc5869TestCase2LongInputs() {
        check(range(0x60, 0xb0), range(0x00, 0x50), range(0xb0, 0x100), 82,
                "06a6b88c5853361a06104c9ceb35b45cef760014904671014a193f40c15fc244",
                "b11e398dc80327a1c8e7f78c596a49344f012eda2d4efad8a050cc4c19afa97c"
                        + "59045a99cac7827271cb41c65e590e09da3275600c2f09b8367793a9aca3db71"
                        + "cc30c58179ec3e87c14c01d5c1f3434f1d87");
    }

    @Test
    void rfc5869TestCase3EmptySaltAndInfo() {
        byte[] ikm = new byte[22];
        Arrays.fill(ikm, (byte) 0x0b);
        check(new byte[0], ikm, new byte[0], 42,
                "19ef24a32c717b167f33a91d6f648bdf96596776afdb6377ac434c1c293ccb04",
                "8da4e775a563c18f715f802a063c5a31b8a11f5c5ee1879ec3454e5f3c738d2d9d201395faa4b61a96c8");
    }

    @Test
    void nullOrEmptySaltMeansHashLengthZeros() {
        byte[] ikm = "input".getBytes(java.nio.charset.StandardCharsets.US_ASCII);
        byte[] zeros = Hkdf.extract(new byte[32], ikm);
        assertArrayEquals(zeros, Hkdf.extract(null, ikm));
        assertArrayEquals(zeros, Hkdf.extract(new byte[0], ikm));
        assertArrayEquals(Hkdf.derive(new byte[32], ikm, null, 40), Hkdf.derive(null, ikm, new byte[0], 40));
    }

    @Test
    void longerOutputsExtendShorterOnes() {
        // HKDF output is a prefix-stable stream: asking for more bytes never changes the first ones.
        byte[] ikm = range(1, 40);
        byte[] full = Hkdf.derive(null, ikm, range(5, 9), Hkdf.MAX_LENGTH);
        assertEquals(8160, full.length);
        for (int n : new int[] {0, 1, 31, 32, 33, 64, 65, 1000}) {
            assertArrayEquals(Arrays.copyOf(full, n), Hkdf.derive(null, ikm, range(5, 9), n), "length " + n);
        }
    }

    @Test
    void rejectsLengthsOutsideTheRfcRange() {
        byte[] ikm = range(0, 16);
        InvalidArgumentException e = assertThrows(InvalidArgumentException.class, () -> Hkdf.derive(null, ikm, null, 8161));
        assertTrue(e.getMessage().contains("8160"), e.getMessage());
        assertThrows(InvalidArgumentException.class, () -> Hkdf.derive(null, ikm, null, -1));
        assertThrows(InvalidArgumentException.class, () -> Hkdf.expand(new byte[32], null, 255 * 32 + 1));
    }

    @Test
    void rejectsShortPseudorandomKeys() {
        InvalidArgumentException e = assertThrows(InvalidArgumentException.class, () -> Hkdf.expand(new byte[31], null, 16));
        assertTrue(e.getMessage().contains("at least 32"), e.getMessage());
    }
}
