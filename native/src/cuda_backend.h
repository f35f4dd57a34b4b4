// Host side of the CUDA backend, seen from the C ABI layer. No CUDA type appears here, so the
// ABI layer and the CPU backend compile without the CUDA toolkit; cuda_backend.cpp implements it
// when the kernels are built, cuda_stub.cpp when they are not.
#ifndef DYEPACK_SRC_CUDA_BACKEND_H
#define DYEPACK_SRC_CUDA_BACKEND_H

#include <cstdint>
#include <string>

#include "dyepack/dyepack.h"
#include "ops.h"

namespace dp {
namespace cuda {

struct Probe {
  dp_cuda_state state;
  std::string reason;
  int device_count;  // devices visible (0 unless the driver answered)
};

// Probed once per process, then cached.
const Probe &probe();

bool compiled();
const char *architectures();

// Throws Error(DP_ERR_INVALID_ARGUMENT) for a bad index, Error(DP_ERR_NO_GPU) when unavailable.
void device_info(int index, dp_device *out);

// Per-engine CUDA state: device, stream(s), scratch and pinned staging buffers.
class Context;

struct ContextDeleter {
  void operator()(Context *ctx) const noexcept;
};

// Creates a context on `device`; throws Error(DP_ERR_NO_GPU, reason) when it cannot.
Context *create_context(int device);
void destroy_context(Context *ctx) noexcept;

// Throws Error(DP_ERR_INVALID_ARGUMENT) unless `ptr` is device (or managed) memory usable on the
// context's device.
void check_device_pointer(Context *ctx, const void *ptr, const char *what);

void mask_blend(Context *ctx, const BlendArgs &args);
void paste(Context *ctx, const PasteArgs &args);
void add_signal(Context *ctx, const AddArgs &args);
void warp(Context *ctx, const WarpArgs &args);
void keyed_noise(Context *ctx, const NoiseArgs &args);
void write_tokens(Context *ctx, const TokenArgs &args);
void set_columns(Context *ctx, const ColumnArgs &args);
void score(Context *ctx, const ScoreArgs &args);
void synchronize(Context *ctx);
void *device_alloc(Context *ctx, size_t bytes);
void device_free(Context *ctx, void *ptr);
void memcpy(Context *ctx, void *dst, const void *src, size_t bytes, dp_copy_kind kind);

}  // namespace cuda
}  // namespace dp

#endif  // DYEPACK_SRC_CUDA_BACKEND_H
