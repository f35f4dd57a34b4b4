// The CPU backend: multithreaded loops over the shared per-element functions in
// dyepack_math (native/math). Built twice (baseline x86-64 and AVX2+FMA) and chosen at run time, so
// explicit fmaf() is a single instruction where the processor has one and a correct library
// call where it does not: the bits are the same either way.
#ifndef DYEPACK_SRC_CPU_BACKEND_H
#define DYEPACK_SRC_CPU_BACKEND_H

#include "ops.h"

// Every CPU operation: name and argument type.
#define DP_CPU_OPS(X)         \
  X(mask_blend, BlendArgs)    \
  X(paste, PasteArgs)         \
  X(add_signal, AddArgs)      \
  X(warp, WarpArgs)           \
  X(keyed_noise, NoiseArgs)   \
  X(write_tokens, TokenArgs)  \
  X(set_columns, ColumnArgs)

namespace dp {
namespace cpu {

// "avx2+fma" or "baseline": the variant this process uses.
const char *variant();

int default_threads();

// Each runs the operation on the selected samples, split across `threads` threads.
#define DP_CPU_DECLARE_OP(name, Args) void name(const Args &args, int threads);
DP_CPU_OPS(DP_CPU_DECLARE_OP)

// Decision-boundary scoring of every sample.
void score(const ScoreArgs &args, int threads);

// Softmax-regression fit (see dp_fit_linear); arguments validated by the caller.
void fit_linear(const float *x, int64_t n, int64_t d, const int32_t *labels, int64_t classes, const int64_t *order,
                int epochs, int batch, float rate, float l2, float *weight, float *bias, int threads);

// Number of non-finite values among n, counted with `threads` threads.
int64_t count_nonfinite(const float *values, int64_t n, int threads);

// norms[i*C + j] = ||w_i - w_j||, computed in double and rounded once, the same on every backend.
void pair_norms(const float *weight, int64_t classes, int64_t d, float *norms, int threads);

// Loop bodies, one set per instruction-set variant (cpu_loops.inc): selected samples [begin, end).
#define DP_CPU_DECLARE_RANGE(name, Args) void name##_range(const Args &args, int64_t begin, int64_t end);
#define DP_CPU_DECLARE_EXTRA                                         \
  void score_range(const ScoreArgs &args, int64_t begin, int64_t end); \
  int64_t count_nonfinite_range(const float *v, int64_t begin, int64_t end); \
  float dot_row(const float *x, const float *w, int64_t d); \
  void pair_norms_range(const float *weight, int64_t classes, int64_t d, float *norms, int64_t begin, int64_t end);
namespace baseline {
DP_CPU_OPS(DP_CPU_DECLARE_RANGE)
DP_CPU_DECLARE_EXTRA
}
namespace avx2 {
DP_CPU_OPS(DP_CPU_DECLARE_RANGE)
DP_CPU_DECLARE_EXTRA
}

}  // namespace cpu
}  // namespace dp

#endif  // DYEPACK_SRC_CPU_BACKEND_H
