package dev.dyepack.verify;

import java.util.Locale;
import java.util.Map;

/**
 * The report's HTML page: one file, inline CSS, the chart as a {@code data:} URI, no script and no
 * external resource, printable on A4. Every number is an element with {@code data-key} (its path in
 * {@code report.json}: {@code verdict.p_value}, {@code rates.clean.upper_bound}, ...) and
 * {@code data-value} (the JSON's text for it); the visible text is that number rounded for people.
 */
final class ReportPage {
    private ReportPage() {}

    private static final String CSS = """
            body{font-family:Georgia,'DejaVu Serif',serif;max-width:46em;margin:2em auto;padding:0 1em;color:#222;\
            line-height:1.45}
            h1{font-size:1.5em;margin-bottom:.2em}h2{font-size:1.15em;margin-top:1.6em;border-bottom:1px solid #ccc}
            table{border-collapse:collapse;margin:.6em 0;font-size:.95em}
            th,td{border:1px solid #bbb;padding:.25em .55em;text-align:right}th{background:#f2f2f2}
            td.name,th.name{text-align:left}
            .hash{font-family:'DejaVu Sans Mono',monospace;font-size:.85em;text-align:left;word-break:break-all}
            .decision{font-size:1.2em;font-weight:bold}
            img{width:100%;border:1px solid #ddd}
            @media print{body{margin:0;max-width:none}}
            """;

