package dev.dyepack.verify;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.dyepack.InvalidArgumentException;
import dev.dyepack.InvalidInputException;
import java.math.BigDecimal;
import java.math.MathContext;
import java.util.Arrays;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.api.Test;

/** The verifier's statistics against references computed here from the binomial distribution itself. */
class VerifierTest {

    /** P(X >= k) for X ~ Binomial(n, p), summed exactly in BigDecimal. */
    static double upperTail(int n, int k, double p) {
        MathContext mc = MathContext.DECIMAL128;
        BigDecimal bp = new BigDecimal(p);
        BigDecimal bq = BigDecimal.ONE.subtract(bp);
        BigDecimal sum = BigDecimal.ZERO;
        BigDecimal choose = BigDecimal.ONE; // C(n, i)
        for (int i = 0; i <= n; i++) {
            if (i > 0) {
                choose = choose.multiply(BigDecimal.valueOf(n - i + 1)).divide(BigDecimal.valueOf(i), mc);
            }
            if (i >= k) {
                sum = sum.add(choose.multiply(bp.pow(i, mc), mc).multiply(bq.pow(n - i, mc), mc), mc);
            }
        }
        return sum.doubleValue();
    }

    /** The Clopper-Pearson upper bound by bisection on P(X <= k; n, p) = 1 - confidence. */
    static double upperBoundByBisection(int k, int n, double confidence) {
        if (k == n) {
            return 1.0;
        }
        double lo = 0;
        double hi = 1;
        for (int it = 0; it < 60; it++) {
            double mid = (lo + hi) / 2;
            double cdf = 1 - upperTail(n, k + 1, mid); // P(X <= k)
            if (cdf > 1 - confidence) {
                lo = mid;
            } else {
                hi = mid;
            }
        }
        return (lo + hi) / 2;
    }

    @ParameterizedTest
    @CsvSource({"0,100,0.99", "3,100,0.99", "50,100,0.95", "99,100,0.99", "100,100,0.99", "0,1,0.99", "7,30,0.999"})
    void clopperPearsonUpperBoundMatchesTheBinomialCdf(int k, int n, double confidence) {
        double bound = Verifier.upperBound(k, n, confidence);
        assertEquals(upperBoundByBisection(k, n, confidence), bound, 1e-9, k + " of " + n);
        // Known value: zero hits in n trials at 99% gives 1 - 0.01^(1/n).
        if (k == 0) {
            assertEquals(1 - Math.pow(1 - confidence, 1.0 / n), bound, 1e-12);
        }
    }

    private static Answers labels(int n, int classes, int target, int hits, int seed) {
        Random r = new Random(seed);
        int[] a = new int[n];
        for (int i = 0; i < n; i++) {
            a[i] = i < hits ? target : 1 + r.nextInt(classes - 1);
        }
        return Answers.ofLabels(a, classes);
    }

    private static int[] truth(int n, int classes) {
        int[] t = new int[n];
        Arrays.setAll(t, i -> 1 + i % (classes - 1));
        return t;
    }

    @Test
    void labelPValueIsTheExactBinomialTailAgainstTheLargestBoundPlusTheMargin() {
        int n = 200;
        Answers clean = labels(n, 10, 0, 2, 1);
        Answers triggered = labels(n, 10, 0, 30, 2);
        List<Verifier.Named> controls = List.of(new Verifier.Named("control-1", labels(n, 10, 0, 9, 3)),
                new Verifier.Named("control-2", labels(n, 10, 0, 4, 4)));
        double expectedNull = upperBoundByBisection(9, n, 0.99); // control-1 has the most target answers
        for (double margin : new double[] {0, 0.03, Verifier.DEFAULT_MARGIN}) {
            Verdict d = new Verifier(0.01, 0.2, margin).verify(0, truth(n, 10), clean, triggered, controls);
            assertEquals(expectedNull, d.nullRate(), 1e-9, "the null does not move with the margin");
            assertEquals(margin, d.margin());
            assertEquals(upperTail(n, 30, expectedNull + margin), d.labelPValue(), 1e-12 + 1e-9 * d.labelPValue(),
                    "margin " + margin);
            assertEquals(30.0 / n, d.successRate());
            assertEquals(d.labelPValue(), d.pValue());
            assertNull(d.probabilityPValue());
            assertEquals(d.pValue() < 0.01, d.detected());
        }
        assertEquals(Verifier.DEFAULT_MARGIN, new Verifier(0.01, 0.2).margin(), "the two-argument form's margin");
        assertEquals(Verifier.DEFAULT_MARGIN, Verifier.defaults().margin());
        // A margin that takes the tested rate to 1 or past it leaves nothing to detect.
        Verdict all = new Verifier(0.01, 0.2, 0.99).verify(0, truth(n, 10), clean, triggered, controls);
        assertEquals(1.0, all.labelPValue());
        assertFalse(all.detected());
    }

