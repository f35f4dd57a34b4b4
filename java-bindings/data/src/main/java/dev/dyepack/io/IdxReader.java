package dev.dyepack.io;

import dev.dyepack.InvalidArgumentException;
import dev.dyepack.InvalidInputException;

import java.io.EOFException;
import java.io.IOException;
import java.io.InputStream;
import java.nio.ByteBuffer;
import java.nio.channels.Channels;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.Arrays;
import java.util.zip.GZIPInputStream;
import java.util.zip.ZipException;

/**
 * Reads samples of an IDX file (see {@link Idx}), plain or gzip-compressed, without loading the
 * whole array. A sample is one entry along the first axis: for shape {@code (N, 28, 28)} one 28x28
 * image, for a rank-1 file one element.
 *
 * <p>Multi-byte elements are stored big-endian in the file and handed out little-endian, so a
 * caller gets exactly the data bytes of a {@code .npy} file of dtype {@link #npyDescr()} and the
 * same shape.
 *
 * <p>Validation is eager, so that corrupt input is refused before any output is written: a plain
 * file's length must be exactly header plus data; a gzip file is decompressed once, completely, when
 * it is opened, and its decompressed length and gzip checksums (CRC-32 and length trailer) are
 * checked. That costs one decompression pass (Fashion-MNIST's training images, 26 MB compressed and
 * 47 MB decompressed, take a fraction of a second) and no memory beyond a 64 KiB buffer.
 *
 * <p>Access: a plain file is read with positional reads, any order costs the same. A gzip stream
 * cannot seek: reading forward skips by decompressing, and reading a sample before the current
 * stream position re-opens the stream and decompresses from the start again. Read gzip files in
 * ascending order of samples, as a dataset pass does.
 *
 * <p>Not thread-safe: a gzip reader keeps a stream position.
 */
public final class IdxReader implements Samples.Reader {
    private final Path file;
    private final String name;
    private final boolean gzip;
    private final int type;
    private final int elementSize;
    private final long[] shape;
    private final long sampleBytes;
    private final long dataBytes;
    /** The header bytes as first read; a re-opened gzip stream must start with the same. */
    private final byte[] header;
    /** The open file of a plain reader; null for gzip. */
    private final FileChannel channel;
    /** The gzip stream, positioned {@link #streamPos} bytes into the data; null until needed. */
    private InputStream stream;
    private long streamPos;
    private byte[] scratch;
    private boolean closed;

    private IdxReader(Path file, boolean gzip, Header h, FileChannel channel) {
        this.file = file;
        this.name = file.toString();
        this.gzip = gzip;
        this.type = h.type;
        this.elementSize = Idx.elementSize(h.type);
        this.shape = h.shape;
        this.sampleBytes = Idx.sampleBytes(h.shape, elementSize); // cannot overflow: checked with the total
        this.dataBytes = h.dataBytes;
        this.header = h.bytes;
        this.channel = channel;
    }

    /** A parsed, checked header. */
    private static final class Header {
        final int type;
        final long[] shape;
        final long dataBytes;
        final byte[] bytes;

        Header(int type, long[] shape, long dataBytes, byte[] bytes) {
            this.type = type;
            this.shape = shape;
            this.dataBytes = dataBytes;
            this.bytes = bytes;
        }

        /** "16-byte header + shape (10, 28, 28) of uint8 = 7840 data bytes", for messages. */
        String describe() {
            return bytes.length + "-byte header + shape " + Npy.shapeString(shape) + " of " + Idx.typeName(type)
                    + " = " + dataBytes + " data bytes";
        }

        long totalBytes() {
            return bytes.length + dataBytes;
        }
    }

    /**
     * Opens an IDX file and checks it completely (see the class comment for what that costs for
     * gzip files).
     *
     * @param file a plain or gzip-compressed IDX file; gzip is recognised by its magic bytes
     * @return an open reader; close it
     * @throws InvalidArgumentException if {@code file} is null
     * @throws InvalidInputException    if the file cannot be read, does not start with the IDX magic
     *                                  ("not an IDX file"), has an unknown element type, a rank of 0
     *                                  or over {@link Idx#MAX_RANK}, a negative dimension, a zero
     *                                  dimension other than the first, a size that overflows 64 bits,
     *                                  a length that differs from what the header says ("truncated"
     *                                  or "trailing bytes"), or is a corrupt or truncated gzip
     *                                  stream; the message names the file
     */
    public static IdxReader open(Path file) {
        if (file == null) {
            throw new InvalidArgumentException("file must not be null");
        }
        boolean gzip;
        try {
            gzip = Idx.isGzip(file);
        } catch (IOException e) {
            throw new InvalidInputException(file + ": cannot open: " + e, e);
        }
        return gzip ? openGzip(file) : openPlain(file);
    }

