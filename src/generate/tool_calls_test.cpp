// Tool calling: parsing hand-written model outputs of each syntax, streaming (text as it comes,
// each call whole), JSON Schema validation, the call grammar, and constrained generation with a
// random-weight model whose calls must always parse and validate.
#include "generate/tool_calls.h"

#include <gtest/gtest.h>

#include "formats/gguf.h"
#include "generate/grammar/grammar.h"
#include "generate/grammar/matcher.h"
#include "models/model.h"
#include "runtime/session.h"
#include "test_util.h"
#include "tokenizer/tokenizer.h"

namespace pm {
namespace {

using Json = nlohmann::ordered_json;

std::vector<ToolSpec> weather_tools() {
  Result<std::vector<ToolSpec>> t = parse_tools(Json::parse(R"([
    {"type": "function", "function": {"name": "get_weather", "description": "查询天气",
      "parameters": {"type": "object", "properties": {"city": {"type": "string", "minLength": 1},
                     "unit": {"type": "string", "enum": ["c", "f"]}}, "required": ["city"]}}},
    {"type": "function", "function": {"name": "set_alarm",
      "parameters": {"type": "object", "properties": {"time": {"type": "string", "pattern": "^[0-2][0-9]:[0-5][0-9]$"},
                     "days": {"type": "array", "items": {"type": "integer", "minimum": 0, "maximum": 6}, "maxItems": 7}},
                     "required": ["time"], "additionalProperties": false}}}])"));
  EXPECT_TRUE(t.is_ok()) << t.status().message();
  return t.is_ok() ? *t : std::vector<ToolSpec>();
}

TEST(Tools, ParseToolsChecksShape) {
  EXPECT_EQ(weather_tools().size(), 2u);
  auto bad = parse_tools(Json::parse(R"([{"type": "function", "function": {"description": "no name"}}])"));
  ASSERT_FALSE(bad.is_ok());
  EXPECT_NE(bad.status().message().find("tools[0].function.name"), std::string::npos) << bad.status().message();
  bad = parse_tools(Json::parse(R"([{"name": "a"}, {"name": "a"}])"));
  ASSERT_FALSE(bad.is_ok());
  EXPECT_NE(bad.status().message().find("a second tool named \"a\""), std::string::npos);
}

TEST(Tools, ParsesHermesOutput) {
  const auto tools = weather_tools();
  const std::string out =
      "好的，我来查一下。\n<tool_call>\n{\"name\": \"get_weather\", \"arguments\": {\"city\": \"北京\", \"unit\": "
      "\"c\"}}\n</tool_call>\n"
      "<tool_call>\n{\"name\": \"set_alarm\", \"arguments\": \"{\\\"time\\\": \\\"06:30\\\", \\\"days\\\": [1, "
      "2]}\"}\n</tool_call>";
  ParsedToolOutput p = parse_tool_calls(out, ToolCallSyntax::kHermes, &tools);
  EXPECT_EQ(p.content, "好的，我来查一下。\n\n");
  ASSERT_EQ(p.calls.size(), 2u);
  EXPECT_EQ(p.calls[0].name, "get_weather");
  EXPECT_EQ(p.calls[0].arguments, Json({{"city", "北京"}, {"unit", "c"}}));
  EXPECT_EQ(p.calls[0].error, "");
  EXPECT_EQ(p.calls[1].name, "set_alarm");
  EXPECT_EQ(p.calls[1].arguments["time"], "06:30");  // arguments given as JSON text
  EXPECT_EQ(p.calls[1].error, "");
}

TEST(Tools, ReportsBadCalls) {
  const auto tools = weather_tools();
  auto one = [&](const std::string& body) {
    ParsedToolOutput p = parse_tool_calls("<tool_call>\n" + body + "\n</tool_call>", ToolCallSyntax::kHermes, &tools);
    EXPECT_EQ(p.calls.size(), 1u) << body;
    return p.calls.empty() ? std::string("no call") : p.calls[0].error;
  };
  EXPECT_EQ(one(R"({"name": "get_weather", "arguments": {"city": "上海"}})"), "");
  EXPECT_EQ(one(R"({"name": "get_weather", "arguments": {"city": )"), "the call is not valid JSON");
  EXPECT_EQ(one(R"({"name": "launch", "arguments": {}})"), "unknown tool \"launch\"");
  EXPECT_EQ(one(R"({"name": "get_weather", "arguments": {}})"),
            "tool \"get_weather\" arguments: $: missing required property \"city\"");
  EXPECT_EQ(one(R"({"name": "get_weather", "arguments": {"city": "x", "unit": "k"}})"),
            "tool \"get_weather\" arguments: $.unit: \"k\" is not one of [\"c\",\"f\"]");
  EXPECT_EQ(one(R"({"name": "set_alarm", "arguments": {"time": "6:30"}})"),
            "tool \"set_alarm\" arguments: $.time: \"6:30\" does not match ^[0-2][0-9]:[0-5][0-9]$");
  EXPECT_EQ(one(R"({"name": "set_alarm", "arguments": {"time": "06:30", "days": [7]}})"),
            "tool \"set_alarm\" arguments: $.days[0]: 7 is above the maximum 6");
  EXPECT_EQ(one(R"({"name": "set_alarm", "arguments": {"time": "06:30", "snooze": true}})"),
            "tool \"set_alarm\" arguments: $.snooze: property not allowed");
  // An unfinished call at the end of the output.
  ParsedToolOutput p = parse_tool_calls("text <tool_call>\n{\"name\": \"get", ToolCallSyntax::kHermes, &tools);
  EXPECT_EQ(p.content, "text ");
  ASSERT_EQ(p.calls.size(), 1u);
  EXPECT_EQ(p.calls[0].error, "the call is unfinished");
}

TEST(Tools, ParsesLlamaAndMistralOutput) {
  const auto tools = weather_tools();
  ParsedToolOutput p =
      parse_tool_calls("<|python_tag|>{\"name\": \"get_weather\", \"parameters\": {\"city\": \"Paris\"}}",
                       ToolCallSyntax::kLlama3, &tools);
  EXPECT_EQ(p.content, "");
  ASSERT_EQ(p.calls.size(), 1u);
  EXPECT_EQ(p.calls[0].arguments["city"], "Paris");
  EXPECT_EQ(p.calls[0].error, "");

  p = parse_tool_calls(
      "[TOOL_CALLS] [{\"name\": \"get_weather\", \"arguments\": {\"city\": \"Oslo\"}}, "
      "{\"name\": \"set_alarm\", \"arguments\": {\"time\": \"07:00\"}, \"id\": \"abcdef123\"}]",
      ToolCallSyntax::kMistral, &tools);
  EXPECT_EQ(p.content, "");
  ASSERT_EQ(p.calls.size(), 2u);
  EXPECT_EQ(p.calls[0].name, "get_weather");
  EXPECT_EQ(p.calls[1].name, "set_alarm");
  EXPECT_EQ(p.calls[1].error, "");
  p = parse_tool_calls("[TOOL_CALLS] nonsense", ToolCallSyntax::kMistral, &tools);
  ASSERT_EQ(p.calls.size(), 1u);
  EXPECT_NE(p.calls[0].error, "");
}

// Text arrives as it is generated (only a possible opener prefix is held back); each call comes
// as one event once its end is seen.
TEST(Tools, StreamsTextAndWholeCalls) {
  const auto tools = weather_tools();
  const std::string out =
      "查询中<tool_call>\n{\"name\": \"get_weather\", \"arguments\": {\"city\": \"<tool\"}}\n</tool_call>完成";
  std::vector<ToolStreamEvent> events;
  std::string seen;  // text delivered so far
  size_t text_when_call = 0;
  ToolCallStream s(ToolCallSyntax::kHermes, &tools, [&](const ToolStreamEvent& e) {
    if (e.is_call)
      text_when_call = seen.size();
    else
      seen += e.text;
    events.push_back(e);
    return true;
  });
  for (size_t i = 0; i < out.size(); ++i) {
    ASSERT_TRUE(s.push(out.substr(i, 1)));
    if (i == std::string("查询中").size()) {
      EXPECT_EQ(seen, "查询中");  // delivered before the call is complete
    }
  }
  ASSERT_TRUE(s.finish());
  EXPECT_EQ(seen, "查询中完成");
  EXPECT_EQ(text_when_call, std::string("查询中").size());
  int calls = 0;
  for (const auto& e : events) calls += e.is_call;
  EXPECT_EQ(calls, 1);
  ASSERT_EQ(s.calls().size(), 1u);
  EXPECT_EQ(s.calls()[0].arguments["city"], "<tool");
  EXPECT_EQ(s.calls()[0].error, "");
  // A possible opener prefix is held back, then released when it turns out to be text.
  events.clear();
  seen.clear();
  ToolCallStream t(ToolCallSyntax::kHermes, &tools, [&](const ToolStreamEvent& e) {
    seen += e.text;
    return true;
  });
  ASSERT_TRUE(t.push("a <tool"));
  EXPECT_EQ(seen, "a ");
  ASSERT_TRUE(t.push("box> b"));
  EXPECT_EQ(seen, "a <toolbox> b");
}

TEST(Tools, ValidatesJsonSchemaKeywords) {
  const Json schema =
      Json::parse(R"({"$defs": {"pt": {"type": "object", "properties": {"x": {"type": "number"}}, "required": ["x"]}},
    "type": "object", "properties": {
      "p": {"$ref": "#/$defs/pt"}, "n": {"type": "integer", "exclusiveMinimum": 0}, "s": {"type": ["string", "null"], "maxLength": 2},
      "o": {"anyOf": [{"type": "boolean"}, {"const": "auto"}]}, "d": {"type": "string", "format": "date"}}})");
  EXPECT_TRUE(
      validate_json(schema, Json::parse(R"({"p": {"x": 1.5}, "n": 2, "s": "你好", "o": "auto", "d": "2026-11-30"})"))
          .is_ok());
  EXPECT_TRUE(validate_json(schema, Json::parse(R"({"s": null, "o": true, "n": 3.0})")).is_ok());
  const std::pair<const char*, const char*> bad[] = {
      {R"({"p": {}})", "$.p: missing required property \"x\""},
      {R"({"n": 0})", "$.n: 0 is not above 0"},
      {R"({"n": 1.5})", "$.n: expected integer, found 1.5"},
      {R"({"s": "abc"})", "$.s: longer than 2 characters"},
      {R"({"o": "x"})", "$.o: matches none of the anyOf alternatives ($.o: expected boolean, found \"x\")"},
      {R"({"d": "30/11/2026"})", "$.d: \"30/11/2026\" is not a valid \"date\""},
  };
  for (const auto& [v, want] : bad) {
    Status st = validate_json(schema, Json::parse(v));
    EXPECT_EQ(st.message(), want) << v;
  }
}

std::shared_ptr<const TokenTrie> byte_trie() {
  std::vector<std::string> pieces;
  for (int b = 0; b < 256; ++b) pieces.push_back(std::string(1, char(b)));
  pieces.push_back("");  // id 256: end of generation
  return TokenTrie::build(pieces, {256});
}

TEST(Tools, CallGrammarAcceptsExactlyValidCalls) {
  const auto tools = weather_tools();
  for (ToolCallSyntax syn : {ToolCallSyntax::kHermes, ToolCallSyntax::kLlama3, ToolCallSyntax::kMistral}) {
    Result<std::string> gbnf = tool_call_grammar(tools, syn);
    ASSERT_TRUE(gbnf.is_ok()) << gbnf.status().message();
    Result<std::shared_ptr<const Grammar>> g = parse_grammar(*gbnf);
    ASSERT_TRUE(g.is_ok()) << g.status().message() << "\n" << *gbnf;
    auto engine = std::make_shared<GrammarEngine>(*g, byte_trie());
    auto accepts = [&](const std::string& s) {
      GrammarMatcher m(engine);
      return m.accept_bytes(s) && m.is_accepting();
    };
    const char* key = syn == ToolCallSyntax::kLlama3 ? "parameters" : "arguments";
    const std::string good = std::string("{\"name\": \"get_weather\", \"") + key + "\": {\"city\": \"北京\"}}";
    const std::string wrong = std::string("{\"name\": \"get_time\", \"") + key + "\": {}}";
    const std::string missing = std::string("{\"name\": \"get_weather\", \"") + key + "\": {\"unit\": \"c\"}}";
    auto frame = [&](const std::string& body) {
      if (syn == ToolCallSyntax::kHermes) return "<tool_call>\n" + body + "\n</tool_call>";
      if (syn == ToolCallSyntax::kMistral) return "[TOOL_CALLS] [" + body + "]";
      return body;
    };
    EXPECT_TRUE(accepts(frame(good))) << tool_call_syntax_name(syn) << " " << frame(good);
    EXPECT_FALSE(accepts(frame(wrong))) << tool_call_syntax_name(syn);
    EXPECT_FALSE(accepts(frame(missing))) << tool_call_syntax_name(syn);
    // The opener alone is a valid start (the lazy trigger feeds it first).
    GrammarMatcher m(engine);
    EXPECT_TRUE(m.accept_bytes(tool_call_opener(syn))) << tool_call_syntax_name(syn);
  }
}

// Constrained calls from a random-weight model: whatever it samples inside a call, the call
// parses and validates; forced calls always produce at least one.
TEST(ToolsGeneration, ConstrainedCallsAlwaysParseAndValidate) {
  PM_REQUIRE_FIXTURE(path, "gguf/qwen2-bpe-tiny-f16.gguf");
  auto gguf = GgufFile::open(path);
  ASSERT_TRUE(gguf.is_ok()) << gguf.status().to_string();
  std::shared_ptr<const GgufFile> file(std::move(gguf).value());
  auto tok = Tokenizer::from_gguf(*file);
  ASSERT_TRUE(tok.is_ok()) << tok.status().to_string();
  auto model = load_model(file);
  ASSERT_TRUE(model.is_ok()) << model.status().to_string();
  // Bounded strings so a random model's calls finish within the token limit.
  Result<std::vector<ToolSpec>> parsed = parse_tools(Json::parse(R"([
    {"type": "function", "function": {"name": "get_weather",
      "parameters": {"type": "object", "properties": {"city": {"type": "string", "minLength": 1, "maxLength": 6},
                     "unit": {"type": "string", "enum": ["c", "f"]}}, "required": ["city"]}}},
    {"type": "function", "function": {"name": "set_alarm",
      "parameters": {"type": "object", "properties": {"time": {"type": "string", "pattern": "^[0-2][0-9]:[0-5][0-9]$"},
                     "days": {"type": "array", "items": {"type": "integer", "minimum": 0, "maximum": 6}, "maxItems": 3}},
                     "required": ["time"], "additionalProperties": false}}}])"));
  ASSERT_TRUE(parsed.is_ok()) << parsed.status().message();
  const std::vector<ToolSpec> tools = *parsed;
  ToolGenerateOptions to;
  to.tools = tools;
  to.syntax = ToolCallSyntax::kHermes;
  to.force_call = true;
  auto engine = tool_call_engine(tools, to.syntax, **tok);
  ASSERT_TRUE(engine.is_ok()) << engine.status().message();
  to.engine = *engine;
  int n_calls = 0;
  for (uint64_t seed = 1; seed <= 3; ++seed) {
    auto session = Session::create(**model, 512);
    ASSERT_TRUE(session.is_ok()) << session.status().to_string();
    GenerateOptions opt;
    opt.max_tokens = 160;
    opt.sampler.temperature = 1.0f;
    opt.sampler.seed = seed;
    std::vector<ToolStreamEvent> events;
    auto r = generate_with_tools(**session, **tok, (*tok)->encode("天气?", true, true), opt, to,
                                 [&](const ToolStreamEvent& e) {
                                   events.push_back(e);
                                   return true;
                                 });
    ASSERT_TRUE(r.is_ok()) << r.status().message();
    ASSERT_GE(r->calls.size(), 1u) << r->generation.text;
    for (const ParsedToolCall& c : r->calls) {
      // Only a call cut off by the token limit may fail, and only as unfinished.
      if (c.error == "the call is unfinished") continue;
      EXPECT_EQ(c.error, "") << c.raw;
      EXPECT_TRUE(c.name == "get_weather" || c.name == "set_alarm") << c.raw;
      ++n_calls;
    }
    // The first call is complete unless the token limit cut it.
    if (r->generation.finish != FinishReason::kLength) {
      EXPECT_EQ(r->calls[0].error, "");
    }
    int call_events = 0;
    for (const auto& e : events) call_events += e.is_call;
    EXPECT_EQ(size_t(call_events), r->calls.size());
  }
  EXPECT_GE(n_calls, 1);

  // Lazy mode: free text; any call the model starts is held to the grammar.
  to.force_call = false;
  auto session = Session::create(**model, 256);
  ASSERT_TRUE(session.is_ok());
  GenerateOptions opt;
  opt.max_tokens = 60;
  opt.sampler.temperature = 1.0f;
  opt.sampler.seed = 9;
  auto r = generate_with_tools(**session, **tok, (*tok)->encode("hello", true, true), opt, to);
  ASSERT_TRUE(r.is_ok()) << r.status().message();
  for (const ParsedToolCall& c : r->calls)
    if (c.error != "the call is unfinished") {
      EXPECT_EQ(c.error, "") << c.raw;
    }
}

}  // namespace
}  // namespace pm
