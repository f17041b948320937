#include "runtime/memory_budget.h"

#include <cmath>

#include "runtime/session.h"
#include "test_util.h"

namespace pm {
namespace {

ModelInfo qwen05_like() {
  ModelInfo i;
  i.arch = "qwen2";
  i.n_vocab = 151936;
  i.n_ctx_train = 32768;
  i.n_embd = 896;
  i.n_layer = 24;
  i.n_head = 14;
  i.n_head_kv = 2;
  i.head_dim = 64;
  i.n_ff = 4864;
  i.weights_bytes = 500u << 20;
  i.kv_bytes_per_token = 2 * 24 * 128 * 2;  // f16 K and V rows of 2 x 64
  return i;
}

TEST(MemoryBudget, PicksTheLargestContextThatFits) {
  const ModelInfo info = qwen05_like();
  auto none = plan_memory(info, 0, 0);
  ASSERT_TRUE(none.is_ok());
  EXPECT_EQ(none->n_ctx, 4096);
  auto roomy = plan_memory(info, 0, 4ull << 30);
  ASSERT_TRUE(roomy.is_ok());
  EXPECT_EQ(roomy->n_ctx, 4096);  // capped at the default even when more would fit
  auto tight = plan_memory(info, 0, (500u << 20) + none->scratch_bytes + 1000 * info.kv_bytes_per_token);
  ASSERT_TRUE(tight.is_ok());
  EXPECT_EQ(tight->n_ctx, 1000);
  EXPECT_LE(tight->total_bytes(), (500u << 20) + none->scratch_bytes + 1000 * info.kv_bytes_per_token);
}

TEST(MemoryBudget, RefusesBeforeAllocating) {
  const ModelInfo info = qwen05_like();
  auto small = plan_memory(info, 0, 400u << 20);
  EXPECT_EQ(small.status().code(), StatusCode::kResourceExhausted);
  EXPECT_NE(small.status().message().find("budget is 400 MiB"), std::string::npos) << small.status().message();
  auto too_long = plan_memory(info, 32768, 600u << 20);
  EXPECT_EQ(too_long.status().code(), StatusCode::kResourceExhausted);
  EXPECT_NE(too_long.status().message().find("at most"), std::string::npos) << too_long.status().message();
}

TEST(MemoryBudget, RecurrentStateIsFixed) {
  ModelInfo info = qwen05_like();
  info.recurrent = true;
  info.kv_bytes_per_token = 0;
  info.recurrent_state_bytes = 1 << 20;
  auto a = plan_memory(info, 100000, 2ull << 30);
  ASSERT_TRUE(a.is_ok());
  EXPECT_EQ(a->state_bytes, 1u << 20);
}

TEST(MemoryBudget, ParsesSizes) {
  EXPECT_EQ(*parse_byte_size("4G"), 4ull << 30);
  EXPECT_EQ(*parse_byte_size("512MiB"), 512ull << 20);
  EXPECT_EQ(*parse_byte_size("1.5g"), 3ull << 29);
  EXPECT_EQ(*parse_byte_size("1000"), 1000u);
  EXPECT_FALSE(parse_byte_size("lots").is_ok());
  EXPECT_FALSE(parse_byte_size("4T").is_ok());
  EXPECT_FALSE(parse_byte_size("-1G").is_ok());
}

// An 8-bit KV cache stays close to the fp16 one (and f32 closer still).
TEST(KvCacheTypes, Q8AndF32StayCloseToF16) {
  PM_REQUIRE_FIXTURE(path, "gguf/qwen2-bpe-tiny-f16.gguf");
  const std::vector<TokenId> tokens = {32013, 6936, 513, 523, 276, 1280, 22117, 429, 207, 21, 25, 18};
  std::vector<std::vector<float>> logits;
  for (GgmlType kv : {GgmlType::kF16, GgmlType::kQ8_0, GgmlType::kF32}) {
    ModelOptions o;
    o.kv_type = kv;
    auto m = load_model(path, o);
    ASSERT_TRUE(m.is_ok()) << m.status().to_string();
    auto s = Session::create(**m, 32);
    ASSERT_TRUE((*s)->eval(tokens).is_ok());
    logits.emplace_back((*s)->logits(), (*s)->logits() + (*m)->info().n_vocab);
    // 2 layers x (K + V) x one row of 2 KV heads x 16 dims: 64 bytes in f16, 34 in q8_0.
    if (kv == GgmlType::kQ8_0) {
      EXPECT_EQ((*m)->info().kv_bytes_per_token, 2u * 2 * 34);
    }
  }
  double sd = 0, mean = 0;
  for (float v : logits[0]) mean += v;
  mean /= double(logits[0].size());
  for (float v : logits[0]) sd += (v - mean) * (v - mean);
  sd = std::sqrt(sd / double(logits[0].size()));
  for (size_t k : {size_t(1), size_t(2)}) {
    double d = 0;
    for (size_t i = 0; i < logits[0].size(); ++i) d += std::fabs(logits[k][i] - logits[0][i]);
    EXPECT_LT(d / double(logits[0].size()) / sd, k == 1 ? 0.02 : 0.002) << (k == 1 ? "q8_0" : "f32");
  }
  ModelOptions bad;
  bad.kv_type = GgmlType::kQ4_K;
  EXPECT_EQ(load_model(path, bad).status().code(), StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace pm
