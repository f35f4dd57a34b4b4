/*
 * Decision-boundary scoring: the logits' fixed summation order and the scoring epilogue, shared by
 * the CPU loops and the CUDA warp-per-sample kernel so both give the same bits.
 */
#ifndef DYEPACK_MATH_SCORING_H
#define DYEPACK_MATH_SCORING_H

#include "dyepack_math/host_device.h"

namespace dp {
namespace math {

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

#endif  // DYEPACK_MATH_SCORING_H
