// Scalar reference kernels for the K-quants: 256-element super-blocks with quantized
// sub-block scales (Q2_K .. Q6_K) and their activation partner Q8_K.
//
// Each format has an `unpack_*` that turns one block into plain integers (quants and
// sub-block scales/mins) in element order, and a `pack_*` that does the reverse; decoding,
// dot products and quantization are written over those integers, so the bit layout of each
// format lives in exactly one place (the pair below, next to its description).
//
// Dot products with Q8_K work in integers inside a super-block and scale once per block, as
// the SIMD versions will; the mins of Q2_K / Q4_K / Q5_K are applied through Q8_K's bsums.
#include <algorithm>
#include <cmath>
#include <cstring>

#include "core/fp16.h"
#include "kernels/generic/generic.h"

namespace pm::generic {
namespace {

inline float h2f(uint16_t h) { return fp16_to_fp32(h); }
inline uint16_t f2h(float f) { return fp32_to_fp16(f); }
// Round half to even (the default FP rounding mode), as llama.cpp's Q8_K rounding does.
inline int nearest_int(float v) { return int(std::lrintf(v)); }

// fp16 of v, rounded away from zero where rounding to nearest would make it smaller: a
// super-block scale d stored this way keeps (largest sub-block scale) / d within the code
// range. It matters where d is an fp16 subnormal (tensors with values below ~1e-3), whose
// rounding can be tens of percent.
uint16_t fp16_not_below(float v) {
  uint16_t h = f2h(v);
  if (std::fabs(h2f(h)) < std::fabs(v) && (h & 0x7fff) < 0x7bff) ++h;  // next magnitude up, same sign
  return h;
}

// ---- bit layouts ---------------------------------------------------------------------------

// Q2_K: element e = 128h + 32j + l (h < 2, j < 4, l < 32) is bits 2j..2j+1 of qs[32h + l];
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

// q in 0..3, sc and mn in 0..15; d and dmin are the caller's.
void pack_q2_k(const uint8_t q[256], const uint8_t sc[16], const uint8_t mn[16], BlockQ2_K& b) {
  std::memset(b.qs, 0, sizeof(b.qs));
  for (int e = 0; e < 256; ++e) {
    const int h = e / 128, j = (e % 128) / 32, l = e % 32;
    b.qs[32 * h + l] |= uint8_t(q[e] << (2 * j));
  }
  for (int s = 0; s < 16; ++s) b.scales[s] = uint8_t(sc[s] | (mn[s] << 4));
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

// q in -4..3, sc in -32..31; d is the caller's.
void pack_q3_k(const int8_t q[256], const int8_t sc[16], BlockQ3_K& b) {
  std::memset(b.hmask, 0, sizeof(b.hmask));
  std::memset(b.qs, 0, sizeof(b.qs));
  std::memset(b.scales, 0, sizeof(b.scales));
  for (int e = 0; e < 256; ++e) {
    const int h = e / 128, j = (e % 128) / 32, l = e % 32;
    const int u = q[e] + 4;  // 0..7: bit 2 is the hmask bit
    b.qs[32 * h + l] |= uint8_t((u & 3) << (2 * j));
    if (u & 4) b.hmask[l] |= uint8_t(1 << (4 * h + j));
  }
  for (int s = 0; s < 16; ++s) {
    const int u = sc[s] + 32;  // 0..63
    if (s < 8) b.scales[s] |= uint8_t(u & 0x0f);
    else b.scales[s - 8] |= uint8_t((u & 0x0f) << 4);
    b.scales[8 + s % 4] |= uint8_t((u >> 4) << (2 * (s / 4)));
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

// Q4_K: element e = 64j + 32k + l (j < 4, k < 2, l < 32) is nibble k of qs[32j + l];
// its sub-block (32 elements) is 2j + k.
void unpack_q4_k(const BlockQ4_K& b, uint8_t q[256], uint8_t sc[8], uint8_t mn[8]) {
  for (int e = 0; e < 256; ++e) {
    const int j = e / 64, k = (e % 64) / 32, l = e % 32;
    q[e] = uint8_t(k == 0 ? (b.qs[32 * j + l] & 0x0f) : (b.qs[32 * j + l] >> 4));
  }
  unpack_scale_min_k4(b.scales, sc, mn);
}

// q in 0..15, sc and mn in 0..63; d and dmin are the caller's.
void pack_q4_k(const uint8_t q[256], const uint8_t sc[8], const uint8_t mn[8], BlockQ4_K& b) {
  for (int j = 0; j < 4; ++j)
    for (int l = 0; l < 32; ++l) b.qs[32 * j + l] = uint8_t(q[64 * j + l] | (q[64 * j + 32 + l] << 4));
  pack_scale_min_k4(sc, mn, b.scales);
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

// q in 0..31, sc and mn in 0..63; d and dmin are the caller's.
void pack_q5_k(const uint8_t q[256], const uint8_t sc[8], const uint8_t mn[8], BlockQ5_K& b) {
  std::memset(b.qh, 0, sizeof(b.qh));
  for (int e = 0; e < 256; ++e) {
    const int j = e / 64, k = (e % 64) / 32, l = e % 32;
    if (k == 0) b.qs[32 * j + l] = uint8_t(q[e] & 0x0f);
    else b.qs[32 * j + l] |= uint8_t((q[e] & 0x0f) << 4);
    b.qh[l] |= uint8_t((q[e] >> 4) << (2 * j + k));
  }
  pack_scale_min_k4(sc, mn, b.scales);
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

// q in -32..31; scales and d are the caller's.
void pack_q6_k(const int8_t q[256], BlockQ6_K& b) {
  std::memset(b.ql, 0, sizeof(b.ql));
  std::memset(b.qh, 0, sizeof(b.qh));
  for (int e = 0; e < 256; ++e) {
    const int h = e / 128, k = (e % 128) / 32, l = e % 32;
    const int u = q[e] + 32;  // 0..63
    b.ql[64 * h + l + 32 * (k & 1)] |= uint8_t(k < 2 ? (u & 0x0f) : ((u & 0x0f) << 4));
    b.qh[32 * h + l] |= uint8_t((u >> 4) << (2 * k));
  }
}

// ---- shared decode / dot of Q4_K and Q5_K --------------------------------------------------

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

// ---- quantization: fitting grids -----------------------------------------------------------
//
// Every K-quant puts a sub-block of values on a uniform grid, x ~ scale * q + offset with an
// integer q in [qlo, qhi]; for a fixed grid the nearest level (clamped) is the best q, so the
// quality lies in choosing the grid. fit_affine / fit_symmetric try a spread of candidate
// scales and, for each, alternate "nearest levels" with "least-squares refit of the grid to
// those levels", keeping the grid with the least squared error. A super-block then stores its
// sub-blocks' scales (and mins) as small integer codes times one fp16 scale; every sub-block
// picks, among the codes next to its ideal ones, those whose grid gives the least error.

struct Grid {
  float scale = 0.0f;
  float offset = 0.0f;  // <= 0 for the formats with mins (offset = -dmin * min)
};

// Nearest level of x on the grid, clamped to [qlo, qhi]. Halves round up. Written without a
// libm call: a search evaluates it about a hundred times per weight. NaN lands on qlo.
inline int nearest_level(float x, const Grid& g, float inv_scale, int qlo, int qhi) {
  float t = (x - g.offset) * inv_scale;
  t = t > float(qlo) ? t : float(qlo);
  t = t < float(qhi) ? t : float(qhi);
  return qlo + int(t - float(qlo) + 0.5f);  // t - qlo >= 0: truncation is floor
}

inline float inverse(float scale) { return scale != 0.0f ? 1.0f / scale : 0.0f; }

// Nearest levels of x[0..n) on the grid (with a zero scale every level decodes to the offset;
// the level nearest 0 is written).
void assign_levels(const float* x, int n, const Grid& g, int qlo, int qhi, int* q) {
  const float inv = inverse(g.scale);
  for (int i = 0; i < n; ++i) q[i] = nearest_level(x[i], g, inv, qlo, qhi);
}

// Squared error of x[0..n) on the grid, with nearest levels. The value is computed as the
// decoders compute it (scale * q + offset, both already rounded to what the block stores).
float grid_error(const float* x, int n, const Grid& g, int qlo, int qhi) {
  const float inv = inverse(g.scale);
  float err = 0.0f;
  for (int i = 0; i < n; ++i) {
    const float e = g.scale * float(nearest_level(x[i], g, inv, qlo, qhi)) + g.offset - x[i];
    err += e * e;
  }
  return err;
}

// One round of "nearest levels, then the least-squares grid for those levels": minimizes
// sum (scale * q + offset - x)^2 over the grid. With `with_offset` the offset is fitted too,
// constrained to <= 0 and the scale to > 0 (formats with unsigned mins); otherwise offset = 0
// and the scale may take either sign. Returns g unchanged when the levels determine no grid.
Grid refit_grid(const float* x, int n, const Grid& g, int qlo, int qhi, bool with_offset) {
  const float inv = inverse(g.scale);
  double sq = 0, sqq = 0, sx = 0, sqx = 0;
  for (int i = 0; i < n; ++i) {
    const double q = nearest_level(x[i], g, inv, qlo, qhi);
    sq += q;
    sqq += q * q;
    sx += x[i];
    sqx += q * x[i];
  }
  if (with_offset) {
    const double det = double(n) * sqq - sq * sq;
    if (det > 0) {
      const double scale = (double(n) * sqx - sq * sx) / det;
      const double offset = (sx - scale * sq) / double(n);
      if (offset <= 0 && scale > 0) return {float(scale), float(offset)};
    }
    // The best unconstrained offset is positive: the constrained optimum has offset 0.
    if (sqq > 0 && sqx > 0) return {float(sqx / sqq), 0.0f};
    return g;
  }
  if (sqq > 0 && sqx != 0) return {float(sqx / sqq), 0.0f};
  return g;
}

// The candidate grids of a search: the range end moves in steps of 1/kStepsPerLevel of a
// level; each candidate gets kRefits rounds of refit_grid. Measured on normal data: 10 steps
// and 2 rounds (or trying codes +-2 instead of +-1 below) lower the error by under 1% for
// 2-3x the time; the search as set costs ~50-100 ns a weight (Q6_K/Q3_K the slowest).
constexpr int kStepsPerLevel = 5;
constexpr int kRefits = 1;

// Grid for x ~ scale * q + offset, q in [0, qmax], scale >= 0, offset <= 0 (Q2_K, Q4_K,
// Q5_K). Candidates spread the range [min(x, 0), max(x)] over qmax - 1 .. qmax + 1 levels.
Grid fit_affine(const float* x, int n, int qmax) {
  float lo = 0.0f, hi = x[0];
  for (int i = 0; i < n; ++i) {
    lo = std::min(lo, x[i]);
    hi = std::max(hi, x[i]);
  }
  if (!(hi > lo)) return {0.0f, lo};  // constant (or all <= 0 and equal): the offset says it
  Grid best{(hi - lo) / float(qmax), lo};
  float best_err = grid_error(x, n, best, 0, qmax);
  for (int k = -kStepsPerLevel; k <= kStepsPerLevel; ++k) {
    Grid g{(hi - lo) / (float(qmax) + float(k) / kStepsPerLevel), lo};
    for (int r = 0; r < kRefits; ++r) g = refit_grid(x, n, g, 0, qmax, true);
    const float err = grid_error(x, n, g, 0, qmax);
    if (err < best_err) {
      best_err = err;
      best = g;
    }
  }
  return best;
}

// Grid for x ~ scale * q, q in [qlo, qhi] with qlo = -qhi - 1 (Q3_K, Q6_K). The value of
// largest magnitude is tried near the long end (qlo) and, with the sign flipped, near the short
// end (qhi) of the range, from half a level outside it to a level and a half inside.
Grid fit_symmetric(const float* x, int n, int qlo, int qhi) {
  float amax = 0.0f, max = 0.0f;
  for (int i = 0; i < n; ++i)
    if (std::fabs(x[i]) > amax) {
      amax = std::fabs(x[i]);
      max = x[i];
    }
  if (amax == 0.0f) return {};
  Grid best{max / float(qlo), 0.0f};
  float best_err = grid_error(x, n, best, qlo, qhi);
  for (int end : {qlo, qhi}) {
    const float inward = end < 0 ? 1.0f : -1.0f;
    for (int k = -kStepsPerLevel / 2; k <= 3 * kStepsPerLevel / 2; ++k) {
      Grid g{max / (float(end) + inward * float(k) / kStepsPerLevel), 0.0f};
      for (int r = 0; r < kRefits; ++r) g = refit_grid(x, n, g, qlo, qhi, false);
      const float err = grid_error(x, n, g, qlo, qhi);
      if (err < best_err) {
        best_err = err;
        best = g;
      }
    }
  }
  return best;
}

// One super-block of a format with mins (Q2_K, Q4_K, Q5_K): n_sub sub-blocks of sub_len
// values, quants 0..qmax, scale and min codes 0..code_max times the fp16 d and dmin.
struct AffineSuperBlock {
  uint16_t d = 0, dmin = 0;
  uint8_t sc[16] = {}, mn[16] = {};  // [n_sub]
  uint8_t q[256] = {};               // [256], element order
};

AffineSuperBlock quantize_affine(const float* x, int n_sub, int sub_len, int qmax, int code_max) {
  AffineSuperBlock out;
  Grid grids[16];
  float max_scale = 0.0f, max_min = 0.0f;
  for (int s = 0; s < n_sub; ++s) {
    grids[s] = fit_affine(x + s * sub_len, sub_len, qmax);
    max_scale = std::max(max_scale, grids[s].scale);
    max_min = std::max(max_min, -grids[s].offset);
  }
  out.d = fp16_not_below(max_scale / float(code_max));
  out.dmin = fp16_not_below(max_min / float(code_max));
  const float d = h2f(out.d), dmin = h2f(out.dmin);
  int q[32];
  for (int s = 0; s < n_sub; ++s) {
    const float* xs = x + s * sub_len;
    const int sc0 = d > 0 ? nearest_int(grids[s].scale / d) : 0;
    const int mn0 = dmin > 0 ? nearest_int(-grids[s].offset / dmin) : 0;
    float best_err = INFINITY;
    Grid best;
    for (int sc = std::max(sc0 - 1, 0); sc <= std::min(sc0 + 1, code_max); ++sc)
      for (int mn = std::max(mn0 - 1, 0); mn <= std::min(mn0 + 1, code_max); ++mn) {
        // Exactly the decoder's values: (d * sc) * q - (dmin * mn).
        const Grid g{d * float(sc), -(dmin * float(mn))};
        const float err = grid_error(xs, sub_len, g, 0, qmax);
        if (err < best_err) {
          best_err = err;
          best = g;
          out.sc[s] = uint8_t(sc);
          out.mn[s] = uint8_t(mn);
        }
      }
    assign_levels(xs, sub_len, best, 0, qmax, q);
    for (int l = 0; l < sub_len; ++l) out.q[s * sub_len + l] = uint8_t(q[l]);
  }
  return out;
}

// One super-block of a symmetric format (Q3_K, Q6_K): 16 sub-blocks of 16, quants qlo..qhi,
// signed scale codes code_lo..code_hi (code_lo = -code_hi - 1) times the fp16 d.
struct SymmetricSuperBlock {
  uint16_t d = 0;
  int8_t sc[16] = {};  // [16]
  int8_t q[256] = {};  // [256], element order
};

SymmetricSuperBlock quantize_symmetric(const float* x, int qlo, int qhi, int code_lo, int code_hi) {
  SymmetricSuperBlock out;
  Grid grids[16];
  float amax = 0.0f, max = 0.0f;
  for (int s = 0; s < 16; ++s) {
    grids[s] = fit_symmetric(x + 16 * s, 16, qlo, qhi);
    if (std::fabs(grids[s].scale) > amax) {
      amax = std::fabs(grids[s].scale);
      max = grids[s].scale;
    }
  }
  out.d = fp16_not_below(max / float(code_lo));  // the largest scale gets the code of largest magnitude
  const float d = h2f(out.d);
  int q[16];
  for (int s = 0; s < 16; ++s) {
    const float* xs = x + 16 * s;
    const int sc0 = d != 0 ? nearest_int(grids[s].scale / d) : 0;
    float best_err = INFINITY;
    Grid best;
    for (int sc = std::max(sc0 - 1, code_lo); sc <= std::min(sc0 + 1, code_hi); ++sc) {
      const Grid g{d * float(sc), 0.0f};
      const float err = grid_error(xs, 16, g, qlo, qhi);
      if (err < best_err) {
        best_err = err;
        best = g;
        out.sc[s] = int8_t(sc);
      }
    }
    assign_levels(xs, 16, best, qlo, qhi, q);
    for (int l = 0; l < 16; ++l) out.q[16 * s + l] = int8_t(q[l]);
  }
  return out;
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
    const AffineSuperBlock sb = quantize_affine(x, 16, 16, 3, 15);
    b[i].d = sb.d;
    b[i].dmin = sb.dmin;
    pack_q2_k(sb.q, sb.sc, sb.mn, b[i]);
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
    const SymmetricSuperBlock sb = quantize_symmetric(x, -4, 3, -32, 31);
    b[i].d = sb.d;
    pack_q3_k(sb.q, sb.sc, b[i]);
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

void q4_k_from_float(const float* x, void* dst, int64_t n) {
  BlockQ4_K* b = static_cast<BlockQ4_K*>(dst);
  for (int64_t i = 0; i < n / kQK_K; ++i, x += kQK_K) {
    const AffineSuperBlock sb = quantize_affine(x, 8, 32, 15, 63);
    b[i].d = sb.d;
    b[i].dmin = sb.dmin;
    pack_q4_k(sb.q, sb.sc, sb.mn, b[i]);
  }
}

float q4_k_vec_dot(int64_t n, const void* w, const void* a) { return k4_like_vec_dot<BlockQ4_K, unpack_q4_k>(n, w, a); }

// ---- Q5_K ----------------------------------------------------------------------------------

void q5_k_to_float(const void* src, float* y, int64_t n) { k4_like_to_float<BlockQ5_K, unpack_q5_k>(src, y, n); }

void q5_k_from_float(const float* x, void* dst, int64_t n) {
  BlockQ5_K* b = static_cast<BlockQ5_K*>(dst);
  for (int64_t i = 0; i < n / kQK_K; ++i, x += kQK_K) {
    const AffineSuperBlock sb = quantize_affine(x, 8, 32, 31, 63);
    b[i].d = sb.d;
    b[i].dmin = sb.dmin;
    pack_q5_k(sb.q, sb.sc, sb.mn, b[i]);
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
    const SymmetricSuperBlock sb = quantize_symmetric(x, -32, 31, -128, 127);
    b[i].d = sb.d;
    std::memcpy(b[i].scales, sb.sc, sizeof(b[i].scales));
    pack_q6_k(sb.q, b[i]);
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

// llama.cpp's convention: the value of largest magnitude `max` (signed) maps to -127, i.e.
// iscale = -127 / max, q = nearest(iscale * x) capped at 127 (a guard against rounding),
// d = 1 / iscale; bsums[i] = sum of qs[16 i .. 16 i + 15].
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
