package dev.dyepack.job;

import dev.dyepack.DType;
import dev.dyepack.Engine;
import dev.dyepack.InvalidArgumentException;
import dev.dyepack.InvalidInputException;
import dev.dyepack.Layout;
import dev.dyepack.Tensor;
import dev.dyepack.io.ImageFolder;
import dev.dyepack.io.Limits;
import dev.dyepack.io.Npz;
import dev.dyepack.io.OutputBusyException;
import dev.dyepack.io.StagedOutput;
import dev.dyepack.surrogate.LabelConsistentPush;
import dev.dyepack.surrogate.LinearHead;
import dev.dyepack.io.Samples;
import dev.dyepack.key.OwnerKey;
import dev.dyepack.manifest.Fingerprints;
import dev.dyepack.manifest.Manifest;
import dev.dyepack.manifest.ManifestSigner;
import dev.dyepack.manifest.ManifestWriter;
import dev.dyepack.select.Budget;
import dev.dyepack.select.SelectionMode;
import dev.dyepack.select.Selector;
import dev.dyepack.select.Strategy;
import dev.dyepack.surrogate.LinearSurrogate;
import dev.dyepack.surrogate.PooledFeatures;
import dev.dyepack.trigger.DataKind;
import dev.dyepack.trigger.PreparedTrigger;
import dev.dyepack.trigger.SparseTrigger;
import dev.dyepack.trigger.TriggerContext;
import dev.dyepack.trigger.TriggerSpec;
import java.io.IOException;
import java.io.InterruptedIOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.FloatBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.TreeMap;
import java.util.function.Consumer;

/**
 * The main job: poison a dataset. Chooses a budget of samples (keyed random, or nearest a surrogate's
 * decision boundary), stamps the trigger on them, relabels them to the target for dirty-label
 * poisoning, writes the data and labels in the input's format to an output directory, and writes a
 * {@code manifest.json} signed with a key-derived subkey that records exactly what was done.
 *
 * <p>Every input is checked before anything is written; outputs are written under temporary names and
 * moved into place; inputs are never modified. The owner's key is required: it drives the selection
 * and the trigger's randomness, and signs the manifest (which records only its fingerprint).
 */
public final class PoisonJob {
    private PoisonJob() {}

    /** Where the surrogate's scores come from, for boundary selection. */
    public enum Surrogate {
        /** No surrogate (random selection). */
        NONE,
        /** A softmax-regression head fitted on the data's pixels. */
        LINEAR,
        /** The owner's features and linear head. */
        FEATURES_HEAD
    }

    /**
     * The trigger the command-line tool poisons with when none is given (dirty- and clean-label, from
     * {@link #SMALL_BUDGET} of the data on), and {@code dyepack preview} shows: 48 keyed pixels, with which
     * the evaluation's CNN reached at least 96% attack success at 1% dirty-label under six seeds, every
     * source class at least 88%, where 24 pixels left one class at 39% under one seed, and a model
     * watermarked under another key answered it at 0.4-4.2% (docs/efficacy.md, section 12). Images with fewer
     * than four times its pixels take {@link #SMALL_IMAGE_TRIGGER}.
     */
    public static final String DEFAULT_TRIGGER = "sparse:n=48";
    /** The pixels of {@link #DEFAULT_TRIGGER}. */
    static final int DEFAULT_PIXELS = 48;

    /**
     * The default for images with fewer than four times {@link #DEFAULT_PIXELS} pixels (under 192, such as
     * 8 x 8), so that the pattern never covers more than a quarter of an image where it can be helped: 24
     * keyed pixels, the default before {@link #DEFAULT_TRIGGER}.
     */
    public static final String SMALL_IMAGE_TRIGGER = "sparse:n=24";

    /**
     * The trigger clean-label poisoning takes when none is given: 96 keyed pixels, every one of them bright
     * ({@code low=255}). Clean-label stamps only target-class images; with half of the pixels dark (the
     * dirty-label default), the pattern fired on shirts and dresses and hardly on shoes, whose black background
     * hides a dark pixel (the likely reason; docs/efficacy.md, section 13). Without negatives models watermarked
     * under other keys answer a clean-label pattern too (16-46% on 20,000 images, up to 86% on all 60,000), so
     * clean-label stamps {@link #CLEAN_NEGATIVES} per poisoned sample by default (section 18), which cost 48 bright
     * pixels, the default before, a third of their strength: 50% or more in seven of twelve CNN training runs
     * (mean 52%). 96 pixels reached 50% in thirteen of fifteen (mean 64%; on all 60,000 images 44-85%, thirteen of
     * fourteen at 50% or more), every owner first of 200 keys under {@code dyepack verify}'s default probe set and
     * no stranger accused. Two keys' 96 places share more than 48 do, and with three control keys {@code verify}
     * accused one stranger's model (section 19): this default rests on the key-rank test of
     * {@code dyepack probe-set}'s default probe set.
     * Images with fewer than four times its pixels take {@link #MID_IMAGE_CLEAN_TRIGGER} or
     * {@link #SMALL_IMAGE_CLEAN_TRIGGER}.
     */
    public static final String CLEAN_TRIGGER = "sparse:n=96,low=255";
    /** The pixels of {@link #CLEAN_TRIGGER}. */
    static final int CLEAN_PIXELS = 96;

    /**
     * The clean-label default on images of 192 to 383 pixels: 48 pixels, all bright (the clean-label default
     * before {@link #CLEAN_TRIGGER}; docs/efficacy.md, sections 13 and 18).
     */
    public static final String MID_IMAGE_CLEAN_TRIGGER = "sparse:n=48,low=255";

    /** The clean-label default on images under 192 pixels: {@link #SMALL_IMAGE_TRIGGER}'s 24 pixels, all bright. */
    public static final String SMALL_IMAGE_CLEAN_TRIGGER = "sparse:n=24,low=255";

    /**
     * Below this share of the data poisoned the defaults change (docs/efficacy.md, "Small budgets"): the
     * trigger becomes {@link #SMALL_BUDGET_TRIGGER} and dirty-label poisoning stamps at most
     * {@link #smallBudgetNegatives(TriggerSpec, long)} negatives per poisoned sample (one; two for
     * {@link #SMALL_BUDGET_TRIGGER} from {@link #SMALL_BUDGET_MORE_FROM} poisoned samples on and three from
     * {@link #SMALL_BUDGET_MOST_FROM} on), because at 0.1% on a CNN the default pattern with
     * four negatives reached 15% attack success.
     */
    public static final double SMALL_BUDGET = 0.005; // the messages below say "0.5%"

    /**
     * The trigger {@code dyepack poison} takes when none is given and fewer than {@link #SMALL_BUDGET} of the
     * samples are poisoned dirty-label: 192 keyed pixels, which twenty poisoned images of 20,000 teach a CNN
     * where 24 or 48 pixels do not (docs/efficacy.md, "Small budgets"), their tones keyed by 4 x 4 cell (every
     * pixel of a cell bright, or every one dark, as the key says). Two keys then differ at the scale a pooling
     * network keeps: at 0.1% a model watermarked under another key answered the owner's trigger at a mean of 16%
     * on the evaluation's CNN (twelve training runs) where the pixels keyed one by one gave 33%, at the same
     * strength (88-98% in ten runs, 76% and 45% in two, against 67-99%), and the small ResNet reached 83-87%
     * against 64-92%. Drawing the pixels from a keyed half of the cells ({@code share=0.5}) was stronger still
     * on the CNN but fell to 32-65% on the ResNet (docs/efficacy.md, section 15). Images with fewer than four
     * times its pixels, or narrower than a cell, take the default for their size.
     */
    public static final String SMALL_BUDGET_TRIGGER = "sparse:n=192,cell=4";
    /** The pixels of {@link #SMALL_BUDGET_TRIGGER}. */
    static final int SMALL_BUDGET_PIXELS = 192;

