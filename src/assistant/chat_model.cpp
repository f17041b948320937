#include "assistant/chat_model.h"

#include "generate/grammar/grammar.h"
#include "generate/grammar/json_schema.h"
#include "runtime/session.h"

namespace pm::assistant {

Result<std::vector<TokenId>> chat_prompt_tokens(const ChatModel& m, const std::vector<ChatMessage>& messages) {
  if (!m.model || !m.tokenizer) return Status::invalid_argument("no model loaded");
  ChatRequest request;
  request.messages = messages;
  request.add_generation_prompt = true;
  const RenderedChat text = render_conversation(m.chat, request);
  return m.tokenizer->encode(text.text, /*add_special=*/true, /*parse_special=*/true);
}

Result<GenerateResult> chat_once(const ChatModel& m, const std::vector<ChatMessage>& messages, GenerateOptions options,
                                 const TextCallback& on_text) {
  Result<std::vector<TokenId>> prompt = chat_prompt_tokens(m, messages);
  if (!prompt.is_ok()) return prompt.status();
  Result<std::unique_ptr<Session>> session = Session::create(*m.model, m.n_ctx, m.pool);
  if (!session.is_ok()) return session.status();
  if (int64_t(prompt->size()) >= (*session)->n_ctx())
    return Status::out_of_range("the prompt (" + std::to_string(prompt->size()) +
                                " tokens) does not fit the context of " + std::to_string((*session)->n_ctx()) +
                                " tokens (raise -c)");
  for (const std::string& s : chat_stop_strings(m.chat.format)) options.stop.push_back(s);
  return generate(**session, *m.tokenizer, *prompt, options, on_text);
}

Result<std::shared_ptr<GrammarEngine>> json_schema_engine(const ChatModel& m, const std::string& schema_json) {
  if (!m.tokenizer) return Status::invalid_argument("no model loaded");
  Result<std::string> gbnf = json_schema_to_gbnf(schema_json);
  if (!gbnf.is_ok()) return gbnf.status().with_context("output schema");
  Result<std::shared_ptr<const Grammar>> grammar = parse_grammar(*gbnf);
  if (!grammar.is_ok()) return grammar.status().with_context("output schema");
  return std::make_shared<GrammarEngine>(*grammar, TokenTrie::build(*m.tokenizer));
}

}  // namespace pm::assistant
