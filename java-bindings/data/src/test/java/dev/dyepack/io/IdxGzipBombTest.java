package dev.dyepack.io;

import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.dyepack.InvalidInputException;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.zip.GZIPOutputStream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A gzip IDX file is checked against its header's declared size while it inflates: inflating stops as
 * soon as the stream holds more than declared, so a small file that inflates to gigabytes is refused
 * at once rather than after inflating all of it.
 */
class IdxGzipBombTest {
    @TempDir
    Path dir;

    @Test
    void inflatingStopsAtTheDeclaredSize() throws IOException {
        ByteArrayOutputStream gz = new ByteArrayOutputStream();
        try (GZIPOutputStream z = new GZIPOutputStream(gz)) {
            z.write(new byte[] {0, 0, 0x08, 1, 0, 0, 0, 16});
            z.write(new byte[4 << 20]);
        }
        // The compressed stream is cut short near its end: a reader that inflated everything would reach
        // the damage and call the file truncated; one that stops at the declared 16 bytes never sees it.
        byte[] bytes = gz.toByteArray();
        Path f = Files.write(dir.resolve("bomb-idx1-ubyte.gz"), Arrays.copyOf(bytes, bytes.length - 64));
        InvalidInputException e = assertThrows(InvalidInputException.class, () -> IdxReader.open(f).close());
        assertTrue(e.getMessage().contains("more than that (trailing bytes)"), e.getMessage());
        assertTrue(e.getMessage().startsWith(f.toString()), e.getMessage());
    }
}
