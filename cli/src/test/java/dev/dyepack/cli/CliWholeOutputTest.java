package dev.dyepack.cli;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.dyepack.io.NpyWriter;
import java.awt.image.BufferedImage;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.SplittableRandom;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import javax.imageio.ImageIO;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Outputs appear whole or not at all, as a user sees them from the shell: the CLI runs in a child JVM
 * that is killed with SIGKILL at random points of {@code apply} and {@code poison} on a batch that
 * takes seconds; afterwards the destination is absent or complete and verifiable, and the next run
 * succeeds and leaves no leftovers. Also: an occupied output directory is refused and left as it was,
 * a failure after an image folder's scan leaves no {@code --out}, and of two concurrent runs to one
 * {@code --out} exactly one succeeds.
 */
class CliWholeOutputTest {
    /** 12000 RGB images of 64x64: about 147 MB, a few seconds to read, stamp and write. */
    private static final long[] SHAPE = {12000, 64, 64, 3};
    private static final long SEED = Long.getLong("dyepack.kill.seed", System.nanoTime());

    @TempDir
    static Path shared;

    private static Path data;
    private static Path labels;
    private static Path key;

    @TempDir
    Path dir;

    @BeforeAll
    static void bigBatch() throws IOException {
        data = shared.resolve("x.npy");
        SplittableRandom r = new SplittableRandom(7);
        long sample = SHAPE[1] * SHAPE[2] * SHAPE[3];
        try (NpyWriter w = NpyWriter.create(data, "|u1", SHAPE)) {
            byte[] chunk = new byte[(int) (1000 * sample)];
            for (long first = 0; first < SHAPE[0]; first += 1000) {
                r.nextBytes(chunk);
                w.write(ByteBuffer.wrap(chunk));
            }
            w.commit();
        }
        byte[] y = new byte[(int) SHAPE[0]];
        for (int i = 0; i < y.length; i++) {
            y[i] = (byte) (i % 10);
        }
        labels = CliTest.npy(shared.resolve("y.npy"), "|u1", new long[] {SHAPE[0]}, y);
        key = Files.writeString(shared.resolve("owner.key"), "whole outputs or none, 32 bytes!\n");
    }

