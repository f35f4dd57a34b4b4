package dev.dyepack.mark;

import dev.dyepack.InvalidArgumentException;
import dev.dyepack.InvalidInputException;
import dev.dyepack.io.AtomicFiles;
import dev.dyepack.key.OwnerKey;
import dev.dyepack.manifest.Json;
import dev.dyepack.manifest.JsonReader;
import dev.dyepack.manifest.UntrustedRecordException;
import java.io.Closeable;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.channels.OverlappingFileLockException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.security.InvalidKeyException;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Base64;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import javax.crypto.Mac;
import javax.crypto.spec.SecretKeySpec;

/**
 * The append-only record of marked and control answers, in a folder of segments
 * {@code marks-000001.log}, {@code marks-000002.log}, ...
 *
 * <p><b>Format.</b> Each line is {@code MAC SP JSON LF}. The MAC is HMAC-SHA256, under the subkey
 * {@value #PURPOSE} of the owner's key, of the previous line's MAC (32 zero bytes before the first line of
 * the first segment) followed by the JSON's UTF-8 bytes: the lines form one chain across segments, so a
 * changed, removed, reordered or inserted line, or a segment removed from the middle, fails the chain.
 * A segment opens with a {@code "segment"} line and, once it reaches its size, is closed by a
 * {@code "seal"} line (its entry count); every segment but the last must be sealed. The segment line names
 * how its marked answers were served ({@code "mark"}: a {@link ProbMark}; a segment line without it, written
 * before shifts existed, means {@code swap}); a log opened with another mark than its last segment's seals that
 * segment and begins the next, so every segment's answers were served one way. Answers are
 * {@code "answer"} lines ({@link MarkEntry}); the extraction watch writes {@code "alarm"} lines.
 *
 * <p><b>Durability.</b> {@link #append} writes its lines and forces them to the device before it returns,
 * so an entry whose append returned (an acknowledged entry) survives a crash. A crash during an append can
 * leave a last line without its newline: that line was never acknowledged, and {@link #open} cuts it off
 * (reported by {@link #droppedTailBytes()}); {@link #read} ignores it. A complete line whose MAC fails is
 * tampering, never repaired.
 *
 * <p><b>Bounds.</b> Segments rotate at a size; the log as a whole stops accepting answers at its size
 * limit ({@link #hasRoom}), so a full disk never truncates it; older segments are never deleted, since they
 * are evidence. Only the last segment's tail can be cut away unseen (no later line vouches for it); keep
 * copies of sealed segments elsewhere.
 *
 * <p>One process appends at a time (a lock file); the methods are thread-safe.
 */
public final class MarkLog implements Closeable {
    /** The subkey purpose of the chain's MAC. */
    public static final String PURPOSE = "mark-log";
    /** Default size at which a segment is sealed and the next begun. */
    public static final long DEFAULT_SEGMENT_BYTES = 64L << 20;
    /** Default size limit of the whole log. */
    public static final long DEFAULT_MAX_BYTES = 4L << 30;
    /** The log's format version, written in every segment line. */
    public static final int FORMAT = 1;
    private static final String HMAC = "HmacSHA256";
    private static final Pattern SEGMENT = Pattern.compile("marks-(\\d{6})\\.log");
    private static final int MAC_HEX = 64;

    private final Path dir;
    private final String keyFingerprint;
    private final Mac mac;
    private final long segmentBytes;
    private final long maxBytes;
    private final FileChannel lockChannel;
    private final FileLock lock;
    private final long droppedTailBytes;
    private final List<MarkEntry> loaded;
    private final ProbMark mark;
    private FileChannel segment;
    private int segmentNumber;
    private long segmentEntries;
    private long totalBytes;
    private long nextSeq;
    private byte[] lastMac;
    private boolean closed;

