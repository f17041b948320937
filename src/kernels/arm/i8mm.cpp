// ARMv8.6 int8 matrix-multiply kernels (SMMLA), over the dotprod table: the two-by-two dot
// products of prompt processing. One SMMLA multiplies a 2x8 block of activations (two rows)
// by a 2x8 block of weights (two rows) into a 2x2 int32 tile, so 16 elements of all four
// (weight row, activation row) pairs take two instructions. The block decoders are
// kernels/arm/quant_dot.h's, compiled here for +i8mm; the float steps are the reference's, so
// every output equals vec_dot's (and the reference's) to the bit. Q4_0, Q8_0 and Q4_K weights
// are also repacked at load into a layout made for SMMLA (see "Repacked weights" below).
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

// The 2x2 tile of arm::vec_dot_2x2_*: SMMLA multiplies the 2x8 activation block [a0 | a1] by
// the 2x8 weight block [w0 | w1] transposed, giving [c0r0, c0r1, c1r0, c1r1] directly.
struct MmlaTile {
  int32x4_t p = vdupq_n_s32(0);
  void add(int8x16_t w0, int8x16_t w1, int8x16_t a0, int8x16_t a1) {
    p = vmmlaq_s32(p, arm::zip_lo64(a0, a1), arm::zip_lo64(w0, w1));
    p = vmmlaq_s32(p, arm::zip_hi64(a0, a1), arm::zip_hi64(w0, w1));
  }
  int32x4_t sums() const { return p; }
};

// ---- Repacked weights (SMMLA: 4 rows per group, as row pairs) -------------------------------
//
// SMMLA multiplies a 2x8 int8 block by the transpose of another: one instruction gives the four
// dot products of 8 elements of two activation rows with 8 elements of two weight rows. So the
// weights are stored two rows side by side, 8 bytes of each: a group holds 4 rows (pairs p = 0,
// 1: rows 2p, 2p + 1) block after block, each packed block taking the bytes of the 4 blocks it
// replaces: the 4 f16 scales (row r at bytes 2r, 2r + 1), then 16-byte vectors [row 2p's 8
// bytes | row 2p + 1's 8 bytes]:
//   Q8_0: 8 vectors; vector 4p + k = rows 2p, 2p + 1's qs[8k .. 8k + 7] (elements 8k .. 8k + 7).
//   Q4_0: 4 vectors; vector 2p + h = rows 2p, 2p + 1's qs[8h .. 8h + 7] ^ 0x88: vshl #4 gives
//         elements 8h .. 8h + 7 times 16, an AND with 0xf0 elements 16 + 8h .. 16 + 8h + 7 times
//         16 (as in dotprod.cpp: n ^ 8 at the top of a byte reads as 16 * (n - 8)); the int32
//         sums are 16 times the reference's and a shift right by 4 gives them back exactly.
// Two activation rows are put side by side with four 64-bit zips per block (chunk k = their
// bytes 8k .. 8k + 7), then 8 SMMLA give the 2 x 4 block sums, [t r0, t r1, t' r0, t' r1] and
// [t r2, t r3, t' r2, t' r3], and two 64-bit zips turn them into one vector of 4 rows per
// activation row. Per block and pair of activation rows: 4 loads, 4 zips, 8 SMMLA, 2 zips, then
// per activation row 1 convert, 2 multiplies, 1 add (against 16 SDOT for the pair in
// dotprod.cpp's layout). Each lane holds the reference's int32 block sum, and
// acc = acc + float(isum) * d_w * d_a block after block in vec_dot_32's order: vec_dot's bits.
using arm::kPackRows;
using arm::packed_scales;

struct PackedQ8_0 {
  static constexpr bool kTimes16 = false;
  static constexpr size_t kBlockBytes = kPackRows * sizeof(BlockQ8_0);
  static constexpr auto pack_block = arm::pack_block_32<BlockQ8_0, 8, 0>;
  // w[4p + k]: rows 2p, 2p + 1, elements 8k .. 8k + 7.
  static void decode(const uint8_t* blk, int8x16_t w[8]) {
    for (int v = 0; v < 8; ++v) w[v] = vld1q_s8(reinterpret_cast<const int8_t*>(blk + 2 * kPackRows + 16 * v));
  }
};

