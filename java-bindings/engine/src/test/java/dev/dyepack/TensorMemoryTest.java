package dev.dyepack;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.FloatBuffer;
import java.util.Optional;
import org.bytedeco.javacpp.BytePointer;
import org.bytedeco.javacpp.DoublePointer;
import org.bytedeco.javacpp.FloatPointer;
import org.bytedeco.javacpp.IntPointer;
import org.bytedeco.javacpp.Pointer;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.function.Executable;

/**
 * Host tensors know their memory's extent, element type and density: every way that memory was
 * overrun or misread before (a pointer without an extent, a batch larger than the array, a uint8 or
 * double array taken as float32, strided and column-major views) is refused with a clear exception,
 * and the memory, guard bytes beyond it included, is left as it was.
 */
class TensorMemoryTest {
    /** Sets every element of every sample to the pattern value 7 (mask 1, amount 1). */
    private static final float STAMP = 7f;

    private static Engine engine;

    @BeforeAll
    static void open() {
        engine = Engine.open(Backend.CPU);
    }

    @AfterAll
    static void close() {
        engine.close();
    }

    /** Stamps the whole batch; a refused tensor never gets here. */
    private static void stamp(Tensor t) {
        float[] ones = new float[(int) t.sampleElements()];
        float[] pattern = new float[ones.length];
        java.util.Arrays.fill(ones, 1f);
        java.util.Arrays.fill(pattern, STAMP);
        engine.maskBlend(t, pattern, ones, 1f, null);
    }

    /** Fills memory with a known pattern (byte i = 0x40 + i % 64). */
    private static void fill(Pointer p, long bytes) {
        BytePointer b = new BytePointer(p).capacity(bytes).limit(bytes).position(0);
        for (long i = 0; i < bytes; i++) {
            b.put(i, (byte) (0x40 + i % 64));
        }
    }

    private static byte[] snapshot(Pointer p, long bytes) {
        BytePointer b = new BytePointer(p).capacity(bytes).limit(bytes).position(0);
        byte[] out = new byte[(int) bytes];
        b.get(out);
        return out;
    }

    /** The call is refused with a message holding each fragment, and the memory is unchanged. */
    private static InvalidArgumentException refusedUntouched(Pointer memory, long bytes, Executable call,
            String... fragments) {
        byte[] before = snapshot(memory, bytes);
        InvalidArgumentException e = assertThrows(InvalidArgumentException.class, call);
        for (String f : fragments) {
            assertTrue(e.getMessage().contains(f), "message '" + e.getMessage() + "' should contain '" + f + "'");
        }
        assertTrue(!e.getMessage().contains("--"), "a library message names no command-line flag: " + e.getMessage());
        assertArrayEquals(before, snapshot(memory, bytes), "memory must be untouched after a refusal");
        return e;
    }

    /** A pointer to {@code base}'s memory that knows no extent, as ND4J's data().addressPointer() gives. */
    private static FloatPointer withoutExtent(Pointer base) {
        FloatPointer p = new FloatPointer(new Pointer(base).capacity(0).limit(0).position(0));
        assertEquals(0, p.capacity());
        assertEquals(0, p.limit());
        return p;
    }

