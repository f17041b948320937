#include "models/rwkv.h"

#include <cmath>
#include <cstring>
#include <limits>

#include "kernels/matmul.h"
#include "kernels/ops.h"
#include "models/fingerprint.h"

namespace pm {
namespace {

constexpr uint32_t kStateMagic = 0x534b5752;  // "RWKS" on disk

// xn[t] = layer_norm(x[t]); prev[t] = xn[t - 1], prev[0] = carry; then carry = xn[n - 1].
void norm_and_shift(const float* x, const FloatVec& w, const FloatVec& b, int64_t n, int64_t E, float eps, float* carry,
                    float* xn, float* prev) {
  for (int64_t t = 0; t < n; ++t) layer_norm(x + t * E, w.data, b.data, xn + t * E, E, eps);
  std::memcpy(prev, carry, sizeof(float) * size_t(E));
  if (n > 1) std::memcpy(prev + E, xn, sizeof(float) * size_t((n - 1) * E));
  std::memcpy(carry, xn + (n - 1) * E, sizeof(float) * size_t(E));
}

std::string file_stem(const std::string& path) {
  std::string s = path.substr(path.find_last_of('/') + 1);
  for (const char* ext : {".bin", ".gguf"}) {
    const size_t n = std::strlen(ext);
    if (s.size() > n && s.compare(s.size() - n, n, ext) == 0) s.resize(s.size() - n);
  }
  return s;
}

// Codes of the versions in serialized states (fixed: saved states outlive builds).
constexpr RwkvVersion kStateVersions[] = {RwkvVersion::kV4, RwkvVersion::kV5_1, RwkvVersion::kV5_2, RwkvVersion::kV6,
                                          RwkvVersion::kV7};
uint32_t version_code(RwkvVersion v) {
  uint32_t code = 0;
  while (kStateVersions[code] != v) ++code;
  return code;
}

}  // namespace

// ---- hyperparameters and state ---------------------------------------------------------------

int64_t RwkvHparams::state_floats_per_layer() const {
  return version == RwkvVersion::kV4 ? 5 * n_embd : (2 + head_size) * n_embd;
}

RwkvState::RwkvState(const RwkvHparams& hp, int64_t n_ctx) : hp_(hp), n_ctx_(n_ctx) {
  data_.resize(size_t(hp_.n_layer * hp_.state_floats_per_layer()));
  reset();
}

void RwkvState::reset() {
  std::fill(data_.begin(), data_.end(), 0.0f);
  if (hp_.version == RwkvVersion::kV4)
    for (int64_t il = 0; il < hp_.n_layer; ++il) std::fill_n(att_pp(il), hp_.n_embd, -1e30f);
  n_past_ = 0;
}

std::unique_ptr<ModelState> RwkvState::clone() const {
  auto c = std::make_unique<RwkvState>(*this);
  c->set_thread_pool(thread_pool());
  return c;
}

Status RwkvState::serialize(std::vector<uint8_t>* out) const {
  const uint32_t head[2] = {kStateMagic, version_code(hp_.version)};
  const uint64_t shape[5] = {uint64_t(hp_.n_layer), uint64_t(hp_.n_embd), uint64_t(hp_.head_size),
                             uint64_t(hp_.state_floats_per_layer()), uint64_t(n_past_)};
  static_assert(sizeof head + sizeof shape == kSerializedHeaderBytes);
  out->resize(kSerializedHeaderBytes + size_bytes());
  uint8_t* p = out->data();
  std::memcpy(p, head, sizeof head);
  std::memcpy(p + sizeof head, shape, sizeof shape);
  std::memcpy(p + kSerializedHeaderBytes, data_.data(), size_bytes());
  return Status::ok();
}

Status RwkvState::deserialize(const uint8_t* data, size_t size) {
  const std::string what = std::string("RWKV ") + rwkv_version_name(hp_.version) + " state";
  if (size < kSerializedHeaderBytes)
    return Status::corrupt(what + ": " + std::to_string(size) + " bytes, shorter than its " +
                           std::to_string(kSerializedHeaderBytes) + "-byte header");
  uint32_t head[2];
  uint64_t shape[5];
  std::memcpy(head, data, sizeof head);
  std::memcpy(shape, data + sizeof head, sizeof shape);
  if (head[0] != kStateMagic) return Status::corrupt(what + ": not an RWKV state (bad magic)");
  if (head[1] != version_code(hp_.version)) {
    const char* saved = head[1] < std::size(kStateVersions) ? rwkv_version_name(kStateVersions[head[1]]) : "unknown";
    return Status::invalid_argument(what + ": the data holds an RWKV " + saved + " state");
  }
  const uint64_t want[4] = {uint64_t(hp_.n_layer), uint64_t(hp_.n_embd), uint64_t(hp_.head_size),
                            uint64_t(hp_.state_floats_per_layer())};
  if (std::memcmp(shape, want, sizeof want) != 0)
    return Status::invalid_argument(what + ": shape " + std::to_string(shape[0]) + " layers x n_embd " +
                                    std::to_string(shape[1]) + " (head size " + std::to_string(shape[2]) +
                                    ") does not match this model's " + std::to_string(want[0]) + " x " +
                                    std::to_string(want[1]) + " (head size " + std::to_string(want[2]) + ")");
  if (size != kSerializedHeaderBytes + size_bytes())
    return Status::corrupt(what + ": " + std::to_string(size) + " bytes, expected " +
                           std::to_string(kSerializedHeaderBytes + size_bytes()));
  if (shape[4] > uint64_t(n_ctx_))
    return Status::out_of_range(what + " follows " + std::to_string(shape[4]) +
                                " tokens but this sequence holds at most " + std::to_string(n_ctx_));
  std::memcpy(data_.data(), data + kSerializedHeaderBytes, size_bytes());
  n_past_ = int64_t(shape[4]);
  return Status::ok();
}

// ---- tensor binding ---------------------------------------------------------------------------

std::string RwkvTensor::shape_string() const {
  std::string s = "[";
  for (size_t i = 0; i < ne.size(); ++i) s += (i ? ", " : "") + std::to_string(ne[i]);
  return s + "]";
}

Result<RwkvTensor> RwkvTensorBinder::tensor(const std::string& name) const {
  if (f_.gguf) return rwkv_gguf_tensor(*f_.gguf, f_.gguf_layout, name);
  const RwkvBinFile& bin = *f_.bin;
  const RwkvTensorInfo* t = bin.find_tensor(name);
  if (t == nullptr)
    return Status::not_found(bin.path() + ": tensor " + name + " is missing (needed by RWKV " +
                             rwkv_version_name(bin.arch()) + ")");
  return RwkvTensor{t->name, t->type, t->ne, t->n_elements, t->size_bytes, t->data};
}

const uint8_t* RwkvTensorBinder::aligned_data(const RwkvTensor& t) {
  const uintptr_t align = t.type == GgmlType::kF32 ? alignof(float) : alignof(uint16_t);
  if (reinterpret_cast<uintptr_t>(t.data) % align == 0) return t.data;
  RwkvTensorCopy& copy = owned_.emplace_back(RwkvTensorCopy{AlignedBuffer<uint8_t>(size_t(t.size_bytes)), t.data});
  copy.bytes.advise_huge_pages();  // weights without a packed form are read from here on every token
  std::memcpy(copy.bytes.data(), t.data, size_t(t.size_bytes));
  // The file's pages of the tensor are not read again until the copy is packed and freed (then
  // they back the unpacked rows' pointer, which nothing reads): release them now, or a model of
  // mostly misaligned tensors would hold the file and its copy at once during the load.
  if (const MappedFile* mapping = f_.mapped_file(); mapping != nullptr) mapping->release(t.data, size_t(t.size_bytes));
  return copy.bytes.data();
}

Result<Weight> RwkvTensorBinder::weight(const std::string& name, int64_t n_in, int64_t n_out) {
  PM_ASSIGN_OR_RETURN(const RwkvTensor t, tensor(name));
  if (t.ne[0] != n_in || t.n_elements / t.ne[0] != n_out)
    return Status::corrupt(f_.path() + ": tensor " + t.name + " has shape " + t.shape_string() + ", expected [" +
                           std::to_string(n_in) + ", " + std::to_string(n_out) + "]");
  return Weight{t.type, aligned_data(t), n_in, n_out};
}

Result<FloatVec> RwkvTensorBinder::vec(const std::string& name, int64_t n) {
  PM_ASSIGN_OR_RETURN(const RwkvTensor t, tensor(name));
  if (t.n_elements != n)
    return Status::corrupt(f_.path() + ": tensor " + t.name + " has shape " + t.shape_string() + " (" +
                           std::to_string(t.n_elements) + " elements), expected " + std::to_string(n));
  FloatVec v;
  v.n = n;
  const uint8_t* data = aligned_data(t);
  if (t.type == GgmlType::kF32) {
    v.data = reinterpret_cast<const float*>(data);
  } else {
    v.storage.resize(size_t(n));
    active_kernels().of(t.type).to_float(data, v.storage.data(), n);
    v.data = v.storage.data();
  }
  return v;
}

// ---- shared operations ------------------------------------------------------------------------

void RwkvEval::matmul(const Weight& w, const float* x, float* y) {
  pm::matmul(kernels, w.type, w.data, w.n_in, w.n_out, x, n, y, scratch, pool, w.packed);
}

float* RwkvEval::buffer(size_t slot, size_t count) {
  if (buffers.size() <= slot) buffers.resize(slot + 1);
  if (buffers[slot].size() < count) buffers[slot].resize(count);
  return buffers[slot].data();
}

void rwkv_token_shift(RwkvShift form, const float* x, const float* prev, const float* m, int64_t n, int64_t E,
                      float* out) {
  for (int64_t t = 0; t < n; ++t) {
    const float* xt = x + t * E;
    const float* pt = prev + t * E;
    float* ot = out + t * E;
    if (form == RwkvShift::kLerp) {
      for (int64_t c = 0; c < E; ++c) ot[c] = xt[c] * m[c] + pt[c] * (1.0f - m[c]);
    } else {
      for (int64_t c = 0; c < E; ++c) ot[c] = xt[c] + (pt[c] - xt[c]) * m[c];
    }
  }
}

void rwkv_group_norm(const float* x, const float* w, const float* b, int64_t n, int64_t n_head, int64_t head_size,
                     float eps, float* y) {
  const int64_t C = n_head * head_size;
  for (int64_t t = 0; t < n; ++t)
    for (int64_t h = 0; h < n_head; ++h) {
      const int64_t o = t * C + h * head_size;
      layer_norm(x + o, w + h * head_size, b + h * head_size, y + o, head_size, eps);
    }
}

// ---- the model --------------------------------------------------------------------------------

RwkvModel::RwkvModel(RwkvFile file) : file_(std::move(file)) { gguf_ = file_.gguf; }

uint64_t RwkvModel::copied_weight_bytes() const {
  uint64_t n = 0;
  for (const RwkvTensorCopy& c : owned_) n += c.bytes.size();
  return n;
}

Status RwkvModel::load() {
  RwkvTensorBinder b(file_, owned_);
  RwkvHparams& p = hp_;
  if (file_.gguf) {
    const RwkvGgufLayout& g = file_.gguf_layout;
    p.version = g.version;
    p.n_vocab = g.n_vocab;
    p.n_embd = g.n_embd;
    p.n_layer = g.n_layer;
    p.layer_norm_eps = float(g.layer_norm_eps);
    p.rescale_every = g.rescale_every;
  } else {
    const RwkvBinFile& f = *file_.bin;
    p.version = f.arch();
    p.n_vocab = f.n_vocab();
    p.n_embd = f.n_embd();
    p.n_layer = f.n_layer();
  }
  const int64_t E = p.n_embd;

  PM_ASSIGN_OR_RETURN(const RwkvTensor ffn_key, b.tensor("blocks.0.ffn.key.weight"));
  p.n_ffn = ffn_key.ne[0] == E ? ffn_key.n_elements / E : 0;
  if (p.n_ffn < 1 || p.n_ffn > (int64_t(1) << 20))
    return Status::corrupt(b.path() + ": tensor " + ffn_key.name + " has shape " + ffn_key.shape_string() +
                           ", expected [" + std::to_string(E) + ", n_ffn]");

  PM_ASSIGN_OR_RETURN(emb_, b.weight("emb.weight", E, p.n_vocab));
  PM_ASSIGN_OR_RETURN(ln0_w_, b.vec("blocks.0.ln0.weight", E));
  PM_ASSIGN_OR_RETURN(ln0_b_, b.vec("blocks.0.ln0.bias", E));
  PM_ASSIGN_OR_RETURN(ln_out_w_, b.vec("ln_out.weight", E));
  PM_ASSIGN_OR_RETURN(ln_out_b_, b.vec("ln_out.bias", E));
  PM_ASSIGN_OR_RETURN(head_, b.weight("head.weight", E, p.n_vocab));

  layers_.resize(size_t(p.n_layer));
  for (int64_t il = 0; il < p.n_layer; ++il) {
    Layer& l = layers_[size_t(il)];
    const std::string pre = layer_prefix(il);
    PM_ASSIGN_OR_RETURN(l.ln1_w, b.vec(pre + "ln1.weight", E));
    PM_ASSIGN_OR_RETURN(l.ln1_b, b.vec(pre + "ln1.bias", E));
    PM_ASSIGN_OR_RETURN(l.ln2_w, b.vec(pre + "ln2.weight", E));
    PM_ASSIGN_OR_RETURN(l.ln2_b, b.vec(pre + "ln2.bias", E));
    RwkvChannelMix& c = l.ffn;
    switch (p.version) {
      case RwkvVersion::kV4:
      case RwkvVersion::kV5_1:
      case RwkvVersion::kV5_2: {
        c.shift = RwkvShift::kLerp;
        PM_ASSIGN_OR_RETURN(c.mix_k, b.vec(pre + "ffn.time_mix_k", E));
        PM_ASSIGN_OR_RETURN(c.mix_r, b.vec(pre + "ffn.time_mix_r", E));
        break;
      }
      case RwkvVersion::kV6: {
        c.shift = RwkvShift::kDelta;
        PM_ASSIGN_OR_RETURN(c.mix_k, b.vec(pre + "ffn.time_maa_k", E));
        PM_ASSIGN_OR_RETURN(c.mix_r, b.vec(pre + "ffn.time_maa_r", E));
        break;
      }
      case RwkvVersion::kV7: {
        c.shift = RwkvShift::kDelta;
        PM_ASSIGN_OR_RETURN(c.mix_k, b.vec(pre + "ffn.x_k", E));
        break;
      }
    }
    PM_ASSIGN_OR_RETURN(c.key, b.weight(pre + "ffn.key.weight", E, p.n_ffn));
    PM_ASSIGN_OR_RETURN(c.value, b.weight(pre + "ffn.value.weight", p.n_ffn, E));
    if (p.version != RwkvVersion::kV7) {
      PM_ASSIGN_OR_RETURN(c.receptance, b.weight(pre + "ffn.receptance.weight", E, E));
    }
    PM_RETURN_IF_ERROR(load_time_mix(b, il));
  }
  if (p.version != RwkvVersion::kV4 && (p.n_head < 1 || p.head_size < 1 || p.n_head * p.head_size != E))
    return Status::internal(b.path() + ": RWKV " + rwkv_version_name(p.version) + " loader did not set the head shape");

  ModelInfo& info = info_;
  switch (p.version) {
    case RwkvVersion::kV4:
      info.arch = "rwkv4";
      break;
    case RwkvVersion::kV5_1:
    case RwkvVersion::kV5_2:
      info.arch = "rwkv5";
      break;
    case RwkvVersion::kV6:
      info.arch = "rwkv6";
      break;
    case RwkvVersion::kV7:
      info.arch = "rwkv7";
      break;
  }
  info.name = file_stem(b.path()) + " (RWKV " + rwkv_version_name(p.version) + ")";
  if (file_.gguf) {
    PM_ASSIGN_OR_RETURN(std::string name, file_.gguf->get_string_or("general.name", ""));
    if (!name.empty()) info.name = name;
  }
  info.n_vocab = p.n_vocab;
  // .bin files record none; a recurrent model has no context limit (GGUF: the converter's 1048576)
  info.n_ctx_train = file_.gguf ? file_.gguf_layout.n_ctx_train : 0;
  info.n_embd = E;
  info.n_layer = p.n_layer;
  info.n_head = p.n_head;
  info.n_head_kv = p.n_head;
  info.head_dim = p.head_size;
  info.n_ff = p.n_ffn;
  ModelFingerprint fp(info.arch + " " + rwkv_version_name(p.version) + (file_.gguf ? " gguf" : ""));
  auto add = [&](const auto& t) {
    info.n_params += t.n_elements;
    info.weights_bytes += t.size_bytes;
    fp.add_tensor(t.name, t.type, t.ne, t.data, t.size_bytes);
  };
  if (file_.gguf) {
    for (const GgufTensorInfo& t : file_.gguf->tensors()) add(t);
  } else {
    for (const RwkvTensorInfo& t : file_.bin->tensors()) add(t);
  }
  identity_ = fp.digest();
  info.recurrent = true;
  info.kv_bytes_per_token = 0;
  info.recurrent_state_bytes = uint64_t(p.n_layer * p.state_floats_per_layer()) * sizeof(float);

  // Packed copies for the active kernels (models/blocks.h), as the transformer's: one token's
  // matrix-vector products read each block of 16 rows with a few wide loads.
  std::vector<Weight*> matrices{&head_};
  for (Layer& l : layers_)
    for (Weight* w : {&l.ffn.key, &l.ffn.value, &l.ffn.receptance}) matrices.push_back(w);
  for (Weight* w : time_mix_matrices()) matrices.push_back(w);
  std::erase_if(matrices, [](const Weight* w) { return !w->present(); });
  // A copied (misaligned) matrix whose every row is in the packed copy is never read again:
  // as soon as it is packed, point it back at the file's bytes (still its rows, only unaligned)
  // and free the copy and the pages it was read from, so resident memory stays about the file's
  // size during the load too.
  const MappedFile* mapping = file_.mapped_file();
  packed_.pack(active_kernels(), matrices, mapping, [&](Weight& w) {
    const int rows = active_kernels().of(w.type).pack_rows;
    if (rows <= 0 || w.n_out % rows != 0) return;
    for (RwkvTensorCopy& c : owned_)
      if (c.bytes.size() != 0 && c.bytes.data() == w.data) {
        const size_t bytes = c.bytes.size();
        w.data = c.source;
        c.bytes = AlignedBuffer<uint8_t>();
        if (mapping != nullptr) mapping->release(c.source, bytes);
        return;
      }
  });
  return Status::ok();
}

Result<std::unique_ptr<ModelState>> RwkvModel::new_state(int64_t n_ctx) const {
  // The state's size does not depend on n_ctx; a positive n_ctx only caps the sequence length.
  const int64_t cap = n_ctx > 0 ? n_ctx : std::numeric_limits<int64_t>::max();
  return std::unique_ptr<ModelState>(std::make_unique<RwkvState>(hp_, cap));
}

void RwkvModel::channel_mix(const Layer& l, RwkvEval& e, const float* xn, const float* prev, float* out) const {
  const RwkvChannelMix& c = l.ffn;
  const int64_t n = e.n, E = hp_.n_embd, F = hp_.n_ffn;
  float* xk = e.buffer(4, size_t(n * E));
  float* hidden = e.buffer(5, size_t(n * F));
  rwkv_token_shift(c.shift, xn, prev, c.mix_k.data, n, E, xk);
  e.matmul(c.key, xk, hidden);
  for (int64_t i = 0; i < n * F; ++i) hidden[i] = hidden[i] > 0.0f ? hidden[i] * hidden[i] : 0.0f;
  e.matmul(c.value, hidden, out);
  if (c.receptance.present()) {
    float* xr = e.buffer(4, size_t(n * E));
    float* r = e.buffer(6, size_t(n * E));
    rwkv_token_shift(c.shift, xn, prev, c.mix_r.data, n, E, xr);
    e.matmul(c.receptance, xr, r);
    for (int64_t i = 0; i < n * E; ++i) out[i] *= rwkv_sigmoid(r[i]);
  }
}

Status RwkvModel::eval(ModelState& state, const TokenId* tokens, int64_t n, float* logits, bool all_logits) const {
  RwkvState* s = dynamic_cast<RwkvState*>(&state);
  const RwkvHparams& p = hp_;
  if (s == nullptr || s->hparams().version != p.version || s->hparams().n_layer != p.n_layer ||
      s->hparams().n_embd != p.n_embd || s->hparams().head_size != p.head_size)
    return Status::invalid_argument("state was not created by this model");
  if (n <= 0) return Status::invalid_argument("no tokens to evaluate");
  if (n > s->n_ctx() - s->n_past())
    return Status::out_of_range(std::to_string(n) +
                                " tokens do not fit in the context: " + std::to_string(s->n_past()) + " of " +
                                std::to_string(s->n_ctx()) + " positions are used");
  for (int64_t i = 0; i < n; ++i)
    if (tokens[i] < 0 || tokens[i] >= p.n_vocab)
      return Status::invalid_argument("token id " + std::to_string(tokens[i]) + " is outside the vocabulary (0.." +
                                      std::to_string(p.n_vocab - 1) + ")");

  const int64_t E = p.n_embd;
  RwkvEval e(active_kernels(), s->thread_pool(), n);
  float* x = e.buffer(0, size_t(n * E));     // residual stream [n][E]
  float* xn = e.buffer(1, size_t(n * E));    // normalized input of the current block
  float* prev = e.buffer(2, size_t(n * E));  // its token-shifted predecessor rows
  float* out = e.buffer(3, size_t(n * E));   // block output

  // Embedding rows are read from the file rather than through the mapping when they lie in it:
  // a long chat meets more and more distinct tokens, and their pages would otherwise pile up
  // in resident memory (the table is as large as the output head, and only a few rows are used).
  const size_t emb_row = row_size_bytes(emb_.type, E);
  const ToFloatFn emb_to_float = e.kernels.of(emb_.type).to_float;
  const MappedFile* mapping = file_.mapped_file();
  AlignedBuffer<uint8_t> row;
  for (int64_t t = 0; t < n; ++t) {
    const uint8_t* src = emb_.data + size_t(tokens[t]) * emb_row;
    if (mapping != nullptr && mapping->contains(src, emb_row)) {
      if (row.size() == 0) row.resize(emb_row);
      PM_RETURN_IF_ERROR(mapping->read(src, emb_row, row.data()));
      src = row.data();
    }
    emb_to_float(src, x + t * E, E);
    layer_norm(x + t * E, ln0_w_.data, ln0_b_.data, x + t * E, E, p.layer_norm_eps);
  }

  for (int64_t il = 0; il < p.n_layer; ++il) {
    const Layer& l = layers_[size_t(il)];
    norm_and_shift(x, l.ln1_w, l.ln1_b, n, E, p.layer_norm_eps, s->att_xx(il), xn, prev);
    time_mix(il, *s, e, xn, prev, out);
    add(x, out, n * E);
    norm_and_shift(x, l.ln2_w, l.ln2_b, n, E, p.layer_norm_eps, s->ffn_xx(il), xn, prev);
    channel_mix(l, e, xn, prev, out);
    add(x, out, n * E);
    if (p.rescale_every > 0 && (il + 1) % p.rescale_every == 0)
      for (int64_t i = 0; i < n * E; ++i) x[i] *= 0.5f;
  }
  s->advance(n);

  const int64_t first = all_logits ? 0 : n - 1;
  for (int64_t t = first; t < n; ++t)
    layer_norm(x + t * E, ln_out_w_.data, ln_out_b_.data, xn + (t - first) * E, E, p.layer_norm_eps);
  e.n = n - first;
  e.matmul(head_, xn, logits);
  return Status::ok();
}

// ---- loading ----------------------------------------------------------------------------------

namespace {

Result<std::unique_ptr<Model>> build_rwkv(RwkvVersion version, RwkvFile file) {
  switch (version) {
    case RwkvVersion::kV4:
      return build_rwkv4(std::move(file));
    case RwkvVersion::kV5_1:
    case RwkvVersion::kV5_2:
      return build_rwkv5(std::move(file));
    case RwkvVersion::kV6:
      return build_rwkv6(std::move(file));
    case RwkvVersion::kV7:
      return build_rwkv7(std::move(file));
  }
  return Status::internal(file.path() + ": unknown RWKV version");
}

}  // namespace

Result<std::unique_ptr<Model>> load_rwkv_model(std::shared_ptr<const RwkvBinFile> file) {
  const RwkvVersion v = file->arch();
  RwkvFile f;
  f.bin = std::move(file);
  return build_rwkv(v, std::move(f));
}

Result<std::unique_ptr<Model>> build_rwkv_gguf(std::shared_ptr<const GgufFile> file, const ModelOptions&) {
  RwkvFile f;
  PM_ASSIGN_OR_RETURN(f.gguf_layout, read_rwkv_gguf_layout(*file));
  f.gguf = std::move(file);
  const RwkvVersion v = f.gguf_layout.version;
  return build_rwkv(v, std::move(f));
}

Result<std::unique_ptr<Model>> load_rwkv_model(const std::string& path) {
  PM_ASSIGN_OR_RETURN(std::unique_ptr<RwkvBinFile> f, RwkvBinFile::open(path));
  return load_rwkv_model(std::shared_ptr<const RwkvBinFile>(std::move(f)));
}

}  // namespace pm
