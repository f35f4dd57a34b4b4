/*
 * DyePack C ABI: the only door into the native trigger engine.
 *
 * Contract for every function below:
 *  - No exception crosses this boundary and no CUDA type appears in it, so the JNI glue (and any
 *    other caller) compiles without CUDA headers.
 *  - Functions that can fail return a dp_status; on failure a message naming the problem is kept
 *    in a thread-local buffer that dp_last_error() returns, and nothing has been written.
 *  - Every argument is validated before any work or kernel launch.
 *  - Handles are opaque. One engine may be used from several threads; calls on it are serialised.
 *  - Every operation returns when its results are in place, except operations on device batches
 *    after dp_engine_set_stream gave the engine a caller's stream (see there).
 *
 * Numeric rule shared by every trigger primitive (CPU and CUDA give the same bits):
 *  - All arithmetic is float32 with a fixed evaluation order; fused multiply-adds are written out
 *    as fmaf() where the formula has them and are never introduced by the compiler.
 *  - uint8 outputs: the float32 result is clamped to [0, 255] (NaN becomes 0), then rounded to
 *    the nearest integer, ties to even.
 *  - float32 outputs are stored unclamped.
 */
#ifndef DYEPACK_DYEPACK_H
#define DYEPACK_DYEPACK_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#if defined(_WIN32)
#define DP_API __declspec(dllexport)
#else
#define DP_API __attribute__((visibility("default")))
#endif

/* Bumped whenever an existing signature, struct layout or enum value in this header changes, so
 * that a caller built against an older header would break. Callers compare dp_abi_version() with it. */
#define DP_ABI_VERSION 4

/* Bumped whenever something is added without changing what exists (new functions, new enum values):
 * callers built against an older revision keep working; callers that need an addition check
 * dp_abi_revision() >= the revision that brought it. Revision 1: resident operands
 * (DP_MEMORY_OPERAND, dp_operand_*, dp_score_boundary_op, dp_set_columns_op) and caller streams
 * (dp_engine_set_stream). Revision 2: dp_sync_filesystem. Revision 3: SHA-256 over caller-owned state
 * (DP_SHA256_STATE_BYTES, dp_sha256_init, dp_sha256_update, dp_sha256_final, dp_sha256_implementation) and
 * the batch file copy (dp_copy_files, dp_copy_status). Revision 4: keyed random words and the keyed
 * shuffle (dp_keyed_bits, dp_keyed_shuffle). Revision 5: early write-back of one file (dp_start_writeback),
 * two digests at once (dp_sha256_update2) and block means of uint8 images (dp_block_means_u8). Revision 6:
 * the fit on rows at a plain pointer (dp_fit_linear_rows). Revision 7: the mask blend at listed elements
 * (dp_scatter_blend). */
#define DP_ABI_REVISION 7

/* Status codes. 0 is success; every other value names a class of failure. */
typedef enum dp_status {
  DP_OK = 0,
  DP_ERR_INVALID_ARGUMENT = 1, /* a null pointer, a size mismatch, a value out of range */
  DP_ERR_UNSUPPORTED = 2,      /* a valid request this build or backend cannot serve */
  DP_ERR_NO_GPU = 3,           /* CUDA requested but no usable device (see dp_cuda_status) */
  DP_ERR_OUT_OF_MEMORY = 4,    /* host allocation failed */
  DP_ERR_DEVICE_OUT_OF_MEMORY = 5,
  DP_ERR_CUDA = 6,             /* a CUDA call failed; the message has file, line, name, text */
  DP_ERR_CUDA_FATAL = 7,       /* a sticky CUDA error: the engine is unusable, create a new one
                                  (the process's CUDA context may need a restart) */
  DP_ERR_INTERNAL = 8
} dp_status;

typedef enum dp_backend {
  DP_BACKEND_AUTO = 0, /* CUDA when a device answers, else CPU */
  DP_BACKEND_CPU = 1,
  DP_BACKEND_CUDA = 2
} dp_backend;

/* uint8 and float32 for images (and float32 for tabular rows); int32 for token sequences. */
typedef enum dp_dtype { DP_DTYPE_UINT8 = 0, DP_DTYPE_FLOAT32 = 1, DP_DTYPE_INT32 = 2 } dp_dtype;

