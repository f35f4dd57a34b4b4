package dev.dyepack.mark;

import dev.dyepack.Engine;
import dev.dyepack.InvalidArgumentException;
import dev.dyepack.io.StagedOutput;
import dev.dyepack.verify.Report;
import dev.dyepack.key.OwnerKey;
import dev.dyepack.manifest.Fingerprints;
import dev.dyepack.manifest.Json;
import java.awt.BasicStroke;
import java.awt.Color;
import java.awt.Font;
import java.awt.Graphics2D;
import java.awt.RenderingHints;
import java.awt.image.BufferedImage;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.Base64;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import javax.imageio.ImageIO;
import org.apache.commons.statistics.distribution.BetaDistribution;

/**
 * A report of a test against answer marks, in the verification report's three files: {@code report.json}
 * (every number and the provenance: the log's last MAC, the key's fingerprint, the probe set's hashes, the
 * tool's version), a self-contained {@code report.html} (inline CSS, the chart as a {@code data:} URI, every
 * number with {@code data-key}/{@code data-value} equal to the JSON's text) and {@code report.png} (per client,
 * best first, the runner-up rates on marked and control queries with 95% Clopper-Pearson intervals, the
 * Holm-adjusted p-value and, when the suspect gave probabilities, the gap test's p-value). Both tests' p-values,
 * the gap medians and which test decided are in all three. Immutable.
 */
public final class MarkReport {
    /** The record's name. */
    public static final String JSON = "report.json";
    /** The page's name. */
    public static final String HTML = "report.html";
    /** The chart's name. */
    public static final String CHART = "report.png";
    /** Clients charted at most (the best first; the page and the record list all). */
    public static final int CHARTED = 12;

    private final MarkVerdict verdict;
    private final Map<String, String> provenance;

    private MarkReport(MarkVerdict verdict, Map<String, String> provenance) {
        this.verdict = verdict;
        this.provenance = provenance;
    }

    /**
     * A report of a verdict against a probe set.
     *
     * @param verdict the verdict
     * @param logDir  the mark log
     * @param set     the probe set it was tested on
     * @param key     the owner's key (only its fingerprint is recorded)
     * @return the report, created now
     * @throws InvalidArgumentException if an argument is null
     */
    public static MarkReport of(MarkVerdict verdict, Path logDir, MarkProbeSet set, OwnerKey key) {
        if (verdict == null || logDir == null || set == null || key == null) {
            throw new InvalidArgumentException("a report needs a verdict, the log, the probe set and the key");
        }
        Map<String, String> p = new LinkedHashMap<>();
        p.put("log", logDir.toString());
        p.put("log_last_mac", set.logLastMac());
        p.put("key_fingerprint", key.fingerprint());
        p.put("probe_record_sha256", Fingerprints.sha256(set.dir().resolve(MarkProbeSet.RECORD)));
        p.put("marked_sha256", set.files().get(MarkProbeSet.MARKED));
        p.put("control_sha256", set.files().get(MarkProbeSet.CONTROL));
        p.put("tool_version", Engine.version());
        p.put("created", Instant.now().truncatedTo(ChronoUnit.SECONDS).toString());
        return new MarkReport(verdict, p);
    }

    /** @return the verdict */
    public MarkVerdict verdict() {
        return verdict;
    }

    /**
     * Writes the three files into a folder (created if needed), each complete before it gets its name, the
     * record last.
     *
     * @param dir the folder
     * @throws IOException if writing fails
     */
    public void write(Path dir) throws IOException {
        byte[] png = chartPng();
        Map<String, byte[]> files = new LinkedHashMap<>();
        files.put(CHART, png);
        files.put(HTML, html(png).getBytes(StandardCharsets.UTF_8));
        files.put(JSON, toJson().getBytes(StandardCharsets.UTF_8));
        Report.writeFiles(dir, files);
    }

