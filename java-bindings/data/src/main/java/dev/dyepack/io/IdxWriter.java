package dev.dyepack.io;

import dev.dyepack.InvalidArgumentException;
import dev.dyepack.io.AtomicFiles;
import java.io.BufferedOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.Channels;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.zip.GZIPOutputStream;

/**
 * Writes an IDX file (see {@link Idx}), plain or gzip-compressed, that appears under its final name
 * only when complete.
 *
 * <p>The data goes to a temporary file {@code .<final-name>.<random>.tmp} in the same directory;
 * {@link #commit()} checks the byte count, finishes the gzip stream, forces the file to disk and
 * renames it over the final name atomically where the file system allows. {@link #close()} without
 * a successful commit deletes the temporary file, so a failure leaves no half-written file under
 * either name. Use it as
 * {@code try (IdxWriter w = IdxWriter.create(...)) { w.write(...); w.commit(); }}.
 *
 * <p>The caller supplies elements little-endian, as in a {@code .npy} file of dtype
 * {@link Idx#npyDescr(int)}; they are stored big-endian as IDX requires. To mirror an input file,
 * pass {@link IdxReader#isGzip()} as {@code gzip}. The gzip header carries no time stamp or file
 * name, so the same data always gives the same bytes.
 *
 * <p>Not thread-safe.
 */
public final class IdxWriter implements Samples.Writer {
    private final Path finalPath;
    private final Path tempPath;
    private final FileChannel channel;
    /** The stream into {@link #channel}: buffered, and gzip on top if asked for. */
    private final OutputStream out;
    private final int type;
    private final int elementSize;
    private final long[] shape;
    private final long dataBytes;
    /** The header bytes; the file is these followed by the data, unless it is gzip-compressed. */
    private final byte[] header;
    private final boolean gzip;
    private final byte[] scratch = new byte[Idx.CHUNK];
    private long written;
    private boolean committed;
    private boolean closed;

    private IdxWriter(Path finalPath, Path tempPath, FileChannel channel, OutputStream out, int type, long[] shape,
                      long dataBytes, byte[] header, boolean gzip) {
        this.header = header;
        this.gzip = gzip;
        this.finalPath = finalPath;
        this.tempPath = tempPath;
        this.channel = channel;
        this.out = out;
        this.type = type;
        this.elementSize = Idx.elementSize(type);
        this.shape = shape;
        this.dataBytes = dataBytes;
    }

