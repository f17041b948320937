#include <cmath>

#include "kernels/kernels.h"
#include "kernels/ops.h"

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
    x[i] = 0.5f * v * (1.0f + std::tanh(kSqrt2OverPi * v * (1.0f + 0.044715f * v * v)));
  }
}

void add(float* y, const float* x, int64_t n) {
  for (int64_t i = 0; i < n; ++i) y[i] += x[i];
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

}  // namespace pm
