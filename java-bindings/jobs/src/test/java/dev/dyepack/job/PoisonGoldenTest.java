package dev.dyepack.job;

import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.dyepack.Backend;
import dev.dyepack.Engine;
import dev.dyepack.Layout;
import dev.dyepack.io.Idx;
import dev.dyepack.io.IdxWriter;
import dev.dyepack.io.NpyWriter;
import dev.dyepack.key.OwnerKey;
import dev.dyepack.manifest.ManifestReader;
import dev.dyepack.select.Budget;
import dev.dyepack.select.SelectionMode;
import dev.dyepack.select.Strategy;
import dev.dyepack.trigger.TriggerSpec;
import java.awt.image.BufferedImage;
import java.io.IOException;
import java.io.InputStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HexFormat;
import java.util.List;
import java.util.Random;
import java.util.stream.Collectors;
import java.util.stream.Stream;
import javax.imageio.ImageIO;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The poisoning pipeline's outputs, byte for byte, against the SHA-256 of every output file and the
 * manifest's indices recorded from the two separate pipelines (array files, image folders) of commit
 * 4672c74, before they became one. The manifest file itself is not hashed: it holds its creation time.
 * The image-folder outputs were recorded again when folders began to stay themselves (unchanged files
 * copied, stamped ones in their own format and name); their indices, and every array output, did not change.
 * The 14 stamped PNGs of the folder cases were recorded again when plain 8-bit PNGs began to be written
 * without ImageIO ({@code PlainPng.reencode}: the same samples in another zlib stream); no other line changed.
 *
 * <p>The inputs are generated from fixed seeds and the keys are fixed, so the expectation in
 * {@code poison-golden.txt} is independent of the code under test. To see the current values after an
 * intended change, read {@code target/poison-golden-actual.txt} (written on every run).
 */
class PoisonGoldenTest {
    private static final OwnerKey KEY_A = new OwnerKey("golden key A: thirty-two bytes!!".getBytes(StandardCharsets.UTF_8));
    private static final OwnerKey KEY_B = new OwnerKey("golden key B, another 32 bytes.."
            .getBytes(StandardCharsets.UTF_8));

    @TempDir
    Path dir;

    /** One poisoning run to record. */
    private record Case(String name, String input, String trigger, int target, String budget, boolean over5,
            Strategy strategy, SelectionMode mode, boolean stratified, OwnerKey key) {}

    private static List<Case> cases() {
        List<Case> c = new ArrayList<>();
        for (String in : List.of("npy", "idx", "folder")) {
            c.add(new Case(in + "-random-dirty", in, "patch:size=2,pos=tl,value=255", 0, "6", true, Strategy.RANDOM,
                    SelectionMode.DIRTY, false, KEY_A));
            c.add(new Case(in + "-random-clean-stratified", in, "noise:eps=8", 1, "0.05", false, Strategy.RANDOM,
                    SelectionMode.CLEAN, true, KEY_B));
            c.add(new Case(in + "-boundary-clean-stratified", in, "blend:alpha=0.2,pattern=noise", 2, "5", true,
                    Strategy.BOUNDARY, SelectionMode.CLEAN, true, KEY_A));
            c.add(new Case(in + "-boundary-far-dirty", in, "noise:eps=12", 0, "0.04", false, Strategy.BOUNDARY_FAR,
                    SelectionMode.DIRTY, false, KEY_B));
            c.add(new Case(in + "-boundary-dirty-stratified", in, "patch:size=3,pos=br,value=200", 1, "7", true,
                    Strategy.BOUNDARY, SelectionMode.DIRTY, true, KEY_A));
        }
        return c;
    }

    @Test
    void outputsAreByteIdenticalToTheRecordedOnes() throws IOException {
        List<String> actual = new ArrayList<>();
        try (Engine engine = Engine.open(Backend.CPU)) {
            for (Case c : cases()) {
                Path work = Files.createDirectories(dir.resolve(c.name()));
                Path data;
                Path labels;
                switch (c.input()) {
                    case "npy" -> {
                        data = npyImages(work.resolve("x.npy"));
                        labels = npyLabels(work.resolve("y.npy"));
                    }
                    case "idx" -> {
                        data = idxImages(work.resolve("train-images-idx3-ubyte.gz"));
                        labels = idxLabels(work.resolve("train-labels-idx1-ubyte.gz"));
                    }
                    default -> {
                        data = folder(work.resolve("shapes"));
                        labels = null;
                    }
                }
                Path out = work.resolve("out");
                PoisonJob.Result r = poison(engine, c, data, labels, out);
                actual.add(c.name() + " indices " + Arrays.stream(r.indices()).mapToObj(Long::toString)
                        .collect(Collectors.joining(",")));
                assertEquals(Arrays.toString(r.indices()),
                        Arrays.toString(ManifestReader.read(out.resolve("manifest.json")).indices()),
                        c.name() + ": the manifest records the poisoned indices");
                try (Stream<Path> walk = Files.walk(out)) {
                    for (Path f : walk.filter(Files::isRegularFile).sorted().toList()) {
                        String rel = out.relativize(f).toString().replace('\\', '/');
                        if (!rel.equals("manifest.json")) {
                            actual.add(c.name() + " " + rel + " " + sha256(f));
                        }
                    }
                }
            }
        }
        String got = String.join("\n", actual) + "\n";
        Path report = Path.of("target", "poison-golden-actual.txt");
        Files.createDirectories(report.getParent());
        Files.writeString(report, got);
        String expected;
        try (InputStream in = PoisonGoldenTest.class.getResourceAsStream("poison-golden.txt")) {
            expected = in == null ? "" : new String(in.readAllBytes(), StandardCharsets.UTF_8);
        }
        assertEquals(expected, got, "outputs differ from the recorded ones (see " + report.toAbsolutePath() + ")");
    }

