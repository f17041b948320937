#include "runtime/session.h"

namespace pm {

Result<std::unique_ptr<Session>> Session::create(const Model& model, int64_t n_ctx, ThreadPool* pool) {
  PM_ASSIGN_OR_RETURN(std::unique_ptr<ModelState> state, model.new_state(n_ctx));
  state->set_thread_pool(pool);
  return std::unique_ptr<Session>(new Session(model, std::move(state)));
}

Status Session::eval(const std::vector<TokenId>& tokens, bool all_logits) {
  return eval(tokens.data(), int64_t(tokens.size()), all_logits);
}

Status Session::eval(const TokenId* tokens, int64_t n, bool all_logits) {
  const int64_t n_vocab = model_.info().n_vocab;
  logits_.resize(size_t((all_logits ? n : 1) * n_vocab));
  PM_RETURN_IF_ERROR(model_.eval(*state_, tokens, n, logits_.data(), all_logits));
  tokens_.insert(tokens_.end(), tokens, tokens + n);
  return Status::ok();
}

void Session::reset() {
  state_->reset();
  tokens_.clear();
  logits_.clear();
}

}  // namespace pm
