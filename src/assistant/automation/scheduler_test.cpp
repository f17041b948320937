// Scheduler unit tests. Every expected instant below was worked out by hand from the calendar:
//   2026-11-20 is a Friday, 2026-11-23 a Monday, 2026-11-24 a Tuesday (2026-11-30 is a Monday).
//   America/New_York: spring forward Sun 2026-03-08 02:00 EST -> 03:00 EDT (07:00Z);
//                     fall back    Sun 2026-11-01 02:00 EDT -> 01:00 EST (06:00Z).
//   Europe/Berlin:    spring forward Sun 2026-03-29 02:00 CET -> 03:00 CEST (01:00Z);
//                     fall back    Sun 2026-10-25 03:00 CEST -> 02:00 CET (01:00Z).
//   Asia/Shanghai:    +08:00 all year.
#include "assistant/automation/scheduler.h"

#include <chrono>
#include <thread>

#include <gtest/gtest.h>

#include "assistant/automation/tool_catalog.h"
#include "store/time_util.h"
#include "test_util.h"

namespace pm::automation {
namespace {

using nlohmann::json;

int64_t at(const std::string& iso) {
  Result<store::Timestamp> t = store::parse_iso8601(iso);
  EXPECT_TRUE(t.is_ok()) << iso;
  return t.is_ok() ? t->epoch_s : 0;
}

Zone zone(const std::string& id) {
  Result<Zone> z = Zone::open(id);
  EXPECT_TRUE(z.is_ok()) << z.status().to_string();
  return *z;
}

RuleSpec rule(const std::string& text, const std::string& id = "r1") {
  Result<RuleSpec> r = parse_rule(json::parse(text));
  EXPECT_TRUE(r.is_ok()) << r.status().to_string();
  RuleSpec out = r.is_ok() ? *r : RuleSpec{};
  out.id = id;
  return out;
}

// Times at which `r` fires (conditions holding) in (from, to], formatted in the zone.
std::vector<std::string> fires(const RuleSpec& r, const std::string& tz, const std::string& from, const std::string& to,
                               std::vector<TimedEvent> events = {}, DeviceState state = {}) {
  const Zone z = zone(tz);
  std::vector<std::string> out;
  for (const SimFiring& f : simulate({r}, z, at(from), at(to), events, state))
    out.push_back(z.format(f.time) + (f.fired ? "" : " skipped"));
  return out;
}

using V = std::vector<std::string>;

TEST(SchedulerTime, WeekdaysOnlyInShanghai) {
  RuleSpec r = rule(R"({"name":"weekday weather","mode":"single",
    "triggers":[{"type":"time","at":"06:30","weekdays":["mon","tue","wed","thu","fri"]}],
    "actions":[{"tool":"weather.read","args":{"when":"today"}}]})");
  // Fri 20th, (Sat, Sun skipped), Mon 23rd, Tue 24th.
  EXPECT_EQ(fires(r, "Asia/Shanghai", "2026-11-20T00:00:00+08:00", "2026-11-25T00:00:00+08:00"),
            (V{"2026-11-20T06:30:00+08:00", "2026-11-23T06:30:00+08:00", "2026-11-24T06:30:00+08:00"}));
}

TEST(SchedulerTime, WeekendOnlyAndEveryDay) {
  RuleSpec r = rule(R"({"name":"周末","triggers":[{"type":"time","at":"09:00","weekdays":["sat","sun"]}],
    "actions":[{"tool":"notification.show","args":{"text":"周末愉快"}}]})");
  EXPECT_EQ(fires(r, "Asia/Shanghai", "2026-11-20T00:00:00+08:00", "2026-11-25T00:00:00+08:00"),
            (V{"2026-11-21T09:00:00+08:00", "2026-11-22T09:00:00+08:00"}));
  RuleSpec d = rule(R"({"name":"daily","triggers":[{"type":"time","at":"23:59"}],"actions":[{"tool":"x"}]})");
  EXPECT_EQ(fires(d, "Asia/Shanghai", "2026-11-23T23:59:00+08:00", "2026-11-25T23:59:00+08:00"),
            (V{"2026-11-24T23:59:00+08:00", "2026-11-25T23:59:00+08:00"}));  // from is exclusive, to inclusive
}

