// The two builds of the CPU loops, and DYEPACK_CPU, which chooses between them per engine.
#ifndef DYEPACK_SRC_CPU_VARIANT_H
#define DYEPACK_SRC_CPU_VARIANT_H

#include <string>

namespace dp {
namespace cpu {

// baseline: x86-64 without extensions (fmaf is a correctly rounded library call); avx2: AVX2+FMA
// (fmaf is one instruction, and hand-written 8-wide loops where they pay); avx512: the avx2 loops, and
// 16-wide ones where the multiply-add units are the limit (a wide head's logits). Same bits every way.
enum class Variant { kBaseline, kAvx2, kAvx512 };

// "baseline", "avx2" or "avx512", as DYEPACK_CPU spells them.
const char *variant_name(Variant v);

// True when this processor runs the avx2 variant (AVX2 and FMA).
bool processor_has_avx2();

// True when this processor (and its operating system, which must save the 512-bit registers) runs the
// avx512 variant: the avx2 variant's features and AVX-512 F, VL, DQ and BW.
bool processor_has_avx512();

struct VariantChoice {
  Variant variant;
  std::string description;  // e.g. "avx2 loops, the best this processor runs"
};

// Reads DYEPACK_CPU now: unset or empty picks the best variant the processor runs; "baseline", "avx2"
// or "avx512" picks that one. Throws Error(DP_ERR_INVALID_ARGUMENT) for any other value and
// Error(DP_ERR_UNSUPPORTED) for a variant this processor cannot run, naming the variable.
VariantChoice choose_variant();

}  // namespace cpu
}  // namespace dp

#endif  // DYEPACK_SRC_CPU_VARIANT_H
