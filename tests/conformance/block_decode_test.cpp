// Block decoding against gguf-py (../shared/fixtures/dequant): the raw bytes of a 256 x 128
// tensor per type, as llama-quantize stored them, must decode to exactly the reference floats.
#include <cmath>
#include <cstring>

#include <nlohmann/json.hpp>

#include "kernels/kernels.h"
#include "test_util.h"

namespace pm {
namespace {

uint32_t ulp_distance(float a, float b) {
  int32_t ia, ib;
  std::memcpy(&ia, &a, 4);
  std::memcpy(&ib, &b, 4);
  if ((ia < 0) != (ib < 0)) return a == b ? 0 : UINT32_MAX;  // +0 / -0
  return uint32_t(std::abs(int64_t(ia) - int64_t(ib)));
}

TEST(BlockDecode, EveryTypeMatchesGgufPyBitForBit) {
  PM_REQUIRE_FIXTURE(index_path, "dequant/index.json");
  const nlohmann::json index = nlohmann::json::parse(test::read_text(index_path));
  ASSERT_GE(index.size(), 12u);
  for (const auto& [name, entry] : index.items()) {
    SCOPED_TRACE(name);
    const GgmlType type = static_cast<GgmlType>(entry["ggml_type"].get<uint32_t>());
    const TypeInfo* info = type_info(type);
    ASSERT_NE(info, nullptr);
    std::string lower = name;
    for (char& c : lower) c = char(std::tolower(static_cast<unsigned char>(c)));
    const std::string blocks = test::read_text(test::fixture("dequant/" + lower + ".blocks"));
    const std::vector<float> expected = test::read_f32(test::fixture("dequant/" + lower + ".f32"));
    const int64_t n = entry["n_elements"].get<int64_t>();
    ASSERT_EQ(int64_t(expected.size()), n);
    ASSERT_EQ(blocks.size(), row_size_bytes(type, n));
    std::vector<float> got(static_cast<size_t>(n));
    generic_kernels().of(type).to_float(blocks.data(), got.data(), n);
    int64_t mismatches = 0;
    for (int64_t i = 0; i < n; ++i) {
      if (ulp_distance(got[size_t(i)], expected[size_t(i)]) > 1) {
        if (mismatches++ < 5) ADD_FAILURE() << name << " element " << i << ": " << got[size_t(i)] << " != " << expected[size_t(i)];
      }
    }
    EXPECT_EQ(mismatches, 0) << name;
    // The active (possibly SIMD) table must agree with the reference exactly.
    std::vector<float> active(static_cast<size_t>(n));
    active_kernels().of(type).to_float(blocks.data(), active.data(), n);
    EXPECT_EQ(std::memcmp(active.data(), got.data(), got.size() * 4), 0) << name;
  }
}

}  // namespace
}  // namespace pm
