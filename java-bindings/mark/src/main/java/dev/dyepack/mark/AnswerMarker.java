package dev.dyepack.mark;

import dev.dyepack.Backend;
import dev.dyepack.BoundaryScores;
import dev.dyepack.DType;
import dev.dyepack.Engine;
import dev.dyepack.InvalidArgumentException;
import dev.dyepack.InvalidInputException;
import dev.dyepack.Tensor;
import dev.dyepack.key.OwnerKey;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.FloatBuffer;
import java.nio.charset.StandardCharsets;
import java.security.InvalidKeyException;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Objects;
import java.util.regex.Pattern;
import javax.crypto.Mac;
import javax.crypto.spec.SecretKeySpec;

/**
 * Marks a prediction service's answers so that a model cloned from them can be proved and traced.
 *
 * <p>For each batch: the served model's margin and runner-up per query come from the engine's scoring
 * epilogue (an identity head over the answer rows, so the margin is the gap between the two largest values,
 * on the CPU or the GPU with the same bits); each query gets a keyed digest, HMAC-SHA256 of its canonical
 * form (see {@link #canonical}) under the client's own subkey ({@code "mark/client/" + client}), so each
 * client's marks are its own. A query whose margin is under the threshold is logged: when the digest's
 * first bit is set it is <em>marked</em> (the runner-up is served as the log's {@link ProbMark} says: by
 * default probability mass moved from the top class to the runner-up until it leads by a clear margin, or the
 * two largest values swapped; everything else unchanged), otherwise it is a <em>control</em> (served
 * unchanged). The threshold is the
 * {@code 2 x budget} quantile of the margins seen (a window of the last {@value #WINDOW}), so about half of
 * that share, the budget, of answers is changed; until {@value #WARM_UP} margins have been seen nothing is
 * logged.
 *
 * <p>The same query from the same client always gets the same answer: a logged query's decision is kept
 * in the log and replayed (also after a restart), and a query answered unchanged is remembered (the last
 * {@value #REMEMBERED} of them in memory) and stays unchanged even if the threshold later rises above its
 * margin.
 *
 * <p>Answers come as a host array, or as a tensor in host memory or in the device memory of the engine's CUDA
 * device ({@link #mark(String, Queries, Tensor, Tensor, AnswerKind)}), whose margins are then computed on the
 * device.
 *
 * <p>{@link #mark} returns only after the batch's log entries are on the device, so every mark served is
 * recorded; if logging fails it throws and nothing should be served from that batch. Thread-safe (batches
 * are marked one at a time).
 *
 * <p>The marker keeps, per class count, the identity head its margins are scored under as resident operands of
 * its engine; {@link #close()} releases them (before the engine is closed; closing the engine releases them
 * too). The log and the engine belong to the caller.
 */
public final class AnswerMarker implements AutoCloseable {
    /** The default share of answers changed. */
    public static final double DEFAULT_BUDGET = 0.01;
    /** The largest budget accepted (marks are meant to be rare). */
    public static final double MAX_BUDGET = 0.05;
    /** Margins remembered for the threshold. */
    public static final int WINDOW = 20_000;
    /** Margins needed before anything is logged. */
    public static final int WARM_UP = 500;
    /** Unchanged answers remembered so that they stay unchanged. */
    public static final int REMEMBERED = 1 << 20;
    /** Identity heads kept on the engine, one per class count seen (a service answers with one count). */
    static final int HEADS_KEPT = 4;
    /** Tolerance of a probability row's sum. */
    public static final double SUM_TOLERANCE = 1e-3;
    private static final Pattern CLIENT = Pattern.compile("[A-Za-z0-9._@:+-]{1,128}");
    private static final byte[] CANONICAL_TAG = "dyepack/query/v1\0".getBytes(StandardCharsets.US_ASCII);

    /** What happened to one answer. */
    public enum Outcome {
        /** Served unchanged and not logged (the model was sure enough, or the log is full). */
        PLAIN,
        /** Served unchanged and logged as a control. */
        CONTROL,
        /** Served with the runner-up on top, and logged. */
        MARKED
    }

