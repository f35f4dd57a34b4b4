package dev.dyepack.cli;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.awt.image.BufferedImage;
import java.io.IOException;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Map;
import java.util.Random;
import javax.imageio.ImageIO;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import picocli.CommandLine;

/** Keys, every family from the command line, previews, sequences and rows. */
class CliTriggerTest {
    private static final String SECRET = "correct horse battery staple 1234";

    @TempDir
    Path dir;

    static CliTest.Run run(Map<String, String> env, String... args) {
        StringWriter out = new StringWriter();
        StringWriter err = new StringWriter();
        CommandLine cl = Main.commandLine(env, args);
        cl.setOut(new PrintWriter(out, true));
        cl.setErr(new PrintWriter(err, true));
        return new CliTest.Run(cl.execute(args), out.toString(), err.toString());
    }

    private Path keyFile() throws IOException {
        return Files.writeString(dir.resolve("owner.key"), SECRET + "\n");
    }

    @ParameterizedTest
    @ValueSource(strings = {"patch:size=4,pattern=checker,pos=random", "blend:alpha=0.1,pattern=noise",
        "sig:delta=20,freq=6", "lowfreq:amp=10", "warp:k=4,s=0.5", "noise:eps=8"})
    void everyImageFamilyRunsOnTheSampleAndTheKeyNeverLeaks(String spec) throws IOException {
        Path key = keyFile();
        Path out = dir.resolve("out.npy");
        CliTest.Run r = run(Map.of(), "apply", "--trigger", spec, "--key-file", key.toString(), "--out", out.toString());
        assertEquals(0, r.code(), r.err());
        assertTrue(r.out().contains("stamped 1000 of 1000"), r.out());
        assertFalse(r.out().contains(SECRET) || r.err().contains(SECRET), "the key must never be printed");
        // The key's fingerprint is shown only where the key shapes the output (not for sig or lowfreq).
        assertEquals(dev.dyepack.trigger.TriggerSpec.parse(spec).keyed(), r.err().contains("key: dpk1:"), r.err());
        // The key from the environment gives the same bytes as the key file.
        Path out2 = dir.resolve("out2.npy");
        CliTest.Run r2 = run(Map.of("DYEPACK_KEY", SECRET), "apply", "--trigger", spec, "--out", out2.toString());
        assertEquals(0, r2.code(), r2.err());
        assertArrayEquals(Files.readAllBytes(out), Files.readAllBytes(out2));
    }

    @ParameterizedTest
    @ValueSource(strings = {"noise:eps=8", "warp", "blend:alpha=0.2", "patch:pos=random"})
    void keyedFamiliesWithoutAKeyAreRefused(String spec) {
        Path out = dir.resolve("out.npy");
        CliTest.Run r = run(Map.of(), "apply", "--trigger", spec, "--out", out.toString());
        assertEquals(ExitCodes.INVALID_INPUT, r.code());
        assertTrue(r.err().contains("is keyed") && r.err().contains("--key-file"), r.err());
        assertFalse(Files.exists(out));
    }

    @Test
    void emptyKeyFileAndEmptyVariableAreRefused() throws IOException {
        Path empty = Files.writeString(dir.resolve("empty.key"), "\n");
        CliTest.Run r = run(Map.of(), "apply", "--trigger", "noise", "--key-file", empty.toString(), "--out",
                dir.resolve("o.npy").toString());
        assertEquals(ExitCodes.INVALID_INPUT, r.code());
        assertTrue(r.err().contains("is empty"), r.err());
        r = run(Map.of("DYEPACK_KEY", ""), "apply", "--trigger", "noise", "--out", dir.resolve("o.npy").toString());
        assertEquals(ExitCodes.INVALID_INPUT, r.code());
        assertTrue(r.err().contains("DYEPACK_KEY is set but empty"), r.err());
        r = run(Map.of(), "apply", "--trigger", "noise", "--key-file", dir.resolve("missing.key").toString(), "--out",
                dir.resolve("o.npy").toString());
        assertEquals(ExitCodes.INVALID_INPUT, r.code());
        assertTrue(r.err().contains("missing.key"), r.err());
    }

