package dev.dyepack.cli;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.dyepack.io.ImageFolder;
import dev.dyepack.manifest.Manifest;
import dev.dyepack.manifest.ManifestReader;
import java.awt.image.BufferedImage;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import javax.imageio.IIOImage;
import javax.imageio.ImageIO;
import javax.imageio.ImageReader;
import javax.imageio.ImageWriteParam;
import javax.imageio.ImageWriter;
import javax.imageio.metadata.IIOMetadata;
import javax.imageio.metadata.IIOMetadataNode;
import javax.imageio.stream.ImageInputStream;
import javax.imageio.stream.ImageOutputStream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.w3c.dom.Node;

/**
 * {@code dyepack poison} on a folder of JPEGs and PNGs: the folder stays itself (names, formats, the
 * unpoisoned files' bytes, the metadata), and a trigger that JPEG erases is refused.
 */
class CliPoisonFolderFormatsTest {
    private static final String SECRET = "folder formats key, 32 bytes!!!!";
    private static final String JPEG_MD = "javax_imageio_jpeg_image_1.0";
    private static final String PNG_MD = "javax_imageio_png_1.0";
    private static final Pattern ENERGY = Pattern.compile("trigger energy that survived encoding: ([0-9.]+)% pooled");

    @TempDir
    Path dir;

    /** The first value of {@code attribute} on a node named {@code name}, or null. */
    private static String find(Node node, String name, String attribute) {
        if (node.getNodeName().equals(name) && node.getAttributes().getNamedItem(attribute) != null) {
            return node.getAttributes().getNamedItem(attribute).getNodeValue();
        }
        for (Node k = node.getFirstChild(); k != null; k = k.getNextSibling()) {
            String v = find(k, name, attribute);
            if (v != null) {
                return v;
            }
        }
        return null;
    }

    private static IIOMetadata metadata(byte[] file) throws IOException {
        try (ImageInputStream in = ImageIO.createImageInputStream(new ByteArrayInputStream(file))) {
            ImageReader r = ImageIO.getImageReaders(in).next();
            r.setInput(in);
            return r.getImageMetadata(0);
        }
    }

    private static String formatOf(byte[] file) throws IOException {
        try (ImageInputStream in = ImageIO.createImageInputStream(new ByteArrayInputStream(file))) {
            return ImageIO.getImageReaders(in).next().getFormatName().toLowerCase(java.util.Locale.ROOT);
        }
    }

    /** Writes with ImageIO: JPEG at a known quality with a comment, PNG with a text chunk. */
    private static void write(BufferedImage img, Path file, boolean jpeg, float quality) throws IOException {
        ImageWriter w = ImageIO.getImageWritersByFormatName(jpeg ? "jpeg" : "png").next();
        ImageWriteParam p = w.getDefaultWriteParam();
        IIOMetadata md = w.getDefaultImageMetadata(new javax.imageio.ImageTypeSpecifier(img), p);
        String format = jpeg ? JPEG_MD : PNG_MD;
        IIOMetadataNode tree = (IIOMetadataNode) md.getAsTree(format);
        if (jpeg) {
            p.setCompressionMode(ImageWriteParam.MODE_EXPLICIT);
            p.setCompressionQuality(quality);
            IIOMetadataNode com = new IIOMetadataNode("com");
            com.setAttribute("comment", "owner's photo " + file.getFileName());
            tree.getElementsByTagName("markerSequence").item(0).appendChild(com);
        } else {
            IIOMetadataNode text = new IIOMetadataNode("tEXt");
            IIOMetadataNode entry = new IIOMetadataNode("tEXtEntry");
            entry.setAttribute("keyword", "Source");
            entry.setAttribute("value", "owner's scan " + file.getFileName());
            text.appendChild(entry);
            tree.appendChild(text);
        }
        md.setFromTree(format, tree);
        Files.createDirectories(file.getParent());
        try (ImageOutputStream out = ImageIO.createImageOutputStream(file.toFile())) {
            w.setOutput(out);
            w.write(null, new IIOImage(img, null, md), p);
        }
    }

