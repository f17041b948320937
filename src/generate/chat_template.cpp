#include "generate/chat_template.h"

#include "generate/jinja/jinja.h"

namespace pm {
namespace {

using Json = nlohmann::ordered_json;

bool contains(std::string_view s, std::string_view what) { return s.find(what) != std::string_view::npos; }

// The Hermes / Qwen tool block (what Qwen2.5's template puts in the system prompt), for the
// built-in ChatML formatter when the model's own template cannot be used.
std::string hermes_tools_block(const Json& tools) {
  std::string out =
      "# Tools\n\nYou may call one or more functions to assist with the user query.\n\n"
      "You are provided with function signatures within <tools></tools> XML tags:\n<tools>";
  for (const Json& t : tools) {
    out += '\n';
    out += t.dump(-1, ' ', false, Json::error_handler_t::replace);
  }
  out += "\n</tools>\n\nFor each function call, return a json object with function name and arguments within "
         "<tool_call></tool_call> XML tags:\n<tool_call>\n{\"name\": <function-name>, \"arguments\": "
         "<args-json-object>}\n</tool_call>";
  return out;
}

std::string tool_call_json(const ToolCall& c) {
  Json j = {{"name", c.name}, {"arguments", c.arguments}};
  return j.dump(-1, ' ', false, Json::error_handler_t::replace);
}

}  // namespace

Result<std::vector<ChatMessage>> chat_messages_from_json(const Json& messages) {
  if (!messages.is_array()) return Status::invalid_argument("messages: expected an array");
  std::vector<ChatMessage> out;
  for (size_t i = 0; i < messages.size(); ++i) {
    const Json& m = messages[i];
    const std::string where = "messages[" + std::to_string(i) + "]";
    if (!m.is_object()) return Status::invalid_argument(where + ": expected an object");
    ChatMessage msg;
    if (!m.contains("role") || !m["role"].is_string()) return Status::invalid_argument(where + ".role: expected a string");
    msg.role = m["role"].get<std::string>();
    if (m.contains("content")) {
      const Json& c = m["content"];
      if (c.is_string()) {
        msg.content = c.get<std::string>();
      } else if (c.is_array()) {  // [{"type": "text", "text": ...}, ...]: the text parts, joined
        for (const Json& part : c)
          if (part.is_object() && part.contains("text") && part["text"].is_string()) msg.content += part["text"].get<std::string>();
      } else if (!c.is_null()) {
        return Status::invalid_argument(where + ".content: expected a string, a list of parts or null");
      }
    }
    if (m.contains("tool_calls") && !m["tool_calls"].is_null()) {
      if (!m["tool_calls"].is_array()) return Status::invalid_argument(where + ".tool_calls: expected an array");
      for (size_t k = 0; k < m["tool_calls"].size(); ++k) {
        const Json& tc = m["tool_calls"][k];
        const std::string w = where + ".tool_calls[" + std::to_string(k) + "]";
        const Json& fn = tc.is_object() && tc.contains("function") ? tc["function"] : tc;
        if (!fn.is_object() || !fn.contains("name") || !fn["name"].is_string())
          return Status::invalid_argument(w + ".function.name: expected a string");
        ToolCall call;
        call.name = fn["name"].get<std::string>();
        if (tc.is_object() && tc.contains("id") && tc["id"].is_string()) call.id = tc["id"].get<std::string>();
        if (fn.contains("arguments")) {
          const Json& a = fn["arguments"];
          if (a.is_string()) {  // OpenAI sends arguments as JSON text
            call.arguments = Json::parse(a.get<std::string>(), nullptr, false);
            if (call.arguments.is_discarded() || !call.arguments.is_object())
              return Status::invalid_argument(w + ".function.arguments: not a JSON object");
          } else if (a.is_object()) {
            call.arguments = a;
          } else {
            return Status::invalid_argument(w + ".function.arguments: expected an object or JSON text");
          }
        }
        msg.tool_calls.push_back(std::move(call));
      }
    }
    if (m.contains("tool_call_id") && m["tool_call_id"].is_string()) msg.tool_call_id = m["tool_call_id"].get<std::string>();
    if (m.contains("name") && m["name"].is_string()) msg.name = m["name"].get<std::string>();
    out.push_back(std::move(msg));
  }
  return out;
}

Json chat_messages_to_json(const std::vector<ChatMessage>& messages) {
  Json out = Json::array();
  for (const ChatMessage& m : messages) {
    // content is always a string: templates test it with `in` and `+`, which fail on None.
    Json j = {{"role", m.role}, {"content", m.content}};
    if (!m.tool_calls.empty()) {
      Json calls = Json::array();
      for (const ToolCall& c : m.tool_calls) {
        Json call = Json::object();
        if (!c.id.empty()) call["id"] = c.id;
        call["type"] = "function";
        call["function"] = {{"name", c.name}, {"arguments", c.arguments}};
        calls.push_back(std::move(call));
      }
      j["tool_calls"] = std::move(calls);
    }
    if (!m.tool_call_id.empty()) j["tool_call_id"] = m.tool_call_id;
    if (!m.name.empty()) j["name"] = m.name;
    out.push_back(std::move(j));
  }
  return out;
}

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
  if (!tmpl.empty()) {
    Result<jinja::Template> parsed = jinja::Template::parse(tmpl);
    if (parsed.is_ok()) t.compiled = std::make_shared<const jinja::Template>(std::move(*parsed));
    else t.parse_error = parsed.status().message();
  }
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
      // Tool calls and results the way Qwen / Hermes templates write them.
      for (const ChatMessage& m : msgs) {
        if (m.role == "tool") {
          out += "<|im_start|>user\n<tool_response>\n" + m.content + "\n</tool_response><|im_end|>\n";
          continue;
        }
        out += "<|im_start|>" + m.role + "\n" + m.content;
        for (size_t i = 0; i < m.tool_calls.size(); ++i) {
          if (i || !m.content.empty()) out += '\n';
          out += "<tool_call>\n";
          out += tool_call_json(m.tool_calls[i]);
          out += "\n</tool_call>";
        }
        out += "<|im_end|>\n";
      }
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

Result<std::string> render_with_template(const ChatTemplate& t, const ChatRequest& r) {
  if (!t.compiled) {
    return Status::invalid_argument(t.parse_error.empty() ? "the model has no chat template" : t.parse_error);
  }
  Json ctx = Json::object();
  ctx["messages"] = chat_messages_to_json(r.messages);
  // Templates test `if tools` / `tools is not none`: leave it undefined when there are none.
  if (r.tools.is_array() && !r.tools.empty()) ctx["tools"] = r.tools;
  ctx["add_generation_prompt"] = r.add_generation_prompt;
  ctx["bos_token"] = t.bos_token;
  ctx["eos_token"] = t.eos_token;
  if (r.variables.is_object())
    for (auto it = r.variables.begin(); it != r.variables.end(); ++it) ctx[it.key()] = it.value();
  jinja::RenderOptions opt;
  opt.now_unix = r.now_unix;
  Result<std::string> text = t.compiled->render(ctx, opt);
  if (!text.is_ok()) return text.status();
  std::string out = std::move(*text);
  if (r.strip_bos && !t.bos_token.empty() && out.compare(0, t.bos_token.size(), t.bos_token) == 0)
    out.erase(0, t.bos_token.size());
  return out;
}

RenderedChat render_conversation(const ChatTemplate& t, const ChatRequest& r) {
  RenderedChat out;
  if (t.compiled || !t.parse_error.empty()) {
    Result<std::string> text = render_with_template(t, r);
    if (text.is_ok()) {
      out.text = std::move(*text);
      out.used_template = true;
      return out;
    }
    out.fallback_reason = text.status().message();
  }
  std::vector<ChatMessage> msgs = r.messages;
  if (t.format == ChatFormat::kChatML && r.tools.is_array() && !r.tools.empty()) {
    const std::string block = hermes_tools_block(r.tools);
    if (!msgs.empty() && msgs[0].role == "system") {
      msgs[0].content += "\n\n" + block;
    } else {
      const std::string sys = t.default_system.empty() ? "" : t.default_system + "\n\n";
      msgs.insert(msgs.begin(), ChatMessage{"system", sys + block});
    }
  }
  out.text = render_chat(t, msgs, r.add_generation_prompt);
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
