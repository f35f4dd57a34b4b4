package dev.dyepack.trigger;

import dev.dyepack.Engine;
import dev.dyepack.InvalidArgumentException;
import dev.dyepack.Tensor;
import dev.dyepack.trigger.ImagePattern;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Objects;

/**
 * The Blended trigger (Chen et al., 2017): {@code x' = (1 - alpha) x + alpha t} over the whole image,
 * where t is keyed noise (i.i.d. uniform over the value range per pixel and channel, one pattern per
 * key, the same for every sample) or a user image resized to the data's size (its alpha channel, if
 * any, scales the mix per pixel).
 *
 * @param alpha   the mixing weight, in [0, 1]
 * @param pattern noise or image
 * @param value   the full-scale value: noise is uniform in [0, value] (integers 0..255 for uint8 data),
 *                image pixels 0..255 map to 0..value
 * @param image   the image for {@code pattern=image}, else null
 */
public record BlendTrigger(float alpha, Pattern pattern, float value, Path image) implements TriggerSpec {
    /** The family name in spec strings. */
    public static final String FAMILY = "blend";

    /** What is blended in. */
    public enum Pattern {
        /** keyed uniform noise */
        NOISE,
        /** a user image */
        IMAGE
    }

    /** @throws InvalidArgumentException for out-of-range or inconsistent parameters */
    public BlendTrigger {
        Objects.requireNonNull(pattern, "pattern");
        if (!(alpha >= 0f && alpha <= 1f)) {
            throw new InvalidArgumentException("blend: alpha must be in [0, 1], got " + alpha);
        }
        if (!(value > 0f) || !Float.isFinite(value)) {
            throw new InvalidArgumentException("blend: value must be a positive number, got " + value);
        }
        if ((pattern == Pattern.IMAGE) != (image != null)) {
            throw new InvalidArgumentException("blend: pattern=image needs image=FILE, and image=FILE needs pattern=image");
        }
    }

    static BlendTrigger fromFields(Map<String, String> raw) {
        SpecFields f = new SpecFields(FAMILY, raw, "alpha", "pattern", "value", "image");
        String image = f.text("image", null);
        Pattern pattern = f.choice("pattern", image != null ? Pattern.IMAGE : Pattern.NOISE, Pattern.class);
        return new BlendTrigger(f.number("alpha", 0.2f, 0f, 1f), pattern,
                f.number("value", 255f, Float.MIN_VALUE, Float.MAX_VALUE), image == null ? null : Path.of(image));
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
        return pattern == Pattern.NOISE;
    }

    @Override
    public Map<String, Object> parameters() {
        Map<String, Object> p = new LinkedHashMap<>();
        p.put("alpha", alpha);
        p.put("pattern", pattern);
        p.put("value", value);
        p.put("image", image == null ? null : image.toString());
        return p;
    }

    @Override
    public void validateFor(Tensor batch) {
        TriggerSpec.requireImages(FAMILY, batch);
        if (value > TriggerSpec.maxValue(batch)) {
            throw new InvalidArgumentException("blend: value " + SpecFormat.number(value)
                    + " is outside the uint8 range [0, 255]");
        }
    }

    @Override
    public void apply(Engine engine, Tensor batch, long[] indices, TriggerContext context) {
        Objects.requireNonNull(context, "context");
        validateFor(batch);
        int c = (int) batch.c();
        int h = (int) batch.h();
        int w = (int) batch.w();
        float[] t;
        float[] mask;
        if (pattern == Pattern.NOISE) {
            t = Patterns.keyedUniform(context.requireKey(FAMILY), Patterns.BLEND_PATTERN, batch, c, h, w, value);
            if (batch.dtype() == dev.dyepack.DType.UINT8 && value < 255f) {
                for (int i = 0; i < t.length; i++) {
                    t[i] = (float) Math.floor(t[i] * (value + 1) / 256f);
                }
            }
            mask = new float[t.length];
            Arrays.fill(mask, 1f);
        } else {
            ImagePattern img = Patterns.image(image, batch, h, w, value);
            t = img.values();
            mask = img.maskFor(c, batch.layout());
        }
        engine.maskBlend(batch, t, mask, alpha, indices);
    }

    @Override
    public String toString() {
        return SpecFormat.spec(FAMILY, parameters());
    }
}
