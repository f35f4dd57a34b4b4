package dev.dyepack.manifest;

import dev.dyepack.DyePackException;

/**
 * A manifest or probe set whose signature does not verify under the key given, or whose files do
 * not match their recorded fingerprints: nothing it says is used.
 */
public class UntrustedRecordException extends DyePackException {
    private static final long serialVersionUID = 1L;

    /** @param message what did not verify */
    public UntrustedRecordException(String message) {
        super(message);
    }
}
