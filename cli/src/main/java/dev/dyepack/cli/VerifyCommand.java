package dev.dyepack.cli;

import dev.dyepack.key.OwnerKey;
import dev.dyepack.mark.AnswerKind;
import dev.dyepack.mark.MarkProbeSet;
import dev.dyepack.mark.MarkReport;
import dev.dyepack.mark.MarkVerdict;
import dev.dyepack.mark.MarkVerification;
import dev.dyepack.mark.MarkVerifier;
import dev.dyepack.verify.Report;
import dev.dyepack.verify.Verdict;
import dev.dyepack.verify.Verification;
import dev.dyepack.verify.Verifier;
import dev.dyepack.io.StagedOutput;
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

/** {@code dyepack verify}: decide from a suspect's answers whether it carries the watermark. */
@Command(name = "verify", mixinStandardHelpOptions = true, showDefaultValues = true,
        description = {"Check the manifest's and the probe set's signatures, then test the suspect's answers: the",
            "triggered probes' target rate against the largest Clopper-Pearson upper bound over the clean probes and",
            "each control plus a margin (exact binomial test); with probabilities also a paired t-test with margin",
            "tau. Prints the decision at alpha and every number behind it. Exit 0 with a decision (detected or not),",
            "2 for unusable answers, 4 when a signature or fingerprint does not verify. With --marks LOGDIR: test a",
            "suspect clone against the answer marks of `dyepack mark` or `dyepack serve`, client by client: on labels",
            "(Fisher's exact test) and, when the suspect gave probabilities or logits, on its probability gap",
            "(runner-up minus top class, Mann-Whitney U), the two combined by Holm's method per client, then",
            "Holm-adjusted over the clients."},
        footer = {"", "Example:",
            "  dyepack verify --manifest poisoned/manifest.json --probe probe/ --predictions answers/ --key-file owner.key",
            "  dyepack verify --marks marks/ --probe mark-probe/ --predictions clone-answers/ --key-file owner.key"})
final class VerifyCommand implements Callable<Integer> {
    /** Controls listed one per line in the text output; more (the key-rank test's hundreds) are summarised. */
    static final int LISTED_CONTROLS = 16;

    /** Said whenever a verdict rests on the clean probes alone (docs/verification.md measures why). */
    static final String KEYLESS_WARNING = "warning: this probe set has no controls (a keyless trigger whose family "
            + "has no variants, or --controls 0), so the null rests on the clean probes alone; a model watermarked by "
            + "someone else for the same target can then pass the label test: rely on probabilities (the margin test) "
            + "or watermark with a keyed trigger";

    @Option(names = "--manifest", paramLabel = "FILE", description = "The poisoning's manifest.json.")
    Path manifest;

    @Option(names = "--marks", paramLabel = "LOGDIR",
            description = "Instead of a manifest: the mark log the probe set (of `probe-set --marks`) was drawn from; "
                    + "tests per client whether the suspect answers the served runner-up more often on marked than "
                    + "on control queries (Fisher's exact test, Holm-adjusted over the clients).")
    Path marks;

    @Option(names = "--probe", required = true, paramLabel = "DIR", description = "The probe set.")
    Path probe;

    @Option(names = "--predictions", paramLabel = "DIR",
            description = "The suspect's answers: for each probe file X.npy, DIR/X.npy with labels (N,) or "
                    + "probabilities (N, C) (with --marks also logits, see --scores). Or ask a service with --endpoint.")
    Path predictions;

    /** What a suspect's (N, C) answers hold, with --marks. */
    enum ScoresOption {
        auto, probabilities, logits
    }

    @Option(names = "--scores", paramLabel = "auto|probabilities|logits",
            description = "With --marks: what the suspect's (N, C) answers hold, in files or from --endpoint (auto: "
                    + "probabilities when every value is in [0, 1] and every row sums to 1, logits when a value is "
                    + "outside [0, 1]). Logits get their softmax before the gap test.")
    ScoresOption scores = ScoresOption.auto;

    @Mixin
    EndpointOptions endpoint;

    @Option(names = "--alpha", paramLabel = "A", description = "Significance level.")
    double alpha = Verifier.DEFAULT_ALPHA;

