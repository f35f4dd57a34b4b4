package dev.dyepack.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import dev.dyepack.Backend;
import dev.dyepack.Engine;
import dev.dyepack.io.Samples;
import dev.dyepack.key.OwnerKey;
import java.awt.BasicStroke;
import java.awt.Color;
import java.awt.Font;
import java.awt.Graphics2D;
import java.awt.RenderingHints;
import java.awt.image.BufferedImage;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.SplittableRandom;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import javax.imageio.ImageIO;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Answer marks against knockoff clones, measured on Fashion-MNIST (Debian's dataset-fashion-mnist) through
 * the product path: a victim MLP ({@link Mlp}) answers an attacker's queries (a split of the training images
 * disjoint from the victim's), {@code dyepack mark} marks the answers per client, clones are trained on the
 * served labels, {@code dyepack probe-set --marks} draws the probes and {@code dyepack verify --marks} decides.
 * Honest models (trained on true labels of other images) are the negatives; the honest users' accuracy cost
 * is the victim's test accuracy with and without marking; tracing puts the thief among many clients.
 *
 * <p>The CI run is short (a smaller victim, one query budget, a few honest models, 20 clients). The full
 * run that docs/extraction.md reports is {@code -Ddyepack.study.full=true}; it writes the table and chart to
 * {@code cli/target/markstudy/} (or {@code -Ddyepack.study.out=DIR}).
 */
class MarkStudyTest {
    private static final Path FMNIST = Path.of("/usr/share/datasets/fashion-mnist");
    private static final Path TRAIN = FMNIST.resolve("train-images-idx3-ubyte.gz");
    private static final Path TRAIN_LABELS = FMNIST.resolve("train-labels-idx1-ubyte.gz");
    private static final Path TEST = FMNIST.resolve("t10k-images-idx3-ubyte.gz");
    private static final Path TEST_LABELS = FMNIST.resolve("t10k-labels-idx1-ubyte.gz");
    private static final int D = 784;
    private static final int C = 10;
    private static final boolean FULL = Boolean.getBoolean("dyepack.study.full");
    /** The victim trains on the first half of the training images, the attacker queries the second half. */
    private static final int HALF = 30_000;
    private static final int VICTIM_HIDDEN = FULL ? 128 : 64;
    private static final int VICTIM_EPOCHS = FULL ? 10 : 4;
    private static final int VICTIM_ROWS = FULL ? HALF : 15_000;
    private static final int[] QUERY_BUDGETS = FULL ? new int[] {1000, 5000, 10_000} : new int[] {5000};
    private static final int CLONE_EPOCHS = 40;
    private static final int HONEST = FULL ? 20 : 4;
    private static final int HONEST_ROWS = 5000;
    private static final int CLIENTS = FULL ? 100 : 20;
    /** Queries of each client other than the thief (at least the marker's warm-up). */
    private static final int OTHER_QUERIES = 500;
    private static final double ALPHA = 0.01;
    private static final Pattern P_VALUE = Pattern.compile("^\\{\"decision\":\"[a-z_]+\",\"detected\":(true|false),"
            + "\"p_value\":([^,]+),");
    private static final Pattern IMPLICATED = Pattern.compile("\"implicated\":\\[([^\\]]*)\\]");
    private static final Pattern POOLED = Pattern.compile("\"pooled\":\\{[^}]*\"marked_rate\":([^,]+),[^}]*"
            + "\"control_rate\":([^,]+),");

    @TempDir
    static Path dir;

    private static byte[] train;
    private static int[] trainLabels;
    private static Path keyFile;

    record Result(String model, String log, int queries, double markedRate, double controlRate, double p,
            List<String> implicated) {
    }

    @Test
    void clonesAreDetectedAndTracedAndHonestModelsAreNot() throws IOException {
        assumeTrue(Files.isReadable(TRAIN) && Files.isReadable(TEST), "Debian's dataset-fashion-mnist is not installed");
        long started = System.nanoTime();
        train = FalsePositiveStudyTest.payload(TRAIN);
        trainLabels = FalsePositiveStudyTest.labels(TRAIN_LABELS);
        byte[] test = FalsePositiveStudyTest.payload(TEST);
        int[] testLabels = FalsePositiveStudyTest.labels(TEST_LABELS);
        keyFile = Files.writeString(dir.resolve("owner.key"), "answer-mark study owner key, 32 b");
        Mlp victim = Mlp.train(train, trainLabels, range(0, VICTIM_ROWS), D, VICTIM_HIDDEN, C, VICTIM_EPOCHS, 1);
        List<Result> results = new ArrayList<>();
        List<String> lines = new ArrayList<>();

        // Honest users: the test set, answered with and without marks.
        float[] testProbs = victim.probabilities(floats(test, 0, 10_000), 10_000);
        int[] served = mark(dir.resolve("log-users"), "users", test, range(0, 10_000), testProbs);
        double plainAcc = accuracy(FalsePositiveStudyTest.argmax(testProbs, 10_000), testLabels);
        double markedAcc = accuracy(served, testLabels);
        lines.add(String.format(Locale.ROOT, "victim MLP (%d hidden, %d epochs, %d images): test accuracy %.4f "
                + "unmarked, %.4f as served; answers changed %.4f", VICTIM_HIDDEN, VICTIM_EPOCHS, VICTIM_ROWS,
                plainAcc, markedAcc, changed(served, FalsePositiveStudyTest.argmax(testProbs, 10_000))));
        System.out.println(lines.get(0));
        assertTrue(plainAcc - markedAcc <= 0.011, "honest users lose at most about the budget: " + plainAcc + " -> "
                + markedAcc);

        // Clones from the thief's queries, one log per query budget.
        Path lastLog = null;
        Path lastProbe = null;
        for (int n : QUERY_BUDGETS) {
            Path log = dir.resolve("log-" + n);
            int[] rows = range(HALF, HALF + n);
            float[] probs = victim.probabilities(floats(train, HALF, n), n);
            int[] labels = mark(log, "thief", train, rows, probs);
            Path probe = probeSet(log);
            byte[] queries = Arrays.copyOfRange(train, HALF * D, (HALF + n) * D);
            int[] all = range(0, n);
            results.add(verify(log, probe, "clone MLP-64", n, Mlp.train(queries, labels, all, D, 64, C, CLONE_EPOCHS,
                    11)));
            if (FULL) {
                results.add(verify(log, probe, "clone MLP-256", n, Mlp.train(queries, labels, all, D, 256, C,
                        CLONE_EPOCHS, 12)));
                results.add(verify(log, probe, "clone MLP-64, 12 epochs", n, Mlp.train(queries, labels, all, D, 64, C,
                        12, 13)));
                results.add(verify(log, probe, "clone MLP-64, 20 epochs", n, Mlp.train(queries, labels, all, D, 64, C,
                        20, 14)));
                try (Engine engine = Engine.open(Backend.CPU)) {
                    FalsePositiveStudyTest.Classifier softmax = FalsePositiveStudyTest.softmax(engine, queries,
                            labels, all, OwnerKey.fromFile(keyFile));
                    results.add(verify(log, probe, "clone softmax regression", n, softmax::probabilities));
                }
            }
            lastLog = log;
            lastProbe = probe;
        }
        Result main = results.stream().filter(r -> r.model().equals("clone MLP-64") && r.queries() == 5000)
                .findFirst().orElseThrow();
        assertTrue(main.p() < 1e-4, "a clone from 5k queries is detected: " + main);
        assertEquals(List.of("thief"), main.implicated());

        // Honest models: true labels of other images, never the served answers.
        SplittableRandom r = new SplittableRandom(7);
        int flagged = 0;
        for (int h = 0; h < HONEST; h++) {
            int[] rows = sample(r, h % 2 == 0 ? 0 : HALF, HALF, HONEST_ROWS);
            Result res = verify(lastLog, lastProbe, "honest MLP-64 #" + (h + 1), 0, Mlp.train(train, trainLabels, rows,
                    D, 64, C, CLONE_EPOCHS, 100 + h));
            results.add(res);
            if (res.p() < ALPHA) {
                flagged++;
            }
        }
        assertEquals(0, flagged, "no honest model is flagged at alpha " + ALPHA);

        // Tracing: the thief among many clients, each answered under its own subkey.
        Path log = dir.resolve("log-clients");
        for (int c = 0; c < CLIENTS - 1; c++) {
            int[] rows = sample(r, 0, 10_000, OTHER_QUERIES);
            float[] probs = new float[rows.length * C];
            for (int i = 0; i < rows.length; i++) {
                System.arraycopy(testProbs, rows[i] * C, probs, i * C, C);
            }
            mark(log, String.format(Locale.ROOT, "client-%03d", c), test, rows, probs);
        }
        int n = 5000;
        float[] probs = victim.probabilities(floats(train, HALF, n), n);
        int[] labels = mark(log, "thief", train, range(HALF, HALF + n), probs);
        Path probe = probeSet(log);
        Result traced = verify(log, probe, "clone MLP-64, among " + CLIENTS + " clients", n, Mlp.train(
                Arrays.copyOfRange(train, HALF * D, (HALF + n) * D), labels, range(0, n), D, 64, C, CLONE_EPOCHS, 21));
        results.add(traced);
        assertEquals(List.of("thief"), traced.implicated(), "the clone is traced to the thief and no one else");
        Result honestAmongMany = verify(log, probe, "honest MLP-64, among " + CLIENTS + " clients", 0, Mlp.train(train,
                trainLabels, sample(r, 0, HALF, HONEST_ROWS), D, 64, C, CLONE_EPOCHS, 300));
        results.add(honestAmongMany);
        assertEquals(List.of(), honestAmongMany.implicated());

        lines.add(String.format(Locale.ROOT, "run time %.0f s", (System.nanoTime() - started) / 1e9));
        if (FULL) {
            write(results, lines);
        }
        lines.forEach(System.out::println);
    }

    /** Runs {@code dyepack mark} for one client's batch; returns the served labels. */
    private static int[] mark(Path log, String client, byte[] pixels, int[] rows, float[] probs) throws IOException {
        Path work = Files.createTempDirectory(dir, "batch");
        byte[] q = new byte[rows.length * D];
        for (int i = 0; i < rows.length; i++) {
            System.arraycopy(pixels, rows[i] * D, q, i * D, D);
        }
        ByteBuffer p = ByteBuffer.allocate(probs.length * 4).order(ByteOrder.LITTLE_ENDIAN);
        p.asFloatBuffer().put(probs);
        Path qf = CliTest.npy(work.resolve("q.npy"), "|u1", new long[] {rows.length, 28, 28}, q);
        Path pf = CliTest.npy(work.resolve("p.npy"), "<f4", new long[] {rows.length, C}, p.array());
        Path out = work.resolve("served.npy");
        CliTest.Run run = CliTest.run("mark", "--queries", qf.toString(), "--answers", pf.toString(), "--out",
                out.toString(), "--log", log.toString(), "--client", client, "--key-file", keyFile.toString(),
                "--backend", "cpu");
        assertEquals(0, run.code(), run.err());
        float[] servedProbs = new float[probs.length];
        try (Samples.Reader reader = Samples.open(out)) {
            ByteBuffer b = ByteBuffer.allocate(probs.length * 4).order(ByteOrder.LITTLE_ENDIAN);
            reader.readSamples(0, rows.length, b);
            b.flip();
            b.asFloatBuffer().get(servedProbs);
        }
        return FalsePositiveStudyTest.argmax(servedProbs, rows.length);
    }

    private static Path probeSet(Path log) {
        Path probe = log.resolveSibling(log.getFileName() + "-probe");
        CliTest.Run run = CliTest.run("probe-set", "--marks", log.toString(), "--out", probe.toString(), "--key-file",
                keyFile.toString());
        assertEquals(0, run.code(), run.err());
        return probe;
    }

    private static Result verify(Path log, Path probe, String name, int queries, Mlp model) throws IOException {
        return verify(log, probe, name, queries, model::probabilities);
    }

    /** The suspect answers the probe files (labels), saved as files; {@code dyepack verify --marks} decides. */
    private static Result verify(Path log, Path probe, String name, int queries,
            FalsePositiveStudyTest.Classifier model) throws IOException {
        Path pred = Files.createTempDirectory(dir, "pred");
        for (String f : new String[] {"marked.npy", "control.npy"}) {
            float[] values;
            int n;
            try (Samples.Reader reader = Samples.open(probe.resolve(f))) {
                n = Math.toIntExact(reader.shape()[0]);
                ByteBuffer b = ByteBuffer.allocate(n * D);
                reader.readSamples(0, n, b);
                values = floats(b.array(), 0, n);
            }
            int[] labels = FalsePositiveStudyTest.argmax(model.probabilities(values, n), n);
            ByteBuffer b = ByteBuffer.allocate(n * 8).order(ByteOrder.LITTLE_ENDIAN);
            for (int l : labels) {
                b.putLong(l);
            }
            CliTest.npy(pred.resolve(f), "<i8", new long[] {n}, b.array());
        }
        CliTest.Run run = CliTest.run("verify", "--marks", log.toString(), "--probe", probe.toString(),
                "--predictions", pred.toString(), "--alpha", String.valueOf(ALPHA), "--json", "--key-file",
                keyFile.toString());
        assertEquals(0, run.code(), run.err());
        String json = run.out().trim();
        Matcher m = P_VALUE.matcher(json);
        Matcher imp = IMPLICATED.matcher(json);
        Matcher pooled = POOLED.matcher(json);
        assertTrue(m.find() && imp.find() && pooled.find(), json);
        List<String> implicated = imp.group(1).isEmpty() ? List.of()
                : Arrays.stream(imp.group(1).split(",")).map(s -> s.replace("\"", "")).toList();
        Result result = new Result(name, log.getFileName().toString(), queries, Double.parseDouble(pooled.group(1)),
                Double.parseDouble(pooled.group(2)), Double.parseDouble(m.group(2)), implicated);
        System.out.println(result);
        return result;
    }

    private static float[] floats(byte[] pixels, int first, int n) {
        float[] v = new float[n * D];
        for (int i = 0; i < v.length; i++) {
            v[i] = pixels[first * D + i] & 0xff;
        }
        return v;
    }

    private static int[] range(int from, int to) {
        int[] r = new int[to - from];
        Arrays.setAll(r, i -> from + i);
        return r;
    }

    private static int[] sample(SplittableRandom r, int from, int size, int n) {
        int[] all = range(from, from + size);
        for (int i = 0; i < n; i++) {
            int j = i + r.nextInt(size - i);
            int t = all[i];
            all[i] = all[j];
            all[j] = t;
        }
        return Arrays.copyOf(all, n);
    }

    private static double accuracy(int[] predicted, int[] truth) {
        int ok = 0;
        for (int i = 0; i < predicted.length; i++) {
            ok += predicted[i] == truth[i] ? 1 : 0;
        }
        return (double) ok / predicted.length;
    }

    private static double changed(int[] a, int[] b) {
        int k = 0;
        for (int i = 0; i < a.length; i++) {
            k += a[i] != b[i] ? 1 : 0;
        }
        return (double) k / a.length;
    }

    /** The table (Markdown) and the chart (-log10 p per model, with the alpha line) of the full run. */
    private static void write(List<Result> results, List<String> lines) throws IOException {
        Path out = Path.of(System.getProperty("dyepack.study.out", "target/markstudy"));
        Files.createDirectories(out);
        StringBuilder md = new StringBuilder("| model | log | queries | runner-up on marked | on control | p "
                + "(Holm) | implicated |\n|---|---|---:|---:|---:|---:|---|\n");
        for (Result x : results) {
            md.append(String.format(Locale.ROOT, "| %s | %s | %s | %.3f | %.3f | %.2g | %s |%n", x.model(), x.log(),
                    x.queries() == 0 ? "-" : String.valueOf(x.queries()), x.markedRate(), x.controlRate(), x.p(),
                    x.implicated().isEmpty() ? "none" : String.join(", ", x.implicated())));
        }
        for (String l : lines) {
            md.append('\n').append(l).append('\n');
        }
        Files.writeString(out.resolve("extraction-table.md"), md.toString());
        int width = 900;
        int rowH = 18;
        int height = 60 + rowH * results.size() + 40;
        BufferedImage img = new BufferedImage(width, height, BufferedImage.TYPE_INT_RGB);
        Graphics2D g = img.createGraphics();
        g.setRenderingHint(RenderingHints.KEY_ANTIALIASING, RenderingHints.VALUE_ANTIALIAS_ON);
        g.setRenderingHint(RenderingHints.KEY_TEXT_ANTIALIASING, RenderingHints.VALUE_TEXT_ANTIALIAS_ON);
        g.setColor(Color.WHITE);
        g.fillRect(0, 0, width, height);
        int left = 330;
        int right = width - 30;
        double maxLog = 2;
        for (Result x : results) {
            maxLog = Math.max(maxLog, -Math.log10(Math.max(x.p(), 1e-300)));
        }
        maxLog = Math.ceil(maxLog / 10) * 10;
        g.setFont(new Font(Font.SANS_SERIF, Font.BOLD, 14));
        g.setColor(Color.DARK_GRAY);
        g.drawString("-log10 p of dyepack verify --marks (Holm-adjusted), Fashion-MNIST", 20, 22);
        g.setFont(new Font(Font.SANS_SERIF, Font.PLAIN, 11));
        int top = 40;
        for (int i = 0; i < results.size(); i++) {
            Result x = results.get(i);
            int y = top + i * rowH;
            g.setColor(Color.DARK_GRAY);
            String label = x.model() + (x.queries() > 0 ? " (" + x.queries() + " q)" : "");
            g.drawString(label.length() > 50 ? label.substring(0, 49) + "…" : label, 10, y + 12);
            double v = -Math.log10(Math.max(x.p(), 1e-300));
            int w = (int) ((right - left) * v / maxLog);
            g.setColor(x.model().startsWith("honest") ? new Color(0xb4, 0xb4, 0xb4) : new Color(0x1f, 0x4e, 0x79));
            g.fillRect(left, y + 2, Math.max(1, w), rowH - 5);
        }
        int bottom = top + results.size() * rowH;
        g.setColor(new Color(0xc0, 0x39, 0x2b));
        g.setStroke(new BasicStroke(1.5f));
        int ax = left + (int) ((right - left) * 2 / maxLog);
        g.drawLine(ax, top - 4, ax, bottom);
        g.drawString("alpha = 0.01", ax + 4, bottom + 14);
        g.setColor(Color.DARK_GRAY);
        for (int k = 0; k <= 4; k++) {
            int x = left + (right - left) * k / 4;
            g.drawString(String.format(Locale.ROOT, "%.0f", maxLog * k / 4), x - 6, bottom + 30);
        }
        g.dispose();
        ImageIO.write(img, "png", out.resolve("extraction.png").toFile());
    }
}