TEST(SchedulerTime, DatedTriggerFiresOnce) {
  RuleSpec r = rule(R"({"name":"明天下午3点开会","triggers":[{"type":"time","at":"15:00","date":"2026-11-25"}],
    "actions":[{"tool":"notification.show","args":{"text":"开会"}}]})");
  EXPECT_EQ(fires(r, "Asia/Shanghai", "2026-11-24T10:00:00+08:00", "2026-12-31T00:00:00+08:00"),
            (V{"2026-11-25T15:00:00+08:00"}));
  EXPECT_FALSE(next_fire(r.triggers[0], zone("Asia/Shanghai"), at("2026-11-25T15:00:00+08:00")).has_value());
  // A date that is not one of the listed weekdays never fires (2026-11-25 is a Wednesday).
  RuleSpec w = rule(R"({"name":"x","triggers":[{"type":"time","at":"15:00","date":"2026-11-25","weekdays":["mon"]}],
    "actions":[{"tool":"x"}]})");
  EXPECT_TRUE(fires(w, "Asia/Shanghai", "2026-11-24T00:00:00+08:00", "2026-11-30T00:00:00+08:00").empty());
}

TEST(SchedulerTime, IntervalWindows) {
  RuleSpec r = rule(R"({"name":"drink water","triggers":[{"type":"interval","every_minutes":90,"between":["08:00","12:00"]}],
    "actions":[{"tool":"notification.show","args":{"text":"喝水"}}]})");
  // 08:00, 09:30, 11:00 (12:30 is past the window's end).
  EXPECT_EQ(fires(r, "Asia/Shanghai", "2026-11-24T00:00:00+08:00", "2026-11-24T23:59:00+08:00"),
            (V{"2026-11-24T08:00:00+08:00", "2026-11-24T09:30:00+08:00", "2026-11-24T11:00:00+08:00"}));
  // A window across midnight; its end is inclusive.
  RuleSpec n = rule(R"({"name":"night","triggers":[{"type":"interval","every_minutes":60,"between":["23:00","01:00"]}],
    "actions":[{"tool":"x"}]})");
  EXPECT_EQ(fires(n, "Asia/Shanghai", "2026-11-24T12:00:00+08:00", "2026-11-25T12:00:00+08:00"),
            (V{"2026-11-24T23:00:00+08:00", "2026-11-25T00:00:00+08:00", "2026-11-25T01:00:00+08:00"}));
  // No window: every 6 hours from local midnight.
  RuleSpec e = rule(R"({"name":"e","triggers":[{"type":"interval","every_minutes":360}],"actions":[{"tool":"x"}]})");
  EXPECT_EQ(fires(e, "Asia/Shanghai", "2026-11-24T00:00:00+08:00", "2026-11-25T00:00:00+08:00"),
            (V{"2026-11-24T06:00:00+08:00", "2026-11-24T12:00:00+08:00", "2026-11-24T18:00:00+08:00",
               "2026-11-25T00:00:00+08:00"}));
}

TEST(SchedulerDst, NewYorkSpringForwardFiresOnceAfterTheGap) {
  RuleSpec r = rule(R"({"name":"x","triggers":[{"type":"time","at":"02:30"}],"actions":[{"tool":"x"}]})");
  // 02:30 does not exist on 2026-03-08: fires at 03:00 EDT, the first valid instant after the gap.
  EXPECT_EQ(fires(r, "America/New_York", "2026-03-07T00:00:00-05:00", "2026-03-10T00:00:00-04:00"),
            (V{"2026-03-07T02:30:00-05:00", "2026-03-08T03:00:00-04:00", "2026-03-09T02:30:00-04:00"}));
  EXPECT_EQ(at("2026-03-08T03:00:00-04:00"), at("2026-03-08T07:00:00Z"));
}

TEST(SchedulerDst, NewYorkFallBackFiresOnce) {
  RuleSpec r = rule(R"({"name":"x","triggers":[{"type":"time","at":"01:30"}],"actions":[{"tool":"x"}]})");
  // 01:30 happens twice on 2026-11-01 (EDT, then EST): only the first.
  EXPECT_EQ(fires(r, "America/New_York", "2026-10-31T00:00:00-04:00", "2026-11-03T00:00:00-05:00"),
            (V{"2026-10-31T01:30:00-04:00", "2026-11-01T01:30:00-04:00", "2026-11-02T01:30:00-05:00"}));
  // Starting between the two occurrences does not fire the second one.
  EXPECT_EQ(fires(r, "America/New_York", "2026-11-01T05:45:00Z", "2026-11-02T00:00:00-05:00"), V{});
}

