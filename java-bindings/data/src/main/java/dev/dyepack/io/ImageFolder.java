package dev.dyepack.io;

import dev.dyepack.InvalidArgumentException;
import dev.dyepack.InvalidInputException;
import dev.dyepack.image.ImageEncoder;
import dev.dyepack.image.ImageHeader;
import dev.dyepack.image.Images;
import dev.dyepack.image.JpegQuality;
import dev.dyepack.image.TriggerSurvival;

import javax.imageio.ImageIO;
import javax.imageio.ImageReader;
import javax.imageio.ImageTypeSpecifier;
import javax.imageio.stream.FileImageOutputStream;
import javax.imageio.stream.ImageInputStream;
import javax.imageio.stream.ImageOutputStream;
import java.awt.color.ColorSpace;
import java.awt.image.BufferedImage;
import java.awt.image.ColorModel;
import java.awt.image.IndexColorModel;
import java.awt.image.Raster;
import java.io.IOException;
import java.io.InterruptedIOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.DirectoryStream;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.FileVisitResult;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.SimpleFileVisitor;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.BasicFileAttributes;
import java.security.SecureRandom;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.Iterator;
import java.util.List;
import java.util.Locale;
import java.util.stream.Stream;

/**
 * A dataset in the one-folder-per-class layout: {@code root/<class>/<image>.png|.jpg|.jpeg}, as
 * torchvision's {@code ImageFolder} reads it.
 *
 * <p>Order and labels: class folders sorted by name get the labels {@code 0 .. C-1}; the images of
 * a class, sorted by file name, follow one another, classes in label order. Names are compared by
 * Unicode code point, as Python's {@code sorted} does, so the labels agree with torchvision's
 * {@code class_to_idx}. Skipped, and listed by {@link #skipped()} so that callers can name them: names
 * starting with {@code .} (hidden files and folders, unlike torchvision, which would take
 * {@code .ipynb_checkpoints} for a class), plain files directly under the root, folders inside class
 * folders, and files whose extension is not {@code .png}, {@code .jpg} or {@code .jpeg} (any case).
 * Refused: a symbolic link anywhere in the layout (the folder's fingerprint does not follow links, so
 * the reader does not either, and both see the same files).
 *
 * <p>Pixels: {@link #readImages} decodes with the data module's one codec,
 * {@link Images#readUint8}, into uint8 NHWC with 1 or 3 channels, with its rules: 8-bit gray and
 * colour samples unchanged, 16-bit ones scaled to 8 bits and rounded, palette entries, alpha
 * dropped, colour to 1 channel by BT.601 luma rounded half up, gray to 3 channels repeated; a
 * damaged or truncated file, or one above {@link Images#MAX_PIXELS}, is refused naming it. Every
 * image must have the size of the first one.
 *
 * <p>As a {@link Samples.Reader} the folder is a uint8 array of shape (N, H, W, {@link #channels()}):
 * {@link #readSamples} decodes a batch of images with {@link #readImages}.
 *
 * <p>Writing: {@link Writer} builds a folder in this layout that appears complete or not at all;
 * {@link #writer} wraps one as a {@link Samples.Writer} that takes batches of samples in this folder's
 * order and writes each under its own file name into a chosen class folder.
 *
 * <p>Thread-safe: immutable after {@link #scan}; every read decodes its own files.
 */
public final class ImageFolder implements Samples.Reader {
    /**
     * Names in Unicode code point order, Python's order for {@code str}; {@link String#compareTo}
     * would order by UTF-16 unit and differ for characters outside the Basic Multilingual Plane.
     */
    static final Comparator<String> NAME_ORDER = (a, b) -> {
        int i = 0;
        int j = 0;
        while (i < a.length() && j < b.length()) {
            int ca = a.codePointAt(i);
            int cb = b.codePointAt(j);
            if (ca != cb) {
                return Integer.compare(ca, cb);
            }
            i += Character.charCount(ca);
            j += Character.charCount(cb);
        }
        return Boolean.compare(i < a.length(), j < b.length());
    };

    private static final SecureRandom RANDOM = new SecureRandom();

    private final Path root;
    private final List<String> classes;
    private final Path[] files;
    private final int[] labels;
    private final int height;
    private final int width;
    private final int channels;
    private final List<String> skipped;

    private ImageFolder(Path root, List<String> classes, Path[] files, int[] labels, Probe first, List<String> skipped) {
        this.skipped = skipped;
        this.root = root;
        this.classes = classes;
        this.files = files;
        this.labels = labels;
        this.height = first.height;
        this.width = first.width;
        this.channels = first.gray ? 1 : 3;
    }

    /**
     * Lists the classes and image files under {@code root}. Decodes no pixels: only the header of
     * the first image is read, for {@link #height()}, {@link #width()} and {@link #channels()}.
     *
     * @param root the dataset folder holding one folder per class
     * @return the listing
     * @throws InvalidArgumentException if {@code root} is null
     * @throws InvalidInputException    if {@code root} is not a readable directory, it holds no class
     *                                  folder, a class folder holds no image, there are more images
     *                                  than a Java array holds, or the first image's header cannot be
     *                                  decoded, an entry is a symbolic link, or a name cannot be represented
     *                                  in the locale's file-name encoding; the message names the folder or file
     */
    public static ImageFolder scan(Path root) {
        if (root == null) {
            throw new InvalidArgumentException("root must not be null");
        }
        try {
            return scanFolder(root);
        } catch (java.nio.file.InvalidPathException e) {
            throw new InvalidInputException(root + ": holds a name this locale cannot represent (" + e.getReason()
                    + "); run with a UTF-8 locale, e.g. LANG=C.UTF-8", e);
        }
    }

    private static ImageFolder scanFolder(Path root) {
        if (!Files.isDirectory(root)) {
            throw new InvalidInputException(root + ": not a directory" + (Files.exists(root) ? "" : " (it does not exist)"));
        }
        List<String> classes = new ArrayList<>();
        List<String> skipped = new ArrayList<>();
        for (Entry e : list(root, skipped)) {
            if (e.attributes() != null && e.attributes().isDirectory()) {
                classes.add(e.name());
            } else {
                skipped.add(e.path().toString());
            }
        }
        if (classes.isEmpty()) {
            throw new InvalidInputException(root + ": no class folders (expected root/<class>/<image>.png|.jpg|.jpeg)");
        }
        classes.sort(NAME_ORDER);
        List<Path> files = new ArrayList<>();
        List<Integer> labels = new ArrayList<>();
        for (int c = 0; c < classes.size(); c++) {
            Path dir = root.resolve(classes.get(c));
            List<Entry> images = new ArrayList<>();
            for (Entry e : list(dir, skipped)) {
                if (isImageName(e.name()) && e.attributes() != null && e.attributes().isRegularFile()) {
                    images.add(e);
                } else {
                    skipped.add(e.path().toString());
                }
            }
            if (images.isEmpty()) {
                throw new InvalidInputException(dir + ": class folder '" + classes.get(c)
                        + "' holds no .png, .jpg or .jpeg image");
            }
            if (images.size() > Integer.MAX_VALUE - 8 - files.size()) {
                throw new InvalidInputException(root + ": more images than a Java array holds");
            }
            images.sort(Comparator.comparing(Entry::name, NAME_ORDER));
            for (Entry e : images) {
                files.add(e.path());
                labels.add(c);
            }
        }
        int[] labelArray = new int[labels.size()];
        for (int i = 0; i < labelArray.length; i++) {
            labelArray[i] = labels.get(i);
        }
        Path[] fileArray = files.toArray(new Path[0]);
        skipped.sort(NAME_ORDER);
        return new ImageFolder(root, List.copyOf(classes), fileArray, labelArray, probe(fileArray[0]),
                List.copyOf(skipped));
    }

