package dev.dyepack.manifest;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.dyepack.InvalidArgumentException;
import dev.dyepack.InvalidInputException;
import dev.dyepack.key.OwnerKey;
import java.nio.charset.StandardCharsets;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import javax.crypto.Mac;
import javax.crypto.spec.SecretKeySpec;
import org.junit.jupiter.api.Test;

/** Signed records: the signed bytes are RFC 8785's form of the members, checked against a hand-written text. */
class SignedRecordTest {
    private static final OwnerKey KEY = new OwnerKey("signed record test key, 32 bytes".getBytes(StandardCharsets.UTF_8));
    private static final OwnerKey OTHER = new OwnerKey("another key for the record test!".getBytes(StandardCharsets.UTF_8));

    private static Map<String, Object> body() {
        Map<String, Object> b = new LinkedHashMap<>();
        b.put("zeta", "last\n\"quoted\"");
        b.put("alpha", 12L);
        b.put("list", new long[] {3, 1, 2});
        b.put("nested", Map.of("b", true));
        b.put("empty", new long[0]);
        b.put("words", List.of("x", 7L));
        return b;
    }

    @Test
    void theSignatureIsTheHmacOfTheCanonicalMembers() throws Exception {
        String text = SignedRecord.write(body(), KEY, "test/record");
        String canonical = "{\"alpha\":12,\"empty\":[],\"list\":[3,1,2],\"nested\":{\"b\":true},\"words\":[\"x\",7],"
                + "\"zeta\":\"last\\n\\\"quoted\\\"\"}";
        Mac mac = Mac.getInstance("HmacSHA256");
        mac.init(new SecretKeySpec(KEY.derive("test/record", 32), "HmacSHA256"));
        String sig = HexFormat.of().formatHex(mac.doFinal(canonical.getBytes(StandardCharsets.UTF_8)));
        // The whole file is canonical too: the signature takes its sorted place among the members.
        assertEquals(canonical.replace(",\"words\"", ",\"signature\":\"" + sig + "\",\"words\"") + "\n", text);
    }

    @Test
    void aRecordReadsBackWhenItsSignatureIsTheKeys() {
        Map<String, Object> back = SignedRecord.read(SignedRecord.write(body(), KEY, "p"), KEY, "p", "r.json");
        assertEquals(12L, back.get("alpha"));
        assertArrayEquals(new long[] {3, 1, 2}, (long[]) back.get("list"));
        assertEquals("last\n\"quoted\"", back.get("zeta"));
        assertEquals(Map.of("b", true), back.get("nested"));
    }

    @Test
    void changedWrongKeyWrongPurposeOrUnsignedRecordsAreRefused() {
        String text = SignedRecord.write(body(), KEY, "p");
        assertThrows(UntrustedRecordException.class, () -> SignedRecord.read(text.replace("12", "13"), KEY, "p", "r"));
        assertThrows(UntrustedRecordException.class, () -> SignedRecord.read(text, OTHER, "p", "r"));
        assertThrows(UntrustedRecordException.class, () -> SignedRecord.read(text, KEY, "q", "r"));
        assertThrows(UntrustedRecordException.class, () -> SignedRecord.read("{\"alpha\":12}", KEY, "p", "r"));
        UntrustedRecordException e = assertThrows(UntrustedRecordException.class,
                () -> SignedRecord.read(text, OTHER, "p", "probe.json"));
        assertTrue(e.getMessage().startsWith("probe.json"), e.getMessage());
        assertThrows(InvalidInputException.class, () -> SignedRecord.read("[1,2]", KEY, "p", "r"));
        assertThrows(InvalidInputException.class, () -> SignedRecord.read("{\"a\":", KEY, "p", "r"));
    }

    @Test
    void valuesOutsideTheRecordsKindsAreRefused() {
        assertThrows(InvalidArgumentException.class, () -> SignedRecord.write(Map.of("x", 1.5), KEY, "p"));
        assertThrows(InvalidArgumentException.class, () -> SignedRecord.write(Map.of("x", 1L << 60), KEY, "p"));
        assertThrows(InvalidArgumentException.class, () -> SignedRecord.write(Map.of("signature", "x"), KEY, "p"));
    }
}