TEST(SchedulerDst, NewYorkIntervalsAcrossTransitions) {
  RuleSpec fall = rule(R"({"name":"x","triggers":[{"type":"interval","every_minutes":30,"between":["00:00","03:00"]}],
    "actions":[{"tool":"x"}]})");
  // Wall slots 00:00 .. 03:00: seven firings; the repeated hour adds none.
  EXPECT_EQ(fires(fall, "America/New_York", "2026-10-31T23:00:00-04:00", "2026-11-01T04:00:00-05:00"),
            (V{"2026-11-01T00:00:00-04:00", "2026-11-01T00:30:00-04:00", "2026-11-01T01:00:00-04:00",
               "2026-11-01T01:30:00-04:00", "2026-11-01T02:00:00-05:00", "2026-11-01T02:30:00-05:00",
               "2026-11-01T03:00:00-05:00"}));
  RuleSpec spring = rule(R"({"name":"x","triggers":[{"type":"interval","every_minutes":30,"between":["01:00","04:00"]}],
    "actions":[{"tool":"x"}]})");
  // 02:00 and 02:30 fall in the gap: both become 03:00 EDT, which fires once (the 03:00 slot too).
  EXPECT_EQ(fires(spring, "America/New_York", "2026-03-08T00:00:00-05:00", "2026-03-08T05:00:00-04:00"),
            (V{"2026-03-08T01:00:00-05:00", "2026-03-08T01:30:00-05:00", "2026-03-08T03:00:00-04:00",
               "2026-03-08T03:30:00-04:00", "2026-03-08T04:00:00-04:00"}));
}

TEST(SchedulerDst, BerlinBothTransitions) {
  RuleSpec r = rule(R"({"name":"x","triggers":[{"type":"time","at":"02:30","weekdays":["sun"]}],"actions":[{"tool":"x"}]})");
  EXPECT_EQ(fires(r, "Europe/Berlin", "2026-03-28T00:00:00+01:00", "2026-04-06T00:00:00+02:00"),
            (V{"2026-03-29T03:00:00+02:00", "2026-04-05T02:30:00+02:00"}));
  EXPECT_EQ(fires(r, "Europe/Berlin", "2026-10-24T00:00:00+02:00", "2026-11-02T00:00:00+01:00"),
            (V{"2026-10-25T02:30:00+02:00", "2026-11-01T02:30:00+01:00"}));
}

TEST(SchedulerDst, ShanghaiHasNoTransition) {
  RuleSpec r = rule(R"({"name":"x","triggers":[{"type":"time","at":"02:30"}],"actions":[{"tool":"x"}]})");
  EXPECT_EQ(fires(r, "Asia/Shanghai", "2026-03-07T12:00:00+08:00", "2026-03-10T00:00:00+08:00"),
            (V{"2026-03-08T02:30:00+08:00", "2026-03-09T02:30:00+08:00"}));
  EXPECT_EQ(fires(r, "Asia/Shanghai", "2026-10-31T12:00:00+08:00", "2026-11-02T00:00:00+08:00"),
            (V{"2026-11-01T02:30:00+08:00"}));
}

TEST(SchedulerConditions, TimeBetweenWrapsMidnightWithWeekdays) {
  RuleSpec r = rule(R"({"name":"late","triggers":[{"type":"interval","every_minutes":120}],
    "conditions":[{"type":"time_between","after":"22:00","before":"06:00","weekdays":["fri"]}],
    "actions":[{"tool":"x"}]})");
  // Fri 2026-11-20 22:00 .. Sat 06:00 counts as Friday night; Thursday night does not.
  std::vector<std::string> ok;
  for (const std::string& f : fires(r, "Asia/Shanghai", "2026-11-19T12:00:00+08:00", "2026-11-21T12:00:00+08:00"))
    if (f.find("skipped") == std::string::npos) ok.push_back(f);
  EXPECT_EQ(ok, (V{"2026-11-20T22:00:00+08:00", "2026-11-21T00:00:00+08:00", "2026-11-21T02:00:00+08:00",
                   "2026-11-21T04:00:00+08:00"}));
}

TEST(SchedulerConditions, BatteryStateAndLocationFromEvents) {
  RuleSpec r = rule(R"({"name":"office music","triggers":[{"type":"event","event":"headphones.connected"}],
    "conditions":[{"type":"location","place":"公司"},{"type":"battery","above":20},
                  {"type":"state","key":"charging","equals":false}],
    "actions":[{"tool":"media.play","args":{"playlist":"favourites"}}]})");
  auto ev = [](const std::string& t, const std::string& name, json params = json::object()) {
    return TimedEvent{at(t), Event{name, params}};
  };
  DeviceState s;
  ASSERT_TRUE(s.set("battery", "80").is_ok());
  ASSERT_TRUE(s.set("charging", "false").is_ok());  // an unknown state key never satisfies a condition
  std::vector<TimedEvent> events = {
      ev("2026-11-24T08:55:00+08:00", "headphones.connected"),                      // not at the office yet
      ev("2026-11-24T09:00:00+08:00", "location.arrived", {{"place", "公司"}}),
      ev("2026-11-24T09:05:00+08:00", "headphones.connected"),                      // fires
      ev("2026-11-24T12:00:00+08:00", "charger.connected"),
      ev("2026-11-24T12:05:00+08:00", "headphones.connected"),                      // charging
      ev("2026-11-24T13:00:00+08:00", "charger.disconnected"),
      ev("2026-11-24T15:00:00+08:00", "battery.low", {{"level", 15}}),
      ev("2026-11-24T15:05:00+08:00", "headphones.connected"),                      // battery 15
  };
  EXPECT_EQ(fires(r, "Asia/Shanghai", "2026-11-24T00:00:00+08:00", "2026-11-25T00:00:00+08:00", events, s),
            (V{"2026-11-24T08:55:00+08:00 skipped", "2026-11-24T09:05:00+08:00", "2026-11-24T12:05:00+08:00 skipped",
               "2026-11-24T15:05:00+08:00 skipped"}));
}

