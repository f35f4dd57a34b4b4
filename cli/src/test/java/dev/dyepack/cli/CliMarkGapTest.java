package dev.dyepack.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.sun.net.httpserver.HttpServer;
import dev.dyepack.io.Samples;
import java.io.IOException;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.HashMap;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code verify --marks} with a suspect's probabilities or logits: the gap test beside the label test, in the
 * printed verdict, its JSON and the report; labels only: the gap test reported as not available.
 */
class CliMarkGapTest {
    private static final int N = 3000;
    private static final int C = CliMarkTest.C; // the classes of CliMarkTest.probabilities
    private static final int D = 12;

    @TempDir
    Path dir;

    private static byte[] f8(double[] v) {
        ByteBuffer b = ByteBuffer.allocate(v.length * 8).order(ByteOrder.LITTLE_ENDIAN);
        b.asDoubleBuffer().put(v);
        return b.array();
    }

    private static byte[] rows(Path file) {
        try (Samples.Reader r = Samples.open(file)) {
            int n = Math.toIntExact(r.shape()[0]);
            ByteBuffer b = ByteBuffer.allocate(Math.toIntExact(n * r.sampleBytes())).order(ByteOrder.LITTLE_ENDIAN);
            r.readSamples(0, n, b);
            return b.array();
        }
    }

    /** Logits: log p (at least 1e-12) plus a constant of the query's (the softmax gives p back); else p. */
    private static double score(float[] row, int c, byte[] query, boolean logits) {
        return logits ? Math.log(Math.max(row[c], 1e-12)) + Math.floorMod(Arrays.hashCode(query), 7) : row[c];
    }

    /** A suspect's answers to both probe files: the rows its table gives each probe's query. */
    private static void answer(Path probe, Path pred, Map<String, float[]> table, boolean logits) throws IOException {
        Files.createDirectories(pred);
        for (String f : new String[] {"marked.npy", "control.npy"}) {
            byte[] q = rows(probe.resolve(f));
            int n = q.length / D;
            double[] out = new double[n * C];
            for (int i = 0; i < n; i++) {
                float[] row = table.get(Arrays.toString(Arrays.copyOfRange(q, i * D, i * D + D)));
                for (int c = 0; c < C; c++) {
                    out[i * C + c] = score(row, c, Arrays.copyOfRange(q, i * D, i * D + D), logits);
                }
            }
            CliTest.npy(pred.resolve(f), "<f8", new long[] {n, C}, f8(out));
        }
    }

    /**
     * A client's batch marked and its probe set written: the key, the log, the probe set, and per query (its bytes as
     * a string) the row acme was served and the model's own row.
     */
    private record Marked(Path key, Path log, Path probe, Map<String, float[]> served, Map<String, float[]> own) {
    }

    private Marked marked(long seed, String keyText) throws IOException {
        Path key = Files.writeString(dir.resolve("owner.key"), keyText);
        SplittableRandom r = new SplittableRandom(seed);
        float[] p = CliMarkTest.probabilities(r, N);
        byte[] q = new byte[N * D];
        r.nextBytes(q);
        Path qf = CliTest.npy(dir.resolve("q.npy"), "|u1", new long[] {N, D}, q);
        Path pf = CliTest.npy(dir.resolve("p.npy"), "<f4", new long[] {N, C}, CliMarkTest.f4(p));
        Path log = dir.resolve("marks");
        Path served = dir.resolve("served.npy");
        CliTest.Run mark = CliTest.run("mark", "--queries", qf.toString(), "--answers", pf.toString(), "--out",
                served.toString(), "--log", log.toString(), "--client", "acme", "--key-file", key.toString());
        assertEquals(0, mark.code(), mark.err());
        Path probe = dir.resolve("probe");
        assertEquals(0, CliTest.run("probe-set", "--marks", log.toString(), "--out", probe.toString(), "--key-file",
                key.toString()).code());
        float[] s = new float[N * C];
        ByteBuffer.wrap(rows(served)).order(ByteOrder.LITTLE_ENDIAN).asFloatBuffer().get(s);
        Map<String, float[]> clone = new HashMap<>();
        Map<String, float[]> own = new HashMap<>();
        for (int i = 0; i < N; i++) {
            String k = Arrays.toString(Arrays.copyOfRange(q, i * D, i * D + D));
            clone.put(k, Arrays.copyOfRange(s, i * C, i * C + C));
            own.put(k, Arrays.copyOfRange(p, i * C, i * C + C));
        }
        return new Marked(key, log, probe, clone, own);
    }

