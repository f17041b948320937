// pocketmind forget --db DIR (--id ID... | --source SOURCE) [--json]
#include <cstdio>

#include "cli/common.h"
#include "cli/store_common.h"
#include "store/store.h"

namespace pm::cli {
namespace {

struct ForgetArgs {
  std::string db;
  std::string passphrase_file;
  std::vector<std::string> ids;
  std::string source;
  bool json = false;
};

int run_forget(const ForgetArgs& a) {
  const char* verb = "forget";
  if (a.ids.empty() == a.source.empty()) return fail(verb, "give either --id (one or more) or --source");
  store::StoreOptions so;
  so.create = false;
  if (Status p = apply_passphrase(a.passphrase_file, &so); !p.is_ok()) return fail(verb, p);
  Result<std::unique_ptr<store::Store>> st = store::Store::open(a.db, so);
  if (!st.is_ok()) return fail(verb, st.status());
  int64_t removed = 0;
  std::vector<std::string> missing;
  if (!a.source.empty()) {
    Result<int64_t> n = (*st)->forget_source(a.source);
    if (!n.is_ok()) return fail(verb, n.status());
    removed = *n;
  }
  for (const std::string& id : a.ids) {
    Result<int64_t> n = (*st)->forget_id(id);
    if (!n.is_ok()) return fail(verb, n.status());
    removed += *n;
    if (*n == 0) missing.push_back(id);
  }
  // The vectors went with the records (trigger); bring the vector index file in step now so
  // that no deleted record's vector stays on disk.
  if (removed > 0) {
    Result<store::VectorIndex*> vi = (*st)->vector_index();
    if (!vi.is_ok()) return fail(verb, vi.status());
  }
  if (a.json) {
    print_json({{"removed", removed}, {"not_found", missing}});
    return 0;
  }
  std::printf("forgot %lld record%s\n", (long long)removed, removed == 1 ? "" : "s");
  for (const auto& id : missing) std::printf("no record with id %s\n", id.c_str());
  return 0;
}

}  // namespace

void add_forget(CLI::App& app, int& result) {
  auto args = std::make_shared<ForgetArgs>();
  CLI::App* cmd = app.add_subcommand("forget", "Delete records from a store and from every index");
  cmd->add_option("--db", args->db, "store directory")->required();
  add_passphrase_option(cmd, &args->passphrase_file);
  cmd->add_option("--id", args->ids, "record id (repeatable)");
  cmd->add_option("--source", args->source,
                  "delete every record of this source (sms, note, calendar, call, photo, contact, email)");
  cmd->add_flag("--json", args->json, "machine-readable output");
  cmd->callback([args, &result] { result = run_forget(*args); });
}

}  // namespace pm::cli
