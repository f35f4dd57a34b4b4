package dev.dyepack;

import dev.dyepack.internal.DyePackNative;
import dev.dyepack.internal.NativeLibrary;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.charset.Charset;
import java.nio.file.AccessDeniedException;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.Arrays;
import org.bytedeco.javacpp.BytePointer;
import org.bytedeco.javacpp.IntPointer;
import org.bytedeco.javacpp.LongPointer;

/**
 * Copies many files at once in the native library ({@code dp_copy_files}): per file one open, one read,
 * one exclusive create and one write, on a few native threads, with the SHA-256 of the bytes copied.
 * For trees of thousands of small files, where a loop of Java file calls costs several times the system
 * time of {@code cp -r}. Nothing is synced: flush with {@link FileSystemSync} (or force the files) after.
 *
 * <p>Each copied file's bytes are handed to a {@link Sink} on the calling thread, so the caller can examine
 * them (parse a header, say) without reading the file again. Stateless and thread-safe.
 */
public final class FileCopy {
    /** Native memory the files' bytes pass through per round: bounds what a copy holds at once. */
    static final int ARENA_BYTES = 32 << 20;

    private FileCopy() {
    }

    /**
     * Whether the native library, and so {@link #copy}, is usable in this process.
     *
     * @return true when it loaded
     */
    public static boolean available() {
        return NativeLibrary.isLoaded();
    }

    /**
     * Receives each copied file on the thread that called {@link #copy}: in ascending index order among
     * the files copied in one pass through the arena, not across passes (a file too large for what was
     * left of the arena comes in a later pass, after files of higher index).
     */
    public interface Sink {
        /**
         * Called once per file copied.
         *
         * @param index  the file's index in the arrays given to {@link #copy}
         * @param bytes  the bytes copied, position 0 to limit; valid only during this call
         * @param sha256 their 32-byte SHA-256
         * @throws IOException to stop the copy: it is then rethrown, unless a file of lower index failed
         */
        void copied(int index, ByteBuffer bytes, byte[] sha256) throws IOException;

        /**
         * Called, instead of copying it, for a source larger than the copy's {@code maxFileBytes}; must
         * throw (the default throws {@link InvalidInputException} naming the file and both sizes).
         *
         * @param index the file's index
         * @param size  its size in bytes
         * @throws IOException or a runtime exception, always
         */
        default void tooLarge(int index, long size) throws IOException {
            throw new InvalidInputException("file " + index + ": " + size + " bytes, more than the copy allows");
        }
    }

    /**
     * Copies {@code sources[i]} to {@code targets[i]} for every i. A target is created new and never
     * replaces a file (or follows a link) already there. When several files fail, the one of lowest index
     * is reported, and every file of lower index has been copied and handed to the sink; files of higher
     * index may or may not have been copied (the caller discards the output).
     *
     * @param sources      the files to read (regular files)
     * @param targets      the files to create, in existing folders; as many as sources
     * @param maxFileBytes a source larger than this is not copied but reported to {@link Sink#tooLarge};
     *                     at most {@code Integer.MAX_VALUE - 8}
     * @param threads      native threads to copy on, at least 1
     * @param sink         receives each copied file's bytes and digest
     * @throws InvalidArgumentException if an argument is null or out of range, or the arrays differ in length
     * @throws NativeLibraryException   if the native library is not loaded
     * @throws NoSuchFileException      if a source does not exist (the message is its path)
     * @throws AccessDeniedException    if a source cannot be read for want of permission
     * @throws FileAlreadyExistsException if a target exists
     * @throws IOException              if a source cannot be read or a target written (the message names
     *                                  the file and the system's reason), or as the sink throws
     */
    public static void copy(Path[] sources, Path[] targets, long maxFileBytes, int threads, Sink sink)
            throws IOException {
        copy(sources, targets, maxFileBytes, threads, sink, ARENA_BYTES);
    }

