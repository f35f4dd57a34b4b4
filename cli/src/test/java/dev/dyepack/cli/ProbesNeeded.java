package dev.dyepack.cli;

import java.awt.BasicStroke;
import java.awt.Color;
import java.awt.Font;
import java.awt.Graphics2D;
import java.awt.RenderingHints;
import java.awt.image.BufferedImage;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import javax.imageio.ImageIO;

/**
 * Writes the probes-needed study of {@link FalsePositiveStudyTest}: a CSV, a Markdown table for
 * docs/verification.md and a PNG chart (fraction of random probe subsets detected at alpha against
 * the number of probes, one line per budget, model and kind of answer), drawn with java.awt.
 *
 * <p>Rows are {@code budget, model, answers, probes, detected, subsets, median p}.
 */
final class ProbesNeeded {
    private ProbesNeeded() {}

    static void write(List<String[]> rows, boolean full) throws IOException {
        Path out = Path.of(System.getProperty("dyepack.study.out", "target/fpstudy"));
        Files.createDirectories(out);
        StringBuilder csv = new StringBuilder("budget,model,answers,probes,detected,subsets,median_p\n");
        for (String[] r : rows) {
            csv.append(String.join(",", r)).append('\n');
        }
        Files.writeString(out.resolve("probes-needed.csv"), csv);
        Files.writeString(out.resolve("probes-needed.md"), markdown(rows));
        chart(rows, out.resolve("verification-probes.png"), full);
        System.out.print(markdown(rows));
    }

    private static Map<String, List<String[]>> series(List<String[]> rows) {
        Map<String, List<String[]>> s = new LinkedHashMap<>();
        for (String[] r : rows) {
            String budget = r[0].equals("0.01") ? "1%" : r[0].equals("0.001") ? "0.1%"
                    : r[0].equals("0.001+patch") ? "0.1% patch" : r[0];
            String name = budget + ", " + (r[1].equals("mlp") ? "MLP" : "softmax regression") + ", " + r[2];
            s.computeIfAbsent(name, k -> new ArrayList<>()).add(r);
        }
        return s;
    }

    static String markdown(List<String[]> rows) {
        Map<String, List<String[]>> s = series(rows);
        List<String[]> first = s.values().iterator().next();
        StringBuilder b = new StringBuilder("| budget, suspect, answers |");
        StringBuilder rule = new StringBuilder("|---|");
        for (String[] r : first) {
            b.append(' ').append(r[3]).append(" probes |");
            rule.append("---|");
        }
        b.append('\n').append(rule).append('\n');
        for (Map.Entry<String, List<String[]>> e : s.entrySet()) {
            b.append("| ").append(e.getKey()).append(" |");
            for (String[] r : e.getValue()) {
                b.append(' ').append(r[4]).append('/').append(r[5]).append(" (p ").append(r[6]).append(") |");
            }
            b.append('\n');
        }
        return b.toString();
    }

    private static void chart(List<String[]> rows, Path file, boolean full) throws IOException {
        int w = 900;
        int h = 560;
        int left = 70;
        int right = 300;
        int top = 40;
        int bottom = 60;
        BufferedImage img = new BufferedImage(w, h, BufferedImage.TYPE_INT_RGB);
        Graphics2D g = img.createGraphics();
        g.setRenderingHint(RenderingHints.KEY_ANTIALIASING, RenderingHints.VALUE_ANTIALIAS_ON);
        g.setRenderingHint(RenderingHints.KEY_TEXT_ANTIALIASING, RenderingHints.VALUE_TEXT_ANTIALIAS_ON);
        g.setColor(Color.WHITE);
        g.fillRect(0, 0, w, h);
        int pw = w - left - right;
        int ph = h - top - bottom;
        double lo = Math.log(20);
        double hi = Math.log(1200);
        g.setFont(new Font(Font.SANS_SERIF, Font.PLAIN, 12));
        g.setColor(new Color(0xDDDDDD));
        for (int i = 0; i <= 10; i += 2) {
            int y = top + ph - ph * i / 10;
            g.drawLine(left, y, left + pw, y);
        }
        g.setColor(Color.BLACK);
        g.drawRect(left, top, pw, ph);
        for (int i = 0; i <= 10; i += 2) {
            int y = top + ph - ph * i / 10;
            g.drawString(String.format(Locale.ROOT, "%.1f", i / 10.0), left - 30, y + 4);
        }
        List<String[]> any = series(rows).values().iterator().next();
        for (String[] r : any) {
            int x = left + (int) Math.round(pw * (Math.log(Integer.parseInt(r[3])) - lo) / (hi - lo));
            g.drawLine(x, top + ph, x, top + ph + 4);
            g.drawString(r[3], x - 10, top + ph + 18);
        }
        g.drawString("probes (log scale)", left + pw / 2 - 50, h - 18);
        g.drawString("fraction of random probe subsets detected at alpha = 0.01", left, top - 14);
        Color[] colors = {new Color(0x1f77b4), new Color(0xff7f0e), new Color(0x2ca02c), new Color(0xd62728),
            new Color(0x9467bd), new Color(0x8c564b)};
        int k = 0;
        int legend = top + 10;
        for (Map.Entry<String, List<String[]>> e : series(rows).entrySet()) {
            Color c = colors[(k / 2) % colors.length];
            boolean dashed = k % 2 == 1;
            g.setColor(c);
            g.setStroke(dashed ? new BasicStroke(2f, BasicStroke.CAP_BUTT, BasicStroke.JOIN_ROUND, 1f,
                    new float[] {6f, 4f}, 0f) : new BasicStroke(2f));
            int px = -1;
            int py = -1;
            for (String[] r : e.getValue()) {
                double frac = Double.parseDouble(r[4]) / Double.parseDouble(r[5]);
                int x = left + (int) Math.round(pw * (Math.log(Integer.parseInt(r[3])) - lo) / (hi - lo));
                int y = top + ph - (int) Math.round(ph * frac) - (k % 4); // small offset keeps overlapping lines visible
                if (px >= 0) {
                    g.drawLine(px, py, x, y);
                }
                g.fillOval(x - 3, y - 3, 6, 6);
                px = x;
                py = y;
            }
            g.drawLine(left + pw + 15, legend, left + pw + 45, legend);
            g.setColor(Color.BLACK);
            g.drawString(e.getKey(), left + pw + 52, legend + 4);
            legend += 20;
            k++;
        }
        g.setStroke(new BasicStroke(1f));
        g.drawString((full ? "full run: " : "CI run: ") + any.get(0)[5] + " subsets per point", left + pw + 15,
                legend + 10);
        g.dispose();
        if (!ImageIO.write(img, "png", file.toFile())) {
            throw new UncheckedIOException(new IOException("no PNG writer"));
        }
    }
}
