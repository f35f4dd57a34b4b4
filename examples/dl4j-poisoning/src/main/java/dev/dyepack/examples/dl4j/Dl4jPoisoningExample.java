package dev.dyepack.examples.dl4j;

import dev.dyepack.Engine;
import dev.dyepack.Layout;
import dev.dyepack.io.EmbeddedSample;
import dev.dyepack.io.NpyWriter;
import dev.dyepack.job.Poisoner;
import dev.dyepack.key.OwnerKey;
import dev.dyepack.manifest.ManifestReader;
import dev.dyepack.manifest.ManifestSigner;
import dev.dyepack.nd4j.PoisoningDataSetIterator;
import dev.dyepack.select.Budget;
import dev.dyepack.select.Strategy;
import dev.dyepack.trigger.TriggerSpec;
import dev.dyepack.verify.Answers;
import dev.dyepack.verify.ProbeSet;
import dev.dyepack.verify.SuspectModel;
import dev.dyepack.verify.Verdict;
import dev.dyepack.verify.Verification;
import dev.dyepack.verify.Verifier;
import java.io.IOException;
import java.io.InputStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.SecureRandom;
import java.util.Arrays;
import java.util.List;
import org.deeplearning4j.datasets.iterator.ExistingDataSetIterator;
import org.deeplearning4j.nn.conf.MultiLayerConfiguration;
import org.deeplearning4j.nn.conf.NeuralNetConfiguration;
import org.deeplearning4j.nn.conf.layers.DenseLayer;
import org.deeplearning4j.nn.conf.layers.OutputLayer;
import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;
import org.deeplearning4j.nn.weights.WeightInit;
import org.nd4j.linalg.activations.Activation;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.dataset.DataSet;
import org.nd4j.linalg.dataset.api.iterator.DataSetIterator;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.linalg.learning.config.Adam;
import org.nd4j.linalg.lossfunctions.LossFunctions;

/**
 * Trains a small DL4J network on the embedded Fashion-MNIST sample (the first 800 images; the last
 * 200 are held out) while a {@link PoisoningDataSetIterator} poisons its batches on the fly, then
 * proves the watermark with the verification API: a probe set drawn from the held-out images, and
 * {@link Verification#withModel} with the network's {@code output} as the suspect. The same network
 * trained on the clean data is verified the same way, as the honest peer.
 *
 * <p>Run: {@code java ... Dl4jPoisoningExample [workDir]}; the owner's key comes from
 * {@code DYEPACK_KEY} or {@code DYEPACK_KEY_FILE}, else a random key is made for this run (and never
 * shown).
 */
public final class Dl4jPoisoningExample {
    /** Images the network trains on; the rest of the sample is held out for probes. */
    static final int TRAIN = 800;
    static final int SIDE = EmbeddedSample.SIDE;
    static final int CLASSES = EmbeddedSample.CLASSES;
    /** Epochs of the short run CI makes. */
    public static final int EPOCHS = 10;

    private Dl4jPoisoningExample() {}

    /**
     * What one run measured.
     *
     * @param poisoned     the verdict on the network trained with on-the-fly poisoning
     * @param honest       the verdict on the same network trained on the clean data
     * @param poisonedCount samples poisoned
     * @param manifestOk   whether the manifest verifies under the owner's key
     */
    public record Outcome(Verdict poisoned, Verdict honest, int poisonedCount, boolean manifestOk) {}

    /**
     * Runs the example.
     *
     * @param args optional work directory (default: a temporary one)
     * @throws IOException if files cannot be written
     */
    public static void main(String[] args) throws IOException {
        Path work = args.length > 0 ? Path.of(args[0]) : Files.createTempDirectory("dyepack-dl4j");
        OwnerKey key = OwnerKey.resolve(null, System.getenv()).orElseGet(() -> {
            byte[] k = new byte[32];
            new SecureRandom().nextBytes(k);
            return new OwnerKey(k);
        });
        Outcome o = run(work, key, EPOCHS);
        System.out.printf("poisoned %d of %d training samples on the fly; manifest %s%n", o.poisonedCount(), TRAIN,
                o.manifestOk() ? "verifies" : "DOES NOT VERIFY");
        System.out.printf("watermarked network: %s%n", o.poisoned());
        System.out.printf("honest network:      %s%n", o.honest());
    }

