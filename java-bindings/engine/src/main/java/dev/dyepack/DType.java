package dev.dyepack;

/**
 * Element types of batches: uint8 or float32 images (float32 also for tabular rows), int32 token
 * sequences. The codes match {@code dp_dtype} in the C ABI.
 */
public enum DType {
    /** Unsigned 8-bit integers, 0..255; results are rounded half to even and clamped. */
    UINT8(0, 1),
    /** IEEE 754 single precision, little-endian in memory and files. */
    FLOAT32(1, 4),
    /** Signed 32-bit integers: token ids of sequences. */
    INT32(2, 4);

    private final int code;
    private final int bytes;

    DType(int code, int bytes) {
        this.code = code;
        this.bytes = bytes;
    }

    /** @return the C ABI code */
    public int code() {
        return code;
    }

    /** @return bytes per element */
    public int bytes() {
        return bytes;
    }

    /** @return the lower-case name used in messages and the CLI ("uint8", "float32") */
    public String label() {
        return name().toLowerCase(java.util.Locale.ROOT);
    }
}
