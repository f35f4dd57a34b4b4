package dev.dyepack.job;

import dev.dyepack.DType;
import dev.dyepack.Engine;
import dev.dyepack.InvalidArgumentException;
import dev.dyepack.InvalidInputException;
import dev.dyepack.Layout;
import dev.dyepack.Tensor;
import dev.dyepack.image.ContactSheet;
import dev.dyepack.io.NpyHeader;
import dev.dyepack.io.Samples;
import dev.dyepack.key.OwnerKey;
import dev.dyepack.select.SelectionMode;
import dev.dyepack.trigger.DataKind;
import dev.dyepack.trigger.TriggerContext;
import dev.dyepack.trigger.TriggerSpec;
import java.awt.image.BufferedImage;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Objects;

/**
 * A contact sheet of what a trigger does to a few images: clean, triggered, and the amplified
 * difference, so a person can judge its visibility. The images are stamped in memory; nothing is
 * written but the sheet.
 */
public final class Preview {
    private Preview() {}

    /**
     * The trigger {@code dyepack poison} takes by default for these images' size in the given mode
     * ({@link PoisonJob#defaultTrigger(long, long, SelectionMode)}), what the sheet shows when no trigger is
     * given.
     *
     * @param input the images, .npy or IDX, of shape (N, H, W) or (N, H, W, C) / (N, C, H, W)
     * @param rank4 the layout of a rank-4 file
     * @param mode  dirty- or clean-label
     * @return the default trigger
     * @throws InvalidInputException if the input is unreadable or not images
     * @throws NullPointerException  if mode is null
     */
    public static TriggerSpec defaultTrigger(Path input, Layout rank4, SelectionMode mode) {
        Objects.requireNonNull(mode, "mode");
        try (Samples.Reader reader = Samples.open(input)) {
            long[] chw = imageGeometry(input, reader.shape(), rank4);
            return TriggerSpec.parse(PoisonJob.defaultTrigger(chw[1], chw[2], mode));
        }
    }

    /** C, H and W of images of shape (N, H, W), or rank 4 in the given layout. */
    private static long[] imageGeometry(Path input, long[] shape, Layout rank4) {
        if (shape.length != 3 && shape.length != 4) {
            throw new InvalidInputException(input + ": expected images of shape (N, H, W) or (N, H, W, C), got "
                    + Arrays.toString(shape));
        }
        if (shape.length == 3) {
            return new long[] {1, shape[1], shape[2]};
        }
        return rank4 == Layout.NHWC ? new long[] {shape[3], shape[1], shape[2]}
                : new long[] {shape[1], shape[2], shape[3]};
    }

    /**
     * Renders the sheet for images {@code first .. first+count-1} of an .npy file.
     *
     * @param engine  the engine to stamp with
     * @param input   the images, .npy or IDX, of shape (N, H, W) or (N, H, W, C) / (N, C, H, W)
     * @param rank4   the layout of a rank-4 file
     * @param trigger an image trigger
     * @param key     the owner's key, or null for keyless triggers
     * @param first   index of the first image shown
     * @param count   how many images, 1..64
     * @param amplify the difference row's gain, &gt; 0
     * @param scale   pixel upscaling, 1..32
     * @return the sheet
     * @throws InvalidArgumentException for a non-image trigger, bad counts or scales, or a missing key
     * @throws InvalidInputException    if the input is unreadable or not images
     */
    public static BufferedImage render(Engine engine, Path input, Layout rank4, TriggerSpec trigger, OwnerKey key,
            long first, int count, float amplify, int scale) {
        Objects.requireNonNull(trigger, "trigger");
        if (trigger.kind() != DataKind.IMAGES) {
            throw new InvalidArgumentException("preview shows image triggers; " + trigger.family() + " applies to "
                    + trigger.kind().name().toLowerCase(java.util.Locale.ROOT));
        }
        if (count < 1 || count > 64) {
            throw new InvalidArgumentException("count must be in [1, 64], got " + count);
        }
        try (Samples.Reader reader = Samples.open(input)) {
            DType dtype;
            try {
                dtype = NpyHeader.imageDType(reader.descr());
            } catch (InvalidInputException e) {
                throw new InvalidInputException(input + ": " + e.getMessage(), e);
            }
            long[] shape = reader.shape();
            long[] chw = imageGeometry(input, shape, rank4);
            Layout layout = shape.length == 3 ? Layout.NHWC : rank4;
            long c = chw[0];
            long h = chw[1];
            long w = chw[2];
            if (first < 0 || first >= shape[0]) {
                throw new InvalidArgumentException("first image " + first + " is out of range [0, " + shape[0] + ")");
            }
            int n = (int) Math.min(count, shape[0] - first);
            ByteBuffer data = ByteBuffer.allocateDirect(Math.toIntExact(n * reader.sampleBytes()))
                    .order(ByteOrder.nativeOrder());
            reader.readSamples(first, n, data);
            data.flip();
            float[] clean = toFloats(data, dtype);
            ByteBuffer stamped = ByteBuffer.allocateDirect(data.capacity()).order(ByteOrder.nativeOrder());
            stamped.put(data.duplicate()).flip();
            Tensor batch = dtype == DType.UINT8 ? Tensor.of(stamped, layout, n, c, h, w)
                    : Tensor.of(stamped.asFloatBuffer(), layout, n, c, h, w);
            trigger.apply(engine, batch, null, new TriggerContext(key, first));
            float[] triggered = toFloats(stamped, dtype);
            int per = Math.toIntExact(c * h * w);
            List<float[]> a = new ArrayList<>();
            List<float[]> b = new ArrayList<>();
            float low = 0f;
            float high = 255f;
            if (dtype == DType.FLOAT32) {
                low = Float.POSITIVE_INFINITY;
                high = Float.NEGATIVE_INFINITY;
                for (float v : clean) {
                    if (Float.isFinite(v)) {
                        low = Math.min(low, v);
                        high = Math.max(high, v);
                    }
                }
                if (!(high > low)) {
                    low = 0f;
                    high = 1f;
                }
            }
            for (int i = 0; i < n; i++) {
                a.add(Arrays.copyOfRange(clean, i * per, (i + 1) * per));
                b.add(Arrays.copyOfRange(triggered, i * per, (i + 1) * per));
            }
            return ContactSheet.render(a, b, (int) c, (int) h, (int) w, layout, low, high, amplify, scale);
        }
    }

    private static float[] toFloats(ByteBuffer data, DType dtype) {
        ByteBuffer d = data.duplicate().order(ByteOrder.nativeOrder());
        d.position(0);
        if (dtype == DType.UINT8) {
            float[] out = new float[d.remaining()];
            for (int i = 0; i < out.length; i++) {
                out[i] = d.get(i) & 0xff;
            }
            return out;
        }
        float[] out = new float[d.remaining() / 4];
        d.asFloatBuffer().get(out);
        return out;
    }
}
