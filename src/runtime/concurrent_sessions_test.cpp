// Several agents over one loaded model: 8 sessions, each on its own thread with its own state,
// sharing the read-only weights, must produce exactly what each produces alone.
#include <thread>

#include "runtime/session.h"
#include "test_util.h"

namespace pm {
namespace {

void run_agents(const Model& model, int64_t n_vocab) {
  constexpr int kAgents = 8;
  auto prompt_of = [&](int agent) {
    std::vector<TokenId> p;
    for (int i = 0; i < 12 + agent; ++i) p.push_back(TokenId((agent * 37 + i * 11 + 1) % n_vocab));
    return p;
  };
  // Alone, one after the other.
  std::vector<std::vector<float>> expected(kAgents);
  for (int a = 0; a < kAgents; ++a) {
    auto s = Session::create(model, 64);
    ASSERT_TRUE(s.is_ok());
    ASSERT_TRUE((*s)->eval(prompt_of(a)).is_ok());
    for (TokenId t : {5, 9, 13}) ASSERT_TRUE((*s)->eval(&t, 1).is_ok());
    expected[size_t(a)].assign((*s)->logits(), (*s)->logits() + n_vocab);
  }
  // All at once.
  std::vector<std::vector<float>> got(kAgents);
  std::vector<std::string> errors(kAgents);
  std::vector<std::thread> threads;
  for (int a = 0; a < kAgents; ++a) {
    threads.emplace_back([&, a] {
      auto s = Session::create(model, 64);
      if (!s.is_ok()) { errors[size_t(a)] = s.status().to_string(); return; }
      Status st = (*s)->eval(prompt_of(a));
      for (TokenId t : {5, 9, 13})
        if (st.is_ok()) st = (*s)->eval(&t, 1);
      if (!st.is_ok()) { errors[size_t(a)] = st.to_string(); return; }
      got[size_t(a)].assign((*s)->logits(), (*s)->logits() + n_vocab);
    });
  }
  for (std::thread& t : threads) t.join();
  for (int a = 0; a < kAgents; ++a) {
    EXPECT_EQ(errors[size_t(a)], "") << "agent " << a;
    EXPECT_EQ(got[size_t(a)], expected[size_t(a)]) << "agent " << a;
  }
}

TEST(ConcurrentSessions, TransformerAgentsAreIndependent) {
  PM_REQUIRE_FIXTURE(path, "gguf/qwen2-bpe-tiny-q8_0.gguf");
  auto model = load_model(path);
  ASSERT_TRUE(model.is_ok()) << model.status().to_string();
  run_agents(**model, (*model)->info().n_vocab);
}

TEST(ConcurrentSessions, RwkvAgentsAreIndependent) {
  PM_REQUIRE_FIXTURE(path, "rwkv/tiny-rwkv-7v0-834K-Q5_1.bin");
  auto model = load_model(path);
  ASSERT_TRUE(model.is_ok()) << model.status().to_string();
  run_agents(**model, (*model)->info().n_vocab);
}

// Sessions sharing one thread pool still compute what a single-threaded session computes.
TEST(ConcurrentSessions, ThreadPoolGivesTheSameLogits) {
  PM_REQUIRE_FIXTURE(path, "gguf/llama-spm-tiny-q4_0.gguf");
  auto model = load_model(path);
  ASSERT_TRUE(model.is_ok());
  ThreadPool pool(3);
  auto a = Session::create(**model, 32);
  auto b = Session::create(**model, 32, &pool);
  const std::vector<TokenId> p = {1, 450, 4996, 17354, 1701, 432, 29871};
  ASSERT_TRUE((*a)->eval(p).is_ok() && (*b)->eval(p).is_ok());
  const size_t n = size_t((*model)->info().n_vocab);
  EXPECT_EQ(std::vector<float>((*a)->logits(), (*a)->logits() + n), std::vector<float>((*b)->logits(), (*b)->logits() + n));
}

}  // namespace
}  // namespace pm
