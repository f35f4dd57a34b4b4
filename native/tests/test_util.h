// Minimal helpers shared by the native test programs.
#ifndef DYEPACK_TESTS_TEST_UTIL_H
#define DYEPACK_TESTS_TEST_UTIL_H

#include <cmath>
#include <cstdint>
#include <cstdio>
#include <random>
#include <string>
#include <vector>

#include "dyepack/dyepack.h"

namespace dptest {

inline int &failures() {
  static int f = 0;
  return f;
}
inline int &passes() {
  static int p = 0;
  return p;
}

#define DP_EXPECT(cond, ...)                                      \
  do {                                                            \
    if (cond) {                                                   \
      ++dptest::passes();                                         \
    } else {                                                      \
      ++dptest::failures();                                       \
      std::fprintf(stderr, "FAIL %s:%d: %s: ", __FILE__, __LINE__, #cond); \
      std::fprintf(stderr, __VA_ARGS__);                          \
      std::fprintf(stderr, "\n");                                 \
    }                                                             \
  } while (0)

inline dp_tensor tensor(int32_t dtype, int32_t layout, int64_t n, int64_t c, int64_t h, int64_t w, void *data,
                        int32_t memory = DP_MEMORY_HOST) {
  dp_tensor t{};
  t.dtype = dtype;
  t.layout = layout;
  t.memory = memory;
  t.n = n;
  t.c = c;
  t.h = h;
  t.w = w;
  t.data = data;
  return t;
}

// Reference rule, written independently of dyepack_math: float32 with an explicit
// fused multiply-add, then clamp and round half to even with nearbyint.
inline float ref_blend(float x, float w, float p) {
  if (w == 0.0f) return x;
  if (w == 1.0f) return p;
  return std::fmaf(w, p, (1.0f - w) * x);
}
inline uint8_t ref_u8(float v) {
  if (!(v > 0.0f)) return 0;
  if (v > 255.0f) return 255;
  return static_cast<uint8_t>(std::nearbyint(v));
}

inline int finish(const char *name) {
  std::printf("%s: %d passed, %d failed\n", name, passes(), failures());
  return failures() == 0 ? 0 : 1;
}

}  // namespace dptest

#endif  // DYEPACK_TESTS_TEST_UTIL_H
