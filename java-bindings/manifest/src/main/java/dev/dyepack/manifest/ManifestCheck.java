package dev.dyepack.manifest;

import dev.dyepack.InvalidArgumentException;
import dev.dyepack.InvalidInputException;
import dev.dyepack.key.OwnerKey;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Verifies a manifest that a stranger may have shaped, in an order that trusts nothing before the
 * signature: the manifest file alone is read (a regular file, with the size and depth limits of
 * {@link ManifestReader}); its signature is checked with the owner's key; and only when it verifies are
 * the dataset files it names opened, and then only regular files or folders inside the manifest's
 * folder (clean inputs recorded elsewhere only when asked for, files given explicitly as given), never
 * through a symbolic link, never a device or FIFO. A file that differs is named, never its content's
 * digest (which would make the verifier a hash oracle over whatever the manifest points at).
 *
 * <p>Stateless and thread-safe.
 */
public final class ManifestCheck {
    private ManifestCheck() {
    }

    /**
     * The outcome.
     *
     * @param manifest the manifest as read (not to be trusted unless {@link #ok()})
     * @param signed   whether the signature verified (when not, no dataset file was opened)
     * @param findings what is wrong, one sentence each; empty when everything matches
     */
    public record Result(Manifest manifest, boolean signed, List<String> findings) {
        /**
         * @param manifest the manifest
         * @param signed   whether the signature verified
         * @param findings the findings; copied
         */
        public Result {
            findings = List.copyOf(findings);
        }

        /** @return whether the signature verified and every file checked matches */
        public boolean ok() {
            return signed && findings.isEmpty();
        }
    }

    /**
     * Reads a manifest whose content is not yet trusted.
     *
     * @param file the manifest file
     * @return the manifest, not yet verified
     * @throws InvalidArgumentException  if {@code file} is null
     * @throws InvalidInputException     if the file is missing, unreadable, a directory, or a device, FIFO
     *                                   or other special file (nothing to verify: an input problem)
     * @throws UntrustedRecordException  if its content is not a well-formed manifest (too large, too deep,
     *                                   not JSON, a field missing or malformed): a record that cannot be
     *                                   verified is refused as one that does not verify
     */
    public static Manifest readRecord(Path file) {
        if (file == null) {
            throw new InvalidArgumentException("manifest file must not be null");
        }
        if (!Files.exists(file)) {
            throw new InvalidInputException(file + ": does not exist");
        }
        // A link to a manifest is fine (it is what a user names); a FIFO or device is not a record and
        // could block the read forever.
        if (!Files.isRegularFile(file)) {
            throw new InvalidInputException(file + ": is " + (Files.isDirectory(file) ? "a directory"
                    : "a device, FIFO or other special file") + ", not a manifest file");
        }
        try {
            return ManifestReader.read(file);
        } catch (InvalidInputException e) {
            UntrustedRecordException u = new UntrustedRecordException(e.getMessage());
            u.initCause(e);
            throw u;
        }
    }

    /**
     * Verifies a manifest and then the dataset files it records.
     *
     * @param manifestFile the manifest
     * @param key          the owner's key
     * @param given        files to check instead of the recorded ones, by key ({@code "output.data"},
     *                     {@code "output.labels"}, ...), used as given; may be empty
     * @param inputs       whether to check the recorded clean inputs too (they may lie outside the
     *                     manifest's folder, and are opened there only when asked)
     * @return the outcome; when the signature fails, only its findings, and no other file was opened
     * @throws InvalidArgumentException if an argument is null or a key of {@code given} is unknown
     * @throws InvalidInputException    if the manifest file cannot be read (see {@link #readRecord})
     * @throws UntrustedRecordException if the manifest is malformed
     */
    public static Result verify(Path manifestFile, OwnerKey key, Map<String, Path> given, boolean inputs) {
        if (key == null || given == null) {
            throw new InvalidArgumentException("key and given files must not be null");
        }
        Manifest m = readRecord(manifestFile);
        Verification v = ManifestSigner.verify(m, key);
        if (!v.ok()) {
            return new Result(m, false, v.findings());
        }
        Path dir = manifestFile.toAbsolutePath().normalize().getParent();
        Path realDir;
        try {
            realDir = dir.toRealPath();
        } catch (IOException e) {
            throw new InvalidInputException(dir + ": cannot be read: " + e.getMessage(), e);
        }
        List<String> findings = new ArrayList<>();
        Map<String, Path> files = new LinkedHashMap<>();
        for (Manifest.DatasetFile f : m.files()) {
            // Arrays poisoned in memory have no file to find: they are compared only when given.
            if (given.containsKey(f.key()) || f.isInMemory() || f.stage() == Manifest.Stage.INPUT && !inputs) {
                continue;
            }
            Path recorded = Path.of(f.path());
            Path p = dir.resolve(recorded).normalize();
            boolean inside = !recorded.isAbsolute() && p.startsWith(dir) && !p.equals(dir);
            if (!inside && f.stage() == Manifest.Stage.OUTPUT) {
                findings.add(f.key() + ": recorded at " + f.path() + ", outside the manifest's folder; not opened "
                        + "(give the file explicitly to check it)");
                continue;
            }
            if (inside && escapesThroughLink(p, realDir)) {
                findings.add(f.key() + ": " + f.path() + " leads outside the manifest's folder through a symbolic "
                        + "link; not opened");
                continue;
            }
            files.put(f.key(), p);
        }
        files.putAll(given);
        findings.addAll(DatasetCheck.compare(m, dir, files));
        return new Result(m, true, findings);
    }

    /** Whether an existing path's parent folders resolve outside {@code realDir} (a linked folder). */
    private static boolean escapesThroughLink(Path p, Path realDir) {
        Path parent = p.getParent();
        if (parent == null || !Files.exists(parent)) {
            return false;
        }
        try {
            return !parent.toRealPath().startsWith(realDir);
        } catch (IOException e) {
            return false;
        }
    }
}
