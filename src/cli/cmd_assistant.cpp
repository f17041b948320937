// The assistant's verbs (ask, automation, summarize-call, translate): each lives in its own
// cli/cmd_<verb>.cpp and is registered here. Compiled only with the assistant layer.
#ifdef PM_WITH_ASSISTANT
#include "cli/common.h"

namespace pm::cli {

void add_assistant_verbs(CLI::App& app, int& result) {
  (void)app;
  (void)result;
}

}  // namespace pm::cli
#endif