    /**
     * A marked batch.
     *
     * @param served    the answers to serve, same layout as given
     * @param outcomes  per query what was done
     * @param threshold the margin threshold applied (negative infinity while warming up)
     * @param logged    the log sequence numbers of the entries this batch added
     * @param top       per query the model's top class
     * @param runnerUp  per query the model's second class
     * @param mark      how marked answers were served
     */
    public record Marking(float[] served, Outcome[] outcomes, float threshold, long[] logged, int[] top,
            int[] runnerUp, ProbMark mark) {
        /** @return how many answers were changed */
        public int changed() {
            return (int) Arrays.stream(outcomes).filter(o -> o == Outcome.MARKED).count();
        }
    }

    private final Engine engine;
    private final OwnerKey key;
    private final MarkLog log;
    private final double budget;
    private final Map<AnswerKind, float[]> windows = new HashMap<>();
    private final Map<AnswerKind, int[]> windowFill = new HashMap<>();
    private final Map<String, MarkEntry> logged = new HashMap<>();
    private final Map<String, Boolean> plain = new LinkedHashMap<>(1024, 0.75f, false) {
        private static final long serialVersionUID = 1L;

        @Override
        protected boolean removeEldestEntry(Map.Entry<String, Boolean> eldest) {
            return size() > REMEMBERED;
        }
    };
    private final Map<String, Double> clientRate = new HashMap<>();
    /** Identity heads by class count, the least recently used released beyond {@value #HEADS_KEPT}. */
    private final Map<Integer, Engine.Operand[]> identityHeads = new LinkedHashMap<>(8, 0.75f, true) {
        private static final long serialVersionUID = 1L;

        @Override
        protected boolean removeEldestEntry(Map.Entry<Integer, Engine.Operand[]> eldest) {
            if (size() <= HEADS_KEPT) {
                return false;
            }
            for (Engine.Operand o : eldest.getValue()) {
                o.close();
            }
            return true;
        }
    };
    private boolean closed;
    private long answered;
    private long changed;

    /**
     * A marker writing to a log; the log's earlier entries are replayed so their queries keep their answers.
     * Marked answers are served as the log's {@link MarkLog#mark()} says (recorded in its segment lines).
     *
     * @param engine computes the margins (not closed by the marker)
     * @param key    the owner's key
     * @param log    the log (not closed by the marker)
     * @param budget the share of answers changed, in (0, {@value #MAX_BUDGET}]
     * @throws InvalidArgumentException for a budget out of range
     */
    public AnswerMarker(Engine engine, OwnerKey key, MarkLog log, double budget) {
        this.engine = Objects.requireNonNull(engine, "engine");
        this.key = Objects.requireNonNull(key, "key");
        this.log = Objects.requireNonNull(log, "log");
        if (!(budget > 0 && budget <= MAX_BUDGET)) {
            throw new InvalidArgumentException("the answer-change budget must be in (0, " + MAX_BUDGET + "], got "
                    + budget);
        }
        this.budget = budget;
        for (MarkEntry e : log.loaded()) {
            logged.put(e.client() + "/" + e.digest(), e);
        }
    }

    /**
     * Raises (or restores) one client's marking share, for example after an extraction alarm: that client's
     * queries are logged at {@code 2 x factor x budget} of margins (the threshold then being the corresponding
     * quantile), the factor capped so that the client's share changed stays at most {@link #MAX_BUDGET}.
     *
     * @param client the client
     * @param factor 1 for the default, larger to mark more
     * @return the factor applied after the cap
     * @throws InvalidArgumentException for a factor below 1
     */
    public synchronized double raise(String client, double factor) {
        if (!(factor >= 1)) {
            throw new InvalidArgumentException("a marking factor is at least 1, got " + factor);
        }
        double applied = Math.min(factor, MAX_BUDGET / budget);
        clientRate.put(checkClient(client), applied);
        return applied;
    }

