package dev.dyepack.image;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.awt.image.BufferedImage;
import java.awt.image.IndexColorModel;
import java.awt.image.WritableRaster;
import java.io.IOException;
import javax.imageio.metadata.IIOMetadata;
import javax.imageio.metadata.IIOMetadataNode;
import org.junit.jupiter.api.Test;
import org.w3c.dom.Node;
import org.w3c.dom.NodeList;

class ImageEncoderTest {
    private static final String JPEG_FORMAT = "javax_imageio_jpeg_image_1.0";
    private static final String PNG_FORMAT = "javax_imageio_png_1.0";

    /** The attribute of the first node named {@code name} in a metadata tree, or null. */
    private static String find(Node node, String name, String attribute) {
        if (node.getNodeName().equals(name)) {
            Node a = node.getAttributes().getNamedItem(attribute);
            return a == null ? null : a.getNodeValue();
        }
        NodeList kids = node.getChildNodes();
        for (int i = 0; i < kids.getLength(); i++) {
            String v = find(kids.item(i), name, attribute);
            if (v != null) {
                return v;
            }
        }
        return null;
    }

    /** Marker segments of one kind before the first scan, counted by walking the segments. */
    private static int countMarkers(byte[] jpeg, int marker) {
        int n = 0;
        int at = 2;
        while (at + 4 <= jpeg.length && (jpeg[at + 1] & 0xff) != 0xda) {
            if ((jpeg[at + 1] & 0xff) == marker) {
                n++;
            }
            at += 2 + (((jpeg[at + 2] & 0xff) << 8) | (jpeg[at + 3] & 0xff));
        }
        return n;
    }

    private static byte[] stamp(byte[] clean, int w, int channels) {
        byte[] out = clean.clone();
        for (int y = 0; y < 4; y++) {
            for (int x = 0; x < 4; x++) {
                for (int c = 0; c < channels; c++) {
                    out[(y * w + x) * channels + c] = (byte) 255;
                }
            }
        }
        return out;
    }

    @Test
    void aJpegKeepsItsTablesSubsamplingAndComment() throws IOException {
        int w = 32;
        int h = 24;
        byte[] px = TestImages.picture(w, h, 3, 4);
        byte[] plain = TestImages.jpeg(TestImages.image(px, w, h, 3), 0.6f, null);
        IIOMetadata md = TestImages.metadata(plain);
        Node tree = md.getAsTree(JPEG_FORMAT);
        IIOMetadataNode com = new IIOMetadataNode("com");
        com.setAttribute("comment", "taken by the owner");
        ((IIOMetadataNode) tree).getElementsByTagName("markerSequence").item(0).appendChild(com);
        md.setFromTree(JPEG_FORMAT, tree);
        byte[] source = TestImages.jpeg(TestImages.image(px, w, h, 3), 0.6f, md);
        byte[] clean = Images.decodeUint8(source, "s.jpg", 3, w, h);
        byte[] intended = stamp(clean, w, 3);
        ImageEncoder.Encoded e = ImageEncoder.encode(source, "s.jpg", ImageHeader.parse(source, "s.jpg"), clean,
                intended, 3, ImageEncoder.Target.KEEP);
        assertEquals(ImageHeader.Format.JPEG, e.format());
        assertNull(e.note());
        // Huffman tables are written (a stream without them decodes only where a decoder supplies defaults).
        assertEquals(countMarkers(source, 0xc4), countMarkers(e.bytes(), 0xc4));
        Node out = TestImages.metadata(e.bytes()).getAsTree(JPEG_FORMAT);
        assertEquals("taken by the owner", find(out, "com", "comment"));
        // Tables and the luminance sampling factors, as ImageIO reads them from both files.
        Node in = TestImages.metadata(source).getAsTree(JPEG_FORMAT);
        assertEquals(find(in, "componentSpec", "HsamplingFactor"), find(out, "componentSpec", "HsamplingFactor"));
        assertEquals(ImageHeader.parse(source, "s").quantTables().size(), 2);
        JpegQuality.Estimate q = JpegQuality.estimate(ImageHeader.parse(e.bytes(), "o").quantTables());
        assertTrue(Math.abs(q.quality() - 60) <= 2, q.toString());
        // The patch is there after decoding.
        byte[] back = Images.decodeUint8(e.bytes(), "o.jpg", 3, w, h);
        assertTrue((back[(1 * w + 1) * 3] & 0xff) > 200, "patch kept: " + (back[(1 * w + 1) * 3] & 0xff));
        // An explicit quality replaces the tables.
        ImageEncoder.Encoded q90 = ImageEncoder.encode(source, "s.jpg", ImageHeader.parse(source, "s.jpg"), clean,
                intended, 3, new ImageEncoder.Target(false, 90));
        assertTrue(Math.abs(JpegQuality.estimate(ImageHeader.parse(q90.bytes(), "o").quantTables()).quality() - 90) <= 2);
    }

