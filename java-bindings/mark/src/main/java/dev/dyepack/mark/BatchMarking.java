package dev.dyepack.mark;

import dev.dyepack.Engine;
import dev.dyepack.InvalidArgumentException;
import dev.dyepack.InvalidInputException;
import dev.dyepack.io.NpyWriter;
import dev.dyepack.io.Samples;
import dev.dyepack.key.OwnerKey;
import dev.dyepack.manifest.UntrustedRecordException;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;

/**
 * Marks a batch of answers held in files, as a service that answers in batches would: the queries (.npy or
 * IDX, uint8 or float32) and the model's answers to them (.npy, N x C, float32 or float64, probabilities or
 * logits) in, the answers to serve out in the answers' own shape and dtype, the log grown. The served file
 * appears whole (under its final name) only after the batch's marks are in the log.
 */
public final class BatchMarking {
    private BatchMarking() {}

    /**
     * What one batch did.
     *
     * @param answers   answers in the batch
     * @param classes   C
     * @param kind      probabilities or logits
     * @param marked    answers changed (the runner-up served on top)
     * @param controls  answers logged as controls
     * @param threshold the margin threshold applied
     * @param logged    answers in the log afterwards
     * @param droppedTailBytes bytes of an unacknowledged partial line cut off the log when it was opened
     * @param logFull   whether the log was too near its size limit to take the batch's entries (the answers were
     *                  then served unmarked)
     */
    public record Summary(int answers, int classes, AnswerKind kind, int marked, int controls, float threshold,
            int logged, long droppedTailBytes, boolean logFull) {
    }

    /**
     * Marks one client's batch.
     *
     * @param engine  computes the margins
     * @param key     the owner's key
     * @param queries the queries
     * @param answers the model's answers to them
     * @param out     the answers to serve (not one of the inputs)
     * @param logDir  the mark log
     * @param client  the client the answers go to
     * @param budget  the share of answers changed
     * @param kind    probabilities or logits, or null to tell from the values (rows of non-negative values
     *                summing to 1 within {@link AnswerMarker#SUM_TOLERANCE} are probabilities)
     * @return what was done
     * @throws InvalidInputException    if a file is unusable or the counts differ, or an answer is not finite,
     *                                  or probabilities do not sum to about 1
     * @throws InvalidArgumentException for a bad client, budget or output path
     * @throws UntrustedRecordException if the log does not verify
     * @throws IOException              if the log or the output cannot be written
     */
    public static Summary run(Engine engine, OwnerKey key, Path queries, Path answers, Path out, Path logDir,
            String client, double budget, AnswerKind kind) throws IOException {
        return run(engine, key, queries, answers, out, logDir, client, budget, kind, MarkLog.DEFAULT_SEGMENT_BYTES,
                MarkLog.DEFAULT_MAX_BYTES);
    }

    /**
     * Marks one client's batch into a log of the given size limits.
     *
     * @param engine       computes the margins
     * @param key          the owner's key
     * @param queries      the queries
     * @param answers      the model's answers to them
     * @param out          the answers to serve (not one of the inputs)
     * @param logDir       the mark log
     * @param client       the client the answers go to
     * @param budget       the share of answers changed
     * @param kind         probabilities or logits, or null to tell from the values
     * @param segmentBytes the size at which a log segment is sealed ({@link MarkLog#open(Path, OwnerKey, long, long)})
     * @param maxBytes     the size limit of the whole log; beyond it answers are served unmarked
     * @return what was done
     * @throws InvalidInputException    if a file is unusable or the counts differ, or an answer is not finite,
     *                                  or probabilities do not sum to about 1
     * @throws InvalidArgumentException for a bad client, budget, output path or log size
     * @throws UntrustedRecordException if the log does not verify
     * @throws IOException              if the log or the output cannot be written
     */
    public static Summary run(Engine engine, OwnerKey key, Path queries, Path answers, Path out, Path logDir,
            String client, double budget, AnswerKind kind, long segmentBytes, long maxBytes) throws IOException {
        return run(engine, key, queries, answers, out, logDir, client, budget, kind, segmentBytes, maxBytes,
                ProbMark.DEFAULT);
    }

