package dev.dyepack.mark;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.dyepack.InvalidInputException;
import dev.dyepack.io.NpyWriter;
import dev.dyepack.key.OwnerKey;
import dev.dyepack.verify.Answers;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.TreeMap;
import java.util.function.ToDoubleFunction;
import java.util.stream.IntStream;
import org.apache.commons.statistics.distribution.HypergeometricDistribution;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The gap test of {@code verify --marks}: the suspect's probability of the served runner-up minus its probability
 * of the served top class, marked against control probes, and its combination with the label test. References
 * are computed here: the exact Mann-Whitney distribution by enumeration, Fisher's test as the hypergeometric tail,
 * Holm's adjustment by hand; one tied case against scipy.
 */
class MarkGapTestTest {
    private static final OwnerKey KEY = new OwnerKey("gap test key, thirty-two bytes!!".getBytes(StandardCharsets.UTF_8));
    private static final int C = 4;

    @TempDir
    Path dir;

    // ---- references ----------------------------------------------------------------------------------------

    /** P(U >= u_observed) for the first sample, by enumerating every split of the pooled ranks (no ties). */
    private static double bruteForceUpperTail(double[] x, double[] y) {
        int n = x.length;
        int total = n + y.length;
        double[] all = new double[total];
        System.arraycopy(x, 0, all, 0, n);
        System.arraycopy(y, 0, all, n, y.length);
        double[] sorted = all.clone();
        Arrays.sort(sorted);
        int[] rank = new int[total];
        for (int i = 0; i < total; i++) {
            rank[i] = Arrays.binarySearch(sorted, all[i]) + 1;
        }
        int observed = 0;
        for (int i = 0; i < n; i++) {
            observed += rank[i];
        }
        int atLeast = 0;
        int splits = 0;
        for (int mask = 0; mask < 1 << total; mask++) {
            if (Integer.bitCount(mask) != n) {
                continue;
            }
            splits++;
            int sum = 0;
            for (int r = 1; r <= total; r++) {
                if ((mask & 1 << (r - 1)) != 0) {
                    sum += r;
                }
            }
            if (sum >= observed) {
                atLeast++;
            }
        }
        return (double) atLeast / splits;
    }

    /**
     * P(U >= u_observed) for the first sample, exact, without ties: the number of n-subsets of the ranks 1..N with
     * each rank sum, counted by dynamic programming, over C(N, n).
     */
    private static double exactUpperTail(double[] x, double[] y) {
        int n = x.length;
        int total = n + y.length;
        double[] sorted = new double[total];
        System.arraycopy(x, 0, sorted, 0, n);
        System.arraycopy(y, 0, sorted, n, y.length);
        Arrays.sort(sorted);
        for (int i = 1; i < total; i++) {
            assertTrue(sorted[i] > sorted[i - 1], "the exact reference needs distinct values");
        }
        int observed = 0;
        for (double v : x) {
            observed += Arrays.binarySearch(sorted, v) + 1;
        }
        int maxSum = total * (total + 1) / 2;
        double[][] ways = new double[n + 1][maxSum + 1];
        ways[0][0] = 1;
        for (int r = 1; r <= total; r++) {
            for (int k = Math.min(r, n); k >= 1; k--) {
                for (int s = maxSum; s >= r; s--) {
                    ways[k][s] += ways[k - 1][s - r];
                }
            }
        }
        double atLeast = 0;
        double all = 0;
        for (int s = 0; s <= maxSum; s++) {
            all += ways[n][s];
            if (s >= observed) {
                atLeast += ways[n][s];
            }
        }
        return atLeast / all;
    }

    /** Fisher's one-sided test as the hypergeometric upper tail (1 when a side is empty). */
    private static double fisherReference(int markedFollowed, int marked, int controlFollowed, int control) {
        if (marked == 0 || control == 0) {
            return 1;
        }
        return HypergeometricDistribution.of(marked + control, markedFollowed + controlFollowed, marked)
                .survivalProbability(markedFollowed - 1);
    }

    // ---- the statistic -------------------------------------------------------------------------------------

