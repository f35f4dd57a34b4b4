package dev.dyepack;

/**
 * An input file or buffer is unusable: corrupt, truncated, of an unsupported dtype or rank, or
 * inconsistent with its header. The input is never modified and no output is left behind.
 */
public class InvalidInputException extends DyePackException {
    private static final long serialVersionUID = 1L;

    /** @param message names the input and what is wrong with it */
    public InvalidInputException(String message) {
        super(message);
    }

    /**
     * @param message names the input and what is wrong with it
     * @param cause   the underlying failure (for example an I/O error)
     */
    public InvalidInputException(String message, Throwable cause) {
        super(message, cause);
    }
}