    /**
     * Writes the report as a command's output ({@link StagedOutput}), as {@link Report#write(Path, boolean,
     * Path...)} does: the files appear together with one rename, or not at all.
     *
     * @param dir     the folder to create (with its missing parents)
     * @param replace whether an existing non-empty folder may be replaced
     * @param inputs  files the command read, which must not lie inside {@code dir}
     * @throws dev.dyepack.InvalidArgumentException if {@code dir} exists and may not be replaced, is not
     *                                              a directory, or holds an input
     * @throws dev.dyepack.io.OutputBusyException  if another run is writing {@code dir}
     * @throws IOException if writing fails (nothing appears under {@code dir})
     */
    public void write(Path dir, boolean replace, Path... inputs) throws IOException {
        try (StagedOutput staged = StagedOutput.begin(dir, StagedOutput.Kind.DIRECTORY, replace, inputs)) {
            write(staged.path());
            staged.commit();
        }
    }

    /** @return the record: format, kind, decision, provenance, and the verdict exactly as {@link MarkVerdict#toJson()} */
    public String toJson() {
        StringBuilder b = new StringBuilder("{\n  \"format\": 1,\n  \"kind\": \"answer-marks\",\n");
        b.append("  \"decision\": ").append(Json.quote(verdict.decision())).append(",\n  \"provenance\": {");
        String sep = "\n";
        for (Map.Entry<String, String> e : provenance.entrySet()) {
            b.append(sep).append("    ").append(Json.quote(e.getKey())).append(": ").append(Json.quote(e.getValue()));
            sep = ",\n";
        }
        return b.append("\n  },\n  \"verdict\": ").append(verdict.toJson()).append("\n}\n").toString();
    }

    /** @return the page, with the chart embedded */
    public String toHtml() {
        return html(chartPng());
    }

    private String html(byte[] png) {
        StringBuilder b = new StringBuilder();
        b.append("<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><title>DyePack answer-mark "
                + "verification</title>\n<style>body{font-family:sans-serif;max-width:960px;margin:2em auto;color:#222}"
                + "table{border-collapse:collapse;margin:1em 0}td,th{border:1px solid #ccc;padding:3px 8px;"
                + "text-align:right}th{background:#f3f3f3}td.l,th.l{text-align:left}.d{font-size:1.4em;"
                + "font-weight:bold}</style></head><body>\n");
        MarkVerdict.GapTest gap = verdict.gapTest();
        b.append("<h1>Verification against answer marks</h1>\n<p class=\"d\" data-key=\"decision\">")
                .append(esc(verdict.decision())).append("</p>\n<p>p = ")
                .append(num("p_value", verdict.pValue(), pText(verdict.pValue())))
                .append(gap.available() ? " (per client the label test, Fisher's exact test, and the gap test, "
                        + "Mann-Whitney U, both one-sided, combined by Holm's method over the two; Holm-adjusted over "
                        : " (Fisher's exact test, one-sided, per client, Holm-adjusted over ")
                .append(verdict.clients().size())
                .append(" clients) at alpha = ").append(num("alpha", verdict.alpha(), MarkVerdict.num(verdict.alpha())))
                .append(". Decided by the <span data-key=\"decided_by\">").append(verdict.decidedBy())
                .append("</span> test. Implicated: <span data-key=\"implicated\">")
                .append(esc(verdict.implicated().isEmpty() ? "none" : String.join(", ", verdict.implicated())))
                .append("</span>.</p>\n");
        b.append("<p>A model trained on a client's answers answers the served runner-up more often on that client's "
                + "marked queries (where the runner-up was served) than on its control queries (where it was not); "
                + "an independent model does not. The gap test asks the same of the suspect's probabilities: its "
                + "probability of the runner-up minus its probability of the top class, larger on marked than on "
                + "control queries.</p>\n");
        b.append("<p>Gap test: <span data-key=\"gap_test.available\" data-value=\"").append(gap.available())
                .append("\">")
                .append(gap.available() ? "computed on the suspect's " + esc(gap.scores())
                        + (gap.scores().equals("logits") ? " (their softmax, row by row)" : "")
                        : "not available: " + esc(gap.reason()))
                .append("</span>.</p>\n");
        b.append("<img alt=\"runner-up rates per client\" src=\"data:image/png;base64,")
                .append(Base64.getEncoder().encodeToString(png)).append("\">\n");
        b.append("<table><tr><th class=\"l\">client</th><th>marked: runner-up</th><th>rate</th><th>control: "
                + "runner-up</th><th>rate</th><th>label p</th><th>gap median, marked</th><th>gap median, control"
                + "</th><th>gap p</th><th>client p</th><th>Holm p</th><th class=\"l\">decided by</th></tr>\n");
        int i = 0;
        for (MarkVerdict.ClientTest t : verdict.clients()) {
            row(b, t, "clients." + i++);
        }
        row(b, verdict.pooled(), "pooled");
        b.append("</table>\n<h2>Provenance</h2>\n<table>");
        for (Map.Entry<String, String> e : provenance.entrySet()) {
            b.append("<tr><th class=\"l\">").append(esc(e.getKey())).append("</th><td class=\"l\" data-key=\"provenance.")
                    .append(esc(e.getKey())).append("\">").append(esc(e.getValue())).append("</td></tr>\n");
        }
        return b.append("</table>\n</body></html>\n").toString();
    }