    @Test
    void theGapTestIsTheExactMannWhitneyTailWithoutTiesAndScipysWithThem() {
        double[] x = {0.3, 0.5, 0.9};
        double[] y = {0.1, 0.2, 0.4, 0.6};
        MarkVerdict.Gap g = MarkVerifier.gapTest(x, y);
        // By enumeration of the 35 splits of 7 ranks: U = 9 or more in 7 of them.
        assertEquals(0.2, bruteForceUpperTail(x, y), 1e-15);
        assertEquals(bruteForceUpperTail(x, y), g.pValue(), 1e-12);
        assertEquals(9, g.statistic());
        assertEquals(0.5, g.markedMedian());
        assertEquals(0.3, g.controlMedian(), 1e-15);
        // Larger samples, distinct values: the enumeration by rank sums.
        SplittableRandom r = new SplittableRandom(3);
        double[] a = r.doubles(17, -0.6, 0.1).toArray();
        double[] b = r.doubles(23, -0.9, -0.1).toArray();
        double want = exactUpperTail(a, b);
        assertTrue(want < 0.01 && want > 1e-12, "a case in the range that matters: " + want);
        assertEquals(want, MarkVerifier.gapTest(a, b).pValue(), 1e-9 * want);
        // Ties: the normal approximation with tie-corrected variance and continuity correction; the reference is
        // scipy 1.10.1, scipy.stats.mannwhitneyu(a2, b2, alternative="greater").pvalue.
        double[] a2 = {0.1, 0.2, 0.2, 0.5, 0.7, 0.7, 0.9, 1.0, 1.0, 1.0};
        double[] b2 = {0.0, 0.1, 0.1, 0.2, 0.3, 0.5, 0.5, 0.6, 0.2, 0.0, 0.4, 0.7};
        assertEquals(0.015405260356452273, MarkVerifier.gapTest(a2, b2).pValue(), 1e-12);
        assertEquals(93, MarkVerifier.gapTest(a2, b2).statistic());
        // An empty side gives no evidence.
        assertEquals(1, MarkVerifier.gapTest(new double[0], b2).pValue());
        assertTrue(Double.isNaN(MarkVerifier.gapTest(new double[0], b2).markedMedian()));
    }

    // ---- a log, its probe set and suspects -----------------------------------------------------------------

    /** A log whose clients are each answered {@code marked} marked and {@code control} control queries. */
    private MarkProbeSet probeSet(Map<String, int[]> perClient, long seed) throws IOException {
        SplittableRandom r = new SplittableRandom(seed);
        Path log = dir.resolve("log");
        List<MarkEntry> entries = new ArrayList<>();
        int i = 0;
        for (Map.Entry<String, int[]> e : perClient.entrySet()) {
            for (int k = 0; k < e.getValue()[0] + e.getValue()[1]; k++) {
                int top = r.nextInt(C);
                int runnerUp = (top + 1 + r.nextInt(C - 1)) % C;
                byte[] q = new byte[8];
                ByteBuffer.wrap(q).putLong(i);
                entries.add(new MarkEntry(0, Instant.EPOCH, e.getKey(), String.format("%064x", i++),
                        k < e.getValue()[0], top, runnerUp, C, 0.01f, 0.05f, "u1", new long[] {8}, q));
            }
        }
        // Interleave the clients, as a service would.
        entries.sort(Comparator.comparing(MarkEntry::digest, Comparator.comparing(d -> new StringBuilder(d).reverse()
                .toString())));
        try (MarkLog l = MarkLog.open(log, KEY)) {
            l.append(entries);
        }
        return MarkProbeSet.create(log, KEY, dir.resolve("probe"));
    }

