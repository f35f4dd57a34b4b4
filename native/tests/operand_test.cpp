// Resident operands and caller streams through the C ABI, on the CPU backend: creation and release
// with their argument checks; every operation that takes an operand gives, with a resident one, the
// same bytes as with the same values in host memory; range, geometry and ownership are checked at
// each use; a CPU engine refuses a stream. (dyepack_compare runs the same on CUDA.)
#include <algorithm>
#include <cstring>
#include <numeric>

#include "test_util.h"

using namespace dptest;

namespace {

bool contains(const char *haystack, const char *needle) { return std::strstr(haystack, needle) != nullptr; }

// An operand with the values of `host`, released with the object.
struct Operand {
  dp_engine *eng;
  dp_operand *op = nullptr;
  Operand(dp_engine *e, const std::vector<float> &host) : eng(e) {
    DP_EXPECT(dp_operand_create(eng, host.data(), static_cast<int64_t>(host.size()), &op) == DP_OK, "create: %s",
              dp_last_error());
  }
  ~Operand() { dp_operand_destroy(eng, op); }
  // A tensor naming this operand, with the geometry of `like`.
  dp_tensor tensor_like(const dp_tensor &like) const {
    dp_tensor t = like;
    t.memory = DP_MEMORY_OPERAND;
    t.data = op;
    return t;
  }
};

void test_create_destroy(dp_engine *eng, dp_engine *other) {
  const std::vector<float> v = {1.0f, 2.0f, 3.0f};
  dp_operand *op = reinterpret_cast<dp_operand *>(&op);  // must be cleared on failure
  DP_EXPECT(dp_operand_create(nullptr, v.data(), 3, &op) == DP_ERR_INVALID_ARGUMENT && op == nullptr, "null engine");
  DP_EXPECT(contains(dp_last_error(), "engine is null"), "%s", dp_last_error());
  DP_EXPECT(dp_operand_create(eng, nullptr, 3, &op) == DP_ERR_INVALID_ARGUMENT, "null host");
  DP_EXPECT(contains(dp_last_error(), "host is null"), "%s", dp_last_error());
  DP_EXPECT(dp_operand_create(eng, v.data(), 0, &op) == DP_ERR_INVALID_ARGUMENT, "count 0");
  DP_EXPECT(dp_operand_create(eng, v.data(), -4, &op) == DP_ERR_INVALID_ARGUMENT, "count < 0");
  DP_EXPECT(contains(dp_last_error(), "count must be >= 1"), "%s", dp_last_error());
  DP_EXPECT(dp_operand_create(eng, v.data(), INT64_MAX / 2, &op) == DP_ERR_INVALID_ARGUMENT, "count too large");
  DP_EXPECT(dp_operand_create(eng, v.data(), 3, nullptr) == DP_ERR_INVALID_ARGUMENT, "null out");
  std::vector<float> bad = {1.0f, 2.0f, 3.0f, 4.0f, 5.0f, NAN};
  DP_EXPECT(dp_operand_create(eng, bad.data(), 6, &op) == DP_ERR_INVALID_ARGUMENT && op == nullptr, "NaN");
  DP_EXPECT(contains(dp_last_error(), "host[5] is not finite"), "%s", dp_last_error());
  bad[5] = -INFINITY;
  DP_EXPECT(dp_operand_create(eng, bad.data(), 6, &op) == DP_ERR_INVALID_ARGUMENT, "infinity");

  DP_EXPECT(dp_operand_create(eng, v.data(), 3, &op) == DP_OK && op != nullptr, "%s", dp_last_error());
  DP_EXPECT(dp_operand_destroy(other, op) == DP_ERR_INVALID_ARGUMENT, "released through another engine");
  DP_EXPECT(contains(dp_last_error(), "not a live operand of this engine"), "%s", dp_last_error());
  DP_EXPECT(dp_operand_destroy(nullptr, op) == DP_ERR_INVALID_ARGUMENT, "null engine");
  DP_EXPECT(dp_operand_destroy(eng, op) == DP_OK, "%s", dp_last_error());
  DP_EXPECT(dp_operand_destroy(eng, op) == DP_ERR_INVALID_ARGUMENT, "released twice");
  DP_EXPECT(dp_operand_destroy(eng, nullptr) == DP_OK, "NULL is ignored");
  // An engine releases the operands it still has.
  dp_engine *scratch = nullptr;
  DP_EXPECT(dp_engine_create(DP_BACKEND_CPU, 0, &scratch) == DP_OK, "%s", dp_last_error());
  dp_operand *left = nullptr;
  DP_EXPECT(dp_operand_create(scratch, v.data(), 3, &left) == DP_OK, "%s", dp_last_error());
  dp_engine_destroy(scratch);
}

// One operation with host operands and with resident ones: the same bytes.
template <class Op>
void same_bytes(const char *what, const std::vector<unsigned char> &input, Op op) {
  std::vector<unsigned char> host = input, resident = input;
  DP_EXPECT(op(host.data(), false) == DP_OK, "%s (host operands): %s", what, dp_last_error());
  DP_EXPECT(op(resident.data(), true) == DP_OK, "%s (resident operands): %s", what, dp_last_error());
  DP_EXPECT(host == resident, "%s: resident operands give other bytes than host operands", what);
  DP_EXPECT(host != input, "%s changed nothing", what);
}

std::vector<unsigned char> random_bytes(std::mt19937 &rng, int dtype, int64_t count) {
  std::uniform_real_distribution<float> unit(0.0f, 1.0f);
  std::vector<unsigned char> b(static_cast<size_t>(count) * (dtype == DP_DTYPE_UINT8 ? 1 : 4));
  if (dtype == DP_DTYPE_UINT8) {
    for (auto &v : b) v = static_cast<unsigned char>(rng() & 0xff);
  } else {
    auto *f = reinterpret_cast<float *>(b.data());
    for (int64_t i = 0; i < count; ++i) f[i] = unit(rng) * 300.0f - 20.0f;
  }
  return b;
}

void test_operations(dp_engine *eng) {
  std::mt19937 rng(11);
  std::uniform_real_distribution<float> unit(0.0f, 1.0f);
  const int64_t n = 6, c = 3, h = 9, w = 11, e = c * h * w;
  const std::vector<int64_t> subset = {4, 0, 2};
  std::vector<float> pattern(static_cast<size_t>(e)), mask(static_cast<size_t>(e)), signal(static_cast<size_t>(e));
  for (int64_t i = 0; i < e; ++i) {
    pattern[static_cast<size_t>(i)] = std::floor(unit(rng) * 255.0f);
    mask[static_cast<size_t>(i)] = unit(rng) < 0.3f ? 0.0f : unit(rng);
    signal[static_cast<size_t>(i)] = unit(rng) * 40.0f - 20.0f;
  }
  std::vector<float> grid(static_cast<size_t>(2 * h * w));
  for (int64_t y = 0; y < h; ++y)
    for (int64_t x = 0; x < w; ++x) {
      grid[static_cast<size_t>(y * w + x)] = static_cast<float>(y) + unit(rng) * 2.0f - 1.0f;
      grid[static_cast<size_t>(h * w + y * w + x)] = static_cast<float>(x) + unit(rng) * 2.0f - 1.0f;
    }
  const int64_t ph = 4, pw = 5;
  std::vector<float> patch(static_cast<size_t>(c * ph * pw)), pmask(patch.size());
  for (size_t i = 0; i < patch.size(); ++i) {
    patch[i] = std::floor(unit(rng) * 255.0f);
    pmask[i] = unit(rng) < 0.5f ? 1.0f : unit(rng);
  }
  const int64_t offsets[6] = {0, 0, 5, 6, 2, 3};
  Operand op_pattern(eng, pattern), op_mask(eng, mask), op_signal(eng, signal), op_grid(eng, grid),
      op_patch(eng, patch), op_pmask(eng, pmask);
  for (int dtype : {DP_DTYPE_UINT8, DP_DTYPE_FLOAT32})
    for (int32_t layout : {DP_LAYOUT_NHWC, DP_LAYOUT_NCHW}) {
      const std::vector<unsigned char> input = random_bytes(rng, dtype, n * e);
      const dp_tensor img = tensor(DP_DTYPE_FLOAT32, layout, 1, c, h, w, nullptr);
      const dp_tensor pimg = tensor(DP_DTYPE_FLOAT32, layout, 1, c, ph, pw, nullptr);
      auto batch = [&](unsigned char *data) { return tensor(dtype, layout, n, c, h, w, data); };
      auto host = [](dp_tensor t, std::vector<float> &v) {
        t.data = v.data();
        return t;
      };
      same_bytes("mask_blend", input, [&](unsigned char *data, bool res) {
        dp_tensor b = batch(data);
        dp_tensor p = res ? op_pattern.tensor_like(img) : host(img, pattern);
        dp_tensor m = res ? op_mask.tensor_like(img) : host(img, mask);
        return dp_mask_blend(eng, &b, &p, &m, 0.7f, subset.data(), 3);
      });
      same_bytes("mask_blend (resident mask, host pattern)", input, [&](unsigned char *data, bool res) {
        dp_tensor b = batch(data);
        dp_tensor p = host(img, pattern);
        dp_tensor m = res ? op_mask.tensor_like(img) : host(img, mask);
        return dp_mask_blend(eng, &b, &p, &m, 0.4f, nullptr, DP_ALL_SAMPLES);
      });
      same_bytes("paste", input, [&](unsigned char *data, bool res) {
        dp_tensor b = batch(data);
        dp_tensor p = res ? op_patch.tensor_like(pimg) : host(pimg, patch);
        dp_tensor m = res ? op_pmask.tensor_like(pimg) : host(pimg, pmask);
        return dp_paste(eng, &b, &p, &m, 1.0f, offsets, subset.data(), 3);
      });
      same_bytes("add_signal", input, [&](unsigned char *data, bool res) {
        dp_tensor b = batch(data);
        dp_tensor s = res ? op_signal.tensor_like(img) : host(img, signal);
        return dp_add_signal(eng, &b, &s, nullptr, DP_ALL_SAMPLES);
      });
      same_bytes("warp", input, [&](unsigned char *data, bool res) {
        dp_tensor b = batch(data);
        const dp_tensor gimg = tensor(DP_DTYPE_FLOAT32, DP_LAYOUT_NCHW, 1, 2, h, w, nullptr);
        dp_tensor g = res ? op_grid.tensor_like(gimg) : host(gimg, grid);
        return dp_warp(eng, &b, &g, subset.data(), 3);
      });
    }

  // Tabular columns.
  std::vector<float> values = {2.5f, -7.0f, 1e3f};
  const int64_t cols[3] = {6, 0, 3};
  Operand op_values(eng, values);
  for (int32_t shift : {0, 1})
    same_bytes("set_columns", random_bytes(rng, DP_DTYPE_FLOAT32, 5 * 7), [&](unsigned char *data, bool res) {
      dp_tensor b = tensor(DP_DTYPE_FLOAT32, DP_LAYOUT_NHWC, 5, 1, 1, 7, data);
      return res ? dp_set_columns_op(eng, &b, cols, op_values.op, shift, subset.data(), 3)
                 : dp_set_columns(eng, &b, cols, values.data(), 3, shift, subset.data(), 3);
    });
}

// Scoring with a resident head: the same bits as with the head in host memory, also when one weight
// operand is read as heads of different shapes (its cached norms follow the class count).
void test_score(dp_engine *eng) {
  std::mt19937 rng(5);
  std::normal_distribution<float> normal(0.0f, 1.0f);
  std::vector<float> weight(12), bias3(3), bias4(4), bias2(2);
  for (auto *v : {&weight, &bias3, &bias4, &bias2})
    for (auto &x : *v) x = normal(rng);
  Operand w(eng, weight), b3(eng, bias3), b4(eng, bias4), b2(eng, bias2);
  struct Case {
    int64_t classes;
    const std::vector<float> *bias;
    dp_operand *bias_op;
  } cases[] = {{3, &bias3, b3.op}, {4, &bias4, b4.op}, {3, &bias3, b3.op}, {2, &bias2, b2.op}};
  for (const Case &k : cases) {
    const int64_t d = 12 / k.classes, n = 9;
    std::vector<float> x(static_cast<size_t>(n * d));
    for (auto &v : x) v = normal(rng);
    dp_tensor f = tensor(DP_DTYPE_FLOAT32, DP_LAYOUT_NHWC, n, 1, 1, d, x.data());
    std::vector<int32_t> pred[2], run[2];
    std::vector<float> margin[2], dist[2], tdist[2];
    for (int r = 0; r < 2; ++r) {
      pred[r].resize(n);
      run[r].resize(n);
      margin[r].resize(n);
      dist[r].resize(n);
      tdist[r].resize(n);
    }
    const int64_t target = k.classes - 1;
    DP_EXPECT(dp_score_boundary(eng, &f, weight.data(), k.bias->data(), k.classes, target, pred[0].data(),
                                run[0].data(), margin[0].data(), dist[0].data(), tdist[0].data()) == DP_OK,
              "%s", dp_last_error());
    DP_EXPECT(dp_score_boundary_op(eng, &f, w.op, k.bias_op, k.classes, target, pred[1].data(), run[1].data(),
                                   margin[1].data(), dist[1].data(), tdist[1].data()) == DP_OK,
              "%s", dp_last_error());
    DP_EXPECT(pred[0] == pred[1] && run[0] == run[1] &&
                  std::memcmp(margin[0].data(), margin[1].data(), n * 4) == 0 &&
                  std::memcmp(dist[0].data(), dist[1].data(), n * 4) == 0 &&
                  std::memcmp(tdist[0].data(), tdist[1].data(), n * 4) == 0,
              "resident head, C=%lld: other results than the host head", static_cast<long long>(k.classes));
  }
  // Shapes that do not fit, and operands that are not this engine's.
  std::vector<float> x(8, 0.5f);
  dp_tensor f = tensor(DP_DTYPE_FLOAT32, DP_LAYOUT_NHWC, 2, 1, 1, 4, x.data());
  int32_t p[2], r[2];
  float m[2], dd[2];
  DP_EXPECT(dp_score_boundary_op(eng, &f, w.op, b4.op, 4, -1, p, r, m, dd, nullptr) == DP_ERR_INVALID_ARGUMENT,
            "12 weights for 4 x 4");
  DP_EXPECT(contains(dp_last_error(), "weight is an operand of 12 values"), "%s", dp_last_error());
  DP_EXPECT(dp_score_boundary_op(eng, &f, w.op, b4.op, 3, -1, p, r, m, dd, nullptr) == DP_ERR_INVALID_ARGUMENT,
            "4 biases for 3 classes");
  DP_EXPECT(contains(dp_last_error(), "bias is an operand of 4 values"), "%s", dp_last_error());
  DP_EXPECT(dp_score_boundary_op(eng, &f, nullptr, b3.op, 3, -1, p, r, m, dd, nullptr) == DP_ERR_INVALID_ARGUMENT,
            "null weight");
  DP_EXPECT(dp_score_boundary_op(eng, &f, reinterpret_cast<const dp_operand *>(x.data()), b3.op, 3, -1, p, r, m, dd,
                                 nullptr) == DP_ERR_INVALID_ARGUMENT,
            "a pointer that is no operand");
  DP_EXPECT(contains(dp_last_error(), "not a live operand"), "%s", dp_last_error());
}

// Checks at each use: range, geometry, dtype, ownership, and never the batch.
void test_rejections(dp_engine *eng, dp_engine *other) {
  const int64_t n = 2, c = 1, h = 2, w = 3, e = c * h * w;
  std::vector<uint8_t> data(static_cast<size_t>(n * e), 100);
  const std::vector<uint8_t> before = data;
  dp_tensor b = tensor(DP_DTYPE_UINT8, DP_LAYOUT_NHWC, n, c, h, w, data.data());
  const dp_tensor img = tensor(DP_DTYPE_FLOAT32, DP_LAYOUT_NHWC, 1, c, h, w, nullptr);
  Operand wide(eng, {0.0f, 10.0f, 300.0f, 1.0f, 2.0f, 3.0f});  // a pattern for float32 data only
  Operand half(eng, {0.5f, 0.5f, 0.5f, 0.5f, 0.5f, 0.5f});
  Operand big_mask(eng, {0.5f, 0.5f, 0.5f, 0.5f, 1.5f, 0.5f});
  Operand five(eng, {1.0f, 2.0f, 3.0f, 4.0f, 5.0f});
  Operand foreign(other, {0.5f, 0.5f, 0.5f, 0.5f, 0.5f, 0.5f});
  dp_tensor p = wide.tensor_like(img), m = half.tensor_like(img);
  DP_EXPECT(dp_mask_blend(eng, &b, &p, &m, 0.5f, nullptr, DP_ALL_SAMPLES) == DP_ERR_INVALID_ARGUMENT, "300 on uint8");
  DP_EXPECT(contains(dp_last_error(), "pattern[2] = 300") && contains(dp_last_error(), "[0, 255]"), "%s",
            dp_last_error());
  m = big_mask.tensor_like(img);
  p = half.tensor_like(img);
  DP_EXPECT(dp_mask_blend(eng, &b, &p, &m, 0.5f, nullptr, DP_ALL_SAMPLES) == DP_ERR_INVALID_ARGUMENT, "mask 1.5");
  DP_EXPECT(contains(dp_last_error(), "mask[4] = 1.5"), "%s", dp_last_error());
  m = five.tensor_like(img);
  DP_EXPECT(dp_mask_blend(eng, &b, &p, &m, 0.5f, nullptr, DP_ALL_SAMPLES) == DP_ERR_INVALID_ARGUMENT, "5 for 6");
  DP_EXPECT(contains(dp_last_error(), "mask is an operand of 5 values"), "%s", dp_last_error());
  m = foreign.tensor_like(img);
  DP_EXPECT(dp_mask_blend(eng, &b, &p, &m, 0.5f, nullptr, DP_ALL_SAMPLES) == DP_ERR_INVALID_ARGUMENT, "foreign");
  DP_EXPECT(contains(dp_last_error(), "mask.data is not a live operand of this engine"), "%s", dp_last_error());
  m = half.tensor_like(img);
  m.dtype = DP_DTYPE_UINT8;
  DP_EXPECT(dp_mask_blend(eng, &b, &p, &m, 0.5f, nullptr, DP_ALL_SAMPLES) == DP_ERR_INVALID_ARGUMENT, "uint8 operand");
  m = half.tensor_like(img);
  m.data = nullptr;
  DP_EXPECT(dp_mask_blend(eng, &b, &p, &m, 0.5f, nullptr, DP_ALL_SAMPLES) == DP_ERR_INVALID_ARGUMENT, "null operand");
  m = half.tensor_like(img);
  dp_tensor as_batch = half.tensor_like(b);
  as_batch.dtype = DP_DTYPE_FLOAT32;
  as_batch.n = 1;
  DP_EXPECT(dp_mask_blend(eng, &as_batch, &p, &m, 0.5f, nullptr, DP_ALL_SAMPLES) == DP_ERR_INVALID_ARGUMENT,
            "operand as batch");
  DP_EXPECT(contains(dp_last_error(), "batch cannot be a resident operand"), "%s", dp_last_error());
  dp_tensor unknown = m;
  unknown.memory = 3;
  DP_EXPECT(dp_mask_blend(eng, &b, &p, &unknown, 0.5f, nullptr, DP_ALL_SAMPLES) == DP_ERR_INVALID_ARGUMENT, "memory 3");
  DP_EXPECT(contains(dp_last_error(), "unknown memory kind"), "%s", dp_last_error());
  // A released operand is refused like any other unknown handle.
  dp_operand *gone = nullptr;
  const std::vector<float> halves(6, 0.5f);
  DP_EXPECT(dp_operand_create(eng, halves.data(), 6, &gone) == DP_OK, "%s", dp_last_error());
  DP_EXPECT(dp_operand_destroy(eng, gone) == DP_OK, "%s", dp_last_error());
  m.data = gone;
  DP_EXPECT(dp_mask_blend(eng, &b, &p, &m, 0.5f, nullptr, DP_ALL_SAMPLES) == DP_ERR_INVALID_ARGUMENT, "released");
  DP_EXPECT(data == before, "a rejected call wrote into the batch");
  // The same wide pattern is fine for float32 data, whose patterns are not limited to [0, 255].
  std::vector<float> f32(static_cast<size_t>(n * e), 1.0f);
  dp_tensor bf = tensor(DP_DTYPE_FLOAT32, DP_LAYOUT_NHWC, n, c, h, w, f32.data());
  p = wide.tensor_like(img);
  m = half.tensor_like(img);
  DP_EXPECT(dp_mask_blend(eng, &bf, &p, &m, 1.0f, nullptr, DP_ALL_SAMPLES) == DP_OK, "%s", dp_last_error());
  DP_EXPECT(f32[2] == 150.5f, "blend with a resident pattern: %g", f32[2]);
  // set_columns_op: k is the operand's count, checked against the row width.
  std::vector<float> rows(2 * 4, 0.0f);
  dp_tensor rt = tensor(DP_DTYPE_FLOAT32, DP_LAYOUT_NHWC, 2, 1, 1, 4, rows.data());
  const int64_t cols[6] = {0, 1, 2, 3, 0, 1};
  DP_EXPECT(dp_set_columns_op(eng, &rt, cols, wide.op, 0, nullptr, DP_ALL_SAMPLES) == DP_ERR_INVALID_ARGUMENT,
            "6 values for 4 columns");
  DP_EXPECT(contains(dp_last_error(), "k must be in [1, 4]"), "%s", dp_last_error());
  DP_EXPECT(dp_set_columns_op(eng, &rt, cols, nullptr, 0, nullptr, DP_ALL_SAMPLES) == DP_ERR_INVALID_ARGUMENT, "null");
}

void test_streams(dp_engine *eng) {
  int fake_stream = 0;
  DP_EXPECT(dp_engine_set_stream(eng, &fake_stream) == DP_ERR_UNSUPPORTED, "a stream on a CPU engine");
  DP_EXPECT(contains(dp_last_error(), "CPU") && contains(dp_last_error(), "CUDA engine"), "%s", dp_last_error());
  DP_EXPECT(dp_engine_set_stream(eng, nullptr) == DP_OK, "NULL on a CPU engine: %s", dp_last_error());
  DP_EXPECT(dp_engine_set_stream(nullptr, nullptr) == DP_ERR_INVALID_ARGUMENT, "null engine");
  DP_EXPECT(dp_abi_revision() == DP_ABI_REVISION && DP_ABI_REVISION >= 1, "revision %d", dp_abi_revision());
}

}  // namespace

int main() {
  dp_engine *eng = nullptr, *other = nullptr;
  if (dp_engine_create(DP_BACKEND_CPU, 0, &eng) != DP_OK || dp_engine_create(DP_BACKEND_CPU, 0, &other) != DP_OK) {
    std::fprintf(stderr, "operand_test: cannot create CPU engines: %s\n", dp_last_error());
    return 1;
  }
  test_create_destroy(eng, other);
  test_operations(eng);
  test_score(eng);
  test_rejections(eng, other);
  test_streams(eng);
  dp_engine_destroy(eng);
  dp_engine_destroy(other);
  return finish("operand_test");
}
