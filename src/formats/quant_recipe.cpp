#include "formats/quant_recipe.h"

#include <cctype>

namespace pm {
namespace {

std::string lower(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = char(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

// llama.cpp's choice of layers that get more bits in its _M mixes.
bool more_bits(int64_t layer, int64_t n_layer) {
  return layer < n_layer / 8 || layer >= 7 * n_layer / 8 || (layer - n_layer / 8) % 3 == 2;
}

// "blk.<n>.<rest>" -> n, else -1.
int64_t layer_of(std::string_view tensor) {
  if (tensor.substr(0, 4) != "blk.") return -1;
  int64_t n = 0;
  size_t i = 4;
  if (i >= tensor.size() || !std::isdigit(static_cast<unsigned char>(tensor[i]))) return -1;
  for (; i < tensor.size() && std::isdigit(static_cast<unsigned char>(tensor[i])); ++i) n = n * 10 + (tensor[i] - '0');
  return n;
}

bool contains(std::string_view s, std::string_view part) { return s.find(part) != std::string_view::npos; }

GgmlType fit_row(GgmlType type, int64_t row_len) {
  if (row_len % type_info(type)->block_size == 0) return type;
  switch (type) {
    case GgmlType::kQ2_K: case GgmlType::kQ3_K: return GgmlType::kQ4_0;
    case GgmlType::kQ4_K: return GgmlType::kQ5_0;
    case GgmlType::kQ5_K: return GgmlType::kQ5_1;
    default: return GgmlType::kQ8_0;
  }
}

}  // namespace

bool is_quantize_target(GgmlType type) {
  switch (type) {
    case GgmlType::kF16: case GgmlType::kBF16: case GgmlType::kQ4_0: case GgmlType::kQ4_1: case GgmlType::kQ5_0:
    case GgmlType::kQ5_1: case GgmlType::kQ8_0: case GgmlType::kQ2_K: case GgmlType::kQ3_K: case GgmlType::kQ4_K:
    case GgmlType::kQ5_K: case GgmlType::kQ6_K:
      return true;
    default:
      return false;
  }
}

Result<QuantRecipe> parse_quant_recipe(std::string_view name) {
  const std::string n = lower(name);
  QuantRecipe r;
  r.name = std::string(name);
  if (n == "q4_k_m" || n == "q5_k_m") {
    r.base = n == "q4_k_m" ? GgmlType::kQ4_K : GgmlType::kQ5_K;
    r.k_mix = true;
    return r;
  }
  const std::string plain = n == "q4_k_s" ? "q4_k" : n == "q5_k_s" ? "q5_k" : n;
  if (std::optional<GgmlType> t = type_from_name(plain); t && is_quantize_target(*t)) {
    r.base = *t;
    return r;
  }
  return Status::invalid_argument("unknown quantization type \"" + std::string(name) +
                                  "\" (expected q8_0, q6_K, q5_K_M, q5_K, q5_1, q5_0, q4_K_M, q4_K, q4_1, q4_0, "
                                  "q3_K, q2_K, f16 or bf16)");
}

GgmlType recipe_tensor_type(const QuantRecipe& r, std::string_view tensor, int64_t n_layer, int64_t row_len,
                            bool is_output) {
  GgmlType t = r.base;
  const bool low_bits = type_info(t)->quantized && t != GgmlType::kQ8_0 && t != GgmlType::kQ6_K;
  if (is_output && low_bits) {
    t = GgmlType::kQ6_K;
  } else if (r.k_mix && (contains(tensor, "attn_v.weight") || contains(tensor, "ffn_down.weight"))) {
    const int64_t layer = layer_of(tensor);
    if (layer >= 0 && more_bits(layer, n_layer)) t = GgmlType::kQ6_K;
  }
  return fit_row(t, row_len);
}

uint32_t recipe_file_type(const QuantRecipe& r) {
  if (r.k_mix) return r.base == GgmlType::kQ4_K ? 15 : 17;
  switch (r.base) {
    case GgmlType::kF32: return 0;
    case GgmlType::kF16: return 1;
    case GgmlType::kQ4_0: return 2;
    case GgmlType::kQ4_1: return 3;
    case GgmlType::kQ8_0: return 7;
    case GgmlType::kQ5_0: return 8;
    case GgmlType::kQ5_1: return 9;
    case GgmlType::kQ2_K: return 10;
    case GgmlType::kQ3_K: return 11;
    case GgmlType::kQ4_K: return 14;
    case GgmlType::kQ5_K: return 16;
    case GgmlType::kQ6_K: return 18;
    case GgmlType::kBF16: return 32;
    default: return 0;
  }
}

}  // namespace pm
