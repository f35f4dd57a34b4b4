package dev.dyepack.io;

import java.io.IOException;
import java.nio.file.Path;

/**
 * Another run is writing the same output: its lock ({@code .NAME.dyepack-lock} beside the output,
 * held by the operating system for as long as that process lives) is taken. Nothing was written.
 */
public final class OutputBusyException extends IOException {
    private static final long serialVersionUID = 1L;

    private final transient Path destination;

    /**
     * @param destination the output another run is writing
     * @param holder      that run's process id, or null where it cannot be read
     */
    public OutputBusyException(Path destination, String holder) {
        super("output " + destination + " is being written by another dyepack run"
                + (holder == null ? "" : " (process " + holder + ")") + "; wait for it to finish, or choose another output");
        this.destination = destination;
    }

    /** @return the output another run is writing */
    public Path destination() {
        return destination;
    }
}
