package dev.dyepack.manifest;

import dev.dyepack.InvalidArgumentException;
import dev.dyepack.key.OwnerKey;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Instant;
import java.time.LocalDateTime;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.time.format.DateTimeParseException;
import java.time.format.ResolverStyle;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.Comparator;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.SortedMap;
import java.util.TreeMap;
import java.util.regex.Pattern;

/**
 * What a poisoning run did, exactly: the record written as {@code manifest.json} next to a poisoned
 * dataset, signed with a subkey of the owner's key so that the owner can later prove which samples
 * carry the trigger and detect any change to the record. It holds the key's public
 * {@linkplain OwnerKey#fingerprint() fingerprint}, never the key.
 *
 * <p>An immutable final class with a {@link Builder} (rather than a record, whose constructor would
 * take some twenty positional arguments): {@link #builder()} collects the fields,
 * {@link Builder#build()} checks them and returns an unsigned manifest, {@link ManifestSigner#sign}
 * returns the signed copy, {@link ManifestWriter} and {@link ManifestReader} store and load it.
 * Thread-safe; accessors return copies or unmodifiable views.
 *
 * <h2>Fields (JSON names)</h2>
 * <ul>
 *   <li>{@code format}: {@value #FORMAT} for manifests written now; {@value #FORMAT_1} for manifests
 *       written before, which are still read and verified by their own canonical form (below); a
 *       reader refuses other formats.</li>
 *   <li>{@code tool_version}: the DyePack version that wrote it.</li>
 *   <li>{@code created}: UTC, whole seconds, {@code yyyy-MM-ddTHH:mm:ssZ}.</li>
 *   <li>{@code key_fingerprint}: {@code dpk1:} and 32 lowercase hex digits.</li>
 *   <li>{@code files}: SHA-256 of each input and output file: {@code stage} ("input", "output"),
 *       {@code role} ("data", "labels"), {@code path} (relative to the manifest's directory when
 *       possible, {@code /}-separated) and {@code sha256}; at most one entry per stage and role.</li>
 *   <li>{@code trigger}: {@code spec} (the canonical spec string) and {@code parameters} (its JSON
 *       object, as {@code TriggerSpec.toJson()} gives it).</li>
 *   <li>{@code target_class}, {@code mode} ("dirty" or "clean").</li>
 *   <li>{@code budget}: {@code requested} (the user's text, e.g. "0.01" or "600"), {@code fraction}
 *       (count / n as a double), {@code count} (samples poisoned), {@code n} (samples in all).</li>
 *   <li>{@code override}: {@code over_5_percent} (whether the 5% ceiling was lifted) and
 *       {@code reason} (the user's reason, or null).</li>
 *   <li>{@code selection}: {@code strategy} ("boundary", "boundary-far", "random"), {@code stratified}, and
 *       {@code surrogate}: {@code kind} ("linear", "features+head", "none") and {@code sha256} of the
 *       surrogate model file, or null.</li>
 *   <li>{@code per_class}: {@code poisoned} (class → samples poisoned, by original label) and
 *       {@code total} (class → samples); both empty when the data has no labels.</li>
 *   <li>{@code indices}: the poisoned sample indices, ascending and distinct.</li>
 *   <li>{@code negatives} (optional, format 2; absent when none were stamped): {@code keys} (how many
 *       negative keys) and {@code indices} (ascending, distinct, disjoint from {@code indices}): samples
 *       stamped with the same trigger under keys derived from the owner's key, labels kept, so that a
 *       model learns the owner's pattern rather than the trigger family.</li>
 *   <li>{@code signature}: HMAC-SHA256 over {@link #canonical()} with the key
 *       {@code owner.derive("manifest/signature", 32)}, 64 lowercase hex digits; null while unsigned.</li>
 * </ul>
 *
 * <h2>Canonical form of format 2 (what is signed)</h2>
 * <p>{@link #canonical()} is the UTF-8 encoding of the RFC 8785 (JSON Canonicalization Scheme) form
 * of the manifest's JSON document without its {@code signature} member: members of every object sorted
 * by name (UTF-16 code units), no whitespace, every number written by ECMAScript's
 * {@code Number.prototype.toString} of its double value, strings with RFC 8785's minimal escaping.
 * Anyone can therefore recompute it from the file alone with any RFC 8785 implementation; {@code
 * docs/manifest-format.md} specifies every step and gives a verifier in a few lines of Python. For the
 * file to canonicalise to what the fields mean, format 2 additionally requires {@code files} in the
 * order below (arrays are not sorted by RFC 8785) and every integer within &plusmn;(2<sup>53</sup>&minus;1),
 * so that it is exact as a double. A floating-point trigger parameter (a float32 in DyePack) is
 * recorded by {@link Builder#trigger(String, String)} as the shortest decimal that reads back as the
 * same float32, so the same run writes the same bytes on every JDK.
 *
 * <h2>Canonical form of format 1</h2>
 * <p>For format 1, {@link #canonical()} is the UTF-8 encoding of this JSON text, with no whitespace outside strings,
 * the members in exactly this order, and {@code signature} left out:
 * <pre>
 * {"format":S,"tool_version":S,"created":S,"key_fingerprint":S,
 *  "files":[{"stage":S,"role":S,"path":S,"sha256":S},...],
 *  "trigger":{"spec":S,"parameters":O},"target_class":I,"mode":S,
 *  "budget":{"requested":S,"fraction":F,"count":I,"n":I},
 *  "override":{"over_5_percent":B,"reason":S|null},
 *  "selection":{"strategy":S,"stratified":B,"surrogate":{"kind":S,"sha256":S|null}},
 *  "per_class":{"poisoned":{"C":I,...},"total":{"C":I,...}},
 *  "indices":[I,...][,"negatives":{"keys":I,"indices":[I,...]}]}
 * </pre>
 * (shown on several lines here only to fit the page), where
 * <ul>
 *   <li>{@code files} are ordered by stage (input before output), then role (data before labels);</li>
 *   <li>per-class keys {@code C} are the class labels as decimal integers (no leading zeros or plus
 *       sign, {@code -} for negatives), in ascending numeric order;</li>
 *   <li>{@code O}, the trigger's parameters object, keeps the member order it was recorded with, and its
 *       values follow the same rules (nested objects in their recorded order);</li>
 *   <li>integers {@code I} are decimal with no leading zeros or plus sign ({@link Long#toString(long)});
 *       numbers that were written with a fraction or exponent stay floats, and every float {@code F}
 *       is the shortest decimal that reads back as the same double, in plain notation with at least
 *       one fractional digit: {@code 0.0} and {@code -0.0} for zeros; otherwise, for the smallest
 *       {@code p} in 1..17 such that rounding the exact binary value to {@code p} significant digits
 *       (half to even) reads back (correctly rounded) as the same double, that decimal without trailing
 *       fractional zeros and without exponent, plus {@code ".0"} if no fractional digit remains (so
 *       {@code 0.01}, {@code 20.0}, {@code 0.00001}, {@code 0.30000000000000004});</li>
 *   <li>strings {@code S} use RFC 8785's escaping: {@code \"} and {@code \\}; {@code \b \t \n \f \r} for
 *       U+0008, U+0009, U+000A, U+000C, U+000D; <code>&#92;u00xx</code> (lowercase hex) for the other characters
 *       below U+0020; every other character as itself; strings never hold unpaired surrogates;</li>
 *   <li>{@code B} is {@code true} or {@code false}.</li>
 * </ul>
 * Reading a manifest and computing {@code canonical()} again gives the signed bytes exactly, whatever
 * whitespace, string escapes and spellings of a number (of the same kind: integer or float) the file
 * uses, and in whatever order it lists the manifest's own members, files and classes. The order of the
 * trigger's parameters is content, as is every character of every string.
 *
 * <h2>Checks</h2>
 * <p>{@link Builder#build()} refuses malformed fields (wrong formats, negative counts, indices not
 * ascending and distinct) and inconsistent ones (count not matching the indices, an index not below n,
 * a fraction above 5% without override, per-class counts that do not add up, a clean-label manifest
 * poisoning another class than the target, boundary selection without a surrogate). A manifest read
 * from disk must be well-formed but may be inconsistent, since it may have been edited;
 * {@link ManifestSigner#verify} then reports each inconsistency as a finding.
 */