    @Test
    void previewWritesALegibleSheet() throws IOException {
        Path sheet = dir.resolve("sheet.png");
        CliTest.Run r = run(Map.of("DYEPACK_KEY", SECRET), "preview", "--trigger", "warp:k=4,s=1", "--out",
                sheet.toString(), "--count", "5", "--scale", "2");
        assertEquals(0, r.code(), r.err());
        BufferedImage img = ImageIO.read(sheet.toFile());
        assertNotNull(img);
        // Three rows of five 28x28 tiles at scale 2, plus separators and a label column.
        assertTrue(img.getWidth() > 5 * 56 && img.getHeight() > 3 * 56, img.getWidth() + "x" + img.getHeight());
        try (var files = Files.list(dir)) {
            assertEquals(1, files.count(), "only the sheet is written");
        }
        byte[] written = Files.readAllBytes(sheet);
        // An existing sheet is replaced only with --force, and only by a complete new one.
        CliTest.Run bad = run(Map.of(), "preview", "--trigger", "tokens:ids=5", "--out", sheet.toString(), "--force");
        assertEquals(ExitCodes.INVALID_INPUT, bad.code());
        assertTrue(bad.err().contains("image triggers"), bad.err());
        assertArrayEquals(written, Files.readAllBytes(sheet), "a failed run leaves the old sheet as it was");
    }

    @Test
    void previewShowsPoisonsDefaultForTheImagesSize() throws IOException {
        CliTest.Run sample = run(Map.of("DYEPACK_KEY", SECRET), "preview", "--out", dir.resolve("a.png").toString());
        assertEquals(0, sample.code(), sample.err());
        assertTrue(sample.out().contains("clean, sparse:n=48,"), "28 x 28: the default " + sample.out());
        // 10 x 10 images hold fewer than four times 48 pixels: poison would take 24 there, and so does the sheet.
        Path small = CliTest.npy(dir.resolve("small.npy"), "|u1", new long[] {4, 10, 10}, new byte[400]);
        CliTest.Run tiny = run(Map.of("DYEPACK_KEY", SECRET), "preview", "--data", small.toString(), "--out",
                dir.resolve("b.png").toString());
        assertEquals(0, tiny.code(), tiny.err());
        assertTrue(tiny.out().contains("clean, sparse:n=24,"), tiny.out());
        // --mode clean shows clean-label's default: 96 keyed places, every one bright (24 on 10 x 10 images).
        CliTest.Run clean = run(Map.of("DYEPACK_KEY", SECRET), "preview", "--mode", "clean", "--out",
                dir.resolve("c.png").toString());
        assertEquals(0, clean.code(), clean.err());
        assertTrue(clean.out().contains("clean, sparse:n=96,block=0,alpha=1,value=255,low=255,"), clean.out());
        CliTest.Run cleanTiny = run(Map.of("DYEPACK_KEY", SECRET), "preview", "--mode", "clean", "--data",
                small.toString(), "--out", dir.resolve("d.png").toString());
        assertTrue(cleanTiny.out().contains("clean, sparse:n=24,block=0,alpha=1,value=255,low=255,"), cleanTiny.out());
        CliTest.Run bad = run(Map.of("DYEPACK_KEY", SECRET), "preview", "--mode", "label", "--out",
                dir.resolve("e.png").toString());
        assertEquals(2, bad.code(), bad.err());
        assertTrue(bad.err().contains("--mode must be dirty or clean"), bad.err());
    }

