// Synthetic models: random weights in the exact shapes of real models, for measuring speed and
// memory without downloading weights. The arithmetic per token is that of the real model; the
// text is meaningless.
#pragma once

#include <functional>
#include <string>
#include <vector>

#include "core/status.h"
#include "formats/quant_recipe.h"
#include "kernels/ggml_types.h"

namespace pm {

struct SynthShape {
  const char* name;        // "qwen2.5-0.5b"
  const char* arch;        // general.architecture
  int64_t n_vocab, n_embd, n_layer, n_head, n_head_kv, head_dim, n_ff, n_ctx_train;
  double rope_base;
  bool qkv_bias;           // qwen2
  bool qk_norm;            // qwen3
  bool tied_output;        // no output.weight
  bool llama3_rope;        // rope_freqs.weight (Llama 3.x long-context factors)
};

const std::vector<SynthShape>& synth_shapes();
const SynthShape* find_synth_shape(const std::string& name);

// RWKV-7 shapes (written in rwkv.cpp's .bin format, which rwkv.cpp itself can run too).
struct SynthRwkvShape {
  const char* name;  // "rwkv7-1.5b"
  int64_t n_vocab, n_embd, n_layer, head_size;
  int64_t d_decay, d_aaa, d_mv, d_gate;  // LoRA ranks of w, a, v and g
};
const std::vector<SynthRwkvShape>& synth_rwkv_shapes();
const SynthRwkvShape* find_synth_rwkv_shape(const std::string& name);

// Called with (tensors written, tensors total).
using SynthProgress = std::function<void(int64_t, int64_t)>;

// Writes a GGUF model of `shape` with weight matrices of `type` (norms stay F32; the output
// head / tied embedding uses `type` too). Values are seeded random normals, quantized once
// into a pool of blocks that is tiled over each tensor, so writing a 1.5B model takes seconds.
Status write_synth_model(const SynthShape& shape, GgmlType type, const std::string& path, uint64_t seed = 1,
                         const SynthProgress& progress = nullptr);
// The same with the matrix types a quantization recipe gives (e.g. "q4_K_M", as llama.cpp mixes them).
Status write_synth_model(const SynthShape& shape, const QuantRecipe& recipe, const std::string& path, uint64_t seed = 1,
                         const SynthProgress& progress = nullptr);

// Writes an rwkv.cpp .bin RWKV-7 model: the six projection matrices per layer in `type`,
// embeddings, head and LoRA matrices in FP16, vectors in FP32 (rwkv.cpp's own quantized layout).
Status write_synth_rwkv7(const SynthRwkvShape& shape, GgmlType type, const std::string& path, uint64_t seed = 1,
                         const SynthProgress& progress = nullptr);

}  // namespace pm
