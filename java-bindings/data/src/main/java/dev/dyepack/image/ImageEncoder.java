package dev.dyepack.image;

import dev.dyepack.InvalidArgumentException;
import dev.dyepack.InvalidInputException;
import dev.dyepack.io.Limits;
import java.awt.image.BufferedImage;
import java.awt.image.ColorModel;
import java.awt.image.DataBufferByte;
import java.awt.image.IndexColorModel;
import java.awt.image.WritableRaster;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.util.Iterator;
import javax.imageio.IIOImage;
import javax.imageio.ImageIO;
import javax.imageio.ImageReader;
import javax.imageio.ImageWriteParam;
import javax.imageio.ImageWriter;
import javax.imageio.metadata.IIOMetadata;
import javax.imageio.stream.ImageInputStream;
import javax.imageio.stream.ImageOutputStream;
import javax.imageio.stream.MemoryCacheImageInputStream;
import javax.imageio.stream.MemoryCacheImageOutputStream;

/**
 * Writes new pixels for an image file in the file's own form: a JPEG as a JPEG with the source's
 * quantisation tables (or the IJG tables at a chosen quality), chroma subsampling and marker segments
 * (JFIF, Exif, ICC profile, comments); a PNG as a PNG of the source's bit depth and colour type
 * (samples that did not change keep their exact stored value, including 16-bit ones; an alpha channel
 * is kept) with its ancillary chunks (text, physical size, gamma, colour profile). So a re-encoded file
 * looks like its neighbours: same format, same kind of size, same metadata.
 *
 * <p>The new pixels are uint8 at a dataset's channel count (1 or 3), as {@link Images#readUint8}
 * decodes them; where the file stores another channel count the change is carried over: a gray value's
 * change is added to each of a colour file's R, G and B, and colour pixels become BT.601 luma (rounded
 * half up) in a gray file. A palette PNG keeps its palette when every new colour is in it and becomes an
 * 8-bit RGB (or gray) PNG otherwise ({@link Encoded#note()} says so). Lossy and low-depth forms change
 * what is stored, which is why callers decode the result again and compare (see {@link TriggerSurvival}).
 *
 * <p>Stateless and thread-safe; uses the JDK's ImageIO codecs with memory caches only.
 */
public final class ImageEncoder {
    private ImageEncoder() {
    }

    /**
     * What to write.
     *
     * @param asPng       write a PNG whatever the source's format (lossless; 8-bit gray or RGB, no metadata for
     *                    a JPEG source)
     * @param jpegQuality 1..100 to write JPEGs with the IJG tables at that quality, 0 to keep the source's
     *                    tables
     */
    public record Target(boolean asPng, int jpegQuality) {
        /**
         * @throws InvalidArgumentException if jpegQuality is outside 0..100
         */
        public Target {
            if (jpegQuality < 0 || jpegQuality > 100) {
                throw new InvalidArgumentException("JPEG quality must be in 1..100 (or 0 for the source's), got "
                        + jpegQuality);
            }
        }

        /** The default: keep the format, the source's tables for JPEG. */
        public static final Target KEEP = new Target(false, 0);
    }

    /**
     * An encoded file.
     *
     * @param bytes  the file's bytes
     * @param format its format
     * @param note   why it differs in form from its source (a palette PNG written as RGB), or null
     */
    public record Encoded(byte[] bytes, ImageHeader.Format format, String note) {}

    /**
     * Encodes new pixels for an image in the form of its source file.
     *
     * @param source   the source file's bytes
     * @param name     the source's name, for messages
     * @param header   the source's header ({@link ImageHeader#parse})
     * @param clean    the source's pixels as the dataset decodes them (uint8, {@code channels})
     * @param pixels   the new pixels, uint8 H x W x {@code channels}
     * @param channels 1 or 3
     * @param target   what to write
     * @return the encoded file
     * @throws InvalidArgumentException if an argument is null or a length does not match the header
     * @throws InvalidInputException    if the source cannot be decoded again
     */
    public static Encoded encode(byte[] source, String name, ImageHeader header, byte[] clean, byte[] pixels,
            int channels, Target target) {
        if (source == null || name == null || header == null || clean == null || pixels == null || target == null) {
            throw new InvalidArgumentException("encode: no argument may be null");
        }
        if (channels != 1 && channels != 3) {
            throw new InvalidArgumentException("channels must be 1 or 3, got " + channels);
        }
        int w = header.width();
        int h = header.height();
        long n = (long) w * h * channels;
        if (pixels.length != n || clean.length != n) {
            throw new InvalidArgumentException(name + ": " + w + "x" + h + "x" + channels + " needs " + n
                    + " bytes of pixels, got " + pixels.length + " and " + clean.length);
        }
        try {
            if (target.asPng() && header.format() == ImageHeader.Format.JPEG) {
                return new Encoded(write(plain(pixels, w, h, channels), null, "png", null), ImageHeader.Format.PNG,
                        null);
            }
            return header.format() == ImageHeader.Format.JPEG ? jpeg(source, name, header, clean, pixels, channels,
                    target.jpegQuality()) : png(source, name, header, clean, pixels, channels);
        } catch (IOException e) {
            throw new InvalidInputException(name + ": cannot be re-encoded: " + e.getMessage(), e);
        }
    }

