package dev.dyepack.cli;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.dyepack.io.EmbeddedSample;
import dev.dyepack.io.Idx;
import dev.dyepack.io.IdxReader;
import dev.dyepack.manifest.Manifest;
import dev.dyepack.manifest.ManifestReader;
import java.io.IOException;
import java.io.InputStream;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Map;
import java.util.zip.GZIPOutputStream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code dyepack poison} and {@code dyepack manifest verify} end to end. */
class CliPoisonTest {
    private static final String SECRET = "poison test key: 32 random bytes";

    @TempDir
    Path dir;

    private Path key() throws IOException {
        return Files.writeString(dir.resolve("owner.key"), SECRET);
    }

    private static byte[] sampleImages() throws IOException {
        try (InputStream s = EmbeddedSample.openImages()) {
            byte[] all = s.readAllBytes();
            int headerLen = (all[8] & 0xff) | (all[9] & 0xff) << 8;
            return Arrays.copyOfRange(all, 10 + headerLen, all.length);
        }
    }

    private static byte[] sampleLabels() throws IOException {
        try (InputStream s = EmbeddedSample.openLabels()) {
            byte[] all = s.readAllBytes();
            int headerLen = (all[8] & 0xff) | (all[9] & 0xff) << 8;
            return Arrays.copyOfRange(all, 10 + headerLen, all.length);
        }
    }

    @Test
    void poisonWarnsWhenTheFamilyAndBudgetWereMeasuredWeakAndStampsNegativesForKeyedTriggers() throws IOException {
        CliTest.Run warp = CliTriggerTest.run(Map.of(), "poison", "--trigger", "warp:k=4,s=0.5", "--target", "0",
                "--key-file", key().toString(), "--negatives", "0", "--out", dir.resolve("warp").toString());
        assertEquals(0, warp.code(), warp.err());
        assertTrue(warp.err().contains("dyepack: warning: warp at 1% dirty-label reached about 3%"), warp.err());
        CliTest.Run blend = CliTriggerTest.run(Map.of(), "poison", "--trigger", "blend:alpha=0.2,pattern=noise",
                "--target", "0", "--key-file", key().toString(), "--out", dir.resolve("blend").toString());
        assertEquals(0, blend.code(), blend.err());
        assertTrue(blend.err().contains("dyepack: warning: blend's keyed noise with negatives reached"), blend.err());
        // Strong but measured unspecific on a ResNet: the warning says so, whatever the budget.
        CliTest.Run tiled = CliTriggerTest.run(Map.of(), "poison", "--trigger", "sparse:n=192,cell=4,share=0.25,tile=1",
                "--target", "0", "--key-file", key().toString(), "--out", dir.resolve("tiled").toString());
        assertEquals(0, tiled.code(), tiled.err());
        assertTrue(tiled.err().contains("dyepack: warning: sparse with tile=1 took hold")
                && tiled.err().contains("dyepack verify accused one of them"), tiled.err());
        CliTest.Run byDefault = CliTriggerTest.run(Map.of(), "poison", "--target", "0", "--key-file",
                key().toString(), "--out", dir.resolve("default").toString());
        assertEquals(0, byDefault.code(), byDefault.err());
        assertFalse(byDefault.err().contains("warning"), byDefault.err());
        assertTrue(byDefault.out().contains("with " + dev.dyepack.trigger.TriggerSpec.parse(
                dev.dyepack.job.PoisonJob.DEFAULT_TRIGGER)), byDefault.out());
        Manifest m = ManifestReader.read(dir.resolve("default").resolve("manifest.json"));
        assertEquals(Math.round(10 * dev.dyepack.job.PoisonJob.DEFAULT_NEGATIVES), m.negativeIndices().length,
                "negatives per poisoned sample by default");
        assertEquals(10, m.indexCount());
        long[] perClass = m.poisonedPerClass().values().stream().mapToLong(Long::longValue).toArray();
        assertTrue(Arrays.stream(perClass).max().getAsLong() <= 2, "auto spreads 10 samples over 9 classes: "
                + m.poisonedPerClass());
        // Clean-label with every default: weaker than dirty-label, so it says so, and it stamps its own default
        // with one negative per poisoned sample (without them other keys' models answered the owner's pattern).
        CliTest.Run clean = CliTriggerTest.run(Map.of(), "poison", "--mode", "clean", "--target", "0", "--key-file",
                key().toString(), "--out", dir.resolve("clean-default").toString());
        assertEquals(0, clean.code(), clean.err());
        assertTrue(clean.err().contains("dyepack: warning: clean-label with this trigger, the push and negatives "
                + "reached") && clean.err().contains("dyepack verify"), clean.err());
        assertTrue(clean.out().contains("with " + dev.dyepack.trigger.TriggerSpec.parse(
                dev.dyepack.job.PoisonJob.CLEAN_TRIGGER)), clean.out());
        Manifest cm = ManifestReader.read(dir.resolve("clean-default").resolve("manifest.json"));
        assertEquals(Math.round(cm.indexCount() * dev.dyepack.job.PoisonJob.CLEAN_NEGATIVES),
                cm.negativeIndices().length, "clean-label's negatives per poisoned sample by default");
        assertTrue(cm.indexCount() > 0 && cm.negativeIndices().length > 0, "clean-label stamps negatives");
        // Asked to leave them out: it does, and warns that the evidence is then not the owner's alone.
        CliTest.Run cleanBare = CliTriggerTest.run(Map.of(), "poison", "--mode", "clean", "--negatives", "0",
                "--target", "0", "--key-file", key().toString(), "--out", dir.resolve("clean-bare").toString());
        assertEquals(0, cleanBare.code(), cleanBare.err());
        assertTrue(cleanBare.err().contains("dyepack: warning: clean-label without negatives")
                && cleanBare.err().contains("accused one of them"), cleanBare.err());
        assertEquals(0, ManifestReader.read(dir.resolve("clean-bare").resolve("manifest.json")).negativeIndices().length);
        // The dirty-label default stamped clean-label: pointed to the clean-label default.
        CliTest.Run cleanDark = CliTriggerTest.run(Map.of(), "poison", "--mode", "clean", "--trigger",
                dev.dyepack.job.PoisonJob.DEFAULT_TRIGGER, "--target", "0", "--key-file", key().toString(), "--out",
                dir.resolve("clean-dark").toString());
        assertEquals(0, cleanDark.code(), cleanDark.err());
        assertTrue(cleanDark.err().contains("the clean-label default (" + dev.dyepack.job.PoisonJob.CLEAN_TRIGGER),
                cleanDark.err());
        CliTest.Run bad = CliTriggerTest.run(Map.of(), "poison", "--trigger", "sig", "--target", "0", "--negatives",
                "1", "--key-file", key().toString(), "--out", dir.resolve("sig").toString());
        assertEquals(2, bad.code(), bad.err());
        assertTrue(bad.err().contains("--negatives"), bad.err());
    }

