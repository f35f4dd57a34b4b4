package dev.dyepack.cuda;

import dev.dyepack.Engine;

/**
 * An engine running on a caller's stream, from {@link CudaPresets#onStream}: closing it waits for the
 * work the engine queued and puts back the stream the engine used before (its own streams, or an
 * earlier caller's). A second close does nothing. Not for sharing between threads: the engine's stream
 * is one setting of the engine, so bindings on one engine must be closed in the reverse order of opening.
 */
public final class StreamBinding implements AutoCloseable {
    private final Engine engine;
    private final long stream;
    private final long previous;
    private boolean closed;

    StreamBinding(Engine engine, long stream, long previous) {
        this.engine = engine;
        this.stream = stream;
        this.previous = previous;
    }

    /** @return the engine */
    public Engine engine() {
        return engine;
    }

    /** @return the caller's stream the engine runs on while this binding is open */
    public long stream() {
        return stream;
    }

    /**
     * Waits for the engine's work on the caller's stream and restores the previous stream.
     *
     * @throws dev.dyepack.CudaException if waiting fails (the binding counts as closed all the same)
     * @throws IllegalStateException if the engine was closed meanwhile
     */
    @Override
    public void close() {
        synchronized (engine) {
            if (closed) {
                return;
            }
            closed = true;
            engine.useStream(previous);
        }
    }
}
