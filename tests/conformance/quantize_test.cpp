// The quantizer against the tools that made the fixtures: quantizing the FP32 rwkv.cpp files
// must reproduce rwkv.cpp's own quantized files byte for byte, and quantizing the F16 GGUF
// fixture must reproduce llama-quantize's tensors (same types chosen, same bytes).
#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <cstring>

#include "formats/gguf.h"
#include "formats/quantizer.h"
#include "models/model.h"
#include "runtime/session.h"
#include "test_util.h"

namespace pm {
namespace {

TEST(Quantize, RwkvMatchesRwkvCppByteForByte) {
  int compared = 0;
  for (const char* version : {"4v0-660K", "5v1-730K", "5v2-730K", "7v0-834K"}) {
    const std::string base = std::string("rwkv/tiny-rwkv-") + version;
    PM_REQUIRE_FIXTURE(fp32, base + "-FP32.bin");
    for (const char* q : {"Q5_0", "Q5_1"}) {
      const std::string out = test::temp_dir() + "/q.bin";
      auto r = quantize_model_file(fp32, out, *type_from_name(q));
      ASSERT_TRUE(r.is_ok()) << r.status().to_string();
      EXPECT_GT(r->tensors_quantized, 0);
      const std::string ours = test::read_text(out), theirs = test::read_text(test::fixture(base + "-" + q + ".bin"));
      EXPECT_EQ(ours.size(), theirs.size()) << version << " " << q;
      const auto diff = std::mismatch(ours.begin(), ours.end(), theirs.begin(), theirs.end());
      EXPECT_TRUE(diff.first == ours.end()) << version << " " << q << ": first difference at byte "
                                            << (diff.first - ours.begin());
      ++compared;
    }
  }
  EXPECT_EQ(compared, 8);
}

TEST(Quantize, GgufMatchesLlamaQuantize) {
  PM_REQUIRE_FIXTURE(f16, "gguf/llama-spm-tiny-f16.gguf");
  for (const char* q : {"q8_0", "q4_0"}) {
    PM_REQUIRE_FIXTURE(ref_path, std::string("gguf/llama-spm-tiny-") + q + ".gguf");
    const std::string out = test::temp_dir() + "/q.gguf";
    auto r = quantize_model_file(f16, out, *type_from_name(q));
    ASSERT_TRUE(r.is_ok()) << r.status().to_string();
    auto ours = GgufFile::open(out);
    auto ref = GgufFile::open(ref_path);
    ASSERT_TRUE(ours.is_ok() && ref.is_ok());
    ASSERT_EQ((*ours)->tensors().size(), (*ref)->tensors().size());
    for (const GgufTensorInfo& t : (*ref)->tensors()) {
      const GgufTensorInfo* o = (*ours)->find_tensor(t.name);
      ASSERT_NE(o, nullptr) << t.name;
      EXPECT_EQ(o->type, t.type) << q << " " << t.name;
      EXPECT_EQ(o->ne, t.ne) << t.name;
      ASSERT_EQ(o->size_bytes, t.size_bytes) << t.name;
      EXPECT_EQ(std::memcmp(o->data, t.data, t.size_bytes), 0) << q << " " << t.name << " differs";
    }
    EXPECT_EQ(*(*ours)->get_string("general.architecture"), "llama");
  }
}

// K-quant targets on a model whose rows are too narrow for 256-element blocks fall back to
// 32-element types; the result loads and stays close to the F16 model.
TEST(Quantize, KQuantTargetsLoadAndStayClose) {
  PM_REQUIRE_FIXTURE(f16, "gguf/qwen2-bpe-tiny-f16.gguf");
  auto base = load_model(f16);
  ASSERT_TRUE(base.is_ok());
  const std::vector<TokenId> tokens = {32013, 6936, 513, 523, 276, 1280};
  auto s0 = Session::create(**base, 16);
  ASSERT_TRUE((*s0)->eval(tokens).is_ok());
  const int64_t n_vocab = (*base)->info().n_vocab;
  for (const char* q : {"q6_K", "q5_K", "q4_K", "q3_K", "q2_K", "q5_1", "bf16"}) {
    const std::string out = test::temp_dir() + "/k.gguf";
    auto r = quantize_model_file(f16, out, *type_from_name(q));
    ASSERT_TRUE(r.is_ok()) << q << ": " << r.status().to_string();
    auto m = load_model(out);
    ASSERT_TRUE(m.is_ok()) << q << ": " << m.status().to_string();
    auto s = Session::create(**m, 16);
    ASSERT_TRUE((*s)->eval(tokens).is_ok());
    double sq = 0, mean = 0, diff = 0;
    for (int64_t v = 0; v < n_vocab; ++v) mean += (*s0)->logits()[v];
    mean /= double(n_vocab);
    for (int64_t v = 0; v < n_vocab; ++v) {
      sq += ((*s0)->logits()[v] - mean) * ((*s0)->logits()[v] - mean);
      diff += std::fabs((*s0)->logits()[v] - (*s)->logits()[v]);
    }
    const double rel = diff / double(n_vocab) / std::sqrt(sq / double(n_vocab));
    std::printf("%s: mean |logit delta| = %.4f sd\n", q, rel);
    EXPECT_LT(rel, 0.25) << q;
  }
}

// llama-quantize's Q4_K_M and Q6_K fixtures name the type it chose for every tensor: the recipe
// must choose the same (attn_v / ffn_down of the "more bits" layers and the tied output at Q6_K).
TEST(Quantize, RecipesChooseLlamaQuantizeTypes) {
  for (const char* name : {"q4_k_m", "q6_k"}) {
    PM_REQUIRE_FIXTURE(path, std::string("gguf/llama-spm-256-") + name + ".gguf");
    auto f = GgufFile::open(path);
    ASSERT_TRUE(f.is_ok()) << f.status().to_string();
    const Result<QuantRecipe> recipe = parse_quant_recipe(name);
    ASSERT_TRUE(recipe.is_ok());
    const bool tied = (*f)->find_tensor("output.weight") == nullptr;
    int64_t n_layer = 0;
    for (const GgufTensorInfo& t : (*f)->tensors())
      if (t.name.rfind("blk.", 0) == 0) n_layer = std::max<int64_t>(n_layer, std::atoll(t.name.c_str() + 4) + 1);
    int checked = 0;
    for (const GgufTensorInfo& t : (*f)->tensors()) {
      if (t.ne.size() != 2 || t.name.find("norm") != std::string::npos) continue;
      const bool is_output = t.name == "output.weight" || (tied && t.name == "token_embd.weight");
      EXPECT_EQ(type_name(recipe_tensor_type(*recipe, t.name, n_layer, t.ne[0], is_output)), std::string(type_name(t.type)))
          << name << " " << t.name;
      ++checked;
    }
    EXPECT_GT(checked, 10) << name;
  }
}

TEST(Quantize, RecipeNames) {
  for (const char* ok : {"q4_K_M", "Q4_K_M", "q5_k_m", "q4_K_S", "q8_0", "F16"}) EXPECT_TRUE(parse_quant_recipe(ok).is_ok()) << ok;
  for (const char* bad : {"", "q4_K_L", "q8_1", "q8_K", "iq2_xxs", "q4_0_M"}) {
    const Result<QuantRecipe> r = parse_quant_recipe(bad);
    ASSERT_FALSE(r.is_ok()) << bad;
    EXPECT_NE(r.status().message().find("q4_K_M"), std::string::npos) << "the error lists the accepted names";
  }
  const QuantRecipe km = *parse_quant_recipe("q4_K_M");
  EXPECT_TRUE(km.k_mix);
  EXPECT_EQ(km.base, GgmlType::kQ4_K);
  EXPECT_EQ(recipe_file_type(km), 15u);  // LLAMA_FTYPE_MOSTLY_Q4_K_M
  // Rows that no K-quant super-block fits fall back as llama.cpp's quantizer does.
  EXPECT_EQ(recipe_tensor_type(km, "blk.3.attn_q.weight", 24, 896, false), GgmlType::kQ5_0);
  EXPECT_EQ(recipe_tensor_type(km, "blk.0.attn_v.weight", 24, 896, false), GgmlType::kQ8_0);
  EXPECT_EQ(recipe_tensor_type(km, "blk.3.ffn_down.weight", 24, 4864, false), GgmlType::kQ4_K);
  EXPECT_EQ(recipe_tensor_type(km, "blk.5.ffn_down.weight", 24, 4864, false), GgmlType::kQ6_K);
}

TEST(Quantize, RefusesBadRequests) {
  PM_REQUIRE_FIXTURE(q5, "rwkv/tiny-rwkv-7v0-834K-Q5_0.bin");
  const std::string out = test::temp_dir() + "/x.bin";
  EXPECT_EQ(quantize_model_file(q5, out, GgmlType::kQ4_0).status().code(), StatusCode::kInvalidArgument);
  EXPECT_FALSE(quantize_model_file(q5, q5, GgmlType::kQ4_0).is_ok());
  EXPECT_FALSE(quantize_model_file(q5, out, GgmlType::kQ8_K).is_ok());
  EXPECT_EQ(quantize_model_file("/nonexistent.bin", out, GgmlType::kQ4_0).status().code(), StatusCode::kNotFound);
  const auto r = test::run_pocketmind({"quantize", q5, out, "q9_9"});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.err.find("unknown quantization type"), std::string::npos) << r.err;
}

}  // namespace
}  // namespace pm
