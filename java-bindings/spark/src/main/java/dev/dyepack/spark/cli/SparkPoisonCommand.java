package dev.dyepack.spark.cli;

import dev.dyepack.job.Poisoner;
import dev.dyepack.key.OwnerKey;
import dev.dyepack.select.Budget;
import dev.dyepack.select.SelectionMode;
import dev.dyepack.select.Strategy;
import dev.dyepack.spark.SparkPoisonJob;
import dev.dyepack.spark.SparkPoisoner;
import dev.dyepack.trigger.TriggerSpec;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.Locale;
import java.util.concurrent.Callable;
import org.apache.spark.sql.SparkSession;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.ParentCommand;
import picocli.CommandLine.Spec;
import picocli.CommandLine.Model.CommandSpec;

/** {@code dyepack spark poison}: {@code dyepack poison} on a Parquet dataset, on Spark. */
@Command(name = "poison", mixinStandardHelpOptions = true, showDefaultValues = true,
        description = "Poison a Parquet dataset (columns id, label and the image: see docs/spark.md) on Spark: the "
                + "same samples, bytes and manifest indices as dyepack poison on the same data, key and options. "
                + "Writes OUT/data.parquet and OUT/manifest.json, whole or not at all.")
final class SparkPoisonCommand implements Callable<Integer> {
    @Option(names = "--master", paramLabel = "URL", description = "Spark master, e.g. local[4]; default: the one "
            + "spark-submit sets, else local[*].")
    String master;

    @Option(names = "--data", required = true, paramLabel = "IN.parquet", description = "The samples (Parquet).")
    Path data;

    @Option(names = "--partitions", defaultValue = "0", paramLabel = "P",
            description = "Repartition the input into P partitions first; 0 keeps its own.")
    int partitions;

    @Option(names = "--trigger", paramLabel = "SPEC",
            description = "The trigger (dyepack triggers); the default is dyepack poison's, which depends on the "
                    + "mode and the budget's share of the data.")
    String trigger;

    @Option(names = "--target", required = true, paramLabel = "T", description = "The target class.")
    int target;

    @Option(names = "--classes", defaultValue = "0", paramLabel = "N",
            description = "The number of classes; 0 takes them from the labels.")
    int classes;

    @Option(names = "--budget", defaultValue = Budget.DEFAULT, paramLabel = "B",
            description = "Fraction in (0, 1) or a count.")
    String budget;

    @Option(names = "--mode", defaultValue = "dirty", description = "dirty or clean.")
    String mode;

    @Option(names = "--select", defaultValue = "auto", description = "auto, boundary, boundary-far or random.")
    String select;

    @Option(names = "--stratify", description = "Spread the budget over the source classes in proportion.")
    boolean stratify;

    @Option(names = "--negatives", defaultValue = "auto", paramLabel = "R",
            description = "Negatives per poisoned sample: auto or a number.")
    String negatives;

    @Option(names = "--negative-keys", defaultValue = "" + dev.dyepack.job.PoisonJob.NEGATIVE_KEYS, paramLabel = "K",
            description = "Keys derived from the owner's that stamp the negatives, dealt in turn.")
    int negativeKeys;

    @Option(names = "--clean-eps", defaultValue = "auto", paramLabel = "EPS",
            description = "Clean-label only: the label-consistent push's bound, or 0. The push needs every chosen "
                    + "sample's pixels on one machine, so the Spark path takes 0 only (dyepack poison --clean-eps 0 "
                    + "gives the same bytes).")
    String cleanEps;

    @Option(names = "--allow-over-5-percent", description = "Allow a budget above 5% (recorded).")
    boolean allowOver5;

    @Option(names = "--override-reason", paramLabel = "TEXT", description = "Why more than 5% (recorded).")
    String overrideReason;

    @Option(names = "--out", required = true, paramLabel = "DIR", description = "The output directory.")
    Path out;

    @Option(names = "--force", description = "Replace an existing output directory (only once the new one is "
            + "complete).")
    boolean force;

