/*
 * The host/device macro of the shared arithmetic (dyepack_math) and its one fused multiply-add.
 *
 * Everything in dyepack_math is written once and compiled twice: as __host__ __device__ functions
 * under nvcc and as plain inline functions under a C++ compiler, so the CPU tests vouch for the
 * GPU's arithmetic. Contract: both compilers are told not to contract a*b+c on their own (nvcc
 * --fmad=false, g++ -ffp-contract=off); fused multiply-adds appear only as explicit fma_f32().
 */
#ifndef DYEPACK_MATH_HOST_DEVICE_H
#define DYEPACK_MATH_HOST_DEVICE_H

#include <math.h>
#include <stdint.h>

#if defined(__CUDACC__)
#define DP_HD __host__ __device__ __forceinline__
#else
#include <cmath>
#define DP_HD inline
#endif

namespace dp {
namespace math {

// fmaf, correctly rounded on both sides: one instruction on the GPU and on FMA processors, a
// correctly rounded library call elsewhere.
DP_HD float fma_f32(float a, float b, float c) {
#if defined(__CUDA_ARCH__)
  return __fmaf_rn(a, b, c);
#else
  return std::fma(a, b, c);
#endif
}

}  // namespace math
}  // namespace dp

#endif  // DYEPACK_MATH_HOST_DEVICE_H
