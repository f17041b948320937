// The block formats through the kernel table: the type table, the rounding conventions of the
// activation formats, quantize -> dequantize error per type, dot products against
// double-precision references, and the fp16 / bf16 conversions.
//
// Every check that runs a kernel runs it from both generic_kernels() (the scalar reference)
// and every per-ISA table this CPU can run (available_kernels()), so each is held to the same bounds.
#include <algorithm>
#include <limits>
#include <cmath>
#include <cstddef>
#include <cstring>
#include <random>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "core/fp16.h"
#include "core/thread_pool.h"
#include "kernels/kernels.h"
#include "kernels/matmul.h"

namespace pm {
namespace {

using T = GgmlType;

// Every type pocketmind computes with.
constexpr GgmlType kSupported[] = {T::kF32,  T::kF16,  T::kBF16, T::kQ4_0, T::kQ4_1, T::kQ5_0, T::kQ5_1, T::kQ8_0,
                                   T::kQ8_1, T::kQ2_K, T::kQ3_K, T::kQ4_K, T::kQ5_K, T::kQ6_K, T::kQ8_K};

// Every table this CPU runs (the reference first), so that each ISA is held to the same bounds.
const std::vector<const Kernels*>& tables() { return available_kernels(); }

std::vector<uint8_t> quantize(const Kernels& k, GgmlType t, const std::vector<float>& x) {
  std::vector<uint8_t> q(row_size_bytes(t, int64_t(x.size())));
  k.of(t).from_float(x.data(), q.data(), int64_t(x.size()));
  return q;
}

std::vector<float> dequantize(const Kernels& k, GgmlType t, const std::vector<uint8_t>& q, int64_t n) {
  std::vector<float> y(static_cast<size_t>(n));
  k.of(t).to_float(q.data(), y.data(), n);
  return y;
}

enum class Dist { kNormal, kUniform, kOutliers };
const char* dist_name(Dist d) { return d == Dist::kNormal ? "normal" : d == Dist::kUniform ? "uniform" : "outliers"; }

// N(0, 1); U(-1, 1); N(0, 1) with one value in 64 scaled by 20 (as activations of real models).
std::vector<float> make_data(int64_t n, Dist dist, uint32_t seed) {
  std::mt19937 rng(seed);
  std::normal_distribution<float> normal(0.0f, 1.0f);
  std::uniform_real_distribution<float> uniform(-1.0f, 1.0f);
  std::vector<float> x(static_cast<size_t>(n));
  for (float& v : x) {
    switch (dist) {
      case Dist::kNormal: v = normal(rng); break;
      case Dist::kUniform: v = uniform(rng); break;
      case Dist::kOutliers: v = normal(rng) * (rng() % 64 == 0 ? 20.0f : 1.0f); break;
    }
  }
  return x;
}

double rms(const std::vector<float>& v) {
  double s = 0;
  for (float x : v) s += double(x) * x;
  return std::sqrt(s / double(v.size()));
}

double relative_rms_error(const std::vector<float>& x, const std::vector<float>& y) {
  double s = 0;
  for (size_t i = 0; i < x.size(); ++i) s += (double(y[i]) - x[i]) * (double(y[i]) - x[i]);
  return std::sqrt(s / double(x.size())) / rms(x);
}

// ---- the type table ------------------------------------------------------------------------

TEST(QuantsTypeTable, KnownTypes) {
  struct Known {
    GgmlType type;
    const char* name;
    int64_t block_size;
    size_t block_bytes;
    GgmlType vec_dot_type;
  };
  // Sizes from the layouts in ggml_types.h; pairings as llama.cpp makes them (the fixtures'
  // reference outputs quantize activations this way), except that f16 weights meet f32
  // activations (closer to exact; llama.cpp rounds them to f16).
  const Known known[] = {
      {T::kF32, "f32", 1, 4, T::kF32},          {T::kF16, "f16", 1, 2, T::kF32},
      {T::kBF16, "bf16", 1, 2, T::kBF16},       {T::kQ4_0, "q4_0", 32, 18, T::kQ8_0},
      {T::kQ4_1, "q4_1", 32, 20, T::kQ8_1},     {T::kQ5_0, "q5_0", 32, 22, T::kQ8_0},
      {T::kQ5_1, "q5_1", 32, 24, T::kQ8_1},     {T::kQ8_0, "q8_0", 32, 34, T::kQ8_0},
      {T::kQ8_1, "q8_1", 32, 36, T::kQ8_1},     {T::kQ2_K, "q2_K", 256, 84, T::kQ8_K},
      {T::kQ3_K, "q3_K", 256, 110, T::kQ8_K},   {T::kQ4_K, "q4_K", 256, 144, T::kQ8_K},
      {T::kQ5_K, "q5_K", 256, 176, T::kQ8_K},   {T::kQ6_K, "q6_K", 256, 210, T::kQ8_K},
      {T::kQ8_K, "q8_K", 256, 292, T::kQ8_K},
  };
  for (const Known& k : known) {
    SCOPED_TRACE(k.name);
    const TypeInfo* info = type_info(k.type);
    ASSERT_NE(info, nullptr);
    EXPECT_STREQ(info->name, k.name);
    EXPECT_STREQ(type_name(k.type), k.name);
    EXPECT_EQ(info->block_size, k.block_size);
    EXPECT_EQ(info->block_bytes, k.block_bytes);
    EXPECT_EQ(info->vec_dot_type, k.vec_dot_type);
    EXPECT_TRUE(info->supported);
    EXPECT_EQ(info->quantized, k.block_size > 1);
    EXPECT_EQ(row_size_bytes(k.type, 4 * k.block_size), 4 * k.block_bytes);
  }
  EXPECT_EQ(row_size_bytes(T::kQ4_0, 4096), 2304u);  // 128 blocks of 18 bytes
  EXPECT_EQ(row_size_bytes(T::kQ6_K, 512), 420u);
  EXPECT_EQ(row_size_bytes(T::kBF16, 10), 20u);
  // Known to the file format but not computed with.
  EXPECT_STREQ(type_name(T::kIQ2_XXS), "iq2_xxs");
  EXPECT_STREQ(type_name(T::kIQ4_NL), "iq4_nl");
  EXPECT_EQ(row_size_bytes(T::kIQ4_XS, 256), 136u);
  EXPECT_FALSE(type_info(T::kIQ2_XXS)->supported);
  EXPECT_FALSE(type_info(T::kF64)->supported);
}

TEST(QuantsTypeTable, UnknownIds) {
  for (uint32_t id : {4u, 5u, 31u, 99u, 0xffffffffu}) {
    SCOPED_TRACE(id);
    EXPECT_EQ(type_info(id), nullptr);
    EXPECT_STREQ(type_name(static_cast<GgmlType>(id)), "unknown");
    EXPECT_EQ(row_size_bytes(static_cast<GgmlType>(id), 256), 0u);
  }
}

TEST(QuantsTypeTable, NamesRoundTripCaseInsensitively) {
  for (uint32_t id = 0; id < kGgmlTypeCount; ++id) {
    const TypeInfo* info = type_info(id);
    if (info == nullptr) continue;
    EXPECT_EQ(type_from_name(info->name), static_cast<GgmlType>(id)) << info->name;
    std::string upper = info->name;
    for (char& c : upper) c = char(std::toupper(static_cast<unsigned char>(c)));
    EXPECT_EQ(type_from_name(upper), static_cast<GgmlType>(id)) << upper;
  }
  EXPECT_EQ(type_from_name("Q4_K"), T::kQ4_K);
  EXPECT_FALSE(type_from_name("q9_9").has_value());
  EXPECT_FALSE(type_from_name("").has_value());
  EXPECT_FALSE(type_from_name("unknown").has_value());
}

TEST(QuantsTypeTable, EverySupportedTypeHasAllKernels) {
  int supported = 0;
  for (uint32_t id = 0; id < kGgmlTypeCount; ++id) {
    const TypeInfo* info = type_info(id);
    if (info == nullptr || !info->supported) continue;
    ++supported;
    for (const Kernels* k : tables()) {
      const TypeKernels& tk = k->of(static_cast<GgmlType>(id));
      EXPECT_TRUE(tk.to_float && tk.from_float && tk.vec_dot) << k->isa << " " << info->name;
      EXPECT_TRUE(type_info(info->vec_dot_type)->supported) << info->name;
    }
  }
  EXPECT_EQ(supported, int(std::size(kSupported)));
}

// ---- rounding conventions ------------------------------------------------------------------
// Activations are quantized exactly as llama.cpp does it, so that dot products see the same
// 8-bit values as the reference outputs did; the 32-element weight formats follow llama.cpp
// too (files made by `pocketmind quantize` then match llama-quantize's byte for byte). Each
// case below is chosen so that the scale is exactly 1 (or -1) and the rounding is visible.

TEST(QuantsConventions, Q8_0RoundsHalfAwayFromZero) {
  std::vector<float> x(32, 0.0f);
  x[0] = 127.0f;  // amax 127: d = 1
  x[1] = 2.5f, x[2] = -2.5f, x[3] = 3.5f, x[4] = 0.49f, x[5] = -126.5f;
  for (const Kernels* k : tables()) {
    const auto q = quantize(*k, T::kQ8_0, x);
    BlockQ8_0 b;
    std::memcpy(&b, q.data(), sizeof(b));
    EXPECT_EQ(b.d, fp32_to_fp16(1.0f));
    EXPECT_EQ(b.qs[0], 127);
    EXPECT_EQ(b.qs[1], 3);
    EXPECT_EQ(b.qs[2], -3);
    EXPECT_EQ(b.qs[3], 4);
    EXPECT_EQ(b.qs[4], 0);
    EXPECT_EQ(b.qs[5], -127);
  }
}

// Quantized files and activations must not depend on the CPU: every table's from_float writes
// the reference's bytes, on normal data, exact halves, all-zero and tiny (fp16-subnormal) blocks.
TEST(QuantsConventions, FromFloatIsByteIdenticalToTheReference) {
  std::vector<float> x = make_data(4096, Dist::kOutliers, 21);
  for (int i = 0; i < 256; ++i) x[size_t(i)] = float(i % 64 - 32) + 0.5f;  // ties after scaling by 1 (amax 127)
  x[0] = 127.0f;
  for (int i = 256; i < 512; ++i) x[size_t(i)] = 0.0f;
  for (int i = 512; i < 768; ++i) x[size_t(i)] *= 1e-6f;
  for (const Kernels* k : tables()) {
    for (GgmlType t : kSupported) {
      const auto want = quantize(generic_kernels(), t, x), got = quantize(*k, t, x);
      EXPECT_TRUE(want == got) << k->isa << " " << type_name(t);
    }
  }
}

// The K-quants' activations on hostile blocks, every table against the reference's bytes: NaNs
// among finite values (skipped when the largest magnitude is chosen), the largest magnitude
// present with both signs (the first one wins), an infinity (scale -0: NaN products that the
// int8 conversion turns into 0), a block of NaNs only, subnormals, and -0.
TEST(QuantsConventions, Q8_KFromFloatOnHostileBlocksIsTheReferences) {
  const float inf = std::numeric_limits<float>::infinity(), nan = std::numeric_limits<float>::quiet_NaN();
  std::vector<float> x = make_data(7 * 256, Dist::kOutliers, 77);
  x[3] = nan, x[100] = nan;                           // block 0: NaNs among values
  x[256 + 10] = -9.0f, x[256 + 200] = 9.0f;           // block 1: ties of opposite sign
  for (int i = 0; i < 256; ++i) x[size_t(256 + i)] = std::clamp(x[size_t(256 + i)], -8.0f, 8.0f);
  x[256 + 10] = -9.0f, x[256 + 200] = 9.0f;
  x[512 + 40] = inf;                                  // block 2: +inf
  x[768 + 7] = -inf, x[768 + 8] = nan;                // block 3: -inf and NaN
  for (int i = 0; i < 256; ++i) x[size_t(1024 + i)] = nan;           // block 4: NaN only
  for (int i = 0; i < 256; ++i) x[size_t(1280 + i)] = float(i - 128) * 1e-42f;  // block 5: subnormals
  for (int i = 0; i < 256; ++i) x[size_t(1536 + i)] = -0.0f;         // block 6: -0 only
  for (const Kernels* k : tables()) {
    const auto want = quantize(generic_kernels(), T::kQ8_K, x), got = quantize(*k, T::kQ8_K, x);
    ASSERT_EQ(want.size(), got.size());
    for (size_t blk = 0; blk < 7; ++blk)
      EXPECT_EQ(0, std::memcmp(want.data() + blk * sizeof(BlockQ8_K), got.data() + blk * sizeof(BlockQ8_K),
                               sizeof(BlockQ8_K)))
          << k->isa << ": block " << blk;
  }
}

TEST(QuantsConventions, Q8_1StoresScaleTimesSum) {
  std::vector<float> x(32, 1.0f);
  x[0] = -127.0f;  // d = 1; sum of q = -127 + 31
  for (const Kernels* k : tables()) {
    const auto q = quantize(*k, T::kQ8_1, x);
    BlockQ8_1 b;
    std::memcpy(&b, q.data(), sizeof(b));
    EXPECT_EQ(b.d, fp32_to_fp16(1.0f));
    EXPECT_EQ(b.qs[0], -127);
    EXPECT_EQ(b.qs[1], 1);
    EXPECT_EQ(fp16_to_fp32(b.s), -96.0f);
  }
}

TEST(QuantsConventions, Q8_KMapsLargestToMinus127AndRoundsHalfToEven) {
  std::vector<float> x(256, 0.0f);
  x[0] = 127.0f;  // the largest value (signed): iscale = -127 / 127 = -1, d = -1
  x[1] = 2.5f, x[2] = 3.5f, x[3] = -2.5f, x[17] = 5.0f, x[255] = -127.0f;
  for (const Kernels* k : tables()) {
    const auto q = quantize(*k, T::kQ8_K, x);
    BlockQ8_K b;
    std::memcpy(&b, q.data(), sizeof(b));
    EXPECT_EQ(b.d, -1.0f);
    EXPECT_EQ(b.qs[0], -127);
    EXPECT_EQ(b.qs[1], -2);  // -2.5 -> -2 (to even)
    EXPECT_EQ(b.qs[2], -4);  // -3.5 -> -4
    EXPECT_EQ(b.qs[3], 2);
    EXPECT_EQ(b.qs[255], 127);
    EXPECT_EQ(b.bsums[0], -127 - 2 - 4 + 2);
    EXPECT_EQ(b.bsums[1], -5);
    EXPECT_EQ(b.bsums[15], 127);
    for (int s = 2; s < 15; ++s) EXPECT_EQ(b.bsums[s], 0);
  }
}

TEST(QuantsConventions, Q4_0AndQ5_0MapTheLargestToTheBottomLevel) {
  std::vector<float> x(32, 0.0f);
  x[0] = -8.0f;  // Q4_0: d = -8 / -8 = 1
  x[1] = 1.5f, x[2] = -1.5f, x[3] = 7.6f, x[4] = 0.49f;
  for (const Kernels* k : tables()) {
    const auto y = dequantize(*k, T::kQ4_0, quantize(*k, T::kQ4_0, x), 32);
    EXPECT_EQ(y[0], -8.0f);
    EXPECT_EQ(y[1], 2.0f);   // int(1.5 + 8.5) = 10: halves round up
    EXPECT_EQ(y[2], -1.0f);  // int(-1.5 + 8.5) = 7
    EXPECT_EQ(y[3], 7.0f);   // int(7.6 + 8.5) = 16, capped at 15
    EXPECT_EQ(y[4], 0.0f);
  }
  x[0] = 8.0f;  // a positive largest value gives a negative scale: d = 8 / -8 = -1
  for (const Kernels* k : tables()) {
    const auto q = quantize(*k, T::kQ4_0, x);
    EXPECT_EQ(fp16_to_fp32(reinterpret_cast<const BlockQ4_0*>(q.data())->d), -1.0f);
    EXPECT_EQ(dequantize(*k, T::kQ4_0, q, 32)[0], 8.0f);
  }
  x[0] = -16.0f;  // Q5_0: d = -16 / -16 = 1
  for (const Kernels* k : tables()) {
    const auto y = dequantize(*k, T::kQ5_0, quantize(*k, T::kQ5_0, x), 32);
    EXPECT_EQ(y[0], -16.0f);
    EXPECT_EQ(y[1], 2.0f);
    EXPECT_EQ(y[3], 8.0f);
  }
}

TEST(QuantsConventions, Q4_1AndQ5_1SpanMinToMax) {
  std::vector<float> x(32, 0.0f);
  x[0] = -1.0f, x[1] = 14.0f;  // Q4_1: m = -1, d = 15 / 15 = 1
  x[2] = 0.5f, x[3] = 2.49f;
  for (const Kernels* k : tables()) {
    const auto y = dequantize(*k, T::kQ4_1, quantize(*k, T::kQ4_1, x), 32);
    EXPECT_EQ(y[0], -1.0f);
    EXPECT_EQ(y[1], 14.0f);
    EXPECT_EQ(y[2], 1.0f);  // int(1.5 + 0.5) = 2: halves round up
    EXPECT_EQ(y[3], 2.0f);
  }
  x[1] = 30.0f;  // Q5_1: d = 31 / 31 = 1
  for (const Kernels* k : tables()) {
    const auto y = dequantize(*k, T::kQ5_1, quantize(*k, T::kQ5_1, x), 32);
    EXPECT_EQ(y[0], -1.0f);
    EXPECT_EQ(y[1], 30.0f);
    EXPECT_EQ(y[2], 1.0f);
  }
}

// ---- quantize -> dequantize ----------------------------------------------------------------

struct RoundTripBound {
  GgmlType type;
  double normal, uniform, outliers;  // max RMS(error) / RMS(x)
};

// Where the bounds come from: a uniform grid of step D has RMS error D / sqrt(12), and each
// format sets D from its block. On N(0, 1) data the largest |x| of a block of 32 is ~2.35 (of
// 16: ~2.0; of 256: ~3.0) and max - min of 32 is ~4.1. So:
//   Q8_0  D = amax / 127          -> 2.35 / 127 / 3.46 = 0.0053    (measured 0.0054)
//   Q8_K  one scale per 256       -> 3.0 / 127 / 3.46  = 0.0068    (0.0070)
//   Q5_0  D = amax / 16           -> 0.042                          (0.043)
//   Q4_0  D = amax / 8            -> 0.085                          (0.086)
//   Q5_1  D = (max - min) / 31    -> 0.038                          (0.038)
//   Q4_1  D = (max - min) / 15    -> 0.079                          (0.078)
//   Q6_K  D = amax(16) / 32       -> 0.018                          (0.017)
//   Q5_K  D = range(32) / 31      -> 0.038                          (0.035)
//   Q4_K  D = range(32) / 15      -> 0.079                          (0.070)
//   Q3_K  D = amax(16) / 4        -> 0.144                          (0.143)
//   Q2_K  D = range(16) / 3       -> 3.5 / 3 / 3.46 = 0.34          (0.26)
// The K-quants search their grids (clipping the extremes a little pays off, most at 2 bits)
// and lose a little to their 4-8 bit sub-block scales. U(-1, 1) data (RMS 0.58, block max
// ~0.97) is easier; with outliers, blocks holding a 20x value lose most of their resolution.
// F16 / BF16 keep 11 / 8 significant bits: their error is at most 2^-11 / 2^-8 of each value.
// The quantized bounds are the measured values (printed by the test) plus ~20%, so that a
// change that loses accuracy fails here; a real improvement only needs the new numbers.
const RoundTripBound kRoundTrip[] = {
    {T::kF32, 0, 0, 0},
    {T::kF16, 0.00049, 0.00049, 0.00049},  // 2^-11, guaranteed
    {T::kBF16, 0.0039, 0.0039, 0.0039},    // 2^-8, guaranteed
    {T::kQ8_0, 0.0064, 0.0046, 0.0135},
    {T::kQ8_1, 0.0064, 0.0046, 0.0135},
    {T::kQ8_K, 0.0084, 0.0048, 0.033},
    {T::kQ5_0, 0.051, 0.038, 0.105},
    {T::kQ5_1, 0.046, 0.036, 0.063},
    {T::kQ4_0, 0.104, 0.079, 0.18},
    {T::kQ4_1, 0.095, 0.074, 0.133},
    {T::kQ6_K, 0.0203, 0.0152, 0.040},
    {T::kQ5_K, 0.042, 0.032, 0.059},
    {T::kQ4_K, 0.085, 0.065, 0.120},
    {T::kQ3_K, 0.172, 0.143, 0.186},
    {T::kQ2_K, 0.315, 0.262, 0.244},
};

TEST(QuantsRoundTrip, ErrorWithinBoundsOfTheBitWidth) {
  const int64_t n = 16384;
  for (const Kernels* k : tables()) {
    for (const RoundTripBound& b : kRoundTrip) {
      for (Dist dist : {Dist::kNormal, Dist::kUniform, Dist::kOutliers}) {
        const std::vector<float> x = make_data(n, dist, 11);
        const std::vector<float> y = dequantize(*k, b.type, quantize(*k, b.type, x), n);
        const double rel = relative_rms_error(x, y);
        const double bound = dist == Dist::kNormal ? b.normal : dist == Dist::kUniform ? b.uniform : b.outliers;
        std::printf("%-8s %-5s %-8s relative RMS error %.5f (bound %.4f)\n", k->isa, type_name(b.type),
                    dist_name(dist), rel, bound);
        EXPECT_LE(rel, bound) << k->isa << " " << type_name(b.type) << " " << dist_name(dist);
      }
    }
  }
}

// Scaling the data scales the error: block scales are fp16, which stays relatively exact from
// ~6e-5 (its smallest normal) to 65504. Below that the fixed conventions of the 32-element
// formats lose bits (Q8_0 with values ~1e-4 has d ~ 1e-6: 16 subnormal steps); the K-quant
// quantizer rounds its super-block scale up instead of to nearest, so that the largest
// sub-block still fits its code range, and keeps its accuracy down to values ~1e-4.
TEST(QuantsRoundTrip, ErrorIndependentOfMagnitude) {
  const int64_t n = 4096;
  const std::vector<float> x = make_data(n, Dist::kNormal, 21);
  for (const Kernels* k : tables()) {
    for (GgmlType t : kSupported) {
      if (!type_info(t)->quantized) continue;
      const double at_one = relative_rms_error(x, dequantize(*k, t, quantize(*k, t, x), n));
      const bool k_quant = type_info(t)->block_size == kQK_K;
      for (float scale : {1e-4f, 1e-3f, 1e3f}) {
        if (scale < 1e-3f && !k_quant) continue;
        std::vector<float> xs = x;
        for (float& v : xs) v *= scale;
        const double rel = relative_rms_error(xs, dequantize(*k, t, quantize(*k, t, xs), n));
        EXPECT_LE(rel, 1.05 * at_one + 1e-4) << k->isa << " " << type_name(t) << " scale " << scale;
      }
    }
  }
}

// Blocks that stress the choice of scales: every value's error stays within one grid step of
// a grid spanning its block (2 amax / levels; Q4_0 / Q5_0 do need the whole step, as the value
// opposite the largest can be clipped at level 7 or 15), and nothing decodes to NaN or inf.
// Magnitudes stay where block scales are fp16 numbers with a few significant bits: below
// ~1e-5 they become fp16 subnormals and every GGUF format loses precision there.
TEST(QuantsRoundTrip, HardBlocksStayFiniteAndClose) {
  const int64_t n = 1024;
  std::mt19937 rng(5);
  std::normal_distribution<float> normal(0.0f, 1.0f);
  std::vector<std::pair<std::string, std::vector<float>>> cases;
  for (float scale : {1e-2f, 1.0f, 1e3f}) {
    const std::string s = " x" + std::to_string(scale);
    std::vector<float> v(n);
    for (float& x : v) x = scale;
    cases.push_back({"constant" + s, v});
    for (float& x : v) x = -scale;
    cases.push_back({"negative constant" + s, v});
    for (float& x : v) x = scale * (3.0f + normal(rng) * 0.5f);
    cases.push_back({"all positive" + s, v});
    for (float& x : v) x = -scale * (3.0f + normal(rng) * 0.5f);
    cases.push_back({"all negative" + s, v});
    for (float& x : v) x = 0.0f;
    for (int i = 0; i < n; i += 97) v[size_t(i)] = scale * (i % 2 ? 1.0f : -1.0f);
    cases.push_back({"sparse spikes" + s, v});
    for (float& x : v) x = scale * normal(rng) * 0.05f;
    for (int i = 5; i < n; i += 256) v[size_t(i)] = scale;
    cases.push_back({"one spike per super-block" + s, v});
  }
  for (const Kernels* k : tables()) {
    for (GgmlType t : kSupported) {
      const int64_t block = type_info(t)->block_size == 1 ? 32 : type_info(t)->block_size;
      const int levels = t == T::kQ2_K ? 4 : t == T::kQ3_K ? 8 : (t == T::kQ4_0 || t == T::kQ4_1 || t == T::kQ4_K) ? 16
                       : (t == T::kQ5_0 || t == T::kQ5_1 || t == T::kQ5_K) ? 32 : t == T::kQ6_K ? 64 : 256;
      for (const auto& [name, x] : cases) {
        const std::vector<float> y = dequantize(*k, t, quantize(*k, t, x), n);
        for (int64_t b = 0; b < n / block; ++b) {
          float amax = 0, err = 0;
          for (int64_t i = b * block; i < (b + 1) * block; ++i) {
            ASSERT_TRUE(std::isfinite(y[size_t(i)])) << type_name(t) << " " << name << " element " << i;
            amax = std::max(amax, std::fabs(x[size_t(i)]));
            err = std::max(err, std::fabs(y[size_t(i)] - x[size_t(i)]));
          }
          EXPECT_LE(err, 2 * amax / float(levels)) << k->isa << " " << type_name(t) << " " << name << " block " << b;
        }
      }
    }
  }
}

TEST(QuantsRoundTrip, ZerosStayZero) {
  for (const Kernels* k : tables()) {
    for (GgmlType t : kSupported) {
      const std::vector<float> x(512, 0.0f);
      for (float v : dequantize(*k, t, quantize(*k, t, x), 512)) ASSERT_EQ(v, 0.0f) << type_name(t);
    }
  }
}

// ---- dot products --------------------------------------------------------------------------

// Largest error of one activation after conversion to type t, for a block whose largest
// magnitude is amax: 8-bit formats round to the nearest of q * d (half a step, d = amax / 127)
// and Q8_0 / Q8_1 store d in fp16 (relative error <= 2^-11 on up to 127 steps); fp16 / bf16 keep
// 11 / 8 significant bits of the value itself.
double activation_error_bound(GgmlType t, float value, float amax) {
  switch (t) {
    case T::kF32: return 0.0;
    case T::kF16: return std::fabs(value) * std::ldexp(1.0, -11);
    case T::kBF16: return std::fabs(value) * std::ldexp(1.0, -8);
    case T::kQ8_K: return amax / 127.0 * (0.5 + 1e-6);
    default: return amax / 127.0 * (0.5 + 127.0 * std::ldexp(1.0, -11));  // Q8_0, Q8_1
  }
}

// Q4_1 / Q5_1 dot products add m * s per block instead of m * (sum of the decoded
// activations): Q8_1's s is fp16(d * sum q) with the unrounded d, so it differs from that sum
// by up to ~2^-10 of itself, by design of the format. The error this adds, for weights of type t.
double q8_1_sum_term_error(GgmlType t, const std::vector<uint8_t>& wq, const std::vector<uint8_t>& aq, int64_t n) {
  if (t != T::kQ4_1 && t != T::kQ5_1) return 0.0;
  double err = 0.0;
  for (int64_t b = 0; b < n / 32; ++b) {
    const uint16_t m = t == T::kQ4_1 ? reinterpret_cast<const BlockQ4_1*>(wq.data())[b].m
                                     : reinterpret_cast<const BlockQ5_1*>(wq.data())[b].m;
    const BlockQ8_1& a = reinterpret_cast<const BlockQ8_1*>(aq.data())[b];
    int sum = 0;
    for (int8_t q : a.qs) sum += q;
    const double decoded_sum = double(fp16_to_fp32(a.d)) * sum;
    err += std::fabs(fp16_to_fp32(m)) * std::fabs(double(fp16_to_fp32(a.s)) - decoded_sum);
  }
  return err;
}

// vec_dot(W, convert(a)) against the exact sum of dequant(W) * a, in double. The only
// difference allowed is what converting the activations costs: per element at most
// |w| * activation_error_bound (the kernels compute sum w * decoded(a) exactly but for float
// rounding: the mins of the K-quants go through Q8_K's integer bsums), the Q8_1 sum term above,
// and float rounding in the kernel's per-block accumulation.
TEST(QuantsVecDot, CloseToDequantizedWeightsTimesFloatActivations) {
  for (const Kernels* k : tables()) {
    for (GgmlType t : kSupported) {
      const TypeInfo* info = type_info(t);
      const GgmlType at = info->vec_dot_type;
      const int64_t ablock = type_info(at)->block_size == 1 ? 1 : type_info(at)->block_size;
      for (int64_t n : {int64_t(256), int64_t(2048)}) {
        for (Dist dist : {Dist::kNormal, Dist::kOutliers}) {
          const std::vector<float> w = make_data(n, Dist::kNormal, 3), a = make_data(n, dist, 4);
          const auto wq = quantize(*k, t, w);
          const std::vector<float> wd = dequantize(*k, t, wq, n);
          const auto aq = quantize(*k, at, a);
          double ref = 0, tol = 0, mag = 0;
          for (int64_t b = 0; b < n / ablock; ++b) {
            float amax = 0;
            for (int64_t i = b * ablock; i < (b + 1) * ablock; ++i) amax = std::max(amax, std::fabs(a[size_t(i)]));
            for (int64_t i = b * ablock; i < (b + 1) * ablock; ++i) {
              ref += double(wd[size_t(i)]) * a[size_t(i)];
              mag += std::fabs(double(wd[size_t(i)]) * a[size_t(i)]);
              tol += std::fabs(wd[size_t(i)]) * activation_error_bound(at, a[size_t(i)], amax);
            }
          }
          tol += q8_1_sum_term_error(t, wq, aq, n) + 1e-5 * mag;
          const double got = k->of(t).vec_dot(n, wq.data(), aq.data());
          EXPECT_NEAR(got, ref, tol) << k->isa << " " << type_name(t) << " n=" << n << " " << dist_name(dist);
        }
      }
    }
  }
}

// Random bytes in every field (scales kept finite), so that every code of every quant, scale
// and min occurs: the kernel's integer arithmetic must equal the dot product of the decoded
// weights and decoded activations up to float rounding. This is the check a SIMD vec_dot
// has to pass against the reference.
std::vector<uint8_t> random_blocks(GgmlType t, int64_t n, std::mt19937& rng) {
  std::vector<uint8_t> bytes(row_size_bytes(t, n));
  for (uint8_t& b : bytes) b = uint8_t(rng());
  std::normal_distribution<float> normal(0.0f, 1.0f);
  auto h = [&](float scale) { return fp32_to_fp16(normal(rng) * scale); };
  const int64_t nb = n / type_info(t)->block_size;
  auto each = [&](auto* blocks, auto&& fix) {
    for (int64_t i = 0; i < nb; ++i) fix(blocks[i]);
  };
  void* p = bytes.data();
  switch (t) {
    case T::kF32: each(static_cast<float*>(p), [&](float& v) { v = normal(rng); }); break;
    case T::kF16: each(static_cast<uint16_t*>(p), [&](uint16_t& v) { v = h(1.0f); }); break;
    case T::kBF16: each(static_cast<uint16_t*>(p), [&](uint16_t& v) { v = fp32_to_bf16(normal(rng)); }); break;
    case T::kQ4_0: each(static_cast<BlockQ4_0*>(p), [&](BlockQ4_0& b) { b.d = h(0.1f); }); break;
    case T::kQ4_1: each(static_cast<BlockQ4_1*>(p), [&](BlockQ4_1& b) { b.d = h(0.1f); b.m = h(1.0f); }); break;
    case T::kQ5_0: each(static_cast<BlockQ5_0*>(p), [&](BlockQ5_0& b) { b.d = h(0.1f); }); break;
    case T::kQ5_1: each(static_cast<BlockQ5_1*>(p), [&](BlockQ5_1& b) { b.d = h(0.1f); b.m = h(1.0f); }); break;
    case T::kQ8_0: each(static_cast<BlockQ8_0*>(p), [&](BlockQ8_0& b) { b.d = h(0.01f); }); break;
    case T::kQ8_1:
      each(static_cast<BlockQ8_1*>(p), [&](BlockQ8_1& b) {
        b.d = h(0.01f);
        int sum = 0;
        for (int8_t q : b.qs) sum += q;
        b.s = fp32_to_fp16(fp16_to_fp32(b.d) * float(sum));
      });
      break;
    case T::kQ2_K: each(static_cast<BlockQ2_K*>(p), [&](BlockQ2_K& b) { b.d = h(0.01f); b.dmin = h(0.01f); }); break;
    case T::kQ3_K: each(static_cast<BlockQ3_K*>(p), [&](BlockQ3_K& b) { b.d = h(0.01f); }); break;
    case T::kQ4_K: each(static_cast<BlockQ4_K*>(p), [&](BlockQ4_K& b) { b.d = h(0.01f); b.dmin = h(0.01f); }); break;
    case T::kQ5_K: each(static_cast<BlockQ5_K*>(p), [&](BlockQ5_K& b) { b.d = h(0.01f); b.dmin = h(0.01f); }); break;
    case T::kQ6_K: each(static_cast<BlockQ6_K*>(p), [&](BlockQ6_K& b) { b.d = h(0.001f); }); break;
    case T::kQ8_K:
      each(static_cast<BlockQ8_K*>(p), [&](BlockQ8_K& b) {
        b.d = normal(rng) * 0.01f;
        for (int s = 0; s < 16; ++s) {
          int sum = 0;
          for (int l = 0; l < 16; ++l) sum += b.qs[16 * s + l];
          b.bsums[s] = int16_t(sum);
        }
      });
      break;
    default: ADD_FAILURE() << "no random blocks for " << type_name(t);
  }
  return bytes;
}

// The integer formats keep the reference's arithmetic (exact integer sums per block, the same
// float operations in the same order), so every table gives the reference's bits: results do
// not depend on the CPU. Float weights (f32, f16, bf16) accumulate in SIMD lanes and only agree
// to rounding (checked above).
TEST(QuantsVecDot, IntegerFormatsAreBitIdenticalToTheReference) {
  std::mt19937 rng(17);
  for (const Kernels* k : tables()) {
    for (GgmlType t : kSupported) {
      if (t == T::kF32 || t == T::kF16 || t == T::kBF16) continue;
      const GgmlType at = type_info(t)->vec_dot_type;
      for (int rep = 0; rep < 6; ++rep) {
        const int64_t n = 256 * (1 + rep) + (type_info(t)->block_size == 32 ? 32 * rep : 0);  // odd block counts too
        const auto wq = random_blocks(t, n, rng);
        const auto aq = quantize(generic_kernels(), at, make_data(n, rep % 2 ? Dist::kOutliers : Dist::kNormal, uint32_t(rep)));
        EXPECT_EQ(k->of(t).vec_dot(n, wq.data(), aq.data()), generic_kernels().of(t).vec_dot(n, wq.data(), aq.data()))
            << k->isa << " " << type_name(t) << " n=" << n;
      }
    }
  }
}

TEST(QuantsVecDot, EqualsDecodedDotOnRandomBlocks) {
  std::mt19937 rng(7);
  for (const Kernels* k : tables()) {
    for (GgmlType t : kSupported) {
      const GgmlType at = type_info(t)->vec_dot_type;
      for (int rep = 0; rep < 8; ++rep) {
        const int64_t n = 256 * (1 + rep % 4);
        const auto wq = random_blocks(t, n, rng);
        const auto aq = quantize(*k, at, make_data(n, rep % 2 ? Dist::kOutliers : Dist::kNormal, uint32_t(rep)));
        const std::vector<float> wd = dequantize(*k, t, wq, n), ad = dequantize(*k, at, aq, n);
        double ref = 0, mag = 0;
        for (int64_t i = 0; i < n; ++i) {
          ASSERT_TRUE(std::isfinite(wd[size_t(i)])) << type_name(t);
          ref += double(wd[size_t(i)]) * ad[size_t(i)];
          mag += std::fabs(double(wd[size_t(i)]) * ad[size_t(i)]);
        }
        const double got = k->of(t).vec_dot(n, wq.data(), aq.data());
        EXPECT_NEAR(got, ref, q8_1_sum_term_error(t, wq, aq, n) + 1e-5 * mag) << k->isa << " " << type_name(t) << " n=" << n;
      }
    }
  }
}

// The two-by-two form (prompt processing) against the decoded dot products, on random blocks
// with strides that are not a multiple of the row size.
TEST(QuantsVecDot, TwoByTwoEqualsDecodedDots) {
  std::mt19937 rng(11);
  int checked = 0;
  for (const Kernels* k : tables()) {
    for (GgmlType t : kSupported) {
      if (k->of(t).vec_dot_2x2 == nullptr) continue;
      const GgmlType at = type_info(t)->vec_dot_type;
      for (int rep = 0; rep < 4; ++rep) {
        const int64_t n = 256 * (1 + rep);
        const size_t wrow = row_size_bytes(t, n), arow = row_size_bytes(at, n);
        const size_t wstride = wrow + 64 * size_t(rep), astride = arow + 32 * size_t(rep);
        std::vector<uint8_t> w(wstride + wrow), a(astride + arow);
        std::vector<std::vector<float>> wd, ad;
        for (int r = 0; r < 2; ++r) {
          const auto wq = random_blocks(t, n, rng);
          std::memcpy(w.data() + r * wstride, wq.data(), wrow);
          wd.push_back(dequantize(*k, t, wq, n));
          const auto aq = quantize(*k, at, make_data(n, r ? Dist::kOutliers : Dist::kNormal, uint32_t(rep * 2 + r)));
          std::memcpy(a.data() + r * astride, aq.data(), arow);
          ad.push_back(dequantize(*k, at, aq, n));
        }
        float out[4];
        k->of(t).vec_dot_2x2(n, w.data(), wstride, a.data(), astride, out);
        for (int c = 0; c < 2; ++c) {
          for (int r = 0; r < 2; ++r) {
            double ref = 0, mag = 0;
            for (int64_t i = 0; i < n; ++i) {
              ref += double(wd[size_t(r)][size_t(i)]) * ad[size_t(c)][size_t(i)];
              mag += std::fabs(double(wd[size_t(r)][size_t(i)]) * ad[size_t(c)][size_t(i)]);
            }
            const std::vector<uint8_t> wq(w.begin() + long(r * wstride), w.begin() + long(r * wstride + wrow));
            const std::vector<uint8_t> aq(a.begin() + long(c * astride), a.begin() + long(c * astride + arow));
            EXPECT_NEAR(out[2 * c + r], ref, q8_1_sum_term_error(t, wq, aq, n) + 1e-5 * mag)
                << k->isa << " " << type_name(t) << " n=" << n << " row " << r << " col " << c;
            EXPECT_EQ(out[2 * c + r], k->of(t).vec_dot(n, wq.data(), aq.data()))
                << "batch and single-token forms differ: " << k->isa << " " << type_name(t) << " n=" << n;
          }
        }
        ++checked;
      }
    }
  }
  if (checked == 0) GTEST_SKIP() << "no kernel table on this CPU has a two-by-two dot product";
}

// Eight rows by n_tok activation rows (with a leftover group of tokens) against vec_dot of the
// same table, bit for bit, on random blocks with padded strides.
TEST(QuantsVecDot, Gemm8EqualsVecDot) {
  std::mt19937 rng(13);
  int checked = 0;
  for (const Kernels* k : tables()) {
    for (GgmlType t : kSupported) {
      if (k->of(t).gemm8 == nullptr) continue;
      const GgmlType at = type_info(t)->vec_dot_type;
      for (int64_t n_tok : {int64_t(1), int64_t(4), int64_t(7)}) {
        const int64_t n = 256 + 32 * n_tok;
        const size_t wrow = row_size_bytes(t, n), arow = row_size_bytes(at, n);
        const size_t wstride = wrow + 6, astride = arow + 12, ostride = 11;  // padded, keeping each block type's alignment
        std::vector<uint8_t> w(8 * wstride), a(size_t(n_tok) * astride);
        for (int r = 0; r < 8; ++r) {
          const auto wq = random_blocks(t, n, rng);
          std::memcpy(w.data() + r * wstride, wq.data(), wrow);
        }
        for (int64_t c = 0; c < n_tok; ++c) {
          const auto aq = quantize(*k, at, make_data(n, c % 2 ? Dist::kOutliers : Dist::kNormal, uint32_t(c + 100 * n_tok)));
          std::memcpy(a.data() + c * astride, aq.data(), arow);
        }
        std::vector<float> out(size_t(n_tok) * ostride, -1.0f);
        k->of(t).gemm8(n, w.data(), wstride, a.data(), astride, n_tok, out.data(), ostride);
        for (int64_t c = 0; c < n_tok; ++c) {
          for (int r = 0; r < 8; ++r) {
            // Bit for bit: a prompt evaluated as a batch must give what its tokens one at a time give.
            const float want = k->of(t).vec_dot(n, w.data() + r * wstride, a.data() + c * astride);
            EXPECT_EQ(out[size_t(c) * ostride + r], want)
                << k->isa << " " << type_name(t) << " n_tok=" << n_tok << " row " << r << " col " << c;
          }
          for (size_t r = 8; r < ostride; ++r) EXPECT_EQ(out[size_t(c) * ostride + r], -1.0f) << "wrote past 8 rows";
        }
        ++checked;
      }
    }
  }
  if (checked == 0) GTEST_SKIP() << "no kernel table on this CPU has an eight-row kernel";
}

// Packed groups (weights repacked at load) by n_tok activation rows against vec_dot of the same
// table, bit for bit: packing a model must change no result. Random blocks, a leftover group of
// tokens, and blocks with infinite and zero scales, zero and extreme quants.
TEST(QuantsVecDot, PackedGemmEqualsVecDot) {
  std::mt19937 rng(17);
  int checked = 0;
  auto same = [](float a, float b) { return (std::isnan(a) && std::isnan(b)) || a == b; };
  for (const Kernels* k : tables()) {
    for (GgmlType t : kSupported) {
      const TypeKernels& tk = k->of(t);
      if (tk.pack == nullptr || tk.gemm_packed == nullptr) continue;
      if (type_info(t)->vec_dot_type == GgmlType::kF32) continue;  // float weights: float_kernels_test.cpp
      ASSERT_GT(tk.pack_rows, 0) << k->isa << " " << type_name(t);
      const GgmlType at = type_info(t)->vec_dot_type;
      const int64_t rows = tk.pack_rows;
      for (int64_t n_tok : {int64_t(1), int64_t(3), int64_t(9)}) {
        const int64_t n = 256 + 32 * n_tok;
        const size_t wrow = row_size_bytes(t, n), arow = row_size_bytes(at, n);
        const size_t ostride = size_t(rows) + 3;
        std::vector<uint8_t> w(size_t(rows) * wrow), a(size_t(n_tok) * arow);
        for (int64_t r = 0; r < rows; ++r) {
          auto wq = random_blocks(t, n, rng);
          if (r == 1) std::memset(wq.data(), 0, wq.size());            // all zero
          if (r == 2 && t == GgmlType::kQ8_0) {                        // extreme quants, max scale
            for (size_t b = 0; b < wq.size(); b += sizeof(BlockQ8_0)) {
              BlockQ8_0 blk;
              blk.d = 0x7bff;  // 65504
              std::memset(blk.qs, 0x80, sizeof(blk.qs));  // -128
              std::memcpy(wq.data() + b, &blk, sizeof(blk));
            }
          }
          if (r == 3) {  // an infinite scale in the first block (block scales are the first two bytes)
            const uint16_t inf = 0x7c00;
            std::memcpy(wq.data(), &inf, 2);
          }
          std::memcpy(w.data() + size_t(r) * wrow, wq.data(), wrow);
        }
        for (int64_t c = 0; c < n_tok; ++c) {
          auto aq = quantize(*k, at, make_data(n, c % 2 ? Dist::kOutliers : Dist::kNormal, uint32_t(c + 50 * n_tok)));
          std::memcpy(a.data() + size_t(c) * arow, aq.data(), arow);
        }
        std::vector<uint8_t> group(size_t(rows) * wrow);
        tk.pack(n, w.data(), wrow, group.data());
        std::vector<ActBlock> sums(size_t(n_tok) * size_t(n / 32));
        if (at == GgmlType::kQ8_0) block_sums(a.data(), arow, n, n_tok, sums.data());  // Q8_0 rows only
        std::vector<float> out(size_t(n_tok) * ostride, -1.0f);
        tk.gemm_packed(n, group.data(), a.data(), arow, at == GgmlType::kQ8_0 ? sums.data() : nullptr, n_tok,
                       out.data(), ostride);
        for (int64_t c = 0; c < n_tok; ++c) {
          for (int64_t r = 0; r < rows; ++r) {
            const float want = tk.vec_dot(n, w.data() + size_t(r) * wrow, a.data() + size_t(c) * arow);
            EXPECT_TRUE(same(out[size_t(c) * ostride + size_t(r)], want))
                << k->isa << " " << type_name(t) << " n_tok=" << n_tok << " row " << r << " col " << c << ": "
                << out[size_t(c) * ostride + size_t(r)] << " vs " << want;
          }
          for (size_t r = size_t(rows); r < ostride; ++r) EXPECT_EQ(out[size_t(c) * ostride + r], -1.0f) << "wrote past the group";
        }
        ++checked;
      }
    }
  }
  if (checked == 0) GTEST_SKIP() << "no kernel table on this CPU has packed weights";
}

// Every block of a row of n elements of t set to `byte`, then each block's scale d (and its
// min m or dmin, where the type has one) set to the given fp16 bits.
void fill_blocks(GgmlType t, uint8_t* row, int64_t n, uint8_t byte, uint16_t d, uint16_t m) {
  const TypeInfo* info = type_info(t);
  size_t d_at = 0, m_at = SIZE_MAX;
  switch (t) {
    case T::kQ4_0:
    case T::kQ5_0:
    case T::kQ8_0:
      break;
    case T::kQ4_1:
    case T::kQ5_1:
      m_at = 2;
      break;
    case T::kQ4_K:
    case T::kQ5_K:
      m_at = 2;
      break;
    case T::kQ2_K:
      d_at = offsetof(BlockQ2_K, d), m_at = offsetof(BlockQ2_K, dmin);
      break;
    case T::kQ3_K:
      d_at = offsetof(BlockQ3_K, d);
      break;
    case T::kQ6_K:
      d_at = offsetof(BlockQ6_K, d);
      break;
    default:
      ADD_FAILURE() << "no scale offsets for " << type_name(t);
      return;
  }
  std::memset(row, byte, row_size_bytes(t, n));
  for (int64_t b = 0; b < n / info->block_size; ++b) {
    uint8_t* blk = row + size_t(b) * info->block_bytes;
    std::memcpy(blk + d_at, &d, 2);
    if (m_at != SIZE_MAX) std::memcpy(blk + m_at, &m, 2);
  }
}

// Every table that packs a quantized type gives vec_dot's bits on blocks a file may hold though
// no quantizer writes them: zero, largest and smallest finite, subnormal, infinite and NaN
// scales and mins, all-zero and all-ones quant bytes (the largest quants and 6-bit scales), for
// every n_tok from 1 to 17 and block counts that are not a multiple of 8 (n not a multiple of
// 256 for the 32-element types). Activations include an all-zero row and a very large one.
TEST(QuantsVecDot, PackedGemmEqualsVecDotOnHardBlocks) {
  std::mt19937 rng(23);
  int checked = 0;
  auto same = [](float a, float b) { return (std::isnan(a) && std::isnan(b)) || a == b; };
  constexpr uint16_t kMax = 0x7bff, kLowest = 0xfbff, kInf = 0x7c00, kNegInf = 0xfc00, kNan = 0x7e00, kTiny = 0x0001,
                     kNegTiny = 0x8001, kNegZero = 0x8000;
  for (const Kernels* k : tables()) {
    for (GgmlType t : kSupported) {
      const TypeKernels& tk = k->of(t);
      if (tk.pack == nullptr || tk.gemm_packed == nullptr) continue;
      const GgmlType at = type_info(t)->vec_dot_type;
      if (at == GgmlType::kF32) continue;  // float weights: float_kernels_test.cpp
      const int64_t rows = tk.pack_rows, bs = type_info(t)->block_size;
      for (int64_t n : {bs, bs * 13}) {
        const size_t wrow = row_size_bytes(t, n), arow = row_size_bytes(at, n);
        std::vector<uint8_t> w(size_t(rows) * wrow);
        for (int64_t r = 0; r < rows; ++r) {
          uint8_t* row = w.data() + size_t(r) * wrow;
          switch (r % 10) {
            case 0: {
              const auto q = random_blocks(t, n, rng);
              std::memcpy(row, q.data(), wrow);
              break;
            }
            case 1:
              std::memset(row, 0, wrow);
              break;
            case 2:
              fill_blocks(t, row, n, 0xff, kMax, kMax);
              break;
            case 3:
              fill_blocks(t, row, n, 0xff, kLowest, kLowest);
              break;
            case 4:
              fill_blocks(t, row, n, 0x00, kMax, kLowest);
              break;
            case 5:
              fill_blocks(t, row, n, 0x5a, kNan, kMax);
              break;
            case 6:
              fill_blocks(t, row, n, 0xa5, kInf, kNegInf);
              break;
            case 7:
              fill_blocks(t, row, n, 0xff, kTiny, kNegTiny);
              break;
            case 8:
              fill_blocks(t, row, n, 0x81, kNegZero, kNan);
              break;
            default: {  // random, with an infinite min (or scale) in the last block only
              const auto q = random_blocks(t, n, rng);
              std::memcpy(row, q.data(), wrow);
              std::vector<uint8_t> last(row_size_bytes(t, bs));
              fill_blocks(t, last.data(), bs, 0x33, 0x3c00, kInf);
              std::memcpy(row + wrow - last.size(), last.data(), last.size());
            }
          }
        }
        std::vector<uint8_t> group(size_t(rows) * wrow);
        tk.pack(n, w.data(), wrow, group.data());
        for (int64_t n_tok = 1; n_tok <= 17; ++n_tok) {
          std::vector<uint8_t> a(size_t(n_tok) * arow);
          for (int64_t c = 0; c < n_tok; ++c) {
            std::vector<float> x = make_data(n, c % 2 ? Dist::kOutliers : Dist::kNormal, uint32_t(c + 70 * n_tok));
            if (c == 2) std::fill(x.begin(), x.end(), 0.0f);
            if (c == 4)
              for (float& v : x) v *= 1e4f;
            const auto aq = quantize(*k, at, x);
            std::memcpy(a.data() + size_t(c) * arow, aq.data(), arow);
          }
          std::vector<ActBlock> sums(size_t(n_tok) * size_t(n / 32 > 0 ? n / 32 : 1));
          if (at == GgmlType::kQ8_0) block_sums(a.data(), arow, n, n_tok, sums.data());
          const size_t ostride = size_t(rows) + 1;
          std::vector<float> out(size_t(n_tok) * ostride, -1.0f);
          tk.gemm_packed(n, group.data(), a.data(), arow, at == GgmlType::kQ8_0 ? sums.data() : nullptr, n_tok,
                         out.data(), ostride);
          for (int64_t c = 0; c < n_tok; ++c) {
            for (int64_t r = 0; r < rows; ++r) {
              const float got = out[size_t(c) * ostride + size_t(r)];
              const float want = tk.vec_dot(n, w.data() + size_t(r) * wrow, a.data() + size_t(c) * arow);
              EXPECT_TRUE(same(got, want)) << k->isa << " " << type_name(t) << " n=" << n << " n_tok=" << n_tok
                                           << " row " << r << " col " << c << ": " << got << " vs " << want;
            }
            EXPECT_EQ(out[size_t(c) * ostride + size_t(rows)], -1.0f) << "wrote past the group";
          }
        }
        ++checked;
      }
    }
  }
  if (checked == 0) GTEST_SKIP() << "no kernel table on this CPU has packed weights";
}

// The AVX-512 VNNI table packs every 32-element format and the K-quants it has kernels for, so
// that both prompt processing and decoding of such models read the packed copy.
TEST(QuantsVecDot, Avx512TablePacksTheCommonWeightTypes) {
  const Kernels* k = find_kernels("avx512");
  if (k == nullptr) GTEST_SKIP() << "this CPU cannot run the AVX-512 table";
  for (GgmlType t : {T::kQ4_0, T::kQ4_1, T::kQ5_0, T::kQ5_1, T::kQ8_0, T::kQ4_K, T::kQ5_K, T::kQ6_K}) {
    const TypeKernels& tk = k->of(t);
    EXPECT_TRUE(tk.pack_rows > 0 && tk.pack != nullptr && tk.gemm_packed != nullptr) << type_name(t);
    EXPECT_GT(packed_size_bytes(*k, t, 512, 64), 0u) << type_name(t);
  }
}

// matmul with a packed copy (and rows left over) gives the bits of matmul without one.
TEST(QuantsVecDot, MatmulWithPackedWeightsEqualsUnpacked) {
  std::mt19937 rng(19);
  int checked = 0;
  for (const Kernels* k : tables()) {
    for (GgmlType t : kSupported) {
      if (k->of(t).pack == nullptr) continue;
      if (type_info(t)->vec_dot_type == GgmlType::kF32) continue;  // float weights: float_kernels_test.cpp
      // Two whole groups and rows left over (fewer than a group: 5, or pack_rows - 1 for small groups).
      const int64_t rows = k->of(t).pack_rows, n_in = 512, n_out = 2 * rows + std::min<int64_t>(5, rows - 1);
      const size_t wrow = row_size_bytes(t, n_in);
      std::vector<uint8_t> w;
      for (int64_t r = 0; r < n_out; ++r) {
        const auto wq = random_blocks(t, n_in, rng);
        w.insert(w.end(), wq.begin(), wq.begin() + long(wrow));
      }
      std::vector<uint8_t> packed(packed_size_bytes(*k, t, n_in, n_out));
      ASSERT_EQ(packed.size(), size_t(2 * k->of(t).pack_rows) * wrow);
      pack_weights(*k, t, w.data(), n_in, n_out, packed.data());
      for (int64_t n_tok : {int64_t(1), int64_t(6)}) {
        const std::vector<float> x = make_data(n_in * n_tok, Dist::kNormal, uint32_t(n_tok));
        std::vector<float> plain(size_t(n_tok * n_out)), fast(size_t(n_tok * n_out));
        std::vector<uint8_t> scratch;
        matmul(*k, t, w.data(), n_in, n_out, x.data(), n_tok, plain.data(), scratch);
        matmul(*k, t, w.data(), n_in, n_out, x.data(), n_tok, fast.data(), scratch, nullptr, packed.data());
        for (size_t i = 0; i < plain.size(); ++i) ASSERT_EQ(fast[i], plain[i]) << k->isa << " " << type_name(t) << " at " << i;
        ++checked;
      }
    }
  }
  if (checked == 0) GTEST_SKIP() << "no kernel table on this CPU has packed weights";
}

// The tables with packed integer kernels keep them (so that the packed tests above cannot pass
// by skipping): ARM dotprod and i8mm pack Q4_0, Q8_0 and Q4_K in groups of 4 rows, each taking
// the bytes of the rows it replaces.
TEST(QuantsVecDot, ArmTablesHavePackedForms) {
  int checked = 0;
  for (const Kernels* k : tables()) {
    const std::string isa = k->isa;
    if (isa != "dotprod" && isa != "i8mm") continue;
    for (GgmlType t : {T::kQ4_0, T::kQ8_0, T::kQ4_K}) {
      const TypeKernels& tk = k->of(t);
      EXPECT_EQ(tk.pack_rows, 4) << isa << " " << type_name(t);
      EXPECT_NE(tk.pack, nullptr) << isa << " " << type_name(t);
      EXPECT_NE(tk.gemm_packed, nullptr) << isa << " " << type_name(t);
      EXPECT_EQ(packed_size_bytes(*k, t, 512, 11), 8 * row_size_bytes(t, 512)) << isa << " " << type_name(t);
      ++checked;
    }
  }
  if (checked == 0) GTEST_SKIP() << "no ARM dotprod / i8mm table on this CPU";
}

// Where a block's f16 scale d lies in each weight format (bytes from the block's start).
size_t scale_offset(GgmlType t) {
  switch (t) {
    case T::kQ2_K: return offsetof(BlockQ2_K, d);
    case T::kQ3_K: return offsetof(BlockQ3_K, d);
    case T::kQ6_K: return offsetof(BlockQ6_K, d);
    default: return 0;  // Q4_0 .. Q8_0, Q4_K, Q5_K: d first
  }
}

// Packed groups on hostile rows, against vec_dot of the same table bit for bit (NaN where vec_dot
// gives NaN), for every n_tok from 1 to 17 (so every tile of activation rows and every leftover
// of one is met) and with every row of the group taking every kind of row in turn:
//   random blocks; all bytes zero; the largest finite scale (65504) over extreme quants
//   (Q8_0: every weight -128; Q4_0: nibbles 0 and 15, weights -8 and 7; other formats: bytes
//   0x80 / 0xff / 0x0f); a NaN scale in one block; an infinite scale in another; zero and -0
//   scales over random quants.
// Activation rows: normal, outliers, all zero, and one hand-made row of quants -127 / 127 under
// the largest scale (so that products overflow float to infinity).
TEST(QuantsVecDot, PackedGemmOnHostileBlocksEqualsVecDot) {
  std::mt19937 rng(23);
  int checked = 0;
  auto same = [](float a, float b) { return (std::isnan(a) && std::isnan(b)) || a == b; };
  constexpr int kKinds = 6;
  for (const Kernels* k : tables()) {
    for (GgmlType t : kSupported) {
      const TypeKernels& tk = k->of(t);
      if (tk.pack == nullptr || tk.gemm_packed == nullptr) continue;
      const GgmlType at = type_info(t)->vec_dot_type;
      if (at == GgmlType::kF32) continue;  // float weights: float_kernels_test.cpp
      const int64_t rows = tk.pack_rows, n = 512;
      const size_t wrow = row_size_bytes(t, n), arow = row_size_bytes(at, n);
      const size_t block_bytes = type_info(t)->block_bytes, nb = size_t(n / type_info(t)->block_size);
      const size_t d_at = scale_offset(t);
      auto set_scale = [&](std::vector<uint8_t>& row, size_t b, uint16_t h) { std::memcpy(row.data() + b * block_bytes + d_at, &h, 2); };
      auto hostile_row = [&](int kind) {
        std::vector<uint8_t> row = random_blocks(t, n, rng);
        switch (kind) {
          case 1: std::fill(row.begin(), row.end(), uint8_t(0)); break;
          case 2:
            for (size_t b = 0; b < nb; ++b) {
              for (size_t i = 0; i < block_bytes; ++i) {
                const uint8_t extreme[3] = {0x80, 0xff, 0x0f};
                row[b * block_bytes + i] = t == T::kQ8_0 ? 0x80 : t == T::kQ4_0 ? extreme[1 + (i + b) % 2] : extreme[(i + b) % 3];
              }
              set_scale(row, b, 0x7bff);  // 65504
              if (t == T::kQ4_K || t == T::kQ5_K || t == T::kQ2_K) {
                const uint16_t dmin = 0x7bff;
                std::memcpy(row.data() + b * block_bytes + d_at + 2, &dmin, 2);
              }
            }
            break;
          case 3: set_scale(row, nb / 2, 0x7e00); break;      // NaN
          case 4: set_scale(row, nb - 1, 0xfc00); break;      // -infinity
          case 5:
            for (size_t b = 0; b < nb; ++b) set_scale(row, b, b % 2 ? 0x8000 : 0x0000);  // -0, +0
            break;
          default: break;  // 0: random
        }
        return row;
      };
      for (int64_t n_tok = 1; n_tok <= 17; ++n_tok) {
        std::vector<uint8_t> a(size_t(n_tok) * arow);
        for (int64_t c = 0; c < n_tok; ++c) {
          std::vector<float> x = make_data(n, c % 2 ? Dist::kOutliers : Dist::kNormal, uint32_t(c + 31 * n_tok));
          if (c % 5 == 2) std::fill(x.begin(), x.end(), 0.0f);
          auto aq = quantize(*k, at, x);
          if (c % 5 == 4 && at == GgmlType::kQ8_0) {
            for (size_t b = 0; b < aq.size(); b += sizeof(BlockQ8_0)) {
              BlockQ8_0 blk;
              blk.d = 0x7bff;
              for (int j = 0; j < 32; ++j) blk.qs[j] = int8_t(j % 3 == 0 ? -127 : 127);
              std::memcpy(aq.data() + b, &blk, sizeof(blk));
            }
          }
          std::memcpy(a.data() + size_t(c) * arow, aq.data(), arow);
        }
        std::vector<ActBlock> sums(size_t(n_tok) * size_t(n / 32));
        if (at == GgmlType::kQ8_0) block_sums(a.data(), arow, n, n_tok, sums.data());
        for (int shift = 0; shift < kKinds; ++shift) {
          std::vector<uint8_t> w(size_t(rows) * wrow);
          for (int64_t r = 0; r < rows; ++r) {
            const auto row = hostile_row(int((r + shift) % kKinds));
            std::memcpy(w.data() + size_t(r) * wrow, row.data(), wrow);
          }
          std::vector<uint8_t> group(size_t(rows) * wrow);
          tk.pack(n, w.data(), wrow, group.data());
          const size_t ostride = size_t(rows) + 1;
          std::vector<float> out(size_t(n_tok) * ostride, -1.0f);
          tk.gemm_packed(n, group.data(), a.data(), arow, at == GgmlType::kQ8_0 ? sums.data() : nullptr, n_tok,
                         out.data(), ostride);
          for (int64_t c = 0; c < n_tok; ++c) {
            for (int64_t r = 0; r < rows; ++r) {
              const float want = tk.vec_dot(n, w.data() + size_t(r) * wrow, a.data() + size_t(c) * arow);
              const float got = out[size_t(c) * ostride + size_t(r)];
              ASSERT_TRUE(same(got, want)) << k->isa << " " << type_name(t) << " n_tok=" << n_tok << " shift " << shift
                                           << " row " << r << " (kind " << (r + shift) % kKinds << ") col " << c << ": "
                                           << got << " vs " << want;
            }
            EXPECT_EQ(out[size_t(c) * ostride + size_t(rows)], -1.0f) << "wrote past the group";
          }
          ++checked;
        }
      }
    }
  }
  if (checked == 0) GTEST_SKIP() << "no kernel table on this CPU has packed weights";
}

// matmul with a packed copy equals matmul without one for n_out that is not a multiple of
// pack_rows (the rows left over take the unpacked path) and for every n_tok up to 17.
TEST(QuantsVecDot, MatmulWithPackedWeightsEqualsUnpackedForEveryTokenCount) {
  std::mt19937 rng(29);
  int checked = 0;
  for (const Kernels* k : tables()) {
    for (GgmlType t : kSupported) {
      if (k->of(t).pack == nullptr) continue;
      if (type_info(t)->vec_dot_type == GgmlType::kF32) continue;  // float weights: float_kernels_test.cpp
      const int64_t n_in = 256, n_out = 3 * k->of(t).pack_rows + 3;
      const size_t wrow = row_size_bytes(t, n_in);
      std::vector<uint8_t> w;
      for (int64_t r = 0; r < n_out; ++r) {
        const auto wq = random_blocks(t, n_in, rng);
        w.insert(w.end(), wq.begin(), wq.begin() + long(wrow));
      }
      std::vector<uint8_t> packed(packed_size_bytes(*k, t, n_in, n_out));
      ASSERT_EQ(packed.size(), size_t(3 * k->of(t).pack_rows) * wrow);
      pack_weights(*k, t, w.data(), n_in, n_out, packed.data());
      for (int64_t n_tok = 1; n_tok <= 17; ++n_tok) {
        const std::vector<float> x = make_data(n_in * n_tok, Dist::kOutliers, uint32_t(100 + n_tok));
        std::vector<float> plain(size_t(n_tok * n_out)), fast(size_t(n_tok * n_out));
        std::vector<uint8_t> scratch;
        matmul(*k, t, w.data(), n_in, n_out, x.data(), n_tok, plain.data(), scratch);
        matmul(*k, t, w.data(), n_in, n_out, x.data(), n_tok, fast.data(), scratch, nullptr, packed.data());
        for (size_t i = 0; i < plain.size(); ++i)
          ASSERT_EQ(fast[i], plain[i]) << k->isa << " " << type_name(t) << " n_tok=" << n_tok << " at " << i;
        ++checked;
      }
    }
  }
  if (checked == 0) GTEST_SKIP() << "no kernel table on this CPU has packed weights";
}

// matmul_many over matrices of one input (packed and not, some with another activation format,
// more than one call's worth of them) gives each output the bits of matmul alone, with and
// without a pool.
TEST(QuantsVecDot, MatmulManyEqualsOneMatmulPerMatrix) {
  std::mt19937 rng(31);
  ThreadPool pool(2);
  const int64_t n_in = 256;
  // Q8_0-activation types, then Q8_K-activation ones (a second conversion), then Q8_0 again.
  const GgmlType types[] = {T::kQ4_0, T::kQ8_0, T::kQ5_0, T::kQ4_K, T::kQ6_K, T::kQ4_0};
  const int64_t n_outs[] = {37, 16, 64, 19, 48, 8};
  constexpr int kJobs = 6;
  for (const Kernels* k : tables()) {
    std::vector<std::vector<uint8_t>> w(kJobs), packed(kJobs);
    for (int j = 0; j < kJobs; ++j) {
      const size_t wrow = row_size_bytes(types[j], n_in);
      for (int64_t r = 0; r < n_outs[j]; ++r) {
        const auto wq = random_blocks(types[j], n_in, rng);
        w[j].insert(w[j].end(), wq.begin(), wq.begin() + long(wrow));
      }
      packed[j].resize(packed_size_bytes(*k, types[j], n_in, n_outs[j]));
      if (!packed[j].empty()) pack_weights(*k, types[j], w[j].data(), n_in, n_outs[j], packed[j].data());
    }
    for (int64_t n_tok : {int64_t(1), int64_t(5), int64_t(33)}) {
      const std::vector<float> x = make_data(n_in * n_tok, Dist::kOutliers, uint32_t(200 + n_tok));
      for (ThreadPool* p : {static_cast<ThreadPool*>(nullptr), &pool}) {
        std::vector<std::vector<float>> one(kJobs), many(kJobs);
        MatmulJob jobs[kJobs];
        std::vector<uint8_t> scratch;
        for (int j = 0; j < kJobs; ++j) {
          one[j].resize(size_t(n_tok * n_outs[j]));
          many[j].assign(size_t(n_tok * n_outs[j]), -1.0f);
          const uint8_t* pk = packed[j].empty() || j % 2 == 1 ? nullptr : packed[j].data();  // some unpacked
          matmul(*k, types[j], w[j].data(), n_in, n_outs[j], x.data(), n_tok, one[j].data(), scratch, nullptr, pk);
          jobs[j] = MatmulJob{types[j], w[j].data(), n_outs[j], pk, many[j].data()};
        }
        matmul_many(*k, jobs, kJobs, n_in, x.data(), n_tok, scratch, p);
        for (int j = 0; j < kJobs; ++j)
          for (size_t i = 0; i < one[j].size(); ++i)
            ASSERT_EQ(many[j][i], one[j][i]) << k->isa << " " << type_name(types[j]) << " job " << j << " n_tok=" << n_tok
                                             << (p != nullptr ? " pool" : "") << " at " << i;
      }
    }
  }
}

// ---- fp16 / bf16 ---------------------------------------------------------------------------

// fp16 value from its fields, by the definition (independent of fp16.h's bit manipulation).
double fp16_by_definition(uint16_t h) {
  const int sign = h >> 15, exp = (h >> 10) & 0x1f, mant = h & 0x3ff;
  const double mag = exp == 0 ? std::ldexp(double(mant), -24) : std::ldexp(1.0 + mant / 1024.0, exp - 15);
  return sign ? -mag : mag;
}

TEST(Fp16Conversions, EveryHalfDecodesByDefinitionAndRoundTrips) {
  for (uint32_t i = 0; i < 65536; ++i) {
    const uint16_t h = uint16_t(i);
    const float f = fp16_to_fp32(h);
    const int exp = (h >> 10) & 0x1f;
    if (exp == 0x1f) {
      if ((h & 0x3ff) == 0) {
        EXPECT_TRUE(std::isinf(f) && std::signbit(f) == bool(h >> 15)) << i;
        EXPECT_EQ(fp32_to_fp16(f), h) << i;
      } else {
        EXPECT_TRUE(std::isnan(f)) << i;
        EXPECT_TRUE(std::isnan(fp16_to_fp32(fp32_to_fp16(f)))) << i;  // NaN stays NaN
      }
      continue;
    }
    ASSERT_EQ(double(f), fp16_by_definition(h)) << i;
    EXPECT_EQ(std::signbit(f), bool(h >> 15)) << i;  // -0 stays -0
    ASSERT_EQ(fp32_to_fp16(f), h) << i;
  }
}

// Between every two neighbouring finite halves (both signs), the midpoint rounds to the one with
// an even mantissa, and anything off the midpoint by one float ulp rounds to the nearer one.
TEST(Fp16Conversions, RoundsToNearestEvenBetweenEveryNeighbourPair) {
  for (uint32_t sign : {0u, 0x8000u}) {
    for (uint32_t m = 0; m < 0x7bff; ++m) {
      const uint16_t lo = uint16_t(sign | m), hi = uint16_t(sign | (m + 1));
      const float mid = float((fp16_by_definition(lo) + fp16_by_definition(hi)) / 2);  // exact in float
      const uint16_t even = (m & 1) ? hi : lo;
      ASSERT_EQ(fp32_to_fp16(mid), even) << m;
      ASSERT_EQ(fp32_to_fp16(std::nextafter(mid, 0.0f)), lo) << m;
      ASSERT_EQ(fp32_to_fp16(std::nextafter(mid, sign ? -INFINITY : INFINITY)), hi) << m;
    }
  }
  EXPECT_EQ(fp32_to_fp16(1.0f + std::ldexp(1.0f, -11)), 0x3c00);      // tie -> 1.0 (even)
  EXPECT_EQ(fp32_to_fp16(1.0f + 3 * std::ldexp(1.0f, -11)), 0x3c02);  // tie -> up (even)
  EXPECT_EQ(fp32_to_fp16(65519.99f), 0x7bff);                         // largest finite half 65504
  EXPECT_EQ(fp32_to_fp16(65520.0f), 0x7c00);                          // tie with 65536 -> inf
  EXPECT_EQ(fp32_to_fp16(1e10f), 0x7c00);
  EXPECT_EQ(fp32_to_fp16(-1e10f), 0xfc00);
  EXPECT_EQ(fp32_to_fp16(std::ldexp(1.0f, -25)), 0x0000);       // half the smallest subnormal: to 0
  EXPECT_EQ(fp32_to_fp16(std::ldexp(1.5f, -25)), 0x0001);       // above the tie
  EXPECT_EQ(fp32_to_fp16(std::ldexp(3.0f, -25)), 0x0002);       // tie between 1 and 2 -> 2
  EXPECT_EQ(fp32_to_fp16(std::ldexp(1.0f, -14)), 0x0400);       // smallest normal
  EXPECT_EQ(fp32_to_fp16(std::ldexp(1023.5f, -24)), 0x0400);    // tie -> rounds up into the normals
  EXPECT_EQ(fp32_to_fp16(-0.0f), 0x8000);
  EXPECT_TRUE(std::isnan(fp16_to_fp32(fp32_to_fp16(NAN))));
}

TEST(Fp16Conversions, Bf16RoundTripsAndTiesGoToEven) {
  for (uint32_t i = 0; i < 65536; ++i) {
    const uint16_t h = uint16_t(i);
    const float f = bf16_to_fp32(h);
    EXPECT_EQ(fp32_to_bits(f), uint32_t(h) << 16);
    if (std::isnan(f)) {
      EXPECT_TRUE(std::isnan(bf16_to_fp32(fp32_to_bf16(f)))) << i;
      continue;
    }
    ASSERT_EQ(fp32_to_bf16(f), h) << i;
    // The float halfway to the next bf16 up (in magnitude) rounds to the even of the two.
    if ((h & 0x7fff) < 0x7f7f) {
      const float mid = fp32_from_bits((uint32_t(h) << 16) | 0x8000);
      ASSERT_EQ(fp32_to_bf16(mid), (h & 1) ? uint16_t(h + 1) : h) << i;
      ASSERT_EQ(fp32_to_bf16(fp32_from_bits((uint32_t(h) << 16) | 0x7fff)), h) << i;
      ASSERT_EQ(fp32_to_bf16(fp32_from_bits((uint32_t(h) << 16) | 0x8001)), uint16_t(h + 1)) << i;
    }
  }
  EXPECT_EQ(fp32_to_bf16(1.0f + std::ldexp(1.0f, -8)), 0x3f80);      // tie -> 1.0
  EXPECT_EQ(fp32_to_bf16(1.0f + 3 * std::ldexp(1.0f, -8)), 0x3f82);  // tie -> up
  EXPECT_EQ(fp32_to_bf16(fp32_from_bits(0x7f7f8000u)), 0x7f80);     // tie above the largest -> inf
  EXPECT_TRUE(std::isnan(bf16_to_fp32(fp32_to_bf16(NAN))));
}

}  // namespace
}  // namespace pm