    @Option(names = "--tau", paramLabel = "T", description = "Margin of the probability test.")
    double tau = Verifier.DEFAULT_TAU;

    @Option(names = "--label-margin", paramLabel = "M", description = "Margin of the label test: the triggered "
            + "probes' target rate is tested against the null rate plus M (a model trained under another key can "
            + "answer the owner's trigger a few points above the controls).")
    double labelMargin = Verifier.DEFAULT_MARGIN;

    @Option(names = "--json", description = "Print exactly one JSON object instead of the summary.")
    boolean json;

    @Option(names = "--report", paramLabel = "DIR",
            description = "Also write report.json, a self-contained report.html and the chart report.png into DIR.")
    Path report;

    @Option(names = "--force", description = "Replace an existing non-empty output; the old one stays in place until "
            + "the new one is complete.")
    boolean force;

    @Mixin
    KeyOptions keyOptions;

    @ParentCommand
    Main main;

    @Spec
    CommandSpec spec;

    @Override
    public Integer call() throws IOException {
        PrintWriter out = spec.commandLine().getOut();
        PrintWriter err = spec.commandLine().getErr();
        if (!(labelMargin >= 0 && labelMargin < 1)) {
            throw new ParameterException(spec.commandLine(), "--label-margin must be in [0, 1), got " + labelMargin);
        }
        Verifier verifier = new Verifier(alpha, tau, labelMargin);
        OwnerKey key = keyOptions.resolve(main.env, err);
        if (key == null) {
            throw new ParameterException(spec.commandLine(), "verifying needs the owner's key: --key-file FILE or "
                    + OwnerKey.ENV_VAR);
        }
        if ((predictions == null) == (endpoint.url == null)) {
            throw new ParameterException(spec.commandLine(), "give the suspect's answers with one of --predictions "
                    + "DIR or --endpoint URL");
        }
        if (report != null) {
            // Refused before the suspect is asked anything; checked again, under a lock, when written.
            StagedOutput.check(report, StagedOutput.Kind.DIRECTORY, force, manifest, probe, predictions,
                    keyOptions.keyFile);
        }
        if (scores != ScoresOption.auto && marks == null) {
            throw new ParameterException(spec.commandLine(), "--scores is for --marks (the data watermark's test takes "
                    + "labels or probabilities)");
        }
        if (marks != null) {
            if (manifest != null) {
                throw new ParameterException(spec.commandLine(), "give one of --manifest FILE or --marks LOGDIR");
            }
            return verifyMarks(key, out);
        }
        if (manifest == null) {
            throw new ParameterException(spec.commandLine(), "give --manifest FILE (or --marks LOGDIR)");
        }
        Verdict v = predictions != null ? Verification.fromPredictions(manifest, probe, predictions, key, verifier)
                : Verification.fromEndpoint(manifest, probe, key, endpoint.settings(main.env), verifier);
        if (report != null) {
            Report.of(v, Report.Provenance.of(manifest, probe, key)).write(report, force, manifest, probe,
                    predictions);
        }
        if (v.controls().isEmpty()) {
            err.println(KEYLESS_WARNING);
            err.flush();
        }
        if (json) {
            out.println(v.toJson());
        } else {
            out.println(v.decision() + String.format(Locale.ROOT, " (p = %.3g at alpha = %s)", v.pValue(), v.alpha()));
            out.println(String.format(Locale.ROOT, "  success rate on triggered probes: %.4f (%d of %d)",
                    v.successRate(), v.hits(), v.probes()));
            out.println(String.format(Locale.ROOT, "  null rate (largest %.0f%% upper bound): %.4f",
                    100 * (1 - v.alpha()), v.nullRate()));
            out.println(String.format(Locale.ROOT, "  clean probes: target rate %.4f, bound %.4f; accuracy %.4f",
                    v.clean().rate(), v.clean().upperBound(), v.cleanAccuracy()));
            if (v.controls().size() <= LISTED_CONTROLS) {
                for (Verifier.Rate c : v.controls()) {
                    out.println(String.format(Locale.ROOT, "  %s: target rate %.4f, bound %.4f", c.name(), c.rate(),
                            c.upperBound()));
                }
            } else {
                double[] rates = v.controls().stream().mapToDouble(Verifier.Rate::rate).sorted().toArray();
                out.println(String.format(Locale.ROOT, "  %d controls: target rate median %.4f, largest %.4f (every "
                        + "one in --json)", rates.length, rates[rates.length / 2], rates[rates.length - 1]));
            }
            if (v.keyRank() != null) {
                Verdict.KeyRank r = v.keyRank();
                out.println(String.format(Locale.ROOT, "  key-rank test: %d of %d controls answered at least as often "
                        + "as the owner's trigger, p = %.3g%s", r.atLeast(), r.controls(), r.pValue(), r.decides()
                        ? " (decides, in place of the label and probability tests)"
                        : r.controls() >= Verifier.rankControls(v.alpha()) ? " (informative: the controls are "
                                + "variants of a keyless trigger, not keys drawn alike with the owner's)"
                        : " (informative: it decides from " + Verifier.rankControls(v.alpha()) + " control keys)"));
            }
            out.println(String.format(Locale.ROOT, "  label test (against the null rate + margin %s) p = %.3g",
                    v.margin(), v.labelPValue())
                    + (v.probabilityPValue() == null ? "" : String.format(Locale.ROOT,
                            "; probability test (mean target gain %.4f, tau %s) p = %.3g", v.meanGain(), v.tau(),
                            v.probabilityPValue())));
        }
        out.flush();
        return ExitCodes.OK;
    }

