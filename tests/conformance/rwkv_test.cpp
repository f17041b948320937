// RWKV v4 - v7 from rwkv.cpp .bin files.
//   - Conformance: the tiny trained models of ../shared/fixtures/rwkv, fed "in (34, 105, 110) one
//     token at a time from the zero state, must give rwkv.cpp's expected logits: the sum of
//     differences within rwkv.cpp's own bounds (x 1.05), and for FP32 element-wise too.
//   - Whole-sequence evaluation equals token-by-token evaluation; states clone and reset.
//   - Corrupted files fail with a Status naming the file, the tensor and the problem, through
//     the same parse entry point the fuzz target uses, which also runs over a mutated corpus.
#include "models/rwkv.h"

#include <algorithm>
#include <cctype>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <random>

// The fuzz target under a name of its own (the test program holds more than one).
#define LLVMFuzzerTestOneInput rwkv_bin_fuzz_one_input
#include "../../fuzz/rwkv_bin_fuzz.cpp"
#undef LLVMFuzzerTestOneInput
#include "formats/rwkv_bin.h"
#include "models/model.h"
#include "test_util.h"

namespace pm {
namespace {

const std::vector<TokenId> kRwkvPrompt = {34, 105, 110};  // "in

struct BinFixture {
  const char* version;  // as in the file names: "5v2-730K"
  const char* format;   // "FP32", "FP16", "Q5_0", "Q5_1"
  double sum_bound;     // rwkv.cpp's bound on |sum(logit - expected)|
  RwkvVersion arch;
};

// Bounds from the fixture README (rwkv.cpp's tests/test_tiny_rwkv.c).
const BinFixture kBinFixtures[] = {
    {"4v0-660K", "FP32", 0.001, RwkvVersion::kV4},        {"4v0-660K", "FP16", 0.013652, RwkvVersion::kV4},
    {"4v0-660K", "Q5_0", 0.170404, RwkvVersion::kV4},     {"4v0-660K", "Q5_1", 0.278034, RwkvVersion::kV4},
    {"5v1-730K", "FP32", 0.001, RwkvVersion::kV5_1},      {"5v1-730K", "FP16", 0.289921, RwkvVersion::kV5_1},
    {"5v1-730K", "Q5_0", 163.439407, RwkvVersion::kV5_1}, {"5v1-730K", "Q5_1", 18.017435, RwkvVersion::kV5_1},
    {"5v2-730K", "FP32", 0.001, RwkvVersion::kV5_2},      {"5v2-730K", "FP16", 0.455912, RwkvVersion::kV5_2},
    {"5v2-730K", "Q5_0", 25.273308, RwkvVersion::kV5_2},  {"5v2-730K", "Q5_1", 48.068733, RwkvVersion::kV5_2},
    {"6v0-3m", "Q5_0", 27.332073, RwkvVersion::kV6},      {"6v0-3m", "Q5_1", 3.576909, RwkvVersion::kV6},
    {"7v0-834K", "FP32", 0.001, RwkvVersion::kV7},        {"7v0-834K", "FP16", 0.005766, RwkvVersion::kV7},
    {"7v0-834K", "Q5_0", 0.063645, RwkvVersion::kV7},     {"7v0-834K", "Q5_1", 0.064663, RwkvVersion::kV7},
};

std::string bin_fixture_name(const BinFixture& f) { return std::string("tiny-rwkv-") + f.version + "-" + f.format; }

// Feeds tokens one at a time; returns the logits after each ([n][n_vocab]).
std::vector<float> run_one_by_one(const Model& m, ModelState& s, const std::vector<TokenId>& tokens) {
  const size_t V = size_t(m.info().n_vocab);
  std::vector<float> out(tokens.size() * V);
  for (size_t i = 0; i < tokens.size(); ++i) {
    const Status st = m.eval(s, &tokens[i], 1, &out[i * V], false);
    EXPECT_TRUE(st.is_ok()) << st.to_string();
  }
  return out;
}

std::vector<float> run_fresh(const Model& m, const std::vector<TokenId>& tokens) {
  auto s = m.new_state(0);
  EXPECT_TRUE(s.is_ok());
  return run_one_by_one(m, **s, tokens);
}

std::vector<float> last_row(const std::vector<float>& rows, size_t V) {
  return std::vector<float>(rows.end() - long(V), rows.end());
}

class RwkvConformance : public ::testing::TestWithParam<BinFixture> {};

TEST_P(RwkvConformance, MatchesRwkvCppExpectedLogits) {
  const BinFixture f = GetParam();
  PM_REQUIRE_FIXTURE(model_path, "rwkv/" + bin_fixture_name(f) + ".bin");
  PM_REQUIRE_FIXTURE(expected_path, std::string("rwkv/expected-logits-") + f.version + ".bin");
  const std::vector<float> expected = test::read_f32(expected_path);

  std::unique_ptr<Model> m = test::load_model_or_fail(model_path);
  ASSERT_NE(m, nullptr);
  const auto* rm = dynamic_cast<const RwkvModel*>(m.get());
  ASSERT_NE(rm, nullptr);
  EXPECT_EQ(rm->hparams().version, f.arch);
  EXPECT_EQ(m->gguf(), nullptr);
  EXPECT_TRUE(m->info().recurrent);
  ASSERT_EQ(m->info().n_vocab, 256);
  ASSERT_EQ(expected.size(), 256u);

  const std::vector<float> logits = last_row(run_fresh(*m, kRwkvPrompt), 256);
  double sum = 0, max_abs = 0;
  for (size_t i = 0; i < 256; ++i) {
    ASSERT_TRUE(std::isfinite(logits[i])) << "logit " << i;
    const double d = double(logits[i]) - expected[i];
    sum += d;
    max_abs = std::max(max_abs, std::fabs(d));
  }
  std::printf("[ rwkv     ] %-28s sum(logit - expected) = %+.6f (bound %.6f)  max |delta| = %.3g\n",
              bin_fixture_name(f).c_str(), sum, f.sum_bound, max_abs);
  EXPECT_LE(std::fabs(sum), f.sum_bound * 1.05) << bin_fixture_name(f);
  if (std::string(f.format) == "FP32") {
    EXPECT_LT(max_abs, 1e-4) << bin_fixture_name(f);
  }
}

TEST_P(RwkvConformance, SequenceEqualsTokenByToken) {
  const BinFixture f = GetParam();
  PM_REQUIRE_FIXTURE(model_path, "rwkv/" + bin_fixture_name(f) + ".bin");
  std::unique_ptr<Model> m = test::load_model_or_fail(model_path);
  ASSERT_NE(m, nullptr);
  const std::string text = "\"in the beginning was the word";
  const std::vector<TokenId> tokens(text.begin(), text.end());
  const size_t V = size_t(m->info().n_vocab);

  const std::vector<float> one_by_one = run_fresh(*m, tokens);

  auto s = m->new_state(0);
  ASSERT_TRUE(s.is_ok());
  std::vector<float> all(tokens.size() * V);
  ASSERT_TRUE(m->eval(**s, tokens.data(), int64_t(tokens.size()), all.data(), true).is_ok());
  EXPECT_EQ((*s)->n_past(), int64_t(tokens.size()));
  EXPECT_LE(test::max_rel_diff(all, one_by_one), 1e-4);

  // Chunks of uneven sizes, last logits only, continue the same sequence.
  auto c = m->new_state(0);
  ASSERT_TRUE(c.is_ok());
  std::vector<float> last(V);
  size_t done = 0;
  for (size_t chunk : {size_t(3), size_t(1), size_t(7), tokens.size()}) {
    const size_t n = std::min(chunk, tokens.size() - done);
    if (n == 0) break;
    ASSERT_TRUE(m->eval(**c, &tokens[done], int64_t(n), last.data(), false).is_ok());
    done += n;
    const std::vector<float> want(one_by_one.begin() + long((done - 1) * V), one_by_one.begin() + long(done * V));
    EXPECT_LE(test::max_rel_diff(last, want), 1e-4) << "after " << done << " tokens";
  }
}

TEST_P(RwkvConformance, ClonedStateEvolvesIndependently) {
  const BinFixture f = GetParam();
  PM_REQUIRE_FIXTURE(model_path, "rwkv/" + bin_fixture_name(f) + ".bin");
  std::unique_ptr<Model> m = test::load_model_or_fail(model_path);
  ASSERT_NE(m, nullptr);
  const size_t V = size_t(m->info().n_vocab);

  auto a = m->new_state(0);
  ASSERT_TRUE(a.is_ok());
  run_one_by_one(*m, **a, kRwkvPrompt);
  std::unique_ptr<ModelState> b = (*a)->clone();
  EXPECT_EQ(b->n_past(), 3);

  // The clone takes another path...
  const std::vector<TokenId> other = {32, 116, 104, 101};
  const std::vector<float> b_logits = run_one_by_one(*m, *b, other);
  // ...which leaves the original untouched.
  const std::vector<TokenId> more = {115, 105, 100, 101};
  const std::vector<float> a_logits = run_one_by_one(*m, **a, more);

  std::vector<TokenId> a_all = kRwkvPrompt, b_all = kRwkvPrompt;
  a_all.insert(a_all.end(), more.begin(), more.end());
  b_all.insert(b_all.end(), other.begin(), other.end());
  EXPECT_EQ(test::max_rel_diff(last_row(a_logits, V), last_row(run_fresh(*m, a_all), V)), 0.0);
  EXPECT_EQ(test::max_rel_diff(last_row(b_logits, V), last_row(run_fresh(*m, b_all), V)), 0.0);

  // reset() returns to the initial state.
  (*a)->reset();
  EXPECT_EQ((*a)->n_past(), 0);
  EXPECT_EQ(test::max_rel_diff(last_row(run_one_by_one(*m, **a, kRwkvPrompt), V), last_row(run_fresh(*m, kRwkvPrompt), V)), 0.0);
}

INSTANTIATE_TEST_SUITE_P(TinyModels, RwkvConformance, ::testing::ValuesIn(kBinFixtures),
                         [](const ::testing::TestParamInfo<BinFixture>& info) {
                           std::string n = std::string("v") + info.param.version + "_" + info.param.format;
                           for (char& c : n)
                             if (!std::isalnum(static_cast<unsigned char>(c))) c = '_';
                           return n;
                         });

TEST(RwkvModel, StateSizeDoesNotGrowWithTheSequence) {
  PM_REQUIRE_FIXTURE(model_path, "rwkv/tiny-rwkv-7v0-834K-FP32.bin");
  std::unique_ptr<Model> m = test::load_model_or_fail(model_path);
  ASSERT_NE(m, nullptr);
  const ModelInfo& info = m->info();
  EXPECT_EQ(info.arch, "rwkv7");
  EXPECT_EQ(info.kv_bytes_per_token, 0u);
  // v7: per layer ffn_xx + att_xx + one 64 x 64 head matrix, 12 layers of n_embd 64.
  EXPECT_EQ(info.recurrent_state_bytes, uint64_t(12 * (2 + 64) * 64 * 4));
  EXPECT_EQ(info.state_bytes(16), info.state_bytes(1 << 20));
  auto s = m->new_state(0);
  ASSERT_TRUE(s.is_ok());
  const auto* rs = dynamic_cast<const RwkvState*>(s->get());
  ASSERT_NE(rs, nullptr);
  EXPECT_EQ(rs->size_bytes(), info.recurrent_state_bytes);
  std::vector<TokenId> tokens(200, 101);
  std::vector<float> logits(256);
  ASSERT_TRUE(m->eval(**s, tokens.data(), int64_t(tokens.size()), logits.data(), false).is_ok());
  EXPECT_EQ(rs->size_bytes(), info.recurrent_state_bytes);
}

TEST(RwkvModel, IdentityTellsFilesApart) {
  PM_REQUIRE_FIXTURE(fp32, "rwkv/tiny-rwkv-7v0-834K-FP32.bin");
  PM_REQUIRE_FIXTURE(fp16, "rwkv/tiny-rwkv-7v0-834K-FP16.bin");
  std::unique_ptr<Model> a = test::load_model_or_fail(fp32), b = test::load_model_or_fail(fp32), c = test::load_model_or_fail(fp16);
  ASSERT_TRUE(a && b && c);
  EXPECT_NE(a->identity(), 0u);
  EXPECT_EQ(a->identity(), b->identity());
  EXPECT_NE(a->identity(), c->identity());
}

TEST(RwkvModel, RejectsBadInput) {
  PM_REQUIRE_FIXTURE(model_path, "rwkv/tiny-rwkv-4v0-660K-FP32.bin");
  std::unique_ptr<Model> m = test::load_model_or_fail(model_path);
  ASSERT_NE(m, nullptr);
  auto s = m->new_state(2);
  ASSERT_TRUE(s.is_ok());
  std::vector<float> logits(256);
  const TokenId bad = 256;
  EXPECT_EQ(m->eval(**s, &bad, 1, logits.data(), false).code(), StatusCode::kInvalidArgument);
  const TokenId three[] = {1, 2, 3};
  EXPECT_EQ(m->eval(**s, three, 3, logits.data(), false).code(), StatusCode::kOutOfRange);
  EXPECT_EQ(m->eval(**s, three, 0, logits.data(), false).code(), StatusCode::kInvalidArgument);
}

// ---- a synthetic .bin writer, for models without fixtures and for corrupted files -------------

struct BinTensor {
  std::string name;
  uint32_t type_code;  // rwkv.cpp code
  std::vector<uint32_t> ne;
  std::vector<uint8_t> data;
};

void put_u32(std::vector<uint8_t>& b, uint32_t v) {
  const size_t at = b.size();
  b.resize(at + 4);
  std::memcpy(&b[at], &v, 4);
}

struct BinModel {
  uint32_t magic = kRwkvBinMagic, version = 101, n_vocab, n_embd, n_layer, data_type = 0;
  std::vector<BinTensor> tensors;

