// Unit tests: time normalizer, rule validation (messages with JSON paths), JSON round trip,
// conflict detection, tool registry, confirmation text.
#include "assistant/automation/rule.h"

#include <gtest/gtest.h>

#include "assistant/automation/rule_parser.h"
#include "assistant/automation/tool_catalog.h"

namespace {

namespace au = pm::automation;
using json = nlohmann::ordered_json;

au::Rule rule_of(const char* text) {
  pm::Result<au::Rule> r = au::rule_from_json(json::parse(text));
  EXPECT_TRUE(r.is_ok()) << r.status().message();
  return r.is_ok() ? *r : au::Rule{};
}

bool has_problem(const std::vector<std::string>& problems, const std::string& text) {
  for (const std::string& p : problems)
    if (p.find(text) != std::string::npos) return true;
  return false;
}

std::string joined(const std::vector<std::string>& v) {
  std::string s;
  for (const std::string& x : v) s += x + "\n";
  return s;
}

TEST(NormalizeTime, PadsAndRejects) {
  EXPECT_EQ(*au::normalize_time("6:30"), "06:30");
  EXPECT_EQ(*au::normalize_time("06:30"), "06:30");
  EXPECT_EQ(*au::normalize_time("7"), "07:00");
  EXPECT_EQ(*au::normalize_time("23:59"), "23:59");
  EXPECT_EQ(*au::normalize_time("6\xEF\xBC\x9A"
                                "05"),
            "06:05");  // full-width colon
  pm::Result<std::string> bad = au::normalize_time("25:61");
  ASSERT_FALSE(bad.is_ok());
  EXPECT_NE(bad.status().message().find("25:61 is not a valid time"), std::string::npos);
  EXPECT_FALSE(au::normalize_time("24:00").is_ok());
  EXPECT_FALSE(au::normalize_time("6:3").is_ok());
  EXPECT_FALSE(au::normalize_time("six").is_ok());
  EXPECT_FALSE(au::normalize_time("").is_ok());
}

TEST(Validate, DesignExampleIsValid) {
  au::Rule r = rule_of(R"({"name": "weekday weather", "mode": "single",
    "triggers": [{"type": "time", "at": "06:30", "weekdays": ["mon","tue","wed","thu","fri"]},
                 {"type": "event", "event": "headphones.connected"}],
    "conditions": [],
    "actions": [{"tool": "weather.read", "args": {"when": "today"}}]})");
  au::ToolRegistry reg;
  EXPECT_TRUE(au::validate(r, reg).empty()) << joined(au::validate(r, reg));
}

TEST(Validate, ReportsEveryProblemWithItsPath) {
  au::Rule r = rule_of(R"({"name": "x", "mode": "sometimes",
    "triggers": [{"type": "time", "at": "25:61"}, {"type": "event", "event": "door.opened"},
                 {"type": "interval", "every_minutes": 0}],
    "conditions": [{"type": "battery", "below": 120}, {"type": "state", "key": "ringer_mode", "equals": "loud"}],
    "actions": [{"tool": "phone.set_ringer_mode", "args": {"mode": "loud"}},
                {"tool": "phone.set_volume", "args": {"stream": "media", "level": 150}},
                {"tool": "pizza.order", "args": {}},
                {"tool": "sms.send", "args": {"to": "Bob"}},
                {"tool": "weather.read", "args": {"when": "today", "colour": "red"}}]})");
  au::ToolRegistry reg;
  const std::vector<std::string> p = au::validate(r, reg);
  const std::string all = joined(p);
  EXPECT_TRUE(has_problem(p, "mode: \"sometimes\" is not one of")) << all;
  EXPECT_TRUE(has_problem(p, "triggers[0].at: 25:61 is not a valid time")) << all;
  EXPECT_TRUE(has_problem(p, "triggers[1].event: unknown event \"door.opened\"")) << all;
  EXPECT_TRUE(has_problem(p, "triggers[2].every_minutes:")) << all;
  EXPECT_TRUE(has_problem(p, "conditions[0].below: 120 is not a percentage")) << all;
  EXPECT_TRUE(has_problem(p, "conditions[1].equals: \"loud\" is not one of silent, vibrate, normal")) << all;
  EXPECT_TRUE(has_problem(p, "actions[0].args.mode: \"loud\" is not one of silent, vibrate, normal")) << all;
  EXPECT_TRUE(has_problem(p, "actions[1].args.level: 150 is above the maximum 100")) << all;
  EXPECT_TRUE(has_problem(p, "actions[2].tool: unknown tool \"pizza.order\"")) << all;
  EXPECT_TRUE(has_problem(p, "actions[3].args.text: missing")) << all;
  EXPECT_TRUE(has_problem(p, "actions[4].args.colour: unknown argument")) << all;
}

