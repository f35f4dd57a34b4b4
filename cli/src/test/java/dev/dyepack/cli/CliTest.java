package dev.dyepack.cli;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.dyepack.CudaStatus;
import dev.dyepack.io.EmbeddedSample;
import java.io.IOException;
import java.io.InputStream;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.Random;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

/** The CLI end to end, in process: exit codes, messages, output bytes, and what is left on disk. */
class CliTest {
    @TempDir
    Path dir;

    record Run(int code, String out, String err) {}

    static Run run(String... args) {
        StringWriter out = new StringWriter();
        StringWriter err = new StringWriter();
        CommandLine cl = Main.commandLine(System.getenv(), args);
        cl.setOut(new PrintWriter(out, true));
        cl.setErr(new PrintWriter(err, true));
        int code = cl.execute(args);
        return new Run(code, out.toString(), err.toString());
    }

    /** Writes a .npy (format 1.0) by hand: header dict padded to a multiple of 64 bytes, then data. */
    static Path npy(Path file, String descr, long[] shape, byte[] data) throws IOException {
        String dims = shape.length == 1 ? shape[0] + "," : String.join(", ",
                Arrays.stream(shape).mapToObj(Long::toString).toList());
        String dict = "{'descr': '" + descr + "', 'fortran_order': False, 'shape': (" + dims + "), }";
        int total = 10 + dict.length() + 1;
        int pad = (64 - total % 64) % 64;
        String header = dict + " ".repeat(pad) + "\n";
        ByteBuffer b = ByteBuffer.allocate(10 + header.length() + data.length).order(ByteOrder.LITTLE_ENDIAN);
        b.put((byte) 0x93).put("NUMPY".getBytes(StandardCharsets.US_ASCII)).put((byte) 1).put((byte) 0);
        b.putShort((short) header.length()).put(header.getBytes(StandardCharsets.US_ASCII)).put(data);
        Files.write(file, b.array());
        return file;
    }

    static byte[] payload(Path file) throws IOException {
        byte[] all = Files.readAllBytes(file);
        int headerLen = (all[8] & 0xff) | (all[9] & 0xff) << 8;
        return Arrays.copyOfRange(all, 10 + headerLen, all.length);
    }

    /** Independent expectation: the square of (top, left, size) set to value in every channel, NHWC. */
    static byte[] expectPatchNhwc(byte[] data, int n, int h, int w, int c, int top, int left, int size, int value,
            List<Integer> samples) {
        byte[] out = data.clone();
        for (int s : samples) {
            for (int y = top; y < top + size; y++) {
                for (int x = left; x < left + size; x++) {
                    for (int ch = 0; ch < c; ch++) {
                        out[((s * h + y) * w + x) * c + ch] = (byte) value;
                    }
                }
            }
        }
        return out;
    }

    private List<Path> files() throws IOException {
        try (Stream<Path> s = Files.list(dir)) {
            return s.sorted().toList();
        }
    }

    @Test
    void infoExplainsTheBackend() {
        Run r = run("info");
        assertEquals(0, r.code(), r.err());
        assertTrue(r.out().contains("backend: "), r.out());
        CudaStatus cuda = CudaStatus.query();
        assertTrue(r.out().contains(cuda.reason()), r.out());
        if (!cuda.available()) {
            assertTrue(r.out().contains("backend: cpu"), r.out());
            assertTrue(r.out().contains("devices: none"), r.out());
        }
        Run j = run("info", "--json");
        assertEquals(0, j.code());
        assertTrue(j.out().trim().startsWith("{") && j.out().trim().endsWith("}"), j.out());
        assertTrue(j.out().contains("\"backend\": \"" + (cuda.available() ? "cuda" : "cpu") + "\""), j.out());
        assertTrue(j.out().contains("\"cuda_compiled\": " + cuda.compiled()), j.out());
    }

    @Test
    void stampsRank4Nhwc() throws IOException {
        int n = 4;
        int h = 9;
        int w = 7;
        int c = 3;
        byte[] data = new byte[n * h * w * c];
        new Random(1).nextBytes(data);
        Path in = npy(dir.resolve("in.npy"), "|u1", new long[] {n, h, w, c}, data);
        Path out = dir.resolve("out.npy");
        Run r = run("apply", "--data", in.toString(), "--trigger", "patch:size=3,pos=br,value=255", "--out",
                out.toString(), "--backend", "cpu");
        assertEquals(0, r.code(), r.err());
        assertTrue(r.out().contains("stamped 4 of 4 images"), r.out());
        assertArrayEquals(expectPatchNhwc(data, n, h, w, c, h - 3, w - 3, 3, 255, List.of(0, 1, 2, 3)), payload(out));
        assertArrayEquals(data, payload(in), "input must be untouched");
        assertEquals(List.of(in, out), files(), "no temporary files left");
    }

