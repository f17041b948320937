#include "assistant/automation/rule_store.h"

#include <filesystem>

#include <sqlite3.h>

#include "store/side_db.h"

namespace pm::automation {
namespace {

constexpr int kSchemaVersion = 2;

// A prepared statement that finalizes itself.
class Stmt {
 public:
  Stmt(sqlite3* db, const char* sql) { ok_ = sqlite3_prepare_v2(db, sql, -1, &st_, nullptr) == SQLITE_OK; }
  ~Stmt() { sqlite3_finalize(st_); }
  bool ok() const { return ok_; }
  sqlite3_stmt* get() { return st_; }
  void bind(int i, const std::string& s) { sqlite3_bind_text(st_, i, s.data(), (int)s.size(), SQLITE_TRANSIENT); }
  void bind(int i, int64_t v) { sqlite3_bind_int64(st_, i, v); }
  void bind(int i, std::optional<int64_t> v) {
    if (v) sqlite3_bind_int64(st_, i, *v);
    else sqlite3_bind_null(st_, i);
  }
  int step() { return sqlite3_step(st_); }
  std::string text(int c) {
    const unsigned char* p = sqlite3_column_text(st_, c);
    return p ? std::string(reinterpret_cast<const char*>(p), sqlite3_column_bytes(st_, c)) : std::string();
  }
  int64_t i64(int c) { return sqlite3_column_int64(st_, c); }
  std::optional<int64_t> opt(int c) {
    if (sqlite3_column_type(st_, c) == SQLITE_NULL) return std::nullopt;
    return sqlite3_column_int64(st_, c);
  }

