package dev.dyepack.spark;

import dev.dyepack.Engine;
import dev.dyepack.InvalidArgumentException;
import dev.dyepack.InvalidInputException;
import dev.dyepack.io.Limits;
import dev.dyepack.job.PoisonJob;
import dev.dyepack.job.PoisonPlan;
import dev.dyepack.job.Poisoner;
import dev.dyepack.key.OwnerKey;
import dev.dyepack.manifest.Manifest;
import dev.dyepack.select.SelectionMode;
import dev.dyepack.surrogate.LinearHead;
import dev.dyepack.surrogate.LinearSurrogate;
import java.io.Serializable;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Iterator;
import java.util.List;
import java.util.Locale;
import java.util.Objects;
import java.util.function.Consumer;
import org.apache.spark.TaskContext;
import org.apache.spark.api.java.JavaSparkContext;
import org.apache.spark.api.java.function.FlatMapFunction;
import org.apache.spark.api.java.function.MapPartitionsFunction;
import org.apache.spark.broadcast.Broadcast;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Encoders;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.Column;
import org.apache.spark.sql.functions;

/**
 * Poisons a DataFrame of samples on Spark with the options of a {@link Poisoner}, giving, sample for
 * sample, the bytes, labels and manifest indices that {@code dyepack poison} gives on the same data,
 * key and options, whatever the partitioning. A row's global index (the sample's place in the dataset,
 * which selection and the trigger's keyed randomness use) is its rank by id.
 *
 * <p>The passes: (1) a census of every partition (ids, labels, image sizes), which checks the input and
 * fails, before anything is written, with one line naming the column and the row; (2) for boundary
 * selection, the linear surrogate fitted on the driver over all the pixels in index order (the same
 * fit, sample order and head as one machine; see docs/spark.md for why it is not distributed), then every
 * partition scored on its executor's engine; (3) the keyed global choice on the driver, by
 * {@link Poisoner#planFromScores}, the code {@code dyepack poison} runs; (4) the chosen rows stamped on
 * their executors (one engine per executor, triggers prepared once per executor), the rest passed
 * through. The poisoned DataFrame is lazy and deterministic: a retried task recomputes the same bytes.
 *
 * <p>Immutable and thread-safe.
 */
public final class SparkPoisoner {
    /** Rows a scoring or pixel block holds. */
    private static final int BLOCK_ROWS = 4096;

    private final Poisoner poisoner;
    private final int classes;

    private SparkPoisoner(Poisoner poisoner, int classes) {
        this.poisoner = poisoner;
        this.classes = classes;
    }

    /**
     * @param poisoner the options: trigger, target, budget, selection, mode, negatives (the linear
     *                 surrogate or random selection; the owner's features and head are not read from a
     *                 DataFrame)
     * @param classes  the number of classes, or 0 to take them from the labels (largest + 1), as
     *                 {@code dyepack poison --classes}
     * @return the Spark poisoner
     * @throws InvalidArgumentException if the options use the owner's features and head, or classes is
     *                                  negative, 1 or above the classes limit, or the target is not below it
     */
    public static SparkPoisoner of(Poisoner poisoner, int classes) {
        Objects.requireNonNull(poisoner, "poisoner");
        if (poisoner.surrogate() == PoisonJob.Surrogate.FEATURES_HEAD) {
            throw new InvalidArgumentException("the owner's features and head are not read from a DataFrame; use the "
                    + "linear surrogate or random selection", "surrogate", "features and head", "linear or none");
        }
        if (classes < 0 || classes == 1 || classes > Limits.current().classes()) {
            throw InvalidArgumentException.of("classes", classes, "0 (from the labels) or 2 to "
                    + Limits.current().classes());
        }
        if (classes > 0 && poisoner.target() >= classes) {
            throw new InvalidArgumentException("target " + poisoner.target() + " is not one of the " + classes
                    + " classes [0, " + classes + ")", "target", poisoner.target(), "a class in [0, " + classes + ")");
        }
        return new SparkPoisoner(poisoner, classes);
    }

    /** @return the options */
    public Poisoner poisoner() {
        return poisoner;
    }

