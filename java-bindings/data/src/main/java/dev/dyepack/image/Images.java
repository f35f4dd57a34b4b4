package dev.dyepack.image;

import dev.dyepack.trigger.ImagePattern;
import dev.dyepack.InvalidArgumentException;
import dev.dyepack.InvalidInputException;
import dev.dyepack.io.Limits;
import dev.dyepack.Layout;
import java.awt.color.ColorSpace;
import java.awt.image.BufferedImage;
import java.awt.image.ColorModel;
import java.awt.image.ComponentColorModel;
import java.awt.image.DataBuffer;
import java.awt.image.Raster;
import java.awt.image.WritableRaster;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.AccessDeniedException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.Locale;
import javax.imageio.ImageIO;
import javax.imageio.ImageReader;
import javax.imageio.stream.ImageInputStream;
import javax.imageio.stream.MemoryCacheImageInputStream;

/**
 * Image files and pictures as trigger patterns: reading a PNG or JPEG into an {@link ImagePattern},
 * resizing a pattern, and turning a float image back into a picture a person can look at.
 *
 * <p>One codec for every picture the data module decodes: trigger patterns ({@link #readPng}, float)
 * and image-folder datasets ({@link #readUint8}, uint8) decode through the same reader with the same
 * rules. Damaged or truncated files (including those ImageIO would only warn about, such as a
 * truncated JPEG) are refused with the file named; the size is read from the header and checked
 * against {@link #MAX_PIXELS} before any pixel is decoded. Conversion: each sample becomes
 * {@code (sample * 255f) / (2^bits - 1)} (8-bit files give their bytes exactly, 16-bit files
 * fractions); palette images take their palette entries (8-bit sRGB); gray is repeated into R = G = B
 * for three channels; colour becomes BT.601 luma {@code 0.299f*R + 0.587f*G + 0.114f*B} for one
 * channel (R exactly where R = G = B); alpha is kept as a pattern's alpha and dropped, not composited,
 * for datasets. A dataset's uint8 value is the pattern value rounded half up,
 * {@code floor(v + 0.5)}.
 *
 * <p>All methods are stateless and thread-safe. Image decoding uses the JDK's {@code javax.imageio}
 * only; it never writes ImageIO cache files.
 */
public final class Images {
    /**
     * The most pixels {@link #readPng} decodes. The size is read from the file header before any
     * decoding, so an absurdly large (or hostile) file is refused without allocating its pixels.
     */
    public static final long MAX_PIXELS = Limits.DEFAULT_PIXELS;

    /** BT.601 luma weights, as floats so that the conversion is reproducible in any float code. */
    private static final float LUMA_R = 0.299f;
    private static final float LUMA_G = 0.587f;
    private static final float LUMA_B = 0.114f;

    private Images() {
    }

    /**
     * Reads an image file as a trigger pattern.
     *
     * <p>Any format the JDK's ImageIO decodes is accepted: PNG (gray, gray+alpha, palette with or
     * without transparency, RGB, RGBA; 1 to 16 bits) and JPEG in particular, also GIF and BMP.
     * Samples are taken as stored, without colour management, and scaled to 0..255 as
     * {@code (sample * 255f) / (2^bits - 1)} in float, so 8-bit files give their bytes exactly and
     * 16-bit files give fractions (65535 gives 255, 257 gives 1). Palette images take their palette
     * entries. Other colour models (rare) go through {@link BufferedImage#getRGB}, i.e. 8-bit sRGB.
     *
     * <p>Channels: for 3 a gray file is replicated into R = G = B; for 1 a colour file is reduced to
     * BT.601 luminance {@code 0.299f*R + 0.587f*G + 0.114f*B}, evaluated in float in that order and
     * not rounded, except that a pixel with R = G = B gives R exactly (the weights sum to 1, and
     * this keeps a gray picture saved as RGB free of rounding noise).
     *
     * <p>Alpha: when the file has an alpha channel (or a palette with transparent entries) the
     * pattern's alpha is {@code A / (2^bits - 1)}, A/255 for 8 bits; otherwise it is null. Colour
     * values are not premultiplied.
     *
     * <p>A file the decoder reports as damaged (a warning such as a truncated JPEG, which ImageIO
     * would otherwise fill with gray) is refused rather than returned with made-up pixels.
     *
     * @param file     the image file
     * @param channels 1 (gray) or 3 (RGB)
     * @param layout   the order of the pattern's values
     * @return the pattern, with the file's height and width
     * @throws InvalidArgumentException if {@code channels} is not 1 or 3, or file or layout is null
     * @throws InvalidInputException    naming the file, if it is missing, not a regular file,
     *                                  unreadable, not an image ImageIO decodes, damaged or
     *                                  truncated, 0 pixels wide or high, or larger than
     *                                  {@link #MAX_PIXELS}
     */
    public static ImagePattern readPng(Path file, int channels, Layout layout) {
        return read(file, channels, layout, -1, -1);
    }

