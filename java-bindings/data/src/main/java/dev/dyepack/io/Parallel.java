package dev.dyepack.io;

import java.io.IOException;
import java.io.InterruptedIOException;
import java.io.UncheckedIOException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReferenceArray;

/**
 * Runs independent per-image tasks (decode, copy, encode) on every core. A failure stops the tasks not yet
 * started, and the one rethrown is that of the lowest task index that failed, so the message names the same
 * file whatever the thread timing (when several files are bad, the first in the folder's order).
 */
final class Parallel {
    /** Tasks at once: the cores, at least 2 (file copies wait on the disk as much as on the CPU). */
    static final int THREADS = Math.max(2, Runtime.getRuntime().availableProcessors());

    /**
     * Tasks at once for file copies and links: at least 8, as creating small files waits on the file system's
     * journal more than on a core, and concurrent creations share its commits.
     */
    static final int IO_THREADS = Math.max(8, THREADS);

    private Parallel() {
    }

    /** One task, by index; may throw an {@link IOException}. */
    interface Task {
        void run(int index) throws IOException;
    }

    /**
     * Runs {@code task} for indices {@code 0 .. count-1}, in parallel when there is more than one.
     *
     * @throws IOException      the lowest-indexed task's I/O failure
     * @throws RuntimeException the lowest-indexed task's unchecked failure
     */
    static void forEachIo(int count, Task task) throws IOException {
        forEachIo(count, THREADS, task);
    }

    /** As {@link #forEachIo(int, Task)} on up to {@code maxThreads} threads. */
    static void forEachIo(int count, int maxThreads, Task task) throws IOException {
        if (count <= 0) {
            return;
        }
        int threads = Math.min(maxThreads, count);
        if (threads == 1) {
            for (int i = 0; i < count; i++) {
                task.run(i);
            }
            return;
        }
        AtomicInteger next = new AtomicInteger();
        AtomicInteger firstFailed = new AtomicInteger(Integer.MAX_VALUE);
        AtomicReferenceArray<Throwable> failures = new AtomicReferenceArray<>(count);
        ExecutorService pool = Executors.newFixedThreadPool(threads, r -> {
            Thread t = new Thread(r, "dyepack-image-folder");
            t.setDaemon(true);
            return t;
        });
        try {
            Future<?>[] workers = new Future<?>[threads];
            for (int w = 0; w < threads; w++) {
                workers[w] = pool.submit(() -> {
                    for (int i = next.getAndIncrement(); i < count && i < firstFailed.get(); i = next.getAndIncrement()) {
                        try {
                            task.run(i);
                        } catch (IOException | RuntimeException | Error e) {
                            failures.set(i, e);
                            firstFailed.accumulateAndGet(i, Math::min);
                        }
                    }
                });
            }
            for (Future<?> f : workers) {
                f.get();
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new InterruptedIOException("interrupted while working on an image folder");
        } catch (java.util.concurrent.ExecutionException e) {
            throw new IllegalStateException("an image folder worker failed: " + e.getCause(), e.getCause());
        } finally {
            pool.shutdownNow();
        }
        int first = firstFailed.get();
        if (first != Integer.MAX_VALUE) {
            Throwable t = failures.get(first);
            if (t instanceof IOException io) {
                throw io;
            }
            if (t instanceof RuntimeException re) {
                throw re;
            }
            throw (Error) t;
        }
    }

    /** Work on a file's bytes. */
    interface BytesTask<T> {
        T run(byte[] bytes) throws IOException;
    }

    /** As {@link #forEachIo} for tasks without I/O failures of their own. */
    static void forEach(int count, java.util.function.IntConsumer task) {
        forEach(count, THREADS, task);
    }

    /** As {@link #forEach(int, java.util.function.IntConsumer)} on up to {@code maxThreads} threads. */
    static void forEach(int count, int maxThreads, java.util.function.IntConsumer task) {
        try {
            forEachIo(count, maxThreads, task::accept);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
