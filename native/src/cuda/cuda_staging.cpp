#include "cuda/cuda_staging.h"

#include <algorithm>
#include <cstring>

namespace dp {
namespace cuda {

namespace {
constexpr size_t kAlign = 256;  // every upload starts on a 256-byte boundary, like cudaMalloc's
size_t aligned(size_t bytes) { return (bytes + kAlign - 1) / kAlign * kAlign; }
}  // namespace

UploadArena::~UploadArena() {
  for (Half &h : halves_)
    if (h.done) cudaEventDestroy(h.done);
}

void UploadArena::begin(Context &ctx) {
  for (Half &h : halves_)
    if (h.done == nullptr) DP_CUDA_CHECK(&ctx, cudaEventCreateWithFlags(&h.done, cudaEventDisableTiming));
  if (open_) {
    ctx.sync_main();  // the last operation failed between begin and end: its copies may be queued
  } else {
    current_ ^= 1;
    DP_CUDA_CHECK(&ctx, cudaEventSynchronize(halves_[current_].done));
  }
  open_ = true;
  used_ = 0;
}

const void *UploadArena::put_bytes(Context &ctx, DeviceBuffer &dst, const void *src, size_t bytes) {
  void *device = dst.reserve(ctx, bytes);
  if (bytes == 0) return device;
  Half &h = halves_[current_];
  if (used_ + aligned(bytes) > h.capacity) {
    // Grow: copies of this operation already queued read the old memory, so let them finish.
    ctx.sync_main();
    h.capacity = std::max(aligned(bytes), 2 * h.capacity);
    h.memory.reserve(ctx, h.capacity);
    used_ = 0;
  }
  auto *staged = static_cast<unsigned char *>(h.memory.get()) + used_;
  std::memcpy(staged, src, bytes);
  used_ += aligned(bytes);
  DP_CUDA_CHECK(&ctx, cudaMemcpyAsync(device, staged, bytes, cudaMemcpyHostToDevice, ctx.main()));
  return device;
}

void UploadArena::end(Context &ctx) {
  DP_CUDA_CHECK(&ctx, cudaEventRecord(halves_[current_].done, ctx.main()));
  open_ = false;
}

void Staging::run(Context &ctx, const Batch &batch, const Selection &sel, const ChunkOp &op) {
  const size_t sb = static_cast<size_t>(batch.sample_bytes());
  const int64_t per_chunk = static_cast<int64_t>(std::max<size_t>(1, kChunkBytes / sb));
  const int64_t total = sel.count;
  const size_t slot_bytes = static_cast<size_t>(std::min(per_chunk, total)) * sb;
  auto *host = static_cast<unsigned char *>(batch.data);
  struct Pending {
    int64_t first = -1, count = 0;
  } pending[2];

  auto scatter = [&](int slot) {
    Pending &pd = pending[slot];
    if (pd.first < 0) return;
    DP_CUDA_CHECK(&ctx, cudaStreamSynchronize(ctx.stream(slot)));
    auto *src = static_cast<unsigned char *>(host_[slot].get());
    if (sel.all()) {
      std::memcpy(host + static_cast<size_t>(pd.first) * sb, src, static_cast<size_t>(pd.count) * sb);
    } else {
      for (int64_t i = 0; i < pd.count; ++i)
        std::memcpy(host + static_cast<size_t>(sel.sample(pd.first + i)) * sb, src + i * sb, sb);
    }
    pd = Pending{};
  };

  try {
    for (int slot = 0; slot < 2; ++slot) {
      host_[slot].reserve(ctx, slot_bytes);
      device_[slot].reserve(ctx, slot_bytes);
    }
    ctx.aux_after_main();
    int slot = 0;
    for (int64_t first = 0; first < total; first += per_chunk, slot ^= 1) {
      const int64_t count = std::min(per_chunk, total - first);
      scatter(slot);  // the chunk this slot held two steps ago
      auto *dst = static_cast<unsigned char *>(host_[slot].get());
      if (sel.all()) {
        std::memcpy(dst, host + static_cast<size_t>(first) * sb, static_cast<size_t>(count) * sb);
      } else {
        for (int64_t i = 0; i < count; ++i)
          std::memcpy(dst + i * sb, host + static_cast<size_t>(sel.sample(first + i)) * sb, sb);
      }
      const size_t bytes = static_cast<size_t>(count) * sb;
      const cudaStream_t s = ctx.stream(slot);
      DP_CUDA_CHECK(&ctx, cudaMemcpyAsync(device_[slot].get(), dst, bytes, cudaMemcpyHostToDevice, s));
      DP_CUDA_CHECK(&ctx, op(device_[slot].get(), first, count, slot, s));
      DP_CUDA_CHECK(&ctx, cudaMemcpyAsync(dst, device_[slot].get(), bytes, cudaMemcpyDeviceToHost, s));
      pending[slot] = Pending{first, count};
    }
    scatter(slot);
    scatter(slot ^ 1);
  } catch (...) {
    // Leave no copy in flight into buffers this engine may free or reuse.
    cudaStreamSynchronize(ctx.main());
    cudaStreamSynchronize(ctx.aux());
    throw;
  }
}

}  // namespace cuda
}  // namespace dp
