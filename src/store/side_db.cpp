#include "store/side_db.h"

#include <fcntl.h>
#include <unistd.h>

#include <cstring>
#include <filesystem>
#include <fstream>
#include <vector>

#include "store/store.h"
#include "store/store_key.h"

namespace pm::store {
namespace fs = std::filesystem;
namespace {

constexpr char kSqliteMagic[] = "SQLite format 3";  // + NUL: the first 16 bytes of every database

Status exec(sqlite3* db, const std::string& sql, const std::string& what) {
  char* msg = nullptr;
  if (sqlite3_exec(db, sql.c_str(), nullptr, nullptr, &msg) != SQLITE_OK) {
    std::string m = msg ? msg : sqlite_error_text(db);
    if (sqlite3_extended_errcode(db) == SQLITE_IOERR_DATA) m = sqlite_error_text(db);
    sqlite3_free(msg);
    return Status::io_error(what + ": " + m);
  }
  return Status::ok();
}

Status fsync_path(const std::string& path, bool directory) {
  const int fd = ::open(path.c_str(), (directory ? O_DIRECTORY : 0) | O_RDONLY | O_CLOEXEC);
  if (fd < 0) return Status::io_error(path + ": cannot open to sync: " + std::strerror(errno));
  const int rc = ::fsync(fd);
  const int err = errno;
  ::close(fd);
  if (rc != 0) return Status::io_error(path + ": fsync failed: " + std::strerror(err));
  return Status::ok();
}

// A file: URI for PATH read through the VFS named `vfs` (%, ?, # escaped, as RFC 3986 wants).
std::string file_uri(const std::string& path, const std::string& vfs) {
  std::string uri = "file:";
  for (char c : path) {
    if (c == '%' || c == '?' || c == '#') {
      static const char* hex = "0123456789ABCDEF";
      uri += '%';
      uri += hex[uint8_t(c) >> 4];
      uri += hex[uint8_t(c) & 15];
    } else {
      uri += c;
    }
  }
  return uri + "?vfs=" + vfs;
}

std::string quote_sql(const std::string& s, char q) {
  std::string out(1, q);
  for (char c : s) {
    out += c;
    if (c == q) out += q;
  }
  return out + q;
}

// Copies every schema object and row of the attached `plain` database into main (both open on db).
Status copy_attached(sqlite3* db, const std::string& what) {
  struct Object {
    std::string type, name, sql;
  };
  std::vector<Object> objects;
  sqlite3_stmt* st = nullptr;
  if (sqlite3_prepare_v2(db,
                         "SELECT type, name, sql FROM plain.sqlite_master WHERE sql IS NOT NULL "
                         "AND name NOT LIKE 'sqlite_%' ORDER BY type = 'table' DESC, rowid",
                         -1, &st, nullptr) != SQLITE_OK)
    return Status::io_error(what + ": reading the schema: " + sqlite_error_text(db));
  int rc;
  while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
    Object o;
    o.type = reinterpret_cast<const char*>(sqlite3_column_text(st, 0));
    o.name = reinterpret_cast<const char*>(sqlite3_column_text(st, 1));
    o.sql = reinterpret_cast<const char*>(sqlite3_column_text(st, 2));
    objects.push_back(std::move(o));
  }
  sqlite3_finalize(st);
  if (rc != SQLITE_DONE) return Status::io_error(what + ": reading the schema: " + sqlite_error_text(db));
  bool has_sequence = false;
  if (sqlite3_prepare_v2(db, "SELECT 1 FROM plain.sqlite_master WHERE name = 'sqlite_sequence'", -1, &st, nullptr) ==
      SQLITE_OK) {
    has_sequence = sqlite3_step(st) == SQLITE_ROW;
    sqlite3_finalize(st);
  }
  PM_RETURN_IF_ERROR(exec(db, "BEGIN IMMEDIATE", what));
  Status s = [&]() -> Status {
    // Tables first (with their rows), then indexes, triggers and views: triggers must not fire on the copy.
    for (const Object& o : objects) {
      PM_RETURN_IF_ERROR(exec(db, o.sql, what + ": creating " + o.type + " " + o.name));
      if (o.type == "table")
        PM_RETURN_IF_ERROR(
            exec(db, "INSERT INTO main." + quote_sql(o.name, '"') + " SELECT * FROM plain." + quote_sql(o.name, '"'),
                 what + ": copying table " + o.name));
    }
    // AUTOINCREMENT counters (ids are never reused, even those of deleted rows).
    if (has_sequence)
      PM_RETURN_IF_ERROR(exec(db,
                              "DELETE FROM main.sqlite_sequence; "
                              "INSERT INTO main.sqlite_sequence(name, seq) SELECT name, seq FROM plain.sqlite_sequence",
                              what + ": copying the AUTOINCREMENT counters"));
    return Status::ok();
  }();
  if (!s.is_ok()) {
    (void)exec(db, "ROLLBACK", what);
    return s;
  }
  return exec(db, "COMMIT", what);
}

}  // namespace

std::string sqlite_error_text(sqlite3* db) {
  if (db == nullptr) return "no database";
  if (sqlite3_extended_errcode(db) == SQLITE_IOERR_DATA)
    return "wrong passphrase or damaged file (a page failed authentication)";
  return sqlite3_errmsg(db);
}

Result<std::optional<StoreKey>> side_file_key(const std::string& dir, const std::string& passphrase,
                                              const std::string& side_file, bool create) {
  std::error_code ec;
  const bool has_data = fs::exists(fs::path(dir) / kDatabaseFile, ec) || fs::exists(fs::path(dir) / side_file, ec);
  if (create && !passphrase.empty() && !fs::exists(fs::path(dir) / kStoreKeyFile, ec)) {
    fs::create_directories(dir, ec);
    if (ec) return Status::io_error(dir + ": cannot create the directory: " + ec.message());
  }
  return store_key_for_open(dir, passphrase, has_data, create);
}

