package dev.dyepack.mark;

import dev.dyepack.manifest.Json;
import java.util.List;
import java.util.Locale;

/**
 * The outcome of testing a suspect against answer marks, and every number behind it.
 *
 * <p>Two tests look at each client's probes: the <b>label test</b> (Fisher's exact test on how often the suspect
 * answers the served runner-up) always, and the <b>gap test</b> (a Mann-Whitney U test on the suspect's
 * probability of the runner-up minus its probability of the top class) when the suspect's answers carry
 * probabilities. A client's p-value is its label test's when the gap test is not available, else Holm's over
 * the two, {@code min(1, 2 min(p_label, p_gap))}; the clients' p-values are then Holm-adjusted over the
 * clients. So the decision is a valid one-sided test at alpha, family-wise over clients and tests.
 *
 * @param alpha      the significance level (family-wise, over the clients and the tests)
 * @param pValue     the reported p-value: the smallest Holm-adjusted p over the clients
 * @param detected   whether {@code pValue < alpha}
 * @param pooled     all clients' probes together (for reference; its p-values are not corrected)
 * @param clients    each client's test, sorted by Holm-adjusted p-value
 * @param implicated the clients whose Holm-adjusted p is under alpha, best first
 * @param gapTest    whether the gap test was computed, and why not when it was not
 */