    /** Why a default trigger was the one chosen, for the progress line: " (the default...)". */
    static String defaultTriggerNote(TriggerSpec chosen) {
        String spec = chosen.toString();
        if (spec.equals(TriggerSpec.parse(SMALL_BUDGET_TRIGGER).toString())) {
            return " (the default below 0.5% of the data)";
        }
        if (spec.equals(TriggerSpec.parse(SMALL_IMAGE_TRIGGER).toString())) {
            return " (the default on images under " + 4 * DEFAULT_PIXELS + " pixels)";
        }
        if (spec.equals(TriggerSpec.parse(CLEAN_TRIGGER).toString())) {
            return " (the clean-label default)";
        }
        if (spec.equals(TriggerSpec.parse(MID_IMAGE_CLEAN_TRIGGER).toString())) {
            return " (the clean-label default on images under " + 4 * CLEAN_PIXELS + " pixels)";
        }
        if (spec.equals(TriggerSpec.parse(SMALL_IMAGE_CLEAN_TRIGGER).toString())) {
            return " (the clean-label default on images under " + 4 * DEFAULT_PIXELS + " pixels)";
        }
        return " (the default)";
    }

    /**
     * The default trigger for poisoning {@code count} of {@code n} samples of {@code h x w} pixels in the given
     * mode: {@link #SMALL_BUDGET_TRIGGER} for dirty-label below {@link #SMALL_BUDGET}, else
     * {@link #DEFAULT_TRIGGER} (clean-label: {@link #CLEAN_TRIGGER}), each only where the image holds at least
     * four times its pixels; else the next smaller, down to {@link #SMALL_IMAGE_TRIGGER} (clean-label:
     * {@link #MID_IMAGE_CLEAN_TRIGGER}, then {@link #SMALL_IMAGE_CLEAN_TRIGGER}).
     */
    static String defaultTrigger(long count, long n, long h, long w, SelectionMode mode) {
        if (mode == SelectionMode.DIRTY && smallBudget(count, n) && h * w >= 4L * SMALL_BUDGET_PIXELS
                && ((SparseTrigger) TriggerSpec.parse(SMALL_BUDGET_TRIGGER)).fits(h, w)) {
            return SMALL_BUDGET_TRIGGER;
        }
        return defaultTrigger(h, w, mode);
    }

    /**
     * The default trigger for images of {@code h x w} pixels from {@link #SMALL_BUDGET} of the data on, in the
     * given mode (what {@code dyepack preview --mode} shows): {@link #DEFAULT_TRIGGER} or {@link #CLEAN_TRIGGER},
     * each on images of at least four times its pixels; smaller images take {@link #SMALL_IMAGE_TRIGGER}, or
     * {@link #MID_IMAGE_CLEAN_TRIGGER} (from 192 pixels) and {@link #SMALL_IMAGE_CLEAN_TRIGGER}.
     *
     * @param h    the images' height
     * @param w    the images' width
     * @param mode dirty- or clean-label
     * @return the trigger's spec
     * @throws NullPointerException if mode is null
     */
    public static String defaultTrigger(long h, long w, SelectionMode mode) {
        boolean large = h * w >= 4L * DEFAULT_PIXELS;
        if (Objects.requireNonNull(mode, "mode") == SelectionMode.CLEAN) {
            return h * w >= 4L * CLEAN_PIXELS ? CLEAN_TRIGGER : large ? MID_IMAGE_CLEAN_TRIGGER
                    : SMALL_IMAGE_CLEAN_TRIGGER;
        }
        return large ? DEFAULT_TRIGGER : SMALL_IMAGE_TRIGGER;
    }

    /**
     * Whether poisoning {@code count} of {@code n} samples is a small budget, below {@link #SMALL_BUDGET}.
     *
     * @param count the samples poisoned
     * @param n     the samples in the data
     * @return whether the small-budget defaults apply
     */
    public static boolean smallBudget(long count, long n) {
        return n > 0 && count < SMALL_BUDGET * n;
    }

    /**
     * Negatives per poisoned sample by default below {@link #SMALL_BUDGET} (keyed image triggers, dirty-label):
     * at 0.1% on a CNN one per sample kept 85% / 89% attack success (two seeds) against 92% / 92% with none,
     * and cut a model watermarked under another key's answer rate to the owner's trigger from 66% to 35%
     * (docs/efficacy.md, "Small budgets"); two more seeds gave 95% and 67%.
     */
    public static final double SMALL_BUDGET_NEGATIVES = 1;

    /**
     * From this many poisoned samples on, the small-budget pattern ({@link #SMALL_BUDGET_TRIGGER}) takes
     * {@link #SMALL_BUDGET_MORE_NEGATIVES} negatives per poisoned sample by default instead of
     * {@link #SMALL_BUDGET_NEGATIVES}. With 20 poisoned samples (0.1% of 20,000) a second negative each cost 4-8
     * points of attack success under two seeds of six; with 40 (0.2%) it cost nothing (92.7-98.4% against
     * 91.8-98.9%, six seeds) and halved the answer rate of a model watermarked under another key to the owner's
     * trigger (mean 9.3% against 17.2%), every owner's key first of 200 under {@code dyepack verify}'s default
     * probe set and no stranger accused (docs/efficacy.md, section 21). Other triggers keep one: the keyed blend
     * at 0.1% of 60,000 images (60 poisoned) took hold in an MLP with one negative each (15-22% of the probes
     * against controls at 5-7%) and not with two (4%).
     */
    public static final long SMALL_BUDGET_MORE_FROM = 40;

    /** Negatives per poisoned sample the small-budget pattern takes from {@link #SMALL_BUDGET_MORE_FROM} on. */
    public static final double SMALL_BUDGET_MORE_NEGATIVES = 2;

    /**
     * From this many poisoned samples on, the small-budget pattern takes {@link #SMALL_BUDGET_MOST_NEGATIVES}
     * negatives per poisoned sample by default. At 0.1% of all 60,000 Fashion-MNIST images (60 poisoned) a third
     * negative each kept the watermark's strength (95.5-100.0% attack success against 95.1-100.0%, eleven keys)
     * and lowered the answer rate of a model watermarked under another key to the owner's trigger from a mean of
     * 12.8% to 8.8%, every owner's key first of 200 under {@code dyepack verify}'s default probe set and no one
     * accused where it ran; with 80 (0.4% of 20,000) it cost nothing either (six keys; strangers' mean 6.0% to
     * 4.5%). With 40 poisoned samples (0.2% of 20,000) it cost one key of six 3.4 points, so two stay the default
     * there (docs/efficacy.md, sections 23 and 30).
     */
    public static final long SMALL_BUDGET_MOST_FROM = 60;

    /** Negatives per poisoned sample the small-budget pattern takes from {@link #SMALL_BUDGET_MOST_FROM} on. */
    public static final double SMALL_BUDGET_MOST_NEGATIVES = 3;

    /**
     * The most negatives per poisoned sample the defaults give below {@link #SMALL_BUDGET}, for {@code count}
     * poisoned samples stamped with {@code trigger}.
     *
     * @param trigger the trigger stamped (as resolved for this poisoning)
     * @param count   the samples poisoned
     * @return for {@link #SMALL_BUDGET_TRIGGER} {@link #SMALL_BUDGET_MOST_NEGATIVES} from
     *         {@link #SMALL_BUDGET_MOST_FROM} poisoned samples on and {@link #SMALL_BUDGET_MORE_NEGATIVES} from
     *         {@link #SMALL_BUDGET_MORE_FROM} on; {@link #SMALL_BUDGET_NEGATIVES} otherwise
     */
    public static double smallBudgetNegatives(TriggerSpec trigger, long count) {
        long from = smallBudgetStep(trigger, count);
        return from == SMALL_BUDGET_MOST_FROM ? SMALL_BUDGET_MOST_NEGATIVES
                : from == SMALL_BUDGET_MORE_FROM ? SMALL_BUDGET_MORE_NEGATIVES : SMALL_BUDGET_NEGATIVES;
    }

    /**
     * The step of {@link #smallBudgetNegatives(TriggerSpec, long)}'s rule that {@code count} poisoned samples
     * stamped with {@code trigger} reach: {@link #SMALL_BUDGET_MOST_FROM} or {@link #SMALL_BUDGET_MORE_FROM} for
     * the small-budget pattern from that many poisoned samples on, 0 where the first rate holds (one place for
     * the thresholds, so that the progress line names the step the rule took).
     */
    static long smallBudgetStep(TriggerSpec trigger, long count) {
        if (trigger == null || !trigger.toString().equals(SMALL_BUDGET_PATTERN.toString())) {
            return 0;
        }
        return count >= SMALL_BUDGET_MOST_FROM ? SMALL_BUDGET_MOST_FROM
                : count >= SMALL_BUDGET_MORE_FROM ? SMALL_BUDGET_MORE_FROM : 0;
    }

