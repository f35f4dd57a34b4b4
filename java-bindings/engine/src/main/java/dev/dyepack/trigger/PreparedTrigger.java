package dev.dyepack.trigger;

import dev.dyepack.Engine;
import dev.dyepack.InvalidArgumentException;
import dev.dyepack.Tensor;
import java.util.Optional;

/**
 * A trigger made ready for one engine and one geometry: everything computed from the owner's key and
 * the image size (derived subkeys, generated and decoded patterns, masks, signals, warp grids) is
 * computed once by {@link TriggerSpec#prepare} and reused by every {@link #apply}, which only checks
 * the batch and calls the engine's primitive. Applying a prepared trigger batch by batch gives the
 * same bytes as applying the spec once to the whole data, because per-sample randomness is indexed by
 * the sample's place in the dataset ({@code firstSample + i}).
 *
 * <p>Its float operands (patterns, masks, signals, grids, column values) are uploaded to the engine
 * once, when prepared, as {@link Engine.Operand}s: on a CUDA engine they stay on the device and no
 * apply uploads them again. Applies run on the engine's stream: after {@link Engine#useStream} an
 * apply to a device batch is queued on the caller's stream and returns without waiting (see there).
 *
 * <p>Not thread-safe: use one prepared trigger per thread (the engine serialises its own calls).
 * Closing releases what it holds (its engine's operands included); applying after {@link #close()} is
 * an error. Closing the engine first releases the operands as well, and a later close does nothing.
 */
public interface PreparedTrigger extends AutoCloseable {

    /** @return the trigger this was prepared from */
    TriggerSpec spec();

    /**
     * Stamps the trigger, in place, on the selected samples of a batch of the prepared geometry.
     *
     * @param batch       the data: the dtype, layout and per-sample shape it was prepared for; any N
     * @param indices     the samples to change (each once, in [0, N)); null for all
     * @param firstSample the dataset index of the batch's sample 0, &gt;= 0
     * @throws InvalidArgumentException if the batch does not match the prepared geometry, an index is
     *                                  bad, firstSample is negative, or this was closed
     * @throws IllegalStateException if the engine was closed
     */
    void apply(Tensor batch, long[] indices, long firstSample);

    /**
     * The SHA-256 of the pattern picture's file bytes, read when this was prepared.
     *
     * @return lower-case hex, or empty for triggers without a picture
     */
    Optional<String> patternImageSha256();

    /** Releases the prepared operands; further {@link #apply} calls are refused. */
    @Override
    void close();

    /**
     * @return the engine this was prepared for
     */
    Engine engine();
}