    private int verifyMarks(OwnerKey key, PrintWriter out) throws IOException {
        MarkVerifier verifier = new MarkVerifier(alpha);
        AnswerKind kind = switch (scores) {
            case auto -> null;
            case probabilities -> AnswerKind.PROBABILITIES;
            case logits -> AnswerKind.LOGITS;
        };
        MarkVerdict v = predictions != null
                ? MarkVerification.fromPredictions(marks, probe, predictions, kind, key, verifier)
                : MarkVerification.fromEndpoint(marks, probe, key, endpoint.settings(main.env), kind, verifier);
        if (report != null) {
            MarkReport.of(v, marks, MarkProbeSet.open(probe, key), key).write(report, force, probe, predictions);
        }
        if (json) {
            out.println(v.toJson());
        } else {
            out.println(v.decision() + String.format(Locale.ROOT, " (p = %.3g at alpha = %s, Holm-adjusted over %d "
                    + "clients%s)", v.pValue(), v.alpha(), v.clients().size(), v.gapTest().available()
                            ? "; label and gap tests combined per client by Holm; decided by the " + v.decidedBy()
                                    + " test" : ""));
            out.println(v.gapTest().available() ? "  gap test on the suspect's " + v.gapTest().scores()
                    : "  gap test not available: " + v.gapTest().reason());
            out.println("  implicated: " + (v.implicated().isEmpty() ? "none" : String.join(", ", v.implicated())));
            int shown = 0;
            for (MarkVerdict.ClientTest t : v.clients()) {
                if (shown++ == 10) {
                    out.println("  ... " + (v.clients().size() - 10) + " more clients (--json or --report for all)");
                    break;
                }
                out.println(line(t));
            }
            out.println(line(v.pooled()) + " (pooled, not corrected)");
        }
        out.flush();
        return ExitCodes.OK;
    }

    private static String line(MarkVerdict.ClientTest t) {
        String label = String.format(Locale.ROOT, "  %s: runner-up on marked %d of %d (%.3f), on control %d of %d "
                + "(%.3f); p = %.3g", t.client(), t.markedFollowed(), t.marked(), t.markedRate(), t.controlFollowed(),
                t.control(), t.controlRate(), t.pValue());
        MarkVerdict.Gap g = t.gap();
        String gap = g == null ? "" : String.format(Locale.ROOT, "; gap median on marked %+.3f, on control %+.3f; "
                + "gap p = %.3g; client p = %.3g", g.markedMedian(), g.controlMedian(), g.pValue(), t.clientPValue());
        return label + gap + String.format(Locale.ROOT, ", Holm p = %.3g", t.holmPValue());
    }
}
