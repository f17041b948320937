// Runs the declarative retrieval scenarios in tests/retrieval/*.jsonl (see the README there)
// through the real `pocketmind` binary over the demo data in data/demo/.
#include <algorithm>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>

#include "test_util.h"

namespace pm::test {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;

const std::string kRepo = fs::weakly_canonical(fs::path(PM_TEST_DATA_DIR) / ".." / "..").string();
const char* kDemoNow = "2026-11-20T10:00:00+08:00";

std::vector<std::string> demo_inputs() {
  return {kRepo + "/data/demo/phone.jsonl", kRepo + "/data/demo/calendar.ics", kRepo + "/data/demo/contacts.vcf",
          kRepo + "/data/demo/notes"};
}

void ingest(const std::string& db, const std::vector<std::string>& files) {
  std::vector<std::string> args = {"ingest", "--db", db, "--now", kDemoNow, "-q", "--json"};
  args.insert(args.end(), files.begin(), files.end());
  const CommandResult r = run_pocketmind(args);
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const json summary = json::parse(r.out);
  EXPECT_EQ(summary["rejected"], 0) << r.out;
}

class RetrievalCases : public ::testing::TestWithParam<std::string> {};

TEST_P(RetrievalCases, Scenario) {
  const std::string path = GetParam();
  const std::string db = temp_dir() + "/store";
  ingest(db, demo_inputs());
  std::ifstream in(path);
  std::string line;
  int line_no = 0, queries = 0;
  while (std::getline(in, line)) {
    ++line_no;
    if (line.empty() || line[0] == '#') continue;
    const std::string where = fs::path(path).filename().string() + ":" + std::to_string(line_no);
    const json step = json::parse(line, nullptr, false);
    ASSERT_TRUE(step.is_object()) << where << ": not a JSON object";
    if (step.contains("forget")) {
      const json& f = step["forget"];
      std::vector<std::string> args = {"forget", "--db", db};
      if (f.contains("id")) args.insert(args.end(), {"--id", f["id"].get<std::string>()});
      if (f.contains("source")) args.insert(args.end(), {"--source", f["source"].get<std::string>()});
      const CommandResult r = run_pocketmind(args);
      ASSERT_EQ(r.exit_code, 0) << where << ": " << r.err;
      continue;
    }
    if (step.contains("ingest")) {
      std::vector<std::string> files;
      for (const auto& f : step["ingest"]) files.push_back(kRepo + "/" + f.get<std::string>());
      ingest(db, files);
      continue;
    }
    if (step.contains("ingest_records")) {
      const std::string file = temp_dir() + "/records.jsonl";
      std::ofstream out(file);
      for (const auto& r : step["ingest_records"]) out << r.dump() << "\n";
      out.close();
      ingest(db, {file});
      continue;
    }
    ASSERT_TRUE(step.contains("query")) << where << ": expected query, forget, ingest or ingest_records";
    ++queries;
    const int k = step.value("k", 5);
    const std::string now = step.value("now", std::string(kDemoNow));
    const std::string query = step["query"];
    const CommandResult r =
        run_pocketmind({"search", "--db", db, "--k", std::to_string(k), "--now", now, "--json", "--", query});
    ASSERT_EQ(r.exit_code, 0) << where << ": " << query << ": " << r.err;
    const json out = json::parse(r.out, nullptr, false);
    ASSERT_TRUE(out.is_object() && out["hits"].is_array()) << where << ": " << r.out;
    EXPECT_EQ(out["lexical_only"], true);
    std::vector<std::string> got;
    for (const auto& h : out["hits"]) got.push_back(h["id"]);
    std::string got_text;
    for (const auto& g : got) got_text += " " + g;
    const std::string context =
        where + ": query \"" + query + "\" -> [" + got_text + " ]\n understood: " + out["query"]["understood"].dump();
    EXPECT_LE(got.size(), size_t(k)) << context;
    for (const auto& id : step.value("expect", json::array()))
      EXPECT_NE(std::find(got.begin(), got.end(), id.get<std::string>()), got.end()) << context << "\n missing " << id;
    for (const auto& id : step.value("expect_not", json::array()))
      EXPECT_EQ(std::find(got.begin(), got.end(), id.get<std::string>()), got.end())
          << context << "\n unexpected " << id;
    if (step.contains("expect_top")) {
      ASSERT_FALSE(got.empty()) << context;
      EXPECT_EQ(got[0], step["expect_top"].get<std::string>()) << context;
    }
  }
  EXPECT_GT(queries, 0) << path << " has no queries";
}

std::vector<std::string> case_files() {
  std::vector<std::string> files;
  for (const auto& e : fs::directory_iterator(kRepo + "/tests/retrieval"))
    if (e.path().extension() == ".jsonl") files.push_back(e.path().string());
  std::sort(files.begin(), files.end());
  return files;
}

INSTANTIATE_TEST_SUITE_P(Files, RetrievalCases, ::testing::ValuesIn(case_files()),
                         [](const ::testing::TestParamInfo<std::string>& info) {
                           return fs::path(info.param).stem().string();
                         });

}  // namespace
}  // namespace pm::test