    /**
     * What a log holds.
     *
     * @param answers          its answers in order
     * @param alarms           the extraction watch's alarms in order
     * @param undelivered      the sequence numbers of answers retracted because they could not be delivered
     * @param droppedTailBytes the bytes of an unacknowledged partial last line ignored
     * @param segments         the number of segments
     * @param lastMac          the MAC of the last line (lowercase hex), which vouches for everything before it
     * @param marks            how marked answers were served, by the sequence number of the first answer each
     *                         segment could hold (look one up with {@link #markOf})
     */
    public record Contents(List<MarkEntry> answers, List<Map<String, Object>> alarms, java.util.Set<Long> undelivered,
            long droppedTailBytes, int segments, String lastMac, java.util.NavigableMap<Long, ProbMark> marks) {
        /**
         * @param seq an answer's sequence number
         * @return how that answer, if marked, was served
         */
        public ProbMark markOf(long seq) {
            Map.Entry<Long, ProbMark> e = marks.floorEntry(seq);
            return e == null ? ProbMark.SWAP : e.getValue();
        }
    }

    private MarkLog(Path dir, OwnerKey key, long segmentBytes, long maxBytes, FileChannel lockChannel, FileLock lock,
            ProbMark mark) throws IOException {
        this.dir = dir;
        this.keyFingerprint = key.fingerprint();
        this.mac = newMac(key);
        this.segmentBytes = segmentBytes;
        this.maxBytes = maxBytes;
        this.lockChannel = lockChannel;
        this.lock = lock;
        this.mark = mark;
        Scan scan = scan(dir, mac, true);
        this.droppedTailBytes = scan.dropped;
        this.loaded = List.copyOf(scan.answers);
        this.totalBytes = scan.bytes;
        this.nextSeq = scan.answers.size();
        this.lastMac = scan.lastMac;
        if (scan.segments == 0 || scan.lastSealed) {
            begin(scan.segments + 1);
        } else {
            segmentNumber = scan.segments;
            segmentEntries = scan.lastSegmentEntries;
            segment = FileChannel.open(segmentPath(dir, segmentNumber), StandardOpenOption.WRITE,
                    StandardOpenOption.APPEND);
            if (!mark.equals(scan.lastMark)) {
                rotate();
            }
        }
    }

    /**
     * Opens a log for appending, creating the folder if needed, with the default sizes and the default mark
     * ({@link ProbMark#DEFAULT}).
     *
     * @param dir the log's folder
     * @param key the owner's key
     * @return the log
     * @throws IOException              if the folder cannot be read or written
     * @throws UntrustedRecordException if a line's MAC fails, a segment is missing or unsealed before the last
     * @throws InvalidInputException    if another process holds the log
     */
    public static MarkLog open(Path dir, OwnerKey key) throws IOException {
        return open(dir, key, DEFAULT_SEGMENT_BYTES, DEFAULT_MAX_BYTES);
    }

    /**
     * Opens a log for appending: every segment is verified, and an unacknowledged partial last line is cut off.
     *
     * @param dir          the log's folder (created if missing)
     * @param key          the owner's key
     * @param segmentBytes the size at which a segment is sealed, at least 4096
     * @param maxBytes     the size limit of the whole log, at least segmentBytes
     * @return the log
     * @throws IOException              if the folder cannot be read or written
     * @throws UntrustedRecordException if a line's MAC fails, a segment is missing or unsealed before the last
     * @throws InvalidInputException    if another process holds the log
     * @throws InvalidArgumentException for sizes out of range
     */
    public static MarkLog open(Path dir, OwnerKey key, long segmentBytes, long maxBytes) throws IOException {
        return open(dir, key, segmentBytes, maxBytes, ProbMark.DEFAULT);
    }

    /**
     * Opens a log for appending whose new answers are marked as {@code mark} says: every segment is verified, an
     * unacknowledged partial last line is cut off, and if the last segment was begun under another mark it is
     * sealed and a new one begun.
     *
     * @param dir          the log's folder (created if missing)
     * @param key          the owner's key
     * @param segmentBytes the size at which a segment is sealed, at least 4096
     * @param maxBytes     the size limit of the whole log, at least segmentBytes
     * @param mark         how marked answers are served from now on
     * @return the log
     * @throws IOException              if the folder cannot be read or written
     * @throws UntrustedRecordException if a line's MAC fails, a segment is missing or unsealed before the last
     * @throws InvalidInputException    if another process holds the log
     * @throws InvalidArgumentException for sizes out of range
     */
    public static MarkLog open(Path dir, OwnerKey key, long segmentBytes, long maxBytes, ProbMark mark)
            throws IOException {
        java.util.Objects.requireNonNull(mark, "mark");
        if (segmentBytes < 4096 || maxBytes < segmentBytes) {
            throw new InvalidArgumentException("a mark log's segments must be at least 4096 bytes and its limit at "
                    + "least one segment, got " + segmentBytes + " and " + maxBytes);
        }
        Files.createDirectories(dir);
        FileChannel lc = FileChannel.open(dir.resolve(".lock"), StandardOpenOption.CREATE, StandardOpenOption.WRITE);
        FileLock lock;
        try {
            lock = lc.tryLock();
        } catch (OverlappingFileLockException e) {
            lock = null;
        }
        if (lock == null) {
            lc.close();
            throw new InvalidInputException(dir + ": the mark log is open in another process or marker");
        }
        try {
            return new MarkLog(dir, key, segmentBytes, maxBytes, lc, lock, mark);
        } catch (IOException | RuntimeException e) {
            lock.release();
            lc.close();
            throw e;
        }
    }

