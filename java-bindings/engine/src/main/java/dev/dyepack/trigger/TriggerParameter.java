package dev.dyepack.trigger;

import dev.dyepack.InvalidArgumentException;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * One parameter of a trigger family: its name in spec strings, its type and allowed values, its
 * default and a one-line meaning. The same definition reads the field from a spec string and checks
 * the value a record constructor is given, so every trigger that can be constructed prints a spec
 * that parses back to an equal trigger. Immutable.
 */
public final class TriggerParameter {

    /** The value types a parameter can have. */
    public enum Type {
        /** an int in [min, max] */
        INTEGER,
        /** a finite float in [min, max] */
        NUMBER,
        /** one of a fixed set of lower-case words */
        CHOICE,
        /** a picture file path (no ',' and no surrounding spaces, so the spec stays parseable) */
        FILE,
        /** a '+'-separated list of integers, each in [min, max] */
        INTEGERS,
        /** a '+'-separated list of finite numbers */
        NUMBERS,
        /** a '+'-separated list of UxV integer pairs, each in [min, max] */
        PAIRS,
        /** one of a fixed set of words, or an integer index in [min, max] */
        CHOICE_OR_INDEX
    }

    private final String name;
    private final Type type;
    private final String defaultText;
    private final double min;
    private final double max;
    private final List<String> choices;
    private final String doc;

    private TriggerParameter(String name, Type type, String defaultText, double min, double max, List<String> choices,
            String doc) {
        this.name = name;
        this.type = type;
        this.defaultText = defaultText;
        this.min = min;
        this.max = max;
        this.choices = List.copyOf(choices);
        this.doc = doc;
    }

    static TriggerParameter integer(String name, String def, int min, int max, String doc) {
        return new TriggerParameter(name, Type.INTEGER, def, min, max, List.of(), doc);
    }

    static TriggerParameter number(String name, String def, float min, float max, String doc) {
        return new TriggerParameter(name, Type.NUMBER, def, min, max, List.of(), doc);
    }

    static TriggerParameter choice(String name, String def, Class<? extends Enum<?>> type, String doc) {
        return new TriggerParameter(name, Type.CHOICE, def, 0, 0, Arrays.stream(type.getEnumConstants())
                .map(e -> e.name().toLowerCase(Locale.ROOT)).toList(), doc);
    }

    static TriggerParameter file(String name, String def, String doc) {
        return new TriggerParameter(name, Type.FILE, def, 0, 0, List.of(), doc);
    }

    static TriggerParameter integers(String name, String def, long min, long max, String doc) {
        return new TriggerParameter(name, Type.INTEGERS, def, min, max, List.of(), doc);
    }

    static TriggerParameter numbers(String name, String def, String doc) {
        return new TriggerParameter(name, Type.NUMBERS, def, -Float.MAX_VALUE, Float.MAX_VALUE, List.of(), doc);
    }

    static TriggerParameter pairs(String name, String def, String doc) {
        int min = 0;
        int max = Integer.MAX_VALUE;
        return new TriggerParameter(name, Type.PAIRS, def, min, max, List.of(), doc);
    }

    static TriggerParameter choiceOrIndex(String name, String def, List<String> words, int min, int max, String doc) {
        return new TriggerParameter(name, Type.CHOICE_OR_INDEX, def, min, max, words, doc);
    }

    /** @return the field's name in spec strings */
    public String name() {
        return name;
    }

    /** @return the value type */
    public Type type() {
        return type;
    }

    /** @return the default as written in docs ("required" when the field must be given) */
    public String defaultText() {
        return defaultText;
    }

    /** @return the lower-case words a choice allows (empty for other types) */
    public List<String> choices() {
        return choices;
    }

    /** @return the one-line meaning */
    public String doc() {
        return doc;
    }