    private static ImagePattern read(Path file, int channels, Layout layout, int wantWidth, int wantHeight) {
        return toPattern(decodeFile(file, channels, layout, wantWidth, wantHeight), channels, layout);
    }

    /** Checks the arguments and the file, then decodes it (see {@link #readPng} for what is refused). */
    private static BufferedImage decodeFile(Path file, int channels, Layout layout, int wantWidth, int wantHeight) {
        if (file == null) {
            throw new InvalidArgumentException("image file must not be null");
        }
        if (channels != 1 && channels != 3) {
            throw new InvalidArgumentException("image patterns need 1 or 3 channels, the data has " + channels);
        }
        if (layout == null) {
            throw new InvalidArgumentException("layout must not be null");
        }
        if (!Files.exists(file)) {
            throw new InvalidInputException(file + ": no such file");
        }
        if (!Files.isRegularFile(file)) {
            throw new InvalidInputException(file + ": not a regular file");
        }
        BufferedImage img;
        try {
            // The decoder caches the whole file in memory.
            Limits.current().check("image-bytes", Files.size(file), file + ": an image file of " + Files.size(file)
                    + " bytes, which");
        } catch (IOException e) {
            throw new InvalidInputException(file + ": cannot be read: " + e.getMessage(), e);
        }
        try (InputStream in = Files.newInputStream(file)) {
            img = decode(file, in, wantWidth, wantHeight);
        } catch (NoSuchFileException e) {
            throw new InvalidInputException(file + ": no such file", e);
        } catch (AccessDeniedException e) {
            throw new InvalidInputException(file + ": cannot be read (permission denied)", e);
        } catch (IOException e) {
            throw new InvalidInputException(file + ": cannot be read: " + e.getMessage(), e);
        }
        return img;
    }

    /**
     * Decodes an image as uint8 samples, H x W x channels with channels interleaved: the values of
     * {@link #readPng} with the same file and channels, rounded half up (see the class comment).
     *
     * @param file     the image file
     * @param channels 1 (gray) or 3 (RGB)
     * @param width    the width the file must have, or -1 for any
     * @param height   the height the file must have, or -1 for any
     * @return {@code height * width * channels} bytes
     * @throws InvalidArgumentException if channels is not 1 or 3, or file is null
     * @throws InvalidInputException    naming the file, as for {@link #readPng}, or if its header
     *                                  gives another size than the one required
     */
    public static byte[] readUint8(Path file, int channels, int width, int height) {
        return toUint8(decodeFile(file, channels, Layout.NHWC, width, height), channels);
    }

