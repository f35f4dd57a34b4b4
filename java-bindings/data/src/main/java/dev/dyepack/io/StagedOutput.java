package dev.dyepack.io;

import dev.dyepack.InvalidArgumentException;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.channels.OverlappingFileLockException;
import java.nio.charset.StandardCharsets;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.BasicFileAttributes;
import java.security.SecureRandom;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Objects;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;

/**
 * One output of a command (a file, or a directory of files that belong together), built whole in a
 * hidden staging directory beside its destination and moved into place as the last step: a reader
 * sees nothing, the old output, or the complete new one, never a mixture; a run killed at any point
 * leaves the destination as it was.
 *
 * <p>The contract, for every command that writes:
 * <ul>
 *   <li><b>Refusal.</b> An existing non-empty destination is refused unless {@code replace} is set
 *       (the CLI's {@code --force}); with it the old output is replaced only by the final rename, so a
 *       failure before that leaves it intact. A destination that is or holds one of the inputs, or lies
 *       inside an input folder, is refused even with {@code replace}.</li>
 *   <li><b>Lock.</b> While staged, the destination is locked: {@code .NAME.dyepack-lock} beside it,
 *       held with an operating-system lock (released by the kernel when the process dies, however it
 *       dies). A second run for the same destination fails at once with {@link OutputBusyException}
 *       naming the destination and the holder's process id.</li>
 *   <li><b>Leftovers.</b> Staging directories are named {@code .NAME.dyepack-tmp-PID-RANDOM} (and a
 *       replaced output, between the two renames of a replacement, {@code .NAME.dyepack-old-PID-RANDOM}).
 *       Under the lock, a new run removes those whose process is gone (restoring a replaced output if
 *       its replacement never arrived) and names, in {@link #notes()}, those whose process still
 *       runs.</li>
 *   <li><b>Durability.</b> On {@link #commit()} every file and directory of the staged tree is forced
 *       to disk before the rename (a tree of many files with one {@code syncfs} of its file system, see
 *       {@code Durability}), and the destination's directory after it.</li>
 * </ul>
 *
 * <p>Not thread-safe: one staged output belongs to one job.
 */
public final class StagedOutput implements AutoCloseable {
    /** What the destination is. */
    public enum Kind {
        /** One file: the writer fills {@link #path()}, a file inside the staging directory. */
        FILE,
        /** A directory: the writer fills {@link #path()}, the staging directory itself. */
        DIRECTORY
    }

    private static final SecureRandom RANDOM = new SecureRandom();
    private static final String TMP = ".dyepack-tmp-";
    private static final String OLD = ".dyepack-old-";
    private static final String LOCK = ".dyepack-lock";

    private final Path destination;
    private final Kind kind;
    private final boolean replace;
    private final Path staging;
    private final FileChannel lockChannel;
    private final FileLock lock;
    private final Path lockFile;
    private final List<Path> createdParents;
    private final List<String> notes;
    private boolean done;

    private StagedOutput(Path destination, Kind kind, boolean replace, Path staging, FileChannel lockChannel,
            FileLock lock, Path lockFile, List<Path> createdParents, List<String> notes) {
        this.destination = destination;
        this.kind = kind;
        this.replace = replace;
        this.staging = staging;
        this.lockChannel = lockChannel;
        this.lock = lock;
        this.lockFile = lockFile;
        this.createdParents = createdParents;
        this.notes = notes;
    }

