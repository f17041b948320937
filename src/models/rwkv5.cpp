// RWKV v5 ("Eagle", Peng et al. 2024, "Eagle and Finch") time mixing, versions 5.1 and 5.2:
// the v4 scalar average becomes a matrix-valued state per head.
//   xk, xv, xr (, xg) = lerp(prev, x, time_mix_*)
//   r = Wr xr, k = Wk xk, v = Wv xv (, g = silu(Wg xg)  5.2 only)
//   per head: out_t = r_t (u k_t^T v_t + S),  S <- diag(w) S + k_t^T v_t   (kernels/ops.h rwkv6_wkv)
//   out = Wo (group_norm(out) * ln_x.weight + ln_x.bias  (* g  5.2))
// w = exp(-exp(decay)) and u are constant per layer: per head in 5.1, per channel in 5.2.
#include <cstring>

#include "kernels/ops.h"
#include "models/rwkv.h"

namespace pm {
namespace {

constexpr float kGroupNormEps = 1e-5f;

struct Rwkv5TimeMix {
  FloatVec mix_k, mix_v, mix_r;   // [n_embd] time_mix_*
  FloatVec mix_g;                 // [n_embd] 5.2 only
  FloatVec decay;                 // [n_embd] w in (0, 1) per key channel (5.1: head's value repeated)
  FloatVec first;                 // [n_embd] u (5.1: time_first per head, repeated; 5.2: time_faaaa)
  FloatVec ln_x_w, ln_x_b;        // [n_embd] group norm
  Weight key, value, receptance;  // [n_embd -> n_embd]
  Weight gate;                    // [n_embd -> n_embd] 5.2 only
  Weight output;                  // [n_embd -> n_embd]
};

// A per-head vector [n_head] repeated over each head's channels: [n_head * head_size].
FloatVec repeat_per_head(const FloatVec& per_head, int64_t head_size) {
  FloatVec v;
  v.n = per_head.n * head_size;
  v.storage.resize(size_t(v.n));
  for (int64_t h = 0; h < per_head.n; ++h)
    for (int64_t i = 0; i < head_size; ++i) v.storage[size_t(h * head_size + i)] = per_head.data[h];
  v.data = v.storage.data();
  return v;
}

class Rwkv5Model final : public RwkvModel {
 public:
  explicit Rwkv5Model(RwkvFile f) : RwkvModel(std::move(f)) {}
  Status init() { return load(); }

 protected:
  bool v5_2() const { return hp_.version == RwkvVersion::kV5_2; }

  // Heads from blocks.0.att.time_decay: [1, 1, n_head] in 5.1, [1, head_size, n_head] in 5.2.
  Status read_heads(RwkvTensorBinder& b) {
    const int64_t E = hp_.n_embd;
    PM_ASSIGN_OR_RETURN(const RwkvTensor t, b.tensor("blocks.0.att.time_decay"));
    const int64_t n_head = t.ne.back();
    if (t.ne.size() != 3 || t.ne[0] != 1 || n_head < 1 || E % n_head != 0 || t.ne[1] != (v5_2() ? E / n_head : 1))
      return Status::corrupt(b.path() + ": tensor " + t.name + " has shape " + t.shape_string() +
                             ", expected [1, " + (v5_2() ? "head_size" : "1") + ", n_head] with n_head dividing " +
                             std::to_string(E));
    hp_.n_head = n_head;
    hp_.head_size = E / n_head;
    return Status::ok();
  }

