// Throughput of the mask blend, with its peers measured in the same run: on the GPU beside a
// device-to-device copy of the same bytes, and the CPU backend on the same machine.
// GB/s counts bytes read and written by the blend (2 x batch size for a dense mask).
// Usage: dyepack_bench [images=20000] [height=224] [width=224] [channels=3] [repeats=20]
//        dyepack_bench score X.f32 W.f32 b.f32 N D C [repeats=10] [out.f32]
//          decision-boundary scoring of raw little-endian float32 files (scripts/bench-score.py
//          writes them and runs the NumPy peer on the same data in the same run); prints the best
//          time per backend and, with out.f32, writes [predicted, runner_up, margin, distance] per sample.
//        dyepack_bench score-op [N=10000] [D=2048] [C=1000] [repeats=5] [threads=0]
//          decision-boundary scoring of random normal features with a prepared head (dp_operand: the
//          head uploaded and its derived data built once, as `dyepack bench` does); prints the best time,
//          the GFLOP/s of the logits and an FNV-1a hash of every output's bits, so that a change to the
//          scorer can be checked to give the same bits.
//        dyepack_bench fit [N=60000] [D=784] [C=10] [repeats=3] [threads=0]
//          the surrogate fit on random features (0 threads: one per hardware thread).
#include <chrono>
#include <cmath>
#include <ctime>
#include <cstdlib>
#include <cstring>
#include <utility>
#include <vector>

#include "test_util.h"

using namespace dptest;

namespace {

using Clock = std::chrono::steady_clock;

template <class F>
double best_seconds(int repeats, F f) {
  double best = 1e30;
  for (int r = 0; r < repeats; ++r) {
    auto t0 = Clock::now();
    if (!f()) return -1.0;
    best = std::min(best, std::chrono::duration<double>(Clock::now() - t0).count());
  }
  return best;
}

void row(const char *what, const char *dtype, double bytes, double seconds) {
  if (seconds < 0) {
    std::printf("| %-32s | %-7s | %10s | %9s |  failed: %s\n", what, dtype, "-", "-", dp_last_error());
    return;
  }
  std::printf("| %-32s | %-7s | %10.3f | %9.1f |\n", what, dtype, seconds * 1e3, bytes / seconds / 1e9);
}

}  // namespace

std::vector<float> read_f32(const char *path, size_t count) {
  std::vector<float> v(count);
  FILE *f = std::fopen(path, "rb");
  if (!f || std::fread(v.data(), 4, count, f) != count) {
    std::fprintf(stderr, "bench: cannot read %zu floats from %s\n", count, path);
    std::exit(2);
  }
  std::fclose(f);
  return v;
}

