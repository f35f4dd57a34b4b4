package dev.dyepack.manifest;

import dev.dyepack.manifest.Json;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * A small strict JSON parser (RFC 8259) for manifests, written here rather than taken from a library
 * because the project has no JSON dependency and a manifest must be read exactly, never leniently.
 *
 * <p>Accepted: one value (objects, arrays, strings, numbers, {@code true}, {@code false},
 * {@code null}) with optional whitespace (space, tab, line feed, carriage return) around it.
 * Refused, with the line and column: anything after the value, a duplicate key in one object,
 * nesting deeper than the given limit, raw control characters in strings, unknown escapes, unpaired
 * UTF-16 surrogates (raw or as <code>&#92;uXXXX</code>), numbers outside JSON's grammar ({@code 01},
 * {@code .5}, {@code 1.}, {@code +1}, {@code NaN}), integers outside {@code long} and floats that
 * overflow to infinity.
 *
 * <p>Numbers: a token without fraction or exponent is a {@link JsonValue.Int}; any other is a
 * {@link JsonValue.Real}, the double nearest to its decimal value (as {@link Double#parseDouble}).
 *
 * <p>Not thread-safe; one instance parses one text.
 */
final class JsonParser {
    private final String text;
    private final int maxDepth;
    private int pos;

    private JsonParser(String text, int maxDepth) {
        this.text = text;
        this.maxDepth = maxDepth;
    }

    /**
     * Parses a whole JSON text.
     *
     * @param text     the text
     * @param maxDepth the deepest nesting allowed: 1 allows one object or array with only scalars in it,
     *                 0 allows a scalar only
     * @return the value
     * @throws JsonSyntaxException if the text is not one JSON value within the limits
     */
    static JsonValue parse(String text, int maxDepth) {
        JsonParser p = new JsonParser(text, maxDepth);
        p.skipWhitespace();
        if (p.pos == text.length()) {
            throw p.error(text.isEmpty() ? "empty text, expected a JSON value" : "only whitespace, expected a JSON value");
        }
        JsonValue v = p.value(0);
        p.skipWhitespace();
        if (p.pos != text.length()) {
            throw p.error("unexpected " + p.describe(p.pos) + " after the end of the JSON value");
        }
        return v;
    }

    private JsonValue value(int depth) {
        if (pos >= text.length()) {
            throw error("unexpected end of text, expected a value");
        }
        char c = text.charAt(pos);
        switch (c) {
            case '{':
                return object(depth + 1);
            case '[':
                return array(depth + 1);
            case '"':
                return new JsonValue.Str(string());
            case 't':
                literal("true");
                return new JsonValue.Bool(true);
            case 'f':
                literal("false");
                return new JsonValue.Bool(false);
            case 'n':
                literal("null");
                return JsonValue.Null.NULL;
            default:
                if (c == '-' || (c >= '0' && c <= '9')) {
                    return number();
                }
                throw error("unexpected " + describe(pos) + ", expected a value");
        }
    }

    private JsonValue.Obj object(int depth) {
        checkDepth(depth);
        pos++; // '{'
        Map<String, JsonValue> members = new LinkedHashMap<>();
        skipWhitespace();
        if (peek() == '}') {
            pos++;
            return new JsonValue.Obj(members);
        }
        while (true) {
            skipWhitespace();
            if (peek() != '"') {
                throw error(pos >= text.length() ? "unexpected end of text, expected a key"
                        : "unexpected " + describe(pos) + ", expected a key in double quotes");
            }
            int keyStart = pos;
            String key = string();
            if (members.containsKey(key)) {
                pos = keyStart;
                throw error("duplicate key " + Json.quote(key));
            }
            skipWhitespace();
            expect(':', "':' after the key");
            skipWhitespace();
            members.put(key, value(depth));
            skipWhitespace();
            char c = peek();
            if (c == ',') {
                pos++;
            } else if (c == '}') {
                pos++;
                return new JsonValue.Obj(members);
            } else {
                throw error(pos >= text.length() ? "unexpected end of text, expected ',' or '}'"
                        : "unexpected " + describe(pos) + ", expected ',' or '}'");
            }
        }
    }

    private JsonValue array(int depth) {
        checkDepth(depth);
        pos++; // '['
        skipWhitespace();
        if (peek() == ']') {
            pos++;
            return new JsonValue.Arr(List.of());
        }
        // Integers go to a primitive buffer until the first other value (see JsonValue.Ints).
        long[] ints = new long[16];
        int intCount = 0;
        List<JsonValue> mixed = null;
        while (true) {
            skipWhitespace();
            JsonValue v = value(depth);
            if (mixed == null && v instanceof JsonValue.Int i) {
                if (intCount == ints.length) {
                    ints = Arrays.copyOf(ints, intCount * 2);
                }
                ints[intCount++] = i.value();
            } else {
                if (mixed == null) {
                    mixed = new ArrayList<>(intCount + 8);
                    for (int k = 0; k < intCount; k++) {
                        mixed.add(new JsonValue.Int(ints[k]));
                    }
                    ints = null;
                }
                mixed.add(v);
            }
            skipWhitespace();
            char c = peek();
            if (c == ',') {
                pos++;
            } else if (c == ']') {
                pos++;
                return mixed == null ? new JsonValue.Ints(Arrays.copyOf(ints, intCount)) : new JsonValue.Arr(mixed);
            } else {
                throw error(pos >= text.length() ? "unexpected end of text, expected ',' or ']'"
                        : "unexpected " + describe(pos) + ", expected ',' or ']'");
            }
        }
    }

    private String string() {
        pos++; // opening quote
        StringBuilder sb = null;
        int runStart = pos;
        while (true) {
            if (pos >= text.length()) {
                throw error("unexpected end of text inside a string");
            }
            char c = text.charAt(pos);
            if (c == '"') {
                String s = sb == null ? text.substring(runStart, pos)
                        : sb.append(text, runStart, pos).toString();
                pos++;
                return s;
            }
            if (c < 0x20) {
                throw error("raw control character " + codePoint(c) + " in a string (it must be escaped)");
            }
            if (Character.isHighSurrogate(c)) {
                if (pos + 1 >= text.length() || !Character.isLowSurrogate(text.charAt(pos + 1))) {
                    throw error("unpaired surrogate " + codePoint(c) + " in a string");
                }
                pos += 2;
                continue;
            }
            if (Character.isLowSurrogate(c)) {
                throw error("unpaired surrogate " + codePoint(c) + " in a string");
            }
            if (c != '\\') {
                pos++;
                continue;
            }
            if (sb == null) {
                sb = new StringBuilder();
            }
            sb.append(text, runStart, pos);
            escape(sb);
            runStart = pos;
        }
    }

    /** Decodes the escape at {@code pos} (a backslash) into {@code sb} and moves past it. */
    private void escape(StringBuilder sb) {
        int start = pos;
        if (pos + 1 >= text.length()) {
            throw error("unexpected end of text inside a string");
        }
        char e = text.charAt(pos + 1);
        pos += 2;
        switch (e) {
            case '"' -> sb.append('"');
            case '\\' -> sb.append('\\');
            case '/' -> sb.append('/');
            case 'b' -> sb.append('\b');
            case 'f' -> sb.append('\f');
            case 'n' -> sb.append('\n');
            case 'r' -> sb.append('\r');
            case 't' -> sb.append('\t');
            case 'u' -> {
                char u = hex4(start);
                if (Character.isHighSurrogate(u)) {
                    // A high surrogate must be followed by an escaped low one: together they are one code point.
                    if (pos + 1 < text.length() && text.charAt(pos) == '\\' && text.charAt(pos + 1) == 'u') {
                        int lowStart = pos;
                        pos += 2;
                        char low = hex4(lowStart);
                        if (Character.isLowSurrogate(low)) {
                            sb.append(u).append(low);
                            return;
                        }
                    }
                    pos = start;
                    throw error("unpaired surrogate escape \\u" + hex(u) + " in a string");
                }
                if (Character.isLowSurrogate(u)) {
                    pos = start;
                    throw error("unpaired surrogate escape \\u" + hex(u) + " in a string");
                }
                sb.append(u);
            }
            default -> {
                pos = start;
                throw error("unknown escape \\" + (e < 0x20 || e > 0x7e ? codePoint(e) : String.valueOf(e))
                        + " in a string");
            }
        }
    }

    /** Reads 4 hex digits at {@code pos}; {@code escapeStart} is where the escape began, for errors. */
    private char hex4(int escapeStart) {
        if (pos + 4 > text.length()) {
            pos = escapeStart;
            throw error("incomplete \\u escape in a string");
        }
        int v = 0;
        for (int i = 0; i < 4; i++) {
            int d = Character.digit(text.charAt(pos + i), 16);
            // Character.digit also accepts non-ASCII digits; JSON allows only [0-9a-fA-F].
            if (d < 0 || text.charAt(pos + i) > 'f') {
                pos = escapeStart;
                throw error("\\u must be followed by 4 hex digits");
            }
            v = v * 16 + d;
        }
        pos += 4;
        return (char) v;
    }

    private JsonValue number() {
        int start = pos;
        boolean integer = true;
        if (peek() == '-') {
            pos++;
        }
        char c = peek();
        if (c == '0') {
            pos++;
            if (isDigit(peek())) {
                pos = start;
                throw error("number with a leading zero");
            }
        } else if (isDigit(c)) {
            while (isDigit(peek())) {
                pos++;
            }
        } else {
            throw error("'-' must be followed by a digit");
        }
        if (peek() == '.') {
            integer = false;
            pos++;
            if (!isDigit(peek())) {
                throw error("'.' in a number must be followed by a digit");
            }
            while (isDigit(peek())) {
                pos++;
            }
        }
        c = peek();
        if (c == 'e' || c == 'E') {
            integer = false;
            pos++;
            c = peek();
            if (c == '+' || c == '-') {
                pos++;
            }
            if (!isDigit(peek())) {
                throw error("the exponent of a number must have a digit");
            }
            while (isDigit(peek())) {
                pos++;
            }
        }
        String token = text.substring(start, pos);
        if (integer) {
            try {
                return new JsonValue.Int(Long.parseLong(token));
            } catch (NumberFormatException e) {
                pos = start;
                throw error("integer " + token + " is outside the 64-bit range");
            }
        }
        double d = Double.parseDouble(token);
        if (Double.isInfinite(d)) {
            pos = start;
            throw error("number " + token + " is too large for a double");
        }
        return new JsonValue.Real(d);
    }

    private void literal(String word) {
        if (!text.startsWith(word, pos)) {
            throw error("unexpected " + describe(pos) + ", expected a value");
        }
        pos += word.length();
    }

    private void expect(char c, String what) {
        if (peek() != c) {
            throw error(pos >= text.length() ? "unexpected end of text, expected " + what
                    : "unexpected " + describe(pos) + ", expected " + what);
        }
        pos++;
    }

    private void checkDepth(int depth) {
        if (depth > maxDepth) {
            throw error("nesting deeper than " + maxDepth + " levels");
        }
    }

    private void skipWhitespace() {
        while (pos < text.length()) {
            char c = text.charAt(pos);
            if (c != ' ' && c != '\t' && c != '\n' && c != '\r') {
                return;
            }
            pos++;
        }
    }

    /** The character at {@code pos}, or U+0000 at the end (never a valid character there anyway). */
    private char peek() {
        return pos < text.length() ? text.charAt(pos) : '\0';
    }

    private static boolean isDigit(char c) {
        return c >= '0' && c <= '9';
    }

    private String describe(int at) {
        if (at >= text.length()) {
            return "end of text";
        }
        char c = text.charAt(at);
        if (c > 0x20 && c < 0x7f) {
            return "'" + c + "'";
        }
        return "character " + codePoint(c);
    }

    private static String codePoint(char c) {
        return "U+" + hex(c);
    }

    private static String hex(char c) {
        return String.format("%04X", (int) c);
    }

    /** An error at {@code pos}, with 1-based line and column (lines end at LF, CR or CRLF). */
    private JsonSyntaxException error(String problem) {
        int line = 1;
        int lineStart = 0;
        int end = Math.min(pos, text.length());
        for (int i = 0; i < end; i++) {
            char c = text.charAt(i);
            if (c == '\n' || (c == '\r' && (i + 1 >= text.length() || text.charAt(i + 1) != '\n'))) {
                line++;
                lineStart = i + 1;
            }
        }
        return new JsonSyntaxException(line, end - lineStart + 1, problem);
    }
}
