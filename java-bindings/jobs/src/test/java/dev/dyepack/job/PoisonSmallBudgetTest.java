package dev.dyepack.job;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.dyepack.Backend;
import dev.dyepack.Engine;
import dev.dyepack.io.NpyWriter;
import dev.dyepack.key.OwnerKey;
import dev.dyepack.manifest.Manifest;
import dev.dyepack.manifest.ManifestReader;
import dev.dyepack.select.Budget;
import dev.dyepack.select.SelectionMode;
import dev.dyepack.select.Strategy;
import dev.dyepack.trigger.TriggerSpec;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The defaults below half a percent of the data: {@code dyepack poison} without {@code --trigger} stamps
 * 192 keyed pixels and one negative per poisoned sample (two from 40 poisoned samples on) when fewer than
 * 0.5% of the samples are poisoned (docs/efficacy.md),
 * records that trigger in the manifest, and keeps what the owner set explicitly.
 */
class PoisonSmallBudgetTest {
    private static final OwnerKey KEY = new OwnerKey("small budget test key: 32 bytes!".getBytes(StandardCharsets.UTF_8));
    private static final int N = 2000;

    @TempDir
    Path dir;

    @Test
    void belowHalfAPercentTheDefaultIs192PixelsWithOneNegativeEach() throws IOException {
        // 4 of 2000 is 0.2%: below the 0.5% line; 20 of 2000 is 1%: above it.
        Run small = poison("small", 28, 28, "4", false, Double.NaN);
        assertEquals("sparse:n=192,block=0,alpha=1,value=255,low=0,cell=4,share=1", small.manifest.triggerSpec(),
                "192 pixels, their tones keyed by 4 x 4 cell");
        assertEquals(4, small.manifest.negativeIndices().length, "one negative per poisoned sample at a small budget");
        assertEquals(4, small.manifest.indices().length);
        assertEquals(192, small.changedPlaces, "the pattern's pixels, the same places on every poisoned image");
        assertEquals(0, small.mixedCells, "every 4 x 4 cell's pattern pixels share one tone");

        Run usual = poison("usual", 28, 28, "20", false, Double.NaN);
        assertEquals("sparse:n=48", usual.manifest.triggerSpec().replaceAll(",.*", ""));
        assertEquals(20 * 4, usual.manifest.negativeIndices().length, "4 negatives per poisoned sample at 1%");
        assertEquals(48, usual.changedPlaces);
        assertTrue(usual.mixedCells > 0, "the 1% default keys each pixel's tone: no cell mixes them");
    }

    @Test
    void fromFortyPoisonedSamplesASmallBudgetTakesTwoNegativesEach() throws IOException {
        // 10,000 images of 28 x 28: 39 and 40 poisoned are both below 0.5% (50), where the default trigger is the
        // small-budget pattern; from 40 poisoned samples on it takes two negatives each.
        int n = 10_000;
        Run below = poison("below-40", n, 28, 28, "39", false, Double.NaN, SelectionMode.DIRTY);
        assertEquals(39, below.manifest.negativeIndices().length, "one negative each below 40 poisoned samples");
        Run at = poison("at-40", n, 28, 28, "40", false, Double.NaN, SelectionMode.DIRTY);
        assertEquals(40, at.manifest.indices().length);
        assertEquals(TriggerSpec.parse(PoisonJob.SMALL_BUDGET_TRIGGER).toString(), at.manifest.triggerSpec());
        assertEquals(80, at.manifest.negativeIndices().length, "two negatives each from 40 poisoned samples on");
        Run set = poison("set-40", n, 28, 28, "40", false, 1, SelectionMode.DIRTY);
        assertEquals(40, set.manifest.negativeIndices().length, "a ratio that was set is kept");
        Run clean = poison("clean-40", n, 28, 28, "40", false, Double.NaN, SelectionMode.CLEAN);
        assertEquals(40, clean.manifest.negativeIndices().length, "clean-label keeps its one negative each");
        Run usual = poison("usual-50", n, 28, 28, "50", false, Double.NaN, SelectionMode.DIRTY);
        assertEquals(200, usual.manifest.negativeIndices().length, "at 0.5% the usual four each");
        // Only the small-budget pattern was measured with two: another trigger keeps one each (the keyed blend at
        // 0.1% of 60,000 images did not take hold in an MLP with two).
        Run other = poison("other-40", n, 28, 28, "40", true, Double.NaN, SelectionMode.DIRTY);
        assertEquals(40, other.manifest.negativeIndices().length, "one negative each for another trigger");
        TriggerSpec pattern = TriggerSpec.parse(PoisonJob.SMALL_BUDGET_TRIGGER);
        assertEquals(1.0, PoisonJob.smallBudgetNegatives(pattern, 39));
        assertEquals(2.0, PoisonJob.smallBudgetNegatives(pattern, 40));
        assertEquals(2.0, PoisonJob.smallBudgetNegatives(pattern, 59));
        assertEquals(3.0, PoisonJob.smallBudgetNegatives(pattern, 60));
        assertEquals(1.0, PoisonJob.smallBudgetNegatives(TriggerSpec.parse("blend:alpha=0.2,pattern=noise"), 40));
        assertEquals(1.0, PoisonJob.smallBudgetNegatives(TriggerSpec.parse("blend:alpha=0.2,pattern=noise"), 60));
        // The step the progress line names ("..., sparse:n=192,cell=4 from 60 poisoned samples on").
        assertEquals(0, PoisonJob.smallBudgetStep(pattern, 39));
        assertEquals(40, PoisonJob.smallBudgetStep(pattern, 59));
        assertEquals(60, PoisonJob.smallBudgetStep(pattern, 60));
        assertEquals(0, PoisonJob.smallBudgetStep(TriggerSpec.parse("blend:alpha=0.2,pattern=noise"), 60));
        assertEquals(0, PoisonJob.smallBudgetStep(null, 60));
    }