    /**
     * Reads and verifies a log without changing it (an unacknowledged partial last line is ignored).
     *
     * @param dir the log's folder
     * @param key the owner's key
     * @return its contents
     * @throws InvalidInputException    if the folder holds no log
     * @throws UntrustedRecordException if a line's MAC fails, a segment is missing or unsealed before the last
     */
    public static Contents read(Path dir, OwnerKey key) {
        if (!Files.isDirectory(dir)) {
            throw new InvalidInputException(dir + ": no mark log (not a folder)");
        }
        try {
            Scan s = scan(dir, newMac(key), false);
            if (s.segments == 0) {
                throw new InvalidInputException(dir + ": no mark log (no marks-NNNNNN.log segment)");
            }
            return new Contents(List.copyOf(s.answers), List.copyOf(s.alarms), java.util.Set.copyOf(s.undelivered),
                    s.dropped, s.segments,
                    HexFormat.of().formatHex(s.lastMac), java.util.Collections.unmodifiableNavigableMap(s.marks));
        } catch (IOException e) {
            throw new InvalidInputException(dir + ": cannot read the mark log: " + e.getMessage(), e);
        }
    }

    /** @return how this log's new marked answers are served (its open segment's mark) */
    public ProbMark mark() {
        return mark;
    }

    /** @return the answers the log held when it was opened, in order */
    public List<MarkEntry> loaded() {
        return loaded;
    }

    /** @return the bytes of an unacknowledged partial last line cut off when the log was opened (0 if none) */
    public long droppedTailBytes() {
        return droppedTailBytes;
    }

    /**
     * @param entries how many answers are about to be appended
     * @return whether they fit under the size limit (with room for a seal and a new segment)
     */
    public synchronized boolean hasRoom(int entries) {
        return totalBytes + (long) entries * 8192 + 2 * 4096 <= maxBytes;
    }

    /**
     * Appends answers, durably: when this returns, they are on the device (the acknowledgement). Each is given
     * its place in the log and the time.
     *
     * @param entries the answers (their seq and time are replaced)
     * @return the entries as logged
     * @throws IOException           if writing or forcing fails (the log is then closed; reopen it, which cuts
     *                               off any partial line)
     * @throws IllegalStateException if the log is closed or full
     */
    public synchronized List<MarkEntry> append(List<MarkEntry> entries) throws IOException {
        checkOpen();
        if (!hasRoom(entries.size())) {
            throw new IllegalStateException(dir + ": the mark log is at its size limit (" + maxBytes + " bytes)");
        }
        List<MarkEntry> placed = new ArrayList<>(entries.size());
        Instant now = Instant.ofEpochMilli(System.currentTimeMillis());
        StringBuilder lines = new StringBuilder();
        byte[] chain = lastMac;
        for (MarkEntry e : entries) {
            MarkEntry p = e.placed(nextSeq + placed.size(), now);
            placed.add(p);
            chain = line(lines, answerJson(p), chain);
        }
        write(lines, chain, entries.size());
        nextSeq += placed.size();
        return placed;
    }