    /** @return what the field allows, in words, as error messages and the help print it */
    public String allowed() {
        return switch (type) {
            case INTEGER -> "an integer in [" + (long) min + ", " + (long) max + "]";
            case NUMBER -> min == -Float.MAX_VALUE && max == Float.MAX_VALUE ? "a finite number"
                    : min == Float.MIN_VALUE && max == Float.MAX_VALUE ? "a positive number"
                    : min == 0 && max == Float.MAX_VALUE ? "a non-negative number"
                    : min == Float.MIN_VALUE ? "a positive number at most " + SpecFormat.number((float) max)
                    : "a number in [" + SpecFormat.number((float) min) + ", " + SpecFormat.number((float) max) + "]";
            case CHOICE -> "one of " + String.join(", ", choices);
            case FILE -> "a picture file path without ','";
            case INTEGERS -> "a '+'-separated list of integers in [" + (long) min + ", " + (long) max + "]";
            case NUMBERS -> "a '+'-separated list of finite numbers";
            case PAIRS -> "UxV pairs of non-negative integers joined with '+', e.g. 1x2+2x1";
            case CHOICE_OR_INDEX -> String.join(", ", choices) + " or an index in [" + (long) min + ", "
                    + (long) max + "]";
        };
    }

    private InvalidArgumentException bad(String family, Object got) {
        return new InvalidArgumentException(family + ": " + name + " must be " + allowed() + ", got '" + got + "'",
                name, got, allowed());
    }

    // ---------------------------------------------------------------- checks (constructors and parser)

    /**
     * Checks an integer value.
     *
     * @param family the family, for the message
     * @param v      the value
     * @return v as an int
     * @throws InvalidArgumentException naming the field, the value and the range
     */
    long checkInteger(String family, long v) {
        if (v < min || v > max) {
            throw bad(family, v);
        }
        return v;
    }

    /** Checks a number: finite and in range. */
    float checkNumber(String family, float v) {
        if (!Float.isFinite(v) || v < min || v > max) {
            throw bad(family, SpecFormat.number(v));
        }
        return v;
    }

    /** Checks a file path: non-empty, no ',' (the field separator), no surrounding spaces (trimmed). */
    String checkFile(String family, String v) {
        if (v.isEmpty() || v.indexOf(',') >= 0 || !v.strip().equals(v)) {
            throw bad(family, v);
        }
        return v;
    }

    /** Checks every element of a list of integers. */
    void checkIntegers(String family, long[] v) {
        if (v.length == 0) {
            throw bad(family, "");
        }
        for (long x : v) {
            if (x < min || x > max) {
                throw bad(family, SpecFormat.join(v));
            }
        }
    }

    /** Checks every element of a list of numbers. */
    void checkNumbers(String family, float[] v) {
        if (v.length == 0) {
            throw bad(family, "");
        }
        for (float x : v) {
            if (!Float.isFinite(x)) {
                throw bad(family, SpecFormat.join(v));
            }
        }
    }

    // ---------------------------------------------------------------- reading a spec's fields

    /**
     * A decimal integer of ASCII digits with an optional sign: {@link Long#parseLong} would also take
     * other scripts' digits (full-width '３'), and a spec must mean what it shows.
     *
     * @throws NumberFormatException for anything else
     */
    static long asciiLong(String s) {
        if (s == null || !s.matches("[+-]?[0-9]{1,19}")) {
            throw new NumberFormatException("not an integer of ASCII digits: " + s);
        }
        return Long.parseLong(s);
    }

    /** Reads an integer field, or the default when absent. */
    int readInteger(String family, Map<String, String> raw, int def) {
        String s = raw.get(name);
        if (s == null) {
            return def;
        }
        try {
            long v = asciiLong(s);
            if (v < min || v > max) {
                throw bad(family, s);
            }
            return (int) v;
        } catch (NumberFormatException e) {
            throw bad(family, s);
        }
    }

    /** Reads a number field, or the default when absent. */
    float readNumber(String family, Map<String, String> raw, float def) {
        String s = raw.get(name);
        if (s == null) {
            return def;
        }
        try {
            float v = Float.parseFloat(s);
            if (!Float.isFinite(v) || v < min || v > max) {
                throw bad(family, s);
            }
            return v;
        } catch (NumberFormatException e) {
            throw bad(family, s);
        }
    }

