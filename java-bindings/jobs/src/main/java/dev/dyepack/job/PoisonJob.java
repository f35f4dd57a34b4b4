package dev.dyepack.job;

import dev.dyepack.BoundaryScores;
import dev.dyepack.DType;
import dev.dyepack.Engine;
import dev.dyepack.InvalidArgumentException;
import dev.dyepack.InvalidInputException;
import dev.dyepack.Layout;
import dev.dyepack.Tensor;
import dev.dyepack.io.ImageFolder;
import dev.dyepack.io.Npz;
import dev.dyepack.surrogate.LinearHead;
import dev.dyepack.io.Samples;
import dev.dyepack.key.OwnerKey;
import dev.dyepack.manifest.Fingerprints;
import dev.dyepack.manifest.Manifest;
import dev.dyepack.manifest.ManifestSigner;
import dev.dyepack.manifest.ManifestWriter;
import dev.dyepack.select.Budget;
import dev.dyepack.select.SelectionMode;
import dev.dyepack.select.Selector;
import dev.dyepack.select.Strategy;
import dev.dyepack.surrogate.LinearSurrogate;
import dev.dyepack.trigger.DataKind;
import dev.dyepack.trigger.TriggerContext;
import dev.dyepack.trigger.TriggerSpec;
import dev.dyepack.job.Progress;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.time.Instant;
import java.util.Arrays;
import java.util.HexFormat;
import java.util.Locale;
import java.util.Map;
import java.util.Objects;
import java.util.TreeMap;
import java.util.function.Consumer;

/**
 * The main job: poison a dataset. Chooses a budget of samples (keyed random, or nearest a surrogate's
 * decision boundary), stamps the trigger on them, relabels them to the target for dirty-label
 * poisoning, writes the data and labels in the input's format to an output directory, and writes a
 * {@code manifest.json} signed with a key-derived subkey that records exactly what was done.
 *
 * <p>Every input is checked before anything is written; outputs are written under temporary names and
 * moved into place; inputs are never modified. The owner's key is required: it drives the selection
 * and the trigger's randomness, and signs the manifest (which records only its fingerprint).
 */
public final class PoisonJob {
    private PoisonJob() {}

    /** Where the surrogate's scores come from, for boundary selection. */
    public enum Surrogate {
        /** No surrogate (random selection). */
        NONE,
        /** A softmax-regression head fitted on the data's pixels. */
        LINEAR,
        /** The owner's features and linear head. */
        FEATURES_HEAD
    }

    /**
     * What to do.
     *
     * @param data           the samples: .npy, IDX, or an image folder (one folder per class)
     * @param labels         their labels (.npy or IDX, rank 1, integers); null for an image folder
     * @param trigger        the trigger
     * @param target         the target class
     * @param budget         a fraction or a count ({@link Budget})
     * @param allowOver5     whether a budget above 5% is allowed (recorded)
     * @param overrideReason why, or null
     * @param strategy       random or boundary
     * @param mode           dirty or clean
     * @param stratified     split the budget across classes in proportion
     * @param surrogate      the scores' source for boundary selection
     * @param features       the owner's features (.npy, N x D), for FEATURES_HEAD
     * @param head           the owner's head (.npz with W, b), for FEATURES_HEAD
     * @param outDir         the output directory
     * @param rank4          the layout of rank-4 image files
     */
    public record Options(Path data, Path labels, TriggerSpec trigger, int target, String budget, boolean allowOver5,
            String overrideReason, Strategy strategy, SelectionMode mode, boolean stratified, Surrogate surrogate,
            Path features, Path head, Path outDir, Layout rank4) {
        /** @throws NullPointerException for a missing required field */
        public Options {
            Objects.requireNonNull(data, "data");
            Objects.requireNonNull(trigger, "trigger");
            Objects.requireNonNull(strategy, "strategy");
            Objects.requireNonNull(mode, "mode");
            Objects.requireNonNull(surrogate, "surrogate");
            Objects.requireNonNull(outDir, "outDir");
            Objects.requireNonNull(rank4, "rank4");
        }
    }

