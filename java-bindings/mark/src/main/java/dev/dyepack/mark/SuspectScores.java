package dev.dyepack.mark;

import dev.dyepack.InvalidInputException;
import dev.dyepack.io.Samples;
import dev.dyepack.verify.Answers;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;

/**
 * A suspect's answers to one mark probe file, read from an {@code .npy} or a service: labels (N,), or scores (N, C) that are
 * probabilities or logits (see {@link MarkVerification#fromPredictions(Path, Path, Path, AnswerKind,
 * dev.dyepack.key.OwnerKey, MarkVerifier)}), or the same from a service. Logits become their row-wise softmax, so the answers carry
 * probabilities either way.
 *
 * @param answers the answers
 * @param kind    what the file's scores were, or null for labels
 */
record SuspectScores(Answers answers, AnswerKind kind) {

    static String name(AnswerKind kind) {
        return kind == AnswerKind.LOGITS ? "logits" : "probabilities";
    }

    /**
     * @param file     the answer file
     * @param name     the probe file it answers
     * @param n        the probe file's probes
     * @param classes  the log's classes
     * @param declared what scores hold, or null to recognise it
     */
    static SuspectScores read(Path file, String name, int n, int classes, AnswerKind declared) {
        if (!Files.isRegularFile(file)) {
            throw new InvalidInputException(file + ": missing; the suspect's answers to the probe file " + name
                    + " must be saved under the same name");
        }
        long[] shape;
        String descr;
        try (Samples.Reader r = Samples.open(file)) {
            shape = r.shape();
            descr = r.descr();
        }
        if (shape.length == 1) {
            // Labels: the verification's reader checks the count and the classes.
            return new SuspectScores(Answers.read(file, n, classes), null);
        }
        if (shape.length != 2) {
            throw new InvalidInputException(file + ": expected labels (N,) or scores (N, C), got shape "
                    + Arrays.toString(shape));
        }
        if (shape[0] != n) {
            throw new InvalidInputException(file + ": holds " + shape[0] + " answers but the probe file " + name
                    + " has " + n + " probes");
        }
        if (shape[1] != classes) {
            throw new InvalidInputException(file + ": has " + shape[1] + " scores per answer but the mark log's "
                    + "answers have " + classes + " classes");
        }
        boolean f64 = descr.equals("<f8");
        if (!f64 && !descr.equals("<f4")) {
            throw new InvalidInputException(file + ": scores must be float32 or float64, got dtype " + descr);
        }
        double[] v = new double[Math.multiplyExact(n, classes)];
        try (Samples.Reader r = Samples.open(file)) {
            ByteBuffer buf = ByteBuffer.allocate(Math.toIntExact(n * r.sampleBytes())).order(ByteOrder.LITTLE_ENDIAN);
            r.readSamples(0, n, buf);
            buf.flip();
            for (int i = 0; i < v.length; i++) {
                v[i] = f64 ? buf.getDouble() : buf.getFloat();
            }
        }
        return of(file.toString(), v, n, classes, declared);
    }

    /**
     * Scores already read (from a file or a service), checked and taken for probabilities or logits.
     *
     * @param where    the file or service and probe file, for messages
     * @param v        n x C scores, row-major
     * @param n        answers
     * @param classes  C
     * @param declared what the scores hold, or null to recognise it
     */
    static SuspectScores of(String where, double[] v, int n, int classes, AnswerKind declared) {
        for (int i = 0; i < v.length; i++) {
            if (!Double.isFinite(v[i])) {
                throw new InvalidInputException(where + ": the score of class " + (i % classes) + " for answer "
                        + (i / classes) + " is " + v[i] + "; scores must be finite");
            }
        }
        AnswerKind kind = declared != null ? declared : recognise(where, v, classes);
        float[] p = new float[v.length];
        if (kind == AnswerKind.LOGITS) {
            softmax(v, classes, p);
        } else {
            for (int i = 0; i < v.length; i++) {
                p[i] = (float) v[i];
            }
        }
        try {
            return new SuspectScores(Answers.ofProbabilities(p, n, classes), kind);
        } catch (InvalidInputException e) {
            throw new InvalidInputException(where + ": " + e.getMessage(), e);
        }
    }

    /** Probabilities when every value is in [0, 1] and every row sums to 1; logits when a value is outside. */
    private static AnswerKind recognise(String where, double[] v, int classes) {
        for (double x : v) {
            if (x < 0 || x > 1) {
                return AnswerKind.LOGITS;
            }
        }
        for (int i = 0; i < v.length / classes; i++) {
            double sum = 0;
            for (int c = 0; c < classes; c++) {
                sum += v[i * classes + c];
            }
            if (Math.abs(sum - 1) > Answers.SUM_TOLERANCE) {
                throw new InvalidInputException(where + ": every score lies in [0, 1] as probabilities do, but the "
                        + "scores of answer " + i + " sum to " + sum + ", not 1; give softmax outputs, or declare "
                        + "the scores logits");
            }
        }
        return AnswerKind.PROBABILITIES;
    }

    /** Row-wise softmax in double precision (the largest logit subtracted first, so nothing overflows). */
    private static void softmax(double[] z, int classes, float[] out) {
        double[] e = new double[classes];
        for (int i = 0; i < z.length / classes; i++) {
            double max = Double.NEGATIVE_INFINITY;
            for (int c = 0; c < classes; c++) {
                max = Math.max(max, z[i * classes + c]);
            }
            double sum = 0;
            for (int c = 0; c < classes; c++) {
                e[c] = Math.exp(z[i * classes + c] - max);
                sum += e[c];
            }
            for (int c = 0; c < classes; c++) {
                out[i * classes + c] = (float) (e[c] / sum);
            }
        }
    }
}
