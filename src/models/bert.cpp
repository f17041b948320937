// bert: BERT-style encoders for sentence embeddings (bge, all-MiniLM, e5...), as llama.cpp
// converts them, and nomic-bert (rotary positions, fused qkv, SwiGLU, no biases).
//   x = layer_norm(tok_embd[t] + token_types[0] + pos_embd[pos])      (nomic: no pos_embd)
//   per layer (post-norm):
//     x = layer_norm(x + Wo * attention(Wq x + bq, Wk x + bk, Wv x + bv) + bo)   attn_output_norm
//     x = layer_norm(x + Wdown * gelu(Wup x + bup) + bdown)                    layer_output_norm
//     (nomic: q, k roped (neox), ffn = Wdown * (silu(Wgate x) * (Wup x)))
//   attention is bidirectional within a sequence, scaled by 1/sqrt(head_dim).
//   sequence vector = mean of the final rows, or the first ([CLS]) row; optionally L2-normalized.
#include "models/bert.h"

#include <cmath>
#include <cstring>
#include <random>

#include "core/fp16.h"
#include "kernels/matmul.h"
#include "kernels/ops.h"
#include "models/blocks.h"
#include "models/fingerprint.h"
#include "models/registry.h"

namespace pm {
namespace {

struct BertLayer {
  Weight wq, wk, wv;                  // [n_embd -> n_embd] (bert)
  Weight wqkv;                        // [n_embd -> 3 * n_embd] (nomic-bert: q, k, v rows in that order)
  FloatVec bq, bk, bv;                // [n_embd] (bert)
  Weight wo;                          // [n_embd -> n_embd]
  FloatVec bo;                        // [n_embd] (bert)
  FloatVec attn_norm_w, attn_norm_b;  // attn_output_norm [n_embd]
  Weight w_up, w_gate, w_down;        // up/gate [n_embd -> n_ff], down [n_ff -> n_embd]; gate: nomic only
  FloatVec b_up, b_down;              // [n_ff], [n_embd] (bert)
  FloatVec out_norm_w, out_norm_b;    // layer_output_norm [n_embd]
};

class BertModel final : public EmbeddingModel {
 public:
  BertModel(std::shared_ptr<const GgufFile> gguf, bool nomic) : nomic_(nomic) { gguf_ = std::move(gguf); }
  Status load();
  Status embed(const std::vector<std::vector<TokenId>>& seqs, Pooling pooling, bool normalize, float* out,
               ThreadPool* pool) const override;

 private:
  void attention(int64_t n, const float* q, const float* k, const float* v, float* out, ThreadPool* pool) const;