    /**
     * Decodes an image file held in memory as uint8 samples: the values {@link #readUint8} gives for the
     * same bytes in a file.
     *
     * @param bytes    the file's bytes
     * @param name     the file's name, for messages
     * @param channels 1 (gray) or 3 (RGB)
     * @param width    the width the image must have, or -1 for any
     * @param height   the height the image must have, or -1 for any
     * @return {@code height * width * channels} bytes
     * @throws InvalidArgumentException if channels is not 1 or 3, or bytes or name is null
     * @throws InvalidInputException    naming the file, if it is not a decodable image, is damaged, exceeds
     *                                  the pixel limit or has another size than the one required
     */
    public static byte[] decodeUint8(byte[] bytes, String name, int channels, int width, int height) {
        if (bytes == null || name == null) {
            throw new InvalidArgumentException("bytes and name must not be null");
        }
        if (channels != 1 && channels != 3) {
            throw new InvalidArgumentException("channels must be 1 or 3, got " + channels);
        }
        // The commonest dataset PNGs (8-bit gray or RGB, plain) without ImageIO's per-image machinery.
        byte[] plain = PlainPng.decode(bytes, channels, width, height, Limits.current().pixels());
        if (plain != null) {
            return plain;
        }
        BufferedImage img;
        try {
            img = decode(name, new java.io.ByteArrayInputStream(bytes), width, height);
        } catch (IOException e) {
            throw new InvalidInputException(name + ": cannot be read: " + e.getMessage(), e);
        }
        return toUint8(img, channels);
    }

    /**
     * The image's uint8 samples by the class comment's rules. 8-bit gray and RGB(A) images stored one byte
     * per sample (what the JPEG and PNG readers give for 8-bit files) are read straight from the raster's
     * array, the same values the float path gives (8-bit samples scale to themselves; luma is the same float
     * expression, rounded half up) at a fraction of its cost; every other image goes through the float path.
     */
    private static byte[] toUint8(BufferedImage img, int channels) {
        ColorModel cm = img.getColorModel();
        Raster raster = img.getRaster();
        if (isPlainComponentImage(cm, raster) && raster.getDataBuffer() instanceof java.awt.image.DataBufferByte db
                && raster.getSampleModel() instanceof java.awt.image.PixelInterleavedSampleModel sm
                && raster.getSampleModelTranslateX() == 0 && raster.getSampleModelTranslateY() == 0
                && db.getNumBanks() == 1) {
            boolean eightBit = true;
            for (int b = 0; b < cm.getNumComponents(); b++) {
                eightBit &= cm.getComponentSize(b) == 8;
            }
            if (eightBit) {
                byte[] data = db.getData();
                int w = img.getWidth();
                int h = img.getHeight();
                int stride = sm.getScanlineStride();
                int step = sm.getPixelStride();
                int[] off = sm.getBandOffsets();
                boolean gray = cm.getNumColorComponents() == 1;
                byte[] out = new byte[w * h * channels];
                int o = 0;
                for (int y = 0; y < h; y++) {
                    int row = db.getOffset() + y * stride;
                    for (int x = 0; x < w; x++) {
                        int at = row + x * step;
                        if (gray) {
                            byte v = data[at + off[0]];
                            for (int c = 0; c < channels; c++) {
                                out[o++] = v;
                            }
                        } else if (channels == 3) {
                            out[o++] = data[at + off[0]];
                            out[o++] = data[at + off[1]];
                            out[o++] = data[at + off[2]];
                        } else {
                            int r = data[at + off[0]] & 0xff;
                            int g = data[at + off[1]] & 0xff;
                            int b = data[at + off[2]] & 0xff;
                            if (r == g && g == b) {
                                out[o++] = (byte) r;
                            } else {
                                float luma = LUMA_R * r + LUMA_G * g + LUMA_B * b;
                                out[o++] = (byte) Math.min(255, (int) Math.floor(luma + 0.5f));
                            }
                        }
                    }
                }
                return out;
            }
        }
        return rounded(toPattern(img, channels, Layout.NHWC).values());
    }

    private static byte[] rounded(float[] v) {
        byte[] out = new byte[v.length];
        for (int i = 0; i < v.length; i++) {
            out[i] = (byte) Math.min(255, (int) Math.floor(v[i] + 0.5f));
        }
        return out;
    }