    /** As {@link #copy(Path[], Path[], long, int, Sink)} through an arena of the given size (for tests). */
    static void copy(Path[] sources, Path[] targets, long maxFileBytes, int threads, Sink sink, int arenaBytes)
            throws IOException {
        if (sources == null || targets == null || sink == null) {
            throw new InvalidArgumentException("sources, targets and sink must not be null");
        }
        if (sources.length != targets.length) {
            throw new InvalidArgumentException(sources.length + " sources but " + targets.length + " targets");
        }
        if (threads < 1) {
            throw new InvalidArgumentException("threads must be at least 1, got " + threads);
        }
        if (maxFileBytes < 0 || maxFileBytes > Integer.MAX_VALUE - 8) {
            throw new InvalidArgumentException("maxFileBytes must be 0 .. " + (Integer.MAX_VALUE - 8) + ", got "
                    + maxFileBytes);
        }
        NativeLibrary.require();
        int n = sources.length;
        if (n == 0) {
            return;
        }
        // File names reach the kernel in the encoding the JDK uses for them, not necessarily UTF-8.
        String jnu = System.getProperty("sun.jnu.encoding");
        Charset charset = jnu != null && Charset.isSupported(jnu) ? Charset.forName(jnu) : Charset.defaultCharset();
        byte[][] encoded = new byte[2 * n][];
        long total = 0;
        for (int i = 0; i < n; i++) {
            if (sources[i] == null || targets[i] == null) {
                throw new InvalidArgumentException("file " + i + ": source and target must not be null");
            }
            encoded[2 * i] = sources[i].toAbsolutePath().toString().getBytes(charset);
            encoded[2 * i + 1] = targets[i].toAbsolutePath().toString().getBytes(charset);
            total += encoded[2 * i].length + encoded[2 * i + 1].length + 2L;
        }
        long[] sourceAt = new long[n];
        long[] targetAt = new long[n];
        if (total > Integer.MAX_VALUE - 8) {
            throw new InvalidArgumentException(n + " paths of " + total + " bytes in all are too many for one copy");
        }
        byte[] blob = new byte[(int) total];
        int at = 0;
        for (int i = 0; i < 2 * n; i++) {
            (i % 2 == 0 ? sourceAt : targetAt)[i / 2] = at;
            System.arraycopy(encoded[i], 0, blob, at, encoded[i].length);
            at += encoded[i].length + 1; // the NUL that ends it is already there
        }
        try (BytePointer names = new BytePointer(total);
                BytePointer arena = new BytePointer(arenaBytes);
                LongPointer sourceAtP = new LongPointer(n);
                LongPointer targetAtP = new LongPointer(n);
                IntPointer statuses = new IntPointer(n);
                IntPointer errors = new IntPointer(n);
                LongPointer sizes = new LongPointer(n);
                LongPointer offsets = new LongPointer(n);
                BytePointer digests = new BytePointer(32L * n)) {
            names.put(blob);
            new Round(sources, targets, maxFileBytes, threads, sink, names, arena, arenaBytes, sourceAt, targetAt, sourceAtP,
                    targetAtP, statuses, errors, sizes, offsets, digests).run();
        }
    }

    /** The rounds of one copy: native calls over the files not yet done, until none is left. */
    private static final class Round {
        private final Path[] sources;
        private final Path[] targets;
        private final long maxFileBytes;
        private final int threads;
        private final Sink sink;
        private final BytePointer names;
        private final BytePointer arena;
        private final long arenaBytes;
        private final long[] sourceAt;
        private final long[] targetAt;
        private final LongPointer sourceAtP;
        private final LongPointer targetAtP;
        private final IntPointer statuses;
        private final IntPointer errors;
        private final LongPointer sizes;
        private final LongPointer offsets;
        private final BytePointer digests;
        private int firstFailed = Integer.MAX_VALUE;
        private Exception failure;

        Round(Path[] sources, Path[] targets, long maxFileBytes, int threads, Sink sink, BytePointer names,
                BytePointer arena, long arenaBytes, long[] sourceAt, long[] targetAt, LongPointer sourceAtP, LongPointer targetAtP,
                IntPointer statuses, IntPointer errors, LongPointer sizes, LongPointer offsets, BytePointer digests) {
            this.sources = sources;
            this.targets = targets;
            this.maxFileBytes = maxFileBytes;
            this.threads = threads;
            this.sink = sink;
            this.names = names;
            this.arena = arena;
            this.arenaBytes = arenaBytes;
            this.sourceAt = sourceAt;
            this.targetAt = targetAt;
            this.sourceAtP = sourceAtP;
            this.targetAtP = targetAtP;
            this.statuses = statuses;
            this.errors = errors;
            this.sizes = sizes;
            this.offsets = offsets;
            this.digests = digests;
        }

