package dev.dyepack.verify;

import dev.dyepack.InvalidArgumentException;
import dev.dyepack.InvalidInputException;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import org.apache.commons.statistics.distribution.BetaDistribution;
import org.apache.commons.statistics.inference.AlternativeHypothesis;
import org.apache.commons.statistics.inference.BinomialTest;
import org.apache.commons.statistics.inference.TTest;

/**
 * Decides whether a suspect model carries the owner's watermark, from its answers on a probe set.
 *
 * <p><b>Label test.</b> The success rate is the fraction of triggered probes answered with the target.
 * The null rate is conservative: the largest one-sided Clopper-Pearson upper bound, at confidence
 * 1 - alpha, of the target rate over the clean probes and over each control set (the same trigger
 * family and parameters under keys that are not the owner's). An honest model that drifts toward the
 * target on the owner's kind of trigger drifts on the controls too and raises the null with it. The
 * p-value is that of a one-sided exact binomial test of the triggered hits against the null rate plus a
 * margin (default {@link #DEFAULT_MARGIN}): a model that learnt the trigger family under another key answers
 * each key's pattern at a rate of its own, so the owner's pattern can sit a few points above three controls
 * for reasons the probes' binomial noise does not cover (measured: up to 9 points; docs/efficacy.md,
 * section 14). The margin asks the owner's trigger to beat the strongest control by more than that.
 *
 * <p><b>Probability test</b> (when the answers are probabilities): also a one-sided paired t-test that
 * the target-class probability rises by more than a margin tau from a clean probe to its triggered
 * twin (the published dataset-ownership-verification form); the reported p-value is the larger of
 * the two, so both must agree.
 *
 * <p><b>Key-rank test</b> (a probe set with at least {@link #rankControls(double)} control keys: 100 at
 * alpha 0.01, {@code dyepack probe-set --controls 199} recommended). A model that was not trained on the owner's
 * data cannot tell the owner's key from the control keys: the owner's key and the controls are all drawn
 * independently of whatever key, if any, the model learnt, so under that null the owner's trigger is as likely
 * as any control to be answered most often. The p-value {@code (1 + #{controls answered at least as often}) / (K
 * + 1)} is therefore exact, whatever the model learnt, including a stranger's pattern that happens to share much
 * with the owner's, which three controls bound only thinly (docs/efficacy.md, section 19). Ties count against
 * the owner. It needs controls that are keys drawn alike with the owner's: a keyless trigger's controls (other
 * corners, other frequencies) are not, and there it is only reported. It is computed whenever there are
 * controls; where there are enough keys for it to reach alpha it decides alone, in place of the label test,
 * whose null, the largest of K controls' bounds, only grows with K, and of the probability test, which is not
 * key-specific; both are still reported.
 *
 * <p>Distributions and tests are Apache Commons Statistics'. Thread-safe and immutable.
 *
 * @param alpha  the significance level, in (0, 0.5]
 * @param tau    the margin of the probability test, in [0, 1)
 * @param margin the margin of the label test over the null rate, in [0, 1)
 */
public record Verifier(double alpha, double tau, double margin) {
    /** The default significance level. */
    public static final double DEFAULT_ALPHA = 0.01;
    /** The default margin of the probability test. */
    public static final double DEFAULT_TAU = 0.2;
    /**
     * The default margin of the label test: 10 points above the null rate. On the evaluation's networks a model
     * watermarked under another key answered the owner's trigger up to 8.9 points above the largest of its
     * controls' rates (a ResNet, clean-label with black and white pixels; 6.3 points on the CNN, where the label
     * test without a margin gave p 2.6e-10), and every owner's model under the defaults cleared its null by 19
     * points or more (docs/efficacy.md, section 14).
     */
    public static final double DEFAULT_MARGIN = 0.10;

    /**
     * @throws InvalidArgumentException for alpha outside (0, 0.5], or tau or margin outside [0, 1)
     */
    public Verifier {
        if (!(alpha > 0 && alpha <= 0.5)) {
            throw InvalidArgumentException.of("alpha", alpha, "in (0, 0.5]");
        }
        if (!(tau >= 0 && tau < 1)) {
            throw InvalidArgumentException.of("tau", tau, "in [0, 1)");
        }
        if (!(margin >= 0 && margin < 1)) {
            throw InvalidArgumentException.of("margin", margin, "in [0, 1)");
        }
    }

    /**
     * A verifier with the default label-test margin.
     *
     * @param alpha the significance level, in (0, 0.5]
     * @param tau   the margin of the probability test, in [0, 1)
     */
    public Verifier(double alpha, double tau) {
        this(alpha, tau, DEFAULT_MARGIN);
    }

