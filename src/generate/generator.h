// The generation loop: prompt in one batch, then one token at a time until a stop string,
// an end-of-generation token, the token limit or the end of the context. Text is streamed
// through a callback in whole UTF-8 characters, with any text that might be the start of a
// stop string held back until it is known not to be.
#pragma once

#include <functional>
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

// Evaluates `prompt` (appended to what the session already holds) and generates.
Result<GenerateResult> generate(Session& session, const Tokenizer& tokenizer, const std::vector<TokenId>& prompt,
                                const GenerateOptions& options, const TextCallback& on_text = nullptr);

// Length of the longest suffix of `text` that is a proper prefix of some stop string
// (that much text must be held back).
size_t stop_holdback(std::string_view text, const std::vector<std::string>& stop);

}  // namespace pm
