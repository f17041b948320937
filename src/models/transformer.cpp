#include "models/transformer.h"

#include <cmath>
#include <cstdlib>
#include <algorithm>
#include <cstring>
#include <functional>
#include <new>

#include "core/fp16.h"
#include "kernels/matmul.h"
#include "kernels/ops.h"
#include "models/blocks.h"
#include "models/fingerprint.h"

namespace pm {
namespace {

constexpr int64_t kDefaultCtxCap = 4096;

struct DecoderHparams {
  int64_t n_vocab, n_ctx_train, n_embd, n_layer, n_head, n_head_kv, head_dim, n_ff, n_rot;
  float rms_eps;
  RopeParams rope;
};

struct DecoderLayer {
  FloatVec attn_norm;            // [n_embd]
  Weight wq;                     // [n_embd -> n_head * head_dim]
  Weight wk, wv;                 // [n_embd -> n_head_kv * head_dim]
  Weight wo;                     // [n_head * head_dim -> n_embd]
  FloatVec bq, bk, bv;           // optional biases of q, k, v
  FloatVec q_norm, k_norm;       // optional [head_dim] (qwen3)
  FloatVec ffn_norm;             // [n_embd]
  Weight w_gate, w_up;           // [n_embd -> n_ff]
  Weight w_down;                 // [n_ff -> n_embd]
};

// KV cache of one sequence. Rows are stored in `type` (F16 by default; Q8_0 halves it again,
// F32 for exactness), each row one token's keys (or values) of every KV head.
//   k, v: [n_layer][n_ctx][row_bytes]   row_bytes = row_size_bytes(type, n_head_kv * head_dim)
// Allocated with calloc so that pages no token has reached yet are never touched: resident
// memory grows with the conversation, not with the context size.
class KvCache final : public ModelState {
 public:
  static Result<std::unique_ptr<KvCache>> create(int64_t n_layer, int64_t n_ctx, int64_t kv_dim, GgmlType type) {
    std::unique_ptr<KvCache> c(new KvCache(n_layer, n_ctx, kv_dim, type));
    if (!c->allocate())
      return Status::resource_exhausted("cannot allocate a KV cache of " + std::to_string(2 * c->total_bytes()) +
                                        " bytes for a context of " + std::to_string(n_ctx) + " tokens");
    return c;
  }

  int64_t n_past() const override { return n_past_; }
  int64_t n_ctx() const override { return n_ctx_; }
  void reset() override { n_past_ = 0; }
  bool truncate(int64_t n) override {
    if (n < 0 || n > n_past_) return false;
    n_past_ = n;
    return true;
  }
  std::unique_ptr<ModelState> clone() const override {
    std::unique_ptr<KvCache> c(new KvCache(n_layer_, n_ctx_, kv_dim_, type_));
    if (!c->allocate()) throw std::bad_alloc();  // clone() cannot report a Status
    for (int64_t l = 0; l < n_layer_; ++l) {
      std::memcpy(c->k_row(l, 0), k_row(l, 0), size_t(n_past_) * row_bytes_);
      std::memcpy(c->v_row(l, 0), v_row(l, 0), size_t(n_past_) * row_bytes_);
    }
    c->n_past_ = n_past_;
    return c;
  }

  // Layout: u64 n_layer | u64 kv_dim | u64 n_past | u32 type | per layer: k rows [n_past], then
  // v rows. Loads into a cache of the same row type and any context size holding n_past tokens.
  Status serialize(std::vector<uint8_t>* out) const override {
    const uint64_t header[3] = {uint64_t(n_layer_), uint64_t(kv_dim_), uint64_t(n_past_)};
    const uint32_t type = static_cast<uint32_t>(type_);
    const size_t rows_bytes = size_t(n_past_) * row_bytes_;
    out->resize(kHeaderBytes + 2 * size_t(n_layer_) * rows_bytes);
    uint8_t* p = out->data();
    std::memcpy(p, header, sizeof header);
    std::memcpy(p + sizeof header, &type, sizeof type);
    p += kHeaderBytes;
    for (int64_t l = 0; l < n_layer_; ++l) {
      std::memcpy(p, k_row(l, 0), rows_bytes);
      std::memcpy(p + rows_bytes, v_row(l, 0), rows_bytes);
      p += 2 * rows_bytes;
    }
    return Status::ok();
  }

