package dev.dyepack.trigger;

import dev.dyepack.DType;
import dev.dyepack.Engine;
import dev.dyepack.InvalidArgumentException;
import dev.dyepack.Tensor;
import dev.dyepack.trigger.ImagePattern;
import dev.dyepack.key.KeyedRandom;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Objects;

/**
 * BadNets' patch trigger (Gu et al., 2017): an S x S pattern pasted into every channel at a corner, an
 * offset, the centre, or a keyed-random position per sample. The pattern is a solid value, a
 * checkerboard of {@code value} and {@code low}, keyed random values in [low, value], or a user image
 * (PNG/JPEG; its alpha channel, if any, is the mask), resized to S x S. Inside the patch the pixels
 * become the pattern exactly (where the mask is 1); outside it nothing changes.
 *
 * @param size     side S in pixels; 0 with an image means the image's own size
 * @param position where the patch sits
 * @param y        top row for {@code pos=at}, else 0
 * @param x        left column for {@code pos=at}, else 0
 * @param pattern  what the patch holds
 * @param value    the solid value, the checkerboard's first colour, or the full-scale value of
 *                 random and image patterns (0..255 for uint8 data)
 * @param low      the checkerboard's second colour, or the lower bound of random patterns
 * @param image    the pattern image for {@code pattern=image}, else null
 */
