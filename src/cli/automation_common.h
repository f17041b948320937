// Pieces the automation verbs share (cmd_automation_parse.cpp, cmd_automation_rules.cpp).
#pragma once

#include <filesystem>
#include <memory>
#include <optional>
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

// The page key of DIR/automations.sqlite (the store's key when DIR is an encrypted store; the
// passphrase from --passphrase-file / POCKETMIND_PASSPHRASE, see side_file_key), unlocked at most
// once per command: a verb that reads the tool catalog and then saves rules asks twice, and each
// unlock runs the passphrase's deliberately slow key derivation.
class RuleStoreKey {
 public:
  RuleStoreKey(std::string dir, std::string passphrase_file)
      : dir_(std::move(dir)), passphrase_file_(std::move(passphrase_file)) {}

  const std::string& dir() const { return dir_; }

  // With `create`, a new DIR given a passphrase becomes an encrypted store. An unlocked key (or a
  // plain store) is the answer for either kind of call; a refusal without `create` is asked again
  // with it.
  Result<std::optional<store::StoreKey>> get(bool create) {
    const bool settled = key_ && (key_->is_ok() || asked_with_create_ || !create);
    if (!settled) {
      key_ = side_file_key(dir_, passphrase_file_, automation::RuleStore::kFileName, create);
      asked_with_create_ = create;
    }
    return *key_;
  }

 private:
  std::string dir_, passphrase_file_;
  std::optional<Result<std::optional<store::StoreKey>>> key_;
  bool asked_with_create_ = false;
};

// DIR/automations.sqlite, encrypted with the store's key when DIR is an encrypted store.
inline Result<std::unique_ptr<automation::RuleStore>> open_rule_store(RuleStoreKey& key, bool create) {
  PM_ASSIGN_OR_RETURN(std::optional<store::StoreKey> k, key.get(create));
  return automation::RuleStore::open(key.dir(), create, k);
}
inline Result<std::unique_ptr<automation::RuleStore>> open_rule_store(const std::string& dir,
                                                                      const std::string& passphrase_file, bool create) {
  RuleStoreKey key(dir, passphrase_file);
  return open_rule_store(key, create);
}

// The built-in tools and those registered in DIR/automations.sqlite ("" or no file: built-ins only).
inline Result<automation::ToolRegistry> load_tools(RuleStoreKey& key) {
  std::error_code ec;
  if (key.dir().empty() || !std::filesystem::exists(std::filesystem::path(key.dir()) / automation::RuleStore::kFileName, ec))
    return automation::load_tool_registry("");
  PM_ASSIGN_OR_RETURN(std::optional<store::StoreKey> k, key.get(false));
  return automation::load_tool_registry(key.dir(), k);
}
inline Result<automation::ToolRegistry> load_tools(const std::string& dir, const std::string& passphrase_file) {
  RuleStoreKey key(dir, passphrase_file);
  return load_tools(key);
}

}  // namespace pm::cli
