package dev.dyepack.io;

import dev.dyepack.FileSystemSync;
import java.io.IOException;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.Comparator;
import java.util.List;
import java.util.stream.Stream;

/**
 * Making a staged tree durable before the rename that publishes it.
 *
 * <p>A tree of many files (an image folder) is flushed with one {@code syncfs(2)} of its file system
 * ({@link FileSystemSync}): every file's data and every folder's entries reach the disk in one write-back,
 * where forcing each file and folder cost a journal commit apiece (10,000 images: 20,000 fsync calls). A
 * tree of a few files (an array file, its labels and a manifest) is forced file by file, so that it does
 * not wait for what other programs left dirty on the same file system. Where the platform has no
 * {@code syncfs} every file is forced, from several threads at once (concurrent forces share the
 * journal's commits), then every folder, deepest first.
 *
 * <p>Stateless and thread-safe.
 */
final class Durability {
    /** Trees with at least this many files are flushed with one {@code syncfs}. */
    static final int SYNCFS_FILES = 32;

    /** Threads that force files where each is forced on its own. */
    private static final int FORCE_THREADS = 16;

    /** Set to {@code fsync} to force file by file even where {@code syncfs} is available (measurement, tests). */
    static final String PROPERTY = "dyepack.sync";

    private Durability() {
    }

    /**
     * Forces every file and folder of the tree under {@code root} to disk. A tree inside one folder lies on
     * one file system (nothing is mounted inside a staging folder this project created), so one
     * {@code syncfs} of {@code root} covers all of it.
     *
     * @param root a file or folder this process wrote
     * @throws IOException if a file cannot be forced, or the file system reports a write-back error
     */
    static void forceTree(Path root) throws IOException {
        if (!"fsync".equals(System.getProperty(PROPERTY)) && atLeastFiles(root, SYNCFS_FILES)
                && FileSystemSync.sync(root)) {
            return;
        }
        forceEach(root);
    }

    /** Forces every file (on several threads), then every folder, deepest first. */
    static void forceEach(Path root) throws IOException {
        List<Path> all;
        try (Stream<Path> walk = Files.walk(root)) {
            all = walk.sorted(Comparator.reverseOrder()).toList();
        }
        List<Path> files = all.stream().filter(p -> Files.isRegularFile(p, LinkOption.NOFOLLOW_LINKS)).toList();
        Parallel.forEachIo(files.size(), FORCE_THREADS, i -> {
            try (FileChannel ch = FileChannel.open(files.get(i), StandardOpenOption.READ)) {
                ch.force(true);
            }
        });
        for (Path p : all) {
            if (Files.isDirectory(p, LinkOption.NOFOLLOW_LINKS)) {
                AtomicFiles.syncDirectory(p);
            }
        }
    }

    /** Whether the tree holds at least {@code n} regular files; stops looking once it has found them. */
    private static boolean atLeastFiles(Path root, int n) throws IOException {
        try (Stream<Path> walk = Files.walk(root)) {
            return walk.filter(p -> Files.isRegularFile(p, LinkOption.NOFOLLOW_LINKS)).limit(n).count() >= n;
        }
    }
}