    /** @return the share of answers changed so far by this marker */
    public synchronized double changedShare() {
        return answered == 0 ? 0 : (double) changed / answered;
    }

    /**
     * Marks one client's batch.
     *
     * @param client  the API client (letters, digits and {@code ._@:+-}, at most 128)
     * @param queries the queries, N of them
     * @param answers the served model's answers, N x classes, row-major (not changed)
     * @param classes C, at least 2
     * @param kind    probabilities or logits
     * @return the answers to serve and what was done
     * @throws InvalidInputException    if the counts differ, or an answer is not finite, or probabilities are
     *                                  negative or do not sum to about 1, or a float query is not finite
     * @throws InvalidArgumentException for a bad client name or class count
     * @throws IOException              if the log cannot record the batch's marks (serve nothing from it then)
     * @throws IllegalStateException    after {@link #close()}
     */
    public synchronized Marking mark(String client, Queries queries, float[] answers, int classes, AnswerKind kind)
            throws IOException {
        checkOpen();
        checkClient(client);
        Objects.requireNonNull(kind, "kind");
        if (classes < 2) {
            throw new InvalidArgumentException("answers need at least 2 classes, got " + classes);
        }
        int n = queries.size();
        if ((long) n * classes != answers.length) {
            throw new InvalidInputException("the batch has " + n + " queries but " + answers.length + " answer values ("
                    + (answers.length % classes == 0 ? answers.length / classes + " answers of " + classes + " classes"
                            : "not a multiple of " + classes + " classes") + ")");
        }
        checkAnswers(answers, n, classes, kind);
        if (n == 0) {
            return empty();
        }
        return decide(client, queries, answers, classes, kind, scores(answers, n, classes));
    }

    /**
     * Marks one client's batch whose answers are a tensor, in host memory or in device memory of the engine's CUDA
     * device (for serving code whose model leaves its logits or probabilities on the GPU). The margins and
     * runner-ups are computed by the engine on the tensor where it lies (on the device for a device tensor, with
     * the same bits as on the CPU); the rows are also read to the host once, for the checks of the array form and
     * for the few marked rows' new values. The answers to serve are written into {@code served} (a tensor of the
     * same shape, host or device, which may be {@code answers} itself to mark in place): every row copied, then each
     * marked row written over, only after the batch's log entries are on the device. If writing the served answers
     * fails, the batch's new entries are recorded as undelivered (left out of probe sets) and the error is thrown:
     * serve nothing from that batch.
     *
     * @param client  the API client (letters, digits and {@code ._@:+-}, at most 128)
     * @param queries the queries, N of them
     * @param answers float32 rows (N, C) from {@link Tensor#rows} or {@link Tensor#onDevice} with C = H = 1 and
     *                W = the classes, at least 2 (not changed unless it is also {@code served})
     * @param served  where the answers to serve go: float32 rows of the same shape
     * @param kind    probabilities or logits
     * @return what was done; its {@link Marking#served()} holds the served answers on the host too
     * @throws InvalidInputException    as {@link #mark(String, Queries, float[], int, AnswerKind)} does
     * @throws InvalidArgumentException for a bad client name, a tensor of another dtype or shape, or a device
     *                                  tensor on a CPU engine
     * @throws dev.dyepack.CudaException if a device copy or the scoring fails on the device
     * @throws IOException              if the log cannot record the batch's marks (serve nothing from it then)
     * @throws IllegalStateException    after {@link #close()}
     */
    public synchronized Marking mark(String client, Queries queries, Tensor answers, Tensor served, AnswerKind kind)
            throws IOException {
        checkOpen();
        checkClient(client);
        Objects.requireNonNull(kind, "kind");
        checkRows(answers, "answers");
        checkRows(served, "served");
        int n = queries.size();
        if (answers.n() != n) {
            throw new InvalidInputException("the batch has " + n + " queries but " + answers.n() + " answers");
        }
        if (served.n() != answers.n() || served.w() != answers.w()) {
            throw new InvalidArgumentException("served must have the answers' shape (" + answers.n() + ", "
                    + answers.w() + "), got (" + served.n() + ", " + served.w() + ")");
        }
        int classes = Math.toIntExact(answers.w());
        if (classes < 2) {
            throw new InvalidArgumentException("answers need at least 2 classes, got " + classes);
        }
        // Refused before anything is scored or logged: what would fail only when the served rows are written.
        for (Tensor t : new Tensor[] {answers, served}) {
            if (t.isDevice() && engine.backend() != Backend.CUDA) {
                throw new InvalidArgumentException((t == answers ? "answers" : "served") + " are in device memory "
                        + "but the marker's engine runs on the " + engine.backend().name().toLowerCase(Locale.ROOT)
                        + "; open a CUDA engine for device tensors");
            }
        }
        if (answers.isDevice() == served.isDevice() && answers.address() != served.address()
                && answers.address() < served.address() + served.bytes()
                && served.address() < answers.address() + answers.bytes()) {
            throw new InvalidArgumentException("served overlaps answers without being the same rows; give separate "
                    + "memory, or the answers' own tensor to mark in place");
        }
        if (n == 0) {
            return empty();
        }
        ByteBuffer host = ByteBuffer.allocateDirect(Math.toIntExact(answers.bytes())).order(ByteOrder.nativeOrder());
        engine.copyToHost(answers, 0, host);
        float[] values = new float[n * classes];
        host.asFloatBuffer().get(values);
        checkAnswers(values, n, classes, kind);
        Marking m = decide(client, queries, values, classes, kind, scores(answers, classes));
        try {
            engine.copy(answers, served);
            ByteBuffer row = ByteBuffer.allocateDirect(classes * 4).order(ByteOrder.nativeOrder());
            for (int i = 0; i < n; i++) {
                if (m.outcomes()[i] == Outcome.MARKED) {
                    row.clear();
                    row.asFloatBuffer().put(m.served(), i * classes, classes);
                    engine.copyFromHost(row, served, (long) i * classes * 4);
                }
            }
        } catch (RuntimeException e) {
            if (m.logged().length > 0) {
                try {
                    log.appendUndelivered(m.logged());
                } catch (IOException | RuntimeException suppressed) {
                    e.addSuppressed(suppressed);
                }
            }
            throw e;
        }
        return m;
    }