  Status deserialize(const uint8_t* data, size_t size) override {
    uint64_t header[3];
    uint32_t type;
    if (size < kHeaderBytes) return Status::corrupt("KV cache state: truncated header");
    std::memcpy(header, data, sizeof header);
    std::memcpy(&type, data + sizeof header, sizeof type);
    if (header[0] != uint64_t(n_layer_) || header[1] != uint64_t(kv_dim_))
      return Status::invalid_argument("KV cache state: shape " + std::to_string(header[0]) + " layers x " +
                                      std::to_string(header[1]) + " does not match this model's " +
                                      std::to_string(n_layer_) + " x " + std::to_string(kv_dim_));
    if (type != static_cast<uint32_t>(type_))
      return Status::invalid_argument(std::string("KV cache state holds ") + type_name(static_cast<GgmlType>(type)) +
                                      " rows; this session's cache is " + type_name(type_));
    if (header[2] > uint64_t(n_ctx_))
      return Status::out_of_range("KV cache state holds " + std::to_string(header[2]) +
                                  " tokens but the context holds only " + std::to_string(n_ctx_));
    const int64_t n_past = int64_t(header[2]);
    const size_t rows_bytes = size_t(n_past) * row_bytes_;
    if (size != kHeaderBytes + 2 * size_t(n_layer_) * rows_bytes)
      return Status::corrupt("KV cache state: " + std::to_string(size) + " bytes, expected " +
                             std::to_string(kHeaderBytes + 2 * size_t(n_layer_) * rows_bytes));
    const uint8_t* p = data + kHeaderBytes;
    for (int64_t l = 0; l < n_layer_; ++l) {
      std::memcpy(k_row(l, 0), p, rows_bytes);
      std::memcpy(v_row(l, 0), p + rows_bytes, rows_bytes);
      p += 2 * rows_bytes;
    }
    n_past_ = n_past;
    return Status::ok();
  }

  GgmlType type() const { return type_; }
  uint8_t* k_row(int64_t layer, int64_t pos) { return k_.get() + size_t(layer * n_ctx_ + pos) * row_bytes_; }
  uint8_t* v_row(int64_t layer, int64_t pos) { return v_.get() + size_t(layer * n_ctx_ + pos) * row_bytes_; }
  const uint8_t* k_row(int64_t layer, int64_t pos) const { return k_.get() + size_t(layer * n_ctx_ + pos) * row_bytes_; }
  const uint8_t* v_row(int64_t layer, int64_t pos) const { return v_.get() + size_t(layer * n_ctx_ + pos) * row_bytes_; }
  void advance(int64_t n) { n_past_ += n; }
  // One layer's cache rows decoded to float for attention (keys transposed: see attention()); kept between
  // calls so that a long conversation does not map and fault in fresh pages every layer.
  std::vector<float>& k_float() { return k_float_; }
  std::vector<float>& v_float() { return v_float_; }

 private:
  static constexpr size_t kHeaderBytes = 3 * sizeof(uint64_t) + sizeof(uint32_t);
  struct Free {
    void operator()(uint8_t* p) const { std::free(p); }
  };
  using Buffer = std::unique_ptr<uint8_t[], Free>;

  KvCache(int64_t n_layer, int64_t n_ctx, int64_t kv_dim, GgmlType type)
      : n_layer_(n_layer), n_ctx_(n_ctx), kv_dim_(kv_dim), type_(type), row_bytes_(row_size_bytes(type, kv_dim)) {}
  size_t total_bytes() const { return size_t(n_layer_ * n_ctx_) * row_bytes_; }
  bool allocate() {
    k_.reset(static_cast<uint8_t*>(std::calloc(total_bytes(), 1)));
    v_.reset(static_cast<uint8_t*>(std::calloc(total_bytes(), 1)));
    return k_ != nullptr && v_ != nullptr;
  }

  int64_t n_layer_, n_ctx_, kv_dim_;
  GgmlType type_;
  size_t row_bytes_;
  int64_t n_past_ = 0;
  Buffer k_, v_;
  std::vector<float> k_float_, v_float_;
};

class DecoderModel final : public Model {
 public:
  DecoderModel(std::shared_ptr<const GgufFile> gguf, const DecoderSpec& spec) : spec_(spec) { gguf_ = std::move(gguf); }