    /**
     * A JPEG whose Huffman tables were optimised for its own data: the new data needs codes those tables
     * may lack, so the result must still decode cleanly (Images refuses a file the decoder warns about).
     */
    @Test
    void aJpegWithOptimisedHuffmanTablesStillDecodes() throws IOException {
        int w = 48;
        byte[] px = TestImages.picture(w, w, 3, 8);
        javax.imageio.ImageWriter writer = javax.imageio.ImageIO.getImageWritersByFormatName("jpeg").next();
        javax.imageio.plugins.jpeg.JPEGImageWriteParam p =
                (javax.imageio.plugins.jpeg.JPEGImageWriteParam) writer.getDefaultWriteParam();
        p.setCompressionMode(javax.imageio.ImageWriteParam.MODE_EXPLICIT);
        p.setCompressionQuality(0.8f);
        p.setOptimizeHuffmanTables(true);
        java.io.ByteArrayOutputStream bytes = new java.io.ByteArrayOutputStream();
        try (javax.imageio.stream.MemoryCacheImageOutputStream o = new javax.imageio.stream.MemoryCacheImageOutputStream(bytes)) {
            writer.setOutput(o);
            writer.write(null, new javax.imageio.IIOImage(TestImages.image(px, w, w, 3), null, null), p);
        }
        byte[] source = bytes.toByteArray();
        byte[] clean = Images.decodeUint8(source, "opt.jpg", 3, w, w);
        // A change in every 8x8 block (a smooth ramp on the whole image), so every block's new data needs
        // codes of its own.
        byte[] intended = clean.clone();
        for (int i = 0; i < intended.length; i++) {
            int x = (i / 3) % w;
            intended[i] = (byte) Math.max(0, Math.min(255, (intended[i] & 0xff) + 60 - x * 2));
        }
        ImageEncoder.Encoded e = ImageEncoder.encode(source, "opt.jpg", ImageHeader.parse(source, "opt.jpg"), clean,
                intended, 3, ImageEncoder.Target.KEEP);
        assertTrue(countMarkers(e.bytes(), 0xc4) > 0, "Huffman tables written");
        byte[] back = Images.decodeUint8(e.bytes(), "out.jpg", 3, w, w);
        TriggerSurvival s = new TriggerSurvival();
        s.add(clean, intended, back);
        assertTrue(s.retained() > 0.5, "retained " + s.retained());
    }

