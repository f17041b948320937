// Every block format: quantize -> dequantize error bounds, and dot products against a
// double-precision reference; plus the fp16 / bf16 conversions and the type table.
#include <cmath>
#include <random>

#include <gtest/gtest.h>

#include "core/fp16.h"
#include "kernels/kernels.h"

namespace pm {
namespace {

enum class Dist { kNormal, kUniform, kOutliers };

std::vector<float> make_data(int64_t n, Dist dist, uint32_t seed) {
  std::mt19937 rng(seed);
  std::normal_distribution<float> normal(0.0f, 1.0f);
  std::uniform_real_distribution<float> uniform(-1.0f, 1.0f);
  std::vector<float> x(static_cast<size_t>(n));
  for (int64_t i = 0; i < n; ++i) {
    switch (dist) {
      case Dist::kNormal: x[size_t(i)] = normal(rng); break;
      case Dist::kUniform: x[size_t(i)] = uniform(rng); break;
      case Dist::kOutliers: x[size_t(i)] = normal(rng) * (rng() % 64 == 0 ? 20.0f : 1.0f); break;
    }
  }
  return x;
}

double rms(const std::vector<float>& v) {
  double s = 0;
  for (float x : v) s += double(x) * x;
  return std::sqrt(s / double(v.size()));
}

struct Bound {
  GgmlType type;
  double max_rel_rms;  // RMS(error) / RMS(x) on normal data
};

// Bounds from the bit width: a uniform quantizer with 2^b levels over a block's range has
// RMS error ~ step / sqrt(12); for normal data the range per block is ~4-6 sigma. Each bound
// is the measured value (see the test output) with roughly 25% margin.
const Bound kBounds[] = {
    {GgmlType::kF16, 0.0004}, {GgmlType::kBF16, 0.003},  {GgmlType::kQ8_0, 0.006}, {GgmlType::kQ8_1, 0.006},
    {GgmlType::kQ5_0, 0.06},  {GgmlType::kQ5_1, 0.05},   {GgmlType::kQ4_0, 0.12},  {GgmlType::kQ4_1, 0.10},
    {GgmlType::kQ6_K, 0.03},  {GgmlType::kQ5_K, 0.06},   {GgmlType::kQ4_K, 0.095}, {GgmlType::kQ3_K, 0.19},
    {GgmlType::kQ2_K, 0.37},  {GgmlType::kQ8_K, 0.015},  // Q8_K: one scale per 256 values
};

TEST(QuantRoundTrip, ErrorWithinBitWidthBounds) {
  const Kernels& k = generic_kernels();
  const int64_t n = 4096;
  for (const Bound& b : kBounds) {
    for (Dist dist : {Dist::kNormal, Dist::kUniform, Dist::kOutliers}) {
      const std::vector<float> x = make_data(n, dist, 11);
      std::vector<uint8_t> q(row_size_bytes(b.type, n));
      std::vector<float> y(static_cast<size_t>(n));
      k.of(b.type).from_float(x.data(), q.data(), n);
      k.of(b.type).to_float(q.data(), y.data(), n);
      std::vector<float> err(static_cast<size_t>(n));
      for (int64_t i = 0; i < n; ++i) err[size_t(i)] = y[size_t(i)] - x[size_t(i)];
      const double rel = rms(err) / rms(x);
      std::printf("%-5s %-8s relative RMS error %.5f\n", type_name(b.type),
                  dist == Dist::kNormal ? "normal" : dist == Dist::kUniform ? "uniform" : "outliers", rel);
      // Outliers stretch block ranges: allow twice the bound there.
      EXPECT_LE(rel, dist == Dist::kOutliers ? 2 * b.max_rel_rms : b.max_rel_rms) << type_name(b.type);
    }
  }
}

TEST(QuantRoundTrip, ZerosStayZero) {
  const Kernels& k = generic_kernels();
  for (const Bound& b : kBounds) {
    std::vector<float> x(512, 0.0f), y(512, 1.0f);
    std::vector<uint8_t> q(row_size_bytes(b.type, 512));
    k.of(b.type).from_float(x.data(), q.data(), 512);
    k.of(b.type).to_float(q.data(), y.data(), 512);
    for (float v : y) EXPECT_EQ(v, 0.0f) << type_name(b.type);
  }
}

// vec_dot(W, quantize(a)) against sum(dequant(W) * a) in double: the only difference is the
// activation quantization (8-bit, or fp16/bf16 for the float types).
TEST(QuantVecDot, MatchesDoubleReference) {
  const Kernels& k = generic_kernels();
  const int64_t n = 1024;
  for (const Bound& b : kBounds) {
    if (b.type == GgmlType::kQ8_1) continue;  // an activation format, never a weight
    const TypeInfo* info = type_info(b.type);
    const std::vector<float> w = make_data(n, Dist::kNormal, 3), a = make_data(n, Dist::kNormal, 4);
    std::vector<uint8_t> wq(row_size_bytes(b.type, n)), aq(row_size_bytes(info->vec_dot_type, n));
    k.of(b.type).from_float(w.data(), wq.data(), n);
    std::vector<float> wd(static_cast<size_t>(n));
    k.of(b.type).to_float(wq.data(), wd.data(), n);
    k.of(info->vec_dot_type).from_float(a.data(), aq.data(), n);
    double ref = 0, mag = 0;
    for (int64_t i = 0; i < n; ++i) {
      ref += double(wd[size_t(i)]) * a[size_t(i)];
      mag += std::fabs(double(wd[size_t(i)]) * a[size_t(i)]);
    }
    const double got = k.of(b.type).vec_dot(n, wq.data(), aq.data());
    // 8-bit activations: relative error per product <= 1/254 of the block max; bound on the
    // sum of magnitudes.
    const double tol = info->vec_dot_type == GgmlType::kF32 ? 1e-6 * mag
                       : info->vec_dot_type == GgmlType::kF16 ? 1e-3 * mag
                       : info->vec_dot_type == GgmlType::kBF16 ? 8e-3 * mag : 1.2e-2 * mag;
    EXPECT_NEAR(got, ref, tol) << type_name(b.type);
  }
}

TEST(Fp16, EveryHalfRoundTripsThroughFloat) {
  for (uint32_t h = 0; h < 65536; ++h) {
    const float f = fp16_to_fp32(uint16_t(h));
    if (std::isnan(f)) {
      EXPECT_TRUE(std::isnan(fp16_to_fp32(fp32_to_fp16(f))));
      continue;
    }
    EXPECT_EQ(fp32_to_fp16(f), uint16_t(h)) << h;
  }
  EXPECT_EQ(fp16_to_fp32(0x3c00), 1.0f);
  EXPECT_EQ(fp16_to_fp32(0x0001), std::ldexp(1.0f, -24));  // smallest subnormal
  EXPECT_EQ(fp16_to_fp32(0x7bff), 65504.0f);
}

TEST(Fp16, RoundsToNearestEven) {
  // 1 + 2^-11 is halfway between 1 and 1 + 2^-10: ties to even (1.0).
  EXPECT_EQ(fp32_to_fp16(1.0f + std::ldexp(1.0f, -11)), 0x3c00);
  // 1 + 3 * 2^-11 is halfway between 1 + 2^-10 (odd) and 1 + 2^-9: ties to even (up).
  EXPECT_EQ(fp32_to_fp16(1.0f + 3 * std::ldexp(1.0f, -11)), 0x3c02);
  EXPECT_EQ(fp32_to_fp16(65520.0f), 0x7c00);  // rounds to infinity
  EXPECT_EQ(fp32_to_fp16(65519.0f), 0x7bff);
  EXPECT_EQ(fp32_to_bf16(1.0f + std::ldexp(1.0f, -8)), 0x3f80);  // tie to even
  EXPECT_EQ(fp32_to_bf16(1.0f + 3 * std::ldexp(1.0f, -8)), 0x3f82);
  EXPECT_EQ(bf16_to_fp32(0x3f80), 1.0f);
}

TEST(TypeTable, KnownAndUnknownIds) {
  EXPECT_EQ(type_info(4u), nullptr);
  EXPECT_EQ(type_info(99u), nullptr);
  EXPECT_EQ(row_size_bytes(GgmlType::kQ4_0, 64), 36u);
  EXPECT_EQ(row_size_bytes(GgmlType::kQ6_K, 512), 420u);
  EXPECT_EQ(row_size_bytes(GgmlType::kBF16, 10), 20u);
  EXPECT_EQ(type_from_name("Q4_K"), GgmlType::kQ4_K);
  EXPECT_EQ(type_from_name("bf16"), GgmlType::kBF16);
  EXPECT_FALSE(type_from_name("q9_9").has_value());
  for (uint32_t id = 0; id < kGgmlTypeCount; ++id) {
    const TypeInfo* info = type_info(id);
    if (info == nullptr || !info->supported) continue;
    const TypeKernels& tk = generic_kernels().of(static_cast<GgmlType>(id));
    EXPECT_TRUE(tk.to_float && tk.from_float && tk.vec_dot) << info->name;
  }
}

}  // namespace
}  // namespace pm
