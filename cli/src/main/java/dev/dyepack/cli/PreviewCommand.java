package dev.dyepack.cli;

import dev.dyepack.Backend;
import dev.dyepack.Engine;
import dev.dyepack.Layout;
import dev.dyepack.job.Preview;
import dev.dyepack.image.ContactSheet;
import dev.dyepack.key.OwnerKey;
import dev.dyepack.select.SelectionMode;
import dev.dyepack.trigger.TriggerSpec;
import java.awt.image.BufferedImage;
import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParentCommand;
import picocli.CommandLine.Spec;

/** {@code dyepack preview}: a contact sheet of clean, triggered and difference images. */
@Command(name = "preview", mixinStandardHelpOptions = true, showDefaultValues = true,
        description = "Write a PNG contact sheet for a few images: clean, triggered, and the amplified difference "
                + "(mid-grey where nothing changed), so a person can see what a trigger does.",
        footer = {"", "Examples:", "  dyepack preview --out sheet.png --key-file owner.key",
            "  dyepack preview --mode clean --out sheet.png --key-file owner.key",
            "  dyepack preview --trigger blend:alpha=0.1,pattern=noise --out sheet.png --key-file owner.key"})
final class PreviewCommand implements Callable<Integer> {
    @Option(names = "--data", paramLabel = "IN.npy", description = "Images. Default: the embedded Fashion-MNIST sample.")
    Path data;

    @Option(names = "--trigger", paramLabel = "SPEC", description = "An image trigger spec; the default is poison's "
            + "for the images' size and the mode: " + dev.dyepack.job.PoisonJob.DEFAULT_TRIGGER + ", "
            + dev.dyepack.job.PoisonJob.SMALL_IMAGE_TRIGGER + " on images under 192 pixels; clean-label "
            + dev.dyepack.job.PoisonJob.CLEAN_TRIGGER + ", " + dev.dyepack.job.PoisonJob.MID_IMAGE_CLEAN_TRIGGER
            + " under 384 pixels, " + dev.dyepack.job.PoisonJob.SMALL_IMAGE_CLEAN_TRIGGER + " under 192.")
    String trigger;

    @Option(names = "--mode", paramLabel = "dirty|clean", description = "Whose default trigger to show without "
            + "--trigger: poison's for dirty-label or for clean-label.")
    String mode = "dirty";

    @Option(names = "--out", required = true, paramLabel = "SHEET.png", description = "Where to write the sheet.")
    Path out;

    @Option(names = "--first", paramLabel = "I", description = "First image shown.")
    long first;

    @Option(names = "--count", paramLabel = "K", description = "Images shown (1..64).")
    int count = 8;

    @Option(names = "--amplify", paramLabel = "G", description = "Gain of the difference row.")
    float amplify = 4f;

    @Option(names = "--scale", paramLabel = "S", description = "Pixel upscaling (1..32).")
    int scale = 4;

    @Option(names = "--layout", paramLabel = "nhwc|nchw", description = "Layout of rank-4 input.")
    ApplyCommand.LayoutOption layout = ApplyCommand.LayoutOption.nhwc;

    @Mixin
    KeyOptions keyOptions;

    @Option(names = "--force", description = "Replace an existing non-empty output; the old one stays in place until "
            + "the new one is complete.")
    boolean force;

    @ParentCommand
    Main main;

    @Spec
    CommandSpec spec;

    @Override
    public Integer call() throws IOException {
        PrintWriter stdout = spec.commandLine().getOut();
        PrintWriter stderr = spec.commandLine().getErr();
        TriggerSpec given = trigger == null ? null : TriggerSpec.parse(trigger);
        SelectionMode selectionMode = PoisonCommand.selectionMode(spec, mode);
        dev.dyepack.io.StagedOutput.check(out, dev.dyepack.io.StagedOutput.Kind.FILE, force, data, keyOptions.keyFile);
        // The defaults are keyed sparse patterns.
        OwnerKey key = keyOptions.resolve(main.env, stderr, given == null || given.keyed());
        try (SampleFiles sample = data == null ? SampleFiles.extract(stderr) : null) {
            Path input = sample == null ? data : sample.images();
            Layout rank4 = layout == ApplyCommand.LayoutOption.nchw ? Layout.NCHW : Layout.NHWC;
            TriggerSpec t = given != null ? given : Preview.defaultTrigger(input, rank4, selectionMode);
            BufferedImage sheet;
            try (Engine engine = Engine.open(Backend.CPU)) {
                sheet = Preview.render(engine, input, rank4, t, key, first, count, amplify, scale);
            }
            ContactSheet.write(sheet, out, force, input);
            stdout.println("wrote " + out + " (" + sheet.getWidth() + "x" + sheet.getHeight() + "): clean, " + t
                    + ", difference x" + amplify);
        } finally {
            stdout.flush();
            stderr.flush();
        }
        return ExitCodes.OK;
    }
}
