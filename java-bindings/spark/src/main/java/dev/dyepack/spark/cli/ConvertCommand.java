package dev.dyepack.spark.cli;

import dev.dyepack.io.EmbeddedSample;
import dev.dyepack.spark.ParquetConvert;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Comparator;
import java.util.Locale;
import java.util.concurrent.Callable;
import java.util.stream.Stream;
import org.apache.spark.sql.SparkSession;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.Spec;
import picocli.CommandLine.Model.CommandSpec;

/** {@code dyepack convert}: .npy, IDX or image folders to Parquet, and Parquet back to .npy. */
@Command(name = "convert", mixinStandardHelpOptions = true, showDefaultValues = true,
        description = "Convert uint8 images and labels (.npy, IDX, or an image folder) to a Parquet dataset "
                + "(columns id, label, height, width, channels, data), or a Parquet dataset (--data X.parquet) back "
                + "to OUT/data.npy and OUT/labels.npy.")
final class ConvertCommand implements Callable<Integer> {
    @Option(names = "--data", paramLabel = "IN",
            description = "Images (.npy, IDX, image folder) or a Parquet dataset (name ending in .parquet). Default: "
                    + "the embedded Fashion-MNIST sample (1000 images, 28x28, with its labels).")
    Path data;

    @Option(names = "--labels", paramLabel = "LABELS", description = "Labels (.npy or IDX) for .npy and IDX images.")
    Path labels;

    @Option(names = "--out", required = true, paramLabel = "OUT",
            description = "A Parquet directory (to Parquet), or a directory for data.npy and labels.npy (back).")
    Path out;

    @Option(names = "--partitions", defaultValue = "4", paramLabel = "P", description = "Parquet files to write.")
    int partitions;

    @Option(names = "--master", paramLabel = "URL", description = "Spark master; default local[*].")
    String master;

    @Option(names = "--force", description = "Replace an existing output (only once the new one is complete).")
    boolean force;

    @Spec
    CommandSpec spec;

    @Override
    public Integer call() throws Exception {
        PrintWriter stdout = spec.commandLine().getOut();
        if (data == null) {
            if (labels != null) {
                throw new ParameterException(spec.commandLine(), "--labels goes with --data");
            }
            Path sample = Files.createTempDirectory("dyepack-sample");
            try {
                spec.commandLine().getErr().println("using the embedded " + EmbeddedSample.description());
                data = EmbeddedSample.extractImages(sample);
                labels = EmbeddedSample.extractLabels(sample);
                return call();
            } finally {
                try (Stream<Path> walk = Files.walk(sample)) {
                    for (Path p : walk.sorted(Comparator.reverseOrder()).toList()) {
                        Files.deleteIfExists(p);
                    }
                }
            }
        }
        boolean fromParquet = data.getFileName() != null
                && data.getFileName().toString().toLowerCase(Locale.ROOT).endsWith(".parquet");
        if (fromParquet && labels != null) {
            throw new ParameterException(spec.commandLine(), "a Parquet dataset holds its labels; give no --labels");
        }
        if (!fromParquet && !Files.isDirectory(data) && labels == null) {
            throw new ParameterException(spec.commandLine(), "--labels is required for .npy and IDX images");
        }
        SparkSession spark = SparkMain.session(master, "dyepack convert");
        try {
            long n = fromParquet ? ParquetConvert.toNpy(spark, data, out, force)
                    : ParquetConvert.toParquet(spark, data, labels, out, partitions, force);
            stdout.println("converted " + n + " samples to " + (fromParquet ? out.resolve("data.npy") + ", "
                    + out.resolve("labels.npy") : out));
        } finally {
            spark.stop();
            stdout.flush();
        }
        return SparkMain.OK;
    }
}