    /**
     * Appends an alarm of the extraction watch, durably.
     *
     * @param client   the client it concerns
     * @param evidence what was measured (strings and finite numbers)
     * @throws IOException           if writing or forcing fails
     * @throws IllegalStateException if the log is closed
     */
    public synchronized void appendAlarm(String client, Map<String, ?> evidence) throws IOException {
        checkOpen();
        StringBuilder json = new StringBuilder("{\"type\":\"alarm\",\"time\":")
                .append(Json.quote(Instant.now().toString())).append(",\"client\":").append(Json.quote(client));
        for (Map.Entry<String, ?> e : evidence.entrySet()) {
            json.append(',').append(Json.quote(e.getKey())).append(':');
            Object v = e.getValue();
            json.append(v instanceof Number n ? n.toString() : Json.quote(String.valueOf(v)));
        }
        StringBuilder lines = new StringBuilder();
        byte[] chain = line(lines, json.append('}').toString(), lastMac);
        write(lines, chain, 0);
    }

    /**
     * Retracts answers that were logged but could not be delivered (the client went away), durably, so that
     * probe sets leave them out.
     *
     * @param seqs their sequence numbers
     * @throws IOException           if writing or forcing fails
     * @throws IllegalStateException if the log is closed
     */
    public synchronized void appendUndelivered(long[] seqs) throws IOException {
        checkOpen();
        StringBuilder lines = new StringBuilder();
        byte[] chain = line(lines, "{\"type\":\"undelivered\",\"time\":" + Json.quote(Instant.now().toString())
                + ",\"seq\":" + Arrays.toString(seqs).replace(" ", "") + "}", lastMac);
        write(lines, chain, 0);
    }

    private void write(StringBuilder lines, byte[] chain, int answers) throws IOException {
        ByteBuffer bytes = ByteBuffer.wrap(lines.toString().getBytes(StandardCharsets.UTF_8));
        long size = bytes.remaining();
        try {
            while (bytes.hasRemaining()) {
                segment.write(bytes);
            }
            segment.force(false);
        } catch (IOException e) {
            closeQuietly();
            throw e;
        }
        lastMac = chain;
        totalBytes += size;
        segmentEntries += answers;
        if (segment.size() >= segmentBytes) {
            rotate();
        }
    }

    private void rotate() throws IOException {
        StringBuilder seal = new StringBuilder();
        byte[] chain = line(seal, "{\"type\":\"seal\",\"segment\":" + segmentNumber + ",\"answers\":" + segmentEntries
                + "}", lastMac);
        ByteBuffer b = ByteBuffer.wrap(seal.toString().getBytes(StandardCharsets.UTF_8));
        totalBytes += b.remaining();
        while (b.hasRemaining()) {
            segment.write(b);
        }
        segment.force(false);
        segment.close();
        lastMac = chain;
        begin(segmentNumber + 1);
    }

    private void begin(int number) throws IOException {
        Path p = segmentPath(dir, number);
        StringBuilder head = new StringBuilder();
        byte[] chain = line(head, "{\"type\":\"segment\",\"format\":" + FORMAT + ",\"segment\":" + number
                + ",\"key_fingerprint\":" + Json.quote(keyFingerprint) + ",\"mark\":" + Json.quote(mark.toString())
                + ",\"created\":"
                + Json.quote(Instant.now().toString()) + "}", lastMac == null ? new byte[32] : lastMac);
        segment = FileChannel.open(p, StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE, StandardOpenOption.APPEND);
        ByteBuffer b = ByteBuffer.wrap(head.toString().getBytes(StandardCharsets.UTF_8));
        totalBytes += b.remaining();
        while (b.hasRemaining()) {
            segment.write(b);
        }
        segment.force(true);
        AtomicFiles.syncDirectory(dir);
        lastMac = chain;
        segmentNumber = number;
        segmentEntries = 0;
    }

    private byte[] line(StringBuilder out, String json, byte[] previous) {
        byte[] m = chainMac(mac, previous, json);
        out.append(HexFormat.of().formatHex(m)).append(' ').append(json).append('\n');
        return m;
    }

    private static byte[] chainMac(Mac mac, byte[] previous, String json) {
        synchronized (mac) {
            mac.update(previous);
            return mac.doFinal(json.getBytes(StandardCharsets.UTF_8));
        }
    }

    private void checkOpen() {
        if (closed) {
            throw new IllegalStateException(dir + ": the mark log is closed");
        }
    }

    private void closeQuietly() {
        try {
            close();
        } catch (IOException ignored) {
            // Already failing: the caller gets the first error.
        }
    }

    @Override
    public synchronized void close() throws IOException {
        if (closed) {
            return;
        }
        closed = true;
        try {
            if (segment != null) {
                segment.close();
            }
        } finally {
            lock.release();
            lockChannel.close();
        }
    }

