// `pocketmind automation add|list|disable|enable|remove|history|emit|simulate|run` through the real
// binary on a real rules database. Expected times are worked out by hand from the calendar
// (2026-11-23 is a Monday, 2026-11-24 a Tuesday; America/New_York springs forward on 2026-03-08).
#include <algorithm>
#include <fstream>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "test_util.h"

namespace pm::test {
namespace {

using nlohmann::json;

std::string write_file(const std::string& dir, const std::string& name, const std::string& text) {
  const std::string path = dir + "/" + name;
  std::ofstream(path, std::ios::binary) << text;
  return path;
}

// What `automation parse --json` prints: {"rules": [...]}.
constexpr const char* kRules = R"({"rules": [
 {"name": "weekday weather", "mode": "single",
  "triggers": [{"type": "time", "at": "06:30", "weekdays": ["mon","tue","wed","thu","fri"]},
               {"type": "event", "event": "headphones.connected"}],
  "conditions": [],
  "actions": [{"tool": "weather.read", "args": {"when": "today"}}]},
 {"name": "到家开灯", "mode": "single",
  "triggers": [{"type": "event", "event": "wifi.connected", "filter": {"ssid": "Home"}}],
  "actions": [{"tool": "settings.set", "args": {"setting": "wifi", "value": "on"}}, {"tool": "notification.show", "args": {"text": "欢迎回家"}}]}
]})";

std::vector<std::string> lines_of(const std::string& path) {
  std::vector<std::string> out;
  if (!file_exists(path)) return out;
  std::ifstream f(path);
  for (std::string l; std::getline(f, l);) out.push_back(l);
  return out;
}

