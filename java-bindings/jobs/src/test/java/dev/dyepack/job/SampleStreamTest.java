package dev.dyepack.job;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.dyepack.Backend;
import dev.dyepack.Engine;
import dev.dyepack.Layout;
import dev.dyepack.Tensor;
import dev.dyepack.io.Idx;
import dev.dyepack.io.IdxWriter;
import dev.dyepack.io.NpyWriter;
import dev.dyepack.key.OwnerKey;
import dev.dyepack.manifest.Manifest;
import dev.dyepack.manifest.ManifestReader;
import dev.dyepack.select.Budget;
import dev.dyepack.select.Strategy;
import dev.dyepack.trigger.TriggerContext;
import dev.dyepack.trigger.TriggerSpec;
import java.io.IOException;
import java.io.InputStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.Arrays;
import java.util.HexFormat;
import java.util.Random;
import java.util.zip.GZIPInputStream;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * The streaming path of {@code apply} and {@code poison}: rows nobody stamps are copied (inside the kernel
 * for uncompressed files of one format) and come out as the input's bytes; stamped rows are what the
 * engine gives on the whole dataset in memory; and the SHA-256 a manifest records, taken while
 * streaming, is the file's own (hashed here from disk).
 */
class SampleStreamTest {
    private static final OwnerKey KEY = new OwnerKey("sample stream test key, 32 bytes".getBytes(StandardCharsets.UTF_8));
    private static final int N = 300;
    private static final int H = 9;
    private static final int W = 7;
    private static final String SPEC = "blend:alpha=0.3,pattern=noise";

    @TempDir
    Path dir;

    /** The file formats: npy, plain IDX, gzip IDX; uint8 and (npy, IDX) float32. */
    private Path write(String format, byte[] u8, float[] f32) throws IOException {
        long[] shape = {N, H, W};
        ByteBuffer data = u8 != null ? ByteBuffer.wrap(u8) : floats(f32);
        Path p = dir.resolve("in-" + format + (format.startsWith("npy") ? ".npy" : ".idx"));
        if (format.startsWith("npy")) {
            try (NpyWriter w = NpyWriter.create(p, u8 != null ? "|u1" : "<f4", shape)) {
                w.write(data);
                w.commit();
            }
        } else {
            try (IdxWriter w = IdxWriter.create(p, u8 != null ? Idx.UINT8 : Idx.FLOAT32, shape, format.endsWith("gz"))) {
                w.write(data);
                w.commit();
            }
        }
        return p;
    }

    private static ByteBuffer floats(float[] v) {
        ByteBuffer b = ByteBuffer.allocate(v.length * 4).order(ByteOrder.LITTLE_ENDIAN);
        b.asFloatBuffer().put(v);
        return b;
    }

    /** The data bytes of a file, little-endian: the npy payload, or IDX's (gunzipped, byte-swapped). */
    private static byte[] payload(Path p, boolean f32) throws IOException {
        byte[] all = Files.readAllBytes(p);
        if (p.toString().endsWith(".npy")) {
            int len = (all[8] & 0xff) | (all[9] & 0xff) << 8;
            return Arrays.copyOfRange(all, 10 + len, all.length);
        }
        if ((all[0] & 0xff) == 0x1f) {
            try (InputStream in = new GZIPInputStream(Files.newInputStream(p))) {
                all = in.readAllBytes();
            }
        }
        byte[] data = Arrays.copyOfRange(all, 4 + 4 * all[3], all.length);
        if (f32) {
            for (int i = 0; i < data.length; i += 4) {
                byte t = data[i];
                data[i] = data[i + 3];
                data[i + 3] = t;
                t = data[i + 1];
                data[i + 1] = data[i + 2];
                data[i + 2] = t;
            }
        }
        return data;
    }

