// SQLite databases that live beside the store in its directory (DIR/automations.sqlite of the
// automation layer, DIR/apps.sqlite of the server) and must be as private as the store itself.
//
// In an encrypted store (DIR/store.key exists) they are encrypted with the store's own page key
// and page format (store/crypto_vfs.h: AES-256-GCM per page, page size kCryptPageSize, reserve
// kCryptReserveBytes) and run in WAL mode (a rollback journal would hold plaintext pages). In a
// plain store they stay plain SQLite files, as they always were.
//
// Migration: a side database made before it was encrypted (plain SQLite, header byte 20 = 0
// reserved bytes) found in an encrypted store is converted on the first open with the key:
//   1. open the plain file (SQLite replays its WAL, if any) and an encrypted PATH.encrypting-<pid>
//   2. copy every table, index and trigger with its rows (and AUTOINCREMENT counters) in one
//      transaction, close both (SQLite checkpoints the encrypted copy), fsync it
//   3. refuse to go on if the plain file still has a non-empty -wal (another process has it open)
//   4. rename the copy over PATH (atomic), fsync DIR, remove the plain -shm / empty -wal
// A crash before 4 leaves the plain file as it was (the next open converts it again; the stale
// copy is encrypted garbage); after 4 the encrypted file is complete. The plain file's old disk
// blocks are released, not overwritten: the file system may keep them until reused.
#pragma once

#include <sqlite3.h>

#include <memory>
#include <optional>
#include <string>

#include "core/status.h"
#include "store/crypto_vfs.h"

namespace pm::store {

// The key for the side file DIR/`side_file`, by store_key_for_open's table:
//   no passphrase, no DIR/store.key        nullopt (plain)
//   no passphrase, DIR/store.key           error naming the passphrase it needs
//   passphrase, DIR/store.key              the unlocked page key, or "wrong passphrase"
//   passphrase, no DIR/store.key           error when DIR already has data (pocketmind.db or the side
//                                          file: a plain store); otherwise, with `create`, DIR becomes
//                                          an encrypted store (store.key written) and its key returned
Result<std::optional<StoreKey>> side_file_key(const std::string& dir, const std::string& passphrase,
                                              const std::string& side_file, bool create);

// What every database of an encrypted store needs before its first write: the fixed page size
// and kCryptReserveBytes reserved at the end of each page (Store and the side databases).
Status prepare_encrypted_sqlite(sqlite3* db, const std::string& what);

// True when PATH is a plain SQLite database (header magic and 0 reserved bytes per page); false
// for a missing or empty file, an encrypted one, or anything else.
bool is_plain_sqlite(const std::string& path);

// Converts a plain SQLite database at PATH into an encrypted one under `key` (see the steps above).
Status encrypt_plain_sqlite(const std::string& path, const StoreKey& key);

// An SQLite connection to a side database, with the VFS it reads through (encrypted stores). The
// connection is closed before the VFS is destroyed.
class SideDb {
 public:
  // Opens PATH with `flags` (sqlite3_open_v2). With a key: a plain file there is converted first,
  // the connection reads through a CryptoVfs holding the key, the page format is prepared and the
  // journal mode set to WAL. Without one: a plain open, as before, except that PATH's directory
  // must not be an encrypted store (an error naming the passphrase instead).
  static Result<std::unique_ptr<SideDb>> open(const std::string& path, int flags, const std::optional<StoreKey>& key);
  ~SideDb();
  SideDb(const SideDb&) = delete;
  SideDb& operator=(const SideDb&) = delete;

  sqlite3* handle() { return db_; }
  bool encrypted() const { return vfs_ != nullptr; }

 private:
  SideDb() = default;
  std::unique_ptr<CryptoVfs> vfs_;  // outlives db_
  sqlite3* db_ = nullptr;
};

// The message for a failed SQLite call on an encrypted side database: a page that failed
// authentication reads as "wrong key or damaged" rather than SQLite's I/O error text.
std::string sqlite_error_text(sqlite3* db);

}  // namespace pm::store