    /**
     * Decodes the first image of the stream. Checks the header size before decoding and turns every
     * decoder complaint (exception or warning) into an {@link InvalidInputException}; only failures
     * to read the stream itself escape as {@link IOException}.
     */
    private static BufferedImage decode(Object file, InputStream in, int wantWidth, int wantHeight)
            throws IOException {
        // A memory cache rather than ImageIO.read's default, which may spill to a temporary file.
        try (ImageInputStream iis = new MemoryCacheImageInputStream(in)) {
            Iterator<ImageReader> readers = ImageIO.getImageReaders(iis);
            if (!readers.hasNext()) {
                throw new InvalidInputException(file + ": not an image format ImageIO can decode (PNG, JPEG, ...)");
            }
            ImageReader reader = readers.next();
            List<String> warnings = new ArrayList<>();
            reader.addIIOReadWarningListener((source, warning) -> warnings.add(warning));
            try {
                // Same flags as ImageIO.read: forward only, metadata not needed.
                reader.setInput(iis, true, true);
                int width;
                int height;
                BufferedImage img;
                try {
                    width = reader.getWidth(0);
                    height = reader.getHeight(0);
                    if (width < 1 || height < 1) {
                        throw new InvalidInputException(file + ": the image is " + width + "x" + height
                                + " pixels, it needs at least one");
                    }
                    // From the header, before a pixel is decoded: a small file may declare a huge image.
                    Limits.current().check("pixels", (long) width * height, file + ": the image is " + width + "x"
                            + height + " pixels, which");
                    if (wantWidth >= 0 && (width != wantWidth || height != wantHeight)) {
                        throw new InvalidInputException(file + ": image is " + width + "x" + height + " (width x height)"
                                + " but the first image of the folder is " + wantWidth + "x" + wantHeight
                                + "; all images must have one size");
                    }
                    img = reader.read(0);
                } catch (IOException | RuntimeException e) {
                    if (e instanceof InvalidInputException iie) {
                        throw iie;
                    }
                    // Decoders report corrupt or truncated data as IIOException, and some hostile
                    // inputs as unchecked exceptions from deep inside; all mean the same to a caller.
                    throw new InvalidInputException(file + ": not a readable " + formatName(reader)
                            + " image (corrupt or truncated?): " + e.getMessage(), e);
                }
                if (!warnings.isEmpty()) {
                    throw new InvalidInputException(file + ": damaged " + formatName(reader) + " image: "
                            + String.join("; ", warnings));
                }
                if (img.getWidth() < 1 || img.getHeight() < 1) {
                    throw new InvalidInputException(file + ": the image is " + img.getWidth() + "x"
                            + img.getHeight() + " pixels, it needs at least one");
                }
                return img;
            } finally {
                reader.dispose();
            }
        }
    }

    private static String formatName(ImageReader reader) {
        try {
            String name = reader.getFormatName();
            return name == null ? "image" : name.toUpperCase(Locale.ROOT);
        } catch (IOException e) {
            return "image";
        }
    }

    /** Reads one pixel as non-premultiplied R, G, B, A in 0..255 (A in 0..1) into {@code out}. */
    private interface PixelSource {
        void read(int x, int y, float[] out);
    }

