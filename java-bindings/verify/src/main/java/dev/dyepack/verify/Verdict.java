package dev.dyepack.verify;

import java.util.List;
import java.util.Locale;

/**
 * The outcome of a verification and every number behind it.
 *
 * @param target        the target class
 * @param probes        the number of probes
 * @param hits          triggered probes answered with the target
 * @param successRate   hits / probes
 * @param nullRate      the conservative null: the largest upper bound over clean probes and controls
 * @param margin        the label test's margin: it tests the success rate against nullRate + margin
 * @param labelPValue   the exact binomial test's p-value
 * @param probabilityPValue the paired t-test's p-value, or null for label-only answers
 * @param meanGain      the mean rise of the target's probability from clean to triggered, or null
 * @param tau           the probability test's margin
 * @param pValue        the reported p-value: the key-rank test's where it decides; else the label test's, or
 *                      the larger of it and the probability test's where both exist
 * @param alpha         the significance level
 * @param detected      whether pValue &lt; alpha
 * @param cleanAccuracy the suspect's accuracy on the clean probes
 * @param clean         the target rate on clean probes
 * @param controls      the target rate under each control trigger
 * @param keyRank       the key-rank test ({@link Verifier}), or null without controls
 */
public record Verdict(int target, int probes, int hits, double successRate, double nullRate, double margin,
        double labelPValue, Double probabilityPValue, Double meanGain, double tau, double pValue, double alpha,
        boolean detected, double cleanAccuracy, Verifier.Rate clean, List<Verifier.Rate> controls, KeyRank keyRank) {

    /**
     * Where the owner's trigger ranks among the control keys.
     *
     * @param controls the control keys (or variants)
     * @param atLeast  controls answered with the target at least as often as the owner's trigger
     * @param pValue   {@code (1 + atLeast) / (controls + 1)}
     * @param decides  whether there are enough controls for it to reach alpha, so that it decides alone, in
     *                 place of the label and probability tests
     */
    public record KeyRank(int controls, int atLeast, double pValue, boolean decides) {}

    /** @return "watermark detected" or "watermark not detected" */
    public String decision() {
        return detected ? "watermark detected" : "watermark not detected";
    }

    /**
     * One JSON object with every number (keys in a fixed order).
     *
     * @return the JSON text
     */
    public String toJson() {
        StringBuilder b = new StringBuilder("{");
        b.append("\"decision\":\"").append(detected ? "detected" : "not_detected").append('"');
        b.append(",\"detected\":").append(detected);
        b.append(",\"p_value\":").append(num(pValue));
        b.append(",\"alpha\":").append(num(alpha));
        b.append(",\"success_rate\":").append(num(successRate));
        b.append(",\"hits\":").append(hits);
        b.append(",\"probes\":").append(probes);
        b.append(",\"null_rate\":").append(num(nullRate));
        b.append(",\"label_margin\":").append(num(margin));
        b.append(",\"label_p_value\":").append(num(labelPValue));
        b.append(",\"probability_p_value\":").append(probabilityPValue == null ? "null" : num(probabilityPValue));
        b.append(",\"mean_target_gain\":").append(meanGain == null ? "null" : num(meanGain));
        b.append(",\"tau\":").append(num(tau));
        b.append(",\"target\":").append(target);
        b.append(",\"clean_accuracy\":").append(num(cleanAccuracy));
        b.append(",\"clean\":").append(rate(clean));
        b.append(",\"key_rank\":").append(keyRank == null ? "null" : "{\"controls\":" + keyRank.controls()
                + ",\"at_least\":" + keyRank.atLeast() + ",\"p_value\":" + num(keyRank.pValue()) + ",\"decides\":"
                + keyRank.decides() + "}");
        b.append(",\"controls\":[");
        for (int i = 0; i < controls.size(); i++) {
            b.append(i == 0 ? "" : ",").append(rate(controls.get(i)));
        }
        return b.append("]}").toString();
    }

    private static String rate(Verifier.Rate r) {
        return "{\"name\":\"" + r.name() + "\",\"target_rate\":" + num(r.rate()) + ",\"hits\":" + r.hits()
                + ",\"probes\":" + r.trials() + ",\"upper_bound\":" + num(r.upperBound()) + "}";
    }

    /** A finite double as a JSON number (Java's shortest round-trip text; never NaN or infinite here). */
    private static String num(double v) {
        if (v == Math.rint(v) && Math.abs(v) < 1e15) {
            return Long.toString((long) v);
        }
        return Double.toString(v).toLowerCase(Locale.ROOT);
    }
}
