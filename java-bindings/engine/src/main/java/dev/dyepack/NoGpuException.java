package dev.dyepack;

/** The CUDA backend was requested but no usable GPU answered; the message says why. */
public class NoGpuException extends DyePackException {
    private static final long serialVersionUID = 1L;

    /** @param message why CUDA is unavailable (no driver, driver too old, no device, ...) */
    public NoGpuException(String message) {
        super(message);
    }
}
