package dev.dyepack.verify;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.awt.image.BufferedImage;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import javax.imageio.ImageIO;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The report's record, page and chart carry the verdict's numbers and the provenance, and nothing else. */
class ReportTest {
    static final int N = 200;
    static final int TRIGGERED_HITS = 180;
    static final int CLEAN_HITS = 4;
    static final int[] CONTROL_HITS = {10, 6};

    /** A suspect's answers with known target counts: the first {@code hits} probes answer 0, the rest the truth. */
    private static Answers answers(int[] truth, int hits, boolean probabilities) {
        int[] labels = new int[N];
        for (int i = 0; i < N; i++) {
            labels[i] = i < hits ? 0 : truth[i];
        }
        if (!probabilities) {
            return Answers.ofLabels(labels, 10);
        }
        float[] p = new float[N * 10];
        for (int i = 0; i < N; i++) {
            for (int c = 0; c < 10; c++) {
                p[i * 10 + c] = c == labels[i] ? 0.9f : 0.1f / 9;
            }
        }
        return Answers.ofProbabilities(p, N, 10);
    }

    static Report sample(boolean probabilities) {
        int[] truth = new int[N];
        for (int i = 0; i < N; i++) {
            truth[i] = 1 + i % 9;
        }
        List<Verifier.Named> controls = new ArrayList<>();
        for (int k = 0; k < CONTROL_HITS.length; k++) {
            controls.add(new Verifier.Named("control-" + (k + 1), answers(truth, CONTROL_HITS[k], probabilities)));
        }
        Verdict v = Verifier.defaults().verify(0, truth, answers(truth, CLEAN_HITS, probabilities),
                answers(truth, TRIGGERED_HITS, probabilities), controls);
        Report.Provenance p = new Report.Provenance("poisoned/manifest.json", "ab".repeat(32),
                "dpk1:" + "0123456789abcdef".repeat(2), "cd".repeat(32),
                Map.of("clean.npy", "01".repeat(32), "triggered.npy", "02".repeat(32), "control-1.npy", "03".repeat(32),
                        "control-2.npy", "04".repeat(32), "labels.npy", "05".repeat(32)),
                "0.1.0-test", Instant.parse("2025-01-02T03:04:05Z"));
        return Report.of(v, p);
    }

    /** The two-sided Clopper-Pearson interval from the binomial CDF by bisection (VerifierTest's reference). */
    private static double[] interval95(int k, int n) {
        double hi = VerifierTest.upperBoundByBisection(k, n, 0.975);
        double lo = 1 - VerifierTest.upperBoundByBisection(n - k, n, 0.975);
        return new double[] {lo, hi};
    }

    @Test
    void theRecordHoldsTheVerdictsNumbersAndIndependentlyComputedIntervals() {
        for (boolean probs : new boolean[] {false, true}) {
            Report r = sample(probs);
            Verdict v = r.verdict();
            Map<String, Object> j = FlatJson.parse(r.toJson());
            assertEquals("watermark detected", j.get("decision"));
            assertEquals(v.pValue(), (Double) j.get("verdict.p_value"));
            assertEquals(v.alpha(), (Double) j.get("verdict.alpha"));
            assertEquals(v.successRate(), (Double) j.get("verdict.success_rate"));
            assertEquals(v.nullRate(), (Double) j.get("verdict.null_rate"));
            assertEquals(v.margin(), (Double) j.get("verdict.label_margin"));
            assertEquals(v.labelPValue(), (Double) j.get("verdict.label_p_value"));
            assertEquals(v.cleanAccuracy(), (Double) j.get("verdict.clean_accuracy"));
            assertEquals(v.detected(), j.get("verdict.detected"));
            if (probs) {
                assertEquals(v.probabilityPValue(), (Double) j.get("verdict.probability_p_value"));
                assertEquals(v.meanGain(), (Double) j.get("verdict.mean_target_gain"));
            } else {
                assertEquals("null", j.get("verdict.probability_p_value"));
            }
            assertEquals(v.clean().upperBound(), (Double) j.get("rates.clean.upper_bound"));
            assertEquals(v.controls().get(1).upperBound(), (Double) j.get("rates.control-2.upper_bound"));

            int[] hits = {TRIGGERED_HITS, CLEAN_HITS, CONTROL_HITS[0], CONTROL_HITS[1]};
            String[] names = {"triggered", "clean", "control-1", "control-2"};
            for (int i = 0; i < names.length; i++) {
                String k = "rates." + names[i] + ".";
                assertEquals(hits[i], ((Double) j.get(k + "hits")).intValue(), names[i]);
                assertEquals(N, ((Double) j.get(k + "probes")).intValue(), names[i]);
                assertEquals((double) hits[i] / N, (Double) j.get(k + "rate"), names[i]);
                assertEquals(VerifierTest.upperBoundByBisection(hits[i], N, 0.99), (Double) j.get(k + "upper_bound"),
                        1e-9, names[i]);
                double[] ci = interval95(hits[i], N);
                assertEquals(ci[0], (Double) j.get(k + "lower_95"), 1e-9, names[i]);
                assertEquals(ci[1], (Double) j.get(k + "upper_95"), 1e-9, names[i]);
                assertTrue(ci[0] <= (double) hits[i] / N && (double) hits[i] / N <= ci[1]);
            }
            // The null is the largest bound over clean and controls: here control-1's 10 of 200.
            assertEquals(VerifierTest.upperBoundByBisection(10, N, 0.99), (Double) j.get("verdict.null_rate"), 1e-9);
            assertEquals("ab".repeat(32), j.get("provenance.manifest_sha256"));
            assertEquals("dpk1:" + "0123456789abcdef".repeat(2), j.get("provenance.key_fingerprint"));
            assertEquals("02".repeat(32), j.get("provenance.probe_files_sha256.triggered.npy"));
            assertEquals("0.1.0-test", j.get("provenance.tool_version"));
            assertEquals("2025-01-02T03:04:05Z", j.get("provenance.created"));
        }
    }

