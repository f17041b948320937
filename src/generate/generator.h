// The generation loop: prompt in one batch, then one token at a time until a stop string,
// an end-of-generation token, the token limit or the end of the context. Text is streamed
// through a callback in whole UTF-8 characters, with any text that might be the start of a
// stop string held back until it is known not to be.
#pragma once

#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "generate/grammar/matcher.h"
#include "generate/sampler.h"
#include "runtime/session.h"
#include "tokenizer/tokenizer.h"

namespace pm {

struct GenerateOptions {
  int32_t max_tokens = 256;
  SamplerParams sampler;
  std::vector<std::string> stop;  // generation ends before the first occurrence of any of them
  bool stop_at_eog = true;        // end at EOS / end-of-turn tokens
  // Constrained decoding: tokens the grammar does not allow get no probability (the mask is
  // applied before penalties, temperature, top-k/top-p); end-of-generation tokens are allowed
  // only where the grammar may end, and generation ends (finish "eog") once it is complete.
  // The engine must be built over this tokenizer's vocabulary (TokenTrie::build(tokenizer)).
  std::shared_ptr<GrammarEngine> grammar;
  // Lazy grammar (tool calls): with triggers, text is free until the output contains one of them;
  // the grammar then constrains the text from the trigger on (the trigger's own bytes are fed to
  // it first, so its start rule spells the trigger) until the grammar completes, after which text
  // is free again; any number of times per generation.
  std::vector<std::string> grammar_triggers;
  // Text at the end of the prompt that the grammar has already matched (a forced tool call whose
  // opener was put in the prompt): the grammar starts active, fed these bytes.
  std::string grammar_prefix;
  // Control tokens as text (Mistral's [TOOL_CALLS] is one); off for plain chat.
  bool render_special = false;
};

enum class FinishReason { kLength, kStop, kEndOfGeneration, kContextFull, kCancelled };
const char* finish_reason_name(FinishReason r);  // "length", "stop", "eog", "context", "cancelled"

struct GenerateResult {
  std::string text;               // generated text, stop string excluded
  std::vector<TokenId> tokens;    // generated tokens
  FinishReason finish = FinishReason::kLength;
  int64_t n_prompt_tokens = 0;
  double prompt_ms = 0;           // prompt evaluation (time to first token minus sampling)
  double generate_ms = 0;         // all single-token steps
  double ttft_ms = 0;             // from start to the first sampled token
};

// Called with each piece of new text; return false to cancel.
using TextCallback = std::function<bool(std::string_view)>;

// The generation loop in steps, for callers that own the forward passes (the server's scheduler
// evaluates many sessions in one batch and then lets each one's Generation sample):
//   Generation g(tokenizer, options, on_text); check g.init(n_vocab) ...
//   evaluate the prompt; loop { step = g.accept_logits(logits, history); if finished break;
//   (context full? g.finish(kContextFull), break); evaluate step.token } ; g.finish_text()
// generate() below is exactly this over one Session.
class Generation {
 public:
  struct Step {
    bool finished = false;  // true: no token to feed (result().finish says why)
    TokenId token = -1;     // the sampled token to evaluate next (when !finished)
  };
  Generation(const Tokenizer& tokenizer, const GenerateOptions& options, TextCallback on_text = nullptr);
  // Validates the options against the model's vocabulary size; call once before accept_logits.
  Status init(int32_t n_vocab);
  // Samples from the logits of the last evaluated token (history: every token the session holds,
  // for repetition penalties) and streams the text this token completes.
  Result<Step> accept_logits(const float* logits, const std::vector<TokenId>& history);
  // Ends the generation for a reason found outside (context full, cancelled by the caller).
  void stop(FinishReason reason) { result_.finish = reason; finished_ = true; }
  // Flushes held-back text (unless it ended on a stop string or was cancelled); call once at the end.
  void finish_text();
  bool finished() const { return finished_; }
  GenerateResult& result() { return result_; }
  int32_t n_generated() const { return step_; }

 private:
  bool emit(std::string_view s) { return !on_text_ || on_text_(s); }
  const Tokenizer& tokenizer_;
  GenerateOptions options_;
  TextCallback on_text_;
  Sampler sampler_;
  StreamingDetokenizer detok_;
  GenerateResult result_;
  int32_t n_vocab_ = 0;
  int32_t step_ = 0;
  bool finished_ = false;
  std::string unsent_;  // decoded text not yet passed to on_text (possible stop-string prefix)
  std::optional<GrammarMatcher> matcher_;
  std::vector<uint8_t> allowed_;
  bool lazy_ = false;
  bool active_ = false;    // the grammar constrains the next token
  size_t scan_from_ = 0;   // lazy: where in the output to look for the next trigger
};

// Evaluates `prompt` (appended to what the session already holds) and generates.
Result<GenerateResult> generate(Session& session, const Tokenizer& tokenizer, const std::vector<TokenId>& prompt,
                                const GenerateOptions& options, const TextCallback& on_text = nullptr);

// Length of the longest suffix of `text` that is a proper prefix of some stop string
// (that much text must be held back).
size_t stop_holdback(std::string_view text, const std::vector<std::string>& stop);

}  // namespace pm
