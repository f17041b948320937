// Tensor operations of the model forward passes, on float32 rows.
// Scalar references in kernels/generic/ops.cpp; SIMD versions will slot in beside them.
#pragma once

#include <cstdint>

#include "kernels/ggml_types.h"

namespace pm {

// y[i] = x[i] / sqrt(mean(x^2) + eps) * w[i]   (w may be null: no weight)
void rms_norm(const float* x, const float* w, float* y, int64_t n, float eps);
// y[i] = (x[i] - mean) / sqrt(var + eps) * w[i] + b[i]   (w, b may be null)
void layer_norm(const float* x, const float* w, const float* b, float* y, int64_t n, float eps);
// In place, numerically stable (max subtracted).
void softmax(float* x, int64_t n);
// x[i] = silu(gate[i]) * x[i]  (SwiGLU's gating; silu(g) = g / (1 + exp(-g)))
void swiglu(const float* gate, float* x, int64_t n);
// x[i] = gelu(x[i]) (tanh approximation, as BERT GGUF models are run)
void gelu(float* x, int64_t n);
void add(float* y, const float* x, int64_t n);  // y += x

// Rotary position embedding of one head vector (head_dim floats), dims [0, n_rot) rotated.
//   neox = false: pairs (2i, 2i+1)   (llama / mistral)
//   neox = true:  pairs (i, i + n_rot/2)   (qwen2 / qwen3 / gpt-neox)
// Angle of pair i: pos * freq_scale * base^(-2i / n_rot) / freq_factors[i] (factors may be null).
struct RopeParams {
  int n_rot = 0;
  bool neox = false;
  float freq_base = 10000.0f;
  float freq_scale = 1.0f;             // 1 / linear scaling factor
  const float* freq_factors = nullptr; // [n_rot / 2] (llama 3 long-context factors)
};
// Precomputes cos/sin for one position: cs[2*i] = cos, cs[2*i+1] = sin, i < n_rot/2.
void rope_cache(const RopeParams& p, int64_t pos, float* cs);
void rope_apply(const RopeParams& p, const float* cs, float* x);

// Converts one row of any supported type to float (n elements).
void dequantize_row(GgmlType type, const void* src, float* dst, int64_t n);

}  // namespace pm
