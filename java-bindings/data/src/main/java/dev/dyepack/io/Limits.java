package dev.dyepack.io;

import dev.dyepack.InvalidArgumentException;
import dev.dyepack.InvalidInputException;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * The resource limits every reader checks before it allocates: what one hostile input may make DyePack
 * hold in memory. Each limit has a documented default and can be raised (or lowered) with a system
 * property {@code dyepack.limit.<name>} (for the CLI: {@code DYEPACK_JAVA_OPTS=-Ddyepack.limit.pixels=...}).
 * A value over a limit is refused with an {@link InvalidInputException} that names the file, the value,
 * the limit and the property that raises it.
 *
 * <table>
 * <caption>Limits, their properties and defaults</caption>
 * <tr><th>name (property {@code dyepack.limit.NAME})</th><th>default</th><th>what it bounds</th></tr>
 * <tr><td>{@code pixels}</td><td>{@value #DEFAULT_PIXELS} (2^25)</td><td>pixels of one decoded image
 * (PNG/JPEG, checked from its header before decoding)</td></tr>
 * <tr><td>{@code image-bytes}</td><td>{@value #DEFAULT_IMAGE_BYTES} (256 MiB)</td><td>bytes of one image file, and
 * of one decoded image</td></tr>
 * <tr><td>{@code header-bytes}</td><td>{@value #DEFAULT_HEADER_BYTES} (1 MiB)</td><td>a {@code .npy} header</td></tr>
 * <tr><td>{@code depth}</td><td>{@value #DEFAULT_DEPTH}</td><td>nesting of a {@code .npy} header, of JSON (manifests,
 * probe records, answers) and of IDX dimensions</td></tr>
 * <tr><td>{@code indices-bytes}</td><td>{@value #DEFAULT_INDICES_BYTES} (64 MiB)</td><td>an indices file</td></tr>
 * <tr><td>{@code classes}</td><td>{@value #DEFAULT_CLASSES}</td><td>classes of a dataset (labels must lie in
 * {@code [0, classes)})</td></tr>
 * <tr><td>{@code record-bytes}</td><td>{@value #DEFAULT_RECORD_BYTES} (64 MiB)</td><td>a manifest or probe record</td></tr>
 * </table>
 *
 * <p>Immutable and thread-safe; {@link #current()} reads the properties on each call.
 */
public final class Limits {
    /** Default {@code pixels}: 2^25, e.g. 5792 x 5792 (a decoded image then needs at most 128 MiB). */
    public static final long DEFAULT_PIXELS = 1L << 25;
    /** Default {@code image-bytes}: 256 MiB. */
    public static final long DEFAULT_IMAGE_BYTES = 256L << 20;
    /** Default {@code header-bytes}: 1 MiB, far above the few hundred bytes NumPy writes. */
    public static final long DEFAULT_HEADER_BYTES = 1L << 20;
    /** Default {@code depth}. */
    public static final long DEFAULT_DEPTH = 64;
    /** Default {@code indices-bytes}: 64 MiB, some 8 million indices as text. */
    public static final long DEFAULT_INDICES_BYTES = 64L << 20;
    /** Default {@code classes}. */
    public static final long DEFAULT_CLASSES = 1L << 16;
    /** Default {@code record-bytes}: 64 MiB. */
    public static final long DEFAULT_RECORD_BYTES = 64L << 20;

    /** Prefix of the system properties that override a limit. */
    public static final String PROPERTY_PREFIX = "dyepack.limit.";

    private static final Map<String, Long> DEFAULTS = defaults();

    private final Map<String, Long> values;

    private Limits(Map<String, Long> values) {
        this.values = Map.copyOf(values);
    }

    private static Map<String, Long> defaults() {
        Map<String, Long> d = new LinkedHashMap<>();
        d.put("pixels", DEFAULT_PIXELS);
        d.put("image-bytes", DEFAULT_IMAGE_BYTES);
        d.put("header-bytes", DEFAULT_HEADER_BYTES);
        d.put("depth", DEFAULT_DEPTH);
        d.put("indices-bytes", DEFAULT_INDICES_BYTES);
        d.put("classes", DEFAULT_CLASSES);
        d.put("record-bytes", DEFAULT_RECORD_BYTES);
        return d;
    }

    /**
     * The limits in force: the defaults, each replaced by its system property when set.
     *
     * @return the limits
     * @throws InvalidArgumentException if a property is not a positive decimal integer of ASCII digits
     */
    public static Limits current() {
        Map<String, Long> v = new LinkedHashMap<>(DEFAULTS);
        for (String name : DEFAULTS.keySet()) {
            String p = System.getProperty(PROPERTY_PREFIX + name);
            if (p != null) {
                v.put(name, parsePositive(PROPERTY_PREFIX + name, p.trim()));
            }
        }
        return new Limits(v);
    }

    /** @return the defaults, ignoring system properties */
    public static Limits defaultLimits() {
        return new Limits(DEFAULTS);
    }

    /**
     * These limits with one changed.
     *
     * @param name  a limit's name, e.g. {@code "pixels"}
     * @param value its new value, positive
     * @return the new limits
     * @throws InvalidArgumentException if the name is unknown or the value not positive
     */
    public Limits with(String name, long value) {
        if (!DEFAULTS.containsKey(name)) {
            throw new InvalidArgumentException("unknown limit \"" + name + "\"; known: " + DEFAULTS.keySet());
        }
        if (value <= 0) {
            throw new InvalidArgumentException("limit " + name + " must be positive, got " + value);
        }
        Map<String, Long> v = new LinkedHashMap<>(values);
        v.put(name, value);
        return new Limits(v);
    }

    /** @return the largest number of pixels of one image */
    public long pixels() {
        return values.get("pixels");
    }

    /** @return the largest image file, and decoded image, in bytes */
    public long imageBytes() {
        return values.get("image-bytes");
    }

    /** @return the largest {@code .npy} header, in bytes */
    public long headerBytes() {
        return values.get("header-bytes");
    }

    /** @return the deepest nesting of a header or JSON document */
    public int depth() {
        return (int) Math.min(Integer.MAX_VALUE, values.get("depth"));
    }

    /** @return the largest indices file, in bytes */
    public long indicesBytes() {
        return values.get("indices-bytes");
    }

    /** @return the largest number of classes */
    public long classes() {
        return values.get("classes");
    }

    /** @return the largest manifest or probe record, in bytes */
    public long recordBytes() {
        return values.get("record-bytes");
    }

    /**
     * Refuses a value over a limit.
     *
     * @param name  the limit's name
     * @param value the value found
     * @param what  what was found, naming the input (e.g. {@code "cat/1.png: 40000 x 40000 pixels"})
     * @throws InvalidInputException if {@code value} exceeds the limit (or is negative, meaning it overflowed)
     */
    public void check(String name, long value, String what) {
        long limit = values.get(name);
        if (value < 0 || value > limit) {
            throw new InvalidInputException(what + " exceeds the limit of " + limit + " (" + PROPERTY_PREFIX + name
                    + "; raise it with -D" + PROPERTY_PREFIX + name + "=N in DYEPACK_JAVA_OPTS)");
        }
    }

    /**
     * Parses a count written in ASCII decimal digits only (no sign, no full-width or other Unicode digits,
     * which {@link Long#parseLong} would accept).
     *
     * @param what  what the number is, for the message
     * @param text  the text
     * @return the value
     * @throws InvalidArgumentException if the text is not 1 to 18 ASCII digits or the value is 0
     */
    public static long parsePositive(String what, String text) {
        if (text == null || text.isEmpty() || text.length() > 18 || !text.chars().allMatch(c -> c >= '0' && c <= '9')) {
            throw new InvalidArgumentException(what + " must be a positive integer of ASCII digits, got \"" + text + "\"");
        }
        long v = Long.parseLong(text);
        if (v <= 0) {
            throw new InvalidArgumentException(what + " must be positive, got " + v);
        }
        return v;
    }

    @Override
    public String toString() {
        return "Limits" + values;
    }
}
