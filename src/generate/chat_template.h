// Chat prompt formats. The model's own template (tokenizer.chat_template, Jinja) is rendered by
// the Jinja-subset interpreter (jinja/jinja.h), exactly as the model saw conversations in
// training, tools and tool calls included. Built-in formatters per family remain for models
// without a template and for templates that fail to parse or render; a model with no template
// and no known family gets a plain "User: / Assistant:" transcript (also RWKV's native format).
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "core/status.h"

namespace pm {

namespace jinja {
class Template;
}

// One call an assistant message makes (OpenAI shape: {"id", "type": "function",
// "function": {"name", "arguments"}}); arguments are a JSON object.
struct ToolCall {
  std::string id;
  std::string name;
  nlohmann::ordered_json arguments = nlohmann::ordered_json::object();
};

struct ChatMessage {
  ChatMessage() = default;
  ChatMessage(std::string r, std::string c) : role(std::move(r)), content(std::move(c)) {}

  std::string role;  // "system", "user", "assistant", "tool"
  std::string content;
  std::vector<ToolCall> tool_calls;  // assistant: the calls it made
  std::string tool_call_id;          // tool: the call this is the result of
  std::string name;                  // tool: the tool's name
};

// OpenAI-shape messages <-> ChatMessage. Accepts content as a string, null or a list of
// {"type": "text", "text": ...} parts; arguments as an object or a JSON string.
Result<std::vector<ChatMessage>> chat_messages_from_json(const nlohmann::ordered_json& messages);
nlohmann::ordered_json chat_messages_to_json(const std::vector<ChatMessage>& messages);

enum class ChatFormat { kChatML, kLlama3, kMistral, kGemma, kPhi3, kPlain };

const char* chat_format_name(ChatFormat f);
// Picks the format from the model's template text (may be empty) and architecture.
ChatFormat detect_chat_format(std::string_view template_text, std::string_view arch);

struct ChatTemplate {
  ChatFormat format = ChatFormat::kPlain;
  std::string default_system;  // inserted when the conversation has no system message (built-in formats)
  // The model's own template, parsed (null when there is none or it does not parse).
  std::shared_ptr<const jinja::Template> compiled;
  std::string parse_error;  // why `compiled` is null although the model has a template
  std::string bos_token;    // the template's bos_token / eos_token variables (set by the caller
  std::string eos_token;    // from the tokenizer; some templates print them)
};
ChatTemplate chat_template_for(std::string_view template_text, std::string_view arch);

// Renders the conversation with the built-in formatter of t.format; with add_generation_prompt
// the text ends where the assistant's reply begins. BOS is not included (the tokenizer adds it as
// the model's metadata asks).
std::string render_chat(const ChatTemplate& t, const std::vector<ChatMessage>& messages, bool add_generation_prompt);

struct ChatRequest {
  std::vector<ChatMessage> messages;
  nlohmann::ordered_json tools;  // OpenAI `tools` array; null or empty = no tools
  bool add_generation_prompt = true;
  // More template variables (enable_thinking, date_string, ...), an object.
  nlohmann::ordered_json variables = nlohmann::ordered_json::object();
  std::optional<int64_t> now_unix;  // what strftime_now() formats; unset = the current time
  // Drop a bos_token the template prints at the start (the tokenizer adds BOS itself, as
  // llama.cpp does); false gives the template's exact output.
  bool strip_bos = true;
};

struct RenderedChat {
  std::string text;
  bool used_template = false;  // false: a built-in formatter produced `text`
  std::string fallback_reason;  // why the model's template was not used (empty when it was, or there is none)
};

// Renders with the model's template when there is one; when it is missing or fails (a parse
// error, raise_exception, a construct we do not support), with the built-in formatter of the
// family, saying why in fallback_reason.
RenderedChat render_conversation(const ChatTemplate& t, const ChatRequest& request);
// The model's template only: its output or its error (line and column).
Result<std::string> render_with_template(const ChatTemplate& t, const ChatRequest& request);
// Strings that end an assistant turn in this format (in addition to EOG tokens).
std::vector<std::string> chat_stop_strings(ChatFormat f);

}  // namespace pm
