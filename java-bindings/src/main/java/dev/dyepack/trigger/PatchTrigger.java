package dev.dyepack.trigger;

import dev.dyepack.DType;
import dev.dyepack.Engine;
import dev.dyepack.InvalidArgumentException;
import dev.dyepack.Tensor;
import java.util.Arrays;
import java.util.Locale;
import java.util.Map;
import java.util.Objects;
import java.util.Set;

/**
 * BadNets' patch trigger: an S x S square of one value in every channel, flush with a corner of the
 * image or centred. Built on the mask blend with amount 1: inside the square the pixel becomes the
 * value exactly, outside it is untouched.
 *
 * @param size     side S in pixels, at least 1 and at most the image's smaller side
 * @param position where the square sits
 * @param value    the value written, in the data's units (0..255 for uint8)
 */
public record PatchTrigger(int size, Position position, float value) implements TriggerSpec {
    /** The family name in spec strings. */
    public static final String FAMILY = "patch";
    private static final Set<String> FIELDS = Set.of("size", "pos", "value");

    /** Default side, position and value: a 3x3 white square in the bottom-right corner (BadNets). */
    public static final PatchTrigger DEFAULT = new PatchTrigger(3, Position.BR, 255f);

    /** Where the square sits. */
    public enum Position {
        /** bottom right */
        BR,
        /** bottom left */
        BL,
        /** top right */
        TR,
        /** top left */
        TL,
        /** centred (top-left corner at floor((H-S)/2), floor((W-S)/2)) */
        CENTER;

        /** @return the spec spelling */
        public String label() {
            return name().toLowerCase(Locale.ROOT);
        }
    }

    /**
     * @throws InvalidArgumentException if size &lt; 1 or value is not finite
     */
    public PatchTrigger {
        Objects.requireNonNull(position, "position");
        if (size < 1) {
            throw new InvalidArgumentException("patch: size must be at least 1, got " + size);
        }
        if (!Float.isFinite(value)) {
            throw new InvalidArgumentException("patch: value must be a finite number, got " + value);
        }
    }

    static PatchTrigger fromFields(Map<String, String> fields) {
        for (String key : fields.keySet()) {
            if (!FIELDS.contains(key)) {
                throw new InvalidArgumentException("patch: unknown field '" + key + "' (allowed: size, pos, value)");
            }
        }
        int size = DEFAULT.size;
        Position pos = DEFAULT.position;
        float value = DEFAULT.value;
        if (fields.containsKey("size")) {
            String v = fields.get("size");
            try {
                size = Integer.parseInt(v);
            } catch (NumberFormatException e) {
                throw new InvalidArgumentException("patch: size must be a positive integer, got '" + v + "'");
            }
        }
        if (fields.containsKey("pos")) {
            String v = fields.get("pos");
            try {
                pos = Position.valueOf(v.toUpperCase(Locale.ROOT));
            } catch (IllegalArgumentException e) {
                throw new InvalidArgumentException("patch: pos must be one of br, bl, tr, tl, center; got '" + v + "'");
            }
        }
        if (fields.containsKey("value")) {
            String v = fields.get("value");
            try {
                value = Float.parseFloat(v);
            } catch (NumberFormatException e) {
                throw new InvalidArgumentException("patch: value must be a number, got '" + v + "'");
            }
        }
        return new PatchTrigger(size, pos, value);
    }

    @Override
    public String family() {
        return FAMILY;
    }

    @Override
    public void validateFor(Tensor batch) {
        if (size > batch.h() || size > batch.w()) {
            throw new InvalidArgumentException("patch: size " + size + " is larger than the " + batch.h() + "x"
                    + batch.w() + " image");
        }
        if (batch.dtype() == DType.UINT8 && (value < 0f || value > 255f)) {
            throw new InvalidArgumentException("patch: value " + formatValue(value)
                    + " is outside the uint8 range [0, 255]");
        }
    }

    /** @return the square's top row for an image of height h */
    long top(long h) {
        return switch (position) {
            case TL, TR -> 0;
            case BL, BR -> h - size;
            case CENTER -> (h - size) / 2;
        };
    }

    /** @return the square's left column for an image of width w */
    long left(long w) {
        return switch (position) {
            case TL, BL -> 0;
            case TR, BR -> w - size;
            case CENTER -> (w - size) / 2;
        };
    }

    @Override
    public void apply(Engine engine, Tensor batch, long[] indices) {
        validateFor(batch);
        long elems = batch.sampleElements();
        if (elems > Integer.MAX_VALUE - 8) {
            throw new InvalidArgumentException("patch: images of " + elems + " elements are too large for one pattern");
        }
        float[] pattern = new float[(int) elems];
        float[] mask = new float[(int) elems];
        Arrays.fill(pattern, value);
        long top = top(batch.h());
        long left = left(batch.w());
        for (long y = top; y < top + size; y++) {
            for (long x = left; x < left + size; x++) {
                for (long ch = 0; ch < batch.c(); ch++) {
                    mask[(int) batch.layout().offset(ch, y, x, batch.c(), batch.h(), batch.w())] = 1f;
                }
            }
        }
        engine.maskBlend(batch, pattern, mask, 1f, indices);
    }

    private static String formatValue(float v) {
        return v == Math.rint(v) && Math.abs(v) < 1e9 ? Long.toString((long) v) : Float.toString(v);
    }

    @Override
    public String toString() {
        return FAMILY + ":size=" + size + ",pos=" + position.label() + ",value=" + formatValue(value);
    }
}