        void run() throws IOException {
            int[] pending = new int[sources.length];
            Arrays.setAll(pending, i -> i);
            int count = pending.length;
            while (count > 0) {
                for (int k = 0; k < count; k++) {
                    sourceAtP.put(k, sourceAt[pending[k]]);
                    targetAtP.put(k, targetAt[pending[k]]);
                }
                int next = call(count, arena, arenaBytes, pending);
                if (next == count && firstFailed > pending[0]) {
                    // Nothing fitted: the first file alone is larger than the arena; it gets an arena of its own.
                    long size = sizes.get(0);
                    try (BytePointer own = new BytePointer(Math.max(1, size))) {
                        next = call(1, own, size, pending);
                        if (next == 0) {
                            next = remaining(pending, count, 1);
                        } else {
                            throw new IllegalStateException(sources[pending[0]] + ": not copied into an arena of its "
                                    + "size (" + size + " bytes)");
                        }
                    }
                    count = next;
                    continue;
                }
                count = next;
            }
            if (failure instanceof IOException io) {
                throw io;
            }
            if (failure instanceof RuntimeException re) {
                throw re;
            }
        }

        /**
         * One native call over {@code pending[0 .. count-1]}; hands what it copied to the sink, records the
         * failure of lowest index, and leaves in {@code pending} (from 0) the files still to do.
         *
         * @return how many are still to do
         */
        private int call(int count, BytePointer room, long roomBytes, int[] pending) throws IOException {
            digests.position(0);
            int status = DyePackNative.dp_copy_files(count, names, sourceAtP, targetAtP, maxFileBytes, room, roomBytes,
                    threads, statuses, errors, sizes, offsets, digests);
            String message = status == DyePackNative.DP_OK ? "" : NativeLibrary.string(DyePackNative.dp_last_error());
            if (status != DyePackNative.DP_OK && status != DyePackNative.DP_ERR_INTERNAL) {
                dev.dyepack.internal.Status.check(status);
            }
            ByteBuffer view = room.position(0).limit(roomBytes).asByteBuffer();
            int left = 0;
            for (int k = 0; k < count; k++) {
                int i = pending[k];
                if (i > firstFailed) {
                    break;
                }
                switch (statuses.get(k)) {
                    case DyePackNative.DP_COPY_OK -> {
                        ByteBuffer bytes = view.duplicate();
                        bytes.limit((int) (offsets.get(k) + sizes.get(k))).position((int) offsets.get(k));
                        byte[] digest = new byte[32];
                        digests.position(32L * k).get(digest);
                        try {
                            sink.copied(i, bytes.slice(), digest);
                        } catch (IOException | RuntimeException e) {
                            fail(i, e);
                        }
                    }
                    case DyePackNative.DP_COPY_TOO_LARGE -> {
                        try {
                            sink.tooLarge(i, sizes.get(k));
                            fail(i, new IllegalStateException(sources[i] + ": " + sizes.get(k)
                                    + " bytes, more than the copy allows, and the sink did not refuse it"));
                        } catch (IOException | RuntimeException e) {
                            fail(i, e);
                        }
                    }
                    case DyePackNative.DP_COPY_NOT_DONE -> pending[left++] = i;
                    default -> fail(i, exception(i, statuses.get(k), errors.get(k), message));
                }
            }
            return left;
        }

        private int remaining(int[] pending, int count, int from) {
            int left = 0;
            for (int k = from; k < count; k++) {
                if (pending[k] < firstFailed) {
                    pending[left++] = pending[k];
                }
            }
            return left;
        }

        private void fail(int i, Exception e) {
            if (i < firstFailed) {
                firstFailed = i;
                failure = e;
            }
        }

        /** The exception for a native failure, of the type Java's own file API would throw. */
        private IOException exception(int i, int status, int errno, String nativeMessage) {
            boolean read = status == DyePackNative.DP_COPY_READ;
            Path file = read ? sources[i] : targets[i];
            // The message names the lowest failure of the call; for any other, name the file and the errno.
            String message = nativeMessage.startsWith(file.toAbsolutePath().toString()) ? nativeMessage
                    : file + (read ? ": cannot be read" : ": cannot be written") + " (errno " + errno + ")";
            return switch (errno) {
                case 2 -> read ? new NoSuchFileException(file.toString(), null, "no such file")
                        : new IOException(message);
                case 13 -> new AccessDeniedException(file.toString(), null, read ? "cannot be read (permission denied)"
                        : "cannot be created (permission denied)");
                case 17 -> read ? new IOException(message)
                        : new FileAlreadyExistsException(file.toString(), null, "already exists; it is not replaced");
                default -> new IOException(message);
            };
        }
    }
}