public final class Manifest {
    /** The format this class writes (and reads); part of the signed content. */
    public static final String FORMAT = "dyepack-manifest/2";
    /** The earlier format, still read and verified; its canonical form is DyePack's own. */
    public static final String FORMAT_1 = "dyepack-manifest/1";
    /**
     * Largest integer magnitude format 2 accepts, 2<sup>53</sup>&minus;1: RFC 8785 reads every number
     * as a double, which holds integers exactly only up to there.
     */
    public static final long MAX_EXACT_INTEGER = (1L << 53) - 1;

    /**
     * The path prefix of a {@link DatasetFile} that records an array held in memory, for example
     * {@code "in-memory:features"}: such an entry has no file at its path, only a fingerprint.
     */
    public static final String IN_MEMORY_PREFIX = "in-memory:";

    private static final Pattern SHA256 = Pattern.compile("[0-9a-f]{64}");
    private static final Pattern KEY_FINGERPRINT = Pattern.compile(
            Pattern.quote(OwnerKey.FINGERPRINT_PREFIX) + "[0-9a-f]{32}");
    private static final Pattern CREATED = Pattern.compile("[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}Z");
    private static final DateTimeFormatter CREATED_FORMAT = DateTimeFormatter
            .ofPattern("uuuu-MM-dd'T'HH:mm:ss'Z'", Locale.ROOT)
            .withResolverStyle(ResolverStyle.STRICT);
    private static final Instant EARLIEST = Instant.parse("0000-01-01T00:00:00Z");
    private static final Instant LATEST = Instant.parse("9999-12-31T23:59:59Z");
    /**
     * Deepest nesting a trigger's parameters may have: the manifest puts them two levels down
     * (root, trigger), and {@link ManifestReader#MAX_DEPTH} bounds the whole document.
     */
    static final int MAX_PARAMETER_DEPTH = ManifestReader.MAX_DEPTH - 2;

    /** Whether a file is an input of the run or one of its outputs. */
    public enum Stage {
        /** A file the run read. */
        INPUT("input"),
        /** A file the run wrote. */
        OUTPUT("output");

        private final String label;

        Stage(String label) {
            this.label = label;
        }

        /** @return the JSON name, "input" or "output" */
        public String label() {
            return label;
        }
    }

    /** What a dataset file holds. */
    public enum Role {
        /** The samples. */
        DATA("data"),
        /** The class labels. */
        LABELS("labels");

        private final String label;

        Role(String label) {
            this.label = label;
        }

        /** @return the JSON name, "data" or "labels" */
        public String label() {
            return label;
        }
    }

    /** How the poisoned samples are labelled. */
    public enum Mode {
        /** Samples of other classes get the trigger and are relabelled as the target class. */
        DIRTY("dirty"),
        /** Samples of the target class get the trigger; labels are left alone. */
        CLEAN("clean");

        private final String label;

        Mode(String label) {
            this.label = label;
        }

        /** @return the JSON name, "dirty" or "clean" */
        public String label() {
            return label;
        }
    }

    /** How the samples to poison were chosen. */
    public enum Strategy {
        /** The samples nearest a surrogate model's decision boundary. */
        BOUNDARY("boundary"),
        /** The samples farthest from it (for dirty-label poisoning, the ones a model must learn the trigger for). */
        BOUNDARY_FAR("boundary-far"),
        /** A keyed random choice. */
        RANDOM("random");

        private final String label;

        Strategy(String label) {
            this.label = label;
        }

        /** @return the JSON name, "boundary", "boundary-far" or "random" */
        public String label() {
            return label;
        }
    }

    /** The surrogate model that scored the samples for boundary selection. */
    public enum SurrogateKind {
        /** A linear model on the raw samples. */
        LINEAR("linear"),
        /** A fixed feature extractor with a trained head. */
        FEATURES_HEAD("features+head"),
        /** No surrogate. */
        NONE("none");

        private final String label;

        SurrogateKind(String label) {
            this.label = label;
        }

        /** @return the JSON name, "linear", "features+head" or "none" */
        public String label() {
            return label;
        }
    }

