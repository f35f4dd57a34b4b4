package dev.dyepack.cli;

import dev.dyepack.key.OwnerKey;
import dev.dyepack.verify.ProbeSet;
import dev.dyepack.verify.Verification;
import dev.dyepack.verify.Verifier;
import dev.dyepack.verify.endpoint.EndpointSettings;
import dev.dyepack.verify.endpoint.Monitor;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.ParentCommand;
import picocli.CommandLine.Spec;

/** {@code dyepack monitor}: verify a suspect deployment on a schedule and log each verdict. */
@Command(name = "monitor", mixinStandardHelpOptions = true, showDefaultValues = true,
        description = {"Watch a suspect deployment: run `verify --endpoint` every TIME and append one JSON line per run",
            "to the log, {\"time\": ..., \"verdict\": {...}} or {\"time\": ..., \"error\": \"...\"}; a failed run is logged",
            "and the watch goes on. The signatures are checked once before the first run (exit 4 if they fail).",
            "Exit 0 after --runs runs when at least one gave a verdict, 2 when none did."},
        footer = {"", "Example:",
            "  DYEPACK_API_KEY=... dyepack monitor --endpoint https://api.example.com/v1/predict --every 1h \\",
            "      --log watch.jsonl --manifest poisoned/manifest.json --probe probe/ --key-file owner.key"})
final class MonitorCommand implements Callable<Integer> {
    @Option(names = "--manifest", required = true, paramLabel = "FILE", description = "The poisoning's manifest.json.")
    Path manifest;

    @Option(names = "--probe", required = true, paramLabel = "DIR", description = "The probe set.")
    Path probe;

    @Option(names = "--every", paramLabel = "TIME", converter = EndpointOptions.DurationConverter.class,
            description = "Time between two runs' starts (e.g. 10m, 1h, 1d).")
    Duration every = Duration.ofHours(1);

    @Option(names = "--runs", paramLabel = "N", description = "Stop after N runs (0: run until stopped).")
    int runs;

    @Option(names = "--log", required = true, paramLabel = "FILE", description = "The JSON-lines log, appended to.")
    Path log;

    @Option(names = "--alpha", paramLabel = "A", description = "Significance level.")
    double alpha = Verifier.DEFAULT_ALPHA;

    @Option(names = "--tau", paramLabel = "T", description = "Margin of the probability test.")
    double tau = Verifier.DEFAULT_TAU;

    @Option(names = "--label-margin", paramLabel = "M", description = "Margin of the label test: the triggered "
            + "probes' target rate is tested against the null rate plus M (a model trained under another key can "
            + "answer the owner's trigger a few points above the controls).")
    double labelMargin = Verifier.DEFAULT_MARGIN;

    @Mixin
    EndpointOptions endpoint;

    @Mixin
    KeyOptions keyOptions;

    @ParentCommand
    Main main;

    @Spec
    CommandSpec spec;

    @Override
    public Integer call() {
        PrintWriter out = spec.commandLine().getOut();
        if (endpoint.url == null) {
            throw new ParameterException(spec.commandLine(), "monitoring needs the suspect's --endpoint URL");
        }
        if (!(labelMargin >= 0 && labelMargin < 1)) {
            throw new ParameterException(spec.commandLine(), "--label-margin must be in [0, 1), got " + labelMargin);
        }
        Verifier verifier = new Verifier(alpha, tau, labelMargin);
        OwnerKey key = keyOptions.resolve(main.env, spec.commandLine().getErr());
        if (key == null) {
            throw new ParameterException(spec.commandLine(), "monitoring needs the owner's key: --key-file FILE or "
                    + OwnerKey.ENV_VAR);
        }
        EndpointSettings settings = endpoint.settings(main.env);
        ProbeSet.open(probe, manifest, key);
        int verdicts = Monitor.run(() -> Verification.fromEndpoint(manifest, probe, key, settings, verifier), every,
                runs, log, line -> {
                    out.println(line);
                    out.flush();
                });
        return verdicts > 0 ? ExitCodes.OK : ExitCodes.INVALID_INPUT;
    }
}
