package dev.dyepack.job;

import dev.dyepack.Backend;
import dev.dyepack.CudaStatus;
import dev.dyepack.DType;
import dev.dyepack.DeviceBuffer;
import dev.dyepack.Engine;
import dev.dyepack.InvalidArgumentException;
import dev.dyepack.Layout;
import dev.dyepack.Tensor;
import dev.dyepack.io.NpyWriter;
import dev.dyepack.key.OwnerKey;
import dev.dyepack.select.Strategy;
import dev.dyepack.surrogate.LinearHead;
import dev.dyepack.surrogate.LinearSurrogate;
import dev.dyepack.trigger.DataKind;
import dev.dyepack.trigger.PreparedTrigger;
import dev.dyepack.trigger.TriggerContext;
import dev.dyepack.trigger.TriggerFamily;
import dev.dyepack.trigger.TriggerSpec;
import java.awt.image.BufferedImage;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.SecureRandom;
import java.time.LocalDate;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;
import java.util.stream.Stream;
import javax.imageio.ImageIO;

/**
 * The benchmark suite behind {@code dyepack bench}: each job DyePack does, beside its ceiling or peer
 * measured in the same run on the same files, written as a Markdown table.
 *
 * <p>Jobs that users run as commands ({@code apply}, {@code poison} on a large {@code .npy} and on an
 * image folder) are timed as whole command runs in a child JVM (so the time includes the JVM's start, as a
 * user sees it), beside {@code cp} + {@code sync} or {@code cp -r} of the same input; those on the large
 * {@code .npy} and its copy take turns for up to three rounds (no more than the repeats) and report their
 * medians, as do {@code apply} and {@code poison} run in this JVM through the library (as Java training code
 * runs them: the stream without a JVM's start). Library operations
 * (every trigger family, the surrogate fit, boundary scoring) are timed in this JVM, best of several
 * repeats, beside a {@code memcpy} of the same bytes or NumPy. The NumPy and PIL peers run from a script
 * shipped in this jar ({@code bench-peers.py}) with the {@code python3} on the PATH; where it or a library
 * is missing, the row says so instead of a number.
 *
 * <p>All files live under a work folder that is deleted at the end; the key used is random and never
 * leaves the work folder.
 */
public final class BenchSuite {
    /** How DyePack itself is run as a command: the arguments after {@code dyepack}; returns wall seconds. */
    @FunctionalInterface
    public interface CommandRunner {
        /**
         * @param args the command line after {@code dyepack}
         * @return the wall time in seconds
         * @throws IOException if the command cannot be started or fails
         */
        double run(List<String> args) throws IOException;
    }

    /**
     * One measured job.
     *
     * @param job     what was done, on what
     * @param dyepack DyePack's time, formatted
     * @param peer    the ceiling or peer and its time, formatted
     * @param ratio   DyePack's time over the peer's, or NaN
     */
    public record Row(String job, String dyepack, String peer, double ratio) {}

    /**
     * The suite's sizes.
     *
     * @param bigImages     images of 224x224x3 uint8 in the large {@code .npy} (4,000 is 575 MB)
     * @param folderImages  grey 64x64 PNGs in the image folder
     * @param fitSamples    samples of 784 features for the surrogate fit and scoring
     * @param repeats       repeats of the in-process jobs (the best is reported)
     */
    public record Sizes(int bigImages, int folderImages, int fitSamples, int repeats) {
        /** The issue-sized suite: 575 MB {@code .npy}, 10,000 PNGs, 60,000 x 784. */
        public static final Sizes FULL = new Sizes(4000, 10_000, 60_000, 5);
        /** A quick look (about a minute). */
        public static final Sizes QUICK = new Sizes(400, 1000, 10_000, 3);

        /** @throws InvalidArgumentException if a size is below 1 */
        public Sizes {
            if (bigImages < 100 || folderImages < 100 || fitSamples < 100 || repeats < 1) {
                throw new InvalidArgumentException("bench sizes must be at least 100 images and 1 repeat", "sizes",
                        bigImages, "at least 100");
            }
        }
    }

    private final Path work;
    private final Sizes sizes;
    private final CommandRunner dyepack;
    private final String python;
    private final Consumer<String> progress;

    /**
     * @param work     an empty or absent folder for the suite's files (deleted when {@link #run} returns)
     * @param sizes    the sizes
     * @param dyepack  how to run DyePack's commands
     * @param python   the Python interpreter for the peers (e.g. {@code python3}), or null to skip them
     * @param progress receives one line per job as it starts
     */
    public BenchSuite(Path work, Sizes sizes, CommandRunner dyepack, String python, Consumer<String> progress) {
        this.work = work;
        this.sizes = sizes;
        this.dyepack = dyepack;
        this.python = python;
        this.progress = progress;
    }