    @Test
    void aPointerThatKnowsNoExtentIsRefusedUntilTheExtentIsGiven() {
        // 4 floats of image, then 16 guard bytes.
        try (BytePointer memory = new BytePointer(32)) {
            fill(memory, 32);
            FloatPointer bare = withoutExtent(memory);
            InvalidArgumentException e = refusedUntouched(memory, 32,
                    () -> stamp(Tensor.ofHost(bare, DType.FLOAT32, Layout.NHWC, 1, 1, 2, 2)),
                    "does not know the extent", "extentBytes");
            assertEquals(Optional.of(Parameters.EXTENT_BYTES), e.parameter());
            // A batch count larger than the array, the out-of-bounds write seen with ND4J: refused.
            refusedUntouched(memory, 32, () -> stamp(Tensor.ofHost(bare, 16, DType.FLOAT32, Layout.NHWC, 2, 1, 2, 2)),
                    "holds 16 bytes", "needs 32");
            refusedUntouched(memory, 32, () -> stamp(Tensor.ofHost(bare, -1, DType.FLOAT32, Layout.NHWC, 1, 1, 2, 2)),
                    "extentBytes must be >= 0");
            refusedUntouched(memory, 32,
                    () -> stamp(Tensor.ofHost(memory.address(), 15, DType.FLOAT32, Layout.NHWC, 1, 1, 2, 2)),
                    "holds 15 bytes", "needs 16");
            // With the extent given, exactly the 16 bytes of the tensor change, the guard bytes do not.
            byte[] expected = snapshot(memory, 32);
            ByteBuffer seven = ByteBuffer.allocate(16).order(ByteOrder.nativeOrder());
            for (int i = 0; i < 4; i++) {
                seven.putFloat(STAMP);
            }
            System.arraycopy(seven.array(), 0, expected, 0, 16);
            stamp(Tensor.ofHost(bare, 16, DType.FLOAT32, Layout.NHWC, 1, 1, 2, 2));
            assertArrayEquals(expected, snapshot(memory, 32));
            // The raw-address form reaches the same memory.
            fill(memory, 32);
            stamp(Tensor.ofHost(memory.address(), 16, DType.FLOAT32, Layout.NHWC, 1, 1, 2, 2));
            assertArrayEquals(expected, snapshot(memory, 32));
        }
    }

    @Test
    void theExtentMustCoverTheTensorFromThePointersPosition() {
        try (FloatPointer memory = new FloatPointer(12)) { // 48 bytes
            fill(memory, 48);
            // 12 floats cannot hold 4 samples of 4.
            refusedUntouched(memory, 48, () -> stamp(Tensor.ofHost(memory, DType.FLOAT32, Layout.NHWC, 4, 1, 2, 2)),
                    "holds 48 bytes", "needs 64");
            // From position 10, 2 floats remain.
            FloatPointer late = new FloatPointer(memory).position(10);
            refusedUntouched(memory, 48, () -> stamp(Tensor.ofHost(late, DType.FLOAT32, Layout.NHWC, 1, 1, 2, 2)),
                    "holds 8 bytes");
            // An explicit extent may not claim more than the pointer knows it holds.
            refusedUntouched(memory, 48, () -> stamp(Tensor.ofHost(late, 16, DType.FLOAT32, Layout.NHWC, 1, 1, 2, 2)),
                    "larger than the 8 bytes");
            // A limit below the capacity bounds the extent.
            FloatPointer limited = new FloatPointer(memory).limit(3);
            refusedUntouched(memory, 48, () -> stamp(Tensor.ofHost(limited, DType.FLOAT32, Layout.NHWC, 1, 1, 2, 2)),
                    "holds 12 bytes");
            FloatPointer beyond = new FloatPointer(memory).limit(3).position(5);
            refusedUntouched(memory, 48, () -> Tensor.ofHost(beyond, DType.FLOAT32, Layout.NHWC, 0, 1, 2, 2),
                    "beyond its limit");
            // Samples 2 of 3 from position 4 fit: only floats 4..11 change.
            stamp(Tensor.ofHost(new FloatPointer(memory).position(4), DType.FLOAT32, Layout.NHWC, 2, 1, 2, 2));
            float[] got = new float[12];
            memory.position(0).get(got);
            for (int i = 0; i < 12; i++) {
                if (i >= 4) {
                    assertEquals(STAMP, got[i], "float " + i);
                } else {
                    int b = 4 * i;
                    int bits = (0x40 + b % 64) | (0x40 + (b + 1) % 64) << 8 | (0x40 + (b + 2) % 64) << 16
                            | (0x40 + (b + 3) % 64) << 24; // little-endian, as on x86-64 and aarch64
                    assertEquals(bits, Float.floatToRawIntBits(got[i]), "float " + i + " untouched");
                }
            }
        }
    }