int score_main(int argc, char **argv) {
  if (argc < 8) {
    std::fprintf(stderr, "usage: dyepack_bench score X.f32 W.f32 b.f32 N D C [repeats] [out.f32]\n");
    return 2;
  }
  const int64_t n = std::atoll(argv[5]), d = std::atoll(argv[6]), c = std::atoll(argv[7]);
  const int repeats = argc > 8 ? std::atoi(argv[8]) : 10;
  std::vector<float> x = read_f32(argv[2], static_cast<size_t>(n * d));
  std::vector<float> w = read_f32(argv[3], static_cast<size_t>(c * d));
  std::vector<float> b = read_f32(argv[4], static_cast<size_t>(c));
  std::vector<int32_t> pred(static_cast<size_t>(n)), run(static_cast<size_t>(n));
  std::vector<float> margin(static_cast<size_t>(n)), dist(static_cast<size_t>(n));
  dp_tensor t = tensor(DP_DTYPE_FLOAT32, DP_LAYOUT_NHWC, n, 1, 1, d, x.data());
  char reason[512];
  const bool have_gpu = dp_cuda_status(reason, sizeof reason) == DP_CUDA_AVAILABLE;
  for (int backend : {DP_BACKEND_CPU, DP_BACKEND_CUDA}) {
    if (backend == DP_BACKEND_CUDA && !have_gpu) {
      std::printf("engine cuda: not measured (%s)\n", reason);
      continue;
    }
    dp_engine *eng = nullptr;
    if (dp_engine_create(backend, 0, &eng) != DP_OK) {
      std::fprintf(stderr, "bench: %s\n", dp_last_error());
      return 1;
    }
    const double s = best_seconds(repeats, [&] {
      return dp_score_boundary(eng, &t, w.data(), b.data(), c, -1, pred.data(), run.data(), margin.data(), dist.data(),
                               nullptr) == DP_OK;
    });
    std::printf("engine %s: %.3f ms (best of %d, host features in, scores out)\n",
                backend == DP_BACKEND_CPU ? "cpu" : "cuda", s * 1e3, repeats);
    dp_engine_destroy(eng);
  }
  if (argc > 9) {
    FILE *f = std::fopen(argv[9], "wb");
    for (int64_t i = 0; f && i < n; ++i) {
      const float row[4] = {static_cast<float>(pred[static_cast<size_t>(i)]), static_cast<float>(run[static_cast<size_t>(i)]),
                            margin[static_cast<size_t>(i)], dist[static_cast<size_t>(i)]};
      std::fwrite(row, 4, 4, f);
    }
    if (f) std::fclose(f);
  }
  return 0;
}

int score_op_main(int argc, char **argv) {
  const int64_t n = argc > 2 ? std::atoll(argv[2]) : 10000, d = argc > 3 ? std::atoll(argv[3]) : 2048,
                c = argc > 4 ? std::atoll(argv[4]) : 1000;
  const int repeats = argc > 5 ? std::atoi(argv[5]) : 5;
  const int threads = argc > 6 ? std::atoi(argv[6]) : 0;
  uint64_t state = 0x2545f4914f6cdd1dULL;
  auto uniform = [&state] {
    state ^= state << 13;
    state ^= state >> 7;
    state ^= state << 17;
    return (static_cast<double>(state >> 11) + 0.5) / 9007199254740992.0;
  };
  // Box-Muller: random normal values, as the bench suite's Java rows use.
  auto normal = [&] { return std::sqrt(-2.0 * std::log(uniform())) * std::cos(6.283185307179586 * uniform()); };
  std::vector<float> x(static_cast<size_t>(n * d)), w(static_cast<size_t>(c * d)), b(static_cast<size_t>(c));
  for (float &v : x) v = static_cast<float>(normal());
  for (float &v : w) v = static_cast<float>(0.05 * normal());
  for (float &v : b) v = static_cast<float>(normal());
  std::vector<int32_t> pred(static_cast<size_t>(n)), run(static_cast<size_t>(n));
  std::vector<float> margin(static_cast<size_t>(n)), dist(static_cast<size_t>(n)), tdist(static_cast<size_t>(n));
  dp_tensor t = tensor(DP_DTYPE_FLOAT32, DP_LAYOUT_NHWC, n, 1, 1, d, x.data());
  dp_engine *eng = nullptr;
  dp_operand *wo = nullptr, *bo = nullptr;
  if (dp_engine_create(DP_BACKEND_CPU, 0, &eng) != DP_OK || dp_engine_set_threads(eng, threads) != DP_OK ||
      dp_operand_create(eng, w.data(), c * d, &wo) != DP_OK || dp_operand_create(eng, b.data(), c, &bo) != DP_OK) {
    std::fprintf(stderr, "bench: %s\n", dp_last_error());
    return 1;
  }
  const int64_t target = c > 1 ? 1 : 0;
  auto call = [&] {
    return dp_score_boundary_op(eng, &t, wo, bo, c, target, pred.data(), run.data(), margin.data(), dist.data(),
                                tdist.data()) == DP_OK;
  };
  if (!call()) {  // the first call derives the head's data (norms); not timed, as a prepared head's
    std::fprintf(stderr, "bench: %s\n", dp_last_error());
    return 1;
  }
  // Process CPU time per call too: with threads = 1 it is the call's own work, which other processes on
  // a loaded machine disturb much less than the wall time.
  double cpu_best = 1e30;
  const double s = best_seconds(repeats, [&] {
    timespec t0, t1;
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &t0);
    const bool ok = call();
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &t1);
    cpu_best = std::min(cpu_best, static_cast<double>(t1.tv_sec - t0.tv_sec) + 1e-9 * static_cast<double>(t1.tv_nsec - t0.tv_nsec));
    return ok;
  });
  uint64_t hash = 0xcbf29ce484222325ULL;
  auto mix = [&hash](const void *p) {
    uint32_t bits;
    std::memcpy(&bits, p, 4);
    hash = (hash ^ bits) * 0x100000001b3ULL;
  };
  for (int64_t i = 0; i < n; ++i) {
    const size_t k = static_cast<size_t>(i);
    mix(&pred[k]);
    mix(&run[k]);
    mix(&margin[k]);
    mix(&dist[k]);
    mix(&tdist[k]);
  }
  const double flop = 2.0 * static_cast<double>(n) * static_cast<double>(d) * static_cast<double>(c);
  std::printf("score-op %lld x %lld, %lld classes, %d threads: %.3f ms (best of %d), %.1f GFLOP/s; CPU %.3f ms, "
              "%.1f GFLOP/s per CPU-second; outputs hash %016llx\n",
              static_cast<long long>(n), static_cast<long long>(d), static_cast<long long>(c), threads, s * 1e3,
              repeats, flop / s / 1e9, cpu_best * 1e3, flop / cpu_best / 1e9, static_cast<unsigned long long>(hash));
  dp_engine_destroy(eng);
  return 0;
}

