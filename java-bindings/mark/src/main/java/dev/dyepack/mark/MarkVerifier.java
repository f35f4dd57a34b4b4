package dev.dyepack.mark;

import dev.dyepack.InvalidArgumentException;
import dev.dyepack.InvalidInputException;
import dev.dyepack.verify.Answers;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.apache.commons.statistics.inference.AlternativeHypothesis;
import org.apache.commons.statistics.inference.FisherExactTest;
import org.apache.commons.statistics.inference.MannWhitneyUTest;

/**
 * Tests whether a suspect learned the marked answers: on the marked queries the served model's runner-up
 * was served, on the control queries its top class; a model trained on those answers answers the runner-up
 * more often on marked than on control queries, an independent model does not. Each client is tested on
 * its own queries (a clone learns the marks of the client whose answers it was trained on, and no one
 * else's) with Fisher's exact test, one-sided, from Apache Commons Statistics (the <b>label test</b>).
 *
 * <p>When the suspect's answers carry probabilities, each client is also tested on the suspect's <b>probability
 * gap</b>, its probability of the served model's runner-up minus its probability of the served model's top
 * class: larger on marked than on control queries for a clone, from one distribution for an independent model.
 * The test is Mann-Whitney's U, one-sided, from the same library (exact or normal with continuity correction
 * as the library chooses; tied gaps get mid-ranks). The two tests of a client are combined by Holm's method
 * ({@code min(1, 2 min(p_label, p_gap))}, so that a client is accused at level a only when one of its tests
 * passes Holm's first step at a / 2), and the clients' p-values are Holm-adjusted over the clients; the clients
 * under alpha are named. Labels-only answers are tested exactly as before the gap test existed (no factor 2).
 * Stateless.
 */
public final class MarkVerifier {
    /** The default family-wise significance level. */
    public static final double DEFAULT_ALPHA = 0.01;
    /** The pooled test's client name. */
    public static final String ALL = "(all)";

    private final double alpha;

    /**
     * @param alpha the family-wise significance level, in (0, 0.5]
     * @throws InvalidArgumentException if alpha is out of range
     */
    public MarkVerifier(double alpha) {
        if (!(alpha > 0 && alpha <= 0.5)) {
            throw new InvalidArgumentException("alpha must be in (0, 0.5], got " + alpha);
        }
        this.alpha = alpha;
    }

    /**
     * Tests a suspect's answers; probability answers are taken as the suspect's probabilities.
     *
     * @param set     the probe set
     * @param marked  the suspect's answers on {@link MarkProbeSet#MARKED}, in order
     * @param control its answers on {@link MarkProbeSet#CONTROL}, in order
     * @return the verdict
     * @throws InvalidInputException if an answer count or class count differs from the probe set's
     */
    public MarkVerdict verify(MarkProbeSet set, Answers marked, Answers control) {
        return verify(set, marked, control, AnswerKind.PROBABILITIES);
    }

    /**
     * Tests a suspect's answers.
     *
     * @param set     the probe set
     * @param marked  the suspect's answers on {@link MarkProbeSet#MARKED}, in order
     * @param control its answers on {@link MarkProbeSet#CONTROL}, in order
     * @param scores  what the suspect's scores were: {@link AnswerKind#LOGITS} when the answers' probabilities
     *                are the softmax of its logits (recorded in the verdict; the test is the same)
     * @return the verdict; the gap test is computed when both answers carry probabilities
     * @throws InvalidInputException if an answer count or class count differs from the probe set's
     */
    public MarkVerdict verify(MarkProbeSet set, Answers marked, Answers control, AnswerKind scores) {
        if (marked.size() != set.marked().size() || control.size() != set.control().size()) {
            throw new InvalidInputException("the suspect gave " + marked.size() + " and " + control.size()
                    + " answers, but the probe set has " + set.marked().size() + " marked and " + set.control().size()
                    + " control probes");
        }
        for (Answers a : new Answers[] {marked, control}) {
            if (a.classes() != set.classes()) {
                throw new InvalidInputException("the suspect's answers have " + a.classes() + " classes, but the "
                        + "mark log's answers have " + set.classes());
            }
        }
        MarkVerdict.GapTest gapTest = gapTest(marked, control, scores);
        Map<String, Tally> tallies = new LinkedHashMap<>();
        for (String c : set.clients()) {
            tallies.put(c, new Tally());
        }
        Tally all = new Tally();
        tally(set.marked(), marked, tallies, all, true, gapTest.available());
        tally(set.control(), control, tallies, all, false, gapTest.available());
        List<MarkVerdict.ClientTest> raw = new ArrayList<>();
        for (Map.Entry<String, Tally> e : tallies.entrySet()) {
            raw.add(e.getValue().test(e.getKey(), gapTest.available()));
        }
        List<MarkVerdict.ClientTest> tests = holm(raw);
        MarkVerdict.ClientTest pooled = all.test(ALL, gapTest.available());
        double best = tests.isEmpty() ? 1 : tests.get(0).holmPValue();
        List<String> implicated = tests.stream().filter(t -> t.holmPValue() < alpha).map(
                MarkVerdict.ClientTest::client).toList();
        return new MarkVerdict(alpha, best, best < alpha, pooled, tests, implicated, gapTest);
    }