TEST(SchedulerEvents, FiltersMatchParameters) {
  RuleSpec home = rule(R"({"name":"home wifi","triggers":[{"type":"event","event":"wifi.connected","filter":{"ssid":"Home"}}],
    "actions":[{"tool":"x"}]})");
  EXPECT_TRUE(trigger_matches(home.triggers[0], Event{"wifi.connected", {{"ssid", "Home"}}}));
  EXPECT_FALSE(trigger_matches(home.triggers[0], Event{"wifi.connected", {{"ssid", "Yunfan-Office"}}}));
  EXPECT_FALSE(trigger_matches(home.triggers[0], Event{"wifi.connected", json::object()}));
  EXPECT_FALSE(trigger_matches(home.triggers[0], Event{"bluetooth.connected", {{"device", "Home"}}}));
  RuleSpec low = rule(R"({"name":"low","triggers":[{"type":"event","event":"battery.low","filter":{"below":20}}],
    "actions":[{"tool":"x"}]})");
  EXPECT_TRUE(trigger_matches(low.triggers[0], Event{"battery.low", {{"below", 15}}}));
  EXPECT_TRUE(trigger_matches(low.triggers[0], Event{"battery.low", {{"level", 19}}}));
  EXPECT_FALSE(trigger_matches(low.triggers[0], Event{"battery.low", {{"below", 30}}}));
}

TEST(SchedulerEvents, MalformedEventsAreRejectedWithReasons) {
  auto err = [](const std::string& text) {
    Result<Event> e = parse_event_json(text);
    EXPECT_FALSE(e.is_ok()) << text;
    return e.is_ok() ? std::string() : e.status().message();
  };
  EXPECT_NE(err("garbage{").find("not valid JSON"), std::string::npos);
  EXPECT_NE(err("[1,2]").find("expected a JSON object"), std::string::npos);
  EXPECT_NE(err("{}").find("missing \"event\""), std::string::npos);
  EXPECT_NE(err(R"({"event":"phone.exploded"})").find("unknown event 'phone.exploded'"), std::string::npos);
  EXPECT_NE(err(R"({"event":"wifi.connected","ssid":5})").find("ssid"), std::string::npos);
  EXPECT_NE(err(R"({"event":"location.arrived"})").find("needs parameter 'place'"), std::string::npos);
  EXPECT_NE(err(R"({"event":"battery.low","below":"low"})").find("below"), std::string::npos);
  EXPECT_NE(err(R"({"event":"app.opened","app":"微信","x":1})").find("no parameter 'x'"), std::string::npos);
  EXPECT_TRUE(parse_event_json(R"({"event":"app.opened","app":"微信"})").is_ok());
  EXPECT_FALSE(event_from_args("wifi.connected", {"ssid"}).is_ok());
  EXPECT_FALSE(event_from_args("battery.low", {"below=abc"}).is_ok());
  Result<Event> ok = event_from_args("battery.low", {"below=15"});
  ASSERT_TRUE(ok.is_ok());
  EXPECT_EQ(ok->params["below"], 15);
}

