// The CPU engines' worker threads: started on first need, kept for the process's life, asleep on a
// condition variable when there is nothing to do, and shared by every engine and every calling thread.
// Before them each parallel call started and joined its own threads, about 50 us a call: more than the
// work of a 256-image mini-batch, the size Java training code stamps per step (docs/benchmarks.md).
#ifndef DYEPACK_SRC_CPU_WORKERS_H
#define DYEPACK_SRC_CPU_WORKERS_H

#include <cstdint>
#include <functional>

namespace dp {
namespace cpu {

// Runs task(k) once for every k in [0, tasks) and returns when all have returned, with at most
// `threads` threads on it at once: the calling thread and up to threads - 1 workers, each taking the
// next task not yet taken until none is left. The calling thread never waits for a worker to wake up,
// only for tasks a worker is already running, so a call is never slower than running every task on
// the calling thread by more than the hand-over, and it cannot deadlock (a task may itself call
// run_tasks). The pool grows to threads - 1 workers on first need (at most kMaxWorkers); where a
// worker cannot be started, the others and the caller do its share. If tasks throw, the exception of
// the lowest-numbered one is rethrown once every task has finished.
void run_tasks(int64_t tasks, int threads, const std::function<void(int64_t)> &task);

// The most worker threads the process keeps.
constexpr int kMaxWorkers = 256;

// How many workers the process has started so far (for tests and diagnostics).
int started_workers();

}  // namespace cpu
}  // namespace dp

#endif  // DYEPACK_SRC_CPU_WORKERS_H