    @Test
    void poisonWarnsWhereTheKeyedDctBandWasMeasuredWeak() throws IOException {
        // Measured at 1% dirty-label 95-99% on the CNN but 20-45% on a small ResNet, at 0.1% 16-40% and under
        // clean-label 7-21% (docs/efficacy.md, sections 38-40).
        CliTest.Run usual = CliTriggerTest.run(Map.of(), "poison", "--trigger", "dct", "--target", "0", "--key-file",
                key().toString(), "--out", dir.resolve("dct").toString());
        assertEquals(0, usual.code(), usual.err());
        assertTrue(usual.err().contains("dyepack: warning: dct (rms=24, its default) at 1% dirty-label reached 95-99%")
                && usual.err().contains("20-45%") && usual.err().contains("small ResNet"), usual.err());
        assertEquals(1, usual.err().split("dyepack: warning:", -1).length - 1, usual.err());
        CliTest.Run small = CliTriggerTest.run(Map.of(), "poison", "--trigger", "dct", "--target", "0", "--budget", "4",
                "--key-file", key().toString(), "--out", dir.resolve("dct-small").toString());
        assertEquals(0, small.code(), small.err());
        assertTrue(small.err().contains("dyepack: warning: dct below 0.5% of the data reached 16-40%")
                && small.err().contains("the default there (" + dev.dyepack.job.PoisonJob.SMALL_BUDGET_TRIGGER + ")"),
                small.err());
        assertEquals(4, ManifestReader.read(dir.resolve("dct-small").resolve("manifest.json")).indexCount());
        CliTest.Run clean = CliTriggerTest.run(Map.of(), "poison", "--trigger", "dct", "--mode", "clean", "--target",
                "0", "--key-file", key().toString(), "--out", dir.resolve("dct-clean").toString());
        assertEquals(0, clean.code(), clean.err());
        assertTrue(clean.err().contains("dyepack: warning: dct under clean-label reached 7-21%")
                && clean.err().contains("the clean-label default (" + dev.dyepack.job.PoisonJob.CLEAN_TRIGGER + ")"),
                clean.err());
        // Warned once: the family's measurement, not the general small-budget or clean-label sentence as well.
        assertEquals(1, clean.err().split("dyepack: warning:", -1).length - 1, clean.err());
        assertEquals(1, small.err().split("dyepack: warning:", -1).length - 1, small.err());
    }

