package dev.dyepack.trigger;

import dev.dyepack.InvalidArgumentException;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * The fields of one spec string, read with their types and ranges. Every error names the family,
 * the field, the value given and what is allowed.
 */
final class SpecFields {
    private final String family;
    private final Map<String, String> raw;

    SpecFields(String family, Map<String, String> raw, String... allowed) {
        this.family = family;
        this.raw = raw;
        List<String> names = Arrays.asList(allowed);
        for (String key : raw.keySet()) {
            if (!names.contains(key)) {
                throw new InvalidArgumentException(family + ": unknown field '" + key + "' (allowed: "
                        + String.join(", ", allowed) + ")");
            }
        }
    }

    boolean has(String key) {
        return raw.containsKey(key);
    }

    private InvalidArgumentException bad(String key, String what) {
        return new InvalidArgumentException(family + ": " + key + " must be " + what + ", got '" + raw.get(key) + "'");
    }

    int integer(String key, int def, int min, int max) {
        if (!has(key)) {
            return def;
        }
        try {
            int v = Integer.parseInt(raw.get(key));
            if (v < min || v > max) {
                throw bad(key, "an integer in [" + min + ", " + max + "]");
            }
            return v;
        } catch (NumberFormatException e) {
            throw bad(key, "an integer in [" + min + ", " + max + "]");
        }
    }

    float number(String key, float def, float min, float max) {
        if (!has(key)) {
            return def;
        }
        String range = min == -Float.MAX_VALUE && max == Float.MAX_VALUE ? "a finite number"
                : min > 0f && max == Float.MAX_VALUE ? "a positive number"
                : min == 0f && max == Float.MAX_VALUE ? "a non-negative number"
                : "a number in [" + SpecFormat.number(min) + ", " + SpecFormat.number(max) + "]";
        try {
            float v = Float.parseFloat(raw.get(key));
            if (!Float.isFinite(v) || v < min || v > max) {
                throw bad(key, range);
            }
            return v;
        } catch (NumberFormatException e) {
            throw bad(key, range);
        }
    }

    <E extends Enum<E>> E choice(String key, E def, Class<E> type) {
        if (!has(key)) {
            return def;
        }
        String v = raw.get(key).toUpperCase(Locale.ROOT);
        for (E e : type.getEnumConstants()) {
            if (e.name().equals(v)) {
                return e;
            }
        }
        throw bad(key, "one of " + String.join(", ", Arrays.stream(type.getEnumConstants())
                .map(e -> e.name().toLowerCase(Locale.ROOT)).toList()));
    }

    String text(String key, String def) {
        if (!has(key)) {
            return def;
        }
        String v = raw.get(key);
        if (v.isEmpty()) {
            throw bad(key, "non-empty");
        }
        return v;
    }

    /** A '+'-separated list of integers, each in [min, max]. */
    long[] longs(String key, long[] def, long min, long max) {
        if (!has(key)) {
            return def;
        }
        String what = "a '+'-separated list of integers in [" + min + ", " + max + "]";
        String[] parts = raw.get(key).split("\\+", -1);
        long[] out = new long[parts.length];
        for (int i = 0; i < parts.length; i++) {
            try {
                out[i] = Long.parseLong(parts[i].trim());
            } catch (NumberFormatException e) {
                throw bad(key, what);
            }
            if (out[i] < min || out[i] > max) {
                throw bad(key, what);
            }
        }
        return out;
    }

    /** A '+'-separated list of finite numbers. */
    float[] floats(String key, float[] def) {
        if (!has(key)) {
            return def;
        }
        String[] parts = raw.get(key).split("\\+", -1);
        float[] out = new float[parts.length];
        for (int i = 0; i < parts.length; i++) {
            try {
                out[i] = Float.parseFloat(parts[i].trim());
            } catch (NumberFormatException e) {
                throw bad(key, "a '+'-separated list of numbers");
            }
            if (!Float.isFinite(out[i])) {
                throw bad(key, "a '+'-separated list of finite numbers");
            }
        }
        return out;
    }
}