    /**
     * The outcome of planning on Spark.
     *
     * @param poisoned  the poisoned samples: the input's schema and rows, the chosen rows stamped and, for
     *                  dirty-label poisoning, relabelled (lazy; each action recomputes the same bytes)
     * @param plan      the plan: indices, negatives, geometry; {@link PoisonPlan#manifest} signs the record
     * @param columns   the input's columns
     * @param idsByIndex every row's id, by global index
     * @param input     the clean data's fingerprints when a pass already read every pixel in index order (the
     *                  linear surrogate's), else null
     * @param timings   milliseconds per pass
     */
    public record Result(Dataset<Row> poisoned, PoisonPlan plan, SampleColumns columns, long[] idsByIndex,
            SparkFingerprints.Pair input, Timings timings) {
        /**
         * The signed manifest, recording the data and labels by the fingerprints of the {@code .npy} files
         * {@code dyepack convert} writes from them ({@link SparkFingerprints}).
         *
         * @param input  the clean data's fingerprints
         * @param output the poisoned data's fingerprints
         * @return the manifest
         */
        public Manifest manifest(SparkFingerprints.Pair input, SparkFingerprints.Pair output) {
            return plan.manifest(input.data(), input.labels(), output.data(), output.labels());
        }
    }

    /**
     * Milliseconds spent in each pass.
     *
     * @param census the census (check, ids, labels)
     * @param gather gathering the pixels on the driver for the surrogate's fit, 0 without one
     * @param fit    the surrogate's fit on the driver, 0 without one
     * @param score  the distributed scoring, 0 without a surrogate
     * @param select the global keyed choice
     */
    public record Timings(long census, long gather, long fit, long score, long select) {}

    /**
     * Checks the samples, plans, and returns the poisoned DataFrame (lazy) with the plan. Every check is
     * made, and the plan made, before any row is stamped or written.
     *
     * @param samples  the samples (see {@link SampleColumns})
     * @param columns  their columns, from {@link SampleColumns#of}
     * @param key      the owner's key
     * @param progress receives one line per pass
     * @return the poisoned DataFrame and the plan
     * @throws InvalidInputException    naming the column and row of a missing or mistyped column, a null,
     *                                  images of mixed sizes, a duplicate id, or a negative label
     * @throws InvalidArgumentException if the key is missing, the target or class set does not fit the
     *                                  labels, or the budget cannot be met (rounds to zero, above 5% without
     *                                  the override)
     */
    public Result poison(Dataset<Row> samples, SampleColumns columns, OwnerKey key, Consumer<String> progress) {
        Objects.requireNonNull(samples, "samples");
        Objects.requireNonNull(columns, "columns");
        if (key == null) {
            throw new InvalidArgumentException("poisoning needs the owner's key (it chooses the samples and signs the "
                    + "manifest)", "key", null, "the owner's key");
        }
        if (!samples.schema().equals(columns.schema())) {
            throw new InvalidArgumentException("the columns were checked against another schema", "columns",
                    columns.schema().simpleString(), samples.schema().simpleString());
        }
        long t0 = System.nanoTime();
        Census census = census(samples, columns);
        long n = census.ids.length;
        int classSet = classSet(census, columns);
        // The budget is checked before any further pass: a budget that rounds to zero fails here.
        poisoner.budget().countFor(n, poisoner.allowOver5Percent());
        long tCensus = ms(t0);
        progress.accept(String.format(Locale.ROOT, "census: %d rows in %d partitions, %dx%dx%d images, %d classes "
                + "(%d ms)", n, samples.rdd().getNumPartitions(), census.h, census.w, census.c, classSet, tCensus));

        float[] scores = null;
        LinearHead head = null;
        double accuracy = Double.NaN;
        long tGather = 0;
        long tFit = 0;
        long tScore = 0;
        SparkFingerprints.Pair input = null;
        if (poisoner.surrogate() == PoisonJob.Surrogate.LINEAR) {
            long t1 = System.nanoTime();
            byte[] raw = pixels(samples, columns, census);
            tGather = ms(t1);
            t1 = System.nanoTime();
            input = SparkFingerprints.of(raw, census.labels, columns, census.h, census.w, census.c);
            int d = census.h * census.w * census.c;
            float[] x = new float[raw.length];
            for (int i = 0; i < x.length; i++) {
                x[i] = (raw[i] & 0xff) / 255f;
            }
            raw = null; // not needed while the fit runs
            head = LinearSurrogate.fit(ExecutorEngine.current(), x, (int) n, d, census.labels, classSet, key,
                    LinearSurrogate.Settings.DEFAULT);
            tFit = ms(t1);
            progress.accept(String.format(Locale.ROOT, "pixels gathered on the driver (%d ms); linear surrogate "
                    + "fitted there over %d samples (%d ms)", tGather, n, tFit));
            long t2 = System.nanoTime();
            scores = new float[(int) n];
            accuracy = score(samples, columns, census, head, scores);
            tScore = ms(t2);
            progress.accept(String.format(Locale.ROOT, "%d samples scored on the executors (%d ms)", n, tScore));
        }
        long t3 = System.nanoTime();
        PoisonPlan plan = poisoner.planFromScores(census.labels, classSet, StampPlan.geometryOf(census.c, census.h,
                census.w), scores, head, accuracy, key);
        long tSelect = ms(t3);
        progress.accept("selected " + plan.indices().length + " of " + n + " samples and " + plan.negatives().length
                + " negatives");
        StampPlan stamp = new StampPlan(plan, key, census.ids, columns);
        Broadcast<StampPlan> shared = JavaSparkContext.fromSparkContext(samples.sparkSession().sparkContext())
                .broadcast(stamp);
        Dataset<Row> stamped = samples.mapPartitions((MapPartitionsFunction<Row, Row>) rows -> {
            return FailureInjection.wrap(shared.value().stamp(rows));
        }, Encoders.row(samples.schema()));
        // A row encoder's output drops the columns' metadata (the dtypes convert recorded); put it back.
        Column[] withMetadata = Arrays.stream(samples.schema().fields())
                .map(f -> functions.col(f.name()).as(f.name(), f.metadata())).toArray(Column[]::new);
        Dataset<Row> poisoned = stamped.select(withMetadata);
        return new Result(poisoned, plan, columns, census.ids.clone(), input,
                new Timings(tCensus, tGather, tFit, tScore, tSelect));
    }

