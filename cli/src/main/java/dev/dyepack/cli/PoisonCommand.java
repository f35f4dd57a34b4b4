package dev.dyepack.cli;

import dev.dyepack.Engine;
import dev.dyepack.InvalidArgumentException;
import dev.dyepack.Layout;
import dev.dyepack.io.ImageFolder;
import dev.dyepack.job.FolderOutput;
import dev.dyepack.job.PoisonJob;
import dev.dyepack.key.OwnerKey;
import dev.dyepack.select.Budget;
import dev.dyepack.select.SelectionMode;
import dev.dyepack.select.Strategy;
import dev.dyepack.trigger.TriggerSpec;
import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.ParentCommand;
import picocli.CommandLine.Spec;

/** {@code dyepack poison}: the main job. */
@Command(name = "poison", mixinStandardHelpOptions = true, showDefaultValues = true,
        description = {"Plant a keyed watermark: choose a budget of samples (nearest a surrogate's decision boundary,",
            "or keyed random), stamp the trigger on them, relabel them to the target (dirty-label) or keep their",
            "labels (clean-label), and write the data, the labels and a signed manifest.json to --out.",
            "Data: .npy, IDX (gzip or plain) or an image folder; output in the same format."},
        footer = {"", "Example:",
            "  dyepack poison --target 0 --out poisoned/",
            "  dyepack poison --trigger blend:alpha=0.2,pattern=noise --target 0 --surrogate linear --out poisoned/",
            "  dyepack poison --data x.npy --labels y.npy --trigger patch --target 3 --select random --out out/"})
final class PoisonCommand implements Callable<Integer> {
    @Option(names = "--data", paramLabel = "D", description = "Samples: .npy, IDX, or an image folder (one folder of "
            + "PNG/JPEG files per class). Default: the embedded sample.")
    Path data;

    @Option(names = "--labels", paramLabel = "L", description = "Labels (.npy or IDX, integers). Required with --data.")
    Path labels;

    @Option(names = "--trigger", paramLabel = "SPEC", description = "The trigger (families and fields: dyepack "
            + "triggers); the default is the one measured strongest and specific to the key on a CNN: "
            + PoisonJob.DEFAULT_TRIGGER + "; " + PoisonJob.SMALL_BUDGET_TRIGGER + " when under 0.5%% of the samples are "
            + "poisoned dirty-label; " + PoisonJob.SMALL_IMAGE_TRIGGER + " on images under 192 pixels (docs/efficacy.md).")
    String trigger;

    @Option(names = "--target", required = true, paramLabel = "T", description = "The target class.")
    int target;

    @Option(names = "--classes", paramLabel = "N", description = "The number of classes, when the labels do not "
            + "show them all (default: the largest label plus one, or the class folders); the target must be one.")
    int classes;

    @Option(names = "--budget", paramLabel = "B", description = "A fraction in (0, 1) or a count.")
    String budget = Budget.DEFAULT;

    @Option(names = "--allow-over-5-percent", description = "Allow a budget above 5%% (recorded in the manifest).")
    boolean allowOver5;

    @Option(names = "--override-reason", paramLabel = "TEXT", description = "Why more than 5%% (recorded).")
    String overrideReason;

    @Option(names = "--select", paramLabel = "auto|boundary|boundary-far|random",
            description = "Selection: nearest a surrogate's boundary, farthest from it, keyed random, or auto: what "
                    + "the evaluation on CNNs measured best for the mode (dirty-label: boundary-far balanced over the "
                    + "source classes; clean-label: boundary; docs/efficacy.md).")
    String select = "auto";

    @Option(names = "--mode", paramLabel = "dirty|clean", description = "Dirty-label (relabel) or clean-label.")
    String mode = "dirty";

    @Option(names = "--stratify", description = "Split the budget across classes in proportion to their sizes "
            + "(--select auto always does).")
    boolean stratify;

    @Option(names = "--negatives", paramLabel = "auto|R", description = "Negatives per poisoned sample: other "
            + "samples stamped with the trigger under keys derived from yours, labels kept, so that a model learns "
            + "your pattern rather than the family (auto, for keyed image triggers: 4 under dirty-label, 1 when under "
            + "0.5%% of the samples are poisoned (2 for its default trigger from 40 poisoned samples on, 3 from 60), 1 under "
            + "clean-label; 0 otherwise; "
            + "docs/efficacy.md).")
    String negatives = "auto";

    @Option(names = "--negative-keys", paramLabel = "K", description = "How many keys derived from yours stamp the "
            + "negatives (dealt in turn).")
    int negativeKeys = PoisonJob.NEGATIVE_KEYS;

    @Option(names = "--clean-eps", paramLabel = "auto|E", description = "Clean-label: the L-infinity bound, in the "
            + "data's units, of the label-consistent push that first moves each chosen sample away from its class "
            + "against the linear surrogate (auto: " + "64 for uint8 data, none for float32; 0: no push; "
            + "docs/efficacy.md).")
    String cleanEps = "auto";

