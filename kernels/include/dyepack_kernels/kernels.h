// Launchers of the CUDA kernels. This header may use CUDA types: it is included only by the
// CUDA backend's host code (native/src/cuda/) and by the kernels, never by the C ABI. The kernels'
// per-element arithmetic is dyepack_math's (native/math), shared with the CPU loops; dtypes and
// layouts arrive as plain bools, so nothing here depends on the C ABI header.
// Every launcher assumes validated arguments, enqueues on `stream` and returns the launch status
// without synchronising.
#ifndef DYEPACK_KERNELS_KERNELS_H
#define DYEPACK_KERNELS_KERNELS_H

#include <cuda_runtime_api.h>

#include <cstdint>

namespace dp {
namespace kernels {

// Mask blend in place on `count` samples of `sample_elems` elements each (see dp_mask_blend).
// data:     device memory, uint8 (is_u8) or float32, dense samples.
// indices:  device memory, the samples to change; nullptr means samples 0..count-1.
// amount:   in [0, 1]; the weight of element e is math::blend_weight(amount, mask[e]).
// mask, pattern: device memory, sample_elems float32 each.
cudaError_t launch_mask_blend(void *data, bool is_u8, const int64_t *indices, int64_t count, int64_t sample_elems,
                              float amount, const float *mask, const float *pattern, int multiprocessors,
                              cudaStream_t stream);

// One image's geometry.
struct Geometry {
  int64_t c, h, w;
  int64_t elems;  // c * h * w
  bool nchw;
};

// In all launchers below, `sample_of` maps the i-th of `count` samples to its sample index in
// `data` (nullptr: i itself), and per-selected-sample arrays are already offset to the first one.

// Patch of c x ph x pw blended in at per-sample offsets (2 per sample: top, left), with the weight
// math::blend_weight(amount, mask[e]) per patch element.
cudaError_t launch_paste(void *data, bool is_u8, const int64_t *sample_of, int64_t count, Geometry g, int64_t ph,
                         int64_t pw, float amount, const float *mask, const float *pattern, const int64_t *offsets,
                         int multiprocessors, cudaStream_t stream);

// The mask blend at k listed elements of each sample (see dp_scatter_blend): element elements[j] of
// every sample takes math::blend_value(x, math::blend_weight(amount, 1), values[j]); nothing else is touched.
// elements, values: device memory, k each.
cudaError_t launch_scatter_blend(void *data, bool is_u8, const int64_t *sample_of, int64_t count, int64_t elems,
                                 const int64_t *elements, const float *values, int64_t k, float amount,
                                 int multiprocessors, cudaStream_t stream);

// x' = x + signal[e].
cudaError_t launch_add_signal(void *data, bool is_u8, const int64_t *sample_of, int64_t count, int64_t elems,
                              const float *signal, int multiprocessors, cudaStream_t stream);

// dst sample (sample_of[i] or i) = bilinear warp of src sample i (src holds `count` dense samples).
cudaError_t launch_warp(const void *src, void *dst, bool is_u8, const int64_t *sample_of, int64_t count, Geometry g,
                        const float *grid, int multiprocessors, cudaStream_t stream);

// Keyed noise; the id of sample i is id_base + (id_of ? id_of[i] : i).
cudaError_t launch_keyed_noise(void *data, bool is_u8, const int64_t *sample_of, const int64_t *id_of, int64_t id_base,
                               int64_t count, int64_t elems, uint32_t key0, uint32_t key1, float eps,
                               int multiprocessors, cudaStream_t stream);

// seq[positions[i] + j] = ids[j] for every sample i and j < k.
cudaError_t launch_write_tokens(int32_t *data, const int64_t *sample_of, int64_t count, int64_t length,
                                const int32_t *ids, int64_t k, const int64_t *positions, cudaStream_t stream);

// row[columns[j]] = values[j] (or += when shift) for every sample and j < k.
cudaError_t launch_set_columns(float *data, const int64_t *sample_of, int64_t count, int64_t width,
                               const int64_t *columns, const float *values, int64_t k, bool shift,
                               cudaStream_t stream);

// dst (count dense samples) = src samples sample_of[i] (nullptr: i).
cudaError_t launch_gather(const void *src, void *dst, const int64_t *sample_of, int64_t count, int64_t sample_bytes,
                          cudaStream_t stream);

// Floats of logit scratch launch_score needs (one slice of `classes` per resident warp).
int64_t score_scratch_floats(int64_t classes, int multiprocessors);

// Decision-boundary scoring of n samples (features n x d, device); outputs device arrays of n. Below 64
// classes one warp per sample; from 64 on, a tiled kernel (4 samples x 8 classes per warp) into the
// scratch's logits, slice by slice, then the epilogue; the same bits either way.
cudaError_t launch_score(const float *features, int64_t n, int64_t d, const float *weight, const float *bias,
                         int64_t classes, const float *norms, int64_t target, float *scratch, int32_t *predicted,
                         int32_t *runner_up, float *margin, float *distance, float *target_distance,
                         int multiprocessors, cudaStream_t stream);

// One step of the surrogate fit (dp_fit_linear) on the batch's m samples, rows perm[0..m) of features (n x d,
// device) with their labels: the logits and softmax gradients into z and coef (m x classes each), then the
// weights (classes x d) and bias updated in place; scale = step / m, decay = step * l2. The CPU fit's
// operations in its order (docs/numerics.md), so the same bits.
cudaError_t launch_fit_step(const float *features, int64_t d, const int32_t *labels, const int64_t *perm, int64_t m,
                            float *weight, float *bias, int64_t classes, float scale, float decay, float *z,
                            float *coef, int multiprocessors, cudaStream_t stream);

// *count = number of non-finite values among n (device memory).
cudaError_t launch_count_nonfinite(const float *values, int64_t n, unsigned long long *count, int multiprocessors,
                                   cudaStream_t stream);

// cudaSuccess when this build carries code that runs on the current device, else the error
// (typically cudaErrorNoKernelImageForDevice).
cudaError_t check_kernel_image();

}  // namespace kernels
}  // namespace dp

#endif  // DYEPACK_KERNELS_KERNELS_H
