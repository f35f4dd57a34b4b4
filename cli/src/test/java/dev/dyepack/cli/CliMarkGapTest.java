package dev.dyepack.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.dyepack.io.Samples;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.HashMap;
import java.util.Map;
import java.util.SplittableRandom;
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
                    // Logits: log p plus a per-row constant (the softmax gives p back).
                    out[i * C + c] = logits ? Math.log(row[c]) + (i % 7) : row[c];
                }
            }
            CliTest.npy(pred.resolve(f), "<f8", new long[] {n, C}, f8(out));
        }
    }

    @Test
    void theGapTestIsReportedBesideTheLabelTestAndIsNotAvailableForLabels() throws IOException {
        Path key = Files.writeString(dir.resolve("owner.key"), "cli mark gap test owner key, 32 bytes");
        SplittableRandom r = new SplittableRandom(21);
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

        // --scores belongs to --marks with --predictions.
        CliTest.Run misplaced = CliTest.run("verify", "--manifest", "m.json", "--probe", probe.toString(),
                "--predictions", labels.toString(), "--scores", "logits", "--key-file", key.toString());
        assertEquals(2, misplaced.code());
        assertTrue(misplaced.err().contains("--scores is for --marks"), misplaced.err());
    }
}
