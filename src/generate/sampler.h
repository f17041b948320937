// Token sampling: penalties, then temperature with top-k / top-p / min-p filtering, then a
// draw from a seeded generator (same seed, same logits -> same token). Temperature <= 0 is
// greedy (argmax, lowest id on ties).
#pragma once

#include <cstdint>
#include <random>
#include <vector>

#include "core/status.h"

namespace pm {

using TokenId = int32_t;

struct SamplerParams {
  float temperature = 0.8f;
  int32_t top_k = 40;          // <= 0: off
  float top_p = 0.95f;         // >= 1: off
  float min_p = 0.05f;         // <= 0: off; drop tokens below min_p * p(best)
  float repeat_penalty = 1.0f; // 1: off; divides positive logits / multiplies negative ones
  int32_t repeat_last_n = 64;  // penalty window over the most recent tokens
  float presence_penalty = 0.0f;   // subtracted once from each token seen in the window
  float frequency_penalty = 0.0f;  // subtracted per occurrence in the window
  uint64_t seed = 0;

  // Names the first invalid field.
  Status validate() const;
};

class Sampler {
 public:
  explicit Sampler(const SamplerParams& params) : params_(params), rng_(params.seed) {}

  // Picks the next token from n_vocab logits; `history` is every token of the sequence so far
  // (prompt + generated) for the penalties. `allowed`, when non-null, masks tokens out (0 =
  // forbidden), e.g. by a grammar; at least one token must be allowed.
  TokenId sample(const float* logits, int32_t n_vocab, const std::vector<TokenId>& history,
                 const uint8_t* allowed = nullptr);

  const SamplerParams& params() const { return params_; }

 private:
  struct Candidate {
    TokenId id;
    float logit;
  };
  SamplerParams params_;
  std::mt19937_64 rng_;
  std::vector<Candidate> cand_;
};

}  // namespace pm
