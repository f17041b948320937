// Float ops against straightforward double-precision formulas.
#include "kernels/ops.h"

#include <cmath>
#include <random>

#include <gtest/gtest.h>

namespace pm {
namespace {

std::vector<float> random_vec(size_t n, uint32_t seed) {
  std::mt19937 rng(seed);
  std::normal_distribution<float> d(0.0f, 1.0f);
  std::vector<float> v(n);
  for (float& x : v) x = d(rng);
  return v;
}

TEST(Ops, RmsNorm) {
  const auto x = random_vec(96, 1), w = random_vec(96, 2);
  std::vector<float> y(96);
  rms_norm(x.data(), w.data(), y.data(), 96, 1e-6f);
  double ss = 0;
  for (float v : x) ss += double(v) * v;
  const double scale = 1.0 / std::sqrt(ss / 96 + 1e-6);
  for (size_t i = 0; i < 96; ++i) EXPECT_NEAR(y[i], x[i] * scale * w[i], 1e-5);
}

TEST(Ops, SoftmaxSumsToOneAndIsStable) {
  std::vector<float> x = {1000.0f, 1001.0f, 999.0f};
  softmax(x.data(), 3);
  EXPECT_NEAR(x[0] + x[1] + x[2], 1.0, 1e-6);
  const double e0 = 1.0, e1 = std::exp(1.0), e2 = std::exp(-1.0);
  EXPECT_NEAR(x[1], e1 / (e0 + e1 + e2), 1e-6);
}

TEST(Ops, RopeRotatesPairsByPositionAngle) {
  for (bool neox : {false, true}) {
    RopeParams p;
    p.n_rot = 8;
    p.neox = neox;
    p.freq_base = 10000.0f;
    const int64_t pos = 7;
    std::vector<float> cs(8);
    rope_cache(p, pos, cs.data());
    const auto x0 = random_vec(10, 3);  // head_dim 10, only 8 rotated
    std::vector<float> x = x0;
    rope_apply(p, cs.data(), x.data());
    for (int i = 0; i < 4; ++i) {
      const double theta = pos * std::pow(10000.0, -2.0 * i / 8);
      const int a = neox ? i : 2 * i, b = neox ? i + 4 : 2 * i + 1;
      EXPECT_NEAR(x[size_t(a)], x0[size_t(a)] * std::cos(theta) - x0[size_t(b)] * std::sin(theta), 1e-5);
      EXPECT_NEAR(x[size_t(b)], x0[size_t(a)] * std::sin(theta) + x0[size_t(b)] * std::cos(theta), 1e-5);
    }
    EXPECT_EQ(x[8], x0[8]);
    EXPECT_EQ(x[9], x0[9]);
  }
}

TEST(Ops, RopeLinearScalingAndFreqFactors) {
  RopeParams p;
  p.n_rot = 4;
  p.freq_scale = 0.25f;
  const float factors[] = {1.0f, 8.0f};
  p.freq_factors = factors;
  std::vector<float> cs(4);
  rope_cache(p, 40, cs.data());
  EXPECT_NEAR(cs[0], std::cos(40 * 0.25), 1e-6);
  EXPECT_NEAR(cs[3], std::sin(40 * 0.25 * std::pow(10000.0, -0.5) / 8.0), 1e-6);
}

TEST(Ops, SwigluAndGelu) {
  std::vector<float> g = {-2.0f, 0.0f, 3.0f}, x = {1.0f, 2.0f, 0.5f};
  swiglu(g.data(), x.data(), 3);
  for (int i = 0; i < 3; ++i) {
    const double gi = std::vector<double>{-2, 0, 3}[size_t(i)], xi = std::vector<double>{1, 2, 0.5}[size_t(i)];
    EXPECT_NEAR(x[size_t(i)], gi / (1 + std::exp(-gi)) * xi, 1e-6);
  }
  std::vector<float> v = {-1.0f, 0.5f};
  gelu(v.data(), 2);
  EXPECT_NEAR(v[0], -0.158808, 1e-5);
  EXPECT_NEAR(v[1], 0.345714, 1e-5);
  // Far tails: no overflow to NaN (exp(-2u) is inf for very negative inputs).
  std::vector<float> tails = {-1000.0f, -10.0f, 10.0f, 1000.0f};
  gelu(tails.data(), 4);
  EXPECT_EQ(tails[0], 0.0f);
  EXPECT_NEAR(tails[1], 0.0f, 1e-6);
  EXPECT_NEAR(tails[2], 10.0f, 1e-5);
  EXPECT_EQ(tails[3], 1000.0f);
}

}  // namespace
}  // namespace pm