    private static ImagePattern toPattern(BufferedImage img, int channels, Layout layout) {
        int height = img.getHeight();
        int width = img.getWidth();
        ColorModel cm = img.getColorModel();
        Raster raster = img.getRaster();
        boolean hasAlpha = cm.hasAlpha();
        boolean grayFile;
        PixelSource source;
        if (isPlainComponentImage(cm, raster)) {
            int colorBands = cm.getNumColorComponents();
            grayFile = colorBands == 1;
            int bands = cm.getNumComponents();
            float[] max = new float[bands];
            for (int b = 0; b < bands; b++) {
                max[b] = (float) ((1L << cm.getComponentSize(b)) - 1);
            }
            int alphaBand = hasAlpha ? bands - 1 : -1;
            source = (x, y, out) -> {
                for (int b = 0; b < colorBands; b++) {
                    // sample*255 < 2^24 for up to 16 bits, so only the division rounds.
                    out[b] = (raster.getSample(x, y, b) * 255f) / max[b];
                }
                if (grayFile) {
                    out[1] = out[0];
                    out[2] = out[0];
                }
                out[3] = alphaBand < 0 ? 1f : raster.getSample(x, y, alphaBand) / max[alphaBand];
            };
        } else {
            // Palette, packed RGB and anything exotic: the colour model's own 8-bit sRGB answer,
            // which is exact for palettes and packed sRGB pixels.
            grayFile = false;
            source = (x, y, out) -> {
                int argb = img.getRGB(x, y);
                out[0] = (argb >>> 16) & 0xff;
                out[1] = (argb >>> 8) & 0xff;
                out[2] = argb & 0xff;
                out[3] = ((argb >>> 24) & 0xff) / 255f;
            };
        }

        float[] values = new float[channels * height * width];
        float[] alpha = hasAlpha ? new float[height * width] : null;
        float[] px = new float[4];
        for (int y = 0; y < height; y++) {
            for (int x = 0; x < width; x++) {
                source.read(x, y, px);
                if (channels == 1) {
                    float gray;
                    if (grayFile || (px[0] == px[1] && px[1] == px[2])) {
                        gray = px[0];
                    } else {
                        gray = LUMA_R * px[0] + LUMA_G * px[1] + LUMA_B * px[2];
                    }
                    values[(int) layout.offset(0, y, x, 1, height, width)] = gray;
                } else {
                    for (int c = 0; c < 3; c++) {
                        values[(int) layout.offset(c, y, x, 3, height, width)] = px[c];
                    }
                }
                if (alpha != null) {
                    alpha[y * width + x] = px[3];
                }
            }
        }
        return new ImagePattern(values, alpha, channels, height, width, layout);
    }

    /**
     * Whether the raster holds gray or RGB samples (plus optional alpha), one band per component,
     * as 8- or 16-bit unsigned integers, not premultiplied: then the samples can be read as they are
     * stored. The colour space is only checked for its kind: the JDK labels PNG gray as linear, and
     * converting through it would change every value.
     */
    private static boolean isPlainComponentImage(ColorModel cm, Raster raster) {
        if (!(cm instanceof ComponentColorModel) || cm.isAlphaPremultiplied()) {
            return false;
        }
        int type = cm.getTransferType();
        if (type != DataBuffer.TYPE_BYTE && type != DataBuffer.TYPE_USHORT) {
            return false;
        }
        int spaceType = cm.getColorSpace().getType();
        int colorBands = cm.getNumColorComponents();
        boolean plain = (spaceType == ColorSpace.TYPE_GRAY && colorBands == 1)
                || (spaceType == ColorSpace.TYPE_RGB && colorBands == 3);
        if (!plain || raster.getNumBands() != cm.getNumComponents()) {
            return false;
        }
        for (int b = 0; b < cm.getNumComponents(); b++) {
            int bits = cm.getComponentSize(b);
            if (bits < 1 || bits > 16) {
                return false;
            }
        }
        return true;
    }

