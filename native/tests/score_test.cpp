// Decision-boundary scoring (dp_score_boundary, dp_score_boundary_op) against the order the CUDA
// kernels use, bit for bit: a plain statement written here from kernels/src/score.cu and
// docs/numerics.md, one sample and one logit at a time, with no blocking, packing, vectors or threads:
// each logit is 32 partial sums (lane l: fmaf over elements l, l+32, ... in increasing order, from 0),
// joined by the warp's shuffle tree (s = 16, 8, 4, 2, 1: lane l adds lane l+s), plus the bias; then the
// epilogue's rules (first largest logit, first largest of the others, the margin, the least distance to
// a boundary in class order, the target's distance). Run under the variant DYEPACK_CPU names (ctest runs
// it once per variant), on 1 and 3 threads, on ragged shapes: class counts around the wide kernel's
// 16-class panels and its threshold, feature counts around the 32 lanes, sample counts that are not a
// multiple of its 6-sample tiles or its 144-sample blocks; heads with tied classes (equal logits, zero
// norms) and samples whose logits overflow to infinities and NaN.
#include <algorithm>
#include <cstring>

#include "test_util.h"

using namespace dptest;

namespace {

float ref_logit(const float *x, const float *w, int64_t d, float bias) {
  float lane[32];
  for (int l = 0; l < 32; ++l) {
    float acc = 0.0f;
    for (int64_t e = l; e < d; e += 32) acc = std::fmaf(x[e], w[e], acc);
    lane[l] = acc;
  }
  for (int s = 16; s >= 1; s /= 2)
    for (int l = 0; l < s; ++l) lane[l] = lane[l] + lane[l + s];
  return lane[0] + bias;
}

// ||w_i - w_j||: the differences and squares in double, summed in four interleaved sums (element e to sum
// e mod 4) joined as (s0 + s1) + (s2 + s3), the square root in double, rounded to float once
// (docs/numerics.md: the norms are the same bits on every backend).
float ref_norm(const float *wi, const float *wj, int64_t d) {
  double s[4] = {0.0, 0.0, 0.0, 0.0};
  for (int64_t e = 0; e < d; ++e) {
    const double diff = static_cast<double>(wi[e]) - static_cast<double>(wj[e]);
    s[e % 4] += diff * diff;
  }
  return static_cast<float>(std::sqrt((s[0] + s[1]) + (s[2] + s[3])));
}

float ref_distance(float diff, float norm) {
  if (norm > 0.0f) return diff / norm;
  return diff > 0.0f ? INFINITY : 0.0f;
}

struct Scores {
  std::vector<int32_t> pred, run;
  std::vector<float> margin, dist, tdist;
  explicit Scores(int64_t n)
      : pred(static_cast<size_t>(n), -7), run(static_cast<size_t>(n), -7), margin(static_cast<size_t>(n), -7.0f),
        dist(static_cast<size_t>(n), -7.0f), tdist(static_cast<size_t>(n), -7.0f) {}
};

Scores reference(const std::vector<float> &x, const std::vector<float> &w, const std::vector<float> &b, int64_t n,
                 int64_t d, int64_t classes, int64_t target) {
  Scores out(n);
  std::vector<float> z(static_cast<size_t>(classes));
  for (int64_t i = 0; i < n; ++i) {
    for (int64_t c = 0; c < classes; ++c)
      z[static_cast<size_t>(c)] = ref_logit(x.data() + i * d, w.data() + c * d, d, b[static_cast<size_t>(c)]);
    int64_t y = 0;
    for (int64_t c = 1; c < classes; ++c)
      if (z[static_cast<size_t>(c)] > z[static_cast<size_t>(y)]) y = c;
    int64_t r = y == 0 ? 1 : 0;
    for (int64_t c = r + 1; c < classes; ++c)
      if (c != y && z[static_cast<size_t>(c)] > z[static_cast<size_t>(r)]) r = c;
    const float zy = z[static_cast<size_t>(y)];
    float best = INFINITY;
    for (int64_t j = 0; j < classes; ++j) {
      if (j == y) continue;
      const float dj = ref_distance(zy - z[static_cast<size_t>(j)], ref_norm(w.data() + y * d, w.data() + j * d, d));
      if (dj < best) best = dj;
    }
    const size_t k = static_cast<size_t>(i);
    out.pred[k] = static_cast<int32_t>(y);
    out.run[k] = static_cast<int32_t>(r);
    out.margin[k] = zy - z[static_cast<size_t>(r)];
    out.dist[k] = best;
    out.tdist[k] = target == y ? 0.0f
                               : ref_distance(zy - z[static_cast<size_t>(target)],
                                              ref_norm(w.data() + y * d, w.data() + target * d, d));
  }
  return out;
}

// The first sample where two score sets differ, or -1.
int64_t first_difference(const Scores &a, const Scores &b, int64_t n) {
  for (int64_t i = 0; i < n; ++i) {
    const size_t k = static_cast<size_t>(i);
    if (a.pred[k] != b.pred[k] || a.run[k] != b.run[k] || std::memcmp(&a.margin[k], &b.margin[k], 4) != 0 ||
        std::memcmp(&a.dist[k], &b.dist[k], 4) != 0 || std::memcmp(&a.tdist[k], &b.tdist[k], 4) != 0)
      return i;
  }
  return -1;
}

void expect_same(const Scores &got, const Scores &want, int64_t n, const char *how, int64_t d, int64_t classes,
                 int threads) {
  const int64_t i = first_difference(got, want, n);
  if (i < 0) {
    DP_EXPECT(true, "-");
    return;
  }
  const size_t k = static_cast<size_t>(i);
  DP_EXPECT(i < 0,
            "%s n=%lld d=%lld C=%lld threads=%d: sample %lld: predicted %d/%d, runner-up %d/%d, margin %.9g/%.9g, "
            "distance %.9g/%.9g, target distance %.9g/%.9g (engine/rule)",
            how, static_cast<long long>(n), static_cast<long long>(d), static_cast<long long>(classes), threads,
            static_cast<long long>(i), got.pred[k], want.pred[k], got.run[k], want.run[k], got.margin[k],
            want.margin[k], got.dist[k], want.dist[k], got.tdist[k], want.tdist[k]);
}

// Random normal features and head; with `ties`, some classes copy another's weights and bias (equal
// logits, zero norms: the epilogue's ties and its rule for identical rows), and one sample carries huge
// values, so that its logits overflow (infinities, and NaN where they meet).
void check(dp_engine *eng, std::mt19937 &rng, int64_t n, int64_t d, int64_t classes, bool ties) {
  std::normal_distribution<float> normal(0.0f, 1.0f);
  std::vector<float> x(static_cast<size_t>(n * d)), w(static_cast<size_t>(classes * d)), b(static_cast<size_t>(classes));
  for (auto &v : x) v = normal(rng);
  for (auto &v : w) v = 0.1f * normal(rng);
  for (auto &v : b) v = normal(rng);
  if (ties) {
    for (int64_t c = 1; c < classes; c += 5) {
      const int64_t from = static_cast<int64_t>(rng() % static_cast<uint32_t>(c));
      std::copy(w.begin() + from * d, w.begin() + (from + 1) * d, w.begin() + c * d);
      b[static_cast<size_t>(c)] = b[static_cast<size_t>(from)];
    }
    if (n > 1) {
      float *huge = x.data() + (n / 2) * d;
      for (int64_t e = 0; e < d; ++e) huge[e] = (e % 3 == 0 ? 3e38f : -3e38f);
    }
  }
  const int64_t target = static_cast<int64_t>(rng() % static_cast<uint32_t>(classes));
  const Scores want = reference(x, w, b, n, d, classes, target);
  dp_tensor t = tensor(DP_DTYPE_FLOAT32, DP_LAYOUT_NHWC, n, 1, 1, d, x.data());
  dp_operand *wo = nullptr, *bo = nullptr;
  DP_EXPECT(dp_operand_create(eng, w.data(), classes * d, &wo) == DP_OK && dp_operand_create(eng, b.data(), classes, &bo) == DP_OK,
            "%s", dp_last_error());
  for (int threads : {1, 3}) {
    DP_EXPECT(dp_engine_set_threads(eng, threads) == DP_OK, "%s", dp_last_error());
    Scores got(n);
    DP_EXPECT(dp_score_boundary(eng, &t, w.data(), b.data(), classes, target, got.pred.data(), got.run.data(),
                                got.margin.data(), got.dist.data(), got.tdist.data()) == DP_OK,
              "score: %s", dp_last_error());
    expect_same(got, want, n, "dp_score_boundary", d, classes, threads);
    // A resident head, twice: the first call lays the head out, the second uses what the first kept.
    for (int call = 0; call < 2; ++call) {
      Scores op(n);
      DP_EXPECT(dp_score_boundary_op(eng, &t, wo, bo, classes, target, op.pred.data(), op.run.data(), op.margin.data(),
                                     op.dist.data(), op.tdist.data()) == DP_OK,
                "score_op: %s", dp_last_error());
      expect_same(op, want, n, call == 0 ? "dp_score_boundary_op (first call)" : "dp_score_boundary_op (kept head)", d,
                  classes, threads);
    }
  }
  // Without a target the target distances are NaN and the rest is unchanged.
  Scores plain(n);
  DP_EXPECT(dp_score_boundary(eng, &t, w.data(), b.data(), classes, -1, plain.pred.data(), plain.run.data(),
                              plain.margin.data(), plain.dist.data(), nullptr) == DP_OK,
            "score without target: %s", dp_last_error());
  plain.tdist = want.tdist;
  expect_same(plain, want, n, "dp_score_boundary without target", d, classes, 3);
  dp_operand_destroy(eng, wo);
  dp_operand_destroy(eng, bo);
}

// A non-finite feature anywhere (the check runs inside the scoring pass on a CPU engine, 8 values a
// step with a scalar tail) is refused with the outputs untouched.
void check_nonfinite(dp_engine *eng, std::mt19937 &rng, int64_t n, int64_t d, int64_t classes) {
  std::normal_distribution<float> normal(0.0f, 1.0f);
  std::vector<float> w(static_cast<size_t>(classes * d)), b(static_cast<size_t>(classes));
  for (auto &v : w) v = 0.1f * normal(rng);
  for (auto &v : b) v = normal(rng);
  const float bad_values[3] = {NAN, INFINITY, -INFINITY};
  for (int64_t at : {int64_t{0}, n * d / 2 + 3, n * d - 1}) {
    std::vector<float> x(static_cast<size_t>(n * d));
    for (auto &v : x) v = normal(rng);
    x[static_cast<size_t>(at)] = bad_values[at % 3];
    dp_tensor t = tensor(DP_DTYPE_FLOAT32, DP_LAYOUT_NHWC, n, 1, 1, d, x.data());
    Scores got(n);
    const Scores untouched(n);
    DP_EXPECT(dp_score_boundary(eng, &t, w.data(), b.data(), classes, -1, got.pred.data(), got.run.data(),
                                got.margin.data(), got.dist.data(), nullptr) == DP_ERR_INVALID_ARGUMENT,
              "n=%lld d=%lld C=%lld: a non-finite feature at %lld was accepted", static_cast<long long>(n),
              static_cast<long long>(d), static_cast<long long>(classes), static_cast<long long>(at));
    DP_EXPECT(std::strstr(dp_last_error(), "is not finite") != nullptr, "message: %s", dp_last_error());
    DP_EXPECT(first_difference(got, untouched, n) < 0, "outputs written on a refused call (value at %lld)",
              static_cast<long long>(at));
  }
}

}  // namespace

