// Placeholder: replaced by the verb's implementation.
#ifdef PM_WITH_ASSISTANT
#include "cli/common.h"

namespace pm::cli {

void add_summarize_call(CLI::App& app, int& result) {
  (void)result;
}

}  // namespace pm::cli
#endif
