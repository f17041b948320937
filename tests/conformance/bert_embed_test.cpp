// BERT embeddings against llama.cpp's reference (../shared/fixtures/gguf/bert-bge-tiny-f16.*:
// mean-pooled, not normalized, final hidden state), plus batching, pooling, normalization and
// bad input, on the fixture and on a random-weight model written here.
#include <cmath>
#include <nlohmann/json.hpp>
#include <sstream>

#include "models/bert.h"
#include "store/embedder.h"
#include "test_util.h"

namespace pm {
namespace {

std::vector<TokenId> read_tokens(const std::string& path) {
  std::istringstream in(test::read_text(path));
  std::vector<TokenId> ids;
  for (long v; in >> v;) ids.push_back(TokenId(v));
  return ids;
}

float max_abs(const std::vector<float>& v) {
  float m = 0;
  for (float x : v) m = std::max(m, std::fabs(x));
  return m;
}

TEST(BertEmbed, MatchesLlamaCppReference) {
  PM_REQUIRE_FIXTURE(model, "gguf/bert-bge-tiny-f16.gguf");
  const std::vector<TokenId> tokens = read_tokens(test::fixture("gguf/bert-bge-tiny-f16.tokens.txt"));
  const std::vector<float> ref = test::read_f32(test::fixture("gguf/bert-bge-tiny-f16.ref-embd.f32"));
  ASSERT_FALSE(tokens.empty());
  Result<std::unique_ptr<EmbeddingModel>> m = load_embedding_model(model);
  ASSERT_TRUE(m.is_ok()) << m.status().to_string();
  ASSERT_EQ(size_t((*m)->info().n_embd), ref.size());
  EXPECT_EQ((*m)->default_pooling(), Pooling::kMean);
  std::vector<float> got(ref.size());
  ASSERT_TRUE((*m)->embed({tokens}, Pooling::kMean, /*normalize=*/false, got.data()).is_ok());
  float max_delta = 0;
  for (size_t i = 0; i < ref.size(); ++i) max_delta = std::max(max_delta, std::fabs(got[i] - ref[i]));
  const float scale = max_abs(ref);
  std::printf("bert-bge-tiny-f16: max |delta| = %.3g (%.3g x max|ref|)\n", max_delta, max_delta / scale);
  EXPECT_LE(max_delta, 1e-3f * scale);

  // Batched with other sequences (packed, attention kept within each) gives the same vector.
  std::vector<TokenId> other(tokens.begin(), tokens.begin() + 5);
  std::vector<float> batch(3 * ref.size());
  ASSERT_TRUE((*m)->embed({other, tokens, other}, Pooling::kMean, false, batch.data()).is_ok());
  for (size_t i = 0; i < ref.size(); ++i) EXPECT_NEAR(batch[ref.size() + i], got[i], 1e-5f * scale);
  for (size_t i = 0; i < ref.size(); ++i) EXPECT_EQ(batch[i], batch[2 * ref.size() + i]);
}

TEST(BertEmbed, TokenizesThePromptAsTheReferenceDid) {
  PM_REQUIRE_FIXTURE(model, "gguf/bert-bge-tiny-f16.gguf");
  std::string prompt = test::read_text(test::fixture("gguf/prompt.txt"));
  const std::vector<TokenId> tokens = read_tokens(test::fixture("gguf/bert-bge-tiny-f16.tokens.txt"));
  Result<std::unique_ptr<store::TextEmbedder>> e = store::TextEmbedder::open(model, 1);
  ASSERT_TRUE(e.is_ok()) << e.status().to_string();
  EXPECT_EQ((*e)->tokenize(prompt), tokens);
}

TEST(BertEmbed, CliPoolingAndNormalization) {
  PM_REQUIRE_FIXTURE(model, "gguf/bert-bge-tiny-f16.gguf");
  const std::string tok_text = test::read_text(test::fixture("gguf/bert-bge-tiny-f16.tokens.txt"));
  const std::vector<float> ref = test::read_f32(test::fixture("gguf/bert-bge-tiny-f16.ref-embd.f32"));
  const std::string dir = test::temp_dir();
  test::CommandResult r = test::run_pocketmind(
      {"embed", "-m", model, "--tokens", tok_text, "--pooling", "mean", "--no-normalize", "--out", dir + "/raw.f32"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const std::vector<float> raw = test::read_f32(dir + "/raw.f32");
  ASSERT_EQ(raw.size(), ref.size());
  for (size_t i = 0; i < ref.size(); ++i) EXPECT_NEAR(raw[i], ref[i], 1e-3f * max_abs(ref));

  r = test::run_pocketmind({"embed", "-m", model, "--json", "hello world", "你好世界"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  nlohmann::json j = nlohmann::json::parse(r.out);
  ASSERT_EQ(j["embeddings"].size(), 2u);
  EXPECT_EQ(j["dim"], 64);
  EXPECT_EQ(j["normalized"], true);
  for (const auto& item : j["embeddings"]) {
    double ss = 0;
    for (double x : item["embedding"]) ss += x * x;
    EXPECT_NEAR(ss, 1.0, 1e-4);
  }
  r = test::run_pocketmind({"embed", "-m", model, "--pooling", "cls", "--json", "hello world"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(nlohmann::json::parse(r.out)["embeddings"][0]["embedding"], j["embeddings"][0]["embedding"]);

  r = test::run_pocketmind({"embed", "-m", model, "--pooling", "max", "x"});
  EXPECT_NE(r.exit_code, 0);
  EXPECT_NE(r.err.find("--pooling"), std::string::npos) << r.err;
  r = test::run_pocketmind({"embed", "-m", model, "--tokens", "101,999999,102"});
  EXPECT_NE(r.exit_code, 0);
  EXPECT_NE(r.err.find("outside the vocabulary"), std::string::npos) << r.err;
}

TEST(BertEmbed, RefusesModelsThatAreNotEncoders) {
  PM_REQUIRE_FIXTURE(llama, "gguf/llama-spm-tiny-f16.gguf");
  Result<std::unique_ptr<store::TextEmbedder>> e = store::TextEmbedder::open(llama, 1);
  ASSERT_FALSE(e.is_ok());
  EXPECT_NE(e.status().to_string().find("not an embedding model"), std::string::npos) << e.status().to_string();
  test::CommandResult r = test::run_pocketmind({"embed", "-m", test::temp_dir() + "/missing.gguf", "x"});
  EXPECT_NE(r.exit_code, 0);
  EXPECT_NE(r.err.find("missing.gguf"), std::string::npos) << r.err;
}

TEST(BertEmbed, RandomModelBatchesLongInputsAndBadTokens) {
  const std::string path = test::temp_dir() + "/rand-bert.gguf";
  BertShape shape;
  shape.n_embd = 32;
  shape.n_layer = 2;
  shape.n_head = 4;
  shape.n_ff = 64;
  shape.n_vocab = 600;
  shape.n_ctx = 16;
  ASSERT_TRUE(write_random_bert(path, shape, 7).is_ok());
  Result<std::unique_ptr<store::TextEmbedder>> e = store::TextEmbedder::open(path, 2);
  ASSERT_TRUE(e.is_ok()) << e.status().to_string();
  const store::TextEmbedder& emb = **e;
  EXPECT_EQ(emb.dim(), 32);
  EXPECT_EQ(emb.default_pooling(), Pooling::kCls);
  bool truncated = false;
  std::vector<TokenId> ids = emb.tokenize("a b c d e f g h i j k l m n o p q r s t u v w x y z", &truncated);
  EXPECT_TRUE(truncated);
  EXPECT_EQ(ids.size(), 16u);
  EXPECT_EQ(ids.back(), emb.tokenizer().special().sep);
  std::vector<std::string> texts = {"你好", "hello world", "", "a b c d e f g h i j k l m n o p q r s t u v w x y z"};
  std::vector<float> all, one;
  ASSERT_TRUE(emb.embed(texts, Pooling::kMean, true, &all, /*max_batch_tokens=*/20).is_ok());
  for (size_t i = 0; i < texts.size(); ++i) {
    ASSERT_TRUE(emb.embed({texts[i]}, Pooling::kMean, true, &one).is_ok());
    for (size_t c = 0; c < 32; ++c) EXPECT_NEAR(all[i * 32 + c], one[c], 1e-5f) << "text " << i;
  }
  std::vector<float> out(32);
  EXPECT_FALSE(emb.model().embed({{}}, Pooling::kMean, false, out.data()).is_ok());
  EXPECT_FALSE(emb.model().embed({{2, 600, 3}}, Pooling::kMean, false, out.data()).is_ok());
  EXPECT_FALSE(emb.model().embed({std::vector<TokenId>(17, 5)}, Pooling::kMean, false, out.data()).is_ok());
}

// nomic-bert has no reference file here: check its plumbing (shapes, packing, pooling) and that
// rotary positions make the vector depend on token order, which bert's learned positions also do.
TEST(BertEmbed, NomicBertRandomModelRunsAndIsOrderSensitive) {
  const std::string path = test::temp_dir() + "/rand-nomic.gguf";
  BertShape shape;
  shape.n_embd = 32;
  shape.n_layer = 2;
  shape.n_head = 4;
  shape.n_ff = 64;
  shape.n_vocab = 600;
  shape.n_ctx = 64;
  shape.nomic = true;
  ASSERT_TRUE(write_random_bert(path, shape, 9).is_ok());
  Result<std::unique_ptr<EmbeddingModel>> m = load_embedding_model(path);
  ASSERT_TRUE(m.is_ok()) << m.status().to_string();
  EXPECT_EQ((*m)->info().arch, "nomic-bert");
  EXPECT_EQ((*m)->default_pooling(), Pooling::kMean);
  const std::vector<TokenId> a = {2, 40, 41, 42, 3}, b = {2, 42, 41, 40, 3};
  std::vector<float> out(3 * 32);
  ASSERT_TRUE((*m)->embed({a, b, a}, Pooling::kMean, true, out.data()).is_ok());
  float diff = 0, norm = 0;
  for (int c = 0; c < 32; ++c) {
    ASSERT_TRUE(std::isfinite(out[c]));
    diff = std::max(diff, std::fabs(out[c] - out[32 + c]));
    EXPECT_FLOAT_EQ(out[c], out[64 + c]);
    norm += out[c] * out[c];
  }
  EXPECT_GT(diff, 1e-6f);  // small (random weights of std 0.02 attend almost uniformly), but far above rounding
  EXPECT_NEAR(norm, 1.0f, 1e-4f);
}

}  // namespace
}  // namespace pm