    @Test
    void aModelTrainedUnderAnotherKeyAFewPointsAboveItsControlsIsNotAccused() {
        // As measured on a CNN (docs/efficacy.md, section 14): an other-key model answered the owner's trigger
        // on 157 of 1,000 probes, its controls on at most 70: without a margin the label test accuses it.
        int n = 1000;
        Answers clean = labels(n, 10, 0, 6, 1);
        Answers triggered = labels(n, 10, 0, 157, 2);
        List<Verifier.Named> controls = List.of(new Verifier.Named("control-1", labels(n, 10, 0, 70, 3)),
                new Verifier.Named("control-2", labels(n, 10, 0, 55, 4)),
                new Verifier.Named("control-3", labels(n, 10, 0, 61, 5)));
        Verdict without = new Verifier(0.01, 0.2, 0).verify(0, truth(n, 10), clean, triggered, controls);
        assertTrue(without.detected(), "p = " + without.pValue());
        Verdict with = Verifier.defaults().verify(0, truth(n, 10), clean, triggered, controls);
        assertFalse(with.detected(), "p = " + with.pValue());
        assertEquals(upperTail(n, 157, upperBoundByBisection(70, n, 0.99) + Verifier.DEFAULT_MARGIN),
                with.labelPValue(), 1e-12 + 1e-9 * with.labelPValue());
        // The owner's model, far above its controls, is detected either way.
        Verdict owner = Verifier.defaults().verify(0, truth(n, 10), clean, labels(n, 10, 0, 414, 6), controls);
        assertTrue(owner.pValue() < 1e-30, "p = " + owner.pValue());
    }

    @Test
    void aStrongWatermarkIsDetectedAndNoWatermarkIsNot() {
        int n = 1000;
        Verifier v = Verifier.defaults();
        Answers clean = labels(n, 10, 0, 10, 1);
        Verdict marked = v.verify(0, truth(n, 10), clean, labels(n, 10, 0, 950, 2),
                List.of(new Verifier.Named("control-1", labels(n, 10, 0, 40, 3))));
        assertTrue(marked.detected());
        assertTrue(marked.pValue() < 1e-100, "p = " + marked.pValue());
        Verdict honest = v.verify(0, truth(n, 10), clean, labels(n, 10, 0, 12, 4),
                List.of(new Verifier.Named("control-1", labels(n, 10, 0, 11, 3))));
        assertFalse(honest.detected());
        assertTrue(honest.pValue() > 0.5, "p = " + honest.pValue());
        assertEquals("watermark not detected", honest.decision());
    }

    @Test
    void controlsThatAlsoHitTheTargetRaiseTheNull() {
        // A model that answers the target for any trigger of the family is not evidence of the owner's key.
        int n = 500;
        Verdict d = Verifier.defaults().verify(0, truth(n, 10), labels(n, 10, 0, 5, 1), labels(n, 10, 0, 400, 2),
                List.of(new Verifier.Named("control-1", labels(n, 10, 0, 390, 3))));
        assertFalse(d.detected(), "p = " + d.pValue());
    }

    /** The key-rank p-value by its definition: the owner's rank among all K + 1 hit counts, ties against it. */
    static double rankByDefinition(int owner, int[] controls) {
        int[] all = Arrays.copyOf(controls, controls.length + 1);
        all[controls.length] = owner;
        Arrays.sort(all);
        // Keys answered at least as often as the owner's, the owner's own among them.
        int from = 0;
        while (all[from] < owner) {
            from++;
        }
        return (double) (all.length - from) / all.length;
    }

    private static List<Verifier.Named> controls(int n, int[] hits) {
        List<Verifier.Named> c = new java.util.ArrayList<>();
        for (int k = 0; k < hits.length; k++) {
            c.add(new Verifier.Named("control-" + (k + 1), labels(n, 10, 0, hits[k], 100 + k)));
        }
        return c;
    }