// The surrogate fit on N x D random features in [0, 1) with class-dependent means, C classes; prints the
// time and an FNV-1a hash of the fitted weights' bits, so a change to the fit can be checked to give
// the same bits.
int fit_main(int argc, char **argv) {
  const int64_t n = argc > 2 ? std::atoll(argv[2]) : 60000, d = argc > 3 ? std::atoll(argv[3]) : 784,
                c = argc > 4 ? std::atoll(argv[4]) : 10;
  const int repeats = argc > 5 ? std::atoi(argv[5]) : 3;
  const int threads = argc > 6 ? std::atoi(argv[6]) : 0;
  const bool cuda = argc > 7 && std::strcmp(argv[7], "cuda") == 0;
  const int epochs = 5;
  std::vector<float> x(static_cast<size_t>(n * d));
  std::vector<int32_t> labels(static_cast<size_t>(n));
  std::vector<int64_t> order(static_cast<size_t>(epochs * n));
  uint64_t state = 0x9e3779b97f4a7c15ULL;
  auto next = [&state] {
    state ^= state << 13;
    state ^= state >> 7;
    state ^= state << 17;
    return state;
  };
  for (int64_t i = 0; i < n; ++i) {
    labels[static_cast<size_t>(i)] = static_cast<int32_t>(next() % static_cast<uint64_t>(c));
    for (int64_t j = 0; j < d; ++j)
      x[static_cast<size_t>(i * d + j)] = static_cast<float>(next() >> 40) / 16777216.0f +
                                          (j % c == labels[static_cast<size_t>(i)] ? 0.5f : 0.0f);
  }
  for (int e = 0; e < epochs; ++e) {
    int64_t *perm = order.data() + static_cast<int64_t>(e) * n;
    for (int64_t i = 0; i < n; ++i) perm[i] = i;
    for (int64_t i = n - 1; i > 0; --i) std::swap(perm[i], perm[next() % static_cast<uint64_t>(i + 1)]);
  }
  std::vector<float> w(static_cast<size_t>(c * d)), b(static_cast<size_t>(c));
  dp_tensor t = tensor(DP_DTYPE_FLOAT32, DP_LAYOUT_NHWC, n, 1, 1, d, x.data());
  dp_engine *eng = nullptr;
  if (dp_engine_create(cuda ? DP_BACKEND_CUDA : DP_BACKEND_CPU, 0, &eng) != DP_OK) {
    std::fprintf(stderr, "bench: %s\n", dp_last_error());
    return 1;
  }
  if (!cuda && dp_engine_set_threads(eng, threads) != DP_OK) {
    std::fprintf(stderr, "bench: %s\n", dp_last_error());
    dp_engine_destroy(eng);
    return 1;
  }
  const double s = best_seconds(repeats, [&] {
    return dp_fit_linear(eng, &t, labels.data(), c, order.data(), epochs, 64, 0.5f, 1e-4f, w.data(), b.data()) == DP_OK;
  });
  if (s < 0) {
    std::fprintf(stderr, "bench: the fit failed: %s\n", dp_last_error());
    dp_engine_destroy(eng);
    return 1;
  }
  uint64_t hash = 0xcbf29ce484222325ULL;
  for (float v : w) {
    uint32_t bits;
    std::memcpy(&bits, &v, 4);
    hash = (hash ^ bits) * 0x100000001b3ULL;
  }
  std::printf("fit %lld x %lld, %lld classes, 5 epochs, batch 64, %s: %.3f s (best of %d); weights hash %016llx\n",
              static_cast<long long>(n), static_cast<long long>(d), static_cast<long long>(c),
              cuda ? "cuda" : (std::to_string(threads) + " threads").c_str(), s, repeats,
              static_cast<unsigned long long>(hash));
  dp_engine_destroy(eng);
  return 0;
}

