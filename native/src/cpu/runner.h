// One engine's CPU workers: one variant of the loops (cpu/loops.h), with each call's work split
// into contiguous ranges over `threads` threads. Results never depend on the thread count or on the
// variant (the variants give the same bits; dyepack_variants_test checks it).
#ifndef DYEPACK_SRC_CPU_RUNNER_H
#define DYEPACK_SRC_CPU_RUNNER_H

#include <cstdint>
#include <memory>

#include "cpu/loops.h"
#include "cpu/variant.h"
#include "ops.h"

namespace dp {
namespace cpu {

// One per hardware thread (at least 1).
int hardware_threads();

class Runner {
 public:
  explicit Runner(Variant variant);

  Variant variant() const { return variant_; }

  // 0: one per hardware thread.
  void set_threads(int threads) { threads_ = threads; }
  int threads() const { return threads_ > 0 ? threads_ : hardware_threads(); }

  void mask_blend(const BlendArgs &args);
  void scatter_blend(const ScatterArgs &args);
  void paste(const PasteArgs &args);
  void add_signal(const AddArgs &args);
  void warp(const WarpArgs &args);
  void keyed_noise(const NoiseArgs &args);
  void write_tokens(const TokenArgs &args);
  void set_columns(const ColumnArgs &args);
  // Returns the number of non-finite feature values when args.count_nonfinite, else 0. Lays the head
  // out for this call (prepare_head) unless args.prepared_head holds it.
  int64_t score(const ScoreArgs &args);
  // The head laid out as this runner's loops score a head of this shape from (for a caller that keeps
  // it across calls, as a resident head does: args.prepared_head), or null when they read the weights
  // as given. Depends on the variant, never on the thread count.
  std::shared_ptr<const float> prepare_head(const float *weight, int64_t classes, int64_t d);
  void fit_linear(const FitArgs &args);

  // Number of non-finite values among n.
  int64_t count_nonfinite(const float *values, int64_t n);

  // norms[i*C + j] = ||w_i - w_j||, computed in double and rounded once, the same on every backend.
  void pair_norms(const float *weight, int64_t classes, int64_t d, float *norms);

 private:
  Variant variant_;
  const Loops &loops_;
  int threads_ = 0;
};

}  // namespace cpu
}  // namespace dp

#endif  // DYEPACK_SRC_CPU_RUNNER_H
