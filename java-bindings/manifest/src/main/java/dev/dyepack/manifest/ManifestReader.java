package dev.dyepack.manifest;

import dev.dyepack.InvalidArgumentException;
import dev.dyepack.InvalidInputException;
import java.io.IOException;
import java.io.InputStream;
import java.nio.ByteBuffer;
import java.nio.CharBuffer;
import java.nio.charset.CharsetDecoder;
import java.nio.charset.CoderResult;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.nio.file.AccessDeniedException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Comparator;
import java.util.HashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.function.Function;
import java.util.regex.Pattern;

/**
 * Reads {@code manifest.json} strictly: the file must be UTF-8 JSON (see {@link JsonParser} for what
 * is refused) of at most {@link #MAX_FILE_SIZE} bytes and {@link #MAX_DEPTH} levels, with the format
 * {@value Manifest#FORMAT} or {@value Manifest#FORMAT_1}, every field present with its type, no unknown
 * field, and well-formed values (see {@link Manifest}). Members may come in any order and with any
 * whitespace; the manifest read has the same {@link Manifest#canonical()} as the one written. Format 2
 * also requires {@code files} in canonical order (input before output, data before labels) and integers
 * within {@link Manifest#MAX_EXACT_INTEGER}, so that its canonical form, computed from the fields, is
 * the RFC 8785 form of the file itself.
 *
 * <p>A read manifest may still be inconsistent or carry a wrong signature: reading does not need the
 * key; {@link ManifestSigner#verify} decides whether it can be trusted.
 *
 * <p>Stateless and thread-safe.
 */
public final class ManifestReader {
    /** Largest manifest read, 64 MiB: some 7 million indices, far beyond any budget DyePack plans. */
    public static final long MAX_FILE_SIZE = 64L << 20;
    /** Deepest nesting of objects and arrays accepted, the manifest's own levels included. */
    public static final int MAX_DEPTH = 64;

    private static final Comparator<Manifest.DatasetFile> COMPARE_FILES =
            Comparator.comparing(Manifest.DatasetFile::stage).thenComparing(Manifest.DatasetFile::role);
    private static final Pattern CLASS_LABEL = Pattern.compile("0|-?[1-9][0-9]*");

    private ManifestReader() {
    }

    /**
     * Reads and checks a manifest.
     *
     * @param file the manifest file
     * @return the manifest, with its recorded signature (or none)
     * @throws InvalidArgumentException if {@code file} is null
     * @throws InvalidInputException    if the file is missing, unreadable, larger than
     *                                  {@link #MAX_FILE_SIZE}, not UTF-8, not JSON (the message gives the
     *                                  line and column), of another format, or a field is missing, of the
     *                                  wrong type, unknown or malformed (the message names the field,
     *                                  e.g. {@code budget.count} or {@code indices[12]}); the message
     *                                  always starts with the file's path
     */
    public static Manifest read(Path file) {
        if (file == null) {
            throw new InvalidArgumentException("manifest file must not be null");
        }
        String text = decode(file, readBounded(file));
        JsonValue root;
        try {
            root = JsonParser.parse(text, MAX_DEPTH);
        } catch (JsonSyntaxException e) {
            throw new InvalidInputException(file + ": not a valid JSON manifest: " + e.getMessage(), e);
        }
        Node top = new Node(file, "", root);
        return fromTree(top.object());
    }

