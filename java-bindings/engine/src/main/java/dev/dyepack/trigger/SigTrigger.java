package dev.dyepack.trigger;

import dev.dyepack.Engine;
import dev.dyepack.InvalidArgumentException;
import dev.dyepack.Tensor;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Objects;

/**
 * The SIG trigger (Barni, Kallas and Tondi, 2019): a horizontal sinusoidal signal
 * {@code x'(c, y, x) = clip(x + delta * sin(2 pi x freq / W))} in every channel (or, with
 * {@code axis=rows}, along rows with H). The signal is computed once per image size with
 * {@link StrictMath}, so it is the same on every machine.
 *
 * @param delta the amplitude, in data units (&gt; 0)
 * @param freq  periods across the image (&gt; 0)
 * @param axis  columns (the published form) or rows
 */
public record SigTrigger(float delta, float freq, Axis axis) implements TriggerSpec {
    /** The family name in spec strings. */
    public static final String FAMILY = "sig";

    /** The direction the signal varies along. */
    public enum Axis {
        /** varies with the column x (vertical stripes), as published */
        COLS,
        /** varies with the row y (horizontal stripes) */
        ROWS
    }

    static final TriggerParameter DELTA = TriggerParameter.number("delta", "20", Float.MIN_VALUE, Float.MAX_VALUE,
            "amplitude, data units");
    static final TriggerParameter FREQ = TriggerParameter.number("freq", "6", Float.MIN_VALUE, 1e6f,
            "periods across the image");
    static final TriggerParameter AXIS = TriggerParameter.choice("axis", "`cols`", Axis.class,
            "`cols` (vertical stripes, as published) or `rows`");

    /** The family's registry entry. */
    static final TriggerFamily DESCRIPTOR = new TriggerFamily(FAMILY, DataKind.IMAGES, "SIG sinusoidal signal",
            "never", java.util.List.of(DELTA, FREQ, AXIS), SigTrigger::fromFields);

    /** @throws InvalidArgumentException for out-of-range parameters */
    public SigTrigger {
        Objects.requireNonNull(axis, "axis");
        DELTA.checkNumber(FAMILY, delta);
        FREQ.checkNumber(FAMILY, freq);
    }

    static SigTrigger fromFields(Map<String, String> raw) {
        return new SigTrigger(DELTA.readNumber(FAMILY, raw, 20f), FREQ.readNumber(FAMILY, raw, 6f),
                AXIS.readChoice(FAMILY, raw, Axis.COLS, Axis.class));
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
        return false;
    }

    @Override
    public Map<String, Object> parameters() {
        Map<String, Object> p = new LinkedHashMap<>();
        p.put("delta", delta);
        p.put("freq", freq);
        p.put("axis", axis);
        return p;
    }

    @Override
    public void validateFor(Tensor batch) {
        TriggerSpec.requireImages(FAMILY, batch);
    }

    /**
     * The signal for an image geometry, in the batch's layout.
     *
     * @param batch the geometry
     * @return C*H*W values
     */
    public float[] signal(Tensor batch) {
        int h = (int) batch.h();
        int w = (int) batch.w();
        return Patterns.fill((int) batch.c(), h, w, batch.layout(), (c, y, x) -> (float) (delta
                * StrictMath.sin(2 * Math.PI * (axis == Axis.COLS ? x : y) * freq / (axis == Axis.COLS ? w : h))));
    }

    @Override
    public PreparedTrigger prepare(Engine engine, Tensor template, TriggerContext context) {
        validateFor(template);
        Operands operands = new Operands(engine);
        operands.floats("signal", signal(template));
        return new Prepared(this, engine, template, operands, null,
                (e, ops, batch, indices, first) -> e.addSignal(batch, ops.floats("signal"), indices));
    }

    @Override
    public String toString() {
        return SpecFormat.spec(FAMILY, parameters());
    }
}
