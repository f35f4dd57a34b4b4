package dev.dyepack.manifest;

import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import dev.dyepack.InvalidArgumentException;
import dev.dyepack.InvalidInputException;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;
import net.jqwik.api.lifecycle.AfterContainer;
import net.jqwik.api.lifecycle.BeforeContainer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Fuzzing of the JSON a stranger may hand over: manifests ({@link ManifestReader}, through
 * {@link ManifestCheck#readRecord}), signed records such as a probe set's {@code probe.json}
 * ({@link SignedRecord#read}) and plain JSON ({@link JsonReader}). Each input is parsed, or refused with
 * the documented exceptions ({@link InvalidInputException}, {@link UntrustedRecordException}), never
 * another exception and never an {@link Error}. A few seconds per property.
 */
class RecordFuzzTest {
    private static Path dir;
    private static String manifestText;

    @BeforeContainer
    static void setUp() throws IOException {
        dir = Files.createTempDirectory("dyepack-fuzz-json");
        Path f = dir.resolve("valid.json");
        ManifestWriter.write(Samples.signed(), f);
        manifestText = Files.readString(f, StandardCharsets.UTF_8);
    }

    @AfterContainer
    static void tearDown() throws IOException {
        try (var files = Files.list(dir)) {
            for (Path p : files.toList()) {
                Files.delete(p);
            }
        }
        Files.delete(dir);
    }

    private static void onlyDocumentedRefusals(String what, Runnable parse) {
        try {
            parse.run();
        } catch (InvalidInputException | UntrustedRecordException | InvalidArgumentException expected) {
            // documented
        } catch (Throwable t) {
            fail(what + ": undocumented " + t, t);
        }
    }

    @Provide
    Arbitrary<String> jsonTexts() {
        Arbitrary<String> piece = Arbitraries.of("{", "}", "[", "]", ",", ":", "\"a\"", "\"format\"", "1", "-0", "1e999",
                "0.5", "true", "false", "null", " ", "\"\\u0000\"", "\"\\ud800\"", "99999999999999999999", "\"",
                "\\", "\n", "\"signature\"", "\"0000\"");
        Arbitrary<String> structured = piece.list().ofMaxSize(50).map(l -> String.join("", l));
        Arbitrary<String> deep = Arbitraries.integers().between(1, 20000).map(n -> "[".repeat(n) + "]".repeat(n));
        Arbitrary<String> deepObjects = Arbitraries.integers().between(1, 20000)
                .map(n -> "{\"a\":".repeat(n) + "1" + "}".repeat(n));
        return Arbitraries.oneOf(structured, deep, deepObjects, Arbitraries.strings().ofMaxLength(100),
                mutations(manifestText));
    }

    /** The valid manifest with a few characters replaced, removed or inserted. */
    static Arbitrary<String> mutations(String valid) {
        Arbitrary<Integer> at = Arbitraries.integers().between(0, valid.length() - 1);
        Arbitrary<String> replaced = Arbitraries.integers().between(0, valid.length() - 1).flatMap(i ->
                Arbitraries.chars().map(c -> valid.substring(0, i) + c + valid.substring(i + 1)));
        Arbitrary<String> cut = at.map(i -> valid.substring(0, i));
        Arbitrary<String> inserted = at.flatMap(i -> Arbitraries.of("[", "{", "\"", ",", "1", "-", "\\u0000", "[[[[")
                .map(x -> valid.substring(0, i) + x + valid.substring(i)));
        return Arbitraries.oneOf(replaced, cut, inserted);
    }

    @Property(tries = 500)
    void jsonIsParsedOrRefused(@ForAll("jsonTexts") String text) {
        onlyDocumentedRefusals("json", () -> JsonReader.parse(text, ManifestReader.MAX_DEPTH));
    }

    @Property(tries = 300)
    void manifestsAreReadOrRefused(@ForAll("jsonTexts") String text) throws IOException {
        Path f = Files.writeString(dir.resolve("manifest.json"), text, StandardCharsets.UTF_8);
        onlyDocumentedRefusals("manifest", () -> ManifestCheck.readRecord(f));
    }

    @Property(tries = 300)
    void signedRecordsAreReadOrRefused(@ForAll("jsonTexts") String text) {
        onlyDocumentedRefusals("record", () -> SignedRecord.read(text, Samples.key(), "probe-set", "probe.json"));
    }

    /** Regression: nesting far deeper than any stack is refused by the depth limit, not a StackOverflowError. */
    @Test
    void deepNestingIsRefusedByTheLimit(@TempDir Path dir) throws IOException {
        String deep = "[".repeat(200_000) + "]".repeat(200_000);
        InvalidInputException e = assertThrows(InvalidInputException.class,
                () -> JsonReader.parse(deep, ManifestReader.MAX_DEPTH));
        assertTrue(e.getMessage().contains("not JSON"), e.getMessage());
        Path f = Files.writeString(dir.resolve("deep.json"), deep, StandardCharsets.UTF_8);
        // A manifest that cannot be read is refused as untrusted (exit 4), naming the file.
        UntrustedRecordException u = assertThrows(UntrustedRecordException.class, () -> ManifestCheck.readRecord(f));
        assertTrue(u.getMessage().startsWith(f.toString()), u.getMessage());
        assertThrows(InvalidInputException.class, () -> SignedRecord.read(deep, Samples.key(), "p", "probe.json"));
        // Missing is an input problem, not an untrusted record.
        assertThrows(InvalidInputException.class, () -> ManifestCheck.readRecord(dir.resolve("absent.json")));
        assertThrows(InvalidArgumentException.class, () -> ManifestCheck.verify(f, null, Map.of(), false));
    }
}
