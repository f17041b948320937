// Block decoders and integer dot-product kernels shared by the ARM tables (neon.cpp,
// dotprod.cpp, i8mm.cpp). Everything here has internal linkage (an unnamed namespace), so each
// of those files compiles its own copy with its own -march: no function built for a wider ISA
// can be picked by the linker for a CPU without it. Only <arm_neon.h> and the layout header are
// included, for the same reason.
//
// Every weight format has a decoder that turns 16 consecutive elements of a block ("chunk" c:
// elements 16c .. 16c + 15) into int8 lanes, so the bit layouts of kernels/generic/quants*.cpp
// are written once here, for vec_dot and vec_dot_2x2 alike. The kernels are templates over a
// `Dot` policy: Dot::acc(acc, w, a) adds the 16 products w[j] * a[j] into the four int32 lanes
// of acc (which lane gets which product is the policy's business; callers only use the sum of
// the lanes). NEON does it with widening multiplies (neon.cpp), dotprod with SDOT (dotprod.cpp).
// The two-by-two forms are templates over a `Tile` (four Dot accumulators here, SMMLA in
// i8mm.cpp).
//
// As in the reference, each (sub-)block is summed in int32 and scaled once in float, with the
// reference's float operations in the reference's order: every vec_dot and vec_dot_2x2 here
// returns the reference's bits. Weights may hold any byte (int8 -128 in Q8_0 / Q8_K);
// activations come from from_float (-127..127).
#pragma once

#if defined(__aarch64__)
#include <arm_neon.h>

#include <cstdint>
#include <cstring>

#include "kernels/ggml_types.h"