    /** Runs the job the way {@code dyepack poison} does. */
    private static PoisonJob.Result poison(Engine engine, Case c, Path data, Path labels, Path out) throws IOException {
        PoisonJob.Options o = PoisonJob.builder().data(data).labels(labels).trigger(TriggerSpec.parse(c.trigger()))
                .target(c.target()).budget(Budget.parse(c.budget())).allowOver5Percent(c.over5())
                .strategy(c.strategy()).mode(c.mode()).stratified(c.stratified()).outDir(out).rank4(Layout.NHWC)
                .negatives(0) // recorded before negatives existed; PoisonNegativesTest covers them
                .cleanEps(0) // recorded before the label-consistent push existed; PoisonCleanPushTest covers it
                // The folder cases record the bytes whatever survives: the colour noise on gray PNGs of an RGB
                // folder, and noise in JPEGs, keep little of their energy (CliPoisonFolderFormatsTest refuses it).
                .folderOutput(new FolderOutput(dev.dyepack.io.ImageFolder.LinkMode.COPY, false, 0, true))
                .build();
        return PoisonJob.run(engine, o, c.key(), line -> { });
    }

    private static final int N = 120;
    private static final int H = 10;
    private static final int W = 9;

    /** Class of sample i: three classes of unequal sizes, interleaved. */
    private static int label(int i) {
        return i % 7 < 3 ? 0 : i % 7 < 5 ? 1 : 2;
    }

    /** Pixels of sample i: class-dependent brightness plus seeded noise, so that a surrogate can learn. */
    private static byte[] pixels(int i, int channels) {
        Random rng = new Random(1000 + i);
        byte[] px = new byte[H * W * channels];
        for (int k = 0; k < px.length; k++) {
            px[k] = (byte) (60 * label(i) + (k % W) * 3 + rng.nextInt(40));
        }
        return px;
    }

    private static Path npyImages(Path f) throws IOException {
        try (NpyWriter w = NpyWriter.create(f, "|u1", new long[] {N, H, W, 3})) {
            for (int i = 0; i < N; i++) {
                w.write(ByteBuffer.wrap(pixels(i, 3)));
            }
            w.commit();
        }
        return f;
    }

    private static Path npyLabels(Path f) throws IOException {
        ByteBuffer b = ByteBuffer.allocate(8 * N).order(ByteOrder.LITTLE_ENDIAN);
        for (int i = 0; i < N; i++) {
            b.putLong(label(i));
        }
        b.flip();
        try (NpyWriter w = NpyWriter.create(f, "<i8", new long[] {N})) {
            w.write(b);
            w.commit();
        }
        return f;
    }

    private static Path idxImages(Path f) throws IOException {
        try (IdxWriter w = IdxWriter.create(f, Idx.UINT8, new long[] {N, H, W}, true)) {
            for (int i = 0; i < N; i++) {
                w.write(ByteBuffer.wrap(pixels(i, 1)));
            }
            w.commit();
        }
        return f;
    }

    private static Path idxLabels(Path f) throws IOException {
        byte[] b = new byte[N];
        for (int i = 0; i < N; i++) {
            b[i] = (byte) label(i);
        }
        try (IdxWriter w = IdxWriter.create(f, Idx.UINT8, new long[] {N}, true)) {
            w.write(ByteBuffer.wrap(b));
            w.commit();
        }
        return f;
    }

    /**
     * An image folder: 8-bit RGB PNGs for class "a", 8-bit gray PNGs for "b" (read as RGB, gray
     * repeated), JPEGs for "c" (written back as PNG).
     */
    private static Path folder(Path root) throws IOException {
        String[] classes = {"a", "b", "c"};
        for (int i = 0; i < N; i++) {
            int c = label(i);
            Path cls = Files.createDirectories(root.resolve(classes[c]));
            BufferedImage img;
            if (c == 1) {
                img = new BufferedImage(W, H, BufferedImage.TYPE_BYTE_GRAY);
                byte[] px = pixels(i, 1);
                img.getRaster().setDataElements(0, 0, W, H, px);
            } else {
                img = new BufferedImage(W, H, BufferedImage.TYPE_3BYTE_BGR);
                byte[] px = pixels(i, 3);
                for (int y = 0; y < H; y++) {
                    for (int x = 0; x < W; x++) {
                        int at = 3 * (y * W + x);
                        img.setRGB(x, y, (px[at] & 0xff) << 16 | (px[at + 1] & 0xff) << 8 | (px[at + 2] & 0xff));
                    }
                }
            }
            String ext = c == 2 ? "jpg" : "png";
            ImageIO.write(img, ext, cls.resolve(String.format("img-%03d.%s", i, ext)).toFile());
        }
        return root;
    }

    private static String sha256(Path f) throws IOException {
        try {
            return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(Files.readAllBytes(f)));
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }
}
