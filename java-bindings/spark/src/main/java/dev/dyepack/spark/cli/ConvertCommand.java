package dev.dyepack.spark.cli;

import dev.dyepack.spark.ParquetConvert;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Locale;
import java.util.concurrent.Callable;
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
    @Option(names = "--data", required = true, paramLabel = "IN",
            description = "Images (.npy, IDX, image folder) or a Parquet dataset (name ending in .parquet).")
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
