package dev.dyepack;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code syncfs} through the native library: done on Linux, declined elsewhere, failures named. */
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
    void aMissingPathIsNamedAndNullRefused() {
        Path missing = dir.resolve("missing").resolve("x");
        if (System.getProperty("os.name").toLowerCase(java.util.Locale.ROOT).contains("linux")) {
            IOException e = assertThrows(IOException.class, () -> FileSystemSync.sync(missing));
            assertTrue(e.getMessage().contains(missing.toString()), e.getMessage());
        }
        assertThrows(InvalidArgumentException.class, () -> FileSystemSync.sync(null));
    }
}