    static String html(Report report, byte[] png) {
        Verdict v = report.verdict();
        Report.Provenance p = report.provenance();
        String conf = Report.num(100 * (1 - v.alpha())) + "%";
        StringBuilder b = new StringBuilder(32_768 + png.length * 4 / 3);
        b.append("<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\n")
                .append("<title>Watermark verification report</title>\n<style>").append(CSS).append("</style></head>\n")
                .append("<body>\n<h1>Watermark verification report</h1>\n");
        b.append("<p class=\"decision\" id=\"decision\" data-key=\"decision\" data-value=\"").append(esc(v.decision()))
                .append("\">Result: ").append(esc(v.decision())).append("</p>\n");
        b.append("<p>The reported p-value is ").append(num("verdict.p_value", v.pValue(), Report.pText(v.pValue())))
                .append(" against a significance level alpha of ").append(num("verdict.alpha", v.alpha(),
                        Report.num(v.alpha()))).append(". The watermark is reported as detected only when the "
                        + "p-value is below alpha.</p>\n");

        b.append("<h2>What was done</h2>\n<p>The owner of a dataset marked part of it with a trigger pattern "
                + "generated from a secret key and recorded the marking in a signed manifest. For this check, ")
                .append(num("verdict.probes", v.probes(), Integer.toString(v.probes())))
                .append(" held-out images whose true class is not the target class ")
                .append(num("verdict.target", v.target(), Integer.toString(v.target())))
                .append(" were drawn with the key (the probe set, also signed). The suspect model was asked to "
                        + "classify each of them unchanged (<i>clean</i>), with the owner's trigger "
                        + "(<i>triggered</i>), and with ")
                .append(v.controls().size())
                .append(" control triggers of the same kind made from other keys that were never used to mark "
                        + "anything (<i>control-1</i>, ...). The signatures of the manifest and the probe set and "
                        + "the SHA-256 of every probe file were checked before any answer was counted.</p>\n");

        b.append("<h2>What the numbers mean</h2>\n<p>Each row counts how often the suspect answered the target "
                + "class. A model that never learned the owner's trigger has no reason to answer the target more "
                + "often on triggered images than on clean images or on the controls. The upper bound is the "
                + "one-sided Clopper-Pearson bound at ").append(conf).append(" confidence; the interval is the "
                + "two-sided ").append(Math.round(100 * Report.INTERVAL_LEVEL)).append("% Clopper-Pearson interval "
                + "drawn in the chart.</p>\n");
        b.append("<table id=\"rates\"><tr><th class=\"name\">probe set</th><th>answers equal to target</th>"
                + "<th>probes</th><th>rate</th><th>upper bound (").append(conf).append(")</th><th>")
                .append(Math.round(100 * Report.INTERVAL_LEVEL)).append("% interval</th></tr>\n");
        for (Report.Rate r : report.rates()) {
            String k = "rates." + r.name() + ".";
            b.append("<tr><td class=\"name\">").append(esc(r.name())).append("</td>")
                    .append(td(k + "hits", r.hits(), Integer.toString(r.hits())))
                    .append(td(k + "probes", r.probes(), Integer.toString(r.probes())))
                    .append(td(k + "rate", r.rate(), pct(r.rate())))
                    .append(td(k + "upper_bound", r.upperBound(), pct(r.upperBound())))
                    .append("<td>").append(num(k + "lower_95", r.lower95(), pct(r.lower95()))).append(" to ")
                    .append(num(k + "upper_95", r.upper95(), pct(r.upper95()))).append("</td></tr>\n");
        }
        b.append("</table>\n");
        b.append("<p>The null rate is the largest of the upper bounds of the clean probes and the controls: ")
                .append(num("verdict.null_rate", v.nullRate(), pct(v.nullRate())))
                .append(". The label test is a one-sided exact binomial test of the ")
                .append(num("verdict.hits", v.hits(), Integer.toString(v.hits()))).append(" triggered answers "
                        + "equal to the target (success rate ")
                .append(num("verdict.success_rate", v.successRate(), pct(v.successRate())))
                .append(") against that null rate plus a margin of ")
                .append(num("verdict.label_margin", v.margin(), pct(v.margin())))
                .append("; its p-value, ")
                .append(num("verdict.label_p_value", v.labelPValue(), Report.pText(v.labelPValue())))
                .append(", is the probability of at least that many target answers from a model whose rate on "
                        + "triggered images is no higher than the null rate plus the margin. The margin is there "
                        + "because a model trained on data watermarked by someone else, with the same kind of "
                        + "trigger under another key, answers each key's pattern at a rate of its own, and can "
                        + "answer the owner's a few points above the controls by chance of how the patterns "
                        + "overlap.");
        if (v.probabilityPValue() != null) {
            b.append(" The suspect also returned class probabilities, so a second test was run: a one-sided "
                    + "paired t-test that the target-class probability rises by more than a margin of ")
                    .append(num("verdict.tau", v.tau(), Report.num(v.tau())))
                    .append(" from each clean image to its triggered copy (mean rise ")
                    .append(num("verdict.mean_target_gain", v.meanGain(), String.format(Locale.ROOT, "%.4f",
                            v.meanGain())))
                    .append("; p-value ").append(num("verdict.probability_p_value", v.probabilityPValue(),
                            Report.pText(v.probabilityPValue())))
                    .append(v.keyRank() != null && v.keyRank().decides() ? ")."
                            : "). The reported p-value is the larger of the two, so both tests must agree.");
        }
        if (v.keyRank() != null) {
            Verdict.KeyRank r = v.keyRank();
            b.append(" The key-rank test asks where the owner's trigger ranks among the ").append(r.controls())
                    .append(" control keys: ").append(num("verdict.key_rank.at_least", r.atLeast(),
                            Integer.toString(r.atLeast())))
                    .append(" of them were answered with the target at least as often, so its p-value is (1 + ")
                    .append(r.atLeast()).append(") / (").append(r.controls()).append(" + 1) = ")
                    .append(num("verdict.key_rank.p_value", r.pValue(), Report.pText(r.pValue())))
                    .append(". A model that did not learn the owner's key cannot tell it from keys drawn at random, "
                            + "so this p-value is exact whatever the model learnt. ")
                    .append(r.decides() ? "With this many controls it can reach alpha, so it decides alone, in "
                            + "place of the label test and of the probability test (which is not specific to the "
                            + "key)."
                            : r.controls() >= Verifier.rankControls(v.alpha()) ? "The controls here are variants "
                                    + "of a keyless trigger (other positions or frequencies), not keys drawn alike "
                                    + "with the owner's, so it is shown, not used."
                            : "It can reach alpha only with at least " + Verifier.rankControls(v.alpha())
                                    + " control keys, so here it is shown, not used.");
        }
        b.append(" On the clean images the suspect was right ")
                .append(num("verdict.clean_accuracy", v.cleanAccuracy(), pct(v.cleanAccuracy())))
                .append(" of the time, which shows how well it does its ordinary task.</p>\n");

        b.append("<h2>Decision and false positives</h2>\n<p>The result is <b>").append(esc(v.decision()))
                .append("</b> because the p-value ").append(v.detected() ? "is below" : "is not below")
                .append(" alpha. The null rate is deliberately cautious: it is the highest plausible rate among "
                        + "the clean images and every control, so a model that merely reacts to this kind of "
                        + "pattern, rather than to the owner's key, raises the null with it and is not reported. "
                        + "A model that did not learn the owner's trigger answers the target on triggered images "
                        + "about as often as on the clean images or on some control; a wrong detection then needs "
                        + "the owner's pattern to draw more answers than the strongest control by more than the "
                        + "margin, beyond what the binomial test allows at alpha. That is rare but not bounded by "
                        + "alpha alone: it rests on three or so controls showing how far another key's pattern can "
                        + "stray, which the margin covers for what has been measured.")
                .append(v.keyRank() != null && v.keyRank().decides() ? " Here the key-rank test decided instead, "
                        + "and its bound is exact: a model that did not learn the owner's key is reported with "
                        + "probability at most alpha." : " The key-rank test, with enough controls (probe-set "
                        + "--controls 199), bounds it by alpha exactly.")
                .append(" A result of <i>not detected</i> is not proof that the model never saw the owner's "
                        + "data.</p>\n");

        b.append("<h2>Chart</h2>\n<img id=\"chart\" alt=\"Target-class rate of the triggered, clean and control "
                + "probes with their intervals and the null rate\" src=\"data:image/png;base64,")
                .append(Report.base64(png)).append("\">\n");

        b.append("<h2>Provenance</h2>\n<table id=\"provenance\">\n");
        row(b, "manifest", "provenance.manifest", p.manifest());
        row(b, "manifest SHA-256", "provenance.manifest_sha256", p.manifestSha256());
        row(b, "key fingerprint (not the key)", "provenance.key_fingerprint", p.keyFingerprint());
        row(b, "probe record SHA-256", "provenance.probe_record_sha256", p.probeRecordSha256());
        for (Map.Entry<String, String> f : p.probeFiles().entrySet()) {
            row(b, f.getKey() + " SHA-256", "provenance.probe_files_sha256." + f.getKey(), f.getValue());
        }
        row(b, "tool version", "provenance.tool_version", "DyePack " + p.toolVersion(), p.toolVersion());
        row(b, "created (UTC)", "provenance.created", p.created().toString());
        b.append("</table>\n<p>The complete record, with every number at full precision, is report.json beside "
                + "this page.</p>\n</body></html>\n");
        return b.toString();
    }

