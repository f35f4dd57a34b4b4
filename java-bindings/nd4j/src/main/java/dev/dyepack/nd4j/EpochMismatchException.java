package dev.dyepack.nd4j;

import dev.dyepack.InvalidInputException;

/**
 * The wrapped iterator gave other batches than in the epoch the poisoning was planned on: a batch of
 * another size, samples in another order (a shuffling iterator), or more or fewer samples. On-the-fly
 * poisoning stamps samples by their global index, so such an epoch would stamp the wrong samples; the
 * batch is refused before anything is stamped.
 */
public class EpochMismatchException extends InvalidInputException {
    private static final long serialVersionUID = 1L;

    /** @param message which batch differs and how */
    public EpochMismatchException(String message) {
        super(message);
    }
}
