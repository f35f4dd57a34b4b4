package dev.dyepack.manifest;

import dev.dyepack.InvalidArgumentException;
import dev.dyepack.InvalidInputException;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The project's one strict JSON reader (RFC 8259), for documents other modules read as plain Java
 * values (a prediction service's answers, request templates). Anything outside the grammar, a
 * duplicate member or nesting beyond the limit is refused with its line and column; nothing is read
 * leniently. Stateless and thread-safe.
 *
 * <p>Values: objects are {@code Map<String, Object>} (in document order), arrays {@code List<Object>},
 * numbers written without fraction or exponent that fit a {@code long} are {@link Long}, other numbers
 * {@link Double}, then {@code String}, {@code Boolean}, and {@link #NULL} for JSON's null.
 */
public final class JsonReader {
    /** JSON's {@code null}. */
    public static final Object NULL = new Object() {
        @Override
        public String toString() {
            return "null";
        }
    };

    /** The deepest nesting any caller may allow; far below what exhausts a default thread stack. */
    public static final int MAX_DEPTH = 1000;

    private JsonReader() {
    }

    /**
     * Parses one JSON text.
     *
     * @param text     the text
     * @param maxDepth the deepest nesting allowed (1: one object or array of scalars), at most
     *                 {@link #MAX_DEPTH}: the parser recurses once per level, so the bound keeps any text
     *                 from exhausting the stack
     * @return the value
     * @throws InvalidInputException    "not JSON at line L, column C: ..." for anything else
     * @throws InvalidArgumentException if {@code maxDepth} is outside 1 to {@link #MAX_DEPTH}
     */
    public static Object parse(String text, int maxDepth) {
        if (maxDepth < 1 || maxDepth > MAX_DEPTH) {
            throw new InvalidArgumentException("maxDepth must be in [1, " + MAX_DEPTH + "], got " + maxDepth);
        }
        try {
            return toJava(JsonParser.parse(text, maxDepth));
        } catch (JsonSyntaxException e) {
            throw new InvalidInputException("not JSON at " + e.getMessage(), e);
        }
    }

    private static Object toJava(JsonValue v) {
        if (v instanceof JsonValue.Obj o) {
            Map<String, Object> out = new LinkedHashMap<>();
            o.members().forEach((k, x) -> out.put(k, toJava(x)));
            return out;
        }
        if (v instanceof JsonValue.Arr a) {
            List<Object> out = new ArrayList<>(a.elements().size());
            for (JsonValue x : a.elements()) {
                out.add(toJava(x));
            }
            return out;
        }
        if (v instanceof JsonValue.Ints a) {
            List<Object> out = new ArrayList<>(a.values().length);
            for (long l : a.values()) {
                out.add(l);
            }
            return out;
        }
        if (v instanceof JsonValue.Str s) {
            return s.value();
        }
        if (v instanceof JsonValue.Int i) {
            return i.value();
        }
        if (v instanceof JsonValue.Real r) {
            return r.value();
        }
        if (v instanceof JsonValue.Bool b) {
            return b.value();
        }
        return NULL;
    }
}
