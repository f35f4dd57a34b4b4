package dev.dyepack.trigger;

import dev.dyepack.DType;
import dev.dyepack.Engine;
import dev.dyepack.InvalidArgumentException;
import dev.dyepack.Tensor;
import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.nio.file.Path;

/**
 * An immutable, parsed trigger: a family and its parameters, written {@code family:key=value,...}
 * (lists inside a value are joined with {@code +}). {@code toString()} gives the canonical spec with
 * every parameter, which parses back to an equal trigger; {@link #toJson()} the form the manifest
 * records. Formulas, parameters, defaults and sources: {@code docs/triggers.md}.
 *
 * <ul>
 *   <li>{@code patch} (BadNets): a square of a solid, checkerboard, keyed-random or image pattern at a
 *       corner, an offset, the centre, or a keyed-random position per sample;</li>
 *   <li>{@code blend} (Blended): a full-size keyed-noise or image pattern mixed in at {@code alpha};</li>
 *   <li>{@code sig}: a sinusoidal signal added along columns or rows;</li>
 *   <li>{@code lowfreq}: a sum of low-frequency DCT basis functions added in RGB or in YUV's chroma;</li>
 *   <li>{@code warp} (WaNet): a smooth keyed warping field;</li>
 *   <li>{@code noise}: sample-specific keyed noise bounded by {@code eps}, generated in the kernel;</li>
 *   <li>{@code sparse}: a keyed set of pixels pushed to keyed bright or dark values, anywhere or in a
 *       keyed square;</li>
 *   <li>{@code dct}: keyed signs over a band of low-frequency DCT basis functions, added;</li>
 *   <li>{@code tokens}: trigger token ids written into int32 sequences;</li>
 *   <li>{@code columns}: chosen columns of float32 rows set or shifted.</li>
 * </ul>
 */
