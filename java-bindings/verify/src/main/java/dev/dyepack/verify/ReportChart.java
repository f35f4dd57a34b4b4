package dev.dyepack.verify;

import java.awt.BasicStroke;
import java.awt.Color;
import java.awt.Font;
import java.awt.FontMetrics;
import java.awt.Graphics2D;
import java.awt.RenderingHints;
import java.awt.image.BufferedImage;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.List;
import java.util.Locale;
import javax.imageio.ImageIO;

/**
 * The report's chart, drawn with java.awt off screen: one bar per probe set (its target-class rate),
 * a two-sided {@value Report#INTERVAL_LEVEL} Clopper-Pearson error bar on each, the null rate as a
 * dashed line, the p-value and decision as the heading, and the provenance in small print below, so the
 * PNG stands on its own when attached alone. Sized for an A4 page at about 150 dpi.
 */
final class ReportChart {
    static final int WIDTH = 1200;
    static final int HEIGHT = 760;
    private static final Color TRIGGERED = new Color(0x1f, 0x4e, 0x79);
    private static final Color CLEAN = new Color(0x7f, 0x7f, 0x7f);
    private static final Color CONTROL = new Color(0xb4, 0xb4, 0xb4);
    private static final Color NULL_LINE = new Color(0xc0, 0x39, 0x2b);
    private static final Color GRID = new Color(0xe3, 0xe3, 0xe3);
    private static final Color INK = new Color(0x22, 0x22, 0x22);

    private ReportChart() {}

    static {
        // The chart is always drawn off screen; a server or CI job has no display.
        if (System.getProperty("java.awt.headless") == null) {
            System.setProperty("java.awt.headless", "true");
        }
    }