Status prepare_encrypted_sqlite(sqlite3* db, const std::string& what) {
  const std::string page_size = "PRAGMA page_size=" + std::to_string(kCryptPageSize);
  PM_RETURN_IF_ERROR(exec(db, page_size, what));
  int reserve = kCryptReserveBytes;
  if (sqlite3_file_control(db, "main", SQLITE_FCNTL_RESERVE_BYTES, &reserve) != SQLITE_OK)
    return Status::io_error(what + ": reserving page bytes for encryption: " + sqlite_error_text(db));
  return Status::ok();
}

bool is_plain_sqlite(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return false;
  char header[100];
  if (!in.read(header, sizeof header)) return false;
  return std::memcmp(header, kSqliteMagic, sizeof kSqliteMagic) == 0 && header[20] == 0;
}

Status encrypt_plain_sqlite(const std::string& path, const StoreKey& key) {
  const std::string what = path + ": encrypting (it was written before the store was encrypted)";
  const std::string tmp = path + ".encrypting-" + std::to_string(::getpid());
  std::error_code ec;
  for (const char* suffix : {"", "-wal", "-shm", "-journal"}) fs::remove(tmp + suffix, ec);
  {
    PM_ASSIGN_OR_RETURN(std::unique_ptr<CryptoVfs> vfs, CryptoVfs::create(key));
    sqlite3* db = nullptr;
    Status s = [&]() -> Status {
      if (sqlite3_open_v2(tmp.c_str(), &db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_URI,
                          vfs->name().c_str()) != SQLITE_OK)
        return Status::io_error(what + ": cannot create " + tmp + ": " + sqlite_error_text(db));
      sqlite3_extended_result_codes(db, 1);
      PM_RETURN_IF_ERROR(prepare_encrypted_sqlite(db, what));
      PM_RETURN_IF_ERROR(exec(db, "PRAGMA journal_mode=WAL; PRAGMA synchronous=FULL", what));
      PM_RETURN_IF_ERROR(
          exec(db, "ATTACH " + quote_sql(file_uri(path, sqlite3_vfs_find(nullptr)->zName), '\'') + " AS plain",
               what + ": opening the plain file"));
      PM_RETURN_IF_ERROR(copy_attached(db, what));
      return exec(db, "DETACH plain", what);
    }();
    // Closing the last connection checkpoints the copy's WAL into it (synchronous=FULL: synced).
    if (db != nullptr && sqlite3_close(db) != SQLITE_OK && s.is_ok())
      s = Status::io_error(what + ": closing the copy: " + sqlite_error_text(db));
    if (!s.is_ok()) {
      for (const char* suffix : {"", "-wal", "-shm"}) fs::remove(tmp + suffix, ec);
      return s;
    }
  }
  PM_RETURN_IF_ERROR(fsync_path(tmp, false));
  if (fs::exists(path + "-wal", ec) && fs::file_size(path + "-wal", ec) > 0) {
    fs::remove(tmp, ec);
    return Status::io_error(what + ": another process has it open (its -wal is not empty); stop it and retry");
  }
  if (::rename(tmp.c_str(), path.c_str()) != 0) {
    const std::string err = std::strerror(errno);
    fs::remove(tmp, ec);
    return Status::io_error(what + ": cannot rename " + tmp + " over it: " + err);
  }
  const std::string dir = fs::path(path).parent_path().string();
  PM_RETURN_IF_ERROR(fsync_path(dir.empty() ? "." : dir, true));
  fs::remove(path + "-wal", ec);  // empty (checked above); the -shm indexes the plain file's WAL
  fs::remove(path + "-shm", ec);
  return Status::ok();
}

Result<std::unique_ptr<SideDb>> SideDb::open(const std::string& path, int flags, const std::optional<StoreKey>& key) {
  std::unique_ptr<SideDb> d(new SideDb());
  std::error_code ec;
  const fs::path dir = fs::path(path).parent_path();
  if (!key && fs::exists(dir / kStoreKeyFile, ec))  // never a plaintext file beside an encrypted store
    return Status::invalid_argument(dir.string() + ": this store is encrypted (" + kStoreKeyFile +
                                    "): " + fs::path(path).filename().string() +
                                    " is opened with its passphrase (POCKETMIND_PASSPHRASE or --passphrase-file FILE)");
  if (key) {
    if (is_plain_sqlite(path)) PM_RETURN_IF_ERROR(encrypt_plain_sqlite(path, *key));
    PM_ASSIGN_OR_RETURN(d->vfs_, CryptoVfs::create(*key));
  }
  if (sqlite3_open_v2(path.c_str(), &d->db_, flags, d->vfs_ ? d->vfs_->name().c_str() : nullptr) != SQLITE_OK)
    return Status::io_error(path + ": cannot open: " + sqlite_error_text(d->db_));
  if (d->vfs_) {
    sqlite3_extended_result_codes(d->db_, 1);
    PM_RETURN_IF_ERROR(prepare_encrypted_sqlite(d->db_, path));
    // WAL: a rollback journal would hold plaintext copies of pages (the VFS passes it through).
    PM_RETURN_IF_ERROR(
        exec(d->db_, "PRAGMA journal_mode=WAL", path).with_context("not a database of this store (or damaged)"));
  }
  return d;
}

SideDb::~SideDb() {
  if (db_ != nullptr) sqlite3_close_v2(db_);
}

}  // namespace pm::store
