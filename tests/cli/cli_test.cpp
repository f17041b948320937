// Behaviour tests of the `pocketmind` binary on real files: the interfaces of DESIGN.md,
// exit codes and error messages a user sees.
#include <fstream>

#include <nlohmann/json.hpp>

#include "formats/gguf.h"
#include "test_util.h"
#include "tokenizer/test_cases.h"

namespace pm {
namespace {

using test::run_pocketmind;

std::string write_temp(const std::string& name, const std::string& bytes) {
  const std::string path = test::temp_dir() + "/" + name;
  std::ofstream(path, std::ios::binary) << bytes;
  return path;
}

TEST(Cli, EveryVerbHasHelp) {
  for (const char* verb : {"info", "tokenize", "eval", "run", "chat", "quantize", "bench", "synth"}) {
    const auto r = run_pocketmind({verb, "--help"});
    EXPECT_EQ(r.exit_code, 0) << verb;
    EXPECT_NE(r.out.find("--json"), std::string::npos) << verb << " has no --json option";
    if (std::string(verb) != "quantize" && std::string(verb) != "synth") {
      EXPECT_NE(r.out.find("--model"), std::string::npos) << verb;
    }
  }
  const auto none = run_pocketmind({});
  EXPECT_NE(none.exit_code, 0);
}

TEST(Cli, TokenizeCasesMatchesLlamaCppFiles) {
  for (const char* name : {"llama-spm", "deepseek-coder", "bert-bge"}) {
    const std::string base = std::string("tokenizer/ggml-vocab-") + name + ".gguf";
    PM_REQUIRE_FIXTURE(vocab, base);
    const std::string inp = vocab + ".inp", out = vocab + ".out";
    const auto r = run_pocketmind({"tokenize", "-m", vocab, "--cases", inp});
    ASSERT_EQ(r.exit_code, 0) << r.err;
    EXPECT_EQ(r.out, test::read_text(out)) << name;
  }
}

TEST(Cli, EvalWritesLogitsForEveryPosition) {
  PM_REQUIRE_FIXTURE(model, "gguf/llama-spm-tiny-q8_0.gguf");
  PM_REQUIRE_FIXTURE(prompt, "gguf/prompt.txt");
  PM_REQUIRE_FIXTURE(ref, "gguf/llama-spm-tiny-q8_0.ref.json");
  const std::string out = test::temp_dir() + "/logits.f32";
  const auto r = run_pocketmind({"eval", "-m", model, "--prompt-file", prompt, "--dump-logits", out});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const auto j = nlohmann::json::parse(test::read_text(ref));
  std::string expected = "tokens:";
  for (int t : j["tokens"]) expected.append(" ").append(std::to_string(t));
  EXPECT_EQ(r.out, expected + "\n");
  EXPECT_EQ(test::read_f32(out).size(), j["tokens"].size() * 32000u);

  const auto r2 = run_pocketmind({"eval", "-m", model, "--tokens", "1,450,4996"});
  ASSERT_EQ(r2.exit_code, 0) << r2.err;
  EXPECT_EQ(r2.out, "tokens: 1 450 4996\n");
  const auto bad = run_pocketmind({"eval", "-m", model, "--tokens", "1,x"});
  EXPECT_NE(bad.exit_code, 0);
  EXPECT_NE(bad.err.find("not an integer"), std::string::npos) << bad.err;
}

TEST(Cli, RunIsDeterministicForASeed) {
  PM_REQUIRE_FIXTURE(model, "gguf/qwen2-bpe-tiny-q8_0.gguf");
  const std::vector<std::string> args = {"run", "-m", model, "-p", "Hello, 你好", "-n", "12", "--seed", "5", "--temp", "1.0"};
  const auto a = run_pocketmind(args);
  const auto b = run_pocketmind(args);
  ASSERT_EQ(a.exit_code, 0) << a.err;
  EXPECT_EQ(a.out, b.out);
  EXPECT_NE(a.err.find("tok/s"), std::string::npos) << "timings go to stderr";

  const auto j = run_pocketmind({"run", "-m", model, "-p", "Hello", "-n", "5", "--temp", "0", "--json"});
  ASSERT_EQ(j.exit_code, 0) << j.err;
  const auto obj = nlohmann::json::parse(j.out);
  EXPECT_EQ(obj["tokens"].size(), obj["n_generated_tokens"].get<size_t>());
  EXPECT_LE(obj["n_generated_tokens"].get<int>(), 5);
  EXPECT_TRUE(obj.contains("finish_reason"));
}

TEST(Cli, ChatAnswersEachLine) {
  PM_REQUIRE_FIXTURE(model, "gguf/qwen2-bpe-tiny-q8_0.gguf");
  const auto r = run_pocketmind({"chat", "-m", model, "-n", "4", "--temp", "0", "--json"}, "hello\n明天几点开会？\n");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  int replies = 0;
  size_t pos = 0;
  while ((pos = r.out.find("\"role\":\"assistant\"", pos)) != std::string::npos) { ++replies; ++pos; }
  EXPECT_EQ(replies, 2) << r.out;
}

TEST(Cli, InfoDescribesTheModel) {
  PM_REQUIRE_FIXTURE(model, "gguf/qwen2-bpe-tiny-f16.gguf");
  const auto r = run_pocketmind({"info", "-m", model, "--json"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const auto j = nlohmann::json::parse(r.out);
  EXPECT_EQ(j["arch"], "qwen2");
  EXPECT_EQ(j["n_embd"], 64);
  EXPECT_EQ(j["n_layer"], 2);
  EXPECT_EQ(j["n_head_kv"], 2);
  EXPECT_EQ(j["n_vocab"], 32256);
  EXPECT_EQ(j["tokenizer"], "bpe");
  EXPECT_GT(j["memory_bytes"].get<uint64_t>(), j["weights_bytes"].get<uint64_t>());
}

TEST(CliErrors, MissingFile) {
  const auto r = run_pocketmind({"info", "-m", "/nonexistent/model.gguf"});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.err.find("/nonexistent/model.gguf"), std::string::npos) << r.err;
}

TEST(CliErrors, NotAGgufFile) {
  const std::string path = write_temp("notes.gguf", "this is a text file, not a model\n");
  const auto r = run_pocketmind({"run", "-m", path, "-p", "hi"});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.err.find("not a GGUF file"), std::string::npos) << r.err;
}

TEST(CliErrors, TruncatedModel) {
  PM_REQUIRE_FIXTURE(model, "gguf/llama-spm-tiny-q4_0.gguf");
  const std::string bytes = test::read_text(model);
  for (size_t cut : {size_t(10), size_t(5000), bytes.size() / 2, bytes.size() - 7}) {
    const std::string path = write_temp("cut.gguf", bytes.substr(0, cut));
    const auto r = run_pocketmind({"eval", "-m", path, "--tokens", "1,2"});
    EXPECT_EQ(r.exit_code, 1) << "cut at " << cut;
    EXPECT_TRUE(r.err.find("truncated") != std::string::npos || r.err.find("past end of file") != std::string::npos ||
                r.err.find("larger than the file") != std::string::npos)
        << "cut at " << cut << ": " << r.err;
  }
}

TEST(CliErrors, TokenizerWithMissingFields) {
  GgufWriter w;
  w.set_string("general.architecture", "llama");
  w.set_string("tokenizer.ggml.model", "llama");
  const std::string path = test::temp_dir() + "/novocab.gguf";
  ASSERT_TRUE(w.write(path).is_ok());
  const auto r = run_pocketmind({"tokenize", "-m", path, "hello"});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.err.find("tokenizer.ggml.tokens"), std::string::npos) << r.err;
}

TEST(CliErrors, PromptLongerThanContext) {
  PM_REQUIRE_FIXTURE(model, "gguf/llama-spm-tiny-q8_0.gguf");
  const auto r = run_pocketmind({"run", "-m", model, "-c", "8", "-p", "one two three four five six seven eight nine ten"});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.err.find("context"), std::string::npos) << r.err;
}

