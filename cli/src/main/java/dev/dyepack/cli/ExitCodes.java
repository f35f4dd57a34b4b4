package dev.dyepack.cli;

/** Exit codes of the {@code dyepack} command. */
public final class ExitCodes {
    private ExitCodes() {}

    /** Success. */
    public static final int OK = 0;
    /** A failure outside the user's input (an I/O or CUDA error). */
    public static final int FAILURE = 1;
    /** Invalid input: a bad option, parameter or file. The message names it. */
    public static final int INVALID_INPUT = 2;
    /** The CUDA backend was requested but no usable GPU answered. */
    public static final int NO_GPU = 3;
    /** A manifest or dataset did not verify: the findings are printed. */
    public static final int VERIFY_FAILED = 4;
    /** A bug: an unexpected internal error (run with --stacktrace and report it). */
    public static final int INTERNAL = 70;
}