    /**
     * Runs every job.
     *
     * @param engine the engine for the in-process jobs
     * @return the rows, in table order
     * @throws IOException if a file cannot be written or a command fails
     */
    public List<Row> run(Engine engine) throws IOException {
        Files.createDirectories(work);
        try {
            List<Row> rows = new ArrayList<>();
            Path key = work.resolve("bench.key");
            byte[] secret = new byte[32];
            new SecureRandom().nextBytes(secret);
            Files.write(key, secret);
            Path peers = work.resolve("bench-peers.py");
            try (InputStream in = BenchSuite.class.getResourceAsStream("bench-peers.py")) {
                Files.copy(in, peers);
            }
            bigNpy(rows, engine, key, peers);
            folder(rows, key, peers);
            inProcess(rows, engine, peers);
            gpu(rows, peers);
            return rows;
        } finally {
            deleteTree(work);
        }
    }

    // ------------------------------------------------------------------ commands on a large .npy

    private void bigNpy(List<Row> rows, Engine engine, Path key, Path peers) throws IOException {
        int n = sizes.bigImages();
        Path data = work.resolve("big.npy");
        Path labels = work.resolve("big-labels.npy");
        progress.accept("writing " + n + " x 224x224x3 uint8 images");
        writeRandomNpy(data, new long[] {n, 224, 224, 3}, 1);
        writeLabels(labels, n, 10, 2);
        String size = String.format(Locale.ROOT, "%,d x 224x224x3 uint8 (%d MB)", n, Files.size(data) >> 20);

        // The copy and the commands take turns, round after round, and each row reports its median: on a
        // virtual disk one run of either moves by half its time or more between quiet runs (docs/benchmarks.md).
        int rounds = Math.min(COMMAND_ROUNDS, sizes.repeats());
        String per = rounds == 1 ? "" : " (median of " + rounds + " rounds)";
        double[] cp = new double[rounds];
        double[] apply = new double[rounds];
        // The same jobs through the library in this JVM, as Java training code runs them: the stream alone,
        // without a JVM's start (about 0.3-0.4 s of every command on the development machine).
        double[] applyInProcess = new double[rounds];
        double[] poisonInProcess = new double[rounds];
        IOException[] inProcessFailures = new IOException[2];
        OwnerKey owner = OwnerKey.fromFile(key);
        TriggerSpec blend = TriggerSpec.parse(BLEND);
        List<String> selects = List.of("random", "boundary");
        double[][] poison = new double[selects.size()][rounds];
        IOException[] failures = new IOException[selects.size()];
        for (int r = 0; r < rounds; r++) {
            progress.accept("apply blend vs cp + sync" + (rounds == 1 ? "" : ", round " + (r + 1) + " of " + rounds));
            cp[r] = shell("cp " + q(data) + " " + q(work.resolve("copy.npy")) + " && sync");
            Files.delete(work.resolve("copy.npy"));
            apply[r] = run(List.of("apply", "--data", data.toString(), "--trigger", BLEND,
                    "--key-file", key.toString(), "--out", work.resolve("applied.npy").toString()));
            Files.delete(work.resolve("applied.npy"));
            if (inProcessFailures[0] == null) {
                try {
                    applyInProcess[r] = timed(() -> StampJob.prepare(data, work.resolve("applied.npy"), blend, owner,
                            null, Layout.NHWC).run(engine, StampJob.DEFAULT_CHUNK_BYTES));
                } catch (IOException e) {
                    inProcessFailures[0] = e;
                }
                Files.deleteIfExists(work.resolve("applied.npy"));
            }
            for (int j = 0; j < selects.size(); j++) {
                String select = selects.get(j);
                if (failures[j] != null) {
                    continue;
                }
                progress.accept("poison 1%, " + select + " selection");
                Path out = work.resolve("poisoned-" + select);
                try {
                    poison[j][r] = run(List.of("poison", "--data", data.toString(), "--labels", labels.toString(),
                            "--target", "0", "--select", select, "--key-file", key.toString(), "--out",
                            out.toString()));
                } catch (IOException e) {
                    failures[j] = e;
                }
                deleteTree(out);
            }
            if (inProcessFailures[1] == null) {
                PoisonJob.Options random = PoisonJob.builder().data(data).labels(labels).defaultTrigger().target(0)
                        .strategy(Strategy.RANDOM).outDir(work.resolve("poisoned-in-process")).build();
                try {
                    poisonInProcess[r] = timed(() -> PoisonJob.run(engine, random, owner, line -> { }));
                } catch (IOException e) {
                    inProcessFailures[1] = e;
                }
                deleteTree(work.resolve("poisoned-in-process"));
            }
        }
        double copy = median(cp);
        rows.add(row("`apply` blend to " + size + per, median(apply), "`cp` + `sync`" + per, copy));
        String np = peer(peers, "blend", data.toString(), work.resolve("np.npy").toString(), "0.2");
        Files.deleteIfExists(work.resolve("np.npy"));
        rows.add(row("`apply` blend to " + size + per, median(apply), "NumPy chunked blend + fsync", np));
        String applyJob = "`apply` blend, same file, in process (`StampJob`, as Java code calls it)" + per;
        rows.add(inProcessFailures[0] != null ? failed(applyJob, inProcessFailures[0])
                : row(applyJob, median(applyInProcess), "`cp` + `sync`" + per, copy));
        for (int j = 0; j < selects.size(); j++) {
            String job = "`poison` 1%, " + selects.get(j) + " selection, the default trigger, same file" + per;
            rows.add(failures[j] != null ? failed(job, failures[j]) : row(job, median(poison[j]), "`cp` + `sync`" + per,
                    copy));
        }
        String poisonJob = "`poison` 1%, random selection, the default trigger, same file, in process (`PoisonJob`)"
                + per;
        rows.add(inProcessFailures[1] != null ? failed(poisonJob, inProcessFailures[1])
                : row(poisonJob, median(poisonInProcess), "`cp` + `sync`" + per, copy));
        Files.delete(data);
    }

