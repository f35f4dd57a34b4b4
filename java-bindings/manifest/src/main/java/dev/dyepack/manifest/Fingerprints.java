package dev.dyepack.manifest;

import dev.dyepack.InvalidArgumentException;
import dev.dyepack.InvalidInputException;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.AccessDeniedException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;

/**
 * SHA-256 fingerprints of dataset files and the paths a manifest records them under.
 *
 * <p>Stateless and thread-safe.
 */
public final class Fingerprints {
    /** Read size; large enough that the digest, not the system calls, sets the pace. */
    private static final int BUFFER = 1 << 16;

    private Fingerprints() {
    }

    /**
     * The SHA-256 of a file's content, read as a stream, so files larger than memory work.
     *
     * @param file the file
     * @return 64 lowercase hex digits
     * @throws InvalidArgumentException if {@code file} is null
     * @throws InvalidInputException    if the file is missing, a directory or cannot be read (the
     *                                  message names the file)
     */
    public static String sha256(Path file) {
        if (file == null) {
            throw new InvalidArgumentException("file must not be null");
        }
        if (Files.isDirectory(file)) {
            return treeSha256(file);
        }
        MessageDigest digest = newSha256();
        byte[] buffer = new byte[BUFFER];
        try (InputStream in = Files.newInputStream(file)) {
            int n;
            while ((n = in.read(buffer)) > 0) {
                digest.update(buffer, 0, n);
            }
        } catch (NoSuchFileException e) {
            throw new InvalidInputException(file + ": does not exist", e);
        } catch (AccessDeniedException e) {
            throw new InvalidInputException(file + ": cannot be read: permission denied", e);
        } catch (IOException e) {
            throw new InvalidInputException(file + ": cannot be read: " + e.getMessage(), e);
        }
        return HexFormat.of().formatHex(digest.digest());
    }

    /**
     * The fingerprint of a directory (an image-folder dataset): SHA-256 over one line per regular file
     * below it (a symbolic link or special file anywhere below it is refused, as the folder reader
     * refuses it), {@code <path>\0<sha256>\n}, with paths relative to the directory, '/'-separated, in
     * ascending order of their UTF-8 bytes. Any added, removed, renamed or changed file changes it.
     *
     * @param dir the directory
     * @return 64 lowercase hex digits
     * @throws InvalidInputException if a file cannot be read, or an entry is a symbolic link or special file
     */
    public static String treeSha256(Path dir) {
        return treeSha256(dir, java.util.Map.of());
    }

    /**
     * As {@link #treeSha256(Path)}, taking the SHA-256 of the files listed in {@code known} from it rather
     * than reading them again (a job that has just read or written them has their digests); every other
     * file below {@code dir} is read, and the walk still refuses links and special files.
     *
     * @param dir   the directory
     * @param known SHA-256 (64 lowercase hex digits) by path relative to {@code dir}, {@code /}-separated
     * @return 64 lowercase hex digits
     * @throws InvalidArgumentException if an argument is null
     * @throws InvalidInputException    if a file cannot be read, or an entry is a symbolic link or special file
     */
    public static String treeSha256(Path dir, java.util.Map<String, String> known) {
        if (dir == null || known == null) {
            throw new InvalidArgumentException("dir and known must not be null");
        }
        java.util.List<String> lines = new java.util.ArrayList<>();
        try (java.util.stream.Stream<Path> walk = Files.walk(dir)) {
            for (Path p : (Iterable<Path>) walk::iterator) {
                java.nio.file.attribute.BasicFileAttributes a = Files.readAttributes(p,
                        java.nio.file.attribute.BasicFileAttributes.class, java.nio.file.LinkOption.NOFOLLOW_LINKS);
                if (a.isDirectory()) {
                    continue;
                }
                // The same rule as the folder reader's (ImageFolder): links and special files are refused,
                // so the fingerprint covers exactly what a reader of the folder can see.
                if (a.isSymbolicLink()) {
                    throw new InvalidInputException(p + ": is a symbolic link; folders are fingerprinted and read "
                            + "without following links");
                }
                if (!a.isRegularFile()) {
                    throw new InvalidInputException(p + ": is a device, FIFO or other special file, not a regular file");
                }
                String rel = dir.relativize(p).toString().replace(java.io.File.separatorChar, '/');
                String sha = known.get(rel);
                lines.add(rel + "\0" + (sha != null ? sha : sha256(p)) + "\n");
            }
        } catch (java.io.UncheckedIOException e) {
            throw new InvalidInputException(dir + ": cannot be listed: " + e.getCause().getMessage(), e);
        } catch (IOException e) {
            throw new InvalidInputException(dir + ": cannot be listed: " + e.getMessage(), e);
        }
        return treeDigest(lines);
    }

