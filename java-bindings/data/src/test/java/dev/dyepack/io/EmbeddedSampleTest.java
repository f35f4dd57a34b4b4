package dev.dyepack.io;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.io.InputStream;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.util.Arrays;
import java.util.List;
import java.util.stream.Collectors;
import java.util.stream.Stream;
import java.util.zip.GZIPInputStream;

import dev.dyepack.DType;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

class EmbeddedSampleTest {
    private static final Path DEBIAN_IMAGES = Paths.get("/usr/share/datasets/fashion-mnist/t10k-images-idx3-ubyte.gz");
    private static final Path DEBIAN_LABELS = Paths.get("/usr/share/datasets/fashion-mnist/t10k-labels-idx1-ubyte.gz");

    @TempDir
    Path dir;

    @Test
    void extractsA1000By28By28Uint8ImageArray() throws IOException {
        Path images = EmbeddedSample.extractImages(dir.resolve("sub"));
        assertEquals(dir.resolve("sub").resolve("fashion-mnist-sample-images.npy"), images);
        NpyHeader h = Npy.readHeader(images);
        assertEquals(DType.UINT8, h.imageDType());
        assertArrayEquals(new long[] {1000, 28, 28}, h.shape());
        try (NpyReader r = NpyReader.open(images)) {
            ByteBuffer all = ByteBuffer.allocate(1000 * 784);
            r.readSamples(0, 1000, all);
            byte[] px = all.array();
            int distinct = (int) IntStreamHelper.distinctBytes(px);
            assertTrue(distinct > 200, "images look degenerate: " + distinct + " distinct pixel values");
        }
    }

    @Test
    void labelsAreUint8InZeroToNineWithEveryClassPresent() throws IOException {
        Path labels = EmbeddedSample.extractLabels(dir);
        NpyHeader h = Npy.readHeader(labels);
        assertEquals("|u1", h.descr());
        assertArrayEquals(new long[] {1000}, h.shape());
        long[] values = Npy.readIntegers(labels);
        int[] perClass = new int[10];
        for (long v : values) {
            assertTrue(v >= 0 && v <= 9, "label " + v);
            perClass[(int) v]++;
        }
        for (int c = 0; c < 10; c++) {
            assertTrue(perClass[c] > 0, "class " + c + " missing");
        }
    }

    @Test
    void extractionLeavesOnlyTheFinalFilesAndReplacesOldOnes() throws IOException {
        Files.writeString(dir.resolve(EmbeddedSample.LABELS_FILE), "stale");
        EmbeddedSample.extractLabels(dir);
        EmbeddedSample.extractImages(dir);
        EmbeddedSample.extractImages(dir);
        try (Stream<Path> s = Files.list(dir)) {
            List<String> names = s.map(p -> p.getFileName().toString()).sorted().collect(Collectors.toList());
            assertEquals(List.of(EmbeddedSample.IMAGES_FILE, EmbeddedSample.LABELS_FILE), names);
        }
        assertEquals(1000, Npy.readIntegers(dir.resolve(EmbeddedSample.LABELS_FILE)).length);
    }

    @Test
    void streamsMatchTheExtractedFiles() throws IOException {
        Path images = EmbeddedSample.extractImages(dir);
        Path labels = EmbeddedSample.extractLabels(dir);
        try (InputStream in = EmbeddedSample.openImages()) {
            assertArrayEquals(Files.readAllBytes(images), in.readAllBytes());
        }
        try (InputStream in = EmbeddedSample.openLabels()) {
            byte[] bytes = in.readAllBytes();
            assertArrayEquals(Files.readAllBytes(labels), bytes);
            assertEquals(Npy.readHeader(labels), Npy.parseHeader(ByteBuffer.wrap(bytes)));
        }
    }

    @Test
    void descriptionIsOneLine() {
        assertEquals("Fashion-MNIST sample: 1000 test images, 28x28 uint8, 10 classes (Zalando Research, MIT)",
                EmbeddedSample.description());
    }

    @Test
    void matchesTheFirstDebianTestImagesAndLabels() throws IOException {
        assumeTrue(Files.isReadable(DEBIAN_IMAGES) && Files.isReadable(DEBIAN_LABELS),
                "Debian's dataset-fashion-mnist is not installed; comparison with the source skipped");
        // IDX: big-endian magic 0x00000803 / 0x00000801 and dimensions, then the bytes.
        byte[] idxImages = gunzip(DEBIAN_IMAGES);
        assertEquals(0x00000803, ByteBuffer.wrap(idxImages).getInt(0));
        byte[] idxLabels = gunzip(DEBIAN_LABELS);
        assertEquals(0x00000801, ByteBuffer.wrap(idxLabels).getInt(0));

        Path images = EmbeddedSample.extractImages(dir);
        try (NpyReader r = NpyReader.open(images)) {
            ByteBuffer first = ByteBuffer.allocate(784);
            r.readSamples(0, 1, first);
            assertArrayEquals(Arrays.copyOfRange(idxImages, 16, 16 + 784), first.array(), "first image");
            ByteBuffer all = ByteBuffer.allocate(1000 * 784);
            r.readSamples(0, 1000, all);
            assertArrayEquals(Arrays.copyOfRange(idxImages, 16, 16 + 1000 * 784), all.array(), "all 1000 images");
        }
        long[] labels = Npy.readIntegers(EmbeddedSample.extractLabels(dir));
        for (int i = 0; i < 1000; i++) {
            assertEquals(idxLabels[8 + i] & 0xff, labels[i], "label " + i);
        }
    }

    private static byte[] gunzip(Path p) throws IOException {
        try (InputStream in = new GZIPInputStream(Files.newInputStream(p))) {
            return in.readAllBytes();
        }
    }

    /** Counts distinct unsigned byte values. */
    private static final class IntStreamHelper {
        static long distinctBytes(byte[] bytes) {
            boolean[] seen = new boolean[256];
            for (byte b : bytes) {
                seen[b & 0xff] = true;
            }
            long n = 0;
            for (boolean s : seen) {
                n += s ? 1 : 0;
            }
            return n;
        }
    }
}
