// Encryption at rest (store/crypto_vfs.h, store/store_key.h): what a user of an encrypted store
// relies on. Records come back after reopening with the passphrase (Chinese included); the files
// on disk never hold a record's text, not even mid-transaction; a wrong or missing passphrase is
// refused before anything is written; a damaged or moved page is reported, never read as data.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <map>
#include <nlohmann/json.hpp>
#include <sstream>

#include "store/crypto_vfs.h"
#include "store/ingest.h"
#include "store/search.h"
#include "store/store.h"
#include "store/store_key.h"
#include "test_util.h"

namespace pm::store {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;

const char* const kStorePass = "correct horse 电池 staple";
// Distinctive strings that must never appear on disk in an encrypted store.
const char* const kSecretEn = "ZEBRA-PASSWORD-8841";
const char* const kSecretZh = "银行卡密码是七三九一";

bool file_has(const std::string& path, const std::string& needle) {
  return test::read_text(path).find(needle) != std::string::npos;
}

std::string line(const std::string& id, const std::string& text, const std::string& sender = "妈妈") {
  return json{{"id", id}, {"source", "sms"}, {"time", "2026-11-20T08:15:00+08:00"}, {"sender", sender}, {"text", text}}
             .dump() +
         "\n";
}

Timestamp now_ts() {
  Result<Timestamp> t = parse_iso8601("2026-11-25T12:00:00+08:00");
  return *t;
}

std::unique_ptr<Store> open_ok(const std::string& dir, const std::string& passphrase, bool create = true) {
  StoreOptions o;
  o.passphrase = passphrase;
  o.create = create;
  Result<std::unique_ptr<Store>> st = Store::open(dir, o);
  EXPECT_TRUE(st.is_ok()) << st.status().to_string();
  return st.is_ok() ? std::move(*st) : nullptr;
}

void ingest_text(Store& st, const std::string& text) {
  IngestOptions o;
  o.now = now_ts();
  Result<IngestSummary> s = ingest_jsonl_text(st, text, "test.jsonl", o);
  ASSERT_TRUE(s.is_ok()) << s.status().to_string();
}

std::vector<std::string> hit_ids(Store& st, const std::string& query) {
  SearchOptions o;
  o.now = now_ts();
  Result<SearchResult> r = search(st, query, o);
  EXPECT_TRUE(r.is_ok()) << r.status().to_string();
  std::vector<std::string> ids;
  if (r.is_ok())
    for (const auto& h : r->hits) ids.push_back(h.id);
  return ids;
}

bool contains(const std::vector<std::string>& v, const std::string& x) {
  return std::find(v.begin(), v.end(), x) != v.end();
}

// Many records, so the database spans many pages.
std::string filler(int n) {
  std::string t;
  for (int i = 0; i < n; ++i)
    t += line(std::string("fill-").append(std::to_string(i)),
              "filler message number " + std::to_string(i) + " 周末去公园散步");
  return t;
}

std::map<std::string, std::string> snapshot(const std::string& dir) {
  std::map<std::string, std::string> m;
  for (const auto& e : fs::directory_iterator(dir)) m[e.path().filename().string()] = test::read_text(e.path().string());
  return m;
}

TEST(CryptoStore, RoundTripFindsRecordsAfterReopeningWithThePassphrase) {
  const std::string dir = test::temp_dir() + "/store";
  {
    auto st = open_ok(dir, kStorePass);
    ASSERT_TRUE(st);
    EXPECT_TRUE(st->encrypted());
    ingest_text(*st, line("sms-1", "周六回家吃饭吗？") + line("sms-2", "Dinner with Bob at the noodle place", "Bob") +
                         line("sms-3", kSecretZh));
  }
  EXPECT_TRUE(fs::exists(dir + "/" + kStoreKeyFile));
  auto st = open_ok(dir, kStorePass, false);
  ASSERT_TRUE(st);
  EXPECT_EQ(*st->count(), 3);
  EXPECT_TRUE(st->check().is_ok());
  EXPECT_TRUE(contains(hit_ids(*st, "吃饭"), "sms-1"));
  EXPECT_TRUE(contains(hit_ids(*st, "noodle"), "sms-2"));
  EXPECT_TRUE(contains(hit_ids(*st, "银行卡"), "sms-3"));
  Result<json> rec = st->get("sms-1");
  ASSERT_TRUE(rec.is_ok());
  EXPECT_EQ((*rec)["text"], "周六回家吃饭吗？");
}

TEST(CryptoStore, DatabaseIsWalWithFts5AtTheFixedPageSize) {
  const std::string dir = test::temp_dir() + "/store";
  auto st = open_ok(dir, kStorePass);
  ASSERT_TRUE(st);
  ingest_text(*st, line("a", "hello 世界"));
  sqlite3_stmt* q = nullptr;
  ASSERT_EQ(sqlite3_prepare_v2(st->handle(), "PRAGMA journal_mode", -1, &q, nullptr), SQLITE_OK);
  ASSERT_EQ(sqlite3_step(q), SQLITE_ROW);
  EXPECT_EQ(column_text(q, 0), "wal");
  sqlite3_finalize(q);
  ASSERT_EQ(sqlite3_prepare_v2(st->handle(), "SELECT count(*) FROM records_fts WHERE records_fts MATCH 'hello'", -1, &q,
                               nullptr),
            SQLITE_OK);
  ASSERT_EQ(sqlite3_step(q), SQLITE_ROW);
  EXPECT_EQ(sqlite3_column_int(q, 0), 1);
  sqlite3_finalize(q);
  st.reset();
  // Page 1 keeps SQLite's 24-byte preamble in plaintext: the magic string, page size 4096 (big
  // endian at 16), WAL format versions 2/2 (18, 19) and 28 reserved bytes per page (20).
  const std::string db = test::read_text(dir + "/pocketmind.db");
  ASSERT_GE(db.size(), size_t(2 * kCryptPageSize));
  EXPECT_EQ(db.size() % kCryptPageSize, 0u);
  EXPECT_EQ(db.substr(0, 16), std::string("SQLite format 3\0", 16));
  EXPECT_EQ(uint8_t(db[16]), 0x10);
  EXPECT_EQ(uint8_t(db[17]), 0x00);
  EXPECT_EQ(uint8_t(db[18]), 2);
  EXPECT_EQ(uint8_t(db[19]), 2);
  EXPECT_EQ(uint8_t(db[20]), 28);
  // ...and nothing after it is SQLite's plaintext header (bytes 21..23 are 64, 32, 32 by spec;
  // the schema format number at 44 would be 4 in a plain file).
  EXPECT_FALSE(db.find("CREATE TABLE") != std::string::npos);
}

TEST(CryptoStore, NoPlaintextOnDiskBeforeDuringAndAfterCommit) {
  // Control: the same steps on a plain store do leave the text on disk (so the grep can see it).
  const std::string plain = test::temp_dir() + "/plain";
  {
    auto st = open_ok(plain, "");
    ASSERT_TRUE(st);
    ingest_text(*st, line("s", kSecretEn) + line("z", kSecretZh));
    EXPECT_TRUE(file_has(plain + "/pocketmind.db-wal", kSecretEn) || file_has(plain + "/pocketmind.db", kSecretEn));
  }
  EXPECT_TRUE(file_has(plain + "/pocketmind.db", kSecretZh));

  const std::string dir = test::temp_dir() + "/store";
  auto st = open_ok(dir, kStorePass);
  ASSERT_TRUE(st);
  const std::string db = dir + "/pocketmind.db", wal = db + "-wal";
  // An open transaction bigger than the page cache spills pages to the WAL before COMMIT (the
  // cache is made small so that a few MB do).
  ASSERT_EQ(sqlite3_exec(st->handle(), "PRAGMA cache_size=64", nullptr, nullptr, nullptr), SQLITE_OK);
  ASSERT_TRUE(st->begin().is_ok());
  for (int i = 0; i < 3000; ++i) {
    Result<Record> r =
        parse_record(line(std::string("big-").append(std::to_string(i)),
                          std::string(kSecretEn) + " " + kSecretZh + " #" + std::to_string(i) + std::string(400, 'x')));
    ASSERT_TRUE(r.is_ok());
    ASSERT_TRUE(st->upsert(*r, "t").is_ok());
  }
  ASSERT_TRUE(fs::exists(wal));
  EXPECT_GT(fs::file_size(wal), 0u) << "nothing spilled: the mid-transaction check proved nothing";
  for (const std::string& f : {db, wal}) {
    EXPECT_FALSE(file_has(f, kSecretEn)) << f << " (mid-transaction)";
    EXPECT_FALSE(file_has(f, kSecretZh)) << f << " (mid-transaction)";
  }
  ASSERT_TRUE(st->commit().is_ok());
  for (const std::string& f : {db, wal}) {
    EXPECT_FALSE(file_has(f, kSecretEn)) << f << " (committed, before checkpoint)";
    EXPECT_FALSE(file_has(f, kSecretZh)) << f << " (committed, before checkpoint)";
  }
  st.reset();  // closing checkpoints the WAL into the database
  for (const auto& [name, bytes] : snapshot(dir)) {
    EXPECT_EQ(bytes.find(kSecretEn), std::string::npos) << name;
    EXPECT_EQ(bytes.find(kSecretZh), std::string::npos) << name;
    EXPECT_EQ(bytes.find(kStorePass), std::string::npos) << name;
  }
  auto again = open_ok(dir, kStorePass, false);
  ASSERT_TRUE(again);
  EXPECT_EQ(*again->count(), 3000);
  EXPECT_FALSE(hit_ids(*again, "ZEBRA").empty());
}

TEST(CryptoStore, WrongPassphraseFailsCleanlyAndWritesNothing) {
  const std::string dir = test::temp_dir() + "/store";
  { ASSERT_TRUE(open_ok(dir, kStorePass)); }
  const auto before = snapshot(dir);
  StoreOptions o;
  o.passphrase = "correct horse 电池 stapler";
  Result<std::unique_ptr<Store>> st = Store::open(dir, o);
  ASSERT_FALSE(st.is_ok());
  EXPECT_NE(st.status().message().find("wrong passphrase"), std::string::npos) << st.status().message();
  EXPECT_EQ(snapshot(dir), before);
}

TEST(CryptoStore, EncryptedWithoutPassphraseAndPlainWithOneAreRefused) {
  const std::string enc = test::temp_dir() + "/enc";
  { ASSERT_TRUE(open_ok(enc, kStorePass)); }
  Result<std::unique_ptr<Store>> a = Store::open(enc, StoreOptions{});
  ASSERT_FALSE(a.is_ok());
  EXPECT_NE(a.status().message().find("encrypted"), std::string::npos) << a.status().message();
  EXPECT_NE(a.status().message().find("POCKETMIND_PASSPHRASE"), std::string::npos) << a.status().message();

  const std::string plain = test::temp_dir() + "/plain";
  { ASSERT_TRUE(open_ok(plain, "")); }
  StoreOptions o;
  o.passphrase = kStorePass;
  Result<std::unique_ptr<Store>> b = Store::open(plain, o);
  ASSERT_FALSE(b.is_ok());
  EXPECT_NE(b.status().message().find("not encrypted"), std::string::npos) << b.status().message();
  EXPECT_FALSE(fs::exists(plain + "/" + kStoreKeyFile));  // and it did not become "encrypted"
}

// Builds a closed, checkpointed encrypted store of many pages; returns its database path.
std::string many_page_store(const std::string& dir) {
  auto st = open_ok(dir, kStorePass);
  ingest_text(*st, filler(3000));
  st.reset();
  const std::string db = dir + "/pocketmind.db";
  EXPECT_FALSE(fs::exists(db + "-wal"));  // the last close checkpointed and removed it
  EXPECT_GE(fs::file_size(db), uint64_t(20 * kCryptPageSize));
  return db;
}

void patch(const std::string& path, size_t offset, const std::string& bytes) {
  std::fstream f(path, std::ios::in | std::ios::out | std::ios::binary);
  f.seekp(std::streamoff(offset));
  f.write(bytes.data(), std::streamsize(bytes.size()));
}

// Opening and checking the whole store fails with the "damaged" message (never a crash, never data).
void expect_damage_reported(const std::string& dir) {
  StoreOptions o;
  o.passphrase = kStorePass;
  o.create = false;
  Result<std::unique_ptr<Store>> st = Store::open(dir, o);
  std::string message;
  if (!st.is_ok()) {
    message = st.status().message();
  } else {
    Status s = (*st)->check();
    ASSERT_FALSE(s.is_ok()) << "a damaged page went unnoticed";
    message = s.message();
  }
  EXPECT_NE(message.find("wrong passphrase or damaged store"), std::string::npos) << message;
}

TEST(CryptoStore, FlippedByteInAPageIsDetected) {
  const std::string dir = test::temp_dir() + "/store";
  const std::string db = many_page_store(dir);
  const std::string page = test::read_text(db).substr(7 * kCryptPageSize, kCryptPageSize);
  patch(db, 7 * kCryptPageSize + 1000, std::string(1, char(page[1000] ^ 0x01)));
  expect_damage_reported(dir);
}

TEST(CryptoStore, FlippedByteInPage1HeaderOrTagIsDetected) {
  for (size_t offset : {size_t(21), size_t(100), size_t(kCryptPageSize - 1)}) {
    const std::string dir = test::temp_dir() + "/store";
    const std::string db = many_page_store(dir);
    const std::string bytes = test::read_text(db);
    patch(db, offset, std::string(1, char(bytes[offset] ^ 0x40)));
    SCOPED_TRACE(offset);
    expect_damage_reported(dir);
  }
}

TEST(CryptoStore, SwappedPagesAreDetected) {
  const std::string dir = test::temp_dir() + "/store";
  const std::string db = many_page_store(dir);
  const std::string bytes = test::read_text(db);
  const std::string p5 = bytes.substr(4 * kCryptPageSize, kCryptPageSize);
  const std::string p6 = bytes.substr(5 * kCryptPageSize, kCryptPageSize);
  ASSERT_NE(p5, p6);
  patch(db, 4 * kCryptPageSize, p6);
  patch(db, 5 * kCryptPageSize, p5);
  expect_damage_reported(dir);
}

// A copy of an open store (what a crash leaves, or a copy taken while the app runs): the WAL
// holds committed transactions that are not yet in the database file. A last frame that is torn
// (cut short, or garbage) is dropped on recovery as SQLite drops any unsynced frame; everything
// committed before it is there and the store passes its checks.
TEST(CryptoStore, CrashCopyWithATornLastWalFrameOpensWithEarlierCommits) {
  const std::string dir = test::temp_dir() + "/store";
  auto st = open_ok(dir, kStorePass);
  ASSERT_TRUE(st);
  ingest_text(*st, line("first", "第一批 记录"));
  ingest_text(*st, line("second", "第二批 记录"));
  const std::string wal = dir + "/pocketmind.db-wal";
  ASSERT_TRUE(fs::exists(wal));
  const uintmax_t wal_size = fs::file_size(wal);
  constexpr uintmax_t kFrame = 24 + kCryptPageSize;
  ASSERT_EQ((wal_size - 32) % kFrame, 0u);
  ASSERT_GE((wal_size - 32) / kFrame, 2u);

  // Copies the store as it is on disk now (no -shm: a crash leaves no usable wal-index behind).
  auto copy = [&](const std::string& to) {
    fs::create_directories(to);
    for (const char* f : {"pocketmind.db", "pocketmind.db-wal", "store.key"})
      fs::copy_file(dir + "/" + f, to + "/" + f, fs::copy_options::overwrite_existing);
    return to;
  };
  const std::string intact = copy(test::temp_dir() + "/intact");
  const std::string cut = copy(test::temp_dir() + "/cut");
  fs::resize_file(cut + "/pocketmind.db-wal", wal_size - 1000);  // last page half written
  const std::string garbage = copy(test::temp_dir() + "/garbage");
  patch(garbage + "/pocketmind.db-wal", size_t(wal_size - 2000), std::string(64, '\x5a'));  // last page damaged
  st.reset();

  {
    auto s = open_ok(intact, kStorePass, false);
    ASSERT_TRUE(s);
    EXPECT_TRUE(s->check().is_ok());
    EXPECT_TRUE(*s->contains("first"));
    EXPECT_TRUE(*s->contains("second"));
  }
  for (const std::string& d : {cut, garbage}) {
    SCOPED_TRACE(d);
    auto s = open_ok(d, kStorePass, false);
    ASSERT_TRUE(s);
    EXPECT_TRUE(s->check().is_ok()) << s->check().to_string();
    EXPECT_TRUE(*s->contains("first"));
    EXPECT_FALSE(*s->contains("second"));  // its commit frame was the torn one
    EXPECT_TRUE(contains(hit_ids(*s, "第一批"), "first"));
    // ...and the store takes new writes after recovery.
    ingest_text(*s, line("third", "第三批"));
    EXPECT_TRUE(*s->contains("third"));
  }
}

// The VFS on its own, on a real encrypted database: reads of any size at any offset (SQLite reads
// 100 header bytes, 16-byte change counters, whole pages) return the same bytes as whole-page
// reads, and writes that are not whole pages are refused rather than written in plaintext.
TEST(CryptoStore, VfsServesPartialAndStraddlingReadsAndRefusesPartialWrites) {
  const std::string dir = test::temp_dir() + "/store";
  const std::string db = many_page_store(dir);
  Result<StoreKey> key = unlock_store_key(dir, kStorePass);
  ASSERT_TRUE(key.is_ok()) << key.status().to_string();
  Result<std::unique_ptr<CryptoVfs>> vfs = CryptoVfs::create(*key);
  ASSERT_TRUE(vfs.is_ok());
  sqlite3_vfs* v = sqlite3_vfs_find((*vfs)->name().c_str());
  ASSERT_NE(v, nullptr);
  std::vector<char> file_mem(size_t(v->szOsFile));
  auto* f = reinterpret_cast<sqlite3_file*>(file_mem.data());
  int out_flags = 0;
  ASSERT_EQ(v->xOpen(v, db.c_str(), f, SQLITE_OPEN_MAIN_DB | SQLITE_OPEN_READWRITE, &out_flags), SQLITE_OK);
  constexpr int kPages = 4;
  std::string whole(size_t(kPages * kCryptPageSize), '\0');
  for (int p = 0; p < kPages; ++p)
    ASSERT_EQ(f->pMethods->xRead(f, whole.data() + p * kCryptPageSize, kCryptPageSize, int64_t(p) * kCryptPageSize),
              SQLITE_OK);
  EXPECT_EQ(whole.substr(0, 16), std::string("SQLite format 3\0", 16));
  EXPECT_EQ(uint8_t(whole[20]), kCryptReserveBytes);
  // Decrypted pages end in zeroed reserved bytes; the ciphertext on disk does not.
  EXPECT_EQ(whole.substr(2 * kCryptPageSize - kCryptReserveBytes, kCryptReserveBytes),
            std::string(size_t(kCryptReserveBytes), '\0'));
  const std::string on_disk = test::read_text(db);
  EXPECT_NE(on_disk.substr(kCryptPageSize, kCryptPageSize), whole.substr(kCryptPageSize, kCryptPageSize));
  const std::pair<int64_t, int> ranges[] = {{0, 100},     {24, 16},     {92, 8},    {4000, 200},
                                            {4096, 4096}, {5000, 7000}, {1, 16382}, {16383, 1}};
  for (const auto& [off, n] : ranges) {
    std::string part(size_t(n), '\0');
    ASSERT_EQ(f->pMethods->xRead(f, part.data(), n, off), SQLITE_OK) << off << "+" << n;
    EXPECT_EQ(part, whole.substr(size_t(off), size_t(n))) << off << "+" << n;
  }
  // Past the end of the file: zeros and SQLITE_IOERR_SHORT_READ, as from the unix VFS.
  sqlite3_int64 size = 0;
  ASSERT_EQ(f->pMethods->xFileSize(f, &size), SQLITE_OK);
  std::string past(100, 'x');
  EXPECT_EQ(f->pMethods->xRead(f, past.data(), 100, size), SQLITE_IOERR_SHORT_READ);
  EXPECT_EQ(past, std::string(100, '\0'));
  // Partial or misaligned page writes are refused; the file is unchanged.
  const std::string junk(100, 'J');
  EXPECT_EQ(f->pMethods->xWrite(f, junk.data(), 100, 4096), SQLITE_IOERR_WRITE);
  EXPECT_EQ(f->pMethods->xWrite(f, whole.data(), kCryptPageSize, 100), SQLITE_IOERR_WRITE);
  EXPECT_EQ(test::read_text(db), on_disk);
  // A whole page written back is stored encrypted (fresh nonce) and reads back the same.
  ASSERT_EQ(f->pMethods->xWrite(f, whole.data() + kCryptPageSize, kCryptPageSize, kCryptPageSize), SQLITE_OK);
  const std::string after = test::read_text(db);
  EXPECT_NE(after.substr(kCryptPageSize, kCryptPageSize), on_disk.substr(kCryptPageSize, kCryptPageSize));
  std::string back(size_t(kCryptPageSize), '\0');
  ASSERT_EQ(f->pMethods->xRead(f, back.data(), kCryptPageSize, kCryptPageSize), SQLITE_OK);
  EXPECT_EQ(back, whole.substr(kCryptPageSize, kCryptPageSize));
  EXPECT_EQ(f->pMethods->xClose(f), SQLITE_OK);
}

TEST(CryptoStore, ChangingThePassphraseKeepsTheRecords) {
  const std::string dir = test::temp_dir() + "/store";
  {
    auto st = open_ok(dir, kStorePass);
    ASSERT_TRUE(st);
    ingest_text(*st, line("keep", "换了口令也还在"));
  }
  const std::string db_before = test::read_text(dir + "/pocketmind.db");
  // A wrong current passphrase changes nothing.
  const std::string key_before = test::read_text(dir + "/" + kStoreKeyFile);
  Status bad = change_store_passphrase(dir, "not it", "新口令");
  ASSERT_FALSE(bad.is_ok());
  EXPECT_NE(bad.message().find("wrong passphrase"), std::string::npos) << bad.message();
  EXPECT_EQ(test::read_text(dir + "/" + kStoreKeyFile), key_before);

  ASSERT_TRUE(change_store_passphrase(dir, kStorePass, "新口令").is_ok());
  EXPECT_EQ(test::read_text(dir + "/pocketmind.db"), db_before);  // only the key file was rewritten
  StoreOptions old_o;
  old_o.passphrase = kStorePass;
  Result<std::unique_ptr<Store>> old_open = Store::open(dir, old_o);
  ASSERT_FALSE(old_open.is_ok());
  EXPECT_NE(old_open.status().message().find("wrong passphrase"), std::string::npos);
  auto st = open_ok(dir, "新口令", false);
  ASSERT_TRUE(st);
  EXPECT_TRUE(contains(hit_ids(*st, "口令"), "keep"));
}

TEST(CryptoStore, StoresWithDifferentKeysOpenSideBySide) {
  const std::string a = test::temp_dir() + "/a", b = test::temp_dir() + "/b";
  auto sa = open_ok(a, "passphrase A");
  auto sb = open_ok(b, "口令 B");
  auto sp = open_ok(test::temp_dir() + "/p", "");
  ASSERT_TRUE(sa && sb && sp);
  ingest_text(*sa, line("in-a", "苹果"));
  ingest_text(*sb, line("in-b", "香蕉"));
  ingest_text(*sp, line("in-p", "橘子"));
  EXPECT_TRUE(contains(hit_ids(*sa, "苹果"), "in-a"));
  EXPECT_TRUE(contains(hit_ids(*sb, "香蕉"), "in-b"));
  EXPECT_TRUE(contains(hit_ids(*sp, "橘子"), "in-p"));
  EXPECT_FALSE(*sa->contains("in-b"));
}

TEST(CryptoStore, KeyFileHoldsParametersNotTheKey) {
  const std::string dir = test::temp_dir() + "/store";
  { ASSERT_TRUE(open_ok(dir, kStorePass)); }
  const json j = json::parse(test::read_text(dir + "/" + kStoreKeyFile));
  EXPECT_EQ(j["kdf"], "pbkdf2-hmac-sha256");
  EXPECT_GE(j["iterations"].get<int>(), 256000);
  EXPECT_EQ(j["salt"].get<std::string>().size(), 64u);  // 32 random bytes
  EXPECT_EQ(j["cipher"], "aes-256-gcm");
  // A second store with the same passphrase gets another salt, hence another key.
  const std::string dir2 = test::temp_dir() + "/store";
  { ASSERT_TRUE(open_ok(dir2, kStorePass)); }
  EXPECT_NE(json::parse(test::read_text(dir2 + "/" + kStoreKeyFile))["salt"], j["salt"]);
  // A damaged key file is named in the error.
  std::ofstream(dir + "/" + kStoreKeyFile) << "{\"format\": \"pocketmind-store-key\", \"version\": 1}";
  StoreOptions o;
  o.passphrase = kStorePass;
  Result<std::unique_ptr<Store>> st = Store::open(dir, o);
  ASSERT_FALSE(st.is_ok());
  EXPECT_NE(st.status().message().find("store.key"), std::string::npos) << st.status().message();
  EXPECT_NE(st.status().message().find("kdf"), std::string::npos) << st.status().message();
}

}  // namespace
}  // namespace pm::store
