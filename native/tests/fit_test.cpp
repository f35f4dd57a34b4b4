// The surrogate fit (dp_fit_linear) against the rule it promises, bit for bit: a plain statement of
// mini-batch softmax regression written here from docs/numerics.md, one sample and one element at a
// time, with no blocking, vectors or threads. Run under the variant DYEPACK_CPU names (ctest runs it
// once per variant), on 1, 2, 3 and 8 threads (8: more than a small machine has cores, so members
// sleep at the team's barrier), on shapes around the vector steps (8 and 16 columns, 32 lanes), class
// counts around the kernels' blocks, and batches that do not divide the sample count.
#include <algorithm>
#include <cfloat>
#include <cmath>
#include <cstdlib>
#include <cstring>
#include <numeric>

#include "dyepack_math/fit.h"
#include "test_util.h"

using namespace dptest;

namespace {

// The logit's summation order (docs/numerics.md, "Scoring"): 32 partial sums, lane l adding
// fmaf(x[e], w[e], acc[l]) for e = l, l+32, ... in increasing e, then the tree s = 16, 8, 4, 2, 1.
float ref_dot(const float *x, const float *w, int64_t d) {
  float acc[32] = {};
  for (int64_t e = 0; e < d; ++e) acc[e % 32] = std::fmaf(x[e], w[e], acc[e % 32]);
  for (int s = 16; s >= 1; s /= 2)
    for (int l = 0; l < s; ++l) acc[l] = acc[l] + acc[l + s];
  return acc[0];
}

// e^x as docs/numerics.md states it for the fit, written out again here: 0 or +inf outside
// [-103.97208, 88.72283], k = x * log2(e) rounded to nearest by 1.5 * 2^23, r by Cody and Waite, the Taylor
// polynomial of degree 7 in Horner form, then 2^k, in two steps where 2^k is not a normal float.
float ref_exp(float x) {
  if (std::isnan(x)) return x;
  if (x > 88.72283f) return INFINITY;
  if (x < -103.97208f) return 0.0f;
  const float k = (x * 1.44269502f + 12582912.0f) - 12582912.0f;
  const float r = (x - k * 0.693145751953125f) - k * 1.42860677e-6f;
  const float c[8] = {1.0f, 1.0f, 0.5f, 1.0f / 6.0f, 1.0f / 24.0f, 1.0f / 120.0f, 1.0f / 720.0f, 1.0f / 5040.0f};
  float p = c[7];
  for (int i = 6; i >= 0; --i) p = c[i] + r * p;
  const int ki = static_cast<int>(k);
  if (ki > 127) return p * std::ldexp(1.0f, ki - 1) * 2.0f;
  if (ki < -126) return p * std::ldexp(1.0f, ki + 64) * std::ldexp(1.0f, -64);
  return p * std::ldexp(1.0f, ki);
}

uint32_t bits_of(float v) {
  uint32_t u;
  std::memcpy(&u, &v, sizeof u);
  return u;
}

// The engine's e^x (dyepack_math's exp_f32, which the CPU and CUDA fits share) against the statement above,
// bit for bit, and against e^x in double precision: within 2 ulp of the float nearest e^x where that is a
// normal float, within 2 steps of the smallest subnormal below, and exact at the special values.
void check_exp() {
  std::vector<float> xs;
  for (int i = -110 * 256; i <= 90 * 256; ++i) xs.push_back(static_cast<float>(i) / 256.0f);
  std::mt19937 rng(5);
  std::uniform_real_distribution<float> any(-105.0f, 90.0f), near0(-1.0f, 1.0f);
  for (int i = 0; i < 200000; ++i) xs.push_back(i % 2 ? any(rng) : near0(rng) * 1e-3f);
  for (float v : {0.0f, -0.0f, 1e-30f, -1e-30f, 88.72283f, 88.72284f, 88.7f, -87.33655f, -87.4f, -103.97208f,
                  -103.97209f, -103.9f, std::nextafter(88.72283f, 0.0f), std::nextafter(-103.97208f, 0.0f)})
    xs.push_back(v);
  double worst = 0.0;
  for (float x : xs) {
    const float got = dp::math::exp_f32(x), want = ref_exp(x);
    DP_EXPECT(bits_of(got) == bits_of(want), "exp_f32(%.9g) = %.9g, the statement gives %.9g", x, got, want);
    const double truth = std::exp(static_cast<double>(x));
    if (truth >= static_cast<double>(FLT_MIN) && truth <= static_cast<double>(FLT_MAX)) {
      const double ulp = std::ldexp(1.0, std::ilogb(truth) - 23);
      const double err = std::fabs(static_cast<double>(got) - truth) / ulp;
      worst = std::max(worst, err);
      DP_EXPECT(err <= 2.0, "exp_f32(%.9g) = %.9g is %.2f ulp from %.17g", x, got, err, truth);
    } else if (truth < static_cast<double>(FLT_MIN)) {
      DP_EXPECT(std::fabs(static_cast<double>(got) - truth) <= 2.0 * std::ldexp(1.0, -149),
                "exp_f32(%.9g) = %.9g, e^x = %.17g", x, got, truth);
    }
  }
  std::printf("exp_f32: %zu arguments, worst error %.3f ulp\n", xs.size(), worst);
  DP_EXPECT(dp::math::exp_f32(0.0f) == 1.0f && dp::math::exp_f32(-0.0f) == 1.0f, "e^0 is not 1");
  DP_EXPECT(dp::math::exp_f32(-INFINITY) == 0.0f && dp::math::exp_f32(INFINITY) == INFINITY, "e^-inf, e^inf");
  DP_EXPECT(std::isnan(dp::math::exp_f32(NAN)), "e^NaN is not NaN");
  DP_EXPECT(dp::math::exp_f32(100.0f) == INFINITY && dp::math::exp_f32(-200.0f) == 0.0f, "overflow, underflow");
}

// One epoch after another, batches of `batch` samples in the epoch's order: the softmax gradient of
// every sample of the batch with the weights before the batch, then for each class row and element,
// w - (scale * g_k) * x_k for the batch's samples k in order (each product and difference rounded),
// then w - decay * w; the bias takes scale * (the sum of g_k in order). scale = rate / (1 + epoch) / m,
// decay = rate / (1 + epoch) * l2. With skip_zero, samples whose gradient for the class is exactly 0 are
// left out of that class's row (the rule's earlier statement; the weights are never -0, so the same bits).
void ref_fit(const std::vector<float> &x, int64_t n, int64_t d, const std::vector<int32_t> &labels, int64_t classes,
             const std::vector<int64_t> &order, int epochs, int batch, float rate, float l2, bool skip_zero,
             std::vector<float> &w, std::vector<float> &b) {
  w.assign(static_cast<size_t>(classes * d), 0.0f);
  b.assign(static_cast<size_t>(classes), 0.0f);
  std::vector<float> g(static_cast<size_t>(batch * classes));
  for (int epoch = 0; epoch < epochs; ++epoch) {
    const float step = rate / static_cast<float>(1 + epoch);
    const int64_t *perm = order.data() + epoch * n;
    for (int64_t start = 0; start < n; start += batch) {
      const int64_t m = std::min<int64_t>(batch, n - start);
      for (int64_t k = 0; k < m; ++k) {
        const float *xi = x.data() + perm[start + k] * d;
        float *gk = g.data() + k * classes;
        float zmax = -INFINITY;
        for (int64_t c = 0; c < classes; ++c) {
          gk[c] = ref_dot(xi, w.data() + c * d, d) + b[static_cast<size_t>(c)];
          if (gk[c] > zmax) zmax = gk[c];
        }
        float sum = 0.0f;
        for (int64_t c = 0; c < classes; ++c) {
          gk[c] = ref_exp(gk[c] - zmax);
          sum += gk[c];
        }
        for (int64_t c = 0; c < classes; ++c) gk[c] /= sum;
        gk[labels[static_cast<size_t>(perm[start + k])]] -= 1.0f;
      }
      const float scale = step / static_cast<float>(m), decay = step * l2;
      for (int64_t c = 0; c < classes; ++c) {
        float gb = 0.0f;
        for (int64_t k = 0; k < m; ++k) gb += g[static_cast<size_t>(k * classes + c)];
        for (int64_t e = 0; e < d; ++e) {
          float v = w[static_cast<size_t>(c * d + e)];
          for (int64_t k = 0; k < m; ++k) {
            const float gk = g[static_cast<size_t>(k * classes + c)];
            if (skip_zero && gk == 0.0f) continue;
            const float f = scale * gk;
            v = v - f * x[static_cast<size_t>(perm[start + k] * d + e)];
          }
          w[static_cast<size_t>(c * d + e)] = v - decay * v;
        }
        b[static_cast<size_t>(c)] -= scale * gb;
      }
    }
  }
}

void check(dp_engine *eng, std::mt19937 &rng, int64_t n, int64_t d, int64_t classes, int batch, float spread,
           float rate) {
  const int epochs = 2;
  FitProblem p = fit_problem(rng, n, d, classes, epochs, spread);
  std::vector<float> &x = p.x;
  const std::vector<int32_t> &labels = p.labels;
  const std::vector<int64_t> &order = p.order;
  const float l2 = 1e-3f;
  std::vector<float> rw, rb, sw, sb;
  ref_fit(x, n, d, labels, classes, order, epochs, batch, rate, l2, false, rw, rb);
  ref_fit(x, n, d, labels, classes, order, epochs, batch, rate, l2, true, sw, sb);
  DP_EXPECT(rw == sw && rb == sb, "n=%lld d=%lld C=%lld: skipping zero gradients changed the reference",
            static_cast<long long>(n), static_cast<long long>(d), static_cast<long long>(classes));
  dp_tensor t = tensor(DP_DTYPE_FLOAT32, DP_LAYOUT_NHWC, n, 1, 1, d, x.data());
  // Each thread count with the fit's own choice between the team and one thread (measured per segment of
  // steps), and with the two by turns (DYEPACK_FIT_TEAM=alternate), so that fits longer than a segment move
  // between them mid-epoch.
  for (int threads : {1, 2, 3, 8})
    for (const char *schedule : {"", "alternate"}) {
      if (*schedule) setenv("DYEPACK_FIT_TEAM", schedule, 1);
      else unsetenv("DYEPACK_FIT_TEAM");
      DP_EXPECT(dp_engine_set_threads(eng, threads) == DP_OK, "%s", dp_last_error());
      std::vector<float> w(rw.size(), 1.0f), b(rb.size(), 1.0f);
      DP_EXPECT(dp_fit_linear(eng, &t, labels.data(), classes, order.data(), epochs, batch, rate, l2, w.data(),
                              b.data()) == DP_OK,
                "fit: %s", dp_last_error());
      DP_EXPECT(std::memcmp(w.data(), rw.data(), w.size() * 4) == 0 &&
                    std::memcmp(b.data(), rb.data(), b.size() * 4) == 0,
                "n=%lld d=%lld C=%lld batch=%d threads=%d schedule=%s: the fit differs from the rule",
                static_cast<long long>(n), static_cast<long long>(d), static_cast<long long>(classes), batch, threads,
                *schedule ? schedule : "measured");
    }
  unsetenv("DYEPACK_FIT_TEAM");
  // The same fit on the rows at a plain pointer (dp_fit_linear_rows, the JVM's path for a Java array).
  std::vector<float> w(rw.size(), 1.0f), b(rb.size(), 1.0f);
  DP_EXPECT(dp_fit_linear_rows(eng, x.data(), n, d, labels.data(), classes, order.data(), epochs, batch, rate, l2,
                               w.data(), b.data()) == DP_OK,
            "fit rows: %s", dp_last_error());
  DP_EXPECT(std::memcmp(w.data(), rw.data(), w.size() * 4) == 0 && std::memcmp(b.data(), rb.data(), b.size() * 4) == 0,
            "n=%lld d=%lld C=%lld batch=%d: dp_fit_linear_rows differs from the rule", static_cast<long long>(n),
            static_cast<long long>(d), static_cast<long long>(classes), batch);
}

}  // namespace

