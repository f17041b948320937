// The automation scheduler: turns saved rules (DESIGN.md "Automation rules", JSON) into firings.
//
// Pieces, each usable on its own:
//   - RuleSpec & co.: the scheduler's own view of a rule, parsed from JSON with structural checks
//     (trigger / condition types and fields, HH:MM, dates, weekday names, mode). The full rule
//     validator (tool catalog, argument schemas) lives in rule.{h,cpp} and runs before saving.
//   - Zone: a time zone (ICU) that maps wall-clock times to instants, with the DST rules below.
//   - next_fire(): the next instant a time / interval trigger fires after a given instant.
//   - Event / DeviceState: validated device events and the state they update (conditions read it).
//   - simulate(): rules against a virtual timeline, writing nothing.
//   - Scheduler: runs rules for real through a DeviceBridge, with modes, timeouts, run history in a
//     RuleStore and no lost or doubled time-trigger runs across restarts.
//
// DST (documented behaviour):
//   - A wall time that does not exist (02:30 on a spring-forward day in America/New_York, where
//     02:00 jumps to 03:00) fires once, at the first valid instant after the gap (03:00 local).
//   - A wall time that happens twice (01:30 on a fall-back day) fires once, at its first occurrence.
//   - Interval triggers step in wall-clock time (start, start+N, ... up to the window's end,
//     inclusive; without a window from 00:00 to 23:59; each day starts again at the window's start;
//     every_minutes is 1-1440), resolved
//     with the same two rules, so the repeated hour of a fall-back day adds no extra firings and
//     slots inside a gap collapse into one firing at the end of the gap.
#pragma once

#include <atomic>
#include <condition_variable>
#include <deque>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include <nlohmann/json.hpp>

#include "assistant/automation/device_bridge.h"
#include "assistant/automation/rule_store.h"
#include "core/status.h"

namespace pm::automation {

// ---- rules as the scheduler sees them ------------------------------------------------------------

enum class RunMode { kSingle, kRestart, kQueued, kParallel };
const char* run_mode_name(RunMode m);

struct TriggerSpec {
  enum class Kind { kTime, kInterval, kEvent } kind = Kind::kTime;
  // time: at (minutes after local midnight), weekdays (bit 0 = Monday .. bit 6 = Sunday; 0 = every
  // day), date (days since 1970-01-01 of a one-off date, or none)
  int at_minute = 0;
  uint8_t weekday_mask = 0;
  std::optional<int64_t> date_day;
  // interval: every_minutes, optional window [between_start, between_end] (minutes; end inclusive;
  // end < start wraps past midnight)
  int every_minutes = 0;
  std::optional<std::pair<int, int>> between;
  // event: name and filter (parameter -> required value)
  std::string event;
  nlohmann::json filter = nlohmann::json::object();

  nlohmann::json json;  // as written in the rule
  std::string describe() const;  // "time 06:30 mon,tue", "event wifi.connected {"ssid":"x"}"
};

struct ConditionSpec {
  enum class Kind { kTimeBetween, kBattery, kLocation, kState } kind = Kind::kTimeBetween;
  int after_minute = 0, before_minute = 0;  // time_between (before < after wraps midnight)
  uint8_t weekday_mask = 0;                 // time_between weekdays (0 = any day)
  std::optional<int> battery_above, battery_below;
  std::string place;                        // location
  std::string key;                          // state
  nlohmann::json equals;                    // state
  std::string describe() const;
};

struct ActionSpec {
  std::string tool;
  nlohmann::json args = nlohmann::json::object();
};

struct RuleSpec {
  std::string id;  // store id ("r3"); empty before saving
  std::string name;
  RunMode mode = RunMode::kSingle;
  bool enabled = true;
  std::vector<TriggerSpec> triggers;
  std::vector<ConditionSpec> conditions;
  std::vector<ActionSpec> actions;
};

// Structural checks of one rule object; errors name the field ("triggers[1].at: expected HH:MM ...").
Result<RuleSpec> parse_rule(const nlohmann::json& j);
// One rule, an array of rules, or {"rules": [...]} (what `automation parse --json` prints).
Result<std::vector<nlohmann::json>> split_rules_document(const nlohmann::json& doc);
// "06:30" -> 390; errors name `what`.
Result<int> parse_hhmm(const nlohmann::json& v, const std::string& what);
// A readable multi-line summary for confirmation prompts and `list`.
std::string describe_rule(const RuleSpec& r);

// ---- time zones ------------------------------------------------------------------------------------

class Zone {
 public:
  // "America/New_York", "Asia/Shanghai", "UTC"; "" = the TZ environment / system zone.
  static Result<Zone> open(const std::string& id);
  Zone(const Zone&);
  Zone& operator=(const Zone&);
  ~Zone();

