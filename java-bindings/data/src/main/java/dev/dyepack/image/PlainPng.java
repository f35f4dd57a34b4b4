package dev.dyepack.image;

import java.util.zip.CRC32;
import java.util.zip.DataFormatException;
import java.util.zip.Deflater;
import java.util.zip.Inflater;

/**
 * A decoder for the commonest PNGs of image datasets, without ImageIO's per-image machinery (reader
 * lookup, stream wrappers, metadata, a {@code BufferedImage}): 8-bit gray or RGB, not interlaced, no
 * palette and no transparency, only chunks that do not change sample values. For those, the samples are
 * the file's own (PNG is lossless), exactly what the ImageIO path of {@link Images#decodeUint8} gives.
 * Anything else, or anything odd (a bad CRC, a short or overlong zlib stream, a missing {@code IEND}),
 * is declined with {@code null}, and the caller decodes through ImageIO, which also words every error.
 * The same files are written back with new samples by {@link #reencode} (a stamped image keeps every
 * chunk of its source but the image data), where ImageIO's writer cost several times as much per image.
 *
 * <p>Stateless and thread-safe.
 */
final class PlainPng {
    private static final long SIGNATURE = 0x89504E470D0A1A0AL;

    private PlainPng() {
    }

    /**
     * Decodes {@code png} as uint8 H x W x {@code channels}, or declines.
     *
     * @param png         the file's bytes
     * @param channels    1 or 3
     * @param wantWidth   the width required, or -1 for any
     * @param wantHeight  the height required, or -1 for any
     * @param pixelLimit  the most pixels allowed
     * @return the samples, or null when this decoder does not take the file (the caller then uses ImageIO)
     */
    static byte[] decode(byte[] png, int channels, int wantWidth, int wantHeight, long pixelLimit) {
        Layout l = layout(png, wantWidth, wantHeight, pixelLimit);
        if (l == null) {
            return null;
        }
        int width = l.width();
        int height = l.height();
        int colorChannels = l.channels();
        int idatBytes = l.idatBytes();
        int bpp = colorChannels;
        long rowBytes = (long) width * bpp;
        long raw = (rowBytes + 1) * height;
        if (raw > Integer.MAX_VALUE - 8) {
            return null;
        }
        byte[] stream = new byte[idatBytes];
        int put = 0;
        for (int at = l.firstIdat(); at < l.afterIdat(); ) {
            int length = readInt(png, at);
            System.arraycopy(png, at + 8, stream, put, length);
            put += length;
            at += 12 + length;
        }
        byte[] filtered = new byte[(int) raw];
        Inflater inflater = new Inflater();
        try {
            inflater.setInput(stream);
            int got = 0;
            while (got < filtered.length) {
                int n = inflater.inflate(filtered, got, filtered.length - got);
                if (n == 0 && (inflater.finished() || inflater.needsInput() || inflater.needsDictionary())) {
                    return null;
                }
                got += n;
            }
            // The stream must end exactly here, its checksum read and nothing after it.
            if (!inflater.finished()) {
                byte[] extra = new byte[1];
                if (inflater.inflate(extra) != 0 || !inflater.finished()) {
                    return null;
                }
            }
            if (inflater.getRemaining() != 0) {
                return null;
            }
        } catch (DataFormatException e) {
            return null;
        } finally {
            inflater.end();
        }
        byte[] samples = unfilter(filtered, width, height, bpp);
        if (samples == null) {
            return null;
        }
        return channels == colorChannels ? samples : colorChannels == 1 ? spread(samples) : null;
    }

    /**
     * Where the parts of a file this class takes lie.
     *
     * @param width       the image's width
     * @param height      its height
     * @param channels    1 (gray) or 3 (RGB)
     * @param idatBytes   the image data's length, all IDAT chunks together
     * @param firstIdat   where the first IDAT chunk starts
     * @param afterIdat   where the chunk after the last IDAT chunk starts
     * @param iend        where the IEND chunk starts
     * @param idatChunks  how many IDAT chunks there are
     * @param firstLength the first IDAT chunk's data length
     */
    private record Layout(int width, int height, int channels, int idatBytes, int firstIdat, int afterIdat, int iend,
            int idatChunks, int firstLength) {}

