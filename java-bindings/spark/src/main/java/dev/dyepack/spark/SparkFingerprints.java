package dev.dyepack.spark;

import dev.dyepack.InvalidInputException;
import dev.dyepack.manifest.ArrayFingerprint;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.Iterator;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.functions;

/**
 * The fingerprints a manifest records for a DataFrame of samples: the SHA-256 of the {@code .npy} files
 * that {@code dyepack convert} writes from it (pixels as uint8 (N, H, W) or (N, H, W, C), labels in the
 * dtype {@link SampleColumns#labelDescr} names), rows in id order. The rows travel to the driver one
 * partition at a time, so the driver holds one partition, not the data.
 */
public final class SparkFingerprints {
    /** Pixel bytes per partition of the id-ordered stream. */
    private static final long PARTITION_BYTES = 128L << 20;

    private SparkFingerprints() {
    }

    /**
     * The data's and the labels' fingerprints.
     *
     * @param data   the samples' fingerprint
     * @param labels the labels' fingerprint
     */
    public record Pair(String data, String labels) {}

    /**
     * @param samples the samples
     * @param columns their columns
     * @param h       the images' height
     * @param w       their width
     * @param c       their channels
     * @param n       the rows
     * @return both fingerprints
     * @throws InvalidInputException if the rows changed since they were counted
     */
    public static Pair of(Dataset<Row> samples, SampleColumns columns, int h, int w, int c, long n) {
        long[] sample = columns.sampleShape(h, w, c);
        long[] shape = new long[sample.length + 1];
        shape[0] = n;
        System.arraycopy(sample, 0, shape, 1, sample.length);
        ArrayFingerprint data = ArrayFingerprint.start("|u1", shape);
        String descr = labelFingerprintDescr(columns);
        ArrayFingerprint labels = ArrayFingerprint.start(descr, n);
        int width = descr.equals("|u1") ? 1 : descr.equals("<i4") ? 4 : 8;
        ByteBuffer label = ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN);
        Iterator<Row> rows = inIdOrder(samples, columns, n * h * w * c);
        long seen = 0;
        while (rows.hasNext()) {
            Row r = rows.next();
            data.update(ByteBuffer.wrap((byte[]) r.get(2)));
            label.clear();
            label.putLong(((Number) r.get(1)).longValue());
            label.flip().limit(width);
            labels.update(label);
            seen++;
        }
        if (seen != n) {
            throw new InvalidInputException("the DataFrame held " + n + " rows when it was checked and " + seen
                    + " when it was fingerprinted; it changed while the job ran");
        }
        return new Pair(data.finish(), labels.finish());
    }

    /**
     * The rows' id, label and pixels in id order, on the driver: one range of ids per partition, the
     * partitions in ascending order, so the driver holds one partition (about 128 MiB of pixels) at a time.
     *
     * @param samples the samples
     * @param columns their columns
     * @param bytes   the pixels' total size
     * @return the rows
     */
    static Iterator<Row> inIdOrder(Dataset<Row> samples, SampleColumns columns, long bytes) {
        int ranges = (int) Math.max(1, Math.min(Integer.MAX_VALUE, bytes / PARTITION_BYTES + 1));
        return samples.select(columns.pixelColumns()).repartitionByRange(ranges, functions.col(columns.id()))
                .sortWithinPartitions(functions.col(columns.id())).toLocalIterator();
    }

    /**
     * The fingerprints of pixels and labels already on the driver, by global index.
     *
     * @param pixels  every sample's pixels, by global index
     * @param labels  every sample's label, by global index
     * @param columns the columns they came from
     * @param h       the images' height
     * @param w       their width
     * @param c       their channels
     * @return both fingerprints
     */
    static Pair of(byte[] pixels, long[] labels, SampleColumns columns, int h, int w, int c) {
        long n = labels.length;
        long[] sample = columns.sampleShape(h, w, c);
        long[] shape = new long[sample.length + 1];
        shape[0] = n;
        System.arraycopy(sample, 0, shape, 1, sample.length);
        String descr = labelFingerprintDescr(columns);
        int width = descr.equals("|u1") ? 1 : descr.equals("<i4") ? 4 : 8;
        ByteBuffer b = ByteBuffer.allocate(Math.toIntExact(n * width)).order(ByteOrder.LITTLE_ENDIAN);
        for (long v : labels) {
            switch (width) {
                case 1 -> b.put((byte) v);
                case 4 -> b.putInt((int) v);
                default -> b.putLong(v);
            }
        }
        return new Pair(ArrayFingerprint.start("|u1", shape).update(ByteBuffer.wrap(pixels)).finish(),
                ArrayFingerprint.start(descr, n).update(b.flip()).finish());
    }

    /**
     * The dtype labels are fingerprinted and written back to {@code .npy} with: the dtype {@code convert}
     * recorded when it is one a fingerprint takes (uint8, int32, int64), else int32 for byte, short and
     * int columns and int64 for long columns.
     *
     * @param columns the columns
     * @return {@code "|u1"}, {@code "<i4"} or {@code "<i8"}
     */
    public static String labelFingerprintDescr(SampleColumns columns) {
        String d = columns.labelDescr();
        if (d.equals("|u1") || d.equals("<i4") || d.equals("<i8")) {
            return d;
        }
        return columns.maxLabel() > Integer.MAX_VALUE ? "<i8" : "<i4";
    }
}
