package dev.dyepack.mark;

import dev.dyepack.InvalidInputException;
import dev.dyepack.key.OwnerKey;
import dev.dyepack.manifest.UntrustedRecordException;
import dev.dyepack.verify.Answers;
import dev.dyepack.verify.SuspectModel;
import dev.dyepack.verify.Verification;
import dev.dyepack.verify.endpoint.EndpointSettings;
import dev.dyepack.verify.endpoint.EndpointSuspect;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * Verification of a suspect against a mark log: the log's chain and the probe set's signature and files are
 * checked, and every probe is matched to its log entry, before the suspect's answers are read and tested
 * ({@link MarkVerifier}).
 */
public final class MarkVerification {
    private MarkVerification() {}

    /**
     * From prediction files: {@code predictions/marked.npy} and {@code predictions/control.npy} hold the
     * suspect's answers to the probe files of the same names, labels (N,) or probabilities (N, C).
     *
     * @param logDir      the mark log
     * @param probeDir    the probe set
     * @param predictions the folder of answers
     * @param key         the owner's key
     * @param verifier    the test's settings
     * @return the verdict
     * @throws UntrustedRecordException if the log or the probe set does not verify, or they do not belong together
     * @throws InvalidInputException    if an answer file is missing or unusable
     */
    public static MarkVerdict fromPredictions(Path logDir, Path probeDir, Path predictions, OwnerKey key,
            MarkVerifier verifier) {
        MarkProbeSet set = opened(logDir, probeDir, key);
        return verifier.verify(set, read(predictions, MarkProbeSet.MARKED, set.marked().size(), set.classes()),
                read(predictions, MarkProbeSet.CONTROL, set.control().size(), set.classes()));
    }

    /**
     * With a model held in the JVM, or any {@link SuspectModel}.
     *
     * @param logDir   the mark log
     * @param probeDir the probe set
     * @param key      the owner's key
     * @param model    the suspect
     * @param verifier the test's settings
     * @return the verdict
     * @throws UntrustedRecordException if the log or the probe set does not verify, or they do not belong together
     * @throws InvalidInputException    if the model's answers do not fit the probe set
     */
    public static MarkVerdict withModel(Path logDir, Path probeDir, OwnerKey key, SuspectModel model,
            MarkVerifier verifier) {
        MarkProbeSet set = opened(logDir, probeDir, key);
        return verifier.verify(set, model.answer(probes(set.dir().resolve(MarkProbeSet.MARKED), "marked")),
                model.answer(probes(set.dir().resolve(MarkProbeSet.CONTROL), "control")));
    }

    /**
     * With a prediction service reached over HTTP, in the verification's request and response shapes.
     *
     * @param logDir   the mark log
     * @param probeDir the probe set
     * @param key      the owner's key
     * @param endpoint the service and how to talk to it
     * @param verifier the test's settings
     * @return the verdict
     * @throws UntrustedRecordException if the log or the probe set does not verify, or they do not belong together
     * @throws InvalidInputException    if the service fails within its retries or answers anything but one valid
     *                                  answer per probe
     */
    public static MarkVerdict fromEndpoint(Path logDir, Path probeDir, OwnerKey key, EndpointSettings endpoint,
            MarkVerifier verifier) {
        MarkProbeSet set = opened(logDir, probeDir, key);
        return withModel(logDir, probeDir, key, new EndpointSuspect(endpoint, set.classes()), verifier);
    }

    private static MarkProbeSet opened(Path logDir, Path probeDir, OwnerKey key) {
        MarkProbeSet set = MarkProbeSet.open(probeDir, key);
        set.checkAgainst(logDir, key);
        return set;
    }

    private static Answers read(Path predictions, String name, int n, int classes) {
        Path file = predictions.resolve(name);
        if (!Files.isRegularFile(file)) {
            throw new InvalidInputException(file + ": missing; the suspect's answers to the probe file " + name
                    + " must be saved under the same name");
        }
        return Answers.read(file, n, classes);
    }

    /**
     * A probe file's queries as floats (uint8 values stay 0..255), in the shape stored.
     *
     * @param file the probe file
     * @param name its name
     * @return the probes
     * @throws InvalidInputException if the file cannot be read
     */
    public static SuspectModel.Probes probes(Path file, String name) {
        return Verification.probes(file, name);
    }
}
