package dev.dyepack.mark;

import dev.dyepack.InvalidInputException;
import dev.dyepack.key.OwnerKey;
import dev.dyepack.manifest.UntrustedRecordException;
import dev.dyepack.verify.Answers;
import dev.dyepack.verify.SuspectModel;
import dev.dyepack.verify.Verification;
import dev.dyepack.verify.endpoint.EndpointSettings;
import dev.dyepack.verify.endpoint.EndpointSuspect;
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
     * suspect's answers to the probe files of the same names, labels (N,) or scores (N, C), the kind of scores
     * recognised as {@link #fromPredictions(Path, Path, Path, AnswerKind, OwnerKey, MarkVerifier)} does with
     * {@code scores} null.
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
        return fromPredictions(logDir, probeDir, predictions, null, key, verifier);
    }

    /**
     * From prediction files: {@code predictions/marked.npy} and {@code predictions/control.npy} hold the
     * suspect's answers to the probe files of the same names: labels (N,) of integers, or scores (N, C) of
     * float32 or float64, every score finite. Scores are probabilities (each in [0, 1], each row summing to 1
     * within {@link Answers#SUM_TOLERANCE}) or logits, whose softmax is taken per row (in double precision) before
     * the gap test, so the gap is always one of probabilities, as in the evaluation that measured it. With
     * {@code scores} null the kind is recognised per file: probabilities when every value lies in [0, 1] and
     * every row sums to 1, logits when some value lies outside [0, 1]; values all in [0, 1] whose rows do not
     * all sum to 1 are refused (broken probabilities are not silently taken for logits), and both files must be
     * of one kind.
     *
     * @param logDir      the mark log
     * @param probeDir    the probe set
     * @param predictions the folder of answers
     * @param scores      what (N, C) answers hold, or null to recognise it
     * @param key         the owner's key
     * @param verifier    the test's settings
     * @return the verdict
     * @throws UntrustedRecordException if the log or the probe set does not verify, or they do not belong together
     * @throws InvalidInputException    if an answer file is missing or unusable: another number of answers than
     *                                  the probe file has probes, another number of classes than the log's
     *                                  answers, a score that is not finite, a row of declared probabilities
     *                                  that does not sum to 1
     */
    public static MarkVerdict fromPredictions(Path logDir, Path probeDir, Path predictions, AnswerKind scores,
            OwnerKey key, MarkVerifier verifier) {
        MarkProbeSet set = opened(logDir, probeDir, key);
        SuspectScores marked = SuspectScores.read(predictions.resolve(MarkProbeSet.MARKED), MarkProbeSet.MARKED,
                set.marked().size(), set.classes(), scores);
        SuspectScores control = SuspectScores.read(predictions.resolve(MarkProbeSet.CONTROL), MarkProbeSet.CONTROL,
                set.control().size(), set.classes(), scores);
        if (marked.kind() != null && control.kind() != null && marked.kind() != control.kind()) {
            throw new InvalidInputException(predictions + ": " + MarkProbeSet.MARKED + " holds "
                    + SuspectScores.name(marked.kind()) + " but " + MarkProbeSet.CONTROL + " holds "
                    + SuspectScores.name(control.kind()) + "; answer both probe files in one form, or declare "
                    + "which the scores are");
        }
        AnswerKind kind = marked.kind() != null ? marked.kind() : control.kind();
        return verifier.verify(set, marked.answers(), control.answers(), kind);
    }

    /**
     * With a model held in the JVM, or any {@link SuspectModel}; its probability answers are also tested on the
     * probability gap.
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
     * With a prediction service reached over HTTP, in the verification's request and response shapes, its answers
     * recognised as labels or probabilities and logits taken too (as {@link #fromEndpoint(Path, Path, OwnerKey,
     * EndpointSettings, AnswerKind, MarkVerifier)} with {@code scores} null).
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
        return fromEndpoint(logDir, probeDir, key, endpoint, null, verifier);
    }

    /**
     * With a prediction service reached over HTTP, in the verification's request and response shapes: per probe a
     * label, or a row of C scores, probabilities or logits, taken as {@link #fromPredictions(Path, Path, Path,
     * AnswerKind, OwnerKey, MarkVerifier)} takes an answer file's (logits become their softmax, then the gap test
     * is computed too). Scores for both probe files must be of one kind; labels for one and scores for the other
     * leave the gap test out, as answer files of those forms do.
     *
     * @param logDir   the mark log
     * @param probeDir the probe set
     * @param key      the owner's key
     * @param endpoint the service and how to talk to it
     * @param scores   what the service's score rows hold, or null to recognise it
     * @param verifier the test's settings
     * @return the verdict
     * @throws UntrustedRecordException if the log or the probe set does not verify, or they do not belong together
     * @throws InvalidInputException    if the service fails within its retries or answers anything but one valid
     *                                  answer per probe
     */
    public static MarkVerdict fromEndpoint(Path logDir, Path probeDir, OwnerKey key, EndpointSettings endpoint,
            AnswerKind scores, MarkVerifier verifier) {
        MarkProbeSet set = opened(logDir, probeDir, key);
        EndpointSuspect suspect = new EndpointSuspect(endpoint, set.classes());
        SuspectScores marked = asked(suspect, set, MarkProbeSet.MARKED, "marked", endpoint, scores);
        SuspectScores control = asked(suspect, set, MarkProbeSet.CONTROL, "control", endpoint, scores);
        if (marked.kind() != null && control.kind() != null && marked.kind() != control.kind()) {
            throw new InvalidInputException("endpoint " + endpoint.uri() + ": answered " + MarkProbeSet.MARKED
                    + " with " + SuspectScores.name(marked.kind()) + " but " + MarkProbeSet.CONTROL + " with "
                    + SuspectScores.name(control.kind()) + "; declare which the scores are");
        }
        AnswerKind kind = marked.kind() != null ? marked.kind() : control.kind();
        return verifier.verify(set, marked.answers(), control.answers(), kind);
    }

    private static SuspectScores asked(EndpointSuspect suspect, MarkProbeSet set, String file, String name,
            EndpointSettings endpoint, AnswerKind declared) {
        EndpointSuspect.Scores s = suspect.scores(probes(set.dir().resolve(file), name));
        if (s.labelsOnly()) {
            try {
                return new SuspectScores(Answers.ofLabels(s.labels(), set.classes()), null);
            } catch (InvalidInputException e) {
                throw new InvalidInputException("endpoint " + endpoint.uri() + " (" + name + "): " + e.getMessage(), e);
            }
        }
        return SuspectScores.of("endpoint " + endpoint.uri() + " (" + name + ")", s.scores(), s.n(), s.classes(),
                declared);
    }

    private static MarkProbeSet opened(Path logDir, Path probeDir, OwnerKey key) {
        MarkProbeSet set = MarkProbeSet.open(probeDir, key);
        set.checkAgainst(logDir, key);
        return set;
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
