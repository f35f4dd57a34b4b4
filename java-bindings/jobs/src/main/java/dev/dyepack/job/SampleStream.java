package dev.dyepack.job;

import dev.dyepack.FileSystemSync;
import dev.dyepack.io.Samples;
import java.io.IOException;
import java.io.InterruptedIOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.TimeUnit;

/**
 * Streams every sample of a reader to a writer, stamping some of them on the way, at close to the speed
 * of copying the file: three stages run at once (reading, stamping, writing), each on its own thread,
 * handing chunks over through a fixed pool of buffers, so memory stays bounded by the chunk size.
 *
 * <p>Rows that nothing stamps are copied inside the kernel ({@link Samples#copySamples}) and never pass
 * through the JVM, unless the SHA-256 of the files is asked for: then every byte is read once, and the
 * input's digest is taken as it is read and the output's as it is written, so a manifest needs no second
 * and third pass over the files. Digests are only taken where the file's bytes are the samples' bytes
 * ({@link Samples#rawPrefix}); otherwise {@link Digests} holds nulls and the caller hashes the files.
 *
 * <p>The writer receives the bytes in order; the stamper sees each chunk once, after the input digest
 * took it and before the output digest does. Not thread-safe; one stream per call.
 */
final class SampleStream {
    /** Stamps rows of one chunk in place. */
    interface Stamper {
        /**
         * @param chunk little-endian bytes of samples [first, first + count), position 0, limit their size
         * @param first the dataset index of the chunk's first sample
         * @param count how many samples the chunk holds
         * @throws IOException on failure (the stream stops and rethrows it)
         */
        void stamp(ByteBuffer chunk, long first, int count) throws IOException;
    }

    /**
     * The files' SHA-256, as 64 lowercase hex digits each, or null where it was not taken.
     *
     * @param input  the input file's
     * @param output the output file's
     */
    record Digests(String input, String output) {
        static final Digests NONE = new Digests(null, null);
    }

    /** Buffers in flight: one being read, one being stamped, one being written, one spare. */
    private static final int BUFFERS = 4;
    /**
     * The most bytes per buffer (unless one sample is larger). A chunk is read, stamped, hashed and
     * written while it is still in the processor's cache; 16 MiB chunks, which are not, made writing a
     * 575 MB file three to six times slower than copying it on the development machine, 2 MiB ones 1.2x.
     */
    private static final long MAX_BUFFER_BYTES = 2L << 20;

    /**
     * The least output written around the page cache: below it the aligned buffers and threads cost more than the
     * page cache's write-back of so little (a file of ten images took 47 ms more to write directly).
     */
    static final long DIRECT_MIN_BYTES = 64L << 20;

    private SampleStream() {}

