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

    static final TriggerParameter ALPHA = TriggerParameter.number("alpha", "0.2", 0f, 1f, "mixing weight");
    static final TriggerParameter PATTERN = TriggerParameter.choice("pattern", "`noise` (`image` with `image=`)",
            Pattern.class, "`noise`: i.i.d. uniform over the value range per pixel and channel (integers "
            + "0..`value` for uint8), one pattern per key, the same for every sample; `image`: a user image");
    static final TriggerParameter VALUE = TriggerParameter.number("value", "255", Float.MIN_VALUE, Float.MAX_VALUE,
            "full-scale value of the noise or image");
    static final TriggerParameter IMAGE = TriggerParameter.file("image", "-", "a PNG or JPEG resized to the "
            + "data's size; its alpha channel, if any, scales alpha per pixel; the manifest records its SHA-256");

    /** The family's registry entry. */
    static final TriggerFamily DESCRIPTOR = new TriggerFamily(FAMILY, DataKind.IMAGES,
            "Blended keyed noise or picture", "with pattern=noise", java.util.List.of(ALPHA, PATTERN, VALUE, IMAGE),
            BlendTrigger::fromFields);

    /** @throws InvalidArgumentException for out-of-range or inconsistent parameters */
    public BlendTrigger {
        Objects.requireNonNull(pattern, "pattern");
        ALPHA.checkNumber(FAMILY, alpha);
        VALUE.checkNumber(FAMILY, value);
        if (image != null) {
            IMAGE.checkFile(FAMILY, image.toString());
        }
        if ((pattern == Pattern.IMAGE) != (image != null)) {
            throw new InvalidArgumentException("blend: pattern=image needs image=FILE, and image=FILE needs pattern=image");
        }
    }

    static BlendTrigger fromFields(Map<String, String> raw) {
        String image = IMAGE.readFile(FAMILY, raw);
        Pattern pattern = PATTERN.readChoice(FAMILY, raw, image != null ? Pattern.IMAGE : Pattern.NOISE, Pattern.class);
        return new BlendTrigger(ALPHA.readNumber(FAMILY, raw, 0.2f), pattern, VALUE.readNumber(FAMILY, raw, 255f),
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
    public java.util.Optional<Path> patternImage() {
        return java.util.Optional.ofNullable(image);
    }

    @Override
    public PreparedTrigger prepare(Engine engine, Tensor template, TriggerContext context) {
        Objects.requireNonNull(context, "context");
        validateFor(template);
        Tensor batch = template;
        String sha = null;
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
            sha = Patterns.sha256(image);
            ImagePattern img = Patterns.image(image, batch, h, w, value);
            t = img.values();
            mask = img.maskFor(c, batch.layout());
        }
        Operands operands = new Operands(engine);
        operands.floats("pattern", t);
        operands.floats("mask", mask);
        return new Prepared(this, engine, template, operands, sha, (e, ops, b, indices, first) ->
                e.maskBlend(b, ops.floats("pattern"), ops.floats("mask"), alpha, indices));
    }

    @Override
    public String toString() {
        return SpecFormat.spec(FAMILY, parameters());
    }
}