TEST(Validate, TriggerDetails) {
  au::ToolRegistry reg;
  au::Rule r = rule_of(R"({"name": "x", "triggers": [
      {"type": "time", "at": "07:00", "date": "2026-02-30"},
      {"type": "time", "at": "07:00", "weekdays": ["mon", "funday", "mon"]},
      {"type": "interval", "every_minutes": 30, "between": ["09:00", "17:75"]},
      {"type": "event", "event": "location.arrived"},
      {"type": "event", "event": "wifi.connected", "filter": {"colour": "red"}},
      {"type": "sunrise"}],
    "actions": [{"tool": "news.read", "args": {}}]})");
  const std::vector<std::string> p = au::validate(r, reg);
  const std::string all = joined(p);
  EXPECT_TRUE(has_problem(p, "triggers[0].date: \"2026-02-30\" is not a calendar date")) << all;
  EXPECT_TRUE(has_problem(p, "triggers[1].weekdays[1]: \"funday\"")) << all;
  EXPECT_TRUE(has_problem(p, "triggers[1].weekdays[2]: \"mon\" is repeated")) << all;
  EXPECT_TRUE(has_problem(p, "triggers[2].between[1]: 17:75 is not a valid time")) << all;
  EXPECT_TRUE(has_problem(p, "triggers[3].filter.place: missing")) << all;
  EXPECT_TRUE(has_problem(p, "triggers[4].filter: event wifi.connected has no filter \"colour\"")) << all;
  EXPECT_TRUE(has_problem(p, "triggers[5].type: unknown trigger type \"sunrise\"")) << all;
}

TEST(Validate, SettingsValuesDependOnTheSetting) {
  au::ToolRegistry reg;
  au::Rule r = rule_of(R"({"name": "x", "triggers": [{"type": "event", "event": "charger.connected"}],
    "actions": [{"tool": "settings.set", "args": {"setting": "brightness", "value": "on"}},
                {"tool": "settings.set", "args": {"setting": "wifi", "value": 50}},
                {"tool": "settings.set", "args": {"setting": "wifi", "value": "on"}},
                {"tool": "settings.set", "args": {"setting": "brightness", "value": 40}}]})");
  const std::vector<std::string> p = au::validate(r, reg);
  EXPECT_EQ(p.size(), 2u) << joined(p);
  EXPECT_TRUE(has_problem(p, "actions[0].args.value: brightness takes a level 0-100")) << joined(p);
  EXPECT_TRUE(has_problem(p, "actions[1].args.value: wifi takes \"on\" or \"off\"")) << joined(p);
}

TEST(Validate, EmptyRule) {
  au::ToolRegistry reg;
  au::Rule r;
  const std::vector<std::string> p = au::validate(r, reg);
  EXPECT_TRUE(has_problem(p, "name: empty"));
  EXPECT_TRUE(has_problem(p, "triggers: empty"));
  EXPECT_TRUE(has_problem(p, "actions: empty"));
}

