// A fixed pool of worker threads for data-parallel loops (no thread creation per token).
// The calling thread takes part in the work, so a pool of n threads has n - 1 workers.
//
// Generating a token runs a few hundred short parallel regions (one per matrix product), each
// some tens of microseconds long, back to back. Waking a sleeping thread through the kernel costs
// about as much, so between regions the workers (and the caller, waiting for them) spin for a
// bounded while (kSpinIterations pauses, some tens of microseconds) before they block: a region
// that follows at once starts without a system call, and an idle pool still sleeps.
#pragma once

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <mutex>
#include <thread>
#include <vector>

namespace pm {

class ThreadPool {
 public:
  // n_threads <= 0: one per hardware thread.
  explicit ThreadPool(int n_threads);
  ~ThreadPool();
  ThreadPool(const ThreadPool&) = delete;
  ThreadPool& operator=(const ThreadPool&) = delete;

  int n_threads() const { return int(workers_.size()) + 1; }

  // Runs fn(thread_index, n_threads) on every thread (the caller is index 0) and waits for all.
  // Not reentrant: one parallel region at a time per pool.
  void run(const std::function<void(int, int)>& fn);

  // Splits [0, n) into contiguous chunks of at least `grain` items, one or more per thread,
  // and calls fn(begin, end) for each.
  void parallel_for(int64_t n, int64_t grain, const std::function<void(int64_t, int64_t)>& fn);

  // Like parallel_for, but [0, n) is handed out `chunk` items at a time to whichever thread
  // asks next, so a thread that runs slower (its core shared with another program) takes fewer.
  // Which thread runs a chunk is not fixed: fn must not depend on it.
  void parallel_for_dynamic(int64_t n, int64_t chunk, const std::function<void(int64_t, int64_t)>& fn);

 private:
  static constexpr int kSpinIterations = 2000;

  void worker_loop(int index);

  std::vector<std::thread> workers_;
  std::mutex mu_;  // guards the sleeping side: changes a sleeper waits for are made under it
  std::condition_variable start_cv_, done_cv_;
  std::atomic<const std::function<void(int, int)>*> job_{nullptr};
  std::atomic<uint64_t> generation_{0};
  std::atomic<int> pending_{0};
  std::atomic<bool> stop_{false};
};

}  // namespace pm
