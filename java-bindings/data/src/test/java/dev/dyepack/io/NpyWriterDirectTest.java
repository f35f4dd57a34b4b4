package dev.dyepack.io;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Set;
import java.util.SplittableRandom;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * Direct writes ({@link NpyWriter#writeAroundCache}) give the file that writes through the page cache give, byte for
 * byte, at every size around the block and buffer boundaries and in pieces of every size; turned off, or on another
 * file system, the bytes are the same.
 */
class NpyWriterDirectTest {
    /** File systems known to take direct writes: there the writer must use them. */
    private static final Set<String> DIRECT_FILE_SYSTEMS = Set.of("ext4", "xfs", "btrfs");

    @TempDir
    Path dir;

    /** Writes {@code data} as a uint8 .npy of shape (n, width) in pieces of random sizes, directly or not. */
    private static boolean write(Path file, byte[] data, long n, long width, boolean direct, long seed)
            throws IOException {
        SplittableRandom r = new SplittableRandom(seed);
        boolean used;
        try (NpyWriter w = NpyWriter.create(file, "|u1", new long[] {n, width})) {
            used = direct && w.writeAroundCache();
            int at = 0;
            while (at < data.length) {
                int k = Math.min(data.length - at, 1 + r.nextInt(r.nextBoolean() ? 64 : 3 << 20));
                ByteBuffer piece = ByteBuffer.allocateDirect(k);
                piece.put(data, at, k).flip();
                w.write(piece);
                assertFalse(piece.hasRemaining(), "a write takes every byte it is given");
                at += k;
            }
            w.commit();
        }
        return used;
    }

    @ParameterizedTest(name = "{0} bytes")
    @ValueSource(ints = {0, 1, 4095 - 128, 4096 - 128, 4097 - 128, 4096, 8 << 20, (8 << 20) - 128, (8 << 20) + 1,
        3 * (8 << 20) + 12345})
    void directWritesGiveTheSameFileAsWritesThroughTheCache(int size) throws IOException {
        byte[] data = new byte[size];
        new SplittableRandom(size).nextBytes(data);
        long width = size == 0 ? 7 : 1;
        long n = size == 0 ? 0 : size;
        Path cached = dir.resolve("cached.npy");
        Path direct = dir.resolve("direct.npy");
        assertFalse(write(cached, data, n, width, false, 1));
        boolean used = write(direct, data, n, width, true, 2);
        if (DIRECT_FILE_SYSTEMS.contains(Files.getFileStore(dir).type())) {
            assertTrue(used, "a " + Files.getFileStore(dir).type() + " file system takes direct writes");
        }
        assertArrayEquals(Files.readAllBytes(cached), Files.readAllBytes(direct));
        try (Stream<Path> left = Files.list(dir)) {
            assertEquals(2, left.count(), "no temporary file is left");
        }
    }

    @Test
    void turnedOffOrOnAnotherFileSystemTheBytesAreTheSame() throws IOException {
        byte[] data = new byte[100_000];
        new SplittableRandom(3).nextBytes(data);
        Path cached = dir.resolve("cached.npy");
        write(cached, data, data.length, 1, false, 5);
        String before = System.getProperty("dyepack.directWrites");
        System.setProperty("dyepack.directWrites", "false");
        try {
            Path off = dir.resolve("off.npy");
            assertFalse(write(off, data, data.length, 1, true, 4), "dyepack.directWrites=false turns them off");
            assertArrayEquals(Files.readAllBytes(cached), Files.readAllBytes(off));
        } finally {
            if (before == null) {
                System.clearProperty("dyepack.directWrites");
            } else {
                System.setProperty("dyepack.directWrites", before);
            }
        }
        // A memory file system (direct writes or not, as its kernel allows): the same bytes.
        Path shm = Path.of("/dev/shm");
        assumeTrue(Files.isDirectory(shm) && Files.isWritable(shm), "no writable /dev/shm");
        Path sub = Files.createTempDirectory(shm, "dyepack-direct-test");
        try {
            Path out = sub.resolve("x.npy");
            write(out, data, data.length, 1, true, 6);
            assertArrayEquals(Files.readAllBytes(cached), Files.readAllBytes(out));
        } finally {
            try (Stream<Path> files = Files.list(sub)) {
                for (Path f : files.toList()) {
                    Files.delete(f);
                }
            }
            Files.delete(sub);
        }
    }

    @Test
    void anAbandonedDirectFileLeavesNothingAndTheWrongSizeIsRefused() throws IOException {
        Path out = dir.resolve("x.npy");
        try (NpyWriter w = NpyWriter.create(out, "|u1", new long[] {10_000_000})) {
            w.writeAroundCache();
            w.write(ByteBuffer.allocateDirect(9_000_000));
            assertThrows(IllegalStateException.class, () -> w.transferFrom(null, 0, 1, "x"));
            assertThrows(IllegalStateException.class, w::commit, "a file one million bytes short is not committed");
        }
        try (Stream<Path> left = Files.list(dir)) {
            assertEquals(0, left.count(), "nothing under the final name, no temporary file");
        }
        try (NpyWriter w = NpyWriter.create(out, "|u1", new long[] {10})) {
            w.write(ByteBuffer.allocate(1));
            assertThrows(IllegalStateException.class, w::writeAroundCache, "chosen before any data only");
        }
    }
}
