// Device and pinned host memory that an engine keeps between calls, one buffer per purpose.
#ifndef DYEPACK_SRC_CUDA_CUDA_SCRATCH_H
#define DYEPACK_SRC_CUDA_CUDA_SCRATCH_H

#include <cstddef>
#include <cstdint>

#include "cuda/cuda_context.h"

namespace dp {
namespace cuda {

// Device memory that only grows, freed with its owner (the owner makes the device current and waits
// for queued work first). Growing waits for the engine's queued work, which may still read the old
// allocation.
class DeviceBuffer {
 public:
  DeviceBuffer() = default;
  ~DeviceBuffer();
  DeviceBuffer(const DeviceBuffer &) = delete;
  DeviceBuffer &operator=(const DeviceBuffer &) = delete;

  void *reserve(Context &ctx, size_t bytes);

  template <class T>
  T *reserve_as(Context &ctx, int64_t count) {
    return static_cast<T *>(reserve(ctx, static_cast<size_t>(count) * sizeof(T)));
  }

  void *get() const { return ptr_; }

 private:
  void *ptr_ = nullptr;
  size_t bytes_ = 0;
};

// Pinned (page-locked) host memory that only grows, for the staging slots.
class PinnedBuffer {
 public:
  PinnedBuffer() = default;
  ~PinnedBuffer();
  PinnedBuffer(const PinnedBuffer &) = delete;
  PinnedBuffer &operator=(const PinnedBuffer &) = delete;

  void *reserve(Context &ctx, size_t bytes);
  void *get() const { return ptr_; }

 private:
  void *ptr_ = nullptr;
  size_t bytes_ = 0;
};

// The per-call device copies of host operands and the work areas of the operations, each buffer
// holding one kind of data only.
struct Scratch {
  DeviceBuffer indices;                  // the selection's index list
  DeviceBuffer mask, pattern;            // mask blend: the mask and pattern; paste: the patch's
  DeviceBuffer offsets;                  // paste: (top, left) per selected sample
  DeviceBuffer elements, element_values; // scatter blend: the listed elements and their values
  DeviceBuffer signal;                   // additive signal
  DeviceBuffer grid;                     // warp: the sampling grid
  DeviceBuffer warp_source[2];           // warp: unwarped samples, per staging slot ([0] for device batches)
  DeviceBuffer token_ids, positions;     // tokens: the ids, and one position per selected sample
  DeviceBuffer columns, column_values;   // tabular columns and their values
  DeviceBuffer head_weight, head_bias;   // scoring: the linear head
  DeviceBuffer head_norms;               // scoring: ||w_i - w_j||
  DeviceBuffer features;                 // scoring: one chunk of host features
  DeviceBuffer logits;                   // scoring: one slice of C logits per resident warp
  DeviceBuffer scores;                   // scoring: one chunk's five outputs
  DeviceBuffer nonfinite;                // scoring: the count of non-finite device features
};

}  // namespace cuda
}  // namespace dp

#endif  // DYEPACK_SRC_CUDA_CUDA_SCRATCH_H
