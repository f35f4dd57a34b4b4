package dev.dyepack.verify;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.awt.image.BufferedImage;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import javax.imageio.ImageIO;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The report page as a browser shows it: Debian's headless Chromium loads report.html (offline: no
 * network, no component updates), its rendered DOM carries every number of report.json, and its
 * screenshot shows the page with the embedded chart. Skips where Chromium is not installed.
 */
class ReportInChromiumTest {
    private static final List<String> CANDIDATES = List.of("/usr/bin/chromium", "/usr/bin/chromium-browser");

    private static Path chromium() {
        for (String c : CANDIDATES) {
            if (Files.isExecutable(Path.of(c))) {
                return Path.of(c);
            }
        }
        return null;
    }

    /** Runs headless Chromium on a page; returns its stdout. */
    private static String run(Path browser, Path profile, Path log, String... args) throws IOException,
            InterruptedException {
        List<String> cmd = new ArrayList<>(List.of(browser.toString(), "--headless", "--no-sandbox", "--disable-gpu",
                "--disable-quic", "--no-first-run", "--disable-background-networking", "--disable-component-update",
                "--disable-sync", "--hide-scrollbars", "--user-data-dir=" + profile));
        cmd.addAll(List.of(args));
        Process p = new ProcessBuilder(cmd).redirectError(log.toFile()).start();
        p.getOutputStream().close();
        byte[] out = p.getInputStream().readAllBytes();
        assertTrue(p.waitFor(120, TimeUnit.SECONDS), "chromium finished within 2 minutes");
        assertEquals(0, p.exitValue(), () -> "chromium failed: " + readQuietly(log));
        return new String(out, StandardCharsets.UTF_8);
    }

    private static String readQuietly(Path log) {
        try {
            return Files.readString(log);
        } catch (IOException e) {
            return e.toString();
        }
    }

    /** A number as the page shows it for people: a percentage, a plain or exponent number, or an underflow. */
    private static double shown(String text) {
        String t = text.trim();
        if (t.equals("below 1e-300")) {
            return 0;
        }
        if (t.endsWith("%")) {
            return Double.parseDouble(t.substring(0, t.length() - 1)) / 100;
        }
        return Double.parseDouble(t);
    }

    @Test
    void thePageRendersAndEveryNumberOnItIsTheRecords(@TempDir Path dir) throws Exception {
        Path browser = chromium();
        assumeTrue(browser != null, "Debian's chromium package is not installed (apt-get install chromium); "
                + "the report page is not rendered");
        Report report = ReportTest.sample(true);
        Path out = dir.resolve("report");
        report.write(out);
        Path page = out.resolve(Report.HTML);
        Map<String, Object> json = FlatJson.parse(Files.readString(out.resolve(Report.JSON)));

        String dom = run(browser, dir.resolve("profile"), dir.resolve("dump.log"), "--dump-dom", page.toUri().toString());
        assertTrue(dom.contains("Watermark verification report"), "the page loaded: " + dom.substring(0,
                Math.min(200, dom.length())));
        Matcher m = Pattern.compile("data-key=\"([^\"]+)\" data-value=\"([^\"]*)\">([^<]*)<").matcher(dom);
        Set<String> keys = new HashSet<>();
        while (m.find()) {
            String key = m.group(1);
            Object expected = json.get(key);
            assertNotNull(expected, key + " is in report.json");
            if (expected instanceof Double d) {
                assertEquals(d, Double.valueOf(m.group(2)), key);
                double text = shown(m.group(3));
                // The text is rounded for people: to 3 significant digits, or to 0.01 of a percentage point.
                assertEquals(d, text, Math.max(Math.abs(d) * 5e-3, 5e-5), key + " shows " + m.group(3));
            } else {
                assertEquals(expected, m.group(2).replace("&amp;", "&"), key);
                assertTrue(m.group(3).contains((String) expected), key + " shows " + m.group(3));
            }
            keys.add(key);
        }
        for (String needed : List.of("decision", "verdict.p_value", "verdict.alpha", "verdict.success_rate",
                "verdict.null_rate", "verdict.label_margin", "verdict.label_p_value", "verdict.probability_p_value",
                "verdict.clean_accuracy",
                "provenance.manifest_sha256", "provenance.key_fingerprint", "provenance.probe_record_sha256",
                "provenance.probe_files_sha256.triggered.npy", "provenance.tool_version")) {
            assertTrue(keys.contains(needed), needed + " is on the page");
        }
        for (Report.Rate r : report.rates()) {
            for (String f : List.of("hits", "rate", "upper_bound", "lower_95", "upper_95")) {
                assertTrue(keys.contains("rates." + r.name() + "." + f), r.name() + " " + f + " is on the page");
            }
        }

        Path shot = dir.resolve("page.png");
        run(browser, dir.resolve("profile"), dir.resolve("shot.log"), "--screenshot=" + shot, "--window-size=1000,2600",
                page.toUri().toString());
        BufferedImage img = ImageIO.read(shot.toFile());
        assertNotNull(img, "the screenshot is a PNG");
        int inked = 0;
        int chartBlue = 0;
        for (int y = 0; y < img.getHeight(); y += 2) {
            for (int x = 0; x < img.getWidth(); x += 2) {
                int rgb = img.getRGB(x, y) & 0xffffff;
                if (rgb != 0xffffff) {
                    inked++;
                }
                int r = rgb >> 16;
                int g = (rgb >> 8) & 0xff;
                int b = rgb & 0xff;
                if (Math.abs(r - 0x1f) < 12 && Math.abs(g - 0x4e) < 12 && Math.abs(b - 0x79) < 12) {
                    chartBlue++;
                }
            }
        }
        int samples = (img.getHeight() / 2) * (img.getWidth() / 2);
        assertTrue(inked > samples / 50, "the page shows text and a chart, not a blank sheet: " + inked + " of "
                + samples);
        assertTrue(chartBlue > 500, "the embedded chart's triggered bar is drawn: " + chartBlue + " pixels");
    }
}