    private static Manifest fromTree(Obj root) {
        Node format = root.get("format");
        String f = format.string();
        if (!f.equals(Manifest.FORMAT) && !f.equals(Manifest.FORMAT_1)) {
            throw format.error("unsupported format \"" + f + "\"; this version reads " + Manifest.FORMAT
                    + " and " + Manifest.FORMAT_1);
        }
        boolean format2 = f.equals(Manifest.FORMAT);
        root.only("format", "tool_version", "created", "key_fingerprint", "files", "trigger", "target_class",
                "mode", "budget", "override", "selection", "per_class", "indices", "negatives", "signature");
        Manifest.Builder b = Manifest.builder().formatVersion(format2 ? 2 : 1);
        b.toolVersion(root.get("tool_version").string());
        Node created = root.get("created");
        b.created(created.field(() -> Manifest.parseCreated(created.string())));
        b.keyFingerprint(root.get("key_fingerprint").string());

        List<Node> files = root.get("files").array();
        Manifest.DatasetFile previous = null;
        for (Node entry : files) {
            Obj o = entry.object();
            o.only("stage", "role", "path", "sha256");
            Manifest.Stage stage = o.get("stage").choice(Manifest.Stage.values(), Manifest.Stage::label);
            Manifest.Role role = o.get("role").choice(Manifest.Role.values(), Manifest.Role::label);
            String path = o.get("path").string();
            String sha = o.get("sha256").string();
            Manifest.DatasetFile file = entry.field(() -> new Manifest.DatasetFile(stage, role, path, sha));
            // RFC 8785 keeps arrays in order, so format 2 signs the files in the order of the file:
            // only the canonical order makes that the order of the fields.
            if (format2 && previous != null && COMPARE_FILES.compare(previous, file) >= 0) {
                throw entry.error("files must be ordered input before output, then data before labels, "
                        + "with one entry per stage and role (" + previous.key() + " comes before " + file.key() + ")");
            }
            previous = file;
            b.addFile(file);
        }

        Obj trigger = root.get("trigger").object();
        trigger.only("spec", "parameters");
        b.trigger(trigger.get("spec").string(), trigger.get("parameters").object().value);
        b.targetClass(root.get("target_class").integer());
        b.mode(root.get("mode").choice(Manifest.Mode.values(), Manifest.Mode::label));

        Node budgetNode = root.get("budget");
        Obj budget = budgetNode.object();
        budget.only("requested", "fraction", "count", "n");
        String requested = budget.get("requested").string();
        double fraction = budget.get("fraction").number();
        long count = budget.get("count").integer();
        long n = budget.get("n").integer();
        b.budget(budgetNode.field(() -> new Manifest.Budget(requested, fraction, count, n)));

        Node overrideNode = root.get("override");
        Obj override = overrideNode.object();
        override.only("over_5_percent", "reason");
        boolean over = override.get("over_5_percent").bool();
        String reason = override.get("reason").stringOrNull();
        b.override(overrideNode.field(() -> new Manifest.BudgetOverride(over, reason)));

        Node selectionNode = root.get("selection");
        Obj selection = selectionNode.object();
        selection.only("strategy", "stratified", "surrogate");
        Manifest.Strategy strategy = selection.get("strategy").choice(Manifest.Strategy.values(), Manifest.Strategy::label);
        boolean stratified = selection.get("stratified").bool();
        Obj surrogate = selection.get("surrogate").object();
        surrogate.only("kind", "sha256");
        Manifest.SurrogateKind kind = surrogate.get("kind").choice(Manifest.SurrogateKind.values(),
                Manifest.SurrogateKind::label);
        String surrogateSha = surrogate.get("sha256").stringOrNull();
        b.selection(selectionNode.field(() -> new Manifest.Selection(strategy, stratified, kind, surrogateSha)));

        Obj perClass = root.get("per_class").object();
        perClass.only("poisoned", "total");
        b.classCounts(classCounts(perClass.get("poisoned")), classCounts(perClass.get("total")));

        b.indices(root.get("indices").integers());
        if (root.value.members().containsKey("negatives")) {
            if (!format2) {
                throw root.get("negatives").error("negatives are recorded only in " + Manifest.FORMAT);
            }
            Node negNode = root.get("negatives");
            Obj neg = negNode.object();
            neg.only("keys", "indices");
            long keys = neg.get("keys").integer();
            long[] negIndices = neg.get("indices").integers();
            if (keys < 1 || keys > Integer.MAX_VALUE || negIndices.length == 0) {
                throw negNode.error("keys must be a positive integer and indices not empty (the field is absent "
                        + "when there are no negatives)");
            }
            negNode.field(() -> b.negatives((int) keys, negIndices));
        }
        Node signature = root.get("signature");
        b.signature(signature.stringOrNull());
        // Field-level checks the builder makes (hex formats, ascending indices, ...) name the field
        // themselves; the file is added here.
        return root.node.field(b::buildWellFormed);
    }

    private static Map<Long, Long> classCounts(Node node) {
        Obj o = node.object();
        Map<Long, Long> out = new HashMap<>();
        for (String key : o.value.members().keySet()) {
            Node child = o.get(key);
            if (!CLASS_LABEL.matcher(key).matches()) {
                throw child.error("the key is not a class label written as a decimal integer");
            }
            long label;
            try {
                label = Long.parseLong(key);
            } catch (NumberFormatException e) {
                throw child.error("the class label is outside the 64-bit range");
            }
            out.put(label, child.integer());
        }
        return out;
    }

    private static byte[] readBounded(Path file) {
        if (Files.isDirectory(file)) {
            throw new InvalidInputException(file + ": is a directory, not a manifest file");
        }
        byte[] content;
        try (InputStream in = Files.newInputStream(file)) {
            // Read one byte past the limit rather than trusting Files.size, which a pipe or a growing
            // file would get wrong.
            content = in.readNBytes((int) MAX_FILE_SIZE + 1);
        } catch (NoSuchFileException e) {
            throw new InvalidInputException(file + ": does not exist", e);
        } catch (AccessDeniedException e) {
            throw new InvalidInputException(file + ": cannot be read: permission denied", e);
        } catch (IOException e) {
            throw new InvalidInputException(file + ": cannot be read: " + e.getMessage(), e);
        }
        if (content.length > MAX_FILE_SIZE) {
            throw new InvalidInputException(file + ": larger than " + MAX_FILE_SIZE
                    + " bytes, too large for a manifest; is it the right file?");
        }
        return content;
    }

    private static String decode(Path file, byte[] bytes) {
        CharsetDecoder decoder = StandardCharsets.UTF_8.newDecoder()
                .onMalformedInput(CodingErrorAction.REPORT)
                .onUnmappableCharacter(CodingErrorAction.REPORT);
        ByteBuffer in = ByteBuffer.wrap(bytes);
        CharBuffer out = CharBuffer.allocate(bytes.length);
        CoderResult r = decoder.decode(in, out, true);
        if (!r.isError()) {
            r = decoder.flush(out);
        }
        if (r.isError()) {
            throw new InvalidInputException(file + ": not a JSON manifest: invalid UTF-8 at byte " + in.position());
        }
        out.flip();
        return out.toString();
    }

