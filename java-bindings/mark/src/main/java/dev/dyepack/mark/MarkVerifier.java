package dev.dyepack.mark;

import dev.dyepack.InvalidArgumentException;
import dev.dyepack.InvalidInputException;
import dev.dyepack.verify.Answers;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.apache.commons.statistics.inference.AlternativeHypothesis;
import org.apache.commons.statistics.inference.FisherExactTest;

/**
 * Tests whether a suspect learned the marked answers: on the marked queries the served model's runner-up
 * was served, on the control queries its top class; a model trained on those answers answers the runner-up
 * more often on marked than on control queries, an independent model does not. Each client is tested on
 * its own queries (a clone learns the marks of the client whose answers it was trained on, and no one
 * else's) with Fisher's exact test, one-sided, from Apache Commons Statistics; the p-values are adjusted for
 * the number of clients with Holm's step-down method, and the clients under alpha are named. Stateless.
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
     * Tests a suspect's answers.
     *
     * @param set     the probe set
     * @param marked  the suspect's answers on {@link MarkProbeSet#MARKED}, in order
     * @param control its answers on {@link MarkProbeSet#CONTROL}, in order
     * @return the verdict
     * @throws InvalidInputException if an answer count differs from the probe set's
     */
    public MarkVerdict verify(MarkProbeSet set, Answers marked, Answers control) {
        if (marked.size() != set.marked().size() || control.size() != set.control().size()) {
            throw new InvalidInputException("the suspect gave " + marked.size() + " and " + control.size()
                    + " answers, but the probe set has " + set.marked().size() + " marked and " + set.control().size()
                    + " control probes");
        }
        Map<String, int[]> counts = new LinkedHashMap<>(); // {markedFollowed, marked, controlFollowed, control}
        for (String c : set.clients()) {
            counts.put(c, new int[4]);
        }
        int[] all = new int[4];
        tally(set.marked(), marked, counts, all, 0);
        tally(set.control(), control, counts, all, 2);
        List<MarkVerdict.ClientTest> raw = new ArrayList<>();
        for (Map.Entry<String, int[]> e : counts.entrySet()) {
            int[] k = e.getValue();
            double p = fisher(k);
            raw.add(new MarkVerdict.ClientTest(e.getKey(), k[0], k[1], k[2], k[3], p, p));
        }
        List<MarkVerdict.ClientTest> tests = holm(raw);
        double pooledP = fisher(all);
        MarkVerdict.ClientTest pooled = new MarkVerdict.ClientTest(ALL, all[0], all[1], all[2], all[3], pooledP,
                pooledP);
        double best = tests.isEmpty() ? 1 : tests.get(0).holmPValue();
        List<String> implicated = tests.stream().filter(t -> t.holmPValue() < alpha).map(
                MarkVerdict.ClientTest::client).toList();
        return new MarkVerdict(alpha, best, best < alpha, pooled, tests, implicated);
    }

    private static void tally(MarkProbeSet.Rows rows, Answers answers, Map<String, int[]> counts, int[] all, int at) {
        for (int i = 0; i < rows.size(); i++) {
            int[] k = counts.get(rows.client()[i]);
            boolean follows = answers.label(i) == rows.runnerUp()[i];
            k[at + 1]++;
            all[at + 1]++;
            if (follows) {
                k[at]++;
                all[at]++;
            }
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
     * Holm's step-down adjustment: sorted ascending, the i-th (from 0) of m p-values becomes
     * {@code max over j <= i of min(1, (m - j) p_j)}; the result is sorted by adjusted p (then by name).
     */
    static List<MarkVerdict.ClientTest> holm(List<MarkVerdict.ClientTest> tests) {
        List<MarkVerdict.ClientTest> sorted = new ArrayList<>(tests);
        sorted.sort(Comparator.comparingDouble(MarkVerdict.ClientTest::pValue).thenComparing(
                MarkVerdict.ClientTest::client));
        int m = sorted.size();
        double running = 0;
        List<MarkVerdict.ClientTest> out = new ArrayList<>(m);
        for (int i = 0; i < m; i++) {
            MarkVerdict.ClientTest t = sorted.get(i);
            running = Math.max(running, Math.min(1, (m - i) * t.pValue()));
            out.add(new MarkVerdict.ClientTest(t.client(), t.markedFollowed(), t.marked(), t.controlFollowed(),
                    t.control(), t.pValue(), running));
        }
        return out;
    }
}