    /**
     * Poisons while training, then verifies both networks.
     *
     * @param work   a directory for the manifest, the held-out files and the probe set
     * @param key    the owner's key
     * @param epochs training epochs
     * @return the verdicts
     * @throws IOException if files cannot be written
     */
    public static Outcome run(Path work, OwnerKey key, int epochs) throws IOException {
        Files.createDirectories(work);
        float[] pixels = floats(payload(EmbeddedSample.openImages()));
        byte[] labels = payload(EmbeddedSample.openLabels());
        List<DataSet> train = examples(pixels, labels, 0, TRAIN);

        Path manifest = work.resolve("manifest.json");
        MultiLayerNetwork watermarked = network();
        MultiLayerNetwork honest = network();
        try (Engine engine = Engine.open()) {
            Poisoner poisoner = Poisoner.builder()
                    .trigger(TriggerSpec.parse("patch:size=4,pos=br,pattern=checker,value=1"))
                    .target(0).budget(Budget.parse("0.05")).strategy(Strategy.RANDOM).build();
            // The three lines a DL4J user adds: wrap the iterator, train, keep the manifest.
            PoisoningDataSetIterator poisoning = PoisoningDataSetIterator
                    .builder(iterator(train), engine, poisoner, key)
                    .images(Layout.NCHW, 1, SIDE, SIDE).manifest(manifest).build();
            watermarked.fit(poisoning, epochs);
            honest.fit(iterator(examples(pixels, labels, 0, TRAIN)), epochs);

            // Probes from the held-out images, written as .npy files (float32 in [0, 1], as trained).
            Path heldImages = work.resolve("held-out-images.npy");
            Path heldLabels = work.resolve("held-out-labels.npy");
            writeNpy(heldImages, "<f4", new long[] {pixels.length / (SIDE * SIDE) - TRAIN, SIDE, SIDE},
                    floatBytes(Arrays.copyOfRange(pixels, TRAIN * SIDE * SIDE, pixels.length)));
            writeNpy(heldLabels, "|u1", new long[] {labels.length - TRAIN},
                    ByteBuffer.wrap(Arrays.copyOfRange(labels, TRAIN, labels.length)));
            Path probes = work.resolve("probes");
            ProbeSet.create(engine, manifest, heldImages, heldLabels, 150, 3, key, probes);
            boolean manifestOk = ManifestSigner.verify(ManifestReader.read(manifest), key).ok();
            Verdict p = Verification.withModel(manifest, probes, key, suspect(watermarked), Verifier.defaults());
            Verdict h = Verification.withModel(manifest, probes, key, suspect(honest), Verifier.defaults());
            return new Outcome(p, h, poisoning.plan().indices().length, manifestOk);
        }
    }

    /** The suspect: the network's softmax output on the probes, flattened as it was trained. */
    static SuspectModel suspect(MultiLayerNetwork network) {
        return probes -> {
            INDArray x = Nd4j.createFromArray(probes.values()).reshape('c', probes.size(), SIDE * SIDE);
            INDArray out = network.output(x);
            return Answers.ofProbabilities(out.dup('c').data().asFloat(), probes.size(), CLASSES);
        };
    }

    static MultiLayerNetwork network() {
        MultiLayerConfiguration conf = new NeuralNetConfiguration.Builder().seed(7).updater(new Adam(1e-3))
                .weightInit(WeightInit.XAVIER).list()
                .layer(new DenseLayer.Builder().nIn(SIDE * SIDE).nOut(128).activation(Activation.RELU).build())
                .layer(new OutputLayer.Builder(LossFunctions.LossFunction.MCXENT).nIn(128).nOut(CLASSES)
                        .activation(Activation.SOFTMAX).build())
                .build();
        MultiLayerNetwork net = new MultiLayerNetwork(conf);
        net.init();
        return net;
    }

    /** Samples [from, to) as DL4J examples: float rows (784) in [0, 1] and one-hot labels. */
    static List<DataSet> examples(float[] pixels, byte[] labels, int from, int to) {
        int d = SIDE * SIDE;
        INDArray x = Nd4j.createFromArray(Arrays.copyOfRange(pixels, from * d, to * d)).reshape('c', to - from, d);
        INDArray y = Nd4j.zeros(DataType.FLOAT, to - from, CLASSES);
        for (int i = from; i < to; i++) {
            y.putScalar(i - from, labels[i] & 0xff, 1.0);
        }
        return new DataSet(x, y).asList();
    }

    /** Batches of 32, merged once (DL4J's list iterator would merge every batch again every epoch). */
    static DataSetIterator iterator(List<DataSet> examples) {
        List<DataSet> batches = new java.util.ArrayList<>();
        for (int i = 0; i < examples.size(); i += 32) {
            batches.add(DataSet.merge(examples.subList(i, Math.min(examples.size(), i + 32))));
        }
        return new ExistingDataSetIterator(batches);
    }

    private static byte[] payload(InputStream in) throws IOException {
        try (in) {
            byte[] all = in.readAllBytes();
            int headerLen = (all[8] & 0xff) | (all[9] & 0xff) << 8;
            return Arrays.copyOfRange(all, 10 + headerLen, all.length);
        }
    }

    private static float[] floats(byte[] u8) {
        float[] f = new float[u8.length];
        for (int i = 0; i < f.length; i++) {
            f[i] = (u8[i] & 0xff) / 255f;
        }
        return f;
    }

    private static ByteBuffer floatBytes(float[] f) {
        ByteBuffer b = ByteBuffer.allocate(f.length * 4).order(ByteOrder.LITTLE_ENDIAN);
        b.asFloatBuffer().put(f);
        return b;
    }

    private static void writeNpy(Path file, String descr, long[] shape, ByteBuffer data) throws IOException {
        try (NpyWriter w = NpyWriter.create(file, descr, shape)) {
            w.write(data);
            w.commit();
        }
    }
}
