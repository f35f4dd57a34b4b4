package dev.dyepack.trigger;

import dev.dyepack.Engine;
import dev.dyepack.InvalidArgumentException;
import dev.dyepack.Tensor;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Objects;
import java.util.StringJoiner;

/**
 * A low-frequency trigger built from DCT-II basis functions (after the frequency-domain triggers of
 * Zeng et al., 2021, and FTrojan, Wang et al., 2022): the signal
 * {@code s(y, x) = amp * mean_k cos(pi (2y+1) u_k / 2H) * cos(pi (2x+1) v_k / 2W)} is added to every
 * channel ({@code space=rgb}), or to the chroma channels U and V of YUV (BT.601) and carried back to
 * RGB ({@code space=yuv}, as FTrojan perturbs chroma), then clipped. |s| never exceeds amp.
 *
 * @param amp   the peak amplitude, in data units (&gt; 0)
 * @param freqs the (u, v) frequency pairs, each u in [0, H), v in [0, W); written {@code UxV+UxV}
 * @param space rgb or yuv (yuv needs 3 channels, in RGB order)
 */
public record LowFreqTrigger(float amp, int[][] freqs, Space space) implements TriggerSpec {
    /** The family name in spec strings. */
    public static final String FAMILY = "lowfreq";

    /** Where the signal is added. */
    public enum Space {
        /** to every channel */
        RGB,
        /** to U and V (BT.601), then converted back to RGB */
        YUV
    }

    static final TriggerParameter AMP = TriggerParameter.number("amp", "8", Float.MIN_VALUE, Float.MAX_VALUE,
            "peak amplitude, data units");
    static final TriggerParameter FREQS = TriggerParameter.pairs("freqs", "`1x2+2x1`",
            "(u, v) pairs, u < H, v < W");
    static final TriggerParameter SPACE = TriggerParameter.choice("space", "`rgb`", Space.class, "`rgb` or `yuv`");

    /** The family's registry entry. */
    static final TriggerFamily DESCRIPTOR = new TriggerFamily(FAMILY, DataKind.IMAGES,
            "DCT low-frequency signal", "never", java.util.List.of(AMP, FREQS, SPACE), LowFreqTrigger::fromFields);

    /** @throws InvalidArgumentException for out-of-range parameters */
    public LowFreqTrigger {
        Objects.requireNonNull(space, "space");
        AMP.checkNumber(FAMILY, amp);
        FREQS.checkPairs(FAMILY, freqs);
        int[][] copy = new int[freqs.length][];
        for (int i = 0; i < freqs.length; i++) {
            copy[i] = freqs[i].clone();
        }
        freqs = copy;
    }

    static LowFreqTrigger fromFields(Map<String, String> raw) {
        return new LowFreqTrigger(AMP.readNumber(FAMILY, raw, 8f), FREQS.readPairs(FAMILY, raw, "1x2+2x1"),
                SPACE.readChoice(FAMILY, raw, Space.RGB, Space.class));
    }

    @Override
    public int[][] freqs() {
        int[][] copy = new int[freqs.length][];
        for (int i = 0; i < freqs.length; i++) {
            copy[i] = freqs[i].clone();
        }
        return copy;
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof LowFreqTrigger t && t.amp == amp && Arrays.deepEquals(t.freqs, freqs) && t.space == space;
    }

    @Override
    public int hashCode() {
        return Objects.hash(amp, Arrays.deepHashCode(freqs), space);
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
        StringJoiner j = new StringJoiner("+");
        for (int[] uv : freqs) {
            j.add(uv[0] + "x" + uv[1]);
        }
        Map<String, Object> p = new LinkedHashMap<>();
        p.put("amp", amp);
        p.put("freqs", j.toString());
        p.put("space", space);
        return p;
    }

    @Override
    public void validateFor(Tensor batch) {
        TriggerSpec.requireImages(FAMILY, batch);
        for (int[] uv : freqs) {
            if (uv[0] >= batch.h() || uv[1] >= batch.w()) {
                throw new InvalidArgumentException("lowfreq: frequency " + uv[0] + "x" + uv[1] + " is outside the "
                        + batch.h() + "x" + batch.w() + " image's DCT (u < H, v < W)");
            }
        }
        if (space == Space.YUV && batch.c() != 3) {
            throw new InvalidArgumentException("lowfreq: space=yuv needs 3 (RGB) channels, the data has " + batch.c());
        }
    }

    /**
     * The additive signal for an image geometry, in the batch's layout.
     *
     * @param batch the geometry
     * @return C*H*W values
     */
    public float[] signal(Tensor batch) {
        int h = (int) batch.h();
        int w = (int) batch.w();
        double[] plane = new double[h * w];
        for (int y = 0; y < h; y++) {
            for (int x = 0; x < w; x++) {
                double sum = 0;
                for (int[] uv : freqs) {
                    sum += StrictMath.cos(Math.PI * (2 * y + 1) * uv[0] / (2.0 * h))
                            * StrictMath.cos(Math.PI * (2 * x + 1) * uv[1] / (2.0 * w));
                }
                plane[y * w + x] = amp * sum / freqs.length;
            }
        }
        // BT.601 YUV -> RGB for a change of dU = dV = s: R += 1.13983 s, G += (-0.39465 - 0.58060) s, B += 2.03211 s.
        double[] gain = space == Space.YUV ? new double[] {1.13983, -0.39465 - 0.58060, 2.03211} : null;
        return Patterns.fill((int) batch.c(), h, w, batch.layout(),
                (c, y, x) -> (float) (gain == null ? plane[y * w + x] : gain[c] * plane[y * w + x]));
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