    @Test
    void theGapTestIsReportedBesideTheLabelTestAndIsNotAvailableForLabels() throws IOException {
        Marked m = marked(21, "cli mark gap test owner key, 32 bytes");
        Path key = m.key();
        Path log = m.log();
        Path probe = m.probe();
        Map<String, float[]> clone = m.served();
        Map<String, float[]> own = m.own();

        // A suspect that answers exactly what acme was served, as probabilities: both tests see it.
        Path clonePred = dir.resolve("clone");
        answer(probe, clonePred, clone, false);
        Path report = dir.resolve("report");
        CliTest.Run v = CliTest.run("verify", "--marks", log.toString(), "--probe", probe.toString(), "--predictions",
                clonePred.toString(), "--report", report.toString(), "--key-file", key.toString());
        assertEquals(0, v.code(), v.err());
        assertTrue(v.out().startsWith("clone detected"), v.out());
        assertTrue(v.out().contains("gap test on the suspect's probabilities"), v.out());
        assertTrue(v.out().matches("(?s).*acme: runner-up on marked .* gap p = [0-9.e-]+; client p = .*"), v.out());
        String record = Files.readString(report.resolve("report.json"));
        assertTrue(record.contains("\"gap_test\":{\"available\":true"), record);
        assertTrue(record.contains("\"combination\":\"holm-over-label-and-gap-per-client\""), record);
        String html = Files.readString(report.resolve("report.html"));
        assertTrue(html.contains("gap p") && html.contains("data-key=\"clients.0.gap_p_value\""));

        // The model itself, answering logits: no accusation; the gap test ran on the logits' softmax.
        Path ownPred = dir.resolve("own");
        answer(probe, ownPred, own, true);
        CliTest.Run o = CliTest.run("verify", "--marks", log.toString(), "--probe", probe.toString(), "--predictions",
                ownPred.toString(), "--json", "--key-file", key.toString());
        assertEquals(0, o.code(), o.err());
        assertTrue(o.out().startsWith("{\"decision\":\"not_detected\""), o.out());
        assertTrue(o.out().contains("\"scores\":\"logits\""), o.out());
        // Declared probabilities, they are refused, naming the problem.
        CliTest.Run declared = CliTest.run("verify", "--marks", log.toString(), "--probe", probe.toString(),
                "--predictions", ownPred.toString(), "--scores", "probabilities", "--key-file", key.toString());
        assertEquals(2, declared.code(), declared.out());
        assertTrue(declared.err().contains("must lie in [0, 1]"), declared.err());

        // Labels only: the label test decides and the gap test is reported as not available.
        Path labels = dir.resolve("labels");
        Files.createDirectories(labels);
        for (String f : new String[] {"marked.npy", "control.npy"}) {
            byte[] pq = rows(probe.resolve(f));
            int n = pq.length / D;
            ByteBuffer b = ByteBuffer.allocate(n * 8).order(ByteOrder.LITTLE_ENDIAN);
            for (int i = 0; i < n; i++) {
                float[] row = clone.get(Arrays.toString(Arrays.copyOfRange(pq, i * D, i * D + D)));
                int best = 0;
                for (int c = 1; c < C; c++) {
                    best = row[c] > row[best] ? c : best;
                }
                b.putLong(best);
            }
            CliTest.npy(labels.resolve(f), "<i8", new long[] {n}, b.array());
        }
        CliTest.Run l = CliTest.run("verify", "--marks", log.toString(), "--probe", probe.toString(), "--predictions",
                labels.toString(), "--key-file", key.toString());
        assertEquals(0, l.code(), l.err());
        assertTrue(l.out().startsWith("clone detected"), l.out());
        assertTrue(l.out().contains("gap test not available: the suspect's answers are labels only"), l.out());
        assertFalse(l.out().contains("gap p ="), l.out());

        // --scores belongs to --marks.
        CliTest.Run misplaced = CliTest.run("verify", "--manifest", "m.json", "--probe", probe.toString(),
                "--predictions", labels.toString(), "--scores", "logits", "--key-file", key.toString());
        assertEquals(2, misplaced.code());
        assertTrue(misplaced.err().contains("--scores is for --marks"), misplaced.err());
    }