    /**
     * What was done.
     *
     * @param samples           N
     * @param indices           the poisoned samples, ascending
     * @param data              the poisoned data file
     * @param labels            the output labels file
     * @param manifest          the signed manifest
     * @param surrogateAccuracy the surrogate's accuracy on the data, or NaN without one
     */
    public record Result(long samples, long[] indices, Path data, Path labels, Path manifest, double surrogateAccuracy) {}

    /**
     * Runs the job.
     *
     * @param engine   the engine
     * @param o        the options
     * @param key      the owner's key
     * @param progress receives one line per phase
     * @return a summary
     * @throws InvalidArgumentException for bad parameters, a budget that cannot be met, or no key
     * @throws InvalidInputException    for unusable inputs
     * @throws IOException              if writing fails (no partial output under final names)
     */
    public static Result run(Engine engine, Options o, OwnerKey key, Consumer<String> progress) throws IOException {
        return run(engine, o, key, progress, Progress.NONE);
    }

    /**
     * As {@link #run(Engine, Options, OwnerKey, Consumer)}, with a progress bar's feed for the stamping.
     *
     * @param engine   the engine
     * @param o        the options
     * @param key      the owner's key
     * @param progress receives one line per phase
     * @param bar      receives the stamping's progress in samples
     * @return a summary
     * @throws InvalidArgumentException for bad parameters, a budget that cannot be met, or no key
     * @throws InvalidInputException    for unusable inputs
     * @throws IOException              if writing fails (no partial output under final names)
     */
    public static Result run(Engine engine, Options o, OwnerKey key, Consumer<String> progress, Progress bar)
            throws IOException {
        if (key == null) {
            throw new InvalidArgumentException("poison needs the owner's key (it chooses the samples and signs the "
                    + "manifest): give --key-file FILE or set " + OwnerKey.ENV_VAR);
        }
        if (o.trigger().kind() != DataKind.IMAGES && o.surrogate() == Surrogate.LINEAR) {
            throw new InvalidArgumentException("--surrogate linear fits on image pixels; for " + o.trigger().family()
                    + " data give --features and --head");
        }
        if (o.strategy() != Strategy.RANDOM && o.surrogate() == Surrogate.NONE) {
            throw new InvalidArgumentException("boundary selection needs a surrogate: --surrogate linear, or --features "
                    + "X.npy --head H.npz");
        }
        if (o.strategy() == Strategy.RANDOM && o.surrogate() != Surrogate.NONE) {
            throw new InvalidArgumentException("random selection uses no surrogate; drop --surrogate/--features/--head");
        }
        if (o.overrideReason() != null && !o.allowOver5()) {
            throw new InvalidArgumentException("an override reason is only for --allow-over-5-percent");
        }
        if (Files.isDirectory(o.data())) {
            if (o.labels() != null) {
                throw new InvalidArgumentException("an image folder's labels are its class folders; drop --labels");
            }
            return runFolder(engine, o, key, progress);
        }
        if (o.labels() == null) {
            throw new InvalidArgumentException("--labels is required for .npy and IDX data");
        }
        long[] labels = Samples.labels(o.labels());
        Path dataOut = o.outDir().resolve(outputName(o.data(), "data"));
        Path labelsOut = o.outDir().resolve(outputName(o.labels(), "labels"));
        Path manifestPath = o.outDir().resolve("manifest.json");
        for (Path in : new Path[] {o.data(), o.labels()}) {
            for (Path out : new Path[] {dataOut, labelsOut, manifestPath}) {
                if (in.toAbsolutePath().normalize().equals(out.toAbsolutePath().normalize())
                        || (Files.exists(out) && Files.isSameFile(in, out))) {
                    throw new InvalidArgumentException("output " + out + " would overwrite the input " + in
                            + "; choose another --out directory");
                }
            }
        }
        if (Files.exists(manifestPath)) {
            throw new InvalidArgumentException(o.outDir() + " already holds a manifest.json; choose an empty directory");
        }
        long n = labels.length;
        long max = Arrays.stream(labels).max().orElse(0);
        if (Arrays.stream(labels).anyMatch(v -> v < 0)) {
            throw new InvalidInputException(o.labels() + ": labels must be non-negative class indices");
        }
        int classes = (int) Math.max(Math.max(max + 1, o.target() + 1L), 2);
        if (o.target() < 0) {
            throw new InvalidArgumentException("target must be a class >= 0, got " + o.target());
        }
        long count = Budget.parse(o.budget()).countFor(n, o.allowOver5());
        try (Samples.Reader r = Samples.open(o.labels())) {
            String d = r.descr();
            if ((d.endsWith("u1") && o.target() > 255) || (d.endsWith("i1") && o.target() > 127)
                    || (d.endsWith("i2") && o.target() > Short.MAX_VALUE)) {
                throw new InvalidArgumentException("target " + o.target() + " does not fit the labels' dtype " + d);
            }
        }
        // The stamping job checks the data (format, dtype, shape, trigger geometry) before any work.
        StampJob stamp = StampJob.prepare(o.data(), dataOut, o.trigger(), key, null, o.rank4());
        if (stamp.samples() != n) {
            throw new InvalidArgumentException("the data holds " + stamp.samples() + " samples but the labels "
                    + labels.length);
        }

        float[] scores = null;
        double accuracy = Double.NaN;
        String surrogateSha = null;
        if (o.strategy() != Strategy.RANDOM) {
            LinearHead head;
            Path featuresPath;
            if (o.surrogate() == Surrogate.FEATURES_HEAD) {
                head = Npz.readHead(Objects.requireNonNull(o.head(), "head"));
                featuresPath = Objects.requireNonNull(o.features(), "features");
                surrogateSha = Fingerprints.sha256(o.head());
            } else {
                progress.accept("fitting a linear surrogate on the pixels");
                long t0 = System.nanoTime();
                float[] x = pixels(o.data(), n);
                int d = (int) (x.length / Math.max(n, 1));
                head = LinearSurrogate.fit(engine, x, (int) n, d, labels, classes, key, LinearSurrogate.Settings.DEFAULT);
                surrogateSha = headSha(head);
                featuresPath = null;
                long t1 = System.nanoTime();
                scores = new float[(int) n];
                accuracy = score(engine, x, (int) n, d, head, labels, o, scores);
                progress.accept(String.format(Locale.ROOT, "surrogate fitted on the engine in %.0f ms; %d samples scored "
                        + "in %.1f ms", (t1 - t0) / 1e6, n, (System.nanoTime() - t1) / 1e6));
            }
            if (head.classes() < classes) {
                throw new InvalidArgumentException("the head has " + head.classes() + " classes but the labels use "
                        + classes);
            }
            if (featuresPath != null) {
                float[] x = featureRows(featuresPath, n, head.dim());
                long t1 = System.nanoTime();
                scores = new float[(int) n];
                accuracy = score(engine, x, (int) n, head.dim(), head, labels, o, scores);
                progress.accept(String.format(Locale.ROOT, "%d samples scored on the engine in %.1f ms", n,
                        (System.nanoTime() - t1) / 1e6));
            }
        }
        progress.accept("selecting " + count + " of " + n + " samples (" + o.strategy().name().toLowerCase(Locale.ROOT)
                .replace('_', '-')
                + ", " + o.mode().name().toLowerCase(Locale.ROOT) + "-label)");
        Selector.Result sel = Selector.select(labels, classes, o.target(), o.mode(), o.strategy(), scores, count,
                o.stratified(), key);

        Files.createDirectories(o.outDir());
        boolean hadData = Files.exists(dataOut);
        boolean hadLabels = Files.exists(labelsOut);
        boolean complete = false;
        try {
            long t2 = System.nanoTime();
            StampJob.prepare(o.data(), dataOut, o.trigger(), key, sel.indices(), o.rank4()).run(engine,
                    StampJob.DEFAULT_CHUNK_BYTES, bar);
            progress.accept(String.format(Locale.ROOT, "stamped %s on %d samples and wrote %s in %.1f ms", o.trigger(),
                    sel.indices().length, dataOut.getFileName(), (System.nanoTime() - t2) / 1e6));
            writeLabels(o.labels(), labelsOut, o.mode() == SelectionMode.DIRTY ? sel.indices() : new long[0],
                    o.target());
            Manifest m = manifest(o, key, classes, sel, n, surrogateSha, dataOut, labelsOut);
            ManifestWriter.write(ManifestSigner.sign(m, key), manifestPath);
            complete = true;
        } finally {
            if (!complete) {
                // A poisoned dataset without its manifest is no record: remove what this run put in place
                // (files that were there before it are left alone).
                if (!hadData) {
                    deleteQuietly(dataOut);
                }
                if (!hadLabels) {
                    deleteQuietly(labelsOut);
                }
            }
        }
        return new Result(n, sel.indices(), dataOut, labelsOut, manifestPath, accuracy);
    }

