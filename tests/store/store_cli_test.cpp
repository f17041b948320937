// Behaviour of `pocketmind ingest / search / forget` on bad input, and durability: an ingest
// killed with SIGKILL at random moments loses no record it acknowledged and leaves a store that
// opens and passes its integrity checks.
#include <fcntl.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <fstream>
#include <nlohmann/json.hpp>
#include <random>
#include <thread>

#include "store/store.h"
#include "test_util.h"

namespace pm::test {
namespace {

using nlohmann::json;

std::string write_file(const std::string& name, const std::string& content) {
  const std::string path = temp_dir() + "/" + name;
  std::ofstream(path, std::ios::binary) << content;
  return path;
}

// "r<round>-<i>" (built without `"literal" + std::string&&`, which GCC 12 warns about falsely)
std::string round_id(int round, int64_t i) {
  std::string id(1, 'r');
  id.append(std::to_string(round)).append(1, '-').append(std::to_string(i));
  return id;
}

std::string record_line(const std::string& id, const std::string& text, const char* source = "sms") {
  return json{
             {"id", id}, {"source", source}, {"time", "2026-11-20T08:00:00+08:00"}, {"sender", "Alice"}, {"text", text}}
             .dump() +
         "\n";
}

TEST(StoreCli, EveryVerbHasHelp) {
  for (const char* verb : {"ingest", "search", "forget"}) {
    const CommandResult r = run_pocketmind({verb, "--help"});
    EXPECT_EQ(r.exit_code, 0) << verb;
    EXPECT_NE(r.out.find("--db"), std::string::npos) << verb;
  }
}

TEST(StoreCli, BadLinesAreRejectedWithFileLineAndFieldTheRestLands) {
  std::string content;
  content += record_line("good-1", "第一条");
  content +=
      std::string("{\"id\": \"bad-utf8\", \"source\": \"sms\", \"time\": \"2026-11-20\", \"text\": \"\xff\xfe\"}\n");
  content += "{\"id\": \"huge\", \"source\": \"sms\", \"time\": \"2026-11-20\", \"text\": \"" +
             std::string(2 << 20, 'x') + "\"}\n";
  content += "{\"id\": 42, \"source\": \"sms\", \"time\": \"2026-11-20\"}\n";
  content += "{\"id\": \"no-time\", \"source\": \"sms\", \"text\": \"hi\"}\n";
  content += "{\"id\": \"fax\", \"source\": \"fax\", \"time\": \"2026-11-20\"}\n";
  content += "\n   \n";
  content += "[1, 2, 3]\n";
  content += "{\"id\": \"trunc\", \"source\": \n";
  content += record_line("syntax", "\"quoted\" OR NEAR(a b) AND x* -- '; DROP TABLE records; SELECT 1");
  std::string crlf = record_line("good-2", "second line with CRLF");
  crlf.back() = '\r';
  content += crlf + "\n";
  const std::string file = write_file("mixed.jsonl", content);
  const std::string db = temp_dir() + "/store";
  const CommandResult r = run_pocketmind({"ingest", "--db", db, "--json", file});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const json s = json::parse(r.out);
  EXPECT_EQ(s["added"], 3) << r.out;
  EXPECT_EQ(s["rejected"], 7) << r.out;
  std::map<int, std::string> reasons;
  for (const auto& x : s["rejects"]) {
    EXPECT_EQ(x["file"], file);
    reasons[x["line"].get<int>()] = x["reason"];
  }
  EXPECT_NE(reasons[2].find("invalid UTF-8"), std::string::npos) << reasons[2];
  EXPECT_NE(reasons[3].find("the limit is 1048576"), std::string::npos) << reasons[3];
  EXPECT_EQ(reasons[4], "field \"id\": expected a string, got a number");
  EXPECT_EQ(reasons[5], "field \"time\": missing (required, ISO 8601)");
  EXPECT_NE(reasons[6].find("field \"source\": \"fax\" is not one of"), std::string::npos);
  EXPECT_EQ(reasons[9], "expected a JSON object, got an array");
  EXPECT_NE(reasons[10].find("not valid JSON"), std::string::npos);
  // stderr names file:line as it goes.
  EXPECT_NE(r.err.find(file + ":5: field \"time\""), std::string::npos) << r.err;

  // Query text that looks like FTS5 or SQL syntax is searched literally and never fails.
  for (const char* q : {"\"", "*", "NEAR(", "OR", "AND NOT", "x*", "'; DROP TABLE records; --", "\"quoted\" OR", "(((",
                        "records_fts MATCH", "\xff\xfe", "a\"b"}) {
    const CommandResult sr = run_pocketmind({"search", "--db", db, "--json", "--", q});
    EXPECT_EQ(sr.exit_code, 0) << q << ": " << sr.err;
    EXPECT_TRUE(json::parse(sr.out, nullptr, false).is_object()) << q;
  }
  const CommandResult hit = run_pocketmind({"search", "--db", db, "--json", "--", "DROP TABLE records"});
  ASSERT_EQ(hit.exit_code, 0);
  EXPECT_EQ(json::parse(hit.out)["hits"][0]["id"], "syntax");
  // Plain output says it is lexical only.
  const CommandResult plain = run_pocketmind({"search", "--db", db, "第一条"});
  EXPECT_NE(plain.out.find("lexical only: no embedding model configured"), std::string::npos);
  EXPECT_NE(plain.out.find("good-1"), std::string::npos);
}

TEST(StoreCli, ReimportReplacesByIdAndCountsUnchanged) {
  const std::string db = temp_dir() + "/store";
  const std::string v1 = write_file("v1.jsonl", record_line("a", "old text") + record_line("b", "same"));
  const std::string v2 = write_file("v2.jsonl", record_line("a", "new text") + record_line("b", "same"));
  ASSERT_EQ(run_pocketmind({"ingest", "--db", db, v1}).exit_code, 0);
  CommandResult r = run_pocketmind({"ingest", "--db", db, "--json", v2});
  const json s = json::parse(r.out);
  EXPECT_EQ(s["replaced"], 1);
  EXPECT_EQ(s["unchanged"], 1);
  EXPECT_EQ(s["records_in_store"], 2);
  r = run_pocketmind({"ingest", "--db", db, "--json", v2});
  EXPECT_EQ(json::parse(r.out)["unchanged"], 2);
  r = run_pocketmind({"search", "--db", db, "--json", "old"});
  EXPECT_TRUE(json::parse(r.out)["hits"].empty());
}

TEST(StoreCli, ErrorsGoToStderrWithNonZeroExit) {
  CommandResult r = run_pocketmind({"ingest", "--db", temp_dir() + "/s", "/nonexistent/file.jsonl"});
  EXPECT_NE(r.exit_code, 0);
  EXPECT_NE(r.err.find("/nonexistent/file.jsonl: no such file"), std::string::npos) << r.err;
  r = run_pocketmind({"search", "--db", temp_dir() + "/none", "x"});
  EXPECT_NE(r.exit_code, 0);
  EXPECT_NE(r.err.find("no store here"), std::string::npos) << r.err;
  r = run_pocketmind({"search", "--db", temp_dir(), "--now", "yesterday", "x"});
  EXPECT_NE(r.exit_code, 0);
  EXPECT_NE(r.err.find("--now"), std::string::npos) << r.err;
  r = run_pocketmind({"forget", "--db", temp_dir()});
  EXPECT_NE(r.exit_code, 0);
  r = run_pocketmind({"ingest", "--db", temp_dir() + "/s",
                      write_file("x.bin",
                                 "\x7f"
                                 "ELF")});
  EXPECT_NE(r.exit_code, 0);
  EXPECT_NE(r.err.find("unknown input format"), std::string::npos) << r.err;
}

TEST(StoreCli, ForgetRemovesByIdAndSource) {
  const std::string db = temp_dir() + "/store";
  const std::string f =
      write_file("f.jsonl", record_line("s1", "hotpot tonight") + record_line("p1", "hotpot receipt", "photo"));
  ASSERT_EQ(run_pocketmind({"ingest", "--db", db, f}).exit_code, 0);
  CommandResult r = run_pocketmind({"forget", "--db", db, "--json", "--id", "s1", "--id", "nope"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(json::parse(r.out)["removed"], 1);
  EXPECT_EQ(json::parse(r.out)["not_found"], json::array({"nope"}));
  r = run_pocketmind({"search", "--db", db, "--json", "hotpot"});
  ASSERT_EQ(json::parse(r.out)["hits"].size(), 1u);
  ASSERT_EQ(run_pocketmind({"forget", "--db", db, "--source", "photo"}).exit_code, 0);
  r = run_pocketmind({"search", "--db", db, "--json", "hotpot"});
  EXPECT_TRUE(json::parse(r.out)["hits"].empty());
  auto st = store::Store::open(db);
  ASSERT_TRUE(st.is_ok());
  EXPECT_TRUE((*st)->check().is_ok());
}

// ---- durability -----------------------------------------------------------------------------

struct Child {
  pid_t pid = -1;
  int out_fd = -1;
};

// Starts `pocketmind ARGS` (through the emulator in cross builds) with stdout on a pipe.
Child spawn(const std::vector<std::string>& args) {
  std::vector<std::string> words = pocketmind_command(args);
  std::vector<char*> argv;
  for (std::string& w : words) argv.push_back(w.data());
  argv.push_back(nullptr);
  int out[2];
  if (pipe(out) != 0) return {};
  const pid_t pid = fork();
  if (pid == 0) {
    dup2(out[1], 1);
    const int devnull = open("/dev/null", O_WRONLY);
    dup2(devnull, 2);
    close(out[0]);
    execvp(argv[0], argv.data());
    _exit(127);
  }
  close(out[1]);
  fcntl(out[0], F_SETFL, O_NONBLOCK);
  return {pid, out[0]};
}

// The kill test, on a plain store (passphrase "") or an encrypted one (the passphrase reaches the
// killed ingests through POCKETMIND_PASSPHRASE).
void killed_ingest_loses_no_acknowledged_record(const std::string& passphrase) {
  const std::string db = temp_dir() + "/store";
  store::StoreOptions so;
  so.passphrase = passphrase;
  if (passphrase.empty())
    unsetenv("POCKETMIND_PASSPHRASE");
  else
    setenv("POCKETMIND_PASSPHRASE", passphrase.c_str(), 1);
  constexpr int kRounds = 10;
  constexpr int kRecords = 4000;
  std::mt19937 rng(12345);
  std::vector<int64_t> acknowledged(kRounds, 0);
  int killed_mid_way = 0;
  std::vector<std::string> files;
  for (int round = 0; round < kRounds; ++round) {
    std::string content;
    for (int i = 0; i < kRecords; ++i)
      content += record_line(
          round_id(round, i),
          std::string("round ").append(std::to_string(round)).append(" 第").append(std::to_string(i)).append("条消息"));
    const std::string file = write_file("round" + std::to_string(round) + ".jsonl", content);
    files.push_back(file);
    Child c = spawn({"ingest", "--db", db, "--ack", "--batch", "97", "-q", file});
    ASSERT_GT(c.pid, 0);
    // Kill after a random delay; read acknowledgements until then.
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(rng() % 1500);
    std::string acks;
    char buf[4096];
    while (std::chrono::steady_clock::now() < deadline) {
      const ssize_t n = read(c.out_fd, buf, sizeof buf);
      if (n > 0)
        acks.append(buf, size_t(n));
      else if (n == 0)
        break;  // finished
      else
        std::this_thread::sleep_for(std::chrono::milliseconds(2));
    }
    kill(c.pid, SIGKILL);
    int status = 0;
    waitpid(c.pid, &status, 0);
    // Lines that arrived before the kill are acknowledgements; drain what was already written.
    for (ssize_t n; (n = read(c.out_fd, buf, sizeof buf)) > 0;) acks.append(buf, size_t(n));
    close(c.out_fd);
    size_t pos = 0;
    while ((pos = acks.find("committed ", pos)) != std::string::npos) {
      const size_t nl = acks.find('\n', pos);
      if (nl == std::string::npos) break;  // a partial line is not an acknowledgement
      acknowledged[round] = std::stoll(acks.substr(pos + 10, nl - pos - 10));
      pos = nl;
    }
    if (WIFSIGNALED(status) && acknowledged[round] < kRecords) ++killed_mid_way;

    // The store opens, passes its checks and holds every acknowledged record of every round.
    auto st = store::Store::open(db, so);
    ASSERT_TRUE(st.is_ok()) << "round " << round << ": " << st.status().to_string();
    ASSERT_EQ((*st)->encrypted(), !passphrase.empty());
    ASSERT_TRUE((*st)->check().is_ok()) << "round " << round << ": " << (*st)->check().to_string();
    for (int r = 0; r <= round; ++r)
      for (int64_t i = 0; i < acknowledged[r]; ++i)
        ASSERT_TRUE(*(*st)->contains(round_id(r, i)))
            << "round " << r << " record " << i << " was acknowledged (" << acknowledged[r] << ") but is missing";
  }
  EXPECT_GT(killed_mid_way, 0) << "no ingest was killed part-way; the test proved nothing";
  // Finishing the imports afterwards yields every record exactly once.
  std::vector<std::string> args = {"ingest", "--db", db, "-q", "--json"};
  args.insert(args.end(), files.begin(), files.end());
  const CommandResult r = run_pocketmind(args);
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(json::parse(r.out)["records_in_store"], kRounds * kRecords);
  auto st = store::Store::open(db, so);
  ASSERT_TRUE(st.is_ok());
  EXPECT_TRUE((*st)->check().is_ok());
  unsetenv("POCKETMIND_PASSPHRASE");
}

TEST(StoreDurability, KilledIngestLosesNoAcknowledgedRecord) { killed_ingest_loses_no_acknowledged_record(""); }

TEST(StoreDurability, KilledIngestOfAnEncryptedStoreLosesNoAcknowledgedRecord) {
  killed_ingest_loses_no_acknowledged_record("kill-test 口令");
}

}  // namespace
}  // namespace pm::test