  std::vector<uint8_t> bytes() const {
    std::vector<uint8_t> b;
    for (uint32_t v : {magic, version, n_vocab, n_embd, n_layer, data_type}) put_u32(b, v);
    for (const BinTensor& t : tensors) {
      put_u32(b, uint32_t(t.ne.size()));
      put_u32(b, uint32_t(t.name.size()));
      put_u32(b, t.type_code);
      for (uint32_t d : t.ne) put_u32(b, d);
      b.insert(b.end(), t.name.begin(), t.name.end());
      b.insert(b.end(), t.data.begin(), t.data.end());
    }
    return b;
  }
  BinTensor* find(const std::string& name) {
    for (BinTensor& t : tensors)
      if (t.name == name) return &t;
    return nullptr;
  }
};

// A random FP32 v4 model: n_embd 32, 1 layer, n_ffn 64, vocab 16.
BinModel synthetic_v4(uint32_t seed = 1) {
  constexpr uint32_t E = 32, V = 16, F = 64;
  std::mt19937 rng(seed);
  std::uniform_real_distribution<float> uni(-0.5f, 0.5f);
  BinModel m;
  m.n_vocab = V;
  m.n_embd = E;
  m.n_layer = 1;
  auto add = [&](const std::string& name, std::vector<uint32_t> ne, float lo = 0, float hi = 0) {
    size_t n = 1;
    for (uint32_t d : ne) n *= d;
    std::vector<float> v(n);
    for (float& x : v) x = (lo == hi) ? uni(rng) : lo + (hi - lo) * (uni(rng) + 0.5f);
    BinTensor t{name, 0, std::move(ne), std::vector<uint8_t>(n * 4)};
    std::memcpy(t.data.data(), v.data(), n * 4);
    m.tensors.push_back(std::move(t));
  };
  add("emb.weight", {E, V});
  add("blocks.0.ln0.weight", {E}, 0.8f, 1.2f);
  add("blocks.0.ln0.bias", {E});
  add("blocks.0.ln1.weight", {E}, 0.8f, 1.2f);
  add("blocks.0.ln1.bias", {E});
  add("blocks.0.ln2.weight", {E}, 0.8f, 1.2f);
  add("blocks.0.ln2.bias", {E});
  add("blocks.0.att.time_decay", {E}, -2.0f, -0.1f);
  add("blocks.0.att.time_first", {E});
  add("blocks.0.att.time_mix_k", {E}, 0, 1);
  add("blocks.0.att.time_mix_v", {E}, 0, 1);
  add("blocks.0.att.time_mix_r", {E}, 0, 1);
  add("blocks.0.att.key.weight", {E, E});
  add("blocks.0.att.value.weight", {E, E});
  add("blocks.0.att.receptance.weight", {E, E});
  add("blocks.0.att.output.weight", {E, E});
  add("blocks.0.ffn.time_mix_k", {E}, 0, 1);
  add("blocks.0.ffn.time_mix_r", {E}, 0, 1);
  add("blocks.0.ffn.key.weight", {E, F});
  add("blocks.0.ffn.value.weight", {F, E});
  add("blocks.0.ffn.receptance.weight", {E, E});
  add("ln_out.weight", {E}, 0.8f, 1.2f);
  add("ln_out.bias", {E});
  add("head.weight", {E, V});
  return m;
}

// Parses bytes the way the fuzz target does; returns the error (ok when it parsed).
Status parse_status(const std::vector<uint8_t>& bytes, const std::string& name = "bad.bin") {
  std::vector<uint8_t> exact(bytes);  // exact-size allocation: overreads are caught by ASan
  auto f = RwkvBinFile::parse(exact.data(), exact.size(), name);
  return f.is_ok() ? Status::ok() : f.status();
}

// Parses and builds a model; returns the error of whichever step failed.
Status bin_load_status(const std::vector<uint8_t>& bytes) {
  auto f = RwkvBinFile::parse(bytes.data(), bytes.size(), "bad.bin");
  if (!f.is_ok()) return f.status();
  auto m = load_rwkv_model(std::shared_ptr<const RwkvBinFile>(std::move(f).value()));
  return m.is_ok() ? Status::ok() : m.status();
}

std::vector<float> run_tokens(const Model& m, const std::vector<TokenId>& tokens, bool all_at_once) {
  auto s = m.new_state(0);
  EXPECT_TRUE(s.is_ok());
  if (!all_at_once) return run_one_by_one(m, **s, tokens);
  std::vector<float> out(tokens.size() * size_t(m.info().n_vocab));
  EXPECT_TRUE(m.eval(**s, tokens.data(), int64_t(tokens.size()), out.data(), true).is_ok());
  return out;
}

TEST(RwkvSynthetic, LoadsFromAFileAndRuns) {
  const std::vector<uint8_t> bytes = synthetic_v4().bytes();
  const std::string dir = test::temp_dir();
  ASSERT_FALSE(dir.empty());
  const std::string path = dir + "/synthetic.bin";
  ASSERT_TRUE(write_file(path, bytes.data(), bytes.size()).is_ok());

  std::unique_ptr<Model> m = test::load_model_or_fail(path);  // routed by magic, not by extension
  ASSERT_NE(m, nullptr);
  EXPECT_EQ(m->info().arch, "rwkv4");
  EXPECT_EQ(m->info().n_ff, 64);
  const std::vector<TokenId> tokens = {1, 5, 9, 2, 15, 0, 7};
  const std::vector<float> a = run_tokens(*m, tokens, false), b = run_tokens(*m, tokens, true);
  for (float v : a) ASSERT_TRUE(std::isfinite(v));
  EXPECT_LE(test::max_rel_diff(b, a), 1e-5);
}

TEST(RwkvSynthetic, QuantizedWeightsRun) {
  // Q8_0 copies of the 2-D weights (row length 32 = one block); the results stay close to FP32.
  BinModel q = synthetic_v4();
  for (BinTensor& t : q.tensors) {
    if (t.ne.size() != 2 || t.name == "emb.weight") continue;
    const int64_t n = int64_t(t.data.size() / 4);
    std::vector<float> v(static_cast<size_t>(n));
    std::memcpy(v.data(), t.data.data(), t.data.size());
    t.data.assign(row_size_bytes(GgmlType::kQ8_0, n), 0);
    generic_kernels().of(GgmlType::kQ8_0).from_float(v.data(), t.data.data(), n);
    t.type_code = 9;  // rwkv.cpp's Q8_0
  }
  q.data_type = 9;
  const std::vector<uint8_t> qb = q.bytes(), fb = synthetic_v4().bytes();
  auto pq = RwkvBinFile::parse(qb.data(), qb.size(), "q8.bin");
  ASSERT_TRUE(pq.is_ok()) << pq.status().to_string();
  EXPECT_EQ((*pq)->data_type(), GgmlType::kQ8_0);
  EXPECT_EQ((*pq)->find_tensor("head.weight")->type, GgmlType::kQ8_0);
  auto mq = load_rwkv_model(std::shared_ptr<const RwkvBinFile>(std::move(pq).value()));
  ASSERT_TRUE(mq.is_ok()) << mq.status().to_string();
  auto pf = RwkvBinFile::parse(fb.data(), fb.size(), "f32.bin");
  ASSERT_TRUE(pf.is_ok());
  auto mf = load_rwkv_model(std::shared_ptr<const RwkvBinFile>(std::move(pf).value()));
  ASSERT_TRUE(mf.is_ok());
  const std::vector<TokenId> tokens = {3, 1, 4, 1, 5};
  EXPECT_LE(test::max_rel_diff(run_tokens(**mq, tokens, true), run_tokens(**mf, tokens, true)), 0.15);
  EXPECT_LE(test::max_rel_diff(run_tokens(**mq, tokens, true), run_tokens(**mq, tokens, false)), 1e-5);
}

// ---- corrupted files ----------------------------------------------------------------------------

void expect_error(const Status& st, StatusCode code, std::initializer_list<const char*> words) {
  ASSERT_FALSE(st.is_ok());
  EXPECT_EQ(st.code(), code) << st.to_string();
  for (const char* w : words)
    EXPECT_NE(st.message().find(w), std::string::npos) << "\"" << w << "\" not in: " << st.message();
}

TEST(RwkvBinCorrupt, ValidSyntheticFileParses) {
  const std::vector<uint8_t> bytes = synthetic_v4().bytes();
  auto f = RwkvBinFile::parse(bytes.data(), bytes.size(), "ok.bin");
  ASSERT_TRUE(f.is_ok()) << f.status().to_string();
  EXPECT_EQ((*f)->version(), 101u);
  EXPECT_EQ((*f)->arch(), RwkvVersion::kV4);
  EXPECT_EQ((*f)->tensors().size(), 24u);
  const RwkvTensorInfo* t = (*f)->find_tensor("blocks.0.ffn.key.weight");
  ASSERT_NE(t, nullptr);
  EXPECT_EQ(t->shape_string(), "[32, 64]");
  EXPECT_EQ(t->size_bytes, 32u * 64 * 4);
  EXPECT_TRUE(bin_load_status(bytes).is_ok()) << bin_load_status(bytes).to_string();
}

TEST(RwkvBinCorrupt, WrongMagicAndVersion) {
  BinModel m = synthetic_v4();
  m.magic = 0x46554747;  // "GGUF"
  expect_error(parse_status(m.bytes()), StatusCode::kCorrupt, {"bad.bin", "magic", "GGUF"});
  m = synthetic_v4();
  m.version = 7;
  expect_error(parse_status(m.bytes()), StatusCode::kUnsupported, {"bad.bin", "version 7"});
}

TEST(RwkvBinCorrupt, TruncatedAtEveryRegion) {
  const std::vector<uint8_t> full = synthetic_v4().bytes();
  // header, first tensor header, its shape, its name, its data, the last tensor's data
  const size_t first_data = 24 + 12 + 8 + std::strlen("emb.weight");
  for (size_t cut : {size_t(0), size_t(3), size_t(23), size_t(24 + 5), size_t(24 + 14), size_t(24 + 12 + 8 + 3),
                     first_data + 100, full.size() - 1}) {
    std::vector<uint8_t> b(full.begin(), full.begin() + long(cut));
    const Status st = parse_status(b);
    ASSERT_FALSE(st.is_ok()) << "cut at " << cut;
    EXPECT_EQ(st.code(), StatusCode::kCorrupt) << st.to_string();
    EXPECT_NE(st.message().find("bad.bin"), std::string::npos) << st.message();
  }
  std::vector<uint8_t> b(full.begin(), full.begin() + long(first_data + 100));
  expect_error(parse_status(b), StatusCode::kCorrupt, {"tensor emb.weight", "runs past end of file"});
  b.assign(full.begin(), full.end() - 1);
  expect_error(parse_status(b), StatusCode::kCorrupt, {"tensor head.weight", "runs past end of file"});
  b.assign(full.begin(), full.begin() + 24);
  expect_error(parse_status(b), StatusCode::kCorrupt, {"no tensors"});
  b.assign(full.begin(), full.begin() + 20);
  expect_error(parse_status(b), StatusCode::kCorrupt, {"shorter than"});
}

TEST(RwkvBinCorrupt, AbsurdDimensions) {
  BinModel m = synthetic_v4();
  m.n_embd = 0;
  expect_error(parse_status(m.bytes()), StatusCode::kCorrupt, {"n_embed = 0"});
  m = synthetic_v4();
  m.n_vocab = 0xffffffffu;
  expect_error(parse_status(m.bytes()), StatusCode::kCorrupt, {"n_vocab = 4294967295"});
  m = synthetic_v4();
  m.n_layer = 100000;
  expect_error(parse_status(m.bytes()), StatusCode::kCorrupt, {"n_layer"});

  m = synthetic_v4();
  m.find("blocks.0.att.key.weight")->ne = {0xffffffffu, 0xffffffffu, 0xffffffffu};
  expect_error(parse_status(m.bytes()), StatusCode::kCorrupt, {"tensor blocks.0.att.key.weight", "absurdly many"});
  m = synthetic_v4();
  m.find("blocks.0.att.key.weight")->ne = {32, 0};
  expect_error(parse_status(m.bytes()), StatusCode::kCorrupt, {"tensor blocks.0.att.key.weight", "zero dimension"});
  m = synthetic_v4();
  m.find("blocks.0.att.key.weight")->ne = {32, 1u << 20};
  expect_error(parse_status(m.bytes()), StatusCode::kCorrupt, {"tensor blocks.0.att.key.weight", "runs past end"});
  m = synthetic_v4();
  m.find("head.weight")->ne = {1, 2, 3, 4};
  expect_error(parse_status(m.bytes()), StatusCode::kCorrupt, {"dim_count 4"});

  // A name length past the end of the (here truncated) file.
  std::vector<uint8_t> b = synthetic_v4().bytes();
  b.resize(600);
  const uint32_t huge = 1000;
  std::memcpy(&b[24 + 4], &huge, 4);
  expect_error(parse_status(b), StatusCode::kCorrupt, {"tensor #0", "run past end of file"});
  const uint32_t absurd = 1u << 30;
  std::memcpy(&b[24 + 4], &absurd, 4);
  expect_error(parse_status(b), StatusCode::kCorrupt, {"tensor #0", "name length 1073741824"});
}

TEST(RwkvBinCorrupt, UnknownAndRemovedDataTypes) {
  BinModel m = synthetic_v4();
  m.data_type = 99;
  expect_error(parse_status(m.bytes()), StatusCode::kCorrupt, {"header data_type 99", "not an rwkv.cpp data type"});
  m = synthetic_v4();
  m.data_type = 5;
  expect_error(parse_status(m.bytes()), StatusCode::kUnsupported, {"Q4_2", "removed"});
  m = synthetic_v4();
  m.find("blocks.0.att.value.weight")->type_code = 42;
  expect_error(parse_status(m.bytes()), StatusCode::kCorrupt, {"tensor blocks.0.att.value.weight", "42"});
  m = synthetic_v4();
  m.find("blocks.0.att.value.weight")->type_code = 16;  // Q8_K: activations only
  expect_error(parse_status(m.bytes()), StatusCode::kUnsupported, {"tensor blocks.0.att.value.weight", "Q8_K"});
  // Quantized data in a version 100 file is in ggml's pre-2023 block layout.
  m = synthetic_v4();
  m.version = 100;
  m.data_type = 7;
  expect_error(parse_status(m.bytes()), StatusCode::kUnsupported, {"Q5_0", "version 100"});
  m.data_type = 1;  // FP16 version 100 files are fine
  EXPECT_TRUE(parse_status(m.bytes()).is_ok());
  // A row that is not a whole number of blocks.
  m = synthetic_v4();
  BinTensor* t = m.find("blocks.0.att.output.weight");
  t->type_code = 7;
  t->ne = {16, 64};
  t->data.assign(16 * 64 / 32 * 22, 0);
  expect_error(parse_status(m.bytes()), StatusCode::kCorrupt, {"tensor blocks.0.att.output.weight", "block size 32"});
}

TEST(RwkvBinCorrupt, DuplicateMissingAndMisshapedTensors) {
  BinModel m = synthetic_v4();
  m.tensors.push_back(m.tensors.front());
  expect_error(parse_status(m.bytes()), StatusCode::kCorrupt, {"tensor emb.weight", "twice"});

  m = synthetic_v4();
  m.tensors.erase(m.tensors.begin() + 12);  // blocks.0.att.key.weight
  expect_error(bin_load_status(m.bytes()), StatusCode::kNotFound, {"bad.bin", "blocks.0.att.key.weight", "missing"});

  m = synthetic_v4();
  m.find("blocks.0.att.receptance.weight")->ne = {64, 16};
  expect_error(bin_load_status(m.bytes()), StatusCode::kCorrupt,
               {"bad.bin", "blocks.0.att.receptance.weight", "[64, 16]", "expected [32, 32]"});

  m = synthetic_v4();
  BinTensor* e = m.find("emb.weight");
  e->ne = {32, 8};
  e->data.resize(32 * 8 * 4);
  expect_error(bin_load_status(m.bytes()), StatusCode::kCorrupt, {"emb.weight", "expected [32, 16]"});
}

TEST(RwkvBinCorrupt, LoadModelReportsFileErrors) {
  const std::string dir = test::temp_dir();
  ASSERT_FALSE(dir.empty());
  std::vector<uint8_t> b = synthetic_v4().bytes();
  b.resize(b.size() / 2);
  const std::string path = dir + "/truncated.bin";
  ASSERT_TRUE(write_file(path, b.data(), b.size()).is_ok());
  auto m = load_model(path);
  ASSERT_FALSE(m.is_ok());
  EXPECT_EQ(m.status().code(), StatusCode::kCorrupt);
  EXPECT_NE(m.status().message().find(path), std::string::npos) << m.status().to_string();
}

// ---- the fuzz target's entry point over mutated files ------------------------------------------

void mutate_and_run(const std::vector<uint8_t>& seed_file, uint32_t seed, int rounds, size_t header_limit) {
  std::mt19937 rng(seed);
  for (int r = 0; r < rounds; ++r) {
    std::vector<uint8_t> b(seed_file);
    const size_t limit = std::min(b.size(), header_limit);
    const int kind = int(rng() % 5);
    const size_t at = rng() % limit;
    switch (kind) {
      case 0:
        b[at] ^= uint8_t(1u << (rng() % 8));
        break;  // bit flip
      case 1:
        for (int i = 0; i < 4 && at + size_t(i) < b.size(); ++i) b[at + size_t(i)] = 0xff;
        break;  // huge u32
      case 2:
        b.resize(at);
        break;  // truncation
      case 3: {
        const uint32_t v = rng() % 70;
        if (at + 4 <= b.size()) std::memcpy(&b[at], &v, 4);
      } break;  // small value
      case 4: {
        const size_t from = rng() % b.size();
        b.insert(b.begin() + long(at), b.begin() + long(from), b.begin() + long(std::min(b.size(), from + 16)));
      } break;  // splice
    }
    std::vector<uint8_t> exact(b);  // exact-size allocation: overreads are caught by ASan
    rwkv_bin_fuzz_one_input(exact.data(), exact.size());
  }
}

TEST(RwkvBinCorpus, MutatedSyntheticModels) {
  const std::vector<uint8_t> bytes = synthetic_v4(7).bytes();
  mutate_and_run(bytes, 1234, 1500, 1024);     // headers and the first tensors' fields
  mutate_and_run(bytes, 4321, 300, SIZE_MAX);  // anywhere
}

TEST(RwkvBinCorpus, MutatedRealModels) {
  for (const char* name : {"tiny-rwkv-5v2-730K-Q5_1.bin", "tiny-rwkv-7v0-834K-FP16.bin", "tiny-rwkv-6v0-3m-Q5_0.bin"}) {
    PM_REQUIRE_FIXTURE(path, std::string("rwkv/") + name);
    const std::string text = test::read_text(path);
    const std::vector<uint8_t> bytes(text.begin(), text.end());
    mutate_and_run(bytes, 99, 40, 4096);
  }
}

}  // namespace
}  // namespace pm
