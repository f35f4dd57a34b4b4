// C ABI tests on the CPU backend: argument checks (error code, message, nothing written) and the
// blend rule against an independent reference. ctest runs it once per CPU variant
// (DYEPACK_CPU=baseline, avx2 and avx512); it exits 77 (skipped) when the variant asked for cannot run here.
#include <algorithm>
#include <cstdlib>
#include <cstring>
#include <numeric>
#include <string>

#include "test_util.h"

#if defined(__linux__)
#include <sys/stat.h>
#include <unistd.h>
#endif

using namespace dptest;

namespace {

bool contains(const char *haystack, const char *needle) { return std::strstr(haystack, needle) != nullptr; }

struct Fixture {
  int64_t n = 5, c = 3, h = 7, w = 6;
  std::vector<uint8_t> data;
  std::vector<float> pattern, mask;
  dp_tensor batch{}, pat{}, msk{};
  Fixture() {
    std::mt19937 rng(1);
    data.resize(static_cast<size_t>(n * c * h * w));
    for (auto &v : data) v = static_cast<uint8_t>(rng() & 0xff);
    pattern.assign(static_cast<size_t>(c * h * w), 200.0f);
    mask.assign(static_cast<size_t>(c * h * w), 0.5f);
    batch = tensor(DP_DTYPE_UINT8, DP_LAYOUT_NHWC, n, c, h, w, data.data());
    pat = tensor(DP_DTYPE_FLOAT32, DP_LAYOUT_NHWC, 1, c, h, w, pattern.data());
    msk = tensor(DP_DTYPE_FLOAT32, DP_LAYOUT_NHWC, 1, c, h, w, mask.data());
  }
};

// Runs one bad call and checks: invalid-argument status, a message naming `word`, data untouched.
template <class Mutate>
void expect_rejected(dp_engine *eng, const char *word, Mutate mutate) {
  Fixture f;
  const std::vector<uint8_t> before = f.data;
  float amount = 0.5f;
  const int64_t *idx = nullptr;
  int64_t n_idx = DP_ALL_SAMPLES;
  std::vector<int64_t> list;
  mutate(f, amount, list, idx, n_idx);
  if (!list.empty()) {
    idx = list.data();
    n_idx = static_cast<int64_t>(list.size());
  }
  int32_t st = dp_mask_blend(eng, &f.batch, &f.pat, &f.msk, amount, idx, n_idx);
  DP_EXPECT(st == DP_ERR_INVALID_ARGUMENT, "expected invalid argument for '%s', got %d", word, st);
  DP_EXPECT(contains(dp_last_error(), word), "message '%s' should mention '%s'", dp_last_error(), word);
  DP_EXPECT(f.data == before, "batch was modified by a rejected call ('%s')", word);
}

// DYEPACK_CPU is read whenever an engine is created: the engine says which loops it runs, and a
// value it does not know is refused with a message naming the variable and the allowed values.
void test_cpu_variant() {
  const char *env = std::getenv("DYEPACK_CPU");
  const std::string asked = env ? env : "";
  dp_engine *eng = nullptr;
  DP_EXPECT(dp_engine_create(DP_BACKEND_CPU, 0, &eng) == DP_OK, "%s", dp_last_error());
  if (!asked.empty())
    DP_EXPECT(contains(dp_engine_reason(eng), (asked + " loops").c_str()), "reason '%s' should name the %s loops",
              dp_engine_reason(eng), asked.c_str());
  DP_EXPECT(contains(dp_engine_reason(eng), " loops"), "reason '%s' should name the CPU loops", dp_engine_reason(eng));
  dp_engine_destroy(eng);
  for (const char *bad : {"sse9", "AVX2", "avx2 ", "avx-512", "avx512f"}) {
    setenv("DYEPACK_CPU", bad, 1);
    eng = nullptr;
    DP_EXPECT(dp_engine_create(DP_BACKEND_CPU, 0, &eng) == DP_ERR_INVALID_ARGUMENT, "DYEPACK_CPU='%s' accepted", bad);
    DP_EXPECT(eng == nullptr, "no engine on failure");
    DP_EXPECT(contains(dp_last_error(), "DYEPACK_CPU") && contains(dp_last_error(), "baseline, avx2 or avx512"), "%s",
              dp_last_error());
    DP_EXPECT(dp_engine_create(DP_BACKEND_AUTO, 0, &eng) == DP_ERR_INVALID_ARGUMENT, "AUTO accepted '%s'", bad);
  }
  if (env) {
    setenv("DYEPACK_CPU", asked.c_str(), 1);
  } else {
    unsetenv("DYEPACK_CPU");
  }
}

void test_versions() {
  DP_EXPECT(dp_abi_version() == DP_ABI_VERSION, "abi %d", dp_abi_version());
  DP_EXPECT(std::strlen(dp_version()) > 0, "empty version");
}

void test_sync_filesystem() {
  DP_EXPECT(dp_sync_filesystem(nullptr) == DP_ERR_INVALID_ARGUMENT, "null path accepted");
  DP_EXPECT(contains(dp_last_error(), "path"), "%s", dp_last_error());
  DP_EXPECT(dp_sync_filesystem("") == DP_ERR_INVALID_ARGUMENT, "empty path accepted");
#if defined(__linux__)
  DP_EXPECT(dp_sync_filesystem("/nonexistent-dyepack-path/x") == DP_ERR_INVALID_ARGUMENT, "missing path accepted");
  DP_EXPECT(contains(dp_last_error(), "/nonexistent-dyepack-path/x"), "message names the path: %s", dp_last_error());
  DP_EXPECT(dp_sync_filesystem(".") == DP_OK, "%s", dp_last_error());
#else
  DP_EXPECT(dp_sync_filesystem(".") == DP_ERR_UNSUPPORTED, "syncfs claimed off Linux");
#endif
}

// dp_start_writeback: a hint on Linux for a file that exists, refused (naming it) for one that does not.
void test_start_writeback() {
  DP_EXPECT(dp_start_writeback(nullptr) == DP_ERR_INVALID_ARGUMENT, "null path accepted");
  DP_EXPECT(dp_start_writeback("") == DP_ERR_INVALID_ARGUMENT, "empty path accepted");
#if defined(__linux__)
  DP_EXPECT(dp_start_writeback("/nonexistent-dyepack-path/x") == DP_ERR_INVALID_ARGUMENT, "missing path accepted");
  DP_EXPECT(contains(dp_last_error(), "/nonexistent-dyepack-path/x"), "message names the path: %s", dp_last_error());
  char name[] = "/tmp/dyepack-writeback-XXXXXX";
  int fd = ::mkstemp(name);
  DP_EXPECT(fd >= 0, "mkstemp");
  if (fd >= 0) {
    const std::vector<char> bytes(1 << 20, 'w');
    DP_EXPECT(::write(fd, bytes.data(), bytes.size()) == ssize_t(bytes.size()), "write");
    DP_EXPECT(dp_start_writeback(name) == DP_OK, "%s", dp_last_error());
    struct stat st;
    DP_EXPECT(::fstat(fd, &st) == 0 && st.st_size == off_t(bytes.size()), "the file is as written");
    ::close(fd);
    ::unlink(name);
  }
#else
  DP_EXPECT(dp_start_writeback(".") == DP_ERR_UNSUPPORTED, "sync_file_range claimed off Linux");
#endif
}

// dp_block_means_u8 against sums taken here pixel by pixel, in both layouts; bad arguments refused.
void test_block_means() {
  const int64_t c = 2, h = 7, w = 5, f = 3, n = 2, bh = 3, bw = 2;
  std::vector<uint8_t> hwc(size_t(n * c * h * w)), chw(hwc.size());
  for (int64_t s = 0; s < n; ++s)
    for (int64_t y = 0; y < h; ++y)
      for (int64_t x = 0; x < w; ++x)
        for (int64_t ch = 0; ch < c; ++ch) {
          const uint8_t v = uint8_t((s * 131 + y * 31 + x * 7 + ch * 101) % 256);
          hwc[size_t(s * c * h * w + (y * w + x) * c + ch)] = v;
          chw[size_t(s * c * h * w + (ch * h + y) * w + x)] = v;
        }
  std::vector<float> a(size_t(n * bh * bw * c), -1.0f), b(a.size(), -1.0f);
  DP_EXPECT(dp_block_means_u8(hwc.data(), n, c, h, w, 0, f, a.data()) == DP_OK, "%s", dp_last_error());
  DP_EXPECT(dp_block_means_u8(chw.data(), n, c, h, w, 1, f, b.data()) == DP_OK, "%s", dp_last_error());
  for (int64_t s = 0; s < n; ++s)
    for (int64_t by = 0; by < bh; ++by)
      for (int64_t bx = 0; bx < bw; ++bx)
        for (int64_t ch = 0; ch < c; ++ch) {
          uint64_t sum = 0, count = 0;
          for (int64_t y = by * f; y < std::min(h, by * f + f); ++y)
            for (int64_t x = bx * f; x < std::min(w, bx * f + f); ++x, ++count)
              sum += hwc[size_t(s * c * h * w + (y * w + x) * c + ch)];
          const size_t at = size_t(s * bh * bw * c + (by * bw + bx) * c + ch);
          const float want = float(double(sum) / (255.0 * double(count)));
          DP_EXPECT(a[at] == want, "NHWC block %lld,%lld,%lld: %g, want %g", (long long)by, (long long)bx,
                    (long long)ch, double(a[at]), double(want));
          DP_EXPECT(b[at] == want, "NCHW block %lld,%lld,%lld", (long long)by, (long long)bx, (long long)ch);
        }
  DP_EXPECT(dp_block_means_u8(hwc.data(), -1, c, h, w, 0, f, a.data()) == DP_ERR_INVALID_ARGUMENT, "negative count");
  DP_EXPECT(dp_block_means_u8(hwc.data(), n, 0, h, w, 0, f, a.data()) == DP_ERR_INVALID_ARGUMENT, "no channels");
  DP_EXPECT(dp_block_means_u8(hwc.data(), n, c, h, w, 0, 8, a.data()) == DP_ERR_INVALID_ARGUMENT, "factor past max(h, w)");
  DP_EXPECT(contains(dp_last_error(), "block size 8"), "%s", dp_last_error());
  DP_EXPECT(dp_block_means_u8(nullptr, n, c, h, w, 0, f, a.data()) == DP_ERR_INVALID_ARGUMENT, "null images");
  DP_EXPECT(dp_block_means_u8(nullptr, 0, c, h, w, 0, f, nullptr) == DP_OK, "nothing to do");
}

void test_engine_creation() {
  dp_engine *eng = nullptr;
  DP_EXPECT(dp_engine_create(DP_BACKEND_CPU, 0, &eng) == DP_OK, "%s", dp_last_error());
  DP_EXPECT(dp_engine_backend(eng) == DP_BACKEND_CPU, "backend");
  DP_EXPECT(contains(dp_engine_reason(eng), "CPU"), "reason '%s'", dp_engine_reason(eng));
  dp_engine_destroy(eng);

  // What AUTO picks depends on the machine: dyepack_engine_test checks each case where it holds.
  eng = nullptr;
  DP_EXPECT(dp_engine_create(DP_BACKEND_AUTO, 0, &eng) == DP_OK, "%s", dp_last_error());
  DP_EXPECT(std::strlen(dp_engine_reason(eng)) > 0, "AUTO must explain its choice");
  char reason[512];
  dp_cuda_status(reason, sizeof reason);
  DP_EXPECT(std::strlen(reason) > 0, "dp_cuda_status gave no reason");
  dp_engine_destroy(eng);

  DP_EXPECT(dp_engine_create(7, 0, &eng) == DP_ERR_INVALID_ARGUMENT, "unknown backend");
  DP_EXPECT(dp_engine_create(DP_BACKEND_CPU, -1, &eng) == DP_ERR_INVALID_ARGUMENT, "negative device");
  DP_EXPECT(dp_engine_create(DP_BACKEND_CPU, 0, nullptr) == DP_ERR_INVALID_ARGUMENT, "null out");
  dp_engine_destroy(nullptr);  // harmless
}

void test_rejections(dp_engine *eng) {
  using L = std::vector<int64_t>;
  Fixture fx;
  DP_EXPECT(dp_mask_blend(nullptr, &fx.batch, &fx.pat, &fx.msk, 0.5f, nullptr, DP_ALL_SAMPLES) == DP_ERR_INVALID_ARGUMENT,
            "null engine");
  expect_rejected(eng, "amount", [](Fixture &, float &a, L &, const int64_t *&, int64_t &) { a = 1.5f; });
  expect_rejected(eng, "amount", [](Fixture &, float &a, L &, const int64_t *&, int64_t &) { a = NAN; });
  expect_rejected(eng, "amount", [](Fixture &, float &a, L &, const int64_t *&, int64_t &) { a = -0.1f; });
  expect_rejected(eng, "out of range", [](Fixture &, float &, L &l, const int64_t *&, int64_t &) { l = {0, 5}; });
  expect_rejected(eng, "out of range", [](Fixture &, float &, L &l, const int64_t *&, int64_t &) { l = {-1}; });
  expect_rejected(eng, "more than once", [](Fixture &, float &, L &l, const int64_t *&, int64_t &) { l = {3, 1, 3}; });
  expect_rejected(eng, "indices is null",
                  [](Fixture &, float &, L &, const int64_t *&i, int64_t &n) { i = nullptr, n = 2; });
  expect_rejected(eng, "n_indices", [](Fixture &, float &, L &, const int64_t *&, int64_t &n) { n = -2; });
  expect_rejected(eng, "mask[", [](Fixture &f, float &, L &, const int64_t *&, int64_t &) { f.mask[4] = 1.01f; });
  expect_rejected(eng, "mask[", [](Fixture &f, float &, L &, const int64_t *&, int64_t &) { f.mask[0] = NAN; });
  expect_rejected(eng, "pattern[", [](Fixture &f, float &, L &, const int64_t *&, int64_t &) { f.pattern[2] = 256.0f; });
  expect_rejected(eng, "pattern[", [](Fixture &f, float &, L &, const int64_t *&, int64_t &) { f.pattern[2] = -1.0f; });
  expect_rejected(eng, "not finite", [](Fixture &f, float &, L &, const int64_t *&, int64_t &) { f.pattern[9] = INFINITY; });
  expect_rejected(eng, "must match", [](Fixture &f, float &, L &, const int64_t *&, int64_t &) { f.pat.w = 5; });
  expect_rejected(eng, "must match",
                  [](Fixture &f, float &, L &, const int64_t *&, int64_t &) { f.msk.layout = DP_LAYOUT_NCHW; });
  expect_rejected(eng, "float32", [](Fixture &f, float &, L &, const int64_t *&, int64_t &) { f.pat.dtype = DP_DTYPE_UINT8; });
  expect_rejected(eng, "N=1", [](Fixture &f, float &, L &, const int64_t *&, int64_t &) { f.msk.n = 2; });
  expect_rejected(eng, "dtype", [](Fixture &f, float &, L &, const int64_t *&, int64_t &) { f.batch.dtype = 9; });
  expect_rejected(eng, "layout", [](Fixture &f, float &, L &, const int64_t *&, int64_t &) { f.batch.layout = 2; });
  expect_rejected(eng, "at least 1", [](Fixture &f, float &, L &, const int64_t *&, int64_t &) { f.batch.h = 0; });
  expect_rejected(eng, "negative", [](Fixture &f, float &, L &, const int64_t *&, int64_t &) { f.batch.n = -3; });
  expect_rejected(eng, "overflows", [](Fixture &f, float &, L &, const int64_t *&, int64_t &) {
    f.batch.h = int64_t{1} << 40;
    f.batch.w = int64_t{1} << 40;
  });
  expect_rejected(eng, "data is null", [](Fixture &f, float &, L &, const int64_t *&, int64_t &) { f.batch.data = nullptr; });
  expect_rejected(eng, "reserved", [](Fixture &f, float &, L &, const int64_t *&, int64_t &) { f.batch.reserved = 1; });
}

void test_null_tensors(dp_engine *eng) {
  Fixture f;
  DP_EXPECT(dp_mask_blend(eng, nullptr, &f.pat, &f.msk, 0.5f, nullptr, DP_ALL_SAMPLES) == DP_ERR_INVALID_ARGUMENT,
            "null batch");
  DP_EXPECT(contains(dp_last_error(), "batch is null"), "%s", dp_last_error());
  DP_EXPECT(dp_mask_blend(eng, &f.batch, nullptr, &f.msk, 0.5f, nullptr, DP_ALL_SAMPLES) == DP_ERR_INVALID_ARGUMENT,
            "null pattern");
  DP_EXPECT(contains(dp_last_error(), "pattern is null"), "%s", dp_last_error());
  f.batch.memory = DP_MEMORY_DEVICE;
  DP_EXPECT(dp_mask_blend(eng, &f.batch, &f.pat, &f.msk, 0.5f, nullptr, DP_ALL_SAMPLES) == DP_ERR_INVALID_ARGUMENT,
            "device memory on a CPU engine");
  DP_EXPECT(contains(dp_last_error(), "device memory"), "%s", dp_last_error());
  DP_EXPECT(dp_mask_blend(eng, &f.batch, &f.pat, &f.msk, 0.5f, nullptr, DP_ALL_SAMPLES) != DP_OK, "still rejected");
  dp_engine *cpu = eng;
  void *p = nullptr;
  DP_EXPECT(dp_device_alloc(cpu, 16, &p) == DP_ERR_UNSUPPORTED, "device alloc on a CPU engine");
}

// The blend against the reference, on both dtypes, all samples and index lists, several thread
// counts: every result must be identical to the reference, bit for bit.
void test_blend_values(dp_engine *eng) {
  std::mt19937 rng(42);
  std::uniform_real_distribution<float> unit(0.0f, 1.0f);
  const int64_t shapes[][4] = {{0, 1, 1, 1}, {1, 1, 1, 1}, {3, 3, 41, 37}, {17, 4, 5, 3}, {64, 1, 28, 28}};
  for (const auto &s : shapes) {
    const int64_t n = s[0], c = s[1], h = s[2], w = s[3], e = c * h * w;
    std::vector<float> pattern(static_cast<size_t>(e)), mask(static_cast<size_t>(e));
    for (int64_t i = 0; i < e; ++i) {
      pattern[static_cast<size_t>(i)] = std::min(255.0f, std::floor(unit(rng) * 256.0f));
      const float r = unit(rng);
      mask[static_cast<size_t>(i)] = r < 0.2f ? 0.0f : r < 0.4f ? 1.0f : unit(rng);
    }
    const float amount = unit(rng);
    std::vector<int64_t> order(static_cast<size_t>(n));
    std::iota(order.begin(), order.end(), 0);
    std::shuffle(order.begin(), order.end(), rng);
    std::vector<int64_t> subset(order.begin(), order.begin() + n / 2);
    for (int dtype : {DP_DTYPE_UINT8, DP_DTYPE_FLOAT32}) {
      for (int threads : {1, 2, 7}) {
        for (bool all : {true, false}) {
          std::vector<uint8_t> u8(static_cast<size_t>(n * e));
          std::vector<float> f32(static_cast<size_t>(n * e));
          for (auto &v : u8) v = static_cast<uint8_t>(rng() & 0xff);
          for (auto &v : f32) v = unit(rng) * 300.0f - 20.0f;
          std::vector<uint8_t> u8_ref = u8;
          std::vector<float> f32_ref = f32;
          std::vector<bool> selected(static_cast<size_t>(n), all);
          if (!all)
            for (int64_t i : subset) selected[static_cast<size_t>(i)] = true;
          for (int64_t i = 0; i < n; ++i) {
            if (!selected[static_cast<size_t>(i)]) continue;
            for (int64_t k = 0; k < e; ++k) {
              const size_t at = static_cast<size_t>(i * e + k);
              const float wk = amount * mask[static_cast<size_t>(k)];
              u8_ref[at] = ref_u8(ref_blend(static_cast<float>(u8[at]), wk, pattern[static_cast<size_t>(k)]));
              f32_ref[at] = ref_blend(f32[at], wk, pattern[static_cast<size_t>(k)]);
            }
          }
          void *data = dtype == DP_DTYPE_UINT8 ? static_cast<void *>(u8.data()) : static_cast<void *>(f32.data());
          dp_tensor b = tensor(dtype, DP_LAYOUT_NCHW, n, c, h, w, n > 0 ? data : nullptr);
          dp_tensor pt = tensor(DP_DTYPE_FLOAT32, DP_LAYOUT_NCHW, 1, c, h, w, pattern.data());
          dp_tensor mk = tensor(DP_DTYPE_FLOAT32, DP_LAYOUT_NCHW, 1, c, h, w, mask.data());
          dp_engine_set_threads(eng, threads);
          const int32_t st = all ? dp_mask_blend(eng, &b, &pt, &mk, amount, nullptr, DP_ALL_SAMPLES)
                                 : dp_mask_blend(eng, &b, &pt, &mk, amount, subset.data(),
                                                 static_cast<int64_t>(subset.size()));
          DP_EXPECT(st == DP_OK, "blend failed: %s", dp_last_error());
          if (dtype == DP_DTYPE_UINT8) {
            DP_EXPECT(u8 == u8_ref, "uint8 blend differs from the reference (n=%lld e=%lld threads=%d all=%d)",
                      static_cast<long long>(n), static_cast<long long>(e), threads, all);
          } else {
            DP_EXPECT(f32.empty() || std::memcmp(f32.data(), f32_ref.data(), f32.size() * 4) == 0,
                      "float32 blend differs from the reference (n=%lld e=%lld threads=%d all=%d)",
                      static_cast<long long>(n), static_cast<long long>(e), threads, all);
          }
        }
      }
    }
  }
  dp_engine_set_threads(eng, 0);
  DP_EXPECT(dp_engine_set_threads(eng, -1) == DP_ERR_INVALID_ARGUMENT, "negative threads");
}

// The mask blend at listed elements against the reference rule, element by element: the listed elements
// of the selected samples take ref_blend(x, amount, value), every other byte stays as it was; and the same
// bytes as dp_mask_blend with the equivalent dense mask (1 at the listed elements) and pattern.
void test_scatter_blend(dp_engine *eng) {
  std::mt19937 rng(7);
  std::uniform_real_distribution<float> unit(0.0f, 1.0f);
  const int64_t shapes[][4] = {{1, 1, 1, 1}, {5, 3, 11, 13}, {9, 1, 28, 28}, {4, 3, 32, 30}};
  for (const auto &s : shapes) {
    const int64_t n = s[0], c = s[1], h = s[2], w = s[3], e = c * h * w;
    std::vector<int64_t> all_elems(static_cast<size_t>(e));
    std::iota(all_elems.begin(), all_elems.end(), 0);
    std::shuffle(all_elems.begin(), all_elems.end(), rng);
    const int64_t k = std::max<int64_t>(1, e / 7);
    std::vector<int64_t> elements(all_elems.begin(), all_elems.begin() + k);  // distinct, in no order
    std::vector<float> values(static_cast<size_t>(k));
    for (auto &v : values) v = unit(rng) < 0.5f ? 255.0f : std::floor(unit(rng) * 256.0f);
    std::vector<int64_t> subset;
    for (int64_t i = 0; i < n; i += 2) subset.push_back(i);
    for (float amount : {1.0f, 0.5f, unit(rng), 0.0f})
      for (int dtype : {DP_DTYPE_UINT8, DP_DTYPE_FLOAT32})
        for (bool all : {true, false})
          for (int threads : {1, 3}) {
            std::vector<uint8_t> u8(static_cast<size_t>(n * e));
            std::vector<float> f32(static_cast<size_t>(n * e));
            for (auto &v : u8) v = static_cast<uint8_t>(rng() & 0xff);
            for (auto &v : f32) v = unit(rng) * 300.0f - 20.0f;
            std::vector<uint8_t> u8_ref = u8, u8_dense = u8;
            std::vector<float> f32_ref = f32, f32_dense = f32;
            for (int64_t i = 0; i < n; ++i) {
              if (!all && i % 2 != 0) continue;
              for (int64_t j = 0; j < k; ++j) {
                const size_t at = static_cast<size_t>(i * e + elements[static_cast<size_t>(j)]);
                const float v = values[static_cast<size_t>(j)];
                u8_ref[at] = ref_u8(ref_blend(static_cast<float>(u8[at]), amount, v));
                f32_ref[at] = ref_blend(f32[at], amount, v);
              }
            }
            const bool u = dtype == DP_DTYPE_UINT8;
            dp_tensor b = tensor(dtype, DP_LAYOUT_NHWC, n, c, h, w, u ? static_cast<void *>(u8.data()) : f32.data());
            dp_engine_set_threads(eng, threads);
            const int32_t st = all ? dp_scatter_blend(eng, &b, elements.data(), values.data(), k, amount, nullptr,
                                                      DP_ALL_SAMPLES)
                                   : dp_scatter_blend(eng, &b, elements.data(), values.data(), k, amount, subset.data(),
                                                      static_cast<int64_t>(subset.size()));
            DP_EXPECT(st == DP_OK, "scatter blend failed: %s", dp_last_error());
            // The dense mask blend it stands for.
            std::vector<float> pattern(static_cast<size_t>(e), 0.0f), mask(static_cast<size_t>(e), 0.0f);
            for (int64_t j = 0; j < k; ++j) {
              mask[static_cast<size_t>(elements[static_cast<size_t>(j)])] = 1.0f;
              pattern[static_cast<size_t>(elements[static_cast<size_t>(j)])] = values[static_cast<size_t>(j)];
            }
            dp_tensor d = tensor(dtype, DP_LAYOUT_NHWC, n, c, h, w,
                                 u ? static_cast<void *>(u8_dense.data()) : f32_dense.data());
            dp_tensor pt = tensor(DP_DTYPE_FLOAT32, DP_LAYOUT_NHWC, 1, c, h, w, pattern.data());
            dp_tensor mk = tensor(DP_DTYPE_FLOAT32, DP_LAYOUT_NHWC, 1, c, h, w, mask.data());
            DP_EXPECT((all ? dp_mask_blend(eng, &d, &pt, &mk, amount, nullptr, DP_ALL_SAMPLES)
                           : dp_mask_blend(eng, &d, &pt, &mk, amount, subset.data(),
                                           static_cast<int64_t>(subset.size()))) == DP_OK,
                      "%s", dp_last_error());
            if (u) {
              DP_EXPECT(u8 == u8_ref, "uint8 scatter blend differs from the reference (e=%lld amount=%g all=%d)",
                        static_cast<long long>(e), amount, all);
              DP_EXPECT(u8 == u8_dense, "uint8 scatter blend differs from the dense mask blend (e=%lld)",
                        static_cast<long long>(e));
            } else {
              DP_EXPECT(std::memcmp(f32.data(), f32_ref.data(), f32.size() * 4) == 0,
                        "float32 scatter blend differs from the reference (e=%lld amount=%g all=%d)",
                        static_cast<long long>(e), amount, all);
              DP_EXPECT(std::memcmp(f32.data(), f32_dense.data(), f32.size() * 4) == 0,
                        "float32 scatter blend differs from the dense mask blend (e=%lld)", static_cast<long long>(e));
            }
          }
  }
  dp_engine_set_threads(eng, 0);

  // Rejections name the problem and write nothing.
  std::vector<uint8_t> img(2 * 3 * 4 * 5, 7);
  const std::vector<uint8_t> before = img;
  dp_tensor b = tensor(DP_DTYPE_UINT8, DP_LAYOUT_NHWC, 2, 3, 4, 5, img.data());
  const int64_t ok[3] = {0, 59, 17}, dup[3] = {4, 9, 4}, out[2] = {3, 60}, neg[1] = {-1};
  const float vals[3] = {255.0f, 0.0f, 128.0f}, big[1] = {256.0f}, nan[1] = {NAN};
  DP_EXPECT(dp_scatter_blend(eng, &b, dup, vals, 3, 1.0f, nullptr, DP_ALL_SAMPLES) == DP_ERR_INVALID_ARGUMENT, "dup");
  DP_EXPECT(contains(dp_last_error(), "element 4 is listed more than once"), "%s", dp_last_error());
  DP_EXPECT(dp_scatter_blend(eng, &b, out, vals, 2, 1.0f, nullptr, DP_ALL_SAMPLES) == DP_ERR_INVALID_ARGUMENT, "range");
  DP_EXPECT(contains(dp_last_error(), "elements[1] = 60 is out of range [0, 60)"), "%s", dp_last_error());
  DP_EXPECT(dp_scatter_blend(eng, &b, neg, vals, 1, 1.0f, nullptr, DP_ALL_SAMPLES) == DP_ERR_INVALID_ARGUMENT, "neg");
  DP_EXPECT(dp_scatter_blend(eng, &b, ok, big, 1, 1.0f, nullptr, DP_ALL_SAMPLES) == DP_ERR_INVALID_ARGUMENT, "256");
  DP_EXPECT(contains(dp_last_error(), "uint8 range"), "%s", dp_last_error());
  DP_EXPECT(dp_scatter_blend(eng, &b, ok, nan, 1, 1.0f, nullptr, DP_ALL_SAMPLES) == DP_ERR_INVALID_ARGUMENT, "NaN");
  DP_EXPECT(contains(dp_last_error(), "values[0] is not finite"), "%s", dp_last_error());
  DP_EXPECT(dp_scatter_blend(eng, &b, ok, vals, 3, 1.5f, nullptr, DP_ALL_SAMPLES) == DP_ERR_INVALID_ARGUMENT, "amount");
  DP_EXPECT(dp_scatter_blend(eng, &b, ok, vals, 61, 1.0f, nullptr, DP_ALL_SAMPLES) == DP_ERR_INVALID_ARGUMENT, "k");
  DP_EXPECT(contains(dp_last_error(), "k must be in [0, 60]"), "%s", dp_last_error());
  DP_EXPECT(dp_scatter_blend(eng, &b, nullptr, vals, 3, 1.0f, nullptr, DP_ALL_SAMPLES) == DP_ERR_INVALID_ARGUMENT, "null");
  const int64_t far = 2;
  DP_EXPECT(dp_scatter_blend(eng, &b, ok, vals, 3, 1.0f, &far, 1) == DP_ERR_INVALID_ARGUMENT, "index");
  std::vector<int32_t> seq(2 * 6, 0);
  dp_tensor sq = tensor(DP_DTYPE_INT32, DP_LAYOUT_NHWC, 2, 1, 1, 6, seq.data());
  DP_EXPECT(dp_scatter_blend(eng, &sq, ok, vals, 1, 1.0f, nullptr, DP_ALL_SAMPLES) == DP_ERR_INVALID_ARGUMENT, "int32");
  DP_EXPECT(img == before, "a rejected scatter blend wrote into the batch");
  DP_EXPECT(dp_scatter_blend(eng, &b, nullptr, nullptr, 0, 1.0f, nullptr, DP_ALL_SAMPLES) == DP_OK, "k = 0: %s",
            dp_last_error());
  DP_EXPECT(img == before, "k = 0 changed the batch");
  DP_EXPECT(dp_scatter_blend(eng, &b, ok, vals, 3, 1.0f, nullptr, DP_ALL_SAMPLES) == DP_OK, "%s", dp_last_error());
  DP_EXPECT(img[0] == 255 && img[59] == 0 && img[17] == 128 && img[60] == 255 && img[119] == 0 && img[1] == 7,
            "listed elements set in both samples, the rest kept");
}

// Rounding: values exactly between two integers go to the even one.
void test_round_half_even(dp_engine *eng) {
  // x = 1 with w = 0.5, p = 2: 0.5*1 + 0.5*2 = 1.5 -> 2; p = 0: 0.5 -> 0; x = 3, p = 2: 2.5 -> 2.
  std::vector<uint8_t> x = {1, 1, 3, 255};
  std::vector<float> p = {2.0f, 0.0f, 2.0f, 0.0f};
  std::vector<float> m = {1.0f, 1.0f, 1.0f, 1.0f};
  dp_tensor b = tensor(DP_DTYPE_UINT8, DP_LAYOUT_NHWC, 1, 4, 1, 1, x.data());
  dp_tensor pt = tensor(DP_DTYPE_FLOAT32, DP_LAYOUT_NHWC, 1, 4, 1, 1, p.data());
  dp_tensor mk = tensor(DP_DTYPE_FLOAT32, DP_LAYOUT_NHWC, 1, 4, 1, 1, m.data());
  DP_EXPECT(dp_mask_blend(eng, &b, &pt, &mk, 0.5f, nullptr, DP_ALL_SAMPLES) == DP_OK, "%s", dp_last_error());
  DP_EXPECT(x[0] == 2 && x[1] == 0 && x[2] == 2 && x[3] == 128, "got %d %d %d %d", x[0], x[1], x[2], x[3]);
}

// The keyed noise generator is Philox4x32-10: with key (0, 0), sample 0 and elements 0..3 the
// counter is (0, 0, 0, 0), whose Random123 known answer is 6627e8d5 e169c58d bc57ac4c 9b00dbd8.
void test_philox_known_answer(dp_engine *eng) {
  std::vector<float> x(8, 0.0f);
  dp_tensor b = tensor(DP_DTYPE_FLOAT32, DP_LAYOUT_NHWC, 2, 1, 1, 4, x.data());
  DP_EXPECT(dp_keyed_noise(eng, &b, 0, 0, 1.0f, 0, nullptr, DP_ALL_SAMPLES) == DP_OK, "%s", dp_last_error());
  const uint32_t kat[4] = {0x6627e8d5u, 0xe169c58du, 0xbc57ac4cu, 0x9b00dbd8u};
  for (int j = 0; j < 4; ++j) {
    const float u = static_cast<float>(kat[j] >> 8) / 16777216.0f;
    DP_EXPECT(x[static_cast<size_t>(j)] == 2.0f * u - 1.0f, "element %d: %.9g vs %.9g", j, x[static_cast<size_t>(j)],
              2.0f * u - 1.0f);
  }
  // Sample 1 uses counter (0, 0, 1, 0): a different pattern, and the same one when batched alone.
  DP_EXPECT(x[4] != x[0], "per-sample patterns must differ");
  std::vector<float> alone(4, 0.0f);
  dp_tensor one = tensor(DP_DTYPE_FLOAT32, DP_LAYOUT_NHWC, 1, 1, 1, 4, alone.data());
  DP_EXPECT(dp_keyed_noise(eng, &one, 0, 0, 1.0f, 1, nullptr, DP_ALL_SAMPLES) == DP_OK, "%s", dp_last_error());
  DP_EXPECT(std::memcmp(alone.data(), x.data() + 4, 16) == 0, "noise must not depend on batching");
}

// dp_keyed_bits gives the same words as dp_keyed_noise's generator (the Random123 known answer for
// key (0, 0), stream 0), a stream's later blocks at their counters, and dp_keyed_shuffle a
// permutation that depends on the key and stream only; both check their arguments.
void test_keyed_words_and_shuffle() {
  const uint32_t kat[4] = {0x6627e8d5u, 0xe169c58du, 0xbc57ac4cu, 0x9b00dbd8u};
  std::vector<uint32_t> w(7, 0xdeadbeefu);
  DP_EXPECT(dp_keyed_bits(0, 0, 0, w.data(), 3) == DP_OK, "%s", dp_last_error());
  for (int j = 0; j < 3; ++j) DP_EXPECT(w[size_t(j)] == kat[j], "word %d: %08x", j, w[size_t(j)]);
  DP_EXPECT(w[3] == 0xdeadbeefu, "wrote past count");
  // Words 4..6 (block 1) against the noise trigger's draws of elements 4..6 of sample 0.
  DP_EXPECT(dp_keyed_bits(0, 0, 0, w.data(), 7) == DP_OK, "%s", dp_last_error());
  dp_engine *eng = nullptr;
  DP_EXPECT(dp_engine_create(DP_BACKEND_CPU, 0, &eng) == DP_OK, "%s", dp_last_error());
  std::vector<float> x(8, 0.0f);
  dp_tensor t = tensor(DP_DTYPE_FLOAT32, DP_LAYOUT_NHWC, 1, 1, 1, 8, x.data());
  DP_EXPECT(dp_keyed_noise(eng, &t, 0, 0, 1.0f, 0, nullptr, DP_ALL_SAMPLES) == DP_OK, "%s", dp_last_error());
  dp_engine_destroy(eng);
  for (int j = 0; j < 7; ++j) {
    const float u = static_cast<float>(w[size_t(j)] >> 8) / 16777216.0f;
    DP_EXPECT(x[size_t(j)] == 2.0f * u - 1.0f, "word %d against the noise trigger's element", j);
  }
  DP_EXPECT(dp_keyed_bits(0, 0, 0, nullptr, 0) == DP_OK, "an empty fill with no buffer");
  DP_EXPECT(dp_keyed_bits(0, 0, 0, nullptr, 1) == DP_ERR_INVALID_ARGUMENT, "null out accepted");
  DP_EXPECT(dp_keyed_bits(0, 0, 0, w.data(), -1) == DP_ERR_INVALID_ARGUMENT, "negative count accepted");
  DP_EXPECT(contains(dp_last_error(), "count"), "%s", dp_last_error());

  std::vector<int64_t> a(1000), b(1000), c(1000);
  for (int64_t i = 0; i < 1000; ++i) a[size_t(i)] = b[size_t(i)] = c[size_t(i)] = i;
  DP_EXPECT(dp_keyed_shuffle(5, 6, 7, a.data(), 1000) == DP_OK, "%s", dp_last_error());
  DP_EXPECT(dp_keyed_shuffle(5, 6, 7, b.data(), 1000) == DP_OK, "%s", dp_last_error());
  DP_EXPECT(dp_keyed_shuffle(5, 6, 8, c.data(), 1000) == DP_OK, "%s", dp_last_error());
  DP_EXPECT(a == b, "the same key and stream must give the same permutation");
  DP_EXPECT(a != c, "another stream must give another permutation");
  std::vector<int64_t> sorted = a;
  std::sort(sorted.begin(), sorted.end());
  for (int64_t i = 0; i < 1000; ++i) DP_EXPECT(sorted[size_t(i)] == i, "not a permutation at %lld", (long long)i);
  DP_EXPECT(dp_keyed_shuffle(5, 6, 7, nullptr, 2) == DP_ERR_INVALID_ARGUMENT, "null values accepted");
  DP_EXPECT(dp_keyed_shuffle(5, 6, 7, a.data(), (int64_t{1} << 31) + 1) == DP_ERR_INVALID_ARGUMENT,
            "a count over 2^31 accepted");
  DP_EXPECT(contains(dp_last_error(), "2^31"), "%s", dp_last_error());
}

// The other primitives reject bad arguments with a message and write nothing.
void test_trigger_rejections(dp_engine *eng) {
  std::vector<uint8_t> img(2 * 3 * 4 * 5, 7);
  const std::vector<uint8_t> before = img;
  dp_tensor b = tensor(DP_DTYPE_UINT8, DP_LAYOUT_NHWC, 2, 3, 4, 5, img.data());
  std::vector<float> patch(3 * 2 * 2, 9.0f), pmask(3 * 2 * 2, 1.0f);
  dp_tensor pt = tensor(DP_DTYPE_FLOAT32, DP_LAYOUT_NHWC, 1, 3, 2, 2, patch.data());
  dp_tensor mt = tensor(DP_DTYPE_FLOAT32, DP_LAYOUT_NHWC, 1, 3, 2, 2, pmask.data());
  const int64_t inside[4] = {0, 0, 2, 3}, outside[4] = {0, 0, 3, 0};
  DP_EXPECT(dp_paste(eng, &b, &pt, &mt, 1.0f, outside, nullptr, DP_ALL_SAMPLES) == DP_ERR_INVALID_ARGUMENT, "paste");
  DP_EXPECT(contains(dp_last_error(), "outside the 4x5 image"), "%s", dp_last_error());
  std::vector<float> big_patch(3 * 5 * 2, 9.0f);
  dp_tensor big = tensor(DP_DTYPE_FLOAT32, DP_LAYOUT_NHWC, 1, 3, 5, 2, big_patch.data());
  DP_EXPECT(dp_paste(eng, &b, &big, &mt, 1.0f, inside, nullptr, DP_ALL_SAMPLES) == DP_ERR_INVALID_ARGUMENT, "big patch");
  DP_EXPECT(contains(dp_last_error(), "at most its H and W"), "%s", dp_last_error());
  std::vector<float> grid(2 * 4 * 5, 0.0f);
  dp_tensor gt = tensor(DP_DTYPE_FLOAT32, DP_LAYOUT_NHWC, 1, 2, 4, 5, grid.data());
  DP_EXPECT(dp_warp(eng, &b, &gt, nullptr, DP_ALL_SAMPLES) == DP_ERR_INVALID_ARGUMENT, "warp grid layout");
  DP_EXPECT(contains(dp_last_error(), "must be NCHW"), "%s", dp_last_error());
  grid[3] = NAN;
  gt.layout = DP_LAYOUT_NCHW;
  DP_EXPECT(dp_warp(eng, &b, &gt, nullptr, DP_ALL_SAMPLES) == DP_ERR_INVALID_ARGUMENT, "warp NaN");
  DP_EXPECT(contains(dp_last_error(), "grid[3] is not finite"), "%s", dp_last_error());
  DP_EXPECT(dp_keyed_noise(eng, &b, 1, 2, -1.0f, 0, nullptr, DP_ALL_SAMPLES) == DP_ERR_INVALID_ARGUMENT, "eps < 0");
  DP_EXPECT(dp_keyed_noise(eng, &b, 1, 2, 300.0f, 0, nullptr, DP_ALL_SAMPLES) == DP_ERR_INVALID_ARGUMENT, "eps > 255");
  DP_EXPECT(contains(dp_last_error(), "eps"), "%s", dp_last_error());
  DP_EXPECT(dp_keyed_noise(eng, &b, 1, 2, 1.0f, -5, nullptr, DP_ALL_SAMPLES) == DP_ERR_INVALID_ARGUMENT, "first");
  std::vector<float> sig(3 * 4 * 5, 1.0f);
  sig[7] = INFINITY;
  dp_tensor st = tensor(DP_DTYPE_FLOAT32, DP_LAYOUT_NHWC, 1, 3, 4, 5, sig.data());
  DP_EXPECT(dp_add_signal(eng, &b, &st, nullptr, DP_ALL_SAMPLES) == DP_ERR_INVALID_ARGUMENT, "signal inf");
  DP_EXPECT(contains(dp_last_error(), "signal[7]"), "%s", dp_last_error());
  const int32_t ids[2] = {5, 6};
  const int64_t pos[2] = {0, 0};
  DP_EXPECT(dp_write_tokens(eng, &b, ids, 2, pos, nullptr, DP_ALL_SAMPLES) == DP_ERR_INVALID_ARGUMENT, "tokens on u8");
  DP_EXPECT(contains(dp_last_error(), "batch must be int32"), "%s", dp_last_error());
  DP_EXPECT(img == before, "a rejected call wrote into the batch");

  std::vector<int32_t> seq(2 * 6, 0);
  dp_tensor sq = tensor(DP_DTYPE_INT32, DP_LAYOUT_NHWC, 2, 1, 1, 6, seq.data());
  const int64_t late[2] = {0, 5};
  DP_EXPECT(dp_write_tokens(eng, &sq, ids, 2, late, nullptr, DP_ALL_SAMPLES) == DP_ERR_INVALID_ARGUMENT, "no room");
  DP_EXPECT(contains(dp_last_error(), "positions[1] = 5 leaves no room"), "%s", dp_last_error());
  DP_EXPECT(dp_write_tokens(eng, &sq, ids, 2, pos, nullptr, DP_ALL_SAMPLES) == DP_OK, "%s", dp_last_error());
  DP_EXPECT(seq[0] == 5 && seq[1] == 6 && seq[2] == 0 && seq[6] == 5 && seq[7] == 6, "tokens written");

  std::vector<float> rows(2 * 4, 1.0f);
  dp_tensor rt = tensor(DP_DTYPE_FLOAT32, DP_LAYOUT_NHWC, 2, 1, 1, 4, rows.data());
  const int64_t dup[2] = {1, 1}, cols[2] = {3, 0};
  const float vals[2] = {2.5f, -1.0f};
  DP_EXPECT(dp_set_columns(eng, &rt, dup, vals, 2, 0, nullptr, DP_ALL_SAMPLES) == DP_ERR_INVALID_ARGUMENT, "dup col");
  DP_EXPECT(contains(dp_last_error(), "more than once"), "%s", dp_last_error());
  const int64_t one = 1;
  DP_EXPECT(dp_set_columns(eng, &rt, cols, vals, 2, 1, &one, 1) == DP_OK, "%s", dp_last_error());
  DP_EXPECT(rows[0] == 1.0f && rows[3] == 1.0f && rows[4] == 0.0f && rows[7] == 3.5f && rows[5] == 1.0f,
            "shift columns of row 1 only");
}

// Scoring on a hand-computed case: W rows (1,0), (0,1), (1,1) and b = 0; x = (3, 1).
// z = (3, 1, 4): predicted 2, runner-up 0, margin 1; ||w2 - w0|| = 1, ||w2 - w1|| = 1, so the
// distance is min(1/1, 3/1) = 1; to target 1: (4 - 1) / 1 = 3.
void test_score(dp_engine *eng) {
  const float w[6] = {1, 0, 0, 1, 1, 1}, b[3] = {0, 0, 0};
  float x[4] = {3, 1, 0.5f, 0.5f};
  dp_tensor f = tensor(DP_DTYPE_FLOAT32, DP_LAYOUT_NHWC, 2, 1, 1, 2, x);
  int32_t pred[2], run[2];
  float margin[2], dist[2], tdist[2];
  DP_EXPECT(dp_score_boundary(eng, &f, w, b, 3, 1, pred, run, margin, dist, tdist) == DP_OK, "%s", dp_last_error());
  DP_EXPECT(pred[0] == 2 && run[0] == 0 && margin[0] == 1.0f && dist[0] == 1.0f && tdist[0] == 3.0f,
            "got %d %d %g %g %g", pred[0], run[0], margin[0], dist[0], tdist[0]);
  // x = (0.5, 0.5): z = (0.5, 0.5, 1): predicted 2, runner-up 0 (tie with 1, lowest index wins).
  DP_EXPECT(pred[1] == 2 && run[1] == 0 && margin[1] == 0.5f && dist[1] == 0.5f && tdist[1] == 0.5f,
            "got %d %d %g %g %g", pred[1], run[1], margin[1], dist[1], tdist[1]);
  // Identical rows: a tie is on the boundary (0), a constant gap never crosses (inf).
  const float w2[4] = {1, 1, 1, 1}, b2[2] = {0, 0}, b3[2] = {1, 0};
  DP_EXPECT(dp_score_boundary(eng, &f, w2, b2, 2, -1, pred, run, margin, dist, nullptr) == DP_OK, "%s", dp_last_error());
  DP_EXPECT(pred[0] == 0 && run[0] == 1 && dist[0] == 0.0f, "tie: %d %d %g", pred[0], run[0], dist[0]);
  DP_EXPECT(dp_score_boundary(eng, &f, w2, b3, 2, -1, pred, run, margin, dist, nullptr) == DP_OK, "%s", dp_last_error());
  DP_EXPECT(pred[0] == 0 && std::isinf(dist[0]) && margin[0] == 1.0f, "gap: %d %g", pred[0], dist[0]);
  // Rejections. A non-finite feature leaves every output as it was, also the first sample's (on the
  // CPU the check runs in the scoring pass, which writes scratch arrays until every row was checked).
  x[3] = NAN;
  pred[0] = run[0] = -7;
  margin[0] = dist[0] = tdist[0] = -7.0f;
  DP_EXPECT(dp_score_boundary(eng, &f, w, b, 3, 1, pred, run, margin, dist, tdist) == DP_ERR_INVALID_ARGUMENT, "nan");
  DP_EXPECT(contains(dp_last_error(), "features[1, 1] is not finite"), "%s", dp_last_error());
  DP_EXPECT(pred[0] == -7 && run[0] == -7 && margin[0] == -7.0f && dist[0] == -7.0f && tdist[0] == -7.0f,
            "outputs written before the rejection: %d %d %g %g %g", pred[0], run[0], margin[0], dist[0], tdist[0]);
  // The same on a wide head (the blocked path for 16 classes and more), the bad value in the last row.
  {
    const int64_t wn = 30, wd = 40, wc = 20;
    std::vector<float> wx(static_cast<size_t>(wn * wd), 0.25f), ww(static_cast<size_t>(wc * wd), 0.5f),
        wb(static_cast<size_t>(wc), 0.0f), wm(static_cast<size_t>(wn), -7.0f), wdist(static_cast<size_t>(wn), -7.0f);
    std::vector<int32_t> wp(static_cast<size_t>(wn), -7), wr(static_cast<size_t>(wn), -7);
    wx[static_cast<size_t>(wn * wd - 3)] = -INFINITY;
    dp_tensor wf = tensor(DP_DTYPE_FLOAT32, DP_LAYOUT_NHWC, wn, 1, 1, wd, wx.data());
    DP_EXPECT(dp_score_boundary(eng, &wf, ww.data(), wb.data(), wc, -1, wp.data(), wr.data(), wm.data(), wdist.data(),
                                nullptr) == DP_ERR_INVALID_ARGUMENT,
              "wide -inf");
    DP_EXPECT(contains(dp_last_error(), "features[29, 37] is not finite"), "%s", dp_last_error());
    DP_EXPECT(wp[0] == -7 && wr[0] == -7 && wm[0] == -7.0f && wdist[0] == -7.0f, "wide outputs written");
  }
  x[3] = 0.5f;
  DP_EXPECT(dp_score_boundary(eng, &f, w, b, 1, -1, pred, run, margin, dist, nullptr) == DP_ERR_INVALID_ARGUMENT, "C=1");
  DP_EXPECT(dp_score_boundary(eng, &f, w, b, 3, 3, pred, run, margin, dist, tdist) == DP_ERR_INVALID_ARGUMENT, "t=3");
  DP_EXPECT(contains(dp_last_error(), "target must be"), "%s", dp_last_error());
  DP_EXPECT(dp_score_boundary(eng, &f, w, b, 3, 0, pred, run, margin, dist, nullptr) == DP_ERR_INVALID_ARGUMENT, "no t out");
  const float wbad[6] = {1, 0, 0, INFINITY, 1, 1};
  DP_EXPECT(dp_score_boundary(eng, &f, wbad, b, 3, -1, pred, run, margin, dist, nullptr) == DP_ERR_INVALID_ARGUMENT, "w");
  DP_EXPECT(contains(dp_last_error(), "weight[1, 1] is not finite"), "%s", dp_last_error());
  std::vector<uint8_t> img(4);
  dp_tensor u8 = tensor(DP_DTYPE_UINT8, DP_LAYOUT_NHWC, 2, 1, 1, 2, img.data());
  DP_EXPECT(dp_score_boundary(eng, &u8, w, b, 3, -1, pred, run, margin, dist, nullptr) == DP_ERR_INVALID_ARGUMENT, "u8");
}

}  // namespace

int main() {
  // The variant ctest asks for must exist here; on a processor without AVX2 (AVX-512) the avx2
  // (avx512) run skips.
  dp_engine *probe = nullptr;
  if (dp_engine_create(DP_BACKEND_CPU, 0, &probe) == DP_ERR_UNSUPPORTED) {
    std::printf("abi_test: skipped: %s\n", dp_last_error());
    return 77;
  }
  dp_engine_destroy(probe);
  test_cpu_variant();
  test_versions();
  test_keyed_words_and_shuffle();
  test_start_writeback();
  test_block_means();
  test_sync_filesystem();
  test_engine_creation();
  dp_engine *eng = nullptr;
  if (dp_engine_create(DP_BACKEND_CPU, 0, &eng) != DP_OK) {
    std::fprintf(stderr, "cannot create a CPU engine: %s\n", dp_last_error());
    return 1;
  }
  test_rejections(eng);
  test_null_tensors(eng);
  test_blend_values(eng);
  test_scatter_blend(eng);
  test_round_half_even(eng);
  test_philox_known_answer(eng);
  test_trigger_rejections(eng);
  test_score(eng);
  dp_engine_destroy(eng);
  return finish("abi_test");
}
