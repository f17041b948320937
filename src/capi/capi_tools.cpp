// C API: the third-party tool registry (assistant/automation/tool_store.h) of a store directory.
#include <ctime>

#include <nlohmann/json.hpp>

#include "capi/capi_internal.h"

#ifdef PM_CAPI_WITH_ASSISTANT
#include "assistant/automation/tool_store.h"
#endif

using pm::Status;
using pm::capi::guarded;
using pm::capi::need;

#ifdef PM_CAPI_WITH_ASSISTANT
namespace au = pm::automation;

pm_status pm_tools_register(const char* dir, const char* name, const char* description, const char* schema_json,
                            pm_error** error) {
  return guarded(error, [&]() -> Status {
    PM_RETURN_IF_ERROR(need(dir, "dir"));
    PM_RETURN_IF_ERROR(need(name, "name"));
    PM_RETURN_IF_ERROR(need(description, "description"));
    PM_RETURN_IF_ERROR(need(schema_json, "schema_json"));
    nlohmann::ordered_json schema = nlohmann::ordered_json::parse(schema_json, nullptr, false);
    if (schema.is_discarded()) return Status::invalid_argument("schema_json: not valid JSON");
    PM_ASSIGN_OR_RETURN(std::unique_ptr<au::RuleStore> store, au::RuleStore::open(dir, true));
    return au::register_tool(*store, {name, description, std::move(schema), false}, "", int64_t(std::time(nullptr)));
  });
}

pm_status pm_tools_list(const char* dir, int flags, char** json, pm_error** error) {
  return guarded(error, [&]() -> Status {
    PM_RETURN_IF_ERROR(need(json, "json (out)"));
    *json = nullptr;
    PM_RETURN_IF_ERROR(need(dir, "dir"));
    if ((flags & ~PM_TOOLS_INCLUDE_BUILTIN) != 0)
      return Status::invalid_argument("flags: unknown bits " + std::to_string(flags & ~PM_TOOLS_INCLUDE_BUILTIN));
    nlohmann::ordered_json tools = nlohmann::ordered_json::array();
    if (flags & PM_TOOLS_INCLUDE_BUILTIN)
      for (const au::ToolDef& t : au::builtin_tools()) tools.push_back(au::tool_to_json(t));
    pm::Result<std::unique_ptr<au::RuleStore>> store = au::RuleStore::open(dir, false);
    if (!store.is_ok() && store.status().code() != pm::StatusCode::kNotFound) return store.status();
    if (store.is_ok()) {
      PM_ASSIGN_OR_RETURN(std::vector<au::StoredTool> stored, (*store)->list_tools());
      for (const au::StoredTool& t : stored)
        tools.push_back(au::tool_to_json(
            {t.name, t.description, nlohmann::ordered_json::parse(t.schema_json, nullptr, false), false}, t.owner));
    }
    *json = pm::capi::copy_string(nlohmann::ordered_json{{"tools", tools}}.dump());
    return Status::ok();
  });
}

pm_status pm_tools_remove(const char* dir, const char* name, pm_error** error) {
  return guarded(error, [&]() -> Status {
    PM_RETURN_IF_ERROR(need(dir, "dir"));
    PM_RETURN_IF_ERROR(need(name, "name"));
    PM_ASSIGN_OR_RETURN(std::unique_ptr<au::RuleStore> store, au::RuleStore::open(dir, false));
    return au::unregister_tool(*store, name);
  });
}

#else  // built without the assistant layer

namespace {
pm_status no_assistant(pm_error** error) {
  return guarded(error, [&]() -> Status {
    return Status::unsupported("this pocketmind library was built without the assistant layer (tool registry)");
  });
}
}  // namespace

pm_status pm_tools_register(const char*, const char*, const char*, const char*, pm_error** error) {
  return no_assistant(error);
}
pm_status pm_tools_list(const char*, int, char** json, pm_error** error) {
  if (json) *json = nullptr;
  return no_assistant(error);
}
pm_status pm_tools_remove(const char*, const char*, pm_error** error) { return no_assistant(error); }

#endif
