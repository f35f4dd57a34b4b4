// The engine behind the opaque dp_engine handle.
#ifndef DYEPACK_SRC_ENGINE_H
#define DYEPACK_SRC_ENGINE_H

#include <memory>
#include <mutex>
#include <string>

#include "backend.h"
#include "dyepack/dyepack.h"

struct dp_engine {
  std::unique_ptr<dp::Backend> backend;  // CPU or CUDA, chosen at creation (backends.cpp)
  std::string reason;
  std::mutex mutex;  // calls on one engine are serialised
};

#endif  // DYEPACK_SRC_ENGINE_H
