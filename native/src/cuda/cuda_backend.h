// The CUDA backend: one engine's context, scratch and staging, and the operations on them
// (cuda_ops.cpp). Memory, synchronisation and the factory are in cuda_backend.cpp.
#ifndef DYEPACK_SRC_CUDA_CUDA_BACKEND_H
#define DYEPACK_SRC_CUDA_CUDA_BACKEND_H

#include <memory>

#include "backend.h"
#include "cuda/cuda_context.h"
#include "cuda/cuda_scratch.h"
#include "cuda/cuda_staging.h"
#include "dyepack_kernels/kernels.h"

namespace dp {
namespace cuda {

// A resident operand's values in device memory, uploaded once (dp_operand_create).
class DeviceValues final : public DeviceCopy {
 public:
  DeviceValues(int device, float *values) : device_(device), values_(values) {}
  ~DeviceValues() override;
  DeviceValues(const DeviceValues &) = delete;
  DeviceValues &operator=(const DeviceValues &) = delete;
  const float *get() const { return values_; }

 private:
  int device_;
  float *values_;
};

class CudaBackend final : public Backend {
 public:
  CudaBackend(cpu::Variant host, std::unique_ptr<Context> ctx) : Backend(host), ctx_(std::move(ctx)) {}
  ~CudaBackend() override;

  dp_backend kind() const override { return DP_BACKEND_CUDA; }

  void mask_blend(const BlendArgs &args) override;
  void paste(const PasteArgs &args) override;
  void add_signal(const AddArgs &args) override;
  void warp(const WarpArgs &args) override;
  void keyed_noise(const NoiseArgs &args) override;
  void write_tokens(const TokenArgs &args) override;
  void set_columns(const ColumnArgs &args) override;
  void scatter_blend(const ScatterArgs &args) override;
  void score(const ScoreArgs &args) override;
  // The fit on the device, to the CPU fit's bits (kernels/src/fit.cu); on the CPU where the device has too
  // little free memory for the features.
  void fit_linear(const FitArgs &args) override;

  void check_device_pointer(const void *ptr, const std::string &what) override;
  void *device_alloc(size_t bytes) override;
  void device_free(void *ptr) override;
  void memcpy(void *dst, const void *src, size_t bytes, dp_copy_kind kind) override;
  void synchronize() override;
  std::unique_ptr<DeviceCopy> make_resident(const float *values, int64_t count) override;
  void set_stream(void *stream) override;

 private:
  // Runs a trigger over the selected samples of a device or host batch; see cuda_ops.cpp.
  template <class Launch>
  void run(const Batch &batch, const Selection &sel, const int64_t *d_indices, Launch launch);

  // Starts and ends an operation: the device is made current, the upload arena opened and closed.
  void begin();
  void end_uploads();
  // The end of an operation on a device batch: waits for its work, unless it runs on a caller's
  // stream (see dp_engine_set_stream).
  void finish_device();

  // The device copy of an operand: its resident copy, or this call's upload into `scratch`.
  const float *device_values(const Values &v, DeviceBuffer &scratch, int64_t count);

  // This call's upload of the selection's index list, or nullptr when every sample is selected.
  const int64_t *device_selection(const Selection &sel) {
    return sel.all() ? nullptr : uploads_.put(*ctx_, scratch_.indices, sel.indices, sel.count);
  }

  kernels::Geometry geometry(const Batch &b) const {
    return kernels::Geometry{b.c, b.h, b.w, b.sample_elems, b.nchw};
  }

  std::unique_ptr<Context> ctx_;  // destroyed last: the buffers below are freed on its device
  UploadArena uploads_;
  Staging staging_;
  Scratch scratch_;
};

}  // namespace cuda
}  // namespace dp

#endif  // DYEPACK_SRC_CUDA_CUDA_BACKEND_H