    @Test
    void stampsListedSamplesOfRank3() throws IOException {
        int n = 6;
        int h = 5;
        int w = 8;
        byte[] data = new byte[n * h * w];
        new Random(2).nextBytes(data);
        Path in = npy(dir.resolve("in.npy"), "|u1", new long[] {n, h, w}, data);
        Path idx = Files.writeString(dir.resolve("idx.txt"), "# chosen\n5, 1\n3\n");
        Path out = dir.resolve("out.npy");
        Run r = run("apply", "--data", in.toString(), "--indices", idx.toString(), "--trigger",
                "patch:size=2,pos=tl,value=7", "--out", out.toString());
        assertEquals(0, r.code(), r.err());
        assertTrue(r.out().contains("stamped 3 of 6"), r.out());
        assertArrayEquals(expectPatchNhwc(data, n, h, w, 1, 0, 0, 2, 7, List.of(1, 3, 5)), payload(out));
    }

    @Test
    void stampsNchwFloat32() throws IOException {
        int n = 2;
        int c = 3;
        int h = 4;
        int w = 5;
        ByteBuffer b = ByteBuffer.allocate(n * c * h * w * 4).order(ByteOrder.LITTLE_ENDIAN);
        Random rng = new Random(3);
        float[] values = new float[n * c * h * w];
        for (int i = 0; i < values.length; i++) {
            values[i] = rng.nextFloat();
            b.putFloat(values[i]);
        }
        Path in = npy(dir.resolve("in.npy"), "<f4", new long[] {n, c, h, w}, b.array());
        Path out = dir.resolve("out.npy");
        Run r = run("apply", "--data", in.toString(), "--layout", "nchw", "--trigger",
                "patch:size=2,pos=center,value=0.5", "--out", out.toString());
        assertEquals(0, r.code(), r.err());
        ByteBuffer got = ByteBuffer.wrap(payload(out)).order(ByteOrder.LITTLE_ENDIAN);
        int top = (h - 2) / 2;
        int left = (w - 2) / 2;
        for (int s = 0; s < n; s++) {
            for (int ch = 0; ch < c; ch++) {
                for (int y = 0; y < h; y++) {
                    for (int x = 0; x < w; x++) {
                        int at = ((s * c + ch) * h + y) * w + x;
                        boolean in2 = y >= top && y < top + 2 && x >= left && x < left + 2;
                        assertEquals(in2 ? 0.5f : values[at], got.getFloat(at * 4), "at " + at);
                    }
                }
            }
        }
    }

    @Test
    void stampsTheEmbeddedSampleByDefault() throws IOException {
        Path out = dir.resolve("stamped.npy");
        Run r = run("apply", "--trigger", "patch:size=4,pos=br,value=255", "--out", out.toString());
        assertEquals(0, r.code(), r.err());
        assertTrue(r.err().contains("embedded"), r.err());
        assertTrue(r.out().contains("stamped 1000 of 1000 images"), r.out());
        byte[] original;
        try (InputStream s = EmbeddedSample.openImages()) {
            byte[] all = s.readAllBytes();
            int headerLen = (all[8] & 0xff) | (all[9] & 0xff) << 8;
            original = Arrays.copyOfRange(all, 10 + headerLen, all.length);
        }
        List<Integer> every = java.util.stream.IntStream.range(0, 1000).boxed().toList();
        assertArrayEquals(expectPatchNhwc(original, 1000, 28, 28, 1, 24, 24, 4, 255, every), payload(out));
    }

    /** Every refusal: exit 2, one line naming the problem, no stack trace, no output, input untouched. */
    private void assertRefused(Path in, String fragment, String... args) throws IOException {
        byte[] before = in == null ? null : Files.readAllBytes(in);
        List<Path> filesBefore = files();
        Run r = run(args);
        assertEquals(ExitCodes.INVALID_INPUT, r.code(), "exit code; stderr: " + r.err());
        assertTrue(r.err().startsWith("dyepack: "), r.err());
        assertTrue(r.err().contains(fragment), "'" + r.err() + "' should mention '" + fragment + "'");
        assertFalse(r.err().contains("\tat "), "no stack trace without --stacktrace: " + r.err());
        assertEquals(filesBefore, files(), "nothing written");
        if (in != null) {
            assertArrayEquals(before, Files.readAllBytes(in), "input modified");
        }
    }

