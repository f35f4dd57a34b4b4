package dev.dyepack.serve;

import dev.dyepack.InvalidArgumentException;
import dev.dyepack.InvalidInputException;
import dev.dyepack.manifest.Json;
import dev.dyepack.mark.AnswerKind;
import dev.dyepack.mark.AnswerMarker;
import dev.dyepack.mark.ExtractionWatch;
import dev.dyepack.mark.MarkLog;
import dev.dyepack.mark.Queries;
import java.io.IOException;
import java.net.ConnectException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.net.http.HttpTimeoutException;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.time.Duration;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import org.eclipse.jetty.http.HttpHeader;
import org.eclipse.jetty.io.Content;
import org.eclipse.jetty.server.Handler;
import org.eclipse.jetty.server.Request;
import org.eclipse.jetty.server.Response;
import org.eclipse.jetty.server.Server;
import org.eclipse.jetty.server.ServerConnector;
import org.eclipse.jetty.util.Callback;
import org.eclipse.jetty.util.thread.QueuedThreadPool;

/**
 * A marking proxy in front of a prediction service (Jetty): each {@code POST} is forwarded to the upstream
 * service unchanged; the upstream's answer, per query a list of C probabilities or logits, is marked for the
 * calling client ({@link AnswerMarker}) and returned in the upstream's own document with only the marked answers
 * changed. Where the queries and answers sit in the JSON, and how they are written, is a {@link ServiceMapping}:
 * by default the verification's shapes, {@code {"instances": [q1, q2, ...]}} in (each query nested arrays of
 * numbers) and {@code {"predictions": [a1, a2, ...]}} out; other paths (JSON pointers) and base64 tensors with a
 * dtype and shape are mapped. Clients are told apart by an API key header: with a client table the key maps to a
 * client id, without one the client id is {@code "key-"} and the first 16 hex digits of the key's SHA-256; the
 * key itself is never logged or written.
 *
 * <p>Errors are JSON ({@code {"error": "..."}}): 401 without an API key, 403 for a key not in the table, 400
 * for a request of the wrong shape, 413 for one too large, 502 when the upstream is down or answers an error
 * or anything but one valid answer per query, 504 when it is slow. The marker runs only on a valid upstream
 * answer, so no mark is logged for an answer that was not served; if the marked answer cannot be delivered
 * (the client went away) its new log entries are retracted by an appended {@code "undelivered"} line.
 *
 * <p>With a watch, each client's served queries feed an {@link ExtractionWatch}; an alarm is written to the
 * log with its evidence, and the client's marking share is raised by the configured factor.
 */
public final class MarkingProxy implements AutoCloseable {
    /** The default API key header. */
    public static final String DEFAULT_KEY_HEADER = "X-API-Key";
    /** The largest request body accepted. */
    public static final int MAX_REQUEST_BYTES = 32 << 20;
    private static final System.Logger LOG = System.getLogger(MarkingProxy.class.getName());