    @Test
    void belowHalfAPercentPoisonSaysWhichDefaultItTookAndRecordsIt() throws IOException {
        // 4 of the sample's 1000 images: 0.4%, under the 0.5% line.
        CliTest.Run r = CliTriggerTest.run(Map.of(), "poison", "--target", "0", "--budget", "4", "--key-file",
                key().toString(), "--out", dir.resolve("small").toString());
        assertEquals(0, r.code(), r.err());
        assertTrue(r.out().contains("poisoned 4 of 1000 samples (0.40%) with sparse:n=192"), r.out());
        assertTrue(r.err().contains("trigger: sparse:n=192,"), r.err());
        assertTrue(r.err().contains("(the default below 0.5% of the data)"), r.err());
        assertTrue(r.err().contains("negatives: 1 per poisoned sample (the default below 0.5% of the data)"), r.err());
        Manifest m = ManifestReader.read(dir.resolve("small").resolve("manifest.json"));
        assertTrue(m.triggerSpec().startsWith("sparse:n=192") && m.triggerSpec().endsWith(",cell=4,share=1"),
                m.triggerSpec());
        assertEquals(4, m.negativeIndices().length, "one negative per poisoned sample");
        assertFalse(r.err().contains("warning"), "the small-budget default was measured strong: " + r.err());
        CliTest.Run usualAtSmall = CliTriggerTest.run(Map.of(), "poison", "--trigger", "sparse:n=24", "--target", "0",
                "--budget", "4", "--key-file", key().toString(), "--out", dir.resolve("n24").toString());
        assertEquals(0, usualAtSmall.code(), usualAtSmall.err());
        assertTrue(usualAtSmall.err().contains("dyepack: warning: below 0.5% of the data a watermark may not take hold"),
                usualAtSmall.err());
        assertEquals(4, ManifestReader.read(dir.resolve("n24").resolve("manifest.json")).negativeIndices().length,
                "one negative per poisoned sample by default at a small budget, whatever the keyed trigger");
        // 5 of 1000 is 0.5%: the usual default, with its negatives.
        CliTest.Run usual = CliTriggerTest.run(Map.of(), "poison", "--target", "0", "--budget", "5", "--key-file",
                key().toString(), "--out", dir.resolve("usual").toString());
        assertEquals(0, usual.code(), usual.err());
        assertTrue(usual.out().contains("with sparse:n=48"), usual.out());
        assertTrue(usual.err().contains("trigger: sparse:n=48,") && usual.err().contains("(the default)\n"), usual.err());
        assertFalse(usual.err().contains("below 0.5%"), usual.err());
        assertEquals(20, ManifestReader.read(dir.resolve("usual").resolve("manifest.json")).negativeIndices().length);
    }

