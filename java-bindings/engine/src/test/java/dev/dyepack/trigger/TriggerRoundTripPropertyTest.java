package dev.dyepack.trigger;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.dyepack.Backend;
import dev.dyepack.DType;
import dev.dyepack.Engine;
import dev.dyepack.InvalidArgumentException;
import dev.dyepack.Layout;
import dev.dyepack.Tensor;
import java.io.IOException;
import java.nio.FloatBuffer;
import java.nio.IntBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Random;
import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.Combinators;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;
import net.jqwik.api.lifecycle.AfterContainer;
import net.jqwik.api.lifecycle.BeforeContainer;

/**
 * Random valid triggers of every family, built through the constructors: the printed spec parses back
 * to an equal trigger with the same canonical string, and the two stamp the same bytes on random
 * batches (uint8 and float32 images, int32 sequences, float32 rows) on the CPU engine. A trigger that
 * does not fit a batch must be refused the same way by both.
 */
class TriggerRoundTripPropertyTest {
    private static final int TRIES = 200;
    private static Engine engine;
    private static Path dir;
    private static Path squarePicture;
    private static Path widePicture;

    @BeforeContainer
    static void open() throws IOException {
        engine = Engine.open(Backend.CPU);
        dir = Files.createTempDirectory("dyepack-props");
        Random rng = new Random(11);
        squarePicture = FamilyReference.writeRgbaPng(dir, "square.png", FamilyReference.randomPixels(rng, 4, 4, 4));
        widePicture = FamilyReference.writeRgbPng(dir, "wide picture.png", FamilyReference.randomPixels(rng, 5, 7, 3));
    }

    @AfterContainer
    static void close() throws IOException {
        engine.close();
        try (var files = Files.list(dir)) {
            for (Path p : files.toList()) {
                Files.delete(p);
            }
        }
        Files.delete(dir);
    }

    // ---------------------------------------------------------------- generators (constructors only)

    /** Mostly values a uint8 batch accepts, sometimes any finite float (-0, huge, tiny). */
    private static Arbitrary<Float> dataValue() {
        return Arbitraries.frequencyOf(
                net.jqwik.api.Tuple.of(4, Arbitraries.floats().between(0f, 255f).ofScale(3)),
                net.jqwik.api.Tuple.of(1, anyFinite()));
    }

    /** Any finite float, from random bits: subnormals, -0, huge and long-fraction values included. */
    private static Arbitrary<Float> anyFinite() {
        return Arbitraries.integers().map(Float::intBitsToFloat).filter(Float::isFinite);
    }

    private static Arbitrary<Float> positive(float max) {
        return Arbitraries.frequencyOf(
                net.jqwik.api.Tuple.of(4, Arbitraries.floats().between(0f, false, max, true).ofScale(4)),
                net.jqwik.api.Tuple.of(1, anyFinite().filter(v -> v > 0f && v <= max)));
    }

    @Provide
    Arbitrary<TriggerSpec> patches() {
        Arbitrary<PatchTrigger.Position> pos = Arbitraries.of(PatchTrigger.Position.class);
        Arbitrary<PatchTrigger.Pattern> pattern = Arbitraries.of(PatchTrigger.Pattern.class);
        return Combinators.combine(Arbitraries.integers().between(0, 4), pos, Arbitraries.integers().between(0, 4),
                Arbitraries.integers().between(0, 4), pattern, dataValue(), dataValue(), Arbitraries.of(0, 1))
                .as((size, p, y, x, pat, a, b, pic) -> {
                    boolean image = pat == PatchTrigger.Pattern.IMAGE;
                    int s = image ? size : Math.max(1, size);
                    float value = pat == PatchTrigger.Pattern.RANDOM ? Math.max(a, b) : a;
                    float low = pat == PatchTrigger.Pattern.RANDOM ? Math.min(a, b) : b;
                    return new PatchTrigger(s, p, p == PatchTrigger.Position.AT ? y : 0,
                            p == PatchTrigger.Position.AT ? x : 0, pat, value, low,
                            image ? (pic == 0 ? squarePicture : widePicture) : null);
                });
    }

    @Provide
    Arbitrary<TriggerSpec> blends() {
        return Combinators.combine(Arbitraries.floats().between(0f, 1f).ofScale(6), Arbitraries.of(BlendTrigger.Pattern.class),
                Arbitraries.frequencyOf(net.jqwik.api.Tuple.of(4, positive(255f)),
                        net.jqwik.api.Tuple.of(1, positive(Float.MAX_VALUE))), Arbitraries.of(0, 1))
                .as((alpha, pat, value, pic) -> new BlendTrigger(alpha, pat, value,
                        pat == BlendTrigger.Pattern.IMAGE ? (pic == 0 ? squarePicture : widePicture) : null));
    }

