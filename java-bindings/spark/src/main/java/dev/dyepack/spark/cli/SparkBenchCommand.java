package dev.dyepack.spark.cli;

import dev.dyepack.Backend;
import dev.dyepack.Engine;
import dev.dyepack.job.PoisonJob;
import dev.dyepack.job.Poisoner;
import dev.dyepack.key.OwnerKey;
import dev.dyepack.select.Budget;
import dev.dyepack.select.Strategy;
import dev.dyepack.spark.ParquetConvert;
import dev.dyepack.spark.SparkPoisonJob;
import dev.dyepack.spark.SparkPoisoner;
import dev.dyepack.trigger.TriggerSpec;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.SecureRandom;
import java.util.Arrays;
import java.util.Comparator;
import java.util.Locale;
import java.util.concurrent.Callable;
import java.util.stream.Stream;
import org.apache.spark.sql.SparkSession;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;
import picocli.CommandLine.Model.CommandSpec;

/**
 * {@code dyepack spark bench}: rows per second of {@code spark poison} against {@code dyepack poison} on
 * the same data, options and a fresh random key, in the same run, each timed end to end (reading,
 * planning, stamping, writing, manifest) after the data was converted to Parquet; checks that both chose
 * the same samples. Prints one Markdown table.
 */
@Command(name = "bench", mixinStandardHelpOptions = true, showDefaultValues = true,
        description = "Rows per second of spark poison against dyepack poison on the same data in the same run.")
final class SparkBenchCommand implements Callable<Integer> {
    @Option(names = "--data", required = true, paramLabel = "IN", description = "Images (.npy or IDX, uint8).")
    Path data;

    @Option(names = "--labels", required = true, paramLabel = "LABELS", description = "Labels (.npy or IDX).")
    Path labels;

    @Option(names = "--master", defaultValue = "local[2]", paramLabel = "URL", description = "Spark master.")
    String master;

    @Option(names = "--trigger", defaultValue = "blend:alpha=0.2,pattern=noise", paramLabel = "SPEC",
            description = "The trigger.")
    String trigger;

    @Option(names = "--select", defaultValue = "auto", description = "auto, boundary, boundary-far or random.")
    String select;

    @Option(names = "--runs", defaultValue = "2", paramLabel = "R", description = "Timed runs of each path.")
    int runs;

    @Option(names = "--partitions", defaultValue = "4", paramLabel = "P", description = "Parquet files.")
    int partitions;

    @Option(names = "--work", required = true, paramLabel = "DIR", description = "A scratch directory (emptied).")
    Path work;

    @Spec
    CommandSpec spec;

    @Override
    public Integer call() throws Exception {
        PrintWriter out = spec.commandLine().getOut();
        PrintWriter err = spec.commandLine().getErr();
        byte[] raw = new byte[32];
        new SecureRandom().nextBytes(raw);
        OwnerKey key = new OwnerKey(raw);
        Arrays.fill(raw, (byte) 0);
        Poisoner poisoner = SparkPoisonCommand.options(spec, trigger, 0, Budget.DEFAULT, "dirty", select, false,
                "auto", false, null).build();
        clear(work);
        Files.createDirectories(work);
        Path parquet = work.resolve("data.parquet");
        SparkSession spark = SparkMain.session(master, "dyepack spark bench");
        try {
            long tc = System.nanoTime();
            long n = ParquetConvert.toParquet(spark, data, labels, parquet, partitions, false);
            err.printf(Locale.ROOT, "converted %d rows to Parquet in %.1f s%n", n, (System.nanoTime() - tc) / 1e9);
            out.println("| path | run | rows | seconds | rows/s | census ms | gather ms | fit ms | score ms "
                    + "| stamp+write ms | fingerprints ms |");
            out.println("|---|---|---|---|---|---|---|---|---|---|---|");
            for (int run = 1; run <= runs; run++) {
                Path single = work.resolve("single-" + run);
                long t0 = System.nanoTime();
                PoisonJob.Result s;
                try (Engine engine = Engine.open(Backend.CPU)) {
                    // The options as dyepack poison resolves them from the same flags.
                    s = PoisonJob.run(engine, PoisonJob.builder().data(data).labels(labels)
                            .trigger(TriggerSpec.parse(trigger)).target(0).strategy(strategy(select))
                            .outDir(single).build(), key, line -> err.println("  one JVM: " + line));
                }
                double secs = (System.nanoTime() - t0) / 1e9;
                out.printf(Locale.ROOT, "| dyepack poison (one JVM, CPU engine) | %d | %d | %.2f | %.0f | | | | | | |%n",
                        run, n, secs, n / secs);
                Path sparkOut = work.resolve("spark-" + run);
                long t1 = System.nanoTime();
                SparkPoisonJob.Result r = SparkPoisonJob.run(spark, SparkPoisoner.of(poisoner, 0), parquet, 0,
                        sparkOut, false, key, line -> err.println("  spark: " + line));
                double sparkSecs = (System.nanoTime() - t1) / 1e9;
                out.printf(Locale.ROOT, "| spark poison %s | %d | %d | %.2f | %.0f | %d | %d | %d | %d | %d | %d |%n",
                        master, run, n, sparkSecs, n / sparkSecs, r.timings().census(), r.timings().gather(),
                        r.timings().fit(), r.timings().score(),
                        r.writeMs(), r.fingerprintMs());
                out.flush();
                if (!Arrays.equals(s.indices(), r.indices())) {
                    err.println("dyepack: the two paths chose different samples");
                    return SparkMain.INTERNAL;
                }
            }
        } finally {
            spark.stop();
            key.destroy();
            out.flush();
        }
        return SparkMain.OK;
    }

    private static Strategy strategy(String select) {
        return switch (select.toLowerCase(Locale.ROOT)) {
            case "boundary" -> Strategy.BOUNDARY;
            case "boundary-far" -> Strategy.BOUNDARY_FAR;
            case "random" -> Strategy.RANDOM;
            default -> Strategy.AUTO;
        };
    }

    private static void clear(Path dir) throws java.io.IOException {
        if (!Files.exists(dir)) {
            return;
        }
        try (Stream<Path> walk = Files.walk(dir)) {
            for (Path p : walk.sorted(Comparator.reverseOrder()).toList()) {
                Files.delete(p);
            }
        }
    }

}
