package dev.dyepack.cli;

import dev.dyepack.Backend;
import dev.dyepack.Engine;
import dev.dyepack.Layout;
import dev.dyepack.job.StampJob;
import dev.dyepack.io.IndexList;
import dev.dyepack.key.OwnerKey;
import dev.dyepack.trigger.TriggerSpec;
import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.Locale;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/** {@code dyepack apply}: stamp a trigger on every image of an .npy file, or on the listed ones. */
@Command(name = "apply", mixinStandardHelpOptions = true, showDefaultValues = true,
        description = {"Stamp a trigger on every image of an .npy file (or on the listed ones) and write a new .npy.",
            "Images: (N,H,W) is single-channel; (N,H,W,C) is NHWC unless --layout nchw says (N,C,H,W); uint8 or",
            "float32. Token sequences: int32 (N,L). Tabular rows: float32 (N,D). The input is never modified."},
        footer = {"", "Trigger specs: 'dyepack triggers' lists every family and field (docs/triggers.md has the",
            "formulas and sources).",
            "", "Examples:",
            "  dyepack apply --trigger patch:size=3,pos=br,value=255 --out stamped.npy",
            "  dyepack apply --data x.npy --indices idx.txt --trigger patch:size=4,pos=center,value=0 --out y.npy"})
final class ApplyCommand implements Callable<Integer> {
    @Option(names = "--data", paramLabel = "IN.npy",
            description = "Images to stamp. Default: the embedded Fashion-MNIST sample (1000 images, 28x28).")
    Path data;

    @Option(names = "--trigger", required = true, paramLabel = "SPEC",
            description = "The trigger, e.g. patch:size=3,pos=br,value=255 (families and fields: dyepack triggers).")
    String trigger;

    @Option(names = "--out", required = true, paramLabel = "OUT.npy", description = "Where to write the result.")
    Path out;

    @Option(names = "--indices", paramLabel = "FILE",
            description = "Stamp only these samples: a text file of indices (whitespace or commas) or an integer .npy.")
    Path indices;

    @Option(names = "--layout", paramLabel = "nhwc|nchw", description = "Layout of rank-4 input: ${COMPLETION-CANDIDATES}.")
    LayoutOption layout = LayoutOption.nhwc;

    @Option(names = "--backend", paramLabel = "auto|cpu|cuda", description = "Where to run: ${COMPLETION-CANDIDATES}.")
    BackendOption backend = BackendOption.auto;

    @Option(names = "--threads", paramLabel = "N", description = "CPU threads (0: one per hardware thread).")
    int threads;

    @Option(names = "--force", description = "Replace an existing non-empty output; the old one stays in place until "
            + "the new one is complete.")
    boolean force;

    @picocli.CommandLine.Mixin
    KeyOptions keyOptions;

    @picocli.CommandLine.ParentCommand
    Main main;

    @Spec
    CommandSpec spec;

    enum LayoutOption {
        nhwc, nchw
    }

    enum BackendOption {
        auto, cpu, cuda;

        /**
         * Opens the engine and says on standard error where it runs and why.
         *
         * @param err standard error
         * @return the engine
         */
        Engine open(PrintWriter err) {
            Engine engine = Engine.open(Backend.valueOf(name().toUpperCase(Locale.ROOT)));
            err.println("backend: " + engine.backend().name().toLowerCase(Locale.ROOT) + " - " + engine.reason());
            err.flush();
            return engine;
        }
    }

    @Override
    public Integer call() throws IOException {
        PrintWriter stdout = spec.commandLine().getOut();
        PrintWriter stderr = spec.commandLine().getErr();
        TriggerSpec spec0 = TriggerSpec.parse(trigger);
        // The indices and key files are inputs too: never the output.
        dev.dyepack.io.StagedOutput.check(out, dev.dyepack.io.StagedOutput.Kind.FILE, force, data, indices,
                keyOptions.keyFile);
        long[] picked = indices == null ? null : IndexList.read(indices);
        OwnerKey key = keyOptions.resolve(main.env, stderr, spec0.keyed());
        try (SampleFiles sample = data == null ? SampleFiles.extract(stderr) : null) {
            Path input = sample == null ? data : sample.images();
            StampJob job = StampJob.prepare(input, out, spec0, key, picked,
                    layout == LayoutOption.nchw ? Layout.NCHW : Layout.NHWC, force);
            try (Engine engine = backend.open(stderr)) {
                engine.threads(threads);
                StampJob.Result r = job.run(engine, StampJob.DEFAULT_CHUNK_BYTES, ProgressBar.on(stderr));
                stdout.printf(Locale.ROOT, "stamped %d of %d images (%s) with %s on %s -> %s%n", r.stamped(),
                        r.samples(), r.geometry(), r.trigger(), r.backend().name().toLowerCase(Locale.ROOT), out);
            }
        } finally {
            stdout.flush();
            stderr.flush();
        }
        return ExitCodes.OK;
    }
}
