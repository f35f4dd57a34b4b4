package dev.dyepack.manifest;

import dev.dyepack.InvalidArgumentException;
import dev.dyepack.manifest.Json;
import java.math.BigDecimal;
import java.math.MathContext;
import java.math.RoundingMode;
import java.util.ArrayList;
import java.util.Collections;
import java.util.Iterator;
import java.util.List;
import java.util.Map;

/**
 * Writes {@link JsonValue} trees: the canonical forms that manifests sign (format 1's own compact form,
 * and RFC 8785, the JSON Canonicalization Scheme, for format 2), and the indented form that people
 * read. The rules are specified in {@link Manifest} and {@code docs/manifest-format.md}; this class is
 * their only implementation, so a change here changes signatures and needs a new {@link Manifest#FORMAT}.
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
     * The text of a double as RFC 8785 (section 3.2.2.3) writes it, which is ECMAScript's
     * {@code Number.prototype.toString}: {@code "0"} for both zeros; otherwise the fewest significant
     * digits that read back (correctly rounded) as {@code d}, the one closest to {@code d} among several
     * of that length (the even one on a tie); plain notation for {@code 1e-7 < |d| < 1e21}, otherwise
     * {@code d.ddde+x} / {@code d.ddde-x}.
     *
     * <p>The digits are searched here rather than taken from {@link Double#toString}, which is not
     * shortest for some values before JDK 19 (JDK-4511638): the text must be the same on every JDK and
     * equal to what any other RFC 8785 implementation writes.
     *
     * @param d a finite double
     * @return the text, for example {@code "0.1"}, {@code "20"}, {@code "1e-7"}, {@code "1e+21"}
     * @throws InvalidArgumentException if {@code d} is NaN or infinite
     */
    static String ecmaNumber(double d) {
        if (!Double.isFinite(d)) {
            throw new InvalidArgumentException("JSON has no representation for " + d);
        }
        if (d == 0) {
            return "0";
        }
        BigDecimal digits = shortest(Math.abs(d), false);
        return (d < 0 ? "-" : "") + ecmaLayout(digits);
    }

    /**
     * The shortest decimal that reads back as {@code f} both as a float and as the double nearest to
     * it, returned as that double: what a float trigger parameter is recorded as in format 2, so that
     * {@link #ecmaNumber} of the result is short ({@code 0.1f} gives {@code 0.1}) and reading the text
     * back as a double and narrowing it to float gives {@code f} again.
     *
     * @param f a finite float
     * @return the double to record
     */
    static double shortestFloat(float f) {
        if (f == 0 || !Float.isFinite(f)) {
            return f;
        }
        double magnitude = shortest(Math.abs(f), true).doubleValue();
        return f < 0 ? -magnitude : magnitude;
    }

    /**
     * The fewest-digit decimal whose nearest double ({@code asFloat}: whose nearest float, and the
     * float nearest that double) is {@code x}, closest to {@code x} among those of that length, ties to
     * an even last digit; trailing zeros stripped.
     */
    private static BigDecimal shortest(double x, boolean asFloat) {
        BigDecimal exact = new BigDecimal(x);
        for (int p = 1; p <= 17; p++) {
            // The closest p-digit decimal alone is not enough: next to a power of two the interval that
            // reads back as x is narrower below than above, so the nearest may miss while the one on
            // the other side fits.
            BigDecimal down = exact.round(new MathContext(p, RoundingMode.FLOOR));
            BigDecimal up = exact.round(new MathContext(p, RoundingMode.CEILING));
            boolean downFits = readsBack(down, x, asFloat);
            boolean upFits = readsBack(up, x, asFloat);
            if (downFits && upFits && down.compareTo(up) != 0) {
                int c = exact.subtract(down).compareTo(up.subtract(exact));
                if (c == 0) {
                    // Of two equally close, the one whose last digit is even.
                    boolean downEven = !down.unscaledValue().testBit(0);
                    return (downEven ? down : up).stripTrailingZeros();
                }
                return (c < 0 ? down : up).stripTrailingZeros();
            }
            if (downFits) {
                return down.stripTrailingZeros();
            }
            if (upFits) {
                return up.stripTrailingZeros();
            }
        }
        // 17 significant digits always identify a double; unreachable for finite x.
        return exact.round(new MathContext(17, RoundingMode.HALF_EVEN)).stripTrailingZeros();
    }

    private static boolean readsBack(BigDecimal decimal, double x, boolean asFloat) {
        // Double.parseDouble and Float.parseFloat are correctly rounded by specification on every JDK.
        String text = decimal.toString();
        if (asFloat) {
            return Float.parseFloat(text) == (float) x && (float) Double.parseDouble(text) == (float) x;
        }
        return Double.parseDouble(text) == x;
    }

    /** ECMAScript's layout (ECMA-262 Number::toString steps 6 to 10) of a positive decimal. */
    private static String ecmaLayout(BigDecimal positive) {
        String s = positive.unscaledValue().toString();
        int k = s.length();
        int n = k - positive.scale(); // value = 0.s * 10^n
        StringBuilder out = new StringBuilder(k + 8);
        if (k <= n && n <= 21) {
            out.append(s);
            out.append("0".repeat(n - k));
        } else if (0 < n && n <= 21) {
            out.append(s, 0, n).append('.').append(s, n, k);
        } else if (-6 < n && n <= 0) {
            out.append("0.").append("0".repeat(-n)).append(s);
        } else {
            int e = n - 1;
            out.append(s.charAt(0));
            if (k > 1) {
                out.append('.').append(s, 1, k);
            }
            out.append('e').append(e < 0 ? '-' : '+').append(Math.abs(e));
        }
        return out.toString();
    }

    /**
     * Appends the RFC 8785 canonical form of a value: no whitespace outside strings, the members of
     * every object sorted by their names compared as sequences of UTF-16 code units
     * ({@link String#compareTo}), arrays in order, every number (integers included) as
     * {@link #ecmaNumber} of its double value, strings as {@link #canonicalString}.
     *
     * @param v   the value
     * @param out where to append
     */
    static void jcs(JsonValue v, StringBuilder out) {
        if (v instanceof JsonValue.Obj o) {
            out.append('{');
            List<String> names = new ArrayList<>(o.members().keySet());
            Collections.sort(names);
            for (int i = 0; i < names.size(); i++) {
                if (i > 0) {
                    out.append(',');
                }
                canonicalString(names.get(i), out);
                out.append(':');
                jcs(o.members().get(names.get(i)), out);
            }
            out.append('}');
        } else if (v instanceof JsonValue.Arr a) {
            out.append('[');
            for (int i = 0; i < a.elements().size(); i++) {
                if (i > 0) {
                    out.append(',');
                }
                jcs(a.elements().get(i), out);
            }
            out.append(']');
        } else if (v instanceof JsonValue.Ints a) {
            out.append('[');
            long[] values = a.values();
            for (int i = 0; i < values.length; i++) {
                if (i > 0) {
                    out.append(',');
                }
                out.append(ecmaNumber((double) values[i]));
            }
            out.append(']');
        } else if (v instanceof JsonValue.Str s) {
            canonicalString(s.value(), out);
        } else if (v instanceof JsonValue.Int i) {
            out.append(ecmaNumber((double) i.value()));
        } else {
            out.append(scalar(v, true));
        }
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
            out.append(scalar(v, false));
        }
    }

    /**
     * The indented form: 2 spaces per level, one object member per line, arrays of scalars on one line
     * ({@value #PER_LINE} per line when longer), other arrays one element per line, strings quoted by
     * {@link Json#quote}, numbers as in format 1's compact form or (with {@code ecma}) as
     * {@link #ecmaNumber} for floats, and a final line feed. Not signed, so its layout may change without
     * affecting signatures; it always parses back to the same tree.
     *
     * @param v    the value
     * @param ecma whether floats are written as {@link #ecmaNumber} (format 2) rather than {@link #number}
     * @return the text
     */
    static String pretty(JsonValue v, boolean ecma) {
        StringBuilder out = new StringBuilder();
        pretty(v, 0, ecma, out);
        return out.append('\n').toString();
    }

    private static void pretty(JsonValue v, int level, boolean ecma, StringBuilder out) {
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
                pretty(e.getValue(), level + 1, ecma, out);
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
                    texts[i] = e instanceof JsonValue.Str s ? Json.quote(s.value()) : scalar(e, ecma);
                }
                scalarArray(texts, level, out);
                return;
            }
            out.append("[\n");
            for (int i = 0; i < elements.size(); i++) {
                indent(level + 1, out);
                pretty(elements.get(i), level + 1, ecma, out);
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
            out.append(scalar(v, ecma));
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

    private static String scalar(JsonValue v, boolean ecma) {
        if (v instanceof JsonValue.Int i) {
            return Long.toString(i.value());
        }
        if (v instanceof JsonValue.Real r) {
            return ecma ? ecmaNumber(r.value()) : number(r.value());
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
