// The logit's dot product on one warp, in math::dot_lanes's order (dyepack_math/scoring.h): lane l adds
// fmaf(x[e], w[e], acc) for e = l, l+32, ... in increasing e, then the tree s = 16, 8, 4, 2, 1 (lane l
// adds lane l + s), which leaves the sum in lane 0, the CPU's bits. Shared by the scoring and fit kernels.
#ifndef DYEPACK_KERNELS_WARP_DOT_CUH
#define DYEPACK_KERNELS_WARP_DOT_CUH

#include <cstdint>

#include "dyepack_math/host_device.h"

namespace dp {
namespace kernels {

// Every lane of the warp calls it; lane 0's result is the dot product (the other lanes' are partial).
__device__ __forceinline__ float warp_dot(const float *__restrict__ x, const float *__restrict__ w, int64_t d,
                                          int lane) {
  float acc = 0.0f;
  for (int64_t e = lane; e < d; e += 32) acc = math::fma_f32(x[e], w[e], acc);
#pragma unroll
  for (int s = 16; s >= 1; s >>= 1) acc = acc + __shfl_down_sync(0xffffffffu, acc, s);
  return acc;
}

}  // namespace kernels
}  // namespace dp

#endif  // DYEPACK_KERNELS_WARP_DOT_CUH