    @Test
    void theKeyRankTestNeedsEnoughControlsToReachAlpha() {
        assertEquals(100, Verifier.rankControls(0.01), "1/101 < 0.01 <= 1/100");
        assertEquals(20, Verifier.rankControls(0.05));
        assertEquals(1000, Verifier.rankControls(0.001));
        assertEquals(2, Verifier.rankControls(0.5));
        for (double alpha : new double[] {0.01, 0.05, 0.001, 0.3, 0.5, 0.0123}) {
            int k = Verifier.rankControls(alpha);
            assertTrue(1.0 / (k + 1) < alpha && (k == 1 || 1.0 / k >= alpha), "alpha " + alpha + ": " + k);
        }
        assertThrows(InvalidArgumentException.class, () -> Verifier.rankControls(0));
        assertTrue(ProbeSet.MAX_CONTROLS >= Verifier.rankControls(0.001), "a probe set can hold enough at 0.001");
    }

    @Test
    void theKeyRankPValueIsTheOwnersRankWithTiesAgainstIt() {
        Random r = new Random(7);
        for (int trial = 0; trial < 200; trial++) {
            int k = 1 + r.nextInt(300);
            int[] hits = new int[k];
            for (int i = 0; i < k; i++) {
                hits[i] = r.nextInt(40);
            }
            int owner = r.nextInt(45);
            assertEquals(rankByDefinition(owner, hits), Verifier.keyRankP(owner, hits), 1e-15);
        }
        assertEquals(1.0, Verifier.keyRankP(5, new int[] {5, 5, 5}), "ties count against the owner");
        assertEquals(1.0 / 4, Verifier.keyRankP(6, new int[] {5, 5, 5}));
        assertEquals(1.0, Verifier.keyRankP(0, new int[0]));
    }

    @Test
    void theKeyRankTestHoldsItsFalseAccusationRateAtAlphaWhereTheLabelTestDoesNot() {
        // Strangers' models: each answers every key's pattern at a rate of its own, drawn from a heavy-tailed
        // spread (most keys near the clean rate, a few that share much with the stranger's key far above it, as
        // measured: docs/efficacy.md, section 19), and the owner's key is one more draw from the same spread, as it
        // is for anyone but the owner. The key-rank test (199 controls of 100 probes) must accuse at most alpha of
        // them; the label test (the default probe set: 1,000 probes, three controls, the margin), which sees the
        // spread three times, accuses several times as many.
        int k = 199;
        Random r = new Random(11);
        Verifier v = Verifier.defaults();
        int trials = 2000;
        int rankAccused = 0;
        int labelAccused = 0;
        for (int t = 0; t < trials; t++) {
            double scale = 0.2 + 0.6 * r.nextDouble();
            double[] rate = new double[k + 1];
            int[] hits = new int[k + 1];
            for (int i = 0; i <= k; i++) {
                rate[i] = Math.min(1, 0.01 + scale * Math.pow(r.nextDouble(), 8));
                hits[i] = binomial(r, 100, rate[i]);
            }
            rankAccused += Verifier.keyRankP(hits[k], Arrays.copyOf(hits, k)) < v.alpha() ? 1 : 0;
            int n = 1000;
            Verdict three = v.verify(0, truth(n, 10), labels(n, 10, 0, binomial(r, n, 0.01), t),
                    labels(n, 10, 0, binomial(r, n, rate[k]), t + 1),
                    controls(n, new int[] {binomial(r, n, rate[0]), binomial(r, n, rate[1]), binomial(r, n, rate[2])}));
            labelAccused += three.detected() ? 1 : 0;
        }
        // Binomial(2000, 1 / 200) has mean 10 and standard deviation 3.2: 25 is 4.7 of them above.
        assertTrue(rankAccused <= 25, rankAccused + " of " + trials + " accused by the key-rank test");
        assertTrue(labelAccused > 3 * 25, "label test " + labelAccused + ", key-rank " + rankAccused);
    }

    private static int binomial(Random r, int n, double p) {
        int h = 0;
        for (int j = 0; j < n; j++) {
            h += r.nextDouble() < p ? 1 : 0;
        }
        return h;
    }