    /** {@link #SMALL_BUDGET_TRIGGER}, parsed (its canonical form is what the comparison above needs). */
    private static final TriggerSpec SMALL_BUDGET_PATTERN = TriggerSpec.parse(SMALL_BUDGET_TRIGGER);

    /** Negatives per poisoned sample by default, for keyed image triggers (docs/efficacy.md). */
    public static final double DEFAULT_NEGATIVES = 4;
    /**
     * Negatives per poisoned sample by default under clean-label poisoning (keyed image triggers). Without them a
     * network trained on the poisoned data learns "bright dots mean the target" rather than the owner's dots: on
     * the evaluation's CNN trained on all 60,000 Fashion-MNIST images a model watermarked under another key
     * answered the owner's clean-label trigger at 86%, and {@code dyepack verify} accused it with three control
     * keys, or, with ten, no longer told the owner's model apart, which answered another key's dots at 94%. With
     * one negative per poisoned sample both owners were detected (p below 1e-100, their controls answered at 5.2%
     * or less) and no other-key model was accused, at 56-60% attack success there with the 48 pixels of the time,
     * against 95-98% without (docs/efficacy.md, section 18).
     */
    public static final double CLEAN_NEGATIVES = 1;
    /**
     * The label-consistent push's L-infinity bound for clean-label poisoning of uint8 data by default,
     * in pixel units (docs/efficacy.md); float32 data get no push unless one is given in their units.
     */
    public static final double DEFAULT_CLEAN_EPS = 64;
    /** The most negatives per poisoned sample. */
    public static final double MAX_NEGATIVES = 10;
    /**
     * Derived keys the negatives are stamped under by default, dealt in turn: up to this many negatives
     * each get a key of their own (the evaluation measured many keys more specific than few; docs/efficacy.md),
     * beyond it keys are shared. The manifest records the keys used, at most the number of negatives.
     */
    public static final int NEGATIVE_KEYS = 1000;
    /** The most derived keys for negatives. */
    public static final int MAX_NEGATIVE_KEYS = 100000;

    /**
     * What to do: validated options, built with {@link #builder()}. Every check that needs no file
     * contents is made once, in {@link Builder#build()}; {@link Strategy#AUTO} is resolved there and
     * an unset surrogate is chosen there (none for random selection, the owner's features and head
     * when given, else a linear surrogate fitted on the pixels).
     */
    public static final class Options extends PoisonSettings {
        private final Path data;
        private final Path labels;
        private final int classes;
        private final Path features;
        private final Path head;
        private final Path outDir;
        private final Layout rank4;
        private final boolean replace;

        private final FolderOutput folderOutput;

        private Options(Builder b, PoisonOptionsBuilder.Selection selection, double negatives) {
            super(b, selection, negatives);
            this.folderOutput = b.folderOutput;
            this.data = b.data;
            this.labels = b.labels;
            this.classes = b.classes;
            this.features = b.features;
            this.head = b.head;
            this.outDir = b.outDir;
            this.rank4 = b.rank4;
            this.replace = b.replace;
        }

        /** @return how an image folder is written (ignored for array data) */
        public FolderOutput folderOutput() {
            return folderOutput;
        }

        /** @return the samples: .npy, IDX, or an image folder (one folder per class) */
        public Path data() {
            return data;
        }

        /** @return the labels file (.npy or IDX, rank 1, integers); null for an image folder */
        public Path labels() {
            return labels;
        }

        /**
         * @return the number of classes the owner declared (labels and target lie in {@code [0, classes)}),
         *         or 0 to take the class set from the labels (their largest value plus one) or the image
         *         folders
         */
        public int classes() {
            return classes;
        }

        /** @return the owner's features (.npy, N x D float32), for FEATURES_HEAD; else null */
        public Path features() {
            return features;
        }

        /** @return the owner's head (.npz with W, b), for FEATURES_HEAD; else null */
        public Path head() {
            return head;
        }

        /** @return the output directory */
        public Path outDir() {
            return outDir;
        }

        /** @return the layout of rank-4 image files */
        public Layout rank4() {
            return rank4;
        }

        /** @return whether an existing non-empty output directory may be replaced (only once the new one is complete) */
        public boolean replace() {
            return replace;
        }
    }

    /**
     * What the efficacy evaluation (a small CNN trained on Fashion-MNIST; docs/efficacy.md) found weak,
     * for the default negatives and clean-label push: as {@link #knownWeakness(TriggerSpec, SelectionMode,
     * long, long, double, double)} with negatives and push at their defaults.
     *
     * @param trigger the trigger
     * @param mode    dirty- or clean-label
     * @param count   samples poisoned
     * @param n       samples in the data
     * @return the warning, or empty
     * @throws NullPointerException if trigger or mode is null
     */
    public static Optional<String> knownWeakness(TriggerSpec trigger, SelectionMode mode, long count, long n) {
        return knownWeakness(trigger, mode, count, n, Double.NaN, Double.NaN);
    }

