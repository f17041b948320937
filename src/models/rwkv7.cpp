// RWKV v7 ("Goose", Peng et al. 2025, "RWKV-7 Goose with Expressive Dynamic State Evolution")
// time mixing: a generalized delta rule. Per token, with sx = prev - x and x? = x + sx * x_?:
//   r = Wr xr, k = Wk xk, v = Wv xv
//   w = exp(-e^-0.5 * sigmoid(w0 + w2 tanh(w1 xw)))        decay in (e^-0.607, 1)
//   a = sigmoid(a0 + a2 a1 xa)                              in-context learning rate
//   g = g2 sigmoid(g1 xg)                                   output gate
//   v = v + (v_first - v) * sigmoid(v0 + v2 v1 xv)          (layers > 0; v_first: layer 0's v)
//   kk = normalize_per_head(k * k_k);  k = k * (1 + (a - 1) * k_a)
//   per head: S <- S diag(w) + v k^T + (S (-kk)) (kk * a)^T;  out = S r   (kernels/ops.h rwkv7_wkv)
//   out = group_norm(out) * ln_x.weight + ln_x.bias + v * sum_head(r * k * r_k)
//   result = Wo (out * g)
// Channel mixing has no receptance in v7 (models/rwkv.cpp).
#include <algorithm>
#include <cmath>
#include <cstring>

#include "kernels/ops.h"
#include "models/rwkv.h"

namespace pm {
namespace {

constexpr float kGroupNormEps = 64e-5f;
constexpr float kDecayScale = 0.6065306597126334f;  // e^-0.5
constexpr float kNormEps = 1e-12f;                  // floor of the L2 norm of kk
enum Mix { kR, kW, kK, kV, kA, kG, kMixes };        // the order of att.x_rwkvag's rows

// A low-rank pair: x -> up(down(x)), down [n_embd -> rank], up [rank -> n_embd].
struct Lora {
  Weight down, up;
  int64_t rank() const { return down.n_out; }
};

struct Rwkv7TimeMix {
  FloatVec x_mix;                         // [6][n_embd]: x_r, x_w, x_k, x_v, x_a, x_g
  FloatVec w0, a0, v0;                    // [n_embd] (v0 absent in layer 0)
  Lora w, a, v, g;                        // (v absent in layer 0)
  FloatVec k_k, k_a;                      // [n_embd]
  FloatVec r_k;                           // [n_head][head_size]
  Weight receptance, key, value, output;  // [n_embd -> n_embd]
  FloatVec ln_x_w, ln_x_b;                // [n_embd]
};

class Rwkv7Model final : public RwkvModel {
 public:
  explicit Rwkv7Model(RwkvFile f) : RwkvModel(std::move(f)) {}
  Status init() { return load(); }

 protected:
  // Heads from blocks.0.att.r_k: [head_size, n_head].
  Status read_heads(RwkvTensorBinder& b) {
    const int64_t E = hp_.n_embd;
    PM_ASSIGN_OR_RETURN(const RwkvTensor t, b.tensor("blocks.0.att.r_k"));
    if (t.n_elements != E || t.ne.size() > 2)
      return Status::corrupt(b.path() + ": tensor " + t.name + " has shape " + t.shape_string() +
                             ", expected [head_size, n_head] with head_size * n_head = " + std::to_string(E));
    hp_.head_size = t.ne[0];
    hp_.n_head = E / t.ne[0];
    return Status::ok();
  }

  Result<Lora> lora(RwkvTensorBinder& b, const std::string& pre, const std::string& x) const {
    const int64_t E = hp_.n_embd;
    const std::string down = pre + x + "1", up = pre + x + "2";
    PM_ASSIGN_OR_RETURN(const RwkvTensor t, b.tensor(down));
    const int64_t rank = t.ne[0] == E ? t.n_elements / E : 0;
    if (rank < 1 || rank > E)
      return Status::corrupt(b.path() + ": tensor " + t.name + " has shape " + t.shape_string() + ", expected [" +
                             std::to_string(E) + ", rank]");
    Lora l;
    PM_ASSIGN_OR_RETURN(l.down, b.weight(down, E, rank));
    PM_ASSIGN_OR_RETURN(l.up, b.weight(up, rank, E));
    return l;
  }