    private static long ms(long since) {
        return (System.nanoTime() - since) / 1_000_000;
    }

    /** The class set, explicit, by {@code dyepack poison}'s rules. */
    private int classSet(Census census, SampleColumns columns) {
        long max = -1;
        for (long l : census.labels) {
            max = Math.max(max, l);
        }
        int target = poisoner.target();
        if (target > columns.maxLabel()) {
            throw new InvalidArgumentException("target " + target + " does not fit the column '" + columns.label()
                    + "' (" + columns.labelDescr() + ")", "target", target, "a value the label column holds");
        }
        if (classes > 0) {
            if (max >= classes) {
                int at = indexOfMax(census.labels, max);
                throw new InvalidInputException("column '" + columns.label() + "': label " + max + " of the row with id "
                        + census.ids[at] + " is outside the " + classes + " classes [0, " + classes + ")");
            }
            return classes;
        }
        Limits.current().check("classes", max + 1, "column '" + columns.label() + "': labels up to " + max + " make "
                + (max + 1) + " classes, which");
        int found = (int) (max + 1);
        if (target >= found) {
            throw new InvalidArgumentException("target " + target + " is not a class of column '" + columns.label()
                    + "': its labels make the classes [0, " + found + "); declare more classes", "target", target,
                    "a class in [0, " + found + ")");
        }
        if (found < 2) {
            throw new InvalidInputException("column '" + columns.label() + "' holds only class 0; poisoning needs at "
                    + "least two classes");
        }
        return found;
    }

    private static int indexOfMax(long[] v, long max) {
        for (int i = 0; i < v.length; i++) {
            if (v[i] == max) {
                return i;
            }
        }
        return 0;
    }

    /** Ids, labels and image size of every row, by global index (ascending id). */
    static final class Census {
        long[] ids;
        long[] labels;
        int h;
        int w;
        int c;

        /**
         * @param id an id
         * @return its global index
         */
        int indexOf(long id) {
            return Arrays.binarySearch(ids, id);
        }
    }

    /** One partition's census: its rows' ids and labels, its image size, or its first problem. */
    private static final class Block implements Serializable {
        private static final long serialVersionUID = 1L;
        int partition;
        long[] ids;
        long[] labels;
        int h = -1;
        int w;
        int c;
        long sizeId;
        String problem;
    }

