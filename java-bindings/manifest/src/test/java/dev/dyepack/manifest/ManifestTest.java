package dev.dyepack.manifest;

import static java.nio.charset.StandardCharsets.UTF_8;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.dyepack.InvalidArgumentException;
import java.math.BigDecimal;
import java.math.MathContext;
import java.math.RoundingMode;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.function.UnaryOperator;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

class ManifestTest {

    /** The canonical form of the sample, written out by hand from the specification in Manifest's Javadoc. */
    private static String expectedCanonical(String fingerprint) {
        return "{\"format\":\"dyepack-manifest/1\",\"tool_version\":\"0.4.0-test\",\"created\":\"2025-03-01T12:34:56Z\","
                + "\"key_fingerprint\":\"" + fingerprint + "\","
                + "\"files\":["
                + "{\"stage\":\"input\",\"role\":\"data\",\"path\":\"in/data.npy\",\"sha256\":\"" + "11".repeat(32) + "\"},"
                + "{\"stage\":\"input\",\"role\":\"labels\",\"path\":\"in/labels.npy\",\"sha256\":\"" + "22".repeat(32) + "\"},"
                + "{\"stage\":\"output\",\"role\":\"data\",\"path\":\"out/data.npy\",\"sha256\":\"" + "33".repeat(32) + "\"},"
                + "{\"stage\":\"output\",\"role\":\"labels\",\"path\":\"out/labels.npy\",\"sha256\":\"" + "44".repeat(32) + "\"}],"
                + "\"trigger\":{\"spec\":\"patch:size=3,pos=br,value=255,pattern=solid\",\"parameters\":"
                + "{\"family\":\"patch\",\"size\":3,\"pos\":\"br\",\"value\":255,\"pattern\":\"solid\",\"alpha\":0.25,"
                + "\"colour\":[255,0.5,\"x\"]}},"
                + "\"target_class\":0,\"mode\":\"dirty\","
                + "\"budget\":{\"requested\":\"0.01\",\"fraction\":0.01,\"count\":20,\"n\":2000},"
                + "\"override\":{\"over_5_percent\":false,\"reason\":null},"
                + "\"selection\":{\"strategy\":\"random\",\"stratified\":true,\"surrogate\":{\"kind\":\"none\",\"sha256\":null}},"
                + "\"per_class\":{\"poisoned\":{\"1\":7,\"2\":7,\"3\":6},\"total\":{\"0\":500,\"1\":500,\"2\":500,\"3\":500}},"
                + "\"indices\":[503,517,561,612,688,745,901,1003,1017,1042,1111,1234,1307,1499,1502,1613,1729,1800,1888,1999]}";
    }

    @Test
    void canonicalFormIsExactlyTheDocumentedText() {
        // Format 1, still read and verified; format 2's form is in FormatOneTest and CanonicalJsonTest.
        Manifest m = Samples.builder().formatVersion(1).build();
        assertEquals(expectedCanonical(Samples.key().fingerprint()), new String(m.canonical(), UTF_8));
    }

    @Test
    void canonicalFormLeavesOutTheSignatureAndToJsonShowsIt() {
        Manifest unsigned = Samples.unsigned();
        Manifest signed = Samples.signed();
        assertArrayEquals(unsigned.canonical(), signed.canonical());
        assertFalse(new String(signed.canonical(), UTF_8).contains("signature"));
        assertTrue(unsigned.toJson().contains("\"signature\": null"), unsigned.toJson());
        assertTrue(signed.toJson().contains("\"signature\": \"" + signed.signature() + "\""), signed.toJson());
        assertTrue(signed.toJson().endsWith("\"signature\": \"" + signed.signature() + "\"\n}\n"));
    }

    @Test
    void toJsonIsIndentedByTwoSpacesInTheCanonicalOrder() {
        String json = Samples.signed().toJson();
        assertTrue(json.startsWith("{\n  \"format\": \"dyepack-manifest/2\",\n  \"tool_version\": \"0.4.0-test\",\n"), json);
        assertTrue(json.contains("\n  \"budget\": {\n    \"requested\": \"0.01\",\n    \"fraction\": 0.01,\n"
                + "    \"count\": 20,\n    \"n\": 2000\n  },\n"), json);
        // 20 indices: 16 on the first line, 4 on the second.
        assertTrue(json.contains("\n  \"indices\": [\n    503, 517, 561, 612, 688, 745, 901, 1003, 1017, 1042, 1111, "
                + "1234, 1307, 1499, 1502, 1613,\n    1729, 1800, 1888, 1999\n  ],\n"), json);
        String[] order = {"format", "tool_version", "created", "key_fingerprint", "files", "trigger", "target_class",
            "mode", "budget", "override", "selection", "per_class", "indices", "signature"};
        int last = -1;
        for (String field : order) {
            int at = json.indexOf("\n  \"" + field + "\": ");
            assertTrue(at > last, field + " out of order");
            last = at;
        }
    }

