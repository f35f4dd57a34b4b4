package dev.dyepack.job;

import dev.dyepack.Backend;
import dev.dyepack.DType;
import dev.dyepack.Engine;
import dev.dyepack.InvalidArgumentException;
import dev.dyepack.InvalidInputException;
import dev.dyepack.Layout;
import dev.dyepack.Tensor;
import dev.dyepack.io.IndexList;
import dev.dyepack.io.NpyHeader;
import dev.dyepack.io.OutputBusyException;
import dev.dyepack.io.StagedOutput;
import dev.dyepack.io.Samples;
import dev.dyepack.key.OwnerKey;
import dev.dyepack.trigger.DataKind;
import dev.dyepack.trigger.PreparedTrigger;
import dev.dyepack.trigger.TriggerContext;
import dev.dyepack.trigger.TriggerSpec;
import dev.dyepack.job.Progress;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Objects;

/**
 * Stamps a trigger on the samples of an array file ({@code .npy} or IDX) and writes the result in the
 * same format,
 * streaming in chunks so files larger than memory work. The input is never modified; the output is
 * written in a staging directory beside it and moved into place only when complete
 * ({@link StagedOutput}: an existing output is refused unless replacing is asked for, a second run for
 * the same output fails while this one holds it, leftovers of a killed run are removed by the next).
 *
 * <p>Shapes: (N, H, W) is single-channel; (N, H, W, C) is NHWC unless the caller says the file is
 * NCHW, (N, C, H, W). Dtypes: uint8 or float32.
 */
public final class StampJob {
    /**
     * Default bound on the memory for the chunks being read, stamped and written at once (the stream
     * itself uses chunks of at most 2 MiB, which stay in the processor's cache from read to write).
     */
    public static final long DEFAULT_CHUNK_BYTES = 64L << 20;

    /**
     * What was done.
     *
     * @param geometry the images as a tensor description (dtype, layout, N, C, H, W)
     * @param samples  N
     * @param stamped  how many samples carry the trigger
     * @param trigger  the canonical trigger spec
     * @param backend  where the engine ran
     */
    public record Result(String geometry, long samples, long stamped, String trigger, Backend backend) {}

    private final Path input;
    private final Path output;
    private final TriggerSpec trigger;
    private final OwnerKey key;
    private final String descr;
    private final long[] shape;
    private final Tensor geometry;
    private final long[] sorted;
    private final boolean replace;

    private StampJob(Path input, Path output, TriggerSpec trigger, OwnerKey key, String descr, long[] shape,
            Tensor geometry, long[] sorted, boolean replace) {
        this.replace = replace;
        this.input = input;
        this.output = output;
        this.trigger = trigger;
        this.key = key;
        this.descr = descr;
        this.shape = shape;
        this.geometry = geometry;
        this.sorted = sorted;
    }

    /**
     * Checks everything that can be checked before any work: the paths, the input's header against its
     * size, dtype and rank, the trigger against the images, and the indices against N.
     *
     * @param input   the images, .npy
     * @param output  where to write the stamped images; must not be the input
     * @param trigger the trigger
     * @param key     the owner's key, or null (then only keyless triggers are accepted)
     * @param indices the samples to stamp (each once, in [0, N)), or null for all; not modified
     * @param rank4   how to read a rank-4 image file: NHWC (N, H, W, C) or NCHW (N, C, H, W)
     * @return the job, ready to {@link #run}; it refuses an existing non-empty output
     * @throws InvalidInputException    if the input is missing, corrupt, or of an unsupported dtype or rank
     * @throws InvalidArgumentException if the output is the input or exists, the trigger or indices do not
     *                                  fit, or a keyed trigger has no key
     * @throws IOException              if the file system cannot be read
     */
    public static StampJob prepare(Path input, Path output, TriggerSpec trigger, OwnerKey key, long[] indices,
            Layout rank4) throws IOException {
        return prepare(input, output, trigger, key, indices, rank4, false);
    }

