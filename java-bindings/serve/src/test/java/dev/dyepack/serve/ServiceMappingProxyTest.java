package dev.dyepack.serve;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import dev.dyepack.Backend;
import dev.dyepack.Engine;
import dev.dyepack.InvalidArgumentException;
import dev.dyepack.key.OwnerKey;
import dev.dyepack.manifest.JsonReader;
import dev.dyepack.mark.AnswerMarker;
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
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Base64;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.concurrent.Executors;
import java.util.function.Function;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The proxy in front of real HTTP services whose JSON is not the verification's: queries and answers as base64
 * tensors under other members, and the KServe v2 form (a tensor with a flat {@code "data"} array). The services
 * answer with a fixed softmax-linear model computed here, so every served answer is checked against the model's
 * own answer: unchanged, or with its top two classes swapped exactly where the log holds a mark.
 */
class ServiceMappingProxyTest {
    private static final int SIDE = 4;
    private static final int D = SIDE * SIDE;
    private static final int C = 5;
    private static final int N = 600;
    private static final OwnerKey KEY = new OwnerKey("service mapping test key 32 byte".getBytes(StandardCharsets.UTF_8));
    private static final Map<String, String> CLIENTS = Map.of("key-alpha", "alpha", "key-beta", "beta");
    private static final double[] W = new double[C * D];
    private static final double[] B = new double[C];
    private static HttpServer upstream;
    private static Engine engine;
    private static volatile boolean wrongShape;

    @TempDir
    Path dir;

    /** The model: softmax(W x / 255 + b), in double. */
    static double[] model(double[] x) {
        double[] z = new double[C];
        double max = Double.NEGATIVE_INFINITY;
        for (int c = 0; c < C; c++) {
            z[c] = B[c];
            for (int d = 0; d < D; d++) {
                z[c] += W[c * D + d] * x[d] / 255;
            }
            max = Math.max(max, z[c]);
        }
        double sum = 0;
        for (int c = 0; c < C; c++) {
            z[c] = Math.exp(z[c] - max);
            sum += z[c];
        }
        for (int c = 0; c < C; c++) {
            z[c] /= sum;
        }
        return z;
    }