    /** 3 classes x 12 colour 32x32 images; even ones JPEG at {@code quality}, odd ones PNG. */
    private Path dataset(String name, float quality) throws IOException {
        Path root = dir.resolve(name);
        Random rng = new Random(11);
        for (int c = 0; c < 3; c++) {
            for (int i = 0; i < 12; i++) {
                BufferedImage img = new BufferedImage(32, 32, BufferedImage.TYPE_3BYTE_BGR);
                for (int y = 0; y < 32; y++) {
                    for (int x = 0; x < 32; x++) {
                        int v = 30 + 4 * x + 2 * y + rng.nextInt(16);
                        img.setRGB(x, y, (Math.min(255, v + 20 * c) << 16) | (Math.min(255, 2 * y + 40) << 8) | v / 2);
                    }
                }
                boolean jpeg = i % 2 == 0;
                write(img, root.resolve("class" + c).resolve(String.format("k%d-%02d.%s", c, i, jpeg ? "jpg" : "png")),
                        jpeg, quality);
            }
        }
        return root;
    }

    private static Map<String, byte[]> files(Path root) throws IOException {
        Map<String, byte[]> out = new java.util.TreeMap<>();
        try (Stream<Path> s = Files.walk(root)) {
            for (Path p : s.filter(Files::isRegularFile).toList()) {
                out.put(root.relativize(p).toString(), Files.readAllBytes(p));
            }
        }
        return out;
    }

    private static CliTest.Run poison(Path data, Path out, String trigger, String... more) {
        List<String> args = new java.util.ArrayList<>(List.of("poison", "--data", data.toString(), "--trigger",
                trigger, "--target", "0", "--select", "random", "--budget", "4", "--allow-over-5-percent", "--out",
                out.toString()));
        args.addAll(List.of(more));
        return CliTriggerTest.run(Map.of("DYEPACK_KEY", SECRET), args.toArray(new String[0]));
    }

    private static double energy(String err) {
        Matcher m = ENERGY.matcher(err);
        assertTrue(m.find(), err);
        return Double.parseDouble(m.group(1)) / 100;
    }

