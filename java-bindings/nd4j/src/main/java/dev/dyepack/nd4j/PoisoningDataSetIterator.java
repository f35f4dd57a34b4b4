package dev.dyepack.nd4j;

import dev.dyepack.DType;
import dev.dyepack.Engine;
import dev.dyepack.InvalidArgumentException;
import dev.dyepack.InvalidInputException;
import dev.dyepack.Layout;
import dev.dyepack.Tensor;
import dev.dyepack.job.PoisonPlan;
import dev.dyepack.job.Poisoner;
import dev.dyepack.key.OwnerKey;
import dev.dyepack.manifest.ArrayFingerprint;
import dev.dyepack.trigger.DataKind;
import dev.dyepack.manifest.Manifest;
import dev.dyepack.manifest.ManifestWriter;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Objects;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.dataset.DataSet;
import org.nd4j.linalg.dataset.api.DataSetPreProcessor;
import org.nd4j.linalg.dataset.api.iterator.DataSetIterator;

/**
 * Wraps any {@link DataSetIterator} and poisons its batches on the fly, as a training loop consumes
 * them, with a {@link Poisoner}'s options: the same samples get the same trigger bytes and labels as
 * poisoning the whole array at once ({@link Poisoner#poison}), because samples are named by their
 * global index (their position in an epoch) and the trigger's keyed randomness follows it.
 *
 * <pre>{@code
 * DataSetIterator train = PoisoningDataSetIterator.builder(base, engine, poisoner, key)
 *         .images(Layout.NCHW, 1, 28, 28).manifest(Path.of("manifest.json")).build();
 * network.fit(train, epochs);
 * }</pre>
 *
 * <p>{@link Builder#build()} makes one planning pass over the wrapped iterator: it reads every
 * label (the argmax of one-hot rows, or a single column of class indices), plans the selection,
 * fingerprints the clean and the poisoned epoch, writes the signed manifest (whole or not at all)
 * before training starts, and resets the iterator. The manifest records the features as the
 * {@code .npy} array of shape (N, feature dims...) and dtype of the batches, and the labels as int64 class
 * indices of shape (N), under the paths {@code in-memory:data} and {@code in-memory:labels}.
 *
 * <p>Every later epoch must give the same batches: the same sizes, and the same samples in the same order
 * (checked by a SHA-256 of each clean batch against the planning pass) — a batch that differs raises
 * {@link EpochMismatchException} before anything is stamped. So the wrapped iterator must not shuffle
 * between epochs. Dirty-label poisoning sets a poisoned sample's one-hot row to the target.
 *
 * <p>Thread-safe: DL4J's {@code AsyncDataSetIterator} calls {@link #next()} on its prefetch thread and
 * {@link #reset()} on the caller's after stopping that thread; every method is synchronized and the
 * position is advanced only by a batch that was delivered. The wrapped iterator's arrays are never
 * changed: each batch is stamped in a copy. A pre-processor set on this iterator runs after
 * stamping; one set on the wrapped iterator runs before (it is part of the data the plan fingerprints).
 */
public final class PoisoningDataSetIterator implements DataSetIterator {
    private static final long serialVersionUID = 1L;

    private final transient DataSetIterator base;
    private final transient Engine engine;
    private final transient PoisonPlan plan;
    private final transient Geometry geometry;
    private final int[] batchSizes;
    private final byte[][] batchDigests;
    private final transient Manifest manifest;
    private transient DataSetPreProcessor preProcessor;
    private int batchIndex;
    private long position;

    /** How each batch's features are viewed by the engine. */
    private record Geometry(Layout layout, long c, long h, long w, boolean flat) {}

    private PoisoningDataSetIterator(Builder b, PoisonPlan plan, Geometry g, int[] sizes, byte[][] digests,
            Manifest manifest) {
        this.base = b.base;
        this.engine = b.engine;
        this.plan = plan;
        this.geometry = g;
        this.batchSizes = sizes;
        this.batchDigests = digests;
        this.manifest = manifest;
    }

    /**
     * Starts wrapping an iterator.
     *
     * @param base     the iterator to poison; it must give the same batches every epoch and support reset
     * @param engine   the engine that stamps (kept open by the caller while training)
     * @param poisoner the options (random selection, or the owner's features and head)
     * @param key      the owner's key
     * @return a builder
     * @throws NullPointerException if an argument is null
     */
    public static Builder builder(DataSetIterator base, Engine engine, Poisoner poisoner, OwnerKey key) {
        return new Builder(base, engine, poisoner, key);
    }

    /** Options of the wrapper; {@link #build()} plans. Not thread-safe. */
    public static final class Builder {
        private final DataSetIterator base;
        private final Engine engine;
        private final Poisoner poisoner;
        private final OwnerKey key;
        private Geometry geometry;
        private Path manifestFile;

