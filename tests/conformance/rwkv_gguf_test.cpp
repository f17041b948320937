// RWKV v6 / v7 from GGUF files laid out as llama.cpp's convert_hf_to_gguf.py writes them.
//   - A test-only converter turns the tiny .bin fixtures (../shared/fixtures/rwkv) into GGUF
//     files with llama.cpp's names, shapes, fused / flattened / dummy tensors, forced-F32 tensors
//     and metadata keys. Loaded back, they give the .bin model's logits (bit for bit where the
//     tensors keep their types) and rwkv.cpp's expected logits within rwkv_test.cpp's bounds.
//   - rescale_every_n_layers (v6): weights divided as the converter divides them give the same
//     logits as the unscaled file.
//   - Weights are used in place from the mapping (no copies).
//   - Malformed files (missing tensor, wrong shape, missing or bad key) fail with a Status that
//     names the file and the tensor or key.
//   - `pocketmind info / eval / run` work on such a file.
#include <algorithm>
#include <cctype>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <functional>
#include <random>

#include "formats/gguf.h"
#include "formats/rwkv_bin.h"
#include "kernels/kernels.h"
#include "models/model.h"
#include "models/rwkv.h"
#include "nlohmann/json.hpp"
#include "test_util.h"

namespace pm {
namespace {

const std::vector<TokenId> kGgufPrompt = {34, 105, 110};  // "in

// ---- a GGUF file under construction: tests drop or change parts before writing ----------------

struct DraftTensor {
  std::string name;
  GgmlType type;
  std::vector<int64_t> ne;
  std::vector<uint8_t> data;
};

struct GgufDraft {
  std::vector<std::pair<std::string, GgufValue>> kv;
  std::vector<DraftTensor> tensors;

  void set_u32(const std::string& key, uint32_t v) {
    GgufValue g;
    g.type = GgufType::kUint32;
    g.u64 = v;
    g.i64 = v;
    kv.emplace_back(key, std::move(g));
  }
  void set_f32(const std::string& key, float v) {
    GgufValue g;
    g.type = GgufType::kFloat32;
    g.f64 = v;
    kv.emplace_back(key, std::move(g));
  }
  void set_string(const std::string& key, std::string v) {
    GgufValue g;
    g.type = GgufType::kString;
    g.str = std::move(v);
    kv.emplace_back(key, std::move(g));
  }
  GgufValue* value(const std::string& key) {
    for (auto& [k, v] : kv)
      if (k == key) return &v;
    return nullptr;
  }
  void drop_key(const std::string& key) {
    std::erase_if(kv, [&](const auto& p) { return p.first == key; });
  }
  DraftTensor* find(const std::string& name) {
    for (DraftTensor& t : tensors)
      if (t.name == name) return &t;
    return nullptr;
  }
  void drop_tensor(const std::string& name) {
    std::erase_if(tensors, [&](const DraftTensor& t) { return t.name == name; });
  }
  std::vector<uint8_t> bytes() const {
    GgufWriter w;
    for (const auto& [k, v] : kv) w.set(k, v);
    for (const DraftTensor& t : tensors) {
      const Status s = w.add_tensor(t.name, t.type, t.ne, t.data.data(), t.data.size());
      EXPECT_TRUE(s.is_ok()) << s.to_string();
    }
    return w.to_bytes();
  }
};

// ---- .bin -> GGUF, as llama.cpp's converter lays out an RWKV model -----------------------------

struct ConvertOptions {
  bool keep_types = false;    // keep every tensor's .bin type (no forced F32): bit-exact comparisons
  bool all_f32 = false;       // dequantize every tensor
  int64_t rescale_every = 0;  // v6: divide time_mix_output / channel_mix_value of layer i by 2^(i / n)
};

std::vector<float> to_floats(const RwkvTensorInfo& t) {
  std::vector<uint8_t> aligned(t.data, t.data + t.size_bytes);  // .bin data is unaligned
  std::vector<float> out(size_t(t.n_elements));
  generic_kernels().of(t.type).to_float(aligned.data(), out.data(), t.n_elements);
  return out;
}

std::vector<uint8_t> float_bytes(const std::vector<float>& v) {
  std::vector<uint8_t> b(v.size() * sizeof(float));
  std::memcpy(b.data(), v.data(), b.size());
  return b;
}

// llama.cpp's GGUF rwkv vocabulary for the tiny byte-level models (token id = byte): "<s>"
// (control) for 0, then each byte as the body of Python's repr() of it.
void add_byte_vocab(GgufDraft& d, int64_t n_vocab) {
  std::vector<std::string> tokens = {"<s>"};
  std::vector<int32_t> types = {3};  // control
  for (int64_t b = 1; b < n_vocab; ++b) {
    std::string s;
    if (b == '\\') {
      s = "\\\\";
    } else if (b == '\n') {
      s = "\\n";
    } else if (b == '\t') {
      s = "\\t";
    } else if (b == '\r') {
      s = "\\r";
    } else if (b >= 0x20 && b < 0x7f) {
      s = std::string(1, char(b));
    } else {
      char hex[8];
      std::snprintf(hex, sizeof hex, "\\x%02x", unsigned(b));
      s = hex;
    }
    tokens.push_back(s);
    types.push_back(1);  // normal
  }
  d.set_string("tokenizer.ggml.model", "rwkv");
  GgufValue t;
  t.type = GgufType::kArray;
  t.elem_type = GgufType::kString;
  t.strings = std::move(tokens);
  d.kv.emplace_back("tokenizer.ggml.tokens", std::move(t));
  GgufValue ty;
  ty.type = GgufType::kArray;
  ty.elem_type = GgufType::kInt32;
  ty.ints.assign(types.begin(), types.end());
  d.kv.emplace_back("tokenizer.ggml.token_type", std::move(ty));
}

class Converter {
 public:
  Converter(const RwkvBinFile& bin, ConvertOptions o) : bin_(bin), o_(o) {}