    /** @return a verifier at alpha = 0.01, tau = 0.2, margin = 0.1 */
    public static Verifier defaults() {
        return new Verifier(DEFAULT_ALPHA, DEFAULT_TAU, DEFAULT_MARGIN);
    }

    /**
     * The fewest control keys with which the key-rank test can reach a significance level: the smallest K with
     * {@code 1 / (K + 1) < alpha}, its smallest p-value.
     *
     * @param alpha the significance level, in (0, 0.5]
     * @return K (100 at alpha 0.01)
     * @throws InvalidArgumentException for alpha outside (0, 0.5]
     */
    public static int rankControls(double alpha) {
        if (!(alpha > 0 && alpha <= 0.5)) {
            throw InvalidArgumentException.of("alpha", alpha, "in (0, 0.5]");
        }
        int k = (int) Math.min(Integer.MAX_VALUE - 1, Math.floor(1 / alpha));
        while (1.0 / (k + 1) >= alpha) {
            k++;
        }
        while (k > 1 && 1.0 / k < alpha) {
            k--;
        }
        return k;
    }

    /**
     * The key-rank test's p-value: where the owner's trigger ranks among the controls by answers of the target.
     *
     * @param ownerHits    triggered probes answered with the target
     * @param controlHits  each control's probes answered with the target (the same probes, the same count)
     * @return {@code (1 + #{k : controlHits[k] >= ownerHits}) / (K + 1)}; 1 without controls
     */
    public static double keyRankP(int ownerHits, int[] controlHits) {
        return (1.0 + atLeast(ownerHits, controlHits)) / (controlHits.length + 1);
    }

    /** The controls answered with the target at least as often as the owner's trigger. */
    private static int atLeast(int ownerHits, int[] controlHits) {
        int n = 0;
        for (int h : controlHits) {
            n += h >= ownerHits ? 1 : 0;
        }
        return n;
    }

    /**
     * The one-sided Clopper-Pearson upper confidence bound of a binomial rate.
     *
     * @param hits       successes
     * @param trials     trials, at least 1
     * @param confidence the confidence level, in (0, 1)
     * @return the bound: the rate p at which seeing {@code hits} or fewer has probability 1 - confidence
     */
    public static double upperBound(int hits, int trials, double confidence) {
        if (trials < 1 || hits < 0 || hits > trials) {
            throw new InvalidArgumentException("need 0 <= hits <= trials and trials >= 1, got " + hits + " of "
                    + trials);
        }
        if (hits == trials) {
            return 1.0;
        }
        return BetaDistribution.of(hits + 1.0, (double) trials - hits).inverseCumulativeProbability(confidence);
    }

    /**
     * Verifies.
     *
     * @param target     the watermark's target class
     * @param trueLabels the probes' true labels (none is the target)
     * @param clean      the suspect's answers on the clean probes
     * @param triggered  its answers on the same probes with the owner's trigger
     * @param controls   its answers with each control trigger (same family, other keys), each named
     * @return the verdict and every number behind it
     * @throws InvalidInputException if the answer sets do not all cover the same probes and classes, or
     *                               a probe's true label is the target
     */
    public Verdict verify(int target, int[] trueLabels, Answers clean, Answers triggered,
            List<Named> controls) {
        return verify(target, trueLabels, clean, triggered, controls, true);
    }