    /**
     * How the proxy runs.
     *
     * @param upstream  the prediction service's URL
     * @param host      the address to listen on
     * @param port      the port (0 for any free one)
     * @param keyHeader the API key header
     * @param clients   API key to client id, or null to name clients by a hash of their key
     * @param timeout   the longest wait for the upstream's answer
     * @param kind      what the upstream answers, or null to tell per batch (probabilities when every row is
     *                  non-negative and sums to 1)
     * @param watch     the extraction watch's settings, or null for no watch
     * @param raise     the factor by which an alarmed client's marking share is raised (1 for none), capped by
     *                  {@link AnswerMarker#MAX_BUDGET}
     * @param mapping   where the queries and answers are in the service's JSON
     */
    public record Settings(URI upstream, String host, int port, String keyHeader, Map<String, String> clients,
            Duration timeout, AnswerKind kind, ExtractionWatch.Settings watch, double raise, ServiceMapping mapping) {
        /** @throws InvalidArgumentException for a missing or bad value */
        public Settings {
            if (upstream == null || upstream.getScheme() == null || upstream.getHost() == null
                    || !(upstream.getScheme().equalsIgnoreCase("http") || upstream.getScheme().equalsIgnoreCase("https"))) {
                throw new InvalidArgumentException("the upstream " + upstream + " is not an absolute http(s) URL");
            }
            if (port < 0 || port > 65535 || host == null || keyHeader == null || keyHeader.isBlank() || timeout == null
                    || timeout.isNegative() || timeout.isZero()) {
                throw new InvalidArgumentException("the proxy needs a host, a port in [0, 65535], a key header and a "
                        + "positive time-out");
            }
            if (!(raise >= 1)) {
                throw new InvalidArgumentException("the marking raise after an alarm is a factor of at least 1, got "
                        + raise);
            }
            if (mapping == null) {
                throw new InvalidArgumentException("the proxy needs a service mapping (ServiceMapping.DEFAULT for "
                        + "{\"instances\": ...} in, {\"predictions\": ...} out)");
            }
            clients = clients == null ? null : Map.copyOf(clients);
        }

        /**
         * Settings for a service of the verification's shapes ({@link ServiceMapping#DEFAULT}).
         *
         * @param upstream  the prediction service's URL
         * @param host      the address to listen on
         * @param port      the port (0 for any free one)
         * @param keyHeader the API key header
         * @param clients   API key to client id, or null to name clients by a hash of their key
         * @param timeout   the longest wait for the upstream's answer
         * @param kind      what the upstream answers, or null to tell per batch
         * @param watch     the extraction watch's settings, or null for no watch
         * @param raise     the marking raise after an alarm
         * @throws InvalidArgumentException for a missing or bad value
         */
        public Settings(URI upstream, String host, int port, String keyHeader, Map<String, String> clients,
                Duration timeout, AnswerKind kind, ExtractionWatch.Settings watch, double raise) {
            this(upstream, host, port, keyHeader, clients, timeout, kind, watch, raise, ServiceMapping.DEFAULT);
        }
    }

    private final Settings settings;
    private final AnswerMarker marker;
    private final MarkLog log;
    private final HttpClient http;
    private final Server server;
    private final ServerConnector connector;
    private final ExtractionWatch watch;

    /**
     * Starts the proxy.
     *
     * @param settings how it runs
     * @param marker   marks the answers (its log is the one given)
     * @param log      the mark log, for retractions of undelivered answers
     * @throws IOException if the port cannot be bound
     */
    public MarkingProxy(Settings settings, AnswerMarker marker, MarkLog log) throws IOException {
        this.settings = Objects.requireNonNull(settings, "settings");
        this.marker = Objects.requireNonNull(marker, "marker");
        this.log = Objects.requireNonNull(log, "log");
        this.watch = settings.watch() == null ? null : new ExtractionWatch(settings.watch());
        this.http = HttpClient.newBuilder().connectTimeout(settings.timeout()).followRedirects(HttpClient.Redirect.NEVER)
                .version(HttpClient.Version.HTTP_1_1).build();
        QueuedThreadPool threads = new QueuedThreadPool(64, 4);
        threads.setName("dyepack-serve");
        server = new Server(threads);
        connector = new ServerConnector(server);
        connector.setHost(settings.host());
        connector.setPort(settings.port());
        server.addConnector(connector);
        server.setHandler(new Handler.Abstract() {
            @Override
            public boolean handle(Request request, Response response, Callback callback) {
                serve(request, response, callback);
                return true;
            }
        });
        try {
            server.start();
        } catch (Exception e) {
            throw new IOException("the proxy cannot listen on " + settings.host() + ":" + settings.port() + ": "
                    + e.getMessage(), e);
        }
    }

    /** @return the port it listens on */
    public int port() {
        return connector.getLocalPort();
    }

