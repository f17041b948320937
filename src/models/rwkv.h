// RWKV v4 - v7: recurrent language models whose per-sequence state has a fixed size, however
// long the conversation. Every version has the same outer shape
//   x = ln0(emb[token])
//   per layer:  x += time_mix(ln1(x), ln1(x) of the previous token, layer state)
//               x += channel_mix(ln2(x), ln2(x) of the previous token)
//   logits = head * ln_out(x)
// and differs in time mixing (models/rwkv4.cpp, rwkv5.cpp, rwkv6.cpp, rwkv7.cpp). This header
// holds what they share: the state layout, weight binding, layer norms with token shift, channel
// mixing, and the evaluation loop.
//
// Weights come from rwkv.cpp .bin files (v4 - v7) or from GGUF files that llama.cpp's
// convert_hf_to_gguf.py wrote (architectures "rwkv6", "rwkv7"; models/rwkv_gguf.cpp). Either way
// the version loaders ask for tensors by their .bin names and layouts; a GGUF file's tensors are
// mapped onto those, as views into the mapping wherever the bytes allow (no copies).
//
// A sequence of n tokens is evaluated with every projection as one [n x n_in] by [n_in x n_out]
// matrix product; only the WKV recurrence walks the tokens one by one. Feeding the tokens one
// at a time gives the same logits.
#pragma once

#include <cmath>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "core/aligned_buffer.h"
#include "formats/rwkv_bin.h"
#include "kernels/kernels.h"
#include "models/blocks.h"
#include "models/model.h"

namespace pm {

// Shape of an RWKV model: from the .bin header, head counts from tensor shapes.
struct RwkvHparams {
  RwkvVersion version = RwkvVersion::kV4;
  int64_t n_vocab = 0;
  int64_t n_embd = 0;
  int64_t n_layer = 0;
  int64_t n_ffn = 0;      // channel-mixing hidden size
  int64_t n_head = 0;     // WKV heads (v5+; 0 for v4)
  int64_t head_size = 0;  // n_embd / n_head (v5+; 0 for v4)
  float layer_norm_eps = 1e-5f;  // of ln0, ln1, ln2, ln_out (GGUF: {arch}.attention.layer_norm_epsilon)
  // GGUF v6 ({arch}.rescale_every_n_layers): llama.cpp's converter stores layer i's time-mixing
  // output and channel-mixing value matrices divided by 2^(i / rescale_every), so the residual
  // stream is halved after every rescale_every-th layer to match. 0: no rescaling.
  int64_t rescale_every = 0;

  // Floats of recurrent state per layer: 5 * n_embd for v4, (2 + head_size) * n_embd after.
  int64_t state_floats_per_layer() const;
};

// The recurrent state of one sequence, laid out as rwkv.cpp lays out its state vector:
//   v4:  [n_layer][5][n_embd]               ffn_xx, att_xx, aa, bb, pp
//   v5+: [n_layer][(2 + head_size) * n_embd] ffn_xx [n_embd], att_xx [n_embd],
//                                           att_heads [n_head][head_size][head_size]
// ffn_xx / att_xx: the previous token's normalized input to channel / time mixing (token shift).
// aa, bb, pp (v4): numerator, denominator and running max exponent of the WKV average.
// att_heads: the WKV matrix state of each head (index order: see kernels/ops.h rwkv6_wkv /
// rwkv7_wkv). Initially all zero, except pp = -1e30.
//
// Serialized (ModelState::serialize), little-endian, always the same size for one model:
//   u32 magic "RWKS" | u32 version code (0 v4, 1 v5.1, 2 v5.2, 3 v6, 4 v7)
//   | u64 n_layer | u64 n_embd | u64 head_size | u64 state floats per layer | u64 n_past
//   | f32 state [n_layer * floats per layer], in the layout above
class RwkvState final : public ModelState {
 public:
  RwkvState(const RwkvHparams& hp, int64_t n_ctx);