TEST(SchedulerRules, StructuralErrorsNameTheField) {
  auto err = [](const std::string& text) {
    Result<RuleSpec> r = parse_rule(json::parse(text));
    EXPECT_FALSE(r.is_ok()) << text;
    return r.is_ok() ? std::string() : r.status().message();
  };
  const std::string base = R"("name":"x","actions":[{"tool":"t"}])";
  EXPECT_NE(err("{" + base + R"(,"triggers":[{"type":"time","at":"25:00"}]})").find("triggers[0].at"), std::string::npos);
  EXPECT_NE(err("{" + base + R"(,"triggers":[{"type":"time","at":"6:30"}]})").find("HH:MM"), std::string::npos);
  EXPECT_NE(err("{" + base + R"(,"triggers":[{"type":"time","at":"06:30","weekdays":["funday"]}]})").find("'funday' is not a weekday"),
            std::string::npos);
  EXPECT_NE(err("{" + base + R"(,"triggers":[{"type":"time","at":"06:30","date":"2026-02-30"}]})").find("date"), std::string::npos);
  EXPECT_NE(err("{" + base + R"(,"triggers":[{"type":"interval","every_minutes":0}]})").find("every_minutes"), std::string::npos);
  EXPECT_NE(err("{" + base + R"(,"triggers":[{"type":"cron"}]})").find("unknown trigger type 'cron'"), std::string::npos);
  EXPECT_NE(err("{" + base + R"(,"triggers":[{"type":"event","event":"wifi.connected","filter":{"ssid":1}}]})").find("filter.ssid"),
            std::string::npos);
  EXPECT_NE(err("{" + base + R"(,"mode":"sometimes","triggers":[{"type":"time","at":"06:30"}]})").find("mode"), std::string::npos);
  EXPECT_NE(err("{" + base + R"(,"triggers":[{"type":"time","at":"06:30"}],"conditions":[{"type":"state","key":"ringer_mode","equals":"loud"}]})")
                .find("ringer_mode"),
            std::string::npos);
  EXPECT_NE(err("{" + base + R"(,"triggers":[]})").find("triggers"), std::string::npos);
  EXPECT_NE(err(R"({"name":"x","triggers":[{"type":"time","at":"06:30"}],"actions":[{"tool":"t","args":[1]}]})").find("args"),
            std::string::npos);
}

// Corrupted rules and bridge messages (every truncation, and single-byte damage at every position)
// are answered with an error or parse to something valid; never a crash or an exception.
TEST(SchedulerRules, CorruptedInputsNeverCrash) {
  const std::vector<std::string> seeds = {
      R"({"name":"早安","mode":"queued","triggers":[{"type":"time","at":"06:30","weekdays":["mon","fri"],"date":"2026-11-24"},)"
      R"({"type":"interval","every_minutes":15,"between":["22:00","02:00"]},{"type":"event","event":"battery.low","filter":{"below":20}}],)"
      R"("conditions":[{"type":"time_between","after":"22:00","before":"06:00","weekdays":["sat"]},{"type":"battery","above":5},)"
      R"({"type":"location","place":"家"},{"type":"state","key":"charging","equals":true}],"actions":[{"tool":"t","args":{"a":1}}]})",
      R"({"event":"location.arrived","place":"公司","time":"2026-11-24T09:00:00+08:00"})",
  };
  const Zone z = zone("Asia/Shanghai");
  int parsed = 0;
  for (const std::string& seed : seeds) {
    std::vector<std::string> variants;
    for (size_t n = 0; n < seed.size(); ++n) variants.push_back(seed.substr(0, n));
    for (size_t i = 0; i < seed.size(); ++i)
      for (char c : {'\0', '"', '{', ']', '9', '-', ':', '\xff'}) {
        std::string v = seed;
        v[i] = c;
        variants.push_back(v);
      }
    for (const std::string& v : variants) {
      json j = json::parse(v, nullptr, false);
      if (j.is_discarded()) continue;
      Result<RuleSpec> r = parse_rule(j);
      if (r.is_ok()) {
        ++parsed;
        for (const TriggerSpec& t : r->triggers) (void)next_fire(t, z, at("2026-11-24T00:00:00+08:00"));
        (void)conditions_hold(*r, DeviceState{}, z, at("2026-11-24T23:00:00+08:00"));
      } else {
        EXPECT_FALSE(r.status().message().empty());
      }
      Result<Event> e = parse_event_json(v);
      if (e.is_ok()) {
        DeviceState s;
        s.apply(*e);
      }
    }
  }
  EXPECT_GT(parsed, 0);  // the undamaged bytes of the seed still parse
}

// ---- the real scheduler: store, modes, timeouts, restarts ------------------------------------------

