package dev.dyepack.mark;

import dev.dyepack.InvalidArgumentException;
import java.time.Instant;
import java.util.Arrays;

/**
 * One logged answer: a query at which the served model was unsure (its margin under the threshold), and
 * what was served. A <em>marked</em> entry was served the runner-up class; a <em>control</em> entry was
 * served the model's own top class. The record does not copy its arrays.
 *
 * @param seq       the entry's place in the log (0, 1, ...), assigned when it is appended
 * @param time      when it was appended (milliseconds, UTC)
 * @param client    the API client it was served to
 * @param digest    the keyed digest of the canonical query under the client's subkey (lowercase hex)
 * @param marked    whether the runner-up was served
 * @param top       the model's top class
 * @param runnerUp  the model's second class
 * @param classes   the number of classes of the answers
 * @param margin    the model's margin between the two (logits or probabilities, as served)
 * @param threshold the margin threshold in force
 * @param dtype     the query's element type: {@code "u1"} or {@code "f4"}
 * @param shape     one query's shape (without the batch dimension)
 * @param query     the query's elements, little-endian
 */
public record MarkEntry(long seq, Instant time, String client, String digest, boolean marked, int top, int runnerUp,
        int classes, float margin, float threshold, String dtype, long[] shape, byte[] query) {
    /** @throws InvalidArgumentException if a member is missing or inconsistent */
    public MarkEntry {
        if (time == null || client == null || digest == null || dtype == null || shape == null || query == null) {
            throw new InvalidArgumentException("a mark log entry needs every member; one is null");
        }
        if (!dtype.equals("u1") && !dtype.equals("f4")) {
            throw new InvalidArgumentException("a logged query is u1 or f4, got " + dtype);
        }
        long elements = 1;
        for (long d : shape) {
            elements = Math.multiplyExact(elements, d);
        }
        if (elements * (dtype.equals("u1") ? 1 : 4) != query.length) {
            throw new InvalidArgumentException("a logged query of shape " + Arrays.toString(shape) + " and dtype "
                    + dtype + " cannot hold " + query.length + " bytes");
        }
        if (classes < 2 || top < 0 || top >= classes || runnerUp < 0 || runnerUp >= classes) {
            throw new InvalidArgumentException("a logged answer's classes " + top + " and " + runnerUp
                    + " must lie in [0, " + classes + ")");
        }
        if (top == runnerUp) {
            throw new InvalidArgumentException("the top class and the runner-up must differ, both are " + top);
        }
    }

    /** @return the class that was served: the runner-up when marked, else the top class */
    public int served() {
        return marked ? runnerUp : top;
    }

    /** @return this entry with its place in the log and its time */
    MarkEntry placed(long seq, Instant time) {
        return new MarkEntry(seq, time, client, digest, marked, top, runnerUp, classes, margin, threshold, dtype, shape, query);
    }
}