    /**
     * Reads every row's id, label and image size (not the pixels) and checks them: nulls, sizes, byte
     * counts, negative labels per row; mixed sizes and duplicate ids across partitions.
     */
    static Census census(Dataset<Row> samples, SampleColumns columns) {
        String idName = columns.id();
        String labelName = columns.label();
        String dataName = columns.dataName();
        String[] geometryNames = columns.geometryNames().split("/");
        List<Block> blocks = samples.select(columns.censusColumns()).javaRDD()
                .mapPartitions((FlatMapFunction<Iterator<Row>, Block>) rows -> {
                    Block b = new Block();
                    b.partition = TaskContext.getPartitionId();
                    long[] ids = new long[1024];
                    long[] labels = new long[1024];
                    int n = 0;
                    long row = 0;
                    while (rows.hasNext() && b.problem == null) {
                        Row r = rows.next();
                        if (r.isNullAt(0)) {
                            b.problem = "column '" + idName + "' is null in row " + row + " of partition " + b.partition;
                            break;
                        }
                        long id = ((Number) r.get(0)).longValue();
                        String where = " in the row with id " + id;
                        if (r.isNullAt(1)) {
                            b.problem = "column '" + labelName + "' is null" + where;
                            break;
                        }
                        long label = ((Number) r.get(1)).longValue();
                        if (label < 0) {
                            b.problem = "column '" + labelName + "'" + where + " is negative (" + label
                                    + "); labels are class indices 0, 1, ...";
                            break;
                        }
                        for (int g = 0; g < 3; g++) {
                            if (r.isNullAt(2 + g) || r.getInt(2 + g) <= 0) {
                                b.problem = "column '" + geometryNames[g] + "'" + where + " is "
                                        + (r.isNullAt(2 + g) ? "null" : r.getInt(2 + g) + ", not a positive size");
                                break;
                            }
                        }
                        if (b.problem != null) {
                            break;
                        }
                        int h = r.getInt(2);
                        int w = r.getInt(3);
                        int c = r.getInt(4);
                        if (r.isNullAt(5)) {
                            b.problem = "column '" + dataName + "' is null" + where;
                            break;
                        }
                        long bytes = ((Number) r.get(5)).longValue();
                        if (bytes != (long) h * w * c) {
                            b.problem = "column '" + dataName + "'" + where + " holds " + bytes + " bytes, not "
                                    + h + " x " + w + " x " + c + " = " + (long) h * w * c + " (uint8 pixels)";
                            break;
                        }
                        if (b.h < 0) {
                            b.h = h;
                            b.w = w;
                            b.c = c;
                            b.sizeId = id;
                        } else if (b.h != h || b.w != w || b.c != c) {
                            b.problem = "images of mixed sizes (columns " + String.join("/", geometryNames)
                                    + "): the row with id " + b.sizeId + " is " + b.h + "x" + b.w + "x" + b.c
                                    + " but the row with id " + id + " is " + h + "x" + w + "x" + c;
                            break;
                        }
                        if (n == ids.length) {
                            ids = Arrays.copyOf(ids, n * 2);
                            labels = Arrays.copyOf(labels, n * 2);
                        }
                        ids[n] = id;
                        labels[n] = label;
                        n++;
                        row++;
                    }
                    b.ids = Arrays.copyOf(ids, n);
                    b.labels = Arrays.copyOf(labels, n);
                    return List.of(b).iterator();
                }).collect();
        List<Block> sorted = new ArrayList<>(blocks);
        sorted.sort((a, b) -> Integer.compare(a.partition, b.partition));
        Block first = null;
        int total = 0;
        for (Block b : sorted) {
            if (b.problem != null) {
                throw new InvalidInputException(b.problem);
            }
            if (b.h >= 0) {
                if (first == null) {
                    first = b;
                } else if (first.h != b.h || first.w != b.w || first.c != b.c) {
                    throw new InvalidInputException("images of mixed sizes (columns " + String.join("/", geometryNames)
                            + "): the row with id " + first.sizeId + " is " + first.h + "x" + first.w + "x" + first.c
                            + " but the row with id " + b.sizeId + " is " + b.h + "x" + b.w + "x" + b.c);
                }
            }
            total += b.ids.length;
        }
        if (first == null) {
            throw new InvalidInputException("the DataFrame has no rows");
        }
        long[][] pairs = new long[total][];
        int at = 0;
        for (Block b : sorted) {
            for (int i = 0; i < b.ids.length; i++) {
                pairs[at++] = new long[] {b.ids[i], b.labels[i]};
            }
        }
        Arrays.sort(pairs, (a, b) -> Long.compare(a[0], b[0]));
        Census c = new Census();
        c.ids = new long[total];
        c.labels = new long[total];
        for (int i = 0; i < total; i++) {
            c.ids[i] = pairs[i][0];
            c.labels[i] = pairs[i][1];
            if (i > 0 && c.ids[i] == c.ids[i - 1]) {
                throw new InvalidInputException("column '" + idName + "': id " + c.ids[i] + " appears in more than one "
                        + "row; ids must be unique (a row's place in the dataset is its rank by id)");
            }
        }
        c.h = first.h;
        c.w = first.w;
        c.c = first.c;
        return c;
    }