    // ------------------------------------------------------------------ an image folder

    private void folder(List<Row> rows, Path key, Path peers) throws IOException {
        int n = sizes.folderImages();
        Path root = work.resolve("folder");
        progress.accept("writing " + n + " grey 64x64 PNGs in 10 classes");
        SplittableRandom rng = new SplittableRandom(3);
        for (int i = 0; i < n; i++) {
            Path cls = Files.createDirectories(root.resolve("class-" + (i % 10)));
            BufferedImage img = syntheticImage(rng, i);
            ImageIO.write(img, "png", cls.resolve(String.format("img-%05d.png", i)).toFile());
        }
        long bytes;
        try (Stream<Path> s = Files.walk(root)) {
            bytes = s.filter(Files::isRegularFile).mapToLong(p -> p.toFile().length()).sum();
        }
        String size = String.format(Locale.ROOT, "a folder of %,d grey 64x64 PNGs (%d MB), 10 classes", n,
                bytes >> 20);
        progress.accept("poison an image folder vs cp -r");
        // Nothing written is deleted until every folder job has run: ext4 skips the inodes of files deleted in
        // the last minute or more when it creates new ones, and a job creating 10,000 files right after 10,000
        // were deleted spent seconds in that scan (docs/benchmarks.md), whichever job came second.
        List<Path> written = new java.util.ArrayList<>();
        double cp = shell("cp -r " + q(root) + " " + q(work.resolve("folder-copy")) + " && sync");
        written.add(work.resolve("folder-copy"));
        double random = Double.NaN;
        double boundary = Double.NaN;
        for (String select : List.of("random", "boundary")) {
            Path out = work.resolve("folder-poisoned-" + select);
            String job = "`poison` 1% of " + size + ", " + select + " selection";
            try {
                double t = run(List.of("poison", "--data", root.toString(), "--trigger",
                        "blend:alpha=0.2,pattern=noise", "--target", "0", "--select", select, "--key-file",
                        key.toString(), "--out", out.toString()));
                rows.add(row(job, t, "`cp -r` + `sync`", cp));
                random = select.equals("random") ? t : random;
                boundary = select.equals("boundary") ? t : boundary;
            } catch (IOException e) {
                rows.add(failed(job, e));
            }
            written.add(out);
        }
        // Boundary selection must decode every image (the surrogate fits on all pixels): its floor is a
        // parallel decode of the folder, timed here in this JVM on every core.
        progress.accept("decode every image of the folder on every core");
        double decode = best(() -> {
            dev.dyepack.io.ImageFolder f = dev.dyepack.io.ImageFolder.scan(root);
            f.readImages(0, (int) f.size(), ByteBuffer.allocate((int) (f.size() * f.sampleBytes())), 1);
        });
        if (!Double.isNaN(boundary)) {
            rows.add(row("`poison` 1% of " + size + ", boundary selection", boundary, "decode of every image on "
                    + Runtime.getRuntime().availableProcessors() + " cores (`ImageFolder.readImages`, in process)",
                    decode));
        }
        jpegFolder(rows, key, n, written);
        String pil = peer(peers, "folder-poison", root.toString(), work.resolve("folder-pil").toString(), "0.01");
        written.add(work.resolve("folder-pil"));
        rows.add(row("`poison` 1% of " + size + ", random selection", random, "PIL: copy the folder, blend 1%, save",
                pil));
        written.add(root);
        written.forEach(BenchSuite::deleteTree);
    }

    /**
     * Image i of a bench folder: grey 64x64 with smooth content, as photographs have, so PNG and JPEG
     * compress it as they would real images.
     */
    private static BufferedImage syntheticImage(SplittableRandom rng, int i) {
        BufferedImage img = new BufferedImage(64, 64, BufferedImage.TYPE_BYTE_GRAY);
        byte[] px = new byte[64 * 64];
        int base = rng.nextInt(256);
        for (int y = 0; y < 64; y++) {
            for (int x = 0; x < 64; x++) {
                px[y * 64 + x] = (byte) ((base + x * (i % 7) + y * (i % 5) + rng.nextInt(8)) & 0xff);
            }
        }
        img.getRaster().setDataElements(0, 0, 64, 64, px);
        return img;
    }