    @Test
    void accessorsGiveTheRecordedValues() {
        Manifest m = Samples.unsigned();
        assertEquals("0.4.0-test", m.toolVersion());
        assertEquals(Instant.parse("2025-03-01T12:34:56Z"), m.created());
        assertEquals(List.of("input.data", "input.labels", "output.data", "output.labels"),
                m.files().stream().map(Manifest.DatasetFile::key).toList());
        assertEquals(Samples.SPEC, m.triggerSpec());
        assertEquals("{\"alpha\":0.25,\"colour\":[255,0.5,\"x\"],\"family\":\"patch\",\"pattern\":\"solid\","
                + "\"pos\":\"br\",\"size\":3,\"value\":255}", m.triggerParameters());
        assertEquals(0.01, m.budget().fraction());
        assertEquals(Manifest.BudgetOverride.NONE, m.override());
        assertEquals(List.of(1L, 2L, 3L), List.copyOf(m.poisonedPerClass().keySet()));
        assertArrayEquals(Samples.INDICES, m.indices());
        assertNull(m.signature());
        assertFalse(m.isSigned());
    }

    @Test
    void theManifestIsImmutable() {
        long[] indices = Samples.INDICES.clone();
        Manifest m = Samples.builder().indices(indices).build();
        indices[0] = 0;
        m.indices()[1] = 0;
        assertArrayEquals(Samples.INDICES, m.indices());
        assertThrows(UnsupportedOperationException.class, () -> m.poisonedPerClass().put(0L, 1L));
        assertThrows(UnsupportedOperationException.class, () -> m.files().clear());
    }

    @Test
    void creationTimeKeepsWholeSeconds() {
        Manifest m = Samples.builder().created(Instant.parse("2025-03-01T12:34:56.789Z")).build();
        assertEquals(Instant.parse("2025-03-01T12:34:56Z"), m.created());
        assertTrue(new String(m.canonical(), UTF_8).contains("\"created\":\"2025-03-01T12:34:56Z\""));
    }

    /** Floats: the shortest decimal that reads back as the same double, plain notation, at least one fractional digit. */
    @ParameterizedTest
    @CsvSource({
        "0.01, 0.01",
        "20.0, 20.0",
        "1e-5, 0.00001",
        "0.002, 0.002",
        "0.25, 0.25",
        "0.3333333333333333, 0.3333333333333333",
        "0.30000000000000004, 0.30000000000000004",
        "-1.5, -1.5",
        "0.0, 0.0",
        "-0.0, -0.0",
        "2e23, 200000000000000000000000.0",
        "1e21, 1000000000000000000000.0",
        "123456789.125, 123456789.125",
    })
    void floatsHaveOneCanonicalSpelling(String input, String expected) {
        assertEquals(expected, JsonText.number(Double.parseDouble(input)));
    }

    @Test
    void theExtremesAreWrittenInFull() {
        assertEquals("0." + "0".repeat(323) + "5", JsonText.number(Double.MIN_VALUE));
        // 1.7976931348623157e308 = 17976931348623157 * 10^292
        assertEquals("17976931348623157" + "0".repeat(292) + ".0", JsonText.number(Double.MAX_VALUE));
        assertEquals("-17976931348623157" + "0".repeat(292) + ".0", JsonText.number(-Double.MAX_VALUE));
        assertThrows(InvalidArgumentException.class, () -> JsonText.number(Double.NaN));
        assertThrows(InvalidArgumentException.class, () -> JsonText.number(Double.POSITIVE_INFINITY));
    }

    @Test
    void everyFloatReadsBackExactlyWithNoMoreDigitsThanNeeded() {
        Random r = new Random(42);
        for (int i = 0; i < 20000; i++) {
            double d = Double.longBitsToDouble(r.nextLong());
            if (!Double.isFinite(d)) {
                continue;
            }
            String s = JsonText.number(d);
            assertEquals(d, Double.parseDouble(s), s);
            assertTrue(s.matches("-?[0-9]+\\.[0-9]+"), s);
            String digits = s.replace("-", "").replace(".", "").replaceAll("^0+", "").replaceAll("0+$", "");
            int k = digits.length();
            assertTrue(k >= 1 && k <= 17, s);
            if (k > 1) {
                // The two decimals of k - 1 significant digits around d (every other one is farther) do not read back as d.
                BigDecimal exact = new BigDecimal(d);
                for (RoundingMode mode : new RoundingMode[] {RoundingMode.DOWN, RoundingMode.UP}) {
                    BigDecimal shorter = exact.round(new MathContext(k - 1, mode));
                    assertFalse(Double.parseDouble(shorter.toString()) == d, s + " is not the shortest: " + shorter);
                }
            }
        }
    }

