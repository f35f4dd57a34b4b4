package dev.dyepack.serve;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.sun.net.httpserver.HttpServer;
import dev.dyepack.Backend;
import dev.dyepack.Engine;
import dev.dyepack.key.OwnerKey;
import dev.dyepack.manifest.JsonReader;
import dev.dyepack.mark.AnswerMarker;
import dev.dyepack.mark.ExtractionWatch;
import dev.dyepack.mark.MarkEntry;
import dev.dyepack.mark.MarkLog;
import dev.dyepack.mark.ProbMark;
import java.io.IOException;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The proxy in front of a real HTTP service that serves a softmax-regression model trained here, under
 * concurrent load from several clients, and in front of services that are down, slow or answer garbage.
 */
class MarkingProxyTest {
    private static final int D = 8;
    private static final int C = 4;
    private static final OwnerKey KEY = new OwnerKey("marking proxy test key, 32 bytes".getBytes(StandardCharsets.UTF_8));
    private static final Map<String, String> CLIENTS = Map.of("secret-key-alpha", "alpha", "secret-key-beta", "beta",
            "secret-key-gamma", "gamma", "secret-key-delta", "delta");
    private static float[] weight;
    private static float[] bias;
    private static HttpServer upstream;
    private static String mode = "ok";
    private static Engine engine;

    @TempDir
    Path dir;

    /** Softmax regression on four Gaussian blobs, fitted by full-batch gradient descent. */
    @BeforeAll
    static void trainAndServe() throws IOException {
        SplittableRandom r = new SplittableRandom(9);
        float[][] centres = new float[C][D];
        for (float[] c : centres) {
            for (int d = 0; d < D; d++) {
                c[d] = (float) r.nextGaussian();
            }
        }
        int n = 2000;
        float[][] x = new float[n][D];
        int[] y = new int[n];
        for (int i = 0; i < n; i++) {
            y[i] = i % C;
            for (int d = 0; d < D; d++) {
                x[i][d] = centres[y[i]][d] + (float) r.nextGaussian();
            }
        }
        weight = new float[C * D];
        bias = new float[C];
        for (int step = 0; step < 200; step++) {
            float[] gw = new float[C * D];
            float[] gb = new float[C];
            for (int i = 0; i < n; i++) {
                float[] p = predict(x[i]);
                p[y[i]] -= 1;
                for (int c = 0; c < C; c++) {
                    gb[c] += p[c];
                    for (int d = 0; d < D; d++) {
                        gw[c * D + d] += p[c] * x[i][d];
                    }
                }
            }
            for (int k = 0; k < gw.length; k++) {
                weight[k] -= 0.5f * gw[k] / n;
            }
            for (int c = 0; c < C; c++) {
                bias[c] -= 0.5f * gb[c] / n;
            }
        }
        upstream = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 0);
        upstream.setExecutor(Executors.newFixedThreadPool(8));
        upstream.createContext("/predict", ex -> {
            String body = new String(ex.getRequestBody().readAllBytes(), StandardCharsets.UTF_8);
            String answer;
            if ("slow".equals(mode)) {
                try {
                    Thread.sleep(3000);
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
            }
            if ("garbage".equals(mode)) {
                answer = "{\"predictions\": \"not today\"}";
            } else {
                @SuppressWarnings("unchecked")
                List<Object> instances = (List<Object>) ((Map<String, Object>) JsonReader.parse(body, 8)).get(
                        "instances");
                StringBuilder b = new StringBuilder("{\"predictions\":[");
                for (int i = 0; i < instances.size(); i++) {
                    @SuppressWarnings("unchecked")
                    List<Object> q = (List<Object>) instances.get(i);
                    float[] v = new float[D];
                    for (int d = 0; d < D; d++) {
                        v[d] = ((Number) q.get(d)).floatValue();
                    }
                    float[] p = predict(v);
                    b.append(i == 0 ? "[" : ",[");
                    for (int c = 0; c < C; c++) {
                        b.append(c == 0 ? "" : ",").append(p[c]);
                    }
                    b.append(']');
                }
                answer = b.append("]}").toString();
            }
            byte[] out = answer.getBytes(StandardCharsets.UTF_8);
            ex.getResponseHeaders().add("Content-Type", "application/json");
            ex.sendResponseHeaders(200, out.length);
            try (OutputStream o = ex.getResponseBody()) {
                o.write(out);
            }
        });
        upstream.start();
        engine = Engine.open(Backend.CPU);
    }