typedef enum dp_layout { DP_LAYOUT_NHWC = 0, DP_LAYOUT_NCHW = 1 } dp_layout;

/* Where a tensor's data lives. DP_MEMORY_OPERAND is for the read-only float32 operands of an
 * operation (pattern, mask, patch, signal, grid): data is then a dp_operand of the same engine
 * (see dp_operand_create), never a batch. */
typedef enum dp_memory { DP_MEMORY_HOST = 0, DP_MEMORY_DEVICE = 1, DP_MEMORY_OPERAND = 2 } dp_memory;

/* Why CUDA can or cannot be used in this process. */
typedef enum dp_cuda_state {
  DP_CUDA_AVAILABLE = 0,
  DP_CUDA_NOT_COMPILED = 1,     /* this library was built without the CUDA kernels */
  DP_CUDA_NO_DRIVER = 2,        /* libcuda could not be loaded */
  DP_CUDA_DRIVER_TOO_OLD = 3,   /* the driver supports an older CUDA than this build needs */
  DP_CUDA_NO_DEVICE = 4,        /* driver present, no device visible */
  DP_CUDA_NO_SUPPORTED_DEVICE = 5, /* devices present, none of a compute capability this build runs on */
  DP_CUDA_ERROR = 6             /* initialisation failed for another reason (see the message) */
} dp_cuda_state;

/* A batch of N images (or one image, N = 1). Element (n, c, h, w) lives at
 * ((n*H + h)*W + w)*C + c for NHWC and ((n*C + c)*H + h)*W + w for NCHW; samples are dense.
 * Token sequences and tabular rows are batches with C = H = 1 and W = the sequence length or row
 * width (the layout is then irrelevant). */
typedef struct dp_tensor {
  int32_t dtype;  /* dp_dtype */
  int32_t layout; /* dp_layout */
  int32_t memory; /* dp_memory: host memory, device memory of the engine's device, or an operand */
  int32_t reserved; /* must be 0 */
  int64_t n, c, h, w;
  void *data;
} dp_tensor;

/* One CUDA device, as dp_device_info reports it. */
typedef struct dp_device {
  char name[256];
  int64_t total_memory; /* bytes */
  int32_t major, minor; /* compute capability */
  int32_t multiprocessors;
  int32_t supported;    /* 1 when this build has code (SASS or PTX) that runs on it */
} dp_device;

/* Pass as n_indices to mean "every sample" (indices must then be NULL). */
#define DP_ALL_SAMPLES (-1)

typedef struct dp_engine dp_engine;

/* Read-only float32 values an engine keeps for reuse across calls (see dp_operand_create). */
typedef struct dp_operand dp_operand;

/* The library version ("0.1.0"), a static string. */
DP_API const char *dp_version(void);

/* DP_ABI_VERSION as compiled into the library; callers compare it with the header they used. */
DP_API int32_t dp_abi_version(void);

/* DP_ABI_REVISION as compiled into the library: the additions it has (see DP_ABI_REVISION). */
DP_API int32_t dp_abi_revision(void);

/* The message of this thread's most recent failure ("" if none). Valid until the next call
 * into the library from this thread. */
DP_API const char *dp_last_error(void);

/* 1 when the CUDA kernels are compiled into this library, else 0. */
DP_API int32_t dp_cuda_compiled(void);

/* The GPU code this build carries, e.g. "sm_75 sm_80 ... compute_120", or "" without CUDA. */
DP_API const char *dp_cuda_architectures(void);

/* Probe CUDA once (cached for the life of the process) and return its state; reason receives a
 * sentence explaining it (e.g. which driver version was found and which one is needed). */
DP_API int32_t dp_cuda_status(char *reason, size_t reason_capacity);

/* Number of CUDA devices visible (0 when CUDA is unavailable for any reason). Never fails. */
DP_API int32_t dp_device_count(void);

/* Describe device `index` (0 <= index < dp_device_count()). */
DP_API int32_t dp_device_info(int32_t index, dp_device *out);

