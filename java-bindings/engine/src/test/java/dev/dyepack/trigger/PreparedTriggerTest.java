package dev.dyepack.trigger;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.dyepack.Backend;
import dev.dyepack.DType;
import dev.dyepack.Engine;
import dev.dyepack.InvalidArgumentException;
import dev.dyepack.Layout;
import dev.dyepack.Tensor;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.FloatBuffer;
import java.nio.IntBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/** A trigger prepared once and applied batch by batch stamps what one apply over all the data stamps. */
class PreparedTriggerTest {
    @TempDir
    static Path dir;

    private static final int N = 7;
    private static final int C = 3;
    private static final int H = 9;
    private static final int W = 11;

    private static String withPicture(String spec) throws IOException {
        Path pic = dir.resolve("pattern.png");
        if (!Files.exists(pic)) {
            FamilyReference.writeRgbaPng(dir, "pattern.png", FamilyReference.randomPixels(new Random(5), 6, 4, 4));
        }
        return spec.replace("PIC", pic.toString());
    }

    @ParameterizedTest
    @ValueSource(strings = {"patch:size=3,pos=random,pattern=random,low=10,value=200", "patch:pos=center,image=PIC",
        "patch:size=4,pos=at,y=2,x=5,pattern=checker", "blend:alpha=0.3", "blend:image=PIC,alpha=0.5",
        "sig:delta=20,freq=3", "lowfreq:amp=9,space=yuv", "warp:k=3,s=0.8", "noise:eps=12"})
    void imagesInChunksEqualOneApply(String spec) throws IOException {
        TriggerSpec t = TriggerSpec.parse(withPicture(spec));
        for (DType dtype : new DType[] {DType.UINT8, DType.FLOAT32}) {
            FamilyReference.Batch all = FamilyReference.randomBatch(new Random(9), dtype, Layout.NCHW, N, C, H, W);
            long[] indices = {6, 1, 2, 4};
            TriggerContext context = new TriggerContext(FamilyReference.KEY_A, 100);
            float[] whole = all.run(t, indices, context);
            // The same data as three batches [0, 3), [3, 5), [5, 7) through one prepared trigger.
            float[] chunked = new float[whole.length];
            int per = C * H * W;
            try (Engine engine = Engine.open(Backend.CPU);
                    PreparedTrigger p = t.prepare(engine, Tensor.empty(dtype, Layout.NCHW, C, H, W), context)) {
                int[][] chunks = {{0, 3}, {3, 5}, {5, 7}};
                for (int[] ch : chunks) {
                    float[] part = stampChunk(p, all.slice(ch[0], ch[1]), local(indices, ch[0], ch[1]), 100 + ch[0]);
                    System.arraycopy(part, 0, chunked, ch[0] * per, part.length);
                }
            }
            assertArrayEquals(whole, chunked, spec + " " + dtype);
            assertFalse(java.util.Arrays.equals(whole, all.values), spec + " changed nothing");
        }
    }

    private static float[] stampChunk(PreparedTrigger p, FamilyReference.Batch b, long[] indices, long first) {
        if (b.dtype == DType.UINT8) {
            ByteBuffer buf = ByteBuffer.allocateDirect(b.values.length);
            for (int i = 0; i < b.values.length; i++) {
                buf.put(i, (byte) (int) b.values[i]);
            }
            p.apply(Tensor.of(buf, b.layout, b.n, b.c, b.h, b.w), indices, first);
            float[] out = new float[b.values.length];
            for (int i = 0; i < out.length; i++) {
                out[i] = buf.get(i) & 0xff;
            }
            return out;
        }
        FloatBuffer buf = FamilyReference.floats(b.values);
        p.apply(Tensor.of(buf, b.layout, b.n, b.c, b.h, b.w), indices, first);
        return FamilyReference.read(buf);
    }

    /** The indices inside [from, to), shifted to start at 0. */
    private static long[] local(long[] indices, int from, int to) {
        return java.util.Arrays.stream(indices).filter(i -> i >= from && i < to).map(i -> i - from).toArray();
    }

