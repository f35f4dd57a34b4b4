package dev.dyepack.io;

import dev.dyepack.InvalidArgumentException;
import dev.dyepack.io.AtomicFiles;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;

/**
 * Writes a {@code .npy} file that appears under its final name only when complete.
 *
 * <p>The data goes to a temporary file {@code .<final-name>.<random>.tmp} in the same directory;
 * {@link #commit()} checks the size, forces it to disk and renames it over the final name
 * atomically where the file system allows. {@link #close()} without a successful commit deletes the
 * temporary file, so a failure leaves no half-written file under either name. Use it as
 * {@code try (NpyWriter w = NpyWriter.create(...)) { w.write(...); w.commit(); }}.
 *
 * <p>The header is format version 1.0 (2.0 only if it would not fit in 65535 bytes), padded so the
 * data starts at a multiple of 64 bytes, as {@code numpy.save} does. The caller supplies the data
 * bytes in C order and in the dtype's byte order (little-endian).
 *
 * <p>Not thread-safe.
 */
public final class NpyWriter implements Samples.Writer {
    /** Data start alignment, NumPy's {@code ARRAY_ALIGN}. */
    private static final int ALIGN = 64;


    private final Path finalPath;
    private final Path tempPath;
    private final FileChannel channel;
    private final NpyHeader header;
    /** The bytes before the data: the file is these followed by exactly the data bytes written. */
    private final byte[] headerBytes;
    private long written;
    private DirectWrites direct;
    private boolean committed;
    private boolean closed;

    private NpyWriter(Path finalPath, Path tempPath, FileChannel channel, NpyHeader header, byte[] headerBytes) {
        this.headerBytes = headerBytes;
        this.finalPath = finalPath;
        this.tempPath = tempPath;
        this.channel = channel;
        this.header = header;
    }

    /**
     * Creates the temporary file and writes the header.
     *
     * @param finalPath where the file appears on {@link #commit()}; its directory must exist. An
     *                  existing file there is replaced on commit, not before.
     * @param descr     a supported dtype string, e.g. {@code "|u1"}, {@code "<f4"}, {@code "<i8"}
     * @param shape     the dimensions, outermost first; empty for a 0-d array
     * @return an open writer; close it
     * @throws InvalidArgumentException if an argument is null, the dtype is not supported (see
     *                                  {@link Npy}), a dimension is negative, or the size overflows
     * @throws IOException              if the temporary file cannot be created or written
     */
    public static NpyWriter create(Path finalPath, String descr, long[] shape) throws IOException {
        if (finalPath == null || shape == null) {
            throw new InvalidArgumentException("finalPath and shape must not be null");
        }
        Npy.requireSupported(descr);
        if (shape.length > Npy.MAX_RANK) {
            throw new InvalidArgumentException("shape has " + shape.length + " dimensions, more than " + Npy.MAX_RANK);
        }
        byte[] head = headerBytes(descr, shape);
        // Validates the shape (negative dimensions, overflow) before anything touches the disk.
        NpyHeader header = new NpyHeader(descr, false, shape, head.length, Npy.elementSize(descr));

        Path temp = newTempFile(finalPath);
        FileChannel ch;
        try {
            ch = FileChannel.open(temp, StandardOpenOption.READ, StandardOpenOption.WRITE);
        } catch (IOException | RuntimeException e) {
            try {
                Files.deleteIfExists(temp);
            } catch (IOException suppressed) {
                e.addSuppressed(suppressed);
            }
            throw e;
        }
        NpyWriter w = new NpyWriter(finalPath, temp, ch, header, head);
        try {
            ByteBuffer b = ByteBuffer.wrap(head);
            while (b.hasRemaining()) {
                ch.write(b);
            }
        } catch (IOException | RuntimeException e) {
            w.closeQuietly(e);
            throw e;
        }
        return w;
    }

    /**
     * Creates an empty file {@code .<name>.<random>.tmp} next to {@code finalPath}, with the default
     * permissions (unlike {@link Files#createTempFile}, which makes it owner-only). Being in the same
     * directory lets the final rename be atomic.
     */
    static Path newTempFile(Path finalPath) throws IOException {
        try {
            return AtomicFiles.newTempFile(finalPath);
        } catch (IllegalArgumentException e) {
            throw new InvalidArgumentException(e.getMessage());
        }
    }

