#include "generate/chat_template.h"

namespace pm {
namespace {

bool contains(std::string_view s, std::string_view what) { return s.find(what) != std::string_view::npos; }

}  // namespace

const char* chat_format_name(ChatFormat f) {
  switch (f) {
    case ChatFormat::kChatML: return "chatml";
    case ChatFormat::kLlama3: return "llama3";
    case ChatFormat::kMistral: return "mistral";
    case ChatFormat::kGemma: return "gemma";
    case ChatFormat::kPhi3: return "phi3";
    case ChatFormat::kPlain: return "plain";
  }
  return "plain";
}

ChatFormat detect_chat_format(std::string_view tmpl, std::string_view arch) {
  if (contains(tmpl, "<|im_start|>")) return ChatFormat::kChatML;
  if (contains(tmpl, "<|start_header_id|>")) return ChatFormat::kLlama3;
  if (contains(tmpl, "<start_of_turn>")) return ChatFormat::kGemma;
  if (contains(tmpl, "<|assistant|>") && contains(tmpl, "<|end|>")) return ChatFormat::kPhi3;
  if (contains(tmpl, "[INST]")) return ChatFormat::kMistral;
  if (tmpl.empty() && (arch == "qwen2" || arch == "qwen3")) return ChatFormat::kChatML;
  return ChatFormat::kPlain;
}

ChatTemplate chat_template_for(std::string_view tmpl, std::string_view arch) {
  ChatTemplate t;
  t.format = detect_chat_format(tmpl, arch);
  // Qwen2.5's template supplies this system prompt when the conversation has none.
  constexpr std::string_view kQwenDefault = "You are Qwen, created by Alibaba Cloud. You are a helpful assistant.";
  if (contains(tmpl, kQwenDefault)) t.default_system = std::string(kQwenDefault);
  return t;
}

std::string render_chat(const ChatTemplate& t, const std::vector<ChatMessage>& in, bool add_generation_prompt) {
  std::vector<ChatMessage> msgs = in;
  if (!t.default_system.empty() && (msgs.empty() || msgs[0].role != "system"))
    msgs.insert(msgs.begin(), {"system", t.default_system});
  std::string out;
  switch (t.format) {
    case ChatFormat::kChatML:
      for (const ChatMessage& m : msgs) out += "<|im_start|>" + m.role + "\n" + m.content + "<|im_end|>\n";
      if (add_generation_prompt) out += "<|im_start|>assistant\n";
      break;
    case ChatFormat::kLlama3:
      for (const ChatMessage& m : msgs)
        out += "<|start_header_id|>" + m.role + "<|end_header_id|>\n\n" + m.content + "<|eot_id|>";
      if (add_generation_prompt) out += "<|start_header_id|>assistant<|end_header_id|>\n\n";
      break;
    case ChatFormat::kGemma:
      // Gemma has no system role: the system text opens the first user turn.
      {
        std::string pending_system;
        for (const ChatMessage& m : msgs) {
          if (m.role == "system") { pending_system += m.content + "\n\n"; continue; }
          const std::string role = m.role == "assistant" ? "model" : m.role;
          out += "<start_of_turn>" + role + "\n" + (role == "user" ? pending_system : "") + m.content + "<end_of_turn>\n";
          if (role == "user") pending_system.clear();
        }
        if (add_generation_prompt) out += "<start_of_turn>model\n";
      }
      break;
    case ChatFormat::kPhi3:
      for (const ChatMessage& m : msgs) out += "<|" + m.role + "|>\n" + m.content + "<|end|>\n";
      if (add_generation_prompt) out += "<|assistant|>\n";
      break;
    case ChatFormat::kMistral: {
      std::string pending_system;
      for (const ChatMessage& m : msgs) {
        if (m.role == "system") { pending_system += m.content + "\n\n"; continue; }
        if (m.role == "user") {
          out += "[INST] " + pending_system + m.content + " [/INST]";
          pending_system.clear();
        } else {
          out += m.content + "</s>";
        }
      }
      break;
    }
    case ChatFormat::kPlain:
      for (const ChatMessage& m : msgs) {
        const std::string role = m.role == "system" ? "System" : m.role == "assistant" ? "Assistant" : "User";
        out += role + ": " + m.content + "\n\n";
      }
      if (add_generation_prompt) out += "Assistant:";
      break;
  }
  return out;
}

std::vector<std::string> chat_stop_strings(ChatFormat f) {
  switch (f) {
    case ChatFormat::kChatML: return {"<|im_end|>", "<|im_start|>"};
    case ChatFormat::kLlama3: return {"<|eot_id|>", "<|start_header_id|>"};
    case ChatFormat::kGemma: return {"<end_of_turn>"};
    case ChatFormat::kPhi3: return {"<|end|>"};
    case ChatFormat::kMistral: return {"[INST]"};
    case ChatFormat::kPlain: return {"\n\nUser:", "\nUser:"};
  }
  return {};
}

}  // namespace pm
