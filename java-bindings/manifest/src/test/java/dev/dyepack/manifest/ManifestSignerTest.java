package dev.dyepack.manifest;

import static java.nio.charset.StandardCharsets.US_ASCII;
import static java.nio.charset.StandardCharsets.UTF_8;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.dyepack.InvalidArgumentException;
import dev.dyepack.key.OwnerKey;
import java.util.HexFormat;
import java.util.List;
import javax.crypto.Mac;
import javax.crypto.spec.SecretKeySpec;
import org.junit.jupiter.api.Test;

class ManifestSignerTest {
    private static final String MISMATCH =
            "signature does not match: the manifest was changed or signed with another key";

    /**
     * HMAC-SHA256 over the canonical bytes with the documented subkey, HKDF-SHA256(salt "dyepack-v1",
     * info "dyepack/v1/manifest/signature", 32 bytes) written out with javax.crypto.Mac alone.
     */
    private static String referenceSignature(byte[] ownerKey, byte[] canonical) throws Exception {
        Mac mac = Mac.getInstance("HmacSHA256");
        mac.init(new SecretKeySpec("dyepack-v1".getBytes(US_ASCII), "HmacSHA256"));
        byte[] prk = mac.doFinal(ownerKey);
        mac.init(new SecretKeySpec(prk, "HmacSHA256"));
        mac.update("dyepack/v1/manifest/signature".getBytes(UTF_8));
        mac.update((byte) 1);
        byte[] subkey = mac.doFinal(); // one block is exactly the 32 bytes asked for
        mac.init(new SecretKeySpec(subkey, "HmacSHA256"));
        return HexFormat.of().formatHex(mac.doFinal(canonical));
    }

    @Test
    void aSignedManifestVerifies() {
        Manifest signed = Samples.signed();
        Verification v = ManifestSigner.verify(signed, Samples.key());
        assertTrue(v.ok(), v.toString());
        assertEquals(List.of(), v.findings());
        assertEquals("ok", v.toString());
    }

    @Test
    void theSignatureIsTheDocumentedHmac() throws Exception {
        Manifest unsigned = Samples.unsigned();
        Manifest signed = ManifestSigner.sign(unsigned, Samples.key());
        assertEquals(referenceSignature(Samples.KEY_TEXT.getBytes(UTF_8), unsigned.canonical()), signed.signature());
        assertTrue(signed.signature().matches("[0-9a-f]{64}"));
    }

    @Test
    void signingIsDeterministicAndLeavesTheInputUnsigned() {
        Manifest unsigned = Samples.unsigned();
        Manifest a = ManifestSigner.sign(unsigned, Samples.key());
        Manifest b = ManifestSigner.sign(a, Samples.key());
        assertNull(unsigned.signature());
        assertEquals(a.signature(), b.signature());
        assertEquals(a, b);
    }

    @Test
    void anotherKeyFailsAndBothFingerprintsAreNamed() {
        Manifest signed = Samples.signed();
        OwnerKey other = Samples.otherKey();
        Verification v = ManifestSigner.verify(signed, other);
        assertFalse(v.ok());
        assertEquals(List.of(
                "key fingerprint " + Samples.key().fingerprint() + " does not match the key given ("
                        + other.fingerprint() + ")",
                MISMATCH), v.findings());
        assertTrue(v.toString().startsWith("failed: key fingerprint dpk1:"), v.toString());
    }

    @Test
    void aManifestSignedWithAnotherKeyButNamingThisOneFails() {
        // Someone with another key forges a signature over a manifest that claims this key's fingerprint.
        Manifest forged = Samples.unsigned().withSignature(ManifestSigner.sign(
                Samples.builder().keyFingerprint(Samples.otherKey().fingerprint()).build(), Samples.otherKey())
                .signature());
        Verification v = ManifestSigner.verify(forged, Samples.key());
        assertEquals(List.of(MISMATCH), v.findings());
    }

    @Test
    void anUnsignedManifestDoesNotVerify() {
        Verification v = ManifestSigner.verify(Samples.unsigned(), Samples.key());
        assertEquals(List.of("the manifest is not signed"), v.findings());
    }

    @Test
    void signingRefusesAManifestThatNamesAnotherKey() {
        InvalidArgumentException e = assertThrows(InvalidArgumentException.class,
                () -> ManifestSigner.sign(Samples.unsigned(), Samples.otherKey()));
        assertTrue(e.getMessage().contains(Samples.otherKey().fingerprint()), e.getMessage());
    }

    @Test
    void nullsAndDestroyedKeysAreRefused() {
        assertThrows(InvalidArgumentException.class, () -> ManifestSigner.sign(null, Samples.key()));
        assertThrows(InvalidArgumentException.class, () -> ManifestSigner.verify(Samples.signed(), null));
        OwnerKey key = Samples.key();
        Manifest signed = Samples.signed();
        key.destroy();
        assertThrows(IllegalStateException.class, () -> ManifestSigner.verify(signed, key));
    }
}