    /**
     * One dataset file and its SHA-256.
     *
     * @param stage  input or output
     * @param role   data or labels
     * @param path   where it is, relative to the manifest's directory when possible, {@code /}-separated
     * @param sha256 its SHA-256, 64 lowercase hex digits
     */
    public record DatasetFile(Stage stage, Role role, String path, String sha256) {
        /**
         * @param stage  input or output
         * @param role   data or labels
         * @param path   where the file is, not empty
         * @param sha256 its SHA-256
         * @throws InvalidArgumentException if a component is null, {@code path} is empty or holds an
         *                                  unpaired surrogate, or {@code sha256} is not 64 lowercase hex digits
         */
        public DatasetFile {
            if (stage == null || role == null || path == null || sha256 == null) {
                throw new InvalidArgumentException("a dataset file needs a stage, a role, a path and a sha256");
            }
            if (path.isEmpty()) {
                throw new InvalidArgumentException("a dataset file's path must not be empty");
            }
            checkText("path", path);
            checkSha256("sha256", sha256);
        }

        /**
         * Hashes a file and records it with its path relative to the manifest's directory.
         *
         * @param stage       input or output
         * @param role        data or labels
         * @param manifestDir the directory the manifest will be written to
         * @param file        the file
         * @return the entry
         * @throws InvalidArgumentException if an argument is null
         * @throws dev.dyepack.InvalidInputException if the file cannot be read
         */
        public static DatasetFile of(Stage stage, Role role, Path manifestDir, Path file) {
            if (manifestDir == null || file == null) {
                throw new InvalidArgumentException("manifest directory and file must not be null");
            }
            String sha = Fingerprints.sha256(file);
            return new DatasetFile(stage, role, Fingerprints.portable(Fingerprints.relativize(manifestDir, file)), sha);
        }

        /**
         * Records a file whose SHA-256 the caller took while writing or reading it (a job that streams
         * the file anyway need not read it again), with its path relative to the manifest's directory.
         *
         * @param stage       input or output
         * @param role        data or labels
         * @param manifestDir the directory the manifest will be written to
         * @param file        the file
         * @param sha256      the SHA-256 of the file's content, 64 lowercase hex digits
         * @return the entry
         * @throws InvalidArgumentException if an argument is null or {@code sha256} is malformed
         */
        public static DatasetFile of(Stage stage, Role role, Path manifestDir, Path file, String sha256) {
            if (manifestDir == null || file == null) {
                throw new InvalidArgumentException("manifest directory and file must not be null");
            }
            return new DatasetFile(stage, role, Fingerprints.portable(Fingerprints.relativize(manifestDir, file)), sha256);
        }

        /**
         * Records an array that was never a file (data poisoned in memory, for example by
         * {@code dev.dyepack.job.Poisoner}): its path is {@link #IN_MEMORY_PREFIX} followed by a name,
         * and its fingerprint is {@link ArrayFingerprint}'s, which equals the SHA-256 of the
         * {@code .npy} file holding the same array, so such a file can still be compared with it.
         *
         * @param stage  input or output
         * @param role   data or labels
         * @param name   a name for the array, not empty (e.g. "features")
         * @param sha256 the array's {@link ArrayFingerprint}
         * @return the entry
         * @throws InvalidArgumentException if an argument is null or empty, or {@code sha256} is malformed
         */
        public static DatasetFile inMemory(Stage stage, Role role, String name, String sha256) {
            if (name == null || name.isEmpty()) {
                throw new InvalidArgumentException("an in-memory array needs a name");
            }
            return new DatasetFile(stage, role, IN_MEMORY_PREFIX + name, sha256);
        }

        /**
         * @return whether this entry records an array held in memory rather than a file: its path
         *         starts with {@link #IN_MEMORY_PREFIX}; there is no file at a recorded path to compare
         */
        public boolean isInMemory() {
            return path.startsWith(IN_MEMORY_PREFIX);
        }

        /** @return {@code stage.label() + "." + role.label()}, e.g. "output.data", the key {@link DatasetCheck} uses */
        public String key() {
            return stage.label() + "." + role.label();
        }
    }

    /**
     * The poisoning budget.
     *
     * @param requested what the user asked for, verbatim (a fraction such as "0.01" or a count such as "600")
     * @param fraction  the realised fraction; {@link #of} makes it {@code (double) count / n}
     * @param count     samples poisoned
     * @param n         samples in the dataset
     */
    public record Budget(String requested, double fraction, long count, long n) {
        /**
         * @param requested what the user asked for, not blank
         * @param fraction  the realised fraction, in [0, 1]
         * @param count     samples poisoned, in [0, n]
         * @param n         samples in the dataset, at least 1
         * @throws InvalidArgumentException if {@code requested} is null, blank or holds an unpaired
         *                                  surrogate, {@code n < 1}, {@code count} is outside
         *                                  {@code [0, n]}, or {@code fraction} is outside {@code [0, 1]}
         */
        public Budget {
            if (requested == null || requested.isBlank()) {
                throw new InvalidArgumentException("budget.requested must not be empty");
            }
            checkText("budget.requested", requested);
            if (n < 1) {
                throw new InvalidArgumentException("budget.n must be at least 1, got " + n);
            }
            if (count < 0 || count > n) {
                throw new InvalidArgumentException("budget.count must be between 0 and budget.n = " + n + ", got " + count);
            }
            if (!(fraction >= 0 && fraction <= 1)) {
                throw new InvalidArgumentException("budget.fraction must be between 0 and 1, got " + fraction);
            }
        }

        /**
         * A budget whose fraction is {@code (double) count / n}.
         *
         * @param requested what the user asked for, verbatim
         * @param count     samples poisoned
         * @param n         samples in the dataset
         * @return the budget
         * @throws InvalidArgumentException as the constructor
         */
        public static Budget of(String requested, long count, long n) {
            return new Budget(requested, n < 1 ? 0 : (double) count / n, count, n);
        }
    }

    /**
     * Permission to poison more than 5% of the data (a count above {@code n / 20}, computed exactly in
     * integers), which DyePack otherwise refuses.
     *
     * @param over5Percent whether the ceiling was lifted
     * @param reason       the user's reason, or null; only with {@code over5Percent}
     */
    public record BudgetOverride(boolean over5Percent, String reason) {
        /** No override. */
        public static final BudgetOverride NONE = new BudgetOverride(false, null);

        /**
         * @param over5Percent whether the ceiling was lifted
         * @param reason       the reason, or null
         * @throws InvalidArgumentException if a reason is given without the override, or the reason
         *                                  holds an unpaired surrogate
         */
        public BudgetOverride {
            if (reason != null) {
                if (!over5Percent) {
                    throw new InvalidArgumentException("override.reason is given but override.over_5_percent is false");
                }
                checkText("override.reason", reason);
            }
        }
    }