  Status load_time_mix(RwkvTensorBinder& b, int64_t il) override {
    if (il == 0) {
      PM_RETURN_IF_ERROR(read_heads(b));
      layers_.resize(size_t(hp_.n_layer));
    }
    const int64_t E = hp_.n_embd;
    const std::string pre = layer_prefix(il) + "att.";
    Rwkv7TimeMix& l = layers_[size_t(il)];
    PM_ASSIGN_OR_RETURN(l.x_mix, b.vec(pre + "x_rwkvag", kMixes * E));
    PM_ASSIGN_OR_RETURN(l.w0, b.vec(pre + "w0", E));
    PM_ASSIGN_OR_RETURN(l.w, lora(b, pre, "w"));
    PM_ASSIGN_OR_RETURN(l.a0, b.vec(pre + "a0", E));
    PM_ASSIGN_OR_RETURN(l.a, lora(b, pre, "a"));
    if (il > 0) {
      PM_ASSIGN_OR_RETURN(l.v0, b.vec(pre + "v0", E));
      PM_ASSIGN_OR_RETURN(l.v, lora(b, pre, "v"));
    }
    PM_ASSIGN_OR_RETURN(l.g, lora(b, pre, "g"));
    PM_ASSIGN_OR_RETURN(l.k_k, b.vec(pre + "k_k", E));
    PM_ASSIGN_OR_RETURN(l.k_a, b.vec(pre + "k_a", E));
    PM_ASSIGN_OR_RETURN(l.r_k, b.vec(pre + "r_k", E));
    PM_ASSIGN_OR_RETURN(l.receptance, b.weight(pre + "receptance.weight", E, E));
    PM_ASSIGN_OR_RETURN(l.key, b.weight(pre + "key.weight", E, E));
    PM_ASSIGN_OR_RETURN(l.value, b.weight(pre + "value.weight", E, E));
    PM_ASSIGN_OR_RETURN(l.output, b.weight(pre + "output.weight", E, E));
    PM_ASSIGN_OR_RETURN(l.ln_x_w, b.vec(pre + "ln_x.weight", E));
    PM_ASSIGN_OR_RETURN(l.ln_x_b, b.vec(pre + "ln_x.bias", E));
    return Status::ok();
  }