  bool nomic_;
  const char* arch() const { return nomic_ ? "nomic-bert" : "bert"; }
  float eps_ = 1e-12f;
  RopeParams rope_;
  Weight tok_embd_;                     // [n_embd -> n_vocab]
  Weight type_embd_;                    // [n_embd -> n_types]; row 0 added to every token (single-segment input)
  Weight pos_embd_;                     // [n_embd -> n_ctx_train] (bert)
  FloatVec embd_norm_w_, embd_norm_b_;  // [n_embd]
  std::vector<BertLayer> layers_;
};

void decode_row(const Weight& w, int64_t row, float* dst) {
  active_kernels().of(w.type).to_float(w.data + size_t(row) * row_size_bytes(w.type, w.n_in), dst, w.n_in);
}

Status BertModel::load() {
  const GgufFile& f = *gguf_;
  Hparams h(f, arch());
  TensorBinder b(f);
  ModelInfo& p = info_;
  p.arch = arch();
  PM_ASSIGN_OR_RETURN(p.name, f.get_string_or("general.name", ""));
  PM_ASSIGN_OR_RETURN(p.n_embd, h.get_int("embedding_length"));
  PM_ASSIGN_OR_RETURN(p.n_layer, h.get_int("block_count"));
  PM_ASSIGN_OR_RETURN(p.n_ff, h.get_int("feed_forward_length"));
  PM_ASSIGN_OR_RETURN(p.n_head, h.get_int("attention.head_count"));
  PM_ASSIGN_OR_RETURN(p.n_ctx_train, h.get_int_or("context_length", 512));
  PM_RETURN_IF_ERROR(h.check_range("embedding_length", p.n_embd, 1, 1 << 16));
  PM_RETURN_IF_ERROR(h.check_range("block_count", p.n_layer, 1, 1024));
  PM_RETURN_IF_ERROR(h.check_range("feed_forward_length", p.n_ff, 1, 1 << 20));
  PM_RETURN_IF_ERROR(h.check_range("attention.head_count", p.n_head, 1, 1024));
  PM_RETURN_IF_ERROR(h.check_range("context_length", p.n_ctx_train, 1, 1 << 20));
  if (p.n_embd % p.n_head != 0)
    return Status::corrupt(f.path() + ": " + arch() + ".embedding_length " + std::to_string(p.n_embd) +
                           " is not a multiple of attention.head_count " + std::to_string(p.n_head));
  p.n_head_kv = p.n_head;
  p.head_dim = p.n_embd / p.n_head;
  PM_ASSIGN_OR_RETURN(double eps, h.get_float_or("attention.layer_norm_epsilon", 1e-12));
  if (!(eps > 0 && eps < 1))
    return Status::corrupt(f.path() + ": " + arch() + ".attention.layer_norm_epsilon out of range");
  eps_ = float(eps);
  PM_ASSIGN_OR_RETURN(int64_t pooling, h.get_int_or("pooling_type", 1));
  if (pooling == 1)
    default_pooling_ = Pooling::kMean;
  else if (pooling == 2)
    default_pooling_ = Pooling::kCls;
  else
    return Status::unsupported(f.path() + ": " + arch() + ".pooling_type " + std::to_string(pooling) +
                               " is not supported (1 = mean, 2 = cls)");

  const GgufTensorInfo* embd = f.find_tensor("token_embd.weight");
  if (embd == nullptr) return Status::not_found(f.path() + ": tensor token_embd.weight is missing");
  if (embd->ne.size() != 2) return Status::corrupt(f.path() + ": tensor token_embd.weight must be 2-D");
  p.n_vocab = embd->ne[1];
  PM_ASSIGN_OR_RETURN(tok_embd_, b.weight("token_embd.weight", p.n_embd, p.n_vocab));
  const GgufTensorInfo* types = f.find_tensor("token_types.weight");
  const int64_t n_types = (types != nullptr && types->ne.size() == 2) ? types->ne[1] : 1;
  PM_ASSIGN_OR_RETURN(type_embd_, b.weight("token_types.weight", p.n_embd, n_types, /*required=*/false));
  if (!nomic_) {
    PM_ASSIGN_OR_RETURN(pos_embd_, b.weight("position_embd.weight", p.n_embd, p.n_ctx_train));
  } else {
    PM_ASSIGN_OR_RETURN(double base, h.get_float_or("rope.freq_base", 1000.0));
    if (!(base > 0)) return Status::corrupt(f.path() + ": nomic-bert.rope.freq_base must be positive");
    rope_.n_rot = int(p.head_dim);
    rope_.neox = true;
    rope_.freq_base = float(base);
  }
  PM_ASSIGN_OR_RETURN(embd_norm_w_, b.vec("token_embd_norm.weight", p.n_embd));
  PM_ASSIGN_OR_RETURN(embd_norm_b_, b.vec("token_embd_norm.bias", p.n_embd));

  const int64_t E = p.n_embd;
  layers_.resize(size_t(p.n_layer));
  for (int64_t i = 0; i < p.n_layer; ++i) {
    BertLayer& l = layers_[size_t(i)];
    const std::string pre = "blk." + std::to_string(i) + ".";
    const bool bias = !nomic_;
    if (nomic_) {
      PM_ASSIGN_OR_RETURN(l.wqkv, b.weight(pre + "attn_qkv.weight", E, 3 * E));
      PM_ASSIGN_OR_RETURN(l.w_gate, b.weight(pre + "ffn_gate.weight", E, p.n_ff));
    } else {
      PM_ASSIGN_OR_RETURN(l.wq, b.weight(pre + "attn_q.weight", E, E));
      PM_ASSIGN_OR_RETURN(l.wk, b.weight(pre + "attn_k.weight", E, E));
      PM_ASSIGN_OR_RETURN(l.wv, b.weight(pre + "attn_v.weight", E, E));
      PM_ASSIGN_OR_RETURN(l.bq, b.vec(pre + "attn_q.bias", E));
      PM_ASSIGN_OR_RETURN(l.bk, b.vec(pre + "attn_k.bias", E));
      PM_ASSIGN_OR_RETURN(l.bv, b.vec(pre + "attn_v.bias", E));
    }
    PM_ASSIGN_OR_RETURN(l.wo, b.weight(pre + "attn_output.weight", E, E));
    PM_ASSIGN_OR_RETURN(l.bo, b.vec(pre + "attn_output.bias", E, bias));
    PM_ASSIGN_OR_RETURN(l.attn_norm_w, b.vec(pre + "attn_output_norm.weight", E));
    PM_ASSIGN_OR_RETURN(l.attn_norm_b, b.vec(pre + "attn_output_norm.bias", E));
    PM_ASSIGN_OR_RETURN(l.w_up, b.weight(pre + "ffn_up.weight", E, p.n_ff));
    PM_ASSIGN_OR_RETURN(l.b_up, b.vec(pre + "ffn_up.bias", p.n_ff, bias));
    PM_ASSIGN_OR_RETURN(l.w_down, b.weight(pre + "ffn_down.weight", p.n_ff, E));
    PM_ASSIGN_OR_RETURN(l.b_down, b.vec(pre + "ffn_down.bias", E, bias));
    PM_ASSIGN_OR_RETURN(l.out_norm_w, b.vec(pre + "layer_output_norm.weight", E));
    PM_ASSIGN_OR_RETURN(l.out_norm_b, b.vec(pre + "layer_output_norm.bias", E));
  }
  for (const GgufTensorInfo& t : f.tensors()) {
    p.n_params += t.n_elements;
    p.weights_bytes += t.size_bytes;
  }
  ModelFingerprint fp(arch());
  for (const GgufTensorInfo& t : f.tensors()) fp.add_tensor(t.name, t.type, t.ne, t.data, t.size_bytes);
  identity_ = fp.digest();
  return Status::ok();
}

// Bidirectional attention within one sequence of n tokens.
//   q, k, v, out: [n][n_embd] (head h in columns [h * head_dim, (h + 1) * head_dim))
void BertModel::attention(int64_t n, const float* q, const float* k, const float* v, float* out,
                          ThreadPool* pool) const {
  const int64_t E = info_.n_embd, D = info_.head_dim;
  const float scale = 1.0f / std::sqrt(float(D));
  const VecDotFn dot = active_kernels().of(GgmlType::kF32).vec_dot;
  auto heads = [&](int64_t h_begin, int64_t h_end) {
    std::vector<float> scores(static_cast<size_t>(n));
    for (int64_t h = h_begin; h < h_end; ++h) {
      for (int64_t i = 0; i < n; ++i) {
        const float* qh = q + i * E + h * D;
        for (int64_t j = 0; j < n; ++j) scores[size_t(j)] = dot(D, k + j * E + h * D, qh) * scale;
        softmax(scores.data(), n);
        float* oh = out + i * E + h * D;
        std::memset(oh, 0, sizeof(float) * size_t(D));
        for (int64_t j = 0; j < n; ++j) {
          const float w = scores[size_t(j)];
          const float* vj = v + j * E + h * D;
          for (int64_t c = 0; c < D; ++c) oh[c] += w * vj[c];
        }
      }
    }
  };
  if (pool != nullptr && n * n * E > 65536)
    pool->parallel_for(info_.n_head, 1, heads);
  else
    heads(0, info_.n_head);
}

Status BertModel::embed(const std::vector<std::vector<TokenId>>& seqs, Pooling pooling, bool normalize, float* out,
                        ThreadPool* pool) const {
  const ModelInfo& p = info_;
  const int64_t E = p.n_embd;
  int64_t n = 0;
  for (size_t s = 0; s < seqs.size(); ++s) {
    const std::vector<TokenId>& seq = seqs[s];
    if (seq.empty()) return Status::invalid_argument("embed: sequence " + std::to_string(s) + " has no tokens");
    if (int64_t(seq.size()) > p.n_ctx_train)
      return Status::out_of_range("embed: sequence " + std::to_string(s) + " has " + std::to_string(seq.size()) +
                                  " tokens; the model takes at most " + std::to_string(p.n_ctx_train));
    for (TokenId t : seq)
      if (t < 0 || t >= p.n_vocab)
        return Status::invalid_argument("embed: token id " + std::to_string(t) + " in sequence " + std::to_string(s) +
                                        " is outside the vocabulary (0.." + std::to_string(p.n_vocab - 1) + ")");
    n += int64_t(seq.size());
  }
  if (n == 0) return Status::ok();

  const Kernels& kern = active_kernels();
  std::vector<uint8_t> scratch;
  // x: [n][E] residual stream of all sequences packed one after another.
  std::vector<float> x(static_cast<size_t>(n * E)), row(static_cast<size_t>(E));
  std::vector<float> type0(size_t(E), 0.0f);
  if (type_embd_.present()) decode_row(type_embd_, 0, type0.data());
  {
    int64_t i = 0;
    for (const std::vector<TokenId>& seq : seqs)
      for (size_t pos = 0; pos < seq.size(); ++pos, ++i) {
        float* xi = &x[size_t(i * E)];
        decode_row(tok_embd_, seq[pos], xi);
        add(xi, type0.data(), E);
        if (pos_embd_.present()) {
          decode_row(pos_embd_, int64_t(pos), row.data());
          add(xi, row.data(), E);
        }
        layer_norm(xi, embd_norm_w_.data, embd_norm_b_.data, xi, E, eps_);
      }
  }

  std::vector<float> q(size_t(n * E)), k(size_t(n * E)), v(size_t(n * E)), attn(size_t(n * E)), tmp(size_t(n * E));
  std::vector<float> qkv(nomic_ ? size_t(n * 3 * E) : 0);
  std::vector<float> up(size_t(n * p.n_ff)), gate(nomic_ ? size_t(n * p.n_ff) : 0);
  std::vector<float> cs(size_t(rope_.n_rot));

  auto add_bias = [](float* y, const FloatVec& b, int64_t rows, int64_t cols) {
    if (!b.present()) return;
    for (int64_t r = 0; r < rows; ++r) add(y + r * cols, b.data, cols);
  };

  for (const BertLayer& l : layers_) {
    if (nomic_) {
      matmul(kern, l.wqkv.type, l.wqkv.data, E, 3 * E, x.data(), n, qkv.data(), scratch, pool);
      int64_t i = 0;
      for (const std::vector<TokenId>& seq : seqs)
        for (size_t pos = 0; pos < seq.size(); ++pos, ++i) {
          const float* src = &qkv[size_t(i * 3 * E)];
          std::memcpy(&q[size_t(i * E)], src, sizeof(float) * size_t(E));
          std::memcpy(&k[size_t(i * E)], src + E, sizeof(float) * size_t(E));
          std::memcpy(&v[size_t(i * E)], src + 2 * E, sizeof(float) * size_t(E));
          rope_cache(rope_, int64_t(pos), cs.data());
          for (int64_t h = 0; h < p.n_head; ++h) {
            rope_apply(rope_, cs.data(), &q[size_t(i * E + h * p.head_dim)]);
            rope_apply(rope_, cs.data(), &k[size_t(i * E + h * p.head_dim)]);
          }
        }
    } else {
      matmul(kern, l.wq.type, l.wq.data, E, E, x.data(), n, q.data(), scratch, pool);
      matmul(kern, l.wk.type, l.wk.data, E, E, x.data(), n, k.data(), scratch, pool);
      matmul(kern, l.wv.type, l.wv.data, E, E, x.data(), n, v.data(), scratch, pool);
      add_bias(q.data(), l.bq, n, E);
      add_bias(k.data(), l.bk, n, E);
      add_bias(v.data(), l.bv, n, E);
    }
    int64_t off = 0;
    for (const std::vector<TokenId>& seq : seqs) {
      const int64_t len = int64_t(seq.size());
      attention(len, &q[size_t(off * E)], &k[size_t(off * E)], &v[size_t(off * E)], &attn[size_t(off * E)], pool);
      off += len;
    }
    matmul(kern, l.wo.type, l.wo.data, E, E, attn.data(), n, tmp.data(), scratch, pool);
    add_bias(tmp.data(), l.bo, n, E);
    add(x.data(), tmp.data(), n * E);
    for (int64_t i = 0; i < n; ++i)
      layer_norm(&x[size_t(i * E)], l.attn_norm_w.data, l.attn_norm_b.data, &x[size_t(i * E)], E, eps_);

    matmul(kern, l.w_up.type, l.w_up.data, E, p.n_ff, x.data(), n, up.data(), scratch, pool);
    add_bias(up.data(), l.b_up, n, p.n_ff);
    if (nomic_) {
      matmul(kern, l.w_gate.type, l.w_gate.data, E, p.n_ff, x.data(), n, gate.data(), scratch, pool);
      swiglu(gate.data(), up.data(), n * p.n_ff);
    } else {
      gelu(up.data(), n * p.n_ff);
    }
    matmul(kern, l.w_down.type, l.w_down.data, p.n_ff, E, up.data(), n, tmp.data(), scratch, pool);
    add_bias(tmp.data(), l.b_down, n, E);
    add(x.data(), tmp.data(), n * E);
    for (int64_t i = 0; i < n; ++i)
      layer_norm(&x[size_t(i * E)], l.out_norm_w.data, l.out_norm_b.data, &x[size_t(i * E)], E, eps_);
  }

  int64_t off = 0;
  for (size_t s = 0; s < seqs.size(); ++s) {
    const int64_t len = int64_t(seqs[s].size());
    float* o = out + s * size_t(E);
    if (pooling == Pooling::kCls) {
      std::memcpy(o, &x[size_t(off * E)], sizeof(float) * size_t(E));
    } else {
      std::vector<double> acc(size_t(E), 0.0);
      for (int64_t i = 0; i < len; ++i)
        for (int64_t c = 0; c < E; ++c) acc[size_t(c)] += x[size_t((off + i) * E + c)];
      for (int64_t c = 0; c < E; ++c) o[c] = float(acc[size_t(c)] / double(len));
    }
    if (normalize) {
      double ss = 0;
      for (int64_t c = 0; c < E; ++c) ss += double(o[c]) * o[c];
      const float inv = ss > 0 ? float(1.0 / std::sqrt(ss)) : 0.0f;
      for (int64_t c = 0; c < E; ++c) o[c] *= inv;
    }
    off += len;
  }
  return Status::ok();
}

}  // namespace

const char* pooling_name(Pooling p) { return p == Pooling::kCls ? "cls" : "mean"; }

Result<std::unique_ptr<ModelState>> EmbeddingModel::new_state(int64_t) const {
  return Status::unsupported(info_.arch + " is an embedding model: it has no generation state (use embed)");
}
Status EmbeddingModel::eval(ModelState&, const TokenId*, int64_t, float*, bool) const {
  return Status::unsupported(info_.arch + " is an embedding model: it produces vectors, not logits (use embed)");
}

Result<std::unique_ptr<Model>> build_bert(std::shared_ptr<const GgufFile> gguf, const ModelOptions&) {
  auto model = std::make_unique<BertModel>(std::move(gguf), /*nomic=*/false);
  PM_RETURN_IF_ERROR(model->load());
  return std::unique_ptr<Model>(std::move(model));
}

Result<std::unique_ptr<Model>> build_nomic_bert(std::shared_ptr<const GgufFile> gguf, const ModelOptions&) {
  auto model = std::make_unique<BertModel>(std::move(gguf), /*nomic=*/true);
  PM_RETURN_IF_ERROR(model->load());
  return std::unique_ptr<Model>(std::move(model));
}

Result<std::unique_ptr<EmbeddingModel>> load_embedding_model(const std::string& path) {
  PM_ASSIGN_OR_RETURN(std::unique_ptr<Model> m, load_model(path));
  auto* e = dynamic_cast<EmbeddingModel*>(m.get());
  if (e == nullptr)
    return Status::invalid_argument(path + ": architecture \"" + m->info().arch +
                                    "\" is not an embedding model (expected bert or nomic-bert)");
  m.release();
  return std::unique_ptr<EmbeddingModel>(e);
}

Status write_random_bert(const std::string& path, const BertShape& s, uint64_t seed) {
  if (s.n_embd <= 0 || s.n_layer <= 0 || s.n_head <= 0 || s.n_embd % s.n_head != 0 || s.n_ff <= 0 || s.n_vocab < 200 ||
      s.n_ctx <= 0)
    return Status::invalid_argument("write_random_bert: bad shape");
  GgufWriter w;
  const std::string a = s.nomic ? "nomic-bert" : "bert";
  w.set_string("general.architecture", a);
  w.set_string("general.name", "random-" + a);
  w.set_u32(a + ".context_length", uint32_t(s.n_ctx));
  w.set_u32(a + ".embedding_length", uint32_t(s.n_embd));
  w.set_u32(a + ".feed_forward_length", uint32_t(s.n_ff));
  w.set_u32(a + ".block_count", uint32_t(s.n_layer));
  w.set_u32(a + ".attention.head_count", uint32_t(s.n_head));
  w.set_f32(a + ".attention.layer_norm_epsilon", 1e-12f);
  w.set_u32(a + ".pooling_type", s.nomic ? 1 : 2);  // nomic-embed: mean; bge: [CLS]
  if (s.nomic) w.set_f32(a + ".rope.freq_base", 1000.0f);
  // Vocabulary in llama.cpp's convention: word starts carry U+2581, continuations are bare.
  std::vector<std::string> tokens = {"[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"};
  std::vector<int32_t> types = {3, 2, 3, 3, 3};
  for (char c = 33; c < 127; ++c) {
    tokens.push_back("\xe2\x96\x81" + std::string(1, c));
    tokens.push_back(std::string(1, c));
  }
  for (uint32_t cp = 0x4E00; int64_t(tokens.size()) < s.n_vocab && cp <= 0x9FFF; ++cp) {
    char u[4] = {char(0xE0 | (cp >> 12)), char(0x80 | ((cp >> 6) & 0x3F)), char(0x80 | (cp & 0x3F)), 0};
    tokens.push_back("\xe2\x96\x81" + std::string(u));
  }
  for (int i = 0; int64_t(tokens.size()) < s.n_vocab; ++i) tokens.push_back("\xe2\x96\x81tok" + std::to_string(i));
  types.resize(tokens.size(), 1);
  w.set_string("tokenizer.ggml.model", "bert");
  w.set_string_array("tokenizer.ggml.tokens", tokens);
  w.set_i32_array("tokenizer.ggml.token_type", types);
  w.set_u32("tokenizer.ggml.padding_token_id", 0);
  w.set_u32("tokenizer.ggml.unknown_token_id", 1);
  w.set_u32("tokenizer.ggml.cls_token_id", 2);
  w.set_u32("tokenizer.ggml.seperator_token_id", 3);
  w.set_u32("tokenizer.ggml.mask_token_id", 4);

  std::mt19937_64 rng(seed);
  std::normal_distribution<float> normal(0.0f, 0.02f);
  auto f16 = [&](const std::string& name, int64_t n_in, int64_t n_out) {
    std::vector<uint16_t> d(size_t(n_in * n_out));
    for (uint16_t& x : d) x = fp32_to_fp16(normal(rng));
    return w.add_tensor(name, GgmlType::kF16, {n_in, n_out}, d.data(), d.size() * 2);
  };
  auto f32 = [&](const std::string& name, int64_t n, float base) {
    std::vector<float> d(static_cast<size_t>(n));
    for (float& x : d) x = base + normal(rng);
    return w.add_tensor(name, GgmlType::kF32, {n}, d.data(), d.size() * 4);
  };
  const int64_t E = s.n_embd;
  PM_RETURN_IF_ERROR(f16("token_embd.weight", E, int64_t(tokens.size())));
  PM_RETURN_IF_ERROR(f16("token_types.weight", E, 2));
  if (!s.nomic) PM_RETURN_IF_ERROR(f16("position_embd.weight", E, s.n_ctx));
  PM_RETURN_IF_ERROR(f32("token_embd_norm.weight", E, 1.0f));
  PM_RETURN_IF_ERROR(f32("token_embd_norm.bias", E, 0.0f));
  for (int64_t i = 0; i < s.n_layer; ++i) {
    const std::string pre = "blk." + std::to_string(i) + ".";
    if (s.nomic) {  // fused qkv, SwiGLU feed-forward, no biases
      PM_RETURN_IF_ERROR(f16(pre + "attn_qkv.weight", E, 3 * E));
      PM_RETURN_IF_ERROR(f16(pre + "attn_output.weight", E, E));
      PM_RETURN_IF_ERROR(f16(pre + "ffn_gate.weight", E, s.n_ff));
    } else {
      for (const char* m : {"attn_q", "attn_k", "attn_v", "attn_output"}) {
        PM_RETURN_IF_ERROR(f16(pre + m + ".weight", E, E));
        PM_RETURN_IF_ERROR(f32(pre + m + ".bias", E, 0.0f));
      }
    }
    PM_RETURN_IF_ERROR(f32(pre + "attn_output_norm.weight", E, 1.0f));
    PM_RETURN_IF_ERROR(f32(pre + "attn_output_norm.bias", E, 0.0f));
    PM_RETURN_IF_ERROR(f16(pre + "ffn_up.weight", E, s.n_ff));
    if (!s.nomic) PM_RETURN_IF_ERROR(f32(pre + "ffn_up.bias", s.n_ff, 0.0f));
    PM_RETURN_IF_ERROR(f16(pre + "ffn_down.weight", s.n_ff, E));
    if (!s.nomic) PM_RETURN_IF_ERROR(f32(pre + "ffn_down.bias", E, 0.0f));
    PM_RETURN_IF_ERROR(f32(pre + "layer_output_norm.weight", E, 1.0f));
    PM_RETURN_IF_ERROR(f32(pre + "layer_output_norm.bias", E, 0.0f));
  }
  return w.write(path);
}

}  // namespace pm