    /**
     * A suspect's probabilities for one probe file: per probe a gap g drawn by {@code gap}, served as the top
     * class (0.8 - g) / 2, the runner-up (0.8 + g) / 2 and the other classes 0.1 each, so the answer is the
     * runner-up exactly when g > 0.
     */
    private static float[] answers(MarkProbeSet.Rows rows, ToDoubleFunction<String> gap) {
        float[] p = new float[rows.size() * C];
        for (int i = 0; i < rows.size(); i++) {
            double g = gap.applyAsDouble(rows.client()[i]);
            Arrays.fill(p, i * C, i * C + C, 0.1f);
            p[i * C + rows.top()[i]] = (float) ((0.8 - g) / 2);
            p[i * C + rows.runnerUp()[i]] = (float) ((0.8 + g) / 2);
        }
        return p;
    }

    /** The gaps of one client's probes as the suspect's float probabilities give them. */
    private static double[] gaps(MarkProbeSet.Rows rows, float[] p, String client) {
        List<Double> out = new ArrayList<>();
        for (int i = 0; i < rows.size(); i++) {
            if (rows.client()[i].equals(client)) {
                out.add((double) p[i * C + rows.runnerUp()[i]] - (double) p[i * C + rows.top()[i]]);
            }
        }
        return out.stream().mapToDouble(Double::doubleValue).toArray();
    }

    private static int followers(MarkProbeSet.Rows rows, float[] p, String client) {
        int k = 0;
        for (int i = 0; i < rows.size(); i++) {
            if (rows.client()[i].equals(client) && p[i * C + rows.runnerUp()[i]] > p[i * C + rows.top()[i]]) {
                k++;
            }
        }
        return k;
    }

    private static int count(MarkProbeSet.Rows rows, String client) {
        return (int) Arrays.stream(rows.client()).filter(client::equals).count();
    }

    private static int[] labelsOf(float[] p, int n) {
        Answers a = Answers.ofProbabilities(p, n, C);
        return IntStream.range(0, n).map(a::label).toArray();
    }

    // ---- one client ----------------------------------------------------------------------------------------

    @Test
    void aCloneWhoseGapsAreLargerOnMarkedProbesIsDetectedByTheGapTestWhileItsLabelsAloneAreNot() throws IOException {
        Map<String, int[]> clients = new TreeMap<>(Map.of("acme", new int[] {14, 16}));
        MarkProbeSet set = probeSet(clients, 1);
        SplittableRandom r = new SplittableRandom(11);
        // The clone leans towards the served runner-up on marked probes but never answers it: every gap negative.
        float[] marked = answers(set.marked(), c -> -r.nextDouble(0.02, 0.4));
        float[] control = answers(set.control(), c -> -r.nextDouble(0.15, 0.7));
        MarkVerifier verifier = new MarkVerifier(0.01);
        MarkVerdict v = verifier.verify(set, Answers.ofProbabilities(marked, set.marked().size(), C),
                Answers.ofProbabilities(control, set.control().size(), C));

        double gapP = exactUpperTail(gaps(set.marked(), marked, "acme"), gaps(set.control(), control, "acme"));
        double clientP = Math.min(1, 2 * Math.min(1, gapP)); // Holm over {label (p = 1), gap}
        assertTrue(v.gapTest().available());
        assertEquals("probabilities", v.gapTest().scores());
        MarkVerdict.ClientTest t = v.clients().get(0);
        assertEquals(0, t.markedFollowed());
        assertEquals(0, t.controlFollowed());
        assertEquals(1, t.pValue(), 1e-12, "no follower: the label test has no evidence");
        assertEquals(gapP, t.gapPValue(), 1e-9 * gapP);
        assertEquals(clientP, t.clientPValue(), 1e-9 * clientP);
        assertEquals(clientP, t.holmPValue(), 1e-9 * clientP, "one client: nothing more to adjust");
        assertEquals(clientP, v.pValue(), 1e-9 * clientP);
        assertTrue(clientP < 0.01, "the fixture is a detectable clone: " + clientP);
        assertTrue(v.detected());
        assertEquals(List.of("acme"), v.implicated());
        assertEquals(MarkVerdict.GAP, v.decidedBy());
        double[] mg = gaps(set.marked(), marked, "acme");
        Arrays.sort(mg);
        assertEquals(mg[mg.length / 2 - 1] / 2 + mg[mg.length / 2] / 2, t.gap().markedMedian(), 1e-12);

        // The same suspect's labels alone: no evidence, and the gap test is reported as not available.
        MarkVerdict labels = verifier.verify(set, Answers.ofLabels(labelsOf(marked, set.marked().size()), C),
                Answers.ofLabels(labelsOf(control, set.control().size()), C));
        assertFalse(labels.detected());
        assertFalse(labels.gapTest().available());
        assertTrue(labels.gapTest().reason().contains("labels only"), labels.gapTest().reason());
        assertNull(labels.clients().get(0).gapPValue());
        assertEquals(1, labels.pValue(), 1e-12);
        String json = labels.toJson();
        assertTrue(json.contains("\"gap_p_value\":null") && json.contains("\"available\":false")
                && json.contains("\"decided_by\":\"label\""), json);

        // The record and the page carry both tests' p-values.
        String record = MarkReport.of(v, dir.resolve("log"), set, KEY).toJson();
        assertTrue(record.contains("\"p_value\":1,\"holm_p_value\":" + MarkVerdict.num(t.holmPValue())
                + ",\"gap_p_value\":" + MarkVerdict.num(t.gapPValue())), record);
        assertTrue(record.contains("\"decided_by\":\"gap\""), record);
        String html = MarkReport.of(v, dir.resolve("log"), set, KEY).toHtml();
        assertTrue(html.contains("data-key=\"clients.0.gap_p_value\" data-value=\"" + MarkVerdict.num(t.gapPValue())
                + "\""), "the page shows the gap p as the record has it");
        assertTrue(html.contains("data-key=\"clients.0.p_value\" data-value=\"1\""));
    }

