// `pocketmind tools add|list|remove --db DIR`: the third-party tool registry
// (assistant/automation/tool_store.h) in DIR/automations.sqlite. Registered tools are offered to
// the model by `automation parse`, accepted by `automation add` and dispatched by the scheduler.
#ifdef PM_WITH_ASSISTANT
#include <cstdio>

#include "assistant/automation/scheduler.h"
#include "assistant/automation/tool_store.h"
#include "cli/automation_common.h"
#include "cli/common.h"
#include "core/mapped_file.h"

namespace pm::cli {
namespace {

namespace au = pm::automation;
using ojson = nlohmann::ordered_json;

struct ToolsArgs {
  std::string db, name, description, schema_file;
  std::string passphrase_file;
  bool all = false, json = false;
};

int run_add(const ToolsArgs& a) {
  const char* verb = "tools add";
  Result<std::string> text = read_file(a.schema_file);
  if (!text.is_ok()) return fail(verb, text.status().with_context("--schema"));
  ojson schema = ojson::parse(*text, nullptr, false);
  if (schema.is_discarded()) return fail(verb, "--schema " + a.schema_file + ": not valid JSON");
  Result<std::unique_ptr<au::RuleStore>> st = open_rule_store(a.db, a.passphrase_file, true);
  if (!st.is_ok()) return fail(verb, st.status());
  Status s = au::register_tool(**st, {a.name, a.description, schema, false}, "", au::RealClock().now());
  if (!s.is_ok()) return fail(verb, s.message() + " (nothing was saved)");
  if (a.json) print_json(nlohmann::json::parse(au::tool_to_json({a.name, a.description, schema, false}).dump()));
  else std::printf("registered %s\n", a.name.c_str());
  return 0;
}

int run_list(const ToolsArgs& a) {
  const char* verb = "tools list";
  ojson out = ojson::array();
  if (a.all)
    for (const au::ToolDef& t : au::builtin_tools()) out.push_back(au::tool_to_json(t));
  Result<std::unique_ptr<au::RuleStore>> st = open_rule_store(a.db, a.passphrase_file, false);
  if (!st.is_ok() && st.status().code() != StatusCode::kNotFound) return fail(verb, st.status());
  if (st.is_ok()) {
    Result<std::vector<au::StoredTool>> tools = (*st)->list_tools();
    if (!tools.is_ok()) return fail(verb, tools.status());
    for (const au::StoredTool& t : *tools)
      out.push_back(au::tool_to_json({t.name, t.description, ojson::parse(t.schema_json, nullptr, false), false}, t.owner));
  }
  if (a.json) {
    print_json(nlohmann::json::parse(ojson{{"tools", out}}.dump()));
    return 0;
  }
  if (out.empty()) std::printf("no registered tools (built-in tools: tools list --all)\n");
  for (const ojson& t : out)
    std::printf("%s%s  %s  %s\n", t["name"].get<std::string>().c_str(), t["builtin"].get<bool>() ? " (built-in)" : "",
                t["description"].get<std::string>().c_str(), t["parameters"].dump().c_str());
  return 0;
}

int run_remove(const ToolsArgs& a) {
  const char* verb = "tools remove";
  Result<std::unique_ptr<au::RuleStore>> st = open_rule_store(a.db, a.passphrase_file, false);
  if (!st.is_ok()) return fail(verb, st.status());
  if (Status s = au::unregister_tool(**st, a.name); !s.is_ok()) return fail(verb, s);
  if (a.json) print_json({{"name", a.name}, {"status", "removed"}});
  else std::printf("removed %s\n", a.name.c_str());
  return 0;
}

}  // namespace

void add_tools(CLI::App& app, int& result) {
  CLI::App* cmd = app.add_subcommand(
      "tools", "Third-party tools for automation rules: register a name, description and JSON Schema of its args");
  cmd->require_subcommand(1);
  {
    auto a = std::make_shared<ToolsArgs>();
    CLI::App* c = cmd->add_subcommand("add", "Register a tool (validated: name, description, schema the grammar compiles)");
    c->add_option("--db", a->db, "store directory (its automations.sqlite holds the registry; created when missing)")
        ->required();
    add_passphrase_option(c, &a->passphrase_file);
    c->add_option("--name", a->name, "lowercase dotted name, e.g. \"taxi_app.order\" (not a built-in name)")->required();
    c->add_option("--description", a->description, "what the tool does, shown to the model (any language)")->required();
    c->add_option("--schema", a->schema_file, "JSON Schema file of the args object ({\"type\": \"object\", ...})")
        ->required();
    c->add_flag("--json", a->json, "machine-readable output: the registered tool");
    c->callback([a, &result] { result = run_add(*a); });
  }
  {
    auto a = std::make_shared<ToolsArgs>();
    CLI::App* c = cmd->add_subcommand("list", "List registered tools (--all: the built-in ones too)");
    c->add_option("--db", a->db, "store directory")->required();
    add_passphrase_option(c, &a->passphrase_file);
    c->add_flag("--all", a->all, "include the built-in tools");
    c->add_flag("--json", a->json, "machine-readable output: {\"tools\": [{name, description, parameters, builtin}]}");
    c->callback([a, &result] { result = run_list(*a); });
  }
  {
    auto a = std::make_shared<ToolsArgs>();
    CLI::App* c = cmd->add_subcommand("remove", "Unregister a tool (refused while saved rules use it)");
    c->add_option("--db", a->db, "store directory")->required();
    add_passphrase_option(c, &a->passphrase_file);
    c->add_option("--name", a->name, "the tool's name")->required();
    c->add_flag("--json", a->json, "machine-readable output");
    c->callback([a, &result] { result = run_remove(*a); });
  }
}

}  // namespace pm::cli
#endif