    @AfterAll
    static void stop() {
        upstream.stop(0);
        engine.close();
    }

    static float[] predict(float[] x) {
        float[] z = new float[C];
        float max = Float.NEGATIVE_INFINITY;
        for (int c = 0; c < C; c++) {
            z[c] = bias[c];
            for (int d = 0; d < D; d++) {
                z[c] += weight[c * D + d] * x[d];
            }
            max = Math.max(max, z[c]);
        }
        double sum = 0;
        for (int c = 0; c < C; c++) {
            z[c] = (float) Math.exp(z[c] - max);
            sum += z[c];
        }
        for (int c = 0; c < C; c++) {
            z[c] = (float) (z[c] / sum);
        }
        return z;
    }

    private static URI upstreamUri() {
        return URI.create("http://127.0.0.1:" + upstream.getAddress().getPort() + "/predict");
    }

    private static MarkingProxy.Settings settings(URI up, Duration timeout) {
        return new MarkingProxy.Settings(up, "127.0.0.1", 0, MarkingProxy.DEFAULT_KEY_HEADER, CLIENTS, timeout, null,
                ExtractionWatch.Settings.DEFAULT, 2);
    }

    private static String request(float[][] queries) {
        StringBuilder b = new StringBuilder("{\"instances\":[");
        for (int i = 0; i < queries.length; i++) {
            b.append(i == 0 ? "" : ",").append(Arrays.toString(queries[i]));
        }
        return b.append("]}").toString();
    }