    @Test
    void stringsAreEscapedByTheCanonicalRule() {
        StringBuilder sb = new StringBuilder();
        JsonText.canonicalString("q\"b\\s/\b\f\n\r\t\u0000\u001f\u007f é 😀 \u2028", sb);
        assertEquals("\"q\\\"b\\\\s/\\b\\f\\n\\r\\t\\u0000\\u001f\u007f é 😀 \u2028\"", sb.toString());
    }

    @Test
    void nonAsciiTextIsSignedAsUtf8() {
        Manifest m = Samples.builder().toolVersion("0.4 – Δ").build();
        String canonical = new String(m.canonical(), UTF_8);
        assertTrue(canonical.contains("\"tool_version\":\"0.4 – Δ\""), canonical);
    }

    private static void rejects(UnaryOperator<Manifest.Builder> change, String... messageParts) {
        InvalidArgumentException e = assertThrows(InvalidArgumentException.class,
                () -> change.apply(Samples.builder()).build());
        for (String part : messageParts) {
            assertTrue(e.getMessage().contains(part), e.getMessage() + " should mention " + part);
        }
    }

    @Test
    void malformedFieldsAreRefusedByName() {
        rejects(b -> b.toolVersion(null), "tool_version");
        rejects(b -> b.toolVersion(" "), "tool_version");
        rejects(b -> b.created(null), "created");
        rejects(b -> b.keyFingerprint("dpk1:abc"), "key_fingerprint");
        rejects(b -> b.keyFingerprint(Samples.key().fingerprint().toUpperCase()), "key_fingerprint");
        rejects(b -> b.trigger("", Samples.PARAMETERS), "trigger.spec");
        rejects(b -> b.trigger(Samples.SPEC, "[1, 2]"), "trigger.parameters", "object");
        rejects(b -> b.trigger(Samples.SPEC, "{\"a\": NaN}"), "trigger.parameters", "line 1, column 7");
        rejects(b -> b.trigger(Samples.SPEC, "{\"a\": 1, \"a\": 2}"), "trigger.parameters", "duplicate key");
        rejects(b -> b.mode(null), "mode");
        rejects(b -> b.indices(null), "indices");
        rejects(b -> b.indices(new long[] {5, 3}), "indices[1] = 3", "ascending and distinct");
        rejects(b -> b.indices(new long[] {3, 3}), "indices[1] = 3", "ascending and distinct");
        rejects(b -> b.indices(new long[] {-1, 3}), "indices[0] = -1", "negative");
        rejects(b -> b.classCounts(Map.of(1L, -1L), Samples.total()), "per_class.poisoned[1] = -1");
        rejects(b -> b.addFile(new Manifest.DatasetFile(Manifest.Stage.OUTPUT, Manifest.Role.DATA, "x.npy",
                Samples.SHA_OUT_DATA)), "two entries for output.data");
        rejects(b -> b.toolVersion("bad \uD800 surrogate"), "tool_version", "unpaired surrogate");
        assertThrows(InvalidArgumentException.class, () -> new Manifest.DatasetFile(Manifest.Stage.INPUT,
                Manifest.Role.DATA, "a.npy", "AB".repeat(32)));
        assertThrows(InvalidArgumentException.class, () -> new Manifest.BudgetOverride(false, "why not"));
        assertThrows(InvalidArgumentException.class, () -> new Manifest.Selection(Manifest.Strategy.RANDOM, false,
                Manifest.SurrogateKind.NONE, "ab".repeat(32)));
        assertThrows(InvalidArgumentException.class, () -> Manifest.Budget.of("0.01", 3, 0));
        assertThrows(InvalidArgumentException.class, () -> Manifest.Budget.of("0.01", 11, 10));
        assertThrows(InvalidArgumentException.class, () -> Manifest.Budget.of("", 1, 10));
    }

