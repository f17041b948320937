// pocketmind summarize-call FILE [-m MODEL] [--now T] [--remind --db DIR [--yes]] [--json]
// A call transcript (.txt, or a call record as one JSON line) -> summary, caller, topics, action
// items, callback_needed (assistant/call_summary.h). With --remind, action items with a due time
// still ahead become one-shot reminder rules saved in DIR/automations.sqlite after confirmation
// (`automation list` shows them, the scheduler and `automation simulate` fire them).
#ifdef PM_WITH_ASSISTANT
#include <unistd.h>

#include <cstdio>
#include <iostream>

#include "assistant/automation/rule.h"
#include "assistant/automation/rule_store.h"
#include "assistant/automation/scheduler.h"
#include "assistant/automation/tool_store.h"
#include "assistant/call_summary.h"
#include "cli/assistant_common.h"
#include "cli/automation_common.h"
#include "cli/store_common.h"
#include "core/mapped_file.h"

namespace pm::cli {
namespace {

struct SummarizeArgs {
  std::string file;
  std::string model;
  std::string now;
  std::string db;
  std::string passphrase_file;
  int32_t n_predict = 512;
  LoadOptions load;
  bool remind = false;
  bool yes = false;
  bool json = false;
};

namespace au = pm::automation;

// Asks y/N on the terminal (the caller checked there is one).
bool ask_yes_no(size_t n, bool zh) {
  std::fprintf(stderr, zh ? "保存 %zu 条提醒？[y/N] " : "Save %zu reminder(s)? [y/N] ", n);
  std::string line;
  if (!std::getline(std::cin, line)) return false;
  return line == "y" || line == "Y" || line == "yes" || line == "是" || line == "好";
}

// The reminder rules for the action items whose due time is still ahead of `now`, validated as
// `automation add` validates rules (rule form, tool catalog of the store `key` is for, scheduler checks).
Result<std::vector<au::Rule>> reminders_to_save(const assistant::CallSummary& s, const store::Timestamp& now,
                                                RuleStoreKey& key, size_t* past_due) {
  PM_ASSIGN_OR_RETURN(au::ToolRegistry registry, load_tools(key));
  std::vector<au::Rule> out;
  const nlohmann::json rules = assistant::reminder_rules(s);
  size_t i = 0;
  for (const assistant::ActionItem& item : s.action_items) {
    if (!item.due) continue;
    const nlohmann::json& j = rules[i++];
    Result<store::Timestamp> due = store::parse_iso8601(*item.due);
    if (!due.is_ok()) return due.status().with_context("action item \"" + item.text + "\": due");
    if (due->epoch_s <= now.epoch_s) {
      ++*past_due;
      continue;
    }
    PM_ASSIGN_OR_RETURN(au::Rule r, au::rule_from_json(nlohmann::ordered_json::parse(j.dump())));
    au::normalize_rule(r);
    const std::vector<std::string> problems = au::validate(r, registry);
    if (!problems.empty()) return Status::internal("reminder rule for \"" + item.text + "\": " + problems.front());
    PM_RETURN_IF_ERROR(au::parse_rule(nlohmann::json::parse(au::rule_to_json(r).dump())).status());
    out.push_back(std::move(r));
  }
  return out;
}

void print_summary(const assistant::CallSummary& s) {
  const bool zh = s.chinese;
  std::printf("%s\n", s.summary.c_str());
  std::printf("%s%s\n", zh ? "来电人：" : "caller: ", s.caller.empty() ? "-" : s.caller.c_str());
  for (const auto& topic : s.topics) std::printf("%s%s\n", zh ? "话题：" : "topic: ", topic.c_str());
  for (const auto& item : s.action_items)
    std::printf("%s%s%s\n", zh ? "待办：" : "action: ", item.text.c_str(),
                item.due ? ((zh ? "（截止 " : " (due ") + *item.due + (zh ? "）" : ")")).c_str() : "");
  if (!s.phone_numbers.empty()) {
    std::string p;
    for (const auto& x : s.phone_numbers) p += (p.empty() ? "" : ", ") + x;
    std::printf("%s%s\n", zh ? "电话号码：" : "phone numbers: ", p.c_str());
  }
  std::printf("%s%s\n",
              zh ? "需要回电：" : "callback needed: ", s.callback_needed ? (zh ? "是" : "yes") : (zh ? "否" : "no"));
}

int run_summarize(const SummarizeArgs& a) {
  const char* verb = "summarize-call";
  Result<store::Timestamp> now = parse_now(a.now);
  if (!now.is_ok()) return fail(verb, now.status());
  Result<std::string> content = read_file(a.file);
  if (!content.is_ok()) return fail(verb, content.status());
  Result<assistant::Transcript> t = assistant::parse_transcript(*content, a.file);
  if (!t.is_ok()) return fail(verb, t.status());
  assistant::CallSummary s;
  if (a.model.empty()) {
    s = assistant::summarize_extractive(*t, *now);
  } else {
    LoadedModel holder;
    Result<assistant::ChatModel> cm = load_chat_model(a.model, a.load, holder);
    if (!cm.is_ok()) return fail(verb, cm.status());
    GenerateOptions g;
    g.max_tokens = a.n_predict;
    g.sampler.temperature = 0;
    Result<assistant::CallSummary> r = assistant::summarize_with_model(*t, *now, *cm, g);
    if (!r.is_ok()) return fail(verb, r.status());
    s = std::move(*r);
  }
  nlohmann::json out = assistant::summary_json(s);
  if (!a.json) print_summary(s);
  // Reminders: proposed, confirmed, then saved; the summary is printed either way.
  std::vector<au::Rule> proposed;
  size_t past_due = 0, already_saved = 0;
  RuleStoreKey key(a.db, a.passphrase_file);  // one unlock for the tool catalog and the save
  if (a.remind) {
    Result<std::vector<au::Rule>> r = reminders_to_save(s, *now, key, &past_due);
    if (!r.is_ok()) return fail(verb, r.status());
    proposed = std::move(*r);
  }
  std::string refusal;  // why nothing was saved, when something was proposed
  nlohmann::json saved = nlohmann::json::array();
  if (!proposed.empty()) {
    std::fprintf(a.json ? stderr : stdout, "%s", au::confirmation_text(proposed, s.chinese).c_str());
    std::fflush(stdout);
    if (!a.yes && !isatty(STDIN_FILENO))
      refusal = "refusing to save " + std::to_string(proposed.size()) +
                " reminder(s) without confirmation: stdin is not a terminal (review them, then pass --yes)";
    else if (!a.yes && !ask_yes_no(proposed.size(), s.chinese))
      refusal = "not confirmed; no reminders saved";
    if (refusal.empty()) {
      Result<std::unique_ptr<au::RuleStore>> st = open_rule_store(key, true);
      if (!st.is_ok()) return fail(verb, st.status());
      // Summarizing the same call again does not save the same reminder twice.
      Result<std::vector<au::StoredRule>> existing = (*st)->list();
      if (!existing.is_ok()) return fail(verb, existing.status());
      std::vector<std::string> texts;
      for (const au::Rule& r : proposed) {
        const std::string text = au::rule_to_json(r).dump();
        bool dup = false;
        for (const au::StoredRule& e : *existing) dup = dup || e.json == text;
        if (dup) ++already_saved;
        else texts.push_back(text);
      }
      Result<std::vector<std::string>> ids = (*st)->add(texts, au::RealClock().now());
      if (!ids.is_ok()) return fail(verb, ids.status());
      for (size_t i = 0; i < ids->size(); ++i)
        saved.push_back({{"id", (*ids)[i]}, {"rule", nlohmann::json::parse(texts[i])}});
    }
  }
  const int exit_code = refusal.empty() ? 0 : fail(verb, refusal);
  if (a.json) {
    if (a.remind) {
      out["reminders"] = saved;
      out["past_due"] = past_due;
      out["already_saved"] = already_saved;
    }
    print_json(out);
    return exit_code;
  }
  const bool zh = s.chinese;
  for (const auto& r : saved)
    std::printf(zh ? "已保存提醒 %s：%s\n" : "saved reminder %s: %s\n", r["id"].get<std::string>().c_str(),
                r["rule"]["name"].get<std::string>().c_str());
  if (past_due > 0)
    std::printf(zh ? "%zu 条待办的时间已过，未设提醒\n" : "%zu action item(s) already past due: no reminder\n", past_due);
  if (already_saved > 0)
    std::printf(zh ? "%zu 条提醒已保存过\n" : "%zu reminder(s) were already saved\n", already_saved);
  return exit_code;
}

}  // namespace

void add_summarize_call(CLI::App& app, int& result) {
  auto args = std::make_shared<SummarizeArgs>();
  CLI::App* cmd = app.add_subcommand(
      "summarize-call", "Summarize a call transcript: caller, topics, action items with due times, callback needed");
  cmd->add_option("file", args->file,
                  "transcript: a .txt file (speaker-labelled or not) or a call record (one JSON line)")
      ->required();
  cmd->add_option("-m,--model", args->model,
                  "GGUF chat model: JSON output constrained to the summary schema (default: extractive)");
  cmd->add_option("--now", args->now, "ISO 8601 time that 明天 / tomorrow ... refer to (default: the clock)");
  cmd->add_option("-n,--n-predict", args->n_predict, "maximum tokens to generate (with -m)")
      ->check(CLI::Range(16, 1 << 16));
  add_model_options(cmd, args->load);
  auto* remind = cmd->add_flag("--remind", args->remind,
                               "save a one-shot reminder rule (dated time trigger, notification.show) for each "
                               "action item due later than --now, in --db's automation rules; asks y/N first");
  cmd->add_option("--db", args->db, "with --remind: store directory whose automations.sqlite gets the reminders")
      ->needs(remind);
  remind->needs("--db");
  add_passphrase_option(cmd, &args->passphrase_file);
  cmd->add_flag("-y,--yes", args->yes, "with --remind: save without asking (required when stdin is not a terminal)");
  cmd->add_flag("--json", args->json,
                "machine-readable output: {summary, caller, topics[], action_items[{text, due?}], callback_needed}"
                " (+ with --remind: reminders[{id, rule}] saved, past_due, already_saved)");
  cmd->callback([args, &result] { result = run_summarize(*args); });
}

}  // namespace pm::cli
#endif
