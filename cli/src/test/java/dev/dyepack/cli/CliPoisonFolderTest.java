package dev.dyepack.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.dyepack.io.ImageFolder;
import dev.dyepack.manifest.Manifest;
import dev.dyepack.manifest.ManifestReader;
import java.awt.image.BufferedImage;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.Random;
import javax.imageio.ImageIO;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code dyepack poison} on a PNG/JPEG folder dataset: output in the same layout, verifiable. */
class CliPoisonFolderTest {
    private static final String SECRET = "folder poisoning key, 32 bytes!!";

    @TempDir
    Path dir;

    /** 3 classes x 10 gray 8x8 images; class 1 as JPEG. */
    private Path dataset() throws IOException {
        Path root = dir.resolve("shapes");
        Random rng = new Random(5);
        String[] classes = {"circle", "square", "triangle"};
        for (int c = 0; c < classes.length; c++) {
            Path cls = Files.createDirectories(root.resolve(classes[c]));
            for (int i = 0; i < 10; i++) {
                BufferedImage img = new BufferedImage(8, 8, BufferedImage.TYPE_BYTE_GRAY);
                for (int y = 0; y < 8; y++) {
                    for (int x = 0; x < 8; x++) {
                        img.getRaster().setSample(x, y, 0, 40 * c + rng.nextInt(30));
                    }
                }
                String name = String.format("%s-%02d.%s", classes[c], i, c == 1 ? "jpg" : "png");
                ImageIO.write(img, c == 1 ? "jpg" : "png", cls.resolve(name).toFile());
            }
        }
        return root;
    }

    @Test
    void dirtyLabelMovesPoisonedImagesIntoTheTargetFolder() throws IOException {
        Path root = dataset();
        Path out = dir.resolve("out");
        CliTest.Run r = CliTriggerTest.run(Map.of("DYEPACK_KEY", SECRET), "poison", "--data", root.toString(),
                "--trigger", "patch:size=2,pos=tl,value=255", "--target", "0", "--budget", "3",
                "--allow-over-5-percent", "--out", out.toString());
        assertEquals(0, r.code(), r.err());
        Manifest m = ManifestReader.read(out.resolve("manifest.json"));
        ImageFolder in = ImageFolder.scan(root);
        ImageFolder result = ImageFolder.scan(out.resolve("shapes"));
        assertEquals(List.of("circle", "square", "triangle"), result.classes());
        assertEquals(30, result.size());
        long[] picked = m.indices();
        assertEquals(3, picked.length);
        long movedIn = 0;
        for (long i : picked) {
            assertTrue(in.label(i) != 0, "dirty-label poisons other classes");
            // The name and format are kept: a JPEG stays a JPEG (re-encoded at its own quality).
            String name = in.file(i).getFileName().toString();
            Path moved = out.resolve("shapes").resolve("circle").resolve(name);
            assertTrue(Files.exists(moved), moved + " in the target's folder");
            BufferedImage img = ImageIO.read(moved.toFile());
            int atLeast = name.endsWith(".jpg") ? 200 : 255;
            assertTrue(img.getRaster().getSample(0, 0, 0) >= atLeast, "patch stamped");
            assertTrue(img.getRaster().getSample(1, 1, 0) >= atLeast, "patch stamped");
            movedIn++;
        }
        long circles = Arrays.stream(result.labels()).filter(v -> v == 0).count();
        assertEquals(10 + movedIn, circles);
        // An unpoisoned PNG is unchanged, pixel for pixel.
        ByteBuffer a = ByteBuffer.allocate(64);
        ByteBuffer b = ByteBuffer.allocate(64);
        in.readImages(0, 1, a, 1);
        result.readImages(0, 1, b, 1);
        assertEquals(a.flip(), b.flip());
        CliTest.Run v = CliTriggerTest.run(Map.of("DYEPACK_KEY", SECRET), "manifest", "verify", "--manifest",
                out.resolve("manifest.json").toString(), "--inputs");
        assertEquals(0, v.code(), v.out() + v.err());
        // Moving one file changes the folder's fingerprint.
        Path any = Files.list(out.resolve("shapes").resolve("square")).findFirst().orElseThrow();
        Files.move(any, out.resolve("shapes").resolve("triangle").resolve(any.getFileName()));
        v = CliTriggerTest.run(Map.of("DYEPACK_KEY", SECRET), "manifest", "verify", "--manifest",
                out.resolve("manifest.json").toString());
        assertEquals(ExitCodes.VERIFY_FAILED, v.code());
        assertTrue(v.out().contains("output.data"), v.out());
    }

    @Test
    void cleanLabelWithTheLinearSurrogateKeepsTheLayout() throws IOException {
        Path root = dataset();
        Path out = dir.resolve("out");
        CliTest.Run r = CliTriggerTest.run(Map.of("DYEPACK_KEY", SECRET), "poison", "--data", root.toString(),
                "--trigger", "noise:eps=8", "--target", "2", "--mode", "clean", "--budget", "2",
                "--allow-over-5-percent", "--out", out.toString());
        assertEquals(0, r.code(), r.err());
        ImageFolder result = ImageFolder.scan(out.resolve("shapes"));
        assertEquals(30, result.size());
        assertEquals(10, Arrays.stream(result.labels()).filter(v -> v == 2).count(), "clean-label moves nothing");
        Manifest m = ManifestReader.read(out.resolve("manifest.json"));
        assertTrue(Arrays.stream(m.indices()).allMatch(i -> i >= 20), "target-class images only");
        CliTest.Run bad = CliTriggerTest.run(Map.of("DYEPACK_KEY", SECRET), "poison", "--data", root.toString(),
                "--labels", root.toString(), "--trigger", "patch", "--target", "0", "--out", dir.resolve("x").toString());
        assertEquals(ExitCodes.INVALID_INPUT, bad.code());
        assertFalse(Files.exists(dir.resolve("x")));
    }
}
