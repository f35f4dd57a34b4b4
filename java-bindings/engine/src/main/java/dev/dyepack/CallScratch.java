package dev.dyepack;

import dev.dyepack.internal.DyePackNative;
import dev.dyepack.internal.RawPointer;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.Arrays;
import org.bytedeco.javacpp.FloatPointer;
import org.bytedeco.javacpp.IntPointer;
import org.bytedeco.javacpp.LongPointer;
import org.bytedeco.javacpp.Pointer;

/**
 * Native memory for one engine call's descriptors and small arrays, taken from a block the calling thread
 * keeps, so that a call allocates nothing natively. A JavaCPP allocation ({@code new LongPointer(n)}, a
 * descriptor's {@code allocate()}) registers a deallocator, and while JavaCPP limits the process's physical
 * memory (its default) that registration reads the process's memory use from the kernel: about 4 us each,
 * so a blend of one small image, which needs three descriptors, cost 12 us where the work takes 0.1 us
 * (docs/benchmarks.md, "A JNI round trip"). A request that does not fit the block is an ordinary
 * allocation; either way the caller closes what it gets (closing the block's memory frees nothing).
 *
 * <p>Use: {@code try (CallScratch s = CallScratch.open(); Tensor d = s.tensor(); LongPointer i = s.longs(a))}.
 * Everything taken after {@code open()} is given back by the matching {@code close()}, so a call must not keep
 * it. Opens nest (they form a stack). Per thread; not to be shared between threads.
 */
final class CallScratch implements AutoCloseable {
    /** Bytes each thread keeps: descriptors (56 bytes) and arrays of up to 2,048 longs; the rest is allocated. */
    static final int BLOCK_BYTES = 16 << 10;
    private static final int ALIGN = 16;
    private static final int TENSOR_BYTES = align(tensorBytes());
    /**
     * Whether descriptors are written here straight into the block, at the offsets {@code dp_tensor}'s fields have
     * on LP64 (four int32, four int64, a pointer: 56 bytes), which saves nine JNI calls per descriptor. Decided once
     * by writing a descriptor through the native library's own setters and reading it back here; where the two
     * disagree, the setters are used.
     */
    private static final boolean DIRECT = layoutIsLp64();
    private static final ThreadLocal<CallScratch> LOCAL = ThreadLocal.withInitial(CallScratch::new);

    private final ByteBuffer block = ByteBuffer.allocateDirect(BLOCK_BYTES).order(ByteOrder.nativeOrder());
    private final long base = RawPointer.addressOf(block, 1);
    private int top;
    private int[] marks = new int[4];
    private int depth;

    private CallScratch() {}

    /** @return the size of {@code dp_tensor}, as the native library was compiled */
    private static int tensorBytes() {
        try (DyePackNative.Tensor probe = new DyePackNative.Tensor()) {
            return probe.sizeof();
        }
    }

    /**
     * Opens a scope on the calling thread's block.
     *
     * @return the scope; close it when the call is over
     */
    static CallScratch open() {
        CallScratch s = LOCAL.get();
        if (s.depth == s.marks.length) {
            s.marks = Arrays.copyOf(s.marks, 2 * s.marks.length);
        }
        s.marks[s.depth++] = s.top;
        return s;
    }

    /** Gives back everything taken since the matching {@link #open()}. */
    @Override
    public void close() {
        if (depth == 0) {
            throw new IllegalStateException("call scratch closed more often than opened");
        }
        top = marks[--depth];
    }

    /**
     * A tensor descriptor ({@code dp_tensor}) with every field set, {@code reserved} 0.
     *
     * @param data the elements' address (a pointer of position 0), or null
     * @return the descriptor
     */
    DyePackNative.Tensor tensor(int dtype, int layout, int memory, long n, long c, long h, long w, Pointer data) {
        long at = take(TENSOR_BYTES);
        if (at < 0) {
            return set(new DyePackNative.Tensor(), dtype, layout, memory, n, c, h, w, data);
        }
        if (!DIRECT) {
            return set(new DyePackNative.Tensor(new RawPointer(at)), dtype, layout, memory, n, c, h, w, data);
        }
        int i = (int) (at - base);
        block.putInt(i, dtype).putInt(i + 4, layout).putInt(i + 8, memory).putInt(i + 12, 0).putLong(i + 16, n)
                .putLong(i + 24, c).putLong(i + 32, h).putLong(i + 40, w)
                .putLong(i + 48, data == null ? 0L : data.address());
        return new DyePackNative.Tensor(new RawPointer(at));
    }