    static String answerJson(MarkEntry e) {
        StringBuilder b = new StringBuilder("{\"type\":\"answer\"");
        b.append(",\"seq\":").append(e.seq());
        b.append(",\"time\":").append(Json.quote(e.time().toString()));
        b.append(",\"client\":").append(Json.quote(e.client()));
        b.append(",\"digest\":").append(Json.quote(e.digest()));
        b.append(",\"marked\":").append(e.marked());
        b.append(",\"top\":").append(e.top());
        b.append(",\"runner_up\":").append(e.runnerUp());
        b.append(",\"classes\":").append(e.classes());
        b.append(",\"served\":").append(e.served());
        b.append(",\"margin\":").append(Float.toString(e.margin()));
        b.append(",\"threshold\":").append(Float.toString(e.threshold()));
        b.append(",\"dtype\":").append(Json.quote(e.dtype()));
        b.append(",\"shape\":").append(Arrays.toString(e.shape()).replace(" ", ""));
        b.append(",\"query\":").append(Json.quote(Base64.getEncoder().encodeToString(e.query())));
        return b.append('}').toString();
    }

    private static MarkEntry parseAnswer(Map<String, Object> m, String where) {
        try {
            @SuppressWarnings("unchecked")
            List<Object> shape = (List<Object>) m.get("shape");
            long[] s = new long[shape.size()];
            for (int i = 0; i < s.length; i++) {
                s[i] = (Long) shape.get(i);
            }
            return new MarkEntry((Long) m.get("seq"), Instant.parse((String) m.get("time")), (String) m.get("client"),
                    (String) m.get("digest"), (Boolean) m.get("marked"), Math.toIntExact((Long) m.get("top")),
                    Math.toIntExact((Long) m.get("runner_up")), Math.toIntExact((Long) m.get("classes")),
                    ((Number) m.get("margin")).floatValue(),
                    ((Number) m.get("threshold")).floatValue(), (String) m.get("dtype"), s,
                    Base64.getDecoder().decode((String) m.get("query")));
        } catch (RuntimeException e) {
            throw new UntrustedRecordException(where + ": an answer line with a valid MAC is malformed (" + e + ")");
        }
    }

    private static final class Scan {
        final List<MarkEntry> answers = new ArrayList<>();
        final List<Map<String, Object>> alarms = new ArrayList<>();
        final java.util.Set<Long> undelivered = new java.util.HashSet<>();
        final java.util.TreeMap<Long, ProbMark> marks = new java.util.TreeMap<>();
        ProbMark lastMark = ProbMark.SWAP;
        long dropped;
        long bytes;
        int segments;
        boolean lastSealed;
        long lastSegmentEntries;
        byte[] lastMac = new byte[32];
    }

