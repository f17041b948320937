// Logit conformance against llama.cpp (../shared/fixtures/gguf): the prompt must tokenize to
// the reference tokens, and the logits at the recorded positions must lie within the
// tolerances the fixture README calibrated with an independent float64 implementation.
#include <cmath>

#include <nlohmann/json.hpp>

#include "core/mapped_file.h"
#include "models/model.h"
#include "runtime/session.h"
#include "test_util.h"
#include "tokenizer/tokenizer.h"

namespace pm {
namespace {

struct Tolerance {
  double mean_rel;     // mean |delta| / std(reference)
  double max_rel;      // max |delta| / std(reference)
  double argmax_frac;  // fraction of positions whose argmax must match
};
constexpr Tolerance kFloatWeights{0.002, 0.01, 0.98};
constexpr Tolerance kQuantWeights{0.02, 0.15, 0.95};

struct Case {
  const char* name;
  Tolerance tol;
};

class LogitsConformance : public ::testing::TestWithParam<Case> {};

TEST_P(LogitsConformance, MatchesLlamaCpp) {
  const Case c = GetParam();
  const std::string base = std::string("gguf/") + c.name;
  PM_REQUIRE_FIXTURE(model_path, base + ".gguf");
  PM_REQUIRE_FIXTURE(ref_json_path, base + ".ref.json");
  PM_REQUIRE_FIXTURE(ref_f32_path, base + ".ref.f32");
  PM_REQUIRE_FIXTURE(prompt_path, "gguf/prompt.txt");

  const nlohmann::json ref = nlohmann::json::parse(test::read_text(ref_json_path));
  const std::vector<float> ref_logits = test::read_f32(ref_f32_path);
  const std::vector<TokenId> ref_tokens = ref["tokens"].get<std::vector<TokenId>>();
  const std::vector<int64_t> positions = ref["positions"].get<std::vector<int64_t>>();
  const std::vector<int64_t> ref_argmax = ref["argmax"].get<std::vector<int64_t>>();
  const int64_t n_vocab = ref["n_vocab"].get<int64_t>();
  ASSERT_EQ(ref_logits.size(), positions.size() * size_t(n_vocab));

  auto gguf = GgufFile::open(model_path);
  ASSERT_TRUE(gguf.is_ok()) << gguf.status().to_string();
  std::shared_ptr<const GgufFile> file(std::move(gguf).value());
  auto tok = Tokenizer::from_gguf(*file);
  ASSERT_TRUE(tok.is_ok()) << tok.status().to_string();
  auto model = load_model(file);
  ASSERT_TRUE(model.is_ok()) << model.status().to_string();
  ASSERT_EQ((*model)->info().n_vocab, n_vocab);

  // Tokens: special tokens added (BOS per metadata), no special-token parsing.
  const std::vector<TokenId> tokens = (*tok)->encode(test::read_text(prompt_path), true, false);
  ASSERT_EQ(tokens, ref_tokens);

  auto session = Session::create(**model, int64_t(tokens.size()));
  ASSERT_TRUE(session.is_ok()) << session.status().to_string();
  ASSERT_TRUE((*session)->eval(tokens, /*all_logits=*/true).is_ok());
  const std::vector<float>& logits = (*session)->all_logits();

  // Scale: standard deviation of the reference logits.
  double mean = 0, sq = 0;
  for (float v : ref_logits) mean += v;
  mean /= double(ref_logits.size());
  for (float v : ref_logits) sq += (v - mean) * (v - mean);
  const double sd = std::sqrt(sq / double(ref_logits.size()));
  ASSERT_GT(sd, 0.0);

  double sum_abs = 0, max_abs = 0;
  for (size_t p = 0; p < positions.size(); ++p) {
    const float* ours = logits.data() + size_t(positions[p]) * size_t(n_vocab);
    const float* theirs = ref_logits.data() + p * size_t(n_vocab);
    for (int64_t v = 0; v < n_vocab; ++v) {
      const double d = std::fabs(double(ours[v]) - double(theirs[v]));
      sum_abs += d;
      max_abs = std::max(max_abs, d);
    }
  }
  const double mean_rel = sum_abs / double(ref_logits.size()) / sd;
  const double max_rel = max_abs / sd;

  int64_t agree = 0;
  for (size_t i = 0; i < tokens.size(); ++i) {
    const float* row = logits.data() + i * size_t(n_vocab);
    int64_t best = 0;
    for (int64_t v = 1; v < n_vocab; ++v) if (row[v] > row[best]) best = v;
    agree += best == ref_argmax[i];
  }
  const double argmax_frac = double(agree) / double(tokens.size());

  RecordProperty("mean_rel", std::to_string(mean_rel));
  RecordProperty("max_rel", std::to_string(max_rel));
  std::printf("%s: mean |d| = %.5f sd, max |d| = %.5f sd, argmax agreement %.1f%%\n", c.name, mean_rel, max_rel,
              100.0 * argmax_frac);
  EXPECT_LE(mean_rel, c.tol.mean_rel);
  EXPECT_LE(max_rel, c.tol.max_rel);
  EXPECT_GE(argmax_frac, c.tol.argmax_frac);
}

INSTANTIATE_TEST_SUITE_P(Fixtures, LogitsConformance,
                         ::testing::Values(Case{"llama-spm-tiny-f16", kFloatWeights},
                                           Case{"llama-spm-tiny-q8_0", kQuantWeights},
                                           Case{"llama-spm-tiny-q4_0", kQuantWeights},
                                           Case{"qwen2-bpe-tiny-f16", kFloatWeights},
                                           Case{"qwen2-bpe-tiny-q8_0", kQuantWeights},
                                           Case{"llama-spm-256-q4_k_m", kQuantWeights},
                                           Case{"llama-spm-256-q6_k", kQuantWeights}),
                         [](const auto& info) {
                           std::string n = info.param.name;
                           for (char& ch : n) if (ch == '-') ch = '_';
                           return n;
                         });

// Evaluating the prompt in one batch and then token by token must give the same logits.
TEST(LogitsConsistency, BatchEqualsIncremental) {
  PM_REQUIRE_FIXTURE(model_path, "gguf/qwen2-bpe-tiny-f16.gguf");
  auto model = load_model(model_path);
  ASSERT_TRUE(model.is_ok()) << model.status().to_string();
  const std::vector<TokenId> tokens = {32013, 6936, 513, 523, 276, 1280, 22117, 429};
  const int64_t n_vocab = (*model)->info().n_vocab;
  auto batch = Session::create(**model, 16);
  auto step = Session::create(**model, 16);
  ASSERT_TRUE(batch.is_ok() && step.is_ok());
  ASSERT_TRUE((*batch)->eval(tokens, true).is_ok());
  for (size_t i = 0; i < tokens.size(); ++i) {
    ASSERT_TRUE((*step)->eval(&tokens[i], 1).is_ok());
    const float* a = (*batch)->all_logits().data() + i * size_t(n_vocab);
    const float* b = (*step)->logits();
    double max_d = 0;
    for (int64_t v = 0; v < n_vocab; ++v) max_d = std::max(max_d, double(std::fabs(a[v] - b[v])));
    EXPECT_LT(max_d, 1e-3) << "position " << i;
  }
}

TEST(LogitsConsistency, ContextOverflowIsAnError) {
  PM_REQUIRE_FIXTURE(model_path, "gguf/llama-spm-tiny-q8_0.gguf");
  auto model = load_model(model_path);
  ASSERT_TRUE(model.is_ok()) << model.status().to_string();
  auto session = Session::create(**model, 4);
  ASSERT_TRUE(session.is_ok());
  const std::vector<TokenId> tokens = {1, 2, 3, 4, 5};
  Status s = (*session)->eval(tokens);
  EXPECT_EQ(s.code(), StatusCode::kOutOfRange) << s.to_string();
  EXPECT_EQ((*session)->n_past(), 0);
  const std::vector<TokenId> bad = {1, 999999};
  EXPECT_EQ((*session)->eval(bad).code(), StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace pm