    /**
     * How the samples were chosen.
     *
     * @param strategy        boundary or random
     * @param stratified      whether the budget was spread over classes in proportion
     * @param surrogate       the surrogate model's kind
     * @param surrogateSha256 SHA-256 of the surrogate model file (64 lowercase hex digits), or null
     *                        when there is none or it was not stored
     */
    public record Selection(Strategy strategy, boolean stratified, SurrogateKind surrogate, String surrogateSha256) {
        /**
         * @param strategy        boundary or random
         * @param stratified      whether the budget was spread over classes
         * @param surrogate       the surrogate's kind
         * @param surrogateSha256 the surrogate file's SHA-256, or null
         * @throws InvalidArgumentException if {@code strategy} or {@code surrogate} is null, the hash is
         *                                  malformed, or a hash is given for kind {@code none}
         */
        public Selection {
            if (strategy == null || surrogate == null) {
                throw new InvalidArgumentException("selection.strategy and selection.surrogate.kind must be set");
            }
            if (surrogateSha256 != null) {
                checkSha256("selection.surrogate.sha256", surrogateSha256);
                if (surrogate == SurrogateKind.NONE) {
                    throw new InvalidArgumentException("selection.surrogate.sha256 is given but the surrogate kind is none");
                }
            }
        }
    }

    private final int format;
    private final String toolVersion;
    private final Instant created;
    private final String keyFingerprint;
    private final List<DatasetFile> files;
    private final String triggerSpec;
    private final JsonValue.Obj triggerParameters;
    private final long targetClass;
    private final Mode mode;
    private final Budget budget;
    private final BudgetOverride override;
    private final Selection selection;
    private final SortedMap<Long, Long> poisonedPerClass;
    private final SortedMap<Long, Long> totalPerClass;
    private final long[] indices;
    private final int negativeKeys;
    private final long[] negativeIndices;
    private final String signature;

    private Manifest(Builder b) {
        this.format = b.format;
        this.toolVersion = b.toolVersion;
        this.created = b.created;
        this.keyFingerprint = b.keyFingerprint;
        List<DatasetFile> sorted = new ArrayList<>(b.files);
        sorted.sort(Comparator.comparing(DatasetFile::stage).thenComparing(DatasetFile::role));
        this.files = List.copyOf(sorted);
        this.triggerSpec = b.triggerSpec;
        this.triggerParameters = b.triggerParameters;
        this.targetClass = b.targetClass;
        this.mode = b.mode;
        this.budget = b.budget;
        this.override = b.override;
        this.selection = b.selection;
        this.poisonedPerClass = Collections.unmodifiableSortedMap(new TreeMap<>(b.poisonedPerClass));
        this.totalPerClass = Collections.unmodifiableSortedMap(new TreeMap<>(b.totalPerClass));
        this.indices = b.indices;
        this.negativeKeys = b.negativeKeys;
        this.negativeIndices = b.negativeIndices;
        this.signature = b.signature;
    }

    /** A signed copy sharing every immutable part. */
    private Manifest(Manifest m, String signature) {
        this.format = m.format;
        this.toolVersion = m.toolVersion;
        this.created = m.created;
        this.keyFingerprint = m.keyFingerprint;
        this.files = m.files;
        this.triggerSpec = m.triggerSpec;
        this.triggerParameters = m.triggerParameters;
        this.targetClass = m.targetClass;
        this.mode = m.mode;
        this.budget = m.budget;
        this.override = m.override;
        this.selection = m.selection;
        this.poisonedPerClass = m.poisonedPerClass;
        this.totalPerClass = m.totalPerClass;
        this.indices = m.indices;
        this.negativeKeys = m.negativeKeys;
        this.negativeIndices = m.negativeIndices;
        this.signature = signature;
    }

    /** @return a new, empty builder */
    public static Builder builder() {
        return new Builder();
    }

    /** @return the format, {@value #FORMAT} (what {@link #builder()} makes) or {@value #FORMAT_1} (read from an older file) */
    public String format() {
        return format == 1 ? FORMAT_1 : FORMAT;
    }

    /** @return the DyePack version that wrote the manifest */
    public String toolVersion() {
        return toolVersion;
    }

    /** @return when it was created, in whole seconds */
    public Instant created() {
        return created;
    }

    /** @return the owner key's fingerprint, {@code dpk1:...} */
    public String keyFingerprint() {
        return keyFingerprint;
    }

    /** @return the dataset files, ordered by stage then role; unmodifiable */
    public List<DatasetFile> files() {
        return files;
    }

    /** @return the canonical trigger spec string */
    public String triggerSpec() {
        return triggerSpec;
    }

    /**
     * @return the trigger's JSON object in the canonical form of the manifest's format: RFC 8785 for
     *         format 2, format 1's compact form (members in recorded order) for format 1
     */
    public String triggerParameters() {
        StringBuilder sb = new StringBuilder();
        if (format == 1) {
            JsonText.compact(triggerParameters, sb);
        } else {
            JsonText.jcs(triggerParameters, sb);
        }
        return sb.toString();
    }

    /** @return the class the trigger maps to */
    public long targetClass() {
        return targetClass;
    }

    /** @return dirty or clean label */
    public Mode mode() {
        return mode;
    }

    /** @return the budget */
    public Budget budget() {
        return budget;
    }

    /** @return the over-5-percent override, {@link BudgetOverride#NONE} when there is none */
    public BudgetOverride override() {
        return override;
    }

    /** @return how the samples were chosen */
    public Selection selection() {
        return selection;
    }

    /** @return class → samples poisoned, ascending by class; unmodifiable, empty without labels */
    public SortedMap<Long, Long> poisonedPerClass() {
        return poisonedPerClass;
    }

    /** @return class → samples in the dataset, ascending by class; unmodifiable, empty without labels */
    public SortedMap<Long, Long> totalPerClass() {
        return totalPerClass;
    }

    /** @return a copy of the poisoned sample indices, ascending and distinct */
    public long[] indices() {
        return indices.clone();
    }

    /**
     * @return a copy of the negatives' indices (samples stamped under derived keys, labels kept),
     *         ascending; empty when none were stamped
     */
    public long[] negativeIndices() {
        return negativeIndices.clone();
    }

    /** @return how many derived keys stamped the negatives; 0 when there are none */
    public int negativeKeys() {
        return negativeKeys;
    }

    /** @return the number of poisoned indices, without copying them */
    public int indexCount() {
        return indices.length;
    }