    private static IdxReader openPlain(Path file) {
        String name = file.toString();
        FileChannel ch;
        try {
            ch = FileChannel.open(file, StandardOpenOption.READ);
        } catch (IOException e) {
            throw new InvalidInputException(file + ": cannot open: " + e, e);
        }
        try {
            // Not closed: closing it would close the channel, which the reader keeps.
            Header h = readHeader(Channels.newInputStream(ch), name, "the file");
            long size = ch.size();
            if (size != h.totalBytes()) {
                String says = "header says " + h.totalBytes() + " bytes (" + h.describe() + "), the file holds " + size;
                throw new InvalidInputException(name + ": "
                        + (size < h.totalBytes() ? "truncated: " + says : says + " (trailing bytes)"));
            }
            return new IdxReader(file, false, h, ch);
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

    private static IdxReader openGzip(Path file) {
        String name = file.toString();
        Header h;
        long held;
        try (InputStream in = new GZIPInputStream(Files.newInputStream(file), Idx.CHUNK)) {
            h = readHeader(in, name, "the decompressed gzip stream");
            // Reading to the end makes GZIPInputStream check the CRC-32 and length trailer.
            held = skipToEnd(in, h.dataBytes);
        } catch (IOException e) {
            throw gzipFailure(name, e);
        }
        if (held > h.dataBytes) {
            throw new InvalidInputException(name + ": header says " + h.totalBytes() + " bytes (" + h.describe()
                    + "), the decompressed gzip stream holds more than that (trailing bytes)");
        }
        if (held != h.dataBytes) {
            String says = "header says " + h.totalBytes() + " bytes (" + h.describe()
                    + "), the decompressed gzip stream holds " + (h.bytes.length + held);
            throw new InvalidInputException(name + ": "
                    + (held < h.dataBytes ? "truncated: " + says : says + " (trailing bytes)"));
        }
        return new IdxReader(file, true, h, null);
    }

    /**
     * Counts the bytes left in {@code in}, stopping as soon as they exceed {@code declared}: a small
     * gzip file that inflates to far more than its header declares is refused then, not after
     * inflating all of it.
     */
    private static long skipToEnd(InputStream in, long declared) throws IOException {
        byte[] buf = new byte[Idx.CHUNK];
        long n = 0;
        for (int r; (r = in.read(buf)) >= 0; ) {
            n += r;
            if (n > declared) {
                return n;
            }
        }
        return n;
    }

    /** Maps a failure of a gzip stream to a message that says what is wrong with the file. */
    private static InvalidInputException gzipFailure(String name, IOException e) {
        if (e instanceof ZipException || e instanceof EOFException) {
            return new InvalidInputException(name + ": " + gzipProblem(e), e);
        }
        return new InvalidInputException(name + ": cannot read: " + e, e);
    }

    /** What a {@link ZipException} or {@link EOFException} from a gzip stream says about the file. */
    private static String gzipProblem(IOException e) {
        if (e instanceof EOFException) {
            return "truncated gzip stream: the compressed data ends early (" + e.getMessage() + ")";
        }
        return "corrupt gzip stream: " + e.getMessage();
    }

    /**
     * Reads and checks the magic and dimensions from the start of {@code in}.
     *
     * @param what "the file" or "the decompressed gzip stream", for messages
     */
    private static Header readHeader(InputStream in, String name, String what) throws IOException {
        byte[] magic = in.readNBytes(4);
        if (magic.length == 0) {
            throw new InvalidInputException(name + ": not an IDX file (" + what + " is empty)");
        }
        if (magic.length < 2 || magic[0] != 0 || magic[1] != 0) {
            boolean npy = magic.length >= 2 && (magic[0] & 0xff) == 0x93 && magic[1] == 'N';
            throw new InvalidInputException(name + ": not an IDX file (expected the magic 00 00 <type> <rank>,"
                    + " found " + hex(magic) + ")" + (npy ? "; it looks like a .npy file" : ""));
        }
        if (magic.length < 4) {
            throw new InvalidInputException(name + ": truncated header: " + what + " holds only " + magic.length
                    + " bytes");
        }
        int type = magic[2] & 0xff;
        if (!Idx.isSupported(type)) {
            throw new InvalidInputException(name + ": " + Idx.unknownType(type));
        }
        int rank = magic[3] & 0xff;
        if (rank == 0 || rank > Idx.MAX_RANK) {
            throw new InvalidInputException(name + ": unsupported IDX rank " + rank + " (supported: 1 to "
                    + Idx.MAX_RANK + ")");
        }
        byte[] dims = in.readNBytes(4 * rank);
        if (dims.length < 4 * rank) {
            throw new InvalidInputException(name + ": truncated header: rank " + rank + " needs " + (4 + 4 * rank)
                    + " header bytes but " + what + " holds only " + (4 + dims.length));
        }
        long[] shape = new long[rank];
        for (int i = 0; i < rank; i++) {
            int d = (dims[4 * i] & 0xff) << 24 | (dims[4 * i + 1] & 0xff) << 16 | (dims[4 * i + 2] & 0xff) << 8
                    | (dims[4 * i + 3] & 0xff);
            if (d < 0) {
                throw new InvalidInputException(name + ": negative dimension " + d + " at axis " + i);
            }
            // An empty file (no samples) is fine; an empty sample would make sizes meaningless.
            if (d == 0 && i > 0) {
                throw new InvalidInputException(name + ": dimension 0 at axis " + i
                        + " (only the first dimension, the sample count, may be 0)");
            }
            shape[i] = d;
        }
        byte[] bytes = new byte[4 + 4 * rank];
        System.arraycopy(magic, 0, bytes, 0, 4);
        System.arraycopy(dims, 0, bytes, 4, dims.length);
        long data = NpyHeader.byteSize(shape, Idx.elementSize(type));
        if (data < 0 || data > Long.MAX_VALUE - bytes.length) {
            throw new InvalidInputException(name + ": size overflow: shape " + Npy.shapeString(shape) + " of "
                    + Idx.typeName(type) + " holds more bytes than a 64-bit size can count");
        }
        return new Header(type, shape, data, bytes);
    }

    private static String hex(byte[] b) {
        StringBuilder sb = new StringBuilder();
        for (byte x : b) {
            sb.append(sb.length() == 0 ? "" : " ").append(String.format("%02x", x & 0xff));
        }
        return sb.toString();
    }

    /** @return the file this reader reads */
    public Path file() {
        return file;
    }

    /** @return whether the file is gzip-compressed */
    public boolean isGzip() {
        return gzip;
    }

    /** @return the open file of a plain reader (null for gzip), for copies inside the kernel */
    FileChannel channel() {
        return channel;
    }

    /** @return the header bytes, a copy: a plain file's first bytes */
    byte[] headerBytes() {
        return header.clone();
    }

    /** @return the name for messages */
    String name() {
        return name;
    }

    /** @return the IDX type code, one of {@link Idx#UINT8} .. {@link Idx#FLOAT64} */
    public int type() {
        return type;
    }

    /** @return bytes per element: 1, 2, 4 or 8 */
    public int elementSize() {
        return elementSize;
    }

    /**
     * @return the {@code .npy} dtype string of the bytes {@link #readSamples} produces:
     *         {@code "|u1"}, {@code "|i1"}, {@code "<i2"}, {@code "<i4"}, {@code "<f4"} or {@code "<f8"}
     */
    public String npyDescr() {
        return Idx.npyDescr(type);
    }

    @Override
    public String descr() {
        return npyDescr();
    }

    @Override
    public String format() {
        return "idx";
    }

    /** @return the dimensions, outermost first (a copy) */
    @Override
    public long[] shape() {
        return shape.clone();
    }

    /** @return the number of samples, {@code shape()[0]} */
    public long samples() {
        return shape[0];
    }

    /** @return bytes per sample: the product of {@code shape()[1:]} times {@link #elementSize()} */
    @Override
    public long sampleBytes() {
        return sampleBytes;
    }

    /** @return the data bytes of the whole array, header excluded (the decompressed size for gzip) */
    public long dataBytes() {
        return dataBytes;
    }

    /**
     * Copies samples {@code first .. first+count-1} into {@code dst} at its position, little-endian,
     * and advances the position by {@code count * sampleBytes()}. On failure the position is
     * unchanged and the bytes after it are unspecified. For gzip files, a {@code first} before the
     * end of the previous read re-opens and decompresses the stream from the start.
     *
     * @param first index of the first sample, 0-based
     * @param count number of samples, may be 0
     * @param dst   a writable heap or direct buffer with at least {@code count * sampleBytes()} bytes
     *              remaining; its byte order does not matter
     * @throws InvalidArgumentException if {@code first} or {@code count} is negative, the range runs
     *                                  past {@link #samples()}, {@code dst} is null or read-only, or
     *                                  it has too little room
     * @throws InvalidInputException    if the file cannot be read any more or has changed since it
     *                                  was opened (shorter, different header, corrupt gzip data)
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
        long samples = shape[0];
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
        long bytes = count * sampleBytes; // <= dataBytes, so no overflow
        if (bytes > dst.remaining()) {
            throw new InvalidArgumentException(count + " samples need " + bytes + " bytes but dst has only "
                    + dst.remaining() + " remaining");
        }
        int start = dst.position();
        int end = start + (int) bytes;
        ByteBuffer window = dst.duplicate();
        window.limit(end);
        long offset = first * sampleBytes;
        try {
            if (gzip) {
                readGzip(offset, window);
            } else {
                Npy.readFully(channel, window, header.length + offset, name);
            }
        } catch (IOException e) {
            throw new InvalidInputException(name + ": cannot read: " + e, e);
        }
        Idx.swapBytes(dst, start, end, elementSize);
        dst.position(end);
    }

    /** Fills {@code window} with the data bytes from {@code offset} on, re-opening if it lies behind. */
    private void readGzip(long offset, ByteBuffer window) throws IOException {
        if (!window.hasRemaining()) {
            return;
        }
        if (scratch == null) {
            scratch = new byte[Idx.CHUNK];
        }
        try {
            if (stream == null || offset < streamPos) {
                reopen();
            }
            while (streamPos < offset) {
                int r = stream.read(scratch, 0, (int) Math.min(scratch.length, offset - streamPos));
                if (r < 0) {
                    throw changed("the decompressed data ended at byte " + streamPos + " of " + dataBytes);
                }
                streamPos += r;
            }
            while (window.hasRemaining()) {
                int r = stream.read(scratch, 0, Math.min(scratch.length, window.remaining()));
                if (r < 0) {
                    throw changed("the decompressed data ended at byte " + streamPos + " of " + dataBytes);
                }
                window.put(scratch, 0, r);
                streamPos += r;
            }
        } catch (ZipException | EOFException e) {
            dropStream(e);
            throw new InvalidInputException(name + ": the file changed since it was opened: " + gzipProblem(e), e);
        } catch (IOException | RuntimeException e) {
            // The stream's position is no longer known; the next read starts over.
            dropStream(e);
            throw e;
        }
    }

    private void reopen() throws IOException {
        dropStream(null);
        InputStream raw = Files.newInputStream(file);
        try {
            stream = new GZIPInputStream(raw, Idx.CHUNK);
        } catch (IOException | RuntimeException e) {
            try {
                raw.close();
            } catch (IOException suppressed) {
                e.addSuppressed(suppressed);
            }
            throw e;
        }
        streamPos = 0;
        byte[] again = stream.readNBytes(header.length);
        if (!Arrays.equals(again, header)) {
            throw changed("its header is not the one read when it was opened");
        }
    }

    private InvalidInputException changed(String what) {
        return new InvalidInputException(name + ": the file changed since it was opened: " + what);
    }

    private void dropStream(Exception primary) {
        if (stream == null) {
            return;
        }
        try {
            stream.close();
        } catch (IOException e) {
            if (primary != null) {
                primary.addSuppressed(e);
            }
        } finally {
            stream = null;
        }
    }

    /** Closes the file. A second call does nothing. */
    @Override
    public void close() {
        if (closed) {
            return;
        }
        closed = true;
        try {
            if (channel != null) {
                channel.close();
            }
        } catch (IOException e) {
            // A read-only channel has nothing to flush, so a failing close loses no data.
        }
        dropStream(null);
    }
}
