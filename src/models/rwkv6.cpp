// RWKV v6 ("Finch", Peng et al. 2024, "Eagle and Finch") time mixing: v5's matrix state with
// data-dependent token shift and decay, both produced by small low-rank (LoRA) networks.
//   sx = prev - x;  xxx = x + sx * maa_x
//   m_w, m_k, m_v, m_r, m_g = maa_w2[i] tanh(maa_w1 xxx)[i]      (five rank-D projections)
//   x? = x + sx * (maa_? + m_?)                                  for ? in w, k, v, r, g
//   r = Wr xr, k = Wk xk, v = Wv xv, g = silu(Wg xg)
//   w = exp(-exp(time_decay + decay_w2 tanh(decay_w1 xw)))       (per token and channel)
//   per head: out_t = r_t (u k_t^T v_t + S),  S <- diag(w_t) S + k_t^T v_t
//   out = Wo (group_norm(out) * ln_x.weight + ln_x.bias) * g
#include <algorithm>
#include <cmath>
#include <cstring>

#include "kernels/ops.h"
#include "models/rwkv.h"

namespace pm {
namespace {

constexpr float kGroupNormEps = 64e-5f;
constexpr int kMixes = 5;  // w, k, v, r, g: the order of maa_w1's output blocks and maa_w2's slices

struct Rwkv6TimeMix {
  FloatVec maa_x;                               // [n_embd]
  FloatVec maa[kMixes];                         // [n_embd] time_maa_w, _k, _v, _r, _g
  Weight maa_w1;                                // [n_embd -> 5 * lora]
  Weight maa_w2[kMixes];                        // [lora -> n_embd] each (slices of one [5][n_embd][lora] tensor)
  FloatVec time_decay;                          // [n_embd]
  Weight decay_w1;                              // [n_embd -> decay_lora]
  Weight decay_w2;                              // [decay_lora -> n_embd]
  FloatVec faaaa;                               // [n_embd] u, bonus of the current token
  FloatVec ln_x_w, ln_x_b;                      // [n_embd]
  Weight receptance, key, value, gate, output;  // [n_embd -> n_embd]
};

class Rwkv6Model final : public RwkvModel {
 public:
  explicit Rwkv6Model(RwkvFile f) : RwkvModel(std::move(f)) {}
  Status init() { return load(); }

 protected:
  // Heads from blocks.0.att.time_faaaa: [1, head_size, n_head].
  Status read_shapes(RwkvTensorBinder& b) {
    const int64_t E = hp_.n_embd;
    PM_ASSIGN_OR_RETURN(const RwkvTensor t, b.tensor("blocks.0.att.time_faaaa"));
    if (t.ne.size() != 3 || t.ne[0] != 1 || t.ne[1] * t.ne[2] != E)
      return Status::corrupt(b.path() + ": tensor " + t.name + " has shape " + t.shape_string() +
                             ", expected [1, head_size, n_head] with head_size * n_head = " + std::to_string(E));
    hp_.head_size = t.ne[1];
    hp_.n_head = t.ne[2];
    PM_ASSIGN_OR_RETURN(lora_, lora_rank(b, "blocks.0.att.time_maa_w1", kMixes));
    PM_ASSIGN_OR_RETURN(decay_lora_, lora_rank(b, "blocks.0.att.time_decay_w1", 1));
    return Status::ok();
  }

  // The rank of a [n_embd -> parts * rank] LoRA input matrix.
  Result<int64_t> lora_rank(RwkvTensorBinder& b, const std::string& name, int64_t parts) const {
    PM_ASSIGN_OR_RETURN(const RwkvTensor t, b.tensor(name));
    const int64_t E = hp_.n_embd;
    const int64_t out = t.ne[0] == E ? t.n_elements / E : 0;
    if (out < parts || out % parts != 0 || out / parts > E)
      return Status::corrupt(b.path() + ": tensor " + t.name + " has shape " + t.shape_string() + ", expected [" +
                             std::to_string(E) + ", " + std::to_string(parts) + " * rank]");
    return out / parts;
  }

  Status load_time_mix(RwkvTensorBinder& b, int64_t il) override {
    if (il == 0) {
      PM_RETURN_IF_ERROR(read_shapes(b));
      layers_.resize(size_t(hp_.n_layer));
    }
    const int64_t E = hp_.n_embd;
    const std::string pre = layer_prefix(il) + "att.";
    Rwkv6TimeMix& l = layers_[size_t(il)];
    static const char* const kMixNames[kMixes] = {"time_maa_w", "time_maa_k", "time_maa_v", "time_maa_r", "time_maa_g"};
    PM_ASSIGN_OR_RETURN(l.maa_x, b.vec(pre + "time_maa_x", E));
    for (int i = 0; i < kMixes; ++i) {
      PM_ASSIGN_OR_RETURN(l.maa[i], b.vec(pre + kMixNames[i], E));
    }
    PM_ASSIGN_OR_RETURN(l.maa_w1, b.weight(pre + "time_maa_w1", E, kMixes * lora_));
    PM_ASSIGN_OR_RETURN(Weight w2, b.weight(pre + "time_maa_w2", lora_, kMixes * E));
    const size_t slice_bytes = row_size_bytes(w2.type, lora_) * size_t(E);
    for (int i = 0; i < kMixes; ++i) l.maa_w2[i] = Weight{w2.type, w2.data + size_t(i) * slice_bytes, lora_, E};
    PM_ASSIGN_OR_RETURN(l.time_decay, b.vec(pre + "time_decay", E));
    PM_ASSIGN_OR_RETURN(l.decay_w1, b.weight(pre + "time_decay_w1", E, decay_lora_));
    PM_ASSIGN_OR_RETURN(l.decay_w2, b.weight(pre + "time_decay_w2", decay_lora_, E));
    PM_ASSIGN_OR_RETURN(l.faaaa, b.vec(pre + "time_faaaa", E));
    PM_ASSIGN_OR_RETURN(l.ln_x_w, b.vec(pre + "ln_x.weight", E));
    PM_ASSIGN_OR_RETURN(l.ln_x_b, b.vec(pre + "ln_x.bias", E));
    PM_ASSIGN_OR_RETURN(l.receptance, b.weight(pre + "receptance.weight", E, E));
    PM_ASSIGN_OR_RETURN(l.key, b.weight(pre + "key.weight", E, E));
    PM_ASSIGN_OR_RETURN(l.value, b.weight(pre + "value.weight", E, E));
    PM_ASSIGN_OR_RETURN(l.gate, b.weight(pre + "gate.weight", E, E));
    PM_ASSIGN_OR_RETURN(l.output, b.weight(pre + "output.weight", E, E));
    return Status::ok();
  }

