// ARMv8.0 Advanced SIMD kernels (every aarch64 CPU), over the scalar reference table.
//
// Int8 dot products multiply with widening (SMULL / SMLAL2: two products summed in int16,
// |w * a| <= 128 * 127 so a pair stays below 2^15) and add pairs into int32 (SADALP); the
// block formats themselves are decoded by kernels/arm/quant_dot.h. The float formats are
// converted with the FP16 conversion instructions of the base ISA and accumulate in float FMA
// (the reference accumulates in double: results agree to float rounding).
//
// Activation quantizers (Q8_0, Q8_1, Q8_K) and the fp16 / bf16 encoders produce exactly the
// reference's bytes: same operations in the same order, with the rounding instructions that
// match std::round (FCVTAS, ties away) and lrintf (FCVTNS, ties to even).
#if defined(__aarch64__)
#include <arm_neon.h>

#include <cstdint>
#include <cstring>

#include "kernels/arm/quant_dot.h"
#include "kernels/ggml_types.h"
#include "kernels/isa.h"

namespace pm {
namespace {

using arm::fp16_to_f32;

struct NeonDot {
  static int32x4_t acc(int32x4_t acc, int8x16_t w, int8x16_t a) {
    int16x8_t p = vmull_s8(vget_low_s8(w), vget_low_s8(a));
    p = vmlal_high_s8(p, w, a);
    return vpadalq_s16(acc, p);
  }
};

// ---- float formats --------------------------------------------------------------------------

float f32_vec_dot(int64_t n, const void* w, const void* a) {
  const float* x = static_cast<const float*>(w);
  const float* y = static_cast<const float*>(a);
  float32x4_t acc[4];
  for (float32x4_t& v : acc) v = vdupq_n_f32(0.0f);
  int64_t i = 0;
  for (; i + 16 <= n; i += 16)
    for (int k = 0; k < 4; ++k) acc[k] = vfmaq_f32(acc[k], vld1q_f32(x + i + 4 * k), vld1q_f32(y + i + 4 * k));
  for (; i + 4 <= n; i += 4) acc[0] = vfmaq_f32(acc[0], vld1q_f32(x + i), vld1q_f32(y + i));
  float sum = vaddvq_f32(vaddq_f32(vaddq_f32(acc[0], acc[1]), vaddq_f32(acc[2], acc[3])));
  for (; i < n; ++i) sum += x[i] * y[i];
  return sum;
}

inline float32x4_t f16_low(uint16x8_t v) { return vcvt_f32_f16(vreinterpret_f16_u16(vget_low_u16(v))); }
inline float32x4_t f16_high(uint16x8_t v) { return vcvt_high_f32_f16(vreinterpretq_f16_u16(v)); }

void f16_to_float(const void* src, float* dst, int64_t n) {
  const uint16_t* s = static_cast<const uint16_t*>(src);
  int64_t i = 0;
  for (; i + 8 <= n; i += 8) {
    const uint16x8_t v = vld1q_u16(s + i);
    vst1q_f32(dst + i, f16_low(v));
    vst1q_f32(dst + i + 4, f16_high(v));
  }
  for (; i < n; ++i) dst[i] = fp16_to_f32(s[i]);
}

// Round to nearest even, overflow to inf (FCVTN); NaN becomes sign | 0x7e00 as in the
// reference (the instruction would keep part of the payload).
inline uint16x4_t f32_to_f16x4(float32x4_t v) {
  const uint16x4_t h = vreinterpret_u16_f16(vcvt_f16_f32(v));
  const uint16x4_t is_nan = vmovn_u32(vmvnq_u32(vceqq_f32(v, v)));
  const uint16x4_t sign = vand_u16(vshrn_n_u32(vreinterpretq_u32_f32(v), 16), vdup_n_u16(0x8000));
  return vbsl_u16(is_nan, vorr_u16(sign, vdup_n_u16(0x7e00)), h);
}

void f16_from_float(const float* src, void* dst, int64_t n) {
  uint16_t* d = static_cast<uint16_t*>(dst);
  int64_t i = 0;
  for (; i + 4 <= n; i += 4) vst1_u16(d + i, f32_to_f16x4(vld1q_f32(src + i)));
  for (; i < n; ++i) {
    const float v[4] = {src[i], 0.0f, 0.0f, 0.0f};
    d[i] = vget_lane_u16(f32_to_f16x4(vld1q_f32(v)), 0);
  }
}

// f32 activations (the type's vec_dot_type): only the weights are converted.
float f16_vec_dot(int64_t n, const void* w, const void* a) {
  const uint16_t* x = static_cast<const uint16_t*>(w);
  const float* y = static_cast<const float*>(a);
  float32x4_t acc[4];
  for (float32x4_t& v : acc) v = vdupq_n_f32(0.0f);
  int64_t i = 0;
  for (; i + 16 <= n; i += 16) {
    const uint16x8_t x0 = vld1q_u16(x + i), x1 = vld1q_u16(x + i + 8);
    acc[0] = vfmaq_f32(acc[0], f16_low(x0), vld1q_f32(y + i));
    acc[1] = vfmaq_f32(acc[1], f16_high(x0), vld1q_f32(y + i + 4));
    acc[2] = vfmaq_f32(acc[2], f16_low(x1), vld1q_f32(y + i + 8));
    acc[3] = vfmaq_f32(acc[3], f16_high(x1), vld1q_f32(y + i + 12));
  }
  for (; i + 4 <= n; i += 4)
    acc[0] = vfmaq_f32(acc[0], vcvt_f32_f16(vreinterpret_f16_u16(vld1_u16(x + i))), vld1q_f32(y + i));
  float sum = vaddvq_f32(vaddq_f32(vaddq_f32(acc[0], acc[1]), vaddq_f32(acc[2], acc[3])));
  for (; i < n; ++i) sum += fp16_to_f32(x[i]) * y[i];
  return sum;
}

// bf16 is the top half of an fp32.
inline float32x4_t bf16_low(uint16x8_t v) { return vreinterpretq_f32_u32(vshll_n_u16(vget_low_u16(v), 16)); }
inline float32x4_t bf16_high(uint16x8_t v) { return vreinterpretq_f32_u32(vshll_high_n_u16(v, 16)); }
inline float bf16_scalar(uint16_t h) {
  return vgetq_lane_f32(vreinterpretq_f32_u32(vshll_n_u16(vdup_n_u16(h), 16)), 0);
}

void bf16_to_float(const void* src, float* dst, int64_t n) {
  const uint16_t* s = static_cast<const uint16_t*>(src);
  int64_t i = 0;
  for (; i + 8 <= n; i += 8) {
    const uint16x8_t v = vld1q_u16(s + i);
    vst1q_f32(dst + i, bf16_low(v));
    vst1q_f32(dst + i + 4, bf16_high(v));
  }
  for (; i < n; ++i) dst[i] = bf16_scalar(s[i]);
}

// The reference's integer rounding: (x + 0x7fff + lsb) >> 16 (to nearest even); NaN becomes
// (x >> 16) | 0x40 (quiet).
inline uint16x4_t f32_to_bf16x4(float32x4_t v) {
  const uint32x4_t x = vreinterpretq_u32_f32(v);
  const uint32x4_t lsb = vandq_u32(vshrq_n_u32(x, 16), vdupq_n_u32(1));
  const uint32x4_t rounded = vshrq_n_u32(vaddq_u32(x, vaddq_u32(vdupq_n_u32(0x7fff), lsb)), 16);
  const uint32x4_t is_nan = vcgtq_u32(vandq_u32(x, vdupq_n_u32(0x7fffffffu)), vdupq_n_u32(0x7f800000u));
  const uint32x4_t quiet = vorrq_u32(vshrq_n_u32(x, 16), vdupq_n_u32(0x40));
  return vmovn_u32(vbslq_u32(is_nan, quiet, rounded));
}

void bf16_from_float(const float* src, void* dst, int64_t n) {
  uint16_t* d = static_cast<uint16_t*>(dst);
  int64_t i = 0;
  for (; i + 4 <= n; i += 4) vst1_u16(d + i, f32_to_bf16x4(vld1q_f32(src + i)));
  for (; i < n; ++i) {
    const float v[4] = {src[i], 0.0f, 0.0f, 0.0f};
    d[i] = vget_lane_u16(f32_to_bf16x4(vld1q_f32(v)), 0);
  }
}

float bf16_vec_dot(int64_t n, const void* w, const void* a) {
  const uint16_t* x = static_cast<const uint16_t*>(w);
  const uint16_t* y = static_cast<const uint16_t*>(a);
  float32x4_t acc[4];
  for (float32x4_t& v : acc) v = vdupq_n_f32(0.0f);
  int64_t i = 0;
  for (; i + 16 <= n; i += 16) {
    const uint16x8_t x0 = vld1q_u16(x + i), x1 = vld1q_u16(x + i + 8);
    const uint16x8_t y0 = vld1q_u16(y + i), y1 = vld1q_u16(y + i + 8);
    acc[0] = vfmaq_f32(acc[0], bf16_low(x0), bf16_low(y0));
    acc[1] = vfmaq_f32(acc[1], bf16_high(x0), bf16_high(y0));
    acc[2] = vfmaq_f32(acc[2], bf16_low(x1), bf16_low(y1));
    acc[3] = vfmaq_f32(acc[3], bf16_high(x1), bf16_high(y1));
  }
  float sum = vaddvq_f32(vaddq_f32(vaddq_f32(acc[0], acc[1]), vaddq_f32(acc[2], acc[3])));
  for (; i < n; ++i) sum += bf16_scalar(x[i]) * bf16_scalar(y[i]);
  return sum;
}

// ---- activation quantizers ------------------------------------------------------------------

// Largest |x| of n floats (n a multiple of 4), starting from 0 and taking |x| only where
// amax < |x|, as the reference does: every NaN is skipped (FMAXNM would not skip a signaling
// one).
inline float abs_max(const float* x, int n) {
  float32x4_t m = vdupq_n_f32(0.0f);
  for (int j = 0; j < n; j += 4) {
    const float32x4_t v = vabsq_f32(vld1q_f32(x + j));
    m = vbslq_f32(vcltq_f32(m, v), v, m);
  }
  return vmaxvq_f32(m);
}

inline uint16_t f32_to_fp16(float f) { return vget_lane_u16(f32_to_f16x4(vdupq_n_f32(f)), 0); }

// 16 int32 lanes to int8 keeping the low byte, as the reference's int8_t(...) conversion does.
inline int8x16_t low_bytes(int32x4_t q0, int32x4_t q1, int32x4_t q2, int32x4_t q3) {
  const int16x8_t lo = vcombine_s16(vmovn_s32(q0), vmovn_s32(q1));
  const int16x8_t hi = vcombine_s16(vmovn_s32(q2), vmovn_s32(q3));
  return vcombine_s8(vmovn_s16(lo), vmovn_s16(hi));
}

// q = round(x * id), halves away from zero (FCVTAS, as std::round; NaN gives 0).
inline int8x16_t round_away_16(const float* x, float id) {
  int32x4_t q[4];
  for (int k = 0; k < 4; ++k) q[k] = vcvtaq_s32_f32(vmulq_n_f32(vld1q_f32(x + 4 * k), id));
  return low_bytes(q[0], q[1], q[2], q[3]);
}

// d = amax / 127, q = round(x / d) (halves away from zero), dividing by multiplying with 1 / d.
void q8_0_from_float(const float* x, void* dst, int64_t n) {
  BlockQ8_0* b = static_cast<BlockQ8_0*>(dst);
  for (int64_t i = 0; i < n / kQK8_0; ++i, x += kQK8_0) {
    const float d = abs_max(x, kQK8_0) / 127.0f;
    const float id = d != 0.0f ? 1.0f / d : 0.0f;
    b[i].d = f32_to_fp16(d);
    vst1q_s8(b[i].qs, round_away_16(x, id));
    vst1q_s8(b[i].qs + 16, round_away_16(x + 16, id));
  }
}

// As Q8_0, plus s = fp16(d * sum q) with the unrounded d.
void q8_1_from_float(const float* x, void* dst, int64_t n) {
  BlockQ8_1* b = static_cast<BlockQ8_1*>(dst);
  for (int64_t i = 0; i < n / kQK8_1; ++i, x += kQK8_1) {
    const float d = abs_max(x, kQK8_1) / 127.0f;
    const float id = d != 0.0f ? 1.0f / d : 0.0f;
    const int8x16_t q0 = round_away_16(x, id), q1 = round_away_16(x + 16, id);
    vst1q_s8(b[i].qs, q0);
    vst1q_s8(b[i].qs + 16, q1);
    const int sum = vaddlvq_s8(q0) + vaddlvq_s8(q1);
    b[i].d = f32_to_fp16(d);
    b[i].s = f32_to_fp16(float(sum) * d);
  }
}

// The value of largest magnitude (signed; the first of equals) maps to -127: iscale = -127 / max,
// q = min(127, nearest(iscale * x)) with ties to even, d = 1 / iscale; bsums of 16.
void q8_k_from_float(const float* x, void* dst, int64_t n) {
  BlockQ8_K* b = static_cast<BlockQ8_K*>(dst);
  for (int64_t i = 0; i < n / kQK_K; ++i, x += kQK_K) {
    const float amax = abs_max(x, kQK_K);
    if (amax == 0.0f) {
      std::memset(&b[i], 0, sizeof(BlockQ8_K));
      continue;
    }
    int first = 0;  // the first 4 holding |x| == amax, then the first of those
    const float32x4_t amax_v = vdupq_n_f32(amax);
    while (vmaxvq_u32(vceqq_f32(vabsq_f32(vld1q_f32(x + first)), amax_v)) == 0) first += 4;
    while (!(x[first] == amax || x[first] == -amax)) ++first;
    const float iscale = -127.0f / x[first];
    // A max below ~4e-37 makes iscale infinite; the reference's nearest_int (lrintf to a long,
    // then int) then keeps the low 32 bits of a saturated 64-bit value: done here in 64 bits.
    const bool finite = iscale >= -3.40282347e38f && iscale <= 3.40282347e38f;
    const int32x4_t cap = vdupq_n_s32(127);
    for (int s = 0; s < 16; ++s) {
      int32x4_t q[4];
      for (int k = 0; k < 4; ++k) {
        const float32x4_t v = vmulq_n_f32(vld1q_f32(x + 16 * s + 4 * k), iscale);
        if (finite) {
          q[k] = vcvtnq_s32_f32(v);
        } else {
          const int64x2_t lo = vcvtnq_s64_f64(vcvt_f64_f32(vget_low_f32(v)));
          const int64x2_t hi = vcvtnq_s64_f64(vcvt_high_f64_f32(v));
          q[k] = vcombine_s32(vmovn_s64(lo), vmovn_s64(hi));
        }
        q[k] = vminq_s32(q[k], cap);
      }
      const int8x16_t q8 = low_bytes(q[0], q[1], q[2], q[3]);
      vst1q_s8(b[i].qs + 16 * s, q8);
      b[i].bsums[s] = int16_t(vaddlvq_s8(q8));
    }
    b[i].d = 1.0f / iscale;
  }
}

}  // namespace

void add_neon_kernels(Kernels& k) {
  auto at = [&](GgmlType t) -> TypeKernels& { return k.types[static_cast<uint32_t>(t)]; };
  using GT = GgmlType;

  at(GT::kF32).vec_dot = f32_vec_dot;
  at(GT::kF16).to_float = f16_to_float;
  at(GT::kF16).from_float = f16_from_float;
  at(GT::kF16).vec_dot = f16_vec_dot;
  at(GT::kBF16).to_float = bf16_to_float;
  at(GT::kBF16).from_float = bf16_from_float;
  at(GT::kBF16).vec_dot = bf16_vec_dot;

  at(GT::kQ8_0).from_float = q8_0_from_float;
  at(GT::kQ8_1).from_float = q8_1_from_float;
  at(GT::kQ8_K).from_float = q8_k_from_float;

  at(GT::kQ4_0).vec_dot = arm::vec_dot_32<NeonDot, arm::FmtQ4_0>;
  at(GT::kQ4_1).vec_dot = arm::vec_dot_32<NeonDot, arm::FmtQ4_1>;
  at(GT::kQ5_0).vec_dot = arm::vec_dot_32<NeonDot, arm::FmtQ5_0>;
  at(GT::kQ5_1).vec_dot = arm::vec_dot_32<NeonDot, arm::FmtQ5_1>;
  at(GT::kQ8_0).vec_dot = arm::vec_dot_32<NeonDot, arm::FmtQ8_0>;
  at(GT::kQ8_1).vec_dot = arm::vec_dot_32<NeonDot, arm::FmtQ8_1>;
  at(GT::kQ2_K).vec_dot = arm::vec_dot_k<NeonDot, arm::FmtQ2_K>;
  at(GT::kQ3_K).vec_dot = arm::vec_dot_k<NeonDot, arm::FmtQ3_K>;
  at(GT::kQ4_K).vec_dot = arm::vec_dot_k<NeonDot, arm::FmtQ4_K>;
  at(GT::kQ5_K).vec_dot = arm::vec_dot_k<NeonDot, arm::FmtQ5_K>;
  at(GT::kQ6_K).vec_dot = arm::vec_dot_k<NeonDot, arm::FmtQ6_K>;
  at(GT::kQ8_K).vec_dot = arm::vec_dot_q8_k<NeonDot>;
}

}  // namespace pm
#endif  // __aarch64__
