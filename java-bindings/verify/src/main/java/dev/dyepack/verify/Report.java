package dev.dyepack.verify;

import dev.dyepack.Engine;
import dev.dyepack.InvalidArgumentException;
import dev.dyepack.InvalidInputException;
import dev.dyepack.io.AtomicFiles;
import dev.dyepack.io.StagedOutput;
import dev.dyepack.key.OwnerKey;
import dev.dyepack.manifest.Fingerprints;
import dev.dyepack.manifest.Json;
import dev.dyepack.manifest.UntrustedRecordException;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.Base64;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Objects;
import java.util.TreeMap;
import org.apache.commons.statistics.distribution.BetaDistribution;

/**
 * A verification report fit to attach to a letter: {@value #JSON} (every number and the provenance),
 * {@value #HTML} (one self-contained page: inline CSS, the chart as a {@code data:} URI, no script,
 * no external font or image) and {@value #CHART} (target-class rates of the triggered, clean and
 * control probes with their intervals, the null rate and the p-value).
 *
 * <p>Every number the page shows carries {@code data-key} and {@code data-value} attributes whose
 * value is the JSON's text for the same number, so a reader (or a test) can match the page to the
 * record. Immutable; {@link #write} is safe to call from several threads on different folders.
 */
public final class Report {
    /** The record's name in the report folder. */
    public static final String JSON = "report.json";
    /** The page's name. */
    public static final String HTML = "report.html";
    /** The chart's name. */
    public static final String CHART = "report.png";
    /** Confidence of the two-sided Clopper-Pearson intervals drawn as error bars. */
    public static final double INTERVAL_LEVEL = 0.95;
    /** The report format's version. */
    public static final int FORMAT = 1;

    /**
     * Where the numbers come from.
     *
     * @param manifest          the manifest's path as given
     * @param manifestSha256    its SHA-256
     * @param keyFingerprint    the owner key's fingerprint (never the key)
     * @param probeRecordSha256 the SHA-256 of the probe set's signed {@code probe.json}
     * @param probeFiles        each probe file's SHA-256, by name
     * @param toolVersion       the DyePack version that computed the verdict
     * @param created           when the verification ran (whole seconds, UTC)
     */
    public record Provenance(String manifest, String manifestSha256, String keyFingerprint, String probeRecordSha256,
            Map<String, String> probeFiles, String toolVersion, Instant created) {
        /** @throws InvalidArgumentException if a member is null */
        public Provenance {
            for (Object o : new Object[] {manifest, manifestSha256, keyFingerprint, probeRecordSha256, probeFiles,
                toolVersion, created}) {
                if (o == null) {
                    throw new InvalidArgumentException("a report's provenance needs every member; one is null");
                }
            }
            probeFiles = Collections.unmodifiableMap(new TreeMap<>(probeFiles));
        }

        /**
         * The provenance of a verification against a probe set: the probe set is opened (its record's
         * signature, its manifest and every file's SHA-256, or a folder's fingerprint, are checked).
         *
         * @param manifest the poisoning's manifest
         * @param probeDir the probe set
         * @param key      the owner's key (only its fingerprint is recorded)
         * @return the provenance, created now, with {@link Engine#version()}
         * @throws UntrustedRecordException if the manifest or the probe set does not verify
         * @throws InvalidInputException    if a file cannot be read
         */
        public static Provenance of(Path manifest, Path probeDir, OwnerKey key) {
            // Opening checks every file against the signed record, whose hashes are then the files'.
            Map<String, String> files = new TreeMap<>(ProbeSet.open(probeDir, manifest, key).files());
            return new Provenance(manifest.toString(), Fingerprints.sha256(manifest), key.fingerprint(),
                    Fingerprints.sha256(probeDir.resolve(ProbeSet.RECORD)), files, Engine.version(),
                    Instant.now().truncatedTo(ChronoUnit.SECONDS));
        }
    }