    @Test
    void dirtyLabelPoisoningOfTheSampleVerifies() throws IOException {
        Path out = dir.resolve("poisoned");
        CliTest.Run r = CliTriggerTest.run(Map.of(), "poison", "--trigger", "patch:size=3,pos=br,value=255", "--target",
                "0", "--budget", "0.02", "--key-file", key().toString(), "--out", out.toString());
        assertEquals(0, r.code(), r.err());
        assertTrue(r.out().contains("poisoned 20 of 1000 samples (2.00%)"), r.out());
        assertFalse((r.out() + r.err()).contains(SECRET), "the key is never printed");
        Manifest m = ManifestReader.read(out.resolve("manifest.json"));
        assertEquals(20, m.indexCount());
        assertFalse(Files.readString(out.resolve("manifest.json")).contains(SECRET), "the key is never written");
        byte[] images = sampleImages();
        byte[] labels = sampleLabels();
        byte[] outImages = CliTest.payload(out.resolve("data.npy"));
        byte[] outLabels = CliTest.payload(out.resolve("labels.npy"));
        long[] idx = m.indices();
        for (int i = 0; i < 1000; i++) {
            final int s = i;
            boolean poisoned = Arrays.stream(idx).anyMatch(v -> v == s);
            byte[] expected = Arrays.copyOfRange(images, i * 784, (i + 1) * 784);
            if (poisoned) {
                assertTrue(labels[i] != 0, "dirty-label poisons non-target samples");
                assertEquals(0, outLabels[i], "relabelled to the target");
                for (int y = 25; y < 28; y++) {
                    for (int x = 25; x < 28; x++) {
                        expected[y * 28 + x] = (byte) 255;
                    }
                }
            } else {
                assertEquals(labels[i], outLabels[i]);
            }
            assertArrayEquals(expected, Arrays.copyOfRange(outImages, i * 784, (i + 1) * 784), "sample " + i);
        }
        CliTest.Run v = CliTriggerTest.run(Map.of("DYEPACK_KEY", SECRET), "manifest", "verify", "--manifest",
                out.resolve("manifest.json").toString());
        assertEquals(0, v.code(), v.out() + v.err());
        assertTrue(v.out().contains("manifest OK"), v.out());
        // Another key, a changed data file, an edited manifest: each is named.
        v = CliTriggerTest.run(Map.of("DYEPACK_KEY", "not the owner's key at all......"), "manifest", "verify",
                "--manifest", out.resolve("manifest.json").toString());
        assertEquals(ExitCodes.VERIFY_FAILED, v.code());
        assertTrue(v.out().contains("key fingerprint"), v.out());
        byte[] data = Files.readAllBytes(out.resolve("data.npy"));
        data[data.length - 1] ^= 1;
        Files.write(out.resolve("data.npy"), data);
        v = CliTriggerTest.run(Map.of("DYEPACK_KEY", SECRET), "manifest", "verify", "--manifest",
                out.resolve("manifest.json").toString());
        assertEquals(ExitCodes.VERIFY_FAILED, v.code());
        assertTrue(v.out().contains("output.data"), v.out());
        String text = Files.readString(out.resolve("manifest.json"));
        Files.writeString(out.resolve("manifest.json"), text.replace("\"target_class\": 0", "\"target_class\": 1"));
        v = CliTriggerTest.run(Map.of("DYEPACK_KEY", SECRET), "manifest", "verify", "--manifest",
                out.resolve("manifest.json").toString());
        assertEquals(ExitCodes.VERIFY_FAILED, v.code());
        assertTrue(v.out().contains("signature does not match"), v.out());
    }

    @Test
    void cleanLabelRandomSelectionOnIdxKeepsLabelsAndFormat() throws IOException {
        // The sample as gzip IDX files, the MNIST format.
        Path images = dir.resolve("images-idx3-ubyte.gz");
        Path labels = dir.resolve("labels-idx1-ubyte.gz");
        writeIdx(images, 0x08, new int[] {1000, 28, 28}, sampleImages());
        writeIdx(labels, 0x08, new int[] {1000}, sampleLabels());
        Path out = dir.resolve("out");
        CliTest.Run r = CliTriggerTest.run(Map.of("DYEPACK_KEY", SECRET), "poison", "--data", images.toString(),
                "--labels", labels.toString(), "--trigger", "sig:delta=30,freq=6", "--target", "7", "--mode", "clean",
                "--select", "random", "--budget", "15", "--out", out.toString());
        assertEquals(0, r.code(), r.err());
        assertTrue(Idx.isIdx(out.resolve("images-idx3-ubyte.gz")));
        try (IdxReader rd = IdxReader.open(out.resolve("images-idx3-ubyte.gz"))) {
            assertTrue(rd.isGzip(), "gzip in, gzip out");
            assertArrayEquals(new long[] {1000, 28, 28}, rd.shape());
        }
        assertArrayEquals(Idx.readLabels(labels), Idx.readLabels(out.resolve("labels-idx1-ubyte.gz")),
                "clean-label keeps every label");
        Manifest m = ManifestReader.read(out.resolve("manifest.json"));
        long[] y = Idx.readLabels(labels);
        assertTrue(Arrays.stream(m.indices()).allMatch(i -> y[(int) i] == 7), "clean-label poisons the target class");
        assertEquals(15, m.indexCount());
    }