    /** The record of what was done; labels files are absent for image folders (labels == null). */
    private static Manifest manifest(Options o, OwnerKey key, int classes, Selector.Result sel, long n,
            String surrogateSha, Path dataOut, Path labelsOut) {
        Map<Long, Long> poisoned = new TreeMap<>();
        Map<Long, Long> total = new TreeMap<>();
        for (int c = 0; c < classes; c++) {
            total.put((long) c, sel.perClassTotal()[c]);
            poisoned.put((long) c, sel.perClassChosen()[c]);
        }
        Path dir = o.outDir();
        Manifest.Builder b = Manifest.builder()
                .toolVersion(Engine.version())
                .created(Instant.now())
                .keyFingerprint(key.fingerprint())
                .addFile(Manifest.DatasetFile.of(Manifest.Stage.INPUT, Manifest.Role.DATA, dir, o.data()))
                .addFile(Manifest.DatasetFile.of(Manifest.Stage.OUTPUT, Manifest.Role.DATA, dir, dataOut));
        if (o.labels() != null) {
            b.addFile(Manifest.DatasetFile.of(Manifest.Stage.INPUT, Manifest.Role.LABELS, dir, o.labels()))
                    .addFile(Manifest.DatasetFile.of(Manifest.Stage.OUTPUT, Manifest.Role.LABELS, dir, labelsOut));
        }
        return b.trigger(o.trigger().toString(), o.trigger().toJson())
                .targetClass(o.target())
                .mode(o.mode() == SelectionMode.DIRTY ? Manifest.Mode.DIRTY : Manifest.Mode.CLEAN)
                .budget(Manifest.Budget.of(o.budget(), sel.indices().length, n))
                .override(o.allowOver5() ? new Manifest.BudgetOverride(true, o.overrideReason())
                        : Manifest.BudgetOverride.NONE)
                .selection(new Manifest.Selection(
                        switch (o.strategy()) {
                            case BOUNDARY -> Manifest.Strategy.BOUNDARY;
                            case BOUNDARY_FAR -> Manifest.Strategy.BOUNDARY_FAR;
                            case RANDOM -> Manifest.Strategy.RANDOM;
                        },
                        o.stratified(),
                        switch (o.surrogate()) {
                            case NONE -> Manifest.SurrogateKind.NONE;
                            case LINEAR -> Manifest.SurrogateKind.LINEAR;
                            case FEATURES_HEAD -> Manifest.SurrogateKind.FEATURES_HEAD;
                        }, surrogateSha))
                .classCounts(poisoned, total)
                .indices(sel.indices())
                .build();
    }

