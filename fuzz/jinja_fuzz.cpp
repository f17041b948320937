// libFuzzer target for the chat-template engine: any text must parse or fail with a Status, and
// whatever parses must render (or fail) within the limits, over a conversation with tools, tool
// calls and tool results so template branches for all of them are reachable.
#include <cstddef>
#include <cstdint>
#include <nlohmann/json.hpp>
#include <string_view>

#include "generate/jinja/jinja.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static const nlohmann::ordered_json context = nlohmann::ordered_json::parse(R"({
    "messages": [
      {"role": "system", "content": "You are helpful."},
      {"role": "user", "content": "北京天气怎么样？"},
      {"role": "assistant", "content": "<think>\nhmm\n</think>\n\n", "tool_calls": [
        {"id": "call00001", "type": "function", "function": {"name": "get_weather", "arguments": {"city": "北京"}}}]},
      {"role": "tool", "tool_call_id": "call00001", "name": "get_weather", "content": "晴"},
      {"role": "user", "content": "谢谢"}],
    "tools": [{"type": "function", "function": {"name": "get_weather", "description": "d",
      "parameters": {"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]}}}],
    "add_generation_prompt": true, "bos_token": "<s>", "eos_token": "</s>"})");
  pm::jinja::Limits limits;
  limits.max_steps = 200000;  // keep each input fast; the limits themselves are what is tested
  limits.max_output_bytes = 1 << 20;
  auto t = pm::jinja::Template::parse(std::string_view(reinterpret_cast<const char*>(data), size), limits);
  if (!t.is_ok()) return 0;
  pm::jinja::RenderOptions opt;
  opt.limits = limits;
  opt.now_unix = 0;
  (void)t->render(context, opt).status();
  return 0;
}
