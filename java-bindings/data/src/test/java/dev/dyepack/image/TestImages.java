package dev.dyepack.image;

import java.awt.image.BufferedImage;
import java.awt.image.DataBufferByte;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.util.Random;
import javax.imageio.IIOImage;
import javax.imageio.ImageIO;
import javax.imageio.ImageReader;
import javax.imageio.ImageWriteParam;
import javax.imageio.ImageWriter;
import javax.imageio.metadata.IIOMetadata;
import javax.imageio.stream.ImageInputStream;
import javax.imageio.stream.MemoryCacheImageOutputStream;

/** Test images made with javax.imageio directly, independently of the code under test. */
final class TestImages {
    private TestImages() {
    }

    /**
     * The byte PNG's filter type {@code filter} writes for sample x of row y of {@code px} (rows of
     * {@code stride} bytes, {@code bpp} bytes per pixel): the sample minus its predictor, mod 256.
     */
    static byte pngFiltered(byte[] px, int stride, int bpp, int x, int y, int filter) {
        int v = px[y * stride + x] & 0xff;
        int a = x >= bpp ? px[y * stride + x - bpp] & 0xff : 0;
        int b = y > 0 ? px[(y - 1) * stride + x] & 0xff : 0;
        int c = x >= bpp && y > 0 ? px[(y - 1) * stride + x - bpp] & 0xff : 0;
        return (byte) (v - pngPredictor(filter, a, b, c));
    }

    /** Appends one PNG chunk (length, type, data, CRC over type and data) to {@code file}. */
    static void pngChunk(ByteArrayOutputStream file, String type, byte[] data) {
        java.util.zip.CRC32 crc = new java.util.zip.CRC32();
        byte[] t = type.getBytes(java.nio.charset.StandardCharsets.US_ASCII);
        crc.update(t);
        crc.update(data);
        file.writeBytes(java.nio.ByteBuffer.allocate(4).putInt(data.length).array());
        file.writeBytes(t);
        file.writeBytes(data);
        file.writeBytes(java.nio.ByteBuffer.allocate(4).putInt((int) crc.getValue()).array());
    }

    /** {@code raw} as one zlib stream at {@code level} (java.util.zip.Deflater's levels). */
    static byte[] zlib(byte[] raw, int level) {
        java.util.zip.Deflater deflater = new java.util.zip.Deflater(level);
        deflater.setInput(raw);
        deflater.finish();
        ByteArrayOutputStream z = new ByteArrayOutputStream();
        byte[] buf = new byte[4096];
        while (!deflater.finished()) {
            z.write(buf, 0, deflater.deflate(buf));
        }
        deflater.end();
        return z.toByteArray();
    }

    /**
     * PNG's predictor for filter type {@code filter} (0 None, 1 Sub, 2 Up, 3 Average, 4 Paeth) as the
     * specification writes it: a, b, c are the left, upper and upper-left samples, 0 outside the image.
     */
    static int pngPredictor(int filter, int a, int b, int c) {
        return switch (filter) {
            case 0 -> 0;
            case 1 -> a;
            case 2 -> b;
            case 3 -> (a + b) / 2;
            default -> {
                int p = a + b - c;
                int pa = Math.abs(p - a);
                int pb = Math.abs(p - b);
                int pc = Math.abs(p - c);
                yield pa <= pb && pa <= pc ? a : pb <= pc ? b : c;
            }
        };
    }

    /** A smooth picture with some noise, 8-bit gray (channels 1) or RGB (3), as interleaved bytes. */
    static byte[] picture(int w, int h, int channels, long seed) {
        Random rng = new Random(seed);
        byte[] px = new byte[w * h * channels];
        for (int y = 0; y < h; y++) {
            for (int x = 0; x < w; x++) {
                for (int c = 0; c < channels; c++) {
                    px[(y * w + x) * channels + c] = (byte) Math.min(255, 40 + 3 * x + 2 * y + 30 * c + rng.nextInt(12));
                }
            }
        }
        return px;
    }

    static BufferedImage image(byte[] px, int w, int h, int channels) {
        BufferedImage img = new BufferedImage(w, h, channels == 1 ? BufferedImage.TYPE_BYTE_GRAY
                : BufferedImage.TYPE_3BYTE_BGR);
        byte[] data = ((DataBufferByte) img.getRaster().getDataBuffer()).getData();
        for (int i = 0; i < px.length; i += channels) {
            for (int c = 0; c < channels; c++) {
                data[i + c] = px[i + channels - 1 - c];
            }
        }
        return img;
    }

    /** A JPEG at a known ImageIO quality (0..1), with optional metadata. */
    static byte[] jpeg(BufferedImage img, float quality, IIOMetadata metadata) throws IOException {
        ImageWriter w = ImageIO.getImageWritersByFormatName("jpeg").next();
        ImageWriteParam p = w.getDefaultWriteParam();
        p.setCompressionMode(ImageWriteParam.MODE_EXPLICIT);
        p.setCompressionQuality(quality);
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        try (MemoryCacheImageOutputStream o = new MemoryCacheImageOutputStream(out)) {
            w.setOutput(o);
            w.write(null, new IIOImage(img, null, metadata), p);
        }
        return out.toByteArray();
    }

    static byte[] png(BufferedImage img, IIOMetadata metadata) throws IOException {
        ImageWriter w = ImageIO.getImageWritersByFormatName("png").next();
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        try (MemoryCacheImageOutputStream o = new MemoryCacheImageOutputStream(out)) {
            w.setOutput(o);
            w.write(null, new IIOImage(img, null, metadata), w.getDefaultWriteParam());
        }
        return out.toByteArray();
    }

    /** The image metadata ImageIO reads from a file (independent of the encoder under test). */
    static IIOMetadata metadata(byte[] file) throws IOException {
        try (ImageInputStream in = ImageIO.createImageInputStream(new ByteArrayInputStream(file))) {
            ImageReader r = ImageIO.getImageReaders(in).next();
            r.setInput(in);
            return r.getImageMetadata(0);
        }
    }

    static BufferedImage read(byte[] file) throws IOException {
        return ImageIO.read(new ByteArrayInputStream(file));
    }
}
