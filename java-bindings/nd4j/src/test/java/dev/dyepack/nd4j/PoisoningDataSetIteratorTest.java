package dev.dyepack.nd4j;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.dyepack.Engine;
import dev.dyepack.InvalidArgumentException;
import dev.dyepack.Layout;
import dev.dyepack.io.EmbeddedSample;
import dev.dyepack.job.LabelArray;
import dev.dyepack.job.Poisoner;
import dev.dyepack.job.SampleArray;
import dev.dyepack.key.OwnerKey;
import dev.dyepack.manifest.Manifest;
import dev.dyepack.manifest.ManifestReader;
import dev.dyepack.manifest.ManifestSigner;
import dev.dyepack.select.Budget;
import dev.dyepack.select.SelectionMode;
import dev.dyepack.select.Strategy;
import dev.dyepack.trigger.TriggerSpec;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.List;
import org.deeplearning4j.datasets.iterator.AsyncDataSetIterator;
import org.deeplearning4j.datasets.iterator.utilty.ListDataSetIterator;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.dataset.DataSet;
import org.nd4j.linalg.dataset.api.DataSetPreProcessor;
import org.nd4j.linalg.dataset.api.iterator.DataSetIterator;
import org.nd4j.linalg.factory.Nd4j;

/**
 * On-the-fly poisoning of the embedded Fashion-MNIST sample through DL4J's iterators, against
 * {@link Poisoner} on the whole array at once.
 */
@SuppressWarnings("deprecation") // DL4J M2.1 marks AsyncDataSetIterator deprecated, yet fit() uses it
class PoisoningDataSetIteratorTest {
    private static final OwnerKey KEY = new OwnerKey("iterator test key: 32 random bytes!!".getBytes(StandardCharsets.UTF_8));
    private static final int N = EmbeddedSample.SAMPLES;
    private static float[] pixels;
    private static byte[] labels;
    private static Engine engine;

    @TempDir
    Path dir;

    @BeforeAll
    static void load() throws IOException {
        engine = Engine.open();
        byte[] u8 = payload(EmbeddedSample.openImages());
        labels = payload(EmbeddedSample.openLabels());
        pixels = new float[u8.length];
        for (int i = 0; i < u8.length; i++) {
            pixels[i] = (u8[i] & 0xff) / 255f;
        }
    }

    @AfterAll
    static void close() {
        engine.close();
    }

    private static byte[] payload(InputStream in) throws IOException {
        try (in) {
            byte[] all = in.readAllBytes();
            int headerLen = (all[8] & 0xff) | (all[9] & 0xff) << 8;
            return Arrays.copyOfRange(all, 10 + headerLen, all.length);
        }
    }

    /** The sample as DL4J's MNIST iterators give it: float rows (N, 784) in [0, 1], one-hot labels. */
    private static List<DataSet> examples() {
        INDArray x = Nd4j.createFromArray(pixels).reshape('c', N, 784);
        INDArray y = Nd4j.zeros(DataType.FLOAT, N, 10);
        for (int i = 0; i < N; i++) {
            y.putScalar(i, labels[i], 1.0);
        }
        return new DataSet(x, y).asList();
    }

    private static Poisoner poisoner(SelectionMode mode) {
        return Poisoner.builder().trigger(TriggerSpec.parse("patch:size=4,pos=random,pattern=checker,value=1"))
                .target(mode == SelectionMode.DIRTY ? 0 : 7).budget(Budget.parse("0.03")).mode(mode)
                .strategy(Strategy.RANDOM).build();
    }

    /** One epoch of an iterator, features (N, 784) and class indices, in order. */
    private static float[] epoch(DataSetIterator it, long[] classesOut) {
        float[] x = new float[N * 784];
        int at = 0;
        while (it.hasNext()) {
            DataSet ds = it.next();
            float[] f = ds.getFeatures().dup('c').data().asFloat();
            INDArray y = ds.getLabels();
            for (int i = 0; i < y.size(0); i++) {
                classesOut[at / 784 + i] = y.getRow(i).argMax().getLong(0);
            }
            System.arraycopy(f, 0, x, at, f.length);
            at += f.length;
        }
        assertEquals(N * 784, at, "one whole epoch");
        return x;
    }

    @Test
    void dirtyAndCleanLabelOnTheFlyUnderAsyncPrefetchGiveTheBytesOfPoisoningTheWholeArray() throws IOException {
        for (SelectionMode mode : SelectionMode.values()) {
            Path manifestFile = dir.resolve(mode + "-manifest.json");
            PoisoningDataSetIterator poisoning = PoisoningDataSetIterator
                    .builder(new ListDataSetIterator<>(examples(), 64), engine, poisoner(mode), KEY)
                    .images(Layout.NHWC, 1, 28, 28).manifest(manifestFile).build();

            float[] whole = pixels.clone();
            byte[] wholeLabels = labels.clone();
            Poisoner.Result r = poisoner(mode).poison(engine, SampleArray.float32(whole, N, 784)
                    .asImages(Layout.NHWC, 1, 28, 28), LabelArray.uint8(wholeLabels), KEY);
            assertArrayEquals(r.indices(), poisoning.plan().indices());

            // Two epochs through DL4J's prefetching wrapper, as MultiLayerNetwork.fit uses it.
            AsyncDataSetIterator async = new AsyncDataSetIterator(poisoning, 3);
            for (int e = 0; e < 2; e++) {
                long[] y = new long[N];
                float[] x = epoch(async, y);
                assertArrayEquals(whole, x, mode + " epoch " + e + ": the same bytes as poisoning the whole array");
                for (int i = 0; i < N; i++) {
                    assertEquals(wholeLabels[i] & 0xff, y[i], mode + " label of sample " + i);
                }
                async.reset();
            }
            async.shutdown();

            Manifest m = ManifestReader.read(manifestFile);
            assertTrue(ManifestSigner.verify(m, KEY).ok(), ManifestSigner.verify(m, KEY).toString());
            assertArrayEquals(r.indices(), m.indices());
            // Same poisoned features as the whole-array poisoning, fingerprinted as the same (N, 784) float32.
            assertEquals(sha(r.manifest(), "output.data"), sha(m, "output.data"));
            assertEquals(sha(r.manifest(), "input.data"), sha(m, "input.data"));
        }
    }