    @Test
    void withEnoughControlsTheKeyRankTestDecidesInPlaceOfTheLabelTest() {
        int n = 100;
        Random r = new Random(3);
        int[] many = new int[100];
        for (int i = 0; i < many.length; i++) {
            many[i] = r.nextInt(30);
        }
        many[17] = 60; // one control key close to whatever the model learnt: the label test's null rises to it
        Answers clean = labels(n, 10, 0, 2, 1);
        // The owner's model: its trigger answered more often than every control, but not 10 points above the
        // largest control's upper bound.
        Verdict owner = Verifier.defaults().verify(0, truth(n, 10), clean, labels(n, 10, 0, 64, 2), controls(n, many));
        assertEquals(new Verdict.KeyRank(100, 0, 1.0 / 101, true), owner.keyRank());
        assertTrue(owner.labelPValue() > 0.5, "the label test alone would miss it: " + owner.labelPValue());
        assertEquals(1.0 / 101, owner.pValue(), 1e-15);
        assertTrue(owner.detected());
        assertTrue(owner.toJson().contains("\"key_rank\":{\"controls\":100,\"at_least\":0,\"p_value\":"
                + (1.0 / 101) + ",\"decides\":true}"), owner.toJson());
        // Controls that are variants of a keyless trigger (other corners, other frequencies) are not drawn alike
        // with the owner's trigger: the test is shown, not used, however many there are.
        Verdict variants = Verifier.defaults().verify(0, truth(n, 10), clean, labels(n, 10, 0, 64, 2),
                controls(n, many), false);
        assertEquals(new Verdict.KeyRank(100, 0, 1.0 / 101, false), variants.keyRank());
        assertEquals(variants.labelPValue(), variants.pValue());
        assertFalse(variants.detected());
        // One control fewer: the test cannot reach alpha and is shown, not used; the label test decides.
        int[] fewer = Arrays.copyOf(many, 99);
        Verdict short99 = Verifier.defaults().verify(0, truth(n, 10), clean, labels(n, 10, 0, 64, 2),
                controls(n, fewer));
        assertFalse(short99.keyRank().decides());
        assertEquals(0.01, short99.keyRank().pValue(), 1e-15);
        assertEquals(short99.labelPValue(), short99.pValue());
        assertFalse(short99.detected());
        // A stranger whose key happens to draw more answers than most controls, not all: not accused.
        Verdict stranger = Verifier.defaults().verify(0, truth(n, 10), clean, labels(n, 10, 0, 45, 3),
                controls(n, many));
        assertEquals(2.0 / 101, stranger.keyRank().pValue(), 1e-15);
        assertFalse(stranger.detected());
        // A model that answers the target for everything ties with every control.
        int[] all = new int[100];
        Arrays.fill(all, n);
        Verdict always = Verifier.defaults().verify(0, truth(n, 10), labels(n, 10, 0, n, 4), labels(n, 10, 0, n, 5),
                controls(n, all));
        assertEquals(1.0, always.keyRank().pValue());
        assertFalse(always.detected());
        // Without controls there is no ranking.
        assertNull(Verifier.defaults().verify(0, truth(n, 10), clean, labels(n, 10, 0, 64, 2), List.of()).keyRank());
    }

    private static Answers probs(int n, int target, double[] targetP) {
        float[] p = new float[n * 2];
        for (int i = 0; i < n; i++) {
            p[i * 2 + target] = (float) targetP[i];
            p[i * 2 + 1 - target] = 1f - (float) targetP[i];
        }
        return Answers.ofProbabilities(p, n, 2);
    }

    @Test
    void whereTheKeyRankTestDecidesTheProbabilityTestIsReportedNotRequired() {
        // An owner's model that answers its trigger with the target on 40 of 100 probes, more than any of 100 control
        // keys, but raises the target's probability by only 0.1 on average: the probability test (tau 0.2) fails.
        int n = 100;
        double[] base = new double[n];
        Arrays.fill(base, 0.40);
        double[] up = new double[n];
        for (int i = 0; i < n; i++) {
            up[i] = i < 40 ? 0.55 : 0.43;
        }
        List<Verifier.Named> controls = new java.util.ArrayList<>();
        Random r = new Random(5);
        for (int k = 0; k < 100; k++) {
            double[] c = new double[n];
            int hits = r.nextInt(35);
            for (int i = 0; i < n; i++) {
                c[i] = i < hits ? 0.6 : 0.41;
            }
            controls.add(new Verifier.Named("control-" + (k + 1), probs(n, 0, c)));
        }
        int[] truth = new int[n];
        Arrays.fill(truth, 1);
        Verdict d = Verifier.defaults().verify(0, truth, probs(n, 0, base), probs(n, 0, up), controls);
        assertTrue(d.probabilityPValue() > 0.5, "the probability test fails: " + d.probabilityPValue());
        assertTrue(d.keyRank().decides());
        assertEquals(1.0 / 101, d.pValue(), 1e-15, "the key-rank test decides alone");
        assertTrue(d.detected());
        // With three of those controls the label and probability tests decide, and both must agree.
        Verdict three = Verifier.defaults().verify(0, truth, probs(n, 0, base), probs(n, 0, up), controls.subList(0, 3));
        assertEquals(Math.max(three.labelPValue(), three.probabilityPValue()), three.pValue());
        assertFalse(three.detected());
    }

