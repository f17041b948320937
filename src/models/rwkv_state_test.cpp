// RWKV state serialization (RwkvState::serialize / deserialize), for every version:
//   - save after some tokens -> load into a fresh state -> continue gives the same logits, bit
//     for bit, as never having saved;
//   - the serialized size is the same however many tokens were processed;
//   - data of the wrong size, version or shape is refused with a clear error, and the state is
//     left as it was.
#include <cctype>
#include <cstring>

#include "models/model.h"
#include "models/rwkv.h"
#include "test_util.h"

namespace pm {
namespace {

const char* const kModels[] = {
    "tiny-rwkv-4v0-660K-FP32.bin", "tiny-rwkv-5v1-730K-FP32.bin", "tiny-rwkv-5v2-730K-FP16.bin",
    "tiny-rwkv-6v0-3m-Q5_1.bin",   "tiny-rwkv-7v0-834K-FP32.bin", "tiny-rwkv-7v0-834K-Q5_0.bin",
};

std::vector<TokenId> tokens_of(const std::string& text) { return std::vector<TokenId>(text.begin(), text.end()); }

std::unique_ptr<ModelState> fresh(const Model& m, int64_t n_ctx = 0) {
  auto s = m.new_state(n_ctx);
  EXPECT_TRUE(s.is_ok()) << s.status().to_string();
  return s.is_ok() ? std::move(s).value() : nullptr;
}

// Feeds tokens in one batch; returns the last token's logits.
std::vector<float> feed(const Model& m, ModelState& s, const std::vector<TokenId>& tokens) {
  std::vector<float> logits(size_t(m.info().n_vocab));
  const Status st = m.eval(s, tokens.data(), int64_t(tokens.size()), logits.data(), false);
  EXPECT_TRUE(st.is_ok()) << st.to_string();
  return logits;
}

std::vector<uint8_t> bytes_of(const ModelState& s) {
  std::vector<uint8_t> b;
  const Status st = s.serialize(&b);
  EXPECT_TRUE(st.is_ok()) << st.to_string();
  return b;
}

class RwkvStateSerialization : public ::testing::TestWithParam<const char*> {};

TEST_P(RwkvStateSerialization, SaveLoadContinueIsBitIdentical) {
  PM_REQUIRE_FIXTURE(path, std::string("rwkv/") + GetParam());
  std::unique_ptr<Model> m = test::load_model_or_fail(path);
  ASSERT_NE(m, nullptr);
  const std::vector<TokenId> prompt = tokens_of("\"in the beginning"), more = tokens_of(" was the word");

  std::unique_ptr<ModelState> straight = fresh(*m);
  feed(*m, *straight, prompt);
  const std::vector<uint8_t> saved = bytes_of(*straight);
  const std::vector<float> want = feed(*m, *straight, more);

  std::unique_ptr<ModelState> resumed = fresh(*m, 1000);  // another context size is fine
  const Status st = resumed->deserialize(saved.data(), saved.size());
  ASSERT_TRUE(st.is_ok()) << st.to_string();
  EXPECT_EQ(resumed->n_past(), int64_t(prompt.size()));
  EXPECT_EQ(bytes_of(*resumed), saved);
  const std::vector<float> got = feed(*m, *resumed, more);
  EXPECT_EQ(std::memcmp(got.data(), want.data(), got.size() * sizeof(float)), 0);
  EXPECT_EQ(bytes_of(*resumed), bytes_of(*straight));
  EXPECT_EQ(resumed->n_past(), straight->n_past());
}

TEST_P(RwkvStateSerialization, SizeDoesNotGrowWithTheSequence) {
  PM_REQUIRE_FIXTURE(path, std::string("rwkv/") + GetParam());
  std::unique_ptr<Model> m = test::load_model_or_fail(path);
  ASSERT_NE(m, nullptr);
  std::unique_ptr<ModelState> s = fresh(*m);
  const size_t expected = RwkvState::kSerializedHeaderBytes + m->info().recurrent_state_bytes;
  EXPECT_EQ(bytes_of(*s).size(), expected);
  feed(*m, *s, {65});
  EXPECT_EQ(bytes_of(*s).size(), expected);
  feed(*m, *s, std::vector<TokenId>(300, 101));
  EXPECT_EQ(s->n_past(), 301);
  EXPECT_EQ(bytes_of(*s).size(), expected);
}

TEST_P(RwkvStateSerialization, BadDataIsRefusedAndLeavesTheStateAlone) {
  PM_REQUIRE_FIXTURE(path, std::string("rwkv/") + GetParam());
  std::unique_ptr<Model> m = test::load_model_or_fail(path);
  ASSERT_NE(m, nullptr);
  std::unique_ptr<ModelState> source = fresh(*m);
  feed(*m, *source, tokens_of("hello"));
  const std::vector<uint8_t> good = bytes_of(*source);

  std::unique_ptr<ModelState> target = fresh(*m, 8);
  feed(*m, *target, tokens_of("abc"));
  const std::vector<uint8_t> before = bytes_of(*target);
  auto refused = [&](std::vector<uint8_t> bad, StatusCode code, const char* word) {
    const Status st = target->deserialize(bad.data(), bad.size());
    EXPECT_EQ(st.code(), code) << st.to_string();
    EXPECT_NE(st.message().find(word), std::string::npos) << st.message();
    EXPECT_NE(st.message().find("RWKV"), std::string::npos) << st.message();
    EXPECT_EQ(bytes_of(*target), before);
    EXPECT_EQ(target->n_past(), 3);
  };

  refused({}, StatusCode::kCorrupt, "header");
  refused(std::vector<uint8_t>(good.begin(), good.begin() + 20), StatusCode::kCorrupt, "header");
  refused(std::vector<uint8_t>(good.begin(), good.end() - 4), StatusCode::kCorrupt, "bytes, expected");
  std::vector<uint8_t> longer = good;
  longer.push_back(0);
  refused(longer, StatusCode::kCorrupt, "bytes, expected");
  std::vector<uint8_t> bad = good;
  bad[0] ^= 1;
  refused(bad, StatusCode::kCorrupt, "magic");
  // Another version's state.
  bad = good;
  bad[4] = bad[4] == 4 ? 0 : 4;
  refused(bad, StatusCode::kInvalidArgument, "holds an RWKV");
  bad = good;
  bad[4] = 77;
  refused(bad, StatusCode::kInvalidArgument, "unknown");
  // Same version, another shape: more layers, a wider embedding, another head size.
  for (size_t field : {size_t(8), size_t(16), size_t(24)}) {
    bad = good;
    bad[field] += 1;
    refused(bad, StatusCode::kInvalidArgument, "does not match");
  }
  // More tokens than the target's context holds.
  bad = good;
  const uint64_t n_past = 9;
  std::memcpy(&bad[40], &n_past, sizeof n_past);
  refused(bad, StatusCode::kOutOfRange, "at most 8");

  // The state of a model of another version or shape.
  const char* other = std::string(GetParam()).find("-4v0-") != std::string::npos ? "tiny-rwkv-7v0-834K-FP32.bin"
                                                                               : "tiny-rwkv-4v0-660K-FP32.bin";
  PM_REQUIRE_FIXTURE(other_path, std::string("rwkv/") + other);
  std::unique_ptr<Model> o = test::load_model_or_fail(other_path);
  ASSERT_NE(o, nullptr);
  std::unique_ptr<ModelState> os = fresh(*o);
  refused(bytes_of(*os), StatusCode::kInvalidArgument, "holds an RWKV");

  EXPECT_TRUE(target->deserialize(good.data(), good.size()).is_ok());
  EXPECT_EQ(target->n_past(), 5);
}

INSTANTIATE_TEST_SUITE_P(TinyModels, RwkvStateSerialization, ::testing::ValuesIn(kModels),
                         [](const ::testing::TestParamInfo<const char*>& info) {
                           std::string n = std::string(info.param).substr(10);  // after "tiny-rwkv-"
                           n.resize(n.size() - 4);                              // ".bin"
                           for (char& c : n)
                             if (!std::isalnum(static_cast<unsigned char>(c))) c = '_';
                           return "v" + n;
                         });

TEST(RwkvStateSerialization, SameShapeOtherVersionIsRefused) {
  // v5.1 and v5.2 states have the same size for the same shape: the version tells them apart.
  PM_REQUIRE_FIXTURE(a_path, "rwkv/tiny-rwkv-5v1-730K-FP32.bin");
  PM_REQUIRE_FIXTURE(b_path, "rwkv/tiny-rwkv-5v2-730K-FP32.bin");
  std::unique_ptr<Model> a = test::load_model_or_fail(a_path), b = test::load_model_or_fail(b_path);
  ASSERT_TRUE(a && b);
  std::unique_ptr<ModelState> sa = fresh(*a), sb = fresh(*b);
  const std::vector<uint8_t> bytes = bytes_of(*sa);
  if (bytes.size() == bytes_of(*sb).size()) {
    const Status st = sb->deserialize(bytes.data(), bytes.size());
    EXPECT_EQ(st.code(), StatusCode::kInvalidArgument) << st.to_string();
    EXPECT_NE(st.message().find("v5.1"), std::string::npos) << st.message();
  }
}

}  // namespace
}  // namespace pm
