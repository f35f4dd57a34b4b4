package dev.dyepack.io;

import dev.dyepack.InvalidArgumentException;
import dev.dyepack.InvalidInputException;
import dev.dyepack.io.AtomicFiles;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.channels.Channels;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.Arrays;
import java.util.zip.GZIPInputStream;

/**
 * The default dataset shipped inside the library: the first 1000 Fashion-MNIST test images
 * (uint8, shape {@code (1000, 28, 28)}) and their labels (uint8, shape {@code (1000,)}, values
 * 0..9). Fashion-MNIST is by Zalando Research under the MIT licence; see the README next to the
 * resources and {@code scripts/make-embedded-sample.py}, which regenerates them.
 *
 * <p>Thread-safe: every method works on its own streams and files.
 */
public final class EmbeddedSample {
    /** Number of samples in the embedded dataset. */
    public static final int SAMPLES = 1000;

    /** Image height and width in pixels. */
    public static final int SIDE = 28;

    /** Number of classes; labels are {@code 0 .. CLASSES-1}. */
    public static final int CLASSES = 10;

    /** File name {@link #extractImages} writes. */
    public static final String IMAGES_FILE = "fashion-mnist-sample-images.npy";

    /** File name {@link #extractLabels} writes. */
    public static final String LABELS_FILE = "fashion-mnist-sample-labels.npy";

    private static final String RESOURCE_DIR = "/dev/dyepack/data/";

    private EmbeddedSample() {
    }

    /** @return a one-line description for help texts and logs */
    public static String description() {
        return "Fashion-MNIST sample: " + SAMPLES + " test images, " + SIDE + "x" + SIDE + " uint8, " + CLASSES
                + " classes (Zalando Research, MIT)";
    }

    /**
     * Opens the images as an uncompressed {@code .npy} byte stream.
     *
     * @return a stream the caller closes
     * @throws IOException           if decompression cannot start
     * @throws IllegalStateException if the resource is missing from the class path (a broken build)
     */
    public static InputStream openImages() throws IOException {
        return open(IMAGES_FILE);
    }

    /**
     * Opens the labels as an uncompressed {@code .npy} byte stream.
     *
     * @return a stream the caller closes
     * @throws IOException           if decompression cannot start
     * @throws IllegalStateException if the resource is missing from the class path (a broken build)
     */
    public static InputStream openLabels() throws IOException {
        return open(LABELS_FILE);
    }

    /**
     * Writes the images as {@code dir/fashion-mnist-sample-images.npy}, replacing a file of that
     * name. The file appears complete or not at all (temporary file plus rename).
     *
     * @param dir the directory to write into; created if missing
     * @return the written file
     * @throws InvalidArgumentException if {@code dir} is null
     * @throws IOException              if writing fails
     * @throws IllegalStateException    if the resource is missing or not the expected array
     */
    public static Path extractImages(Path dir) throws IOException {
        return extract(dir, IMAGES_FILE, new long[] {SAMPLES, SIDE, SIDE});
    }

    /**
     * Writes the labels as {@code dir/fashion-mnist-sample-labels.npy}, replacing a file of that
     * name. The file appears complete or not at all (temporary file plus rename).
     *
     * @param dir the directory to write into; created if missing
     * @return the written file
     * @throws InvalidArgumentException if {@code dir} is null
     * @throws IOException              if writing fails
     * @throws IllegalStateException    if the resource is missing or not the expected array
     */
    public static Path extractLabels(Path dir) throws IOException {
        return extract(dir, LABELS_FILE, new long[] {SAMPLES});
    }

    private static InputStream open(String file) throws IOException {
        String resource = RESOURCE_DIR + file + ".gz";
        InputStream raw = EmbeddedSample.class.getResourceAsStream(resource);
        if (raw == null) {
            throw new IllegalStateException("resource " + resource + " is missing from the class path");
        }
        try {
            return new GZIPInputStream(raw, 1 << 16);
        } catch (IOException | RuntimeException e) {
            raw.close();
            throw e;
        }
    }

    private static Path extract(Path dir, String file, long[] expectedShape) throws IOException {
        if (dir == null) {
            throw new InvalidArgumentException("dir must not be null");
        }
        Files.createDirectories(dir);
        Path target = dir.resolve(file);
        Path temp = NpyWriter.newTempFile(target);
        boolean moved = false;
        try {
            try (InputStream in = open(file);
                 FileChannel ch = FileChannel.open(temp, StandardOpenOption.WRITE)) {
                OutputStream out = Channels.newOutputStream(ch);
                in.transferTo(out);
                out.flush();
                ch.force(true);
            }
            // A jar damaged in transit must not hand the engine a wrong array under the right name.
            NpyHeader h;
            try {
                h = Npy.readHeader(temp);
            } catch (InvalidInputException e) {
                throw new IllegalStateException("embedded " + file + " is damaged: " + e.getMessage(), e);
            }
            if (!h.descr().equals("|u1") || !Arrays.equals(h.shape(), expectedShape)) {
                throw new IllegalStateException("embedded " + file + " holds " + h.descr() + " " + h.shapeString()
                        + ", expected |u1 " + Npy.shapeString(expectedShape));
            }
            AtomicFiles.moveIntoPlace(temp, target);
            moved = true;
            return target;
        } finally {
            if (!moved) {
                Files.deleteIfExists(temp);
            }
        }
    }
}