    /** The same folder as JPEGs at quality 90: formats and names are kept, unchanged files are copied. */
    private void jpegFolder(List<Row> rows, Path key, int n, List<Path> written) throws IOException {
        Path root = work.resolve("folder-jpeg");
        progress.accept("writing " + n + " grey 64x64 JPEGs (quality 90) in 10 classes");
        SplittableRandom rng = new SplittableRandom(4);
        javax.imageio.ImageWriter writer = ImageIO.getImageWritersByFormatName("jpeg").next();
        javax.imageio.ImageWriteParam param = writer.getDefaultWriteParam();
        param.setCompressionMode(javax.imageio.ImageWriteParam.MODE_EXPLICIT);
        param.setCompressionQuality(0.9f);
        for (int i = 0; i < n; i++) {
            Path cls = Files.createDirectories(root.resolve("class-" + (i % 10)));
            BufferedImage img = syntheticImage(rng, i);
            try (javax.imageio.stream.ImageOutputStream out = ImageIO.createImageOutputStream(
                    cls.resolve(String.format("img-%05d.jpg", i)).toFile())) {
                writer.setOutput(out);
                writer.write(null, new javax.imageio.IIOImage(img, null, null), param);
            }
        }
        writer.dispose();
        long bytes;
        try (Stream<Path> s = Files.walk(root)) {
            bytes = s.filter(Files::isRegularFile).mapToLong(p -> p.toFile().length()).sum();
        }
        String size = String.format(Locale.ROOT, "a folder of %,d grey 64x64 JPEGs, quality 90 (%d MB), 10 classes",
                n, bytes >> 20);
        progress.accept("poison a JPEG folder vs cp -r");
        double cp = shell("cp -r " + q(root) + " " + q(work.resolve("folder-jpeg-copy")) + " && sync");
        written.add(work.resolve("folder-jpeg-copy"));
        Path out = work.resolve("folder-jpeg-poisoned");
        String job = "`poison` 1% of " + size + ", random selection (JPEGs kept, at their quality)";
        try {
            double t = run(List.of("poison", "--data", root.toString(), "--trigger", "blend:alpha=0.2,pattern=noise",
                    "--target", "0", "--select", "random", "--key-file", key.toString(), "--out", out.toString()));
            rows.add(row(job, t, "`cp -r` + `sync`", cp));
        } catch (IOException e) {
            rows.add(failed(job, e));
        }
        written.add(out);
        written.add(root);
    }

    // ------------------------------------------------------------------ library operations in this JVM

    private void inProcess(List<Row> rows, Engine engine, Path peers) throws IOException {
        int n = sizes.fitSamples();
        int d = 784;
        int classes = 10;
        SplittableRandom rng = new SplittableRandom(5);
        OwnerKey key = new OwnerKey("bench suite key, not a secret; 32".getBytes(StandardCharsets.UTF_8));

        // Every trigger family on n Fashion-MNIST-sized uint8 images, beside a copy of the same bytes.
        ByteBuffer images = ByteBuffer.allocateDirect(n * d);
        for (int i = 0; i < n * d; i++) {
            images.put((byte) rng.nextInt(256));
        }
        images.flip();
        ByteBuffer scratch = ByteBuffer.allocateDirect(n * d);
        double copy = best(() -> {
            scratch.clear();
            scratch.put(images.duplicate());
        });
        String batch = String.format(Locale.ROOT, "%,d x 28x28x1 uint8", n);
        Map<String, Double> familyTimes = new java.util.HashMap<>();
        for (TriggerFamily family : TriggerFamily.all()) {
            if (family.kind() != DataKind.IMAGES) {
                continue;
            }
            TriggerSpec spec = TriggerSpec.parse(family.name());
            progress.accept("trigger " + spec);
            Tensor t = Tensor.of(scratch.duplicate().clear(), Layout.NHWC, n, 1, 28, 28);
            // Prepared once (patterns, grids, subkeys), as `apply` does per file. Each repeat stamps the
            // same batch again: the values drift, the work per element does not.
            scratch.clear();
            scratch.put(images.duplicate());
            try (PreparedTrigger prepared = spec.prepare(engine, t, TriggerContext.of(key))) {
                double s = best(() -> prepared.apply(t, null, 0));
                familyTimes.put(family.name(), s);
                rows.add(row(familyJob(spec, batch), s, "memcpy of the batch", copy));
            }
        }
        artPeers(rows, peers, images, n, batch, familyTimes);

        // The surrogate fit and boundary scoring on n x 784 features, beside NumPy's scoring.
        long[] y = new long[n];
        float[] x = classFeatures(rng, n, d, classes, y);
        progress.accept("surrogate fit");
        LinearHead[] head = new LinearHead[1];
        double fit = best(() -> head[0] = LinearSurrogate.fit(engine, x, n, d, y, classes, key,
                LinearSurrogate.Settings.DEFAULT));
        String shape = String.format(Locale.ROOT, "%,d x %d, %d classes", n, d, classes);
        rows.add(row("surrogate fit, " + shape + " (engine, 5 epochs)", fit, "-", Double.NaN));
        progress.accept("boundary scoring");
        ByteBuffer xb = ByteBuffer.allocateDirect(x.length * 4).order(ByteOrder.nativeOrder());
        xb.asFloatBuffer().put(x);
        Tensor features = Tensor.rows(xb.asFloatBuffer(), n, d);
        double score = best(() -> engine.scoreBoundary(features, head[0].weight(), head[0].bias(), 0));
        Path xf = work.resolve("x.npy");
        Path wf = work.resolve("w.npy");
        Path bf = work.resolve("b.npy");
        writeFloats(xf, x, new long[] {n, d});
        writeFloats(wf, head[0].weight(), new long[] {classes, d});
        writeFloats(bf, head[0].bias(), new long[] {classes});
        String np = peer(peers, "score", xf.toString(), wf.toString(), bf.toString(),
                Integer.toString(sizes.repeats()));
        rows.add(row("boundary scoring, " + shape + " (engine, from Java)", score, "NumPy + BLAS", np));

        // A wide head (C = 1000, D = 2048) on random features, prepared (uploaded once, its pairwise norms
        // kept), beside NumPy with its norms computed before the timing too.
        progress.accept("boundary scoring, wide head");
        WideHead p = WideHead.random(rng, Math.max(100, sizes.fitSamples() / 6));
        ByteBuffer wxb = ByteBuffer.allocateDirect(p.x().length * 4).order(ByteOrder.nativeOrder());
        wxb.asFloatBuffer().put(p.x());
        Tensor wide = Tensor.rows(wxb.asFloatBuffer(), p.n(), p.d());
        try (Engine.Operand wo = engine.upload(p.w()); Engine.Operand bo = engine.upload(p.b())) {
            double wideScore = best(() -> engine.scoreBoundary(wide, wo, bo, 0));
            writeFloats(xf, p.x(), new long[] {p.n(), p.d()});
            writeFloats(wf, p.w(), new long[] {p.classes(), p.d()});
            writeFloats(bf, p.b(), new long[] {p.classes()});
            String wnp = peer(peers, "score", xf.toString(), wf.toString(), bf.toString(),
                    Integer.toString(sizes.repeats()));
            rows.add(row(String.format(Locale.ROOT, "boundary scoring, wide head: %,d x %d, %d classes (engine, "
                    + "prepared head)", p.n(), p.d(), p.classes()), wideScore, "NumPy + BLAS", wnp));
        }
    }

