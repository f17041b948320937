#include "store/store.h"

#include <filesystem>

#include "core/hash.h"
#include "store/fts_rank.h"
#include "store/fts_tokenizer.h"
#include "store/side_db.h"
#include "store/store_key.h"

namespace pm::store {
namespace {

// Versioned schema: kMigrations[v] takes a store from version v to v + 1. Never edit a
// released step; append a new one.
const char* const kMigrations[] = {
    // 0 -> 1: records, people, full-text index.
    R"sql(
CREATE TABLE records(
  rid INTEGER PRIMARY KEY,
  id TEXT NOT NULL UNIQUE,
  source TEXT NOT NULL,
  time INTEGER NOT NULL,        -- Unix seconds
  t_begin INTEGER NOT NULL,     -- when it happened, for time filters: start, else time
  t_end INTEGER NOT NULL,       -- end, else t_begin
  sender TEXT,
  people TEXT NOT NULL,         -- US (0x1f) + each folded sender / recipient (contact: own) name + US
  title TEXT,
  text TEXT,
  location TEXT,
  json TEXT NOT NULL,           -- the whole record (record_to_json)
  content_hash INTEGER NOT NULL,
  origin TEXT NOT NULL          -- the file it was ingested from
);
CREATE INDEX records_t_begin ON records(t_begin);
CREATE INDEX records_source_t_begin ON records(source, t_begin);
CREATE TABLE people(name TEXT PRIMARY KEY) WITHOUT ROWID;
CREATE VIRTUAL TABLE records_fts USING fts5(
  title, text, sender, location, content='records', content_rowid='rid', tokenize='pm');
INSERT INTO records_fts(records_fts, rank) VALUES('rank', 'bm25(2.0, 1.0, 1.5, 1.0)');
CREATE TRIGGER records_ai AFTER INSERT ON records BEGIN
  INSERT INTO records_fts(rowid, title, text, sender, location)
    VALUES (new.rid, new.title, new.text, new.sender, new.location);
END;
CREATE TRIGGER records_ad AFTER DELETE ON records BEGIN
  INSERT INTO records_fts(records_fts, rowid, title, text, sender, location)
    VALUES ('delete', old.rid, old.title, old.text, old.sender, old.location);
END;
CREATE TRIGGER records_au AFTER UPDATE ON records BEGIN
  INSERT INTO records_fts(records_fts, rowid, title, text, sender, location)
    VALUES ('delete', old.rid, old.title, old.text, old.sender, old.location);
  INSERT INTO records_fts(rowid, title, text, sender, location)
    VALUES (new.rid, new.title, new.text, new.sender, new.location);
END;
)sql",
    // 1 -> 2: embeddings (the vectors' source of truth; store/embeddings.h) and store settings.
    R"sql(
CREATE TABLE config(key TEXT PRIMARY KEY, value TEXT NOT NULL) WITHOUT ROWID;
INSERT INTO config(key, value) VALUES('vector_generation', '0');
CREATE TABLE embeddings(
  eid INTEGER PRIMARY KEY AUTOINCREMENT,  -- never reused: the vector index's key
  rid INTEGER NOT NULL UNIQUE,            -- records.rid
  model TEXT NOT NULL,                    -- identity of the model that made it
  vec BLOB NOT NULL                       -- dim x float32 (little-endian), L2-normalized
);
CREATE TRIGGER records_ad_embd AFTER DELETE ON records BEGIN
  DELETE FROM embeddings WHERE rid = old.rid;
END;
CREATE TRIGGER records_au_embd AFTER UPDATE OF title, text, location, sender ON records BEGIN
  DELETE FROM embeddings WHERE rid = old.rid;
END;
CREATE TRIGGER embeddings_ai AFTER INSERT ON embeddings BEGIN
  UPDATE config SET value = CAST(value AS INTEGER) + 1 WHERE key = 'vector_generation';
END;
CREATE TRIGGER embeddings_ad AFTER DELETE ON embeddings BEGIN
  UPDATE config SET value = CAST(value AS INTEGER) + 1 WHERE key = 'vector_generation';
END;
)sql",
};
constexpr int kNumMigrations = int(sizeof kMigrations / sizeof kMigrations[0]);
static_assert(kNumMigrations == kSchemaVersion);

enum Slot { kSelectById, kInsert, kUpdate, kDeleteById, kInsertPerson, kCount, kContains, kGet, kNumSlots };