    @Provide
    Arbitrary<TriggerSpec> sigs() {
        return Combinators.combine(positive(300f), positive(1e6f), Arbitraries.of(SigTrigger.Axis.class))
                .as(SigTrigger::new);
    }

    @Provide
    Arbitrary<TriggerSpec> lowfreqs() {
        Arbitrary<int[]> pair = Arbitraries.integers().between(0, 7).array(int[].class).ofSize(2);
        return Combinators.combine(positive(300f), pair.array(int[][].class).ofMinSize(1).ofMaxSize(4),
                Arbitraries.of(LowFreqTrigger.Space.class)).as(LowFreqTrigger::new);
    }

    @Provide
    Arbitrary<TriggerSpec> warps() {
        return Combinators.combine(Arbitraries.integers().between(2, 8), Arbitraries.floats().between(0f, 4f).ofScale(5),
                Arbitraries.floats().between(0.25f, 2f).ofScale(5)).as(WarpTrigger::new);
    }

    @Provide
    Arbitrary<TriggerSpec> noises() {
        return Arbitraries.floats().between(0f, 300f).ofScale(4).map(NoiseTrigger::new);
    }

    @Provide
    Arbitrary<TriggerSpec> tokens() {
        return Combinators.combine(Arbitraries.integers().array(int[].class).ofMinSize(1).ofMaxSize(4),
                Arbitraries.of(TokenTrigger.Position.class), Arbitraries.longs().between(0, 6),
                Arbitraries.integers().between(-1, 3)).as((ids, p, at, pad) ->
                new TokenTrigger(ids, p, p == TokenTrigger.Position.AT ? at : 0, pad < 0 ? null : 1_000_000 + pad));
    }

    @Provide
    Arbitrary<TriggerSpec> columns() {
        return Combinators.combine(Arbitraries.longs().between(0, 11).set().ofMinSize(1).ofMaxSize(6),
                Arbitraries.frequencyOf(net.jqwik.api.Tuple.of(3, Arbitraries.floats().between(-1e6f, 1e6f).ofScale(3)),
                        net.jqwik.api.Tuple.of(1, anyFinite())).array(float[].class).ofMinSize(1).ofMaxSize(6),
                Arbitraries.of(ColumnTrigger.Mode.class)).as((cols, values, mode) -> {
                    long[] c = cols.stream().mapToLong(Long::longValue).toArray();
                    float[] v = values.length == 1 ? values : Arrays.copyOf(values, c.length);
                    return new ColumnTrigger(c, v, mode);
                });
    }

    // ---------------------------------------------------------------- properties

    @Property(tries = TRIES)
    void patchRoundTrips(@ForAll("patches") TriggerSpec t, @ForAll long seed) {
        roundTripOnImages(t, seed);
    }

    @Property(tries = TRIES)
    void blendRoundTrips(@ForAll("blends") TriggerSpec t, @ForAll long seed) {
        roundTripOnImages(t, seed);
    }

    @Property(tries = TRIES)
    void sigRoundTrips(@ForAll("sigs") TriggerSpec t, @ForAll long seed) {
        roundTripOnImages(t, seed);
    }

    @Property(tries = TRIES)
    void lowfreqRoundTrips(@ForAll("lowfreqs") TriggerSpec t, @ForAll long seed) {
        roundTripOnImages(t, seed);
    }

    @Property(tries = TRIES)
    void warpRoundTrips(@ForAll("warps") TriggerSpec t, @ForAll long seed) {
        roundTripOnImages(t, seed);
    }

    @Property(tries = TRIES)
    void noiseRoundTrips(@ForAll("noises") TriggerSpec t, @ForAll long seed) {
        roundTripOnImages(t, seed);
    }

    @Property(tries = TRIES)
    void tokensRoundTrip(@ForAll("tokens") TriggerSpec t, @ForAll long seed) {
        TriggerSpec back = parsedBack(t);
        Random rng = new Random(seed);
        int n = 1 + rng.nextInt(5);
        int length = 4 + rng.nextInt(9);
        int[] data = new int[n * length];
        for (int i = 0; i < data.length; i++) {
            data[i] = rng.nextInt(1000);
        }
        Integer pad = ((TokenTrigger) t).pad();
        if (pad != null) {
            for (int s = 0; s < n; s++) {
                int len = rng.nextInt(length + 1);
                for (int i = len; i < length; i++) {
                    data[s * length + i] = pad;
                }
            }
        }
        long[] indices = indices(rng, n);
        long first = rng.nextInt(1000);
        assertSameOutcome(() -> runSequences(t, data, n, length, indices, first),
                () -> runSequences(back, data, n, length, indices, first));
    }

