package dev.dyepack.surrogate;

import dev.dyepack.InvalidArgumentException;
import dev.dyepack.Parameters;

/**
 * A linear head W (C x D), b (C): the last layer of a surrogate model ({@code dev.dyepack.io.Npz}
 * reads one from an {@code .npz}).
 *
 * @param weight  C x D values, row-major
 * @param bias    C values
 * @param classes C
 * @param dim     D
 */
public record LinearHead(float[] weight, float[] bias, int classes, int dim) {

    /**
     * Checks the shapes.
     *
     * @throws InvalidArgumentException if there are fewer than 2 classes, D &lt; 1, or the arrays do not
     *                                  hold C x D and C values
     */
    public LinearHead {
        if (weight == null || bias == null) {
            throw InvalidArgumentException.about(Parameters.HEAD, null, "a linear head needs W and b");
        }
        if (classes < 2 || dim < 1 || weight.length != (long) classes * dim || bias.length != classes) {
            throw new InvalidArgumentException("a linear head needs W (C x D) and b (C) with C >= 2 and D >= 1, got "
                    + weight.length + " and " + bias.length + " values for C=" + classes + ", D=" + dim, Parameters.HEAD,
                    "C=" + classes + ", D=" + dim, "C >= 2, D >= 1, C x D and C values");
        }
    }
}