    /** The source's metadata and, for PNG, its raw decoded image. */
    private record Source(IIOMetadata metadata, BufferedImage raw) {}

    private static Source readSource(byte[] bytes, String name, boolean pixels) throws IOException {
        try (ImageInputStream in = new MemoryCacheImageInputStream(new ByteArrayInputStream(bytes))) {
            Iterator<ImageReader> readers = ImageIO.getImageReaders(in);
            if (!readers.hasNext()) {
                throw new InvalidInputException(name + ": not an image ImageIO decodes");
            }
            ImageReader reader = readers.next();
            try {
                reader.setInput(in, true, false);
                IIOMetadata md = reader.getImageMetadata(0);
                return new Source(md, pixels ? reader.read(0) : null);
            } catch (RuntimeException e) {
                throw new InvalidInputException(name + ": cannot be decoded again for re-encoding: " + e, e);
            } finally {
                reader.dispose();
            }
        }
    }

    private static byte[] write(BufferedImage img, IIOMetadata md, String format, ImageWriteParam param)
            throws IOException {
        Iterator<ImageWriter> writers = ImageIO.getImageWritersByFormatName(format);
        if (!writers.hasNext()) {
            throw new IOException("javax.imageio has no " + format + " writer");
        }
        ImageWriter writer = writers.next();
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        try (ImageOutputStream out = new MemoryCacheImageOutputStream(bytes)) {
            writer.setOutput(out);
            writer.write(null, new IIOImage(img, null, md), param == null ? writer.getDefaultWriteParam() : param);
        } finally {
            writer.dispose();
        }
        return bytes.toByteArray();
    }

    /**
     * An 8-bit gray or RGB image holding the pixels as they are (no colour conversion): both types store one
     * byte per sample with no row padding, so the raster's array is filled directly (writing through
     * setRGB would gamma-convert gray values).
     *
     * @param px       the pixels, HWC (RGB order for 3 channels)
     * @param w        the width
     * @param h        the height
     * @param channels 1 or 3
     * @return the image
     * @throws ArrayIndexOutOfBoundsException if px holds fewer than h x w x channels values
     */
    public static BufferedImage plain(byte[] px, int w, int h, int channels) {
        BufferedImage img = new BufferedImage(w, h,
                channels == 1 ? BufferedImage.TYPE_BYTE_GRAY : BufferedImage.TYPE_3BYTE_BGR);
        byte[] data = ((DataBufferByte) img.getRaster().getDataBuffer()).getData();
        if (channels == 1) {
            System.arraycopy(px, 0, data, 0, px.length);
        } else {
            for (int i = 0; i < px.length; i += 3) {
                data[i] = px[i + 2];
                data[i + 1] = px[i + 1];
                data[i + 2] = px[i];
            }
        }
        return img;
    }

    /**
     * The new pixels at the file's channel count {@code fileChannels}, given the dataset's clean and new
     * pixels and the file's own clean pixels at its channel count.
     */
    private static byte[] toFileChannels(byte[] clean, byte[] pixels, int channels, byte[] fileClean, int fileChannels) {
        if (fileChannels == channels) {
            return pixels;
        }
        int count = pixels.length / channels;
        byte[] out = new byte[count * fileChannels];
        for (int p = 0; p < count; p++) {
            if (channels == 1) {
                int delta = (pixels[p] & 0xff) - (clean[p] & 0xff);
                for (int c = 0; c < 3; c++) {
                    out[3 * p + c] = (byte) Math.max(0, Math.min(255, (fileClean[3 * p + c] & 0xff) + delta));
                }
            } else {
                int r = pixels[3 * p] & 0xff;
                int g = pixels[3 * p + 1] & 0xff;
                int b = pixels[3 * p + 2] & 0xff;
                out[p] = (byte) (r == g && g == b ? r
                        : Math.min(255, (int) Math.floor(0.299f * r + 0.587f * g + 0.114f * b + 0.5f)));
            }
        }
        return out;
    }

