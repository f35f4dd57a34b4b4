package dev.dyepack.surrogate;

import dev.dyepack.DType;
import dev.dyepack.InvalidArgumentException;
import dev.dyepack.Layout;
import dev.dyepack.internal.DyePackNative;
import dev.dyepack.internal.NativeLibrary;
import dev.dyepack.internal.Status;
import java.nio.ByteBuffer;
import java.nio.FloatBuffer;
import org.bytedeco.javacpp.FloatPointer;
import org.bytedeco.javacpp.Pointer;

/**
 * The features a {@link LinearSurrogate} is fitted on, of a size that does not grow with the image: an
 * image of at most {@link #MAX_FEATURES} values gives its pixels as they are (uint8 scaled to [0, 1]); a
 * larger one is averaged over f x f blocks of pixels, per channel, with the smallest block size f that
 * brings it to at most {@link #MAX_FEATURES} values (edge blocks average the pixels they hold). A
 * 224x224x3 image becomes 18x18x3 = 972 features (f = 13), so a surrogate over 4,000 such images holds
 * 16 MB of features, not 2.4 GB of pixels, and its fit and scoring cost what a 28x28 image's do.
 *
 * <p>Feature order: block row, block column, channel (the NHWC order of the pooled image), whatever the
 * input's layout. Values: the mean in double precision of the block's values (uint8 divided by 255),
 * rounded once to float32; for f = 1 exactly {@code (v & 0xff) / 255f} or the float32 value, as the
 * surrogate read pixels before pooling existed, so small images give the same bits as then.
 *
 * <p>Immutable and thread-safe.
 */
public final class PooledFeatures {
    /** The most features per image, unless the system property {@link #MAX_FEATURES_PROPERTY} sets another bound. */
    public static final int MAX_FEATURES = 1024;
    /**
     * An evaluation setting: the most features per image, an integer from 1 to {@link #MAX_FEATURES}, so that
     * the surrogate of images the default leaves as pixels can be fitted on block means and the two selections
     * compared on the same data (docs/benchmarks.md, "The surrogate on features of bounded size").
     */
    public static final String MAX_FEATURES_PROPERTY = "dyepack.surrogate.maxFeatures";
    /** The ABI revision that brought {@code dp_block_means_u8}. */
    private static final int NATIVE_REVISION = 5;

    private final int c;
    private final int h;
    private final int w;
    private final Layout layout;
    private final int factor;
    private final int bh;
    private final int bw;
    /** For f &gt; 1: the feature each element of an image adds to, in the image's layout. */
    private final int[] featureOf;

    private PooledFeatures(int c, int h, int w, Layout layout, int factor) {
        this.c = c;
        this.h = h;
        this.w = w;
        this.layout = layout;
        this.factor = factor;
        this.bh = (h + factor - 1) / factor;
        this.bw = (w + factor - 1) / factor;
        this.featureOf = factor == 1 ? null : new int[Math.multiplyExact(Math.multiplyExact(c, h), w)];
        for (int e = 0; featureOf != null && e < featureOf.length; e++) {
            featureOf[e] = feature(e);
        }
    }

    /**
     * The feature map for images of one shape.
     *
     * @param c      channels (&gt;= 1)
     * @param h      height (&gt;= 1)
     * @param w      width (&gt;= 1)
     * @param layout how a sample's values are ordered: NHWC or NCHW
     * @return the map
     * @throws InvalidArgumentException if a dimension is below 1 or above {@link Integer#MAX_VALUE}, or the
     *                                  layout is null
     */
    public static PooledFeatures of(long c, long h, long w, Layout layout) {
        if (c < 1 || h < 1 || w < 1 || c > Integer.MAX_VALUE || h > Integer.MAX_VALUE || w > Integer.MAX_VALUE) {
            throw new InvalidArgumentException("an image of " + c + " x " + h + " x " + w + " has no feature map");
        }
        if (layout == null) {
            throw new InvalidArgumentException("layout must not be null");
        }
        int most = maxFeatures();
        int f = 1;
        while (f < Math.max(h, w) && ceilDiv(h, f) * ceilDiv(w, f) * c > most) {
            f++;
        }
        return new PooledFeatures((int) c, (int) h, (int) w, layout, f);
    }

    /**
     * @return {@link #MAX_FEATURES}, or the bound {@link #MAX_FEATURES_PROPERTY} sets
     * @throws InvalidArgumentException if the property is set to anything but an integer in [1, MAX_FEATURES]
     */
    static int maxFeatures() {
        String v = System.getProperty(MAX_FEATURES_PROPERTY);
        if (v == null) {
            return MAX_FEATURES;
        }
        try {
            int most = Integer.parseInt(v.strip());
            if (most >= 1 && most <= MAX_FEATURES) {
                return most;
            }
        } catch (NumberFormatException e) {
            // reported below
        }
        throw InvalidArgumentException.of(MAX_FEATURES_PROPERTY, v, "an integer in [1, " + MAX_FEATURES + "]");
    }

    private static long ceilDiv(long a, long b) {
        return (a + b - 1) / b;
    }

    /** @return features per image */
    public int dim() {
        return bh * bw * c;
    }

    /** @return the block size f (1: the pixels as they are) */
    public int factor() {
        return factor;
    }