int main(int argc, char **argv) {
  if (argc > 1 && std::strcmp(argv[1], "score") == 0) return score_main(argc, argv);
  if (argc > 1 && std::strcmp(argv[1], "fit") == 0) return fit_main(argc, argv);
  if (argc > 1 && std::strcmp(argv[1], "score-op") == 0) return score_op_main(argc, argv);
  const int64_t n = argc > 1 ? std::atoll(argv[1]) : 20000;
  const int64_t h = argc > 2 ? std::atoll(argv[2]) : 224;
  const int64_t w = argc > 3 ? std::atoll(argv[3]) : 224;
  const int64_t c = argc > 4 ? std::atoll(argv[4]) : 3;
  const int repeats = argc > 5 ? std::atoi(argv[5]) : 20;
  const int64_t e = c * h * w;
  std::vector<float> pattern(static_cast<size_t>(e), 128.0f), mask(static_cast<size_t>(e), 1.0f);
  dp_tensor pt = tensor(DP_DTYPE_FLOAT32, DP_LAYOUT_NHWC, 1, c, h, w, pattern.data());
  dp_tensor mk = tensor(DP_DTYPE_FLOAT32, DP_LAYOUT_NHWC, 1, c, h, w, mask.data());
  std::printf("mask blend (Blended, alpha 0.2, dense mask): %lld images of %lldx%lldx%lld, best of %d\n",
              static_cast<long long>(n), static_cast<long long>(h), static_cast<long long>(w),
              static_cast<long long>(c), repeats);
  std::printf("| %-32s | %-7s | %10s | %9s |\n", "operation", "dtype", "ms", "GB/s");
  std::printf("|%s|%s|%s|%s|\n", std::string(34, '-').c_str(), std::string(9, '-').c_str(),
              std::string(12, '-').c_str(), std::string(11, '-').c_str());

  char reason[512];
  const bool have_gpu = dp_cuda_status(reason, sizeof reason) == DP_CUDA_AVAILABLE;
  dp_engine *gpu = nullptr, *cpu = nullptr;
  if (have_gpu && dp_engine_create(DP_BACKEND_CUDA, 0, &gpu) != DP_OK) {
    std::fprintf(stderr, "bench: %s\n", dp_last_error());
    return 1;
  }
  dp_engine_create(DP_BACKEND_CPU, 0, &cpu);
  for (int dtype : {DP_DTYPE_UINT8, DP_DTYPE_FLOAT32}) {
    const char *dname = dtype == DP_DTYPE_UINT8 ? "uint8" : "float32";
    const size_t bytes = static_cast<size_t>(n * e) * (dtype == DP_DTYPE_UINT8 ? 1 : 4);
    std::vector<unsigned char> host(bytes, 100);
    if (gpu) {
      void *dev = nullptr, *dev2 = nullptr;
      if (dp_device_alloc(gpu, bytes, &dev) == DP_OK && dp_device_alloc(gpu, bytes, &dev2) == DP_OK &&
          dp_memcpy(gpu, dev, host.data(), bytes, DP_COPY_HOST_TO_DEVICE) == DP_OK) {
        dp_tensor b = tensor(dtype, DP_LAYOUT_NHWC, n, c, h, w, dev, DP_MEMORY_DEVICE);
        row("cuda blend, device memory", dname, 2.0 * bytes, best_seconds(repeats, [&] {
              return dp_mask_blend(gpu, &b, &pt, &mk, 0.2f, nullptr, DP_ALL_SAMPLES) == DP_OK;
            }));
        // The same with the pattern and mask resident on the device (dp_operand): no per-call upload.
        dp_operand *po = nullptr, *mo = nullptr;
        if (dp_operand_create(gpu, pattern.data(), e, &po) == DP_OK && dp_operand_create(gpu, mask.data(), e, &mo) == DP_OK) {
          dp_tensor rp = pt, rm = mk;
          rp.memory = rm.memory = DP_MEMORY_OPERAND;
          rp.data = po;
          rm.data = mo;
          row("cuda blend, device, resident ops", dname, 2.0 * bytes, best_seconds(repeats, [&] {
                return dp_mask_blend(gpu, &b, &rp, &rm, 0.2f, nullptr, DP_ALL_SAMPLES) == DP_OK;
              }));
        }
        dp_operand_destroy(gpu, po);
        dp_operand_destroy(gpu, mo);
        row("cuda device-to-device copy", dname, 2.0 * bytes, best_seconds(repeats, [&] {
              return dp_memcpy(gpu, dev2, dev, bytes, DP_COPY_DEVICE_TO_DEVICE) == DP_OK;
            }));
      } else {
        std::printf("device allocation failed: %s\n", dp_last_error());
      }
      dp_device_free(gpu, dev);
      dp_device_free(gpu, dev2);
      dp_tensor hb = tensor(dtype, DP_LAYOUT_NHWC, n, c, h, w, host.data());
      row("cuda blend, host memory (staged)", dname, 2.0 * bytes, best_seconds(std::max(1, repeats / 4), [&] {
            return dp_mask_blend(gpu, &hb, &pt, &mk, 0.2f, nullptr, DP_ALL_SAMPLES) == DP_OK;
          }));
    }
    dp_tensor hb = tensor(dtype, DP_LAYOUT_NHWC, n, c, h, w, host.data());
    row("cpu blend, host memory", dname, 2.0 * bytes, best_seconds(std::max(1, repeats / 4), [&] {
          return dp_mask_blend(cpu, &hb, &pt, &mk, 0.2f, nullptr, DP_ALL_SAMPLES) == DP_OK;
        }));
    std::vector<unsigned char> dst(bytes, 1);
    row("host memcpy (peer of cpu blend)", dname, 2.0 * bytes, best_seconds(std::max(1, repeats / 4), [&] {
          std::memcpy(dst.data(), host.data(), bytes);
          return dst[bytes / 2] == host[bytes / 2];
        }));
  }
  if (!gpu) std::printf("CUDA not measured: %s\n", reason);
  dp_engine_destroy(gpu);
  dp_engine_destroy(cpu);
  return 0;
}