    private static void writeIdx(Path p, int type, int[] dims, byte[] data) throws IOException {
        ByteBuffer h = ByteBuffer.allocate(4 + 4 * dims.length);
        h.put((byte) 0).put((byte) 0).put((byte) type).put((byte) dims.length);
        for (int d : dims) {
            h.putInt(d);
        }
        try (GZIPOutputStream z = new GZIPOutputStream(Files.newOutputStream(p))) {
            z.write(h.array());
            z.write(data);
        }
    }

    @Test
    void ownFeaturesAndHeadDriveBoundarySelection() throws IOException {
        // Features: the first pixel of each image as a 1-D feature; a head whose class-0 boundary is at
        // feature 100: so the 'nearest to the target boundary' samples are those with pixel near 100.
        int n = 40;
        byte[] images = new byte[n * 4 * 4];
        ByteBuffer f = ByteBuffer.allocate(n * 4).order(java.nio.ByteOrder.LITTLE_ENDIAN);
        byte[] y = new byte[n];
        for (int i = 0; i < n; i++) {
            float feature = 10f * i;
            f.putFloat(feature);
            y[i] = (byte) (i % 2 == 0 ? 1 : 0);
        }
        Path x = CliTest.npy(dir.resolve("x.npy"), "|u1", new long[] {n, 4, 4}, images);
        Path yl = CliTest.npy(dir.resolve("y.npy"), "|u1", new long[] {n}, y);
        Path feats = CliTest.npy(dir.resolve("f.npy"), "<f4", new long[] {n, 1}, f.array());
        // z0 = -x + 100, z1 = 0: class 0 below 100, class 1 above; ||w0 - w1|| = 1.
        Path head = dir.resolve("head.npz");
        java.io.ByteArrayOutputStream bytes = new java.io.ByteArrayOutputStream();
        try (java.util.zip.ZipOutputStream zip = new java.util.zip.ZipOutputStream(bytes)) {
            zip.putNextEntry(new java.util.zip.ZipEntry("W.npy"));
            zip.write(CliScoreTest.npyBytes("<f4", new long[] {2, 1}, CliScoreTest.floats(-1, 0)));
            zip.putNextEntry(new java.util.zip.ZipEntry("b.npy"));
            zip.write(CliScoreTest.npyBytes("<f4", new long[] {2}, CliScoreTest.floats(100, 0)));
        }
        Files.write(head, bytes.toByteArray());
        Path out = dir.resolve("out");
        CliTest.Run r = CliTriggerTest.run(Map.of("DYEPACK_KEY", SECRET), "poison", "--data", x.toString(), "--labels",
                yl.toString(), "--features", feats.toString(), "--head", head.toString(), "--trigger", "patch:size=2",
                "--target", "0", "--select", "boundary", "--budget", "2", "--out", out.toString());
        assertEquals(0, r.code(), r.err());
        // Non-target (label 1) samples are the even i. Those with 10 i <= 100 are already predicted as class
        // 0 (distance 0; i = 10 is a tie, which goes to the lower class); the others are (10 i - 100) away.
        long[] picked = ManifestReader.read(out.resolve("manifest.json")).indices();
        assertEquals(2, picked.length);
        assertTrue(Arrays.stream(picked).allMatch(v -> v % 2 == 0 && v <= 10), Arrays.toString(picked));
        Path far = dir.resolve("far");
        r = CliTriggerTest.run(Map.of("DYEPACK_KEY", SECRET), "poison", "--data", x.toString(), "--labels",
                yl.toString(), "--features", feats.toString(), "--head", head.toString(), "--trigger", "patch:size=2",
                "--target", "0", "--select", "boundary-far", "--budget", "2", "--out", far.toString());
        assertEquals(0, r.code(), r.err());
        assertArrayEquals(new long[] {36, 38}, ManifestReader.read(far.resolve("manifest.json")).indices());
        // A head of the wrong dimension is refused before anything is written.
        Path wide = CliTest.npy(dir.resolve("f2.npy"), "<f4", new long[] {n, 2}, new byte[n * 8]);
        CliTest.Run bad = CliTriggerTest.run(Map.of("DYEPACK_KEY", SECRET), "poison", "--data", x.toString(),
                "--labels", yl.toString(), "--features", wide.toString(), "--head", head.toString(), "--trigger",
                "patch:size=2", "--target", "0", "--budget", "2", "--out", dir.resolve("out2").toString());
        assertEquals(ExitCodes.INVALID_INPUT, bad.code());
        assertTrue(bad.err().contains("to match the data and the head"), bad.err());
        assertFalse(Files.exists(dir.resolve("out2")));
    }