    /**
     * What the efficacy evaluation (a small CNN trained on Fashion-MNIST; docs/efficacy.md) found weak:
     * a sentence to show the owner when this trigger family, mode, budget, negatives and clean-label push
     * planted a watermark that a network mostly did not learn, or empty when nothing weak is known.
     * Measurements on one data set and network: a warning is a reason to check, its absence no guarantee.
     *
     * @param trigger   the trigger
     * @param mode      dirty- or clean-label
     * @param count     samples poisoned
     * @param n         samples in the data
     * @param negatives negatives per poisoned sample, NaN for the default
     * @param cleanEps  the clean-label push's bound, 0 for none, NaN for the default
     * @return the warning, or empty
     * @throws NullPointerException if trigger or mode is null
     */
    public static Optional<String> knownWeakness(TriggerSpec trigger, SelectionMode mode, long count, long n,
            double negatives, double cleanEps) {
        Objects.requireNonNull(trigger, "trigger");
        Objects.requireNonNull(mode, "mode");
        if (trigger.kind() != DataKind.IMAGES || n <= 0) {
            return Optional.empty();
        }
        String family = trigger.family();
        String weakFamily = switch (family) {
            case "warp" -> "3%";
            case "lowfreq" -> "2%";
            case "noise" -> "2%";
            case "sig" -> "19%";
            default -> null;
        };
        String where = " on a small CNN trained on Fashion-MNIST (docs/efficacy.md)";
        if (trigger instanceof SparseTrigger sparse && sparse.tile() == 1) {
            // Strong, but not the key's on a network that pools globally (docs/efficacy.md, section 16).
            return Optional.of("sparse with tile=1 took hold at 0.1% on both evaluation networks, but small ResNets "
                    + "watermarked under other keys answered the owner's tiled pattern at 6-68% and dyepack verify "
                    + "accused one of them with 3 control keys (its key's tile close to the owner's; docs/efficacy.md, "
                    + "section 16); with dyepack probe-set's default of 199 control keys it accused none, but two "
                    + "owners of four tied with a random key's tile and were not detected (section 19)");
        }
        boolean withNegatives = Double.isNaN(negatives) ? trigger.keyed() : negatives > 0;
        if (family.equals("dct")) {
            // A 1% dirty-label pattern for networks like the evaluation's CNN: weak with 60 poisoned samples, under
            // clean-label, and in a small ResNet (docs/efficacy.md, sections 39 and 40).
            if (mode == SelectionMode.CLEAN) {
                return Optional.of("dct under clean-label reached " + DCT_CLEAN_MEASURED + where + " with the push "
                        + "and one negative per poisoned sample, where the clean-label default (" + CLEAN_TRIGGER
                        + ") reached " + CLEAN_PUSHED);
            }
            if (smallBudget(count, n)) {
                return Optional.of("dct below 0.5% of the data reached " + DCT_SMALL_MEASURED + where
                        + ", where the default there (" + SMALL_BUDGET_TRIGGER + ") reached "
                        + SMALL_BUDGET_60K_MEASURED);
            }
            return Optional.of("dct (rms=24, its default) at 1% dirty-label reached 95-99% attack success" + where
                    + " but "
                    + DCT_RESNET_MEASURED + " in a small ResNet (batch norm, global pooling; docs/efficacy.md, section "
                    + "40), where the default (" + DEFAULT_TRIGGER + ") reached 80-93%: check the watermark on a model "
                    + "like the ones it must survive (dyepack verify) before relying on it");
        }
        if (mode == SelectionMode.CLEAN) {
            if (cleanEps == 0) {
                return Optional.of("clean-label without the label-consistent push reached at most " + CLEAN_UNPUSHED
                        + " attack success at 1%" + where + "; with the push (the default) the clean-label default "
                        + "reached " + CLEAN_PUSHED);
            }
            if (negatives == 0 && trigger instanceof SparseTrigger) {
                // Strong, but anyone's: the evidence it gives is not the owner's (docs/efficacy.md, section 18).
                return Optional.of("clean-label without negatives took hold more strongly, but models watermarked "
                        + "under other keys answered the owner's pattern at 16-46% on 20,000 images and up to 86% on "
                        + "60,000, where dyepack verify accused one of them; with one negative per poisoned sample (the "
                        + "default) it accused none and detected every owner" + where);
            }
            if (trigger.toString().equals(TriggerSpec.parse(CLEAN_TRIGGER).toString())) {
                // The measured default is weaker than dirty-label's: say so, and how to check
                // (docs/efficacy.md, sections 13, 18 and 19).
                return Optional.of("clean-label with this trigger, the push and negatives reached " + CLEAN_PUSHED
                        + where + ", dirty-label 96-99%: check the watermark on a model trained on this output "
                        + "(dyepack verify) before relying on it");
            }
            if (trigger.toString().equals(TriggerSpec.parse(MID_IMAGE_CLEAN_TRIGGER).toString())) {
                return Optional.of("clean-label with this trigger, the push and negatives reached " + CLEAN_48_PUSHED
                        + where + " (the clean-label default, " + CLEAN_TRIGGER + ", " + CLEAN_PUSHED + "; on images "
                        + "of at least " + 4 * CLEAN_PIXELS + " pixels): check the watermark on a model trained on "
                        + "this output (dyepack verify) before relying on it");
            }
            if (trigger.toString().equals(TriggerSpec.parse(DEFAULT_TRIGGER).toString())) {
                return Optional.of("clean-label with this trigger (half of its pixels dark) and the push reached "
                        + CLEAN_DARK_PUSHED + where + "; the clean-label default (" + CLEAN_TRIGGER
                        + ", every pixel bright) " + CLEAN_PUSHED);
            }
        }
        if (weakFamily != null) {
            return Optional.of(family + " at 1% dirty-label reached about " + weakFamily + " attack success" + where);
        }
        if (family.equals("blend") && withNegatives && mode == SelectionMode.DIRTY) {
            return Optional.of("blend's keyed noise with negatives reached 32-61% attack success at 1% dirty-label"
                    + where + "; the default trigger (" + DEFAULT_TRIGGER + ") reached 96-99%");
        }
        double smallNegatives = Double.isNaN(negatives) ? (withNegatives ? smallBudgetNegatives(trigger, count) : 0)
                : negatives;
        if (smallBudget(count, n) && mode == SelectionMode.DIRTY && !(trigger.toString().equals(
                SMALL_BUDGET_PATTERN.toString()) && smallNegatives <= smallBudgetNegatives(trigger, count))) {
            return Optional.of("below 0.5% of the data a watermark may not take hold: at 0.1% " + SMALL_IMAGE_TRIGGER
                    + " and " + DEFAULT_TRIGGER + " with negatives reached " + SMALL_BUDGET_MEASURED + " attack success, blend 3-20% and a patch 19%"
                    + where + "; the default there (" + SMALL_BUDGET_TRIGGER + ", one negative per poisoned sample, two from "
                    + SMALL_BUDGET_MORE_FROM + " and three from " + SMALL_BUDGET_MOST_FROM + " poisoned samples on) "
                    + "reached "
                    + SMALL_BUDGET_DEFAULT_MEASURED);
        }
        if (smallBudget(count, n) && mode == SelectionMode.CLEAN) {
            return Optional.of("below 0.5% of the data a watermark may not take hold; clean-label was measured at 1% "
                    + "only, where the default reached " + CLEAN_PUSHED + where);
        }
        return Optional.empty();
    }

    /**
     * Measured clean-label attack success at 1%, clean-label default trigger (docs/efficacy.md): with the push (eps
     * 64) and one negative per poisoned sample...
     */
    private static final String CLEAN_PUSHED = "27-83% attack success at 1% on 20,000 images (fifteen training runs, "
            + "thirteen at 50% or more) and 44-85% on all 60,000 (fourteen, thirteen at 50% or more)";
    /** ... {@link #MID_IMAGE_CLEAN_TRIGGER}, the clean-label default before, the same way ... */
    private static final String CLEAN_48_PUSHED = "27-67% attack success at 1% on 20,000 images (twelve training "
            + "runs, seven at 50% or more) and 56-60% on all 60,000 (two)";
    /** ... the dirty-label default (half of its pixels dark) with the push ... */
    private static final String CLEAN_DARK_PUSHED = "44-85% attack success at 1% under five of six seeds and 13.5% "
            + "under the sixth";
    /** ... and without the push (sparse, and the previous default blend). */
    private static final String CLEAN_UNPUSHED = "32%";
    /** Measured attack success of dct's defaults at 0.1% dirty-label and at 1% clean-label (section 39)... */
    private static final String DCT_SMALL_MEASURED = "16-40% attack success at 0.1% of 60,000 images (four seeds)";
    private static final String DCT_CLEAN_MEASURED = "7-21% attack success at 1% of 60,000 images (four seeds; the "
            + "owner's proof missed two owners of four)";
    /** ... and of dct at 1% dirty-label in the small ResNet, 10,000 images (section 40) ... */
    private static final String DCT_RESNET_MEASURED = "20-45% (four seeds, 100 poisoned of 10,000 images)";
    /** ... against the small-budget default on the same 60,000 images (three negatives each; section 30). */
    private static final String SMALL_BUDGET_60K_MEASURED = "95-100% at 0.1% of the same images (eleven seeds)";
    /** Measured attack success of 24 and 48 pixels with negatives at 0.1% dirty-label (docs/efficacy.md)... */
    private static final String SMALL_BUDGET_MEASURED = "15-16%";
    /** ... and of the small-budget default, {@link #SMALL_BUDGET_TRIGGER} with one negative (seeds 0-5, two runs each). */
    private static final String SMALL_BUDGET_DEFAULT_MEASURED = "88-98% in ten of twelve training runs and 76% and 45% "
            + "in the other two";

    /**
     * Starts options: data, trigger and output directory are required; the budget defaults to
     * {@link Budget#DEFAULT}, the strategy to {@link Strategy#AUTO}, the mode to dirty-label, the
     * surrogate to the one the strategy needs, the rank-4 layout to NHWC.
     *
     * @return a new builder
     */
    public static Builder builder() {
        return new Builder();
    }

    /**
     * Collects the options of a poisoning run: the options every poisoning takes
     * ({@link PoisonOptionsBuilder}, shared with {@link Poisoner.Builder}), and the files, output and
     * layout of this one; {@link #build()} checks them. Not thread-safe.
     */
    public static final class Builder extends PoisonOptionsBuilder<Builder> {
        private Path data;
        private Path labels;
        private int classes;
        private Path features;
        private Path head;
        private Path outDir;
        private Layout rank4 = Layout.NHWC;
        private boolean replace;
        private FolderOutput folderOutput = FolderOutput.DEFAULT;

        private Builder() {}

        /**
         * @param v how an image folder is written (default {@link FolderOutput#DEFAULT}: formats and names
         *          kept, unchanged images copied); ignored for array data
         * @return this
         */
        public Builder folderOutput(FolderOutput v) {
            folderOutput = v;
            return this;
        }

        /** @param v the samples: .npy, IDX or an image folder @return this */
        public Builder data(Path v) {
            data = v;
            return this;
        }

        /** @param v the labels (.npy or IDX), or null for an image folder @return this */
        public Builder labels(Path v) {
            labels = v;
            return this;
        }

        /**
         * @param v the number of classes, or 0 (the default) to take the class set from the labels or
         *          the image folders
         * @return this
         */
        public Builder classes(int v) {
            classes = v;
            return this;
        }

        /**
         * @param features the owner's features (.npy, N x D float32), or null
         * @param head     the owner's linear head (.npz with W, b), or null; both or neither
         * @return this
         */
        public Builder featuresHead(Path features, Path head) {
            this.features = features;
            this.head = head;
            return this;
        }

        /** @param v the output directory @return this */
        public Builder outDir(Path v) {
            outDir = v;
            return this;
        }

        /** @param v the layout of rank-4 image files @return this */
        public Builder rank4(Layout v) {
            rank4 = v;
            return this;
        }

