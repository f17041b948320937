// Pieces the automation verbs share (cmd_automation_parse.cpp, cmd_automation_rules.cpp).
#pragma once

#include <filesystem>
#include <memory>
#include <string>

#include <CLI/CLI.hpp>

#include "assistant/automation/rule_parser.h"
#include "assistant/automation/rule_store.h"
#include "assistant/automation/tool_store.h"
#include "cli/store_common.h"
#include "core/status.h"

namespace pm::cli {

// The user's "now" for parsing requests: --now (ISO 8601) or the system clock, moved to the UTC
// offset --tz when given. Errors name the option.
Result<automation::LocalTime> automation_now(const std::string& now, const std::string& tz);

// DIR/automations.sqlite, encrypted with the store's key when DIR is an encrypted store (the
// passphrase from --passphrase-file / POCKETMIND_PASSPHRASE; see side_file_key).
inline Result<std::unique_ptr<automation::RuleStore>> open_rule_store(const std::string& dir,
                                                                      const std::string& passphrase_file, bool create) {
  Result<std::optional<store::StoreKey>> key = side_file_key(dir, passphrase_file, automation::RuleStore::kFileName, create);
  if (!key.is_ok()) return key.status();
  return automation::RuleStore::open(dir, create, *key);
}

// The built-in tools and those registered in DIR/automations.sqlite ("" or no file: built-ins only).
inline Result<automation::ToolRegistry> load_tools(const std::string& dir, const std::string& passphrase_file) {
  std::error_code ec;
  if (dir.empty() || !std::filesystem::exists(std::filesystem::path(dir) / automation::RuleStore::kFileName, ec))
    return automation::load_tool_registry("");
  Result<std::optional<store::StoreKey>> key = side_file_key(dir, passphrase_file, automation::RuleStore::kFileName, false);
  if (!key.is_ok()) return key.status();
  return automation::load_tool_registry(dir, *key);
}

}  // namespace pm::cli
