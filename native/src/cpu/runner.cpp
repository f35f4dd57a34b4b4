#include "cpu/runner.h"
#include "cpu/workers.h"

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cmath>
#include <condition_variable>
#include <cstdlib>
#include <exception>
#include <mutex>
#include <string>
#include <system_error>
#include <thread>
#include <vector>

#if defined(__x86_64__) || defined(__i386__)
#include <immintrin.h>
#endif

#include "dyepack_math/fit.h"
#include "dyepack_math/pixel.h"
#include "error.h"

namespace dp {
namespace cpu {

namespace {

// Work below this many element-units per thread is not worth a thread: about 50 us of a blend on one
// core, the order of waking a sleeping worker on a virtual machine. A mini-batch of 256 28x28 images
// (200,704 elements, 41 us on one core) split over two threads took 47-66 us (docs/benchmarks.md).
constexpr int64_t kMinElemsPerThread = int64_t{1} << 18;
// The work is handed out in tasks of at least this many elements, up to kTasksPerThread per thread, so
// that a worker that wakes late (tens of microseconds on a virtual machine) takes a small piece of what
// the calling thread has not yet done, and the caller waits for no more than that piece.
constexpr int64_t kMinElemsPerTask = int64_t{1} << 14;
constexpr int64_t kTasksPerThread = 8;

// Split [0, items) into contiguous ranges and run body(begin, end) on each, on the calling thread and the
// process's workers (cpu/workers.h), with at most `threads` at once. The split never changes what is
// computed, only who computes it.
template <class Body>
void parallel_for(int64_t items, int64_t elems_per_item, int threads, Body body) {
  if (items <= 0) return;
  const int64_t by_work = std::max<int64_t>(1, (items * elems_per_item) / kMinElemsPerThread);
  const int64_t t = std::min<int64_t>({static_cast<int64_t>(threads), by_work, items});
  if (t <= 1) {
    body(int64_t{0}, items);
    return;
  }
  const int64_t by_piece = std::max<int64_t>(1, (items * elems_per_item) / kMinElemsPerTask);
  const int64_t tasks = std::min<int64_t>({t * kTasksPerThread, by_piece, items});
  const int64_t chunk = (items + tasks - 1) / tasks;
  run_tasks((items + chunk - 1) / chunk, static_cast<int>(t),
            [&](int64_t k) { body(k * chunk, std::min(items, (k + 1) * chunk)); });
}

// A barrier for a team that meets thousands of times a second (the fit: two meetings per step of 64
// samples, tens of microseconds apart). A member that arrives early spins for up to kSpin (the others
// are usually a few microseconds away), then sleeps on a condition variable until the last one arrives.
// Spinning alone, or spinning and yielding, is fast on an idle machine and ruinous on a busy one: a
// member whose partner lost its core spins away the time slice the partner needs (a fit that takes
// 0.19 s idle took up to 5 s, and once 15 s from Java, beside one other busy process on 2 cores;
// docs/benchmarks.md).
class TeamBarrier {
 public:
  explicit TeamBarrier(int members) : members_(members) {}

  void wait() {
    const unsigned generation = generation_.load(std::memory_order_acquire);
    if (arrived_.fetch_add(1, std::memory_order_acq_rel) + 1 == members_) {
      arrived_.store(0, std::memory_order_relaxed);
      bool sleepers;
      {
        // Under the lock, so that a member between its check and its sleep cannot miss the change.
        std::lock_guard<std::mutex> lock(mutex_);
        generation_.fetch_add(1, std::memory_order_release);
        sleepers = sleepers_ > 0;
      }
      if (sleepers) wake_.notify_all();
      return;
    }
    const auto deadline = std::chrono::steady_clock::now() + kSpin;
    for (unsigned spins = 1; generation_.load(std::memory_order_acquire) == generation; ++spins) {
      relax();
      if (spins % 64 == 0 && std::chrono::steady_clock::now() >= deadline) {
        std::unique_lock<std::mutex> lock(mutex_);
        ++sleepers_;
        wake_.wait(lock, [&] { return generation_.load(std::memory_order_acquire) != generation; });
        --sleepers_;
        return;
      }
    }
  }

 private:
  static constexpr std::chrono::microseconds kSpin{50};

  static void relax() {
#if defined(__x86_64__) || defined(__i386__)
    _mm_pause();
#elif defined(__aarch64__)
    asm volatile("yield");
#endif
  }

