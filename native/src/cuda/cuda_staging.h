// Moving host data to and from the device: the per-call host operands of an operation
// (UploadArena), and host batches, chunk by chunk through pinned slots (Staging).
#ifndef DYEPACK_SRC_CUDA_CUDA_STAGING_H
#define DYEPACK_SRC_CUDA_CUDA_STAGING_H

#include <cstdint>
#include <functional>

#include "cuda/cuda_context.h"
#include "cuda/cuda_scratch.h"
#include "ops.h"

namespace dp {
namespace cuda {

// The host arrays an operation sends to the device (indices, offsets, per-call patterns, ...) are
// first copied into this engine-owned pinned arena and sent from there on ctx.main(). So the
// caller's arrays are free again when the call returns, even while the copies are still queued
// behind other work on a caller's stream, and the copies are truly asynchronous.
class UploadArena {
 public:
  UploadArena() = default;
  ~UploadArena();
  UploadArena(const UploadArena &) = delete;
  UploadArena &operator=(const UploadArena &) = delete;

  // Starts one operation's uploads in one half of the arena (the halves alternate), waiting until
  // the copies of the operation before last have left that half (they were queued long before, so
  // this rarely waits, even when a caller's stream is busy).
  void begin(Context &ctx);

  // Copies `count` values of `src` into the arena and queues their copy into `dst` on ctx.main().
  template <class T>
  const T *put(Context &ctx, DeviceBuffer &dst, const T *src, int64_t count) {
    return static_cast<const T *>(put_bytes(ctx, dst, src, static_cast<size_t>(count) * sizeof(T)));
  }

  // Ends this operation's uploads.
  void end(Context &ctx);

 private:
  const void *put_bytes(Context &ctx, DeviceBuffer &dst, const void *src, size_t bytes);

  struct Half {
    PinnedBuffer memory;
    size_t capacity = 0;
    cudaEvent_t done = nullptr;  // recorded on main() after the copies of the operation that used it
  };
  Half halves_[2];
  int current_ = 0;
  size_t used_ = 0;
  bool open_ = false;  // begin() without end(): an operation failed half-way
};

// Host batches on the device: the selected samples go through two pinned slots, chunk by chunk.
// While the GPU copies in, computes and copies out one chunk, the CPU gathers the next into the
// other slot and scatters the finished one back; only selected samples travel.
class Staging {
 public:
  // Enqueues one chunk's work: `device` holds `count` dense samples (selected samples first ..
  // first + count - 1) on `stream`; `slot` is 0 or 1.
  using ChunkOp = std::function<cudaError_t(void *device, int64_t first, int64_t count, int slot, cudaStream_t stream)>;

  // Runs `op` over the selected samples of a host batch and returns when every result is back in
  // the batch. Work queued on ctx.main() before the call is ordered before every chunk.
  void run(Context &ctx, const Batch &batch, const Selection &sel, const ChunkOp &op);

 private:
  static constexpr size_t kChunkBytes = size_t{8} << 20;  // per slot

  PinnedBuffer host_[2];
  DeviceBuffer device_[2];
};

}  // namespace cuda
}  // namespace dp

#endif  // DYEPACK_SRC_CUDA_CUDA_STAGING_H