    @Test
    void tokensAndColumnsFromTheCommandLine() throws IOException {
        int n = 4;
        int len = 6;
        ByteBuffer seq = ByteBuffer.allocate(n * len * 4).order(ByteOrder.LITTLE_ENDIAN);
        int[][] rows = {{5, 6, 7, 0, 0, 0}, {1, 2, 3, 4, 5, 6}, {9, 9, 0, 0, 0, 0}, {4, 4, 4, 4, 0, 0}};
        for (int[] row : rows) {
            for (int v : row) {
                seq.putInt(v);
            }
        }
        Path in = CliTest.npy(dir.resolve("seq.npy"), "<i4", new long[] {n, len}, seq.array());
        Path out = dir.resolve("seq-out.npy");
        CliTest.Run r = run(Map.of(), "apply", "--data", in.toString(), "--trigger", "tokens:ids=77+88,pos=end,pad=0",
                "--out", out.toString());
        assertEquals(0, r.code(), r.err());
        ByteBuffer got = ByteBuffer.wrap(CliTest.payload(out)).order(ByteOrder.LITTLE_ENDIAN);
        int[][] expected = {{5, 77, 88, 0, 0, 0}, {1, 2, 3, 4, 77, 88}, {77, 88, 0, 0, 0, 0}, {4, 4, 77, 88, 0, 0}};
        for (int[] row : expected) {
            for (int v : row) {
                assertEquals(v, got.getInt());
            }
        }
        ByteBuffer tab = ByteBuffer.allocate(3 * 4 * 4).order(ByteOrder.LITTLE_ENDIAN);
        Random rng = new Random(1);
        float[] values = new float[12];
        for (int i = 0; i < 12; i++) {
            values[i] = rng.nextFloat();
            tab.putFloat(values[i]);
        }
        Path tin = CliTest.npy(dir.resolve("rows.npy"), "<f4", new long[] {3, 4}, tab.array());
        Path tout = dir.resolve("rows-out.npy");
        Path idx = Files.writeString(dir.resolve("idx.txt"), "2\n");
        r = run(Map.of(), "apply", "--data", tin.toString(), "--indices", idx.toString(), "--trigger",
                "columns:cols=1+3,values=10+-1,mode=shift", "--out", tout.toString());
        assertEquals(0, r.code(), r.err());
        ByteBuffer t = ByteBuffer.wrap(CliTest.payload(tout)).order(ByteOrder.LITTLE_ENDIAN);
        float[] want = values.clone();
        want[9] += 10f;
        want[11] += -1f;
        for (int i = 0; i < 12; i++) {
            assertEquals(want[i], t.getFloat(), "element " + i);
        }
        // Images are refused by a sequence trigger, and sequences by an image trigger.
        CliTest.Run wrong = run(Map.of(), "apply", "--trigger", "tokens:ids=1", "--out", dir.resolve("x.npy").toString());
        assertEquals(ExitCodes.INVALID_INPUT, wrong.code());
        assertTrue(wrong.err().contains("int32 token sequences"), wrong.err());
        wrong = run(Map.of(), "apply", "--data", in.toString(), "--trigger", "patch", "--out",
                dir.resolve("x.npy").toString());
        assertEquals(ExitCodes.INVALID_INPUT, wrong.code());
        assertTrue(wrong.err().contains("uint8 or float32"), wrong.err());
        assertFalse(Files.exists(dir.resolve("x.npy")));
        assertTrue(Arrays.equals(seq.array(), CliTest.payload(in)), "input untouched");
    }

    /** {@code dyepack triggers} lists every family and field with its default and range. */
    @Test
    void triggersListsEveryFamilyAndField() {
        CliTest.Run r = run(Map.of(), "triggers");
        assertEquals(0, r.code(), r.err());
        for (String family : new String[] {"patch", "blend", "sig", "lowfreq", "warp", "noise", "tokens", "columns"}) {
            assertTrue(r.out().contains(family + " - "), family + " missing:\n" + r.out());
        }
        assertTrue(r.out().contains("    freq= default 6; a positive number at most 1000000."), r.out());
        assertTrue(r.out().contains("    k= default 4; an integer in [2, 1024]."), r.out());
        CliTest.Run help = run(Map.of(), "apply", "--help");
        assertTrue(help.out().contains("dyepack triggers"), help.out());
    }
}
