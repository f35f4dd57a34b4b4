// Which backends this build has, and the engine factory: the one place that knows whether CUDA was
// compiled in (backends.cpp). No CUDA type appears here.
#ifndef DYEPACK_SRC_BACKENDS_H
#define DYEPACK_SRC_BACKENDS_H

#include <cstdint>
#include <memory>
#include <string>

#include "backend.h"
#include "dyepack/dyepack.h"

namespace dp {

// Why CUDA can or cannot be used in this process (dp_cuda_status).
struct CudaProbe {
  dp_cuda_state state;
  std::string reason;
  int device_count;  // devices visible (0 unless the driver answered)
};

// Probed once per process, then cached; DP_CUDA_NOT_COMPILED in a build without the kernels.
const CudaProbe &cuda_probe();

bool cuda_compiled();

// The GPU code this build carries ("sm_75 ... compute_120"), or "".
const char *cuda_architectures();

// Describes device `index`; throws Error(DP_ERR_INVALID_ARGUMENT) for a bad index and
// Error(DP_ERR_NO_GPU) when CUDA is unavailable.
void cuda_device_info(int index, dp_device *out);

struct CreatedBackend {
  std::unique_ptr<Backend> backend;
  std::string reason;  // dp_engine_reason: where the engine runs, why, and which CPU loops it uses
};

// The backend of a new engine: `requested` is a dp_backend (checked by the caller), `device` the
// CUDA device index. Reads DYEPACK_CPU (cpu::choose_variant) for the engine's CPU workers. Throws
// Error(DP_ERR_NO_GPU) when CUDA is requested and unavailable.
CreatedBackend create_backend(int32_t requested, int device);

}  // namespace dp

#endif  // DYEPACK_SRC_BACKENDS_H