    private static String sha(Manifest m, String key) {
        return m.files().stream().filter(f -> f.key().equals(key)).findFirst().orElseThrow().sha256();
    }

    /** Batches of a list the test can change between epochs (shuffle, shrink) at reset. */
    private static final class Changing implements DataSetIterator {
        private static final long serialVersionUID = 1L;
        final List<DataSet> list;
        private final int batch;
        private int at;
        transient Runnable onReset = () -> { };

        Changing(List<DataSet> list, int batch) {
            this.list = list;
            this.batch = batch;
        }

        @Override
        public boolean hasNext() {
            return at < list.size();
        }

        @Override
        public DataSet next() {
            List<DataSet> part = list.subList(at, Math.min(list.size(), at + batch));
            at += part.size();
            return DataSet.merge(part);
        }

        @Override
        public DataSet next(int num) {
            throw new UnsupportedOperationException();
        }

        @Override
        public void reset() {
            onReset.run();
            at = 0;
        }

        void shuffle() {
            Collections.reverse(list);
        }

        @Override
        public int inputColumns() {
            return 784;
        }

        @Override
        public int totalOutcomes() {
            return 10;
        }

        @Override
        public boolean resetSupported() {
            return true;
        }

        @Override
        public boolean asyncSupported() {
            return false;
        }

        @Override
        public int batch() {
            return batch;
        }

        @Override
        public void setPreProcessor(DataSetPreProcessor p) {
            throw new UnsupportedOperationException();
        }

        @Override
        public DataSetPreProcessor getPreProcessor() {
            return null;
        }

        @Override
        public List<String> getLabels() {
            return null;
        }
    }

    @Test
    void anEpochInAnotherOrderOrWithOtherBatchesIsRefusedBeforeStamping() {
        List<DataSet> list = new ArrayList<>(examples());
        Changing base = new Changing(list, 100);
        PoisoningDataSetIterator it = PoisoningDataSetIterator.builder(base, engine, poisoner(SelectionMode.DIRTY), KEY)
                .images(Layout.NCHW, 1, 28, 28).build();
        it.next();
        base.onReset = base::shuffle;
        it.reset();
        EpochMismatchException e = assertThrows(EpochMismatchException.class, it::next);
        assertTrue(e.getMessage().contains("must not shuffle"), e.getMessage());

        // The same data with the last 50 samples gone: the last batch is smaller than planned.
        Changing shrinking = new Changing(new ArrayList<>(examples()), 100);
        PoisoningDataSetIterator w = PoisoningDataSetIterator.builder(shrinking, engine,
                poisoner(SelectionMode.DIRTY), KEY).images(Layout.NCHW, 1, 28, 28).build();
        shrinking.onReset = () -> shrinking.list.subList(950, 1000).clear();
        w.reset();
        e = assertThrows(EpochMismatchException.class, () -> {
            while (w.hasNext()) {
                w.next();
            }
        });
        assertTrue(e.getMessage().contains("has 50 samples but had 100"), e.getMessage());
    }

    @Test
    void badOptionsAndBadBatchesAreTypedErrors() {
        Poisoner boundary = Poisoner.builder().trigger(TriggerSpec.parse("patch:size=3")).target(0).build();
        InvalidArgumentException e = assertThrows(InvalidArgumentException.class, () -> PoisoningDataSetIterator
                .builder(new ListDataSetIterator<>(examples(), 100), engine, boundary, KEY)
                .images(Layout.NCHW, 1, 28, 28).build());
        assertTrue(e.getMessage().contains("Strategy.RANDOM"), e.getMessage());
        e = assertThrows(InvalidArgumentException.class, () -> PoisoningDataSetIterator
                .builder(new ListDataSetIterator<>(examples(), 100), engine, poisoner(SelectionMode.DIRTY), KEY)
                .build());
        assertTrue(e.getMessage().contains("images("), e.getMessage());
        DataSetPreProcessor after = ds -> ds.getFeatures().muli(2);
        PoisoningDataSetIterator it = PoisoningDataSetIterator
                .builder(new ListDataSetIterator<>(examples(), 100), engine, poisoner(SelectionMode.DIRTY), KEY)
                .images(Layout.NCHW, 1, 28, 28).build();
        it.setPreProcessor(after);
        float max = it.next().getFeatures().maxNumber().floatValue();
        assertTrue(max > 1.5f, "this iterator's pre-processor runs after stamping: " + max);
    }
}