  int64_t n_past() const override { return n_past_; }
  int64_t n_ctx() const override { return n_ctx_; }
  void reset() override;
  std::unique_ptr<ModelState> clone() const override;
  Status serialize(std::vector<uint8_t>* out) const override;
  // Checks the header against this state's shape and the size, then copies; on any error the
  // state is left as it was.
  Status deserialize(const uint8_t* data, size_t size_bytes) override;
  static constexpr size_t kSerializedHeaderBytes = 2 * sizeof(uint32_t) + 5 * sizeof(uint64_t);

  const RwkvHparams& hparams() const { return hp_; }
  size_t size_bytes() const { return data_.size() * sizeof(float); }
  float* layer(int64_t il) { return data_.data() + il * hp_.state_floats_per_layer(); }
  float* ffn_xx(int64_t il) { return layer(il); }
  float* att_xx(int64_t il) { return layer(il) + hp_.n_embd; }
  float* att_aa(int64_t il) { return layer(il) + 2 * hp_.n_embd; }     // v4
  float* att_bb(int64_t il) { return layer(il) + 3 * hp_.n_embd; }     // v4
  float* att_pp(int64_t il) { return layer(il) + 4 * hp_.n_embd; }     // v4
  float* att_heads(int64_t il) { return layer(il) + 2 * hp_.n_embd; }  // v5+
  void advance(int64_t n) { n_past_ += n; }

 private:
  RwkvHparams hp_;
  int64_t n_ctx_;
  int64_t n_past_ = 0;
  std::vector<float> data_;
};

// One tensor as the version loaders see it: named and laid out as in an rwkv.cpp .bin file
// (formats/rwkv_bin.h), whichever file it came from.
struct RwkvTensor {
  std::string name;  // the tensor's name in its file (GGUF: llama.cpp's name), for messages
  GgmlType type = GgmlType::kF32;
  std::vector<int64_t> ne;  // ggml order, .bin layout
  int64_t n_elements = 0;
  uint64_t size_bytes = 0;
  const uint8_t* data = nullptr;  // into the file's mapping
  std::string shape_string() const;  // "[64, 256]"
};

// What a GGUF RWKV file states in its metadata (llama.cpp's keys, "{arch}." omitted):
// every tensor's shape is checked against it, as llama.cpp checks them.
struct RwkvGgufLayout {
  RwkvVersion version = RwkvVersion::kV7;  // general.architecture "rwkv6" or "rwkv7"
  int64_t n_vocab = 0;                     // token_embd.weight's rows (no metadata key)
  int64_t n_embd = 0;                      // embedding_length
  int64_t n_layer = 0;                     // block_count
  int64_t n_ffn = 0;                       // feed_forward_length
  int64_t head_size = 0;                   // wkv.head_size
  int64_t n_ctx_train = 0;                 // context_length (optional; 1048576 from the converter)
  double layer_norm_eps = 1e-5;            // attention.layer_norm_epsilon (optional)
  int64_t rescale_every = 0;               // v6: rescale_every_n_layers (optional)
  int64_t time_mix_extra_dim = 0;          // v6: time_mix_extra_dim (token-shift LoRA rank)
  int64_t time_decay_extra_dim = 0;        // v6: time_decay_extra_dim (decay LoRA rank)
  int64_t lora_decay = 0;                  // v7: attention.decay_lora_rank
  int64_t lora_iclr = 0;                   // v7: attention.iclr_lora_rank
  int64_t lora_value_mix = 0;              // v7: attention.value_residual_mix_lora_rank
  int64_t lora_gate = 0;                   // v7: attention.gate_lora_rank
};

// Reads and range-checks the metadata of a GGUF RWKV file; errors name the file and the key.
Result<RwkvGgufLayout> read_rwkv_gguf_layout(const GgufFile& f);
// The tensor of a GGUF RWKV file that stands for .bin tensor `bin_name`, as a view in .bin
// layout, its shape checked against `layout`. not_found names the GGUF tensor.
Result<RwkvTensor> rwkv_gguf_tensor(const GgufFile& f, const RwkvGgufLayout& layout, const std::string& bin_name);

// The file an RWKV model's weights come from: exactly one of bin and gguf.
struct RwkvFile {
  std::shared_ptr<const RwkvBinFile> bin;
  std::shared_ptr<const GgufFile> gguf;
  RwkvGgufLayout gguf_layout;  // with gguf
  const std::string& path() const { return bin ? bin->path() : gguf->path(); }
  const MappedFile* mapped_file() const { return bin ? bin->mapped_file() : gguf->mapped_file(); }
};

// Binds tensors by their .bin names, checking shape; errors name file and tensor.
// rwkv.cpp pads nothing, so .bin tensor data usually sits at odd offsets: a tensor misaligned
// for its element type is copied into a buffer appended to `owned` (whose heap blocks never
// move). GGUF tensors are aligned (general.alignment), so their data is used in place.
struct RwkvTensorCopy {
  AlignedBuffer<uint8_t> bytes;
  const uint8_t* source = nullptr;  // the tensor's bytes in the file's mapping
};

class RwkvTensorBinder {
 public:
  RwkvTensorBinder(const RwkvFile& f, std::vector<RwkvTensorCopy>& owned) : f_(f), owned_(owned) {}
  // A matrix of n_out rows of n_in: ne[0] == n_in and the other dims multiply to n_out.
  Result<Weight> weight(const std::string& name, int64_t n_in, int64_t n_out);
  // A float vector of n elements, whatever its (1- to 4-D) shape.
  Result<FloatVec> vec(const std::string& name, int64_t n);
  // The tensor, or not_found naming it.
  Result<RwkvTensor> tensor(const std::string& name) const;
  const std::string& path() const { return f_.path(); }

