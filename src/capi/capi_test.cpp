// The C API as an app uses it: every function's success path and its error codes and messages for
// bad arguments, streaming and cancelling generation, constrained output that parses, state that
// resumes bit-identically, embeddings, and a store round trip. Models are written by the tests
// (random weights, tiny shapes), so nothing here needs ../shared; one test also runs a fixture.
#include "pocketmind/pocketmind.h"

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include <nlohmann/json.hpp>

#include "models/bert.h"
#include "models/synth.h"
#include "pocketmind/pocketmind.hpp"
#include "test_util.h"

namespace {

// A llama of 512 tokens (SentencePiece with byte fallback, so every text tokenizes).
pm::SynthShape tiny_llama_shape() {
  return {"capi-tiny", "llama", 512, 64, 2, 4, 2, 16, 128, 1024, 10000.0, false, false, true, false};
}

// Test models, written once per test program.
struct Models {
  std::string dir, llama, llama_other, bert, junk;
};
const Models& models() {
  static const Models m = [] {
    Models r;
    r.dir = pm::test::temp_dir();
    r.llama = r.dir + "/tiny-llama.gguf";
    r.llama_other = r.dir + "/tiny-llama-other.gguf";
    r.bert = r.dir + "/tiny-bert.gguf";
    r.junk = r.dir + "/junk.gguf";
    EXPECT_TRUE(pm::write_synth_model(tiny_llama_shape(), pm::GgmlType::kF16, r.llama, 1).is_ok());
    EXPECT_TRUE(pm::write_synth_model(tiny_llama_shape(), pm::GgmlType::kF16, r.llama_other, 2).is_ok());
    pm::BertShape b;
    b.n_embd = 32;
    b.n_layer = 2;
    b.n_head = 4;
    b.n_ff = 64;
    b.n_vocab = 600;
    b.n_ctx = 64;
    EXPECT_TRUE(pm::write_random_bert(r.bert, b, 7).is_ok());
    std::ofstream(r.junk) << "this is not a GGUF file, just some text that is long enough to read";
    return r;
  }();
  return m;
}

// Owns what a C call hands back, so that failed assertions do not leak (ASan runs these tests).
struct ErrorHolder {
  pm_error* e = nullptr;
  ~ErrorHolder() { pm_error_free(e); }
  pm_error** operator&() { return &e; }
  std::string message() const { return pm_error_message(e); }
  pm_status code() const { return pm_error_code(e); }
  void reset() {
    pm_error_free(e);
    e = nullptr;
  }
};
struct ModelHolder {
  pm_model* m = nullptr;
  ~ModelHolder() { pm_model_free(m); }
};
struct SessionHolder {
  pm_session* s = nullptr;
  ~SessionHolder() { pm_session_free(s); }
};
struct ResultHolder {
  pm_generate_result r;
  ResultHolder() { pm_generate_result_init(&r); }
  ~ResultHolder() { pm_generate_result_clear(&r); }
  std::string text() const { return r.text ? std::string(r.text, r.text_len) : std::string(); }
  std::vector<int32_t> tokens() const { return std::vector<int32_t>(r.tokens, r.tokens + r.n_tokens); }
};

pm_model* load_or_die(const std::string& path, ModelHolder& holder) {
  ErrorHolder err;
  pm_model_options o;
  pm_model_options_init(&o);
  o.n_threads = 2;
  EXPECT_EQ(pm_model_load(path.c_str(), &o, &holder.m, &err), PM_OK) << err.message();
  return holder.m;
}

pm_session* session_or_die(pm_model* model, int64_t n_ctx, SessionHolder& holder) {
  ErrorHolder err;
  pm_session_options o;
  pm_session_options_init(&o);
  o.n_ctx = n_ctx;
  EXPECT_EQ(pm_session_create(model, &o, &holder.s, &err), PM_OK) << err.message();
  return holder.s;
}

pm_generate_params params(int32_t max_tokens, uint64_t seed = 7) {
  pm_generate_params p;
  pm_generate_params_init(&p);
  p.max_tokens = max_tokens;
  p.seed = seed;
  p.stop_at_eog = 0;  // random weights may pick EOS at any point: keep lengths predictable
  return p;
}

// ---- versions, errors ---------------------------------------------------------------------------

TEST(CApi, VersionsAndStatusNames) {
  EXPECT_EQ(pm_api_version(), PM_API_VERSION);
  EXPECT_STREQ(pm_version(), "0.1.0");
  EXPECT_STREQ(pm_status_name(PM_ERR_INVALID_ARGUMENT), "invalid_argument");
  EXPECT_STREQ(pm_status_name(PM_ERR_NO_MEMORY), "no_memory");
  EXPECT_STREQ(pm_status_name(static_cast<pm_status>(1234)), "unknown");
  EXPECT_EQ(pm_error_code(nullptr), PM_OK);
  EXPECT_STREQ(pm_error_message(nullptr), "");
}

TEST(CApi, ErrorsForNullHandlesNameTheArgument) {
  ErrorHolder err;
  size_t n = 0;
  EXPECT_EQ(pm_tokenize(nullptr, "x", 1, 0, nullptr, 0, &n, &err), PM_ERR_INVALID_ARGUMENT);
  EXPECT_EQ(err.message(), "model is NULL");
  err.reset();
  EXPECT_EQ(pm_session_eval(nullptr, nullptr, 0, &err), PM_ERR_INVALID_ARGUMENT);
  EXPECT_EQ(err.message(), "session is NULL");
  err.reset();
  pm_model* model = reinterpret_cast<pm_model*>(0x1);  // must be reset to NULL on failure
  EXPECT_EQ(pm_model_load(nullptr, nullptr, &model, &err), PM_ERR_INVALID_ARGUMENT);
  EXPECT_EQ(model, nullptr);
  EXPECT_EQ(err.message(), "path is NULL");
  // Without an error object only the code comes back.
  EXPECT_EQ(pm_store_count(nullptr, nullptr, nullptr), PM_ERR_INVALID_ARGUMENT);
  EXPECT_EQ(pm_embed(nullptr, nullptr, 0, 0, nullptr, 0, nullptr), PM_ERR_INVALID_ARGUMENT);
  EXPECT_EQ(pm_session_state_load(nullptr, nullptr, 0, nullptr), PM_ERR_INVALID_ARGUMENT);
  // The first error is kept.
  err.reset();
  EXPECT_EQ(pm_session_reset(nullptr, &err), PM_ERR_INVALID_ARGUMENT);
  EXPECT_EQ(pm_store_forget_id(nullptr, "x", nullptr, &err), PM_ERR_INVALID_ARGUMENT);
  EXPECT_EQ(err.message(), "session is NULL");
}

TEST(CApi, LoadErrorsNameTheFile) {
  ErrorHolder err;
  ModelHolder m;
  const std::string missing = models().dir + "/missing.gguf";
  EXPECT_EQ(pm_model_load(missing.c_str(), nullptr, &m.m, &err), PM_ERR_NOT_FOUND);
  EXPECT_NE(err.message().find(missing), std::string::npos) << err.message();
  EXPECT_EQ(m.m, nullptr);
  err.reset();
  const pm_status s = pm_model_load(models().junk.c_str(), nullptr, &m.m, &err);
  EXPECT_TRUE(s == PM_ERR_CORRUPT || s == PM_ERR_UNSUPPORTED) << pm_status_name(s);
  EXPECT_EQ(err.code(), s);
  EXPECT_NE(err.message().find("junk.gguf"), std::string::npos) << err.message();
  err.reset();
  pm_model_options o;
  pm_model_options_init(&o);
  o.kv_type = static_cast<pm_kv_type>(99);
  EXPECT_EQ(pm_model_load(models().llama.c_str(), &o, &m.m, &err), PM_ERR_INVALID_ARGUMENT);
  EXPECT_NE(err.message().find("kv_type"), std::string::npos) << err.message();
  err.reset();
  o.struct_size = 0;  // forgot pm_model_options_init
  EXPECT_EQ(pm_model_load(models().llama.c_str(), &o, &m.m, &err), PM_ERR_INVALID_ARGUMENT);
  EXPECT_NE(err.message().find("struct_size"), std::string::npos) << err.message();
}

// ---- models and tokens --------------------------------------------------------------------------

TEST(CApi, ModelInfoAndOlderShorterStructs) {
  ModelHolder h;
  pm_model* model = load_or_die(models().llama, h);
  ASSERT_TRUE(model);
  pm_model_info info{};
  info.struct_size = sizeof(info);
  ASSERT_EQ(pm_model_get_info(model, &info, nullptr), PM_OK);
  EXPECT_STREQ(info.arch, "llama");
  EXPECT_EQ(info.n_vocab, 512);
  EXPECT_EQ(info.n_embd, 64);
  EXPECT_EQ(info.n_layer, 2);
  EXPECT_EQ(info.n_ctx_train, 1024);
  EXPECT_EQ(info.is_recurrent, 0);
  EXPECT_EQ(info.is_embedding, 0);
  EXPECT_EQ(info.default_n_ctx, 1024);
  EXPECT_GT(info.n_params, 0);

  // A program built against a header whose struct ended after n_vocab: nothing past it is written.
  pm_model_info old;
  std::memset(&old, 0xAB, sizeof old);
  old.struct_size = offsetof(pm_model_info, n_ctx_train);
  ASSERT_EQ(pm_model_get_info(model, &old, nullptr), PM_OK);
  EXPECT_EQ(old.struct_size, offsetof(pm_model_info, n_ctx_train));
  EXPECT_EQ(old.n_vocab, 512);
  EXPECT_EQ(old.n_ctx_train, int64_t(0xABABABABABABABABull));

  ErrorHolder err;
  EXPECT_EQ(pm_model_get_info(model, nullptr, &err), PM_ERR_INVALID_ARGUMENT);
}

TEST(CApi, TokenizeDetokenizeAndSmallBuffers) {
  ModelHolder h;
  pm_model* model = load_or_die(models().llama, h);
  ASSERT_TRUE(model);
  const std::string text = "hello world, 你好";
  size_t n = 0;
  ErrorHolder err;
  // Asking for the size first.
  EXPECT_EQ(pm_tokenize(model, text.data(), text.size(), PM_TOKENIZE_ADD_SPECIAL, nullptr, 0, &n, &err),
            PM_ERR_OUT_OF_RANGE);
  EXPECT_NE(err.message().find("buffer holds 0"), std::string::npos) << err.message();
  ASSERT_GT(n, 1u);
  std::vector<int32_t> tokens(n);
  ASSERT_EQ(pm_tokenize(model, text.data(), text.size(), PM_TOKENIZE_ADD_SPECIAL, tokens.data(), tokens.size(), &n,
                        nullptr),
            PM_OK);
  EXPECT_EQ(tokens[0], 1);  // BOS
  std::vector<int32_t> plain(n);
  ASSERT_EQ(pm_tokenize(model, text.data(), text.size(), 0, plain.data(), plain.size(), &n, nullptr), PM_OK);
  EXPECT_EQ(std::vector<int32_t>(plain.begin(), plain.begin() + long(n)),
            std::vector<int32_t>(tokens.begin() + 1, tokens.end()));
  // The synthetic vocabulary's byte tokens are <0x00>..<0xFF> at ids 3..258.
  const int32_t bytes[] = {1, 3 + 'h', 3 + 'i', 3 + 0xE4, 3 + 0xBD, 3 + 0xA0};
  char* out = nullptr;
  size_t out_len = 0;
  ASSERT_EQ(pm_detokenize(model, bytes, 6, 0, &out, &out_len, nullptr), PM_OK);
  EXPECT_EQ(std::string(out, out_len), "hi\xE4\xBD\xA0");
  pm_string_free(out);
  ASSERT_EQ(pm_detokenize(model, bytes, 3, PM_DETOKENIZE_RENDER_SPECIAL, &out, &out_len, nullptr), PM_OK);
  EXPECT_EQ(std::string(out, out_len), "<s>hi");
  pm_string_free(out);

  err.reset();
  const int32_t bad[] = {5, 512};
  EXPECT_EQ(pm_detokenize(model, bad, 2, 0, &out, nullptr, &err), PM_ERR_INVALID_ARGUMENT);
  EXPECT_EQ(out, nullptr);
  EXPECT_NE(err.message().find("tokens[1] = 512"), std::string::npos) << err.message();

  pocketmind::Model cpp = pocketmind::Model::load(models().llama);
  EXPECT_EQ(cpp.tokenize(text), tokens);
  EXPECT_EQ(cpp.detokenize({3 + 'o', 3 + 'k'}), "ok");
}

TEST(CApi, TokenizeDetokenizeRoundTripOnARealVocabulary) {
  PM_REQUIRE_FIXTURE(path, "gguf/qwen2-bpe-tiny-f16.gguf");
  pocketmind::Model model = pocketmind::Model::load(path);
  const std::string text = "Hello world, 你好! It's 12:30.";
  const std::vector<int32_t> tokens = model.tokenize(text, 0);
  EXPECT_EQ(model.detokenize(tokens), text);
  // With special tokens: the model's BOS in front, which renders only when asked.
  const std::vector<int32_t> with_bos = model.tokenize(text, PM_TOKENIZE_ADD_SPECIAL);
  ASSERT_EQ(with_bos.size(), tokens.size() + 1);
  EXPECT_EQ(model.detokenize(with_bos), text);
  EXPECT_GT(model.detokenize(with_bos, PM_DETOKENIZE_RENDER_SPECIAL).size(), text.size());
}

// ---- sessions -----------------------------------------------------------------------------------

TEST(CApi, EvalLogitsAndContextLimits) {
  ModelHolder h;
  pm_model* model = load_or_die(models().llama, h);
  ASSERT_TRUE(model);
  SessionHolder sh;
  pm_session* s = session_or_die(model, 16, sh);
  ASSERT_TRUE(s);
  ErrorHolder err;
  const float* logits = nullptr;
  size_t n_vocab = 0;
  EXPECT_EQ(pm_session_get_logits(s, &logits, &n_vocab, &err), PM_ERR_NOT_FOUND);
  err.reset();
  const int32_t tokens[] = {1, 300, 301, 302};
  ASSERT_EQ(pm_session_eval(s, tokens, 4, &err), PM_OK) << err.message();
  ASSERT_EQ(pm_session_get_logits(s, &logits, &n_vocab, nullptr), PM_OK);
  ASSERT_EQ(n_vocab, 512u);
  for (size_t i = 0; i < n_vocab; ++i) ASSERT_TRUE(std::isfinite(logits[i]));
  int64_t n_past = 0, n_ctx = 0;
  ASSERT_EQ(pm_session_get_position(s, &n_past, &n_ctx, nullptr), PM_OK);
  EXPECT_EQ(n_past, 4);
  EXPECT_EQ(n_ctx, 16);

  const std::vector<int32_t> many(13, 300);
  EXPECT_EQ(pm_session_eval(s, many.data(), many.size(), &err), PM_ERR_OUT_OF_RANGE);
  EXPECT_NE(err.message().find("context holds 12 more"), std::string::npos) << err.message();
  err.reset();
  const int32_t outside[] = {600};
  EXPECT_EQ(pm_session_eval(s, outside, 1, &err), PM_ERR_INVALID_ARGUMENT);
  EXPECT_NE(err.message().find("outside the vocabulary"), std::string::npos) << err.message();
  ASSERT_EQ(pm_session_reset(s, nullptr), PM_OK);
  ASSERT_EQ(pm_session_get_position(s, &n_past, nullptr, nullptr), PM_OK);
  EXPECT_EQ(n_past, 0);

  // An embedding model has no sessions.
  ModelHolder bh;
  pm_model* bert = load_or_die(models().bert, bh);
  ASSERT_TRUE(bert);
  pm_model_info info{};
  info.struct_size = sizeof info;
  ASSERT_EQ(pm_model_get_info(bert, &info, nullptr), PM_OK);
  EXPECT_EQ(info.is_embedding, 1);
  EXPECT_EQ(info.n_embd, 32);
  SessionHolder bs;
  err.reset();
  EXPECT_EQ(pm_session_create(bert, nullptr, &bs.s, &err), PM_ERR_INVALID_ARGUMENT);
  EXPECT_NE(err.message().find("pm_embedder_open"), std::string::npos) << err.message();
}

// ---- generation ---------------------------------------------------------------------------------

struct Stream {
  std::string text;
  int pieces = 0;
  int cancel_after = -1;  // stop once this many pieces arrived (-1: never)
};
int on_piece(const char* piece, size_t n, void* user_data) {
  auto* s = static_cast<Stream*>(user_data);
  s->text.append(piece, n);
  ++s->pieces;
  return s->cancel_after >= 0 && s->pieces >= s->cancel_after ? 1 : 0;
}

TEST(CApi, GenerateStreamsTheTextAndIsSeeded) {
  ModelHolder h;
  pm_model* model = load_or_die(models().llama, h);
  ASSERT_TRUE(model);
  SessionHolder sh;
  pm_session* s = session_or_die(model, 128, sh);
  ASSERT_TRUE(s);
  Stream stream;
  pm_generate_params p = params(24);
  p.on_text = on_piece;
  p.user_data = &stream;
  ResultHolder r;
  ErrorHolder err;
  ASSERT_EQ(pm_generate(s, "Once upon a time", &p, &r.r, &err), PM_OK) << err.message();
  EXPECT_EQ(r.r.finish, PM_FINISH_LENGTH);
  EXPECT_EQ(r.r.n_tokens, 24u);
  EXPECT_GT(r.r.n_prompt_tokens, 1);
  EXPECT_EQ(stream.text, r.text());
  EXPECT_GT(stream.pieces, 1);

  // The same seed from the same state gives the same tokens; the session kept the conversation.
  int64_t n_past = 0;
  ASSERT_EQ(pm_session_get_position(s, &n_past, nullptr, nullptr), PM_OK);
  EXPECT_EQ(n_past, r.r.n_prompt_tokens + 24);  // prompt + every generated token
  ASSERT_EQ(pm_session_reset(s, nullptr), PM_OK);
  ResultHolder again;
  p.on_text = nullptr;
  ASSERT_EQ(pm_generate(s, "Once upon a time", &p, &again.r, nullptr), PM_OK);
  EXPECT_EQ(again.tokens(), r.tokens());

  // A stop string taken from the middle of that text ends generation just before it.
  const std::string text = r.text();
  ASSERT_GT(text.size(), 12u);
  const std::string stop = text.substr(text.size() / 2, 5);
  const char* stops[] = {"never appears \x01", stop.c_str()};
  p.stop = stops;
  p.n_stop = 2;
  ASSERT_EQ(pm_session_reset(s, nullptr), PM_OK);
  ResultHolder stopped;
  ASSERT_EQ(pm_generate(s, "Once upon a time", &p, &stopped.r, nullptr), PM_OK);
  EXPECT_EQ(stopped.r.finish, PM_FINISH_STOP);
  EXPECT_EQ(stopped.text(), text.substr(0, text.find(stop)));

  // A result that still holds a generation is refused rather than leaked.
  err.reset();
  EXPECT_EQ(pm_generate(s, "more", &p, &stopped.r, &err), PM_ERR_INVALID_ARGUMENT);
  EXPECT_NE(err.message().find("pm_generate_result_clear"), std::string::npos) << err.message();
}

TEST(CApi, GenerateBadParameters) {
  ModelHolder h;
  pm_model* model = load_or_die(models().llama, h);
  ASSERT_TRUE(model);
  SessionHolder sh;
  pm_session* s = session_or_die(model, 64, sh);
  ASSERT_TRUE(s);
  struct Case {
    void (*edit)(pm_generate_params&);
    const char* message;
  };
  const Case cases[] = {
      {[](pm_generate_params& p) { p.temperature = -1; }, "temperature"},
      {[](pm_generate_params& p) { p.top_p = 0; }, "top_p"},
      {[](pm_generate_params& p) { p.max_tokens = 0; }, "max_tokens"},
      {[](pm_generate_params& p) { p.n_stop = 2; }, "params.stop is NULL"},
      {[](pm_generate_params& p) { p.struct_size = 0; }, "struct_size"},
      {[](pm_generate_params& p) { p.grammar_gbnf = "root ::= [a-"; }, "grammar_gbnf: grammar: line 1"},
      {[](pm_generate_params& p) { p.grammar_gbnf = "root ::= undefined-rule"; }, "grammar_gbnf"},
      {[](pm_generate_params& p) { p.json_schema = "{\"type\": \"object\","; }, "json_schema"},
      {[](pm_generate_params& p) { p.json_schema = "{\"type\": \"string\", \"minLength\": 5, \"maxLength\": 2}"; },
       "json_schema"},
      {[](pm_generate_params& p) {
         p.json_schema = "{}";
         p.grammar_gbnf = "root ::= \"a\"";
       },
       "at most one"},
  };
  for (const Case& c : cases) {
    pm_generate_params p = params(4);
    c.edit(p);
    ResultHolder r;
    ErrorHolder err;
    EXPECT_EQ(pm_generate(s, "hi", &p, &r.r, &err), PM_ERR_INVALID_ARGUMENT) << c.message;
    EXPECT_NE(err.message().find(c.message), std::string::npos) << err.message();
    EXPECT_EQ(r.r.text, nullptr);
  }
  ErrorHolder err;
  pm_generate_params p = params(4);
  EXPECT_EQ(pm_generate_tokens(s, nullptr, 0, &p, nullptr, &err), PM_ERR_INVALID_ARGUMENT);
  err.reset();
  const int32_t prompt[] = {1, 9999};
  EXPECT_EQ(pm_generate_tokens(s, prompt, 2, &p, nullptr, &err), PM_ERR_INVALID_ARGUMENT);
  EXPECT_NE(err.message().find("9999"), std::string::npos) << err.message();
}

TEST(CApi, CallbackCancelsGeneration) {
  ModelHolder h;
  pm_model* model = load_or_die(models().llama, h);
  ASSERT_TRUE(model);
  SessionHolder sh;
  pm_session* s = session_or_die(model, 128, sh);
  ASSERT_TRUE(s);
  Stream stream;
  stream.cancel_after = 3;
  pm_generate_params p = params(64);
  p.on_text = on_piece;
  p.user_data = &stream;
  ResultHolder r;
  ErrorHolder err;
  EXPECT_EQ(pm_generate(s, "Tell me a story", &p, &r.r, &err), PM_ERR_CANCELLED);
  EXPECT_NE(err.message().find("on_text"), std::string::npos) << err.message();
  EXPECT_EQ(stream.pieces, 3);
  EXPECT_EQ(r.r.finish, PM_FINISH_CANCELLED);
  EXPECT_EQ(r.text(), stream.text);  // what was generated so far is still handed back
  EXPECT_LT(r.r.n_tokens, 64u);

  // A C++ callback that throws through the C API: stopped, reported, nothing escapes.
  pm_generate_result_clear(&r.r);
  err.reset();
  p.on_text = [](const char*, size_t, void*) -> int { throw std::runtime_error("thrown by the callback"); };
  EXPECT_EQ(pm_generate(s, "Tell me", &p, &r.r, &err), PM_ERR_INTERNAL);
  EXPECT_NE(err.message().find("thrown by the callback"), std::string::npos) << err.message();
  EXPECT_EQ(r.r.text, nullptr);

  // The C++ wrapper: returning false is a normal end; an exception comes back out of generate().
  pocketmind::Model cpp = pocketmind::Model::load(models().llama);
  pocketmind::Session session = pocketmind::Session::create(cpp, 128);
  pocketmind::GenerateOptions o;
  o.max_tokens = 64;
  o.stop_at_eog = false;
  int pieces = 0;
  o.on_text = [&](std::string_view) { return ++pieces < 2; };
  pocketmind::Generation g = session.generate("Tell me a story", o);
  EXPECT_EQ(g.finish, PM_FINISH_CANCELLED);
  EXPECT_EQ(pieces, 2);
  o.on_text = [](std::string_view) -> bool { throw std::runtime_error("from the callback"); };
  session.reset();
  EXPECT_THROW(session.generate("Tell me a story", o), std::runtime_error);
  try {
    pocketmind::Model::load(models().dir + "/missing.gguf");
    ADD_FAILURE() << "no exception";
  } catch (const pocketmind::Error& e) {
    EXPECT_EQ(e.code(), PM_ERR_NOT_FOUND);
    EXPECT_NE(std::string(e.what()).find("missing.gguf"), std::string::npos);
  }
}

const char* const kPersonSchema = R"({
  "type": "object",
  "properties": {
    "name": {"type": "string", "minLength": 1, "maxLength": 12},
    "age": {"type": "integer", "minimum": 0, "maximum": 120},
    "pets": {"type": "array", "items": {"enum": ["cat", "dog"]}, "maxItems": 3}
  },
  "required": ["name", "age", "pets"],
  "additionalProperties": false
})";