  const int members_;
  std::atomic<int> arrived_{0};
  std::atomic<unsigned> generation_{0};
  std::mutex mutex_;
  std::condition_variable wake_;
  int sleepers_ = 0;  // guarded by mutex_
};

// The fit's steps run in segments, each with the team or on the calling thread alone: the team's split
// never changes a value, so the choice is only about time, and it is made by measuring. The first two
// segments are short trials (kFitTrial steps), with the team, then alone; after that each segment of
// kFitSegment steps runs in whichever ran faster per step when last measured, and the other is tried again
// for kFitTrial steps after 2, 4, 8, ... segments. On an idle machine the team wins and the trials of the
// thread alone cost a few milliseconds in all. On a busy one, where another process holds a core the team
// needs, every meeting at the barrier waits for the scheduler to run the member that lost its core, and the
// thread alone wins by far (60,000 x 784 beside one busy process on 2 cores: 0.73-0.84 s with the team,
// 0.34-0.35 s alone; docs/benchmarks.md). DYEPACK_FIT_TEAM=always, never or alternate (team and alone
// by turns, every segment kFitTrial steps) fixes the choice, for tests and measurements.
constexpr int64_t kFitTrial = 16;
constexpr int64_t kFitSegment = 64;

class FitSchedule {
 public:
  // `fixed`: DYEPACK_FIT_TEAM's value (null or empty: measure); any other value than those above is refused,
  // naming the variable, before the fit starts.
  explicit FitSchedule(const char *fixed) {
    const std::string f = fixed ? fixed : "";
    if (!f.empty() && f != "always" && f != "never" && f != "alternate")
      invalid("DYEPACK_FIT_TEAM must be always, never, alternate or unset, got '" + f + "'");
    if (f == "never") mode_ = Mode::alone;
    else if (f == "always") mode_ = Mode::team;
    else if (f == "alternate") mode_ = Mode::alternate;
  }

  struct Segment {
    bool with_team;
    int64_t steps;
  };

  Segment next() {
    const int64_t k = segment_++;
    switch (mode_) {
      case Mode::team: return {true, kFitSegment};
      case Mode::alone: return {false, kFitSegment};
      case Mode::alternate: return {k % 2 == 0, kFitTrial};
      case Mode::measure: break;
    }
    if (k < 2) return {k == 0, kFitTrial};
    const bool team_faster = team_.best() <= alone_.best();
    if (k == next_trial_) {
      interval_ *= 2;
      next_trial_ = k + interval_;
      return {!team_faster, kFitTrial};
    }
    return {team_faster, kFitSegment};
  }

  void record(bool with_team, double seconds_per_step) { (with_team ? team_ : alone_).add(seconds_per_step); }

