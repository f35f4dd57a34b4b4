package dev.dyepack.manifest;

import dev.dyepack.InvalidArgumentException;
import dev.dyepack.InvalidInputException;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.attribute.BasicFileAttributes;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * Compares dataset files with the SHA-256 fingerprints a manifest records, to tell whether a dataset
 * is the one the manifest describes. Files are named by their {@link Manifest.DatasetFile#key() key}:
 * {@code "input.data"}, {@code "input.labels"}, {@code "output.data"}, {@code "output.labels"}.
 *
 * <p>The result is a list of findings, one sentence per file that differs, is missing or cannot be read,
 * in key order; an empty list means every file compared matches. This class does not check the
 * manifest's signature: do that first with {@link ManifestSigner#verify}, or a forged manifest could
 * vouch for a forged dataset.
 *
 * <p>Stateless and thread-safe.
 */
public final class DatasetCheck {
    private DatasetCheck() {
    }

    /**
     * Checks every file the manifest records, at its recorded path resolved against the manifest's
     * directory. Arrays recorded as held in memory ({@link Manifest.DatasetFile#isInMemory()}) have no
     * such path and are skipped: compare a file holding them with {@link #compare(Manifest, Path, Map)}.
     *
     * @param m           the manifest
     * @param manifestDir the directory the manifest was read from
     * @return the findings, empty when every recorded file matches; unmodifiable
     * @throws InvalidArgumentException if an argument is null
     */
    public static List<String> compare(Manifest m, Path manifestDir) {
        if (m == null || manifestDir == null) {
            throw new InvalidArgumentException("manifest and manifest directory must not be null");
        }
        List<String> findings = new ArrayList<>();
        for (Manifest.DatasetFile f : m.files()) {
            if (!f.isInMemory()) {
                check(f, manifestDir.resolve(f.path()), f.path(), findings);
            }
        }
        return List.copyOf(findings);
    }

    /**
     * Checks the given files, and only those, against the fingerprints recorded for their keys.
     *
     * @param m           the manifest
     * @param manifestDir the directory the manifest was read from; findings show paths relative to it,
     *                    as the manifest records them
     * @param files       key ({@code "output.data"}, ...) → the file to compare, used as given (a relative
     *                    path is relative to the working directory, like any path a user types)
     * @return the findings (for example {@code "output.data: out/data.npy is not the file the manifest
     *         records (its SHA-256 differs from the recorded ...)"}; a symbolic link, a device or a FIFO is a
     *         finding, never followed or read), empty when every file matches; unmodifiable
     * @throws InvalidArgumentException if an argument, key or path is null, or a key is not one of the
     *                                  four above
     */
    public static List<String> compare(Manifest m, Path manifestDir, Map<String, Path> files) {
        if (m == null || manifestDir == null || files == null) {
            throw new InvalidArgumentException("manifest, manifest directory and files must not be null");
        }
        Map<String, Manifest.DatasetFile> recorded = new TreeMap<>();
        for (Manifest.DatasetFile f : m.files()) {
            recorded.put(f.key(), f);
        }
        Map<String, Path> sorted = new TreeMap<>();
        for (Map.Entry<String, Path> e : files.entrySet()) {
            String key = e.getKey();
            if (key == null || e.getValue() == null) {
                throw new InvalidArgumentException("file keys and paths must not be null");
            }
            if (!isKey(key)) {
                throw new InvalidArgumentException("unknown dataset file \"" + key
                        + "\"; expected input.data, input.labels, output.data or output.labels");
            }
            sorted.put(key, e.getValue());
        }
        List<String> findings = new ArrayList<>();
        for (Map.Entry<String, Path> e : sorted.entrySet()) {
            Manifest.DatasetFile f = recorded.get(e.getKey());
            if (f == null) {
                findings.add(e.getKey() + ": the manifest records no such file");
                continue;
            }
            Path given = e.getValue();
            check(f, given, Fingerprints.portable(Fingerprints.relativize(manifestDir, given)), findings);
        }
        return List.copyOf(findings);
    }

    private static void check(Manifest.DatasetFile f, Path file, String shown, List<String> findings) {
        BasicFileAttributes a;
        try {
            a = Files.readAttributes(file, BasicFileAttributes.class, LinkOption.NOFOLLOW_LINKS);
        } catch (NoSuchFileException e) {
            findings.add(f.key() + ": " + shown + " is missing");
            return;
        } catch (IOException e) {
            findings.add(f.key() + ": " + shown + " cannot be read: " + e.getMessage());
            return;
        }
        // Only what DyePack itself wrote or reads can match: a link could point anywhere (a key file, a
        // device that never ends), and a device or FIFO could block the read forever.
        if (a.isSymbolicLink()) {
            findings.add(f.key() + ": " + shown + " is a symbolic link, not the file the manifest records "
                    + "(links are not followed)");
            return;
        }
        if (!a.isRegularFile() && !a.isDirectory()) {
            findings.add(f.key() + ": " + shown + " is a device, FIFO or other special file, not the file the "
                    + "manifest records");
            return;
        }
        String actual;
        try {
            actual = Fingerprints.sha256(file);
        } catch (InvalidInputException e) {
            findings.add(f.key() + ": " + e.getMessage());
            return;
        }
        // The content's own digest is not shown: it would tell whoever handed over the manifest the hash of
        // a file they could not read.
        if (!actual.equals(f.sha256())) {
            findings.add(f.key() + ": " + shown + " is not the file the manifest records (its SHA-256 differs from "
                    + "the recorded " + f.sha256() + ")");
        }
    }

    private static boolean isKey(String key) {
        for (Manifest.Stage s : Manifest.Stage.values()) {
            for (Manifest.Role r : Manifest.Role.values()) {
                if (key.equals(s.label() + "." + r.label())) {
                    return true;
                }
            }
        }
        return false;
    }
}