    /**
     * The entries of a directory whose names do not start with a dot; the others are added to
     * {@code skipped}. A symbolic link is refused: the folder's fingerprint (which does not follow links)
     * must see exactly what this reader sees.
     */
    private static List<Entry> list(Path dir, List<String> skipped) {
        List<Entry> out = new ArrayList<>();
        try (DirectoryStream<Path> ds = Files.newDirectoryStream(dir)) {
            for (Path p : ds) {
                // One lstat per entry: whether it is a link, a folder or a plain file (10,000 entries took 25-50 ms
                // less than asking twice; docs/benchmarks.md). An entry that cannot be examined (gone since the
                // listing, no permission) is neither, and is passed over like any other entry that is not an image.
                BasicFileAttributes attributes;
                try {
                    attributes = Files.readAttributes(p, BasicFileAttributes.class, LinkOption.NOFOLLOW_LINKS);
                } catch (IOException e) {
                    attributes = null;
                }
                if (attributes != null && attributes.isSymbolicLink()) {
                    throw new InvalidInputException(p + ": is a symbolic link; image folders are read without "
                            + "following links (copy the file or folder in instead)");
                }
                String name = p.getFileName().toString();
                if (!name.startsWith(".")) {
                    out.add(new Entry(p, name, attributes));
                } else {
                    skipped.add(p.toString());
                }
            }
        } catch (java.nio.file.InvalidPathException e) {
            throw new InvalidInputException(dir + ": holds a name this locale cannot represent (" + e.getReason()
                    + "); run with a UTF-8 locale, e.g. LANG=C.UTF-8", e);
        } catch (IOException e) {
            throw new InvalidInputException(dir + ": cannot list the folder: " + e, e);
        }
        return out;
    }

    /**
     * A listed entry: its path, its name (computed once: sorting 10,000 images by names taken from their paths on
     * every comparison took 15-100 ms in a fresh JVM) and its attributes, not following links (null where they could
     * not be read).
     */
    private record Entry(Path path, String name, BasicFileAttributes attributes) {}

    /** Whether a file name is visible and ends with .png, .jpg or .jpeg in any case. */
    static boolean isImageName(String name) {
        String lower = name.toLowerCase(Locale.ROOT);
        return !name.startsWith(".")
                && (lower.endsWith(".png") || lower.endsWith(".jpg") || lower.endsWith(".jpeg"));
    }

    /** @return the dataset folder as given to {@link #scan} */
    public Path root() {
        return root;
    }

    /**
     * @return the entries {@link #scan} passed over, as paths (hidden names, files that are not images, plain
     *         files at the root, folders inside class folders), sorted; unmodifiable. A poisoned copy of the
     *         folder holds only the images, so callers say which entries it leaves out.
     */
    public List<String> skipped() {
        return skipped;
    }

    /** @return the class folder names in label order (unmodifiable) */
    public List<String> classes() {
        return classes;
    }

    /** @return the number of images */
    public long size() {
        return files.length;
    }

    /**
     * @param index an image index, {@code 0 .. size()-1}
     * @return the image file
     * @throws InvalidArgumentException if {@code index} is out of range
     */
    public Path file(long index) {
        return files[checkIndex(index)];
    }

    /**
     * @param index an image index, {@code 0 .. size()-1}
     * @return its label: the index of its class folder in {@link #classes()}
     * @throws InvalidArgumentException if {@code index} is out of range
     */
    public int label(long index) {
        return labels[checkIndex(index)];
    }

    /** @return the label of every image, in image order (a new array) */
    public long[] labels() {
        long[] out = new long[labels.length];
        for (int i = 0; i < out.length; i++) {
            out[i] = labels[i];
        }
        return out;
    }

    /** @return the height in pixels of the first image, which every image must share */
    public int height() {
        return height;
    }

    /** @return the width in pixels of the first image, which every image must share */
    public int width() {
        return width;
    }

    /**
     * The natural channel count, judged from the first image's colour model alone (the other images
     * are not opened): 1 if it is grayscale (a gray colour space, or a palette of grays only), else
     * 3. A folder whose first image is gray but others are in colour would lose their colour when read
     * with 1 channel; ask {@link #readImages} for 3 to keep it.
     *
     * @return 1 or 3
     */
    public int channels() {
        return channels;
    }

    private int checkIndex(long index) {
        if (index < 0 || index >= files.length) {
            throw new InvalidArgumentException("image index " + index + " is out of range 0.." + (files.length - 1)
                    + " of " + root);
        }
        return (int) index;
    }

    /**
     * Decodes images {@code first .. first+count-1} into {@code dst} at its position as uint8 NHWC
     * (row-major, channels interleaved) and advances the position by
     * {@code count * height() * width() * channels}. On failure the position is unchanged and the
     * bytes after it are unspecified.
     *
     * @param first    index of the first image, 0-based
     * @param count    number of images, may be 0
     * @param dst      a writable heap or direct buffer with enough room
     * @param channels 1 (gray; colour images converted with BT.601 luma) or 3 (RGB; gray images
     *                 repeated into all three)
     * @throws InvalidArgumentException if {@code channels} is not 1 or 3, {@code first} or
     *                                  {@code count} is negative, the range runs past
     *                                  {@link #size()}, {@code dst} is null or read-only, or it has
     *                                  too little room
     * @throws InvalidInputException    if an image cannot be read or decoded, or its size differs
     *                                  from the first image's (the message names the file and both
     *                                  sizes)
     */
    public void readImages(long first, int count, ByteBuffer dst, int channels) {
        if (channels != 1 && channels != 3) {
            throw new InvalidArgumentException("channels must be 1 or 3, got " + channels);
        }
        if (first < 0 || count < 0) {
            throw new InvalidArgumentException("first (" + first + ") and count (" + count + ") must be non-negative");
        }
        if (first > files.length || count > files.length - first) {
            throw new InvalidArgumentException("images " + first + ".." + (first + count - 1) + " run past the end of "
                    + root + ", which holds " + files.length + " images");
        }
        if (dst == null) {
            throw new InvalidArgumentException("dst must not be null");
        }
        if (dst.isReadOnly()) {
            throw new InvalidArgumentException("dst is read-only");
        }
        long perImage = (long) height * width * channels;
        if (perImage > Integer.MAX_VALUE - 8) {
            throw new InvalidArgumentException("one " + width + "x" + height + "x" + channels
                    + " image is more than a Java array holds");
        }
        if (count > 0 && perImage * count > dst.remaining()) { // perImage < 2^31, count < 2^31: no overflow
            throw new InvalidArgumentException(count + " images need " + perImage * count + " bytes but dst has only "
                    + dst.remaining() + " remaining");
        }
        int start = dst.position();
        int per = (int) perImage;
        // Images decode independently, so they are decoded on every core, each into its own place.
        Limits limits = Limits.current();
        Parallel.forEach(count, decodeThreads(perImage), i -> {
            Path f = files[(int) first + i];
            byte[] px = Images.decodeUint8(readWhole(f, limits), f.toString(), channels, this.width, this.height);
            dst.duplicate().position(start + i * per).put(px);
        });
        dst.position(start + count * per);
    }

