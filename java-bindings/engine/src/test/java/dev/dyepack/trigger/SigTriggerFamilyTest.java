package dev.dyepack.trigger;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;

import dev.dyepack.DType;
import dev.dyepack.Layout;
import dev.dyepack.Tensor;
import dev.dyepack.trigger.FamilyReference.Batch;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * The SIG family: {@code x' = clip(x + delta * sin(2 pi j freq / N))}, j the column (N = W) or the row
 * (N = H). The signal is evaluated in double with StrictMath exactly as the formula reads, cast to float
 * once, added in float32 and stored by the dtype's rule, so both uint8 and float32 results are compared
 * bit for bit.
 */
class SigTriggerFamilyTest {

    static Stream<Arguments> cases() {
        List<Arguments> out = new ArrayList<>();
        int[][] shapes = {{3, 1, 1, 1}, {3, 3, 37, 41}, {2, 4, 41, 37}, {4, 1, 37, 41}};
        float[][] params = {{20f, 6f}, {7.5f, 2.5f}, {255f, 1f}, {0.3f, 13.7f}};
        int k = 0;
        for (DType dtype : new DType[] {DType.UINT8, DType.FLOAT32}) {
            for (Layout layout : Layout.values()) {
                for (int[] s : shapes) {
                    for (String axis : new String[] {"cols", "rows"}) {
                        float[] p = params[k % params.length];
                        out.add(Arguments.of(dtype, layout, s[0], s[1], s[2], s[3], axis, p[0], p[1], k % 2 == 0));
                        k++;
                    }
                }
            }
        }
        return out.stream();
    }

    /** delta * sin(2 pi j freq / N) in double (StrictMath), rounded to float once. */
    static float signal(float delta, float freq, int j, int n) {
        return (float) (delta * StrictMath.sin(2 * Math.PI * j * freq / n));
    }

    @ParameterizedTest(name = "{0} {1} N={2} C={3} {4}x{5} axis={6} delta={7} freq={8} all={9}")
    @MethodSource("cases")
    void addsTheSinusoidExactly(DType dtype, Layout layout, int n, int c, int h, int w, String axis, float delta,
            float freq, boolean all) {
        Random rng = new Random(h * 7L + w * 3L + c + n + axis.hashCode() + dtype.ordinal() + layout.ordinal() * 11L);
        Batch b = FamilyReference.randomBatch(rng, dtype, layout, n, c, h, w);
        long[] idx = FamilyReference.indices(n, all);
        TriggerSpec t = TriggerSpec.parse("sig:delta=" + delta + ",freq=" + freq + ",axis=" + axis);
        float[] got = b.run(t, idx, TriggerContext.keyless());
        float[] expected = b.values.clone();
        boolean[] sel = FamilyReference.selected(n, idx);
        boolean cols = axis.equals("cols");
        for (int s = 0; s < n; s++) {
            for (int ch = 0; sel[s] && ch < c; ch++) {
                for (int y = 0; y < h; y++) {
                    for (int x = 0; x < w; x++) {
                        float sig = cols ? signal(delta, freq, x, w) : signal(delta, freq, y, h);
                        int at = b.at(s, ch, y, x);
                        expected[at] = FamilyReference.store(dtype, b.values[at] + sig);
                    }
                }
            }
        }
        FamilyReference.assertExact(b, expected, got, t.toString());
    }

    @Test
    void stripesRunAlongTheChosenAxis() {
        Batch b = FamilyReference.filled(DType.FLOAT32, Layout.NHWC, 1, 1, 5, 8, 0f);
        float[] cols = b.run(TriggerSpec.parse("sig:delta=1,freq=1,axis=cols"), null, TriggerContext.keyless());
        float[] rows = b.run(TriggerSpec.parse("sig:delta=1,freq=1,axis=rows"), null, TriggerContext.keyless());
        for (int y = 0; y < 5; y++) {
            for (int x = 0; x < 8; x++) {
                assertEquals(cols[x], cols[y * 8 + x], "cols: constant down a column");
                assertEquals(rows[y * 8], rows[y * 8 + x], "rows: constant along a row");
            }
        }
        assertEquals(0f, cols[0]);
        assertEquals(1f, cols[2]); // sin(pi/2) for x = W/4
        assertEquals(0f, rows[0]);
    }

    @Test
    void refusesSequencesAndBadParameters() {
        FamilyReference.assertRefused(() -> TriggerSpec.parse("sig").validateFor(Tensor.empty(DType.INT32,
                Layout.NHWC, 1, 1, 8)), "int32");
        FamilyReference.assertRefused(() -> TriggerSpec.parse("sig:delta=0"), "delta");
        FamilyReference.assertRefused(() -> TriggerSpec.parse("sig:freq=-1"), "freq");
        FamilyReference.assertRefused(() -> TriggerSpec.parse("sig:axis=diag"), "axis must be one of cols, rows");
    }

    @ParameterizedTest
    @ValueSource(strings = {"sig", "sig:delta=20,freq=6", "sig:axis=rows", "sig:delta=0.1,freq=0.5,axis=cols",
        "sig:freq=1000000,delta=1.0E-7"})
    void specRoundTrips(String spec) {
        FamilyReference.assertRoundTrip(spec, "sig");
    }

    @Test
    void neverKeyed() {
        assertFalse(TriggerSpec.parse("sig").keyed());
        assertFalse(TriggerSpec.parse("sig:axis=rows").keyed());
    }

    @Test
    void unknownFieldNamesTheAllowedOnes() {
        FamilyReference.assertUnknownFieldNamesAllowed("sig", "delta, freq, axis");
    }
}
