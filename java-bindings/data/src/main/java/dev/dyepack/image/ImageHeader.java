package dev.dyepack.image;

import dev.dyepack.InvalidArgumentException;
import dev.dyepack.InvalidInputException;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.zip.CRC32;

/**
 * What an image file's structure says, read without decoding a pixel: its format (by content, not by
 * extension), size, and for PNG the bit depth, colour type and interlacing, for JPEG the component count,
 * whether it is progressive and its quantisation tables.
 *
 * <p>The whole file is walked, so a truncated or cut file is refused here: a PNG must have its signature,
 * an IHDR first, every chunk complete with a correct CRC, and an IEND; a JPEG must start with SOI, have a
 * frame header (SOF) and a scan (SOS), and end its scans with EOI (bytes after EOI are allowed, as
 * decoders ignore them). This is the check an image gets when it is copied into a poisoned folder without
 * being decoded; it catches damaged transfers and hostile headers, not every corrupt entropy-coded
 * stream (that only a decode finds).
 *
 * <p>Immutable and thread-safe.
 */
public final class ImageHeader {
    /** The formats an image folder holds. */
    public enum Format {
        /** Portable Network Graphics. */
        PNG,
        /** JPEG (JFIF, Exif or plain). */
        JPEG
    }

    private static final byte[] PNG_SIGNATURE = {(byte) 0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n'};

    private final Format format;
    private final int width;
    private final int height;
    private final int bitDepth;
    private final int colorType;
    private final boolean interlaced;
    private final int components;
    private final boolean progressive;
    private final List<int[]> quantTables;

    private ImageHeader(Format format, int width, int height, int bitDepth, int colorType, boolean interlaced,
            int components, boolean progressive, List<int[]> quantTables) {
        this.format = format;
        this.width = width;
        this.height = height;
        this.bitDepth = bitDepth;
        this.colorType = colorType;
        this.interlaced = interlaced;
        this.components = components;
        this.progressive = progressive;
        this.quantTables = quantTables;
    }

    /**
     * Reads the structure of a PNG or JPEG file held in memory.
     *
     * @param bytes the file's bytes
     * @param name  the file's name, for messages
     * @return the header
     * @throws InvalidArgumentException if bytes or name is null
     * @throws InvalidInputException    naming the file, if it is neither PNG nor JPEG, is truncated, has a
     *                                  damaged chunk or segment, or declares a size of 0
     */
    public static ImageHeader parse(byte[] bytes, String name) {
        if (bytes == null || name == null) {
            throw new InvalidArgumentException("bytes and name must not be null");
        }
        if (startsWith(bytes, PNG_SIGNATURE)) {
            return png(bytes, name);
        }
        if (bytes.length >= 3 && (bytes[0] & 0xff) == 0xff && (bytes[1] & 0xff) == 0xd8 && (bytes[2] & 0xff) == 0xff) {
            return jpeg(bytes, name);
        }
        throw new InvalidInputException(name + ": neither a PNG nor a JPEG file (its first bytes are not a PNG "
                + "signature or a JPEG start-of-image marker)");
    }

    private static boolean startsWith(byte[] b, byte[] prefix) {
        if (b.length < prefix.length) {
            return false;
        }
        for (int i = 0; i < prefix.length; i++) {
            if (b[i] != prefix[i]) {
                return false;
            }
        }
        return true;
    }

    private static int u16(byte[] b, int at) {
        return ((b[at] & 0xff) << 8) | (b[at + 1] & 0xff);
    }

    private static long u32(byte[] b, int at) {
        return ((long) (b[at] & 0xff) << 24) | ((b[at + 1] & 0xff) << 16) | ((b[at + 2] & 0xff) << 8) | (b[at + 3] & 0xff);
    }

    private static ImageHeader png(byte[] b, String name) {
        int at = PNG_SIGNATURE.length;
        int width = 0;
        int height = 0;
        int depth = 0;
        int colorType = 0;
        boolean interlaced = false;
        boolean first = true;
        boolean idat = false;
        CRC32 crc = new CRC32();
        while (true) {
            if (at + 12 > b.length) {
                throw new InvalidInputException(name + ": truncated PNG (it ends at byte " + b.length
                        + " inside a chunk header, before the IEND chunk)");
            }
            long length = u32(b, at);
            String type = new String(b, at + 4, 4, java.nio.charset.StandardCharsets.ISO_8859_1);
            if (length > b.length - at - 12L) {
                throw new InvalidInputException(name + ": truncated PNG (chunk " + type + " at byte " + at
                        + " declares " + length + " bytes, the file has " + (b.length - at - 12) + " left)");
            }
            int len = (int) length;
            crc.reset();
            crc.update(b, at + 4, 4 + len);
            if (crc.getValue() != u32(b, at + 8 + len)) {
                throw new InvalidInputException(name + ": damaged PNG (chunk " + type + " at byte " + at
                        + " fails its CRC)");
            }
            if (first) {
                if (!type.equals("IHDR") || len != 13) {
                    throw new InvalidInputException(name + ": damaged PNG (the first chunk is " + type
                            + ", not a 13-byte IHDR)");
                }
                long w = u32(b, at + 8);
                long h = u32(b, at + 12);
                if (w < 1 || h < 1 || w > Integer.MAX_VALUE || h > Integer.MAX_VALUE) {
                    throw new InvalidInputException(name + ": the PNG declares " + w + "x" + h
                            + " pixels; it needs at least one and at most 2^31-1 per side");
                }
                width = (int) w;
                height = (int) h;
                depth = b[at + 16] & 0xff;
                colorType = b[at + 17] & 0xff;
                interlaced = b[at + 20] != 0;
                first = false;
            } else if (type.equals("IDAT")) {
                idat = true;
            } else if (type.equals("IEND")) {
                if (!idat) {
                    throw new InvalidInputException(name + ": damaged PNG (no IDAT chunk: no pixel data)");
                }
                return new ImageHeader(Format.PNG, width, height, depth, colorType, interlaced,
                        switch (colorType) {
                            case 0 -> 1;
                            case 4 -> 2;
                            case 6 -> 4;
                            default -> 3;
                        }, false, List.of());
            }
            at += 12 + len;
        }
    }

    private static ImageHeader jpeg(byte[] b, String name) {
        int at = 2;
        int width = 0;
        int height = 0;
        int precision = 0;
        int components = 0;
        boolean progressive = false;
        boolean frame = false;
        boolean scan = false;
        int[][] tables = new int[4][];
        while (true) {
            // Fill bytes (0xff) may precede a marker.
            while (at < b.length && (b[at] & 0xff) == 0xff && at + 1 < b.length && (b[at + 1] & 0xff) == 0xff) {
                at++;
            }
            if (at + 2 > b.length) {
                throw new InvalidInputException(name + ": truncated JPEG (it ends at byte " + b.length
                        + " before the end-of-image marker)");
            }
            if ((b[at] & 0xff) != 0xff) {
                throw new InvalidInputException(name + ": damaged JPEG (no marker at byte " + at + ")");
            }
            int marker = b[at + 1] & 0xff;
            if (marker == 0xd9) {
                if (!frame || !scan) {
                    throw new InvalidInputException(name + ": damaged JPEG (end of image before "
                            + (frame ? "any scan" : "a frame header") + ")");
                }
                List<int[]> q = new ArrayList<>();
                for (int[] t : tables) {
                    if (t != null) {
                        q.add(t);
                    }
                }
                return new ImageHeader(Format.JPEG, width, height, precision, 0, false, components, progressive,
                        Collections.unmodifiableList(q));
            }
            if (marker == 0x01 || (marker >= 0xd0 && marker <= 0xd7)) {
                at += 2; // standalone markers
                continue;
            }
            if (at + 4 > b.length) {
                throw new InvalidInputException(name + ": truncated JPEG (inside the marker at byte " + at + ")");
            }
            int len = u16(b, at + 2);
            if (len < 2 || at + 2 + len > b.length) {
                throw new InvalidInputException(name + ": truncated JPEG (segment 0x" + Integer.toHexString(marker)
                        + " at byte " + at + " declares " + len + " bytes, the file has " + (b.length - at - 2)
                        + " left)");
            }
            int body = at + 4;
            int end = at + 2 + len;
            boolean sof = marker >= 0xc0 && marker <= 0xcf && marker != 0xc4 && marker != 0xc8 && marker != 0xcc;
            if (sof) {
                if (len < 8) {
                    throw new InvalidInputException(name + ": damaged JPEG (a frame header of " + len + " bytes)");
                }
                precision = b[body] & 0xff;
                height = u16(b, body + 1);
                width = u16(b, body + 3);
                components = b[body + 5] & 0xff;
                progressive = marker == 0xc2 || marker == 0xc6 || marker == 0xca || marker == 0xce;
                if (width < 1 || height < 1) {
                    throw new InvalidInputException(name + ": the JPEG declares " + width + "x" + height
                            + " pixels; it needs at least one (a height given later by a DNL marker is not supported)");
                }
                frame = true;
            } else if (marker == 0xdb) {
                int p = body;
                while (p < end) {
                    int pq = (b[p] & 0xf0) >> 4;
                    int tq = b[p] & 0x0f;
                    int size = pq == 0 ? 64 : 128;
                    if (tq > 3 || p + 1 + size > end) {
                        throw new InvalidInputException(name + ": damaged JPEG (a quantisation table that does not "
                                + "fit its segment at byte " + at + ")");
                    }
                    int[] t = new int[64];
                    for (int k = 0; k < 64; k++) {
                        t[k] = pq == 0 ? b[p + 1 + k] & 0xff : u16(b, p + 1 + 2 * k);
                    }
                    tables[tq] = t;
                    p += 1 + size;
                }
            }
            at = end;
            if (marker == 0xda) {
                if (!frame) {
                    throw new InvalidInputException(name + ": damaged JPEG (a scan before the frame header)");
                }
                scan = true;
                // Entropy-coded data runs to the next marker that is neither a stuffed 0xff00 nor a restart.
                while (true) {
                    if (at + 1 >= b.length) {
                        throw new InvalidInputException(name + ": truncated JPEG (its scan data ends at byte "
                                + b.length + " without an end-of-image marker)");
                    }
                    if ((b[at] & 0xff) == 0xff) {
                        int next = b[at + 1] & 0xff;
                        if (next != 0x00 && next != 0xff && (next < 0xd0 || next > 0xd7)) {
                            break;
                        }
                    }
                    at++;
                }
            }
        }
    }

    /** @return the format, judged by content */
    public Format format() {
        return format;
    }

    /** @return the width in pixels */
    public int width() {
        return width;
    }

    /** @return the height in pixels */
    public int height() {
        return height;
    }

    /** @return bits per sample: the PNG bit depth (1, 2, 4, 8, 16) or the JPEG sample precision (8, 12) */
    public int bitDepth() {
        return bitDepth;
    }

    /** @return the PNG colour type (0 gray, 2 RGB, 3 palette, 4 gray+alpha, 6 RGBA); 0 for JPEG */
    public int colorType() {
        return colorType;
    }

    /** @return whether a PNG is Adam7-interlaced */
    public boolean interlaced() {
        return interlaced;
    }

    /** @return samples per pixel: for JPEG its components, for PNG those of its colour type (palette: 3) */
    public int components() {
        return components;
    }

    /** @return whether a JPEG is progressive */
    public boolean progressive() {
        return progressive;
    }

    /**
     * @return a JPEG's quantisation tables in the order of their slots (0 first), each 64 values in the
     *         file's zig-zag order; empty for PNG. The arrays are copies.
     */
    public List<int[]> quantTables() {
        List<int[]> out = new ArrayList<>();
        for (int[] t : quantTables) {
            out.add(t.clone());
        }
        return out;
    }
}
