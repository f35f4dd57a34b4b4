// The resident operand behind the opaque dp_operand handle (dp_operand_create).
#ifndef DYEPACK_SRC_OPERAND_H
#define DYEPACK_SRC_OPERAND_H

#include <cstdint>
#include <memory>
#include <vector>

#include "ops.h"

struct dp_operand {
  std::vector<float> values;               // the host copy: every backend's checks, the CPU's data
  float min = 0.0f, max = 0.0f;            // recorded at creation: the range check at each use
  std::unique_ptr<dp::DeviceCopy> device;  // the backend's copy (device memory on CUDA; null on the CPU)

  // Derived once when the operand is a head's weight (dp_score_boundary_op): ||w_i - w_j|| for
  // `norms_classes` classes, itself resident.
  int64_t norms_classes = 0;
  std::unique_ptr<dp_operand> norms;
  // Likewise on a CPU engine: the head laid out as its loops score it (cpu::Runner::prepare_head; null
  // where they read the weights as given), for `cpu_head_classes` classes.
  int64_t cpu_head_classes = 0;
  std::shared_ptr<const float> cpu_head;

  int64_t count() const { return static_cast<int64_t>(values.size()); }
  dp::Values view() const { return dp::Values{values.data(), device.get()}; }
};

#endif  // DYEPACK_SRC_OPERAND_H
