package dev.dyepack.manifest;

import static java.nio.charset.StandardCharsets.ISO_8859_1;
import static java.nio.charset.StandardCharsets.UTF_8;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.dyepack.InvalidInputException;
import java.io.IOException;
import java.io.RandomAccessFile;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/** Files the reader must refuse, and what its messages say. */
class ManifestReaderTest {
    @TempDir
    Path dir;

    private String sampleText() {
        return Samples.signed().toJson();
    }

    private Path file(String content) throws IOException {
        return Files.writeString(dir.resolve("manifest.json"), content, UTF_8);
    }

    /** Reads {@code content}, expecting a refusal whose message starts with the file and holds every part. */
    private InvalidInputException refused(String content, String... parts) throws IOException {
        Path f = file(content);
        InvalidInputException e = assertThrows(InvalidInputException.class, () -> ManifestReader.read(f));
        assertTrue(e.getMessage().startsWith(f + ": "), e.getMessage());
        for (String part : parts) {
            assertTrue(e.getMessage().contains(part), e.getMessage() + " should mention " + part);
        }
        return e;
    }

    private static String once(String text, String from, String to) {
        int at = text.indexOf(from);
        assertTrue(at >= 0 && text.indexOf(from, at + 1) < 0, from + " must occur once");
        return text.replace(from, to);
    }

    /** 1-based line of the first occurrence of {@code s}, counted here independently of the parser. */
    private static int lineOf(String text, String s) {
        return (int) text.substring(0, text.indexOf(s)).chars().filter(c -> c == '\n').count() + 1;
    }

    @Test
    void theSampleReads() throws IOException {
        assertEquals(Samples.signed(), ManifestReader.read(file(sampleText())));
    }

    @Test
    void truncatedFilesAreRefusedAtTheirEnd() throws IOException {
        String text = sampleText();
        for (int cut : new int[] {1, 10, text.length() / 3, text.length() / 2, text.length() - 3, text.length() - 2}) {
            refused(text.substring(0, cut), "not a valid JSON manifest", "unexpected end of text");
        }
    }

    @Test
    void trailingGarbageIsRefused() throws IOException {
        String text = sampleText();
        int lines = (int) text.chars().filter(c -> c == '\n').count();
        refused(text + "x", "line " + (lines + 1) + ", column 1", "unexpected 'x' after the end of the JSON value");
        refused(text + "{}", "after the end of the JSON value");
        refused(text + "\u0000", "character U+0000 after the end");
        // Trailing whitespace is allowed.
        assertEquals(Samples.signed(), ManifestReader.read(file(text + " \r\n\t\n")));
    }

    @Test
    void duplicateKeysAreRefused() throws IOException {
        String text = sampleText();
        String dup = once(text, "  \"mode\": \"dirty\",\n", "  \"mode\": \"dirty\",\n  \"mode\": \"clean\",\n");
        refused(dup, "duplicate key \"mode\"", "line " + (lineOf(text, "\"mode\"") + 1) + ", column 3");
        refused(once(text, "\"count\": 20,", "\"count\": 20, \"count\": 20,"), "duplicate key \"count\"");
    }

