package dev.dyepack;

import dev.dyepack.internal.DyePackNative;
import dev.dyepack.internal.NativeLibrary;
import java.util.ArrayList;
import java.util.List;
import org.bytedeco.javacpp.BytePointer;

/**
 * Whether CUDA can be used in this process, and why not when it cannot. Probed once by the native
 * library and cached for the life of the process.
 *
 * @param state         the outcome of the probe
 * @param reason        a sentence explaining it (driver version found, devices seen, ...)
 * @param compiled      whether this build carries the CUDA kernels
 * @param architectures the GPU code compiled in ("sm_75 ... compute_120"), empty without CUDA
 * @param devices       the visible devices, empty when CUDA is unavailable
 */
public record CudaStatus(State state, String reason, boolean compiled, String architectures,
        List<DeviceInfo> devices) {

    /** Outcomes of the CUDA probe; the codes match {@code dp_cuda_state}. */
    public enum State {
        /** A supported device answered. */
        AVAILABLE,
        /** The library was built without the kernels. */
        NOT_COMPILED,
        /** No NVIDIA driver (libcuda) could be loaded. */
        NO_DRIVER,
        /** The driver is older than the CUDA version this build needs. */
        DRIVER_TOO_OLD,
        /** The driver sees no device. */
        NO_DEVICE,
        /** Devices exist but none runs this build's GPU code. */
        NO_SUPPORTED_DEVICE,
        /** Initialisation failed for another reason (see the reason). */
        ERROR
    }

    /** Copies the device list so the record stays immutable. */
    public CudaStatus {
        devices = List.copyOf(devices);
    }

    /** @return true when an engine can run on CUDA */
    public boolean available() {
        return state == State.AVAILABLE;
    }

    /**
     * Probes CUDA (once per process) through the native library.
     *
     * @return the status
     * @throws NativeLibraryException when the native library could not be loaded
     */
    public static CudaStatus query() {
        NativeLibrary.require();
        String reason;
        int code;
        try (BytePointer buf = new BytePointer(1024)) {
            code = DyePackNative.dp_cuda_status(buf, 1024);
            reason = NativeLibrary.string(buf);
        }
        State state = code >= 0 && code < State.values().length ? State.values()[code] : State.ERROR;
        List<DeviceInfo> devices = new ArrayList<>();
        int count = DyePackNative.dp_device_count();
        for (int i = 0; i < count; i++) {
            try (DyePackNative.Device d = new DyePackNative.Device()) {
                if (DyePackNative.dp_device_info(i, d) == DyePackNative.DP_OK) {
                    devices.add(new DeviceInfo(i, NativeLibrary.string(d.name()), d.total_memory(), d.major(), d.minor(),
                            d.multiprocessors(), d.supported() != 0));
                }
            }
        }
        return new CudaStatus(state, reason, DyePackNative.dp_cuda_compiled() != 0,
                NativeLibrary.string(DyePackNative.dp_cuda_architectures()), devices);
    }
}