    /** @return the signature as 64 lowercase hex digits, or null if unsigned */
    public String signature() {
        return signature;
    }

    /** @return whether a signature is present (not whether it is valid: see {@link ManifestSigner#verify}) */
    public boolean isSigned() {
        return signature != null;
    }

    /**
     * The bytes that are signed: the canonical form of the manifest's format, specified in the class
     * documentation.
     *
     * @return a new array holding the UTF-8 canonical JSON, without the signature
     */
    public byte[] canonical() {
        StringBuilder sb = new StringBuilder(256 + indices.length * 8);
        if (format == 1) {
            JsonText.compact(tree(false), sb);
        } else {
            JsonText.jcs(tree(false), sb);
        }
        return sb.toString().getBytes(StandardCharsets.UTF_8);
    }

    /**
     * The manifest as people read it: the canonical members in the same order, then {@code signature}
     * (null when unsigned), indented by 2 spaces, ending with a line feed; floats in format 2 are
     * written as RFC 8785 writes them. Parses back to an equal manifest; its whitespace is not signed.
     *
     * @return the JSON text
     */
    public String toJson() {
        return JsonText.pretty(tree(true), format != 1);
    }

    /**
     * Cross-field problems that {@link Builder#build()} refuses and {@link ManifestSigner#verify}
     * reports; empty for every manifest that was built, non-empty only for an edited file.
     */
    List<String> inconsistencies() {
        List<String> out = new ArrayList<>();
        long count = budget.count();
        long n = budget.n();
        if (indices.length != count) {
            out.add("budget.count is " + count + " but indices lists " + indices.length + " samples");
        }
        if (indices.length > 0 && indices[indices.length - 1] >= n) {
            out.add("indices[" + (indices.length - 1) + "] = " + indices[indices.length - 1]
                    + " is not below budget.n = " + n);
        }
        if (negativeIndices.length > 0 && negativeIndices[negativeIndices.length - 1] >= n) {
            out.add("negatives.indices[" + (negativeIndices.length - 1) + "] = "
                    + negativeIndices[negativeIndices.length - 1] + " is not below budget.n = " + n);
        }
        for (int i = 0, j = 0; i < indices.length && j < negativeIndices.length; ) {
            if (indices[i] == negativeIndices[j]) {
                out.add("sample " + indices[i] + " is in both indices and negatives.indices");
                break;
            }
            if (indices[i] < negativeIndices[j]) {
                i++;
            } else {
                j++;
            }
        }
        double expected = (double) count / n;
        if (Double.compare(budget.fraction(), expected) != 0) {
            out.add("budget.fraction is " + JsonText.number(budget.fraction()) + " but budget.count / budget.n is "
                    + JsonText.number(expected));
        }
        // count / n > 1/20 exactly: with n = 20q + r (0 <= r < 20) that is count > q for every r, and
        // unlike count * 20 > n it cannot overflow.
        if (count > n / 20 && !override.over5Percent()) {
            out.add("budget.count / budget.n = " + JsonText.number(expected)
                    + " is above 5% but override.over_5_percent is false");
        }
        if (!totalPerClass.isEmpty() || !poisonedPerClass.isEmpty()) {
            checkSum(out, "per_class.total", totalPerClass, "budget.n", n);
            checkSum(out, "per_class.poisoned", poisonedPerClass, "budget.count", count);
            for (Map.Entry<Long, Long> e : poisonedPerClass.entrySet()) {
                Long total = totalPerClass.get(e.getKey());
                if (total == null) {
                    out.add("per_class.poisoned has class " + e.getKey() + ", which per_class.total lacks");
                } else if (e.getValue() > total) {
                    out.add("per_class.poisoned[" + e.getKey() + "] = " + e.getValue()
                            + " exceeds per_class.total[" + e.getKey() + "] = " + total);
                }
            }
            if (!totalPerClass.containsKey(targetClass)) {
                out.add("target_class " + targetClass + " is not among the classes of per_class.total");
            }
        }
        if (mode == Mode.CLEAN) {
            for (Map.Entry<Long, Long> e : poisonedPerClass.entrySet()) {
                if (e.getKey() != targetClass && e.getValue() > 0) {
                    out.add("mode is clean but per_class.poisoned has class " + e.getKey()
                            + ", not target_class " + targetClass);
                }
            }
        }
        if (selection.strategy() != Strategy.RANDOM && selection.surrogate() == SurrogateKind.NONE) {
            out.add("selection.strategy is " + selection.strategy().label() + " but selection.surrogate.kind is none");
        }
        return out;
    }

    private static void checkSum(List<String> out, String name, Map<Long, Long> counts, String otherName, long other) {
        long sum = 0;
        for (long v : counts.values()) {
            if (v > Long.MAX_VALUE - sum) {
                out.add(name + " adds up to more than " + Long.MAX_VALUE + " but " + otherName + " is " + other);
                return;
            }
            sum += v;
        }
        if (sum != other) {
            out.add(name + " adds up to " + sum + " but " + otherName + " is " + other);
        }
    }

    /** The same manifest with the given signature (replacing any). */
    Manifest withSignature(String hex) {
        checkSha256("signature", hex);
        return new Manifest(this, hex);
    }

