package dev.dyepack.trigger;

import java.util.List;
import java.util.Map;
import java.util.StringJoiner;

/** Canonical spec strings and JSON forms of trigger parameters. */
final class SpecFormat {
    private SpecFormat() {}

    /** Integral values print without a decimal point; others as the shortest float form. */
    static String number(float v) {
        if (v == 0f && Float.floatToRawIntBits(v) != 0) {
            return "-0"; // parses back to -0.0, which a patch or column value writes as such
        }
        if (v == Math.rint(v) && Math.abs(v) < 1e9) {
            return Long.toString((long) v);
        }
        return Float.toString(v);
    }

    /** A list value as the spec writes it, '+'-separated. */
    static String join(Object list) {
        return value(list);
    }

    private static String value(Object v) {
        if (v instanceof Float f) {
            return number(f);
        }
        if (v instanceof float[] fs) {
            StringJoiner j = new StringJoiner("+");
            for (float f : fs) {
                j.add(number(f));
            }
            return j.toString();
        }
        if (v instanceof long[] ls) {
            StringJoiner j = new StringJoiner("+");
            for (long l : ls) {
                j.add(Long.toString(l));
            }
            return j.toString();
        }
        if (v instanceof int[] is) {
            StringJoiner j = new StringJoiner("+");
            for (int i : is) {
                j.add(Integer.toString(i));
            }
            return j.toString();
        }
        if (v instanceof Enum<?> e) {
            return e.name().toLowerCase(java.util.Locale.ROOT);
        }
        return String.valueOf(v);
    }

    /** {@code family:k=v,...} in the parameters' order; null values are left out. */
    static String spec(String family, Map<String, Object> parameters) {
        StringJoiner j = new StringJoiner(",", family + ":", "");
        j.setEmptyValue(family);
        parameters.forEach((k, v) -> {
            if (v != null) {
                j.add(k + "=" + value(v));
            }
        });
        return j.toString();
    }

    private static String jsonValue(Object v) {
        if (v instanceof Number || v instanceof Boolean) {
            return v instanceof Float f ? number(f) : v.toString();
        }
        if (v instanceof float[] || v instanceof long[] || v instanceof int[]) {
            return "[" + String.join(", ", List.of(value(v).split("\\+"))) + "]";
        }
        return quote(value(v));
    }

    /** {@code {"family": ..., "k": v, ...}}; null values are left out. */
    static String json(String family, Map<String, Object> parameters) {
        StringJoiner j = new StringJoiner(", ", "{", "}");
        j.add("\"family\": " + quote(family));
        parameters.forEach((k, v) -> {
            if (v != null) {
                j.add(quote(k) + ": " + jsonValue(v));
            }
        });
        return j.toString();
    }

    /** A JSON string literal (the manifest module parses and canonicalises what this writes). */
    private static String quote(String s) {
        StringBuilder b = new StringBuilder(s.length() + 2).append('"');
        for (int i = 0; i < s.length(); i++) {
            char ch = s.charAt(i);
            if (ch == '"' || ch == '\\') {
                b.append('\\').append(ch);
            } else if (ch == '\n') {
                b.append("\\n");
            } else if (ch == '\r') {
                b.append("\\r");
            } else if (ch == '\t') {
                b.append("\\t");
            } else if (ch < 0x20) {
                b.append(String.format("\\u%04x", (int) ch));
            } else {
                b.append(ch);
            }
        }
        return b.append('"').toString();
    }
}
