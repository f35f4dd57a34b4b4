// The CUDA backend of a build without the kernels: every entry point says so.
#include "cuda_backend.h"
#include "error.h"

namespace dp {
namespace cuda {

namespace {
const char *kNotCompiled =
    "this build of DyePack has no CUDA kernels (it was built with -Ddyepack.cuda=OFF or on a machine without nvcc)";
}

const Probe &probe() {
  static const Probe p{DP_CUDA_NOT_COMPILED, kNotCompiled, 0};
  return p;
}

bool compiled() { return false; }
const char *architectures() { return ""; }

void device_info(int index, dp_device *) {
  fail(DP_ERR_NO_GPU, std::string("no CUDA device ") + std::to_string(index) + ": " + kNotCompiled);
}

class Context {};

void ContextDeleter::operator()(Context *ctx) const noexcept { delete ctx; }
Context *create_context(int) { fail(DP_ERR_NO_GPU, kNotCompiled); }
void destroy_context(Context *ctx) noexcept { delete ctx; }
void check_device_pointer(Context *, const void *, const char *what) {
  fail(DP_ERR_NO_GPU, std::string(what) + " is in device memory, but " + kNotCompiled);
}
void mask_blend(Context *, const BlendArgs &) { fail(DP_ERR_NO_GPU, kNotCompiled); }
void paste(Context *, const PasteArgs &) { fail(DP_ERR_NO_GPU, kNotCompiled); }
void add_signal(Context *, const AddArgs &) { fail(DP_ERR_NO_GPU, kNotCompiled); }
void warp(Context *, const WarpArgs &) { fail(DP_ERR_NO_GPU, kNotCompiled); }
void keyed_noise(Context *, const NoiseArgs &) { fail(DP_ERR_NO_GPU, kNotCompiled); }
void write_tokens(Context *, const TokenArgs &) { fail(DP_ERR_NO_GPU, kNotCompiled); }
void set_columns(Context *, const ColumnArgs &) { fail(DP_ERR_NO_GPU, kNotCompiled); }
void score(Context *, const ScoreArgs &) { fail(DP_ERR_NO_GPU, kNotCompiled); }
void synchronize(Context *) {}
void *device_alloc(Context *, size_t) { fail(DP_ERR_NO_GPU, kNotCompiled); }
void device_free(Context *, void *) { fail(DP_ERR_NO_GPU, kNotCompiled); }
void memcpy(Context *, void *, const void *, size_t, dp_copy_kind) { fail(DP_ERR_NO_GPU, kNotCompiled); }

}  // namespace cuda
}  // namespace dp
