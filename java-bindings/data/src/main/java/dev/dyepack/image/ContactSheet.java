package dev.dyepack.image;

import dev.dyepack.InvalidArgumentException;
import dev.dyepack.Layout;
import dev.dyepack.io.AtomicFiles;
import dev.dyepack.io.StagedOutput;
import java.awt.Color;
import java.awt.Font;
import java.awt.FontMetrics;
import java.awt.Graphics2D;
import java.awt.RenderingHints;
import java.awt.image.BufferedImage;
import java.io.IOException;
import java.io.OutputStream;
import java.math.BigDecimal;
import java.nio.channels.Channels;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.Iterator;
import java.util.List;
import javax.imageio.ImageIO;
import javax.imageio.ImageTypeSpecifier;
import javax.imageio.ImageWriter;
import javax.imageio.stream.ImageOutputStream;
import javax.imageio.stream.MemoryCacheImageOutputStream;

/**
 * A preview grid that shows a person what a trigger does to a few samples.
 *
 * <p>Geometry of {@link #render}, for k samples of H x W pixels and upscale factor s: three rows of
 * k tiles, each tile {@code W*s} wide and {@code H*s} high (every pixel a s x s block). Row 0 shows
 * the clean samples, row 1 the triggered ones, row 2 the amplified difference. Tiles are separated
 * from each other and from the border by {@link #SEPARATOR} pixels of {@link #BACKGROUND}, and a
 * label column {@link #LABEL_WIDTH} pixels wide sits on the left. So the sheet is
 * {@code LABEL_WIDTH + SEPARATOR + k*(W*s + SEPARATOR)} pixels wide and
 * {@code SEPARATOR + 3*(H*s + SEPARATOR)} high, and tile (row r, sample j) has its top-left pixel
 * at x = {@code LABEL_WIDTH + SEPARATOR + j*(W*s + SEPARATOR)}, y = {@code SEPARATOR + r*(H*s + SEPARATOR)}.
 *
 * <p>Tile pixels are exact: they are the levels {@link Images#toImage} gives for the same range,
 * written straight into the sheet without colour-space conversion. Only the labels depend on the
 * fonts installed.
 *
 * <p>Stateless and thread-safe.
 */
public final class ContactSheet {
    /** Width in pixels of the separators between tiles and around the grid. */
    public static final int SEPARATOR = 2;
    /** Width in pixels of the label column on the left. */
    public static final int LABEL_WIDTH = 84;
    /** The neutral colour of separators and the label column, {@code 0xRRGGBB}; darker than mid-grey. */
    public static final int BACKGROUND = 0x303030;
    /** The largest upscale factor {@link #render} accepts. */
    public static final int MAX_SCALE = 32;
    /** The most pixels a sheet may have (a preview larger than this is a mistake, not a preview). */
    public static final long MAX_PIXELS = 1L << 26;

    private static final Color LABEL_COLOR = new Color(0xe0e0e0);
    private static final int LABEL_MARGIN = 4;

    private ContactSheet() {
    }