struct Fixture {
  std::string dir = test::temp_dir();
  std::unique_ptr<RuleStore> store;
  std::shared_ptr<LoggingBridge> bridge = std::make_shared<LoggingBridge>(dir + "/device_calls.jsonl");
  Fixture() { reopen(); }
  void reopen() {
    store.reset();
    Result<std::unique_ptr<RuleStore>> s = RuleStore::open(dir, true);
    EXPECT_TRUE(s.is_ok()) << s.status().to_string();
    store = std::move(*s);
  }
  std::string add(const std::string& rule_json, int64_t created) {
    Result<std::vector<std::string>> ids = store->add({rule_json}, created);
    EXPECT_TRUE(ids.is_ok()) << ids.status().to_string();
    return ids.is_ok() ? (*ids)[0] : "";
  }
  std::vector<std::string> statuses(const std::string& rule_id = "") {
    std::vector<std::string> out;
    Result<std::vector<RunRecord>> h = store->history(rule_id);
    EXPECT_TRUE(h.is_ok());
    for (const RunRecord& r : *h) out.push_back(r.status);
    return out;
  }
  // Waits (without a time limit on correctness: the loop only guards a hang) until n calls block.
  void wait_blocked(int n) {
    for (int i = 0; i < 2000 && bridge->waiting() < n; ++i) std::this_thread::sleep_for(std::chrono::milliseconds(5));
    ASSERT_EQ(bridge->waiting(), n);
  }
};

int64_t count_lines(const std::string& path) {
  if (!test::file_exists(path)) return 0;
  const std::string t = test::read_text(path);
  return (int64_t)std::count(t.begin(), t.end(), '\n');
}

constexpr const char* kDaily = R"({"name":"morning","triggers":[{"type":"time","at":"06:30"}],
  "actions":[{"tool":"notification.show","args":{"text":"早上好"}}]})";

TEST(SchedulerRestart, NothingLostOrDoubledAndMissedIsReported) {
  Fixture f;
  const std::string id = f.add(kDaily, at("2026-11-20T00:00:00+08:00"));
  const std::string log = f.dir + "/device_calls.jsonl";
  SchedulerOptions so;
  so.wait_each_tick = true;
  {
    VirtualClock clock(at("2026-11-20T00:00:00+08:00"));
    Scheduler s(*f.store, f.bridge, zone("Asia/Shanghai"), clock, so);
    ASSERT_TRUE(s.run_until(at("2026-11-22T00:00:00+08:00")).is_ok());  // 20th and 21st
  }
  EXPECT_EQ(f.statuses(), (V{"ok", "ok"}));
  EXPECT_EQ(count_lines(log), 2);
  f.reopen();  // a restart at the same moment: nothing runs again
  {
    VirtualClock clock(at("2026-11-22T00:00:00+08:00"));
    Scheduler s(*f.store, f.bridge, zone("Asia/Shanghai"), clock, so);
    ASSERT_TRUE(s.run_until(at("2026-11-22T00:00:00+08:00")).is_ok());
  }
  EXPECT_EQ(f.statuses(), (V{"ok", "ok"}));
  f.reopen();  // down from the 22nd 00:00 to the 25th 12:00: 22nd, 23rd, 24th, 25th missed, not run
  {
    VirtualClock clock(at("2026-11-25T12:00:00+08:00"));
    Scheduler s(*f.store, f.bridge, zone("Asia/Shanghai"), clock, so);
    ASSERT_TRUE(s.load_rules().is_ok());
    Result<std::vector<RunRecord>> missed = s.catch_up();
    ASSERT_TRUE(missed.is_ok());
    ASSERT_EQ(missed->size(), 4u);
    EXPECT_EQ((*missed)[0].scheduled_s, at("2026-11-22T06:30:00+08:00"));
    EXPECT_EQ((*missed)[3].scheduled_s, at("2026-11-25T06:30:00+08:00"));
    ASSERT_TRUE(s.run_until(at("2026-11-26T12:00:00+08:00")).is_ok());  // then the 26th runs
  }
  EXPECT_EQ(f.statuses(id), (V{"ok", "ok", "missed", "missed", "missed", "missed", "ok"}));
  EXPECT_EQ(count_lines(log), 3);
}

TEST(SchedulerRestart, RunInProgressAtCrashIsMarkedInterrupted) {
  Fixture f;
  const std::string id = f.add(kDaily, at("2026-11-20T00:00:00+08:00"));
  RunRecord r{0, id, "time 06:30", at("2026-11-20T06:30:00+08:00"), at("2026-11-20T06:30:00+08:00"), std::nullopt, "running", ""};
  ASSERT_TRUE(f.store->record_run(r, r.scheduled_s).is_ok());
  f.reopen();
  VirtualClock clock(at("2026-11-20T07:00:00+08:00"));
  Scheduler s(*f.store, f.bridge, zone("Asia/Shanghai"), clock);
  ASSERT_TRUE(s.load_rules().is_ok());
  Result<std::vector<RunRecord>> missed = s.catch_up();
  ASSERT_TRUE(missed.is_ok());
  EXPECT_TRUE(missed->empty());  // the 06:30 instant was processed before the crash: not missed, not rerun
  EXPECT_EQ(f.statuses(), (V{"interrupted"}));
}