    @Test
    void fromSixtyPoisonedSamplesASmallBudgetTakesThreeNegativesEach() throws IOException {
        // 20,000 images of 28 x 28: 59 and 60 poisoned are both below 0.5% (100); from 60 on the small-budget pattern
        // takes three negatives each (0.1% of all 60,000 Fashion-MNIST images is 60).
        int n = 20_000;
        Run below = poison("below-60", n, 28, 28, "59", false, Double.NaN, SelectionMode.DIRTY);
        assertEquals(2 * 59, below.manifest.negativeIndices().length, "two negatives each below 60 poisoned samples");
        Run at = poison("at-60", n, 28, 28, "60", false, Double.NaN, SelectionMode.DIRTY);
        assertEquals(60, at.manifest.indices().length);
        assertEquals(TriggerSpec.parse(PoisonJob.SMALL_BUDGET_TRIGGER).toString(), at.manifest.triggerSpec());
        assertEquals(3 * 60, at.manifest.negativeIndices().length, "three negatives each from 60 poisoned samples on");
        Run set = poison("set-60", n, 28, 28, "60", false, 2, SelectionMode.DIRTY);
        assertEquals(2 * 60, set.manifest.negativeIndices().length, "a ratio that was set is kept");
    }

    @Test
    void whatTheOwnerSetIsKeptAtSmallBudgets() throws IOException {
        Run explicit = poison("explicit", 28, 28, "4", true, 4);
        assertEquals("sparse:n=24", explicit.manifest.triggerSpec().replaceAll(",.*", ""), "a trigger that was set");
        assertEquals(16, explicit.manifest.negativeIndices().length, "negatives that were set");
        // Images of 8 x 8 have fewer than four times 192 (or 48) pixels: the small images' default, 24.
        Run tiny = poison("tiny", 8, 8, "4", false, Double.NaN);
        assertEquals("sparse:n=24", tiny.manifest.triggerSpec().replaceAll(",.*", ""));
        assertEquals(4, tiny.manifest.negativeIndices().length, "one negative per poisoned sample");
        Run tinyUsual = poison("tiny-usual", 8, 8, "20", false, Double.NaN);
        assertEquals("sparse:n=24", tinyUsual.manifest.triggerSpec().replaceAll(",.*", ""));
        assertEquals(24, tinyUsual.changedPlaces);
        // 14 x 14 = 196 pixels: four times 48, not four times 192; a small budget takes 48 pixels there.
        Run mid = poison("mid", 14, 14, "4", false, Double.NaN);
        assertEquals("sparse:n=48", mid.manifest.triggerSpec().replaceAll(",.*", ""));
        // Clean-label takes its own default, 96 pixels all bright, at every budget (it was measured at 1% only),
        // 48 of them on images under 384 pixels and 24 under 192.
        String cleanDefault = TriggerSpec.parse("sparse:n=96,low=255").toString();
        Run clean = poison("clean", 28, 28, "4", false, Double.NaN, SelectionMode.CLEAN);
        assertEquals(cleanDefault, clean.manifest.triggerSpec());
        Run cleanUsual = poison("clean-usual", 28, 28, "20", false, Double.NaN, SelectionMode.CLEAN);
        assertEquals(cleanDefault, cleanUsual.manifest.triggerSpec());
        assertEquals(20, cleanUsual.manifest.negativeIndices().length, "clean-label: one negative per poisoned sample");
        assertEquals(4, clean.manifest.negativeIndices().length, "and as many below 0.5%");
        assertEquals(96, cleanUsual.brightPlaces, "every place of the clean-label pattern is set to 255");
        Run cleanMid = poison("clean-mid", 14, 14, "4", false, Double.NaN, SelectionMode.CLEAN);
        assertEquals(TriggerSpec.parse("sparse:n=48,low=255").toString(), cleanMid.manifest.triggerSpec());
        assertEquals(48, cleanMid.brightPlaces);
        Run cleanTiny = poison("clean-tiny", 8, 8, "4", false, Double.NaN, SelectionMode.CLEAN);
        assertEquals(TriggerSpec.parse("sparse:n=24,low=255").toString(), cleanTiny.manifest.triggerSpec());
        assertEquals(24, cleanTiny.brightPlaces);
    }