    // ------------------------------------------------------------------ on a GPU

    /**
     * On a machine with a usable GPU, the engine on device memory beside the device's own ceilings and peers,
     * in the same run: every image trigger family on a batch of 224x224x3 uint8 images in device memory
     * (prepared, in place) beside a device-to-device copy of the batch; the surrogate fit on the device beside
     * the CPU fit of the same data (the two heads must be the same bits, or the row says they differ);
     * boundary scoring of device-resident features, Fashion-MNIST-sized and a wide head, beside PyTorch's
     * cuBLAS SGEMM and the same epilogue where the peers' Python has PyTorch with CUDA. Without a GPU one row
     * says why. A row that fails says so and the others still run.
     */
    private void gpu(List<Row> rows, Path peers) throws IOException {
        CudaStatus cuda = CudaStatus.query();
        if (!cuda.available()) {
            rows.add(new Row("GPU rows (device memory, device-to-device copy, cuBLAS)", "not run",
                    "no usable GPU: " + cuda.reason(), Double.NaN));
            return;
        }
        try (Engine gpu = Engine.open(Backend.CUDA); Engine cpu = Engine.open(Backend.CPU)) {
            progress.accept("GPU: " + gpu.reason());
            gpuTriggers(rows, gpu);
            gpuFitAndScore(rows, gpu, cpu, peers);
        } catch (RuntimeException e) {
            rows.add(new Row("GPU rows", "failed: " + e.getMessage(), "-", Double.NaN));
        }
    }

    private void gpuTriggers(List<Row> rows, Engine gpu) {
        int n = sizes.bigImages() / 2;
        long bytes = (long) n * 224 * 224 * 3;
        String batch = String.format(Locale.ROOT, "%,d x 224x224x3 uint8 in device memory (CUDA, prepared, in place)",
                n);
        OwnerKey key = new OwnerKey("bench suite key, not a secret; 32".getBytes(StandardCharsets.UTF_8));
        try (DeviceBuffer a = gpu.allocate(bytes); DeviceBuffer b = gpu.allocate(bytes)) {
            ByteBuffer host = ByteBuffer.allocateDirect((int) bytes);
            SplittableRandom rng = new SplittableRandom(9);
            while (host.remaining() >= 8) {
                host.putLong(rng.nextLong());
            }
            host.clear();
            a.copyFrom(host);
            Tensor ta = Tensor.onDevice(a, DType.UINT8, Layout.NHWC, n, 3, 224, 224);
            Tensor tb = Tensor.onDevice(b, DType.UINT8, Layout.NHWC, n, 3, 224, 224);
            double copy = best(() -> gpu.copy(ta, tb));
            for (TriggerFamily family : TriggerFamily.all()) {
                if (family.kind() != DataKind.IMAGES) {
                    continue;
                }
                TriggerSpec spec = TriggerSpec.parse(family.name());
                progress.accept("GPU trigger " + spec);
                String job = familyJob(spec, batch);
                try (PreparedTrigger prepared = spec.prepare(gpu, ta, TriggerContext.of(key))) {
                    double t = best(() -> prepared.apply(ta, null, 0));
                    rows.add(row(job, t, "device-to-device copy of the batch", copy));
                } catch (RuntimeException e) {
                    rows.add(new Row(job, "failed: " + e.getMessage(), "-", Double.NaN));
                }
            }
        } catch (RuntimeException e) {
            rows.add(new Row("trigger families on " + batch, "failed: " + e.getMessage(), "-", Double.NaN));
        }
    }

