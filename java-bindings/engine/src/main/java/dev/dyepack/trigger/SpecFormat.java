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
        return shortest(v);
    }

    /**
     * A finite float as the shortest decimal that reads back as the same float, in the layout of
     * {@link Float#toString} (plain for 1e-3 &lt;= |v| &lt; 1e7, else {@code d.dddE-n}). This is what
     * {@code Float.toString} gives from JDK 19 on; JDK 17's sometimes has a digit too many (JDK-4511638),
     * and the spec is signed in manifests, so its text must not depend on the JDK.
     */
    static String shortest(float v) {
        if (!Float.isFinite(v)) {
            return Float.toString(v); // only in messages: specs never hold these
        }
        java.math.BigDecimal exact = new java.math.BigDecimal(v);
        java.math.BigDecimal digits = exact;
        // Two digits at least, as Float.toString's d.d form has: of the two-digit decimals the nearest is
        // chosen, which is why Float.MIN_VALUE is 1.4E-45 and not the shorter 1.0E-45.
        for (int p = 2; p <= 9; p++) {
            java.math.BigDecimal d = exact.round(new java.math.MathContext(p, java.math.RoundingMode.HALF_EVEN));
            if (Float.parseFloat(d.toString()) == v) {
                digits = d;
                break;
            }
            // Rounding to nearest can miss a decimal of this length on the other side of v.
            java.math.BigDecimal up = exact.round(new java.math.MathContext(p, java.math.RoundingMode.UP));
            java.math.BigDecimal down = exact.round(new java.math.MathContext(p, java.math.RoundingMode.DOWN));
            if (Float.parseFloat(down.toString()) == v) {
                digits = down;
                break;
            }
            if (Float.parseFloat(up.toString()) == v) {
                digits = up;
                break;
            }
        }
        String unscaled = digits.unscaledValue().abs().toString().replaceFirst("0+$", "");
        if (unscaled.isEmpty()) {
            unscaled = "0";
        }
        // value = 0.unscaled x 10^(exp10 + 1), i.e. first digit at decimal exponent exp10.
        int exp10 = digits.precision() - digits.scale() - 1;
        StringBuilder b = new StringBuilder(v < 0 ? "-" : "");
        double a = Math.abs((double) v);
        if (a >= 1e-3 && a < 1e7) {
            if (exp10 >= 0) {
                String intPart = unscaled.length() > exp10 + 1 ? unscaled.substring(0, exp10 + 1)
                        : unscaled + "0".repeat(exp10 + 1 - unscaled.length());
                String frac = unscaled.length() > exp10 + 1 ? unscaled.substring(exp10 + 1) : "0";
                b.append(intPart).append('.').append(frac);
            } else {
                b.append("0.").append("0".repeat(-exp10 - 1)).append(unscaled);
            }
        } else {
            b.append(unscaled.charAt(0)).append('.').append(unscaled.length() > 1 ? unscaled.substring(1) : "0")
                    .append('E').append(exp10);
        }
        return b.toString();
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
