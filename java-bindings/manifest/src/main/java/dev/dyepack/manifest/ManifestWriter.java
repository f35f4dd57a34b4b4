package dev.dyepack.manifest;

import dev.dyepack.InvalidArgumentException;
import dev.dyepack.io.AtomicFiles;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;

/**
 * Writes a manifest all or nothing: the JSON goes to a temporary file in the target's directory,
 * is forced to disk, and is renamed over the target, so a reader sees the old file or the complete new
 * one, never a truncated one. What is written is exactly {@link Manifest#toJson()}: the key's
 * fingerprint and the signature, never the key or a subkey, which a manifest does not hold.
 *
 * <p>Stateless and thread-safe; two writers racing for one path leave one complete manifest.
 */
public final class ManifestWriter {

    private ManifestWriter() {
    }

    /**
     * Writes {@code m.toJson()} (UTF-8) to {@code file}, creating or replacing it. The rename is atomic
     * where the file system supports it, otherwise a plain replace. If this throws, {@code file} is
     * unchanged and the temporary file is removed.
     *
     * @param m    the manifest, signed or not
     * @param file where to write, normally {@code manifest.json} next to the poisoned dataset
     * @throws InvalidArgumentException if an argument is null or {@code file} names no file
     * @throws IOException              if the temporary file cannot be created, written or renamed (for
     *                                  example the directory is missing or {@code file} is a directory)
     */
    public static void write(Manifest m, Path file) throws IOException {
        if (m == null || file == null) {
            throw new InvalidArgumentException("manifest and file must not be null");
        }
        Path target = file.toAbsolutePath();
        Path dir = target.getParent();
        Path name = target.getFileName();
        if (dir == null || name == null) {
            throw new InvalidArgumentException(file + " does not name a file");
        }
        byte[] bytes = m.toJson().getBytes(StandardCharsets.UTF_8);
        Path temp = AtomicFiles.newTempFile(dir.resolve(name));
        boolean moved = false;
        try {
            try (FileChannel ch = FileChannel.open(temp, StandardOpenOption.WRITE)) {
                ByteBuffer buf = ByteBuffer.wrap(bytes);
                while (buf.hasRemaining()) {
                    ch.write(buf);
                }
                ch.force(true);
            }
            AtomicFiles.moveIntoPlace(temp, target);
            moved = true;
        } finally {
            if (!moved) {
                Files.deleteIfExists(temp);
            }
        }
    }


}