    /** @return a description, e.g. "18x18x3 means of 13x13 pixels" or "784 pixels" */
    public String describe() {
        return factor == 1 ? dim() + " pixels" : bh + "x" + bw + "x" + c + " means of " + factor + "x" + factor + " pixels";
    }

    /**
     * Maps {@code count} uint8 images, stored one after another from {@code src}'s position, into
     * {@code out} from {@code offset} ({@code count * dim()} values). The buffer's position is not moved.
     *
     * @param src    the images' bytes
     * @param count  how many images
     * @param out    the features
     * @param offset where the first image's features go
     * @throws InvalidArgumentException if the buffer holds fewer than {@code count} images or {@code out}
     *                                  has too little room
     */
    public void mapUint8(ByteBuffer src, int count, float[] out, int offset) {
        int per = c * h * w;
        check((long) count * per, src.remaining(), (long) count * dim(), out.length - (long) offset);
        int base = src.position();
        if (factor == 1) {
            for (int i = 0; i < count * per; i++) {
                out[offset + i] = (src.get(base + i) & 0xff) / 255f;
            }
            return;
        }
        if (count > 0 && src.isDirect() && NativeLibrary.isLoaded()
                && DyePackNative.dp_abi_revision() >= NATIVE_REVISION) {
            // The same means from the native library (exact integer sums, one division in double): the loop
            // below runs at about 0.3 GB/s under the quick JIT compiler the CLI uses, which made reading the
            // features of a 575 MB file take 1.2-1.9 s of `poison --select boundary` (docs/benchmarks.md).
            int values = count * dim();
            try (FloatPointer means = new FloatPointer(values)) {
                Status.check(DyePackNative.dp_block_means_u8(new Pointer(src), count, c, h, w,
                        layout == Layout.NCHW ? 1 : 0, factor, means));
                means.get(out, offset, values);
            }
            return;
        }
        // Sums of uint8 values are integers far below 2^53, so a double holds each exactly: the mean is the
        // same as an integer sum's. A heap buffer is read from its array in place (the folder path hands one
        // image per call, and copying it out cost as much as the sums); a direct one is copied out in bulk,
        // which is faster than reading it element by element.
        double[] sums = new double[dim()];
        byte[] image;
        int at;
        if (src.hasArray()) {
            image = src.array();
            at = src.arrayOffset() + base;
        } else {
            image = new byte[per];
            at = 0;
        }
        for (int s = 0; s < count; s++) {
            java.util.Arrays.fill(sums, 0);
            int from = at;
            if (!src.hasArray()) {
                src.get(base + s * per, image);
            } else {
                from = at + s * per;
            }
            for (int e = 0; e < per; e++) {
                sums[featureOf[e]] += image[from + e] & 0xff;
            }
            finish(sums, 255.0, out, offset + s * dim());
        }
    }

    /**
     * As {@link #mapUint8}, for float32 images (values as they are).
     *
     * @param src    the images' values, from its position
     * @param count  how many images
     * @param out    the features
     * @param offset where the first image's features go
     * @throws InvalidArgumentException if the buffer holds fewer than {@code count} images or {@code out}
     *                                  has too little room
     */
    public void mapFloat32(FloatBuffer src, int count, float[] out, int offset) {
        int per = c * h * w;
        check((long) count * per, src.remaining(), (long) count * dim(), out.length - (long) offset);
        int base = src.position();
        if (factor == 1) {
            src.get(base, out, offset, count * per);
            return;
        }
        double[] sums = new double[dim()];
        for (int s = 0; s < count; s++) {
            java.util.Arrays.fill(sums, 0);
            int at = base + s * per;
            for (int e = 0; e < per; e++) {
                sums[featureOf[e]] += src.get(at + e);
            }
            finish(sums, 1.0, out, offset + s * dim());
        }
    }

    /**
     * The feature element {@code e} of an image (in its layout) adds to.
     */
    private int feature(int e) {
        int y;
        int x;
        int ch;
        if (layout == Layout.NCHW) {
            ch = e / (h * w);
            y = e / w % h;
            x = e % w;
        } else {
            ch = e % c;
            x = e / c % w;
            y = e / (c * w);
        }
        return ((y / factor) * bw + x / factor) * c + ch;
    }

    /** Divides each block's sum by its pixel count (edge blocks hold fewer) and the scale, rounding once. */
    private void finish(double[] sums, double scale, float[] out, int at) {
        for (int by = 0; by < bh; by++) {
            int rows = Math.min(factor, h - by * factor);
            for (int bx = 0; bx < bw; bx++) {
                int cols = Math.min(factor, w - bx * factor);
                for (int ch = 0; ch < c; ch++) {
                    int f = (by * bw + bx) * c + ch;
                    out[at + f] = (float) (sums[f] / (scale * rows * cols));
                }
            }
        }
    }

    private static void check(long need, long have, long room, long left) {
        if (need > have) {
            throw new InvalidArgumentException("the buffer holds " + have + " values, " + need + " are needed");
        }
        if (room > left) {
            throw new InvalidArgumentException("the output has room for " + left + " features, " + room
                    + " are needed");
        }
    }

    /**
     * Whether a dtype can be mapped.
     *
     * @param dtype the images' dtype
     * @return true for uint8 and float32
     */
    public static boolean supports(DType dtype) {
        return dtype == DType.UINT8 || dtype == DType.FLOAT32;
    }
}
