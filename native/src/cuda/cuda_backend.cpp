// The CUDA backend's life cycle, device memory and synchronisation, and its factory.
#include "cuda/cuda_backend.h"

#include "cuda/cuda.h"
#include "error.h"

namespace dp {
namespace cuda {

std::unique_ptr<Backend> create_backend(int device, cpu::Variant host) {
  const CudaProbe &p = probe();
  if (p.state != DP_CUDA_AVAILABLE) fail(DP_ERR_NO_GPU, p.reason);
  if (device < 0 || device >= p.device_count)
    invalid("CUDA device " + std::to_string(device) + " does not exist (" + std::to_string(p.device_count) +
            " visible)");
  return std::make_unique<CudaBackend>(host, Context::create(device));
}

CudaBackend::~CudaBackend() {
  // Nothing queued may still use the buffers freed next, which must be freed on this device.
  cudaSetDevice(ctx_->device());
  cudaStreamSynchronize(ctx_->main());
  cudaStreamSynchronize(ctx_->aux());
  cudaStreamSynchronize(ctx_->own());
}

void CudaBackend::begin() {
  ctx_->enter();
  uploads_.begin(*ctx_);
}

void CudaBackend::end_uploads() { uploads_.end(*ctx_); }

void CudaBackend::finish_device() {
  if (!ctx_->caller_stream()) ctx_->sync_main();
}

const float *CudaBackend::device_values(const Values &v, DeviceBuffer &scratch, int64_t count) {
  if (v.device != nullptr) return static_cast<const DeviceValues *>(v.device)->get();
  return uploads_.put(*ctx_, scratch, v.host, count);
}

DeviceValues::~DeviceValues() {
  cudaSetDevice(device_);
  cudaFree(values_);
}

std::unique_ptr<DeviceCopy> CudaBackend::make_resident(const float *values, int64_t count) {
  ctx_->enter();
  const size_t bytes = static_cast<size_t>(count) * sizeof(float);
  void *ptr = nullptr;
  DP_CUDA_CHECK(ctx_, cudaMalloc(&ptr, bytes));
  auto copy = std::make_unique<DeviceValues>(ctx_->device(), static_cast<float *>(ptr));
  // Complete on return, so the caller's array is free again and any work queued later, on any
  // stream, sees the values; the engine's own stream does not wait for a caller's queued work.
  DP_CUDA_CHECK(ctx_, cudaMemcpyAsync(ptr, values, bytes, cudaMemcpyHostToDevice, ctx_->own()));
  DP_CUDA_CHECK(ctx_, cudaStreamSynchronize(ctx_->own()));
  return copy;
}

void CudaBackend::set_stream(void *stream) {
  ctx_->enter();
  ctx_->set_caller_stream(static_cast<cudaStream_t>(stream));
}

void CudaBackend::check_device_pointer(const void *ptr, const std::string &what) {
  ctx_->enter();
  if (ptr != nullptr) ctx_->check_pointer(ptr, what);
}

void *CudaBackend::device_alloc(size_t bytes) {
  ctx_->enter();
  void *ptr = nullptr;
  DP_CUDA_CHECK(ctx_, cudaMalloc(&ptr, bytes));
  return ptr;
}

void CudaBackend::device_free(void *ptr) {
  ctx_->enter();
  DP_CUDA_CHECK(ctx_, cudaFree(ptr));
}

void CudaBackend::memcpy(void *dst, const void *src, size_t bytes, dp_copy_kind kind) {
  ctx_->enter();
  if (bytes == 0) return;
  if (kind != DP_COPY_HOST_TO_DEVICE) ctx_->check_pointer(src, "src");
  if (kind != DP_COPY_DEVICE_TO_HOST) ctx_->check_pointer(dst, "dst");
  const cudaMemcpyKind k = kind == DP_COPY_HOST_TO_DEVICE   ? cudaMemcpyHostToDevice
                           : kind == DP_COPY_DEVICE_TO_HOST ? cudaMemcpyDeviceToHost
                                                            : cudaMemcpyDeviceToDevice;
  // Ordered after the work queued on the engine's stream, and complete on return.
  DP_CUDA_CHECK(ctx_, cudaMemcpyAsync(dst, src, bytes, k, ctx_->main()));
  ctx_->sync_main();
}

void CudaBackend::synchronize() {
  ctx_->enter();
  ctx_->sync_all();
}

}  // namespace cuda
}  // namespace dp