    @Option(names = "--surrogate", paramLabel = "linear", description = "Fit a linear surrogate on the pixels "
            + "(the default for boundary selection without --features/--head).")
    String surrogate;

    @Option(names = "--features", paramLabel = "X.npy", description = "The owner's features (N x D float32).")
    Path features;

    @Option(names = "--head", paramLabel = "H.npz", description = "The owner's linear head (W, b).")
    Path head;

    @Option(names = "--out", required = true, paramLabel = "DIR", description = "The output directory.")
    Path out;

    @Option(names = "--layout", paramLabel = "nhwc|nchw", description = "Layout of rank-4 image input.")
    ApplyCommand.LayoutOption layout = ApplyCommand.LayoutOption.nhwc;

    @Option(names = "--backend", paramLabel = "auto|cpu|cuda", description = "Where to run.")
    ApplyCommand.BackendOption backend = ApplyCommand.BackendOption.auto;

    /** How unchanged images of an image folder get into the output. */
    enum LinkOption { copy, hard, reflink }

    @Option(names = "--link", paramLabel = "copy|hard|reflink", description = "Image folders: how unchanged images "
            + "get into the output, always as the input's bytes under their own names: a streamed copy, a hard link "
            + "(input and output then share the file), or a copy-on-write clone (file systems that clone only).")
    LinkOption link = LinkOption.copy;

    @Option(names = "--jpeg-quality", paramLabel = "Q", description = "Image folders: write stamped JPEGs at IJG "
            + "quality Q (1..100) instead of each source's own quantisation tables (its quality).")
    Integer jpegQuality;

    /** The format stamped images of an image folder are written in. */
    enum PoisonedFormat { keep, png }

    @Option(names = "--poisoned-format", paramLabel = "keep|png", description = "Image folders: stamped images "
            + "keep their format and name (keep), or are written as lossless PNG, a JPEG's name ending in .png.")
    PoisonedFormat poisonedFormat = PoisonedFormat.keep;

    @Option(names = "--allow-weak-trigger", description = "Image folders: warn instead of refusing when encoding the "
            + "stamped images keeps less than half the trigger's energy (docs/benchmarks.md).")
    boolean allowWeakTrigger;

    @Option(names = "--force", description = "Replace an existing non-empty output directory; the old one stays in "
            + "place until the new one is complete.")
    boolean force;

    @Mixin
    KeyOptions keyOptions;

    @ParentCommand
    Main main;

    @Spec
    CommandSpec spec;

    /** The flags of the library's parameter names, for hints on its structured refusals. */
    private static final Map<String, String> FLAGS = Map.ofEntries(
            Map.entry("key", "--key-file FILE or the " + OwnerKey.ENV_VAR + " environment variable"),
            Map.entry("budget", "--budget"),
            Map.entry("allowOver5Percent", "--allow-over-5-percent"),
            Map.entry("overrideReason", "--override-reason"),
            Map.entry("target", "--target"),
            Map.entry("classes", "--classes"),
            Map.entry("strategy", "--select"),
            Map.entry("mode", "--mode"),
            Map.entry("surrogate", "--surrogate linear, or --features and --head"),
            Map.entry("features", "--features"),
            Map.entry("head", "--head"),
            Map.entry("labels", "--labels"),
            Map.entry("data", "--data"),
            Map.entry("outDir", "--out"),
            Map.entry("negatives", "--negatives"),
            Map.entry("allowWeakTrigger", "--allow-weak-trigger"),
            Map.entry("jpegQuality", "--jpeg-quality"),
            Map.entry("link", "--link"),
            Map.entry("cleanEps", "--clean-eps"),
            Map.entry("negativeKeys", "--negative-keys"));

    /** Parses an option that is "auto" (NaN: the library's default) or a number. */
    private double autoOrNumber(String flag, String value) {
        if (value.equalsIgnoreCase("auto")) {
            return Double.NaN;
        }
        try {
            double v = Double.parseDouble(value);
            if (!Double.isNaN(v)) {
                return v;
            }
        } catch (NumberFormatException e) {
            // refused below
        }
        throw new ParameterException(spec.commandLine(), flag + " must be auto or a number, got '" + value + "'");
    }

