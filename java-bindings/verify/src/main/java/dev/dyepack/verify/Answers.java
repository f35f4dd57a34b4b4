package dev.dyepack.verify;

import dev.dyepack.InvalidInputException;
import dev.dyepack.io.Samples;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Path;
import java.util.Arrays;

/**
 * A suspect model's answers on one probe file: a label per probe, or a probability per probe and
 * class. Immutable; every value is checked when the answers are made, so no verdict is ever computed
 * from broken data.
 */
public final class Answers {
    /** How far a row of probabilities may sum from 1 (float32 softmax outputs sum to 1 within ~1e-6). */
    public static final double SUM_TOLERANCE = 1e-3;

    private final int n;
    private final int classes;
    private final int[] labels;
    private final float[] probabilities; // n x classes, row-major; null for label-only answers

    private Answers(int n, int classes, int[] labels, float[] probabilities) {
        this.n = n;
        this.classes = classes;
        this.labels = labels;
        this.probabilities = probabilities;
    }

    /**
     * Label answers.
     *
     * @param labels  one class per probe
     * @param classes the number of classes C
     * @return the answers
     * @throws InvalidInputException if a label is outside [0, C)
     */
    public static Answers ofLabels(int[] labels, int classes) {
        checkClasses(classes);
        for (int i = 0; i < labels.length; i++) {
            if (labels[i] < 0 || labels[i] >= classes) {
                throw new InvalidInputException("answer " + i + " is class " + labels[i] + ", outside [0, " + classes
                        + ")");
            }
        }
        return new Answers(labels.length, classes, labels.clone(), null);
    }

    /**
     * Probability answers.
     *
     * @param probabilities n x C values, row-major
     * @param n             probes
     * @param classes       C
     * @return the answers; each probe's label is its most probable class (ties: the lowest)
     * @throws InvalidInputException for a value that is NaN, negative or above 1, or a row that does not
     *                               sum to 1 within {@link #SUM_TOLERANCE}
     */
    public static Answers ofProbabilities(float[] probabilities, int n, int classes) {
        checkClasses(classes);
        if ((long) n * classes != probabilities.length) {
            throw new InvalidInputException("expected " + n + " x " + classes + " probabilities, got "
                    + probabilities.length + " values");
        }
        int[] labels = new int[n];
        for (int i = 0; i < n; i++) {
            double sum = 0;
            int best = 0;
            for (int c = 0; c < classes; c++) {
                float p = probabilities[i * classes + c];
                if (!(p >= 0f && p <= 1f)) {
                    throw new InvalidInputException("probability of class " + c + " for answer " + i + " is " + p
                            + "; probabilities must lie in [0, 1]");
                }
                sum += p;
                if (p > probabilities[i * classes + best]) {
                    best = c;
                }
            }
            if (Math.abs(sum - 1) > SUM_TOLERANCE) {
                throw new InvalidInputException("the probabilities of answer " + i + " sum to " + sum
                        + ", not 1; give softmax outputs, not logits");
            }
            labels[i] = best;
        }
        return new Answers(n, classes, labels, probabilities.clone());
    }

    /**
     * Reads answers from an {@code .npy}: shape (N,) of integers (labels) or (N, C) of float32/float64
     * (probabilities).
     *
     * @param file     the file
     * @param expected the number of probes it must hold
     * @param classes  C
     * @return the answers
     * @throws InvalidInputException if the file is unusable, holds another count or class dimension,
     *                               or a value is invalid (see {@link #ofLabels} and {@link #ofProbabilities})
     */
    public static Answers read(Path file, long expected, int classes) {
        try (Samples.Reader r = Samples.open(file)) {
            long[] shape = r.shape();
            String d = r.descr();
            if (shape[0] != expected) {
                throw new InvalidInputException(file + ": holds " + shape[0] + " answers but the probe file has "
                        + expected);
            }
            int n = Math.toIntExact(expected);
            if (shape.length == 1) {
                char kind = d.charAt(1);
                if (kind != 'i' && kind != 'u') {
                    throw new InvalidInputException(file + ": labels must be integers, got dtype " + d);
                }
                long[] values = Samples.labels(file);
                int[] labels = new int[n];
                for (int i = 0; i < n; i++) {
                    if (values[i] < 0 || values[i] >= classes) {
                        throw new InvalidInputException(file + ": answer " + i + " is class " + values[i]
                                + ", outside [0, " + classes + ")");
                    }
                    labels[i] = (int) values[i];
                }
                return new Answers(n, classes, labels, null);
            }
            if (shape.length != 2) {
                throw new InvalidInputException(file + ": expected labels (N,) or probabilities (N, C), got shape "
                        + Arrays.toString(shape));
            }
            if (shape[1] != classes) {
                throw new InvalidInputException(file + ": has " + shape[1] + " classes per answer but the manifest's "
                        + "data has " + classes);
            }
            boolean f64 = d.equals("<f8");
            if (!f64 && !d.equals("<f4")) {
                throw new InvalidInputException(file + ": probabilities must be float32 or float64, got dtype " + d);
            }
            ByteBuffer buf = ByteBuffer.allocate(Math.toIntExact(n * r.sampleBytes())).order(ByteOrder.LITTLE_ENDIAN);
            r.readSamples(0, n, buf);
            buf.flip();
            float[] p = new float[n * classes];
            for (int i = 0; i < p.length; i++) {
                p[i] = f64 ? (float) buf.getDouble() : buf.getFloat();
            }
            try {
                return ofProbabilities(p, n, classes);
            } catch (InvalidInputException e) {
                throw new InvalidInputException(file + ": " + e.getMessage(), e);
            }
        }
    }

    private static void checkClasses(int classes) {
        if (classes < 2) {
            throw new InvalidInputException("answers need at least 2 classes, got " + classes);
        }
    }

    /** @return the number of probes answered */
    public int size() {
        return n;
    }

    /** @return C */
    public int classes() {
        return classes;
    }

    /** @return whether probabilities were given (else labels only) */
    public boolean hasProbabilities() {
        return probabilities != null;
    }

    /**
     * @param i a probe
     * @return the class answered (the most probable for probability answers)
     */
    public int label(int i) {
        return labels[i];
    }

    /**
     * @param i a probe
     * @param c a class
     * @return the probability given to class c
     * @throws IllegalStateException for label-only answers
     */
    public double probability(int i, int c) {
        if (probabilities == null) {
            throw new IllegalStateException("these answers are labels only");
        }
        return probabilities[i * classes + c];
    }

    /**
     * @param target a class
     * @return how many answers are {@code target}
     */
    public int count(int target) {
        int k = 0;
        for (int l : labels) {
            if (l == target) {
                k++;
            }
        }
        return k;
    }
}