    /** Verifies every segment; with repair, cuts an unterminated last line off the last segment. */
    private static Scan scan(Path dir, Mac mac, boolean repair) throws IOException {
        List<Integer> numbers = new ArrayList<>();
        try (var files = Files.list(dir)) {
            for (Path p : (Iterable<Path>) files::iterator) {
                Matcher m = SEGMENT.matcher(p.getFileName().toString());
                if (m.matches()) {
                    numbers.add(Integer.parseInt(m.group(1)));
                }
            }
        }
        numbers.sort(null);
        Scan s = new Scan();
        for (int i = 0; i < numbers.size(); i++) {
            if (numbers.get(i) != i + 1) {
                throw new UntrustedRecordException(dir + ": mark log segment " + (i + 1) + " is missing (found "
                        + numbers + ")");
            }
        }
        for (int number : numbers) {
            boolean last = number == numbers.size();
            Path p = segmentPath(dir, number);
            byte[] content = Files.readAllBytes(p);
            int end = content.length;
            int cut = end;
            while (cut > 0 && content[cut - 1] != '\n') {
                cut--;
            }
            if (cut < end) {
                if (!last) {
                    throw new UntrustedRecordException(p + ": a sealed segment ends in a partial line");
                }
                s.dropped = end - cut;
                if (repair) {
                    try (FileChannel ch = FileChannel.open(p, StandardOpenOption.WRITE)) {
                        ch.truncate(cut);
                        ch.force(true);
                    }
                }
            }
            String text = new String(content, 0, cut, StandardCharsets.UTF_8);
            s.bytes += cut;
            int lineNo = 0;
            boolean sealed = false;
            long entries = 0;
            for (String line : text.split("\n", -1)) {
                if (line.isEmpty()) {
                    continue;
                }
                lineNo++;
                String where = p + ":" + lineNo;
                if (sealed) {
                    throw new UntrustedRecordException(where + ": a line after the segment's seal");
                }
                if (line.length() < MAC_HEX + 2 || line.charAt(MAC_HEX) != ' '
                        || !line.substring(0, MAC_HEX).matches("[0-9a-f]{64}")) {
                    throw new UntrustedRecordException(where + ": not a mark log line (MAC, space, JSON)");
                }
                String json = line.substring(MAC_HEX + 1);
                byte[] expected = chainMac(mac, s.lastMac, json);
                if (!MessageDigest.isEqual(expected, HexFormat.of().parseHex(line, 0, MAC_HEX))) {
                    throw new UntrustedRecordException(where + ": the MAC does not verify under the key given: the log "
                            + "was changed here (or a line before it removed), or it belongs to another key");
                }
                s.lastMac = expected;
                Object parsed = JsonReader.parse(json, 4);
                if (!(parsed instanceof Map<?, ?> raw)) {
                    throw new UntrustedRecordException(where + ": not a JSON object");
                }
                @SuppressWarnings("unchecked")
                Map<String, Object> obj = (Map<String, Object>) raw;
                Object type = obj.get("type");
                if (lineNo == 1 != "segment".equals(type)) {
                    throw new UntrustedRecordException(where + ": a segment must begin with its segment line, once");
                }
                if ("segment".equals(type) && !Long.valueOf(number).equals(obj.get("segment"))) {
                    throw new UntrustedRecordException(where + ": the segment line names segment "
                            + obj.get("segment"));
                }
                if ("segment".equals(type)) {
                    try {
                        s.lastMark = obj.get("mark") == null ? ProbMark.SWAP : ProbMark.parse((String) obj.get("mark"));
                    } catch (RuntimeException e) {
                        throw new UntrustedRecordException(where + ": the segment line's mark is malformed (" + e
                                + ")");
                    }
                    s.marks.put((long) s.answers.size(), s.lastMark);
                }
                if ("answer".equals(type)) {
                    MarkEntry e = parseAnswer(obj, where);
                    if (e.seq() != s.answers.size()) {
                        throw new UntrustedRecordException(where + ": answer " + e.seq() + " out of order");
                    }
                    s.answers.add(e);
                    entries++;
                } else if ("undelivered".equals(type)) {
                    if (!(obj.get("seq") instanceof List<?> seqs)) {
                        throw new UntrustedRecordException(where + ": an undelivered line without its seq list");
                    }
                    for (Object o : seqs) {
                        s.undelivered.add((Long) o);
                    }
                } else if ("alarm".equals(type)) {
                    s.alarms.add(obj);
                } else if ("seal".equals(type)) {
                    sealed = true;
                }
            }
            if (lineNo == 0 && !last) {
                throw new UntrustedRecordException(p + ": an empty segment before the last");
            }
            if (!sealed && !last) {
                throw new UntrustedRecordException(p + ": not sealed, though a later segment exists");
            }
            if (last) {
                if (lineNo == 0) {
                    // Created, but its first line never reached the device: begin it again.
                    if (repair) {
                        Files.delete(p);
                        s.segments = number - 1;
                        s.lastSealed = true;
                        return s;
                    }
                }
                s.lastSealed = sealed;
                s.lastSegmentEntries = entries;
            }
            s.segments = number;
        }
        return s;
    }

    private static Path segmentPath(Path dir, int number) {
        return dir.resolve(String.format("marks-%06d.log", number));
    }

    private static Mac newMac(OwnerKey key) {
        byte[] subkey = key.derive(PURPOSE, 32);
        try {
            Mac m = Mac.getInstance(HMAC);
            m.init(new SecretKeySpec(subkey, HMAC));
            return m;
        } catch (NoSuchAlgorithmException | InvalidKeyException e) {
            throw new IllegalStateException("HmacSHA256 is unavailable in this JDK", e);
        } finally {
            Arrays.fill(subkey, (byte) 0);
        }
    }
}
