package dev.dyepack.io;

import dev.dyepack.InvalidArgumentException;
import dev.dyepack.InvalidInputException;

import java.io.EOFException;
import java.io.IOException;
import java.io.InputStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.zip.GZIPInputStream;
import java.util.zip.ZipException;

/**
 * The IDX format of the MNIST family of datasets (MNIST, Fashion-MNIST, KMNIST, EMNIST): the magic
 * {@code 00 00 <type> <rank>}, then {@code rank} big-endian 32-bit dimensions, then the elements in
 * C order and big-endian byte order. A file may be gzip-compressed as a whole; that is recognised by
 * the gzip magic {@code 1f 8b}, never by the file name.
 *
 * <p>Supported element types, with the {@code .npy} dtype whose little-endian bytes
 * {@link IdxReader#readSamples} produces: {@link #UINT8} {@code |u1}, {@link #INT8} {@code |i1},
 * {@link #INT16} {@code <i2}, {@link #INT32} {@code <i4}, {@link #FLOAT32} {@code <f4},
 * {@link #FLOAT64} {@code <f8}. Ranks 1 to {@link #MAX_RANK}; only the first dimension (the sample
 * count) may be 0.
 *
 * <p>See {@link IdxReader} and {@link IdxWriter}.
 */
public final class Idx {
    /** Type code of unsigned 8-bit elements. */
    public static final int UINT8 = 0x08;

    /** Type code of signed 8-bit elements. */
    public static final int INT8 = 0x09;

    /** Type code of signed big-endian 16-bit elements. */
    public static final int INT16 = 0x0B;

    /** Type code of signed big-endian 32-bit elements. */
    public static final int INT32 = 0x0C;

    /** Type code of big-endian IEEE 754 single-precision elements. */
    public static final int FLOAT32 = 0x0D;

    /** Type code of big-endian IEEE 754 double-precision elements. */
    public static final int FLOAT64 = 0x0E;

    /**
     * The highest rank accepted. Real files have rank 1 (labels) to 4 (colour images); the bound keeps
     * a corrupt rank byte from being taken for a huge header.
     */
    public static final int MAX_RANK = 8;

    /** Buffer size for streams and element conversion. */
    static final int CHUNK = 1 << 16;

    private Idx() {
    }

    /**
     * Tells whether a file is an IDX file, plain or gzip-compressed, from its first four (possibly
     * decompressed) bytes: {@code 00 00}, a supported type code, and a rank from 1 to
     * {@link #MAX_RANK}. Says nothing about the rest of the file; {@link IdxReader#open} checks that.
     *
     * @param file the file to look at
     * @return true if the file starts like an IDX file; false if it is shorter than that or starts
     *         otherwise (a {@code .npy} file, a text file, a gzip stream of something else)
     * @throws InvalidArgumentException if {@code file} is null
     * @throws InvalidInputException    if the file cannot be opened or read, or it is gzip data so
     *                                  corrupt that its first four bytes cannot be decompressed
     */
    public static boolean isIdx(Path file) {
        if (file == null) {
            throw new InvalidArgumentException("file must not be null");
        }
        try (InputStream in = openData(file)) {
            byte[] magic = in.readNBytes(4);
            return magic.length == 4 && magic[0] == 0 && magic[1] == 0 && isSupported(magic[2] & 0xff)
                    && magic[3] >= 1 && magic[3] <= MAX_RANK;
        } catch (ZipException e) {
            throw new InvalidInputException(file + ": corrupt gzip stream: " + e.getMessage(), e);
        } catch (EOFException e) {
            // A gzip stream that ends within its own header or first four bytes holds no IDX header.
            return false;
        } catch (IOException e) {
            throw new InvalidInputException(file + ": cannot read: " + e, e);
        }
    }

    /**
     * Reads a whole rank-1 integer IDX file, such as MNIST's {@code *-labels-idx1-ubyte(.gz)}.
     *
     * @param file a plain or gzip-compressed IDX file of rank 1 and type uint8, int8, int16 or int32
     * @return its values, widened to {@code long} (uint8 as 0..255, the others signed)
     * @throws InvalidArgumentException if {@code file} is null
     * @throws InvalidInputException    if the file is unusable (see {@link IdxReader#open}), its rank
     *                                  is not 1, its type is a float type, or it holds more values
     *                                  than a Java array can
     */
    public static long[] readLabels(Path file) {
        try (IdxReader r = IdxReader.open(file)) {
            if (r.shape().length != 1) {
                throw new InvalidInputException(file + ": expected a rank-1 IDX file of labels but the shape is "
                        + Npy.shapeString(r.shape()));
            }
            int type = r.type();
            if (type == FLOAT32 || type == FLOAT64) {
                throw new InvalidInputException(file + ": expected integer labels but the IDX type is "
                        + typeName(type));
            }
            long n = r.samples();
            if (n > Integer.MAX_VALUE - 8) {
                throw new InvalidInputException(file + ": " + n + " labels are more than a Java array holds");
            }
            long[] out = new long[(int) n];
            int size = elementSize(type);
            ByteBuffer chunk = ByteBuffer.allocate(CHUNK).order(ByteOrder.LITTLE_ENDIAN);
            int perChunk = CHUNK / size;
            for (int done = 0; done < out.length; ) {
                int count = Math.min(perChunk, out.length - done);
                chunk.clear();
                r.readSamples(done, count, chunk);
                chunk.flip();
                for (int i = 0; i < count; i++) {
                    switch (type) {
                        case UINT8:
                            out[done + i] = chunk.get() & 0xff;
                            break;
                        case INT8:
                            out[done + i] = chunk.get();
                            break;
                        case INT16:
                            out[done + i] = chunk.getShort();
                            break;
                        default:
                            out[done + i] = chunk.getInt();
                            break;
                    }
                }
                done += count;
            }
            return out;
        }
    }