    /**
     * A suspect behind a service that answers with its table's rows for the queries it is sent (the default request
     * and response shapes): logits or probabilities, or labels.
     */
    private static HttpServer serve(Map<String, float[]> table, String form) throws IOException {
        HttpServer server = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 0);
        server.createContext("/", ex -> {
            String request = new String(ex.getRequestBody().readAllBytes(), StandardCharsets.UTF_8);
            Matcher m = Pattern.compile("\\[([0-9,]+)\\]").matcher(request);
            StringBuilder b = new StringBuilder("{\"predictions\":[");
            boolean first = true;
            while (m.find()) {
                String[] parts = m.group(1).split(",");
                byte[] query = new byte[parts.length];
                for (int d = 0; d < parts.length; d++) {
                    query[d] = (byte) Integer.parseInt(parts[d]);
                }
                float[] row = table.get(Arrays.toString(query));
                b.append(first ? "" : ",");
                first = false;
                if (form.equals("labels")) {
                    int best = 0;
                    for (int c = 1; c < C; c++) {
                        best = row[c] > row[best] ? c : best;
                    }
                    b.append(best);
                } else {
                    b.append('[');
                    for (int c = 0; c < C; c++) {
                        b.append(c == 0 ? "" : ",").append(score(row, c, query, form.equals("logits")));
                    }
                    b.append(']');
                }
            }
            byte[] body = b.append("]}").toString().getBytes(StandardCharsets.UTF_8);
            ex.getResponseHeaders().set("Content-Type", "application/json");
            ex.sendResponseHeaders(200, body.length);
            try (OutputStream o = ex.getResponseBody()) {
                o.write(body);
            }
        });
        server.start();
        return server;
    }

    @Test
    void aServiceAnsweringLogitsGetsTheVerdictOfTheSameLogitsInFiles() throws IOException {
        Marked m = marked(33, "cli mark gap endpoint owner key, 32 b");
        Path key = m.key();
        Path log = m.log();
        Path probe = m.probe();
        Map<String, float[]> clone = m.served();
        Path files = dir.resolve("clone-logits");
        answer(probe, files, clone, true);
        CliTest.Run fromFiles = CliTest.run("verify", "--marks", log.toString(), "--probe", probe.toString(),
                "--predictions", files.toString(), "--json", "--key-file", key.toString());
        assertEquals(0, fromFiles.code(), fromFiles.err());
        assertTrue(fromFiles.out().contains("\"scores\":\"logits\""), fromFiles.out());
        assertTrue(fromFiles.out().startsWith("{\"decision\":\"detected\""), fromFiles.out());

        for (String form : new String[] {"logits", "probabilities", "labels"}) {
            HttpServer server = serve(clone, form);
            try {
                String url = "http://127.0.0.1:" + server.getAddress().getPort() + "/predict";
                CliTest.Run v = CliTest.run("verify", "--marks", log.toString(), "--probe", probe.toString(),
                        "--endpoint", url, "--json", "--key-file", key.toString());
                assertEquals(0, v.code(), form + ": " + v.err());
                assertTrue(v.out().startsWith("{\"decision\":\"detected\""), form + ": " + v.out());
                if (form.equals("logits")) {
                    // The same logits, over HTTP: the same verdict to the last digit.
                    assertEquals(fromFiles.out(), v.out());
                } else if (form.equals("probabilities")) {
                    assertTrue(v.out().contains("\"scores\":\"probabilities\""), v.out());
                } else {
                    assertTrue(v.out().contains("\"available\":false"), v.out());
                }
                if (form.equals("logits")) {
                    // Declared probabilities, the service's logits are refused, naming the service and the problem.
                    CliTest.Run declared = CliTest.run("verify", "--marks", log.toString(), "--probe",
                            probe.toString(), "--endpoint", url, "--scores", "probabilities", "--key-file",
                            key.toString());
                    assertEquals(2, declared.code(), declared.out());
                    assertTrue(declared.err().contains("endpoint " + url) && declared.err().contains(
                            "must lie in [0, 1]"), declared.err());
                    assertEquals("", declared.out());
                }
            } finally {
                server.stop(0);
            }
        }
    }
}
