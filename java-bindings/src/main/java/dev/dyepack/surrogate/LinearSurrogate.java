package dev.dyepack.surrogate;

import dev.dyepack.InvalidArgumentException;
import dev.dyepack.io.LinearHead;
import dev.dyepack.key.KeyedRandom;
import dev.dyepack.key.OwnerKey;
import java.util.Objects;
import java.util.stream.IntStream;

/**
 * A softmax-regression surrogate fitted on the data itself, for decision-boundary selection when the
 * owner has no model of their own: features are the flattened pixels scaled to [0, 1]; training is
 * mini-batch gradient descent on the cross-entropy with a small L2 penalty, in a keyed sample order,
 * so the same key and data give the same head. Gradients of a batch are computed in parallel over
 * classes and summed in a fixed order, so the result does not depend on the thread count.
 */
public final class LinearSurrogate {
    private LinearSurrogate() {}

    /** HKDF purpose of the training order. */
    static final String ORDER = "surrogate/linear-order";

    /**
     * Training settings.
     *
     * @param epochs    passes over the data (&gt;= 1)
     * @param batch     samples per step (&gt;= 1)
     * @param rate      learning rate (&gt; 0)
     * @param l2        L2 penalty on the weights (&gt;= 0)
     */
    public record Settings(int epochs, int batch, float rate, float l2) {
        /** Defaults that fit Fashion-MNIST-sized pixel data to about 80% accuracy in a few seconds. */
        public static final Settings DEFAULT = new Settings(5, 64, 0.5f, 1e-4f);

        /** @throws InvalidArgumentException for out-of-range settings */
        public Settings {
            if (epochs < 1 || batch < 1 || !(rate > 0) || !(l2 >= 0)) {
                throw new InvalidArgumentException("surrogate settings out of range: " + epochs + " epochs, batch "
                        + batch + ", rate " + rate + ", l2 " + l2);
            }
        }
    }

    /**
     * Fits a head.
     *
     * @param x        n x d features, row-major, values in a small range such as [0, 1]
     * @param n        samples
     * @param d        features per sample
     * @param labels   n labels in [0, classes)
     * @param classes  number of classes (&gt;= 2)
     * @param key      the owner's key (orders the samples)
     * @param settings training settings
     * @return the head W (classes x d), b (classes)
     * @throws InvalidArgumentException for inconsistent sizes or labels out of range
     */
    public static LinearHead fit(float[] x, int n, int d, long[] labels, int classes, OwnerKey key, Settings settings) {
        Objects.requireNonNull(key, "key");
        if (classes < 2 || (long) n * d != x.length || labels.length != n) {
            throw new InvalidArgumentException("surrogate: inconsistent sizes (n=" + n + ", d=" + d + ", classes="
                    + classes + ", " + x.length + " features, " + labels.length + " labels)");
        }
        for (long y : labels) {
            if (y < 0 || y >= classes) {
                throw new InvalidArgumentException("surrogate: label " + y + " outside [0, " + classes + ")");
            }
        }
        float[] w = new float[classes * d];
        float[] b = new float[classes];
        long[] order = new long[n];
        KeyedRandom rng = new KeyedRandom(key.philoxKey(ORDER));
        float[] probs = new float[settings.batch() * classes];
        for (int epoch = 0; epoch < settings.epochs(); epoch++) {
            for (int i = 0; i < n; i++) {
                order[i] = i;
            }
            rng.shuffle(epoch, order);
            float rate = settings.rate() / (1 + epoch); // a simple decay keeps late epochs stable
            for (int start = 0; start < n; start += settings.batch()) {
                int m = Math.min(settings.batch(), n - start);
                int first = start;
                // Forward: softmax probabilities of the batch.
                for (int k = 0; k < m; k++) {
                    int i = (int) order[first + k];
                    float max = Float.NEGATIVE_INFINITY;
                    for (int c = 0; c < classes; c++) {
                        float z = b[c];
                        for (int e = 0; e < d; e++) {
                            z += w[c * d + e] * x[i * d + e];
                        }
                        probs[k * classes + c] = z;
                        max = Math.max(max, z);
                    }
                    float sum = 0;
                    for (int c = 0; c < classes; c++) {
                        float p = (float) Math.exp(probs[k * classes + c] - max);
                        probs[k * classes + c] = p;
                        sum += p;
                    }
                    for (int c = 0; c < classes; c++) {
                        probs[k * classes + c] /= sum;
                    }
                    probs[k * classes + (int) labels[i]] -= 1f; // now dLoss/dz
                }
                // Backward and step, one class per task: each class's row is updated independently.
                float scale = rate / m;
                IntStream.range(0, classes).parallel().forEach(c -> {
                    float gb = 0;
                    for (int k = 0; k < m; k++) {
                        float g = probs[k * classes + c];
                        gb += g;
                        if (g != 0) {
                            int i = (int) order[first + k];
                            for (int e = 0; e < d; e++) {
                                w[c * d + e] -= scale * g * x[i * d + e];
                            }
                        }
                    }
                    for (int e = 0; e < d; e++) {
                        w[c * d + e] -= rate * settings.l2() * w[c * d + e];
                    }
                    b[c] -= scale * gb;
                });
            }
        }
        return new LinearHead(w, b, classes, d);
    }
}
