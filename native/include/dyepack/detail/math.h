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

DP_HD float load_f32(const uint8_t v) { return static_cast<float>(v); }
DP_HD float load_f32(const float v) { return v; }
DP_HD void store(uint8_t *dst, float v) { *dst = to_u8(v); }
DP_HD void store(float *dst, float v) { *dst = v; }

// Blend weight of one element: w = amount * mask.
DP_HD float blend_weight(float amount, float mask) { return amount * mask; }

// x' = (1 - w) x + w p, with the two exact ends: w == 0 leaves x (bit for bit), w == 1 gives p.
// Written as selects, not branches, so the CPU loops vectorise.
DP_HD float blend_value(float x, float w, float p) {
  const float mixed = fma_f32(w, p, (1.0f - w) * x);
  const float r = w == 1.0f ? p : mixed;
  return w == 0.0f ? x : r;
}

// Additive triggers (SIG, low-frequency): x' = x + s, then the dtype's store rule.
DP_HD float add_value(float x, float s) { return x + s; }

// Linear interpolation between a and b at f in [0, 1): exactly a when f == 0.
DP_HD float lerp(float a, float b, float f) { return f == 0.0f ? a : fma_f32(f, b, (1.0f - f) * a); }

// Element offset of (c, y, x) in one image of C x H x W in NHWC or NCHW order.
DP_HD int64_t offset(bool nchw, int64_t c, int64_t y, int64_t x, int64_t C, int64_t H, int64_t W) {
  return nchw ? (c * H + y) * W + x : (y * W + x) * C + c;
}

// Where a bilinear sample at (sy, sx) in pixels reads from, coordinates clamped to the border.
// Computed once per output pixel and shared by its channels. Integer coordinates give weights of
// exactly 0, so an identity grid is an exact identity.
struct BilinearTap {
  int32_t y0, y1, x0, x1;
  float fy, fx;
};

DP_HD BilinearTap bilinear_tap(int64_t H, int64_t W, float sy, float sx) {
  sy = sy > 0.0f ? (sy < static_cast<float>(H - 1) ? sy : static_cast<float>(H - 1)) : 0.0f;
  sx = sx > 0.0f ? (sx < static_cast<float>(W - 1) ? sx : static_cast<float>(W - 1)) : 0.0f;
  BilinearTap t;
  t.y0 = static_cast<int32_t>(sy);  // floor: sy >= 0
  t.x0 = static_cast<int32_t>(sx);
  t.y1 = t.y0 + 1 < H ? t.y0 + 1 : t.y0;
  t.x1 = t.x0 + 1 < W ? t.x0 + 1 : t.x0;
  t.fy = sy - static_cast<float>(t.y0);
  t.fx = sx - static_cast<float>(t.x0);
  return t;
}

// Channel c of one C x H x W image sampled at a tap.
template <class T>
DP_HD float bilinear(const T *img, bool nchw, int64_t C, int64_t H, int64_t W, int64_t c, const BilinearTap &t) {
  const float v00 = load_f32(img[offset(nchw, c, t.y0, t.x0, C, H, W)]);
  const float v01 = load_f32(img[offset(nchw, c, t.y0, t.x1, C, H, W)]);
  const float v10 = load_f32(img[offset(nchw, c, t.y1, t.x0, C, H, W)]);
  const float v11 = load_f32(img[offset(nchw, c, t.y1, t.x1, C, H, W)]);
  return lerp(lerp(v00, v01, t.fx), lerp(v10, v11, t.fx), t.fy);
}

// Philox4x32-10 (Salmon et al., SC'11; the Random123 definition): a counter-based generator, so
// any element's random word is computed on its own from (key, counter), on any backend.
struct Philox4 {
  uint32_t v[4];
};

DP_HD Philox4 philox4x32_10(Philox4 ctr, uint32_t k0, uint32_t k1) {
  for (int round = 0; round < 10; ++round) {
    if (round > 0) {
      k0 += 0x9E3779B9u;
      k1 += 0xBB67AE85u;
    }
    const uint64_t p0 = static_cast<uint64_t>(0xD2511F53u) * ctr.v[0];
    const uint64_t p1 = static_cast<uint64_t>(0xCD9E8D57u) * ctr.v[2];
    const uint32_t hi0 = static_cast<uint32_t>(p0 >> 32), lo0 = static_cast<uint32_t>(p0);
    const uint32_t hi1 = static_cast<uint32_t>(p1 >> 32), lo1 = static_cast<uint32_t>(p1);
    ctr = Philox4{{hi1 ^ ctr.v[1] ^ k0, lo1, hi0 ^ ctr.v[3] ^ k1, lo0}};
  }
  return ctr;
}

