// A loaded chat model as the assistant features use it: weights, tokenizer and the model's own
// chat template (rendered through generate/chat_template.h), plus one-shot chat generation.
// The CLI / server load the model and fill this in; the assistant layer never opens files itself.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "core/thread_pool.h"
#include "generate/chat_template.h"
#include "generate/generator.h"
#include "models/model.h"
#include "tokenizer/tokenizer.h"

namespace pm::assistant {

struct ChatModel {
  const Model* model = nullptr;          // weights (not owned)
  const Tokenizer* tokenizer = nullptr;  // not owned
  ChatTemplate chat;                     // from the GGUF's tokenizer.chat_template (or built-in)
  int64_t n_ctx = 0;                     // context to allocate (0: the model's)
  ThreadPool* pool = nullptr;            // evaluation threads (may be null)
};

// Renders `messages` with the model's template (generation prompt added) into token ids.
Result<std::vector<TokenId>> chat_prompt_tokens(const ChatModel& m, const std::vector<ChatMessage>& messages);

// One reply to `messages` from a fresh session; the format's end-of-turn strings are added to
// options.stop. Fails (kOutOfRange) when the prompt does not fit the context.
Result<GenerateResult> chat_once(const ChatModel& m, const std::vector<ChatMessage>& messages, GenerateOptions options,
                                 const TextCallback& on_text = nullptr);

// Builds a JSON-schema grammar engine over the model's vocabulary (constrained decoding).
Result<std::shared_ptr<GrammarEngine>> json_schema_engine(const ChatModel& m, const std::string& schema_json);

}  // namespace pm::assistant
