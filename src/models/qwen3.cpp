// qwen3: Qwen3 dense models. No q/k/v biases; instead an RMSNorm over each head of q and k
// (attn_q_norm / attn_k_norm, [head_dim]) before RoPE (neox order). head_dim comes from
// attention.key_length and need not equal n_embd / n_head.
#include "models/registry.h"
#include "models/transformer.h"

namespace pm {

Result<std::unique_ptr<Model>> build_qwen3(std::shared_ptr<const GgufFile> gguf, const ModelOptions& options) {
  static constexpr DecoderSpec kSpec{"qwen3", /*rope_neox=*/true, /*requires_qkv_bias=*/false,
                                     /*requires_qk_norm=*/true};
  return build_decoder(std::move(gguf), kSpec, options);
}

}  // namespace pm
