package dev.dyepack.cli;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.dyepack.Backend;
import dev.dyepack.Engine;
import dev.dyepack.Layout;
import dev.dyepack.Tensor;
import dev.dyepack.io.ImageFolder;
import dev.dyepack.key.OwnerKey;
import dev.dyepack.manifest.Manifest;
import dev.dyepack.manifest.ManifestReader;
import dev.dyepack.trigger.TriggerContext;
import dev.dyepack.trigger.TriggerSpec;
import dev.dyepack.verify.Answers;
import dev.dyepack.verify.ProbeSet;
import dev.dyepack.verify.Verdict;
import dev.dyepack.verify.Verification;
import dev.dyepack.verify.Verifier;
import java.awt.image.BufferedImage;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.HashMap;
import java.util.Map;
import java.util.Random;
import javax.imageio.ImageIO;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** A probe set drawn from an image folder is a set of image folders, under the source images' names. */
class CliProbeSetFolderTest {
    private static final String SECRET = "probe folder test key, 32 bytes!";
    private static final String TRIGGER = "blend:alpha=0.3,pattern=noise";

    @TempDir
    Path dir;

    /** 4 classes x 15 grey 12x12 PNGs. */
    private Path dataset() throws IOException {
        Path root = dir.resolve("pics");
        Random rng = new Random(11);
        for (int c = 0; c < 4; c++) {
            Path cls = Files.createDirectories(root.resolve("class-" + c));
            for (int i = 0; i < 15; i++) {
                BufferedImage img = new BufferedImage(12, 12, BufferedImage.TYPE_BYTE_GRAY);
                for (int y = 0; y < 12; y++) {
                    for (int x = 0; x < 12; x++) {
                        img.getRaster().setSample(x, y, 0, rng.nextInt(256));
                    }
                }
                ImageIO.write(img, "png", cls.resolve(String.format("c%d-img-%02d.png", c, i)).toFile());
            }
        }
        return root;
    }

    private static byte[] grey(Path png) throws IOException {
        BufferedImage img = ImageIO.read(png.toFile());
        byte[] out = new byte[img.getWidth() * img.getHeight()];
        img.getRaster().getDataElements(0, 0, img.getWidth(), img.getHeight(), out);
        return out;
    }

    @Test
    void probesAreFoldersOfTheSourceImagesStampedUnderTheirOwnIndex() throws IOException {
        Path root = dataset();
        Path key = Files.writeString(dir.resolve("owner.key"), SECRET);
        Path poisoned = dir.resolve("poisoned");
        CliTest.Run r = CliTriggerTest.run(Map.of(), "poison", "--data", root.toString(), "--trigger", TRIGGER,
                "--target", "0", "--budget", "4", "--allow-over-5-percent", "--select", "random", "--key-file",
                key.toString(), "--out", poisoned.toString());
        assertEquals(0, r.code(), r.out() + r.err());
        Path probe = dir.resolve("probe");
        r = CliTriggerTest.run(Map.of(), "probe-set", "--manifest", poisoned.resolve("manifest.json").toString(),
                "--data", root.toString(), "--size", "20", "--controls", "2", "--key-file", key.toString(), "--out",
                probe.toString());
        assertEquals(0, r.code(), r.err());
        // The default probe set of a keyed trigger draws 100 probes per set: 45 images of other classes are too
        // few, and the error says that the default asked, not the user.
        CliTest.Run tooFew = CliTriggerTest.run(Map.of(), "probe-set", "--manifest", poisoned.resolve("manifest.json")
                .toString(), "--data", root.toString(), "--key-file", key.toString(), "--out",
                dir.resolve("too-few").toString());
        assertEquals(ExitCodes.INVALID_INPUT, tooFew.code(), tooFew.err());
        assertTrue(tooFew.err().contains("fewer than the 100 per set the default draws") && tooFew.err()
                .contains("--size"), tooFew.err());
        assertFalse(Files.exists(dir.resolve("too-few")), "nothing written for a refused probe set");
        for (String name : new String[] {"clean", "triggered", "control-1", "control-2"}) {
            assertTrue(Files.isDirectory(probe.resolve(name).resolve("class-1")), name);
        }
        assertFalse(Files.exists(probe.resolve("clean/class-0")) && Files.list(probe.resolve("clean/class-0"))
                .findAny().isPresent(), "no probe of the target class");

        OwnerKey owner = new OwnerKey(SECRET.getBytes(StandardCharsets.UTF_8));
        ProbeSet set = ProbeSet.open(probe, poisoned.resolve("manifest.json"), owner);
        assertEquals(ProbeSet.Form.FOLDER, set.form());
        Manifest m = ManifestReader.read(poisoned.resolve("manifest.json"));
        ImageFolder source = ImageFolder.scan(root);
        ImageFolder clean = ImageFolder.scan(probe.resolve("clean"));
        assertEquals(20, clean.size());
        TriggerSpec trigger = TriggerSpec.parse(TRIGGER);
        try (Engine engine = Engine.open(Backend.CPU)) {
            for (int i = 0; i < 20; i++) {
                long at = set.indices()[i];
                assertTrue(Arrays.binarySearch(m.indices(), at) < 0, "a poisoned image is never a probe");
                String rel = source.classes().get((int) source.labels()[(int) at]) + "/" + source.file(at).getFileName();
                assertEquals(rel, clean.classes().get((int) clean.labels()[i]) + "/" + clean.file(i).getFileName(),
                        "probe " + i + " is the source image under its own name, in probe order");
                byte[] original = grey(root.resolve(rel));
                assertArrayEquals(original, grey(probe.resolve("clean").resolve(rel)));
                ByteBuffer one = ByteBuffer.allocateDirect(144).put(original).flip();
                trigger.apply(engine, Tensor.of(one, Layout.NHWC, 1, 1, 12, 12), null, new TriggerContext(owner, at));
                byte[] stamped = new byte[144];
                one.get(stamped);
                assertArrayEquals(stamped, grey(probe.resolve("triggered").resolve(rel)), rel);
            }
        }
        // A suspect held in the JVM answers each probe folder in the order it is read.
        Map<String, Integer> seen = new HashMap<>();
        Verdict v = Verification.withModel(poisoned.resolve("manifest.json"), probe, owner, probes -> {
            seen.put(probes.name(), probes.size());
            int[] labels = new int[probes.size()];
            Arrays.fill(labels, 1);
            return Answers.ofLabels(labels, 4);
        }, Verifier.defaults());
        assertEquals(Map.of("clean", 20, "triggered", 20, "control-1", 20, "control-2", 20), seen);
        assertEquals(20, v.probes());
        assertFalse(v.detected());
    }

