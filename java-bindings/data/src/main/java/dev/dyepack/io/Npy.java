package dev.dyepack.io;

import dev.dyepack.InvalidArgumentException;
import dev.dyepack.InvalidInputException;

import java.io.IOException;
import java.math.BigInteger;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Reading the NumPy {@code .npy} format (versions 1.0, 2.0 and 3.0), with a strict parser for the
 * header's Python dict literal. Nothing in a file is ever evaluated or unpickled: object arrays,
 * structured dtypes, big-endian multi-byte dtypes and Fortran order are refused with a message that
 * names the file and says what to do instead.
 *
 * <p>Supported dtypes: the integers {@code |u1 |i1 <u2 <i2 <u4 <i4 <u8 <i8} (single-byte ones also
 * spelled with {@code <}, {@code >}, {@code =} or no byte-order mark) and the floats {@code <f2 <f4
 * <f8}. Images must further be uint8 or float32 ({@link NpyHeader#imageDType()}).
 *
 * <p>See {@link NpyReader} for reading data and {@link NpyWriter} for writing files.
 */
public final class Npy {
    /** The six bytes every {@code .npy} file starts with: {@code \x93NUMPY}. */
    static final byte[] MAGIC = {(byte) 0x93, 'N', 'U', 'M', 'P', 'Y'};

    /** Bytes before the header text: magic, two version bytes, and a 2-byte (v1) length. */
    static final int PREAMBLE_V1 = 10;

    /** Bytes before the header text: magic, two version bytes, and a 4-byte (v2, v3) length. */
    static final int PREAMBLE_V2 = 12;

    /**
     * The longest header text accepted. Real headers are under 200 bytes; the bound keeps a corrupt
     * length field from making the reader allocate gigabytes.
     */
    static final int MAX_HEADER_LENGTH = (int) Limits.DEFAULT_HEADER_BYTES;
    /** The most {@link Limits#headerBytes()} may allow: the header is held in one array. */
    private static final long MAX_HEADER_LENGTH_CAP = 1L << 30;

    /** NumPy's own limit on the number of dimensions. */
    static final int MAX_RANK = 64;

    private static final Pattern DESCR = Pattern.compile("([<>|=]?)([A-Za-z])([0-9]*)");

    private Npy() {
    }

    /**
     * Reads and checks the header of a {@code .npy} file, including that the file's length is
     * exactly the header plus the data the header announces.
     *
     * @param file the file to read
     * @return the parsed header
     * @throws InvalidInputException if the file cannot be read, is not a {@code .npy} file, has an
     *                               unsupported version, a truncated or malformed header, an
     *                               unsupported dtype, Fortran order, a negative or overflowing
     *                               shape, or a length that differs from what the header says; the
     *                               message names the file
     */
    public static NpyHeader readHeader(Path file) {
        try (FileChannel ch = FileChannel.open(file, StandardOpenOption.READ)) {
            return readHeader(ch, file.toString());
        } catch (IOException e) {
            throw new InvalidInputException(file + ": cannot read: " + e, e);
        }
    }

    /**
     * Reads the header through positional reads (the channel's position is not used) and checks the
     * file's length against it.
     */
    static NpyHeader readHeader(FileChannel ch, String name) throws IOException {
        long size = ch.size();
        if (size == 0) {
            throw new InvalidInputException(name + ": not a .npy file (the file is empty)");
        }
        ByteBuffer preamble = ByteBuffer.allocate((int) Math.min(size, PREAMBLE_V2));
        readFully(ch, preamble, 0, name);
        preamble.flip();
        long headerEnd = headerEnd(preamble, name);
        if (headerEnd > size) {
            throw new InvalidInputException(name + ": truncated header: it needs " + headerEnd
                    + " bytes but the file holds " + size);
        }
        ByteBuffer all = ByteBuffer.allocate((int) headerEnd);
        readFully(ch, all, 0, name);
        all.flip();
        NpyHeader h = parseHeader(all, name);
        long held = size - h.dataOffset();
        if (held != h.dataBytes()) {
            String says = "header says shape " + h.shapeString() + " of " + h.descr() + " = " + h.dataBytes()
                    + " bytes but the file holds " + held + " bytes after the header";
            throw new InvalidInputException(name + ": "
                    + (held < h.dataBytes() ? "truncated: " + says : says + " (trailing bytes)"));
        }
        return h;
    }

    /**
     * Parses a {@code .npy} header from a buffer holding the start of a file. Does not check the
     * data that follows (the buffer need not hold it).
     *
     * @param buf the bytes from the first magic byte on, between its position and limit; the
     *            position and limit are not changed
     * @return the parsed header, its {@code dataOffset} counted from the buffer's position
     * @throws InvalidInputException if the bytes are not a complete, supported {@code .npy} header
     *                               (same rules as {@link #readHeader(Path)})
     */
    public static NpyHeader parseHeader(ByteBuffer buf) {
        return parseHeader(buf, "<buffer>");
    }

    static NpyHeader parseHeader(ByteBuffer buf, String name) {
        ByteBuffer b = buf.slice().order(ByteOrder.LITTLE_ENDIAN);
        long end = headerEnd(b, name);
        if (end > b.remaining()) {
            throw new InvalidInputException(name + ": truncated header: it needs " + end
                    + " bytes but only " + b.remaining() + " are present");
        }
        int major = b.get(6) & 0xff;
        int preamble = major == 1 ? PREAMBLE_V1 : PREAMBLE_V2;
        byte[] text = new byte[(int) end - preamble];
        b.get(preamble, text);
        String dict;
        try {
            // v1 and v2 headers are latin-1; v3 allows UTF-8 (for field names we refuse anyway).
            dict = (major == 3 ? StandardCharsets.UTF_8 : StandardCharsets.ISO_8859_1).newDecoder()
                    .onMalformedInput(CodingErrorAction.REPORT)
                    .onUnmappableCharacter(CodingErrorAction.REPORT)
                    .decode(ByteBuffer.wrap(text)).toString();
        } catch (CharacterCodingException e) {
            throw new InvalidInputException(name + ": malformed header: not valid UTF-8", e);
        }
        return interpret(new DictParser(dict, name).parse(), end, name);
    }

    /** Names the format a file that is not .npy seems to have, so that an IDX file is not just "not .npy". */
    private static String otherFormat(ByteBuffer b) {
        int n = b.remaining();
        if (n >= 2 && (b.get(0) & 0xff) == 0x1f && (b.get(1) & 0xff) == 0x8b) {
            return "; it is gzip-compressed (an IDX .gz file?), and only .npy is accepted here";
        }
        if (n >= 4 && b.get(0) == 0 && b.get(1) == 0 && Idx.isSupported(b.get(2) & 0xff) && b.get(3) > 0) {
            return "; it looks like an IDX file, and only .npy is accepted here";
        }
        return "";
    }

    /**
     * Checks magic and version and returns the offset just past the header text, from the preamble
     * alone.
     */
    private static long headerEnd(ByteBuffer b, String name) {
        int n = b.remaining();
        for (int i = 0; i < MAGIC.length; i++) {
            if (i >= n) {
                throw new InvalidInputException(name + ": truncated header: only " + n + " bytes");
            }
            if (b.get(i) != MAGIC[i]) {
                throw new InvalidInputException(name + ": not a .npy file (no \\x93NUMPY magic at the start)"
                        + otherFormat(b));
            }
        }
        if (n < 8) {
            throw new InvalidInputException(name + ": truncated header: only " + n + " bytes");
        }
        int major = b.get(6) & 0xff;
        int minor = b.get(7) & 0xff;
        if (major < 1 || major > 3 || minor != 0) {
            throw new InvalidInputException(name + ": unsupported .npy format version " + major + "." + minor
                    + " (supported: 1.0, 2.0, 3.0)");
        }
        int preamble = major == 1 ? PREAMBLE_V1 : PREAMBLE_V2;
        if (n < preamble) {
            throw new InvalidInputException(name + ": truncated header: only " + n + " bytes");
        }
        long len = major == 1
                ? (b.get(8) & 0xff) | (b.get(9) & 0xff) << 8
                : (b.get(8) & 0xffL) | (b.get(9) & 0xffL) << 8 | (b.get(10) & 0xffL) << 16 | (b.get(11) & 0xffL) << 24;
        long max = Math.min(MAX_HEADER_LENGTH_CAP, Limits.current().headerBytes());
        if (len > max) {
            throw new InvalidInputException(name + ": malformed header: its length field says " + len
                    + " bytes, over the limit of " + max + " (" + Limits.PROPERTY_PREFIX + "header-bytes)");
        }
        return preamble + len;
    }

    /** Turns the parsed dict into a header, applying every rule on keys, dtype and shape. */
    private static NpyHeader interpret(Map<String, Object> dict, long dataOffset, String name) {
        for (String key : dict.keySet()) {
            if (!key.equals("descr") && !key.equals("fortran_order") && !key.equals("shape")) {
                throw new InvalidInputException(name + ": malformed header: unexpected key '" + key
                        + "' (expected only 'descr', 'fortran_order' and 'shape')");
            }
        }
        for (String key : List.of("descr", "fortran_order", "shape")) {
            if (!dict.containsKey(key)) {
                throw new InvalidInputException(name + ": malformed header: key '" + key + "' is missing");
            }
        }

        Object d = dict.get("descr");
        if (d instanceof PyList || d instanceof PyTuple) {
            throw new InvalidInputException(name + ": structured dtypes (records with named fields) are not"
                    + " supported; save a plain numeric array");
        }
        if (!(d instanceof String)) {
            throw new InvalidInputException(name + ": malformed header: 'descr' must be a string, got " + d);
        }
        String descr = (String) d;
        String problem = dtypeProblem(descr);
        if (problem != null) {
            throw new InvalidInputException(name + ": " + problem);
        }

        Object f = dict.get("fortran_order");
        if (!(f instanceof Boolean)) {
            throw new InvalidInputException(name + ": malformed header: 'fortran_order' must be True or False, got " + f);
        }
        if ((Boolean) f) {
            throw new InvalidInputException(name + ": Fortran-order arrays are not supported; save with C order"
                    + " (numpy.ascontiguousarray before numpy.save)");
        }

        Object s = dict.get("shape");
        if (!(s instanceof PyTuple)) {
            throw new InvalidInputException(name + ": malformed header: 'shape' must be a tuple of integers, got " + s);
        }
        List<Object> dims = ((PyTuple) s).items;
        if (dims.size() > MAX_RANK) {
            throw new InvalidInputException(name + ": malformed header: shape has " + dims.size()
                    + " dimensions, more than " + MAX_RANK);
        }
        long[] shape = new long[dims.size()];
        for (int i = 0; i < shape.length; i++) {
            Object dim = dims.get(i);
            if (!(dim instanceof BigInteger)) {
                throw new InvalidInputException(name + ": malformed header: shape entry " + dim + " is not an integer");
            }
            BigInteger v = (BigInteger) dim;
            if (v.signum() < 0) {
                throw new InvalidInputException(name + ": negative dimension " + v + " at axis " + i + " in shape "
                        + dims.toString().replace('[', '(').replace(']', ')'));
            }
            if (v.bitLength() > 63) {
                throw new InvalidInputException(name + ": size overflow: dimension " + v + " does not fit in 64 bits");
            }
            shape[i] = v.longValue();
        }
        int elementSize = elementSize(descr);
        long bytes = NpyHeader.byteSize(shape, elementSize);
        if (bytes < 0 || bytes > Long.MAX_VALUE - dataOffset) {
            throw new InvalidInputException(name + ": size overflow: shape " + shapeString(shape) + " of " + descr
                    + " holds more bytes than a 64-bit size can count");
        }
        return new NpyHeader(descr, false, shape, dataOffset, elementSize);
    }

    /**
     * Why a dtype string is not supported, or null if it is. Shared by the reader (which prefixes the
     * file name) and the writer (which reports it as a bad argument).
     */
    static String dtypeProblem(String descr) {
        Matcher m = DESCR.matcher(descr);
        if (!m.matches()) {
            return "unsupported dtype '" + descr + "'";
        }
        String order = m.group(1);
        char kind = m.group(2).charAt(0);
        String digits = m.group(3);
        if (kind == 'O') {
            return "object arrays are not supported (they would need unpickling); save a numeric array";
        }
        if (kind == 'V') {
            return "structured or void dtype '" + descr + "' is not supported; save a plain numeric array";
        }
        if (kind == 'b' || kind == '?') {
            return "bool dtype '" + descr + "' is not supported; save labels or indices as integers";
        }
        int size;
        try {
            size = digits.isEmpty() ? -1 : Integer.parseInt(digits);
        } catch (NumberFormatException e) {
            size = -1;
        }
        boolean known = (kind == 'u' || kind == 'i') && (size == 1 || size == 2 || size == 4 || size == 8)
                || kind == 'f' && (size == 2 || size == 4 || size == 8);
        if (!known) {
            return "unsupported dtype '" + descr + "' (supported: uint8, int8, uint16, int16, uint32, int32,"
                    + " uint64, int64, float16, float32, float64)";
        }
        if (size > 1) {
            if (order.equals(">")) {
                return "big-endian dtype '" + descr + "' is not supported; convert with arr.astype('<"
                        + kind + size + "') before saving";
            }
            if (!order.equals("<")) {
                return "dtype '" + descr + "' does not state little-endian byte order ('<')";
            }
        }
        return null;
    }

    /** Bytes per element of a dtype that {@link #dtypeProblem} accepted. */
    static int elementSize(String descr) {
        Matcher m = DESCR.matcher(descr);
        if (!m.matches()) {
            throw new IllegalArgumentException(descr);
        }
        return Integer.parseInt(m.group(3));
    }

    /** The kind letter of a dtype string ('u', 'i', 'f', ...), or 0 if it has none. */
    static char dtypeKind(String descr) {
        Matcher m = DESCR.matcher(descr);
        return m.matches() ? m.group(2).charAt(0) : 0;
    }

    /** The NumPy name of a dtype string ("uint8", "float64"), or the string itself if unknown. */
    static String dtypeName(String descr) {
        Matcher m = DESCR.matcher(descr);
        if (!m.matches() || m.group(3).isEmpty()) {
            return descr;
        }
        int bits;
        try {
            bits = Integer.parseInt(m.group(3)) * 8;
        } catch (NumberFormatException e) {
            return descr;
        }
        switch (m.group(2).charAt(0)) {
            case 'u':
                return "uint" + bits;
            case 'i':
                return "int" + bits;
            case 'f':
                return "float" + bits;
            case 'c':
                return "complex" + bits;
            default:
                return descr;
        }
    }

    /** A shape in Python tuple notation: {@code ()}, {@code (5,)}, {@code (2, 3)}. */
    static String shapeString(long[] shape) {
        StringBuilder sb = new StringBuilder("(");
        for (int i = 0; i < shape.length; i++) {
            if (i > 0) {
                sb.append(", ");
            }
            sb.append(shape[i]);
        }
        return sb.append(shape.length == 1 ? ",)" : ")").toString();
    }

    /**
     * Reads a whole rank-1 integer array, for label and index files.
     *
     * @param file a {@code .npy} file of shape {@code (n,)} and an integer dtype
     * @return its values, widened to {@code long}
     * @throws InvalidInputException if the file is unusable (see {@link #readHeader(Path)}), its dtype
     *                               is not an integer, its rank is not 1, it has more elements than a
     *                               Java array holds, or a {@code uint64} value exceeds
     *                               {@link Long#MAX_VALUE}
     */
    public static long[] readIntegers(Path file) {
        try (NpyReader r = NpyReader.open(file)) {
            NpyHeader h = r.header();
            if (!h.isInteger()) {
                throw new InvalidInputException(file + ": expected an integer array but the dtype is '"
                        + h.descr() + "' (" + dtypeName(h.descr()) + ")");
            }
            if (h.rank() != 1) {
                throw new InvalidInputException(file + ": expected a 1-d array of shape (n,) but the shape is "
                        + h.shapeString());
            }
            long n = h.count();
            if (n > Integer.MAX_VALUE - 8) {
                throw new InvalidInputException(file + ": " + n + " values are more than a Java array holds");
            }
            long[] out = new long[(int) n];
            boolean unsigned = dtypeKind(h.descr()) == 'u';
            int size = h.elementSize();
            // Chunked so a large label file does not need a second copy of itself in memory.
            int chunk = (1 << 20) / size;
            ByteBuffer buf = ByteBuffer.allocate(chunk * size).order(ByteOrder.LITTLE_ENDIAN);
            for (int start = 0; start < out.length; start += chunk) {
                int k = Math.min(chunk, out.length - start);
                buf.clear();
                r.readSamples(start, k, buf);
                buf.flip();
                for (int i = 0; i < k; i++) {
                    long v;
                    switch (size) {
                        case 1:
                            v = unsigned ? buf.get() & 0xffL : buf.get();
                            break;
                        case 2:
                            v = unsigned ? buf.getShort() & 0xffffL : buf.getShort();
                            break;
                        case 4:
                            v = unsigned ? buf.getInt() & 0xffffffffL : buf.getInt();
                            break;
                        default:
                            v = buf.getLong();
                            if (unsigned && v < 0) {
                                throw new InvalidInputException(file + ": value " + Long.toUnsignedString(v)
                                        + " at position " + (start + i) + " exceeds the largest supported index "
                                        + Long.MAX_VALUE);
                            }
                    }
                    out[start + i] = v;
                }
            }
            return out;
        }
    }

    /** Positional reads until {@code dst} is full; EOF first means the file is shorter than promised. */
    static void readFully(FileChannel ch, ByteBuffer dst, long position, String name) throws IOException {
        long pos = position;
        while (dst.hasRemaining()) {
            int r = ch.read(dst, pos);
            if (r < 0) {
                throw new InvalidInputException(name + ": truncated: the file ended at byte " + pos
                        + " while " + dst.remaining() + " more bytes were expected");
            }
            pos += r;
        }
    }

    /**
     * Appends {@code count} bytes of {@code src} from {@code position} to {@code dst} at its position,
     * inside the kernel where the platform can (the bytes do not pass through the JVM).
     *
     * @return {@code count}
     * @throws InvalidInputException if {@code src} ends before {@code position + count}
     */
    static long transferFully(FileChannel src, long position, long count, FileChannel dst, String name)
            throws IOException {
        long done = 0;
        while (done < count) {
            long r = src.transferTo(position + done, count - done, dst);
            if (r <= 0) {
                if (src.size() < position + count) {
                    throw new InvalidInputException(name + ": truncated: the file ended at byte " + src.size()
                            + " while bytes up to " + (position + count) + " were expected");
                }
                throw new java.io.IOException(name + ": copying bytes " + (position + done) + ".." + (position + count)
                        + " made no progress");
            }
            done += r;
        }
        return count;
    }

    /** A Python tuple literal. Kept apart from lists because only a tuple is a valid shape. */
    private static final class PyTuple {
        final List<Object> items;

        PyTuple(List<Object> items) {
            this.items = items;
        }

        @Override
        public String toString() {
            return items.toString().replace('[', '(').replace(']', ')');
        }
    }

    /** A Python list literal (seen only in structured dtypes, which are refused). */
    private static final class PyList {
        final List<Object> items;

        PyList(List<Object> items) {
            this.items = items;
        }

        @Override
        public String toString() {
            return items.toString();
        }
    }

    /**
     * Recursive-descent parser for the subset of Python literal syntax {@code numpy.save} writes:
     * one dict with string keys, whose values are strings, {@code True}/{@code False}, integers
     * (Python 2's {@code 3L} included) and tuples or lists of those. Anything else is an error;
     * nothing is evaluated.
     */
    private static final class DictParser {
        private final String s;
        private final String name;
        private final int maxDepth = Limits.current().depth();
        private int i;
        private int depth;

        DictParser(String s, String name) {
            this.s = s;
            this.name = name;
        }

        Map<String, Object> parse() {
            skipSpace();
            expect('{');
            Map<String, Object> map = new LinkedHashMap<>();
            skipSpace();
            while (peek() != '}') {
                Object key = value();
                if (!(key instanceof String)) {
                    throw error("dict key " + key + " is not a string");
                }
                skipSpace();
                expect(':');
                Object v = value();
                if (map.put((String) key, v) != null) {
                    throw error("duplicate key '" + key + "'");
                }
                skipSpace();
                if (peek() == ',') {
                    i++;
                    skipSpace();
                } else if (peek() != '}') {
                    throw error("expected ',' or '}'");
                }
            }
            i++;
            skipSpace();
            if (i != s.length()) {
                throw error("unexpected text after the dict");
            }
            return map;
        }

        private Object value() {
            skipSpace();
            char c = peek();
            if (c == '\'' || c == '"') {
                return string(c);
            }
            if (c == '(' || c == '[') {
                return sequence(c);
            }
            if (c == '-' || c >= '0' && c <= '9') {
                return integer();
            }
            if (s.startsWith("True", i)) {
                i += 4;
                return Boolean.TRUE;
            }
            if (s.startsWith("False", i)) {
                i += 5;
                return Boolean.FALSE;
            }
            throw error("unexpected " + describe(c));
        }

        private String string(char quote) {
            int start = ++i;
            while (i < s.length() && s.charAt(i) != quote) {
                char c = s.charAt(i);
                if (c == '\\' || c == '\n' || c == '\r') {
                    throw error("escapes and line breaks in strings are not supported");
                }
                i++;
            }
            if (i >= s.length()) {
                throw error("unterminated string");
            }
            return s.substring(start, i++);
        }

        private Object sequence(char open) {
            char close = open == '(' ? ')' : ']';
            // Recursion is bounded here: a header of nested brackets must not exhaust the stack.
            if (++depth > maxDepth) {
                throw error("nested deeper than " + maxDepth + " levels");
            }
            i++;
            List<Object> items = new ArrayList<>();
            boolean trailingComma = false;
            skipSpace();
            while (peek() != close) {
                items.add(value());
                skipSpace();
                if (peek() == ',') {
                    i++;
                    trailingComma = true;
                    skipSpace();
                } else if (peek() != close) {
                    throw error("expected ',' or '" + close + "'");
                } else {
                    trailingComma = false;
                }
            }
            i++;
            depth--;
            if (open == '(') {
                // In Python "(5)" is the integer 5, not a tuple; only "(5,)" is a 1-tuple.
                if (items.size() == 1 && !trailingComma) {
                    return items.get(0);
                }
                return new PyTuple(items);
            }
            return new PyList(items);
        }

        private BigInteger integer() {
            int start = i;
            if (peek() == '-') {
                i++;
            }
            int digits = i;
            while (i < s.length() && s.charAt(i) >= '0' && s.charAt(i) <= '9') {
                i++;
            }
            if (i == digits) {
                throw error("'-' not followed by digits");
            }
            // No dimension or version needs more; a megabyte of digits would make BigInteger slow.
            if (i - digits > 40) {
                throw error("an integer of " + (i - digits) + " digits");
            }
            BigInteger v = new BigInteger(s.substring(start, i));
            if (i < s.length() && s.charAt(i) == 'L') {
                i++; // Python 2 long suffix, written by old NumPy versions
            }
            return v;
        }

        private void skipSpace() {
            while (i < s.length() && (s.charAt(i) == ' ' || s.charAt(i) == '\t' || s.charAt(i) == '\n'
                    || s.charAt(i) == '\r')) {
                i++;
            }
        }

        private char peek() {
            if (i >= s.length()) {
                throw error("the header ends early");
            }
            return s.charAt(i);
        }

        private void expect(char c) {
            if (peek() != c) {
                throw error("expected '" + c + "' but found " + describe(s.charAt(i)));
            }
            i++;
        }

        private static String describe(char c) {
            return c >= 0x20 && c < 0x7f ? "'" + c + "'" : String.format("character U+%04X", (int) c);
        }

        private InvalidInputException error(String what) {
            return new InvalidInputException(name + ": malformed header dict at character " + i + ": " + what
                    + " in " + quote(s));
        }

        private static String quote(String text) {
            String t = text.strip();
            return "\"" + (t.length() > 200 ? t.substring(0, 200) + "..." : t) + "\"";
        }
    }

    /** For callers that check a descr the user typed (the writer). */
    static void requireSupported(String descr) {
        if (descr == null) {
            throw new InvalidArgumentException("descr must not be null");
        }
        String problem = dtypeProblem(descr);
        if (problem != null) {
            throw new InvalidArgumentException(problem);
        }
    }
}