  GgufDraft run() {
    const bool v6 = bin_.arch() == RwkvVersion::kV6;
    const std::string arch = v6 ? "rwkv6" : "rwkv7";
    const int64_t E = bin_.n_embd(), V = bin_.n_vocab(), L = bin_.n_layer();
    const int64_t F = get("blocks.0.ffn.key.weight").ne[1];
    int64_t head_size = 0;
    d_.set_string("general.architecture", arch);
    d_.set_string("general.name", "tiny " + arch);
    d_.set_u32("general.file_type", 0);
    d_.set_u32(arch + ".context_length", 1048576);
    d_.set_u32(arch + ".embedding_length", uint32_t(E));
    d_.set_u32(arch + ".block_count", uint32_t(L));
    d_.set_f32(arch + ".attention.layer_norm_epsilon", 1e-5f);
    if (v6) {
      head_size = get("blocks.0.att.time_faaaa").ne[1];
      d_.set_u32(arch + ".rescale_every_n_layers", uint32_t(o_.rescale_every));
      d_.set_u32(arch + ".wkv.head_size", uint32_t(head_size));
      d_.set_u32(arch + ".time_mix_extra_dim", uint32_t(get("blocks.0.att.time_maa_w1").ne[1] / 5));
      d_.set_u32(arch + ".time_decay_extra_dim", uint32_t(get("blocks.0.att.time_decay_w1").ne[1]));
    } else {
      head_size = get("blocks.0.att.r_k").ne[0];
      d_.set_u32(arch + ".wkv.head_size", uint32_t(head_size));
      d_.set_u32(arch + ".attention.decay_lora_rank", uint32_t(get("blocks.0.att.w1").ne[1]));
      d_.set_u32(arch + ".attention.iclr_lora_rank", uint32_t(get("blocks.0.att.a1").ne[1]));
      d_.set_u32(arch + ".attention.value_residual_mix_lora_rank", uint32_t(get("blocks.1.att.v1").ne[1]));
      d_.set_u32(arch + ".attention.gate_lora_rank", uint32_t(get("blocks.0.att.g1").ne[1]));
    }
    d_.set_u32(arch + ".feed_forward_length", uint32_t(F));
    d_.set_u32(arch + ".attention.head_count", 0);  // "required by llama.cpp, unused"
    add_byte_vocab(d_, V);

    add("token_embd.weight", get("emb.weight"), {E, V});
    add("token_embd_norm.weight", get("blocks.0.ln0.weight"), {E});
    add("token_embd_norm.bias", get("blocks.0.ln0.bias"), {E});
    for (int64_t il = 0; il < L; ++il) {
      const std::string b = "blocks." + std::to_string(il) + ".", g = "blk." + std::to_string(il) + ".";
      const float scale = o_.rescale_every > 0 ? std::ldexp(1.0f, -int(il / o_.rescale_every)) : 1.0f;
      add(g + "attn_norm.weight", get(b + "ln1.weight"), {E});
      add(g + "attn_norm.bias", get(b + "ln1.bias"), {E});
      add(g + "attn_norm_2.weight", get(b + "ln2.weight"), {E});
      add(g + "attn_norm_2.bias", get(b + "ln2.bias"), {E});
      for (const char* p : {"receptance", "key", "value"}) add(g + "time_mix_" + p + ".weight", get(b + "att." + p + ".weight"), {E, E});
      add(g + "time_mix_output.weight", get(b + "att.output.weight"), {E, E}, false, scale);
      add(g + "time_mix_ln.weight", get(b + "att.ln_x.weight"), {E});
      add(g + "time_mix_ln.bias", get(b + "att.ln_x.bias"), {E});
      add(g + "channel_mix_key.weight", get(b + "ffn.key.weight"), {E, F});
      add(g + "channel_mix_value.weight", get(b + "ffn.value.weight"), {F, E}, false, scale);
      if (v6) {
        const int64_t D = get(b + "att.time_maa_w1").ne[1] / 5, D2 = get(b + "att.time_decay_w1").ne[1];
        add(g + "time_mix_gate.weight", get(b + "att.gate.weight"), {E, E});
        add(g + "time_mix_lerp_x.weight", get(b + "att.time_maa_x"), {E});
        std::vector<float> fused;  // torch.stack([w, k, v, r, g]) -> [5, 1, 1, E]
        for (const char* m : {"w", "k", "v", "r", "g"}) {
          const std::vector<float> v = to_floats(get(b + "att.time_maa_" + m));
          fused.insert(fused.end(), v.begin(), v.end());
        }
        d_.tensors.push_back({g + "time_mix_lerp_fused.weight", GgmlType::kF32, {E, 1, 1, 5}, float_bytes(fused)});
        add(g + "time_mix_w1.weight", get(b + "att.time_maa_w1"), {E, 5 * D}, true);
        add(g + "time_mix_w2.weight", get(b + "att.time_maa_w2"), {D, E, 5}, true);
        add(g + "time_mix_decay.weight", get(b + "att.time_decay"), {E});
        add(g + "time_mix_decay_w1.weight", get(b + "att.time_decay_w1"), {E, D2}, true);
        add(g + "time_mix_decay_w2.weight", get(b + "att.time_decay_w2"), {D2, E}, true);
        add(g + "time_mix_first.weight", get(b + "att.time_faaaa"), {head_size, E / head_size}, true);
        add(g + "channel_mix_lerp_k.weight", get(b + "ffn.time_maa_k"), {E});
        add(g + "channel_mix_lerp_r.weight", get(b + "ffn.time_maa_r"), {E});
        add(g + "channel_mix_receptance.weight", get(b + "ffn.receptance.weight"), {E, E});
      } else {
        add(g + "time_mix_lerp_fused.weight", get(b + "att.x_rwkvag"), {E, 1, 1, 6}, true);
        for (const char* x : {"w", "a", "v", "g"}) {
          if (std::string(x) == "v" && il == 0) continue;
          const RwkvTensorInfo& down = get(b + "att." + x + "1");
          const int64_t rank = down.ne[1];
          const bool forced = std::string(x) == "w";  // TIME_MIX_W1 / W2 are always F32
          if (std::string(x) != "g") add(g + "time_mix_" + x + "0.weight", get(b + "att." + x + "0"), {E});
          add(g + "time_mix_" + x + "1.weight", down, {E, rank}, forced);
          add(g + "time_mix_" + x + "2.weight", get(b + "att." + x + "2"), {rank, E}, forced);
        }
        if (il == 0) {  // the converter's dummy v0/v1/v2 on the first layer: copies of a0/a1/a2
          const int64_t rank = get(b + "att.a1").ne[1];
          add(g + "time_mix_v0.weight", get(b + "att.a0"), {E});
          add(g + "time_mix_v1.weight", get(b + "att.a1"), {E, rank});
          add(g + "time_mix_v2.weight", get(b + "att.a2"), {rank, E});
        }
        add(g + "time_mix_k_k.weight", get(b + "att.k_k"), {E});
        add(g + "time_mix_k_a.weight", get(b + "att.k_a"), {E});
        add(g + "time_mix_r_k.weight", get(b + "att.r_k"), {E});  // flattened
        add(g + "channel_mix_lerp_k.weight", get(b + "ffn.x_k"), {E});
      }
    }
    add("output_norm.weight", get("ln_out.weight"), {E});
    add("output_norm.bias", get("ln_out.bias"), {E});
    add("output.weight", get("head.weight"), {E, V});
    return std::move(d_);
  }