    /** A block of rows' ids with their pixels or scores. */
    private static final class Rows implements Serializable {
        private static final long serialVersionUID = 1L;
        long[] ids;
        byte[] pixels;
        float[] scores;
        long correct;
    }

    /**
     * Gathers the pixels on the driver by global index (the linear surrogate is fitted there on uint8 / 255,
     * as {@code dyepack poison} feeds it).
     */
    private static byte[] pixels(Dataset<Row> samples, SampleColumns columns, Census census) {
        int d = census.h * census.w * census.c;
        long elems = (long) census.ids.length * d;
        if (elems > Integer.MAX_VALUE - 8) {
            throw new InvalidArgumentException("a linear surrogate holds the pixels in the driver's memory; " + elems
                    + " values are too many (use random selection)", "surrogate", "linear",
                    "random selection for data this large");
        }
        byte[] x = new byte[(int) elems];
        List<Rows> blocks = samples.select(columns.pixelColumns()).javaRDD()
                .mapPartitions((FlatMapFunction<Iterator<Row>, Rows>) rows -> blocks(rows, d)).collect();
        for (Rows b : blocks) {
            for (int i = 0; i < b.ids.length; i++) {
                System.arraycopy(b.pixels, i * d, x, census.indexOf(b.ids[i]) * d, d);
            }
        }
        return x;
    }

    private static Iterator<Rows> blocks(Iterator<Row> rows, int d) {
        List<Rows> out = new ArrayList<>();
        while (rows.hasNext()) {
            Rows b = new Rows();
            long[] ids = new long[BLOCK_ROWS];
            byte[] px = new byte[BLOCK_ROWS * d];
            int n = 0;
            while (rows.hasNext() && n < BLOCK_ROWS) {
                Row r = rows.next();
                ids[n] = ((Number) r.get(0)).longValue();
                System.arraycopy((byte[]) r.get(2), 0, px, n * d, d);
                n++;
            }
            b.ids = Arrays.copyOf(ids, n);
            b.pixels = Arrays.copyOf(px, n * d);
            out.add(b);
        }
        return out.iterator();
    }

    /** Scores every row on its executor's engine; the scores land on the driver by global index. */
    private double score(Dataset<Row> samples, SampleColumns columns, Census census, LinearHead head, float[] out) {
        int d = census.h * census.w * census.c;
        float[] weight = head.weight();
        float[] bias = head.bias();
        int headClasses = head.classes();
        int target = poisoner.target();
        SelectionMode mode = poisoner.mode();
        List<Rows> blocks = samples.select(columns.pixelColumns()).javaRDD()
                .mapPartitions((FlatMapFunction<Iterator<Row>, Rows>) rows -> {
                    LinearHead h = new LinearHead(weight, bias, headClasses, d);
                    Engine engine = ExecutorEngine.current();
                    List<Rows> result = new ArrayList<>();
                    while (rows.hasNext()) {
                        long[] ids = new long[BLOCK_ROWS];
                        long[] labels = new long[BLOCK_ROWS];
                        float[] x = new float[BLOCK_ROWS * d];
                        int n = 0;
                        while (rows.hasNext() && n < BLOCK_ROWS) {
                            Row r = rows.next();
                            ids[n] = ((Number) r.get(0)).longValue();
                            labels[n] = ((Number) r.get(1)).longValue();
                            byte[] px = (byte[]) r.get(2);
                            for (int j = 0; j < d; j++) {
                                x[n * d + j] = (px[j] & 0xff) / 255f;
                            }
                            n++;
                        }
                        Rows b = new Rows();
                        b.ids = Arrays.copyOf(ids, n);
                        b.scores = new float[n];
                        double acc = Poisoner.score(engine, Arrays.copyOf(x, n * d), n, h, labels, target, mode,
                                b.scores);
                        b.correct = Math.round(acc * n);
                        result.add(b);
                    }
                    return result.iterator();
                }).collect();
        long correct = 0;
        for (Rows b : blocks) {
            for (int i = 0; i < b.ids.length; i++) {
                out[census.indexOf(b.ids[i])] = b.scores[i];
            }
            correct += b.correct;
        }
        return (double) correct / Math.max(census.ids.length, 1);
    }
}
