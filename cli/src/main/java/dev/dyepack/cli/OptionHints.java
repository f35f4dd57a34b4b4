package dev.dyepack.cli;

import static java.util.Map.entry;

import dev.dyepack.InvalidArgumentException;
import dev.dyepack.Parameters;
import java.util.Map;
import java.util.Optional;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The command line's wording for the library's parameters: the one table that turns a parameter an
 * {@link InvalidArgumentException} names ({@link Parameters}) into the options that set it. Library
 * messages never name flags; the CLI adds this hint to its {@code dyepack: ...} line.
 */
final class OptionHints {
    private OptionHints() {}

    private static final Map<String, String> HINTS = Map.ofEntries(
            entry(Parameters.KEY, "give --key-file FILE or set DYEPACK_KEY"),
            entry(Parameters.BUDGET, "option --budget"),
            entry(Parameters.ALLOW_OVER_5_PERCENT, "pass --allow-over-5-percent to go above the cap; the manifest "
                    + "records it"),
            entry(Parameters.OVERRIDE_REASON, "option --override-reason, with --allow-over-5-percent"),
            entry(Parameters.TARGET, "option --target"),
            entry(Parameters.STRATEGY, "option --select"),
            entry(Parameters.MODE, "option --mode"),
            entry(Parameters.SURROGATE, "option --surrogate linear, or --features X.npy --head H.npz"),
            entry(Parameters.FEATURES, "option --features"),
            entry(Parameters.HEAD, "option --head"),
            entry(Parameters.LABELS, "option --labels"),
            entry(Parameters.INDICES, "option --indices"),
            entry(Parameters.TRIGGER, "option --trigger"),
            entry(Parameters.DATA, "option --data"),
            entry(Parameters.OUT, "option --out"),
            entry(Parameters.LAYOUT, "option --layout"),
            entry(Parameters.THREADS, "option --threads"),
            entry(Parameters.BACKEND, "option --backend"),
            entry(Parameters.PROBES, "option --size"),
            entry(Parameters.CONTROLS, "option --controls"));

    private static final Pattern FLAG = Pattern.compile("--[a-z0-9-]+");

    /**
     * The options to mention for a failure: those of the parameter named by the first
     * {@link InvalidArgumentException} in its cause chain that names one the CLI has an option for.
     *
     * @param failure the failure
     * @return the hint, or empty when no parameter with an option is named
     */
    static Optional<String> hint(Throwable failure) {
        for (Throwable t = failure; t != null; t = t.getCause()) {
            if (t instanceof InvalidArgumentException e && e.parameter().isPresent()) {
                String h = HINTS.get(e.parameter().get());
                if (h != null) {
                    return Optional.of(h);
                }
            }
        }
        return Optional.empty();
    }

    /**
     * The message with the hint after it in parentheses, unless the message already names the hint's
     * first option.
     *
     * @param failure the failure
     * @param message its message
     * @return the line's text, without the {@code dyepack: } prefix
     */
    static String withHint(Throwable failure, String message) {
        Optional<String> h = hint(failure);
        if (h.isEmpty()) {
            return message;
        }
        Matcher m = FLAG.matcher(h.get());
        if (m.find() && message.contains(m.group())) {
            return message;
        }
        return message + " (" + h.get() + ")";
    }

    /** @return the parameters the table covers, for tests */
    static java.util.Set<String> parameters() {
        return HINTS.keySet();
    }
}