  Status load_time_mix(RwkvTensorBinder& b, int64_t il) override {
    if (il == 0) {
      PM_RETURN_IF_ERROR(read_heads(b));
      layers_.resize(size_t(hp_.n_layer));
    }
    const int64_t E = hp_.n_embd, H = hp_.n_head;
    const std::string pre = layer_prefix(il) + "att.";
    Rwkv5TimeMix& l = layers_[size_t(il)];
    PM_ASSIGN_OR_RETURN(l.mix_k, b.vec(pre + "time_mix_k", E));
    PM_ASSIGN_OR_RETURN(l.mix_v, b.vec(pre + "time_mix_v", E));
    PM_ASSIGN_OR_RETURN(l.mix_r, b.vec(pre + "time_mix_r", E));
    if (v5_2()) {
      PM_ASSIGN_OR_RETURN(l.mix_g, b.vec(pre + "time_mix_g", E));
      PM_ASSIGN_OR_RETURN(l.decay, b.vec(pre + "time_decay", E));
      PM_ASSIGN_OR_RETURN(l.first, b.vec(pre + "time_faaaa", E));
      PM_ASSIGN_OR_RETURN(l.gate, b.weight(pre + "gate.weight", E, E));
    } else {
      PM_ASSIGN_OR_RETURN(FloatVec decay, b.vec(pre + "time_decay", H));
      PM_ASSIGN_OR_RETURN(FloatVec first, b.vec(pre + "time_first", H));
      l.decay = repeat_per_head(decay, hp_.head_size);
      l.first = repeat_per_head(first, hp_.head_size);
    }
    PM_ASSIGN_OR_RETURN(l.ln_x_w, b.vec(pre + "ln_x.weight", E));
    PM_ASSIGN_OR_RETURN(l.ln_x_b, b.vec(pre + "ln_x.bias", E));
    PM_ASSIGN_OR_RETURN(l.key, b.weight(pre + "key.weight", E, E));
    PM_ASSIGN_OR_RETURN(l.value, b.weight(pre + "value.weight", E, E));
    PM_ASSIGN_OR_RETURN(l.receptance, b.weight(pre + "receptance.weight", E, E));
    PM_ASSIGN_OR_RETURN(l.output, b.weight(pre + "output.weight", E, E));
    return Status::ok();
  }

  void time_mix(int64_t il, RwkvState& s, RwkvEval& e, const float* xn, const float* prev, float* out) const override {
    const Rwkv5TimeMix& l = layers_[size_t(il)];
    const int64_t n = e.n, E = hp_.n_embd;
    const size_t sz = size_t(n * E);
    float* xm = e.buffer(10, sz);
    float* r = e.buffer(11, sz);
    float* k = e.buffer(12, sz);
    float* v = e.buffer(13, sz);
    float* g = e.buffer(14, sz);
    float* y = e.buffer(15, sz);

    rwkv_token_shift(RwkvShift::kLerp, xn, prev, l.mix_r.data, n, E, xm);
    e.matmul(l.receptance, xm, r);
    rwkv_token_shift(RwkvShift::kLerp, xn, prev, l.mix_k.data, n, E, xm);
    e.matmul(l.key, xm, k);
    rwkv_token_shift(RwkvShift::kLerp, xn, prev, l.mix_v.data, n, E, xm);
    e.matmul(l.value, xm, v);
    if (v5_2()) {
      rwkv_token_shift(RwkvShift::kLerp, xn, prev, l.mix_g.data, n, E, xm);
      e.matmul(l.gate, xm, g);
      for (size_t i = 0; i < sz; ++i) g[i] = rwkv_silu(g[i]);
    }

    rwkv6_wkv(n, hp_.n_head, hp_.head_size, r, k, v, l.decay.data, /*w_stride=*/0, l.first.data, s.att_heads(il), y);
    rwkv_group_norm(y, l.ln_x_w.data, l.ln_x_b.data, n, hp_.n_head, hp_.head_size, kGroupNormEps, y);
    if (v5_2())
      for (size_t i = 0; i < sz; ++i) y[i] *= g[i];
    e.matmul(l.output, y, out);
  }

 private:
  std::vector<Weight*> time_mix_matrices() override {
    std::vector<Weight*> m;
    for (auto& l : layers_)
      for (Weight* w : {&l.key, &l.value, &l.receptance, &l.gate, &l.output}) m.push_back(w);
    return m;
  }
  std::vector<Rwkv5TimeMix> layers_;
};

}  // namespace

Result<std::unique_ptr<Model>> build_rwkv5(RwkvFile file) {
  auto m = std::make_unique<Rwkv5Model>(std::move(file));
  PM_RETURN_IF_ERROR(m->init());
  return std::unique_ptr<Model>(std::move(m));
}

}  // namespace pm