    /** A refusal with its HTTP status. */
    private static final class Refusal extends Exception {
        private static final long serialVersionUID = 1L;
        final int status;

        Refusal(int status, String message) {
            super(message, null, false, false);
            this.status = status;
        }
    }

    private void serve(Request request, Response response, Callback callback) {
        try {
            if (!"POST".equals(request.getMethod())) {
                throw new Refusal(405, "the proxy answers POST requests of {\"instances\": [...]}");
            }
            long length = request.getLength();
            if (length > MAX_REQUEST_BYTES) {
                throw new Refusal(413, "the request is larger than " + MAX_REQUEST_BYTES + " bytes");
            }
            // The body is read before the client is identified: a refusal sent while the client is still
            // sending would make the server close the connection under a client that reuses it.
            String body = Content.Source.asString(request, StandardCharsets.UTF_8);
            if (body.length() > MAX_REQUEST_BYTES) {
                throw new Refusal(413, "the request is larger than " + MAX_REQUEST_BYTES + " bytes");
            }
            String client = client(request.getHeaders().get(settings.keyHeader()));
            ServiceMapping mapping = settings.mapping();
            Queries queries;
            try {
                queries = mapping.request(body).queries();
            } catch (ServiceMapping.MappingException e) {
                throw new Refusal(400, e.getMessage());
            }
            ServiceMapping.Answers upstreamAnswers;
            try {
                upstreamAnswers = mapping.answers(upstream(body, request.getHeaders().get(settings.keyHeader())),
                        queries.size());
            } catch (ServiceMapping.MappingException e) {
                throw new Refusal(502, e.getMessage());
            }
            double[][] answers = upstreamAnswers.answers();
            int classes = answers.length == 0 ? 0 : answers[0].length;
            float[] flat = new float[queries.size() * classes];
            for (int i = 0; i < answers.length; i++) {
                for (int c = 0; c < classes; c++) {
                    flat[i * classes + c] = (float) answers[i][c];
                }
            }
            if (watch != null) {
                Optional<ExtractionWatch.Alarm> alarm = watch.observe(client, queries);
                if (alarm.isPresent()) {
                    Map<String, Object> evidence = new LinkedHashMap<>(alarm.get().evidence());
                    evidence.put("marking_factor", marker.raise(client, settings.raise()));
                    log.appendAlarm(client, evidence);
                    LOG.log(System.Logger.Level.WARNING, "extraction alarm for client " + client + ": " + evidence);
                }
            }
            AnswerKind kind = settings.kind() != null ? settings.kind() : kindOf(answers);
            AnswerMarker.Marking m;
            try {
                m = marker.mark(client, queries, flat, classes, kind);
            } catch (InvalidInputException e) {
                throw new Refusal(502, "the upstream's answers cannot be served: " + e.getMessage());
            }
            long[] fresh = m.logged();
            String text = mapping.serve(upstreamAnswers, served(answers, m, kind));
            response.setStatus(200);
            response.getHeaders().put(HttpHeader.CONTENT_TYPE, "application/json");
            Content.Sink.write(response, true, text, Callback.from(callback::succeeded, failure -> {
                retract(fresh);
                callback.failed(failure);
            }));
        } catch (Refusal r) {
            error(response, callback, r.status, r.getMessage());
        } catch (IOException e) {
            // The log could not record the marks: nothing marked may be served.
            LOG.log(System.Logger.Level.ERROR, "the mark log failed; answering 503: " + e);
            error(response, callback, 503, "the marking log is unavailable");
        } catch (RuntimeException e) {
            LOG.log(System.Logger.Level.ERROR, "internal error: " + e);
            error(response, callback, 500, "internal error");
        }
    }

    private void retract(long[] seqs) {
        if (seqs.length == 0) {
            return;
        }
        try {
            log.appendUndelivered(seqs);
        } catch (IOException | IllegalStateException e) {
            LOG.log(System.Logger.Level.ERROR, "could not record " + seqs.length + " undelivered marks: " + e);
        }
    }

