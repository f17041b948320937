// Grammar engine, JSON Schema compiler and constrained generation over real vocabularies.
#include <fstream>
#include <filesystem>
#include <random>
#include <regex>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "formats/gguf.h"
#include "generate/grammar/grammar.h"
#include "generate/grammar/json_schema.h"
#include "generate/grammar/matcher.h"
#include "generate/sampler.h"
#include "test_util.h"
#include "tokenizer/tokenizer.h"

namespace pm {
namespace {

using Json = nlohmann::ordered_json;

std::shared_ptr<const TokenTrie> byte_trie() {
  std::vector<std::string> pieces;
  for (int b = 0; b < 256; ++b) pieces.push_back(std::string(1, char(b)));
  pieces.push_back("");  // id 256: end of generation
  return TokenTrie::build(pieces, {256});
}

std::shared_ptr<GrammarEngine> engine_for(const std::string& gbnf, std::shared_ptr<const TokenTrie> trie = byte_trie()) {
  Result<std::shared_ptr<const Grammar>> g = parse_grammar(gbnf);
  EXPECT_TRUE(g.is_ok()) << g.status().to_string() << "\n" << gbnf;
  if (!g.is_ok()) return nullptr;
  return std::make_shared<GrammarEngine>(*g, std::move(trie));
}

bool matches(const std::shared_ptr<GrammarEngine>& e, const std::string& s) {
  GrammarMatcher m(e);
  return m.accept_bytes(s) && m.is_accepting();
}

TEST(Grammar, ParsesGbnfAndMatches) {
  auto e = engine_for(R"(
    root ::= greeting (", " name)? "!"{1,3}   # comment
    greeting ::= "hello" | "hi"
    name ::= [A-Z] [a-z]* | "世界"
  )");
  ASSERT_TRUE(e);
  for (const char* ok : {"hello!", "hi, Bob!!", "hello, 世界!!!", "hi, X!"}) EXPECT_TRUE(matches(e, ok)) << ok;
  for (const char* bad : {"hello", "hi, bob!", "hello!!!!", "hi, 世!", ""}) EXPECT_FALSE(matches(e, bad)) << bad;
}

TEST(Grammar, ClassesNegationEscapesAndUtf8) {
  auto e = engine_for(R"(root ::= [^a-z\n"] [\u00e9-\u00ea] "\x41\t" .)");
  ASSERT_TRUE(e);
  EXPECT_TRUE(matches(e, "Zé" "A\t" "x"));
  EXPECT_TRUE(matches(e, "日ê" "A\t" "😀"));
  EXPECT_FALSE(matches(e, "aé" "A\tx"));
  EXPECT_FALSE(matches(e, "Zè" "A\tx"));
  // Byte by byte: a partial UTF-8 character is a live prefix, a wrong continuation is not.
  GrammarMatcher m(e);
  EXPECT_TRUE(m.accept_bytes("\xE6\x97"));
  EXPECT_FALSE(m.accept_bytes("\x41"));
  EXPECT_TRUE(m.accept_bytes("\xA5"));
}

TEST(Grammar, ErrorsNameLineAndColumn) {
  struct Case { const char* text; const char* expect; };
  const Case cases[] = {
      {"root ::= \"abc", "line 1, column 10: unterminated string literal"},
      {"root ::= a\n", "undefined rule 'a'"},
      {"root ::= [a-\n", "unterminated character class"},
      {"root ::= (\"a\"\nx ::= \"b\"", "expected ')'"},
      {"root ::= \"a\"{3,2}", "n < m"},
      {"root ::= root \"a\" | \"b\"", "left-recursive"},
      {"root ::= \"a\" root", "matches no finite string"},
      {"foo ::= \"a\"", "no rule named 'root'"},
      {"root ::= \"\\q\"", "unknown escape"},
      {"root ::= \"a\"\nroot ::= \"b\"", "line 2, column 1: rule 'root' is defined twice"},
      {"root ::= [^\\U00000000-\\U0010FFFF]", "matches nothing"},
  };
  for (const Case& c : cases) {
    Result<std::shared_ptr<const Grammar>> g = parse_grammar(c.text);
    ASSERT_FALSE(g.is_ok()) << c.text;
    EXPECT_NE(g.status().message().find(c.expect), std::string::npos) << c.text << " -> " << g.status().message();
  }
  // Nullable repetition and right recursion are fine.
  EXPECT_TRUE(parse_grammar("root ::= (\"a\"?)* \"b\"").is_ok());
  EXPECT_TRUE(matches(engine_for("root ::= (\"a\"?)* \"b\""), "aab"));
}

// Hostile sizes are refused and large legal ones compile (a hang would hit the test timeout).
TEST(Grammar, HugeAndHostileInputsFailFast) {
  EXPECT_FALSE(parse_grammar("root ::= \"a\"{0,100001}").is_ok());
  EXPECT_FALSE(parse_grammar("root ::= " + std::string(5000, '(') + "\"a\"" + std::string(5000, ')')).is_ok());
  // Repetition of a repetition stays linear in size (helper rules are shared by reference).
  EXPECT_TRUE(parse_grammar(std::string("root ::= (\"a\"{1000}){1000}{1000}")).is_ok());
  // Deep but legal: 2000-way nested optional chain.
  auto e = engine_for("root ::= \"x\"{0,2000} \"y\"");
  ASSERT_TRUE(e);
  EXPECT_TRUE(matches(e, std::string(1999, 'x') + "y"));
}

// The mask must agree with feeding each token's bytes to a fresh matcher.
void check_mask_against_brute_force(const std::shared_ptr<GrammarEngine>& e, const std::string& prefix) {
  GrammarMatcher m(e);
  ASSERT_TRUE(m.accept_bytes(prefix)) << prefix;
  const TokenTrie& trie = e->trie();
  std::vector<uint8_t> mask(size_t(trie.n_vocab()));
  ASSERT_TRUE(m.fill_mask(mask.data()).is_ok());
  size_t n_allowed = 0;
  for (TokenId id = 0; id < trie.n_vocab(); ++id) {
    bool expect;
    if (trie.is_eog(id)) {
      expect = m.is_accepting();
    } else {
      GrammarMatcher copy(e);
      copy.accept_bytes(prefix);
      expect = !trie.piece(id).empty() && copy.accept_bytes(trie.piece(id));
    }
    ASSERT_EQ(bool(mask[size_t(id)]), expect) << "prefix '" << prefix << "' token " << id << " '" << trie.piece(id) << "'";
    n_allowed += mask[size_t(id)];
  }
  EXPECT_GT(n_allowed, 0u) << prefix;
}

TEST(Grammar, MasksMatchBruteForceOnRealVocabularies) {
  PM_REQUIRE_FIXTURE(qwen, "gguf/qwen2-bpe-tiny-f16.gguf");
  PM_REQUIRE_FIXTURE(spm, "gguf/llama-spm-tiny-f16.gguf");
  Result<std::string> gbnf = json_schema_to_gbnf(
      R"({"type":"object","properties":{"名前":{"type":"string","maxLength":4},"n":{"type":"integer","minimum":-20,"maximum":300},
          "e":{"enum":["über","日本"]},"xs":{"type":"array","items":{"type":"number"}}},"required":["名前","n"]})");
  ASSERT_TRUE(gbnf.is_ok()) << gbnf.status().to_string();
  for (const std::string& path : {qwen, spm}) {
    Result<std::unique_ptr<Tokenizer>> tok = test::load_tokenizer(path);
    ASSERT_TRUE(tok.is_ok()) << tok.status().to_string();
    auto e = engine_for(*gbnf, TokenTrie::build(**tok));
    ASSERT_TRUE(e);
    for (const char* prefix : {"", "{", "{\"", "{\"名", "{\"名\xE5\x89", "{\"名前\": \"ab", "{\"名前\":\"\\u00", "{\"名前\":\"\",\"n\":-1",
                               "{\"名前\":\"\",\"n\":29", "{\"名前\":\"\",\"n\":3,\"e\":\"\xC3", "{\"名前\":\"\",\"n\":3,\"xs\":[1.5e",
                               "{\"名前\":\"\",\"n\":3}"})
      check_mask_against_brute_force(e, prefix);
  }
}

