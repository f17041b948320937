// Block decoding against gguf-py, the reference Python implementation shipped with llama.cpp
// (../shared/fixtures/dequant): per GGUF type, the raw bytes of a 256 x 128 tensor as
// llama-quantize stored them must decode to exactly the floats gguf-py decodes them to.
#include <cctype>
#include <cmath>
#include <cstring>
#include <set>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "kernels/kernels.h"
#include "test_util.h"

namespace pm {
namespace {

// Distance in units in the last place between two floats of the same sign; +0 and -0 are 0
// apart, anything else across zero (or NaN) is "far".
uint32_t ulp_distance(float a, float b) {
  if (a == b) return 0;
  if (std::isnan(a) || std::isnan(b) || std::signbit(a) != std::signbit(b)) return UINT32_MAX;
  int32_t ia, ib;
  std::memcpy(&ia, &a, 4);
  std::memcpy(&ib, &b, 4);
  return uint32_t(std::abs(int64_t(ia) - int64_t(ib)));
}

std::string lower(std::string s) {
  for (char& c : s) c = char(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

struct FixtureTensor {
  std::string name;  // "Q4_K", as index.json spells it
  GgmlType type;
  int64_t n = 0;
  std::string blocks;          // raw GGUF tensor bytes
  std::vector<float> decoded;  // gguf-py's float32 values
};

// Reads dequant/index.json and every TYPE.blocks / TYPE.f32 it lists; empty when the fixture
// directory is absent (the caller skips).
std::vector<FixtureTensor> load_fixtures(const std::string& index_path) {
  const nlohmann::json index = nlohmann::json::parse(test::read_text(index_path));
  std::vector<FixtureTensor> out;
  for (const auto& [name, entry] : index.items()) {
    FixtureTensor f;
    f.name = name;
    f.type = static_cast<GgmlType>(entry.at("ggml_type").get<uint32_t>());
    f.n = entry.at("n_elements").get<int64_t>();
    int64_t ne = 1;
    for (const auto& d : entry.at("ne")) ne *= d.get<int64_t>();
    EXPECT_EQ(ne, f.n) << name << ": ne and n_elements disagree";
    const std::string base = std::string(PM_FIXTURES_DIR) + "/dequant/" + lower(name);
    EXPECT_TRUE(test::file_exists(base + ".blocks") && test::file_exists(base + ".f32"))
        << base << ".{blocks,f32} missing";
    f.blocks = test::read_text(base + ".blocks");
    f.decoded = test::read_f32(base + ".f32");
    EXPECT_EQ(f.blocks.size(), entry.at("bytes").get<size_t>()) << name;
    out.push_back(std::move(f));
  }
  return out;
}

std::vector<const Kernels*> tables() {
  if (&active_kernels() == &generic_kernels()) return {&generic_kernels()};
  return {&generic_kernels(), &active_kernels()};
}

#define PM_LOAD_DEQUANT_FIXTURES(var)                                                             \
  const std::string index_path_ = test::fixture("dequant/index.json");                            \
  if (index_path_.empty())                                                                        \
    GTEST_SKIP() << "dequant fixtures not found: " PM_FIXTURES_DIR "/dequant/index.json is missing"; \
  const std::vector<FixtureTensor> var = load_fixtures(index_path_)

TEST(DequantConformance, IndexCoversEveryWeightType) {
  PM_LOAD_DEQUANT_FIXTURES(fixtures);
  std::set<GgmlType> have;
  for (const FixtureTensor& f : fixtures) {
    const TypeInfo* info = type_info(f.type);
    ASSERT_NE(info, nullptr) << f.name << ": unknown ggml type id " << uint32_t(f.type);
    EXPECT_EQ(lower(info->name), lower(f.name)) << "index.json names type id " << uint32_t(f.type) << " " << f.name;
    EXPECT_TRUE(info->supported) << f.name;
    have.insert(f.type);
  }
  using T = GgmlType;
  for (GgmlType t : {T::kF16, T::kBF16, T::kQ4_0, T::kQ4_1, T::kQ5_0, T::kQ5_1, T::kQ8_0, T::kQ2_K, T::kQ3_K, T::kQ4_K,
                     T::kQ5_K, T::kQ6_K})
    EXPECT_TRUE(have.count(t)) << "index.json has no " << type_name(t) << " tensor";
}

TEST(DequantConformance, EveryTypeDecodesLikeGgufPy) {
  PM_LOAD_DEQUANT_FIXTURES(fixtures);
  for (const FixtureTensor& f : fixtures) {
    SCOPED_TRACE(f.name);
    ASSERT_NE(type_info(f.type), nullptr);
    ASSERT_EQ(f.blocks.size(), row_size_bytes(f.type, f.n));
    ASSERT_EQ(int64_t(f.decoded.size()), f.n);
    // Kernels may assume aligned blocks, as in a mapped GGUF file (tensor data aligned to 32).
    std::vector<uint64_t> aligned((f.blocks.size() + 7) / 8);
    std::memcpy(aligned.data(), f.blocks.data(), f.blocks.size());
    for (const Kernels* k : tables()) {
      std::vector<float> got(static_cast<size_t>(f.n));
      k->of(f.type).to_float(aligned.data(), got.data(), f.n);
      int64_t mismatches = 0, exact = 0;
      for (int64_t i = 0; i < f.n; ++i) {
        const uint32_t ulps = ulp_distance(got[size_t(i)], f.decoded[size_t(i)]);
        exact += ulps == 0;
        if (ulps > 1 && mismatches++ < 5)
          ADD_FAILURE() << k->isa << " " << f.name << " element " << i << " (block "
                        << i / type_info(f.type)->block_size << "): " << got[size_t(i)] << " != gguf-py's "
                        << f.decoded[size_t(i)];
      }
      EXPECT_EQ(mismatches, 0) << k->isa << " " << f.name << ": " << mismatches << " of " << f.n
                               << " values off by more than 1 ulp";
      std::printf("%-8s %-5s %lld values, %lld bit-exact, %lld within 1 ulp\n", k->isa, f.name.c_str(),
                  (long long)f.n, (long long)exact, (long long)(f.n - exact - mismatches));
    }
  }
}

// The 32-element formats follow llama.cpp's quantization rules exactly (see
// kernels/quants_test.cpp), and those rules are idempotent on their own output: the decoded
// block still holds its largest value on the bottom level (or its min and max on levels 0 and
// 15/31), so quantizing gguf-py's floats again must give back llama-quantize's bytes. For Q4_1 /
// Q5_1 that also relies on (15 d + m) - m rounding back to 15 d in float, true for this tensor.
TEST(DequantConformance, RequantizingReproducesLlamaQuantizeBlocks) {
  PM_LOAD_DEQUANT_FIXTURES(fixtures);
  using T = GgmlType;
  int compared = 0;
  for (const FixtureTensor& f : fixtures) {
    if (f.type != T::kQ4_0 && f.type != T::kQ4_1 && f.type != T::kQ5_0 && f.type != T::kQ5_1 && f.type != T::kQ8_0 &&
        f.type != T::kF16 && f.type != T::kBF16)
      continue;
    for (const Kernels* k : tables()) {
      std::string ours(row_size_bytes(f.type, f.n), '\0');
      k->of(f.type).from_float(f.decoded.data(), ours.data(), f.n);
      const size_t block_bytes = type_info(f.type)->block_bytes;
      size_t differing = 0, first = SIZE_MAX;
      for (size_t b = 0; b < ours.size() / block_bytes; ++b)
        if (std::memcmp(ours.data() + b * block_bytes, f.blocks.data() + b * block_bytes, block_bytes) != 0) {
          ++differing;
          first = std::min(first, b);
        }
      EXPECT_EQ(differing, 0u) << k->isa << " " << f.name << ": " << differing << " blocks differ, first " << first;
    }
    ++compared;
  }
  EXPECT_EQ(compared, 7);
}

// pocketmind's K-quant quantizer is its own (not llama-quantize's algorithm), but values that
// already lie on a grid of the format should come back almost unchanged: measured at most 0.1%
// RMS change (Q3_K), against 2-26% error on fresh data (kernels/quants_test.cpp). The bound
// leaves 5x room.
TEST(DequantConformance, KQuantsRequantizeCloseToTheirOwnGrid) {
  PM_LOAD_DEQUANT_FIXTURES(fixtures);
  for (const FixtureTensor& f : fixtures) {
    if (type_info(f.type) == nullptr || type_info(f.type)->block_size != kQK_K) continue;
    std::vector<uint8_t> q(row_size_bytes(f.type, f.n));
    generic_kernels().of(f.type).from_float(f.decoded.data(), q.data(), f.n);
    std::vector<float> y(static_cast<size_t>(f.n));
    generic_kernels().of(f.type).to_float(q.data(), y.data(), f.n);
    double err = 0, ss = 0;
    for (int64_t i = 0; i < f.n; ++i) {
      err += (double(y[size_t(i)]) - f.decoded[size_t(i)]) * (double(y[size_t(i)]) - f.decoded[size_t(i)]);
      ss += double(f.decoded[size_t(i)]) * f.decoded[size_t(i)];
    }
    const double rel = std::sqrt(err / ss);
    std::printf("%-5s re-quantized: relative RMS change %.5f\n", f.name.c_str(), rel);
    EXPECT_LT(rel, 0.005) << f.name;
  }
}

}  // namespace
}  // namespace pm
