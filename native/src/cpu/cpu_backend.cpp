#include "cpu/cpu_backend.h"

#include "error.h"

namespace dp {
namespace cpu {

namespace {

const char kNoDevice[] = "device memory needs a CUDA engine; this one runs on the CPU";

class CpuBackend final : public Backend {
 public:
  explicit CpuBackend(Variant variant) : Backend(variant) {}

  dp_backend kind() const override { return DP_BACKEND_CPU; }

  void mask_blend(const BlendArgs &args) override { host().mask_blend(args); }
  void scatter_blend(const ScatterArgs &args) override { host().scatter_blend(args); }
  void paste(const PasteArgs &args) override { host().paste(args); }
  void add_signal(const AddArgs &args) override { host().add_signal(args); }
  void warp(const WarpArgs &args) override { host().warp(args); }
  void keyed_noise(const NoiseArgs &args) override { host().keyed_noise(args); }
  void write_tokens(const TokenArgs &args) override { host().write_tokens(args); }
  void set_columns(const ColumnArgs &args) override { host().set_columns(args); }
  void score(const ScoreArgs &args) override { host().score(args); }
  void fit_linear(const FitArgs &args) override { host().fit_linear(args); }

  void check_device_pointer(const void *, const std::string &what) override {
    invalid(what + " is in device memory but the engine runs on the CPU; use a CUDA engine or host memory");
  }
  void *device_alloc(size_t) override { fail(DP_ERR_UNSUPPORTED, kNoDevice); }
  void device_free(void *) override { fail(DP_ERR_UNSUPPORTED, kNoDevice); }
  void memcpy(void *, const void *, size_t, dp_copy_kind) override { fail(DP_ERR_UNSUPPORTED, kNoDevice); }
  void synchronize() override {}

  // The operand's host copy is all the CPU needs.
  std::unique_ptr<DeviceCopy> make_resident(const float *, int64_t) override { return nullptr; }

  void set_stream(void *stream) override {
    if (stream != nullptr)
      fail(DP_ERR_UNSUPPORTED, "this engine runs on the CPU, which has no CUDA streams; dp_engine_set_stream takes a "
                               "stream only on a CUDA engine (NULL is accepted and changes nothing)");
  }
};

}  // namespace

std::unique_ptr<Backend> create_backend(Variant variant) { return std::make_unique<CpuBackend>(variant); }

}  // namespace cpu
}  // namespace dp
