// Decision-boundary scoring, in two forms chosen by the head's width, both with the fixed summation
// order of math::dot_lanes (lane l accumulates d = l, l+32, ...; then a shuffle tree), so the result
// is the CPU's, bit for bit:
//  - few classes (below kTiledClasses): one warp per sample computes every logit and lane 0 runs the
//    shared epilogue; logits live in a per-warp slice of scratch (C floats);
//  - many classes: one warp per tile of kTileSamples samples x kTileClasses classes, lane l holding
//    lane l's partial sum of every logit of the tile, so each row and weight element loaded feeds
//    several logits (the weights are read once per tile of samples, not once per sample); the logits
//    of a slice of samples go to scratch, then one thread per sample runs the shared epilogue.
//    The slice is as many samples as the scratch holds, so N x C logits are never held at once.
#include <algorithm>
#include <cstdint>

#include "dyepack_kernels/kernels.h"
#include "dyepack_math/scoring.h"
#include "warp_dot.cuh"

namespace dp {
namespace kernels {

namespace {

constexpr int kBlock = 256;
constexpr int kWarpsPerBlock = kBlock / 32;
// From this many classes on, the tiled kernel: the warp-per-sample kernel reads the whole head per
// sample, which stops fitting in cache as C grows.
constexpr int64_t kTiledClasses = 64;
constexpr int kTileSamples = 4;
constexpr int kTileClasses = 8;

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
      const float acc = warp_dot(x, weight + c * d, d, lane);
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

// Logits of samples [0, n) over every class into logits (n x classes), one warp per tile. Rows past the
// last sample or class are read clamped (to stay in bounds) and their logits are not stored.
__global__ void __launch_bounds__(kBlock)
    logits_tiled_kernel(const float *__restrict__ features, int64_t n, int64_t d, const float *__restrict__ weight,
                        const float *__restrict__ bias, int64_t classes, float *__restrict__ logits) {
  const int lane = threadIdx.x & 31;
  const int64_t warp = (int64_t{blockIdx.x} * blockDim.x + threadIdx.x) >> 5;
  const int64_t warps = (int64_t{gridDim.x} * blockDim.x) >> 5;
  const int64_t class_tiles = (classes + kTileClasses - 1) / kTileClasses;
  const int64_t tiles = (n + kTileSamples - 1) / kTileSamples * class_tiles;
  // Neighbouring warps take neighbouring class tiles of the same samples, so the rows are shared in cache.
  for (int64_t t = warp; t < tiles; t += warps) {
    const int64_t s0 = t / class_tiles * kTileSamples, c0 = t % class_tiles * kTileClasses;
    const float *x[kTileSamples];
    const float *w[kTileClasses];
#pragma unroll
    for (int i = 0; i < kTileSamples; ++i) x[i] = features + min(s0 + i, n - 1) * d;
#pragma unroll
    for (int j = 0; j < kTileClasses; ++j) w[j] = weight + min(c0 + j, classes - 1) * d;
    float acc[kTileSamples][kTileClasses];
#pragma unroll
    for (int i = 0; i < kTileSamples; ++i)
#pragma unroll
      for (int j = 0; j < kTileClasses; ++j) acc[i][j] = 0.0f;
    for (int64_t e = lane; e < d; e += 32) {
      float xv[kTileSamples];
#pragma unroll
      for (int i = 0; i < kTileSamples; ++i) xv[i] = __ldg(x[i] + e);
#pragma unroll
      for (int j = 0; j < kTileClasses; ++j) {
        const float wv = __ldg(w[j] + e);
#pragma unroll
        for (int i = 0; i < kTileSamples; ++i) acc[i][j] = math::fma_f32(xv[i], wv, acc[i][j]);
      }
    }
#pragma unroll
    for (int i = 0; i < kTileSamples; ++i)
#pragma unroll
      for (int j = 0; j < kTileClasses; ++j) {
        float v = acc[i][j];
#pragma unroll
        for (int s = 16; s >= 1; s >>= 1) v = v + __shfl_down_sync(0xffffffffu, v, s);
        if (lane == 0 && s0 + i < n && c0 + j < classes) logits[(s0 + i) * classes + c0 + j] = v + bias[c0 + j];
      }
  }
}

// The shared epilogue over logits (n x classes), one thread per sample.
__global__ void __launch_bounds__(kBlock)
    score_epilogue_kernel(const float *__restrict__ logits, int64_t n, int64_t classes, const float *__restrict__ norms,
                          int64_t target, int32_t *__restrict__ predicted, int32_t *__restrict__ runner_up,
                          float *__restrict__ margin, float *__restrict__ distance, float *__restrict__ target_distance) {
  for (int64_t i = int64_t{blockIdx.x} * blockDim.x + threadIdx.x; i < n; i += int64_t{gridDim.x} * blockDim.x) {
    const math::Score s = math::score_logits(logits + i * classes, classes, norms, target);
    predicted[i] = s.predicted;
    runner_up[i] = s.runner_up;
    margin[i] = s.margin;
    distance[i] = s.distance;
    if (target_distance) target_distance[i] = s.target_distance;
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
  if (classes >= kTiledClasses) {
    // Slices of as many samples as the scratch holds logits for (score_scratch_floats), in stream order.
    const int64_t slice = std::max<int64_t>(1, score_scratch_floats(classes, multiprocessors) / classes);
    for (int64_t first = 0; first < n; first += slice) {
      const int64_t count = std::min(slice, n - first);
      const int64_t tiles = (count + kTileSamples - 1) / kTileSamples * ((classes + kTileClasses - 1) / kTileClasses);
      const int64_t blocks = std::min<int64_t>(int64_t{std::max(multiprocessors, 1)} * 8,
                                               (tiles + kWarpsPerBlock - 1) / kWarpsPerBlock);
      logits_tiled_kernel<<<static_cast<unsigned>(blocks), kBlock, 0, stream>>>(features + first * d, count, d, weight,
                                                                                 bias, classes, scratch);
      const int64_t eblocks = std::min<int64_t>(int64_t{std::max(multiprocessors, 1)} * 4, (count + kBlock - 1) / kBlock);
      score_epilogue_kernel<<<static_cast<unsigned>(eblocks), kBlock, 0, stream>>>(
          scratch, count, classes, norms, target, predicted + first, runner_up + first, margin + first,
          distance + first, target_distance ? target_distance + first : nullptr);
      const cudaError_t e = cudaGetLastError();
      if (e != cudaSuccess) return e;
    }
    return cudaSuccess;
  }
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