    /**
     * Turns a float image into a picture for a person to look at. Each value v becomes the 8-bit
     * level {@code floor((v - low) / (high - low) * 255 + 0.5)} (computed in double, i.e. rounded half
     * up), clamped to 0..255; NaN becomes 0.
     *
     * <p>One channel gives a {@link BufferedImage#TYPE_BYTE_GRAY} image and three a
     * {@link BufferedImage#TYPE_INT_RGB} one. Any other channel count (2, 4, ...) has no agreed
     * colour meaning, so only channel 0 is shown, as gray. The levels are stored as they are (a gray
     * level L is raster sample L, an RGB pixel is {@code (R<<16)|(G<<8)|B}), with no colour-space
     * conversion.
     *
     * @param values   {@code channels * height * width} floats in {@code layout}
     * @param channels C, at least 1
     * @param height   H, at least 1
     * @param width    W, at least 1
     * @param layout   the order of {@code values}
     * @param low      the value shown as black (0)
     * @param high     the value shown as white (255); finite and greater than {@code low}
     * @return a new image of {@code width x height} pixels
     * @throws InvalidArgumentException if values or layout is null, a size is below 1, the length
     *                                  of values does not match, or low and high are not finite with
     *                                  {@code high > low}
     */
    public static BufferedImage toImage(float[] values, int channels, int height, int width, Layout layout,
                                        float low, float high) {
        checkImage(values, channels, height, width, layout, "values");
        checkRange(low, high);
        if (channels == 3) {
            BufferedImage img = new BufferedImage(width, height, BufferedImage.TYPE_INT_RGB);
            for (int y = 0; y < height; y++) {
                for (int x = 0; x < width; x++) {
                    img.setRGB(x, y, rgbLevel(values, y, x, channels, height, width, layout, low, high));
                }
            }
            return img;
        }
        BufferedImage img = new BufferedImage(width, height, BufferedImage.TYPE_BYTE_GRAY);
        WritableRaster raster = img.getRaster();
        for (int y = 0; y < height; y++) {
            for (int x = 0; x < width; x++) {
                float v = values[(int) layout.offset(0, y, x, channels, height, width)];
                raster.setSample(x, y, 0, level(v, low, high));
            }
        }
        return img;
    }

    /**
     * The displayed 8-bit level of {@code v} for the range [low, high]; see {@link #toImage}.
     * Shared with {@link ContactSheet} so that both draw the same levels.
     */
    static int level(double v, double low, double high) {
        double scaled = (v - low) / (high - low) * 255.0;
        if (!(scaled > 0.0)) {
            return 0; // also NaN
        }
        if (scaled >= 255.0) {
            return 255;
        }
        return (int) Math.floor(scaled + 0.5);
    }

    /**
     * The packed {@code 0xRRGGBB} colour of pixel (y, x): channels 0, 1, 2 for three channels,
     * channel 0 as gray otherwise.
     */
    static int rgbLevel(float[] values, int y, int x, int channels, int height, int width, Layout layout,
                        float low, float high) {
        if (channels == 3) {
            int r = level(values[(int) layout.offset(0, y, x, 3, height, width)], low, high);
            int g = level(values[(int) layout.offset(1, y, x, 3, height, width)], low, high);
            int b = level(values[(int) layout.offset(2, y, x, 3, height, width)], low, high);
            return (r << 16) | (g << 8) | b;
        }
        int v = level(values[(int) layout.offset(0, y, x, channels, height, width)], low, high);
        return (v << 16) | (v << 8) | v;
    }

    /** Shared argument checks for a single float image; {@code what} names it in messages. */
    static void checkImage(float[] values, int channels, int height, int width, Layout layout, String what) {
        if (channels < 1 || height < 1 || width < 1) {
            throw new InvalidArgumentException("channels, height and width must be at least 1, got "
                    + channels + "x" + height + "x" + width);
        }
        if (layout == null) {
            throw new InvalidArgumentException("layout must not be null");
        }
        if (values == null) {
            throw new InvalidArgumentException(what + " must not be null");
        }
        long expected = (long) channels * height * width;
        if (values.length != expected) {
            throw new InvalidArgumentException(what + " has " + values.length + " elements, " + channels + "x"
                    + height + "x" + width + " needs " + expected);
        }
    }

    /** Shared check of a display range. */
    static void checkRange(float low, float high) {
        if (!Float.isFinite(low) || !Float.isFinite(high) || !(high > low)) {
            throw new InvalidArgumentException("display range needs finite low < high, got low=" + low
                    + " high=" + high);
        }
    }
}