    /**
     * Decodes the listed images into {@code dst} at its position, one after another in the order given, as
     * {@link #readImages(long, int, ByteBuffer, int)} does for a range: only these files are opened, on every
     * core at once.
     *
     * @param indices  image indices, each in {@code 0 .. size()-1}, in any order
     * @param dst      a writable buffer with room for {@code indices.length} images
     * @param channels 1 or 3
     * @throws InvalidArgumentException if an index is out of range, channels is not 1 or 3, or dst is null,
     *                                  read-only or too small
     * @throws InvalidInputException    if an image cannot be decoded or has another size (the message names
     *                                  the file; of several, the one listed first)
     */
    public void readImages(long[] indices, ByteBuffer dst, int channels) {
        if (indices == null || dst == null) {
            throw new InvalidArgumentException("indices and dst must not be null");
        }
        if (channels != 1 && channels != 3) {
            throw new InvalidArgumentException("channels must be 1 or 3, got " + channels);
        }
        if (dst.isReadOnly()) {
            throw new InvalidArgumentException("dst is read-only");
        }
        for (long i : indices) {
            checkIndex(i);
        }
        long per = (long) height * width * channels;
        if (per * indices.length > dst.remaining()) {
            throw new InvalidArgumentException(indices.length + " images need " + per * indices.length
                    + " bytes but dst has only " + dst.remaining() + " remaining");
        }
        int start = dst.position();
        Limits limits = Limits.current();
        Parallel.forEach(indices.length, decodeThreads(per), i -> {
            Path f = files[(int) indices[i]];
            byte[] px = Images.decodeUint8(readWhole(f, limits), f.toString(), channels, width, height);
            dst.duplicate().position(start + (int) (i * per)).put(px);
        });
        dst.position(start + (int) (per * indices.length));
    }

    /** Receives decoded images; called from several decoding threads at once, so it must be thread-safe. */
    @FunctionalInterface
    public interface ImageSink {
        /**
         * @param index  the image's index in the folder
         * @param pixels its pixels, uint8 H x W x C as {@link #readImages} gives them; the sink may keep the array
         */
        void accept(long index, byte[] pixels);
    }

    /**
     * Decodes images {@code first .. first+count-1}, each once, on every core, handing each to {@code sink} as
     * soon as it is decoded, in no particular order: for a consumer that turns images into something smaller
     * (features) without holding the folder's pixels or passing them through one thread.
     *
     * @param first    index of the first image
     * @param count    number of images, may be 0
     * @param channels 1 or 3, as for {@link #readImages}
     * @param sink     receives every image
     * @throws InvalidArgumentException if the range runs past {@link #size()}, channels is not 1 or 3, or sink
     *                                  is null
     * @throws InvalidInputException    if an image cannot be decoded or has another size (of several, the one
     *                                  with the lowest index is named)
     */
    public void decodeEach(long first, int count, int channels, ImageSink sink) {
        if (channels != 1 && channels != 3) {
            throw new InvalidArgumentException("channels must be 1 or 3, got " + channels);
        }
        if (sink == null) {
            throw new InvalidArgumentException("sink must not be null");
        }
        if (first < 0 || count < 0 || first > files.length || count > files.length - first) {
            throw new InvalidArgumentException("images " + first + ".." + (first + count - 1) + " are not all in "
                    + root + ", which holds " + files.length + " images");
        }
        Limits limits = Limits.current();
        Parallel.forEach(count, decodeThreads((long) height * width * channels), i -> {
            Path f = files[(int) (first + i)];
            sink.accept(first + i, Images.decodeUint8(readWhole(f, limits), f.toString(), channels, width, height));
        });
    }

    /**
     * A file's bytes in one open and one read (the decoder would read a stream in many small pieces), after
     * its size is checked against the limit; failures are {@link InvalidInputException}s naming the file.
     */
    private static byte[] readWhole(Path f, Limits limits) {
        try (FileChannel ch = FileChannel.open(f, StandardOpenOption.READ)) {
            long size = ch.size();
            limits.check("image-bytes", size, f + ": an image file of " + size + " bytes, which");
            if (size > Integer.MAX_VALUE - 8) {
                throw new InvalidInputException(f + ": an image file of " + size + " bytes is more than a Java array "
                        + "holds");
            }
            return readFully(ch, f, (int) size);
        } catch (java.nio.file.NoSuchFileException e) {
            throw new InvalidInputException(f + ": no such file", e);
        } catch (java.nio.file.AccessDeniedException e) {
            throw new InvalidInputException(f + ": cannot be read (permission denied)", e);
        } catch (IOException e) {
            throw new InvalidInputException(f + ": cannot be read: " + e.getMessage(), e);
        }
    }

    /**
     * Decodes at once: every core, but no more than keeps the decoders' memory near
     * {@link #DECODE_BYTES}. A decode holds the file, the decoded image and the samples, up to about 8 bytes
     * per output byte (16-bit files through the float path), so huge images decode one at a time, as before.
     */
    private static int decodeThreads(long perImageBytes) {
        return (int) Math.max(1, Math.min(Parallel.THREADS, DECODE_BYTES / Math.max(1, 8 * perImageBytes)));
    }

    /** The decoders' working memory, all threads together, that {@link #decodeThreads} aims at. */
    private static final long DECODE_BYTES = 128L << 20;

    /**
     * File bytes that copies hold in memory at once, in KiB; a file larger than this is read alone. With
     * {@link Limits} capping one image file, this bounds what the copy threads hold together.
     */
    private static final int COPY_KIB = 64 << 10;

    /** @return {@code "|u1"}: images are read as 8-bit samples */
    @Override
    public String descr() {
        return "|u1";
    }

    /** @return (N, H, W, C) with C = {@link #channels()} */
    @Override
    public long[] shape() {
        return new long[] {files.length, height, width, channels};
    }

    /** @return H * W * {@link #channels()} */
    @Override
    public long sampleBytes() {
        return (long) height * width * channels;
    }

    /**
     * Decodes images [first, first + count) with {@link #channels()} channels; see {@link #readImages}.
     *
     * @throws InvalidArgumentException if the range or buffer is unusable
     * @throws InvalidInputException    if an image cannot be decoded or has another size
     */
    @Override
    public void readSamples(long first, int count, ByteBuffer dst) {
        readImages(first, count, dst, channels);
    }

    /** @return {@code "folder"} */
    @Override
    public String format() {
        return "folder";
    }

    /** Nothing to release: every read opens and closes its own files. */
    @Override
    public void close() {
    }

    /**
     * A {@link Samples.Writer} of a folder in this layout holding this folder's images, in this
     * folder's order, under their own file names (a JPEG's as {@code .png}, see {@link Writer}), each
     * in the class folder {@code classes().get(labels[i])}: so a relabelled image moves to its new
     * class's folder. Every name is checked before anything is written. The writer takes the bytes of
     * whole samples ({@link #sampleBytes()} each, uint8 H x W x C) in any batch sizes.
     *
     * @param finalRoot where the folder appears on commit (see {@link Writer#create})
     * @param labels    the output class of every image, each in [0, classes().size())
     * @return the writer; close it
     * @throws InvalidArgumentException if labels has the wrong length or a class out of range, or two
     *                                  images would get the same name in one class folder
     * @throws IOException              if the temporary folder cannot be created
     */
    public Samples.Writer writer(Path finalRoot, long[] labels) throws IOException {
        if (labels == null || labels.length != files.length) {
            throw new InvalidArgumentException("labels must give a class for each of the " + files.length
                    + " images, got " + (labels == null ? "null" : labels.length));
        }
        String[] names = new String[files.length];
        java.util.Map<String, Long> seen = new java.util.HashMap<>();
        for (int i = 0; i < files.length; i++) {
            if (labels[i] < 0 || labels[i] >= classes.size()) {
                throw new InvalidArgumentException("label " + labels[i] + " of image " + i + " is out of range 0.."
                        + (classes.size() - 1));
            }
            names[i] = Writer.pngName(files[i].getFileName().toString());
            String where = classes.get((int) labels[i]) + "/" + names[i];
            if (seen.putIfAbsent(where, (long) i) != null) {
                throw new InvalidArgumentException("two images would be written as " + where + " (an image moved "
                        + "into another class has the name of one already there); rename one of them");
            }
        }
        Writer inner = Writer.create(finalRoot, classes, false);
        int h = height;
        int w = width;
        int c = channels;
        int per = (int) sampleBytes();
        return new Samples.Writer() {
            private int next;

            @Override
            public void write(ByteBuffer src) throws IOException {
                if (src.remaining() % per != 0) {
                    throw new InvalidArgumentException("write whole samples of " + per + " bytes, got "
                            + src.remaining());
                }
                while (src.hasRemaining()) {
                    if (next >= names.length) {
                        throw new InvalidArgumentException("more samples than the " + names.length + " images");
                    }
                    byte[] px = new byte[per];
                    src.get(px);
                    inner.add((int) labels[next], names[next], px, h, w, c);
                    next++;
                }
            }

            @Override
            public void commit() throws IOException {
                if (next != names.length) {
                    inner.close();
                    throw new IllegalStateException(finalRoot + ": " + next + " of " + names.length
                            + " images written");
                }
                inner.commit();
            }

            @Override
            public void close() throws IOException {
                inner.close();
            }
        };
    }