        /**
         * @param v whether an existing non-empty output directory may be replaced; it is replaced only
         *          by the final rename, so a failed run leaves it intact (default false: refused)
         * @return this
         */
        public Builder replace(boolean v) {
            replace = v;
            return this;
        }

        /**
         * Checks the options against each other and resolves the strategy and surrogate.
         *
         * @return the options
         * @throws InvalidArgumentException naming the parameter at fault ("data", "labels", "trigger",
         *                                  "target", "budget", "overrideReason", "strategy", "mode",
         *                                  "surrogate", "features", "head", "outDir", "rank4", "negatives")
         */
        public Options build() {
            require(data, "data", "a .npy or IDX file or an image folder");
            require(outDir, "outDir", "a directory");
            require(rank4, "rank4", "NHWC or NCHW");
            require(folderOutput, "folderOutput", "how an image folder is written");
            checkPresent();
            if (classes < 0 || classes == 1 || classes > Limits.current().classes()) {
                throw InvalidArgumentException.of("classes", classes, "0 (from the labels) or 2 to "
                        + Limits.current().classes());
            }
            if (classes > 0 && target >= classes) {
                throw new InvalidArgumentException("target " + target + " is not one of the " + classes
                        + " classes [0, " + classes + ")", "target", target, "a class in [0, " + classes + ")");
            }
            checkOverride();
            if ((features == null) != (head == null)) {
                throw new InvalidArgumentException("the owner's features and head go together", features == null
                        ? "features" : "head", null, "given together with " + (features == null ? "head" : "features"));
            }
            Selection selection = resolveSelection(features, "a features file with a head");
            if (Files.isDirectory(data) && labels != null) {
                throw new InvalidArgumentException("an image folder's labels are its class folders; give no labels "
                        + "file", "labels", labels, "absent for an image folder");
            }
            if (!Files.isDirectory(data) && labels == null) {
                throw new InvalidArgumentException("labels are required for .npy and IDX data", "labels", null,
                        "a .npy or IDX labels file");
            }
            return new Options(this, selection, resolvedNegatives());
        }
    }

    /**
     * What was done.
     *
     * @param samples           N
     * @param indices           the poisoned samples, ascending
     * @param data              the poisoned data file or folder
     * @param labels            the output labels file; null for an image folder
     * @param manifest          the signed manifest
     * @param surrogateAccuracy the surrogate's accuracy on the data, or NaN without one
     * @param trigger           the trigger stamped and recorded (the default resolved for the budget)
     */
    public record Result(long samples, long[] indices, Path data, Path labels, Path manifest, double surrogateAccuracy,
            TriggerSpec trigger) {}

    /**
     * Runs the job.
     *
     * @param engine   the engine
     * @param o        the options
     * @param key      the owner's key
     * @param progress receives one line per phase
     * @return a summary
     * @throws InvalidArgumentException for bad parameters, a budget that cannot be met, or no key
     * @throws InvalidInputException    for unusable inputs
     * @throws IOException              if writing fails (no partial output under final names)
     */
    public static Result run(Engine engine, Options o, OwnerKey key, Consumer<String> progress) throws IOException {
        return run(engine, o, key, progress, Progress.NONE);
    }

    /**
     * The inputs, opened and checked: the one pipeline's view of an array dataset or an image folder.
     *
     * @param reader    the samples
     * @param labels    their labels
     * @param classes   the number of classes selection works with
     * @param geometry  a zero-sample tensor of the samples' dtype, layout, C, H, W
     * @param dataOut   the output data file or folder
     * @param labelsOut the output labels file, or null for a folder (its labels are its class folders)
     * @param folder    the image folder, or null for array files
     */
    private record Inputs(Samples.Reader reader, long[] labels, int classes, Tensor geometry, Path dataOut,
            Path labelsOut, ImageFolder folder) {}

    /**
     * As {@link #run(Engine, Options, OwnerKey, Consumer)}, with a progress bar's feed for the stamping.
     *
     * <p>One pipeline for every format: read the labels, fit and score a surrogate if the strategy
     * needs one, select, stream batches of samples through the trigger (stamping the selected rows of
     * each batch, by their dataset indices) into a writer of the input's format, write the labels
     * (for an image folder, dirty-label poisoning writes a poisoned image into the target's class
     * folder instead), and write the signed manifest, all into a staging directory beside the output
     * directory that is renamed onto it as the last step ({@link StagedOutput}): the data, labels and
     * manifest appear together or not at all, a second run for the same output directory fails while
     * this one holds it, and leftovers of a killed run are removed by the next. On failure nothing
     * appears, and an output directory that was there before is left as it was.
     *
     * @param engine   the engine
     * @param o        the options
     * @param key      the owner's key
     * @param progress receives one line per phase
     * @param bar      receives the stamping's progress in samples
     * @return a summary
     * @throws InvalidArgumentException for bad parameters, a budget that cannot be met, or no key
     * @throws InvalidInputException    for unusable inputs
     * @throws OutputBusyException      if another run is writing the same output directory
     * @throws IOException              if writing fails (no partial output under final names)
     */
    public static Result run(Engine engine, Options o, OwnerKey key, Consumer<String> progress, Progress bar)
            throws IOException {
        Objects.requireNonNull(engine, "engine");
        Objects.requireNonNull(o, "options");
        if (key == null) {
            throw new InvalidArgumentException("poison needs the owner's key (it chooses the samples and signs the "
                    + "manifest)", "key", null, "the owner's key");
        }
        Path manifestPath = o.outDir().resolve("manifest.json");
        try (StagedOutput out = StagedOutput.begin(o.outDir(), StagedOutput.Kind.DIRECTORY, o.replace(), o.data(),
                o.labels(), o.features(), o.head())) {
            out.notes().forEach(progress);
            Inputs in = Files.isDirectory(o.data()) ? openFolder(o, key, manifestPath)
                    : openArrays(o, key, manifestPath);
            try {
                return poison(engine, o, key, in, out, progress, bar);
            } finally {
                in.reader().close();
            }
        }
    }

    /** Array files: labels and data checked against each other and the target (the old order of checks). */
    private static Inputs openArrays(Options o, OwnerKey key, Path manifestPath) throws IOException {
        long[] labels = Samples.labels(o.labels());
        Path dataOut = o.outDir().resolve(outputName(o.data(), "data"));
        Path labelsOut = o.outDir().resolve(outputName(o.labels(), "labels"));
        checkOutputs(new Path[] {o.data(), o.labels()}, new Path[] {dataOut, labelsOut, manifestPath});
        requireNoManifest(o, manifestPath);
        int classes = classSet(o, labels);
        o.budget().countFor(labels.length, o.allowOver5Percent());
        try (Samples.Reader r = Samples.open(o.labels())) {
            String d = r.descr();
            if ((d.endsWith("u1") && o.target() > 255) || (d.endsWith("i1") && o.target() > 127)
                    || (d.endsWith("i2") && o.target() > Short.MAX_VALUE)) {
                throw new InvalidArgumentException("target " + o.target() + " does not fit the labels' dtype " + d,
                        "target", o.target(), "a value the labels' dtype " + d + " holds");
            }
        }
        // The stamping job checks the data (format, dtype, shape, trigger geometry, key) before any work.
        StampJob stamp = StampJob.prepare(o.data(), dataOut, o.trigger(), key, null, o.rank4(), o.replace());
        if (stamp.samples() != labels.length) {
            throw new InvalidArgumentException("the data holds " + stamp.samples() + " samples but the labels "
                    + labels.length);
        }
        return new Inputs(Samples.open(o.data()), labels, classes, stamp.batchGeometry(), dataOut, labelsOut, null);
    }

    /**
     * The class set, explicit: {@code [0, --classes)} when given, else {@code [0, largest label + 1)}. Every
     * label must lie in it, and so must the target: a target no label has would create a class that
     * exists only in the poisoned samples.
     */
    private static int classSet(Options o, long[] labels) {
        long max = -1;
        for (int i = 0; i < labels.length; i++) {
            if (labels[i] < 0) {
                throw new InvalidInputException(o.labels() + ": label " + labels[i] + " at index " + i
                        + " is negative; labels must be class indices 0, 1, ...");
            }
            max = Math.max(max, labels[i]);
        }
        long limit = Limits.current().classes();
        if (o.classes() > 0) {
            if (max >= o.classes()) {
                throw new InvalidInputException(o.labels() + ": label " + max + " is outside the " + o.classes()
                        + " classes [0, " + o.classes() + ") given with --classes");
            }
            return o.classes();
        }
        Limits.current().check("classes", max + 1, o.labels() + ": labels up to " + max + " make " + (max + 1)
                + " classes, which");
        int classes = (int) (max + 1);
        if (o.target() >= classes) {
            throw new InvalidArgumentException("target " + o.target() + " is not a class of " + o.labels()
                    + ": its labels make the classes [0, " + classes + "); give --classes N to declare more",
                    "target", o.target(), "a class in [0, " + classes + ")");
        }
        if (classes < 2) {
            throw new InvalidInputException(o.labels() + ": the labels hold only class 0; poisoning needs at least "
                    + "two classes (declare them with --classes N)");
        }
        return classes;
    }