constexpr char kUnitSep = '\x1f';

}  // namespace

std::string fold_name(std::string_view name) {
  std::string s(name);
  for (char& c : s)
    if (c >= 'A' && c <= 'Z') c = char(c + 32);
  return s;
}

Store::~Store() {
  for (sqlite3_stmt* s : stmts_) sqlite3_finalize(s);
  if (db_) sqlite3_close_v2(db_);
}

Status Store::error(const std::string& what) const {
  if (db_ && sqlite3_extended_errcode(db_) == SQLITE_IOERR_DATA)  // a page failed authentication
    return Status::corrupt(dir_ + ": " + what + ": wrong passphrase or damaged store (a page failed authentication)");
  return Status::io_error(dir_ + ": " + what + ": " + (db_ ? sqlite3_errmsg(db_) : "no database"));
}

Status Store::exec(const char* sql) {
  char* msg = nullptr;
  if (sqlite3_exec(db_, sql, nullptr, nullptr, &msg) != SQLITE_OK) {
    if (sqlite3_extended_errcode(db_) == SQLITE_IOERR_DATA) {
      sqlite3_free(msg);
      return error("reading the database");
    }
    Status s = Status::io_error(dir_ + ": " + (msg ? msg : sqlite3_errmsg(db_)));
    sqlite3_free(msg);
    return s;
  }
  return Status::ok();
}

Result<sqlite3_stmt*> Store::prepared(int slot, const char* sql) {
  if (stmts_.empty()) stmts_.assign(kNumSlots, nullptr);
  if (!stmts_[slot] && sqlite3_prepare_v3(db_, sql, -1, SQLITE_PREPARE_PERSISTENT, &stmts_[slot], nullptr) != SQLITE_OK)
    return error("preparing a statement");
  return stmts_[slot];
}

Result<std::unique_ptr<Store>> Store::open(const std::string& dir, const StoreOptions& options) {
  namespace fs = std::filesystem;
  std::error_code ec;
  const fs::path path = fs::path(dir) / kDatabaseFile;
  const bool database_exists = fs::exists(path, ec);
  if (!database_exists) {
    if (!options.create)
      return Status::not_found(dir + ": no store here (run `pocketmind ingest --db " + dir + "` first)");
    fs::create_directories(dir, ec);
    if (ec) return Status::io_error(dir + ": cannot create the store directory: " + ec.message());
  } else if (fs::is_directory(path, ec)) {
    return Status::invalid_argument(path.string() + ": is a directory");
  }
  std::unique_ptr<Store> s(new Store());
  s->dir_ = dir;
  // Encrypted stores: the key is checked (or the key file created) before SQLite opens anything.
  PM_ASSIGN_OR_RETURN(std::optional<StoreKey> key, store_key_for_open(dir, options.passphrase, database_exists,
                                                                      options.create));
  if (key) {
    PM_ASSIGN_OR_RETURN(s->vfs_, CryptoVfs::create(*key));
  }
  const int flags = SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOMUTEX | (options.create ? SQLITE_OPEN_CREATE : 0);
  if (sqlite3_open_v2(path.string().c_str(), &s->db_, flags, s->vfs_ ? s->vfs_->name().c_str() : nullptr) !=
      SQLITE_OK)
    return s->error("cannot open");
  sqlite3_extended_result_codes(s->db_, 1);
  if (s->vfs_) PM_RETURN_IF_ERROR(s->prepare_encrypted());
  sqlite3_busy_timeout(s->db_, 10000);
  PM_RETURN_IF_ERROR(register_fts_tokenizer(s->db_).with_context(dir));
  PM_RETURN_IF_ERROR(register_fts_rank(s->db_, 4).with_context(dir));
  // Is it a SQLite database at all? (reading the schema fails on anything else)
  // Reads go through a memory map and a 16 MiB page cache (queries touch many index pages).
  PM_RETURN_IF_ERROR(s->exec("PRAGMA journal_mode=WAL; PRAGMA synchronous=FULL; PRAGMA foreign_keys=ON; "
                             "PRAGMA mmap_size=268435456; PRAGMA cache_size=-16384; PRAGMA temp_store=MEMORY;")
                         .with_context("not a pocketmind store (or damaged)"));
  PM_RETURN_IF_ERROR(s->migrate());
  return s;
}