    private static Encoded jpeg(byte[] source, String name, ImageHeader header, byte[] clean, byte[] pixels,
            int channels, int quality) throws IOException {
        int fileChannels = header.components() == 1 ? 1 : 3;
        byte[] fileClean = fileChannels == channels ? clean
                : Images.decodeUint8(source, name, fileChannels, header.width(), header.height());
        byte[] px = toFileChannels(clean, pixels, channels, fileClean, fileChannels);
        Source s = readSource(source, name, false);
        ImageWriter probe = ImageIO.getImageWritersByFormatName("jpeg").next();
        ImageWriteParam param = probe.getDefaultWriteParam();
        probe.dispose();
        if (quality > 0) {
            // An explicit quality replaces the metadata's tables with the IJG tables scaled to it.
            param.setCompressionMode(ImageWriteParam.MODE_EXPLICIT);
            param.setCompressionQuality(quality / 100f);
        }
        if (header.progressive()) {
            param.setProgressiveMode(ImageWriteParam.MODE_DEFAULT);
        }
        // Optimised Huffman tables (PIL's optimize=True, jpegtran) code the source's data and may lack codes
        // the new data needs: they are replaced by tables optimised for the new data. The standard tables
        // code any data and are kept (without tables in the metadata ImageIO would write none at all).
        if (dropOptimisedHuffmanTables(s.metadata())
                && param instanceof javax.imageio.plugins.jpeg.JPEGImageWriteParam jp) {
            jp.setOptimizeHuffmanTables(true);
        }
        byte[] out = write(plain(px, header.width(), header.height(), fileChannels), s.metadata(), "jpeg", param);
        return new Encoded(out, ImageHeader.Format.JPEG, null);
    }

    private static Encoded png(byte[] source, String name, ImageHeader header, byte[] clean, byte[] pixels,
            int channels) throws IOException {
        // The commonest PNGs (8-bit gray or RGB, no palette, transparency or interlacing, only text, time and
        // pixel-size chunks) are written without ImageIO: the same samples, every other chunk kept as it was.
        int plainChannels = header.bitDepth() != 8 || header.interlaced() ? 0
                : header.colorType() == 0 ? 1 : header.colorType() == 2 ? 3 : 0;
        if (plainChannels != 0) {
            byte[] fileClean = plainChannels == channels ? clean
                    : Images.decodeUint8(source, name, plainChannels, header.width(), header.height());
            byte[] out = PlainPng.reencode(source, toFileChannels(clean, pixels, channels, fileClean, plainChannels),
                    Limits.current().pixels());
            if (out != null) {
                return new Encoded(out, ImageHeader.Format.PNG, null);
            }
        }
        Source s = readSource(source, name, true);
        BufferedImage raw = s.raw();
        ColorModel cm = raw.getColorModel();
        int w = header.width();
        int h = header.height();
        boolean gray = ImageEncoder.isGrayModel(cm);
        int fileChannels = gray ? 1 : 3;
        byte[] fileClean = fileChannels == channels ? clean : Images.decodeUint8(source, name, fileChannels, w, h);
        byte[] px = toFileChannels(clean, pixels, channels, fileClean, fileChannels);
        WritableRaster r = raw.getRaster();
        if (cm instanceof IndexColorModel icm) {
            if (!repaint(r, icm, px, fileClean, fileChannels)) {
                return new Encoded(write(plain(px, w, h, fileChannels), null, "png", null), ImageHeader.Format.PNG,
                        "a palette PNG with colours outside its palette, written as 8-bit " + (fileChannels == 1
                                ? "gray" : "RGB"));
            }
        } else {
            int colorBands = cm.getNumColorComponents();
            for (int band = 0; band < colorBands; band++) {
                int max = (1 << cm.getComponentSize(band)) - 1;
                for (int y = 0; y < h; y++) {
                    for (int x = 0; x < w; x++) {
                        int at = (y * w + x) * fileChannels + (colorBands == 1 ? 0 : band);
                        int want = px[at] & 0xff;
                        if (want != (fileClean[at] & 0xff)) {
                            // Unchanged samples keep their stored value (16-bit precision included).
                            r.setSample(x, y, band, (int) Math.floor(want * (double) max / 255.0 + 0.5));
                        }
                    }
                }
            }
        }
        return new Encoded(write(raw, s.metadata(), "png", null), ImageHeader.Format.PNG, null);
    }

