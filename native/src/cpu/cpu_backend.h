// The CPU backend: every operation on the engine's CPU workers (cpu::Runner), in host memory.
#ifndef DYEPACK_SRC_CPU_CPU_BACKEND_H
#define DYEPACK_SRC_CPU_CPU_BACKEND_H

#include <memory>

#include "backend.h"

namespace dp {
namespace cpu {

std::unique_ptr<Backend> create_backend(Variant variant);

}  // namespace cpu
}  // namespace dp

#endif  // DYEPACK_SRC_CPU_CPU_BACKEND_H
