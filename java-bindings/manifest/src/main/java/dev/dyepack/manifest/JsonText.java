package dev.dyepack.manifest;

import dev.dyepack.InvalidArgumentException;
import dev.dyepack.manifest.Json;
import java.math.BigDecimal;
import java.math.MathContext;
import java.math.RoundingMode;
import java.util.Iterator;
import java.util.List;
import java.util.Map;

/**
 * Writes {@link JsonValue} trees: the compact canonical form that manifests sign, and the indented
 * form that people read. The rules of the canonical form are specified in {@link Manifest}; this class
 * is their only implementation, so a change here changes every signature and needs a new
 * {@link Manifest#FORMAT}.
 *
 * <p>Stateless and thread-safe.
 */
final class JsonText {
    /** Scalar-only arrays longer than this are wrapped in the pretty form, this many per line. */
    private static final int PER_LINE = 16;
    private static final char[] HEX = "0123456789abcdef".toCharArray();

    private JsonText() {
    }

    /**
     * The canonical text of a float: the shortest decimal that reads back as the same double, in plain
     * notation with at least one fractional digit.
     *
     * <p>Precisely: {@code 0.0} for +0, {@code -0.0} for -0; otherwise, for the smallest {@code p} in
     * 1..17 such that rounding the exact binary value of {@code d} to {@code p} significant decimal
     * digits (half to even) gives a decimal whose nearest double is {@code d}, that rounded decimal,
     * trailing fractional zeros removed, written without exponent, with {@code ".0"} appended when no
     * fractional digit is left. 17 digits always read back exactly, so {@code p} always exists.
     *
     * <p>Why not {@link Double#toString}: its output changed in JDK 19 for some values (JDK-4511638),
     * and a signature must not depend on the JDK that computes it.
     *
     * @param d a finite double
     * @return the canonical text, for example {@code "0.01"}, {@code "20.0"}, {@code "0.00001"}
     * @throws InvalidArgumentException if {@code d} is NaN or infinite
     */
    static String number(double d) {
        if (!Double.isFinite(d)) {
            throw new InvalidArgumentException("JSON has no representation for " + d);
        }
        if (d == 0) {
            return Double.doubleToRawLongBits(d) < 0 ? "-0.0" : "0.0";
        }
        BigDecimal exact = new BigDecimal(d);
        BigDecimal shortest = exact;
        for (int p = 1; p <= 17; p++) {
            BigDecimal r = exact.round(new MathContext(p, RoundingMode.HALF_EVEN));
            // Double.parseDouble is correctly rounded by specification on every JDK.
            if (Double.parseDouble(r.toString()) == d) {
                shortest = r;
                break;
            }
        }
        String s = shortest.stripTrailingZeros().toPlainString();
        return s.indexOf('.') < 0 ? s + ".0" : s;
    }

