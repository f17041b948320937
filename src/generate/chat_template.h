// Chat prompt formats. The model's own template (tokenizer.chat_template, Jinja) is recognised
// by the markers it contains and rendered by a built-in formatter per family; a model with no
// template gets a plain "User: / Assistant:" transcript (also RWKV's native format).
// A Jinja-subset interpreter rendering arbitrary templates replaces the detection later.
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace pm {

struct ChatMessage {
  std::string role;  // "system", "user", "assistant"
  std::string content;
};

enum class ChatFormat { kChatML, kLlama3, kMistral, kGemma, kPhi3, kPlain };

const char* chat_format_name(ChatFormat f);
// Picks the format from the model's template text (may be empty) and architecture.
ChatFormat detect_chat_format(std::string_view template_text, std::string_view arch);

struct ChatTemplate {
  ChatFormat format = ChatFormat::kPlain;
  std::string default_system;  // inserted when the conversation has no system message
};
ChatTemplate chat_template_for(std::string_view template_text, std::string_view arch);

// Renders the conversation; with add_generation_prompt the text ends where the assistant's
// reply begins. BOS is not included (the tokenizer adds it as the model's metadata asks).
std::string render_chat(const ChatTemplate& t, const std::vector<ChatMessage>& messages, bool add_generation_prompt);
// Strings that end an assistant turn in this format (in addition to EOG tokens).
std::vector<std::string> chat_stop_strings(ChatFormat f);

}  // namespace pm
