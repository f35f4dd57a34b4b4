package dev.dyepack.image;

import java.util.zip.CRC32;
import java.util.zip.DataFormatException;
import java.util.zip.Inflater;

/**
 * A decoder for the commonest PNGs of image datasets, without ImageIO's per-image machinery (reader
 * lookup, stream wrappers, metadata, a {@code BufferedImage}): 8-bit gray or RGB, not interlaced, no
 * palette and no transparency, only chunks that do not change sample values. For those, the samples are
 * the file's own (PNG is lossless), exactly what the ImageIO path of {@link Images#decodeUint8} gives.
 * Anything else, or anything odd (a bad CRC, a short or overlong zlib stream, a missing {@code IEND}),
 * is declined with {@code null}, and the caller decodes through ImageIO, which also words every error.
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
        if (png.length < 8 + 25 + 12 || readLong(png, 0) != SIGNATURE) {
            return null;
        }
        int width = -1;
        int height = -1;
        int colorChannels = 0;
        int at = 8;
        boolean first = true;
        boolean ended = false;
        int idatBytes = 0;
        CRC32 crc = new CRC32();
        // First pass: walk and check the chunks, sum the image data's length.
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
                idatBytes += length;
                if (idatBytes < 0) {
                    return null;
                }
            } else if (type == 0x49454E44 /* IEND */) {
                ended = true;
                break;
            } else if (!harmless(type)) {
                return null;
            }
            at += 12 + length;
        }
        if (!ended || idatBytes == 0) {
            return null;
        }
        int bpp = colorChannels;
        long rowBytes = (long) width * bpp;
        long raw = (rowBytes + 1) * height;
        if (raw > Integer.MAX_VALUE - 8) {
            return null;
        }
        byte[] stream = new byte[idatBytes];
        int put = 0;
        for (at = 8; ; ) {
            int length = readInt(png, at);
            int type = readInt(png, at + 4);
            if (type == 0x49454E44) {
                break;
            }
            if (type == 0x49444154) {
                System.arraycopy(png, at + 8, stream, put, length);
                put += length;
            }
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
