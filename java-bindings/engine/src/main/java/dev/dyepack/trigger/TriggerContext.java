package dev.dyepack.trigger;

import dev.dyepack.InvalidArgumentException;
import dev.dyepack.Parameters;
import dev.dyepack.key.OwnerKey;

/**
 * What a trigger needs besides the batch: the owner's key (for keyed families) and the dataset index
 * of the batch's first sample, so that per-sample randomness depends on each sample's place in the
 * whole dataset and never on how the data was batched.
 *
 * @param key         the owner's key, or null when none was given
 * @param firstSample the dataset index of sample 0 of the batch, &gt;= 0
 */
public record TriggerContext(OwnerKey key, long firstSample) {

    /** @throws InvalidArgumentException if firstSample is negative */
    public TriggerContext {
        if (firstSample < 0) {
            throw InvalidArgumentException.of("firstSample", firstSample, ">= 0");
        }
    }

    /** @return a context with no key, for keyless triggers on a batch that starts the dataset */
    public static TriggerContext keyless() {
        return new TriggerContext(null, 0);
    }

    /**
     * @param key the owner's key (may be null)
     * @return a context for a batch that starts the dataset
     */
    public static TriggerContext of(OwnerKey key) {
        return new TriggerContext(key, 0);
    }

    /**
     * @param first the dataset index of the next batch's sample 0
     * @return this context for a batch starting at {@code first}
     */
    public TriggerContext at(long first) {
        return new TriggerContext(key, first);
    }

    /**
     * The key, for a family that needs one.
     *
     * @param family the trigger family asking
     * @return the key
     * @throws InvalidArgumentException when no key was given: keyless use of a keyed family is an
     *                                  error, never a silent default key
     */
    public OwnerKey requireKey(String family) {
        if (key == null) {
            throw new InvalidArgumentException("trigger '" + family + "' is keyed: it needs the owner's key",
                    Parameters.KEY, null, "the owner's key");
        }
        return key;
    }
}
