package dev.dyepack;

import java.util.Optional;

/**
 * A parameter is out of range, null, or inconsistent with another one; nothing was changed.
 *
 * <p>Where the fault lies in one parameter, the exception says which ({@link #parameter()}, in the
 * library's own terms, e.g. {@code "key"}, {@code "budget"}, {@code "target"}), the value given
 * ({@link #value()}) and what is allowed ({@link #allowed()}), so that a front end can name its own
 * option for it; the message reads well on its own and never names a command-line flag.
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
        this.value = value == null ? null : String.valueOf(value);
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
        return new InvalidArgumentException(parameter + " must be " + allowed + ", got " + value, parameter, value,
                allowed);
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
