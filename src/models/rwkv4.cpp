// RWKV v4 time mixing (BlinkDL, "RWKV: Reinventing RNNs for the Transformer Era", 2023):
//   xk, xv, xr = lerp(prev, x, time_mix_k / v / r)
//   r = sigmoid(Wr xr), k = Wk xk, v = Wv xv
//   wkv_t = (sum_{s<t} e^{-(t-1-s) w + k_s} v_s + e^{u + k_t} v_t) / (same without v)
//   out = Wo (r * wkv)
// with per-channel decay w and bonus u; the sums live in the state as (aa, bb, pp).
#include <cmath>

#include "kernels/ops.h"
#include "models/rwkv.h"

namespace pm {
namespace {

struct Rwkv4TimeMix {
  FloatVec mix_k, mix_v, mix_r;   // [n_embd] time_mix_*
  FloatVec time_first;            // [n_embd] u, bonus of the current token
  FloatVec time_decay;            // [n_embd] stored as -exp(decay)
  Weight key, value, receptance;  // [n_embd -> n_embd]
  Weight output;                  // [n_embd -> n_embd]
};

class Rwkv4Model final : public RwkvModel {
 public:
  explicit Rwkv4Model(RwkvFile f) : RwkvModel(std::move(f)) {}
  Status init() { return load(); }

 protected:
  Status load_time_mix(RwkvTensorBinder& b, int64_t il) override {
    const int64_t E = hp_.n_embd;
    const std::string pre = layer_prefix(il) + "att.";
    if (il == 0) layers_.resize(size_t(hp_.n_layer));
    Rwkv4TimeMix& l = layers_[size_t(il)];
    PM_ASSIGN_OR_RETURN(l.mix_k, b.vec(pre + "time_mix_k", E));
    PM_ASSIGN_OR_RETURN(l.mix_v, b.vec(pre + "time_mix_v", E));
    PM_ASSIGN_OR_RETURN(l.mix_r, b.vec(pre + "time_mix_r", E));
    PM_ASSIGN_OR_RETURN(l.time_first, b.vec(pre + "time_first", E));
    PM_ASSIGN_OR_RETURN(l.time_decay, b.vec(pre + "time_decay", E));
    PM_ASSIGN_OR_RETURN(l.key, b.weight(pre + "key.weight", E, E));
    PM_ASSIGN_OR_RETURN(l.value, b.weight(pre + "value.weight", E, E));
    PM_ASSIGN_OR_RETURN(l.receptance, b.weight(pre + "receptance.weight", E, E));
    PM_ASSIGN_OR_RETURN(l.output, b.weight(pre + "output.weight", E, E));
    return Status::ok();
  }

  void time_mix(int64_t il, RwkvState& s, RwkvEval& e, const float* xn, const float* prev, float* out) const override {
    const Rwkv4TimeMix& l = layers_[size_t(il)];
    const int64_t n = e.n, E = hp_.n_embd;
    const size_t sz = size_t(n * E);
    float* xm = e.buffer(10, sz);
    float* k = e.buffer(11, sz);
    float* v = e.buffer(12, sz);
    float* r = e.buffer(13, sz);
    float* wkv = e.buffer(14, sz);

    rwkv_token_shift(RwkvShift::kLerp, xn, prev, l.mix_k.data, n, E, xm);
    e.matmul(l.key, xm, k);
    rwkv_token_shift(RwkvShift::kLerp, xn, prev, l.mix_v.data, n, E, xm);
    e.matmul(l.value, xm, v);
    rwkv_token_shift(RwkvShift::kLerp, xn, prev, l.mix_r.data, n, E, xm);
    e.matmul(l.receptance, xm, r);

    rwkv4_wkv(n, E, l.time_first.data, l.time_decay.data, k, v, s.att_aa(il), s.att_bb(il), s.att_pp(il), wkv);
    for (size_t i = 0; i < sz; ++i) wkv[i] *= rwkv_sigmoid(r[i]);
    e.matmul(l.output, wkv, out);
  }

 private:
  std::vector<Weight*> time_mix_matrices() override {
    std::vector<Weight*> m;
    for (auto& l : layers_)
      for (Weight* w : {&l.key, &l.value, &l.receptance, &l.output}) m.push_back(w);
    return m;
  }
  std::vector<Rwkv4TimeMix> layers_;
};

}  // namespace

Result<std::unique_ptr<Model>> build_rwkv4(RwkvFile file) {
  auto m = std::make_unique<Rwkv4Model>(std::move(file));
  PM_RETURN_IF_ERROR(m->init());
  return std::unique_ptr<Model>(std::move(m));
}

}  // namespace pm
