// Validated arguments of each operation, as the C ABI layer hands them to a backend. Backends
// may assume everything here has been checked (see abi.cpp).
#ifndef DYEPACK_SRC_OPS_H
#define DYEPACK_SRC_OPS_H

#include <cstdint>

#include "dyepack/dyepack.h"

namespace dp {

struct Batch {
  dp_dtype dtype;
  int64_t n;             // samples
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

struct BlendArgs {
  Batch batch;
  Selection selection;
  const float *weight;   // host, sample_elems values: amount * mask, each in [0, 1]
  const float *pattern;  // host, sample_elems values
};

}  // namespace dp

#endif  // DYEPACK_SRC_OPS_H
