// Placeholder: replaced by the verb's implementation.
#ifdef PM_WITH_ASSISTANT
#include "cli/common.h"

namespace pm::cli {

void add_automation_rules(CLI::App* automation, int& result) {
  (void)result;
}

}  // namespace pm::cli
#endif
