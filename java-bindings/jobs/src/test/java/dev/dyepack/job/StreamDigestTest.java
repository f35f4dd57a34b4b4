package dev.dyepack.job;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.nio.ByteBuffer;
import java.security.MessageDigest;
import java.util.HexFormat;
import java.util.Random;
import org.junit.jupiter.api.Test;

/**
 * The stream's digest is the SHA-256 the JDK computes (and {@code sha256sum} prints) of the same bytes,
 * whichever implementation this processor gets, fed as arrays, heap buffers and direct buffers in pieces
 * that do not line up with SHA-256's 64-byte blocks.
 */
class StreamDigestTest {
    @Test
    void equalsTheJdksSha256OfTheSameBytesInAnyPieces() throws Exception {
        Random random = new Random(5);
        for (int size : new int[] {0, 1, 55, 56, 63, 64, 65, 1000, 70_001, 3 << 20}) {
            byte[] data = new byte[size];
            random.nextBytes(data);
            String expected = HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(data));
            try (StreamDigest d = StreamDigest.sha256()) {
                int at = 0;
                int piece = 0;
                while (at < size) {
                    int n = Math.min(size - at, 1 + random.nextInt(100_000));
                    switch (piece++ % 3) {
                        case 0 -> d.update(java.util.Arrays.copyOfRange(data, at, at + n));
                        case 1 -> d.update(ByteBuffer.wrap(data, at, n));
                        default -> {
                            ByteBuffer direct = ByteBuffer.allocateDirect(n + 7);
                            direct.position(7);
                            direct.put(data, at, n);
                            direct.position(7);
                            d.update(direct);
                            assertEquals(direct.limit(), direct.position(), "update consumes the buffer");
                        }
                    }
                    at += n;
                }
                assertEquals(expected, d.hex(), size + " bytes (" + (StreamDigest.isNative() ? "native" : "JDK") + ")");
            }
        }
    }
}