  void time_mix(int64_t il, RwkvState& s, RwkvEval& e, const float* xn, const float* prev, float* out) const override {
    const Rwkv6TimeMix& l = layers_[size_t(il)];
    const int64_t n = e.n, E = hp_.n_embd, D = lora_;
    const size_t sz = size_t(n * E);
    float* sx = e.buffer(10, sz);
    float* xm = e.buffer(11, sz);
    float* hidden = e.buffer(12, size_t(n * kMixes * D));
    float* part = e.buffer(13, size_t(n * std::max(D, decay_lora_)));
    float* m = e.buffer(14, sz);
    float* r = e.buffer(15, sz);
    float* k = e.buffer(16, sz);
    float* v = e.buffer(17, sz);
    float* g = e.buffer(18, sz);
    float* w = e.buffer(19, sz);
    float* y = e.buffer(20, sz);

    for (size_t i = 0; i < sz; ++i) sx[i] = prev[i] - xn[i];
    for (int64_t t = 0; t < n; ++t)
      for (int64_t c = 0; c < E; ++c) xm[t * E + c] = xn[t * E + c] + sx[t * E + c] * l.maa_x.data[c];
    e.matmul(l.maa_w1, xm, hidden);
    for (size_t i = 0; i < size_t(n * kMixes * D); ++i) hidden[i] = std::tanh(hidden[i]);

    float* const dest[kMixes] = {w, k, v, r, g};  // first the mixed inputs, then projected in place
    for (int i = 0; i < kMixes; ++i) {
      for (int64_t t = 0; t < n; ++t)
        std::memcpy(part + t * D, hidden + t * kMixes * D + i * D, sizeof(float) * size_t(D));
      e.matmul(l.maa_w2[i], part, m);
      float* x_i = dest[i];
      for (int64_t t = 0; t < n; ++t)
        for (int64_t c = 0; c < E; ++c) {
          const int64_t j = t * E + c;
          x_i[j] = xn[j] + sx[j] * (l.maa[i].data[c] + m[j]);
        }
    }
    // dest now holds xw, xk, xv, xr, xg; project each (xm is the matmul's input copy).
    std::memcpy(xm, r, sizeof(float) * sz);
    e.matmul(l.receptance, xm, r);
    std::memcpy(xm, k, sizeof(float) * sz);
    e.matmul(l.key, xm, k);
    std::memcpy(xm, v, sizeof(float) * sz);
    e.matmul(l.value, xm, v);
    std::memcpy(xm, g, sizeof(float) * sz);
    e.matmul(l.gate, xm, g);
    for (size_t i = 0; i < sz; ++i) g[i] = rwkv_silu(g[i]);

    e.matmul(l.decay_w1, w, part);
    for (size_t i = 0; i < size_t(n * decay_lora_); ++i) part[i] = std::tanh(part[i]);
    e.matmul(l.decay_w2, part, w);
    for (int64_t t = 0; t < n; ++t)
      for (int64_t c = 0; c < E; ++c) {
        float& wj = w[t * E + c];
        wj = std::exp(-std::exp(l.time_decay.data[c] + wj));
      }

    rwkv6_wkv(n, hp_.n_head, hp_.head_size, r, k, v, w, /*w_stride=*/E, l.faaaa.data, s.att_heads(il), y);
    rwkv_group_norm(y, l.ln_x_w.data, l.ln_x_b.data, n, hp_.n_head, hp_.head_size, kGroupNormEps, y);
    for (size_t i = 0; i < sz; ++i) y[i] *= g[i];
    e.matmul(l.output, y, out);
  }

 private:
  int64_t lora_ = 0;        // rank of the token-shift LoRA (maa_w1 / maa_w2)
  int64_t decay_lora_ = 0;  // rank of the decay LoRA
  std::vector<Weight*> time_mix_matrices() override {
    std::vector<Weight*> m;
    for (auto& l : layers_) {
      for (Weight* w : {&l.maa_w1, &l.decay_w1, &l.decay_w2, &l.receptance, &l.key, &l.value, &l.gate, &l.output})
        m.push_back(w);
      for (Weight& w : l.maa_w2) m.push_back(&w);
    }
    return m;
  }
  std::vector<Rwkv6TimeMix> layers_;
};

}  // namespace

Result<std::unique_ptr<Model>> build_rwkv6(RwkvFile file) {
  auto m = std::make_unique<Rwkv6Model>(std::move(file));
  PM_RETURN_IF_ERROR(m->init());
  return std::unique_ptr<Model>(std::move(m));
}

}  // namespace pm
