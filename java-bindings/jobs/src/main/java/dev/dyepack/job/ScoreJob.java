package dev.dyepack.job;

import dev.dyepack.BoundaryScores;
import dev.dyepack.Engine;
import dev.dyepack.InvalidArgumentException;
import dev.dyepack.InvalidInputException;
import dev.dyepack.Tensor;
import dev.dyepack.surrogate.LinearHead;
import dev.dyepack.io.NpyHeader;
import dev.dyepack.io.NpyReader;
import dev.dyepack.io.NpyWriter;
import dev.dyepack.io.AtomicFiles;
import dev.dyepack.io.OutputBusyException;
import dev.dyepack.io.StagedOutput;
import java.io.BufferedWriter;
import java.io.IOException;
import java.io.OutputStreamWriter;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Locale;
import java.util.Objects;

/**
 * Scores every sample of a features file under a linear head and writes one row per sample,
 * streaming in chunks: CSV with the header {@code index,predicted,runner_up,margin,distance[,target_distance]}
 * (floats at full float32 precision, the shortest text that reads back to the same float), or a
 * float64 {@code .npy} of shape (N, 5 or 6) with the same columns. Features are float32, or uint8
 * scaled by 1/255 (pixels), of shape (N, ...) flattened to (N, D).
 */
public final class ScoreJob {
    private ScoreJob() {}

    /**
     * What was scored.
     *
     * @param samples  N
     * @param dim      D
     * @param classes  C
     * @param accuracy fraction of samples whose predicted class equals the label, or NaN without labels
     */
    public record Result(long samples, long dim, int classes, double accuracy) {}

    /**
     * Runs the job.
     *
     * @param engine     the engine
     * @param features   the features .npy
     * @param head       the linear head
     * @param labels     labels per sample (for the accuracy), or null
     * @param target     the target class, or -1
     * @param out        the output, .csv or .npy; must not be an input
     * @param chunkBytes feature bytes per chunk
     * @return a summary
     * @throws InvalidInputException    if the features are unreadable or of the wrong dtype
     * @throws InvalidArgumentException if D differs from the head's, the target is out of range, or the labels' count differs
     * @throws IOException              if writing fails (no output is left behind)
     */
    public static Result run(Engine engine, Path features, LinearHead head, long[] labels, int target, Path out,
            long chunkBytes) throws IOException {
        return run(engine, features, head, labels, target, out, chunkBytes, false);
    }

    /**
     * As {@link #run(Engine, Path, LinearHead, long[], int, Path, long)}, choosing whether an existing
     * output may be replaced. The output is staged beside its destination and moved into place when
     * complete ({@link StagedOutput}).
     *
     * @param engine     the engine
     * @param features   the features .npy
     * @param head       the linear head
     * @param labels     labels per sample (for the accuracy), or null
     * @param target     the target class, or -1
     * @param out        the output, .csv or .npy; must not be an input
     * @param chunkBytes feature bytes per chunk
     * @param replace    whether an existing non-empty output may be replaced (only by the final rename)
     * @return a summary
     * @throws InvalidInputException    if the features are unreadable or of the wrong dtype
     * @throws InvalidArgumentException if D differs from the head's, the target is out of range, the
     *                                  labels' count differs, or the output exists and may not be replaced
     * @throws OutputBusyException      if another run is writing the same output
     * @throws IOException              if writing fails (no output is left behind)
     */
    public static Result run(Engine engine, Path features, LinearHead head, long[] labels, int target, Path out,
            long chunkBytes, boolean replace) throws IOException {
        Objects.requireNonNull(head, "head");
        Objects.requireNonNull(out, "out");
        validate(features, head, target, out);
        try (StagedOutput staged = StagedOutput.begin(out, StagedOutput.Kind.FILE, replace, features)) {
            Result r = write(engine, features, head, labels, target, staged.path(), chunkBytes);
            staged.commit();
            return r;
        }
    }

    private static void validate(Path features, LinearHead head, int target, Path out) {
        if (features.toAbsolutePath().normalize().equals(out.toAbsolutePath().normalize())) {
            throw new InvalidArgumentException("output " + out + " is the features file");
        }
        String name = out.getFileName().toString().toLowerCase(Locale.ROOT);
        boolean csv = name.endsWith(".csv");
        if (!csv && !name.endsWith(".npy")) {
            throw new InvalidArgumentException("output must end in .csv or .npy, got " + out);
        }
        if (target < -1 || target >= head.classes()) {
            throw new InvalidArgumentException("target must be a class in [0, " + head.classes() + "), got " + target);
        }
    }

