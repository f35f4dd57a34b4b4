package dev.dyepack.io;

import com.sun.nio.file.ExtendedOpenOption;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;

/**
 * A file's bytes written around the page cache ({@code O_DIRECT}): gathered into aligned buffers and written as
 * whole blocks at block-aligned offsets by two background threads while the caller fills the next buffer. On the
 * development machine's virtual disk, writing 575 MB this way took 0.50-0.78 s, about what {@code cp} + {@code sync}
 * took in the same minutes, where writing it through the page cache and forcing it took 0.9-2.9 s, the page cache's
 * write-back being what varied (docs/benchmarks.md). The last block is padded, and {@link #finish} cuts the file
 * to its size and forces it. Not thread-safe: one writer.
 */
final class DirectWrites implements AutoCloseable {
    /** Bytes per buffer: large enough for the disk to stream, small enough to stay a few of them. */
    static final int BUFFER_BYTES = 8 << 20;
    /** One being filled, two being written. */
    private static final int BUFFERS = 3;

    private final FileChannel channel;
    private final int align;
    private final ExecutorService io;
    private final BlockingQueue<ByteBuffer> free = new ArrayBlockingQueue<>(BUFFERS);
    private final List<Future<?>> pending = new ArrayList<>();
    private ByteBuffer stage;
    private long stageAt;
    private boolean closed;

    private DirectWrites(FileChannel channel, int align) {
        this.channel = channel;
        this.align = align;
        this.io = Executors.newFixedThreadPool(BUFFERS - 1, r -> {
            Thread t = new Thread(r, "dyepack-direct-write");
            t.setDaemon(true);
            return t;
        });
        for (int i = 0; i < BUFFERS; i++) {
            free.add(ByteBuffer.allocateDirect(BUFFER_BYTES + align).alignedSlice(align));
        }
    }

    /**
     * Opens {@code file} for direct writes, its content to start with {@code prefix}, or returns null where its file
     * system does not take them (then the file is as it was, apart from its first block, which holds {@code prefix}
     * and zeros when the probe write succeeded but a later step did not).
     *
     * @param file   an existing file, written from offset 0
     * @param prefix the file's first bytes (at most one buffer)
     * @return the writer, or null
     */
    static DirectWrites open(Path file, byte[] prefix) {
        int align;
        try {
            long block = Files.getFileStore(file).getBlockSize();
            if (block < 512 || block > (1 << 20) || Long.bitCount(block) != 1 || prefix.length > BUFFER_BYTES) {
                return null;
            }
            align = (int) block;
        } catch (IOException | UnsupportedOperationException e) {
            return null;
        }
        FileChannel ch;
        try {
            ch = FileChannel.open(file, StandardOpenOption.WRITE, ExtendedOpenOption.DIRECT);
        } catch (IOException | UnsupportedOperationException | IllegalArgumentException e) {
            return null;
        }
        DirectWrites d = new DirectWrites(ch, align);
        try {
            // Some file systems open for direct writes and refuse them: the first block, written now, finds out.
            d.stage = d.free.take();
            d.stage.put(prefix);
            ByteBuffer first = d.stage.duplicate().clear().limit(align);
            while (first.hasRemaining()) {
                ch.write(first, first.position());
            }
            return d;
        } catch (IOException | RuntimeException e) {
            d.close();
            return null;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            d.close();
            return null;
        }
    }

    /**
     * Appends bytes.
     *
     * @param src the bytes between position and limit (consumed)
     * @throws IOException if an earlier buffer's write failed, naming it
     */
    void write(ByteBuffer src) throws IOException {
        while (src.hasRemaining()) {
            int k = Math.min(src.remaining(), stage.remaining());
            ByteBuffer part = src.duplicate();
            part.limit(part.position() + k);
            stage.put(part);
            src.position(src.position() + k);
            if (!stage.hasRemaining()) {
                submit();
            }
        }
    }

    /** Hands the full (or last) buffer to the writers, padded to whole blocks, and takes the next free one. */
    private void submit() throws IOException {
        ByteBuffer s = stage;
        long at = stageAt;
        int length = s.position();
        int padded = (length + align - 1) / align * align;
        while (s.position() < padded) {
            s.put((byte) 0);
        }
        s.flip();
        stageAt += length;
        pending.add(io.submit(() -> {
            try {
                long p = at;
                while (s.hasRemaining()) {
                    p += channel.write(s, p);
                }
            } finally {
                // Back to the pool even after a failure, so that the caller never waits for a buffer that
                // will not come; it finds the failure in check().
                s.clear();
                free.add(s);
            }
            return null;
        }));
        check(false);
        try {
            stage = free.take();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IOException("interrupted while writing", e);
        }
        check(false);
    }

    /** Rethrows the first failed write; waits for every write when {@code all}. */
    private void check(boolean all) throws IOException {
        for (var it = pending.iterator(); it.hasNext(); ) {
            Future<?> f = it.next();
            if (!all && !f.isDone()) {
                continue;
            }
            try {
                f.get();
                it.remove();
            } catch (ExecutionException e) {
                Throwable c = e.getCause();
                throw c instanceof IOException io ? io : new IOException("direct write failed: " + c, c);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new IOException("interrupted while writing", e);
            }
        }
    }

    /**
     * Writes what is left, waits for every write, cuts the file to {@code size} and forces it to the device.
     *
     * @param size the file's length: the prefix and every byte appended
     * @throws IOException if a write, the cut or the force fails
     */
    void finish(long size) throws IOException {
        if (stage.position() > 0) {
            submit();
        }
        check(true);
        if (stageAt != size) {
            throw new IllegalStateException("wrote " + stageAt + " bytes directly, the file's size is " + size);
        }
        channel.truncate(size);
        channel.force(true);
        close();
    }

    /** Stops the writers and closes the channel; a second call does nothing. */
    @Override
    public void close() {
        if (closed) {
            return;
        }
        closed = true;
        io.shutdownNow();
        try {
            channel.close();
        } catch (IOException ignored) {
            // Closing after a failure: the failure is what the caller reports.
        }
    }
}