    /**
     * As {@link #prepare(Path, Path, TriggerSpec, OwnerKey, long[], Layout)}, choosing whether an
     * existing output may be replaced.
     *
     * @param input   the images, .npy
     * @param output  where to write the stamped images; must not be the input
     * @param trigger the trigger
     * @param key     the owner's key, or null (then only keyless triggers are accepted)
     * @param indices the samples to stamp (each once, in [0, N)), or null for all; not modified
     * @param rank4   how to read a rank-4 image file: NHWC (N, H, W, C) or NCHW (N, C, H, W)
     * @param replace whether an existing non-empty output may be replaced (only by the final rename)
     * @return the job, ready to {@link #run}
     * @throws InvalidInputException    if the input is missing, corrupt, or of an unsupported dtype or rank
     * @throws InvalidArgumentException if the output is the input, exists and may not be replaced, the
     *                                  trigger or indices do not fit, or a keyed trigger has no key
     * @throws IOException              if the file system cannot be read
     */
    public static StampJob prepare(Path input, Path output, TriggerSpec trigger, OwnerKey key, long[] indices,
            Layout rank4, boolean replace) throws IOException {
        Objects.requireNonNull(trigger, "trigger");
        Objects.requireNonNull(rank4, "rank4");
        checkPaths(input, output);
        StagedOutput.check(output, StagedOutput.Kind.FILE, replace, input);
        String descr;
        long[] shape;
        try (Samples.Reader reader = Samples.open(input)) {
            descr = reader.descr();
            shape = reader.shape();
        }
        Tensor geometry;
        if (trigger.keyed()) {
            new TriggerContext(key, 0).requireKey(trigger.family());
        }
        if (trigger.kind() != DataKind.IMAGES) {
            boolean sequences = trigger.kind() == DataKind.SEQUENCES;
            String want = sequences ? "<i4" : "<f4";
            if (shape.length != 2 || !descr.equals(want)) {
                throw new InvalidInputException(input + ": the " + trigger.family() + " trigger needs "
                        + (sequences ? "int32 token sequences" : "float32 rows") + " of shape (N, " + (sequences ? "L" : "D")
                        + "), dtype " + want + "; got " + descr + " " + Arrays.toString(shape));
            }
            if (shape[1] < 1) {
                throw new InvalidInputException(input + ": rows of width 0");
            }
            geometry = Tensor.empty(sequences ? DType.INT32 : DType.FLOAT32, Layout.NHWC, 1, 1, shape[1]);
            trigger.validateFor(geometry);
            return new StampJob(input, output, trigger, key, descr, shape, geometry, sortedIndices(indices, shape[0]), replace);
        }
        DType dtype;
        try {
            dtype = NpyHeader.imageDType(descr);
        } catch (InvalidInputException e) {
            throw new InvalidInputException(input + ": " + e.getMessage(), e);
        }        if (shape.length == 3) {
            geometry = shapeOf(input, shape, dtype, Layout.NHWC, shape[0], 1, shape[1], shape[2]);
        } else if (shape.length == 4) {
            geometry = rank4 == Layout.NHWC
                    ? shapeOf(input, shape, dtype, rank4, shape[0], shape[3], shape[1], shape[2])
                    : shapeOf(input, shape, dtype, rank4, shape[0], shape[1], shape[2], shape[3]);
        } else {
            throw new InvalidInputException(input + ": expected images of shape (N, H, W) or (N, H, W, C), got "
                    + Arrays.toString(shape));
        }
        trigger.validateFor(geometry);
        return new StampJob(input, output, trigger, key, descr, shape, geometry, sortedIndices(indices, shape[0]), replace);
    }

    private static long[] sortedIndices(long[] indices, long n) {
        if (indices == null) {
            return null;
        }
        IndexList.validate(indices, n);
        long[] sorted = indices.clone();
        Arrays.sort(sorted);
        return sorted;
    }

    /** A zero-sample tensor carrying the images' geometry; N is read from the header. */
    private static Tensor shapeOf(Path input, long[] shape, DType dtype, Layout layout, long n, long c, long h,
            long w) {
        if (n < 0 || c < 1 || h < 1 || w < 1) {
            throw new InvalidInputException(input + ": images of shape " + Arrays.toString(shape) + " are empty");
        }
        long sampleBytes = c * h * w * dtype.bytes();
        if (sampleBytes > Integer.MAX_VALUE / 2) {
            throw new InvalidInputException(input + ": one image of " + sampleBytes + " bytes is too large");
        }
        return Tensor.empty(dtype, layout, c, h, w);
    }

    /** @return the images' description: dtype, layout, N, C, H, W */
    public String geometry() {
        if (trigger.kind() != DataKind.IMAGES) {
            return geometry.dtype().label() + " (N=" + samples() + ", " + (trigger.kind() == DataKind.SEQUENCES ? "L" : "D")
                    + "=" + geometry.w() + ")";
        }
        return geometry.dtype().label() + " " + geometry.layout() + " (N=" + samples() + ", C=" + geometry.c()
                + ", H=" + geometry.h() + ", W=" + geometry.w() + ")";
    }

