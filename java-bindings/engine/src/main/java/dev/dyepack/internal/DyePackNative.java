package dev.dyepack.internal;

import org.bytedeco.javacpp.BytePointer;
import org.bytedeco.javacpp.FloatPointer;
import org.bytedeco.javacpp.IntPointer;
import org.bytedeco.javacpp.Loader;
import org.bytedeco.javacpp.LongPointer;
import org.bytedeco.javacpp.Pointer;
import org.bytedeco.javacpp.annotation.ByPtrPtr;
import org.bytedeco.javacpp.annotation.Cast;
import org.bytedeco.javacpp.annotation.CriticalRegion;
import org.bytedeco.javacpp.annotation.MemberGetter;
import org.bytedeco.javacpp.annotation.Name;
import org.bytedeco.javacpp.annotation.Opaque;
import org.bytedeco.javacpp.annotation.Platform;

/**
 * The JavaCPP binding of the C ABI in {@code native/include/dyepack/dyepack.h}: the only class with
 * {@code native} methods. The JavaCPP plugin generates and compiles its JNI glue at build time and
 * bundles it with {@code libdyepack.so} under this package's platform folder.
 *
 * <p>Not for direct use: {@link dev.dyepack.Engine} and the types around it check arguments, own the
 * handles and turn status codes into exceptions. Loading happens through {@link NativeLibrary}, which
 * keeps a load failure and reports it on first use.
 */
@Platform(include = "dyepack/dyepack.h", link = "dyepack")
public final class DyePackNative {
    static {
        Loader.load();
    }

    private DyePackNative() {}

    public static final int DP_OK = 0;
    public static final int DP_ERR_INVALID_ARGUMENT = 1;
    public static final int DP_ERR_UNSUPPORTED = 2;
    public static final int DP_ERR_NO_GPU = 3;
    public static final int DP_ERR_OUT_OF_MEMORY = 4;
    public static final int DP_ERR_DEVICE_OUT_OF_MEMORY = 5;
    public static final int DP_ERR_CUDA = 6;
    public static final int DP_ERR_CUDA_FATAL = 7;
    public static final int DP_ERR_INTERNAL = 8;

    public static final int DP_MEMORY_HOST = 0;
    public static final int DP_MEMORY_DEVICE = 1;
    public static final int DP_MEMORY_OPERAND = 2;
    public static final long DP_ALL_SAMPLES = -1;

    public static final int DP_COPY_HOST_TO_DEVICE = 0;
    public static final int DP_COPY_DEVICE_TO_HOST = 1;
    public static final int DP_COPY_DEVICE_TO_DEVICE = 2;

    /** The opaque engine handle. */
    @Opaque
    @Name("dp_engine")
    public static final class EngineHandle extends Pointer {
        static {
            Loader.load();
        }

        /** An empty handle, filled in by {@link #dp_engine_create}. */
        public EngineHandle() {
            super((Pointer) null);
        }
    }

    /** The opaque handle of a resident operand ({@code dp_operand}), owned by its engine. */
    @Opaque
    @Name("dp_operand")
    public static final class OperandHandle extends Pointer {
        static {
            Loader.load();
        }

        /** An empty handle, filled in by {@link #dp_operand_create}. */
        public OperandHandle() {
            super((Pointer) null);
        }
    }

    /** {@code dp_tensor}: a batch descriptor. */
    @Name("dp_tensor")
    public static final class Tensor extends Pointer {
        static {
            Loader.load();
        }

        /** Allocates a zeroed descriptor in native memory (freed by {@link #close()}). */
        public Tensor() {
            super((Pointer) null);
            allocate();
        }

        /**
         * A descriptor in native memory owned elsewhere: at least {@link #sizeof()} bytes, which the owner keeps
         * alive while the descriptor is used; closing this frees nothing.
         *
         * @param memory where the descriptor lies
         */
        public Tensor(Pointer memory) {
            super(memory);
        }

        private native void allocate();

        public native int dtype();

        public native Tensor dtype(int v);

        public native int layout();

        public native Tensor layout(int v);

        public native int memory();

        public native Tensor memory(int v);

        public native int reserved();

        public native Tensor reserved(int v);

        public native long n();

        public native Tensor n(long v);

        public native long c();

        public native Tensor c(long v);

        public native long h();

        public native Tensor h(long v);

        public native long w();

        public native Tensor w(long v);

        public native Pointer data();

        public native Tensor data(Pointer v);
    }

