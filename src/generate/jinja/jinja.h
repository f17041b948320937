// A Jinja-subset template engine for the chat templates models ship in GGUF metadata
// (tokenizer.chat_template). Templates are parsed once, then rendered per conversation.
//
// Semantics follow jinja2 as Hugging Face transformers configures it for apply_chat_template
// (trim_blocks=True, lstrip_blocks=True, loop controls, a json.dumps-based `tojson`, Python string
// methods, `raise_exception` and `strftime_now` globals), since that renderer defines what the
// model saw in training. Supported:
//   {{ }}, {% %}, {# #} with - and + whitespace control; if/elif/else, for (tuple targets,
//   `if` filter, else, loop.index/index0/revindex/first/last/length/previtem/nextitem, break,
//   continue), set (names, tuples, ns.attr, block set), macro, raw, generation.
//   Expressions: literals (incl. True/False/None), lists, tuples, dicts, attribute, subscript,
//   slices, calls with keyword arguments, filters, tests, not/and/or, comparisons, in / not in,
//   ~ + - * / // % **, conditional expressions.
//   Filters, tests and methods: see interpreter.cpp (kFilters, kTests, call_method).
// A template is untrusted input (it comes from a downloaded file): parse and render never crash
// and never run unbounded; limits below turn runaway templates into errors.
#pragma once

#include <cstdint>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>

#include "core/status.h"

namespace pm::jinja {

struct Node;

struct Limits {
  size_t max_output_bytes = size_t(8) << 20;  // rendered text
  int64_t max_steps = 2'000'000;              // loop iterations + calls + created elements / 64 bytes
  int max_depth = 96;                         // nesting of expressions, statements and macro calls
};

struct RenderOptions {
  // strftime_now() formats this time (seconds since the epoch, local time zone); unset = now.
  std::optional<int64_t> now_unix;
  Limits limits;
};

class Template {
 public:
  // Errors name the line and column ("line 3, column 14: expected 'endfor'...").
  static Result<Template> parse(std::string_view source, const Limits& limits = {});

  // `context`: an object whose members are the template's variables (messages, tools,
  // add_generation_prompt, bos_token...). Errors name the line and column where rendering failed;
  // raise_exception(msg) in the template is an error carrying msg.
  Result<std::string> render(const nlohmann::ordered_json& context, const RenderOptions& options = {}) const;

  const std::string& source() const;

  struct Parsed;  // the syntax tree (ast.h; internal to the interpreter)

 private:
  std::shared_ptr<const Parsed> parsed_;
};

// "line L, column C" of a byte offset (columns count code points, from 1).
std::string describe_position(std::string_view source, size_t offset);

}  // namespace pm::jinja