    /**
     * Runs the stream.
     *
     * @param reader     the samples
     * @param writer     where they go, in order
     * @param chunkBytes the most memory the buffers may take together (at least one sample per buffer; each
     *                   buffer holds at most 2 MiB unless one sample is larger)
     * @param stamped    the sorted dataset indices of every row the stamper changes, or null for all rows
     * @param digest     whether to take the files' SHA-256 while streaming
     * @param stamper    stamps the chunks that hold chosen rows
     * @param progress   receives ("stamping", samples written, N)
     * @return the digests (nulls where not taken)
     * @throws IOException if reading, stamping or writing fails (the writer is left uncommitted)
     */
    static Digests run(Samples.Reader reader, Samples.Writer writer, long chunkBytes, long[] stamped, boolean digest,
            Stamper stamper, Progress progress) throws IOException {
        long n = reader.shape().length == 0 ? 1 : reader.shape()[0];
        long sampleBytes = Math.max(1, reader.sampleBytes());
        long bufferBytes = Math.min(MAX_BUFFER_BYTES, Math.max(chunkBytes, 1) / BUFFERS);
        long per = Math.max(1, Math.min(Math.max(n, 1), bufferBytes / sampleBytes));
        per = Math.min(per, Integer.MAX_VALUE / sampleBytes);
        StreamDigest in = null;
        StreamDigest out = null;
        try {
            if (digest) {
                var inPrefix = Samples.rawPrefix(reader);
                var outPrefix = Samples.rawPrefix(writer);
                if (inPrefix.isPresent() && outPrefix.isPresent()) {
                    in = StreamDigest.sha256();
                    in.update(inPrefix.get());
                    out = StreamDigest.sha256();
                    out.update(outPrefix.get());
                }
            }
            if (stamped != null && Samples.stampsInPlace(reader, writer)) {
                InPlace p = new InPlace(reader, writer, n, per, stamped, in, out, stamper, progress);
                p.run();
            } else {
                List<Segment> plan = plan(n, per, stamped, in != null || !Samples.copiesInKernel(reader, writer));
                if (plan.stream().noneMatch(Segment::copy) && n * sampleBytes >= DIRECT_MIN_BYTES) {
                    // Every byte passes through the buffers: written around the page cache where the file system
                    // allows (docs/benchmarks.md: as fast as cp + sync, where the page cache's write-back varied).
                    Samples.writeAroundCache(writer);
                }
                int buffers = Math.min(BUFFERS, Math.max(1, plan.size()));
                Pipeline p = new Pipeline(reader, writer, plan, buffers, (int) (per * sampleBytes), in, out, stamper,
                        progress, n);
                p.run();
            }
            return in == null ? Digests.NONE : new Digests(in.hex(), out.hex());
        } finally {
            if (in != null) {
                in.close();
            }
            if (out != null) {
                out.close();
            }
        }
    }

    /**
     * A run of samples: read, stamped and written through a buffer, or copied as it is.
     *
     * @param first the first sample
     * @param count how many
     * @param copy  whether it is copied without being read into the JVM
     */
    private record Segment(long first, long count, boolean copy) {}

    /**
     * Cuts [0, n) into segments: chunks of at most {@code per} samples that are read; with a selection
     * and no digest, the runs without chosen rows are copied inside the kernel instead.
     */
    private static List<Segment> plan(long n, long per, long[] stamped, boolean readAll) {
        List<Segment> plan = new ArrayList<>();
        if (stamped == null || readAll) {
            for (long first = 0; first < n; first += per) {
                plan.add(new Segment(first, Math.min(per, n - first), false));
            }
            return plan;
        }
        long at = 0;
        int i = 0;
        while (at < n) {
            if (i >= stamped.length) {
                plan.add(new Segment(at, n - at, true));
                break;
            }
            if (stamped[i] > at) {
                plan.add(new Segment(at, stamped[i] - at, true));
                at = stamped[i];
            }
            // A chunk starting at a chosen row; it takes the unchosen rows between chosen ones along
            // when they are few (a short gap costs less to read than a separate copy call).
            long end = at + 1;
            i++;
            while (i < stamped.length && stamped[i] - at < per && stamped[i] - end < 16) {
                end = stamped[i] + 1;
                i++;
            }
            plan.add(new Segment(at, end - at, false));
            at = end;
        }
        return plan;
    }

    /**
     * The stream for a selection of rows where the output can be changed in place
     * ({@link Samples#stampsInPlace}): the whole file is copied inside the kernel, window by window, on one
     * thread, while the calling thread stamps the chosen rows in place through a mapping of the output (of
     * each chunk, the span from its first to its last chosen row), once the copy has passed them. No byte
     * goes through the JVM's buffers to be written: on the development machine writing 575 MB through
     * {@code write} cost three to five times the in-kernel copy of the same bytes (docs/benchmarks.md).
     * Stamping every row is left to the buffered stream: there every page is changed, and changing a
     * page through a mapping cost more than writing it.
     *
     * <p>With digests a reader thread reads every window, and the calling thread takes the input's SHA-256
     * and the output's together ({@link StreamDigest#updateBoth}: interleaved on one core, about 1.5 times
     * as fast as two digests one after the other, leaving the other core to the copy; docs/benchmarks.md),
     * the output's from the stamped mapping where the window was stamped and from the input's bytes (the
     * same bytes) where it was not. Memory: the reader's four buffers and one mapped window of the output
     * at a time.
     */
    private static final class InPlace extends Stages {
        private final Samples.Reader reader;
        private final Samples.Writer writer;
        private final long n;
        private final long per;
        private final long[] stamped;
        private final StreamDigest in;
        private final StreamDigest out;
        private final Stamper stamper;
        private final Progress progress;
        private final long sampleBytes;
        private final BlockingQueue<ByteBuffer> free;
        private final BlockingQueue<ByteBuffer> read;
        /** Samples copied so far; guarded by {@code this}. */
        private long copied;

