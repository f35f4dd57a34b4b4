package dev.dyepack.verify.endpoint;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * A small strict JSON reader (RFC 8259) for prediction services' answers, and RFC 6901 pointers into
 * them. The verify module reads answers exactly, never leniently: anything outside the grammar is
 * refused with its position, so a garbled answer never reaches a verdict.
 *
 * <p>Values: objects are {@code Map<String, Object>} (insertion order), arrays {@code List<Object>},
 * numbers {@link Double}, strings, {@link Boolean} and {@link #NULL}. Not thread-safe; one instance
 * reads one text.
 */
final class ResponseJson {
    /** JSON's {@code null} (a {@code Map} or {@code List} cannot hold Java's null in every implementation). */
    static final Object NULL = new Object() {
        @Override
        public String toString() {
            return "null";
        }
    };

    /** Deeper nesting than any answer needs is refused rather than risking the stack. */
    private static final int MAX_DEPTH = 64;

    private final String text;
    private int pos;

    private ResponseJson(String text) {
        this.text = text;
    }

    /**
     * Parses one JSON text.
     *
     * @param text the text
     * @return the value
     * @throws IllegalArgumentException naming the first position that is not JSON
     */
    static Object parse(String text) {
        ResponseJson p = new ResponseJson(text);
        p.space();
        Object v = p.value(0);
        p.space();
        if (p.pos != text.length()) {
            throw p.error("unexpected text after the JSON value");
        }
        return v;
    }

    /**
     * Follows an RFC 6901 pointer ({@code ""} is the whole document, {@code /a/0/b} a member, an index, a
     * member).
     *
     * @param root    the document
     * @param pointer the pointer
     * @return the value it names
     * @throws IllegalArgumentException if the pointer is malformed or names nothing in the document
     */
    static Object at(Object root, String pointer) {
        if (pointer.isEmpty()) {
            return root;
        }
        if (pointer.charAt(0) != '/') {
            throw new IllegalArgumentException("the JSON pointer " + pointer + " must start with '/'");
        }
        Object v = root;
        String walked = "";
        for (String raw : pointer.substring(1).split("/", -1)) {
            String token = raw.replace("~1", "/").replace("~0", "~");
            walked += "/" + raw;
            if (v instanceof Map<?, ?> m) {
                if (!m.containsKey(token)) {
                    throw new IllegalArgumentException("the answer has nothing at " + walked);
                }
                v = m.get(token);
            } else if (v instanceof List<?> l) {
                int i;
                try {
                    i = Integer.parseInt(token);
                } catch (NumberFormatException e) {
                    throw new IllegalArgumentException("the answer has an array at " + walked.substring(0,
                            walked.length() - raw.length() - 1) + ", not an object with member " + token);
                }
                if (i < 0 || i >= l.size() || !token.equals(Integer.toString(i))) {
                    throw new IllegalArgumentException("the answer has nothing at " + walked);
                }
                v = l.get(i);
            } else {
                throw new IllegalArgumentException("the answer has nothing at " + walked);
            }
        }
        return v;
    }

    private Object value(int depth) {
        if (depth > MAX_DEPTH) {
            throw error("nesting deeper than " + MAX_DEPTH);
        }
        if (pos >= text.length()) {
            throw error("unexpected end, expected a value");
        }
        char c = text.charAt(pos);
        if (c == '{') {
            pos++;
            Map<String, Object> m = new LinkedHashMap<>();
            space();
            if (peek() == '}') {
                pos++;
                return m;
            }
            while (true) {
                space();
                if (peek() != '"') {
                    throw error("expected a key in double quotes");
                }
                String key = string();
                space();
                expect(':');
                space();
                if (m.put(key, value(depth + 1)) != null) {
                    throw error("duplicate key \"" + key + "\"");
                }
                space();
                if (peek() == ',') {
                    pos++;
                } else {
                    expect('}');
                    return m;
                }
            }
        }
        if (c == '[') {
            pos++;
            List<Object> l = new ArrayList<>();
            space();
            if (peek() == ']') {
                pos++;
                return l;
            }
            while (true) {
                space();
                l.add(value(depth + 1));
                space();
                if (peek() == ',') {
                    pos++;
                } else {
                    expect(']');
                    return l;
                }
            }
        }
        if (c == '"') {
            return string();
        }
        if (text.startsWith("true", pos)) {
            pos += 4;
            return Boolean.TRUE;
        }
        if (text.startsWith("false", pos)) {
            pos += 5;
            return Boolean.FALSE;
        }
        if (text.startsWith("null", pos)) {
            pos += 4;
            return NULL;
        }
        return number();
    }

    private Double number() {
        int start = pos;
        if (peek() == '-') {
            pos++;
        }
        if (peek() == '0') {
            pos++;
        } else if (digits() == 0) {
            pos = start;
            throw error("expected a value");
        }
        if (peek() == '.') {
            pos++;
            if (digits() == 0) {
                throw error("expected a digit after '.'");
            }
        }
        if (peek() == 'e' || peek() == 'E') {
            pos++;
            if (peek() == '+' || peek() == '-') {
                pos++;
            }
            if (digits() == 0) {
                throw error("expected a digit in the exponent");
            }
        }
        double d = Double.parseDouble(text.substring(start, pos));
        if (Double.isInfinite(d)) {
            pos = start;
            throw error("number out of range");
        }
        return d;
    }

    private int digits() {
        int n = 0;
        while (pos < text.length() && text.charAt(pos) >= '0' && text.charAt(pos) <= '9') {
            pos++;
            n++;
        }
        return n;
    }

    private String string() {
        pos++; // opening quote
        StringBuilder b = new StringBuilder();
        while (true) {
            if (pos >= text.length()) {
                throw error("unexpected end inside a string");
            }
            char c = text.charAt(pos++);
            if (c == '"') {
                return b.toString();
            }
            if (c < 0x20) {
                throw error("raw control character in a string");
            }
            if (c != '\\') {
                b.append(c);
                continue;
            }
            char e = pos < text.length() ? text.charAt(pos++) : 0;
            switch (e) {
                case '"', '\\', '/' -> b.append(e);
                case 'b' -> b.append('\b');
                case 'f' -> b.append('\f');
                case 'n' -> b.append('\n');
                case 'r' -> b.append('\r');
                case 't' -> b.append('\t');
                case 'u' -> {
                    if (pos + 4 > text.length()) {
                        throw error("truncated \\u escape");
                    }
                    try {
                        b.append((char) Integer.parseInt(text.substring(pos, pos + 4), 16));
                    } catch (NumberFormatException x) {
                        throw error("bad \\u escape");
                    }
                    pos += 4;
                }
                default -> throw error("unknown escape");
            }
        }
    }

    private void space() {
        while (pos < text.length() && " \t\n\r".indexOf(text.charAt(pos)) >= 0) {
            pos++;
        }
    }

    private char peek() {
        return pos < text.length() ? text.charAt(pos) : 0;
    }

    private void expect(char c) {
        if (peek() != c) {
            throw error("expected '" + c + "'");
        }
        pos++;
    }

    private IllegalArgumentException error(String what) {
        return new IllegalArgumentException("not JSON at character " + (pos + 1) + ": " + what);
    }
}
