package dev.dyepack.experiment;

import dev.dyepack.Backend;
import dev.dyepack.BoundaryScores;
import dev.dyepack.Engine;
import dev.dyepack.Layout;
import dev.dyepack.Tensor;
import dev.dyepack.io.EmbeddedSample;
import dev.dyepack.surrogate.LinearHead;
import dev.dyepack.io.Samples;
import dev.dyepack.key.OwnerKey;
import dev.dyepack.select.SelectionMode;
import dev.dyepack.select.Selector;
import dev.dyepack.select.Strategy;
import dev.dyepack.surrogate.LinearSurrogate;
import dev.dyepack.trigger.TriggerContext;
import dev.dyepack.trigger.TriggerSpec;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Locale;

/**
 * Does boundary selection plant a stronger watermark than random selection at the same budget? For each
 * key, poisons the training set (dirty-label) with each strategy, trains a victim softmax-regression
 * model on the result (more epochs than the surrogate), and measures on held-out images the attack
 * success rate (triggered non-target images classified as the target) and the clean accuracy.
 *
 * <p>Usage: {@code java -cp cli/target/dyepack.jar dev.dyepack.experiment.SelectionExperiment
 * [TRAIN_IMAGES TRAIN_LABELS TEST_IMAGES TEST_LABELS] [trigger] [budget] [keys] [dirty|clean]}; without files it
 * splits the embedded sample 800/200. Results: {@code docs/benchmarks.md}.
 */
public final class SelectionExperiment {
    private SelectionExperiment() {}

    record Data(byte[] images, long[] labels, int n, int h, int w) {}

    static Data load(Path images, Path labels) {
        long[] y = Samples.labels(labels);
        try (Samples.Reader r = Samples.open(images)) {
            long[] shape = r.shape();
            int n = (int) shape[0];
            ByteBuffer b = ByteBuffer.allocate((int) (n * r.sampleBytes()));
            r.readSamples(0, n, b);
            return new Data(b.array(), y, n, (int) shape[1], (int) shape[2]);
        }
    }

    static Data slice(Data d, int from, int to) {
        int px = d.h() * d.w();
        return new Data(java.util.Arrays.copyOfRange(d.images(), from * px, to * px),
                java.util.Arrays.copyOfRange(d.labels(), from, to), to - from, d.h(), d.w());
    }

    static float[] pixels(byte[] images) {
        float[] x = new float[images.length];
        for (int i = 0; i < x.length; i++) {
            x[i] = (images[i] & 0xff) / 255f;
        }
        return x;
    }

    static int[] predict(Engine engine, byte[] images, int n, int d, LinearHead head) {
        ByteBuffer buf = ByteBuffer.allocateDirect(n * d * 4).order(ByteOrder.nativeOrder());
        for (byte b : images) {
            buf.putFloat((b & 0xff) / 255f);
        }
        buf.flip();
        BoundaryScores s = engine.scoreBoundary(Tensor.rows(buf.asFloatBuffer(), n, d), head.weight(), head.bias(), -1);
        return s.predicted();
    }

    static byte[] stamp(Engine engine, byte[] images, int n, int h, int w, long[] indices, TriggerSpec t, OwnerKey key) {
        ByteBuffer buf = ByteBuffer.allocateDirect(images.length).put(images).flip();
        t.apply(engine, Tensor.of(buf, Layout.NHWC, n, 1, h, w), indices, TriggerContext.of(key));
        byte[] out = new byte[images.length];
        buf.get(out);
        return out;
    }