// The keyed stream contract shared with dev.dyepack.key.KeyedRandom: the word for (stream, index)
// is word index % 4 of Philox(counter = (index/4 low, index/4 high, stream low, stream high), key).
DP_HD Philox4 keyed_block(uint32_t k0, uint32_t k1, int64_t stream, int64_t quad) {
  const uint64_t q = static_cast<uint64_t>(quad), s = static_cast<uint64_t>(stream);
  return philox4x32_10(Philox4{{static_cast<uint32_t>(q), static_cast<uint32_t>(q >> 32), static_cast<uint32_t>(s),
                                static_cast<uint32_t>(s >> 32)}},
                       k0, k1);
}

// A uniform float in [0, 1) from the top 24 bits of a word: exactly representable.
DP_HD float unit_uniform(uint32_t word) { return static_cast<float>(word >> 8) * (1.0f / 16777216.0f); }

// Keyed noise: x' = x + eps * (2u - 1). 2u - 1 is exact (24-bit u), so only the product and the
// sum round.
DP_HD float noise_value(float x, float eps, float u) { return x + eps * (2.0f * u - 1.0f); }


// ---- Decision-boundary scoring -------------------------------------------------------------

// The dot product's fixed summation order, shared by the CPU and a CUDA warp so both give the same
// bits: 32 partial sums, lane l accumulating elements d = l, l+32, l+64, ... with fmaf in increasing
// d, then a tree: for s = 16, 8, 4, 2, 1, lane l < s adds lane l+s. This scalar form is the
// definition; the CPU's vector loop and the warp's shuffles are faster ways to run it.
constexpr int kDotLanes = 32;

DP_HD float reduce_lanes(float *acc) {
  for (int s = kDotLanes / 2; s >= 1; s /= 2)
    for (int l = 0; l < s; ++l) acc[l] = acc[l] + acc[l + s];
  return acc[0];
}

DP_HD float dot_lanes(const float *x, const float *w, int64_t d) {
  float acc[kDotLanes];
  for (int l = 0; l < kDotLanes; ++l) acc[l] = 0.0f;
  for (int64_t i = 0; i < d; ++i) acc[i % kDotLanes] = fma_f32(x[i], w[i], acc[i % kDotLanes]);
  return reduce_lanes(acc);
}

// Distance to the hyperplane between class y and class j for a logit gap diff = z_y - z_j and
// ||w_y - w_j|| = norm. Identical weight rows never cross unless the gap is 0.
DP_HD float boundary_distance(float diff, float norm) {
  if (norm > 0.0f) return diff / norm;
  return diff > 0.0f ? INFINITY : 0.0f;
}

struct Score {
  int32_t predicted, runner_up;
  float margin, distance, target_distance;
};

// The scoring epilogue over one sample's logits z[0..C-1] (C >= 2): the predicted class and the
// runner-up (ties to the lowest index), the logit margin, the exact L2 distance to the nearest
// decision boundary, min_{j != y} (z_y - z_j) / ||w_y - w_j||, and the distance to the target
// class's boundary (0 when the sample is already predicted as the target; NaN without a target).
// norms[i*C + j] = ||w_i - w_j||.
DP_HD Score score_logits(const float *z, int64_t classes, const float *norms, int64_t target) {
  Score s;
  int64_t y = 0;
  for (int64_t c = 1; c < classes; ++c)
    if (z[c] > z[y]) y = c;
  int64_t r = y == 0 ? 1 : 0;
  for (int64_t c = r + 1; c < classes; ++c)
    if (c != y && z[c] > z[r]) r = c;
  s.predicted = static_cast<int32_t>(y);
  s.runner_up = static_cast<int32_t>(r);
  s.margin = z[y] - z[r];
  float best = INFINITY;
  for (int64_t j = 0; j < classes; ++j) {
    if (j == y) continue;
    const float d = boundary_distance(z[y] - z[j], norms[y * classes + j]);
    best = d < best ? d : best;
  }
  s.distance = best;
  if (target < 0) {
    s.target_distance = NAN;
  } else if (target == y) {
    s.target_distance = 0.0f;
  } else {
    s.target_distance = boundary_distance(z[y] - z[target], norms[y * classes + target]);
  }
  return s;
}

}  // namespace math
}  // namespace dp

#endif  // DYEPACK_DETAIL_MATH_H