    @Test
    void refusesBadInput() throws IOException {
        byte[] data = new byte[2 * 6 * 6];
        Path good = npy(dir.resolve("good.npy"), "|u1", new long[] {2, 6, 6}, data);
        String out = dir.resolve("out.npy").toString();
        String patch = "patch:size=2";
        Path truncated = dir.resolve("truncated.npy");
        byte[] all = Files.readAllBytes(good);
        Files.write(truncated, Arrays.copyOf(all, all.length - 5));
        assertRefused(truncated, "truncated", "apply", "--data", truncated.toString(), "--trigger", patch, "--out", out);
        Path object = npy(dir.resolve("object.npy"), "|O", new long[] {2}, new byte[16]);
        assertRefused(object, "object", "apply", "--data", object.toString(), "--trigger", patch, "--out", out);
        Path ints = npy(dir.resolve("ints.npy"), "<i4", new long[] {2, 2, 2}, new byte[32]);
        assertRefused(ints, "uint8 or float32", "apply", "--data", ints.toString(), "--trigger", patch, "--out", out);
        Path rank2 = npy(dir.resolve("rank2.npy"), "|u1", new long[] {6, 6}, new byte[36]);
        assertRefused(rank2, "(N, H, W)", "apply", "--data", rank2.toString(), "--trigger", patch, "--out", out);
        Path lying = npy(dir.resolve("lying.npy"), "|u1", new long[] {3, 6, 6}, data);
        assertRefused(lying, "bytes", "apply", "--data", lying.toString(), "--trigger", patch, "--out", out);
        Path garbage = Files.write(dir.resolve("garbage.npy"), "hello, world".getBytes(StandardCharsets.US_ASCII));
        assertRefused(garbage, "not a .npy", "apply", "--data", garbage.toString(), "--trigger", patch, "--out", out);
        assertRefused(good, "larger than the 6x6 image", "apply", "--data", good.toString(), "--trigger",
                "patch:size=7", "--out", out);
        assertRefused(good, "uint8 range", "apply", "--data", good.toString(), "--trigger", "patch:value=300",
                "--out", out);
        assertRefused(good, "is the input", "apply", "--data", good.toString(), "--trigger", patch, "--out",
                good.toString());
        assertRefused(good, "unknown trigger family", "apply", "--data", good.toString(), "--trigger", "star:size=2",
                "--out", out);
        Path idx = Files.writeString(dir.resolve("idx.txt"), "0 2\n");
        assertRefused(good, "out of range", "apply", "--data", good.toString(), "--indices", idx.toString(),
                "--trigger", patch, "--out", out);
        Path badIdx = Files.writeString(dir.resolve("bad-idx.txt"), "0\nfive\n");
        assertRefused(good, "five", "apply", "--data", good.toString(), "--indices", badIdx.toString(), "--trigger",
                patch, "--out", out);
        assertRefused(good, "no such file", "apply", "--data", dir.resolve("missing.npy").toString(), "--trigger", patch,
                "--out", out);
        // picocli's own parameter errors take the same form.
        assertRefused(good, "Missing required option", "apply", "--data", good.toString(), "--out", out);
        assertRefused(good, "--frobnicate", "apply", "--frobnicate", "--trigger", patch, "--out", out);
        assertRefused(good, "--layout", "apply", "--data", good.toString(), "--layout", "nwhc", "--trigger", patch,
                "--out", out);
    }

    @Test
    void stacktraceOnlyWhenAsked() throws IOException {
        Path good = npy(dir.resolve("good.npy"), "|u1", new long[] {1, 2, 2}, new byte[4]);
        Run r = run("apply", "--stacktrace", "--data", good.toString(), "--trigger", "patch:size=3", "--out",
                dir.resolve("o.npy").toString());
        assertEquals(ExitCodes.INVALID_INPUT, r.code());
        assertTrue(r.err().contains("\tat "), r.err());
    }

    @Test
    void cudaRequestWithoutGpuIsRefusedWithTheReason() throws IOException {
        CudaStatus cuda = CudaStatus.query();
        if (cuda.available()) {
            return; // covered by the GPU tests where a device answers
        }
        Path good = npy(dir.resolve("good.npy"), "|u1", new long[] {1, 4, 4}, new byte[16]);
        Run r = run("apply", "--backend", "cuda", "--data", good.toString(), "--trigger", "patch:size=2", "--out",
                dir.resolve("o.npy").toString());
        assertEquals(ExitCodes.NO_GPU, r.code(), r.err());
        assertTrue(r.err().contains(cuda.reason()), r.err());
        assertFalse(Files.exists(dir.resolve("o.npy")));
    }
}
