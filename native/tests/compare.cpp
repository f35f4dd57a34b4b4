// CUDA against the CPU backend: every CUDA operation on random inputs, at sizes around the
// kernels' block and vector boundaries, on host and device batches, all samples and index lists.
// Results must match bit for bit. Exits 77 (skipped) when no CUDA device answers.
#include <algorithm>
#include <cstring>
#include <numeric>

#include "test_util.h"

using namespace dptest;

namespace {

struct Engines {
  dp_engine *cpu = nullptr, *gpu = nullptr;
  ~Engines() {
    dp_engine_destroy(cpu);
    dp_engine_destroy(gpu);
  }
};

// One comparison: the same blend on a copy for each backend; `device` puts the CUDA copy in
// device memory, else it stays in host memory and goes through the pinned staging path.
void compare_blend(Engines &en, std::mt19937 &rng, int dtype, int64_t n, int64_t c, int64_t h, int64_t w, bool all,
                   bool device, bool dense) {
  std::uniform_real_distribution<float> unit(0.0f, 1.0f);
  const int64_t e = c * h * w;
  const size_t eb = dtype == DP_DTYPE_UINT8 ? 1 : 4;
  const size_t bytes = static_cast<size_t>(n * e) * eb;
  std::vector<unsigned char> host(bytes);
  if (dtype == DP_DTYPE_UINT8) {
    for (auto &v : host) v = static_cast<unsigned char>(rng() & 0xff);
  } else {
    auto *f = reinterpret_cast<float *>(host.data());
    for (int64_t i = 0; i < n * e; ++i) f[i] = unit(rng) * 400.0f - 50.0f;
  }
  std::vector<float> pattern(static_cast<size_t>(e)), mask(static_cast<size_t>(e));
  for (int64_t i = 0; i < e; ++i) {
    pattern[static_cast<size_t>(i)] = std::min(255.0f, std::floor(unit(rng) * 256.0f));
    const float r = unit(rng);
    mask[static_cast<size_t>(i)] = dense ? 1.0f : r < 0.3f ? 0.0f : r < 0.5f ? 1.0f : unit(rng);
  }
  const float amount = dense ? 0.2f : unit(rng);
  std::vector<int64_t> subset(static_cast<size_t>(n));
  std::iota(subset.begin(), subset.end(), 0);
  std::shuffle(subset.begin(), subset.end(), rng);
  subset.resize(static_cast<size_t>(n - n / 3));
  const int64_t *idx = all ? nullptr : subset.data();
  const int64_t n_idx = all ? DP_ALL_SAMPLES : static_cast<int64_t>(subset.size());

  std::vector<unsigned char> cpu_out = host, gpu_out = host;
  dp_tensor pt = tensor(DP_DTYPE_FLOAT32, DP_LAYOUT_NHWC, 1, c, h, w, pattern.data());
  dp_tensor mk = tensor(DP_DTYPE_FLOAT32, DP_LAYOUT_NHWC, 1, c, h, w, mask.data());
  dp_tensor bc = tensor(dtype, DP_LAYOUT_NHWC, n, c, h, w, n ? cpu_out.data() : nullptr);
  DP_EXPECT(dp_mask_blend(en.cpu, &bc, &pt, &mk, amount, idx, n_idx) == DP_OK, "cpu: %s", dp_last_error());

  void *dev = nullptr;
  if (device && bytes > 0) {
    if (dp_device_alloc(en.gpu, bytes, &dev) != DP_OK || dp_memcpy(en.gpu, dev, host.data(), bytes, DP_COPY_HOST_TO_DEVICE) != DP_OK) {
      DP_EXPECT(false, "device setup: %s", dp_last_error());
      return;
    }
  }
  dp_tensor bg = tensor(dtype, DP_LAYOUT_NHWC, n, c, h, w, device ? dev : (n ? gpu_out.data() : nullptr),
                        device ? DP_MEMORY_DEVICE : DP_MEMORY_HOST);
  DP_EXPECT(dp_mask_blend(en.gpu, &bg, &pt, &mk, amount, idx, n_idx) == DP_OK, "cuda: %s", dp_last_error());
  if (dev) {
    DP_EXPECT(dp_memcpy(en.gpu, gpu_out.data(), dev, bytes, DP_COPY_DEVICE_TO_HOST) == DP_OK, "%s", dp_last_error());
    dp_device_free(en.gpu, dev);
  }
  size_t first = 0;
  while (first < bytes && cpu_out[first] == gpu_out[first]) ++first;
  DP_EXPECT(first == bytes,
            "mask_blend %s n=%lld c=%lld h=%lld w=%lld all=%d device=%d dense=%d: first difference at byte %zu",
            dtype == DP_DTYPE_UINT8 ? "uint8" : "float32", static_cast<long long>(n), static_cast<long long>(c),
            static_cast<long long>(h), static_cast<long long>(w), all, device, dense, first);
}

}  // namespace

// Usage: dyepack_compare [quick]  -- quick drops the largest cases (for compute-sanitizer runs).
int main(int argc, char **argv) {
  const bool quick = argc > 1 && std::strcmp(argv[1], "quick") == 0;
  char reason[512];
  if (dp_cuda_status(reason, sizeof reason) != DP_CUDA_AVAILABLE) {
    std::printf("compare: skipped: %s\n", reason);
    return 77;
  }
  Engines en;
  if (dp_engine_create(DP_BACKEND_CPU, 0, &en.cpu) != DP_OK || dp_engine_create(DP_BACKEND_CUDA, 0, &en.gpu) != DP_OK) {
    std::fprintf(stderr, "compare: cannot create engines: %s\n", dp_last_error());
    return 1;
  }
  std::printf("compare: %s\n", dp_engine_reason(en.gpu));
  std::mt19937 rng(2024);
  // Elements per image around the block size (256 threads, 4 elements each) and odd shapes.
  const int64_t elems[] = {1, 3, 127, 128, 129, 1023, 1024, 1025, 4095, 4096, 4097, 100000};
  for (int dtype : {DP_DTYPE_UINT8, DP_DTYPE_FLOAT32})
    for (int64_t e : elems)
      for (int64_t n : {0, 1, 3, 37})
        if (!quick || e * n < 200000)
        for (bool all : {true, false})
          for (bool device : {true, false}) compare_blend(en, rng, dtype, n, 1, 1, e, all, device, false);
  for (int dtype : {DP_DTYPE_UINT8, DP_DTYPE_FLOAT32}) {
    compare_blend(en, rng, dtype, 5, 3, 41, 37, false, true, false);  // odd image, 3 channels
    compare_blend(en, rng, dtype, 9, 4, 37, 41, true, false, false);
    // Several staging chunks (8 MiB each) through both pinned slots.
    const int64_t many = quick ? 30 : 70;
    compare_blend(en, rng, dtype, many, 3, 224, 224, true, false, true);
    compare_blend(en, rng, dtype, many, 3, 224, 224, false, false, false);
    // More samples than one grid's y extent (65535).
    if (!quick) compare_blend(en, rng, dtype, 70000, 1, 1, 4, true, true, false);
  }
  return finish("compare");
}
