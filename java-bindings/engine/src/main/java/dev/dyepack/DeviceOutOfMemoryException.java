package dev.dyepack;

/** The GPU ran out of memory; smaller batches may succeed. */
public class DeviceOutOfMemoryException extends CudaException {
    private static final long serialVersionUID = 1L;

    /** @param message the native description */
    public DeviceOutOfMemoryException(String message) {
        super(message, false);
    }
}