TEST(RuleJson, RoundTripAndNormalize) {
  au::Rule r = rule_of(R"({"name": "n", "mode": "queued", "enabled": false,
    "triggers": [{"type": "time", "at": "6:30", "weekdays": ["fri", "mon"]}],
    "conditions": [{"type": "time_between", "after": "22:00", "before": "7:00"}],
    "actions": [{"tool": "alarm.set", "args": {"time": "7:05"}}]})");
  au::normalize_rule(r);
  const json j = au::rule_to_json(r);
  EXPECT_EQ(j["triggers"][0]["at"], "06:30");
  EXPECT_EQ(j["triggers"][0]["weekdays"], json::parse(R"(["mon","fri"])"));
  EXPECT_EQ(j["conditions"][0]["before"], "07:00");
  EXPECT_EQ(j["actions"][0]["args"]["time"], "07:05");
  EXPECT_EQ(j["enabled"], false);
  EXPECT_EQ(j["mode"], "queued");
  pm::Result<au::Rule> back = au::rule_from_json(j);
  ASSERT_TRUE(back.is_ok());
  EXPECT_EQ(au::rule_to_json(*back), j);
  // Enabled rules are written exactly in DESIGN.md's form (no "enabled" key).
  r.enabled = true;
  EXPECT_FALSE(au::rule_to_json(r).contains("enabled"));
}

TEST(RuleJson, StructuralErrors) {
  EXPECT_FALSE(au::rule_from_json(json::parse("[]")).is_ok());
  EXPECT_FALSE(au::rule_from_json(json::parse(R"({"name": 3, "triggers": [], "actions": []})")).is_ok());
  EXPECT_FALSE(au::rule_from_json(json::parse(R"({"name": "x", "triggers": []})")).is_ok());
  EXPECT_FALSE(au::rule_from_json(json::parse(R"({"name": "x", "triggers": [], "actions": [], "colour": 1})")).is_ok());
  EXPECT_FALSE(au::rule_from_json(json::parse(R"({"name": "x", "triggers": [], "actions": [{"args": {}}]})")).is_ok());
}

au::Rule ringer_rule(const std::string& trigger, const std::string& mode) {
  return rule_of(("{\"name\": \"" + mode + "\", \"triggers\": [" + trigger +
                  "], \"actions\": [{\"tool\": \"phone.set_ringer_mode\", \"args\": {\"mode\": \"" + mode + "\"}}]}")
                     .c_str());
}

TEST(Conflicts, SameMomentDifferentRingerModes) {
  const std::string daily22 = R"({"type": "time", "at": "22:00"})";
  const std::string weekdays22 = R"({"type": "time", "at": "22:00", "weekdays": ["mon","tue","wed","thu","fri"]})";
  const std::string weekend22 = R"({"type": "time", "at": "22:00", "weekdays": ["sat","sun"]})";
  const std::string friday_date = R"({"type": "time", "at": "22:00", "date": "2026-11-27"})";  // a Friday
  const std::string saturday_date = R"({"type": "time", "at": "22:00", "date": "2026-11-28"})";
  const std::string at23 = R"({"type": "time", "at": "23:00"})";
  std::vector<au::Rule> rules = {ringer_rule(daily22, "silent"), ringer_rule(weekdays22, "normal")};
  ASSERT_EQ(au::find_conflicts(rules).size(), 1u);
  EXPECT_NE(au::find_conflicts(rules)[0].message.find("\"silent\" and \"normal\""), std::string::npos);
  EXPECT_TRUE(au::find_conflicts({ringer_rule(weekend22, "silent"), ringer_rule(weekdays22, "normal")}).empty());
  EXPECT_TRUE(au::find_conflicts({ringer_rule(daily22, "silent"), ringer_rule(at23, "normal")}).empty());
  EXPECT_TRUE(au::find_conflicts({ringer_rule(daily22, "silent"), ringer_rule(daily22, "silent")}).empty());
  EXPECT_EQ(au::find_conflicts({ringer_rule(friday_date, "silent"), ringer_rule(weekdays22, "vibrate")}).size(), 1u);
  EXPECT_TRUE(au::find_conflicts({ringer_rule(saturday_date, "silent"), ringer_rule(weekdays22, "vibrate")}).empty());
}