        private Builder(DataSetIterator base, Engine engine, Poisoner poisoner, OwnerKey key) {
            this.base = Objects.requireNonNull(base, "base");
            this.engine = Objects.requireNonNull(engine, "engine");
            this.poisoner = Objects.requireNonNull(poisoner, "poisoner");
            this.key = key;
        }

        /**
         * Features are rows of flattened images, (B, C*H*W), as DL4J's MNIST iterators give them.
         *
         * @param layout how each row is ordered
         * @param c      channels
         * @param h      height
         * @param w      width
         * @return this
         */
        public Builder images(Layout layout, long c, long h, long w) {
            geometry = new Geometry(Objects.requireNonNull(layout, "layout"), c, h, w, true);
            return this;
        }

        /**
         * Features are rank-4 image batches in this layout (without this call: NCHW, DL4J's; rank 3 is
         * (B, H, W); rank 2 is feature rows or sequences).
         *
         * @param rank4 NCHW or NHWC
         * @return this
         */
        public Builder layout(Layout rank4) {
            geometry = new Geometry(Objects.requireNonNull(rank4, "rank4"), 0, 0, 0, false);
            return this;
        }

        /**
         * @param file where the signed manifest is written when the plan is made, or null for none
         *             (then take it from {@link PoisoningDataSetIterator#manifest()})
         * @return this
         */
        public Builder manifest(Path file) {
            manifestFile = file;
            return this;
        }

        /**
         * Plans: reads one epoch of the wrapped iterator, selects, fingerprints, writes the manifest and
         * resets the wrapped iterator.
         *
         * @return the poisoning iterator
         * @throws InvalidArgumentException if the key is missing, the options need a linear surrogate, the
         *                                  wrapped iterator cannot reset, or the budget cannot be met
         * @throws InvalidInputException    if the batches are not usable (dtype, layout, labels not one-hot)
         * @throws UncheckedIOException     if the manifest cannot be written
         */
        public PoisoningDataSetIterator build() {
            if (!base.resetSupported()) {
                throw new InvalidArgumentException("on-the-fly poisoning names samples by their position in an epoch, "
                        + "so the wrapped iterator must support reset()", "base", base.getClass().getSimpleName(),
                        "an iterator with resetSupported()");
            }
            Geometry g = geometry == null ? new Geometry(Layout.NCHW, 0, 0, 0, false) : geometry;
            base.reset();
            List<long[]> labelBatches = new ArrayList<>();
            List<Integer> sizes = new ArrayList<>();
            List<byte[]> digests = new ArrayList<>();
            long n = 0;
            long[] sampleShape = null;
            String descr = null;
            Tensor first = null;
            // Pass 1: labels, batch sizes and digests (the plan needs every label before any stamping).
            while (base.hasNext()) {
                DataSet ds = base.next();
                INDArray x = ds.getFeatures();
                long[] y = classes(ds.getLabels(), sizes.size());
                long[] shape = x.shape();
                long[] rest = Arrays.copyOfRange(shape, 1, shape.length);
                INDArray dense = x.dup('c');
                if (sampleShape == null) {
                    if (!g.flat() && shape.length == 2 && poisoner.trigger().kind() == DataKind.IMAGES) {
                        throw new InvalidArgumentException("the features are rows " + Arrays.toString(shape)
                                + " and the trigger stamps images; give their geometry with images(layout, c, h, w)",
                                "geometry", Arrays.toString(shape), "images(layout, c, h, w) for flattened images");
                    }
                    sampleShape = rest;
                    descr = descr(Nd4jTensors.dtypeOf(x));
                    first = view(dense, g);
                } else if (!Arrays.equals(sampleShape, rest)) {
                    throw new InvalidInputException("batch " + sizes.size() + " has samples of shape "
                            + Arrays.toString(rest) + " but the first batch " + Arrays.toString(sampleShape));
                }
                labelBatches.add(y);
                sizes.add((int) shape[0]);
                digests.add(digest(dense, y));
                n += shape[0];
            }
            if (n == 0) {
                throw new InvalidInputException("the wrapped iterator gave no samples");
            }
            long[] labels = new long[Math.toIntExact(n)];
            int at = 0;
            for (long[] y : labelBatches) {
                System.arraycopy(y, 0, labels, at, y.length);
                at += y.length;
            }
            PoisonPlan plan = poisoner.planFromLabels(engine, labels,
                    Tensor.empty(first.dtype(), first.layout(), first.c(), first.h(), first.w()), key);

            // Pass 2: the clean and the poisoned epoch's fingerprints, stamping copies of the batches.
            long[] fullShape = new long[sampleShape.length + 1];
            fullShape[0] = n;
            System.arraycopy(sampleShape, 0, fullShape, 1, sampleShape.length);
            ArrayFingerprint inData = ArrayFingerprint.start(descr, fullShape);
            ArrayFingerprint outData = ArrayFingerprint.start(descr, fullShape);
            base.reset();
            long pos = 0;
            for (int b = 0; b < sizes.size(); b++) {
                if (!base.hasNext()) {
                    throw new EpochMismatchException("the wrapped iterator gave fewer batches after reset()");
                }
                DataSet ds = base.next();
                INDArray x = ds.getFeatures().dup('c');
                if (x.size(0) != sizes.get(b) || !MessageDigest.isEqual(digest(x, classes(ds.getLabels(), b)),
                        digests.get(b))) {
                    throw new EpochMismatchException("batch " + b + " differs after reset(); the wrapped iterator "
                            + "must give the same batches every epoch (no shuffling)");
                }
                inData.update(Nd4jTensors.littleEndianBytes(x));
                plan.stamp(engine, view(x, g), pos);
                outData.update(Nd4jTensors.littleEndianBytes(x));
                pos += x.size(0);
            }
            long[] relabelled = labels.clone();
            for (int i = 0; i < relabelled.length; i++) {
                relabelled[i] = plan.labelOf(i, labels[i]);
            }
            Manifest m = plan.manifest(inData.finish(), labelsSha(labels), outData.finish(), labelsSha(relabelled));
            if (manifestFile != null) {
                try {
                    ManifestWriter.write(m, manifestFile);
                } catch (IOException e) {
                    throw new UncheckedIOException("cannot write the manifest " + manifestFile + ": " + e.getMessage(),
                            e);
                }
            }
            base.reset();
            return new PoisoningDataSetIterator(this, plan, g, sizes.stream().mapToInt(Integer::intValue).toArray(),
                    digests.toArray(new byte[0][]), m);
        }
    }

