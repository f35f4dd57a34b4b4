// Validated arguments of each operation, as the C ABI layer hands them to a backend (dp::Backend).
// Backends may assume everything here has been checked (see abi.cpp).
#ifndef DYEPACK_SRC_OPS_H
#define DYEPACK_SRC_OPS_H

#include <cstdint>

#include "dyepack/dyepack.h"

namespace dp {

// A backend's own copy of a resident operand (see Backend::make_resident); each backend knows its
// concrete type.
class DeviceCopy {
 public:
  virtual ~DeviceCopy() = default;
};

// A read-only float32 operand of an operation: `host` always points to its values in host memory
// (the caller's array for this call, or a resident operand's host copy); `device` is the backend's
// resident copy when the caller passed a dp_operand (nullptr otherwise, and always on the CPU).
struct Values {
  const float *host;
  const DeviceCopy *device;
};

struct Batch {
  dp_dtype dtype;
  int64_t n;             // samples
  int64_t c, h, w;       // per-sample geometry
  bool nchw;             // layout
  int64_t sample_elems;  // C * H * W
  void *data;            // host or device memory, dense
  bool device;           // data is device memory
  int64_t elem_bytes() const { return dtype == DP_DTYPE_UINT8 ? 1 : 4; }
  int64_t sample_bytes() const { return sample_elems * elem_bytes(); }
};

// Samples selected for an operation: all of them, or a list of distinct in-range indices.
struct Selection {
  const int64_t *indices;  // host memory; nullptr when all
  int64_t count;           // number of selected samples
  bool all() const { return indices == nullptr; }
  int64_t sample(int64_t i) const { return indices ? indices[i] : i; }
};

// x' = blend(x, amount * mask, pattern) over the whole image.
struct BlendArgs {
  Batch batch;
  Selection selection;
  float amount;          // in [0, 1]
  Values mask;           // sample_elems values in [0, 1]
  Values pattern;        // sample_elems values
};

// x'[elements[j]] = blend(x[elements[j]], amount, values[j]) for j < k: the mask blend at listed elements.
struct ScatterArgs {
  Batch batch;
  Selection selection;
  float amount;             // in [0, 1]
  const int64_t *elements;  // host, k distinct offsets in [0, sample_elems)
  const float *values;      // host, k values
  int64_t k;                // >= 1
};

// A ph x pw patch blended in at a per-sample position.
struct PasteArgs {
  Batch batch;
  Selection selection;
  int64_t ph, pw;         // patch height and width; channels as the batch, same layout
  float amount;           // in [0, 1]
  Values mask;            // C*ph*pw values in [0, 1]
  Values pattern;         // C*ph*pw values
  const int64_t *offsets; // host, 2 per selected sample (top, left), in selection order
};

// x' = x + signal over the whole image.
struct AddArgs {
  Batch batch;
  Selection selection;
  Values signal;  // sample_elems values
};

// x'(c, y, x) = bilinear(x, grid_y[y, x], grid_x[y, x]), border-clamped.
struct WarpArgs {
  Batch batch;
  Selection selection;
  Values grid;  // 2 * H * W values: the row plane, then the column plane (pixels)
};

// x' = x + eps * (2u - 1), u = keyed Philox uniform of (element, first_sample + sample).
struct NoiseArgs {
  Batch batch;
  Selection selection;
  uint32_t key[2];
  float eps;
  int64_t first_sample;  // global id of sample 0 of this batch
};

// Token ids written into int32 sequences at per-sample positions.
struct TokenArgs {
  Batch batch;  // int32, sample_elems = sequence length
  Selection selection;
  const int32_t *ids;        // host, k values
  int64_t k;
  const int64_t *positions;  // host, 1 per selected sample, in selection order
};

// Chosen columns of float32 rows set to, or shifted by, values.
struct ColumnArgs {
  Batch batch;  // float32, sample_elems = row width
  Selection selection;
  const int64_t *columns;  // host, k distinct values
  Values values;           // k values
  int64_t k;
  bool shift;
};

// Decision-boundary scoring of all N samples of a float32 (N x D) batch.
struct ScoreArgs {
  Batch features;          // float32, sample_elems = D
  Values weight;           // classes x D
  Values bias;             // classes
  Values norms;            // classes x classes: ||w_i - w_j||
  int64_t classes;
  int64_t target;          // -1: none
  int32_t *predicted, *runner_up;
  float *margin, *distance, *target_distance;  // host, N each (target_distance null without target)
  // CPU, host features: also count the features' non-finite values in the same pass (the rows are then
  // in the core's caches), so that a check does not read them from memory a second time.
  bool count_nonfinite = false;
  // CPU: the head as the engine's loops lay it out for this shape (cpu::Runner::prepare_head), when the
  // caller keeps one (a resident head); null: the runner lays it out for this call.
  const float *prepared_head = nullptr;
};

// Softmax-regression fit of a linear head (see dp_fit_linear).
struct FitArgs {
  const float *features;   // host, n x d
  int64_t n, d;
  const int32_t *labels;   // host, n values in [0, classes)
  int64_t classes;
  const int64_t *order;    // host, epochs permutations of 0..n-1
  int epochs, batch;
  float rate, l2;
  float *weight, *bias;    // host outputs: classes x d, classes
};

}  // namespace dp

#endif  // DYEPACK_SRC_OPS_H
