// What the packed (repacked at load) ARM kernels of dotprod.cpp and i8mm.cpp share: the group
// of 4 rows, how the rows' quant bytes are interleaved into 16-byte vectors, the f16 scales of a
// packed block, and Q4_K's header (d, dmin, the 12 scale bytes) with its vector unpacking. Each
// file keeps its own layout of the quants (SDOT by lane or SMMLA row pairs) and its own kernels.
// Internal linkage, as in quant_dot.h: each including file compiles its own copy for its -march.
#pragma once

#if defined(__aarch64__)
#include <arm_neon.h>

#include <cstdint>
#include <cstring>

#include "kernels/ggml_types.h"

namespace pm::arm {
namespace {

inline constexpr int kPackRows = 4;

// The 4 f16 scales at the start of a packed block (row r at bytes 2r, 2r + 1), as floats.
inline float32x4_t packed_scales(const uint8_t* blk) { return vcvt_f32_f16(vreinterpret_f16_u8(vld1_u8(blk))); }

// Writes the `n` quant bytes of each of the kPackRows rows (rows[r]) interleaved into 16-byte
// vectors, every byte XORed with `flip`. Each row is cut into spans of `span` bytes and each span
// into chunks of `chunk` bytes (4: one SDOT lane, 8: one half of an SMMLA operand); a vector holds
// the same chunk of 16 / chunk rows side by side. Vectors are ordered span, then row set (rows
// r / (16 / chunk)), then chunk within the span:
//   chunk 4, span n:   vector c, lane r           = row r's bytes 4c .. 4c + 3
//   chunk 8, span n:   vector (r / 2) * n / 8 + c = [row 2p's bytes 8c .. 8c + 7 | row 2p + 1's]
//   chunk 8, span 32:  vector 8j + 4p + c         = [row 2p's bytes 32j + 8c .. + 7 | row 2p + 1's]
inline void interleave_rows(const uint8_t* const rows[kPackRows], int n, int span, int chunk, uint8_t flip,
                            uint8_t* dst) {
  const int per_vector = 16 / chunk, chunks = span / chunk, sets = kPackRows / per_vector;
  for (int r = 0; r < kPackRows; ++r)
    for (int i = 0; i < n; ++i) {
      const int s = i / span, c = (i % span) / chunk, e = i % chunk;
      const int vector = (s * sets + r / per_vector) * chunks + c;
      dst[16 * vector + chunk * (r % per_vector) + e] = uint8_t(rows[r][i] ^ flip);
    }
}

// A packed 32-element block (Q4_0, Q8_0): the 4 rows' f16 scales, then their quants as
// interleave_rows lays them out (one span: the block's quant bytes) in chunks of kChunk, XORed
// with kFlip.
template <class W, int kChunk, uint8_t kFlip>
void pack_block_32(const uint8_t* rows, size_t stride, int64_t b, uint8_t* dst) {
  const uint8_t* qs[kPackRows];
  for (int r = 0; r < kPackRows; ++r) {
    const W& blk = reinterpret_cast<const W*>(rows + size_t(r) * stride)[b];
    std::memcpy(dst + 2 * r, &blk.d, 2);
    qs[r] = reinterpret_cast<const uint8_t*>(blk.qs);
  }
  constexpr int n = int(sizeof(W::qs));
  interleave_rows(qs, n, n, kChunk, kFlip, dst + 2 * kPackRows);
}

template <class P>
void pack_32(int64_t n, const void* rows, size_t stride, void* group) {
  const uint8_t* src = static_cast<const uint8_t*>(rows);
  uint8_t* dst = static_cast<uint8_t*>(group);
  for (int64_t b = 0; b < n / 32; ++b) P::pack_block(src, stride, b, dst + size_t(b) * P::kBlockBytes);
}

// Q4_K, per super-block of 4 rows (576 bytes, as the 4 blocks): the 4 d, the 4 dmin (f16), the
// 12 scale bytes as 3 vectors (vector v, lane r = row r's scales[4v .. 4v + 3]), then the 128
// quant bytes of each row as interleave_rows(chunk, span) lays them out.
struct PackedQ4_K {
  static constexpr size_t kBlockBytes = kPackRows * sizeof(BlockQ4_K);
  static constexpr size_t kScales = 4 * kPackRows, kQs = kScales + 3 * 16;
};
static_assert(PackedQ4_K::kQs + 32 * 16 == PackedQ4_K::kBlockBytes);

template <int kChunk, int kSpan>
void pack_q4_k(int64_t n, const void* rows, size_t stride, void* group) {
  const uint8_t* src = static_cast<const uint8_t*>(rows);
  uint8_t* out = static_cast<uint8_t*>(group);
  for (int64_t b = 0; b < n / kQK_K; ++b) {
    uint8_t* dst = out + size_t(b) * PackedQ4_K::kBlockBytes;
    const uint8_t* qs[kPackRows];
    for (int r = 0; r < kPackRows; ++r) {
      const BlockQ4_K& blk = reinterpret_cast<const BlockQ4_K*>(src + size_t(r) * stride)[b];
      std::memcpy(dst + 2 * r, &blk.d, 2);
      std::memcpy(dst + 2 * kPackRows + 2 * r, &blk.dmin, 2);
      for (int v = 0; v < 3; ++v) std::memcpy(dst + PackedQ4_K::kScales + 16 * v + 4 * r, blk.scales + 4 * v, 4);
      qs[r] = blk.qs;
    }
    interleave_rows(qs, kQK_K / 2, kSpan, kChunk, 0, dst + PackedQ4_K::kQs);
  }
}

// Byte `s` of each 32-bit lane of v, as int32 lanes.
template <int s>
inline int32x4_t byte_of_lanes(uint8x16_t v) {
  return vreinterpretq_s32_u32(vandq_u32(vshrq_n_u32(vreinterpretq_u32_u8(v), 8 * s), vdupq_n_u32(0xff)));
}

// The 6-bit scales and mins of a packed Q4_K super-block's 4 rows: lane r of sc[s] / mn[s] is
// row r's scale / min of sub-block s (the reference's get_scale_min_k4, for 4 rows at once).
inline void unpack_q4_k_scales(const uint8_t* blk, int32x4_t sc[8], int32x4_t mn[8]) {
  const uint8x16_t m4 = vdupq_n_u8(0x0f), m6 = vdupq_n_u8(0x3f), m_top = vdupq_n_u8(0x30);
  const uint8x16_t v0 = vld1q_u8(blk + PackedQ4_K::kScales);
  const uint8x16_t v1 = vld1q_u8(blk + PackedQ4_K::kScales + 16);
  const uint8x16_t v2 = vld1q_u8(blk + PackedQ4_K::kScales + 32);
  // Byte s of a lane of lo / hi = that row's value for sub-block s / s + 4; [0] scales, [1] mins.
  const uint8x16_t lo[2] = {vandq_u8(v0, m6), vandq_u8(v1, m6)};
  const uint8x16_t hi[2] = {vorrq_u8(vandq_u8(v2, m4), vandq_u8(vshrq_n_u8(v0, 2), m_top)),
                            vorrq_u8(vshrq_n_u8(v2, 4), vandq_u8(vshrq_n_u8(v1, 2), m_top))};
  int32x4_t* out[2] = {sc, mn};
  for (int k = 0; k < 2; ++k) {
    out[k][0] = byte_of_lanes<0>(lo[k]);
    out[k][1] = byte_of_lanes<1>(lo[k]);
    out[k][2] = byte_of_lanes<2>(lo[k]);
    out[k][3] = byte_of_lanes<3>(lo[k]);
    out[k][4] = byte_of_lanes<0>(hi[k]);
    out[k][5] = byte_of_lanes<1>(hi[k]);
    out[k][6] = byte_of_lanes<2>(hi[k]);
    out[k][7] = byte_of_lanes<3>(hi[k]);
  }
}

// The reference's mins term of one activation super-block for the 4 rows:
// sum_s mn[s] * (bsums[2s] + bsums[2s + 1]).
inline int32x4_t q4_k_mins(const int32x4_t mn[8], const BlockQ8_K& y) {
  int32x4_t mins = vdupq_n_s32(0);
  for (int s = 0; s < 8; ++s) mins = vmlaq_n_s32(mins, mn[s], int32_t(y.bsums[2 * s]) + y.bsums[2 * s + 1]);
  return mins;
}

// acc + d_a * (d * scaled - dmin * mins): vec_dot_k's float steps of one super-block, in its order.
inline float32x4_t q4_k_accumulate(float32x4_t acc, const uint8_t* blk, int32x4_t scaled, int32x4_t mins, float d_a) {
  const float32x4_t d = packed_scales(blk), dmin = packed_scales(blk + 2 * kPackRows);
  const float32x4_t inner = vsubq_f32(vmulq_f32(d, vcvtq_f32_s32(scaled)), vmulq_f32(dmin, vcvtq_f32_s32(mins)));
  return vaddq_f32(acc, vmulq_f32(vdupq_n_f32(d_a), inner));
}

}  // namespace
}  // namespace pm::arm
#endif  // __aarch64__