  Status load(const ModelOptions& options);

  Result<std::unique_ptr<ModelState>> new_state(int64_t n_ctx) const override {
    if (n_ctx <= 0) n_ctx = default_ctx_;
    if (n_ctx > hp_.n_ctx_train && hp_.n_ctx_train > 0)
      return Status::out_of_range("context of " + std::to_string(n_ctx) + " tokens exceeds the model's " +
                                  std::to_string(hp_.n_ctx_train));
    PM_ASSIGN_OR_RETURN(std::unique_ptr<KvCache> cache,
                        KvCache::create(hp_.n_layer, n_ctx, hp_.n_head_kv * hp_.head_dim, kv_type_));
    return std::unique_ptr<ModelState>(std::move(cache));
  }

  Status eval(ModelState& state, const TokenId* tokens, int64_t n_tokens, float* logits,
              bool all_logits) const override;
  Status eval_batch(const SeqBatch* seqs, size_t n_seqs) const override;

 private:
  // The forward pass over the tokens of several sequences stacked into one batch: matrix
  // products over all of them, attention per sequence over its own cache. With all_logits
  // (one sequence only) every token's logits are written, else each sequence's last.
  Status forward(const SeqBatch* seqs, size_t n_seqs, bool all_logits) const;
  Status check(const SeqBatch& seq, size_t index, size_t n_seqs) const;
  void attention(KvCache& cache, int64_t layer, int64_t n_tokens, const float* q, float* out) const;

