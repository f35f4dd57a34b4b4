package dev.dyepack.serve;

import dev.dyepack.InvalidArgumentException;
import dev.dyepack.InvalidInputException;
import dev.dyepack.manifest.Json;
import dev.dyepack.manifest.JsonReader;
import dev.dyepack.mark.Queries;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Base64;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * Where a prediction service keeps its queries and answers in its JSON, and how they are written: the marking
 * proxy reads the queries from the client's request at {@link #requestPath()}, the answers from the upstream's
 * response at {@link #responsePath()} (both RFC 6901 JSON pointers), and serves the upstream's response with only
 * the marked answers changed, everything else in the document as the upstream wrote it.
 *
 * <p>The queries at the request path are either an array of instances, each nested arrays of numbers or a
 * <em>tensor</em> of one query, or one tensor holding the whole batch (N first). The answers at the response path
 * are either an array of N rows, each an array of C numbers or a tensor of C values, or one tensor of shape
 * (N, C). A tensor is a JSON object with {@code "shape"} (non-negative integers), the element type in
 * {@code "dtype"} or {@code "datatype"} ({@code uint8}, {@code int8}, {@code int32}, {@code int64},
 * {@code float32}, {@code float64}; also KServe's {@code UINT8}, {@code FP32}, ...), and its elements either
 * in {@code "b64"} (base64 of the raw little-endian bytes, row-major) or in {@code "data"} (a flat array of
 * numbers, row-major: the KServe v2 JSON form); other members are kept. Served answers keep the form, element
 * type and encoding they came in. Queries of any element type are marked as float32 (uint8 ones as uint8), the
 * form the keyed digest is taken over. Immutable and thread-safe.
 *
 * @param requestPath  the pointer to the queries in a request ({@code ""} for the whole document)
 * @param responsePath the pointer to the answers in the upstream's response
 */
public record ServiceMapping(String requestPath, String responsePath) {
    /** The verification's shapes: {@code {"instances": [...]}} in, {@code {"predictions": [...]}} out. */
    public static final ServiceMapping DEFAULT = new ServiceMapping("/instances", "/predictions");
    /** Deeper nesting than any request or answer needs is refused rather than risking the stack. */
    static final int MAX_DEPTH = 64;
    /** Elements a tensor may claim; the elements present (bounded by the request's size) must match. */
    static final long MAX_ELEMENTS = 1L << 28;

    /** @throws InvalidArgumentException if a path is not a JSON pointer */
    public ServiceMapping {
        for (String p : new String[] {requestPath, responsePath}) {
            if (p == null || !(p.isEmpty() || p.startsWith("/"))) {
                throw new InvalidArgumentException("a request or response path is a JSON pointer (\"\" or starting "
                        + "with '/'), got " + p);
            }
        }
    }

    /** A request or an answer that does not fit the mapping; the message names what is wrong. */
    static final class MappingException extends Exception {
        private static final long serialVersionUID = 1L;

        MappingException(String message) {
            super(message, null, false, false);
        }
    }

    /**
     * A client's request, parsed.
     *
     * @param queries the queries, as the marker takes them
     */
    record Request(Queries queries) {
    }

    /**
     * An upstream's response, parsed: the document and, per answer, its C values.
     *
     * @param document the whole response
     * @param answers  N x C, as the upstream wrote them
     * @param form     how the answers are written at the response path
     */
    record Answers(Object document, double[][] answers, Object form) {
    }

    /**
     * Reads the queries from a request.
     *
     * @param body the request's text
     * @return its queries
     * @throws MappingException for anything but queries of one shape at the request path
     */
    Request request(String body) throws MappingException {
        Object root;
        try {
            root = JsonReader.parse(body, MAX_DEPTH);
        } catch (InvalidInputException e) {
            throw new MappingException("the request is " + e.getMessage());
        }
        Object at = at(root, requestPath, "request");
        if (at instanceof Map<?, ?> tensor) {
            Tensor t = Tensor.read(tensor, "the request's tensor at \"" + requestPath + "\"");
            if (t.shape.length < 1 || t.shape[0] == 0) {
                throw new MappingException("the request's tensor at \"" + requestPath + "\" has "
                        + (t.shape.length < 1 ? "no batch dimension" : "no queries"));
            }
            return new Request(t.queries(t.shape));
        }
        if (!(at instanceof List<?> instances)) {
            throw new MappingException("the request has " + describe(at) + " at \"" + requestPath + "\", not an array "
                    + "of queries or a tensor" + hint());
        }
        if (instances.isEmpty()) {
            throw new MappingException("the request holds no instances");
        }
        long[] shape = null;
        boolean bytes = true;
        List<double[]> rows = new ArrayList<>(instances.size());
        for (int i = 0; i < instances.size(); i++) {
            Object x = instances.get(i);
            long[] s;
            double[] v;
            if (x instanceof Map<?, ?> tensor) {
                Tensor t = Tensor.read(tensor, "instance " + i);
                s = t.shape;
                v = t.values;
                bytes &= t.dtype == Dtype.UINT8;
            } else {
                List<Long> dims = new ArrayList<>();
                shapeOf(x, dims, i);
                s = dims.stream().mapToLong(Long::longValue).toArray();
                v = new double[Math.toIntExact(count(s))];
                flatten(x, s, 0, v, new int[1], i);
                bytes = false;
            }
            if (shape == null) {
                shape = s;
            } else if (!Arrays.equals(shape, s)) {
                throw new MappingException("instance " + i + " has shape " + Arrays.toString(s) + ", instance 0 "
                        + Arrays.toString(shape) + ": one request holds one shape");
            }
            rows.add(v);
        }
        long[] full = new long[shape.length + 1];
        full[0] = instances.size();
        System.arraycopy(shape, 0, full, 1, shape.length);
        int per = rows.get(0).length;
        double[] all = new double[per * rows.size()];
        for (int i = 0; i < rows.size(); i++) {
            System.arraycopy(rows.get(i), 0, all, i * per, per);
        }
        return new Request(toQueries(all, full, bytes));
    }

    /**
     * Reads the answers from the upstream's response.
     *
     * @param body the response's text
     * @param n    the number of queries asked
     * @return the answers
     * @throws MappingException for anything but n answers of C &gt;= 2 class scores at the response path
     */
    Answers answers(String body, int n) throws MappingException {
        Object root;
        try {
            root = JsonReader.parse(body, MAX_DEPTH);
        } catch (InvalidInputException e) {
            throw new MappingException("the upstream's answer is " + e.getMessage());
        }
        Object at = at(root, responsePath, "upstream's answer");
        double[][] out = new double[n][];
        if (at instanceof Map<?, ?> tensor) {
            Tensor t = Tensor.read(tensor, "the upstream's tensor at \"" + responsePath + "\"");
            if (t.shape.length != 2 || t.shape[0] != n || t.shape[1] < 2) {
                throw new MappingException("the upstream's tensor at \"" + responsePath + "\" has shape "
                        + Arrays.toString(t.shape) + "; " + n + " queries need (" + n + ", C) class scores, C >= 2");
            }
            checkScores(t);
            int c = (int) t.shape[1];
            for (int i = 0; i < n; i++) {
                out[i] = Arrays.copyOfRange(t.values, i * c, (i + 1) * c);
            }
            return new Answers(root, out, t);
        }
        if (!(at instanceof List<?> predictions)) {
            throw new MappingException("the upstream's answer has " + describe(at) + " at \"" + responsePath
                    + "\", not a list of answers or a tensor");
        }
        if (predictions.size() != n) {
            throw new MappingException("the upstream gave " + predictions.size() + " answers to " + n + " queries");
        }
        List<Object> forms = new ArrayList<>(n);
        for (int i = 0; i < n; i++) {
            Object row = predictions.get(i);
            if (row instanceof Map<?, ?> tensor) {
                Tensor t = Tensor.read(tensor, "the upstream's answer " + i);
                if (t.values.length < 2 || t.values.length != count(t.shape) || (t.shape.length > 1
                        && count(Arrays.copyOf(t.shape, t.shape.length - 1)) != 1)) {
                    throw new MappingException("the upstream's answer " + i + " has shape " + Arrays.toString(t.shape)
                            + ", not one row of class scores");
                }
                checkScores(t);
                out[i] = t.values;
                forms.add(t);
            } else if (row instanceof List<?> l && l.size() >= 2) {
                out[i] = new double[l.size()];
                for (int c = 0; c < l.size(); c++) {
                    if (!(l.get(c) instanceof Number x) || !Double.isFinite(x.doubleValue())) {
                        throw new MappingException("the upstream's answer " + i + " holds a non-number");
                    }
                    out[i][c] = x.doubleValue();
                }
                forms.add(null);
            } else {
                throw new MappingException("the upstream's answer " + i + " is not a list of class scores (the proxy "
                        + "marks probabilities or logits, not labels)");
            }
            if (out[i].length != out[0].length) {
                throw new MappingException("the upstream's answer " + i + " has " + out[i].length + " classes, answer 0 "
                        + "has " + out[0].length);
            }
        }
        return new Answers(root, out, forms);
    }

    /**
     * The response to serve: the upstream's document with the answers at the response path replaced by
     * {@code served}, written in the form they came in.
     *
     * @param a      the upstream's answers
     * @param served N x C, the values to serve
     * @return the response's text
     */
    String serve(Answers a, double[][] served) {
        Object replacement;
        if (a.form() instanceof Tensor t) {
            double[] flat = new double[t.values.length];
            int c = served.length == 0 ? 0 : served[0].length;
            for (int i = 0; i < served.length; i++) {
                System.arraycopy(served[i], 0, flat, i * c, c);
            }
            replacement = t.with(flat);
        } else {
            List<?> forms = (List<?>) a.form();
            List<Object> rows = new ArrayList<>(served.length);
            for (int i = 0; i < served.length; i++) {
                if (forms.get(i) instanceof Tensor t) {
                    rows.add(t.with(served[i]));
                } else {
                    List<Object> row = new ArrayList<>(served[i].length);
                    for (double v : served[i]) {
                        row.add(v);
                    }
                    rows.add(row);
                }
            }
            replacement = rows;
        }
        StringBuilder b = new StringBuilder();
        write(replaced(a.document(), responsePath, replacement), b);
        return b.toString();
    }

    private String hint() {
        return requestPath.equals(DEFAULT.requestPath) ? " (the request must be {\"instances\": [...]})" : "";
    }

    private static void checkScores(Tensor t) throws MappingException {
        if (t.dtype != Dtype.FLOAT32 && t.dtype != Dtype.FLOAT64) {
            throw new MappingException("answers are float32 or float64 class scores, got " + t.dtype.name
                    + " (the proxy marks probabilities or logits, not labels)");
        }
        for (double v : t.values) {
            if (!Double.isFinite(v)) {
                throw new MappingException("the upstream's answers hold a non-finite value");
            }
        }
    }

    private static Queries toQueries(double[] values, long[] shape, boolean bytes) {
        if (bytes) {
            byte[] b = new byte[values.length];
            for (int i = 0; i < b.length; i++) {
                b[i] = (byte) (int) values[i];
            }
            return Queries.ofBytes(b, shape);
        }
        float[] f = new float[values.length];
        for (int i = 0; i < f.length; i++) {
            f[i] = (float) values[i];
        }
        return Queries.ofFloats(f, shape);
    }

    private static long count(long[] shape) {
        long n = 1;
        for (long d : shape) {
            n = Math.multiplyExact(n, d);
        }
        return n;
    }

    private static void shapeOf(Object o, List<Long> shape, int index) throws MappingException {
        if (o instanceof List<?> l) {
            if (l.isEmpty()) {
                throw new MappingException("instance " + index + " holds an empty array");
            }
            shape.add((long) l.size());
            shapeOf(l.get(0), shape, index);
        } else if (!(o instanceof Number)) {
            throw new MappingException("instance " + index + " must be nested arrays of numbers or a tensor object "
                    + "({\"b64\" or \"data\", \"dtype\", \"shape\"})");
        }
    }

    /** Copies nested arrays of exactly the given shape into out, refusing ragged ones. */
    private static void flatten(Object o, long[] shape, int depth, double[] out, int[] pos, int index)
            throws MappingException {
        if (depth == shape.length) {
            if (!(o instanceof Number n) || !Double.isFinite(n.doubleValue()) || !Float.isFinite(n.floatValue())) {
                throw new MappingException("instance " + index + " holds " + (o instanceof Number ? "a non-finite value"
                        : "something other than a number where its shape " + Arrays.toString(shape) + " puts one"));
            }
            out[pos[0]++] = n.doubleValue();
        } else if (o instanceof List<?> l && l.size() == shape[depth]) {
            for (Object x : l) {
                flatten(x, shape, depth + 1, out, pos, index);
            }
        } else {
            throw new MappingException("instance " + index + " is ragged: not nested arrays of shape "
                    + Arrays.toString(shape));
        }
    }

    private static String describe(Object o) {
        if (o instanceof Map<?, ?>) {
            return "an object";
        }
        if (o instanceof List<?>) {
            return "an array";
        }
        if (o instanceof String) {
            return "a string";
        }
        return o == JsonReader.NULL ? "null" : o instanceof Boolean ? "a boolean" : "a number";
    }

    /** Follows an RFC 6901 pointer. */
    private static Object at(Object root, String pointer, String what) throws MappingException {
        Object v = root;
        if (pointer.isEmpty()) {
            return v;
        }
        String walked = "";
        for (String raw : pointer.substring(1).split("/", -1)) {
            String token = raw.replace("~1", "/").replace("~0", "~");
            walked += "/" + raw;
            if (v instanceof Map<?, ?> m && m.containsKey(token)) {
                v = m.get(token);
            } else if (v instanceof List<?> l && index(token, l.size()) >= 0) {
                v = l.get(index(token, l.size()));
            } else {
                throw new MappingException("the " + what + " has nothing at \"" + walked + "\""
                        + ("request".equals(what) && pointer.equals(DEFAULT.requestPath)
                                ? " (the request must be {\"instances\": [...]})"
                                : pointer.equals(DEFAULT.responsePath) && !"request".equals(what)
                                        ? " (the answer must be {\"predictions\": [...]})" : ""));
            }
        }
        return v;
    }

    private static int index(String token, int size) {
        if (token.isEmpty() || token.length() > 9 || !token.chars().allMatch(Character::isDigit)
                || (token.length() > 1 && token.charAt(0) == '0')) {
            return -1;
        }
        int i = Integer.parseInt(token);
        return i < size ? i : -1;
    }

    /** A copy of the document with the value at the pointer replaced (the pointer is known to resolve). */
    private static Object replaced(Object node, String pointer, Object value) {
        if (pointer.isEmpty()) {
            return value;
        }
        int next = pointer.indexOf('/', 1);
        String raw = next < 0 ? pointer.substring(1) : pointer.substring(1, next);
        String rest = next < 0 ? "" : pointer.substring(next);
        String token = raw.replace("~1", "/").replace("~0", "~");
        if (node instanceof Map<?, ?> m) {
            Map<Object, Object> copy = new LinkedHashMap<>(m);
            copy.put(token, replaced(m.get(token), rest, value));
            return copy;
        }
        List<Object> copy = new ArrayList<>((List<?>) node);
        int i = Integer.parseInt(token);
        copy.set(i, replaced(copy.get(i), rest, value));
        return copy;
    }

    private static void write(Object v, StringBuilder b) {
        if (v instanceof Map<?, ?> m) {
            b.append('{');
            boolean first = true;
            for (Map.Entry<?, ?> e : m.entrySet()) {
                b.append(first ? "" : ",").append(Json.quote((String) e.getKey())).append(':');
                write(e.getValue(), b);
                first = false;
            }
            b.append('}');
        } else if (v instanceof List<?> l) {
            b.append('[');
            for (int i = 0; i < l.size(); i++) {
                b.append(i == 0 ? "" : ",");
                write(l.get(i), b);
            }
            b.append(']');
        } else if (v instanceof String s) {
            b.append(Json.quote(s));
        } else if (v instanceof Double d) {
            // Double.toString round-trips every finite double and is valid JSON (1.0E-5 included).
            b.append(Double.toString(d));
        } else if (v instanceof Tensor t) {
            write(t.document(), b);
        } else {
            b.append(v == JsonReader.NULL ? "null" : String.valueOf(v));
        }
    }

    /** Element types of a tensor. */
    enum Dtype {
        UINT8("uint8", 1), INT8("int8", 1), INT32("int32", 4), INT64("int64", 8), FLOAT32("float32", 4),
        FLOAT64("float64", 8);

        final String name;
        final int width;

        Dtype(String name, int width) {
            this.name = name;
            this.width = width;
        }

        static Dtype of(String s) {
            String l = s.toLowerCase(Locale.ROOT);
            for (Dtype d : values()) {
                if (d.name.equals(l)) {
                    return d;
                }
            }
            return switch (l) {
                case "fp32" -> FLOAT32;
                case "fp64" -> FLOAT64;
                default -> null;
            };
        }
    }

    /** A tensor object as read: its members, element type, shape, values, and whether they were base64. */
    static final class Tensor {
        final Map<?, ?> members;
        final Dtype dtype;
        final long[] shape;
        final double[] values;
        final boolean base64;

        private Tensor(Map<?, ?> members, Dtype dtype, long[] shape, double[] values, boolean base64) {
            this.members = members;
            this.dtype = dtype;
            this.shape = shape;
            this.values = values;
            this.base64 = base64;
        }

        static Tensor read(Map<?, ?> m, String where) throws MappingException {
            Object dt = m.containsKey("dtype") ? m.get("dtype") : m.get("datatype");
            Dtype dtype = dt instanceof String s ? Dtype.of(s) : null;
            if (dtype == null) {
                throw new MappingException(where + ": a tensor needs \"dtype\" (uint8, int8, int32, int64, float32 "
                        + "or float64), got " + (dt == null ? "none" : dt));
            }
            if (!(m.get("shape") instanceof List<?> dims)) {
                throw new MappingException(where + ": a tensor needs \"shape\", an array of dimensions");
            }
            long[] shape = new long[dims.size()];
            long elements = 1;
            for (int i = 0; i < shape.length; i++) {
                if (!(dims.get(i) instanceof Long d) || d < 0) {
                    throw new MappingException(where + ": the shape " + dims + " is not non-negative integers");
                }
                shape[i] = d;
                if (d > 0 && elements > MAX_ELEMENTS / d) {
                    throw new MappingException(where + ": the shape " + dims + " is too large");
                }
                elements *= d;
            }
            // The sizes are checked against the elements present before anything of the shape's size is allocated.
            double[] values;
            boolean base64;
            if (m.get("b64") instanceof String s) {
                byte[] raw;
                try {
                    raw = Base64.getDecoder().decode(s);
                } catch (IllegalArgumentException e) {
                    throw new MappingException(where + ": \"b64\" is not base64: " + e.getMessage());
                }
                if (raw.length != elements * dtype.width) {
                    throw new MappingException(where + ": \"b64\" holds " + raw.length + " bytes; shape "
                            + Arrays.toString(shape) + " of " + dtype.name + " needs " + elements * dtype.width);
                }
                values = new double[(int) elements];
                ByteBuffer b = ByteBuffer.wrap(raw).order(ByteOrder.LITTLE_ENDIAN);
                for (int i = 0; i < values.length; i++) {
                    values[i] = switch (dtype) {
                        case UINT8 -> b.get() & 0xff;
                        case INT8 -> b.get();
                        case INT32 -> b.getInt();
                        case INT64 -> (double) b.getLong();
                        case FLOAT32 -> b.getFloat();
                        case FLOAT64 -> b.getDouble();
                    };
                    if (!Double.isFinite(values[i]) || !Float.isFinite((float) values[i])) {
                        throw new MappingException(where + ": element " + i + " is not finite");
                    }
                }
                base64 = true;
            } else if (m.get("data") instanceof List<?> data) {
                if (data.size() != elements) {
                    throw new MappingException(where + ": \"data\" holds " + data.size() + " numbers; shape "
                            + Arrays.toString(shape) + " needs " + elements);
                }
                values = new double[(int) elements];
                for (int i = 0; i < values.length; i++) {
                    if (!(data.get(i) instanceof Number x) || !Double.isFinite(x.doubleValue())
                            || !Float.isFinite((float) x.doubleValue())) {
                        throw new MappingException(where + ": \"data\" element " + i + " is not a finite number");
                    }
                    values[i] = x.doubleValue();
                    if (dtype == Dtype.UINT8 && (values[i] < 0 || values[i] > 255 || values[i] != Math.rint(values[i]))) {
                        throw new MappingException(where + ": \"data\" element " + i + " is not a uint8");
                    }
                }
                base64 = false;
            } else {
                throw new MappingException(where + ": a tensor holds its elements in \"b64\" (base64 of the raw "
                        + "little-endian bytes) or \"data\" (a flat array)");
            }
            return new Tensor(m, dtype, shape, values, base64);
        }

        Queries queries(long[] shape) {
            return toQueries(values, shape, dtype == Dtype.UINT8);
        }

        /** The same tensor object with other values, in the same element type and encoding. */
        Tensor with(double[] v) {
            return new Tensor(members, dtype, shape, v, base64);
        }

        Map<Object, Object> document() {
            Map<Object, Object> out = new LinkedHashMap<>(members);
            if (base64) {
                ByteBuffer b = ByteBuffer.allocate(values.length * dtype.width).order(ByteOrder.LITTLE_ENDIAN);
                for (double v : values) {
                    if (dtype == Dtype.FLOAT32) {
                        b.putFloat((float) v);
                    } else {
                        b.putDouble(v);
                    }
                }
                out.put("b64", Base64.getEncoder().encodeToString(b.array()));
            } else {
                List<Object> data = new ArrayList<>(values.length);
                for (double v : values) {
                    data.add(v);
                }
                out.put("data", data);
            }
            return out;
        }
    }
}