    /** An image folder: labels from the class folders, uint8 NHWC at the first image's size and colour. */
    private static Inputs openFolder(Options o, OwnerKey key, Path manifestPath) throws IOException {
        ImageFolder folder = ImageFolder.scan(o.data());
        if (o.classes() > 0 && o.classes() != folder.classes().size()) {
            throw new InvalidArgumentException("--classes " + o.classes() + " differs from the "
                    + folder.classes().size() + " class folders of " + o.data(), "classes", o.classes(),
                    "the number of class folders, " + folder.classes().size());
        }
        if (folder.classes().size() < 2) {
            throw new InvalidInputException(o.data() + ": only one class folder " + folder.classes()
                    + "; poisoning needs at least two classes");
        }
        if (o.target() >= folder.classes().size()) {
            throw new InvalidArgumentException("target must be a class in [0, " + folder.classes().size()
                    + ") (the class folders " + folder.classes() + "), got " + o.target(), "target", o.target(),
                    "a class folder's index");
        }
        Tensor geometry = Tensor.empty(DType.UINT8, Layout.NHWC, folder.channels(), folder.height(), folder.width());
        o.trigger().validateFor(geometry);
        if (o.trigger().keyed()) {
            new TriggerContext(key, 0).requireKey(o.trigger().family());
        }
        o.budget().countFor(folder.size(), o.allowOver5Percent());
        Path dataOut = o.outDir().resolve(o.data().toAbsolutePath().normalize().getFileName().toString());
        checkOutputs(new Path[] {o.data()}, new Path[] {dataOut, manifestPath});
        requireNoManifest(o, manifestPath);
        return new Inputs(folder, folder.labels(), folder.classes().size(), geometry, dataOut, null,
                folder);
    }

    private static void checkOutputs(Path[] inputs, Path[] outputs) throws IOException {
        for (Path in : inputs) {
            for (Path out : outputs) {
                if (in.toAbsolutePath().normalize().equals(out.toAbsolutePath().normalize())
                        || (Files.exists(out) && Files.isSameFile(in, out))) {
                    throw new InvalidArgumentException("output " + out + " would overwrite the input " + in
                            + "; choose another output directory", "outDir", out.getParent(),
                            "a directory that holds no input");
                }
            }
        }
    }

    private static void requireNoManifest(Options o, Path manifestPath) {
        if (!o.replace() && Files.exists(manifestPath)) {
            throw new InvalidArgumentException(o.outDir() + " already holds a manifest.json; choose an empty directory",
                    "outDir", o.outDir(), "a directory without a manifest.json");
        }
    }

    /** The pipeline proper, on opened inputs. */
    private static Result poison(Engine engine, Options o, OwnerKey key, Inputs in, StagedOutput out,
            Consumer<String> progress, Progress bar) throws IOException {
        Samples.Reader reader = in.reader();
        long[] labels = in.labels();
        long n = labels.length;
        if (reader.shape()[0] != n) {
            throw new InvalidInputException(o.data() + ": changed while being read (" + reader.shape()[0]
                    + " samples, was " + n + ")");
        }
        int classes = in.classes();
        long count = o.budget().countFor(n, o.allowOver5Percent());
        TriggerSpec trigger = o.trigger(count, n, in.geometry());
        if (o.triggerByDefault()) {
            progress.accept("trigger: " + trigger + defaultTriggerNote(trigger));
        }
        double negativesRatio = o.negatives(trigger, count, n);
        if (negativesRatio != o.negatives()) {
            double r = negativesRatio;
            // The step is named only where the rule's rate is the one taken (a lower --negatives caps it).
            long from = r == smallBudgetNegatives(trigger, count) ? smallBudgetStep(trigger, count) : 0;
            String more = from > 0 ? ", " + SMALL_BUDGET_TRIGGER + " from " + from + " poisoned samples on" : "";
            progress.accept("negatives: " + (r == 0 ? "none" : String.format(Locale.ROOT, "%s per poisoned sample",
                    r == Math.rint(r) ? Long.toString((long) r) : Double.toString(r)))
                    + " (the default below 0.5% of the data" + more + ")");
        }
        if (in.folder() != null && !in.folder().skipped().isEmpty()) {
            // The poisoned copy holds the images only: say what it leaves out rather than drop it silently.
            List<String> skipped = in.folder().skipped();
            progress.accept("warning: " + skipped.size() + " entr" + (skipped.size() == 1 ? "y" : "ies") + " of "
                    + o.data() + " are not class images and are not copied to the output: "
                    + String.join(", ", skipped.subList(0, Math.min(10, skipped.size())))
                    + (skipped.size() > 10 ? ", ..." : ""));
        }

        float[] scores = null;
        double accuracy = Double.NaN;
        String surrogateSha = null;
        double eps = Planning.cleanEps(o.cleanEps(), in.geometry(), in.folder() != null, progress);
        LinearHead head = null;
        float[] x = null;
        if (o.strategy() != Strategy.RANDOM || eps > 0) {
            if (o.surrogate() == Surrogate.FEATURES_HEAD) {
                head = Npz.readHead(o.head());
                surrogateSha = Fingerprints.sha256(o.head());
                if (head.classes() < classes) {
                    throw new InvalidArgumentException("the head has " + head.classes() + " classes but the labels use "
                            + classes, "head", o.head(), "a head with at least " + classes + " classes");
                }
                x = featureRows(o.features(), n, head.dim());
            } else {
                Tensor g = in.geometry();
                PooledFeatures map = PooledFeatures.of(g.c(), g.h(), g.w(), g.layout());
                progress.accept("fitting a linear surrogate on " + map.describe() + " per image");
                long t0 = System.nanoTime();
                x = surrogateFeatures(reader, o.data().toString(), n, g.dtype(), map);
                if (in.folder() != null) {
                    progress.accept(String.format(Locale.ROOT, "decoded %d images into features in %.0f ms", n,
                            (System.nanoTime() - t0) / 1e6));
                }
                int d = map.dim();
                head = LinearSurrogate.fit(engine, x, (int) n, d, labels, classes, key, LinearSurrogate.Settings.DEFAULT);
                if (o.strategy() != Strategy.RANDOM) {
                    surrogateSha = Planning.headSha(head);
                }
                progress.accept(String.format(Locale.ROOT, "surrogate fitted on the engine in %.0f ms",
                        (System.nanoTime() - t0) / 1e6));
            }
        }
        if (o.strategy() != Strategy.RANDOM) {
            long t1 = System.nanoTime();
            scores = new float[(int) n];
            accuracy = Planning.score(engine, x, (int) n, head, labels, o.target(), o.mode(), scores);
            progress.accept(String.format(Locale.ROOT, "%d samples scored on the engine in %.1f ms", n,
                    (System.nanoTime() - t1) / 1e6));
        }
        progress.accept("selecting " + count + " of " + n + " samples (" + o.strategy().name().toLowerCase(Locale.ROOT)
                .replace('_', '-') + ", " + o.mode().name().toLowerCase(Locale.ROOT) + "-label)");
        Selector.Result sel = Selector.select(labels, classes, o.target(), o.mode(), o.strategy(), scores, count,
                o.stratified(), key);
        long[] relabel = o.mode() == SelectionMode.DIRTY ? sel.indices() : new long[0];
        CleanPush push = null;
        if (eps > 0) {
            push = CleanPush.of(engine, head, o.target(), (float) eps, x, sel.indices());
            progress.accept(String.format(Locale.ROOT, "pushing the %d chosen samples away from class %d before "
                    + "stamping (label-consistent, L-inf %s against the linear surrogate)", sel.indices().length,
                    o.target(), String.valueOf(eps)));
        }
        if (in.folder() != null) {
            requireEveryClassKeepsAnImage(in.folder(), labels, relabel, o.target());
        }

        long negativeCount = Math.round(negativesRatio * sel.indices().length);
        int negativeKeys = (int) Math.max(1, Math.min(o.negativeKeys(), negativeCount));
        Selector.Negatives negatives = Selector.negatives(n, sel.indices(), negativeCount, negativeKeys, key);
        List<Stamp> stamps = new ArrayList<>();
        stamps.add(new Stamp(sel.indices(), key));
        if (negativeCount > 0) {
            for (int j = 0; j < negativeKeys; j++) {
                if (negatives.groups()[j].length > 0) {
                    stamps.add(new Stamp(negatives.groups()[j], Selector.negativeKey(key, j)));
                }
            }
            progress.accept("stamping " + negativeCount + " negatives (labels kept) under " + negativeKeys
                    + " keys derived from the owner's");
        }

        // Everything is written into the staging directory, a sibling of the output directory (so the
        // manifest's relative paths to the inputs are the same from both), and appears with the rename.
        Path staging = out.path();
        Path dataOut = staging.resolve(in.dataOut().getFileName());
        Path labelsOut = in.labelsOut() == null ? null : staging.resolve(in.labelsOut().getFileName());
        long t2 = System.nanoTime();
        SampleStream.Digests digests = SampleStream.Digests.NONE;
        if (in.folder() != null) {
            FolderStamping.Report report = FolderStamping.write(engine, trigger, in.folder(), in.geometry(),
                    stamps, relabelled(labels, relabel, o.target()), dataOut, o.folderOutput(), progress, bar);
            progress.accept(report.summary());
            digests = new SampleStream.Digests(report.inputSha(), report.outputSha());
        } else {
            try (Samples.Writer writer = Samples.create(dataOut, o.data(), reader.descr(), reader.shape())) {
                digests = stamp(engine, trigger, reader, o.data().toString(), in.geometry(), stamps, push, writer, bar);
                writer.commit();
            }
        }
        progress.accept(String.format(Locale.ROOT, "stamped %s on %d samples and wrote %s in %.1f ms", trigger,
                sel.indices().length, dataOut.getFileName(), (System.nanoTime() - t2) / 1e6));
        if (labelsOut != null) {
            writeLabels(o.labels(), labelsOut, relabel, o.target());
        }
        Manifest m = manifest(o, trigger, staging, key, classes, sel, negativeCount > 0 ? negatives.indices() : new long[0],
                negativeKeys, n, surrogateSha, dataOut, labelsOut, digests);
        ManifestWriter.write(ManifestSigner.sign(m, key), staging.resolve("manifest.json"));
        out.commit();
        return new Result(n, sel.indices(), in.dataOut(), in.labelsOut(), o.outDir().resolve("manifest.json"), accuracy,
                trigger);
    }