/* Create an engine on `backend` (DP_BACKEND_AUTO picks CUDA when a supported device answers).
 * `device` is the CUDA device index (ignored for the CPU). On success *out owns the engine,
 * to be released with dp_engine_destroy. Requesting CUDA where it is unavailable returns
 * DP_ERR_NO_GPU with the reason. */
DP_API int32_t dp_engine_create(int32_t backend, int32_t device, dp_engine **out);

/* Release an engine and everything it allocated. NULL is ignored. */
DP_API void dp_engine_destroy(dp_engine *engine);

/* The backend the engine runs on (DP_BACKEND_CPU or DP_BACKEND_CUDA), or -1 for NULL. */
DP_API int32_t dp_engine_backend(const dp_engine *engine);

/* Why the engine runs where it does: for AUTO, why CUDA was or was not chosen. A string owned
 * by the engine, valid until it is destroyed. */
DP_API const char *dp_engine_reason(const dp_engine *engine);

/* CPU worker threads for this engine: 0 means one per hardware thread. Results never depend on
 * the count. */
DP_API int32_t dp_engine_set_threads(dp_engine *engine, int32_t threads);

/* Mask blend, in place: for every selected sample x and element e,
 *   w = amount * mask[e];   x'[e] = w == 0 ? x[e] : w == 1 ? pattern[e] : fmaf(w, pattern[e], (1 - w) * x[e])
 * followed by the uint8 rule above when the batch is uint8. This is BadNets' patch (mask = patch,
 * amount = 1) and Blended's mix (mask = 1, amount = alpha).
 *
 * batch:    the images, host memory (any backend) or device memory (CUDA engine only).
 * pattern:  float32, N = 1, the same C, H, W and layout as batch, host memory or a resident operand
 *           (DP_MEMORY_OPERAND); finite values, within [0, 255] when the batch is uint8.
 * mask:     as pattern, values in [0, 1].
 * amount:   in [0, 1].
 * indices:  the samples to change, each in [0, N) and listed once, in any order, host memory;
 *           or NULL with n_indices = DP_ALL_SAMPLES for every sample. n_indices = 0 is a no-op.
 * Host batches on a CUDA engine are staged through pinned buffers chunk by chunk, copies
 * overlapping compute; only the selected samples travel. */
DP_API int32_t dp_mask_blend(dp_engine *engine, const dp_tensor *batch, const dp_tensor *pattern,
                             const dp_tensor *mask, float amount, const int64_t *indices,
                             int64_t n_indices);

/* The mask blend at a few listed elements of each sample, in place: for every selected sample x and
 * j < k, with e = elements[j],
 *   x'[e] = blend(x[e], amount, values[j])      (dp_mask_blend's rule with w = amount, then the uint8 rule)
 * and no other element is read or written: the same bits as dp_mask_blend with a mask of 1 at the k
 * elements and 0 elsewhere and the pattern values[j] at elements[j]. Keyed sparse triggers change a few
 * hundred elements of each image; their dense pattern and mask would be C x H x W floats per key each.
 * batch:    as dp_mask_blend: host memory (any backend) or device memory (CUDA engine only). Host batches
 *           are changed by the engine's host threads on every backend: k elements per sample are not
 *           worth a sample's trip to the device and back.
 * elements: host, k distinct offsets within one sample, each in [0, C*H*W); the caller applies the
 *           batch's layout (NHWC: (y * W + x) * C + c; NCHW: (c * H + y) * W + x).
 * values:   host, k finite values, within [0, 255] when the batch is uint8.
 * k:        >= 0; 0 is a no-op (elements and values may then be null).
 * amount:   in [0, 1].
 * indices:  as dp_mask_blend. */
DP_API int32_t dp_scatter_blend(dp_engine *engine, const dp_tensor *batch, const int64_t *elements,
                                const float *values, int64_t k, float amount, const int64_t *indices,
                                int64_t n_indices);

