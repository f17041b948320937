#include "models/synth.h"

#include <cmath>
#include <cstring>
#include <map>
#include <memory>
#include <random>

#include "formats/gguf.h"
#include "formats/quant_recipe.h"
#include "formats/rwkv_bin_writer.h"
#include "kernels/kernels.h"

namespace pm {

const std::vector<SynthShape>& synth_shapes() {
  // Shapes from the released models' configuration files.
  static const std::vector<SynthShape> kShapes = {
      //  name            arch     vocab   embd  layer head kv  hdim  ff     ctx     rope_base  bias  qkn    tied   l3
      {"qwen2.5-0.5b", "qwen2", 151936, 896, 24, 14, 2, 64, 4864, 32768, 1000000.0, true, false, true, false},
      {"qwen2.5-1.5b", "qwen2", 151936, 1536, 28, 12, 2, 128, 8960, 32768, 1000000.0, true, false, true, false},
      {"qwen2.5-3b", "qwen2", 151936, 2048, 36, 16, 2, 128, 11008, 32768, 1000000.0, true, false, true, false},
      {"qwen3-0.6b", "qwen3", 151936, 1024, 28, 16, 8, 128, 3072, 40960, 1000000.0, false, true, true, false},
      {"qwen3-1.7b", "qwen3", 151936, 2048, 28, 16, 8, 128, 6144, 40960, 1000000.0, false, true, true, false},
      {"llama-3.2-1b", "llama", 128256, 2048, 16, 32, 8, 64, 8192, 131072, 500000.0, false, false, true, true},
      {"llama-3.2-3b", "llama", 128256, 3072, 28, 24, 8, 128, 8192, 131072, 500000.0, false, false, true, true},
  };
  return kShapes;
}

const SynthShape* find_synth_shape(const std::string& name) {
  for (const SynthShape& s : synth_shapes())
    if (name == s.name) return &s;
  return nullptr;
}

const std::vector<SynthRwkvShape>& synth_rwkv_shapes() {
  // RWKV-7 "Goose" World models: head size 64, FFN 4x, LoRA ranks as the reference
  // implementation sizes them for each width.
  static const std::vector<SynthRwkvShape> kShapes = {
      {"rwkv7-0.1b", 65536, 768, 12, 64, 64, 64, 32, 128},
      {"rwkv7-0.4b", 65536, 1024, 24, 64, 64, 64, 32, 128},
      {"rwkv7-1.5b", 65536, 2048, 24, 64, 96, 96, 64, 256},
      {"rwkv7-2.9b", 65536, 2560, 32, 64, 96, 96, 64, 320},
  };
  return kShapes;
}

const SynthRwkvShape* find_synth_rwkv_shape(const std::string& name) {
  for (const SynthRwkvShape& s : synth_rwkv_shapes())
    if (name == s.name) return &s;
  return nullptr;
}

namespace {

// A pool of quantized blocks made from N(0, sigma) values, tiled over a tensor at random block
// offsets.
class BlockPool {
 public:
  BlockPool(GgmlType type, float sigma, std::mt19937_64& rng) {
    const TypeInfo* info = type_info(type);
    const int64_t n = 64 * 1024;  // a multiple of every block size
    std::vector<float> x(static_cast<size_t>(n));
    std::normal_distribution<float> normal(0.0f, sigma);
    for (float& v : x) v = normal(rng);
    bytes_.resize(row_size_bytes(type, n));
    generic_kernels().of(type).from_float(x.data(), bytes_.data(), n);
    block_bytes_ = info->block_bytes;
    n_blocks_ = size_t(n / info->block_size);
  }
  void fill(uint8_t* out, size_t size_bytes, std::mt19937_64& rng) const {
    for (size_t off = 0; off < size_bytes;) {
      const size_t start = (rng() % n_blocks_) * block_bytes_;
      const size_t n = std::min(size_bytes - off, bytes_.size() - start);
      std::memcpy(out + off, bytes_.data() + start, n);
      off += n;
    }
  }