 private:
  const uint8_t* aligned_data(const RwkvTensor& t);
  const RwkvFile& f_;
  std::vector<RwkvTensorCopy>& owned_;
};

// Work buffers and settings of one eval call over n tokens.
struct RwkvEval {
  const Kernels& kernels;
  ThreadPool* pool;
  int64_t n;                     // tokens in this call
  std::vector<uint8_t> scratch;  // matmul's activation conversions
  std::vector<AlignedBuffer<float>> buffers;  // (large ones are returned to the OS after the call)
  AlignedBuffer<float> v_first;  // v7: layer 0's values [n][n_embd], mixed into later layers

  RwkvEval(const Kernels& k, ThreadPool* p, int64_t n_tok) : kernels(k), pool(p), n(n_tok) {}
  // y [n][w.n_out] = x [n][w.n_in] times w (every token at once).
  void matmul(const Weight& w, const float* x, float* y);
  // A work buffer of `count` floats that stays valid until the next call with the same slot
  // (a call asking for more than the slot holds gets fresh, zeroed memory).
  float* buffer(size_t slot, size_t count);
};

inline float rwkv_sigmoid(float v) { return 1.0f / (1.0f + std::exp(-v)); }
inline float rwkv_silu(float v) { return v / (1.0f + std::exp(-v)); }

// How token shift blends the current row x with the previous token's row p, channel c:
//   kLerp  (v4, v5):  x * m + p * (1 - m)      (time_mix_*)
//   kDelta (v6, v7):  x + (p - x) * m          (time_maa_*, x_*)
enum class RwkvShift { kLerp, kDelta };
// out [n][E] = shift(x [n][E], prev [n][E], m [E])
void rwkv_token_shift(RwkvShift form, const float* x, const float* prev, const float* m, int64_t n, int64_t E,
                      float* out);

// Channel mixing ("FFN"), shared by all versions:
//   k = relu(key * xk)^2;  out = value * k, times sigmoid(receptance * xr) when present (v4-v6)
struct RwkvChannelMix {
  RwkvShift shift = RwkvShift::kLerp;
  FloatVec mix_k;     // [n_embd]
  FloatVec mix_r;     // [n_embd]; absent in v7
  Weight key;         // [n_embd -> n_ffn]
  Weight value;       // [n_ffn -> n_embd]
  Weight receptance;  // [n_embd -> n_embd]; absent in v7
};

// Group norm: each of n_head groups of head_size channels normalized on its own (mean 0,
// variance 1, eps), then scaled by w and shifted by b over all channels. x, y: [n][n_head * head_size].
void rwkv_group_norm(const float* x, const float* w, const float* b, int64_t n, int64_t n_head, int64_t head_size,
                     float eps, float* y);

// The evaluation loop and shared weights; each version supplies its time mixing.
class RwkvModel : public Model {
 public:
  Result<std::unique_ptr<ModelState>> new_state(int64_t n_ctx) const override;
  Status eval(ModelState& state, const TokenId* tokens, int64_t n_tokens, float* logits,
              bool all_logits) const override;