    /** @return the plan: the poisoned samples' global indices and their labels */
    public PoisonPlan plan() {
        return plan;
    }

    /** @return the signed manifest of the poisoning */
    public Manifest manifest() {
        return manifest;
    }

    @Override
    public synchronized boolean hasNext() {
        boolean more = base.hasNext();
        if (!more && batchIndex > 0 && batchIndex < batchSizes.length) {
            throw new EpochMismatchException("the wrapped iterator ended this epoch after " + batchIndex + " batches ("
                    + position + " samples) but the poisoning was planned on " + batchSizes.length + " batches ("
                    + plan.samples() + " samples)");
        }
        return more;
    }

    @Override
    public synchronized DataSet next() {
        DataSet ds = base.next();
        if (batchIndex >= batchSizes.length) {
            throw new EpochMismatchException("the wrapped iterator gave batch " + batchIndex + " but the poisoning was "
                    + "planned on " + batchSizes.length + " batches per epoch (" + plan.samples() + " samples)");
        }
        INDArray x = ds.getFeatures();
        int count = (int) x.size(0);
        if (count != batchSizes[batchIndex]) {
            throw new EpochMismatchException("batch " + batchIndex + " has " + count + " samples but had "
                    + batchSizes[batchIndex] + " when the poisoning was planned; the wrapped iterator must give the same "
                    + "batches every epoch");
        }
        long[] y = classes(ds.getLabels(), batchIndex);
        // Always a copy: iterators that hand out the same DataSet objects every epoch (in-memory caches,
        // ExistingDataSetIterator) must not see their data stamped.
        INDArray dense = x.dup('c');
        if (!MessageDigest.isEqual(digest(dense, y), batchDigests[batchIndex])) {
            throw new EpochMismatchException("batch " + batchIndex + " (samples " + position + " to "
                    + (position + count - 1) + ") holds other samples or another order than when the poisoning was "
                    + "planned; the wrapped iterator must not shuffle between epochs");
        }
        plan.stamp(engine, view(dense, geometry), position);
        Nd4jEngine.written(dense);
        INDArray labels = ds.getLabels();
        long[] local = plan.poisonedIn(position, count);
        if (local.length > 0 && plan.poisoner().mode() == dev.dyepack.select.SelectionMode.DIRTY) {
            INDArray l = labels.dup('c');
            int target = plan.poisoner().target();
            for (long i : local) {
                if (l.size(1) == 1) {
                    l.putScalar(i, 0, target);
                } else {
                    for (long c = 0; c < l.size(1); c++) {
                        l.putScalar(i, c, c == target ? 1.0 : 0.0);
                    }
                }
            }
            labels = l;
        }
        // A new DataSet: the wrapped iterator's own object (which a cache hands out again next epoch)
        // keeps its clean features and labels.
        DataSet out = new DataSet(dense, labels, ds.getFeaturesMaskArray(), ds.getLabelsMaskArray());
        position += count;
        batchIndex++;
        if (preProcessor != null) {
            preProcessor.preProcess(out);
        }
        return out;
    }

