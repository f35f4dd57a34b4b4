// The engine behind the opaque dp_engine handle.
#ifndef DYEPACK_SRC_ENGINE_H
#define DYEPACK_SRC_ENGINE_H

#include <memory>
#include <mutex>
#include <string>
#include <unordered_map>

#include "backend.h"
#include "dyepack/dyepack.h"
#include "operand.h"

struct dp_engine {
  std::unique_ptr<dp::Backend> backend;  // CPU or CUDA, chosen at creation (backends.cpp)
  std::string reason;
  std::mutex mutex;  // calls on one engine are serialised
  // The live operands, by handle: a handle is looked up here before it is used, so a stale or
  // foreign one is refused rather than followed. Declared after `backend`, so released before it.
  std::unordered_map<const dp_operand *, std::unique_ptr<dp_operand>> operands;

  ~dp_engine() {
    if (!operands.empty() && backend) {
      try {
        backend->synchronize();  // queued work may still read them
      } catch (...) {
      }
    }
  }
};

#endif  // DYEPACK_SRC_ENGINE_H
