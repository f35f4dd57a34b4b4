// The interface every backend implements. The C ABI layer (abi.cpp) checks every argument, then
// calls one of these once; which backend runs was decided when the engine was created
// (backends.cpp). No CUDA type appears here.
#ifndef DYEPACK_SRC_BACKEND_H
#define DYEPACK_SRC_BACKEND_H

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>

#include "cpu/runner.h"
#include "dyepack/dyepack.h"
#include "ops.h"

namespace dp {

class Backend {
 public:
  Backend(const Backend &) = delete;
  Backend &operator=(const Backend &) = delete;
  virtual ~Backend() = default;

  virtual dp_backend kind() const = 0;

  // The engine's CPU workers. The CPU backend runs its operations on them; every backend runs on
  // them the work that stays on the host: argument scans, the head's pairwise norms, the fit.
  cpu::Runner &host() { return host_; }

  // The operations, on arguments abi.cpp has checked. Each returns when its results are in place
  // (see dp_engine_set_stream for the one exception, device batches on a caller's stream).
  virtual void mask_blend(const BlendArgs &args) = 0;
  virtual void scatter_blend(const ScatterArgs &args) = 0;
  virtual void paste(const PasteArgs &args) = 0;
  virtual void add_signal(const AddArgs &args) = 0;
  virtual void warp(const WarpArgs &args) = 0;
  virtual void keyed_noise(const NoiseArgs &args) = 0;
  virtual void write_tokens(const TokenArgs &args) = 0;
  virtual void set_columns(const ColumnArgs &args) = 0;
  virtual void score(const ScoreArgs &args) = 0;
  virtual void fit_linear(const FitArgs &args) = 0;

  // Throws Error(DP_ERR_INVALID_ARGUMENT) unless `ptr` (null for an empty tensor) is device memory
  // this engine can use; `what` names the argument in the message.
  virtual void check_device_pointer(const void *ptr, const std::string &what) = 0;

  // Device memory and copies (dp_device_alloc, dp_device_free, dp_memcpy); the CPU backend
  // refuses them with DP_ERR_UNSUPPORTED.
  virtual void *device_alloc(size_t bytes) = 0;
  virtual void device_free(void *ptr) = 0;
  virtual void memcpy(void *dst, const void *src, size_t bytes, dp_copy_kind kind) = 0;

  // Waits until all work the engine queued has finished.
  virtual void synchronize() = 0;

  // The backend's own copy of a resident operand's values (dp_operand_create): device memory on
  // CUDA; nullptr on the CPU, which uses the operand's host copy.
  virtual std::unique_ptr<DeviceCopy> make_resident(const float *values, int64_t count) = 0;

  // dp_engine_set_stream: the caller's stream (nullptr: the engine's own), checked here.
  virtual void set_stream(void *stream) = 0;

 protected:
  explicit Backend(cpu::Variant host_variant) : host_(host_variant) {}

 private:
  cpu::Runner host_;
};

}  // namespace dp

#endif  // DYEPACK_SRC_BACKEND_H