constexpr const char* kHeadphones = R"({"name":"%s","mode":"%s","triggers":[{"type":"event","event":"headphones.connected"}],
  "actions":[{"tool":"%s","args":{}}]})";
std::string headphones_rule(const std::string& name, const std::string& mode, const std::string& tool) {
  char buf[512];
  std::snprintf(buf, sizeof buf, kHeadphones, name.c_str(), mode.c_str(), tool.c_str());
  return buf;
}

TEST(SchedulerModes, SingleSkipsWhileBusy) {
  Fixture f;
  f.add(headphones_rule("single", "single", "media.play"), 0);
  f.bridge->inject_gate("media.play");
  RealClock clock;
  Scheduler s(*f.store, f.bridge, zone("UTC"), clock);
  ASSERT_TRUE(s.load_rules().is_ok());
  ASSERT_TRUE(s.handle_event(Event{"headphones.connected", json::object()}).is_ok());
  std::vector<RunReport> second;
  ASSERT_TRUE(s.handle_event(Event{"headphones.connected", json::object()}, &second).is_ok());
  ASSERT_EQ(second.size(), 1u);
  EXPECT_EQ(second[0].status, "skipped_busy");
  f.bridge->release_hangs();
  s.wait_idle();
  EXPECT_EQ(f.statuses(), (V{"ok", "skipped_busy"}));
}

TEST(SchedulerModes, RestartCancelsTheRunningOne) {
  Fixture f;
  f.add(headphones_rule("restart", "restart", "media.play"), 0);
  f.bridge->inject_gate("media.play");
  RealClock clock;
  Scheduler s(*f.store, f.bridge, zone("UTC"), clock);
  ASSERT_TRUE(s.load_rules().is_ok());
  ASSERT_TRUE(s.handle_event(Event{"headphones.connected", json::object()}).is_ok());
  f.wait_blocked(1);  // the first run's call is in progress
  ASSERT_TRUE(s.handle_event(Event{"headphones.connected", json::object()}).is_ok());
  f.wait_blocked(2);
  // The first run gives up its call as soon as it sees the newer run (before any tool answers).
  for (int i = 0; i < 2000 && f.statuses()[0] != "cancelled"; ++i) std::this_thread::sleep_for(std::chrono::milliseconds(5));
  EXPECT_EQ(f.statuses(), (V{"cancelled", "running"}));
  f.bridge->release_hangs();
  s.wait_idle();
  EXPECT_EQ(f.statuses(), (V{"cancelled", "ok"}));
}

TEST(SchedulerModes, QueuedRunsAfterParallelRunsAlongside) {
  {
    Fixture f;
    f.add(headphones_rule("queued", "queued", "media.play"), 0);
    f.bridge->inject_gate("media.play");
    RealClock clock;
    Scheduler s(*f.store, f.bridge, zone("UTC"), clock);
    ASSERT_TRUE(s.load_rules().is_ok());
    ASSERT_TRUE(s.handle_event(Event{"headphones.connected", json::object()}).is_ok());
    ASSERT_TRUE(s.handle_event(Event{"headphones.connected", json::object()}).is_ok());
    f.wait_blocked(1);
    EXPECT_EQ(f.statuses(), (V{"running", "queued"}));  // the second waits for the first
    f.bridge->release_hangs();
    s.wait_idle();
    EXPECT_EQ(f.statuses(), (V{"ok", "ok"}));
  }
  {
    Fixture f;
    f.add(headphones_rule("parallel", "parallel", "media.play"), 0);
    f.bridge->inject_gate("media.play");
    RealClock clock;
    Scheduler s(*f.store, f.bridge, zone("UTC"), clock);
    ASSERT_TRUE(s.load_rules().is_ok());
    ASSERT_TRUE(s.handle_event(Event{"headphones.connected", json::object()}).is_ok());
    ASSERT_TRUE(s.handle_event(Event{"headphones.connected", json::object()}).is_ok());
    f.wait_blocked(2);  // both calls in progress at once
    f.bridge->release_hangs();
    s.wait_idle();
    EXPECT_EQ(f.statuses(), (V{"ok", "ok"}));
  }
}