    /**
     * Checks a destination without touching the disk: for commands that want to refuse an occupied
     * destination before any long work (the check is repeated, under the lock, by {@link #begin}).
     *
     * @param destination the final path
     * @param kind        a file or a directory
     * @param replace     whether an existing output may be replaced
     * @param inputs      paths the command reads (null entries are skipped); none may be the
     *                    destination or lie inside it, and the destination may not lie inside one
     * @throws InvalidArgumentException if the destination names no file, is, holds or lies inside an
     *                                  input, is of the other kind, or is occupied and {@code replace}
     *                                  is not set
     * @throws IOException              if the file system cannot be read
     */
    public static void check(Path destination, Kind kind, boolean replace, Path... inputs) throws IOException {
        Objects.requireNonNull(kind, "kind");
        Path dest = absolute(destination);
        for (Path in : inputs) {
            if (in == null) {
                continue;
            }
            Path input = in.toAbsolutePath().normalize();
            boolean inside = input.startsWith(dest);
            if (!inside && Files.exists(input) && Files.exists(dest)) {
                Path real = input.toRealPath();
                inside = real.startsWith(dest.toRealPath()) || Files.isSameFile(input, dest);
            }
            if (inside && (input.equals(dest) || Files.exists(dest) && Files.isSameFile(input, dest))) {
                throw new InvalidArgumentException("output " + destination + " is the input " + in
                        + "; choose another name (DyePack never modifies its inputs)", "out", destination,
                        "a path that is no input");
            }
            if (inside) {
                throw new InvalidArgumentException("output " + destination + " would overwrite the input " + in
                        + " (DyePack never modifies its inputs); choose another output", "out", destination,
                        "a path that holds no input");
            }
            // An output inside an input folder (an image folder) would change that input.
            boolean within = dest.startsWith(input);
            if (!within && Files.isDirectory(input) && dest.getParent() != null && Files.exists(dest.getParent())) {
                within = dest.getParent().toRealPath().startsWith(input.toRealPath());
            }
            if (within) {
                throw new InvalidArgumentException("output " + destination + " lies inside the input " + in
                        + " (DyePack never modifies its inputs); choose an output outside it", "out", destination,
                        "a path outside every input");
            }
        }
        if (!Files.exists(dest, LinkOption.NOFOLLOW_LINKS)) {
            return;
        }
        BasicFileAttributes a = Files.readAttributes(dest, BasicFileAttributes.class, LinkOption.NOFOLLOW_LINKS);
        if (kind == Kind.DIRECTORY && !a.isDirectory()) {
            throw new InvalidArgumentException("output " + destination + " exists and is not a directory; give a "
                    + "directory name", "out", destination, "a new or empty directory");
        }
        if (kind == Kind.FILE && a.isDirectory()) {
            throw new InvalidArgumentException("output " + destination + " is a directory; give a file name", "out",
                    destination, "a file name");
        }
        if (!replace && !isEmpty(dest, a)) {
            throw new InvalidArgumentException("output " + destination + " already exists and is not empty; choose "
                    + "another, or give --force to replace it (the old one stays until the new one is complete)",
                    "out", destination, "a new or empty " + (kind == Kind.FILE ? "file" : "directory")
                    + ", or --force");
        }
    }

    /**
     * Locks the destination, tidies leftovers of earlier runs, checks it again under the lock, and
     * creates the staging directory (and the destination's missing parent directories, removed again
     * if nothing is committed).
     *
     * @param destination the final path
     * @param kind        a file or a directory
     * @param replace     whether an existing output may be replaced (only by the final rename)
     * @param inputs      paths the command reads; none may be the destination or lie inside it
     * @return the staged output; fill {@link #path()}, then {@link #commit()}; always close it
     * @throws InvalidArgumentException as {@link #check}
     * @throws OutputBusyException      if another run holds the destination's lock
     * @throws IOException              if the lock or the staging directory cannot be created
     */
    public static StagedOutput begin(Path destination, Kind kind, boolean replace, Path... inputs)
            throws IOException {
        check(destination, kind, replace, inputs);
        Path dest = absolute(destination);
        Path parent = dest.getParent();
        List<Path> created = new ArrayList<>();
        for (Path p = parent; p != null && !Files.exists(p); p = p.getParent()) {
            created.add(0, p);
        }
        try {
            Files.createDirectories(parent);
        } catch (java.nio.file.FileSystemException e) {
            // Name the destination the user gave, and why its folder cannot be made.
            String why = e instanceof java.nio.file.FileAlreadyExistsException
                    ? (e.getFile() == null ? "a" : e.getFile() + " is a") + " file where a folder is needed"
                    : e instanceof java.nio.file.AccessDeniedException ? "permission denied in " + e.getFile()
                    : e.getReason() != null ? e.getReason() : e.toString();
            throw new IOException(destination + ": cannot be written: " + why, e);
        }
        String name = dest.getFileName().toString();
        Path lockFile = parent.resolve("." + name + LOCK);
        FileChannel channel = null;
        FileLock lock = null;
        try {
            for (int attempt = 0; lock == null; attempt++) {
                Object before = fileKey(lockFile);
                channel = FileChannel.open(lockFile, StandardOpenOption.CREATE, StandardOpenOption.READ,
                        StandardOpenOption.WRITE);
                try {
                    lock = channel.tryLock();
                } catch (OverlappingFileLockException e) {
                    lock = null;
                }
                if (lock == null) {
                    String holder = holder(channel);
                    channel.close();
                    throw new OutputBusyException(destination, holder);
                }
                // A holder deletes the lock file before releasing it; a lock won on a file that is no
                // longer (or not yet) the one under the name is no lock: try again.
                Object after = fileKey(lockFile);
                if (before == null || !before.equals(after)) {
                    lock.release();
                    channel.close();
                    lock = null;
                    if (attempt >= 20) {
                        throw new OutputBusyException(destination, null);
                    }
                }
            }
            byte[] pid = (ProcessHandle.current().pid() + "\n").getBytes(StandardCharsets.US_ASCII);
            channel.truncate(0);
            channel.write(ByteBuffer.wrap(pid), 0);
            List<String> notes = tidy(parent, name, dest);
            check(destination, kind, replace, inputs);
            Path staging = parent.resolve("." + name + TMP + ProcessHandle.current().pid() + "-"
                    + Long.toHexString(RANDOM.nextLong() & Long.MAX_VALUE));
            Files.createDirectory(staging);
            StagedOutput out = new StagedOutput(dest, kind, replace, staging, channel, lock, lockFile, created, notes);
            return out;
        } catch (IOException | RuntimeException | Error e) {
            if (lock != null) {
                try {
                    Files.deleteIfExists(lockFile);
                    lock.release();
                } catch (IOException suppressed) {
                    e.addSuppressed(suppressed);
                }
            }
            if (channel != null) {
                try {
                    channel.close();
                } catch (IOException suppressed) {
                    e.addSuppressed(suppressed);
                }
            }
            removeEmpty(created);
            throw e;
        }
    }