void expect_person(const std::string& text) {
  nlohmann::json j = nlohmann::json::parse(text, nullptr, /*allow_exceptions=*/false);
  ASSERT_FALSE(j.is_discarded()) << "not JSON: " << text;
  ASSERT_TRUE(j.is_object()) << text;
  EXPECT_EQ(j.size(), 3u) << text;
  ASSERT_TRUE(j.contains("name") && j["name"].is_string()) << text;
  const size_t name_len = j["name"].get<std::string>().size();
  EXPECT_GE(name_len, 1u) << text;  // bytes >= code points
  ASSERT_TRUE(j.contains("age") && j["age"].is_number_integer()) << text;
  EXPECT_GE(j["age"].get<int64_t>(), 0) << text;
  EXPECT_LE(j["age"].get<int64_t>(), 120) << text;
  ASSERT_TRUE(j.contains("pets") && j["pets"].is_array()) << text;
  EXPECT_LE(j["pets"].size(), 3u) << text;
  for (const auto& p : j["pets"]) EXPECT_TRUE(p == "cat" || p == "dog") << text;
}

void constrained_generation(const std::string& model_path, int n_seeds) {
  ModelHolder h;
  pm_model* model = load_or_die(model_path, h);
  ASSERT_TRUE(model);
  for (int seed = 0; seed < n_seeds; ++seed) {
    SessionHolder sh;
    pm_session* s = session_or_die(model, 512, sh);
    ASSERT_TRUE(s);
    pm_generate_params p = params(400, uint64_t(seed));
    p.json_schema = kPersonSchema;
    ResultHolder r;
    ErrorHolder err;
    ASSERT_EQ(pm_generate(s, "Describe a person as JSON:", &p, &r.r, &err), PM_OK) << err.message();
    EXPECT_EQ(r.r.finish, PM_FINISH_EOG) << r.text();
    expect_person(r.text());
  }
  // A GBNF grammar.
  SessionHolder sh;
  pm_session* s = session_or_die(model, 128, sh);
  ASSERT_TRUE(s);
  pm_generate_params p = params(16);
  p.grammar_gbnf = "root ::= (\"yes\" | \"no\") \".\"";
  ResultHolder r;
  ASSERT_EQ(pm_generate(s, "Answer:", &p, &r.r, nullptr), PM_OK);
  EXPECT_TRUE(r.text() == "yes." || r.text() == "no.") << r.text();
  EXPECT_EQ(r.r.finish, PM_FINISH_EOG);
}