TEST(SchedulerFailures, HangingToolTimesOutOthersKeepRunning) {
  Fixture f;
  const std::string hang = f.add(headphones_rule("hangs", "single", "media.play"), 0);
  const std::string fine = f.add(headphones_rule("fine", "single", "settings.set"), 0);
  const std::string fails = f.add(R"({"name":"fails","triggers":[{"type":"event","event":"headphones.connected"}],
    "actions":[{"tool":"broken.tool"},{"tool":"notification.show","args":{"text":"never"}}]})", 0);
  f.bridge->inject_hang("media.play");
  f.bridge->inject_failure("broken.tool");
  RealClock clock;
  SchedulerOptions so;
  so.call_timeout_ms = 1000;  // generous: the healthy calls must never hit it on a loaded machine
  Scheduler s(*f.store, f.bridge, zone("UTC"), clock, so);
  ASSERT_TRUE(s.load_rules().is_ok());
  ASSERT_TRUE(s.handle_event(Event{"headphones.connected", json::object()}).is_ok());
  s.wait_idle();
  EXPECT_EQ(f.statuses(hang), (V{"timeout"}));
  EXPECT_EQ(f.statuses(fine), (V{"ok"}));
  EXPECT_EQ(f.statuses(fails), (V{"failed"}));  // and its second action never ran:
  const std::string log = test::read_text(f.dir + "/device_calls.jsonl");
  EXPECT_EQ(log.find("never"), std::string::npos);
  EXPECT_NE(log.find("settings.set"), std::string::npos);
  // The scheduler keeps going: a malformed event is rejected, the next good one runs again.
  EXPECT_FALSE(s.handle_event_json("{not json").is_ok());
  EXPECT_FALSE(s.handle_event_json(R"({"event":"headphones.connected","volume":"loud"})").is_ok());
  ASSERT_TRUE(s.handle_event_json(R"({"event":"headphones.connected"})").is_ok());
  s.wait_idle();
  EXPECT_EQ(f.statuses(fine), (V{"ok", "ok"}));
  EXPECT_EQ(f.statuses(hang), (V{"timeout", "timeout"}));  // single: the abandoned call does not block it
  f.bridge->release_hangs();
}

TEST(SchedulerStore, RulesSurviveReopenAndIdsAreNotReused) {
  Fixture f;
  EXPECT_EQ(f.add(kDaily, 1), "r1");
  EXPECT_EQ(f.add(kDaily, 2), "r2");
  ASSERT_TRUE(f.store->remove("r2").is_ok());
  EXPECT_EQ(f.store->remove("r2").code(), StatusCode::kNotFound);
  ASSERT_TRUE(f.store->set_enabled("r1", false).is_ok());
  f.reopen();
  EXPECT_EQ(f.add(kDaily, 3), "r3");
  Result<std::vector<StoredRule>> rules = f.store->list();
  ASSERT_TRUE(rules.is_ok());
  ASSERT_EQ(rules->size(), 2u);
  EXPECT_EQ((*rules)[0].id, "r1");
  EXPECT_FALSE((*rules)[0].enabled);
  EXPECT_EQ((*rules)[1].id, "r3");
  EXPECT_TRUE((*rules)[1].enabled);
  // A file that is not SQLite is refused with a message, not a crash.
  const std::string bad = test::temp_dir();
  { std::FILE* fp = std::fopen((bad + "/automations.sqlite").c_str(), "wb"); std::fputs("not a database at all, just text....", fp); std::fclose(fp); }
  EXPECT_FALSE(RuleStore::open(bad, false).is_ok());
}

// The scheduler reads its events from the tool catalog (one list): every catalog event can be a
// trigger, with every filter key the validator allows, and a report missing a required parameter
// is refused.
TEST(SchedulerEvents, EveryCatalogEventIsSchedulable) {
  for (const EventDef& e : builtin_events()) {
    json filter = json::object();
    for (const std::string& k : e.filter_keys) {
      bool percent = false;
      for (const EventParam& p : e.params)
        if (p.name == k) percent = p.percent;
      filter[k] = percent ? json(20) : json("家");
    }
    json trigger = {{"type", "event"}, {"event", e.name}};
    if (!filter.empty()) trigger["filter"] = filter;
    const json rule = {{"name", "r"}, {"triggers", {trigger}},
                       {"actions", {{{"tool", "notification.show"}, {"args", {{"text", "x"}}}}}}};
    Result<RuleSpec> r = parse_rule(rule);
    EXPECT_TRUE(r.is_ok()) << e.name << ": " << r.status().message();
    bool needs_param = false;
    for (const EventParam& p : e.params) needs_param = needs_param || p.required;
    EXPECT_EQ(event_from_args(e.name, {}).is_ok(), !needs_param) << e.name;
  }
  EXPECT_FALSE(event_from_args("phone.exploded", {}).is_ok());
  Result<Event> arrived = event_from_args("location.arrived", {"place=公司"});
  ASSERT_TRUE(arrived.is_ok());
  Result<Event> low = event_from_args("battery.low", {"level=abc"});
  ASSERT_FALSE(low.is_ok());
  EXPECT_NE(low.status().message().find("must be a number"), std::string::npos) << low.status().message();
}

}  // namespace
}  // namespace pm::automation