    /**
     * Image-folder datasets: the output is a folder of the same layout under the output directory,
     * with the input folder's name; poisoned images are written as PNG (lossless, so the trigger
     * survives) and, for dirty-label poisoning, into the target's class folder under their own names.
     */
    private static Result runFolder(Engine engine, Options o, OwnerKey key, Consumer<String> progress)
            throws IOException {
        ImageFolder folder = ImageFolder.scan(o.data());
        long n = folder.size();
        long[] labels = folder.labels();
        int classes = Math.max(folder.classes().size(), 2);
        if (o.target() < 0 || o.target() >= folder.classes().size()) {
            throw new InvalidArgumentException("target must be a class in [0, " + folder.classes().size()
                    + ") (the class folders " + folder.classes() + "), got " + o.target());
        }
        int c = folder.channels();
        int h = folder.height();
        int w = folder.width();
        Tensor geometry = Tensor.empty(DType.UINT8, Layout.NHWC, c, h, w);
        o.trigger().validateFor(geometry);
        if (o.trigger().keyed()) {
            new TriggerContext(key, 0).requireKey(o.trigger().family());
        }
        long count = Budget.parse(o.budget()).countFor(n, o.allowOver5());
        Path dataOut = o.outDir().resolve(o.data().toAbsolutePath().normalize().getFileName().toString());
        Path manifestPath = o.outDir().resolve("manifest.json");
        if (dataOut.toAbsolutePath().normalize().equals(o.data().toAbsolutePath().normalize())) {
            throw new InvalidArgumentException("output " + dataOut + " would overwrite the input; choose another --out");
        }
        if (Files.exists(manifestPath)) {
            throw new InvalidArgumentException(o.outDir() + " already holds a manifest.json; choose an empty directory");
        }
        int sampleBytes = Math.toIntExact((long) c * h * w);
        float[] scores = null;
        double accuracy = Double.NaN;
        String surrogateSha = null;
        if (o.strategy() != Strategy.RANDOM) {
            LinearHead head;
            float[] x;
            if (o.surrogate() == Surrogate.FEATURES_HEAD) {
                head = Npz.readHead(o.head());
                surrogateSha = Fingerprints.sha256(o.head());
                x = featureRows(o.features(), n, head.dim());
            } else {
                progress.accept("fitting a linear surrogate on the pixels");
                if (n * sampleBytes > Integer.MAX_VALUE - 8) {
                    throw new InvalidArgumentException("--surrogate linear holds the pixels in memory; too many");
                }
                x = new float[(int) (n * sampleBytes)];
                ByteBuffer one = ByteBuffer.allocate(sampleBytes);
                for (long i = 0; i < n; i++) {
                    one.clear();
                    folder.readImages(i, 1, one, c);
                    for (int e = 0; e < sampleBytes; e++) {
                        x[(int) (i * sampleBytes + e)] = (one.get(e) & 0xff) / 255f;
                    }
                }
                head = LinearSurrogate.fit(engine, x, (int) n, sampleBytes, labels, classes, key,
                        LinearSurrogate.Settings.DEFAULT);
                surrogateSha = headSha(head);
            }
            if (head.classes() < folder.classes().size()) {
                throw new InvalidArgumentException("the head has " + head.classes() + " classes but the folder "
                        + folder.classes().size());
            }
            scores = new float[(int) n];
            accuracy = score(engine, x, (int) n, head.dim(), head, labels, o, scores);
        }
        Selector.Result sel = Selector.select(labels, classes, o.target(), o.mode(), o.strategy(), scores, count,
                o.stratified(), key);
        boolean[] chosen = new boolean[(int) n];
        for (long i : sel.indices()) {
            chosen[(int) i] = true;
        }
        // Each output class's images in name order (the writer's contract), with the moved ones.
        java.util.List<java.util.List<long[]>> members = new java.util.ArrayList<>();
        for (int k = 0; k < folder.classes().size(); k++) {
            members.add(new java.util.ArrayList<>());
        }
        for (long i = 0; i < n; i++) {
            int to = chosen[(int) i] && o.mode() == SelectionMode.DIRTY ? o.target() : (int) labels[(int) i];
            members.get(to).add(new long[] {i});
        }
        Files.createDirectories(o.outDir());
        progress.accept("stamping " + o.trigger() + " on " + sel.indices().length + " images");
        try (ImageFolder.Writer writer = ImageFolder.Writer.create(dataOut, folder.classes())) {
            ByteBuffer one = ByteBuffer.allocateDirect(sampleBytes);
            for (int k = 0; k < members.size(); k++) {
                java.util.List<long[]> list = members.get(k);
                list.sort(java.util.Comparator.comparing(m -> pngName(folder.file(m[0]))));
                String previous = null;
                for (long[] m : list) {
                    long i = m[0];
                    String name = pngName(folder.file(i));
                    if (name.equals(previous)) {
                        throw new InvalidArgumentException("two images would be written as " + folder.classes().get(k)
                                + "/" + name + " (a poisoned image moved into the target class has the name of one "
                                + "already there); rename one of them");
                    }
                    previous = name;
                    one.clear();
                    folder.readImages(i, 1, one, c);
                    one.flip();
                    if (chosen[(int) i]) {
                        o.trigger().apply(engine, Tensor.of(one, Layout.NHWC, 1, c, h, w), null,
                                new TriggerContext(key, i));
                    }
                    byte[] pixels = new byte[sampleBytes];
                    one.duplicate().get(pixels);
                    writer.add(k, name, pixels, h, w, c);
                }
            }
            writer.commit();
        }
        boolean complete = false;
        try {
            Manifest m = manifest(o, key, classes, sel, n, surrogateSha, dataOut, null);
            ManifestWriter.write(ManifestSigner.sign(m, key), manifestPath);
            complete = true;
        } finally {
            if (!complete) {
                deleteQuietly(dataOut);
            }
        }
        return new Result(n, sel.indices(), dataOut, null, manifestPath, accuracy);
    }