TEST(Conflicts, EventsAndWithinOneRule) {
  const std::string home = R"({"type": "event", "event": "location.arrived", "filter": {"place": "home"}})";
  const std::string work = R"({"type": "event", "event": "location.arrived", "filter": {"place": "work"}})";
  EXPECT_EQ(au::find_conflicts({ringer_rule(home, "silent"), ringer_rule(home, "normal")}).size(), 1u);
  EXPECT_TRUE(au::find_conflicts({ringer_rule(home, "silent"), ringer_rule(work, "normal")}).empty());
  au::Rule both = rule_of(R"({"name": "both", "triggers": [{"type": "event", "event": "charger.connected"}],
    "actions": [{"tool": "settings.set", "args": {"setting": "wifi", "value": "on"}},
                {"tool": "settings.set", "args": {"setting": "wifi", "value": "off"}}]})");
  const std::vector<au::Conflict> c = au::find_conflicts({both});
  ASSERT_EQ(c.size(), 1u);
  EXPECT_EQ(c[0].rule_a, 0u);
  EXPECT_EQ(c[0].rule_b, 0u);
}

TEST(Registry, BuiltinsAndThirdPartyTools) {
  au::ToolRegistry reg;
  EXPECT_EQ(reg.tools().size(), 17u);
  ASSERT_NE(reg.find("alarm.set"), nullptr);
  EXPECT_TRUE(reg.find("alarm.set")->builtin);
  json schema = json::parse(R"({"type": "object", "properties": {"to": {"type": "string"}}, "required": ["to"],
                                "additionalProperties": false})");
  EXPECT_TRUE(reg.add({"taxi.order", "Order a taxi", schema, false}).is_ok());
  ASSERT_NE(reg.find("taxi.order"), nullptr);
  EXPECT_FALSE(reg.find("taxi.order")->builtin);
  pm::Status dup = reg.add({"alarm.set", "mine", schema, false});
  EXPECT_FALSE(dup.is_ok());
  EXPECT_NE(dup.message().find("built-in tool cannot be replaced"), std::string::npos);
  EXPECT_FALSE(reg.add({"taxi.order", "again", schema, false}).is_ok());
  EXPECT_FALSE(reg.add({"Taxi Order", "bad name", schema, false}).is_ok());
  EXPECT_FALSE(reg.add({"taxi", "no dot", schema, false}).is_ok());
  EXPECT_FALSE(reg.add({"taxi.call", "", schema, false}).is_ok());
  EXPECT_FALSE(reg.add({"taxi.call", "array schema", json::parse(R"({"type": "array"})"), false}).is_ok());
  // A rule using the registered tool validates against its schema.
  au::Rule r = rule_of(
      R"({"name": "taxi", "triggers": [{"type": "event", "event": "location.left", "filter": {"place": "work"}}],
    "actions": [{"tool": "taxi.order", "args": {}}]})");
  EXPECT_TRUE(has_problem(au::validate(r, reg), "actions[0].args.to: missing"));
  EXPECT_TRUE(has_problem(au::validate(r, au::ToolRegistry()), "unknown tool \"taxi.order\""));
}

TEST(Confirmation, ChineseAndEnglish) {
  au::Rule r = rule_of(
      R"({"name": "n", "triggers": [{"type": "time", "at": "06:30", "weekdays": ["mon","tue","wed","thu","fri"]}],
    "actions": [{"tool": "weather.read", "args": {"when": "today"}}]})");
  EXPECT_EQ(au::confirmation_text({r}, true), "规则1：每周一至周五 06:30，播报今天的天气。\n");
  EXPECT_EQ(au::confirmation_text({r}, false), "Rule 1: on weekdays (Mon-Fri) at 06:30, read today's weather.\n");
}

TEST(ParseTime, IsoAndOffsets) {
  pm::Result<au::LocalTime> t = au::parse_iso_local_time("2026-11-24T09:00:00+08:00");
  ASSERT_TRUE(t.is_ok());
  EXPECT_EQ(t->utc_offset_minutes, 480);
  const au::LocalTime utc = au::to_offset(*t, 0);
  EXPECT_EQ(utc.hour, 1);
  EXPECT_EQ(utc.day, 24);
  const au::LocalTime ny = au::to_offset(*t, -300);
  EXPECT_EQ(ny.day, 23);
  EXPECT_EQ(ny.hour, 20);
  EXPECT_FALSE(au::parse_iso_local_time("2026-02-29T09:00").is_ok());
  EXPECT_FALSE(au::parse_iso_local_time("tomorrow").is_ok());
  EXPECT_FALSE(au::parse_utc_offset("+25:00").is_ok());
  EXPECT_EQ(*au::parse_utc_offset("-05:30"), -330);
}

}  // namespace