    private void checkOpen() {
        if (closed) {
            throw new IllegalStateException("the answer marker is closed");
        }
    }

    private Marking empty() {
        return new Marking(new float[0], new Outcome[0], Float.NEGATIVE_INFINITY, new long[0], new int[0], new int[0],
                log.mark());
    }

    private static void checkRows(Tensor t, String name) {
        Objects.requireNonNull(t, name);
        if (t.dtype() != DType.FLOAT32 || t.c() != 1 || t.h() != 1) {
            throw new InvalidArgumentException(name + " must be float32 rows (N, C) with C = H = 1, got " + t);
        }
    }

    /** The batch's decisions, log entries and served answers, from its checked answers and their scores. */
    private Marking decide(String client, Queries queries, float[] answers, int classes, AnswerKind kind,
            BoundaryScores scores) throws IOException {
        int n = queries.size();
        float threshold = threshold(kind, scores.margin(), clientRate.getOrDefault(client, 1.0));
        Outcome[] outcomes = new Outcome[n];
        List<MarkEntry> fresh = new ArrayList<>();
        Map<String, MarkEntry> pending = new HashMap<>();
        byte[] subkey = key.derive("mark/client/" + client, 32);
        try {
            Mac mac = Mac.getInstance("HmacSHA256");
            mac.init(new SecretKeySpec(subkey, "HmacSHA256"));
            long[] sampleShape = queries.sampleShape();
            boolean room = log.hasRoom(n);
            for (int i = 0; i < n; i++) {
                byte[] q = queries.sample(i);
                byte[] digest = mac.doFinal(canonical(queries.dtype(), sampleShape, q, i));
                String hex = java.util.HexFormat.of().formatHex(digest);
                String id = client + "/" + hex;
                MarkEntry known = logged.containsKey(id) ? logged.get(id) : pending.get(id);
                int top = scores.predicted()[i];
                int runnerUp = scores.runnerUp()[i];
                if (known != null) {
                    boolean same = known.top() == top && known.runnerUp() == runnerUp;
                    outcomes[i] = known.marked() && same ? Outcome.MARKED : same ? Outcome.CONTROL : Outcome.PLAIN;
                } else if (plain.containsKey(id) || !(scores.margin()[i] < threshold) || !room) {
                    plain.put(id, Boolean.TRUE);
                    outcomes[i] = Outcome.PLAIN;
                } else {
                    boolean marked = (digest[0] & 1) == 1;
                    MarkEntry e = new MarkEntry(0, java.time.Instant.EPOCH, client, hex, marked, top, runnerUp, classes,
                            scores.margin()[i], threshold, queries.dtype(), sampleShape, q);
                    fresh.add(e);
                    pending.put(id, e);
                    outcomes[i] = marked ? Outcome.MARKED : Outcome.CONTROL;
                }
            }
        } catch (NoSuchAlgorithmException | InvalidKeyException e) {
            throw new IllegalStateException("HmacSHA256 is unavailable in this JDK", e);
        } finally {
            Arrays.fill(subkey, (byte) 0);
        }
        long[] seqs = new long[fresh.size()];
        if (!fresh.isEmpty()) {
            int k = 0;
            for (MarkEntry e : log.append(fresh)) {
                logged.put(e.client() + "/" + e.digest(), e);
                seqs[k++] = e.seq();
            }
        }
        float[] served = answers.clone();
        ProbMark how = log.mark();
        double[] row = new double[classes];
        for (int i = 0; i < n; i++) {
            if (outcomes[i] == Outcome.MARKED) {
                for (int c = 0; c < classes; c++) {
                    row[c] = answers[i * classes + c];
                }
                int a = scores.predicted()[i];
                int b = scores.runnerUp()[i];
                how.apply(row, 0, classes, a, b, kind);
                served[i * classes + a] = (float) row[a];
                served[i * classes + b] = (float) row[b];
                changed++;
            }
        }
        answered += n;
        return new Marking(served, outcomes, threshold, seqs, scores.predicted().clone(), scores.runnerUp().clone(),
                how);
    }

