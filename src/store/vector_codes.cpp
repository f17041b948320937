#include "store/vector_codes.h"

#include <cmath>
#include <cstring>

#include "core/cpu_features.h"

#if defined(__x86_64__)
#include <immintrin.h>
#endif
#if defined(__aarch64__)
#include <arm_neon.h>
#endif

namespace pm::store {
namespace {

constexpr size_t kGroupBytesPerChunk = 64;

int32_t load_i32(const int8_t* p) {
  int32_t v;
  std::memcpy(&v, p, 4);
  return v;
}

// out[r] = <q, codes of row r> over `chunks` chunks of one group.
using GroupDots = void (*)(const uint8_t* group, const int8_t* q, uint32_t chunks, int32_t* out);

void group_dots_scalar(const uint8_t* group, const int8_t* q, uint32_t chunks, int32_t* out) {
  for (int r = 0; r < 16; ++r) out[r] = 0;
  for (uint32_t c = 0; c < chunks; ++c) {
    const uint8_t* b = group + kGroupBytesPerChunk * c;
    const int8_t* qc = q + VectorCodes::kChunk * c;
    for (int r = 0; r < 16; ++r)
      for (int e = 0; e < 4; ++e)
        for (int k = 0; k < 4; ++k) out[r] += int32_t(qc[4 * k + e]) * ((b[4 * r + e] >> (2 * k)) & 3);
  }
}

#if defined(__x86_64__)
__attribute__((target("avx2"))) void group_dots_avx2(const uint8_t* group, const int8_t* q, uint32_t chunks,
                                                     int32_t* out) {
  const __m256i m2 = _mm256_set1_epi8(3), ones = _mm256_set1_epi16(1);
  __m256i acc0 = _mm256_setzero_si256(), acc1 = _mm256_setzero_si256();  // rows 0-7, 8-15
  for (uint32_t c = 0; c < chunks; ++c) {
    const __m256i p0 = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(group + kGroupBytesPerChunk * c));
    const __m256i p1 = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(group + kGroupBytesPerChunk * c + 32));
    for (int k = 0; k < 4; ++k) {
      const __m256i qb = _mm256_set1_epi32(load_i32(q + VectorCodes::kChunk * c + 4 * k));
      // codes (0..3, unsigned) x query (signed): pairs summed in int16 (|.| <= 2 * 3 * 128), then in int32.
      const __m256i w0 = _mm256_and_si256(_mm256_srli_epi16(p0, 2 * k), m2);
      const __m256i w1 = _mm256_and_si256(_mm256_srli_epi16(p1, 2 * k), m2);
      acc0 = _mm256_add_epi32(acc0, _mm256_madd_epi16(_mm256_maddubs_epi16(w0, qb), ones));
      acc1 = _mm256_add_epi32(acc1, _mm256_madd_epi16(_mm256_maddubs_epi16(w1, qb), ones));
    }
  }
  _mm256_storeu_si256(reinterpret_cast<__m256i*>(out), acc0);
  _mm256_storeu_si256(reinterpret_cast<__m256i*>(out + 8), acc1);
}

__attribute__((target("avx512f,avx512bw,avx512vnni"))) void group_dots_avx512vnni(const uint8_t* group,
                                                                                  const int8_t* q, uint32_t chunks,
                                                                                  int32_t* out) {
  const __m512i m2 = _mm512_set1_epi8(3);
  __m512i acc0 = _mm512_setzero_si512(), acc1 = _mm512_setzero_si512();  // two chains
  for (uint32_t c = 0; c < chunks; ++c) {
    const __m512i p = _mm512_loadu_si512(group + kGroupBytesPerChunk * c);
    const int8_t* qc = q + VectorCodes::kChunk * c;
    acc0 = _mm512_dpbusd_epi32(acc0, _mm512_and_si512(p, m2), _mm512_set1_epi32(load_i32(qc)));
    acc1 = _mm512_dpbusd_epi32(acc1, _mm512_and_si512(_mm512_srli_epi16(p, 2), m2), _mm512_set1_epi32(load_i32(qc + 4)));
    acc0 = _mm512_dpbusd_epi32(acc0, _mm512_and_si512(_mm512_srli_epi16(p, 4), m2), _mm512_set1_epi32(load_i32(qc + 8)));
    acc1 = _mm512_dpbusd_epi32(acc1, _mm512_and_si512(_mm512_srli_epi16(p, 6), m2),
                               _mm512_set1_epi32(load_i32(qc + 12)));
  }
  _mm512_storeu_si512(out, _mm512_add_epi32(acc0, acc1));
}
#endif