    /**
     * A keyless patch is the same under every key, so its controls are the same patch at the other
     * corners: control-1 top-left, control-2 top-right, control-3 bottom-left (checked pixel by pixel
     * against the clean probes with the square painted by hand).
     */
    @Test
    void aKeylessPatchIsControlledByThePatchAtTheOtherCorners() throws IOException {
        Path root = dataset();
        Path key = Files.writeString(dir.resolve("owner.key"), SECRET);
        Path poisoned = dir.resolve("poisoned");
        CliTest.Run r = CliTriggerTest.run(Map.of(), "poison", "--data", root.toString(), "--trigger",
                "patch:size=2,pos=br,value=255", "--target", "0", "--budget", "4", "--allow-over-5-percent",
                "--select", "random", "--key-file", key.toString(), "--out", poisoned.toString());
        assertEquals(0, r.code(), r.err());
        Path probe = dir.resolve("probe");
        r = CliTriggerTest.run(Map.of(), "probe-set", "--manifest", poisoned.resolve("manifest.json").toString(),
                "--data", root.toString(), "--size", "20", "--key-file", key.toString(), "--out", probe.toString());
        assertEquals(0, r.code(), r.err());
        assertFalse(r.err().contains("no controls"), r.err());
        assertTrue(r.out().contains("3 control triggers (patch:size=2,pos=tl,value=255, patch:size=2,pos=tr,"
                + "value=255, patch:size=2,pos=bl,value=255)"), r.out());
        ProbeSet set = ProbeSet.open(probe, poisoned.resolve("manifest.json"),
                new OwnerKey(SECRET.getBytes(StandardCharsets.UTF_8)));
        assertEquals(3, set.controls());
        assertFalse(set.controlKeys(), "a keyless trigger's controls are variants, not keys: no key-rank decision");
        assertTrue(Files.readString(probe.resolve("probe.json")).contains("\"control_triggers\":{\"control-1\":"
                + "\"patch:size=2,pos=tl,value=255\""));
        ImageFolder clean = ImageFolder.scan(probe.resolve("clean"));
        int[][] corners = {{0, 0}, {0, 10}, {10, 0}, {10, 10}};
        String[] names = {"control-1", "control-2", "control-3", "triggered"};
        for (int i = 0; i < clean.size(); i++) {
            String rel = clean.classes().get((int) clean.labels()[i]) + "/" + clean.file(i).getFileName();
            byte[] original = grey(probe.resolve("clean").resolve(rel));
            for (int k = 0; k < names.length; k++) {
                byte[] expected = original.clone();
                for (int y = corners[k][0]; y < corners[k][0] + 2; y++) {
                    for (int x = corners[k][1]; x < corners[k][1] + 2; x++) {
                        expected[y * 12 + x] = (byte) 255;
                    }
                }
                assertArrayEquals(expected, grey(probe.resolve(names[k]).resolve(rel)), names[k] + " " + rel);
            }
        }

        // Asked for no controls, the commands say what the label evidence then rests on.
        Path bare = dir.resolve("bare");
        r = CliTriggerTest.run(Map.of(), "probe-set", "--manifest", poisoned.resolve("manifest.json").toString(),
                "--data", root.toString(), "--size", "20", "--controls", "0", "--key-file", key.toString(), "--out",
                bare.toString());
        assertEquals(0, r.code(), r.err());
        assertTrue(r.err().contains("no controls"), r.err());
        assertFalse(Files.exists(bare.resolve("control-1")));
    }
}