    /** Whether {@code s} is 64 lowercase hex digits (a loop, not a regular expression: called per file). */
    private static boolean isLowerHexSha256(String s) {
        if (s == null || s.length() != 64) {
            return false;
        }
        for (int i = 0; i < 64; i++) {
            char c = s.charAt(i);
            if ((c < '0' || c > '9') && (c < 'a' || c > 'f')) {
                return false;
            }
        }
        return true;
    }

    /**
     * The fingerprint {@link #treeSha256(Path)} gives a directory that holds exactly the files listed, with
     * these SHA-256s, computed without touching the file system: for a folder a job has just written and
     * whose every file's digest it took while writing.
     *
     * @param files SHA-256 (64 lowercase hex digits) by path relative to the directory, {@code /}-separated
     * @return 64 lowercase hex digits
     * @throws InvalidArgumentException if {@code files} is null, or a path or digest is null or malformed
     */
    public static String treeSha256(java.util.Map<String, String> files) {
        if (files == null) {
            throw new InvalidArgumentException("files must not be null");
        }
        java.util.List<String> lines = new java.util.ArrayList<>(files.size());
        for (java.util.Map.Entry<String, String> e : files.entrySet()) {
            String rel = e.getKey();
            String sha = e.getValue();
            if (rel == null || rel.isEmpty() || rel.startsWith("/") || rel.indexOf('\0') >= 0) {
                throw new InvalidArgumentException("not a relative path: " + rel);
            }
            if (!isLowerHexSha256(sha)) {
                throw new InvalidArgumentException(rel + ": not a SHA-256 in lowercase hex: " + sha);
            }
            lines.add(rel + "\0" + sha + "\n");
        }
        return treeDigest(lines);
    }

    /**
     * SHA-256 over the lines in ascending order of their UTF-8 bytes, compared as unsigned values: the order
     * docs/manifest-format.md documents and any other tool's plain byte sort gives (a signed comparison would
     * put names with non-ASCII characters, whose UTF-8 bytes are 0x80 and above, before every ASCII name).
     */
    private static String treeDigest(java.util.List<String> lines) {
        java.util.List<byte[]> bytes = new java.util.ArrayList<>(lines.size());
        for (String line : lines) {
            bytes.add(line.getBytes(java.nio.charset.StandardCharsets.UTF_8));
        }
        bytes.sort(java.util.Arrays::compareUnsigned);
        MessageDigest digest = newSha256();
        for (byte[] line : bytes) {
            digest.update(line);
        }
        return HexFormat.of().formatHex(digest.digest());
    }

    /**
     * Where {@code file} is, seen from {@code base}: the relative path when both, made absolute and
     * normalised, share a root (it may start with {@code ..}), otherwise {@code file}'s absolute
     * normalised path (for example on another Windows drive). Symbolic links are not resolved: the
     * path is recorded as the user gave it.
     *
     * @param base the directory to be relative to (normally the manifest's)
     * @param file the file
     * @return the relative path, or the absolute one when no relative path exists
     * @throws InvalidArgumentException if an argument is null
     */
    public static Path relativize(Path base, Path file) {
        if (base == null || file == null) {
            throw new InvalidArgumentException("base and file must not be null");
        }
        Path b = base.toAbsolutePath().normalize();
        Path f = file.toAbsolutePath().normalize();
        if (b.getRoot() == null || !b.getRoot().equals(f.getRoot())) {
            return f;
        }
        try {
            return b.relativize(f);
        } catch (IllegalArgumentException e) {
            return f;
        }
    }

    /**
     * A path as a manifest records it: its text with the platform's separator replaced by {@code /},
     * so that a manifest written on Windows reads the same on Linux ({@code Path.of} accepts {@code /}
     * on both).
     *
     * @param path the path
     * @return the {@code /}-separated text
     */
    static String portable(Path path) {
        String s = path.toString();
        String sep = path.getFileSystem().getSeparator();
        return sep.equals("/") ? s : s.replace(sep, "/");
    }

    static MessageDigest newSha256() {
        try {
            return MessageDigest.getInstance("SHA-256");
        } catch (NoSuchAlgorithmException e) {
            // Every Java SE implementation must provide SHA-256.
            throw new IllegalStateException("SHA-256 is unavailable in this JDK", e);
        }
    }
}