    /**
     * Draws clean samples, their triggered versions, and the amplified difference as a grid (see the
     * class comment for the geometry).
     *
     * <p>Rows 0 and 1 map [low, high] to black..white as {@link Images#toImage} does. Row 2 shows,
     * per element, {@code 0.5*(high + low) + amplify*(triggered - clean)} (in double) with the same
     * mapping, so an unchanged element is mid-grey (level 128), an increase is brighter and a
     * decrease darker. Three channels are shown in colour; any other channel count shows channel 0
     * as gray.
     *
     * <p>The labels "clean", "triggered" and "diff x&lt;amplify&gt;" use the default font. Where text
     * cannot be drawn (a headless machine without usable fonts) the label column is left plain
     * instead of failing: the tiles are what matters.
     *
     * @param clean     k clean samples, each {@code channels * height * width} floats in {@code layout}
     * @param triggered the same k samples with the trigger applied, in the same order and shape
     * @param channels  C, at least 1
     * @param height    H, at least 1
     * @param width     W, at least 1
     * @param layout    the order of every sample
     * @param low       the value shown as black
     * @param high      the value shown as white; finite and greater than {@code low}
     * @param amplify   the factor applied to the difference; finite and greater than 0
     * @param scale     the integer upscale of each tile, 1 to {@link #MAX_SCALE}
     * @return a new {@link BufferedImage#TYPE_INT_RGB} image
     * @throws InvalidArgumentException if a list or sample is null, the lists are empty or differ in
     *                                  length, a sample has the wrong length, a size is below 1, the
     *                                  range, amplify or scale is out of bounds, or the sheet would
     *                                  exceed {@link #MAX_PIXELS}
     */
    public static BufferedImage render(List<float[]> clean, List<float[]> triggered, int channels, int height,
                                       int width, Layout layout, float low, float high, float amplify, int scale) {
        if (clean == null || triggered == null) {
            throw new InvalidArgumentException("contact sheet: clean and triggered must not be null");
        }
        int k = clean.size();
        if (k < 1) {
            throw new InvalidArgumentException("contact sheet: needs at least one sample");
        }
        if (triggered.size() != k) {
            throw new InvalidArgumentException("contact sheet: " + k + " clean samples but " + triggered.size()
                    + " triggered ones");
        }
        for (int j = 0; j < k; j++) {
            Images.checkImage(clean.get(j), channels, height, width, layout, "clean sample " + j);
            Images.checkImage(triggered.get(j), channels, height, width, layout, "triggered sample " + j);
        }
        Images.checkRange(low, high);
        if (!Float.isFinite(amplify) || !(amplify > 0f)) {
            throw new InvalidArgumentException("contact sheet: amplify must be finite and greater than 0, got "
                    + amplify);
        }
        if (scale < 1 || scale > MAX_SCALE) {
            throw new InvalidArgumentException("contact sheet: scale must be 1.." + MAX_SCALE + ", got " + scale);
        }
        long tileW = (long) width * scale;
        long tileH = (long) height * scale;
        // In double: k * tile width can pass 2^63 for absurd arguments, and the check must still hold.
        double sheetW = LABEL_WIDTH + SEPARATOR + (double) k * (tileW + SEPARATOR);
        double sheetH = SEPARATOR + 3.0 * (tileH + SEPARATOR);
        if (sheetW * sheetH > MAX_PIXELS) {
            throw new InvalidArgumentException("contact sheet: " + (long) sheetW + "x" + (long) sheetH
                    + " pixels is more than " + MAX_PIXELS + "; use fewer samples or a smaller scale");
        }

        BufferedImage sheet = new BufferedImage((int) sheetW, (int) sheetH, BufferedImage.TYPE_INT_RGB);
        fill(sheet, 0, 0, (int) sheetW, (int) sheetH, BACKGROUND);
        // In double, and kept there until the level is taken, so that "no change" lands exactly on 128.
        double mid = 0.5 * ((double) high + low);
        for (int j = 0; j < k; j++) {
            float[] c = clean.get(j);
            float[] t = triggered.get(j);
            int x0 = LABEL_WIDTH + SEPARATOR + j * (int) (tileW + SEPARATOR);
            drawTile(sheet, c, channels, height, width, layout, low, high, scale, x0, rowTop(0, tileH));
            drawTile(sheet, t, channels, height, width, layout, low, high, scale, x0, rowTop(1, tileH));
            drawDiffTile(sheet, c, t, channels, height, width, layout, low, high, mid, amplify, scale, x0,
                    rowTop(2, tileH));
        }
        drawLabels(sheet, new String[] {"clean", "triggered", diffLabel(amplify)}, (int) tileH);
        return sheet;
    }

    private static int rowTop(int row, long tileH) {
        return (int) (SEPARATOR + row * (tileH + SEPARATOR));
    }

    private static void drawTile(BufferedImage sheet, float[] values, int channels, int height, int width,
                                 Layout layout, float low, float high, int scale, int x0, int y0) {
        for (int y = 0; y < height; y++) {
            for (int x = 0; x < width; x++) {
                int rgb = Images.rgbLevel(values, y, x, channels, height, width, layout, low, high);
                fill(sheet, x0 + x * scale, y0 + y * scale, scale, scale, rgb);
            }
        }
    }

    private static void drawDiffTile(BufferedImage sheet, float[] clean, float[] triggered, int channels,
                                     int height, int width, Layout layout, float low, float high, double mid,
                                     float amplify, int scale, int x0, int y0) {
        int shown = channels == 3 ? 3 : 1;
        for (int y = 0; y < height; y++) {
            for (int x = 0; x < width; x++) {
                int rgb = 0;
                for (int c = 0; c < shown; c++) {
                    int i = (int) layout.offset(c, y, x, channels, height, width);
                    double d = mid + (double) amplify * ((double) triggered[i] - clean[i]);
                    rgb = (rgb << 8) | Images.level(d, low, high);
                }
                if (shown == 1) {
                    rgb = rgb * 0x010101;
                }
                fill(sheet, x0 + x * scale, y0 + y * scale, scale, scale, rgb);
            }
        }
    }

    private static void fill(BufferedImage img, int x0, int y0, int w, int h, int rgb) {
        for (int y = y0; y < y0 + h; y++) {
            for (int x = x0; x < x0 + w; x++) {
                img.setRGB(x, y, rgb);
            }
        }
    }

    /** "diff x" and the factor without a trailing ".0": 10 gives "diff x10", 2.5 "diff x2.5". */
    static String diffLabel(float amplify) {
        return "diff x" + new BigDecimal(Float.toString(amplify)).stripTrailingZeros().toPlainString();
    }

