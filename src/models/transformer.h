// The decoder-only transformer shared by the llama family (llama, mistral, qwen2, qwen3):
//   x = embed(token)
//   per layer:  x += Wo * attention(rope(Wq * rms(x)), rope(Wk * rms(x)), Wv * rms(x))
//               x += Wdown * (silu(Wgate * rms(x)) * (Wup * rms(x)))
//   logits = Wout * rms(x)
// with optional q/k/v biases (qwen2), per-head q/k RMSNorm (qwen3), grouped-query attention,
// and a tied output head when output.weight is absent. Each architecture file supplies a
// DecoderSpec saying which of these it uses.
#pragma once

#include "models/model.h"

namespace pm {

struct DecoderSpec {
  const char* arch;
  bool rope_neox;          // rotate pairs (i, i + n_rot/2) instead of (2i, 2i+1)
  bool requires_qkv_bias;  // qwen2: attn_{q,k,v}.bias must be present
  bool requires_qk_norm;   // qwen3: attn_{q,k}_norm.weight must be present
};

Result<std::unique_ptr<Model>> build_decoder(std::shared_ptr<const GgufFile> gguf,
                                             const DecoderSpec& spec, const ModelOptions& options);

}  // namespace pm
