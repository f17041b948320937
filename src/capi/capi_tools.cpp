// C API: the third-party tool registry (assistant/automation/tool_store.h) of a store directory.
#include <openssl/crypto.h>

#include <ctime>
#include <optional>

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

namespace {

// Where the registry is: a store directory (no key: refused for an encrypted store) or an open
// store handle (its directory, and its page key when encrypted).
struct Registry {
  const char* dir = nullptr;
  const pm_store* store = nullptr;
  bool by_handle = false;

  Status check() const {
    if (!by_handle) return need(dir, "dir");
    PM_RETURN_IF_ERROR(need(store, "store"));
    return need(store->store.get(), "store");
  }
  pm::Result<std::unique_ptr<au::RuleStore>> open(bool create) const {
    if (!by_handle) return au::RuleStore::open(dir, create);
    // The key stays in the store's VFS; this copy lives for the open only (RuleStore's own VFS
    // keeps one while it is open, until the call returns).
    std::optional<pm::store::StoreKey> key;
    if (const pm::store::StoreKey* k = store->store->page_key()) key = *k;
    pm::Result<std::unique_ptr<au::RuleStore>> r = au::RuleStore::open(store->store->dir(), create, key);
    if (key) OPENSSL_cleanse(key->data(), key->size());
    return r;
  }
};

Status register_tool(const Registry& where, const char* name, const char* description, const char* schema_json) {
  PM_RETURN_IF_ERROR(where.check());
  PM_RETURN_IF_ERROR(need(name, "name"));
  PM_RETURN_IF_ERROR(need(description, "description"));
  PM_RETURN_IF_ERROR(need(schema_json, "schema_json"));
  nlohmann::ordered_json schema = nlohmann::ordered_json::parse(schema_json, nullptr, false);
  if (schema.is_discarded()) return Status::invalid_argument("schema_json: not valid JSON");
  PM_ASSIGN_OR_RETURN(std::unique_ptr<au::RuleStore> store, where.open(true));
  return au::register_tool(*store, {name, description, std::move(schema), false}, "", int64_t(std::time(nullptr)));
}

Status list_tools(const Registry& where, int flags, char** json) {
  PM_RETURN_IF_ERROR(need(json, "json (out)"));
  *json = nullptr;
  PM_RETURN_IF_ERROR(where.check());
  if ((flags & ~PM_TOOLS_INCLUDE_BUILTIN) != 0)
    return Status::invalid_argument("flags: unknown bits " + std::to_string(flags & ~PM_TOOLS_INCLUDE_BUILTIN));
  nlohmann::ordered_json tools = nlohmann::ordered_json::array();
  if (flags & PM_TOOLS_INCLUDE_BUILTIN)
    for (const au::ToolDef& t : au::builtin_tools()) tools.push_back(au::tool_to_json(t));
  pm::Result<std::unique_ptr<au::RuleStore>> store = where.open(false);
  if (!store.is_ok() && store.status().code() != pm::StatusCode::kNotFound) return store.status();
  if (store.is_ok()) {
    PM_ASSIGN_OR_RETURN(std::vector<au::StoredTool> stored, (*store)->list_tools());
    for (const au::StoredTool& t : stored)
      tools.push_back(au::tool_to_json(
          {t.name, t.description, nlohmann::ordered_json::parse(t.schema_json, nullptr, false), false}, t.owner));
  }
  *json = pm::capi::copy_string(nlohmann::ordered_json{{"tools", tools}}.dump());
  return Status::ok();
}

Status remove_tool(const Registry& where, const char* name) {
  PM_RETURN_IF_ERROR(where.check());
  PM_RETURN_IF_ERROR(need(name, "name"));
  PM_ASSIGN_OR_RETURN(std::unique_ptr<au::RuleStore> store, where.open(false));
  return au::unregister_tool(*store, name);
}

Registry in_dir(const char* dir) { return Registry{dir, nullptr, false}; }
Registry in_store(const pm_store* store) { return Registry{nullptr, store, true}; }

}  // namespace

pm_status pm_tools_register(const char* dir, const char* name, const char* description, const char* schema_json,
                            pm_error** error) {
  return guarded(error, [&]() -> Status { return register_tool(in_dir(dir), name, description, schema_json); });
}

pm_status pm_tools_list(const char* dir, int flags, char** json, pm_error** error) {
  return guarded(error, [&]() -> Status { return list_tools(in_dir(dir), flags, json); });
}

pm_status pm_tools_remove(const char* dir, const char* name, pm_error** error) {
  return guarded(error, [&]() -> Status { return remove_tool(in_dir(dir), name); });
}

pm_status pm_tools_register_in(pm_store* store, const char* name, const char* description, const char* schema_json,
                               pm_error** error) {
  return guarded(error, [&]() -> Status { return register_tool(in_store(store), name, description, schema_json); });
}

pm_status pm_tools_list_in(pm_store* store, int flags, char** json, pm_error** error) {
  return guarded(error, [&]() -> Status { return list_tools(in_store(store), flags, json); });
}

pm_status pm_tools_remove_in(pm_store* store, const char* name, pm_error** error) {
  return guarded(error, [&]() -> Status { return remove_tool(in_store(store), name); });
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
pm_status pm_tools_register_in(pm_store*, const char*, const char*, const char*, pm_error** error) {
  return no_assistant(error);
}
pm_status pm_tools_list_in(pm_store*, int, char** json, pm_error** error) {
  if (json) *json = nullptr;
  return no_assistant(error);
}
pm_status pm_tools_remove_in(pm_store*, const char*, pm_error** error) { return no_assistant(error); }

#endif
