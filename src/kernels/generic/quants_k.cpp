// Scalar reference kernels for the K-quants: 256-element super-blocks with quantized
// sub-block scales (Q2_K .. Q6_K) and their activation partner Q8_K.
//
// Each format has an `unpack_*` that turns one block into plain integers (quants and
// sub-block scales/mins) in element order; decoding and the dot products are written over
// those integers, so the bit layout lives in exactly one place per format.
#include <algorithm>
#include <cmath>
#include <cstring>

#include "core/fp16.h"
#include "kernels/generic/generic.h"

namespace pm::generic {
namespace {

inline float h2f(uint16_t h) { return fp16_to_fp32(h); }
inline uint16_t f2h(float f) { return fp32_to_fp16(f); }
inline int nearest_int(float v) { return int(std::lrintf(v)); }

// ---- bit layouts ----

// Q2_K: element e = 128*h + 32*j + l (h < 2, j < 4, l < 32) is bits 2j..2j+1 of qs[32h + l];
// its sub-block (16 elements) is e / 16 with scales[e/16]: low nibble scale, high nibble min.
void unpack_q2_k(const BlockQ2_K& b, uint8_t q[256], uint8_t sc[16], uint8_t mn[16]) {
  for (int e = 0; e < 256; ++e) {
    const int h = e / 128, j = (e % 128) / 32, l = e % 32;
    q[e] = uint8_t((b.qs[32 * h + l] >> (2 * j)) & 3);
  }
  for (int s = 0; s < 16; ++s) {
    sc[s] = b.scales[s] & 0x0f;
    mn[s] = b.scales[s] >> 4;
  }
}

// Q3_K: as Q2_K for the low two bits; the third bit of element e is bit (4h + j) of
// hmask[l]; a clear bit means 4 is subtracted (q in -4..3). 16 signed 6-bit scales:
// low nibbles in bytes 0..7 (scale s < 8: low nibble of byte s; s >= 8: high nibble of byte s - 8),
// top two bits at bits 2*(s/4) of byte 8 + s%4; stored + 32.
void unpack_q3_k(const BlockQ3_K& b, int8_t q[256], int8_t sc[16]) {
  for (int e = 0; e < 256; ++e) {
    const int h = e / 128, j = (e % 128) / 32, l = e % 32;
    const int low = (b.qs[32 * h + l] >> (2 * j)) & 3;
    const int high = (b.hmask[l] >> (4 * h + j)) & 1;
    q[e] = int8_t(low - (high ? 0 : 4));
  }
  for (int s = 0; s < 16; ++s) {
    const int low = s < 8 ? (b.scales[s] & 0x0f) : (b.scales[s - 8] >> 4);
    const int top = (b.scales[8 + s % 4] >> (2 * (s / 4))) & 3;
    sc[s] = int8_t((low | (top << 4)) - 32);
  }
}

// Q4_K / Q5_K: 8 6-bit scales and mins in 12 bytes. For s < 4: scale = byte s & 63,
// min = byte s+4 & 63. For s >= 4: scale = (byte s+4 & 15) | (byte s-4 >> 6) << 4,
// min = (byte s+4 >> 4) | (byte s >> 6) << 4.
void unpack_scale_min_k4(const uint8_t p[12], uint8_t sc[8], uint8_t mn[8]) {
  for (int s = 0; s < 8; ++s) {
    if (s < 4) {
      sc[s] = p[s] & 63;
      mn[s] = p[s + 4] & 63;
    } else {
      sc[s] = uint8_t((p[s + 4] & 0x0f) | ((p[s - 4] >> 6) << 4));
      mn[s] = uint8_t((p[s + 4] >> 4) | ((p[s] >> 6) << 4));
    }
  }
}

void pack_scale_min_k4(const uint8_t sc[8], const uint8_t mn[8], uint8_t p[12]) {
  std::memset(p, 0, 12);
  for (int s = 0; s < 8; ++s) {
    if (s < 4) {
      p[s] |= sc[s] & 63;
      p[s + 4] |= mn[s] & 63;
    } else {
      p[s + 4] = uint8_t((sc[s] & 0x0f) | ((mn[s] & 0x0f) << 4));
      p[s - 4] |= uint8_t((sc[s] >> 4) << 6);
      p[s] |= uint8_t((mn[s] >> 4) << 6);
    }
  }
}

// Q4_K: element e = 64*j + 32*k + l (j < 4, k < 2, l < 32) is nibble k of qs[32j + l];
// its sub-block (32 elements) is 2j + k.
void unpack_q4_k(const BlockQ4_K& b, uint8_t q[256], uint8_t sc[8], uint8_t mn[8]) {
  for (int e = 0; e < 256; ++e) {
    const int j = e / 64, k = (e % 64) / 32, l = e % 32;
    q[e] = uint8_t(k == 0 ? (b.qs[32 * j + l] & 0x0f) : (b.qs[32 * j + l] >> 4));
  }
  unpack_scale_min_k4(b.scales, sc, mn);
}

// Q5_K: as Q4_K plus the fifth bit of element e = 64j + 32k + l at bit (2j + k) of qh[l].
void unpack_q5_k(const BlockQ5_K& b, uint8_t q[256], uint8_t sc[8], uint8_t mn[8]) {
  for (int e = 0; e < 256; ++e) {
    const int j = e / 64, k = (e % 64) / 32, l = e % 32;
    const int low = k == 0 ? (b.qs[32 * j + l] & 0x0f) : (b.qs[32 * j + l] >> 4);
    const int high = (b.qh[l] >> (2 * j + k)) & 1;
    q[e] = uint8_t(low | (high << 4));
  }
  unpack_scale_min_k4(b.scales, sc, mn);
}

// Q6_K: element e = 128h + 32k + l (h < 2, k < 4, l < 32): low nibble from
// ql[64h + l + 32*(k&1)] (low nibble for k < 2, high for k >= 2), top two bits at bits 2k of
// qh[32h + l]; value q - 32. Sub-block (16 elements) e / 16 with int8 scales[e/16].
void unpack_q6_k(const BlockQ6_K& b, int8_t q[256]) {
  for (int e = 0; e < 256; ++e) {
    const int h = e / 128, k = (e % 128) / 32, l = e % 32;
    const uint8_t lbyte = b.ql[64 * h + l + 32 * (k & 1)];
    const int low = k < 2 ? (lbyte & 0x0f) : (lbyte >> 4);
    const int top = (b.qh[32 * h + l] >> (2 * k)) & 3;
    q[e] = int8_t((low | (top << 4)) - 32);
  }
}

// Q4_K and Q5_K differ only in how quants are unpacked: decoding and the dot product with
// Q8_K are shared. value = d * scale[s] * q - dmin * min[s] over 8 sub-blocks of 32.
template <typename Block, void (*Unpack)(const Block&, uint8_t*, uint8_t*, uint8_t*)>
void k4_like_to_float(const void* src, float* y, int64_t n) {
  const Block* b = static_cast<const Block*>(src);
  uint8_t q[256], sc[8], mn[8];
  for (int64_t i = 0; i < n / kQK_K; ++i, y += kQK_K) {
    Unpack(b[i], q, sc, mn);
    const float d = h2f(b[i].d), dmin = h2f(b[i].dmin);
    for (int e = 0; e < 256; ++e) {
      const float d1 = d * float(sc[e / 32]), m1 = dmin * float(mn[e / 32]);
      y[e] = d1 * float(q[e]) - m1;
    }
  }
}

template <typename Block, void (*Unpack)(const Block&, uint8_t*, uint8_t*, uint8_t*)>
float k4_like_vec_dot(int64_t n, const void* w, const void* a) {
  const Block* x = static_cast<const Block*>(w);
  const BlockQ8_K* y = static_cast<const BlockQ8_K*>(a);
  uint8_t q[256], sc[8], mn[8];
  float sum = 0.0f;
  for (int64_t i = 0; i < n / kQK_K; ++i) {
    Unpack(x[i], q, sc, mn);
    int scaled = 0, mins = 0;
    for (int s = 0; s < 8; ++s) {
      int isum = 0;
      for (int l = 0; l < 32; ++l) isum += int(q[32 * s + l]) * y[i].qs[32 * s + l];
      scaled += sc[s] * isum;
      mins += mn[s] * (y[i].bsums[2 * s] + y[i].bsums[2 * s + 1]);
    }
    sum += y[i].d * (h2f(x[i].d) * float(scaled) - h2f(x[i].dmin) * float(mins));
  }
  return sum;
}

// ---- quantization helpers ----

// Fits x[0..n) ~ scale * q - min with q in [0, qmax] and min >= 0 (zero always representable),
// trying a few scales around the range and keeping the least squared error.
void fit_scale_min(const float* x, int n, int qmax, float* scale, float* min) {
  float lo = 0.0f, hi = 0.0f;
  for (int i = 0; i < n; ++i) {
    lo = std::min(lo, x[i]);
    hi = std::max(hi, x[i]);
  }
  *min = -lo;
  if (hi - lo <= 0.0f) {
    *scale = 0.0f;
    return;
  }
  float best_err = INFINITY, best_scale = (hi - lo) / float(qmax);
  for (int step = -4; step <= 4; ++step) {
    const float s = (hi - lo) / (float(qmax) + 0.1f * float(step));
    float err = 0.0f;
    for (int i = 0; i < n; ++i) {
      const int q = std::clamp(nearest_int((x[i] - lo) / s), 0, qmax);
      const float d = s * float(q) + lo - x[i];
      err += d * d;
    }
    if (err < best_err) {
      best_err = err;
      best_scale = s;
    }
  }
  *scale = best_scale;
}

// Symmetric fit x ~ scale * q with q in [-qneg, qneg - 1] (the Q3_K / Q6_K shape): the value
// of largest magnitude maps to -qneg, as the 32-element formats do.
float fit_symmetric(const float* x, int n, int qneg) {
  float amax = 0.0f, max = 0.0f;
  for (int i = 0; i < n; ++i)
    if (std::fabs(x[i]) > amax) {
      amax = std::fabs(x[i]);
      max = x[i];
    }
  return max / -float(qneg);
}

}  // namespace

// ---- Q2_K ----------------------------------------------------------------------------------

void q2_k_to_float(const void* src, float* y, int64_t n) {
  const BlockQ2_K* b = static_cast<const BlockQ2_K*>(src);
  uint8_t q[256], sc[16], mn[16];
  for (int64_t i = 0; i < n / kQK_K; ++i, y += kQK_K) {
    unpack_q2_k(b[i], q, sc, mn);
    const float d = h2f(b[i].d), dmin = h2f(b[i].dmin);
    for (int e = 0; e < 256; ++e) {
      const float dl = d * float(sc[e / 16]), ml = dmin * float(mn[e / 16]);
      y[e] = dl * float(q[e]) - ml;
    }
  }
}

void q2_k_from_float(const float* x, void* dst, int64_t n) {
  BlockQ2_K* b = static_cast<BlockQ2_K*>(dst);
  for (int64_t i = 0; i < n / kQK_K; ++i, x += kQK_K) {
    float scale[16], min[16], max_scale = 0.0f, max_min = 0.0f;
    for (int s = 0; s < 16; ++s) {
      fit_scale_min(x + 16 * s, 16, 3, &scale[s], &min[s]);
      max_scale = std::max(max_scale, scale[s]);
      max_min = std::max(max_min, min[s]);
    }
    const float d = max_scale / 15.0f, dmin = max_min / 15.0f;
    b[i].d = f2h(d);
    b[i].dmin = f2h(dmin);
    const float dq = h2f(b[i].d), dminq = h2f(b[i].dmin);
    uint8_t ls[16], lm[16];
    for (int s = 0; s < 16; ++s) {
      ls[s] = uint8_t(dq > 0 ? std::clamp(nearest_int(scale[s] / dq), 0, 15) : 0);
      lm[s] = uint8_t(dminq > 0 ? std::clamp(nearest_int(min[s] / dminq), 0, 15) : 0);
      b[i].scales[s] = uint8_t(ls[s] | (lm[s] << 4));
    }
    std::memset(b[i].qs, 0, sizeof(b[i].qs));
    for (int e = 0; e < 256; ++e) {
      const float dl = dq * float(ls[e / 16]), ml = dminq * float(lm[e / 16]);
      const int q = dl > 0 ? std::clamp(nearest_int((x[e] + ml) / dl), 0, 3) : 0;
      const int h = e / 128, j = (e % 128) / 32, l = e % 32;
      b[i].qs[32 * h + l] |= uint8_t(q << (2 * j));
    }
  }
}

float q2_k_vec_dot(int64_t n, const void* w, const void* a) {
  const BlockQ2_K* x = static_cast<const BlockQ2_K*>(w);
  const BlockQ8_K* y = static_cast<const BlockQ8_K*>(a);
  uint8_t q[256], sc[16], mn[16];
  float sum = 0.0f;
  for (int64_t i = 0; i < n / kQK_K; ++i) {
    unpack_q2_k(x[i], q, sc, mn);
    int scaled = 0, mins = 0;
    for (int s = 0; s < 16; ++s) {
      int isum = 0;
      for (int l = 0; l < 16; ++l) isum += int(q[16 * s + l]) * y[i].qs[16 * s + l];
      scaled += sc[s] * isum;
      mins += mn[s] * y[i].bsums[s];
    }
    sum += y[i].d * (h2f(x[i].d) * float(scaled) - h2f(x[i].dmin) * float(mins));
  }
  return sum;
}

// ---- Q3_K ----------------------------------------------------------------------------------

void q3_k_to_float(const void* src, float* y, int64_t n) {
  const BlockQ3_K* b = static_cast<const BlockQ3_K*>(src);
  int8_t q[256], sc[16];
  for (int64_t i = 0; i < n / kQK_K; ++i, y += kQK_K) {
    unpack_q3_k(b[i], q, sc);
    const float d = h2f(b[i].d);
    for (int e = 0; e < 256; ++e) y[e] = (d * float(sc[e / 16])) * float(q[e]);
  }
}

void q3_k_from_float(const float* x, void* dst, int64_t n) {
  BlockQ3_K* b = static_cast<BlockQ3_K*>(dst);
  for (int64_t i = 0; i < n / kQK_K; ++i, x += kQK_K) {
    float scale[16], amax = 0.0f, max = 0.0f;
    for (int s = 0; s < 16; ++s) {
      scale[s] = fit_symmetric(x + 16 * s, 16, 4);
      if (std::fabs(scale[s]) > amax) {
        amax = std::fabs(scale[s]);
        max = scale[s];
      }
    }
    std::memset(b[i].scales, 0, sizeof(b[i].scales));
    std::memset(b[i].hmask, 0, sizeof(b[i].hmask));
    std::memset(b[i].qs, 0, sizeof(b[i].qs));
    const float d = max / -32.0f;  // the largest scale maps to -32
    b[i].d = f2h(d);
    const float dq = h2f(b[i].d);
    int ls[16];
    for (int s = 0; s < 16; ++s) {
      ls[s] = dq != 0 ? std::clamp(nearest_int(scale[s] / dq), -32, 31) : 0;
      const int l = ls[s] + 32;
      if (s < 8) b[i].scales[s] |= uint8_t(l & 0x0f);
      else b[i].scales[s - 8] |= uint8_t((l & 0x0f) << 4);
      b[i].scales[8 + s % 4] |= uint8_t((l >> 4) << (2 * (s / 4)));
    }
    for (int e = 0; e < 256; ++e) {
      const float dl = dq * float(ls[e / 16]);
      const int q = dl != 0 ? std::clamp(nearest_int(x[e] / dl), -4, 3) + 4 : 4;
      const int h = e / 128, j = (e % 128) / 32, l = e % 32;
      b[i].qs[32 * h + l] |= uint8_t((q & 3) << (2 * j));
      if (q >= 4) b[i].hmask[l] |= uint8_t(1 << (4 * h + j));
    }
  }
}

float q3_k_vec_dot(int64_t n, const void* w, const void* a) {
  const BlockQ3_K* x = static_cast<const BlockQ3_K*>(w);
  const BlockQ8_K* y = static_cast<const BlockQ8_K*>(a);
  int8_t q[256], sc[16];
  float sum = 0.0f;
  for (int64_t i = 0; i < n / kQK_K; ++i) {
    unpack_q3_k(x[i], q, sc);
    int scaled = 0;
    for (int s = 0; s < 16; ++s) {
      int isum = 0;
      for (int l = 0; l < 16; ++l) isum += q[16 * s + l] * y[i].qs[16 * s + l];
      scaled += sc[s] * isum;
    }
    sum += h2f(x[i].d) * y[i].d * float(scaled);
  }
  return sum;
}

// ---- Q4_K ----------------------------------------------------------------------------------

void q4_k_to_float(const void* src, float* y, int64_t n) { k4_like_to_float<BlockQ4_K, unpack_q4_k>(src, y, n); }

// Shared by Q4_K (qmax 15) and Q5_K (qmax 31): 8 sub-blocks of 32 with 6-bit scales and mins.
static void quantize_k4_like(const float* x, int qmax, uint16_t* d_out, uint16_t* dmin_out, uint8_t packed[12],
                             uint8_t q[256]) {
  float scale[8], min[8], max_scale = 0.0f, max_min = 0.0f;
  for (int s = 0; s < 8; ++s) {
    fit_scale_min(x + 32 * s, 32, qmax, &scale[s], &min[s]);
    max_scale = std::max(max_scale, scale[s]);
    max_min = std::max(max_min, min[s]);
  }
  *d_out = f2h(max_scale / 63.0f);
  *dmin_out = f2h(max_min / 63.0f);
  const float dq = h2f(*d_out), dminq = h2f(*dmin_out);
  uint8_t ls[8], lm[8];
  for (int s = 0; s < 8; ++s) {
    ls[s] = uint8_t(dq > 0 ? std::clamp(nearest_int(scale[s] / dq), 0, 63) : 0);
    lm[s] = uint8_t(dminq > 0 ? std::clamp(nearest_int(min[s] / dminq), 0, 63) : 0);
  }
  pack_scale_min_k4(ls, lm, packed);
  for (int e = 0; e < 256; ++e) {
    const float dl = dq * float(ls[e / 32]), ml = dminq * float(lm[e / 32]);
    q[e] = uint8_t(dl > 0 ? std::clamp(nearest_int((x[e] + ml) / dl), 0, qmax) : 0);
  }
}

void q4_k_from_float(const float* x, void* dst, int64_t n) {
  BlockQ4_K* b = static_cast<BlockQ4_K*>(dst);
  uint8_t q[256];
  for (int64_t i = 0; i < n / kQK_K; ++i, x += kQK_K) {
    quantize_k4_like(x, 15, &b[i].d, &b[i].dmin, b[i].scales, q);
    for (int j = 0; j < 4; ++j)
      for (int l = 0; l < 32; ++l) b[i].qs[32 * j + l] = uint8_t(q[64 * j + l] | (q[64 * j + 32 + l] << 4));
  }
}

float q4_k_vec_dot(int64_t n, const void* w, const void* a) { return k4_like_vec_dot<BlockQ4_K, unpack_q4_k>(n, w, a); }

// ---- Q5_K ----------------------------------------------------------------------------------

void q5_k_to_float(const void* src, float* y, int64_t n) { k4_like_to_float<BlockQ5_K, unpack_q5_k>(src, y, n); }

void q5_k_from_float(const float* x, void* dst, int64_t n) {
  BlockQ5_K* b = static_cast<BlockQ5_K*>(dst);
  uint8_t q[256];
  for (int64_t i = 0; i < n / kQK_K; ++i, x += kQK_K) {
    quantize_k4_like(x, 31, &b[i].d, &b[i].dmin, b[i].scales, q);
    std::memset(b[i].qh, 0, sizeof(b[i].qh));
    for (int j = 0; j < 4; ++j)
      for (int l = 0; l < 32; ++l) {
        const uint8_t q0 = q[64 * j + l], q1 = q[64 * j + 32 + l];
        b[i].qs[32 * j + l] = uint8_t((q0 & 0x0f) | ((q1 & 0x0f) << 4));
        b[i].qh[l] |= uint8_t(((q0 >> 4) << (2 * j)) | ((q1 >> 4) << (2 * j + 1)));
      }
  }
}

float q5_k_vec_dot(int64_t n, const void* w, const void* a) { return k4_like_vec_dot<BlockQ5_K, unpack_q5_k>(n, w, a); }

// ---- Q6_K ----------------------------------------------------------------------------------

void q6_k_to_float(const void* src, float* y, int64_t n) {
  const BlockQ6_K* b = static_cast<const BlockQ6_K*>(src);
  int8_t q[256];
  for (int64_t i = 0; i < n / kQK_K; ++i, y += kQK_K) {
    unpack_q6_k(b[i], q);
    const float d = h2f(b[i].d);
    for (int e = 0; e < 256; ++e) y[e] = (d * float(b[i].scales[e / 16])) * float(q[e]);
  }
}

void q6_k_from_float(const float* x, void* dst, int64_t n) {
  BlockQ6_K* b = static_cast<BlockQ6_K*>(dst);
  for (int64_t i = 0; i < n / kQK_K; ++i, x += kQK_K) {
    float scale[16], amax = 0.0f, max = 0.0f;
    for (int s = 0; s < 16; ++s) {
      scale[s] = fit_symmetric(x + 16 * s, 16, 32);
      if (std::fabs(scale[s]) > amax) {
        amax = std::fabs(scale[s]);
        max = scale[s];
      }
    }
    const float d = max / -128.0f;
    b[i].d = f2h(d);
    const float dq = h2f(b[i].d);
    std::memset(b[i].ql, 0, sizeof(b[i].ql));
    std::memset(b[i].qh, 0, sizeof(b[i].qh));
    for (int s = 0; s < 16; ++s) b[i].scales[s] = int8_t(dq != 0 ? std::clamp(nearest_int(scale[s] / dq), -128, 127) : 0);
    for (int e = 0; e < 256; ++e) {
      const float dl = dq * float(b[i].scales[e / 16]);
      const int q = (dl != 0 ? std::clamp(nearest_int(x[e] / dl), -32, 31) : 0) + 32;
      const int h = e / 128, k = (e % 128) / 32, l = e % 32;
      uint8_t& lbyte = b[i].ql[64 * h + l + 32 * (k & 1)];
      lbyte |= uint8_t(k < 2 ? (q & 0x0f) : ((q & 0x0f) << 4));
      b[i].qh[32 * h + l] |= uint8_t((q >> 4) << (2 * k));
    }
  }
}

float q6_k_vec_dot(int64_t n, const void* w, const void* a) {
  const BlockQ6_K* x = static_cast<const BlockQ6_K*>(w);
  const BlockQ8_K* y = static_cast<const BlockQ8_K*>(a);
  int8_t q[256];
  float sum = 0.0f;
  for (int64_t i = 0; i < n / kQK_K; ++i) {
    unpack_q6_k(x[i], q);
    int scaled = 0;
    for (int s = 0; s < 16; ++s) {
      int isum = 0;
      for (int l = 0; l < 16; ++l) isum += q[16 * s + l] * y[i].qs[16 * s + l];
      scaled += x[i].scales[s] * isum;
    }
    sum += h2f(x[i].d) * y[i].d * float(scaled);
  }
  return sum;
}

// ---- Q8_K (activations) ---------------------------------------------------------------------

void q8_k_to_float(const void* src, float* y, int64_t n) {
  const BlockQ8_K* b = static_cast<const BlockQ8_K*>(src);
  for (int64_t i = 0; i < n / kQK_K; ++i, y += kQK_K)
    for (int e = 0; e < 256; ++e) y[e] = b[i].d * float(b[i].qs[e]);
}

void q8_k_from_float(const float* x, void* dst, int64_t n) {
  BlockQ8_K* b = static_cast<BlockQ8_K*>(dst);
  for (int64_t i = 0; i < n / kQK_K; ++i, x += kQK_K) {
    float amax = 0.0f, max = 0.0f;
    for (int e = 0; e < 256; ++e)
      if (std::fabs(x[e]) > amax) {
        amax = std::fabs(x[e]);
        max = x[e];
      }
    if (amax == 0.0f) {
      b[i].d = 0.0f;
      std::memset(b[i].qs, 0, sizeof(b[i].qs));
      std::memset(b[i].bsums, 0, sizeof(b[i].bsums));
      continue;
    }
    const float iscale = -127.0f / max;
    for (int e = 0; e < 256; ++e) b[i].qs[e] = int8_t(std::min(127, nearest_int(iscale * x[e])));
    for (int s = 0; s < 16; ++s) {
      int sum = 0;
      for (int l = 0; l < 16; ++l) sum += b[i].qs[16 * s + l];
      b[i].bsums[s] = int16_t(sum);
    }
    b[i].d = 1.0f / iscale;
  }
}

float q8_k_vec_dot(int64_t n, const void* w, const void* a) {
  const BlockQ8_K* x = static_cast<const BlockQ8_K*>(w);
  const BlockQ8_K* y = static_cast<const BlockQ8_K*>(a);
  float sum = 0.0f;
  for (int64_t i = 0; i < n / kQK_K; ++i) {
    int isum = 0;
    for (int e = 0; e < 256; ++e) isum += x[i].qs[e] * y[i].qs[e];
    sum += x[i].d * y[i].d * float(isum);
  }
  return sum;
}

}  // namespace pm::generic