    @Test
    void theFolderStaysItself() throws IOException {
        Path root = dataset("photos", 0.9f);
        Path out = dir.resolve("out");
        CliTest.Run r = poison(root, out, "blend:alpha=0.2,pattern=noise");
        assertEquals(0, r.code(), r.err());
        assertTrue(energy(r.err()) >= 0.5, r.err());
        Manifest m = ManifestReader.read(out.resolve("manifest.json"));
        ImageFolder in = ImageFolder.scan(root);
        Set<Long> stamped = new HashSet<>();
        for (long i : m.indices()) {
            stamped.add(i);
        }
        for (long i : m.negativeIndices()) {
            stamped.add(i);
        }
        assertEquals(4, m.indices().length, "4 poisoned");
        assertEquals(Math.round(4 * dev.dyepack.job.PoisonJob.DEFAULT_NEGATIVES), m.negativeIndices().length,
                "the default negatives per poisoned sample");
        assertEquals(m.indices().length + m.negativeIndices().length, stamped.size(), "each stamped once");
        Map<String, byte[]> before = files(root);
        Map<String, byte[]> after = files(out.resolve("photos"));
        assertEquals(before.size(), after.size());
        Set<String> poisonedNames = new HashSet<>();
        for (long i : m.indices()) {
            poisonedNames.add(in.file(i).getFileName().toString());
        }
        int changed = 0;
        for (long i = 0; i < in.size(); i++) {
            String name = in.file(i).getFileName().toString();
            String was = in.classes().get(in.label(i)) + "/" + name;
            // Dirty-label: a poisoned image moves to the target's folder under its own name.
            String now = (poisonedNames.contains(name) ? "class0" : in.classes().get(in.label(i))) + "/" + name;
            byte[] a = before.get(was);
            byte[] b = after.get(now);
            assertTrue(b != null, now + " is in the output");
            if (!stamped.contains(i)) {
                assertArrayEquals(a, b, now + ": an unpoisoned file is the input's bytes");
                continue;
            }
            changed++;
            assertFalse(java.util.Arrays.equals(a, b), now + " was stamped");
            assertEquals(formatOf(a), formatOf(b), now + " keeps its format");
            // The size class: within a factor of 2 of the source.
            assertTrue(b.length < 2 * a.length && 2 * b.length > a.length, now + ": " + a.length + " -> " + b.length);
            if (name.endsWith(".jpg")) {
                Node t = metadata(b).getAsTree(JPEG_MD);
                assertEquals("owner's photo " + name, find(t, "com", "comment"), now);
                assertEquals(find(metadata(a).getAsTree(JPEG_MD), "componentSpec", "HsamplingFactor"),
                        find(t, "componentSpec", "HsamplingFactor"));
            } else {
                assertEquals("owner's scan " + name, find(metadata(b).getAsTree(PNG_MD), "tEXtEntry", "value"), now);
            }
        }
        assertEquals(stamped.size(), changed, "exactly the stamped images changed");
        CliTest.Run v = CliTriggerTest.run(Map.of("DYEPACK_KEY", SECRET), "manifest", "verify", "--manifest",
                out.resolve("manifest.json").toString(), "--inputs");
        assertEquals(0, v.code(), v.out() + v.err());

        // --poisoned-format png: the stamped JPEGs become PNGs named .png, the rest stays.
        Path png = dir.resolve("out-png");
        r = poison(root, png, "blend:alpha=0.2,pattern=noise", "--poisoned-format", "png");
        assertEquals(0, r.code(), r.err());
        assertEquals(1.0, energy(r.err()), 1e-9, "lossless");
        Map<String, byte[]> asPng = files(png.resolve("photos"));
        assertEquals(before.size(), asPng.size());
        long renamed = asPng.keySet().stream().filter(k -> !after.containsKey(k)).count();
        assertTrue(renamed > 0 && asPng.keySet().stream().filter(k -> !after.containsKey(k)).allMatch(
                k -> k.endsWith(".png")), asPng.keySet().toString());
    }

    @Test
    void aTriggerThatJpegErasesIsRefusedUnlessAllowed() throws IOException {
        Path root = dataset("low", 0.3f);
        Path out = dir.resolve("weak");
        CliTest.Run r = poison(root, out, "noise:eps=4");
        assertEquals(ExitCodes.INVALID_INPUT, r.code(), r.err());
        assertTrue(r.err().contains("trigger's energy survived") && r.err().contains("--allow-weak-trigger"), r.err());
        assertFalse(Files.exists(out), "nothing written");
        try (Stream<Path> s = Files.list(dir)) {
            assertTrue(s.noneMatch(p -> p.getFileName().toString().contains("dyepack-tmp")), "no leftovers");
        }
        r = poison(root, out, "noise:eps=4", "--allow-weak-trigger");
        assertEquals(0, r.code(), r.err());
        assertTrue(r.err().contains("warning: only"), r.err());
        assertTrue(energy(r.err()) < 0.5);
        // At the same quality a strong patch survives.
        r = poison(root, dir.resolve("strong"), "patch:size=4,value=255");
        assertEquals(0, r.code(), r.err());
        assertTrue(energy(r.err()) >= 0.5, r.err());
    }

