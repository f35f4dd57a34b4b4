package dev.dyepack.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import com.sun.net.httpserver.HttpsConfigurator;
import com.sun.net.httpserver.HttpsServer;
import java.security.KeyStore;
import javax.net.ssl.KeyManagerFactory;
import javax.net.ssl.SSLContext;
import dev.dyepack.Backend;
import dev.dyepack.Engine;
import dev.dyepack.io.NpyWriter;
import dev.dyepack.io.Samples;
import dev.dyepack.key.OwnerKey;
import dev.dyepack.surrogate.LinearHead;
import dev.dyepack.surrogate.LinearSurrogate;
import java.awt.image.BufferedImage;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Base64;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import javax.imageio.ImageIO;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code verify --endpoint} and {@code monitor} against a real HTTP server on 127.0.0.1 that serves a
 * softmax regression trained by the engine on the first 20,000 images of Fashion-MNIST poisoned with
 * the owner's key: the verdict must be the one computed from the same model's prediction files, and a
 * slow, flaky, garbled or locked service must give either that verdict or exit 2 with one line, never
 * another verdict.
 */
@Timeout(value = 120, unit = TimeUnit.SECONDS)
class CliEndpointTest {
    private static final Path FMNIST = Path.of("/usr/share/datasets/fashion-mnist");
    private static final Path TRAIN = FMNIST.resolve("train-images-idx3-ubyte.gz");
    private static final Path TRAIN_LABELS = FMNIST.resolve("train-labels-idx1-ubyte.gz");
    private static final Path TEST = FMNIST.resolve("t10k-images-idx3-ubyte.gz");
    private static final Path TEST_LABELS = FMNIST.resolve("t10k-labels-idx1-ubyte.gz");
    private static final int TRAINING_IMAGES = 20_000;
    private static final int PIXELS = 784;
    private static final String API_KEY = "endpoint-test-api-key-7f3a9c";
    /** The probe sets; IDX data gives IDX probe files, answered as NAME.npy. */
    private static final List<String> PROBE_FILES = List.of("clean", "triggered", "control-1", "control-2");

    @TempDir
    static Path dir;

    static Path ownerKey;
    static Path manifest;
    static Path probe;
    static LinearHead model;
    /** The verdicts from prediction files, the reference every endpoint run must reproduce. */
    static String probabilityVerdict;
    static String labelVerdict;

    private HttpServer server;
    private ExecutorService pool;
    private final AtomicInteger requests = new AtomicInteger();
    private final ConcurrentLinkedQueue<Long> starts = new ConcurrentLinkedQueue<>();

    @BeforeAll
    static void serveAWatermarkedModel() throws IOException {
        assumeTrue(Files.isReadable(TRAIN) && Files.isReadable(TEST), "Debian's dataset-fashion-mnist is not installed");
        ownerKey = Files.writeString(dir.resolve("owner.key"), "endpoint test owner key, 32 bytes");
        Path poisoned = dir.resolve("poisoned");
        CliTest.Run r = CliTriggerTest.run(Map.of(), "poison", "--data", TRAIN.toString(), "--labels",
                TRAIN_LABELS.toString(), "--trigger", "blend:alpha=0.2,pattern=noise", "--target", "0", "--select",
                "random", "--key-file", ownerKey.toString(), "--out", poisoned.toString());
        assertEquals(0, r.code(), r.err());
        manifest = poisoned.resolve("manifest.json");
        probe = dir.resolve("probe");
        r = CliTriggerTest.run(Map.of(), "probe-set", "--manifest", manifest.toString(), "--data", TEST.toString(),
                "--labels", TEST_LABELS.toString(), "--size", "300", "--controls", "2", "--key-file",
                ownerKey.toString(), "--out", probe.toString());
        assertEquals(0, r.code(), r.err());
        float[] x = Arrays.copyOf(pixels(poisoned.resolve(TRAIN.getFileName())), TRAINING_IMAGES * PIXELS);
        long[] y = Arrays.copyOf(Samples.labels(poisoned.resolve(TRAIN_LABELS.getFileName())), TRAINING_IMAGES);
        for (int i = 0; i < x.length; i++) {
            x[i] /= 255f;
        }
        try (Engine engine = Engine.open(Backend.CPU)) {
            model = LinearSurrogate.fit(engine, x, TRAINING_IMAGES, PIXELS, y, 10, OwnerKey.fromFile(ownerKey),
                    LinearSurrogate.Settings.DEFAULT);
        }
        probabilityVerdict = verdictFromFiles(true);
        labelVerdict = verdictFromFiles(false);
        assertTrue(probabilityVerdict.contains("\"decision\":\"detected\""), probabilityVerdict);
        assertTrue(labelVerdict.contains("\"decision\":\"detected\""), labelVerdict);
    }

