package dev.dyepack.manifest;

import java.util.List;

/**
 * The outcome of {@link ManifestSigner#verify}: a list of findings, each a sentence a person can act
 * on; the manifest verifies when there are none.
 *
 * @param findings what is wrong, in the order found; empty when the manifest verifies
 */
public record Verification(List<String> findings) {
    /**
     * @param findings what is wrong; copied
     * @throws NullPointerException if {@code findings} or one of its elements is null
     */
    public Verification {
        findings = List.copyOf(findings);
    }

    /** @return whether the signature matches the key and the manifest is consistent */
    public boolean ok() {
        return findings.isEmpty();
    }

    /** @return {@code "ok"}, or {@code "failed: "} and the findings joined by {@code "; "} */
    @Override
    public String toString() {
        return ok() ? "ok" : "failed: " + String.join("; ", findings);
    }
}
