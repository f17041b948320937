// The personal-data store: one directory per user holding a SQLite database (WAL mode) that is
// the source of truth for records, plus their full-text index (FTS5, tokenizer "pm").
//
//   DIR/pocketmind.db        records, people, FTS5 index (schema version in PRAGMA user_version)
//   DIR/pocketmind.db-wal    SQLite's write-ahead log (present while open / after a crash)
//   DIR/vectors.pmvi         vector index of the embeddings (a cache: rebuilt from the database;
//                            never written for an encrypted store, rebuilt in memory instead)
//   DIR/store.key            only in an encrypted store: salt and KDF parameters (store/store_key.h);
//                            the database and WAL pages are then AES-256-GCM (store/crypto_vfs.h)
//
// Durability: journal_mode=WAL with synchronous=FULL, so a transaction is on stable storage
// (the WAL is fsync'ed) when commit() returns — it survives a process kill and a power cut.
// A store is used from one thread; several processes may open the same directory (SQLite locks).
#pragma once

#include <sqlite3.h>

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "core/status.h"
#include "store/crypto_vfs.h"
#include "store/record.h"
#include "store/text_analyzer.h"
#include "store/vector_index.h"

namespace pm::store {

inline constexpr int kSchemaVersion = 2;
inline constexpr const char* kDatabaseFile = "pocketmind.db";

enum class UpsertOutcome { kAdded, kReplaced, kUnchanged };

struct StoreOptions {
  bool create = true;  // create DIR and the database when missing (else: kNotFound)
  // Non-empty: the store is (or, when created, becomes) encrypted at rest with a key derived
  // from this passphrase (store/store_key.h). Empty: a plain store; opening an encrypted one fails.
  std::string passphrase;
};

class Store {
 public:
  static Result<std::unique_ptr<Store>> open(const std::string& dir, const StoreOptions& options = {});
  ~Store();
  Store(const Store&) = delete;
  Store& operator=(const Store&) = delete;

  // Explicit transactions group writes (ingest commits every few hundred records).
  Status begin();
  Status commit();
  Status rollback();

  // Adds a validated record, or replaces the one with the same id (an identical one is left alone).
  // `origin` names where it came from (a file path) and is kept with it.
  Result<UpsertOutcome> upsert(const Record& r, const std::string& origin);
  // Removes records (from the table and every index); returns how many.
  Result<int64_t> forget_id(const std::string& id);
  Result<int64_t> forget_source(const std::string& source);

  Result<int64_t> count();
  Result<bool> contains(const std::string& id);
  // The stored record as JSON (record_to_json), or kNotFound.
  Result<nlohmann::json> get(const std::string& id);
  // Names seen as sender or recipient, as written in the records.
  Result<std::vector<std::string>> people();

  // The vector index of the configured embedding model, in step with the embeddings table:
  // loaded from DIR/vectors.pmvi, brought up to date (or rebuilt when missing, damaged or
  // for another model) and saved back when it changed. nullptr when no model is configured.
  // (store/embeddings.cpp)
  Result<VectorIndex*> vector_index();
  // Why the index file was rebuilt on the last vector_index() call ("" when it was not).
  const std::string& vector_index_note() const { return vector_note_; }

  // PRAGMA integrity_check plus FTS5's own consistency check of the index against the records.
  Status check();
  int schema_version() const { return schema_version_; }
  const std::string& dir() const { return dir_; }
  bool encrypted() const { return vfs_ != nullptr; }
  // An encrypted store's page key (held once, by its VFS), for the side files of dir() that share
  // it (automations.sqlite, ...); nullptr for a plain store. Never log or persist it.
  const StoreKey* page_key() const { return vfs_ ? &vfs_->key() : nullptr; }

  sqlite3* handle() { return db_; }  // for search.cpp (same layer)
  // The analyzer queries are turned into terms with (created on first use).
  Result<TextAnalyzer*> analyzer();

 private:
  Store() = default;
  Status migrate();
  Status prepare_encrypted();
  Status exec(const char* sql);
  Status error(const std::string& what) const;
  Result<sqlite3_stmt*> prepared(int slot, const char* sql);
  Status rebuild_people();

  std::unique_ptr<CryptoVfs> vfs_;  // encrypted stores; outlives db_ (closed in ~Store first)
  sqlite3* db_ = nullptr;
  std::string dir_;
  int schema_version_ = 0;
  std::vector<sqlite3_stmt*> stmts_;  // cached statements by slot
  std::unique_ptr<TextAnalyzer> analyzer_;
  std::unique_ptr<VectorIndex> vectors_;
  std::string vector_note_;
};

// RAII statement reset + binding helpers shared with search.cpp.
struct StmtReset {
  sqlite3_stmt* s;
  ~StmtReset() {
    sqlite3_reset(s);
    sqlite3_clear_bindings(s);
  }
};
inline void bind_text(sqlite3_stmt* s, int i, const std::string& v) {
  sqlite3_bind_text(s, i, v.data(), int(v.size()), SQLITE_TRANSIENT);
}
inline std::string column_text(sqlite3_stmt* s, int i) {
  const auto* p = reinterpret_cast<const char*>(sqlite3_column_text(s, i));
  return p ? std::string(p, size_t(sqlite3_column_bytes(s, i))) : std::string();
}

// Case-folds ASCII letters (names are matched case-insensitively: "alice" finds "Alice").
std::string fold_name(std::string_view name);

}  // namespace pm::store