    @ParameterizedTest
    @CsvSource(delimiter = '|', value = {
        "\"count\": 20|\"count\": \"20\"|budget.count: expected an integer, got a string",
        "\"count\": 20|\"count\": 20.0|budget.count: expected an integer, got a floating-point number",
        "\"target_class\": 0|\"target_class\": null|target_class: expected an integer, got null",
        "\"stratified\": true|\"stratified\": 1|selection.stratified: expected true or false, got an integer",
        "\"mode\": \"dirty\"|\"mode\": \"Dirty\"|mode: \"Dirty\" is not one of \"dirty\", \"clean\"",
        "\"kind\": \"none\"|\"kind\": [\"none\"]|selection.surrogate.kind: expected a string, got an array",
        "\"requested\": \"0.01\"|\"requested\": 0.01|budget.requested: expected a string, got a floating-point number",
        "\"reason\": null|\"reason\": false|override.reason: expected a string or null, got a boolean",
        "\"1\": 7|\"1\": \"7\"|per_class.poisoned.1: expected an integer, got a string",
        "\"1\": 7|\"01\": 7|per_class.poisoned.01: the key is not a class label",
        "\"1\": 7|\"-0\": 7|per_class.poisoned.-0: the key is not a class label",
        "\"per_class\": {|\"per_class\": {\"extra\": {},|unknown field per_class.extra",
        "\"format\": \"dyepack-manifest/2\"|\"format\": \"dyepack-manifest/3\"|format: unsupported format \"dyepack-manifest/3\"",
        "\"n\": 2000|\"n\": 9007199254740992|budget.n = 9007199254740992 is beyond 2^53 - 1",
        "\"created\": \"2025-03-01T12:34:56Z\"|\"created\": \"2025-03-01T12:34:56.000Z\"|created must be a UTC time",
        "\"created\": \"2025-03-01T12:34:56Z\"|\"created\": \"2025-02-30T12:34:56Z\"|created is not a valid date",
        "\"stage\": \"input\", \"role\": \"data\"|\"stage\": \"input\", \"role\": \"weights\"|files[0].role: \"weights\" is not one of",
        "\"n\": 2000|\"n\": 0|budget.n must be at least 1",
        "\"n\": 2000|\"n\": 9223372036854775808|integer 9223372036854775808 is outside the 64-bit range",
        "\"kind\": \"none\"|\"kind\": \"none\", \"sha256\": null, \"extra\": 1|duplicate key \"sha256\"",
        "\"reason\": null|\"reason\": \"because\"|override.reason is given but override.over_5_percent is false",
    })
    void wrongTypesAndValuesAreRefusedByFieldName(String from, String to, String expected) throws IOException {
        // Flat objects for the file-entry case, so the member pattern is on one line.
        String text = sampleText().replaceAll("\\{\\n\\s+\"stage\": \"input\",\\n\\s+\"role\"", "{\"stage\": \"input\", \"role\"");
        refused(once(text, from, to), expected);
    }

    @Test
    void missingAndUnknownFieldsAreRefused() throws IOException {
        String text = sampleText();
        refused(once(text, "  \"mode\": \"dirty\",\n", ""), "missing field mode");
        refused(once(text, "  \"signature\": ", "  \"comment\": \"hello\",\n  \"signature\": "), "unknown field comment");
        refused(once(text, "\"n\": 2000\n", "\"n\": 2000, \"N\": 2000\n"), "unknown field budget.N");
        refused(text.replaceFirst(",\\n  \"signature\": \"[0-9a-f]{64}\"", ""), "missing field signature");
        refused(text.replaceFirst("\"signature\": \"[0-9a-f]{64}\"", "\"signature\": \"" + "A".repeat(64) + "\""),
                "signature must be 64 lowercase hex digits");
    }

    @Test
    void indicesMustBeAscendingAndDistinct() throws IOException {
        String text = sampleText();
        refused(once(text, "688, 745", "745, 688"), "indices[5] = 688 is not greater than indices[4] = 745",
                "ascending and distinct");
        refused(once(text, "688, 745", "688, 688"), "indices[5] = 688 is not greater than indices[4] = 688");
        refused(once(text, "503, 517", "-503, 517"), "indices[0] = -503 is negative");
        refused(once(text, "1499, 1502", "1499, 1502.0"), "indices[14]: expected an integer, got a floating-point number");
        refused(once(text, "1499, 1502", "1499, \"1502\""), "indices[14]: expected an integer, got a string");
        refused(text.replaceFirst("\"indices\": \\[", "\"indices\": {\"a\": ["), "not a valid JSON manifest");
    }

