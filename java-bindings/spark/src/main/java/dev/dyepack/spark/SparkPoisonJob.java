package dev.dyepack.spark;

import dev.dyepack.InvalidArgumentException;
import dev.dyepack.InvalidInputException;
import dev.dyepack.io.OutputBusyException;
import dev.dyepack.io.StagedOutput;
import dev.dyepack.key.OwnerKey;
import dev.dyepack.manifest.Manifest;
import dev.dyepack.manifest.ManifestWriter;
import java.io.IOException;
import java.nio.file.Path;
import java.util.Locale;
import java.util.Objects;
import java.util.function.Consumer;
import java.util.function.UnaryOperator;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;

/**
 * {@code dyepack spark poison}: a Parquet dataset in, a poisoned Parquet dataset and its signed manifest
 * out. The output directory receives {@code data.parquet} (the input's schema and rows, the chosen rows
 * stamped and relabelled) and {@code manifest.json}, whole or not at all: everything is written into a
 * staging directory beside it that is renamed onto it as the last step ({@link StagedOutput}), after
 * every check has passed and the plan is made. Paths are on a file system the driver and the executors
 * share (local, or a shared mount).
 */
public final class SparkPoisonJob {
    /** Changes the poisoned rows just before they are written; tests use it to fail a write task once. */
    static volatile UnaryOperator<Dataset<Row>> beforeWrite = UnaryOperator.identity();

    private SparkPoisonJob() {
    }

    /**
     * What a run did.
     *
     * @param samples  the rows
     * @param trigger  the trigger stamped and recorded (the poisoner's, its default resolved for the budget)
     * @param indices  the poisoned rows' global indices (rank by id), ascending
     * @param ids      the poisoned rows' ids, in the order of {@code indices}
     * @param data     the poisoned Parquet dataset
     * @param manifest the signed manifest
     * @param timings  milliseconds per planning pass
     * @param writeMs  milliseconds to stamp and write the output
     * @param fingerprintMs milliseconds to fingerprint the input and the output
     */
    public record Result(long samples, dev.dyepack.trigger.TriggerSpec trigger, long[] indices, long[] ids, Path data, Path manifest,
            SparkPoisoner.Timings timings, long writeMs, long fingerprintMs) {}

    /**
     * Runs the job.
     *
     * @param spark      the session
     * @param poisoner   the options
     * @param data       the input Parquet dataset (file or directory)
     * @param partitions repartition the input into this many partitions first, or 0 to keep its own
     * @param outDir     the output directory
     * @param replace    whether an existing output directory may be replaced (only by the final rename)
     * @param key        the owner's key
     * @param progress   receives one line per pass
     * @return what was done
     * @throws InvalidInputException    for unusable input (naming the column and the row)
     * @throws InvalidArgumentException for options that do not fit the data, or a budget that cannot be met
     * @throws OutputBusyException      if another run is writing the same output directory
     * @throws IOException              if writing fails (nothing appears under the output directory)
     */
    public static Result run(SparkSession spark, SparkPoisoner poisoner, Path data, int partitions, Path outDir,
            boolean replace, OwnerKey key, Consumer<String> progress) throws IOException {
        Objects.requireNonNull(spark, "spark");
        Objects.requireNonNull(poisoner, "poisoner");
        Objects.requireNonNull(data, "data");
        Objects.requireNonNull(outDir, "outDir");
        if (partitions < 0) {
            throw InvalidArgumentException.of("partitions", partitions, "0 (keep the input's) or more");
        }
        StagedOutput.check(outDir, StagedOutput.Kind.DIRECTORY, replace, data);
        Dataset<Row> in = ParquetConvert.read(spark, data);
        if (partitions > 0) {
            in = in.repartition(partitions);
        }
        SampleColumns columns = SampleColumns.of(in.schema());
        SparkPoisoner.Result r = poisoner.poison(in, columns, key, progress);
        int h = (int) r.plan().geometry().h();
        int w = (int) r.plan().geometry().w();
        int c = (int) r.plan().geometry().c();
        long n = r.plan().samples();
        long t0 = System.nanoTime();
        SparkFingerprints.Pair input = r.input() != null ? r.input() : SparkFingerprints.of(in, columns, h, w, c, n);
        long fingerprintNs = System.nanoTime() - t0;
        try (StagedOutput out = StagedOutput.begin(outDir, StagedOutput.Kind.DIRECTORY, replace, data)) {
            out.notes().forEach(progress);
            Path staged = out.path().resolve("data.parquet");
            long t1 = System.nanoTime();
            beforeWrite.apply(r.poisoned()).write().parquet(staged.toUri().toString());
            long writeMs = (System.nanoTime() - t1) / 1_000_000;
            progress.accept(String.format(Locale.ROOT, "stamped %d rows and wrote %s (%d ms)",
                    r.plan().indices().length + r.plan().negatives().length, outDir.resolve("data.parquet"), writeMs));
            long t2 = System.nanoTime();
            Dataset<Row> written = ParquetConvert.read(spark, staged);
            SparkFingerprints.Pair output = SparkFingerprints.of(written, SampleColumns.of(written.schema()), h, w, c,
                    n);
            fingerprintNs += System.nanoTime() - t2;
            Manifest m = r.manifest(input, output);
            ManifestWriter.write(m, out.path().resolve("manifest.json"));
            out.commit();
            long[] indices = r.plan().indices();
            long[] ids = new long[indices.length];
            for (int i = 0; i < ids.length; i++) {
                ids[i] = r.idsByIndex()[(int) indices[i]];
            }
            return new Result(n, r.plan().trigger(), indices, ids, outDir.resolve("data.parquet"), outDir.resolve("manifest.json"),
                    r.timings(), writeMs, fingerprintNs / 1_000_000);
        }
    }
}