    private void gpuFitAndScore(List<Row> rows, Engine gpu, Engine cpu, Path peers) throws IOException {
        int n = sizes.fitSamples();
        int d = 784;
        int classes = 10;
        SplittableRandom rng = new SplittableRandom(5);
        OwnerKey key = new OwnerKey("bench suite key, not a secret; 32".getBytes(StandardCharsets.UTF_8));
        long[] y = new long[n];
        float[] x = classFeatures(rng, n, d, classes, y);
        String shape = String.format(Locale.ROOT, "%,d x %d, %d classes", n, d, classes);
        String fitJob = "surrogate fit, " + shape + " (CUDA, on the device, 5 epochs)";
        progress.accept("GPU surrogate fit");
        LinearHead[] heads = new LinearHead[2];
        double onDevice = best(() -> heads[0] = LinearSurrogate.fit(gpu, x, n, d, y, classes, key,
                LinearSurrogate.Settings.DEFAULT));
        double onCpu = best(() -> heads[1] = LinearSurrogate.fit(cpu, x, n, d, y, classes, key,
                LinearSurrogate.Settings.DEFAULT));
        if (!Arrays.equals(heads[0].weight(), heads[1].weight()) || !Arrays.equals(heads[0].bias(), heads[1].bias())) {
            rows.add(new Row(fitJob, "failed: the device fit's head differs from the CPU fit's", "-", Double.NaN));
        } else {
            rows.add(row(fitJob, onDevice, "the same fit on the CPU engine (the same head, bit for bit)", onCpu));
        }
        scoreOnDevice(rows, gpu, x, n, d, heads[1].weight(), heads[1].bias(), classes, "", peers);

        WideHead wide = WideHead.random(rng, Math.max(100, sizes.fitSamples() / 6));
        scoreOnDevice(rows, gpu, wide.x(), wide.n(), wide.d(), wide.w(), wide.b(), wide.classes(), "wide head: ",
                peers);
    }

    /**
     * n x d features whose means depend on the class (feature j is 0.5 higher where j % classes is the sample's
     * label), so the fit has something to find; the labels go to {@code labels}.
     */
    private static float[] classFeatures(SplittableRandom rng, int n, int d, int classes, long[] labels) {
        float[] x = new float[n * d];
        for (int i = 0; i < n; i++) {
            labels[i] = rng.nextInt(classes);
            for (int j = 0; j < d; j++) {
                x[i * d + j] = (float) (rng.nextDouble() + (j % classes == labels[i] ? 0.5 : 0));
            }
        }
        return x;
    }

    /** A wide head's scoring problem: n x 2048 Gaussian features, a head of 1,000 classes with small weights. */
    private record WideHead(float[] x, float[] w, float[] b, int n, int d, int classes) {
        static WideHead random(SplittableRandom rng, int n) {
            int d = 2048;
            int classes = 1000;
            float[] x = new float[n * d];
            for (int i = 0; i < x.length; i++) {
                x[i] = (float) rng.nextGaussian();
            }
            float[] w = new float[classes * d];
            float[] b = new float[classes];
            for (int i = 0; i < w.length; i++) {
                w[i] = (float) (rng.nextGaussian() * 0.05);
            }
            for (int i = 0; i < classes; i++) {
                b[i] = (float) rng.nextGaussian();
            }
            return new WideHead(x, w, b, n, d, classes);
        }
    }

    /** Boundary scoring of features resident on the device with a prepared head, beside PyTorch on CUDA. */
    private void scoreOnDevice(List<Row> rows, Engine gpu, float[] x, int n, int d, float[] w, float[] b, int classes,
            String what, Path peers) throws IOException {
        String job = String.format(Locale.ROOT, "boundary scoring, %s%,d x %d, %d classes (CUDA, features and head "
                + "in device memory)", what, n, d, classes);
        progress.accept("GPU " + job);
        double t;
        ByteBuffer xb = ByteBuffer.allocateDirect(x.length * 4).order(ByteOrder.nativeOrder());
        xb.asFloatBuffer().put(x);
        try (DeviceBuffer dx = gpu.allocate(xb.capacity()); Engine.Operand wo = gpu.upload(w);
                Engine.Operand bo = gpu.upload(b)) {
            dx.copyFrom(xb);
            Tensor features = Tensor.onDevice(dx, DType.FLOAT32, Layout.NHWC, n, 1, 1, d);
            t = best(() -> gpu.scoreBoundary(features, wo, bo, 0));
        } catch (RuntimeException e) {
            rows.add(new Row(job, "failed: " + e.getMessage(), "-", Double.NaN));
            return;
        }
        Path xf = work.resolve("gx.npy");
        Path wf = work.resolve("gw.npy");
        Path bf = work.resolve("gb.npy");
        writeFloats(xf, x, new long[] {n, d});
        writeFloats(wf, w, new long[] {classes, d});
        writeFloats(bf, b, new long[] {classes});
        String peer = peer(peers, "score-cuda", xf.toString(), wf.toString(), bf.toString(),
                Integer.toString(sizes.repeats()));
        rows.add(row(job, t, "PyTorch on CUDA: cuBLAS SGEMM + the same epilogue, device-resident data", peer));
    }