    /**
     * The {@code .npy} dtype string whose bytes {@link IdxReader#readSamples} produces for a type.
     *
     * @param type an IDX type code
     * @return {@code "|u1"}, {@code "|i1"}, {@code "<i2"}, {@code "<i4"}, {@code "<f4"} or
     *         {@code "<f8"}
     * @throws InvalidArgumentException if {@code type} is not a supported type code
     */
    public static String npyDescr(int type) {
        switch (type) {
            case UINT8:
                return "|u1";
            case INT8:
                return "|i1";
            case INT16:
                return "<i2";
            case INT32:
                return "<i4";
            case FLOAT32:
                return "<f4";
            case FLOAT64:
                return "<f8";
            default:
                throw new InvalidArgumentException(unknownType(type));
        }
    }

    /**
     * Bytes per element of a type.
     *
     * @param type an IDX type code
     * @return 1, 2, 4 or 8
     * @throws InvalidArgumentException if {@code type} is not a supported type code
     */
    public static int elementSize(int type) {
        switch (type) {
            case UINT8:
            case INT8:
                return 1;
            case INT16:
                return 2;
            case INT32:
            case FLOAT32:
                return 4;
            case FLOAT64:
                return 8;
            default:
                throw new InvalidArgumentException(unknownType(type));
        }
    }

    /**
     * The NumPy-style name of a type, for messages.
     *
     * @param type an IDX type code
     * @return {@code "uint8"}, {@code "int8"}, {@code "int16"}, {@code "int32"}, {@code "float32"}
     *         or {@code "float64"}
     * @throws InvalidArgumentException if {@code type} is not a supported type code
     */
    public static String typeName(int type) {
        return Npy.dtypeName(npyDescr(type));
    }

    /** @return whether {@code type} is one of the six supported type codes */
    static boolean isSupported(int type) {
        return type == UINT8 || type == INT8 || type == INT16 || type == INT32 || type == FLOAT32 || type == FLOAT64;
    }

    static String unknownType(int type) {
        return String.format("unknown IDX element type 0x%02X (supported: 0x08 uint8, 0x09 int8, 0x0B int16,"
                + " 0x0C int32, 0x0D float32, 0x0E float64)", type);
    }

    /** @return whether the file starts with the gzip magic {@code 1f 8b} */
    static boolean isGzip(Path file) throws IOException {
        try (InputStream in = Files.newInputStream(file)) {
            byte[] head = in.readNBytes(2);
            return head.length == 2 && (head[0] & 0xff) == 0x1f && (head[1] & 0xff) == 0x8b;
        }
    }

    /** The file's bytes, decompressed if it starts with the gzip magic. The caller closes it. */
    static InputStream openData(Path file) throws IOException {
        boolean gzip = isGzip(file);
        InputStream raw = Files.newInputStream(file);
        if (!gzip) {
            return raw;
        }
        try {
            return new GZIPInputStream(raw, CHUNK);
        } catch (IOException | RuntimeException e) {
            try {
                raw.close();
            } catch (IOException suppressed) {
                e.addSuppressed(suppressed);
            }
            throw e;
        }
    }

    /**
     * Reverses the bytes of every {@code size}-byte element in {@code b} between absolute indices
     * {@code from} and {@code to}: big-endian to little-endian and back. Works on heap and direct
     * buffers; the position, limit and byte order of {@code b} do not matter and are not changed.
     */
    static void swapBytes(ByteBuffer b, int from, int to, int size) {
        switch (size) {
            case 1:
                return;
            case 2:
                for (int i = from; i < to; i += 2) {
                    b.putShort(i, Short.reverseBytes(b.getShort(i)));
                }
                return;
            case 4:
                for (int i = from; i < to; i += 4) {
                    b.putInt(i, Integer.reverseBytes(b.getInt(i)));
                }
                return;
            case 8:
                for (int i = from; i < to; i += 8) {
                    b.putLong(i, Long.reverseBytes(b.getLong(i)));
                }
                return;
            default:
                throw new IllegalArgumentException("element size " + size);
        }
    }

    /** {@code shape[1:]} product times the element size, or -1 on overflow. */
    static long sampleBytes(long[] shape, int elementSize) {
        long[] rest = new long[shape.length - 1];
        System.arraycopy(shape, 1, rest, 0, rest.length);
        return NpyHeader.byteSize(rest, elementSize);
    }
}
