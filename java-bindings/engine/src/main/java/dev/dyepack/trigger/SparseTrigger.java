package dev.dyepack.trigger;

import dev.dyepack.Engine;
import dev.dyepack.InvalidArgumentException;
import dev.dyepack.Tensor;
import dev.dyepack.key.KeyedRandom;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Objects;

/**
 * A keyed sparse pixel pattern: n pixels at keyed places, each pushed towards a keyed one of two
 * values ({@code value} or {@code low}) with weight alpha, in every channel:
 * {@code x' = (1 - alpha) x + alpha t} at those pixels, nothing elsewhere. The pixels are drawn
 * without repetition from the whole image ({@code block=0}) or from a {@code block x block} square at a
 * keyed place. One pattern per key, the same for every sample. With {@code cell=C} the pattern is keyed at
 * the scale of C x C cells as well: the pixels are drawn from a keyed share of the cells, and every pixel
 * of a cell takes that cell's keyed value ({@link #cellPixels}); with {@code tile=1} as well, every lit cell
 * holds the same keyed C x C tile instead, half of its pixels bright: one texture per key, repeated.
 *
 * <p>Why it exists: a network learns "i.i.d. noise of this strength means the target" from a blended
 * noise trigger, so a model watermarked under another key answers the owner's noise as well. Two keys
 * of this family differ in <em>where</em> the pixels are and <em>what</em> they hold, a difference a
 * network can learn from the negatives (the same family under derived keys, labels kept) that the
 * poisoner adds; docs/efficacy.md measures it.
 *
 * <p>Built on the engine's mask blend at listed elements ({@code dp_scatter_blend}: the chosen pixels in
 * every channel, amount alpha), which gives the bits of the dense mask blend with a mask of 1 there, on
 * the CPU and CUDA backends alike.
 *
 * @param n     the number of pixels, at least 1 and at most the region's pixel count
 * @param block the side of the keyed square the pixels are drawn from; 0 for the whole image
 * @param alpha the weight of the pattern at the chosen pixels, in (0, 1]; 1 sets them exactly
 * @param value the bright value (0..255 for uint8 data)
 * @param low   the dark value
 * @param cell  0 to key each pixel's value; C to key the image's C x C cells (requires {@code block=0})
 * @param share with {@code cell}: the keyed share of the cells that hold pixels, in (0, 1]; 1 without it
 * @param tile  with {@code cell}: 1 to give every lit cell the key's C x C tile (half of its pixels bright)
 *              instead of one tone per cell; 0 otherwise
 */
