// Tool calling: OpenAI-shape tool definitions, the call syntax each model family was trained on,
// grammar-constrained call bodies, parsing and validation of calls, and a streaming splitter that
// passes text through as it is generated and delivers each call whole.
//
// Syntaxes (what the model writes for a call):
//   hermes   <tool_call>\n{"name": "f", "arguments": {...}}\n</tool_call>   (Qwen2.5 / Qwen3, Hermes)
//   llama3   {"name": "f", "parameters": {...}}                          (Llama 3.1 / 3.2 JSON calls;
//            an optional <|python_tag|> before it is dropped)
//   mistral  [TOOL_CALLS] [{"name": "f", "arguments": {...}}, ...]        (Mistral v0.3)
// During generation text flows unconstrained until the call opener appears ("<tool_call>",
// "{\"name\"", "[TOOL_CALLS]"); from there the grammar engine holds the call to
// {"name": one of the tools, "arguments": an object valid under that tool's parameters}, built
// as a JSON Schema anyOf over the tools and compiled by json_schema.h; after the call's end text
// is free again, so a turn may hold text and several calls.
#pragma once

#include <functional>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <string_view>
#include <vector>

#include "core/status.h"
#include "generate/chat_template.h"
#include "generate/generator.h"

namespace pm {

struct ToolSpec {
  std::string name;
  std::string description;
  nlohmann::ordered_json parameters = nlohmann::ordered_json::object();  // JSON Schema of the arguments
};

// [{"type": "function", "function": {"name", "description", "parameters"}}] (or the inner objects
// alone). Errors name the entry and field.
Result<std::vector<ToolSpec>> parse_tools(const nlohmann::ordered_json& tools);

enum class ToolCallSyntax { kHermes, kLlama3, kMistral };
const char* tool_call_syntax_name(ToolCallSyntax s);
// The syntax of a model family: from markers in its template, else its format (ChatML -> hermes).
ToolCallSyntax tool_call_syntax_for(const ChatTemplate& t);
// The text that starts a call (the lazy grammar's trigger).
std::string tool_call_opener(ToolCallSyntax s);

// GBNF for one call in `syntax`, opener included (see the table above).
Result<std::string> tool_call_grammar(const std::vector<ToolSpec>& tools, ToolCallSyntax syntax);
// The grammar bound to a tokenizer's vocabulary (compile once per tool set; reuse across turns).
Result<std::shared_ptr<GrammarEngine>> tool_call_engine(const std::vector<ToolSpec>& tools, ToolCallSyntax syntax,
                                                        const Tokenizer& tokenizer);

struct ParsedToolCall {
  std::string name;
  nlohmann::ordered_json arguments = nlohmann::ordered_json::object();
  std::string raw;    // the call's text as the model wrote it
  std::string error;  // empty when the call parsed and validated; else what is wrong
};

// JSON Schema validation for the keywords json_schema.h compiles (type, const, enum, anyOf, oneOf,
// allOf, $ref to #/$defs/... #/definitions/... or #, properties, required, additionalProperties,
// items, minItems, maxItems, minLength, maxLength, pattern, format, minimum, maximum,
// exclusiveMinimum, exclusiveMaximum); unknown keywords are ignored. The message names the path
// ("$.city: expected a string").
Status validate_json(const nlohmann::ordered_json& schema, const nlohmann::ordered_json& value);
// Checks a call against the tools: a known name and arguments valid under its parameters.
Status validate_tool_call(const std::vector<ToolSpec>& tools, const ParsedToolCall& call);

// One piece of streamed output: text, or a complete call.
struct ToolStreamEvent {
  bool is_call = false;
  std::string text;
  ParsedToolCall call;
};
using ToolEventCallback = std::function<bool(const ToolStreamEvent&)>;  // false cancels

// Splits generated text into text and calls as it arrives. Text that may be the start of an
// opener is held back until it is known not to be; a call is delivered once its end is seen.
class ToolCallStream {
 public:
  ToolCallStream(ToolCallSyntax syntax, const std::vector<ToolSpec>* tools, ToolEventCallback on_event)
      : syntax_(syntax), tools_(tools), on_event_(std::move(on_event)) {}
  bool push(std::string_view text);  // false when the callback cancelled
  bool finish();                     // flushes held text; an unfinished call becomes a call with an error

  const std::string& content() const { return content_; }  // all text outside calls
  const std::vector<ParsedToolCall>& calls() const { return calls_; }

 private:
  bool emit_text(std::string_view s);
  bool emit_calls(const std::string& raw);
  size_t call_end(size_t from) const;  // end of the call that starts at buf_[from], or npos

  ToolCallSyntax syntax_;
  const std::vector<ToolSpec>* tools_;
  ToolEventCallback on_event_;
  std::string buf_;       // not yet delivered
  bool in_call_ = false;  // buf_ starts with an opener
  std::string content_;
  std::vector<ParsedToolCall> calls_;
};

// Parses a whole reply (no streaming). With tools, each call is also validated.
struct ParsedToolOutput {
  std::string content;
  std::vector<ParsedToolCall> calls;
};
ParsedToolOutput parse_tool_calls(std::string_view text, ToolCallSyntax syntax,
                                  const std::vector<ToolSpec>* tools = nullptr);

struct ToolGenerateOptions {
  std::vector<ToolSpec> tools;
  ToolCallSyntax syntax = ToolCallSyntax::kHermes;
  bool force_call = false;                // the reply starts with a call (tool_choice "required")
  std::shared_ptr<GrammarEngine> engine;  // tool_call_engine(...); built here when null
};
struct ToolGenerateResult {
  GenerateResult generation;  // generation.text: the raw text (forced opener included)
  std::string content;        // text outside calls
  std::vector<ParsedToolCall> calls;
};
// generate() with lazily constrained tool calls; on_event receives text pieces and whole calls.
Result<ToolGenerateResult> generate_with_tools(Session& session, const Tokenizer& tokenizer,
                                               std::vector<TokenId> prompt, GenerateOptions options,
                                               const ToolGenerateOptions& tool_options,
                                               const ToolEventCallback& on_event = nullptr);

}  // namespace pm
