// The loop bodies of the CPU backend, one table per instruction-set variant (loops.inc, compiled
// once as loops_baseline.cpp, once as loops_avx2.cpp and once as loops_avx512.cpp). Each entry handles one contiguous range of
// the work ([begin, end) of the selected samples, rows or values); cpu::Runner splits the work
// across threads and never changes what is computed.
#ifndef DYEPACK_SRC_CPU_LOOPS_H
#define DYEPACK_SRC_CPU_LOOPS_H

#include <cstdint>
#include <cstdlib>
#include <memory>
#include <new>

#include "ops.h"

namespace dp {
namespace cpu {

struct Loops {
  // weight: amount * mask per element of the image (blend) or patch (paste), computed once per call.
  void (*mask_blend)(const BlendArgs &args, const float *weight, int64_t begin, int64_t end);
  void (*scatter_blend)(const ScatterArgs &args, int64_t begin, int64_t end);
  void (*paste)(const PasteArgs &args, const float *weight, int64_t begin, int64_t end);
  void (*add_signal)(const AddArgs &args, int64_t begin, int64_t end);
  void (*warp)(const WarpArgs &args, int64_t begin, int64_t end);
  void (*keyed_noise)(const NoiseArgs &args, int64_t begin, int64_t end);
  void (*write_tokens)(const TokenArgs &args, int64_t begin, int64_t end);
  void (*set_columns)(const ColumnArgs &args, int64_t begin, int64_t end);
  // Returns the non-finite feature values among samples [begin, end) when args.count_nonfinite, else 0.
  // Where head_floats(classes, d) > 0, args.prepared_head must hold the head laid out by prepare_head.
  int64_t (*score)(const ScoreArgs &args, int64_t begin, int64_t end);
  // Floats of the layout this variant scores a head of this shape from, or 0 when it reads the weights
  // as given (classes x d).
  int64_t (*head_floats)(int64_t classes, int64_t d);
  // Writes panels [begin, end) of that layout (a panel: a block of classes; head_panels of them).
  void (*prepare_head)(const float *weight, int64_t classes, int64_t d, float *out, int64_t begin, int64_t end);
  int64_t (*head_panels)(int64_t classes);
  // One logit's dot product in the fixed summation order of dyepack_math/scoring.h.
  float (*dot_row)(const float *x, const float *w, int64_t d);
  int64_t (*count_nonfinite)(const float *v, int64_t begin, int64_t end);
  // norms[i*C + j] = ||w_i - w_j|| for rows i in [begin, end), in double, rounded once.
  void (*pair_norms)(const float *weight, int64_t classes, int64_t d, float *norms, int64_t begin, int64_t end);
  // The surrogate fit's logits for `count` rows (each d values): z[s*classes + c] = dot_row(rows[s],
  // weight + c*d, d) + bias[c], the same bits as dot_row.
  void (*fit_logits)(const float *const *rows, int64_t count, const float *weight, const float *bias,
                     int64_t classes, int64_t d, float *z);
  // The surrogate fit's weight step on columns [j0, j1) of every class row c: for k = 0 .. m-1 in
  // order, w_c[j] = w_c[j] - coef[k*classes + c] * rows[k][j]; then w_c[j] = w_c[j] - decay * w_c[j].
  // Each product and each difference is its own rounding (never fused), in every variant.
  void (*fit_update)(float *weight, int64_t classes, int64_t d, const float *const *rows, const float *coef,
                     int64_t m, float decay, int64_t j0, int64_t j1);
};

// Floats aligned to a cache line (the loops' packed operands: an aligned 32-byte vector never spans
// two lines), freed with std::free.
using AlignedFloats = std::unique_ptr<float[], void (*)(void *)>;
inline AlignedFloats aligned_floats(int64_t count) {
  const size_t bytes = (static_cast<size_t>(count > 0 ? count : 1) * sizeof(float) + 63) / 64 * 64;
  float *p = static_cast<float *>(std::aligned_alloc(64, bytes));
  if (p == nullptr) throw std::bad_alloc();
  return AlignedFloats(p, &std::free);
}

namespace baseline {
extern const Loops kLoops;
}
namespace avx2 {
extern const Loops kLoops;
}
namespace avx512 {
extern const Loops kLoops;
}

}  // namespace cpu
}  // namespace dp

#endif  // DYEPACK_SRC_CPU_LOOPS_H
