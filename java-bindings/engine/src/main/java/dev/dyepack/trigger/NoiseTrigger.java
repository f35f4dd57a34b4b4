package dev.dyepack.trigger;

import dev.dyepack.DType;
import dev.dyepack.Engine;
import dev.dyepack.InvalidArgumentException;
import dev.dyepack.Tensor;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Objects;

/**
 * Sample-specific invisible noise: {@code x' = clip(x + eps * (2u - 1))}, with u generated inside the
 * kernel by Philox4x32-10 from the owner's key, the sample's index in the dataset and the element,
 * so the pattern is reproducible from the key alone, differs for every sample, and nothing is stored.
 * The change is bounded by eps in L-infinity (before uint8 rounding).
 *
 * @param eps the bound, in data units (default 8, i.e. 8/255 of the range for uint8 images)
 */
public record NoiseTrigger(float eps) implements TriggerSpec {
    /** The family name in spec strings. */
    public static final String FAMILY = "noise";

    static final TriggerParameter EPS = TriggerParameter.number("eps", "8", 0f, Float.MAX_VALUE,
            "the bound, data units (8/255 of the range for uint8, a common invisible budget)");

    /** The family's registry entry. */
    static final TriggerFamily DESCRIPTOR = new TriggerFamily(FAMILY, DataKind.IMAGES,
            "per-sample keyed noise, L-inf <= eps", "always", java.util.List.of(EPS), NoiseTrigger::fromFields);

    /** @throws InvalidArgumentException for a negative or non-finite eps */
    public NoiseTrigger {
        EPS.checkNumber(FAMILY, eps);
    }

    static NoiseTrigger fromFields(Map<String, String> raw) {
        return new NoiseTrigger(EPS.readNumber(FAMILY, raw, 8f));
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
        p.put("eps", eps);
        return p;
    }

    @Override
    public void validateFor(Tensor batch) {
        TriggerSpec.requireImages(FAMILY, batch);
        if (batch.dtype() == DType.UINT8 && eps > 255f) {
            throw new InvalidArgumentException("noise: eps " + SpecFormat.number(eps) + " exceeds the uint8 range (255)");
        }
    }

    @Override
    public PreparedTrigger prepare(Engine engine, Tensor template, TriggerContext context) {
        Objects.requireNonNull(context, "context");
        validateFor(template);
        Operands operands = new Operands(engine);
        operands.ints("key", context.requireKey(FAMILY).philoxKey(Patterns.NOISE));
        return new Prepared(this, engine, template, operands, null,
                (e, ops, batch, indices, first) -> e.keyedNoise(batch, ops.ints("key"), eps, first, indices));
    }

    @Override
    public String toString() {
        return SpecFormat.spec(FAMILY, parameters());
    }
}
