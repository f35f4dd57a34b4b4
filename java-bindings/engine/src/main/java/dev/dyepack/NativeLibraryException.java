package dev.dyepack;

/**
 * The native library could not be loaded (or a call it does not support was made). The original
 * load failure is attached as the cause of the first call that needed the library.
 */
public class NativeLibraryException extends DyePackException {
    private static final long serialVersionUID = 1L;

    /**
     * @param message what could not be done
     * @param cause   the load failure, if any
     */
    public NativeLibraryException(String message, Throwable cause) {
        super(message, cause);
    }
}