  const std::string& id() const { return id_; }
  int32_t offset_at(int64_t epoch_s) const;  // UTC offset in seconds at an instant
  int64_t local_day(int64_t epoch_s) const;  // days since 1970-01-01 on the local wall clock
  int local_minute(int64_t epoch_s) const;   // minutes after local midnight
  int weekday(int64_t epoch_s) const;        // 0 = Monday .. 6 = Sunday
  // The instant of wall time `minute` on local `day`, with the DST rules above.
  int64_t resolve(int64_t day, int minute) const;
  std::string format(int64_t epoch_s) const;  // ISO 8601 with the local offset

 private:
  Zone() = default;
  struct Impl;
  std::unique_ptr<Impl> impl_;
  std::string id_;
};

// The first instant strictly after `after` at which a time or interval trigger fires, or none
// (event triggers, or a dated trigger whose date has passed).
std::optional<int64_t> next_fire(const TriggerSpec& t, const Zone& zone, int64_t after);

// ---- events and device state -----------------------------------------------------------------------

struct Event {
  std::string name;
  nlohmann::json params = nlohmann::json::object();
};
// Checks the name and the parameters (names and value types) against the built-in event list.
Status validate_event(const Event& e);
// A JSON object {"event": NAME, ...params} (a bridge message or a line of an events file; "time"
// is ignored here). Errors say what was wrong; never throws.
Result<Event> parse_event_json(const std::string& text);
Result<Event> event_from_json(const nlohmann::json& j);
// "k=v" pairs from the command line; numbers and true/false are typed.
Result<Event> event_from_args(const std::string& name, const std::vector<std::string>& kv);
bool trigger_matches(const TriggerSpec& t, const Event& e);

struct DeviceState {
  std::optional<int> battery;           // percent
  std::string location;                 // place name, "" = unknown / away
  std::map<std::string, nlohmann::json> keys;  // ringer_mode, do_not_disturb, wifi, bluetooth, charging

  void apply(const Event& e);  // charger.connected -> charging=true, location.arrived -> location, ...
  Status set(const std::string& key, const std::string& value);  // --state k=v
  nlohmann::json to_json() const;
  static DeviceState from_json(const nlohmann::json& j);
};

// A condition on something unknown (battery level never reported, state key never set) does not hold.
bool condition_holds(const ConditionSpec& c, const DeviceState& s, const Zone& zone, int64_t now);
bool conditions_hold(const RuleSpec& r, const DeviceState& s, const Zone& zone, int64_t now);

// ---- simulation ------------------------------------------------------------------------------------

struct TimedEvent {
  int64_t time = 0;
  Event event;
};
struct SimFiring {
  int64_t time = 0;
  std::string rule_id, rule_name, trigger;
  bool fired = true;  // false: a condition did not hold (skipped_condition)
  std::vector<ActionSpec> actions;
};
// Every firing in (from, to] in time order (events at the same instant after time triggers).
std::vector<SimFiring> simulate(const std::vector<RuleSpec>& rules, const Zone& zone, int64_t from, int64_t to,
                                std::vector<TimedEvent> events, DeviceState state);

// ---- clocks ----------------------------------------------------------------------------------------

class Clock {
 public:
  virtual ~Clock() = default;
  virtual int64_t now() = 0;                    // Unix seconds
  virtual void sleep_until(int64_t epoch_s) = 0;  // may return early
};
class RealClock : public Clock {
 public:
  int64_t now() override;
  void sleep_until(int64_t epoch_s) override;
};
// Time moves only when told: sleep_until jumps there at once.
class VirtualClock : public Clock {
 public:
  explicit VirtualClock(int64_t start) : now_(start) {}
  int64_t now() override { return now_.load(); }
  void sleep_until(int64_t epoch_s) override { if (epoch_s > now_.load()) now_.store(epoch_s); }
  void set(int64_t t) { now_.store(t); }

