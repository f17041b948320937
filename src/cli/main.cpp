// pocketmind: the command-line front end. Each verb lives in cli/cmd_<verb>.cpp.
#include <clocale>
#include <cstdio>

#include "cli/common.h"

int main(int argc, char** argv) {
  std::setlocale(LC_ALL, "C");
  CLI::App app{"pocketmind: a private on-device assistant runtime (GGUF models, local data, local API)"};
  app.require_subcommand(1);
  app.set_version_flag("--version", "pocketmind 0.1.0");
  int result = 0;
  pm::cli::add_info(app, result);
  pm::cli::add_tokenize(app, result);
  pm::cli::add_eval(app, result);
  pm::cli::add_run(app, result);
  pm::cli::add_chat(app, result);
  pm::cli::add_quantize(app, result);
  pm::cli::add_bench(app, result);
  pm::cli::add_synth(app, result);
  pm::cli::add_ingest(app, result);
  pm::cli::add_search(app, result);
  pm::cli::add_forget(app, result);
  pm::cli::add_store(app, result);
  pm::cli::add_embed(app, result);
#ifdef PM_WITH_ASSISTANT
  pm::cli::add_assistant_verbs(app, result);  // ask, automation, summarize-call, translate, tools
#endif
#ifdef PM_WITH_SERVER
  pm::cli::add_server_verbs(app, result);  // serve, apps
#endif
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    return app.exit(e);
  }
  return result;
}