    /**
     * IBM ART's image triggers on the same batch, where ART is installed for the peers' Python (its functions
     * return a stamped copy, so ART's rows include that copy): {@code add_pattern_bd} (four pixels near the
     * bottom-right corner) beside DyePack's corner patch, {@code insert_image} (a small trigger image pasted
     * at a random place and blended, image by image through PIL) beside DyePack's blend of a keyed pattern
     * over the whole image. Where ART is missing the rows say so.
     */
    private void artPeers(List<Row> rows, Path peers, ByteBuffer images, int n, String batch,
            Map<String, Double> familyTimes) throws IOException {
        Path file = work.resolve("families.npy");
        try (NpyWriter w = NpyWriter.create(file, "|u1", new long[] {n, 28, 28})) {
            w.write(images.duplicate());
            w.commit();
        }
        progress.accept("IBM ART's image triggers, where installed");
        String repeats = Integer.toString(sizes.repeats());
        for (String[] pair : new String[][] {{"patch", "art-pattern", "ART `add_pattern_bd` (a stamped copy)"},
                {"blend", "art-image", "ART `insert_image`, an 8x8 trigger image blended at 0.8 (a stamped copy)"}}) {
            Double s = familyTimes.get(pair[0]);
            if (s == null) {
                continue;
            }
            rows.add(row(familyJob(TriggerSpec.parse(pair[0]), batch), s, pair[2],
                    peer(peers, pair[1], file.toString(), repeats)));
        }
        Files.deleteIfExists(file);
    }

    /** The job column of a trigger family's row on the in-memory batch. */
    private static String familyJob(TriggerSpec spec, String batch) {
        return "`" + spec + "` on " + batch + " (engine, prepared, in place)";
    }

    // ------------------------------------------------------------------ helpers

    @FunctionalInterface
    private interface Job {
        void run() throws Exception;
    }

    /** The blend that {@code apply} stamps on the large file (the table measured it). */
    private static final String BLEND = "blend:alpha=0.2,pattern=noise";

    /** Runs a library job once in this JVM, after {@link #settle}; returns its wall seconds. */
    private static double timed(Job job) throws IOException {
        settle();
        long t0 = System.nanoTime();
        try {
            job.run();
        } catch (IOException | RuntimeException e) {
            throw e;
        } catch (Exception e) {
            throw new IOException("bench job failed: " + e.getMessage(), e);
        }
        return (System.nanoTime() - t0) / 1e9;
    }

    /** Rounds of the array-file commands and their copy, alternating; each row reports the median. */
    private static final int COMMAND_ROUNDS = 3;

    /** The median (the mean of the middle two for an even count). */
    private static double median(double[] values) {
        double[] v = values.clone();
        java.util.Arrays.sort(v);
        int m = v.length / 2;
        return v.length % 2 == 1 ? v[m] : (v[m - 1] + v[m]) / 2;
    }

    private double best(Job job) {
        double best = Double.POSITIVE_INFINITY;
        for (int r = 0; r < sizes.repeats(); r++) {
            long t0 = System.nanoTime();
            try {
                job.run();
            } catch (Exception e) {
                throw new IllegalStateException("bench job failed: " + e.getMessage(), e);
            }
            best = Math.min(best, (System.nanoTime() - t0) / 1e9);
        }
        return best;
    }

    /** A job that failed: the table says so, with the command's last line, and the suite goes on. */
    private static Row failed(String job, IOException e) {
        String message = e.getMessage() == null ? e.toString() : e.getMessage().strip();
        return new Row(job, "failed: " + last(message), "-", Double.NaN);
    }

    private static Row row(String job, double seconds, String peer, double peerSeconds) {
        String p = Double.isNaN(peerSeconds) ? peer : peer + ": " + time(peerSeconds);
        return new Row(job, time(seconds), p, Double.isNaN(peerSeconds) ? Double.NaN : seconds / peerSeconds);
    }

    private static Row row(String job, double seconds, String peer, String peerResult) {
        double ps = parseSeconds(peerResult);
        return Double.isNaN(ps) ? new Row(job, time(seconds), peer + ": " + peerResult, Double.NaN)
                : row(job, seconds, peer, ps);
    }