    /**
     * Appends a string literal escaped by the canonical rule (the string rule of RFC 8785):
     * {@code "} and {@code \} as {@code \"} and {@code \\}; U+0008, U+0009, U+000A, U+000C, U+000D as
     * {@code \b \t \n \f \r}; every other character below U+0020 as <code>&#92;u00xx</code> with lowercase hex;
     * everything else, non-ASCII included, as itself (encoded as UTF-8 in the signed bytes).
     *
     * <p>Deliberately not {@link Json#quote}: the signed bytes must not change when a shared helper does.
     *
     * @param s   the string, without unpaired surrogates
     * @param out where to append
     */
    static void canonicalString(String s, StringBuilder out) {
        out.append('"');
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            switch (c) {
                case '"' -> out.append("\\\"");
                case '\\' -> out.append("\\\\");
                case '\b' -> out.append("\\b");
                case '\t' -> out.append("\\t");
                case '\n' -> out.append("\\n");
                case '\f' -> out.append("\\f");
                case '\r' -> out.append("\\r");
                default -> {
                    if (c < 0x20) {
                        out.append("\\u00").append(HEX[c >> 4]).append(HEX[c & 0xf]);
                    } else {
                        out.append(c);
                    }
                }
            }
        }
        out.append('"');
    }

    /**
     * Appends the compact canonical form of a value: no whitespace outside strings, members in the
     * tree's order, integers as {@link Long#toString(long)}, floats as {@link #number}, strings as
     * {@link #canonicalString}.
     *
     * @param v   the value
     * @param out where to append
     */
    static void compact(JsonValue v, StringBuilder out) {
        if (v instanceof JsonValue.Obj o) {
            out.append('{');
            boolean first = true;
            for (Map.Entry<String, JsonValue> e : o.members().entrySet()) {
                if (!first) {
                    out.append(',');
                }
                first = false;
                canonicalString(e.getKey(), out);
                out.append(':');
                compact(e.getValue(), out);
            }
            out.append('}');
        } else if (v instanceof JsonValue.Arr a) {
            out.append('[');
            for (int i = 0; i < a.elements().size(); i++) {
                if (i > 0) {
                    out.append(',');
                }
                compact(a.elements().get(i), out);
            }
            out.append(']');
        } else if (v instanceof JsonValue.Ints a) {
            out.append('[');
            long[] values = a.values();
            for (int i = 0; i < values.length; i++) {
                if (i > 0) {
                    out.append(',');
                }
                out.append(values[i]);
            }
            out.append(']');
        } else if (v instanceof JsonValue.Str s) {
            canonicalString(s.value(), out);
        } else {
            out.append(scalar(v));
        }
    }

    /**
     * The indented form: 2 spaces per level, one object member per line, arrays of scalars on one line
     * ({@value #PER_LINE} per line when longer), other arrays one element per line, strings quoted by
     * {@link Json#quote}, numbers as in the compact form, and a final line feed. Not signed, so its
     * layout may change without affecting signatures; it always parses back to the same tree.
     *
     * @param v the value
     * @return the text
     */
    static String pretty(JsonValue v) {
        StringBuilder out = new StringBuilder();
        pretty(v, 0, out);
        return out.append('\n').toString();
    }

    private static void pretty(JsonValue v, int level, StringBuilder out) {
        if (v instanceof JsonValue.Obj o) {
            if (o.members().isEmpty()) {
                out.append("{}");
                return;
            }
            out.append("{\n");
            Iterator<Map.Entry<String, JsonValue>> it = o.members().entrySet().iterator();
            while (it.hasNext()) {
                Map.Entry<String, JsonValue> e = it.next();
                indent(level + 1, out);
                out.append(Json.quote(e.getKey())).append(": ");
                pretty(e.getValue(), level + 1, out);
                out.append(it.hasNext() ? ",\n" : "\n");
            }
            indent(level, out);
            out.append('}');
        } else if (v instanceof JsonValue.Arr a) {
            List<JsonValue> elements = a.elements();
            boolean scalars = elements.stream().noneMatch(e -> e instanceof JsonValue.Obj
                    || e instanceof JsonValue.Arr || e instanceof JsonValue.Ints);
            if (scalars) {
                String[] texts = new String[elements.size()];
                for (int i = 0; i < texts.length; i++) {
                    JsonValue e = elements.get(i);
                    texts[i] = e instanceof JsonValue.Str s ? Json.quote(s.value()) : scalar(e);
                }
                scalarArray(texts, level, out);
                return;
            }
            out.append("[\n");
            for (int i = 0; i < elements.size(); i++) {
                indent(level + 1, out);
                pretty(elements.get(i), level + 1, out);
                out.append(i + 1 < elements.size() ? ",\n" : "\n");
            }
            indent(level, out);
            out.append(']');
        } else if (v instanceof JsonValue.Ints a) {
            long[] values = a.values();
            String[] texts = new String[values.length];
            for (int i = 0; i < values.length; i++) {
                texts[i] = Long.toString(values[i]);
            }
            scalarArray(texts, level, out);
        } else if (v instanceof JsonValue.Str s) {
            out.append(Json.quote(s.value()));
        } else {
            out.append(scalar(v));
        }
    }

    private static void scalarArray(String[] texts, int level, StringBuilder out) {
        if (texts.length <= PER_LINE) {
            out.append('[').append(String.join(", ", texts)).append(']');
            return;
        }
        out.append("[\n");
        for (int i = 0; i < texts.length; i++) {
            if (i % PER_LINE == 0) {
                indent(level + 1, out);
            }
            out.append(texts[i]);
            if (i + 1 < texts.length) {
                out.append((i + 1) % PER_LINE == 0 ? ",\n" : ", ");
            }
        }
        out.append('\n');
        indent(level, out);
        out.append(']');
    }

    private static String scalar(JsonValue v) {
        if (v instanceof JsonValue.Int i) {
            return Long.toString(i.value());
        }
        if (v instanceof JsonValue.Real r) {
            return number(r.value());
        }
        if (v instanceof JsonValue.Bool b) {
            return b.value() ? "true" : "false";
        }
        if (v == JsonValue.Null.NULL) {
            return "null";
        }
        throw new IllegalArgumentException("not a scalar: " + v.typeName());
    }

    private static void indent(int level, StringBuilder out) {
        for (int i = 0; i < level; i++) {
            out.append("  ");
        }
    }
}
