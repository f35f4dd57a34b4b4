package dev.dyepack.cli;

import dev.dyepack.Engine;
import dev.dyepack.job.ScoreJob;
import dev.dyepack.surrogate.LinearHead;
import dev.dyepack.io.Npy;
import dev.dyepack.io.Npz;
import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.Locale;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/** {@code dyepack score}: decision-boundary scores of every sample under a linear head. */
@Command(name = "score", mixinStandardHelpOptions = true, showDefaultValues = true,
        description = {"Score every sample under a surrogate's linear head W (C x D), b (C): predicted class, runner-up,",
            "logit margin, exact L2 distance to the nearest decision boundary, and (with --target) to the target's.",
            "Features: float32 (N, D) or (N, ...) flattened; uint8 pixels are scaled by 1/255."},
        footer = {"", "Example:", "  dyepack score --features x.npy --head head.npz --target 3 --out scores.csv"})
final class ScoreCommand implements Callable<Integer> {
    @Option(names = "--features", required = true, paramLabel = "X.npy", description = "Features, one row per sample.")
    Path features;

    @Option(names = "--head", required = true, paramLabel = "H.npz", description = "The head: arrays W (C, D) and b (C,).")
    Path head;

    @Option(names = "--labels", paramLabel = "y.npy", description = "Labels (any integer dtype): reports the head's accuracy.")
    Path labels;

    @Option(names = "--target", paramLabel = "T", description = "Target class: adds target_distance.")
    int target = -1;

    @Option(names = "--out", required = true, paramLabel = "OUT.csv|.npy", description = "Where to write the scores.")
    Path out;

    @Option(names = "--backend", paramLabel = "auto|cpu|cuda", description = "Where to run: ${COMPLETION-CANDIDATES}.")
    ApplyCommand.BackendOption backend = ApplyCommand.BackendOption.auto;

    @Option(names = "--force", description = "Replace an existing non-empty output; the old one stays in place until "
            + "the new one is complete.")
    boolean force;

    @Spec
    CommandSpec spec;

    @Override
    public Integer call() throws IOException {
        PrintWriter stdout = spec.commandLine().getOut();
        PrintWriter stderr = spec.commandLine().getErr();
        dev.dyepack.io.StagedOutput.check(out, dev.dyepack.io.StagedOutput.Kind.FILE, force, features, head, labels);
        LinearHead h = Npz.readHead(head);
        long[] y = labels == null ? null : Npy.readIntegers(labels);
        try (Engine engine = backend.open(stderr)) {
            ScoreJob.Result r = ScoreJob.run(engine, features, h, y, target, out, 64L << 20, force);
            stdout.printf(Locale.ROOT, "scored %d samples (D=%d, %d classes)%s -> %s%n", r.samples(), r.dim(), r.classes(),
                    Double.isNaN(r.accuracy()) ? "" : String.format(Locale.ROOT, "; head accuracy %.2f%%",
                            100 * r.accuracy()), out);
        } finally {
            stdout.flush();
            stderr.flush();
        }
        return ExitCodes.OK;
    }
}