    @Test
    void aTypedPointerMustHoldTheDtypesElements() {
        try (BytePointer bytes = new BytePointer(16); DoublePointer doubles = new DoublePointer(4);
                IntPointer ints = new IntPointer(4); FloatPointer floats = new FloatPointer(4)) {
            fill(bytes, 16);
            fill(doubles, 32);
            fill(ints, 16);
            fill(floats, 16);
            // A uint8 array taken as float32 (the SIGSEGV seen with ND4J), a double array taken as float32.
            InvalidArgumentException e = refusedUntouched(bytes, 16,
                    () -> stamp(Tensor.ofHost(bytes, DType.FLOAT32, Layout.NHWC, 1, 1, 2, 2)), "BytePointer",
                    "float32");
            assertEquals(Optional.of(Parameters.DTYPE), e.parameter());
            refusedUntouched(doubles, 32, () -> stamp(Tensor.ofHost(doubles, DType.FLOAT32, Layout.NHWC, 1, 1, 2, 2)),
                    "DoublePointer", "convert the data to float32");
            refusedUntouched(doubles, 32,
                    () -> stamp(Tensor.ofHost(doubles, 32, DType.FLOAT32, Layout.NHWC, 1, 1, 2, 2)), "DoublePointer");
            refusedUntouched(ints, 16, () -> stamp(Tensor.ofHost(ints, DType.FLOAT32, Layout.NHWC, 1, 1, 2, 2)),
                    "IntPointer");
            refusedUntouched(floats, 16, () -> stamp(Tensor.ofHost(floats, DType.UINT8, Layout.NHWC, 1, 1, 4, 4)),
                    "FloatPointer", "uint8");
            // A plain Pointer counts bytes: 16 bytes hold 4 floats, 15 do not.
            Pointer plain = new Pointer(floats).capacity(16).limit(16);
            stamp(Tensor.ofHost(plain, DType.FLOAT32, Layout.NHWC, 1, 1, 2, 2));
            float[] got = new float[4];
            floats.get(got);
            assertArrayEquals(new float[] {STAMP, STAMP, STAMP, STAMP}, got);
            fill(floats, 16);
            Pointer short15 = new Pointer(floats).capacity(15).limit(15);
            refusedUntouched(floats, 16, () -> stamp(Tensor.ofHost(short15, DType.FLOAT32, Layout.NHWC, 1, 1, 2, 2)),
                    "holds 15 bytes");
            // A plain Pointer with no extent at all is refused like a typed one.
            Pointer none = new Pointer(floats).capacity(0).limit(0);
            refusedUntouched(floats, 16, () -> stamp(Tensor.ofHost(none, DType.FLOAT32, Layout.NHWC, 1, 1, 2, 2)),
                    "does not know the extent");
        }
    }

