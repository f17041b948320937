// Pieces the automation verbs share (cmd_automation_parse.cpp, cmd_automation_rules.cpp).
#pragma once

#include <string>

#include "assistant/automation/rule_parser.h"
#include "core/status.h"

namespace pm::cli {

// The user's "now" for parsing requests: --now (ISO 8601) or the system clock, moved to the UTC
// offset --tz when given. Errors name the option.
Result<automation::LocalTime> automation_now(const std::string& now, const std::string& tz);

}  // namespace pm::cli
