package dev.dyepack;

/** Where an {@link Engine} runs. The codes match {@code dp_backend} in the C ABI. */
public enum Backend {
    /** CUDA when a supported device answers, else the CPU; the engine says why. */
    AUTO(0),
    /** The multithreaded CPU backend; always available. */
    CPU(1),
    /** A CUDA device; opening fails with {@link NoGpuException} where none is usable. */
    CUDA(2);

    private final int code;

    Backend(int code) {
        this.code = code;
    }

    /** @return the C ABI code */
    public int code() {
        return code;
    }

    /**
     * @param code a C ABI code
     * @return the backend with that code
     * @throws IllegalArgumentException for an unknown code
     */
    public static Backend fromCode(int code) {
        for (Backend b : values()) {
            if (b.code == code) {
                return b;
            }
        }
        throw new IllegalArgumentException("unknown backend code " + code);
    }
}