    /** {@code dp_device}: one CUDA device's description. */
    @Name("dp_device")
    public static final class Device extends Pointer {
        static {
            Loader.load();
        }

        /** Allocates a zeroed record in native memory (freed by {@link #close()}). */
        public Device() {
            super((Pointer) null);
            allocate();
        }

        private native void allocate();

        @MemberGetter
        @Cast("char*")
        public native BytePointer name();

        @MemberGetter
        public native long total_memory();

        @MemberGetter
        public native int major();

        @MemberGetter
        public native int minor();

        @MemberGetter
        public native int multiprocessors();

        @MemberGetter
        public native int supported();
    }

    public static native @Cast("const char*") BytePointer dp_version();

    public static native int dp_abi_version();

    public static native int dp_abi_revision();

    public static native @Cast("const char*") BytePointer dp_last_error();

    public static native int dp_cuda_compiled();

    public static native @Cast("const char*") BytePointer dp_cuda_architectures();

    public static native int dp_cuda_status(@Cast("char*") BytePointer reason, @Cast("size_t") long capacity);

    public static native int dp_device_count();

    public static native int dp_device_info(int index, Device out);

    public static native int dp_engine_create(int backend, int device, @ByPtrPtr EngineHandle out);

    public static native void dp_engine_destroy(EngineHandle engine);

    public static native int dp_engine_backend(EngineHandle engine);

    public static native @Cast("const char*") BytePointer dp_engine_reason(EngineHandle engine);

    public static native int dp_engine_set_threads(EngineHandle engine, int threads);

    public static native int dp_mask_blend(EngineHandle engine, @Cast("const dp_tensor*") Tensor batch,
            @Cast("const dp_tensor*") Tensor pattern, @Cast("const dp_tensor*") Tensor mask, float amount,
            @Cast("const int64_t*") LongPointer indices, long nIndices);

    public static native int dp_scatter_blend(EngineHandle engine, @Cast("const dp_tensor*") Tensor batch,
            @Cast("const int64_t*") LongPointer elements, @Cast("const float*") FloatPointer values, long k,
            float amount, @Cast("const int64_t*") LongPointer indices, long nIndices);

    public static native int dp_paste(EngineHandle engine, @Cast("const dp_tensor*") Tensor batch,
            @Cast("const dp_tensor*") Tensor patch, @Cast("const dp_tensor*") Tensor mask, float amount,
            @Cast("const int64_t*") LongPointer offsets, @Cast("const int64_t*") LongPointer indices, long nIndices);

    public static native int dp_add_signal(EngineHandle engine, @Cast("const dp_tensor*") Tensor batch,
            @Cast("const dp_tensor*") Tensor signal, @Cast("const int64_t*") LongPointer indices, long nIndices);

    public static native int dp_warp(EngineHandle engine, @Cast("const dp_tensor*") Tensor batch,
            @Cast("const dp_tensor*") Tensor grid, @Cast("const int64_t*") LongPointer indices, long nIndices);

    public static native int dp_keyed_noise(EngineHandle engine, @Cast("const dp_tensor*") Tensor batch,
            @Cast("uint32_t") int key0, @Cast("uint32_t") int key1, float eps, long firstSample,
            @Cast("const int64_t*") LongPointer indices, long nIndices);

    public static native int dp_write_tokens(EngineHandle engine, @Cast("const dp_tensor*") Tensor batch,
            @Cast("const int32_t*") IntPointer ids, long k, @Cast("const int64_t*") LongPointer positions,
            @Cast("const int64_t*") LongPointer indices, long nIndices);

    public static native int dp_set_columns(EngineHandle engine, @Cast("const dp_tensor*") Tensor batch,
            @Cast("const int64_t*") LongPointer columns, @Cast("const float*") FloatPointer values, long k, int shift,
            @Cast("const int64_t*") LongPointer indices, long nIndices);

    public static native int dp_set_columns_op(EngineHandle engine, @Cast("const dp_tensor*") Tensor batch,
            @Cast("const int64_t*") LongPointer columns, @Cast("const dp_operand*") OperandHandle values, int shift,
            @Cast("const int64_t*") LongPointer indices, long nIndices);

    public static native int dp_score_boundary(EngineHandle engine, @Cast("const dp_tensor*") Tensor features,
            @Cast("const float*") FloatPointer weight, @Cast("const float*") FloatPointer bias, long classes,
            long target, @Cast("int32_t*") IntPointer predicted, @Cast("int32_t*") IntPointer runnerUp,
            FloatPointer margin, FloatPointer distance, FloatPointer targetDistance);