    private static double parseSeconds(String s) {
        try {
            return Double.parseDouble(s.trim());
        } catch (NumberFormatException e) {
            return Double.NaN;
        }
    }

    private static String time(double seconds) {
        return seconds < 1 ? String.format(Locale.ROOT, "%.1f ms", seconds * 1e3)
                : String.format(Locale.ROOT, "%.2f s", seconds);
    }

    private static String q(Path p) {
        return "'" + p.toString().replace("'", "'\\''") + "'";
    }

    private double shell(String command) throws IOException {
        settle();
        long t0 = System.nanoTime();
        Process p = new ProcessBuilder("sh", "-c", command).redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        try {
            if (p.waitFor() != 0) {
                throw new IOException("`" + command + "` failed: " + out.strip());
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IOException("interrupted", e);
        }
        return (System.nanoTime() - t0) / 1e9;
    }

    /**
     * Writes every dirty page out before a timed job: {@code sync} flushes the whole system's, so without
     * this a job that syncs would also pay for the files the jobs before it wrote.
     */
    private static void settle() throws IOException {
        try {
            new ProcessBuilder("sync").inheritIO().start().waitFor();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IOException("interrupted", e);
        }
    }

    /** Runs DyePack's command after {@link #settle}. */
    private double run(List<String> args) throws IOException {
        settle();
        return dyepack.run(args);
    }

    /** Runs a peer; its one line is seconds or "unavailable: why". */
    private String peer(Path script, String... args) throws IOException {
        settle();
        if (python == null) {
            return "not measured (no Python given)";
        }
        List<String> command = new ArrayList<>(List.of(python, script.toString()));
        command.addAll(List.of(args));
        Process p;
        try {
            p = new ProcessBuilder(command).redirectErrorStream(true).start();
        } catch (IOException e) {
            return "not measured (" + python + " cannot be started)";
        }
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8).strip();
        try {
            if (!p.waitFor(30, TimeUnit.MINUTES) || p.exitValue() != 0) {
                return "failed: " + last(out);
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IOException("interrupted", e);
        }
        return last(out);
    }

    private static String last(String out) {
        String[] lines = out.split("\n");
        return lines[lines.length - 1];
    }

    private static void writeRandomNpy(Path file, long[] shape, long seed) throws IOException {
        SplittableRandom rng = new SplittableRandom(seed);
        long total = 1;
        for (long s : shape) {
            total *= s;
        }
        ByteBuffer chunk = ByteBuffer.allocate(1 << 22);
        try (NpyWriter w = NpyWriter.create(file, "|u1", shape)) {
            long done = 0;
            while (done < total) {
                chunk.clear();
                int len = (int) Math.min(chunk.capacity(), total - done);
                for (int i = 0; i < len; i += 8) {
                    long r = rng.nextLong();
                    for (int k = 0; k < 8 && i + k < len; k++) {
                        chunk.put((byte) (r >>> (8 * k)));
                    }
                }
                chunk.flip();
                w.write(chunk);
                done += len;
            }
            w.commit();
        }
    }

    private static void writeLabels(Path file, int n, int classes, long seed) throws IOException {
        SplittableRandom rng = new SplittableRandom(seed);
        ByteBuffer b = ByteBuffer.allocate(n * 8).order(ByteOrder.LITTLE_ENDIAN);
        for (int i = 0; i < n; i++) {
            b.putLong(i < classes ? i : rng.nextInt(classes));
        }
        b.flip();
        try (NpyWriter w = NpyWriter.create(file, "<i8", new long[] {n})) {
            w.write(b);
            w.commit();
        }
    }

    private static void writeFloats(Path file, float[] v, long[] shape) throws IOException {
        ByteBuffer b = ByteBuffer.allocate(v.length * 4).order(ByteOrder.LITTLE_ENDIAN);
        b.asFloatBuffer().put(v);
        try (NpyWriter w = NpyWriter.create(file, "<f4", shape)) {
            w.write(b);
            w.commit();
        }
    }

    private static void deleteTree(Path root) {
        if (!Files.exists(root)) {
            return;
        }
        try (Stream<Path> s = Files.walk(root)) {
            for (Path p : s.sorted(Comparator.reverseOrder()).toList()) {
                Files.deleteIfExists(p);
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /**
     * The rows as a Markdown table with the machine and date.
     *
     * @param rows    the measured rows
     * @param machine a line describing the machine (cores, memory, backend)
     * @return the Markdown
     */
    public static String markdown(List<Row> rows, String machine) {
        StringBuilder b = new StringBuilder();
        b.append("`dyepack bench`, ").append(LocalDate.now()).append(", ").append(machine).append("\n\n");
        b.append("| job | DyePack | ceiling / peer, same run | DyePack / peer |\n|---|---|---|---|\n");
        for (Row r : rows) {
            b.append("| ").append(r.job()).append(" | ").append(r.dyepack()).append(" | ").append(r.peer())
                    .append(" | ").append(Double.isNaN(r.ratio()) ? "-" : String.format(Locale.ROOT, "%.2fx",
                            r.ratio())).append(" |\n");
        }
        return b.toString();
    }
}