    /**
     * One probe set's target-class rate, as charted.
     *
     * @param name       "triggered", "clean" or "control-K"
     * @param hits       answers that were the target
     * @param probes     probes
     * @param upperBound the one-sided Clopper-Pearson upper bound at 1 - alpha
     * @param lower95    the two-sided {@value Report#INTERVAL_LEVEL} Clopper-Pearson interval's lower end
     * @param upper95    its upper end
     */
    public record Rate(String name, int hits, int probes, double upperBound, double lower95, double upper95) {
        /** @return hits / probes */
        public double rate() {
            return (double) hits / probes;
        }

        static Rate of(String name, int hits, int probes, double upperBound) {
            double tail = (1 - INTERVAL_LEVEL) / 2;
            double lo = hits == 0 ? 0.0 : BetaDistribution.of(hits, probes - hits + 1.0).inverseCumulativeProbability(tail);
            double hi = hits == probes ? 1.0
                    : BetaDistribution.of(hits + 1.0, (double) probes - hits).inverseCumulativeProbability(1 - tail);
            return new Rate(name, hits, probes, upperBound, lo, hi);
        }
    }

    private final Verdict verdict;
    private final Provenance provenance;
    private final List<Rate> rates;

    private Report(Verdict verdict, Provenance provenance) {
        this.verdict = verdict;
        this.provenance = provenance;
        List<Rate> r = new ArrayList<>();
        r.add(Rate.of("triggered", verdict.hits(), verdict.probes(),
                Verifier.upperBound(verdict.hits(), verdict.probes(), 1 - verdict.alpha())));
        for (Verifier.Rate v : concat(verdict.clean(), verdict.controls())) {
            r.add(Rate.of(v.name(), v.hits(), v.trials(), v.upperBound()));
        }
        this.rates = List.copyOf(r);
    }

    private static List<Verifier.Rate> concat(Verifier.Rate first, List<Verifier.Rate> rest) {
        List<Verifier.Rate> all = new ArrayList<>(List.of(first));
        all.addAll(rest);
        return all;
    }

    /**
     * A report of a verdict.
     *
     * @param verdict    the verdict
     * @param provenance where it comes from
     * @return the report
     * @throws InvalidArgumentException if either is null
     */
    public static Report of(Verdict verdict, Provenance provenance) {
        if (verdict == null || provenance == null) {
            throw new InvalidArgumentException("a report needs a verdict and its provenance");
        }
        return new Report(verdict, provenance);
    }

    /** @return the verdict reported */
    public Verdict verdict() {
        return verdict;
    }

    /** @return the provenance reported */
    public Provenance provenance() {
        return provenance;
    }

    /** @return the charted rates: triggered, clean, then each control */
    public List<Rate> rates() {
        return rates;
    }

    /**
     * Writes {@value #JSON}, {@value #HTML} and {@value #CHART} into a folder (created if needed). Each
     * file is complete before it gets its final name, and the record comes last, so a folder holding
     * {@value #JSON} holds the whole report; existing report files are replaced.
     *
     * @param dir the folder
     * @throws IOException if writing fails (no temporary file is left)
     */
    public void write(Path dir) throws IOException {
        byte[] png = ReportChart.png(this);
        Map<String, byte[]> files = new LinkedHashMap<>();
        files.put(CHART, png);
        files.put(HTML, ReportPage.html(this, png).getBytes(StandardCharsets.UTF_8));
        files.put(JSON, toJson().getBytes(StandardCharsets.UTF_8));
        writeFiles(dir, files);
    }

    /**
     * Writes a report's files into a folder, each under its final name only when complete.
     *
     * @param dir   the folder (created with its missing parents)
     * @param files file name to bytes, written in this order
     * @throws IOException if a file cannot be written (no file is left half-written)
     */
    public static void writeFiles(Path dir, Map<String, byte[]> files) throws IOException {
        Files.createDirectories(dir);
        for (Map.Entry<String, byte[]> f : files.entrySet()) {
            Path target = dir.resolve(f.getKey());
            Path tmp = AtomicFiles.newTempFile(target);
            try {
                Files.write(tmp, f.getValue());
                AtomicFiles.moveIntoPlace(tmp, target);
            } finally {
                Files.deleteIfExists(tmp);
            }
        }
    }

