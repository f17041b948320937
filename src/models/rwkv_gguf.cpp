// RWKV v6 and v7 from GGUF files as llama.cpp's convert_hf_to_gguf.py writes them
// (general.architecture "rwkv6" / "rwkv7"), presented to the version loaders under rwkv.cpp's
// .bin names and layouts (models/rwkv.h).
//
// Both formats store the trained values (decay raw, not -exp(decay); time_faaaa / time_first as
// trained) and every LoRA matrix as [n_in -> n_out] (the converter transposes w1 / w2 as
// rwkv.cpp's does), so every tensor below is used in place; only shapes and names differ:
//   .bin (blocks.N.)            GGUF (blk.N.)                   GGUF shape (ggml order)
//   emb.weight                  token_embd.weight               [n_embd, n_vocab]
//   blocks.0.ln0.{weight,bias}  token_embd_norm.{weight,bias}   [n_embd]
//   ln1 / ln2                   attn_norm / attn_norm_2
//   att.{receptance,key,value,output,gate}.weight   time_mix_{receptance,...}.weight [n_embd, n_embd]
//   att.ln_x.{weight,bias}      time_mix_ln.{weight,bias}       [n_embd]
//   ffn.{key,value,receptance}.weight   channel_mix_{key,value,receptance}.weight
//  v6:
//   att.time_maa_x              time_mix_lerp_x.weight          [n_embd]
//   att.time_maa_{w,k,v,r,g}    time_mix_lerp_fused.weight      [n_embd, 1, 1, 5], rows w k v r g
//                               (older files: time_mix_lerp_{w,k,v,r,g}.weight [n_embd] each)
//   att.time_maa_w1 / _w2       time_mix_w1 / _w2.weight        [n_embd, 5 * D], [D, n_embd, 5]
//   att.time_decay              time_mix_decay.weight           [n_embd]
//   att.time_decay_w1 / _w2     time_mix_decay_w1 / _w2.weight  [n_embd, D2], [D2, n_embd]
//   att.time_faaaa [1, hs, nh]  time_mix_first.weight           [head_size, n_head]
//   ffn.time_maa_k / _r         channel_mix_lerp_k / _r.weight  [n_embd]
//   With {arch}.rescale_every_n_layers = n > 0 the converter divided layer i's
//   time_mix_output and channel_mix_value by 2^(i / n): see RwkvHparams::rescale_every.
//  v7:
//   att.x_rwkvag [6][n_embd]    time_mix_lerp_fused.weight      [n_embd, 1, 1, 6], rows r w k v a g
//   att.{w,a,v}0                time_mix_{w,a,v}0.weight        [n_embd]
//   att.{w,a,v,g}1 / 2          time_mix_{w,a,v,g}1 / 2.weight  [n_embd, rank], [rank, n_embd]
//   att.k_k, att.k_a            time_mix_k_k, _k_a.weight       [n_embd]
//   att.r_k [hs, nh]            time_mix_r_k.weight             [n_embd] (flattened)
//   ffn.x_k                     channel_mix_lerp_k.weight       [n_embd]
//   Layer 0 has no value-residual mix; its time_mix_v0/v1/v2 are the converter's copies of
//   a0/a1/a2 (llama.cpp requires them) and are not used.
#include <array>
#include <charconv>
#include <cstring>

#include "models/rwkv.h"

