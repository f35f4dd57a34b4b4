package dev.dyepack.spark;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.dyepack.DyePackException;
import dev.dyepack.job.Poisoner;
import dev.dyepack.key.OwnerKey;
import dev.dyepack.select.Budget;
import dev.dyepack.select.Strategy;
import dev.dyepack.trigger.TriggerSpec;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Function;
import java.util.stream.Stream;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.RowFactory;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.StructField;
import org.apache.spark.sql.types.StructType;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Unusable input fails before anything is written, with one line naming the column and the row, and
 * leaves nothing under the output path (nor a staging directory beside it).
 */
class SparkBadInputTest {
    private static final OwnerKey KEY = new OwnerKey("bad input test key".getBytes(StandardCharsets.UTF_8));

    @TempDir
    Path dir;

    /** A valid row: 4x4 gray image of one value, label = id % 4. */
    private static Object[] row(long id) {
        byte[] px = new byte[16];
        java.util.Arrays.fill(px, (byte) (id * 7));
        return new Object[] {id, (int) (id % 4), 4, 4, 1, px};
    }

    private static StructType schema(String labelName, org.apache.spark.sql.types.DataType labelType) {
        return new StructType(new StructField[] {
            DataTypes.createStructField("id", DataTypes.LongType, true),
            DataTypes.createStructField(labelName, labelType, true),
            DataTypes.createStructField("height", DataTypes.IntegerType, true),
            DataTypes.createStructField("width", DataTypes.IntegerType, true),
            DataTypes.createStructField("channels", DataTypes.IntegerType, true),
            DataTypes.createStructField("data", DataTypes.BinaryType, true)});
    }

    /** 400 valid rows, changed by {@code edit}, written as Parquet in 3 files. */
    private Path parquet(StructType schema, Function<Object[], Object[]> edit) {
        List<Row> rows = new ArrayList<>();
        for (long id = 0; id < 400; id++) {
            rows.add(RowFactory.create(edit.apply(row(id))));
        }
        Dataset<Row> df = LocalSpark.get().createDataFrame(rows, schema).repartition(3);
        Path p = dir.resolve("in.parquet");
        df.write().parquet(p.toUri().toString());
        return p;
    }

    private String refused(Path in, String budget) throws IOException {
        Path out = dir.resolve("out");
        Poisoner p = Poisoner.builder().trigger(TriggerSpec.parse("patch:size=2,pos=br,value=255")).target(0)
                .strategy(Strategy.RANDOM).budget(Budget.parse(budget)).build();
        DyePackException e = assertThrows(DyePackException.class, () -> SparkPoisonJob.run(LocalSpark.get(),
                SparkPoisoner.of(p, 0), in, 0, out, false, KEY, line -> { }));
        assertFalse(Files.exists(out), "nothing under the output path");
        try (Stream<Path> beside = Files.list(dir)) {
            assertEquals(List.of("in.parquet"), beside.map(f -> f.getFileName().toString()).sorted().toList(),
                    "no staging directory or lock left beside the output");
        }
        assertFalse(e.getMessage().contains("\n"), "one line: " + e.getMessage());
        return e.getMessage();
    }

    private String refused(Path in) throws IOException {
        return refused(in, "0.05");
    }

    @Test
    void missingColumnIsNamed() throws IOException {
        String m = refused(parquet(schema("class", DataTypes.IntegerType), r -> r));
        assertTrue(m.contains("column 'label' is missing"), m);
    }

    @Test
    void mistypedColumnIsNamed() throws IOException {
        String m = refused(parquet(schema("label", DataTypes.StringType), r -> {
            r[1] = "cat";
            return r;
        }));
        assertTrue(m.contains("column 'label' has type string"), m);
    }

    @Test
    void imagesOfMixedSizesAreNamedByRow() throws IOException {
        String m = refused(parquet(schema("label", DataTypes.IntegerType), r -> {
            if ((long) r[0] == 123) {
                r[2] = 2;
                r[3] = 8;
            }
            return r;
        }));
        assertTrue(m.contains("images of mixed sizes") && m.contains("id 123 is 2x8x1"), m);
    }

    @Test
    void duplicateIdsAreNamed() throws IOException {
        String m = refused(parquet(schema("label", DataTypes.IntegerType), r -> {
            if ((long) r[0] == 77) {
                r[0] = 76L;
            }
            return r;
        }));
        assertTrue(m.contains("column 'id': id 76 appears in more than one row"), m);
    }

    @Test
    void nullLabelIsNamedByRow() throws IOException {
        String m = refused(parquet(schema("label", DataTypes.IntegerType), r -> {
            if ((long) r[0] == 250) {
                r[1] = null;
            }
            return r;
        }));
        assertEquals("column 'label' is null in the row with id 250", m);
    }

    @Test
    void pixelCountThatDoesNotMatchTheSizeIsNamedByRow() throws IOException {
        String m = refused(parquet(schema("label", DataTypes.IntegerType), r -> {
            if ((long) r[0] == 9) {
                r[5] = new byte[15];
            }
            return r;
        }));
        assertTrue(m.startsWith("column 'data' in the row with id 9 holds 15 bytes"), m);
    }

    @Test
    void budgetThatRoundsToZeroIsRefused() throws IOException {
        String m = refused(parquet(schema("label", DataTypes.IntegerType), r -> r), "0.001");
        assertTrue(m.contains("rounds to 0"), m);
    }
}
