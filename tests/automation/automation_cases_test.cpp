// Declarative automation cases: every tests/automation/cases/NNN-name.json holds a request
// ("text"), the time it is made ("now") and either the rules it must become ("rules", written
// by hand from the request's meaning) or a substring of the error it must give ("error").
// Each expected rule is compared field by field: triggers, conditions and actions exactly (in
// order), mode and name only when the case gives them.
#include <algorithm>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>

#include "assistant/automation/rule_parser.h"
#include "test_util.h"

namespace {

namespace fs = std::filesystem;
namespace au = pm::automation;
using json = nlohmann::ordered_json;
using ujson = nlohmann::json;  // key order does not matter when comparing

std::string cases_dir() { return std::string(PM_TEST_DATA_DIR) + "/../automation/cases"; }

std::vector<fs::path> case_files() {
  std::vector<fs::path> out;
  for (const auto& e : fs::directory_iterator(cases_dir()))
    if (e.path().extension() == ".json") out.push_back(e.path());
  std::sort(out.begin(), out.end());
  return out;
}

json load(const fs::path& p) {
  std::ifstream in(p);
  return json::parse(in);
}

void check_case(const fs::path& path) {
  SCOPED_TRACE(path.filename().string());
  const json c = load(path);
  const std::string text = c.at("text").get<std::string>();
  pm::Result<au::LocalTime> now = au::parse_iso_local_time(c.at("now").get<std::string>());
  ASSERT_TRUE(now.is_ok()) << now.status().message();
  au::ToolRegistry registry;
  pm::Result<au::ParsedRequest> r = au::parse_request(text, *now, registry);
  if (c.contains("error")) {
    ASSERT_FALSE(r.is_ok()) << text << "\n  unexpectedly parsed into " << au::rule_to_json(r->rules.at(0)).dump();
    EXPECT_NE(r.status().message().find(c["error"].get<std::string>()), std::string::npos)
        << text << "\n  error: " << r.status().message()
        << "\n  expected to contain: " << c["error"].get<std::string>();
    return;
  }
  ASSERT_TRUE(r.is_ok()) << text << "\n  error: " << r.status().message();
  const json& expected = c.at("rules");
  ASSERT_EQ(r->rules.size(), expected.size()) << text;
  EXPECT_EQ(r->zh, au::is_chinese_text(text));
  for (size_t i = 0; i < expected.size(); ++i) {
    const json got = au::rule_to_json(r->rules[i]);
    const json& want = expected[i];
    for (const char* key : {"triggers", "conditions", "actions"})
      EXPECT_EQ(ujson(got.at(key)), ujson(want.value(key, json::array())))
          << text << "\n  rule " << i + 1 << " " << key;
    for (const char* key : {"mode", "name"})
      if (want.contains(key)) {
        EXPECT_EQ(got.at(key), want.at(key)) << text << "\n  rule " << i + 1 << " " << key;
      }
    EXPECT_FALSE(got.at("name").get<std::string>().empty());
    EXPECT_TRUE(au::validate(r->rules[i], registry).empty());
  }
}

TEST(AutomationCases, AllCasesParseAsExpected) {
  const std::vector<fs::path> files = case_files();
  ASSERT_GE(files.size(), 60u) << "expected at least 60 cases under " << cases_dir();
  for (const fs::path& p : files) check_case(p);
}

// The set of cases covers what the issue asks for: half Chinese, every trigger and condition
// type, every built-in tool, several events, multi-rule requests, bad input.
TEST(AutomationCases, CoverageOfTheCaseSet) {
  size_t good = 0, zh = 0, errors = 0, multi = 0;
  std::set<std::string> triggers, conditions, tools, events;
  for (const fs::path& p : case_files()) {
    const json c = load(p);
    if (c.contains("error")) {
      ++errors;
      continue;
    }
    ++good;
    if (au::is_chinese_text(c["text"].get<std::string>())) ++zh;
    if (c["rules"].size() > 1) ++multi;
    for (const json& r : c["rules"]) {
      for (const json& t : r["triggers"]) {
        triggers.insert(t["type"].get<std::string>());
        if (t.contains("event")) events.insert(t["event"].get<std::string>());
      }
      for (const json& k : r.value("conditions", json::array())) conditions.insert(k["type"].get<std::string>());
      for (const json& a : r["actions"]) tools.insert(a["tool"].get<std::string>());
    }
  }
  EXPECT_GE(good, 60u);
  EXPECT_GE(zh * 2, good);
  EXPECT_GE(errors, 5u);
  EXPECT_GE(multi, 3u);
  for (const std::string& t : au::trigger_types()) EXPECT_TRUE(triggers.count(t)) << "no case with trigger " << t;
  for (const std::string& t : au::condition_types()) EXPECT_TRUE(conditions.count(t)) << "no case with condition " << t;
  for (const au::ToolDef& t : au::builtin_tools()) EXPECT_TRUE(tools.count(t.name)) << "no case with tool " << t.name;
  EXPECT_GE(events.size(), 8u);
}

// A few cases through the real binary: --json output and exit codes.
TEST(AutomationCli, ParseExampleAsJson) {
  pm::test::CommandResult r = pm::test::run_pocketmind(
      {"automation", "parse", "--now", "2026-11-24T09:00:00+08:00", "--json",
       "每周一到周五早上6点半播报当天天气。戴上蓝牙耳机的时候，就播放收藏的歌曲，并把手机设为静音模式"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const ujson j = ujson::parse(r.out);
  ASSERT_EQ(j["rules"].size(), 2u);
  EXPECT_EQ(j["rules"][0]["triggers"][0],
            ujson::parse(R"({"type":"time","at":"06:30","weekdays":["mon","tue","wed","thu","fri"]})"));
  EXPECT_EQ(j["rules"][1]["actions"][1], ujson::parse(R"({"tool":"phone.set_ringer_mode","args":{"mode":"silent"}})"));
  EXPECT_TRUE(j["conflicts"].empty());
  // Chinese request -> Chinese confirmation.
  EXPECT_NE(j["confirmation"].get<std::string>().find("规则1"), std::string::npos);
  EXPECT_NE(j["confirmation"].get<std::string>().find("播报今天的天气"), std::string::npos);
}

TEST(AutomationCli, EnglishConfirmationText) {
  pm::test::CommandResult r = pm::test::run_pocketmind(
      {"automation", "parse", "--now", "2026-11-24T09:00:00+08:00", "Remind me at 9 tomorrow to call Bob"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.out.find("Rule 1: on 2026-11-25 at 09:00"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("call Bob"), std::string::npos) << r.out;
}

TEST(AutomationCli, ConflictsAreReported) {
  pm::test::CommandResult r =
      pm::test::run_pocketmind({"automation", "parse", "--now", "2026-11-24T09:00:00+08:00", "--json",
                                "每天晚上10点把手机设为静音。工作日晚上10点把手机设为响铃模式"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const ujson j = ujson::parse(r.out);
  ASSERT_EQ(j["conflicts"].size(), 1u) << r.out;
  EXPECT_EQ(j["conflicts"][0]["rules"], ujson::parse("[1,2]"));
  EXPECT_EQ(j["conflicts"][0]["text"], "冲突：规则1和规则2可能同时触发，却把铃声模式分别设为“静音”和“响铃”");
}

TEST(AutomationCli, NonsenseFailsCleanly) {
  pm::test::CommandResult r = pm::test::run_pocketmind({"automation", "parse", "--json", "order a pizza"});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_TRUE(r.out.empty());
  EXPECT_NE(r.err.find("could not understand: \"order a pizza\""), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("nothing was saved"), std::string::npos) << r.err;
}

TEST(AutomationCli, BadNowAndTimeAreRejected) {
  pm::test::CommandResult r =
      pm::test::run_pocketmind({"automation", "parse", "--now", "2026-13-45T09:00", "每天早上7点播报新闻"});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.err.find("--now"), std::string::npos) << r.err;
  r = pm::test::run_pocketmind({"automation", "parse", "--now", "2026-11-24T09:00:00+08:00", "每天25:61提醒我喝水"});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.err.find("25:61 is not a valid time"), std::string::npos) << r.err;
}

TEST(AutomationCli, TzConvertsNow) {
  // 01:00 UTC is 09:00 at +08:00: "in 20 minutes" is 09:20 local.
  pm::test::CommandResult r = pm::test::run_pocketmind(
      {"automation", "parse", "--now", "2026-11-24T01:00:00Z", "--tz", "+08:00", "--json", "20分钟后提醒我关火"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const ujson j = ujson::parse(r.out);
  EXPECT_EQ(j["rules"][0]["triggers"][0], ujson::parse(R"({"type":"time","at":"09:20","date":"2026-11-24"})"));
}

TEST(AutomationCli, HelpExists) {
  pm::test::CommandResult r = pm::test::run_pocketmind({"automation", "parse", "--help"});
  EXPECT_EQ(r.exit_code, 0);
  EXPECT_NE(r.out.find("--now"), std::string::npos);
}

// With a model: random weights, so the output must either be valid rules or be rejected cleanly.
TEST(AutomationCli, ModelOutputIsValidatedOrRejected) {
  PM_REQUIRE_FIXTURE(model, "gguf/qwen2-bpe-tiny-q8_0.gguf");
  pm::test::CommandResult r = pm::test::run_pocketmind({"automation", "parse", "-m", model, "-n", "200", "--now",
                                                        "2026-11-24T09:00:00+08:00", "--json", "每天早上7点播报新闻"});
  if (r.exit_code == 0) {
    const ujson j = ujson::parse(r.out);
    ASSERT_FALSE(j["rules"].empty());
    au::ToolRegistry registry;
    for (const ujson& rule : j["rules"]) {
      pm::Result<au::Rule> parsed = au::rule_from_json(json(rule));
      ASSERT_TRUE(parsed.is_ok()) << parsed.status().message();
      EXPECT_TRUE(au::validate(*parsed, registry).empty()) << rule.dump();
    }
  } else {
    EXPECT_EQ(r.exit_code, 1);
    EXPECT_NE(r.err.find("automation parse:"), std::string::npos) << r.err;
    EXPECT_EQ(r.err.find("Segmentation"), std::string::npos);
  }
}

}  // namespace

namespace {

// Corrupted requests (every case text cut at every 7th byte, mid-character included, and with
// bytes swapped for noise): each either parses into valid rules or fails with a message; none
// crashes.
TEST(AutomationCases, CorruptedRequestsNeverCrash) {
  au::ToolRegistry registry;
  const au::LocalTime now = *au::parse_iso_local_time("2026-11-24T09:00:00+08:00");
  size_t tried = 0;
  for (const fs::path& p : case_files()) {
    const std::string text = load(p).at("text").get<std::string>();
    for (size_t cut = 1; cut < text.size(); cut += 7) {
      for (int variant = 0; variant < 2; ++variant) {
        std::string t = text.substr(0, cut);
        if (variant == 1) t = t + "\xFF\xFE" + text.substr(cut);
        pm::Result<au::ParsedRequest> r = au::parse_request(t, now, registry);
        ++tried;
        if (r.is_ok()) {
          for (const au::Rule& rule : r->rules) EXPECT_TRUE(au::validate(rule, registry).empty()) << t;
        } else {
          EXPECT_FALSE(r.status().message().empty());
        }
      }
    }
  }
  EXPECT_GT(tried, 500u);
  EXPECT_FALSE(au::parse_request(std::string(2000, 'a'), now, registry).is_ok());
  EXPECT_FALSE(au::parse_request(std::string("\x01\x02", 2), now, registry).is_ok());
}

}  // namespace

namespace {

TEST(AutomationCli, ThirdPartyToolsFile) {
  const std::string dir = pm::test::temp_dir();
  const std::string good = dir + "/tools.json", clash = dir + "/clash.json", broken = dir + "/broken.json";
  std::ofstream(good) << R"([{"type": "function", "function": {"name": "taxi.order", "description": "Order a taxi",
                             "parameters": {"type": "object", "properties": {"to": {"type": "string"}}}}}])";
  std::ofstream(clash) << R"([{"name": "alarm.set", "description": "mine", "parameters": {"type": "object"}}])";
  std::ofstream(broken) << "[{";
  const std::vector<std::string> base = {"automation", "parse", "--now", "2026-11-24T09:00:00+08:00", "--tools"};
  auto run = [&](const std::string& file) {
    std::vector<std::string> args = base;
    args.push_back(file);
    args.push_back("每天早上7点播报新闻");
    return pm::test::run_pocketmind(args);
  };
  EXPECT_EQ(run(good).exit_code, 0) << run(good).err;
  pm::test::CommandResult r = run(clash);
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.err.find("built-in tool cannot be replaced"), std::string::npos) << r.err;
  r = run(broken);
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.err.find("not valid JSON"), std::string::npos) << r.err;
}

}  // namespace
