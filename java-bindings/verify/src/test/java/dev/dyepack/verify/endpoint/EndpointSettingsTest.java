package dev.dyepack.verify.endpoint;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.dyepack.InvalidInputException;
import java.net.URI;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** The service answers' reader, the settings' checks and the API key's secrecy. */
class EndpointSettingsTest {
    @Test
    void pointersFollowRfc6901() {
        // The example document and pointers of RFC 6901, section 5.
        Object doc = ResponseJson.parse("{\"foo\": [\"bar\", \"baz\"], \"\": 0, \"a/b\": 1, \"c%d\": 2, \"e^f\": 3,"
                + " \"g|h\": 4, \"i\\\\j\": 5, \"k\\\"l\": 6, \" \": 7, \"m~n\": 8}");
        assertEquals(doc, ResponseJson.at(doc, ""));
        assertEquals(List.of("bar", "baz"), ResponseJson.at(doc, "/foo"));
        assertEquals("bar", ResponseJson.at(doc, "/foo/0"));
        assertEquals(0L, ResponseJson.at(doc, "/"));
        assertEquals(1L, ResponseJson.at(doc, "/a~1b"));
        assertEquals(2L, ResponseJson.at(doc, "/c%d"));
        assertEquals(5L, ResponseJson.at(doc, "/i\\j"));
        assertEquals(6L, ResponseJson.at(doc, "/k\"l"));
        assertEquals(7L, ResponseJson.at(doc, "/ "));
        assertEquals(8L, ResponseJson.at(doc, "/m~0n"));
        for (String missing : List.of("/nope", "/foo/2", "/foo/01", "/foo/-1", "/foo/0/x")) {
            assertThrows(IllegalArgumentException.class, () -> ResponseJson.at(doc, missing), missing);
        }
    }

    @Test
    void answersOutsideJsonsGrammarAreRefused() {
        for (String bad : List.of("", "<html>", "{\"predictions\": [1, 2,]}", "[01]", "[.5]", "[1.]", "[+1]", "[NaN]",
                "[1e999]", "{\"a\": 1, \"a\": 2}", "[1] [2]", "{'a': 1}", "[\"tab\there\"]", "[1")) {
            assertThrows(IllegalArgumentException.class, () -> ResponseJson.parse(bad), bad);
        }
        assertEquals(Map.of("p", List.of(-0.5, 1e-3, 3L), "ok", true, "s", "a\"/\u00e9"),
                ResponseJson.parse(" {\"p\": [-0.5, 1E-3, 3], \"ok\": true, \"s\": \"a\\\"\\/\\u00e9\"} "));
        assertEquals(dev.dyepack.manifest.JsonReader.NULL, ResponseJson.parse("null"));
    }

    @Test
    void settingsAreCheckedWhenBuilt() {
        URI ok = URI.create("https://predict.example/v1");
        assertEquals(EndpointSettings.DEFAULT_BATCH, EndpointSettings.builder(ok).build().batch());
        for (String uri : List.of("ftp://predict.example/", "predict.example/v1", "http://user:pw@predict.example/")) {
            assertThrows(InvalidInputException.class, () -> EndpointSettings.builder(URI.create(uri)).build(), uri);
        }
        assertThrows(InvalidInputException.class, () -> EndpointSettings.builder(ok).batch(0).build());
        assertThrows(InvalidInputException.class, () -> EndpointSettings.builder(ok).timeout(Duration.ZERO).build());
        assertThrows(InvalidInputException.class, () -> EndpointSettings.builder(ok).retries(21).build());
        assertThrows(InvalidInputException.class, () -> EndpointSettings.builder(ok).ratePerSecond(-1).build());
        assertThrows(InvalidInputException.class, () -> EndpointSettings.builder(ok).responsePath("predictions")
                .build());
        assertThrows(InvalidInputException.class, () -> EndpointSettings.builder(ok).requestTemplate(
                "{\"inputs\": []}").build());
        assertThrows(InvalidInputException.class, () -> EndpointSettings.builder(ok).requestTemplate(
                "{\"a\": \"{{instances}}\", \"b\": \"{{instances}}\"}").build());
        assertThrows(InvalidInputException.class, () -> EndpointSettings.builder(ok).requestTemplate(
                "{\"a\": \"{{instances}}\"").build());
    }

    @Test
    void theApiKeyIsNeverShownAndGoesInItsHeader() {
        ApiKey bearer = ApiKey.of("Authorization", "s3cret-token");
        assertEquals("Bearer s3cret-token", bearer.headerValue());
        ApiKey custom = ApiKey.of("X-Api-Key", "s3cret-token");
        assertEquals("s3cret-token", custom.headerValue());
        EndpointSettings s = EndpointSettings.builder(URI.create("http://127.0.0.1:9/")).apiKey(custom).build();
        assertFalse(s.toString().contains("s3cret"), s.toString());
        assertTrue(s.toString().contains("X-Api-Key"));
        assertThrows(InvalidInputException.class, () -> ApiKey.of("X-Api-Key", "line\nbreak"));
        assertThrows(InvalidInputException.class, () -> ApiKey.of("Bad Header", "k"));
        assertEquals("k", ApiKey.resolve("X-K", null, Map.of(ApiKey.ENV_VAR, " k\n")).orElseThrow().headerValue());
        assertTrue(ApiKey.resolve("X-K", null, Map.of()).isEmpty());
    }

    @Test
    void retryAfterIsReadAsSecondsOrAnHttpDate() {
        java.time.Instant now = java.time.Instant.parse("2026-11-29T10:00:00Z");
        assertEquals(120_000, EndpointSuspect.retryAfterMillis("120", now));
        assertEquals(0, EndpointSuspect.retryAfterMillis("0", now));
        // RFC 9110's example form of an HTTP date, 30 s after now.
        assertEquals(30_000, EndpointSuspect.retryAfterMillis("Sun, 29 Nov 2026 10:00:30 GMT", now));
        assertEquals(0, EndpointSuspect.retryAfterMillis("Sun, 29 Nov 2026 09:00:00 GMT", now), "a past date");
        assertEquals(0, EndpointSuspect.retryAfterMillis("soon", now));
        assertEquals(0, EndpointSuspect.retryAfterMillis("-5", now));
        assertEquals(0, EndpointSuspect.retryAfterMillis(null, now));
        assertTrue(EndpointSuspect.retryAfterMillis("99999999999999", now) > 3_600_000L * 24 * 365);
    }

    @Test
    void certificatesToTrustMustBeCertificates() throws java.io.IOException {
        java.nio.file.Path junk = java.nio.file.Files.createTempFile("not-a-cert", ".pem");
        try {
            java.nio.file.Files.writeString(junk, "-----BEGIN CERTIFICATE-----\nnot base64\n-----END CERTIFICATE-----\n");
            InvalidInputException e = assertThrows(InvalidInputException.class,
                    () -> EndpointSettings.builder(URI.create("https://127.0.0.1/p")).trustedCertificates(junk));
            assertTrue(e.getMessage().contains(junk.toString()), e.getMessage());
        } finally {
            java.nio.file.Files.delete(junk);
        }
    }
}
