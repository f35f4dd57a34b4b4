package dev.dyepack.cli;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.dyepack.io.Samples;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code mark}, {@code probe-set --marks} and {@code verify --marks} end to end, and their bad input. */
class CliMarkTest {
    private static final int N = 3000;
    static final int C = 5;
    private static final int D = 12;

    @TempDir
    Path dir;

    private Path key() throws IOException {
        return Files.writeString(dir.resolve("owner.key"), "cli mark test owner key, 32 bytes");
    }

    /** n rows of C softmax probabilities of random logits (standard deviation 2): ties are rare, margins vary. */
    static float[] probabilities(SplittableRandom r, int n) {
        float[] p = new float[n * C];
        for (int i = 0; i < n; i++) {
            double[] e = new double[C];
            double sum = 0;
            for (int c = 0; c < C; c++) {
                e[c] = Math.exp(2 * r.nextGaussian());
                sum += e[c];
            }
            for (int c = 0; c < C; c++) {
                p[i * C + c] = (float) (e[c] / sum);
            }
        }
        return p;
    }

    /** Little-endian float32 bytes, as a {@code <f4} .npy holds them. */
    static byte[] f4(float[] v) {
        ByteBuffer b = ByteBuffer.allocate(v.length * 4).order(ByteOrder.LITTLE_ENDIAN);
        b.asFloatBuffer().put(v);
        return b.array();
    }

    private static float[] readFloats(Path file, int count) {
        try (Samples.Reader r = Samples.open(file)) {
            ByteBuffer b = ByteBuffer.allocate(count * 4).order(ByteOrder.LITTLE_ENDIAN);
            r.readSamples(0, Math.toIntExact(r.shape()[0]), b);
            b.flip();
            float[] out = new float[count];
            b.asFloatBuffer().get(out);
            return out;
        }
    }

    private static byte[] readBytes(Path file) {
        try (Samples.Reader r = Samples.open(file)) {
            int n = Math.toIntExact(r.shape()[0]);
            ByteBuffer b = ByteBuffer.allocate(Math.toIntExact(n * r.sampleBytes()));
            r.readSamples(0, n, b);
            return b.array();
        }
    }

    private static int argmax(float[] p, int i) {
        int best = 0;
        for (int c = 1; c < C; c++) {
            if (p[i * C + c] > p[i * C + best]) {
                best = c;
            }
        }
        return best;
    }

    private static Path labels(Path file, int[] labels) throws IOException {
        ByteBuffer b = ByteBuffer.allocate(labels.length * 8).order(ByteOrder.LITTLE_ENDIAN);
        for (int l : labels) {
            b.putLong(l);
        }
        return CliTest.npy(file, "<i8", new long[] {labels.length}, b.array());
    }

