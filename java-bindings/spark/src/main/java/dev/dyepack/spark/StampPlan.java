package dev.dyepack.spark;

import dev.dyepack.DType;
import dev.dyepack.Engine;
import dev.dyepack.Layout;
import dev.dyepack.Tensor;
import dev.dyepack.job.PoisonPlan;
import dev.dyepack.key.OwnerKey;
import dev.dyepack.select.SelectionMode;
import dev.dyepack.select.Selector;
import dev.dyepack.trigger.TriggerSpec;
import java.io.Serializable;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.Iterator;
import java.util.List;
import java.util.NoSuchElementException;
import org.apache.spark.sql.Row;

/**
 * What executors need to stamp a plan's rows: the chosen rows by id with their global index and the key
 * group they are stamped under (the owner's key, or derived negative key j), the trigger, the target and
 * the image geometry. Rows not chosen pass through untouched; a chosen row's new bytes depend only on
 * its own bytes, its global index and the key, so a retried task writes the same bytes.
 *
 * <p>Carries the owner's key bytes to the executors (keyed triggers are stamped there); see
 * docs/spark.md for how Spark protects them in transit.
 */
final class StampPlan implements Serializable {
    private static final long serialVersionUID = 1L;
    /** Rows a batch of a partition gathers before its chosen rows go to the engine. */
    static final int BATCH_ROWS = 4096;

    private final String spec;
    private final byte[] key;
    private final long target;
    private final boolean dirty;
    private final int c;
    private final int h;
    private final int w;
    private final long[] ids;
    private final long[] index;
    /** 0: the owner's key; j + 1: negative key j. */
    private final byte[] group;
    private final SampleColumns columns;

    StampPlan(PoisonPlan plan, OwnerKey owner, long[] idsByIndex, SampleColumns columns) {
        this.spec = plan.trigger().toString();
        this.key = owner.exportBytes();
        this.target = plan.poisoner().target();
        this.dirty = plan.poisoner().mode() == SelectionMode.DIRTY;
        this.c = (int) plan.geometry().c();
        this.h = (int) plan.geometry().h();
        this.w = (int) plan.geometry().w();
        this.columns = columns;
        long[] poisoned = plan.indices();
        long[] negatives = plan.negatives();
        long[][] groups = plan.negativeGroups();
        int n = poisoned.length + negatives.length;
        long[][] entries = new long[n][];
        int at = 0;
        for (long i : poisoned) {
            entries[at++] = new long[] {idsByIndex[(int) i], i, 0};
        }
        for (int j = 0; j < groups.length; j++) {
            for (long i : groups[j]) {
                entries[at++] = new long[] {idsByIndex[(int) i], i, j + 1};
            }
        }
        Arrays.sort(entries, Comparator.comparingLong(e -> e[0]));
        this.ids = new long[n];
        this.index = new long[n];
        this.group = new byte[n];
        for (int k = 0; k < n; k++) {
            ids[k] = entries[k][0];
            index[k] = entries[k][1];
            group[k] = (byte) entries[k][2];
        }
    }

    /** @return the rows to stamp: poisoned and negatives */
    int chosen() {
        return ids.length;
    }

    /**
     * The poisoned rows of one partition, in the partition's order, read and emitted in batches.
     *
     * @param rows the partition's rows
     * @return the rows, stamped where chosen
     */
    Iterator<Row> stamp(Iterator<Row> rows) {
        return new Iterator<>() {
            private List<Row> batch = List.of();
            private int next;

            @Override
            public boolean hasNext() {
                if (next < batch.size()) {
                    return true;
                }
                if (!rows.hasNext()) {
                    return false;
                }
                List<Row> read = new ArrayList<>(BATCH_ROWS);
                while (rows.hasNext() && read.size() < BATCH_ROWS) {
                    read.add(rows.next());
                }
                batch = stampBatch(read);
                next = 0;
                return true;
            }

            @Override
            public Row next() {
                if (!hasNext()) {
                    throw new NoSuchElementException();
                }
                return batch.get(next++);
            }
        };
    }

    /**
     * Stamps the chosen rows of a batch: grouped by key, then in runs of consecutive global indices, each
     * run one call to the engine with its first global index (the trigger's keyed randomness follows it,
     * as in {@code dyepack poison}'s chunks).
     */
    private List<Row> stampBatch(List<Row> batch) {
        List<long[]> hits = new ArrayList<>();
        for (int r = 0; r < batch.size(); r++) {
            int k = Arrays.binarySearch(ids, columns.idOf(batch.get(r)));
            if (k >= 0) {
                hits.add(new long[] {group[k], index[k], r});
            }
        }
        if (hits.isEmpty()) {
            return batch;
        }
        hits.sort(Comparator.<long[]>comparingLong(e -> e[0]).thenComparingLong(e -> e[1]));
        Engine engine = ExecutorEngine.current();
        TriggerSpec trigger = TriggerSpec.parse(spec);
        OwnerKey owner = new OwnerKey(key);
        List<Row> out = new ArrayList<>(batch);
        int sampleBytes = c * h * w;
        for (int from = 0; from < hits.size();) {
            int to = from + 1;
            while (to < hits.size() && hits.get(to)[0] == hits.get(from)[0]
                    && hits.get(to)[1] == hits.get(to - 1)[1] + 1) {
                to++;
            }
            int count = to - from;
            ByteBuffer buf = ByteBuffer.allocateDirect(count * sampleBytes);
            for (int i = from; i < to; i++) {
                buf.put(columns.pixelsOf(batch.get((int) hits.get(i)[2])));
            }
            buf.flip();
            int g = (int) hits.get(from)[0];
            OwnerKey k = g == 0 ? owner : Selector.negativeKey(owner, g - 1);
            ExecutorEngine.stamp(engine, trigger, k, Tensor.of(buf, Layout.NHWC, count, c, h, w), hits.get(from)[1]);
            for (int i = from; i < to; i++) {
                byte[] pixels = new byte[sampleBytes];
                buf.get(pixels);
                int r = (int) hits.get(i)[2];
                out.set(r, columns.with(batch.get(r), pixels, g == 0 && dirty ? target : null));
            }
            from = to;
        }
        return out;
    }

    /**
     * @param c channels
     * @param h height
     * @param w width
     * @return a zero-sample tensor of uint8 NHWC images of that size, as rows hold them
     */
    static Tensor geometryOf(int c, int h, int w) {
        return Tensor.empty(DType.UINT8, Layout.NHWC, c, h, w);
    }
}