    @Option(names = "--key-file", paramLabel = "FILE",
            description = "The owner's secret key (else the DYEPACK_KEY environment variable).")
    Path keyFile;

    @ParentCommand
    SparkMain main;

    @Spec
    CommandSpec spec;

    @Override
    public Integer call() throws Exception {
        PrintWriter stdout = spec.commandLine().getOut();
        PrintWriter stderr = spec.commandLine().getErr();
        Poisoner poisoner = options(spec, trigger, target, budget, mode, select, stratify, negatives, allowOver5,
                overrideReason).negativeKeys(negativeKeys).cleanEps(autoOrNumber(spec, "--clean-eps", cleanEps)).build();
        SparkPoisoner sp = SparkPoisoner.of(poisoner, classes);
        dev.dyepack.io.StagedOutput.check(out, dev.dyepack.io.StagedOutput.Kind.DIRECTORY, force, data, keyFile);
        OwnerKey key = SparkMain.key(keyFile, main.env, stderr);
        SparkSession spark = SparkMain.session(master, "dyepack spark poison");
        try {
            SparkPoisonJob.Result r = SparkPoisonJob.run(spark, sp, data, partitions, out, force, key, line -> {
                stderr.println(line);
                stderr.flush();
            });
            stdout.printf(Locale.ROOT, "poisoned %d of %d samples (%.2f%%) with %s, target %d, %s-label, %s selection%n",
                    r.indices().length, r.samples(), 100.0 * r.indices().length / r.samples(), r.trigger(),
                    target, mode.toLowerCase(Locale.ROOT),
                    poisoner.strategy().name().toLowerCase(Locale.ROOT).replace('_', '-'));
            stdout.println("wrote " + r.data() + ", " + r.manifest());
        } finally {
            spark.stop();
            stdout.flush();
            stderr.flush();
        }
        return SparkMain.OK;
    }

    /** Parses an option that is "auto" (NaN: the library's default) or a number. */
    static double autoOrNumber(CommandSpec spec, String flag, String v) {
        if (v.equalsIgnoreCase("auto")) {
            return Double.NaN;
        }
        try {
            double eps = Double.parseDouble(v);
            if (!Double.isNaN(eps)) {
                return eps;
            }
        } catch (NumberFormatException e) {
            // refused below
        }
        throw new ParameterException(spec.commandLine(), flag + " must be auto or a number, got '" + v + "'");
    }

    static Poisoner.Builder options(CommandSpec spec, String trigger, int target, String budget, String mode, String select,
            boolean stratify, String negatives, boolean allowOver5, String overrideReason) {
        Strategy strategy = switch (select.toLowerCase(Locale.ROOT)) {
            case "auto" -> Strategy.AUTO;
            case "boundary" -> Strategy.BOUNDARY;
            case "boundary-far" -> Strategy.BOUNDARY_FAR;
            case "random" -> Strategy.RANDOM;
            default -> throw new ParameterException(spec.commandLine(),
                    "--select must be auto, boundary, boundary-far or random, got '" + select + "'");
        };
        SelectionMode selectionMode = switch (mode.toLowerCase(Locale.ROOT)) {
            case "dirty" -> SelectionMode.DIRTY;
            case "clean" -> SelectionMode.CLEAN;
            default -> throw new ParameterException(spec.commandLine(), "--mode must be dirty or clean, got '" + mode
                    + "'");
        };
        double ratio = autoOrNumber(spec, "--negatives", negatives);
        Poisoner.Builder b = Poisoner.builder();
        if (trigger == null) {
            b.defaultTrigger();
        } else {
            b.trigger(TriggerSpec.parse(trigger));
        }
        return b.target(target).budget(Budget.parse(budget))
                .allowOver5Percent(allowOver5).overrideReason(overrideReason).strategy(strategy).mode(selectionMode)
                .stratified(stratify).negatives(ratio);
    }
}
