package dev.dyepack.cli;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
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
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The mark log's size limits as options of {@code dyepack mark} (and their checks, shared with {@code serve}). */
class CliMarkLogSizeTest {
    private static final int N = 800;
    private static final int D = 256;
    private static final int C = 6;

    @TempDir
    Path dir;

    private Path[] batch(long seed) throws IOException {
        SplittableRandom r = new SplittableRandom(seed);
        byte[] q = new byte[N * D];
        r.nextBytes(q);
        ByteBuffer p = ByteBuffer.allocate(N * C * 4).order(ByteOrder.LITTLE_ENDIAN);
        for (int i = 0; i < N; i++) {
            double[] e = new double[C];
            double sum = 0;
            for (int c = 0; c < C; c++) {
                e[c] = Math.exp(2 * r.nextGaussian());
                sum += e[c];
            }
            for (int c = 0; c < C; c++) {
                p.putFloat((float) (e[c] / sum));
            }
        }
        return new Path[] {CliTest.npy(dir.resolve("q" + seed + ".npy"), "|u1", new long[] {N, D}, q),
            CliTest.npy(dir.resolve("p" + seed + ".npy"), "<f4", new long[] {N, C}, p.array())};
    }

    private static float[] floats(Path file) {
        try (Samples.Reader r = Samples.open(file)) {
            ByteBuffer b = ByteBuffer.allocate(N * C * 4).order(ByteOrder.LITTLE_ENDIAN);
            r.readSamples(0, N, b);
            b.flip();
            float[] out = new float[N * C];
            b.asFloatBuffer().get(out);
            return out;
        }
    }

    private static long segments(Path log) throws IOException {
        try (Stream<Path> s = Files.list(log)) {
            return s.filter(p -> p.getFileName().toString().matches("marks-\\d{6}\\.log")).count();
        }
    }

    @Test
    void smallSegmentsRotateAndAFullLogServesAnswersUnmarked() throws IOException {
        Path key = Files.writeString(dir.resolve("owner.key"), "log size test owner key, 32 byte");
        Path log = dir.resolve("marks");
        Path[] a = batch(1);
        Path out = dir.resolve("served.npy");
        CliTest.Run run = CliTest.run("mark", "--queries", a[0].toString(), "--answers", a[1].toString(), "--out",
                out.toString(), "--log", log.toString(), "--client", "acme", "--log-segment-size", "4K",
                "--log-max-size", "64M", "--key-file", key.toString());
        assertEquals(0, run.code(), run.err());
        // About 2% of 800 answers logged, each line about 300 bytes: several 4 KiB segments, sealed and chained.
        assertTrue(segments(log) >= 2, "4K segments rotate: " + segments(log));
        CliTest.Run ps = CliTest.run("probe-set", "--marks", log.toString(), "--out", dir.resolve("probe").toString(),
                "--key-file", key.toString());
        assertEquals(0, ps.code(), ps.err());

        // A log whose cap leaves no room for another batch: the answers go out unchanged, with a warning.
        long before = segments(log);
        Path[] b = batch(2);
        Path out2 = dir.resolve("served2.npy");
        CliTest.Run full = CliTest.run("mark", "--queries", b[0].toString(), "--answers", b[1].toString(), "--out",
                out2.toString(), "--log", log.toString(), "--client", "acme", "--log-segment-size", "4K",
                "--log-max-size", "1M", "--key-file", key.toString());
        assertEquals(0, full.code(), full.err());
        assertTrue(full.err().contains("size limit"), full.err());
        assertArrayEquals(floats(b[1]), floats(out2), "a full log marks nothing: the answers are served unchanged");
        assertEquals(before, segments(log), "a full log grows no further");
    }

    @Test
    void sizesAreValidated() throws IOException {
        Path key = Files.writeString(dir.resolve("owner.key"), "log size test owner key, 32 byte");
        Path[] a = batch(3);
        String[][] bad = {
            {"--log-segment-size", "1K", "at least 4K"},
            {"--log-segment-size", "12Q", "not a size"},
            {"--log-max-size", "99999999999999999999", "not a size"},
            {"--log-max-size", "16777215T", "too large"},
            {"--log-segment-size", "8M", "at least one segment"},
        };
        for (String[] c : bad) {
            String[] args = {"mark", "--queries", a[0].toString(), "--answers", a[1].toString(), "--out",
                dir.resolve("out.npy").toString(), "--log", dir.resolve("log").toString(), c[0], c[1],
                "--log-max-size".equals(c[0]) ? "--log-segment-size" : "--log-max-size", "--log-max-size".equals(c[0])
                        ? "64M" : "4M", "--key-file", key.toString()};
            CliTest.Run run = CliTest.run(args);
            assertEquals(2, run.code(), String.join(" ", c) + ": " + run.err());
            assertTrue(run.err().contains(c[2]), run.err());
            assertFalse(Files.exists(dir.resolve("out.npy")));
            assertFalse(Files.exists(dir.resolve("log").resolve("marks-000001.log")), "nothing is logged");
        }
        CliTest.Run serve = CliTest.run("serve", "--upstream", "http://127.0.0.1:9/", "--log",
                dir.resolve("log").toString(), "--log-segment-size", "2K", "--key-file", key.toString());
        assertEquals(2, serve.code(), serve.err());
        assertTrue(serve.err().contains("--log-segment-size"), serve.err());
        CliTest.Run path = CliTest.run("serve", "--upstream", "http://127.0.0.1:9/", "--log",
                dir.resolve("log").toString(), "--request-path", "inputs", "--key-file", key.toString());
        assertEquals(2, path.code(), path.err());
        assertTrue(path.err().contains("JSON pointer"), path.err());
    }
}
