package dev.dyepack.verify;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * The probe record's JSON: objects, strings, integers and integer arrays only, written with sorted
 * keys and no whitespace. For that subset this is exactly RFC 8785's canonical form, so the record
 * can be checked with any JCS implementation. Reading accepts only what writing produces.
 */
final class Canonical {
    private Canonical() {}

    /**
     * @param value a {@code Map<String, ?>} (written with sorted keys), String, Long, long[]
     * @return the canonical text
     */
    static String write(Object value) {
        StringBuilder b = new StringBuilder();
        write(b, value);
        return b.toString();
    }

    private static void write(StringBuilder b, Object v) {
        if (v instanceof Map<?, ?> m) {
            b.append('{');
            boolean first = true;
            for (Map.Entry<?, ?> e : new TreeMap<>(m).entrySet()) {
                b.append(first ? "" : ",");
                first = false;
                string(b, (String) e.getKey());
                b.append(':');
                write(b, e.getValue());
            }
            b.append('}');
        } else if (v instanceof String s) {
            string(b, s);
        } else if (v instanceof Long l) {
            b.append(l);
        } else if (v instanceof long[] a) {
            b.append('[');
            for (int i = 0; i < a.length; i++) {
                b.append(i == 0 ? "" : ",").append(a[i]);
            }
            b.append(']');
        } else {
            throw new IllegalArgumentException("not part of the probe record's JSON: " + v);
        }
    }

    /** RFC 8785 string escaping: the two-character forms where JSON has them, else \\u00XX below 0x20. */
    private static void string(StringBuilder b, String s) {
        b.append('"');
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            switch (c) {
                case '"' -> b.append("\\\"");
                case '\\' -> b.append("\\\\");
                case '\b' -> b.append("\\b");
                case '\f' -> b.append("\\f");
                case '\n' -> b.append("\\n");
                case '\r' -> b.append("\\r");
                case '\t' -> b.append("\\t");
                default -> {
                    if (c < 0x20) {
                        b.append(String.format("\\u%04x", (int) c));
                    } else {
                        b.append(c);
                    }
                }
            }
        }
        b.append('"');
    }

    /**
     * Reads a record written by {@link #write}: an object of strings, integers, integer arrays and
     * nested objects.
     *
     * @param text the JSON text (a trailing newline allowed)
     * @return the members, keys sorted
     * @throws IllegalArgumentException for anything else
     */
    static Map<String, Object> read(String text) {
        Reader r = new Reader(text.strip());
        Object v = r.value(0);
        if (r.at != r.s.length() || !(v instanceof Map)) {
            throw new IllegalArgumentException("expected one JSON object");
        }
        @SuppressWarnings("unchecked")
        Map<String, Object> m = (Map<String, Object>) v;
        return m;
    }

    private static final class Reader {
        final String s;
        int at;

        Reader(String s) {
            this.s = s;
        }

        char peek() {
            if (at >= s.length()) {
                throw new IllegalArgumentException("unexpected end at " + at);
            }
            return s.charAt(at);
        }

        void expect(char c) {
            if (peek() != c) {
                throw new IllegalArgumentException("expected '" + c + "' at " + at);
            }
            at++;
        }

        Object value(int depth) {
            if (depth > 8) {
                throw new IllegalArgumentException("nested too deeply");
            }
            char c = peek();
            if (c == '{') {
                at++;
                Map<String, Object> m = new TreeMap<>();
                if (peek() == '}') {
                    at++;
                    return m;
                }
                do {
                    String k = str();
                    expect(':');
                    if (m.put(k, value(depth + 1)) != null) {
                        throw new IllegalArgumentException("key '" + k + "' given twice");
                    }
                } while (peek() == ',' && at++ >= 0);
                expect('}');
                return m;
            }
            if (c == '[') {
                at++;
                List<Long> out = new ArrayList<>();
                if (peek() != ']') {
                    do {
                        out.add(integer());
                    } while (peek() == ',' && at++ >= 0);
                }
                expect(']');
                return out.stream().mapToLong(Long::longValue).toArray();
            }
            if (c == '"') {
                return str();
            }
            return integer();
        }

        long integer() {
            int start = at;
            if (peek() == '-') {
                at++;
            }
            while (at < s.length() && Character.isDigit(s.charAt(at))) {
                at++;
            }
            try {
                return Long.parseLong(s.substring(start, at));
            } catch (NumberFormatException e) {
                throw new IllegalArgumentException("expected an integer at " + start);
            }
        }

        String str() {
            expect('"');
            StringBuilder b = new StringBuilder();
            while (peek() != '"') {
                char c = s.charAt(at++);
                if (c == '\\') {
                    char e = s.charAt(at++);
                    switch (e) {
                        case '"', '\\', '/' -> b.append(e);
                        case 'b' -> b.append('\b');
                        case 'f' -> b.append('\f');
                        case 'n' -> b.append('\n');
                        case 'r' -> b.append('\r');
                        case 't' -> b.append('\t');
                        case 'u' -> {
                            b.append((char) Integer.parseInt(s.substring(at, at + 4), 16));
                            at += 4;
                        }
                        default -> throw new IllegalArgumentException("bad escape at " + at);
                    }
                } else {
                    b.append(c);
                }
            }
            at++;
            return b.toString();
        }
    }
}