    private static String pct(double rate) {
        return String.format(Locale.ROOT, "%.2f%%", 100 * rate);
    }

    private static String num(String key, double value, String shown) {
        return "<span data-key=\"" + esc(key) + "\" data-value=\"" + Report.num(value) + "\">" + esc(shown) + "</span>";
    }

    private static String td(String key, double value, String shown) {
        return "<td data-key=\"" + esc(key) + "\" data-value=\"" + Report.num(value) + "\">" + esc(shown) + "</td>";
    }

    private static void row(StringBuilder b, String label, String key, String value) {
        row(b, label, key, value, value);
    }

    private static void row(StringBuilder b, String label, String key, String shown, String value) {
        b.append("<tr><th class=\"name\">").append(esc(label)).append("</th><td class=\"hash\" data-key=\"")
                .append(esc(key)).append("\" data-value=\"").append(esc(value)).append("\">").append(esc(shown))
                .append("</td></tr>\n");
    }

    static String esc(String s) {
        StringBuilder b = new StringBuilder(s.length());
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            switch (c) {
                case '&' -> b.append("&amp;");
                case '<' -> b.append("&lt;");
                case '>' -> b.append("&gt;");
                case '"' -> b.append("&quot;");
                case '\'' -> b.append("&#39;");
                default -> b.append(c);
            }
        }
        return b.toString();
    }
}