namespace pm {
namespace {

// Symbolic dimensions of the expected shapes, resolved from the metadata.
enum Dim : uint8_t {
  kEnd = 0,  // terminates a shape
  kOne, kEmbd, kVocab, kFfn, kHeadSize, kHeads,
  kFive, kSix,
  kMixLora, kMixLora5, kDecayLora,                // v6
  kLoraDecay, kLoraIclr, kLoraValueMix, kLoraGate,  // v7
};

struct Mapping {
  const char* bin;   // .bin name, after "blocks.N." for layer tensors
  const char* gguf;  // GGUF name, after "blk.N." for layer tensors
  std::array<Dim, 4> shape;
};

constexpr Mapping kGlobal[] = {
    {"emb.weight", "token_embd.weight", {kEmbd, kVocab}},
    {"blocks.0.ln0.weight", "token_embd_norm.weight", {kEmbd}},
    {"blocks.0.ln0.bias", "token_embd_norm.bias", {kEmbd}},
    {"ln_out.weight", "output_norm.weight", {kEmbd}},
    {"ln_out.bias", "output_norm.bias", {kEmbd}},
    {"head.weight", "output.weight", {kEmbd, kVocab}},
};

constexpr Mapping kLayerCommon[] = {
    {"ln1.weight", "attn_norm.weight", {kEmbd}},
    {"ln1.bias", "attn_norm.bias", {kEmbd}},
    {"ln2.weight", "attn_norm_2.weight", {kEmbd}},
    {"ln2.bias", "attn_norm_2.bias", {kEmbd}},
    {"att.receptance.weight", "time_mix_receptance.weight", {kEmbd, kEmbd}},
    {"att.key.weight", "time_mix_key.weight", {kEmbd, kEmbd}},
    {"att.value.weight", "time_mix_value.weight", {kEmbd, kEmbd}},
    {"att.output.weight", "time_mix_output.weight", {kEmbd, kEmbd}},
    {"att.ln_x.weight", "time_mix_ln.weight", {kEmbd}},
    {"att.ln_x.bias", "time_mix_ln.bias", {kEmbd}},
    {"ffn.key.weight", "channel_mix_key.weight", {kEmbd, kFfn}},
    {"ffn.value.weight", "channel_mix_value.weight", {kFfn, kEmbd}},
};

constexpr Mapping kLayerV6[] = {
    {"att.gate.weight", "time_mix_gate.weight", {kEmbd, kEmbd}},
    {"att.time_maa_x", "time_mix_lerp_x.weight", {kEmbd}},
    {"att.time_maa_w1", "time_mix_w1.weight", {kEmbd, kMixLora5}},
    {"att.time_maa_w2", "time_mix_w2.weight", {kMixLora, kEmbd, kFive}},
    {"att.time_decay", "time_mix_decay.weight", {kEmbd}},
    {"att.time_decay_w1", "time_mix_decay_w1.weight", {kEmbd, kDecayLora}},
    {"att.time_decay_w2", "time_mix_decay_w2.weight", {kDecayLora, kEmbd}},
    {"att.time_faaaa", "time_mix_first.weight", {kHeadSize, kHeads}},
    {"ffn.time_maa_k", "channel_mix_lerp_k.weight", {kEmbd}},
    {"ffn.time_maa_r", "channel_mix_lerp_r.weight", {kEmbd}},
    {"ffn.receptance.weight", "channel_mix_receptance.weight", {kEmbd, kEmbd}},
};
// v6 token-shift mixes: rows of time_mix_lerp_fused, in this order.
constexpr const char* kV6Lerps[] = {"w", "k", "v", "r", "g"};
constexpr Mapping kV6LerpFused = {"", "time_mix_lerp_fused.weight", {kEmbd, kOne, kOne, kFive}};

constexpr Mapping kLayerV7[] = {
    {"att.x_rwkvag", "time_mix_lerp_fused.weight", {kEmbd, kOne, kOne, kSix}},
    {"att.w0", "time_mix_w0.weight", {kEmbd}},
    {"att.w1", "time_mix_w1.weight", {kEmbd, kLoraDecay}},
    {"att.w2", "time_mix_w2.weight", {kLoraDecay, kEmbd}},
    {"att.a0", "time_mix_a0.weight", {kEmbd}},
    {"att.a1", "time_mix_a1.weight", {kEmbd, kLoraIclr}},
    {"att.a2", "time_mix_a2.weight", {kLoraIclr, kEmbd}},
    {"att.v0", "time_mix_v0.weight", {kEmbd}},
    {"att.v1", "time_mix_v1.weight", {kEmbd, kLoraValueMix}},
    {"att.v2", "time_mix_v2.weight", {kLoraValueMix, kEmbd}},
    {"att.g1", "time_mix_g1.weight", {kEmbd, kLoraGate}},
    {"att.g2", "time_mix_g2.weight", {kLoraGate, kEmbd}},
    {"att.k_k", "time_mix_k_k.weight", {kEmbd}},
    {"att.k_a", "time_mix_k_a.weight", {kEmbd}},
    {"att.r_k", "time_mix_r_k.weight", {kEmbd}},
    {"ffn.x_k", "channel_mix_lerp_k.weight", {kEmbd}},
};

int64_t dim_value(Dim d, const RwkvGgufLayout& l) {
  switch (d) {
    case kEnd:
    case kOne: return 1;
    case kEmbd: return l.n_embd;
    case kVocab: return l.n_vocab;
    case kFfn: return l.n_ffn;
    case kHeadSize: return l.head_size;
    case kHeads: return l.n_embd / l.head_size;
    case kFive: return 5;
    case kSix: return 6;
    case kMixLora: return l.time_mix_extra_dim;
    case kMixLora5: return 5 * l.time_mix_extra_dim;
    case kDecayLora: return l.time_decay_extra_dim;
    case kLoraDecay: return l.lora_decay;
    case kLoraIclr: return l.lora_iclr;
    case kLoraValueMix: return l.lora_value_mix;
    case kLoraGate: return l.lora_gate;
  }
  return 0;
}

const char* arch_name(RwkvVersion v) { return v == RwkvVersion::kV6 ? "rwkv6" : "rwkv7"; }

// The key that sets a dimension, for messages ("" for fixed ones).
std::string dim_key(Dim d, const RwkvGgufLayout& l) {
  const std::string a = std::string(arch_name(l.version)) + ".";
  switch (d) {
    case kEmbd: return a + "embedding_length";
    case kFfn: return a + "feed_forward_length";
    case kHeadSize:
    case kHeads: return a + "wkv.head_size";
    case kMixLora:
    case kMixLora5: return a + "time_mix_extra_dim";
    case kDecayLora: return a + "time_decay_extra_dim";
    case kLoraDecay: return a + "attention.decay_lora_rank";
    case kLoraIclr: return a + "attention.iclr_lora_rank";
    case kLoraValueMix: return a + "attention.value_residual_mix_lora_rank";
    case kLoraGate: return a + "attention.gate_lora_rank";
    default: return "";
  }
}

std::string shape_string(const std::vector<int64_t>& ne) {
  std::string s = "[";
  for (size_t i = 0; i < ne.size(); ++i) s += (i ? ", " : "") + std::to_string(ne[i]);
  return s + "]";
}

// ne without trailing 1s (ggml pads every shape to 4 dims with 1s; writers may or may not).
std::vector<int64_t> trimmed(std::vector<int64_t> ne) {
  while (ne.size() > 1 && ne.back() == 1) ne.pop_back();
  return ne;
}

// The GGUF tensor `name`, its type and shape checked against the mapping's.
Result<RwkvTensor> checked_tensor(const GgufFile& f, const RwkvGgufLayout& l, const std::string& name,
                                  const std::array<Dim, 4>& shape) {
  const GgufTensorInfo* t = f.find_tensor(name);
  if (t == nullptr)
    return Status::not_found(f.path() + ": tensor " + name + " is missing (needed by " + arch_name(l.version) + ")");
  const TypeInfo* info = type_info(t->type);
  if (info == nullptr || !info->supported)
    return Status::unsupported(f.path() + ": tensor " + name + " has type " + type_name(t->type) +
                               ", which pocketmind cannot compute with yet");
  std::vector<int64_t> want;
  std::string keys;
  for (Dim d : shape) {
    if (d == kEnd) break;
    want.push_back(dim_value(d, l));
    const std::string k = dim_key(d, l);
    if (!k.empty() && keys.find(k) == std::string::npos) keys += (keys.empty() ? "" : ", ") + k;
  }
  if (trimmed(t->ne) != trimmed(want))
    return Status::corrupt(f.path() + ": tensor " + name + " has shape " + shape_string(t->ne) + ", expected " +
                           shape_string(want) + (keys.empty() ? "" : " (from " + keys + ")"));
  return RwkvTensor{t->name, t->type, trimmed(t->ne), t->n_elements, t->size_bytes, t->data};
}

const Mapping* find_mapping(const Mapping* begin, const Mapping* end, const std::string& bin) {
  for (const Mapping* m = begin; m != end; ++m)
    if (bin == m->bin) return m;
  return nullptr;
}

// v6 token-shift mix `mix` ("w", "k", ...) of layer `il`: a row of time_mix_lerp_fused, or in
// older files a tensor of its own.
Result<RwkvTensor> v6_lerp(const GgufFile& f, const RwkvGgufLayout& l, int64_t il, const std::string& mix) {
  const std::string pre = "blk." + std::to_string(il) + ".";
  const std::string own = pre + "time_mix_lerp_" + mix + ".weight";
  if (f.find_tensor(pre + kV6LerpFused.gguf) == nullptr && f.find_tensor(own) != nullptr)
    return checked_tensor(f, l, own, {kEmbd});
  PM_ASSIGN_OR_RETURN(RwkvTensor fused, checked_tensor(f, l, pre + kV6LerpFused.gguf, kV6LerpFused.shape));
  size_t row = 0;
  while (mix != kV6Lerps[row]) ++row;
  const size_t row_bytes = row_size_bytes(fused.type, l.n_embd);
  return RwkvTensor{fused.name, fused.type, {l.n_embd}, l.n_embd, row_bytes, fused.data + row * row_bytes};
}

// Reads a required positive integer key "{arch}.suffix" no larger than hi.
Status read_dim(const GgufFile& f, const std::string& arch, const std::string& suffix, int64_t hi, int64_t* out) {
  const std::string key = arch + "." + suffix;
  PM_ASSIGN_OR_RETURN(*out, f.get_int(key));
  if (*out < 1 || *out > hi)
    return Status::corrupt(f.path() + ": metadata " + key + " = " + std::to_string(*out) + " is out of range [1, " +
                           std::to_string(hi) + "]");
  return Status::ok();
}

}  // namespace

Result<RwkvGgufLayout> read_rwkv_gguf_layout(const GgufFile& f) {
  RwkvGgufLayout l;
  PM_ASSIGN_OR_RETURN(const std::string arch, f.get_string("general.architecture"));
  if (arch == "rwkv6") {
    l.version = RwkvVersion::kV6;
  } else if (arch == "rwkv7") {
    l.version = RwkvVersion::kV7;
  } else {
    return Status::unsupported(f.path() + ": architecture \"" + arch + "\" is not an RWKV GGUF architecture (rwkv6, rwkv7)");
  }
  constexpr int64_t kMaxEmbd = int64_t(1) << 16, kMaxLayers = 4096, kMaxFfn = int64_t(1) << 20;
  PM_RETURN_IF_ERROR(read_dim(f, arch, "embedding_length", kMaxEmbd, &l.n_embd));
  PM_RETURN_IF_ERROR(read_dim(f, arch, "block_count", kMaxLayers, &l.n_layer));
  PM_RETURN_IF_ERROR(read_dim(f, arch, "feed_forward_length", kMaxFfn, &l.n_ffn));
  PM_RETURN_IF_ERROR(read_dim(f, arch, "wkv.head_size", l.n_embd, &l.head_size));
  if (l.n_embd % l.head_size != 0)
    return Status::corrupt(f.path() + ": metadata " + arch + ".wkv.head_size = " + std::to_string(l.head_size) +
                           " does not divide " + arch + ".embedding_length = " + std::to_string(l.n_embd));
  PM_ASSIGN_OR_RETURN(l.n_ctx_train, f.get_int_or(arch + ".context_length", 0));
  PM_ASSIGN_OR_RETURN(l.layer_norm_eps, f.get_float_or(arch + ".attention.layer_norm_epsilon", 1e-5));
  if (!(l.layer_norm_eps > 0 && l.layer_norm_eps < 1))
    return Status::corrupt(f.path() + ": metadata " + arch + ".attention.layer_norm_epsilon = " +
                           std::to_string(l.layer_norm_eps) + " is not in (0, 1)");
  if (l.version == RwkvVersion::kV6) {
    PM_RETURN_IF_ERROR(read_dim(f, arch, "time_mix_extra_dim", l.n_embd, &l.time_mix_extra_dim));
    PM_RETURN_IF_ERROR(read_dim(f, arch, "time_decay_extra_dim", l.n_embd, &l.time_decay_extra_dim));
    PM_ASSIGN_OR_RETURN(l.rescale_every, f.get_int_or(arch + ".rescale_every_n_layers", 0));
    if (l.rescale_every < 0 || l.rescale_every > kMaxLayers)
      return Status::corrupt(f.path() + ": metadata " + arch + ".rescale_every_n_layers = " +
                             std::to_string(l.rescale_every) + " is out of range [0, " + std::to_string(kMaxLayers) + "]");
  } else {
    PM_RETURN_IF_ERROR(read_dim(f, arch, "attention.decay_lora_rank", l.n_embd, &l.lora_decay));
    PM_RETURN_IF_ERROR(read_dim(f, arch, "attention.iclr_lora_rank", l.n_embd, &l.lora_iclr));
    PM_RETURN_IF_ERROR(read_dim(f, arch, "attention.value_residual_mix_lora_rank", l.n_embd, &l.lora_value_mix));
    PM_RETURN_IF_ERROR(read_dim(f, arch, "attention.gate_lora_rank", l.n_embd, &l.lora_gate));
  }
  // The vocabulary size is the embedding's row count (the tokenizer may hold fewer tokens).
  const GgufTensorInfo* emb = f.find_tensor("token_embd.weight");
  if (emb == nullptr) return Status::not_found(f.path() + ": tensor token_embd.weight is missing (needed by " + arch + ")");
  l.n_vocab = emb->ne.size() >= 2 ? emb->ne[1] : 0;
  if (emb->ne.empty() || emb->ne[0] != l.n_embd || l.n_vocab < 1 || trimmed(emb->ne).size() > 2)
    return Status::corrupt(f.path() + ": tensor token_embd.weight has shape " + shape_string(emb->ne) + ", expected [" +
                           std::to_string(l.n_embd) + ", n_vocab] (from " + arch + ".embedding_length)");
  return l;
}

Result<RwkvTensor> rwkv_gguf_tensor(const GgufFile& f, const RwkvGgufLayout& l, const std::string& bin) {
  if (const Mapping* m = find_mapping(std::begin(kGlobal), std::end(kGlobal), bin))
    return checked_tensor(f, l, m->gguf, m->shape);

  // Layer tensors: "blocks.N.rest" -> "blk.N." + the rest's GGUF name.
  constexpr std::string_view kBlocks = "blocks.";
  const size_t dot = bin.find('.', kBlocks.size());
  if (bin.compare(0, kBlocks.size(), kBlocks) != 0 || dot == std::string::npos)
    return Status::internal(f.path() + ": no GGUF tensor stands for " + bin);
  const std::string layer = bin.substr(kBlocks.size(), dot - kBlocks.size());
  const std::string rest = bin.substr(dot + 1);
  int64_t il = -1;
  std::from_chars(layer.data(), layer.data() + layer.size(), il);
  if (il < 0 || il >= l.n_layer) return Status::internal(f.path() + ": no GGUF tensor stands for " + bin);
  const std::string pre = "blk." + layer + ".";

  const Mapping* m = find_mapping(std::begin(kLayerCommon), std::end(kLayerCommon), rest);
  if (l.version == RwkvVersion::kV6) {
    if (m == nullptr) m = find_mapping(std::begin(kLayerV6), std::end(kLayerV6), rest);
    if (m == nullptr && rest.compare(0, 13, "att.time_maa_") == 0 && rest.size() == 14)
      return v6_lerp(f, l, il, rest.substr(13));
  } else if (m == nullptr) {
    m = find_mapping(std::begin(kLayerV7), std::end(kLayerV7), rest);
  }
  if (m == nullptr) return Status::internal(f.path() + ": no GGUF tensor stands for " + bin);
  PM_ASSIGN_OR_RETURN(RwkvTensor t, checked_tensor(f, l, pre + m->gguf, m->shape));
  // Same bytes, .bin shapes (the version loaders read the head shape from these).
  if (rest == "att.time_faaaa") t.ne = {1, l.head_size, l.n_embd / l.head_size};
  if (rest == "att.r_k") t.ne = {l.head_size, l.n_embd / l.head_size};
  return t;
}

}  // namespace pm