#include "assistant/automation/model_parser.h"
#include "generate/grammar/grammar.h"
#include "generate/grammar/json_schema.h"
#include "generate/tool_calls.h"

namespace {

TEST(ModelOutput, SchemaCompilesToAGrammar) {
  au::ToolRegistry reg;
  ASSERT_TRUE(
      reg.add({"taxi.order", "Order a taxi",
               json::parse(R"({"type": "object", "properties": {"to": {"type": "string"}}, "required": ["to"]})"),
               false})
          .is_ok());
  const json schema = au::rules_output_schema(reg);
  pm::Result<std::string> gbnf = pm::json_schema_value_to_gbnf(schema);
  ASSERT_TRUE(gbnf.is_ok()) << gbnf.status().message();
  EXPECT_TRUE(pm::parse_grammar(*gbnf).is_ok());
  EXPECT_NE(gbnf->find("taxi.order"), std::string::npos);  // third-party tools are offered to the model
  // The design example is valid under the output schema, and the prompt names every tool.
  const json example = json::parse(R"({"rules": [{"name": "weekday weather", "mode": "single",
      "triggers": [{"type": "time", "at": "06:30", "weekdays": ["mon","tue","wed","thu","fri"]}],
      "conditions": [], "actions": [{"tool": "weather.read", "args": {"when": "today"}}]}]})");
  EXPECT_TRUE(pm::validate_json(schema, example).is_ok()) << pm::validate_json(schema, example).message();
  const au::LocalTime now = *au::parse_iso_local_time("2026-11-24T09:00:00+08:00");
  for (bool compact : {false, true}) {
    const std::string prompt = au::model_prompt("每天早上7点播报新闻", now, reg, compact);
    for (const au::ToolDef& t : reg.tools()) EXPECT_NE(prompt.find(t.name), std::string::npos) << t.name;
    EXPECT_NE(prompt.find("2026-11-24T09:00"), std::string::npos);
  }
}

TEST(ModelOutput, GoesThroughNormalizerAndValidator) {
  au::ToolRegistry reg;
  pm::Result<au::ParsedRequest> ok = au::rules_from_model_output(
      R"({"rules": [{"name": "n", "mode": "single", "triggers": [{"type": "time", "at": "6:30", "weekdays": ["fri", "mon"]}],
          "conditions": [], "actions": [{"tool": "news.read", "args": {}}]}]})",
      "每周一和周五早上6点半播报新闻", reg);
  ASSERT_TRUE(ok.is_ok()) << ok.status().message();
  EXPECT_TRUE(ok->zh);
  EXPECT_EQ(ok->rules[0].triggers[0]["at"], "06:30");
  EXPECT_EQ(ok->rules[0].triggers[0]["weekdays"], json::parse(R"(["mon","fri"])"));
  pm::Result<au::ParsedRequest> bad = au::rules_from_model_output(
      R"({"rules": [{"name": "n", "mode": "single", "triggers": [{"type": "time", "at": "25:61"}],
          "conditions": [], "actions": [{"tool": "phone.set_volume", "args": {"stream": "media", "level": 150}}]}]})",
      "x", reg);
  ASSERT_FALSE(bad.is_ok());
  EXPECT_NE(bad.status().message().find("triggers[0].at: 25:61 is not a valid time"), std::string::npos)
      << bad.status().message();
  EXPECT_NE(bad.status().message().find("actions[0].args.level: 150 is above the maximum 100"), std::string::npos);
  EXPECT_FALSE(au::rules_from_model_output("not json", "x", reg).is_ok());
  EXPECT_FALSE(au::rules_from_model_output(R"({"rules": []})", "x", reg).is_ok());
  EXPECT_FALSE(au::rules_from_model_output(
                   R"({"rules": [{"name": "n", "triggers": [], "actions": [{"tool": "pizza.order"}]}]})", "x", reg)
                   .is_ok());
}

}  // namespace
