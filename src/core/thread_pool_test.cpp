#include "core/thread_pool.h"

#include <algorithm>
#include <atomic>

#include <gtest/gtest.h>

namespace pm {
namespace {

TEST(ThreadPool, CoversEveryIndexExactlyOnce) {
  for (int threads : {1, 2, 3, 8}) {
    ThreadPool pool(threads);
    EXPECT_EQ(pool.n_threads(), threads);
    for (int64_t n : {1, 2, 7, 1000}) {
      std::vector<std::atomic<int>> hits(static_cast<size_t>(n));
      for (int rep = 0; rep < 50; ++rep)
        pool.parallel_for(n, 1, [&](int64_t b, int64_t e) {
          for (int64_t i = b; i < e; ++i) hits[size_t(i)]++;
        });
      for (int64_t i = 0; i < n; ++i) EXPECT_EQ(hits[size_t(i)].load(), 50) << threads << " threads, n " << n;
    }
  }
}

// Dynamic hand-out: every index once, chunks never past n and at most `chunk` long, whatever
// n and chunk (chunk 0 counts as 1).
TEST(ThreadPool, DynamicCoversEveryIndexExactlyOnce) {
  for (int threads : {1, 2, 3}) {
    ThreadPool pool(threads);
    for (int64_t n : {1, 2, 7, 1000}) {
      for (int64_t chunk : {0, 1, 3, 64, 2000}) {
        std::vector<std::atomic<int>> hits(static_cast<size_t>(n));
        std::atomic<bool> bad{false};
        for (int rep = 0; rep < 20; ++rep)
          pool.parallel_for_dynamic(n, chunk, [&](int64_t b, int64_t e) {
            if (b < 0 || e > n || b >= e || e - b > std::max<int64_t>(1, chunk)) bad = true;
            for (int64_t i = b; i < e && i < n; ++i) hits[size_t(i)]++;
          });
        EXPECT_FALSE(bad.load()) << threads << " threads, n " << n << ", chunk " << chunk;
        for (int64_t i = 0; i < n; ++i)
          EXPECT_EQ(hits[size_t(i)].load(), 20) << threads << " threads, n " << n << ", chunk " << chunk;
      }
    }
  }
}

TEST(ThreadPool, RunGivesEachThreadItsIndex) {
  ThreadPool pool(4);
  std::vector<std::atomic<int>> seen(4);
  pool.run([&](int i, int n) {
    EXPECT_EQ(n, 4);
    seen[size_t(i)]++;
  });
  for (auto& s : seen) EXPECT_EQ(s.load(), 1);
}

}  // namespace
}  // namespace pm
