package dev.dyepack.spark;

import dev.dyepack.InvalidArgumentException;
import dev.dyepack.InvalidInputException;
import dev.dyepack.io.ImageFolder;
import dev.dyepack.io.NpyWriter;
import dev.dyepack.io.OutputBusyException;
import dev.dyepack.io.Samples;
import dev.dyepack.io.StagedOutput;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Iterator;
import java.util.List;
import java.util.stream.Collectors;
import org.apache.spark.api.java.JavaSparkContext;
import org.apache.spark.api.java.function.FlatMapFunction;
import org.apache.spark.broadcast.Broadcast;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.RowFactory;
import org.apache.spark.sql.SaveMode;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.Metadata;
import org.apache.spark.sql.types.MetadataBuilder;
import org.apache.spark.sql.types.StructField;
import org.apache.spark.sql.types.StructType;

/**
 * {@code dyepack convert}: DyePack's dataset formats to Parquet and back. To Parquet: uint8 images from
 * {@code .npy} ((N, H, W) or (N, H, W, C), NHWC), IDX, or an image folder (one folder per class), with
 * their labels, become rows {@code id} (the sample's index), {@code label}, {@code height},
 * {@code width}, {@code channels}, {@code data} (the pixels, row-major H x W x C); the arrays' dtypes and
 * per-sample shape are kept in the columns' metadata so that the way back gives the same {@code .npy}
 * bytes. Back: a directory with {@code data.npy} and {@code labels.npy}, rows in id order. Outputs appear
 * whole or not at all ({@link StagedOutput}).
 */
public final class ParquetConvert {
    /** Rows one conversion task reads from the input file. */
    private static final int SLICE_ROWS = 8192;

    private ParquetConvert() {
    }

    /**
     * Reads a Parquet dataset.
     *
     * @param spark the session
     * @param path  a Parquet file or directory
     * @return its rows
     * @throws InvalidInputException if it is missing or not Parquet
     */
    public static Dataset<Row> read(SparkSession spark, Path path) {
        if (!Files.exists(path)) {
            throw new InvalidInputException(path + ": no such Parquet file or directory");
        }
        try {
            return spark.read().parquet(path.toUri().toString());
        } catch (Exception e) {
            throw new InvalidInputException(path + ": not a readable Parquet dataset: " + firstLine(e), e);
        }
    }

    private static String firstLine(Throwable e) {
        String m = String.valueOf(e.getMessage());
        int nl = m.indexOf('\n');
        return nl < 0 ? m : m.substring(0, nl);
    }

    /**
     * The schema {@code convert} writes.
     *
     * @param sampleShape the per-sample shape of the images' array
     * @param labelDescr  the labels' NumPy dtype, or null when they came from class folders
     * @param longLabels  whether the labels need 64 bits
     * @return the schema
     */
    static StructType schema(long[] sampleShape, String labelDescr, boolean longLabels) {
        Metadata labelMeta = labelDescr == null ? Metadata.empty()
                : new MetadataBuilder().putString(SampleColumns.DESCR_METADATA, labelDescr).build();
        Metadata dataMeta = new MetadataBuilder().putString(SampleColumns.DESCR_METADATA, "|u1")
                .putString(SampleColumns.SHAPE_METADATA, Arrays.stream(sampleShape).mapToObj(Long::toString)
                        .collect(Collectors.joining(","))).build();
        return new StructType(new StructField[] {
            new StructField(SampleColumns.ID, DataTypes.LongType, false, Metadata.empty()),
            new StructField(SampleColumns.LABEL, longLabels ? DataTypes.LongType : DataTypes.IntegerType, false,
                    labelMeta),
            new StructField("height", DataTypes.IntegerType, false, Metadata.empty()),
            new StructField("width", DataTypes.IntegerType, false, Metadata.empty()),
            new StructField("channels", DataTypes.IntegerType, false, Metadata.empty()),
            new StructField(SampleColumns.DATA, DataTypes.BinaryType, false, dataMeta)});
    }