    /** How an unchanged image gets into a poisoned copy of the folder. */
    public enum LinkMode {
        /** A streamed copy of its bytes (works everywhere; the output is independent of the input). */
        COPY,
        /**
         * A hard link to the input file: no bytes are written, but output and input are then one file, so
         * editing either changes both; input and output must be on one file system.
         */
        HARD,
        /**
         * A reflink (copy-on-write clone, {@code cp --reflink=always}): no bytes are written and the two stay
         * independent; needs a file system that clones (Btrfs, XFS, ZFS, APFS, ...), refused elsewhere.
         */
        REFLINK
    }

    /**
     * Starts a copy of this folder in which chosen images are replaced by re-encoded ones and every other
     * image is its input file's bytes under its own name ({@link Copy}). Every output name is decided
     * before anything is written: an image that stays in its class keeps its name; an image moved into
     * another class keeps its name where that class folder has no file of that name, and otherwise gets
     * the next free name of its own naming pattern in that folder ({@code FolderNames}: {@code img00101.png}
     * becomes the number after the highest {@code img#####.png} there); {@link Copy#renamed()} lists them.
     *
     * @param finalRoot where the copy appears on {@link Copy#commit()} (see {@link Writer#create})
     * @param labels    the output class of every image, each in [0, classes().size())
     * @param link      how unchanged images are copied
     * @return the copy; close it
     * @throws InvalidArgumentException if an argument is null, labels has the wrong length or a class out of
     *                                  range
     * @throws IOException              if the temporary folder cannot be created
     */
    public Copy copy(Path finalRoot, long[] labels, LinkMode link) throws IOException {
        if (link == null) {
            throw new InvalidArgumentException("link must not be null");
        }
        if (labels == null || labels.length != files.length) {
            throw new InvalidArgumentException("labels must give a class for each of the " + files.length
                    + " images, got " + (labels == null ? "null" : labels.length));
        }
        String[] names = new String[files.length];
        for (int i = 0; i < files.length; i++) {
            if (labels[i] < 0 || labels[i] >= classes.size()) {
                throw new InvalidArgumentException("label " + labels[i] + " of image " + i + " is out of range 0.."
                        + (classes.size() - 1));
            }
            names[i] = files[i].getFileName().toString();
        }
        String[] outNames = FolderNames.assign(names, this.labels, labels, classes.size());
        return new Copy(Writer.create(finalRoot, classes, false), labels.clone(), link, outNames);
    }

    /**
     * What {@link Copy#replace} did.
     *
     * @param survival      how much of the triggers the written files carry, pooled over the images
     * @param jpeg          images written as JPEG
     * @param png           images written as PNG
     * @param jpegQualities the JPEG qualities written: each source's, estimated from its tables, or the one
     *                      asked for
     * @param notes         images whose form had to change, each with why (a palette PNG written as RGB)
     */
    public record Replaced(TriggerSurvival survival, long jpeg, long png, java.util.SortedSet<Integer> jpegQualities,
            List<String> notes) {}

    /**
     * A copy of the folder under construction: unchanged images copied as they are, chosen ones re-encoded in
     * their own format (see {@link ImageEncoder}), each image exactly once; it appears complete or not at all,
     * as a {@link Writer}'s folder does. Every file is read and its structure checked
     * ({@link ImageHeader#parse}: format by content, complete, the folder's size, within
     * {@link Limits}) whether it is copied or linked, so a truncated or hostile file is refused rather than
     * passed on; only re-encoded images are decoded. Work runs on every core. Not thread-safe itself.
     */
    public final class Copy implements AutoCloseable {
        private final Writer out;
        private final long[] labels;
        private final LinkMode link;
        private final java.util.BitSet written = new java.util.BitSet();
        private final java.util.concurrent.Semaphore inFlight = new java.util.concurrent.Semaphore(COPY_KIB);

        /** The limits in force when the copy started, taken once rather than per file. */
        private final Limits limits = Limits.current();
        /** SHA-256 of every input file as read for the copy, by image index. */
        private final byte[][] inDigest = new byte[files.length][];
        /** SHA-256 of every output file as written, by image index. */
        private final byte[][] outDigest = new byte[files.length][];
        /** The output file name of every image inside its output class folder (see {@link #outputNames}). */
        private final String[] outNames;

        private Copy(Writer out, long[] labels, LinkMode link, String[] outNames) {
            this.out = out;
            this.labels = labels;
            this.link = link;
            this.outNames = outNames;
        }

        /**
         * The SHA-256 of every input file, as read for the copy, by path relative to the folder ({@code /}-
         * separated: {@code <class>/<name>}); complete once every image is in the copy.
         *
         * @return relative path to 64 lowercase hex digits, in image order (unmodifiable)
         * @throws IllegalStateException if an image is not in the copy yet
         */
        public java.util.Map<String, String> inputDigests() {
            requireComplete();
            java.util.Map<String, String> m = new java.util.LinkedHashMap<>();
            for (int i = 0; i < files.length; i++) {
                m.put(classes.get(ImageFolder.this.labels[i]) + "/" + files[i].getFileName(),
                        java.util.HexFormat.of().formatHex(inDigest[i]));
            }
            return java.util.Collections.unmodifiableMap(m);
        }

        /**
         * The SHA-256 of every file written, by path relative to the copy's folder ({@code <class>/<name>}):
         * an unchanged image's is its input's (the bytes are the same; the output is not read again), a
         * replaced image's that of the bytes written. The copy holds exactly these files.
         *
         * @return relative path to 64 lowercase hex digits, in image order (unmodifiable)
         * @throws IllegalStateException if an image is not in the copy yet
         */
        public java.util.Map<String, String> outputDigests() {
            requireComplete();
            java.util.Map<String, String> m = new java.util.LinkedHashMap<>();
            for (int i = 0; i < files.length; i++) {
                m.put(classes.get((int) labels[i]) + "/" + outNames[i], java.util.HexFormat.of().formatHex(outDigest[i]));
            }
            return java.util.Collections.unmodifiableMap(m);
        }

        /**
         * The images written under another name than their input's (see {@link ImageFolder#copy}), each with
         * its path in the copy ({@code <class>/<name>}); empty when every image kept its name.
         *
         * @return image index to output path, ascending by index (unmodifiable)
         * @throws IllegalStateException if an image is not in the copy yet
         */
        public java.util.SortedMap<Long, String> renamed() {
            requireComplete();
            java.util.SortedMap<Long, String> m = new java.util.TreeMap<>();
            for (int i = 0; i < files.length; i++) {
                if (!outNames[i].equals(files[i].getFileName().toString())) {
                    m.put((long) i, classes.get((int) labels[i]) + "/" + outNames[i]);
                }
            }
            return java.util.Collections.unmodifiableSortedMap(m);
        }

        private void requireComplete() {
            if (written.cardinality() != files.length) {
                throw new IllegalStateException(out.tempRoot() + ": " + written.cardinality() + " of " + files.length
                        + " images written");
            }
        }

        /** @return the folder the files go to until {@link #commit()} */
        public Path tempRoot() {
            return out.tempRoot();
        }

