package dev.dyepack.mark;

import dev.dyepack.InvalidArgumentException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.apache.commons.statistics.distribution.NormalDistribution;
import org.apache.commons.statistics.inference.KolmogorovSmirnovTest;

/**
 * Watches each client's query stream for extraction, after PRADA (Juuti et al., 2019): for every new query,
 * the smallest L2 distance to that client's earlier queries is recorded; a benign client's distances are
 * close to normally distributed, while an attacker that explores around its own earlier queries (synthetic,
 * Jacobian-style queries) produces a distribution far from normal. PRADA tests normality with Shapiro-Wilk;
 * this watch uses the one-sample Kolmogorov-Smirnov test against the normal distribution with the sample's
 * mean and standard deviation, from Apache Commons Statistics (a statistics library offers no Shapiro-Wilk
 * test; with estimated parameters the KS p-value is conservative, so alarms are too). A client is alarmed
 * once, when at least {@link Settings#minimum()} distances give a p-value under {@link Settings#alpha()}.
 *
 * <p>Honest-but-natural query streams (a knockoff attacker sending natural images) are not what PRADA
 * detects; answer marks remain the evidence against them. Thread-safe.
 */
public final class ExtractionWatch {
    /**
     * How the watch decides.
     *
     * @param minimum    distances needed before a client is tested, at least 20
     * @param alpha      the p-value under which a client is alarmed, in (0, 0.5)
     * @param remembered earlier queries per client that distances are measured to (the latest ones)
     */
    public record Settings(int minimum, double alpha, int remembered) {
        /** The defaults: 100 distances, alpha 1e-3, 2,000 remembered queries. */
        public static final Settings DEFAULT = new Settings(100, 1e-3, 2000);

        /** @throws InvalidArgumentException for values out of range */
        public Settings {
            if (minimum < 20 || !(alpha > 0 && alpha < 0.5) || remembered < 1) {
                throw new InvalidArgumentException("an extraction watch needs at least 20 distances, alpha in (0, 0.5) "
                        + "and at least one remembered query");
            }
        }
    }

    /**
     * An alarm and its evidence.
     *
     * @param client    the client
     * @param queries   its queries seen
     * @param distances the distances tested
     * @param statistic the Kolmogorov-Smirnov statistic
     * @param pValue    its p-value
     * @param mean      the distances' mean
     * @param sd        their standard deviation
     */
    public record Alarm(String client, long queries, int distances, double statistic, double pValue, double mean,
            double sd) {
        /** @return the evidence as the log's alarm members */
        public Map<String, Object> evidence() {
            Map<String, Object> m = new LinkedHashMap<>();
            m.put("test", "prada-kolmogorov-smirnov-normal");
            m.put("queries", queries);
            m.put("distances", distances);
            m.put("statistic", statistic);
            m.put("p_value", pValue);
            m.put("distance_mean", mean);
            m.put("distance_sd", sd);
            return m;
        }
    }

    private static final class Stream {
        final List<float[]> recent = new ArrayList<>();
        int next;
        final List<Double> distances = new ArrayList<>();
        long queries;
        boolean alarmed;
    }

    private final Settings settings;
    private final Map<String, Stream> streams = new HashMap<>();

    /** @param settings how the watch decides */
    public ExtractionWatch(Settings settings) {
        this.settings = settings;
    }

    /**
     * Observes a client's batch, in order.
     *
     * @param client  the client
     * @param queries its queries
     * @return an alarm, the first time the client's distances fail the normality test
     */
    public synchronized Optional<Alarm> observe(String client, Queries queries) {
        Stream s = streams.computeIfAbsent(client, c -> new Stream());
        for (int i = 0; i < queries.size(); i++) {
            float[] q = values(queries, i);
            if (!s.recent.isEmpty() && s.recent.get(0).length == q.length) {
                double best = Double.POSITIVE_INFINITY;
                for (float[] r : s.recent) {
                    double d = 0;
                    for (int j = 0; j < q.length && d < best; j++) {
                        double x = q[j] - r[j];
                        d += x * x;
                    }
                    best = Math.min(best, d);
                }
                s.distances.add(Math.sqrt(best));
            }
            if (s.recent.size() < settings.remembered()) {
                s.recent.add(q);
            } else {
                s.recent.set(s.next, q);
                s.next = (s.next + 1) % settings.remembered();
            }
            s.queries++;
        }
        if (s.alarmed || s.distances.size() < settings.minimum()) {
            return Optional.empty();
        }
        double[] d = s.distances.stream().mapToDouble(Double::doubleValue).toArray();
        double mean = 0;
        for (double x : d) {
            mean += x;
        }
        mean /= d.length;
        double ss = 0;
        for (double x : d) {
            ss += (x - mean) * (x - mean);
        }
        double sd = Math.sqrt(ss / (d.length - 1));
        double statistic;
        double p;
        if (!(sd > 0)) {
            statistic = 1;
            p = 0;
        } else {
            var result = KolmogorovSmirnovTest.withDefaults().test(d, NormalDistribution.of(mean, sd)::cumulativeProbability);
            statistic = result.getStatistic();
            p = result.getPValue();
        }
        if (p < settings.alpha()) {
            s.alarmed = true;
            return Optional.of(new Alarm(client, s.queries, d.length, statistic, p, mean, sd));
        }
        return Optional.empty();
    }

    private static float[] values(Queries q, int i) {
        byte[] b = q.sample(i);
        if ("u1".equals(q.dtype())) {
            float[] f = new float[b.length];
            for (int j = 0; j < b.length; j++) {
                f[j] = b[j] & 0xff;
            }
            return f;
        }
        float[] f = new float[b.length / 4];
        ByteBuffer.wrap(b).order(ByteOrder.LITTLE_ENDIAN).asFloatBuffer().get(f);
        return f;
    }
}
