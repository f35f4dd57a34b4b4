package dev.dyepack.io;

import dev.dyepack.InvalidArgumentException;
import dev.dyepack.InvalidInputException;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * Datasets of samples, .npy or IDX (plain or gzip) array files and image folders
 * ({@link ImageFolder}), behind one interface, so the jobs stream any of them and write their output
 * in the input's format. Data reaches callers as the bytes of a little-endian C-order array with the
 * dtype {@link Reader#descr()}; an image folder reads as uint8 (N, H, W, C).
 */
public final class Samples {
    private Samples() {}

    /** A streaming reader of samples (the first dimension). */
    public interface Reader extends AutoCloseable {
        /** @return the NumPy dtype string of the elements ({@code "|u1"}, {@code "<f4"}, ...) */
        String descr();

        /** @return the array's shape; shape[0] is the number of samples */
        long[] shape();

        /** @return bytes per sample */
        long sampleBytes();

        /**
         * Reads samples [first, first + count) into dst at its position, advancing it.
         *
         * @param first the first sample
         * @param count how many
         * @param dst   the destination, with room for count * sampleBytes() bytes
         * @throws InvalidInputException if the file is truncated or changed
         */
        void readSamples(long first, int count, ByteBuffer dst);

        /** @return "npy", "idx" or "folder" */
        String format();

        @Override
        void close();
    }

    /** A writer of a complete array, in a temporary file moved into place on commit. */
    public interface Writer extends AutoCloseable {
        /**
         * Appends little-endian element bytes.
         *
         * @param src the bytes between position and limit
         * @throws IOException on a write failure
         */
        void write(ByteBuffer src) throws IOException;

        /**
         * Checks the size and moves the file into place.
         *
         * @throws IOException on a failure (nothing is left under the final name)
         */
        void commit() throws IOException;

        @Override
        void close() throws IOException;
    }

    /**
     * Opens a dataset: a directory as an {@link ImageFolder} (its natural channel count), a file as
     * IDX when it has IDX's magic (gzip or not) and as .npy otherwise.
     *
     * @param file the file or folder
     * @return the reader
     * @throws InvalidInputException if it is none of these, or unusable
     */
    public static Reader open(Path file) {
        if (file != null && Files.isDirectory(file)) {
            return ImageFolder.scan(file);
        }
        return Idx.isIdx(file) ? IdxReader.open(file) : NpyReader.open(file);
    }

    /**
     * Creates a writer of the same format as an input file: .npy, or IDX (gzip when the input is).
     *
     * @param out   the final path
     * @param like  the input whose format to mirror
     * @param descr the NumPy dtype of the output
     * @param shape the output's shape
     * @return the writer
     * @throws IOException if the temporary file cannot be created
     * @throws InvalidInputException if the dtype has no IDX type
     */
    public static Writer create(Path out, Path like, String descr, long[] shape) throws IOException {
        if (Idx.isIdx(like)) {
            boolean gzip;
            try (IdxReader r = IdxReader.open(like)) {
                gzip = r.isGzip();
            }
            return IdxWriter.create(out, idxType(descr), shape, gzip);
        }
        return NpyWriter.create(out, descr, shape);
    }

    /**
     * Copies samples {@code [first, first + count)} from a reader to a writer unchanged, as
     * {@code readSamples} followed by {@code write} would. When both are uncompressed files of the same
     * format ({@code .npy} to {@code .npy}, plain IDX to plain IDX) the bytes are copied inside the
     * kernel and never pass through the JVM; otherwise through a buffer of at most 8 MiB.
     *
     * @param from  the reader
     * @param first the first sample
     * @param count how many samples
     * @param to    the writer, which appends them
     * @throws InvalidArgumentException if the range runs past the reader's samples or is negative
     * @throws InvalidInputException    if the input is truncated or cannot be read
     * @throws IllegalStateException    if the writer is closed, committed or would pass its size
     * @throws IOException              if writing fails
     */
    public static void copySamples(Reader from, long first, long count, Writer to) throws IOException {
        long samples = from.shape().length == 0 ? 1 : from.shape()[0];
        if (first < 0 || count < 0 || first > samples || count > samples - first) {
            throw new InvalidArgumentException("samples " + first + ".." + (first + count - 1)
                    + " are not within the " + samples + " samples of the input");
        }
        long sampleBytes = from.sampleBytes();
        if (from instanceof NpyReader r && to instanceof NpyWriter w) {
            w.transferFrom(r.channel(), r.header().dataOffset() + first * sampleBytes, count * sampleBytes, r.name());
            return;
        }
        if (from instanceof IdxReader r && to instanceof IdxWriter w && !r.isGzip() && !w.isGzip()) {
            w.transferFrom(r.channel(), r.headerBytes().length + first * sampleBytes, count * sampleBytes, r.name());
            return;
        }
        int per = (int) Math.max(1, Math.min(count, (8L << 20) / Math.max(sampleBytes, 1)));
        java.nio.ByteBuffer buf = java.nio.ByteBuffer.allocate((int) (per * sampleBytes));
        for (long at = first; at < first + count; at += per) {
            int n = (int) Math.min(per, first + count - at);
            buf.clear();
            buf.limit((int) (n * sampleBytes));
            from.readSamples(at, n, buf);
            buf.flip();
            to.write(buf);
        }
    }

    /**
     * Whether {@link #copySamples} copies between these two inside the kernel, reading nothing through
     * the reader's own state (so it may run beside positional reads of the same reader on another thread).
     *
     * @param from the reader
     * @param to   the writer
     * @return true for {@code .npy} to {@code .npy} and plain IDX to plain IDX
     */
    public static boolean copiesInKernel(Reader from, Writer to) {
        return (from instanceof NpyReader && to instanceof NpyWriter)
                || (from instanceof IdxReader r && to instanceof IdxWriter w && !r.isGzip() && !w.isGzip());
    }

    /**
     * Asks a writer that will be fed only by {@link Writer#write} to write around the page cache where it can
     * ({@link NpyWriter#writeAroundCache}); other writers go on as they are.
     *
     * @param to the writer, before any data is written to it
     * @return whether its data will be written directly
     */
    public static boolean writeAroundCache(Writer to) {
        return to instanceof NpyWriter w && w.writeAroundCache();
    }

    /**
     * The file a writer is filling before its commit moves it into place, where the writer is a plain file
     * ({@code .npy}, uncompressed IDX), so that a job may start its write-back early
     * ({@code FileSystemSync.startWriteback}).
     *
     * @param to the writer
     * @return its staging file, or empty for other writers
     */
    public static java.util.Optional<Path> stagingFile(Writer to) {
        if (to instanceof NpyWriter w) {
            return java.util.Optional.of(w.tempPath());
        }
        if (to instanceof IdxWriter w && !w.isGzip()) {
            return java.util.Optional.of(w.tempPath());
        }
        return java.util.Optional.empty();
    }

    /**
     * Whether samples copied from this reader to this writer by {@link #copySamples} can then be changed
     * in place through {@link #mapWritten}: both are uncompressed files of the same format whose bytes are
     * the samples' bytes as {@link Reader#readSamples} delivers them ({@code .npy}, plain IDX of 1-byte
     * elements; wider IDX elements are stored big-endian).
     *
     * @param from the reader
     * @param to   the writer
     * @return true when {@link #mapWritten} may be used after {@link #copySamples}
     */
    public static boolean stampsInPlace(Reader from, Writer to) {
        return copiesInKernel(from, to) && rawPrefix(to).isPresent()
                && (from instanceof NpyReader || from instanceof IdxReader r && r.elementSize() == 1);
    }

    /**
     * Maps samples {@code [first, first + count)} that the writer already holds (copied or written),
     * read-write and little-endian, so a job can stamp them in place after copying the whole file inside
     * the kernel, instead of passing every byte through the JVM. The mapping is the file's own pages: what
     * is changed through it is in the file, and reaches the disk with the writer's commit (which forces
     * the file). Only where {@link #stampsInPlace} holds; release the mapping with {@link #unmap}.
     *
     * @param to          the writer
     * @param first       the first sample
     * @param count       how many samples
     * @param sampleBytes bytes per sample
     * @return the samples' bytes, position 0, limit their size
     * @throws InvalidArgumentException if the writer's format cannot be changed in place
     * @throws IllegalStateException    if the writer is closed or committed, or the samples are not written yet
     * @throws IOException              if mapping fails
     */
    public static java.nio.ByteBuffer mapWritten(Writer to, long first, long count, long sampleBytes)
            throws IOException {
        java.nio.MappedByteBuffer m;
        if (to instanceof NpyWriter w) {
            m = w.mapWritten(first * sampleBytes, count * sampleBytes);
        } else if (to instanceof IdxWriter w && !w.isGzip() && w.elementSize() == 1) {
            m = w.mapWritten(first * sampleBytes, count * sampleBytes);
        } else {
            throw new InvalidArgumentException("samples of this output cannot be changed in place: " + to);
        }
        return m.order(java.nio.ByteOrder.LITTLE_ENDIAN);
    }

    /**
     * Releases a mapping from {@link #mapWritten} now rather than when it is collected, so that a job
     * that maps a large file window by window keeps only one window mapped. The buffer must not be used
     * afterwards. Where the JDK offers no way to do it, the mapping is released by the garbage collector.
     *
     * @param mapped a buffer from {@link #mapWritten}, or null (then nothing happens)
     */
    public static void unmap(java.nio.ByteBuffer mapped) {
        if (mapped == null || !mapped.isDirect()) {
            return;
        }
        Unmapper.release(mapped);
    }

    /** The JDK's {@code sun.misc.Unsafe.invokeCleaner}, looked up once; absent on JDKs without it. */
    private static final class Unmapper {
        private static final java.lang.invoke.MethodHandle CLEANER = find();

        private static java.lang.invoke.MethodHandle find() {
            try {
                Class<?> unsafeClass = Class.forName("sun.misc.Unsafe");
                java.lang.reflect.Field f = unsafeClass.getDeclaredField("theUnsafe");
                f.setAccessible(true);
                Object unsafe = f.get(null);
                return java.lang.invoke.MethodHandles.lookup()
                        .findVirtual(unsafeClass, "invokeCleaner",
                                java.lang.invoke.MethodType.methodType(void.class, java.nio.ByteBuffer.class))
                        .bindTo(unsafe);
            } catch (ReflectiveOperationException | RuntimeException e) {
                return null;
            }
        }

        static void release(java.nio.ByteBuffer mapped) {
            if (CLEANER == null) {
                return;
            }
            try {
                CLEANER.invokeExact(mapped);
            } catch (RuntimeException e) {
                // A view or slice has no cleaner of its own: it is released with the buffer it came from.
            } catch (Throwable e) {
                throw new IllegalStateException("releasing a file mapping failed", e);
            }
        }
    }

    /**
     * The bytes a reader's file holds before sample 0, when the file is exactly those bytes followed by
     * the samples' bytes as {@link Reader#readSamples} delivers them: a {@code .npy} file, or a plain IDX
     * file of 1-byte elements (wider IDX elements are stored big-endian, so their bytes differ). Lets a
     * job compute the file's SHA-256 from the samples it streams anyway, instead of reading it again.
     *
     * @param r the reader
     * @return the prefix, or empty when the file's bytes are not the samples' (gzip, wide IDX, folders)
     */
    public static java.util.Optional<byte[]> rawPrefix(Reader r) {
        if (r instanceof NpyReader npy) {
            byte[] head = new byte[(int) npy.header().dataOffset()];
            try {
                Npy.readFully(npy.channel(), java.nio.ByteBuffer.wrap(head), 0, npy.name());
            } catch (IOException e) {
                throw new InvalidInputException(npy.name() + ": cannot read: " + e, e);
            }
            return java.util.Optional.of(head);
        }
        if (r instanceof IdxReader idx && !idx.isGzip() && idx.elementSize() == 1) {
            return java.util.Optional.of(idx.headerBytes());
        }
        return java.util.Optional.empty();
    }

    /**
     * The bytes a writer's file will hold before the data, when the file will be exactly those bytes
     * followed by the bytes given to {@link Writer#write}: as {@link #rawPrefix(Reader)}, for the output.
     *
     * @param w the writer
     * @return the prefix, or empty when the file's bytes are not the data's (gzip, wide IDX, folders)
     */
    public static java.util.Optional<byte[]> rawPrefix(Writer w) {
        if (w instanceof NpyWriter npy) {
            return java.util.Optional.of(npy.prefixBytes());
        }
        if (w instanceof IdxWriter idx && !idx.isGzip() && idx.elementSize() == 1) {
            return java.util.Optional.of(idx.prefixBytes());
        }
        return java.util.Optional.empty();
    }

    private static int idxType(String descr) {
        return switch (descr) {
            case "|u1", "<u1", "u1" -> Idx.UINT8;
            case "|i1", "<i1", "i1" -> Idx.INT8;
            case "<i2" -> Idx.INT16;
            case "<i4" -> Idx.INT32;
            case "<f4" -> Idx.FLOAT32;
            case "<f8" -> Idx.FLOAT64;
            default -> throw new InvalidInputException("dtype " + descr + " has no IDX type");
        };
    }

    /**
     * Reads integer labels of a rank-1 .npy or IDX file.
     *
     * @param file the labels
     * @return one value per sample
     * @throws InvalidInputException if the file is not a rank-1 integer array
     */
    public static long[] labels(Path file) {
        return Idx.isIdx(file) ? Idx.readLabels(file) : Npy.readIntegers(file);
    }
}
