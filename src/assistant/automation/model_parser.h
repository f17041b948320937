// Parsing automation requests with a language model: generation held by a grammar to the rule
// schema (rules_output_schema in rule_parser.h); the output goes through rules_from_model_output
// (the same normalizer and validator as the deterministic parser).
#pragma once

#include <cstdint>
#include <string_view>

#include "assistant/automation/rule_parser.h"
#include "generate/chat_template.h"
#include "generate/generator.h"
#include "runtime/session.h"
#include "tokenizer/tokenizer.h"

namespace pm::automation {

struct ModelParseOptions {
  int32_t max_tokens = 768;
  float temperature = 0.0f;  // greedy by default: the same request yields the same rules
  uint64_t seed = 0;
  int64_t n_ctx = 0;  // the session's context size; 0 = unknown (no fitting of the prompt)
};

Result<ParsedRequest> parse_request_with_model(Session& session, const Tokenizer& tokenizer, const ChatTemplate& tmpl,
                                               std::string_view text, const LocalTime& now,
                                               const ToolRegistry& registry, const ModelParseOptions& options = {});

}  // namespace pm::automation