    @Test
    void aSuspectThatLearnedTheServedAnswersIsDetectedAndTracedTheModelItselfIsNot() throws IOException {
        Path key = key();
        SplittableRandom r = new SplittableRandom(5);
        float[] p = probabilities(r, N);
        byte[] q = new byte[N * D];
        r.nextBytes(q);
        Path qf = CliTest.npy(dir.resolve("q.npy"), "|u1", new long[] {N, D}, q);
        Path pf = CliTest.npy(dir.resolve("p.npy"), "<f4", new long[] {N, C}, f4(p));
        Path log = dir.resolve("marks");
        Map<String, float[]> served = new HashMap<>();
        for (String client : new String[] {"acme", "globex"}) {
            Path out = dir.resolve(client + "-served.npy");
            CliTest.Run run = CliTest.run("mark", "--queries", qf.toString(), "--answers", pf.toString(), "--out",
                    out.toString(), "--log", log.toString(), "--client", client, "--prob-mark", "swap",
                    "--key-file", key.toString());
            assertEquals(0, run.code(), run.err());
            float[] s = readFloats(out, N * C);
            served.put(client, s);
            int changed = 0;
            for (int i = 0; i < N; i++) {
                if (!Arrays.equals(p, i * C, i * C + C, s, i * C, i * C + C)) {
                    changed++;
                    // Exactly the top two are swapped.
                    float[] want = Arrays.copyOfRange(p, i * C, i * C + C);
                    float[] sorted = want.clone();
                    Arrays.sort(sorted);
                    int a = argmax(p, i);
                    int b = -1;
                    for (int c = 0; c < C; c++) {
                        if (c != a && want[c] == sorted[C - 2]) {
                            b = c;
                        }
                    }
                    want[a] = p[i * C + b];
                    want[b] = p[i * C + a];
                    assertArrayEquals(want, Arrays.copyOfRange(s, i * C, i * C + C), "answer " + i);
                }
            }
            assertTrue(changed >= 0.005 * N && changed <= 0.015 * N, changed + " answers changed");
        }
        Path probe = dir.resolve("probe");
        CliTest.Run ps = CliTest.run("probe-set", "--marks", log.toString(), "--out", probe.toString(), "--key-file",
                key.toString());
        assertEquals(0, ps.code(), ps.err());
        // The marked probes are exactly the queries whose answers were changed, per client.
        byte[] marked = readBytes(probe.resolve("marked.npy"));
        int expectedMarked = 0;
        for (float[] s : served.values()) {
            for (int i = 0; i < N; i++) {
                if (!Arrays.equals(p, i * C, i * C + C, s, i * C, i * C + C)) {
                    expectedMarked++;
                }
            }
        }
        assertEquals(expectedMarked * D, marked.length);

        // A suspect that learned acme's answers by heart: it answers argmax of what acme was served.
        Map<String, Integer> acme = new HashMap<>();
        Map<String, Integer> own = new HashMap<>();
        for (int i = 0; i < N; i++) {
            String k = Arrays.toString(Arrays.copyOfRange(q, i * D, i * D + D));
            acme.put(k, argmax(served.get("acme"), i));
            own.put(k, argmax(p, i));
        }
        for (Map<String, Integer> model : List.of(acme, own)) {
            Path pred = Files.createTempDirectory(dir, "pred");
            for (String f : new String[] {"marked.npy", "control.npy"}) {
                byte[] probes = readBytes(probe.resolve(f));
                int[] answers = new int[probes.length / D];
                for (int i = 0; i < answers.length; i++) {
                    answers[i] = model.get(Arrays.toString(Arrays.copyOfRange(probes, i * D, i * D + D)));
                }
                labels(pred.resolve(f), answers);
            }
            Path report = dir.resolve("report-" + (model == acme ? "clone" : "own"));
            CliTest.Run v = CliTest.run("verify", "--marks", log.toString(), "--probe", probe.toString(),
                    "--predictions", pred.toString(), "--json", "--report", report.toString(), "--key-file",
                    key.toString());
            assertEquals(0, v.code(), v.err());
            String json = v.out().trim();
            if (model == acme) {
                assertTrue(json.startsWith("{\"decision\":\"detected\""), json);
                assertTrue(json.contains("\"implicated\":[\"acme\"]"), json);
            } else {
                assertTrue(json.startsWith("{\"decision\":\"not_detected\""), json);
                assertTrue(json.contains("\"implicated\":[]"), json);
            }
            String record = Files.readString(report.resolve("report.json"));
            assertTrue(record.contains(json), "the report holds the verdict printed");
            String html = Files.readString(report.resolve("report.html"));
            assertTrue(html.contains("data:image/png;base64,") && !html.contains("<script"));
            byte[] png = Files.readAllBytes(report.resolve("report.png"));
            assertArrayEquals(new byte[] {(byte) 0x89, 'P', 'N', 'G'}, Arrays.copyOf(png, 4));
        }
    }

    @Test
    void serveMarksAnUpstreamsAnswersForAKnownClient() throws Exception {
        Path key = key();
        com.sun.net.httpserver.HttpServer upstream = com.sun.net.httpserver.HttpServer.create(
                new java.net.InetSocketAddress("127.0.0.1", 0), 0);
        // A fixed model: every query gets the same three-class probabilities.
        upstream.createContext("/predict", ex -> {
            String body = new String(ex.getRequestBody().readAllBytes(), StandardCharsets.UTF_8);
            int n = body.split("\\],\\[", -1).length;
            byte[] out = ("{\"predictions\":[" + String.join(",", java.util.Collections.nCopies(n, "[0.2,0.5,0.3]"))
                    + "]}").getBytes(StandardCharsets.UTF_8);
            ex.sendResponseHeaders(200, out.length);
            ex.getResponseBody().write(out);
            ex.close();
        });
        upstream.start();
        int port;
        try (java.net.ServerSocket s = new java.net.ServerSocket(0)) {
            port = s.getLocalPort();
        }
        Path clients = Files.writeString(dir.resolve("clients.txt"), "# key client\nk-123 acme\n");
        Path log = dir.resolve("served-marks");
        Thread serving = new Thread(() -> CliTest.run("serve", "--upstream", "http://127.0.0.1:"
                + upstream.getAddress().getPort() + "/predict", "--port", String.valueOf(port), "--log",
                log.toString(), "--clients", clients.toString(), "--key-file", key.toString(), "--backend", "cpu"));
        serving.start();
        try {
            java.net.http.HttpClient http = java.net.http.HttpClient.newHttpClient();
            java.net.http.HttpResponse<String> answer = null;
            for (int attempt = 0; attempt < 100 && answer == null; attempt++) {
                try {
                    answer = http.send(java.net.http.HttpRequest.newBuilder(java.net.URI.create("http://127.0.0.1:"
                            + port + "/")).header("X-API-Key", "k-123").POST(java.net.http.HttpRequest.BodyPublishers
                            .ofString("{\"instances\":[[1,2],[3,4]]}")).build(),
                            java.net.http.HttpResponse.BodyHandlers.ofString());
                } catch (java.net.ConnectException e) {
                    Thread.sleep(100);
                }
            }
            assertTrue(answer != null, "the proxy started");
            assertEquals(200, answer.statusCode(), answer.body());
            assertEquals("{\"predictions\":[[0.2,0.5,0.3],[0.2,0.5,0.3]]}", answer.body());
            java.net.http.HttpResponse<String> stranger = http.send(java.net.http.HttpRequest.newBuilder(
                    java.net.URI.create("http://127.0.0.1:" + port + "/")).header("X-API-Key", "k-999").POST(
                            java.net.http.HttpRequest.BodyPublishers.ofString("{\"instances\":[[1,2]]}")).build(),
                    java.net.http.HttpResponse.BodyHandlers.ofString());
            assertEquals(403, stranger.statusCode());
        } finally {
            serving.interrupt();
            serving.join(10_000);
            upstream.stop(0);
        }
        assertFalse(serving.isAlive(), "serve stops when interrupted");
        assertTrue(Files.exists(log.resolve("marks-000001.log")));
    }

