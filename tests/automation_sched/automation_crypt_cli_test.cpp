// The automation and tool verbs on an encrypted store (DIR/store.key): they take the store's
// passphrase (--passphrase-file or POCKETMIND_PASSPHRASE), keep automations.sqlite encrypted,
// refuse to run without it or with a wrong one, and convert rules saved in the clear before the
// store was encrypted without losing any.
#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>

#include "test_util.h"

namespace pm::test {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;

constexpr const char* kCryptRules = R"({"rules": [
 {"name": "看牙医提醒", "mode": "single",
  "triggers": [{"type": "time", "at": "06:30", "weekdays": ["mon"]}],
  "actions": [{"tool": "notification.show", "args": {"text": "DENTIST-9921 周一看牙"}}]},
 {"name": "到家开灯", "mode": "single",
  "triggers": [{"type": "event", "event": "wifi.connected", "filter": {"ssid": "Home"}}],
  "actions": [{"tool": "notification.show", "args": {"text": "欢迎回家"}}]}
]})";

constexpr const char* kSchema = R"({"type": "object", "properties": {"doctor": {"type": "string"}}})";

TEST(AutomationCryptCli, VerbsTakeAPassphraseFile) {
  for (const std::vector<std::string>& verb : std::vector<std::vector<std::string>>{{"automation", "add"},
                                                                                    {"automation", "list"},
                                                                                    {"automation", "remove"},
                                                                                    {"automation", "enable"},
                                                                                    {"automation", "disable"},
                                                                                    {"automation", "history"},
                                                                                    {"automation", "emit"},
                                                                                    {"automation", "run"},
                                                                                    {"automation", "simulate"},
                                                                                    {"automation", "calls"},
                                                                                    {"automation", "parse"},
                                                                                    {"tools", "add"},
                                                                                    {"tools", "list"},
                                                                                    {"tools", "remove"},
                                                                                    {"summarize-call"}}) {
    std::vector<std::string> args = verb;
    args.push_back("--help");
    const CommandResult r = run_pocketmind(args);
    EXPECT_EQ(r.exit_code, 0) << verb.back();
    EXPECT_NE(r.out.find("--passphrase-file"), std::string::npos) << verb.back();
  }
}