    private static void row(StringBuilder b, MarkVerdict.ClientTest t, String key) {
        MarkVerdict.Gap g = t.gap();
        b.append("<tr><td class=\"l\" data-key=\"").append(key).append(".client\">").append(esc(t.client()))
                .append("</td><td>").append(t.markedFollowed()).append(" of ").append(t.marked()).append("</td><td>")
                .append(num(key + ".marked_rate", t.markedRate(), pct(t.markedRate()))).append("</td><td>")
                .append(t.controlFollowed()).append(" of ").append(t.control()).append("</td><td>")
                .append(num(key + ".control_rate", t.controlRate(), pct(t.controlRate()))).append("</td><td>")
                .append(num(key + ".p_value", t.pValue(), pText(t.pValue()))).append("</td><td>")
                .append(g == null || !Double.isFinite(g.markedMedian()) ? "-"
                        : num(key + ".marked_gap_median", g.markedMedian(), gapText(g.markedMedian())))
                .append("</td><td>")
                .append(g == null || !Double.isFinite(g.controlMedian()) ? "-"
                        : num(key + ".control_gap_median", g.controlMedian(), gapText(g.controlMedian())))
                .append("</td><td>")
                .append(g == null ? "-" : num(key + ".gap_p_value", g.pValue(), pText(g.pValue()))).append("</td><td>")
                .append(num(key + ".client_p_value", t.clientPValue(), pText(t.clientPValue()))).append("</td><td>")
                .append(num(key + ".holm_p_value", t.holmPValue(), pText(t.holmPValue())))
                .append("</td><td class=\"l\" data-key=\"").append(key).append(".decided_by\">")
                .append(t.decidedBy()).append("</td></tr>\n");
    }

    private static String gapText(double gap) {
        return String.format(Locale.ROOT, "%+.3f", gap);
    }

    private static String num(String key, double v, String shown) {
        return "<span data-key=\"" + key + "\" data-value=\"" + MarkVerdict.num(v) + "\">" + esc(shown) + "</span>";
    }

    private static String pct(double r) {
        return String.format(Locale.ROOT, "%.1f%%", 100 * r);
    }

    static String pText(double p) {
        if (p == 0) {
            return "below 1e-300";
        }
        return p >= 0.001 ? String.format(Locale.ROOT, "%.3f", p) : String.format(Locale.ROOT, "%.2e", p);
    }