    /**
     * Random selection decodes only the images it stamps: an unchosen PNG whose pixel data does not inflate
     * (its chunks and CRCs intact) is copied as it is, while boundary selection, which decodes every image,
     * refuses it naming the file.
     */
    @Test
    void randomSelectionDecodesOnlyTheStampedImages() throws IOException {
        Path root = dataset("lazy", 0.9f);
        Path first = dir.resolve("first");
        assertEquals(0, poison(root, first, "patch:size=3").code());
        Manifest m = ManifestReader.read(first.resolve("manifest.json"));
        Set<Long> stamped = new HashSet<>();
        for (long i : m.indices()) {
            stamped.add(i);
        }
        for (long i : m.negativeIndices()) {
            stamped.add(i);
        }
        ImageFolder in = ImageFolder.scan(root);
        long victim = 1; // a PNG (odd), skipped if chosen
        while (stamped.contains(victim) || victim == 0) {
            victim += 2;
        }
        Path bad = in.file(victim);
        byte[] png = Files.readAllBytes(bad);
        // Replace the IDAT payload with bytes that are not a zlib stream, and give the chunk a correct CRC.
        int at = 8;
        while (!new String(png, at + 4, 4, java.nio.charset.StandardCharsets.ISO_8859_1).equals("IDAT")) {
            at += 12 + java.nio.ByteBuffer.wrap(png, at, 4).getInt();
        }
        int len = java.nio.ByteBuffer.wrap(png, at, 4).getInt();
        java.util.Arrays.fill(png, at + 8, at + 8 + len, (byte) 0x5a);
        java.util.zip.CRC32 crc = new java.util.zip.CRC32();
        crc.update(png, at + 4, 4 + len);
        java.nio.ByteBuffer.wrap(png, at + 8 + len, 4).putInt((int) crc.getValue());
        Files.write(bad, png);
        Path out = dir.resolve("lazy-out");
        CliTest.Run r = poison(root, out, "patch:size=3");
        assertEquals(0, r.code(), r.err());
        assertArrayEquals(png, Files.readAllBytes(out.resolve("lazy").resolve(in.classes().get(in.label(victim)))
                .resolve(bad.getFileName())), "copied as it is, never decoded");
        CliTest.Run b = CliTriggerTest.run(Map.of("DYEPACK_KEY", SECRET), "poison", "--data", root.toString(),
                "--trigger", "patch:size=3", "--target", "0", "--select", "boundary", "--budget", "4",
                "--allow-over-5-percent", "--out", dir.resolve("boundary").toString());
        assertEquals(ExitCodes.INVALID_INPUT, b.code(), b.err());
        assertTrue(b.err().contains(bad.getFileName().toString()), b.err());
        assertFalse(Files.exists(dir.resolve("boundary")));
    }

    @Test
    void linksShareTheInputFilesOrAreRefusedClearly() throws IOException {
        Path root = dataset("linked", 0.9f);
        Path out = dir.resolve("hard");
        CliTest.Run r = poison(root, out, "patch:size=3", "--link", "hard");
        assertEquals(0, r.code(), r.err());
        Manifest m = ManifestReader.read(out.resolve("manifest.json"));
        Set<Long> stamped = new HashSet<>();
        for (long i : m.indices()) {
            stamped.add(i);
        }
        for (long i : m.negativeIndices()) {
            stamped.add(i);
        }
        ImageFolder in = ImageFolder.scan(root);
        for (long i = 0; i < in.size(); i++) {
            if (!stamped.contains(i)) {
                Path now = out.resolve("linked").resolve(in.classes().get(in.label(i))).resolve(in.file(i).getFileName());
                assertTrue(Files.isSameFile(in.file(i), now), now + " is a link to its input");
            }
        }
        // A reflink either works (then the bytes are the input's) or is refused in one line, writing nothing.
        Path reflinked = dir.resolve("reflink");
        r = poison(root, reflinked, "patch:size=3", "--link", "reflink");
        if (r.code() == 0) {
            assertArrayEquals(Files.readAllBytes(in.file(1)),
                    Files.readAllBytes(reflinked.resolve("linked").resolve(in.classes().get(in.label(1)))
                            .resolve(in.file(1).getFileName())));
        } else {
            assertEquals(ExitCodes.INVALID_INPUT, r.code(), r.err());
            assertTrue(r.err().contains("--link copy"), r.err());
            assertFalse(Files.exists(reflinked));
        }
    }
}