    /**
     * The canonical form of one query that its digest is taken of: the ASCII tag {@code "dyepack/query/v1"} and
     * a zero byte, the rank as a little-endian int32, each dimension as a little-endian int64, then every
     * element as a little-endian float32 (uint8 values converted exactly, -0 as +0). So a query sent as bytes
     * or as the same values in floats has one digest.
     *
     * @param dtype  {@code "u1"} or {@code "f4"}
     * @param shape  the query's shape
     * @param sample its bytes
     * @param index  its place in the batch, for messages
     * @return the canonical bytes
     * @throws InvalidInputException if a float element is not finite
     */
    static byte[] canonical(String dtype, long[] shape, byte[] sample, int index) {
        boolean u1 = "u1".equals(dtype);
        int elements = u1 ? sample.length : sample.length / 4;
        ByteBuffer out = ByteBuffer.allocate(CANONICAL_TAG.length + 4 + 8 * shape.length + 4 * elements)
                .order(ByteOrder.LITTLE_ENDIAN);
        out.put(CANONICAL_TAG).putInt(shape.length);
        for (long d : shape) {
            out.putLong(d);
        }
        ByteBuffer in = ByteBuffer.wrap(sample).order(ByteOrder.LITTLE_ENDIAN);
        for (int j = 0; j < elements; j++) {
            float v = u1 ? in.get(j) & 0xff : in.getFloat(4 * j);
            if (!Float.isFinite(v)) {
                throw new InvalidInputException("query " + index + " holds a non-finite value (" + v + ")");
            }
            out.putFloat(v == 0f ? 0f : v);
        }
        return out.array();
    }