    /**
     * Converts images and labels to a Parquet dataset.
     *
     * @param spark      the session (its executors must see the input files)
     * @param data       {@code .npy}, IDX (gzip or plain) or an image folder
     * @param labels     the labels ({@code .npy} or IDX, rank 1), or null for an image folder
     * @param out        the Parquet directory to write
     * @param partitions output files (at least 1)
     * @param replace    whether an existing output may be replaced (only by the final rename)
     * @return the rows written
     * @throws InvalidInputException    if the images are not uint8 (N, H, W) or (N, H, W, C), the labels do
     *                                  not match them, or a file is unusable
     * @throws InvalidArgumentException if labels are missing for arrays, or given for an image folder
     * @throws OutputBusyException      if another run is writing the same output
     * @throws IOException              if writing fails (nothing appears under {@code out})
     */
    public static long toParquet(SparkSession spark, Path data, Path labels, Path out, int partitions,
            boolean replace) throws IOException {
        boolean folder = Files.isDirectory(data);
        if (folder != (labels == null)) {
            throw new InvalidArgumentException(folder ? "an image folder's labels are its class folders; give no "
                    + "labels file" : "labels are required for .npy and IDX data", "labels", labels,
                    folder ? "absent for an image folder" : "a .npy or IDX labels file");
        }
        if (partitions < 1) {
            throw InvalidArgumentException.of("partitions", partitions, "1 or more");
        }
        StagedOutput.check(out, StagedOutput.Kind.DIRECTORY, replace, data, labels);
        long[] labelValues;
        String labelDescr;
        long[] shape;
        try (Samples.Reader r = Samples.open(data)) {
            shape = r.shape();
            if (!r.descr().equals("|u1") || shape.length < 3 || shape.length > 4) {
                throw new InvalidInputException(data + ": images must be uint8 of shape (N, H, W) or (N, H, W, C), got "
                        + r.descr() + " " + Arrays.toString(shape));
            }
            if (folder) {
                labelValues = ((ImageFolder) r).labels();
                labelDescr = null;
            } else {
                labelValues = Samples.labels(labels);
                try (Samples.Reader l = Samples.open(labels)) {
                    labelDescr = l.descr().replace("<u1", "|u1").replace("<i1", "|i1");
                }
            }
        }
        long n = shape[0];
        if (labelValues.length != n) {
            throw new InvalidInputException(labels + ": " + labelValues.length + " labels for the " + n + " images of "
                    + data);
        }
        long max = Arrays.stream(labelValues).max().orElse(0);
        boolean longLabels = max > Integer.MAX_VALUE || Arrays.stream(labelValues).min().orElse(0) < Integer.MIN_VALUE;
        long[] sampleShape = Arrays.copyOfRange(shape, 1, shape.length);
        int h = (int) shape[1];
        int w = (int) shape[2];
        int c = shape.length == 4 ? (int) shape[3] : 1;
        StructType schema = schema(sampleShape, labelDescr, longLabels);
        JavaSparkContext jsc = JavaSparkContext.fromSparkContext(spark.sparkContext());
        Broadcast<long[]> sharedLabels = jsc.broadcast(labelValues);
        List<long[]> slices = new ArrayList<>();
        for (long first = 0; first < n; first += SLICE_ROWS) {
            slices.add(new long[] {first, Math.min(SLICE_ROWS, n - first)});
        }
        String file = data.toAbsolutePath().toString();
        Dataset<Row> rows = spark.createDataFrame(jsc.parallelize(slices, Math.max(1, Math.min(slices.size(),
                partitions))).flatMap((FlatMapFunction<long[], Row>) slice -> {
                    List<Row> part = new ArrayList<>((int) slice[1]);
                    try (Samples.Reader r = Samples.open(Path.of(file))) {
                        int bytes = (int) r.sampleBytes();
                        ByteBuffer buf = ByteBuffer.allocate((int) slice[1] * bytes);
                        r.readSamples(slice[0], (int) slice[1], buf);
                        buf.flip();
                        long[] lv = sharedLabels.value();
                        for (int i = 0; i < slice[1]; i++) {
                            byte[] px = new byte[bytes];
                            buf.get(px);
                            long id = slice[0] + i;
                            part.add(RowFactory.create(id, longLabels ? (Object) lv[(int) id] : (Object) (int) lv[(int) id],
                                    h, w, c, px));
                        }
                    }
                    return part.iterator();
                }), schema).coalesce(partitions);
        try (StagedOutput staged = StagedOutput.begin(out, StagedOutput.Kind.DIRECTORY, replace, data, labels)) {
            rows.write().mode(SaveMode.Append).parquet(staged.path().toUri().toString());
            staged.commit();
        }
        return n;
    }