    private static String esc(String s) {
        return s.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;").replace("\"", "&quot;");
    }

    static {
        if (System.getProperty("java.awt.headless") == null) {
            System.setProperty("java.awt.headless", "true");
        }
    }

    /** @return the chart as PNG bytes */
    public byte[] chartPng() {
        List<MarkVerdict.ClientTest> shown = verdict.clients().subList(0, Math.min(CHARTED, verdict.clients().size()));
        int width = 900;
        int height = 420;
        BufferedImage img = new BufferedImage(width, height, BufferedImage.TYPE_INT_RGB);
        Graphics2D g = img.createGraphics();
        try {
            g.setRenderingHint(RenderingHints.KEY_ANTIALIASING, RenderingHints.VALUE_ANTIALIAS_ON);
            g.setRenderingHint(RenderingHints.KEY_TEXT_ANTIALIASING, RenderingHints.VALUE_TEXT_ANTIALIAS_ON);
            g.setColor(Color.WHITE);
            g.fillRect(0, 0, width, height);
            int left = 70;
            int right = width - 20;
            int top = 50;
            int bottom = height - 80;
            g.setFont(new Font(Font.SANS_SERIF, Font.BOLD, 15));
            g.setColor(new Color(0x22, 0x22, 0x22));
            g.drawString(verdict.decision() + "  (p = " + pText(verdict.pValue()) + ", alpha = "
                    + MarkVerdict.num(verdict.alpha()) + (verdict.gapTest().available() ? "; decided by the "
                            + verdict.decidedBy() + " test" : "") + ")", left, 25);
            g.setFont(new Font(Font.SANS_SERIF, Font.PLAIN, 12));
            for (int k = 0; k <= 4; k++) {
                int y = bottom - (bottom - top) * k / 4;
                g.setColor(new Color(0xe3, 0xe3, 0xe3));
                g.drawLine(left, y, right, y);
                g.setColor(new Color(0x22, 0x22, 0x22));
                g.drawString(k * 25 + "%", 30, y + 4);
            }
            g.drawString("runner-up answered on marked (dark) and control (light) queries, 95% intervals", left, 42);
            int slots = Math.max(1, shown.size());
            double slot = (double) (right - left) / slots;
            for (int i = 0; i < shown.size(); i++) {
                MarkVerdict.ClientTest t = shown.get(i);
                int x0 = (int) (left + i * slot + slot * 0.15);
                int w = (int) (slot * 0.33);
                bar(g, x0, w, t.markedFollowed(), t.marked(), top, bottom, new Color(0x1f, 0x4e, 0x79));
                bar(g, x0 + w + 2, w, t.controlFollowed(), t.control(), top, bottom, new Color(0xb4, 0xb4, 0xb4));
                g.setColor(new Color(0x22, 0x22, 0x22));
                String name = t.client().length() > 14 ? t.client().substring(0, 13) + "…" : t.client();
                g.drawString(name, x0, bottom + 16);
                g.drawString("p=" + pText(t.holmPValue()), x0, bottom + 32);
                if (t.gap() != null) {
                    // Smaller, so that twelve clients' labels fit side by side.
                    g.setFont(new Font(Font.SANS_SERIF, Font.PLAIN, 10));
                    g.drawString("gap " + pText(t.gap().pValue()), x0, bottom + 47);
                    g.setFont(new Font(Font.SANS_SERIF, Font.PLAIN, 12));
                }
            }
        } finally {
            g.dispose();
        }
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        try {
            ImageIO.write(img, "png", out);
        } catch (IOException e) {
            throw new UncheckedIOException("writing the chart to memory failed", e);
        }
        return out.toByteArray();
    }

    private static void bar(Graphics2D g, int x, int w, int hits, int n, int top, int bottom, Color color) {
        if (n == 0) {
            return;
        }
        double rate = (double) hits / n;
        double lo = hits == 0 ? 0 : BetaDistribution.of(hits, n - hits + 1.0).inverseCumulativeProbability(0.025);
        double hi = hits == n ? 1 : BetaDistribution.of(hits + 1.0, (double) n - hits).inverseCumulativeProbability(0.975);
        int y = y(rate, top, bottom);
        g.setColor(color);
        g.fillRect(x, y, w, bottom - y);
        g.setColor(new Color(0x22, 0x22, 0x22));
        g.setStroke(new BasicStroke(1.5f));
        int cx = x + w / 2;
        g.drawLine(cx, y(lo, top, bottom), cx, y(hi, top, bottom));
        g.drawLine(cx - 4, y(lo, top, bottom), cx + 4, y(lo, top, bottom));
        g.drawLine(cx - 4, y(hi, top, bottom), cx + 4, y(hi, top, bottom));
    }

    private static int y(double rate, int top, int bottom) {
        return (int) Math.round(bottom - rate * (bottom - top));
    }
}