 private:
  const RwkvTensorInfo& get(const std::string& name) {
    const RwkvTensorInfo* t = bin_.find_tensor(name);
    if (t == nullptr) {
      ADD_FAILURE() << "fixture lacks " << name;
      static const RwkvTensorInfo kNone{};
      return kNone;
    }
    return *t;
  }

  // Adds `t` as `name` with shape ne (same element order). 1-D tensors and `force_f32` ones are
  // stored as F32, as the converter stores them; `scale` != 1 also needs F32.
  void add(const std::string& name, const RwkvTensorInfo& t, std::vector<int64_t> ne, bool force_f32 = false,
           float scale = 1.0f) {
    const bool one_dim = ne.size() == 1;
    const bool f32 = o_.all_f32 || scale != 1.0f || (!o_.keep_types && (force_f32 || one_dim));
    if (!f32 || t.type == GgmlType::kF32) {
      if (scale == 1.0f) {
        d_.tensors.push_back({name, t.type, std::move(ne), std::vector<uint8_t>(t.data, t.data + t.size_bytes)});
        return;
      }
    }
    std::vector<float> v = to_floats(t);
    for (float& x : v) x *= scale;
    d_.tensors.push_back({name, GgmlType::kF32, std::move(ne), float_bytes(v)});
  }

