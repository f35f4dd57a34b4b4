package dev.dyepack.cli;

import dev.dyepack.Engine;
import dev.dyepack.key.OwnerKey;
import dev.dyepack.manifest.ManifestReader;
import dev.dyepack.trigger.TriggerSpec;
import dev.dyepack.verify.ControlTriggers;
import dev.dyepack.mark.MarkProbeSet;
import dev.dyepack.verify.ProbeSet;
import dev.dyepack.verify.Verifier;
import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.ParentCommand;
import picocli.CommandLine.Spec;

/** {@code dyepack probe-set}: draw the probes that prove a watermark. */
@Command(name = "probe-set", mixinStandardHelpOptions = true, showDefaultValues = true,
        description = {"Draw a probe set for a poisoning: held-out samples of other classes than the target, chosen with",
            "the owner's key (never a poisoned sample), written clean, with the manifest's trigger, and with the same",
            "trigger under control keys, with their labels and a signed probe.json, in the data's own form. Run the",
            "suspect on each probe set X and save its answers as X.npy for `dyepack verify`. With --marks LOGDIR: the",
            "marked and control queries of a mark log instead."},
        footer = {"", "Example:",
            "  dyepack probe-set --manifest poisoned/manifest.json --data test.npy --labels test-labels.npy \\",
            "      --key-file owner.key --out probe/",
            "  dyepack probe-set --marks marks/ --key-file owner.key --out mark-probe/"})
final class ProbeSetCommand implements Callable<Integer> {
    @Option(names = "--manifest", paramLabel = "FILE", description = "The poisoning's manifest.json.")
    Path manifest;

    @Option(names = "--marks", paramLabel = "LOGDIR",
            description = "Instead of a manifest: a mark log of `dyepack mark` or `dyepack serve`; writes its marked "
                    + "and control queries as marked.npy and control.npy with a signed probe.json.")
    Path marks;

    @Option(names = "--data", paramLabel = "D",
            description = "Held-out images: .npy or IDX (uint8 or float32, (N,H,W) or (N,H,W,C)), or a folder of "
                    + "PNG/JPEG images per class; the probe files take the same form. The poisoned data itself is "
                    + "allowed (its poisoned samples are left out).")
    Path data;

    @Option(names = "--labels", paramLabel = "L", description = "Their labels (not for an image folder, whose labels "
            + "are its class folders).")
    Path labels;

    @Option(names = "--size", paramLabel = "N", description = "Probes to draw per set. Default: "
            + ProbeSet.DEFAULT_RANK_SIZE + " with 100 or more control keys (the key-rank "
            + "test), else " + ProbeSet.DEFAULT_SIZE + ".")
    Integer size;

    @Option(names = "--controls", paramLabel = "K", description = "Control sets: the trigger under control keys, or for a keyless trigger the same family "
            + "with other parameters (a patch at other corners, a signal at other frequencies), as many as it has. "
            + "With 100 or more control keys the exact key-rank test decides: the owner's trigger must be answered "
            + "more often than every control key's, which bounds accusing a model watermarked by someone else at "
            + "1/(K+1). Default: " + ProbeSet.DEFAULT_RANK_CONTROLS + " for a keyed trigger (with the default size: "
            + "20,100 queries), up to " + ProbeSet.DEFAULT_CONTROLS + " variants of a keyless one (with "
            + ProbeSet.DEFAULT_SIZE + " probes each for the label test). At most " + ProbeSet.MAX_CONTROLS + ".")
    Integer controls;

    @Option(names = "--out", required = true, paramLabel = "DIR", description = "The probe set's folder.")
    Path out;

    @Option(names = "--backend", paramLabel = "auto|cpu|cuda", description = "Where to stamp the triggers.")
    ApplyCommand.BackendOption backend = ApplyCommand.BackendOption.auto;

    @Mixin
    KeyOptions keyOptions;

    @ParentCommand
    Main main;

