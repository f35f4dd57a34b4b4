package dev.dyepack.cli;

import dev.dyepack.key.OwnerKey;
import dev.dyepack.manifest.DatasetCheck;
import dev.dyepack.manifest.Manifest;
import dev.dyepack.manifest.ManifestReader;
import dev.dyepack.manifest.ManifestSigner;
import dev.dyepack.manifest.Verification;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.ParentCommand;
import picocli.CommandLine.Spec;

/** {@code dyepack manifest}: check a poisoning record. */
@Command(name = "manifest", mixinStandardHelpOptions = true, description = "Work with signed manifests.",
        subcommands = {ManifestCommand.Verify.class})
final class ManifestCommand implements Runnable {
    @Spec
    CommandSpec spec;

    @Override
    public void run() {
        throw new ParameterException(spec.commandLine(), "missing subcommand (try: dyepack manifest verify --help)");
    }

    /** {@code dyepack manifest verify}. */
    @Command(name = "verify", mixinStandardHelpOptions = true,
            description = {"Check a manifest's signature with the owner's key, and the SHA-256 of the dataset files it",
                "records (at their recorded paths, or the files given). Exit 0 when everything matches, 4 otherwise."})
    static final class Verify implements Callable<Integer> {
        @Option(names = "--manifest", required = true, paramLabel = "FILE", description = "The manifest.json.")
        Path manifest;

        @Option(names = "--data", paramLabel = "D", description = "The poisoned data to check (default: the recorded path).")
        Path data;

        @Option(names = "--labels", paramLabel = "L", description = "The poisoned labels to check.")
        Path labels;

        @Option(names = "--inputs", description = "Also check the recorded input files (the clean originals).")
        boolean inputs;

        @Mixin
        KeyOptions keyOptions;

        @ParentCommand
        ManifestCommand parent;

        @Spec
        CommandSpec spec;

        @Override
        public Integer call() {
            PrintWriter out = spec.commandLine().getOut();
            PrintWriter err = spec.commandLine().getErr();
            Main main = (Main) parent.spec.parent().userObject();
            OwnerKey key = keyOptions.resolve(main.env, err);
            if (key == null) {
                throw new ParameterException(spec.commandLine(), "verifying the signature needs the owner's key: "
                        + "--key-file FILE or " + OwnerKey.ENV_VAR);
            }
            Manifest m = ManifestReader.read(manifest);
            Verification v = ManifestSigner.verify(m, key);
            List<String> findings = new ArrayList<>(v.findings());
            Path dir = manifest.toAbsolutePath().getParent();
            // The poisoned outputs, at the given paths or where the manifest records them (relative to it);
            // the clean inputs only when asked, since they may be kept elsewhere or be gone.
            Map<String, Path> files = new LinkedHashMap<>();
            for (Manifest.DatasetFile f : m.files()) {
                // Arrays poisoned in memory have no file to find: they are compared only when given.
                if (!f.isInMemory() && (f.stage() == Manifest.Stage.OUTPUT || inputs)) {
                    files.put(f.key(), dir.resolve(f.path()).normalize());
                }
            }
            if (data != null) {
                files.put("output.data", data);
            }
            if (labels != null) {
                files.put("output.labels", labels);
            }
            findings.addAll(DatasetCheck.compare(m, dir, files));
            if (findings.isEmpty()) {
                out.println("manifest OK: signature valid for key " + key.fingerprint() + "; " + m.indexCount()
                        + " poisoned samples, trigger " + m.triggerSpec() + ", target " + m.targetClass()
                        + (files.isEmpty() ? "; no dataset files to compare (the arrays were poisoned in memory;"
                                + " give --data/--labels to compare .npy files holding them)"
                                : "; dataset files match"));
                out.flush();
                return ExitCodes.OK;
            }
            for (String f : findings) {
                out.println("MISMATCH: " + f);
            }
            out.flush();
            err.println("dyepack: manifest verification failed (" + findings.size() + " finding"
                    + (findings.size() == 1 ? "" : "s") + ")");
            err.flush();
            return ExitCodes.VERIFY_FAILED;
        }
    }
}