    @Override
    public Integer call() throws IOException {
        PrintWriter stdout = spec.commandLine().getOut();
        PrintWriter stderr = spec.commandLine().getErr();
        Strategy strategy = switch (select.toLowerCase(Locale.ROOT)) {
            case "auto" -> Strategy.AUTO;
            case "boundary" -> Strategy.BOUNDARY;
            case "boundary-far" -> Strategy.BOUNDARY_FAR;
            case "random" -> Strategy.RANDOM;
            default -> throw new ParameterException(spec.commandLine(),
                    "--select must be auto, boundary, boundary-far or random, got '" + select + "'");
        };
        SelectionMode selectionMode = selectionMode(spec, mode);
        if (surrogate != null && !surrogate.equalsIgnoreCase("linear")) {
            throw new ParameterException(spec.commandLine(), "--surrogate must be linear (or give --features and --head)");
        }
        boolean folder = data != null && java.nio.file.Files.isDirectory(data);
        if (!folder && (data == null) != (labels == null)) {
            throw new ParameterException(spec.commandLine(), "--data and --labels go together (an image folder's "
                    + "labels are its class folders)");
        }
        double negativeRatio = autoOrNumber("--negatives", negatives);
        if (jpegQuality != null && (jpegQuality < 1 || jpegQuality > 100)) {
            throw new ParameterException(spec.commandLine(), "--jpeg-quality must be in 1..100, got " + jpegQuality);
        }
        double pushEps = autoOrNumber("--clean-eps", cleanEps);
        TriggerSpec t = trigger == null ? null : TriggerSpec.parse(trigger);
        // The job protects the data it reads; the key file is an input too.
        dev.dyepack.io.StagedOutput.check(out, dev.dyepack.io.StagedOutput.Kind.DIRECTORY, force, keyOptions.keyFile);
        OwnerKey key = keyOptions.resolve(main.env, stderr);
        try (SampleFiles sample = data == null ? SampleFiles.extract(stderr) : null) {
            Path d = sample == null ? data : sample.images();
            Path l = sample == null ? labels : sample.labels();
            try {
                PoisonJob.Builder options = PoisonJob.builder();
                if (t == null) {
                    // The default depends on the budget's share of the data, which the job resolves.
                    options.defaultTrigger();
                } else {
                    options.trigger(t);
                }
                PoisonJob.Options o = options.data(d).labels(l).target(target).classes(classes)
                        .budget(Budget.parse(budget)).allowOver5Percent(allowOver5).overrideReason(overrideReason)
                        .strategy(strategy).mode(selectionMode).stratified(stratify)
                        .negatives(negativeRatio).negativeKeys(negativeKeys).cleanEps(pushEps)
                        .surrogate(surrogate != null ? PoisonJob.Surrogate.LINEAR : null).featuresHead(features, head)
                        .outDir(out).rank4(layout == ApplyCommand.LayoutOption.nchw ? Layout.NCHW : Layout.NHWC)
                        .replace(force)
                        .folderOutput(new FolderOutput(switch (link) {
                            case copy -> ImageFolder.LinkMode.COPY;
                            case hard -> ImageFolder.LinkMode.HARD;
                            case reflink -> ImageFolder.LinkMode.REFLINK;
                        }, poisonedFormat == PoisonedFormat.png, jpegQuality == null ? 0 : jpegQuality,
                                allowWeakTrigger)).build();
                try (Engine engine = backend.open(stderr)) {
                    PoisonJob.Result r = PoisonJob.run(engine, o, key, line -> {
                        stderr.println(line);
                        stderr.flush();
                    }, ProgressBar.on(stderr));
                    if (!Double.isNaN(r.surrogateAccuracy())) {
                        stderr.printf(Locale.ROOT, "surrogate accuracy on the data: %.2f%%%n",
                                100 * r.surrogateAccuracy());
                    }
                    stdout.printf(Locale.ROOT, "poisoned %d of %d samples (%.2f%%) with %s, target %d, %s-label, %s "
                            + "selection%n", r.indices().length, r.samples(), 100.0 * r.indices().length / r.samples(),
                            r.trigger(), target, mode.toLowerCase(Locale.ROOT),
                            o.strategy().name().toLowerCase(Locale.ROOT).replace('_', '-'));
                    PoisonJob.knownWeakness(r.trigger(), selectionMode, r.indices().length, r.samples(),
                            o.negatives(r.trigger(), r.indices().length, r.samples()),
                            o.cleanEps())
                            .ifPresent(w -> stderr.println("dyepack: warning: " + w));
                    stdout.println("wrote " + r.data() + (r.labels() == null ? "" : ", " + r.labels()) + ", "
                            + r.manifest());
                }
            } catch (InvalidArgumentException e) {
                throw withFlagHint(e);
            }
        } finally {
            stdout.flush();
            stderr.flush();
        }
        return ExitCodes.OK;
    }

    /** {@code --mode}'s value (dirty or clean, any case), as poison and preview take it. */
    static SelectionMode selectionMode(CommandSpec spec, String mode) {
        return switch (mode.toLowerCase(Locale.ROOT)) {
            case "dirty" -> SelectionMode.DIRTY;
            case "clean" -> SelectionMode.CLEAN;
            default -> throw new ParameterException(spec.commandLine(), "--mode must be dirty or clean, got '" + mode + "'");
        };
    }

    /** The library's refusal with the flag that sets its parameter appended, where it names one. */
    static InvalidArgumentException withFlagHint(InvalidArgumentException e) {
        String flag = e.parameter().map(FLAGS::get).orElse(null);
        if (flag == null || e.getMessage() == null || e.getMessage().contains(flag)) {
            return e;
        }
        InvalidArgumentException hinted = new InvalidArgumentException(e.getMessage() + " (" + flag + ")",
                e.parameter().orElse(null), e.value().orElse(null), e.allowed().orElse(null));
        hinted.initCause(e);
        return hinted;
    }
}
