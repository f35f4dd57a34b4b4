package dev.dyepack.trigger;

import dev.dyepack.Engine;
import dev.dyepack.InvalidArgumentException;
import dev.dyepack.Tensor;
import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;

/**
 * An immutable, parsed trigger: a family and its parameters, written {@code family:key=value,...}
 * (for example {@code patch:size=3,pos=br,value=255}). {@link #toString()} gives the canonical spec
 * with every parameter, which parses back to an equal trigger.
 */
public sealed interface TriggerSpec permits PatchTrigger {

    /** @return the family name, e.g. "patch" */
    String family();

    /**
     * Checks that this trigger fits images of the given geometry and dtype, without touching data.
     *
     * @param batch the batch it would be applied to
     * @throws InvalidArgumentException naming the parameter that does not fit
     */
    void validateFor(Tensor batch);

    /**
     * Stamps the trigger, in place, on the selected samples of a batch.
     *
     * @param engine  the engine to run on
     * @param batch   the images
     * @param indices the samples to change (each once, in [0, N)); null for all
     * @throws InvalidArgumentException if the trigger does not fit the batch or an index is bad
     */
    void apply(Engine engine, Tensor batch, long[] indices);

    /**
     * @return the canonical spec string
     */
    @Override
    String toString();

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
        Map<String, String> fields = fields(family, colon < 0 ? "" : s.substring(colon + 1));
        return switch (family) {
            case PatchTrigger.FAMILY -> PatchTrigger.fromFields(fields);
            default -> throw new InvalidArgumentException("unknown trigger family '" + family
                    + "' (this version knows: " + PatchTrigger.FAMILY + ")");
        };
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
}
