// A session: one sequence being evaluated by a model, with its state (KV cache or recurrent
// state) and the tokens fed so far. Many sessions may share one Model (weights are read-only).
#pragma once

#include <memory>
#include <vector>

#include "models/model.h"

namespace pm {

class Session {
 public:
  // pool: threads that evaluate this session (shared with others is fine; null: caller only).
  static Result<std::unique_ptr<Session>> create(const Model& model, int64_t n_ctx = 0, ThreadPool* pool = nullptr);

  const Model& model() const { return model_; }
  int64_t n_past() const { return state_->n_past(); }
  int64_t n_ctx() const { return state_->n_ctx(); }
  const std::vector<TokenId>& tokens() const { return tokens_; }

  // Feeds tokens in one batch. Afterwards logits() holds the last token's logits, or with
  // all_logits the logits of every fed token (n x n_vocab).
  Status eval(const std::vector<TokenId>& tokens, bool all_logits = false);
  Status eval(const TokenId* tokens, int64_t n, bool all_logits = false);
  // Logits of the last evaluated token.
  const float* logits() const { return logits_.data() + (logits_.size() - size_t(model_.info().n_vocab)); }
  const std::vector<float>& all_logits() const { return logits_; }
  void reset();

 private:
  Session(const Model& model, std::unique_ptr<ModelState> state) : model_(model), state_(std::move(state)) {}
  const Model& model_;
  std::unique_ptr<ModelState> state_;
  std::vector<TokenId> tokens_;
  std::vector<float> logits_;
};

}  // namespace pm
