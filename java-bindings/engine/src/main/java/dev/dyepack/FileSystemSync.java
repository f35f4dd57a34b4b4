package dev.dyepack;

import dev.dyepack.internal.DyePackNative;
import dev.dyepack.internal.NativeLibrary;
import java.io.IOException;
import java.nio.charset.Charset;
import java.nio.file.Path;
import java.util.function.ToIntFunction;
import org.bytedeco.javacpp.BytePointer;

/**
 * One flush for a whole file system: {@code syncfs(2)} through the native library, which Java's own
 * file API lacks. Writing a tree of many small files and then forcing each one costs a journal commit
 * per file (10,000 files: 20,000 fsync calls and seconds); one {@code syncfs} after the last write
 * writes them all back at once, as {@code cp -r} followed by {@code sync} does.
 *
 * <p>Stateless and thread-safe.
 */
public final class FileSystemSync {
    /** The ABI revision that brought {@code dp_start_writeback}. */
    private static final int WRITEBACK_REVISION = 5;

    private FileSystemSync() {
    }

    /**
     * Writes back everything cached for the file system that holds {@code path}: data and metadata of
     * every file and folder on it, written by this process or another.
     *
     * @param path a file or folder on the file system to flush
     * @return true when the flush was done; false when this platform has no {@code syncfs} (everything
     *         but Linux) or the native library is not loaded, and the caller must force its files itself
     * @throws InvalidArgumentException if {@code path} is null
     * @throws IOException              if {@code path} cannot be opened, or the file system reports a
     *                                  write-back error (the message names the path and the error)
     */
    public static boolean sync(Path path) throws IOException {
        if (path == null) {
            throw new InvalidArgumentException("path must not be null");
        }
        if (!NativeLibrary.isLoaded()) {
            return false;
        }
        return call(path, DyePackNative::dp_sync_filesystem, "syncfs");
    }

    /**
     * Starts writing one file's cached pages to its device and returns at once ({@code sync_file_range(2)}
     * with {@code SYNC_FILE_RANGE_WRITE}, through the native library). Nothing becomes durable by it: the
     * writer still forces the file when it is complete, but that force then waits only for what was
     * written since. A job that fills a large file in the page cache calls it after each piece, so the
     * device writes while the job goes on instead of all at the end (docs/benchmarks.md).
     *
     * @param file the file (a regular file this process may open for reading)
     * @return true when write-back was started; false where the platform has no such call (everything but
     *         Linux) or the native library is not loaded or too old; nothing happened then
     * @throws InvalidArgumentException if {@code file} is null
     * @throws IOException              if the file cannot be opened or the system refuses (the message names
     *                                  the file and the error)
     */
    public static boolean startWriteback(Path file) throws IOException {
        if (file == null) {
            throw new InvalidArgumentException("file must not be null");
        }
        if (!NativeLibrary.isLoaded() || DyePackNative.dp_abi_revision() < WRITEBACK_REVISION) {
            return false;
        }
        return call(file, DyePackNative::dp_start_writeback, "starting write-back");
    }

    /**
     * Makes a native call on a path: true when done, false when the platform lacks it; otherwise the library's
     * message (which names the path and the system's error) as an IOException.
     */
    private static boolean call(Path path, ToIntFunction<BytePointer> call, String what) throws IOException {
        int status;
        try (BytePointer p = nativePath(path)) {
            status = call.applyAsInt(p);
        }
        if (status == DyePackNative.DP_OK) {
            return true;
        }
        if (status == DyePackNative.DP_ERR_UNSUPPORTED) {
            return false;
        }
        String message = NativeLibrary.string(DyePackNative.dp_last_error());
        throw new IOException(message.isEmpty() ? path + ": " + what + " failed with status " + status : message);
    }

    /** The path as the kernel takes it: in the encoding the JDK uses for file names (not necessarily UTF-8). */
    private static BytePointer nativePath(Path path) {
        String jnu = System.getProperty("sun.jnu.encoding");
        Charset charset = jnu != null && Charset.isSupported(jnu) ? Charset.forName(jnu) : Charset.defaultCharset();
        byte[] name = path.toAbsolutePath().toString().getBytes(charset);
        BytePointer p = new BytePointer(name.length + 1L);
        p.put(name).put(name.length, (byte) 0);
        return p;
    }
}
