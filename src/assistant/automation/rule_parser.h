// Plain-language requests -> automation rules (issue #8). A deterministic parser for the common
// Chinese and English forms (docs/automation.md lists the conventions), and a model-backed
// parser that generates rule JSON under the rule schema; both outputs go through normalize_rule()
// and validate().
#pragma once

#include <cstdint>
#include <nlohmann/json.hpp>
#include <string>
#include <string_view>
#include <vector>

#include "assistant/automation/rule.h"
#include "assistant/automation/tool_catalog.h"
#include "core/status.h"

namespace pm {
class Session;
class Tokenizer;
}  // namespace pm

namespace pm::automation {

// The user's local wall-clock time ("now"): relative dates and times are resolved against it.
struct LocalTime {
  int year = 2026, month = 1, day = 1, hour = 0, minute = 0, second = 0;
  int utc_offset_minutes = 0;
};
// "2026-11-24T09:00:00+08:00" (also "Z", no seconds, or no offset = local time as written).
Result<LocalTime> parse_iso_local_time(std::string_view text);
// "+08:00", "-05:30", "UTC" / "Z" -> minutes east of UTC.
Result<int> parse_utc_offset(std::string_view text);
// The same instant at another UTC offset.
LocalTime to_offset(const LocalTime& t, int utc_offset_minutes);
std::string format_date(int year, int month, int day);  // "YYYY-MM-DD"

struct ParsedRequest {
  std::vector<Rule> rules;
  bool zh = false;  // the request is Chinese (confirmation in Chinese)
};

// Errors (Status invalid_argument) start with "could not understand" and quote the part of the
// request that was not understood; they also report invalid times ("25:61 is not a valid time").
// No rules are returned with an error.
Result<ParsedRequest> parse_request(std::string_view text, const LocalTime& now, const ToolRegistry& registry);

// ---- model-backed parsing -----------------------------------------------------------------------
// JSON Schema of the model's output {"rules": [rule, ...]} over the registry's tools (each
// action an anyOf branch holding the tool name and its args schema).
nlohmann::ordered_json rules_output_schema(const ToolRegistry& registry);
// The prompt text: the tool catalog, events, conventions, the current time and the request.
// `compact`: tool names with their argument names only, no conventions (small contexts).
std::string model_prompt(std::string_view request, const LocalTime& now, const ToolRegistry& registry,
                         bool compact = false);
// Parses the model's output text ({"rules": [...]}) into rules, normalizes and validates them;
// errors name what was wrong.
Result<ParsedRequest> rules_from_model_output(std::string_view output, std::string_view request,
                                              const ToolRegistry& registry);

}  // namespace pm::automation
