// The CPU variants against each other: every CPU operation under DYEPACK_CPU=avx2 and under
// DYEPACK_CPU=avx512, on the same random inputs as under DYEPACK_CPU=baseline, must give the same
// bytes (uint8, int32) and the same bits (float32), as the numerics rule demands. The shapes straddle
// the vector loops' 8-, 16- and 32-wide steps and the wide scorer's tiles and panels, so their vector
// bodies and their scalar tails are compared with the baseline's scalar loops (the code the kernels
// share). A variant the processor cannot run is reported as skipped; where it runs neither, the test
// exits 77 (skipped).
#include <algorithm>
#include <cstdlib>
#include <cstring>
#include <numeric>

#include "test_util.h"

using namespace dptest;

namespace {

// The baseline engine and one other variant's.
struct Variants {
  dp_engine *base = nullptr, *other = nullptr;
  const char *name = "";
  ~Variants() {
    dp_engine_destroy(base);
    dp_engine_destroy(other);
  }
};

// The engine's variant is read from DYEPACK_CPU when it is created.
int32_t create_with(const char *variant, dp_engine **out) {
  setenv("DYEPACK_CPU", variant, 1);
  const int32_t st = dp_engine_create(DP_BACKEND_CPU, 0, out);
  unsetenv("DYEPACK_CPU");
  return st;
}

std::vector<unsigned char> random_batch(std::mt19937 &rng, int dtype, int64_t count) {
  std::uniform_real_distribution<float> unit(0.0f, 1.0f);
  std::vector<unsigned char> bytes(static_cast<size_t>(count) * (dtype == DP_DTYPE_UINT8 ? 1 : 4));
  if (dtype == DP_DTYPE_UINT8) {
    for (auto &v : bytes) v = static_cast<unsigned char>(rng() & 0xff);
  } else if (dtype == DP_DTYPE_FLOAT32) {
    auto *f = reinterpret_cast<float *>(bytes.data());
    for (int64_t i = 0; i < count; ++i) f[i] = unit(rng) * 300.0f - 20.0f;
  } else {
    auto *t = reinterpret_cast<int32_t *>(bytes.data());
    for (int64_t i = 0; i < count; ++i) t[i] = static_cast<int32_t>(rng() % 50000);
  }
  return bytes;
}

// Runs `op(engine, batch, idx, n_idx)` on one copy per variant and compares the bytes; with every
// sample and with a shuffled subset, on 1 and 3 threads.
template <class Op>
void compare(Variants &v, std::mt19937 &rng, const char *what, int dtype, int64_t n, int64_t c, int64_t h, int64_t w,
             bool nchw, Op op) {
  const std::vector<unsigned char> input = random_batch(rng, dtype, n * c * h * w);
  std::vector<int64_t> subset(static_cast<size_t>(n));
  std::iota(subset.begin(), subset.end(), 0);
  std::shuffle(subset.begin(), subset.end(), rng);
  subset.resize(static_cast<size_t>(n - n / 3));
  for (bool all : {true, false})
    for (int threads : {1, 3}) {
      const int64_t *idx = all ? nullptr : subset.data();
      const int64_t n_idx = all ? DP_ALL_SAMPLES : static_cast<int64_t>(subset.size());
      std::vector<unsigned char> out[2] = {input, input};
      dp_engine *engines[2] = {v.base, v.other};
      for (int k = 0; k < 2; ++k) {
        dp_engine_set_threads(engines[k], threads);
        dp_tensor t = tensor(dtype, nchw ? DP_LAYOUT_NCHW : DP_LAYOUT_NHWC, n, c, h, w, n ? out[k].data() : nullptr);
        DP_EXPECT(op(engines[k], t, idx, n_idx) == DP_OK, "%s (%s): %s", what, k ? v.name : "baseline", dp_last_error());
      }
      size_t first = 0;
      while (first < input.size() && out[0][first] == out[1][first]) ++first;
      DP_EXPECT(first == input.size(),
                "%s dtype=%d n=%lld c=%lld h=%lld w=%lld nchw=%d all=%d threads=%d: baseline and %s differ at byte %zu",
                what, dtype, static_cast<long long>(n), static_cast<long long>(c), static_cast<long long>(h),
                static_cast<long long>(w), nchw, all, threads, v.name, first);
    }
}

// The image primitives on one shape.
void compare_images(Variants &v, std::mt19937 &rng, int64_t n, int64_t c, int64_t h, int64_t w) {
  std::uniform_real_distribution<float> unit(0.0f, 1.0f);
  const int64_t e = c * h * w;
  for (int dtype : {DP_DTYPE_UINT8, DP_DTYPE_FLOAT32})
    for (bool nchw : {false, true}) {
      const int32_t layout = nchw ? DP_LAYOUT_NCHW : DP_LAYOUT_NHWC;
      // Mask blend with both exact ends and mixed weights.
      std::vector<float> pattern(static_cast<size_t>(e)), mask(static_cast<size_t>(e));
      for (int64_t i = 0; i < e; ++i) {
        pattern[static_cast<size_t>(i)] = std::min(255.0f, std::floor(unit(rng) * 256.0f));
        const float r = unit(rng);
        mask[static_cast<size_t>(i)] = r < 0.2f ? 0.0f : r < 0.4f ? 1.0f : unit(rng);
      }
      dp_tensor pt = tensor(DP_DTYPE_FLOAT32, layout, 1, c, h, w, pattern.data());
      dp_tensor mt = tensor(DP_DTYPE_FLOAT32, layout, 1, c, h, w, mask.data());
      const float amount = unit(rng);
      compare(v, rng, "mask_blend", dtype, n, c, h, w, nchw, [&](dp_engine *eng, dp_tensor &b, const int64_t *i, int64_t k) {
        return dp_mask_blend(eng, &b, &pt, &mt, amount, i, k);
      });
      // The blend at listed elements: a random seventh of the elements, in no order.
      std::vector<int64_t> elements(static_cast<size_t>(e));
      std::iota(elements.begin(), elements.end(), 0);
      std::shuffle(elements.begin(), elements.end(), rng);
      elements.resize(static_cast<size_t>(std::max<int64_t>(1, e / 7)));
      std::vector<float> element_values(elements.size());
      for (auto &x : element_values) x = std::floor(unit(rng) * 256.0f);
      compare(v, rng, "scatter_blend", dtype, n, c, h, w, nchw, [&](dp_engine *eng, dp_tensor &b, const int64_t *i, int64_t k) {
        return dp_scatter_blend(eng, &b, elements.data(), element_values.data(),
                                static_cast<int64_t>(elements.size()), amount, i, k);
      });
      // Paste at random offsets.
      const int64_t ph = 1 + static_cast<int64_t>(rng() % static_cast<uint32_t>(h));
      const int64_t pw = 1 + static_cast<int64_t>(rng() % static_cast<uint32_t>(w));
      std::vector<float> patch(static_cast<size_t>(c * ph * pw)), pmask(patch.size());
      for (size_t i = 0; i < patch.size(); ++i) {
        patch[i] = std::floor(unit(rng) * 255.0f);
        pmask[i] = unit(rng) < 0.3f ? 1.0f : unit(rng);
      }
      std::vector<int64_t> offsets(static_cast<size_t>(2 * n));
      for (int64_t i = 0; i < n; ++i) {
        offsets[static_cast<size_t>(2 * i)] = static_cast<int64_t>(rng() % static_cast<uint32_t>(h - ph + 1));
        offsets[static_cast<size_t>(2 * i + 1)] = static_cast<int64_t>(rng() % static_cast<uint32_t>(w - pw + 1));
      }
      dp_tensor patch_t = tensor(DP_DTYPE_FLOAT32, layout, 1, c, ph, pw, patch.data());
      dp_tensor pmask_t = tensor(DP_DTYPE_FLOAT32, layout, 1, c, ph, pw, pmask.data());
      compare(v, rng, "paste", dtype, n, c, h, w, nchw, [&](dp_engine *eng, dp_tensor &b, const int64_t *i, int64_t k) {
        return dp_paste(eng, &b, &patch_t, &pmask_t, 1.0f - amount, offsets.data(), i, k);
      });
      // Additive signal of both signs.
      std::vector<float> signal(static_cast<size_t>(e));
      for (auto &s : signal) s = unit(rng) * 60.0f - 30.0f;
      dp_tensor st = tensor(DP_DTYPE_FLOAT32, layout, 1, c, h, w, signal.data());
      compare(v, rng, "add_signal", dtype, n, c, h, w, nchw, [&](dp_engine *eng, dp_tensor &b, const int64_t *i, int64_t k) {
        return dp_add_signal(eng, &b, &st, i, k);
      });
      // Warp: identity plus offsets, some beyond the border, some integral.
      std::vector<float> grid(static_cast<size_t>(2 * h * w));
      for (int64_t y = 0; y < h; ++y)
        for (int64_t x = 0; x < w; ++x) {
          const bool integral = unit(rng) < 0.2f;
          grid[static_cast<size_t>(y * w + x)] = static_cast<float>(y) + (integral ? 0.0f : unit(rng) * 6.0f - 3.0f);
          grid[static_cast<size_t>(h * w + y * w + x)] = static_cast<float>(x) + (integral ? 1.0f : unit(rng) * 6.0f - 3.0f);
        }
      dp_tensor gt = tensor(DP_DTYPE_FLOAT32, DP_LAYOUT_NCHW, 1, 2, h, w, grid.data());
      compare(v, rng, "warp", dtype, n, c, h, w, nchw, [&](dp_engine *eng, dp_tensor &b, const int64_t *i, int64_t k) {
        return dp_warp(eng, &b, &gt, i, k);
      });
      // Keyed noise.
      const uint32_t k0 = static_cast<uint32_t>(rng()), k1 = static_cast<uint32_t>(rng());
      compare(v, rng, "keyed_noise", dtype, n, c, h, w, nchw, [&](dp_engine *eng, dp_tensor &b, const int64_t *i, int64_t k) {
        return dp_keyed_noise(eng, &b, k0, k1, 8.0f, 12345, i, k);
      });
    }
}

// Tokens and columns on rows of `width`.
void compare_rows(Variants &v, std::mt19937 &rng, int64_t n, int64_t width) {
  const int32_t ids[3] = {101, 7, 2054};
  const int64_t k = std::min<int64_t>(3, width);
  std::vector<int64_t> positions(static_cast<size_t>(n));
  for (auto &p : positions) p = static_cast<int64_t>(rng() % static_cast<uint32_t>(width - k + 1));
  compare(v, rng, "write_tokens", DP_DTYPE_INT32, n, 1, 1, width, false,
          [&](dp_engine *eng, dp_tensor &b, const int64_t *i, int64_t m) {
            return dp_write_tokens(eng, &b, ids, k, positions.data(), i, m);
          });
  const int64_t cols[3] = {width - 1, 0, width / 2};
  const float vals[3] = {1.5f, -2.25f, 1e3f};
  const int64_t kc = width >= 3 ? 3 : 1;
  for (int32_t shift : {0, 1})
    compare(v, rng, "set_columns", DP_DTYPE_FLOAT32, n, 1, 1, width, false,
            [&](dp_engine *eng, dp_tensor &b, const int64_t *i, int64_t m) {
              return dp_set_columns(eng, &b, cols, vals, kc, shift, i, m);
            });
}

// Scoring (baseline: the 32-lane scalar definition; avx2: 8-wide accumulators, and from 16 classes
// the wide scorer's 6 x 16 tiles; avx512: its 12 x 32 tiles) and the fit.
void compare_scoring(Variants &v, std::mt19937 &rng, int64_t n, int64_t d, int64_t classes) {
  std::normal_distribution<float> normal(0.0f, 1.0f);
  std::vector<float> x(static_cast<size_t>(n * d)), w(static_cast<size_t>(classes * d)), b(static_cast<size_t>(classes));
  for (auto &e : x) e = normal(rng);
  for (auto &e : w) e = normal(rng) * 0.1f;
  for (auto &e : b) e = normal(rng);
  const int64_t target = static_cast<int64_t>(rng() % static_cast<uint32_t>(classes));
  dp_tensor f = tensor(DP_DTYPE_FLOAT32, DP_LAYOUT_NHWC, n, 1, 1, d, x.data());
  struct Out {
    std::vector<int32_t> pred, run;
    std::vector<float> margin, dist, tdist;
  } out[2];
  dp_engine *engines[2] = {v.base, v.other};
  for (int k = 0; k < 2; ++k) {
    Out &o = out[k];
    for (auto *vec : {&o.pred, &o.run}) vec->resize(static_cast<size_t>(n));
    for (auto *vec : {&o.margin, &o.dist, &o.tdist}) vec->resize(static_cast<size_t>(n));
    DP_EXPECT(dp_score_boundary(engines[k], &f, w.data(), b.data(), classes, target, o.pred.data(), o.run.data(),
                                o.margin.data(), o.dist.data(), o.tdist.data()) == DP_OK,
              "score: %s", dp_last_error());
  }
  const size_t bytes = static_cast<size_t>(n) * 4;
  DP_EXPECT(out[0].pred == out[1].pred && out[0].run == out[1].run &&
                std::memcmp(out[0].margin.data(), out[1].margin.data(), bytes) == 0 &&
                std::memcmp(out[0].dist.data(), out[1].dist.data(), bytes) == 0 &&
                std::memcmp(out[0].tdist.data(), out[1].tdist.data(), bytes) == 0,
            "score n=%lld d=%lld C=%lld: baseline and %s differ", static_cast<long long>(n), static_cast<long long>(d),
            static_cast<long long>(classes), v.name);

  std::vector<int32_t> labels(static_cast<size_t>(n));
  for (auto &l : labels) l = static_cast<int32_t>(rng() % static_cast<uint32_t>(classes));
  const int epochs = 2;
  std::vector<int64_t> order(static_cast<size_t>(epochs * n));
  for (int e = 0; e < epochs; ++e) {
    auto first = order.begin() + e * n;
    std::iota(first, first + n, 0);
    std::shuffle(first, first + n, rng);
  }
  std::vector<float> fw[2], fb[2];
  for (int k = 0; k < 2; ++k) {
    fw[k].resize(w.size());
    fb[k].resize(b.size());
    DP_EXPECT(dp_fit_linear(engines[k], &f, labels.data(), classes, order.data(), epochs, 16, 0.1f, 1e-4f,
                            fw[k].data(), fb[k].data()) == DP_OK,
              "fit: %s", dp_last_error());
  }
  DP_EXPECT(std::memcmp(fw[0].data(), fw[1].data(), fw[0].size() * 4) == 0 &&
                std::memcmp(fb[0].data(), fb[1].data(), fb[0].size() * 4) == 0,
            "fit n=%lld d=%lld C=%lld: baseline and %s differ", static_cast<long long>(n), static_cast<long long>(d),
            static_cast<long long>(classes), v.name);
}

// Every comparison, baseline against v.other.
void compare_all(Variants &v) {
  std::mt19937 rng(7);
  // Elements per image around the 8-, 16- and 32-wide steps, and odd shapes with 1, 3 and 4 channels.
  for (int64_t e : {1, 7, 8, 9, 15, 16, 17, 31, 32, 33, 63, 64, 65, 1000})
    for (int64_t n : {0, 1, 5}) compare_images(v, rng, n, 1, 1, e);
  compare_images(v, rng, 5, 3, 41, 37);
  compare_images(v, rng, 7, 4, 9, 17);
  compare_images(v, rng, 3, 3, 64, 64);
  for (int64_t width : {1, 3, 33, 257}) compare_rows(v, rng, 9, width);
  for (int64_t d : {1, 7, 31, 32, 33, 64, 65, 257})
    for (int64_t classes : {2, 10}) compare_scoring(v, rng, 37, d, classes);
  compare_scoring(v, rng, 200, 784, 10);
  // The blocked scorers' edges: sample tiles (6 or 12 samples), blocks of tiles (144 samples, fewer
  // for long rows), class panels (16 or 32 classes) with remainders, an odd sample count, class counts
  // on either side of a panel, and fewer samples than a tile.
  compare_scoring(v, rng, 101, 2048, 37);
  compare_scoring(v, rng, 67, 33, 1000);
  compare_scoring(v, rng, 3, 100, 7);
  compare_scoring(v, rng, 157, 300, 16);
  compare_scoring(v, rng, 289, 45, 31);
  compare_scoring(v, rng, 13, 97, 32);
  compare_scoring(v, rng, 11, 64, 33);
  compare_scoring(v, rng, 150, 4100, 48);
}

}  // namespace

int main() {
  int compared = 0;
  for (const char *name : {"avx2", "avx512"}) {
    Variants v;
    v.name = name;
    if (create_with("baseline", &v.base) != DP_OK) {
      std::fprintf(stderr, "variants: cannot create a baseline engine: %s\n", dp_last_error());
      return 1;
    }
    const int32_t st = create_with(name, &v.other);
    if (st == DP_ERR_UNSUPPORTED) {
      std::printf("variants: %s skipped: %s\n", name, dp_last_error());
      continue;
    }
    if (st != DP_OK) {
      std::fprintf(stderr, "variants: cannot create an %s engine: %s\n", name, dp_last_error());
      return 1;
    }
    compare_all(v);
    std::printf("variants: baseline and %s compared\n", name);
    ++compared;
  }
  if (compared == 0) {
    std::printf("variants: skipped: this processor runs no vector variant\n");
    return 77;
  }
  return finish("variants");
}
