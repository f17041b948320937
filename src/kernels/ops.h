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

// RWKV time-mixing recurrences ("WKV"), for n_tok consecutive tokens of one sequence. Inputs
// are [n_tok][n_channels] rows; the state is updated in place, token after token, and out
// receives [n_tok][n_channels]. Heads are independent (callers may split them across threads).

// RWKV v4, per channel c, in the overflow-safe form that carries the running exponent p:
//   wkv = (e^(p - q) a + e^(u + k - q) v) / (e^(p - q) b + e^(u + k - q)),  q = max(p, u + k)
//   then a, b, p <- decayed by w (w = -exp(time_decay), as rwkv.cpp stores it) plus this token.
//   u = time_first [n]; aa, bb, pp: state [n] (initially 0, 0, -1e30).
void rwkv4_wkv(int64_t n_tok, int64_t n, const float* u, const float* w, const float* k, const float* v,
               float* aa, float* bb, float* pp, float* out);

// RWKV v5 / v6, per head h (n_head heads of head_size channels, C = n_head * head_size):
//   state[h][i][j]  (i: key channel, j: value channel)
//   out[h,j]        = sum_i r[h,i] * (u[h,i] * k[h,i] * v[h,j] + state[h][i][j])
//   state[h][i][j]  = w[h,i] * state[h][i][j] + k[h,i] * v[h,j]
//   r, k, v, w: [n_tok][C] (v5: w is the same row for every token, pass w_stride 0);
//   u (bonus of the current token): [C]
void rwkv6_wkv(int64_t n_tok, int64_t n_head, int64_t head_size, const float* r, const float* k, const float* v,
               const float* w, int64_t w_stride, const float* u, float* state, float* out);

// RWKV v7 ("Goose"), per head h:
//   state[h][i][j]  (i: value channel, j: key channel)
//   sa              = sum_j a[h,j] * state[h][i][j]
//   state[h][i][j]  = state[h][i][j] * w[h,j] + v[h,i] * k[h,j] + sa * b[h,j]
//   out[h,i]        = sum_j state[h][i][j] * r[h,j]
//   r, w, k, v, a, b: [n_tok][C]  (a = -kk, b = kk * iclr in the v7 paper's terms)
void rwkv7_wkv(int64_t n_tok, int64_t n_head, int64_t head_size, const float* r, const float* w, const float* k,
               const float* v, const float* a, const float* b, float* state, float* out);

}  // namespace pm
