#include "assistant/automation/scheduler.h"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <deque>

#include <unicode/timezone.h>
#include <unicode/unistr.h>

#include "assistant/automation/tool_catalog.h"
#include "store/time_util.h"
#include "store/utf8.h"

namespace pm::automation {

// Sorted keys (nlohmann::json); the rule files of this namespace keep theirs in order (ordered_json).
using Json = nlohmann::json;

// ---- parsing rules -------------------------------------------------------------------------------

const char* run_mode_name(RunMode m) {
  switch (m) {
    case RunMode::kSingle: return "single";
    case RunMode::kRestart: return "restart";
    case RunMode::kQueued: return "queued";
    case RunMode::kParallel: return "parallel";
  }
  return "single";
}

namespace {

constexpr const char* kWeekdayNames[7] = {"mon", "tue", "wed", "thu", "fri", "sat", "sun"};

std::string type_name(const Json& v) { return v.type_name(); }

Status bad(const std::string& where, const std::string& what) { return Status::invalid_argument(where + ": " + what); }

Status check_keys(const Json& obj, const std::string& where, std::initializer_list<const char*> allowed) {
  for (auto it = obj.begin(); it != obj.end(); ++it) {
    bool ok = false;
    std::string list;
    for (const char* a : allowed) {
      ok = ok || it.key() == a;
      list += (list.empty() ? "" : ", ") + std::string(a);
    }
    if (!ok) return bad(where, "unknown field '" + it.key() + "' (expected " + list + ")");
  }
  return Status::ok();
}

Result<uint8_t> parse_weekdays(const Json& v, const std::string& where) {
  if (!v.is_array() || v.empty()) return bad(where, "expected a non-empty array of weekday names (mon..sun)");
  uint8_t mask = 0;
  for (size_t i = 0; i < v.size(); ++i) {
    const std::string w = where + "[" + std::to_string(i) + "]";
    if (!v[i].is_string()) return bad(w, "expected a weekday name (mon..sun), got " + type_name(v[i]));
    std::string s = v[i].get<std::string>();
    std::transform(s.begin(), s.end(), s.begin(), [](unsigned char c) { return (char)std::tolower(c); });
    int found = -1;
    for (int d = 0; d < 7; ++d)
      if (s == kWeekdayNames[d]) found = d;
    if (found < 0) return bad(w, "'" + v[i].get<std::string>() + "' is not a weekday (expected mon, tue, wed, thu, fri, sat or sun)");
    mask |= (uint8_t)(1u << found);
  }
  return mask;
}

std::string weekdays_text(uint8_t mask) {
  std::string s;
  for (int d = 0; d < 7; ++d)
    if (mask & (1u << d)) {
      if (!s.empty()) s += ',';
      s += kWeekdayNames[d];
    }
  return s;
}

std::string hhmm(int minute) {
  char buf[16];
  std::snprintf(buf, sizeof buf, "%02d:%02d", minute / 60, minute % 60);
  return buf;
}

// Checks params against an event's definition; `filter` relaxes "required" (filters are optional).
// (The events and their parameters are the tool catalog's: tool_catalog.h.)
Status check_event_params(const EventDef& def, const Json& params, const std::string& where, bool filter) {
  if (!params.is_object()) return bad(where, "expected an object of event parameters, got " + type_name(params));
  for (auto it = params.begin(); it != params.end(); ++it) {
    const EventParam* p = nullptr;
    for (const EventParam& q : def.params)
      if (it.key() == q.name) p = &q;
    if (!p) {
      std::string list;
      for (const EventParam& q : def.params) list += (list.empty() ? "" : ", ") + q.name;
      return bad(where, "event " + def.name + " has no parameter '" + it.key() + "'" +
                            (list.empty() ? " (it takes none)" : " (expected " + list + ")"));
    }
    if (!p->percent && (!it.value().is_string() || it.value().get<std::string>().empty()))
      return bad(where + "." + it.key(), "expected a non-empty string, got " + it.value().dump());
    if (p->percent) {
      if (!it.value().is_number()) return bad(where + "." + it.key(), "expected a number 0-100, got " + it.value().dump());
      const double v = it.value().get<double>();
      if (!(v >= 0 && v <= 100)) return bad(where + "." + it.key(), "expected a number 0-100, got " + it.value().dump());
    }
  }
  if (!filter)
    for (const EventParam& q : def.params)
      if (q.required && !params.contains(q.name))
        return bad(where, "event " + def.name + " needs parameter '" + q.name + "'");
  return Status::ok();
}

Result<TriggerSpec> parse_trigger(const Json& j, const std::string& where) {
  if (!j.is_object()) return bad(where, "expected an object, got " + type_name(j));
  if (!j.contains("type") || !j["type"].is_string()) return bad(where + ".type", "expected \"time\", \"interval\" or \"event\"");
  TriggerSpec t;
  t.json = j;
  const std::string type = j["type"].get<std::string>();
  if (type == "time") {
    t.kind = TriggerSpec::Kind::kTime;
    PM_RETURN_IF_ERROR(check_keys(j, where, {"type", "at", "weekdays", "date"}));
    if (!j.contains("at")) return bad(where, "a time trigger needs \"at\": \"HH:MM\"");
    PM_ASSIGN_OR_RETURN(t.at_minute, parse_hhmm(j["at"], where + ".at"));
    if (j.contains("weekdays")) { PM_ASSIGN_OR_RETURN(t.weekday_mask, parse_weekdays(j["weekdays"], where + ".weekdays")); }
    if (j.contains("date")) {
      const Json& d = j["date"];
      int y = 0, m = 0, day = 0;
      char extra = 0;
      if (!d.is_string() || d.get<std::string>().size() != 10 ||
          std::sscanf(d.get<std::string>().c_str(), "%4d-%2d-%2d%c", &y, &m, &day, &extra) != 3 ||
          !store::is_valid_date(y, m, day))
        return bad(where + ".date", "expected a calendar date YYYY-MM-DD, got " + d.dump());
      t.date_day = store::days_from_civil(y, m, day);
    }
  } else if (type == "interval") {
    t.kind = TriggerSpec::Kind::kInterval;
    PM_RETURN_IF_ERROR(check_keys(j, where, {"type", "every_minutes", "between"}));
    const Json* e = j.contains("every_minutes") ? &j["every_minutes"] : nullptr;
    if (!e || !e->is_number_integer() || e->get<int64_t>() < 1 || e->get<int64_t>() > 1440)
      return bad(where + ".every_minutes", "expected a whole number of minutes 1-1440 (longer periods: a time trigger)" +
                                               (e ? ", got " + e->dump() : std::string()));
    t.every_minutes = (int)e->get<int64_t>();
    if (j.contains("between")) {
      const Json& b = j["between"];
      if (!b.is_array() || b.size() != 2) return bad(where + ".between", "expected [\"HH:MM\", \"HH:MM\"]");
      PM_ASSIGN_OR_RETURN(int s, parse_hhmm(b[0], where + ".between[0]"));
      PM_ASSIGN_OR_RETURN(int en, parse_hhmm(b[1], where + ".between[1]"));
      if (s == en) return bad(where + ".between", "start and end are the same time (an empty window)");
      t.between = std::make_pair(s, en);
    }
  } else if (type == "event") {
    t.kind = TriggerSpec::Kind::kEvent;
    PM_RETURN_IF_ERROR(check_keys(j, where, {"type", "event", "filter"}));
    if (!j.contains("event") || !j["event"].is_string()) return bad(where + ".event", "expected an event name (" + event_names() + ")");
    t.event = j["event"].get<std::string>();
    const EventDef* def = find_event(t.event);
    if (!def) return bad(where + ".event", "unknown event '" + t.event + "' (expected one of " + event_names() + ")");
    if (j.contains("filter")) {
      PM_RETURN_IF_ERROR(check_event_params(*def, j["filter"], where + ".filter", true));
      t.filter = j["filter"];
    }
  } else {
    return bad(where + ".type", "unknown trigger type '" + type + "' (expected time, interval or event)");
  }
  return t;
}

Result<ConditionSpec> parse_condition(const Json& j, const std::string& where) {
  if (!j.is_object()) return bad(where, "expected an object, got " + type_name(j));
  if (!j.contains("type") || !j["type"].is_string())
    return bad(where + ".type", "expected \"time_between\", \"battery\", \"location\" or \"state\"");
  ConditionSpec c;
  const std::string type = j["type"].get<std::string>();
  if (type == "time_between") {
    c.kind = ConditionSpec::Kind::kTimeBetween;
    PM_RETURN_IF_ERROR(check_keys(j, where, {"type", "after", "before", "weekdays"}));
    if (!j.contains("after") || !j.contains("before")) return bad(where, "time_between needs \"after\" and \"before\" (HH:MM)");
    PM_ASSIGN_OR_RETURN(c.after_minute, parse_hhmm(j["after"], where + ".after"));
    PM_ASSIGN_OR_RETURN(c.before_minute, parse_hhmm(j["before"], where + ".before"));
    if (c.after_minute == c.before_minute) return bad(where, "after and before are the same time (an empty window)");
    if (j.contains("weekdays")) { PM_ASSIGN_OR_RETURN(c.weekday_mask, parse_weekdays(j["weekdays"], where + ".weekdays")); }
  } else if (type == "battery") {
    c.kind = ConditionSpec::Kind::kBattery;
    PM_RETURN_IF_ERROR(check_keys(j, where, {"type", "above", "below"}));
    for (const char* k : {"above", "below"}) {
      if (!j.contains(k)) continue;
      const Json& v = j[k];
      if (!v.is_number_integer() || v.get<int64_t>() < 0 || v.get<int64_t>() > 100)
        return bad(where + "." + k, "expected a whole percentage 0-100, got " + v.dump());
      (std::string(k) == "above" ? c.battery_above : c.battery_below) = (int)v.get<int64_t>();
    }
    if (!c.battery_above && !c.battery_below) return bad(where, "a battery condition needs \"above\" or \"below\"");
  } else if (type == "location") {
    c.kind = ConditionSpec::Kind::kLocation;
    PM_RETURN_IF_ERROR(check_keys(j, where, {"type", "place"}));
    if (!j.contains("place") || !j["place"].is_string() || j["place"].get<std::string>().empty())
      return bad(where + ".place", "expected a place name");
    c.place = j["place"].get<std::string>();
  } else if (type == "state") {
    c.kind = ConditionSpec::Kind::kState;
    PM_RETURN_IF_ERROR(check_keys(j, where, {"type", "key", "equals"}));
    if (!j.contains("key") || !j["key"].is_string())
      return bad(where + ".key", "expected one of ringer_mode, do_not_disturb, wifi, bluetooth, charging");
    if (!j.contains("equals")) return bad(where, "a state condition needs \"equals\"");
    DeviceState probe;
    const Json& eq = j["equals"];
    std::string text = eq.is_string() ? eq.get<std::string>() : eq.is_boolean() ? (eq.get<bool>() ? "true" : "false") : eq.dump();
    Status st = probe.set(j["key"].get<std::string>(), text);
    if (!st.is_ok()) return bad(where, st.message());
    c.key = j["key"].get<std::string>();
    c.equals = probe.keys[c.key];
  } else {
    return bad(where + ".type", "unknown condition type '" + type + "' (expected time_between, battery, location or state)");
  }
  return c;
}

}  // namespace

Result<int> parse_hhmm(const Json& v, const std::string& what) {
  if (!v.is_string()) return bad(what, "expected a time \"HH:MM\" (00:00-23:59), got " + v.dump());
  const std::string s = v.get<std::string>();
  if (s.size() != 5 || s[2] != ':' || !std::isdigit((unsigned char)s[0]) || !std::isdigit((unsigned char)s[1]) ||
      !std::isdigit((unsigned char)s[3]) || !std::isdigit((unsigned char)s[4]))
    return bad(what, "expected a time \"HH:MM\" (00:00-23:59), got \"" + s + "\"");
  const int h = (s[0] - '0') * 10 + (s[1] - '0'), m = (s[3] - '0') * 10 + (s[4] - '0');
  if (h > 23 || m > 59) return bad(what, "\"" + s + "\" is not a time of day (00:00-23:59)");
  return h * 60 + m;
}

Result<RuleSpec> parse_rule(const Json& j) {
  if (!j.is_object()) return Status::invalid_argument("rule: expected a JSON object, got " + type_name(j));
  RuleSpec r;
  PM_RETURN_IF_ERROR(check_keys(j, "rule", {"name", "mode", "triggers", "conditions", "actions"}));
  if (!j.contains("name") || !j["name"].is_string() || j["name"].get<std::string>().empty())
    return bad("rule.name", "expected a non-empty string");
  r.name = j["name"].get<std::string>();
  const std::string where = "rule \"" + r.name + "\"";
  if (j.contains("mode")) {
    const Json& m = j["mode"];
    const std::string s = m.is_string() ? m.get<std::string>() : "";
    if (s == "single") r.mode = RunMode::kSingle;
    else if (s == "restart") r.mode = RunMode::kRestart;
    else if (s == "queued") r.mode = RunMode::kQueued;
    else if (s == "parallel") r.mode = RunMode::kParallel;
    else return bad(where + ".mode", "expected single, restart, queued or parallel, got " + m.dump());
  }
  if (!j.contains("triggers") || !j["triggers"].is_array() || j["triggers"].empty())
    return bad(where + ".triggers", "expected a non-empty array of triggers");
  for (size_t i = 0; i < j["triggers"].size(); ++i) {
    PM_ASSIGN_OR_RETURN(TriggerSpec t, parse_trigger(j["triggers"][i], where + ".triggers[" + std::to_string(i) + "]"));
    r.triggers.push_back(std::move(t));
  }
  if (j.contains("conditions")) {
    if (!j["conditions"].is_array()) return bad(where + ".conditions", "expected an array");
    for (size_t i = 0; i < j["conditions"].size(); ++i) {
      PM_ASSIGN_OR_RETURN(ConditionSpec c, parse_condition(j["conditions"][i], where + ".conditions[" + std::to_string(i) + "]"));
      r.conditions.push_back(std::move(c));
    }
  }
  if (!j.contains("actions") || !j["actions"].is_array() || j["actions"].empty())
    return bad(where + ".actions", "expected a non-empty array of actions");
  for (size_t i = 0; i < j["actions"].size(); ++i) {
    const Json& a = j["actions"][i];
    const std::string w = where + ".actions[" + std::to_string(i) + "]";
    if (!a.is_object()) return bad(w, "expected an object {\"tool\": ..., \"args\": {...}}");
    PM_RETURN_IF_ERROR(check_keys(a, w, {"tool", "args"}));
    if (!a.contains("tool") || !a["tool"].is_string() || a["tool"].get<std::string>().empty())
      return bad(w + ".tool", "expected a tool name");
    ActionSpec act;
    act.tool = a["tool"].get<std::string>();
    if (a.contains("args")) {
      if (!a["args"].is_object()) return bad(w + ".args", "expected an object, got " + type_name(a["args"]));
      act.args = a["args"];
    }
    r.actions.push_back(std::move(act));
  }
  return r;
}

Result<std::vector<Json>> split_rules_document(const Json& doc) {
  std::vector<Json> out;
  if (doc.is_array()) {
    for (const Json& r : doc) out.push_back(r);
  } else if (doc.is_object() && doc.contains("rules") && !doc.contains("triggers")) {
    if (!doc["rules"].is_array()) return Status::invalid_argument("\"rules\": expected an array of rules");
    for (const Json& r : doc["rules"]) out.push_back(r);
  } else if (doc.is_object()) {
    out.push_back(doc);
  } else {
    return Status::invalid_argument("expected a rule object, an array of rules or {\"rules\": [...]}, got " + doc.dump());
  }
  if (out.empty()) return Status::invalid_argument("no rules given");
  return out;
}

std::string TriggerSpec::describe() const {
  switch (kind) {
    case Kind::kTime: {
      std::string s = "time " + hhmm(at_minute);
      if (weekday_mask) s += " " + weekdays_text(weekday_mask);
      if (date_day) {
        const store::CivilDate d = store::civil_from_days(*date_day);
        char buf[16];
        std::snprintf(buf, sizeof buf, "%04d-%02d-%02d", d.year, d.month, d.day);
        s += std::string(" on ") + buf;
      }
      return s;
    }
    case Kind::kInterval: {
      std::string s = "interval every " + std::to_string(every_minutes) + " min";
      if (between) s += " " + hhmm(between->first) + "-" + hhmm(between->second);
      return s;
    }
    case Kind::kEvent:
      return "event " + event + (filter.empty() ? "" : " " + filter.dump());
  }
  return "";
}

std::string ConditionSpec::describe() const {
  switch (kind) {
    case Kind::kTimeBetween:
      return "time between " + hhmm(after_minute) + " and " + hhmm(before_minute) +
             (weekday_mask ? " on " + weekdays_text(weekday_mask) : "");
    case Kind::kBattery: {
      std::string s = "battery";
      if (battery_above) s += " above " + std::to_string(*battery_above) + "%";
      if (battery_below) s += " below " + std::to_string(*battery_below) + "%";
      return s;
    }
    case Kind::kLocation: return "at " + place;
    case Kind::kState: return key + " is " + (equals.is_string() ? equals.get<std::string>() : equals.dump());
  }
  return "";
}

std::string describe_rule(const RuleSpec& r) {
  std::string s = "\"" + r.name + "\" (mode " + run_mode_name(r.mode) + ")\n";
  for (size_t i = 0; i < r.triggers.size(); ++i) s += std::string(i ? "    or " : "  when ") + r.triggers[i].describe() + "\n";
  for (size_t i = 0; i < r.conditions.size(); ++i) s += std::string(i ? "   and " : "  if   ") + r.conditions[i].describe() + "\n";
  for (size_t i = 0; i < r.actions.size(); ++i)
    s += std::string(i ? "  then " : "  do   ") + r.actions[i].tool + " " + r.actions[i].args.dump() + "\n";
  return s;
}

// ---- zones -----------------------------------------------------------------------------------------

struct Zone::Impl {
  std::unique_ptr<icu::TimeZone> tz;
};

Result<Zone> Zone::open(const std::string& id) {
  Zone z;
  z.impl_ = std::make_unique<Impl>();
  if (id.empty()) {
    z.impl_->tz.reset(icu::TimeZone::createDefault());
  } else {
    z.impl_->tz.reset(icu::TimeZone::createTimeZone(icu::UnicodeString::fromUTF8(id)));
    if (!z.impl_->tz || *z.impl_->tz == icu::TimeZone::getUnknown())
      return Status::invalid_argument("unknown time zone '" + id + "' (expected an IANA name such as Asia/Shanghai)");
  }
  icu::UnicodeString name;
  z.impl_->tz->getID(name);
  name.toUTF8String(z.id_);
  return z;
}

Zone::Zone(const Zone& o) : impl_(std::make_unique<Impl>()), id_(o.id_) { impl_->tz.reset(o.impl_->tz->clone()); }
Zone& Zone::operator=(const Zone& o) {
  if (this != &o) {
    impl_ = std::make_unique<Impl>();
    impl_->tz.reset(o.impl_->tz->clone());
    id_ = o.id_;
  }
  return *this;
}
Zone::~Zone() = default;

int32_t Zone::offset_at(int64_t epoch_s) const {
  int32_t raw = 0, dst = 0;
  UErrorCode err = U_ZERO_ERROR;
  impl_->tz->getOffset((UDate)epoch_s * 1000.0, false, raw, dst, err);
  if (U_FAILURE(err)) return 0;
  return (raw + dst) / 1000;
}
int64_t Zone::local_day(int64_t epoch_s) const { return store::local_day(epoch_s, offset_at(epoch_s)); }
int Zone::local_minute(int64_t epoch_s) const {
  const int64_t local = epoch_s + offset_at(epoch_s);
  return (int)((((local % 86400) + 86400) % 86400) / 60);
}
int Zone::weekday(int64_t epoch_s) const { return store::weekday_from_days(local_day(epoch_s)); }
std::string Zone::format(int64_t epoch_s) const { return store::format_iso8601(epoch_s, offset_at(epoch_s)); }

int64_t Zone::resolve(int64_t day, int minute) const {
  const int64_t wall = day * 86400 + (int64_t)minute * 60;  // the wall time read as if it were UTC
  const int32_t o1 = offset_at(wall - 86400), o2 = offset_at(wall + 86400);
  std::optional<int64_t> best;
  for (int32_t o : {o1, o2})
    if (offset_at(wall - o) == o && (!best || wall - o < *best)) best = wall - o;
  if (best) return *best;  // exists (twice on a fall-back day: the earlier one)
  // In a gap: the first instant after it is the transition itself, in (wall - max, wall - min].
  int64_t lo = wall - std::max(o1, o2), hi = wall - std::min(o1, o2);
  const int32_t before = offset_at(lo);
  while (hi - lo > 1) {
    const int64_t mid = lo + (hi - lo) / 2;
    if (offset_at(mid) == before) lo = mid;
    else hi = mid;
  }
  return hi;
}

// ---- next fire -------------------------------------------------------------------------------------

std::optional<int64_t> next_fire(const TriggerSpec& t, const Zone& zone, int64_t after) {
  const int64_t day0 = zone.local_day(after);
  if (t.kind == TriggerSpec::Kind::kTime) {
    if (t.date_day) {
      if (t.weekday_mask && !(t.weekday_mask & (1u << store::weekday_from_days(*t.date_day)))) return std::nullopt;
      const int64_t at = zone.resolve(*t.date_day, t.at_minute);
      return at > after ? std::optional<int64_t>(at) : std::nullopt;
    }
    for (int64_t d = day0 - 1; d <= day0 + 8; ++d) {
      if (t.weekday_mask && !(t.weekday_mask & (1u << store::weekday_from_days(d)))) continue;
      const int64_t at = zone.resolve(d, t.at_minute);
      if (at > after) return at;
    }
    return std::nullopt;
  }
  if (t.kind == TriggerSpec::Kind::kInterval) {
    const int start = t.between ? t.between->first : 0;
    const int end = t.between ? t.between->second : 1439;
    const int length = end >= start ? end - start : end + 1440 - start;  // minutes, end inclusive
    const int step = t.every_minutes;
    const int64_t after_wall = (int64_t)(after + zone.offset_at(after)) / 60;  // minutes since epoch, local
    for (int64_t d = day0 - 2; d <= day0 + 2; ++d) {
      // Skip slots well before `after` (DST shifts wall time by at most a few hours).
      const int64_t delta = after_wall - (d * 1440 + start);
      int64_t k = std::max<int64_t>(0, (delta - 240) / step);
      for (; k * step <= length; ++k) {
        const int64_t m = start + k * step;
        const int64_t at = zone.resolve(d + m / 1440, (int)(m % 1440));
        if (at > after) return at;
      }
    }
    return std::nullopt;
  }
  return std::nullopt;
}

// ---- events and state --------------------------------------------------------------------------------

Status validate_event(const Event& e) {
  const EventDef* def = find_event(e.name);
  if (!def) return Status::invalid_argument("unknown event '" + e.name + "' (expected one of " + event_names() + ")");
  return check_event_params(*def, e.params, "event", false);
}

Result<Event> event_from_json(const Json& j) {
  if (!j.is_object()) return Status::invalid_argument("event: expected a JSON object {\"event\": NAME, ...}, got " + type_name(j));
  if (!j.contains("event") || !j["event"].is_string())
    return Status::invalid_argument("event: missing \"event\" (a name such as headphones.connected)");
  Event e;
  e.name = j["event"].get<std::string>();
  for (auto it = j.begin(); it != j.end(); ++it)
    if (it.key() != "event" && it.key() != "time") e.params[it.key()] = it.value();
  PM_RETURN_IF_ERROR(validate_event(e));
  return e;
}

Result<Event> parse_event_json(const std::string& text) {
  Json j = Json::parse(text, nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded()) return Status::invalid_argument("event: not valid JSON: " + text.substr(0, 80));
  return event_from_json(j);
}

Result<Event> event_from_args(const std::string& name, const std::vector<std::string>& kv) {
  Event e;
  e.name = name;
  const EventDef* def = find_event(name);
  if (!def) return Status::invalid_argument("unknown event '" + name + "' (expected one of " + event_names() + ")");
  for (const std::string& p : kv) {
    const size_t eq = p.find('=');
    if (eq == std::string::npos || eq == 0) return Status::invalid_argument("bad event parameter '" + p + "': expected KEY=VALUE");
    if (store::find_invalid_utf8(p) != std::string_view::npos)
      return Status::invalid_argument("bad event parameter: not valid UTF-8 text");
    const std::string k = p.substr(0, eq), v = p.substr(eq + 1);
    bool percent = false;
    for (const EventParam& q : def->params)
      if (k == q.name) percent = q.percent;
    if (percent) {
      char* endp = nullptr;
      const double d = std::strtod(v.c_str(), &endp);
      if (v.empty() || *endp != '\0' || !std::isfinite(d))
        return Status::invalid_argument("bad event parameter '" + p + "': " + k + " must be a number");
      if (d == std::floor(d)) e.params[k] = (int64_t)d;
      else e.params[k] = d;
    } else {
      e.params[k] = v;
    }
  }
  PM_RETURN_IF_ERROR(validate_event(e));
  return e;
}

bool trigger_matches(const TriggerSpec& t, const Event& e) {
  if (t.kind != TriggerSpec::Kind::kEvent || t.event != e.name) return false;
  for (auto it = t.filter.begin(); it != t.filter.end(); ++it) {
    if (e.name == "battery.low" && it.key() == "below") {
      // "below 20" matches a report of a level under 20, or of a crossing at or under 20.
      const double limit = it.value().get<double>();
      if (e.params.contains("level") && e.params["level"].get<double>() < limit) continue;
      if (e.params.contains("below") && e.params["below"].get<double>() <= limit) continue;
      return false;
    }
    if (!e.params.contains(it.key()) || e.params[it.key()] != it.value()) return false;
  }
  return true;
}

void DeviceState::apply(const Event& e) {
  auto str = [&](const char* k) { return e.params.contains(k) ? e.params[k].get<std::string>() : std::string(); };
  if (e.name == "charger.connected") keys["charging"] = true;
  else if (e.name == "charger.disconnected") keys["charging"] = false;
  else if (e.name == "location.arrived") location = str("place");
  else if (e.name == "location.left" && location == str("place")) location.clear();
  else if (e.name == "wifi.connected") keys["wifi"] = "on";
  else if (e.name == "bluetooth.connected") keys["bluetooth"] = "on";
  else if (e.name == "battery.low") {
    // level when reported; otherwise the battery is at most the threshold crossed.
    if (e.params.contains("level")) battery = (int)e.params["level"].get<double>();
    else if (e.params.contains("below")) {
      const int below = (int)e.params["below"].get<double>();
      if (!battery || *battery > below) battery = below;
    }
  }
}

Status DeviceState::set(const std::string& key, const std::string& value) {
  if (store::find_invalid_utf8(key) != std::string_view::npos || store::find_invalid_utf8(value) != std::string_view::npos)
    return Status::invalid_argument("state: not valid UTF-8 text");
  if (key == "battery") {
    char* endp = nullptr;
    const long v = std::strtol(value.c_str(), &endp, 10);
    if (value.empty() || *endp != '\0' || v < 0 || v > 100)
      return Status::invalid_argument("battery: expected a whole percentage 0-100, got '" + value + "'");
    battery = (int)v;
  } else if (key == "location") {
    location = value;
  } else if (key == "ringer_mode") {
    if (value != "silent" && value != "vibrate" && value != "normal")
      return Status::invalid_argument("ringer_mode: expected silent, vibrate or normal, got '" + value + "'");
    keys[key] = value;
  } else if (key == "do_not_disturb" || key == "wifi" || key == "bluetooth") {
    if (value != "on" && value != "off") return Status::invalid_argument(key + ": expected on or off, got '" + value + "'");
    keys[key] = value;
  } else if (key == "charging") {
    if (value != "true" && value != "false") return Status::invalid_argument("charging: expected true or false, got '" + value + "'");
    keys[key] = value == "true";
  } else {
    return Status::invalid_argument("unknown state key '" + key +
                                    "' (expected battery, location, ringer_mode, do_not_disturb, wifi, bluetooth, charging)");
  }
  return Status::ok();
}

Json DeviceState::to_json() const {
  Json j = Json::object();
  if (battery) j["battery"] = *battery;
  if (!location.empty()) j["location"] = location;
  for (const auto& [k, v] : keys) j[k] = v;
  return j;
}

DeviceState DeviceState::from_json(const Json& j) {
  DeviceState s;
  if (!j.is_object()) return s;
  for (auto it = j.begin(); it != j.end(); ++it) {
    const Json& v = it.value();
    const std::string text = v.is_string() ? v.get<std::string>() : v.dump();
    (void)s.set(it.key(), text);  // a damaged entry is dropped, not fatal
  }
  return s;
}

bool condition_holds(const ConditionSpec& c, const DeviceState& s, const Zone& zone, int64_t now) {
  switch (c.kind) {
    case ConditionSpec::Kind::kTimeBetween: {
      const int m = zone.local_minute(now);
      const bool wraps = c.after_minute > c.before_minute;
      const bool in = wraps ? (m >= c.after_minute || m < c.before_minute) : (m >= c.after_minute && m < c.before_minute);
      if (!in) return false;
      if (!c.weekday_mask) return true;
      // The weekday is that of the day the window opened (22:00-06:00 "fri" covers Saturday 02:00).
      int wd = zone.weekday(now);
      if (wraps && m < c.before_minute) wd = (wd + 6) % 7;
      return (c.weekday_mask & (1u << wd)) != 0;
    }
    case ConditionSpec::Kind::kBattery:
      if (!s.battery) return false;
      if (c.battery_above && !(*s.battery > *c.battery_above)) return false;
      if (c.battery_below && !(*s.battery < *c.battery_below)) return false;
      return true;
    case ConditionSpec::Kind::kLocation: return !s.location.empty() && s.location == c.place;
    case ConditionSpec::Kind::kState: {
      auto it = s.keys.find(c.key);
      return it != s.keys.end() && it->second == c.equals;
    }
  }
  return false;
}

bool conditions_hold(const RuleSpec& r, const DeviceState& s, const Zone& zone, int64_t now) {
  for (const ConditionSpec& c : r.conditions)
    if (!condition_holds(c, s, zone, now)) return false;
  return true;
}

// ---- simulation ------------------------------------------------------------------------------------

std::vector<SimFiring> simulate(const std::vector<RuleSpec>& rules, const Zone& zone, int64_t from, int64_t to,
                                std::vector<TimedEvent> events, DeviceState state) {
  std::stable_sort(events.begin(), events.end(), [](const TimedEvent& a, const TimedEvent& b) { return a.time < b.time; });
  struct Pending {
    size_t rule, trigger;
    std::optional<int64_t> next;
  };
  std::vector<Pending> timers;
  for (size_t r = 0; r < rules.size(); ++r)
    for (size_t t = 0; t < rules[r].triggers.size(); ++t)
      if (rules[r].triggers[t].kind != TriggerSpec::Kind::kEvent)
        timers.push_back({r, t, next_fire(rules[r].triggers[t], zone, from)});
  std::vector<SimFiring> out;
  auto fire = [&](const RuleSpec& r, const TriggerSpec& t, int64_t at) {
    SimFiring f;
    f.time = at;
    f.rule_id = r.id;
    f.rule_name = r.name;
    f.trigger = t.describe();
    f.fired = conditions_hold(r, state, zone, at);
    f.actions = r.actions;
    out.push_back(std::move(f));
  };
  size_t ev = 0;
  while (ev < events.size() && events[ev].time <= from) state.apply(events[ev++].event);  // history before the window
  for (;;) {
    Pending* due = nullptr;
    for (Pending& p : timers)
      if (p.next && *p.next <= to && (!due || *p.next < *due->next)) due = &p;
    const bool event_next = ev < events.size() && events[ev].time <= to && (!due || events[ev].time < *due->next);
    if (event_next) {
      const TimedEvent& e = events[ev++];
      state.apply(e.event);
      for (const RuleSpec& r : rules)
        for (const TriggerSpec& t : r.triggers)
          if (trigger_matches(t, e.event)) {
            fire(r, t, e.time);
            break;  // one firing per rule and event
          }
      continue;
    }
    if (!due) break;
    const int64_t at = *due->next;
    fire(rules[due->rule], rules[due->rule].triggers[due->trigger], at);
    due->next = next_fire(rules[due->rule].triggers[due->trigger], zone, at);
  }
  return out;
}

// ---- clocks ----------------------------------------------------------------------------------------

int64_t RealClock::now() {
  return std::chrono::duration_cast<std::chrono::seconds>(std::chrono::system_clock::now().time_since_epoch()).count();
}
void RealClock::sleep_until(int64_t epoch_s) {
  std::this_thread::sleep_until(std::chrono::system_clock::time_point(std::chrono::seconds(epoch_s)));
}

}  // namespace pm::automation
