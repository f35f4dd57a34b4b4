package dev.dyepack.cli;

import dev.dyepack.key.OwnerKey;
import dev.dyepack.manifest.Manifest;
import dev.dyepack.manifest.ManifestCheck;
import java.io.PrintWriter;
import java.nio.file.Path;
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
            description = {"Check a manifest's signature with the owner's key, and then the SHA-256 of the dataset files it",
                "records (at their recorded paths inside the manifest's folder, or the files given). Exit 0 when",
                "everything matches, 4 otherwise (also for a malformed manifest). No dataset file is opened when the",
                "signature fails; links, devices and FIFOs are never read."})
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
            // Only the given paths replace recorded ones; everything else is the library's trust order.
            Map<String, Path> given = new LinkedHashMap<>();
            if (data != null) {
                given.put("output.data", data);
            }
            if (labels != null) {
                given.put("output.labels", labels);
            }
            ManifestCheck.Result result = ManifestCheck.verify(manifest, key, given, inputs);
            Manifest m = result.manifest();
            List<String> findings = result.findings();
            boolean nothingCompared = given.isEmpty() && m.files().stream()
                    .noneMatch(f -> !f.isInMemory() && (f.stage() == Manifest.Stage.OUTPUT || inputs));
            if (findings.isEmpty()) {
                out.println("manifest OK: signature valid for key " + key.fingerprint() + "; " + m.indexCount()
                        + " poisoned samples, trigger " + m.triggerSpec() + ", target " + m.targetClass()
                        + (nothingCompared ? "; no dataset files to compare (the arrays were poisoned in memory;"
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
