// The quantizer against the tools that made the fixtures: quantizing the FP32 rwkv.cpp files
// must reproduce rwkv.cpp's own quantized files byte for byte, and quantizing the F16 GGUF
// fixture must reproduce llama-quantize's tensors (same types chosen, same bytes).
#include <algorithm>
#include <cmath>
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

TEST(Quantize, RefusesBadRequests) {
  PM_REQUIRE_FIXTURE(q5, "rwkv/tiny-rwkv-7v0-834K-Q5_0.bin");
  const std::string out = test::temp_dir() + "/x.bin";
  EXPECT_EQ(quantize_model_file(q5, out, GgmlType::kQ4_0).status().code(), StatusCode::kInvalidArgument);
  EXPECT_FALSE(quantize_model_file(q5, q5, GgmlType::kQ4_0).is_ok());
  EXPECT_FALSE(quantize_model_file(q5, out, GgmlType::kQ8_K).is_ok());
  EXPECT_EQ(quantize_model_file("/nonexistent.bin", out, GgmlType::kQ4_0).status().code(), StatusCode::kNotFound);
  const auto r = test::run_pocketmind({"quantize", q5, out, "q9_9"});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.err.find("unknown target type"), std::string::npos) << r.err;
}

}  // namespace
}  // namespace pm
