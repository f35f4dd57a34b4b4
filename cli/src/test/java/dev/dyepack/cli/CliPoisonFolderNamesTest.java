package dev.dyepack.cli;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.dyepack.manifest.Manifest;
import dev.dyepack.manifest.ManifestReader;
import java.awt.image.BufferedImage;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.stream.Stream;
import javax.imageio.ImageIO;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code dyepack poison} with dirty labels on a folder whose class folders use the same file names (every
 * class has {@code img00.png}): a moved image whose name is taken in the target's folder gets the next free
 * name of its pattern, and the output is whole and verifiable.
 */
class CliPoisonFolderNamesTest {
    private static final String SECRET = "folder naming key, 32 bytes long";
    private static final String[] CLASSES = {"a", "b", "c"};

    @TempDir
    Path dir;

    /** 3 classes x 10 gray 8x8 PNGs, each class named img00.png .. img09.png. */
    private Path dataset() throws IOException {
        Path root = dir.resolve("same");
        Random rng = new Random(11);
        for (int c = 0; c < CLASSES.length; c++) {
            Path cls = Files.createDirectories(root.resolve(CLASSES[c]));
            for (int i = 0; i < 10; i++) {
                BufferedImage img = new BufferedImage(8, 8, BufferedImage.TYPE_BYTE_GRAY);
                for (int y = 0; y < 8; y++) {
                    for (int x = 0; x < 8; x++) {
                        img.getRaster().setSample(x, y, 0, 30 * c + rng.nextInt(100));
                    }
                }
                ImageIO.write(img, "png", cls.resolve(String.format("img%02d.png", i)).toFile());
            }
        }
        return root;
    }

    @Test
    void movedImagesWhoseNamesAreTakenAreNumberedOnInTheTargetFolder() throws IOException {
        Path root = dataset();
        Path out = dir.resolve("out");
        CliTest.Run r = CliTriggerTest.run(Map.of("DYEPACK_KEY", SECRET), "poison", "--data", root.toString(),
                "--trigger", "patch:size=2,pos=tl,value=255", "--target", "0", "--budget", "3",
                "--allow-over-5-percent", "--select", "random", "--negatives", "0", "--out", out.toString());
        assertEquals(0, r.code(), r.err());
        Manifest m = ManifestReader.read(out.resolve("manifest.json"));
        long[] picked = m.indices();
        assertEquals(3, picked.length);
        Path target = out.resolve("same").resolve("a");
        // The target's own images are untouched; the moved ones follow img09.png in dataset order.
        for (int i = 0; i < 10; i++) {
            String name = String.format("img%02d.png", i);
            assertArrayEquals(Files.readAllBytes(root.resolve("a").resolve(name)),
                    Files.readAllBytes(target.resolve(name)), name);
        }
        try (Stream<Path> s = Files.list(target)) {
            assertEquals(13, s.count());
        }
        for (int k = 0; k < picked.length; k++) {
            long i = picked[k];
            assertTrue(i >= 10, "dirty-label poisons other classes than the target");
            Path source = root.resolve(CLASSES[(int) (i / 10)]).resolve(String.format("img%02d.png", i % 10));
            Path moved = target.resolve(String.format("img%02d.png", 10 + k));
            BufferedImage before = ImageIO.read(source.toFile());
            BufferedImage after = ImageIO.read(moved.toFile());
            for (int y = 0; y < 8; y++) {
                for (int x = 0; x < 8; x++) {
                    int expected = x < 2 && y < 2 ? 255 : before.getRaster().getSample(x, y, 0);
                    assertEquals(expected, after.getRaster().getSample(x, y, 0), moved + " at " + x + "," + y);
                }
            }
            // The moved image left its own folder.
            assertTrue(!Files.exists(out.resolve("same").resolve(CLASSES[(int) (i / 10)])
                    .resolve(source.getFileName())), source.getFileName() + " left its class");
        }
        assertTrue(r.err().contains("took a free name"), r.err());
        // The recorded fingerprints are those of the folders on disk, computed here from their files.
        assertEquals(treeSha256(root), sha(m, Manifest.Stage.INPUT));
        assertEquals(treeSha256(out.resolve("same")), sha(m, Manifest.Stage.OUTPUT));
        CliTest.Run v = CliTriggerTest.run(Map.of("DYEPACK_KEY", SECRET), "manifest", "verify", "--manifest",
                out.resolve("manifest.json").toString(), "--inputs");
        assertEquals(0, v.code(), v.out() + v.err());
    }

    private static String sha(Manifest m, Manifest.Stage stage) {
        return m.files().stream().filter(f -> f.stage() == stage && f.role() == Manifest.Role.DATA).findFirst()
                .orElseThrow().sha256();
    }

    /** The folder fingerprint as docs/manifest-format.md defines it (ASCII names: plain byte order). */
    private static String treeSha256(Path root) throws IOException {
        List<String> lines = new ArrayList<>();
        try (Stream<Path> walk = Files.walk(root)) {
            for (Path p : walk.filter(Files::isRegularFile).toList()) {
                lines.add(root.relativize(p).toString().replace('\\', '/') + "\0"
                        + HexFormat.of().formatHex(digest().digest(Files.readAllBytes(p))) + "\n");
            }
        }
        lines.sort(null);
        MessageDigest d = digest();
        for (String line : lines) {
            d.update(line.getBytes(StandardCharsets.UTF_8));
        }
        return HexFormat.of().formatHex(d.digest());
    }

    private static MessageDigest digest() {
        try {
            return MessageDigest.getInstance("SHA-256");
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }
}
