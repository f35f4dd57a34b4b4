#include "cuda/cuda_scratch.h"

namespace dp {
namespace cuda {

DeviceBuffer::~DeviceBuffer() {
  if (ptr_) cudaFree(ptr_);
}

void *DeviceBuffer::reserve(Context &ctx, size_t bytes) {
  if (bytes_ >= bytes && ptr_) return ptr_;
  if (ptr_) {
    ctx.sync_all();
    DP_CUDA_CHECK(&ctx, cudaFree(ptr_));
    ptr_ = nullptr;
    bytes_ = 0;
  }
  DP_CUDA_CHECK(&ctx, cudaMalloc(&ptr_, bytes > 0 ? bytes : 1));
  bytes_ = bytes;
  return ptr_;
}

PinnedBuffer::~PinnedBuffer() {
  if (ptr_) cudaFreeHost(ptr_);
}

void *PinnedBuffer::reserve(Context &ctx, size_t bytes) {
  if (bytes_ >= bytes && ptr_) return ptr_;
  if (ptr_) {
    ctx.sync_all();
    DP_CUDA_CHECK(&ctx, cudaFreeHost(ptr_));
    ptr_ = nullptr;
    bytes_ = 0;
  }
  DP_CUDA_CHECK(&ctx, cudaMallocHost(&ptr_, bytes > 0 ? bytes : 1));
  bytes_ = bytes;
  return ptr_;
}

}  // namespace cuda
}  // namespace dp
