#include "generate/sampler.h"

#include <algorithm>
#include <cmath>
#include <string>
#include <unordered_map>

namespace pm {

Status SamplerParams::validate() const {
  auto bad = [](const std::string& what) { return Status::invalid_argument(what); };
  if (!std::isfinite(temperature) || temperature < 0) return bad("temperature must be >= 0, got " + std::to_string(temperature));
  if (!(top_p > 0) || top_p > 1) return bad("top_p must be in (0, 1], got " + std::to_string(top_p));
  if (!(min_p >= 0) || min_p > 1) return bad("min_p must be in [0, 1], got " + std::to_string(min_p));
  if (!(repeat_penalty > 0) || !std::isfinite(repeat_penalty)) return bad("repeat_penalty must be > 0");
  if (repeat_last_n < 0) return bad("repeat_last_n must be >= 0");
  if (!std::isfinite(presence_penalty) || !std::isfinite(frequency_penalty)) return bad("penalties must be finite");
  return Status::ok();
}

TokenId Sampler::sample(const float* logits, int32_t n_vocab, const std::vector<TokenId>& history,
                        const uint8_t* allowed) {
  cand_.clear();
  cand_.reserve(size_t(n_vocab));
  for (TokenId i = 0; i < n_vocab; ++i)
    if (allowed == nullptr || allowed[i]) cand_.push_back({i, logits[i]});
  if (cand_.empty()) return 0;  // caller guarantees at least one allowed token

  // Penalties over the recent window.
  const SamplerParams& p = params_;
  if (p.repeat_last_n > 0 && (p.repeat_penalty != 1.0f || p.presence_penalty != 0.0f || p.frequency_penalty != 0.0f)) {
    std::unordered_map<TokenId, int> counts;
    const size_t start = history.size() > size_t(p.repeat_last_n) ? history.size() - size_t(p.repeat_last_n) : 0;
    for (size_t i = start; i < history.size(); ++i) ++counts[history[i]];
    for (Candidate& c : cand_) {
      auto it = counts.find(c.id);
      if (it == counts.end()) continue;
      if (p.repeat_penalty != 1.0f) c.logit = c.logit > 0 ? c.logit / p.repeat_penalty : c.logit * p.repeat_penalty;
      c.logit -= float(it->second) * p.frequency_penalty + p.presence_penalty;
    }
  }

  if (p.temperature <= 0.0f) {
    const Candidate* best = &cand_[0];
    for (const Candidate& c : cand_)
      if (c.logit > best->logit) best = &c;
    return best->id;
  }

  // Sort descending (ties by id for determinism); top-k keeps only what is needed.
  auto desc = [](const Candidate& a, const Candidate& b) { return a.logit > b.logit || (a.logit == b.logit && a.id < b.id); };
  size_t n = cand_.size();
  if (p.top_k > 0 && size_t(p.top_k) < n) {
    std::partial_sort(cand_.begin(), cand_.begin() + p.top_k, cand_.end(), desc);
    n = size_t(p.top_k);
  } else {
    std::sort(cand_.begin(), cand_.end(), desc);
  }

  // Softmax at temperature over the kept candidates.
  std::vector<double> prob(n);
  const double max = cand_[0].logit;
  double sum = 0.0;
  for (size_t i = 0; i < n; ++i) {
    prob[i] = std::exp((double(cand_[i].logit) - max) / p.temperature);
    sum += prob[i];
  }
  for (double& q : prob) q /= sum;

  // min-p: relative to the best token.
  if (p.min_p > 0.0f) {
    const double floor = p.min_p * prob[0];
    size_t keep = 1;
    while (keep < n && prob[keep] >= floor) ++keep;
    n = keep;
  }
  // top-p: smallest prefix whose mass reaches top_p.
  if (p.top_p < 1.0f) {
    double mass = 0.0;
    size_t keep = 0;
    while (keep < n) {
      mass += prob[keep++];
      if (mass >= p.top_p) break;
    }
    n = keep;
  }

  double total = 0.0;
  for (size_t i = 0; i < n; ++i) total += prob[i];
  // Uniform draw from 53 random bits: identical across platforms for the same seed.
  const double u = double(rng_() >> 11) * (1.0 / 9007199254740992.0) * total;
  double acc = 0.0;
  for (size_t i = 0; i < n; ++i) {
    acc += prob[i];
    if (u < acc) return cand_[i].id;
  }
  return cand_[n - 1].id;
}

}  // namespace pm
