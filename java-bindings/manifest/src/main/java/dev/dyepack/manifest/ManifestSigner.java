package dev.dyepack.manifest;

import dev.dyepack.InvalidArgumentException;
import dev.dyepack.key.OwnerKey;
import java.security.MessageDigest;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;

/**
 * Signs manifests and checks their signatures: {@code signature = HMAC-SHA256(k, m.canonical())} with
 * {@code k = owner.derive("manifest/signature", 32)}, written as 64 lowercase hex digits. A subkey of
 * its own means that a signature reveals nothing usable for the key's other purposes (trigger
 * patterns, noise), and that nothing signed elsewhere with the key can pass for a manifest signature.
 *
 * <p>Stateless and thread-safe (as far as the key is: it must not be destroyed meanwhile). The subkey is
 * zero-filled after each use.
 */
public final class ManifestSigner {
    /** The {@link OwnerKey#derive} purpose of the signing subkey. */
    public static final String PURPOSE = "manifest/signature";
    /** Length of the signing subkey in bytes. */
    public static final int SUBKEY_LENGTH = 32;

    private ManifestSigner() {
    }

    /**
     * Signs a manifest (replacing any signature it has).
     *
     * @param unsigned the manifest; its key fingerprint must be the key's
     * @param key      the owner's key
     * @return a signed copy; {@code unsigned} is unchanged
     * @throws InvalidArgumentException if an argument is null, the manifest records another key's
     *                                  fingerprint, or the manifest is inconsistent (possible only for one
     *                                  read from an edited file)
     * @throws IllegalStateException    if the key was destroyed
     */
    public static Manifest sign(Manifest unsigned, OwnerKey key) {
        if (unsigned == null || key == null) {
            throw new InvalidArgumentException("manifest and key must not be null");
        }
        if (!unsigned.keyFingerprint().equals(key.fingerprint())) {
            throw new InvalidArgumentException("the manifest records key " + unsigned.keyFingerprint()
                    + " but the key given is " + key.fingerprint());
        }
        List<String> problems = unsigned.inconsistencies();
        if (!problems.isEmpty()) {
            throw new InvalidArgumentException("refusing to sign an inconsistent manifest: " + String.join("; ", problems));
        }
        return unsigned.withSignature(HexFormat.of().formatHex(mac(unsigned, key)));
    }

    /**
     * Checks a manifest against the owner's key. Findings, in this order: the key's fingerprint differs
     * from the recorded one; the manifest is unsigned, or its signature does not match (compared in
     * constant time); and each inconsistency between fields (see {@link Manifest}), which a signed
     * manifest can only have if it was edited.
     *
     * @param m   the manifest, normally from {@link ManifestReader#read}
     * @param key the owner's key
     * @return the verification; {@link Verification#ok()} when the signature is the key's and nothing is
     *         inconsistent
     * @throws InvalidArgumentException if an argument is null
     * @throws IllegalStateException    if the key was destroyed
     */
    public static Verification verify(Manifest m, OwnerKey key) {
        if (m == null || key == null) {
            throw new InvalidArgumentException("manifest and key must not be null");
        }
        List<String> findings = new ArrayList<>();
        if (!m.keyFingerprint().equals(key.fingerprint())) {
            findings.add("key fingerprint " + m.keyFingerprint() + " does not match the key given ("
                    + key.fingerprint() + ")");
        }
        if (!m.isSigned()) {
            findings.add("the manifest is not signed");
        } else {
            byte[] recorded = HexFormat.of().parseHex(m.signature());
            byte[] expected = mac(m, key);
            if (!MessageDigest.isEqual(expected, recorded)) {
                findings.add("signature does not match: the manifest was changed or signed with another key");
            }
        }
        findings.addAll(m.inconsistencies());
        return new Verification(findings);
    }

    private static byte[] mac(Manifest m, OwnerKey key) {
        return SignedRecord.hmac(key, PURPOSE, m.canonical());
    }
}