    @Test
    void theProgressLineNamesTheDefaultThatWasTaken() {
        assertEquals(" (the default)", PoisonJob.defaultTriggerNote(TriggerSpec.parse(
                PoisonJob.defaultTrigger(20, N, 28, 28, SelectionMode.DIRTY))));
        assertEquals(" (the default below 0.5% of the data)", PoisonJob.defaultTriggerNote(TriggerSpec.parse(
                PoisonJob.defaultTrigger(4, N, 28, 28, SelectionMode.DIRTY))));
        assertEquals(" (the default on images under 192 pixels)", PoisonJob.defaultTriggerNote(TriggerSpec.parse(
                PoisonJob.defaultTrigger(20, N, 8, 8, SelectionMode.DIRTY))));
        assertEquals(" (the clean-label default)", PoisonJob.defaultTriggerNote(TriggerSpec.parse(
                PoisonJob.defaultTrigger(4, N, 28, 28, SelectionMode.CLEAN))), "clean-label keeps 96 pixels at 0.2%");
        assertEquals(" (the clean-label default on images under 384 pixels)", PoisonJob.defaultTriggerNote(
                TriggerSpec.parse(PoisonJob.defaultTrigger(20, N, 14, 14, SelectionMode.CLEAN))));
        assertEquals(" (the clean-label default on images under 192 pixels)", PoisonJob.defaultTriggerNote(
                TriggerSpec.parse(PoisonJob.defaultTrigger(20, N, 8, 8, SelectionMode.CLEAN))));
        assertEquals("sparse:n=48", PoisonJob.defaultTrigger(28, 28, SelectionMode.DIRTY));
        // 3 x 300 holds four times 192 pixels but is narrower than a 4 x 4 cell: a small budget takes the default
        // for the size there.
        assertEquals(PoisonJob.DEFAULT_TRIGGER, PoisonJob.defaultTrigger(4, N, 3, 300, SelectionMode.DIRTY));
        assertEquals(PoisonJob.SMALL_BUDGET_TRIGGER, PoisonJob.defaultTrigger(4, N, 4, 192, SelectionMode.DIRTY));
        assertEquals(PoisonJob.CLEAN_TRIGGER, PoisonJob.defaultTrigger(28, 28, SelectionMode.CLEAN));
    }

    /**
     * A poisoning's manifest; the places any poisoned image changed; the places every poisoned image holds at
     * 255 (the pattern's bright pixels, whatever the push did around them).
     */
    private record Run(Manifest manifest, int changedPlaces, int brightPlaces, int mixedCells) {}

