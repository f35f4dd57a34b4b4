/*
 * The surrogate fit's per-sample arithmetic (dp_fit_linear): e^x by a fixed sequence of IEEE operations and
 * the softmax gradient built on it, shared by the CPU fit (native/src/cpu/runner.cpp) and the CUDA fit
 * (kernels/src/fit.cu) so both give the same head, bit for bit, on every machine.
 *
 * Why not the library's exp: expf is not correctly rounded, and what it returns in its last bit depends
 * on the library and, within one library, on the processor (glibc picks an FMA version of expf where the
 * processor has FMA; CUDA's expf is another algorithm again). A head that moved by one bit between a laptop
 * and a server could move a sample across the selection's cut, so the fit computes e^x itself, with
 * additions, multiplications and comparisons only, which round the same everywhere.
 */
#ifndef DYEPACK_MATH_FIT_H
#define DYEPACK_MATH_FIT_H

#include "dyepack_math/host_device.h"

#if !defined(__CUDA_ARCH__)
#include <cstring>
#endif

namespace dp {
namespace math {

// 2^k as a float, for k in [-126, 127] (a normal number: the exponent field alone).
DP_HD float pow2_f32(int k) {
  const uint32_t bits = static_cast<uint32_t>(k + 127) << 23;
#if defined(__CUDA_ARCH__)
  return __uint_as_float(bits);
#else
  float f;
  std::memcpy(&f, &bits, sizeof f);
  return f;
#endif
}

// e^x in float32, within 2 ulp of e^x for normal results (fit_test measures it against a double-precision
// reference), by operations that round the same on every IEEE machine: no library call, no fused
// multiply-add (the compilers are told not to contract: host_device.h).
//  1. Outside [-103.97208, 88.72283] the result is 0 or +inf (below: under half the smallest subnormal;
//     above: over the largest float); NaN gives NaN.
//  2. k = x * log2(e) rounded to the nearest integer (ties to even) by adding and subtracting 1.5 * 2^23.
//  3. r = (x - k * ln2_hi) - k * ln2_lo (Cody and Waite: ln2_hi has 15 significant bits, so k * ln2_hi is
//     exact for |k| <= 150), |r| <= 0.3466.
//  4. e^r by its Taylor polynomial of degree 7 in Horner form, 1 + r(1 + r(1/2 + r(1/6 + ... + r/5040)))
//     (the truncation is below 5e-9 relative on that interval).
//  5. times 2^k, in two exact steps where 2^k is not a normal float: 2^(k-1) * 2 above, 2^(k+64) * 2^-64
//     below, so a subnormal result is rounded once.
DP_HD float exp_f32(float x) {
  if (!(x == x)) return x;
  if (x > 88.72283f) return INFINITY;
  if (x < -103.97208f) return 0.0f;
  const float shift = 12582912.0f;  // 1.5 * 2^23
  const float kf = (x * 1.44269502f + shift) - shift;
  const float r = (x - kf * 0.693145751953125f) - kf * 1.42860677e-6f;
  float p = 1.0f / 5040.0f;
  p = 1.0f / 720.0f + r * p;
  p = 1.0f / 120.0f + r * p;
  p = 1.0f / 24.0f + r * p;
  p = 1.0f / 6.0f + r * p;
  p = 0.5f + r * p;
  p = 1.0f + r * p;
  p = 1.0f + r * p;
  const int k = static_cast<int>(kf);
  if (k > 127) return p * pow2_f32(k - 1) * 2.0f;
  if (k < -126) return p * pow2_f32(k + 64) * pow2_f32(-64);
  return p * pow2_f32(k);
}

// One sample's step of the fit: its logits z[0..classes) become the softmax gradient softmax(z) - onehot(label),
// in place, and coef[c] = scale * g[c]. The maximum, the sum and the divisions run in class order.
DP_HD void softmax_gradient(float *z, int64_t classes, int32_t label, float scale, float *coef) {
  float zmax = -INFINITY;
  for (int64_t c = 0; c < classes; ++c)
    if (zmax < z[c]) zmax = z[c];
  float sum = 0.0f;
  for (int64_t c = 0; c < classes; ++c) {
    z[c] = exp_f32(z[c] - zmax);
    sum = sum + z[c];
  }
  for (int64_t c = 0; c < classes; ++c) z[c] = z[c] / sum;
  z[label] = z[label] - 1.0f;
  for (int64_t c = 0; c < classes; ++c) coef[c] = scale * z[c];
}

}  // namespace math
}  // namespace dp

#endif  // DYEPACK_MATH_FIT_H
