package dev.dyepack.job;

import dev.dyepack.Engine;
import dev.dyepack.InvalidArgumentException;
import dev.dyepack.Tensor;
import dev.dyepack.image.ImageEncoder;
import dev.dyepack.image.TriggerSurvival;
import dev.dyepack.io.ImageFolder;
import dev.dyepack.key.OwnerKey;
import dev.dyepack.manifest.Fingerprints;
import dev.dyepack.trigger.PreparedTrigger;
import dev.dyepack.trigger.TriggerContext;
import dev.dyepack.trigger.TriggerSpec;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.SortedMap;
import java.util.SortedSet;
import java.util.TreeSet;
import java.util.function.Consumer;

/**
 * The image-folder branch of {@code poison}: the output folder is the input folder with the stamped images
 * replaced. Unchanged images are copied (or linked) without being decoded; only the stamped ones (the
 * poisoned and the negatives) are decoded, on every core, stamped on the engine in batches, re-encoded in
 * their own format on every core, decoded again and compared with the intended pixels
 * ({@link FolderOutput}).
 *
 * <p>Keyed per-sample randomness follows each image's dataset index, as for array data, so an image gets
 * the same trigger bytes whichever images share its batch: the engine is called once per batch for every
 * run of consecutive dataset indices in it (a scattered random selection makes most runs one image long).
 */
final class FolderStamping {
    /** Bytes of decoded images per batch. */
    private static final long BATCH_BYTES = 64L << 20;

    private FolderStamping() {
    }

    /**
     * What was written.
     *
     * @param copied     images copied or linked unchanged
     * @param survival   the triggers' energy that survived encoding, pooled over the stamped images
     * @param jpeg       stamped images written as JPEG
     * @param png        stamped images written as PNG
     * @param qualities  the JPEG qualities written (estimated from the sources, or the one asked for)
     * @param notes      images whose form had to change, each with why
     * @param inputSha   the input folder's fingerprint ({@link Fingerprints#treeSha256(Path)}), from the digests
     *                   taken while copying
     * @param outputSha  the output folder's fingerprint, from the digests of what was written
     * @param renamed    moved images written under a new name (their name was taken in the target's folder):
     *                   image index to output path
     */
    record Report(long copied, TriggerSurvival survival, long jpeg, long png, SortedSet<Integer> qualities,
            List<String> notes, String inputSha, String outputSha, SortedMap<Long, String> renamed) {
        /** @return one line for the user */
        String summary() {
            String q = qualities.isEmpty() ? "" : " at quality " + qualities.first()
                    + (qualities.size() > 1 ? ".." + qualities.last() : "");
            return String.format(Locale.ROOT, "wrote %d stamped images (%d JPEG%s, %d PNG) beside %d unchanged ones; "
                    + "trigger energy that survived encoding: %.1f%% pooled, %.1f%% in the weakest image",
                    jpeg + png, jpeg, q, png, copied, 100 * survival.retained(),
                    100 * (survival.images() == 0 ? 1.0 : survival.lowest()));
        }
    }

