// The databases beside an encrypted store (store/side_db.h): they hold no plaintext on disk, need
// the store's passphrase, and a plain one made before the store was encrypted is converted
// without losing a row (nor an AUTOINCREMENT counter), and not at all while another connection
// still has it open.
#include "store/side_db.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <sstream>

#include "store/store_key.h"
#include "test_util.h"

namespace pm::store {
namespace {

namespace fs = std::filesystem;

const char* const kSidePass = "side files 口令";
const char* const kSecret = "SIDE-SECRET-生日是五月";

// Every file of the database (main, -wal) that exists.
bool on_disk(const std::string& path, const std::string& needle) {
  for (const char* suffix : {"", "-wal", "-journal"})
    if (test::read_text(path + suffix).find(needle) != std::string::npos) return true;
  return false;
}

void exec_ok(sqlite3* db, const std::string& sql) {
  char* msg = nullptr;
  ASSERT_EQ(sqlite3_exec(db, sql.c_str(), nullptr, nullptr, &msg), SQLITE_OK) << (msg ? msg : "") << " in " << sql;
}

std::vector<std::string> column(sqlite3* db, const std::string& sql) {
  std::vector<std::string> out;
  sqlite3_stmt* st = nullptr;
  EXPECT_EQ(sqlite3_prepare_v2(db, sql.c_str(), -1, &st, nullptr), SQLITE_OK) << sqlite3_errmsg(db);
  while (sqlite3_step(st) == SQLITE_ROW) {
    const unsigned char* t = sqlite3_column_text(st, 0);
    out.push_back(t ? reinterpret_cast<const char*>(t) : "");
  }
  sqlite3_finalize(st);
  return out;
}

StoreKey make_encrypted_dir(const std::string& dir) { return test::make_encrypted_store(dir, kSidePass); }

TEST(CryptSideDb, EncryptedSideDatabaseHoldsNoPlaintextAndReopensWithTheKey) {
  const std::string dir = test::temp_dir();
  const StoreKey key = make_encrypted_dir(dir);
  const std::string path = dir + "/side.sqlite";
  {
    Result<std::unique_ptr<SideDb>> d = SideDb::open(path, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE, key);
    ASSERT_TRUE(d.is_ok()) << d.status().message();
    EXPECT_TRUE((*d)->encrypted());
    exec_ok((*d)->handle(), "CREATE TABLE t(x TEXT)");
    exec_ok((*d)->handle(), std::string("INSERT INTO t VALUES('") + kSecret + "')");
    EXPECT_EQ(column((*d)->handle(), "PRAGMA journal_mode")[0], "wal");
    EXPECT_FALSE(on_disk(path, kSecret));  // also while open (the WAL holds the page)
  }
  EXPECT_FALSE(on_disk(path, kSecret));
  EXPECT_FALSE(is_plain_sqlite(path));
  // The key comes from the passphrase, as every caller gets it.
  Result<std::optional<StoreKey>> k = side_file_key(dir, kSidePass, "side.sqlite", false);
  ASSERT_TRUE(k.is_ok()) << k.status().message();
  ASSERT_TRUE(k->has_value());
  Result<std::unique_ptr<SideDb>> d = SideDb::open(path, SQLITE_OPEN_READWRITE, **k);
  ASSERT_TRUE(d.is_ok()) << d.status().message();
  EXPECT_EQ(column((*d)->handle(), "SELECT x FROM t"), std::vector<std::string>{kSecret});
}

TEST(CryptSideDb, WithoutTheKeyItIsRefusedAndNothingPlainIsCreated) {
  const std::string dir = test::temp_dir();
  make_encrypted_dir(dir);
  const std::string path = dir + "/side.sqlite";
  Result<std::unique_ptr<SideDb>> d = SideDb::open(path, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE, std::nullopt);
  ASSERT_FALSE(d.is_ok());
  EXPECT_NE(d.status().message().find("passphrase"), std::string::npos) << d.status().message();
  EXPECT_FALSE(fs::exists(path));

  Result<std::optional<StoreKey>> none = side_file_key(dir, "", "side.sqlite", true);
  ASSERT_FALSE(none.is_ok());
  EXPECT_NE(none.status().message().find("encrypted"), std::string::npos) << none.status().message();
  EXPECT_NE(none.status().message().find("POCKETMIND_PASSPHRASE"), std::string::npos);
  Result<std::optional<StoreKey>> wrong = side_file_key(dir, "not it", "side.sqlite", true);
  ASSERT_FALSE(wrong.is_ok());
  EXPECT_NE(wrong.status().message().find("wrong passphrase"), std::string::npos) << wrong.status().message();
}

TEST(CryptSideDb, KeyDecisionForPlainAndNewDirectories) {
  // Plain directory with data: no passphrase is plain, a passphrase is refused (not silently ignored).
  const std::string plain = test::temp_dir();
  std::ofstream(plain + "/side.sqlite") << "";
  Result<std::optional<StoreKey>> k = side_file_key(plain, "", "side.sqlite", true);
  ASSERT_TRUE(k.is_ok());
  EXPECT_FALSE(k->has_value());
  k = side_file_key(plain, kSidePass, "side.sqlite", true);
  ASSERT_FALSE(k.is_ok());
  EXPECT_NE(k.status().message().find("not encrypted"), std::string::npos) << k.status().message();
  EXPECT_FALSE(fs::exists(plain + "/store.key"));
  // A new directory given a passphrase becomes an encrypted store.
  const std::string fresh = test::temp_dir() + "/new";
  k = side_file_key(fresh, kSidePass, "side.sqlite", true);
  ASSERT_TRUE(k.is_ok()) << k.status().message();
  EXPECT_TRUE(k->has_value());
  EXPECT_TRUE(fs::exists(fresh + "/store.key"));
}

// A plain database with what a migration must keep: rows with a secret, a gap in an AUTOINCREMENT
// sequence, an index, a trigger; left in WAL mode as the automation store leaves it.
void make_plain(const std::string& path) {
  sqlite3* db = nullptr;
  ASSERT_EQ(sqlite3_open(path.c_str(), &db), SQLITE_OK);
  exec_ok(db, "PRAGMA journal_mode=WAL");
  exec_ok(db, "CREATE TABLE rules(seq INTEGER PRIMARY KEY AUTOINCREMENT, text TEXT NOT NULL)");
  exec_ok(db, "CREATE INDEX rules_text ON rules(text)");
  exec_ok(db, "CREATE TABLE audit(n INTEGER)");
  exec_ok(db, "CREATE TRIGGER rules_ai AFTER INSERT ON rules BEGIN INSERT INTO audit VALUES (new.seq); END");
  for (int i = 1; i <= 5; ++i)
    exec_ok(db, "INSERT INTO rules(text) VALUES('" + std::string(kSecret) + " " + std::to_string(i) + "')");
  exec_ok(db, "DELETE FROM rules WHERE seq = 5");  // the next id must still be 6
  sqlite3_close(db);
}

TEST(CryptSideDb, PlainDatabaseInAnEncryptedStoreIsConvertedKeepingEveryRow) {
  const std::string dir = test::temp_dir();
  const std::string path = dir + "/side.sqlite";
  make_plain(path);
  ASSERT_TRUE(is_plain_sqlite(path));
  ASSERT_TRUE(on_disk(path, kSecret));
  const StoreKey key = make_encrypted_dir(dir);
  {
    Result<std::unique_ptr<SideDb>> d = SideDb::open(path, SQLITE_OPEN_READWRITE, key);
    ASSERT_TRUE(d.is_ok()) << d.status().message();
    sqlite3* db = (*d)->handle();
    EXPECT_EQ(column(db, "SELECT seq FROM rules ORDER BY seq"), (std::vector<std::string>{"1", "2", "3", "4"}));
    EXPECT_EQ(column(db, "SELECT text FROM rules WHERE seq = 3")[0], std::string(kSecret) + " 3");
    EXPECT_EQ(column(db, "SELECT count(*) FROM audit")[0], "5");
    exec_ok(db, "INSERT INTO rules(text) VALUES('next')");
    EXPECT_EQ(column(db, "SELECT max(seq) FROM rules")[0], "6");  // AUTOINCREMENT kept
    EXPECT_EQ(column(db, "SELECT count(*) FROM audit")[0], "6");  // the trigger came along
    EXPECT_EQ(column(db, "SELECT name FROM sqlite_master WHERE type = 'index'")[0], "rules_text");
  }
  EXPECT_FALSE(is_plain_sqlite(path));
  EXPECT_FALSE(on_disk(path, kSecret));
  for (const auto& e : fs::directory_iterator(dir))  // no copy left behind
    EXPECT_EQ(e.path().filename().string().find(".encrypting"), std::string::npos) << e.path();
  // It stays converted: opened again, nothing to do, the rows are there.
  Result<std::unique_ptr<SideDb>> d = SideDb::open(path, SQLITE_OPEN_READWRITE, key);
  ASSERT_TRUE(d.is_ok()) << d.status().message();
  EXPECT_EQ(column((*d)->handle(), "SELECT count(*) FROM rules")[0], "5");
}

TEST(CryptSideDb, ConversionWaitsWhileAnotherConnectionHasThePlainFileOpen) {
  const std::string dir = test::temp_dir();
  const std::string path = dir + "/side.sqlite";
  make_plain(path);
  // Another connection (another process, for SQLite) with committed rows only in its WAL.
  sqlite3* other = nullptr;
  ASSERT_EQ(sqlite3_open(path.c_str(), &other), SQLITE_OK);
  exec_ok(other, "PRAGMA wal_autocheckpoint=0");
  exec_ok(other, "INSERT INTO rules(text) VALUES('only in the wal')");
  const StoreKey key = make_encrypted_dir(dir);
  Result<std::unique_ptr<SideDb>> d = SideDb::open(path, SQLITE_OPEN_READWRITE, key);
  ASSERT_FALSE(d.is_ok());
  EXPECT_NE(d.status().message().find("another process"), std::string::npos) << d.status().message();
  EXPECT_TRUE(is_plain_sqlite(path));  // untouched
  EXPECT_EQ(column(other, "SELECT count(*) FROM rules")[0], "5");
  sqlite3_close(other);  // the last connection checkpoints: now the conversion goes through
  d = SideDb::open(path, SQLITE_OPEN_READWRITE, key);
  ASSERT_TRUE(d.is_ok()) << d.status().message();
  EXPECT_EQ(column((*d)->handle(), "SELECT count(*) FROM rules WHERE text = 'only in the wal'")[0], "1");
}

TEST(CryptSideDb, StaleCopyOfAnInterruptedConversionDoesNotMatter) {
  const std::string dir = test::temp_dir();
  const std::string path = dir + "/side.sqlite";
  make_plain(path);
  const StoreKey key = make_encrypted_dir(dir);
  // A process killed mid-copy leaves its partial copy; the plain file is still the database.
  std::ofstream(path + ".encrypting-999999", std::ios::binary) << "SQLite format 3" << std::string(200, '\x01');
  ASSERT_TRUE(is_plain_sqlite(path));
  Result<std::unique_ptr<SideDb>> d = SideDb::open(path, SQLITE_OPEN_READWRITE, key);
  ASSERT_TRUE(d.is_ok()) << d.status().message();
  EXPECT_EQ(column((*d)->handle(), "SELECT count(*) FROM rules")[0], "4");
}

TEST(CryptSideDb, NotADatabaseIsAClearError) {
  const std::string dir = test::temp_dir();
  const StoreKey key = make_encrypted_dir(dir);
  const std::string path = dir + "/side.sqlite";
  std::ofstream(path, std::ios::binary) << std::string(8192, 'x');
  Result<std::unique_ptr<SideDb>> d = SideDb::open(path, SQLITE_OPEN_READWRITE, key);
  EXPECT_FALSE(d.is_ok());
}

}  // namespace
}  // namespace pm::store