        /**
         * Runs {@code work} on file {@code i}'s bytes, read whole in one pass after its size is checked against
         * the limit and while holding its share of {@link #COPY_KIB}, once its structure has been walked;
         * records the bytes' SHA-256 as the input file's digest. One open, one size query and one read per
         * file: nothing else touches the input.
         */
        private <T> T withChecked(int i, Parallel.BytesTask<T> work) throws IOException {
            Path f = files[i];
            byte[] bytes;
            int kib;
            try (FileChannel ch = FileChannel.open(f, StandardOpenOption.READ)) {
                long size = ch.size();
                limits.check("image-bytes", size, f + ": an image file of " + size + " bytes, which");
                if (size > Integer.MAX_VALUE - 8) {
                    throw new InvalidInputException(f + ": an image file of " + size + " bytes is more than a Java "
                            + "array holds");
                }
                kib = (int) Math.min(COPY_KIB, Math.max(1, (size + 1023) >> 10));
                try {
                    inFlight.acquire(kib);
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                    throw new InterruptedIOException("interrupted while copying an image folder");
                }
                try {
                    bytes = readFully(ch, f, (int) size);
                } catch (IOException | RuntimeException e) {
                    inFlight.release(kib);
                    throw e;
                }
            }
            try {
                check(i, bytes);
                inDigest[i] = sha256().digest(bytes);
                return work.run(bytes);
            } finally {
                inFlight.release(kib);
            }
        }

        /** Checks a file's structure, size and pixel count ({@link ImageHeader#parse}). */
        private void check(int i, byte[] bytes) {
            Path f = files[i];
            ImageHeader h = ImageHeader.parse(bytes, f.toString());
            limits.check("pixels", (long) h.width() * h.height(), f + ": the image is " + h.width() + "x"
                    + h.height() + " pixels, which");
            if (h.width() != width || h.height() != height) {
                throw new InvalidInputException(f + ": image is " + h.width() + "x" + h.height() + " (width x height)"
                        + " but the first image of the folder is " + width + "x" + height
                        + "; all images must have one size");
            }
        }

        private void claim(int i) {
            if (written.get(i)) {
                throw new InvalidArgumentException("image " + i + " (" + files[i] + ") is already in the copy");
            }
            written.set(i);
        }

        /**
         * Copies every image not yet in the copy, except those listed, as its input bytes under its own name
         * (or links it, see {@link LinkMode}).
         *
         * @param except images that will be replaced (any order; may be empty)
         * @throws InvalidArgumentException if an index is out of range, or a reflink or hard link is refused by
         *                                  the file system (the message says which mode to use instead)
         * @throws InvalidInputException    if a file is not a complete PNG or JPEG of the folder's size (the
         *                                  first such file in the folder's order is named)
         * @throws IOException              if a file cannot be read or written
         */
        public void copyUnchanged(long[] except) throws IOException {
            java.util.BitSet skip = new java.util.BitSet(files.length);
            for (long e : except) {
                skip.set(checkIndex(e));
            }
            skip.or(written);
            int[] todo = new int[files.length - skip.cardinality()];
            for (int i = skip.nextClearBit(0), k = 0; k < todo.length; i = skip.nextClearBit(i + 1)) {
                todo[k++] = i;
            }
            for (int i : todo) {
                written.set(i);
            }
            if (link == LinkMode.COPY && dev.dyepack.FileCopy.available()) {
                try {
                    copyNatively(todo);
                } catch (IOException | RuntimeException e) {
                    out.markBroken();
                    throw e;
                }
                return;
            }
            Path[] targets = new Path[todo.length];
            try {
                Parallel.forEachIo(todo.length, Parallel.IO_THREADS, k -> {
                    int i = todo[k];
                    withChecked(i, bytes -> {
                        Path target = out.reserve((int) labels[i], outNames[i]);
                        targets[k] = target;
                        outDigest[i] = inDigest[i];
                        switch (link) {
                            case COPY -> Files.write(target, bytes, StandardOpenOption.CREATE_NEW,
                                    StandardOpenOption.WRITE);
                            case HARD -> {
                                try {
                                    Files.createLink(target, files[i]);
                                } catch (IOException | UnsupportedOperationException e) {
                                    throw new InvalidArgumentException(files[i] + ": cannot be hard-linked into "
                                            + target.getParent() + " (" + e + "); input and output must be on one file "
                                            + "system that supports hard links, or use --link copy", "link", "hard",
                                            "copy");
                                }
                            }
                            case REFLINK -> {
                                // Cloned in batches below, one cp per class folder and a few hundred files.
                            }
                        }
                        return null;
                    });
                });
                if (link == LinkMode.REFLINK) {
                    reflink(todo, targets);
                }
            } catch (IOException | RuntimeException e) {
                out.markBroken();
                throw e;
            }
        }

        /**
         * {@link #copyUnchanged} for {@link LinkMode#COPY} through the native library's batch copy: the same
         * files, checks, digests and failure (that of the lowest image index) as the loop of Java file calls,
         * without its per-file cost in system time. Each file is read once; its bytes are checked from the
         * copy's memory.
         */
        private void copyNatively(int[] todo) throws IOException {
            Path[] sources = new Path[todo.length];
            Path[] targets = new Path[todo.length];
            int reserveFailed = Integer.MAX_VALUE;
            RuntimeException reserveFailure = null;
            for (int k = 0; k < todo.length; k++) {
                int i = todo[k];
                sources[k] = files[i];
                try {
                    targets[k] = out.reserve((int) labels[i], outNames[i]);
                } catch (RuntimeException e) {
                    reserveFailed = k;
                    reserveFailure = e;
                    break;
                }
            }
            int copied = Math.min(todo.length, reserveFailed);
            long maxBytes = Math.min(limits.imageBytes(), Integer.MAX_VALUE - 8);
            // A failure of a file before the first name that could not be taken comes first, as in the loop.
            dev.dyepack.FileCopy.copy(java.util.Arrays.copyOf(sources, copied), java.util.Arrays.copyOf(targets,
                        copied), maxBytes, Parallel.IO_THREADS, new dev.dyepack.FileCopy.Sink() {
                            @Override
                            public void copied(int k, ByteBuffer bytes, byte[] sha256) {
                                int i = todo[k];
                                byte[] image = new byte[bytes.remaining()];
                                bytes.get(image);
                                check(i, image);
                                inDigest[i] = sha256;
                                outDigest[i] = sha256;
                            }

                            @Override
                            public void tooLarge(int k, long size) {
                                Path f = files[todo[k]];
                                limits.check("image-bytes", size, f + ": an image file of " + size + " bytes, which");
                                throw new InvalidInputException(f + ": an image file of " + size + " bytes is more "
                                        + "than a Java array holds");
                            }
                        });
            if (reserveFailure != null) {
                throw reserveFailure;
            }
        }

        private void reflink(int[] todo, Path[] targets) throws IOException {
            java.util.Map<Path, List<Path>> byDir = new java.util.TreeMap<>();
            for (int k = 0; k < todo.length; k++) {
                byDir.computeIfAbsent(targets[k].getParent(), d -> new ArrayList<>()).add(files[todo[k]]);
            }
            for (java.util.Map.Entry<Path, List<Path>> e : byDir.entrySet()) {
                List<Path> sources = e.getValue();
                for (int from = 0; from < sources.size(); from += 256) {
                    List<String> cmd = new ArrayList<>(List.of("cp", "--reflink=always", "--no-dereference",
                            "--target-directory=" + e.getKey(), "--"));
                    for (Path p : sources.subList(from, Math.min(sources.size(), from + 256))) {
                        cmd.add(p.toAbsolutePath().toString());
                    }
                    Process proc = new ProcessBuilder(cmd).redirectErrorStream(true).start();
                    String said = new String(proc.getInputStream().readAllBytes(), java.nio.charset.StandardCharsets.UTF_8)
                            .strip();
                    int rc;
                    try {
                        rc = proc.waitFor();
                    } catch (InterruptedException ie) {
                        proc.destroy();
                        Thread.currentThread().interrupt();
                        throw new InterruptedIOException("interrupted while cloning files");
                    }
                    if (rc != 0) {
                        String first = said.lines().findFirst().orElse("exit status " + rc);
                        throw new InvalidArgumentException("cannot reflink the images into " + e.getKey() + " ("
                                + first + "); this file system does not clone files, use --link copy or --link hard",
                                "link", "reflink", "copy or hard");
                    }
                }
            }
        }