        InPlace(Samples.Reader reader, Samples.Writer writer, long n, long per, long[] stamped, StreamDigest in,
                StreamDigest out, Stamper stamper, Progress progress) {
            this.reader = reader;
            this.writer = writer;
            this.n = n;
            this.per = per;
            this.stamped = stamped;
            this.in = in;
            this.out = out;
            this.stamper = stamper;
            this.progress = progress;
            this.sampleBytes = Math.max(1, reader.sampleBytes());
            int windows = (int) Math.min(BUFFERS, Math.max(1, (n + per - 1) / per));
            free = new ArrayBlockingQueue<>(windows);
            read = new ArrayBlockingQueue<>(windows + 1);
            for (int b = 0; in != null && b < windows; b++) {
                free.add(ByteBuffer.allocateDirect((int) (per * sampleBytes)).order(ByteOrder.LITTLE_ENDIAN));
            }
        }

        void run() throws IOException {
            Thread copier = new Thread(this::copyAll, "dyepack-stream-copy");
            copier.setDaemon(true);
            copier.start();
            Thread readerThread = null;
            if (in != null) {
                readerThread = new Thread(this::readAll, "dyepack-stream-read");
                readerThread.setDaemon(true);
                readerThread.start();
            }
            try {
                stampAll();
            } catch (Throwable t) {
                fail(t);
            }
            join(copier);
            if (readerThread != null) {
                join(readerThread);
            }
            rethrow(failure);
        }

        private void copyAll() {
            try {
                // Windows of 16 chunks: few enough system calls, and stamping can follow the copy closely.
                long window = Math.max(per, Math.min(n, 16 * per));
                Path staged = Samples.stagingFile(writer).orElse(null);
                for (long first = 0; first < n && failure == null; first += window) {
                    long count = Math.min(window, n - first);
                    Samples.copySamples(reader, first, count, writer);
                    // The copied window goes to the device now, while the digests run, rather than all in the
                    // commit's force at the end (docs/benchmarks.md: 0.3-0.4 s of a 575 MB poison).
                    staged = startWriteback(staged);
                    synchronized (this) {
                        copied = first + count;
                        notifyAll();
                    }
                }
            } catch (Throwable t) {
                fail(t);
            }
        }

        /**
         * Starts the staged file's write-back; returns the file, or null once the platform has no such call or
         * the system refused it (a hint only: the commit's force still writes everything and reports a failing
         * device, so the stream goes on without hints).
         */
        private static Path startWriteback(Path staged) {
            if (staged == null) {
                return null;
            }
            try {
                return FileSystemSync.startWriteback(staged) ? staged : null;
            } catch (IOException e) {
                return null;
            }
        }

        private void readAll() {
            try {
                for (long first = 0; first < n; first += per) {
                    ByteBuffer b = take(free);
                    if (b == null) {
                        return;
                    }
                    int count = (int) Math.min(per, n - first);
                    b.clear();
                    b.limit((int) (count * sampleBytes));
                    reader.readSamples(first, count, b);
                    b.flip();
                    read.add(b);
                }
            } catch (Throwable t) {
                fail(t);
            }
        }