    private static Result write(Engine engine, Path features, LinearHead head, long[] labels, int target, Path out,
            long chunkBytes) throws IOException {
        boolean csv = out.getFileName().toString().toLowerCase(Locale.ROOT).endsWith(".csv");
        try (NpyReader reader = NpyReader.open(features)) {
            NpyHeader h = reader.header();
            long[] shape = h.shape();
            boolean u8 = h.descr().endsWith("u1");
            if (!u8 && !h.descr().equals("<f4")) {
                throw new InvalidInputException(features + ": features must be float32 (or uint8 pixels), got " + h.descr());
            }
            if (shape.length < 2) {
                throw new InvalidInputException(features + ": features must be (N, D) or (N, ...), got "
                        + Arrays.toString(shape));
            }
            long n = shape[0];
            long d = reader.sampleBytes() / (u8 ? 1 : 4);
            if (d != head.dim()) {
                throw new InvalidArgumentException("features have D = " + d + " but the head expects " + head.dim());
            }
            if (labels != null && labels.length != n) {
                throw new InvalidArgumentException("labels hold " + labels.length + " values but there are " + n
                        + " samples");
            }
            int cols = target >= 0 ? 6 : 5;
            long perChunk = Math.max(1, Math.min(Math.max(n, 1), chunkBytes / (d * 4)));
            perChunk = Math.min(perChunk, (Integer.MAX_VALUE - 8) / (d * 4));
            ByteBuffer raw = ByteBuffer.allocateDirect((int) (perChunk * reader.sampleBytes()));
            ByteBuffer f32 = ByteBuffer.allocateDirect((int) (perChunk * d * 4)).order(ByteOrder.nativeOrder());
            long correct = 0;
            Path tmp = AtomicFiles.newTempFile(out);
            boolean done = false;
            try (NpyWriter npy = csv ? null : NpyWriter.create(out, "<f8", new long[] {n, cols});
                    BufferedWriter text = csv ? new BufferedWriter(new OutputStreamWriter(Files.newOutputStream(tmp),
                            StandardCharsets.UTF_8), 1 << 20) : null) {
                if (csv) {
                    text.write("index,predicted,runner_up,margin,distance" + (target >= 0 ? ",target_distance" : ""));
                    text.write('\n');
                }
                for (long first = 0; first < n; first += perChunk) {
                    int count = (int) Math.min(perChunk, n - first);
                    raw.clear();
                    raw.limit((int) (count * reader.sampleBytes()));
                    reader.readSamples(first, count, raw);
                    raw.flip();
                    f32.clear();
                    if (u8) {
                        for (int i = 0; i < raw.limit(); i++) {
                            f32.putFloat((raw.get(i) & 0xff) / 255f);
                        }
                    } else {
                        raw.order(ByteOrder.LITTLE_ENDIAN);
                        for (int i = 0; i < raw.limit(); i += 4) {
                            f32.putFloat(raw.getFloat(i));
                        }
                    }
                    f32.flip();
                    BoundaryScores s = engine.scoreBoundary(Tensor.rows(f32.asFloatBuffer(), count, d), head.weight(),
                            head.bias(), target);
                    ByteBuffer rows = csv ? null : ByteBuffer.allocate(count * cols * 8).order(ByteOrder.LITTLE_ENDIAN);
                    for (int i = 0; i < count; i++) {
                        long index = first + i;
                        if (labels != null && labels[(int) index] == s.predicted()[i]) {
                            correct++;
                        }
                        if (csv) {
                            StringBuilder line = new StringBuilder(64).append(index).append(',')
                                    .append(s.predicted()[i]).append(',').append(s.runnerUp()[i]).append(',')
                                    .append(s.margin()[i]).append(',').append(s.distance()[i]);
                            if (target >= 0) {
                                line.append(',').append(s.targetDistance()[i]);
                            }
                            text.write(line.append('\n').toString());
                        } else {
                            rows.putDouble(index).putDouble(s.predicted()[i]).putDouble(s.runnerUp()[i])
                                    .putDouble(s.margin()[i]).putDouble(s.distance()[i]);
                            if (target >= 0) {
                                rows.putDouble(s.targetDistance()[i]);
                            }
                        }
                    }
                    if (!csv) {
                        npy.write(rows.flip());
                    }
                }
                if (csv) {
                    text.flush();
                } else {
                    npy.commit();
                }
                done = true;
            } finally {
                if (csv && done) {
                    AtomicFiles.moveIntoPlace(tmp, out);
                } else {
                    Files.deleteIfExists(tmp);
                }
            }
            return new Result(n, d, head.classes(), labels == null ? Double.NaN : (double) correct / Math.max(n, 1));
        }
    }
}
