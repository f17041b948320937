// Helpers shared by the test programs: fixture paths (tests skip when ../shared is absent),
// reading reference files, and running the real `pocketmind` binary.
#pragma once

#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "models/model.h"
#include "store/crypto_vfs.h"
#include "tokenizer/tokenizer.h"

namespace pm::test {

// ../shared/fixtures/<rel>, or "" when the fixture directory is absent.
std::string fixture(const std::string& rel);
bool file_exists(const std::string& path);
std::vector<float> read_f32(const std::string& path);
std::string read_text(const std::string& path);
// A fresh empty directory under the build tree's temp area, removed at exit.
std::string temp_dir();
// Writes DIR/NAME (bytes as given) and returns its path.
std::string write_file(const std::string& dir, const std::string& name, const std::string& content);
// The bytes of every regular file directly in DIR, one after another: where a test looks for a
// secret that must not be on disk.
std::string dir_bytes(const std::string& dir);

// Makes DIR an encrypted store (DIR/store.key under PASSPHRASE, with the fewest key-derivation
// iterations allowed, so that tests stay fast) and returns its page key; a failure fails the test.
store::StoreKey make_encrypted_store(const std::string& dir, const std::string& passphrase);

// POCKETMIND_PASSPHRASE unset while it lives, whatever the caller's environment holds.
struct PassphraseEnvUnset {
  PassphraseEnvUnset();
  ~PassphraseEnvUnset();
};

// True in a sanitizer build or under an emulator (cross builds run under qemu-user): code runs
// 5-50x slower there. PM_TEST_SLOW=1 / 0 in the environment overrides.
bool slow_build();
// Repetitions for the heaviest randomized tests: N in a native optimized build, N / 4 (at least
// AT_LEAST) in a slow build, whose runs add coverage of each path (memory errors, ARM code), not
// of more random cases. The native release run keeps the full count.
int scaled(int n, int at_least = 1);

// load_model(PATH); a failure fails the test and gives null.
std::unique_ptr<Model> load_model_or_fail(const std::string& path);
// The tokenizer of the GGUF file at PATH.
Result<std::unique_ptr<Tokenizer>> load_tokenizer(const std::string& path);
// max over i of |a[i] - b[i]| / max(1, |b[i]|); different sizes fail the test.
double max_rel_diff(const std::vector<float>& a, const std::vector<float>& b);
// " 1 2 3": token ids for a failure message.
std::string ids_string(const std::vector<TokenId>& ids);

struct CommandResult {
  int exit_code = -1;
  std::string out;  // stdout
  std::string err;  // stderr
};
// The command line that runs `pocketmind ARGS...`: through the emulator in cross builds. Build it
// before a fork, so that the child only execs.
std::vector<std::string> pocketmind_command(const std::vector<std::string>& args);
// Runs `pocketmind ARGS...` (no shell), with optional stdin text.
CommandResult run_pocketmind(const std::vector<std::string>& args, const std::string& stdin_text = "");

}  // namespace pm::test

// Skips the test with a message naming the missing fixture.
#define PM_REQUIRE_FIXTURE(var, rel)                                                      \
  const std::string var = ::pm::test::fixture(rel);                                       \
  if (var.empty()) GTEST_SKIP() << "fixture " << (rel) << " not found under " PM_FIXTURES_DIR \
                                << " (../shared/fixtures); skipping"