TEST(JsonSchema, UnsupportedAndContradictorySchemasAreErrors) {
  struct Case { const char* schema; const char* expect; };
  const Case cases[] = {
      {R"({"type":"string","format":"email"})", "'format'"},
      {R"({"type":"object","patternProperties":{}})", "'patternProperties'"},
      {R"({"type":"array","uniqueItems":true})", "'uniqueItems'"},
      {R"({"not":{}})", "'not'"},
      {R"({"allOf":[{},{}]})", "allOf"},
      {R"({"type":"string","minLength":5,"maxLength":2})", "minLength 5 > maxLength 2"},
      {R"({"type":"integer","minimum":10,"maximum":2})", "minimum > maximum"},
      {R"({"enum":[]})", "empty"},
      {R"({"type":"array","minItems":3,"maxItems":1})", "minItems 3 > maxItems 1"},
      {R"({"type":"object","required":["x"],"additionalProperties":false})", "'x' is required"},
      {R"({"$ref":"#/$defs/missing"})", "points at nothing"},
      {R"({"$ref":"http://example.com/s.json"})", "local references"},
      {R"({"type":"strin"})", "unknown type 'strin'"},
      {R"j({"type":"string","pattern":"(?=a)"})j", "lookaround"},
      {R"j({"type":"string","pattern":"(a)\\1"})j", "backreferences"},
      {R"({"type":"object")", "not valid JSON"},
      {R"(false)", "accepts no value"},
  };
  for (const Case& c : cases) {
    Result<std::string> g = json_schema_to_gbnf(c.schema);
    ASSERT_FALSE(g.is_ok()) << c.schema;
    EXPECT_NE(g.status().message().find(c.expect), std::string::npos) << c.schema << " -> " << g.status().message();
  }
  // Recursion that can never finish: compiles to a grammar the parser rejects.
  Result<std::string> g = json_schema_to_gbnf(R"({"type":"object","properties":{"a":{"$ref":"#"}},"required":["a"]})");
  ASSERT_TRUE(g.is_ok());
  Result<std::shared_ptr<const Grammar>> p = parse_grammar(*g);
  ASSERT_FALSE(p.is_ok());
  EXPECT_NE(p.status().message().find("matches no finite string"), std::string::npos) << p.status().message();
}

// Deep nesting is refused and huge schemas compile or fail with a message (the time they take is
// grammar_bench's business; a hang would hit the test timeout).
TEST(JsonSchema, HugeAndDeepSchemasAreBounded) {
  std::string deep;
  for (int i = 0; i < 200; ++i) deep += R"({"type":"object","properties":{"a":)";
  deep += "{}";
  for (int i = 0; i < 200; ++i) deep += "}}";
  Result<std::string> g = json_schema_to_gbnf(deep);
  ASSERT_FALSE(g.is_ok());
  EXPECT_NE(g.status().message().find("nested more than"), std::string::npos);
  Json wide = {{"type", "object"}, {"properties", Json::object()}};
  for (int i = 0; i < 3000; ++i) wide["properties"]["p" + std::to_string(i)] = {{"type", "integer"}, {"minimum", i}, {"maximum", i * 7 + 3}};
  g = json_schema_to_gbnf(wide.dump());
  if (g.is_ok()) {
    EXPECT_TRUE(parse_grammar(*g).is_ok());
  }
  EXPECT_FALSE(json_schema_to_gbnf(R"({"type":"string","maxLength":1000000})").is_ok());
}

// ---- an independent validator for the supported subset ----

const Json* resolve_ref(const Json& root, const std::string& ref) {
  if (ref == "#") return &root;
  const Json* cur = &root;
  std::string rest = ref.substr(2);
  size_t i = 0;
  while (i <= rest.size()) {
    size_t j = rest.find('/', i);
    if (j == std::string::npos) j = rest.size();
    cur = &(*cur)[rest.substr(i, j - i)];
    i = j + 1;
  }
  return cur;
}

size_t utf8_length(const std::string& s) {
  size_t n = 0;
  for (unsigned char c : s) n += (c & 0xC0) != 0x80;
  return n;
}

bool is_date(const std::string& s) {
  static const std::regex re("^[0-9]{4}-([0-9]{2})-([0-9]{2})$");
  std::smatch m;
  if (!std::regex_match(s, m, re)) return false;
  const int mo = std::stoi(m[1]), d = std::stoi(m[2]);
  static const int kDays[] = {31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  return mo >= 1 && mo <= 12 && d >= 1 && d <= kDays[mo - 1];
}
bool is_time(const std::string& s) {
  static const std::regex re("^([01][0-9]|2[0-3]):[0-5][0-9]:[0-5][0-9](\\.[0-9]+)?(Z|[+-]([01][0-9]|2[0-3]):[0-5][0-9])$");
  return std::regex_match(s, re);
}

bool validate(const Json& root, const Json& s, const Json& v, std::string& why, int depth = 0) {
  auto fail = [&](const std::string& w) { why = w + " at " + v.dump(); return false; };
  if (depth > 200) return fail("too deep");
  if (s.is_boolean()) return s.get<bool>() || fail("false schema");
  if (s.contains("$ref")) return validate(root, *resolve_ref(root, s["$ref"].get<std::string>()), v, why, depth + 1);
  if (s.contains("anyOf")) {
    for (const Json& a : s["anyOf"]) if (validate(root, a, v, why, depth + 1)) return true;
    return fail("no anyOf branch");
  }
  if (s.contains("oneOf")) {
    int n = 0;
    for (const Json& a : s["oneOf"]) n += validate(root, a, v, why, depth + 1);
    return n == 1 || fail("oneOf matched " + std::to_string(n));
  }
  if (s.contains("const")) return Json(s["const"]) == v || fail("const");
  if (s.contains("enum")) {
    for (const Json& e : s["enum"]) if (e == v) return true;
    return fail("enum");
  }
  if (s.contains("type")) {
    std::vector<std::string> types;
    if (s["type"].is_string()) types.push_back(s["type"]);
    else for (const Json& t : s["type"]) types.push_back(t);
    bool ok = false;
    for (const std::string& t : types) {
      ok |= (t == "null" && v.is_null()) || (t == "boolean" && v.is_boolean()) || (t == "string" && v.is_string()) ||
            (t == "object" && v.is_object()) || (t == "array" && v.is_array()) || (t == "number" && v.is_number()) ||
            (t == "integer" && (v.is_number_integer() || (v.is_number_float() && std::floor(v.get<double>()) == v.get<double>())));
    }
    if (!ok) return fail("type");
  }
  if (v.is_number()) {
    const double x = v.get<double>();
    if (s.contains("minimum") && x < s["minimum"].get<double>()) return fail("minimum");
    if (s.contains("maximum") && x > s["maximum"].get<double>()) return fail("maximum");
    if (s.contains("exclusiveMinimum") && x <= s["exclusiveMinimum"].get<double>()) return fail("exclusiveMinimum");
    if (s.contains("exclusiveMaximum") && x >= s["exclusiveMaximum"].get<double>()) return fail("exclusiveMaximum");
  }
  if (v.is_string()) {
    const std::string str = v.get<std::string>();
    const size_t len = utf8_length(str);
    if (s.contains("minLength") && len < s["minLength"].get<size_t>()) return fail("minLength");
    if (s.contains("maxLength") && len > s["maxLength"].get<size_t>()) return fail("maxLength");
    if (s.contains("pattern") && !std::regex_search(str, std::regex(s["pattern"].get<std::string>(), std::regex::ECMAScript)))
      return fail("pattern " + s["pattern"].get<std::string>());
    if (s.contains("format")) {
      const std::string f = s["format"];
      bool ok = true;
      if (f == "date") ok = is_date(str);
      else if (f == "time") ok = is_time(str);
      else if (f == "date-time") { const size_t t = str.find('T'); ok = t != std::string::npos && is_date(str.substr(0, t)) && is_time(str.substr(t + 1)); }
      else if (f == "uuid") ok = std::regex_match(str, std::regex("^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$"));
      if (!ok) return fail("format " + f);
    }
  }
  if (v.is_array()) {
    if (s.contains("minItems") && v.size() < s["minItems"].get<size_t>()) return fail("minItems");
    if (s.contains("maxItems") && v.size() > s["maxItems"].get<size_t>()) return fail("maxItems");
    if (s.contains("items"))
      for (const Json& x : v) if (!validate(root, s["items"], x, why, depth + 1)) return false;
  }
  if (v.is_object()) {
    if (s.contains("required"))
      for (const Json& r : s["required"]) if (!v.contains(r.get<std::string>())) return fail("required " + r.dump());
    for (const auto& [k, x] : v.items()) {
      if (s.contains("properties") && s["properties"].contains(k)) {
        if (!validate(root, s["properties"][k], x, why, depth + 1)) return false;
      } else if (s.contains("additionalProperties")) {
        if (!validate(root, s["additionalProperties"], x, why, depth + 1)) return false;
      }
    }
  }
  return true;
}

// Random logits over a real vocabulary, sampled through pm::Sampler under the grammar mask. After
// `free_steps` tokens, short tokens and closing characters get a large bonus so that every
// generation finishes (random weights would otherwise write strings forever).
struct Generated { std::string text; bool complete = false; int tokens = 0; };

Generated generate_random(const std::shared_ptr<GrammarEngine>& e, std::mt19937_64& rng, const SamplerParams& sp, int free_steps) {
  const TokenTrie& trie = e->trie();
  const int32_t n = trie.n_vocab();
  std::vector<float> logits(static_cast<size_t>(n));
  std::vector<uint8_t> mask(static_cast<size_t>(n));
  GrammarMatcher m(e);
  Sampler sampler(sp);
  Generated out;
  std::vector<TokenId> history;
  for (int step = 0; step < 4000; ++step) {
    EXPECT_TRUE(m.fill_mask(mask.data()).is_ok());
    for (int32_t i = 0; i < n; ++i) {
      if (!mask[size_t(i)]) { logits[size_t(i)] = 0; continue; }
      float l = float(rng() >> 40) * (6.0f / 16777216.0f);  // uniform noise in [0, 6)
      if (step >= free_steps) {
        const std::string& p = trie.piece(i);
        if (trie.is_eog(i)) l += 60;
        else if (p.size() == 1) l += p[0] == '"' ? 40 : 30;
      }
      logits[size_t(i)] = l;
    }
    const TokenId t = sampler.sample(logits.data(), n, history, mask.data());
    EXPECT_TRUE(mask[size_t(t)]);
    Status st = m.accept_token(t);
    EXPECT_TRUE(st.is_ok()) << st.to_string();
    if (!st.is_ok()) return out;
    history.push_back(t);
    ++out.tokens;
    if (trie.is_eog(t)) { out.complete = true; return out; }
    out.text += trie.piece(t);
    if (m.is_complete()) { out.complete = true; return out; }
  }
  return out;
}

void run_suite(const std::string& vocab_rel, int n_generations) {
  PM_REQUIRE_FIXTURE(path, vocab_rel);
  Result<std::unique_ptr<Tokenizer>> tok = test::load_tokenizer(path);
  ASSERT_TRUE(tok.is_ok()) << tok.status().to_string();
  auto trie = TokenTrie::build(**tok);
  std::vector<std::pair<std::string, Json>> schemas;
  for (const auto& f : std::filesystem::directory_iterator(std::string(PM_TEST_DATA_DIR) + "/schemas"))
    schemas.push_back({f.path().filename().string(), Json::parse(pm::test::read_text(f.path().string()))});
  std::sort(schemas.begin(), schemas.end(), [](auto& a, auto& b) { return a.first < b.first; });
  ASSERT_GE(schemas.size(), 30u);
  std::vector<std::shared_ptr<GrammarEngine>> engines;
  for (const auto& [name, s] : schemas) {
    Result<std::string> gbnf = json_schema_value_to_gbnf(s);
    ASSERT_TRUE(gbnf.is_ok()) << name << ": " << gbnf.status().to_string();
    Result<std::shared_ptr<const Grammar>> g = parse_grammar(*gbnf);
    ASSERT_TRUE(g.is_ok()) << name << ": " << g.status().to_string() << "\n" << *gbnf;
    engines.push_back(std::make_shared<GrammarEngine>(*g, trie));
  }
  std::mt19937_64 rng(1234);
  int total_tokens = 0;
  for (int i = 0; i < n_generations; ++i) {
    const size_t k = size_t(i) % schemas.size();
    SamplerParams sp;
    sp.seed = uint64_t(i);
    sp.temperature = i % 3 == 0 ? 0.7f : 1.0f;
    sp.top_k = i % 2 ? 40 : 0;
    sp.top_p = i % 4 == 1 ? 0.9f : 1.0f;
    sp.min_p = 0;
    const Generated g = generate_random(engines[k], rng, sp, int(rng() % 40));
    total_tokens += g.tokens;
    ASSERT_TRUE(g.complete) << schemas[k].first << ": did not finish: " << g.text;
    const Json v = Json::parse(g.text, nullptr, false);
    ASSERT_FALSE(v.is_discarded()) << schemas[k].first << ": not JSON: " << g.text;
    std::string why;
    ASSERT_TRUE(validate(schemas[k].second, schemas[k].second, v, why)) << schemas[k].first << ": " << why << "\n" << g.text;
  }
  std::printf("%d generations, %d tokens over %zu schemas\n", n_generations, total_tokens, schemas.size());
}

TEST(ConstrainedGeneration, ThousandGenerationsValidateSpm32k) { run_suite("gguf/llama-spm-tiny-f16.gguf", test::scaled(1000)); }
TEST(ConstrainedGeneration, GenerationsValidateQwen2Bpe) { run_suite("gguf/qwen2-bpe-tiny-f16.gguf", test::scaled(200)); }

}  // namespace
}  // namespace pm

namespace pm {
namespace {

// The fuzz seeds, and truncated / byte-flipped copies of them, through both parsers: errors are
// fine, crashes and hangs are not (the libFuzzer targets explore further; fuzz/).
TEST(GrammarCorpus, SeedsAndCorruptionsFailCleanly) {
  const std::string seeds = std::string(PM_TEST_DATA_DIR) + "/../../fuzz/seeds";
  for (const char* dir : {"gbnf", "json_schema"}) {
    for (const auto& f : std::filesystem::directory_iterator(seeds + "/" + dir)) {
      const std::string text = pm::test::read_text(f.path().string());
      std::mt19937 rng(1);
      for (size_t cut = 0; cut <= text.size(); cut += std::max<size_t>(1, text.size() / 40)) {
        for (int flip = 0; flip < 3; ++flip) {
          std::string t = text.substr(0, cut);
          if (flip && !t.empty()) t[rng() % t.size()] = char(rng());
          if (std::string(dir) == "gbnf") {
            auto g = parse_grammar(t);
            if (g.is_ok()) {
              GrammarMatcher m(std::make_shared<GrammarEngine>(*g, byte_trie()));
              std::vector<uint8_t> mask(257);
              EXPECT_TRUE(m.fill_mask(mask.data()).is_ok());
            }
          } else {
            auto g = json_schema_to_gbnf(t);
            if (g.is_ok()) (void)parse_grammar(*g).status();
          }
        }
      }
    }
  }
}

}  // namespace
}  // namespace pm

namespace pm {
namespace {

// The real binary: `run --grammar-json-schema` prints JSON valid under the schema, `--grammar`
// follows a GBNF file, and a bad schema is a clear error with a non-zero exit.
TEST(ConstrainedGeneration, RunVerbWithGrammarOptions) {
  PM_REQUIRE_FIXTURE(model, "gguf/llama-spm-tiny-f16.gguf");
  const std::string schema_path = std::string(PM_TEST_DATA_DIR) + "/schemas/tool_call.json";
  const Json schema = Json::parse(pm::test::read_text(schema_path));
  for (const char* seed : {"1", "2", "3"}) {
    auto r = pm::test::run_pocketmind({"run", "-m", model, "-p", "call a tool", "-n", "400", "--seed", seed, "--temp", "0.8",
                                       "--top-k", "40", "--top-p", "0.9", "--grammar-json-schema", schema_path});
    ASSERT_EQ(r.exit_code, 0) << r.err;
    const Json v = Json::parse(r.out, nullptr, false);
    ASSERT_FALSE(v.is_discarded()) << r.out;
    std::string why;
    EXPECT_TRUE(validate(schema, schema, v, why)) << why << "\n" << r.out;
  }
  const std::string dir = pm::test::temp_dir();
  {
    std::ofstream(dir + "/yn.gbnf") << "root ::= (\"yes\" | \"no\") \".\"\n";
    std::ofstream(dir + "/bad.json") << R"({"type":"string","format":"email"})";
  }
  auto r = pm::test::run_pocketmind({"run", "-m", model, "-p", "ok?", "-n", "50", "--seed", "4", "--grammar", dir + "/yn.gbnf"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_TRUE(r.out == "yes.\n" || r.out == "no.\n") << r.out;
  r = pm::test::run_pocketmind({"run", "-m", model, "-p", "x", "--grammar-json-schema", dir + "/bad.json"});
  EXPECT_NE(r.exit_code, 0);
  EXPECT_NE(r.err.find("'format'"), std::string::npos) << r.err;
}

}  // namespace
}  // namespace pm