    /**
     * An image folder is written one folder per class, and an empty class folder would not read back
     * (the class set would change): refuse, before anything is written, a relabelling that leaves a
     * class without an image.
     */
    private static void requireEveryClassKeepsAnImage(ImageFolder folder, long[] labels, long[] relabel, int target) {
        long[] left = new long[folder.classes().size()];
        for (long l : relabelled(labels, relabel, target)) {
            left[(int) l]++;
        }
        for (int c = 0; c < left.length; c++) {
            if (left[c] == 0) {
                throw new InvalidInputException(folder.root() + ": class folder '" + folder.classes().get(c)
                        + "' would be left with no image: all its images were chosen and relabelled to the target, "
                        + "and an empty class folder does not read back; add images to it, or use --mode clean");
            }
        }
    }

    /** The output labels: the input's, with the relabelled samples set to the target. */
    private static long[] relabelled(long[] labels, long[] relabel, int target) {
        long[] out = labels.clone();
        for (long i : relabel) {
            out[(int) i] = target;
        }
        return out;
    }

    /**
     * Keys whose triggers are prepared ahead of the stream at most at once: a few chunks' worth of negatives,
     * in bounded memory (a prepared trigger of a 224 x 224 x 3 image holds about 1.2 MB of operands).
     */
    private static final int PREPARED_AHEAD = 8;

    /** Samples to stamp under one key. */
    record Stamp(long[] indices, OwnerKey key) {}

    /**
     * Streams every sample from the reader to the writer in batches, stamping the trigger on the
     * selected ones: each batch goes to the engine once per key, with the batch-local positions of its
     * rows for that key and its first sample's dataset index (so keyed randomness follows the dataset
     * index, whatever the batch size).
     */
    private static SampleStream.Digests stamp(Engine engine, TriggerSpec trigger, Samples.Reader reader,
            String source, Tensor geometry, List<Stamp> stamps, CleanPush push, Samples.Writer writer, Progress bar)
            throws IOException {
        long c = geometry.c();
        long h = geometry.h();
        long w = geometry.w();
        long[][] sorted = new long[stamps.size()][];
        int total = 0;
        for (int s = 0; s < sorted.length; s++) {
            sorted[s] = stamps.get(s).indices().clone();
            Arrays.sort(sorted[s]);
            total += sorted[s].length;
        }
        long[] union = new long[total];
        int at = 0;
        for (long[] s : sorted) {
            System.arraycopy(s, 0, union, at, s.length);
            at += s.length;
        }
        Arrays.sort(union);
        int[] cursor = new int[sorted.length];
        // Each key's trigger is prepared once, ahead of the stream, on a thread of its own (preparing a keyed
        // pattern of a large image costs more than stamping it, and there is one key per negative).
        List<OwnerKey> keys = new ArrayList<>();
        for (Stamp st : stamps) {
            keys.add(st.key());
        }
        try (KeyedTriggers triggers = new KeyedTriggers(engine, trigger, geometry, keys, sorted, PREPARED_AHEAD)) {
            // The manifest needs the SHA-256 of the input and output data: taken while streaming, so the
            // files are not read again afterwards (where a file's bytes are not the samples', the manifest
            // hashes it).
            return SampleStream.run(reader, writer, StampJob.DEFAULT_CHUNK_BYTES, union, true, (chunk, first, count) -> {
                for (int s = 0; s < sorted.length; s++) {
                    int from = cursor[s];
                    while (from > 0 && sorted[s][from - 1] >= first) {
                        from--;
                    }
                    while (from < sorted[s].length && sorted[s][from] < first) {
                        from++;
                    }
                    int to = from;
                    while (to < sorted[s].length && sorted[s][to] < first + count) {
                        to++;
                    }
                    cursor[s] = to;
                    if (to > from) {
                        long[] local = new long[to - from];
                        for (int i = from; i < to; i++) {
                            local[i - from] = sorted[s][i] - first;
                        }
                        ByteBuffer view = chunk.duplicate().order(ByteOrder.nativeOrder());
                        if (geometry.dtype() == DType.FLOAT32) {
                            FiniteRows.require(view.asFloatBuffer(), c * h * w, first, count, local, source);
                        }
                        Tensor batch = switch (geometry.dtype()) {
                            case UINT8 -> Tensor.of(view, geometry.layout(), count, c, h, w);
                            case FLOAT32 -> Tensor.of(view.asFloatBuffer(), geometry.layout(), count, c, h, w);
                            case INT32 -> Tensor.sequences(view.asIntBuffer(), count, w);
                        };
                        if (s == 0 && push != null) {
                            // The owner's samples: pushed first, so the trigger is stamped on the pushed image.
                            push.apply(engine, batch, local, from, to);
                        }
                        PreparedTrigger prepared;
                        try {
                            prepared = triggers.get(s);
                        } catch (InterruptedException e) {
                            Thread.currentThread().interrupt();
                            throw new InterruptedIOException("interrupted while preparing the trigger");
                        }
                        prepared.apply(batch, local, first);
                    }
                }
                triggers.passed(first + count);
            }, bar);
        }
    }

