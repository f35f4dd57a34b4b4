// The engine behind the opaque dp_engine handle.
#ifndef DYEPACK_SRC_ENGINE_H
#define DYEPACK_SRC_ENGINE_H

#include <memory>
#include <mutex>
#include <string>

#include "cuda_backend.h"
#include "dyepack/dyepack.h"

struct dp_engine {
  dp_backend backend = DP_BACKEND_CPU;
  int device = -1;
  int threads = 0;  // 0: one per hardware thread
  std::string reason;
  std::mutex mutex;  // calls on one engine are serialised
  std::unique_ptr<dp::cuda::Context, dp::cuda::ContextDeleter> cuda;  // set when backend == DP_BACKEND_CUDA
};

#endif  // DYEPACK_SRC_ENGINE_H
