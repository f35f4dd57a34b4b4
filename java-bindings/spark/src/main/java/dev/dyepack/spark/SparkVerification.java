package dev.dyepack.spark;

import dev.dyepack.Engine;
import dev.dyepack.InvalidArgumentException;
import dev.dyepack.InvalidInputException;
import dev.dyepack.io.Samples;
import dev.dyepack.key.OwnerKey;
import dev.dyepack.manifest.UntrustedRecordException;
import dev.dyepack.verify.Answers;
import dev.dyepack.verify.ProbeSet;
import dev.dyepack.verify.Verdict;
import dev.dyepack.verify.Verification;
import dev.dyepack.verify.Verifier;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.RowFactory;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.types.ArrayType;
import org.apache.spark.sql.types.DataType;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.StructField;
import org.apache.spark.sql.types.StructType;

/**
 * Verification with DataFrames: a probe set drawn from held-out samples held as a DataFrame, its probes
 * as a DataFrame for a suspect model to answer on the cluster, and the suspect's answers as a DataFrame
 * tested by the verifier of {@code dyepack verify}. The probe set itself is the verify module's
 * ({@link ProbeSet}: a signed folder of {@code .npy} files), so {@code dyepack verify} reads it too.
 */
public final class SparkVerification {
    /** The probe DataFrame's column naming the probe set: clean, triggered, control-K. */
    public static final String PROBE = "probe";
    /** The probe DataFrame's column giving a probe's place in its set, 0-based. */
    public static final String POSITION = "position";
    /** The answers' column of predicted labels. */
    public static final String PREDICTION = "prediction";
    /** The answers' column of class probabilities. */
    public static final String PROBABILITIES = "probabilities";

    private SparkVerification() {
    }

    /**
     * Draws and writes a probe set from held-out samples, as {@code dyepack probe-set} does from files
     * (the samples go to the driver as a {@code .npy} pair in id order first).
     *
     * @param engine   the engine that stamps the triggers
     * @param heldOut  held-out samples ({@link SampleColumns}; the poisoned data itself is allowed)
     * @param manifest the poisoning's signed manifest
     * @param size     probes
     * @param controls control keys
     * @param key      the owner's key
     * @param out      the probe folder to write
     * @return the probe set
     * @throws UntrustedRecordException if the manifest does not verify under the key
     * @throws InvalidInputException    naming the column and row of unusable samples
     * @throws InvalidArgumentException for a bad size or control count, or too few samples
     * @throws IOException              if writing fails (nothing appears under {@code out})
     */
    public static ProbeSet createProbeSet(Engine engine, Dataset<Row> heldOut, Path manifest, int size, int controls,
            OwnerKey key, Path out) throws IOException {
        Path tmp = Files.createTempDirectory("dyepack-held-out");
        try {
            ParquetConvert.writeNpy(heldOut, tmp);
            return ProbeSet.create(engine, manifest, tmp.resolve("data.npy"), tmp.resolve("labels.npy"), size, controls,
                    key, out);
        } finally {
            try (Stream<Path> walk = Files.walk(tmp)) {
                for (Path p : walk.sorted(Comparator.reverseOrder()).toList()) {
                    Files.deleteIfExists(p);
                }
            }
        }
    }

    /**
     * The probes of a verified probe set as a DataFrame: {@code probe}, {@code position}, and the image as
     * {@code dyepack convert} writes it ({@code height}, {@code width}, {@code channels}, {@code data}), for
     * a suspect model to answer where it runs.
     *
     * @param spark    the session
     * @param probeDir the probe set ({@code .npy} form)
     * @param manifest the poisoning's manifest
     * @param key      the owner's key
     * @return one row per probe
     * @throws UntrustedRecordException if the manifest or the probe set does not verify
     * @throws InvalidInputException    if the probe set is not in {@code .npy} form or a file is unusable
     */
    public static Dataset<Row> probes(SparkSession spark, Path probeDir, Path manifest, OwnerKey key) {
        ProbeSet set = ProbeSet.open(probeDir, manifest, key);
        if (set.form() != ProbeSet.Form.NPY) {
            throw new InvalidInputException(probeDir + ": a probe set in " + set.form() + " form; DataFrames are made "
                    + "from .npy probe sets");
        }
        List<Row> rows = new ArrayList<>();
        for (String name : set.probeNames()) {
            try (Samples.Reader r = Samples.open(set.probeFile(name))) {
                long[] shape = r.shape();
                if (!r.descr().equals("|u1")) {
                    throw new InvalidInputException(set.probeFile(name) + ": probes must be uint8, got " + r.descr());
                }
                int h = (int) shape[1];
                int w = (int) shape[2];
                int c = shape.length == 4 ? (int) shape[3] : 1;
                int bytes = (int) r.sampleBytes();
                ByteBuffer buf = ByteBuffer.allocate(Math.toIntExact(shape[0] * bytes));
                r.readSamples(0, (int) shape[0], buf);
                buf.flip();
                for (long i = 0; i < shape[0]; i++) {
                    byte[] px = new byte[bytes];
                    buf.get(px);
                    rows.add(RowFactory.create(name, i, h, w, c, px));
                }
            }
        }
        StructType schema = new StructType(new StructField[] {
            DataTypes.createStructField(PROBE, DataTypes.StringType, false),
            DataTypes.createStructField(POSITION, DataTypes.LongType, false),
            DataTypes.createStructField("height", DataTypes.IntegerType, false),
            DataTypes.createStructField("width", DataTypes.IntegerType, false),
            DataTypes.createStructField("channels", DataTypes.IntegerType, false),
            DataTypes.createStructField(SampleColumns.DATA, DataTypes.BinaryType, false)});
        return spark.createDataFrame(rows, schema);
    }

