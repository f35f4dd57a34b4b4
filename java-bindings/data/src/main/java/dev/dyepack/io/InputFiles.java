package dev.dyepack.io;

import dev.dyepack.InvalidArgumentException;
import dev.dyepack.InvalidInputException;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.AccessDeniedException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.attribute.BasicFileAttributes;

/**
 * Opening files that strangers may have shaped: a read never exceeds a stated size (a device such as
 * {@code /dev/zero} or an endless pipe is cut off at the limit, not read whole), and the strict form
 * opens regular files only, never a symbolic link, device, FIFO or socket (which could block a read
 * forever or point outside the folder being checked).
 *
 * <p>Stateless and thread-safe.
 */
public final class InputFiles {
    private InputFiles() {
    }

    /**
     * Requires a regular file, not following a symbolic link.
     *
     * @param file the file
     * @throws InvalidArgumentException if {@code file} is null
     * @throws InvalidInputException    if it is missing, a symbolic link, a directory, or a device, FIFO or
     *                                  other special file (the message names it and says which)
     */
    public static void requireRegular(Path file) {
        if (file == null) {
            throw new InvalidArgumentException("file must not be null");
        }
        BasicFileAttributes a;
        try {
            a = Files.readAttributes(file, BasicFileAttributes.class, LinkOption.NOFOLLOW_LINKS);
        } catch (NoSuchFileException e) {
            throw new InvalidInputException(file + ": does not exist", e);
        } catch (IOException e) {
            throw new InvalidInputException(file + ": cannot be read: " + e.getMessage(), e);
        }
        if (a.isSymbolicLink()) {
            throw new InvalidInputException(file + ": is a symbolic link; only regular files are read here");
        }
        if (a.isDirectory()) {
            throw new InvalidInputException(file + ": is a directory, not a file");
        }
        if (!a.isRegularFile()) {
            throw new InvalidInputException(file + ": is a device, FIFO or other special file, not a regular file");
        }
    }

    /**
     * Reads a whole file of at most {@code limit} bytes, reading at most one byte more to tell, so a
     * device or pipe that never ends costs at most the limit.
     *
     * @param file  the file
     * @param limit the largest size accepted, in bytes
     * @param name  the name of the limit in {@link Limits} (for the message)
     * @param what  what the file should be, e.g. {@code "an indices file"}
     * @return its bytes
     * @throws InvalidArgumentException if {@code file} is null
     * @throws InvalidInputException    if it is missing, a directory, unreadable, or larger than the limit
     */
    public static byte[] readBounded(Path file, long limit, String name, String what) {
        if (file == null) {
            throw new InvalidArgumentException("file must not be null");
        }
        if (Files.isDirectory(file)) {
            throw new InvalidInputException(file + ": is a directory, not " + what);
        }
        int cap = (int) Math.min(Integer.MAX_VALUE - 16, limit);
        byte[] content;
        try (InputStream in = Files.newInputStream(file)) {
            content = in.readNBytes(cap + 1);
        } catch (NoSuchFileException e) {
            throw new InvalidInputException(file + ": does not exist", e);
        } catch (AccessDeniedException e) {
            throw new InvalidInputException(file + ": cannot be read: permission denied", e);
        } catch (IOException e) {
            throw new InvalidInputException(file + ": cannot be read: " + e.getMessage(), e);
        }
        if (content.length > cap) {
            throw new InvalidInputException(file + ": larger than " + cap + " bytes, too large for " + what
                    + " (limit " + Limits.PROPERTY_PREFIX + name + "; raise it with -D" + Limits.PROPERTY_PREFIX + name
                    + "=N in DYEPACK_JAVA_OPTS)");
        }
        return content;
    }
}