/* Paste a patch, in place, at a position of its own in each selected sample (BadNets patches,
 * fixed or keyed-random positions): for the i-th selected sample and patch element (c, y, x),
 *   X[c, top_i + y, left_i + x] = blend(X, amount * mask[c, y, x], patch[c, y, x])
 * with the mask-blend rule above.
 * patch, mask: float32, N = 1, the batch's C and layout, 1 <= height <= H, 1 <= width <= W, host
 *              memory or resident operands; patch values finite (within [0, 255] for uint8), mask
 *              values in [0, 1].
 * offsets:     host memory, 2 values per selected sample in selection order (top, left), with
 *              0 <= top <= H - height and 0 <= left <= W - width. */
DP_API int32_t dp_paste(dp_engine *engine, const dp_tensor *batch, const dp_tensor *patch, const dp_tensor *mask,
                        float amount, const int64_t *offsets, const int64_t *indices, int64_t n_indices);

/* Add a signal, in place: x' = x + signal[e] (then the uint8 rule). SIG and low-frequency triggers.
 * signal: float32, N = 1, the batch's geometry and layout, host memory or a resident operand, finite
 *         values. */
DP_API int32_t dp_add_signal(dp_engine *engine, const dp_tensor *batch, const dp_tensor *signal,
                             const int64_t *indices, int64_t n_indices);

/* Warp, in place (WaNet): x'(c, y, x) = bilinear sample of the original image at the source position
 * (grid[0, y, x], grid[1, y, x]) in pixels (row, column), clamped to the image border; integer
 * positions give the pixel exactly, so an identity grid changes nothing.
 * grid: float32, N = 1, C = 2, the batch's H and W, NCHW (a row plane, then a column plane), host
 *       memory or a resident operand, finite values. */
DP_API int32_t dp_warp(dp_engine *engine, const dp_tensor *batch, const dp_tensor *grid, const int64_t *indices,
                       int64_t n_indices);

/* Keyed per-sample noise, in place: x' = x + eps * (2u - 1) (then the uint8 rule), where u is the
 * uniform in [0, 1) of word e % 4 of Philox4x32-10 with key (key0, key1) and counter
 * (e / 4 low, e / 4 high, id low, id high), e the element and id = first_sample + the sample's index
 * in this batch: the pattern depends only on the key and the sample's id in the whole dataset,
 * never on how it was batched. eps: finite, >= 0 (<= 255 for uint8); first_sample >= 0. */
DP_API int32_t dp_keyed_noise(dp_engine *engine, const dp_tensor *batch, uint32_t key0, uint32_t key1, float eps,
                              int64_t first_sample, const int64_t *indices, int64_t n_indices);

/* The words of a keyed stream, without an engine: out[i] = word i % 4 of Philox4x32-10 with key
 * (key0, key1) and counter (lo(i / 4), hi(i / 4), lo(stream), hi(stream)) for i in [0, count): the
 * layout of dp_keyed_noise and of dev.dyepack.key.KeyedRandom's bits(stream, i). Keyed patterns (a
 * blend's noise for every negative key) are drawn here rather than word by word in Java.
 * DP_ERR_INVALID_ARGUMENT for count < 0, or a null out with count > 0. */
DP_API int32_t dp_keyed_bits(uint32_t key0, uint32_t key1, uint64_t stream, uint32_t *out, int64_t count);

/* A keyed Fisher-Yates shuffle of values[0, count) in place, without an engine: for i from count - 1
 * down to 1, swap values[i] and values[j], j = below(stream, i, i + 1) of dev.dyepack.key.KeyedRandom
 * (the word of dp_keyed_bits at index i, read as unsigned, modulo i + 1 when it is at or above
 * 2^32 mod (i + 1); otherwise the draws of a retry stream private to (stream, i) under the key XOR
 * (0x44507274, 0x72793031), as KeyedRandom.below documents). DP_ERR_INVALID_ARGUMENT for count outside
 * [0, 2^31], or null values with count > 0. */
DP_API int32_t dp_keyed_shuffle(uint32_t key0, uint32_t key1, uint64_t stream, int64_t *values, int64_t count);

