package dev.dyepack.serve;

import dev.dyepack.InvalidArgumentException;
import dev.dyepack.InvalidInputException;
import dev.dyepack.manifest.Json;
import dev.dyepack.manifest.JsonReader;
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
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
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
 * A marking proxy in front of a prediction service (Jetty): each {@code POST} in the verification's request
 * shape, {@code {"instances": [q1, q2, ...]}} with each query as nested arrays of numbers, is forwarded to the
 * upstream service; its answer, {@code {"predictions": [a1, a2, ...]}} with each answer a list of C
 * probabilities or logits, is marked for the calling client ({@link AnswerMarker}) and returned in the same
 * shape. Clients are told apart by an API key header: with a client table the key maps to a client id, without
 * one the client id is {@code "key-"} and the first 16 hex digits of the key's SHA-256; the key itself is
 * never logged or written.
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
     */
    public record Settings(URI upstream, String host, int port, String keyHeader, Map<String, String> clients,
            Duration timeout, AnswerKind kind, ExtractionWatch.Settings watch, double raise) {
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
            clients = clients == null ? null : Map.copyOf(clients);
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
            String client = client(request.getHeaders().get(settings.keyHeader()));
            long length = request.getLength();
            if (length > MAX_REQUEST_BYTES) {
                throw new Refusal(413, "the request is larger than " + MAX_REQUEST_BYTES + " bytes");
            }
            String body = Content.Source.asString(request, StandardCharsets.UTF_8);
            if (body.length() > MAX_REQUEST_BYTES) {
                throw new Refusal(413, "the request is larger than " + MAX_REQUEST_BYTES + " bytes");
            }
            Queries queries = queries(body);
            float[][] answers = upstream(body, queries.size(), request.getHeaders().get(settings.keyHeader()));
            int classes = answers.length == 0 ? 0 : answers[0].length;
            float[] flat = new float[queries.size() * classes];
            for (int i = 0; i < answers.length; i++) {
                System.arraycopy(answers[i], 0, flat, i * classes, classes);
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
            String text = predictions(m.served(), queries.size(), classes);
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

    /** The request's queries, as float32 of one shape. */
    private static Queries queries(String body) throws Refusal {
        Object root;
        try {
            root = JsonReader.parse(body, 16);
        } catch (InvalidInputException e) {
            throw new Refusal(400, "the request is " + e.getMessage());
        }
        if (!(root instanceof Map<?, ?> m) || !(m.get("instances") instanceof List<?> instances)) {
            throw new Refusal(400, "the request must be {\"instances\": [...]}");
        }
        long[] shape = null;
        List<Float> values = new ArrayList<>();
        for (int i = 0; i < instances.size(); i++) {
            List<Long> s = new ArrayList<>();
            shapeOf(instances.get(i), s, 0, i);
            long[] si = s.stream().mapToLong(Long::longValue).toArray();
            if (shape == null) {
                shape = si;
            } else if (!java.util.Arrays.equals(shape, si)) {
                throw new Refusal(400, "instance " + i + " has shape " + s + ", instance 0 " + java.util.Arrays.toString(
                        shape) + ": one request holds one shape");
            }
            flatten(instances.get(i), values, i);
        }
        if (shape == null) {
            throw new Refusal(400, "the request holds no instances");
        }
        long[] full = new long[shape.length + 1];
        full[0] = instances.size();
        System.arraycopy(shape, 0, full, 1, shape.length);
        float[] v = new float[values.size()];
        for (int i = 0; i < v.length; i++) {
            v[i] = values.get(i);
        }
        return Queries.ofFloats(v, full);
    }

    private static void shapeOf(Object o, List<Long> shape, int depth, int index) throws Refusal {
        if (o instanceof List<?> l) {
            if (l.isEmpty()) {
                throw new Refusal(400, "instance " + index + " holds an empty array");
            }
            shape.add((long) l.size());
            shapeOf(l.get(0), shape, depth + 1, index);
        } else if (!(o instanceof Number)) {
            throw new Refusal(400, "instance " + index + " must be nested arrays of numbers (the marking proxy does "
                    + "not take images as base64)");
        }
    }

    private static void flatten(Object o, List<Float> out, int index) throws Refusal {
        if (o instanceof List<?> l) {
            for (Object x : l) {
                flatten(x, out, index);
            }
        } else if (o instanceof Number n) {
            float f = n.floatValue();
            if (!Float.isFinite(f)) {
                throw new Refusal(400, "instance " + index + " holds a non-finite value");
            }
            out.add(f);
        } else {
            throw new Refusal(400, "instance " + index + " must be nested arrays of numbers");
        }
    }

    /** Forwards the request; returns one row of scores per query, or refuses with 502/504. */
    private float[][] upstream(String body, int n, String apiKey) throws Refusal {
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
        Object root;
        try {
            root = JsonReader.parse(r.body(), 8);
        } catch (InvalidInputException e) {
            throw new Refusal(502, "the upstream's answer is " + e.getMessage());
        }
        if (!(root instanceof Map<?, ?> m) || !(m.get("predictions") instanceof List<?> predictions)) {
            throw new Refusal(502, "the upstream's answer is not {\"predictions\": [...]}");
        }
        if (predictions.size() != n) {
            throw new Refusal(502, "the upstream gave " + predictions.size() + " answers to " + n + " queries");
        }
        float[][] out = new float[n][];
        for (int i = 0; i < n; i++) {
            if (!(predictions.get(i) instanceof List<?> row) || row.size() < 2) {
                throw new Refusal(502, "the upstream's answer " + i + " is not a list of class scores (the proxy "
                        + "marks probabilities or logits, not labels)");
            }
            if (i > 0 && row.size() != out[0].length) {
                throw new Refusal(502, "the upstream's answer " + i + " has " + row.size() + " classes, answer 0 has "
                        + out[0].length);
            }
            out[i] = new float[row.size()];
            for (int c = 0; c < row.size(); c++) {
                if (!(row.get(c) instanceof Number x)) {
                    throw new Refusal(502, "the upstream's answer " + i + " holds a non-number");
                }
                out[i][c] = x.floatValue();
            }
        }
        return out;
    }

    private static AnswerKind kindOf(float[][] answers) {
        for (float[] row : answers) {
            double sum = 0;
            for (float v : row) {
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

    private static String predictions(float[] served, int n, int classes) {
        StringBuilder b = new StringBuilder(n * classes * 12 + 20).append("{\"predictions\":[");
        for (int i = 0; i < n; i++) {
            b.append(i == 0 ? "[" : ",[");
            for (int c = 0; c < classes; c++) {
                b.append(c == 0 ? "" : ",").append(Float.toString(served[i * classes + c]));
            }
            b.append(']');
        }
        return b.append("]}").toString();
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