    /**
     * Walks and checks the chunks (every CRC, IHDR first, consecutive IDATs, only harmless others, IEND), or
     * declines with null.
     */
    private static Layout layout(byte[] png, int wantWidth, int wantHeight, long pixelLimit) {
        if (png.length < 8 + 25 + 12 || readLong(png, 0) != SIGNATURE) {
            return null;
        }
        int width = -1;
        int height = -1;
        int colorChannels = 0;
        int at = 8;
        boolean first = true;
        int idatBytes = 0;
        int firstIdat = -1;
        int afterIdat = -1;
        int idatChunks = 0;
        int firstLength = 0;
        CRC32 crc = new CRC32();
        while (at <= png.length - 12) {
            int length = readInt(png, at);
            int type = readInt(png, at + 4);
            if (length < 0 || length > png.length - at - 12) {
                return null;
            }
            crc.reset();
            crc.update(png, at + 4, 4 + length);
            if ((int) crc.getValue() != readInt(png, at + 8 + length)) {
                return null;
            }
            int data = at + 8;
            if (first) {
                if (type != 0x49484452 /* IHDR */ || length != 13) {
                    return null;
                }
                width = readInt(png, data);
                height = readInt(png, data + 4);
                int depth = png[data + 8] & 0xff;
                int colorType = png[data + 9] & 0xff;
                int compression = png[data + 10] & 0xff;
                int filter = png[data + 11] & 0xff;
                int interlace = png[data + 12] & 0xff;
                colorChannels = colorType == 0 ? 1 : colorType == 2 ? 3 : 0;
                if (depth != 8 || colorChannels == 0 || compression != 0 || filter != 0 || interlace != 0
                        || width < 1 || height < 1 || (long) width * height > pixelLimit
                        || (wantWidth >= 0 && (width != wantWidth || height != wantHeight))) {
                    return null;
                }
                first = false;
            } else if (type == 0x49444154 /* IDAT */) {
                if (idatChunks > 0 && afterIdat != at) {
                    return null;  // IDAT chunks must be consecutive
                }
                if (idatChunks == 0) {
                    firstIdat = at;
                    firstLength = length;
                }
                idatChunks++;
                afterIdat = at + 12 + length;
                idatBytes += length;
                if (idatBytes < 0) {
                    return null;
                }
            } else if (type == 0x49454E44 /* IEND */) {
                return idatBytes == 0 ? null : new Layout(width, height, colorChannels, idatBytes, firstIdat,
                        afterIdat, at, idatChunks, firstLength);
            } else if (!harmless(type)) {
                return null;
            }
            at += 12 + length;
        }
        return null;
    }

    /**
     * The file {@code png} with new samples: every chunk but the image data kept byte for byte and in its
     * place (text, time and pixel size included), the samples filtered row by row with the filter whose
     * output has the least sum of absolute values (the usual heuristic of PNG writers), deflated at zlib's
     * default level, and split into IDAT chunks as the source's were (each as long as the source's first
     * one when it had several). Declines with null where {@link #decode} would, or when {@code samples} is
     * not H x W x the file's own channel count.
     *
     * @param png        the source file's bytes
     * @param samples    the new samples, uint8 H x W x (1 for a gray file, 3 for RGB)
     * @param pixelLimit the most pixels allowed
     * @return the new file, or null (the caller then writes through ImageIO)
     */
    static byte[] reencode(byte[] png, byte[] samples, long pixelLimit) {
        Layout l = layout(png, -1, -1, pixelLimit);
        if (l == null || (long) l.width() * l.height() * l.channels() != samples.length
                || (long) samples.length + l.height() > (Integer.MAX_VALUE - 8) / 2) {
            return null;  // (the filtered rows and the deflated stream, which can outgrow them, must fit arrays)
        }
        byte[] filtered = filter(samples, l.width(), l.height(), l.channels());
        Deflater deflater = new Deflater(Deflater.DEFAULT_COMPRESSION);
        java.io.ByteArrayOutputStream z = new java.io.ByteArrayOutputStream(filtered.length / 2 + 64);
        try {
            deflater.setInput(filtered);
            deflater.finish();
            byte[] buffer = new byte[8192];
            while (!deflater.finished()) {
                int n = deflater.deflate(buffer);
                z.write(buffer, 0, n);
            }
        } finally {
            deflater.end();
        }
        byte[] stream = z.toByteArray();
        int chunk = l.idatChunks() > 1 && l.firstLength() > 0 ? l.firstLength() : Math.max(1, stream.length);
        int chunks = Math.max(1, (stream.length + chunk - 1) / chunk);
        int before = l.firstIdat();
        int after = l.iend() - l.afterIdat();
        byte[] out = new byte[before + stream.length + 12 * chunks + after + 12];
        System.arraycopy(png, 0, out, 0, before);
        int at = before;
        CRC32 crc = new CRC32();
        for (int from = 0; from < stream.length || at == before; from += chunk) {
            int length = Math.min(chunk, stream.length - from);
            writeInt(out, at, length);
            writeInt(out, at + 4, 0x49444154);
            System.arraycopy(stream, from, out, at + 8, length);
            crc.reset();
            crc.update(out, at + 4, 4 + length);
            writeInt(out, at + 8 + length, (int) crc.getValue());
            at += 12 + length;
        }
        System.arraycopy(png, l.afterIdat(), out, at, after);
        at += after;
        System.arraycopy(png, l.iend(), out, at, 12);  // IEND: no data, a fixed CRC
        return at + 12 == out.length ? out : java.util.Arrays.copyOf(out, at + 12);
    }