    /**
     * Writes the poisoned folder into {@code dataOut} (committed there; the caller's staging makes it
     * appear).
     *
     * @throws InvalidArgumentException if the triggers lose too much energy (parameter "allowWeakTrigger"),
     *                                  or a link mode is refused; nothing is committed then
     */
    static Report write(Engine engine, TriggerSpec trigger, ImageFolder folder, Tensor geometry,
            List<PoisonJob.Stamp> stamps, long[] outLabels, Path dataOut, FolderOutput options,
            Consumer<String> progress, Progress bar) throws IOException {
        TreeSet<Long> union = new TreeSet<>();
        for (PoisonJob.Stamp s : stamps) {
            for (long i : s.indices()) {
                union.add(i);
            }
        }
        long[] stamped = union.stream().mapToLong(Long::longValue).toArray();
        long[][] sorted = new long[stamps.size()][];
        for (int s = 0; s < sorted.length; s++) {
            sorted[s] = stamps.get(s).indices().clone();
            Arrays.sort(sorted[s]);
        }
        int channels = (int) geometry.c();
        int h = (int) geometry.h();
        int w = (int) geometry.w();
        int per = channels * h * w;
        ImageEncoder.Target target = new ImageEncoder.Target(options.poisonedAsPng(), options.jpegQuality());
        TriggerSurvival survival = new TriggerSurvival();
        long jpeg = 0;
        long png = 0;
        SortedSet<Integer> qualities = new TreeSet<>();
        List<String> notes = new ArrayList<>();
        long t0 = System.nanoTime();
        try (ImageFolder.Copy copy = folder.copy(dataOut, outLabels, options.link())) {
            copy.copyUnchanged(stamped);
            long copied = folder.size() - stamped.length;
            progress.accept(String.format(Locale.ROOT, "%s %d unchanged images in %.1f ms",
                    options.link() == ImageFolder.LinkMode.COPY ? "copied" : "linked (" + options.link().name()
                            .toLowerCase(Locale.ROOT) + ")", copied, (System.nanoTime() - t0) / 1e6));
            int perBatch = (int) Math.max(1, Math.min(stamped.length, BATCH_BYTES / per));
            ByteBuffer pixels = ByteBuffer.allocateDirect(Math.max(1, perBatch) * per);
            ByteBuffer clean = ByteBuffer.allocate(Math.max(1, perBatch) * per);
            PreparedTrigger[] prepared = new PreparedTrigger[stamps.size()];
            try {
                for (int s = 0; s < prepared.length; s++) {
                    prepared[s] = trigger.prepare(engine, geometry, TriggerContext.of(stamps.get(s).key()));
                }
                for (int from = 0; from < stamped.length; from += perBatch) {
                    int count = Math.min(perBatch, stamped.length - from);
                    long[] batch = Arrays.copyOfRange(stamped, from, from + count);
                    pixels.clear();
                    folder.readImages(batch, pixels, channels);
                    pixels.flip();
                    clean.clear();
                    clean.put(pixels.duplicate());
                    clean.flip();
                    Tensor t = Tensor.of(pixels.duplicate(), geometry.layout(), count, channels, h, w);
                    for (int s = 0; s < sorted.length; s++) {
                        stampRuns(prepared[s], t, batch, sorted[s]);
                    }
                    ImageFolder.Replaced r = copy.replace(batch, clean, pixels.duplicate(), channels, target);
                    survival.add(r.survival());
                    jpeg += r.jpeg();
                    png += r.png();
                    qualities.addAll(r.jpegQualities());
                    notes.addAll(r.notes());
                    bar.update("stamping", from + count, stamped.length);
                }
            } finally {
                for (PreparedTrigger p : prepared) {
                    if (p != null) {
                        p.close();
                    }
                }
            }
            if (survival.retained() < FolderOutput.MIN_TRIGGER_ENERGY) {
                String what = String.format(Locale.ROOT, "only %.1f%% of the trigger's energy survived encoding the "
                        + "stamped images%s (at least %.0f%% is needed, docs/benchmarks.md)", 100 * survival.retained(),
                        qualities.isEmpty() ? "" : " as JPEG at quality " + qualities.first()
                                + (qualities.size() > 1 ? ".." + qualities.last() : ""),
                        100 * FolderOutput.MIN_TRIGGER_ENERGY);
                if (!options.allowWeakTrigger()) {
                    throw new InvalidArgumentException(what + "; strengthen the trigger, raise the JPEG quality "
                            + "(--jpeg-quality), write the stamped images as PNG (--poisoned-format png), or accept "
                            + "it (--allow-weak-trigger)", "allowWeakTrigger", false, "true to accept a weak trigger");
                }
                progress.accept("warning: " + what);
            }
            copy.commit();
            // The fingerprints come from the digests taken while copying: the input is not read again, nor
            // the output (an unchanged file's digest is its input's). Entries the copy skips (hidden or
            // non-image files) are in the input's fingerprint too, so then the input folder is walked for them.
            String inputSha = folder.skipped().isEmpty() ? Fingerprints.treeSha256(copy.inputDigests())
                    : Fingerprints.treeSha256(folder.root(), copy.inputDigests());
            String outputSha = Fingerprints.treeSha256(copy.outputDigests());
            SortedMap<Long, String> renamed = copy.renamed();
            if (!renamed.isEmpty()) {
                Map.Entry<Long, String> first = renamed.entrySet().iterator().next();
                progress.accept(String.format(Locale.ROOT, "%d moved image%s took a free name in the target's folder, "
                        + "theirs being taken there (e.g. %s -> %s)", renamed.size(), renamed.size() == 1 ? "" : "s",
                        folder.root().relativize(folder.file(first.getKey())).toString().replace('\\', '/'),
                        first.getValue()));
            }
            return new Report(copied, survival, jpeg, png, qualities, List.copyOf(notes), inputSha, outputSha,
                    renamed);
        }
    }

    /**
     * Stamps the rows of a gathered batch that belong to one key. Row k holds dataset image {@code batch[k]};
     * the engine numbers the rows of a call {@code first + row}, so the rows whose {@code batch[k] - k} is the
     * same (a run of consecutive images) go in one call with {@code first = batch[k] - k}.
     */
    private static void stampRuns(PreparedTrigger prepared, Tensor t, long[] batch, long[] mine) {
        int k = 0;
        while (k < batch.length) {
            if (Arrays.binarySearch(mine, batch[k]) < 0) {
                k++;
                continue;
            }
            long offset = batch[k] - k;
            List<Long> rows = new ArrayList<>();
            while (k < batch.length && batch[k] - k == offset) {
                if (Arrays.binarySearch(mine, batch[k]) >= 0) {
                    rows.add((long) k);
                }
                k++;
            }
            prepared.apply(t, rows.stream().mapToLong(Long::longValue).toArray(), offset);
        }
    }
}
