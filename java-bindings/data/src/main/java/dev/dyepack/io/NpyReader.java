package dev.dyepack.io;

import dev.dyepack.InvalidArgumentException;
import dev.dyepack.InvalidInputException;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;

/**
 * Reads samples of a {@code .npy} file in place, without loading the whole array.
 *
 * <p>A sample is one entry along the first axis: for shape {@code (N, H, W)} a sample is an
 * {@code H*W} image, for a rank-1 array one element. A 0-d array counts as one sample of one element.
 * Bytes are copied as stored (little-endian); nothing is converted.
 *
 * <p>Thread-safety: reads are positional and share no file pointer, so several threads may call
 * {@link #readSamples} at once (each with its own buffer); {@link #close()} must not race them.
 */
public final class NpyReader implements Samples.Reader {
    private final FileChannel channel;
    private final String name;
    private final NpyHeader header;
    private final long samples;
    private final long sampleBytes;
    private volatile boolean closed;

    private NpyReader(FileChannel channel, String name, NpyHeader header) {
        this.channel = channel;
        this.name = name;
        this.header = header;
        long[] shape = header.shape();
        this.samples = shape.length == 0 ? 1 : shape[0];
        long perSample = header.elementSize();
        for (int i = 1; i < shape.length; i++) {
            perSample *= shape[i]; // cannot overflow: the header's total size fits in a long
        }
        this.sampleBytes = perSample;
    }

    /**
     * Opens a {@code .npy} file and checks its header and length.
     *
     * @param file the file to read
     * @return an open reader; close it
     * @throws InvalidInputException if the file cannot be read or is not a supported, complete
     *                               {@code .npy} file (see {@link Npy#readHeader(Path)})
     */
    public static NpyReader open(Path file) {
        FileChannel ch;
        try {
            ch = FileChannel.open(file, StandardOpenOption.READ);
        } catch (IOException e) {
            throw new InvalidInputException(file + ": cannot open: " + e, e);
        }
        try {
            return new NpyReader(ch, file.toString(), Npy.readHeader(ch, file.toString()));
        } catch (IOException | RuntimeException e) {
            try {
                ch.close();
            } catch (IOException suppressed) {
                e.addSuppressed(suppressed);
            }
            if (e instanceof RuntimeException) {
                throw (RuntimeException) e;
            }
            throw new InvalidInputException(file + ": cannot read: " + e, e);
        }
    }

    /** @return the open file, for copies inside the kernel; owned by this reader */
    FileChannel channel() {
        return channel;
    }

    /** @return the name for messages */
    String name() {
        return name;
    }

    /** @return the header, as checked when the file was opened */
    public NpyHeader header() {
        return header;
    }

    @Override
    public String descr() {
        return header.descr();
    }

    @Override
    public long[] shape() {
        return header.shape();
    }

    @Override
    public String format() {
        return "npy";
    }

    /** @return the number of samples: {@code shape[0]}, or 1 for a 0-d array */
    public long samples() {
        return samples;
    }

    /** @return bytes per sample: the product of {@code shape[1:]} times the element size */
    @Override
    public long sampleBytes() {
        return sampleBytes;
    }

    /**
     * Copies samples {@code first .. first+count-1} into {@code dst} at its position and advances
     * the position by {@code count * sampleBytes()}. On failure the position is unchanged and the
     * bytes after it are unspecified.
     *
     * @param first index of the first sample, 0-based
     * @param count number of samples, may be 0
     * @param dst   a writable heap or direct buffer with at least {@code count * sampleBytes()} bytes
     *              remaining
     * @throws InvalidArgumentException if {@code first} or {@code count} is negative, the range runs
     *                                  past {@link #samples()}, {@code dst} is null or read-only, or
     *                                  it has too little room
     * @throws InvalidInputException    if the file cannot be read or has become shorter than its
     *                                  header says ("truncated")
     * @throws IllegalStateException    if the reader is closed
     */
    @Override
    public void readSamples(long first, int count, ByteBuffer dst) {
        if (closed) {
            throw new IllegalStateException(name + ": reader is closed");
        }
        if (first < 0 || count < 0) {
            throw new InvalidArgumentException("first (" + first + ") and count (" + count + ") must be non-negative");
        }
        if (first > samples || count > samples - first) {
            throw new InvalidArgumentException("samples " + first + ".." + (first + count - 1) + " run past the end of "
                    + name + ", which holds " + samples + " samples");
        }
        if (dst == null) {
            throw new InvalidArgumentException("dst must not be null");
        }
        if (dst.isReadOnly()) {
            throw new InvalidArgumentException("dst is read-only");
        }
        long bytes = count * sampleBytes; // <= the file's data size, so no overflow
        if (bytes > dst.remaining()) {
            throw new InvalidArgumentException(count + " samples need " + bytes + " bytes but dst has only "
                    + dst.remaining() + " remaining");
        }
        ByteBuffer window = dst.duplicate();
        window.limit(window.position() + (int) bytes);
        try {
            Npy.readFully(channel, window, header.dataOffset() + first * sampleBytes, name);
        } catch (IOException e) {
            throw new InvalidInputException(name + ": cannot read: " + e, e);
        }
        dst.position(window.position());
    }

    /** Closes the file. A second call does nothing. */
    @Override
    public void close() {
        if (closed) {
            return;
        }
        closed = true;
        try {
            channel.close();
        } catch (IOException e) {
            // A read-only channel has nothing to flush, so a failing close loses no data.
        }
    }
}
