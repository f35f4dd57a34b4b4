package dev.dyepack.cli;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import dev.dyepack.BoundaryScores;
import dev.dyepack.Engine;
import dev.dyepack.Backend;
import dev.dyepack.Layout;
import dev.dyepack.Tensor;
import dev.dyepack.io.NpyWriter;
import dev.dyepack.io.Samples;
import dev.dyepack.key.OwnerKey;
import dev.dyepack.surrogate.LinearHead;
import dev.dyepack.surrogate.LinearSurrogate;
import dev.dyepack.trigger.TriggerContext;
import dev.dyepack.trigger.TriggerSpec;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.FloatBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * From {@code poison} to {@code probe-set} to a suspect's answers to {@code verify}, on Fashion-MNIST
 * (Debian's dataset-fashion-mnist) with suspects that are really trained: softmax regression fitted
 * on the poisoned training set (a watermarked model), on the clean set (an honest one), and on a set
 * poisoned under another key.
 */
class CliVerifyTest {
    private static final Path FMNIST = Path.of("/usr/share/datasets/fashion-mnist");
    private static final Path TRAIN = FMNIST.resolve("train-images-idx3-ubyte.gz");
    private static final Path TRAIN_LABELS = FMNIST.resolve("train-labels-idx1-ubyte.gz");
    private static final Path TEST = FMNIST.resolve("t10k-images-idx3-ubyte.gz");
    private static final Path TEST_LABELS = FMNIST.resolve("t10k-labels-idx1-ubyte.gz");
    private static final String TRIGGER = "blend:alpha=0.2,pattern=noise";

    @TempDir
    static Path dir;

    static Path ownerKey;
    static Path otherKey;
    static Path poisoned;
    static Path otherPoisoned;
    static Path probe;

    @BeforeAll
    static void plantTheWatermark() throws IOException {
        assumeTrue(Files.isReadable(TRAIN) && Files.isReadable(TEST), "Debian's dataset-fashion-mnist is not installed");
        ownerKey = Files.writeString(dir.resolve("owner.key"), "verification test owner key, 32 b");
        otherKey = Files.writeString(dir.resolve("other.key"), "another owner's key: not the same");
        poisoned = dir.resolve("poisoned");
        otherPoisoned = dir.resolve("other");
        for (Object[] p : new Object[][] {{ownerKey, poisoned}, {otherKey, otherPoisoned}}) {
            CliTest.Run r = CliTriggerTest.run(Map.of(), "poison", "--data", TRAIN.toString(), "--labels",
                    TRAIN_LABELS.toString(), "--trigger", TRIGGER, "--target", "0", "--select", "random",
                    "--key-file", p[0].toString(), "--out", p[1].toString());
            assertEquals(0, r.code(), r.err());
        }
        probe = dir.resolve("probe");
        CliTest.Run r = CliTriggerTest.run(Map.of(), "probe-set", "--manifest", poisoned.resolve("manifest.json")
                .toString(), "--data", TEST.toString(), "--labels", TEST_LABELS.toString(), "--controls", "3",
                "--key-file", ownerKey.toString(), "--out", probe.toString());
        assertEquals(0, r.code(), r.err());
        // Three controls are too few for the key-rank test: the label test decides, on 1,000 probes by default.
        assertTrue(r.out().startsWith("probe set: 1000 probes of classes other than 0, 3 control keys (5,000 queries; "
                + "the label test decides)"), r.out());
    }

    /** Softmax regression trained by the engine on an IDX image set; pixels scaled to [0, 1]. */
    private static LinearHead train(Engine engine, Path images, Path labels, Path keyFile) {
        float[] x = pixels(images);
        long[] y = Samples.labels(labels);
        return LinearSurrogate.fit(engine, x, y.length, 784, y, 10, OwnerKey.fromFile(keyFile),
                LinearSurrogate.Settings.DEFAULT);
    }

    private static float[] pixels(Path file) {
        try (Samples.Reader r = Samples.open(file)) {
            int n = Math.toIntExact(r.shape()[0]);
            ByteBuffer b = ByteBuffer.allocate(Math.toIntExact(n * r.sampleBytes()));
            r.readSamples(0, n, b);
            float[] x = new float[b.capacity()];
            for (int i = 0; i < x.length; i++) {
                x[i] = (b.get(i) & 0xff) / 255f;
            }
            return x;
        }
    }

    /** The three suspects: watermarked, clean, and watermarked under another key; trained once for every test. */
    private record Suspects(LinearHead marked, LinearHead clean, LinearHead other) {}

    private static Suspects suspects;

    private static synchronized Suspects suspects(Engine engine) {
        if (suspects == null) {
            suspects = new Suspects(train(engine, poisoned.resolve(TRAIN.getFileName()), poisoned.resolve(
                    TRAIN_LABELS.getFileName()), ownerKey), train(engine, TRAIN, TRAIN_LABELS, otherKey),
                    train(engine, otherPoisoned.resolve(TRAIN.getFileName()), otherPoisoned.resolve(
                            TRAIN_LABELS.getFileName()), otherKey));
        }
        return suspects;
    }

    /** The model's predicted labels on a probe file, saved as an (N,) int64 .npy. */
    private static void labels(Engine engine, LinearHead head, Path probeFile, Path out) throws IOException {
        float[] x = pixels(probeFile);
        int n = x.length / 784;
        FloatBuffer fb = ByteBuffer.allocateDirect(x.length * 4).order(ByteOrder.nativeOrder()).asFloatBuffer();
        fb.put(x).flip();
        BoundaryScores s = engine.scoreBoundary(Tensor.rows(fb, n, 784), head.weight(), head.bias(), 0);
        ByteBuffer lab = ByteBuffer.allocate(n * 8).order(ByteOrder.LITTLE_ENDIAN);
        for (int i = 0; i < n; i++) {
            lab.putLong(s.predicted()[i]);
        }
        write(out, "<i8", new long[] {n}, lab.flip());
    }

    /** The model's answers on every probe file: labels, or softmax probabilities computed from its logits. */
    private static Path answer(Engine engine, LinearHead head, String name, boolean probabilities) throws IOException {
        Path out = dir.resolve(name + (probabilities ? "-probs" : "-labels"));
        Files.createDirectories(out);
        for (String set : List.of("clean", "triggered", "control-1", "control-2", "control-3")) {
            String file = set + ".npy";
            if (!probabilities) {
                labels(engine, head, probeFile(set), out.resolve(file));
            } else {
                float[] x = pixels(probeFile(set));
                int n = x.length / 784;
                ByteBuffer p = ByteBuffer.allocate(n * 10 * 4).order(ByteOrder.LITTLE_ENDIAN);
                for (int i = 0; i < n; i++) {
                    double[] z = new double[10];
                    double max = Double.NEGATIVE_INFINITY;
                    for (int c = 0; c < 10; c++) {
                        z[c] = head.bias()[c];
                        for (int d = 0; d < 784; d++) {
                            z[c] += (double) head.weight()[c * 784 + d] * x[i * 784 + d];
                        }
                        max = Math.max(max, z[c]);
                    }
                    double sum = 0;
                    for (int c = 0; c < 10; c++) {
                        z[c] = Math.exp(z[c] - max);
                        sum += z[c];
                    }
                    for (int c = 0; c < 10; c++) {
                        p.putFloat((float) (z[c] / sum));
                    }
                }
                write(out.resolve(file), "<f4", new long[] {n, 10}, p.flip());
            }
        }
        return out;
    }

    /** IDX data in gives IDX probe files out, gzip as the source. */
    private static Path probeFile(String name) {
        return probe.resolve(name + "-images-idx3-ubyte.gz");
    }

    private static void write(Path file, String descr, long[] shape, ByteBuffer bytes) throws IOException {
        try (NpyWriter w = NpyWriter.create(file, descr, shape)) {
            w.write(bytes);
            w.commit();
        }
    }

    private static double verify(Path predictions, String expectDecision) {
        CliTest.Run r = CliTriggerTest.run(Map.of(), "verify", "--manifest", poisoned.resolve("manifest.json").toString(),
                "--probe", probe.toString(), "--predictions", predictions.toString(), "--json", "--key-file",
                ownerKey.toString());
        assertEquals(0, r.code(), r.err());
        assertTrue(r.out().contains("\"decision\":\"" + expectDecision + "\""), r.out());
        Matcher m = Pattern.compile("\"p_value\":([0-9.eE+-]+)").matcher(r.out());
        assertTrue(m.find(), r.out());
        return Double.parseDouble(m.group(1));
    }

    @Test
    void aModelTrainedOnTheWatermarkedDataIsDetectedAndHonestModelsAreNot() throws IOException {
        try (Engine engine = Engine.open(Backend.CPU)) {
            LinearHead marked = suspects(engine).marked();
            LinearHead clean = suspects(engine).clean();
            LinearHead other = suspects(engine).other();
            for (boolean probs : new boolean[] {false, true}) {
                double p = verify(answer(engine, marked, "marked", probs), "detected");
                assertTrue(p < 1e-6, "watermarked model: p = " + p + (probs ? " (probabilities)" : " (labels)"));
                double q = verify(answer(engine, clean, "clean", probs), "not_detected");
                assertTrue(q >= 0.01, "clean model: p = " + q);
                double o = verify(answer(engine, other, "other", probs), "not_detected");
                assertTrue(o >= 0.01, "model watermarked under another key: p = " + o);
                // Recorded for docs/verification.md (surefire keeps it in the test's output file).
                System.out.printf("verify %s: watermarked p=%.3g, clean p=%.3g, other key p=%.3g%n",
                        probs ? "probabilities" : "labels", p, q, o);
            }
        }
    }

    @Test
    void byDefaultTheKeyRankTestDecidesOnRealModels() throws IOException {
        // The default probe set of a keyed trigger: 199 control keys of 100 probes each, enough for the exact
        // key-rank test at alpha 0.01 (100), which then decides. The watermarked model must answer its owner's
        // trigger more often than every control key's; the clean model and the one watermarked under another key
        // must not be accused.
        Path rankProbe = dir.resolve("probe-rank");
        CliTest.Run made = CliTriggerTest.run(Map.of(), "probe-set", "--manifest", poisoned.resolve("manifest.json")
                .toString(), "--data", TEST.toString(), "--labels", TEST_LABELS.toString(), "--key-file",
                ownerKey.toString(), "--out", rankProbe.toString());
        assertEquals(0, made.code(), made.err());
        assertTrue(made.out().startsWith("probe set: 100 probes of classes other than 0, 199 control keys (20,100 "
                + "queries; the key-rank test decides)") && made.out().contains(", ..., control-199"), made.out());
        assertEquals(100, Samples.labels(rankProbe.resolve("labels.npy")).length);
        try (Engine engine = Engine.open(Backend.CPU)) {
            Suspects m = suspects(engine);
            Object[][] suspects = {{"marked", m.marked(), "watermark detected"},
                {"clean", m.clean(), "watermark not detected"}, {"other", m.other(), "watermark not detected"}};
            for (Object[] s : suspects) {
                Path answers = Files.createDirectories(dir.resolve("rank-" + s[0]));
                try (var files = Files.list(rankProbe)) {
                    for (Path f : files.filter(f -> f.getFileName().toString().endsWith("-images-idx3-ubyte.gz"))
                            .toList()) {
                        labels(engine, (LinearHead) s[1], f, answers.resolve(f.getFileName().toString()
                                .replace("-images-idx3-ubyte.gz", "") + ".npy"));
                    }
                }
                CliTest.Run r = CliTriggerTest.run(Map.of(), "verify", "--manifest", poisoned.resolve("manifest.json")
                        .toString(), "--probe", rankProbe.toString(), "--predictions", answers.toString(), "--key-file",
                        ownerKey.toString());
                assertEquals(0, r.code(), r.err());
                assertTrue(r.out().startsWith((String) s[2]), s[0] + ": " + r.out());
                assertTrue(r.out().contains("199 controls: target rate median") && r.out().contains("(decides, in "
                        + "place of the label and probability tests)"), r.out());
                if (s[0].equals("marked")) {
                    assertTrue(r.out().contains("key-rank test: 0 of 199 controls answered at least as often as the "
                            + "owner's trigger, p = 0.005"), r.out());
                }
                System.out.printf("verify with 199 control keys, %s: %s%n", s[0], r.out().lines().filter(l -> l
                        .contains("key-rank")).findFirst().orElse(""));
            }
        }
        CliTest.Run tooMany = CliTriggerTest.run(Map.of(), "probe-set", "--manifest", poisoned.resolve("manifest.json")
                .toString(), "--data", TEST.toString(), "--labels", TEST_LABELS.toString(), "--size", "10",
                "--controls", "1001", "--key-file", ownerKey.toString(), "--out", dir.resolve("too-many").toString());
        assertEquals(ExitCodes.INVALID_INPUT, tooMany.code(), tooMany.err());
        assertTrue(tooMany.err().contains("controls") && tooMany.err().contains("1000"), tooMany.err());
        assertTrue(!Files.exists(dir.resolve("too-many")), "nothing written for a refused probe set");
    }

    /** SHA-256 in hex, computed here rather than by the code under test. */
    private static String sha256(Path file) throws Exception {
        return java.util.HexFormat.of().formatHex(java.security.MessageDigest.getInstance("SHA-256")
                .digest(Files.readAllBytes(file)));
    }

    @Test
    void reportRecordsTheVerdictAndWhereItCameFrom() throws Exception {
        // A suspect that answers the truth on clean and control probes and the target on triggered ones.
        Path answers = Files.createDirectories(dir.resolve("report-answers"));
        long[] truth = Samples.labels(probe.resolve("labels.npy"));
        for (String file : List.of("clean.npy", "triggered.npy", "control-1.npy", "control-2.npy", "control-3.npy")) {
            ByteBuffer lab = ByteBuffer.allocate(truth.length * 8).order(ByteOrder.LITTLE_ENDIAN);
            for (long t : truth) {
                lab.putLong(file.equals("triggered.npy") ? 0 : t);
            }
            write(answers.resolve(file), "<i8", new long[] {truth.length}, lab.flip());
        }
        Path report = dir.resolve("report");
        Path manifest = poisoned.resolve("manifest.json");
        CliTest.Run r = CliTriggerTest.run(Map.of(), "verify", "--manifest", manifest.toString(), "--probe",
                probe.toString(), "--predictions", answers.toString(), "--json", "--report", report.toString(),
                "--key-file", ownerKey.toString());
        assertEquals(0, r.code(), r.err());
        String json = Files.readString(report.resolve("report.json"));
        assertTrue(json.contains("\"verdict\": " + r.out().strip()), "the record holds the verdict printed: " + json);
        assertTrue(json.contains("\"manifest_sha256\": \"" + sha256(manifest) + "\""), json);
        assertTrue(json.contains("\"probe_record_sha256\": \"" + sha256(probe.resolve("probe.json")) + "\""), json);
        assertTrue(json.contains("\"triggered-images-idx3-ubyte.gz\": \"" + sha256(probeFile("triggered")) + "\""), json);
        assertTrue(json.contains("\"labels.npy\": \"" + sha256(probe.resolve("labels.npy")) + "\""), json);
        assertTrue(json.contains("\"key_fingerprint\": \"" + OwnerKey.fromFile(ownerKey).fingerprint() + "\""), json);
        assertTrue(json.contains("\"tool_version\": \"" + Engine.version() + "\""), json);
        assertTrue(Files.size(report.resolve("report.html")) > 10_000 && Files.size(report.resolve("report.png")) > 10_000);
        String key = Files.readString(ownerKey);
        for (String f : List.of("report.json", "report.html")) {
            assertTrue(!Files.readString(report.resolve(f)).contains(key), f + " never holds the key");
        }
    }

    @Test
    void aSuspectAFewPointsAboveItsControlsIsNotAccusedUnderTheLabelMargin() throws Exception {
        // As a model watermarked under another key answered a CNN's owner's trigger (docs/efficacy.md, section
        // 14): the target on 16% of the triggered probes and on 7% of each control's, the truth elsewhere.
        Path answers = Files.createDirectories(dir.resolve("margin-answers"));
        long[] truth = Samples.labels(probe.resolve("labels.npy"));
        int n = truth.length;
        for (String file : List.of("clean.npy", "triggered.npy", "control-1.npy", "control-2.npy", "control-3.npy")) {
            int share = file.equals("triggered.npy") ? 16 : file.startsWith("control") ? 7 : 0;
            ByteBuffer lab = ByteBuffer.allocate(n * 8).order(ByteOrder.LITTLE_ENDIAN);
            for (int i = 0; i < n; i++) {
                lab.putLong(i % 100 < share ? 0 : truth[i]);
            }
            write(answers.resolve(file), "<i8", new long[] {n}, lab.flip());
        }
        String manifest = poisoned.resolve("manifest.json").toString();
        CliTest.Run byDefault = CliTriggerTest.run(Map.of(), "verify", "--manifest", manifest, "--probe",
                probe.toString(), "--predictions", answers.toString(), "--json", "--key-file", ownerKey.toString());
        assertEquals(0, byDefault.code(), byDefault.err());
        assertTrue(byDefault.out().contains("\"decision\":\"not_detected\"")
                && byDefault.out().contains("\"label_margin\":0.1"), byDefault.out());
        CliTest.Run none = CliTriggerTest.run(Map.of(), "verify", "--manifest", manifest, "--probe",
                probe.toString(), "--predictions", answers.toString(), "--label-margin", "0", "--key-file",
                ownerKey.toString());
        assertEquals(0, none.code(), none.err());
        assertTrue(none.out().startsWith("watermark detected") && none.out().contains("margin 0.0"), none.out());
        CliTest.Run bad = CliTriggerTest.run(Map.of(), "verify", "--manifest", manifest, "--probe",
                probe.toString(), "--predictions", answers.toString(), "--label-margin", "1.5", "--key-file",
                ownerKey.toString());
        assertEquals(ExitCodes.INVALID_INPUT, bad.code(), bad.err());
        assertTrue(bad.err().contains("--label-margin must be in [0, 1), got 1.5"), bad.err());
    }

    private static byte[] payload(Path npy) {
        try (Samples.Reader r = Samples.open(npy)) {
            int n = Math.toIntExact(r.shape()[0]);
            ByteBuffer b = ByteBuffer.allocate(Math.toIntExact(n * r.sampleBytes()));
            r.readSamples(0, n, b);
            return b.array();
        }
    }

    @Test
    void probesAreHeldOutSamplesOfOtherClassesStampedUnderTheirOwnIndex() throws IOException {
        OwnerKey key = OwnerKey.fromFile(ownerKey);
        Map<String, Object> record = dev.dyepack.manifest.SignedRecord.read(Files.readString(probe.resolve(
                "probe.json")), key, dev.dyepack.verify.ProbeSet.SIGNATURE_PURPOSE, "probe.json");
        long[] idx = (long[]) record.get("indices");
        assertEquals(1000, idx.length);
        long[] sourceLabels = Samples.labels(TEST_LABELS);
        long[] probeLabels = Samples.labels(probe.resolve("labels.npy"));
        byte[] source = payload(TEST);
        byte[] clean = payload(probeFile("clean"));
        byte[] triggered = payload(probeFile("triggered"));
        byte[] control = payload(probeFile("control-1"));
        TriggerSpec trigger = TriggerSpec.parse(TRIGGER);
        int differ = 0;
        try (Engine engine = Engine.open(Backend.CPU)) {
            for (int i = 0; i < idx.length; i++) {
                assertTrue(i == 0 || idx[i] > idx[i - 1], "indices ascend, each once");
                assertTrue(sourceLabels[(int) idx[i]] != 0, "no probe is of the target class");
                assertEquals(sourceLabels[(int) idx[i]], probeLabels[i]);
                byte[] expected = java.util.Arrays.copyOfRange(source, (int) idx[i] * 784, (int) (idx[i] + 1) * 784);
                assertArrayEquals(expected, java.util.Arrays.copyOfRange(clean, i * 784, (i + 1) * 784));
                ByteBuffer one = ByteBuffer.allocateDirect(784).put(expected).flip();
                trigger.apply(engine, Tensor.of(one, Layout.NHWC, 1, 1, 28, 28), null, new TriggerContext(key, idx[i]));
                byte[] stamped = new byte[784];
                one.get(stamped);
                assertArrayEquals(stamped, java.util.Arrays.copyOfRange(triggered, i * 784, (i + 1) * 784), "probe " + i);
                if (!java.util.Arrays.equals(stamped, java.util.Arrays.copyOfRange(control, i * 784, (i + 1) * 784))) {
                    differ++;
                }
            }
        }
        assertEquals(1000, differ, "a control key gives another pattern on every probe");
    }

    @Test
    void aProbeSetUnderTheWrongKeyOrTamperedIsRefused() throws IOException {
        CliTest.Run r = CliTriggerTest.run(Map.of(), "verify", "--manifest", poisoned.resolve("manifest.json").toString(),
                "--probe", probe.toString(), "--predictions", dir.toString(), "--key-file", otherKey.toString());
        assertEquals(ExitCodes.VERIFY_FAILED, r.code(), r.err());
        Path copy = dir.resolve("tampered");
        Files.createDirectories(copy);
        for (Path f : Files.list(probe).toList()) {
            Files.copy(f, copy.resolve(f.getFileName()));
        }
        Path file = copy.resolve(probeFile("triggered").getFileName());
        byte[] b = Files.readAllBytes(file);
        b[b.length - 1] ^= 1;
        Files.write(file, b);
        r = CliTriggerTest.run(Map.of(), "verify", "--manifest", poisoned.resolve("manifest.json").toString(),
                "--probe", copy.toString(), "--predictions", dir.toString(), "--key-file", ownerKey.toString());
        assertEquals(ExitCodes.VERIFY_FAILED, r.code(), r.err());
        assertTrue(r.err().contains("triggered-images-idx3-ubyte.gz"), r.err());
    }

    @Test
    void missingOrMisshapenAnswersAreRefusedWithoutAVerdict() throws IOException {
        Path empty = Files.createDirectories(dir.resolve("no-answers"));
        CliTest.Run r = CliTriggerTest.run(Map.of(), "verify", "--manifest", poisoned.resolve("manifest.json").toString(),
                "--probe", probe.toString(), "--predictions", empty.toString(), "--key-file", ownerKey.toString());
        assertEquals(ExitCodes.INVALID_INPUT, r.code(), r.err());
        assertTrue(r.err().contains("clean.npy"), r.err());
        ByteBuffer lab = ByteBuffer.allocate(999 * 8).order(ByteOrder.LITTLE_ENDIAN);
        write(empty.resolve("clean.npy"), "<i8", new long[] {999}, lab);
        r = CliTriggerTest.run(Map.of(), "verify", "--manifest", poisoned.resolve("manifest.json").toString(),
                "--probe", probe.toString(), "--predictions", empty.toString(), "--key-file", ownerKey.toString());
        assertEquals(ExitCodes.INVALID_INPUT, r.code(), r.err());
        assertTrue(r.err().contains("999"), r.err());
    }
}