    /**
     * Creates the temporary file and writes the header.
     *
     * @param finalPath where the file appears on {@link #commit()}; its directory must exist. An
     *                  existing file there is replaced on commit, not before.
     * @param type      an IDX type code, {@link Idx#UINT8} .. {@link Idx#FLOAT64}
     * @param shape     the dimensions, outermost first: 1 to {@link Idx#MAX_RANK} of them, each at
     *                  most {@link Integer#MAX_VALUE}; only the first may be 0
     * @param gzip      whether to gzip-compress the file
     * @return an open writer; close it
     * @throws InvalidArgumentException if an argument is null, the type is unknown, the rank is out
     *                                  of range, a dimension is negative, too large for IDX's 32-bit
     *                                  field, or 0 other than the first, or the size overflows
     * @throws IOException              if the temporary file cannot be created or written
     */
    public static IdxWriter create(Path finalPath, int type, long[] shape, boolean gzip) throws IOException {
        if (finalPath == null || shape == null) {
            throw new InvalidArgumentException("finalPath and shape must not be null");
        }
        int size = Idx.elementSize(type);
        long[] dims = shape.clone();
        if (dims.length == 0 || dims.length > Idx.MAX_RANK) {
            throw new InvalidArgumentException("an IDX shape needs 1 to " + Idx.MAX_RANK + " dimensions, got "
                    + dims.length);
        }
        for (int i = 0; i < dims.length; i++) {
            if (dims[i] < 0 || dims[i] > Integer.MAX_VALUE || dims[i] == 0 && i > 0) {
                throw new InvalidArgumentException("dimension " + dims[i] + " at axis " + i + " of shape "
                        + Npy.shapeString(dims) + " is not allowed in IDX (0 to " + Integer.MAX_VALUE
                        + ", and only the first may be 0)");
            }
        }
        long data = NpyHeader.byteSize(dims, size);
        if (data < 0 || data > Long.MAX_VALUE - 4 - 4 * Idx.MAX_RANK) {
            throw new InvalidArgumentException("shape " + Npy.shapeString(dims) + " of " + Idx.typeName(type)
                    + " overflows a 64-bit size");
        }
        ByteBuffer head = ByteBuffer.allocate(4 + 4 * dims.length).order(ByteOrder.BIG_ENDIAN);
        head.put((byte) 0).put((byte) 0).put((byte) type).put((byte) dims.length);
        for (long d : dims) {
            head.putInt((int) d);
        }

        Path temp = NpyWriter.newTempFile(finalPath);
        FileChannel ch = null;
        OutputStream stream = null;
        try {
            ch = FileChannel.open(temp, StandardOpenOption.READ, StandardOpenOption.WRITE);
            stream = new BufferedOutputStream(Channels.newOutputStream(ch), Idx.CHUNK);
            if (gzip) {
                stream = new Gzip(stream, Idx.CHUNK);
            }
            stream.write(head.array());
        } catch (IOException | RuntimeException e) {
            if (stream instanceof Gzip) {
                ((Gzip) stream).release();
            }
            try {
                if (ch != null) {
                    ch.close();
                }
            } catch (IOException suppressed) {
                e.addSuppressed(suppressed);
            }
            try {
                Files.deleteIfExists(temp);
            } catch (IOException suppressed) {
                e.addSuppressed(suppressed);
            }
            throw e;
        }
        return new IdxWriter(finalPath, temp, ch, stream, type, dims, data, head.array(), gzip);
    }

    /** @return the IDX type code being written */
    public int type() {
        return type;
    }

    /** @return the dimensions being written (a copy) */
    public long[] shape() {
        return shape.clone();
    }

    /** @return the data bytes the shape needs (uncompressed, header excluded) */
    public long dataBytes() {
        return dataBytes;
    }

    /** @return the data bytes written so far (uncompressed, header excluded) */
    public long bytesWritten() {
        return written;
    }

    /** @return the temporary file the data goes to until {@link #commit()} */
    public Path tempPath() {
        return tempPath;
    }

    /**
     * Appends all remaining bytes of {@code src}, little-endian elements that are stored big-endian,
     * and advances its position to its limit. {@code src} itself is not modified.
     *
     * @param src the next data bytes: whole elements, so a multiple of {@link Idx#elementSize(int)}
     *            bytes; a heap or direct buffer of any byte order
     * @throws InvalidArgumentException if {@code src} is null or holds a partial element (then
     *                                  nothing is written)
     * @throws IllegalStateException    if the writer is closed or committed, or the bytes would go
     *                                  past the size of the shape (then nothing is written)
     * @throws IOException              if writing fails
     */
    @Override
    public void write(ByteBuffer src) throws IOException {
        requireOpen();
        if (src == null) {
            throw new InvalidArgumentException("src must not be null");
        }
        if (src.remaining() % elementSize != 0) {
            throw new InvalidArgumentException(src.remaining() + " bytes are not a whole number of "
                    + Idx.typeName(type) + " elements of " + elementSize + " bytes");
        }
        if (src.remaining() > dataBytes - written) {
            throw new IllegalStateException(finalPath + ": writing " + src.remaining() + " more bytes after " + written
                    + " would exceed the " + dataBytes + " data bytes of shape " + Npy.shapeString(shape) + " of "
                    + Idx.typeName(type));
        }
        ByteBuffer chunk = ByteBuffer.wrap(scratch);
        while (src.hasRemaining()) {
            int n = Math.min(scratch.length, src.remaining());
            src.get(scratch, 0, n);
            Idx.swapBytes(chunk, 0, n, elementSize);
            out.write(scratch, 0, n);
            written += n;
        }
    }