    private static HttpResponse<String> post(HttpClient http, int port, String apiKey, String body) throws Exception {
        HttpRequest.Builder b = HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + "/"))
                .timeout(Duration.ofSeconds(30)).POST(HttpRequest.BodyPublishers.ofString(body));
        if (apiKey != null) {
            b.header("X-API-Key", apiKey);
        }
        return http.send(b.build(), HttpResponse.BodyHandlers.ofString());
    }

    private static float[][] answers(String json) {
        @SuppressWarnings("unchecked")
        List<Object> p = (List<Object>) ((Map<String, Object>) JsonReader.parse(json, 8)).get("predictions");
        float[][] out = new float[p.size()][];
        for (int i = 0; i < out.length; i++) {
            List<?> row = (List<?>) p.get(i);
            out[i] = new float[row.size()];
            for (int c = 0; c < row.size(); c++) {
                out[i][c] = ((Number) row.get(c)).floatValue();
            }
        }
        return out;
    }

    private static float[] floats(byte[] le) {
        float[] f = new float[le.length / 4];
        ByteBuffer.wrap(le).order(ByteOrder.LITTLE_ENDIAN).asFloatBuffer().get(f);
        return f;
    }

    @Test
    void concurrentClientsGetConsistentMarksThatTheLogRecordsExactly() throws Exception {
        mode = "ok";
        Path logDir = dir.resolve("log");
        SplittableRandom r = new SplittableRandom(10);
        Map<String, float[][]> pools = new HashMap<>();
        for (String key : CLIENTS.keySet()) {
            float[][] pool = new float[400][D];
            for (float[] q : pool) {
                for (int d = 0; d < D; d++) {
                    q[d] = (float) (2 * r.nextGaussian());
                }
            }
            pools.put(key, pool);
        }
        // Per client: query (as text) -> every answer it was served.
        Map<String, Map<String, List<float[]>>> seen = new ConcurrentHashMap<>();
        try (MarkLog log = MarkLog.open(logDir, KEY);
                MarkingProxy proxy = new MarkingProxy(settings(upstreamUri(), Duration.ofSeconds(10)),
                        new AnswerMarker(engine, KEY, log, 0.05), log)) {
            HttpClient http = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).build();
            ExecutorService pool = Executors.newFixedThreadPool(8);
            List<Future<?>> done = new ArrayList<>();
            for (String key : CLIENTS.keySet()) {
                for (int t = 0; t < 2; t++) {
                    long seed = key.hashCode() * 31L + t;
                    done.add(pool.submit(() -> {
                        SplittableRandom rr = new SplittableRandom(seed);
                        float[][] mine = pools.get(key);
                        for (int k = 0; k < 25; k++) {
                            float[][] batch = new float[40][];
                            for (int i = 0; i < batch.length; i++) {
                                batch[i] = mine[rr.nextInt(mine.length)];
                            }
                            HttpResponse<String> resp = post(http, proxy.port(), key, request(batch));
                            assertEquals(200, resp.statusCode(), resp.body());
                            float[][] a = answers(resp.body());
                            for (int i = 0; i < batch.length; i++) {
                                seen.computeIfAbsent(key, x -> new ConcurrentHashMap<>()).computeIfAbsent(
                                        Arrays.toString(batch[i]), x -> java.util.Collections.synchronizedList(
                                                new ArrayList<>())).add(a[i]);
                            }
                        }
                        return null;
                    }));
                }
            }
            for (Future<?> f : done) {
                f.get();
            }
            pool.shutdown();
        }
        MarkLog.Contents contents = MarkLog.read(logDir, KEY);
        assertTrue(contents.undelivered().isEmpty());
        int changedAnswers = 0;
        int allAnswers = 0;
        for (String key : CLIENTS.keySet()) {
            String client = CLIENTS.get(key);
            Map<String, MarkEntry> logged = new HashMap<>();
            for (MarkEntry e : contents.answers()) {
                if (e.client().equals(client)) {
                    logged.put(Arrays.toString(floats(e.query())), e);
                }
            }
            for (Map.Entry<String, List<float[]>> q : seen.get(key).entrySet()) {
                float[] first = q.getValue().get(0);
                for (float[] other : q.getValue()) {
                    assertArrayEquals(first, other, client + ": the same query always gets the same answer");
                }
                float[] query = null;
                for (float[] cand : pools.get(key)) {
                    if (Arrays.toString(cand).equals(q.getKey())) {
                        query = cand;
                    }
                }
                float[] truth = predict(query);
                boolean changed = !Arrays.equals(truth, first);
                MarkEntry e = logged.get(q.getKey());
                assertEquals(changed, e != null && e.marked(), client + ": an answer is changed exactly when the log "
                        + "has its mark");
                if (changed) {
                    // The default mark: mass moved from the top class to the runner-up until it leads by the
                    // margin, the pair's mass and every other class as the model answered.
                    for (int c = 0; c < truth.length; c++) {
                        if (c != e.top() && c != e.runnerUp()) {
                            assertEquals(truth[c], first[c], 0f, "class " + c + " is the model's");
                        }
                    }
                    float pair = truth[e.top()] + truth[e.runnerUp()];
                    assertEquals(pair, first[e.top()] + first[e.runnerUp()], 1e-6f, "the pair keeps its mass");
                    assertEquals(Math.min(pair, ProbMark.DEFAULT_MARGIN), first[e.runnerUp()] - first[e.top()], 1e-6,
                            "the runner-up leads by the margin");
                }
                changedAnswers += changed ? q.getValue().size() : 0;
                allAnswers += q.getValue().size();
            }
        }
        assertTrue(changedAnswers > 0, "some answers were marked");
        assertTrue(changedAnswers <= 0.08 * allAnswers, changedAnswers + " of " + allAnswers + " changed");
        for (Path seg : Files.list(logDir).filter(p -> p.toString().endsWith(".log")).toList()) {
            String text = Files.readString(seg);
            assertFalse(text.contains("secret-key"), "API keys are never logged");
        }
    }

    @Test
    void aClientExploringAroundItsOwnQueriesIsAlarmedInTheLog() throws Exception {
        mode = "ok";
        Path logDir = dir.resolve("log");
        SplittableRandom r = new SplittableRandom(12);
        HttpClient http = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).build();
        try (MarkLog log = MarkLog.open(logDir, KEY);
                MarkingProxy proxy = new MarkingProxy(settings(upstreamUri(), Duration.ofSeconds(10)),
                        new AnswerMarker(engine, KEY, log, 0.01), log)) {
            List<float[]> attacker = new ArrayList<>();
            for (int k = 0; k < 8; k++) {
                float[][] batch = new float[50][];
                for (int i = 0; i < batch.length; i++) {
                    float[] q = new float[D];
                    if (attacker.isEmpty() || i % 10 == 0) {
                        for (int d = 0; d < D; d++) {
                            q[d] = (float) (2 * r.nextGaussian());
                        }
                    } else {
                        // A synthetic query: a small step from one of its own earlier queries.
                        float[] from = attacker.get(r.nextInt(attacker.size()));
                        for (int d = 0; d < D; d++) {
                            q[d] = from[d] + (r.nextBoolean() ? 0.05f : -0.05f);
                        }
                    }
                    attacker.add(q);
                    batch[i] = q;
                }
                float[][] benign = new float[50][D];
                for (float[] q : benign) {
                    for (int d = 0; d < D; d++) {
                        q[d] = (float) (2 * r.nextGaussian());
                    }
                }
                assertEquals(200, post(http, proxy.port(), "secret-key-beta", request(batch)).statusCode());
                assertEquals(200, post(http, proxy.port(), "secret-key-gamma", request(benign)).statusCode());
            }
        }
        List<Map<String, Object>> alarms = MarkLog.read(logDir, KEY).alarms();
        assertEquals(1, alarms.size(), alarms.toString());
        assertEquals("beta", alarms.get(0).get("client"));
        assertTrue(((Number) alarms.get(0).get("p_value")).doubleValue() < 1e-3);
        assertEquals(2.0, ((Number) alarms.get(0).get("marking_factor")).doubleValue());
    }

    @Test
    void badClientsAndBadUpstreamsGetHttpErrorsAndLeaveNoMarks() throws Exception {
        Path logDir = dir.resolve("log");
        HttpClient http = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).build();
        float[][] batch = new float[600][D];
        SplittableRandom r = new SplittableRandom(11);
        for (float[] q : batch) {
            for (int d = 0; d < D; d++) {
                q[d] = (float) r.nextGaussian();
            }
        }
        String body = request(batch);
        try (MarkLog log = MarkLog.open(logDir, KEY)) {
            AnswerMarker marker = new AnswerMarker(engine, KEY, log, 0.05);
            try (MarkingProxy proxy = new MarkingProxy(settings(upstreamUri(), Duration.ofSeconds(1)), marker, log)) {
                mode = "ok";
                HttpResponse<String> noKey = post(http, proxy.port(), null, body);
                assertEquals(401, noKey.statusCode());
                assertTrue(noKey.body().contains("no API key"), noKey.body());
                assertEquals(403, post(http, proxy.port(), "who-knows", body).statusCode());
                HttpResponse<String> bad = post(http, proxy.port(), "secret-key-alpha", "{\"instances\": 3}");
                assertEquals(400, bad.statusCode());
                assertTrue(bad.body().contains("instances"), bad.body());
                mode = "garbage";
                HttpResponse<String> garbage = post(http, proxy.port(), "secret-key-alpha", body);
                assertEquals(502, garbage.statusCode());
                assertTrue(garbage.body().contains("predictions"), garbage.body());
                mode = "slow";
                HttpResponse<String> slow = post(http, proxy.port(), "secret-key-alpha", body);
                assertEquals(504, slow.statusCode(), slow.body());
                mode = "ok";
            }
            // An upstream that is down: a port nobody listens on.
            int dead;
            try (java.net.ServerSocket s = new java.net.ServerSocket(0)) {
                dead = s.getLocalPort();
            }
            try (MarkingProxy proxy = new MarkingProxy(settings(URI.create("http://127.0.0.1:" + dead + "/"),
                    Duration.ofSeconds(2)), marker, log)) {
                // A new client: the old one may hold a connection to the first proxy, whose port may be reused.
                HttpResponse<String> down = post(HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).build(),
                        proxy.port(), "secret-key-alpha", body);
                assertEquals(502, down.statusCode());
                assertTrue(down.body().contains("unreachable"), down.body());
            }
        }
        assertEquals(0, MarkLog.read(logDir, KEY).answers().size(), "no mark for an answer that was not served");
    }
}
