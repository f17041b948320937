#include "kernels/ggml_types.h"

#include <cctype>
#include <string>

namespace pm {
namespace {

using T = GgmlType;

// Indexed by type id. Unassigned ids (4, 5) have a null name.
constexpr TypeInfo kTypes[kGgmlTypeCount] = {
    /*  0 */ {"f32", 1, 4, false, true, T::kF32},
    /*  1 */ {"f16", 1, 2, false, true, T::kF32},  // f32 activations: see generic/quants.cpp
    /*  2 */ {"q4_0", kQK4_0, sizeof(BlockQ4_0), true, true, T::kQ8_0},
    /*  3 */ {"q4_1", kQK4_1, sizeof(BlockQ4_1), true, true, T::kQ8_1},
    /*  4 */ {nullptr, 0, 0, false, false, T::kF32},
    /*  5 */ {nullptr, 0, 0, false, false, T::kF32},
    /*  6 */ {"q5_0", kQK5_0, sizeof(BlockQ5_0), true, true, T::kQ8_0},
    /*  7 */ {"q5_1", kQK5_1, sizeof(BlockQ5_1), true, true, T::kQ8_1},
    /*  8 */ {"q8_0", kQK8_0, sizeof(BlockQ8_0), true, true, T::kQ8_0},
    /*  9 */ {"q8_1", kQK8_1, sizeof(BlockQ8_1), true, true, T::kQ8_1},
    /* 10 */ {"q2_K", kQK_K, sizeof(BlockQ2_K), true, true, T::kQ8_K},
    /* 11 */ {"q3_K", kQK_K, sizeof(BlockQ3_K), true, true, T::kQ8_K},
    /* 12 */ {"q4_K", kQK_K, sizeof(BlockQ4_K), true, true, T::kQ8_K},
    /* 13 */ {"q5_K", kQK_K, sizeof(BlockQ5_K), true, true, T::kQ8_K},
    /* 14 */ {"q6_K", kQK_K, sizeof(BlockQ6_K), true, true, T::kQ8_K},
    /* 15 */ {"q8_K", kQK_K, sizeof(BlockQ8_K), true, true, T::kQ8_K},
    // i-quants: known to the file format, not computed with yet (sizes per ggml's layouts).
    /* 16 */ {"iq2_xxs", kQK_K, 66, true, false, T::kQ8_K},
    /* 17 */ {"iq2_xs", kQK_K, 74, true, false, T::kQ8_K},
    /* 18 */ {"iq3_xxs", kQK_K, 98, true, false, T::kQ8_K},
    /* 19 */ {"iq1_s", kQK_K, 50, true, false, T::kQ8_K},
    /* 20 */ {"iq4_nl", 32, 18, true, false, T::kQ8_0},
    /* 21 */ {"iq3_s", kQK_K, 110, true, false, T::kQ8_K},
    /* 22 */ {"iq2_s", kQK_K, 82, true, false, T::kQ8_K},
    /* 23 */ {"iq4_xs", kQK_K, 136, true, false, T::kQ8_K},
    /* 24 */ {"i8", 1, 1, false, false, T::kF32},
    /* 25 */ {"i16", 1, 2, false, false, T::kF32},
    /* 26 */ {"i32", 1, 4, false, false, T::kF32},
    /* 27 */ {"i64", 1, 8, false, false, T::kF32},
    /* 28 */ {"f64", 1, 8, false, false, T::kF32},
    /* 29 */ {"iq1_m", kQK_K, 56, true, false, T::kQ8_K},
    /* 30 */ {"bf16", 1, 2, false, true, T::kBF16},
};

}  // namespace

const TypeInfo* type_info(GgmlType type) {
  const uint32_t id = static_cast<uint32_t>(type);
  if (id >= kGgmlTypeCount || kTypes[id].name == nullptr) return nullptr;
  return &kTypes[id];
}

const char* type_name(GgmlType type) {
  const TypeInfo* info = type_info(type);
  return info != nullptr ? info->name : "unknown";
}

std::optional<GgmlType> type_from_name(std::string_view name) {
  auto lower = [](std::string_view s) {
    std::string out(s);
    for (char& c : out) c = char(std::tolower(static_cast<unsigned char>(c)));
    return out;
  };
  const std::string want = lower(name);
  for (uint32_t id = 0; id < kGgmlTypeCount; ++id)
    if (kTypes[id].name != nullptr && lower(kTypes[id].name) == want) return static_cast<GgmlType>(id);
  return std::nullopt;
}

size_t row_size_bytes(GgmlType type, int64_t n) {
  const TypeInfo* info = type_info(type);
  return info == nullptr ? 0 : size_t(n / info->block_size) * info->block_bytes;
}

}  // namespace pm