    @Test
    void stridesMustBeTheContiguousOnesOfTheDeclaredLayout() {
        // N=2, H=2, W=3, C=1 in NHWC: dense strides (N, H, W, C) = (6, 3, 1, 1).
        try (FloatPointer memory = new FloatPointer(24)) {
            fill(memory, 96);
            stamp(Tensor.ofHost(memory, 48, DType.FLOAT32, Layout.NHWC, 2, 1, 2, 3, new long[] {6, 3, 1, 1}));
            // C = 1: its stride is never stepped, whatever an array library reports for it.
            Tensor.ofHost(memory, DType.FLOAT32, Layout.NHWC, 2, 1, 2, 3, new long[] {6, 3, 1, 99});
            fill(memory, 96);
            // Column-major ('f' order): (1, 2, 4, 12).
            refusedUntouched(memory, 96, () -> stamp(Tensor.ofHost(memory, DType.FLOAT32, Layout.NHWC, 2, 1, 2, 3,
                    new long[] {1, 2, 4, 12})), "column-major", "dup('c')", "[6, 3, 1, 1]");
            // A sub-array view: every other column of a 2 x 2 x 6 array.
            refusedUntouched(memory, 96, () -> stamp(Tensor.ofHost(memory, DType.FLOAT32, Layout.NHWC, 2, 1, 2, 3,
                    new long[] {12, 6, 2, 1})), "make the view contiguous first", "dup('c')");
            // Broadcast and reversed views.
            refusedUntouched(memory, 96, () -> stamp(Tensor.ofHost(memory, DType.FLOAT32, Layout.NHWC, 2, 1, 2, 3,
                    new long[] {0, 3, 1, 1})), "broadcast");
            refusedUntouched(memory, 96, () -> stamp(Tensor.ofHost(memory, 96, DType.FLOAT32, Layout.NHWC, 2, 1, 2, 3,
                    new long[] {6, 3, -1, 1})), "reversed");
            // NCHW memory (N=1, C=3, H=2, W=2: strides (12, 4, 2, 1)) declared NHWC, strides in (N, H, W, C) order.
            InvalidArgumentException e = refusedUntouched(memory, 96, () -> stamp(Tensor.ofHost(memory,
                    DType.FLOAT32, Layout.NHWC, 1, 3, 2, 2, new long[] {12, 2, 1, 4})), "declare Layout.NCHW");
            assertEquals(Optional.of(Parameters.STRIDES), e.parameter());
            assertEquals(Optional.of("[12, 2, 1, 4]"), e.value());
            // The same memory declared NCHW is accepted.
            Tensor.ofHost(memory, DType.FLOAT32, Layout.NCHW, 1, 3, 2, 2, new long[] {12, 4, 2, 1});
            // Rows (N, D): 2 strides; a transposed matrix is refused.
            Tensor.ofHost(memory, DType.FLOAT32, Layout.NHWC, 4, 1, 1, 6, new long[] {6, 1});
            refusedUntouched(memory, 96, () -> stamp(Tensor.ofHost(memory, DType.FLOAT32, Layout.NHWC, 4, 1, 1, 6,
                    new long[] {1, 4})), "column-major");
            refusedUntouched(memory, 96, () -> Tensor.requireContiguous(Layout.NCHW, 2, 1, 2, 3, new long[] {6, 3, 1}),
                    "4 values");
        }
    }

    @Test
    void directBuffersMustHoldExactlyTheTensor() {
        ByteBuffer bytes = ByteBuffer.allocateDirect(24);
        for (int i = 0; i < 24; i++) {
            bytes.put(i, (byte) i);
        }
        bytes.position(4);
        byte[] before = new byte[24];
        bytes.duplicate().position(0).get(before);
        InvalidArgumentException e = assertThrows(InvalidArgumentException.class,
                () -> stamp(Tensor.of(bytes, Layout.NHWC, 6, 1, 2, 2)));
        assertTrue(e.getMessage().contains("20 elements remaining but the shape needs 24"), e.getMessage());
        assertEquals(Optional.of(Parameters.MEMORY), e.parameter());
        byte[] after = new byte[24];
        bytes.duplicate().position(0).get(after);
        assertArrayEquals(before, after);
        // A JavaCPP pointer over a direct buffer knows the buffer's extent (8 floats); from position 4, 4 remain.
        FloatBuffer floats = ByteBuffer.allocateDirect(32).order(ByteOrder.nativeOrder()).asFloatBuffer();
        FloatPointer fp = new FloatPointer(floats).position(4);
        assertThrows(InvalidArgumentException.class, () -> Tensor.ofHost(fp, DType.FLOAT32, Layout.NHWC, 1, 1, 2, 3));
        stamp(Tensor.ofHost(fp, DType.FLOAT32, Layout.NHWC, 1, 1, 2, 2));
        float[] got = new float[8];
        floats.position(0);
        floats.get(got);
        assertArrayEquals(new float[] {0, 0, 0, 0, STAMP, STAMP, STAMP, STAMP}, got);
    }
}