    /**
     * Verifies, saying whether the controls are the trigger under other keys (drawn alike with the owner's, so
     * that the key-rank test is exact and may decide) or variants of a keyless trigger (other corners, other
     * frequencies: not drawn alike with the owner's trigger, so the key-rank test is only reported).
     *
     * @param target          the watermark's target class
     * @param trueLabels      the probes' true labels (none is the target)
     * @param clean           the suspect's answers on the clean probes
     * @param triggered       its answers on the same probes with the owner's trigger
     * @param controls        its answers with each control trigger, each named
     * @param controlsAreKeys whether the controls are the owner's trigger family under keys derived apart from
     *                        the owner's
     * @return the verdict and every number behind it
     * @throws InvalidInputException if the answer sets do not all cover the same probes and classes, or
     *                               a probe's true label is the target
     */
    public Verdict verify(int target, int[] trueLabels, Answers clean, Answers triggered,
            List<Named> controls, boolean controlsAreKeys) {
        Objects.requireNonNull(clean, "clean");
        Objects.requireNonNull(triggered, "triggered");
        Objects.requireNonNull(controls, "controls");
        int n = trueLabels.length;
        if (n < 1) {
            throw new InvalidInputException("the probe set is empty");
        }
        int classes = clean.classes();
        if (target < 0 || target >= classes) {
            throw new InvalidInputException("target " + target + " is outside the answers' classes [0, " + classes
                    + ")");
        }
        check("clean", clean, n, classes);
        check("triggered", triggered, n, classes);
        for (Named c : controls) {
            check(c.name(), c.answers(), n, classes);
        }
        for (int i = 0; i < n; i++) {
            if (trueLabels[i] == target) {
                throw new InvalidInputException("probe " + i + " is of the target class; a probe set holds only "
                        + "samples of other classes");
            }
        }
        double confidence = 1 - alpha;
        int cleanHits = clean.count(target);
        Rate cleanRate = new Rate("clean", cleanHits, n, upperBound(cleanHits, n, confidence));
        List<Rate> controlRates = new ArrayList<>();
        double nullRate = cleanRate.upperBound();
        for (Named c : controls) {
            int hits = c.answers().count(target);
            Rate r = new Rate(c.name(), hits, n, upperBound(hits, n, confidence));
            controlRates.add(r);
            nullRate = Math.max(nullRate, r.upperBound());
        }
        int hits = triggered.count(target);
        double tested = nullRate + margin;
        double labelP = tested >= 1.0 ? 1.0
                : BinomialTest.withDefaults().with(AlternativeHypothesis.GREATER_THAN).test(n, hits, tested)
                        .getPValue();
        int correct = 0;
        for (int i = 0; i < n; i++) {
            if (clean.label(i) == trueLabels[i]) {
                correct++;
            }
        }
        Double probabilityP = null;
        Double meanGain = null;
        if (clean.hasProbabilities() && triggered.hasProbabilities()) {
            double[] up = new double[n];
            double[] base = new double[n];
            double sum = 0;
            for (int i = 0; i < n; i++) {
                up[i] = triggered.probability(i, target);
                base[i] = clean.probability(i, target);
                sum += up[i] - base[i];
            }
            meanGain = sum / n;
            probabilityP = pairedP(up, base, meanGain);
        }
        int[] controlHits = controlRates.stream().mapToInt(Rate::hits).toArray();
        Verdict.KeyRank rank = null;
        if (controlHits.length > 0) {
            rank = new Verdict.KeyRank(controlHits.length, atLeast(hits, controlHits), keyRankP(hits, controlHits),
                    controlsAreKeys && controlHits.length >= rankControls(alpha));
        }
        // The key-rank test, where it can reach alpha, is exact against every model not trained on the owner's key
        // and decides alone: the probability test is not key-specific (a stranger's model passes it as readily),
        // so beside an exact test it would only cost owners their proof (measured: an owner first of 200 keys,
        // its probability test p 0.76; docs/efficacy.md, section 19).
        double p = rank != null && rank.decides() ? rank.pValue()
                : probabilityP == null ? labelP : Math.max(labelP, probabilityP);
        return new Verdict(target, n, hits, (double) hits / n, nullRate, margin, labelP, probabilityP, meanGain, tau,
                p, alpha, p < alpha, (double) correct / n, cleanRate, List.copyOf(controlRates), rank);
    }

    /** One-sided paired t-test of mean(up - base) > tau; a constant difference decides by its sign. */
    private double pairedP(double[] up, double[] base, double meanGain) {
        if (up.length < 2) {
            return 1.0;
        }
        double first = up[0] - base[0];
        boolean constant = true;
        for (int i = 1; i < up.length && constant; i++) {
            constant = up[i] - base[i] == first;
        }
        if (constant) {
            return meanGain > tau ? 0.0 : 1.0;
        }
        return TTest.withDefaults().with(AlternativeHypothesis.GREATER_THAN).withMu(tau).pairedTest(up, base)
                .getPValue();
    }

    private static void check(String name, Answers a, int n, int classes) {
        if (a.size() != n) {
            throw new InvalidInputException("the " + name + " answers cover " + a.size() + " probes, expected " + n);
        }
        if (a.classes() != classes) {
            throw new InvalidInputException("the " + name + " answers have " + a.classes() + " classes, expected "
                    + classes);
        }
    }

    /**
     * Answers under a name (for controls: "control-1", ...).
     *
     * @param name    the name reported
     * @param answers the answers
     */
    public record Named(String name, Answers answers) {}

    /**
     * A target rate with its one-sided upper confidence bound.
     *
     * @param name       what was probed
     * @param hits       answers that were the target
     * @param trials     probes
     * @param upperBound the Clopper-Pearson upper bound at 1 - alpha
     */
    public record Rate(String name, int hits, int trials, double upperBound) {
        /** @return hits / trials */
        public double rate() {
            return (double) hits / trials;
        }
    }
}