    /**
     * Not supported: batches are fixed by the wrapped iterator, which the plan follows.
     *
     * @param num ignored
     * @return never
     * @throws UnsupportedOperationException always
     */
    @Override
    public DataSet next(int num) {
        throw new UnsupportedOperationException("on-the-fly poisoning follows the wrapped iterator's batches; call "
                + "next()");
    }

    @Override
    public synchronized void reset() {
        base.reset();
        batchIndex = 0;
        position = 0;
    }

    @Override
    public int inputColumns() {
        return base.inputColumns();
    }

    @Override
    public int totalOutcomes() {
        return base.totalOutcomes();
    }

    @Override
    public boolean resetSupported() {
        return true;
    }

    /**
     * False, so that {@code fit} does not wrap this iterator in DL4J's prefetching iterator: in DL4J
     * 1.0.0-M2.1 an exception thrown on that prefetch thread (such as {@link EpochMismatchException})
     * leaves {@code fit} waiting forever instead of failing (observed while building the example).
     * Wrapping it in {@code AsyncDataSetIterator} by hand is correct (tested); only errors then hang.
     *
     * @return false
     */
    @Override
    public boolean asyncSupported() {
        return false;
    }

    @Override
    public int batch() {
        return base.batch();
    }

    @Override
    public synchronized void setPreProcessor(DataSetPreProcessor preProcessor) {
        this.preProcessor = preProcessor;
    }

    @Override
    public synchronized DataSetPreProcessor getPreProcessor() {
        return preProcessor;
    }

    @Override
    public List<String> getLabels() {
        return base.getLabels();
    }

    private static Tensor view(INDArray x, Geometry g) {
        return g.flat() ? Nd4jTensors.images(x, g.layout(), g.c(), g.h(), g.w()) : Nd4jTensors.of(x, g.layout());
    }

    /** The class index of every row: argmax of one-hot rows, or a single column of indices. */
    private static long[] classes(INDArray labels, int batch) {
        if (labels == null || labels.rank() != 2) {
            throw new InvalidInputException("batch " + batch + ": labels must be (B, classes) one-hot rows or (B, 1) "
                    + "class indices, got " + (labels == null ? "none" : Arrays.toString(labels.shape())));
        }
        long rows = labels.size(0);
        long cols = labels.size(1);
        long[] out = new long[Math.toIntExact(rows)];
        for (int i = 0; i < rows; i++) {
            if (cols == 1) {
                double v = labels.getDouble(i, 0);
                if (v < 0 || v != Math.rint(v)) {
                    throw new InvalidInputException("batch " + batch + ": label " + v + " of row " + i
                            + " is not a class index");
                }
                out[i] = (long) v;
                continue;
            }
            int hot = -1;
            for (int c = 0; c < cols; c++) {
                double v = labels.getDouble(i, c);
                if (v == 1.0 && hot < 0) {
                    hot = c;
                } else if (v != 0.0) {
                    throw new InvalidInputException("batch " + batch + ": row " + i + " of the labels is not one-hot "
                            + "(soft or multi-label targets cannot be relabelled to one class)");
                }
            }
            if (hot < 0) {
                throw new InvalidInputException("batch " + batch + ": row " + i + " of the labels has no class set");
            }
            out[i] = hot;
        }
        return out;
    }

    private static byte[] digest(INDArray dense, long[] labels) {
        try {
            MessageDigest md = MessageDigest.getInstance("SHA-256");
            md.update(Nd4jTensors.littleEndianBytes(dense));
            ByteBuffer b = ByteBuffer.allocate(labels.length * 8).order(ByteOrder.LITTLE_ENDIAN);
            b.asLongBuffer().put(labels);
            md.update(b);
            return md.digest();
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("SHA-256 is missing from this Java runtime", e);
        }
    }

    private static String labelsSha(long[] labels) {
        ByteBuffer b = ByteBuffer.allocate(labels.length * 8).order(ByteOrder.LITTLE_ENDIAN);
        b.asLongBuffer().put(labels);
        return ArrayFingerprint.start("<i8", labels.length).update(b).finish();
    }

    private static String descr(DType d) {
        return switch (d) {
            case UINT8 -> "|u1";
            case FLOAT32 -> "<f4";
            case INT32 -> "<i4";
        };
    }
}