    /** Raw pixel values, 0..255. */
    private static float[] pixels(Path file) {
        try (Samples.Reader r = Samples.open(file)) {
            int n = Math.toIntExact(r.shape()[0]);
            ByteBuffer b = ByteBuffer.allocate(Math.toIntExact(n * r.sampleBytes()));
            r.readSamples(0, n, b);
            float[] x = new float[b.capacity()];
            for (int i = 0; i < x.length; i++) {
                x[i] = b.get(i) & 0xff;
            }
            return x;
        }
    }

    /** The model on one image of raw pixels: softmax probabilities, as float32. */
    private static float[] predict(float[] x, int offset) {
        double[] z = new double[10];
        double max = Double.NEGATIVE_INFINITY;
        for (int c = 0; c < 10; c++) {
            z[c] = model.bias()[c];
            for (int d = 0; d < PIXELS; d++) {
                z[c] += (double) model.weight()[c * PIXELS + d] * (x[offset + d] / 255f);
            }
            max = Math.max(max, z[c]);
        }
        double sum = 0;
        for (int c = 0; c < 10; c++) {
            z[c] = Math.exp(z[c] - max);
            sum += z[c];
        }
        float[] p = new float[10];
        for (int c = 0; c < 10; c++) {
            p[c] = (float) (z[c] / sum);
        }
        return p;
    }

    private static int argmax(float[] p) {
        int best = 0;
        for (int c = 1; c < p.length; c++) {
            if (p[c] > p[best]) {
                best = c;
            }
        }
        return best;
    }

    private static String verdictFromFiles(boolean probabilities) throws IOException {
        Path out = Files.createDirectories(dir.resolve(probabilities ? "probs" : "labels"));
        for (String file : PROBE_FILES) {
            float[] x = pixels(probe.resolve(file + "-images-idx3-ubyte.gz"));
            int n = x.length / PIXELS;
            ByteBuffer b = ByteBuffer.allocate(n * (probabilities ? 40 : 8)).order(ByteOrder.LITTLE_ENDIAN);
            for (int i = 0; i < n; i++) {
                float[] p = predict(x, i * PIXELS);
                if (probabilities) {
                    for (float v : p) {
                        b.putFloat(v);
                    }
                } else {
                    b.putLong(argmax(p));
                }
            }
            try (NpyWriter w = NpyWriter.create(out.resolve(file + ".npy"), probabilities ? "<f4" : "<i8",
                    probabilities ? new long[] {n, 10} : new long[] {n})) {
                w.write(b.flip());
                w.commit();
            }
        }
        CliTest.Run r = CliTriggerTest.run(Map.of(), "verify", "--manifest", manifest.toString(), "--probe",
                probe.toString(), "--predictions", out.toString(), "--json", "--key-file", ownerKey.toString());
        assertEquals(0, r.code(), r.err());
        return r.out();
    }

    /** What the server answers to one request. */
    @FunctionalInterface
    interface Behaviour {
        /** @return {status, body}; status 0 answers with the model */
        Object[] reply(int request, HttpExchange exchange) throws Exception;
    }

    private static final Behaviour MODEL = (k, ex) -> new Object[] {0, null};