TEST(CApi, ConstrainedGenerationFollowsTheSchema) { constrained_generation(models().llama, 8); }

TEST(CApi, ConstrainedGenerationFollowsTheSchemaOnARealBpeVocabulary) {
  PM_REQUIRE_FIXTURE(path, "gguf/qwen2-bpe-tiny-f16.gguf");
  constrained_generation(path, 4);
}

// ---- session state ------------------------------------------------------------------------------

TEST(CApi, StateSaveLoadContinueGivesIdenticalTokens) {
  ModelHolder h;
  pm_model* model = load_or_die(models().llama, h);
  ASSERT_TRUE(model);
  SessionHolder ah;
  pm_session* a = session_or_die(model, 128, ah);
  ASSERT_TRUE(a);
  pm_generate_params p = params(12, 99);
  ResultHolder first;
  ASSERT_EQ(pm_generate(a, "The weather today is", &p, &first.r, nullptr), PM_OK);
  uint8_t* bytes = nullptr;
  size_t size = 0;
  ErrorHolder err;
  ASSERT_EQ(pm_session_state_save(a, &bytes, &size, &err), PM_OK) << err.message();
  std::vector<uint8_t> state(bytes, bytes + size);
  pm_bytes_free(bytes);
  const std::string file = models().dir + "/session.pmstate";
  ASSERT_EQ(pm_session_state_save_file(a, file.c_str(), nullptr), PM_OK);

  const int32_t more[] = {300, 301, 302};
  ResultHolder straight;
  ASSERT_EQ(pm_generate_tokens(a, more, 3, &p, &straight.r, nullptr), PM_OK);

  // From bytes, into a session with another context size (as after the app was restarted).
  SessionHolder bh;
  pm_session* b = session_or_die(model, 64, bh);
  ASSERT_TRUE(b);
  ASSERT_EQ(pm_session_state_load(b, state.data(), state.size(), &err), PM_OK) << err.message();
  ResultHolder resumed;
  ASSERT_EQ(pm_generate_tokens(b, more, 3, &p, &resumed.r, nullptr), PM_OK);
  EXPECT_EQ(resumed.tokens(), straight.tokens());
  EXPECT_EQ(resumed.text(), straight.text());

  // From the file.
  SessionHolder ch;
  pm_session* c = session_or_die(model, 128, ch);
  ASSERT_TRUE(c);
  ASSERT_EQ(pm_session_state_load_file(c, file.c_str(), &err), PM_OK) << err.message();
  ResultHolder from_file;
  ASSERT_EQ(pm_generate_tokens(c, more, 3, &p, &from_file.r, nullptr), PM_OK);
  EXPECT_EQ(from_file.tokens(), straight.tokens());

  // Damaged bytes, a truncated state, a missing file: refused, and the session is unchanged.
  int64_t before = 0, after = 0;
  ASSERT_EQ(pm_session_get_position(c, &before, nullptr, nullptr), PM_OK);
  std::vector<uint8_t> damaged = state;
  damaged[damaged.size() / 2] ^= 0x5A;
  err.reset();
  EXPECT_EQ(pm_session_state_load(c, damaged.data(), damaged.size(), &err), PM_ERR_CORRUPT);
  EXPECT_NE(err.message().find("checksum"), std::string::npos) << err.message();
  err.reset();
  EXPECT_EQ(pm_session_state_load(c, state.data(), 7, &err), PM_ERR_CORRUPT);
  err.reset();
  const std::string missing = models().dir + "/no-such.pmstate";
  EXPECT_EQ(pm_session_state_load_file(c, missing.c_str(), &err), PM_ERR_NOT_FOUND);
  EXPECT_NE(err.message().find("no-such.pmstate"), std::string::npos) << err.message();
  ASSERT_EQ(pm_session_get_position(c, &after, nullptr, nullptr), PM_OK);
  EXPECT_EQ(before, after);

  // Another model's state.
  ModelHolder oh;
  pm_model* other = load_or_die(models().llama_other, oh);
  ASSERT_TRUE(other);
  SessionHolder dh;
  pm_session* d = session_or_die(other, 128, dh);
  ASSERT_TRUE(d);
  err.reset();
  EXPECT_EQ(pm_session_state_load(d, state.data(), state.size(), &err), PM_ERR_INVALID_ARGUMENT);
  EXPECT_NE(err.message().find("different model"), std::string::npos) << err.message();

  // C++ wrapper: the same round trip.
  pocketmind::Model cpp = pocketmind::Model::load(models().llama);
  pocketmind::Session s1 = pocketmind::Session::create(cpp, 128);
  s1.load_state(state);
  pocketmind::GenerateOptions o;
  o.max_tokens = 12;
  o.seed = 99;
  o.stop_at_eog = false;
  EXPECT_EQ(s1.generate(std::vector<int32_t>{300, 301, 302}, o).tokens, straight.tokens());
  EXPECT_THROW(pocketmind::Session::create(cpp, 128).load_state(damaged), pocketmind::Error);
}