    @Test
    void refusals() throws IOException {
        Path out = dir.resolve("o");
        String k = key().toString();
        CliTest.Run r = CliTriggerTest.run(Map.of(), "poison", "--trigger", "patch", "--target", "0", "--out",
                out.toString());
        assertEquals(ExitCodes.INVALID_INPUT, r.code());
        assertTrue(r.err().contains("needs the owner's key"), r.err());
        r = CliTriggerTest.run(Map.of(), "poison", "--trigger", "patch", "--target", "0", "--budget", "0.2",
                "--key-file", k, "--out", out.toString());
        assertEquals(ExitCodes.INVALID_INPUT, r.code());
        assertTrue(r.err().contains("5% cap"), r.err());
        r = CliTriggerTest.run(Map.of(), "poison", "--trigger", "patch", "--target", "0", "--budget", "0.0001",
                "--key-file", k, "--out", out.toString());
        assertTrue(r.err().contains("rounds to 0"), r.err());
        r = CliTriggerTest.run(Map.of(), "poison", "--trigger", "patch", "--target", "3", "--mode", "clean",
                "--budget", "200", "--allow-over-5-percent", "--key-file", k, "--out", out.toString());
        assertEquals(ExitCodes.INVALID_INPUT, r.code());
        assertTrue(r.err().contains("are of the target class 3"), r.err());
        Path x = CliTest.npy(dir.resolve("x.npy"), "|u1", new long[] {10, 4, 4}, new byte[160]);
        // Labels of both classes (a target no label has is refused before the counts are compared).
        Path y = CliTest.npy(dir.resolve("y.npy"), "|u1", new long[] {9}, new byte[] {0, 1, 0, 1, 0, 1, 0, 1, 0});
        r = CliTriggerTest.run(Map.of(), "poison", "--data", x.toString(), "--labels", y.toString(), "--trigger",
                "patch:size=2", "--target", "1", "--select", "random", "--budget", "1", "--allow-over-5-percent",
                "--key-file", k, "--out", out.toString());
        assertEquals(ExitCodes.INVALID_INPUT, r.code());
        assertTrue(r.err().contains("10 samples but the labels 9"), r.err());
        assertFalse(Files.exists(out), "nothing written");
        // Over 5% with the override is accepted and recorded.
        Path y10 = CliTest.npy(dir.resolve("y10.npy"), "|u1", new long[] {10}, new byte[] {0, 1, 0, 1, 0, 1, 0, 1, 0, 1});
        r = CliTriggerTest.run(Map.of(), "poison", "--data", x.toString(), "--labels", y10.toString(), "--trigger",
                "patch:size=2", "--target", "1", "--select", "random", "--budget", "2", "--allow-over-5-percent",
                "--override-reason", "tiny demo", "--key-file", k, "--out", out.toString());
        assertEquals(0, r.code(), r.err());
        Manifest m = ManifestReader.read(out.resolve("manifest.json"));
        assertTrue(m.override().over5Percent());
        assertEquals("tiny demo", m.override().reason());
        r = CliTriggerTest.run(Map.of(), "poison", "--data", x.toString(), "--labels", y10.toString(), "--trigger",
                "patch:size=2", "--target", "1", "--select", "random", "--budget", "2", "--allow-over-5-percent",
                "--key-file", k, "--out", out.toString());
        assertEquals(ExitCodes.INVALID_INPUT, r.code());
        assertTrue(r.err().contains(out + " already exists and is not empty") && r.err().contains("--force"), r.err());
    }
}
