package dev.dyepack.verify.endpoint;

import dev.dyepack.InvalidInputException;
import dev.dyepack.manifest.JsonReader;
import java.util.List;
import java.util.Map;

/**
 * A prediction service's answers: read strictly by the project's JSON reader ({@link JsonReader}: a
 * garbled answer never reaches a verdict), and RFC 6901 pointers into them.
 */
final class ResponseJson {
    /** Deeper nesting than any answer needs is refused rather than risking the stack. */
    private static final int MAX_DEPTH = 64;

    private ResponseJson() {
    }

    /**
     * Parses one JSON text.
     *
     * @param text the text
     * @return the value, as {@link JsonReader#parse} gives it
     * @throws IllegalArgumentException naming the first position that is not JSON
     */
    static Object parse(String text) {
        try {
            return JsonReader.parse(text, MAX_DEPTH);
        } catch (InvalidInputException e) {
            throw new IllegalArgumentException(e.getMessage(), e);
        }
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
}