TEST(CApi, SessionsWithTheirOwnThreadsRunConcurrently) {
  ModelHolder h;
  pm_model* model = load_or_die(models().llama, h);
  ASSERT_TRUE(model);
  auto run = [&](uint64_t seed, std::vector<int32_t>* out) {
    pm_session_options o;
    pm_session_options_init(&o);
    o.n_ctx = 64;
    o.n_threads = 1;
    pm_session* s = nullptr;
    if (pm_session_create(model, &o, &s, nullptr) != PM_OK) return;
    pm_generate_params p = params(16, seed);
    pm_generate_result r;
    pm_generate_result_init(&r);
    if (pm_generate(s, "In parallel", &p, &r, nullptr) == PM_OK) out->assign(r.tokens, r.tokens + r.n_tokens);
    pm_generate_result_clear(&r);
    pm_session_free(s);
  };
  std::vector<int32_t> seq1, seq2, par1, par2;
  run(1, &seq1);
  run(2, &seq2);
  std::thread t1(run, 1, &par1), t2(run, 2, &par2);
  t1.join();
  t2.join();
  EXPECT_EQ(seq1.size(), 16u);
  EXPECT_EQ(par1, seq1);
  EXPECT_EQ(par2, seq2);
}

// ---- embeddings ---------------------------------------------------------------------------------

