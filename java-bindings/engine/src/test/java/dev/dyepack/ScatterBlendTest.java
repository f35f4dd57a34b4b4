package dev.dyepack;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.ByteBuffer;
import java.nio.FloatBuffer;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * The mask blend at listed elements ({@link Engine#scatterBlend}) against the independent reference of the
 * dense rule (BlendReference, a mask of 1 at the listed elements and 0 elsewhere), and its dense stand-in for
 * older native libraries against the same reference.
 */
class ScatterBlendTest {
    private static Engine engine;

    @BeforeAll
    static void open() {
        engine = Engine.open(Backend.CPU);
    }

    @AfterAll
    static void close() {
        engine.close();
    }

    static Stream<Arguments> cases() {
        long[][] shapes = {{1, 1, 1, 1}, {0, 3, 5, 5}, {5, 3, 37, 41}, {9, 1, 28, 28}, {3, 4, 7, 2}};
        List<Arguments> out = new ArrayList<>();
        for (DType dtype : DType.values()) {
            for (Layout layout : Layout.values()) {
                for (long[] s : shapes) {
                    for (float amount : new float[] {1f, 0.37f}) {
                        for (boolean dense : new boolean[] {false, true}) {
                            out.add(Arguments.of(dtype, layout, s[0], s[1], s[2], s[3], amount, dense));
                        }
                    }
                }
            }
        }
        return out.stream();
    }

    @ParameterizedTest(name = "{0} {1} N={2} C={3} H={4} W={5} amount={6} dense stand-in={7}")
    @MethodSource("cases")
    void matchesTheDenseRule(DType dtype, Layout layout, long n, long c, long h, long w, float amount, boolean dense) {
        Random rng = new Random(n * 131 + c * 17 + h * 5 + w + dtype.ordinal() * 7 + layout.ordinal() + (dense ? 3 : 0));
        int e = (int) (c * h * w);
        // A random fifth of the elements, distinct, in no order, each with a value in the dtype's range.
        List<Long> all = new ArrayList<>();
        for (long i = 0; i < e; i++) {
            all.add(i);
        }
        java.util.Collections.shuffle(all, rng);
        int k = Math.max(1, e / 5);
        long[] elements = new long[k];
        float[] values = new float[k];
        float[] pattern = new float[e];
        float[] mask = new float[e];
        for (int j = 0; j < k; j++) {
            elements[j] = all.get(j);
            values[j] = rng.nextBoolean() ? 255f : (float) Math.floor(rng.nextFloat() * 256f);
            mask[(int) elements[j]] = 1f;
            pattern[(int) elements[j]] = values[j];
        }
        boolean[] selected = new boolean[(int) n];
        List<Long> picked = new ArrayList<>();
        for (int i = (int) n - 1; i >= 0; i -= 2) {
            picked.add((long) i);
            selected[i] = true;
        }
        long[] indices = picked.stream().mapToLong(Long::longValue).toArray();
        if (dtype == DType.UINT8) {
            byte[] data = new byte[(int) n * e];
            rng.nextBytes(data);
            ByteBuffer buf = BlendReference.direct(data);
            stamp(Tensor.of(buf, layout, n, c, h, w), elements, values, amount, indices, dense);
            assertArrayEquals(BlendReference.blendU8(data, e, pattern, mask, amount, selected), BlendReference.bytes(buf));
        } else {
            float[] data = new float[(int) n * e];
            for (int i = 0; i < data.length; i++) {
                data[i] = rng.nextFloat() * 400f - 50f;
            }
            FloatBuffer buf = BlendReference.direct(data);
            stamp(Tensor.of(buf, layout, n, c, h, w), elements, values, amount, indices, dense);
            assertArrayEquals(BlendReference.blendF32(data, e, pattern, mask, amount, selected),
                    BlendReference.floats(buf));
        }
    }

    private static void stamp(Tensor t, long[] elements, float[] values, float amount, long[] indices, boolean dense) {
        if (dense) {
            engine.scatterAsMaskBlend(t, elements, values, amount, indices);
        } else {
            engine.scatterBlend(t, elements, values, amount, indices);
        }
    }

    @Test
    void badArgumentsAreNamedAndNothingIsWritten() {
        byte[] data = new byte[2 * 3 * 4 * 5];
        java.util.Arrays.fill(data, (byte) 7);
        for (boolean dense : new boolean[] {false, true}) {
            ByteBuffer buf = BlendReference.direct(data);
            Tensor t = Tensor.of(buf, Layout.NHWC, 2, 3, 4, 5);
            assertMessage(() -> stamp(t, new long[] {1, 2}, new float[] {1f}, 1f, null, dense), "same length");
            assertMessage(() -> stamp(t, new long[] {3, 60}, new float[] {1f, 2f}, 1f, null, dense),
                    "elements[1] = 60 is out of range [0, 60)");
            assertMessage(() -> stamp(t, new long[] {4, 9, 4}, new float[] {1f, 2f, 3f}, 1f, null, dense),
                    "element 4 is listed more than once");
            assertMessage(() -> stamp(t, new long[] {4}, new float[] {300f}, 1f, null, dense), "[0, 255]");
            assertMessage(() -> stamp(t, new long[] {4}, new float[] {Float.NaN}, 1f, null, dense), "not finite");
            assertMessage(() -> stamp(t, new long[] {4}, new float[] {1f}, 1.5f, null, dense), "amount");
            assertMessage(() -> stamp(t, new long[] {4}, new float[] {1f}, 1f, new long[] {2}, dense), "out of range");
            assertArrayEquals(data, BlendReference.bytes(buf), "a refused call wrote into the batch");
        }
    }

    @Test
    void noElementsChangeNothing() {
        byte[] data = new byte[2 * 3 * 4 * 5];
        new Random(3).nextBytes(data);
        for (boolean dense : new boolean[] {false, true}) {
            ByteBuffer buf = BlendReference.direct(data);
            stamp(Tensor.of(buf, Layout.NCHW, 2, 3, 4, 5), new long[0], new float[0], 1f, null, dense);
            stamp(Tensor.of(buf, Layout.NCHW, 2, 3, 4, 5), new long[] {7}, new float[] {255f}, 1f, new long[0], dense);
            assertArrayEquals(data, BlendReference.bytes(buf));
        }
    }

    private static void assertMessage(org.junit.jupiter.api.function.Executable call, String part) {
        InvalidArgumentException e = assertThrows(InvalidArgumentException.class, call);
        assertTrue(e.getMessage().contains(part), e.getMessage());
    }
}
