// ARMv8.2 dot-product kernels (SDOT), over the NEON table: the int8 dot products of every
// block format, two-by-two forms that decode each weight block once for two activation rows,
// and Q4_0 / Q8_0 weights repacked at load (four rows side by side, see below). The decoders
// are kernels/arm/quant_dot.h's, compiled here for +dotprod.
#if defined(__aarch64__)
#include <arm_neon.h>

#include <cstdint>
#include <cstring>

#include "kernels/arm/packed.h"
#include "kernels/arm/quant_dot.h"
#include "kernels/ggml_types.h"
#include "kernels/isa.h"

namespace pm {
namespace {

struct SdotDot {
  static int32x4_t acc(int32x4_t acc, int8x16_t w, int8x16_t a) { return vdotq_s32(acc, w, a); }
};

// ---- Repacked weights (SDOT by lane: 4 rows per group) --------------------------------------
//
// A group holds 4 rows block after block, each packed block taking the bytes of the 4 blocks it
// replaces (4 * 34 for Q8_0, 4 * 18 for Q4_0): the 4 f16 scales (row r at bytes 2r, 2r + 1), then
// the quants as 16-byte vectors whose 32-bit lane r belongs to row r:
//   Q8_0: 8 vectors; vector g, lane r = row r's qs[4g .. 4g + 3] (elements 4g .. 4g + 3).
//   Q4_0: 4 vectors; vector j, lane r = row r's qs[4j .. 4j + 3] ^ 0x88. Byte q ^ 0x88 holds the
//         nibbles n ^ 8; shifted to the top of a byte, n ^ 8 reads as the int8 16 * (n - 8), the
//         weight times 16. So vshl #4 gives elements 4j .. 4j + 3 (low nibbles) and an AND with
//         0xf0 elements 16 + 4j .. 16 + 4j + 3 (high nibbles), one instruction each, signed-ready.
//         The int32 sums are then 16 times the reference's (|sum| <= 32 * 128 * 127 < 2^31) and
//         an arithmetic shift right by 4 gives them back exactly.
// Either way decoded vector g (g < 4) meets activation bytes 4g .. 4g + 3, i.e. lane g of the
// activation's first 16 bytes, and vector g >= 4 lane g - 4 of its last 16:
// vdotq_laneq_s32(acc, w[g], a, lane) adds 4 products to each of the 4 rows at once, with no
// transposition or horizontal add per call. Per block and activation row that is 8 SDOT, 2
// loads, 1 add (two chains), 1 convert, 2 multiplies and 1 add; the weights' decode (Q8_0: 8
// loads; Q4_0: 4 loads, 4 shifts, 4 ANDs) is shared by the kTok activation rows of a tile.
// Each lane holds the reference's int32 block sum, and acc = acc + float(isum) * d_w * d_a block
// after block, the float operations of vec_dot_32 in its order: vec_dot's bits per row.
using arm::kPackRows;
using arm::packed_scales;

struct PackedQ8_0 {
  static constexpr bool kTimes16 = false;
  static constexpr size_t kBlockBytes = kPackRows * sizeof(BlockQ8_0);
  static constexpr auto pack_block = arm::pack_block_32<BlockQ8_0, 4, 0>;
  static void decode(const uint8_t* blk, int8x16_t w[8]) {
    for (int g = 0; g < 8; ++g) w[g] = vld1q_s8(reinterpret_cast<const int8_t*>(blk + 2 * kPackRows + 16 * g));
  }
};

struct PackedQ4_0 {
  static constexpr bool kTimes16 = true;
  static constexpr size_t kBlockBytes = kPackRows * sizeof(BlockQ4_0);
  static constexpr auto pack_block = arm::pack_block_32<BlockQ4_0, 4, 0x88>;
  static void decode(const uint8_t* blk, int8x16_t w[8]) {
    for (int j = 0; j < 4; ++j) {
      const uint8x16_t p = vld1q_u8(blk + 2 * kPackRows + 16 * j);
      w[j] = arm::as_s8(vshlq_n_u8(p, 4));
      w[j + 4] = arm::as_s8(vandq_u8(p, vdupq_n_u8(0xf0)));
    }
  }
};

// The int32 sums of the 4 rows of a decoded block with one activation block (two chains of four
// SDOT, so that the adds do not wait on one another).
inline int32x4_t sdot_4_rows(const int8x16_t w[8], const int8_t* y) {
  const int8x16_t a0 = vld1q_s8(y), a1 = vld1q_s8(y + 16);
  int32x4_t s0 = vdotq_laneq_s32(vdupq_n_s32(0), w[0], a0, 0);
  int32x4_t s1 = vdotq_laneq_s32(vdupq_n_s32(0), w[1], a0, 1);
  s0 = vdotq_laneq_s32(s0, w[2], a0, 2);
  s1 = vdotq_laneq_s32(s1, w[3], a0, 3);
  s0 = vdotq_laneq_s32(s0, w[4], a1, 0);
  s1 = vdotq_laneq_s32(s1, w[5], a1, 1);
  s0 = vdotq_laneq_s32(s0, w[6], a1, 2);
  s1 = vdotq_laneq_s32(s1, w[7], a1, 3);
  return vaddq_s32(s0, s1);
}

// out[t * os + r] = vec_dot(row r, activation row t), r < 4. The activation rows are taken
// kTok at a time, so each weight block is decoded once for up to kTok of them (decoding a
// token alone is the kTok = 1 case of the same loop: the same bits).
template <class P>
void gemm_packed_32(int64_t n, const void* group, const void* a, size_t as, const ActBlock*, int64_t n_tok, float* out,
                    size_t os) {
  const uint8_t* gb = static_cast<const uint8_t*>(group);
  const uint8_t* ab = static_cast<const uint8_t*>(a);
  const int64_t nb = n / 32;
  constexpr int kTok = 8;
  for (int64_t t0 = 0; t0 < n_tok; t0 += kTok) {
    const int nt = int(n_tok - t0 < kTok ? n_tok - t0 : kTok);
    float32x4_t acc[kTok];
    for (float32x4_t& v : acc) v = vdupq_n_f32(0.0f);
    for (int64_t b = 0; b < nb; ++b) {
      const uint8_t* blk = gb + size_t(b) * P::kBlockBytes;
      int8x16_t w[8];
      P::decode(blk, w);
      const float32x4_t dx = packed_scales(blk);
      for (int t = 0; t < nt; ++t) {
        const BlockQ8_0& y = reinterpret_cast<const BlockQ8_0*>(ab + size_t(t0 + t) * as)[b];
        int32x4_t isum = sdot_4_rows(w, y.qs);
        if constexpr (P::kTimes16) isum = vshrq_n_s32(isum, 4);
        const float32x4_t term = vmulq_f32(vmulq_f32(vcvtq_f32_s32(isum), dx), vdupq_n_f32(arm::fp16_to_f32(y.d)));
        acc[t] = vaddq_f32(acc[t], term);
      }
    }
    for (int t = 0; t < nt; ++t) vst1q_f32(out + size_t(t0 + t) * os, acc[t]);
  }
}

// Q4_K, per super-block of 4 rows (576 bytes, as the 4 blocks): the 4 d, the 4 dmin (f16), the
// 12 scale bytes as 3 vectors (vector v, lane r = row r's scales[4v .. 4v + 3]), then the quants
// as 32 vectors (vector 8j + g, lane r = row r's qs[32j + 4g .. 32j + 4g + 3]: its low nibbles
// are elements 64j + 4g .. + 3 of sub-block 2j, its high nibbles the same places of sub-block
// 2j + 1). The 6-bit scales and mins of the 4 rows are unpacked with a few vector operations per
// super-block (byte s of a 32-bit lane = sub-block s's of that row), then per sub-block and
// activation row 8 SDOT by lane, as for Q4_0. Per row the reference's integers,
//   scaled = sum_s sc[s] * <q_s, y_s>,  mins = sum_s mn[s] * (bsums[2s] + bsums[2s + 1]),
// then acc = acc + d_a * (d * scaled - dmin * mins), vec_dot_k's float operations in its order:
// vec_dot's bits.
using arm::PackedQ4_K;

void gemm_packed_q4_k(int64_t n, const void* group, const void* a, size_t as, const ActBlock*, int64_t n_tok,
                      float* out, size_t os) {
  const uint8_t* gb = static_cast<const uint8_t*>(group);
  const uint8_t* ab = static_cast<const uint8_t*>(a);
  const int64_t nb = n / kQK_K;
  const uint8x16_t m4 = vdupq_n_u8(0x0f);
  constexpr int kTok = 4;
  for (int64_t t0 = 0; t0 < n_tok; t0 += kTok) {
    const int nt = int(n_tok - t0 < kTok ? n_tok - t0 : kTok);
    float32x4_t acc[kTok];
    for (float32x4_t& v : acc) v = vdupq_n_f32(0.0f);
    for (int64_t b = 0; b < nb; ++b) {
      const uint8_t* blk = gb + size_t(b) * PackedQ4_K::kBlockBytes;
      int32x4_t sc[8], mn[8];
      arm::unpack_q4_k_scales(blk, sc, mn);
      int32x4_t scaled[kTok], mins[kTok];
      for (int t = 0; t < nt; ++t) {
        const BlockQ8_K& y = reinterpret_cast<const BlockQ8_K*>(ab + size_t(t0 + t) * as)[b];
        mins[t] = arm::q4_k_mins(mn, y);
        scaled[t] = vdupq_n_s32(0);
      }
      for (int j = 0; j < 4; ++j) {
        int8x16_t w[2][8];  // w[k][g]: sub-block 2j + k, elements 4g .. 4g + 3 of the sub-block's 32
        for (int g = 0; g < 8; ++g) {
          const uint8x16_t p = vld1q_u8(blk + PackedQ4_K::kQs + 16 * (8 * j + g));
          w[0][g] = arm::as_s8(vandq_u8(p, m4));
          w[1][g] = arm::as_s8(vshrq_n_u8(p, 4));
        }
        for (int t = 0; t < nt; ++t) {
          const BlockQ8_K& y = reinterpret_cast<const BlockQ8_K*>(ab + size_t(t0 + t) * as)[b];
          for (int k = 0; k < 2; ++k) {
            const int s = 2 * j + k;
            scaled[t] = vmlaq_s32(scaled[t], sdot_4_rows(w[k], y.qs + 32 * s), sc[s]);
          }
        }
      }
      for (int t = 0; t < nt; ++t) {
        const BlockQ8_K& y = reinterpret_cast<const BlockQ8_K*>(ab + size_t(t0 + t) * as)[b];
        acc[t] = arm::q4_k_accumulate(acc[t], blk, scaled[t], mins[t], y.d);
      }
    }
    for (int t = 0; t < nt; ++t) vst1q_f32(out + size_t(t0 + t) * os, acc[t]);
  }
}

}  // namespace

void add_dotprod_kernels(Kernels& k) {
  auto at = [&](GgmlType t) -> TypeKernels& { return k.types[static_cast<uint32_t>(t)]; };
  using GT = GgmlType;
  using D = SdotDot;

  at(GT::kQ4_0).vec_dot = arm::vec_dot_32<D, arm::FmtQ4_0>;
  at(GT::kQ4_1).vec_dot = arm::vec_dot_32<D, arm::FmtQ4_1>;
  at(GT::kQ5_0).vec_dot = arm::vec_dot_32<D, arm::FmtQ5_0>;
  at(GT::kQ5_1).vec_dot = arm::vec_dot_32<D, arm::FmtQ5_1>;
  at(GT::kQ8_0).vec_dot = arm::vec_dot_32<D, arm::FmtQ8_0>;
  at(GT::kQ8_1).vec_dot = arm::vec_dot_32<D, arm::FmtQ8_1>;
  at(GT::kQ2_K).vec_dot = arm::vec_dot_k<D, arm::FmtQ2_K>;
  at(GT::kQ3_K).vec_dot = arm::vec_dot_k<D, arm::FmtQ3_K>;
  at(GT::kQ4_K).vec_dot = arm::vec_dot_k<D, arm::FmtQ4_K>;
  at(GT::kQ5_K).vec_dot = arm::vec_dot_k<D, arm::FmtQ5_K>;
  at(GT::kQ6_K).vec_dot = arm::vec_dot_k<D, arm::FmtQ6_K>;
  at(GT::kQ8_K).vec_dot = arm::vec_dot_q8_k<D>;

  at(GT::kQ4_0).vec_dot_2x2 = arm::vec_dot_2x2_32<arm::DotTile<D>, arm::FmtQ4_0>;
  at(GT::kQ4_1).vec_dot_2x2 = arm::vec_dot_2x2_32<arm::DotTile<D>, arm::FmtQ4_1>;
  at(GT::kQ5_0).vec_dot_2x2 = arm::vec_dot_2x2_32<arm::DotTile<D>, arm::FmtQ5_0>;
  at(GT::kQ5_1).vec_dot_2x2 = arm::vec_dot_2x2_32<arm::DotTile<D>, arm::FmtQ5_1>;
  at(GT::kQ8_0).vec_dot_2x2 = arm::vec_dot_2x2_32<arm::DotTile<D>, arm::FmtQ8_0>;
  at(GT::kQ2_K).vec_dot_2x2 = arm::vec_dot_2x2_k<arm::DotTile<D>, arm::FmtQ2_K>;
  at(GT::kQ3_K).vec_dot_2x2 = arm::vec_dot_2x2_k<arm::DotTile<D>, arm::FmtQ3_K>;
  at(GT::kQ4_K).vec_dot_2x2 = arm::vec_dot_2x2_k<arm::DotTile<D>, arm::FmtQ4_K>;
  at(GT::kQ5_K).vec_dot_2x2 = arm::vec_dot_2x2_k<arm::DotTile<D>, arm::FmtQ5_K>;
  at(GT::kQ6_K).vec_dot_2x2 = arm::vec_dot_2x2_k<arm::DotTile<D>, arm::FmtQ6_K>;

  at(GT::kQ4_0).pack_rows = kPackRows;
  at(GT::kQ4_0).pack = arm::pack_32<PackedQ4_0>;
  at(GT::kQ4_0).gemm_packed = gemm_packed_32<PackedQ4_0>;
  at(GT::kQ8_0).pack_rows = kPackRows;
  at(GT::kQ8_0).pack = arm::pack_32<PackedQ8_0>;
  at(GT::kQ8_0).gemm_packed = gemm_packed_32<PackedQ8_0>;
  at(GT::kQ4_K).pack_rows = kPackRows;
  at(GT::kQ4_K).pack = arm::pack_q4_k<4, kQK_K / 2>;
  at(GT::kQ4_K).gemm_packed = gemm_packed_q4_k;
}

}  // namespace pm
#endif  // __aarch64__
