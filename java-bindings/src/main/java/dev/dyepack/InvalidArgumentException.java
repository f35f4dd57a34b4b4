package dev.dyepack;

/** A parameter is out of range, null, or inconsistent with another one; nothing was changed. */
public class InvalidArgumentException extends DyePackException {
    private static final long serialVersionUID = 1L;

    /** @param message names the parameter and the allowed values */
    public InvalidArgumentException(String message) {
        super(message);
    }
}
