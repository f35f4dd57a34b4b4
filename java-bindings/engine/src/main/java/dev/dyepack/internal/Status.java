package dev.dyepack.internal;

import dev.dyepack.CudaException;
import dev.dyepack.DeviceOutOfMemoryException;
import dev.dyepack.DyePackException;
import dev.dyepack.InvalidArgumentException;
import dev.dyepack.NoGpuException;

/** Turns C ABI status codes into typed exceptions carrying the native message. */
public final class Status {
    private Status() {}

    /**
     * @param status a {@code dp_status} returned by the library on this thread
     * @throws DyePackException the matching subclass, unless status is {@code DP_OK}
     */
    public static void check(int status) {
        if (status == DyePackNative.DP_OK) {
            return;
        }
        String message = NativeLibrary.string(DyePackNative.dp_last_error());
        if (message.isEmpty()) {
            message = "native call failed with status " + status;
        }
        throw switch (status) {
            case DyePackNative.DP_ERR_INVALID_ARGUMENT -> new InvalidArgumentException(message);
            case DyePackNative.DP_ERR_NO_GPU -> new NoGpuException(message);
            case DyePackNative.DP_ERR_DEVICE_OUT_OF_MEMORY -> new DeviceOutOfMemoryException(message);
            case DyePackNative.DP_ERR_CUDA -> new CudaException(message, false);
            case DyePackNative.DP_ERR_CUDA_FATAL -> new CudaException(message, true);
            case DyePackNative.DP_ERR_UNSUPPORTED -> new InvalidArgumentException(message);
            case DyePackNative.DP_ERR_OUT_OF_MEMORY -> new DyePackException("native: " + message,
                    new OutOfMemoryError(message));
            default -> new DyePackException("native: " + message);
        };
    }
}