    private Run poison(String name, int h, int w, String budget, boolean explicitTrigger, double negatives)
            throws IOException {
        return poison(name, h, w, budget, explicitTrigger, negatives, SelectionMode.DIRTY);
    }

    private Run poison(String name, int h, int w, String budget, boolean explicitTrigger, double negatives,
            SelectionMode mode) throws IOException {
        return poison(name, N, h, w, budget, explicitTrigger, negatives, mode);
    }

    private Run poison(String name, int samples, int h, int w, String budget, boolean explicitTrigger,
            double negatives, SelectionMode mode) throws IOException {
        byte[] x = new byte[samples * h * w];
        new Random(11).nextBytes(x);
        Path data = dir.resolve(name + "-x.npy");
        try (NpyWriter wr = NpyWriter.create(data, "|u1", new long[] {samples, h, w})) {
            wr.write(ByteBuffer.wrap(x));
            wr.commit();
        }
        ByteBuffer b = ByteBuffer.allocate(8 * samples).order(ByteOrder.LITTLE_ENDIAN);
        for (int i = 0; i < samples; i++) {
            b.putLong(i % 4);
        }
        b.flip();
        Path labels = dir.resolve(name + "-y.npy");
        try (NpyWriter wr = NpyWriter.create(labels, "<i8", new long[] {samples})) {
            wr.write(b);
            wr.commit();
        }
        Path out = dir.resolve(name);
        PoisonJob.Builder builder = PoisonJob.builder();
        if (explicitTrigger) {
            builder.trigger(TriggerSpec.parse("sparse:n=24"));
        } else {
            builder.defaultTrigger();
        }
        if (!Double.isNaN(negatives)) {
            builder.negatives(negatives);
        }
        PoisonJob.Options o = builder.data(data).labels(labels).target(0).budget(Budget.parse(budget))
                .strategy(Strategy.RANDOM).mode(mode).outDir(out).build();
        try (Engine engine = Engine.open(Backend.CPU)) {
            PoisonJob.run(engine, o, KEY, line -> { });
        }
        Manifest m = ManifestReader.read(out.resolve("manifest.json"));
        // The places any poisoned image changed, counted from the bytes: random pixels equal the pattern's
        // black or white with probability 1/128, so over several images every place of the pattern shows.
        byte[] y = readAll(out.resolve("data.npy"), x.length);
        boolean[] changed = new boolean[h * w];
        for (long i : m.indices()) {
            for (int p = 0; p < h * w; p++) {
                int at = (int) i * h * w + p;
                if (y[at] != x[at]) {
                    changed[p] = true;
                    int v = y[at] & 0xff;
                    // (Clean-label samples are pushed first, which changes pixels everywhere.)
                    assertTrue(mode == SelectionMode.CLEAN || v == 0 || v == 255, "a pattern pixel is black or white: "
                            + v);
                }
            }
        }
        int places = 0;
        for (boolean c : changed) {
            places += c ? 1 : 0;
        }
        int bright = 0;
        for (int p = 0; p < h * w; p++) {
            boolean all = m.indices().length > 0;
            for (long i : m.indices()) {
                all &= (y[(int) i * h * w + p] & 0xff) == 255;
            }
            bright += all ? 1 : 0;
        }
        // The 4 x 4 cells (a row of them cut short at the image's edge) whose changed places, on the first
        // poisoned image, hold both black and white (dirty-label only: clean-label pushes change every pixel).
        java.util.Map<Integer, Integer> tone = new java.util.HashMap<>();
        java.util.Set<Integer> mixed = new java.util.HashSet<>();
        for (int p = 0; p < h * w && mode == SelectionMode.DIRTY && m.indices().length > 0; p++) {
            if (changed[p]) {
                int cell = (p / w / 4) * ((w + 3) / 4) + (p % w) / 4;
                Integer before = tone.put(cell, y[(int) m.indices()[0] * h * w + p] & 0xff);
                if (before != null && before != (y[(int) m.indices()[0] * h * w + p] & 0xff)) {
                    mixed.add(cell);
                }
            }
        }
        return new Run(m, places, bright, mixed.size());
    }

    private static byte[] readAll(Path npy, int length) throws IOException {
        byte[] all = Files.readAllBytes(npy);
        return Arrays.copyOfRange(all, all.length - length, all.length);
    }
}
