// Minimal helpers shared by the native test programs.
#ifndef DYEPACK_TESTS_TEST_UTIL_H
#define DYEPACK_TESTS_TEST_UTIL_H

#include <dlfcn.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <numeric>
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

// A CUDA stream made the way another CUDA library would make one (the driver API, on the primary
// context of device 0), for the dp_engine_set_stream tests; without a driver, get() is null. The
// tests need no CUDA headers or libraries for it.
class DriverStream {
 public:
  DriverStream() {
    lib_ = dlopen("libcuda.so.1", RTLD_NOW | RTLD_LOCAL);
    if (lib_ == nullptr) return;
    auto init = sym<int (*)(unsigned)>("cuInit");
    auto device_get = sym<int (*)(int *, int)>("cuDeviceGet");
    auto retain = sym<int (*)(void **, int)>("cuDevicePrimaryCtxRetain");
    auto create = sym<int (*)(void **, unsigned)>("cuStreamCreate");
    push_ = sym<int (*)(void *)>("cuCtxPushCurrent_v2");
    pop_ = sym<int (*)(void **)>("cuCtxPopCurrent_v2");
    destroy_ = sym<int (*)(void *)>("cuStreamDestroy_v2");
    sync_ = sym<int (*)(void *)>("cuStreamSynchronize");
    release_ = sym<int (*)(int)>("cuDevicePrimaryCtxRelease_v2");
    if (!init || !device_get || !retain || !create || !push_ || !pop_ || !destroy_ || !sync_ || !release_) return;
    if (init(0) != 0 || device_get(&device_, 0) != 0 || retain(&ctx_, device_) != 0) return;
    retained_ = true;
    void *previous = nullptr;
    if (push_(ctx_) != 0) return;
    if (create(&stream_, 1 /* CU_STREAM_NON_BLOCKING */) != 0) stream_ = nullptr;
    pop_(&previous);
  }
  ~DriverStream() {
    void *previous = nullptr;
    if (stream_ && push_(ctx_) == 0) {
      destroy_(stream_);
      pop_(&previous);
    }
    if (retained_) release_(device_);
    if (lib_) dlclose(lib_);
  }
  DriverStream(const DriverStream &) = delete;
  DriverStream &operator=(const DriverStream &) = delete;

  void *get() const { return stream_; }
  bool synchronize() const { return stream_ != nullptr && sync_(stream_) == 0; }

 private:
  template <class F>
  F sym(const char *name) {
    return reinterpret_cast<F>(dlsym(lib_, name));
  }
  void *lib_ = nullptr, *ctx_ = nullptr, *stream_ = nullptr;
  int device_ = 0;
  bool retained_ = false;
  int (*push_)(void *) = nullptr;
  int (*pop_)(void **) = nullptr;
  int (*destroy_)(void *) = nullptr;
  int (*sync_)(void *) = nullptr;
  int (*release_)(int) = nullptr;
};

// A fit problem (dp_fit_linear): n rows of d features, each uniform in [-1, 1) plus 1 on the features e with
// e % classes == the row's label (so the head has something to learn), all times `spread`; labels drawn
// at random; and `epochs` random permutations of the rows, one after another.
struct FitProblem {
  std::vector<float> x;
  std::vector<int32_t> labels;
  std::vector<int64_t> order;
};

inline FitProblem fit_problem(std::mt19937 &rng, int64_t n, int64_t d, int64_t classes, int epochs, float spread) {
  FitProblem p;
  p.x.resize(static_cast<size_t>(n * d));
  p.labels.resize(static_cast<size_t>(n));
  std::uniform_real_distribution<float> unit(-1.0f, 1.0f);
  for (int64_t i = 0; i < n; ++i) {
    p.labels[static_cast<size_t>(i)] = static_cast<int32_t>(rng() % static_cast<uint32_t>(classes));
    for (int64_t e = 0; e < d; ++e)
      p.x[static_cast<size_t>(i * d + e)] =
          spread * (unit(rng) + (e % classes == p.labels[static_cast<size_t>(i)] ? 1.0f : 0.0f));
  }
  p.order.resize(static_cast<size_t>(epochs * n));
  for (int e = 0; e < epochs; ++e) {
    auto first = p.order.begin() + e * n;
    std::iota(first, first + n, 0);
    std::shuffle(first, first + n, rng);
  }
  return p;
}

inline int finish(const char *name) {
  std::printf("%s: %d passed, %d failed\n", name, passes(), failures());
  return failures() == 0 ? 0 : 1;
}

}  // namespace dptest

#endif  // DYEPACK_TESTS_TEST_UTIL_H