    public static native int dp_score_boundary_op(EngineHandle engine, @Cast("const dp_tensor*") Tensor features,
            @Cast("const dp_operand*") OperandHandle weight, @Cast("const dp_operand*") OperandHandle bias,
            long classes, long target, @Cast("int32_t*") IntPointer predicted, @Cast("int32_t*") IntPointer runnerUp,
            FloatPointer margin, FloatPointer distance, FloatPointer targetDistance);

    public static native int dp_fit_linear(EngineHandle engine, @Cast("const dp_tensor*") Tensor features,
            @Cast("const int32_t*") IntPointer labels, long classes, @Cast("const int64_t*") LongPointer order,
            int epochs, int batch, float rate, float l2, FloatPointer weight, FloatPointer bias);

    /**
     * The fit on Java arrays held in place for the call (JNI's critical access: no copy of the rows, and
     * the collector waits until the call returns). Revision 6.
     */
    @CriticalRegion
    public static native int dp_fit_linear_rows(EngineHandle engine, @Cast("const float*") float[] features, long n,
            long d, @Cast("const int32_t*") int[] labels, long classes, @Cast("const int64_t*") long[] order,
            int epochs, int batch, float rate, float l2, float[] weight, float[] bias);

    public static native int dp_device_alloc(EngineHandle engine, @Cast("size_t") long bytes,
            @Cast("void**") @ByPtrPtr Pointer out);

    public static native int dp_device_free(EngineHandle engine, Pointer ptr);

    public static native int dp_memcpy(EngineHandle engine, Pointer dst, @Cast("const void*") Pointer src,
            @Cast("size_t") long bytes, int kind);

    public static native int dp_engine_synchronize(EngineHandle engine);

    public static native int dp_operand_create(EngineHandle engine, @Cast("const float*") FloatPointer host, long count,
            @ByPtrPtr OperandHandle out);

    public static native int dp_operand_destroy(EngineHandle engine, OperandHandle operand);

    public static native int dp_keyed_bits(@Cast("uint32_t") int key0, @Cast("uint32_t") int key1,
            @Cast("uint64_t") long stream, @Cast("uint32_t*") int[] out, long count);

    public static native int dp_keyed_shuffle(@Cast("uint32_t") int key0, @Cast("uint32_t") int key1,
            @Cast("uint64_t") long stream, @Cast("int64_t*") long[] values, long count);

    public static native int dp_block_means_u8(@Cast("const uint8_t*") Pointer images, long count, long c, long h, long w,
            int nchw, long factor, FloatPointer out);

    public static native int dp_sync_filesystem(@Cast("const char*") BytePointer path);

    public static native int dp_start_writeback(@Cast("const char*") BytePointer path);

    public static native int dp_engine_set_stream(EngineHandle engine, Pointer stream);

    /** {@code DP_SHA256_STATE_BYTES}: the caller-owned state of one SHA-256 digest. */
    public static final int DP_SHA256_STATE_BYTES = 128;

    public static native int dp_sha256_init(Pointer state);

    public static native int dp_sha256_update(Pointer state, @Cast("const void*") Pointer data, @Cast("size_t") long n);

    public static native int dp_sha256_update2(Pointer stateA, @Cast("const void*") Pointer dataA, Pointer stateB,
            @Cast("const void*") Pointer dataB, @Cast("size_t") long n);

    public static native int dp_sha256_final(Pointer state, @Cast("uint8_t*") BytePointer out);

    public static native @Cast("const char*") BytePointer dp_sha256_implementation();

    public static final int DP_COPY_OK = 0;
    public static final int DP_COPY_READ = 1;
    public static final int DP_COPY_WRITE = 2;
    public static final int DP_COPY_TOO_LARGE = 3;
    public static final int DP_COPY_NOT_DONE = 4;

    public static native int dp_copy_files(long count, @Cast("const char*") BytePointer names,
            @Cast("const int64_t*") LongPointer sourceAt, @Cast("const int64_t*") LongPointer targetAt,
            @Cast("uint64_t") long maxFileBytes, @Cast("uint8_t*") BytePointer arena, @Cast("uint64_t") long arenaBytes,
            int threads, @Cast("int32_t*") IntPointer statuses, @Cast("int32_t*") IntPointer errors,
            @Cast("uint64_t*") LongPointer sizes, @Cast("uint64_t*") LongPointer offsets,
            @Cast("uint8_t*") BytePointer digests);
}
