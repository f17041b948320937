// A session: one sequence being evaluated by a model, with its state (KV cache or recurrent
// state) and the tokens fed so far. Many sessions may share one Model (weights are read-only).
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "models/model.h"

namespace pm {

class Session {
 public:
  // Batches of at least this many tokens give their freed work memory back to the OS.
  static constexpr int64_t kTrimAfterTokens = 32;

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
  // Keeps the first n tokens and forgets the rest (see ModelState::truncate): false, and the
  // session unchanged, when the model's state cannot go back (recurrent models).
  bool truncate(int64_t n);

  // Feeds tokens[i] to sessions[i] for every i (sessions over the same model, distinct), so that
  // several conversations advance by one token each; afterwards each session's logits() holds its
  // new token's logits. Transformers run all of them in one forward pass (Model::eval_batch).
  // Everything is checked first: on a failure no session has advanced.
  static Status eval_step(const std::vector<Session*>& sessions, const std::vector<TokenId>& tokens);

  // A new session continuing from this one's state (branch a conversation); both then evolve
  // independently. Shares the model and thread pool.
  Result<std::unique_ptr<Session>> fork() const;

  // Saves the state (and the tokens fed so far) to a file, and loads it back into this session,
  // so a conversation resumes without recomputation. The file is versioned, checksummed and
  // carries the model's identity: a state made by a different model is refused.
  Status save_state(const std::string& path) const;
  Status load_state(const std::string& path);
  // The same, in memory.
  Result<std::vector<uint8_t>> state_bytes() const;
  Status restore_state(const uint8_t* data, size_t size_bytes, const std::string& name = "state");

 private:
  Session(const Model& model, std::unique_ptr<ModelState> state) : model_(model), state_(std::move(state)) {}
  const Model& model_;
  std::unique_ptr<ModelState> state_;
  std::vector<TokenId> tokens_;
  std::vector<float> logits_;
};

}  // namespace pm