    @Test
    void honestSuspectsAreAccusedAtMostAtAlphaWithBothTestsLookedAt() throws IOException {
        // Three clients; the honest suspect's gaps on every probe come from one distribution, and its label is
        // the runner-up exactly when the gap is positive (so both tests see the same answers). Under the
        // correction an accusation happens at most at rate alpha; two tests and three clients looked at without
        // it would accuse about five times as often.
        Map<String, int[]> clients = new TreeMap<>(Map.of("a", new int[] {12, 12}, "b", new int[] {10, 15},
                "c", new int[] {15, 9}));
        MarkProbeSet set = probeSet(clients, 2);
        MarkVerifier verifier = new MarkVerifier(0.05);
        SplittableRandom r = new SplittableRandom(12);
        int trials = 400;
        int accused = 0;
        int uncorrected = 0;
        for (int k = 0; k < trials; k++) {
            float[] marked = answers(set.marked(), c -> r.nextDouble(-0.6, 0.3));
            float[] control = answers(set.control(), c -> r.nextDouble(-0.6, 0.3));
            MarkVerdict v = verifier.verify(set, Answers.ofProbabilities(marked, set.marked().size(), C),
                    Answers.ofProbabilities(control, set.control().size(), C));
            accused += v.detected() ? 1 : 0;
            uncorrected += v.clients().stream().anyMatch(t -> t.pValue() < 0.05 || t.gapPValue() < 0.05) ? 1 : 0;
        }
        // Binomial(400, 0.05): 20 expected; more than 32 has probability under 0.5%.
        assertTrue(accused <= 32, accused + " of " + trials + " honest suspects accused at alpha 0.05");
        assertTrue(uncorrected > 40, "the uncorrected rule would accuse " + uncorrected + ": the correction matters");
    }

    // ---- tracing -------------------------------------------------------------------------------------------