    private static DyePackNative.Tensor set(DyePackNative.Tensor d, int dtype, int layout, int memory, long n, long c,
            long h, long w, Pointer data) {
        return d.dtype(dtype).layout(layout).memory(memory).reserved(0).n(n).c(c).h(h).w(w).data(data);
    }

    private static boolean layoutIsLp64() {
        if (tensorBytes() != 56) {
            return false;
        }
        ByteBuffer probe = ByteBuffer.allocateDirect(64).order(ByteOrder.nativeOrder());
        try (DyePackNative.Tensor d = new DyePackNative.Tensor(new RawPointer(RawPointer.addressOf(probe, 1)))) {
            set(d, 11, 12, 13, 14L, 15L, 16L, 17L, new RawPointer(0x1234_5678_9abcL));
            return probe.getInt(0) == 11 && probe.getInt(4) == 12 && probe.getInt(8) == 13 && probe.getInt(12) == 0
                    && probe.getLong(16) == 14L && probe.getLong(24) == 15L && probe.getLong(32) == 16L
                    && probe.getLong(40) == 17L && probe.getLong(48) == 0x1234_5678_9abcL;
        } finally {
            java.lang.ref.Reference.reachabilityFence(probe);
        }
    }

    /**
     * @param values the values, or null
     * @return native memory holding them; null for null or none (as the C ABI takes "no list")
     */
    LongPointer longs(long[] values) {
        if (values == null || values.length == 0) {
            return null;
        }
        long at = take((long) values.length * Long.BYTES);
        return at < 0 ? new LongPointer(values) : new LongPointer(new RawPointer(at)).put(values);
    }

    /**
     * @param values the values
     * @return native memory holding them (room for one value when there are none)
     */
    FloatPointer floats(float[] values) {
        long at = take((long) Math.max(values.length, 1) * Float.BYTES);
        if (at < 0) {
            return values.length == 0 ? new FloatPointer(1L) : new FloatPointer(values);
        }
        return new FloatPointer(new RawPointer(at)).put(values);
    }

    /**
     * @param count values, &gt;= 1
     * @return native room for them, contents undefined
     */
    FloatPointer floats(long count) {
        long at = take(count * Float.BYTES);
        return at < 0 ? new FloatPointer(count) : new FloatPointer(new RawPointer(at));
    }

    /**
     * @param values the values
     * @return native memory holding them (room for one value when there are none)
     */
    IntPointer ints(int[] values) {
        long at = take((long) Math.max(values.length, 1) * Integer.BYTES);
        if (at < 0) {
            return values.length == 0 ? new IntPointer(1L) : new IntPointer(values);
        }
        return new IntPointer(new RawPointer(at)).put(values);
    }

    /**
     * @param count values, &gt;= 1
     * @return native room for them, contents undefined
     */
    IntPointer ints(long count) {
        long at = take(count * Integer.BYTES);
        return at < 0 ? new IntPointer(count) : new IntPointer(new RawPointer(at));
    }

    /** @return the address of {@code bytes} taken from the block, or -1 if they do not fit */
    private long take(long bytes) {
        if (depth == 0) {
            throw new IllegalStateException("call scratch used outside open() and close()");
        }
        long size = align(bytes);
        if (size > BLOCK_BYTES - top) {
            return -1;
        }
        long at = base + top;
        top += (int) size;
        return at;
    }

    private static int align(int bytes) {
        return (bytes + ALIGN - 1) & -ALIGN;
    }

    private static long align(long bytes) {
        return (bytes + ALIGN - 1) & -ALIGN;
    }
}