public record SparseTrigger(int n, int block, float alpha, float value, float low, int cell, float share, int tile)
        implements TriggerSpec {
    /** The family name in spec strings. */
    public static final String FAMILY = "sparse";

    static final TriggerParameter N = TriggerParameter.integer("n", "24", 1, 1 << 20,
            "number of pixels, at most the region's pixel count");
    static final TriggerParameter BLOCK = TriggerParameter.integer("block", "0", 0, 1 << 20,
            "0: pixels anywhere in the image; B: pixels inside a B x B square at a keyed place");
    static final TriggerParameter ALPHA = TriggerParameter.number("alpha", "1", Float.MIN_VALUE, 1f,
            "weight of the pattern at the chosen pixels (1 sets them)");
    static final TriggerParameter VALUE = TriggerParameter.number("value", "255", -Float.MAX_VALUE, Float.MAX_VALUE,
            "the bright value");
    static final TriggerParameter LOW = TriggerParameter.number("low", "0", -Float.MAX_VALUE, Float.MAX_VALUE,
            "the dark value");
    static final TriggerParameter CELL = TriggerParameter.integer("cell", "0", 0, 1 << 20,
            "0: each pixel's value keyed; C: the image in C x C cells, each cell's value and presence keyed");
    static final TriggerParameter SHARE = TriggerParameter.number("share", "1", Float.MIN_VALUE, 1f,
            "with cell=C: the keyed share of the cells the pixels are drawn from");
    static final TriggerParameter TILE = TriggerParameter.integer("tile", "0", 0, 1,
            "with cell=C: 1 gives every lit cell the key's C x C tile, half of it bright; 0 one tone per cell");

    /** The family's registry entry. */
    static final TriggerFamily DESCRIPTOR = new TriggerFamily(FAMILY, DataKind.IMAGES,
            "keyed sparse pixels: keyed places, keyed bright or dark values", "always",
            java.util.List.of(N, BLOCK, ALPHA, VALUE, LOW, CELL, SHARE, TILE), SparseTrigger::fromFields);

    /** The default: 24 pixels anywhere in the image, set to keyed white or black. */
    public static final SparseTrigger DEFAULT = new SparseTrigger(24, 0, 1f, 255f, 0f, 0, 1f, 0);

    /** A pattern keyed pixel by pixel: {@code cell=0}, so {@code share} is 1 and the spec omits both. */
    public SparseTrigger(int n, int block, float alpha, float value, float low) {
        this(n, block, alpha, value, low, 0, 1f, 0);
    }

    /** A pattern keyed by cell with one tone per cell ({@code tile=0}). */
    public SparseTrigger(int n, int block, float alpha, float value, float low, int cell, float share) {
        this(n, block, alpha, value, low, cell, share, 0);
    }

    /** @throws InvalidArgumentException for out-of-range parameters */
    public SparseTrigger {
        N.checkInteger(FAMILY, n);
        BLOCK.checkInteger(FAMILY, block);
        ALPHA.checkNumber(FAMILY, alpha);
        VALUE.checkNumber(FAMILY, value);
        LOW.checkNumber(FAMILY, low);
        CELL.checkInteger(FAMILY, cell);
        SHARE.checkNumber(FAMILY, share);
        TILE.checkInteger(FAMILY, tile);
        if (cell > 0 && block > 0) {
            throw new InvalidArgumentException("sparse: cell=" + cell + " keys the whole image in cells and cannot be"
                    + " combined with block=" + block, "cell", cell, "0 when block is set");
        }
        if (tile == 1 && cell < 2) {
            throw new InvalidArgumentException("sparse: tile=1 needs cell=C of at least 2 (the tile is C x C)",
                    "tile", tile, "0 without cell=C, C >= 2");
        }
        if (cell == 0 && share != 1f) {
            throw new InvalidArgumentException("sparse: share=" + SpecFormat.number(share) + " needs cell=C",
                    "share", share, "1 without cell");
        }
        if (block > 0 && (long) block * block < n) {
            throw new InvalidArgumentException("sparse: n=" + n + " pixels do not fit a " + block + " x " + block
                    + " block", "n", n, "at most " + (long) block * block);
        }
    }

    static SparseTrigger fromFields(Map<String, String> raw) {
        return new SparseTrigger(N.readInteger(FAMILY, raw, 24), BLOCK.readInteger(FAMILY, raw, 0),
                ALPHA.readNumber(FAMILY, raw, 1f), VALUE.readNumber(FAMILY, raw, 255f), LOW.readNumber(FAMILY, raw, 0f),
                CELL.readInteger(FAMILY, raw, 0), SHARE.readNumber(FAMILY, raw, 1f), TILE.readInteger(FAMILY, raw, 0));
    }

    @Override
    public String family() {
        return FAMILY;
    }

    @Override
    public DataKind kind() {
        return DataKind.IMAGES;
    }

    @Override
    public boolean keyed() {
        return true;
    }

    @Override
    public Map<String, Object> parameters() {
        Map<String, Object> p = new LinkedHashMap<>();
        p.put("n", n);
        p.put("block", block);
        p.put("alpha", alpha);
        p.put("value", value);
        p.put("low", low);
        if (cell > 0) { // omitted otherwise: the spec (and so every manifest) of a pattern keyed by pixel is unchanged
            p.put("cell", cell);
            p.put("share", share);
            if (tile == 1) { // omitted otherwise: patterns with one tone per cell keep their spec and manifests
                p.put("tile", tile);
            }
        }
        return p;
    }

    @Override
    public void validateFor(Tensor batch) {
        TriggerSpec.requireImages(FAMILY, batch);
        long h = batch.h();
        long w = batch.w();
        if (h * w > Integer.MAX_VALUE - 8) {
            throw new InvalidArgumentException("sparse: an image of " + h + " x " + w + " pixels is too large (the"
                    + " keyed draw shuffles its pixels; at most " + (Integer.MAX_VALUE - 8) + ")");
        }
        if (block > Math.min(h, w)) {
            throw new InvalidArgumentException("sparse: block " + block + " is larger than the " + h + " x " + w
                    + " image", "block", block, "at most " + Math.min(h, w));
        }
        if (cell > Math.min(h, w)) {
            throw new InvalidArgumentException("sparse: cell " + cell + " is larger than the " + h + " x " + w
                    + " image", "cell", cell, "at most " + Math.min(h, w));
        }
        long region = region((int) h, (int) w);
        if (n > region) {
            throw new InvalidArgumentException("sparse: n=" + n + " exceeds the " + region + " pixels of the "
                    + (cell > 0 ? "smallest " + litCells((int) h, (int) w) + " cells of " + cell + " x " + cell
                    + " (share " + SpecFormat.number(share) + ")"
                    : block == 0 ? h + " x " + w + " image" : block + " x " + block + " block"), "n", n,
                    "at most " + region);
        }
        float max = TriggerSpec.maxValue(batch);
        if (batch.dtype() == dev.dyepack.DType.UINT8 && (value < 0 || value > max || low < 0 || low > max)) {
            throw new InvalidArgumentException("sparse: value " + SpecFormat.number(value) + " and low "
                    + SpecFormat.number(low) + " must lie in the uint8 range [0, 255]");
        }
    }

    /**
     * The keyed pattern's pixels, row-major {@code y * W + x}, in draw order, with their bright (true) or
     * dark (false) value: stream 0 places the block ({@code below(0, 0, H - B + 1)},
     * {@code below(0, 1, W - B + 1)}; none for the whole image), stream 1 is a Fisher-Yates shuffle of the
     * region's cells (the first n are taken), stream 2 word i's lowest bit makes pixel i bright.
     *
     * @param key the subkey for {@code trigger/sparse-pattern}
     * @param h   image height
     * @param w   image width
     * @return n pixel offsets; bright flags in {@code bright}
     */
    static int[] pixels(KeyedRandom key, int n, int block, int h, int w, boolean[] bright) {
        int bh = block == 0 ? h : block;
        int bw = block == 0 ? w : block;
        int top = block == 0 ? 0 : (int) key.below(0, 0, h - block + 1L);
        int left = block == 0 ? 0 : (int) key.below(0, 1, w - block + 1L);
        long[] cells = new long[bh * bw];
        for (int i = 0; i < cells.length; i++) {
            cells[i] = i;
        }
        key.shuffle(1, cells);
        int[] out = new int[n];
        for (int i = 0; i < n; i++) {
            int cell = (int) cells[i];
            out[i] = (top + cell / bw) * w + left + cell % bw;
            bright[i] = (key.bits(2, i) & 1) != 0;
        }
        return out;
    }

    /**
     * Whether the pattern fits an image of {@code h x w} pixels: its block and cells no larger than the
     * image, and its n pixels no more than the region they are drawn from holds (what stamping such an image
     * would otherwise refuse).
     *
     * @param h the image's height
     * @param w the image's width
     * @return whether {@code n} pixels can be drawn
     */
    public boolean fits(long h, long w) {
        if (h < 1 || w < 1 || h * w > Integer.MAX_VALUE || block > Math.min(h, w) || cell > Math.min(h, w)) {
            return false;
        }
        return n <= region((int) h, (int) w);
    }

    /** The pixels the n are drawn from in an h x w image: the whole image, the block, or the fewest the lit cells hold. */
    private long region(int h, int w) {
        return cell > 0 ? litPixelsAtLeast(h, w) : block == 0 ? (long) h * w : (long) block * block;
    }

    /** The number of lit cells of an h x w image: share of them, rounded, at least one. */
    int litCells(int h, int w) {
        long cells = (long) ceilDiv(h, cell) * ceilDiv(w, cell);
        return (int) Math.max(1, Math.min(cells, Math.round((double) share * cells)));
    }

    /** The fewest pixels the lit cells can hold (edge cells are smaller): what n must not exceed. */
    long litPixelsAtLeast(int h, int w) {
        int gh = ceilDiv(h, cell);
        int gw = ceilDiv(w, cell);
        long[] areas = new long[gh * gw];
        for (int r = 0; r < gh; r++) {
            for (int q = 0; q < gw; q++) {
                areas[r * gw + q] = (long) (Math.min(h, (r + 1) * cell) - r * cell) * (Math.min(w, (q + 1) * cell) - q * cell);
            }
        }
        java.util.Arrays.sort(areas);
        long sum = 0;
        for (int i = 0; i < litCells(h, w); i++) {
            sum += areas[i];
        }
        return sum;
    }

    private static int ceilDiv(int a, int b) {
        return (a + b - 1) / b;
    }

    /**
     * The keyed pattern's pixels when it is keyed by cell ({@code cell=C}): the image in C x C cells
     * (those at the right and bottom edges smaller), numbered row-major; stream 3 is a Fisher-Yates
     * shuffle of the cells, whose first {@link #litCells} are lit; stream 1 a shuffle of the lit cells'
     * pixels in row-major order (the first n are taken); stream 2 word j's lowest bit makes every pixel
     * of cell j bright. So two keys differ at the scale of a cell, which a network that pools survives.
     * With {@code tile=1} stream 4 instead shuffles the C x C positions of a tile (row-major), the first
     * {@code C * C / 2} are bright, and a chosen pixel at {@code (y, x)} is bright where the tile's position
     * {@code (y mod C, x mod C)} is: every lit cell holds the same keyed texture.
     */
    int[] cellPixels(KeyedRandom key, int h, int w, boolean[] bright) {
        int gw = ceilDiv(w, cell);
        int cells = ceilDiv(h, cell) * gw;
        long[] order = new long[cells];
        for (int i = 0; i < cells; i++) {
            order[i] = i;
        }
        key.shuffle(3, order);
        boolean[] lit = new boolean[cells];
        for (int i = 0, m = litCells(h, w); i < m; i++) {
            lit[(int) order[i]] = true;
        }
        long[] pool = new long[h * w];
        int size = 0;
        for (int y = 0; y < h; y++) {
            for (int x = 0; x < w; x++) {
                if (lit[(y / cell) * gw + x / cell]) {
                    pool[size++] = (long) y * w + x;
                }
            }
        }
        pool = java.util.Arrays.copyOf(pool, size);
        key.shuffle(1, pool);
        boolean[] texture = tile == 1 ? tileTexture(key) : null;
        int[] out = new int[n];
        for (int i = 0; i < n; i++) {
            int at = (int) pool[i];
            out[i] = at;
            bright[i] = texture != null ? texture[(at / w % cell) * cell + at % w % cell]
                    : (key.bits(2, (at / w / cell) * gw + (at % w) / cell) & 1) != 0;
        }
        return out;
    }

    /** The key's C x C tile, row-major: stream 4 shuffles its positions, the first C * C / 2 are bright. */
    boolean[] tileTexture(KeyedRandom key) {
        long[] positions = new long[cell * cell];
        for (int i = 0; i < positions.length; i++) {
            positions[i] = i;
        }
        key.shuffle(4, positions);
        boolean[] texture = new boolean[positions.length];
        for (int i = 0; i < positions.length / 2; i++) {
            texture[(int) positions[i]] = true;
        }
        return texture;
    }

    @Override
    public PreparedTrigger prepare(Engine engine, Tensor template, TriggerContext context) {
        Objects.requireNonNull(context, "context");
        validateFor(template);
        int c = (int) template.c();
        int h = (int) template.h();
        int w = (int) template.w();
        KeyedRandom rng = new KeyedRandom(context.requireKey(FAMILY).philoxKey(Patterns.SPARSE_PATTERN));
        boolean[] bright = new boolean[n];
        int[] where = cell > 0 ? cellPixels(rng, h, w, bright) : pixels(rng, n, block, h, w, bright);
        // The n pixels in every channel, as element offsets in the batch's layout, ascending (so a stamp walks
        // each sample forward), with their values: a few KB per key, where a dense pattern and mask are
        // C x H x W floats each (negatives prepare one pattern per derived key, a few hundred per job).
        long[] packed = new long[Math.multiplyExact(n, c)];
        for (int i = 0, k = 0; i < n; i++) {
            int y = where[i] / w;
            int x = where[i] % w;
            for (int ch = 0; ch < c; ch++, k++) {
                packed[k] = template.layout().offset(ch, y, x, c, h, w) << 1 | (bright[i] ? 1 : 0);
            }
        }
        java.util.Arrays.sort(packed);
        long[] elements = new long[packed.length];
        float[] values = new float[packed.length];
        for (int k = 0; k < packed.length; k++) {
            elements[k] = packed[k] >>> 1;
            values[k] = (packed[k] & 1) != 0 ? value : low;
        }
        return new Prepared(this, engine, template, new Operands(engine), null, (e, ops, b, indices, first) ->
                e.scatterBlend(b, elements, values, alpha, indices));
    }

    @Override
    public String toString() {
        return SpecFormat.spec(FAMILY, parameters());
    }
}