    /**
     * Filters each row with the filter (None, Sub, Up, Average, Paeth) whose bytes, read as signed, have
     * the least sum of absolute values; the first such filter on a tie.
     */
    private static byte[] filter(byte[] samples, int width, int height, int bpp) {
        int stride = width * bpp;
        byte[] out = new byte[(stride + 1) * height];
        byte[] zeros = new byte[stride];
        for (int y = 0; y < height; y++) {
            int row = y * stride;
            byte[] up = y == 0 ? zeros : samples;
            int prev = y == 0 ? 0 : row - stride;
            // The five sums in one pass over the row (each sample, its left, upper and upper-left neighbours
            // read once; the first bpp samples with a = c = 0), then only the chosen filter written: a job runs
            // this through the quick compiler, where five passes with five stored rows cost three times as much.
            int s0 = 0;
            int s1 = 0;
            int s2 = 0;
            int s3 = 0;
            int s4 = 0;
            int edge = Math.min(bpp, stride);
            for (int x = 0; x < edge; x++) {
                int raw = samples[row + x] & 0xff;
                int b = up[prev + x] & 0xff;
                s0 += Math.abs((byte) raw);
                s1 += Math.abs((byte) raw);
                s2 += Math.abs((byte) (raw - b));
                s3 += Math.abs((byte) (raw - (b >>> 1)));
                s4 += Math.abs((byte) (raw - b));
            }
            for (int x = edge, l = row, ul = prev; x < stride; x++, l++, ul++) {
                int raw = samples[row + x] & 0xff;
                int a = samples[l] & 0xff;
                int b = up[prev + x] & 0xff;
                int c = up[ul] & 0xff;
                s0 += Math.abs((byte) raw);
                s1 += Math.abs((byte) (raw - a));
                s2 += Math.abs((byte) (raw - b));
                s3 += Math.abs((byte) (raw - ((a + b) >>> 1)));
                int p = a + b - c;
                int pa = Math.abs(p - a);
                int pb = Math.abs(p - b);
                int pc = Math.abs(p - c);
                s4 += Math.abs((byte) (raw - (pa <= pb && pa <= pc ? a : pb <= pc ? b : c)));
            }
            int chosen = 0;
            int best = s0;
            int[] sums = {s1, s2, s3, s4};
            for (int f = 1; f <= 4; f++) {
                if (sums[f - 1] < best) {
                    best = sums[f - 1];
                    chosen = f;
                }
            }
            int o = y * (stride + 1);
            out[o++] = (byte) chosen;
            switch (chosen) {
                case 0 -> System.arraycopy(samples, row, out, o, stride);
                case 1 -> {
                    for (int x = 0; x < stride; x++) {
                        out[o + x] = (byte) (samples[row + x] - (x >= bpp ? samples[row + x - bpp] : 0));
                    }
                }
                case 2 -> {
                    for (int x = 0; x < stride; x++) {
                        out[o + x] = (byte) (samples[row + x] - up[prev + x]);
                    }
                }
                case 3 -> {
                    for (int x = 0; x < stride; x++) {
                        int a = x >= bpp ? samples[row + x - bpp] & 0xff : 0;
                        out[o + x] = (byte) (samples[row + x] - ((a + (up[prev + x] & 0xff)) >>> 1));
                    }
                }
                default -> {
                    for (int x = 0; x < stride; x++) {
                        int a = x >= bpp ? samples[row + x - bpp] & 0xff : 0;
                        int c = x >= bpp ? up[prev + x - bpp] & 0xff : 0;
                        out[o + x] = (byte) (samples[row + x] - paeth(a, up[prev + x] & 0xff, c));
                    }
                }
            }
        }
        return out;
    }

