package dev.dyepack.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.zip.CRC32;
import java.util.zip.Deflater;
import java.util.zip.DeflaterOutputStream;
import java.util.zip.GZIPOutputStream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The CLI in a child JVM with a small heap ({@code -Xmx256m}) over inputs shaped to exhaust memory or
 * the stack: a PNG that declares 40000 x 40000 pixels, an indices file that never ends
 * ({@code /dev/zero}), a {@code .npy} header nested 30,000 levels deep, and a gzip IDX file whose
 * header declares 16 bytes and that inflates to 64 MiB. Each must end within the time bound with exit
 * 2, exactly one line on standard error ({@code dyepack: ...}), and nothing at {@code --out}: the
 * limits are checked before anything is allocated, so the heap is never the one to refuse.
 */
class CliMemoryBoundTest {
    private static final long SECONDS = 60;

    @TempDir
    Path dir;

    record Child(int code, String out, String err) {}

    private Child cli(String... args) throws IOException, InterruptedException {
        return cli(java.util.Map.of(), args);
    }

    private Child cli(java.util.Map<String, String> env, String... args) throws IOException, InterruptedException {
        List<String> command = new ArrayList<>(List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "-Xmx256m", "-Xss512k", "-Djava.awt.headless=true", "-cp", System.getProperty("java.class.path"),
                Main.class.getName(), "--quiet"));
        command.addAll(List.of(args));
        ProcessBuilder pb = new ProcessBuilder(command).redirectOutput(dir.resolve("stdout").toFile())
                .redirectError(dir.resolve("stderr").toFile());
        pb.environment().put("DYEPACK_KEY", "memory bound test key, 32 bytes!");
        pb.environment().remove("JAVA_TOOL_OPTIONS");
        pb.environment().putAll(env);
        Process p = pb.start();
        if (!p.waitFor(SECONDS, TimeUnit.SECONDS)) {
            p.destroyForcibly();
            throw new AssertionError("dyepack " + String.join(" ", args) + " ran longer than " + SECONDS + " s");
        }
        return new Child(p.exitValue(), Files.readString(dir.resolve("stdout")), Files.readString(dir.resolve("stderr")));
    }

    private static void refusedInOneLine(Child c, Path out) {
        assertEquals(ExitCodes.INVALID_INPUT, c.code(), c.err());
        List<String> lines = c.err().lines().filter(l -> !l.isBlank()).toList();
        assertEquals(1, lines.size(), c.err());
        assertTrue(lines.get(0).startsWith("dyepack: "), c.err());
        assertFalse(c.err().contains("OutOfMemoryError") || c.err().contains("StackOverflowError"), c.err());
        assertFalse(Files.exists(out), out + " left behind");
    }

    /** A PNG whose header declares {@code w} x {@code h} RGB pixels, followed by a few rows of zeros. */
    static byte[] hugeDeclaredPng(int w, int h) throws IOException {
        ByteArrayOutputStream png = new ByteArrayOutputStream();
        png.write(new byte[] {(byte) 0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n'});
        chunk(png, "IHDR", ByteBuffer.allocate(13).putInt(w).putInt(h).put((byte) 8).put((byte) 2).put((byte) 0)
                .put((byte) 0).put((byte) 0).array());
        ByteArrayOutputStream rows = new ByteArrayOutputStream();
        try (OutputStream z = new DeflaterOutputStream(rows, new Deflater(9))) {
            z.write(new byte[(w * 3 + 1) * 20]);
        }
        chunk(png, "IDAT", rows.toByteArray());
        chunk(png, "IEND", new byte[0]);
        return png.toByteArray();
    }

    private static void chunk(ByteArrayOutputStream out, String type, byte[] data) throws IOException {
        byte[] t = type.getBytes(StandardCharsets.US_ASCII);
        out.write(ByteBuffer.allocate(4).putInt(data.length).array());
        out.write(t);
        out.write(data);
        CRC32 crc = new CRC32();
        crc.update(t);
        crc.update(data);
        out.write(ByteBuffer.allocate(4).putInt((int) crc.getValue()).array());
    }

    @Test
    void aPngDeclaringFortyThousandSquaredPixels() throws Exception {
        Path root = dir.resolve("folder");
        Files.createDirectories(root.resolve("a"));
        Files.createDirectories(root.resolve("b"));
        Files.write(root.resolve("a/huge.png"), hugeDeclaredPng(40000, 40000));
        Files.write(root.resolve("b/also.png"), hugeDeclaredPng(50000, 50000));
        Path out = dir.resolve("out");
        Child c = cli("poison", "--data", root.toString(), "--trigger", "patch:size=2", "--target", "0", "--out",
                out.toString());
        refusedInOneLine(c, out);
        assertTrue(c.err().contains("40000x40000"), c.err());
    }

    @Test
    void anIndicesFileThatNeverEnds() throws Exception {
        Path out = dir.resolve("o.npy");
        Child c = cli("apply", "--indices", "/dev/zero", "--trigger", "patch:size=2", "--out", out.toString());
        refusedInOneLine(c, out);
        assertTrue(c.err().contains("/dev/zero"), c.err());
    }

    @Test
    void aNpyHeaderNestedThirtyThousandLevels() throws Exception {
        String dict = "{'descr': '<f4', 'fortran_order': False, 'shape': " + "(".repeat(30000) + "1"
                + ")".repeat(30000) + ", }";
        int pad = (64 - (10 + dict.length() + 1) % 64) % 64;
        byte[] header = (dict + " ".repeat(pad) + "\n").getBytes(StandardCharsets.US_ASCII);
        ByteBuffer b = ByteBuffer.allocate(10 + header.length).order(java.nio.ByteOrder.LITTLE_ENDIAN);
        b.put((byte) 0x93).put("NUMPY".getBytes(StandardCharsets.US_ASCII)).put((byte) 1).put((byte) 0)
                .putShort((short) header.length).put(header);
        Path deep = Files.write(dir.resolve("deep.npy"), b.array());
        Path out = dir.resolve("o.npy");
        Child c = cli("apply", "--data", deep.toString(), "--trigger", "patch:size=2", "--out", out.toString());
        refusedInOneLine(c, out);
        assertTrue(c.err().contains("deep.npy"), c.err());
    }

    @Test
    void aGzipIdxThatInflatesFarBeyondItsHeader() throws Exception {
        Path bomb = dir.resolve("bomb-labels-idx1-ubyte.gz");
        try (OutputStream z = new GZIPOutputStream(Files.newOutputStream(bomb), 1 << 16)) {
            z.write(new byte[] {0, 0, 0x08, 1, 0, 0, 0, 16});
            byte[] zeros = new byte[1 << 20];
            for (int i = 0; i < 64; i++) {
                z.write(zeros);
            }
        }
        Path out = dir.resolve("out");
        long t0 = System.nanoTime();
        Child c = cli("poison", "--data", bomb.toString(), "--labels", bomb.toString(), "--trigger", "patch:size=2",
                "--target", "0", "--out", out.toString());
        refusedInOneLine(c, out);
        assertTrue(c.err().contains("trailing bytes"), c.err());
        assertTrue((System.nanoTime() - t0) / 1e9 < 30, "refused early");
    }

    @Test
    void aClassFolderNameTheLocaleCannotRepresent() throws Exception {
        Path root = dir.resolve("folder");
        for (String c : new String[] {"caf\u00e9", "plain"}) {
            Files.createDirectories(root.resolve(c));
            javax.imageio.ImageIO.write(new java.awt.image.BufferedImage(4, 4,
                    java.awt.image.BufferedImage.TYPE_BYTE_GRAY), "png", root.resolve(c).resolve("x.png").toFile());
        }
        Path out = dir.resolve("out");
        // The C locale's file-name encoding is ASCII: the JDK cannot name the folder, which is the input's
        // problem (exit 2 with the fix), not an internal error.
        Child c = cli(java.util.Map.of("LANG", "C", "LC_ALL", "C"), "poison", "--data", root.toString(), "--trigger",
                "patch:size=2", "--target", "0", "--out", out.toString());
        if (c.code() == 0) {
            return; // a JDK that maps such names: nothing to refuse
        }
        refusedInOneLine(c, out);
        assertTrue(c.err().contains("LANG=C.UTF-8"), c.err());
    }
}
