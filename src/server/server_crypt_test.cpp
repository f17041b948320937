// `pocketmind serve` on an encrypted store: apps.sqlite and the access log are encrypted with the
// store's key (auth.h, access_log.h). App names, token hashes and logged events are not on disk in
// the clear; the passphrase reads them back (the registry, `apps log`); without it they are
// refused; files written before the store was encrypted are converted, keeping their content.
#include <gtest/gtest.h>
#include <httplib.h>

#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>
#include <thread>

#include "server/access_log.h"
#include "server/auth.h"
#include "server/server.h"
#include "store/side_db.h"
#include "store/store_key.h"
#include "test_util.h"

namespace pm::server {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;

const char* const kServerPass = "server 口令 77";
const char* const kAppName = "bank-helper-招商银行";

store::StoreKey encrypted_dir(const std::string& dir) { return test::make_encrypted_store(dir, kServerPass); }

TEST(ServerCrypt, AppRegistryOfAnEncryptedStoreHoldsNoAppNameOrTokenHash) {
  const std::string dir = test::temp_dir();
  encrypted_dir(dir);
  Result<std::optional<store::StoreKey>> key = app_registry_key(dir, kServerPass);
  ASSERT_TRUE(key.is_ok()) << key.status().message();
  ASSERT_TRUE(key->has_value());
  std::string token;
  {
    Result<std::unique_ptr<AppRegistry>> reg = AppRegistry::open(dir, *key);
    ASSERT_TRUE(reg.is_ok()) << reg.status().message();
    Result<std::string> t = (*reg)->add(kAppName, {"chat", "search:sms"});
    ASSERT_TRUE(t.is_ok()) << t.status().message();
    token = *t;
  }
  const std::string bytes = test::dir_bytes(dir);
  EXPECT_EQ(bytes.find(kAppName), std::string::npos);
  EXPECT_EQ(bytes.find("bank-helper"), std::string::npos);
  EXPECT_EQ(bytes.find(sha256_hex(token)), std::string::npos);
  EXPECT_EQ(bytes.find("search:sms"), std::string::npos);
  EXPECT_FALSE(store::is_plain_sqlite(dir + "/apps.sqlite"));

  Result<std::unique_ptr<AppRegistry>> reg = AppRegistry::open(dir, *key);
  ASSERT_TRUE(reg.is_ok()) << reg.status().message();
  Result<std::optional<AppInfo>> who = (*reg)->authenticate(token);
  ASSERT_TRUE(who.is_ok());
  ASSERT_TRUE(who->has_value());
  EXPECT_EQ((*who)->name, kAppName);

  Result<std::optional<store::StoreKey>> none = app_registry_key(dir, "");
  ASSERT_FALSE(none.is_ok());
  EXPECT_NE(none.status().message().find("passphrase"), std::string::npos) << none.status().message();
  Result<std::optional<store::StoreKey>> wrong = app_registry_key(dir, "nope");
  ASSERT_FALSE(wrong.is_ok());
  EXPECT_NE(wrong.status().message().find("wrong passphrase"), std::string::npos);
  Result<std::unique_ptr<AppRegistry>> keyless = AppRegistry::open(dir);
  ASSERT_FALSE(keyless.is_ok());
  EXPECT_NE(keyless.status().message().find("passphrase"), std::string::npos) << keyless.status().message();
}

TEST(ServerCrypt, PlainAppRegistryIsConvertedAndItsTokensKeepWorking) {
  const std::string dir = test::temp_dir();
  std::string token;
  {
    Result<std::unique_ptr<AppRegistry>> reg = AppRegistry::open(dir);  // a plain store, as before
    ASSERT_TRUE(reg.is_ok());
    token = *(*reg)->add(kAppName, {"chat"});
  }
  ASSERT_NE(test::read_text(dir + "/apps.sqlite").find(kAppName), std::string::npos);  // plain stores: unchanged
  const store::StoreKey key = encrypted_dir(dir);
  Result<std::unique_ptr<AppRegistry>> reg = AppRegistry::open(dir, key);
  ASSERT_TRUE(reg.is_ok()) << reg.status().message();
  Result<std::optional<AppInfo>> who = (*reg)->authenticate(token);
  ASSERT_TRUE(who.is_ok() && who->has_value());
  EXPECT_EQ((*who)->name, kAppName);
  EXPECT_EQ(test::dir_bytes(dir).find(kAppName), std::string::npos);
}

TEST(ServerCrypt, EncryptedAccessLogIsUnreadableOnDiskAndReadBackWithTheKey) {
  const std::string dir = test::temp_dir();
  const store::StoreKey key = encrypted_dir(dir);
  {
    Result<std::unique_ptr<AccessLog>> log = AccessLog::open(dir, key);
    ASSERT_TRUE(log.is_ok()) << log.status().message();
    ASSERT_TRUE((*log)->append("2026-12-01T10:00:00Z", "denied 403 POST /v1/pocketmind/search app=diary-app").is_ok());
    ASSERT_TRUE((*log)->append("2026-12-01T10:00:01Z", "tool registered by app=diary-app: 日记.写").is_ok());
  }
  EXPECT_FALSE(fs::exists(dir + "/access.log"));
  const std::string bytes = test::read_text(dir + "/" + kSealedAccessLogFile);
  EXPECT_EQ(bytes.find("denied"), std::string::npos);
  EXPECT_EQ(bytes.find("diary-app"), std::string::npos);
  EXPECT_EQ(bytes.find("2026-12-01"), std::string::npos);
  EXPECT_EQ(fs::status(dir + "/" + kSealedAccessLogFile).permissions() & fs::perms::others_read, fs::perms::none);

  // Reopened (a restarted server) it appends to the same file; a torn last line is skipped.
  std::ofstream(dir + "/" + kSealedAccessLogFile, std::ios::app) << "AAAAtorn";
  {
    Result<std::unique_ptr<AccessLog>> log = AccessLog::open(dir, key);
    ASSERT_TRUE(log.is_ok()) << log.status().message();
    ASSERT_TRUE((*log)->append("2026-12-01T11:00:00Z", "after restart").is_ok());
  }
  Result<AccessLogContents> read = read_access_log(dir, key);
  ASSERT_TRUE(read.is_ok()) << read.status().message();
  EXPECT_EQ(read->lines,
            (std::vector<std::string>{"2026-12-01T10:00:00Z denied 403 POST /v1/pocketmind/search app=diary-app",
                                      "2026-12-01T10:00:01Z tool registered by app=diary-app: 日记.写",
                                      "2026-12-01T11:00:00Z after restart"}));
  EXPECT_EQ(read->damaged, 1);

  // Another store's key reads nothing (every line fails), and no key is refused outright.
  store::StoreKey other = key;
  other[0] ^= 1;
  Result<AccessLogContents> foreign = read_access_log(dir, other);
  ASSERT_TRUE(foreign.is_ok());
  EXPECT_TRUE(foreign->lines.empty());
  EXPECT_EQ(foreign->damaged, 4);
  Result<AccessLogContents> keyless = read_access_log(dir, std::nullopt);
  ASSERT_FALSE(keyless.is_ok());
  EXPECT_NE(keyless.status().message().find("passphrase"), std::string::npos);
  EXPECT_FALSE(AccessLog::open(dir, std::nullopt).is_ok());
  EXPECT_FALSE(fs::exists(dir + "/access.log"));
}

TEST(ServerCrypt, PlainAccessLogLeftInAnEncryptedStoreIsEncryptedAndRemoved) {
  const std::string dir = test::temp_dir();
  std::ofstream(dir + "/access.log") << "2026-11-30T09:00:00Z denied 401 GET /v1/models from 127.0.0.1: old line\n"
                                     << "2026-11-30T09:00:05Z app=old-app chat routed to the cloud: x\n";
  const store::StoreKey key = encrypted_dir(dir);
  Result<AccessLogContents> read = read_access_log(dir, key);
  ASSERT_TRUE(read.is_ok()) << read.status().message();
  ASSERT_EQ(read->lines.size(), 2u);
  EXPECT_EQ(read->lines[1], "2026-11-30T09:00:05Z app=old-app chat routed to the cloud: x");
  EXPECT_FALSE(fs::exists(dir + "/access.log"));
  EXPECT_EQ(test::dir_bytes(dir).find("old-app"), std::string::npos);
}

TEST(ServerCrypt, PlainStoreKeepsItsPlainAccessLog) {
  const std::string dir = test::temp_dir();
  {
    Result<std::unique_ptr<AccessLog>> log = AccessLog::open(dir, std::nullopt);
    ASSERT_TRUE(log.is_ok());
    ASSERT_TRUE((*log)->append("2026-12-01T10:00:00Z", "denied 401 GET /v1/models").is_ok());
  }
  EXPECT_EQ(test::read_text(dir + "/access.log"), "2026-12-01T10:00:00Z denied 401 GET /v1/models\n");
  EXPECT_FALSE(fs::exists(dir + "/" + kSealedAccessLogFile));
  Result<AccessLogContents> read = read_access_log(dir, std::nullopt);
  ASSERT_TRUE(read.is_ok());
  EXPECT_EQ(read->lines.size(), 1u);
}

TEST(ServerCrypt, ServerOnAnEncryptedStoreLogsDenialsEncrypted) {
  const std::string dir = test::temp_dir();
  ServerConfig c;
  c.db_dir = dir;
  c.store_passphrase = kServerPass;  // a new store: created encrypted by the server
  std::string token;
  {
    Result<std::unique_ptr<Server>> s = Server::create(c, {});
    ASSERT_TRUE(s.is_ok()) << s.status().message();
    ASSERT_TRUE(fs::exists(dir + "/store.key"));
    Result<std::optional<store::StoreKey>> key = app_registry_key(dir, kServerPass);
    ASSERT_TRUE(key.is_ok()) << key.status().message();
    Result<std::unique_ptr<AppRegistry>> reg = AppRegistry::open(dir, *key);
    ASSERT_TRUE(reg.is_ok()) << reg.status().message();
    token = *(*reg)->add(kAppName, {"chat"});
    ASSERT_TRUE((*s)->bind().is_ok());
    const int port = (*s)->port();
    std::thread t([p = s->get()] { p->run(); });
    httplib::Client cl("127.0.0.1", port);
    cl.set_read_timeout(30, 0);
    auto denied = cl.Get("/v1/models", httplib::Headers{{"Authorization", "Bearer pm-0000"}});
    ASSERT_TRUE(denied);
    EXPECT_EQ(denied->status, 401);
    auto scope = cl.Post("/v1/pocketmind/search", httplib::Headers{{"Authorization", "Bearer " + token}},
                         R"({"query":"x"})", "application/json");
    ASSERT_TRUE(scope);
    EXPECT_EQ(scope->status, 403);
    auto rules = cl.Get("/v1/pocketmind/automations", httplib::Headers{{"Authorization", "Bearer " + token}});
    ASSERT_TRUE(rules);
    (*s)->stop();
    t.join();
  }
  EXPECT_FALSE(fs::exists(dir + "/access.log"));
  EXPECT_FALSE(store::is_plain_sqlite(dir + "/apps.sqlite"));
  const std::string bytes = test::dir_bytes(dir);
  EXPECT_EQ(bytes.find("denied"), std::string::npos);
  EXPECT_EQ(bytes.find(kAppName), std::string::npos);
  Result<std::optional<store::StoreKey>> key = app_registry_key(dir, kServerPass);
  ASSERT_TRUE(key.is_ok());
  Result<AccessLogContents> log = read_access_log(dir, *key);
  ASSERT_TRUE(log.is_ok()) << log.status().message();
  std::string all;
  for (const std::string& l : log->lines) all += l + "\n";
  EXPECT_NE(all.find("denied 401"), std::string::npos) << all;
  EXPECT_NE(all.find("denied 403"), std::string::npos) << all;
  EXPECT_NE(all.find(kAppName), std::string::npos) << all;

  // Without the passphrase the server does not start (the store says why).
  ServerConfig keyless = c;
  keyless.store_passphrase.clear();
  Result<std::unique_ptr<Server>> s = Server::create(keyless, {});
  ASSERT_FALSE(s.is_ok());
  EXPECT_NE(s.status().message().find("passphrase"), std::string::npos) << s.status().message();
}

// The command line: apps add / list / log on an encrypted store take --passphrase-file.
TEST(ServerCrypt, AppsVerbsWorkOnAnEncryptedStoreWithThePassphraseFile) {
  unsetenv("POCKETMIND_PASSPHRASE");
  const std::string dir = test::temp_dir();
  const std::string db = dir + "/store";
  const std::string pass = dir + "/pass.txt";
  std::ofstream(pass) << kServerPass << "\n";
  for (const char* verb : {"add", "list", "remove", "log"}) {
    test::CommandResult h = test::run_pocketmind({"apps", verb, "--help"});
    EXPECT_EQ(h.exit_code, 0) << verb;
    EXPECT_NE(h.out.find("--passphrase-file"), std::string::npos) << verb;
  }
  test::CommandResult r =
      test::run_pocketmind({"apps", "add", "--db", db, "--passphrase-file", pass, "--scopes", "chat", kAppName});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_TRUE(fs::exists(db + "/store.key"));  // a new store given a passphrase is encrypted
  EXPECT_EQ(test::dir_bytes(db).find(kAppName), std::string::npos);
  r = test::run_pocketmind({"apps", "list", "--db", db, "--passphrase-file", pass, "--json"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(json::parse(r.out)["apps"][0]["name"], kAppName);
  r = test::run_pocketmind({"apps", "list", "--db", db});
  EXPECT_NE(r.exit_code, 0);
  EXPECT_NE(r.err.find("passphrase"), std::string::npos) << r.err;
  EXPECT_FALSE(store::is_plain_sqlite(db + "/apps.sqlite"));

  // Log lines written by a server, read back through the verb.
  {
    Result<std::optional<store::StoreKey>> key = app_registry_key(db, kServerPass);
    ASSERT_TRUE(key.is_ok());
    Result<std::unique_ptr<AccessLog>> log = AccessLog::open(db, *key);
    ASSERT_TRUE(log.is_ok());
    ASSERT_TRUE((*log)->append("2026-12-01T10:00:00Z", "denied 401 GET /v1/models from 127.0.0.1").is_ok());
    ASSERT_TRUE((*log)->append("2026-12-01T10:00:02Z", "app=x second").is_ok());
  }
  r = test::run_pocketmind({"apps", "log", "--db", db, "--passphrase-file", pass, "--json"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  json j = json::parse(r.out);
  EXPECT_EQ(j["encrypted"], true);
  ASSERT_EQ(j["lines"].size(), 2u);
  EXPECT_EQ(j["lines"][0]["time"], "2026-12-01T10:00:00Z");
  EXPECT_EQ(j["lines"][0]["event"], "denied 401 GET /v1/models from 127.0.0.1");
  EXPECT_EQ(j["damaged"], 0);
  r = test::run_pocketmind({"apps", "log", "--db", db, "--passphrase-file", pass, "--tail", "1"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.out, "2026-12-01T10:00:02Z app=x second\n");
  r = test::run_pocketmind({"apps", "log", "--db", db});
  EXPECT_NE(r.exit_code, 0);
  EXPECT_NE(r.err.find("passphrase"), std::string::npos) << r.err;
  const std::string wrong = dir + "/wrong.txt";
  std::ofstream(wrong) << "not the passphrase\n";
  r = test::run_pocketmind({"apps", "log", "--db", db, "--passphrase-file", wrong});
  EXPECT_NE(r.exit_code, 0);
  EXPECT_NE(r.err.find("wrong passphrase"), std::string::npos) << r.err;
}

}  // namespace
}  // namespace pm::server