/* The features a linear surrogate is fitted on for large images (dev.dyepack.surrogate.PooledFeatures):
 * for each of `count` uint8 images of c x h x w at `images` (one after another; NHWC, or NCHW when
 * `nchw` is nonzero), the mean of every factor x factor block of pixels of every channel (edge blocks
 * hold fewer pixels), divided by 255: the exact integer sum divided in double by 255 x the block's pixel
 * count, rounded once to float32. Written to `out` as ceil(h/f) x ceil(w/f) x c floats per image, in
 * (block row, block column, channel) order, whatever the layout. Needs no engine; one thread.
 * DP_ERR_INVALID_ARGUMENT for a negative count, a dimension below 1, a factor outside [1, max(h, w)], or
 * null pointers with count > 0. */
DP_API int32_t dp_block_means_u8(const uint8_t *images, int64_t count, int64_t c, int64_t h, int64_t w, int32_t nchw,
                                 int64_t factor, float *out);

/* Token trigger, in place: for the i-th selected sequence, seq[positions[i] + j] = ids[j], j < k.
 * batch: int32, C = H = 1, W = L. ids: host, k >= 1 values. positions: host, one per selected
 * sample in selection order, 0 <= position <= L - k. */
DP_API int32_t dp_write_tokens(dp_engine *engine, const dp_tensor *batch, const int32_t *ids, int64_t k,
                               const int64_t *positions, const int64_t *indices, int64_t n_indices);

/* Tabular trigger, in place: for every selected row, row[columns[j]] = values[j] (shift = 0) or
 * row[columns[j]] += values[j] (shift = 1), j < k. batch: float32, C = H = 1, W = D. columns: host,
 * k >= 1 distinct values in [0, D). values: host, k finite values. */
DP_API int32_t dp_set_columns(dp_engine *engine, const dp_tensor *batch, const int64_t *columns, const float *values,
                              int64_t k, int32_t shift, const int64_t *indices, int64_t n_indices);

/* dp_set_columns with the values in a resident operand of this engine: k is the operand's count,
 * and `columns` holds k values, as there. */
DP_API int32_t dp_set_columns_op(dp_engine *engine, const dp_tensor *batch, const int64_t *columns,
                                 const dp_operand *values, int32_t shift, const int64_t *indices, int64_t n_indices);

/* Decision-boundary scoring of features X (N x D) under a linear head W (C x D), b (C), the last
 * layer of a surrogate model, in one fused pass that never holds N x C logits: per sample, the
 * predicted class and the runner-up (ties to the lowest index), the logit margin z_y - z_r, the exact
 * L2 distance to the nearest decision boundary min_{j != y} (z_y - z_j) / ||w_y - w_j||, and, with a
 * target t >= 0, the distance to t's boundary (z_y - z_t) / ||w_y - w_t|| (0 when y = t). The
 * pairwise ||w_i - w_j|| are computed once. Logits use a fixed summation order (see
 * native/math/include/dyepack_math/scoring.h), so the CPU and CUDA results are the same bits.
 * features: float32, C = H = 1, W = D, host or device memory, finite values.
 * weight:   host, classes x D float32, row-major, finite. bias: host, classes values, finite.
 * classes:  >= 2. target: -1 (none) or in [0, classes).
 * outputs:  host arrays of N values; target_distance may be NULL when target = -1. */
DP_API int32_t dp_score_boundary(dp_engine *engine, const dp_tensor *features, const float *weight, const float *bias,
                                 int64_t classes, int64_t target, int32_t *predicted, int32_t *runner_up,
                                 float *margin, float *distance, float *target_distance);

/* dp_score_boundary with a head kept by the engine: weight (classes x D values, row-major) and bias
 * (classes values) are resident operands of this engine, so on a CUDA engine nothing of the head is
 * uploaded per call, and the pairwise ||w_i - w_j|| are computed once per weight operand and number
 * of classes, then reused (they are kept with the operand, on the device too). Same results as
 * dp_score_boundary, bit for bit. */
DP_API int32_t dp_score_boundary_op(dp_engine *engine, const dp_tensor *features, const dp_operand *weight,
                                    const dp_operand *bias, int64_t classes, int64_t target, int32_t *predicted,
                                    int32_t *runner_up, float *margin, float *distance, float *target_distance);

