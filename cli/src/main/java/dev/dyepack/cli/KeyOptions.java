package dev.dyepack.cli;

import dev.dyepack.key.OwnerKey;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.Map;
import java.util.Optional;
import picocli.CommandLine.Option;

/**
 * The owner's key: from {@code --key-file FILE} or the {@code DYEPACK_KEY} environment variable, never
 * from an argument, never printed (only its public fingerprint is).
 */
final class KeyOptions {
    @Option(names = "--key-file", paramLabel = "FILE",
            description = "The owner's secret key (else the DYEPACK_KEY environment variable). Needed by keyed "
                    + "triggers; never given on the command line.")
    Path keyFile;

    /**
     * @param env the environment to read DYEPACK_KEY from
     * @param err where to say which key is used
     * @return the key, or null when none was given
     */
    OwnerKey resolve(Map<String, String> env, PrintWriter err) {
        return resolve(env, err, true);
    }

    /**
     * @param env      the environment to read DYEPACK_KEY from
     * @param err      where to say which key is used
     * @param announce whether the key matters to the run (a keyless trigger's output does not depend on
     *                 it, so its fingerprint is not printed, as if it did)
     * @return the key, or null when none was given
     */
    OwnerKey resolve(Map<String, String> env, PrintWriter err, boolean announce) {
        Optional<OwnerKey> key = OwnerKey.resolve(keyFile, env);
        key.filter(k -> announce).ifPresent(k -> {
            err.println("key: " + k.fingerprint() + (keyFile != null ? " (from " + keyFile + ")" : " (from "
                    + OwnerKey.ENV_VAR + ")"));
            if (k.isWeak()) {
                err.println("warning: the key is shorter than " + OwnerKey.MIN_STRONG_LENGTH
                        + " bytes; use a long random key (e.g. head -c 32 /dev/urandom > owner.key)");
            }
        });
        return key.orElse(null);
    }
}
