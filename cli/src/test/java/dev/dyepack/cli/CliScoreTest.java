package dev.dyepack.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.zip.ZipEntry;
import java.util.zip.ZipOutputStream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code dyepack score}: CSV and .npy output against hand-computed scores, and refusals. */
class CliScoreTest {
    @TempDir
    Path dir;

    static byte[] npyBytes(String descr, long[] shape, byte[] data) throws IOException {
        Path tmp = Files.createTempFile("npy", ".npy");
        try {
            CliTest.npy(tmp, descr, shape, data);
            return Files.readAllBytes(tmp);
        } finally {
            Files.delete(tmp);
        }
    }

    static byte[] floats(float... v) {
        ByteBuffer b = ByteBuffer.allocate(v.length * 4).order(ByteOrder.LITTLE_ENDIAN);
        for (float f : v) {
            b.putFloat(f);
        }
        return b.array();
    }

    private Path head(float[] w, float[] b, int classes, int d) throws IOException {
        Path p = dir.resolve("head.npz");
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        try (ZipOutputStream zip = new ZipOutputStream(bytes)) {
            zip.putNextEntry(new ZipEntry("W.npy"));
            zip.write(npyBytes("<f4", new long[] {classes, d}, floats(w)));
            zip.closeEntry();
            zip.putNextEntry(new ZipEntry("b.npy"));
            zip.write(npyBytes("<f4", new long[] {classes}, floats(b)));
            zip.closeEntry();
        }
        return Files.write(p, bytes.toByteArray());
    }

    @Test
    void writesTheDocumentedCsv() throws IOException {
        // W rows (1,0), (0,1), (1,1); x0 = (3,1): z = (3,1,4) -> 2, runner-up 0, margin 1, distance 1, to class 1: 3.
        Path h = head(new float[] {1, 0, 0, 1, 1, 1}, new float[] {0, 0, 0}, 3, 2);
        Path x = CliTest.npy(dir.resolve("x.npy"), "<f4", new long[] {2, 2}, floats(3, 1, 0.5f, 0.25f));
        Path y = CliTest.npy(dir.resolve("y.npy"), "|u1", new long[] {2}, new byte[] {2, 0});
        Path out = dir.resolve("scores.csv");
        CliTest.Run r = CliTriggerTest.run(Map.of(), "score", "--features", x.toString(), "--head", h.toString(),
                "--labels", y.toString(), "--target", "1", "--out", out.toString(), "--backend", "cpu");
        assertEquals(0, r.code(), r.err());
        assertTrue(r.out().contains("head accuracy 50.00%"), r.out());
        List<String> lines = Files.readAllLines(out);
        assertEquals("index,predicted,runner_up,margin,distance,target_distance", lines.get(0));
        assertEquals("0,2,0,1.0,1.0,3.0", lines.get(1));
        // x1 = (0.5, 0.25): z = (0.5, 0.25, 0.75) -> 2, runner-up 0, margin 0.25, distance 0.25, to 1: 0.5.
        assertEquals("1,2,0,0.25,0.25,0.5", lines.get(2));
        assertEquals(3, lines.size());
    }

    @Test
    void writesNpyAndRefusesMismatches() throws IOException {
        Path h = head(new float[] {1, 0, 0, 1}, new float[] {0, 0}, 2, 2);
        Path x = CliTest.npy(dir.resolve("x.npy"), "<f4", new long[] {1, 2}, floats(2, 1));
        Path out = dir.resolve("scores.npy");
        CliTest.Run r = CliTriggerTest.run(Map.of(), "score", "--features", x.toString(), "--head", h.toString(), "--out",
                out.toString());
        assertEquals(0, r.code(), r.err());
        ByteBuffer got = ByteBuffer.wrap(CliTest.payload(out)).order(ByteOrder.LITTLE_ENDIAN);
        // z = (2, 1): predicted 0, runner-up 1, margin 1, ||w0 - w1|| = sqrt(2): distance 1/sqrt(2) in float32.
        assertEquals(0.0, got.getDouble());
        assertEquals(0.0, got.getDouble());
        assertEquals(1.0, got.getDouble());
        assertEquals(1.0, got.getDouble());
        assertEquals((double) (1f / (float) Math.sqrt(2)), got.getDouble(), 1e-7);
        Path wrongD = CliTest.npy(dir.resolve("x3.npy"), "<f4", new long[] {1, 3}, floats(1, 2, 3));
        Path out2 = dir.resolve("s2.csv");
        r = CliTriggerTest.run(Map.of(), "score", "--features", wrongD.toString(), "--head", h.toString(), "--out",
                out2.toString());
        assertEquals(ExitCodes.INVALID_INPUT, r.code());
        assertTrue(r.err().contains("D = 3 but the head expects 2"), r.err());
        Path nan = CliTest.npy(dir.resolve("nan.npy"), "<f4", new long[] {1, 2}, floats(1, Float.NaN));
        r = CliTriggerTest.run(Map.of(), "score", "--features", nan.toString(), "--head", h.toString(), "--out",
                out2.toString());
        assertEquals(ExitCodes.INVALID_INPUT, r.code());
        assertTrue(r.err().contains("not finite"), r.err());
        Path notZip = Files.writeString(dir.resolve("bad.npz"), "not a zip");
        r = CliTriggerTest.run(Map.of(), "score", "--features", x.toString(), "--head", notZip.toString(), "--out",
                out2.toString());
        assertEquals(ExitCodes.INVALID_INPUT, r.code());
        assertTrue(r.err().contains("bad.npz"), r.err());
        r = CliTriggerTest.run(Map.of(), "score", "--features", x.toString(), "--head", h.toString(), "--target", "5",
                "--out", out2.toString());
        assertEquals(ExitCodes.INVALID_INPUT, r.code());
        assertFalse(Files.exists(out2));
        try (var files = Files.list(dir)) {
            assertTrue(files.noneMatch(p -> p.getFileName().toString().contains(".dyepack-")), "no temporary files left");
        }
    }
}