  const RwkvHparams& hparams() const { return hp_; }
  // Bytes of weights copied out of the file (misaligned .bin tensors; none from a GGUF file).
  uint64_t copied_weight_bytes() const;

 protected:
  explicit RwkvModel(RwkvFile file);
  // Reads hyperparameters and every shared tensor, calls load_time_mix for each layer, and
  // fills info_. Versions set hp_.n_head / head_size in load_time_mix of layer 0 if they have heads.
  Status load();
  // Binds layer il's time-mixing tensors (the version's own layer struct).
  virtual Status load_time_mix(RwkvTensorBinder& b, int64_t il) = 0;
  // The time mixing's weight matrices of every layer (bound by then), for packing.
  virtual std::vector<Weight*> time_mix_matrices() = 0;
  // Time mixing of layer il for e.n tokens: xn = ln1(x) rows, prev = their token-shifted
  // predecessors (both [n][n_embd]); writes out [n][n_embd].
  virtual void time_mix(int64_t il, RwkvState& s, RwkvEval& e, const float* xn, const float* prev,
                        float* out) const = 0;

  static std::string layer_prefix(int64_t il) { return "blocks." + std::to_string(il) + "."; }

  RwkvFile file_;
  RwkvHparams hp_;

 private:
  struct Layer {
    FloatVec ln1_w, ln1_b, ln2_w, ln2_b;  // [n_embd]
    RwkvChannelMix ffn;
  };
  void channel_mix(const Layer& l, RwkvEval& e, const float* xn, const float* prev, float* out) const;

  std::vector<RwkvTensorCopy> owned_;  // copies of misaligned tensors
  Weight emb_;                                 // [n_embd -> n_vocab]: row t is token t's embedding
  FloatVec ln0_w_, ln0_b_;                     // [n_embd] (blocks.0.ln0)
  FloatVec ln_out_w_, ln_out_b_;
  Weight head_;  // [n_embd -> n_vocab]
  std::vector<Layer> layers_;
  PackedWeights packed_;  // of head_, the channel and time mixing matrices
};

// Builders, one per version file.
Result<std::unique_ptr<Model>> build_rwkv4(RwkvFile file);
Result<std::unique_ptr<Model>> build_rwkv5(RwkvFile file);  // v5.1 and v5.2
Result<std::unique_ptr<Model>> build_rwkv6(RwkvFile file);
Result<std::unique_ptr<Model>> build_rwkv7(RwkvFile file);

// Builds the model of a parsed .bin file, by the version its tensors show.
Result<std::unique_ptr<Model>> load_rwkv_model(std::shared_ptr<const RwkvBinFile> file);
// Opens, validates and builds an rwkv.cpp .bin model.
Result<std::unique_ptr<Model>> load_rwkv_model(const std::string& path);
// Builds the model of a GGUF file with general.architecture "rwkv6" or "rwkv7" (the registry's
// builder for both).
Result<std::unique_ptr<Model>> build_rwkv_gguf(std::shared_ptr<const GgufFile> file, const ModelOptions& options);

}  // namespace pm
