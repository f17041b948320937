#include "generate/sampler.h"

#include <cmath>
#include <map>

#include <gtest/gtest.h>

#include "generate/chat_template.h"
#include "generate/generator.h"

namespace pm {
namespace {

SamplerParams plain(float temp, uint64_t seed = 1) {
  SamplerParams p;
  p.temperature = temp;
  p.top_k = 0;
  p.top_p = 1.0f;
  p.min_p = 0.0f;
  p.seed = seed;
  return p;
}

TEST(Sampler, GreedyPicksArgmaxLowestIdOnTies) {
  Sampler s(plain(0.0f));
  const float logits[] = {1.0f, 3.0f, 3.0f, -2.0f};
  EXPECT_EQ(s.sample(logits, 4, {}), 1);
}

TEST(Sampler, SameSeedSameTokens) {
  std::vector<float> logits(100);
  for (int i = 0; i < 100; ++i) logits[size_t(i)] = std::sin(float(i)) * 3;
  Sampler a(plain(1.0f, 42)), b(plain(1.0f, 42)), c(plain(1.0f, 43));
  std::vector<TokenId> ra, rb, rc;
  for (int i = 0; i < 200; ++i) {
    ra.push_back(a.sample(logits.data(), 100, {}));
    rb.push_back(b.sample(logits.data(), 100, {}));
    rc.push_back(c.sample(logits.data(), 100, {}));
  }
  EXPECT_EQ(ra, rb);
  EXPECT_NE(ra, rc);
}

TEST(Sampler, FollowsSoftmaxAtTemperature) {
  // logits 0, ln 2, ln 4 at temperature 1 -> probabilities 1/7, 2/7, 4/7.
  const float logits[] = {0.0f, std::log(2.0f), std::log(4.0f)};
  Sampler s(plain(1.0f, 7));
  std::map<TokenId, int> counts;
  const int n = 70000;
  for (int i = 0; i < n; ++i) ++counts[s.sample(logits, 3, {})];
  EXPECT_NEAR(counts[0] / double(n), 1.0 / 7, 0.01);
  EXPECT_NEAR(counts[1] / double(n), 2.0 / 7, 0.01);
  EXPECT_NEAR(counts[2] / double(n), 4.0 / 7, 0.01);
  // Temperature 0.5 squares the ratios: 1/21, 4/21, 16/21.
  Sampler cold(plain(0.5f, 7));
  counts.clear();
  for (int i = 0; i < n; ++i) ++counts[cold.sample(logits, 3, {})];
  EXPECT_NEAR(counts[2] / double(n), 16.0 / 21, 0.01);
}

TEST(Sampler, TopKTopPMinPFilter) {
  // probabilities 0.5, 0.3, 0.2 at temperature 1
  const float logits[] = {std::log(0.5f), std::log(0.3f), std::log(0.2f)};
  auto seen = [&](SamplerParams p) {
    Sampler s(p);
    std::map<TokenId, int> c;
    for (int i = 0; i < 5000; ++i) ++c[s.sample(logits, 3, {})];
    return c;
  };
  SamplerParams k1 = plain(1.0f);
  k1.top_k = 1;
  EXPECT_EQ(seen(k1).size(), 1u);
  SamplerParams tp = plain(1.0f);
  tp.top_p = 0.7f;
  auto c = seen(tp);
  EXPECT_EQ(c.count(2), 0u);
  EXPECT_GT(c[1], 0);
  SamplerParams mp = plain(1.0f);
  mp.min_p = 0.5f;  // floor 0.25: token 2 (0.2) is dropped
  c = seen(mp);
  EXPECT_EQ(c.count(2), 0u);
  EXPECT_GT(c[1], 0);
}

TEST(Sampler, PenaltiesDiscourageRepeats) {
  const float logits[] = {2.0f, 1.9f, 0.0f};
  SamplerParams p = plain(0.0f);
  p.repeat_penalty = 1.5f;  // 2.0 -> 1.33 < 1.9
  Sampler s(p);
  EXPECT_EQ(s.sample(logits, 3, {0}), 1);
  SamplerParams f = plain(0.0f);
  f.frequency_penalty = 0.06f;  // two occurrences: 2.0 - 0.12 < 1.9
  Sampler sf(f);
  EXPECT_EQ(sf.sample(logits, 3, {0}), 0);
  EXPECT_EQ(sf.sample(logits, 3, {0, 0}), 1);
  SamplerParams pr = plain(0.0f);
  pr.presence_penalty = 0.2f;
  Sampler sp(pr);
  EXPECT_EQ(sp.sample(logits, 3, {0}), 1);
}

TEST(Sampler, MaskExcludesTokens) {
  const float logits[] = {5.0f, 1.0f, 3.0f};
  const uint8_t allowed[] = {0, 1, 1};
  Sampler s(plain(0.0f));
  EXPECT_EQ(s.sample(logits, 3, {}, allowed), 2);
  Sampler hot(plain(2.0f));
  for (int i = 0; i < 100; ++i) EXPECT_NE(hot.sample(logits, 3, {}, allowed), 0);
}

TEST(Sampler, ValidateNamesTheField) {
  SamplerParams p;
  p.top_p = 1.5f;
  EXPECT_NE(p.validate().message().find("top_p"), std::string::npos);
  p = SamplerParams{};
  p.temperature = -1;
  EXPECT_NE(p.validate().message().find("temperature"), std::string::npos);
  EXPECT_TRUE(SamplerParams{}.validate().is_ok());
}

TEST(StopStrings, HoldsBackPossiblePrefixes) {
  const std::vector<std::string> stop = {"<|im_end|>", "\nUser:"};
  EXPECT_EQ(stop_holdback("Hello <|im", stop), 4u);
  EXPECT_EQ(stop_holdback("Hello", stop), 0u);
  EXPECT_EQ(stop_holdback("line\n", stop), 1u);
  EXPECT_EQ(stop_holdback("line\nUse", stop), 4u);
  EXPECT_EQ(stop_holdback("<", stop), 1u);
  EXPECT_EQ(stop_holdback("", stop), 0u);
}

TEST(ChatTemplate, DetectsFamiliesAndRenders) {
  const std::vector<ChatMessage> msgs = {{"system", "Be brief."}, {"user", "你好"}};
  const ChatTemplate chatml = chat_template_for("{% for m in messages %}<|im_start|>{{ m.role }}...", "qwen2");
  EXPECT_EQ(chatml.format, ChatFormat::kChatML);
  EXPECT_EQ(render_chat(chatml, msgs, true),
            "<|im_start|>system\nBe brief.<|im_end|>\n<|im_start|>user\n你好<|im_end|>\n<|im_start|>assistant\n");
  const ChatTemplate llama3 = chat_template_for("<|start_header_id|>", "llama");
  EXPECT_EQ(render_chat(llama3, {{"user", "hi"}}, true),
            "<|start_header_id|>user<|end_header_id|>\n\nhi<|eot_id|><|start_header_id|>assistant<|end_header_id|>\n\n");
  const ChatTemplate mistral = chat_template_for("[INST]", "llama");
  EXPECT_EQ(render_chat(mistral, {{"system", "S"}, {"user", "a"}, {"assistant", "b"}, {"user", "c"}}, true),
            "[INST] S\n\na [/INST]b</s>[INST] c [/INST]");
  const ChatTemplate qwen = chat_template_for("You are Qwen, created by Alibaba Cloud. You are a helpful assistant. <|im_start|>", "qwen2");
  EXPECT_EQ(render_chat(qwen, {{"user", "x"}}, false).rfind("<|im_start|>system\nYou are Qwen", 0), 0u);
  EXPECT_EQ(chat_template_for("", "llama").format, ChatFormat::kPlain);
  EXPECT_EQ(render_chat(chat_template_for("", "rwkv7"), {{"user", "hi"}}, true), "User: hi\n\nAssistant:");
}

}  // namespace
}  // namespace pm