public record PatchTrigger(int size, Position position, int y, int x, Pattern pattern, float value, float low,
        Path image) implements TriggerSpec {
    /** The family name in spec strings. */
    public static final String FAMILY = "patch";

    static final TriggerParameter SIZE = TriggerParameter.integer("size", "3 (the picture's own size for "
            + "`pattern=image`)", 1, 1 << 20, "side S in pixels, at most the image's smaller side");
    static final TriggerParameter POS = TriggerParameter.choice("pos", "`br`", Position.class, "`br`, `bl`, `tr`, "
            + "`tl` (flush with that corner), `center` (top-left at floor((H-S)/2), floor((W-S)/2)), `at` (with "
            + "`y=ROW,x=COL`), `random` (keyed, per sample, uniform over the positions that fit)");
    static final TriggerParameter Y = TriggerParameter.integer("y", "- (required with `pos=at`)", 0, 1 << 20,
            "top row for `pos=at`");
    static final TriggerParameter X = TriggerParameter.integer("x", "- (required with `pos=at`)", 0, 1 << 20,
            "left column for `pos=at`");
    static final TriggerParameter PATTERN = TriggerParameter.choice("pattern", "`solid` (`image` with `image=`)",
            Pattern.class, "`solid` (every element `value`), `checker` (`value` where row+column is even, `low` "
            + "elsewhere), `random` (keyed uniform in [low, value], integers for uint8, one pattern per key), "
            + "`image`");
    static final TriggerParameter VALUE = TriggerParameter.number("value", "255", -Float.MAX_VALUE, Float.MAX_VALUE,
            "the solid value; the checkerboard's first colour; the full-scale value of random and image patterns");
    static final TriggerParameter LOW = TriggerParameter.number("low", "0", -Float.MAX_VALUE, Float.MAX_VALUE,
            "the checkerboard's second colour; the lower bound of random patterns");
    static final TriggerParameter IMAGE = TriggerParameter.file("image", "-", "a PNG or JPEG (its alpha channel, "
            + "if any, is the mask), resized to S x S with bilinear interpolation (half-pixel centres); pixel "
            + "values 0..255 map to 0..`value`; the manifest records its SHA-256");

    /** The family's registry entry. */
    static final TriggerFamily DESCRIPTOR = new TriggerFamily(FAMILY, DataKind.IMAGES, "BadNets square patch",
            "with pattern=random or pos=random", java.util.List.of(SIZE, POS, Y, X, PATTERN, VALUE, LOW, IMAGE),
            PatchTrigger::fromFields);

    /** Default: a 3x3 white square in the bottom-right corner (BadNets). */
    public static final PatchTrigger DEFAULT = new PatchTrigger(3, Position.BR, 0, 0, Pattern.SOLID, 255f, 0f, null);

    /** Where the patch sits. */
    public enum Position {
        /** bottom right */
        BR,
        /** bottom left */
        BL,
        /** top right */
        TR,
        /** top left */
        TL,
        /** centred: top-left corner at floor((H-S)/2), floor((W-S)/2) */
        CENTER,
        /** at row {@code y}, column {@code x} */
        AT,
        /** a keyed-random position per sample */
        RANDOM
    }

    /** What the patch holds. */
    public enum Pattern {
        /** every element {@code value} */
        SOLID,
        /** {@code value} where (row + column) is even, {@code low} elsewhere */
        CHECKER,
        /** keyed uniform values in [low, value], one pattern per key */
        RANDOM,
        /** a user image */
        IMAGE
    }

    /**
     * Convenience constructor for a solid patch.
     *
     * @param size     side S
     * @param position where it sits (not AT)
     * @param value    the value
     * @throws InvalidArgumentException for out-of-range parameters
     */
    public PatchTrigger(int size, Position position, float value) {
        this(size, position, 0, 0, Pattern.SOLID, value, 0f, null);
    }

    /** @throws InvalidArgumentException for out-of-range or inconsistent parameters */
    public PatchTrigger {
        Objects.requireNonNull(position, "position");
        Objects.requireNonNull(pattern, "pattern");
        if (size != 0 || pattern != Pattern.IMAGE) {
            SIZE.checkInteger(FAMILY, size);
        }
        VALUE.checkNumber(FAMILY, value);
        LOW.checkNumber(FAMILY, low);
        if (image != null) {
            IMAGE.checkFile(FAMILY, image.toString());
        }
        if ((pattern == Pattern.IMAGE) != (image != null)) {
            throw new InvalidArgumentException("patch: pattern=image needs image=FILE, and image=FILE needs pattern=image");
        }
        if (position != Position.AT && (y != 0 || x != 0)) {
            throw new InvalidArgumentException("patch: y and x are only for pos=at");
        }
        Y.checkInteger(FAMILY, y);
        X.checkInteger(FAMILY, x);
        if (pattern == Pattern.RANDOM && low > value) {
            throw new InvalidArgumentException("patch: low must not exceed value for pattern=random");
        }
    }

    static PatchTrigger fromFields(Map<String, String> raw) {
        String image = IMAGE.readFile(FAMILY, raw);
        Pattern pattern = PATTERN.readChoice(FAMILY, raw, image != null ? Pattern.IMAGE : Pattern.SOLID, Pattern.class);
        Position pos = POS.readChoice(FAMILY, raw, Position.BR, Position.class);
        if (pos == Position.AT && !(raw.containsKey("y") && raw.containsKey("x"))) {
            throw new InvalidArgumentException("patch: pos=at needs y=ROW and x=COLUMN");
        }
        int size = SIZE.readInteger(FAMILY, raw, pattern == Pattern.IMAGE ? 0 : 3);
        return new PatchTrigger(size, pos, Y.readInteger(FAMILY, raw, 0), X.readInteger(FAMILY, raw, 0), pattern,
                VALUE.readNumber(FAMILY, raw, 255f), LOW.readNumber(FAMILY, raw, 0f),
                image == null ? null : Path.of(image));
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
        return pattern == Pattern.RANDOM || position == Position.RANDOM;
    }

    @Override
    public Map<String, Object> parameters() {
        Map<String, Object> p = new LinkedHashMap<>();
        p.put("size", size == 0 ? null : size);
        p.put("pos", position);
        p.put("y", position == Position.AT ? y : null);
        p.put("x", position == Position.AT ? x : null);
        p.put("pattern", pattern == Pattern.SOLID ? null : pattern);
        p.put("value", value);
        // low is printed wherever it is used or differs from its default, so the spec is the whole record.
        p.put("low", pattern == Pattern.CHECKER || pattern == Pattern.RANDOM || Float.floatToRawIntBits(low) != 0
                ? low : null);
        p.put("image", image == null ? null : image.toString());
        return p;
    }

    @Override
    public void validateFor(Tensor batch) {
        TriggerSpec.requireImages(FAMILY, batch);
        if (size > batch.h() || size > batch.w()) {
            throw new InvalidArgumentException("patch: size " + size + " is larger than the " + batch.h() + "x"
                    + batch.w() + " image");
        }
        checkRange(batch, value, "value");
        if (pattern == Pattern.CHECKER || pattern == Pattern.RANDOM) {
            checkRange(batch, low, "low");
        }
        if (pattern == Pattern.RANDOM && batch.dtype() == DType.UINT8 && Math.floor(value) < Math.ceil(low)) {
            throw new InvalidArgumentException("patch: no integer lies in [low, value] = [" + SpecFormat.number(low)
                    + ", " + SpecFormat.number(value) + "] for a uint8 random pattern");
        }
        if (position == Position.AT && (y + (long) size > batch.h() || x + (long) size > batch.w())) {
            throw new InvalidArgumentException("patch: a " + size + "x" + size + " patch at y=" + y + ", x=" + x
                    + " does not fit the " + batch.h() + "x" + batch.w() + " image");
        }
    }

    private static void checkRange(Tensor batch, float v, String name) {
        if (batch.dtype() == DType.UINT8 && (v < 0f || v > 255f)) {
            throw new InvalidArgumentException("patch: " + name + " " + SpecFormat.number(v)
                    + " is outside the uint8 range [0, 255]");
        }
    }

    /** The patch's top-left corner in an h x w image, for a fixed position. */
    long[] corner(long h, long w, int s) {
        return switch (position) {
            case TL -> new long[] {0, 0};
            case TR -> new long[] {0, w - s};
            case BL -> new long[] {h - s, 0};
            case BR -> new long[] {h - s, w - s};
            case CENTER -> new long[] {(h - s) / 2, (w - s) / 2};
            case AT -> new long[] {y, x};
            case RANDOM -> throw new IllegalStateException("random positions are per sample");
        };
    }

    @Override
    public java.util.Optional<Path> patternImage() {
        return java.util.Optional.ofNullable(image);
    }

    @Override
    public PreparedTrigger prepare(Engine engine, Tensor template, TriggerContext context) {
        Objects.requireNonNull(context, "context");
        validateFor(template);
        Tensor batch = template;
        int c = (int) batch.c();
        int s;
        float[] patch;
        float[] mask;
        String sha = null;
        if (pattern == Pattern.IMAGE) {
            sha = Patterns.sha256(image);
            ImagePattern img;
            if (size == 0) {
                img = Patterns.decode(image, c, batch.layout());
                if (img.height() != img.width()) {
                    img = PatternResize.resize(img, Math.min(img.height(), img.width()),
                            Math.min(img.height(), img.width()));
                }
                s = img.height();
                if (s > batch.h() || s > batch.w()) {
                    throw new InvalidArgumentException("patch: image " + image + " is " + s + "x" + s
                            + ", larger than the " + batch.h() + "x" + batch.w() + " image; give size=S");
                }
                img = Patterns.image(image, batch, s, s, value);
            } else {
                s = size;
                img = Patterns.image(image, batch, s, s, value);
            }
            patch = img.values();
            mask = img.maskFor(c, batch.layout());
        } else {
            s = size;
            mask = new float[Patterns.checkedElements(c, s, s, FAMILY)];
            Arrays.fill(mask, 1f);
            patch = switch (pattern) {
                case SOLID -> Patterns.fill(c, s, s, batch.layout(), (ch, yy, xx) -> value);
                case CHECKER -> Patterns.fill(c, s, s, batch.layout(), (ch, yy, xx) -> (yy + xx) % 2 == 0 ? value : low);
                case RANDOM -> randomPattern(batch, context, c, s);
                case IMAGE -> throw new IllegalStateException();
            };
        }
        int side = s;
        long h = batch.h();
        long w = batch.w();
        KeyedRandom rng = position == Position.RANDOM
                ? new KeyedRandom(context.requireKey(FAMILY).philoxKey(Patterns.PATCH_POSITION)) : null;
        long[] corner = position == Position.RANDOM ? null : corner(h, w, s);
        // Uploaded last, once nothing else can fail, so that a refused prepare holds nothing.
        Operands operands = new Operands(engine);
        operands.floats("patch", patch);
        operands.floats("mask", mask);
        return new Prepared(this, engine, template, operands, sha, (e, ops, b, indices, first) -> {
            long selected = indices == null ? b.n() : indices.length;
            long[] offsets = new long[Math.toIntExact(2 * selected)];
            for (int i = 0; i < selected; i++) {
                if (rng != null) {
                    long id = first + (indices == null ? i : indices[i]);
                    offsets[2 * i] = rng.below(id, 0, h - side + 1);
                    offsets[2 * i + 1] = rng.below(id, 1, w - side + 1);
                } else {
                    offsets[2 * i] = corner[0];
                    offsets[2 * i + 1] = corner[1];
                }
            }
            e.paste(b, ops.floats("patch"), ops.floats("mask"), side, side, 1f, offsets, indices);
        });
    }

    private float[] randomPattern(Tensor batch, TriggerContext context, int c, int s) {
        KeyedRandom rng = new KeyedRandom(context.requireKey(FAMILY).philoxKey(Patterns.PATCH_PATTERN));
        float[] out = new float[Patterns.checkedElements(c, s, s, FAMILY)];
        boolean u8 = batch.dtype() == DType.UINT8;
        // uint8 patterns are the integers in [low, value]: from ceil(low) to floor(value).
        long lo = (long) Math.ceil(low);
        long span = (long) Math.floor(value) - lo + 1;
        for (int e = 0; e < out.length; e++) {
            out[e] = u8 ? lo + rng.below(0, e, span) : low + rng.uniform(0, e) * (value - low);
        }
        return out;
    }

    @Override
    public String toString() {
        return SpecFormat.spec(FAMILY, parameters());
    }
}