/* Fit a softmax-regression head W (classes x D), b (classes) to features X (N x D) and labels, by
 * mini-batch gradient descent on the mean cross-entropy with an L2 penalty: for each epoch e and each
 * batch of `batch` consecutive entries of order[e*N .. e*N + N) (a permutation of 0..N-1 per epoch),
 * W -= rate_e * (G^T X_batch / m + l2 * W) and b -= rate_e * sum(G) / m, where G = softmax(X W^T + b) -
 * onehot(y) and rate_e = rate / (1 + e). W and b start at 0. Runs on the engine's CPU threads, or on the
 * device of a CUDA engine (on its CPU threads where the device lacks the memory for the features); the
 * result does not depend on the backend, the processor or the thread count, to the bit (docs/numerics.md:
 * a fixed order of operations and the fit's own e^x). features: float32, C = H = 1, W = D, host memory, finite. labels: host, N values in
 * [0, classes). order: host, epochs * N values. weight, bias: host outputs. */
DP_API int32_t dp_fit_linear(dp_engine *engine, const dp_tensor *features, const int32_t *labels, int64_t classes,
                             const int64_t *order, int32_t epochs, int32_t batch, float rate, float l2, float *weight,
                             float *bias);

/* dp_fit_linear on n x d float32 rows in host memory at `features` (row-major, finite), for callers that
 * hold the rows as one plain array rather than a dp_tensor: the same checks, update and bits. Revision 6.
 * (The JVM binding passes a Java float[] here pinned in place for the call, so the features are not
 * copied into fresh native memory first; docs/benchmarks.md.) */
DP_API int32_t dp_fit_linear_rows(dp_engine *engine, const float *features, int64_t n, int64_t d,
                                  const int32_t *labels, int64_t classes, const int64_t *order, int32_t epochs,
                                  int32_t batch, float rate, float l2, float *weight, float *bias);

/* Copy directions for dp_memcpy. */
typedef enum dp_copy_kind {
  DP_COPY_HOST_TO_DEVICE = 0,
  DP_COPY_DEVICE_TO_HOST = 1,
  DP_COPY_DEVICE_TO_DEVICE = 2
} dp_copy_kind;

/* Allocate `bytes` of device memory on a CUDA engine's device (for callers without their own CUDA
 * allocator, and for tests). *out receives the pointer; release it with dp_device_free on the same
 * engine. A CPU engine returns DP_ERR_UNSUPPORTED. */
DP_API int32_t dp_device_alloc(dp_engine *engine, size_t bytes, void **out);

/* Free memory from dp_device_alloc. NULL is ignored. */
DP_API int32_t dp_device_free(dp_engine *engine, void *ptr);

/* Copy `bytes` between host and device memory of a CUDA engine's device, synchronously, after the
 * work the engine queued (also on a caller's stream, see dp_engine_set_stream). */
DP_API int32_t dp_memcpy(dp_engine *engine, void *dst, const void *src, size_t bytes, int32_t kind);

/* Wait until all work the engine queued has finished (a no-op on the CPU). Without a caller's stream,
 * operations already return only when their results are in place; this exists for callers sharing
 * device memory, and for device batches on a caller's stream (see dp_engine_set_stream). */
DP_API int32_t dp_engine_synchronize(dp_engine *engine);

/* Create a resident operand: `count` >= 1 float32 values copied from `host` (finite; the array may be
 * reused on return), kept by the engine for use in many calls: uploaded once to the device on a CUDA
 * engine (and kept in host memory as well, for checks and derived values), kept in host memory on the
 * CPU. Use it wherever an operation takes a read-only float32 operand tensor (pattern, mask, patch,
 * signal, grid): a dp_tensor with memory = DP_MEMORY_OPERAND, data = the operand, dtype float32, N = 1
 * and C*H*W = count, its geometry checked as for host memory; or with dp_score_boundary_op and
 * dp_set_columns_op. Operands never change, so their range is checked at each use from bounds
 * recorded here, without a rescan, and a CUDA engine neither uploads nor waits for them. On success
 * *out receives the handle, which belongs to the engine until dp_operand_destroy or
 * dp_engine_destroy; on failure *out is NULL. */
