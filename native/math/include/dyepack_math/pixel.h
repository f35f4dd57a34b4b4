/*
 * Per-element rules of the image and tabular trigger primitives (see docs/numerics.md): the uint8
 * store rule, the mask blend, the additive signal, the keyed-noise step and bilinear sampling.
 */
#ifndef DYEPACK_MATH_PIXEL_H
#define DYEPACK_MATH_PIXEL_H

#include "dyepack_math/host_device.h"

namespace dp {
namespace math {

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

// Keyed noise: x' = x + eps * (2u - 1). 2u - 1 is exact (24-bit u), so only the product and the
// sum round.
DP_HD float noise_value(float x, float eps, float u) { return x + eps * (2.0f * u - 1.0f); }

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

}  // namespace math
}  // namespace dp

#endif  // DYEPACK_MATH_PIXEL_H
