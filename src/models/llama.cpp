// llama: Llama 2 / 3.x, Mistral and other models stored with general.architecture = "llama".
// RoPE rotates adjacent pairs; biases and q/k norms are absent (loaded if a variant has them);
// Llama 3 long-context frequency factors come from rope_freqs.weight when present.
#include "models/registry.h"
#include "models/transformer.h"

namespace pm {

Result<std::unique_ptr<Model>> build_llama(std::shared_ptr<const GgufFile> gguf, const ModelOptions& options) {
  static constexpr DecoderSpec kSpec{"llama", /*rope_neox=*/false, /*requires_qkv_bias=*/false,
                                     /*requires_qk_norm=*/false};
  return build_decoder(std::move(gguf), kSpec, options);
}

}  // namespace pm