    /** @return where the writer puts the output: a file path for {@link Kind#FILE}, the staging directory for {@link Kind#DIRECTORY} */
    public Path path() {
        return kind == Kind.FILE ? staging.resolve(destination.getFileName()) : staging;
    }

    /** @return the final path, absolute */
    public Path destination() {
        return destination;
    }

    /** @return lines about leftovers of earlier runs that were removed, restored, or left alone (empty: none) */
    public List<String> notes() {
        return List.copyOf(notes);
    }

    /**
     * Forces the staged tree to disk and moves it onto the destination (replacing an old output only
     * now, where allowed), then forces the destination's directory and releases the lock.
     *
     * @throws IllegalStateException    if already committed or closed, or a file output was not written
     * @throws InvalidArgumentException if the destination was occupied meanwhile and may not be replaced
     * @throws IOException              if forcing or renaming fails (then the old output is in place)
     */
    public void commit() throws IOException {
        if (done) {
            throw new IllegalStateException(destination + ": already committed or closed");
        }
        Path source = path();
        if (!Files.exists(source, LinkOption.NOFOLLOW_LINKS)) {
            throw new IllegalStateException(destination + ": nothing was written to " + source);
        }
        Durability.forceTree(source);
        check(destination, kind, replace);
        Path parent = destination.getParent();
        if (kind == Kind.FILE) {
            // rename(2) replaces a file atomically.
            Files.move(source, destination, StandardCopyOption.ATOMIC_MOVE);
        } else if (Files.exists(destination, LinkOption.NOFOLLOW_LINKS) && !isEmpty(destination,
                Files.readAttributes(destination, BasicFileAttributes.class, LinkOption.NOFOLLOW_LINKS))) {
            // A non-empty directory cannot be renamed over: set the old one aside, move the new one in,
            // then delete the old one. A crash between the two renames is repaired by the next run.
            Path old = parent.resolve("." + destination.getFileName() + OLD + ProcessHandle.current().pid() + "-"
                    + Long.toHexString(RANDOM.nextLong() & Long.MAX_VALUE));
            Files.move(destination, old, StandardCopyOption.ATOMIC_MOVE);
            try {
                Files.move(source, destination, StandardCopyOption.ATOMIC_MOVE);
            } catch (IOException | RuntimeException e) {
                try {
                    Files.move(old, destination, StandardCopyOption.ATOMIC_MOVE);
                } catch (IOException suppressed) {
                    e.addSuppressed(suppressed);
                }
                throw e;
            }
            AtomicFiles.syncDirectory(parent);
            deleteTree(old);
        } else {
            // rename(2) replaces an empty directory atomically.
            Files.move(source, destination, StandardCopyOption.ATOMIC_MOVE);
        }
        AtomicFiles.syncDirectory(parent);
        done = true;
        deleteTree(staging);
        release();
    }

    /**
     * Abandons an uncommitted output: deletes the staging directory and the parents this run created,
     * and releases the lock. After {@link #commit()}, or a second time, it does nothing.
     */
    @Override
    public void close() {
        if (done) {
            return;
        }
        done = true;
        deleteTree(staging);
        release();
        removeEmpty(createdParents);
    }