DP_API int32_t dp_operand_create(dp_engine *engine, const float *host, int64_t count, dp_operand **out);

/* Release an operand of `engine`, after waiting for the work the engine queued (which may still read
 * it). NULL is ignored. A handle that is not a live operand of this engine (another engine's, or one
 * already released) is refused with DP_ERR_INVALID_ARGUMENT without being touched. The operand is
 * released even when waiting reports a CUDA error. dp_engine_destroy releases the operands an engine
 * still has; their handles must not be used afterwards. */
DP_API int32_t dp_operand_destroy(dp_engine *engine, dp_operand *operand);

/* Run this engine's CUDA work on the caller's stream: `stream` is a cudaStream_t (as void*) of the
 * engine's device in its primary context (as the CUDA runtime, PyTorch or JavaCPP's CUDA presets make
 * them); NULL goes back to the engine's own streams. It must stay valid while the engine uses it.
 * A CPU engine refuses a stream with DP_ERR_UNSUPPORTED (it accepts NULL, which changes nothing); a
 * stream CUDA reports as invalid, or one of another device, gives DP_ERR_INVALID_ARGUMENT (a pointer
 * that is no stream at all cannot always be told apart).
 * Work queued on the previous stream is waited for before the switch.
 * Synchronisation on a caller's stream: every operation is queued behind the stream's earlier work.
 * Operations on device batches return without waiting: their results are in place when the stream
 * reaches them (synchronise the stream, or queue dependent work on it); the host arrays they were
 * given (indices, offsets, positions, host operands) have been copied when they return and may be
 * reused at once; the batch and any resident operands must stay alive until the stream has passed the
 * work (dp_operand_destroy waits for it). Operations on host batches, scoring (its outputs are host
 * arrays), dp_memcpy and dp_engine_synchronize return only when done, as without a caller's stream. */
DP_API int32_t dp_engine_set_stream(dp_engine *engine, void *stream);

/* Write back to stable storage everything cached for the file system that holds `path` (a file or a
 * directory, opened read-only and closed again): syncfs(2), one flush where forcing each file of a
 * large tree would cost a journal commit per file. Needs no engine. DP_ERR_UNSUPPORTED where the
 * platform has no syncfs (everything but Linux): the caller then forces its files itself.
 * DP_ERR_INVALID_ARGUMENT for a null or empty path, or one that cannot be opened; DP_ERR_INTERNAL
 * when syncfs reports a write-back error (Linux 5.8 and later report errors of any file of the file
 * system since it was opened; older kernels report none, as sync(1) reports none). The message names
 * the path and the system's error text. */
DP_API int32_t dp_sync_filesystem(const char *path);

/* Starts writing the file's dirty cached pages to its device and returns without waiting for them
 * (Linux: sync_file_range with SYNC_FILE_RANGE_WRITE over the whole file; pages already being written
 * are skipped). A hint, not a flush: it makes nothing durable, and the caller still forces the file,
 * but a force that follows finds most of the file already written. For a file written in the page
 * cache piece by piece, called after each piece so that the device writes while the caller goes on.
 * Returns DP_ERR_UNSUPPORTED on other platforms (nothing happens), DP_ERR_INVALID_ARGUMENT for a null
 * or empty path or one that cannot be opened, DP_ERR_INTERNAL when the system refuses (the message
 * names the path and the system's error text). */
DP_API int32_t dp_start_writeback(const char *path);

/* SHA-256 (FIPS 180-4), streamed. The state is DP_SHA256_STATE_BYTES of the caller's memory, of any
 * alignment, owned and freed by the caller; one state serves one thread at a time, distinct states
 * any number of threads. Needs no engine. The compression runs on the processor's SHA extensions
 * where it has them, else in portable C (the same digest); the environment variable DYEPACK_SHA256
 * (portable or sha-ni) or DYEPACK_CPU=baseline, read once per process, forces a choice. */
#define DP_SHA256_STATE_BYTES 128

/* Starts a digest in `state`. DP_ERR_INVALID_ARGUMENT for a null state; DP_ERR_UNSUPPORTED when
 * DYEPACK_SHA256=sha-ni names extensions this processor lacks (and INVALID_ARGUMENT when it names no
 * variant). */