    /**
     * Writes the report as a command's output ({@link StagedOutput}): the three files are built in a
     * staging folder beside {@code dir} and appear together with one rename; an existing non-empty
     * {@code dir} is refused unless {@code replace}, and replaced only by that rename.
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

    /** @return the page, with the chart embedded */
    public String toHtml() {
        return ReportPage.html(this, ReportChart.png(this));
    }

    /** @return the chart as PNG bytes */
    public byte[] chartPng() {
        return ReportChart.png(this);
    }

    /**
     * The record: {@code format}, {@code decision}, {@code provenance} (manifest path and SHA-256, key
     * fingerprint, probe record's and files' SHA-256, tool version, time), {@code verdict} (exactly
     * {@link Verdict#toJson()}), {@code rates} (each with its one-sided bound at 1 - alpha and its
     * two-sided {@value #INTERVAL_LEVEL} interval) and {@code interval_level}.
     *
     * @return the JSON text, one object, ending in a newline
     */
    public String toJson() {
        StringBuilder b = new StringBuilder("{\n");
        b.append("  \"format\": ").append(FORMAT).append(",\n");
        b.append("  \"decision\": ").append(Json.quote(verdict.decision())).append(",\n");
        b.append("  \"provenance\": {\n");
        b.append("    \"manifest\": ").append(Json.quote(provenance.manifest())).append(",\n");
        b.append("    \"manifest_sha256\": ").append(Json.quote(provenance.manifestSha256())).append(",\n");
        b.append("    \"key_fingerprint\": ").append(Json.quote(provenance.keyFingerprint())).append(",\n");
        b.append("    \"probe_record_sha256\": ").append(Json.quote(provenance.probeRecordSha256())).append(",\n");
        b.append("    \"probe_files_sha256\": {");
        String sep = "\n";
        for (Map.Entry<String, String> f : provenance.probeFiles().entrySet()) {
            b.append(sep).append("      ").append(Json.quote(f.getKey())).append(": ").append(Json.quote(f.getValue()));
            sep = ",\n";
        }
        b.append("\n    },\n");
        b.append("    \"tool_version\": ").append(Json.quote(provenance.toolVersion())).append(",\n");
        b.append("    \"created\": ").append(Json.quote(provenance.created().toString())).append("\n  },\n");
        b.append("  \"verdict\": ").append(verdict.toJson()).append(",\n");
        b.append("  \"interval_level\": ").append(num(INTERVAL_LEVEL)).append(",\n");
        b.append("  \"rates\": [");
        sep = "\n";
        for (Rate r : rates) {
            b.append(sep).append("    {\"name\": ").append(Json.quote(r.name())).append(", \"hits\": ").append(r.hits())
                    .append(", \"probes\": ").append(r.probes()).append(", \"rate\": ").append(num(r.rate()))
                    .append(", \"upper_bound\": ").append(num(r.upperBound())).append(", \"lower_95\": ")
                    .append(num(r.lower95())).append(", \"upper_95\": ").append(num(r.upper95())).append('}');
            sep = ",\n";
        }
        return b.append("\n  ]\n}\n").toString();
    }

    /**
     * A finite double as JSON text, the same text {@link Verdict#toJson()} writes for it (integral
     * values without a fraction, others as Java's shortest round-trip form), so the page and the
     * record show one number one way.
     */
    static String num(double v) {
        if (v == Math.rint(v) && Math.abs(v) < 1e15) {
            return Long.toString((long) v);
        }
        return Double.toString(v).toLowerCase(Locale.ROOT);
    }

    /** A p-value for people: three significant digits, and what an underflow to 0 means. */
    static String pText(double p) {
        if (p == 0) {
            return "below 1e-300";
        }
        return p >= 0.001 ? String.format(Locale.ROOT, "%.3f", p) : String.format(Locale.ROOT, "%.2e", p);
    }

    static String base64(byte[] bytes) {
        return Base64.getEncoder().encodeToString(Objects.requireNonNull(bytes));
    }
}