    /**
     * Converts a Parquet dataset of samples (as {@link SampleColumns} reads them) back to {@code .npy}:
     * {@code outDir/data.npy} (uint8, the per-sample shape {@link SampleColumns#sampleShape} gives) and
     * {@code outDir/labels.npy} (the dtype {@link SparkFingerprints#labelFingerprintDescr} gives), rows in
     * id order. The input is checked as {@code spark poison} checks it.
     *
     * @param spark   the session
     * @param parquet the Parquet dataset
     * @param outDir  the directory to write
     * @param replace whether an existing output may be replaced (only by the final rename)
     * @return the rows written
     * @throws InvalidInputException naming the column and row of unusable input
     * @throws OutputBusyException   if another run is writing the same output
     * @throws IOException           if writing fails (nothing appears under {@code outDir})
     */
    public static long toNpy(SparkSession spark, Path parquet, Path outDir, boolean replace) throws IOException {
        StagedOutput.check(outDir, StagedOutput.Kind.DIRECTORY, replace, parquet);
        Dataset<Row> df = read(spark, parquet);
        try (StagedOutput staged = StagedOutput.begin(outDir, StagedOutput.Kind.DIRECTORY, replace, parquet)) {
            long n = writeNpy(df, staged.path());
            staged.commit();
            return n;
        }
    }

    /**
     * Writes a DataFrame of samples as {@code dir/data.npy} and {@code dir/labels.npy}, rows in id order,
     * after checking it as {@code spark poison} does.
     *
     * @param df  the samples
     * @param dir an existing directory
     * @return the rows written
     * @throws InvalidInputException naming the column and row of unusable input
     * @throws IOException           if writing fails (no file is left under a final name)
     */
    static long writeNpy(Dataset<Row> df, Path dir) throws IOException {
        SampleColumns columns = SampleColumns.of(df.schema());
        SparkPoisoner.Census census = SparkPoisoner.census(df, columns);
        long n = census.ids.length;
        long[] sample = columns.sampleShape(census.h, census.w, census.c);
        long[] shape = new long[sample.length + 1];
        shape[0] = n;
        System.arraycopy(sample, 0, shape, 1, sample.length);
        String descr = SparkFingerprints.labelFingerprintDescr(columns);
        int width = descr.equals("|u1") ? 1 : descr.equals("<i4") ? 4 : 8;
        ByteBuffer labels = ByteBuffer.allocate(Math.toIntExact(n * width)).order(ByteOrder.LITTLE_ENDIAN);
        try (NpyWriter data = NpyWriter.create(dir.resolve("data.npy"), "|u1", shape)) {
            Iterator<Row> rows = SparkFingerprints.inIdOrder(df, columns, n * census.h * census.w * census.c);
            while (rows.hasNext()) {
                Row r = rows.next();
                data.write(ByteBuffer.wrap((byte[]) r.get(2)));
                long v = ((Number) r.get(1)).longValue();
                switch (width) {
                    case 1 -> labels.put((byte) v);
                    case 4 -> labels.putInt((int) v);
                    default -> labels.putLong(v);
                }
            }
            data.commit();
        }
        labels.flip();
        try (NpyWriter l = NpyWriter.create(dir.resolve("labels.npy"), descr, new long[] {n})) {
            l.write(labels);
            l.commit();
        }
        return n;
    }
}