  const RwkvBinFile& bin_;
  ConvertOptions o_;
  GgufDraft d_;
};

// ---- helpers ----------------------------------------------------------------------------------

std::unique_ptr<RwkvBinFile> open_bin(const std::string& path) {
  auto f = RwkvBinFile::open(path);
  EXPECT_TRUE(f.is_ok()) << f.status().to_string();
  return f.is_ok() ? std::move(f).value() : nullptr;
}

// Loads from memory: the model must not outlive `bytes` (used for files that fail to load).
Result<std::unique_ptr<Model>> load_bytes(const std::vector<uint8_t>& bytes, const std::string& name = "bad.gguf") {
  PM_ASSIGN_OR_RETURN(std::unique_ptr<GgufFile> f, GgufFile::parse(bytes.data(), bytes.size(), name));
  return load_model(std::shared_ptr<const GgufFile>(std::move(f)));
}

std::string write_temp(const GgufDraft& d, const std::string& name) {
  const std::string path = test::temp_dir() + "/" + name;
  const std::vector<uint8_t> b = d.bytes();
  EXPECT_TRUE(write_file(path, b.data(), b.size()).is_ok());
  return path;
}

// Logits after each token, fed one at a time ([n][n_vocab]), or all at once.
std::vector<float> run(const Model& m, const std::vector<TokenId>& tokens, bool all_at_once = false) {
  const size_t V = size_t(m.info().n_vocab);
  std::vector<float> out(tokens.size() * V);
  auto s = m.new_state(0);
  EXPECT_TRUE(s.is_ok());
  if (all_at_once) {
    EXPECT_TRUE(m.eval(**s, tokens.data(), int64_t(tokens.size()), out.data(), true).is_ok());
    return out;
  }
  for (size_t i = 0; i < tokens.size(); ++i) EXPECT_TRUE(m.eval(**s, &tokens[i], 1, &out[i * V], false).is_ok());
  return out;
}

bool bit_equal(const std::vector<float>& a, const std::vector<float>& b) {
  return a.size() == b.size() && std::memcmp(a.data(), b.data(), a.size() * sizeof(float)) == 0;
}

// ---- conformance ------------------------------------------------------------------------------

// sum(logit - expected) over the last row of one-by-one logits; fails on a non-finite logit.
double sum_of_differences(const std::vector<float>& rows, const std::vector<float>& expected) {
  EXPECT_EQ(expected.size(), 256u);
  const std::vector<float> last(rows.end() - 256, rows.end());
  double sum = 0;
  for (size_t i = 0; i < 256 && i < expected.size(); ++i) {
    EXPECT_TRUE(std::isfinite(last[i])) << "logit " << i;
    sum += double(last[i]) - expected[i];
  }
  return sum;
}

struct GgufFixture {
  const char* version;  // as in the file names
  const char* format;
  double sum_bound;  // rwkv_test.cpp's (rwkv.cpp's) bound on |sum(logit - expected)|
  const char* arch;
  // The tensors the converter stores in F32 (LoRA matrices, lerps) are F32 or FP16 in the .bin
  // file, so the GGUF file holds the same values. Not so for the quantized v6 files, whose
  // time_maa_w1 / time_decay_w1 / w2 are Q5: their F32 copies compute without rwkv.cpp's
  // activation quantization, and rwkv.cpp's bounds, measured for its quantized arithmetic, do
  // not apply (the keep-types conversion below checks those files against the bounds).
  bool same_values_in_f32;
};

const GgufFixture kGgufFixtures[] = {
    {"6v0-3m", "Q5_0", 27.332073, "rwkv6", false},   {"6v0-3m", "Q5_1", 3.576909, "rwkv6", false},
    {"7v0-834K", "FP32", 0.001, "rwkv7", true},      {"7v0-834K", "FP16", 0.005766, "rwkv7", true},
    {"7v0-834K", "Q5_0", 0.063645, "rwkv7", true},   {"7v0-834K", "Q5_1", 0.064663, "rwkv7", true},
};

std::string gguf_fixture_name(const GgufFixture& f) { return std::string("tiny-rwkv-") + f.version + "-" + f.format; }

class RwkvGgufConformance : public ::testing::TestWithParam<GgufFixture> {};

TEST_P(RwkvGgufConformance, MatchesBinModelAndExpectedLogits) {
  const GgufFixture f = GetParam();
  PM_REQUIRE_FIXTURE(bin_path, "rwkv/" + gguf_fixture_name(f) + ".bin");
  PM_REQUIRE_FIXTURE(expected_path, std::string("rwkv/expected-logits-") + f.version + ".bin");
  const std::vector<float> expected = test::read_f32(expected_path);
  std::unique_ptr<RwkvBinFile> bin = open_bin(bin_path);
  ASSERT_NE(bin, nullptr);
  std::unique_ptr<Model> bin_model = test::load_model_or_fail(bin_path);
  ASSERT_NE(bin_model, nullptr);

  const std::string path = write_temp(Converter(*bin, {}).run(), gguf_fixture_name(f) + ".gguf");
  std::unique_ptr<Model> m = test::load_model_or_fail(path);
  ASSERT_NE(m, nullptr);
  const auto* rm = dynamic_cast<const RwkvModel*>(m.get());
  ASSERT_NE(rm, nullptr);
  EXPECT_EQ(m->info().arch, f.arch);
  EXPECT_EQ(m->info().name, std::string("tiny ") + f.arch);
  ASSERT_NE(m->gguf(), nullptr);
  EXPECT_TRUE(m->info().recurrent);
  EXPECT_EQ(m->info().n_vocab, 256);
  EXPECT_EQ(m->info().n_layer, bin_model->info().n_layer);
  EXPECT_EQ(m->info().n_ff, bin_model->info().n_ff);
  EXPECT_EQ(m->info().head_dim, bin_model->info().head_dim);
  EXPECT_EQ(m->info().recurrent_state_bytes, bin_model->info().recurrent_state_bytes);
  EXPECT_EQ(rm->copied_weight_bytes(), 0u);  // every weight used in place from the mapping
  EXPECT_NE(m->identity(), bin_model->identity());

  const std::vector<float> got = run(*m, kGgufPrompt), want = run(*bin_model, kGgufPrompt);
  const double sum = sum_of_differences(got, expected);
  const double rel = test::max_rel_diff(got, want);
  std::printf("[ rwkv gguf] %-28s sum(logit - expected) = %+.6f (bound %.6f)  max rel diff to .bin = %.3g\n",
              gguf_fixture_name(f).c_str(), sum, f.sum_bound, rel);
  if (f.same_values_in_f32) {
    EXPECT_LE(std::fabs(sum), f.sum_bound * 1.05);
  }
  if (std::string(f.format) == "FP32") {
    EXPECT_TRUE(bit_equal(got, want)) << "max rel diff " << rel;
  } else {
    // F32 where the .bin file has FP16 or Q5 tensors: close, not always bit-identical.
    EXPECT_LE(rel, 0.05);
  }
}

TEST_P(RwkvGgufConformance, SameTensorsGiveBitIdenticalLogits) {
  // With the .bin types kept, only names and shapes differ: the logits must be the same bits.
  const GgufFixture f = GetParam();
  PM_REQUIRE_FIXTURE(bin_path, "rwkv/" + gguf_fixture_name(f) + ".bin");
  PM_REQUIRE_FIXTURE(expected_path, std::string("rwkv/expected-logits-") + f.version + ".bin");
  std::unique_ptr<RwkvBinFile> bin = open_bin(bin_path);
  ASSERT_NE(bin, nullptr);
  std::unique_ptr<Model> bin_model = test::load_model_or_fail(bin_path);
  ASSERT_NE(bin_model, nullptr);
  ConvertOptions o;
  o.keep_types = true;
  std::unique_ptr<Model> m = test::load_model_or_fail(write_temp(Converter(*bin, o).run(), "same-types.gguf"));
  ASSERT_NE(m, nullptr);
  const std::string text = "\"in the beginning was the word";
  const std::vector<TokenId> tokens(text.begin(), text.end());
  EXPECT_TRUE(bit_equal(run(*m, tokens), run(*bin_model, tokens)));
  EXPECT_TRUE(bit_equal(run(*m, tokens, true), run(*bin_model, tokens, true)));
  EXPECT_LE(std::fabs(sum_of_differences(run(*m, kGgufPrompt), test::read_f32(expected_path))), f.sum_bound * 1.05);
}

INSTANTIATE_TEST_SUITE_P(TinyModels, RwkvGgufConformance, ::testing::ValuesIn(kGgufFixtures),
                         [](const ::testing::TestParamInfo<GgufFixture>& info) {
                           std::string n = std::string("v") + info.param.version + "_" + info.param.format;
                           for (char& c : n)
                             if (!std::isalnum(static_cast<unsigned char>(c))) c = '_';
                           return n;
                         });

TEST(RwkvGguf, RescaledLayersGiveTheSameLogits) {
  // rescale_every_n_layers = 3 halves the residual stream after layers 3, 6, 9, 12 against
  // weights the converter divided by 1, 2, 4, 8: only the layer norms' epsilon sees the difference.
  PM_REQUIRE_FIXTURE(bin_path, "rwkv/tiny-rwkv-6v0-3m-Q5_1.bin");
  std::unique_ptr<RwkvBinFile> bin = open_bin(bin_path);
  ASSERT_NE(bin, nullptr);
  ConvertOptions plain, rescaled;
  plain.all_f32 = rescaled.all_f32 = true;
  rescaled.rescale_every = 3;
  GgufDraft d = Converter(*bin, rescaled).run();
  std::unique_ptr<Model> a = test::load_model_or_fail(write_temp(Converter(*bin, plain).run(), "plain.gguf"));
  std::unique_ptr<Model> b = test::load_model_or_fail(write_temp(d, "rescaled.gguf"));
  ASSERT_TRUE(a && b);
  EXPECT_EQ(dynamic_cast<const RwkvModel&>(*b).hparams().rescale_every, 3);
  const std::string text = "\"in the beginning";
  const std::vector<TokenId> tokens(text.begin(), text.end());
  const std::vector<float> la = run(*a, tokens), lb = run(*b, tokens);
  EXPECT_FALSE(bit_equal(la, lb));  // the rescaling did happen
  const double rescaled_diff = test::max_rel_diff(lb, la);
  EXPECT_LE(rescaled_diff, 5e-3);

  // Without the key the same weights are wrong: the rescaling must come from the metadata.
  d.drop_key("rwkv6.rescale_every_n_layers");
  std::unique_ptr<Model> c = test::load_model_or_fail(write_temp(d, "rescaled-without-key.gguf"));
  ASSERT_NE(c, nullptr);
  const double unscaled_diff = test::max_rel_diff(run(*c, tokens), la);
  std::printf("[ rwkv gguf] rescaled: max rel diff %.3g; same weights without the key: %.3g\n", rescaled_diff,
              unscaled_diff);
  EXPECT_GT(unscaled_diff, 10 * rescaled_diff);
}

// ---- malformed files --------------------------------------------------------------------------

void expect_error(const Status& st, StatusCode code, std::initializer_list<std::string> words) {
  ASSERT_FALSE(st.is_ok());
  EXPECT_EQ(st.code(), code) << st.to_string();
  for (const std::string& w : words)
    EXPECT_NE(st.message().find(w), std::string::npos) << "\"" << w << "\" not in: " << st.message();
}

Status load_status(const GgufDraft& d) {
  auto m = load_bytes(d.bytes());
  return m.is_ok() ? Status::ok() : m.status();
}

class RwkvGgufMalformed : public ::testing::TestWithParam<const char*> {
 protected:
  // The fixture's conversion, or empty (and skipped) when absent.
  GgufDraft draft() {
    const std::string path = test::fixture(std::string("rwkv/") + GetParam());
    if (path.empty()) return {};
    std::unique_ptr<RwkvBinFile> bin = open_bin(path);
    return bin ? Converter(*bin, {}).run() : GgufDraft{};
  }
  std::string arch() const { return std::string(GetParam()).find("-6v") != std::string::npos ? "rwkv6" : "rwkv7"; }
};

TEST_P(RwkvGgufMalformed, ValidConversionLoads) {
  PM_REQUIRE_FIXTURE(path, std::string("rwkv/") + GetParam());
  EXPECT_TRUE(load_status(draft()).is_ok()) << load_status(draft()).to_string();
}

TEST_P(RwkvGgufMalformed, MissingTensors) {
  PM_REQUIRE_FIXTURE(path, std::string("rwkv/") + GetParam());
  for (const std::string name : {"blk.3.time_mix_key.weight", "blk.0.time_mix_lerp_fused.weight", "output.weight",
                                 "token_embd_norm.bias", "blk.11.channel_mix_value.weight", "blk.5.time_mix_w2.weight",
                                 "token_embd.weight"}) {
    GgufDraft d = draft();
    ASSERT_NE(d.find(name), nullptr) << name;
    d.drop_tensor(name);
    expect_error(load_status(d), StatusCode::kNotFound, {"bad.gguf", "tensor " + name, "missing"});
  }
  // One layer more than the file holds.
  GgufDraft d = draft();
  d.value(arch() + ".block_count")->u64 = 13;
  d.value(arch() + ".block_count")->i64 = 13;
  expect_error(load_status(d), StatusCode::kNotFound, {"bad.gguf", "blk.12.", "missing"});
}

TEST_P(RwkvGgufMalformed, WrongShapes) {
  PM_REQUIRE_FIXTURE(path, std::string("rwkv/") + GetParam());
  GgufDraft d = draft();
  DraftTensor* t = d.find("blk.2.time_mix_w1.weight");
  ASSERT_NE(t, nullptr);
  std::swap(t->ne[0], t->ne[1]);  // not transposed, as a naive converter would leave it
  expect_error(load_status(d), StatusCode::kCorrupt, {"bad.gguf", "tensor blk.2.time_mix_w1.weight", "has shape", "expected"});

  d = draft();
  t = d.find("blk.4.time_mix_lerp_fused.weight");
  ASSERT_NE(t, nullptr);
  t->ne = {t->ne[0], 1, 1, t->ne[3] - 1};
  t->data.resize(t->data.size() / size_t(t->ne[3] + 1) * size_t(t->ne[3]));
  expect_error(load_status(d), StatusCode::kCorrupt, {"tensor blk.4.time_mix_lerp_fused.weight", "expected"});

  d = draft();
  t = d.find("output.weight");
  ASSERT_NE(t, nullptr);
  t->ne[1] = 128;
  t->data.resize(t->data.size() / 2);
  expect_error(load_status(d), StatusCode::kCorrupt, {"tensor output.weight", "expected"});

  // Metadata that disagrees with the tensors.
  d = draft();
  const std::string key = arch() == "rwkv6" ? "rwkv6.time_mix_extra_dim" : "rwkv7.attention.iclr_lora_rank";
  d.value(key)->u64 = d.value(key)->i64 = 16;
  expect_error(load_status(d), StatusCode::kCorrupt, {"bad.gguf", "has shape", key});
  d = draft();
  d.value(arch() + ".feed_forward_length")->u64 = d.value(arch() + ".feed_forward_length")->i64 = 100;
  expect_error(load_status(d), StatusCode::kCorrupt, {"channel_mix_key.weight", "feed_forward_length"});
}

TEST_P(RwkvGgufMalformed, MissingAndBadKeys) {
  PM_REQUIRE_FIXTURE(path, std::string("rwkv/") + GetParam());
  std::vector<std::string> required = {".embedding_length", ".block_count", ".feed_forward_length", ".wkv.head_size"};
  if (arch() == "rwkv6") {
    required.insert(required.end(), {".time_mix_extra_dim", ".time_decay_extra_dim"});
  } else {
    required.insert(required.end(), {".attention.decay_lora_rank", ".attention.iclr_lora_rank",
                                     ".attention.value_residual_mix_lora_rank", ".attention.gate_lora_rank"});
  }
  for (const std::string& suffix : required) {
    GgufDraft d = draft();
    d.drop_key(arch() + suffix);
    expect_error(load_status(d), StatusCode::kNotFound, {"bad.gguf", arch() + suffix, "missing"});
  }
  GgufDraft d = draft();
  GgufValue* hs = d.value(arch() + ".wkv.head_size");
  hs->u64 = hs->i64 = 48;  // does not divide n_embd
  expect_error(load_status(d), StatusCode::kCorrupt, {"wkv.head_size = 48", "does not divide"});
  d = draft();
  d.value(arch() + ".block_count")->u64 = d.value(arch() + ".block_count")->i64 = 0;
  expect_error(load_status(d), StatusCode::kCorrupt, {arch() + ".block_count = 0", "out of range"});
  d = draft();
  d.value(arch() + ".embedding_length")->type = GgufType::kString;
  expect_error(load_status(d), StatusCode::kCorrupt, {arch() + ".embedding_length"});
  d = draft();
  d.value("general.architecture")->str = "rwkv8";
  expect_error(load_status(d), StatusCode::kUnsupported, {"rwkv8"});
}

TEST_P(RwkvGgufMalformed, UnsupportedTensorType) {
  PM_REQUIRE_FIXTURE(path, std::string("rwkv/") + GetParam());
  GgufDraft d = draft();
  DraftTensor* t = d.find("blk.1.time_mix_key.weight");
  ASSERT_NE(t, nullptr);
  t->type = GgmlType::kIQ4_NL;  // a GGUF type pocketmind has no kernels for
  t->data.assign(row_size_bytes(GgmlType::kIQ4_NL, t->ne[0]) * size_t(t->ne[1]), 0);
  expect_error(load_status(d), StatusCode::kUnsupported, {"blk.1.time_mix_key.weight", "iq4_nl"});
}

INSTANTIATE_TEST_SUITE_P(TinyModels, RwkvGgufMalformed,
                         ::testing::Values("tiny-rwkv-6v0-3m-Q5_1.bin", "tiny-rwkv-7v0-834K-FP32.bin"),
                         [](const ::testing::TestParamInfo<const char*>& info) {
                           return std::string(info.param).find("-6v") != std::string::npos ? "v6" : "v7";
                         });

TEST(RwkvGgufCorpus, MutatedFilesLoadOrFailCleanly) {
  // Bit flips, huge values, truncations in the header, metadata and tensor table (and a few
  // anywhere): parsing and building either fail with a Status or give a model that runs.
  PM_REQUIRE_FIXTURE(bin_path, "rwkv/tiny-rwkv-7v0-834K-Q5_1.bin");
  std::unique_ptr<RwkvBinFile> bin = open_bin(bin_path);
  ASSERT_NE(bin, nullptr);
  const std::vector<uint8_t> good = Converter(*bin, {}).run().bytes();
  auto parsed = GgufFile::parse(good.data(), good.size(), "good.gguf");
  ASSERT_TRUE(parsed.is_ok());
  uint64_t data_start = good.size();
  for (const GgufTensorInfo& t : (*parsed)->tensors())
    data_start = std::min<uint64_t>(data_start, uint64_t(t.data - good.data()));
  std::mt19937 rng(2024);
  int loaded = 0;
  for (int round = 0; round < 400; ++round) {
    std::vector<uint8_t> b = good;
    const size_t limit = round % 8 == 7 ? b.size() : size_t(data_start);
    const size_t at = rng() % limit;
    switch (rng() % 4) {
      case 0: b[at] ^= uint8_t(1u << (rng() % 8)); break;
      case 1: for (size_t i = at; i < at + 4 && i < b.size(); ++i) b[i] = 0xff; break;
      case 2: b.resize(at); break;
      case 3: { const uint32_t v = rng() % 300; if (at + 4 <= b.size()) std::memcpy(&b[at], &v, 4); } break;
    }
    std::vector<uint8_t> exact(b);  // exact-size allocation: overreads are caught by ASan
    auto m = load_bytes(exact, "mutated.gguf");
    if (!m.is_ok()) {
      EXPECT_FALSE(m.status().message().empty());
      continue;
    }
    ++loaded;
    auto s = (*m)->new_state(0);
    ASSERT_TRUE(s.is_ok());
    std::vector<float> logits(size_t((*m)->info().n_vocab));
    const TokenId t = 65 % TokenId((*m)->info().n_vocab);
    EXPECT_TRUE((*m)->eval(**s, &t, 1, logits.data(), false).is_ok());
  }
  std::printf("[ rwkv gguf] %d of 400 mutated files still loaded\n", loaded);
}

// ---- the pocketmind command --------------------------------------------------------------------

TEST(RwkvGgufCli, InfoEvalRunWork) {
  PM_REQUIRE_FIXTURE(bin_path, "rwkv/tiny-rwkv-7v0-834K-FP32.bin");
  std::unique_ptr<RwkvBinFile> bin = open_bin(bin_path);
  ASSERT_NE(bin, nullptr);
  const std::string path = write_temp(Converter(*bin, {}).run(), "tiny-rwkv7.gguf");

  test::CommandResult r = test::run_pocketmind({"info", "-m", path, "--json"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const nlohmann::json info = nlohmann::json::parse(r.out);
  EXPECT_EQ(info["arch"], "rwkv7");
  EXPECT_EQ(info["n_layer"], 12);
  EXPECT_EQ(info["n_vocab"], 256);
  EXPECT_EQ(info["tokenizer"], "rwkv-world");
  EXPECT_EQ(info["state_bytes"], 12 * (2 + 64) * 64 * 4);

  const std::string dir = test::temp_dir();
  const std::string prompt = dir + "/prompt.txt", out = dir + "/logits.f32";
  ASSERT_TRUE(write_file(prompt, "\"in", 3).is_ok());
  r = test::run_pocketmind({"eval", "-m", path, "--prompt-file", prompt, "--dump-logits", out});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.out.find("tokens: 34 105 110"), std::string::npos) << r.out;
  std::unique_ptr<Model> bin_model = test::load_model_or_fail(bin_path);
  ASSERT_NE(bin_model, nullptr);
  EXPECT_LE(test::max_rel_diff(test::read_f32(out), run(*bin_model, kGgufPrompt)), 1e-4);

  r = test::run_pocketmind({"run", "-m", path, "-p", "\"in", "-n", "8", "--temp", "0"});
  EXPECT_EQ(r.exit_code, 0) << r.err;
}

}  // namespace
}  // namespace pm
