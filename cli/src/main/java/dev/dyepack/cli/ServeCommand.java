package dev.dyepack.cli;

import dev.dyepack.Engine;
import dev.dyepack.InvalidArgumentException;
import dev.dyepack.key.OwnerKey;
import dev.dyepack.mark.AnswerKind;
import dev.dyepack.mark.AnswerMarker;
import dev.dyepack.mark.ExtractionWatch;
import dev.dyepack.mark.MarkLog;
import dev.dyepack.serve.ClientTable;
import dev.dyepack.serve.MarkingProxy;
import dev.dyepack.serve.ServiceMapping;
import java.io.IOException;
import java.io.PrintWriter;
import java.net.URI;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.ParentCommand;
import picocli.CommandLine.Spec;

/** {@code dyepack serve}: a marking proxy in front of a prediction service. */
@Command(name = "serve", mixinStandardHelpOptions = true, showDefaultValues = true,
        description = {"Sit in front of a prediction service and mark its answers per client: POST {\"instances\": [...]}",
            "is forwarded to --upstream, whose {\"predictions\": [...]} (probabilities or logits per query) come back",
            "marked as `dyepack mark` marks them, recorded in the log. Clients are told apart by their API key header",
            "(mapped to a client id by --clients; keys are never logged). Other JSON shapes: --request-path and",
            "--response-path. Runs until stopped (Ctrl-C)."},
        footer = {"", "Examples:",
            "  dyepack serve --upstream http://127.0.0.1:9000/predict --port 8080 --log marks/ --clients clients.txt \\",
            "      --key-file owner.key",
            "  # a KServe v2 service: {\"inputs\": [{\"name\", \"shape\", \"datatype\", \"data\"}]} -> {\"outputs\": [...]}",
            "  dyepack serve --upstream http://127.0.0.1:9000/v2/models/m/infer --request-path /inputs/0 \\",
            "      --response-path /outputs/0 --log marks/ --key-file owner.key"})
final class ServeCommand implements Callable<Integer> {
    @Option(names = "--upstream", required = true, paramLabel = "URL", description = "The prediction service.")
    URI upstream;

    @Option(names = "--port", paramLabel = "P", description = "The port to listen on.")
    int port = 8080;

    @Option(names = "--bind", paramLabel = "HOST", description = "The address to listen on.")
    String bind = "127.0.0.1";

    @Option(names = "--log", required = true, paramLabel = "DIR", description = "The mark log (created if missing).")
    Path log;

    @Option(names = "--clients", paramLabel = "FILE",
            description = "API key to client id, one 'API_KEY CLIENT_ID' per line (else a client is named by a "
                    + "hash of its key).")
    Path clients;

    @Option(names = "--key-header", paramLabel = "NAME", description = "The API key header.")
    String keyHeader = MarkingProxy.DEFAULT_KEY_HEADER;

    @Option(names = "--budget", paramLabel = "B", description = "Share of answers changed (at most 0.05).")
    double budget = AnswerMarker.DEFAULT_BUDGET;

    @Option(names = "--timeout", paramLabel = "SECONDS", description = "The longest wait for the upstream.")
    int timeout = 30;

    @Option(names = "--kind", paramLabel = "auto|probabilities|logits", description = "What the upstream answers.")
    MarkCommand.KindOption kind = MarkCommand.KindOption.auto;

    @Option(names = "--watch", negatable = true, description = "Watch each client's query stream for extraction "
            + "(PRADA-style) and write alarms to the log.")
    boolean watch = true;

    @Option(names = "--watch-raise", paramLabel = "F", description = "Raise an alarmed client's marking share by "
            + "this factor (capped at a 5% share; 1 for no raise).")
    double watchRaise = 2;

    @Option(names = "--prob-mark", paramLabel = "swap|shift[:MARGIN]", converter = ProbMarkConverter.class,
            description = ProbMarkConverter.DESCRIPTION, showDefaultValue = picocli.CommandLine.Help.Visibility.NEVER)
    dev.dyepack.mark.ProbMark probMark = dev.dyepack.mark.ProbMark.DEFAULT;

    @Option(names = "--backend", paramLabel = "auto|cpu|cuda", description = "Where to compute the margins.")
    ApplyCommand.BackendOption backend = ApplyCommand.BackendOption.auto;

    @Option(names = "--request-path", paramLabel = "POINTER",
            description = "Where the queries are in a request (a JSON pointer): an array of queries (nested arrays "
                    + "of numbers, or tensors {\"b64\"|\"data\", \"dtype\", \"shape\"}) or one tensor of the batch.")
    String requestPath = ServiceMapping.DEFAULT.requestPath();

    @Option(names = "--response-path", paramLabel = "POINTER",
            description = "Where the answers are in the upstream's response (a JSON pointer): N rows of class scores "
                    + "(arrays or tensors) or one (N, C) tensor; served back in the same form.")
    String responsePath = ServiceMapping.DEFAULT.responsePath();

    @Mixin
    LogSizeOptions logSize;

    @Mixin
    KeyOptions keyOptions;

    @ParentCommand
    Main main;

    @Spec
    CommandSpec spec;

    @Override
    public Integer call() throws IOException, InterruptedException {
        PrintWriter out = spec.commandLine().getOut();
        PrintWriter err = spec.commandLine().getErr();
        logSize.validate(spec);
        ServiceMapping mapping;
        try {
            mapping = new ServiceMapping(requestPath, responsePath);
        } catch (InvalidArgumentException e) {
            throw new ParameterException(spec.commandLine(), e.getMessage());
        }
        OwnerKey key = keyOptions.resolve(main.env, err);
        if (key == null) {
            throw new ParameterException(spec.commandLine(), "marking needs the owner's key: --key-file FILE or "
                    + OwnerKey.ENV_VAR);
        }
        if (timeout < 1) {
            throw new ParameterException(spec.commandLine(), "--timeout must be at least 1 second");
        }
        Map<String, String> table = clients == null ? null : ClientTable.read(clients);
        AnswerKind k = switch (kind) {
            case auto -> null;
            case probabilities -> AnswerKind.PROBABILITIES;
            case logits -> AnswerKind.LOGITS;
        };
        try (Engine engine = backend.open(err); MarkLog markLog = MarkLog.open(log, key, logSize.segmentBytes,
                logSize.maxBytes, probMark); AnswerMarker marker = new AnswerMarker(engine, key, markLog, budget)) {
            if (markLog.droppedTailBytes() > 0) {
                err.println("warning: the log ended in a partial line (" + markLog.droppedTailBytes() + " bytes, never "
                        + "acknowledged); it was cut off");
            }
            MarkingProxy proxy = new MarkingProxy(new MarkingProxy.Settings(upstream, bind, port, keyHeader, table,
                    Duration.ofSeconds(timeout), k, watch ? ExtractionWatch.Settings.DEFAULT : null, watchRaise, mapping),
                    marker,
                    markLog);
            Thread stopper = new Thread(proxy::close, "dyepack-serve-stop");
            Runtime.getRuntime().addShutdownHook(stopper);
            out.println("marking proxy on http://" + bind + ":" + proxy.port() + " for " + upstream + "; "
                    + (table == null ? "clients named by a hash of their API key" : table.size() + " clients")
                    + "; log " + log);
            out.flush();
            err.flush();
            try {
                proxy.join();
            } finally {
                proxy.close();
                Runtime.getRuntime().removeShutdownHook(stopper);
            }
        }
        return ExitCodes.OK;
    }
}