 private:
  enum class Mode { measure, team, alone, alternate };
  Mode mode_ = Mode::measure;
  int64_t segment_ = 0;
  int64_t interval_ = 2, next_trial_ = 3;
  // A mode's last two times per step; it is judged by the better, so that one segment slowed by something
  // else (an interrupt, a page fault) does not send the fit the wrong way for the segments until the next trial.
  struct Recent {
    double last = 0.0, before = 0.0;
    void add(double v) {
      before = last;
      last = v;
    }
    double best() const { return before > 0.0 ? std::min(last, before) : last; }
  };
  Recent team_, alone_;
};

// The work estimate per selected sample, in elements of a blend, decides how many threads are worth
// starting. A warp (a bilinear sample per element) and keyed noise (a Philox block per four elements) cost
// 15-30 times a blend per element (dyepack bench's trigger rows).
constexpr int64_t kHeavyElement = 16;
int64_t work(const Batch &b) { return b.sample_elems; }
int64_t work(const WarpArgs &a) { return kHeavyElement * a.batch.sample_elems; }
int64_t work(const NoiseArgs &a) { return kHeavyElement * a.batch.sample_elems; }
int64_t work(const PasteArgs &a) { return a.ph * a.pw * a.batch.c; }
int64_t work(const TokenArgs &a) { return a.k; }
int64_t work(const ColumnArgs &a) { return a.k; }
int64_t work(const ScatterArgs &a) { return a.k; }
template <class Args>
int64_t work(const Args &a) {
  return work(a.batch);
}

// amount * mask per element, once per call (the kernels compute the same product per element).
std::vector<float> weights(float amount, const float *mask, int64_t count) {
  std::vector<float> w(static_cast<size_t>(count));
  for (int64_t e = 0; e < count; ++e) w[static_cast<size_t>(e)] = math::blend_weight(amount, mask[e]);
  return w;
}

}  // namespace

int hardware_threads() {
  unsigned n = std::thread::hardware_concurrency();
  return n == 0 ? 1 : static_cast<int>(n);
}

namespace {
const Loops &loops_of(Variant variant) {
  switch (variant) {
    case Variant::kAvx512: return avx512::kLoops;
    case Variant::kAvx2: return avx2::kLoops;
    default: return baseline::kLoops;
  }
}
}  // namespace

Runner::Runner(Variant variant) : variant_(variant), loops_(loops_of(variant)) {}

void Runner::mask_blend(const BlendArgs &a) {
  const std::vector<float> w = weights(a.amount, a.mask.host, a.batch.sample_elems);
  parallel_for(a.selection.count, work(a), threads(),
               [&](int64_t b, int64_t e) { loops_.mask_blend(a, w.data(), b, e); });
}

void Runner::scatter_blend(const ScatterArgs &a) {
  parallel_for(a.selection.count, work(a), threads(), [&](int64_t b, int64_t e) { loops_.scatter_blend(a, b, e); });
}

void Runner::paste(const PasteArgs &a) {
  const std::vector<float> w = weights(a.amount, a.mask.host, a.batch.c * a.ph * a.pw);
  parallel_for(a.selection.count, work(a), threads(), [&](int64_t b, int64_t e) { loops_.paste(a, w.data(), b, e); });
}

void Runner::add_signal(const AddArgs &a) {
  parallel_for(a.selection.count, work(a), threads(), [&](int64_t b, int64_t e) { loops_.add_signal(a, b, e); });
}

void Runner::warp(const WarpArgs &a) {
  parallel_for(a.selection.count, work(a), threads(), [&](int64_t b, int64_t e) { loops_.warp(a, b, e); });
}

void Runner::keyed_noise(const NoiseArgs &a) {
  parallel_for(a.selection.count, work(a), threads(), [&](int64_t b, int64_t e) { loops_.keyed_noise(a, b, e); });
}

void Runner::write_tokens(const TokenArgs &a) {
  parallel_for(a.selection.count, work(a), threads(), [&](int64_t b, int64_t e) { loops_.write_tokens(a, b, e); });
}

void Runner::set_columns(const ColumnArgs &a) {
  parallel_for(a.selection.count, work(a), threads(), [&](int64_t b, int64_t e) { loops_.set_columns(a, b, e); });
}

int64_t Runner::score(const ScoreArgs &a) {
  std::shared_ptr<const float> head;
  ScoreArgs args = a;
  if (args.prepared_head == nullptr) {
    head = prepare_head(a.weight.host, a.classes, a.features.sample_elems);
    args.prepared_head = head.get();
  }
  std::atomic<int64_t> nonfinite{0};
  parallel_for(args.features.n, args.features.sample_elems * args.classes, threads(),
               [&](int64_t b, int64_t e) { nonfinite += loops_.score(args, b, e); });
  return nonfinite.load();
}

std::shared_ptr<const float> Runner::prepare_head(const float *weight, int64_t classes, int64_t d) {
  const int64_t floats = loops_.head_floats(classes, d);
  if (floats == 0) return nullptr;
  AlignedFloats out = aligned_floats(floats);
  float *dst = out.get();
  parallel_for(loops_.head_panels(classes), d * 16 /* about a panel's floats */, threads(),
               [&](int64_t b, int64_t e) { loops_.prepare_head(weight, classes, d, dst, b, e); });
  // (Should the control block fail to allocate, shared_ptr frees the floats with the deleter.)
  return std::shared_ptr<const float>(out.release(), [](const float *f) { std::free(const_cast<float *>(f)); });
}

void Runner::fit_linear(const FitArgs &a) {
  FitSchedule schedule(std::getenv("DYEPACK_FIT_TEAM"));  // refuses a bad value before any output is written
  const int64_t n = a.n, d = a.d, classes = a.classes;
  const float *x = a.features;
  float *weight = a.weight, *bias = a.bias;
  std::fill(weight, weight + classes * d, 0.0f);
  std::fill(bias, bias + classes, 0.0f);
  std::vector<float> grad(static_cast<size_t>(a.batch * classes));  // dLoss/dz of the batch
  std::vector<float> coef(static_cast<size_t>(a.batch * classes));  // scale * dLoss/dz: each sample's step
  std::vector<const float *> rows(static_cast<size_t>(a.batch));    // the batch's feature rows, in order
  const Loops &loops = loops_;

  // Forward for samples [b, e) of the batch at `start`: the logits, the softmax and its gradient per
  // sample, so the split never changes a value.
  auto forward = [&](const int64_t *perm, int64_t start, float scale, int64_t b, int64_t e) {
    if (b >= e) return;
    for (int64_t k = b; k < e; ++k) rows[static_cast<size_t>(k)] = x + perm[start + k] * d;
    loops.fit_logits(rows.data() + b, e - b, weight, bias, classes, d, grad.data() + b * classes);
    for (int64_t k = b; k < e; ++k)
      math::softmax_gradient(grad.data() + k * classes, classes, a.labels[perm[start + k]], scale,
                             coef.data() + k * classes);
  };
  // Backward and step: the weights of columns [j0, j1) of every class row, each summing its samples in
  // batch order (element-wise, so a split by columns never changes a value), and the biases of
  // classes [c0, c1). Every sample's product enters, also where its gradient is 0: the weights start
  // at +0 and a difference is -0 only when its first operand is -0, so they are never -0, and w - 0
  // and w - (-0) are then w itself, bit for bit, as when such a sample is skipped.
  auto backward = [&](int64_t m, float scale, float decay, int64_t j0, int64_t j1, int64_t c0, int64_t c1) {
    if (j0 < j1) loops.fit_update(weight, classes, d, rows.data(), coef.data(), m, decay, j0, j1);
    for (int64_t c = c0; c < c1; ++c) {
      float gb = 0.0f;
      for (int64_t k = 0; k < m; ++k) gb += grad[static_cast<size_t>(k * classes + c)];
      bias[c] -= scale * gb;
    }
  };

  // One team of threads for the whole fit, meeting at a barrier between the phases of each step:
  // thousands of small steps would otherwise each pay for starting threads.
  const int64_t by_work = std::max<int64_t>(1, (a.batch * d * classes) / kMinElemsPerThread);
  // Columns go to the team in chunks of 16 (the update's widest vector step).
  const int64_t chunks = (d + 15) / 16;
  const int team = static_cast<int>(std::min<int64_t>({static_cast<int64_t>(threads()), by_work, chunks, a.batch}));
  // Steps numbered through the epochs: step s is batch s % per_epoch of epoch s / per_epoch.
  const int64_t per_epoch = (n + a.batch - 1) / a.batch, total = per_epoch * a.epochs;
  // steps(id, size, barrier, s0, s1): steps [s0, s1) as one of `size` threads; the split by id never
  // changes a value, so any step may run with the team or alone.
  auto steps = [&](int id, int size, TeamBarrier &barrier, int64_t s0, int64_t s1) {
    const int64_t per_column = (chunks + size - 1) / size * 16, per_class = (classes + size - 1) / size;
    const int64_t j0 = std::min(d, id * per_column), j1 = std::min(d, (id + 1) * per_column);
    const int64_t c0 = std::min(classes, id * per_class), c1 = std::min(classes, (id + 1) * per_class);
    for (int64_t s = s0; s < s1; ++s) {
      const int epoch = static_cast<int>(s / per_epoch);
      const int64_t start = (s % per_epoch) * a.batch;
      const float step = a.rate / static_cast<float>(1 + epoch);
      const float decay = step * a.l2;
      const int64_t *perm = a.order + static_cast<int64_t>(epoch) * n;
      const int64_t m = std::min<int64_t>(a.batch, n - start);
      const float scale = step / static_cast<float>(m);
      const int64_t per_sample = (m + size - 1) / size;
      forward(perm, start, scale, std::min(m, id * per_sample), std::min(m, (id + 1) * per_sample));
      barrier.wait();
      backward(m, scale, decay, j0, j1, c0, c1);
      barrier.wait();
    }
  };
  TeamBarrier alone(1);
  if (team <= 1) {
    steps(0, 1, alone, 0, total);
    return;
  }
  // Every segment starts with a meeting of the whole team at the barrier, where the other members learn
  // what this thread decided: run the segment's steps with it, wait out a segment it runs alone (back at
  // the barrier, spinning briefly, then asleep), or leave. Consecutive team segments thus meet as often as
  // steps do, without a sleep and a wake-up between them.
  // Two plans, by the segment's parity: this thread writes segment k + 1's plan before that segment's
  // meeting, while a member slow to leave segment k's meeting may still be reading plan k, the other one. A
  // member is never further behind: it comes to segment k + 1's meeting after reading plan k, and this
  // thread writes plan k + 2 only after passing that meeting.
  TeamBarrier barrier(team);
  struct Plan {
    int64_t s0 = 0, s1 = 0;
    bool with_team = false, leave = false;
  } plans[2];
  std::atomic<int> go{0};  // 0 wait, 1 work, 2 leave: the team starts only once every member exists
  auto member = [&](int id) {
    int g;
    while ((g = go.load(std::memory_order_acquire)) == 0) std::this_thread::yield();
    if (g != 1) return;
    for (int64_t k = 0;; ++k) {
      barrier.wait();
      const Plan plan = plans[k % 2];
      if (plan.leave) return;
      if (plan.with_team) steps(id, team, barrier, plan.s0, plan.s1);
    }
  };
  // If a thread cannot be started, the ones that were are told to leave before doing any work, and the
  // fit runs on this thread alone (same bits).
  std::vector<std::thread> others;
  try {
    others.reserve(static_cast<size_t>(team - 1));
    for (int id = 1; id < team; ++id) others.emplace_back(member, id);
  } catch (const std::system_error &) {
    go.store(2, std::memory_order_release);
    for (auto &th : others) th.join();
    steps(0, 1, alone, 0, total);
    return;
  }
  go.store(1, std::memory_order_release);
  int64_t k = 0;
  for (int64_t s0 = 0; s0 < total; ++k) {
    const FitSchedule::Segment segment = schedule.next();
    const int64_t s1 = std::min(total, s0 + segment.steps);
    plans[k % 2] = Plan{s0, s1, segment.with_team, false};
    barrier.wait();
    // Timed from the meeting: the members' start and their waking after a segment alone are not the steps'.
    const auto t0 = std::chrono::steady_clock::now();
    if (segment.with_team) {
      steps(0, team, barrier, s0, s1);  // its last meeting: every member is done with the segment
    } else {
      steps(0, 1, alone, s0, s1);
    }
    const std::chrono::duration<double> took = std::chrono::steady_clock::now() - t0;
    schedule.record(segment.with_team, took.count() / static_cast<double>(s1 - s0));
    s0 = s1;
  }
  plans[k % 2] = Plan{0, 0, false, true};
  barrier.wait();
  for (auto &th : others) th.join();
}

int64_t Runner::count_nonfinite(const float *values, int64_t n) {
  // A scan of a few MB takes less than starting a thread: every operand upload (a trigger's pattern and
  // mask, prepared once per key, hundreds of times when negatives each have a key) scans its values.
  constexpr int64_t kInline = int64_t{1} << 22;
  if (n <= kInline) return n > 0 ? loops_.count_nonfinite(values, 0, n) : 0;
  constexpr int64_t kBlock = int64_t{1} << 16;
  const int64_t blocks = (n + kBlock - 1) / kBlock;
  std::vector<int64_t> counts(static_cast<size_t>(blocks), 0);
  parallel_for(blocks, kBlock, threads(), [&](int64_t b, int64_t e) {
    for (int64_t k = b; k < e; ++k) {
      const int64_t lo = k * kBlock, hi = std::min(n, lo + kBlock);
      counts[static_cast<size_t>(k)] = loops_.count_nonfinite(values, lo, hi);
    }
  });
  int64_t total = 0;
  for (int64_t c : counts) total += c;
  return total;
}

void Runner::pair_norms(const float *weight, int64_t classes, int64_t d, float *norms) {
  // Row i computes the pairs (i, j > i), so rows get shorter: parts of the rows with equal work, the
  // rows from r to C holding about (C - r)^2 / 2 pairs. The split changes no value.
  const int64_t parts = std::max<int64_t>(1, std::min<int64_t>(threads(), classes));
  auto row = [&](int64_t p) {
    if (p >= parts) return classes;
    const double left = std::sqrt(1.0 - static_cast<double>(p) / static_cast<double>(parts));
    return std::min(classes, static_cast<int64_t>(static_cast<double>(classes) * (1.0 - left)));
  };
  parallel_for(parts, classes * classes * d / (2 * parts), threads(), [&](int64_t b, int64_t e) {
    for (int64_t p = b; p < e; ++p) loops_.pair_norms(weight, classes, d, norms, row(p), row(p + 1));
  });
}

}  // namespace cpu
}  // namespace dp
