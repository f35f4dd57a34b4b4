package dev.dyepack;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code syncfs} and a file's early write-back through the native library: done on Linux, declined elsewhere,
 * failures named, the files' bytes unchanged.
 */
class FileSystemSyncTest {
    @TempDir
    Path dir;

    @Test
    void flushesTheFileSystemOnLinuxAndLeavesTheFilesAsTheyAre() throws IOException {
        Path f = dir.resolve("written");
        byte[] bytes = {1, 2, 3};
        Files.write(f, bytes);
        boolean linux = System.getProperty("os.name").toLowerCase(java.util.Locale.ROOT).contains("linux");
        assertEquals(linux, FileSystemSync.sync(f));
        assertEquals(linux, FileSystemSync.sync(dir));
        assertArrayEquals(bytes, Files.readAllBytes(f));
    }

    @Test
    void startsTheWriteBackOfAFileOnLinuxAndChangesNothingInIt() throws IOException {
        Path f = dir.resolve("large");
        byte[] bytes = new byte[3 << 20];
        new java.util.Random(5).nextBytes(bytes);
        Files.write(f, bytes);
        boolean linux = System.getProperty("os.name").toLowerCase(java.util.Locale.ROOT).contains("linux");
        assertEquals(linux, FileSystemSync.startWriteback(f));
        // Again while those pages may still be on their way (they are skipped), and after more was appended.
        Files.write(f, new byte[] {7}, java.nio.file.StandardOpenOption.APPEND);
        assertEquals(linux, FileSystemSync.startWriteback(f));
        byte[] read = Files.readAllBytes(f);
        assertEquals(bytes.length + 1, read.length);
        assertArrayEquals(bytes, Arrays.copyOf(read, bytes.length));
        assertEquals(7, read[bytes.length]);
    }

    @Test
    void aMissingPathIsNamedAndNullRefused() {
        Path missing = dir.resolve("missing").resolve("x");
        if (System.getProperty("os.name").toLowerCase(java.util.Locale.ROOT).contains("linux")) {
            IOException e = assertThrows(IOException.class, () -> FileSystemSync.sync(missing));
            assertTrue(e.getMessage().contains(missing.toString()), e.getMessage());
        }
        assertThrows(InvalidArgumentException.class, () -> FileSystemSync.sync(null));
        if (System.getProperty("os.name").toLowerCase(java.util.Locale.ROOT).contains("linux")) {
            IOException e = assertThrows(IOException.class, () -> FileSystemSync.startWriteback(missing));
            assertTrue(e.getMessage().contains(missing.toString()) && e.getMessage().contains("write-back"),
                    e.getMessage());
        }
        assertThrows(InvalidArgumentException.class, () -> FileSystemSync.startWriteback(null));
    }
}
