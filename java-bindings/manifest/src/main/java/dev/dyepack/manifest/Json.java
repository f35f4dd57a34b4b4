package dev.dyepack.manifest;

/** JSON text helpers for the small documents DyePack writes (reports, manifests). */
public final class Json {
    private Json() {}

    /**
     * Quotes a string as a JSON string literal, escaping quotes, backslashes and control characters.
     *
     * @param s the text (null gives {@code null})
     * @return the literal, including the surrounding quotes
     */
    public static String quote(String s) {
        if (s == null) {
            return "null";
        }
        StringBuilder b = new StringBuilder(s.length() + 2).append('"');
        for (int i = 0; i < s.length(); i++) {
            char ch = s.charAt(i);
            switch (ch) {
                case '"' -> b.append("\\\"");
                case '\\' -> b.append("\\\\");
                case '\n' -> b.append("\\n");
                case '\r' -> b.append("\\r");
                case '\t' -> b.append("\\t");
                default -> {
                    if (ch < 0x20) {
                        b.append(String.format("\\u%04x", (int) ch));
                    } else {
                        b.append(ch);
                    }
                }
            }
        }
        return b.append('"').toString();
    }
}
