// Float kernels of every table this CPU runs (the reference included) against double-precision
// formulas: the packed F16 matrix kernel, attention over a prompt, SwiGLU. Besides accuracy, each
// checks what a batched prompt depends on: a result does not depend on the batch it is part of.
#include <cmath>
#include <cstring>
#include <limits>
#include <random>
#include <vector>

#include <gtest/gtest.h>

#include "core/fp16.h"
#include "kernels/kernels.h"
#include "kernels/matmul.h"

namespace pm {
namespace {

constexpr double kEps = 1.0 / (1 << 23);  // float's unit roundoff is half of this

std::vector<float> normal(size_t n, uint32_t seed, float sigma = 1.0f) {
  std::mt19937 rng(seed);
  std::normal_distribution<float> d(0.0f, sigma);
  std::vector<float> v(n);
  for (float& x : v) x = d(rng);
  return v;
}

bool same_bits(float a, float b) { return std::memcmp(&a, &b, sizeof a) == 0; }

// n_out rows of n f16 values: random, but row 0 all zero, row 1 at +-65504 (the largest f16),
// row 2 subnormal f16 values.
std::vector<uint16_t> f16_rows(int64_t n_out, int64_t n, uint32_t seed) {
  const std::vector<float> r = normal(size_t(n_out * n), seed);
  std::vector<uint16_t> w(size_t(n_out * n));
  for (int64_t o = 0; o < n_out; ++o)
    for (int64_t i = 0; i < n; ++i) {
      const size_t at = size_t(o * n + i);
      uint16_t h = fp32_to_fp16(r[at]);
      if (o == 0) h = 0;
      if (o == 1) h = i % 2 ? 0x7bff : 0xfbff;
      if (o == 2) h = uint16_t(1 + i % 1000) | (i % 3 ? 0 : 0x8000);
      w[at] = h;
    }
  return w;
}

// n_tok activation rows of n floats: random, token 0 all zero, token 1 with values up to 1e4.
std::vector<float> act_rows(int64_t n_tok, int64_t n, uint32_t seed) {
  std::vector<float> x = normal(size_t(n_tok * n), seed);
  for (int64_t i = 0; i < n; ++i) {
    x[size_t(i)] = 0.0f;
    if (n_tok > 1) x[size_t(n + i)] *= 1e4f;
  }
  return x;
}

// |got - sum| within the rounding of an n-term float dot product.
void expect_dot(float got, const uint16_t* w, const float* x, int64_t n, const std::string& what) {
  double ref = 0, mag = 0;
  for (int64_t i = 0; i < n; ++i) {
    const double p = double(fp16_to_fp32(w[i])) * double(x[i]);
    ref += p;
    mag += std::fabs(p);
  }
  EXPECT_NEAR(got, ref, double(n + 1) * kEps * mag + 1e-37) << what;
}

TEST(FloatKernels, PackedF16GemmMatchesDoubleSums) {
  int checked = 0;
  for (const Kernels* k : available_kernels()) {
    const TypeKernels& tk = k->of(GgmlType::kF16);
    if (tk.pack == nullptr || tk.gemm_packed == nullptr) continue;
    const int64_t rows = tk.pack_rows;
    for (int64_t n : {int64_t(1), int64_t(3), int64_t(64), int64_t(301)}) {
      const std::vector<uint16_t> w = f16_rows(rows, n, uint32_t(n));
      std::vector<uint16_t> group(size_t(rows * n));
      tk.pack(n, w.data(), size_t(n) * 2, group.data());
      for (int64_t n_tok : {int64_t(1), int64_t(5), int64_t(6), int64_t(7), int64_t(13)}) {
        const std::vector<float> x = act_rows(n_tok, n, uint32_t(100 + n_tok));
        const size_t ostride = size_t(rows) + 3;
        std::vector<float> out(size_t(n_tok) * ostride, -1.0f);
        tk.gemm_packed(n, group.data(), x.data(), size_t(n) * 4, nullptr, n_tok, out.data(), ostride);
        for (int64_t t = 0; t < n_tok; ++t) {
          // The token alone gives the same bits (the tile it fell in changes nothing).
          std::vector<float> one(static_cast<size_t>(rows), -1.0f);
          tk.gemm_packed(n, group.data(), &x[size_t(t * n)], size_t(n) * 4, nullptr, 1, one.data(), size_t(rows));
          for (int64_t r = 0; r < rows; ++r) {
            const float got = out[size_t(t) * ostride + size_t(r)];
            const std::string what = std::string(k->isa) + " n=" + std::to_string(n) + " n_tok=" +
                                     std::to_string(n_tok) + " token " + std::to_string(t) + " row " + std::to_string(r);
            expect_dot(got, &w[size_t(r * n)], &x[size_t(t * n)], n, what);
            EXPECT_TRUE(same_bits(got, one[size_t(r)])) << what << ": batch " << got << " alone " << one[size_t(r)];
            if (t == 0 || r == 0) { EXPECT_EQ(got, 0.0f) << what; }
          }
          for (size_t r = size_t(rows); r < ostride; ++r) EXPECT_EQ(out[size_t(t) * ostride + r], -1.0f) << "wrote past the group";
        }
        ++checked;
      }
    }
  }
  if (checked == 0) GTEST_SKIP() << "no kernel table on this CPU has packed F16 weights";
}

// matmul over packed F16 weights with rows left over (n_out not a multiple of the group): every
// output within rounding of the double sum, and a batch gives each token's bits alone.
TEST(FloatKernels, MatmulWithPackedF16Weights) {
  int checked = 0;
  for (const Kernels* k : available_kernels()) {
    const TypeKernels& tk = k->of(GgmlType::kF16);
    if (tk.pack == nullptr) continue;
    const int64_t n_in = 96, n_out = 2 * tk.pack_rows + 5, n_tok = 9;
    const std::vector<uint16_t> w = f16_rows(n_out, n_in, 7);
    std::vector<uint8_t> packed(packed_size_bytes(*k, GgmlType::kF16, n_in, n_out));
    ASSERT_EQ(packed.size(), size_t(2 * tk.pack_rows * n_in) * 2);
    pack_weights(*k, GgmlType::kF16, w.data(), n_in, n_out, packed.data());
    const std::vector<float> x = act_rows(n_tok, n_in, 8);
    std::vector<uint8_t> scratch;
    std::vector<float> y(size_t(n_tok * n_out));
    matmul(*k, GgmlType::kF16, w.data(), n_in, n_out, x.data(), n_tok, y.data(), scratch, nullptr, packed.data());
    for (int64_t t = 0; t < n_tok; ++t) {
      std::vector<float> one(static_cast<size_t>(n_out));
      matmul(*k, GgmlType::kF16, w.data(), n_in, n_out, &x[size_t(t * n_in)], 1, one.data(), scratch, nullptr,
             packed.data());
      for (int64_t o = 0; o < n_out; ++o) {
        const std::string what = std::string(k->isa) + " token " + std::to_string(t) + " row " + std::to_string(o);
        expect_dot(y[size_t(t * n_out + o)], &w[size_t(o * n_in)], &x[size_t(t * n_in)], n_in, what);
        EXPECT_TRUE(same_bits(y[size_t(t * n_out + o)], one[size_t(o)])) << what;
      }
    }
    ++checked;
  }
  if (checked == 0) GTEST_SKIP() << "no kernel table on this CPU has packed F16 weights";
}

TEST(FloatKernels, Transpose16MovesEveryElement) {
  for (const Kernels* k : available_kernels()) {
    ASSERT_NE(k->transpose16, nullptr) << k->isa;
    for (int64_t n_cols : {1, 7, 16, 31, 64, 128, 130}) {
      const size_t ss = size_t(n_cols) + 3, ds = 16 * 3 + 5;  // strides that are not the sizes
      const std::vector<float> src = normal(16 * ss, uint32_t(n_cols));
      std::vector<float> dst(size_t(n_cols) * ds, -7.0f);
      k->transpose16(src.data(), ss, n_cols, dst.data(), ds);
      for (int64_t c = 0; c < n_cols; ++c) {
        for (size_t r = 0; r < 16; ++r)
          ASSERT_TRUE(same_bits(dst[size_t(c) * ds + r], src[r * ss + size_t(c)]))
              << k->isa << " n_cols " << n_cols << " column " << c << " row " << r;
        for (size_t x = 16; x < ds; ++x) ASSERT_EQ(dst[size_t(c) * ds + x], -7.0f) << k->isa << ": wrote past the 16";
      }
    }
  }
}

struct AttnCase {
  int64_t d, p0, n_q;
  float q_sigma;      // large: sharp softmax (scores of tens); 0: every query zero (uniform weights)
  int64_t group = 1;  // query heads sharing the key/value head
};

TEST(FloatKernels, AttentionMatchesDoubleSoftmax) {
  const AttnCase cases[] = {{64, 0, 1, 1.0f},     {64, 0, 18, 1.0f},    {64, 33, 7, 1.0f},   {24, 5, 7, 1.0f},
                            {80, 3, 18, 1.0f},    {2, 0, 5, 1.0f},      {64, 9, 9, 6.0f},    {40, 2, 6, 0.0f},
                            {64, 40, 1, 1.0f, 7}, {64, 0, 5, 1.0f, 7},  {128, 21, 3, 1.0f, 2}, {24, 6, 4, 6.0f, 3},
                            {80, 17, 2, 1.0f, 5}, {136, 50, 1, 1.0f, 4}};
  for (const Kernels* k : available_kernels()) {
    ASSERT_NE(k->attention, nullptr) << k->isa;
    for (const AttnCase& c : cases) {
      const int64_t n_kv = c.p0 + c.n_q, hd = c.group * c.d;  // a token's heads side by side
      const size_t qs = size_t(hd) + size_t(c.d) * 2 + 1, kvs = size_t(c.d) * 2 + 3, os = size_t(hd) + 5;
      std::vector<float> q = normal(size_t(c.n_q) * qs, uint32_t(c.d + c.n_q + c.group), c.q_sigma > 0 ? c.q_sigma : 1.0f);
      if (c.q_sigma == 0) std::fill(q.begin(), q.end(), 0.0f);
      const std::vector<float> kk = normal(size_t(n_kv) * kvs, uint32_t(7 * c.d + c.p0));
      const std::vector<float> v = normal(size_t(n_kv) * kvs, uint32_t(11 * c.d + c.p0));
      const float scale = 1.0f / std::sqrt(float(c.d));
      // Keys transposed, with NaN past the last key (the kernel must never use it).
      const size_t kts = size_t(n_kv + 15) / 16 * 16 + 16;
      std::vector<float> kt(size_t(c.d) * kts, std::numeric_limits<float>::quiet_NaN());
      for (int64_t j = 0; j < n_kv; ++j)
        for (int64_t x = 0; x < c.d; ++x) kt[size_t(x) * kts + size_t(j)] = kk[size_t(j) * kvs + size_t(x)];
      std::vector<float> out(size_t(c.n_q) * os, -7.0f);
      k->attention(c.d, c.group, c.n_q, c.p0, q.data(), qs, kt.data(), kts, v.data(), kvs, scale, out.data(), os);
      for (int64_t i = 0; i < c.n_q; ++i) {
        for (int64_t g = 0; g < c.group; ++g) {
          const int64_t nv = c.p0 + i + 1;
          const float* qi = &q[size_t(i) * qs + size_t(g * c.d)];
          std::vector<double> s(static_cast<size_t>(nv));
          double mx = -INFINITY, score_err = 0, vmax = 0;
          for (int64_t j = 0; j < nv; ++j) {
            double dot = 0, mag = 0;
            for (int64_t x = 0; x < c.d; ++x) {
              dot += double(qi[x]) * kk[size_t(j) * kvs + size_t(x)];
              mag += std::fabs(double(qi[x]) * kk[size_t(j) * kvs + size_t(x)]);
              vmax = std::max(vmax, double(std::fabs(v[size_t(j) * kvs + size_t(x)])));
            }
            s[size_t(j)] = dot * scale;
            score_err = std::max(score_err, double(c.d + 1) * kEps * mag * scale);
            mx = std::max(mx, s[size_t(j)]);
          }
          double sum = 0;
          for (double& e : s) sum += (e = std::exp(e - mx));
          // A score off by e moves its weight by a factor e^e: tolerance for the scores' float
          // rounding (amplified), the exponentials and the n_kv-term sums.
          const double tol = vmax * (2.5 * score_err + 8 * kEps * double(nv) + 8 * kEps) + 1e-7;
          // The same head of the same query alone, at its position, over the keys it sees.
          std::vector<float> alone(static_cast<size_t>(c.d), -7.0f);
          k->attention(c.d, 1, 1, c.p0 + i, qi, qs, kt.data(), kts, v.data(), kvs, scale, alone.data(), size_t(c.d));
          const float* got_row = &out[size_t(i) * os + size_t(g * c.d)];
          for (int64_t x = 0; x < c.d; ++x) {
            double ref = 0;
            for (int64_t j = 0; j < nv; ++j) ref += s[size_t(j)] / sum * v[size_t(j) * kvs + size_t(x)];
            const float got = got_row[x];
            const std::string what = std::string(k->isa) + " d=" + std::to_string(c.d) + " p0=" + std::to_string(c.p0) +
                                     " n_q=" + std::to_string(c.n_q) + " group=" + std::to_string(c.group) + " query " +
                                     std::to_string(i) + " head " + std::to_string(g) + " dim " + std::to_string(x);
            EXPECT_NEAR(got, ref, tol) << what;
            EXPECT_TRUE(same_bits(got, alone[size_t(x)])) << what << ": batch " << got << " alone " << alone[size_t(x)];
          }
        }
        for (size_t x = size_t(hd); x < os; ++x) EXPECT_EQ(out[size_t(i) * os + x], -7.0f) << "wrote past the heads";
      }
    }
  }
}

TEST(FloatKernels, SwigluMatchesFormula) {
  const float specials[] = {0.0f,   -0.0f, 1e-3f, 80.0f,  -80.0f, 88.0f,  -88.0f, 89.0f, -89.0f,
                            100.0f, -100.0f, 1e30f, -1e30f, 1e-40f, -1e-40f, 3.5f, -3.5f};
  for (const Kernels* k : available_kernels()) {
    ASSERT_NE(k->swiglu, nullptr) << k->isa;
    for (int64_t n : {int64_t(1), int64_t(7), int64_t(16), int64_t(17), int64_t(33), int64_t(100)}) {
      std::vector<float> g = normal(size_t(n), uint32_t(n), 4.0f), x = normal(size_t(n), uint32_t(n + 1));
      for (int64_t i = 0; i < n; ++i)
        if (i % 3 == 1) g[size_t(i)] = specials[size_t(i / 3) % (sizeof specials / sizeof specials[0])];
      std::vector<float> y = x;
      k->swiglu(g.data(), y.data(), n);
      for (int64_t i = 0; i < n; ++i) {
        const double gd = g[size_t(i)];
        const double ref = double(x[size_t(i)]) * gd / (1.0 + std::exp(-gd));
        const std::string what = std::string(k->isa) + " n=" + std::to_string(n) + " gate " + std::to_string(gd);
        EXPECT_NEAR(y[size_t(i)], ref, 8 * kEps * std::fabs(ref) + 1e-30) << what;
        float one = x[size_t(i)];  // the element alone gives the same bits
        k->swiglu(&g[size_t(i)], &one, 1);
        EXPECT_TRUE(same_bits(y[size_t(i)], one)) << what;
      }
    }
    float g = std::numeric_limits<float>::quiet_NaN(), x = 1.0f;
    k->swiglu(&g, &x, 1);
    EXPECT_TRUE(std::isnan(x)) << k->isa << ": a NaN gate gives NaN";
  }
}

}  // namespace
}  // namespace pm
