#include "generate/generator.h"

#include <algorithm>
#include <chrono>
#include <optional>

namespace pm {

const char* finish_reason_name(FinishReason r) {
  switch (r) {
    case FinishReason::kLength: return "length";
    case FinishReason::kStop: return "stop";
    case FinishReason::kEndOfGeneration: return "eog";
    case FinishReason::kContextFull: return "context";
    case FinishReason::kCancelled: return "cancelled";
  }
  return "unknown";
}

size_t stop_holdback(std::string_view text, const std::vector<std::string>& stop) {
  size_t hold = 0;
  for (const std::string& s : stop) {
    const size_t max_len = std::min(s.size() - (s.empty() ? 0 : 1), text.size());
    for (size_t len = max_len; len > hold; --len) {
      if (text.substr(text.size() - len) == std::string_view(s).substr(0, len)) {
        hold = len;
        break;
      }
    }
  }
  return hold;
}

Generation::Generation(const Tokenizer& tokenizer, const GenerateOptions& options, TextCallback on_text)
    : tokenizer_(tokenizer),
      options_(options),
      on_text_(std::move(on_text)),
      sampler_(options.sampler),
      detok_(tokenizer, options.render_special) {}

Status Generation::init(int32_t n_vocab) {
  PM_RETURN_IF_ERROR(options_.sampler.validate());
  n_vocab_ = n_vocab;
  lazy_ = options_.grammar && !options_.grammar_triggers.empty();
  active_ = options_.grammar != nullptr;
  if (options_.grammar) {
    if (options_.grammar->trie().n_vocab() > n_vocab)
      return Status::invalid_argument("grammar: built for a vocabulary of " + std::to_string(options_.grammar->trie().n_vocab()) +
                                      " tokens but the model has " + std::to_string(n_vocab));
    matcher_.emplace(options_.grammar);
    allowed_.assign(size_t(n_vocab), 0);
    if (!options_.grammar_prefix.empty() && !matcher_->accept_bytes(options_.grammar_prefix))
      return Status::invalid_argument("grammar: the prefix \"" + options_.grammar_prefix + "\" does not start a sentence of it");
    active_ = !lazy_ || !options_.grammar_prefix.empty();
  }
  return Status::ok();
}

Result<Generation::Step> Generation::accept_logits(const float* logits, const std::vector<TokenId>& history) {
  Step out;
  out.finished = true;
  if (finished_) return out;
  if (step_ >= options_.max_tokens) {
    stop(FinishReason::kLength);
    return out;
  }
  const uint8_t* mask = nullptr;
  if (matcher_ && active_) {
    PM_RETURN_IF_ERROR(matcher_->fill_mask(allowed_.data()));
    if (std::find(allowed_.begin(), allowed_.end(), uint8_t(1)) == allowed_.end())
      return Status::invalid_argument("grammar: no token of the vocabulary can continue the grammar here (after \"" +
                                      result_.text + unsent_ + "\")");
    mask = allowed_.data();
  }
  const TokenId tok = sampler_.sample(logits, n_vocab_, history, mask);
  ++step_;
  if (matcher_ && active_) PM_RETURN_IF_ERROR(matcher_->accept_token(tok));
  if ((options_.stop_at_eog || (matcher_ && active_)) && tokenizer_.is_eog(tok)) {
    stop(FinishReason::kEndOfGeneration);
    return out;
  }
  result_.tokens.push_back(tok);
  unsent_ += detok_.push(tok);
  if (lazy_ && !active_) {
    // Look for a trigger in the text not yet scanned (a trigger may span tokens).
    const std::string all = result_.text + unsent_;
    size_t at = std::string::npos, len = 0;
    for (const std::string& t : options_.grammar_triggers) {
      const size_t p = t.empty() ? std::string::npos : all.find(t, scan_from_);
      if (p < at) { at = p; len = t.size(); }
    }
    if (at != std::string::npos) {
      matcher_->reset();
      // The trigger and whatever followed it in the same token are the grammar's first bytes;
      // text the grammar rejects was not a call after all: stay free.
      active_ = matcher_->accept_bytes(std::string_view(all).substr(at));
      scan_from_ = active_ ? all.size() : at + len;
    } else {
      size_t keep = 0;
      for (const std::string& t : options_.grammar_triggers) keep = std::max(keep, t.size());
      scan_from_ = all.size() > keep ? all.size() - keep : 0;
    }
  }

  // A completed stop string ends generation; the text before it is the answer.
  size_t stop_at = std::string::npos;
  for (const std::string& s : options_.stop) {
    const size_t at = s.empty() ? std::string::npos : unsent_.find(s);
    if (at < stop_at) stop_at = at;
  }
  if (stop_at != std::string::npos) {
    unsent_.resize(stop_at);
    result_.text += unsent_;
    const bool go_on = emit(unsent_);
    unsent_.clear();
    stop(go_on ? FinishReason::kStop : FinishReason::kCancelled);
    return out;
  }
  const size_t hold = stop_holdback(unsent_, options_.stop);
  if (unsent_.size() > hold) {
    const std::string piece = unsent_.substr(0, unsent_.size() - hold);
    unsent_.erase(0, unsent_.size() - hold);
    result_.text += piece;
    if (!emit(piece)) {
      stop(FinishReason::kCancelled);
      return out;
    }
  }
  if (matcher_ && active_ && matcher_->is_complete()) {
    if (!lazy_) {
      stop(FinishReason::kEndOfGeneration);
      return out;
    }
    active_ = false;  // the call is complete: free text again (another call may follow)
    scan_from_ = result_.text.size() + unsent_.size();
  }
  out.finished = false;
  out.token = tok;
  return out;
}

void Generation::finish_text() {
  if (result_.finish != FinishReason::kStop && result_.finish != FinishReason::kCancelled) {
    unsent_ += detok_.flush();
    result_.text += unsent_;
    if (!unsent_.empty()) emit(unsent_);
    unsent_.clear();
  }
}

Result<GenerateResult> generate(Session& session, const Tokenizer& tokenizer, const std::vector<TokenId>& prompt,
                                const GenerateOptions& options, const TextCallback& on_text) {
  using Clock = std::chrono::steady_clock;
  auto ms_since = [](Clock::time_point t) { return std::chrono::duration<double, std::milli>(Clock::now() - t).count(); };
  PM_RETURN_IF_ERROR(options.sampler.validate());
  if (prompt.empty()) return Status::invalid_argument("the prompt has no tokens");
  if (session.n_past() + int64_t(prompt.size()) > session.n_ctx())
    return Status::out_of_range("the prompt has " + std::to_string(prompt.size()) + " tokens but the context holds " +
                                std::to_string(session.n_ctx() - session.n_past()) + " more (context size " +
                                std::to_string(session.n_ctx()) + ")");

  const auto start = Clock::now();
  PM_RETURN_IF_ERROR(session.eval(prompt));
  const double prompt_ms = ms_since(start);

  Generation gen(tokenizer, options, on_text);
  const auto gen_start = Clock::now();
  PM_RETURN_IF_ERROR(gen.init(int32_t(session.model().info().n_vocab)));
  double ttft_ms = 0;
  for (;;) {
    PM_ASSIGN_OR_RETURN(Generation::Step step, gen.accept_logits(session.logits(), session.tokens()));
    if (gen.n_generated() == 1 && ttft_ms == 0) ttft_ms = ms_since(start);
    if (step.finished) break;
    if (session.n_past() >= session.n_ctx()) {
      gen.stop(FinishReason::kContextFull);
      break;
    }
    PM_RETURN_IF_ERROR(session.eval(&step.token, 1));
  }
  gen.finish_text();
  GenerateResult result = std::move(gen.result());
  result.n_prompt_tokens = int64_t(prompt.size());
  result.prompt_ms = prompt_ms;
  result.ttft_ms = ttft_ms;
  result.generate_ms = ms_since(gen_start);
  return result;
}

}  // namespace pm
