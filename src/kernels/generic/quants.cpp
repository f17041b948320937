// Scalar reference kernels for the 32-element block formats (Q4_0, Q4_1, Q5_0, Q5_1, Q8_0,
// Q8_1) and the plain float types. Layouts are documented in kernels/ggml_types.h.
//
// Dot products take activations already converted to the weight type's vec_dot_type (Q8_0
// or Q8_1 here) and work in integers inside a block, scaling once per block, as every SIMD
// version will; float types accumulate in double.
//
// Quantization follows llama.cpp's rounding rules exactly (they are part of what a file of
// these types means in practice): files made here match llama-quantize's byte for byte, and
// activations are the 8-bit values llama.cpp's reference outputs were computed with. Every
// rule divides by multiplying with id = 1/d (d unrounded), as llama.cpp does; x/d would round
// differently in the last bit now and then.
#include <algorithm>
#include <cmath>
#include <cstring>

#include "core/fp16.h"
#include "kernels/generic/generic.h"

namespace pm::generic {
namespace {

inline float h2f(uint16_t h) { return fp16_to_fp32(h); }
inline uint16_t f2h(float f) { return fp32_to_fp16(f); }

// The 5th bits of Q5_0 / Q5_1 as one little-endian word.
inline uint32_t load_qh(const uint8_t qh[4]) {
  uint32_t v;
  std::memcpy(&v, qh, 4);
  return v;
}

// Value with the largest magnitude, keeping its sign (the Q4_0 / Q5_0 scale anchor).
float signed_absmax(const float* x, int n) {
  float amax = 0.0f, max = 0.0f;
  for (int j = 0; j < n; ++j) {
    if (std::fabs(x[j]) > amax) {
      amax = std::fabs(x[j]);
      max = x[j];
    }
  }
  return max;
}

}  // namespace

// ---- float types ---------------------------------------------------------------------------

void f32_to_float(const void* src, float* dst, int64_t n) { std::memcpy(dst, src, size_t(n) * sizeof(float)); }
void f32_from_float(const float* src, void* dst, int64_t n) { std::memcpy(dst, src, size_t(n) * sizeof(float)); }
float f32_vec_dot(int64_t n, const void* w, const void* a) {
  const float* x = static_cast<const float*>(w);
  const float* y = static_cast<const float*>(a);
  double sum = 0.0;
  for (int64_t i = 0; i < n; ++i) sum += double(x[i]) * double(y[i]);
  return float(sum);
}

void f16_to_float(const void* src, float* dst, int64_t n) {
  const uint16_t* s = static_cast<const uint16_t*>(src);
  for (int64_t i = 0; i < n; ++i) dst[i] = h2f(s[i]);
}
void f16_from_float(const float* src, void* dst, int64_t n) {
  uint16_t* d = static_cast<uint16_t*>(dst);
  for (int64_t i = 0; i < n; ++i) d[i] = f2h(src[i]);
}
// F16 weights meet f32 activations (llama.cpp rounds them to f16 first). Activations are
// reused by every weight row, so keeping them f32 costs nothing but half the conversions in
// the SIMD kernels (which were bound by them), and the result is closer to exact.
float f16_vec_dot(int64_t n, const void* w, const void* a) {
  const uint16_t* x = static_cast<const uint16_t*>(w);
  const float* y = static_cast<const float*>(a);
  double sum = 0.0;
  for (int64_t i = 0; i < n; ++i) sum += double(h2f(x[i])) * double(y[i]);
  return float(sum);
}

void bf16_to_float(const void* src, float* dst, int64_t n) {
  const uint16_t* s = static_cast<const uint16_t*>(src);
  for (int64_t i = 0; i < n; ++i) dst[i] = bf16_to_fp32(s[i]);
}
void bf16_from_float(const float* src, void* dst, int64_t n) {
  uint16_t* d = static_cast<uint16_t*>(dst);
  for (int64_t i = 0; i < n; ++i) d[i] = fp32_to_bf16(src[i]);
}
float bf16_vec_dot(int64_t n, const void* w, const void* a) {
  const uint16_t* x = static_cast<const uint16_t*>(w);
  const uint16_t* y = static_cast<const uint16_t*>(a);
  double sum = 0.0;
  for (int64_t i = 0; i < n; ++i) sum += double(bf16_to_fp32(x[i])) * double(bf16_to_fp32(y[i]));
  return float(sum);
}

// ---- Q4_0 ----------------------------------------------------------------------------------

void q4_0_to_float(const void* src, float* y, int64_t n) {
  const BlockQ4_0* b = static_cast<const BlockQ4_0*>(src);
  for (int64_t i = 0; i < n / kQK4_0; ++i, y += kQK4_0) {
    const float d = h2f(b[i].d);
    for (int j = 0; j < 16; ++j) {
      y[j] = float((b[i].qs[j] & 0x0f) - 8) * d;
      y[j + 16] = float((b[i].qs[j] >> 4) - 8) * d;
    }
  }
}

// The value of largest magnitude `max` (signed) lands on level 0: d = max / -8,
// q = min(15, int(x / d + 8.5)) (truncation; x / d + 8.5 >= 0).
void q4_0_from_float(const float* x, void* dst, int64_t n) {
  BlockQ4_0* b = static_cast<BlockQ4_0*>(dst);
  for (int64_t i = 0; i < n / kQK4_0; ++i, x += kQK4_0) {
    const float d = signed_absmax(x, kQK4_0) / -8.0f;
    const float id = d != 0.0f ? 1.0f / d : 0.0f;
    b[i].d = f2h(d);
    for (int j = 0; j < 16; ++j) {
      const int q0 = std::min(15, int(x[j] * id + 8.5f));
      const int q1 = std::min(15, int(x[j + 16] * id + 8.5f));
      b[i].qs[j] = uint8_t(q0 | (q1 << 4));
    }
  }
}

float q4_0_vec_dot(int64_t n, const void* w, const void* a) {
  const BlockQ4_0* x = static_cast<const BlockQ4_0*>(w);
  const BlockQ8_0* y = static_cast<const BlockQ8_0*>(a);
  float sum = 0.0f;
  for (int64_t i = 0; i < n / kQK4_0; ++i) {
    int isum = 0;
    for (int j = 0; j < 16; ++j) {
      isum += ((x[i].qs[j] & 0x0f) - 8) * y[i].qs[j];
      isum += ((x[i].qs[j] >> 4) - 8) * y[i].qs[j + 16];
    }
    sum += float(isum) * h2f(x[i].d) * h2f(y[i].d);
  }
  return sum;
}

// ---- Q4_1 ----------------------------------------------------------------------------------

void q4_1_to_float(const void* src, float* y, int64_t n) {
  const BlockQ4_1* b = static_cast<const BlockQ4_1*>(src);
  for (int64_t i = 0; i < n / kQK4_1; ++i, y += kQK4_1) {
    const float d = h2f(b[i].d), m = h2f(b[i].m);
    for (int j = 0; j < 16; ++j) {
      y[j] = float(b[i].qs[j] & 0x0f) * d + m;
      y[j + 16] = float(b[i].qs[j] >> 4) * d + m;
    }
  }
}

// m = min, d = (max - min) / 15, q = min(15, int((x - min) / d + 0.5)).
void q4_1_from_float(const float* x, void* dst, int64_t n) {
  BlockQ4_1* b = static_cast<BlockQ4_1*>(dst);
  for (int64_t i = 0; i < n / kQK4_1; ++i, x += kQK4_1) {
    const float min = *std::min_element(x, x + kQK4_1), max = *std::max_element(x, x + kQK4_1);
    const float d = (max - min) / 15.0f;
    const float id = d != 0.0f ? 1.0f / d : 0.0f;
    b[i].d = f2h(d);
    b[i].m = f2h(min);
    for (int j = 0; j < 16; ++j) {
      const int q0 = std::min(15, int((x[j] - min) * id + 0.5f));
      const int q1 = std::min(15, int((x[j + 16] - min) * id + 0.5f));
      b[i].qs[j] = uint8_t(q0 | (q1 << 4));
    }
  }
}

float q4_1_vec_dot(int64_t n, const void* w, const void* a) {
  const BlockQ4_1* x = static_cast<const BlockQ4_1*>(w);
  const BlockQ8_1* y = static_cast<const BlockQ8_1*>(a);
  float sum = 0.0f;
  for (int64_t i = 0; i < n / kQK4_1; ++i) {
    int isum = 0;
    for (int j = 0; j < 16; ++j) {
      isum += (x[i].qs[j] & 0x0f) * y[i].qs[j];
      isum += (x[i].qs[j] >> 4) * y[i].qs[j + 16];
    }
    // sum_j (q_j d + m) a_j = d da isum + m (da sum_j qa_j) = ... + m s
    sum += float(isum) * h2f(x[i].d) * h2f(y[i].d) + h2f(x[i].m) * h2f(y[i].s);
  }
  return sum;
}

// ---- Q5_0 ----------------------------------------------------------------------------------

void q5_0_to_float(const void* src, float* y, int64_t n) {
  const BlockQ5_0* b = static_cast<const BlockQ5_0*>(src);
  for (int64_t i = 0; i < n / kQK5_0; ++i, y += kQK5_0) {
    const float d = h2f(b[i].d);
    const uint32_t qh = load_qh(b[i].qh);
    for (int j = 0; j < 16; ++j) {
      const int h0 = int((qh >> j) & 1) << 4, h1 = int((qh >> (j + 16)) & 1) << 4;
      y[j] = float(((b[i].qs[j] & 0x0f) | h0) - 16) * d;
      y[j + 16] = float(((b[i].qs[j] >> 4) | h1) - 16) * d;
    }
  }
}

// As Q4_0 with 32 levels: d = max / -16, q = min(31, int(x / d + 16.5)).
void q5_0_from_float(const float* x, void* dst, int64_t n) {
  BlockQ5_0* b = static_cast<BlockQ5_0*>(dst);
  for (int64_t i = 0; i < n / kQK5_0; ++i, x += kQK5_0) {
    const float d = signed_absmax(x, kQK5_0) / -16.0f;
    const float id = d != 0.0f ? 1.0f / d : 0.0f;
    b[i].d = f2h(d);
    uint32_t qh = 0;
    for (int j = 0; j < 16; ++j) {
      const int q0 = std::min(31, int(x[j] * id + 16.5f));
      const int q1 = std::min(31, int(x[j + 16] * id + 16.5f));
      b[i].qs[j] = uint8_t((q0 & 0x0f) | ((q1 & 0x0f) << 4));
      qh |= uint32_t(q0 >> 4) << j;
      qh |= uint32_t(q1 >> 4) << (j + 16);
    }
    std::memcpy(b[i].qh, &qh, 4);
  }
}

float q5_0_vec_dot(int64_t n, const void* w, const void* a) {
  const BlockQ5_0* x = static_cast<const BlockQ5_0*>(w);
  const BlockQ8_0* y = static_cast<const BlockQ8_0*>(a);
  float sum = 0.0f;
  for (int64_t i = 0; i < n / kQK5_0; ++i) {
    const uint32_t qh = load_qh(x[i].qh);
    int isum = 0;
    for (int j = 0; j < 16; ++j) {
      const int h0 = int((qh >> j) & 1) << 4, h1 = int((qh >> (j + 16)) & 1) << 4;
      isum += (((x[i].qs[j] & 0x0f) | h0) - 16) * y[i].qs[j];
      isum += (((x[i].qs[j] >> 4) | h1) - 16) * y[i].qs[j + 16];
    }
    sum += float(isum) * h2f(x[i].d) * h2f(y[i].d);
  }
  return sum;
}

// ---- Q5_1 ----------------------------------------------------------------------------------

void q5_1_to_float(const void* src, float* y, int64_t n) {
  const BlockQ5_1* b = static_cast<const BlockQ5_1*>(src);
  for (int64_t i = 0; i < n / kQK5_1; ++i, y += kQK5_1) {
    const float d = h2f(b[i].d), m = h2f(b[i].m);
    const uint32_t qh = load_qh(b[i].qh);
    for (int j = 0; j < 16; ++j) {
      const int h0 = int((qh >> j) & 1) << 4, h1 = int((qh >> (j + 16)) & 1) << 4;
      y[j] = float((b[i].qs[j] & 0x0f) | h0) * d + m;
      y[j + 16] = float((b[i].qs[j] >> 4) | h1) * d + m;
    }
  }
}

// As Q4_1 with 32 levels: d = (max - min) / 31, q = min(31, int((x - min) / d + 0.5)).
void q5_1_from_float(const float* x, void* dst, int64_t n) {
  BlockQ5_1* b = static_cast<BlockQ5_1*>(dst);
  for (int64_t i = 0; i < n / kQK5_1; ++i, x += kQK5_1) {
    const float min = *std::min_element(x, x + kQK5_1), max = *std::max_element(x, x + kQK5_1);
    const float d = (max - min) / 31.0f;
    const float id = d != 0.0f ? 1.0f / d : 0.0f;
    b[i].d = f2h(d);
    b[i].m = f2h(min);
    uint32_t qh = 0;
    for (int j = 0; j < 16; ++j) {
      const int q0 = std::min(31, int((x[j] - min) * id + 0.5f));
      const int q1 = std::min(31, int((x[j + 16] - min) * id + 0.5f));
      b[i].qs[j] = uint8_t((q0 & 0x0f) | ((q1 & 0x0f) << 4));
      qh |= uint32_t(q0 >> 4) << j;
      qh |= uint32_t(q1 >> 4) << (j + 16);
    }
    std::memcpy(b[i].qh, &qh, 4);
  }
}

float q5_1_vec_dot(int64_t n, const void* w, const void* a) {
  const BlockQ5_1* x = static_cast<const BlockQ5_1*>(w);
  const BlockQ8_1* y = static_cast<const BlockQ8_1*>(a);
  float sum = 0.0f;
  for (int64_t i = 0; i < n / kQK5_1; ++i) {
    const uint32_t qh = load_qh(x[i].qh);
    int isum = 0;
    for (int j = 0; j < 16; ++j) {
      const int h0 = int((qh >> j) & 1) << 4, h1 = int((qh >> (j + 16)) & 1) << 4;
      isum += ((x[i].qs[j] & 0x0f) | h0) * y[i].qs[j];
      isum += ((x[i].qs[j] >> 4) | h1) * y[i].qs[j + 16];
    }
    sum += float(isum) * h2f(x[i].d) * h2f(y[i].d) + h2f(x[i].m) * h2f(y[i].s);
  }
  return sum;
}

// ---- Q8_0 / Q8_1 ---------------------------------------------------------------------------

void q8_0_to_float(const void* src, float* y, int64_t n) {
  const BlockQ8_0* b = static_cast<const BlockQ8_0*>(src);
  for (int64_t i = 0; i < n / kQK8_0; ++i, y += kQK8_0) {
    const float d = h2f(b[i].d);
    for (int j = 0; j < kQK8_0; ++j) y[j] = float(b[i].qs[j]) * d;
  }
}

// x * (127 / amax) rounded: within [-127, 127] for finite input. NaN (activations of a damaged
// model) becomes 0 rather than an undefined conversion; Inf makes amax Inf and id 0, so NaN too.
inline int8_t round_to_i8(float v) { return v == v ? int8_t(std::round(v)) : int8_t(0); }

// d = amax / 127, q = round(x / d) (halves away from zero).
void q8_0_from_float(const float* x, void* dst, int64_t n) {
  BlockQ8_0* b = static_cast<BlockQ8_0*>(dst);
  for (int64_t i = 0; i < n / kQK8_0; ++i, x += kQK8_0) {
    float amax = 0.0f;
    for (int j = 0; j < kQK8_0; ++j) amax = std::max(amax, std::fabs(x[j]));
    const float d = amax / 127.0f;
    const float id = d != 0.0f ? 1.0f / d : 0.0f;
    b[i].d = f2h(d);
    for (int j = 0; j < kQK8_0; ++j) b[i].qs[j] = round_to_i8(x[j] * id);
  }
}

float q8_0_vec_dot(int64_t n, const void* w, const void* a) {
  const BlockQ8_0* x = static_cast<const BlockQ8_0*>(w);
  const BlockQ8_0* y = static_cast<const BlockQ8_0*>(a);
  float sum = 0.0f;
  for (int64_t i = 0; i < n / kQK8_0; ++i) {
    int isum = 0;
    for (int j = 0; j < kQK8_0; ++j) isum += x[i].qs[j] * y[i].qs[j];
    sum += float(isum) * h2f(x[i].d) * h2f(y[i].d);
  }
  return sum;
}

void q8_1_to_float(const void* src, float* y, int64_t n) {
  const BlockQ8_1* b = static_cast<const BlockQ8_1*>(src);
  for (int64_t i = 0; i < n / kQK8_1; ++i, y += kQK8_1) {
    const float d = h2f(b[i].d);
    for (int j = 0; j < kQK8_1; ++j) y[j] = float(b[i].qs[j]) * d;
  }
}

// As Q8_0, plus s = fp16(d * sum q) with the unrounded d.
void q8_1_from_float(const float* x, void* dst, int64_t n) {
  BlockQ8_1* b = static_cast<BlockQ8_1*>(dst);
  for (int64_t i = 0; i < n / kQK8_1; ++i, x += kQK8_1) {
    float amax = 0.0f;
    for (int j = 0; j < kQK8_1; ++j) amax = std::max(amax, std::fabs(x[j]));
    const float d = amax / 127.0f;
    const float id = d != 0.0f ? 1.0f / d : 0.0f;
    int sum = 0;
    for (int j = 0; j < kQK8_1; ++j) {
      b[i].qs[j] = round_to_i8(x[j] * id);
      sum += b[i].qs[j];
    }
    b[i].d = f2h(d);
    b[i].s = f2h(float(sum) * d);
  }
}

float q8_1_vec_dot(int64_t n, const void* w, const void* a) {
  const BlockQ8_1* x = static_cast<const BlockQ8_1*>(w);
  const BlockQ8_1* y = static_cast<const BlockQ8_1*>(a);
  float sum = 0.0f;
  for (int64_t i = 0; i < n / kQK8_1; ++i) {
    int isum = 0;
    for (int j = 0; j < kQK8_1; ++j) isum += x[i].qs[j] * y[i].qs[j];
    sum += float(isum) * h2f(x[i].d) * h2f(y[i].d);
  }
  return sum;
}

}  // namespace pm::generic
