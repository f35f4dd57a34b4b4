package dev.dyepack.trigger;

import dev.dyepack.InvalidArgumentException;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.function.Function;

/**
 * The registry of trigger families: one descriptor per family, with its name, the data it applies to,
 * when it needs the owner's key, and its parameters. The spec parser, the record constructors (through
 * the same {@link TriggerParameter}s), the CLI's help and the parameter tables of
 * {@code docs/triggers.md} all read it, so a family is defined in one place. Immutable.
 */
public final class TriggerFamily {
    private final String name;
    private final DataKind kind;
    private final String summary;
    private final String keyed;
    private final List<TriggerParameter> parameters;
    private final Function<Map<String, String>, TriggerSpec> parser;

    TriggerFamily(String name, DataKind kind, String summary, String keyed, List<TriggerParameter> parameters,
            Function<Map<String, String>, TriggerSpec> parser) {
        this.name = name;
        this.kind = kind;
        this.summary = summary;
        this.keyed = keyed;
        this.parameters = List.copyOf(parameters);
        this.parser = parser;
    }

    /** Built on first use: every family's class defines its own descriptor. */
    private static final class Registry {
        static final List<TriggerFamily> ALL = List.of(PatchTrigger.DESCRIPTOR, BlendTrigger.DESCRIPTOR,
                SigTrigger.DESCRIPTOR, LowFreqTrigger.DESCRIPTOR, WarpTrigger.DESCRIPTOR, NoiseTrigger.DESCRIPTOR,
                SparseTrigger.DESCRIPTOR, DctTrigger.DESCRIPTOR,
                TokenTrigger.DESCRIPTOR, ColumnTrigger.DESCRIPTOR);
    }

    /** @return every family, in the order the docs and help list them */
    public static List<TriggerFamily> all() {
        return Registry.ALL;
    }

    /** @return every family's name, comma-separated, as error messages list them */
    public static String names() {
        return String.join(", ", all().stream().map(TriggerFamily::name).toList());
    }

    /**
     * The family of a name.
     *
     * @param name the family name, lower case
     * @return its descriptor
     * @throws InvalidArgumentException naming the unknown family and every known one
     */
    public static TriggerFamily named(String name) {
        for (TriggerFamily f : all()) {
            if (f.name.equals(name)) {
                return f;
            }
        }
        throw new InvalidArgumentException("unknown trigger family '" + name + "' (known: " + names() + ")",
                "family", name, names());
    }

    /** @return the name in spec strings, e.g. "patch" */
    public String name() {
        return name;
    }

    /** @return the kind of data it applies to */
    public DataKind kind() {
        return kind;
    }

    /** @return a one-line description */
    public String summary() {
        return summary;
    }

    /** @return when it needs the owner's key ("always", "never", or the condition) */
    public String keyed() {
        return keyed;
    }

    /** @return its parameters, in canonical order */
    public List<TriggerParameter> parameters() {
        return parameters;
    }

    /**
     * Builds a trigger from a spec's fields.
     *
     * @param fields field name to raw text; names not in {@link #parameters()} are refused
     * @return the trigger
     * @throws InvalidArgumentException naming the bad field, the value and what is allowed
     */
    TriggerSpec parse(Map<String, String> fields) {
        TriggerParameter.requireKnown(name, fields, parameters);
        return Objects.requireNonNull(parser.apply(fields));
    }

    /**
     * This family's parameter table in Markdown, as {@code docs/triggers.md} holds it.
     *
     * @return the table, one line per row, ending in a newline
     */
    public String markdownTable() {
        StringBuilder b = new StringBuilder("| field | default | allowed | meaning |\n|---|---|---|---|\n");
        for (TriggerParameter p : parameters) {
            b.append("| `").append(p.name()).append("` | ").append(p.defaultText()).append(" | ")
                    .append(p.allowed()).append(" | ").append(p.doc()).append(" |\n");
        }
        return b.toString();
    }

    /**
     * Every family and its fields, as the CLI prints them.
     *
     * @return plain text, ending in a newline
     */
    public static String help() {
        StringBuilder b = new StringBuilder();
        for (TriggerFamily f : all()) {
            b.append(f.name).append(" - ").append(f.summary).append(" (").append(f.kind.name().toLowerCase(
                    java.util.Locale.ROOT)).append("; keyed: ").append(f.keyed).append(")\n");
            for (TriggerParameter p : f.parameters) {
                b.append("    ").append(p.name()).append('=').append(" default ").append(p.defaultText())
                        .append("; ").append(p.allowed()).append(". ").append(p.doc()).append('\n');
            }
        }
        return b.toString();
    }
}