    /** Something that builds a value and may refuse it with an {@link InvalidArgumentException}. */
    @FunctionalInterface
    private interface Check<T> {
        /** @return the value */
        T get();
    }

    /** A value in the tree with its path (e.g. {@code budget.count}) for messages. */
    private static final class Node {
        final Path file;
        final String path;
        final JsonValue value;

        Node(Path file, String path, JsonValue value) {
            this.file = file;
            this.path = path;
            this.value = value;
        }

        InvalidInputException error(String problem) {
            return new InvalidInputException(file + ": " + (path.isEmpty() ? "" : path + ": ") + problem);
        }

        private InvalidInputException wrongType(String expected) {
            return error("expected " + expected + ", got " + value.typeName());
        }

        /**
         * Runs a check of the builder or of a record, adding the file, and this node's path unless the
         * message already starts with it (the builder names fields by their full JSON path; records
         * such as {@link Manifest.DatasetFile} only by their own member names).
         */
        <T> T field(Check<T> check) {
            try {
                return check.get();
            } catch (InvalidArgumentException e) {
                String m = e.getMessage();
                String where = path.isEmpty() || m.startsWith(path) ? "" : path + ": ";
                throw new InvalidInputException(file + ": " + where + m, e);
            }
        }

        Obj object() {
            if (!(value instanceof JsonValue.Obj o)) {
                throw path.isEmpty() ? error("expected a JSON object at the top level, got " + value.typeName())
                        : wrongType("an object");
            }
            return new Obj(this, o);
        }

        List<Node> array() {
            if (value instanceof JsonValue.Arr a) {
                Node[] out = new Node[a.elements().size()];
                for (int i = 0; i < out.length; i++) {
                    out[i] = new Node(file, path + "[" + i + "]", a.elements().get(i));
                }
                return Arrays.asList(out);
            }
            if (value instanceof JsonValue.Ints a) {
                Node[] out = new Node[a.values().length];
                for (int i = 0; i < out.length; i++) {
                    out[i] = new Node(file, path + "[" + i + "]", new JsonValue.Int(a.values()[i]));
                }
                return Arrays.asList(out);
            }
            throw wrongType("an array");
        }

        long[] integers() {
            if (value instanceof JsonValue.Ints a) {
                return a.values();
            }
            if (value instanceof JsonValue.Arr a) {
                if (a.elements().isEmpty()) {
                    return new long[0];
                }
                // Not all integers, or JsonParser would have made an Ints: name the first that is not.
                for (Node e : array()) {
                    e.integer();
                }
            }
            throw wrongType("an array of integers");
        }

        String string() {
            if (value instanceof JsonValue.Str s) {
                return s.value();
            }
            throw wrongType("a string");
        }

        String stringOrNull() {
            if (value == JsonValue.Null.NULL) {
                return null;
            }
            if (value instanceof JsonValue.Str s) {
                return s.value();
            }
            throw wrongType("a string or null");
        }

        long integer() {
            if (value instanceof JsonValue.Int i) {
                return i.value();
            }
            throw wrongType("an integer");
        }

        double number() {
            if (value instanceof JsonValue.Real r) {
                return r.value();
            }
            if (value instanceof JsonValue.Int i) {
                return i.value();
            }
            throw wrongType("a number");
        }

        boolean bool() {
            if (value instanceof JsonValue.Bool b) {
                return b.value();
            }
            throw wrongType("true or false");
        }

        <E> E choice(E[] options, Function<E, String> label) {
            String s = string();
            Set<String> names = new LinkedHashSet<>();
            for (E o : options) {
                if (label.apply(o).equals(s)) {
                    return o;
                }
                names.add("\"" + label.apply(o) + "\"");
            }
            throw error("\"" + s + "\" is not one of " + String.join(", ", names));
        }
    }

    /** An object node: members by name, with the checks for missing and unknown fields. */
    private static final class Obj {
        final Node node;
        final JsonValue.Obj value;

        Obj(Node node, JsonValue.Obj value) {
            this.node = node;
            this.value = value;
        }

        Node get(String name) {
            JsonValue v = value.members().get(name);
            String childPath = node.path.isEmpty() ? name : node.path + "." + name;
            if (v == null) {
                throw new InvalidInputException(node.file + ": missing field " + childPath);
            }
            return new Node(node.file, childPath, v);
        }

        /**
         * Refuses members other than {@code names}: the signature covers only the known fields, so an
         * extra member could be added to a signed file unnoticed and mislead whoever reads it.
         */
        void only(String... names) {
            Set<String> allowed = Set.of(names);
            for (String k : value.members().keySet()) {
                if (!allowed.contains(k)) {
                    String childPath = node.path.isEmpty() ? k : node.path + "." + k;
                    throw new InvalidInputException(node.file + ": unknown field " + childPath);
                }
            }
        }
    }
}
