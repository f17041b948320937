// Declarative simulation cases: every tests/data/automation_sched/*.json holds rules, a zone, a
// time window, optional events and device state, and the firings expected (written by hand from
// the calendar). A new case is a new file.
#include <filesystem>
#include <fstream>
#include <sstream>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "assistant/automation/scheduler.h"
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

TEST(AutomationSchedCases, EveryCaseFileMatches) {
  const std::filesystem::path dir = std::filesystem::path(PM_TEST_DATA_DIR) / "automation_sched";
  int cases = 0;
  for (const auto& entry : std::filesystem::directory_iterator(dir)) {
    if (entry.path().extension() != ".json") continue;
    SCOPED_TRACE(entry.path().filename().string());
    ++cases;
    const json c = json::parse(test::read_text(entry.path().string()));
    Result<Zone> zone = Zone::open(c["tz"].get<std::string>());
    ASSERT_TRUE(zone.is_ok());
    std::vector<RuleSpec> rules;
    for (size_t i = 0; i < c["rules"].size(); ++i) {
      Result<RuleSpec> r = parse_rule(c["rules"][i]);
      ASSERT_TRUE(r.is_ok()) << r.status().to_string();
      r->id = std::to_string(i + 1);
      r->id.insert(0, 1, '#');
      rules.push_back(*r);
    }
    DeviceState state;
    if (c.contains("state")) {
      for (auto it = c["state"].begin(); it != c["state"].end(); ++it) {
        ASSERT_TRUE(state.set(it.key(), it.value().get<std::string>()).is_ok());
      }
    }
    std::vector<TimedEvent> events;
    if (c.contains("events"))
      for (const json& e : c["events"]) {
        Result<Event> ev = event_from_json(e);
        ASSERT_TRUE(ev.is_ok()) << ev.status().to_string();
        events.push_back({at(e["time"].get<std::string>()), *ev});
      }
    std::vector<std::string> got;
    for (const SimFiring& f : simulate(rules, *zone, at(c["from"]), at(c["to"]), events, state))
      got.push_back(zone->format(f.time) + " " + f.rule_id + " " + (f.fired ? "fire" : "skipped_condition"));
    EXPECT_EQ(got, c["expect"].get<std::vector<std::string>>());
  }
  EXPECT_GE(cases, 2);
}

}  // namespace
}  // namespace pm::automation
