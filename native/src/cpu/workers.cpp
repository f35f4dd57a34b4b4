#include "cpu/workers.h"

#include <algorithm>
#include <condition_variable>
#include <deque>
#include <exception>
#include <mutex>
#include <system_error>
#include <thread>
#include <vector>

#if defined(__linux__)
#include <pthread.h>
#endif

namespace dp {
namespace cpu {

namespace {

// One run_tasks call, on the caller's stack. Every field but `errors` is guarded by the pool's mutex.
// A worker touches the job only while it holds that mutex or runs one of its tasks; whoever finishes
// the last task notifies `finished` under the mutex and never touches the job again, so the caller,
// which must take the mutex to see every task finished, can return and let the job go.
struct Job {
  const std::function<void(int64_t)> *task = nullptr;
  int64_t tasks = 0;
  int helpers = 0;   // workers allowed on it: threads - 1
  int joined = 0;    // workers that have come to it
  int64_t next = 0;  // the next task to hand out
  int64_t done = 0;  // tasks finished
  std::condition_variable finished;
  std::vector<std::exception_ptr> errors;  // slot k written only by whoever runs task k
};

void execute(Job &job, int64_t k) {
  try {
    (*job.task)(k);
  } catch (...) {
    job.errors[static_cast<size_t>(k)] = std::current_exception();
  }
}

class Pool {
 public:
  void run(int64_t tasks, int threads, const std::function<void(int64_t)> &task) {
    Job job;
    job.task = &task;
    job.tasks = tasks;
    job.errors.resize(static_cast<size_t>(tasks));
    std::unique_lock<std::mutex> lock(mutex_);
    grow(threads - 1);
    job.helpers = static_cast<int>(std::min<int64_t>({threads - 1, tasks - 1, workers_}));
    if (job.helpers > 0) {
      queue_.push_back(&job);
      for (int i = 0; i < job.helpers; ++i) wake_.notify_one();
    }
    drain(job, lock);
    job.finished.wait(lock, [&] { return job.done == job.tasks; });
    lock.unlock();
    for (const std::exception_ptr &e : job.errors)
      if (e) std::rethrow_exception(e);
  }

  int workers() {
    std::lock_guard<std::mutex> lock(mutex_);
    return workers_;
  }

 private:
  // Runs the job's tasks not yet taken, one at a time, the mutex released while each runs. On return
  // every task has been handed out (the job has left the queue) and the mutex is held.
  void drain(Job &job, std::unique_lock<std::mutex> &lock) {
    while (job.next < job.tasks) {
      const int64_t k = job.next++;
      if (job.next == job.tasks) leave(job);
      lock.unlock();
      execute(job, k);
      lock.lock();
      ++job.done;
    }
  }

  void leave(Job &job) {
    const auto it = std::find(queue_.begin(), queue_.end(), &job);
    if (it != queue_.end()) queue_.erase(it);
  }

  // The oldest queued job that takes another worker, or null.
  Job *open_job() {
    for (Job *j : queue_)
      if (j->joined < j->helpers) return j;
    return nullptr;
  }

  // Starts workers until there are `wanted` (at most kMaxWorkers); stops at the first that cannot be
  // started. Requires the mutex.
  void grow(int64_t wanted) {
    while (workers_ < wanted && workers_ < kMaxWorkers) {
      try {
        std::thread(&Pool::work, this).detach();
      } catch (const std::system_error &) {
        return;
      }
      ++workers_;
    }
  }

  void work() {
#if defined(__linux__)
    pthread_setname_np(pthread_self(), "dyepack-cpu");
#endif
    std::unique_lock<std::mutex> lock(mutex_);
    for (;;) {
      Job *job = nullptr;
      wake_.wait(lock, [&] { return (job = open_job()) != nullptr; });
      ++job->joined;
      drain(*job, lock);
      if (job->done == job->tasks) job->finished.notify_one();  // the job's last touch by this worker
    }
  }

  std::mutex mutex_;
  std::condition_variable wake_;
  std::deque<Job *> queue_;  // jobs with tasks not yet handed out, oldest first
  int workers_ = 0;
};

// Never destroyed: workers sleep in it until the process ends, and an engine may still be called while
// the host process runs its static destructors.
Pool &pool() {
  static Pool *const p = new Pool();
  return *p;
}

}  // namespace

void run_tasks(int64_t tasks, int threads, const std::function<void(int64_t)> &task) {
  if (tasks <= 0) return;
  if (tasks == 1 || threads <= 1) {
    for (int64_t k = 0; k < tasks; ++k) task(k);
    return;
  }
  pool().run(tasks, threads, task);
}

int started_workers() { return pool().workers(); }

}  // namespace cpu
}  // namespace dp