struct PackedQ4_0 {
  static constexpr bool kTimes16 = true;
  static constexpr size_t kBlockBytes = kPackRows * sizeof(BlockQ4_0);
  static constexpr auto pack_block = arm::pack_block_32<BlockQ4_0, 8, 0x88>;
  // As PackedQ8_0's: w[4p + k] = rows 2p, 2p + 1, elements 8k .. 8k + 7 (times 16).
  static void decode(const uint8_t* blk, int8x16_t w[8]) {
    for (int p = 0; p < 2; ++p)
      for (int h = 0; h < 2; ++h) {
        const uint8x16_t v = vld1q_u8(blk + 2 * kPackRows + 16 * (2 * p + h));
        w[4 * p + h] = arm::as_s8(vshlq_n_u8(v, 4));
        w[4 * p + 2 + h] = arm::as_s8(vandq_u8(v, vdupq_n_u8(0xf0)));
      }
  }
};

// The int32 sums of the 4 rows of a decoded block with activation blocks y0 (row t) and y1
// (row t'): lo = [t r0, t r1, t r2, t r3], hi = the same for t'.
inline void smmla_4_rows(const int8x16_t w[8], const int8_t* y0, const int8_t* y1, int32x4_t& lo, int32x4_t& hi) {
  const int8x16_t a0 = vld1q_s8(y0), a1 = vld1q_s8(y0 + 16), b0 = vld1q_s8(y1), b1 = vld1q_s8(y1 + 16);
  const int8x16_t x[4] = {arm::zip_lo64(a0, b0), arm::zip_hi64(a0, b0), arm::zip_lo64(a1, b1), arm::zip_hi64(a1, b1)};
  int32x4_t s01 = vdupq_n_s32(0), s23 = vdupq_n_s32(0);
  for (int k = 0; k < 4; ++k) {
    s01 = vmmlaq_s32(s01, x[k], w[k]);
    s23 = vmmlaq_s32(s23, x[k], w[4 + k]);
  }
  lo = vreinterpretq_s32_s64(vzip1q_s64(vreinterpretq_s64_s32(s01), vreinterpretq_s64_s32(s23)));
  hi = vreinterpretq_s32_s64(vzip2q_s64(vreinterpretq_s64_s32(s01), vreinterpretq_s64_s32(s23)));
}

// out[t * os + r] = vec_dot(row r, activation row t), r < 4: activation rows kTok at a time (each
// weight block decoded once for them), in pairs; an odd last row is paired with itself and the
// copy's sums dropped (every lane's sum is its own pair's alone, so that changes no bit).
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
      for (int t = 0; t < nt; t += 2) {
        const int t1 = t + 1 < nt ? t + 1 : t;
        const BlockQ8_0& y0 = reinterpret_cast<const BlockQ8_0*>(ab + size_t(t0 + t) * as)[b];
        const BlockQ8_0& y1 = reinterpret_cast<const BlockQ8_0*>(ab + size_t(t0 + t1) * as)[b];
        int32x4_t s[2];
        smmla_4_rows(w, y0.qs, y1.qs, s[0], s[1]);
        const float d[2] = {arm::fp16_to_f32(y0.d), arm::fp16_to_f32(y1.d)};
        for (int e = 0; e < 2 && t + e < nt; ++e) {
          const int32x4_t isum = P::kTimes16 ? vshrq_n_s32(s[e], 4) : s[e];
          acc[t + e] = vaddq_f32(acc[t + e], vmulq_f32(vmulq_f32(vcvtq_f32_s32(isum), dx), vdupq_n_f32(d[e])));
        }
      }
    }
    for (int t = 0; t < nt; ++t) vst1q_f32(out + size_t(t0 + t) * os, acc[t]);
  }
}

