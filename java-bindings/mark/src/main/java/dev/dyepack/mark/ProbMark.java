package dev.dyepack.mark;

import dev.dyepack.InvalidArgumentException;
import java.util.Locale;

/**
 * How a marked answer is served: which values of its row change so that the runner-up class comes out on top.
 *
 * <p>{@link Mode#SWAP} exchanges the two largest values (the row's other values unchanged). Marks sit where the
 * model is least sure, so the two are nearly equal and a marked row of probabilities differs from the unmarked
 * one by its small margin only: a clone trained on the served probabilities learns a near-tie there and does
 * not follow the mark.
 *
 * <p>{@link Mode#SHIFT} (the default) moves probability mass from the top class to the runner-up until the
 * runner-up leads by {@link #margin()}: with {@code a} and {@code b} the top and runner-up probabilities, the
 * runner-up is served {@code min(a + b, (a + b + margin) / 2)} and the old top class the rest of {@code a + b};
 * every other class is unchanged and the row still sums to what it summed to. For logits the same shift is
 * applied to the row's softmax and written back as the two logits {@code logsumexp(z) + ln(p')}, so the served
 * logits' softmax is the shifted distribution; there the old top class keeps at least {@value #LOGIT_FLOOR} of
 * the pair's mass so that its logit stays finite. Either way the served top class is the runner-up, so both
 * modes change the same answers (the answer-change budget is the same).
 *
 * @param mode   swap or shift
 * @param margin for a shift, the runner-up's served lead over the old top class, in (0, 1) (0 for a swap)
 */
public record ProbMark(Mode mode, double margin) {
    /** The default lead of a shifted runner-up. */
    public static final double DEFAULT_MARGIN = 0.5;
    /** The least share of the top two's mass a shifted logit row leaves the old top class. */
    public static final double LOGIT_FLOOR = 1e-6;
    /** The swap of the two largest values. */
    public static final ProbMark SWAP = new ProbMark(Mode.SWAP, 0);
    /** The default: a shift to {@link #DEFAULT_MARGIN}. */
    public static final ProbMark DEFAULT = new ProbMark(Mode.SHIFT, DEFAULT_MARGIN);

    /** How the runner-up is brought to the top. */
    public enum Mode {
        /** The two largest values exchanged. */
        SWAP,
        /** Mass moved from the top class to the runner-up until it leads by the margin. */
        SHIFT
    }

    /** @throws InvalidArgumentException for a missing mode or a margin out of range */
    public ProbMark {
        if (mode == null) {
            throw new InvalidArgumentException("a marking mode is swap or shift, got none");
        }
        if (mode == Mode.SWAP && margin != 0) {
            throw new InvalidArgumentException("a swap takes no margin, got " + margin);
        }
        if (mode == Mode.SHIFT && !(margin > 0 && margin < 1)) {
            throw new InvalidArgumentException("a shift's margin is a probability in (0, 1), got " + margin);
        }
    }

    /**
     * Parses {@code swap}, {@code shift} (the default margin) or {@code shift:MARGIN}.
     *
     * @param text the form
     * @return the mark
     * @throws InvalidArgumentException for any other form or a margin out of range
     */
    public static ProbMark parse(String text) {
        String t = text == null ? "" : text.trim().toLowerCase(Locale.ROOT);
        if (t.equals("swap")) {
            return SWAP;
        }
        if (t.equals("shift")) {
            return DEFAULT;
        }
        if (t.startsWith("shift:")) {
            double m;
            try {
                m = Double.parseDouble(t.substring(6));
            } catch (NumberFormatException e) {
                throw new InvalidArgumentException("a shift's margin is a number, got '" + text.substring(
                        text.indexOf(':') + 1) + "'");
            }
            return new ProbMark(Mode.SHIFT, m);
        }
        throw new InvalidArgumentException("a marking mode is swap, shift or shift:MARGIN, got '" + text + "'");
    }

    /** @return the form {@link #parse} reads: {@code swap} or {@code shift:MARGIN} */
    @Override
    public String toString() {
        return mode == Mode.SWAP ? "swap" : "shift:" + margin;
    }

    /**
     * Serves the runner-up in one answer row, in place.
     *
     * @param row      the answers, several rows possibly
     * @param offset   where this row begins
     * @param classes  its length
     * @param top      the model's top class
     * @param runnerUp the model's second class
     * @param kind     probabilities or logits
     * @throws InvalidArgumentException if the classes are out of range or equal
     */
    public void apply(double[] row, int offset, int classes, int top, int runnerUp, AnswerKind kind) {
        if (top < 0 || top >= classes || runnerUp < 0 || runnerUp >= classes || top == runnerUp) {
            throw new InvalidArgumentException("the top class and the runner-up must be two of " + classes
                    + " classes, got " + top + " and " + runnerUp);
        }
        int a = offset + top;
        int b = offset + runnerUp;
        if (mode == Mode.SWAP) {
            double t = row[a];
            row[a] = row[b];
            row[b] = t;
            return;
        }
        if (kind == AnswerKind.PROBABILITIES) {
            double pair = row[a] + row[b];
            double up = Math.min(pair, (pair + margin) / 2);
            row[b] = up;
            row[a] = pair - up;
            return;
        }
        double max = Double.NEGATIVE_INFINITY;
        for (int c = 0; c < classes; c++) {
            max = Math.max(max, row[offset + c]);
        }
        double sum = 0;
        for (int c = 0; c < classes; c++) {
            sum += Math.exp(row[offset + c] - max);
        }
        double lse = max + Math.log(sum);
        double pair = Math.exp(row[a] - lse) + Math.exp(row[b] - lse);
        double down = Math.max((pair - margin) / 2, pair * LOGIT_FLOOR);
        row[a] = lse + Math.log(down);
        row[b] = lse + Math.log(pair - down);
    }
}