#if defined(__aarch64__)
// Base NEON (no dotprod needed): products widened to int16, adjacent pairs added, then each
// 32-bit lane (one row) accumulates its four.
void group_dots_neon(const uint8_t* group, const int8_t* q, uint32_t chunks, int32_t* out) {
  int32x4_t acc[4] = {vdupq_n_s32(0), vdupq_n_s32(0), vdupq_n_s32(0), vdupq_n_s32(0)};
  const uint8x16_t m2 = vdupq_n_u8(3);
  for (uint32_t c = 0; c < chunks; ++c) {
    const uint8_t* b = group + kGroupBytesPerChunk * c;
    for (int k = 0; k < 4; ++k) {
      const int8x16_t qb = vreinterpretq_s8_s32(vdupq_n_s32(load_i32(q + VectorCodes::kChunk * c + 4 * k)));
      for (int j = 0; j < 4; ++j) {
        uint8x16_t v = vld1q_u8(b + 16 * j);
        switch (k) {  // vshrq_n_u8 takes an immediate
          case 1: v = vshrq_n_u8(v, 2); break;
          case 2: v = vshrq_n_u8(v, 4); break;
          case 3: v = vshrq_n_u8(v, 6); break;
          default: break;
        }
        const int8x16_t w = vreinterpretq_s8_u8(vandq_u8(v, m2));
        const int16x8_t lo = vmull_s8(vget_low_s8(w), vget_low_s8(qb));
        const int16x8_t hi = vmull_high_s8(w, qb);
        acc[j] = vpadalq_s16(acc[j], vpaddq_s16(lo, hi));
      }
    }
  }
  for (int j = 0; j < 4; ++j) vst1q_s32(out + 4 * j, acc[j]);
}
#endif

struct Kernel {
  const char* name;
  GroupDots fn;
};

// The kernels this CPU runs, best first; the scalar reference last.
std::vector<Kernel> usable_kernels() {
  std::vector<Kernel> k;
#if defined(__x86_64__)
  const CpuFeatures& f = cpu_features();
  if (f.avx512f && f.avx512bw && f.avx512vnni) k.push_back({"avx512vnni", group_dots_avx512vnni});
  if (f.avx2) k.push_back({"avx2", group_dots_avx2});
#elif defined(__aarch64__)
  k.push_back({"neon", group_dots_neon});
#endif
  k.push_back({"scalar", group_dots_scalar});
  return k;
}

const std::vector<Kernel>& kernels() {
  static const std::vector<Kernel> k = usable_kernels();
  return k;
}

}  // namespace

VectorCodes::VectorCodes(uint32_t dim) : dim_(dim), chunks_((dim + kChunk - 1) / kChunk) {}

void VectorCodes::resize(size_t n) {
  rows_ = n;
  const size_t groups = (n + kGroupRows - 1) / kGroupRows;
  codes_.resize(groups * chunks_ * kGroupBytesPerChunk, 0);
  half_step_.resize(n, 0.0f);
}

void VectorCodes::set(size_t row, const float* x) {
  double ss = 0;
  for (uint32_t i = 0; i < dim_; ++i) ss += double(x[i]) * x[i];
  const float step = dim_ ? float(0.9957 * std::sqrt(ss / dim_)) : 0.0f;
  half_step_[row] = step / 2;
  uint8_t* group = &codes_[(row / kGroupRows) * chunks_ * kGroupBytesPerChunk];
  const size_t r = row % kGroupRows;
  for (uint32_t c = 0; c < chunks_; ++c) std::memset(group + kGroupBytesPerChunk * c + 4 * r, 0, 4);
  for (uint32_t i = 0; i < dim_; ++i) {
    const uint8_t code = x[i] >= 0 ? (x[i] > step ? 3 : 2) : (x[i] < -step ? 0 : 1);
    const uint32_t c = i / kChunk, j = i % kChunk;
    group[kGroupBytesPerChunk * c + 4 * r + j % 4] |= uint8_t(code << (2 * (j / 4)));
  }
}

int VectorCodes::code(size_t row, uint32_t i) const {
  const uint8_t* group = &codes_[(row / kGroupRows) * chunks_ * kGroupBytesPerChunk];
  const uint32_t c = i / kChunk, j = i % kChunk;
  return (group[kGroupBytesPerChunk * c + 4 * (row % kGroupRows) + j % 4] >> (2 * (j / 4))) & 3;
}

int VectorCodes::kernel_count() { return int(kernels().size()); }
const char* VectorCodes::kernel_name(int i) { return kernels()[size_t(i)].name; }

void VectorCodes::group_dots(size_t g, const int8_t* q, int32_t out[kGroupRows], int kernel) const {
  kernels()[size_t(kernel)].fn(&codes_[g * chunks_ * kGroupBytesPerChunk], q, chunks_, out);
}

void VectorCodes::score(const int8_t* q, std::vector<float>& est) const {
  est.resize(rows_);
  int32_t sum_q = 0;
  for (uint32_t i = 0; i < dim_; ++i) sum_q += q[i];
  int32_t dots[kGroupRows];
  const size_t group_bytes = size_t(chunks_) * kGroupBytesPerChunk;
  const GroupDots kernel = kernels().front().fn;
  for (size_t g = 0, row = 0; row < rows_; ++g) {
    kernel(&codes_[g * group_bytes], q, chunks_, dots);
    for (uint32_t r = 0; r < kGroupRows && row < rows_; ++r, ++row)
      est[row] = half_step_[row] * float(2 * dots[r] - 3 * sum_q);
  }
}

}  // namespace pm::store
