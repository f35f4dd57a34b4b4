// CUDA against the CPU backend: every CUDA operation on random inputs, at sizes around the
// kernels' block and vector boundaries, on host and device batches, all samples and index lists,
// with operands in host memory and resident (dp_operand), on the engine's streams and on a caller's
// stream. Results must match bit for bit. Exits 77 (skipped) when no CUDA device answers.
#include <algorithm>
#include <cstring>
#include <numeric>

#include "test_util.h"

using namespace dptest;

namespace {

struct Engines {
  dp_engine *cpu = nullptr, *gpu = nullptr;
  bool resident = false;  // operands as dp_operand (each engine its own), else in host memory
  ~Engines() {
    dp_engine_destroy(cpu);
    dp_engine_destroy(gpu);
  }
};

// The operand tensors of one call: `t` as it is (host memory), or, when the run asks for resident
// operands, a resident copy made on `eng` and released after the call.
class Operands {
 public:
  Operands(const Engines &en, dp_engine *eng) : resident_(en.resident), eng_(eng) {}
  ~Operands() {
    for (dp_operand *op : made_) dp_operand_destroy(eng_, op);
  }
  Operands(const Operands &) = delete;
  Operands &operator=(const Operands &) = delete;
  dp_tensor operator()(const dp_tensor &t) {
    if (!resident_) return t;
    dp_operand *op = nullptr;
    DP_EXPECT(dp_operand_create(eng_, static_cast<const float *>(t.data), t.c * t.h * t.w, &op) == DP_OK,
              "operand: %s", dp_last_error());
    made_.push_back(op);
    dp_tensor r = t;
    r.memory = DP_MEMORY_OPERAND;
    r.data = op;
    return r;
  }

 private:
  bool resident_;
  dp_engine *eng_;
  std::vector<dp_operand *> made_;
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
  {
    Operands ops(en, en.cpu);
    dp_tensor p = ops(pt), m = ops(mk);
    DP_EXPECT(dp_mask_blend(en.cpu, &bc, &p, &m, amount, idx, n_idx) == DP_OK, "cpu: %s", dp_last_error());
  }