        private void stampAll() throws IOException, InterruptedException {
            int next = 0;
            for (long first = 0; first < n && failure == null; first += per) {
                int count = (int) Math.min(per, n - first);
                long end = first + count;
                while (next < stamped.length && stamped[next] < first) {
                    next++;
                }
                // The chosen rows of this chunk span [lo, hi); only they are mapped and stamped.
                long lo = next < stamped.length && stamped[next] < end ? stamped[next] : -1;
                long hi = lo;
                while (next < stamped.length && stamped[next] < end) {
                    hi = stamped[next] + 1;
                    next++;
                }
                ByteBuffer inBytes = in == null ? null : take(read);
                if (in != null && inBytes == null) {
                    return;
                }
                if (lo >= 0) {
                    if (!awaitCopied(hi)) {
                        return;
                    }
                    ByteBuffer window = Samples.mapWritten(writer, lo, hi - lo, sampleBytes);
                    try {
                        stamper.stamp(window.duplicate().order(ByteOrder.LITTLE_ENDIAN), lo, (int) (hi - lo));
                        if (out != null) {
                            // The output: the input's bytes before and after the span, the stamped span between.
                            int from = (int) ((lo - first) * sampleBytes);
                            int to = (int) ((hi - first) * sampleBytes);
                            ByteBuffer before = inBytes.duplicate().limit(from);
                            StreamDigest.updateBoth(in, before, out, before.duplicate());
                            StreamDigest.updateBoth(in, inBytes.duplicate().limit(to).position(from), out,
                                    window.duplicate());
                            ByteBuffer after = inBytes.duplicate().position(to);
                            StreamDigest.updateBoth(in, after, out, after.duplicate());
                        }
                    } finally {
                        Samples.unmap(window);
                    }
                } else if (out != null) {
                    // Not stamped: the output's bytes are the input's.
                    StreamDigest.updateBoth(in, inBytes.duplicate(), out, inBytes.duplicate());
                }
                if (inBytes != null) {
                    free.add(inBytes);
                }
                progress.update("stamping", Math.min(end, copiedSoFar()), n);
            }
            awaitCopied(n);
            progress.update("stamping", n, n);
        }

        private synchronized long copiedSoFar() {
            return copied;
        }

        /** Waits until the copy has passed sample {@code end}; false once a stage failed. */
        private synchronized boolean awaitCopied(long end) throws InterruptedException {
            while (copied < end && failure == null) {
                wait(50);
            }
            return failure == null;
        }
    }

    /**
     * What the reader, stamping and writer threads of one stream share: the first failure of any of them
     * (later ones are suppressed into it), which makes every stage stop at its next check.
     */
    private abstract static class Stages {
        volatile Throwable failure;

        /** Records a stage's failure and wakes the stages waiting on this stream. */
        final void fail(Throwable t) {
            synchronized (this) {
                if (failure == null) {
                    failure = t;
                } else if (failure != t) {
                    failure.addSuppressed(t);
                }
                notifyAll();
            }
        }

        /** Waits for a stage's thread to end; an interrupt fails the stream and is kept for the caller. */
        final void join(Thread t) {
            boolean interrupted = false;
            while (t.isAlive()) {
                try {
                    t.join();
                } catch (InterruptedException e) {
                    interrupted = true;
                    fail(new InterruptedIOException("interrupted while streaming samples"));
                }
            }
            if (interrupted) {
                Thread.currentThread().interrupt();
            }
        }

        /** Takes from a queue, giving up (null) once a stage failed. */
        final <T> T take(BlockingQueue<T> q) throws InterruptedException {
            while (failure == null) {
                T v = q.poll(50, TimeUnit.MILLISECONDS);
                if (v != null) {
                    return v;
                }
            }
            return null;
        }
    }

    /** Rethrows a stage's failure as the stream's: I/O and unchecked as they are, others wrapped. */
    private static void rethrow(Throwable t) throws IOException {
        if (t instanceof IOException e) {
            throw e;
        }
        if (t instanceof RuntimeException e) {
            throw e;
        }
        if (t instanceof Error e) {
            throw e;
        }
        if (t instanceof InterruptedException) {
            Thread.currentThread().interrupt();
            throw new InterruptedIOException("interrupted while streaming samples");
        }
        if (t != null) {
            throw new IOException("streaming samples failed: " + t, t);
        }
    }