int main() {
  dp_engine *eng = nullptr;
  const int32_t st = dp_engine_create(DP_BACKEND_CPU, 0, &eng);
  if (st == DP_ERR_UNSUPPORTED) {  // DYEPACK_CPU names a variant this processor cannot run
    std::printf("fit: skipped: %s\n", dp_last_error());
    return 77;
  }
  if (st != DP_OK) {
    std::fprintf(stderr, "fit: cannot create a CPU engine: %s\n", dp_last_error());
    return 1;
  }
  check_exp();
  std::mt19937 rng(11);
  for (int64_t d : {1, 7, 8, 9, 15, 16, 17, 31, 32, 33, 48, 100})
    for (int64_t classes : {2, 3, 4, 5, 7, 10})
      check(eng, rng, 37, d, classes, 8, 1.0f, 0.5f);
  // Batches of 1, of the sample count, and larger than it; many classes; Fashion-MNIST's row size.
  check(eng, rng, 23, 33, 10, 1, 1.0f, 0.5f);
  check(eng, rng, 23, 33, 10, 23, 1.0f, 0.5f);
  check(eng, rng, 23, 33, 10, 64, 1.0f, 0.5f);
  check(eng, rng, 50, 40, 17, 16, 1.0f, 0.5f);
  check(eng, rng, 130, 784, 10, 64, 1.0f, 0.5f);
  // Twenty steps of a team of up to seven (the work allows seven members at 784 x 10 x 64): forty meetings at
  // the barrier per fit, members sleeping there when there are more of them than cores.
  check(eng, rng, 640, 784, 10, 64, 1.0f, 0.5f);
  // Longer than two segments of 64 steps (140 steps, work enough for a team of two), so the measured choice
  // and the turns of `alternate` move the fit between the team and one thread mid-epoch.
  check(eng, rng, 4480, 256, 8, 64, 1.0f, 0.5f);
  // Large features and rate: softmax probabilities underflow to 0, so gradients are exactly 0 (and -0).
  check(eng, rng, 40, 24, 6, 8, 60.0f, 4.0f);
  // dp_fit_linear_rows refuses what dp_fit_linear refuses, naming it, and leaves the outputs alone.
  {
    std::vector<float> x(12, 0.5f), w(6, 7.0f), b(2, 7.0f);
    std::vector<int32_t> labels{0, 1, 0, 1};
    std::vector<int64_t> order{0, 1, 2, 3};
    DP_EXPECT(dp_fit_linear_rows(eng, nullptr, 4, 3, labels.data(), 2, order.data(), 1, 2, 0.5f, 0.0f, w.data(),
                                 b.data()) == DP_ERR_INVALID_ARGUMENT,
              "null rows accepted");
    DP_EXPECT(dp_fit_linear_rows(eng, x.data(), 4, 0, labels.data(), 2, order.data(), 1, 2, 0.5f, 0.0f, w.data(),
                                 b.data()) == DP_ERR_INVALID_ARGUMENT,
              "rows of width 0 accepted");
    x[5] = NAN;
    DP_EXPECT(dp_fit_linear_rows(eng, x.data(), 4, 3, labels.data(), 2, order.data(), 1, 2, 0.5f, 0.0f, w.data(),
                                 b.data()) == DP_ERR_INVALID_ARGUMENT &&
                  std::strstr(dp_last_error(), "non-finite") != nullptr,
              "a NaN feature: %s", dp_last_error());
    DP_EXPECT(std::all_of(w.begin(), w.end(), [](float v) { return v == 7.0f; }) &&
                  std::all_of(b.begin(), b.end(), [](float v) { return v == 7.0f; }),
              "a refused fit wrote its outputs");
    // An unknown DYEPACK_FIT_TEAM is refused, naming the variable, and the outputs are left alone.
    x[5] = 0.25f;
    setenv("DYEPACK_FIT_TEAM", "sometimes", 1);
    DP_EXPECT(dp_fit_linear_rows(eng, x.data(), 4, 3, labels.data(), 2, order.data(), 1, 2, 0.5f, 0.0f, w.data(),
                                 b.data()) == DP_ERR_INVALID_ARGUMENT &&
                  std::strstr(dp_last_error(), "DYEPACK_FIT_TEAM") != nullptr,
              "DYEPACK_FIT_TEAM=sometimes: %s", dp_last_error());
    unsetenv("DYEPACK_FIT_TEAM");
    DP_EXPECT(std::all_of(w.begin(), w.end(), [](float v) { return v == 7.0f; }), "a refused fit wrote its outputs");
    DP_EXPECT(dp_fit_linear_rows(eng, x.data(), 4, 3, labels.data(), 2, order.data(), 1, 2, 0.5f, 0.0f, w.data(),
                                 b.data()) == DP_OK,
              "the same fit without the variable: %s", dp_last_error());
  }
  dp_engine_destroy(eng);
  return finish("fit");
}