    @BeforeAll
    static void serve() throws IOException {
        SplittableRandom r = new SplittableRandom(3);
        for (int i = 0; i < W.length; i++) {
            W[i] = 2 * r.nextGaussian();
        }
        for (int c = 0; c < C; c++) {
            B[c] = r.nextGaussian();
        }
        upstream = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 0);
        upstream.setExecutor(Executors.newFixedThreadPool(4));
        // A service of base64 tensors: {"model": ..., "inputs": {"pixels": {b64 uint8 (N, 4, 4)}}} in,
        // {"model_version": "7", "outputs": {"scores": {b64 float32 (N, C)}}, "latency_ms": 3} out.
        context("/tensor", root -> {
            Map<?, ?> pixels = (Map<?, ?>) ((Map<?, ?>) ((Map<?, ?>) root).get("inputs")).get("pixels");
            byte[] raw = Base64.getDecoder().decode((String) pixels.get("b64"));
            int n = raw.length / D;
            ByteBuffer out = ByteBuffer.allocate(n * C * 4).order(ByteOrder.LITTLE_ENDIAN);
            for (int i = 0; i < n; i++) {
                double[] x = new double[D];
                for (int d = 0; d < D; d++) {
                    x[d] = raw[i * D + d] & 0xff;
                }
                for (double p : model(x)) {
                    out.putFloat((float) p);
                }
            }
            int rows = wrongShape ? n + 1 : n;
            return "{\"model_version\":\"7\",\"outputs\":{\"scores\":{\"dtype\":\"float32\",\"shape\":[" + rows + ","
                    + C + "],\"b64\":\"" + Base64.getEncoder().encodeToString(Arrays.copyOf(out.array(), rows * C * 4))
                    + "\"}},\"latency_ms\":3}";
        });
        // KServe v2: {"inputs": [{"name", "shape": [N, 16], "datatype": "FP32", "data": [...]}]} in,
        // {"model_name": "m", "outputs": [{"name": "probs", "shape": [N, C], "datatype": "FP64", "data": [...]}]} out.
        context("/v2/models/m/infer", root -> {
            Map<?, ?> input = (Map<?, ?>) ((List<?>) ((Map<?, ?>) root).get("inputs")).get(0);
            List<?> data = (List<?>) input.get("data");
            int n = data.size() / D;
            StringBuilder b = new StringBuilder("{\"model_name\":\"m\",\"outputs\":[{\"name\":\"probs\",\"shape\":[")
                    .append(n).append(',').append(C).append("],\"datatype\":\"FP64\",\"data\":[");
            for (int i = 0; i < n; i++) {
                double[] x = new double[D];
                for (int d = 0; d < D; d++) {
                    x[d] = ((Number) data.get(i * D + d)).doubleValue();
                }
                double[] p = model(x);
                for (int c = 0; c < C; c++) {
                    b.append(i == 0 && c == 0 ? "" : ",").append(p[c]);
                }
            }
            return b.append("]}]}").toString();
        });
        upstream.start();
        engine = Engine.open(Backend.CPU);
    }

    private static void context(String path, Function<Object, String> answer) {
        upstream.createContext(path, (HttpExchange ex) -> {
            String body = new String(ex.getRequestBody().readAllBytes(), StandardCharsets.UTF_8);
            byte[] out = answer.apply(JsonReader.parse(body, 16)).getBytes(StandardCharsets.UTF_8);
            ex.getResponseHeaders().add("Content-Type", "application/json");
            ex.sendResponseHeaders(200, out.length);
            try (OutputStream o = ex.getResponseBody()) {
                o.write(out);
            }
        });
    }

    @AfterAll
    static void stop() {
        upstream.stop(0);
        engine.close();
    }

    private static MarkingProxy.Settings settings(String path, ServiceMapping mapping) {
        return new MarkingProxy.Settings(URI.create("http://127.0.0.1:" + upstream.getAddress().getPort() + path),
                "127.0.0.1", 0, MarkingProxy.DEFAULT_KEY_HEADER, CLIENTS, Duration.ofSeconds(20), null, null, 1,
                mapping);
    }

    private static HttpResponse<String> post(int port, String apiKey, String body) throws Exception {
        HttpClient http = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).build();
        return http.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + "/")).timeout(
                Duration.ofSeconds(30)).header("X-API-Key", apiKey).POST(HttpRequest.BodyPublishers.ofString(body))
                .build(), HttpResponse.BodyHandlers.ofString());
    }

    private static byte[] pixels(int n, long seed) {
        byte[] q = new byte[n * D];
        SplittableRandom r = new SplittableRandom(seed);
        for (int i = 0; i < q.length; i++) {
            q[i] = (byte) r.nextInt(256);
        }
        return q;
    }

    private static double[] row(byte[] q, int i) {
        double[] x = new double[D];
        for (int d = 0; d < D; d++) {
            x[d] = q[i * D + d] & 0xff;
        }
        return x;
    }

    private static int[] topTwo(double[] p) {
        int a = 0;
        for (int c = 1; c < p.length; c++) {
            a = p[c] > p[a] ? c : a;
        }
        int b = a == 0 ? 1 : 0;
        for (int c = 0; c < p.length; c++) {
            b = c != a && p[c] > p[b] ? c : b;
        }
        return new int[] {a, b};
    }

    /**
     * Checks served answers against the model's: each unchanged or with its top two swapped, swapped exactly
     * where the log holds a marked entry for that query (matched by the query's bytes), and at least one mark.
     */
    private static void checkAgainstLog(Path logDir, String client, byte[] queries, double[][] expected,
            double[][] served) {
        Map<String, Integer> rowOf = new HashMap<>();
        for (int i = 0; i < expected.length; i++) {
            rowOf.put(Arrays.toString(Arrays.copyOfRange(queries, i * D, (i + 1) * D)), i);
        }
        Map<Integer, MarkEntry> logged = new HashMap<>();
        for (MarkEntry e : MarkLog.read(logDir, KEY).answers()) {
            if (e.client().equals(client)) {
                byte[] q = e.dtype().equals("u1") ? e.query() : bytesOfFloats(e.query());
                logged.put(rowOf.get(Arrays.toString(q)), e);
            }
        }
        int swapped = 0;
        for (int i = 0; i < expected.length; i++) {
            double[] want = expected[i].clone();
            MarkEntry e = logged.get(i);
            if (e != null && e.marked()) {
                int[] t = topTwo(expected[i]);
                assertEquals(t[0], e.top(), "the log's top class is the model's");
                assertEquals(t[1], e.runnerUp(), "the log's runner-up is the model's");
                want[t[0]] = expected[i][t[1]];
                want[t[1]] = expected[i][t[0]];
                swapped++;
            }
            assertArrayEquals(want, served[i], "answer " + i + ": the model's, with the top two swapped exactly when "
                    + "the log holds its mark");
        }
        assertTrue(swapped > 0, "some answers are marked");
    }

    private static byte[] bytesOfFloats(byte[] f4) {
        ByteBuffer b = ByteBuffer.wrap(f4).order(ByteOrder.LITTLE_ENDIAN);
        byte[] out = new byte[f4.length / 4];
        for (int i = 0; i < out.length; i++) {
            out[i] = (byte) (int) b.getFloat();
        }
        return out;
    }

    private static String tensorRequest(byte[] q, int n) {
        return "{\"model\":\"m\",\"inputs\":{\"pixels\":{\"b64\":\"" + Base64.getEncoder().encodeToString(q)
                + "\",\"dtype\":\"uint8\",\"shape\":[" + n + "," + SIDE + "," + SIDE + "]}}}";
    }

    @Test
    void base64TensorsUnderOtherMembersAreMarkedAndServedInTheirForm() throws Exception {
        Path logDir = dir.resolve("marks");
        byte[] q = pixels(N, 1);
        double[][] expected = new double[N][];
        for (int i = 0; i < N; i++) {
            expected[i] = model(row(q, i));
            for (int c = 0; c < C; c++) {
                expected[i][c] = (float) expected[i][c];   // the service answers float32
            }
        }
        try (MarkLog log = MarkLog.open(logDir, KEY, MarkLog.DEFAULT_SEGMENT_BYTES, MarkLog.DEFAULT_MAX_BYTES,
                ProbMark.SWAP)) {
            AnswerMarker marker = new AnswerMarker(engine, KEY, log, 0.05);
            try (MarkingProxy proxy = new MarkingProxy(settings("/tensor", new ServiceMapping("/inputs/pixels",
                    "/outputs/scores")), marker, log)) {
                HttpResponse<String> first = post(proxy.port(), "key-alpha", tensorRequest(q, N));
                assertEquals(200, first.statusCode(), first.body());
                HttpResponse<String> again = post(proxy.port(), "key-alpha", tensorRequest(q, N));
                assertEquals(first.body(), again.body(), "the same queries get the same answers");
                Map<?, ?> doc = (Map<?, ?>) JsonReader.parse(first.body(), 16);
                assertEquals("7", doc.get("model_version"), "the upstream's other members are served as they were");
                assertEquals(3L, doc.get("latency_ms"));
                Map<?, ?> scores = (Map<?, ?>) ((Map<?, ?>) doc.get("outputs")).get("scores");
                assertEquals("float32", scores.get("dtype"));
                assertEquals(List.of((long) N, (long) C), scores.get("shape"));
                ByteBuffer b = ByteBuffer.wrap(Base64.getDecoder().decode((String) scores.get("b64")))
                        .order(ByteOrder.LITTLE_ENDIAN);
                assertEquals(N * C * 4, b.remaining());
                double[][] served = new double[N][C];
                for (double[] s : served) {
                    for (int c = 0; c < C; c++) {
                        s[c] = b.getFloat();
                    }
                }
                checkAgainstLog(logDir, "alpha", q, expected, served);
            }
        }
        assertTrue(MarkLog.read(logDir, KEY).answers().stream().allMatch(e -> e.dtype().equals("u1")),
                "uint8 tensors are logged as uint8");
    }

    @Test
    void kserveV2TensorsKeepTheirFloat64Answers() throws Exception {
        Path logDir = dir.resolve("marks");
        byte[] q = pixels(N, 2);
        StringBuilder req = new StringBuilder("{\"inputs\":[{\"name\":\"x\",\"shape\":[" + N + "," + D
                + "],\"datatype\":\"FP32\",\"data\":[");
        for (int i = 0; i < q.length; i++) {
            req.append(i == 0 ? "" : ",").append(q[i] & 0xff);
        }
        req.append("]}]}");
        double[][] expected = new double[N][];
        for (int i = 0; i < N; i++) {
            expected[i] = model(row(q, i));
        }
        try (MarkLog log = MarkLog.open(logDir, KEY, MarkLog.DEFAULT_SEGMENT_BYTES, MarkLog.DEFAULT_MAX_BYTES,
                ProbMark.SWAP)) {
            AnswerMarker marker = new AnswerMarker(engine, KEY, log, 0.05);
            try (MarkingProxy proxy = new MarkingProxy(settings("/v2/models/m/infer", new ServiceMapping("/inputs/0",
                    "/outputs/0")), marker, log)) {
                HttpResponse<String> r = post(proxy.port(), "key-beta", req.toString());
                assertEquals(200, r.statusCode(), r.body());
                Map<?, ?> doc = (Map<?, ?>) JsonReader.parse(r.body(), 16);
                assertEquals("m", doc.get("model_name"));
                Map<?, ?> out = (Map<?, ?>) ((List<?>) doc.get("outputs")).get(0);
                assertEquals("probs", out.get("name"));
                assertEquals("FP64", out.get("datatype"));
                List<?> data = (List<?>) out.get("data");
                assertEquals(N * C, data.size());
                double[][] served = new double[N][C];
                for (int i = 0; i < N; i++) {
                    for (int c = 0; c < C; c++) {
                        served[i][c] = ((Number) data.get(i * C + c)).doubleValue();
                    }
                }
                // Bit for bit the model's doubles: float64 answers are not narrowed on their way through.
                checkAgainstLog(logDir, "beta", q, expected, served);
            }
        }
    }

    @Test
    void requestsAndAnswersThatDoNotFitTheMappingAreRefusedAndNothingIsLogged() throws Exception {
        Path logDir = dir.resolve("marks");
        byte[] q = pixels(N, 3);
        String good = tensorRequest(q, N);
        try (MarkLog log = MarkLog.open(logDir, KEY, MarkLog.DEFAULT_SEGMENT_BYTES, MarkLog.DEFAULT_MAX_BYTES,
                ProbMark.SWAP)) {
            AnswerMarker marker = new AnswerMarker(engine, KEY, log, 0.05);
            try (MarkingProxy proxy = new MarkingProxy(settings("/tensor", new ServiceMapping("/inputs/pixels",
                    "/outputs/scores")), marker, log)) {
                HttpResponse<String> notBase64 = post(proxy.port(), "key-alpha", good.replace("\"b64\":\"",
                        "\"b64\":\"*"));
                assertEquals(400, notBase64.statusCode());
                assertTrue(notBase64.body().contains("b64"), notBase64.body());
                HttpResponse<String> shortData = post(proxy.port(), "key-alpha", tensorRequest(q, N + 1));
                assertEquals(400, shortData.statusCode());
                assertTrue(shortData.body().contains("needs"), shortData.body());
                HttpResponse<String> noDtype = post(proxy.port(), "key-alpha", good.replace("\"dtype\":\"uint8\"",
                        "\"dtype\":\"complex64\""));
                assertEquals(400, noDtype.statusCode());
                assertTrue(noDtype.body().contains("dtype"), noDtype.body());
                HttpResponse<String> elsewhere = post(proxy.port(), "key-alpha", good.replace("\"pixels\"",
                        "\"image\""));
                assertEquals(400, elsewhere.statusCode());
                assertTrue(elsewhere.body().contains("/inputs/pixels"), elsewhere.body());
                wrongShape = true;
                try {
                    HttpResponse<String> wrong = post(proxy.port(), "key-alpha", good);
                    assertEquals(502, wrong.statusCode());
                    assertTrue(wrong.body().contains("shape"), wrong.body());
                } finally {
                    wrongShape = false;
                }
            }
        }
        assertEquals(0, MarkLog.read(logDir, KEY).answers().size(), "no mark for an answer that was not served");
        assertThrows(InvalidArgumentException.class, () -> new ServiceMapping("inputs", "/outputs"),
                "a path is a JSON pointer");
    }

    @Test
    void perInstanceTensorsUnderTheDefaultPaths() throws Exception {
        Path logDir = dir.resolve("marks");
        byte[] q = pixels(N, 4);
        List<String> instances = new ArrayList<>();
        for (int i = 0; i < N; i++) {
            ByteBuffer f = ByteBuffer.allocate(D * 4).order(ByteOrder.LITTLE_ENDIAN);
            for (int d = 0; d < D; d++) {
                f.putFloat(q[i * D + d] & 0xff);
            }
            instances.add("{\"b64\":\"" + Base64.getEncoder().encodeToString(f.array())
                    + "\",\"dtype\":\"float32\",\"shape\":[" + SIDE + "," + SIDE + "]}");
        }
        String body = "{\"instances\":[" + String.join(",", instances) + "]}";
        // An upstream of the default shapes that reads per-instance tensors.
        upstream.createContext("/instances", (HttpExchange ex) -> {
            List<?> in = (List<?>) ((Map<?, ?>) JsonReader.parse(new String(ex.getRequestBody().readAllBytes(),
                    StandardCharsets.UTF_8), 16)).get("instances");
            StringBuilder b = new StringBuilder("{\"predictions\":[");
            for (int i = 0; i < in.size(); i++) {
                ByteBuffer f = ByteBuffer.wrap(Base64.getDecoder().decode((String) ((Map<?, ?>) in.get(i)).get("b64")))
                        .order(ByteOrder.LITTLE_ENDIAN);
                double[] x = new double[D];
                for (int d = 0; d < D; d++) {
                    x[d] = f.getFloat();
                }
                b.append(i == 0 ? "" : ",").append(Arrays.toString(model(x)));
            }
            byte[] out = b.append("]}").toString().getBytes(StandardCharsets.UTF_8);
            ex.sendResponseHeaders(200, out.length);
            try (OutputStream o = ex.getResponseBody()) {
                o.write(out);
            }
        });
        double[][] expected = new double[N][];
        for (int i = 0; i < N; i++) {
            expected[i] = model(row(q, i));
        }
        try (MarkLog log = MarkLog.open(logDir, KEY, MarkLog.DEFAULT_SEGMENT_BYTES, MarkLog.DEFAULT_MAX_BYTES,
                ProbMark.SWAP)) {
            AnswerMarker marker = new AnswerMarker(engine, KEY, log, 0.05);
            try (MarkingProxy proxy = new MarkingProxy(settings("/instances", ServiceMapping.DEFAULT), marker, log)) {
                HttpResponse<String> r = post(proxy.port(), "key-alpha", body);
                assertEquals(200, r.statusCode(), r.body());
                List<?> predictions = (List<?>) ((Map<?, ?>) JsonReader.parse(r.body(), 16)).get("predictions");
                double[][] served = new double[N][C];
                for (int i = 0; i < N; i++) {
                    for (int c = 0; c < C; c++) {
                        served[i][c] = ((Number) ((List<?>) predictions.get(i)).get(c)).doubleValue();
                    }
                }
                checkAgainstLog(logDir, "alpha", q, expected, served);
            }
        }
    }
}