    private static String sha256(Path p) throws IOException {
        try {
            return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(Files.readAllBytes(p)));
        } catch (NoSuchAlgorithmException e) {
            throw new AssertionError(e);
        }
    }

    /** The whole dataset stamped in one call on the engine: the reference for the streamed output. */
    private static byte[] stampedInMemory(byte[] payload, boolean f32, long[] rows, OwnerKey key) {
        ByteBuffer b = ByteBuffer.allocateDirect(payload.length).order(ByteOrder.nativeOrder());
        b.put(payload).flip();
        try (Engine engine = Engine.open(Backend.CPU)) {
            Tensor t = f32 ? Tensor.of(b.asFloatBuffer(), Layout.NHWC, N, 1, H, W) : Tensor.of(b, Layout.NHWC, N, 1, H, W);
            TriggerSpec.parse(SPEC).apply(engine, t, rows, new TriggerContext(key, 0));
        }
        byte[] out = new byte[payload.length];
        b.get(0, out);
        return out;
    }

    /** N images of H x W random bytes. */
    private static byte[] randomBytes(Random r) {
        byte[] u8 = new byte[N * H * W];
        r.nextBytes(u8);
        return u8;
    }

    /** N images of H x W random floats in [0, 255). */
    private static float[] randomFloats(Random r) {
        float[] f = new float[N * H * W];
        for (int i = 0; i < f.length; i++) {
            f[i] = r.nextFloat() * 255f;
        }
        return f;
    }

    @ParameterizedTest
    @ValueSource(strings = {"npy-u8", "npy-f32", "idx-u8", "idx-f32", "idx-gz-u8"})
    void applyToChosenRowsCopiesTheRestAsTheyAreWhateverTheChunkSize(String format) throws IOException {
        boolean f32 = format.endsWith("f32");
        Random r = new Random(11);
        byte[] u8 = f32 ? null : randomBytes(r);
        float[] f = f32 ? randomFloats(r) : null;
        Path in = write(format, u8, f);
        byte[] before = Files.readAllBytes(in);
        // Runs of every length: neighbours, a lone row, the first and the last row, a long gap.
        long[] rows = {0, 1, 2, 40, 41, 60, 61, 62, 63, 100, 180, 181, 250, 299};
        byte[] inPayload = payload(in, f32);
        byte[] expected = stampedInMemory(inPayload, f32, rows, KEY);
        long sample = (long) H * W * (f32 ? 4 : 1);
        for (long chunkBytes : new long[] {StampJob.DEFAULT_CHUNK_BYTES, 4 * 3 * sample, 1}) {
            Path out = dir.resolve("out-" + chunkBytes + "-" + in.getFileName());
            try (Engine engine = Engine.open(Backend.CPU)) {
                StampJob.prepare(in, out, TriggerSpec.parse(SPEC), KEY, rows, Layout.NHWC).run(engine, chunkBytes);
            }
            byte[] got = payload(out, f32);
            assertArrayEquals(expected, got, format + ", chunks of " + chunkBytes + " bytes: the engine's stamp on the "
                    + "chosen rows, the input's bytes elsewhere");
            for (int i = 0; i < N; i++) {
                final int row = i;
                boolean chosen = Arrays.stream(rows).anyMatch(x -> x == row);
                byte[] a = Arrays.copyOfRange(got, (int) (i * sample), (int) ((i + 1) * sample));
                byte[] b = Arrays.copyOfRange(inPayload, (int) (i * sample), (int) ((i + 1) * sample));
                assertEquals(!chosen, Arrays.equals(a, b), format + " row " + i);
            }
            if (!format.contains("gz")) {
                byte[] all = Files.readAllBytes(out);
                int head = all.length - got.length;
                assertArrayEquals(Arrays.copyOf(before, before.length - inPayload.length), Arrays.copyOf(all, head),
                        format + ": the output's header is the input's");
            }
        }
        assertArrayEquals(before, Files.readAllBytes(in), "the input is never modified");
    }

    @ParameterizedTest
    @ValueSource(strings = {"npy-u8", "npy-f32", "idx-u8", "idx-f32", "idx-gz-u8"})
    void poisonRecordsTheFilesOwnSha256(String format) throws IOException {
        boolean f32 = format.endsWith("f32");
        Random r = new Random(5);
        byte[] u8 = null;
        float[] f = null;
        if (f32) {
            f = new float[N * H * W];
            for (int i = 0; i < f.length; i++) {
                f[i] = r.nextFloat();
            }
        } else {
            u8 = new byte[N * H * W];
            r.nextBytes(u8);
        }
        Path in = write(format, u8, f);
        long[] y = new long[N];
        for (int i = 0; i < N; i++) {
            y[i] = i % 4;
        }
        Path labels = dir.resolve("labels.npy");
        try (NpyWriter w = NpyWriter.create(labels, "<i8", new long[] {N})) {
            ByteBuffer b = ByteBuffer.allocate(N * 8).order(ByteOrder.LITTLE_ENDIAN);
            b.asLongBuffer().put(y);
            w.write(b);
            w.commit();
        }
        Path out = dir.resolve("out-" + format);
        PoisonJob.Options o = PoisonJob.builder().data(in).labels(labels).trigger(TriggerSpec.parse(SPEC)).target(0)
                .budget(Budget.parse("12")).strategy(Strategy.RANDOM).outDir(out).build();
        try (Engine engine = Engine.open(Backend.CPU)) {
            PoisonJob.run(engine, o, KEY, line -> { });
        }
        Manifest m = ManifestReader.read(out.resolve("manifest.json"));
        int checked = 0;
        for (Manifest.DatasetFile file : m.files()) {
            Path p = out.resolve(file.path()).normalize();
            assertEquals(sha256(p), file.sha256(), format + ": " + file.stage() + " " + file.role() + " " + file.path());
            checked++;
        }
        assertEquals(4, checked, "input and output, data and labels");
        byte[] outPayload = payload(out.resolve(in.getFileName().toString().endsWith(".npy") ? "data.npy"
                : in.getFileName().toString()), f32);
        assertFalse(Arrays.equals(payload(in, f32), outPayload), "some rows were stamped");
    }

    /**
     * Stamping every row: where the output can be changed in place (npy, 1-byte IDX) the file is copied
     * inside the kernel and stamped through a mapping; the bytes must be the engine's on the whole dataset
     * in memory, for every chunk size, and the input stays as it was.
     */
    @ParameterizedTest
    @ValueSource(strings = {"npy-u8", "npy-f32", "idx-u8", "idx-f32", "idx-gz-u8"})
    void applyToEveryRowIsTheEnginesStampOnTheWholeDataset(String format) throws IOException {
        boolean f32 = format.endsWith("f32");
        Random r = new Random(23);
        byte[] u8 = f32 ? null : randomBytes(r);
        float[] f = f32 ? randomFloats(r) : null;
        Path in = write(format, u8, f);
        byte[] before = Files.readAllBytes(in);
        long[] all = new long[N];
        for (int i = 0; i < N; i++) {
            all[i] = i;
        }
        byte[] expected = stampedInMemory(payload(in, f32), f32, all, KEY);
        long sample = (long) H * W * (f32 ? 4 : 1);
        for (long chunkBytes : new long[] {StampJob.DEFAULT_CHUNK_BYTES, 4 * 7 * sample, 1}) {
            Path out = dir.resolve("all-" + chunkBytes + "-" + in.getFileName());
            try (Engine engine = Engine.open(Backend.CPU)) {
                StampJob.prepare(in, out, TriggerSpec.parse(SPEC), KEY, null, Layout.NHWC).run(engine, chunkBytes);
            }
            assertArrayEquals(expected, payload(out, f32), format + ", chunks of " + chunkBytes + " bytes");
        }
        assertArrayEquals(before, Files.readAllBytes(in), "the input is never modified");
    }

    /**
     * Stamping every row of an output past {@link SampleStream#DIRECT_MIN_BYTES}: written around the page cache
     * where the file system allows, the bytes are those written through it (which the test above checks against
     * the engine), and the input stays as it was.
     */
    @org.junit.jupiter.api.Test
    void aLargeOutputWrittenAroundTheCacheHasTheBytesOfOneWrittenThroughIt() throws IOException {
        long n = 700;
        int h = 100;
        int w = 1000;
        assertTrue(n * h * w >= SampleStream.DIRECT_MIN_BYTES);
        byte[] u8 = new byte[(int) (n * h * w)];
        new Random(31).nextBytes(u8);
        Path in = dir.resolve("large.npy");
        try (NpyWriter wr = NpyWriter.create(in, "|u1", new long[] {n, h, w})) {
            wr.write(ByteBuffer.wrap(u8));
            wr.commit();
        }
        byte[] before = Files.readAllBytes(in);
        Path direct = dir.resolve("direct.npy");
        Path cached = dir.resolve("cached.npy");
        try (Engine engine = Engine.open(Backend.CPU)) {
            StampJob.prepare(in, direct, TriggerSpec.parse(SPEC), KEY, null, Layout.NHWC).run(engine,
                    StampJob.DEFAULT_CHUNK_BYTES);
            System.setProperty("dyepack.directWrites", "false");
            try {
                StampJob.prepare(in, cached, TriggerSpec.parse(SPEC), KEY, null, Layout.NHWC).run(engine,
                        StampJob.DEFAULT_CHUNK_BYTES);
            } finally {
                System.clearProperty("dyepack.directWrites");
            }
        }
        assertTrue(Arrays.equals(Files.readAllBytes(cached), Files.readAllBytes(direct)),
                "the same bytes around the cache and through it");
        assertFalse(Arrays.equals(before, Files.readAllBytes(direct)), "the rows were stamped");
        assertArrayEquals(before, Files.readAllBytes(in), "the input is never modified");
    }

    /**
     * A stamp that fails part-way (here on the third chunk) stops the stream with that failure, and the
     * writer, never committed, leaves no file behind: no half-stamped output under any name.
     */
    @ParameterizedTest
    @ValueSource(strings = {"npy-u8", "idx-u8", "idx-gz-u8"})
    void aFailingStampLeavesNoOutput(String format) throws IOException {
        byte[] u8 = new byte[N * H * W];
        new Random(3).nextBytes(u8);
        Path in = write(format, u8, null);
        Path out = dir.resolve("failed").resolve("out" + (format.startsWith("npy") ? ".npy" : ".idx"));
        Files.createDirectories(out.getParent());
        long sample = (long) H * W;
        IOException thrown;
        try (dev.dyepack.io.Samples.Reader reader = dev.dyepack.io.Samples.open(in);
                dev.dyepack.io.Samples.Writer writer = dev.dyepack.io.Samples.create(out, in, reader.descr(),
                        reader.shape())) {
            int[] calls = {0};
            thrown = org.junit.jupiter.api.Assertions.assertThrows(IOException.class, () -> SampleStream.run(reader,
                    writer, 4 * 10 * sample, new long[] {5, 50, 120, 200, 250}, true, (chunk, first, count) -> {
                        if (++calls[0] == 3) {
                            throw new IOException("stamp failed on purpose");
                        }
                    }, Progress.NONE));
        }
        assertEquals("stamp failed on purpose", thrown.getMessage());
        try (var left = Files.list(out.getParent())) {
            assertEquals(0, left.count(), "nothing is left in the output folder");
        }
    }
}