// Encrypted stores: the page format (store/side_db.h), set before the first write of a new database
// (an existing one keeps what it was created with; the VFS refuses a page 1 that says otherwise).
Status Store::prepare_encrypted() {
  Status s = prepare_encrypted_sqlite(db_, dir_);
  if (!s.is_ok() && sqlite3_extended_errcode(db_) == SQLITE_IOERR_DATA) return error("preparing the page format");
  return s;
}

Status Store::migrate() {
  sqlite3_stmt* st = nullptr;
  if (sqlite3_prepare_v2(db_, "PRAGMA user_version", -1, &st, nullptr) != SQLITE_OK)
    return error("reading the schema version");
  sqlite3_step(st);
  schema_version_ = sqlite3_column_int(st, 0);
  sqlite3_finalize(st);
  if (schema_version_ > kSchemaVersion)
    return Status::unsupported(dir_ + ": store schema version " + std::to_string(schema_version_) +
                               " is newer than this pocketmind understands (" + std::to_string(kSchemaVersion) + ")");
  while (schema_version_ < kSchemaVersion) {
    // Each step and its version bump commit together: a crash leaves the old or the new schema.
    PM_RETURN_IF_ERROR(exec("BEGIN IMMEDIATE"));
    // Another process may have migrated while we waited for the lock.
    sqlite3_prepare_v2(db_, "PRAGMA user_version", -1, &st, nullptr);
    sqlite3_step(st);
    const int now = sqlite3_column_int(st, 0);
    sqlite3_finalize(st);
    if (now != schema_version_) {
      schema_version_ = now;
      PM_RETURN_IF_ERROR(exec("COMMIT"));
      continue;
    }
    Status s = exec(kMigrations[schema_version_]);
    const std::string bump = "PRAGMA user_version=" + std::to_string(schema_version_ + 1);
    if (s.is_ok()) s = exec(bump.c_str());
    if (s.is_ok()) s = exec("COMMIT");
    if (!s.is_ok()) {
      (void)exec("ROLLBACK");
      return s.with_context("schema migration " + std::to_string(schema_version_) + " -> " +
                            std::to_string(schema_version_ + 1));
    }
    ++schema_version_;
  }
  return Status::ok();
}

Status Store::begin() { return exec("BEGIN IMMEDIATE"); }
Status Store::commit() { return exec("COMMIT"); }
Status Store::rollback() { return exec("ROLLBACK"); }

Result<UpsertOutcome> Store::upsert(const Record& r, const std::string& origin) {
  const nlohmann::json j = record_to_json(r);
  const std::string json_text = j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
  Fnv1a64 h;
  h.update(json_text);  // not the origin: the same record from another file is unchanged
  const int64_t hash = int64_t(h.digest() >> 1);

  PM_ASSIGN_OR_RETURN(sqlite3_stmt * sel, prepared(kSelectById, "SELECT rid, content_hash FROM records WHERE id = ?1"));
  int64_t rid = -1, old_hash = 0;
  {
    StmtReset reset{sel};
    bind_text(sel, 1, r.id);
    const int rc = sqlite3_step(sel);
    if (rc == SQLITE_ROW) {
      rid = sqlite3_column_int64(sel, 0);
      old_hash = sqlite3_column_int64(sel, 1);
    } else if (rc != SQLITE_DONE) {
      return error("looking up record " + r.id);
    }
  }
  if (rid >= 0 && old_hash == hash) return UpsertOutcome::kUnchanged;

  std::string people(1, kUnitSep);
  std::vector<std::string> names;
  if (r.sender && !r.sender->empty()) names.push_back(*r.sender);
  for (const auto& n : r.recipients)
    if (!n.empty()) names.push_back(n);
  if (r.source == "contact" && r.title && !r.title->empty()) names.push_back(*r.title);  // the contact's own name
  for (const auto& n : names) people += fold_name(n) + kUnitSep;

  const int64_t t_begin = r.start ? r.start->epoch_s : r.time.epoch_s;
  const int64_t t_end = r.end ? r.end->epoch_s : t_begin;
  sqlite3_stmt* st;
  if (rid < 0) {
    PM_ASSIGN_OR_RETURN(st, prepared(kInsert,
                                     "INSERT INTO records(id, source, time, t_begin, t_end, sender, people, "
                                     "title, text, location, json, content_hash, origin) "
                                     "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13)"));
  } else {
    PM_ASSIGN_OR_RETURN(st, prepared(kUpdate,
                                     "UPDATE records SET id = ?1, source = ?2, time = ?3, t_begin = ?4, "
                                     "t_end = ?5, sender = ?6, people = ?7, title = ?8, text = ?9, "
                                     "location = ?10, json = ?11, content_hash = ?12, origin = ?13 "
                                     "WHERE rid = ?14"));
  }
  StmtReset reset{st};
  auto bind_opt = [&](int i, const std::optional<std::string>& v) {
    if (v)
      bind_text(st, i, *v);
    else
      sqlite3_bind_null(st, i);
  };
  bind_text(st, 1, r.id);
  bind_text(st, 2, r.source);
  sqlite3_bind_int64(st, 3, r.time.epoch_s);
  sqlite3_bind_int64(st, 4, t_begin);
  sqlite3_bind_int64(st, 5, t_end);
  bind_opt(6, r.sender);
  bind_text(st, 7, people);
  bind_opt(8, r.title);
  bind_opt(9, r.text);
  bind_opt(10, r.location);
  bind_text(st, 11, json_text);
  sqlite3_bind_int64(st, 12, hash);
  bind_text(st, 13, origin);
  if (rid >= 0) sqlite3_bind_int64(st, 14, rid);
  if (sqlite3_step(st) != SQLITE_DONE) return error("writing record " + r.id);

  PM_ASSIGN_OR_RETURN(sqlite3_stmt * person, prepared(kInsertPerson, "INSERT OR IGNORE INTO people(name) VALUES (?1)"));
  for (const auto& n : names) {
    StmtReset reset_person{person};
    bind_text(person, 1, n);
    if (sqlite3_step(person) != SQLITE_DONE) return error("writing people of record " + r.id);
  }
  return rid < 0 ? UpsertOutcome::kAdded : UpsertOutcome::kReplaced;
}