int main() {
  dp_engine *eng = nullptr;
  const int32_t st = dp_engine_create(DP_BACKEND_CPU, 0, &eng);
  if (st == DP_ERR_UNSUPPORTED) {  // DYEPACK_CPU names a variant this processor cannot run
    std::printf("score: skipped: %s\n", dp_last_error());
    return 77;
  }
  if (st != DP_OK) {
    std::fprintf(stderr, "score: cannot create a CPU engine: %s\n", dp_last_error());
    return 1;
  }
  std::mt19937 rng(29);
  // C = 2 is the least the engine scores (one class has no boundary); 15, 16 and 17 straddle the wide
  // kernel's threshold and the avx2 variant's 16-class panels, 31, 32 and 33 the avx512 variant's
  // 32-class ones.
  for (int64_t classes : {2, 15, 16, 17, 31, 32, 33})
    for (int64_t d : {1, 31, 32, 33, 2048})
      for (bool ties : {false, true}) check(eng, rng, 13, d, classes, ties);
  // Blocks of 144 samples and tiles of 6 (avx512: 12) with remainders, split over 3 threads at uneven
  // points; fewer samples than a tile.
  check(eng, rng, 301, 33, 17, true);
  check(eng, rng, 151, 65, 40, false);
  check(eng, rng, 157, 47, 70, true);
  check(eng, rng, 11, 70, 33, false);
  // The wide head of the benchmark, few samples (the rule is slow), and odd feature counts.
  check(eng, rng, 7, 2048, 1000, false);
  check(eng, rng, 8, 31, 1000, true);
  check(eng, rng, 5, 33, 1000, true);
  check(eng, rng, 3, 1, 1000, false);
  check_nonfinite(eng, rng, 29, 33, 17);
  check_nonfinite(eng, rng, 9, 2048, 40);
  check_nonfinite(eng, rng, 5, 7, 3);
  dp_engine_destroy(eng);
  return finish("score");
}