        /**
         * Writes re-encoded images: each in its source file's format and form (or as PNG, see
         * {@link ImageEncoder.Target}), under its own name ({@code .png} for a JPEG written as PNG), then
         * decodes each written file again and tallies how much of its trigger it carries.
         *
         * @param indices  the images, in the order their pixels come
         * @param clean    their clean pixels as {@link #readImages} gives them at {@code channels}, from the
         *                 buffer's position
         * @param intended their new pixels, the same layout
         * @param channels the channel count of both buffers, 1 or 3
         * @param target   the format to write
         * @return what was written and how much of the triggers survived
         * @throws InvalidArgumentException if an image is already in the copy, an index is out of range, or a
         *                                  buffer holds too few bytes
         * @throws InvalidInputException    if a source file is damaged
         * @throws IOException              if a file cannot be written
         */
        public Replaced replace(long[] indices, ByteBuffer clean, ByteBuffer intended, int channels,
                ImageEncoder.Target target) throws IOException {
            if (indices == null || clean == null || intended == null || target == null) {
                throw new InvalidArgumentException("replace: no argument may be null");
            }
            int per = height * width * channels;
            if ((long) per * indices.length > Math.min(clean.remaining(), intended.remaining())) {
                throw new InvalidArgumentException(indices.length + " images need " + (long) per * indices.length
                        + " bytes of clean and of new pixels");
            }
            for (long i : indices) {
                claim(checkIndex(i));
            }
            TriggerSurvival[] tallies = new TriggerSurvival[indices.length];
            boolean[] jpeg = new boolean[indices.length];
            int[] quality = new int[indices.length];
            String[] notes = new String[indices.length];
            int c0 = clean.position();
            int i0 = intended.position();
            try {
                Parallel.forEachIo(indices.length, k -> {
                    int i = (int) indices[k];
                    withChecked(i, source -> {
                        ImageHeader h = ImageHeader.parse(source, files[i].toString());
                        byte[] c = new byte[per];
                        byte[] t = new byte[per];
                        clean.duplicate().position(c0 + k * per).get(c);
                        intended.duplicate().position(i0 + k * per).get(t);
                        ImageEncoder.Encoded e = ImageEncoder.encode(source, files[i].toString(), h, c, t, channels, target);
                        String outName = e.format() == h.format() ? outNames[i] : Writer.pngName(outNames[i]);
                        Path file = out.reserve((int) labels[i], outName);
                        Files.write(file, e.bytes(), StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE);
                        outNames[i] = outName;
                        outDigest[i] = sha256().digest(e.bytes());
                        byte[] back = Images.decodeUint8(e.bytes(), file.toString(), channels, width, height);
                        TriggerSurvival s = new TriggerSurvival();
                        s.add(c, t, back);
                        tallies[k] = s;
                        jpeg[k] = e.format() == ImageHeader.Format.JPEG;
                        if (jpeg[k]) {
                            quality[k] = target.jpegQuality() > 0 ? target.jpegQuality()
                                    : JpegQuality.estimate(h.quantTables()).quality();
                        }
                        notes[k] = e.note() == null ? null : files[i] + ": " + e.note();
                        return null;
                    });
                });
            } catch (IOException | RuntimeException e) {
                out.markBroken();
                throw e;
            }
            clean.position(c0 + per * indices.length);
            intended.position(i0 + per * indices.length);
            TriggerSurvival all = new TriggerSurvival();
            long jpegs = 0;
            java.util.SortedSet<Integer> qualities = new java.util.TreeSet<>();
            List<String> said = new ArrayList<>();
            for (int k = 0; k < indices.length; k++) {
                all.add(tallies[k]);
                if (jpeg[k]) {
                    jpegs++;
                    qualities.add(quality[k]);
                }
                if (notes[k] != null) {
                    said.add(notes[k]);
                }
            }
            return new Replaced(all, jpegs, indices.length - jpegs, qualities, said);
        }

        /**
         * Completes the copy (see {@link Writer#commit()}).
         *
         * @throws IllegalStateException if an image is not in the copy yet, or a write failed
         * @throws IOException           if forcing or renaming fails
         */
        public void commit() throws IOException {
            if (written.cardinality() != files.length) {
                out.close();
                throw new IllegalStateException(out.tempRoot() + ": " + written.cardinality() + " of " + files.length
                        + " images written");
            }
            out.commit();
        }

        /**
         * Abandons an uncommitted copy (see {@link Writer#close()}).
         *
         * @throws IOException if the temporary folder cannot be deleted
         */
        @Override
        public void close() throws IOException {
            out.close();
        }
    }

    /** Reads a file of {@code size} bytes whole from an open channel; a file that changed size is refused. */
    private static byte[] readFully(FileChannel ch, Path f, int size) throws IOException {
        byte[] bytes = new byte[size];
        ByteBuffer b = ByteBuffer.wrap(bytes);
        while (b.hasRemaining()) {
            if (ch.read(b) < 0) {
                throw new InvalidInputException(f + ": the file became shorter while it was read (" + b.position()
                        + " of " + size + " bytes)");
            }
        }
        return bytes;
    }

    private static java.security.MessageDigest sha256() {
        try {
            return java.security.MessageDigest.getInstance("SHA-256");
        } catch (java.security.NoSuchAlgorithmException e) {
            // Every Java SE implementation must provide SHA-256.
            throw new IllegalStateException("SHA-256 is unavailable in this JDK", e);
        }
    }

    /** Size and colour kind of an image, from its header. */
    private static final class Probe {
        final int width;
        final int height;
        final boolean gray;

        Probe(int width, int height, boolean gray) {
            this.width = width;
            this.height = height;
            this.gray = gray;
        }
    }

    /** What to do with an {@link ImageReader} whose input is set. */
    private interface ReaderTask<T> {
        T run(ImageReader reader) throws IOException;
    }

    /**
     * Runs {@code task} on a reader for {@code file}, chosen by content rather than by extension,
     * and turns every decoding failure into an {@link InvalidInputException} naming the file.
     */
    private static <T> T withReader(Path file, ReaderTask<T> task) {
        try (ImageInputStream in = ImageIO.createImageInputStream(file.toFile())) {
            if (in == null) {
                throw new InvalidInputException(file + ": cannot open the image file");
            }
            Iterator<ImageReader> readers = ImageIO.getImageReaders(in);
            if (!readers.hasNext()) {
                throw new InvalidInputException(file + ": cannot decode: not in an image format that javax.imageio"
                        + " reads (PNG or JPEG expected)");
            }
            ImageReader reader = readers.next();
            try {
                reader.setInput(in, true, true);
                return task.run(reader);
            } finally {
                reader.dispose();
            }
        } catch (InvalidInputException e) {
            throw e;
        } catch (IOException | RuntimeException e) {
            // Decoders report corrupt data with IIOException but also with unchecked exceptions.
            throw new InvalidInputException(file + ": cannot decode the image: " + e, e);
        }
    }

    private static Probe probe(Path file) {
        return withReader(file, reader -> {
            int w = reader.getWidth(0);
            int h = reader.getHeight(0);
            Limits.current().check("pixels", (long) w * h, file + ": the image is " + w + "x" + h + " pixels, which");
            ImageTypeSpecifier type = reader.getRawImageType(0);
            if (type == null) {
                Iterator<ImageTypeSpecifier> types = reader.getImageTypes(0);
                type = types.hasNext() ? types.next() : null;
            }
            ColorModel cm = type != null ? type.getColorModel() : reader.read(0).getColorModel();
            return new Probe(w, h, isGray(cm));
        });
    }

