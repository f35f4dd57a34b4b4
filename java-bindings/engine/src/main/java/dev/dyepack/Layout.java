package dev.dyepack;

/**
 * Memory order of an image batch. The codes match {@code dp_layout} in the C ABI. Samples are always
 * dense and consecutive; within a sample, NHWC stores channels innermost and NCHW stores planes.
 */
public enum Layout {
    /** (N, H, W, C): element (n, c, h, w) at {@code ((n*H + h)*W + w)*C + c}. */
    NHWC(0),
    /** (N, C, H, W): element (n, c, h, w) at {@code ((n*C + c)*H + h)*W + w}. */
    NCHW(1);

    private final int code;

    Layout(int code) {
        this.code = code;
    }

    /** @return the C ABI code */
    public int code() {
        return code;
    }

    /**
     * Offset of element (c, h, w) within one sample of this layout.
     *
     * @param c        channel
     * @param h        row
     * @param w        column
     * @param channels C
     * @param height   H
     * @param width    W
     * @return the element offset (not bytes)
     */
    public long offset(long c, long h, long w, long channels, long height, long width) {
        return this == NHWC ? (h * width + w) * channels + c : (c * height + h) * width + w;
    }
}