Status Store::rebuild_people() {
  // Names only the forgotten records mentioned must go too.
  PM_RETURN_IF_ERROR(exec("DELETE FROM people"));
  sqlite3_stmt* st = nullptr;
  if (sqlite3_prepare_v2(db_, "SELECT json FROM records", -1, &st, nullptr) != SQLITE_OK)
    return error("reading records");
  PM_ASSIGN_OR_RETURN(sqlite3_stmt * person, prepared(kInsertPerson, "INSERT OR IGNORE INTO people(name) VALUES (?1)"));
  Status status;
  while (sqlite3_step(st) == SQLITE_ROW) {
    const nlohmann::json j = nlohmann::json::parse(column_text(st, 0), nullptr, false);
    if (!j.is_object()) continue;
    std::vector<std::string> names;
    if (j.contains("sender") && j["sender"].is_string()) names.push_back(j["sender"].get<std::string>());
    if (j.contains("recipients") && j["recipients"].is_array())
      for (const auto& v : j["recipients"])
        if (v.is_string()) names.push_back(v.get<std::string>());
    if (j.value("source", "") == "contact" && j.contains("title") && j["title"].is_string())
      names.push_back(j["title"].get<std::string>());
    for (const auto& n : names) {
      if (n.empty()) continue;
      StmtReset reset{person};
      bind_text(person, 1, n);
      if (sqlite3_step(person) != SQLITE_DONE) status = error("writing people");
    }
  }
  sqlite3_finalize(st);
  return status;
}

Result<int64_t> Store::forget_id(const std::string& id) {
  PM_ASSIGN_OR_RETURN(sqlite3_stmt * st, prepared(kDeleteById, "DELETE FROM records WHERE id = ?1"));
  PM_RETURN_IF_ERROR(begin());
  {
    StmtReset reset{st};
    bind_text(st, 1, id);
    if (sqlite3_step(st) != SQLITE_DONE) {
      (void)rollback();
      return error("deleting record " + id);
    }
  }
  const int64_t n = sqlite3_changes64(db_);
  Status s = n > 0 ? rebuild_people() : Status::ok();
  if (!s.is_ok()) {
    (void)rollback();
    return s;
  }
  PM_RETURN_IF_ERROR(commit());
  return n;
}

