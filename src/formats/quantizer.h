// The quantizer: rewrites a model file with its large weight matrices in a quantized type.
//
// rwkv.cpp .bin files: every 2-D `blocks.*.weight` matrix (the projections) is quantized, as
// rwkv.cpp does; embeddings, the head, norms, LoRA and mixing vectors keep their type.
// GGUF files: every 2-D `*.weight` except norms is quantized to the type the recipe gives it
// (formats/quant_recipe.h); metadata and the rest are copied unchanged.
#pragma once

#include <cstdint>
#include <functional>
#include <string>

#include "core/status.h"
#include "formats/quant_recipe.h"
#include "kernels/ggml_types.h"

namespace pm {

struct QuantizeReport {
  int64_t tensors_quantized = 0;
  int64_t tensors_kept = 0;
  uint64_t input_bytes = 0;
  uint64_t output_bytes = 0;
};

// Called after each tensor: (tensors done, tensors total, name).
using QuantizeProgress = std::function<void(int64_t, int64_t, const std::string&)>;

// Detects the input format by its magic and writes the same format: every matrix in `type`, or
// (GGUF) as the recipe mixes types (formats/quant_recipe.h); rwkv.cpp files take plain types.
Result<QuantizeReport> quantize_model_file(const std::string& in_path, const std::string& out_path, GgmlType type,
                                           const QuantizeProgress& progress = nullptr);
Result<QuantizeReport> quantize_model_file(const std::string& in_path, const std::string& out_path,
                                           const QuantRecipe& recipe, const QuantizeProgress& progress = nullptr);

}  // namespace pm