    /** A child JVM running the CLI from this build's classes, its output in files. */
    private static Process start(Path log, String... args) throws IOException {
        List<String> cmd = new ArrayList<>(List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "-cp", System.getProperty("java.class.path"), "dev.dyepack.cli.Main"));
        cmd.addAll(List.of(args));
        return new ProcessBuilder(cmd).redirectErrorStream(true).redirectOutput(log.toFile()).start();
    }

    private static int finish(Process p) throws InterruptedException {
        assertTrue(p.waitFor(120, TimeUnit.SECONDS), "the CLI finished within two minutes");
        return p.exitValue();
    }

    private static String sha256(Path file) throws Exception {
        MessageDigest md = MessageDigest.getInstance("SHA-256");
        try (var in = Files.newInputStream(file)) {
            byte[] b = new byte[1 << 20];
            for (int n; (n = in.read(b)) > 0;) {
                md.update(b, 0, n);
            }
        }
        return HexFormat.of().formatHex(md.digest());
    }

    private static List<String> names(Path d) throws IOException {
        try (Stream<Path> s = Files.list(d)) {
            return s.map(p -> p.getFileName().toString()).sorted().toList();
        }
    }

    private static boolean stagingExists(Path parent, String name) throws IOException {
        return names(parent).stream().anyMatch(n -> n.startsWith("." + name + ".dyepack-tmp-"));
    }

    /** When a kill is aimed. */
    private enum KillPoint {
        /** A random delay after the start. */
        AFTER_START,
        /** A random delay after the run's own staging appears: while it writes. */
        AFTER_STAGING,
        /** The moment anything shows at the destination: the most dangerous point for a partial output. */
        ON_APPEARANCE;

        static KillPoint of(int i) {
            return values()[i % 3];
        }
    }

    /** Whether anything shows at the destination: a file, or a directory with an entry. */
    private static boolean shows(Path destination) {
        if (Files.isDirectory(destination)) {
            try (Stream<Path> s = Files.list(destination)) {
                return s.findAny().isPresent();
            } catch (IOException e) {
                return false;
            }
        }
        return Files.exists(destination);
    }

    /** Starts a run and kills it with SIGKILL at the given point, {@code delayMs} after it where it has one. */
    private static void killDuring(Path parent, String name, KillPoint point, long delayMs, Path log,
            String... args) throws Exception {
        Process p = start(log, args);
        if (point == KillPoint.ON_APPEARANCE) {
            Path destination = parent.resolve(name);
            long until = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
            while (p.isAlive() && !shows(destination) && System.nanoTime() < until) {
                Thread.sleep(1);
            }
            p.destroyForcibly();
            p.waitFor(30, TimeUnit.SECONDS);
            return;
        }
        if (point == KillPoint.AFTER_STAGING) {
            long until = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
            String own = "." + name + ".dyepack-tmp-" + p.pid() + "-";
            while (p.isAlive() && names(parent).stream().noneMatch(n -> n.startsWith(own))
                    && System.nanoTime() < until) {
                Thread.sleep(5);
            }
        }
        Thread.sleep(delayMs);
        p.destroyForcibly();
        p.waitFor(30, TimeUnit.SECONDS);
    }

    @Test
    void applyKilledAnywhereLeavesNoneOrTheWholeFileAndTheNextRunCleansUp() throws Exception {
        Path out = dir.resolve("stamped.npy");
        String[] args = {"apply", "--data", data.toString(), "--trigger", "patch:size=3,pos=br,value=255", "--out",
            out.toString(), "--force"};
        long t0 = System.nanoTime();
        assertEquals(0, finish(start(dir.resolve("reference.log"), args)), Files.readString(dir.resolve("reference.log")));
        long runMs = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - t0);
        String reference = sha256(out);
        Files.move(out, dir.resolve("reference.npy"));
        Random random = new Random(SEED);
        String seen = "";
        for (int i = 0; i < 6; i++) {
            KillPoint point = KillPoint.of(i);
            long delay = (long) (random.nextDouble() * (point == KillPoint.AFTER_START ? runMs : runMs / 2));
            Path log = dir.resolve("kill-" + i + ".log");
            killDuring(dir, "stamped.npy", point, delay, log, args);
            String state = "kill " + i + " (seed " + SEED + ", " + point
                    + (point == KillPoint.ON_APPEARANCE ? "" : " + " + delay + " ms") + "): " + names(dir);
            if (Files.exists(out)) {
                assertEquals(reference, sha256(out), state + ": a stamped.npy that is there is complete");
                seen += "complete ";
            } else {
                seen += stagingExists(dir, "stamped.npy") ? "staged " : "absent ";
            }
            System.out.println("apply " + state);
        }
        assertEquals(0, finish(start(dir.resolve("final.log"), args)), Files.readString(dir.resolve("final.log")));
        assertEquals(reference, sha256(out));
        List<String> left = names(dir).stream().filter(n -> n.startsWith(".")).toList();
        assertEquals(List.of(), left, "the next run removed every leftover of the killed ones (" + seen + ")");
    }

    @Test
    void poisonKilledAnywhereLeavesNoneOrAVerifiableWholeAndTheNextRunCleansUp() throws Exception {
        Path out = dir.resolve("poisoned");
        String[] args = {"poison", "--data", data.toString(), "--labels", labels.toString(), "--trigger",
            "patch:size=3,pos=br,value=255", "--target", "0", "--select", "random", "--key-file", key.toString(),
            "--out", out.toString()};
        long t0 = System.nanoTime();
        assertEquals(0, finish(start(dir.resolve("reference.log"), args)), Files.readString(dir.resolve("reference.log")));
        long runMs = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - t0);
        deleteTree(out);
        Random random = new Random(SEED + 1);
        for (int i = 0; i < 6; i++) {
            KillPoint point = KillPoint.of(i);
            long delay = (long) (random.nextDouble() * (point == KillPoint.AFTER_START ? runMs : runMs / 2));
            killDuring(dir, "poisoned", point, delay, dir.resolve("kill-" + i + ".log"), args);
            String state = "kill " + i + " (seed " + SEED + ", " + point
                    + (point == KillPoint.ON_APPEARANCE ? "" : " + " + delay + " ms") + "): " + names(dir);
            System.out.println("poison " + state);
            if (Files.exists(out)) {
                assertEquals(List.of("data.npy", "labels.npy", "manifest.json"), names(out), state);
                CliTest.Run v = CliTriggerTest.run(Map.of(), "manifest", "verify", "--manifest",
                        out.resolve("manifest.json").toString(), "--key-file", key.toString());
                assertEquals(0, v.code(), state + ": a poisoned output that is there verifies\n" + v.out() + v.err());
                deleteTree(out);
            }
        }
        Path log = dir.resolve("final.log");
        assertEquals(0, finish(start(log, args)), Files.readString(log));
        CliTest.Run v = CliTriggerTest.run(Map.of(), "manifest", "verify", "--manifest",
                out.resolve("manifest.json").toString(), "--key-file", key.toString());
        assertEquals(0, v.code(), v.out() + v.err());
        assertEquals(List.of(), names(dir).stream().filter(n -> n.startsWith(".")).toList(),
                "the next run removed every leftover of the killed ones");
    }

    @Test
    void twoConcurrentPoisonRunsToOneOutExactlyOneSucceeds() throws Exception {
        Path out = dir.resolve("poisoned");
        String[] args = {"poison", "--data", data.toString(), "--labels", labels.toString(), "--trigger",
            "patch:size=3,pos=br,value=255", "--target", "0", "--select", "random", "--key-file", key.toString(),
            "--out", out.toString()};
        Process a = start(dir.resolve("a.log"), args);
        Process b = start(dir.resolve("b.log"), args);
        int ra = finish(a);
        int rb = finish(b);
        String la = Files.readString(dir.resolve("a.log"));
        String lb = Files.readString(dir.resolve("b.log"));
        assertTrue((ra == 0) != (rb == 0), "exactly one succeeds: " + ra + " " + rb + "\n" + la + "\n" + lb);
        String loser = ra == 0 ? lb : la;
        int loserCode = ra == 0 ? rb : ra;
        String last = loser.strip().lines().reduce((x, y) -> y).orElse("");
        assertTrue(last.startsWith("dyepack: output " + out) && (loserCode == ExitCodes.FAILURE
                && last.contains("is being written by another dyepack run")
                || loserCode == ExitCodes.INVALID_INPUT && last.contains("already exists")), loserCode + ": " + last);
        CliTest.Run v = CliTriggerTest.run(Map.of(), "manifest", "verify", "--manifest",
                out.resolve("manifest.json").toString(), "--key-file", key.toString());
        assertEquals(0, v.code(), v.out() + v.err());
    }

    @Test
    void anOccupiedOutputDirectoryIsRefusedAndLeftAsItWas() throws Exception {
        Path small = CliTest.npy(dir.resolve("s.npy"), "|u1", new long[] {100, 8, 8}, new byte[6400]);
        byte[] y = new byte[100];
        for (int i = 0; i < y.length; i++) {
            y[i] = (byte) (i % 4);
        }
        Path ys = CliTest.npy(dir.resolve("sy.npy"), "|u1", new long[] {100}, y);
        Path out = Files.createDirectories(dir.resolve("out"));
        byte[] oldData = "an earlier data.npy".getBytes(StandardCharsets.UTF_8);
        byte[] oldLabels = "an earlier labels.npy".getBytes(StandardCharsets.UTF_8);
        Files.write(out.resolve("data.npy"), oldData);
        Files.write(out.resolve("labels.npy"), oldLabels);
        CliTest.Run r = CliTriggerTest.run(Map.of(), "poison", "--data", small.toString(), "--labels", ys.toString(),
                "--trigger", "patch:size=2", "--target", "1", "--select", "random", "--budget", "2", "--key-file",
                key.toString(), "--out", out.toString());
        assertEquals(ExitCodes.INVALID_INPUT, r.code(), r.err());
        assertTrue(r.err().contains("output " + out + " already exists and is not empty; choose another, or give --force"),
                r.err());
        assertArrayEquals(oldData, Files.readAllBytes(out.resolve("data.npy")));
        assertArrayEquals(oldLabels, Files.readAllBytes(out.resolve("labels.npy")));
        assertEquals(List.of("data.npy", "labels.npy"), names(out));
        // apply refuses an existing file the same way.
        Path stamped = Files.write(dir.resolve("stamped.npy"), oldData);
        r = CliTriggerTest.run(Map.of(), "apply", "--data", small.toString(), "--trigger", "patch:size=2", "--out",
                stamped.toString());
        assertEquals(ExitCodes.INVALID_INPUT, r.code(), r.err());
        assertArrayEquals(oldData, Files.readAllBytes(stamped));
        // With --force the directory is replaced whole: nothing of the old one is mixed into the new.
        r = CliTriggerTest.run(Map.of(), "poison", "--data", small.toString(), "--labels", ys.toString(),
                "--trigger", "patch:size=2", "--target", "1", "--select", "random", "--budget", "2", "--key-file",
                key.toString(), "--out", out.toString(), "--force");
        assertEquals(0, r.code(), r.err());
        assertEquals(List.of("data.npy", "labels.npy", "manifest.json"), names(out));
        assertFalse(java.util.Arrays.equals(oldData, Files.readAllBytes(out.resolve("data.npy"))));
    }

    @Test
    void noInputIsEverAnOutputNotEvenWithForce() throws Exception {
        Path small = CliTest.npy(dir.resolve("s.npy"), "|u1", new long[] {10, 8, 8}, new byte[640]);
        Path indices = Files.writeString(dir.resolve("idx.txt"), "1 2 3\n");
        byte[] keyBytes = Files.readAllBytes(key);
        for (Path victim : new Path[] {key, indices, small}) {
            CliTest.Run r = CliTriggerTest.run(Map.of(), "apply", "--data", small.toString(), "--indices",
                    indices.toString(), "--trigger", "noise:eps=4", "--key-file", key.toString(), "--out",
                    victim.toString(), "--force");
            assertEquals(ExitCodes.INVALID_INPUT, r.code(), r.err());
            assertTrue(r.err().contains("output " + victim + " is the input " + victim), r.err());
        }
        assertArrayEquals(keyBytes, Files.readAllBytes(key));
        assertEquals("1 2 3\n", Files.readString(indices));
        Path images = folderWithATruncatedImage();
        CliTest.Run r = CliTriggerTest.run(Map.of(), "poison", "--data", images.toString(), "--trigger",
                "patch:size=2", "--target", "0", "--select", "random", "--budget", "2", "--allow-over-5-percent",
                "--key-file", key.toString(), "--out", images.resolve("poisoned").toString());
        assertEquals(ExitCodes.INVALID_INPUT, r.code(), r.err());
        assertTrue(r.err().contains("lies inside the input " + images), r.err());
        assertEquals(List.of("cat", "dog"), names(images));
    }

    /** A class folder whose second image has a valid header but truncated pixels: the scan passes, stamping fails. */
    private Path folderWithATruncatedImage() throws IOException {
        Path root = dir.resolve("images");
        for (String c : new String[] {"cat", "dog"}) {
            Path cls = Files.createDirectories(root.resolve(c));
            for (int i = 0; i < 10; i++) {
                BufferedImage img = new BufferedImage(8, 8, BufferedImage.TYPE_BYTE_GRAY);
                img.getRaster().setSample(i % 8, 0, 0, 200);
                ImageIO.write(img, "png", cls.resolve(String.format("%s-%02d.png", c, i)).toFile());
            }
        }
        Path victim = root.resolve("dog/dog-05.png");
        byte[] png = Files.readAllBytes(victim);
        Files.write(victim, java.util.Arrays.copyOf(png, 40));
        return root;
    }

    @Test
    void aFailureAfterAnImageFolderScanLeavesNoOutAndKeepsAnOldOne() throws Exception {
        Path images = folderWithATruncatedImage();
        Path out = dir.resolve("nested/out");
        CliTest.Run r = CliTriggerTest.run(Map.of(), "poison", "--data", images.toString(), "--trigger",
                "patch:size=2", "--target", "0", "--select", "random", "--budget", "2", "--allow-over-5-percent",
                "--key-file", key.toString(), "--out", out.toString());
        assertTrue(r.code() != 0, "a truncated image fails the run: " + r.err());
        assertTrue(r.err().contains("dog-05.png"), r.err());
        assertFalse(Files.exists(dir.resolve("nested")), "no --out, and not its parent either: " + names(dir));
        // Replacing an earlier output, the same failure leaves the earlier one as it was.
        Path earlier = Files.createDirectories(dir.resolve("earlier"));
        Files.writeString(earlier.resolve("manifest.json"), "the earlier record");
        r = CliTriggerTest.run(Map.of(), "poison", "--data", images.toString(), "--trigger", "patch:size=2",
                "--target", "0", "--select", "random", "--budget", "2", "--allow-over-5-percent", "--key-file",
                key.toString(), "--out", earlier.toString(), "--force");
        assertTrue(r.code() != 0, r.err());
        assertEquals(List.of("manifest.json"), names(earlier));
        assertEquals("the earlier record", Files.readString(earlier.resolve("manifest.json")));
        assertEquals(List.of("earlier", "images"), names(dir));
    }

    private static void deleteTree(Path root) throws IOException {
        try (Stream<Path> walk = Files.walk(root)) {
            for (Path p : walk.sorted(java.util.Comparator.reverseOrder()).toList()) {
                Files.delete(p);
            }
        }
    }
}