    /**
     * Writes the labels into the label column, each clipped to its row. Font machinery is the one
     * part that may be missing on a server JVM; it fails with assorted unchecked exceptions and errors,
     * and any of them leaves a plain label column rather than no sheet.
     */
    private static void drawLabels(BufferedImage sheet, String[] labels, int tileH) {
        try {
            Graphics2D g = sheet.createGraphics();
            try {
                g.setRenderingHint(RenderingHints.KEY_TEXT_ANTIALIASING, RenderingHints.VALUE_TEXT_ANTIALIAS_ON);
                g.setColor(LABEL_COLOR);
                Font font = g.getFont();
                FontMetrics fm = g.getFontMetrics(font);
                if (fm.getHeight() > tileH) {
                    // Short tiles: shrink the default font to the row height, but keep it legible-ish.
                    font = font.deriveFont(Math.max(6f, font.getSize2D() * tileH / fm.getHeight()));
                    g.setFont(font);
                    fm = g.getFontMetrics(font);
                }
                for (int r = 0; r < labels.length; r++) {
                    int top = rowTop(r, tileH);
                    g.setClip(0, top, LABEL_WIDTH, tileH);
                    int baseline = top + (tileH + fm.getAscent() - fm.getDescent()) / 2;
                    g.drawString(labels[r], LABEL_MARGIN, baseline);
                }
            } finally {
                g.dispose();
            }
        } catch (OutOfMemoryError e) {
            throw e;
        } catch (RuntimeException | Error e) {
            // Labels half drawn are worse than none.
            fill(sheet, 0, 0, LABEL_WIDTH, sheet.getHeight(), BACKGROUND);
        }
    }

    /**
     * Writes {@code img} as a PNG file the way a command writes its output ({@link StagedOutput}): an
     * existing non-empty {@code out} is refused unless {@code replace}, and replaced only by the final
     * rename; a second writer of the same file fails while this one holds it.
     *
     * @param img     the image; any type the JDK's PNG writer encodes
     * @param out     the PNG file to create (its missing parent directories too)
     * @param replace whether an existing non-empty file may be replaced
     * @param inputs  files the command read, which {@code out} must not be
     * @throws InvalidArgumentException if an argument is null, {@code out} is an input, a directory, or
     *                                  exists and may not be replaced, or the PNG writer cannot encode
     *                                  the image
     * @throws dev.dyepack.io.OutputBusyException if another run is writing {@code out}
     * @throws IOException              if the file cannot be written or moved into place
     */
    public static void write(BufferedImage img, Path out, boolean replace, Path... inputs) throws IOException {
        if (img == null || out == null) {
            throw new InvalidArgumentException("contact sheet write: image and path must not be null");
        }
        try (StagedOutput staged = StagedOutput.begin(out, StagedOutput.Kind.FILE, replace, inputs)) {
            write(img, staged.path());
            staged.commit();
        }
    }

    /**
     * Writes {@code img} as a PNG file, all or nothing: the PNG goes to a temporary file
     * {@code .<name>.dyepack-tmp-<pid>-<random>} in the same directory, is forced to disk, and is then renamed to
     * {@code out} (atomically where the file system can; an existing file is replaced). If anything
     * fails the temporary file is deleted and {@code out} is left as it was. The directory must exist.
     *
     * @param img the image; any type the JDK's PNG writer encodes (all standard BufferedImage types)
     * @param out the PNG file to create or replace
     * @throws InvalidArgumentException if an argument is null, {@code out} has no file name, or the
     *                                  PNG writer cannot encode the image
     * @throws IOException              if the temporary file cannot be created, written or renamed
     *                                  (for example the directory is missing or {@code out} is a
     *                                  directory)
     */
    public static void write(BufferedImage img, Path out) throws IOException {
        if (img == null || out == null) {
            throw new InvalidArgumentException("contact sheet write: image and path must not be null");
        }
        Path absolute = out.toAbsolutePath();
        Path dir = absolute.getParent();
        Path name = absolute.getFileName();
        if (dir == null || name == null) {
            throw new InvalidArgumentException(out + " does not name a file");
        }
        Iterator<ImageWriter> writers = ImageIO.getImageWritersByFormatName("png");
        if (!writers.hasNext()) {
            throw new IllegalStateException("this JDK has no PNG writer");
        }
        ImageWriter writer = writers.next();
        try {
            if (!writer.getOriginatingProvider().canEncodeImage(ImageTypeSpecifier.createFromRenderedImage(img))) {
                throw new InvalidArgumentException("the PNG writer cannot encode an image of type " + img.getType());
            }
            Path temp = AtomicFiles.newTempFile(dir.resolve(name));
            boolean moved = false;
            try {
                try (FileChannel ch = FileChannel.open(temp, StandardOpenOption.WRITE)) {
                    OutputStream os = Channels.newOutputStream(ch);
                    // A memory cache, not ImageIO's default file cache in java.io.tmpdir.
                    try (ImageOutputStream ios = new MemoryCacheImageOutputStream(os)) {
                        writer.setOutput(ios);
                        writer.write(img);
                        ios.flush();
                    }
                    os.flush();
                    ch.force(true);
                }
                AtomicFiles.moveIntoPlace(temp, absolute);
                moved = true;
            } finally {
                if (!moved) {
                    Files.deleteIfExists(temp);
                }
            }
        } finally {
            writer.dispose();
        }
    }


}
