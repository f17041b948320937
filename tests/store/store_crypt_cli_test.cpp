// The command line of an encrypted store: the passphrase comes from --passphrase-file or
// POCKETMIND_PASSPHRASE on every store verb; a missing, wrong or unneeded one is a clear error
// on stderr with a non-zero exit.
#include <cstdlib>
#include <fstream>
#include <nlohmann/json.hpp>

#include "test_util.h"

namespace pm::test {
namespace {

using nlohmann::json;

const char* const kRecords =
    R"({"id": "sms-1", "source": "sms", "time": "2026-11-20T08:15:00+08:00", "sender": "妈妈", "text": "周六回家吃饭吗？"})"
    "\n"
    R"({"id": "note-1", "source": "note", "time": "2026-11-21T09:00:00+08:00", "text": "passport is in the top drawer"})"
    "\n";

TEST(StoreCryptCli, StoreVerbsTakeAPassphraseFile) {
  for (const std::vector<std::string>& verb :
       std::vector<std::vector<std::string>>{{"ingest"}, {"search"}, {"forget"}, {"ask"}, {"store", "rekey"}}) {
    std::vector<std::string> args = verb;
    args.push_back("--help");
    const CommandResult r = run_pocketmind(args);
    EXPECT_EQ(r.exit_code, 0) << verb[0];
    EXPECT_NE(r.out.find("--passphrase-file"), std::string::npos) << verb[0];
  }
}

TEST(StoreCryptCli, EncryptedRoundTripThroughFileAndEnvironment) {
  test::PassphraseEnvUnset env;
  const std::string tmp = temp_dir();
  const std::string db = tmp + "/store";
  const std::string pass = test::write_file(tmp, "pass.txt", "我的口令 42\n");
  const std::string input = test::write_file(tmp, "in.jsonl", kRecords);
  CommandResult r = run_pocketmind({"ingest", "--db", db, "--passphrase-file", pass, "--json", input});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(json::parse(r.out)["records_in_store"], 2);
  EXPECT_TRUE(file_exists(db + "/store.key"));

  r = run_pocketmind({"search", "--db", db, "--passphrase-file", pass, "--json", "吃饭"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  json hits = json::parse(r.out)["hits"];
  ASSERT_FALSE(hits.empty());
  EXPECT_EQ(hits[0]["id"], "sms-1");

  // The same passphrase from the environment (the file's trailing newline is not part of it).
  setenv("POCKETMIND_PASSPHRASE", "我的口令 42", 1);
  r = run_pocketmind({"search", "--db", db, "--json", "passport"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  hits = json::parse(r.out)["hits"];
  ASSERT_FALSE(hits.empty());
  EXPECT_EQ(hits[0]["id"], "note-1");
  r = run_pocketmind({"forget", "--db", db, "--id", "note-1", "--json"});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  r = run_pocketmind({"search", "--db", db, "--json", "passport"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_TRUE(json::parse(r.out)["hits"].empty());
}

TEST(StoreCryptCli, MissingWrongAndUnneededPassphrasesAreErrors) {
  test::PassphraseEnvUnset env;
  const std::string tmp = temp_dir();
  const std::string db = tmp + "/store";
  const std::string pass = test::write_file(tmp, "pass.txt", "right\n");
  const std::string wrong = test::write_file(tmp, "wrong.txt", "wrong\n");
  const std::string empty = test::write_file(tmp, "empty.txt", "\n");
  const std::string input = test::write_file(tmp, "in.jsonl", kRecords);
  ASSERT_EQ(run_pocketmind({"ingest", "--db", db, "--passphrase-file", pass, "-q", input}).exit_code, 0);

  CommandResult r = run_pocketmind({"search", "--db", db, "--json", "吃饭"});
  EXPECT_NE(r.exit_code, 0);
  EXPECT_TRUE(r.out.empty());
  EXPECT_NE(r.err.find("encrypted"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("--passphrase-file"), std::string::npos) << r.err;

  r = run_pocketmind({"ingest", "--db", db, "--passphrase-file", wrong, "-q", input});
  EXPECT_NE(r.exit_code, 0);
  EXPECT_NE(r.err.find("wrong passphrase"), std::string::npos) << r.err;

  r = run_pocketmind({"search", "--db", db, "--passphrase-file", empty, "吃饭"});
  EXPECT_NE(r.exit_code, 0);
  EXPECT_NE(r.err.find("empty"), std::string::npos) << r.err;

  r = run_pocketmind({"search", "--db", db, "--passphrase-file", tmp + "/no-such-file", "吃饭"});
  EXPECT_NE(r.exit_code, 0);
  EXPECT_NE(r.err.find("no-such-file"), std::string::npos) << r.err;

  // A plain store refuses a passphrase instead of silently ignoring it.
  const std::string plain = tmp + "/plain";
  ASSERT_EQ(run_pocketmind({"ingest", "--db", plain, "-q", input}).exit_code, 0);
  setenv("POCKETMIND_PASSPHRASE", "right", 1);
  r = run_pocketmind({"search", "--db", plain, "吃饭"});
  EXPECT_NE(r.exit_code, 0);
  EXPECT_NE(r.err.find("not encrypted"), std::string::npos) << r.err;
}

TEST(StoreCryptCli, RekeyChangesThePassphrase) {
  test::PassphraseEnvUnset env;
  const std::string tmp = temp_dir();
  const std::string db = tmp + "/store";
  const std::string pass = test::write_file(tmp, "pass.txt", "old one\n");
  const std::string next = test::write_file(tmp, "next.txt", "新的口令\n");
  const std::string input = test::write_file(tmp, "in.jsonl", kRecords);
  ASSERT_EQ(run_pocketmind({"ingest", "--db", db, "--passphrase-file", pass, "-q", input}).exit_code, 0);
  CommandResult r =
      run_pocketmind({"store", "rekey", "--db", db, "--passphrase-file", next, "--new-passphrase-file", pass});
  EXPECT_NE(r.exit_code, 0);
  EXPECT_NE(r.err.find("wrong passphrase"), std::string::npos) << r.err;
  r = run_pocketmind(
      {"store", "rekey", "--db", db, "--passphrase-file", pass, "--new-passphrase-file", next, "--json"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(json::parse(r.out)["rekeyed"], true);
  EXPECT_NE(run_pocketmind({"search", "--db", db, "--passphrase-file", pass, "吃饭"}).exit_code, 0);
  r = run_pocketmind({"search", "--db", db, "--passphrase-file", next, "--json", "吃饭"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(json::parse(r.out)["hits"][0]["id"], "sms-1");
  // A plain store has no passphrase to change.
  const std::string plain = tmp + "/plain";
  ASSERT_EQ(run_pocketmind({"ingest", "--db", plain, "-q", input}).exit_code, 0);
  r = run_pocketmind({"store", "rekey", "--db", plain, "--passphrase-file", pass, "--new-passphrase-file", next});
  EXPECT_NE(r.exit_code, 0);
  EXPECT_NE(r.err.find("not encrypted"), std::string::npos) << r.err;
}

}  // namespace
}  // namespace pm::test