 private:
  std::vector<uint8_t> bytes_;
  size_t block_bytes_ = 0, n_blocks_ = 0;
};

// A SentencePiece-style vocabulary of the right size: control tokens, the 256 byte tokens and
// filler pieces, so that every text tokenizes (through byte fallback) and decodes.
void add_synthetic_vocab(GgufWriter& w, int64_t n_vocab) {
  std::vector<std::string> tokens = {"<unk>", "<s>", "</s>"};
  std::vector<float> scores = {0, 0, 0};
  std::vector<int32_t> types = {2, 3, 3};
  for (int b = 0; b < 256; ++b) {
    char buf[8];
    std::snprintf(buf, sizeof buf, "<0x%02X>", b);
    tokens.push_back(buf);
    scores.push_back(0);
    types.push_back(6);
  }
  for (int64_t i = int64_t(tokens.size()); i < n_vocab; ++i) {
    tokens.push_back("\xE2\x96\x81synth" + std::to_string(i));
    scores.push_back(-float(i));
    types.push_back(1);
  }
  w.set_string("tokenizer.ggml.model", "llama");
  w.set_string_array("tokenizer.ggml.tokens", std::move(tokens));
  w.set_f32_array("tokenizer.ggml.scores", scores);
  w.set_i32_array("tokenizer.ggml.token_type", types);
  w.set_u32("tokenizer.ggml.bos_token_id", 1);
  w.set_u32("tokenizer.ggml.eos_token_id", 2);
  w.set_u32("tokenizer.ggml.unknown_token_id", 0);
}

}  // namespace

Status write_synth_rwkv7(const SynthRwkvShape& s, GgmlType type, const std::string& path, uint64_t seed,
                         const SynthProgress& progress) {
  const TypeInfo* info = type_info(type);
  if (info == nullptr || !info->supported || rwkv_code_for_type(type) < 0 || type == GgmlType::kQ8_1 ||
      type == GgmlType::kQ8_K)
    return Status::invalid_argument(std::string("rwkv.cpp files cannot hold weights of type ") + type_name(type));
  const int64_t C = s.n_embd, F = 4 * s.n_embd, H = s.n_embd / s.head_size;
  if (C % info->block_size != 0 || F % info->block_size != 0)
    return Status::invalid_argument(std::string(s.name) + ": width not a multiple of the " + info->name + " block size");
  RwkvBinWriter w(path, s.n_vocab, C, s.n_layer, type);
  std::mt19937_64 rng(seed);
  const BlockPool pool(type, 1.0f / std::sqrt(float(C)), rng);
  const BlockPool pool_ff(type, 1.0f / std::sqrt(float(F)), rng);
  const BlockPool half(GgmlType::kF16, 1.0f / std::sqrt(float(C)), rng);
  const BlockPool half_small(GgmlType::kF16, 0.1f / std::sqrt(float(C)), rng);
  std::vector<uint8_t> buf;
  auto matrix = [&](const std::string& name, GgmlType t, const BlockPool& p, int64_t n_in, int64_t n_out) {
    buf.resize(row_size_bytes(t, n_in) * size_t(n_out));
    p.fill(buf.data(), buf.size(), rng);
    return w.add_tensor(name, t, {n_in, n_out}, buf.data(), buf.size());
  };
  auto vec = [&](const std::string& name, std::vector<int64_t> ne, float lo, float hi) {
    int64_t n = 1;
    for (int64_t d : ne) n *= d;
    std::vector<float> v(static_cast<size_t>(n));
    std::uniform_real_distribution<float> u(lo, hi);
    for (float& x : v) x = u(rng);
    return w.add_tensor(name, GgmlType::kF32, ne, v.data(), v.size() * sizeof(float));
  };
  const int64_t total = s.n_layer + 2;
  int64_t done = 0;
  PM_RETURN_IF_ERROR(matrix("emb.weight", GgmlType::kF16, half, C, s.n_vocab));
  if (progress) progress(++done, total);
  for (int64_t l = 0; l < s.n_layer; ++l) {
    const std::string b = "blocks." + std::to_string(l) + ".";
    if (l == 0) {
      PM_RETURN_IF_ERROR(vec(b + "ln0.weight", {C}, 0.9f, 1.1f));
      PM_RETURN_IF_ERROR(vec(b + "ln0.bias", {C}, -0.01f, 0.01f));
    }
    PM_RETURN_IF_ERROR(vec(b + "ln1.weight", {C}, 0.9f, 1.1f));
    PM_RETURN_IF_ERROR(vec(b + "ln1.bias", {C}, -0.01f, 0.01f));
    PM_RETURN_IF_ERROR(vec(b + "ln2.weight", {C}, 0.9f, 1.1f));
    PM_RETURN_IF_ERROR(vec(b + "ln2.bias", {C}, -0.01f, 0.01f));
    PM_RETURN_IF_ERROR(vec(b + "att.x_rwkvag", {C, 1, 6}, 0.0f, 1.0f));
    PM_RETURN_IF_ERROR(matrix(b + "att.w1", GgmlType::kF16, half, C, s.d_decay));
    PM_RETURN_IF_ERROR(matrix(b + "att.w2", GgmlType::kF16, half_small, s.d_decay, C));
    PM_RETURN_IF_ERROR(vec(b + "att.w0", {C, 1, 1}, -2.0f, 0.0f));
    PM_RETURN_IF_ERROR(matrix(b + "att.a1", GgmlType::kF16, half, C, s.d_aaa));
    PM_RETURN_IF_ERROR(matrix(b + "att.a2", GgmlType::kF16, half_small, s.d_aaa, C));
    PM_RETURN_IF_ERROR(vec(b + "att.a0", {C, 1, 1}, -0.1f, 0.1f));
    if (l > 0) {
      PM_RETURN_IF_ERROR(matrix(b + "att.v1", GgmlType::kF16, half, C, s.d_mv));
      PM_RETURN_IF_ERROR(matrix(b + "att.v2", GgmlType::kF16, half_small, s.d_mv, C));
      PM_RETURN_IF_ERROR(vec(b + "att.v0", {C, 1, 1}, 0.9f, 1.1f));
    }
    PM_RETURN_IF_ERROR(matrix(b + "att.g1", GgmlType::kF16, half, C, s.d_gate));
    PM_RETURN_IF_ERROR(matrix(b + "att.g2", GgmlType::kF16, half_small, s.d_gate, C));
    PM_RETURN_IF_ERROR(vec(b + "att.k_k", {C, 1, 1}, 0.8f, 1.0f));
    PM_RETURN_IF_ERROR(vec(b + "att.k_a", {C, 1, 1}, 0.8f, 1.0f));
    PM_RETURN_IF_ERROR(vec(b + "att.r_k", {s.head_size, H}, -0.1f, 0.1f));
    for (const char* m : {"receptance", "key", "value", "output"})
      PM_RETURN_IF_ERROR(matrix(b + "att." + m + ".weight", type, pool, C, C));
    PM_RETURN_IF_ERROR(vec(b + "att.ln_x.weight", {C}, 0.9f, 1.1f));
    PM_RETURN_IF_ERROR(vec(b + "att.ln_x.bias", {C}, -0.01f, 0.01f));
    PM_RETURN_IF_ERROR(vec(b + "ffn.x_k", {C, 1, 1}, 0.0f, 1.0f));
    PM_RETURN_IF_ERROR(matrix(b + "ffn.key.weight", type, pool, C, F));
    PM_RETURN_IF_ERROR(matrix(b + "ffn.value.weight", type, pool_ff, F, C));
    if (progress) progress(++done, total);
  }
  PM_RETURN_IF_ERROR(vec("ln_out.weight", {C}, 0.9f, 1.1f));
  PM_RETURN_IF_ERROR(vec("ln_out.bias", {C}, -0.01f, 0.01f));
  PM_RETURN_IF_ERROR(matrix("head.weight", GgmlType::kF16, half, C, s.n_vocab));
  PM_RETURN_IF_ERROR(w.commit());
  if (progress) progress(++done, total);
  return Status::ok();
}

Status write_synth_model(const SynthShape& s, GgmlType type, const std::string& path, uint64_t seed,
                         const SynthProgress& progress) {
  return write_synth_model(s, QuantRecipe{type_name(type), type, false}, path, seed, progress);
}

Status write_synth_model(const SynthShape& s, const QuantRecipe& recipe, const std::string& path, uint64_t seed,
                         const SynthProgress& progress) {
  const GgmlType type = recipe.base;
  const TypeInfo* info = type_info(type);
  if (info == nullptr || !info->supported || type == GgmlType::kQ8_1 || type == GgmlType::kQ8_K)
    return Status::invalid_argument(std::string("cannot synthesize weights of type ") + type_name(type));
  GgufWriter w;
  const std::string a = s.arch;
  w.set_string("general.architecture", a);
  w.set_string("general.name", std::string("synthetic ") + s.name);
  w.set_u32(a + ".context_length", uint32_t(s.n_ctx_train));
  w.set_u32(a + ".embedding_length", uint32_t(s.n_embd));
  w.set_u32(a + ".block_count", uint32_t(s.n_layer));
  w.set_u32(a + ".feed_forward_length", uint32_t(s.n_ff));
  w.set_u32(a + ".attention.head_count", uint32_t(s.n_head));
  w.set_u32(a + ".attention.head_count_kv", uint32_t(s.n_head_kv));
  w.set_u32(a + ".attention.key_length", uint32_t(s.head_dim));
  w.set_u32(a + ".attention.value_length", uint32_t(s.head_dim));
  w.set_u32(a + ".rope.dimension_count", uint32_t(s.head_dim));
  w.set_f32(a + ".rope.freq_base", float(s.rope_base));
  w.set_f32(a + ".attention.layer_norm_rms_epsilon", 1e-6f);
  add_synthetic_vocab(w, s.n_vocab);

  std::mt19937_64 rng(seed);
  // Weight scale ~ 1/sqrt(fan_in) keeps activations in a realistic range. One pool of blocks
  // per (type, fan-in) the recipe asks for, made when first needed.
  std::map<std::pair<GgmlType, int64_t>, std::unique_ptr<BlockPool>> pools;
  auto pool_for = [&](GgmlType t, int64_t fan_in) -> const BlockPool& {
    std::unique_ptr<BlockPool>& p = pools[{t, fan_in}];
    if (!p) p = std::make_unique<BlockPool>(t, 1.0f / std::sqrt(float(fan_in)), rng);
    return *p;
  };
  const int64_t q_dim = s.n_head * s.head_dim, kv_dim = s.n_head_kv * s.head_dim;

  std::vector<uint8_t> buf;
  Status status;
  auto matrix = [&](const std::string& name, int64_t n_in, int64_t n_out) {
    if (!status.is_ok()) return;
    const bool is_output = name == "output.weight" || (s.tied_output && name == "token_embd.weight");
    const GgmlType t = recipe_tensor_type(recipe, name, s.n_layer, n_in, is_output);
    if (n_in % type_info(t)->block_size != 0) {
      status = Status::invalid_argument(std::string(s.name) + ": row length " + std::to_string(n_in) + " of " + name +
                                        " is not a multiple of the " + type_name(t) + " block size");
      return;
    }
    buf.resize(row_size_bytes(t, n_in) * size_t(n_out));
    pool_for(t, n_in).fill(buf.data(), buf.size(), rng);
    status = w.add_tensor(name, t, {n_in, n_out}, buf.data(), buf.size());
  };
  auto vector = [&](const std::string& name, int64_t n, float value, float noise) {
    if (!status.is_ok()) return;
    std::vector<float> v(static_cast<size_t>(n));
    std::normal_distribution<float> normal(0.0f, 1.0f);
    for (float& x : v) x = value + noise * normal(rng);
    status = w.add_tensor(name, GgmlType::kF32, {n}, v.data(), v.size() * sizeof(float));
  };

  const int64_t total = 3 + s.n_layer;
  int64_t done = 0;
  auto tick = [&] { if (progress) progress(++done, total); };
  matrix("token_embd.weight", s.n_embd, s.n_vocab);
  tick();
  vector("output_norm.weight", s.n_embd, 1.0f, 0.05f);
  if (!s.tied_output) matrix("output.weight", s.n_embd, s.n_vocab);
  if (s.llama3_rope) {
    // Llama 3.x long-context factors: 1 for high frequencies rising to 8 for low ones.
    std::vector<float> f(static_cast<size_t>(s.head_dim / 2));
    for (size_t i = 0; i < f.size(); ++i) f[i] = 1.0f + 7.0f * float(i) / float(f.size() - 1);
    if (status.is_ok()) status = w.add_tensor("rope_freqs.weight", GgmlType::kF32, {int64_t(f.size())}, f.data(), f.size() * 4);
  }
  tick();
  for (int64_t l = 0; l < s.n_layer && status.is_ok(); ++l) {
    const std::string p = "blk." + std::to_string(l) + ".";
    vector(p + "attn_norm.weight", s.n_embd, 1.0f, 0.05f);
    matrix(p + "attn_q.weight", s.n_embd, q_dim);
    matrix(p + "attn_k.weight", s.n_embd, kv_dim);
    matrix(p + "attn_v.weight", s.n_embd, kv_dim);
    matrix(p + "attn_output.weight", q_dim, s.n_embd);
    if (s.qkv_bias) {
      vector(p + "attn_q.bias", q_dim, 0.0f, 0.02f);
      vector(p + "attn_k.bias", kv_dim, 0.0f, 0.02f);
      vector(p + "attn_v.bias", kv_dim, 0.0f, 0.02f);
    }
    if (s.qk_norm) {
      vector(p + "attn_q_norm.weight", s.head_dim, 1.0f, 0.05f);
      vector(p + "attn_k_norm.weight", s.head_dim, 1.0f, 0.05f);
    }
    vector(p + "ffn_norm.weight", s.n_embd, 1.0f, 0.05f);
    matrix(p + "ffn_gate.weight", s.n_embd, s.n_ff);
    matrix(p + "ffn_up.weight", s.n_embd, s.n_ff);
    matrix(p + "ffn_down.weight", s.n_ff, s.n_embd);
    tick();
  }
  PM_RETURN_IF_ERROR(status);
  PM_RETURN_IF_ERROR(w.write(path));
  tick();
  return Status::ok();
}

}  // namespace pm
