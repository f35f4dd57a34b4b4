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
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code mark --prob-mark}: the shifted answers by default, the swap on request, the choice in the log. */
class CliProbMarkTest {
    private static final int N = 2000;
    private static final int C = 4;
    private static final int D = 8;

    @TempDir
    Path dir;

    private static double[] readDoubles(Path file) {
        try (Samples.Reader r = Samples.open(file)) {
            ByteBuffer b = ByteBuffer.allocate(N * C * 8).order(ByteOrder.LITTLE_ENDIAN);
            r.readSamples(0, N, b);
            b.flip();
            double[] out = new double[N * C];
            b.asDoubleBuffer().get(out);
            return out;
        }
    }

    @Test
    void marksShiftByDefaultSwapOnRequestAndTheLogSaysWhich() throws IOException {
        Path key = Files.writeString(dir.resolve("owner.key"), "cli prob mark test key, 32 bytes");
        SplittableRandom r = new SplittableRandom(21);
        // float64 probabilities, so the served values can be checked without float rounding.
        double[] p = new double[N * C];
        ByteBuffer pb = ByteBuffer.allocate(N * C * 8).order(ByteOrder.LITTLE_ENDIAN);
        for (int i = 0; i < N; i++) {
            double[] e = new double[C];
            double sum = 0;
            for (int c = 0; c < C; c++) {
                e[c] = Math.exp(1.5 * r.nextGaussian());
                sum += e[c];
            }
            for (int c = 0; c < C; c++) {
                p[i * C + c] = e[c] / sum;
                pb.putDouble(p[i * C + c]);
            }
        }
        byte[] q = new byte[N * D];
        r.nextBytes(q);
        Path qf = CliTest.npy(dir.resolve("q.npy"), "|u1", new long[] {N, D}, q);
        Path pf = CliTest.npy(dir.resolve("p.npy"), "<f8", new long[] {N, C}, pb.array());

        for (String form : new String[] {null, "shift:0.3", "swap"}) {
            String name = form == null ? "default" : form.replace(':', '-');
            Path out = dir.resolve(name + ".npy");
            Path log = dir.resolve(name + "-log");
            CliTest.Run run = form == null
                    ? CliTest.run("mark", "--queries", qf.toString(), "--answers", pf.toString(), "--out",
                            out.toString(), "--log", log.toString(), "--key-file", key.toString())
                    : CliTest.run("mark", "--queries", qf.toString(), "--answers", pf.toString(), "--out",
                            out.toString(), "--log", log.toString(), "--prob-mark", form, "--key-file", key.toString());
            assertEquals(0, run.code(), run.err());
            String head = Files.readAllLines(log.resolve("marks-000001.log")).get(0);
            String recorded = form == null ? "shift:0.5" : form;
            assertTrue(head.contains("\"type\":\"segment\"") && head.contains("\"mark\":\"" + recorded + "\""), head);
            double margin = form == null ? 0.5 : 0.3;
            double[] s = readDoubles(out);
            int changed = 0;
            for (int i = 0; i < N; i++) {
                int a = 0;
                for (int c = 1; c < C; c++) {
                    a = p[i * C + c] > p[i * C + a] ? c : a;
                }
                int b = a == 0 ? 1 : 0;
                for (int c = 0; c < C; c++) {
                    b = c != a && p[i * C + c] > p[i * C + b] ? c : b;
                }
                boolean same = true;
                for (int c = 0; c < C; c++) {
                    same &= s[i * C + c] == p[i * C + c];
                }
                if (same) {
                    continue;
                }
                changed++;
                for (int c = 0; c < C; c++) {
                    if (c != a && c != b) {
                        assertEquals(p[i * C + c], s[i * C + c], 0, "answer " + i + ", class " + c);
                    }
                }
                if ("swap".equals(form)) {
                    assertEquals(p[i * C + a], s[i * C + b], 0);
                    assertEquals(p[i * C + b], s[i * C + a], 0);
                } else {
                    double pair = p[i * C + a] + p[i * C + b];
                    assertEquals(pair, s[i * C + a] + s[i * C + b], 1e-12, "answer " + i + "'s pair keeps its mass");
                    assertEquals(Math.min(pair, margin), s[i * C + b] - s[i * C + a], 1e-12, "answer " + i + "'s lead");
                }
            }
            assertTrue(changed >= 0.005 * N && changed <= 0.015 * N, name + ": " + changed + " changed");
        }

        // Another mark on an existing log seals its segment and begins the next under the new mark.
        Path log = dir.resolve("default-log");
        CliTest.Run again = CliTest.run("mark", "--queries", qf.toString(), "--answers", pf.toString(), "--out",
                dir.resolve("again.npy").toString(), "--log", log.toString(), "--prob-mark", "swap", "--key-file",
                key.toString());
        assertEquals(0, again.code(), again.err());
        assertTrue(Files.readAllLines(log.resolve("marks-000002.log")).get(0).contains("\"mark\":\"swap\""));

        for (String bad : new String[] {"shift:1.2", "shift:zero", "flip"}) {
            Path out = dir.resolve("bad.npy");
            Path badLog = dir.resolve("bad-log");
            CliTest.Run run = CliTest.run("mark", "--queries", qf.toString(), "--answers", pf.toString(), "--out",
                    out.toString(), "--log", badLog.toString(), "--prob-mark", bad, "--key-file", key.toString());
            assertEquals(ExitCodes.INVALID_INPUT, run.code(), bad + ": " + run.err());
            assertTrue(run.err().contains("--prob-mark"), run.err());
            assertFalse(Files.exists(out) || Files.exists(badLog), "nothing written for " + bad);
        }
    }
}
