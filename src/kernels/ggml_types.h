// Tensor element types as GGUF stores them (ids are ggml's, fixed by the file format),
// and the byte layout of every quantized block. All blocks are little-endian, packed.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string_view>

namespace pm {

enum class GgmlType : uint32_t {
  kF32 = 0,
  kF16 = 1,
  kQ4_0 = 2,
  kQ4_1 = 3,
  kQ5_0 = 6,
  kQ5_1 = 7,
  kQ8_0 = 8,
  kQ8_1 = 9,
  kQ2_K = 10,
  kQ3_K = 11,
  kQ4_K = 12,
  kQ5_K = 13,
  kQ6_K = 14,
  kQ8_K = 15,
  kIQ2_XXS = 16,
  kIQ2_XS = 17,
  kIQ3_XXS = 18,
  kIQ1_S = 19,
  kIQ4_NL = 20,
  kIQ3_S = 21,
  kIQ2_S = 22,
  kIQ4_XS = 23,
  kI8 = 24,
  kI16 = 25,
  kI32 = 26,
  kI64 = 27,
  kF64 = 28,
  kIQ1_M = 29,
  kBF16 = 30,
};
inline constexpr uint32_t kGgmlTypeCount = 31;  // ids are < this

struct TypeInfo {
  const char* name;      // "q4_K", as llama.cpp prints it
  int64_t block_size;    // elements per block (1 for plain floats)
  size_t block_bytes;    // bytes per block
  bool quantized;
  bool supported;        // pocketmind can decode it (and do dot products with it)
  GgmlType vec_dot_type; // activations are converted to this type for dot products
};

// Info for a known type id; nullptr for ids ggml never assigned (4, 5, >= kGgmlTypeCount).
const TypeInfo* type_info(GgmlType type);
inline const TypeInfo* type_info(uint32_t id) { return type_info(static_cast<GgmlType>(id)); }
const char* type_name(GgmlType type);  // "unknown" for unassigned ids
// Case-insensitive: "q4_0", "Q4_K", "f16", "bf16".
std::optional<GgmlType> type_from_name(std::string_view name);
// Bytes of a row of n elements; n must be a multiple of the block size.
size_t row_size_bytes(GgmlType type, int64_t n);

constexpr int kQK4_0 = 32, kQK4_1 = 32, kQK5_0 = 32, kQK5_1 = 32, kQK8_0 = 32, kQK8_1 = 32;
constexpr int kQK_K = 256;       // super-block size of the K-quants
constexpr int kKScaleSize = 12;  // packed 6-bit scales/mins of Q4_K / Q5_K

// Q4_0: 32 weights in 18 bytes.
//   d      fp16 scale
//   qs[16] byte j: low nibble = weight j, high nibble = weight j+16; value = (nibble - 8) * d
struct BlockQ4_0 { uint16_t d; uint8_t qs[16]; };
static_assert(sizeof(BlockQ4_0) == 18);

// Q4_1: 32 weights in 20 bytes. value = nibble * d + m (nibbles laid out as Q4_0).
struct BlockQ4_1 { uint16_t d; uint16_t m; uint8_t qs[16]; };
static_assert(sizeof(BlockQ4_1) == 20);

// Q5_0: 32 weights in 22 bytes.
//   qh     bit j = 5th bit of weight j (little-endian uint32)
//   qs[16] low 4 bits, laid out as Q4_0; value = (q5 - 16) * d
struct BlockQ5_0 { uint16_t d; uint8_t qh[4]; uint8_t qs[16]; };
static_assert(sizeof(BlockQ5_0) == 22);

// Q5_1: 32 weights in 24 bytes. value = q5 * d + m.
struct BlockQ5_1 { uint16_t d; uint16_t m; uint8_t qh[4]; uint8_t qs[16]; };
static_assert(sizeof(BlockQ5_1) == 24);

// Q8_0: 32 weights in 34 bytes. value = qs[j] * d.
struct BlockQ8_0 { uint16_t d; int8_t qs[32]; };
static_assert(sizeof(BlockQ8_0) == 34);

// Q8_1: 32 values in 36 bytes (activations). s = d * sum(qs), so offset terms need no pass.
struct BlockQ8_1 { uint16_t d; uint16_t s; int8_t qs[32]; };
static_assert(sizeof(BlockQ8_1) == 36);

// Q2_K: 256 weights in 84 bytes; 16 sub-blocks of 16.
//   scales[16] low nibble = scale, high nibble = min, of sub-block i
//   qs[64]     2-bit quants; value = d * scale * q - dmin * min
struct BlockQ2_K { uint8_t scales[16]; uint8_t qs[64]; uint16_t d; uint16_t dmin; };
static_assert(sizeof(BlockQ2_K) == 84);

// Q3_K: 256 weights in 110 bytes; 16 sub-blocks of 16.
//   hmask[32]  high (3rd) bit of each quant; qs[64] low 2 bits
//   scales[12] 16 signed 6-bit scales (stored + 32); value = d * (scale - 32) * (q3 - 4 if hbit clear)
struct BlockQ3_K { uint8_t hmask[32]; uint8_t qs[64]; uint8_t scales[12]; uint16_t d; };
static_assert(sizeof(BlockQ3_K) == 110);

// Q4_K: 256 weights in 144 bytes; 8 sub-blocks of 32.
//   scales[12] 8 6-bit scales and 8 6-bit mins; value = d * scale * q - dmin * min
struct BlockQ4_K { uint16_t d; uint16_t dmin; uint8_t scales[12]; uint8_t qs[128]; };
static_assert(sizeof(BlockQ4_K) == 144);

// Q5_K: 256 weights in 176 bytes; as Q4_K plus qh[32] holding the 5th bits.
struct BlockQ5_K { uint16_t d; uint16_t dmin; uint8_t scales[12]; uint8_t qh[32]; uint8_t qs[128]; };
static_assert(sizeof(BlockQ5_K) == 176);

// Q6_K: 256 weights in 210 bytes; 16 sub-blocks of 16.
//   ql[128] low 4 bits, qh[64] high 2 bits, scales[16] int8; value = d * scale * (q6 - 32)
struct BlockQ6_K { uint8_t ql[128]; uint8_t qh[64]; int8_t scales[16]; uint16_t d; };
static_assert(sizeof(BlockQ6_K) == 210);

// Q8_K: 256 activations in 292 bytes (dot-product partner of the K-quants).
//   d float scale; bsums[i] = sum of qs[16 i .. 16 i + 15]
struct BlockQ8_K { float d; int8_t qs[256]; int16_t bsums[16]; };
static_assert(sizeof(BlockQ8_K) == 292);

}  // namespace pm
