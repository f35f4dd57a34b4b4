package dev.dyepack.trigger;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;

import dev.dyepack.DType;
import dev.dyepack.Layout;
import dev.dyepack.Tensor;
import java.nio.FloatBuffer;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.ValueSource;

/** The column family on float32 rows: set or shift the chosen columns (shift is one float32 addition, exact rule). */
class ColumnTriggerFamilyTest {

    private static float[] run(TriggerSpec t, float[] data, int n, int width, long[] idx) {
        FloatBuffer buf = FamilyReference.floats(data);
        FamilyReference.apply(t, Tensor.rows(buf, n, width), idx, TriggerContext.keyless());
        return FamilyReference.read(buf);
    }

    @ParameterizedTest(name = "{0} mode={1} all={2}")
    @CsvSource({
        "'cols=1+4+8,values=1.5+-2+3.25', set, true",
        "'cols=1+4+8,values=1.5+-2+3.25', shift, false",
        "'cols=8+0,values=0.1+-1.0E-7', shift, true",
        "'cols=3+5+7+2,values=7', set, false",
        "'cols=3+5+7+2,values=-0.3', shift, true",
        "'cols=0,values=1.0E30', set, true",
    })
    void setsOrShiftsOnlyTheChosenColumnsOfTheChosenRows(String fields, String mode, boolean all) {
        int n = 7;
        int width = 9;
        Random rng = new Random(fields.hashCode() + mode.hashCode());
        float[] data = new float[n * width];
        for (int i = 0; i < data.length; i++) {
            data[i] = rng.nextFloat() * 200f - 100f;
        }
        TriggerSpec t = TriggerSpec.parse("columns:" + fields + ",mode=" + mode);
        long[] idx = FamilyReference.indices(n, all);
        float[] got = run(t, data, n, width, idx);
        // independent reading of the fields
        String[] parts = fields.split(",");
        String[] cols = parts[0].substring("cols=".length()).split("\\+");
        String[] vals = parts[1].substring("values=".length()).split("\\+");
        float[] expected = data.clone();
        boolean[] sel = FamilyReference.selected(n, idx);
        for (int r = 0; r < n; r++) {
            for (int j = 0; sel[r] && j < cols.length; j++) {
                int at = r * width + Integer.parseInt(cols[j]);
                float v = Float.parseFloat(vals[vals.length == 1 ? 0 : j]); // one value broadcasts to every column
                expected[at] = mode.equals("set") ? v : data[at] + v;
            }
        }
        assertArrayEquals(expected, got, t.toString());
    }

    @Test
    void badColumnsAreRefused() {
        Tensor rows = Tensor.rows(FamilyReference.floats(new float[18]), 2, 9);
        FamilyReference.assertRefused(() -> TriggerSpec.parse("columns:cols=9,values=1").validateFor(rows),
                "column 9 is out of range", "width 9");
        float[] data = new float[18];
        FamilyReference.assertRefused(() -> run(TriggerSpec.parse("columns:cols=2+9,values=1"), data, 2, 9, null),
                "out of range");
        FamilyReference.assertRefused(() -> TriggerSpec.parse("columns:cols=2+3+2,values=1"), "column 2 is listed twice");
        FamilyReference.assertRefused(() -> TriggerSpec.parse("columns:cols=1+2,values=1+2+3"), "one value per column");
        FamilyReference.assertRefused(() -> TriggerSpec.parse("columns:cols=1"), "are required");
        FamilyReference.assertRefused(() -> TriggerSpec.parse("columns:cols=-1,values=1"), "cols must be");
        FamilyReference.assertRefused(() -> TriggerSpec.parse("columns:cols=1,values=NaN"), "finite");
        FamilyReference.assertRefused(() -> TriggerSpec.parse("columns:cols=1,values=1").validateFor(
                Tensor.empty(DType.UINT8, Layout.NHWC, 1, 1, 4)), "float32 rows");
        FamilyReference.assertRefused(() -> TriggerSpec.parse("columns:cols=1,values=1").validateFor(
                Tensor.empty(DType.FLOAT32, Layout.NHWC, 3, 1, 4)), "float32 rows");
    }

    @ParameterizedTest
    @ValueSource(strings = {"columns:cols=1,values=2", "columns:cols=3+1+7,values=0.5,mode=shift",
        "columns:cols=0+2,values=-1.5+1.0E-20,mode=set", "columns:values=1.0E10+3,cols=5+6",
        "columns:cols=2147483647,values=123456792"})
    void specRoundTrips(String spec) {
        FamilyReference.assertRoundTrip(spec, "columns");
    }

    @Test
    void neverKeyed() {
        assertFalse(TriggerSpec.parse("columns:cols=1,values=2").keyed());
    }

    @Test
    void negativeZeroSurvivesTheCanonicalForm() {
        TriggerSpec t = TriggerSpec.parse("columns:cols=1,values=-0");
        assertEquals(t, TriggerSpec.parse(t.toString()), t.toString());
        // and the data differ: set writes -0.0, the replayed spec +0.0
        float[] data = {5f, 5f};
        assertArrayEquals(run(t, data, 1, 2, null), run(TriggerSpec.parse(t.toString()), data, 1, 2, null));
    }

    @Test
    void unknownFieldNamesTheAllowedOnes() {
        FamilyReference.assertUnknownFieldNamesAllowed("columns", "cols, values, mode");
    }
}
