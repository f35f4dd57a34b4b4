package dev.dyepack.job;

import dev.dyepack.Engine;
import dev.dyepack.Tensor;
import dev.dyepack.surrogate.LabelConsistentPush;
import dev.dyepack.surrogate.LinearHead;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.FloatBuffer;
import java.util.Arrays;

/**
 * The label-consistent push of the owner's chosen samples, as every front end applies it (files,
 * arrays in memory, batches): the chosen indices ascending, each one's rival class under the linear
 * surrogate, and the push itself. Applied to a sample before its trigger, so the trigger is stamped on
 * the pushed image. Immutable.
 */
final class CleanPush {
    private final LabelConsistentPush push;
    private final long[] sorted;
    private final int[] rivals;

    private CleanPush(LabelConsistentPush push, long[] sorted, int[] rivals) {
        this.push = push;
        this.sorted = sorted;
        this.rivals = rivals;
    }

    /**
     * Builds the push for the chosen samples: their rival is the class the surrogate ranks first after
     * the target, scored on the engine from their feature rows.
     *
     * @param engine the engine
     * @param head   the linear surrogate (its dimension is the pixels per sample)
     * @param target the target class
     * @param eps    the L-infinity bound, in data units
     * @param x      every sample's feature row, N x head.dim()
     * @param chosen the owner's chosen samples
     * @return the push
     */
    static CleanPush of(Engine engine, LinearHead head, int target, float eps, float[] x, long[] chosen) {
        LabelConsistentPush push = LabelConsistentPush.of(head, target, eps);
        long[] sorted = chosen.clone();
        Arrays.sort(sorted);
        int d = head.dim();
        FloatBuffer rows = ByteBuffer.allocateDirect(Math.max(1, sorted.length) * d * 4)
                .order(ByteOrder.nativeOrder()).asFloatBuffer();
        for (long i : sorted) {
            rows.put(x, (int) (i * d), d);
        }
        rows.flip();
        int[] rivals = sorted.length == 0 ? new int[0] : push.rivals(engine.scoreBoundary(
                Tensor.rows(rows, sorted.length, d), head.weight(), head.bias(), push.target()));
        return new CleanPush(push, sorted, rivals);
    }

    /** @return the chosen samples, ascending (not a copy: never modified) */
    long[] sorted() {
        return sorted;
    }

    /**
     * Pushes the chosen samples {@code sorted()[from, to)} of a batch.
     *
     * @param engine the engine
     * @param batch  the batch
     * @param local  their batch-local positions, in the same order
     * @param from   the first of them in {@link #sorted()}
     * @param to     one past the last
     */
    void apply(Engine engine, Tensor batch, long[] local, int from, int to) {
        push.apply(engine, batch, local, Arrays.copyOfRange(rivals, from, to));
    }
}