// Q4_K, per super-block of 4 rows (576 bytes, as the 4 blocks): the 4 d, the 4 dmin (f16), the
// 12 scale bytes as 3 vectors (vector v, lane r = row r's scales[4v .. 4v + 3], as in
// dotprod.cpp), then the quants as 32 row-pair vectors: vector 8j + 4p + c = [row 2p's
// qs[32j + 8c .. + 7] | row 2p + 1's], whose low nibbles are elements 8c .. 8c + 7 of sub-block
// 2j and high nibbles the same of sub-block 2j + 1. Per sub-block and pair of activation rows: 4
// loads, 4 zips, 8 SMMLA, 2 zips. Per row the reference's integers,
//   scaled = sum_s sc[s] * <q_s, y_s>,  mins = sum_s mn[s] * (bsums[2s] + bsums[2s + 1]),
// then acc = acc + d_a * (d * scaled - dmin * mins) in vec_dot_k's order: vec_dot's bits.
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
      const BlockQ8_K* y[kTok];
      for (int t = 0; t < kTok; ++t)  // rows past nt repeat the last (their sums are dropped)
        y[t] = &reinterpret_cast<const BlockQ8_K*>(ab + size_t(t0 + (t < nt ? t : nt - 1)) * as)[b];
      int32x4_t sc[8], mn[8];
      arm::unpack_q4_k_scales(blk, sc, mn);
      int32x4_t scaled[kTok], mins[kTok];
      for (int t = 0; t < nt; ++t) {
        mins[t] = arm::q4_k_mins(mn, *y[t]);
        scaled[t] = vdupq_n_s32(0);
      }
      for (int j = 0; j < 4; ++j) {
        int8x16_t w[2][8];  // w[k][4p + c]: sub-block 2j + k, rows 2p, 2p + 1, elements 8c .. 8c + 7
        for (int v = 0; v < 8; ++v) {
          const uint8x16_t q = vld1q_u8(blk + PackedQ4_K::kQs + 16 * (8 * j + v));
          w[0][v] = arm::as_s8(vandq_u8(q, m4));
          w[1][v] = arm::as_s8(vshrq_n_u8(q, 4));
        }
        for (int t = 0; t < nt; t += 2) {
          for (int k = 0; k < 2; ++k) {
            const int s = 2 * j + k;
            int32x4_t sums[2];
            smmla_4_rows(w[k], y[t]->qs + 32 * s, y[t + 1]->qs + 32 * s, sums[0], sums[1]);
            scaled[t] = vmlaq_s32(scaled[t], sums[0], sc[s]);
            if (t + 1 < nt) scaled[t + 1] = vmlaq_s32(scaled[t + 1], sums[1], sc[s]);
          }
        }
      }
      for (int t = 0; t < nt; ++t) acc[t] = arm::q4_k_accumulate(acc[t], blk, scaled[t], mins[t], y[t]->d);
    }
    for (int t = 0; t < nt; ++t) vst1q_f32(out + size_t(t0 + t) * os, acc[t]);
  }
}

}  // namespace

void add_i8mm_kernels(Kernels& k) {
  auto at = [&](GgmlType t) -> TypeKernels& { return k.types[static_cast<uint32_t>(t)]; };
  using GT = GgmlType;

  at(GT::kQ4_0).vec_dot_2x2 = arm::vec_dot_2x2_32<MmlaTile, arm::FmtQ4_0>;
  at(GT::kQ4_1).vec_dot_2x2 = arm::vec_dot_2x2_32<MmlaTile, arm::FmtQ4_1>;
  at(GT::kQ5_0).vec_dot_2x2 = arm::vec_dot_2x2_32<MmlaTile, arm::FmtQ5_0>;
  at(GT::kQ5_1).vec_dot_2x2 = arm::vec_dot_2x2_32<MmlaTile, arm::FmtQ5_1>;
  at(GT::kQ8_0).vec_dot_2x2 = arm::vec_dot_2x2_32<MmlaTile, arm::FmtQ8_0>;
  at(GT::kQ2_K).vec_dot_2x2 = arm::vec_dot_2x2_k<MmlaTile, arm::FmtQ2_K>;
  at(GT::kQ3_K).vec_dot_2x2 = arm::vec_dot_2x2_k<MmlaTile, arm::FmtQ3_K>;
  at(GT::kQ4_K).vec_dot_2x2 = arm::vec_dot_2x2_k<MmlaTile, arm::FmtQ4_K>;
  at(GT::kQ5_K).vec_dot_2x2 = arm::vec_dot_2x2_k<MmlaTile, arm::FmtQ5_K>;
  at(GT::kQ6_K).vec_dot_2x2 = arm::vec_dot_2x2_k<MmlaTile, arm::FmtQ6_K>;

  at(GT::kQ4_0).pack_rows = kPackRows;
  at(GT::kQ4_0).pack = arm::pack_32<PackedQ4_0>;
  at(GT::kQ4_0).gemm_packed = gemm_packed_32<PackedQ4_0>;
  at(GT::kQ8_0).pack_rows = kPackRows;
  at(GT::kQ8_0).pack = arm::pack_32<PackedQ8_0>;
  at(GT::kQ8_0).gemm_packed = gemm_packed_32<PackedQ8_0>;
  at(GT::kQ4_K).pack_rows = kPackRows;
  at(GT::kQ4_K).pack = arm::pack_q4_k<8, 32>;
  at(GT::kQ4_K).gemm_packed = gemm_packed_q4_k;
}

}  // namespace pm
#endif  // __aarch64__
