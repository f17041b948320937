// Saved automation rules, their run history and the scheduler's bookkeeping, in
// DIR/automations.sqlite (SQLite, WAL, synchronous=FULL; every change is one transaction).
//
// Tables (schema version in table schema_version):
//   rules(seq INTEGER PRIMARY KEY AUTOINCREMENT, id TEXT UNIQUE "r<seq>", json TEXT, enabled INTEGER,
//         created_s INTEGER)                      ids are never reused, even after remove
//   progress(rule_id TEXT PRIMARY KEY, last_processed_s INTEGER)
//                                                 last time-trigger instant handled per rule
//   runs(id INTEGER PRIMARY KEY, rule_id, trigger, scheduled_s NULL, started_s, finished_s NULL,
//        status, detail)                          status: running|ok|failed|timeout|cancelled|
//                                                 skipped_condition|skipped_busy|missed|interrupted
//   device_state(id INTEGER PRIMARY KEY CHECK(id = 1), json TEXT)  last known DeviceState
//   tools(name TEXT PRIMARY KEY, description TEXT, schema TEXT, owner TEXT, created_s INTEGER)  (version 2)
//                                                 third-party tools (tool_store.h validates them)
//
// In an encrypted store (DIR/store.key) the file is encrypted with the store's page key
// (store/side_db.h: same page format as the store, WAL mode); open it with the key that
// rule_store_key() / store::side_file_key() returns. A plain file found there (written before
// this was encrypted) is converted on the first open with the key. Without the key an encrypted
// store's rules are not opened at all: the caller gets the error naming the passphrase instead.
#pragma once

#include <cstdint>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "core/status.h"
#include "store/crypto_vfs.h"

struct sqlite3;

namespace pm::store {
class SideDb;
}

namespace pm::automation {

struct StoredRule {
  std::string id;
  std::string json;
  bool enabled = true;
  int64_t created_s = 0;
};

struct StoredTool {
  std::string name;
  std::string description;
  std::string schema_json;  // JSON Schema of the tool's args object
  std::string owner;        // the server app that registered it; "" = the device owner (CLI, C API)
  int64_t created_s = 0;
};

struct RunRecord {
  int64_t id = 0;
  std::string rule_id;
  std::string trigger;
  std::optional<int64_t> scheduled_s;
  int64_t started_s = 0;
  std::optional<int64_t> finished_s;
  std::string status;
  std::string detail;
};

class RuleStore {
 public:
  static constexpr const char* kFileName = "automations.sqlite";
  // Opens (create: creates DIR and the database when missing). `key`: the store's page key when DIR
  // is an encrypted store (rule_store_key), nullopt for a plain one.
  static Result<std::unique_ptr<RuleStore>> open(const std::string& dir, bool create,
                                                 const std::optional<store::StoreKey>& key = std::nullopt);
  ~RuleStore();

  // Adds rules in one transaction; returns their new ids. Each rule's progress starts at created_s
  // (a rule added now does not "miss" earlier times).
  Result<std::vector<std::string>> add(const std::vector<std::string>& rule_json, int64_t created_s);
  Result<std::vector<StoredRule>> list();
  Result<StoredRule> get(const std::string& id);
  Status remove(const std::string& id);  // not_found when absent; history is kept
  Status set_enabled(const std::string& id, bool enabled);

  Result<std::optional<int64_t>> last_processed(const std::string& rule_id);
  // Records a run and, when given, advances the rule's progress, in one transaction. Returns the run id.
  Result<int64_t> record_run(const RunRecord& r, std::optional<int64_t> processed_up_to);
  // Several records and the progress advance in one transaction (missed runs after a long outage).
  Status record_runs(const std::vector<RunRecord>& runs, int64_t processed_up_to);
  Status advance_progress(const std::string& rule_id, int64_t processed_up_to);
  Status insert_run(const RunRecord& r);  // inside the caller's transaction
  Status finish_run(int64_t run_id, int64_t finished_s, const std::string& status, const std::string& detail);
  // Runs left "running" by a process that died: marked "interrupted"; returns how many.
  Result<int64_t> mark_interrupted(int64_t now_s);
  Result<RunRecord> run(int64_t run_id);
  Result<std::vector<RunRecord>> history(const std::string& rule_id = "", int64_t limit = 1000);

  // Third-party tools, stored as given (validation is tool_store.h's job). add_tool fails (invalid_argument)
  // when the name is taken; remove_tool with not_found when absent.
  Status add_tool(const StoredTool& tool);
  Result<std::vector<StoredTool>> list_tools();
  Status remove_tool(const std::string& name);

  Result<std::string> device_state_json();
  Status save_device_state(const std::string& json);

  const std::string& path() const { return path_; }

 private:
  RuleStore() = default;
  Status exec(const char* sql);
  Status error(const std::string& what) const;
  Status migrate();

  std::unique_ptr<store::SideDb> file_;  // owns the connection (and the VFS of an encrypted store)
  sqlite3* db_ = nullptr;                // file_->handle()
  std::string path_;
  std::recursive_mutex mu_;  // runs record history from several threads
};

// The key RuleStore::open needs for DIR given the user's passphrase ("" = none): nullopt for a
// plain store, the unlocked page key of an encrypted one, or the error saying what is missing
// (store::side_file_key; with `create` a new DIR given a passphrase becomes an encrypted store).
Result<std::optional<store::StoreKey>> rule_store_key(const std::string& dir, const std::string& passphrase,
                                                      bool create);

}  // namespace pm::automation
