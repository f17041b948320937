#include "assistant/automation/rule.h"

#include <algorithm>
#include <cstdio>
#include <regex>
#include <set>

namespace pm::automation {

namespace {

using json = nlohmann::ordered_json;

const std::vector<std::string> kWeekdays = {"mon", "tue", "wed", "thu", "fri", "sat", "sun"};
const std::vector<std::string> kModes = {"single", "restart", "queued", "parallel"};

bool contains(const std::vector<std::string>& v, const std::string& s) {
  return std::find(v.begin(), v.end(), s) != v.end();
}

std::string show(const json& v) {
  std::string s = v.dump(-1, ' ', false, json::error_handler_t::replace);
  return s.size() > 60 ? s.substr(0, 57) + "..." : s;
}

bool valid_date(const std::string& s) {
  static const std::regex re("^([0-9]{4})-([0-9]{2})-([0-9]{2})$");
  std::smatch m;
  if (!std::regex_match(s, m, re)) return false;
  const int y = std::stoi(m[1]), mo = std::stoi(m[2]), d = std::stoi(m[3]);
  static const int kDays[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  if (mo < 1 || mo > 12 || d < 1) return false;
  const bool leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
  return d <= kDays[mo - 1] + (mo == 2 && leap ? 1 : 0);
}

// A time-of-day field: must be a string already in "HH:MM" form.
void check_time(const json& obj, const char* key, const std::string& path, bool required,
                std::vector<std::string>& out) {
  auto it = obj.find(key);
  if (it == obj.end()) {
    if (required) out.push_back(path + "." + key + ": missing (a time of day \"HH:MM\")");
    return;
  }
  if (!it->is_string()) {
    out.push_back(path + "." + key + ": " + show(*it) + " is not a time of day \"HH:MM\"");
    return;
  }
  Result<std::string> t = normalize_time(it->get<std::string>());
  if (!t.is_ok())
    out.push_back(path + "." + key + ": " + t.status().message());
  else if (*t != it->get<std::string>())
    out.push_back(path + "." + key + ": \"" + it->get<std::string>() + "\" is not in \"HH:MM\" form");
}

void check_weekdays(const json& obj, const std::string& path, std::vector<std::string>& out) {
  auto it = obj.find("weekdays");
  if (it == obj.end()) return;
  if (!it->is_array() || it->empty()) {
    out.push_back(path + ".weekdays: expected a non-empty list of mon..sun");
    return;
  }
  std::set<std::string> seen;
  for (size_t i = 0; i < it->size(); ++i) {
    const json& d = (*it)[i];
    if (!d.is_string() || !contains(kWeekdays, d.get<std::string>()))
      out.push_back(path + ".weekdays[" + std::to_string(i) + "]: " + show(d) +
                    " is not one of mon, tue, wed, thu, fri, sat, sun");
    else if (!seen.insert(d.get<std::string>()).second)
      out.push_back(path + ".weekdays[" + std::to_string(i) + "]: " + show(d) + " is repeated");
  }
}

void check_keys(const json& obj, const std::vector<std::string>& allowed, const std::string& path,
                std::vector<std::string>& out) {
  for (auto it = obj.begin(); it != obj.end(); ++it)
    if (!contains(allowed, it.key())) out.push_back(path + ": unknown field \"" + it.key() + "\"");
}

bool is_percent(const json& v) { return v.is_number_integer() && v.get<int64_t>() >= 0 && v.get<int64_t>() <= 100; }

void validate_trigger(const json& t, const std::string& path, std::vector<std::string>& out) {
  if (!t.is_object()) {
    out.push_back(path + ": expected an object");
    return;
  }
  auto type = t.find("type");
  if (type == t.end() || !type->is_string()) {
    out.push_back(path + ".type: missing (one of time, interval, event)");
    return;
  }
  const std::string ty = type->get<std::string>();
  if (ty == "time") {
    check_keys(t, {"type", "at", "weekdays", "date"}, path, out);
    check_time(t, "at", path, true, out);
    check_weekdays(t, path, out);
    if (auto d = t.find("date"); d != t.end()) {
      if (!d->is_string() || !valid_date(d->get<std::string>()))
        out.push_back(path + ".date: " + show(*d) + " is not a calendar date \"YYYY-MM-DD\"");
      if (t.contains("weekdays")) out.push_back(path + ": give either date or weekdays, not both");
    }
  } else if (ty == "interval") {
    check_keys(t, {"type", "every_minutes", "between"}, path, out);
    auto e = t.find("every_minutes");
    if (e == t.end())
      out.push_back(path + ".every_minutes: missing (minutes between runs, 1-1440)");
    else if (!e->is_number_integer() || e->get<int64_t>() < 1 || e->get<int64_t>() > 1440)
      out.push_back(path + ".every_minutes: " + show(*e) + " is not a whole number of minutes from 1 to 1440");
    if (auto b = t.find("between"); b != t.end()) {
      if (!b->is_array() || b->size() != 2)
        out.push_back(path + ".between: expected [\"HH:MM\", \"HH:MM\"]");
      else {
        for (size_t k = 0; k < 2; ++k) {
          const std::string bp = path + ".between[" + std::to_string(k) + "]";
          const json& v = (*b)[k];
          if (!v.is_string()) {
            out.push_back(bp + ": " + show(v) + " is not a time of day \"HH:MM\"");
            continue;
          }
          Result<std::string> n = normalize_time(v.get<std::string>());
          if (!n.is_ok())
            out.push_back(bp + ": " + n.status().message());
          else if (*n != v.get<std::string>())
            out.push_back(bp + ": \"" + v.get<std::string>() + "\" is not in \"HH:MM\" form");
        }
      }
    }
  } else if (ty == "event") {
    check_keys(t, {"type", "event", "filter"}, path, out);
    auto e = t.find("event");
    if (e == t.end() || !e->is_string()) {
      out.push_back(path + ".event: missing (an event name such as headphones.connected)");
      return;
    }
    const EventDef* def = find_event(e->get<std::string>());
    if (!def) {
      out.push_back(path + ".event: unknown event \"" + e->get<std::string>() + "\"");
      return;
    }
    json filter = json::object();
    if (auto f = t.find("filter"); f != t.end()) {
      if (!f->is_object()) {
        out.push_back(path + ".filter: expected an object");
        return;
      }
      filter = *f;
    }
    for (auto it = filter.begin(); it != filter.end(); ++it) {
      const std::string fp = path + ".filter." + it.key();
      if (!contains(def->filter_keys, it.key()))
        out.push_back(path + ".filter: event " + def->name + " has no filter \"" + it.key() + "\"");
      else if (it.key() == "below") {
        if (!is_percent(*it) || it->get<int64_t>() < 1)
          out.push_back(fp + ": " + show(*it) + " is not a battery percentage 1-100");
      } else if (!it->is_string() || it->get<std::string>().empty())
        out.push_back(fp + ": expected a non-empty string");
    }
    for (const std::string& k : def->required_keys)
      if (!filter.contains(k)) out.push_back(path + ".filter." + k + ": missing (event " + def->name + " needs it)");
  } else {
    out.push_back(path + ".type: unknown trigger type \"" + ty + "\" (one of time, interval, event)");
  }
}

void validate_condition(const json& c, const std::string& path, std::vector<std::string>& out) {
  if (!c.is_object()) {
    out.push_back(path + ": expected an object");
    return;
  }
  auto type = c.find("type");
  if (type == c.end() || !type->is_string()) {
    out.push_back(path + ".type: missing (one of time_between, battery, location, state)");
    return;
  }
  const std::string ty = type->get<std::string>();
  if (ty == "time_between") {
    check_keys(c, {"type", "after", "before", "weekdays"}, path, out);
    check_time(c, "after", path, true, out);
    check_time(c, "before", path, true, out);
    check_weekdays(c, path, out);
  } else if (ty == "battery") {
    check_keys(c, {"type", "above", "below"}, path, out);
    const bool a = c.contains("above"), b = c.contains("below");
    if (a == b) out.push_back(path + ": give exactly one of above, below");
    for (const char* k : {"above", "below"})
      if (c.contains(k) && !is_percent(c[k]))
        out.push_back(path + "." + k + ": " + show(c[k]) + " is not a percentage 0-100");
  } else if (ty == "location") {
    check_keys(c, {"type", "place"}, path, out);
    if (!c.contains("place") || !c["place"].is_string() || c["place"].get<std::string>().empty())
      out.push_back(path + ".place: missing (a place name such as home)");
  } else if (ty == "state") {
    check_keys(c, {"type", "key", "equals"}, path, out);
    if (!c.contains("key") || !c["key"].is_string()) {
      out.push_back(path + ".key: missing (one of ringer_mode, do_not_disturb, wifi, bluetooth, charging)");
      return;
    }
    const std::string key = c["key"].get<std::string>();
    if (!contains(state_keys(), key)) {
      out.push_back(path + ".key: unknown state \"" + key +
                    "\" (one of ringer_mode, do_not_disturb, wifi, bluetooth, charging)");
      return;
    }
    if (!c.contains("equals")) {
      out.push_back(path + ".equals: missing");
      return;
    }
    const json& v = c["equals"];
    if (key == "charging") {
      if (!v.is_boolean()) out.push_back(path + ".equals: " + show(v) + " is not true or false");
    } else if (key == "ringer_mode") {
      if (!v.is_string() || !contains({"silent", "vibrate", "normal"}, v.get<std::string>()))
        out.push_back(path + ".equals: " + show(v) + " is not one of silent, vibrate, normal");
    } else if (!v.is_string() || !contains({"on", "off"}, v.get<std::string>())) {
      out.push_back(path + ".equals: " + show(v) + " is not \"on\" or \"off\"");
    }
  } else {
    out.push_back(path + ".type: unknown condition type \"" + ty +
                  "\" (one of time_between, battery, location, state)");
  }
}

std::string type_name(const json& v) {
  if (v.is_string()) return "a string";
  if (v.is_number_integer() || v.is_number_unsigned()) return "an integer";
  if (v.is_number()) return "a number";
  if (v.is_boolean()) return "a boolean";
  if (v.is_object()) return "an object";
  if (v.is_array()) return "a list";
  return "null";
}

bool has_type(const json& v, const std::string& t) {
  if (t == "string") return v.is_string();
  if (t == "integer")
    return v.is_number_integer() || (v.is_number_float() && v.get<double>() == double(int64_t(v.get<double>())));
  if (t == "number") return v.is_number();
  if (t == "boolean") return v.is_boolean();
  if (t == "object") return v.is_object();
  if (t == "array") return v.is_array();
  if (t == "null") return v.is_null();
  return true;
}

}  // namespace

bool is_chinese_text(std::string_view text) {
  for (size_t i = 0; i + 2 < text.size(); ++i) {
    const unsigned char c = static_cast<unsigned char>(text[i]);
    if (c >= 0xE4 && c <= 0xE9) return true;  // U+4E00..U+9FFF lead bytes
  }
  return false;
}

Result<std::string> normalize_time(std::string_view text) {
  std::string s;
  for (size_t i = 0; i < text.size();) {
    if (text.substr(i, 3) == "\xEF\xBC\x9A") {  // full-width colon
      s += ':';
      i += 3;
    } else {
      s += text[i++];
    }
  }
  static const std::regex re("^\\s*([0-9]{1,2})(?::([0-9]{1,2}))?\\s*$");
  std::smatch m;
  if (!std::regex_match(s, m, re))
    return Status::invalid_argument("\"" + std::string(text) + "\" is not a time of day (expected HH:MM)");
  const int h = std::stoi(m[1]);
  const int mi = m[2].matched ? std::stoi(m[2]) : 0;
  if (m[2].matched && m[2].length() != 2)
    return Status::invalid_argument("\"" + std::string(text) + "\" is not a time of day (minutes need two digits)");
  if (h > 23 || mi > 59)
    return Status::invalid_argument(std::string(text) + " is not a valid time of day (hours 0-23, minutes 0-59)");
  char buf[32];
  std::snprintf(buf, sizeof buf, "%02d:%02d", h, mi);
  return std::string(buf);
}

json rule_to_json(const Rule& rule) {
  json j;
  j["name"] = rule.name;
  j["mode"] = rule.mode;
  if (!rule.enabled) j["enabled"] = false;
  j["triggers"] = json::array();
  for (const json& t : rule.triggers) j["triggers"].push_back(t);
  j["conditions"] = json::array();
  for (const json& c : rule.conditions) j["conditions"].push_back(c);
  j["actions"] = json::array();
  for (const Action& a : rule.actions) j["actions"].push_back({{"tool", a.tool}, {"args", a.args}});
  return j;
}

Result<Rule> rule_from_json(const json& j) {
  if (!j.is_object()) return Status::invalid_argument("rule: expected a JSON object");
  for (auto it = j.begin(); it != j.end(); ++it)
    if (!contains({"name", "mode", "enabled", "triggers", "conditions", "actions"}, it.key()))
      return Status::invalid_argument("rule: unknown field \"" + it.key() + "\"");
  Rule r;
  if (j.contains("name")) {
    if (!j["name"].is_string()) return Status::invalid_argument("name: expected a string");
    r.name = j["name"].get<std::string>();
  }
  if (j.contains("mode")) {
    if (!j["mode"].is_string()) return Status::invalid_argument("mode: expected a string");
    r.mode = j["mode"].get<std::string>();
  }
  if (j.contains("enabled")) {
    if (!j["enabled"].is_boolean()) return Status::invalid_argument("enabled: expected true or false");
    r.enabled = j["enabled"].get<bool>();
  }
  for (const char* key : {"triggers", "conditions", "actions"}) {
    if (!j.contains(key)) {
      if (std::string(key) == "conditions") continue;
      return Status::invalid_argument(std::string(key) + ": missing");
    }
    if (!j[key].is_array()) return Status::invalid_argument(std::string(key) + ": expected a list");
  }
  for (const json& t : j["triggers"]) r.triggers.push_back(t);
  if (j.contains("conditions"))
    for (const json& c : j["conditions"]) r.conditions.push_back(c);
  for (size_t i = 0; i < j["actions"].size(); ++i) {
    const json& a = j["actions"][i];
    const std::string p = "actions[" + std::to_string(i) + "]";
    if (!a.is_object() || !a.contains("tool") || !a["tool"].is_string())
      return Status::invalid_argument(p + ": expected {\"tool\": NAME, \"args\": {...}}");
    for (auto it = a.begin(); it != a.end(); ++it)
      if (it.key() != "tool" && it.key() != "args")
        return Status::invalid_argument(p + ": unknown field \"" + it.key() + "\"");
    Action act;
    act.tool = a["tool"].get<std::string>();
    if (a.contains("args")) {
      if (!a["args"].is_object()) return Status::invalid_argument(p + ".args: expected an object");
      act.args = a["args"];
    }
    r.actions.push_back(std::move(act));
  }
  return r;
}

void normalize_rule(Rule& rule) {
  auto fix_time = [](json& obj, const char* key) {
    auto it = obj.find(key);
    if (it == obj.end() || !it->is_string()) return;
    Result<std::string> t = normalize_time(it->get<std::string>());
    if (t.is_ok()) *it = *t;
  };
  auto fix_moment = [](json& obj, const char* key) {  // "YYYY-MM-DDTH:MM" or "H:MM"
    auto it = obj.find(key);
    if (it == obj.end() || !it->is_string()) return;
    std::string s = it->get<std::string>();
    const size_t t = s.find('T');
    Result<std::string> n = normalize_time(t == std::string::npos ? s : s.substr(t + 1));
    if (n.is_ok()) *it = (t == std::string::npos ? "" : s.substr(0, t + 1)) + *n;
  };
  auto fix_days = [](json& obj) {
    auto it = obj.find("weekdays");
    if (it == obj.end() || !it->is_array()) return;
    for (const json& d : *it)
      if (!d.is_string() || !contains(kWeekdays, d.get<std::string>())) return;  // validate() reports it
    json sorted = json::array();
    for (const std::string& d : kWeekdays)
      if (std::find(it->begin(), it->end(), json(d)) != it->end()) sorted.push_back(d);
    *it = sorted;
  };
  for (json& t : rule.triggers) {
    if (!t.is_object()) continue;
    fix_time(t, "at");
    fix_days(t);
    if (auto b = t.find("between"); b != t.end() && b->is_array())
      for (json& v : *b)
        if (v.is_string())
          if (Result<std::string> n = normalize_time(v.get<std::string>()); n.is_ok()) v = *n;
  }
  for (json& c : rule.conditions) {
    if (!c.is_object()) continue;
    fix_time(c, "after");
    fix_time(c, "before");
    fix_days(c);
  }
  for (Action& a : rule.actions) {
    if (!a.args.is_object()) continue;
    fix_time(a.args, "time");
    fix_days(a.args);
    for (const char* k : {"at", "start", "end"}) fix_moment(a.args, k);
  }
}

std::vector<std::string> validate_value(const json& schema, const json& value, const std::string& path) {
  std::vector<std::string> out;
  if (!schema.is_object()) return out;
  if (auto any = schema.find("anyOf"); any != schema.end() && any->is_array()) {
    for (const json& branch : *any)
      if (validate_value(branch, value, path).empty()) return out;
    std::vector<std::string> first = validate_value((*any)[0], value, path);
    out.push_back(path + ": " + show(value) + " matches none of the allowed forms" +
                  (first.empty() ? "" : " (" + first[0].substr(path.size() + 2) + ")"));
    return out;
  }
  if (auto e = schema.find("enum"); e != schema.end()) {
    if (std::find(e->begin(), e->end(), value) == e->end()) {
      std::string list;
      for (const json& v : *e) list += (list.empty() ? "" : ", ") + (v.is_string() ? v.get<std::string>() : v.dump());
      out.push_back(path + ": " + show(value) + " is not one of " + list);
    }
    return out;
  }
  if (auto t = schema.find("type"); t != schema.end() && t->is_string() && !has_type(value, t->get<std::string>())) {
    out.push_back(path + ": expected " +
                  (t->get<std::string>() == "integer"  ? std::string("an integer")
                   : t->get<std::string>() == "object" ? std::string("an object")
                   : t->get<std::string>() == "array"  ? std::string("a list")
                                                       : "a " + t->get<std::string>()) +
                  ", got " + type_name(value) + " " + show(value));
    return out;
  }
  if (value.is_number()) {
    if (auto mn = schema.find("minimum"); mn != schema.end() && value.get<double>() < mn->get<double>())
      out.push_back(path + ": " + show(value) + " is below the minimum " + mn->dump());
    if (auto mx = schema.find("maximum"); mx != schema.end() && value.get<double>() > mx->get<double>())
      out.push_back(path + ": " + show(value) + " is above the maximum " + mx->dump());
  }
  if (value.is_string()) {
    const std::string s = value.get<std::string>();
    if (auto ml = schema.find("minLength"); ml != schema.end() && s.size() < ml->get<size_t>())
      out.push_back(path + ": must not be empty");
    if (auto p = schema.find("pattern"); p != schema.end() && !std::regex_search(s, std::regex(p->get<std::string>())))
      out.push_back(path + ": " + show(value) + " is not in the expected form" +
                    (schema.contains("description") ? " (" + schema["description"].get<std::string>() + ")" : ""));
  }
  if (value.is_array()) {
    if (auto mn = schema.find("minItems"); mn != schema.end() && value.size() < mn->get<size_t>())
      out.push_back(path + ": needs at least " + mn->dump() + " item(s)");
    if (auto mx = schema.find("maxItems"); mx != schema.end() && value.size() > mx->get<size_t>())
      out.push_back(path + ": allows at most " + mx->dump() + " items");
    if (auto items = schema.find("items"); items != schema.end())
      for (size_t i = 0; i < value.size(); ++i) {
        std::vector<std::string> sub = validate_value(*items, value[i], path + "[" + std::to_string(i) + "]");
        out.insert(out.end(), sub.begin(), sub.end());
      }
  }
  if (value.is_object()) {
    const json props = schema.value("properties", json::object());
    if (auto req = schema.find("required"); req != schema.end())
      for (const json& k : *req)
        if (!value.contains(k.get<std::string>())) out.push_back(path + "." + k.get<std::string>() + ": missing");
    for (auto it = value.begin(); it != value.end(); ++it) {
      if (props.contains(it.key())) {
        std::vector<std::string> sub = validate_value(props[it.key()], *it, path + "." + it.key());
        out.insert(out.end(), sub.begin(), sub.end());
      } else if (schema.value("additionalProperties", json(true)) == json(false)) {
        out.push_back(path + "." + it.key() + ": unknown argument");
      }
    }
  }
  return out;
}

std::vector<std::string> validate(const Rule& rule, const ToolRegistry& registry) {
  std::vector<std::string> out;
  if (rule.name.empty()) out.push_back("name: empty");
  if (!contains(kModes, rule.mode))
    out.push_back("mode: \"" + rule.mode + "\" is not one of single, restart, queued, parallel");
  if (rule.triggers.empty())
    out.push_back("triggers: empty (a rule needs at least one trigger: a time, an interval or an event)");
  for (size_t i = 0; i < rule.triggers.size(); ++i)
    validate_trigger(rule.triggers[i], "triggers[" + std::to_string(i) + "]", out);
  for (size_t i = 0; i < rule.conditions.size(); ++i)
    validate_condition(rule.conditions[i], "conditions[" + std::to_string(i) + "]", out);
  if (rule.actions.empty()) out.push_back("actions: empty (a rule needs at least one action)");
  for (size_t i = 0; i < rule.actions.size(); ++i) {
    const Action& a = rule.actions[i];
    const std::string p = "actions[" + std::to_string(i) + "]";
    const ToolDef* tool = registry.find(a.tool);
    if (!tool) {
      out.push_back(p + ".tool: unknown tool \"" + a.tool + "\"");
      continue;
    }
    std::vector<std::string> sub = validate_value(tool->schema, a.args, p + ".args");
    out.insert(out.end(), sub.begin(), sub.end());
    if (a.tool == "settings.set" && sub.empty()) {
      const bool brightness = a.args["setting"] == "brightness";
      if (brightness && !a.args["value"].is_number())
        out.push_back(p + ".args.value: brightness takes a level 0-100, got " + show(a.args["value"]));
      if (!brightness && !a.args["value"].is_string())
        out.push_back(p + ".args.value: " + a.args["setting"].get<std::string>() + " takes \"on\" or \"off\", got " +
                      show(a.args["value"]));
    }
  }
  return out;
}

// ---- conflicts ---------------------------------------------------------------------------------

namespace {

std::set<std::string> days_of(const json& t, bool& all) {
  std::set<std::string> s;
  all = !t.contains("weekdays") || !t["weekdays"].is_array();
  if (!all)
    for (const json& d : t["weekdays"])
      if (d.is_string()) s.insert(d.get<std::string>());
  return s;
}

// Day of week ("mon".."sun") of a "YYYY-MM-DD" date (Sakamoto's method).
std::string weekday_of_date(const std::string& date) {
  int y = std::stoi(date.substr(0, 4)), m = std::stoi(date.substr(5, 2)), d = std::stoi(date.substr(8, 2));
  static const int t[] = {0, 3, 2, 5, 0, 3, 5, 1, 4, 6, 2, 4};
  if (m < 3) y -= 1;
  const int w = (y + y / 4 - y / 100 + y / 400 + t[m - 1] + d) % 7;  // 0 = Sunday
  static const char* const kNames[] = {"sun", "mon", "tue", "wed", "thu", "fri", "sat"};
  return kNames[w];
}

// Can two triggers fire at the same moment?
bool coincide(const json& a, const json& b) {
  const std::string ta = a.value("type", ""), tb = b.value("type", "");
  if (ta == "time" && tb == "time") {
    if (a.value("at", "") != b.value("at", "")) return false;
    const bool da = a.contains("date"), db = b.contains("date");
    if (da && db) return a["date"] == b["date"];
    bool all_a = false, all_b = false;
    std::set<std::string> sa = days_of(a, all_a), sb = days_of(b, all_b);
    if (da) return all_b || sb.count(weekday_of_date(a.value("date", "2000-01-01")));
    if (db) return all_a || sa.count(weekday_of_date(b.value("date", "2000-01-01")));
    if (all_a || all_b) return true;
    for (const std::string& d : sa)
      if (sb.count(d)) return true;
    return false;
  }
  if (ta == "event" && tb == "event") {
    if (a.value("event", "") != b.value("event", "")) return false;
    const json fa = a.value("filter", json::object()), fb = b.value("filter", json::object());
    for (auto it = fa.begin(); it != fa.end(); ++it)
      if (fb.contains(it.key()) && fb[it.key()] != *it) return false;
    return true;
  }
  return false;
}

// What an action sets ("ringer", "volume:media", "setting:wifi") and to what; "" when nothing.
std::pair<std::string, json> target_of(const Action& a) {
  if (a.tool == "phone.set_ringer_mode") return {"ringer mode", a.args.value("mode", json())};
  if (a.tool == "phone.set_volume") return {a.args.value("stream", "") + " volume", a.args.value("level", json())};
  if (a.tool == "settings.set") return {a.args.value("setting", "") + " setting", a.args.value("value", json())};
  return {"", json()};
}

}  // namespace

std::vector<Conflict> find_conflicts(const std::vector<Rule>& rules) {
  std::vector<Conflict> out;
  for (size_t i = 0; i < rules.size(); ++i)
    for (size_t j = i; j < rules.size(); ++j) {
      bool can_coincide = i == j;
      if (i != j)
        for (const json& ta : rules[i].triggers)
          for (const json& tb : rules[j].triggers) can_coincide = can_coincide || coincide(ta, tb);
      if (!can_coincide) continue;
      for (size_t x = 0; x < rules[i].actions.size(); ++x)
        for (size_t y = (i == j ? x + 1 : 0); y < rules[j].actions.size(); ++y) {
          auto [ka, va] = target_of(rules[i].actions[x]);
          auto [kb, vb] = target_of(rules[j].actions[y]);
          if (ka.empty() || ka != kb || va == vb) continue;
          Conflict c;
          c.rule_a = i;
          c.rule_b = j;
          c.target = ka;
          c.value_a = va;
          c.value_b = vb;
          c.message = i == j ? "rule " + std::to_string(i + 1) + " \"" + rules[i].name + "\" sets the " + ka +
                                   " to both " + show(va) + " and " + show(vb)
                             : "rules " + std::to_string(i + 1) + " \"" + rules[i].name + "\" and " +
                                   std::to_string(j + 1) + " \"" + rules[j].name +
                                   "\" can fire at the same moment and set the " + ka + " to " + show(va) + " and " +
                                   show(vb);
          out.push_back(std::move(c));
        }
    }
  return out;
}

}  // namespace pm::automation