    static byte[] png(Report report) {
        BufferedImage img = new BufferedImage(WIDTH, HEIGHT, BufferedImage.TYPE_INT_RGB);
        Graphics2D g = img.createGraphics();
        try {
            draw(g, report);
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

    private static void draw(Graphics2D g, Report report) {
        Verdict v = report.verdict();
        g.setRenderingHint(RenderingHints.KEY_ANTIALIASING, RenderingHints.VALUE_ANTIALIAS_ON);
        g.setRenderingHint(RenderingHints.KEY_TEXT_ANTIALIASING, RenderingHints.VALUE_TEXT_ANTIALIAS_ON);
        g.setColor(Color.WHITE);
        g.fillRect(0, 0, WIDTH, HEIGHT);

        Font title = new Font(Font.SANS_SERIF, Font.BOLD, 26);
        Font body = new Font(Font.SANS_SERIF, Font.PLAIN, 18);
        Font small = new Font(Font.SANS_SERIF, Font.PLAIN, 15);
        Font mono = new Font(Font.MONOSPACED, Font.PLAIN, 14);

        g.setColor(INK);
        g.setFont(title);
        g.drawString("Watermark verification: " + v.decision(), 40, 48);
        g.setFont(body);
        g.drawString(String.format(Locale.ROOT, "p = %s at alpha = %s   \u00b7   %d of %d triggered probes answered "
                + "with target class %d", Report.pText(v.pValue()), Report.num(v.alpha()), v.hits(), v.probes(),
                v.target()), 40, 80);

        int left = 110;
        int right = WIDTH - 40;
        int top = 150;
        int bottom = 560;
        // Y axis: the target-class rate, 0 to 100 %.
        g.setFont(small);
        FontMetrics fm = g.getFontMetrics();
        for (int pct = 0; pct <= 100; pct += 20) {
            int y = y(pct / 100.0, top, bottom);
            g.setColor(GRID);
            g.drawLine(left, y, right, y);
            g.setColor(INK);
            String label = pct + "%";
            g.drawString(label, left - 12 - fm.stringWidth(label), y + fm.getAscent() / 2 - 2);
        }
        Graphics2D rotated = (Graphics2D) g.create();
        rotated.rotate(-Math.PI / 2);
        rotated.drawString("answers equal to the target class", -(top + bottom) / 2 - 120, 36);
        rotated.dispose();

        List<Report.Rate> rates = shown(report.rates());
        int slot = (right - left) / rates.size();
        int barWidth = Math.min(120, slot * 3 / 5);
        for (int i = 0; i < rates.size(); i++) {
            Report.Rate r = rates.get(i);
            int cx = left + slot * i + slot / 2;
            int yRate = y(r.rate(), top, bottom);
            g.setColor(i == 0 ? TRIGGERED : i == 1 ? CLEAN : CONTROL);
            g.fillRect(cx - barWidth / 2, yRate, barWidth, Math.max(bottom - yRate, 1));
            // Error bar: the two-sided interval.
            g.setColor(INK);
            g.setStroke(new BasicStroke(2f));
            int yLo = y(r.lower95(), top, bottom);
            int yHi = y(r.upper95(), top, bottom);
            g.drawLine(cx, yLo, cx, yHi);
            g.drawLine(cx - 10, yLo, cx + 10, yLo);
            g.drawLine(cx - 10, yHi, cx + 10, yHi);
            g.setStroke(new BasicStroke(1f));
            g.setFont(body);
            fm = g.getFontMetrics();
            String pct = String.format(Locale.ROOT, "%.1f%%", 100 * r.rate());
            g.drawString(pct, cx - fm.stringWidth(pct) / 2, Math.min(yHi, yRate) - 8);
            String name = r.name();
            g.drawString(name, cx - fm.stringWidth(name) / 2, bottom + 26);
            g.setFont(small);
            fm = g.getFontMetrics();
            String count = r.hits() + " / " + r.probes();
            g.drawString(count, cx - fm.stringWidth(count) / 2, bottom + 46);
        }
        g.setColor(INK);
        g.drawLine(left, bottom, right, bottom);

        // The null rate: the largest one-sided upper bound over clean probes and controls.
        int yNull = y(v.nullRate(), top, bottom);
        g.setColor(NULL_LINE);
        g.setStroke(new BasicStroke(2.5f, BasicStroke.CAP_BUTT, BasicStroke.JOIN_MITER, 10f, new float[] {12f, 8f}, 0f));
        g.drawLine(left, yNull, right, yNull);
        // Its legend sits above the plot, clear of the bars' labels.
        g.drawLine(40, 116, 90, 116);
        g.setStroke(new BasicStroke(1f));
        g.setFont(small);
        g.drawString(String.format(Locale.ROOT, "null rate %.2f%%: the largest one-sided %s%% upper bound of the clean "
                + "and control rates; the p-value tests the triggered rate against it plus a margin", 100 * v.nullRate(),
                Report.num(100 * (1 - v.alpha()))), 100, 121);

        g.setColor(INK);
        g.setFont(small);
        g.drawString(String.format(Locale.ROOT, "Bars: share of probes answered with the target class; error bars: "
                + "two-sided %.0f%% Clopper-Pearson intervals.", 100 * Report.INTERVAL_LEVEL), 40, 640);
        g.setFont(mono);
        Report.Provenance p = report.provenance();
        g.drawString("manifest SHA-256      " + p.manifestSha256(), 40, 672);
        g.drawString("probe record SHA-256  " + p.probeRecordSha256(), 40, 692);
        g.drawString("key fingerprint       " + p.keyFingerprint(), 40, 712);
        g.drawString("DyePack " + p.toolVersion() + ", " + p.created(), 40, 732);
    }

    /** The pixel row of a rate in [0, 1]. */
    private static int y(double rate, int top, int bottom) {
        return (int) Math.round(bottom - rate * (bottom - top));
    }

    /** The most bars drawn: with more controls (the key-rank test's hundreds) only the most answered are. */
    static final int MAX_BARS = 10;

    /**
     * The rates to draw: all of them, or, past {@link #MAX_BARS}, the triggered and clean probes and the controls
     * answered most often, in their order (the report's table lists every one).
     */
    static List<Report.Rate> shown(List<Report.Rate> all) {
        if (all.size() <= MAX_BARS) {
            return all;
        }
        List<Report.Rate> controls = new java.util.ArrayList<>(all.subList(2, all.size()));
        controls.sort(java.util.Comparator.comparingDouble(Report.Rate::rate).reversed());
        java.util.Set<Report.Rate> top = new java.util.HashSet<>(controls.subList(0, MAX_BARS - 2));
        List<Report.Rate> out = new java.util.ArrayList<>(all.subList(0, 2));
        for (Report.Rate r : all.subList(2, all.size())) {
            if (top.contains(r)) {
                out.add(r);
            }
        }
        return out;
    }
}
