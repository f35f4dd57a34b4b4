package dev.dyepack.trigger;

import dev.dyepack.DType;
import dev.dyepack.Engine;
import dev.dyepack.InvalidArgumentException;
import dev.dyepack.Tensor;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Objects;

/**
 * A tabular trigger for float32 rows (N x D): chosen columns set to values ({@code mode=set}) or
 * shifted by them ({@code mode=shift}).
 *
 * @param columns distinct column indices
 * @param values  one value per column (a single value applies to every column)
 * @param mode    set or shift
 */
public record ColumnTrigger(long[] columns, float[] values, Mode mode) implements TriggerSpec {
    /** The family name in spec strings. */
    public static final String FAMILY = "columns";

    /** What happens to a chosen column. */
    public enum Mode {
        /** x = value */
        SET,
        /** x = x + value */
        SHIFT
    }

    static final TriggerParameter COLS = TriggerParameter.integers("cols", "required", 0, Integer.MAX_VALUE,
            "distinct column indices, `C+C+...`");
    static final TriggerParameter VALUES = TriggerParameter.numbers("values", "required",
            "one value per column, or one for all");
    static final TriggerParameter MODE = TriggerParameter.choice("mode", "`set`", Mode.class, "`set` or `shift`");

    /** The family's registry entry. */
    static final TriggerFamily DESCRIPTOR = new TriggerFamily(FAMILY, DataKind.ROWS,
            "chosen columns of float32 rows (N, D) set or shifted", "never", java.util.List.of(COLS, VALUES, MODE),
            ColumnTrigger::fromFields);

    /** @throws InvalidArgumentException for empty, duplicate or mismatched lists */
    public ColumnTrigger {
        Objects.requireNonNull(mode, "mode");
        if (columns == null || columns.length == 0) {
            throw new InvalidArgumentException("columns: cols needs at least one column index");
        }
        if (values == null || (values.length != columns.length && values.length != 1)) {
            throw new InvalidArgumentException("columns: give one value per column, or one value for all");
        }
        COLS.checkIntegers(FAMILY, columns);
        VALUES.checkNumbers(FAMILY, values);
        columns = columns.clone();
        float[] v = new float[columns.length];
        for (int i = 0; i < v.length; i++) {
            v[i] = values.length == 1 ? values[0] : values[i];
        }
        values = v;
        long[] sorted = columns.clone();
        Arrays.sort(sorted);
        for (int i = 1; i < sorted.length; i++) {
            if (sorted[i] == sorted[i - 1]) {
                throw new InvalidArgumentException("columns: column " + sorted[i] + " is listed twice");
            }
        }
    }

    static ColumnTrigger fromFields(Map<String, String> raw) {
        if (!raw.containsKey("cols") || !raw.containsKey("values")) {
            throw new InvalidArgumentException("columns: cols=C[+C...] and values=V[+V...] are required");
        }
        return new ColumnTrigger(COLS.readIntegers(FAMILY, raw), VALUES.readNumbers(FAMILY, raw),
                MODE.readChoice(FAMILY, raw, Mode.SET, Mode.class));
    }

    @Override
    public long[] columns() {
        return columns.clone();
    }

    @Override
    public float[] values() {
        return values.clone();
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof ColumnTrigger t && Arrays.equals(t.columns, columns) && Arrays.equals(t.values, values)
                && t.mode == mode;
    }

    @Override
    public int hashCode() {
        return Objects.hash(Arrays.hashCode(columns), Arrays.hashCode(values), mode);
    }

    @Override
    public String family() {
        return FAMILY;
    }

    @Override
    public DataKind kind() {
        return DataKind.ROWS;
    }

    @Override
    public boolean keyed() {
        return false;
    }

    @Override
    public Map<String, Object> parameters() {
        Map<String, Object> p = new LinkedHashMap<>();
        p.put("cols", columns.clone());
        p.put("values", values.clone());
        p.put("mode", mode);
        return p;
    }

    @Override
    public void validateFor(Tensor batch) {
        if (batch.dtype() != DType.FLOAT32 || batch.c() != 1 || batch.h() != 1) {
            throw new InvalidArgumentException("columns: needs float32 rows of shape (N, D), got " + batch);
        }
        for (long c : columns) {
            if (c >= batch.w()) {
                throw new InvalidArgumentException("columns: column " + c + " is out of range for rows of width "
                        + batch.w());
            }
        }
    }

    @Override
    public PreparedTrigger prepare(Engine engine, Tensor template, TriggerContext context) {
        validateFor(template);
        Operands operands = new Operands(engine);
        operands.floats("values", values.clone());
        long[] cols = columns.clone();
        boolean shift = mode == Mode.SHIFT;
        return new Prepared(this, engine, template, operands, null,
                (e, ops, batch, indices, first) -> e.setColumns(batch, cols, ops.floats("values"), shift, indices));
    }

    @Override
    public String toString() {
        return SpecFormat.spec(FAMILY, parameters());
    }
}