    /**
     * Runs the experiment and prints a table.
     *
     * @param args see the class comment
     * @throws IOException if the embedded sample cannot be extracted
     */
    public static void main(String[] args) throws IOException {
        Data train;
        Data test;
        int a = 0;
        if (args.length >= 4 && Files.isRegularFile(Path.of(args[0]))) {
            train = load(Path.of(args[0]), Path.of(args[1]));
            test = load(Path.of(args[2]), Path.of(args[3]));
            a = 4;
        } else {
            Path tmp = Files.createTempDirectory("dyepack-experiment");
            Data all = load(EmbeddedSample.extractImages(tmp), EmbeddedSample.extractLabels(tmp));
            train = slice(all, 0, 800);
            test = slice(all, 800, 1000);
        }
        TriggerSpec trigger = TriggerSpec.parse(args.length > a ? args[a] : "blend:alpha=0.2,pattern=noise");
        double fraction = args.length > a + 1 ? Double.parseDouble(args[a + 1]) : 0.01;
        int keys = args.length > a + 2 ? Integer.parseInt(args[a + 2]) : 3;
        SelectionMode mode = args.length > a + 3 && args[a + 3].equalsIgnoreCase("clean") ? SelectionMode.CLEAN
                : SelectionMode.DIRTY;
        int target = 0;
        int d = train.h() * train.w();
        int classes = 10;
        long count = Math.max(1, Math.round(fraction * train.n()));
        LinearSurrogate.Settings victim = new LinearSurrogate.Settings(10, 64, 0.5f, 1e-4f);
        System.out.printf(Locale.ROOT, "train %d, test %d, trigger %s, budget %d (%.2f%%), %s-label, target %d%n",
                train.n(), test.n(), trigger, count, 100.0 * count / train.n(), mode.name().toLowerCase(Locale.ROOT),
                target);
        System.out.println("| key | strategy | attack success | clean accuracy |");
        System.out.println("|---|---|---|---|");
        // Strategies: random, boundary (nearest first, as poison does), and for comparison the farthest
        // first (the same scores negated).
        String[] names = {"random", "boundary", "boundary-farthest"};
        double[][] sums = new double[3][2];
        try (Engine engine = Engine.open(Backend.AUTO)) {
            long[] nonTarget = java.util.stream.IntStream.range(0, test.n()).filter(i -> test.labels()[i] != target)
                    .mapToLong(i -> i).toArray();
            for (int k = 0; k < keys; k++) {
                OwnerKey key = new OwnerKey(("selection experiment key number " + k).getBytes(StandardCharsets.UTF_8));
                LinearHead surrogate = LinearSurrogate.fit(engine, pixels(train.images()), train.n(), d,
                        train.labels(), classes, key, LinearSurrogate.Settings.DEFAULT);
                float[] scores;
                {
                    ByteBuffer buf = ByteBuffer.allocateDirect(train.n() * d * 4).order(ByteOrder.nativeOrder());
                    for (byte b : train.images()) {
                        buf.putFloat((b & 0xff) / 255f);
                    }
                    buf.flip();
                    BoundaryScores bs = engine.scoreBoundary(Tensor.rows(buf.asFloatBuffer(), train.n(), d),
                            surrogate.weight(), surrogate.bias(), target);
                    scores = mode == SelectionMode.DIRTY ? bs.targetDistance() : bs.distance();
                }
                float[] negated = new float[scores.length];
                for (int i = 0; i < scores.length; i++) {
                    negated[i] = -scores[i];
                }
                for (int s = 0; s < 3; s++) {
                    Strategy strategy = s == 0 ? Strategy.RANDOM : Strategy.BOUNDARY;
                    long[] picked = Selector.select(train.labels(), classes, target, mode, strategy,
                            s == 0 ? null : s == 1 ? scores : negated, count, false, key).indices();
                    byte[] poisoned = stamp(engine, train.images(), train.n(), train.h(), train.w(), picked, trigger, key);
                    long[] labels = train.labels().clone();
                    for (long i : picked) {
                        labels[(int) i] = target; // clean-label picks are of the target class already
                    }
                    LinearHead model = LinearSurrogate.fit(engine, pixels(poisoned), train.n(), d, labels, classes,
                            new OwnerKey(("victim training order " + k).getBytes(StandardCharsets.UTF_8)), victim);
                    int[] clean = predict(engine, test.images(), test.n(), d, model);
                    byte[] triggered = stamp(engine, test.images(), test.n(), test.h(), test.w(), nonTarget, trigger, key);
                    int[] attacked = predict(engine, triggered, test.n(), d, model);
                    long hits = java.util.Arrays.stream(nonTarget).filter(i -> attacked[(int) i] == target).count();
                    long right = java.util.stream.IntStream.range(0, test.n()).filter(i -> clean[i] == test.labels()[i])
                            .count();
                    double asr = (double) hits / nonTarget.length;
                    double acc = (double) right / test.n();
                    sums[s][0] += asr;
                    sums[s][1] += acc;
                    System.out.printf(Locale.ROOT, "| %d | %s | %.2f%% | %.2f%% |%n", k, names[s], 100 * asr, 100 * acc);
                }
            }
        }
        for (int s = 0; s < 3; s++) {
            System.out.printf(Locale.ROOT, "| mean | %s | %.2f%% | %.2f%% |%n", names[s], 100 * sums[s][0] / keys,
                    100 * sums[s][1] / keys);
        }
    }
}