 private:
  sqlite3_stmt* st_ = nullptr;
  bool ok_ = false;
};

}  // namespace

Status RuleStore::error(const std::string& what) const {
  return Status::io_error(path_ + ": " + what + ": " + store::sqlite_error_text(db_));
}

Status RuleStore::exec(const char* sql) {
  char* msg = nullptr;
  if (sqlite3_exec(db_, sql, nullptr, nullptr, &msg) != SQLITE_OK) {
    std::string m = msg ? msg : "unknown error";
    if (sqlite3_extended_errcode(db_) == SQLITE_IOERR_DATA) m = store::sqlite_error_text(db_);
    sqlite3_free(msg);
    return Status::io_error(path_ + ": " + m);
  }
  return Status::ok();
}

Result<std::optional<store::StoreKey>> rule_store_key(const std::string& dir, const std::string& passphrase,
                                                      bool create) {
  return store::side_file_key(dir, passphrase, RuleStore::kFileName, create);
}

Result<std::unique_ptr<RuleStore>> RuleStore::open(const std::string& dir, bool create,
                                                   const std::optional<store::StoreKey>& key) {
  namespace fs = std::filesystem;
  std::error_code ec;
  const fs::path path = fs::path(dir) / kFileName;
  if (!fs::exists(path, ec)) {
    if (!create) return Status::not_found(dir + ": no automation rules here (add one with `pocketmind automation add --db " + dir + "`)");
    fs::create_directories(dir, ec);
    if (ec) return Status::io_error(dir + ": cannot create the directory: " + ec.message());
  } else if (fs::is_directory(path, ec)) {
    return Status::invalid_argument(path.string() + ": is a directory");
  }
  std::unique_ptr<RuleStore> s(new RuleStore());
  s->path_ = path.string();
  const int flags = SQLITE_OPEN_READWRITE | SQLITE_OPEN_FULLMUTEX | (create ? SQLITE_OPEN_CREATE : 0);
  PM_ASSIGN_OR_RETURN(s->file_, store::SideDb::open(s->path_, flags, key));
  s->db_ = s->file_->handle();
  sqlite3_busy_timeout(s->db_, 10000);
  PM_RETURN_IF_ERROR(s->exec("PRAGMA journal_mode=WAL; PRAGMA synchronous=FULL; PRAGMA foreign_keys=ON;")
                         .with_context("not an automation database (or damaged)"));
  PM_RETURN_IF_ERROR(s->migrate());
  return s;
}

RuleStore::~RuleStore() = default;  // file_ closes the connection

Status RuleStore::migrate() {
  PM_RETURN_IF_ERROR(exec("BEGIN IMMEDIATE"));
  Status st = [&]() -> Status {
    PM_RETURN_IF_ERROR(exec("CREATE TABLE IF NOT EXISTS schema_version(version INTEGER NOT NULL)"));
    int version = 0;
    {
      Stmt q(db_, "SELECT max(version) FROM schema_version");
      if (!q.ok()) return error("reading the schema version");
      if (q.step() == SQLITE_ROW) version = (int)q.i64(0);
    }
    if (version > kSchemaVersion)
      return Status::unsupported(path_ + ": schema version " + std::to_string(version) +
                                 " is newer than this pocketmind understands (" + std::to_string(kSchemaVersion) + ")");
    if (version < 1) {
      PM_RETURN_IF_ERROR(exec(
          "CREATE TABLE rules(seq INTEGER PRIMARY KEY AUTOINCREMENT, id TEXT NOT NULL UNIQUE, json TEXT NOT NULL,"
          " enabled INTEGER NOT NULL DEFAULT 1, created_s INTEGER NOT NULL);"
          "CREATE TABLE progress(rule_id TEXT PRIMARY KEY, last_processed_s INTEGER NOT NULL);"
          "CREATE TABLE runs(id INTEGER PRIMARY KEY, rule_id TEXT NOT NULL, trigger TEXT NOT NULL,"
          " scheduled_s INTEGER, started_s INTEGER NOT NULL, finished_s INTEGER, status TEXT NOT NULL,"
          " detail TEXT NOT NULL DEFAULT '');"
          "CREATE INDEX runs_by_rule ON runs(rule_id, id);"
          "CREATE TABLE device_state(id INTEGER PRIMARY KEY CHECK(id = 1), json TEXT NOT NULL);"
          "INSERT INTO schema_version(version) VALUES (1);"));
    }
    if (version < 2) {
      PM_RETURN_IF_ERROR(exec(
          "CREATE TABLE tools(name TEXT PRIMARY KEY, description TEXT NOT NULL, schema TEXT NOT NULL,"
          " owner TEXT NOT NULL DEFAULT '', created_s INTEGER NOT NULL);"
          "INSERT INTO schema_version(version) VALUES (2);"));
    }
    return Status::ok();
  }();
  if (!st.is_ok()) {
    (void)exec("ROLLBACK");
    return st;
  }
  return exec("COMMIT");
}

Result<std::vector<std::string>> RuleStore::add(const std::vector<std::string>& rule_json, int64_t created_s) {
  std::lock_guard<std::recursive_mutex> l(mu_);
  PM_RETURN_IF_ERROR(exec("BEGIN IMMEDIATE"));
  std::vector<std::string> ids;
  for (const std::string& j : rule_json) {
    // The id comes from the AUTOINCREMENT sequence, which never hands out a number twice.
    Stmt ins(db_, "INSERT INTO rules(id, json, enabled, created_s) VALUES ('pending', ?1, 1, ?2)");
    ins.bind(1, j);
    ins.bind(2, created_s);
    if (!ins.ok() || ins.step() != SQLITE_DONE) {
      Status e = error("saving a rule");
      (void)exec("ROLLBACK");
      return e;
    }
    std::string id = "r";
    id += std::to_string(sqlite3_last_insert_rowid(db_));
    Stmt upd(db_, "UPDATE rules SET id = ?1 WHERE seq = ?2");
    upd.bind(1, id);
    upd.bind(2, (int64_t)sqlite3_last_insert_rowid(db_));
    Stmt prog(db_, "INSERT OR REPLACE INTO progress(rule_id, last_processed_s) VALUES (?1, ?2)");
    prog.bind(1, id);
    prog.bind(2, created_s);
    if (upd.step() != SQLITE_DONE || prog.step() != SQLITE_DONE) {
      Status e = error("saving a rule");
      (void)exec("ROLLBACK");
      return e;
    }
    ids.push_back(id);
  }
  PM_RETURN_IF_ERROR(exec("COMMIT"));
  return ids;
}

Result<std::vector<StoredRule>> RuleStore::list() {
  std::lock_guard<std::recursive_mutex> l(mu_);
  Stmt q(db_, "SELECT id, json, enabled, created_s FROM rules ORDER BY seq");
  if (!q.ok()) return error("listing rules");
  std::vector<StoredRule> out;
  int rc;
  while ((rc = q.step()) == SQLITE_ROW) out.push_back({q.text(0), q.text(1), q.i64(2) != 0, q.i64(3)});
  if (rc != SQLITE_DONE) return error("listing rules");
  return out;
}

Result<StoredRule> RuleStore::get(const std::string& id) {
  std::lock_guard<std::recursive_mutex> l(mu_);
  Stmt q(db_, "SELECT id, json, enabled, created_s FROM rules WHERE id = ?1");
  q.bind(1, id);
  if (q.step() != SQLITE_ROW) return Status::not_found("no rule with id '" + id + "'");
  return StoredRule{q.text(0), q.text(1), q.i64(2) != 0, q.i64(3)};
}

Status RuleStore::remove(const std::string& id) {
  std::lock_guard<std::recursive_mutex> l(mu_);
  PM_RETURN_IF_ERROR(exec("BEGIN IMMEDIATE"));
  Stmt d(db_, "DELETE FROM rules WHERE id = ?1");
  d.bind(1, id);
  d.step();
  const int n = sqlite3_changes(db_);
  Stmt p(db_, "DELETE FROM progress WHERE rule_id = ?1");
  p.bind(1, id);
  p.step();
  PM_RETURN_IF_ERROR(exec("COMMIT"));
  if (n == 0) return Status::not_found("no rule with id '" + id + "'");
  return Status::ok();
}

Status RuleStore::set_enabled(const std::string& id, bool enabled) {
  std::lock_guard<std::recursive_mutex> l(mu_);
  Stmt u(db_, "UPDATE rules SET enabled = ?1 WHERE id = ?2");
  u.bind(1, (int64_t)(enabled ? 1 : 0));
  u.bind(2, id);
  if (u.step() != SQLITE_DONE) return error("updating a rule");
  if (sqlite3_changes(db_) == 0) return Status::not_found("no rule with id '" + id + "'");
  return Status::ok();
}

Result<std::optional<int64_t>> RuleStore::last_processed(const std::string& rule_id) {
  std::lock_guard<std::recursive_mutex> l(mu_);
  Stmt q(db_, "SELECT last_processed_s FROM progress WHERE rule_id = ?1");
  q.bind(1, rule_id);
  const int rc = q.step();
  if (rc == SQLITE_ROW) return std::optional<int64_t>(q.i64(0));
  if (rc == SQLITE_DONE) return std::optional<int64_t>();
  return error("reading progress");
}

Status RuleStore::advance_progress(const std::string& rule_id, int64_t processed_up_to) {
  std::lock_guard<std::recursive_mutex> l(mu_);
  Stmt p(db_, "INSERT INTO progress(rule_id, last_processed_s) VALUES (?1, ?2) ON CONFLICT(rule_id) DO UPDATE"
              " SET last_processed_s = max(last_processed_s, excluded.last_processed_s)");
  p.bind(1, rule_id);
  p.bind(2, processed_up_to);
  if (p.step() != SQLITE_DONE) return error("saving progress");
  return Status::ok();
}

Status RuleStore::insert_run(const RunRecord& r) {
  Stmt ins(db_, "INSERT INTO runs(rule_id, trigger, scheduled_s, started_s, finished_s, status, detail)"
                " VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)");
  ins.bind(1, r.rule_id);
  ins.bind(2, r.trigger);
  ins.bind(3, r.scheduled_s);
  ins.bind(4, r.started_s);
  ins.bind(5, r.finished_s);
  ins.bind(6, r.status);
  ins.bind(7, r.detail);
  if (ins.step() != SQLITE_DONE) return error("recording a run");
  return Status::ok();
}

Result<int64_t> RuleStore::record_run(const RunRecord& r, std::optional<int64_t> processed_up_to) {
  std::lock_guard<std::recursive_mutex> l(mu_);
  PM_RETURN_IF_ERROR(exec("BEGIN IMMEDIATE"));
  if (Status e = insert_run(r); !e.is_ok()) {
    (void)exec("ROLLBACK");
    return e;
  }
  const int64_t id = sqlite3_last_insert_rowid(db_);
  if (processed_up_to) {
    Status st = advance_progress(r.rule_id, *processed_up_to);
    if (!st.is_ok()) {
      (void)exec("ROLLBACK");
      return st;
    }
  }
  PM_RETURN_IF_ERROR(exec("COMMIT"));
  return id;
}

Status RuleStore::record_runs(const std::vector<RunRecord>& runs, int64_t processed_up_to) {
  std::lock_guard<std::recursive_mutex> l(mu_);
  if (runs.empty()) return Status::ok();
  PM_RETURN_IF_ERROR(exec("BEGIN IMMEDIATE"));
  Status st = [&]() -> Status {
    for (const RunRecord& r : runs) {
      PM_RETURN_IF_ERROR(insert_run(r));
    }
    return advance_progress(runs.front().rule_id, processed_up_to);
  }();
  if (!st.is_ok()) {
    (void)exec("ROLLBACK");
    return st;
  }
  return exec("COMMIT");
}

Status RuleStore::finish_run(int64_t run_id, int64_t finished_s, const std::string& status, const std::string& detail) {
  std::lock_guard<std::recursive_mutex> l(mu_);
  Stmt u(db_, "UPDATE runs SET finished_s = ?1, status = ?2, detail = ?3 WHERE id = ?4");
  u.bind(1, finished_s);
  u.bind(2, status);
  u.bind(3, detail);
  u.bind(4, run_id);
  if (u.step() != SQLITE_DONE) return error("recording a run's end");
  return Status::ok();
}

Result<int64_t> RuleStore::mark_interrupted(int64_t now_s) {
  std::lock_guard<std::recursive_mutex> l(mu_);
  Stmt u(db_, "UPDATE runs SET status = 'interrupted', finished_s = ?1,"
              " detail = 'the process stopped while this run was in progress' WHERE status IN ('running', 'queued')");
  u.bind(1, now_s);
  if (u.step() != SQLITE_DONE) return error("marking interrupted runs");
  return (int64_t)sqlite3_changes(db_);
}

Result<RunRecord> RuleStore::run(int64_t run_id) {
  std::lock_guard<std::recursive_mutex> l(mu_);
  Stmt q(db_, "SELECT id, rule_id, trigger, scheduled_s, started_s, finished_s, status, detail FROM runs WHERE id = ?1");
  q.bind(1, run_id);
  if (q.step() != SQLITE_ROW) return Status::not_found("no run with id " + std::to_string(run_id));
  RunRecord r;
  r.id = q.i64(0);
  r.rule_id = q.text(1);
  r.trigger = q.text(2);
  r.scheduled_s = q.opt(3);
  r.started_s = q.i64(4);
  r.finished_s = q.opt(5);
  r.status = q.text(6);
  r.detail = q.text(7);
  return r;
}

Result<std::vector<RunRecord>> RuleStore::history(const std::string& rule_id, int64_t limit) {
  std::lock_guard<std::recursive_mutex> l(mu_);
  Stmt q(db_, "SELECT id, rule_id, trigger, scheduled_s, started_s, finished_s, status, detail FROM runs"
              " WHERE (?1 = '' OR rule_id = ?1) ORDER BY id LIMIT ?2");
  q.bind(1, rule_id);
  q.bind(2, limit);
  std::vector<RunRecord> out;
  int rc;
  while ((rc = q.step()) == SQLITE_ROW) {
    RunRecord r;
    r.id = q.i64(0);
    r.rule_id = q.text(1);
    r.trigger = q.text(2);
    r.scheduled_s = q.opt(3);
    r.started_s = q.i64(4);
    r.finished_s = q.opt(5);
    r.status = q.text(6);
    r.detail = q.text(7);
    out.push_back(std::move(r));
  }
  if (rc != SQLITE_DONE) return error("reading history");
  return out;
}

Status RuleStore::add_tool(const StoredTool& tool) {
  std::lock_guard<std::recursive_mutex> l(mu_);
  Stmt ins(db_, "INSERT INTO tools(name, description, schema, owner, created_s) VALUES (?1, ?2, ?3, ?4, ?5)");
  ins.bind(1, tool.name);
  ins.bind(2, tool.description);
  ins.bind(3, tool.schema_json);
  ins.bind(4, tool.owner);
  ins.bind(5, tool.created_s);
  const int rc = ins.step();
  if (rc == SQLITE_CONSTRAINT) return Status::invalid_argument("tool \"" + tool.name + "\" is already registered");
  if (rc != SQLITE_DONE) return error("saving a tool");
  return Status::ok();
}

Result<std::vector<StoredTool>> RuleStore::list_tools() {
  std::lock_guard<std::recursive_mutex> l(mu_);
  Stmt q(db_, "SELECT name, description, schema, owner, created_s FROM tools ORDER BY name");
  if (!q.ok()) return error("listing tools");
  std::vector<StoredTool> out;
  int rc;
  while ((rc = q.step()) == SQLITE_ROW) out.push_back({q.text(0), q.text(1), q.text(2), q.text(3), q.i64(4)});
  if (rc != SQLITE_DONE) return error("listing tools");
  return out;
}

Status RuleStore::remove_tool(const std::string& name) {
  std::lock_guard<std::recursive_mutex> l(mu_);
  Stmt d(db_, "DELETE FROM tools WHERE name = ?1");
  d.bind(1, name);
  if (d.step() != SQLITE_DONE) return error("removing a tool");
  if (sqlite3_changes(db_) == 0) return Status::not_found("no registered tool named \"" + name + "\"");
  return Status::ok();
}

Result<std::string> RuleStore::device_state_json() {
  std::lock_guard<std::recursive_mutex> l(mu_);
  Stmt q(db_, "SELECT json FROM device_state WHERE id = 1");
  if (q.step() == SQLITE_ROW) return q.text(0);
  return std::string("{}");
}

Status RuleStore::save_device_state(const std::string& json) {
  std::lock_guard<std::recursive_mutex> l(mu_);
  Stmt u(db_, "INSERT OR REPLACE INTO device_state(id, json) VALUES (1, ?1)");
  u.bind(1, json);
  if (u.step() != SQLITE_DONE) return error("saving the device state");
  return Status::ok();
}

}  // namespace pm::automation
