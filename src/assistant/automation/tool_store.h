// The persistent tool registry: third-party tools that apps register (name, description, JSON
// Schema of the args), kept in the store directory's automations.sqlite (rule_store.h, table
// tools) so that every surface sees them: `automation parse` offers them to the model and checks
// their args, `automation add` validates rules that use them, the scheduler dispatches them to
// the device bridge like built-in tools.
//
// Surfaces: C API pm_tools_*, server /v1/pocketmind/tools, CLI `pocketmind tools add|list|remove`.
#pragma once

#include <cstdint>
#include <string>

#include <nlohmann/json.hpp>

#include "assistant/automation/rule_store.h"
#include "assistant/automation/tool_catalog.h"
#include "core/status.h"

namespace pm::automation {

// Validates a tool as ToolRegistry::add does (against the built-ins and the tools already
// registered) and saves it. `owner`: the server app registering it ("" for the device owner).
Status register_tool(RuleStore& store, ToolDef tool, const std::string& owner, int64_t now_s);

// Removes a registered tool. Errors: a built-in name; no such tool; saved rules still use it
// (the message names them: remove those rules first).
Status unregister_tool(RuleStore& store, const std::string& name);

// Built-in tools plus the registered ones. A stored tool that no longer validates (a database
// edited by hand) is an error naming it.
Result<ToolRegistry> load_tool_registry(RuleStore& store);
// The same for a store directory; a directory without automations.sqlite (or "") yields the
// built-ins only, and nothing is created.
Result<ToolRegistry> load_tool_registry(const std::string& dir,
                                         const std::optional<store::StoreKey>& key = std::nullopt);

// A tool from a request body / file {"name", "description", "parameters"} ("schema" is accepted
// as another spelling of "parameters"). Errors name the field.
Result<ToolDef> tool_from_json(const nlohmann::ordered_json& j);
// {"name", "description", "parameters", "builtin"} (+ "owner" when given and not empty).
nlohmann::ordered_json tool_to_json(const ToolDef& tool, const std::string& owner = "");

}  // namespace pm::automation