TEST(CliErrors, UnsupportedArchitecture) {
  GgufWriter w;
  w.set_string("general.architecture", "mamba");
  w.set_string("tokenizer.ggml.model", "llama");
  w.set_string_array("tokenizer.ggml.tokens", {"<unk>", "<s>", "</s>", "a"});
  w.set_f32_array("tokenizer.ggml.scores", {0, 0, 0, 0});
  w.set_i32_array("tokenizer.ggml.token_type", {2, 3, 3, 1});
  const std::string path = test::temp_dir() + "/mamba.gguf";
  ASSERT_TRUE(w.write(path).is_ok());
  const auto r = run_pocketmind({"run", "-m", path, "-p", "a"});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.err.find("architecture \"mamba\" is not supported"), std::string::npos) << r.err;
}

}  // namespace
}  // namespace pm

namespace pm {
namespace {

TEST(Cli, BenchReportsTheDesignFields) {
  PM_REQUIRE_FIXTURE(model, "gguf/llama-spm-tiny-q8_0.gguf");
  const auto r = test::run_pocketmind({"bench", "-m", model, "-p", "16", "-n", "8", "-r", "1", "-t", "1", "--json"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const auto j = nlohmann::json::parse(r.out);
  for (const char* key : {"pp_tokens_per_s", "tg_tokens_per_s", "ttft_ms", "peak_rss_bytes"}) {
    ASSERT_TRUE(j.contains(key)) << key;
    EXPECT_GT(j[key].get<double>(), 0.0) << key;
  }
  EXPECT_EQ(j["threads"], 1);
}

}  // namespace
}  // namespace pm

namespace pm {
namespace {

// A synthetic model has the real model's exact parameter count (Qwen2.5-0.5B: 494,032,768 as
// published with its weights) and runs.
TEST(Cli, SynthWritesARealShape) {
  const std::string out = test::temp_dir() + "/qwen05.gguf";
  const auto w = test::run_pocketmind({"synth", "--arch", "qwen2", "--shape", "qwen2.5-0.5b", "--type", "q4_0", "-o", out});
  ASSERT_EQ(w.exit_code, 0) << w.err;
  const auto info = test::run_pocketmind({"info", "-m", out, "--json"});
  ASSERT_EQ(info.exit_code, 0) << info.err;
  const auto j = nlohmann::json::parse(info.out);
  EXPECT_EQ(j["n_params"], 494032768);
  EXPECT_EQ(j["n_layer"], 24);
  EXPECT_EQ(j["n_vocab"], 151936);
  EXPECT_EQ(j["n_vocab"], 151936);
  const auto run = test::run_pocketmind({"run", "-m", out, "-p", "你好", "-n", "2", "-c", "64", "--json"});
  ASSERT_EQ(run.exit_code, 0) << run.err;
  EXPECT_EQ(nlohmann::json::parse(run.out)["n_generated_tokens"], 2);
  const auto bad = test::run_pocketmind({"synth", "--arch", "llama", "--shape", "qwen2.5-0.5b", "-o", out});
  EXPECT_EQ(bad.exit_code, 1);
  EXPECT_NE(bad.err.find("is a qwen2 model"), std::string::npos) << bad.err;
}

}  // namespace
}  // namespace pm

namespace pm {
namespace {

// rwkv.cpp .bin models run through the same verbs (byte-level vocabulary for the tiny ones).
TEST(Cli, RunsRwkvBinModels) {
  PM_REQUIRE_FIXTURE(model, "rwkv/tiny-rwkv-7v0-834K-Q5_1.bin");
  const auto info = test::run_pocketmind({"info", "-m", model, "--json"});
  ASSERT_EQ(info.exit_code, 0) << info.err;
  const auto j = nlohmann::json::parse(info.out);
  EXPECT_EQ(j["arch"], "rwkv7");
  EXPECT_EQ(j["recurrent"], true);
  const auto run = test::run_pocketmind({"run", "-m", model, "-p", "In a shocking finding", "-n", "12", "--temp", "0", "--json"});
  ASSERT_EQ(run.exit_code, 0) << run.err;
  const auto r = nlohmann::json::parse(run.out);
  EXPECT_EQ(r["n_generated_tokens"], 12);
  EXPECT_EQ(r["text"].get<std::string>().size(), 12u);  // byte-level: one byte per token
  const auto eval = test::run_pocketmind({"eval", "-m", model, "--tokens", "34,105,110", "--json"});
  ASSERT_EQ(eval.exit_code, 0) << eval.err;
  EXPECT_EQ(nlohmann::json::parse(eval.out)["tokens"], nlohmann::json({34, 105, 110}));
  const auto tok = test::run_pocketmind({"tokenize", "-m", model, "hi"});
  ASSERT_EQ(tok.exit_code, 0) << tok.err;
  EXPECT_EQ(tok.out, "104 105\n");
}

TEST(CliErrors, TruncatedRwkvBin) {
  PM_REQUIRE_FIXTURE(model, "rwkv/tiny-rwkv-4v0-660K-FP16.bin");
  const std::string bytes = test::read_text(model);
  const std::string path = test::temp_dir() + "/cut.bin";
  std::ofstream(path, std::ios::binary) << bytes.substr(0, bytes.size() / 3);
  const auto r = test::run_pocketmind({"run", "-m", path, "-p", "x"});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.err.find("cut.bin"), std::string::npos) << r.err;
}

}  // namespace
}  // namespace pm

namespace pm {
namespace {

TEST(Cli, SynthWritesRwkv7InRwkvCppFormat) {
  const std::string out = test::temp_dir() + "/rwkv7.bin";
  const auto w = test::run_pocketmind({"synth", "--shape", "rwkv7-0.1b", "--type", "q5_1", "-o", out});
  ASSERT_EQ(w.exit_code, 0) << w.err;
  const auto info = test::run_pocketmind({"info", "-m", out, "--json"});
  ASSERT_EQ(info.exit_code, 0) << info.err;
  const auto j = nlohmann::json::parse(info.out);
  EXPECT_EQ(j["arch"], "rwkv7");
  EXPECT_EQ(j["n_layer"], 12);
  EXPECT_EQ(j["n_vocab"], 65536);
  const auto eval = test::run_pocketmind({"eval", "-m", out, "--tokens", "1,2,3", "--json"});
  ASSERT_EQ(eval.exit_code, 0) << eval.err;
  const auto run = test::run_pocketmind({"run", "-m", out, "-p", "hi"});
  EXPECT_EQ(run.exit_code, 1);
  EXPECT_NE(run.err.find("vocabulary that the file does not carry"), std::string::npos) << run.err;
}

}  // namespace
}  // namespace pm