    /**
     * Tests a suspect's answers, given as a DataFrame with {@code probe}, {@code position} and either
     * {@code prediction} (an integer label) or {@code probabilities} (an array over the classes), one row
     * per probe of the set, with the verifier of {@code dyepack verify}.
     *
     * @param answers  the suspect's answers
     * @param probeDir the probe set
     * @param manifest the poisoning's manifest
     * @param key      the owner's key
     * @param verifier the test's settings
     * @return the verdict
     * @throws UntrustedRecordException if the manifest or the probe set does not verify
     * @throws InvalidInputException    naming the column, the probe set or the position of a missing,
     *                                  duplicate, null or mistyped answer
     */
    public static Verdict verify(Dataset<Row> answers, Path probeDir, Path manifest, OwnerKey key, Verifier verifier) {
        ProbeSet set = ProbeSet.open(probeDir, manifest, key);
        StructType schema = answers.schema();
        List<String> names = Arrays.asList(schema.fieldNames());
        for (String required : new String[] {PROBE, POSITION}) {
            if (!names.contains(required)) {
                throw new InvalidInputException("column '" + required + "' is missing from the answers (columns: "
                        + String.join(", ", schema.fieldNames()) + ")");
            }
        }
        boolean labels = names.contains(PREDICTION);
        if (labels == names.contains(PROBABILITIES)) {
            throw new InvalidInputException("the answers need exactly one of the columns '" + PREDICTION + "' (labels) "
                    + "and '" + PROBABILITIES + "' (an array over the classes)");
        }
        DataType t = schema.apply(labels ? PREDICTION : PROBABILITIES).dataType();
        boolean integer = t.equals(DataTypes.IntegerType) || t.equals(DataTypes.LongType)
                || t.equals(DataTypes.ShortType) || t.equals(DataTypes.ByteType);
        if (labels ? !integer : !(t instanceof ArrayType a && (a.elementType().equals(DataTypes.FloatType)
                || a.elementType().equals(DataTypes.DoubleType)))) {
            throw new InvalidInputException("column '" + (labels ? PREDICTION : PROBABILITIES) + "' has type "
                    + t.simpleString() + "; it must hold " + (labels ? "integer labels" : "an array of float or double"));
        }
        Map<String, Integer> sizes = new HashMap<>();
        for (String name : set.probeNames()) {
            sizes.put(name, set.labels().length);
        }
        int classes = set.classes();
        Map<String, Object[]> byName = new HashMap<>();
        for (Row r : answers.select(PROBE, POSITION, labels ? PREDICTION : PROBABILITIES).collectAsList()) {
            String name = r.isNullAt(0) ? null : r.getString(0);
            if (name == null || !sizes.containsKey(name)) {
                throw new InvalidInputException("column '" + PROBE + "': '" + name + "' is not a probe set of "
                        + probeDir + " " + set.probeNames());
            }
            long pos = r.isNullAt(1) ? -1 : ((Number) r.get(1)).longValue();
            if (pos < 0 || pos >= sizes.get(name)) {
                throw new InvalidInputException("column '" + POSITION + "': " + (r.isNullAt(1) ? "null" : pos)
                        + " in probe set " + name + " is not a position in [0, " + sizes.get(name) + ")");
            }
            if (r.isNullAt(2)) {
                throw new InvalidInputException("column '" + (labels ? PREDICTION : PROBABILITIES) + "' is null at "
                        + name + " position " + pos);
            }
            Object[] slots = byName.computeIfAbsent(name, k -> new Object[sizes.get(k)]);
            if (slots[(int) pos] != null) {
                throw new InvalidInputException("answers: " + name + " position " + pos + " appears twice");
            }
            slots[(int) pos] = labels ? (Object) ((Number) r.get(2)).intValue() : r.getList(2);
        }
        Map<String, Answers> parsed = new HashMap<>();
        for (String name : set.probeNames()) {
            Object[] slots = byName.get(name);
            int missing = slots == null ? 0 : Arrays.asList(slots).indexOf(null);
            if (slots == null || missing >= 0) {
                throw new InvalidInputException("answers: probe set " + name + " has no answer at position " + missing);
            }
            if (labels) {
                int[] v = new int[slots.length];
                for (int i = 0; i < v.length; i++) {
                    v[i] = (Integer) slots[i];
                }
                parsed.put(name, Answers.ofLabels(v, classes));
            } else {
                float[] v = new float[slots.length * classes];
                for (int i = 0; i < slots.length; i++) {
                    List<?> p = (List<?>) slots[i];
                    if (p.size() != classes) {
                        throw new InvalidInputException("column '" + PROBABILITIES + "' at " + name + " position " + i
                                + " holds " + p.size() + " values for " + classes + " classes");
                    }
                    for (int k = 0; k < classes; k++) {
                        v[i * classes + k] = ((Number) p.get(k)).floatValue();
                    }
                }
                parsed.put(name, Answers.ofProbabilities(v, slots.length, classes));
            }
        }
        return Verification.withModel(manifest, probeDir, key, probes -> parsed.get(probes.name()), verifier);
    }
}