  void time_mix(int64_t il, RwkvState& s, RwkvEval& e, const float* xn, const float* prev, float* out) const override {
    const Rwkv7TimeMix& l = layers_[size_t(il)];
    const int64_t n = e.n, E = hp_.n_embd, H = hp_.n_head, S = hp_.head_size;
    const size_t sz = size_t(n * E);
    const int64_t max_rank = std::max({l.w.rank(), l.a.rank(), l.g.rank(), il > 0 ? l.v.rank() : 0});
    float* xm = e.buffer(10, sz);
    float* low = e.buffer(11, size_t(n * max_rank));
    float* r = e.buffer(12, sz);
    float* w = e.buffer(13, sz);
    float* k = e.buffer(14, sz);
    float* v = e.buffer(15, sz);
    float* a = e.buffer(16, sz);
    float* g = e.buffer(17, sz);
    float* kk = e.buffer(18, sz);
    float* b = e.buffer(19, sz);
    float* y = e.buffer(20, sz);
    auto mixed = [&](Mix m) {
      rwkv_token_shift(RwkvShift::kDelta, xn, prev, l.x_mix.data + m * E, n, E, xm);
      return xm;
    };
    // y = lora.up(f(lora.down(x)))
    auto low_rank = [&](const Lora& lr, const float* x, float (*f)(float), float* dst) {
      e.matmul(lr.down, x, low);
      if (f != nullptr)
        for (int64_t i = 0; i < n * lr.rank(); ++i) low[i] = f(low[i]);
      e.matmul(lr.up, low, dst);
    };

    e.matmul(l.receptance, mixed(kR), r);
    low_rank(
        l.w, mixed(kW), [](float x) { return std::tanh(x); }, w);
    for (int64_t t = 0; t < n; ++t)
      for (int64_t c = 0; c < E; ++c) {
        float& wj = w[t * E + c];
        wj = std::exp(-kDecayScale * rwkv_sigmoid(l.w0.data[c] + wj));
      }
    e.matmul(l.key, mixed(kK), k);
    const float* xv = mixed(kV);
    e.matmul(l.value, xv, v);
    if (il == 0) {
      if (e.v_first.size() < size_t(sz)) e.v_first.resize(size_t(sz));
      std::memcpy(e.v_first.data(), v, size_t(sz) * sizeof(float));
    } else {
      low_rank(l.v, xv, nullptr, b);  // b as scratch for the value-residual gate
      for (int64_t t = 0; t < n; ++t)
        for (int64_t c = 0; c < E; ++c) {
          const int64_t j = t * E + c;
          v[j] += (e.v_first[size_t(j)] - v[j]) * rwkv_sigmoid(l.v0.data[c] + b[j]);
        }
    }
    low_rank(l.a, mixed(kA), nullptr, a);
    for (int64_t t = 0; t < n; ++t)
      for (int64_t c = 0; c < E; ++c) a[t * E + c] = rwkv_sigmoid(l.a0.data[c] + a[t * E + c]);
    low_rank(l.g, mixed(kG), rwkv_sigmoid, g);

    for (int64_t t = 0; t < n; ++t)
      for (int64_t h = 0; h < H; ++h) {
        const int64_t o = t * E + h * S;
        float norm2 = 0.0f;
        for (int64_t i = 0; i < S; ++i) {
          kk[o + i] = k[o + i] * l.k_k.data[h * S + i];
          norm2 += kk[o + i] * kk[o + i];
        }
        const float inv = 1.0f / std::max(std::sqrt(norm2), kNormEps);
        for (int64_t i = 0; i < S; ++i) {
          const int64_t j = o + i, c = h * S + i;
          kk[j] *= inv;
          const float ka = k[j] * l.k_a.data[c];
          k[j] += a[j] * ka - ka;
          b[j] = kk[j] * a[j];
          kk[j] = -kk[j];
        }
      }

    rwkv7_wkv(n, H, S, r, w, k, v, kk, b, s.att_heads(il), y);
    rwkv_group_norm(y, l.ln_x_w.data, l.ln_x_b.data, n, H, S, kGroupNormEps, y);
    for (int64_t t = 0; t < n; ++t)
      for (int64_t h = 0; h < H; ++h) {
        const int64_t o = t * E + h * S;
        float bonus = 0.0f;
        for (int64_t i = 0; i < S; ++i) bonus += r[o + i] * k[o + i] * l.r_k.data[h * S + i];
        for (int64_t i = 0; i < S; ++i) y[o + i] = (y[o + i] + v[o + i] * bonus) * g[o + i];
      }
    e.matmul(l.output, y, out);
  }

 private:
  std::vector<Weight*> time_mix_matrices() override {
    std::vector<Weight*> m;
    for (auto& l : layers_)
      for (Weight* w : {&l.receptance, &l.key, &l.value, &l.output, &l.w.down, &l.w.up, &l.a.down, &l.a.up,
                        &l.v.down, &l.v.up, &l.g.down, &l.g.up})
        m.push_back(w);
    return m;
  }
  std::vector<Rwkv7TimeMix> layers_;
};

}  // namespace

Result<std::unique_ptr<Model>> build_rwkv7(RwkvFile file) {
  auto m = std::make_unique<Rwkv7Model>(std::move(file));
  PM_RETURN_IF_ERROR(m->init());
  return std::unique_ptr<Model>(std::move(m));
}

}  // namespace pm