    /** The output name of an image: its own name, with a JPEG's extension replaced by .png. */
    private static String pngName(Path file) {
        String name = file.getFileName().toString();
        String lower = name.toLowerCase(Locale.ROOT);
        if (lower.endsWith(".jpg") || lower.endsWith(".jpeg")) {
            return name.substring(0, name.lastIndexOf('.')) + ".png";
        }
        return name;
    }

    /** Removes a file or a whole directory tree; failures are ignored (this runs while another is thrown). */
    private static void deleteQuietly(Path path) {
        if (path == null || !Files.exists(path)) {
            return;
        }
        try (java.util.stream.Stream<Path> walk = Files.walk(path)) {
            for (Path p : walk.sorted(java.util.Comparator.reverseOrder()).toList()) {
                Files.deleteIfExists(p);
            }
        } catch (IOException | RuntimeException e) {
            // Best effort: the original failure is what the caller needs to see.
        }
    }

    /** Output names: data.npy / labels.npy for .npy input, the input's own name for IDX. */
    private static String outputName(Path input, String base) {
        String name = input.getFileName().toString();
        return name.toLowerCase(Locale.ROOT).endsWith(".npy") ? base + ".npy" : name;
    }

    /** The scores selection sorts by: distance to the target's boundary (dirty) or the nearest (clean). */
    private static double score(Engine engine, float[] x, int n, int d, LinearHead head, long[] labels, Options o,
            float[] out) {
        int chunk = Math.max(1, Math.min(n, (16 << 20) / Math.max(d * 4, 1)));
        long correct = 0;
        // One direct buffer for every chunk: allocating direct memory per chunk can stall on the JVM's
        // direct-memory accounting.
        java.nio.FloatBuffer buffer = ByteBuffer.allocateDirect(chunk * d * 4).order(ByteOrder.nativeOrder())
                .asFloatBuffer();
        for (int first = 0; first < n; first += chunk) {
            int count = Math.min(chunk, n - first);
            java.nio.FloatBuffer rows = buffer.clear().put(x, first * d, count * d).flip();
            BoundaryScores s = engine.scoreBoundary(Tensor.rows(rows, count, d), head.weight(), head.bias(), o.target());
            for (int i = 0; i < count; i++) {
                out[first + i] = o.mode() == SelectionMode.DIRTY ? s.targetDistance()[i] : s.distance()[i];
                if (s.predicted()[i] == labels[first + i]) {
                    correct++;
                }
            }
        }
        return (double) correct / Math.max(n, 1);
    }

