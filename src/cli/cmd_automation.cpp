// `pocketmind automation ...`: the verb group. `parse` lives in cmd_automation_parse.cpp; the
// saved rules and their scheduler (add, list, remove, enable, disable, simulate, emit, history,
// run) in cmd_automation_rules.cpp.
#ifdef PM_WITH_ASSISTANT
#include "cli/common.h"

namespace pm::cli {

void add_automation_parse(CLI::App* automation, int& result);
void add_automation_rules(CLI::App* automation, int& result);

void add_automation(CLI::App& app, int& result) {
  CLI::App* cmd = app.add_subcommand("automation", "Automation rules: parse requests, save rules, run and simulate them");
  cmd->require_subcommand(1);
  add_automation_parse(cmd, result);
  add_automation_rules(cmd, result);
}

}  // namespace pm::cli
#endif