    @Option(names = "--force", description = "Replace an existing non-empty output; the old one stays in place until "
            + "the new one is complete.")
    boolean force;

    @Spec
    CommandSpec spec;

    @Override
    public Integer call() throws IOException {
        PrintWriter out = spec.commandLine().getOut();
        PrintWriter err = spec.commandLine().getErr();
        dev.dyepack.io.StagedOutput.check(this.out, dev.dyepack.io.StagedOutput.Kind.DIRECTORY, force, manifest, data,
                labels, keyOptions.keyFile);
        OwnerKey key = keyOptions.resolve(main.env, err);
        if (key == null) {
            throw new ParameterException(spec.commandLine(), "a probe set needs the owner's key: --key-file FILE or "
                    + OwnerKey.ENV_VAR);
        }
        if (marks != null) {
            if (manifest != null || data != null || labels != null) {
                throw new ParameterException(spec.commandLine(), "--marks takes the probes from the log: give no "
                        + "--manifest, --data or --labels with it");
            }
            MarkProbeSet set = MarkProbeSet.create(marks, key, this.out);
            out.println("probe set: " + set.marked().size() + " marked and " + set.control().size() + " control "
                    + "queries of " + set.clients().size() + " client" + (set.clients().size() == 1 ? "" : "s")
                    + " in " + this.out + "; save the suspect's answers to each as marked.npy and control.npy");
            out.flush();
            return ExitCodes.OK;
        }
        if (manifest == null || data == null) {
            throw new ParameterException(spec.commandLine(), "give --manifest and --data (or --marks LOGDIR)");
        }
        try (Engine engine = backend.open(err)) {
            ProbeSet set = ProbeSet.create(engine, manifest, data, labels, size == null ? ProbeSet.AUTO : size,
                    controls == null ? ProbeSet.AUTO : controls, key, this.out, force);
            TriggerSpec trigger = TriggerSpec.parse(ManifestReader.read(manifest).triggerSpec());
            String what = trigger.keyed() ? " control key" + (set.controls() == 1 ? "" : "s")
                    : " control trigger" + (set.controls() == 1 ? "" : "s") + (set.controls() == 0 ? ""
                            : " (" + String.join(", ", ControlTriggers.variants(trigger, set.controls()).stream()
                                    .map(TriggerSpec::toString).toList()) + ")");
            boolean rank = set.controlKeys() && set.controls() >= Verifier.rankControls(Verifier.DEFAULT_ALPHA);
            out.println("probe set: " + set.labels().length + " probes of classes other than " + set.target() + ", "
                    + set.controls() + what + " (" + String.format(java.util.Locale.ROOT, "%,d",
                            (long) (set.controls() + 2) * set.labels().length) + " queries; "
                    + (rank ? "the key-rank test decides" : "the label test decides") + "); files: "
                    + names(set.probeNames().stream().map(n -> set.probeFile(n).getFileName().toString()).toList())
                    + " in " + this.out + "; save the suspect's answers to each as NAME.npy ("
                    + names(set.probeNames()) + ")");
            out.flush();
            if (rank && set.labels().length > 2 * ProbeSet.DEFAULT_RANK_SIZE) {
                err.println("note: " + (long) (set.controls() + 2) * set.labels().length + " probes to answer; the "
                        + "key-rank test that " + set.controls() + " controls bring decides well with 100 probes per "
                        + "key (--size 100)");
                err.flush();
            }
            if (set.controls() == 0) {
                err.println(VerifyCommand.KEYLESS_WARNING);
                err.flush();
            }
        }
        return ExitCodes.OK;
    }

    /** Names joined, the middle of a long list (many controls) elided: "a, b, c, ..., z". */
    private static String names(java.util.List<String> all) {
        return all.size() <= 8 ? String.join(", ", all)
                : String.join(", ", all.subList(0, 4)) + ", ..., " + all.get(all.size() - 1);
    }
}