  void *dev = nullptr;
  if (device && bytes > 0) {
    if (dp_device_alloc(en.gpu, bytes, &dev) != DP_OK || dp_memcpy(en.gpu, dev, host.data(), bytes, DP_COPY_HOST_TO_DEVICE) != DP_OK) {
      DP_EXPECT(false, "device setup: %s", dp_last_error());
      return;
    }
  }
  dp_tensor bg = tensor(dtype, DP_LAYOUT_NHWC, n, c, h, w, device ? dev : (n ? gpu_out.data() : nullptr),
                        device ? DP_MEMORY_DEVICE : DP_MEMORY_HOST);
  {
    Operands ops(en, en.gpu);
    dp_tensor p = ops(pt), m = ops(mk);
    DP_EXPECT(dp_mask_blend(en.gpu, &bg, &p, &m, amount, idx, n_idx) == DP_OK, "cuda: %s", dp_last_error());
  }
  if (dev) {
    DP_EXPECT(dp_memcpy(en.gpu, gpu_out.data(), dev, bytes, DP_COPY_DEVICE_TO_HOST) == DP_OK, "%s", dp_last_error());
    dp_device_free(en.gpu, dev);
  }
  size_t first = 0;
  while (first < bytes && cpu_out[first] == gpu_out[first]) ++first;
  DP_EXPECT(first == bytes,
            "mask_blend %s n=%lld c=%lld h=%lld w=%lld all=%d device=%d dense=%d resident=%d: first difference at byte %zu",
            dtype == DP_DTYPE_UINT8 ? "uint8" : "float32", static_cast<long long>(n), static_cast<long long>(c),
            static_cast<long long>(h), static_cast<long long>(w), all, device, dense, en.resident, first);
}

// Runs `op(engine, tensor, idx, n_idx)` on a CPU copy and a CUDA copy (device or host memory) of
// random data and compares the bytes.
template <class Op>
void compare_op(Engines &en, std::mt19937 &rng, const char *what, int dtype, int64_t n, int64_t c, int64_t h,
                int64_t w, bool nchw, bool all, bool device, Op op) {
  std::uniform_real_distribution<float> unit(0.0f, 1.0f);
  const int64_t e = c * h * w;
  const size_t bytes = static_cast<size_t>(n * e) * (dtype == DP_DTYPE_UINT8 ? 1 : 4);
  std::vector<unsigned char> host(bytes);
  if (dtype == DP_DTYPE_UINT8) {
    for (auto &v : host) v = static_cast<unsigned char>(rng() & 0xff);
  } else if (dtype == DP_DTYPE_FLOAT32) {
    auto *f = reinterpret_cast<float *>(host.data());
    for (int64_t i = 0; i < n * e; ++i) f[i] = unit(rng) * 300.0f - 20.0f;
  } else {
    auto *t = reinterpret_cast<int32_t *>(host.data());
    for (int64_t i = 0; i < n * e; ++i) t[i] = static_cast<int32_t>(rng() % 50000);
  }
  std::vector<int64_t> subset(static_cast<size_t>(n));
  std::iota(subset.begin(), subset.end(), 0);
  std::shuffle(subset.begin(), subset.end(), rng);
  subset.resize(static_cast<size_t>(n - n / 3));
  const int64_t *idx = all ? nullptr : subset.data();
  const int64_t n_idx = all ? DP_ALL_SAMPLES : static_cast<int64_t>(subset.size());
  const int32_t layout = nchw ? DP_LAYOUT_NCHW : DP_LAYOUT_NHWC;
  std::vector<unsigned char> cpu_out = host, gpu_out = host;
  dp_tensor bc = tensor(dtype, layout, n, c, h, w, n ? cpu_out.data() : nullptr);
  DP_EXPECT(op(en.cpu, bc, idx, n_idx) == DP_OK, "%s cpu: %s", what, dp_last_error());
  void *dev = nullptr;
  if (device && bytes > 0) {
    if (dp_device_alloc(en.gpu, bytes, &dev) != DP_OK ||
        dp_memcpy(en.gpu, dev, host.data(), bytes, DP_COPY_HOST_TO_DEVICE) != DP_OK) {
      DP_EXPECT(false, "device setup: %s", dp_last_error());
      return;
    }
  }
  dp_tensor bg = tensor(dtype, layout, n, c, h, w, device ? dev : (n ? gpu_out.data() : nullptr),
                        device ? DP_MEMORY_DEVICE : DP_MEMORY_HOST);
  DP_EXPECT(op(en.gpu, bg, idx, n_idx) == DP_OK, "%s cuda: %s", what, dp_last_error());
  if (dev) {
    DP_EXPECT(dp_memcpy(en.gpu, gpu_out.data(), dev, bytes, DP_COPY_DEVICE_TO_HOST) == DP_OK, "%s", dp_last_error());
    dp_device_free(en.gpu, dev);
  }
  size_t first = 0;
  while (first < bytes && cpu_out[first] == gpu_out[first]) ++first;
  DP_EXPECT(first == bytes,
            "%s dtype=%d n=%lld c=%lld h=%lld w=%lld nchw=%d all=%d device=%d resident=%d: first difference at byte %zu",
            what, dtype, static_cast<long long>(n), static_cast<long long>(c), static_cast<long long>(h),
            static_cast<long long>(w), nchw, all, device, en.resident, first);
}

// Every primitive other than the blend, on one shape.
void compare_triggers(Engines &en, std::mt19937 &rng, int64_t n, int64_t c, int64_t h, int64_t w) {
  std::uniform_real_distribution<float> unit(0.0f, 1.0f);
  for (int dtype : {DP_DTYPE_UINT8, DP_DTYPE_FLOAT32})
    for (bool nchw : {false, true})
      for (bool all : {true, false})
        for (bool device : {true, false}) {
          const int32_t layout = nchw ? DP_LAYOUT_NCHW : DP_LAYOUT_NHWC;
          const int64_t selected = all ? n : n - n / 3;
          // paste: a random patch at random offsets
          const int64_t ph = 1 + static_cast<int64_t>(rng() % static_cast<uint32_t>(h));
          const int64_t pw = 1 + static_cast<int64_t>(rng() % static_cast<uint32_t>(w));
          std::vector<float> patch(static_cast<size_t>(c * ph * pw)), pmask(patch.size());
          for (size_t i = 0; i < patch.size(); ++i) {
            patch[i] = std::floor(unit(rng) * 255.0f);
            pmask[i] = unit(rng) < 0.3f ? 1.0f : unit(rng);
          }
          std::vector<int64_t> offsets(static_cast<size_t>(2 * selected));
          for (int64_t i = 0; i < selected; ++i) {
            offsets[static_cast<size_t>(2 * i)] = static_cast<int64_t>(rng() % static_cast<uint32_t>(h - ph + 1));
            offsets[static_cast<size_t>(2 * i + 1)] = static_cast<int64_t>(rng() % static_cast<uint32_t>(w - pw + 1));
          }
          dp_tensor pt = tensor(DP_DTYPE_FLOAT32, layout, 1, c, ph, pw, patch.data());
          dp_tensor mt = tensor(DP_DTYPE_FLOAT32, layout, 1, c, ph, pw, pmask.data());
          const float amount = unit(rng);
          compare_op(en, rng, "paste", dtype, n, c, h, w, nchw, all, device,
                     [&](dp_engine *eng, dp_tensor &b, const int64_t *idx, int64_t n_idx) {
                       Operands ops(en, eng);
                       dp_tensor p = ops(pt), m = ops(mt);
                       return dp_paste(eng, &b, &p, &m, amount, offsets.data(), idx, n_idx);
                     });
          // scatter_blend: a random seventh of the elements, in no order (host batches on the host threads,
          // device batches by the kernel)
          std::vector<int64_t> elements(static_cast<size_t>(c * h * w));
          std::iota(elements.begin(), elements.end(), 0);
          std::shuffle(elements.begin(), elements.end(), rng);
          elements.resize(static_cast<size_t>(std::max<int64_t>(1, c * h * w / 7)));
          std::vector<float> element_values(elements.size());
          for (auto &v : element_values) v = std::floor(unit(rng) * 256.0f);
          for (float blend_amount : {1.0f, amount})
            compare_op(en, rng, "scatter_blend", dtype, n, c, h, w, nchw, all, device,
                       [&](dp_engine *eng, dp_tensor &b, const int64_t *idx, int64_t n_idx) {
                         return dp_scatter_blend(eng, &b, elements.data(), element_values.data(),
                                                 static_cast<int64_t>(elements.size()), blend_amount, idx, n_idx);
                       });
          // add_signal: a sinusoid-like signal with both signs
          std::vector<float> signal(static_cast<size_t>(c * h * w));
          for (auto &v : signal) v = unit(rng) * 60.0f - 30.0f;
          dp_tensor st = tensor(DP_DTYPE_FLOAT32, layout, 1, c, h, w, signal.data());
          compare_op(en, rng, "add_signal", dtype, n, c, h, w, nchw, all, device,
                     [&](dp_engine *eng, dp_tensor &b, const int64_t *idx, int64_t n_idx) {
                       Operands ops(en, eng);
                       dp_tensor sg = ops(st);
                       return dp_add_signal(eng, &b, &sg, idx, n_idx);
                     });
          // warp: identity plus random offsets, some beyond the border, some integral
          std::vector<float> grid(static_cast<size_t>(2 * h * w));
          for (int64_t y = 0; y < h; ++y)
            for (int64_t x = 0; x < w; ++x) {
              const bool integral = unit(rng) < 0.2f;
              grid[static_cast<size_t>(y * w + x)] = static_cast<float>(y) + (integral ? 0.0f : unit(rng) * 6.0f - 3.0f);
              grid[static_cast<size_t>(h * w + y * w + x)] = static_cast<float>(x) + (integral ? 1.0f : unit(rng) * 6.0f - 3.0f);
            }
          dp_tensor gt = tensor(DP_DTYPE_FLOAT32, DP_LAYOUT_NCHW, 1, 2, h, w, grid.data());
          compare_op(en, rng, "warp", dtype, n, c, h, w, nchw, all, device,
                     [&](dp_engine *eng, dp_tensor &b, const int64_t *idx, int64_t n_idx) {
                       Operands ops(en, eng);
                       dp_tensor g = ops(gt);
                       return dp_warp(eng, &b, &g, idx, n_idx);
                     });
          // keyed noise, with a non-zero dataset offset
          const uint32_t k0 = static_cast<uint32_t>(rng()), k1 = static_cast<uint32_t>(rng());
          const int64_t first_sample = static_cast<int64_t>(rng() % 1000000);
          compare_op(en, rng, "keyed_noise", dtype, n, c, h, w, nchw, all, device,
                     [&](dp_engine *eng, dp_tensor &b, const int64_t *idx, int64_t n_idx) {
                       return dp_keyed_noise(eng, &b, k0, k1, 8.0f, first_sample, idx, n_idx);
                     });
        }
  // Sequences and rows: W = length or width.
  const int64_t length = h * w;
  for (bool all : {true, false})
    for (bool device : {true, false}) {
      const int64_t selected = all ? n : n - n / 3;
      const int32_t ids[3] = {101, 7, 2054};
      std::vector<int64_t> positions(static_cast<size_t>(selected));
      for (auto &p : positions) p = static_cast<int64_t>(rng() % static_cast<uint32_t>(length - 2));
      compare_op(en, rng, "write_tokens", DP_DTYPE_INT32, n, 1, 1, length, false, all, device,
                 [&](dp_engine *eng, dp_tensor &b, const int64_t *idx, int64_t n_idx) {
                   return dp_write_tokens(eng, &b, ids, 3, positions.data(), idx, n_idx);
                 });
      const int64_t cols[3] = {0, length - 1, length / 2};
      const float vals[3] = {1.5f, -2.25f, 1e3f};
      const int64_t k = length >= 3 ? 3 : 1;
      for (int32_t shift : {0, 1})
        compare_op(en, rng, "set_columns", DP_DTYPE_FLOAT32, n, 1, 1, length, false, all, device,
                   [&](dp_engine *eng, dp_tensor &b, const int64_t *idx, int64_t n_idx) {
                     if (!en.resident) return dp_set_columns(eng, &b, cols, vals, k, shift, idx, n_idx);
                     dp_operand *v = nullptr;
                     if (dp_operand_create(eng, vals, k, &v) != DP_OK) return int32_t{DP_ERR_INTERNAL};
                     const int32_t st = dp_set_columns_op(eng, &b, cols, v, shift, idx, n_idx);
                     dp_operand_destroy(eng, v);
                     return st;
                   });
    }
}

// Scoring: CUDA against the CPU, bit for bit (both use the fixed summation order), host and device
// features, with and without a target.
void compare_score(Engines &en, std::mt19937 &rng, int64_t n, int64_t d, int64_t classes, bool device) {
  std::normal_distribution<float> normal(0.0f, 1.0f);
  std::vector<float> x(static_cast<size_t>(n * d)), w(static_cast<size_t>(classes * d)), b(static_cast<size_t>(classes));
  for (auto &v : x) v = normal(rng);
  for (auto &v : w) v = normal(rng) * 0.1f;
  for (auto &v : b) v = normal(rng);
  const int64_t target = static_cast<int64_t>(rng() % static_cast<uint32_t>(classes));
  struct Out {
    std::vector<int32_t> pred, run;
    std::vector<float> margin, dist, tdist;
  } out[2];
  for (Out &o : out) {
    o.pred.resize(static_cast<size_t>(n));
    o.run.resize(static_cast<size_t>(n));
    o.margin.resize(static_cast<size_t>(n));
    o.dist.resize(static_cast<size_t>(n));
    o.tdist.resize(static_cast<size_t>(n));
  }
  dp_tensor fc = tensor(DP_DTYPE_FLOAT32, DP_LAYOUT_NHWC, n, 1, 1, d, x.data());
  DP_EXPECT(dp_score_boundary(en.cpu, &fc, w.data(), b.data(), classes, target, out[0].pred.data(), out[0].run.data(),
                              out[0].margin.data(), out[0].dist.data(), out[0].tdist.data()) == DP_OK,
            "score cpu: %s", dp_last_error());
  void *dev = nullptr;
  const size_t bytes = x.size() * 4;
  if (device && (dp_device_alloc(en.gpu, bytes, &dev) != DP_OK ||
                 dp_memcpy(en.gpu, dev, x.data(), bytes, DP_COPY_HOST_TO_DEVICE) != DP_OK)) {
    DP_EXPECT(false, "device setup: %s", dp_last_error());
    return;
  }
  dp_tensor fg = tensor(DP_DTYPE_FLOAT32, DP_LAYOUT_NHWC, n, 1, 1, d, device ? dev : x.data(),
                        device ? DP_MEMORY_DEVICE : DP_MEMORY_HOST);
  if (en.resident) {
    // A head kept on the device, scored twice: the second call reuses the cached norms.
    dp_operand *wo = nullptr, *bo = nullptr;
    DP_EXPECT(dp_operand_create(en.gpu, w.data(), classes * d, &wo) == DP_OK &&
                  dp_operand_create(en.gpu, b.data(), classes, &bo) == DP_OK,
              "head operands: %s", dp_last_error());
    for (int twice = 0; twice < 2; ++twice)
      DP_EXPECT(dp_score_boundary_op(en.gpu, &fg, wo, bo, classes, target, out[1].pred.data(), out[1].run.data(),
                                     out[1].margin.data(), out[1].dist.data(), out[1].tdist.data()) == DP_OK,
                "score_op cuda: %s", dp_last_error());
    dp_operand_destroy(en.gpu, wo);
    dp_operand_destroy(en.gpu, bo);
  } else {
    DP_EXPECT(dp_score_boundary(en.gpu, &fg, w.data(), b.data(), classes, target, out[1].pred.data(),
                                out[1].run.data(), out[1].margin.data(), out[1].dist.data(), out[1].tdist.data()) == DP_OK,
              "score cuda: %s", dp_last_error());
  }
  if (dev) dp_device_free(en.gpu, dev);
  DP_EXPECT(out[0].pred == out[1].pred && out[0].run == out[1].run, "score n=%lld d=%lld C=%lld: classes differ",
            static_cast<long long>(n), static_cast<long long>(d), static_cast<long long>(classes));
  DP_EXPECT(std::memcmp(out[0].margin.data(), out[1].margin.data(), static_cast<size_t>(n) * 4) == 0 &&
                std::memcmp(out[0].dist.data(), out[1].dist.data(), static_cast<size_t>(n) * 4) == 0 &&
                std::memcmp(out[0].tdist.data(), out[1].tdist.data(), static_cast<size_t>(n) * 4) == 0,
            "score n=%lld d=%lld C=%lld device=%d resident=%d: margins or distances differ", static_cast<long long>(n),
            static_cast<long long>(d), static_cast<long long>(classes), device, en.resident);
}

// On a caller's stream, device-batch operations return without waiting. Queue `k` blends back to
// back on separate device batches, each with its own host operands, which are overwritten as soon as
// the call returns (the contract says they were copied), then wait once and compare every batch with
// the CPU's result on the original inputs.
// The fit (dp_fit_linear) on both engines: the same head, bit for bit (the CUDA fit runs the CPU fit's
// operations in its order, with the shared e^x). Features a little class-separated so the head moves.
void compare_fit(Engines &en, std::mt19937 &rng, int64_t n, int64_t d, int64_t classes, int batch, int epochs) {
  FitProblem p = fit_problem(rng, n, d, classes, epochs, 1.0f);
  std::vector<float> &x = p.x;
  std::vector<int32_t> &labels = p.labels;
  std::vector<int64_t> &order = p.order;
  dp_tensor t = tensor(DP_DTYPE_FLOAT32, DP_LAYOUT_NHWC, n, 1, 1, d, x.data());
  std::vector<float> w[2], b[2];
  dp_engine *engines[2] = {en.cpu, en.gpu};
  for (int k = 0; k < 2; ++k) {
    w[k].assign(static_cast<size_t>(classes * d), 7.0f);
    b[k].assign(static_cast<size_t>(classes), 7.0f);
    DP_EXPECT(dp_fit_linear(engines[k], &t, labels.data(), classes, order.data(), epochs, batch, 0.5f, 1e-4f,
                            w[k].data(), b[k].data()) == DP_OK,
              "fit %s: %s", k ? "cuda" : "cpu", dp_last_error());
  }
  int64_t differ = 0;
  for (size_t i = 0; i < w[0].size(); ++i) differ += std::memcmp(&w[0][i], &w[1][i], 4) != 0;
  for (size_t i = 0; i < b[0].size(); ++i) differ += std::memcmp(&b[0][i], &b[1][i], 4) != 0;
  DP_EXPECT(differ == 0, "fit n=%lld d=%lld C=%lld batch=%d: %lld of %zu values differ from the CPU fit",
            static_cast<long long>(n), static_cast<long long>(d), static_cast<long long>(classes), batch,
            static_cast<long long>(differ), w[0].size() + b[0].size());
}

void compare_stream_burst(Engines &en, std::mt19937 &rng, DriverStream &stream, int dtype) {
  std::uniform_real_distribution<float> unit(0.0f, 1.0f);
  const int k = 8;
  const int64_t n = 9, c = 3, h = 31, w = 29, e = c * h * w;
  const size_t eb = dtype == DP_DTYPE_UINT8 ? 1 : 4, bytes = static_cast<size_t>(n * e) * eb;
  std::vector<std::vector<unsigned char>> expected(k);
  std::vector<void *> dev(k, nullptr);
  std::vector<float> pattern(static_cast<size_t>(e)), mask(static_cast<size_t>(e));
  std::vector<int64_t> idx = {7, 2, 5, 0};
  DP_EXPECT(dp_engine_set_stream(en.gpu, stream.get()) == DP_OK, "%s", dp_last_error());
  for (int j = 0; j < k; ++j) {
    std::vector<unsigned char> host(bytes);
    if (dtype == DP_DTYPE_UINT8) {
      for (auto &v : host) v = static_cast<unsigned char>(rng() & 0xff);
    } else {
      for (size_t i = 0; i < bytes / 4; ++i) reinterpret_cast<float *>(host.data())[i] = unit(rng) * 255.0f;
    }
    for (int64_t i = 0; i < e; ++i) {
      pattern[static_cast<size_t>(i)] = std::floor(unit(rng) * 255.0f);
      mask[static_cast<size_t>(i)] = unit(rng) < 0.3f ? 0.0f : unit(rng);
    }
    std::shuffle(idx.begin(), idx.end(), rng);
    const float amount = unit(rng);
    dp_tensor pt = tensor(DP_DTYPE_FLOAT32, DP_LAYOUT_NHWC, 1, c, h, w, pattern.data());
    dp_tensor mk = tensor(DP_DTYPE_FLOAT32, DP_LAYOUT_NHWC, 1, c, h, w, mask.data());
    expected[j] = host;
    dp_tensor bc = tensor(dtype, DP_LAYOUT_NHWC, n, c, h, w, expected[j].data());
    DP_EXPECT(dp_mask_blend(en.cpu, &bc, &pt, &mk, amount, idx.data(), 4) == DP_OK, "%s", dp_last_error());
    DP_EXPECT(dp_device_alloc(en.gpu, bytes, &dev[j]) == DP_OK, "%s", dp_last_error());
    DP_EXPECT(dp_memcpy(en.gpu, dev[j], host.data(), bytes, DP_COPY_HOST_TO_DEVICE) == DP_OK, "%s", dp_last_error());
    Operands ops(en, en.gpu);
    dp_tensor p = ops(pt), m = ops(mk);
    dp_tensor bg = tensor(dtype, DP_LAYOUT_NHWC, n, c, h, w, dev[j], DP_MEMORY_DEVICE);
    DP_EXPECT(dp_mask_blend(en.gpu, &bg, &p, &m, amount, idx.data(), 4) == DP_OK, "%s", dp_last_error());
    // The caller's arrays are free again: scribble over them before the stream has run the blend.
    std::fill(pattern.begin(), pattern.end(), 3.0f);
    std::fill(mask.begin(), mask.end(), 1.0f);
    idx = {1, 3, 4, 6};
  }
  DP_EXPECT(stream.synchronize(), "the caller's stream");
  for (int j = 0; j < k; ++j) {
    std::vector<unsigned char> got(bytes);
    DP_EXPECT(dp_memcpy(en.gpu, got.data(), dev[j], bytes, DP_COPY_DEVICE_TO_HOST) == DP_OK, "%s", dp_last_error());
    DP_EXPECT(got == expected[j], "burst on a caller's stream, dtype=%d resident=%d: batch %d differs", dtype,
              en.resident, j);
    dp_device_free(en.gpu, dev[j]);
  }
  DP_EXPECT(dp_engine_set_stream(en.gpu, nullptr) == DP_OK, "%s", dp_last_error());
}

// Handles that do not belong, on a CUDA engine.
void check_foreign_handles(Engines &en) {
  const std::vector<float> half(12, 0.5f);
  dp_operand *cpu_op = nullptr;
  DP_EXPECT(dp_operand_create(en.cpu, half.data(), 12, &cpu_op) == DP_OK, "%s", dp_last_error());
  std::vector<uint8_t> img(2 * 12, 9);
  dp_tensor b = tensor(DP_DTYPE_UINT8, DP_LAYOUT_NHWC, 2, 3, 2, 2, img.data());
  dp_tensor m = tensor(DP_DTYPE_FLOAT32, DP_LAYOUT_NHWC, 1, 3, 2, 2, cpu_op, DP_MEMORY_OPERAND);
  dp_tensor p = tensor(DP_DTYPE_FLOAT32, DP_LAYOUT_NHWC, 1, 3, 2, 2, const_cast<float *>(half.data()));
  DP_EXPECT(dp_mask_blend(en.gpu, &b, &p, &m, 1.0f, nullptr, DP_ALL_SAMPLES) == DP_ERR_INVALID_ARGUMENT,
            "a CPU engine's operand on the CUDA engine");
  DP_EXPECT(std::strstr(dp_last_error(), "not a live operand of this engine") != nullptr, "%s", dp_last_error());
  DP_EXPECT(dp_operand_destroy(en.gpu, cpu_op) == DP_ERR_INVALID_ARGUMENT, "released through the wrong engine");
  DP_EXPECT(dp_operand_destroy(en.cpu, cpu_op) == DP_OK, "%s", dp_last_error());
  DP_EXPECT(img == std::vector<uint8_t>(2 * 12, 9), "a rejected call wrote into the batch");
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
  // The other primitives: odd shapes, 1, 3 and 4 channels, and a batch through several staging
  // chunks (and, for the warp, several gather chunks on the device).
  compare_triggers(en, rng, 5, 3, 41, 37);
  compare_triggers(en, rng, 3, 1, 1, 3);
  compare_triggers(en, rng, 7, 4, 9, 17);
  compare_triggers(en, rng, 2, 1, 129, 1);
  if (!quick) compare_triggers(en, rng, 64, 3, 224, 224);
  for (bool device : {true, false}) {
    compare_score(en, rng, 1, 1, 2, device);
    compare_score(en, rng, 37, 31, 2, device);
    compare_score(en, rng, 129, 33, 10, device);
    compare_score(en, rng, 1000, 784, 10, device);
    compare_score(en, rng, quick ? 50 : 300, 257, 1000, device);
    // Either side of the tiled kernel's threshold (64 classes), with partial tiles of samples and classes.
    compare_score(en, rng, 37, 100, 63, device);
    compare_score(en, rng, 37, 100, 64, device);
    compare_score(en, rng, 39, 2048, 131, device);
  }

  // The surrogate fit: shapes around the warp's 32 lanes and the block's 8 warps of classes, a batch that does
  // not divide the samples, a batch larger than them, and Fashion-MNIST's row with a wide head.
  compare_fit(en, rng, 37, 31, 2, 8, 2);
  compare_fit(en, rng, 130, 33, 10, 64, 2);
  compare_fit(en, rng, 23, 100, 17, 64, 3);
  compare_fit(en, rng, quick ? 640 : 4000, 784, 10, 64, 2);
  compare_fit(en, rng, quick ? 128 : 600, 1024, 100, 64, 1);

  // Resident operands (dp_operand), each engine its own: the same bits as host operands.
  en.resident = true;
  for (int dtype : {DP_DTYPE_UINT8, DP_DTYPE_FLOAT32}) {
    for (int64_t e : {int64_t{1}, int64_t{129}, int64_t{4097}})
      for (bool device : {true, false}) compare_blend(en, rng, dtype, 37, 1, 1, e, false, device, false);
    compare_blend(en, rng, dtype, quick ? 30 : 70, 3, 224, 224, true, false, true);
  }
  compare_triggers(en, rng, 5, 3, 41, 37);
  compare_triggers(en, rng, 2, 1, 129, 1);
  for (bool device : {true, false}) {
    compare_score(en, rng, 37, 31, 2, device);
    compare_score(en, rng, 1000, 784, 10, device);
  }
  check_foreign_handles(en);

  // A caller's stream (made through the driver API, as another CUDA library would): host and device
  // batches, host and resident operands; then a burst of unsynchronised calls.
  DriverStream stream;
  DP_EXPECT(stream.get() != nullptr, "cannot make a CUDA stream through the driver API");
  if (stream.get() != nullptr) {
    for (bool resident : {false, true}) {
      en.resident = resident;
      DP_EXPECT(dp_engine_set_stream(en.gpu, stream.get()) == DP_OK, "set_stream: %s", dp_last_error());
      for (int dtype : {DP_DTYPE_UINT8, DP_DTYPE_FLOAT32})
        for (bool device : {true, false}) compare_blend(en, rng, dtype, 37, 3, 17, 19, false, device, false);
      compare_triggers(en, rng, 7, 4, 9, 17);
      for (bool device : {true, false}) compare_score(en, rng, 129, 33, 10, device);
      DP_EXPECT(dp_engine_set_stream(en.gpu, nullptr) == DP_OK, "back to the engine's streams: %s", dp_last_error());
      for (int dtype : {DP_DTYPE_UINT8, DP_DTYPE_FLOAT32}) compare_stream_burst(en, rng, stream, dtype);
    }
  }
  en.resident = false;
  compare_triggers(en, rng, 3, 1, 1, 3);  // and the engine's own streams work again
  return finish("compare");
}