    private void release() {
        try {
            // Delete before releasing: a run waiting on this file then sees it gone and retries.
            Files.deleteIfExists(lockFile);
        } catch (IOException e) {
            // A stale lock file is harmless: the next run locks it again.
        }
        try {
            lock.release();
            lockChannel.close();
        } catch (IOException e) {
            // Closing the channel releases the lock; the process's exit would too.
        }
    }

    /** Removes or names leftovers of earlier runs for this destination; called under the lock. */
    private static List<String> tidy(Path parent, String name, Path dest) throws IOException {
        List<String> notes = new ArrayList<>();
        Pattern leftover = Pattern.compile(Pattern.quote("." + name) + "\\.dyepack-(tmp|old)-(\\d+)-[0-9a-f]+");
        List<Path> found = new ArrayList<>();
        // A plain listing, not a glob: an output's name may hold glob characters.
        String prefix = "." + name + ".dyepack-";
        try (DirectoryStream<Path> entries = Files.newDirectoryStream(parent)) {
            for (Path p : entries) {
                if (p.getFileName().toString().startsWith(prefix)) {
                    found.add(p);
                }
            }
        }
        found.sort(Comparator.comparing(Path::toString));
        for (Path p : found) {
            Matcher m = leftover.matcher(p.getFileName().toString());
            if (!m.matches()) {
                continue;
            }
            long pid = Long.parseLong(m.group(2));
            boolean alive = pid != ProcessHandle.current().pid()
                    && ProcessHandle.of(pid).map(ProcessHandle::isAlive).orElse(false);
            if (alive) {
                notes.add("left " + p + " alone: it belongs to process " + pid + ", which still runs; remove it "
                        + "once that process is gone");
            } else if (m.group(1).equals("old") && !Files.exists(dest, LinkOption.NOFOLLOW_LINKS)) {
                Files.move(p, dest, StandardCopyOption.ATOMIC_MOVE);
                notes.add("restored " + dest + " from " + p.getFileName() + ", left by an interrupted replacement");
            } else {
                deleteTree(p);
                notes.add("removed " + p.getFileName() + ", left by an interrupted run (process " + pid + ")");
            }
        }
        return notes;
    }

    private static Path absolute(Path destination) {
        Objects.requireNonNull(destination, "destination");
        Path dest = destination.toAbsolutePath().normalize();
        if (dest.getParent() == null || dest.getFileName() == null || destination.toString().isEmpty()) {
            throw new InvalidArgumentException("output " + destination + " names no file or directory", "out",
                    destination, "a path with a parent directory");
        }
        return dest;
    }

    private static boolean isEmpty(Path p, BasicFileAttributes a) throws IOException {
        if (a.isRegularFile()) {
            return a.size() == 0;
        }
        if (a.isDirectory()) {
            try (Stream<Path> s = Files.list(p)) {
                return s.findAny().isEmpty();
            }
        }
        return false;
    }

    private static Object fileKey(Path p) {
        try {
            return Files.readAttributes(p, BasicFileAttributes.class, LinkOption.NOFOLLOW_LINKS).fileKey();
        } catch (IOException e) {
            return null;
        }
    }

    private static String holder(FileChannel channel) {
        try {
            ByteBuffer b = ByteBuffer.allocate(32);
            channel.read(b, 0);
            String s = new String(b.array(), 0, b.position(), StandardCharsets.US_ASCII).trim();
            return s.matches("\\d{1,19}") ? s : null;
        } catch (IOException e) {
            return null;
        }
    }

    /** Deletes a tree without following links; best effort (it runs while another failure is reported). */
    static void deleteTree(Path root) {
        if (!Files.exists(root, LinkOption.NOFOLLOW_LINKS)) {
            return;
        }
        try (Stream<Path> walk = Files.walk(root)) {
            for (Path p : walk.sorted(Comparator.reverseOrder()).toList()) {
                try {
                    Files.deleteIfExists(p);
                } catch (NoSuchFileException e) {
                    // Already gone.
                }
            }
        } catch (IOException | RuntimeException e) {
            // Best effort: what is left is recognised by its name and removed by the next run.
        }
    }

    private static void removeEmpty(List<Path> created) {
        for (int i = created.size() - 1; i >= 0; i--) {
            try {
                Files.deleteIfExists(created.get(i));
            } catch (IOException e) {
                // Not empty (someone else wrote there) or not ours to remove: leave it.
            }
        }
    }
}