    private static void error(Response response, Callback callback, int status, String message) {
        response.setStatus(status);
        response.getHeaders().put(HttpHeader.CONTENT_TYPE, "application/json");
        Content.Sink.write(response, true, "{\"error\":" + Json.quote(message) + "}", callback);
    }

    private String client(String apiKey) throws Refusal {
        if (apiKey == null || apiKey.isBlank()) {
            throw new Refusal(401, "no API key: send it in the " + settings.keyHeader() + " header");
        }
        if (settings.clients() != null) {
            String id = settings.clients().get(apiKey.strip());
            if (id == null) {
                throw new Refusal(403, "the API key is not a known client's");
            }
            return id;
        }
        try {
            byte[] h = MessageDigest.getInstance("SHA-256").digest(apiKey.strip().getBytes(StandardCharsets.UTF_8));
            return "key-" + HexFormat.of().formatHex(h, 0, 8);
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("SHA-256 is unavailable in this JDK", e);
        }
    }

    /** Forwards the request; returns the upstream's answer, or refuses with 502/504. */
    private String upstream(String body, String apiKey) throws Refusal {
        HttpRequest.Builder b = HttpRequest.newBuilder(settings.upstream()).timeout(settings.timeout())
                .header("Content-Type", "application/json").POST(HttpRequest.BodyPublishers.ofString(body));
        if (apiKey != null) {
            b.header(settings.keyHeader(), apiKey);
        }
        HttpResponse<String> r;
        try {
            r = http.send(b.build(), HttpResponse.BodyHandlers.ofString());
        } catch (HttpTimeoutException e) {
            throw new Refusal(504, "the upstream did not answer within " + settings.timeout().toMillis() + " ms");
        } catch (ConnectException e) {
            throw new Refusal(502, "the upstream is unreachable");
        } catch (IOException e) {
            throw new Refusal(502, "the upstream failed: " + e.getClass().getSimpleName());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new Refusal(503, "the proxy is shutting down");
        }
        if (r.statusCode() / 100 != 2) {
            throw new Refusal(502, "the upstream answered HTTP " + r.statusCode());
        }
        return r.body();
    }

    private static AnswerKind kindOf(double[][] answers) {
        for (double[] row : answers) {
            double sum = 0;
            for (double v : row) {
                if (!(v >= 0)) {
                    return AnswerKind.LOGITS;
                }
                sum += v;
            }
            if (Math.abs(sum - 1) > AnswerMarker.SUM_TOLERANCE) {
                return AnswerKind.LOGITS;
            }
        }
        return AnswerKind.PROBABILITIES;
    }

    /**
     * The answers to serve: the upstream's own values, marked (the runner-up brought to the top, as the log's
     * mark says) where the marker marked, so float64 answers keep their precision and unmarked answers are byte
     * for byte the upstream's values.
     */
    private static double[][] served(double[][] answers, AnswerMarker.Marking m, AnswerKind kind) {
        int classes = answers.length == 0 ? 0 : answers[0].length;
        double[][] out = new double[answers.length][];
        for (int i = 0; i < answers.length; i++) {
            out[i] = answers[i].clone();
            if (m.outcomes()[i] == AnswerMarker.Outcome.MARKED) {
                m.mark().apply(out[i], 0, classes, m.top()[i], m.runnerUp()[i], kind);
            }
        }
        return out;
    }

    /**
     * Waits until the proxy stops.
     *
     * @throws InterruptedException if the wait is interrupted
     */
    public void join() throws InterruptedException {
        server.join();
    }

    /** Stops listening; requests in flight finish first. The marker and the log stay open. */
    @Override
    public void close() {
        try {
            server.stop();
        } catch (Exception e) {
            LOG.log(System.Logger.Level.WARNING, "stopping the proxy: " + e);
        }
    }
}