    /** A 16-bit PNG stays 16-bit: untouched samples keep their exact 16-bit value; text chunks stay. */
    @Test
    void aSixteenBitPngKeepsItsDepthAndUntouchedSamples() throws IOException {
        int w = 8;
        int h = 8;
        BufferedImage img = new BufferedImage(w, h, BufferedImage.TYPE_USHORT_GRAY);
        WritableRaster r = img.getRaster();
        for (int y = 0; y < h; y++) {
            for (int x = 0; x < w; x++) {
                r.setSample(x, y, 0, 1000 + 777 * (y * w + x)); // values not multiples of 257
            }
        }
        IIOMetadata md = TestImages.metadata(TestImages.png(img, null));
        Node tree = md.getAsTree(PNG_FORMAT);
        IIOMetadataNode text = new IIOMetadataNode("tEXt");
        IIOMetadataNode entry = new IIOMetadataNode("tEXtEntry");
        entry.setAttribute("keyword", "Author");
        entry.setAttribute("value", "the owner");
        text.appendChild(entry);
        tree.appendChild(text);
        md.setFromTree(PNG_FORMAT, tree);
        byte[] source = TestImages.png(img, md);
        byte[] clean = Images.decodeUint8(source, "s.png", 1, w, h);
        byte[] intended = stamp(clean, w, 1);
        ImageEncoder.Encoded e = ImageEncoder.encode(source, "s.png", ImageHeader.parse(source, "s.png"), clean,
                intended, 1, ImageEncoder.Target.KEEP);
        ImageHeader out = ImageHeader.parse(e.bytes(), "o.png");
        assertEquals(16, out.bitDepth());
        assertEquals(0, out.colorType());
        assertEquals("the owner", find(TestImages.metadata(e.bytes()).getAsTree(PNG_FORMAT), "tEXtEntry", "value"));
        WritableRaster back = TestImages.read(e.bytes()).getRaster();
        for (int y = 0; y < h; y++) {
            for (int x = 0; x < w; x++) {
                int want = x < 4 && y < 4 ? 65535 : 1000 + 777 * (y * w + x);
                assertEquals(want, back.getSample(x, y, 0), "sample " + x + "," + y);
            }
        }
        assertArrayEquals(intended, Images.decodeUint8(e.bytes(), "o.png", 1, w, h));
    }

    /** A palette PNG keeps its palette while the new colours are in it, and says so when it cannot. */
    @Test
    void aPalettePngKeepsItsPaletteWhenItCan() throws IOException {
        byte[] red = {0, (byte) 255, 10};
        byte[] green = {0, (byte) 255, 20};
        byte[] blue = {0, (byte) 255, 30};
        BufferedImage img = new BufferedImage(8, 8, BufferedImage.TYPE_BYTE_INDEXED,
                new IndexColorModel(8, 3, red, green, blue));
        WritableRaster r = img.getRaster();
        for (int y = 0; y < 8; y++) {
            for (int x = 0; x < 8; x++) {
                r.setSample(x, y, 0, (x + y) % 2 == 0 ? 0 : 2);
            }
        }
        byte[] source = TestImages.png(img, null);
        byte[] clean = Images.decodeUint8(source, "p.png", 3, 8, 8);
        byte[] white = stamp(clean, 8, 3); // white is palette entry 1
        ImageEncoder.Encoded kept = ImageEncoder.encode(source, "p.png", ImageHeader.parse(source, "p.png"), clean,
                white, 3, ImageEncoder.Target.KEEP);
        assertNull(kept.note());
        assertEquals(3, ImageHeader.parse(kept.bytes(), "o").colorType());
        assertArrayEquals(white, Images.decodeUint8(kept.bytes(), "o.png", 3, 8, 8));
        byte[] other = clean.clone();
        other[0] = 77;
        ImageEncoder.Encoded changed = ImageEncoder.encode(source, "p.png", ImageHeader.parse(source, "p.png"), clean,
                other, 3, ImageEncoder.Target.KEEP);
        assertNotNull(changed.note());
        assertArrayEquals(other, Images.decodeUint8(changed.bytes(), "o.png", 3, 8, 8));
    }

    /** A colour file in a gray dataset: the gray change goes onto R, G and B alike. */
    @Test
    void aColourFileInAGrayDatasetTakesTheChangeOnEveryChannel() throws IOException {
        int w = 8;
        byte[] rgb = TestImages.picture(w, w, 3, 9);
        byte[] source = TestImages.png(TestImages.image(rgb, w, w, 3), null);
        byte[] clean = Images.decodeUint8(source, "c.png", 1, w, w);
        byte[] intended = clean.clone();
        intended[0] = (byte) ((clean[0] & 0xff) + 20);
        ImageEncoder.Encoded e = ImageEncoder.encode(source, "c.png", ImageHeader.parse(source, "c.png"), clean,
                intended, 1, ImageEncoder.Target.KEEP);
        assertEquals(2, ImageHeader.parse(e.bytes(), "o").colorType());
        byte[] back = Images.decodeUint8(e.bytes(), "o.png", 3, w, w);
        for (int c = 0; c < 3; c++) {
            assertEquals((rgb[c] & 0xff) + 20, back[c] & 0xff);
        }
        for (int i = 3; i < rgb.length; i++) {
            assertEquals(rgb[i], back[i]);
        }
    }
}
