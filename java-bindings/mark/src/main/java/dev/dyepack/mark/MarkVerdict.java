package dev.dyepack.mark;

import dev.dyepack.manifest.Json;
import java.util.List;
import java.util.Locale;

/**
 * The outcome of testing a suspect against answer marks, and every number behind it.
 *
 * @param alpha      the significance level (family-wise, over the clients)
 * @param pValue     the reported p-value: the smallest Holm-adjusted p over the clients
 * @param detected   whether {@code pValue < alpha}
 * @param pooled     all clients' probes together (for reference; its p-value is not corrected)
 * @param clients    each client's test, sorted by p-value
 * @param implicated the clients whose Holm-adjusted p is under alpha, best first
 */
public record MarkVerdict(double alpha, double pValue, boolean detected, ClientTest pooled, List<ClientTest> clients,
        List<String> implicated) {

    /**
     * One client's test: how often the suspect answers the served model's runner-up on the client's marked
     * queries (where the runner-up was served) and on its control queries (where it was not).
     *
     * @param client          the client ("(all)" for the pooled test)
     * @param markedFollowed  marked queries answered with the runner-up
     * @param marked          marked queries
     * @param controlFollowed control queries answered with the runner-up
     * @param control         control queries
     * @param pValue          Fisher's exact test, one-sided (more on marked)
     * @param holmPValue      the Holm-adjusted p-value over the clients (the pooled test: its own p)
     */
    public record ClientTest(String client, int markedFollowed, int marked, int controlFollowed, int control,
            double pValue, double holmPValue) {
        /** @return the share of marked queries answered with the runner-up (0 when there are none) */
        public double markedRate() {
            return marked == 0 ? 0 : (double) markedFollowed / marked;
        }

        /** @return the share of control queries answered with the runner-up (0 when there are none) */
        public double controlRate() {
            return control == 0 ? 0 : (double) controlFollowed / control;
        }

        String toJson() {
            return "{\"client\":" + Json.quote(client) + ",\"marked_followed\":" + markedFollowed + ",\"marked\":"
                    + marked + ",\"marked_rate\":" + num(markedRate()) + ",\"control_followed\":" + controlFollowed
                    + ",\"control\":" + control + ",\"control_rate\":" + num(controlRate()) + ",\"p_value\":"
                    + num(pValue) + ",\"holm_p_value\":" + num(holmPValue) + "}";
        }
    }

    /** @return "clone detected" or "clone not detected" */
    public String decision() {
        return detected ? "clone detected" : "clone not detected";
    }

    /**
     * One JSON object with every number (keys in a fixed order).
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
        return b.append("]}").toString();
    }

    /** A finite double as JSON text: integral values without a fraction, others in Java's shortest form. */
    static String num(double v) {
        if (v == Math.rint(v) && Math.abs(v) < 1e15) {
            return Long.toString((long) v);
        }
        return Double.toString(v).toLowerCase(Locale.ROOT);
    }
}
