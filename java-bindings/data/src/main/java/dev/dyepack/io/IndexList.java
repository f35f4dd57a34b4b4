package dev.dyepack.io;

import dev.dyepack.InvalidArgumentException;
import dev.dyepack.InvalidInputException;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Locale;

/**
 * Lists of sample indices (which samples to poison, which to hold out), read from a {@code .npy}
 * file or a text file.
 *
 * <p>Text format: UTF-8, non-negative decimal integers separated by whitespace and/or commas;
 * {@code #} starts a comment that runs to the end of the line. An empty file is an empty list.
 */
public final class IndexList {
    private IndexList() {
    }

    /**
     * Reads an index list. The order and any duplicates are kept; see {@link #validate}.
     *
     * @param file a rank-1 integer {@code .npy} file if its name ends with {@code .npy} (any case),
     *             otherwise a text file
     * @return the indices in file order, possibly empty
     * @throws InvalidInputException if the file cannot be read or is larger than {@link Limits#indicesBytes()},
     *                               a {@code .npy} file is unusable (see
     *                               {@link Npy#readIntegers}), the text is not UTF-8, or a token is
     *                               not a non-negative integer that fits in a {@code long} (the
     *                               message names the file, the line and the token)
     */
    public static long[] read(Path file) {
        Path fileName = file.getFileName();
        long limit = Limits.current().indicesBytes();
        if (fileName != null && fileName.toString().toLowerCase(Locale.ROOT).endsWith(".npy")) {
            try {
                if (Files.isRegularFile(file)) {
                    Limits.current().check("indices-bytes", Files.size(file), file + ": an indices file of "
                            + Files.size(file) + " bytes");
                }
            } catch (IOException e) {
                throw new InvalidInputException(file + ": cannot read: " + e.getMessage(), e);
            }
            return Npy.readIntegers(file);
        }
        // Bounded: a device or pipe named by mistake (or on purpose) costs at most the limit.
        byte[] bytes = InputFiles.readBounded(file, limit, "indices-bytes", "an indices file");
        String text;
        try {
            text = StandardCharsets.UTF_8.newDecoder()
                    .onMalformedInput(CodingErrorAction.REPORT)
                    .onUnmappableCharacter(CodingErrorAction.REPORT)
                    .decode(ByteBuffer.wrap(bytes)).toString();
        } catch (CharacterCodingException e) {
            throw new InvalidInputException(file + ": not a UTF-8 text file of indices", e);
        }
        if (text.startsWith("\uFEFF")) {
            text = text.substring(1); // byte order mark some editors write
        }
        long[] out = new long[16];
        int n = 0;
        String[] lines = text.split("\r\n|\r|\n", -1);
        for (int line = 0; line < lines.length; line++) {
            String content = lines[line];
            int hash = content.indexOf('#');
            if (hash >= 0) {
                content = content.substring(0, hash);
            }
            for (String token : content.split("[\\s,]+")) {
                if (token.isEmpty()) {
                    continue;
                }
                long v = parseIndex(token);
                if (v < 0) {
                    throw new InvalidInputException(file + ": line " + (line + 1) + ": '" + token
                            + "' is not a non-negative integer index");
                }
                if (n == out.length) {
                    out = Arrays.copyOf(out, n * 2);
                }
                out[n++] = v;
            }
        }
        return Arrays.copyOf(out, n);
    }

    /** The value of a token of ASCII digits, or -1 if it is anything else or exceeds a long. */
    private static long parseIndex(String token) {
        for (int i = 0; i < token.length(); i++) {
            char c = token.charAt(i);
            if (c < '0' || c > '9') {
                return -1;
            }
        }
        try {
            return Long.parseLong(token);
        } catch (NumberFormatException e) {
            return -1;
        }
    }

    /**
     * Checks that every index addresses one of {@code n} samples and none is listed twice. The array
     * is not modified.
     *
     * @param indices the indices to check
     * @param n       the number of samples; valid indices are {@code 0 .. n-1}
     * @throws InvalidArgumentException if {@code indices} is null, {@code n} is negative, an index is
     *                                  outside {@code [0, n)} (naming its position and value; the
     *                                  first such position is reported) or an index occurs more than
     *                                  once (naming the value and two positions)
     */
    public static void validate(long[] indices, long n) {
        if (indices == null) {
            throw new InvalidArgumentException("indices must not be null");
        }
        if (n < 0) {
            throw new InvalidArgumentException("the number of samples must be non-negative, got " + n);
        }
        for (int i = 0; i < indices.length; i++) {
            if (indices[i] < 0 || indices[i] >= n) {
                throw new InvalidArgumentException("index " + indices[i] + " at position " + i
                        + " is out of range [0, " + n + ")");
            }
        }
        // Sorting a copy costs O(k log k) time and k longs, whatever n is.
        long[] sorted = indices.clone();
        Arrays.sort(sorted);
        for (int i = 1; i < sorted.length; i++) {
            if (sorted[i] == sorted[i - 1]) {
                long dup = sorted[i];
                int first = -1;
                int second = -1;
                for (int j = 0; j < indices.length && second < 0; j++) {
                    if (indices[j] == dup) {
                        if (first < 0) {
                            first = j;
                        } else {
                            second = j;
                        }
                    }
                }
                throw new InvalidArgumentException("index " + dup + " is listed more than once (positions "
                        + first + " and " + second + ")");
            }
        }
    }
}
