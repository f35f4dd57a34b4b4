// The CPU engines' worker pool (src/cpu/workers.h): every task runs exactly once, never more than the
// allowed threads at once, exceptions come back once every task is done, nested calls and callers on
// several threads at once finish with their own results, and the pool grows only as far as asked.
// Compiled with the pool's source, since the library exports only its C ABI.
#include <atomic>
#include <chrono>
#include <stdexcept>
#include <string>
#include <thread>

#include "cpu/workers.h"
#include "test_util.h"

using namespace dptest;
using dp::cpu::run_tasks;

namespace {

void every_task_once() {
  for (int threads : {1, 2, 3, 8}) {
    for (int64_t tasks : {int64_t{0}, int64_t{1}, int64_t{2}, int64_t{7}, int64_t{64}, int64_t{1000}}) {
      std::vector<std::atomic<int>> runs(static_cast<size_t>(tasks));
      for (auto &r : runs) r.store(0);
      run_tasks(tasks, threads, [&](int64_t k) { runs[static_cast<size_t>(k)].fetch_add(1); });
      int64_t wrong = 0;
      for (auto &r : runs) wrong += r.load() != 1;
      DP_EXPECT(wrong == 0, "%lld of %lld tasks did not run exactly once with %d threads", (long long)wrong,
                (long long)tasks, threads);
    }
  }
}

// Tasks that last long enough to overlap: the most running at once never exceeds `threads`, and with
// more than one thread allowed, more than one does run (the workers do take part).
void bounded_by_threads() {
  for (int threads : {2, 3, 4}) {
    std::atomic<int> running{0}, most{0};
    run_tasks(24, threads, [&](int64_t) {
      const int now = running.fetch_add(1) + 1;
      int seen = most.load();
      while (now > seen && !most.compare_exchange_weak(seen, now)) {
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(2));
      running.fetch_sub(1);
    });
    DP_EXPECT(most.load() <= threads, "%d tasks ran at once with %d threads allowed", most.load(), threads);
    DP_EXPECT(most.load() >= 2, "never more than %d task at once with %d threads allowed", most.load(), threads);
  }
  DP_EXPECT(dp::cpu::started_workers() == 3, "the pool has %d workers after asking for at most 3",
            dp::cpu::started_workers());
}

// The lowest-numbered task's exception is rethrown, after every other task has finished.
void exceptions_after_all_tasks() {
  std::atomic<int> finished{0};
  std::string caught;
  try {
    run_tasks(16, 4, [&](int64_t k) {
      if (k == 5 || k == 11) throw std::runtime_error("task " + std::to_string(k));
      std::this_thread::sleep_for(std::chrono::microseconds(200));
      finished.fetch_add(1);
    });
  } catch (const std::runtime_error &e) {
    caught = e.what();
  }
  DP_EXPECT(caught == "task 5", "caught '%s', wanted 'task 5'", caught.c_str());
  DP_EXPECT(finished.load() == 14, "%d of 14 tasks had finished when the exception came back", finished.load());
}

// A task that calls run_tasks itself, on a pool whose workers are all busy with the outer call.
void nested_calls() {
  std::vector<std::atomic<int>> cells(8 * 8);
  for (auto &c : cells) c.store(0);
  run_tasks(8, 4, [&](int64_t i) {
    run_tasks(8, 4, [&](int64_t j) { cells[static_cast<size_t>(i * 8 + j)].fetch_add(1); });
  });
  int64_t wrong = 0;
  for (auto &c : cells) wrong += c.load() != 1;
  DP_EXPECT(wrong == 0, "%lld of 64 nested tasks did not run exactly once", (long long)wrong);
}

// Six callers at once share the pool; each gets the sums of its own tasks.
void concurrent_callers() {
  constexpr int kCallers = 6;
  constexpr int64_t kTasks = 200;
  std::vector<int64_t> sums(kCallers, 0);
  std::vector<std::thread> callers;
  for (int c = 0; c < kCallers; ++c) {
    callers.emplace_back([&, c] {
      for (int round = 0; round < 50; ++round) {
        std::vector<int64_t> out(kTasks, 0);
        run_tasks(kTasks, 3, [&](int64_t k) { out[static_cast<size_t>(k)] = k * (c + 1); });
        int64_t s = 0;
        for (int64_t v : out) s += v;
        sums[static_cast<size_t>(c)] += s;
      }
    });
  }
  for (auto &t : callers) t.join();
  for (int c = 0; c < kCallers; ++c) {
    const int64_t want = 50 * (c + 1) * (kTasks * (kTasks - 1) / 2);
    DP_EXPECT(sums[static_cast<size_t>(c)] == want, "caller %d summed %lld, wanted %lld", c,
              (long long)sums[static_cast<size_t>(c)], (long long)want);
  }
}

// One thread allowed: everything runs on the caller, in order.
void one_thread_runs_in_order() {
  std::vector<int64_t> order;
  const std::thread::id caller = std::this_thread::get_id();
  bool elsewhere = false;
  run_tasks(10, 1, [&](int64_t k) {
    order.push_back(k);
    elsewhere = elsewhere || std::this_thread::get_id() != caller;
  });
  bool in_order = order.size() == 10;
  for (size_t i = 0; in_order && i < order.size(); ++i) in_order = order[i] == static_cast<int64_t>(i);
  DP_EXPECT(in_order && !elsewhere, "with one thread the tasks ran %s and %s", in_order ? "in order" : "out of order",
            elsewhere ? "not only on the caller" : "on the caller");
}

}  // namespace

int main() {
  one_thread_runs_in_order();
  bounded_by_threads();  // first: it checks how far the pool has grown
  every_task_once();
  exceptions_after_all_tasks();
  nested_calls();
  concurrent_callers();
  DP_EXPECT(dp::cpu::started_workers() <= 7, "the pool grew to %d workers; no call asked for more than 7",
            dp::cpu::started_workers());
  std::printf("workers: %d passed, %d failed\n", passes(), failures());
  return failures() == 0 ? 0 : 1;
}