    /**
     * Removes the Huffman tables from a JPEG's metadata when one of them differs from the standard's example
     * tables (T.81 Annex K.3).
     *
     * @return whether they were removed
     */
    private static boolean dropOptimisedHuffmanTables(IIOMetadata md) throws IOException {
        String format = "javax_imageio_jpeg_image_1.0";
        javax.imageio.metadata.IIOMetadataNode tree = (javax.imageio.metadata.IIOMetadataNode) md.getAsTree(format);
        org.w3c.dom.NodeList dhts = tree.getElementsByTagName("dht");
        boolean custom = false;
        java.util.List<org.w3c.dom.Node> remove = new java.util.ArrayList<>();
        for (int i = 0; i < dhts.getLength(); i++) {
            org.w3c.dom.Node dht = dhts.item(i);
            remove.add(dht);
            for (org.w3c.dom.Node t = dht.getFirstChild(); t != null; t = t.getNextSibling()) {
                Object table = ((javax.imageio.metadata.IIOMetadataNode) t).getUserObject();
                if (table instanceof javax.imageio.plugins.jpeg.JPEGHuffmanTable h && !isStandard(h)) {
                    custom = true;
                }
            }
        }
        if (!custom) {
            return false;
        }
        for (org.w3c.dom.Node n : remove) {
            n.getParentNode().removeChild(n);
        }
        md.setFromTree(format, tree);
        return true;
    }

    private static boolean isStandard(javax.imageio.plugins.jpeg.JPEGHuffmanTable h) {
        for (javax.imageio.plugins.jpeg.JPEGHuffmanTable std : new javax.imageio.plugins.jpeg.JPEGHuffmanTable[] {
            javax.imageio.plugins.jpeg.JPEGHuffmanTable.StdDCLuminance,
            javax.imageio.plugins.jpeg.JPEGHuffmanTable.StdDCChrominance,
            javax.imageio.plugins.jpeg.JPEGHuffmanTable.StdACLuminance,
            javax.imageio.plugins.jpeg.JPEGHuffmanTable.StdACChrominance}) {
            if (java.util.Arrays.equals(h.getLengths(), std.getLengths())
                    && java.util.Arrays.equals(h.getValues(), std.getValues())) {
                return true;
            }
        }
        return false;
    }

    /** Sets changed palette pixels to the palette entry of their new colour; false if one has none. */
    private static boolean repaint(WritableRaster r, IndexColorModel icm, byte[] px, byte[] fileClean, int fileChannels) {
        int w = r.getWidth();
        java.util.Map<Integer, Integer> index = new java.util.HashMap<>();
        for (int i = icm.getMapSize() - 1; i >= 0; i--) {
            index.put(icm.getRGB(i) & 0xffffff, i);
        }
        for (int p = 0; p * fileChannels < px.length; p++) {
            boolean changed = false;
            for (int c = 0; c < fileChannels; c++) {
                changed |= px[p * fileChannels + c] != fileClean[p * fileChannels + c];
            }
            if (!changed) {
                continue;
            }
            int rgb = fileChannels == 1 ? (px[p] & 0xff) * 0x010101
                    : ((px[3 * p] & 0xff) << 16) | ((px[3 * p + 1] & 0xff) << 8) | (px[3 * p + 2] & 0xff);
            Integer i = index.get(rgb);
            if (i == null) {
                return false;
            }
            r.setSample(p % w, p / w, 0, i);
        }
        return true;
    }

    /** Gray colour space, or a palette of grays only (the rule the folder reader uses for its channels). */
    static boolean isGrayModel(ColorModel cm) {
        if (cm instanceof IndexColorModel icm) {
            for (int i = 0; i < icm.getMapSize(); i++) {
                if (icm.getRed(i) != icm.getGreen(i) || icm.getGreen(i) != icm.getBlue(i)) {
                    return false;
                }
            }
            return true;
        }
        return cm.getColorSpace().getType() == java.awt.color.ColorSpace.TYPE_GRAY;
    }
}