    /** @return whether the file is gzip-compressed */
    boolean isGzip() {
        return gzip;
    }

    /** @return the element size in bytes */
    int elementSize() {
        return elementSize;
    }

    /** @return the header bytes, a copy (the file's first bytes unless it is gzip-compressed) */
    byte[] prefixBytes() {
        return header.clone();
    }

    /**
     * Appends {@code count} bytes of a plain IDX file's data (stored big-endian, as this writer stores
     * them), from {@code position}, inside the kernel. Only for a writer that is not gzip-compressed.
     *
     * @throws IllegalStateException if the writer is gzip-compressed, closed or committed, or the bytes
     *                               would go past the data size (then nothing is written)
     * @throws IOException           if reading or writing fails, or the source ends early
     */
    void transferFrom(FileChannel src, long position, long count, String srcName) throws IOException {
        requireOpen();
        if (gzip) {
            throw new IllegalStateException(finalPath + ": a gzip stream cannot take raw bytes");
        }
        if (count > dataBytes - written) {
            throw new IllegalStateException(finalPath + ": copying " + count + " more bytes after " + written
                    + " would exceed the " + dataBytes + " data bytes of shape " + Npy.shapeString(shape) + " of "
                    + Idx.typeName(type));
        }
        // The buffered stream writes at the channel's position: empty it first, so the bytes keep their order.
        out.flush();
        written += Npy.transferFully(src, position, count, channel, srcName);
    }

    /**
     * Maps data bytes already written to a plain (not gzip) file, read-write, so that they can be changed
     * in place (see {@link Samples#mapWritten}); the changes reach the disk with {@link #commit()}'s force.
     *
     * @throws IllegalStateException if the writer is gzip-compressed, closed or committed, or the range
     *                               is not written yet
     * @throws IOException           if mapping fails
     */
    java.nio.MappedByteBuffer mapWritten(long offset, long length) throws IOException {
        requireOpen();
        if (gzip) {
            throw new IllegalStateException(finalPath + ": a gzip stream cannot be changed in place");
        }
        if (offset < 0 || length < 0 || offset + length > written) {
            throw new IllegalStateException(finalPath + ": bytes " + offset + ".." + (offset + length)
                    + " are not written yet (" + written + " are)");
        }
        out.flush();
        return channel.map(FileChannel.MapMode.READ_WRITE, header.length + offset, length);
    }

    /**
     * Completes the file: checks that exactly {@link #dataBytes()} bytes were written, finishes the
     * gzip stream, forces the data to disk, and renames the temporary file to the final name
     * (atomically, or by replacing where the file system cannot rename atomically). If this throws,
     * the temporary file is deleted and the writer is closed; nothing appears under the final name.
     *
     * @throws IllegalStateException if the writer is closed or committed, or the byte count is wrong
     * @throws IOException           if writing, forcing or renaming fails
     */
    @Override
    public void commit() throws IOException {
        requireOpen();
        try {
            if (written != dataBytes) {
                throw new IllegalStateException(finalPath + ": " + written + " data bytes were written but shape "
                        + Npy.shapeString(shape) + " of " + Idx.typeName(type) + " needs " + dataBytes);
            }
            if (out instanceof Gzip) {
                ((Gzip) out).finish();
            }
            out.flush();
            channel.force(true);
            channel.close();
            AtomicFiles.moveIntoPlace(tempPath, finalPath);
            committed = true;
            closed = true;
            releaseDeflater();
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
            channel.close();
        } finally {
            releaseDeflater();
            Files.deleteIfExists(tempPath);
        }
    }

    /** Frees the native zlib state now rather than when the garbage collector gets to it. */
    private void releaseDeflater() {
        if (out instanceof Gzip) {
            ((Gzip) out).release();
        }
    }

    /**
     * A gzip stream whose deflater can be freed without closing the stream, since closing would
     * try to write the trailer to a channel that is closed (after commit) or abandoned.
     */
    private static final class Gzip extends GZIPOutputStream {
        Gzip(OutputStream out, int size) throws IOException {
            super(out, size);
        }

        void release() {
            def.end();
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