    private static int paeth(int a, int b, int c) {
        int p = a + b - c;
        int pa = Math.abs(p - a);
        int pb = Math.abs(p - b);
        int pc = Math.abs(p - c);
        return pa <= pb && pa <= pc ? a : pb <= pc ? b : c;
    }

    private static void writeInt(byte[] b, int at, int v) {
        b[at] = (byte) (v >>> 24);
        b[at + 1] = (byte) (v >>> 16);
        b[at + 2] = (byte) (v >>> 8);
        b[at + 3] = (byte) v;
    }

    /** Ancillary chunks that carry text, time or pixel size only, never a change of sample values. */
    private static boolean harmless(int type) {
        return type == 0x74455874 /* tEXt */ || type == 0x7A545874 /* zTXt */ || type == 0x69545874 /* iTXt */
                || type == 0x74494D45 /* tIME */ || type == 0x70485973 /* pHYs */;
    }

    /**
     * Undoes the per-row filters of PNG (None, Sub, Up, Average, Paeth); null for an unknown filter.
     *
     * <p>One loop per filter, the filter chosen once per row: a job that decodes a folder in a fresh JVM
     * runs this code interpreted and then through the quick compiler for its first thousands of rows, where
     * a switch per sample cost several times the arithmetic. The row above the first is zeros and the
     * first {@code bpp} samples of a row have no left neighbour (PNG's rule), so those samples get the same
     * values the general formulas give with a = c = 0.
     */
    private static byte[] unfilter(byte[] in, int width, int height, int bpp) {
        int stride = width * bpp;
        byte[] out = new byte[stride * height];
        byte[] zeros = new byte[stride];
        for (int y = 0; y < height; y++) {
            int src = y * (stride + 1) + 1;
            int row = y * stride;
            // The row above: the previous output row, or zeros for the first.
            byte[] up = y == 0 ? zeros : out;
            int prev = y == 0 ? 0 : row - stride;
            switch (in[src - 1]) {
                case 0 -> System.arraycopy(in, src, out, row, stride);
                case 1 -> {
                    System.arraycopy(in, src, out, row, bpp);
                    for (int x = bpp; x < stride; x++) {
                        out[row + x] = (byte) (in[src + x] + out[row + x - bpp]);
                    }
                }
                case 2 -> {
                    for (int x = 0; x < stride; x++) {
                        out[row + x] = (byte) (in[src + x] + up[prev + x]);
                    }
                }
                case 3 -> {
                    for (int x = 0; x < bpp; x++) {
                        out[row + x] = (byte) (in[src + x] + ((up[prev + x] & 0xff) >>> 1));
                    }
                    for (int x = bpp; x < stride; x++) {
                        out[row + x] = (byte) (in[src + x] + (((out[row + x - bpp] & 0xff) + (up[prev + x] & 0xff)) >>> 1));
                    }
                }
                case 4 -> {
                    // With a = c = 0 the Paeth predictor is b.
                    for (int x = 0; x < bpp; x++) {
                        out[row + x] = (byte) (in[src + x] + up[prev + x]);
                    }
                    for (int x = bpp; x < stride; x++) {
                        int a = out[row + x - bpp] & 0xff;
                        int b = up[prev + x] & 0xff;
                        int c = up[prev + x - bpp] & 0xff;
                        int p = a + b - c;
                        int pa = Math.abs(p - a);
                        int pb = Math.abs(p - b);
                        int pc = Math.abs(p - c);
                        out[row + x] = (byte) (in[src + x] + (pa <= pb && pa <= pc ? a : pb <= pc ? b : c));
                    }
                }
                default -> {
                    return null;
                }
            }
        }
        return out;
    }

    /** Gray samples as RGB, each value three times (what the ImageIO path gives a gray image at 3 channels). */
    private static byte[] spread(byte[] gray) {
        byte[] rgb = new byte[gray.length * 3];
        for (int i = 0; i < gray.length; i++) {
            rgb[3 * i] = gray[i];
            rgb[3 * i + 1] = gray[i];
            rgb[3 * i + 2] = gray[i];
        }
        return rgb;
    }

    private static int readInt(byte[] b, int at) {
        return ((b[at] & 0xff) << 24) | ((b[at + 1] & 0xff) << 16) | ((b[at + 2] & 0xff) << 8) | (b[at + 3] & 0xff);
    }

    private static long readLong(byte[] b, int at) {
        return ((long) readInt(b, at) << 32) | (readInt(b, at + 4) & 0xffffffffL);
    }
}
