// The real binary with --tools: chat and run report tool calls in --json output, and a bad
// tools file is a clear error with a non-zero exit.
#include <gtest/gtest.h>

#include <fstream>
#include <nlohmann/json.hpp>

#include "test_util.h"

namespace pm {
namespace {

using Json = nlohmann::json;

TEST(ToolsCli, ChatAndRunListToolCalls) {
  PM_REQUIRE_FIXTURE(model, "gguf/qwen2-bpe-tiny-f16.gguf");
  const std::string dir = pm::test::temp_dir();
  std::ofstream(dir + "/tools.json") << R"([{"type": "function", "function": {"name": "get_weather",
      "parameters": {"type": "object", "properties": {"city": {"type": "string", "maxLength": 6}}, "required": ["city"]}}}])";
  std::ofstream(dir + "/bad.json") << R"([{"type": "function", "function": {"parameters": {}}}])";

  auto r = pm::test::run_pocketmind(
      {"chat", "-m", model, "--tools", dir + "/tools.json", "--json", "-n", "20", "--seed", "1"}, "北京天气？\n");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const Json turn = Json::parse(r.out.substr(0, r.out.find('\n')), nullptr, false);
  ASSERT_FALSE(turn.is_discarded()) << r.out;
  EXPECT_TRUE(turn["tool_calls"].is_array()) << r.out;
  EXPECT_EQ(turn["role"], "assistant");

  r = pm::test::run_pocketmind(
      {"run", "-m", model, "-p", "hi", "--tools", dir + "/tools.json", "--json", "-n", "10", "--seed", "2"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const Json out = Json::parse(r.out, nullptr, false);
  ASSERT_FALSE(out.is_discarded()) << r.out;
  EXPECT_TRUE(out["tool_calls"].is_array());
  EXPECT_TRUE(out["content"].is_string());

  r = pm::test::run_pocketmind({"chat", "-m", model, "--tools", dir + "/bad.json"}, "hi\n");
  EXPECT_NE(r.exit_code, 0);
  EXPECT_NE(r.err.find("tools[0].function.name"), std::string::npos) << r.err;
}

}  // namespace
}  // namespace pm
