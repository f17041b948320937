// The device tools and events automation rules may use: a fixed built-in catalog (names from
// issue #8) plus tools that third-party apps register with a name, description and JSON Schema.
//
// Names are lowercase dotted identifiers: "^[a-z][a-z0-9_]*(\.[a-z][a-z0-9_]*)+$" ("alarm.set",
// "com_example.order_taxi"). Built-in tools cannot be replaced or removed.
#pragma once

#include <nlohmann/json.hpp>
#include <string>
#include <string_view>
#include <vector>

#include "core/status.h"

namespace pm::automation {

struct ToolDef {
  std::string name;
  std::string description;
  nlohmann::ordered_json schema;  // JSON Schema of the args object (type object, additionalProperties false)
  bool builtin = false;
};

// A parameter an event carries when the device reports it (`automation emit`, simulate's event
// lines): a non-empty string, or (percent) a number 0-100.
struct EventParam {
  std::string name;
  bool percent = false;
  bool required = false;  // every report of the event carries it
};

// The one list of device events: the rule validator (rule.cpp), the model's rule schema
// (model_parser.cpp) and the scheduler (scheduler.cpp) all read it.
struct EventDef {
  std::string name;
  std::string description;
  std::vector<std::string> filter_keys;    // keys the validator allows in a trigger's "filter"
  std::vector<std::string> required_keys;  // keys the filter must have
  std::vector<EventParam> params;          // what a report carries; the scheduler matches filters against it
};

// Trigger kinds: time, interval, event. Condition kinds: time_between, battery, location, state.
const std::vector<std::string>& trigger_types();
const std::vector<std::string>& condition_types();
// State condition keys (DESIGN.md): ringer_mode, do_not_disturb, wifi, bluetooth, charging.
const std::vector<std::string>& state_keys();

const std::vector<ToolDef>& builtin_tools();
const std::vector<EventDef>& builtin_events();
const EventDef* find_event(std::string_view name);
// "headphones.connected, headphones.disconnected, ..." for error messages.
std::string event_names();

// True when `name` is a valid tool name (see the pattern above).
bool valid_tool_name(std::string_view name);

// Built-in tools plus registered third-party tools. Not thread-safe for concurrent writes.
class ToolRegistry {
 public:
  ToolRegistry();  // holds the built-in tools
  // Errors: invalid name, empty description, a name already taken (built-ins included), a schema
  // that is not an object schema or that the JSON-schema grammar compiler cannot compile.
  Status add(ToolDef tool);
  const ToolDef* find(std::string_view name) const;
  const std::vector<ToolDef>& tools() const { return tools_; }

 private:
  std::vector<ToolDef> tools_;
};

}  // namespace pm::automation