TEST(AutomationSchedCli, AddNeedsConfirmationThenListDisableRemove) {
  const std::string dir = temp_dir(), db = dir + "/db";
  const std::string rules = write_file(dir, "rules.json", kRules);
  // stdin is a pipe, not a terminal: without --yes nothing is saved.
  CommandResult r = run_pocketmind({"automation", "add", "--db", db, "--rule-file", rules}, "y\n");
  EXPECT_NE(r.exit_code, 0);
  EXPECT_NE(r.err.find("--yes"), std::string::npos) << r.err;
  r = run_pocketmind({"automation", "add", "--db", db, "--rule-file", rules, "--yes", "--json"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  json added = json::parse(r.out);
  ASSERT_EQ(added["added"].size(), 2u);
  EXPECT_EQ(added["added"][0]["id"], "r1");
  EXPECT_EQ(added["added"][1]["id"], "r2");
  EXPECT_EQ(added["added"][1]["name"], "到家开灯");

  r = run_pocketmind({"automation", "list", "--db", db, "--json"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  json list = json::parse(r.out);
  ASSERT_EQ(list["rules"].size(), 2u);
  EXPECT_EQ(list["rules"][0]["rule"]["actions"][0]["tool"], "weather.read");
  EXPECT_EQ(list["rules"][1]["rule"]["name"], "到家开灯");
  EXPECT_TRUE(list["rules"][1]["enabled"].get<bool>());

  ASSERT_EQ(run_pocketmind({"automation", "disable", "r2", "--db", db}).exit_code, 0);
  list = json::parse(run_pocketmind({"automation", "list", "--db", db, "--json"}).out);
  EXPECT_FALSE(list["rules"][1]["enabled"].get<bool>());
  r = run_pocketmind({"automation", "list", "--db", db});
  EXPECT_NE(r.out.find("r2 [disabled] \"到家开灯\""), std::string::npos) << r.out;

  r = run_pocketmind({"automation", "remove", "r9", "--db", db});
  EXPECT_NE(r.exit_code, 0);
  EXPECT_NE(r.err.find("no rule with id 'r9'"), std::string::npos) << r.err;
  ASSERT_EQ(run_pocketmind({"automation", "remove", "r1", "--db", db}).exit_code, 0);
  list = json::parse(run_pocketmind({"automation", "list", "--db", db, "--json"}).out);
  ASSERT_EQ(list["rules"].size(), 1u);
  EXPECT_EQ(list["rules"][0]["id"], "r2");
}

TEST(AutomationSchedCli, BadRulesAreRefusedNamingTheField) {
  const std::string dir = temp_dir(), db = dir + "/db";
  const std::string bad = write_file(dir, "bad.json", R"({"name":"x","triggers":[{"type":"time","at":"06:30","weekdays":["funday"]}],
    "actions":[{"tool":"t"}]})");
  CommandResult r = run_pocketmind({"automation", "add", "--db", db, "--rule-file", bad, "--yes"});
  EXPECT_NE(r.exit_code, 0);
  EXPECT_NE(r.err.find("triggers[0].weekdays[0]"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("funday"), std::string::npos) << r.err;
  r = run_pocketmind({"automation", "add", "--db", db, "--rule-file", "-", "--yes"}, "{\"rules\": [");
  EXPECT_NE(r.exit_code, 0);
  EXPECT_NE(r.err.find("not valid JSON"), std::string::npos) << r.err;
  // Nothing was saved by the failed attempts.
  r = run_pocketmind({"automation", "list", "--db", db, "--json"});
  if (r.exit_code == 0) {
    EXPECT_TRUE(json::parse(r.out)["rules"].empty());
  }
}

TEST(AutomationSchedCli, SimulateAcrossWeekdaysAndDst) {
  const std::string dir = temp_dir(), db = dir + "/db";
  const std::string rules = write_file(dir, "rules.json", R"([
    {"name":"weekday weather","triggers":[{"type":"time","at":"06:30","weekdays":["mon","tue","wed","thu","fri"]}],
     "actions":[{"tool":"weather.read","args":{"when":"today"}}]},
    {"name":"night","triggers":[{"type":"time","at":"02:30"}],"actions":[{"tool":"settings.set","args":{"setting":"do_not_disturb","value":"on"}}]}])");
  ASSERT_EQ(run_pocketmind({"automation", "add", "--db", db, "--rule-file", rules, "--yes"}).exit_code, 0);
  // Sat 2026-03-07 .. Mon 2026-03-09 in New York: the weather rule fires on Monday only (EDT by then);
  // 02:30 on Sunday does not exist and fires at 03:00 EDT.
  CommandResult r = run_pocketmind({"automation", "simulate", "--db", db, "--from", "2026-03-07T00:00:00-05:00", "--to",
                                    "2026-03-09T12:00:00-04:00", "--tz", "America/New_York", "--json"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  json sim = json::parse(r.out);
  std::vector<std::string> got;
  for (const json& f : sim["firings"]) got.push_back(f["time"].get<std::string>() + " " + f["rule"].get<std::string>());
  EXPECT_EQ(got, (std::vector<std::string>{"2026-03-07T02:30:00-05:00 r2", "2026-03-08T03:00:00-04:00 r2",
                                           "2026-03-09T02:30:00-04:00 r2", "2026-03-09T06:30:00-04:00 r1"}));
  EXPECT_EQ(sim["firings"][3]["actions"][0]["args"]["when"], "today");
  // simulate writes no history.
  r = run_pocketmind({"automation", "history", "--db", db, "--json"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_TRUE(json::parse(r.out)["runs"].empty());
  // Text output names time, rule, trigger and actions.
  r = run_pocketmind({"automation", "simulate", "--db", db, "--from", "2026-11-23T00:00:00+08:00", "--to",
                      "2026-11-24T00:00:00+08:00", "--tz", "Asia/Shanghai"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.out.find("2026-11-23T06:30:00+08:00  r1 \"weekday weather\"  time 06:30 mon,tue,wed,thu,fri  -> weather.read {\"when\":\"today\"}"),
            std::string::npos) << r.out;
  EXPECT_NE(r.out.find("2026-11-23T02:30:00+08:00  r2"), std::string::npos) << r.out;
}

TEST(AutomationSchedCli, SimulateWithEventsAndState) {
  const std::string dir = temp_dir();
  const std::string rules = write_file(dir, "rules.json", R"({"name":"home wifi","triggers":[{"type":"event","event":"wifi.connected","filter":{"ssid":"Home"}}],
    "conditions":[{"type":"state","key":"ringer_mode","equals":"silent"}],"actions":[{"tool":"notification.show","args":{"text":"到家了"}}]})");
  const std::string events = write_file(dir, "events.jsonl",
                                        "{\"time\":\"2026-11-24T18:00:00+08:00\",\"event\":\"wifi.connected\",\"ssid\":\"Office\"}\n"
                                        "\n"
                                        "{\"time\":\"2026-11-24T19:00:00+08:00\",\"event\":\"wifi.connected\",\"ssid\":\"Home\"}\n");
  CommandResult r = run_pocketmind({"automation", "simulate", "--rule-file", rules, "--from", "2026-11-24T00:00:00+08:00", "--to",
                                    "2026-11-25T00:00:00+08:00", "--tz", "Asia/Shanghai", "--events", events, "--state",
                                    "ringer_mode=silent", "--json"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  json sim = json::parse(r.out);
  ASSERT_EQ(sim["firings"].size(), 1u);
  EXPECT_EQ(sim["firings"][0]["time"], "2026-11-24T19:00:00+08:00");
  EXPECT_EQ(sim["firings"][0]["status"], "fire");
  r = run_pocketmind({"automation", "simulate", "--rule-file", rules, "--from", "2026-11-24T00:00:00+08:00", "--to",
                      "2026-11-25T00:00:00+08:00", "--tz", "Asia/Shanghai", "--events", events, "--json"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(json::parse(r.out)["firings"][0]["status"], "skipped_condition");  // ringer mode unknown
  // A malformed events file is refused naming the line.
  const std::string bad = write_file(dir, "bad.jsonl", "{\"time\":\"2026-11-24T18:00:00+08:00\",\"event\":\"wifi.connected\"}\n{oops\n");
  r = run_pocketmind({"automation", "simulate", "--rule-file", rules, "--from", "2026-11-24T00:00:00+08:00", "--to",
                      "2026-11-25T00:00:00+08:00", "--events", bad});
  EXPECT_NE(r.exit_code, 0);
  EXPECT_NE(r.err.find("bad.jsonl:2"), std::string::npos) << r.err;
  r = run_pocketmind({"automation", "simulate", "--rule-file", rules, "--from", "yesterday", "--to", "2026-11-25T00:00:00+08:00"});
  EXPECT_NE(r.exit_code, 0);
  EXPECT_NE(r.err.find("--from"), std::string::npos) << r.err;
  r = run_pocketmind({"automation", "simulate", "--rule-file", rules, "--from", "2026-11-24T00:00:00+08:00", "--to",
                      "2026-11-25T00:00:00+08:00", "--tz", "Mars/Olympus"});
  EXPECT_NE(r.exit_code, 0);
  EXPECT_NE(r.err.find("Mars/Olympus"), std::string::npos) << r.err;
}

TEST(AutomationSchedCli, EmitRunsMatchingRulesThroughTheBridge) {
  const std::string dir = temp_dir(), db = dir + "/db";
  ASSERT_EQ(run_pocketmind({"automation", "add", "--db", db, "--rule-file", write_file(dir, "r.json", kRules), "--yes"}).exit_code, 0);
  CommandResult r = run_pocketmind({"automation", "emit", "--db", db, "wifi.connected", "ssid=Home", "--json"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  json out = json::parse(r.out);
  ASSERT_EQ(out["runs"].size(), 1u);
  EXPECT_EQ(out["runs"][0]["rule"], "r2");
  EXPECT_EQ(out["runs"][0]["status"], "ok");
  std::vector<std::string> calls = lines_of(db + "/device_calls.jsonl");
  ASSERT_EQ(calls.size(), 2u);
  json c0 = json::parse(calls[0]), c1 = json::parse(calls[1]);
  EXPECT_EQ(c0["rule"], "r2");
  EXPECT_EQ(c0["tool"], "settings.set");
  EXPECT_EQ(c1["args"]["text"], "欢迎回家");
  EXPECT_TRUE(c0.contains("time"));
  // `automation calls` shows the same log (a plain store: the plain file, as written).
  r = run_pocketmind({"automation", "calls", "--db", db, "--json"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  json shown = json::parse(r.out);
  EXPECT_EQ(shown["encrypted"], false);
  ASSERT_EQ(shown["calls"].size(), 2u) << r.out;
  EXPECT_EQ(shown["calls"][1], c1);
  r = run_pocketmind({"automation", "calls", "--db", db, "--tail", "1"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.out, calls[1] + "\n");
  // Other network: filter does not match, nothing runs.
  r = run_pocketmind({"automation", "emit", "--db", db, "wifi.connected", "ssid=Office"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.out.find("no enabled rule matched"), std::string::npos) << r.out;
  EXPECT_EQ(lines_of(db + "/device_calls.jsonl").size(), 2u);
  // Malformed events: clear errors, non-zero exit, nothing run.
  r = run_pocketmind({"automation", "emit", "--db", db, "phone.exploded"});
  EXPECT_NE(r.exit_code, 0);
  EXPECT_NE(r.err.find("unknown event 'phone.exploded'"), std::string::npos) << r.err;
  r = run_pocketmind({"automation", "emit", "--db", db, "wifi.connected", "ssid"});
  EXPECT_NE(r.exit_code, 0);
  EXPECT_NE(r.err.find("KEY=VALUE"), std::string::npos) << r.err;
  r = run_pocketmind({"automation", "emit", "--db", db, "wifi.connected", "ssid=\xff\xfe", "--json"});
  EXPECT_NE(r.exit_code, 0);
  EXPECT_NE(r.err.find("UTF-8"), std::string::npos) << r.err;
  r = run_pocketmind({"automation", "emit", "--db", db, "location.arrived"});
  EXPECT_NE(r.exit_code, 0);
  EXPECT_NE(r.err.find("place"), std::string::npos) << r.err;
  EXPECT_EQ(lines_of(db + "/device_calls.jsonl").size(), 2u);
  // A hanging tool times out, recorded in history; the other matching rule is unaffected.
  r = run_pocketmind({"automation", "emit", "--db", db, "headphones.connected", "--hang-tool", "weather.read", "--timeout-ms", "300"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.out.find("r1 \"weekday weather\": timeout"), std::string::npos) << r.out;
  r = run_pocketmind({"automation", "history", "--db", db, "--rule", "r1", "--json"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  json h = json::parse(r.out);
  ASSERT_EQ(h["runs"].size(), 1u);
  EXPECT_EQ(h["runs"][0]["status"], "timeout");
  EXPECT_EQ(h["runs"][0]["trigger"], "event headphones.connected");
}

TEST(AutomationSchedCli, RunSurvivesRestartsWithoutDoublingAndReportsMissed) {
  const std::string dir = temp_dir(), db = dir + "/db";
  ASSERT_EQ(run_pocketmind({"automation", "add", "--db", db, "--yes", "--rule-file",
                            write_file(dir, "r.json", R"({"name":"早安","triggers":[{"type":"time","at":"07:00"}],
                              "actions":[{"tool":"notification.show","args":{"text":"早上好"}}]})")})
                .exit_code,
            0);
  // The rule was added "now" (2026 or later on this machine's clock): run a virtual clock from a
  // later date so that its days count. First run: 2030-01-01 00:00 -> 2030-01-03 00:00 (+08:00).
  const std::vector<std::string> base = {"automation", "run", "--db", db, "--tz", "Asia/Shanghai", "--json"};
  auto run = [&](const std::string& start, const std::string& until) {
    std::vector<std::string> args = base;
    for (const std::string& a : {std::string("--start-at"), start, std::string("--until"), until}) args.push_back(a);
    return run_pocketmind(args);
  };
  CommandResult r = run("2030-01-01T00:00:00+08:00", "2030-01-03T00:00:00+08:00");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  // Every day between the rule's creation and 2030-01-01 was missed (reported), then two ran.
  EXPECT_NE(r.err.find("missed while the scheduler was not running"), std::string::npos) << r.err;
  EXPECT_EQ(lines_of(db + "/device_calls.jsonl").size(), 2u);
  // Restart at the same moment: nothing runs twice.
  r = run("2030-01-03T00:00:00+08:00", "2030-01-03T00:00:00+08:00");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.err.find("missed"), std::string::npos) << r.err;
  EXPECT_EQ(lines_of(db + "/device_calls.jsonl").size(), 2u);
  // Down until 2030-01-05 12:00: the 3rd, 4th and 5th 07:00 are missed, reported, not run; the 6th runs.
  r = run("2030-01-05T12:00:00+08:00", "2030-01-06T12:00:00+08:00");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.err.find("3 runs were missed"), std::string::npos) << r.err;
  std::vector<std::string> calls = lines_of(db + "/device_calls.jsonl");
  ASSERT_EQ(calls.size(), 3u);
  EXPECT_EQ(json::parse(calls[2])["time"], "2030-01-05T23:00:00Z");  // 2030-01-06 07:00 +08:00
  r = run_pocketmind({"automation", "history", "--db", db, "--tz", "Asia/Shanghai", "--json"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  json runs = json::parse(r.out)["runs"];
  ASSERT_GE(runs.size(), 6u);
  const size_t n = runs.size();
  EXPECT_EQ(runs[n - 4]["scheduled"], "2030-01-03T07:00:00+08:00");
  EXPECT_EQ(runs[n - 4]["status"], "missed");
  EXPECT_EQ(runs[n - 2]["scheduled"], "2030-01-05T07:00:00+08:00");
  EXPECT_EQ(runs[n - 1]["scheduled"], "2030-01-06T07:00:00+08:00");
  EXPECT_EQ(runs[n - 1]["status"], "ok");
}

TEST(AutomationSchedCli, DaemonTakesBridgeEventsOnStdinAndSurvivesGarbage) {
  const std::string dir = temp_dir(), db = dir + "/db";
  ASSERT_EQ(run_pocketmind({"automation", "add", "--db", db, "--rule-file", write_file(dir, "r.json", kRules), "--yes"}).exit_code, 0);
  // Garbage, an unknown event and a wrongly typed parameter are rejected line by line; the good
  // events still run (stdin's end stops the daemon).
  CommandResult r = run_pocketmind({"automation", "run", "--db", db, "--events-stdin", "--tz", "Asia/Shanghai"},
                                   "garbage\n{\"event\":\"phone.exploded\"}\n{\"event\":\"wifi.connected\",\"ssid\":7}\n"
                                   "{\"event\":\"wifi.connected\",\"ssid\":\"Home\"}\n{\"event\":\"headphones.connected\"}\n");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.err.find("stdin line 1 rejected"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("stdin line 2 rejected"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("stdin line 3 rejected"), std::string::npos) << r.err;
  std::vector<std::string> tools;
  for (const std::string& l : lines_of(db + "/device_calls.jsonl")) tools.push_back(json::parse(l)["tool"]);
  std::sort(tools.begin(), tools.end());  // the two rules run concurrently
  EXPECT_EQ(tools, (std::vector<std::string>{"notification.show", "settings.set", "weather.read"}));
}

TEST(AutomationSchedCli, EveryVerbHasHelpAndMissingDbIsAnError) {
  for (const char* verb : {"add", "list", "remove", "enable", "disable", "history", "emit", "simulate", "run"}) {
    CommandResult r = run_pocketmind({"automation", verb, "--help"});
    EXPECT_EQ(r.exit_code, 0) << verb;
    EXPECT_NE(r.out.find("--db"), std::string::npos) << verb << ": " << r.out;
  }
  const std::string dir = temp_dir();
  CommandResult r = run_pocketmind({"automation", "list", "--db", dir + "/nothing-here"});
  EXPECT_NE(r.exit_code, 0);
  EXPECT_NE(r.err.find("no automation rules here"), std::string::npos) << r.err;
}

// `add` takes a request in plain language too: parsed as `automation parse` does, validated
// against the tool catalog, confirmed, saved; rules that break a tool's schema are refused whole.
TEST(AutomationSchedCli, AddFromTextAndValidatesAgainstTheCatalog) {
  const std::string dir = temp_dir(), db = dir + "/db";
  CommandResult r = run_pocketmind({"automation", "add", "--db", db, "--now", "2026-11-24T09:00:00+08:00", "--yes", "--json",
                                    "每周一到周五早上6点半播报当天天气。戴上蓝牙耳机的时候，就播放收藏的歌曲，并把手机设为静音模式"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(json::parse(r.out)["added"].size(), 2u) << r.out;
  r = run_pocketmind({"automation", "list", "--db", db, "--json"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.out.find("weather.read"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("phone.set_ringer_mode"), std::string::npos) << r.out;

  r = run_pocketmind({"automation", "add", "--db", db, "--yes", "blorp the frobnicator"});
  EXPECT_NE(r.exit_code, 0);
  EXPECT_NE(r.err.find("nothing was saved"), std::string::npos) << r.err;
  const std::string loud = write_file(dir, "loud.json", R"({"name":"loud","triggers":[{"type":"time","at":"07:00"}],
      "actions":[{"tool":"phone.set_volume","args":{"stream":"media","level":150}}]})");
  r = run_pocketmind({"automation", "add", "--db", db, "--rule-file", loud, "--yes"});
  EXPECT_NE(r.exit_code, 0);
  EXPECT_NE(r.err.find("actions[0].args.level"), std::string::npos) << r.err;
  r = run_pocketmind({"automation", "list", "--db", db, "--json"});
  EXPECT_EQ(r.out.find("loud"), std::string::npos) << r.out;
}

}  // namespace
}  // namespace pm::test