TEST(CApi, EmbeddingsHaveTheModelsDimAndAreFinite) {
  pm_embedder* e = nullptr;
  ErrorHolder err;
  ASSERT_EQ(pm_embedder_open(models().bert.c_str(), 2, &e, &err), PM_OK) << err.message();
  std::unique_ptr<pm_embedder, void (*)(pm_embedder*)> owned(e, pm_embedder_free);
  int64_t dim = 0;
  ASSERT_EQ(pm_embedder_get_dim(e, &dim, nullptr), PM_OK);
  EXPECT_EQ(dim, 32);
  const char* texts[] = {"first text", "第二段文字", "a third, longer text with more words in it"};
  std::vector<float> v(3 * size_t(dim));
  ASSERT_EQ(pm_embed(e, texts, 3, 0, v.data(), v.size(), &err), PM_OK) << err.message();
  for (int i = 0; i < 3; ++i) {
    double norm = 0;
    for (int64_t j = 0; j < dim; ++j) {
      const float x = v[size_t(i * dim + j)];
      ASSERT_TRUE(std::isfinite(x));
      norm += double(x) * x;
    }
    EXPECT_NEAR(norm, 1.0, 1e-4);
  }
  std::vector<float> raw(3 * size_t(dim));
  ASSERT_EQ(pm_embed(e, texts, 3, PM_EMBED_NO_NORMALIZE | PM_EMBED_POOL_MEAN, raw.data(), raw.size(), nullptr), PM_OK);
  for (float x : raw) ASSERT_TRUE(std::isfinite(x));
  EXPECT_NE(raw, v);

  EXPECT_EQ(pm_embed(e, texts, 3, 0, v.data(), v.size() - 1, &err), PM_ERR_OUT_OF_RANGE);
  EXPECT_NE(err.message().find("96 floats"), std::string::npos) << err.message();
  err.reset();
  const char* with_null[] = {"x", nullptr};
  EXPECT_EQ(pm_embed(e, with_null, 2, 0, v.data(), v.size(), &err), PM_ERR_INVALID_ARGUMENT);
  EXPECT_EQ(err.message(), "texts[1] is NULL");
  err.reset();
  EXPECT_EQ(pm_embed(e, texts, 1, PM_EMBED_POOL_MEAN | PM_EMBED_POOL_CLS, v.data(), v.size(), nullptr),
            PM_ERR_INVALID_ARGUMENT);
  pm_embedder* bad = nullptr;
  EXPECT_EQ(pm_embedder_open(models().llama.c_str(), 1, &bad, &err), PM_ERR_INVALID_ARGUMENT) << err.message();
  EXPECT_EQ(bad, nullptr);

  pocketmind::Embedder cpp = pocketmind::Embedder::open(models().bert, 1);
  EXPECT_EQ(cpp.embed({"first text"}), std::vector<float>(v.begin(), v.begin() + dim));
}

// ---- store --------------------------------------------------------------------------------------

const char* const kRecords =
    "{\"id\": \"sms-1\", \"source\": \"sms\", \"time\": \"2026-11-20T08:15:00+08:00\", \"sender\": \"Mom\", "
    "\"text\": \"Are you coming home for dinner on Saturday?\"}\n"
    "{\"id\": \"note-1\", \"source\": \"note\", \"time\": \"2026-11-21T10:00:00+08:00\", "
    "\"text\": \"Buy noodles and tea for the weekend dinner\"}\r\n"
    "\n"
    "{\"id\": \"note-2\", \"source\": \"note\", \"time\": \"2026-11-22T10:00:00+08:00\", \"text\": \"Dentist on Monday\"}\n"
    "{\"id\": \"bad-1\", \"source\": \"sms\", \"text\": \"no time field\"}\n";