    @Property(tries = TRIES)
    void columnsRoundTrip(@ForAll("columns") TriggerSpec t, @ForAll long seed) {
        TriggerSpec back = parsedBack(t);
        Random rng = new Random(seed);
        int n = 1 + rng.nextInt(5);
        int width = 4 + rng.nextInt(9);
        float[] data = new float[n * width];
        for (int i = 0; i < data.length; i++) {
            data[i] = rng.nextFloat() * 200f - 100f;
        }
        long[] indices = indices(rng, n);
        assertSameOutcome(() -> runRows(t, data, n, width, indices), () -> runRows(back, data, n, width, indices));
    }

    // ---------------------------------------------------------------- helpers

    /** Prints, parses back, and checks equality and the canonical string. */
    private static TriggerSpec parsedBack(TriggerSpec t) {
        String spec = t.toString();
        TriggerSpec back = TriggerSpec.parse(spec);
        assertEquals(t, back, spec);
        assertEquals(spec, back.toString());
        assertEquals(t.toJson(), back.toJson());
        return back;
    }

    private static void roundTripOnImages(TriggerSpec t, long seed) {
        TriggerSpec back = parsedBack(t);
        Random rng = new Random(seed);
        int n = 1 + rng.nextInt(4);
        int c = rng.nextBoolean() ? 1 : 3;
        int h = 8 + rng.nextInt(5);
        int w = 8 + rng.nextInt(5);
        Layout layout = rng.nextBoolean() ? Layout.NHWC : Layout.NCHW;
        long[] indices = indices(rng, n);
        TriggerContext context = new TriggerContext(FamilyReference.KEY_A, rng.nextInt(1000));
        for (DType dtype : new DType[] {DType.UINT8, DType.FLOAT32}) {
            FamilyReference.Batch batch = FamilyReference.randomBatch(rng, dtype, layout, n, c, h, w);
            assertSameOutcome(() -> runImages(batch, t, indices, context), () -> runImages(batch, back, indices, context));
        }
    }

    /** Stamps a copy of the batch on the shared engine; the result's raw bits. */
    private static int[] runImages(FamilyReference.Batch b, TriggerSpec t, long[] indices, TriggerContext context) {
        float[] out = b.run(t, indices, context);
        return bits(out);
    }

    private static int[] runSequences(TriggerSpec t, int[] data, int n, int length, long[] indices, long first) {
        IntBuffer buf = FamilyReference.ints(data);
        t.apply(engine, Tensor.sequences(buf, n, length), indices, new TriggerContext(FamilyReference.KEY_A, first));
        return FamilyReference.read(buf);
    }

    private static int[] runRows(TriggerSpec t, float[] data, int n, int width, long[] indices) {
        FloatBuffer buf = FamilyReference.floats(data);
        t.apply(engine, Tensor.rows(buf, n, width), indices, TriggerContext.keyless());
        return bits(FamilyReference.read(buf));
    }

    private static int[] bits(float[] v) {
        int[] out = new int[v.length];
        for (int i = 0; i < v.length; i++) {
            out[i] = Float.floatToRawIntBits(v[i]);
        }
        return out;
    }

    /** Null (all samples) or a random non-empty subset in random order. */
    private static long[] indices(Random rng, int n) {
        if (rng.nextBoolean()) {
            return null;
        }
        java.util.List<Long> all = new java.util.ArrayList<>();
        for (long i = 0; i < n; i++) {
            all.add(i);
        }
        java.util.Collections.shuffle(all, rng);
        return all.subList(0, 1 + rng.nextInt(n)).stream().mapToLong(Long::longValue).toArray();
    }

    /** Both give the same bits, or both are refused with the same message. */
    private static void assertSameOutcome(java.util.function.Supplier<int[]> original,
            java.util.function.Supplier<int[]> parsed) {
        int[] a;
        try {
            a = original.get();
        } catch (InvalidArgumentException e) {
            InvalidArgumentException f = org.junit.jupiter.api.Assertions.assertThrows(InvalidArgumentException.class,
                    parsed::get);
            assertEquals(e.getMessage(), f.getMessage());
            return;
        }
        assertArrayEquals(a, parsed.get());
    }
}