    private static MarkVerdict.GapTest gapTest(Answers marked, Answers control, AnswerKind scores) {
        if (!marked.hasProbabilities() && !control.hasProbabilities()) {
            return MarkVerdict.GapTest.unavailable("the suspect's answers are labels only; the gap test needs its "
                    + "probabilities or logits (N, C)");
        }
        if (!marked.hasProbabilities() || !control.hasProbabilities()) {
            return MarkVerdict.GapTest.unavailable("the suspect answered the " + (marked.hasProbabilities()
                    ? "control" : "marked") + " probes with labels only; the gap test needs probabilities for both");
        }
        return MarkVerdict.GapTest.on(scores == AnswerKind.LOGITS ? "logits" : "probabilities");
    }

    /** One client's counts and, with probabilities, its gaps. */
    private static final class Tally {
        int markedFollowed;
        int marked;
        int controlFollowed;
        int control;
        double[] markedGaps = new double[16];
        double[] controlGaps = new double[16];

        void add(boolean isMarked, boolean follows, double gap) {
            if (isMarked) {
                markedGaps = put(markedGaps, marked, gap);
                marked++;
                markedFollowed += follows ? 1 : 0;
            } else {
                controlGaps = put(controlGaps, control, gap);
                control++;
                controlFollowed += follows ? 1 : 0;
            }
        }

        private static double[] put(double[] a, int at, double v) {
            double[] out = at < a.length ? a : Arrays.copyOf(a, a.length * 2);
            out[at] = v;
            return out;
        }

        MarkVerdict.ClientTest test(String client, boolean withGap) {
            double p = fisher(new int[] {markedFollowed, marked, controlFollowed, control});
            if (!withGap) {
                return new MarkVerdict.ClientTest(client, markedFollowed, marked, controlFollowed, control, p, p);
            }
            MarkVerdict.Gap gap = gapTest(Arrays.copyOf(markedGaps, marked), Arrays.copyOf(controlGaps, control));
            double combined = Math.min(1, 2 * Math.min(p, gap.pValue()));
            return new MarkVerdict.ClientTest(client, markedFollowed, marked, controlFollowed, control, p, combined,
                    gap, combined);
        }
    }

    private static void tally(MarkProbeSet.Rows rows, Answers answers, Map<String, Tally> tallies, Tally all,
            boolean marked, boolean withGap) {
        for (int i = 0; i < rows.size(); i++) {
            boolean follows = answers.label(i) == rows.runnerUp()[i];
            double gap = withGap ? answers.probability(i, rows.runnerUp()[i]) - answers.probability(i, rows.top()[i])
                    : Double.NaN;
            tallies.get(rows.client()[i]).add(marked, follows, gap);
            all.add(marked, follows, gap);
        }
    }

    /** One-sided Fisher exact test that the marked follow rate exceeds the control one; 1 when a side is empty. */
    static double fisher(int[] k) {
        if (k[1] == 0 || k[3] == 0) {
            return 1;
        }
        int[][] table = {{k[0], k[1] - k[0]}, {k[2], k[3] - k[2]}};
        return FisherExactTest.withDefaults().with(AlternativeHypothesis.GREATER_THAN).test(table).getPValue();
    }

    /**
     * One-sided Mann-Whitney U test that the marked gaps are stochastically larger than the control gaps; p = 1
     * (and U = 0) when a side is empty.
     */
    static MarkVerdict.Gap gapTest(double[] markedGaps, double[] controlGaps) {
        double mm = median(markedGaps);
        double cm = median(controlGaps);
        if (markedGaps.length == 0 || controlGaps.length == 0) {
            return new MarkVerdict.Gap(1, 0, mm, cm);
        }
        MannWhitneyUTest.Result r = MannWhitneyUTest.withDefaults().with(AlternativeHypothesis.GREATER_THAN)
                .test(markedGaps, controlGaps);
        return new MarkVerdict.Gap(r.getPValue(), r.getStatistic(), mm, cm);
    }

    private static double median(double[] v) {
        if (v.length == 0) {
            return Double.NaN;
        }
        double[] s = v.clone();
        Arrays.sort(s);
        int h = s.length / 2;
        return s.length % 2 == 1 ? s[h] : (s[h - 1] + s[h]) / 2;
    }

    /**
     * Holm's step-down adjustment of the clients' p-values ({@link MarkVerdict.ClientTest#clientPValue()}): sorted
     * ascending, the i-th (from 0) of m p-values becomes {@code max over j <= i of min(1, (m - j) p_j)}; the result
     * is sorted by adjusted p (then by name).
     */
    static List<MarkVerdict.ClientTest> holm(List<MarkVerdict.ClientTest> tests) {
        List<MarkVerdict.ClientTest> sorted = new ArrayList<>(tests);
        sorted.sort(Comparator.comparingDouble(MarkVerdict.ClientTest::clientPValue).thenComparing(
                MarkVerdict.ClientTest::client));
        int m = sorted.size();
        double running = 0;
        List<MarkVerdict.ClientTest> out = new ArrayList<>(m);
        for (int i = 0; i < m; i++) {
            MarkVerdict.ClientTest t = sorted.get(i);
            running = Math.max(running, Math.min(1, (m - i) * t.clientPValue()));
            out.add(t.withHolm(running));
        }
        return out;
    }
}
