package dev.dyepack.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import dev.dyepack.Backend;
import dev.dyepack.Engine;
import dev.dyepack.io.Samples;
import dev.dyepack.key.OwnerKey;
import dev.dyepack.surrogate.LinearHead;
import dev.dyepack.surrogate.LinearSurrogate;
import dev.dyepack.verify.Answers;
import dev.dyepack.verify.ProbeSet;
import dev.dyepack.verify.SuspectModel;
import dev.dyepack.verify.Verdict;
import dev.dyepack.verify.Verification;
import dev.dyepack.verify.Verifier;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.SplittableRandom;
import org.apache.commons.statistics.distribution.BetaDistribution;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Detection power and false positives of {@code verify}, measured on models really trained on
 * Fashion-MNIST (Debian's dataset-fashion-mnist): softmax regression fitted by the engine and a small
 * MLP ({@link Mlp}), trained on data watermarked by {@code poison} with the README's default trigger
 * at budgets of 1% and 0.1%, on clean data, and on data watermarked under other keys. Every verdict goes
 * through the library's verification path ({@link Verification#withModel}), which checks the manifest's
 * and the probe set's signatures first.
 *
 * <p>The CI run is short (about 20 honest models, 20 random probe subsets per size). The full run that
 * docs/verification.md reports is {@code -Ddyepack.study.full=true}; it also writes the probes-needed
 * table and chart under {@code cli/target/fpstudy/} (or {@code -Ddyepack.study.out=DIR}).
 */
class FalsePositiveStudyTest {
    private static final Path FMNIST = Path.of("/usr/share/datasets/fashion-mnist");
    private static final Path TRAIN = FMNIST.resolve("train-images-idx3-ubyte.gz");
    private static final Path TRAIN_LABELS = FMNIST.resolve("train-labels-idx1-ubyte.gz");
    private static final Path TEST = FMNIST.resolve("t10k-images-idx3-ubyte.gz");
    private static final Path TEST_LABELS = FMNIST.resolve("t10k-labels-idx1-ubyte.gz");
    /** The README's default trigger. */
    private static final String TRIGGER = "blend:alpha=0.2,pattern=noise";
    private static final int TARGET = 0;
    private static final int D = 784;
    private static final int CLASSES = 10;
    private static final double ALPHA = Verifier.DEFAULT_ALPHA;
    private static final boolean FULL = Boolean.getBoolean("dyepack.study.full");
    /** Honest models of each kind (softmax, MLP) and each origin (clean data, other key). */
    private static final int HONEST_PER_GROUP = FULL ? 10 : 5;
    private static final int SUBSETS = FULL ? 200 : 20;
    private static final int[] PROBE_SIZES = {25, 50, 100, 200, 500, 1000};
    /** Honest models train on a random subset of this many images (a different one each). */
    private static final int HONEST_SUBSET = 20_000;
    private static final int MLP_HIDDEN = 64;
    /** Epochs of the honest MLPs (20,000 images each) and of the watermarked ones (all 60,000 images). */
    private static final int MLP_EPOCHS = 2;
    private static final int WATERMARKED_MLP_EPOCHS = 8;
    /**
     * A BadNets patch, the trigger the preparation found strongest at 0.1%. It is keyless, so its
     * probe set's controls are the same patch at the other corners.
     */
    private static final String PATCH = "patch:size=3,pos=br,value=255";
    /**
     * The watermarks planted: a budget, and "+patch" for the patch trigger instead of the default blend. The
     * patch at 0.1% shows what a watermark that takes hold at that budget gives the probability test.
     */
    private static final String[] BUDGETS = {"0.01", "0.001", "0.001+patch"};
    /** A smaller margin for the probability test, measured beside the default. */
    private static final double SMALL_TAU = 0.1;

    @TempDir
    static Path dir;

    static Path ownerKey;
    static Map<String, Path> poisoned = new LinkedHashMap<>();
    static Map<String, Path> probes = new LinkedHashMap<>();
    static byte[] cleanPixels;
    static int[] cleanLabels;

    @BeforeAll
    static void plantTheWatermark() throws IOException {
        assumeTrue(Files.isReadable(TRAIN) && Files.isReadable(TEST), "Debian's dataset-fashion-mnist is not installed");
        ownerKey = Files.writeString(dir.resolve("owner.key"), "false-positive study owner key, 32 bytes");
        for (String budget : BUDGETS) {
            Path out = poison(ownerKey, budget, "owner-" + budget);
            poisoned.put(budget, out);
            Path probe = dir.resolve("probe-" + budget);
            CliTest.Run r = CliTriggerTest.run(Map.of(), "probe-set", "--manifest", out.resolve("manifest.json")
                    .toString(), "--data", TEST.toString(), "--labels", TEST_LABELS.toString(), "--size", "1000",
                    "--controls", "3", "--key-file", ownerKey.toString(), "--out", probe.toString());
            assertEquals(0, r.code(), r.err());
            probes.put(budget, probe);
        }
        cleanPixels = payload(TRAIN);
        cleanLabels = labels(TRAIN_LABELS);
    }

    private static Path poison(Path key, String watermark, String name) {
        Path out = dir.resolve(name);
        String budget = watermark.split("\\+")[0];
        String trigger = watermark.endsWith("+patch") ? PATCH : TRIGGER;
        CliTest.Run r = CliTriggerTest.run(Map.of(), "poison", "--data", TRAIN.toString(), "--labels",
                TRAIN_LABELS.toString(), "--trigger", trigger, "--target", String.valueOf(TARGET), "--budget", budget,
                "--select", "random", "--key-file", key.toString(), "--out", out.toString());
        assertEquals(0, r.code(), r.err());
        return out;
    }

    static byte[] payload(Path file) {
        try (Samples.Reader r = Samples.open(file)) {
            int n = Math.toIntExact(r.shape()[0]);
            ByteBuffer b = ByteBuffer.allocate(Math.toIntExact(n * r.sampleBytes()));
            r.readSamples(0, n, b);
            return b.array();
        }
    }

    static int[] labels(Path file) {
        return Arrays.stream(Samples.labels(file)).mapToInt(Math::toIntExact).toArray();
    }

    /** A trained suspect: softmax probabilities of samples given as values in 0..255. */
    interface Classifier {
        float[] probabilities(float[] values, int n);
    }

    static Classifier softmax(Engine engine, byte[] pixels, int[] labels, int[] rows, OwnerKey orderKey) {
        float[] x = new float[rows.length * D];
        long[] y = new long[rows.length];
        for (int i = 0; i < rows.length; i++) {
            for (int d = 0; d < D; d++) {
                x[i * D + d] = (pixels[rows[i] * D + d] & 0xff) / 255f;
            }
            y[i] = labels[rows[i]];
        }
        LinearHead head = LinearSurrogate.fit(engine, x, rows.length, D, y, CLASSES, orderKey,
                LinearSurrogate.Settings.DEFAULT);
        return (values, n) -> {
            float[] out = new float[n * CLASSES];
            double[] z = new double[CLASSES];
            for (int i = 0; i < n; i++) {
                double max = Double.NEGATIVE_INFINITY;
                for (int c = 0; c < CLASSES; c++) {
                    z[c] = head.bias()[c];
                    for (int d = 0; d < D; d++) {
                        z[c] += (double) head.weight()[c * D + d] * values[i * D + d] / 255.0;
                    }
                    max = Math.max(max, z[c]);
                }
                double sum = 0;
                for (int c = 0; c < CLASSES; c++) {
                    z[c] = Math.exp(z[c] - max);
                    sum += z[c];
                }
                for (int c = 0; c < CLASSES; c++) {
                    out[i * CLASSES + c] = (float) (z[c] / sum);
                }
            }
            return out;
        };
    }

    static Classifier mlp(byte[] pixels, int[] labels, int[] rows, int epochs, long seed) {
        return Mlp.train(pixels, labels, rows, D, MLP_HIDDEN, CLASSES, epochs, seed)::probabilities;
    }

    /** A suspect's answers on every probe file, as labels (argmax) and as probabilities. */
    record Recorded(Map<String, Answers> labels, Map<String, Answers> probabilities) {}

    /** Runs the library's verification on a classifier, from labels and from probabilities. */
    static Verdict[] verify(String budget, Classifier model, Recorded record) {
        Path manifest = poisoned.get(budget).resolve("manifest.json");
        OwnerKey key = OwnerKey.fromFile(ownerKey);
        Map<String, float[]> cache = new LinkedHashMap<>();
        Verdict[] v = new Verdict[2];
        for (int k = 0; k < 2; k++) {
            boolean probs = k == 1;
            SuspectModel suspect = p -> {
                float[] pr = cache.computeIfAbsent(p.name(), name -> model.probabilities(p.values(), p.size()));
                Answers a = probs ? Answers.ofProbabilities(pr, p.size(), CLASSES)
                        : Answers.ofLabels(argmax(pr, p.size()), CLASSES);
                if (record != null) {
                    (probs ? record.probabilities() : record.labels()).put(p.name(), a);
                }
                return a;
            };
            v[k] = Verification.withModel(manifest, probes.get(budget), key, suspect, Verifier.defaults());
        }
        return v;
    }

    static int[] argmax(float[] p, int n) {
        int[] out = new int[n];
        for (int i = 0; i < n; i++) {
            int best = 0;
            for (int c = 1; c < CLASSES; c++) {
                if (p[i * CLASSES + c] > p[i * CLASSES + best]) {
                    best = c;
                }
            }
            out[i] = best;
        }
        return out;
    }

    static int[] allRows(int n) {
        int[] rows = new int[n];
        Arrays.setAll(rows, i -> i);
        return rows;
    }

    /** A random subset of the training rows, drawn from a seed (a partial Fisher-Yates shuffle). */
    static int[] subset(int n, int size, long seed) {
        int[] rows = allRows(n);
        SplittableRandom r = new SplittableRandom(seed);
        for (int i = 0; i < size; i++) {
            int j = i + r.nextInt(n - i);
            int t = rows[i];
            rows[i] = rows[j];
            rows[j] = t;
        }
        int[] out = Arrays.copyOf(rows, size);
        Arrays.sort(out);
        return out;
    }

    static String fmt(double p) {
        return String.format(Locale.ROOT, "%.3g", p);
    }

    @Test
    void modelsTrainedOnTheWatermarkedDataAreDetectedAtOnePercentAndOneTenthOfAPercent() throws IOException {
        List<String[]> table = new ArrayList<>();
        try (Engine engine = Engine.open(Backend.CPU)) {
            for (String budget : BUDGETS) {
                Path data = poisoned.get(budget);
                byte[] pixels = payload(data.resolve(TRAIN.getFileName()));
                int[] labels = labels(data.resolve(TRAIN_LABELS.getFileName()));
                int[] rows = allRows(labels.length);
                for (String kind : List.of("softmax", "mlp")) {
                    long start = System.nanoTime();
                    Classifier model = kind.equals("softmax") ? softmax(engine, pixels, labels, rows,
                            OwnerKey.fromFile(ownerKey)) : mlp(pixels, labels, rows, WATERMARKED_MLP_EPOCHS, 1);
                    Recorded rec = new Recorded(new LinkedHashMap<>(), new LinkedHashMap<>());
                    Verdict[] v = verify(budget, model, rec);
                    Verdict smallMargin = verifyAll(budget, rec.probabilities(), new Verifier(ALPHA, SMALL_TAU));
                    System.out.printf(Locale.ROOT, "watermarked %s %s: success %.3f null %.3f labels p=%s "
                            + "probabilities p=%s (mean target gain %.3f; at tau %.1f p=%s) clean accuracy %.3f "
                            + "(%.1f s)%n", kind, budget, v[0].successRate(), v[0].nullRate(), fmt(v[0].pValue()),
                            fmt(v[1].pValue()), v[1].meanGain(), SMALL_TAU, fmt(smallMargin.pValue()),
                            v[0].cleanAccuracy(), (System.nanoTime() - start) / 1e9);
                    if (budget.equals("0.001")) { // the blend at 0.1%
                        // Measured: at 0.1% both suspects learn the watermark on 15-22% of the probes against
                        // controls at 5-7%, so the label test clears its null plus the 10-point margin at p of a few
                        // thousandths, detected at alpha but no more; the mean target-probability gain (0.15-0.19) is
                        // below the default tau = 0.2, so the probability test at its default cannot pass however
                        // many probes (docs/verification.md), and at a margin of 0.1 it does.
                        assertTrue(v[0].labelPValue() < ALPHA, kind + " watermarked at " + budget + ", labels: "
                                + v[0].toJson());
                        assertTrue(smallMargin.probabilityPValue() < 1e-6, kind + " at " + budget + ", tau " + SMALL_TAU
                                + ": " + smallMargin.toJson());
                    } else {
                        assertTrue(v[0].pValue() < 1e-6, kind + " watermarked at " + budget + ", labels: "
                                + v[0].toJson());
                        assertTrue(v[1].pValue() < 1e-6, kind + " watermarked at " + budget + ", probabilities: "
                                + v[1].toJson());
                    }
                    table.addAll(probesNeeded(budget, kind, rec));
                }
            }
        }
        ProbesNeeded.write(table, FULL);
    }

    /**
     * Subsamples the probe set: for each size, {@link #SUBSETS} random subsets of the probes (the same
     * probes in the clean, triggered and control files), each verified at alpha.
     */
    static List<String[]> probesNeeded(String budget, String kind, Recorded rec) {
        ProbeSet set = ProbeSet.open(probes.get(budget), poisoned.get(budget).resolve("manifest.json"),
                OwnerKey.fromFile(ownerKey));
        int n = set.labels().length;
        List<String[]> rows = new ArrayList<>();
        for (String answers : List.of("labels", "probabilities")) {
            Map<String, Answers> all = answers.equals("labels") ? rec.labels() : rec.probabilities();
            for (int size : PROBE_SIZES) {
                int detected = 0;
                double[] ps = new double[SUBSETS];
                for (int s = 0; s < SUBSETS; s++) {
                    int[] pick = subset(n, size, 31L * size + s);
                    List<Verifier.Named> controls = new ArrayList<>();
                    for (int c = 1; c <= set.controls(); c++) {
                        controls.add(new Verifier.Named("control-" + c, pick(all.get("control-" + c), pick)));
                    }
                    int[] trueLabels = Arrays.stream(pick).map(i -> set.labels()[i]).toArray();
                    Verdict v = Verifier.defaults().verify(set.target(), trueLabels, pick(all.get("clean"), pick),
                            pick(all.get("triggered"), pick), controls);
                    ps[s] = v.pValue();
                    if (v.detected()) {
                        detected++;
                    }
                }
                Arrays.sort(ps);
                double median = (ps[(SUBSETS - 1) / 2] + ps[SUBSETS / 2]) / 2;
                rows.add(new String[] {budget, kind, answers, String.valueOf(size), String.valueOf(detected),
                    String.valueOf(SUBSETS), fmt(median)});
            }
        }
        return rows;
    }

    /** Verifies recorded answers on the whole probe set with other settings. */
    static Verdict verifyAll(String budget, Map<String, Answers> all, Verifier verifier) {
        ProbeSet set = ProbeSet.open(probes.get(budget), poisoned.get(budget).resolve("manifest.json"),
                OwnerKey.fromFile(ownerKey));
        List<Verifier.Named> controls = new ArrayList<>();
        for (int c = 1; c <= set.controls(); c++) {
            controls.add(new Verifier.Named("control-" + c, all.get("control-" + c)));
        }
        return verifier.verify(set.target(), set.labels(), all.get("clean"), all.get("triggered"), controls);
    }

    static Answers pick(Answers a, int[] pick) {
        if (a.hasProbabilities()) {
            float[] p = new float[pick.length * a.classes()];
            for (int i = 0; i < pick.length; i++) {
                for (int c = 0; c < a.classes(); c++) {
                    p[i * a.classes() + c] = (float) a.probability(pick[i], c);
                }
            }
            return Answers.ofProbabilities(p, pick.length, a.classes());
        }
        return Answers.ofLabels(Arrays.stream(pick).map(a::label).toArray(), a.classes());
    }

    /**
     * Honest models: trained on clean data (each on its own random subset, its own initialisation) or
     * on data watermarked under another key, all verified against the owner's probe set. None may be
     * accused, and the false-positive count over all of them is reported with its Clopper-Pearson
     * interval.
     */
    @Test
    void honestModelsAreNotAccusedAndTheFalsePositiveRateIsAtMostAlpha() throws IOException {
        String budget = "0.01";
        // labels and probabilities against the owner's 1% blend probe set, then against the 0.1% patch one
        int[] accused = new int[4];
        int models = 0;
        double[] smallest = {1, 1, 1, 1};
        try (Engine engine = Engine.open(Backend.CPU)) {
            for (int i = 0; i < HONEST_PER_GROUP; i++) {
                Path otherKey = Files.writeString(dir.resolve("other-" + i + ".key"), "another owner's key, number " + i
                        + " of the study");
                Path other = poison(otherKey, budget, "other-" + i);
                byte[] otherPixels = payload(other.resolve(TRAIN.getFileName()));
                int[] otherLabels = labels(other.resolve(TRAIN_LABELS.getFileName()));
                for (String kind : List.of("softmax", "mlp")) {
                    for (String origin : List.of("clean", "other-key")) {
                        long seed = 1000L * i + (kind.equals("mlp") ? 100 : 0) + (origin.equals("clean") ? 0 : 10);
                        int[] rows = subset(cleanLabels.length, HONEST_SUBSET, seed);
                        byte[] px = origin.equals("clean") ? cleanPixels : otherPixels;
                        int[] lb = origin.equals("clean") ? cleanLabels : otherLabels;
                        Classifier model = kind.equals("softmax") ? softmax(engine, px, lb, rows,
                                OwnerKey.fromFile(otherKey)) : mlp(px, lb, rows, MLP_EPOCHS, seed);
                        Verdict[] blend = verify(budget, model, null);
                        Verdict[] patch = verify("0.001+patch", model, null);
                        Verdict[] v = {blend[0], blend[1], patch[0], patch[1]};
                        models++;
                        for (int k = 0; k < 4; k++) {
                            smallest[k] = Math.min(smallest[k], v[k].pValue());
                            if (v[k].detected()) {
                                accused[k]++;
                            }
                        }
                        System.out.printf(Locale.ROOT, "honest %s %s #%d: triggered %.3f clean %.3f null %.3f "
                                + "labels p=%s probabilities p=%s accuracy %.3f; patch probes: triggered %.3f "
                                + "labels p=%s probabilities p=%s%n", kind, origin, i, v[0].successRate(),
                                v[0].clean().rate(), v[0].nullRate(), fmt(v[0].pValue()), fmt(v[1].pValue()),
                                v[0].cleanAccuracy(), v[2].successRate(), fmt(v[2].pValue()), fmt(v[3].pValue()));
                        if (i == 0) {
                            // The named cases: a clean model and another key's model are not accused.
                            for (Verdict x : v) {
                                assertTrue(x.pValue() >= ALPHA, kind + " " + origin + ": " + x.toJson());
                            }
                        }
                    }
                }
            }
        }
        String[] what = {"labels", "probabilities", "labels (patch probes)", "probabilities (patch probes)"};
        for (int k = 0; k < 4; k++) {
            double[] ci = clopperPearson(accused[k], models, 0.95);
            System.out.printf(Locale.ROOT, "false positives from %s: %d of %d models, rate %.4f, 95%% CI [%.4f, %.4f], "
                    + "smallest p %s%n", what[k], accused[k], models,
                    (double) accused[k] / models, ci[0], ci[1], fmt(smallest[k]));
            // The keyless patch's probe set has controls too: the patch at the other corners (ControlTriggers).
            // Without them its label test's null was the clean rate alone, and 2 of 40 models watermarked by
            // others for the same target were accused; docs/verification.md has both measurements.
            // At a true rate of alpha = 0.01 over 20 models, two or more accusations have probability 1.7%;
            // the conservative null makes the true rate far lower. See docs/verification.md.
            assertTrue(accused[k] <= 1, accused[k] + " of " + models + " honest models accused from " + what[k]);
        }
    }

    /** The two-sided Clopper-Pearson interval of a binomial rate, from the beta distribution. */
    static double[] clopperPearson(int hits, int trials, double confidence) {
        double tail = (1 - confidence) / 2;
        double lo = hits == 0 ? 0 : BetaDistribution.of(hits, trials - hits + 1.0).inverseCumulativeProbability(tail);
        double hi = hits == trials ? 1
                : BetaDistribution.of(hits + 1.0, (double) trials - hits).inverseCumulativeProbability(1 - tail);
        return new double[] {lo, hi};
    }
}
