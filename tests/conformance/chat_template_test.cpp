// Real chat templates (tests/data/chat_templates/NAME.jinja, the tokenizer.chat_template strings
// of Qwen2.5, Qwen3, Llama 3.1 / 3.2, Mistral v0.3, Phi-3, Gemma 2 / 3 and SmolLM2) rendered over
// multi-turn conversations (system prompts, Chinese text, tools, assistant tool calls, tool
// results, reasoning) and compared byte for byte with NAME.expected.CONVERSATION.txt. The expected
// files were derived by reading each template by hand, following jinja2's rules as transformers
// configures them (trim_blocks, lstrip_blocks, json.dumps-style tojson); cases.json lists the
// cases, so a new case is a new entry and a new file.
#include "generate/chat_template.h"

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "generate/jinja/jinja.h"
#include "test_util.h"

namespace pm {
namespace {

using Json = nlohmann::ordered_json;

std::string data_dir() { return std::string(PM_TEST_DATA_DIR) + "/chat_templates/"; }

ChatTemplate load_template(const std::string& name, const Json& tokens) {
  ChatTemplate t = chat_template_for(pm::test::read_text(data_dir() + name + ".jinja"), "");
  t.bos_token = tokens.value("bos_token", "");
  t.eos_token = tokens.value("eos_token", "");
  return t;
}

TEST(ChatTemplateGolden, RealTemplatesRenderLikeTheReference) {
  const Json cases = Json::parse(pm::test::read_text(data_dir() + "cases.json"));
  int n = 0;
  for (const Json& c : cases["cases"]) {
    const std::string name = c["template"].get<std::string>();
    const std::string conv = c["conversation"].get<std::string>();
    SCOPED_TRACE(name + " / " + conv);
    const ChatTemplate t = load_template(name, cases["tokens"][name]);
    ASSERT_TRUE(t.compiled) << t.parse_error;
    const Json& cv = cases["conversations"][conv];
    Result<std::vector<ChatMessage>> msgs = chat_messages_from_json(cv["messages"]);
    ASSERT_TRUE(msgs.is_ok()) << msgs.status().message();
    ChatRequest r;
    r.messages = *msgs;
    if (cv.contains("tools")) r.tools = cv["tools"];
    r.add_generation_prompt = c["add_generation_prompt"].get<bool>();
    if (c.contains("vars")) r.variables = c["vars"];
    if (c.contains("now_unix")) r.now_unix = c["now_unix"].get<int64_t>();
    r.strip_bos = false;  // the template's exact output
    Result<std::string> out = render_with_template(t, r);
    if (c.contains("error")) {
      ASSERT_FALSE(out.is_ok());
      EXPECT_NE(out.status().message().find(c["error"].get<std::string>()), std::string::npos)
          << out.status().message();
    } else {
      ASSERT_TRUE(out.is_ok()) << out.status().message();
      EXPECT_EQ(*out, pm::test::read_text(data_dir() + name + ".expected." + conv + ".txt"));
    }
    ++n;
  }
  EXPECT_GE(n, 18);
}

TEST(ChatTemplateGolden, RenderingIsDeterministicAndReusable) {
  // One parsed template serves many renders (chat keeps it for the whole session).
  const ChatTemplate t = load_template("qwen3", Json::object());
  ChatRequest r;
  r.messages = {{"user", "第一"}};
  const std::string a = render_conversation(t, r).text;
  r.messages.push_back({"assistant", "好"});
  r.messages.push_back({"user", "第二"});
  const std::string b = render_conversation(t, r).text;
  EXPECT_EQ(a, "<|im_start|>user\n第一<|im_end|>\n<|im_start|>assistant\n");
  EXPECT_EQ(b.rfind("<|im_start|>user\n第一<|im_end|>\n<|im_start|>assistant\n好<|im_end|>\n", 0), 0u) << b;
  EXPECT_EQ(render_conversation(t, r).text, b);
}

TEST(ChatTemplateGolden, StripsTheBosTheTokenizerAddsItself) {
  const ChatTemplate t = load_template("gemma3", Json{{"bos_token", "<bos>"}});
  ChatRequest r;
  r.messages = {{"user", "hi"}};
  const RenderedChat out = render_conversation(t, r);
  EXPECT_TRUE(out.used_template);
  EXPECT_EQ(out.text, "<start_of_turn>user\nhi<end_of_turn>\n<start_of_turn>model\n");
}

TEST(ChatTemplateFallback, BrokenOrRefusingTemplatesFallBackToTheFamilyFormat) {
  // A template that does not parse: the built-in ChatML formatter, and the reason names the place.
  ChatTemplate t = chat_template_for("<|im_start|>{% for m in messages %}{{ m.content }", "qwen2");
  EXPECT_FALSE(t.compiled);
  EXPECT_NE(t.parse_error.find("line 1, column"), std::string::npos) << t.parse_error;
  ChatRequest r;
  r.messages = {{"user", "你好"}};
  RenderedChat out = render_conversation(t, r);
  EXPECT_FALSE(out.used_template);
  EXPECT_EQ(out.text, "<|im_start|>user\n你好<|im_end|>\n<|im_start|>assistant\n");
  EXPECT_FALSE(out.fallback_reason.empty());

  // Gemma 2 refuses a system turn (raise_exception): the built-in Gemma format folds it in.
  t = load_template("gemma2", Json{{"bos_token", "<bos>"}});
  r.messages = {{"system", "简短回答。"}, {"user", "你好"}};
  out = render_conversation(t, r);
  EXPECT_FALSE(out.used_template);
  EXPECT_NE(out.fallback_reason.find("System role not supported"), std::string::npos) << out.fallback_reason;
  EXPECT_NE(out.fallback_reason.find("line 1"), std::string::npos) << out.fallback_reason;
  EXPECT_EQ(out.text, "<start_of_turn>user\n简短回答。\n\n你好<end_of_turn>\n<start_of_turn>model\n");

  // No template at all (RWKV): the plain transcript.
  t = chat_template_for("", "rwkv7");
  out = render_conversation(t, r);
  EXPECT_FALSE(out.used_template);
  EXPECT_TRUE(out.fallback_reason.empty());
  EXPECT_EQ(out.text, "System: 简短回答。\n\nUser: 你好\n\nAssistant:");
}

TEST(ChatTemplateFallback, BuiltInChatMLCarriesToolsAndCalls) {
  ChatTemplate t = chat_template_for("", "qwen2");
  ChatRequest r;
  r.tools = Json::parse(R"([{"type":"function","function":{"name":"f","parameters":{"type":"object"}}}])");
  ChatMessage call{"assistant", ""};
  call.tool_calls.push_back({"c1", "f", Json{{"x", 1}}});
  ChatMessage result{"tool", "ok"};
  result.tool_call_id = "c1";
  r.messages = {{"user", "do f"}, call, result};
  const std::string text = render_conversation(t, r).text;
  EXPECT_NE(text.find("<tools>\n{\"type\":\"function\""), std::string::npos) << text;
  EXPECT_NE(
      text.find("<|im_start|>assistant\n<tool_call>\n{\"name\":\"f\",\"arguments\":{\"x\":1}}\n</tool_call><|im_end|>"),
      std::string::npos)
      << text;
  EXPECT_NE(text.find("<tool_response>\nok\n</tool_response>"), std::string::npos) << text;
}

TEST(ChatMessagesJson, AcceptsOpenAIShapes) {
  const Json in = Json::parse(R"([
    {"role": "user", "content": [{"type": "text", "text": "a"}, {"type": "text", "text": "b"}]},
    {"role": "assistant", "content": null, "tool_calls": [
      {"id": "x1", "type": "function", "function": {"name": "f", "arguments": "{\"k\": \"值\"}"}}]},
    {"role": "tool", "tool_call_id": "x1", "name": "f", "content": "42"}])");
  Result<std::vector<ChatMessage>> m = chat_messages_from_json(in);
  ASSERT_TRUE(m.is_ok()) << m.status().message();
  ASSERT_EQ(m->size(), 3u);
  EXPECT_EQ((*m)[0].content, "ab");
  ASSERT_EQ((*m)[1].tool_calls.size(), 1u);
  EXPECT_EQ((*m)[1].tool_calls[0].arguments, Json({{"k", "值"}}));
  EXPECT_EQ((*m)[2].tool_call_id, "x1");
  const Json out = chat_messages_to_json(*m);
  EXPECT_EQ(out[1]["tool_calls"][0]["function"]["arguments"]["k"], "值");
  EXPECT_EQ(out[1]["content"], "");

  auto bad = chat_messages_from_json(
      Json::parse(R"([{"role": "assistant", "tool_calls": [{"function": {"name": "f", "arguments": "{oops"}}]}])"));
  ASSERT_FALSE(bad.is_ok());
  EXPECT_NE(bad.status().message().find("messages[0].tool_calls[0].function.arguments"), std::string::npos)
      << bad.status().message();
}

}  // namespace
}  // namespace pm
