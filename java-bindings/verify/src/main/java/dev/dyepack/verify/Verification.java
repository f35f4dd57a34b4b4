package dev.dyepack.verify;

import dev.dyepack.InvalidInputException;
import dev.dyepack.io.Samples;
import dev.dyepack.key.OwnerKey;
import dev.dyepack.manifest.UntrustedRecordException;
import dev.dyepack.verify.endpoint.EndpointSettings;
import dev.dyepack.verify.endpoint.EndpointSuspect;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Function;

/**
 * Verification of a suspect against a probe set: the manifest's and the probe set's signatures and
 * files are checked first, then the suspect's answers on every probe file, then the test
 * ({@link Verifier}).
 */
public final class Verification {
    private Verification() {}

    /**
     * From prediction files: for each probe set X ({@code clean}, {@code triggered}, {@code control-K}; the
     * file {@code X.npy}, {@code X-images-idx3-ubyte[.gz]} or the folder {@code X/}),
     * {@code predictions/X.npy} holds the suspect's answers in probe order, labels (N,) or probabilities (N, C).
     *
     * @param manifest    the poisoning's manifest
     * @param probeDir    the probe set
     * @param predictions the folder of answers
     * @param key         the owner's key
     * @param verifier    the test's settings
     * @return the verdict
     * @throws UntrustedRecordException if the manifest or the probe set does not verify
     * @throws InvalidInputException    if an answer file is missing or unusable
     */
    public static Verdict fromPredictions(Path manifest, Path probeDir, Path predictions, OwnerKey key,
            Verifier verifier) {
        ProbeSet set = ProbeSet.open(probeDir, manifest, key);
        return verify(set, name -> {
            Path file = predictions.resolve(name + ".npy");
            if (!Files.isRegularFile(file)) {
                throw new InvalidInputException(file + ": missing; the suspect's answers on the probe set " + name
                        + " (" + set.probeFile(name).getFileName() + ") must be saved as " + name + ".npy");
            }
            return Answers.read(file, set.labels().length, set.classes());
        }, verifier);
    }

    /**
     * With a model held in the JVM.
     *
     * @param manifest the poisoning's manifest
     * @param probeDir the probe set
     * @param key      the owner's key
     * @param model    the suspect
     * @param verifier the test's settings
     * @return the verdict
     * @throws UntrustedRecordException if the manifest or the probe set does not verify
     * @throws InvalidInputException    if the model's answers do not fit the probe set
     */
    public static Verdict withModel(Path manifest, Path probeDir, OwnerKey key, SuspectModel model,
            Verifier verifier) {
        return answering(ProbeSet.open(probeDir, manifest, key), model, verifier);
    }

    /**
     * With a prediction service reached over HTTP ({@link EndpointSuspect}): every probe file is sent in
     * batches as the settings say.
     *
     * @param manifest the poisoning's manifest
     * @param probeDir the probe set
     * @param key      the owner's key
     * @param endpoint the service and how to talk to it
     * @param verifier the test's settings
     * @return the verdict
     * @throws UntrustedRecordException if the manifest or the probe set does not verify
     * @throws InvalidInputException    if the service fails within its retries, answers an HTTP error, or
     *                                  answers anything but one valid answer per probe
     */
    public static Verdict fromEndpoint(Path manifest, Path probeDir, OwnerKey key, EndpointSettings endpoint,
            Verifier verifier) {
        ProbeSet set = ProbeSet.open(probeDir, manifest, key);
        return answering(set, new EndpointSuspect(endpoint, set.classes()), verifier);
    }

    /** A suspect's answers on each of a verified probe set's files, tested. */
    private static Verdict answering(ProbeSet set, SuspectModel model, Verifier verifier) {
        return verify(set, name -> model.answer(probes(set.probeFile(name), name)), verifier);
    }

    /**
     * Reads a probe file's samples as floats.
     *
     * @param file the probe file
     * @param name its name
     * @return the samples
     * @throws dev.dyepack.InvalidInputException if the file cannot be read
     */
    public static SuspectModel.Probes probes(Path file, String name) {
        try (Samples.Reader r = Samples.open(file)) {
            long[] shape = r.shape();
            boolean u8 = r.descr().endsWith("u1");
            int n = Math.toIntExact(shape[0]);
            ByteBuffer buf = ByteBuffer.allocate(Math.toIntExact(n * r.sampleBytes())).order(ByteOrder.LITTLE_ENDIAN);
            r.readSamples(0, n, buf);
            buf.flip();
            float[] v = new float[buf.remaining() / (u8 ? 1 : 4)];
            for (int i = 0; i < v.length; i++) {
                v[i] = u8 ? buf.get() & 0xff : buf.getFloat();
            }
            return new SuspectModel.Probes(name, shape, v);
        }
    }

    private static Verdict verify(ProbeSet set, Function<String, Answers> answers, Verifier verifier) {
        Answers clean = answers.apply("clean");
        Answers triggered = answers.apply("triggered");
        List<Verifier.Named> controls = new ArrayList<>();
        for (int k = 1; k <= set.controls(); k++) {
            controls.add(new Verifier.Named("control-" + k, answers.apply("control-" + k)));
        }
        return verifier.verify(set.target(), set.labels(), clean, triggered, controls, set.controlKeys());
    }
}