    @Test
    void probabilityTestIsThePairedOneSidedTTestWithMargin() {
        int n = 50;
        Random r = new Random(5);
        double[] base = new double[n];
        double[] up = new double[n];
        for (int i = 0; i < n; i++) {
            base[i] = 0.05 * r.nextDouble();
            up[i] = Math.min(1, base[i] + 0.25 + 0.1 * r.nextGaussian());
            up[i] = Math.max(0, up[i]);
        }
        Answers clean = probs(n, 0, base);
        Answers trig = probs(n, 0, up);
        int[] t = new int[n];
        Arrays.fill(t, 1);
        Verdict d = new Verifier(0.01, 0.2).verify(0, t, clean, trig, List.of());
        // Reference: t = (mean(d) - tau) / (sd(d) / sqrt(n)), p = P(T_{n-1} >= t), with the float32 values.
        double[] diff = new double[n];
        double mean = 0;
        for (int i = 0; i < n; i++) {
            diff[i] = trig.probability(i, 0) - clean.probability(i, 0);
            mean += diff[i] / n;
        }
        double var = 0;
        for (double x : diff) {
            var += (x - mean) * (x - mean) / (n - 1);
        }
        double tStat = (mean - 0.2) / Math.sqrt(var / n);
        double expected = org.apache.commons.statistics.distribution.TDistribution.of(n - 1).survivalProbability(tStat);
        assertEquals(expected, d.probabilityPValue(), 1e-12);
        assertEquals(Math.max(d.labelPValue(), d.probabilityPValue()), d.pValue());
        assertEquals(mean, d.meanGain(), 1e-12);
    }

    @Test
    void brokenAnswersAreRefusedNeverScored() {
        assertThrows(InvalidInputException.class, () -> Answers.ofLabels(new int[] {0, 10}, 10));
        assertThrows(InvalidInputException.class, () -> Answers.ofLabels(new int[] {-1}, 10));
        assertThrows(InvalidInputException.class, () -> Answers.ofProbabilities(new float[] {Float.NaN, 1f}, 1, 2));
        assertThrows(InvalidInputException.class, () -> Answers.ofProbabilities(new float[] {-0.1f, 1.1f}, 1, 2));
        assertThrows(InvalidInputException.class, () -> Answers.ofProbabilities(new float[] {0.4f, 0.4f}, 1, 2));
        assertThrows(InvalidInputException.class, () -> Answers.ofProbabilities(new float[] {0.5f, 0.5f}, 2, 2));
        Answers ok = labels(10, 10, 0, 1, 1);
        assertThrows(InvalidInputException.class,
                () -> Verifier.defaults().verify(0, truth(10, 10), ok, labels(9, 10, 0, 1, 1), List.of()));
        int[] withTarget = truth(10, 10);
        withTarget[3] = 0;
        assertThrows(InvalidInputException.class, () -> Verifier.defaults().verify(0, withTarget, ok, ok, List.of()));
        assertThrows(InvalidArgumentException.class, () -> new Verifier(0, 0.2));
        assertThrows(InvalidArgumentException.class, () -> new Verifier(0.01, 1));
        assertThrows(InvalidArgumentException.class, () -> new Verifier(Double.NaN, 0.2));
        assertThrows(InvalidArgumentException.class, () -> new Verifier(0.01, 0.2, -0.01));
        assertThrows(InvalidArgumentException.class, () -> new Verifier(0.01, 0.2, 1));
        assertThrows(InvalidArgumentException.class, () -> new Verifier(0.01, 0.2, Double.NaN));
    }
}