    @Test
    void tracingCombinesEachClientsTwoTestsAndAdjustsOverTheClientsByHolm() throws IOException {
        Map<String, int[]> clients = new TreeMap<>(Map.of("acme", new int[] {11, 13}, "globex", new int[] {14, 12},
                "initech", new int[] {9, 15}));
        MarkProbeSet set = probeSet(clients, 3);
        SplittableRandom r = new SplittableRandom(13);
        // A clone of globex's answers: larger gaps on globex's marked probes (some followed); the others honest.
        float[] marked = answers(set.marked(), c -> c.equals("globex") ? r.nextDouble(-0.15, 0.25)
                : r.nextDouble(-0.6, 0.1));
        float[] control = answers(set.control(), c -> r.nextDouble(-0.6, 0.1));
        MarkVerdict v = new MarkVerifier(0.01).verify(set, Answers.ofProbabilities(marked, set.marked().size(), C),
                Answers.ofProbabilities(control, set.control().size(), C));

        // By hand: each client's label p (hypergeometric tail) and gap p (exact enumeration), Holm over the two,
        // then Holm over the three clients.
        List<String> names = new ArrayList<>(clients.keySet());
        Map<String, double[]> ref = new TreeMap<>(); // label p, gap p, client p
        for (String c : names) {
            double label = fisherReference(followers(set.marked(), marked, c), count(set.marked(), c),
                    followers(set.control(), control, c), count(set.control(), c));
            double gap = exactUpperTail(gaps(set.marked(), marked, c), gaps(set.control(), control, c));
            ref.put(c, new double[] {label, gap, Math.min(1, 2 * Math.min(label, gap))});
        }
        names.sort(Comparator.comparingDouble(c -> ref.get(c)[2]));
        double[] holm = new double[3];
        for (int i = 0; i < 3; i++) {
            holm[i] = Math.max(i == 0 ? 0 : holm[i - 1], Math.min(1, (3 - i) * ref.get(names.get(i))[2]));
        }
        assertEquals(names, v.clients().stream().map(MarkVerdict.ClientTest::client).toList());
        for (int i = 0; i < 3; i++) {
            MarkVerdict.ClientTest t = v.clients().get(i);
            double[] want = ref.get(t.client());
            assertEquals(want[0], t.pValue(), 1e-9 * want[0], t.client() + " label p");
            assertEquals(want[1], t.gapPValue(), 1e-9 * want[1], t.client() + " gap p");
            assertEquals(want[2], t.clientPValue(), 1e-9 * want[2], t.client() + " client p");
            assertEquals(holm[i], t.holmPValue(), 1e-9 * holm[i], t.client() + " Holm p");
        }
        assertEquals("globex", names.get(0));
        assertTrue(holm[0] < 0.01 && holm[1] >= 0.01, Arrays.toString(holm));
        assertEquals(List.of("globex"), v.implicated());
        assertEquals(holm[0], v.pValue(), 1e-9 * holm[0]);
        // The pooled test is reported with its own gap p, uncorrected.
        double pooledGap = exactUpperTail(gaps(set.marked(), marked, "acme", "globex", "initech"),
                gaps(set.control(), control, "acme", "globex", "initech"));
        assertEquals(pooledGap, v.pooled().gapPValue(), 1e-6 * pooledGap + 1e-12);
        String record = MarkReport.of(v, dir.resolve("log"), set, KEY).toJson();
        for (MarkVerdict.ClientTest t : v.clients()) {
            assertTrue(record.contains("\"client\":\"" + t.client() + "\""), record);
            assertTrue(record.contains("\"gap_p_value\":" + MarkVerdict.num(t.gapPValue())), record);
        }
    }

    private static double[] gaps(MarkProbeSet.Rows rows, float[] p, String... clients) {
        double[] out = new double[0];
        for (String c : clients) {
            double[] g = gaps(rows, p, c);
            int at = out.length;
            out = Arrays.copyOf(out, at + g.length);
            System.arraycopy(g, 0, out, at, g.length);
        }
        return out;
    }

    // ---- answer files: logits, labels and bad input --------------------------------------------------------

    private static Path npy(Path file, String descr, long[] shape, double[] values) throws IOException {
        boolean f8 = descr.equals("<f8");
        ByteBuffer b = ByteBuffer.allocate(values.length * (f8 ? 8 : 4)).order(ByteOrder.LITTLE_ENDIAN);
        for (double v : values) {
            if (f8) {
                b.putDouble(v);
            } else {
                b.putFloat((float) v);
            }
        }
        b.flip();
        try (NpyWriter w = NpyWriter.create(file, descr, shape)) {
            w.write(b);
            w.commit();
        }
        return file;
    }