    /** Gray colour space, or a palette whose entries are all gray. */
    static boolean isGray(ColorModel cm) {
        if (cm instanceof IndexColorModel) {
            IndexColorModel icm = (IndexColorModel) cm;
            for (int i = 0; i < icm.getMapSize(); i++) {
                if (icm.getRed(i) != icm.getGreen(i) || icm.getGreen(i) != icm.getBlue(i)) {
                    return false;
                }
            }
            return true;
        }
        return cm.getColorSpace().getType() == ColorSpace.TYPE_GRAY;
    }

    /** Whether a name is one path segment that {@link #scan} would not skip as hidden. */
    private static String segmentProblem(String name) {
        if (name == null || name.isEmpty()) {
            return "is empty";
        }
        if (name.startsWith(".")) {
            return "starts with '.', so it would be hidden and skipped when read back";
        }
        if (name.indexOf('/') >= 0 || name.indexOf('\\') >= 0 || name.indexOf('\0') >= 0) {
            return "contains '/', '\\' or a NUL character";
        }
        return null;
    }

    /**
     * Writes a dataset in the one-folder-per-class layout that appears under its final name only
     * when complete.
     *
     * <p>Everything goes to a temporary sibling folder {@code .<final-name>.<random>.tmp};
     * {@link #commit()} forces the tree to disk (one {@code syncfs} of its file system where there is one,
     * see {@code Durability}: one fsync per file would cost seconds per 10,000 images) and renames the
     * folder to the final name.
     * {@link #close()} without a successful commit deletes the temporary folder, so a failure leaves
     * nothing under the final name. Use it as
     * {@code try (ImageFolder.Writer w = ImageFolder.Writer.create(...)) { w.add(...); ...; w.commit(); }}.
     *
     * <p>Every image is written as PNG, lossless, so the stored pixels are exactly the ones given.
     * A JPEG input name {@code x.jpg} or {@code x.jpeg} becomes {@code x.png}: re-encoding as JPEG
     * would quantise the pixels again, and the poisoned bytes, the very thing this dataset carries,
     * would not survive. PNG output holds no time stamp, so the same pixels give the same files.
     *
     * <p>So that {@link ImageFolder#scan} of the result gives back the same labels and order, the
     * class names must be given in sorted order, and within a class the images must be added in
     * file-name order (the order {@code scan} lists an input folder in). All images must have one
     * size.
     *
     * <p>Not thread-safe.
     */
    public static final class Writer implements AutoCloseable {
        private final Path finalRoot;
        private final Path tempRoot;
        private final List<String> classes;
        private final String[] lastName;
        private final long[] perClass;
        private int height = -1;
        private int width = -1;
        private long images;
        private boolean broken;
        private boolean committed;
        private boolean closed;
        /** Whether images must come in file-name order per class (the public contract) or any order. */
        private final boolean ordered;

        /** Names taken per class by {@link #reserve}, so that two images never share one. */
        private final java.util.Set<String> reserved = new java.util.HashSet<>();

        /**
         * Takes a name in a class folder for a file the caller then writes itself (from any thread): the
         * bookkeeping of {@link #add} without its encoding. The caller calls {@link #markBroken} if the file
         * then fails to appear complete.
         *
         * @return the path to write
         * @throws InvalidArgumentException if the name is taken in that class folder
         */
        synchronized Path reserve(int label, String name) {
            requireOpen();
            if (!reserved.add(label + "/" + name)) {
                throw new InvalidArgumentException("two images would be written as " + classes.get(label) + "/" + name
                        + " (an image moved into another class, or renamed to .png, has the name of one already "
                        + "there); rename one of them");
            }
            perClass[label]++;
            images++;
            return tempRoot.resolve(classes.get(label)).resolve(name);
        }

        /** Records that a file of this folder failed to be written, so that it cannot commit. */
        synchronized void markBroken() {
            broken = true;
        }

        private Writer(Path finalRoot, Path tempRoot, List<String> classes, boolean ordered) {
            this.ordered = ordered;
            this.finalRoot = finalRoot;
            this.tempRoot = tempRoot;
            this.classes = classes;
            this.lastName = new String[classes.size()];
            this.perClass = new long[classes.size()];
        }

        /**
         * Creates the temporary folder with one empty folder per class.
         *
         * @param finalRoot where the dataset appears on {@link #commit()}; its parent must exist, and
         *                  it must not exist or be an empty directory (which commit replaces)
         * @param classes   the class folder names, label 0 first: in sorted order (code point order,
         *                  as {@link ImageFolder#scan} sorts), distinct, each one path segment not
         *                  starting with {@code .}
         * @return an open writer; close it
         * @throws InvalidArgumentException   if an argument is null, {@code classes} is empty,
         *                                    unsorted, has duplicates or a name that is not a
         *                                    visible single path segment
         * @throws FileAlreadyExistsException if {@code finalRoot} exists and is not an empty
         *                                    directory
         * @throws IOException                if the temporary folder cannot be created
         */
        public static Writer create(Path finalRoot, List<String> classes) throws IOException {
            return create(finalRoot, classes, true);
        }

        /** As {@link #create(Path, List)}; unordered when the caller has checked the names itself. */
        static Writer create(Path finalRoot, List<String> classes, boolean ordered) throws IOException {
            if (finalRoot == null || classes == null) {
                throw new InvalidArgumentException("finalRoot and classes must not be null");
            }
            if (classes.isEmpty()) {
                throw new InvalidArgumentException("classes must not be empty");
            }
            List<String> names = List.copyOf(classes); // also refuses null entries
            for (int i = 0; i < names.size(); i++) {
                String problem = segmentProblem(names.get(i));
                if (problem != null) {
                    throw new InvalidArgumentException("class name '" + names.get(i) + "' " + problem);
                }
                if (i > 0 && NAME_ORDER.compare(names.get(i - 1), names.get(i)) >= 0) {
                    throw new InvalidArgumentException("class names must be distinct and sorted, so that reading the"
                            + " folder back gives the same labels, but '" + names.get(i - 1) + "' comes before '"
                            + names.get(i) + "'");
                }
            }
            Path absolute = finalRoot.toAbsolutePath();
            Path parent = absolute.getParent();
            if (parent == null || absolute.getFileName() == null) {
                throw new InvalidArgumentException(finalRoot + " does not name a folder");
            }
            requireAbsentOrEmpty(finalRoot);
            Path temp = null;
            for (int attempt = 0; temp == null; attempt++) {
                Path candidate = parent.resolve("." + absolute.getFileName() + ".dyepack-tmp-"
                        + ProcessHandle.current().pid() + "-" + Long.toHexString(RANDOM.nextLong() & Long.MAX_VALUE));
                try {
                    Files.createDirectory(candidate);
                    temp = candidate;
                } catch (FileAlreadyExistsException e) {
                    if (attempt >= 10) {
                        throw e;
                    }
                }
            }
            try {
                for (String c : names) {
                    Files.createDirectory(temp.resolve(c));
                }
            } catch (IOException | RuntimeException e) {
                try {
                    deleteTree(temp);
                } catch (IOException suppressed) {
                    e.addSuppressed(suppressed);
                }
                throw e;
            }
            return new Writer(finalRoot, temp, names, ordered);
        }

        private static void requireAbsentOrEmpty(Path dir) throws IOException {
            if (!Files.exists(dir, LinkOption.NOFOLLOW_LINKS)) {
                return;
            }
            if (Files.isDirectory(dir, LinkOption.NOFOLLOW_LINKS)) {
                try (Stream<Path> s = Files.list(dir)) {
                    if (s.findAny().isEmpty()) {
                        return;
                    }
                }
            }
            throw new FileAlreadyExistsException(dir.toString(), null, "exists and is not an empty directory");
        }

        /** @return the temporary folder the images go to until {@link #commit()} */
        public Path tempRoot() {
            return tempRoot;
        }