    @Test
    void tokensInChunksEqualOneApply() {
        TriggerSpec t = TriggerSpec.parse("tokens:ids=7+8,pos=random,pad=0");
        int length = 10;
        int[] data = new int[N * length];
        Random rng = new Random(3);
        for (int s = 0; s < N; s++) {
            int len = 2 + rng.nextInt(length - 1);
            for (int i = 0; i < len; i++) {
                data[s * length + i] = 1 + rng.nextInt(50);
            }
        }
        IntBuffer whole = FamilyReference.ints(data);
        TriggerContext context = new TriggerContext(FamilyReference.KEY_B, 40);
        try (Engine engine = Engine.open(Backend.CPU)) {
            t.apply(engine, Tensor.sequences(whole, N, length), null, context);
            int[] chunked = new int[data.length];
            try (PreparedTrigger p = t.prepare(engine, Tensor.empty(DType.INT32, Layout.NHWC, 1, 1, length), context)) {
                for (int from = 0; from < N; from += 2) {
                    int to = Math.min(N, from + 2);
                    int[] part = java.util.Arrays.copyOfRange(data, from * length, to * length);
                    IntBuffer buf = FamilyReference.ints(part);
                    p.apply(Tensor.sequences(buf, to - from, length), null, 40 + from);
                    System.arraycopy(FamilyReference.read(buf), 0, chunked, from * length, part.length);
                }
            }
            assertArrayEquals(FamilyReference.read(whole), chunked);
        }
    }

    @Test
    void aBatchOfAnotherGeometryOrAClosedTriggerIsRefused() {
        TriggerSpec t = TriggerSpec.parse("sig");
        try (Engine engine = Engine.open(Backend.CPU)) {
            PreparedTrigger p = t.prepare(engine, Tensor.empty(DType.FLOAT32, Layout.NHWC, 3, 8, 8), TriggerContext.keyless());
            FloatBuffer other = FamilyReference.floats(new float[3 * 8 * 9]);
            FamilyReference.assertRefused(() -> p.apply(Tensor.of(other, Layout.NHWC, 1, 3, 8, 9), null, 0),
                    "prepared for float32");
            FloatBuffer nchw = FamilyReference.floats(new float[3 * 8 * 8]);
            FamilyReference.assertRefused(() -> p.apply(Tensor.of(nchw, Layout.NCHW, 1, 3, 8, 8), null, 0),
                    "prepared for");
            FamilyReference.assertRefused(() -> p.apply(Tensor.of(nchw, Layout.NHWC, 1, 3, 8, 8), null, -1),
                    "firstSample");
            assertArrayEquals(new float[3 * 8 * 8], FamilyReference.read(nchw), "a refused batch is not changed");
            p.close();
            FamilyReference.assertRefused(() -> p.apply(Tensor.of(nchw, Layout.NHWC, 1, 3, 8, 8), null, 0), "closed");
        }
    }

    @Test
    void aKeyedFamilyNeedsTheKeyToPrepare() {
        try (Engine engine = Engine.open(Backend.CPU)) {
            assertThrows(InvalidArgumentException.class, () -> TriggerSpec.parse("warp").prepare(engine,
                    Tensor.empty(DType.UINT8, Layout.NHWC, 1, 8, 8), TriggerContext.keyless()));
        }
    }

    /** SHA-256("abc") is the FIPS 180-2 test vector; the manifest form carries it as image_sha256. */
    @Test
    void thePictureHashIsRecorded() throws IOException {
        Path file = dir.resolve("abc.png");
        Files.write(file, "abc".getBytes(StandardCharsets.US_ASCII));
        String abc = "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad";
        TriggerSpec t = TriggerSpec.parse("blend:alpha=0.5,image=" + file);
        assertEquals(abc, t.patternImageSha256().orElseThrow());
        assertTrue(t.toJson().endsWith(", \"image_sha256\": \"" + abc + "\"}"), t.toJson());
        assertEquals(abc, TriggerSpec.parse("patch:size=2,image=" + file).patternImageSha256().orElseThrow());
        assertTrue(TriggerSpec.parse("blend").patternImageSha256().isEmpty());
        assertFalse(TriggerSpec.parse("blend").toJson().contains("image_sha256"));
        assertFalse(t.toString().contains("sha256"), "the spec string carries no hash");
    }

    @Test
    void aPreparedPictureTriggerReportsTheHashOfWhatItRead() throws Exception {
        TriggerSpec t = TriggerSpec.parse(withPicture("patch:size=3,image=PIC"));
        byte[] bytes = Files.readAllBytes(t.patternImage().orElseThrow());
        String expected = java.util.HexFormat.of().formatHex(
                java.security.MessageDigest.getInstance("SHA-256").digest(bytes));
        try (Engine engine = Engine.open(Backend.CPU);
                PreparedTrigger p = t.prepare(engine, Tensor.empty(DType.UINT8, Layout.NHWC, 3, 8, 8),
                        TriggerContext.keyless())) {
            assertEquals(expected, p.patternImageSha256().orElseThrow());
        }
    }
}