public record MarkVerdict(double alpha, double pValue, boolean detected, ClientTest pooled, List<ClientTest> clients,
        List<String> implicated, GapTest gapTest) {

    /** The label test's name in the record. */
    public static final String LABEL = "label";
    /** The gap test's name in the record. */
    public static final String GAP = "gap";

    /**
     * Whether the gap test was computed.
     *
     * @param available whether the suspect's answers carried probabilities for every probe
     * @param scores    what the suspect answered: "probabilities", "logits" (its softmax was taken per row), or
     *                  "labels"
     * @param reason    why the test is not available (null when it is)
     */
    public record GapTest(boolean available, String scores, String reason) {
        /**
         * @param scores "probabilities" or "logits"
         * @return an available gap test on those scores
         */
        public static GapTest on(String scores) {
            return new GapTest(true, scores, null);
        }

        /**
         * @param reason why the test cannot be computed
         * @return a gap test that is not available
         */
        public static GapTest unavailable(String reason) {
            return new GapTest(false, "labels", reason);
        }

        String toJson() {
            return "{\"available\":" + available + ",\"test\":\"mann-whitney-u-one-sided\",\"scores\":"
                    + Json.quote(scores) + ",\"reason\":" + (reason == null ? "null" : Json.quote(reason)) + "}";
        }
    }

    /**
     * One client's gap test: the suspect's probability of the served model's runner-up minus its probability of
     * the served model's top class, on the client's marked against its control queries.
     *
     * @param pValue        the Mann-Whitney U test's p-value, one-sided (larger gaps on marked)
     * @param statistic     the U statistic of the marked gaps
     * @param markedMedian  the median gap on marked queries (NaN when there are none)
     * @param controlMedian the median gap on control queries (NaN when there are none)
     */
    public record Gap(double pValue, double statistic, double markedMedian, double controlMedian) {}

    /**
     * One client's tests: how often the suspect answers the served model's runner-up on the client's marked
     * queries (where the runner-up was served) and on its control queries (where it was not), and, with
     * probabilities, how much probability it gives the runner-up over the top class on each.
     *
     * @param client          the client ("(all)" for the pooled test)
     * @param markedFollowed  marked queries answered with the runner-up
     * @param marked          marked queries
     * @param controlFollowed control queries answered with the runner-up
     * @param control         control queries
     * @param pValue          the label test: Fisher's exact test, one-sided (more on marked)
     * @param holmPValue      the client's p-value ({@code clientPValue}) Holm-adjusted over the clients (the
     *                        pooled test: its own client p)
     * @param gap             the gap test, or null when it is not available
     * @param clientPValue    the client's p-value over its tests: {@code pValue} without a gap test, else
     *                        {@code min(1, 2 min(pValue, gap.pValue))} (Holm over the two)
     */
    public record ClientTest(String client, int markedFollowed, int marked, int controlFollowed, int control,
            double pValue, double holmPValue, Gap gap, double clientPValue) {

        /**
         * A client's label test alone (no gap test).
         *
         * @param client          the client
         * @param markedFollowed  marked queries answered with the runner-up
         * @param marked          marked queries
         * @param controlFollowed control queries answered with the runner-up
         * @param control         control queries
         * @param pValue          Fisher's exact test, one-sided
         * @param holmPValue      the Holm-adjusted p-value over the clients
         */
        public ClientTest(String client, int markedFollowed, int marked, int controlFollowed, int control,
                double pValue, double holmPValue) {
            this(client, markedFollowed, marked, controlFollowed, control, pValue, holmPValue, null, pValue);
        }

        /** @return the share of marked queries answered with the runner-up (0 when there are none) */
        public double markedRate() {
            return marked == 0 ? 0 : (double) markedFollowed / marked;
        }

        /** @return the share of control queries answered with the runner-up (0 when there are none) */
        public double controlRate() {
            return control == 0 ? 0 : (double) controlFollowed / control;
        }

        /** @return the gap test's p-value, or null when it is not available */
        public Double gapPValue() {
            return gap == null ? null : gap.pValue();
        }

        /** @return {@link #GAP} when the gap test's p is the smaller of the two, else {@link #LABEL} */
        public String decidedBy() {
            return gap != null && gap.pValue() < pValue ? GAP : LABEL;
        }

        /** @return the same test with another Holm-adjusted p-value */
        ClientTest withHolm(double holm) {
            return new ClientTest(client, markedFollowed, marked, controlFollowed, control, pValue, holm, gap,
                    clientPValue);
        }

        String toJson() {
            return "{\"client\":" + Json.quote(client) + ",\"marked_followed\":" + markedFollowed + ",\"marked\":"
                    + marked + ",\"marked_rate\":" + num(markedRate()) + ",\"control_followed\":" + controlFollowed
                    + ",\"control\":" + control + ",\"control_rate\":" + num(controlRate()) + ",\"p_value\":"
                    + num(pValue) + ",\"holm_p_value\":" + num(holmPValue) + ",\"gap_p_value\":"
                    + (gap == null ? "null" : num(gap.pValue())) + ",\"gap_u\":"
                    + (gap == null ? "null" : num(gap.statistic())) + ",\"marked_gap_median\":"
                    + (gap == null ? "null" : numOrNull(gap.markedMedian())) + ",\"control_gap_median\":"
                    + (gap == null ? "null" : numOrNull(gap.controlMedian())) + ",\"client_p_value\":"
                    + num(clientPValue) + ",\"decided_by\":\"" + decidedBy() + "\"}";
        }
    }

    /** @return "clone detected" or "clone not detected" */
    public String decision() {
        return detected ? "clone detected" : "clone not detected";
    }

    /**
     * @return the test whose p-value decided the best client's p ({@link #LABEL} or {@link #GAP}; {@link #LABEL}
     *         when there is no client)
     */
    public String decidedBy() {
        return clients.isEmpty() ? LABEL : clients.get(0).decidedBy();
    }

    /**
     * One JSON object with every number (keys in a fixed order; the keys of the label test alone come first,
     * as they were before the gap test existed).
     *
     * @return the JSON text
     */
    public String toJson() {
        StringBuilder b = new StringBuilder("{\"decision\":\"").append(detected ? "detected" : "not_detected")
                .append('"');
        b.append(",\"detected\":").append(detected);
        b.append(",\"p_value\":").append(num(pValue));
        b.append(",\"alpha\":").append(num(alpha));
        b.append(",\"test\":\"fisher-exact-one-sided\",\"correction\":\"holm\"");
        b.append(",\"implicated\":[");
        for (int i = 0; i < implicated.size(); i++) {
            b.append(i == 0 ? "" : ",").append(Json.quote(implicated.get(i)));
        }
        b.append("],\"pooled\":").append(pooled.toJson());
        b.append(",\"clients\":[");
        for (int i = 0; i < clients.size(); i++) {
            b.append(i == 0 ? "" : ",").append(clients.get(i).toJson());
        }
        b.append("],\"gap_test\":").append(gapTest.toJson());
        b.append(",\"combination\":\"").append(gapTest.available() ? "holm-over-label-and-gap-per-client" : "none")
                .append('"');
        b.append(",\"decided_by\":\"").append(decidedBy()).append('"');
        return b.append('}').toString();
    }

    /** A finite double as JSON text: integral values without a fraction, others in Java's shortest form. */
    static String num(double v) {
        if (v == Math.rint(v) && Math.abs(v) < 1e15) {
            return Long.toString((long) v);
        }
        return Double.toString(v).toLowerCase(Locale.ROOT);
    }

    private static String numOrNull(double v) {
        return Double.isFinite(v) ? num(v) : "null";
    }
}
