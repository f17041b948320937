#include "runtime/memory_budget.h"

#include <algorithm>
#include <cmath>
#include <cstdlib>

namespace pm {
namespace {

constexpr int64_t kDefaultCtxCap = 4096;
constexpr int64_t kMinCtx = 256;

std::string mib(uint64_t b) { return std::to_string((b + (1 << 20) - 1) >> 20) + " MiB"; }

}  // namespace

Result<MemoryPlan> plan_memory(const ModelInfo& info, int64_t requested_ctx, uint64_t budget_bytes, int64_t n_batch) {
  if (requested_ctx < 0) return Status::invalid_argument("context size must be >= 0");
  MemoryPlan plan;
  plan.weights_bytes = info.weights_bytes;
  // Activations of one batch (residual, normed copy, q/k/v, attention out, two FFN branches) plus
  // the logits row and the attention scratch; generous enough to stay an upper bound.
  const uint64_t per_token = uint64_t(4 * (6 * info.n_embd + 3 * info.n_ff + 3 * info.n_head * std::max<int64_t>(info.head_dim, 1)));
  plan.scratch_bytes = uint64_t(n_batch) * per_token + uint64_t(info.n_vocab) * 4 * 2 + (16u << 20);
  const int64_t cap = info.n_ctx_train > 0 ? std::min(info.n_ctx_train, kDefaultCtxCap) : kDefaultCtxCap;

  if (info.recurrent) {
    plan.n_ctx = requested_ctx > 0 ? requested_ctx : cap;
    plan.state_bytes = info.recurrent_state_bytes;
    if (budget_bytes > 0 && plan.total_bytes() > budget_bytes)
      return Status::resource_exhausted("the model needs " + mib(plan.total_bytes()) + " (weights " + mib(plan.weights_bytes) +
                                        ", state " + mib(plan.state_bytes) + ") but the budget is " + mib(budget_bytes));
    return plan;
  }
  const uint64_t per_ctx_token = std::max<uint64_t>(info.kv_bytes_per_token, 1);
  if (budget_bytes == 0) {
    plan.n_ctx = requested_ctx > 0 ? requested_ctx : cap;
    plan.state_bytes = per_ctx_token * uint64_t(plan.n_ctx);
    return plan;
  }
  const uint64_t fixed = plan.weights_bytes + plan.scratch_bytes;
  const int64_t fits = fixed >= budget_bytes ? 0 : int64_t((budget_bytes - fixed) / per_ctx_token);
  if (requested_ctx > 0) {
    if (requested_ctx > fits)
      return Status::resource_exhausted("a context of " + std::to_string(requested_ctx) + " tokens needs " +
                                        mib(fixed + per_ctx_token * uint64_t(requested_ctx)) + " (weights " +
                                        mib(plan.weights_bytes) + ", KV cache " + mib(per_ctx_token * uint64_t(requested_ctx)) +
                                        ") but the budget is " + mib(budget_bytes) + "; at most " +
                                        std::to_string(std::max<int64_t>(fits, 0)) + " tokens fit");
    plan.n_ctx = requested_ctx;
  } else {
    if (fits < kMinCtx)
      return Status::resource_exhausted("the model needs at least " + mib(fixed + per_ctx_token * kMinCtx) + " (weights " +
                                        mib(plan.weights_bytes) + " + a " + std::to_string(kMinCtx) +
                                        "-token KV cache) but the budget is " + mib(budget_bytes));
    plan.n_ctx = std::min(cap, fits);
  }
  plan.state_bytes = per_ctx_token * uint64_t(plan.n_ctx);
  return plan;
}

Result<uint64_t> parse_byte_size(const std::string& text) {
  char* end = nullptr;
  const double v = std::strtod(text.c_str(), &end);
  if (end == text.c_str() || !(v >= 0) || !std::isfinite(v)) return Status::invalid_argument("\"" + text + "\" is not a size");
  std::string unit(end);
  for (char& c : unit) c = char(std::tolower(static_cast<unsigned char>(c)));
  double mult = 1;
  if (unit == "" || unit == "b") mult = 1;
  else if (unit == "k" || unit == "kb" || unit == "kib") mult = 1024.0;
  else if (unit == "m" || unit == "mb" || unit == "mib") mult = 1024.0 * 1024;
  else if (unit == "g" || unit == "gb" || unit == "gib") mult = 1024.0 * 1024 * 1024;
  else return Status::invalid_argument("\"" + text + "\": unknown unit \"" + unit + "\" (use K, M or G)");
  if (v * mult > 1.8e19) return Status::invalid_argument("\"" + text + "\" is too large");
  return uint64_t(v * mult);
}

}  // namespace pm
