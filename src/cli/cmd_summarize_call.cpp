// pocketmind summarize-call FILE [-m MODEL] [--now T] [--remind [--yes]] [--json]
// A call transcript (.txt, or a call record as one JSON line) -> summary, caller, topics, action
// items, callback_needed (assistant/call_summary.h).
#ifdef PM_WITH_ASSISTANT
#include <unistd.h>

#include <cstdio>
#include <iostream>

#include "assistant/call_summary.h"
#include "cli/assistant_common.h"
#include "cli/store_common.h"
#include "core/mapped_file.h"

namespace pm::cli {
namespace {

struct SummarizeArgs {
  std::string file;
  std::string model;
  std::string now;
  int32_t n_predict = 512;
  LoadOptions load;
  bool remind = false;
  bool yes = false;
  bool json = false;
};

// Asks on the terminal whether to create `n` reminders; no terminal -> no (use --yes).
bool confirm(size_t n) {
  if (!isatty(STDIN_FILENO)) {
    std::fprintf(stderr,
                 "pocketmind summarize-call: not creating %zu reminder(s) without confirmation "
                 "(no terminal to ask on; pass --yes)\n",
                 n);
    return false;
  }
  std::fprintf(stderr, "Create %zu reminder(s)? [y/N] ", n);
  std::string line;
  if (!std::getline(std::cin, line)) return false;
  return line == "y" || line == "Y" || line == "yes" || line == "是" || line == "好";
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
  nlohmann::json reminders = nlohmann::json::array();
  if (a.remind) {
    const nlohmann::json rules = assistant::reminder_rules(s);
    if (!rules.empty() && (a.yes || confirm(rules.size()))) reminders = rules;
  }
  if (a.json) {
    if (a.remind) out["reminders"] = reminders;
    print_json(out);
    return 0;
  }
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
  for (const auto& r : reminders)
    std::printf("%s\n", r.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace).c_str());
  return 0;
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
  cmd->add_flag("--remind", args->remind,
                "turn action items with a due time into reminder rules (DESIGN.md rule form), asking first");
  cmd->add_flag("-y,--yes", args->yes, "with --remind: do not ask");
  cmd->add_flag("--json", args->json,
                "machine-readable output: {summary, caller, topics[], action_items[{text, due?}], callback_needed}");
  cmd->callback([args, &result] { result = run_summarize(*args); });
}

}  // namespace pm::cli
#endif