    /**
     * The header bytes NumPy's {@code numpy.save} writes for a C-order array of this dtype and shape:
     * magic, version 1.0 (2.0 only when the text would not fit in 65535 bytes), length, and the
     * dictionary text padded with spaces and a newline so that the data starts at a multiple of 64.
     * A {@code .npy} file is these bytes followed by the elements in C order, little-endian.
     *
     * @param descr a supported dtype such as {@code "<f4"} or {@code "|u1"} (not checked here)
     * @param shape the dimensions, outermost first
     * @return a new array holding the header
     * @throws NullPointerException if an argument is null
     */
    public static byte[] headerBytes(String descr, long[] shape) {
        String dict = "{'descr': '" + descr + "', 'fortran_order': False, 'shape': " + Npy.shapeString(shape) + ", }";
        int version = 1;
        int preamble = Npy.PREAMBLE_V1;
        int total = aligned(preamble + dict.length() + 1);
        if (total - preamble > 0xffff) {
            version = 2;
            preamble = Npy.PREAMBLE_V2;
            total = aligned(preamble + dict.length() + 1);
        }
        int textLength = total - preamble;
        ByteBuffer b = ByteBuffer.allocate(total).order(ByteOrder.LITTLE_ENDIAN);
        b.put(Npy.MAGIC).put((byte) version).put((byte) 0);
        if (version == 1) {
            b.putShort((short) textLength);
        } else {
            b.putInt(textLength);
        }
        b.put(dict.getBytes(StandardCharsets.ISO_8859_1));
        while (b.position() < total - 1) {
            b.put((byte) ' ');
        }
        b.put((byte) '\n');
        return b.array();
    }

    private static int aligned(int n) {
        return n + (ALIGN - n % ALIGN) % ALIGN;
    }

    /** @return the header of the file being written, its {@code dataOffset} included */
    public NpyHeader header() {
        return header;
    }

    /** @return the data bytes written so far (not counting the header) */
    public long bytesWritten() {
        return written;
    }

    /** @return the temporary file the data goes to until {@link #commit()} */
    public Path tempPath() {
        return tempPath;
    }

    /**
     * Appends all remaining bytes of {@code src}, advancing its position to its limit.
     *
     * @param src the next data bytes
     * @throws InvalidArgumentException if {@code src} is null
     * @throws IllegalStateException    if the writer is closed or committed, or the bytes would go
     *                                  past the size the header announces (then nothing is written)
     * @throws IOException              if writing fails
     */
    @Override
    public void write(ByteBuffer src) throws IOException {
        requireOpen();
        if (src == null) {
            throw new InvalidArgumentException("src must not be null");
        }
        if (src.remaining() > header.dataBytes() - written) {
            throw new IllegalStateException(finalPath + ": writing " + src.remaining() + " more bytes after " + written
                    + " would exceed the " + header.dataBytes() + " data bytes of shape " + header.shapeString()
                    + " of " + header.descr());
        }
        if (direct != null) {
            int n = src.remaining();
            direct.write(src);
            written += n;
            return;
        }
        while (src.hasRemaining()) {
            written += channel.write(src);
        }
    }

    /**
     * Writes the data from here on around the page cache ({@code O_DIRECT}), where the file system of the file
     * takes direct writes: gathered into aligned buffers and written whole by background threads while the caller
     * goes on, nothing left for {@link #commit()}'s force to write back (see {@link DirectWrites}). For a writer fed
     * only by {@link #write}; {@link #transferFrom} and {@link #mapWritten} are then refused. The bytes of the file
     * are the same either way. Off when the system property {@code dyepack.directWrites} is {@code false}.
     *
     * @return whether the data will be written directly (false: through the page cache, as without this call)
     * @throws IllegalStateException if the writer is closed or committed, or data was written already
     */
    public boolean writeAroundCache() {
        requireOpen();
        if (written != 0) {
            throw new IllegalStateException(finalPath + ": direct writes must be chosen before any data is written");
        }
        if (direct == null && !"false".equals(System.getProperty("dyepack.directWrites"))) {
            direct = DirectWrites.open(tempPath, headerBytes);
        }
        return direct != null;
    }