DP_API int32_t dp_sha256_init(void *state);

/* Adds `n` bytes at `data` (which may be null when n is 0). DP_ERR_INVALID_ARGUMENT for a null state,
 * a state dp_sha256_init did not start (or dp_sha256_final ended), or null data with n > 0. */
DP_API int32_t dp_sha256_update(void *state, const void *data, size_t n);

/* As dp_sha256_update(state_a, data_a, n) followed by dp_sha256_update(state_b, data_b, n), with the
 * same results, on one thread: where the two states stand at the same offset within a block (two
 * digests fed the same lengths from the start always do), their whole blocks are compressed together,
 * which the SHA extensions run about 1.5 times as fast as one after the other. For two files hashed
 * side by side (the input and output of a stream, whose lengths match). The states must be distinct;
 * the data may be the same bytes. The errors of dp_sha256_update, for either state. */
DP_API int32_t dp_sha256_update2(void *state_a, const void *data_a, void *state_b, const void *data_b, size_t n);

/* Writes the 32-byte digest of everything added to `out` and ends the state (dp_sha256_init starts it
 * again). DP_ERR_INVALID_ARGUMENT for a null state or out, or a state not started. */
DP_API int32_t dp_sha256_final(void *state, uint8_t *out);

/* "sha-ni" or "portable": the compression this process uses (NULL with the reason in dp_last_error()
 * when the environment names a variant that cannot run). A static string. */
DP_API const char *dp_sha256_implementation(void);

/* What happened to one file of dp_copy_files. */
typedef enum dp_copy_status {
  DP_COPY_OK = 0,        /* copied; its bytes are in the arena and its digest is written */
  DP_COPY_READ = 1,      /* the source could not be opened, examined or read (errno in errors[i]; 0 when
                            it ended before the size it had when opened) */
  DP_COPY_WRITE = 2,     /* the target could not be created (EEXIST: it exists; it is never replaced) or
                            written (errno in errors[i]); a target created and then not written whole is
                            removed again */
  DP_COPY_TOO_LARGE = 3, /* the source holds more than max_file_bytes (its size is in sizes[i]); untouched */
  DP_COPY_NOT_DONE = 4   /* not started: no room left in the arena, or a file before it failed; the
                            target was not created */
} dp_copy_status;

/* Copies `count` files, each from the NUL-terminated path at names + source_at[i] to a new file at
 * names + target_at[i] (created with O_EXCL, mode 0666 less the umask; never overwriting), on up to
 * `threads` threads, with one read and one write per file where the system allows; computes the
 * SHA-256 of the bytes copied into digests + 32*i; and leaves those bytes in the caller's `arena` at
 * offsets[i] (sizes[i] long) so the caller can examine them without reading the file again. Files
 * are started in index order; a file that no longer fits into what is left of the arena is
 * DP_COPY_NOT_DONE (call again with those), as is every file after one that failed (so the failure
 * with the lowest index is always known). Nothing is synced (see dp_sync_filesystem). Needs no
 * engine. Outputs per file: statuses[i] (dp_copy_status), errors[i] (errno or 0), sizes[i],
 * offsets[i], digests. Returns DP_OK when no file failed (some may be NOT_DONE); DP_ERR_INTERNAL when
 * one did, with dp_last_error() naming the path of the failure with the lowest index and the system's
 * error text; DP_ERR_INVALID_ARGUMENT for a negative count, threads < 1, or a null array (the arena
 * may be null when arena_bytes is 0), before anything is touched; DP_ERR_UNSUPPORTED where the
 * platform is not POSIX. */
DP_API int32_t dp_copy_files(int64_t count, const char *names, const int64_t *source_at, const int64_t *target_at,
                             uint64_t max_file_bytes, uint8_t *arena, uint64_t arena_bytes, int32_t threads,
                             int32_t *statuses, int32_t *errors, uint64_t *sizes, uint64_t *offsets,
                             uint8_t *digests);

#ifdef __cplusplus
}
#endif

#endif /* DYEPACK_DYEPACK_H */
