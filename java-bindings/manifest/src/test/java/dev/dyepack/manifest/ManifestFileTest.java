package dev.dyepack.manifest;

import static java.nio.charset.StandardCharsets.UTF_8;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Base64;
import java.util.HexFormat;
import java.util.List;
import java.util.function.UnaryOperator;
import java.util.stream.Collectors;
import java.util.stream.LongStream;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/** Manifests on disk: the round trip, and every edit of the file being caught by verification. */
class ManifestFileTest {
    private static final String MISMATCH =
            "signature does not match: the manifest was changed or signed with another key";

    @TempDir
    Path dir;

    private Path written() throws IOException {
        Path file = dir.resolve("manifest.json");
        ManifestWriter.write(Samples.signed(), file);
        return file;
    }

    @Test
    void writeThenReadGivesTheSameManifestAndTheSignedBytes() throws IOException {
        Manifest signed = Samples.signed();
        Path file = written();
        Manifest read = ManifestReader.read(file);
        assertEquals(signed, read);
        assertArrayEquals(signed.canonical(), read.canonical());
        assertTrue(ManifestSigner.verify(read, Samples.key()).ok());
        assertEquals(signed.toJson(), Files.readString(file, UTF_8));
        // Writing what was read gives the same file, byte for byte.
        Path again = dir.resolve("again.json");
        ManifestWriter.write(read, again);
        assertArrayEquals(Files.readAllBytes(file), Files.readAllBytes(again));
        try (Stream<Path> files = Files.list(dir)) {
            assertEquals(List.of("again.json", "manifest.json"), files.map(p -> p.getFileName().toString()).sorted().toList(),
                    "no temporary file is left behind");
        }
    }

    @Test
    void theCanonicalFormDoesNotDependOnLayoutOrderEscapesOrNumberSpelling() throws IOException {
        Path file = written();
        String text = Files.readString(file, UTF_8);
        String signatureMember = text.substring(text.indexOf("  \"signature\""), text.lastIndexOf('"') + 1);
        String edited = text
                .replace(",\n" + signatureMember, "")                 // signature moved to the front
                .replace("{\n  \"format\"", "{" + signatureMember.trim() + ",\"format\"")
                .replaceAll("\n\\s*", "")                               // no layout at all
                .replace("\"fraction\": 0.01", "\"fraction\": 1.000E-2") // another spelling of the same double
                .replace("\"alpha\": 0.25", "\"alpha\": 25e-2")
                .replace("\"mode\": \"dirty\"", "\"mode\": \"\\u0064irty\"") // an escape for 'd'
                .replace("\"spec\": \"patch:", "\"spec\": \"patch\\u003a");
        assertFalse(edited.equals(text));
        assertTrue(edited.startsWith("{\"signature\": \""), edited);
        Files.writeString(file, edited, UTF_8);
        Manifest read = ManifestReader.read(file);
        assertArrayEquals(Samples.unsigned().canonical(), read.canonical());
        assertTrue(ManifestSigner.verify(read, Samples.key()).ok());
    }

    @Test
    void theKeyIsNeverWritten() throws IOException {
        Path file = written();
        byte[] key = Samples.KEY_TEXT.getBytes(UTF_8);
        byte[] subkey = Samples.key().derive(ManifestSigner.PURPOSE, ManifestSigner.SUBKEY_LENGTH);
        String content = Files.readString(file, UTF_8);
        for (String secret : List.of(Samples.KEY_TEXT, "never-write-me", HexFormat.of().formatHex(key),
                Base64.getEncoder().encodeToString(key), HexFormat.of().formatHex(subkey),
                Base64.getEncoder().encodeToString(subkey))) {
            assertFalse(content.contains(secret), "the file holds " + secret);
        }
        assertTrue(content.contains("\"key_fingerprint\": \"" + Samples.key().fingerprint() + "\""));
    }

    /** Rewrites the indices array of the file's text with new values. */
    private static String withIndices(String text, long... indices) {
        int start = text.indexOf("\"indices\": [");
        int end = text.indexOf(']', start);
        String values = Arrays.stream(indices).mapToObj(Long::toString).collect(Collectors.joining(", "));
        return text.substring(0, start) + "\"indices\": [" + values + text.substring(end);
    }

    private static long[] sampleWith(UnaryOperator<LongStream> change) {
        return change.apply(Arrays.stream(Samples.INDICES)).sorted().toArray();
    }