    /** The JSON tree in canonical member order, with the signature member only if {@code withSignature}. */
    private JsonValue.Obj tree(boolean withSignature) {
        Map<String, JsonValue> root = new LinkedHashMap<>();
        root.put("format", str(format()));
        root.put("tool_version", str(toolVersion));
        root.put("created", str(formatCreated(created)));
        root.put("key_fingerprint", str(keyFingerprint));
        List<JsonValue> fileList = new ArrayList<>(files.size());
        for (DatasetFile f : files) {
            Map<String, JsonValue> m = new LinkedHashMap<>();
            m.put("stage", str(f.stage().label()));
            m.put("role", str(f.role().label()));
            m.put("path", str(f.path()));
            m.put("sha256", str(f.sha256()));
            fileList.add(new JsonValue.Obj(m));
        }
        root.put("files", new JsonValue.Arr(fileList));
        Map<String, JsonValue> trigger = new LinkedHashMap<>();
        trigger.put("spec", str(triggerSpec));
        trigger.put("parameters", triggerParameters);
        root.put("trigger", new JsonValue.Obj(trigger));
        root.put("target_class", new JsonValue.Int(targetClass));
        root.put("mode", str(mode.label()));
        Map<String, JsonValue> b = new LinkedHashMap<>();
        b.put("requested", str(budget.requested()));
        b.put("fraction", new JsonValue.Real(budget.fraction()));
        b.put("count", new JsonValue.Int(budget.count()));
        b.put("n", new JsonValue.Int(budget.n()));
        root.put("budget", new JsonValue.Obj(b));
        Map<String, JsonValue> o = new LinkedHashMap<>();
        o.put("over_5_percent", new JsonValue.Bool(override.over5Percent()));
        o.put("reason", strOrNull(override.reason()));
        root.put("override", new JsonValue.Obj(o));
        Map<String, JsonValue> surrogate = new LinkedHashMap<>();
        surrogate.put("kind", str(selection.surrogate().label()));
        surrogate.put("sha256", strOrNull(selection.surrogateSha256()));
        Map<String, JsonValue> s = new LinkedHashMap<>();
        s.put("strategy", str(selection.strategy().label()));
        s.put("stratified", new JsonValue.Bool(selection.stratified()));
        s.put("surrogate", new JsonValue.Obj(surrogate));
        root.put("selection", new JsonValue.Obj(s));
        Map<String, JsonValue> perClass = new LinkedHashMap<>();
        perClass.put("poisoned", classMap(poisonedPerClass));
        perClass.put("total", classMap(totalPerClass));
        root.put("per_class", new JsonValue.Obj(perClass));
        // Ints shares the array; the tree never escapes this class, and JsonText only reads it.
        root.put("indices", indices.length == 0 ? new JsonValue.Arr(List.of()) : new JsonValue.Ints(indices));
        if (negativeIndices.length > 0) {
            Map<String, JsonValue> neg = new LinkedHashMap<>();
            neg.put("keys", new JsonValue.Int(negativeKeys));
            neg.put("indices", new JsonValue.Ints(negativeIndices));
            root.put("negatives", new JsonValue.Obj(neg));
        }
        if (withSignature) {
            root.put("signature", strOrNull(signature));
        }
        return new JsonValue.Obj(root);
    }

    private static JsonValue classMap(SortedMap<Long, Long> counts) {
        Map<String, JsonValue> m = new LinkedHashMap<>();
        counts.forEach((k, v) -> m.put(Long.toString(k), new JsonValue.Int(v)));
        return new JsonValue.Obj(m);
    }

    private static JsonValue str(String s) {
        return new JsonValue.Str(s);
    }

    private static JsonValue strOrNull(String s) {
        return s == null ? JsonValue.Null.NULL : new JsonValue.Str(s);
    }

    /** {@code created} in its one accepted spelling, e.g. {@code 2025-03-01T12:00:00Z}. */
    static String formatCreated(Instant t) {
        return CREATED_FORMAT.format(LocalDateTime.ofInstant(t, ZoneOffset.UTC));
    }

    /**
     * Parses {@code created}, accepting only the spelling {@link #formatCreated} writes, so that the
     * canonical form of a read manifest is the one that was signed.
     *
     * @throws InvalidArgumentException if the text is not a valid {@code yyyy-MM-ddTHH:mm:ssZ} UTC time
     */
    static Instant parseCreated(String text) {
        if (!CREATED.matcher(text).matches()) {
            throw new InvalidArgumentException("created must be a UTC time written yyyy-MM-ddTHH:mm:ssZ, got "
                    + text);
        }
        try {
            return LocalDateTime.parse(text, CREATED_FORMAT).toInstant(ZoneOffset.UTC);
        } catch (DateTimeParseException e) {
            throw new InvalidArgumentException("created is not a valid date and time: " + text);
        }
    }

    static void checkSha256(String field, String hex) {
        if (!SHA256.matcher(hex).matches()) {
            throw new InvalidArgumentException(field + " must be 64 lowercase hex digits, got \"" + hex + "\"");
        }
    }

