// The persistent tool registry (tool_store.h) and its CLI (`pocketmind tools`): what an app that
// registers a tool relies on — validation with clear errors, persistence, and that automation
// parse / add / simulate see the tool.
#include "assistant/automation/tool_store.h"

#include <gtest/gtest.h>

#include <fstream>

#include "assistant/automation/rule.h"
#include "assistant/automation/rule_parser.h"
#include "test_util.h"

namespace {

namespace au = pm::automation;
using json = nlohmann::ordered_json;
using pm::test::run_pocketmind;

const char* const kTaxiSchema = R"({"type": "object",
  "properties": {"destination": {"type": "string", "minLength": 1}, "car": {"enum": ["economy", "comfort"]}},
  "required": ["destination"], "additionalProperties": false})";

au::ToolDef taxi() { return {"taxi_app.order", "叫出租车 Order a taxi", json::parse(kTaxiSchema), false}; }

std::unique_ptr<au::RuleStore> open_store(const std::string& dir) {
  pm::Result<std::unique_ptr<au::RuleStore>> s = au::RuleStore::open(dir, true);
  EXPECT_TRUE(s.is_ok()) << s.status().message();
  return s.is_ok() ? std::move(*s) : nullptr;
}

std::string write(const std::string& dir, const std::string& name, const std::string& text) {
  const std::string path = dir + "/" + name;
  std::ofstream(path, std::ios::binary) << text;
  return path;
}

bool contains(const std::string& haystack, const std::string& needle) {
  return haystack.find(needle) != std::string::npos;
}

TEST(ToolStore, RegisteredToolPersistsAndJoinsTheCatalog) {
  const std::string dir = pm::test::temp_dir();
  {
    auto store = open_store(dir);
    ASSERT_TRUE(au::register_tool(*store, taxi(), "", 100).is_ok());
  }
  // A new process (a new handle) sees it, next to every built-in tool.
  pm::Result<au::ToolRegistry> reg = au::load_tool_registry(dir);
  ASSERT_TRUE(reg.is_ok()) << reg.status().message();
  const au::ToolDef* t = reg->find("taxi_app.order");
  ASSERT_NE(t, nullptr);
  EXPECT_FALSE(t->builtin);
  EXPECT_EQ(t->description, "叫出租车 Order a taxi");
  EXPECT_EQ(t->schema, json::parse(kTaxiSchema));
  EXPECT_NE(reg->find("alarm.set"), nullptr);
  EXPECT_EQ(reg->tools().size(), au::builtin_tools().size() + 1);
}

TEST(ToolStore, DirectoryWithoutRegistryHasOnlyBuiltinsAndIsNotCreated) {
  const std::string dir = pm::test::temp_dir() + "/none";
  pm::Result<au::ToolRegistry> reg = au::load_tool_registry(dir);
  ASSERT_TRUE(reg.is_ok());
  EXPECT_EQ(reg->tools().size(), au::builtin_tools().size());
  EXPECT_FALSE(pm::test::file_exists(dir + "/automations.sqlite"));
  pm::Result<au::ToolRegistry> none = au::load_tool_registry(std::string());
  ASSERT_TRUE(none.is_ok());
  EXPECT_EQ(none->tools().size(), au::builtin_tools().size());
}

