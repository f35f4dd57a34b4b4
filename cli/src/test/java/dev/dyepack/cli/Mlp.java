package dev.dyepack.cli;

import java.util.SplittableRandom;

/**
 * A small multilayer perceptron trained in tests as a suspect model: one hidden ReLU layer, a softmax
 * output, cross-entropy, mini-batch SGD with momentum. Plain float loops, deterministic from a seed
 * (initialisation and the order of samples), single-threaded so that a run gives the same bits every
 * time. Inputs are uint8 pixels, scaled to [0, 1] on the fly so that a training set stays in bytes.
 *
 * <p>The first layer is stored input-major ({@code w1[d * hidden + j]}) so the inner loops run over
 * hidden units, contiguously, and zero pixels (about half of a Fashion-MNIST image) are skipped.
 */
final class Mlp {
    private final int inputs;
    private final int hidden;
    private final int classes;
    private final float[] w1;
    private final float[] b1;
    private final float[] w2; // classes x hidden
    private final float[] b2;

    private Mlp(int inputs, int hidden, int classes, long seed) {
        this.inputs = inputs;
        this.hidden = hidden;
        this.classes = classes;
        w1 = new float[inputs * hidden];
        b1 = new float[hidden];
        w2 = new float[classes * hidden];
        b2 = new float[classes];
        SplittableRandom r = new SplittableRandom(seed);
        // He initialisation for the ReLU layer, Glorot-like for the output layer.
        double s1 = Math.sqrt(2.0 / inputs);
        for (int i = 0; i < w1.length; i++) {
            w1[i] = (float) (gaussian(r) * s1);
        }
        double s2 = Math.sqrt(1.0 / hidden);
        for (int i = 0; i < w2.length; i++) {
            w2[i] = (float) (gaussian(r) * s2);
        }
    }