    /** One chunk in flight; buffer is null for a copied segment. */
    private record Item(Segment segment, ByteBuffer buffer) {}

    /** Marks the end of the stream in a queue. */
    private static final Item END = new Item(null, null);

    /** The three stages and their queues. The first failure stops every stage and is rethrown. */
    private static final class Pipeline extends Stages {
        private final Samples.Reader reader;
        private final Samples.Writer writer;
        private final List<Segment> plan;
        private final StreamDigest in;
        private final StreamDigest out;
        private final Stamper stamper;
        private final Progress progress;
        private final long n;
        private final BlockingQueue<ByteBuffer> free;
        private final BlockingQueue<Item> read;
        private final BlockingQueue<Item> done;

        Pipeline(Samples.Reader reader, Samples.Writer writer, List<Segment> plan, int buffers, int bufferBytes,
                StreamDigest in, StreamDigest out, Stamper stamper, Progress progress, long n) {
            this.reader = reader;
            this.writer = writer;
            this.plan = plan;
            this.in = in;
            this.out = out;
            this.stamper = stamper;
            this.progress = progress;
            this.n = n;
            boolean anyRead = plan.stream().anyMatch(s -> !s.copy());
            free = new ArrayBlockingQueue<>(buffers);
            for (int b = 0; anyRead && b < buffers; b++) {
                free.add(ByteBuffer.allocateDirect(bufferBytes).order(ByteOrder.LITTLE_ENDIAN));
            }
            // Copied segments hold no buffer, so they are bounded apart from the pool.
            read = new ArrayBlockingQueue<>(plan.size() + 1);
            done = new ArrayBlockingQueue<>(plan.size() + 1);
        }

        void run() throws IOException {
            Thread readerThread = new Thread(this::readAll, "dyepack-stream-read");
            Thread writerThread = new Thread(this::writeAll, "dyepack-stream-write");
            readerThread.setDaemon(true);
            writerThread.setDaemon(true);
            readerThread.start();
            writerThread.start();
            try {
                stampAll();
            } catch (Throwable t) {
                fail(t);
            }
            join(readerThread);
            join(writerThread);
            rethrow(failure);
        }

        private void readAll() {
            try {
                for (Segment s : plan) {
                    if (s.copy()) {
                        read.add(new Item(s, null));
                        continue;
                    }
                    ByteBuffer b = take(free);
                    if (b == null) {
                        return;
                    }
                    b.clear();
                    b.limit((int) (s.count() * reader.sampleBytes()));
                    reader.readSamples(s.first(), (int) s.count(), b);
                    b.flip();
                    if (in != null) {
                        in.update(b.duplicate());
                    }
                    read.add(new Item(s, b));
                }
                read.add(END);
            } catch (Throwable t) {
                fail(t);
            }
        }

        private void stampAll() throws IOException, InterruptedException {
            while (true) {
                Item item = take(read);
                if (item == null) {
                    return;
                }
                if (item.buffer() != null) {
                    stamper.stamp(item.buffer().duplicate().order(ByteOrder.LITTLE_ENDIAN), item.segment().first(),
                            (int) item.segment().count());
                }
                done.add(item);
                if (item == END) {
                    return;
                }
            }
        }

        private void writeAll() {
            try {
                while (true) {
                    Item item = take(done);
                    if (item == null || item == END) {
                        return;
                    }
                    Segment s = item.segment();
                    if (item.buffer() == null) {
                        Samples.copySamples(reader, s.first(), s.count(), writer);
                    } else {
                        ByteBuffer b = item.buffer();
                        if (out != null) {
                            out.update(b.duplicate());
                        }
                        writer.write(b);
                        free.add(b);
                    }
                    progress.update("stamping", s.first() + s.count(), n);
                }
            } catch (Throwable t) {
                fail(t);
            }
        }
    }
}
