// Automation rules (DESIGN.md "Automation rules"): the Rule type, its JSON form, validation
// against the tool registry, the time normalizer, conflict detection and the confirmation text
// shown to the user before a rule is saved.
//
// JSON form (exactly DESIGN.md's; "enabled" is written only when false):
//   {"name": "...", "mode": "single"|"restart"|"queued"|"parallel",
//    "triggers":   [{"type": "time", "at": "HH:MM", "weekdays"?: ["mon",..], "date"?: "YYYY-MM-DD"}
//                   | {"type": "interval", "every_minutes": N, "between"?: ["HH:MM", "HH:MM"]}
//                   | {"type": "event", "event": "headphones.connected", "filter"?: {...}}],
//    "conditions": [{"type": "time_between", "after": "HH:MM", "before": "HH:MM", "weekdays"?: [...]}
//                   | {"type": "battery", "above"|"below": 0-100}
//                   | {"type": "location", "place": "home"}
//                   | {"type": "state", "key": "ringer_mode", "equals": "silent"}],
//    "actions":    [{"tool": "weather.read", "args": {"when": "today"}}]}
// Triggers are alternatives (any fires the rule); conditions must all hold; actions run in order.
#pragma once

#include <nlohmann/json.hpp>
#include <string>
#include <string_view>
#include <vector>

#include "assistant/automation/tool_catalog.h"
#include "core/status.h"

namespace pm::automation {

struct Action {
  std::string tool;
  nlohmann::ordered_json args = nlohmann::ordered_json::object();
};

struct Rule {
  std::string name;
  std::string mode = "single";
  bool enabled = true;
  std::vector<nlohmann::ordered_json> triggers;    // each a JSON object as above
  std::vector<nlohmann::ordered_json> conditions;  // each a JSON object as above
  std::vector<Action> actions;
};

nlohmann::ordered_json rule_to_json(const Rule& rule);
// Structural parse only (types of the top-level fields); validate() checks the content.
Result<Rule> rule_from_json(const nlohmann::ordered_json& j);

// "6:30" / "06:30" / "6：30" / "7" -> "HH:MM". Errors: "25:61 is not a valid time of day ...".
Result<std::string> normalize_time(std::string_view text);

// Normalizes every time-of-day field in place ("6:30" -> "06:30") and puts weekday lists in
// calendar order without repeats. Values that cannot be normalized are left for validate().
void normalize_rule(Rule& rule);

// Every problem in the rule, each prefixed with its JSON path
// ("actions[1].args.level: 150 is above the maximum 100"). Empty = valid.
std::vector<std::string> validate(const Rule& rule, const ToolRegistry& registry);
// The args of one action against a tool schema (the subset the catalog uses: type, enum, anyOf,
// required, minimum/maximum, minLength, pattern, items, minItems/maxItems, properties,
// additionalProperties false). `path` prefixes the messages.
std::vector<std::string> validate_value(const nlohmann::ordered_json& schema, const nlohmann::ordered_json& value,
                                        const std::string& path);

// Two actions that set the same thing (ringer mode, a volume stream, a setting) to different
// values at a moment when both rules can fire (same time on a shared day, or the same event with
// compatible filters), including two such actions in one rule.
struct Conflict {
  size_t rule_a = 0, rule_b = 0;  // indexes into the rule list (equal for a conflict inside one rule)
  std::string message;            // English, names both rules and both values
  std::string target;             // what both set: "ringer", "media volume", "wifi" (a setting), ...
  nlohmann::ordered_json value_a, value_b;
};
std::vector<Conflict> find_conflicts(const std::vector<Rule>& rules);

// Readable confirmation of the rules, Chinese (zh = true) or English; one line per rule.
std::string confirmation_text(const std::vector<Rule>& rules, bool zh);
std::string conflict_text(const Conflict& c, const std::vector<Rule>& rules, bool zh);

// True when the text holds CJK characters (the request is answered in Chinese).
bool is_chinese_text(std::string_view text);

}  // namespace pm::automation
