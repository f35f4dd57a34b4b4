package dev.dyepack;

import java.util.Optional;

/**
 * A parameter is out of range, null, or inconsistent with another one; nothing was changed.
 *
 * <p>Where the fault lies in one parameter, the exception says which ({@link #parameter()}, in the
 * library's own terms, e.g. {@code "key"}, {@code "budget"}, {@code "target"}), the value given
 * ({@link #value()}) and what is allowed ({@link #allowed()}), so that a front end can name its own
 * option for it; the message reads well on its own and never names a command-line flag. The names
 * are the constants of {@link Parameters}.
 */
public class InvalidArgumentException extends DyePackException {
    private static final long serialVersionUID = 1L;

    /** The parameter at fault, or null. */
    private final String parameter;
    /** The value given, as text, or null. */
    private final String value;
    /** What would have been accepted, or null. */
    private final String allowed;

    /** @param message names the parameter and the allowed values */
    public InvalidArgumentException(String message) {
        this(message, null, null, null);
    }

    /**
     * @param message   the whole explanation
     * @param parameter the parameter at fault (the library's name for it), or null
     * @param value     the value given, or null
     * @param allowed   what is allowed, or null
     */
    public InvalidArgumentException(String message, String parameter, Object value, String allowed) {
        super(message);
        this.parameter = parameter;
        this.value = text(value);
        this.allowed = allowed;
    }

    /**
     * The common case: "{@code parameter} must be {@code allowed}, got {@code value}".
     *
     * @param parameter the parameter at fault
     * @param value     the value given
     * @param allowed   what is allowed, phrased to follow "must be"
     * @return the exception
     */
    public static InvalidArgumentException of(String parameter, Object value, String allowed) {
        return new InvalidArgumentException(parameter + " must be " + allowed + ", got " + text(value), parameter,
                value, allowed);
    }

    /**
     * A fault in one parameter that "must be ..." does not describe well (a missing key, a
     * combination of values): the whole message, and the parameter it lies in.
     *
     * @param parameter the parameter at fault, one of {@link Parameters}
     * @param value     the value given, or null when none was
     * @param message   the whole explanation, in the library's terms
     * @return the exception
     */
    public static InvalidArgumentException about(String parameter, Object value, String message) {
        return new InvalidArgumentException(message, parameter, value, null);
    }

    /** Arrays read as their elements, not as an identity hash. */
    private static String text(Object value) {
        if (value == null) {
            return null;
        }
        if (value instanceof long[] a) {
            return java.util.Arrays.toString(a);
        }
        if (value instanceof int[] a) {
            return java.util.Arrays.toString(a);
        }
        if (value instanceof float[] a) {
            return java.util.Arrays.toString(a);
        }
        if (value instanceof double[] a) {
            return java.util.Arrays.toString(a);
        }
        if (value instanceof Object[] a) {
            return java.util.Arrays.deepToString(a);
        }
        return String.valueOf(value);
    }

    /** @return the parameter at fault, in the library's terms, when the fault lies in one */
    public Optional<String> parameter() {
        return Optional.ofNullable(parameter);
    }

    /** @return the value given, as text, when known */
    public Optional<String> value() {
        return Optional.ofNullable(value);
    }

    /** @return what is allowed, when known */
    public Optional<String> allowed() {
        return Optional.ofNullable(allowed);
    }
}