    /** Replaces {@code from}, which must occur exactly once, by {@code to}. */
    private static UnaryOperator<String> replace(String from, String to) {
        return text -> {
            int at = text.indexOf(from);
            assertTrue(at >= 0 && text.indexOf(from, at + 1) < 0, from + " must occur once");
            return text.replace(from, to);
        };
    }

    static Stream<Arguments> edits() {
        return Stream.of(
                Arguments.of("a changed index", (UnaryOperator<String>) t -> withIndices(t,
                        sampleWith(s -> s.map(i -> i == 1017 ? 1018 : i))), List.of()),
                Arguments.of("an added index", (UnaryOperator<String>) t -> withIndices(t,
                        sampleWith(s -> LongStream.concat(s, LongStream.of(1998)))),
                        List.of("budget.count is 20 but indices lists 21 samples")),
                Arguments.of("a removed index", (UnaryOperator<String>) t -> withIndices(t,
                        sampleWith(s -> s.filter(i -> i != 1234))),
                        List.of("budget.count is 20 but indices lists 19 samples")),
                Arguments.of("a changed target", replace("\"target_class\": 0", "\"target_class\": 1"), List.of()),
                Arguments.of("a changed trigger spec", replace("patch:size=3,", "patch:size=4,"), List.of()),
                Arguments.of("a changed trigger parameter", replace("\"size\": 3", "\"size\": 4"), List.of()),
                Arguments.of("a changed mode", replace("\"mode\": \"dirty\"", "\"mode\": \"clean\""),
                        List.of("mode is clean but per_class.poisoned has class 1, not target_class 0",
                                "mode is clean but per_class.poisoned has class 2, not target_class 0",
                                "mode is clean but per_class.poisoned has class 3, not target_class 0")),
                Arguments.of("a changed requested budget", replace("\"requested\": \"0.01\"", "\"requested\": \"0.02\""),
                        List.of()),
                Arguments.of("a changed budget count", replace("\"count\": 20", "\"count\": 19"),
                        List.of("budget.count is 19 but indices lists 20 samples",
                                "budget.fraction is 0.01 but budget.count / budget.n is 0.0095",
                                "per_class.poisoned adds up to 20 but budget.count is 19")),
                Arguments.of("a changed override", replace("\"over_5_percent\": false", "\"over_5_percent\": true"),
                        List.of()),
                Arguments.of("a changed selection", replace("\"stratified\": true", "\"stratified\": false"), List.of()),
                // Counts moved between classes still add up: only the signature catches it.
                Arguments.of("changed per-class counts that still add up",
                        (UnaryOperator<String>) t -> replace("\"3\": 6", "\"3\": 5").apply(replace("\"1\": 7", "\"1\": 8").apply(t)),
                        List.of()),
                Arguments.of("a changed per-class count", replace("\"1\": 7", "\"1\": 8"),
                        List.of("per_class.poisoned adds up to 21 but budget.count is 20")),
                Arguments.of("a changed total", replace("\"0\": 500", "\"0\": 501"),
                        List.of("per_class.total adds up to 2001 but budget.n is 2000")),
                Arguments.of("a changed output hash", replace("\"" + Samples.SHA_OUT_DATA + "\"",
                        "\"" + "35".repeat(32) + "\""), List.of()),
                Arguments.of("a changed creation time", replace("2025-03-01T12:34:56Z", "2024-03-01T12:34:56Z"), List.of()),
                Arguments.of("a replaced signature", (UnaryOperator<String>) t -> t.replaceFirst(
                        "\"signature\": \"[0-9a-f]{64}\"", "\"signature\": \"" + "0".repeat(64) + "\""), List.of()));
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("edits")
    void everyEditOfTheFileIsCaught(String what, UnaryOperator<String> edit, List<String> alsoFound) throws IOException {
        Path file = written();
        String text = Files.readString(file, UTF_8);
        String edited = edit.apply(text);
        assertFalse(edited.equals(text), what + " changed nothing");
        Files.writeString(file, edited, UTF_8);
        Verification v = ManifestSigner.verify(ManifestReader.read(file), Samples.key());
        assertFalse(v.ok(), what);
        assertEquals(MISMATCH, v.findings().get(0), v.toString());
        assertEquals(alsoFound, v.findings().subList(1, v.findings().size()), v.toString());
    }
}