public sealed interface TriggerSpec permits PatchTrigger, BlendTrigger, SigTrigger, LowFreqTrigger, WarpTrigger,
        NoiseTrigger, SparseTrigger, DctTrigger, TokenTrigger, ColumnTrigger {

    /** @return the family name, e.g. "patch" */
    String family();

    /** @return the kind of data the family applies to */
    DataKind kind();

    /** @return whether applying it needs the owner's key */
    boolean keyed();

    /** @return every parameter, in canonical order (null values are omitted from the forms) */
    Map<String, Object> parameters();

    /**
     * Checks that this trigger fits a batch's geometry and dtype, without touching data.
     *
     * @param batch the batch it would be applied to (its N may be 0)
     * @throws InvalidArgumentException naming the parameter that does not fit
     */
    void validateFor(Tensor batch);

    /**
     * Computes, once, everything this trigger needs from the key and the geometry (subkeys, patterns,
     * masks, signals, grids, the decoded picture) for batches shaped like {@code template}.
     *
     * @param engine   the engine the prepared trigger will run on
     * @param template a batch (any N, 0 included) with the dtype, layout and per-sample shape of the
     *                 batches to come
     * @param context  the owner's key (its firstSample is not used: each apply gives its own)
     * @return the prepared trigger; close it when done
     * @throws InvalidArgumentException if the trigger does not fit the template or a keyed family has
     *                                  no key
     * @throws dev.dyepack.InvalidInputException if a pattern picture cannot be read or decoded
     */
    PreparedTrigger prepare(Engine engine, Tensor template, TriggerContext context);

    /**
     * Stamps the trigger, in place, on the selected samples of a batch: {@link #prepare} then one
     * {@link PreparedTrigger#apply}. To stamp many batches, prepare once instead.
     *
     * @param engine  the engine to run on
     * @param batch   the data
     * @param indices the samples to change (each once, in [0, N)); null for all
     * @param context the owner's key and the batch's place in the dataset
     * @throws InvalidArgumentException if the trigger does not fit, an index is bad, or a keyed
     *                                  family has no key
     * @throws dev.dyepack.InvalidInputException if a pattern picture cannot be read or decoded
     */
    default void apply(Engine engine, Tensor batch, long[] indices, TriggerContext context) {
        Objects.requireNonNull(context, "context");
        try (PreparedTrigger prepared = prepare(engine, batch, context)) {
            prepared.apply(batch, indices, context.firstSample());
        }
    }

    /**
     * The pattern picture this trigger reads, for the image patterns of {@code patch} and {@code blend}.
     *
     * @return the file, or empty
     */
    default Optional<Path> patternImage() {
        return Optional.empty();
    }

    /**
     * The SHA-256 of the pattern picture's bytes as they are now, which the manifest records next to
     * the spec so that a proof names the exact picture.
     *
     * @return lower-case hex, or empty when the trigger has no picture
     * @throws dev.dyepack.InvalidInputException if the picture cannot be read
     */
    default Optional<String> patternImageSha256() {
        return patternImage().map(Patterns::sha256);
    }

    /**
     * Stamps a keyless trigger on a batch that starts the dataset.
     *
     * @param engine  the engine
     * @param batch   the data
     * @param indices the samples to change, or null for all
     * @throws InvalidArgumentException as {@link #apply(Engine, Tensor, long[], TriggerContext)}
     */
    default void apply(Engine engine, Tensor batch, long[] indices) {
        apply(engine, batch, indices, TriggerContext.keyless());
    }

    /**
     * The JSON object recorded in manifests: the family, every parameter, and for a pattern picture
     * its {@code "image_sha256"}.
     *
     * @return the object
     * @throws dev.dyepack.InvalidInputException if a pattern picture cannot be read to hash it
     */
    default String toJson() {
        Map<String, Object> p = new LinkedHashMap<>(parameters());
        patternImageSha256().ifPresent(sha -> p.put("image_sha256", sha));
        return SpecFormat.json(family(), p);
    }

    /**
     * Parses a spec string.
     *
     * @param spec {@code family:key=value,...}; a family alone takes every default
     * @return the trigger
     * @throws InvalidArgumentException naming the bad family, field or value and the allowed ones
     */
    static TriggerSpec parse(String spec) {
        if (spec == null || spec.isBlank()) {
            throw new InvalidArgumentException("empty trigger spec; expected family:key=value,... e.g. "
                    + "patch:size=3,pos=br,value=255");
        }
        String s = spec.trim();
        int colon = s.indexOf(':');
        String family = (colon < 0 ? s : s.substring(0, colon)).trim().toLowerCase(Locale.ROOT);
        TriggerFamily descriptor = TriggerFamily.named(family);
        return descriptor.parse(fields(family, colon < 0 ? "" : s.substring(colon + 1)));
    }

    private static Map<String, String> fields(String family, String body) {
        Map<String, String> out = new LinkedHashMap<>();
        if (body.isBlank()) {
            return out;
        }
        for (String part : body.split(",", -1)) {
            int eq = part.indexOf('=');
            if (eq <= 0) {
                throw new InvalidArgumentException(family + ": expected key=value, got '" + part.trim() + "'");
            }
            String key = part.substring(0, eq).trim().toLowerCase(Locale.ROOT);
            String value = part.substring(eq + 1).trim();
            if (out.put(key, value) != null) {
                throw new InvalidArgumentException(family + ": field '" + key + "' is given twice");
            }
        }
        return out;
    }

    /**
     * Checks that a batch holds images (uint8 or float32), for the image families.
     *
     * @param family the family asking
     * @param batch  the batch
     * @throws InvalidArgumentException otherwise
     */
    static void requireImages(String family, Tensor batch) {
        if (batch.dtype() == DType.INT32) {
            throw new InvalidArgumentException(family + ": needs uint8 or float32 images, got int32 data");
        }
    }

    /**
     * The largest value a pattern may take in a batch's units: 255 for uint8, unbounded for float32.
     *
     * @param batch the batch
     * @return the bound
     */
    static float maxValue(Tensor batch) {
        return batch.dtype() == DType.UINT8 ? 255f : Float.MAX_VALUE;
    }
}
