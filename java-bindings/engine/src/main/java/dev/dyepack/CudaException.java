package dev.dyepack;

/**
 * A CUDA call failed. The message carries file, line, error name and text. A {@linkplain #isFatal()
 * fatal} (sticky) error leaves the engine unusable: close it and open a new one (the process's CUDA
 * context may need a restart).
 */
public class CudaException extends DyePackException {
    private static final long serialVersionUID = 1L;
    private final boolean fatal;

    /**
     * @param message the native description
     * @param fatal   whether the CUDA context is lost
     */
    public CudaException(String message, boolean fatal) {
        super(message);
        this.fatal = fatal;
    }

    /** @return true when the engine can no longer be used */
    public boolean isFatal() {
        return fatal;
    }
}
