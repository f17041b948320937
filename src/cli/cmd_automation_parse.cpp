// pocketmind automation parse [--now ISO8601] [--tz ZONE] [--json] [-m MODEL] [--db DIR] [--tools FILE] TEXT...
// Turns a request in Chinese or English into automation rules and prints a confirmation (or,
// with --json, {"rules": [...], "confirmation": "...", "conflicts": [...]}). Nothing is saved.
#ifdef PM_WITH_ASSISTANT
#include <ctime>
#include <iostream>

#include "assistant/automation/model_parser.h"
#include "assistant/automation/rule_parser.h"
#include "assistant/automation/tool_store.h"
#include "cli/automation_common.h"
#include "cli/common.h"
#include "core/mapped_file.h"
#include "generate/tool_calls.h"

namespace pm::cli {
namespace {

namespace au = pm::automation;

struct ParseArgs {
  std::vector<std::string> text;
  std::string now;
  std::string tz;
  std::string model;
  std::string tools_file;
  std::string db;
  std::string passphrase_file;
  bool json = false;
  int n_predict = 768;
  uint64_t seed = 0;
  LoadOptions load;
};

}  // namespace

Result<automation::LocalTime> automation_now(const std::string& now_text, const std::string& tz) {
  namespace au = pm::automation;
  au::LocalTime now;
  if (!now_text.empty()) {
    Result<au::LocalTime> t = au::parse_iso_local_time(now_text);
    if (!t.is_ok()) return t.status().with_context("--now");
    now = *t;
  } else {
    const std::time_t t = std::time(nullptr);
    std::tm local{};
    localtime_r(&t, &local);
    now = {local.tm_year + 1900, local.tm_mon + 1,         local.tm_mday, local.tm_hour, local.tm_min,
           local.tm_sec,         int(local.tm_gmtoff / 60)};
  }
  if (!tz.empty()) {
    Result<int> off = au::parse_utc_offset(tz);
    if (!off.is_ok()) return off.status().with_context("--tz");
    now = au::to_offset(now, *off);
  }
  return now;
}

namespace {

Status add_tools(const std::string& path, au::ToolRegistry& registry) {
  if (path.empty()) return Status::ok();
  Result<std::string> text = read_file(path);
  if (!text.is_ok()) return text.status();
  const nlohmann::ordered_json j = nlohmann::ordered_json::parse(*text, nullptr, false);
  if (j.is_discarded()) return Status::invalid_argument(path + ": not valid JSON");
  Result<std::vector<ToolSpec>> tools = parse_tools(j);
  if (!tools.is_ok()) return tools.status().with_context(path);
  for (const ToolSpec& t : *tools) {
    Status s = registry.add({t.name, t.description, t.parameters, false});
    if (!s.is_ok()) return s.with_context(path);
  }
  return Status::ok();
}

Result<au::ParsedRequest> parse_with_model(const ParseArgs& a, const std::string& text, const au::LocalTime& now,
                                           const au::ToolRegistry& registry) {
  Result<LoadedModel> m = load(a.model, false, a.load);
  if (!m.is_ok()) return m.status();
  PM_RETURN_IF_ERROR(need_tokenizer(*m, a.model));
  if (!m->model) return Status::invalid_argument(a.model + ": no weights (a vocabulary-only file cannot generate)");
  Result<std::string> tmpl_text =
      m->gguf ? m->gguf->get_string_or("tokenizer.chat_template", "") : Result<std::string>(std::string());
  if (!tmpl_text.is_ok()) return tmpl_text.status();
  ChatTemplate tmpl = chat_template_for(*tmpl_text, m->model->info().arch);
  Result<std::unique_ptr<Session>> session = Session::create(*m->model, m->plan.n_ctx, m->pool.get());
  if (!session.is_ok()) return session.status();
  au::ModelParseOptions opt;
  opt.max_tokens = a.n_predict;
  opt.seed = a.seed;
  opt.n_ctx = m->plan.n_ctx;
  return au::parse_request_with_model(**session, *m->tokenizer, tmpl, text, now, registry, opt);
}

int run_parse(const ParseArgs& a) {
  const char* verb = "automation parse";
  std::string text;
  for (const std::string& w : a.text) text += (text.empty() ? "" : " ") + w;
  Result<au::LocalTime> now = automation_now(a.now, a.tz);
  if (!now.is_ok()) return fail(verb, now.status());
  Result<au::ToolRegistry> registry_or = load_tools(a.db, a.passphrase_file);
  if (!registry_or.is_ok()) return fail(verb, registry_or.status().with_context("--db"));
  au::ToolRegistry& registry = *registry_or;
  if (Status s = add_tools(a.tools_file, registry); !s.is_ok()) return fail(verb, s);
  Result<au::ParsedRequest> parsed =
      a.model.empty() ? au::parse_request(text, *now, registry) : parse_with_model(a, text, *now, registry);
  if (!parsed.is_ok()) return fail(verb, parsed.status().message() + "; nothing was saved");
  const std::vector<au::Conflict> conflicts = au::find_conflicts(parsed->rules);
  const std::string confirmation = au::confirmation_text(parsed->rules, parsed->zh);
  if (a.json) {
    nlohmann::ordered_json j;
    j["rules"] = nlohmann::ordered_json::array();
    for (const au::Rule& r : parsed->rules) j["rules"].push_back(au::rule_to_json(r));
    j["confirmation"] = confirmation;
    j["conflicts"] = nlohmann::ordered_json::array();
    for (const au::Conflict& c : conflicts)
      j["conflicts"].push_back({{"rules", {c.rule_a + 1, c.rule_b + 1}},
                                {"message", c.message},
                                {"text", au::conflict_text(c, parsed->rules, parsed->zh)}});
    print_json(j);
    return 0;
  }
  std::cout << confirmation;
  for (const au::Conflict& c : conflicts) std::cout << au::conflict_text(c, parsed->rules, parsed->zh) << "\n";
  return 0;
}

}  // namespace

void add_automation_parse(CLI::App* automation, int& result) {
  auto a = std::make_shared<ParseArgs>();
  CLI::App* cmd = automation->add_subcommand(
      "parse",
      "Turn a request (Chinese or English) into automation rules and show them for confirmation; nothing is saved");
  cmd->add_option("text", a->text, "the request, e.g. \"每周一到周五早上6点半播报当天天气\"")->required();
  cmd->add_option("--now", a->now, "the current time, ISO 8601 (2026-11-24T09:00:00+08:00); default: the system clock");
  cmd->add_option("--tz", a->tz, "the user's UTC offset (+08:00, -05:00, UTC); --now is converted to it");
  cmd->add_option("-m,--model", a->model,
                  "GGUF model: generate the rules under the rule schema instead of the built-in parser");
  cmd->add_option("--db", a->db, "store directory: its registered tools (pocketmind tools add) are offered too");
  add_passphrase_option(cmd, &a->passphrase_file);
  cmd->add_option("--tools", a->tools_file,
                  "JSON file of more third-party tools for this parse only (OpenAI shape: name, description, parameters)");
  cmd->add_option("-n,--n-predict", a->n_predict, "with -m: the most tokens to generate")->check(CLI::Range(16, 8192));
  cmd->add_option("--seed", a->seed, "with -m: sampling seed");
  add_model_options(cmd, a->load);
  cmd->add_flag("--json", a->json, "machine-readable output: {\"rules\", \"confirmation\", \"conflicts\"}");
  cmd->callback([a, &result] { result = run_parse(*a); });
}

}  // namespace pm::cli
#endif