    /** Refuses unpaired surrogates, which UTF-8 cannot encode and would make the signed bytes lossy. */
    static void checkText(String field, String s) {
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            if (Character.isHighSurrogate(c) && i + 1 < s.length() && Character.isLowSurrogate(s.charAt(i + 1))) {
                i++;
            } else if (Character.isSurrogate(c)) {
                throw new InvalidArgumentException(field + " holds an unpaired surrogate U+"
                        + String.format("%04X", (int) c) + " at position " + i);
            }
        }
    }

    /**
     * Two manifests are equal when every field, the signature included, is equal (floats compared by
     * {@link Double#compare}), which is when their {@link #toJson()} texts are equal.
     *
     * @param o the other object
     * @return whether {@code o} is an equal manifest
     */
    @Override
    public boolean equals(Object o) {
        if (this == o) {
            return true;
        }
        if (!(o instanceof Manifest)) {
            return false;
        }
        Manifest m = (Manifest) o;
        return targetClass == m.targetClass
                && format == m.format
                && toolVersion.equals(m.toolVersion)
                && created.equals(m.created)
                && keyFingerprint.equals(m.keyFingerprint)
                && files.equals(m.files)
                && triggerSpec.equals(m.triggerSpec)
                && triggerParameters().equals(m.triggerParameters())
                && mode == m.mode
                && budget.equals(m.budget)
                && override.equals(m.override)
                && selection.equals(m.selection)
                && poisonedPerClass.equals(m.poisonedPerClass)
                && totalPerClass.equals(m.totalPerClass)
                && Arrays.equals(indices, m.indices)
                && negativeKeys == m.negativeKeys
                && Arrays.equals(negativeIndices, m.negativeIndices)
                && Objects.equals(signature, m.signature);
    }

    /** @return a hash code consistent with {@link #equals} */
    @Override
    public int hashCode() {
        return Objects.hash(keyFingerprint, created, triggerSpec, budget, Arrays.hashCode(indices), signature);
    }

    /** @return a one-line summary (never the indices in full, never key material) */
    @Override
    public String toString() {
        return "Manifest[" + triggerSpec + ", target " + targetClass + ", " + mode.label() + ", "
                + budget.count() + "/" + budget.n() + " samples, key " + keyFingerprint + ", "
                + (signature == null ? "unsigned" : "signed") + "]";
    }

    /**
     * Collects the fields of a manifest. Setters only store; {@link #build()} checks everything and
     * names the first bad field by its JSON name. Not thread-safe; may be reused after {@code build()}.
     */
    public static final class Builder {
        private int format = 2;
        private String toolVersion;
        private Instant created;
        private String keyFingerprint;
        private final List<DatasetFile> files = new ArrayList<>();
        private String triggerSpec;
        private String triggerJson;
        private JsonValue.Obj triggerParameters;
        private long targetClass;
        private boolean targetSet;
        private Mode mode;
        private Budget budget;
        private BudgetOverride override = BudgetOverride.NONE;
        private Selection selection;
        private Map<Long, Long> poisonedPerClass = Map.of();
        private Map<Long, Long> totalPerClass = Map.of();
        private long[] indices;
        private int negativeKeys;
        private long[] negativeIndices = new long[0];
        private String signature;

        private Builder() {
        }

        /**
         * @param version the DyePack version, not empty
         * @return this builder
         */
        public Builder toolVersion(String version) {
            this.toolVersion = version;
            return this;
        }

        /**
         * @param time when the run finished; sub-second digits are dropped, as the format keeps whole seconds
         * @return this builder
         */
        public Builder created(Instant time) {
            this.created = time == null ? null : time.truncatedTo(ChronoUnit.SECONDS);
            return this;
        }

        /**
         * @param fingerprint the owner key's {@link OwnerKey#fingerprint()}
         * @return this builder
         */
        public Builder keyFingerprint(String fingerprint) {
            this.keyFingerprint = fingerprint;
            return this;
        }

        /**
         * Adds a dataset file; at most one per stage and role.
         *
         * @param file the entry, for example from {@link DatasetFile#of}
         * @return this builder
         */
        public Builder addFile(DatasetFile file) {
            files.add(file);
            return this;
        }

        /**
         * Sets the trigger. Its parameters are float32 values in DyePack: in format 2 every number
         * written with a fraction or an exponent is recorded as the shortest decimal that reads back as
         * the same float32 (the float nearest to the number given), so that the record does not depend
         * on how the JDK that ran {@code TriggerSpec.toJson()} spelt it.
         *
         * @param spec           the canonical spec string ({@code TriggerSpec.toString()})
         * @param parametersJson its JSON object ({@code TriggerSpec.toJson()}); member order is kept
         *                       (format 2 signs the members sorted by name)
         * @return this builder
         */
        public Builder trigger(String spec, String parametersJson) {
            this.triggerSpec = spec;
            this.triggerJson = parametersJson;
            this.triggerParameters = null;
            return this;
        }

        /** The reader's path: the parameters already parsed. */
        Builder trigger(String spec, JsonValue.Obj parameters) {
            this.triggerSpec = spec;
            this.triggerJson = null;
            this.triggerParameters = parameters;
            return this;
        }

        /**
         * @param label the class the trigger maps to
         * @return this builder
         */
        public Builder targetClass(long label) {
            this.targetClass = label;
            this.targetSet = true;
            return this;
        }

        /**
         * @param mode dirty or clean label
         * @return this builder
         */
        public Builder mode(Mode mode) {
            this.mode = mode;
            return this;
        }

        /**
         * @param budget the budget, normally {@link Budget#of}
         * @return this builder
         */
        public Builder budget(Budget budget) {
            this.budget = budget;
            return this;
        }

        /**
         * @param override the over-5-percent override; {@link BudgetOverride#NONE} unless set
         * @return this builder
         */
        public Builder override(BudgetOverride override) {
            this.override = override;
            return this;
        }

        /**
         * @param selection how the samples were chosen
         * @return this builder
         */
        public Builder selection(Selection selection) {
            this.selection = selection;
            return this;
        }

        /**
         * Per-class counts; both empty (the default) when the data has no labels. Copied at {@link #build()}.
         *
         * @param poisoned class → samples poisoned, by original label
         * @param total    class → samples in the dataset
         * @return this builder
         */
        public Builder classCounts(Map<Long, Long> poisoned, Map<Long, Long> total) {
            this.poisonedPerClass = poisoned;
            this.totalPerClass = total;
            return this;
        }

        /**
         * @param indices the poisoned sample indices, ascending and distinct; copied
         * @return this builder
         */
        public Builder indices(long[] indices) {
            this.indices = indices == null ? null : indices.clone();
            return this;
        }

        /**
         * Records negatives: samples stamped with the same trigger under keys derived from the owner's,
         * their labels kept. Not given (or given empty with 0 keys) means none.
         *
         * @param keys    how many derived keys stamped them, at least 1 when there are negatives
         * @param indices their indices, ascending and distinct, disjoint from the poisoned ones; copied
         * @return this builder
         */
        public Builder negatives(int keys, long[] indices) {
            this.negativeKeys = keys;
            this.negativeIndices = indices == null ? null : indices.clone();
            return this;
        }

        /**
         * The reader's path (and tests'): the format number, 1 or 2; {@code 2} unless set. A format-1
         * manifest keeps format 1's canonical form and trigger parameters as given.
         */
        Builder formatVersion(int version) {
            if (version != 1 && version != 2) {
                throw new InvalidArgumentException("format version must be 1 or 2, got " + version);
            }
            this.format = version;
            return this;
        }

        /** The reader's path: the recorded signature, or null. */
        Builder signature(String hex) {
            this.signature = hex;
            return this;
        }

        /**
         * Checks every field and returns an unsigned manifest ({@link ManifestSigner#sign} signs it).
         *
         * @return the manifest
         * @throws InvalidArgumentException naming the first missing or malformed field (JSON name), or
         *                                  listing every inconsistency between fields (see the class
         *                                  documentation of {@link Manifest})
         */
        public Manifest build() {
            Manifest m = buildWellFormed();
            List<String> problems = m.inconsistencies();
            if (!problems.isEmpty()) {
                throw new InvalidArgumentException("inconsistent manifest: " + String.join("; ", problems));
            }
            return m;
        }

        /** Checks the form of every field but not their consistency; what a file on disk must pass. */
        Manifest buildWellFormed() {
            require(toolVersion, "tool_version");
            if (toolVersion.isBlank()) {
                throw new InvalidArgumentException("tool_version must not be empty");
            }
            checkText("tool_version", toolVersion);
            require(created, "created");
            if (created.isBefore(EARLIEST) || created.isAfter(LATEST)) {
                throw new InvalidArgumentException("created must be within the years 0000 to 9999, got " + created);
            }
            require(keyFingerprint, "key_fingerprint");
            if (!KEY_FINGERPRINT.matcher(keyFingerprint).matches()) {
                throw new InvalidArgumentException("key_fingerprint must be " + OwnerKey.FINGERPRINT_PREFIX
                        + " and 32 lowercase hex digits, got \"" + keyFingerprint + "\"");
            }
            Set<String> keys = new HashSet<>();
            for (DatasetFile f : files) {
                require(f, "files[]");
                if (!keys.add(f.key())) {
                    throw new InvalidArgumentException("files has two entries for " + f.key());
                }
            }
            require(triggerSpec, "trigger.spec");
            if (triggerSpec.isBlank()) {
                throw new InvalidArgumentException("trigger.spec must not be empty");
            }
            checkText("trigger.spec", triggerSpec);
            if (triggerParameters == null) {
                require(triggerJson, "trigger.parameters");
                JsonValue v;
                try {
                    v = JsonParser.parse(triggerJson, MAX_PARAMETER_DEPTH);
                } catch (JsonSyntaxException e) {
                    throw new InvalidArgumentException("trigger.parameters is not valid JSON: " + e.getMessage());
                }
                if (!(v instanceof JsonValue.Obj)) {
                    throw new InvalidArgumentException("trigger.parameters must be a JSON object, got " + v.typeName());
                }
                triggerParameters = format == 1 ? (JsonValue.Obj) v : (JsonValue.Obj) asFloat32(v);
            }
            if (!targetSet) {
                throw new InvalidArgumentException("target_class is not set");
            }
            require(mode, "mode");
            require(budget, "budget");
            require(override, "override");
            require(selection, "selection");
            require(poisonedPerClass, "per_class.poisoned");
            require(totalPerClass, "per_class.total");
            checkCounts("per_class.poisoned", poisonedPerClass);
            checkCounts("per_class.total", totalPerClass);
            require(indices, "indices");
            for (int i = 0; i < indices.length; i++) {
                if (indices[i] < 0) {
                    throw new InvalidArgumentException("indices[" + i + "] = " + indices[i] + " is negative");
                }
                if (i > 0 && indices[i] <= indices[i - 1]) {
                    throw new InvalidArgumentException("indices[" + i + "] = " + indices[i]
                            + " is not greater than indices[" + (i - 1) + "] = " + indices[i - 1]
                            + " (indices must be ascending and distinct)");
                }
            }
            require(negativeIndices, "negatives.indices");
            for (int i = 1; i < negativeIndices.length; i++) {
                if (negativeIndices[i] <= negativeIndices[i - 1]) {
                    throw new InvalidArgumentException("negatives.indices[" + i + "] = " + negativeIndices[i]
                            + " is not greater than negatives.indices[" + (i - 1) + "] = " + negativeIndices[i - 1]
                            + " (indices must be ascending and distinct)");
                }
            }
            if (negativeIndices.length > 0 && negativeIndices[0] < 0) {
                throw new InvalidArgumentException("negatives.indices[0] = " + negativeIndices[0] + " is negative");
            }
            if (negativeIndices.length > 0 ? negativeKeys < 1 : negativeKeys != 0) {
                throw new InvalidArgumentException("negatives.keys is " + negativeKeys + " for "
                        + negativeIndices.length + " negatives (at least 1 with negatives, 0 without)");
            }
            if (negativeIndices.length > 0 && format == 1) {
                throw new InvalidArgumentException("negatives are recorded only in format 2");
            }
            if (signature != null) {
                checkSha256("signature", signature);
            }
            if (format != 1) {
                checkExact("target_class", targetClass);
                checkExact("budget.count", budget.count());
                checkExact("budget.n", budget.n());
                poisonedPerClass.forEach((k, v) -> checkExact("per_class.poisoned[" + k + "]", v));
                totalPerClass.forEach((k, v) -> checkExact("per_class.total[" + k + "]", v));
                if (indices.length > 0) {
                    checkExact("indices[" + (indices.length - 1) + "]", indices[indices.length - 1]);
                }
                if (negativeIndices.length > 0) {
                    checkExact("negatives.indices[" + (negativeIndices.length - 1) + "]",
                            negativeIndices[negativeIndices.length - 1]);
                }
                checkExactIntegers("trigger.parameters", triggerParameters);
            }
            return new Manifest(this);
        }

        private static void checkExact(String field, long value) {
            if (value > MAX_EXACT_INTEGER || value < -MAX_EXACT_INTEGER) {
                throw new InvalidArgumentException(field + " = " + value + " is beyond 2^53 - 1 in magnitude, which "
                        + FORMAT + " cannot record exactly (RFC 8785 reads every number as a double)");
            }
        }

        private static void checkExactIntegers(String field, JsonValue v) {
            if (v instanceof JsonValue.Int i) {
                checkExact(field, i.value());
            } else if (v instanceof JsonValue.Ints a) {
                for (long x : a.values()) {
                    checkExact(field, x);
                }
            } else if (v instanceof JsonValue.Arr a) {
                a.elements().forEach(e -> checkExactIntegers(field, e));
            } else if (v instanceof JsonValue.Obj o) {
                o.members().forEach((k, e) -> checkExactIntegers(field + "." + k, e));
            }
        }

        /** The tree with every float replaced by {@link JsonText#shortestFloat} of its nearest float32. */
        private static JsonValue asFloat32(JsonValue v) {
            if (v instanceof JsonValue.Real r) {
                float f = (float) r.value();
                // A number beyond the float range is no float parameter; it is kept as given.
                return Float.isFinite(f) ? new JsonValue.Real(JsonText.shortestFloat(f)) : r;
            }
            if (v instanceof JsonValue.Arr a) {
                List<JsonValue> out = new ArrayList<>(a.elements().size());
                a.elements().forEach(e -> out.add(asFloat32(e)));
                return new JsonValue.Arr(out);
            }
            if (v instanceof JsonValue.Obj o) {
                Map<String, JsonValue> out = new LinkedHashMap<>();
                o.members().forEach((k, e) -> out.put(k, asFloat32(e)));
                return new JsonValue.Obj(out);
            }
            return v;
        }

        private static void checkCounts(String field, Map<Long, Long> counts) {
            for (Map.Entry<Long, Long> e : counts.entrySet()) {
                if (e.getKey() == null || e.getValue() == null) {
                    throw new InvalidArgumentException(field + " must not hold null classes or counts");
                }
                if (e.getValue() < 0) {
                    throw new InvalidArgumentException(field + "[" + e.getKey() + "] = " + e.getValue() + " is negative");
                }
            }
        }

        private static void require(Object value, String field) {
            if (value == null) {
                throw new InvalidArgumentException(field + " is not set");
            }
        }
    }
}
