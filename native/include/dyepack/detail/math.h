/*
 * Per-element arithmetic shared by the CPU backend and the CUDA kernels. Not part of the ABI.
 *
 * Everything here is written once and compiled twice: as __host__ __device__ functions under
 * nvcc and as plain inline functions under a C++ compiler. The CPU tests therefore vouch for the
 * GPU's arithmetic. Contract: both compilers must be told not to contract a*b+c on their own
 * (nvcc --fmad=false, g++ -ffp-contract=off); fused multiply-adds appear only as explicit fmaf().
 */
#ifndef DYEPACK_DETAIL_MATH_H
#define DYEPACK_DETAIL_MATH_H

#include <stdint.h>

#if defined(__CUDACC__)
#define DP_HD __host__ __device__ __forceinline__
#else
#include <cmath>
#define DP_HD inline
#endif

namespace dp {
namespace math {

DP_HD float fma_f32(float a, float b, float c) {
#if defined(__CUDA_ARCH__)
  return __fmaf_rn(a, b, c);
#else
  return std::fma(a, b, c);
#endif
}

// Round a float32 to uint8: clamp to [0, 255] (NaN -> 0), then round half to even. The
// 2^23 trick rounds with the current (default: to nearest, ties to even) rounding mode and is
// exact for 0 <= v <= 255; it vectorises on the CPU without SSE4.1.
DP_HD uint8_t to_u8(float v) {
  v = v > 0.0f ? v : 0.0f;  // also maps NaN to 0
  v = v < 255.0f ? v : 255.0f;
  const float magic = 8388608.0f;  // 2^23
  float r = (v + magic) - magic;
  return static_cast<uint8_t>(static_cast<int32_t>(r));
}

// Blend weight of one element: w = amount * mask.
DP_HD float blend_weight(float amount, float mask) { return amount * mask; }

// x' = (1 - w) x + w p, with the two exact ends: w == 0 leaves x (bit for bit), w == 1 gives p.
// Written as selects, not branches, so the CPU loops vectorise.
DP_HD float blend_value(float x, float w, float p) {
  const float mixed = fma_f32(w, p, (1.0f - w) * x);
  const float r = w == 1.0f ? p : mixed;
  return w == 0.0f ? x : r;
}

DP_HD float load_f32(const uint8_t v) { return static_cast<float>(v); }
DP_HD float load_f32(const float v) { return v; }
DP_HD void store(uint8_t *dst, float v) { *dst = to_u8(v); }
DP_HD void store(float *dst, float v) { *dst = v; }

}  // namespace math
}  // namespace dp

#endif  // DYEPACK_DETAIL_MATH_H