    /** Reads a choice field (case-insensitive), or the default when absent. */
    <E extends Enum<E>> E readChoice(String family, Map<String, String> raw, E def, Class<E> enumType) {
        String s = raw.get(name);
        if (s == null) {
            return def;
        }
        String v = s.toUpperCase(Locale.ROOT);
        for (E e : enumType.getEnumConstants()) {
            if (e.name().equals(v)) {
                return e;
            }
        }
        throw bad(family, s);
    }

    /** Reads a file field, or null when absent. */
    String readFile(String family, Map<String, String> raw) {
        String s = raw.get(name);
        return s == null ? null : checkFile(family, s);
    }

    /** Reads a list of integers, or null when absent. */
    long[] readIntegers(String family, Map<String, String> raw) {
        String s = raw.get(name);
        if (s == null) {
            return null;
        }
        String[] parts = s.split("\\+", -1);
        long[] out = new long[parts.length];
        for (int i = 0; i < parts.length; i++) {
            try {
                out[i] = asciiLong(parts[i].trim());
            } catch (NumberFormatException e) {
                throw bad(family, s);
            }
            if (out[i] < min || out[i] > max) {
                throw bad(family, s);
            }
        }
        return out;
    }

    /** Reads a list of numbers, or null when absent. */
    float[] readNumbers(String family, Map<String, String> raw) {
        String s = raw.get(name);
        if (s == null) {
            return null;
        }
        String[] parts = s.split("\\+", -1);
        float[] out = new float[parts.length];
        for (int i = 0; i < parts.length; i++) {
            try {
                out[i] = Float.parseFloat(parts[i].trim());
            } catch (NumberFormatException e) {
                throw bad(family, s);
            }
            if (!Float.isFinite(out[i])) {
                throw bad(family, s);
            }
        }
        return out;
    }

    /** Reads UxV pairs, or the default's when absent. */
    int[][] readPairs(String family, Map<String, String> raw, String def) {
        String s = raw.getOrDefault(name, def);
        String[] parts = s.split("\\+", -1);
        int[][] out = new int[parts.length][];
        for (int i = 0; i < parts.length; i++) {
            String[] uv = parts[i].trim().split("x", -1);
            try {
                if (uv.length != 2) {
                    throw new NumberFormatException();
                }
                out[i] = new int[] {Math.toIntExact(asciiLong(uv[0].trim())),
                    Math.toIntExact(asciiLong(uv[1].trim()))};
            } catch (NumberFormatException | ArithmeticException e) {
                throw bad(family, s);
            }
        }
        checkPairs(family, out);
        return out;
    }

    /** Checks UxV pairs: at least one, each two integers in range. */
    void checkPairs(String family, int[][] pairs) {
        if (pairs == null || pairs.length == 0) {
            throw bad(family, "");
        }
        for (int[] uv : pairs) {
            if (uv == null || uv.length != 2 || uv[0] < min || uv[0] > max || uv[1] < min || uv[1] > max) {
                throw bad(family, uv == null ? "null" : Arrays.toString(uv));
            }
        }
    }

    /**
     * Reads a word-or-index field: the word in lower case, or the index as its decimal digits.
     *
     * @return the word or digits, {@code def} when absent
     */
    String readChoiceOrIndex(String family, Map<String, String> raw, String def) {
        String s = raw.getOrDefault(name, def).toLowerCase(Locale.ROOT);
        if (choices.contains(s)) {
            return s;
        }
        try {
            return Long.toString(checkInteger(family, asciiLong(s)));
        } catch (NumberFormatException e) {
            throw bad(family, s);
        }
    }

    /**
     * The fields a family allows, refusing any other.
     *
     * @param family the family
     * @param raw    the spec's fields
     * @param params the family's parameters
     * @throws InvalidArgumentException naming the unknown field and every allowed one
     */
    static void requireKnown(String family, Map<String, String> raw, List<TriggerParameter> params) {
        List<String> names = new ArrayList<>();
        params.forEach(p -> names.add(p.name));
        for (String key : raw.keySet()) {
            if (!names.contains(key)) {
                String allowed = String.join(", ", names);
                throw new InvalidArgumentException(family + ": unknown field '" + key + "' (allowed: " + allowed + ")",
                        key, key, allowed);
            }
        }
    }

    @Override
    public String toString() {
        return name + " (" + allowed() + ", default " + defaultText + ")";
    }
}