    private static double gaussian(SplittableRandom r) {
        double u = 1 - r.nextDouble();
        return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * r.nextDouble());
    }

    /**
     * Trains a network.
     *
     * @param pixels  samples, {@code inputs} bytes each (uint8)
     * @param labels  one label per sample
     * @param rows    the samples to train on (indices into pixels/labels), each epoch in a new order
     * @param inputs  bytes per sample
     * @param hidden  hidden units
     * @param classes classes
     * @param epochs  passes over the rows
     * @param seed    initialisation and order
     * @return the trained network
     */
    static Mlp train(byte[] pixels, int[] labels, int[] rows, int inputs, int hidden, int classes, int epochs,
            long seed) {
        Mlp m = new Mlp(inputs, hidden, classes, seed);
        SplittableRandom order = new SplittableRandom(seed ^ 0x9E3779B97F4A7C15L);
        int batch = 32;
        float rate = 0.05f;
        float momentum = 0.9f;
        float[] g1 = new float[m.w1.length];
        float[] gb1 = new float[hidden];
        float[] g2 = new float[m.w2.length];
        float[] gb2 = new float[classes];
        float[] v1 = new float[m.w1.length];
        float[] vb1 = new float[hidden];
        float[] v2 = new float[m.w2.length];
        float[] vb2 = new float[classes];
        float[] x = new float[inputs];
        int[] nz = new int[inputs];
        float[] h = new float[hidden];
        float[] p = new float[classes];
        float[] dh = new float[hidden];
        int[] perm = rows.clone();
        for (int epoch = 0; epoch < epochs; epoch++) {
            for (int i = perm.length - 1; i > 0; i--) {
                int j = order.nextInt(i + 1);
                int t = perm[i];
                perm[i] = perm[j];
                perm[j] = t;
            }
            for (int start = 0; start < perm.length; start += batch) {
                int end = Math.min(perm.length, start + batch);
                java.util.Arrays.fill(g1, 0f);
                java.util.Arrays.fill(gb1, 0f);
                java.util.Arrays.fill(g2, 0f);
                java.util.Arrays.fill(gb2, 0f);
                for (int s = start; s < end; s++) {
                    int row = perm[s];
                    int count = m.load(pixels, row, x, nz);
                    m.forward(x, nz, count, h, p);
                    p[labels[row]] -= 1f; // dLoss/dlogits of softmax cross-entropy
                    java.util.Arrays.fill(dh, 0f);
                    for (int c = 0; c < classes; c++) {
                        float pc = p[c];
                        gb2[c] += pc;
                        int o = c * hidden;
                        for (int j = 0; j < hidden; j++) {
                            g2[o + j] += pc * h[j];
                            dh[j] += pc * m.w2[o + j];
                        }
                    }
                    for (int j = 0; j < hidden; j++) {
                        if (h[j] <= 0f) {
                            dh[j] = 0f;
                        }
                        gb1[j] += dh[j];
                    }
                    for (int k = 0; k < count; k++) {
                        int d = nz[k];
                        float xd = x[d];
                        int o = d * hidden;
                        for (int j = 0; j < hidden; j++) {
                            g1[o + j] += xd * dh[j];
                        }
                    }
                }
                float step = rate / (end - start);
                step(m.w1, g1, v1, step, momentum);
                step(m.b1, gb1, vb1, step, momentum);
                step(m.w2, g2, v2, step, momentum);
                step(m.b2, gb2, vb2, step, momentum);
            }
        }
        return m;
    }

    private static void step(float[] w, float[] g, float[] v, float step, float momentum) {
        for (int i = 0; i < w.length; i++) {
            v[i] = momentum * v[i] - step * g[i];
            w[i] += v[i];
        }
    }

    /** Scales one sample's pixels to [0, 1]; returns how many are non-zero, their indices in nz. */
    private int load(byte[] pixels, int row, float[] x, int[] nz) {
        int count = 0;
        int base = row * inputs;
        for (int d = 0; d < inputs; d++) {
            int v = pixels[base + d] & 0xff;
            x[d] = v / 255f;
            if (v != 0) {
                nz[count++] = d;
            }
        }
        return count;
    }

    private void forward(float[] x, int[] nz, int count, float[] h, float[] p) {
        System.arraycopy(b1, 0, h, 0, hidden);
        for (int k = 0; k < count; k++) {
            int d = nz[k];
            float xd = x[d];
            int o = d * hidden;
            for (int j = 0; j < hidden; j++) {
                h[j] += xd * w1[o + j];
            }
        }
        for (int j = 0; j < hidden; j++) {
            h[j] = Math.max(h[j], 0f);
        }
        float max = Float.NEGATIVE_INFINITY;
        for (int c = 0; c < classes; c++) {
            float z = b2[c];
            int o = c * hidden;
            for (int j = 0; j < hidden; j++) {
                z += w2[o + j] * h[j];
            }
            p[c] = z;
            max = Math.max(max, z);
        }
        double sum = 0;
        for (int c = 0; c < classes; c++) {
            p[c] = (float) Math.exp(p[c] - max);
            sum += p[c];
        }
        for (int c = 0; c < classes; c++) {
            p[c] = (float) (p[c] / sum);
        }
    }

    /**
     * The softmax probabilities of samples given as floats in 0..255 (a probe file's values).
     *
     * @param values n x inputs values in 0..255
     * @param n      samples
     * @return n x classes probabilities, each row summing to 1 (within float rounding)
     */
    float[] probabilities(float[] values, int n) {
        float[] out = new float[n * classes];
        float[] x = new float[inputs];
        int[] nz = new int[inputs];
        float[] h = new float[hidden];
        float[] p = new float[classes];
        for (int i = 0; i < n; i++) {
            int count = 0;
            for (int d = 0; d < inputs; d++) {
                float v = values[i * inputs + d];
                x[d] = v / 255f;
                if (v != 0f) {
                    nz[count++] = d;
                }
            }
            forward(x, nz, count, h, p);
            System.arraycopy(p, 0, out, i * classes, classes);
        }
        return out;
    }
}