        /** @return the number of images added so far */
        public long imagesWritten() {
            return images;
        }

        /**
         * Writes one image as {@code <class>/<name>.png}.
         *
         * @param label      the class index into the class list given to {@link #create}
         * @param fileName   the input file name, e.g. {@code "0001.png"} or {@code "cat.jpg"}: one
         *                   path segment, not starting with {@code .}, ending with {@code .png},
         *                   {@code .jpg} or {@code .jpeg} (any case); a JPEG name gets the extension
         *                   {@code .png} instead
         * @param pixelsNhwc {@code height * width * channels} bytes, uint8, row-major with channels
         *                   interleaved (R, G, B for 3 channels)
         * @param height     rows, at least 1; the same for every image
         * @param width      columns, at least 1; the same for every image
         * @param channels   1 (stored as 8-bit gray PNG) or 3 (8-bit RGB PNG)
         * @return the file name written inside the class folder
         * @throws InvalidArgumentException if the label is out of range, the file name is not
         *                                  acceptable or not after the previous name of its class,
         *                                  the size differs from the first image's, the channel count
         *                                  is not 1 or 3, or the pixel array is null or of the wrong
         *                                  length; nothing is written then
         * @throws IllegalStateException    if the writer is closed or committed
         * @throws IOException              if the file cannot be written; the writer can then no
         *                                  longer commit
         */
        public String add(int label, String fileName, byte[] pixelsNhwc, int height, int width, int channels)
                throws IOException {
            requireOpen();
            if (label < 0 || label >= classes.size()) {
                throw new InvalidArgumentException("label " + label + " is out of range 0.." + (classes.size() - 1));
            }
            String problem = segmentProblem(fileName);
            if (problem == null && !isImageName(fileName)) {
                problem = "does not end with .png, .jpg or .jpeg";
            }
            if (problem != null) {
                throw new InvalidArgumentException("file name '" + fileName + "' " + problem);
            }
            if (height < 1 || width < 1 || channels != 1 && channels != 3) {
                throw new InvalidArgumentException("height (" + height + ") and width (" + width
                        + ") must be positive and channels (" + channels + ") 1 or 3");
            }
            if (pixelsNhwc == null || pixelsNhwc.length != (long) height * width * channels) {
                throw new InvalidArgumentException("pixelsNhwc must hold " + (long) height * width * channels
                        + " bytes for " + width + "x" + height + "x" + channels + ", got "
                        + (pixelsNhwc == null ? "null" : pixelsNhwc.length));
            }
            if (this.height >= 0 && (height != this.height || width != this.width)) {
                throw new InvalidArgumentException(fileName + ": image is " + width + "x" + height + " but the first"
                        + " image added is " + this.width + "x" + this.height
                        + "; a folder with mixed sizes would not read back");
            }
            String name = pngName(fileName);
            String previous = lastName[label];
            if (ordered && previous != null && NAME_ORDER.compare(previous, name) >= 0) {
                throw new InvalidArgumentException("class '" + classes.get(label) + "': '" + name + "' (from '"
                        + fileName + "') does not come after '" + previous + "'; add the images of a class once"
                        + " each and in file-name order, so that reading the folder back gives the same order");
            }

            Path target = tempRoot.resolve(classes.get(label)).resolve(name);
            try {
                writePng(toImage(pixelsNhwc, height, width, channels), target);
            } catch (IOException | RuntimeException e) {
                // A partial file would be committed along with the rest.
                broken = true;
                throw e;
            }
            lastName[label] = name;
            perClass[label]++;
            images++;
            this.height = height;
            this.width = width;
            return name;
        }

        /** {@code x.png} stays; {@code x.jpg} and {@code x.jpeg} become {@code x.png}. */
        static String pngName(String fileName) {
            if (fileName.toLowerCase(Locale.ROOT).endsWith(".png")) {
                return fileName;
            }
            return fileName.substring(0, fileName.lastIndexOf('.')) + ".png";
        }

        private static BufferedImage toImage(byte[] px, int height, int width, int channels) {
            return dev.dyepack.image.ImageEncoder.plain(px, width, height, channels);
        }

        private static void writePng(BufferedImage img, Path target) throws IOException {
            try (ImageOutputStream out = new FileImageOutputStream(target.toFile())) {
                if (!ImageIO.write(img, "png", out)) {
                    throw new IOException("javax.imageio has no PNG writer");
                }
            }
        }

        /**
         * Completes the dataset: checks that every class has at least one image, forces every file
         * and folder to disk, and renames the temporary folder to the final name. If this throws,
         * the temporary folder is deleted and the writer is closed; nothing appears under the final
         * name.
         *
         * @throws IllegalStateException      if the writer is closed or committed, a class has no
         *                                    image (it would not read back), or an earlier
         *                                    {@link #add} failed to write
         * @throws FileAlreadyExistsException if the final folder has appeared meanwhile and is not
         *                                    empty
         * @throws IOException                if forcing or renaming fails
         */
        public void commit() throws IOException {
            requireOpen();
            try {
                if (broken) {
                    throw new IllegalStateException(finalRoot + ": an earlier image failed to write");
                }
                for (int c = 0; c < classes.size(); c++) {
                    if (perClass[c] == 0) {
                        throw new IllegalStateException(finalRoot + ": class '" + classes.get(c) + "' has no image;"
                                + " an empty class folder would not read back");
                    }
                }
                // Forcing after all writes lets the kernel write the files back in bulk first.
                Durability.forceTree(tempRoot);
                requireAbsentOrEmpty(finalRoot);
                try {
                    // rename(2) replaces an empty directory and refuses a non-empty one.
                    Files.move(tempRoot, finalRoot, StandardCopyOption.ATOMIC_MOVE);
                } catch (AtomicMoveNotSupportedException e) {
                    Files.deleteIfExists(finalRoot); // fails if it is not empty
                    Files.move(tempRoot, finalRoot);
                }
                committed = true;
                closed = true;
            } catch (IOException | RuntimeException e) {
                closeQuietly(e);
                throw e;
            }
            force(finalRoot.toAbsolutePath().getParent());
        }

        /** Forces a directory's entries to disk where a directory can be opened; best effort. */
        private static void force(Path dir) {
            try (FileChannel d = FileChannel.open(dir, StandardOpenOption.READ)) {
                d.force(true);
            } catch (IOException | UnsupportedOperationException e) {
                // Windows cannot open directories; the rename is then left to the file system.
            }
        }

        /**
         * Abandons an uncommitted dataset: deletes the temporary folder and everything in it. After
         * a commit, or a second time, it does nothing.
         *
         * @throws IOException if the temporary folder cannot be deleted completely
         */
        @Override
        public void close() throws IOException {
            if (closed) {
                return;
            }
            closed = true;
            deleteTree(tempRoot);
        }

        private void closeQuietly(Exception primary) {
            try {
                close();
            } catch (IOException | RuntimeException e) {
                primary.addSuppressed(e);
            }
        }

        private void requireOpen() {
            if (committed) {
                throw new IllegalStateException(finalRoot + ": already committed");
            }
            if (closed) {
                throw new IllegalStateException(finalRoot + ": writer is closed");
            }
        }
    }

    /** Deletes a folder this class created, and everything in it; links are removed, not followed. */
    static void deleteTree(Path dir) throws IOException {
        if (!Files.exists(dir, LinkOption.NOFOLLOW_LINKS)) {
            return;
        }
        Files.walkFileTree(dir, new SimpleFileVisitor<Path>() {
            @Override
            public FileVisitResult visitFile(Path file, BasicFileAttributes attrs) throws IOException {
                Files.delete(file);
                return FileVisitResult.CONTINUE;
            }

            @Override
            public FileVisitResult postVisitDirectory(Path d, IOException e) throws IOException {
                if (e != null) {
                    throw e;
                }
                Files.delete(d);
                return FileVisitResult.CONTINUE;
            }
        });
    }
}