TEST(ToolStore, RejectsInvalidToolsNamingWhatIsWrong) {
  auto store = open_store(pm::test::temp_dir());
  struct Case {
    au::ToolDef tool;
    const char* message;
  };
  const std::vector<Case> cases = {
      {{"Taxi.Order", "d", json::parse(kTaxiSchema)}, "is not valid"},
      {{"taxi", "d", json::parse(kTaxiSchema)}, "is not valid"},  // one word: needs app.verb
      {{"alarm.set", "d", json::parse(kTaxiSchema)}, "a built-in tool cannot be replaced"},
      {{"taxi_app.order", "", json::parse(kTaxiSchema)}, "description is empty"},
      {{"taxi_app.order", "d", json::parse(R"({"type": "string"})")}, "\"type\": \"object\""},
      {{"taxi_app.order", "d", json::parse("[1, 2]")}, "must be a JSON object"},
      {{"taxi_app.order", "d",
        json::parse(R"({"type": "object", "properties": {"to": {"type": "string", "format": "email"}}})")},
       "format"},
  };
  for (const Case& c : cases) {
    pm::Status s = au::register_tool(*store, c.tool, "", 1);
    ASSERT_FALSE(s.is_ok()) << c.tool.name << " " << c.tool.schema.dump();
    EXPECT_TRUE(contains(s.message(), c.message)) << s.message();
  }
  pm::Result<std::vector<au::StoredTool>> saved = store->list_tools();
  ASSERT_TRUE(saved.is_ok());
  EXPECT_TRUE(saved->empty());  // nothing invalid was saved
  // The same name twice: the second is refused.
  ASSERT_TRUE(au::register_tool(*store, taxi(), "", 1).is_ok());
  pm::Status again = au::register_tool(*store, taxi(), "", 2);
  ASSERT_FALSE(again.is_ok());
  EXPECT_TRUE(contains(again.message(), "already registered")) << again.message();
}

