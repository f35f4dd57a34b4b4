package dev.dyepack.job;

import dev.dyepack.Engine;
import dev.dyepack.Tensor;
import dev.dyepack.key.OwnerKey;
import dev.dyepack.trigger.PreparedTrigger;
import dev.dyepack.trigger.TriggerContext;
import dev.dyepack.trigger.TriggerSpec;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.List;

/**
 * One trigger under many keys (the owner's and the negatives'), prepared ahead of a stream that stamps
 * the rows of each key in dataset order. Preparing a keyed trigger for a large image (a keyed shuffle of
 * every cell, or a keyed noise pattern of every element, and the upload of its operands) costs more than
 * stamping the row, and a 1% poisoning with four negatives per sample prepares one per negative: a thread
 * of its own prepares the keys in the order of their first rows while the stream copies and hashes, so the
 * stamping thread finds them ready.
 *
 * <p>Memory is bounded: at most {@code ahead} prepared triggers are held by the preparing thread's work at
 * once; each is released once the stream has passed its key's last row. Whenever the stream needs a key
 * that is neither ready nor being prepared (the preparing thread is behind, is waiting for room, or
 * failed), the stamping thread prepares it itself, uses it for the current chunk only and releases it
 * after the chunk, as if there were no preparing thread; so the stream never waits for a key that nobody
 * is preparing, and a preparation that fails fails on the stamping thread, with its own exception.
 *
 * <p>What is stamped is the same whichever thread prepared a key: a prepared trigger depends only on the
 * trigger, the key and the samples' geometry. {@link #get} and {@link #passed} are called by one stamping
 * thread; {@link #close} by the thread that created this, after the stream.
 */
final class KeyedTriggers implements AutoCloseable {
    private final Engine engine;
    private final TriggerSpec trigger;
    private final Tensor geometry;
    private final List<OwnerKey> keys;
    /** The last row of each key, so its trigger can be released once the stream has passed it. */
    private final long[] lastRow;
    /** Guarded by {@code this}: triggers prepared by the preparing thread, until released. */
    private final PreparedTrigger[] ready;
    /** Guarded by {@code this}: keys the stamping thread took over; the preparing thread skips them. */
    private final boolean[] skip;
    /** Triggers the stamping thread prepared for the current chunk; released by the next {@link #passed}. */
    private final List<PreparedTrigger> local = new ArrayList<>();
    private final Thread preparer;
    /** Guarded by {@code this}: the key being prepared, or -1. */
    private int inProgress = -1;
    /** Guarded by {@code this}: how many more the preparing thread may hold. */
    private int room;
    /** Guarded by {@code this}. */
    private boolean closed;

    /**
     * Starts preparing.
     *
     * @param engine   the engine the triggers run on (it serialises its own calls)
     * @param trigger  the trigger
     * @param geometry a batch with the samples' dtype, layout and geometry
     * @param keys     the keys, one per stamp
     * @param rows     the sorted dataset rows each key stamps, in the order of {@code keys}
     * @param ahead    the most prepared triggers the preparing thread holds at once, at least 1
     */
    KeyedTriggers(Engine engine, TriggerSpec trigger, Tensor geometry, List<OwnerKey> keys, long[][] rows, int ahead) {
        this.engine = engine;
        this.trigger = trigger;
        this.geometry = geometry;
        this.keys = List.copyOf(keys);
        this.lastRow = new long[rows.length];
        this.ready = new PreparedTrigger[rows.length];
        this.skip = new boolean[rows.length];
        for (int s = 0; s < rows.length; s++) {
            // A key without rows is never needed: never prepared.
            lastRow[s] = rows[s].length == 0 ? -1 : rows[s][rows[s].length - 1];
            skip[s] = rows[s].length == 0;
        }
        this.room = Math.max(1, ahead);
        Integer[] order = new Integer[rows.length];
        for (int s = 0; s < order.length; s++) {
            order[s] = s;
        }
        Arrays.sort(order, Comparator.comparingLong((Integer s) -> rows[s].length == 0 ? Long.MAX_VALUE : rows[s][0])
                .thenComparingInt(s -> s));
        this.preparer = new Thread(() -> prepareAll(order), "dyepack-prepare-keys");
        preparer.setDaemon(true);
        preparer.start();
    }

    private void prepareAll(Integer[] order) {
        for (int s : order) {
            synchronized (this) {
                while (room == 0 && !closed) {
                    try {
                        wait();
                    } catch (InterruptedException e) {
                        return;
                    }
                }
                if (closed) {
                    return;
                }
                if (skip[s]) {
                    continue;
                }
                inProgress = s;
                room--;
            }
            PreparedTrigger p = null;
            try {
                p = trigger.prepare(engine, geometry, TriggerContext.of(keys.get(s)));
            } catch (Throwable e) {
                // The stamping thread prepares this key itself and meets the failure there.
            }
            synchronized (this) {
                inProgress = -1;
                if (p == null || closed) {
                    room++;
                    notifyAll();
                    if (p != null) {
                        p.close();
                    }
                    return;
                }
                ready[s] = p;
                notifyAll();
            }
        }
    }

    /**
     * The trigger under key {@code s}, for a chunk that holds some of its rows; valid until the
     * {@link #passed} call after the chunk.
     *
     * @param s the key's index
     * @return the prepared trigger (owned here; do not close it)
     * @throws InterruptedException if interrupted while the key is being prepared
     */
    PreparedTrigger get(int s) throws InterruptedException {
        synchronized (this) {
            while (ready[s] == null && inProgress == s) {
                wait();
            }
            if (ready[s] != null) {
                return ready[s];
            }
            skip[s] = true;
        }
        PreparedTrigger p = trigger.prepare(engine, geometry, TriggerContext.of(keys.get(s)));
        local.add(p);
        return p;
    }

    /**
     * The stream has stamped every row before {@code end}: releases the triggers whose keys have no row
     * left, and those the stamping thread prepared for the chunk.
     *
     * @param end the first row not yet stamped
     */
    void passed(long end) {
        for (PreparedTrigger p : local) {
            p.close();
        }
        local.clear();
        synchronized (this) {
            for (int s = 0; s < ready.length; s++) {
                if (ready[s] != null && lastRow[s] < end) {
                    ready[s].close();
                    ready[s] = null;
                    room++;
                    notifyAll();
                }
            }
        }
    }

    /** Stops the preparing thread and releases every trigger still held. */
    @Override
    public void close() {
        synchronized (this) {
            closed = true;
            notifyAll();
        }
        boolean interrupted = false;
        while (preparer.isAlive()) {
            try {
                preparer.join();
            } catch (InterruptedException e) {
                interrupted = true;
            }
        }
        passed(Long.MAX_VALUE);
        if (interrupted) {
            Thread.currentThread().interrupt();
        }
    }
}
