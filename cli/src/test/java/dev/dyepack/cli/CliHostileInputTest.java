package dev.dyepack.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTimeoutPreemptively;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.awt.image.BufferedImage;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.time.Duration;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.Random;
import javax.imageio.ImageIO;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The defects a battery of hostile inputs found, each replayed against the CLI in process: a verifier
 * that acted on a manifest before trusting it, a tampered image-folder output that verified, a target
 * no label has, and wrong exit codes or messages.
 */
class CliHostileInputTest {
    private static final String SECRET = "hostile input test key, 32 bytes";
    private static final Map<String, String> ENV = Map.of("DYEPACK_KEY", SECRET);

    @TempDir
    Path dir;

    private static String sha256(byte[] b) throws Exception {
        return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(b));
    }

    private static long lines(String s) {
        return s.lines().filter(l -> !l.isBlank()).count();
    }

    /** The embedded sample poisoned into {@code out}; returns the manifest. */
    private Path poisonedSample(Path out) {
        CliTest.Run r = CliTriggerTest.run(ENV, "poison", "--trigger", "patch:size=3,pos=br,value=255", "--target", "0",
                "--select", "random", "--out", out.toString());
        assertEquals(0, r.code(), r.err());
        return out.resolve("manifest.json");
    }

    /** 3 classes x {@code n} gray 6x6 PNGs. */
    private Path folder(String name, int n) throws IOException {
        Path root = dir.resolve(name);
        Random rng = new Random(3);
        for (String c : new String[] {"a", "b", "c"}) {
            Path cls = Files.createDirectories(root.resolve(c));
            for (int i = 0; i < n; i++) {
                BufferedImage img = new BufferedImage(6, 6, BufferedImage.TYPE_BYTE_GRAY);
                for (int y = 0; y < 6; y++) {
                    for (int x = 0; x < 6; x++) {
                        img.getRaster().setSample(x, y, 0, rng.nextInt(256));
                    }
                }
                ImageIO.write(img, "png", cls.resolve(c + i + ".png").toFile());
            }
        }
        return root;
    }

    @Test
    void aManifestWhoseSignatureFailsOpensNoOtherFile() throws Exception {
        Path manifest = poisonedSample(dir.resolve("out"));
        // The thief's manifest: the poisoned data's path pointed at a FIFO (which blocks a reader forever)
        // and the labels' at a secret file; the signature no longer verifies.
        Path fifo = dir.resolve("pipe");
        assumeTrue(new ProcessBuilder("mkfifo", fifo.toString()).start().waitFor() == 0, "mkfifo unavailable");
        Path secret = Files.writeString(dir.resolve("secret.txt"), "the owner's private notes");
        String text = Files.readString(manifest).replace("\"data.npy\"", "\"../pipe\"")
                .replace("\"labels.npy\"", "\"../secret.txt\"");
        Files.writeString(manifest, text);
        CliTest.Run r = assertTimeoutPreemptively(Duration.ofSeconds(20), () -> CliTriggerTest.run(ENV,
                "manifest", "verify", "--manifest", manifest.toString(), "--inputs"));
        assertEquals(ExitCodes.VERIFY_FAILED, r.code(), r.err());
        assertTrue(r.out().contains("signature"), r.out());
        assertFalse((r.out() + r.err()).contains(sha256(Files.readAllBytes(secret))), "no digest of the secret");
        assertFalse(r.out().contains("secret.txt"), "the labels' file was not opened: " + r.out());
    }

    @Test
    void aSignedManifestNeverTellsTheDigestOfWhatIsThere() throws Exception {
        Path manifest = poisonedSample(dir.resolve("out"));
        Path secret = Files.writeString(dir.resolve("secret.txt"), "the owner's private notes");
        // The poisoned data replaced by a link to a secret: named as a link, not read.
        Path data = dir.resolve("out/data.npy");
        Files.delete(data);
        Files.createSymbolicLink(data, secret);
        // The labels replaced by other content: named as a mismatch, without the content's digest.
        Path labels = dir.resolve("out/labels.npy");
        byte[] other = "not the labels".getBytes(StandardCharsets.UTF_8);
        Files.write(labels, other);
        CliTest.Run r = CliTriggerTest.run(ENV, "manifest", "verify", "--manifest", manifest.toString());
        assertEquals(ExitCodes.VERIFY_FAILED, r.code(), r.out() + r.err());
        assertTrue(r.out().contains("output.data: data.npy is a symbolic link"), r.out());
        assertTrue(r.out().contains("output.labels: labels.npy is not the file the manifest records"), r.out());
        String all = r.out() + r.err();
        assertFalse(all.contains(sha256(Files.readAllBytes(secret))), all);
        assertFalse(all.contains(sha256(other)), all);
    }

    @Test
    void aLinkedClassFolderAddedToAPoisonedFolderDoesNotVerify() throws Exception {
        Path root = folder("shapes", 10);
        Path out = dir.resolve("out");
        CliTest.Run r = CliTriggerTest.run(ENV, "poison", "--data", root.toString(), "--trigger",
                "patch:size=2,pos=tl,value=255", "--target", "0", "--budget", "1", "--out", out.toString());
        assertEquals(0, r.code(), r.err());
        Path manifest = out.resolve("manifest.json");
        assertEquals(0, CliTriggerTest.run(ENV, "manifest", "verify", "--manifest", manifest.toString()).code());
        // A fourth class smuggled in through a link: DyePack's reader would see it, so verify must not pass.
        Path extra = folder("extra", 1).resolve("a");
        Files.createSymbolicLink(out.resolve("shapes/d"), extra);
        r = CliTriggerTest.run(ENV, "manifest", "verify", "--manifest", manifest.toString());
        assertEquals(ExitCodes.VERIFY_FAILED, r.code(), r.out());
        assertTrue(r.out().contains("symbolic link"), r.out());
        // And the reader refuses the linked folder the same way.
        r = CliTriggerTest.run(ENV, "poison", "--data", out.resolve("shapes").toString(), "--trigger", "patch:size=2",
                "--target", "0", "--out", dir.resolve("again").toString());
        assertEquals(ExitCodes.INVALID_INPUT, r.code(), r.err());
        assertTrue(r.err().contains("symbolic link"), r.err());
    }

    @Test
    void aTargetOutsideTheLabelsClassesIsRefusedWithTheRange() throws IOException {
        for (String target : new String[] {"10", "3000000", "2147483647"}) {
            Path out = dir.resolve("out" + target);
            CliTest.Run r = CliTriggerTest.run(ENV, "poison", "--trigger", "patch:size=3", "--target", target,
                    "--out", out.toString());
            assertEquals(ExitCodes.INVALID_INPUT, r.code(), r.err());
            assertTrue(r.err().contains("[0, 10)"), r.err());
            assertFalse(r.err().contains("-2147483648"), r.err());
            assertFalse(Files.exists(out.resolve("manifest.json")));
        }
        // An eleventh class the labels lack is declared, and then recorded with the others.
        Path out = dir.resolve("declared");
        CliTest.Run r = CliTriggerTest.run(ENV, "poison", "--trigger", "patch:size=3", "--target", "10",
                "--classes", "11", "--select", "random", "--out", out.toString());
        assertEquals(0, r.code(), r.err());
        r = CliTriggerTest.run(ENV, "poison", "--trigger", "patch:size=3", "--target", "1", "--classes", "5",
                "--out", dir.resolve("fewer").toString());
        assertEquals(ExitCodes.INVALID_INPUT, r.code(), r.err());
        assertTrue(r.err().contains("outside the 5 classes"), r.err());
    }

    @Test
    void numbersAreAsciiDigitsOnly() {
        CliTest.Run r = CliTriggerTest.run(ENV, "poison", "--trigger", "patch:size=3", "--target", "\uFF13",
                "--out", dir.resolve("out").toString());
        assertEquals(ExitCodes.INVALID_INPUT, r.code(), r.err());
        assertFalse(Files.exists(dir.resolve("out")));
        r = CliTriggerTest.run(ENV, "apply", "--trigger", "patch:size=\uFF13", "--out", dir.resolve("a.npy").toString());
        assertEquals(ExitCodes.INVALID_INPUT, r.code(), r.err());
    }

    @Test
    void aKeyOnTheCommandLineIsRefusedWithoutBeingRepeated() {
        String key = "my-very-secret-owner-key-0123456789";
        for (List<String> args : List.of(List.of("--key", key), List.of("--key=" + key))) {
            List<String> all = new java.util.ArrayList<>(List.of("apply", "--trigger", "blend:alpha=0.2,pattern=noise",
                    "--out", dir.resolve("x.npy").toString()));
            all.addAll(args);
            CliTest.Run r = CliTest.run(all.toArray(String[]::new));
            assertEquals(ExitCodes.INVALID_INPUT, r.code(), r.err());
            assertFalse((r.out() + r.err()).contains(key), r.err());
            assertTrue(r.err().contains("--key-file"), r.err());
            assertEquals(1, lines(r.err()), r.err());
        }
    }

    @Test
    void helpPrintsNoPicocliWarnings() {
        PrintStream saved = System.err;
        ByteArrayOutputStream captured = new ByteArrayOutputStream();
        System.setErr(new PrintStream(captured, true, StandardCharsets.UTF_8));
        CliTest.Run r;
        try {
            r = CliTest.run("poison", "--help");
        } finally {
            System.setErr(saved);
        }
        assertEquals(0, r.code());
        String all = r.out() + r.err() + captured.toString(StandardCharsets.UTF_8);
        assertFalse(all.contains("[picocli WARN]"), all);
        assertTrue(r.out().contains("above 5%"), r.out());
    }

    @Test
    void anIdxFileGivenWhereOnlyNpyIsReadIsNamedAsIdx() throws IOException {
        // Index lists are .npy or text; an IDX file there is named as IDX, not merely "not a .npy file".
        Path idx = Files.write(dir.resolve("picked.npy"), new byte[] {0, 0, 0x08, 1, 0, 0, 0, 2, 1, 2});
        CliTest.Run r = CliTest.run("apply", "--indices", idx.toString(), "--trigger", "patch:size=1", "--out",
                dir.resolve("o.npy").toString());
        assertEquals(ExitCodes.INVALID_INPUT, r.code(), r.err());
        assertTrue(r.err().contains("looks like an IDX file"), r.err());
    }

    @Test
    void anOutputProblemNamesTheDestination() throws IOException {
        // Missing folders are made; a file where a folder must be is an output problem named as such.
        Path blocker = Files.writeString(dir.resolve("not-a-folder"), "a file");
        Path out = blocker.resolve("o.npy");
        CliTest.Run r = CliTest.run("apply", "--quiet", "--trigger", "patch:size=3", "--out", out.toString());
        assertEquals(ExitCodes.FAILURE, r.code(), r.err());
        assertEquals(1, lines(r.err()), r.err());
        assertTrue(r.err().startsWith("dyepack: " + out + ": cannot be written: " + blocker
                + " is a file where a folder is needed"), r.err());
        assertFalse(r.err().contains(".tmp"), r.err());
    }

    @Test
    void aMalformedManifestIsUntrustedExitFour() throws IOException {
        Path manifest = Files.writeString(dir.resolve("manifest.json"), "{\"format\": ");
        CliTest.Run r = CliTriggerTest.run(ENV, "manifest", "verify", "--manifest", manifest.toString());
        assertEquals(ExitCodes.VERIFY_FAILED, r.code(), r.err());
        assertTrue(r.err().contains(manifest.toString()), r.err());
        Files.writeString(manifest, "[".repeat(100_000));
        r = CliTriggerTest.run(ENV, "verify", "--manifest", manifest.toString(), "--probe", dir.toString(),
                "--predictions", dir.toString());
        assertEquals(ExitCodes.VERIFY_FAILED, r.code(), r.err());
        // A manifest that is not there is an input problem.
        r = CliTriggerTest.run(ENV, "manifest", "verify", "--manifest", dir.resolve("absent.json").toString());
        assertEquals(ExitCodes.INVALID_INPUT, r.code(), r.err());
    }

    @Test
    void aKeylessTriggerDoesNotShowTheKey() {
        CliTest.Run r = CliTriggerTest.run(ENV, "apply", "--trigger", "patch:size=3,pos=br,value=255", "--out",
                dir.resolve("o.npy").toString());
        assertEquals(0, r.code(), r.err());
        assertFalse(r.err().contains("key:"), r.err());
        r = CliTriggerTest.run(ENV, "apply", "--trigger", "blend:alpha=0.2,pattern=noise", "--out",
                dir.resolve("k.npy").toString());
        assertEquals(0, r.code(), r.err());
        assertTrue(r.err().contains("key: dpk1:"), r.err());
    }

    @Test
    void quietKeepsOnlyWarningsAndTheErrorLineLast() {
        CliTest.Run r = CliTriggerTest.run(ENV, "poison", "--quiet", "--trigger", "blend:alpha=0.2,pattern=noise",
                "--target", "0", "--select", "random", "--out", dir.resolve("out").toString());
        assertEquals(0, r.code(), r.err());
        assertFalse(r.err().contains("key:"), r.err());
        assertFalse(r.err().contains("backend"), r.err());
        assertTrue(r.out().contains("wrote"), r.out());
        r = CliTriggerTest.run(ENV, "poison", "--quiet", "--trigger", "blend:alpha=0.2,pattern=noise", "--target",
                "0", "--data", dir.resolve("absent.npy").toString(), "--labels", dir.resolve("absent.npy").toString(),
                "--out", dir.resolve("out2").toString());
        assertEquals(ExitCodes.INVALID_INPUT, r.code(), r.err());
        assertEquals(1, lines(r.err()), r.err());
        assertTrue(r.err().startsWith("dyepack: "), r.err());
        // Without --quiet the error line is still the last line.
        r = CliTriggerTest.run(ENV, "poison", "--trigger", "blend:alpha=0.2,pattern=noise", "--target", "0",
                "--data", dir.resolve("absent.npy").toString(), "--labels", dir.resolve("absent.npy").toString(),
                "--out", dir.resolve("out3").toString());
        List<String> errLines = r.err().lines().filter(l -> !l.isBlank()).toList();
        assertTrue(errLines.get(errLines.size() - 1).startsWith("dyepack: "), r.err());
        r = CliTest.run("poison", "--no-such-option");
        errLines = r.err().lines().filter(l -> !l.isBlank()).toList();
        assertEquals(1, errLines.size(), r.err());
    }

    @Test
    void filesAnImageFolderOutputLeavesOutAreNamed() throws IOException {
        Path root = folder("shapes", 10);
        Files.writeString(root.resolve("a/notes.txt"), "not an image");
        Files.writeString(root.resolve("b/.DS_Store"), "hidden");
        CliTest.Run r = CliTriggerTest.run(ENV, "poison", "--quiet", "--data", root.toString(), "--trigger",
                "patch:size=2", "--target", "0", "--budget", "1", "--out", dir.resolve("out").toString());
        assertEquals(0, r.code(), r.err());
        assertTrue(r.err().contains("warning: 2 entries"), r.err());
        assertTrue(r.err().contains("notes.txt") && r.err().contains(".DS_Store"), r.err());
    }

    @Test
    void aClassLeftWithoutImagesIsAnInputProblem() throws IOException {
        Path root = folder("shapes", 1);
        // Three images, one per class; a budget of 2 relabels both non-target classes' only image.
        CliTest.Run r = CliTriggerTest.run(ENV, "poison", "--data", root.toString(), "--trigger", "patch:size=2",
                "--target", "0", "--budget", "2", "--allow-over-5-percent", "--select", "random", "--out",
                dir.resolve("out").toString());
        assertEquals(ExitCodes.INVALID_INPUT, r.code(), r.err());
        assertTrue(r.err().contains("would be left with no image"), r.err());
        assertFalse(Files.exists(dir.resolve("out/manifest.json")));
    }
}