    /** The data's samples as float rows: uint8 pixels scaled to [0, 1], float32 as they are. */
    static float[] pixels(Path data, long n) {
        try (Samples.Reader r = Samples.open(data)) {
            boolean u8 = r.descr().endsWith("u1");
            long elems = n * r.sampleBytes() / (u8 ? 1 : 4);
            if (elems > Integer.MAX_VALUE - 8) {
                throw new InvalidArgumentException("--surrogate linear holds the pixels in memory; " + elems
                        + " values are too many (give --features and --head instead)");
            }
            float[] x = new float[(int) elems];
            int per = (int) Math.max(1, (64L << 20) / Math.max(r.sampleBytes(), 1));
            ByteBuffer buf = ByteBuffer.allocate((int) (per * r.sampleBytes())).order(ByteOrder.LITTLE_ENDIAN);
            int at = 0;
            for (long first = 0; first < n; first += per) {
                int count = (int) Math.min(per, n - first);
                buf.clear();
                buf.limit((int) (count * r.sampleBytes()));
                r.readSamples(first, count, buf);
                buf.flip();
                while (buf.hasRemaining()) {
                    x[at++] = u8 ? (buf.get() & 0xff) / 255f : buf.getFloat();
                }
            }
            return x;
        }
    }

    private static float[] featureRows(Path features, long n, int d) {
        try (Samples.Reader r = Samples.open(features)) {
            if (!r.descr().equals("<f4") || r.shape()[0] != n || r.sampleBytes() != 4L * d) {
                throw new InvalidInputException(features + ": features must be float32 of shape (" + n + ", " + d
                        + ") to match the data and the head, got " + r.descr() + " " + Arrays.toString(r.shape()));
            }
        }
        float[] x = pixels(features, n);
        for (int i = 0; i < x.length; i++) {
            if (!Float.isFinite(x[i])) {
                throw new InvalidInputException(features + ": feature " + (i % d) + " of sample " + (i / d)
                        + " is not finite");
            }
        }
        return x;
    }