namespace pm::arm {
namespace {

// ---- small helpers --------------------------------------------------------------------------

inline int8x16_t as_s8(uint8x16_t v) { return vreinterpretq_s8_u8(v); }

// Shifts every byte left by `n` (right by -n when n < 0); n need not be a constant.
inline uint8x16_t shift_bytes(uint8x16_t v, int n) { return vshlq_u8(v, vdupq_n_s8(int8_t(n))); }

inline float fp16_to_f32(uint16_t h) { return vgetq_lane_f32(vcvt_f32_f16(vreinterpret_f16_u16(vdup_n_u16(h))), 0); }

inline float32x4_t fp16x4_to_f32(uint16_t h0, uint16_t h1, uint16_t h2, uint16_t h3) {
  const uint16_t h[4] = {h0, h1, h2, h3};
  return vcvt_f32_f16(vreinterpret_f16_u16(vld1_u16(h)));
}

// Byte j of the result is 0x10 where bit j of `bits` is set (j < 16): the 5th bits of Q5_0/Q5_1.
inline uint8x16_t bits_to_0x10(uint32_t bits) {
  const uint8x16_t bytes = vcombine_u8(vdup_n_u8(uint8_t(bits)), vdup_n_u8(uint8_t(bits >> 8)));
  const uint8x16_t select = vreinterpretq_u8_u64(vdupq_n_u64(0x8040201008040201ull));  // 1, 2, 4, .. 128
  return vandq_u8(vtstq_u8(bytes, select), vdupq_n_u8(0x10));
}

// The 64-bit halves of two vectors side by side: [lo(a), lo(b)] and [hi(a), hi(b)] (the 2x8
// operand layout of SMMLA).
inline int8x16_t zip_lo64(int8x16_t a, int8x16_t b) {
  return vreinterpretq_s8_s64(vzip1q_s64(vreinterpretq_s64_s8(a), vreinterpretq_s64_s8(b)));
}
inline int8x16_t zip_hi64(int8x16_t a, int8x16_t b) {
  return vreinterpretq_s8_s64(vzip2q_s64(vreinterpretq_s64_s8(a), vreinterpretq_s64_s8(b)));
}

// Sums of the lanes of four vectors: [sum p0, sum p1, sum p2, sum p3].
inline int32x4_t lane_sums(int32x4_t p0, int32x4_t p1, int32x4_t p2, int32x4_t p3) {
  return vpaddq_s32(vpaddq_s32(p0, p1), vpaddq_s32(p2, p3));
}

// ---- 32-element formats ---------------------------------------------------------------------
// decode(b, q): q[0] = elements 0..15, q[1] = elements 16..31 of block b, as int8 values (the
// integer part of the weight); value = q * d (+ m where kHasMin, applied through Q8_1's s).

struct FmtQ8_0 {
  using Block = BlockQ8_0;
  using Act = BlockQ8_0;
  static constexpr bool kHasMin = false;
  static void decode(const Block& b, int8x16_t q[2]) {
    q[0] = vld1q_s8(b.qs);
    q[1] = vld1q_s8(b.qs + 16);
  }
};

struct FmtQ8_1 {
  using Block = BlockQ8_1;
  using Act = BlockQ8_1;
  static constexpr bool kHasMin = false;  // Q8_1 x Q8_1 ignores s, as the reference does
  static void decode(const Block& b, int8x16_t q[2]) {
    q[0] = vld1q_s8(b.qs);
    q[1] = vld1q_s8(b.qs + 16);
  }
};

// Q4_0 / Q4_1: byte j holds element j (low nibble) and j + 16 (high nibble).
inline void nibbles(const uint8_t qs[16], uint8x16_t& lo, uint8x16_t& hi) {
  const uint8x16_t v = vld1q_u8(qs);
  lo = vandq_u8(v, vdupq_n_u8(0x0f));
  hi = vshrq_n_u8(v, 4);
}

struct FmtQ4_0 {
  using Block = BlockQ4_0;
  using Act = BlockQ8_0;
  static constexpr bool kHasMin = false;
  static void decode(const Block& b, int8x16_t q[2]) {
    uint8x16_t lo, hi;
    nibbles(b.qs, lo, hi);
    q[0] = vsubq_s8(as_s8(lo), vdupq_n_s8(8));
    q[1] = vsubq_s8(as_s8(hi), vdupq_n_s8(8));
  }
};

struct FmtQ4_1 {
  using Block = BlockQ4_1;
  using Act = BlockQ8_1;
  static constexpr bool kHasMin = true;
  static void decode(const Block& b, int8x16_t q[2]) {
    uint8x16_t lo, hi;
    nibbles(b.qs, lo, hi);
    q[0] = as_s8(lo);
    q[1] = as_s8(hi);
  }
};

// Q5_0 / Q5_1: as Q4 plus bit j of the little-endian word qh as the 5th bit of element j.
inline void nibbles_5(const uint8_t qh_bytes[4], const uint8_t qs[16], uint8x16_t& lo, uint8x16_t& hi) {
  uint32_t qh;
  std::memcpy(&qh, qh_bytes, 4);
  nibbles(qs, lo, hi);
  lo = vorrq_u8(lo, bits_to_0x10(qh & 0xffff));
  hi = vorrq_u8(hi, bits_to_0x10(qh >> 16));
}

struct FmtQ5_0 {
  using Block = BlockQ5_0;
  using Act = BlockQ8_0;
  static constexpr bool kHasMin = false;
  static void decode(const Block& b, int8x16_t q[2]) {
    uint8x16_t lo, hi;
    nibbles_5(b.qh, b.qs, lo, hi);
    q[0] = vsubq_s8(as_s8(lo), vdupq_n_s8(16));
    q[1] = vsubq_s8(as_s8(hi), vdupq_n_s8(16));
  }
};

struct FmtQ5_1 {
  using Block = BlockQ5_1;
  using Act = BlockQ8_1;
  static constexpr bool kHasMin = true;
  static void decode(const Block& b, int8x16_t q[2]) {
    uint8x16_t lo, hi;
    nibbles_5(b.qh, b.qs, lo, hi);
    q[0] = as_s8(lo);
    q[1] = as_s8(hi);
  }
};

// ---- K-quants -------------------------------------------------------------------------------
// chunk(b, c): elements 16c .. 16c + 15 as int8 values. scales(b, sc, mn): the sub-block scales
// (and, where kHasMin, mins) as int16 lanes, sub-block s in lane s % 8 of sc[s / 8]. Sub-blocks
// are of 256 / kSubs elements (16 or 32, i.e. one or two chunks).

struct FmtQ2_K {
  using Block = BlockQ2_K;
  static constexpr int kSubs = 16;
  static constexpr bool kHasMin = true;
  // Element 128h + 32j + l is bits 2j..2j+1 of qs[32h + l].
  static int8x16_t chunk(const Block& b, int c) {
    const int h = c / 8, j = (c % 8) / 2;
    const uint8x16_t v = vld1q_u8(b.qs + 32 * h + 16 * (c % 2));
    return as_s8(vandq_u8(shift_bytes(v, -2 * j), vdupq_n_u8(3)));
  }
  static void scales(const Block& b, int16x8_t sc[2], int16x8_t mn[2]) {
    const uint8x16_t v = vld1q_u8(b.scales);
    const uint8x16_t s = vandq_u8(v, vdupq_n_u8(0x0f)), m = vshrq_n_u8(v, 4);
    sc[0] = vreinterpretq_s16_u16(vmovl_u8(vget_low_u8(s)));
    sc[1] = vreinterpretq_s16_u16(vmovl_high_u8(s));
    mn[0] = vreinterpretq_s16_u16(vmovl_u8(vget_low_u8(m)));
    mn[1] = vreinterpretq_s16_u16(vmovl_high_u8(m));
  }
};

struct FmtQ3_K {
  using Block = BlockQ3_K;
  static constexpr int kSubs = 16;
  static constexpr bool kHasMin = false;
  // Element 128h + 32j + l: low bits 2j..2j+1 of qs[32h + l], and 4 subtracted where bit 4h + j
  // of hmask[l] is clear.
  static int8x16_t chunk(const Block& b, int c) {
    const int h = c / 8, j = (c % 8) / 2, half = c % 2;
    const uint8x16_t low = vandq_u8(shift_bytes(vld1q_u8(b.qs + 32 * h + 16 * half), -2 * j), vdupq_n_u8(3));
    const uint8x16_t high = vandq_u8(shift_bytes(vld1q_u8(b.hmask + 16 * half), 2 - (4 * h + j)), vdupq_n_u8(4));
    return vsubq_s8(as_s8(vorrq_u8(low, high)), vdupq_n_s8(4));
  }
  // Scale s: low nibble of byte s (s < 8) or high nibble of byte s - 8, top two bits at bits
  // 2 (s / 4) of byte 8 + s % 4; stored + 32.
  static void scales(const Block& b, int16x8_t sc[2], int16x8_t*) {
    const uint8x8_t low_bytes = vld1_u8(b.scales);
    uint32_t top_bytes;
    std::memcpy(&top_bytes, b.scales + 8, 4);
    const uint8x16_t low = vcombine_u8(vand_u8(low_bytes, vdup_n_u8(0x0f)), vshr_n_u8(low_bytes, 4));
    const int8x16_t top_shift = {0, 0, 0, 0, -2, -2, -2, -2, -4, -4, -4, -4, -6, -6, -6, -6};
    const uint8x16_t top = vandq_u8(vshlq_u8(vreinterpretq_u8_u32(vdupq_n_u32(top_bytes)), top_shift), vdupq_n_u8(3));
    const int8x16_t v = vsubq_s8(as_s8(vorrq_u8(low, vshlq_n_u8(top, 4))), vdupq_n_s8(32));
    sc[0] = vmovl_s8(vget_low_s8(v));
    sc[1] = vmovl_high_s8(v);
  }
};

// Q4_K / Q5_K: 8 6-bit scales and mins in 12 bytes (words w0, w1, w2, little-endian):
// scale s < 4 = byte s & 63, min s < 4 = byte s + 4 & 63; for s >= 4 the low four bits are the
// low / high nibble of byte s + 4 and the top two the top bits of byte s - 4 / byte s.
inline void k4_scales(const uint8_t packed[12], int16x8_t sc[2], int16x8_t mn[2]) {
  uint32_t w[3];
  std::memcpy(w, packed, 12);
  const uint32_t sc_lo = w[0] & 0x3f3f3f3fu, mn_lo = w[1] & 0x3f3f3f3fu;
  const uint32_t sc_hi = (w[2] & 0x0f0f0f0fu) | (((w[0] >> 6) & 0x03030303u) << 4);
  const uint32_t mn_hi = ((w[2] >> 4) & 0x0f0f0f0fu) | (((w[1] >> 6) & 0x03030303u) << 4);
  sc[0] = vreinterpretq_s16_u16(vmovl_u8(vcreate_u8(uint64_t(sc_hi) << 32 | sc_lo)));
  mn[0] = vreinterpretq_s16_u16(vmovl_u8(vcreate_u8(uint64_t(mn_hi) << 32 | mn_lo)));
}

struct FmtQ4_K {
  using Block = BlockQ4_K;
  static constexpr int kSubs = 8;
  static constexpr bool kHasMin = true;
  // Element 64j + 32k + l is nibble k of qs[32j + l] (sub-block 2j + k).
  static int8x16_t chunk(const Block& b, int c) {
    const int s = c / 2;
    const uint8x16_t v = vld1q_u8(b.qs + 32 * (s / 2) + 16 * (c % 2));
    return as_s8(s % 2 == 0 ? vandq_u8(v, vdupq_n_u8(0x0f)) : vshrq_n_u8(v, 4));
  }
  static void scales(const Block& b, int16x8_t sc[2], int16x8_t mn[2]) { k4_scales(b.scales, sc, mn); }
};

struct FmtQ5_K {
  using Block = BlockQ5_K;
  static constexpr int kSubs = 8;
  static constexpr bool kHasMin = true;
  // As Q4_K, plus the 5th bit of element 64j + 32k + l at bit 2j + k (= its sub-block) of qh[l].
  static int8x16_t chunk(const Block& b, int c) {
    const int s = c / 2;
    const uint8x16_t v = vld1q_u8(b.qs + 32 * (s / 2) + 16 * (c % 2));
    const uint8x16_t low = s % 2 == 0 ? vandq_u8(v, vdupq_n_u8(0x0f)) : vshrq_n_u8(v, 4);
    const uint8x16_t high = vandq_u8(shift_bytes(vld1q_u8(b.qh + 16 * (c % 2)), 4 - s), vdupq_n_u8(0x10));
    return as_s8(vorrq_u8(low, high));
  }
  static void scales(const Block& b, int16x8_t sc[2], int16x8_t mn[2]) { k4_scales(b.scales, sc, mn); }
};

struct FmtQ6_K {
  using Block = BlockQ6_K;
  static constexpr int kSubs = 16;
  static constexpr bool kHasMin = false;
  // Element 128h + 32k + l: low nibble from ql[64h + 32 (k & 1) + l] (low for k < 2, high
  // otherwise), top two bits at bits 2k of qh[32h + l]; value q - 32.
  static int8x16_t chunk(const Block& b, int c) {
    const int h = c / 8, k = (c % 8) / 2, half = c % 2;
    const uint8x16_t l = vld1q_u8(b.ql + 64 * h + 32 * (k & 1) + 16 * half);
    const uint8x16_t low = k < 2 ? vandq_u8(l, vdupq_n_u8(0x0f)) : vshrq_n_u8(l, 4);
    const uint8x16_t high = vandq_u8(shift_bytes(vld1q_u8(b.qh + 32 * h + 16 * half), 4 - 2 * k), vdupq_n_u8(0x30));
    return vsubq_s8(as_s8(vorrq_u8(low, high)), vdupq_n_s8(32));
  }
  static void scales(const Block& b, int16x8_t sc[2], int16x8_t*) {
    const int8x16_t v = vld1q_s8(b.scales);
    sc[0] = vmovl_s8(vget_low_s8(v));
    sc[1] = vmovl_high_s8(v);
  }
};

// Scales of sub-blocks 4g .. 4g + 3 as int32 lanes.
inline int32x4_t scale_group(const int16x8_t sc[2], int g) {
  return g % 2 == 0 ? vmovl_s16(vget_low_s16(sc[g / 2])) : vmovl_high_s16(sc[g / 2]);
}

// Q8_K's activation sums per sub-block of a format with kSubs sub-blocks.
template <int kSubs>
void activation_sums(const BlockQ8_K& y, int16x8_t bs[2]) {
  const int16x8_t b0 = vld1q_s16(y.bsums), b1 = vld1q_s16(y.bsums + 8);
  if constexpr (kSubs == 16) {
    bs[0] = b0;
    bs[1] = b1;
  } else {
    bs[0] = vpaddq_s16(b0, b1);  // sums of 32 (|sum| <= 32 * 127 fits int16)
  }
}

// sum over sub-blocks of mn * bs, spread over four int32 lanes.
template <int kSubs>
int32x4_t mins_dot(const int16x8_t mn[2], const int16x8_t bs[2]) {
  int32x4_t acc = vmull_s16(vget_low_s16(mn[0]), vget_low_s16(bs[0]));
  acc = vmlal_high_s16(acc, mn[0], bs[0]);
  if constexpr (kSubs == 16) {
    acc = vmlal_s16(acc, vget_low_s16(mn[1]), vget_low_s16(bs[1]));
    acc = vmlal_high_s16(acc, mn[1], bs[1]);
  }
  return acc;
}

// The float step of a 2x2 K-quant product: `scaled` and `mins` hold the integer sums of the
// four (weight row r, activation row c) pairs in the lane order of VecDot2x2Fn's out,
// [c0r0, c0r1, c1r0, c1r1]; each lane computes what vec_dot_k computes.
template <class F>
float32x4_t k_block_2x2(const typename F::Block& x0, const typename F::Block& x1, const BlockQ8_K& y0,
                        const BlockQ8_K& y1, int32x4_t scaled, int32x4_t mins) {
  const float32x4_t dy = {y0.d, y0.d, y1.d, y1.d};
  const float32x4_t dx = fp16x4_to_f32(x0.d, x1.d, x0.d, x1.d);
  if constexpr (F::kHasMin) {
    const float32x4_t dmin = fp16x4_to_f32(x0.dmin, x1.dmin, x0.dmin, x1.dmin);
    return vmulq_f32(dy, vsubq_f32(vmulq_f32(dx, vcvtq_f32_s32(scaled)), vmulq_f32(dmin, vcvtq_f32_s32(mins))));
  } else {
    (void)mins;
    return vmulq_f32(vmulq_f32(dx, dy), vcvtq_f32_s32(scaled));
  }
}

// The mins term of a 2x2 K-quant product, lanes as in k_block_2x2.
template <class F>
int32x4_t k_mins_2x2(const int16x8_t mn0[2], const int16x8_t mn1[2], const BlockQ8_K& y0, const BlockQ8_K& y1) {
  int16x8_t b0[2], b1[2];
  activation_sums<F::kSubs>(y0, b0);
  activation_sums<F::kSubs>(y1, b1);
  return lane_sums(mins_dot<F::kSubs>(mn0, b0), mins_dot<F::kSubs>(mn1, b0), mins_dot<F::kSubs>(mn0, b1),
                   mins_dot<F::kSubs>(mn1, b1));
}

// ---- vec_dot over a Dot policy --------------------------------------------------------------

template <class Dot, class F>
[[gnu::always_inline]] inline int32x4_t block_dot_32(const typename F::Block& x, const int8_t* a) {
  int8x16_t q[2];
  F::decode(x, q);
  return Dot::acc(Dot::acc(vdupq_n_s32(0), q[0], vld1q_s8(a)), q[1], vld1q_s8(a + 16));
}

// The float term of one block, as the reference forms it: float(isum) * d_w * d_a (+ m * s).
template <class F>
float block_term_32(const typename F::Block& x, const typename F::Act& y, int32_t isum) {
  float t = float(isum) * fp16_to_f32(x.d) * fp16_to_f32(y.d);
  if constexpr (F::kHasMin) t += fp16_to_f32(x.m) * fp16_to_f32(y.s);
  return t;
}

// 32-element formats. The block sums and their float terms are computed four blocks at a time;
// the terms are then added one by one in block order, so that the result is the reference's
// to the bit (the same integers, the same float operations in the same order).
template <class Dot, class F>
float vec_dot_32(int64_t n, const void* w, const void* a) {
  const auto* x = static_cast<const typename F::Block*>(w);
  const auto* y = static_cast<const typename F::Act*>(a);
  const int64_t nb = n / 32;
  float sum = 0.0f;
  int64_t i = 0;
  for (; i + 4 <= nb; i += 4) {
    const int32x4_t isum =
        lane_sums(block_dot_32<Dot, F>(x[i], y[i].qs), block_dot_32<Dot, F>(x[i + 1], y[i + 1].qs),
                  block_dot_32<Dot, F>(x[i + 2], y[i + 2].qs), block_dot_32<Dot, F>(x[i + 3], y[i + 3].qs));
    const float32x4_t dx = fp16x4_to_f32(x[i].d, x[i + 1].d, x[i + 2].d, x[i + 3].d);
    const float32x4_t dy = fp16x4_to_f32(y[i].d, y[i + 1].d, y[i + 2].d, y[i + 3].d);
    float32x4_t t = vmulq_f32(vmulq_f32(vcvtq_f32_s32(isum), dx), dy);
    if constexpr (F::kHasMin)
      t = vaddq_f32(t, vmulq_f32(fp16x4_to_f32(x[i].m, x[i + 1].m, x[i + 2].m, x[i + 3].m),
                                 fp16x4_to_f32(y[i].s, y[i + 1].s, y[i + 2].s, y[i + 3].s)));
    sum += vgetq_lane_f32(t, 0);
    sum += vgetq_lane_f32(t, 1);
    sum += vgetq_lane_f32(t, 2);
    sum += vgetq_lane_f32(t, 3);
  }
  for (; i < nb; ++i) sum += block_term_32<F>(x[i], y[i], vaddvq_s32(block_dot_32<Dot, F>(x[i], y[i].qs)));
  return sum;
}

// The float terms of one block of a 2x2 product (lanes [c0r0, c0r1, c1r0, c1r1]), each lane
// formed as block_term_32 forms it.
template <class F>
float32x4_t block_terms_2x2_32(const typename F::Block& x0, const typename F::Block& x1, const typename F::Act& y0,
                               const typename F::Act& y1, int32x4_t sums) {
  float32x4_t t = vmulq_f32(vmulq_f32(vcvtq_f32_s32(sums), fp16x4_to_f32(x0.d, x1.d, x0.d, x1.d)),
                            fp16x4_to_f32(y0.d, y0.d, y1.d, y1.d));
  if constexpr (F::kHasMin)
    t = vaddq_f32(t, vmulq_f32(fp16x4_to_f32(x0.m, x1.m, x0.m, x1.m), fp16x4_to_f32(y0.s, y0.s, y1.s, y1.s)));
  return t;
}

// K-quants with Q8_K: per super-block, sub-block sums in groups of four, times their scales.
template <class Dot, class F>
float vec_dot_k(int64_t n, const void* w, const void* a) {
  constexpr int kPerSub = 16 / F::kSubs;  // chunks of 16 per sub-block
  const auto* x = static_cast<const typename F::Block*>(w);
  const auto* y = static_cast<const BlockQ8_K*>(a);
  float sum = 0.0f;
  for (int64_t i = 0; i < n / kQK_K; ++i) {
    int16x8_t sc[2], mn[2];
    F::scales(x[i], sc, mn);
    int32x4_t acc = vdupq_n_s32(0);
#pragma GCC unroll 4
    for (int g = 0; g < F::kSubs / 4; ++g) {
      int32x4_t p[4];
#pragma GCC unroll 4
      for (int k = 0; k < 4; ++k) {
        p[k] = vdupq_n_s32(0);
#pragma GCC unroll 2
        for (int h = 0; h < kPerSub; ++h) {
          const int c = (4 * g + k) * kPerSub + h;
          p[k] = Dot::acc(p[k], F::chunk(x[i], c), vld1q_s8(y[i].qs + 16 * c));
        }
      }
      acc = vmlaq_s32(acc, lane_sums(p[0], p[1], p[2], p[3]), scale_group(sc, g));
    }
    const float scaled = float(vaddvq_s32(acc));
    if constexpr (F::kHasMin) {
      int16x8_t bs[2];
      activation_sums<F::kSubs>(y[i], bs);
      const float mins = float(vaddvq_s32(mins_dot<F::kSubs>(mn, bs)));
      sum += y[i].d * (fp16_to_f32(x[i].d) * scaled - fp16_to_f32(x[i].dmin) * mins);
    } else {
      sum += fp16_to_f32(x[i].d) * y[i].d * scaled;
    }
  }
  return sum;
}

// Q8_K x Q8_K (not a weight format of any file, but a complete table has it).
template <class Dot>
float vec_dot_q8_k(int64_t n, const void* w, const void* a) {
  const auto* x = static_cast<const BlockQ8_K*>(w);
  const auto* y = static_cast<const BlockQ8_K*>(a);
  float sum = 0.0f;
  for (int64_t i = 0; i < n / kQK_K; ++i) {
    int32x4_t acc0 = vdupq_n_s32(0), acc1 = vdupq_n_s32(0);
    for (int c = 0; c < 16; c += 2) {
      acc0 = Dot::acc(acc0, vld1q_s8(x[i].qs + 16 * c), vld1q_s8(y[i].qs + 16 * c));
      acc1 = Dot::acc(acc1, vld1q_s8(x[i].qs + 16 * c + 16), vld1q_s8(y[i].qs + 16 * c + 16));
    }
    sum += x[i].d * y[i].d * float(vaddvq_s32(vaddq_s32(acc0, acc1)));
  }
  return sum;
}

// ---- vec_dot_2x2 over a Tile policy ---------------------------------------------------------
// A Tile accumulates the dots of two weight rows with two activation rows, 16 elements a call:
// add(w0, w1, a0, a1), then sums() = [c0r0, c0r1, c1r0, c1r1] (VecDot2x2Fn's lane order: c the
// activation row, r the weight row). DotTile keeps four Dot accumulators; i8mm.cpp's tile forms
// the 2x2 result directly with SMMLA. Each weight chunk is decoded once for both activation
// rows, and each lane repeats vec_dot's float steps, so every output equals vec_dot's bits.

template <class Dot>
struct DotTile {
  int32x4_t p[4] = {vdupq_n_s32(0), vdupq_n_s32(0), vdupq_n_s32(0), vdupq_n_s32(0)};
  void add(int8x16_t w0, int8x16_t w1, int8x16_t a0, int8x16_t a1) {
    p[0] = Dot::acc(p[0], w0, a0);
    p[1] = Dot::acc(p[1], w1, a0);
    p[2] = Dot::acc(p[2], w0, a1);
    p[3] = Dot::acc(p[3], w1, a1);
  }
  int32x4_t sums() const { return lane_sums(p[0], p[1], p[2], p[3]); }
};

template <class Tile, class F>
void vec_dot_2x2_32(int64_t n, const void* w, size_t w_stride, const void* a, size_t a_stride, float out[4]) {
  using Block = typename F::Block;
  using Act = typename F::Act;
  const Block* x0 = static_cast<const Block*>(w);
  const Block* x1 = reinterpret_cast<const Block*>(static_cast<const uint8_t*>(w) + w_stride);
  const Act* y0 = static_cast<const Act*>(a);
  const Act* y1 = reinterpret_cast<const Act*>(static_cast<const uint8_t*>(a) + a_stride);
  float32x4_t acc = vdupq_n_f32(0.0f);
  for (int64_t i = 0; i < n / 32; ++i) {
    int8x16_t w0[2], w1[2];
    F::decode(x0[i], w0);
    F::decode(x1[i], w1);
    Tile tile;
    tile.add(w0[0], w1[0], vld1q_s8(y0[i].qs), vld1q_s8(y1[i].qs));
    tile.add(w0[1], w1[1], vld1q_s8(y0[i].qs + 16), vld1q_s8(y1[i].qs + 16));
    acc = vaddq_f32(acc, block_terms_2x2_32<F>(x0[i], x1[i], y0[i], y1[i], tile.sums()));
  }
  vst1q_f32(out, acc);
}

// [v0, v1, v0, v1] and [v2, v3, v2, v3] of v.
inline int32x4_t dup_low_pair(int32x4_t v) {
  return vreinterpretq_s32_s64(vdupq_laneq_s64(vreinterpretq_s64_s32(v), 0));
}
inline int32x4_t dup_high_pair(int32x4_t v) {
  return vreinterpretq_s32_s64(vdupq_laneq_s64(vreinterpretq_s64_s32(v), 1));
}

// K-quants: one tile per sub-block, times [scale row 0, scale row 1] in each column.
template <class Tile, class F>
void vec_dot_2x2_k(int64_t n, const void* w, size_t w_stride, const void* a, size_t a_stride, float out[4]) {
  using Block = typename F::Block;
  constexpr int kPerSub = 16 / F::kSubs;  // chunks of 16 per sub-block
  const Block* x0 = static_cast<const Block*>(w);
  const Block* x1 = reinterpret_cast<const Block*>(static_cast<const uint8_t*>(w) + w_stride);
  const BlockQ8_K* y0 = static_cast<const BlockQ8_K*>(a);
  const BlockQ8_K* y1 = reinterpret_cast<const BlockQ8_K*>(static_cast<const uint8_t*>(a) + a_stride);
  float32x4_t sum = vdupq_n_f32(0.0f);
  for (int64_t i = 0; i < n / kQK_K; ++i) {
    int16x8_t sc0[2], mn0[2], sc1[2], mn1[2];
    F::scales(x0[i], sc0, mn0);
    F::scales(x1[i], sc1, mn1);
    int32x4_t acc = vdupq_n_s32(0);
#pragma GCC unroll 2
    for (int v = 0; v < F::kSubs / 8; ++v) {
      // pairs[q] = [row 0, row 1] scales of sub-block 8v + 2q, then of sub-block 8v + 2q + 1
      const int16x8_t zl = vzip1q_s16(sc0[v], sc1[v]), zh = vzip2q_s16(sc0[v], sc1[v]);
      const int32x4_t pairs[4] = {vmovl_s16(vget_low_s16(zl)), vmovl_high_s16(zl), vmovl_s16(vget_low_s16(zh)),
                                  vmovl_high_s16(zh)};
#pragma GCC unroll 4
      for (int q = 0; q < 4; ++q) {
#pragma GCC unroll 2
        for (int e = 0; e < 2; ++e) {
          const int s = 8 * v + 2 * q + e;
          Tile tile;
#pragma GCC unroll 2
          for (int h = 0; h < kPerSub; ++h) {
            const int c = s * kPerSub + h;
            tile.add(F::chunk(x0[i], c), F::chunk(x1[i], c), vld1q_s8(y0[i].qs + 16 * c), vld1q_s8(y1[i].qs + 16 * c));
          }
          acc = vmlaq_s32(acc, tile.sums(), e == 0 ? dup_low_pair(pairs[q]) : dup_high_pair(pairs[q]));
        }
      }
    }
    int32x4_t mins = vdupq_n_s32(0);
    if constexpr (F::kHasMin) mins = k_mins_2x2<F>(mn0, mn1, y0[i], y1[i]);
    sum = vaddq_f32(sum, k_block_2x2<F>(x0[i], x1[i], y0[i], y1[i], acc, mins));
  }
  vst1q_f32(out, sum);
}

}  // namespace
}  // namespace pm::arm

#endif  // __aarch64__
