package dev.dyepack.verify;

import java.util.LinkedHashMap;
import java.util.Map;

/**
 * A small JSON reader for tests, written here so the report's own writer is not checking itself:
 * flattens a document to dotted paths ({@code verdict.p_value}); array elements that are objects with a
 * {@code name} member are keyed by that name ({@code rates.clean.upper_bound}), others by index.
 * Numbers come back as Double, strings as String, true/false as Boolean, null as the string "null".
 */
final class FlatJson {
    private final String s;
    private int i;
    private final Map<String, Object> out = new LinkedHashMap<>();

    private FlatJson(String s) {
        this.s = s;
    }

    static Map<String, Object> parse(String text) {
        FlatJson p = new FlatJson(text);
        p.value("");
        p.ws();
        if (p.i != text.length()) {
            throw new IllegalArgumentException("trailing text at " + p.i);
        }
        return p.out;
    }

    private void ws() {
        while (i < s.length() && Character.isWhitespace(s.charAt(i))) {
            i++;
        }
    }

    private void expect(char c) {
        ws();
        if (s.charAt(i) != c) {
            throw new IllegalArgumentException("expected '" + c + "' at " + i + ": " + s.substring(i, Math.min(s.length(), i + 20)));
        }
        i++;
    }

    private static String join(String path, String key) {
        return path.isEmpty() ? key : path + "." + key;
    }

    private void value(String path) {
        ws();
        char c = s.charAt(i);
        if (c == '{') {
            i++;
            ws();
            if (s.charAt(i) == '}') {
                i++;
                return;
            }
            do {
                String key = string();
                expect(':');
                value(join(path, key));
                ws();
            } while (s.charAt(i++) == ',');
            if (s.charAt(i - 1) != '}') {
                throw new IllegalArgumentException("expected '}' at " + (i - 1));
            }
        } else if (c == '[') {
            i++;
            ws();
            if (s.charAt(i) == ']') {
                i++;
                return;
            }
            int index = 0;
            do {
                int start = out.size();
                String tmp = join(path, "#" + index);
                value(tmp);
                Object name = out.get(tmp + ".name");
                if (name instanceof String n) {
                    Map<String, Object> renamed = new LinkedHashMap<>();
                    int k = 0;
                    for (Map.Entry<String, Object> e : out.entrySet()) {
                        String key = e.getKey();
                        renamed.put(k++ >= start && key.startsWith(tmp + ".") ? join(path, n) + key.substring(tmp.length())
                                : key, e.getValue());
                    }
                    out.clear();
                    out.putAll(renamed);
                }
                index++;
                ws();
            } while (s.charAt(i++) == ',');
            if (s.charAt(i - 1) != ']') {
                throw new IllegalArgumentException("expected ']' at " + (i - 1));
            }
        } else if (c == '"') {
            out.put(path, string());
        } else if (s.startsWith("true", i)) {
            i += 4;
            out.put(path, Boolean.TRUE);
        } else if (s.startsWith("false", i)) {
            i += 5;
            out.put(path, Boolean.FALSE);
        } else if (s.startsWith("null", i)) {
            i += 4;
            out.put(path, "null");
        } else {
            int start = i;
            while (i < s.length() && "+-0123456789.eE".indexOf(s.charAt(i)) >= 0) {
                i++;
            }
            out.put(path, Double.valueOf(s.substring(start, i)));
        }
    }

    private String string() {
        expect('"');
        StringBuilder b = new StringBuilder();
        while (s.charAt(i) != '"') {
            char c = s.charAt(i++);
            if (c == '\\') {
                char e = s.charAt(i++);
                switch (e) {
                    case 'n' -> b.append('\n');
                    case 't' -> b.append('\t');
                    case 'r' -> b.append('\r');
                    case 'u' -> {
                        b.append((char) Integer.parseInt(s.substring(i, i + 4), 16));
                        i += 4;
                    }
                    default -> b.append(e);
                }
            } else {
                b.append(c);
            }
        }
        i++;
        return b.toString();
    }
}
