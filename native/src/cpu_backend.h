// The CPU backend: multithreaded loops over the shared per-element functions in
// dyepack/detail/math.h. Built twice (baseline x86-64 and AVX2+FMA) and chosen at run time, so
// explicit fmaf() is a single instruction where the processor has one and a correct library
// call where it does not: the bits are the same either way.
#ifndef DYEPACK_SRC_CPU_BACKEND_H
#define DYEPACK_SRC_CPU_BACKEND_H

#include "ops.h"

namespace dp {
namespace cpu {

// "avx2+fma" or "baseline": the variant this process uses.
const char *variant();

int default_threads();

void mask_blend(const BlendArgs &args, int threads);

// Loop bodies, one set per instruction-set variant (cpu_loops.inc).
namespace baseline {
void mask_blend_range(const BlendArgs &args, int64_t begin, int64_t end);
}
namespace avx2 {
void mask_blend_range(const BlendArgs &args, int64_t begin, int64_t end);
}

}  // namespace cpu
}  // namespace dp

#endif  // DYEPACK_SRC_CPU_BACKEND_H
