// What `quantize` and `synth` make of a model's matrices: one type for all of them ("q4_0"),
// or a mix by tensor role and layer as llama.cpp's quantizer makes its "_M" files
// ("q4_K_M", "q5_K_M"): attn_v and ffn_down of the first and last eighth of the layers and of
// every third layer between them one step up, at Q6_K. The output head stays at Q6_K in any
// type below 6 bits, and rows that do not fit a K-quant's 256-element super-block fall back to
// the nearest 32-element type of at least the same precision (Q4_K -> Q5_0, Q5_K -> Q5_1,
// Q6_K -> Q8_0, Q2_K/Q3_K -> Q4_0), as llama.cpp does.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "core/status.h"
#include "kernels/ggml_types.h"

namespace pm {

struct QuantRecipe {
  std::string name;                // as the user spelled it, e.g. "q4_K_M"
  GgmlType base = GgmlType::kQ4_0;  // the type of most matrices
  bool k_mix = false;              // "_M": attn_v / ffn_down of some layers at Q6_K
};

// The plain types `quantize` and `synth` can produce (F16, BF16, Q4_0 .. Q8_0, Q2_K .. Q6_K).
bool is_quantize_target(GgmlType type);

// "q4_0", "Q8_0", "q4_K", "q4_k_m", "q5_K_M", "f16", ...; errors list the accepted names.
Result<QuantRecipe> parse_quant_recipe(std::string_view name);

// The type of one GGUF matrix: its name ("blk.3.attn_v.weight"), the model's layer count, the
// length of its rows, and whether it is the output head (or the embedding tied to it).
GgmlType recipe_tensor_type(const QuantRecipe& r, std::string_view tensor, int64_t n_layer, int64_t row_len,
                            bool is_output);

// general.file_type as llama.cpp numbers it (Q4_K_M = 15, ...), so other tools report it right.
uint32_t recipe_file_type(const QuantRecipe& r);

}  // namespace pm