 private:
  std::atomic<int64_t> now_;
};

// ---- the scheduler ---------------------------------------------------------------------------------

struct SchedulerOptions {
  int64_t call_timeout_ms = 10000;  // a tool call running longer is abandoned and recorded "timeout"
  bool wait_each_tick = false;      // run_until waits for runs to end before moving on (virtual clocks)
  int64_t late_grace_s = 120;       // a time-trigger instant older than this when seen is "missed"
};

// What one dispatch did (for `emit` output).
struct RunReport {
  int64_t run_id = 0;  // row in the run history (0: none)
  std::optional<int64_t> scheduled;
  std::string rule_id, rule_name, trigger, status;  // ok|failed|timeout|cancelled|skipped_*|queued
  std::string detail;
};

class Scheduler {
 public:
  Scheduler(RuleStore& store, std::shared_ptr<DeviceBridge> bridge, Zone zone, Clock& clock,
            SchedulerOptions options = {});
  ~Scheduler();  // waits for runs in progress (abandoned tool calls are not waited for)

  // Loads enabled rules from the store (rules it cannot parse are reported and skipped).
  Status load_rules(std::vector<std::string>* warnings = nullptr);
  // On start: every time-trigger instant between a rule's last processed instant and now is
  // recorded as "missed" (not run); returns them. After a long outage a rule's first
  // kMaxMissedListed are recorded one by one and the rest as one summary record;
  // missed_total() counts them all (up to kMaxMissedCounted per trigger).
  static constexpr int kMaxMissedListed = 100;
  static constexpr int kMaxMissedCounted = 100000;
  Result<std::vector<RunRecord>> catch_up();
  int64_t missed_total() const { return missed_total_; }
  // Fires every time trigger due in (last processed, now]; each instant is marked processed in the
  // same transaction that records its run, so a restart neither repeats nor loses it.
  Status tick(std::vector<RunReport>* reports = nullptr);
  // Feeds an event from the bridge: validated (a malformed one is rejected, nothing else changes),
  // applied to the device state, and matching rules run.
  Status handle_event(const Event& e, std::vector<RunReport>* reports = nullptr);
  Status handle_event_json(const std::string& text, std::vector<RunReport>* reports = nullptr);
  // The event bus the device bridge feeds (thread-safe): a malformed message is rejected here
  // with the reason and nothing is queued; run_until() handles queued events within a second.
  Status post_event_json(const std::string& text);
  // The daemon loop: catch_up() then tick() at each due instant and queued events, until `until`
  // (or `stop`; events queued before `stop` was set are still handled).
  Status run_until(int64_t until, const std::atomic<bool>* stop = nullptr,
                   std::function<void(const RunReport&)> on_run = nullptr);
  // Blocks until no run is in progress or queued.
  void wait_idle();
  const std::vector<RuleSpec>& rules() const { return rules_; }
  DeviceState& state() { return state_; }

 private:
  struct RuleRuntime;
  struct RunTicket;
  RunReport dispatch(const RuleSpec& rule, const std::string& trigger, std::optional<int64_t> scheduled);
  void start_run(const RuleSpec& rule, std::shared_ptr<RunTicket> ticket);
  void execute(const RuleSpec& rule, std::shared_ptr<RunTicket> ticket);
  Status drain_bus(std::vector<RunReport>* reports);
  std::optional<int64_t> next_due(const RuleSpec& r, int64_t after) const;

  RuleStore& store_;
  std::shared_ptr<DeviceBridge> bridge_;
  Zone zone_;
  Clock& clock_;
  SchedulerOptions options_;
  std::vector<RuleSpec> rules_;
  DeviceState state_;

  std::mutex mu_;  // guards runtime_, threads_, active_
  std::condition_variable idle_cv_;
  std::map<std::string, std::shared_ptr<RuleRuntime>> runtime_;
  std::vector<std::thread> threads_;
  int active_ = 0;
  int64_t missed_total_ = 0;
  std::mutex bus_mu_;
  std::deque<Event> bus_;
};

}  // namespace pm::automation
