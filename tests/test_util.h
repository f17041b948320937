// Helpers shared by the test programs: fixture paths (tests skip when ../shared is absent),
// reading reference files, and running the real `pocketmind` binary.
#pragma once

#include <string>
#include <vector>

#include <gtest/gtest.h>

namespace pm::test {

// ../shared/fixtures/<rel>, or "" when the fixture directory is absent.
std::string fixture(const std::string& rel);
bool file_exists(const std::string& path);
std::vector<float> read_f32(const std::string& path);
std::string read_text(const std::string& path);
// A fresh empty directory under the build tree's temp area, removed at exit.
std::string temp_dir();

struct CommandResult {
  int exit_code = -1;
  std::string out;  // stdout
  std::string err;  // stderr
};
// Runs `pocketmind ARGS...` (no shell), with optional stdin text.
CommandResult run_pocketmind(const std::vector<std::string>& args, const std::string& stdin_text = "");

}  // namespace pm::test

// Skips the test with a message naming the missing fixture.
#define PM_REQUIRE_FIXTURE(var, rel)                                                      \
  const std::string var = ::pm::test::fixture(rel);                                       \
  if (var.empty()) GTEST_SKIP() << "fixture " << (rel) << " not found under " PM_FIXTURES_DIR \
                                << " (../shared/fixtures); skipping"