// Encryption at rest through the C API (PM_API_VERSION 3): the passphrase creates and then unlocks the
// store; on disk no record text is readable; a plain open, a wrong passphrase, NULL or empty ones are
// refused with the reason; changing the passphrase retires the old one.
TEST(CApi, EncryptedStoreOpensOnlyWithItsPassphrase) {
  ASSERT_GE(pm_api_version(), 3);
  const std::string dir = pm::test::temp_dir() + "/secret";
  const char* pass = "蓝色 walrus 42";
  ErrorHolder err;
  pm_store* store = nullptr;
  EXPECT_EQ(pm_store_open_encrypted(dir.c_str(), 0, nullptr, &store, &err), PM_ERR_INVALID_ARGUMENT);
  EXPECT_NE(err.message().find("passphrase"), std::string::npos) << err.message();
  err.reset();
  EXPECT_EQ(pm_store_open_encrypted(dir.c_str(), 0, "", &store, &err), PM_ERR_INVALID_ARGUMENT);
  err.reset();
  EXPECT_EQ(pm_store_open_encrypted(dir.c_str(), PM_STORE_NO_CREATE, pass, &store, &err), PM_ERR_NOT_FOUND);
  err.reset();
  ASSERT_EQ(pm_store_open_encrypted(dir.c_str(), 0, pass, &store, &err), PM_OK) << err.message();
  pm_ingest_counts c;
  pm_ingest_counts_init(&c);
  ASSERT_EQ(pm_store_ingest_jsonl(store, kRecords, std::strlen(kRecords), "test", &c, &err), PM_OK) << err.message();
  EXPECT_EQ(c.added, 3);
  pm_string_free(c.first_rejection);
  pm_store_close(store);
  store = nullptr;

  // Every file of the store directory: no record text in the clear.
  for (const auto& f : std::filesystem::directory_iterator(dir)) {
    const std::string bytes = pm::test::read_text(f.path().string());
    EXPECT_EQ(bytes.find("Dentist"), std::string::npos) << f.path();
  }
  EXPECT_TRUE(std::filesystem::exists(std::filesystem::path(dir) / "store.key"));

  EXPECT_EQ(pm_store_open(dir.c_str(), 0, &store, &err), PM_ERR_INVALID_ARGUMENT);
  EXPECT_NE(err.message().find("encrypted"), std::string::npos) << err.message();
  err.reset();
  EXPECT_EQ(pm_store_open_encrypted(dir.c_str(), 0, "walrus 42", &store, &err), PM_ERR_INVALID_ARGUMENT);
  EXPECT_NE(err.message().find("wrong passphrase"), std::string::npos) << err.message();
  EXPECT_EQ(store, nullptr);
  err.reset();

  ASSERT_EQ(pm_store_open_encrypted(dir.c_str(), PM_STORE_NO_CREATE, pass, &store, &err), PM_OK) << err.message();
  char* json = nullptr;
  ASSERT_EQ(pm_store_search(store, "dentist", 5, "2026-11-25T12:00:00+08:00", &json, &err), PM_OK) << err.message();
  const nlohmann::json j = nlohmann::json::parse(json);
  pm_string_free(json);
  ASSERT_EQ(j["hits"].size(), 1u) << j.dump();
  EXPECT_EQ(j["hits"][0]["id"], "note-2");

  // A new passphrase, while the store is open: the open handle keeps working.
  EXPECT_EQ(pm_store_change_passphrase(dir.c_str(), "nope", "new one", &err), PM_ERR_INVALID_ARGUMENT);
  err.reset();
  EXPECT_EQ(pm_store_change_passphrase(dir.c_str(), pass, nullptr, &err), PM_ERR_INVALID_ARGUMENT);
  err.reset();
  ASSERT_EQ(pm_store_change_passphrase(dir.c_str(), pass, "新的口令", &err), PM_OK) << err.message();
  int64_t n = 0;
  ASSERT_EQ(pm_store_count(store, &n, nullptr), PM_OK);
  EXPECT_EQ(n, 3);
  pm_store_close(store);
  store = nullptr;
  EXPECT_EQ(pm_store_open_encrypted(dir.c_str(), 0, pass, &store, &err), PM_ERR_INVALID_ARGUMENT);
  err.reset();
  {
    pocketmind::Store again = pocketmind::Store::open_encrypted(dir, "新的口令", false);
    EXPECT_NE(again.search("dentist", 5).find("note-2"), std::string::npos);
  }
  EXPECT_THROW(pocketmind::Store::open_encrypted(dir, "old news", false), pocketmind::Error);

  // A plain store refuses a passphrase (it would otherwise look unlocked while writing plaintext).
  const std::string plain = pm::test::temp_dir() + "/plain";
  ASSERT_EQ(pm_store_open(plain.c_str(), 0, &store, &err), PM_OK) << err.message();
  pm_store_close(store);
  store = nullptr;
  EXPECT_EQ(pm_store_open_encrypted(plain.c_str(), 0, pass, &store, &err), PM_ERR_INVALID_ARGUMENT);
  EXPECT_NE(err.message().find("not encrypted"), std::string::npos) << err.message();
}

TEST(CApi, StoreIngestSearchForgetRoundTrip) {
  const std::string dir = pm::test::temp_dir() + "/store";
  ErrorHolder err;
  pm_store* store = nullptr;
  EXPECT_EQ(pm_store_open(dir.c_str(), PM_STORE_NO_CREATE, &store, &err), PM_ERR_NOT_FOUND);
  EXPECT_EQ(store, nullptr);
  err.reset();
  ASSERT_EQ(pm_store_open(dir.c_str(), 0, &store, &err), PM_OK) << err.message();
  std::unique_ptr<pm_store, void (*)(pm_store*)> owned(store, pm_store_close);

  pm_ingest_counts c;
  pm_ingest_counts_init(&c);
  ASSERT_EQ(pm_store_ingest_jsonl(store, kRecords, std::strlen(kRecords), "test", &c, &err), PM_OK) << err.message();
  EXPECT_EQ(c.added, 3);
  EXPECT_EQ(c.rejected, 1);
  ASSERT_NE(c.first_rejection, nullptr);
  EXPECT_NE(std::string(c.first_rejection).find("line 5"), std::string::npos) << c.first_rejection;
  EXPECT_NE(std::string(c.first_rejection).find("time"), std::string::npos) << c.first_rejection;
  // A counts struct that still holds the rejection string is refused, not leaked.
  EXPECT_EQ(pm_store_ingest_jsonl(store, "", 0, nullptr, &c, &err), PM_ERR_INVALID_ARGUMENT);
  err.reset();
  pm_string_free(c.first_rejection);
  pm_ingest_counts_init(&c);
  // Re-ingesting is idempotent; a changed record replaces the old one.
  ASSERT_EQ(pm_store_ingest_jsonl(store, kRecords, std::strlen(kRecords), nullptr, &c, nullptr), PM_OK);
  EXPECT_EQ(c.unchanged, 3);
  EXPECT_EQ(c.added, 0);
  pm_string_free(c.first_rejection);
  pm_ingest_counts_init(&c);
  const std::string changed =
      "{\"id\": \"note-2\", \"source\": \"note\", \"time\": \"2026-11-22T10:00:00+08:00\", \"text\": \"Dentist on "
      "Tuesday\"}";
  ASSERT_EQ(pm_store_ingest_jsonl(store, changed.data(), changed.size(), nullptr, &c, nullptr), PM_OK);
  EXPECT_EQ(c.replaced, 1);
  EXPECT_EQ(c.first_rejection, nullptr);
  int64_t n = 0;
  ASSERT_EQ(pm_store_count(store, &n, nullptr), PM_OK);
  EXPECT_EQ(n, 3);

  char* json = nullptr;
  ASSERT_EQ(pm_store_search(store, "dinner", 5, "2026-11-25T12:00:00+08:00", &json, &err), PM_OK) << err.message();
  nlohmann::json j = nlohmann::json::parse(json);
  pm_string_free(json);
  ASSERT_TRUE(j["hits"].is_array());
  std::vector<std::string> ids;
  for (const auto& h : j["hits"]) ids.push_back(h["id"]);
  EXPECT_EQ(ids.size(), 2u) << j.dump();
  EXPECT_NE(std::find(ids.begin(), ids.end(), "sms-1"), ids.end()) << j.dump();
  EXPECT_EQ(j["mode"], "lexical");
  EXPECT_TRUE(j["hits"][0]["score"].is_number());

  EXPECT_EQ(pm_store_search(store, "dinner", 0, nullptr, &json, &err), PM_ERR_INVALID_ARGUMENT);
  EXPECT_EQ(json, nullptr);
  err.reset();
  EXPECT_EQ(pm_store_search(store, "dinner", 5, "yesterday-ish", &json, &err), PM_ERR_INVALID_ARGUMENT);
  EXPECT_NE(err.message().find("now_iso8601"), std::string::npos) << err.message();
  err.reset();

  int64_t removed = 0;
  ASSERT_EQ(pm_store_forget_id(store, "sms-1", &removed, nullptr), PM_OK);
  EXPECT_EQ(removed, 1);
  ASSERT_EQ(pm_store_search(store, "dinner", 5, "2026-11-25T12:00:00+08:00", &json, nullptr), PM_OK);
  j = nlohmann::json::parse(json);
  pm_string_free(json);
  ASSERT_EQ(j["hits"].size(), 1u) << j.dump();
  EXPECT_EQ(j["hits"][0]["id"], "note-1");
  ASSERT_EQ(pm_store_forget_source(store, "note", &removed, nullptr), PM_OK);
  EXPECT_EQ(removed, 2);
  ASSERT_EQ(pm_store_count(store, &n, nullptr), PM_OK);
  EXPECT_EQ(n, 0);

  // A file, by its format; a missing file.
  const std::string file = dir + "-input.jsonl";
  std::ofstream(file) << kRecords;
  pm_ingest_counts_init(&c);
  ASSERT_EQ(pm_store_ingest_file(store, file.c_str(), nullptr, &c, &err), PM_OK) << err.message();
  EXPECT_EQ(c.added, 3);
  EXPECT_EQ(c.rejected, 1);
  pm_string_free(c.first_rejection);
  pm_ingest_counts_init(&c);
  const std::string missing = dir + "/missing.jsonl";
  EXPECT_EQ(pm_store_ingest_file(store, missing.c_str(), nullptr, &c, &err), PM_ERR_NOT_FOUND);
  EXPECT_NE(err.message().find("missing.jsonl"), std::string::npos) << err.message();
}

