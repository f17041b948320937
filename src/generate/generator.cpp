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

  GenerateResult result;
  result.n_prompt_tokens = int64_t(prompt.size());
  const auto start = Clock::now();
  PM_RETURN_IF_ERROR(session.eval(prompt));
  result.prompt_ms = ms_since(start);

  Sampler sampler(options.sampler);
  StreamingDetokenizer detok(tokenizer, options.render_special);
  const int32_t n_vocab = int32_t(session.model().info().n_vocab);
  std::string unsent;  // decoded text not yet passed to on_text (possible stop-string prefix)
  auto emit = [&](std::string_view s) { return !on_text || on_text(s); };

  const auto gen_start = Clock::now();
  std::optional<GrammarMatcher> matcher;
  std::vector<uint8_t> allowed;
  const bool lazy = options.grammar && !options.grammar_triggers.empty();
  bool active = options.grammar != nullptr;  // the grammar constrains the next token
  size_t scan_from = 0;                      // lazy: where in the output to look for the next trigger
  if (options.grammar) {
    if (options.grammar->trie().n_vocab() > n_vocab)
      return Status::invalid_argument("grammar: built for a vocabulary of " + std::to_string(options.grammar->trie().n_vocab()) +
                                      " tokens but the model has " + std::to_string(n_vocab));
    matcher.emplace(options.grammar);
    allowed.assign(size_t(n_vocab), 0);
    if (!options.grammar_prefix.empty() && !matcher->accept_bytes(options.grammar_prefix))
      return Status::invalid_argument("grammar: the prefix \"" + options.grammar_prefix + "\" does not start a sentence of it");
    active = !lazy || !options.grammar_prefix.empty();
  }
  for (int32_t step = 0;; ++step) {
    if (step >= options.max_tokens) { result.finish = FinishReason::kLength; break; }
    const uint8_t* mask = nullptr;
    if (matcher && active) {
      PM_RETURN_IF_ERROR(matcher->fill_mask(allowed.data()));
      if (std::find(allowed.begin(), allowed.end(), uint8_t(1)) == allowed.end())
        return Status::invalid_argument("grammar: no token of the vocabulary can continue the grammar here (after \"" +
                                        result.text + unsent + "\")");
      mask = allowed.data();
    }
    const TokenId tok = sampler.sample(session.logits(), n_vocab, session.tokens(), mask);
    if (step == 0) result.ttft_ms = ms_since(start);
    if (matcher && active) PM_RETURN_IF_ERROR(matcher->accept_token(tok));
    if ((options.stop_at_eog || (matcher && active)) && tokenizer.is_eog(tok)) {
      result.finish = FinishReason::kEndOfGeneration;
      break;
    }
    result.tokens.push_back(tok);
    unsent += detok.push(tok);
    if (lazy && !active) {
      // Look for a trigger in the text not yet scanned (a trigger may span tokens).
      const std::string all = result.text + unsent;
      size_t at = std::string::npos, len = 0;
      for (const std::string& t : options.grammar_triggers) {
        const size_t p = t.empty() ? std::string::npos : all.find(t, scan_from);
        if (p < at) { at = p; len = t.size(); }
      }
      if (at != std::string::npos) {
        matcher->reset();
        // The trigger and whatever followed it in the same token are the grammar's first bytes;
        // text the grammar rejects was not a call after all: stay free.
        active = matcher->accept_bytes(std::string_view(all).substr(at));
        scan_from = active ? all.size() : at + len;
      } else {
        size_t keep = 0;
        for (const std::string& t : options.grammar_triggers) keep = std::max(keep, t.size());
        scan_from = all.size() > keep ? all.size() - keep : 0;
      }
    }

    // A completed stop string ends generation; the text before it is the answer.
    size_t stop_at = std::string::npos;
    for (const std::string& s : options.stop) {
      const size_t at = s.empty() ? std::string::npos : unsent.find(s);
      if (at < stop_at) stop_at = at;
    }
    if (stop_at != std::string::npos) {
      unsent.resize(stop_at);
      result.text += unsent;
      if (!emit(unsent)) { result.finish = FinishReason::kCancelled; break; }
      unsent.clear();
      result.finish = FinishReason::kStop;
      break;
    }
    const size_t hold = stop_holdback(unsent, options.stop);
    if (unsent.size() > hold) {
      const std::string out = unsent.substr(0, unsent.size() - hold);
      unsent.erase(0, unsent.size() - hold);
      result.text += out;
      if (!emit(out)) { result.finish = FinishReason::kCancelled; break; }
    }
    if (matcher && active && matcher->is_complete()) {
      if (!lazy) { result.finish = FinishReason::kEndOfGeneration; break; }
      active = false;  // the call is complete: free text again (another call may follow)
      scan_from = result.text.size() + unsent.size();
    }
    if (session.n_past() >= session.n_ctx()) { result.finish = FinishReason::kContextFull; break; }
    PM_RETURN_IF_ERROR(session.eval(&tok, 1));
  }
  if (result.finish != FinishReason::kStop && result.finish != FinishReason::kCancelled) {
    unsent += detok.flush();
    result.text += unsent;
    if (!unsent.empty()) emit(unsent);
  }
  result.generate_ms = ms_since(gen_start);
  return result;
}

}  // namespace pm
