// qwen2: Qwen2 / Qwen2.5. Like llama, plus biases on q, k and v; RoPE in neox order
// (rotating dims i and i + n_rot/2), base 1e6 in the released models.
#include "models/registry.h"
#include "models/transformer.h"

namespace pm {

Result<std::unique_ptr<Model>> build_qwen2(std::shared_ptr<const GgufFile> gguf, const ModelOptions& options) {
  static constexpr DecoderSpec kSpec{"qwen2", /*rope_neox=*/true, /*requires_qkv_bias=*/true,
                                     /*requires_qk_norm=*/false};
  return build_decoder(std::move(gguf), kSpec, options);
}

}  // namespace pm