TEST(CApi, StoreWithAnEmbedderSearchesHybrid) {
  const std::string dir = pm::test::temp_dir() + "/store-embed";
  pocketmind::Embedder embedder = pocketmind::Embedder::open(models().bert, 2);
  pocketmind::Store store = pocketmind::Store::open(dir);
  store.set_embedder(&embedder);
  pocketmind::IngestCounts c = store.ingest_jsonl(kRecords);
  EXPECT_EQ(c.added, 3);
  EXPECT_EQ(c.embedded, 3);
  EXPECT_FALSE(c.first_rejection.empty());
  nlohmann::json j = nlohmann::json::parse(store.search("dinner", 3, "2026-11-25T12:00:00+08:00"));
  EXPECT_EQ(j["mode"], "hybrid") << j.dump();
  EXPECT_FALSE(j["hits"].empty()) << j.dump();
  EXPECT_EQ(store.forget_id("sms-1"), 1);
  EXPECT_EQ(store.count(), 2);
  store.set_embedder(nullptr);
  j = nlohmann::json::parse(store.search("dinner", 3, "2026-11-25T12:00:00+08:00"));
  EXPECT_EQ(j["mode"], "lexical") << j.dump();
  EXPECT_THROW(pocketmind::Store::open(dir + "/nope", false), pocketmind::Error);
}

// The tool registry of an encrypted store is encrypted with its key, which the pm_tools_* calls do
// not take: they refuse with the reason and never create a plaintext automations.sqlite beside it.
TEST(CApi, ToolsOfAnEncryptedStoreAreRefusedWithoutAPlainFile) {
  const std::string dir = pm::test::temp_dir() + "/secret-tools";
  ErrorHolder err;
  pm_store* store = nullptr;
  ASSERT_EQ(pm_store_open_encrypted(dir.c_str(), 0, "tools 口令", &store, &err), PM_OK) << err.message();
  pm_store_close(store);
  const char* schema = R"({"type": "object", "properties": {"dish": {"type": "string"}}})";
  EXPECT_EQ(pm_tools_register(dir.c_str(), "food_app.order", "点外卖", schema, &err), PM_ERR_INVALID_ARGUMENT);
  EXPECT_NE(err.message().find("passphrase"), std::string::npos) << err.message();
  err.reset();
  EXPECT_FALSE(std::filesystem::exists(dir + "/automations.sqlite"));
  char* json = nullptr;
  ASSERT_EQ(pm_tools_list(dir.c_str(), 0, &json, &err), PM_OK) << err.message();  // nothing registered yet
  pm_string_free(json);
}

// The registry through an open store handle (PM_API_VERSION 4): on an encrypted store the handle's
// key reads and writes automations.sqlite, which stays encrypted; the directory calls still refuse.
TEST(CApi, ToolsThroughAnEncryptedStoreHandle) {
  ASSERT_GE(pm_api_version(), 4);
  const std::string dir = pm::test::temp_dir() + "/secret-tools-in";
  ErrorHolder err;
  pm_store* store = nullptr;
  ASSERT_EQ(pm_store_open_encrypted(dir.c_str(), 0, "tools 口令", &store, &err), PM_OK) << err.message();
  const char* schema = R"({"type": "object", "properties": {"dish": {"type": "string"}}})";
  ASSERT_EQ(pm_tools_register_in(store, "secretfood_app.order", "点外卖 order food", schema, &err), PM_OK)
      << err.message();
  char* json = nullptr;
  ASSERT_EQ(pm_tools_list_in(store, 0, &json, &err), PM_OK) << err.message();
  nlohmann::json j = nlohmann::json::parse(json);
  pm_string_free(json);
  ASSERT_EQ(j["tools"].size(), 1u) << j.dump();
  EXPECT_EQ(j["tools"][0]["name"], "secretfood_app.order");
  EXPECT_EQ(j["tools"][0]["parameters"], nlohmann::json::parse(schema));
  // On disk: neither the name nor the description in the clear (the WAL included).
  for (const char* f : {"/automations.sqlite", "/automations.sqlite-wal"}) {
    if (!std::filesystem::exists(dir + f)) continue;
    const std::string bytes = pm::test::read_text(dir + f);
    EXPECT_EQ(bytes.find("secretfood_app"), std::string::npos) << f;
    EXPECT_EQ(bytes.find("order food"), std::string::npos) << f;
  }
  EXPECT_TRUE(std::filesystem::exists(dir + "/automations.sqlite"));
  // The directory calls have no key: refused, as before.
  EXPECT_EQ(pm_tools_list(dir.c_str(), 0, &json, &err), PM_ERR_INVALID_ARGUMENT);
  EXPECT_NE(err.message().find("passphrase"), std::string::npos) << err.message();
  err.reset();
  EXPECT_EQ(pm_tools_remove(dir.c_str(), "secretfood_app.order", &err), PM_ERR_INVALID_ARGUMENT);
  err.reset();
  // The same errors as the directory calls.
  EXPECT_EQ(pm_tools_register_in(store, "secretfood_app.order", "d", schema, &err), PM_ERR_INVALID_ARGUMENT);
  EXPECT_NE(err.message().find("already registered"), std::string::npos) << err.message();
  err.reset();
  EXPECT_EQ(pm_tools_register_in(nullptr, "x.y", "d", schema, &err), PM_ERR_INVALID_ARGUMENT);
  EXPECT_EQ(err.message(), "store is NULL");
  err.reset();
  EXPECT_EQ(pm_tools_list_in(store, 8, &json, &err), PM_ERR_INVALID_ARGUMENT);
  EXPECT_EQ(json, nullptr);
  err.reset();
  // A second handle unlocked with the passphrase sees the tool; removing it through the handle works.
  pm_store_close(store);
  store = nullptr;
  ASSERT_EQ(pm_store_open_encrypted(dir.c_str(), PM_STORE_NO_CREATE, "tools 口令", &store, &err), PM_OK);
  ASSERT_EQ(pm_tools_remove_in(store, "secretfood_app.order", &err), PM_OK) << err.message();
  EXPECT_EQ(pm_tools_remove_in(store, "secretfood_app.order", &err), PM_ERR_NOT_FOUND);
  err.reset();
  ASSERT_EQ(pm_tools_list_in(store, PM_TOOLS_INCLUDE_BUILTIN, &json, &err), PM_OK) << err.message();
  j = nlohmann::json::parse(json);
  pm_string_free(json);
  for (const auto& t : j["tools"]) EXPECT_EQ(t["builtin"], true) << t.dump();
  pm_store_close(store);
}