    @Test
    void badInputIsRefusedWithoutOutputOrMarks() throws IOException {
        Path key = key();
        SplittableRandom r = new SplittableRandom(6);
        float[] p = probabilities(r, N);
        byte[] q = new byte[N * D];
        r.nextBytes(q);
        Path qf = CliTest.npy(dir.resolve("q.npy"), "|u1", new long[] {N, D}, q);
        Path log = dir.resolve("marks");
        Path out = dir.resolve("served.npy");
        List<String[]> cases = new ArrayList<>();
        Path shorter = CliTest.npy(dir.resolve("short.npy"), "<f4", new long[] {N - 1, C},
                f4(Arrays.copyOf(p, (N - 1) * C)));
        cases.add(new String[] {shorter.toString(), "lengths differ", "auto"});
        float[] nan = p.clone();
        nan[17 * C + 2] = Float.NaN;
        cases.add(new String[] {CliTest.npy(dir.resolve("nan.npy"), "<f4", new long[] {N, C}, f4(nan)).toString(),
            "answer 17", "auto"});
        float[] unnormalised = p.clone();
        unnormalised[9 * C] += 0.3f;
        cases.add(new String[] {CliTest.npy(dir.resolve("sum.npy"), "<f4", new long[] {N, C}, f4(unnormalised))
                .toString(), "sum to", "probabilities"});
        for (String[] c : cases) {
            CliTest.Run run = CliTest.run("mark", "--queries", qf.toString(), "--answers", c[0], "--out", out.toString(),
                    "--log", log.toString(), "--kind", c[2], "--key-file", key.toString());
            assertEquals(2, run.code(), run.err());
            assertTrue(run.err().contains(c[1]), run.err());
            assertFalse(Files.exists(out), "no served answers after a refusal");
        }
        CliTest.Run noKey = CliTest.run("mark", "--queries", qf.toString(), "--answers", qf.toString(), "--out",
                out.toString(), "--log", log.toString());
        assertEquals(2, noKey.code());
        assertTrue(noKey.err().contains("key"), noKey.err());
        // Nothing was logged by the refused batches.
        CliTest.Run ps = CliTest.run("probe-set", "--marks", log.toString(), "--out", dir.resolve("probe").toString(),
                "--key-file", key.toString());
        assertEquals(2, ps.code(), ps.err());
        assertTrue(ps.err().contains("0 marked and 0 control"), ps.err());

        // A tampered log is refused with exit 4.
        Path pf = CliTest.npy(dir.resolve("p.npy"), "<f4", new long[] {N, C}, f4(p));
        assertEquals(0, CliTest.run("mark", "--queries", qf.toString(), "--answers", pf.toString(), "--out",
                out.toString(), "--log", log.toString(), "--key-file", key.toString()).code());
        Path seg = log.resolve("marks-000001.log");
        String text = Files.readString(seg, StandardCharsets.UTF_8);
        Files.writeString(seg, text.replaceFirst("\"runner_up\":(\\d)", "\"runner_up\":9"), StandardCharsets.UTF_8);
        CliTest.Run tampered = CliTest.run("probe-set", "--marks", log.toString(), "--out",
                dir.resolve("probe").toString(), "--key-file", key.toString());
        assertEquals(4, tampered.code(), tampered.err());
        assertTrue(tampered.err().contains("marks-000001.log:2"), tampered.err());
        Files.writeString(seg, text, StandardCharsets.UTF_8);

        CliTest.Run both = CliTest.run("verify", "--marks", log.toString(), "--manifest", "m.json", "--probe", "x",
                "--predictions", "y", "--key-file", key.toString());
        assertEquals(2, both.code());
        assertTrue(both.err().contains("one of --manifest FILE or --marks LOGDIR"), both.err());
    }
}