TEST(ToolStore, RulesUsingARegisteredToolValidateTheirArgsAgainstItsSchema) {
  auto store = open_store(pm::test::temp_dir());
  ASSERT_TRUE(au::register_tool(*store, taxi(), "", 1).is_ok());
  pm::Result<au::ToolRegistry> reg = au::load_tool_registry(*store);
  ASSERT_TRUE(reg.is_ok());
  auto rule_with = [](const char* args) {
    return *au::rule_from_json(json::parse(std::string(R"({"name": "taxi", "mode": "single",
      "triggers": [{"type": "time", "at": "08:00"}], "conditions": [],
      "actions": [{"tool": "taxi_app.order", "args": )") + args + "}]}"));
  };
  EXPECT_TRUE(au::validate(rule_with(R"({"destination": "公司"})"), *reg).empty());
  std::vector<std::string> p = au::validate(rule_with(R"({"car": "economy"})"), *reg);
  ASSERT_EQ(p.size(), 1u);
  EXPECT_TRUE(contains(p[0], "actions[0].args")) << p[0];
  EXPECT_TRUE(contains(p[0], "destination")) << p[0];
  EXPECT_FALSE(au::validate(rule_with(R"({"destination": "x", "car": "limo"})"), *reg).empty());
  // Without the registry the tool is unknown.
  EXPECT_FALSE(au::validate(rule_with(R"({"destination": "公司"})"), au::ToolRegistry()).empty());
}

TEST(ToolStore, ModelIsOfferedTheRegisteredTool) {
  au::ToolRegistry reg;
  ASSERT_TRUE(reg.add(taxi()).is_ok());
  const std::string schema = au::rules_output_schema(reg).dump();
  EXPECT_TRUE(contains(schema, R"({"const":"taxi_app.order"})")) << "the rule grammar allows the tool";
  const std::string prompt = au::model_prompt("每天8点叫车去公司", au::LocalTime{2026, 11, 24, 9, 0, 0, 480}, reg);
  EXPECT_TRUE(contains(prompt, "taxi_app.order"));
  EXPECT_TRUE(contains(prompt, "叫出租车 Order a taxi"));
}

// The model's rule grammar takes its event filters from the catalog (DESIGN.md's events): battery
// thresholds are percentages, every other filter a string, nothing else allowed.
TEST(ToolStore, RuleSchemaFiltersComeFromTheEventCatalog) {
  const std::string schema = au::rules_output_schema(au::ToolRegistry()).dump();
  // (Free strings in the model's schema are bounded to 48 bytes so generation always ends.)
  const std::string s48 = R"({"type":"string","maxLength":48})";
  EXPECT_TRUE(contains(schema, R"("filter":{"type":"object","properties":{"device":)" + s48 +
                                   R"(,"below":{"type":"integer","minimum":1,"maximum":100},"place":)" + s48 +
                                   R"(,"ssid":)" + s48 + R"(,"from":)" + s48 + R"(,"app":)" + s48 +
                                   R"(},"additionalProperties":false})"))
      << schema;
}

TEST(ToolStore, RemoveRefusesBuiltinsAndToolsInUse) {
  auto store = open_store(pm::test::temp_dir());
  ASSERT_TRUE(au::register_tool(*store, taxi(), "", 1).is_ok());
  pm::Status builtin = au::unregister_tool(*store, "alarm.set");
  ASSERT_FALSE(builtin.is_ok());
  EXPECT_TRUE(contains(builtin.message(), "built-in"));
  EXPECT_EQ(au::unregister_tool(*store, "nope.tool").code(), pm::StatusCode::kNotFound);
  pm::Result<std::vector<std::string>> ids = store->add(
      {R"({"name":"taxi","mode":"single","triggers":[{"type":"time","at":"08:00"}],"conditions":[],)"
       R"("actions":[{"tool":"taxi_app.order","args":{"destination":"x"}}]})"},
      1);
  ASSERT_TRUE(ids.is_ok());
  pm::Status in_use = au::unregister_tool(*store, "taxi_app.order");
  ASSERT_FALSE(in_use.is_ok());
  EXPECT_TRUE(contains(in_use.message(), (*ids)[0])) << in_use.message();
  ASSERT_TRUE(store->remove((*ids)[0]).is_ok());
  EXPECT_TRUE(au::unregister_tool(*store, "taxi_app.order").is_ok());
  EXPECT_EQ(au::load_tool_registry(*store)->find("taxi_app.order"), nullptr);
}

TEST(ToolStore, ToolFromJsonNamesTheBadField) {
  EXPECT_TRUE(au::tool_from_json(json::parse(R"({"name": "a.b", "description": "d", "parameters": {}})")).is_ok());
  EXPECT_TRUE(au::tool_from_json(json::parse(R"({"name": "a.b", "description": "d", "schema": {}})")).is_ok());
  EXPECT_TRUE(contains(au::tool_from_json(json::parse(R"({"description": "d", "parameters": {}})")).status().message(),
                       "\"name\""));
  EXPECT_TRUE(contains(au::tool_from_json(json::parse(R"({"name": "a.b", "parameters": {}})")).status().message(),
                       "\"description\""));
  EXPECT_TRUE(contains(au::tool_from_json(json::parse(R"({"name": "a.b", "description": "d"})")).status().message(),
                       "\"parameters\""));
  EXPECT_TRUE(contains(
      au::tool_from_json(json::parse(R"({"name": "a.b", "description": "d", "parameters": {}, "x": 1})")).status().message(),
      "unknown field \"x\""));
  EXPECT_FALSE(au::tool_from_json(json::parse("[]")).is_ok());
}

// ---- the CLI ----------------------------------------------------------------------------------------

TEST(ToolsCli, AddListUseRemove) {
  const std::string dir = pm::test::temp_dir();
  const std::string schema = write(dir, "taxi.json", kTaxiSchema);
  auto add = run_pocketmind({"tools", "add", "--db", dir, "--name", "taxi_app.order", "--description",
                             "叫出租车 Order a taxi", "--schema", schema, "--json"});
  ASSERT_EQ(add.exit_code, 0) << add.err;
  EXPECT_EQ(nlohmann::json::parse(add.out)["name"], "taxi_app.order");

  auto list = run_pocketmind({"tools", "list", "--db", dir, "--json"});
  ASSERT_EQ(list.exit_code, 0) << list.err;
  const nlohmann::json tools = nlohmann::json::parse(list.out)["tools"];
  ASSERT_EQ(tools.size(), 1u);
  EXPECT_EQ(tools[0]["name"], "taxi_app.order");
  EXPECT_EQ(tools[0]["description"], "叫出租车 Order a taxi");
  EXPECT_EQ(tools[0]["builtin"], false);
  EXPECT_EQ(tools[0]["parameters"]["required"], nlohmann::json::array({"destination"}));
  auto all = run_pocketmind({"tools", "list", "--db", dir, "--all", "--json"});
  EXPECT_EQ(nlohmann::json::parse(all.out)["tools"].size(), au::builtin_tools().size() + 1);

  // automation add accepts a rule with the tool, and the scheduler dispatches it (simulate).
  const std::string rule = write(dir, "rule.json", R"({"name": "上班叫车", "mode": "single",
    "triggers": [{"type": "time", "at": "08:00", "weekdays": ["mon"]}], "conditions": [],
    "actions": [{"tool": "taxi_app.order", "args": {"destination": "公司"}}]})");
  auto saved = run_pocketmind({"automation", "add", "--db", dir, "--rule-file", rule, "--yes", "--json"});
  ASSERT_EQ(saved.exit_code, 0) << saved.err;
  auto sim = run_pocketmind({"automation", "simulate", "--db", dir, "--from", "2026-11-29T00:00:00+08:00", "--to",
                             "2026-12-01T00:00:00+08:00", "--tz", "Asia/Shanghai", "--json"});
  ASSERT_EQ(sim.exit_code, 0) << sim.err;
  EXPECT_TRUE(contains(sim.out, "taxi_app.order")) << sim.out;  // Monday 2026-11-30 08:00
  EXPECT_TRUE(contains(sim.out, "2026-11-30T08:00")) << sim.out;

  // Bad args for the registered schema are refused.
  const std::string bad = write(dir, "bad.json", R"({"name": "x", "mode": "single",
    "triggers": [{"type": "time", "at": "09:00"}], "conditions": [],
    "actions": [{"tool": "taxi_app.order", "args": {"destination": 5}}]})");
  auto refused = run_pocketmind({"automation", "add", "--db", dir, "--rule-file", bad, "--yes"});
  EXPECT_NE(refused.exit_code, 0);
  EXPECT_TRUE(contains(refused.err, "actions[0].args.destination")) << refused.err;

  // Removing is refused while the rule uses it.
  auto busy = run_pocketmind({"tools", "remove", "--db", dir, "--name", "taxi_app.order"});
  EXPECT_NE(busy.exit_code, 0);
  EXPECT_TRUE(contains(busy.err, "used by saved rule")) << busy.err;
  ASSERT_EQ(run_pocketmind({"automation", "remove", "r1", "--db", dir}).exit_code, 0);
  auto removed = run_pocketmind({"tools", "remove", "--db", dir, "--name", "taxi_app.order", "--json"});
  ASSERT_EQ(removed.exit_code, 0) << removed.err;
  EXPECT_EQ(nlohmann::json::parse(removed.out)["status"], "removed");
  auto gone = run_pocketmind({"tools", "remove", "--db", dir, "--name", "taxi_app.order"});
  EXPECT_NE(gone.exit_code, 0);
  EXPECT_TRUE(contains(gone.err, "no registered tool")) << gone.err;
}

TEST(ToolsCli, BadInputIsAnErrorOnStderr) {
  const std::string dir = pm::test::temp_dir();
  const std::string notjson = write(dir, "s.json", "{not json");
  auto r = run_pocketmind({"tools", "add", "--db", dir, "--name", "a.b", "--description", "d", "--schema", notjson});
  EXPECT_NE(r.exit_code, 0);
  EXPECT_TRUE(contains(r.err, "not valid JSON")) << r.err;
  auto missing = run_pocketmind({"tools", "add", "--db", dir, "--name", "a.b", "--description", "d", "--schema",
                                 dir + "/absent.json"});
  EXPECT_NE(missing.exit_code, 0);
  EXPECT_TRUE(contains(missing.err, "absent.json")) << missing.err;
  auto help = run_pocketmind({"tools", "add", "--help"});
  EXPECT_EQ(help.exit_code, 0);
  EXPECT_TRUE(contains(help.out, "--schema"));
  auto empty = run_pocketmind({"tools", "list", "--db", dir + "/nothing", "--json"});
  ASSERT_EQ(empty.exit_code, 0) << empty.err;
  EXPECT_EQ(nlohmann::json::parse(empty.out)["tools"].size(), 0u);
}

}  // namespace
