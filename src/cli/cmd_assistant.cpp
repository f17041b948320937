// The assistant's verbs: each lives in its own cli/cmd_<verb>.cpp and is registered here.
// Compiled only with the assistant layer.
#ifdef PM_WITH_ASSISTANT
#include "cli/common.h"

namespace pm::cli {

void add_ask(CLI::App& app, int& result);               // cmd_ask.cpp
void add_automation(CLI::App& app, int& result);        // cmd_automation.cpp
void add_summarize_call(CLI::App& app, int& result);    // cmd_summarize_call.cpp
void add_translate(CLI::App& app, int& result);         // cmd_translate.cpp
void add_tools(CLI::App& app, int& result);             // cmd_tools.cpp

void add_assistant_verbs(CLI::App& app, int& result) {
  add_ask(app, result);
  add_automation(app, result);
  add_summarize_call(app, result);
  add_translate(app, result);
  add_tools(app, result);
}

}  // namespace pm::cli
#endif
