package dev.dyepack;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The native batch copy against Java's own reading of the files: every target holds its source's bytes,
 * every digest is {@code MessageDigest}'s, the sink sees the same bytes once per file, and failures
 * name the file (the one of lowest index) without replacing anything.
 */
class FileCopyTest {
    @TempDir
    Path dir;

    /** Empty, one-byte, small and several-MB files in two folders. */
    private Path[] sources(Random random) throws IOException {
        int[] sizes = {0, 1, 3_600, 63, 64, 65, 5 * 1024 * 1024 + 3, 0, 3_700, 100_000};
        Path[] sources = new Path[sizes.length];
        for (int i = 0; i < sizes.length; i++) {
            Path folder = Files.createDirectories(dir.resolve("in").resolve("class-" + (i % 2)));
            byte[] bytes = new byte[sizes[i]];
            random.nextBytes(bytes);
            sources[i] = Files.write(folder.resolve("img-" + i + ".png"), bytes);
        }
        return sources;
    }

    private Path[] targets(Path[] sources, String name) throws IOException {
        Path[] targets = new Path[sources.length];
        for (int i = 0; i < sources.length; i++) {
            Path folder = Files.createDirectories(dir.resolve(name).resolve(sources[i].getParent().getFileName()));
            targets[i] = folder.resolve(sources[i].getFileName());
        }
        return targets;
    }

    @Test
    void copiesEveryFileWithItsDigestThroughAnyArenaAndThreadCount() throws Exception {
        Path[] sources = sources(new Random(1));
        // The default arena, one that holds a few small files per round, and one smaller than most files.
        int[][] runs = {{FileCopy.ARENA_BYTES, 4}, {8_000, 2}, {50, 1}};
        for (int[] run : runs) {
            Path[] targets = targets(sources, "out-" + run[0] + "-" + run[1]);
            List<Integer> order = new ArrayList<>();
            FileCopy.copy(sources, targets, Integer.MAX_VALUE - 8, run[1], (index, bytes, sha256) -> {
                order.add(index);
                byte[] want = Files.readAllBytes(sources[index]);
                byte[] got = new byte[bytes.remaining()];
                bytes.get(got);
                assertArrayEquals(want, got, "bytes handed over for " + sources[index]);
                assertArrayEquals(sha256(want), sha256, "digest of " + sources[index]);
            }, run[0]);
            List<Integer> all = new ArrayList<>();
            for (int i = 0; i < sources.length; i++) {
                all.add(i);
                assertArrayEquals(Files.readAllBytes(sources[i]), Files.readAllBytes(targets[i]), targets[i].toString());
            }
            order.sort(null);
            assertEquals(all, order, "arena " + run[0] + ", " + run[1] + " threads: the sink sees every file once");
        }
    }

    @Test
    void aMissingSourceIsNamedAndEveryEarlierFileIsCopied() throws Exception {
        Path[] sources = sources(new Random(2));
        Path missing = dir.resolve("in").resolve("class-1").resolve("gone.png");
        Path alsoMissing = dir.resolve("in").resolve("class-0").resolve("also-gone.png");
        sources[3] = missing;
        sources[7] = alsoMissing;
        Path[] targets = targets(sources, "out");
        List<Integer> seen = new ArrayList<>();
        NoSuchFileException e = assertThrows(NoSuchFileException.class, () -> FileCopy.copy(sources, targets,
                Integer.MAX_VALUE - 8, 3, (index, bytes, sha256) -> seen.add(index), 5_000));
        assertTrue(e.getMessage().contains(missing.toString()), e.getMessage());
        seen.sort(null);
        assertEquals(List.of(0, 1, 2), seen.subList(0, 3), "every file before the failure reaches the sink");
        assertFalse(seen.contains(3));
        assertFalse(Files.exists(targets[3]));
    }

    @Test
    void anExistingTargetIsNamedAndKept() throws Exception {
        Path[] sources = sources(new Random(3));
        Path[] targets = targets(sources, "out");
        byte[] there = {9, 9, 9};
        Files.write(targets[5], there);
        FileAlreadyExistsException e = assertThrows(FileAlreadyExistsException.class,
                () -> FileCopy.copy(sources, targets, Integer.MAX_VALUE - 8, 2, (index, bytes, sha256) -> { }));
        assertTrue(e.getMessage().contains(targets[5].toString()), e.getMessage());
        assertArrayEquals(there, Files.readAllBytes(targets[5]));
        // A link at the target is not followed either.
        Path elsewhere = Files.write(dir.resolve("elsewhere"), there);
        Path[] one = {sources[2]};
        Path[] link = {Files.createSymbolicLink(dir.resolve("link.png"), elsewhere)};
        assertThrows(FileAlreadyExistsException.class,
                () -> FileCopy.copy(one, link, Integer.MAX_VALUE - 8, 1, (index, bytes, sha256) -> { }));
        assertArrayEquals(there, Files.readAllBytes(elsewhere));
    }

    @Test
    void aTooLargeFileGoesToTheSinkAndASinkFailureStopsTheCopy() throws Exception {
        Path[] sources = sources(new Random(4));
        Path[] targets = targets(sources, "out");
        long[] reported = {-1, -1};
        IOException e = assertThrows(IOException.class, () -> FileCopy.copy(sources, targets, 1 << 20, 2,
                new FileCopy.Sink() {
                    @Override
                    public void copied(int index, ByteBuffer bytes, byte[] sha256) {
                    }

                    @Override
                    public void tooLarge(int index, long size) throws IOException {
                        reported[0] = index;
                        reported[1] = size;
                        throw new IOException("too large: " + index);
                    }
                }));
        assertEquals("too large: 6", e.getMessage());
        assertArrayEquals(new long[] {6, Files.size(sources[6])}, reported);
        assertFalse(Files.exists(targets[6]));

        Path[] again = targets(sources, "again");
        IOException stop = assertThrows(IOException.class, () -> FileCopy.copy(sources, again, Integer.MAX_VALUE - 8, 2,
                (index, bytes, sha256) -> {
                    if (index == 4) {
                        throw new IOException("refused " + index);
                    }
                }));
        assertEquals("refused 4", stop.getMessage());
    }

    @Test
    void badArgumentsAreRefusedBeforeAnythingIsTouched() throws Exception {
        Path[] sources = sources(new Random(5));
        Path[] targets = targets(sources, "out");
        FileCopy.Sink none = (index, bytes, sha256) -> { };
        assertThrows(InvalidArgumentException.class, () -> FileCopy.copy(sources, new Path[1], 10, 1, none));
        assertThrows(InvalidArgumentException.class, () -> FileCopy.copy(sources, targets, 10, 0, none));
        assertThrows(InvalidArgumentException.class, () -> FileCopy.copy(sources, targets, -1, 1, none));
        assertThrows(InvalidArgumentException.class, () -> FileCopy.copy(null, targets, 10, 1, none));
        for (Path t : targets) {
            assertFalse(Files.exists(t));
        }
        FileCopy.copy(new Path[0], new Path[0], 10, 1, none);
    }

    private static byte[] sha256(byte[] bytes) {
        try {
            return MessageDigest.getInstance("SHA-256").digest(bytes);
        } catch (java.security.NoSuchAlgorithmException e) {
            throw new AssertionError(e);
        }
    }
}
