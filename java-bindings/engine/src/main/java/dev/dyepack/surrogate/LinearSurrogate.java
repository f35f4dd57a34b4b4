package dev.dyepack.surrogate;

import dev.dyepack.DType;
import dev.dyepack.Engine;
import dev.dyepack.InvalidArgumentException;
import dev.dyepack.Parameters;
import dev.dyepack.Tensor;
import dev.dyepack.surrogate.LinearHead;
import dev.dyepack.key.KeyedRandom;
import dev.dyepack.key.OwnerKey;
import java.util.Arrays;
import java.util.Objects;

/**
 * A softmax-regression surrogate fitted on the data itself, for decision-boundary selection when the
 * owner has no model of their own: features are the flattened pixels scaled to [0, 1] (the jobs give
 * {@link PooledFeatures}: the pixels up to 1,024 values per image, block means beyond); training is
 * mini-batch gradient descent on the cross-entropy with a small L2 penalty, run by the engine
 * ({@link Engine#fitLinear}), in a sample order drawn from the owner's key, so the same key and data
 * give the same head on every run and thread count.
 */
public final class LinearSurrogate {
    private LinearSurrogate() {}

    /** HKDF purpose of the training order. */
    static final String ORDER = "surrogate/linear-order";

    /**
     * Training settings.
     *
     * @param epochs passes over the data (&gt;= 1)
     * @param batch  samples per step (&gt;= 1)
     * @param rate   learning rate (&gt; 0), divided by 1 + epoch
     * @param l2     L2 penalty on the weights (&gt;= 0)
     */
    public record Settings(int epochs, int batch, float rate, float l2) {
        /** Defaults that fit Fashion-MNIST-sized pixel data to about 85% training accuracy. */
        public static final Settings DEFAULT = new Settings(5, 64, 0.5f, 1e-4f);

        /** @throws InvalidArgumentException for out-of-range settings */
        public Settings {
            if (epochs < 1 || batch < 1 || !(rate > 0) || !(l2 >= 0)) {
                throw new InvalidArgumentException("surrogate settings out of range: " + epochs + " epochs, batch "
                        + batch + ", rate " + rate + ", l2 " + l2, Parameters.SURROGATE,
                        epochs + " epochs, batch " + batch + ", rate " + rate + ", l2 " + l2,
                        "epochs >= 1, batch >= 1, rate > 0, l2 >= 0");
            }
        }
    }

    /**
     * Fits a head on the engine.
     *
     * @param engine   the engine
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
    public static LinearHead fit(Engine engine, float[] x, int n, int d, long[] labels, int classes, OwnerKey key,
            Settings settings) {
        Objects.requireNonNull(engine, "engine");
        Objects.requireNonNull(key, "key");
        if (classes < 2 || (long) n * d != x.length || labels.length != n) {
            throw new InvalidArgumentException("surrogate: inconsistent sizes (n=" + n + ", d=" + d + ", classes="
                    + classes + ", " + x.length + " features, " + labels.length + " labels)");
        }
        int[] y = checkedLabels(labels, classes);
        long[] order = order(key, settings, n);
        // The rows are read in place (Engine#fitLinear(float[], ...)): a copy into fresh native memory took
        // longer than the fit itself (docs/benchmarks.md).
        float[] wb = engine.fitLinear(x, n, d, y, classes, order, settings.epochs(), settings.batch(), settings.rate(),
                settings.l2());
        return new LinearHead(Arrays.copyOf(wb, classes * d), Arrays.copyOfRange(wb, classes * d, wb.length), classes,
                d);
    }

    /**
     * Fits a head on features already in host memory (a tensor of float32 rows, e.g. over an ND4J
     * array or a direct buffer), without copying them: the same order, update and bits as
     * {@link #fit(Engine, float[], int, int, long[], int, OwnerKey, Settings)} on the same values.
     *
     * @param engine   the engine
     * @param features float32 rows (N x D) in host memory, finite
     * @param labels   N labels in [0, classes)
     * @param classes  number of classes (&gt;= 2)
     * @param key      the owner's key (orders the samples)
     * @param settings training settings
     * @return the head W (classes x D), b (classes)
     * @throws InvalidArgumentException for features that are not float32 rows in host memory, inconsistent
     *                                  sizes or labels out of range
     */
    public static LinearHead fit(Engine engine, Tensor features, long[] labels, int classes, OwnerKey key,
            Settings settings) {
        Objects.requireNonNull(engine, "engine");
        Objects.requireNonNull(features, "features");
        Objects.requireNonNull(key, "key");
        if (features.dtype() != DType.FLOAT32 || features.c() != 1 || features.h() != 1 || features.isDevice()) {
            throw new InvalidArgumentException("surrogate: the features must be float32 rows (N, D) in host memory, got "
                    + features, Parameters.SHAPE, features.toString(), "float32 rows (N, D) in host memory");
        }
        if (classes < 2 || labels.length != features.n() || features.n() > Integer.MAX_VALUE) {
            throw new InvalidArgumentException("surrogate: inconsistent sizes (n=" + features.n() + ", d="
                    + features.w() + ", classes=" + classes + ", " + labels.length + " labels)");
        }
        int n = (int) features.n();
        int d = Math.toIntExact(features.w());
        int[] y = checkedLabels(labels, classes);
        float[] wb = engine.fitLinear(features, y, classes, order(key, settings, n), settings.epochs(),
                settings.batch(), settings.rate(), settings.l2());
        return new LinearHead(Arrays.copyOf(wb, classes * d), Arrays.copyOfRange(wb, classes * d, wb.length), classes,
                d);
    }

    private static int[] checkedLabels(long[] labels, int classes) {
        int[] y = new int[labels.length];
        for (int i = 0; i < labels.length; i++) {
            if (labels[i] < 0 || labels[i] >= classes) {
                throw new InvalidArgumentException("surrogate: label " + labels[i] + " of sample " + i + " is outside [0, "
                        + classes + ")", Parameters.LABELS, labels[i], "a class in [0, " + classes + ")");
            }
            y[i] = (int) labels[i];
        }
        return y;
    }

    /** The training order: one keyed permutation of 0..n-1 per epoch, drawn under {@link #ORDER}. */
    private static long[] order(OwnerKey key, Settings settings, int n) {
        KeyedRandom rng = new KeyedRandom(key.philoxKey(ORDER));
        long[] order = new long[Math.multiplyExact(settings.epochs(), n)];
        long[] epochOrder = new long[n];
        for (int e = 0; e < settings.epochs(); e++) {
            for (int i = 0; i < n; i++) {
                epochOrder[i] = i;
            }
            rng.shuffle(e, epochOrder);
            System.arraycopy(epochOrder, 0, order, e * n, n);
        }
        return order;
    }
}
