package dev.dyepack;

/**
 * One CUDA device as the native library sees it.
 *
 * @param index           device index, as used by {@link Engine#open(Backend, int)}
 * @param name            the device's name
 * @param totalMemory     global memory in bytes
 * @param major           compute capability, major
 * @param minor           compute capability, minor
 * @param multiprocessors streaming multiprocessors
 * @param supported       whether this build carries GPU code that runs on it
 */
public record DeviceInfo(int index, String name, long totalMemory, int major, int minor, int multiprocessors,
        boolean supported) {

    /** @return the compute capability as "sm_XY" */
    public String architecture() {
        return "sm_" + major + minor;
    }
}