Result<int64_t> Store::forget_source(const std::string& source) {
  if (!is_known_source(source)) return Status::invalid_argument("--source \"" + source + "\" is not a known source");
  sqlite3_stmt* st = nullptr;
  if (sqlite3_prepare_v2(db_, "DELETE FROM records WHERE source = ?1", -1, &st, nullptr) != SQLITE_OK)
    return error("preparing delete");
  PM_RETURN_IF_ERROR(begin());
  bind_text(st, 1, source);
  const int rc = sqlite3_step(st);
  sqlite3_finalize(st);
  if (rc != SQLITE_DONE) {
    (void)rollback();
    return error("deleting source " + source);
  }
  const int64_t n = sqlite3_changes64(db_);
  Status s = n > 0 ? rebuild_people() : Status::ok();
  if (!s.is_ok()) {
    (void)rollback();
    return s;
  }
  PM_RETURN_IF_ERROR(commit());
  return n;
}

Result<int64_t> Store::count() {
  PM_ASSIGN_OR_RETURN(sqlite3_stmt * st, prepared(kCount, "SELECT count(*) FROM records"));
  StmtReset reset{st};
  if (sqlite3_step(st) != SQLITE_ROW) return error("counting records");
  return int64_t(sqlite3_column_int64(st, 0));
}

Result<bool> Store::contains(const std::string& id) {
  PM_ASSIGN_OR_RETURN(sqlite3_stmt * st, prepared(kContains, "SELECT 1 FROM records WHERE id = ?1"));
  StmtReset reset{st};
  bind_text(st, 1, id);
  const int rc = sqlite3_step(st);
  if (rc != SQLITE_ROW && rc != SQLITE_DONE) return error("looking up " + id);
  return rc == SQLITE_ROW;
}

Result<nlohmann::json> Store::get(const std::string& id) {
  PM_ASSIGN_OR_RETURN(sqlite3_stmt * st, prepared(kGet, "SELECT json FROM records WHERE id = ?1"));
  StmtReset reset{st};
  bind_text(st, 1, id);
  const int rc = sqlite3_step(st);
  if (rc == SQLITE_DONE) return Status::not_found("no record with id " + id);
  if (rc != SQLITE_ROW) return error("reading " + id);
  nlohmann::json j = nlohmann::json::parse(column_text(st, 0), nullptr, false);
  if (j.is_discarded()) return Status::corrupt(dir_ + ": record " + id + ": stored JSON does not parse");
  return j;
}

Result<std::vector<std::string>> Store::people() {
  std::vector<std::string> out;
  sqlite3_stmt* st = nullptr;
  if (sqlite3_prepare_v2(db_, "SELECT name FROM people", -1, &st, nullptr) != SQLITE_OK) return error("reading people");
  while (sqlite3_step(st) == SQLITE_ROW) out.push_back(column_text(st, 0));
  sqlite3_finalize(st);
  return out;
}

Result<TextAnalyzer*> Store::analyzer() {
  if (!analyzer_) {
    PM_ASSIGN_OR_RETURN(analyzer_, TextAnalyzer::create());
  }
  return analyzer_.get();
}

Status Store::check() {
  sqlite3_stmt* st = nullptr;
  if (sqlite3_prepare_v2(db_, "PRAGMA integrity_check", -1, &st, nullptr) != SQLITE_OK) return error("integrity_check");
  std::string problems;
  int rc;
  while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
    const std::string line = column_text(st, 0);
    if (line != "ok") problems += (problems.empty() ? "" : "; ") + line;
  }
  const Status failed = rc == SQLITE_DONE ? Status::ok() : error("integrity_check");
  sqlite3_finalize(st);
  if (!failed.is_ok()) return failed;
  // Pages of an encrypted store that fail authentication show up as "error code=<SQLITE_IOERR_DATA>".
  if (!problems.empty() && problems.find("error code=" + std::to_string(SQLITE_IOERR_DATA)) != std::string::npos)
    return Status::corrupt(dir_ + ": wrong passphrase or damaged store (a page failed authentication): " + problems);
  if (!problems.empty()) return Status::corrupt(dir_ + ": integrity_check: " + problems);
  if (sqlite3_exec(db_, "INSERT INTO records_fts(records_fts) VALUES('integrity-check')", nullptr, nullptr, nullptr) !=
      SQLITE_OK) {
    if (sqlite3_extended_errcode(db_) == SQLITE_IOERR_DATA) return error("full-text index check");
    return Status::corrupt(dir_ + ": full-text index does not match the records: " + sqlite3_errmsg(db_));
  }
  return Status::ok();
}

}  // namespace pm::store