    private static Path labelsNpy(Path file, int[] labels) throws IOException {
        ByteBuffer b = ByteBuffer.allocate(labels.length * 8).order(ByteOrder.LITTLE_ENDIAN);
        for (int l : labels) {
            b.putLong(l);
        }
        b.flip();
        try (NpyWriter w = NpyWriter.create(file, "<i8", new long[] {labels.length})) {
            w.write(b);
            w.commit();
        }
        return file;
    }

    private static double[] doubles(float[] p) {
        double[] d = new double[p.length];
        for (int i = 0; i < p.length; i++) {
            d[i] = p[i];
        }
        return d;
    }

    /** Logits whose softmax is p: log p plus a different constant per row. */
    private static double[] logitsOf(float[] p) {
        double[] z = new double[p.length];
        for (int i = 0; i < p.length; i++) {
            z[i] = Math.log(p[i]) + 3.0 * (i / C % 5) - 4;
        }
        return z;
    }

    @Test
    void answerFilesOfProbabilitiesLogitsOrLabelsAndTheirBadInput() throws IOException {
        MarkProbeSet set = probeSet(new TreeMap<>(Map.of("acme", new int[] {14, 16})), 4);
        Path log = dir.resolve("log");
        Path probe = dir.resolve("probe");
        int nm = set.marked().size();
        int nc = set.control().size();
        SplittableRandom r = new SplittableRandom(14);
        float[] marked = answers(set.marked(), c -> r.nextDouble(-0.3, 0.25));
        float[] control = answers(set.control(), c -> r.nextDouble(-0.6, 0.05));
        MarkVerifier verifier = new MarkVerifier(0.01);
        double gapP = exactUpperTail(gaps(set.marked(), marked, "acme"), gaps(set.control(), control, "acme"));

        // Probabilities, recognised or declared.
        Path probs = Files.createDirectories(dir.resolve("probs"));
        npy(probs.resolve("marked.npy"), "<f4", new long[] {nm, C}, doubles(marked));
        npy(probs.resolve("control.npy"), "<f8", new long[] {nc, C}, doubles(control));
        for (AnswerKind declared : new AnswerKind[] {null, AnswerKind.PROBABILITIES}) {
            MarkVerdict v = MarkVerification.fromPredictions(log, probe, probs, declared, KEY, verifier);
            assertEquals("probabilities", v.gapTest().scores());
            assertEquals(gapP, v.clients().get(0).gapPValue(), 1e-9 * gapP);
        }

        // Logits: their softmax is the same probabilities, so the same gap test; recorded as logits.
        Path logits = Files.createDirectories(dir.resolve("logits"));
        npy(logits.resolve("marked.npy"), "<f8", new long[] {nm, C}, logitsOf(marked));
        npy(logits.resolve("control.npy"), "<f8", new long[] {nc, C}, logitsOf(control));
        for (AnswerKind declared : new AnswerKind[] {null, AnswerKind.LOGITS}) {
            MarkVerdict v = MarkVerification.fromPredictions(log, probe, logits, declared, KEY, verifier);
            assertTrue(v.gapTest().available());
            assertEquals("logits", v.gapTest().scores());
            assertEquals(gapP, v.clients().get(0).gapPValue(), 1e-9 * gapP);
            assertTrue(v.toJson().contains("\"scores\":\"logits\""));
        }

        // Labels: the gap test is not available, and says why.
        Path labels = Files.createDirectories(dir.resolve("labels"));
        labelsNpy(labels.resolve("marked.npy"), labelsOf(marked, nm));
        labelsNpy(labels.resolve("control.npy"), labelsOf(control, nc));
        MarkVerdict lv = MarkVerification.fromPredictions(log, probe, labels, null, KEY, verifier);
        assertFalse(lv.gapTest().available());
        assertTrue(lv.gapTest().reason().contains("labels only"), lv.gapTest().reason());
        double labelP = fisherReference(followers(set.marked(), marked, "acme"), nm,
                followers(set.control(), control, "acme"), nc);
        assertEquals(labelP, lv.pValue(), 1e-9 * labelP, "labels alone: the label test, not corrected");
        // Labels for one file, probabilities for the other: not available either.
        Path mixed = Files.createDirectories(dir.resolve("mixed"));
        Files.copy(labels.resolve("marked.npy"), mixed.resolve("marked.npy"));
        Files.copy(probs.resolve("control.npy"), mixed.resolve("control.npy"));
        MarkVerdict mv = MarkVerification.fromPredictions(log, probe, mixed, null, KEY, verifier);
        assertFalse(mv.gapTest().available());
        assertTrue(mv.gapTest().reason().contains("marked probes with labels only"), mv.gapTest().reason());

        // Bad input: each refused with a message naming the file and the problem; the files are left unchanged.
        List<Object[]> cases = new ArrayList<>(); // {marked values, marked shape, declared, expected words}
        double[] nan = doubles(marked);
        nan[5 * C + 1] = Double.NaN;
        cases.add(new Object[] {nan, new long[] {nm, C}, null, new String[] {"marked.npy", "answer 5", "NaN",
            "finite"}});
        double[] inf = logitsOf(marked);
        inf[3 * C] = Double.POSITIVE_INFINITY;
        cases.add(new Object[] {inf, new long[] {nm, C}, AnswerKind.LOGITS, new String[] {"answer 3", "Infinity"}});
        cases.add(new Object[] {Arrays.copyOf(doubles(marked), (nm - 1) * C), new long[] {nm - 1, C}, null,
            new String[] {"holds " + (nm - 1) + " answers", "marked.npy has " + nm + " probes"}});
        double[] wide = new double[nm * (C + 1)];
        Arrays.fill(wide, 1.0 / (C + 1));
        cases.add(new Object[] {wide, new long[] {nm, C + 1}, null, new String[] {"has " + (C + 1)
            + " scores per answer", "have " + C + " classes"}});
        double[] unnormalised = doubles(marked);
        unnormalised[7 * C + 2] += 0.3;
        cases.add(new Object[] {unnormalised, new long[] {nm, C}, AnswerKind.PROBABILITIES, new String[] {"answer 7",
            "sum to"}});
        cases.add(new Object[] {unnormalised, new long[] {nm, C}, null, new String[] {"answer 7", "sum to",
            "declare the scores logits"}});
        cases.add(new Object[] {logitsOf(marked), new long[] {nm, C}, AnswerKind.PROBABILITIES, new String[] {
            "marked.npy", "must lie in [0, 1]"}});
        cases.add(new Object[] {doubles(marked), new long[] {nm, 2, 2}, null, new String[] {"shape"}});
        int k = 0;
        for (Object[] c : cases) {
            Path bad = Files.createDirectories(dir.resolve("bad" + k++));
            Path file = npy(bad.resolve("marked.npy"), "<f8", (long[]) c[1], (double[]) c[0]);
            Files.copy(probs.resolve("control.npy"), bad.resolve("control.npy"));
            byte[] before = Files.readAllBytes(file);
            InvalidInputException e = assertThrows(InvalidInputException.class,
                    () -> MarkVerification.fromPredictions(log, probe, bad, (AnswerKind) c[2], KEY, verifier));
            for (String word : (String[]) c[3]) {
                assertTrue(e.getMessage().contains(word), "'" + word + "' in: " + e.getMessage());
            }
            assertArrayEquals(before, Files.readAllBytes(file), "the answer file is left as it was");
        }
        // One file of probabilities and one of logits: refused, naming both.
        Path both = Files.createDirectories(dir.resolve("both"));
        Files.copy(probs.resolve("marked.npy"), both.resolve("marked.npy"));
        Files.copy(logits.resolve("control.npy"), both.resolve("control.npy"));
        InvalidInputException e = assertThrows(InvalidInputException.class,
                () -> MarkVerification.fromPredictions(log, probe, both, null, KEY, verifier));
        assertTrue(e.getMessage().contains("marked.npy holds probabilities but control.npy holds logits"),
                e.getMessage());
    }
}