    @Test
    void inconsistentFieldsAreRefused() {
        rejects(b -> b.indices(new long[] {503, 517}), "budget.count is 20 but indices lists 2 samples");
        long[] beyond = Samples.INDICES.clone();
        beyond[19] = 2000;
        rejects(b -> b.indices(beyond), "indices[19] = 2000 is not below budget.n = 2000");
        rejects(b -> b.budget(new Manifest.Budget("0.01", 0.02, 20, 2000)),
                "budget.fraction is 0.02 but budget.count / budget.n is 0.01");
        rejects(b -> b.classCounts(Map.of(1L, 7L, 2L, 7L, 3L, 5L), Samples.total()),
                "per_class.poisoned adds up to 19 but budget.count is 20");
        rejects(b -> b.classCounts(Samples.poisoned(), Map.of(0L, 500L, 1L, 500L, 2L, 500L, 3L, 499L)),
                "per_class.total adds up to 1999 but budget.n is 2000");
        rejects(b -> b.classCounts(Map.of(1L, 14L, 4L, 6L), Map.of(0L, 500L, 1L, 500L, 2L, 500L, 3L, 500L)),
                "per_class.poisoned has class 4, which per_class.total lacks");
        rejects(b -> b.classCounts(Map.of(1L, 20L), Map.of(0L, 1990L, 1L, 10L)),
                "per_class.poisoned[1] = 20 exceeds per_class.total[1] = 10");
        rejects(b -> b.targetClass(9), "target_class 9 is not among the classes of per_class.total");
        rejects(b -> b.mode(Manifest.Mode.CLEAN), "mode is clean but per_class.poisoned has class 1");
        rejects(b -> b.selection(new Manifest.Selection(Manifest.Strategy.BOUNDARY, false,
                Manifest.SurrogateKind.NONE, null)), "boundary", "none");
    }

    /** More than 5% means count * 20 > n, computed exactly; it needs the override. */
    @ParameterizedTest
    @CsvSource({"100, 5, false", "100, 6, true", "99, 5, true", "101, 5, false", "20, 1, false", "19, 1, true"})
    void budgetsAboveFivePercentNeedTheOverride(long n, long count, boolean needsOverride) {
        long[] indices = new long[(int) count];
        for (int i = 0; i < count; i++) {
            indices[i] = i;
        }
        Manifest.Builder b = Samples.builder()
                .budget(Manifest.Budget.of(String.valueOf(count), count, n))
                .classCounts(Map.of(), Map.of())
                .indices(indices);
        if (needsOverride) {
            InvalidArgumentException e = assertThrows(InvalidArgumentException.class, b::build);
            assertTrue(e.getMessage().contains("above 5% but override.over_5_percent is false"), e.getMessage());
        } else {
            b.build();
        }
        Manifest m = b.override(new Manifest.BudgetOverride(true, "a small private dataset")).build();
        assertEquals("a small private dataset", m.override().reason());
    }

    @Test
    void unlabelledDataHasNoPerClassCounts() {
        Manifest m = Samples.builder().classCounts(Map.of(), Map.of()).build();
        assertTrue(new String(m.canonical(), UTF_8).contains("\"per_class\":{\"poisoned\":{},\"total\":{}}"));
    }

    @Test
    void negativeClassLabelsAreOrderedNumericallyInFormatOne() {
        Manifest m = Samples.builder().formatVersion(1)
                .targetClass(-1)
                .classCounts(Map.of(-10L, 10L, 2L, 10L), Map.of(-10L, 1000L, -1L, 500L, 2L, 500L))
                .build();
        assertTrue(new String(m.canonical(), UTF_8).contains(
                "\"per_class\":{\"poisoned\":{\"-10\":10,\"2\":10},\"total\":{\"-10\":1000,\"-1\":500,\"2\":500}}"));
    }

    @Test
    void classLabelsAreOrderedAsStringsInFormatTwo() {
        Manifest m = Samples.builder()
                .targetClass(-1)
                .classCounts(Map.of(-10L, 10L, 2L, 10L), Map.of(-10L, 1000L, -1L, 500L, 2L, 500L))
                .build();
        // RFC 8785 sorts member names by UTF-16 code units: "-1" < "-10" < "2".
        assertTrue(new String(m.canonical(), UTF_8).contains(
                "\"per_class\":{\"poisoned\":{\"-10\":10,\"2\":10},\"total\":{\"-1\":500,\"-10\":1000,\"2\":500}}"));
    }

    @Test
    void equalManifestsAreEqual() {
        assertEquals(Samples.unsigned(), Samples.unsigned());
        assertEquals(Samples.unsigned().hashCode(), Samples.unsigned().hashCode());
        assertFalse(Samples.unsigned().equals(Samples.signed()));
        assertFalse(Samples.unsigned().equals(Samples.builder().targetClass(1).build()));
        assertTrue(Samples.signed().toString().contains("20/2000"));
    }
}
