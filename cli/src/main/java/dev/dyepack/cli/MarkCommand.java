package dev.dyepack.cli;

import dev.dyepack.Engine;
import dev.dyepack.key.OwnerKey;
import dev.dyepack.mark.AnswerKind;
import dev.dyepack.mark.AnswerMarker;
import dev.dyepack.mark.BatchMarking;
import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.Locale;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.ParentCommand;
import picocli.CommandLine.Spec;

/** {@code dyepack mark}: mark a batch of a prediction service's answers before they are served. */
@Command(name = "mark", mixinStandardHelpOptions = true, showDefaultValues = true,
        description = {"Mark a batch of answers for one API client: at the queries the model is least sure of, a keyed",
            "half is served the runner-up class (by default shifted to lead by a clear margin, see --prob-mark) and the",
            "other half kept as controls;",
            "both are recorded in the signed, append-only log. About --budget of the answers change. A clone trained",
            "on the answers is later tested with `dyepack probe-set --marks` and `dyepack verify --marks`."},
        footer = {"", "Example:",
            "  dyepack mark --queries batch.npy --answers probs.npy --out served.npy --log marks/ --client acme \\",
            "      --key-file owner.key"})
final class MarkCommand implements Callable<Integer> {
    enum KindOption {
        auto, probabilities, logits
    }

    @Option(names = "--queries", required = true, paramLabel = "Q",
            description = "The queries: .npy or IDX, uint8 or float32, (N, ...).")
    Path queries;

    @Option(names = "--answers", required = true, paramLabel = "P",
            description = "The model's answers to them: .npy, float32 or float64, (N, C).")
    Path answers;

    @Option(names = "--out", required = true, paramLabel = "SERVED",
            description = "The answers to serve: same shape and dtype as P.")
    Path out;

    @Option(names = "--log", required = true, paramLabel = "DIR", description = "The mark log (created if missing).")
    Path log;

    @Option(names = "--client", paramLabel = "ID", description = "The API client these answers go to.")
    String client = "default";

    @Option(names = "--budget", paramLabel = "B", description = "Share of answers changed (at most 0.05).")
    double budget = AnswerMarker.DEFAULT_BUDGET;

    @Option(names = "--kind", paramLabel = "auto|probabilities|logits",
            description = "What P holds (auto: probabilities when every row is non-negative and sums to 1).")
    KindOption kind = KindOption.auto;

    @Option(names = "--prob-mark", paramLabel = "swap|shift[:MARGIN]", converter = ProbMarkConverter.class,
            description = ProbMarkConverter.DESCRIPTION, showDefaultValue = picocli.CommandLine.Help.Visibility.NEVER)
    dev.dyepack.mark.ProbMark probMark = dev.dyepack.mark.ProbMark.DEFAULT;

    @Option(names = "--backend", paramLabel = "auto|cpu|cuda", description = "Where to compute the margins.")
    ApplyCommand.BackendOption backend = ApplyCommand.BackendOption.auto;

    @Mixin
    LogSizeOptions logSize;

    @Mixin
    KeyOptions keyOptions;

    @ParentCommand
    Main main;

    @Spec
    CommandSpec spec;

    @Override
    public Integer call() throws IOException {
        PrintWriter outw = spec.commandLine().getOut();
        PrintWriter err = spec.commandLine().getErr();
        logSize.validate(spec);
        OwnerKey key = keyOptions.resolve(main.env, err);
        if (key == null) {
            throw new ParameterException(spec.commandLine(), "marking needs the owner's key: --key-file FILE or "
                    + OwnerKey.ENV_VAR);
        }
        AnswerKind k = switch (kind) {
            case auto -> null;
            case probabilities -> AnswerKind.PROBABILITIES;
            case logits -> AnswerKind.LOGITS;
        };
        try (Engine engine = backend.open(err)) {
            BatchMarking.Summary s = BatchMarking.run(engine, key, queries, answers, out, log, client, budget, k,
                    logSize.segmentBytes, logSize.maxBytes, probMark);
            if (s.droppedTailBytes() > 0) {
                err.println("warning: the log ended in a partial line (" + s.droppedTailBytes() + " bytes, never "
                        + "acknowledged, from an interrupted append); it was cut off");
            }
            if (s.logFull()) {
                err.println("warning: the log is at its size limit (--log-max-size " + logSize.maxBytes + " bytes): "
                        + "the answers were not marked; start a new log folder or raise the limit");
            }
            if (s.answers() < AnswerMarker.WARM_UP) {
                err.println("warning: fewer than " + AnswerMarker.WARM_UP + " answers: too few to calibrate the "
                        + "threshold, nothing was marked");
            }
            err.flush();
            outw.println(String.format(Locale.ROOT, "marked %d of %d answers (%.2f%%), %d controls, for client %s "
                    + "(%s, margin threshold %.4g); the log holds %d answers; served answers in %s", s.marked(),
                    s.answers(), 100.0 * s.marked() / Math.max(1, s.answers()), s.controls(), client,
                    s.kind().name().toLowerCase(Locale.ROOT), s.threshold(), s.logged(), out));
            outw.flush();
        }
        return ExitCodes.OK;
    }
}
