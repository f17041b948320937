#include <algorithm>
#include <cmath>
#include <vector>

#include "kernels/kernels.h"
#include "kernels/ops.h"
#include "kernels/generic/generic.h"

namespace pm {

void rms_norm(const float* x, const float* w, float* y, int64_t n, float eps) {
  double sum = 0.0;
  for (int64_t i = 0; i < n; ++i) sum += double(x[i]) * x[i];
  const float scale = float(1.0 / std::sqrt(sum / double(n) + eps));
  if (w != nullptr) {
    for (int64_t i = 0; i < n; ++i) y[i] = x[i] * scale * w[i];
  } else {
    for (int64_t i = 0; i < n; ++i) y[i] = x[i] * scale;
  }
}

void layer_norm(const float* x, const float* w, const float* b, float* y, int64_t n, float eps) {
  double mean = 0.0;
  for (int64_t i = 0; i < n; ++i) mean += x[i];
  mean /= double(n);
  double var = 0.0;
  for (int64_t i = 0; i < n; ++i) var += (x[i] - mean) * (x[i] - mean);
  var /= double(n);
  const double scale = 1.0 / std::sqrt(var + eps);
  for (int64_t i = 0; i < n; ++i) {
    float v = float((x[i] - mean) * scale);
    if (w != nullptr) v *= w[i];
    if (b != nullptr) v += b[i];
    y[i] = v;
  }
}

void softmax(float* x, int64_t n) {
  float max = -INFINITY;
  for (int64_t i = 0; i < n; ++i) max = x[i] > max ? x[i] : max;
  double sum = 0.0;
  for (int64_t i = 0; i < n; ++i) {
    x[i] = std::exp(x[i] - max);
    sum += x[i];
  }
  const float inv = float(1.0 / sum);
  for (int64_t i = 0; i < n; ++i) x[i] *= inv;
}

void swiglu(const float* gate, float* x, int64_t n) {
  for (int64_t i = 0; i < n; ++i) x[i] *= gate[i] / (1.0f + std::exp(-gate[i]));
}

void gelu(float* x, int64_t n) {
  constexpr float kSqrt2OverPi = 0.7978845608028654f;
  for (int64_t i = 0; i < n; ++i) {
    const float v = x[i];
    // 0.5 v (1 + tanh(u)) written as v / (1 + exp(-2u)): the same function, one exp instead of
    // tanh (about twice as fast; this loop was a fifth of a BERT embedding's time).
    x[i] = v / (1.0f + std::exp(-2.0f * kSqrt2OverPi * v * (1.0f + 0.044715f * v * v)));
  }
}

void add(float* y, const float* x, int64_t n) {
  for (int64_t i = 0; i < n; ++i) y[i] += x[i];
}

void generic::transpose16(const float* src, size_t src_stride, int64_t n_cols, float* dst, size_t dst_stride) {
  for (int64_t c = 0; c < n_cols; ++c)
    for (size_t r = 0; r < 16; ++r) dst[size_t(c) * dst_stride + r] = src[r * src_stride + size_t(c)];
}

void generic::attention(int64_t d, int64_t group, int64_t n_q, int64_t p0, const float* q, size_t q_stride,
                        const float* kt, size_t kt_stride, const float* v, size_t kv_stride, float scale, float* out,
                        size_t o_stride) {
  std::vector<float> scores(size_t(p0 + n_q));
  for (int64_t i = 0; i < n_q; ++i) {
    const int64_t n_visible = p0 + i + 1;
    for (int64_t g = 0; g < group; ++g) {
      const float* qi = q + size_t(i) * q_stride + size_t(g * d);
      for (int64_t j = 0; j < n_visible; ++j) {
        float s = 0.0f;
        for (int64_t c = 0; c < d; ++c) s += qi[c] * kt[size_t(c) * kt_stride + size_t(j)];
        scores[size_t(j)] = s * scale;
      }
      softmax(scores.data(), n_visible);
      float* oi = out + size_t(i) * o_stride + size_t(g * d);
      for (int64_t c = 0; c < d; ++c) oi[c] = 0.0f;
      for (int64_t j = 0; j < n_visible; ++j) {
        const float w = scores[size_t(j)];
        const float* vj = v + size_t(j) * kv_stride;
        for (int64_t c = 0; c < d; ++c) oi[c] += w * vj[c];
      }
    }
  }
}

void rope_cache(const RopeParams& p, int64_t pos, float* cs) {
  const int half = p.n_rot / 2;
  const double theta_scale = std::pow(double(p.freq_base), -2.0 / double(p.n_rot));
  double theta = double(pos) * p.freq_scale;
  for (int i = 0; i < half; ++i) {
    const double t = p.freq_factors != nullptr ? theta / p.freq_factors[i] : theta;
    cs[2 * i] = float(std::cos(t));
    cs[2 * i + 1] = float(std::sin(t));
    theta *= theta_scale;
  }
}

void rope_apply(const RopeParams& p, const float* cs, float* x) {
  const int half = p.n_rot / 2;
  for (int i = 0; i < half; ++i) {
    const int a = p.neox ? i : 2 * i;
    const int b = p.neox ? i + half : 2 * i + 1;
    const float c = cs[2 * i], s = cs[2 * i + 1];
    const float x0 = x[a], x1 = x[b];
    x[a] = x0 * c - x1 * s;
    x[b] = x0 * s + x1 * c;
  }
}

void dequantize_row(GgmlType type, const void* src, float* dst, int64_t n) {
  active_kernels().of(type).to_float(src, dst, n);
}

void rwkv4_wkv(int64_t n_tok, int64_t n, const float* u, const float* w, const float* k, const float* v,
               float* aa, float* bb, float* pp, float* out) {
  for (int64_t t = 0; t < n_tok; ++t) {
    const float* kt = k + t * n;
    const float* vt = v + t * n;
    float* ot = out + t * n;
    for (int64_t c = 0; c < n; ++c) {
      const float ww = u[c] + kt[c];
      float q = std::max(pp[c], ww);
      float e1 = std::exp(pp[c] - q);
      float e2 = std::exp(ww - q);
      ot[c] = (e1 * aa[c] + e2 * vt[c]) / (e1 * bb[c] + e2);
      const float wd = pp[c] + w[c];
      q = std::max(wd, kt[c]);
      e1 = std::exp(wd - q);
      e2 = std::exp(kt[c] - q);
      aa[c] = e1 * aa[c] + e2 * vt[c];
      bb[c] = e1 * bb[c] + e2;
      pp[c] = q;
    }
  }
}

void rwkv6_wkv(int64_t n_tok, int64_t n_head, int64_t head_size, const float* r, const float* k, const float* v,
               const float* w, int64_t w_stride, const float* u, float* state, float* out) {
  const int64_t C = n_head * head_size, S = head_size;
  for (int64_t t = 0; t < n_tok; ++t) {
    const float* rt = r + t * C;
    const float* kt = k + t * C;
    const float* vt = v + t * C;
    const float* wt = w + t * w_stride;
    float* ot = out + t * C;
    for (int64_t h = 0; h < n_head; ++h) {
      const int64_t o = h * S;
      float* sh = state + h * S * S;
      float* oh = ot + o;
      for (int64_t j = 0; j < S; ++j) oh[j] = 0.0f;
      for (int64_t i = 0; i < S; ++i) {
        const float ri = rt[o + i], ki = kt[o + i], ui = u[o + i], wi = wt[o + i];
        float* row = sh + i * S;
        for (int64_t j = 0; j < S; ++j) {
          const float kv = ki * vt[o + j];
          oh[j] += ri * (ui * kv + row[j]);
          row[j] = wi * row[j] + kv;
        }
      }
    }
  }
}

void rwkv7_wkv(int64_t n_tok, int64_t n_head, int64_t head_size, const float* r, const float* w, const float* k,
               const float* v, const float* a, const float* b, float* state, float* out) {
  const int64_t C = n_head * head_size, S = head_size;
  for (int64_t t = 0; t < n_tok; ++t) {
    const int64_t base = t * C;
    for (int64_t h = 0; h < n_head; ++h) {
      const int64_t o = base + h * S;
      float* sh = state + h * S * S;
      for (int64_t i = 0; i < S; ++i) {
        float* row = sh + i * S;
        float sa = 0.0f;
        for (int64_t j = 0; j < S; ++j) sa += a[o + j] * row[j];
        const float vi = v[o + i];
        float acc = 0.0f;
        for (int64_t j = 0; j < S; ++j) {
          row[j] = row[j] * w[o + j] + vi * k[o + j] + sa * b[o + j];
          acc += row[j] * r[o + j];
        }
        out[o + i] = acc;
      }
    }
  }
}

}  // namespace pm
