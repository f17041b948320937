// pocketmind store rekey --db DIR [--passphrase-file F] --new-passphrase-file F [--json]
// Changes the passphrase of an encrypted store (store/store_key.h): the store's key is rewrapped
// under the new passphrase in DIR/store.key; the pages are not re-encrypted.
#include <cstdio>
#include <filesystem>

#include "cli/common.h"
#include "cli/store_common.h"

namespace pm::cli {
namespace {

struct RekeyArgs {
  std::string db;
  std::string passphrase_file;
  std::string new_passphrase_file;
  bool json = false;
};

int run_rekey(const RekeyArgs& a) {
  const char* verb = "store rekey";
  std::error_code ec;
  if (!std::filesystem::exists(std::filesystem::path(a.db) / store::kDatabaseFile, ec))
    return fail(verb, a.db + ": no store here");
  if (!std::filesystem::exists(std::filesystem::path(a.db) / store::kStoreKeyFile, ec))
    return fail(verb, a.db + ": this store is not encrypted (no " + store::kStoreKeyFile +
                          "); encrypting a plain store in place is not supported");
  Result<std::string> old_pass = read_passphrase(a.passphrase_file);
  if (!old_pass.is_ok()) return fail(verb, old_pass.status());
  if (old_pass->empty())
    return fail(verb, "give the current passphrase in POCKETMIND_PASSPHRASE or with --passphrase-file FILE");
  Result<std::string> new_pass = read_passphrase(a.new_passphrase_file);  // the option is required
  if (!new_pass.is_ok()) return fail(verb, new_pass.status().with_context("--new-passphrase-file"));
  if (Status s = store::change_store_passphrase(a.db, *old_pass, *new_pass); !s.is_ok()) return fail(verb, s);
  if (a.json)
    std::printf("{\"rekeyed\": true}\n");
  else
    std::printf("passphrase changed: %s/%s rewritten\n", a.db.c_str(), store::kStoreKeyFile);
  return 0;
}

}  // namespace

void add_store(CLI::App& app, int& result) {
  CLI::App* cmd = app.add_subcommand("store", "Manage a store directory (encryption at rest)");
  cmd->require_subcommand(1);
  auto args = std::make_shared<RekeyArgs>();
  CLI::App* rekey = cmd->add_subcommand(
      "rekey", "Change the passphrase of an encrypted store (its key is rewrapped; pages are not re-encrypted)");
  rekey->add_option("--db", args->db, "store directory")->required();
  add_passphrase_option(rekey, &args->passphrase_file);
  rekey->add_option("--new-passphrase-file", args->new_passphrase_file, "file holding the new passphrase")->required();
  rekey->add_flag("--json", args->json, "machine-readable output");
  rekey->callback([args, &result] { result = run_rekey(*args); });
}

}  // namespace pm::cli