TEST(AutomationCryptCli, RulesAndToolsOfAnEncryptedStoreRoundTripAndStayEncrypted) {
  test::PassphraseEnvUnset env;
  const std::string dir = temp_dir(), db = dir + "/db";
  const std::string pass = test::write_file(dir, "pass.txt", "牙医 passphrase\n");
  const std::string rules = test::write_file(dir, "rules.json", kCryptRules);
  const std::string schema = test::write_file(dir, "schema.json", kSchema);
  // A new directory given a passphrase becomes an encrypted store.
  CommandResult r = run_pocketmind(
      {"automation", "add", "--db", db, "--passphrase-file", pass, "--rule-file", rules, "--yes", "--json"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  ASSERT_TRUE(file_exists(db + "/store.key"));
  r = run_pocketmind({"tools", "add", "--db", db, "--passphrase-file", pass, "--name", "clinic_app.book",
                      "--description", "预约牙医诊所", "--schema", schema});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const std::string bytes = test::dir_bytes(db);
  for (const char* secret : {"DENTIST-9921", "看牙医提醒", "到家开灯", "clinic_app", "预约牙医诊所", "Home"})
    EXPECT_EQ(bytes.find(secret), std::string::npos) << secret;

  r = run_pocketmind({"automation", "list", "--db", db, "--passphrase-file", pass, "--json"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.out.find("看牙医提醒"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("到家开灯"), std::string::npos) << r.out;
  // The environment variable works as well.
  setenv("POCKETMIND_PASSPHRASE", "牙医 passphrase", 1);
  r = run_pocketmind({"tools", "list", "--db", db, "--json"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(json::parse(r.out)["tools"][0]["name"], "clinic_app.book");
  r = run_pocketmind({"automation", "disable", "r1", "--db", db});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  r = run_pocketmind({"automation", "emit", "wifi.connected", "ssid=Home", "--db", db, "--json"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  r = run_pocketmind({"automation", "history", "--db", db, "--json"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.out.find("r2"), std::string::npos) << r.out;
  unsetenv("POCKETMIND_PASSPHRASE");
  // The tool call the rule made, with its argument, is in the sealed device log only.
  EXPECT_FALSE(file_exists(db + "/device_calls.jsonl"));
  EXPECT_TRUE(file_exists(db + "/device_calls.jsonl.enc"));
  EXPECT_EQ(test::dir_bytes(db).find("欢迎回家"), std::string::npos);
  EXPECT_EQ(test::dir_bytes(db).find("notification.show"), std::string::npos);
  r = run_pocketmind({"automation", "calls", "--db", db, "--passphrase-file", pass, "--json"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  json calls = json::parse(r.out);
  EXPECT_EQ(calls["encrypted"], true);
  EXPECT_EQ(calls["damaged"], 0);
  ASSERT_EQ(calls["calls"].size(), 1u) << r.out;
  EXPECT_EQ(calls["calls"][0]["rule"], "r2");
  EXPECT_EQ(calls["calls"][0]["tool"], "notification.show");
  EXPECT_EQ(calls["calls"][0]["args"]["text"], "欢迎回家");

  // No passphrase, a wrong one: refused with the reason, and no plain file appears.
  for (const std::vector<std::string>& args :
       std::vector<std::vector<std::string>>{{"automation", "list", "--db", db},
                                             {"automation", "add", "--db", db, "--rule-file", rules, "--yes"},
                                             {"tools", "list", "--db", db},
                                             {"automation", "calls", "--db", db},
                                             {"automation", "emit", "wifi.connected", "ssid=Home", "--db", db},
                                             {"automation", "parse", "--db", db, "每天早上7点提醒我喝水"}}) {
    r = run_pocketmind(args);
    EXPECT_NE(r.exit_code, 0) << args[0] << " " << args[1];
    EXPECT_NE(r.err.find("passphrase"), std::string::npos) << r.err;
  }
  const std::string wrong = test::write_file(dir, "wrong.txt", "not it\n");
  r = run_pocketmind({"automation", "list", "--db", db, "--passphrase-file", wrong});
  EXPECT_NE(r.exit_code, 0);
  EXPECT_NE(r.err.find("wrong passphrase"), std::string::npos) << r.err;
  EXPECT_EQ(test::dir_bytes(db).find("DENTIST-9921"), std::string::npos);
}

TEST(AutomationCryptCli, RulesSavedBeforeTheStoreWasEncryptedAreConvertedOnFirstUse) {
  test::PassphraseEnvUnset env;
  const std::string dir = temp_dir(), db = dir + "/db";
  const std::string pass = test::write_file(dir, "pass.txt", "later passphrase\n");
  const std::string rules = test::write_file(dir, "rules.json", kCryptRules);
  CommandResult r = run_pocketmind({"automation", "add", "--db", db, "--rule-file", rules, "--yes"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  ASSERT_NE(test::dir_bytes(db).find("DENTIST-9921"), std::string::npos);  // a plain store: plain, as ever
  // The user then encrypts the store: its records go in with a passphrase.
  const std::string records = test::write_file(
      dir, "in.jsonl",
      R"({"id": "note-1", "source": "note", "time": "2026-11-21T09:00:00+08:00", "text": "passport in the drawer"})"
      "\n");
  r = run_pocketmind({"ingest", "--db", db, "--passphrase-file", pass, records});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  ASSERT_TRUE(file_exists(db + "/store.key"));
  r = run_pocketmind({"automation", "list", "--db", db, "--passphrase-file", pass, "--json"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.out.find("看牙医提醒"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("到家开灯"), std::string::npos) << r.out;
  EXPECT_EQ(test::dir_bytes(db).find("DENTIST-9921"), std::string::npos);
  r = run_pocketmind(
      {"automation", "add", "--db", db, "--passphrase-file", pass, "--rule-file", rules, "--yes", "--json"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(json::parse(r.out)["added"][0]["id"], "r3");
}

}  // namespace
}  // namespace pm::test