// A plain store's handle reaches the same registry as its directory; the C++ wrapper's Store methods.
TEST(CApi, ToolsThroughAPlainStoreHandle) {
  const std::string dir = pm::test::temp_dir() + "/plain-tools-in";
  pocketmind::Store store = pocketmind::Store::open(dir);
  const std::string schema = R"({"type": "object", "properties": {"dish": {"type": "string"}}})";
  EXPECT_EQ(nlohmann::json::parse(store.list_tools())["tools"].size(), 0u);
  EXPECT_FALSE(std::filesystem::exists(dir + "/automations.sqlite"));  // listing creates nothing
  store.register_tool("food_app.order", "点外卖", schema);
  char* json = nullptr;
  ASSERT_EQ(pm_tools_list(dir.c_str(), 0, &json, nullptr), PM_OK);
  nlohmann::json j = nlohmann::json::parse(json);
  pm_string_free(json);
  ASSERT_EQ(j["tools"].size(), 1u);
  EXPECT_EQ(j["tools"][0]["name"], "food_app.order");
  EXPECT_NE(pm::test::read_text(dir + "/automations.sqlite").find("food_app.order"), std::string::npos);
  EXPECT_THROW(store.register_tool("alarm.set", "d", schema), pocketmind::Error);
  store.remove_tool("food_app.order");
  EXPECT_EQ(nlohmann::json::parse(store.list_tools())["tools"].size(), 0u);
}

// Third-party tools (PM_API_VERSION 2): an app registers a tool in a store directory; the CLI's
// automation verbs and the scheduler then see it (tool_store_test covers those).
TEST(CApi, ToolsRegisterListRemove) {
  ASSERT_GE(pm_api_version(), 2);
  const std::string dir = pm::test::temp_dir() + "/tools";
  const char* schema = R"({"type": "object", "properties": {"dish": {"type": "string"}}, "required": ["dish"]})";
  ErrorHolder err;
  ASSERT_EQ(pm_tools_register(dir.c_str(), "food_app.order", "点外卖 Order food", schema, &err), PM_OK) << err.message();
  char* json = nullptr;
  ASSERT_EQ(pm_tools_list(dir.c_str(), 0, &json, &err), PM_OK) << err.message();
  nlohmann::json j = nlohmann::json::parse(json);
  pm_string_free(json);
  ASSERT_EQ(j["tools"].size(), 1u);
  EXPECT_EQ(j["tools"][0]["name"], "food_app.order");
  EXPECT_EQ(j["tools"][0]["description"], "点外卖 Order food");
  EXPECT_EQ(j["tools"][0]["parameters"], nlohmann::json::parse(schema));
  EXPECT_EQ(j["tools"][0]["builtin"], false);
  ASSERT_EQ(pm_tools_list(dir.c_str(), PM_TOOLS_INCLUDE_BUILTIN, &json, &err), PM_OK);
  j = nlohmann::json::parse(json);
  pm_string_free(json);
  EXPECT_GT(j["tools"].size(), 1u);
  EXPECT_EQ(j["tools"][0]["builtin"], true);

  // Errors carry a code and a message naming what was wrong; nothing is saved.
  EXPECT_EQ(pm_tools_register(dir.c_str(), "alarm.set", "d", schema, &err), PM_ERR_INVALID_ARGUMENT);
  EXPECT_NE(err.message().find("built-in"), std::string::npos) << err.message();
  err.reset();
  EXPECT_EQ(pm_tools_register(dir.c_str(), "food_app.order", "d", schema, &err), PM_ERR_INVALID_ARGUMENT);
  EXPECT_NE(err.message().find("already registered"), std::string::npos) << err.message();
  err.reset();
  EXPECT_EQ(pm_tools_register(dir.c_str(), "x.y", "d", "{oops", &err), PM_ERR_INVALID_ARGUMENT);
  EXPECT_NE(err.message().find("schema_json"), std::string::npos) << err.message();
  err.reset();
  EXPECT_EQ(pm_tools_register(dir.c_str(), "x.y", "", schema, &err), PM_ERR_INVALID_ARGUMENT);
  err.reset();
  EXPECT_EQ(pm_tools_register(nullptr, "x.y", "d", schema, &err), PM_ERR_INVALID_ARGUMENT);
  EXPECT_EQ(err.message(), "dir is NULL");
  err.reset();
  EXPECT_EQ(pm_tools_list(dir.c_str(), 0, nullptr, &err), PM_ERR_INVALID_ARGUMENT);
  err.reset();
  EXPECT_EQ(pm_tools_list(dir.c_str(), 8, &json, &err), PM_ERR_INVALID_ARGUMENT);
  err.reset();

  EXPECT_EQ(pm_tools_remove(dir.c_str(), "food_app.order", &err), PM_OK) << err.message();
  EXPECT_EQ(pm_tools_remove(dir.c_str(), "food_app.order", &err), PM_ERR_NOT_FOUND);
  err.reset();
  ASSERT_EQ(pm_tools_list(dir.c_str(), 0, &json, nullptr), PM_OK);
  EXPECT_EQ(nlohmann::json::parse(json)["tools"].size(), 0u);
  pm_string_free(json);
  // A directory without a registry: an empty list, and nothing is created.
  const std::string none = pm::test::temp_dir() + "/no-tools";
  ASSERT_EQ(pm_tools_list(none.c_str(), 0, &json, nullptr), PM_OK);
  EXPECT_EQ(nlohmann::json::parse(json)["tools"].size(), 0u);
  pm_string_free(json);
}

// The C++ wrapper: the same registry, errors as pocketmind::Error with the C code.
TEST(CApi, ToolsThroughTheCppWrapper) {
  const std::string dir = pm::test::temp_dir() + "/tools";
  const std::string schema = R"({"type": "object", "properties": {"to": {"type": "string"}}})";
  pocketmind::register_tool(dir, "taxi_app.order", "叫车 Order a taxi", schema);
  nlohmann::json j = nlohmann::json::parse(pocketmind::list_tools(dir));
  ASSERT_EQ(j["tools"].size(), 1u);
  EXPECT_EQ(j["tools"][0]["name"], "taxi_app.order");
  EXPECT_GT(nlohmann::json::parse(pocketmind::list_tools(dir, true))["tools"].size(), 1u);
  try {
    pocketmind::register_tool(dir, "alarm.set", "d", schema);
    ADD_FAILURE() << "a built-in name was accepted";
  } catch (const pocketmind::Error& e) {
    EXPECT_EQ(e.code(), PM_ERR_INVALID_ARGUMENT);
    EXPECT_NE(std::string(e.what()).find("built-in"), std::string::npos) << e.what();
  }
  pocketmind::remove_tool(dir, "taxi_app.order");
  EXPECT_EQ(nlohmann::json::parse(pocketmind::list_tools(dir))["tools"].size(), 0u);
  EXPECT_THROW(pocketmind::remove_tool(dir, "taxi_app.order"), pocketmind::Error);
}

}  // namespace
