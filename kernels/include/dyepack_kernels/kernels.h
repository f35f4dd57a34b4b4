// Launchers of the CUDA kernels. This header may use CUDA types: it is included only by the
// CUDA backend's host code (native/src/cuda_backend.cpp) and by the kernels, never by the C ABI.
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
// weight, pattern: device memory, sample_elems float32 each (weight = amount * mask).
cudaError_t launch_mask_blend(void *data, bool is_u8, const int64_t *indices, int64_t count, int64_t sample_elems,
                              const float *weight, const float *pattern, int multiprocessors, cudaStream_t stream);

// cudaSuccess when this build carries code that runs on the current device, else the error
// (typically cudaErrorNoKernelImageForDevice).
cudaError_t check_kernel_image();

}  // namespace kernels
}  // namespace dp

#endif  // DYEPACK_KERNELS_KERNELS_H
