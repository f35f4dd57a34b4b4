package dev.dyepack.io;

import java.io.IOException;
import java.nio.channels.FileChannel;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;

/**
 * The last step of every output DyePack writes: a complete temporary file (or directory) in the
 * destination's directory is moved onto its final name, so a reader sees either nothing or the whole
 * output, never a half-written one.
 */
public final class AtomicFiles {
    private AtomicFiles() {}

    private static final java.security.SecureRandom RANDOM = new java.security.SecureRandom();

    /**
     * Creates an empty {@code .<name>.dyepack-tmp-<pid>-<random>} beside {@code target}: in the same
     * directory, so the final rename stays on one file system; hidden by the dot; named with this
     * process's id, so that a file left by a killed run is recognised as such ({@link StagedOutput}
     * removes it once that process is gone); with default permissions (unlike
     * {@link Files#createTempFile}, which makes files owner-only).
     *
     * @param target the final path
     * @return the new, empty temporary file
     * @throws IOException if it cannot be created (the message names {@code target} and why)
     * @throws IllegalArgumentException if target names no file
     */
    public static Path newTempFile(Path target) throws IOException {
        Path absolute = target.toAbsolutePath();
        Path dir = absolute.getParent();
        if (dir == null || absolute.getFileName() == null) {
            throw new IllegalArgumentException(target + " does not name a file");
        }
        String base = absolute.getFileName().toString();
        for (int attempt = 0; ; attempt++) {
            Path temp = dir.resolve("." + base + ".dyepack-tmp-" + ProcessHandle.current().pid() + "-"
                    + Long.toHexString(RANDOM.nextLong() & Long.MAX_VALUE));
            try {
                return Files.createFile(temp);
            } catch (java.nio.file.FileAlreadyExistsException e) {
                if (attempt >= 10) {
                    throw e;
                }
            } catch (java.nio.file.FileSystemException e) {
                // Name the destination the user gave, not the temporary file they never asked for.
                String why = e instanceof java.nio.file.NoSuchFileException ? "its folder " + dir + " does not exist"
                        : e instanceof java.nio.file.AccessDeniedException ? "permission denied in " + dir
                        : e.getReason() != null ? e.getReason() : e.toString();
                throw new IOException(target + ": cannot be written: " + why, e);
            }
        }
    }

    /**
     * Moves {@code temp} onto {@code target} atomically where the file system can (a rename within one
     * directory), else replacing it; then makes the rename durable where possible.
     *
     * @param temp   the complete temporary file or directory, in target's directory
     * @param target the final name
     * @throws IOException if the move fails (temp is left for the caller to delete)
     */
    public static void moveIntoPlace(Path temp, Path target) throws IOException {
        try {
            Files.move(temp, target, StandardCopyOption.ATOMIC_MOVE);
        } catch (AtomicMoveNotSupportedException e) {
            Files.move(temp, target, StandardCopyOption.REPLACE_EXISTING);
        }
        Path dir = target.toAbsolutePath().getParent();
        if (dir != null) {
            syncDirectory(dir);
        }
    }

    /**
     * Makes a rename in {@code dir} durable where a directory can be opened (Linux, macOS); best effort:
     * the file itself is already complete and in place.
     *
     * @param dir the directory
     */
    public static void syncDirectory(Path dir) {
        try (FileChannel d = FileChannel.open(dir, StandardOpenOption.READ)) {
            d.force(true);
        } catch (IOException | UnsupportedOperationException e) {
            // Best effort only.
        }
    }
}