    private static String headSha(LinearHead head) {
        try {
            MessageDigest md = MessageDigest.getInstance("SHA-256");
            ByteBuffer b = ByteBuffer.allocate((head.weight().length + head.bias().length) * 4).order(ByteOrder.LITTLE_ENDIAN);
            for (float v : head.weight()) {
                b.putFloat(v);
            }
            for (float v : head.bias()) {
                b.putFloat(v);
            }
            return HexFormat.of().formatHex(md.digest(b.array()));
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("SHA-256 is missing from this Java runtime", e);
        }
    }

    /** Copies the labels into the output format, setting the listed samples to the target. */
    private static void writeLabels(Path in, Path out, long[] relabel, int target) throws IOException {
        try (Samples.Reader r = Samples.open(in)) {
            long n = r.shape()[0];
            int eb = (int) r.sampleBytes();
            ByteBuffer all = ByteBuffer.allocate(Math.toIntExact(n * eb)).order(ByteOrder.LITTLE_ENDIAN);
            r.readSamples(0, (int) n, all);
            all.flip();
            for (long i : relabel) {
                int at = (int) (i * eb);
                switch (eb) {
                    case 1 -> all.put(at, (byte) target);
                    case 2 -> all.putShort(at, (short) target);
                    case 4 -> all.putInt(at, target);
                    case 8 -> all.putLong(at, target);
                    default -> throw new InvalidInputException(in + ": unsupported label dtype " + r.descr());
                }
            }
            try (Samples.Writer w = Samples.create(out, in, r.descr(), r.shape())) {
                w.write(all);
                w.commit();
            }
        }
    }
}