    /** @return a zero-sample tensor with the samples' dtype, layout and C, H, W (for batches of them) */
    Tensor batchGeometry() {
        return geometry;
    }

    /** @return N, the number of images */
    public long samples() {
        return shape[0];
    }

    /**
     * Reads, stamps and writes the images chunk by chunk, reading, stamping and writing at once on three
     * threads; runs of images that are not stamped are copied inside the kernel (see {@code SampleStream}).
     *
     * @param engine     the engine to stamp with
     * @param chunkBytes memory for the chunks in flight together (at least one image per chunk)
     * @return a summary
     * @throws InvalidInputException if the input changed since {@link #prepare} and no longer reads
     * @throws IOException           if reading or writing fails (no output is left behind)
     */
    public Result run(Engine engine, long chunkBytes) throws IOException {
        return run(engine, chunkBytes, Progress.NONE);
    }

    /**
     * As {@link #run(Engine, long)}, reporting the samples read, stamped and written so far.
     *
     * @param engine     the engine to stamp with
     * @param chunkBytes memory for the chunks in flight together
     * @param progress   receives ("stamping", samples done, N) after every chunk
     * @return a summary
     * @throws InvalidInputException if the input changed since {@link #prepare} and no longer reads
     * @throws OutputBusyException  if another run is writing the same output
     * @throws IOException           if reading or writing fails (no output is left behind)
     */
    public Result run(Engine engine, long chunkBytes, Progress progress) throws IOException {
        Objects.requireNonNull(engine, "engine");
        long n = samples();
        long c = geometry.c();
        long h = geometry.h();
        long w = geometry.w();
        DType dtype = geometry.dtype();
        Layout layout = geometry.layout();
        long stamped = sorted == null ? n : sorted.length;
        // Keys, patterns, grids and decoded pictures are computed once here, not per chunk.
        try (PreparedTrigger prepared = trigger.prepare(engine, geometry, TriggerContext.of(key));
                Samples.Reader reader = Samples.open(input);
                StagedOutput staged = StagedOutput.begin(output, StagedOutput.Kind.FILE, replace, input);
                Samples.Writer writer = Samples.create(staged.path(), input, descr, shape)) {
            SampleStream.run(reader, writer, chunkBytes, sorted, false, (chunk, first, count) -> {
                long[] local = localIndices(sorted, first, count);
                if (local != null && local.length == 0) {
                    return;
                }
                ByteBuffer view = chunk.order(ByteOrder.nativeOrder());
                if (dtype == DType.FLOAT32) {
                    FiniteRows.require(view.asFloatBuffer(), c * h * w, first, count, local, input.toString());
                }
                Tensor batch = switch (dtype) {
                    case UINT8 -> Tensor.of(view, layout, count, c, h, w);
                    case FLOAT32 -> Tensor.of(view.asFloatBuffer(), layout, count, c, h, w);
                    case INT32 -> Tensor.sequences(view.asIntBuffer(), count, w);
                };
                prepared.apply(batch, local, first);
            }, progress);
            writer.commit();
            staged.commit();
        }
        return new Result(geometry(), n, stamped, trigger.toString(), engine.backend());
    }

    /** The selected indices inside [first, first + count), shifted to start at 0; null means all. */
    private static long[] localIndices(long[] sorted, long first, int count) {
        if (sorted == null) {
            return null;
        }
        int lo = lowerBound(sorted, first);
        int hi = lowerBound(sorted, first + count);
        long[] out = new long[hi - lo];
        for (int i = lo; i < hi; i++) {
            out[i - lo] = sorted[i] - first;
        }
        return out;
    }

    private static int lowerBound(long[] a, long key) {
        int lo = 0;
        int hi = a.length;
        while (lo < hi) {
            int mid = (lo + hi) >>> 1;
            if (a[mid] < key) {
                lo = mid + 1;
            } else {
                hi = mid;
            }
        }
        return lo;
    }

    private static void checkPaths(Path input, Path output) throws IOException {
        Objects.requireNonNull(input, "input");
        Objects.requireNonNull(output, "output");
        if (!Files.isRegularFile(input)) {
            throw new InvalidInputException(input + ": no such file");
        }
        boolean same = input.toAbsolutePath().normalize().equals(output.toAbsolutePath().normalize());
        same = same || (Files.exists(output) && Files.isSameFile(input, output));
        if (same) {
            throw new InvalidArgumentException("output " + output + " is the input file; choose another name "
                    + "(DyePack never modifies its input)");
        }
        if (Files.isDirectory(output)) {
            throw new InvalidArgumentException("output " + output + " is a directory; give a file name");
        }
    }
}