    /** Starts the server on 127.0.0.1 with an ephemeral port; contexts /probs, /labels and /png. */
    private String serve(Behaviour behaviour) throws IOException {
        return serve(behaviour, null);
    }

    /** As {@link #serve(Behaviour)}, over TLS with the given context when it is not null. */
    private String serve(Behaviour behaviour, SSLContext tls) throws IOException {
        if (tls == null) {
            server = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 0);
        } else {
            HttpsServer https = HttpsServer.create(new InetSocketAddress("127.0.0.1", 0), 0);
            https.setHttpsConfigurator(new HttpsConfigurator(tls));
            server = https;
        }
        pool = Executors.newFixedThreadPool(4);
        server.setExecutor(pool);
        for (String context : List.of("/probs", "/labels", "/png")) {
            server.createContext(context, ex -> {
                try (ex) {
                    int k = requests.incrementAndGet();
                    starts.add(System.nanoTime());
                    byte[] request = ex.getRequestBody().readAllBytes();
                    Object[] reply = behaviour.reply(k, ex);
                    String body = (int) reply[0] == 0 ? answer(context, new String(request, StandardCharsets.UTF_8))
                            : (String) reply[1];
                    byte[] bytes = body.getBytes(StandardCharsets.UTF_8);
                    ex.getResponseHeaders().set("Content-Type", "application/json");
                    ex.sendResponseHeaders((int) reply[0] == 0 ? 200 : (int) reply[0], bytes.length);
                    try (OutputStream o = ex.getResponseBody()) {
                        o.write(bytes);
                    }
                } catch (Exception e) {
                    // A client that timed out has gone; the next attempt gets a fresh exchange.
                }
            });
        }
        // Any other path is a 404 from a handler that reads the request first: the server's own 404 answers
        // before the request is read and closes the connection, which a loaded machine can turn into a reset.
        server.createContext("/", ex -> {
            try (ex) {
                ex.getRequestBody().readAllBytes();
                ex.sendResponseHeaders(404, -1);
            } catch (Exception e) {
                // the client has gone
            }
        });
        server.start();
        return (tls == null ? "http" : "https") + "://127.0.0.1:" + server.getAddress().getPort();
    }

    @AfterEach
    void stop() {
        if (server != null) {
            server.stop(0);
            pool.shutdownNow();
            server = null;
        }
    }

    /** The model's answers to a request, read independently of the client: every number, in order, or PNGs. */
    private static String answer(String context, String request) throws IOException {
        List<float[]> images = new ArrayList<>();
        if (context.equals("/png")) {
            Matcher m = Pattern.compile("\"b64\":\"([A-Za-z0-9+/=]+)\"").matcher(request);
            while (m.find()) {
                BufferedImage img = ImageIO.read(new ByteArrayInputStream(Base64.getDecoder().decode(m.group(1))));
                float[] x = new float[PIXELS];
                img.getRaster().getPixels(0, 0, 28, 28, x);
                images.add(x);
            }
        } else {
            Matcher m = Pattern.compile("-?\\d+(\\.\\d+)?([eE][+-]?\\d+)?").matcher(request);
            List<Float> all = new ArrayList<>();
            while (m.find()) {
                all.add(Float.parseFloat(m.group()));
            }
            for (int i = 0; i + PIXELS <= all.size(); i += PIXELS) {
                float[] x = new float[PIXELS];
                for (int d = 0; d < PIXELS; d++) {
                    x[d] = all.get(i + d);
                }
                images.add(x);
            }
        }
        StringBuilder b = new StringBuilder("{\"model\":\"fmnist-softmax\",\"predictions\":[");
        for (int i = 0; i < images.size(); i++) {
            float[] p = predict(images.get(i), 0);
            b.append(i == 0 ? "" : ",");
            if (context.equals("/labels")) {
                b.append(argmax(p));
            } else {
                b.append('[');
                for (int c = 0; c < 10; c++) {
                    b.append(c == 0 ? "" : ",").append(p[c]);
                }
                b.append(']');
            }
        }
        return b.append("]}").toString();
    }

    private static CliTest.Run verify(Map<String, String> env, String url, String... more) {
        List<String> args = new ArrayList<>(List.of("verify", "--manifest", manifest.toString(), "--probe",
                probe.toString(), "--endpoint", url, "--json", "--key-file", ownerKey.toString()));
        args.addAll(List.of(more));
        return CliTriggerTest.run(env, args.toArray(String[]::new));
    }

    /** Exit 2, no verdict on standard output, and the one error line names the problem. */
    private static void refused(CliTest.Run r, String problem) {
        assertEquals(ExitCodes.INVALID_INPUT, r.code(), r.err());
        assertEquals("", r.out(), "no verdict from a failing service");
        List<String> errors = r.err().lines().filter(l -> l.startsWith("dyepack: ")).toList();
        assertEquals(1, errors.size(), r.err());
        assertTrue(errors.get(0).contains(problem), errors.get(0));
    }

    @Test
    void aServedModelGetsTheVerdictOfItsPredictionFiles() throws IOException {
        String url = serve(MODEL);
        CliTest.Run r = verify(Map.of(), url + "/probs", "--batch", "64");
        assertEquals(0, r.code(), r.err());
        assertEquals(probabilityVerdict, r.out());
        r = verify(Map.of(), url + "/labels", "--batch", "300");
        assertEquals(0, r.code(), r.err());
        assertEquals(labelVerdict, r.out());
        r = verify(Map.of(), url + "/png", "--images", "png", "--batch", "50");
        assertEquals(0, r.code(), r.err());
        assertEquals(probabilityVerdict, r.out());
    }

    @Test
    void anotherRequestAndResponseShapeIsMappedByTemplateAndPointer() throws IOException {
        String url = serve((k, ex) -> new Object[] {0, null});
        Path template = Files.writeString(dir.resolve("template.json"),
                "{\"signature_name\": \"serving\", \"inputs\": {\"images\": \"{{instances}}\"}}");
        // The server wraps its answers as {"model": ..., "predictions": [...]}; point at them explicitly.
        CliTest.Run r = verify(Map.of(), url + "/probs", "--request-template", template.toString(),
                "--response-path", "/predictions");
        assertEquals(0, r.code(), r.err());
        assertEquals(probabilityVerdict, r.out());
        refused(verify(Map.of(), url + "/probs", "--response-path", "/outputs/0"), "nothing at /outputs");
    }

    @Test
    void requestsKeepToTheRateLimit() throws IOException {
        String url = serve(MODEL);
        CliTest.Run r = verify(Map.of(), url + "/labels", "--batch", "100", "--rate", "20/s");
        assertEquals(0, r.code(), r.err());
        assertEquals(labelVerdict, r.out());
        Long[] t = starts.toArray(Long[]::new);
        assertEquals(12, t.length, "4 probe files of 300 in batches of 100");
        // Requests leave the client at least 50 ms apart; they reach the server with some jitter, so each
        // gap may look a little shorter there, but the whole run cannot be faster than the rate.
        for (int i = 1; i < t.length; i++) {
            assertTrue(t[i] - t[i - 1] >= 30_000_000L, "request " + i + " came " + (t[i] - t[i - 1]) / 1e6
                    + " ms after the previous one, well under 1/20 s");
        }
        assertTrue(t[t.length - 1] - t[0] >= (t.length - 1) * 50_000_000L - 10_000_000L,
                "12 requests at 20/s take at least 550 ms, took " + (t[t.length - 1] - t[0]) / 1e6 + " ms");
    }

    @Test
    void aSlowServiceIsWaitedForWithinTheTimeoutAndRetried() throws IOException {
        // The first two requests take 5 s; the client gives up on each after 1 s and tries again (a second
        // leaves a loaded machine room to answer the others in time).
        String url = serve((k, ex) -> {
            if (k <= 2) {
                Thread.sleep(5000);
            }
            return new Object[] {0, null};
        });
        long t0 = System.nanoTime();
        CliTest.Run r = verify(Map.of(), url + "/probs", "--timeout", "1s", "--retries", "3", "--backoff", "10ms");
        assertEquals(0, r.code(), r.err());
        assertEquals(probabilityVerdict, r.out());
        assertTrue(requests.get() > 4 * 3, "the slow requests were sent again: " + requests.get());
        assertTrue(System.nanoTime() - t0 < 20e9);
    }

    @Test
    void aServiceThatNeverAnswersInTimeFailsWithinABoundedTime() throws IOException {
        String url = serve((k, ex) -> {
            Thread.sleep(3000);
            return new Object[] {0, null};
        });
        long t0 = System.nanoTime();
        CliTest.Run r = verify(Map.of(), url + "/probs", "--timeout", "200ms", "--retries", "2", "--backoff", "50ms");
        double seconds = (System.nanoTime() - t0) / 1e9;
        refused(r, "time-out");
        assertTrue(r.err().contains("after 3 attempts"), r.err());
        assertEquals(3, requests.get(), "one request and two retries");
        // 3 time-outs of 0.2 s and waits of 0.05 + 0.1 s, with slack for a busy machine.
        assertTrue(seconds < 6, "gave up after " + seconds + " s");
    }

    @Test
    void aServiceThatFailsNowAndThenRecoversByRetriesWithTheSameVerdict() throws IOException {
        String url = serve((k, ex) -> k % 3 == 0 ? new Object[] {503, "{\"error\":\"overloaded\"}"}
                : k % 7 == 0 ? new Object[] {429, "{\"error\":\"slow down\"}"} : new Object[] {0, null});
        CliTest.Run r = verify(Map.of(), url + "/probs", "--retries", "2", "--backoff", "10ms", "--batch", "50");
        assertEquals(0, r.code(), r.err());
        assertEquals(probabilityVerdict, r.out());
        assertTrue(requests.get() > 24, "24 batches plus the retried ones: " + requests.get());
    }

    @Test
    void aServiceThatAsksToRetryLaterIsWaitedForAsLongAsItSays() throws IOException {
        // The first answer is 503 with Retry-After: 2; the client's own backoff (10 ms) is shorter.
        String url = serve((k, ex) -> {
            if (k == 1) {
                ex.getResponseHeaders().set("Retry-After", "2");
                return new Object[] {503, "{\"error\":\"warming up\"}"};
            }
            return new Object[] {0, null};
        });
        CliTest.Run r = verify(Map.of(), url + "/probs", "--retries", "2", "--backoff", "10ms", "--batch", "500");
        assertEquals(0, r.code(), r.err());
        assertEquals(probabilityVerdict, r.out());
        Long[] t = starts.toArray(Long[]::new);
        double waited = (t[1] - t[0]) / 1e9;
        assertTrue(waited >= 1.9, "the second request came " + waited + " s after the first, before Retry-After");
    }

    /**
     * A key pair and self-signed certificate for 127.0.0.1 made by the JDK's keytool, as a TLS context
     * for the server, and the certificate as PEM for the client.
     */
    private static SSLContext selfSigned(Path dir, String name) throws Exception {
        String keytool = Path.of(System.getProperty("java.home"), "bin", "keytool").toString();
        Path store = dir.resolve(name + ".p12");
        char[] password = "test-store-password".toCharArray();
        for (List<String> command : List.of(
                List.of(keytool, "-genkeypair", "-alias", name, "-keyalg", "EC", "-groupname", "secp256r1",
                        "-dname", "CN=" + name, "-ext", "SAN=ip:127.0.0.1,dns:localhost", "-validity", "2",
                        "-keystore", store.toString(), "-storetype", "PKCS12", "-storepass", new String(password)),
                List.of(keytool, "-exportcert", "-rfc", "-alias", name, "-keystore", store.toString(),
                        "-storepass", new String(password), "-file", dir.resolve(name + ".pem").toString()))) {
            Process p = new ProcessBuilder(command).redirectErrorStream(true).start();
            String output = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
            assertEquals(0, p.waitFor(), String.join(" ", command) + ": " + output);
        }
        KeyStore ks = KeyStore.getInstance("PKCS12");
        try (var in = Files.newInputStream(store)) {
            ks.load(in, password);
        }
        KeyManagerFactory kmf = KeyManagerFactory.getInstance(KeyManagerFactory.getDefaultAlgorithm());
        kmf.init(ks, password);
        SSLContext context = SSLContext.getInstance("TLS");
        context.init(kmf.getKeyManagers(), null, null);
        return context;
    }

    @Test
    void anHttpsServiceIsVerifiedOnlyWhenItsCertificateIsTrusted() throws Exception {
        Path certs = Files.createDirectories(dir.resolve("tls-" + System.nanoTime()));
        SSLContext tls = selfSigned(certs, "service");
        selfSigned(certs, "stranger");
        String url = serve(MODEL, tls);
        assertTrue(url.startsWith("https://"));
        CliTest.Run r = verify(Map.of(), url + "/probs", "--ca-cert", certs.resolve("service.pem").toString());
        assertEquals(0, r.code(), r.err());
        assertEquals(probabilityVerdict, r.out(), "the same verdict as from prediction files");

        // Not in the default trust store, or another certificate trusted: refused at once, not retried.
        int before = requests.get();
        refused(verify(Map.of(), url + "/probs", "--retries", "3", "--backoff", "10ms"), "TLS handshake");
        refused(verify(Map.of(), url + "/probs", "--ca-cert", certs.resolve("stranger.pem").toString()),
                "certificate is not trusted");
        assertEquals(before, requests.get(), "no request reached the service without trust");
        // A file that holds no certificate is named.
        refused(verify(Map.of(), url + "/probs", "--ca-cert", ownerKey.toString()), ownerKey.toString());
        // Trust for a plain http endpoint is a mistake worth saying.
        refused(verify(Map.of(), "http://127.0.0.1:9/probs", "--ca-cert", certs.resolve("service.pem").toString()),
                "plain http");
    }

    @Test
    void aClientErrorIsNotRetried() throws IOException {
        String url = serve((k, ex) -> new Object[] {400, "{\"error\":\"bad input shape\"}"});
        refused(verify(Map.of(), url + "/probs", "--retries", "5", "--backoff", "10ms"), "HTTP 400");
        assertEquals(1, requests.get());
        refused(verify(Map.of(), "http://127.0.0.1:" + server.getAddress().getPort() + "/none", "--retries", "0"),
                "HTTP 404");
    }

    @Test
    void garbageAnswersAreRefusedWithoutAVerdict() throws IOException {
        Map<String, String> garbage = new HashMap<>();
        garbage.put("<html>Service Unavailable</html>", "not JSON");
        garbage.put("{\"predictions\": [1, 2, 3]}", "3 predictions for 100 probes");
        garbage.put("{\"predictions\": [" + "11,".repeat(99) + "11]}", "not a class in [0, 10)");
        garbage.put("{\"predictions\": [" + "1.5,".repeat(99) + "1]}", "1.5");
        garbage.put("{\"predictions\": [" + "\"cat\",".repeat(99) + "\"cat\"]}", "the string \"cat\"");
        garbage.put("{\"predictions\": [" + "[0.5,0.5],".repeat(99) + "[0.5,0.5]]}", "has 2 scores");
        garbage.put("{\"predictions\": [" + "[0.5,0.5,0,0,0,0,0,0,0,\"x\"],".repeat(99) + "[1,0,0,0,0,0,0,0,0,0]]}",
                "not a number");
        garbage.put("{\"predictions\": [" + "[0.9,0.5,0,0,0,0,0,0,0,0],".repeat(99) + "[1,0,0,0,0,0,0,0,0,0]]}",
                "sum to");
        garbage.put("{\"outputs\": []}", "nothing at /predictions");
        garbage.put("{\"predictions\": {\"labels\": [1]}}", "not a list of answers");
        java.util.concurrent.atomic.AtomicReference<String> current = new java.util.concurrent.atomic.AtomicReference<>();
        String url = serve((k, ex) -> new Object[] {200, current.get()});
        for (Map.Entry<String, String> g : garbage.entrySet()) {
            current.set(g.getKey());
            refused(verify(Map.of(), url + "/probs"), g.getValue());
        }
    }

    @Test
    void aServiceThatNeedsAnApiKeyGetsItFromAFileOrTheEnvironmentAndNeverShowsIt() throws IOException {
        String url = serve((k, ex) -> {
            String custom = ex.getRequestHeaders().getFirst("X-Api-Key");
            String bearer = ex.getRequestHeaders().getFirst("Authorization");
            boolean ok = API_KEY.equals(custom) || ("Bearer " + API_KEY).equals(bearer);
            return ok ? new Object[] {0, null} : new Object[] {401, "{\"error\":\"unauthorized\"}"};
        });
        CliTest.Run r = verify(Map.of(), url + "/probs", "--retries", "3");
        refused(r, "authentication");
        assertEquals(1, requests.get(), "401 is not retried");
        Path keyFile = Files.writeString(dir.resolve("api.key"), API_KEY + "\n");
        r = verify(Map.of(), url + "/probs", "--api-key-file", keyFile.toString(), "--api-key-header", "X-Api-Key");
        assertEquals(0, r.code(), r.err());
        assertEquals(probabilityVerdict, r.out());
        assertFalse((r.out() + r.err()).contains(API_KEY));
        r = verify(Map.of("DYEPACK_API_KEY", API_KEY), url + "/probs");
        assertEquals(0, r.code(), r.err());
        assertEquals(probabilityVerdict, r.out());
        Path wrong = Files.writeString(dir.resolve("wrong.key"), "not-the-key");
        r = verify(Map.of(), url + "/probs", "--api-key-file", wrong.toString());
        refused(r, "authentication");
        assertFalse((r.out() + r.err()).contains("not-the-key"), r.err());
    }

    @Test
    void monitorAppendsOneJsonLinePerRun() throws IOException {
        String url = serve(MODEL);
        Path log = dir.resolve("watch.jsonl");
        long t0 = System.nanoTime();
        CliTest.Run r = CliTriggerTest.run(Map.of(), "monitor", "--endpoint", url + "/probs", "--every", "1s",
                "--runs", "2", "--log", log.toString(), "--manifest", manifest.toString(), "--probe",
                probe.toString(), "--key-file", ownerKey.toString());
        double seconds = (System.nanoTime() - t0) / 1e9;
        assertEquals(0, r.code(), r.err());
        List<String> lines = Files.readAllLines(log);
        assertEquals(2, lines.size(), String.join("\n", lines));
        String verdict = probabilityVerdict.strip();
        Pattern line = Pattern.compile("\\{\"time\":\"(\\d{4}-\\d\\d-\\d\\dT[0-9:.]+Z)\",\"verdict\":(.*)}");
        List<java.time.Instant> times = new ArrayList<>();
        for (String l : lines) {
            Matcher m = line.matcher(l);
            assertTrue(m.matches(), l);
            assertEquals(verdict, m.group(2));
            times.add(java.time.Instant.parse(m.group(1)));
        }
        assertTrue(java.time.Duration.between(times.get(0), times.get(1)).toMillis() >= 990, times.toString());
        assertTrue(seconds >= 1, "the second run waited for its slot");

        // A run whose service fails is logged as an error line, and the watch goes on.
        stop();
        r = CliTriggerTest.run(Map.of(), "monitor", "--endpoint", url + "/probs", "--every", "100ms", "--runs", "1",
                "--retries", "0", "--log", log.toString(), "--manifest", manifest.toString(), "--probe",
                probe.toString(), "--key-file", ownerKey.toString());
        assertEquals(ExitCodes.INVALID_INPUT, r.code(), r.err());
        lines = Files.readAllLines(log);
        assertEquals(3, lines.size());
        assertTrue(lines.get(2).matches("\\{\"time\":\"[^\"]+\",\"error\":\"endpoint .*connection failed.*\"}"),
                lines.get(2));
    }
}
