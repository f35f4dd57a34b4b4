// Decision-boundary scoring: one warp per sample computes every logit with the fixed summation
// order of math::dot_lanes (lane l accumulates d = l, l+32, ...; then a shuffle tree), so the result
// is the CPU's, bit for bit; lane 0 then runs the shared epilogue. Logits live in a per-warp slice of
// scratch (C floats), never as an N x C matrix.
#include <algorithm>
#include <cstdint>

#include "dyepack_math/scoring.h"
#include "dyepack_kernels/kernels.h"

namespace dp {
namespace kernels {

namespace {

constexpr int kBlock = 256;
constexpr int kWarpsPerBlock = kBlock / 32;

__global__ void __launch_bounds__(kBlock)
    score_kernel(const float *__restrict__ features, int64_t n, int64_t d, const float *__restrict__ weight,
                 const float *__restrict__ bias, int64_t classes, const float *__restrict__ norms, int64_t target,
                 float *__restrict__ scratch, int32_t *__restrict__ predicted, int32_t *__restrict__ runner_up,
                 float *__restrict__ margin, float *__restrict__ distance, float *__restrict__ target_distance) {
  const int lane = threadIdx.x & 31;
  const int64_t warp = (int64_t{blockIdx.x} * blockDim.x + threadIdx.x) >> 5;
  const int64_t warps = (int64_t{gridDim.x} * blockDim.x) >> 5;
  float *z = scratch + warp * classes;
  for (int64_t i = warp; i < n; i += warps) {
    const float *x = features + i * d;
    for (int64_t c = 0; c < classes; ++c) {
      const float *w = weight + c * d;
      float acc = 0.0f;
      for (int64_t e = lane; e < d; e += 32) acc = math::fma_f32(x[e], w[e], acc);
#pragma unroll
      for (int s = 16; s >= 1; s >>= 1) acc = acc + __shfl_down_sync(0xffffffffu, acc, s);
      if (lane == 0) z[c] = acc + bias[c];
    }
    __syncwarp();
    if (lane == 0) {
      const math::Score s = math::score_logits(z, classes, norms, target);
      predicted[i] = s.predicted;
      runner_up[i] = s.runner_up;
      margin[i] = s.margin;
      distance[i] = s.distance;
      if (target_distance) target_distance[i] = s.target_distance;
    }
    __syncwarp();
  }
}

__global__ void __launch_bounds__(kBlock) count_nonfinite_kernel(const float *__restrict__ v, int64_t n,
                                                                 unsigned long long *__restrict__ count) {
  unsigned long long local = 0;
  for (int64_t i = int64_t{blockIdx.x} * blockDim.x + threadIdx.x; i < n; i += int64_t{gridDim.x} * blockDim.x)
    local += isfinite(v[i]) ? 0ull : 1ull;
  if (local) atomicAdd(count, local);
}

}  // namespace

int64_t score_scratch_floats(int64_t classes, int multiprocessors) {
  return int64_t{std::max(multiprocessors, 1)} * 4 * kWarpsPerBlock * classes;
}

cudaError_t launch_score(const float *features, int64_t n, int64_t d, const float *weight, const float *bias,
                         int64_t classes, const float *norms, int64_t target, float *scratch, int32_t *predicted,
                         int32_t *runner_up, float *margin, float *distance, float *target_distance,
                         int multiprocessors, cudaStream_t stream) {
  if (n <= 0) return cudaSuccess;
  const int64_t blocks = std::min<int64_t>(int64_t{std::max(multiprocessors, 1)} * 4,
                                           (n + kWarpsPerBlock - 1) / kWarpsPerBlock);
  score_kernel<<<static_cast<unsigned>(blocks), kBlock, 0, stream>>>(features, n, d, weight, bias, classes, norms,
                                                                      target, scratch, predicted, runner_up, margin,
                                                                      distance, target_distance);
  return cudaGetLastError();
}

cudaError_t launch_count_nonfinite(const float *values, int64_t n, unsigned long long *count, int multiprocessors,
                                   cudaStream_t stream) {
  cudaError_t e = cudaMemsetAsync(count, 0, sizeof(unsigned long long), stream);
  if (e != cudaSuccess || n <= 0) return e;
  const int64_t blocks = std::min<int64_t>(int64_t{std::max(multiprocessors, 1)} * 8, (n + kBlock - 1) / kBlock);
  count_nonfinite_kernel<<<static_cast<unsigned>(blocks), kBlock, 0, stream>>>(values, n, count);
  return cudaGetLastError();
}

}  // namespace kernels
}  // namespace dp
