// Sessions: state save -> load -> continue is bit-identical to an uninterrupted run, forks
// evolve independently, and states from another model or damaged files are refused.
#include "runtime/session.h"

#include <algorithm>
#include <cmath>
#include <cstring>

#include "models/synth.h"
#include "test_util.h"

namespace pm {
namespace {

std::vector<float> last_logits(const Session& s) {
  const size_t n = size_t(s.model().info().n_vocab);
  return std::vector<float>(s.logits(), s.logits() + n);
}

const std::vector<TokenId> kPrompt = {1, 450, 4996, 17354, 1701, 432};
const std::vector<TokenId> kMore = {29871, 29953, 29901, 29941};

TEST(SessionState, SaveLoadContinueIsBitIdentical) {
  PM_REQUIRE_FIXTURE(path, "gguf/llama-spm-tiny-q8_0.gguf");
  auto model = test::load_model_or_fail(path);
  ASSERT_TRUE(model);
  auto straight = Session::create(*model, 64);
  ASSERT_TRUE(straight.is_ok());
  ASSERT_TRUE((*straight)->eval(kPrompt).is_ok());
  const std::string file = test::temp_dir() + "/chat.pmstate";
  ASSERT_TRUE((*straight)->save_state(file).is_ok());
  ASSERT_TRUE((*straight)->eval(kMore).is_ok());

  // A new session (as after the app was killed) with a different context size.
  auto resumed = Session::create(*model, 32);
  ASSERT_TRUE(resumed.is_ok());
  Status s = (*resumed)->load_state(file);
  ASSERT_TRUE(s.is_ok()) << s.to_string();
  EXPECT_EQ((*resumed)->tokens(), kPrompt);
  EXPECT_EQ((*resumed)->n_past(), int64_t(kPrompt.size()));
  ASSERT_TRUE((*resumed)->eval(kMore).is_ok());
  const auto a = last_logits(**straight), b = last_logits(**resumed);
  EXPECT_EQ(std::memcmp(a.data(), b.data(), a.size() * sizeof(float)), 0);
}

TEST(SessionState, RestoredSessionKeepsTheLastLogits) {
  PM_REQUIRE_FIXTURE(path, "gguf/qwen2-bpe-tiny-q8_0.gguf");
  auto model = test::load_model_or_fail(path);
  ASSERT_TRUE(model);
  auto s = Session::create(*model, 32);
  ASSERT_TRUE(s.is_ok() && (*s)->eval(kPrompt).is_ok());
  auto bytes = (*s)->state_bytes();
  ASSERT_TRUE(bytes.is_ok());
  auto t = Session::create(*model, 32);
  ASSERT_TRUE((*t)->restore_state(bytes->data(), bytes->size()).is_ok());
  EXPECT_EQ(last_logits(**s), last_logits(**t));
}

TEST(SessionState, ForksEvolveIndependently) {
  PM_REQUIRE_FIXTURE(path, "gguf/qwen2-bpe-tiny-f16.gguf");
  auto model = test::load_model_or_fail(path);
  ASSERT_TRUE(model);
  auto base = Session::create(*model, 64);
  ASSERT_TRUE((*base)->eval(kPrompt).is_ok());
  auto fork = (*base)->fork();
  ASSERT_TRUE(fork.is_ok());
  ASSERT_TRUE((*fork)->eval(std::vector<TokenId>{100, 200, 300}).is_ok());
  ASSERT_TRUE((*base)->eval(kMore).is_ok());
  // The base must equal a fresh run of prompt + more, untouched by the fork's tokens.
  auto fresh = Session::create(*model, 64);
  std::vector<TokenId> all = kPrompt;
  all.insert(all.end(), kMore.begin(), kMore.end());
  ASSERT_TRUE((*fresh)->eval(all).is_ok());
  EXPECT_EQ(last_logits(**base), last_logits(**fresh));
  EXPECT_EQ((*fork)->n_past(), int64_t(kPrompt.size() + 3));
  EXPECT_NE(last_logits(**fork), last_logits(**base));
}

TEST(SessionState, RefusesAnotherModelsState) {
  PM_REQUIRE_FIXTURE(a_path, "gguf/llama-spm-tiny-q8_0.gguf");
  PM_REQUIRE_FIXTURE(b_path, "gguf/llama-spm-tiny-q4_0.gguf");  // same shapes, other weights
  auto a = test::load_model_or_fail(a_path), b = test::load_model_or_fail(b_path);
  ASSERT_TRUE(a && b);
  EXPECT_NE(a->identity(), b->identity());
  auto sa = Session::create(*a, 32);
  ASSERT_TRUE((*sa)->eval(kPrompt).is_ok());
  auto bytes = (*sa)->state_bytes();
  auto sb = Session::create(*b, 32);
  Status s = (*sb)->restore_state(bytes->data(), bytes->size(), "a.pmstate");
  EXPECT_EQ(s.code(), StatusCode::kInvalidArgument);
  EXPECT_NE(s.message().find("different model"), std::string::npos) << s.message();
  EXPECT_EQ((*sb)->n_past(), 0);
}

TEST(SessionState, RefusesDamagedFiles) {
  PM_REQUIRE_FIXTURE(path, "gguf/llama-spm-tiny-q8_0.gguf");
  auto model = test::load_model_or_fail(path);
  auto s = Session::create(*model, 32);
  ASSERT_TRUE((*s)->eval(kPrompt).is_ok());
  const std::vector<uint8_t> good = *(*s)->state_bytes();
  auto target = Session::create(*model, 32);
  // Every truncation and a flipped byte anywhere must be refused without touching the session.
  for (size_t n = 0; n < good.size(); n += 97) {
    std::vector<uint8_t> cut(good.begin(), good.begin() + long(n));
    EXPECT_FALSE((*target)->restore_state(cut.data(), cut.size()).is_ok()) << n;
  }
  for (size_t at : {size_t(5), good.size() / 2, good.size() - 1}) {
    std::vector<uint8_t> bad = good;
    bad[at] ^= 0x40;
    EXPECT_FALSE((*target)->restore_state(bad.data(), bad.size()).is_ok()) << at;
  }
  EXPECT_EQ((*target)->n_past(), 0);
  // A context too small for the saved tokens.
  auto tiny = Session::create(*model, 4);
  EXPECT_EQ((*tiny)->restore_state(good.data(), good.size()).code(), StatusCode::kOutOfRange);
  EXPECT_EQ((*target)->load_state("/nonexistent/x.pmstate").code(), StatusCode::kNotFound);
}

TEST(SessionState, RwkvSaveLoadContinueIsBitIdentical) {
  for (const char* name : {"rwkv/tiny-rwkv-7v0-834K-FP32.bin", "rwkv/tiny-rwkv-6v0-3m-Q5_0.bin",
                           "rwkv/tiny-rwkv-4v0-660K-FP16.bin"}) {
    PM_REQUIRE_FIXTURE(path, name);
    auto model = test::load_model_or_fail(path);
    ASSERT_TRUE(model);
    const std::vector<TokenId> prompt = {34, 105, 110, 32, 116, 104, 101}, more = {32, 98, 101, 103};
    auto straight = Session::create(*model);
    ASSERT_TRUE(straight.is_ok());
    ASSERT_TRUE((*straight)->eval(prompt).is_ok());
    const std::string file = test::temp_dir() + "/rwkv.pmstate";
    Status s = (*straight)->save_state(file);
    ASSERT_TRUE(s.is_ok()) << s.to_string();
    ASSERT_TRUE((*straight)->eval(more).is_ok());

    auto resumed = Session::create(*model);
    ASSERT_TRUE(resumed.is_ok());
    s = (*resumed)->load_state(file);
    ASSERT_TRUE(s.is_ok()) << name << ": " << s.to_string();
    EXPECT_EQ((*resumed)->tokens(), prompt);
    EXPECT_EQ((*resumed)->n_past(), int64_t(prompt.size()));
    ASSERT_TRUE((*resumed)->eval(more).is_ok());
    const auto a = last_logits(**straight), b = last_logits(**resumed);
    EXPECT_EQ(std::memcmp(a.data(), b.data(), a.size() * sizeof(float)), 0) << name;
  }
}

TEST(SessionState, RwkvStateFileGrowsOnlyByTheTokenList) {
  PM_REQUIRE_FIXTURE(path, "rwkv/tiny-rwkv-7v0-834K-FP32.bin");
  auto model = test::load_model_or_fail(path);
  ASSERT_TRUE(model);
  auto s = Session::create(*model);
  ASSERT_TRUE((*s)->eval(std::vector<TokenId>{65}).is_ok());
  const size_t one = (*s)->state_bytes()->size();
  ASSERT_TRUE((*s)->eval(std::vector<TokenId>(99, 66)).is_ok());
  EXPECT_EQ((*s)->state_bytes()->size(), one + 99 * sizeof(TokenId));
  // A damaged RWKV state is refused and the session stays as it was.
  std::vector<uint8_t> bytes = *(*s)->state_bytes();
  auto target = Session::create(*model);
  bytes.resize(bytes.size() - 100);
  EXPECT_FALSE((*target)->restore_state(bytes.data(), bytes.size()).is_ok());
  EXPECT_EQ((*target)->n_past(), 0);
}

// Several conversations advanced by one token each in one batched forward pass give the logits
// each would get alone (up to the summation order of the batched matrix products).
void expect_step_matches_alone(const std::string& path, float rel_tol) {
  auto model = test::load_model_or_fail(path);
  ASSERT_TRUE(model);
  const std::vector<std::vector<TokenId>> prompts = {kPrompt, {1, 29871}, {1, 450, 4996, 17354, 1701, 432, 29871, 29953, 29901}};
  const std::vector<TokenId> next = {29941, 450, 1701};
  std::vector<std::unique_ptr<Session>> batched, alone;
  for (const auto& prompt : prompts) {
    for (auto* group : {&batched, &alone}) {
      auto s = Session::create(*model, 64);
      ASSERT_TRUE(s.is_ok() && (*s)->eval(prompt).is_ok());
      group->push_back(std::move(s).value());
    }
  }
  std::vector<Session*> step = {batched[0].get(), batched[1].get(), batched[2].get()};
  Status st = Session::eval_step(step, next);
  ASSERT_TRUE(st.is_ok()) << st.to_string();
  for (size_t i = 0; i < prompts.size(); ++i) {
    ASSERT_TRUE(alone[i]->eval(&next[i], 1).is_ok());
    EXPECT_EQ(batched[i]->tokens(), alone[i]->tokens());
    const auto a = last_logits(*alone[i]), b = last_logits(*batched[i]);
    float max_abs = 0, max_d = 0;
    for (size_t j = 0; j < a.size(); ++j) {
      max_abs = std::max(max_abs, std::fabs(a[j]));
      max_d = std::max(max_d, std::fabs(a[j] - b[j]));
    }
    EXPECT_LE(max_d, rel_tol * max_abs) << path << " sequence " << i;
  }
}

TEST(SessionBatch, EvalStepMatchesEachSessionAlone) {
  PM_REQUIRE_FIXTURE(f16, "gguf/llama-spm-tiny-f16.gguf");
  expect_step_matches_alone(f16, 1e-4f);
  PM_REQUIRE_FIXTURE(q4, "gguf/llama-spm-tiny-q4_0.gguf");
  expect_step_matches_alone(q4, 1e-4f);
}

TEST(SessionBatch, EvalStepChecksEverySessionFirst) {
  PM_REQUIRE_FIXTURE(path, "gguf/qwen2-bpe-tiny-q8_0.gguf");
  auto model = test::load_model_or_fail(path);
  ASSERT_TRUE(model);
  auto a = Session::create(*model, 8);
  auto b = Session::create(*model, 8);
  ASSERT_TRUE((*a)->eval(kPrompt).is_ok() && (*b)->eval(std::vector<TokenId>(8, 5)).is_ok());
  // b is full: nothing advances, not even a.
  Status st = Session::eval_step({a->get(), b->get()}, {7, 7});
  EXPECT_EQ(st.code(), StatusCode::kOutOfRange) << st.to_string();
  EXPECT_EQ((*a)->n_past(), int64_t(kPrompt.size()));
  st = Session::eval_step({a->get(), a->get()}, {7, 7});
  EXPECT_FALSE(st.is_ok());
  st = Session::eval_step({a->get()}, {TokenId(model->info().n_vocab)});
  EXPECT_FALSE(st.is_ok());
  EXPECT_EQ((*a)->n_past(), int64_t(kPrompt.size()));
}

TEST(SessionBatch, RwkvEvalStepMatchesEachSessionAlone) {
  PM_REQUIRE_FIXTURE(path, "rwkv/tiny-rwkv-7v0-834K-FP32.bin");
  auto model = test::load_model_or_fail(path);
  ASSERT_TRUE(model);
  auto a = Session::create(*model), b = Session::create(*model), a1 = Session::create(*model), b1 = Session::create(*model);
  ASSERT_TRUE((*a)->eval(std::vector<TokenId>{65, 66}).is_ok() && (*a1)->eval(std::vector<TokenId>{65, 66}).is_ok());
  ASSERT_TRUE((*b)->eval(std::vector<TokenId>{70}).is_ok() && (*b1)->eval(std::vector<TokenId>{70}).is_ok());
  ASSERT_TRUE(Session::eval_step({a->get(), b->get()}, {67, 71}).is_ok());
  ASSERT_TRUE((*a1)->eval(std::vector<TokenId>{67}).is_ok() && (*b1)->eval(std::vector<TokenId>{71}).is_ok());
  EXPECT_EQ(last_logits(**a), last_logits(**a1));
  EXPECT_EQ(last_logits(**b), last_logits(**b1));
}

// Weights packed at load for the kernel table (PM_PACK, models/blocks.h) change no logit: a
// prompt in one batch and tokens one at a time, with and without packing, bit for bit. Small
// synthetic models (a vocabulary that is not a multiple of the group size: leftover rows).
// Logits of a prompt and then of three single tokens, with the model loaded with PM_PACK=pack.
std::vector<float> logits_with_packing(const std::string& path, const char* pack) {
  setenv("PM_PACK", pack, 1);
  auto model = test::load_model_or_fail(path);
  unsetenv("PM_PACK");
  if (!model) return {};
  auto s = Session::create(*model, 64);
  if (!s.is_ok() || !(*s)->eval(std::vector<TokenId>{1, 450, 499, 17, 170, 432, 9, 3, 77}).is_ok()) return {};
  std::vector<float> all = last_logits(**s);
  for (TokenId t : {5, 900, 64}) {
    if (!(*s)->eval(&t, 1).is_ok()) return {};
    const auto l = last_logits(**s);
    all.insert(all.end(), l.begin(), l.end());
  }
  return all;
}

TEST(SessionPacking, PackedWeightsGiveTheSameLogits) {
  const std::string dir = test::temp_dir();
  SynthShape shape = *find_synth_shape("qwen2.5-0.5b");
  shape.n_vocab = 1000, shape.n_embd = 256, shape.n_layer = 2, shape.n_head = 4, shape.n_head_kv = 2;
  shape.head_dim = 64, shape.n_ff = 768;
  for (GgmlType type : {GgmlType::kQ4_0, GgmlType::kQ4_1, GgmlType::kQ5_0, GgmlType::kQ5_1, GgmlType::kQ8_0,
                        GgmlType::kQ4_K, GgmlType::kQ5_K, GgmlType::kQ6_K}) {
    const std::string path = dir + "/m-" + type_name(type) + ".gguf";
    const Status written = write_synth_model(shape, type, path);
    ASSERT_TRUE(written.is_ok()) << written.to_string();
    const std::vector<std::vector<float>> runs{logits_with_packing(path, "0"), logits_with_packing(path, "1")};
    ASSERT_FALSE(runs[0].empty());
    ASSERT_EQ(runs[0].size(), runs[1].size());
    for (size_t i = 0; i < runs[0].size(); ++i) ASSERT_EQ(runs[0][i], runs[1][i]) << type_name(type) << " logit " << i;
  }
}

// RWKV-7 (.bin, misaligned tensors copied then freed once packed) gives the logits it gives
// unpacked, for a prompt and for single tokens. The projections are quantized (integer kernels:
// the same bits); the head and LoRA matrices are F16, whose packed kernels may round differently,
// hence a tolerance far below what a wrong row or block would cause.
TEST(SessionPacking, RwkvPackedWeightsGiveTheSameLogits) {
  const std::string dir = test::temp_dir();
  SynthRwkvShape shape = *find_synth_rwkv_shape("rwkv7-1.5b");
  shape.n_vocab = 1000, shape.n_embd = 256, shape.n_layer = 2;
  for (GgmlType type : {GgmlType::kQ4_0, GgmlType::kQ4_1, GgmlType::kQ8_0, GgmlType::kQ5_1}) {
    const std::string path = dir + "/r-" + type_name(type) + ".bin";
    const Status written = write_synth_rwkv7(shape, type, path);
    ASSERT_TRUE(written.is_ok()) << written.to_string();
    const std::vector<std::vector<float>> runs{logits_with_packing(path, "0"), logits_with_packing(path, "1")};
    ASSERT_FALSE(runs[0].empty());
    ASSERT_EQ(runs[0].size(), runs[1].size());
    for (size_t i = 0; i < runs[0].size(); ++i)
      ASSERT_NEAR(runs[0][i], runs[1][i], 1e-3f * (1.0f + std::fabs(runs[0][i]))) << type_name(type) << " logit " << i;
  }
}

// Going back to a shared prefix (a chat whose last turn is edited): a KV cache truncates and
// continues exactly as a fresh run of the same tokens; a recurrent state refuses.
TEST(SessionTruncate, KvCacheContinuesFromThePrefix) {
  PM_REQUIRE_FIXTURE(path, "gguf/llama-spm-tiny-q8_0.gguf");
  auto model = test::load_model_or_fail(path);
  ASSERT_TRUE(model);
  auto s = Session::create(*model, 64), fresh = Session::create(*model, 64);
  ASSERT_TRUE((*s)->eval(kPrompt).is_ok() && (*s)->eval(kMore).is_ok());
  EXPECT_FALSE((*s)->truncate(int64_t(kPrompt.size() + kMore.size()) + 1));
  ASSERT_TRUE((*s)->truncate(int64_t(kPrompt.size())));
  EXPECT_EQ((*s)->tokens(), kPrompt);
  const std::vector<TokenId> other = {29896, 29900};
  ASSERT_TRUE((*s)->eval(other).is_ok());
  ASSERT_TRUE((*fresh)->eval(kPrompt).is_ok() && (*fresh)->eval(other).is_ok());
  EXPECT_EQ(last_logits(**s), last_logits(**fresh));
}

TEST(SessionTruncate, RecurrentStateCannotGoBack) {
  PM_REQUIRE_FIXTURE(path, "rwkv/tiny-rwkv-7v0-834K-FP32.bin");
  auto model = test::load_model_or_fail(path);
  ASSERT_TRUE(model);
  auto s = Session::create(*model);
  ASSERT_TRUE((*s)->eval(std::vector<TokenId>{65, 66, 67}).is_ok());
  EXPECT_FALSE((*s)->truncate(1));
  EXPECT_EQ((*s)->n_past(), 3);
  EXPECT_TRUE((*s)->truncate(3));
}

}  // namespace
}  // namespace pm
