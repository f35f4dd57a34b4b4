package dev.dyepack;

import dev.dyepack.internal.DyePackNative;
import dev.dyepack.internal.NativeLibrary;
import java.io.IOException;
import java.nio.charset.Charset;
import java.nio.file.Path;
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
        // File names reach the kernel in the encoding the JDK uses for them, not necessarily UTF-8.
        String jnu = System.getProperty("sun.jnu.encoding");
        Charset charset = jnu != null && Charset.isSupported(jnu) ? Charset.forName(jnu) : Charset.defaultCharset();
        byte[] name = path.toAbsolutePath().toString().getBytes(charset);
        int status;
        try (BytePointer p = new BytePointer(name.length + 1L)) {
            p.put(name).put(name.length, (byte) 0);
            status = DyePackNative.dp_sync_filesystem(p);
        }
        if (status == DyePackNative.DP_OK) {
            return true;
        }
        if (status == DyePackNative.DP_ERR_UNSUPPORTED) {
            return false;
        }
        String message = NativeLibrary.string(DyePackNative.dp_last_error());
        throw new IOException(message.isEmpty() ? path + ": syncfs failed with status " + status : message);
    }
}