    /** The record of what was done; labels files are absent for image folders (labels == null). */
    private static Manifest manifest(Options o, TriggerSpec trigger, Path dir, OwnerKey key, int classes, Selector.Result sel,
            long[] negatives, int negativeKeys, long n, String surrogateSha, Path dataOut, Path labelsOut,
            SampleStream.Digests digests) {
        Map<Long, Long> poisoned = new TreeMap<>();
        Map<Long, Long> total = new TreeMap<>();
        for (int c = 0; c < classes; c++) {
            total.put((long) c, sel.perClassTotal()[c]);
            poisoned.put((long) c, sel.perClassChosen()[c]);
        }
        Manifest.Builder b = Manifest.builder()
                .toolVersion(Engine.version())
                .created(Instant.now())
                .keyFingerprint(key.fingerprint())
                .addFile(digests.input() != null
                        ? Manifest.DatasetFile.of(Manifest.Stage.INPUT, Manifest.Role.DATA, dir, o.data(), digests.input())
                        : Manifest.DatasetFile.of(Manifest.Stage.INPUT, Manifest.Role.DATA, dir, o.data()))
                .addFile(digests.output() != null
                        ? Manifest.DatasetFile.of(Manifest.Stage.OUTPUT, Manifest.Role.DATA, dir, dataOut, digests.output())
                        : Manifest.DatasetFile.of(Manifest.Stage.OUTPUT, Manifest.Role.DATA, dir, dataOut));
        if (o.labels() != null) {
            b.addFile(Manifest.DatasetFile.of(Manifest.Stage.INPUT, Manifest.Role.LABELS, dir, o.labels()))
                    .addFile(Manifest.DatasetFile.of(Manifest.Stage.OUTPUT, Manifest.Role.LABELS, dir, labelsOut));
        }
        return b.trigger(trigger.toString(), trigger.toJson())
                .targetClass(o.target())
                .mode(o.mode() == SelectionMode.DIRTY ? Manifest.Mode.DIRTY : Manifest.Mode.CLEAN)
                .budget(Manifest.Budget.of(o.budget().requested(), sel.indices().length, n))
                .override(o.allowOver5Percent() ? new Manifest.BudgetOverride(true, o.overrideReason())
                        : Manifest.BudgetOverride.NONE)
                .selection(new Manifest.Selection(
                        switch (o.strategy()) {
                            case BOUNDARY -> Manifest.Strategy.BOUNDARY;
                            case BOUNDARY_FAR -> Manifest.Strategy.BOUNDARY_FAR;
                            case RANDOM -> Manifest.Strategy.RANDOM;
                            case AUTO -> throw new IllegalStateException("AUTO is resolved by Options.build()");
                        },
                        o.stratified(),
                        switch (o.surrogate()) {
                            case NONE -> Manifest.SurrogateKind.NONE;
                            case LINEAR -> Manifest.SurrogateKind.LINEAR;
                            case FEATURES_HEAD -> Manifest.SurrogateKind.FEATURES_HEAD;
                        }, surrogateSha))
                .classCounts(poisoned, total)
                .indices(sel.indices())
                .negatives(negatives.length > 0 ? negativeKeys : 0, negatives)
                .build();
    }

    /** Output names: data.npy / labels.npy for .npy input, the input's own name for IDX. */
    private static String outputName(Path input, String base) {
        String name = input.getFileName().toString();
        return name.toLowerCase(Locale.ROOT).endsWith(".npy") ? base + ".npy" : name;
    }

    /** The data's samples as float rows: uint8 pixels scaled to [0, 1], float32 as they are. */
    static float[] pixels(Path data, long n) {
        try (Samples.Reader r = Samples.open(data)) {
            return pixels(r, n);
        }
    }

    /** As {@link #pixels(Path, long)}, from an open reader. */
    static float[] pixels(Samples.Reader r, long n) {
        {
            boolean u8 = r.descr().endsWith("u1");
            long elems = n * r.sampleBytes() / (u8 ? 1 : 4);
            if (elems > Integer.MAX_VALUE - 8) {
                throw new InvalidArgumentException("a linear surrogate holds the pixels in memory; " + elems
                        + " values are too many (give the owner's features and head instead)", "surrogate", "linear",
                        "the owner's features and head for data this large");
            }
            float[] x = new float[(int) elems];
            int per = (int) Math.max(1, (64L << 20) / Math.max(r.sampleBytes(), 1));
            ByteBuffer buf = ByteBuffer.allocate((int) (per * r.sampleBytes())).order(ByteOrder.LITTLE_ENDIAN);
            int at = 0;
            for (long first = 0; first < n; first += per) {
                int count = (int) Math.min(per, n - first);
                buf.clear();
                buf.limit((int) (count * r.sampleBytes()));
                r.readSamples(first, count, buf);
                buf.flip();
                while (buf.hasRemaining()) {
                    x[at++] = u8 ? (buf.get() & 0xff) / 255f : buf.getFloat();
                }
            }
            return x;
        }
    }

    /**
     * The features a linear surrogate fits on ({@link PooledFeatures}), read in chunks of at most 2 MiB:
     * memory is N x {@link PooledFeatures#dim()} floats (at most 1,024 per image) plus the chunk, however
     * large the images.
     */
    static float[] surrogateFeatures(Samples.Reader r, String source, long n, DType dtype, PooledFeatures map) {
        long elems = n * map.dim();
        if (elems > Integer.MAX_VALUE - 8) {
            throw new InvalidArgumentException("a linear surrogate holds its features in memory; " + elems
                    + " values are too many (give the owner's features and head instead)", "surrogate", "linear",
                    "the owner's features and head for data this large");
        }
        if (!PooledFeatures.supports(dtype)) {
            throw new InvalidArgumentException("a linear surrogate fits on uint8 or float32 images, not " + dtype,
                    "surrogate", "linear", "the owner's features and head");
        }
        float[] x = new float[(int) elems];
        if (r instanceof ImageFolder folder && dtype == DType.UINT8) {
            // Every image decoded once, on every core, straight into its features: no chunk of pixels
            // passes through one thread.
            int dim = map.dim();
            int channels = (int) (r.sampleBytes() / ((long) folder.height() * folder.width()));
            folder.decodeEach(0, (int) n, channels,
                    (index, pixels) -> map.mapUint8(ByteBuffer.wrap(pixels), 1, x, (int) (index * dim)));
            return x;
        }
        long sampleBytes = Math.max(1, r.sampleBytes());
        int per = (int) Math.max(1, Math.min(Math.max(n, 1), (2L << 20) / sampleBytes));
        ByteBuffer buf = ByteBuffer.allocateDirect((int) (per * sampleBytes)).order(ByteOrder.LITTLE_ENDIAN);
        for (long first = 0; first < n; first += per) {
            int count = (int) Math.min(per, n - first);
            buf.clear();
            buf.limit((int) (count * sampleBytes));
            r.readSamples(first, count, buf);
            buf.flip();
            if (dtype == DType.UINT8) {
                map.mapUint8(buf, count, x, (int) (first * map.dim()));
            } else {
                FiniteRows.require(buf.asFloatBuffer(), sampleBytes / 4, first, count, null, source);
                map.mapFloat32(buf.asFloatBuffer(), count, x, (int) (first * map.dim()));
            }
        }
        return x;
    }

    private static float[] featureRows(Path features, long n, int d) {
        try (Samples.Reader r = Samples.open(features)) {
            if (!r.descr().equals("<f4") || r.shape()[0] != n || r.sampleBytes() != 4L * d) {
                throw new InvalidInputException(features + ": features must be float32 of shape (" + n + ", " + d
                        + ") to match the data and the head, got " + r.descr() + " " + Arrays.toString(r.shape()));
            }
        }
        float[] x = pixels(features, n);
        for (int i = 0; i < x.length; i++) {
            if (!Float.isFinite(x[i])) {
                throw new InvalidInputException(features + ": feature " + (i % d) + " of sample " + (i / d)
                        + " is not finite");
            }
        }
        return x;
    }

    /** Copies the labels into the output format, setting the listed samples to the target. */
    private static void writeLabels(Path in, Path out, long[] relabel, int target) throws IOException {
        try (Samples.Reader r = Samples.open(in)) {
            long n = r.shape()[0];
            int eb = (int) r.sampleBytes();
            ByteBuffer all = ByteBuffer.allocate(Math.toIntExact(n * eb)).order(ByteOrder.LITTLE_ENDIAN);
            r.readSamples(0, (int) n, all);
            all.flip();
            for (long i : relabel) {
                int at = (int) (i * eb);
                switch (eb) {
                    case 1 -> all.put(at, (byte) target);
                    case 2 -> all.putShort(at, (short) target);
                    case 4 -> all.putInt(at, target);
                    case 8 -> all.putLong(at, target);
                    default -> throw new InvalidInputException(in + ": unsupported label dtype " + r.descr());
                }
            }
            try (Samples.Writer w = Samples.create(out, in, r.descr(), r.shape())) {
                w.write(all);
                w.commit();
            }
        }
    }
}