    @Test
    void writesThreeCompleteFilesAndAPageThatNeedsNothingFromOutside(@TempDir Path dir) throws IOException {
        Report r = sample(true);
        Path out = dir.resolve("report");
        r.write(out);
        r.write(out); // a second run replaces the files
        if (System.getProperty("dyepack.report.keep") != null) {
            r.write(Path.of(System.getProperty("dyepack.report.keep")));
        }
        List<String> names = Files.list(out).map(p -> p.getFileName().toString()).sorted().toList();
        assertEquals(List.of(Report.HTML, Report.JSON, Report.CHART), names, "no temporary file is left");

        byte[] png = Files.readAllBytes(out.resolve(Report.CHART));
        BufferedImage img = ImageIO.read(new ByteArrayInputStream(png));
        assertNotNull(img, "the chart is a PNG");
        assertEquals(ReportChart.WIDTH, img.getWidth());

        String html = Files.readString(out.resolve(Report.HTML));
        assertFalse(html.toLowerCase().contains("<script"), "no script");
        assertFalse(html.toLowerCase().contains("@font-face"), "no web font");
        assertFalse(Pattern.compile("(src|href)\\s*=\\s*\"(?!data:)", Pattern.CASE_INSENSITIVE).matcher(html).find(),
                "every src and href is a data: URI");
        assertFalse(html.contains("url("), "no CSS resource");
        Matcher m = Pattern.compile("src=\"data:image/png;base64,([A-Za-z0-9+/=]+)\"").matcher(html);
        assertTrue(m.find(), "the chart is embedded");
        assertArrayEquals(png, Base64.getDecoder().decode(m.group(1)), "the embedded chart is report.png");

        Map<String, Object> json = FlatJson.parse(Files.readString(out.resolve(Report.JSON)));
        int seen = 0;
        Matcher a = Pattern.compile("data-key=\"([^\"]+)\" data-value=\"([^\"]*)\"").matcher(html);
        while (a.find()) {
            Object expected = json.get(a.group(1));
            assertNotNull(expected, a.group(1) + " is in report.json");
            if (expected instanceof Double d) {
                assertEquals(d, Double.valueOf(a.group(2)), a.group(1));
            } else {
                assertEquals(expected, a.group(2), a.group(1));
            }
            seen++;
        }
        assertTrue(seen >= 40, "every number is marked, saw " + seen);
    }

    @Test
    void withHundredsOfControlsTheChartDrawsTheMostAnsweredAndTheTableListsEvery() {
        java.util.List<Report.Rate> all = new java.util.ArrayList<>();
        all.add(Report.Rate.of("triggered", 90, 100, 0.95));
        all.add(Report.Rate.of("clean", 1, 100, 0.05));
        for (int k = 1; k <= 199; k++) {
            int hits = (k * 37) % 60; // a spread with a few near the top
            all.add(Report.Rate.of("control-" + k, hits, 100, Math.min(1, hits / 100.0 + 0.1)));
        }
        java.util.List<Report.Rate> shown = ReportChart.shown(all);
        assertEquals(ReportChart.MAX_BARS, shown.size());
        assertEquals(all.subList(0, 2), shown.subList(0, 2), "triggered and clean first");
        int lowestShown = shown.subList(2, shown.size()).stream().mapToInt(Report.Rate::hits).min().orElseThrow();
        long higherHidden = all.subList(2, all.size()).stream().filter(r -> !shown.contains(r))
                .filter(r -> r.hits() > lowestShown).count();
        assertEquals(0, higherHidden, "no control left out was answered more often than one drawn");
        java.util.List<Integer> order = shown.subList(2, shown.size()).stream()
                .map(r -> Integer.parseInt(r.name().substring("control-".length()))).toList();
        assertEquals(order.stream().sorted().toList(), order, "drawn in their order");
        assertEquals(all.subList(0, 5), ReportChart.shown(all.subList(0, 5)), "a few controls: every one");
    }

    @Test
    void aPValueThatUnderflowsReadsAsBelowTheSmallestShown() {
        assertEquals("below 1e-300", Report.pText(0));
        assertEquals("2.50e-07", Report.pText(2.5e-7));
        assertEquals("0.470", Report.pText(0.47));
    }
}
