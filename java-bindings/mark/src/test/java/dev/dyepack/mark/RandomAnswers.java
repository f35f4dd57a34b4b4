package dev.dyepack.mark;

import java.util.SplittableRandom;

/** Random answers for the marking tests: softmax rows of Gaussian logits. */
final class RandomAnswers {
    private RandomAnswers() {
    }

    /**
     * {@code n} rows of {@code classes} probabilities, the softmax of logits drawn as {@code spread} times a
     * standard Gaussian (a larger spread gives more confident rows and fewer near-ties).
     */
    static float[] probabilities(SplittableRandom r, int n, int classes, double spread) {
        float[] p = new float[n * classes];
        double[] e = new double[classes];
        for (int i = 0; i < n; i++) {
            double sum = 0;
            for (int c = 0; c < classes; c++) {
                e[c] = Math.exp(spread * r.nextGaussian());
                sum += e[c];
            }
            for (int c = 0; c < classes; c++) {
                p[i * classes + c] = (float) (e[c] / sum);
            }
        }
        return p;
    }
}
