package dev.dyepack;

/**
 * Base of every exception DyePack throws. Unchecked: callers handle the subclasses they can act on
 * ({@link InvalidArgumentException}, {@link InvalidInputException}, {@link NoGpuException}, ...).
 */
public class DyePackException extends RuntimeException {
    private static final long serialVersionUID = 1L;

    /** @param message what went wrong, naming the input or parameter concerned */
    public DyePackException(String message) {
        super(message);
    }

    /**
     * @param message what went wrong
     * @param cause   the underlying failure
     */
    public DyePackException(String message, Throwable cause) {
        super(message, cause);
    }
}