  DecoderSpec spec_;
  DecoderHparams hp_{};
  int64_t default_ctx_ = 0;
  GgmlType kv_type_ = GgmlType::kF16;
  Weight tok_embd_;   // [n_embd -> n_vocab] rows are token embeddings
  FloatVec out_norm_; // [n_embd]
  Weight output_;     // [n_embd -> n_vocab]; = tok_embd_ when tied
  FloatVec rope_freqs_;
  std::vector<DecoderLayer> layers_;
  PackedWeights packed_;
};

Status DecoderModel::load(const ModelOptions& options) {
  const GgufFile& f = *gguf_;
  Hparams h(f, spec_.arch);
  TensorBinder b(f);
  DecoderHparams& p = hp_;

  PM_ASSIGN_OR_RETURN(p.n_embd, h.get_int("embedding_length"));
  PM_ASSIGN_OR_RETURN(p.n_layer, h.get_int("block_count"));
  PM_ASSIGN_OR_RETURN(p.n_ff, h.get_int("feed_forward_length"));
  PM_ASSIGN_OR_RETURN(p.n_head, h.get_int("attention.head_count"));
  PM_ASSIGN_OR_RETURN(p.n_head_kv, h.get_int_or("attention.head_count_kv", p.n_head));
  PM_ASSIGN_OR_RETURN(p.n_ctx_train, h.get_int_or("context_length", 2048));
  PM_RETURN_IF_ERROR(h.check_range("embedding_length", p.n_embd, 1, 1 << 16));
  PM_RETURN_IF_ERROR(h.check_range("block_count", p.n_layer, 1, 1024));
  PM_RETURN_IF_ERROR(h.check_range("feed_forward_length", p.n_ff, 1, 1 << 20));
  PM_RETURN_IF_ERROR(h.check_range("attention.head_count", p.n_head, 1, 1024));
  PM_RETURN_IF_ERROR(h.check_range("attention.head_count_kv", p.n_head_kv, 1, p.n_head));
  PM_RETURN_IF_ERROR(h.check_range("context_length", p.n_ctx_train, 1, 1 << 24));
  if (p.n_head % p.n_head_kv != 0)
    return Status::corrupt(f.path() + ": attention.head_count " + std::to_string(p.n_head) +
                           " is not a multiple of head_count_kv " + std::to_string(p.n_head_kv));
  PM_ASSIGN_OR_RETURN(p.head_dim, h.get_int_or("attention.key_length", p.n_embd / p.n_head));
  PM_ASSIGN_OR_RETURN(int64_t v_len, h.get_int_or("attention.value_length", p.head_dim));
  if (v_len != p.head_dim) return Status::unsupported(f.path() + ": attention.value_length != key_length");
  PM_RETURN_IF_ERROR(h.check_range("attention.key_length", p.head_dim, 2, 1024));
  PM_ASSIGN_OR_RETURN(p.n_rot, h.get_int_or("rope.dimension_count", p.head_dim));
  PM_RETURN_IF_ERROR(h.check_range("rope.dimension_count", p.n_rot, 2, p.head_dim));
  if (p.n_rot % 2 != 0) return Status::corrupt(f.path() + ": rope.dimension_count must be even");
  PM_ASSIGN_OR_RETURN(double eps, h.get_float_or("attention.layer_norm_rms_epsilon", 1e-5));
  p.rms_eps = float(eps);
  PM_ASSIGN_OR_RETURN(double base, h.get_float_or("rope.freq_base", 10000.0));
  if (!(base > 0)) return Status::corrupt(f.path() + ": rope.freq_base must be positive");
  PM_ASSIGN_OR_RETURN(std::string scaling, h.get_string_or("rope.scaling.type", "none"));
  PM_ASSIGN_OR_RETURN(double factor, h.get_float_or("rope.scaling.factor", 0.0));
  if (factor == 0.0) {
    PM_ASSIGN_OR_RETURN(factor, h.get_float_or("rope.scale_linear", 1.0));
  }
  p.rope.n_rot = int(p.n_rot);
  p.rope.neox = spec_.rope_neox;
  p.rope.freq_base = float(base);
  if (scaling == "linear") {
    if (!(factor > 0)) return Status::corrupt(f.path() + ": rope.scaling.factor must be positive");
    p.rope.freq_scale = float(1.0 / factor);
  } else if (scaling != "none" && scaling != "" ) {
    return Status::unsupported(f.path() + ": rope scaling type \"" + scaling + "\" is not supported yet");
  }

  const GgufTensorInfo* embd = f.find_tensor("token_embd.weight");
  if (embd == nullptr) return Status::not_found(f.path() + ": tensor token_embd.weight is missing");
  if (embd->ne.size() != 2) return Status::corrupt(f.path() + ": tensor token_embd.weight must be 2-D");
  p.n_vocab = embd->ne[1];
  PM_ASSIGN_OR_RETURN(tok_embd_, b.weight("token_embd.weight", p.n_embd, p.n_vocab));
  PM_ASSIGN_OR_RETURN(out_norm_, b.vec("output_norm.weight", p.n_embd));
  PM_ASSIGN_OR_RETURN(output_, b.weight("output.weight", p.n_embd, p.n_vocab, /*required=*/false));
  if (!output_.present()) output_ = tok_embd_;
  PM_ASSIGN_OR_RETURN(rope_freqs_, b.vec("rope_freqs.weight", p.n_rot / 2, /*required=*/false));
  p.rope.freq_factors = rope_freqs_.present() ? rope_freqs_.data : nullptr;

  const int64_t q_dim = p.n_head * p.head_dim, kv_dim = p.n_head_kv * p.head_dim;
  layers_.resize(size_t(p.n_layer));
  for (int64_t i = 0; i < p.n_layer; ++i) {
    DecoderLayer& l = layers_[size_t(i)];
    const std::string pre = "blk." + std::to_string(i) + ".";
    PM_ASSIGN_OR_RETURN(l.attn_norm, b.vec(pre + "attn_norm.weight", p.n_embd));
    PM_ASSIGN_OR_RETURN(l.wq, b.weight(pre + "attn_q.weight", p.n_embd, q_dim));
    PM_ASSIGN_OR_RETURN(l.wk, b.weight(pre + "attn_k.weight", p.n_embd, kv_dim));
    PM_ASSIGN_OR_RETURN(l.wv, b.weight(pre + "attn_v.weight", p.n_embd, kv_dim));
    PM_ASSIGN_OR_RETURN(l.wo, b.weight(pre + "attn_output.weight", q_dim, p.n_embd));
    PM_ASSIGN_OR_RETURN(l.bq, b.vec(pre + "attn_q.bias", q_dim, spec_.requires_qkv_bias));
    PM_ASSIGN_OR_RETURN(l.bk, b.vec(pre + "attn_k.bias", kv_dim, spec_.requires_qkv_bias));
    PM_ASSIGN_OR_RETURN(l.bv, b.vec(pre + "attn_v.bias", kv_dim, spec_.requires_qkv_bias));
    PM_ASSIGN_OR_RETURN(l.q_norm, b.vec(pre + "attn_q_norm.weight", p.head_dim, spec_.requires_qk_norm));
    PM_ASSIGN_OR_RETURN(l.k_norm, b.vec(pre + "attn_k_norm.weight", p.head_dim, spec_.requires_qk_norm));
    PM_ASSIGN_OR_RETURN(l.ffn_norm, b.vec(pre + "ffn_norm.weight", p.n_embd));
    PM_ASSIGN_OR_RETURN(l.w_gate, b.weight(pre + "ffn_gate.weight", p.n_embd, p.n_ff));
    PM_ASSIGN_OR_RETURN(l.w_up, b.weight(pre + "ffn_up.weight", p.n_embd, p.n_ff));
    PM_ASSIGN_OR_RETURN(l.w_down, b.weight(pre + "ffn_down.weight", p.n_ff, p.n_embd));
  }

  default_ctx_ = options.n_ctx > 0 ? options.n_ctx : std::min(p.n_ctx_train, kDefaultCtxCap);

  ModelInfo& info = info_;
  info.arch = spec_.arch;
  PM_ASSIGN_OR_RETURN(info.name, f.get_string_or("general.name", ""));
  info.n_vocab = p.n_vocab;
  info.n_ctx_train = p.n_ctx_train;
  info.n_embd = p.n_embd;
  info.n_layer = p.n_layer;
  info.n_head = p.n_head;
  info.n_head_kv = p.n_head_kv;
  info.head_dim = p.head_dim;
  info.n_ff = p.n_ff;
  for (const GgufTensorInfo& t : f.tensors()) {
    info.n_params += t.n_elements;
    info.weights_bytes += t.size_bytes;
  }
  kv_type_ = options.kv_type;
  const TypeInfo* kv_info = type_info(kv_type_);
  if (kv_info == nullptr || !(kv_type_ == GgmlType::kF32 || kv_type_ == GgmlType::kF16 || kv_type_ == GgmlType::kQ8_0))
    return Status::invalid_argument(std::string("KV cache type ") + type_name(kv_type_) + " is not supported (f32, f16, q8_0)");
  if (kv_dim % kv_info->block_size != 0)
    return Status::invalid_argument(std::string("a ") + kv_info->name + " KV cache needs n_head_kv * head_dim (" +
                                    std::to_string(kv_dim) + ") to be a multiple of " + std::to_string(kv_info->block_size));
  info.kv_bytes_per_token = 2 * uint64_t(p.n_layer) * row_size_bytes(kv_type_, kv_dim);
  ModelFingerprint fp(spec_.arch);
  for (const GgufTensorInfo& t : f.tensors()) fp.add_tensor(t.name, t.type, t.ne, t.data, t.size_bytes);
  identity_ = fp.digest();

  std::vector<Weight*> matrices{&output_};
  for (DecoderLayer& l : layers_)
    for (Weight* w : {&l.wq, &l.wk, &l.wv, &l.wo, &l.w_gate, &l.w_up, &l.w_down}) matrices.push_back(w);
  packed_.pack(active_kernels(), matrices, f.mapped_file());
  return Status::ok();
}

// Causal attention of n_tokens new queries over the cache (which already holds their k, v).
//   q:   [n_tokens][n_head * head_dim]   (roped)
//   out: [n_tokens][n_head * head_dim]
void DecoderModel::attention(KvCache& cache, int64_t layer, int64_t n_tokens, const float* q, float* out) const {
  const DecoderHparams& p = hp_;
  const int64_t kv_dim = p.n_head_kv * p.head_dim, q_dim = p.n_head * p.head_dim;
  const int64_t p0 = cache.n_past();
  const int64_t n_kv = p0 + n_tokens;
  const int64_t group = p.n_head / p.n_head_kv;
  const float scale = 1.0f / std::sqrt(float(p.head_dim));

  // Decode this layer's cache rows [0, n_kv) to float once: values as rows [n_kv][kv_dim], keys
  // transposed per KV head, k[(h * head_dim + c) * kt_stride + j] (what Kernels::attention reads).
  const int64_t kt_stride = (n_kv + 15) / 16 * 16;
  std::vector<float>& k = cache.k_float();
  std::vector<float>& v = cache.v_float();
  if (k.size() < size_t(kv_dim * kt_stride)) k.resize(size_t(kv_dim * kt_stride));
  if (v.size() < size_t(n_kv * kv_dim)) v.resize(size_t(n_kv * kv_dim));
  const Kernels& kern = active_kernels();
  const ToFloatFn decode = kern.of(cache.type()).to_float;
  ThreadPool* pool = cache.thread_pool();
  // Keys 16 at a time: decoded as rows into `rows`, then turned into 16-float runs of kt, one per
  // element c (Kernels::transpose16; the padding keys past n_kv: zero).
  auto decode_blocks = [&](int64_t b0, int64_t b1) {
    std::vector<float> rows(static_cast<size_t>(16 * kv_dim));
    for (int64_t b = b0; b < b1; ++b) {
      const int64_t j0 = b * 16, nj = std::min<int64_t>(16, n_kv - j0);
      for (int64_t r = 0; r < nj; ++r) {
        decode(cache.k_row(layer, j0 + r), &rows[size_t(r * kv_dim)], kv_dim);
        decode(cache.v_row(layer, j0 + r), &v[size_t((j0 + r) * kv_dim)], kv_dim);
      }
      for (int64_t r = nj; r < 16; ++r) std::fill_n(&rows[size_t(r * kv_dim)], kv_dim, 0.0f);
      kern.transpose16(rows.data(), size_t(kv_dim), kv_dim, &k[size_t(j0)], size_t(kt_stride));
    }
  };
  const int64_t n_blocks = kt_stride / 16;
  if (pool != nullptr && n_kv >= 64) pool->parallel_for(n_blocks, 2, decode_blocks);
  else decode_blocks(0, n_blocks);

  // Per key/value head, its query heads in sub-groups of up to 4 (the kernel's tile: a decoding
  // token's sub-group shares every load of the keys and values), over all the new queries.
  constexpr int64_t kSubGroup = 4;
  const int64_t n_sub = (group + kSubGroup - 1) / kSubGroup;
  auto heads = [&](int64_t u_begin, int64_t u_end) {
    for (int64_t u = u_begin; u < u_end; ++u) {
      const int64_t kvh = u / n_sub, h0 = kvh * group + (u % n_sub) * kSubGroup;
      const int64_t n_h = std::min(kSubGroup, (kvh + 1) * group - h0);
      const int64_t kv_off = kvh * p.head_dim;
      kern.attention(p.head_dim, n_h, n_tokens, p0, q + h0 * p.head_dim, size_t(q_dim), &k[size_t(kv_off * kt_stride)],
                     size_t(kt_stride), &v[size_t(kv_off)], size_t(kv_dim), scale, out + h0 * p.head_dim, size_t(q_dim));
    }
  };
  const int64_t n_units = p.n_head_kv * n_sub;
  if (pool != nullptr) pool->parallel_for(n_units, 1, heads);
  else heads(0, n_units);
}

Status DecoderModel::check(const SeqBatch& seq, size_t index, size_t n_seqs) const {
  const std::string who = n_seqs > 1 ? "sequence " + std::to_string(index) + ": " : "";
  KvCache* cache = dynamic_cast<KvCache*>(seq.state);
  if (cache == nullptr) return Status::invalid_argument(who + "state was not created by this model");
  if (seq.n_tokens <= 0) return Status::invalid_argument(who + "no tokens to evaluate");
  if (cache->n_past() + seq.n_tokens > cache->n_ctx())
    return Status::out_of_range(who + std::to_string(seq.n_tokens) + " tokens do not fit in the context: " +
                                std::to_string(cache->n_past()) + " of " + std::to_string(cache->n_ctx()) +
                                " positions are used");
  for (int64_t i = 0; i < seq.n_tokens; ++i)
    if (seq.tokens[i] < 0 || seq.tokens[i] >= hp_.n_vocab)
      return Status::invalid_argument(who + "token id " + std::to_string(seq.tokens[i]) +
                                      " is outside the vocabulary (0.." + std::to_string(hp_.n_vocab - 1) + ")");
  return Status::ok();
}

Status DecoderModel::eval(ModelState& state, const TokenId* tokens, int64_t n, float* logits, bool all_logits) const {
  const SeqBatch seq{&state, tokens, n, logits};
  return forward(&seq, 1, all_logits);
}

Status DecoderModel::eval_batch(const SeqBatch* seqs, size_t n_seqs) const {
  return forward(seqs, n_seqs, /*all_logits=*/false);
}

Status DecoderModel::forward(const SeqBatch* seqs, size_t n_seqs, bool all_logits) const {
  if (n_seqs == 0) return Status::invalid_argument("no sequences to evaluate");
  if (all_logits && n_seqs != 1) return Status::invalid_argument("all_logits needs a single sequence");
  std::vector<KvCache*> caches(n_seqs);
  std::vector<int64_t> offset(n_seqs + 1, 0);  // first row of each sequence in the stacked batch
  for (size_t s = 0; s < n_seqs; ++s) {
    PM_RETURN_IF_ERROR(check(seqs[s], s, n_seqs));
    caches[s] = static_cast<KvCache*>(seqs[s].state);
    for (size_t t = 0; t < s; ++t)
      if (caches[t] == caches[s])
        return Status::invalid_argument("sequences " + std::to_string(t) + " and " + std::to_string(s) + " share a state");
    offset[s + 1] = offset[s] + seqs[s].n_tokens;
  }
  const DecoderHparams& p = hp_;
  const Kernels& k = active_kernels();
  const int64_t n = offset[n_seqs];  // rows of the stacked batch
  const int64_t E = p.n_embd, q_dim = p.n_head * p.head_dim, kv_dim = p.n_head_kv * p.head_dim;
  std::vector<uint8_t> scratch;
  ThreadPool* pool = caches[0]->thread_pool();

  // x: [n][E] residual stream; row r belongs to sequence seq_of[r] at position pos[r].
  std::vector<float> x(size_t(n * E)), xn(size_t(n * E));
  std::vector<float> rope_cs(size_t(n * p.n_rot));  // rotary cos/sin per row: [n][n_rot]
  // Embedding rows are read from the file rather than through the mapping (as RWKV's are): a
  // long chat meets more and more distinct tokens, and the pages around each row (the kernel maps
  // its neighbours in too) would pile up in resident memory, a second copy of a tied output head
  // that is already packed: 130 MiB more after a few hundred tokens of Qwen2.5-0.5B.
  const size_t embd_row = row_size_bytes(tok_embd_.type, E);
  const MappedFile* mapping = gguf_->mapped_file();
  std::vector<uint8_t> row;
  for (size_t s = 0; s < n_seqs; ++s)
    for (int64_t i = 0; i < seqs[s].n_tokens; ++i) {
      const int64_t r = offset[s] + i;
      const uint8_t* src = tok_embd_.data + size_t(seqs[s].tokens[i]) * embd_row;
      if (mapping != nullptr && mapping->contains(src, embd_row)) {
        row.resize(embd_row);
        PM_RETURN_IF_ERROR(mapping->read(src, embd_row, row.data()));
        src = row.data();
      }
      k.of(tok_embd_.type).to_float(src, &x[size_t(r * E)], E);
      rope_cache(p.rope, caches[s]->n_past() + i, &rope_cs[size_t(r * p.n_rot)]);
    }

  std::vector<float> q(size_t(n * q_dim)), kk(size_t(n * kv_dim)), vv(size_t(n * kv_dim)), attn(size_t(n * q_dim));
  std::vector<float> gate(size_t(n * p.n_ff)), up(size_t(n * p.n_ff)), tmp(size_t(n * E));
  // Row-wise work (norms, rotary, SwiGLU, residual adds) split by rows across the pool; each
  // row's result is the same whichever thread computes it.
  auto by_rows = [&](int64_t rows, const std::function<void(int64_t, int64_t)>& fn) {
    if (pool != nullptr && rows > 1) pool->parallel_for(rows, 1, fn);
    else fn(0, rows);
  };
  auto norm_rows = [&](const float* w) {
    by_rows(n, [&](int64_t r0, int64_t r1) {
      for (int64_t r = r0; r < r1; ++r) rms_norm(&x[size_t(r * E)], w, &xn[size_t(r * E)], E, p.rms_eps);
    });
  };
  auto add_rows = [&](const float* src) {
    by_rows(n, [&](int64_t r0, int64_t r1) { add(&x[size_t(r0 * E)], src + r0 * E, (r1 - r0) * E); });
  };

  for (int64_t il = 0; il < p.n_layer; ++il) {
    const DecoderLayer& l = layers_[size_t(il)];
    norm_rows(l.attn_norm.data);
    matmul_many(k, {{l.wq, q.data()}, {l.wk, kk.data()}, {l.wv, vv.data()}}, xn.data(), n, scratch, pool);
    for (size_t s = 0; s < n_seqs; ++s) {
      KvCache& cache = *caches[s];
      const FromFloatFn encode = k.of(cache.type()).from_float;
      by_rows(seqs[s].n_tokens, [&](int64_t i0, int64_t i1) {
      for (int64_t i = i0; i < i1; ++i) {
        const int64_t r = offset[s] + i;
        float* qi = &q[size_t(r * q_dim)];
        float* ki = &kk[size_t(r * kv_dim)];
        float* vi = &vv[size_t(r * kv_dim)];
        if (l.bq.present()) add(qi, l.bq.data, q_dim);
        if (l.bk.present()) add(ki, l.bk.data, kv_dim);
        if (l.bv.present()) add(vi, l.bv.data, kv_dim);
        const float* cs = &rope_cs[size_t(r * p.n_rot)];
        for (int64_t h = 0; h < p.n_head; ++h) {
          float* qh = qi + h * p.head_dim;
          if (l.q_norm.present()) rms_norm(qh, l.q_norm.data, qh, p.head_dim, p.rms_eps);
          rope_apply(p.rope, cs, qh);
        }
        for (int64_t h = 0; h < p.n_head_kv; ++h) {
          float* kh = ki + h * p.head_dim;
          if (l.k_norm.present()) rms_norm(kh, l.k_norm.data, kh, p.head_dim, p.rms_eps);
          rope_apply(p.rope, cs, kh);
        }
        encode(ki, cache.k_row(il, cache.n_past() + i), kv_dim);
        encode(vi, cache.v_row(il, cache.n_past() + i), kv_dim);
      }
      });
      attention(cache, il, seqs[s].n_tokens, &q[size_t(offset[s] * q_dim)], &attn[size_t(offset[s] * q_dim)]);
    }
    matmul(k, l.wo, attn.data(), n, tmp.data(), scratch, pool);
    add_rows(tmp.data());

    norm_rows(l.ffn_norm.data);
    matmul_many(k, {{l.w_gate, gate.data()}, {l.w_up, up.data()}}, xn.data(), n, scratch, pool);
    by_rows(n, [&](int64_t r0, int64_t r1) {
      for (int64_t r = r0; r < r1; ++r) k.swiglu(&gate[size_t(r * p.n_ff)], &up[size_t(r * p.n_ff)], p.n_ff);
    });
    matmul(k, l.w_down, up.data(), n, tmp.data(), scratch, pool);
    add_rows(tmp.data());
  }
  for (size_t s = 0; s < n_seqs; ++s) caches[s]->advance(seqs[s].n_tokens);

  // Output head over the rows that need logits: every row (all_logits) or each sequence's last.
  std::vector<int64_t> rows;
  if (all_logits) {
    for (int64_t r = 0; r < n; ++r) rows.push_back(r);
  } else {
    for (size_t s = 0; s < n_seqs; ++s) rows.push_back(offset[s + 1] - 1);
  }
  const int64_t n_out = int64_t(rows.size());
  for (int64_t o = 0; o < n_out; ++o)
    rms_norm(&x[size_t(rows[size_t(o)] * E)], out_norm_.data, &xn[size_t(o * E)], E, p.rms_eps);
  if (n_seqs == 1) {
    matmul(k, output_, xn.data(), n_out, seqs[0].logits, scratch, pool);
  } else {
    std::vector<float> out(size_t(n_out * p.n_vocab));
    matmul(k, output_, xn.data(), n_out, out.data(), scratch, pool);
    for (size_t s = 0; s < n_seqs; ++s)
      std::memcpy(seqs[s].logits, &out[size_t(int64_t(s) * p.n_vocab)], sizeof(float) * size_t(p.n_vocab));
  }
  return Status::ok();
}

}  // namespace

Result<std::unique_ptr<Model>> build_decoder(std::shared_ptr<const GgufFile> gguf, const DecoderSpec& spec,
                                             const ModelOptions& options) {
  auto model = std::make_unique<DecoderModel>(std::move(gguf), spec);
  PM_RETURN_IF_ERROR(model->load(options));
  return std::unique_ptr<Model>(std::move(model));
}

}  // namespace pm