    @ParameterizedTest
    @CsvSource(delimiter = '|', quoteCharacter = '`', value = {
        "hello|unexpected 'h', expected a value",
        "``|empty text",
        "`   `|only whitespace",
        "[1, 2, 3]|expected a JSON object at the top level, got an array",
        "\"manifest\"|expected a JSON object at the top level, got a string",
        "{\"format\": 'dyepack-manifest/1'}|unexpected ''', expected a value",
        "{format: 1}|expected a key in double quotes",
        "{\"a\": 1,}|expected a key in double quotes",
        "// comment|unexpected '/'",
        "\uFEFF{}|character U+FEFF",
        "{}|missing field format",
    })
    void textThatIsNotAManifestIsRefused(String content, String expected) throws IOException {
        refused(content, expected);
    }

    @Test
    void binaryAndNonUtf8FilesAreRefused() throws IOException {
        Path png = Files.write(dir.resolve("image.png"), new byte[] {(byte) 0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n'});
        InvalidInputException e = assertThrows(InvalidInputException.class, () -> ManifestReader.read(png));
        assertTrue(e.getMessage().startsWith(png + ": ") && e.getMessage().contains("invalid UTF-8 at byte 0"), e.getMessage());
        Path latin1 = Files.write(dir.resolve("latin1.json"), "{\"tool_version\": \"caf\u00e9\"}".getBytes(ISO_8859_1));
        e = assertThrows(InvalidInputException.class, () -> ManifestReader.read(latin1));
        assertTrue(e.getMessage().contains("invalid UTF-8 at byte 21"), e.getMessage());
    }

    @Test
    void nestingDeeperThan64IsRefused() throws IOException {
        String text = sampleText();
        // The root, trigger and parameters take 3 levels: 61 arrays reach 64, 62 arrays go past it.
        String deepest = once(text, "\"size\": 3", "\"size\": " + "[".repeat(61) + "]".repeat(61));
        Manifest m = ManifestReader.read(file(deepest));
        assertFalse(ManifestSigner.verify(m, Samples.key()).ok());
        refused(once(text, "\"size\": 3", "\"size\": " + "[".repeat(62) + "]".repeat(62)), "nesting deeper than 64 levels");
        refused("[".repeat(100_000), "nesting deeper than 64 levels", "line 1, column 65");
    }

    @Test
    void filesOver64MiBAreRefusedBeforeParsing() throws IOException {
        Path big = dir.resolve("big.json");
        try (RandomAccessFile f = new RandomAccessFile(big.toFile(), "rw")) {
            f.setLength(ManifestReader.MAX_FILE_SIZE + 1);
        }
        InvalidInputException e = assertThrows(InvalidInputException.class, () -> ManifestReader.read(big));
        assertTrue(e.getMessage().contains("larger than 67108864 bytes"), e.getMessage());
    }

    @Test
    void missingFilesAndDirectoriesAreRefused() {
        Path missing = dir.resolve("nope.json");
        InvalidInputException e = assertThrows(InvalidInputException.class, () -> ManifestReader.read(missing));
        assertEquals(missing + ": does not exist", e.getMessage());
        e = assertThrows(InvalidInputException.class, () -> ManifestReader.read(dir));
        assertTrue(e.getMessage().contains("is a directory"), e.getMessage());
    }

    @Test
    void inconsistentButWellFormedFilesAreReadForVerificationToReport() throws IOException {
        String text = once(sampleText(), "\"count\": 20", "\"count\": 21");
        Manifest m = ManifestReader.read(file(text));
        assertEquals(21, m.budget().count());
        assertTrue(ManifestSigner.verify(m, Samples.key()).findings().contains(
                "budget.count is 21 but indices lists 20 samples"));
    }

    @Test
    void anUnsignedManifestReadsWithoutSignature() throws IOException {
        Manifest m = ManifestReader.read(file(Samples.unsigned().toJson()));
        assertFalse(m.isSigned());
        assertArrayEquals(Samples.unsigned().canonical(), m.canonical());
    }
}