    private static String checkClient(String client) {
        if (client == null || !CLIENT.matcher(client).matches()) {
            throw new InvalidArgumentException("a client id is 1 to 128 letters, digits or ._@:+-, got "
                    + (client == null ? "none" : "'" + client + "'"));
        }
        return client;
    }

    private static void checkAnswers(float[] answers, int n, int classes, AnswerKind kind) {
        for (int i = 0; i < n; i++) {
            double sum = 0;
            for (int c = 0; c < classes; c++) {
                float v = answers[i * classes + c];
                if (!Float.isFinite(v)) {
                    throw new InvalidInputException("answer " + i + " holds a non-finite value (" + v + ") at class " + c);
                }
                if (kind == AnswerKind.PROBABILITIES && v < 0) {
                    throw new InvalidInputException("answer " + i + " holds a negative probability (" + v
                            + ") at class " + c);
                }
                sum += v;
            }
            if (kind == AnswerKind.PROBABILITIES && Math.abs(sum - 1) > SUM_TOLERANCE) {
                throw new InvalidInputException("answer " + i + "'s probabilities sum to " + sum + ", not 1 (within "
                        + SUM_TOLERANCE + "); give logits as logits");
            }
        }
    }

    /** Margins and runner-ups on the engine: the answer rows under an identity head give z = the row itself. */
    private BoundaryScores scores(float[] answers, int n, int classes) {
        FloatBuffer rows = ByteBuffer.allocateDirect(answers.length * 4).order(ByteOrder.nativeOrder()).asFloatBuffer();
        rows.put(answers).flip();
        return scores(Tensor.rows(rows, n, classes), classes);
    }

    /**
     * The engine's scores of answer rows under the identity head of their class count, kept as resident operands
     * (uploaded, and their pairwise distances computed, once per class count rather than once per batch: for
     * 1,000 classes that was most of a batch's time).
     */
    private BoundaryScores scores(Tensor rows, int classes) {
        Engine.Operand[] head = identityHeads.get(classes);
        if (head == null) {
            float[] identity = new float[Math.multiplyExact(classes, classes)];
            for (int c = 0; c < classes; c++) {
                identity[c * classes + c] = 1f;
            }
            Engine.Operand weight = engine.upload(identity);
            try {
                head = new Engine.Operand[] {weight, engine.upload(new float[classes])};
            } catch (RuntimeException e) {
                weight.close();
                throw e;
            }
            identityHeads.put(classes, head);
        }
        return engine.scoreBoundary(rows, head[0], head[1], -1);
    }

    /**
     * Releases the identity heads this marker keeps on its engine (neither the engine nor the log is closed). A
     * second call does nothing; marking after it throws {@link IllegalStateException}.
     */
    @Override
    public synchronized void close() {
        closed = true;
        for (Engine.Operand[] head : identityHeads.values()) {
            for (Engine.Operand o : head) {
                o.close();
            }
        }
        identityHeads.clear();
    }

    /** The threshold for this batch: the quantile of the window with the batch; then the batch joins the window. */
    private float threshold(AnswerKind kind, float[] margins, double factor) {
        float[] window = windows.computeIfAbsent(kind, k -> new float[WINDOW]);
        int[] fill = windowFill.computeIfAbsent(kind, k -> new int[2]); // {count, next}
        int count = Math.min(fill[0], WINDOW);
        float[] all = new float[count + margins.length];
        System.arraycopy(window, 0, all, 0, count);
        System.arraycopy(margins, 0, all, count, margins.length);
        for (float m : margins) {
            window[fill[1]] = m;
            fill[1] = (fill[1] + 1) % WINDOW;
            fill[0] = Math.min(fill[0] + 1, WINDOW);
        }
        if (all.length < WARM_UP) {
            return Float.NEGATIVE_INFINITY;
        }
        Arrays.sort(all);
        double share = Math.min(2 * budget * factor, 2 * MAX_BUDGET);
        // Strictly below the k-th smallest margin: at most k = floor(share * count) queries of the sample qualify.
        int k = (int) Math.floor(share * all.length);
        return all[Math.min(k, all.length - 1)];
    }
}