    /** @return the bytes the file holds before its data (its header), a copy */
    byte[] prefixBytes() {
        return headerBytes.clone();
    }

    /**
     * Appends {@code count} bytes of another file, from {@code position}, inside the kernel (the bytes do
     * not pass through the JVM), as {@link #write} would append them.
     *
     * @throws IllegalStateException if the writer is closed or committed, or the bytes would go past the
     *                               data size (then nothing is written)
     * @throws IOException           if reading or writing fails, or the source ends early
     */
    void transferFrom(FileChannel src, long position, long count, String srcName) throws IOException {
        requireOpen();
        requireBuffered();
        if (count > header.dataBytes() - written) {
            throw new IllegalStateException(finalPath + ": copying " + count + " more bytes after " + written
                    + " would exceed the " + header.dataBytes() + " data bytes of shape " + header.shapeString()
                    + " of " + header.descr());
        }
        written += Npy.transferFully(src, position, count, channel, srcName);
    }

    /**
     * Maps data bytes already written, read-write, so that they can be changed in place (see
     * {@link Samples#mapWritten}); the changes reach the disk with {@link #commit()}'s force.
     *
     * @throws IllegalStateException if the writer is closed or committed, or the range is not written yet
     * @throws IOException           if mapping fails
     */
    java.nio.MappedByteBuffer mapWritten(long offset, long length) throws IOException {
        requireOpen();
        requireBuffered();
        if (offset < 0 || length < 0 || offset + length > written) {
            throw new IllegalStateException(finalPath + ": bytes " + offset + ".." + (offset + length)
                    + " are not written yet (" + written + " are)");
        }
        return channel.map(FileChannel.MapMode.READ_WRITE, headerBytes.length + offset, length);
    }

    /**
     * Completes the file: checks that exactly {@code header().dataBytes()} bytes were written,
     * forces the data to disk, and renames the temporary file to the final name (atomically, or by
     * replacing where the file system cannot rename atomically). If this throws, the temporary file
     * is deleted and the writer is closed; nothing appears under the final name.
     *
     * @throws IllegalStateException if the writer is closed or committed, or the byte count is wrong
     * @throws IOException           if forcing or renaming fails
     */
    @Override
    public void commit() throws IOException {
        requireOpen();
        try {
            if (written != header.dataBytes()) {
                throw new IllegalStateException(finalPath + ": " + written + " data bytes were written but shape "
                        + header.shapeString() + " of " + header.descr() + " needs " + header.dataBytes());
            }
            if (direct != null) {
                direct.finish(headerBytes.length + written);
            }
            channel.force(true);
            channel.close();
            AtomicFiles.moveIntoPlace(tempPath, finalPath);
            committed = true;
            closed = true;
        } catch (IOException | RuntimeException e) {
            closeQuietly(e);
            throw e;
        }
    }


    /**
     * Abandons an uncommitted file: closes and deletes the temporary file. After a commit, or a
     * second time, it does nothing.
     *
     * @throws IOException if the temporary file cannot be deleted
     */
    @Override
    public void close() throws IOException {
        if (closed) {
            return;
        }
        closed = true;
        try {
            if (direct != null) {
                direct.close();
            }
            channel.close();
        } finally {
            Files.deleteIfExists(tempPath);
        }
    }

    private void requireBuffered() {
        if (direct != null) {
            throw new IllegalStateException(finalPath + ": the data is written directly; only write() appends to it");
        }
    }

    private void closeQuietly(Exception primary) {
        try {
            close();
        } catch (IOException | RuntimeException e) {
            primary.addSuppressed(e);
        }
    }

    private void requireOpen() {
        if (committed) {
            throw new IllegalStateException(finalPath + ": already committed");
        }
        if (closed) {
            throw new IllegalStateException(finalPath + ": writer is closed");
        }
    }
}
