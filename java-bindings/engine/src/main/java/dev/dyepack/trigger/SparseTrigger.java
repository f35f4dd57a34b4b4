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
 * keyed place. One pattern per key, the same for every sample.
 *
 * <p>Why it exists: a network learns "i.i.d. noise of this strength means the target" from a blended
 * noise trigger, so a model watermarked under another key answers the owner's noise as well. Two keys
 * of this family differ in <em>where</em> the pixels are and <em>what</em> they hold, a difference a
 * network can learn from the negatives (the same family under derived keys, labels kept) that the
 * poisoner adds; docs/efficacy.md measures it.
 *
 * <p>Built on the engine's mask blend ({@code dp_mask_blend}, mask 1 at the chosen pixels, amount
 * alpha), so it runs on the CPU and CUDA backends with the same bits as every blend.
 *
 * @param n     the number of pixels, at least 1 and at most the region's pixel count
 * @param block the side of the keyed square the pixels are drawn from; 0 for the whole image
 * @param alpha the weight of the pattern at the chosen pixels, in (0, 1]; 1 sets them exactly
 * @param value the bright value (0..255 for uint8 data)
 * @param low   the dark value
 */
public record SparseTrigger(int n, int block, float alpha, float value, float low) implements TriggerSpec {
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

    /** The family's registry entry. */
    static final TriggerFamily DESCRIPTOR = new TriggerFamily(FAMILY, DataKind.IMAGES,
            "keyed sparse pixels: keyed places, keyed bright or dark values", "always",
            java.util.List.of(N, BLOCK, ALPHA, VALUE, LOW), SparseTrigger::fromFields);

    /** The default: 24 pixels anywhere in the image, set to keyed white or black. */
    public static final SparseTrigger DEFAULT = new SparseTrigger(24, 0, 1f, 255f, 0f);

    /** @throws InvalidArgumentException for out-of-range parameters */
    public SparseTrigger {
        N.checkInteger(FAMILY, n);
        BLOCK.checkInteger(FAMILY, block);
        ALPHA.checkNumber(FAMILY, alpha);
        VALUE.checkNumber(FAMILY, value);
        LOW.checkNumber(FAMILY, low);
        if (block > 0 && (long) block * block < n) {
            throw new InvalidArgumentException("sparse: n=" + n + " pixels do not fit a " + block + " x " + block
                    + " block", "n", n, "at most " + (long) block * block);
        }
    }

    static SparseTrigger fromFields(Map<String, String> raw) {
        return new SparseTrigger(N.readInteger(FAMILY, raw, 24), BLOCK.readInteger(FAMILY, raw, 0),
                ALPHA.readNumber(FAMILY, raw, 1f), VALUE.readNumber(FAMILY, raw, 255f), LOW.readNumber(FAMILY, raw, 0f));
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
        return p;
    }

    @Override
    public void validateFor(Tensor batch) {
        TriggerSpec.requireImages(FAMILY, batch);
        long h = batch.h();
        long w = batch.w();
        if (block > Math.min(h, w)) {
            throw new InvalidArgumentException("sparse: block " + block + " is larger than the " + h + " x " + w
                    + " image", "block", block, "at most " + Math.min(h, w));
        }
        long region = block == 0 ? h * w : (long) block * block;
        if (n > region) {
            throw new InvalidArgumentException("sparse: n=" + n + " exceeds the " + region + " pixels of the "
                    + (block == 0 ? h + " x " + w + " image" : block + " x " + block + " block"), "n", n,
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

    @Override
    public PreparedTrigger prepare(Engine engine, Tensor template, TriggerContext context) {
        Objects.requireNonNull(context, "context");
        validateFor(template);
        int c = (int) template.c();
        int h = (int) template.h();
        int w = (int) template.w();
        KeyedRandom rng = new KeyedRandom(context.requireKey(FAMILY).philoxKey(Patterns.SPARSE_PATTERN));
        boolean[] bright = new boolean[n];
        int[] where = pixels(rng, n, block, h, w, bright);
        // Zero everywhere but at the n pixels, in every channel: written element by element there only
        // (negatives prepare one pattern per derived key, so this runs a few hundred times per job).
        float[] mask = new float[Patterns.checkedElements(c, h, w, FAMILY)];
        float[] pattern = new float[mask.length];
        for (int i = 0; i < n; i++) {
            int y = where[i] / w;
            int x = where[i] % w;
            for (int ch = 0; ch < c; ch++) {
                int at = (int) template.layout().offset(ch, y, x, c, h, w);
                mask[at] = 1f;
                pattern[at] = bright[i] ? value : low;
            }
        }
        Operands operands = new Operands(engine);
        operands.floats("pattern", pattern);
        operands.floats("mask", mask);
        return new Prepared(this, engine, template, operands, null, (e, ops, b, indices, first) ->
                e.maskBlend(b, ops.floats("pattern"), ops.floats("mask"), alpha, indices));
    }

    @Override
    public String toString() {
        return SpecFormat.spec(FAMILY, parameters());
    }
}
