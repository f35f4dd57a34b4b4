package dev.dyepack.mark;

import dev.dyepack.InvalidInputException;
import dev.dyepack.io.AtomicFiles;
import dev.dyepack.io.NpyWriter;
import dev.dyepack.io.Samples;
import dev.dyepack.key.OwnerKey;
import dev.dyepack.manifest.Fingerprints;
import dev.dyepack.manifest.SignedRecord;
import dev.dyepack.manifest.UntrustedRecordException;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The probes that test a suspect against a mark log: every logged marked query in {@value #MARKED} and every
 * control query in {@value #CONTROL} (N x the query's shape, in the queries' dtype; answers retracted as
 * undelivered are left out), and the signed record
 * {@value #RECORD} saying, row by row, which log entry each probe is (its sequence number, client, the served
 * model's top class and runner-up), with both files' SHA-256. The suspect's answers to each file are saved
 * under the same name for {@link MarkVerifier}.
 */
public final class MarkProbeSet {
    /** The marked queries. */
    public static final String MARKED = "marked.npy";
    /** The control queries. */
    public static final String CONTROL = "control.npy";
    /** The signed record. */
    public static final String RECORD = "probe.json";
    /** The record's subkey purpose. */
    public static final String PURPOSE = "mark-probe";
    /** The record's kind, so it is never taken for a watermark probe set. */
    public static final String KIND = "answer-marks";

    /** The probes of one file: per row its log entry, client, top class and runner-up. */
    public record Rows(long[] seq, String[] client, int[] top, int[] runnerUp) {
        /** @return the number of probes */
        public int size() {
            return seq.length;
        }
    }

    private final Path dir;
    private final String keyFingerprint;
    private final String logLastMac;
    private final List<String> clients;
    private final Rows marked;
    private final Rows control;
    private final Map<String, String> files;
    private final int classes;

    private MarkProbeSet(Path dir, String keyFingerprint, String logLastMac, List<String> clients, Rows marked,
            Rows control, Map<String, String> files, int classes) {
        this.classes = classes;
        this.dir = dir;
        this.keyFingerprint = keyFingerprint;
        this.logLastMac = logLastMac;
        this.clients = clients;
        this.marked = marked;
        this.control = control;
        this.files = files;
    }

    /**
     * Writes the probe set of a log.
     *
     * @param logDir the mark log
     * @param key    the owner's key
     * @param out    the probe set's folder (created; files in it are replaced, the record last)
     * @return the probe set
     * @throws UntrustedRecordException if the log does not verify
     * @throws InvalidInputException    if the log has no marked or no control query, or its queries differ in
     *                                  shape or dtype
     * @throws IOException              if writing fails
     */
    public static MarkProbeSet create(Path logDir, OwnerKey key, Path out) throws IOException {
        MarkLog.Contents log = MarkLog.read(logDir, key);
        List<MarkEntry> m = new ArrayList<>();
        List<MarkEntry> c = new ArrayList<>();
        for (MarkEntry e : log.answers()) {
            if (!log.undelivered().contains(e.seq())) {
                (e.marked() ? m : c).add(e);
            }
        }
        if (m.isEmpty() || c.isEmpty()) {
            throw new InvalidInputException(logDir + ": the log holds " + m.size() + " marked and " + c.size()
                    + " control answers; a test needs both (serve more queries first)");
        }
        MarkEntry first = log.answers().get(0);
        for (MarkEntry e : log.answers()) {
            if (e.classes() != first.classes()) {
                throw new InvalidInputException(logDir + ": answer " + e.seq() + " has " + e.classes()
                        + " classes, but answer 0 has " + first.classes());
            }
            if (!e.dtype().equals(first.dtype()) || !Arrays.equals(e.shape(), first.shape())) {
                throw new InvalidInputException(logDir + ": answer " + e.seq() + " has a query of shape "
                        + Arrays.toString(e.shape()) + " (" + e.dtype() + "), but answer 0 has "
                        + Arrays.toString(first.shape()) + " (" + first.dtype() + "); one probe set holds one shape");
            }
        }
        Files.createDirectories(out);
        Files.deleteIfExists(out.resolve(RECORD));
        List<String> clients = log.answers().stream().map(MarkEntry::client).distinct().sorted().toList();
        Map<String, String> files = new LinkedHashMap<>();
        files.put(MARKED, writeQueries(out.resolve(MARKED), m, first));
        files.put(CONTROL, writeQueries(out.resolve(CONTROL), c, first));
        Map<String, Object> body = new LinkedHashMap<>();
        body.put("format", 1L);
        body.put("kind", KIND);
        body.put("key_fingerprint", key.fingerprint());
        body.put("log_last_mac", log.lastMac());
        body.put("log_answers", (long) log.answers().size());
        body.put("dtype", first.dtype());
        body.put("classes", (long) first.classes());
        body.put("shape", first.shape().clone());
        body.put("clients", new ArrayList<>(clients));
        body.put("marked", rowsRecord(m, clients));
        body.put("control", rowsRecord(c, clients));
        body.put("files", new LinkedHashMap<>(files));
        Path record = out.resolve(RECORD);
        Path tmp = AtomicFiles.newTempFile(record);
        try {
            Files.writeString(tmp, SignedRecord.write(body, key, PURPOSE), StandardCharsets.UTF_8);
            AtomicFiles.moveIntoPlace(tmp, record);
        } finally {
            Files.deleteIfExists(tmp);
        }
        return open(out, key);
    }

    /**
     * Opens a probe set: the record's signature and every file's SHA-256 are checked first.
     *
     * @param dir the probe set's folder
     * @param key the owner's key
     * @return the probe set
     * @throws UntrustedRecordException if the record's signature or a file's SHA-256 does not verify
     * @throws InvalidInputException    if a file is missing or the record is not a mark probe set's
     */
    public static MarkProbeSet open(Path dir, OwnerKey key) {
        Path record = dir.resolve(RECORD);
        String text;
        try {
            text = Files.readString(record, StandardCharsets.UTF_8);
        } catch (IOException e) {
            throw new InvalidInputException(record + ": cannot read the probe set's record: " + e.getMessage(), e);
        }
        Map<String, Object> r = SignedRecord.read(text, key, PURPOSE, record.toString());
        if (!KIND.equals(r.get("kind"))) {
            throw new InvalidInputException(record + ": not a probe set of answer marks (kind " + r.get("kind") + ")");
        }
        try {
            @SuppressWarnings("unchecked")
            List<Object> clients = (List<Object>) r.get("clients");
            List<String> names = clients.stream().map(o -> (String) o).toList();
            @SuppressWarnings("unchecked")
            Map<String, Object> files = (Map<String, Object>) r.get("files");
            Map<String, String> hashes = new LinkedHashMap<>();
            for (String f : new String[] {MARKED, CONTROL}) {
                Path p = dir.resolve(f);
                if (!Files.isRegularFile(p)) {
                    throw new InvalidInputException(p + ": missing from the probe set");
                }
                String h = Fingerprints.sha256(p);
                if (!h.equals(files.get(f))) {
                    throw new UntrustedRecordException(p + ": its SHA-256 is not the one the signed record holds: the "
                            + "file was changed");
                }
                hashes.put(f, h);
            }
            @SuppressWarnings("unchecked")
            Rows m = rows((Map<String, Object>) r.get("marked"), names);
            @SuppressWarnings("unchecked")
            Rows c = rows((Map<String, Object>) r.get("control"), names);
            return new MarkProbeSet(dir, (String) r.get("key_fingerprint"), (String) r.get("log_last_mac"), names, m,
                    c, hashes, Math.toIntExact((Long) r.get("classes")));
        } catch (ClassCastException | NullPointerException | IndexOutOfBoundsException e) {
            throw new InvalidInputException(record + ": a signed record of an unexpected form (" + e + ")", e);
        }
    }

    /**
     * Checks that every probe is the log's entry it claims to be (same client, classes and kind).
     *
     * @param logDir the mark log
     * @param key    the owner's key
     * @throws UntrustedRecordException if the log does not verify or does not hold a probe's entry
     */
    public void checkAgainst(Path logDir, OwnerKey key) {
        MarkLog.Contents log = MarkLog.read(logDir, key);
        check(log, marked, true);
        check(log, control, false);
    }

    private static void check(MarkLog.Contents log, Rows rows, boolean marked) {
        for (int i = 0; i < rows.size(); i++) {
            long s = rows.seq()[i];
            MarkEntry e = s >= 0 && s < log.answers().size() ? log.answers().get((int) s) : null;
            if (e == null || e.marked() != marked || !e.client().equals(rows.client()[i]) || e.top() != rows.top()[i]
                    || e.runnerUp() != rows.runnerUp()[i]) {
                throw new UntrustedRecordException("the probe set's " + (marked ? "marked" : "control") + " probe " + i
                        + " is not the log's answer " + s + ": the probe set belongs to another log");
            }
        }
    }

    /** @return the folder */
    public Path dir() {
        return dir;
    }

    /** @return the fingerprint of the key it was signed with */
    public String keyFingerprint() {
        return keyFingerprint;
    }

    /** @return the MAC of the log's last line when the set was written */
    public String logLastMac() {
        return logLastMac;
    }

    /** @return the number of classes of the served answers */
    public int classes() {
        return classes;
    }

    /** @return the clients, sorted */
    public List<String> clients() {
        return clients;
    }

    /** @return the marked probes */
    public Rows marked() {
        return marked;
    }

    /** @return the control probes */
    public Rows control() {
        return control;
    }

    /** @return the files' SHA-256 by name */
    public Map<String, String> files() {
        return files;
    }

    private static String writeQueries(Path file, List<MarkEntry> entries, MarkEntry like) throws IOException {
        long[] shape = new long[like.shape().length + 1];
        shape[0] = entries.size();
        System.arraycopy(like.shape(), 0, shape, 1, like.shape().length);
        try (Samples.Writer w = NpyWriter.create(file, like.dtype().equals("u1") ? "|u1" : "<f4", shape)) {
            for (MarkEntry e : entries) {
                w.write(ByteBuffer.wrap(e.query()));
            }
            w.commit();
        }
        return Fingerprints.sha256(file);
    }

    private static Map<String, Object> rowsRecord(List<MarkEntry> entries, List<String> clients) {
        long[] seq = new long[entries.size()];
        long[] client = new long[entries.size()];
        long[] top = new long[entries.size()];
        long[] runnerUp = new long[entries.size()];
        for (int i = 0; i < seq.length; i++) {
            MarkEntry e = entries.get(i);
            seq[i] = e.seq();
            client[i] = clients.indexOf(e.client());
            top[i] = e.top();
            runnerUp[i] = e.runnerUp();
        }
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("seq", seq);
        m.put("client", client);
        m.put("top", top);
        m.put("runner_up", runnerUp);
        return m;
    }

    private static Rows rows(Map<String, Object> m, List<String> clients) {
        long[] seq = (long[]) m.get("seq");
        long[] client = (long[]) m.get("client");
        long[] top = (long[]) m.get("top");
        long[] runnerUp = (long[]) m.get("runner_up");
        int n = seq.length;
        if (client.length != n || top.length != n || runnerUp.length != n) {
            throw new InvalidInputException("a probe set's rows disagree in length");
        }
        String[] names = new String[n];
        int[] t = new int[n];
        int[] r = new int[n];
        for (int i = 0; i < n; i++) {
            names[i] = clients.get(Math.toIntExact(client[i]));
            t[i] = Math.toIntExact(top[i]);
            r[i] = Math.toIntExact(runnerUp[i]);
        }
        return new Rows(seq, names, t, r);
    }
}
