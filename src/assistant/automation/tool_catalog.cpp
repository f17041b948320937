#include "assistant/automation/tool_catalog.h"

#include <regex>

#include "generate/grammar/json_schema.h"

namespace pm::automation {

namespace {

using json = nlohmann::ordered_json;

const char* const kTimePattern = "^([01][0-9]|2[0-3]):[0-5][0-9]$";
const char* const kDatePattern = "^[0-9]{4}-(0[1-9]|1[0-2])-(0[1-9]|[12][0-9]|3[01])$";
// "HH:MM" (the day the rule fires) or "YYYY-MM-DDTHH:MM".
const char* const kMomentPattern =
    "^([0-9]{4}-(0[1-9]|1[0-2])-(0[1-9]|[12][0-9]|3[01])T)?([01][0-9]|2[0-3]):[0-5][0-9]$";

json str(const char* description) { return {{"type", "string"}, {"minLength", 1}, {"description", description}}; }
json pattern(const char* p, const char* description) {
  return {{"type", "string"}, {"pattern", p}, {"description", description}};
}
json obj(json properties, std::vector<std::string> required) {
  json j = {{"type", "object"}, {"properties", std::move(properties)}};
  if (!required.empty()) j["required"] = required;
  j["additionalProperties"] = false;
  return j;
}

std::vector<ToolDef> make_builtins() {
  json weekdays = {{"type", "array"},
                   {"items", {{"enum", {"mon", "tue", "wed", "thu", "fri", "sat", "sun"}}}},
                   {"minItems", 1},
                   {"maxItems", 7}};
  std::vector<ToolDef> t = {
      {"alarm.set", "Set an alarm clock",
       obj({{"time", pattern(kTimePattern, "HH:MM, 24-hour")},
            {"weekdays", weekdays},
            {"date", pattern(kDatePattern, "YYYY-MM-DD")},
            {"label", str("alarm label")}},
           {"time"}),
       true},
      {"timer.start", "Start a countdown timer",
       obj({{"duration_s", {{"type", "integer"}, {"minimum", 1}, {"maximum", 86400}}}, {"label", str("timer label")}},
           {"duration_s"}),
       true},
      {"reminder.create", "Create a reminder",
       obj({{"text", str("what to remind")}, {"at", pattern(kMomentPattern, "HH:MM or YYYY-MM-DDTHH:MM")}},
           {"text", "at"}),
       true},
      {"calendar.create_event", "Add a calendar event",
       obj({{"title", str("event title")},
            {"start", pattern(kMomentPattern, "HH:MM or YYYY-MM-DDTHH:MM")},
            {"end", pattern(kMomentPattern, "HH:MM or YYYY-MM-DDTHH:MM")},
            {"location", str("where")}},
           {"title", "start"}),
       true},
      {"phone.call", "Call a contact", obj({{"contact", str("contact name or number")}}, {"contact"}), true},
      {"sms.send", "Send a text message",
       obj({{"to", str("contact name or number")}, {"text", str("message")}}, {"to", "text"}), true},
      {"music.play", "Play music (a playlist, a search query, or whatever was playing)",
       obj({{"playlist", str("playlist name; \"favorites\" = the user's favourites")}, {"query", str("search")}}, {}),
       true},
      {"media.pause", "Pause media playback", obj(json::object(), {}), true},
      {"phone.set_ringer_mode", "Set the ringer mode",
       obj({{"mode", {{"enum", {"silent", "vibrate", "normal"}}}}}, {"mode"}), true},
      {"phone.set_volume", "Set a volume stream (0-100)",
       obj({{"stream", {{"enum", {"media", "ring", "alarm"}}}},
            {"level", {{"type", "integer"}, {"minimum", 0}, {"maximum", 100}}}},
           {"stream", "level"}),
       true},
      {"settings.set", "Change a device setting: switches take \"on\"/\"off\", brightness 0-100",
       obj({{"setting",
             {{"enum",
               {"wifi", "bluetooth", "do_not_disturb", "airplane_mode", "mobile_data", "flashlight", "brightness"}}}},
            {"value",
             {{"anyOf", json::array({json{{"enum", {"on", "off"}}},
                                     json{{"type", "integer"}, {"minimum", 0}, {"maximum", 100}}})}}}},
           {"setting", "value"}),
       true},
      {"weather.read", "Read the weather forecast aloud",
       obj({{"when", {{"enum", {"today", "tomorrow"}}}}, {"place", str("city or place")}}, {"when"}), true},
      {"news.read", "Read the news aloud", obj(json::object(), {}), true},
      {"app.open", "Open an app", obj({{"app", str("app name")}}, {"app"}), true},
      {"navigation.start", "Start navigation", obj({{"destination", str("place")}}, {"destination"}), true},
      {"tts.speak", "Speak a text aloud", obj({{"text", str("text to speak")}}, {"text"}), true},
      {"notification.show", "Show a notification", obj({{"text", str("notification text")}}, {"text"}), true},
  };
  return t;
}

}  // namespace

const std::vector<std::string>& trigger_types() {
  static const std::vector<std::string> k = {"time", "interval", "event"};
  return k;
}
const std::vector<std::string>& condition_types() {
  static const std::vector<std::string> k = {"time_between", "battery", "location", "state"};
  return k;
}
const std::vector<std::string>& state_keys() {
  static const std::vector<std::string> k = {"ringer_mode", "do_not_disturb", "wifi", "bluetooth", "charging"};
  return k;
}

const std::vector<ToolDef>& builtin_tools() {
  static const std::vector<ToolDef> k = make_builtins();
  return k;
}

const std::vector<EventDef>& builtin_events() {
  static const std::vector<EventDef> k = {
      {"headphones.connected", "Headphones were connected (wired or Bluetooth)", {}, {}, {}},
      {"headphones.disconnected", "Headphones were disconnected", {}, {}, {}},
      {"bluetooth.connected", "A Bluetooth device connected", {"device"}, {}, {{"device"}}},
      {"bluetooth.disconnected", "A Bluetooth device disconnected", {"device"}, {}, {{"device"}}},
      {"charger.connected", "The charger was plugged in", {}, {}, {}},
      {"charger.disconnected", "The charger was unplugged", {}, {}, {}},
      // A report carries the level, or the threshold crossed; a filter's "below" matches either.
      {"battery.low", "The battery fell below a level (percent)", {"below"}, {},
       {{"below", true, false}, {"level", true, false}}},
      {"location.arrived", "The user arrived at a place", {"place"}, {"place"}, {{"place", false, true}}},
      {"location.left", "The user left a place", {"place"}, {"place"}, {{"place", false, true}}},
      {"wifi.connected", "The phone joined a Wi-Fi network", {"ssid"}, {}, {{"ssid"}}},
      {"call.missed", "A call was missed", {"from"}, {}, {{"from"}}},
      {"sms.received", "A text message arrived", {"from"}, {}, {{"from"}}},
      {"app.opened", "An app was opened", {"app"}, {"app"}, {{"app", false, true}}},
  };
  return k;
}

const EventDef* find_event(std::string_view name) {
  for (const EventDef& e : builtin_events())
    if (e.name == name) return &e;
  return nullptr;
}

std::string event_names() {
  std::string s;
  for (const EventDef& e : builtin_events()) s += (s.empty() ? "" : ", ") + e.name;
  return s;
}

bool valid_tool_name(std::string_view name) {
  static const std::regex re("^[a-z][a-z0-9_]*(\\.[a-z][a-z0-9_]*)+$");
  return name.size() <= 128 && std::regex_match(name.begin(), name.end(), re);
}

ToolRegistry::ToolRegistry() : tools_(builtin_tools()) {}

Status ToolRegistry::add(ToolDef tool) {
  if (!valid_tool_name(tool.name))
    return Status::invalid_argument("tool name \"" + tool.name +
                                    "\" is not valid (lowercase dotted words, e.g. \"myapp.order_taxi\")");
  if (const ToolDef* existing = find(tool.name))
    return Status::invalid_argument("tool \"" + tool.name + "\" is already registered" +
                                    (existing->builtin ? " (a built-in tool cannot be replaced)" : ""));
  if (tool.description.empty()) return Status::invalid_argument("tool \"" + tool.name + "\": description is empty");
  if (tool.schema.is_null()) tool.schema = {{"type", "object"}};
  if (!tool.schema.is_object())
    return Status::invalid_argument("tool \"" + tool.name + "\": schema must be a JSON object");
  auto type = tool.schema.find("type");
  if (type == tool.schema.end() || *type != "object")
    return Status::invalid_argument("tool \"" + tool.name + "\": schema must have \"type\": \"object\" (the args)");
  // The model is offered the tool under its schema as a grammar: a schema the grammar compiler
  // cannot compile would break every constrained parse, so it is refused here.
  if (Result<std::string> g = json_schema_value_to_gbnf(tool.schema); !g.is_ok())
    return Status::invalid_argument("tool \"" + tool.name + "\": schema: " + g.status().message());
  tool.builtin = false;
  tools_.push_back(std::move(tool));
  return Status::ok();
}

const ToolDef* ToolRegistry::find(std::string_view name) const {
  for (const ToolDef& t : tools_)
    if (t.name == name) return &t;
  return nullptr;
}

}  // namespace pm::automation
