#include "assistant/automation/tool_store.h"

#include <filesystem>

namespace pm::automation {

using json = nlohmann::ordered_json;

Result<ToolRegistry> load_tool_registry(RuleStore& store) {
  PM_ASSIGN_OR_RETURN(std::vector<StoredTool> stored, store.list_tools());
  ToolRegistry registry;
  for (const StoredTool& t : stored) {
    const std::string where = store.path() + ": registered tool \"" + t.name + "\"";
    json schema = json::parse(t.schema_json, nullptr, false);
    if (schema.is_discarded()) return Status::corrupt(where + ": the stored schema is not valid JSON");
    Status s = registry.add({t.name, t.description, std::move(schema), false});
    if (!s.is_ok()) return Status::corrupt(where + ": " + s.message());
  }
  return registry;
}

Result<ToolRegistry> load_tool_registry(const std::string& dir, const std::optional<store::StoreKey>& key) {
  std::error_code ec;
  if (dir.empty() || !std::filesystem::exists(std::filesystem::path(dir) / RuleStore::kFileName, ec))
    return ToolRegistry();
  PM_ASSIGN_OR_RETURN(std::unique_ptr<RuleStore> store, RuleStore::open(dir, false, key));
  return load_tool_registry(*store);
}

Status register_tool(RuleStore& store, ToolDef tool, const std::string& owner, int64_t now_s) {
  PM_ASSIGN_OR_RETURN(ToolRegistry registry, load_tool_registry(store));
  PM_RETURN_IF_ERROR(registry.add(tool));
  const ToolDef* added = registry.find(tool.name);  // add() filled in a missing schema
  return store.add_tool({added->name, added->description, added->schema.dump(), owner, now_s});
}

Status unregister_tool(RuleStore& store, const std::string& name) {
  for (const ToolDef& t : builtin_tools())
    if (t.name == name) return Status::invalid_argument("\"" + name + "\" is a built-in tool; it cannot be removed");
  PM_ASSIGN_OR_RETURN(std::vector<StoredRule> rules, store.list());
  std::string users;
  for (const StoredRule& r : rules) {
    const json j = json::parse(r.json, nullptr, false);
    if (!j.is_object() || !j.contains("actions") || !j["actions"].is_array()) continue;
    for (const json& a : j["actions"])
      if (a.is_object() && a.value("tool", "") == name) {
        users += (users.empty() ? "" : ", ") + r.id;
        break;
      }
  }
  if (!users.empty())
    return Status::invalid_argument("tool \"" + name + "\" is used by saved rule(s) " + users +
                                    "; remove those rules first (pocketmind automation remove)");
  return store.remove_tool(name);
}

Result<ToolDef> tool_from_json(const json& j) {
  if (!j.is_object()) return Status::invalid_argument("a tool must be a JSON object {name, description, parameters}");
  for (auto it = j.begin(); it != j.end(); ++it)
    if (it.key() != "name" && it.key() != "description" && it.key() != "parameters" && it.key() != "schema")
      return Status::invalid_argument("tool: unknown field \"" + it.key() +
                                      "\" (expected name, description, parameters)");
  ToolDef t;
  if (!j.contains("name") || !j["name"].is_string())
    return Status::invalid_argument("tool: \"name\" must be a string such as \"myapp.order_taxi\"");
  t.name = j["name"].get<std::string>();
  if (!j.contains("description") || !j["description"].is_string())
    return Status::invalid_argument("tool \"" + t.name + "\": \"description\" must be a string");
  t.description = j["description"].get<std::string>();
  if (j.contains("parameters") && j.contains("schema"))
    return Status::invalid_argument("tool \"" + t.name + "\": give \"parameters\" or \"schema\", not both");
  if (j.contains("parameters")) t.schema = j["parameters"];
  else if (j.contains("schema")) t.schema = j["schema"];
  else return Status::invalid_argument("tool \"" + t.name + "\": \"parameters\" (a JSON Schema object) is missing");
  return t;
}

json tool_to_json(const ToolDef& tool, const std::string& owner) {
  json j = {{"name", tool.name}, {"description", tool.description}, {"parameters", tool.schema},
            {"builtin", tool.builtin}};
  if (!owner.empty()) j["owner"] = owner;
  return j;
}

}  // namespace pm::automation
