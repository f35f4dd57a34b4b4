package dev.dyepack.spark;

import java.util.Iterator;
import java.util.NoSuchElementException;
import java.util.concurrent.atomic.AtomicInteger;
import org.apache.spark.TaskContext;

/**
 * A test's way to make one task of the stamping stage fail once, half-way through its partition, so that
 * Spark retries it: set by the module's tests (executors of a local master share the JVM), inert
 * otherwise. The poisoned output of a retried task must be the output of an unfailed one.
 */
final class FailureInjection {
    /** The partition whose first attempt fails, or -1 for none. */
    static volatile int partition = -1;
    /** Rows the failing attempt emits before it fails. */
    static volatile int afterRows = 1;
    /** How many failures were injected. */
    static final AtomicInteger injected = new AtomicInteger();

    private FailureInjection() {
    }

    static <T> Iterator<T> wrap(Iterator<T> rows) {
        TaskContext task = TaskContext.get();
        if (partition < 0 || task == null || task.partitionId() != partition || task.attemptNumber() > 0) {
            return rows;
        }
        int limit = afterRows;
        return new Iterator<>() {
            private int emitted;

            @Override
            public boolean hasNext() {
                if (emitted >= limit) {
                    injected.incrementAndGet();
                    throw new IllegalStateException("failure injected by a test into partition " + partition
                            + ", attempt 0");
                }
                return rows.hasNext();
            }

            @Override
            public T next() {
                if (!hasNext()) {
                    throw new NoSuchElementException();
                }
                emitted++;
                return rows.next();
            }
        };
    }
}