    /**
     * Marks one client's batch into a log of the given size limits, serving marked answers as {@code mark} says
     * (recorded in the log's segment line).
     *
     * @param engine       computes the margins
     * @param key          the owner's key
     * @param queries      the queries
     * @param answers      the model's answers to them
     * @param out          the answers to serve (not one of the inputs)
     * @param logDir       the mark log
     * @param client       the client the answers go to
     * @param budget       the share of answers changed
     * @param kind         probabilities or logits, or null to tell from the values
     * @param segmentBytes the size at which a log segment is sealed ({@link MarkLog#open(Path, OwnerKey, long, long)})
     * @param maxBytes     the size limit of the whole log; beyond it answers are served unmarked
     * @param mark         how a marked answer is served (the runner-up brought to the top by a swap or a shift)
     * @return what was done
     * @throws InvalidInputException    if a file is unusable or the counts differ, or an answer is not finite,
     *                                  or probabilities do not sum to about 1
     * @throws InvalidArgumentException for a bad client, budget, output path or log size
     * @throws UntrustedRecordException if the log does not verify
     * @throws IOException              if the log or the output cannot be written
     */
    public static Summary run(Engine engine, OwnerKey key, Path queries, Path answers, Path out, Path logDir,
            String client, double budget, AnswerKind kind, long segmentBytes, long maxBytes, ProbMark mark)
            throws IOException {
        for (Path in : new Path[] {queries, answers}) {
            if (Files.exists(out) && Files.exists(in) && Files.isSameFile(in, out)) {
                throw new InvalidArgumentException(out + ": the output must not be an input");
            }
        }
        Queries q = readQueries(queries);
        double[] values;
        int n;
        int classes;
        String descr;
        try (Samples.Reader r = Samples.open(answers)) {
            long[] shape = r.shape();
            descr = r.descr();
            if (shape.length != 2 || !(descr.equals("<f4") || descr.equals("<f8"))) {
                throw new InvalidInputException(answers + ": answers must be float32 or float64 of shape (N, C), got "
                        + descr + " " + Arrays.toString(shape));
            }
            n = Math.toIntExact(shape[0]);
            classes = Math.toIntExact(shape[1]);
            if (n != q.size()) {
                throw new InvalidInputException(queries + " holds " + q.size() + " queries but " + answers + " holds "
                        + n + " answers: the lengths differ");
            }
            ByteBuffer b = ByteBuffer.allocate(Math.toIntExact(n * r.sampleBytes())).order(ByteOrder.LITTLE_ENDIAN);
            r.readSamples(0, n, b);
            b.flip();
            values = new double[n * classes];
            for (int i = 0; i < values.length; i++) {
                values[i] = descr.equals("<f8") ? b.getDouble() : b.getFloat();
            }
        }
        float[] f = new float[values.length];
        for (int i = 0; i < f.length; i++) {
            f[i] = (float) values[i];
        }
        AnswerKind k = kind != null ? kind : looksLikeProbabilities(values, n, classes) ? AnswerKind.PROBABILITIES
                : AnswerKind.LOGITS;
        AnswerMarker.Marking m;
        int logged;
        long dropped;
        boolean full;
        try (MarkLog log = MarkLog.open(logDir, key, segmentBytes, maxBytes, mark);
                AnswerMarker marker = new AnswerMarker(engine, key, log, budget)) {
            dropped = log.droppedTailBytes();
            full = !log.hasRoom(n);
            try {
                m = marker.mark(client, q, f, classes, k);
            } catch (InvalidInputException e) {
                throw new InvalidInputException(answers + ": " + e.getMessage(), e);
            }
            logged = log.loaded().size() + m.logged().length;
        }
        // Mark the original values, so float64 answers keep their precision.
        double[] served = values.clone();
        for (int i = 0; i < n; i++) {
            if (m.outcomes()[i] == AnswerMarker.Outcome.MARKED) {
                m.mark().apply(served, i * classes, classes, m.top()[i], m.runnerUp()[i], k);
            }
        }
        boolean f8 = descr.equals("<f8");
        ByteBuffer o = ByteBuffer.allocate(served.length * (f8 ? 8 : 4)).order(ByteOrder.LITTLE_ENDIAN);
        for (double v : served) {
            if (f8) {
                o.putDouble(v);
            } else {
                o.putFloat((float) v);
            }
        }
        o.flip();
        try (NpyWriter w = NpyWriter.create(out, descr, new long[] {n, classes})) {
            w.write(o);
            w.commit();
        }
        int marked = m.changed();
        int controls = (int) Arrays.stream(m.outcomes()).filter(x -> x == AnswerMarker.Outcome.CONTROL).count();
        return new Summary(n, classes, k, marked, controls, m.threshold(), logged, dropped, full);
    }

    private static boolean looksLikeProbabilities(double[] v, int n, int classes) {
        for (int i = 0; i < n; i++) {
            double sum = 0;
            for (int c = 0; c < classes; c++) {
                double x = v[i * classes + c];
                if (!(x >= 0)) {
                    return false;
                }
                sum += x;
            }
            if (Math.abs(sum - 1) > AnswerMarker.SUM_TOLERANCE) {
                return false;
            }
        }
        return true;
    }

    /**
     * Reads queries from a .npy or IDX file (uint8 or float32).
     *
     * @param file the file
     * @return the queries
     * @throws InvalidInputException if the file is unusable or of another dtype
     */
    public static Queries readQueries(Path file) {
        try (Samples.Reader r = Samples.open(file)) {
            String d = r.descr();
            boolean u1 = d.endsWith("u1");
            if (!u1 && !d.equals("<f4")) {
                throw new InvalidInputException(file + ": queries must be uint8 or float32, got " + d);
            }
            int n = Math.toIntExact(r.shape()[0]);
            ByteBuffer b = ByteBuffer.allocate(Math.toIntExact(n * r.sampleBytes())).order(ByteOrder.LITTLE_ENDIAN);
            r.readSamples(0, n, b);
            return new Queries(u1 ? "u1" : "f4", r.shape().clone(), b.array());
        }
    }
}
