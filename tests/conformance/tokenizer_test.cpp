// Tokenizer conformance: llama.cpp's ggml-vocab-*.gguf test vectors (every case must match its
// .out line exactly), round trips, streaming detokenization, special tokens, and malformed
// vocab metadata.
#include "tokenizer/tokenizer.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <functional>
#include <nlohmann/json.hpp>
#include <random>
#include <sstream>

#include "formats/gguf.h"
#include "test_util.h"
#include "tokenizer/pretokenizer.h"
#include "tokenizer/test_cases.h"
#include "tokenizer/unicode.h"
#include "tokenizer/vocab.h"
#include "tokenizer/wordpiece.h"

namespace pm {
namespace {

const char* const kVocabs[] = {"llama-spm", "phi-3",     "gpt-2",  "deepseek-coder",
                               "falcon",    "starcoder", "refact", "bert-bge"};

std::unique_ptr<Tokenizer> load_vocab(const std::string& path) {
  auto gguf = GgufFile::open(path);
  EXPECT_TRUE(gguf.is_ok()) << gguf.status().to_string();
  if (!gguf.is_ok()) return nullptr;
  auto tok = Tokenizer::from_gguf(**gguf);
  EXPECT_TRUE(tok.is_ok()) << tok.status().to_string();
  if (!tok.is_ok()) return nullptr;
  return std::move(tok).value();
}

// One line of a .out file: " 1 2 3" -> {1, 2, 3}.
std::vector<TokenId> parse_ids(const std::string& line) {
  std::vector<TokenId> ids;
  std::istringstream in(line);
  long long v;
  while (in >> v) ids.push_back(static_cast<TokenId>(v));
  return ids;
}

std::vector<std::string> split_lines(const std::string& text) {
  std::vector<std::string> lines;
  size_t start = 0;
  while (start < text.size()) {
    size_t end = text.find('\n', start);
    if (end == std::string::npos) end = text.size();
    lines.push_back(text.substr(start, end - start));
    start = end + 1;
  }
  return lines;
}

std::string escaped(const std::string& s) {
  std::string out;
  for (char c : s) {
    if (c == '\n')
      out += "\\n";
    else if (c == '\t')
      out += "\\t";
    else if (c == '\r')
      out += "\\r";
    else
      out += c;
  }
  return out;
}

// ---------------------------------------------------------------------------------------------
// The case-file format

TEST(VocabTestCases, ParsesCasesIncludingEmptyAndNewlineOnlyOnes) {
  const std::string file =
      "Hello\n__ggml_vocab_test__\n\n__ggml_vocab_test__\n \n__ggml_vocab_test__\n"
      "\n\n__ggml_vocab_test__\na\nb\n__ggml_vocab_test__\n";
  auto cases = parse_vocab_test_cases(file);
  ASSERT_TRUE(cases.is_ok()) << cases.status().to_string();
  EXPECT_EQ(*cases, (std::vector<std::string>{"Hello", "", " ", "\n", "a\nb"}));
}

TEST(VocabTestCases, TrailingCaseWithoutSeparatorAndMissingSeparator) {
  auto cases = parse_vocab_test_cases("x\n__ggml_vocab_test__\ny\n");
  ASSERT_TRUE(cases.is_ok());
  EXPECT_EQ(*cases, (std::vector<std::string>{"x", "y"}));
  auto bad = parse_vocab_test_cases("just text\n");
  EXPECT_FALSE(bad.is_ok());
  // The separator must be a whole line.
  auto inline_sep = parse_vocab_test_cases("a __ggml_vocab_test__\n__ggml_vocab_test__\n");
  ASSERT_TRUE(inline_sep.is_ok());
  EXPECT_EQ(*inline_sep, (std::vector<std::string>{"a __ggml_vocab_test__"}));
}

// ---------------------------------------------------------------------------------------------
// llama.cpp's test vectors

class VocabFixture : public ::testing::TestWithParam<const char*> {};

TEST_P(VocabFixture, EveryCaseMatchesReference) {
  const std::string name = GetParam();
  const std::string base = "tokenizer/ggml-vocab-" + name + ".gguf";
  PM_REQUIRE_FIXTURE(gguf_path, base);
  PM_REQUIRE_FIXTURE(inp_path, base + ".inp");
  PM_REQUIRE_FIXTURE(out_path, base + ".out");
  auto tok = load_vocab(gguf_path);
  ASSERT_NE(tok, nullptr);

  auto cases = parse_vocab_test_cases(test::read_text(inp_path));
  ASSERT_TRUE(cases.is_ok()) << cases.status().to_string();
  const std::vector<std::string> expected_lines = split_lines(test::read_text(out_path));
  ASSERT_EQ(cases->size(), expected_lines.size())
      << inp_path << ": parsed case count differs from the line count of " << out_path;

  size_t passed = 0;
  for (size_t i = 0; i < cases->size(); ++i) {
    const std::string& text = (*cases)[i];
    const std::vector<TokenId> expected = parse_ids(expected_lines[i]);
    const std::vector<TokenId> actual = tok->encode(text, /*add_special=*/false, /*parse_special=*/false);
    if (actual == expected) {
      ++passed;
    } else {
      ADD_FAILURE() << name << " case " << i << " \"" << escaped(text) << "\"\n  expected:" << test::ids_string(expected)
                    << "\n  actual:  " << test::ids_string(actual);
    }
  }
  std::printf("[ %-14s ] %zu / %zu cases match\n", name.c_str(), passed, cases->size());
}

INSTANTIATE_TEST_SUITE_P(LlamaCppVectors, VocabFixture, ::testing::ValuesIn(kVocabs), [](const auto& info) {
  std::string n = info.param;
  for (char& c : n)
    if (c == '-') c = '_';
  return n;
});

// The model fixtures' prompt, tokenized by llama.cpp with special tokens added.

class ModelPromptTokens : public ::testing::TestWithParam<const char*> {};

TEST_P(ModelPromptTokens, MatchReference) {
  const std::string name = GetParam();
  PM_REQUIRE_FIXTURE(gguf_path, "gguf/" + name + ".gguf");
  PM_REQUIRE_FIXTURE(prompt_path, "gguf/prompt.txt");
  auto tok = load_vocab(gguf_path);
  ASSERT_NE(tok, nullptr);
  std::vector<TokenId> expected;
  if (name.rfind("bert", 0) == 0) {
    PM_REQUIRE_FIXTURE(tokens_path, "gguf/" + name + ".tokens.txt");
    expected = parse_ids(test::read_text(tokens_path));
  } else {
    PM_REQUIRE_FIXTURE(ref_path, "gguf/" + name + ".ref.json");
    expected = nlohmann::json::parse(test::read_text(ref_path))["tokens"].get<std::vector<TokenId>>();
  }
  EXPECT_EQ(test::ids_string(tok->encode(test::read_text(prompt_path), true, false)), test::ids_string(expected));
}

INSTANTIATE_TEST_SUITE_P(Fixtures, ModelPromptTokens,
                         ::testing::Values("llama-spm-tiny-f16", "llama-spm-256-q6_k", "qwen2-bpe-tiny-f16",
                                           "bert-bge-tiny-f16"),
                         [](const auto& info) {
                           std::string n = info.param;
                           for (char& c : n)
                             if (c == '-') c = '_';
                           return n;
                         });

// ---------------------------------------------------------------------------------------------
// Round trips (SentencePiece with byte fallback and byte-level BPE represent any text)

const char* const kRoundTripTexts[] = {
    "Hello world",
    " leading and trailing spaces  ",
    "周六回家吃饭吗？我们在老地方见",
    "emoji 🦙🚀 and 😶‍🌫️ ZWJ",
    "mixed: 我想在apple工作1314151天～, Ünïcödé — 'quotes' \"double\"\n\ttabs\r\n",
    "нещо на Български, ἀρχή, كلمة, 한국어 텍스트",
};

class RoundTrip : public ::testing::TestWithParam<const char*> {};

TEST_P(RoundTrip, DecodeOfEncodeIsTheText) {
  const std::string name = GetParam();
  PM_REQUIRE_FIXTURE(path, "tokenizer/ggml-vocab-" + name + ".gguf");
  auto tok = load_vocab(path);
  ASSERT_NE(tok, nullptr);
  for (const char* text : kRoundTripTexts) {
    for (bool add_special : {false, true}) {
      const auto ids = tok->encode(text, add_special, false);
      EXPECT_EQ(tok->decode(ids), text) << name << " add_special=" << add_special << ":" << test::ids_string(ids);
    }
  }
}

INSTANTIATE_TEST_SUITE_P(Vocabs, RoundTrip,
                         ::testing::Values("llama-spm", "phi-3", "gpt-2", "deepseek-coder", "falcon", "starcoder",
                                           "refact"),
                         [](const auto& info) {
                           std::string n = info.param;
                           for (char& c : n)
                             if (c == '-') c = '_';
                           return n;
                         });

// ---------------------------------------------------------------------------------------------
// Streaming detokenization

void expect_streams_whole_characters(const Tokenizer& tok, const std::vector<TokenId>& ids,
                                     const std::string& expected) {
  StreamingDetokenizer stream(tok);
  std::string all;
  for (TokenId id : ids) {
    const std::string chunk = stream.push(id);
    EXPECT_TRUE(unicode::is_valid_utf8(chunk)) << "token " << id << " produced a partial character";
    all += chunk;
  }
  all += stream.flush();
  EXPECT_EQ(all, expected);
}

TEST(StreamingDetokenizer, SentencePieceByteFallbackNeverSplitsACharacter) {
  PM_REQUIRE_FIXTURE(path, "tokenizer/ggml-vocab-llama-spm.gguf");
  auto tok = load_vocab(path);
  ASSERT_NE(tok, nullptr);
  const std::string text = "周六回家吃饭吗？我们在老地方见";
  const auto ids = tok->encode(text, false, false);
  size_t byte_tokens = 0;
  for (TokenId id : ids) byte_tokens += tok->token_type(id) == TokenType::kByte;
  ASSERT_GT(byte_tokens, 0u) << "expected some characters to need byte fallback";
  // Streaming keeps the prefix space that the encoder added (only decode() drops it).
  expect_streams_whole_characters(*tok, ids, " " + text);
}

TEST(StreamingDetokenizer, ByteLevelBpeNeverSplitsACharacter) {
  PM_REQUIRE_FIXTURE(path, "tokenizer/ggml-vocab-gpt-2.gguf");
  auto tok = load_vocab(path);
  ASSERT_NE(tok, nullptr);
  const std::string text = "周六回家吃饭吗？我们在老地方见 🦙";
  const auto ids = tok->encode(text, false, false);
  size_t partial = 0;  // tokens that on their own are not whole characters
  for (TokenId id : ids) partial += !unicode::is_valid_utf8(tok->token_to_piece(id, false));
  ASSERT_GT(partial, 0u);
  expect_streams_whole_characters(*tok, ids, text);
}

TEST(StreamingDetokenizer, InvalidAndCutOffBytesBecomeReplacementCharacters) {
  // A tiny byte-fallback vocab: "<0xE5>" etc. as byte tokens.
  VocabSpec spec;
  spec.model = "llama";
  spec.tokens = {"<unk>", "<s>", "</s>", "<0xE5>", "<0x91>", "<0xA8>", "<0xFF>", "a"};
  spec.types = {2, 3, 3, 6, 6, 6, 6, 1};
  auto tok = build_tokenizer(spec);
  ASSERT_TRUE(tok.is_ok()) << tok.status().to_string();
  StreamingDetokenizer s(**tok);
  EXPECT_EQ(s.push(3), "");        // E5: first of three bytes
  EXPECT_EQ(s.push(4), "");        // 91
  EXPECT_EQ(s.push(5), "周");      // A8 completes U+5468
  EXPECT_EQ(s.push(6), "\uFFFD");  // FF is never valid
  EXPECT_EQ(s.push(3), "");
  EXPECT_EQ(s.push(7), "\uFFFDa");  // E5 followed by 'a': invalid, then 'a'
  EXPECT_EQ(s.push(3), "");
  EXPECT_EQ(s.flush(), "\uFFFD");  // cut off at the end
  EXPECT_EQ(s.flush(), "");
}

// ---------------------------------------------------------------------------------------------
// Special tokens

TEST(SpecialTokens, ParseSpecialMatchesControlTokensOnlyWhenAsked) {
  PM_REQUIRE_FIXTURE(path, "tokenizer/ggml-vocab-phi-3.gguf");
  auto tok = load_vocab(path);
  ASSERT_NE(tok, nullptr);
  const auto user = tok->find("<|user|>");
  const auto end = tok->find("<|end|>");
  ASSERT_TRUE(user && end);
  const std::string text = "<|user|>\nHi<|end|>";
  const auto parsed = tok->encode(text, false, true);
  ASSERT_GE(parsed.size(), 3u);
  EXPECT_EQ(parsed.front(), *user);
  EXPECT_EQ(parsed.back(), *end);
  const auto plain = tok->encode(text, false, false);
  EXPECT_EQ(std::count(plain.begin(), plain.end(), *user), 0);
  EXPECT_EQ(tok->decode(plain), text);
  // Control tokens render only on request.
  EXPECT_EQ(tok->token_to_piece(*end, false), "");
  EXPECT_EQ(tok->token_to_piece(*end, true), "<|end|>");
  EXPECT_TRUE(tok->is_eog(*end));
  EXPECT_TRUE(tok->is_eog(tok->special().eos));
  EXPECT_FALSE(tok->is_eog(*user));
  EXPECT_TRUE(tok->special().add_bos);
  const auto with_bos = tok->encode("Hi", true, false);
  ASSERT_FALSE(with_bos.empty());
  EXPECT_EQ(with_bos.front(), tok->special().bos);
}

TEST(SpecialTokens, LongestTextWinsAndTextBetweenIsTokenizedNormally) {
  VocabSpec spec;
  spec.model = "llama";
  spec.tokens = {"<unk>", "<s>", "</s>", "<|a|>", "<|a|>b", "\xE2\x96\x81x", "x", "y", "\xE2\x96\x81"};
  spec.types = {2, 3, 3, 3, 3, 1, 1, 1, 1};
  auto tok = build_tokenizer(spec);
  ASSERT_TRUE(tok.is_ok()) << tok.status().to_string();
  // "<|a|>b" is longer than "<|a|>", so it is matched first; after a special token the text
  // gets the SentencePiece space prefix again.
  EXPECT_EQ((*tok)->encode("x<|a|>bx<|a|>y", false, true), (std::vector<TokenId>{5, 4, 5, 3, 8, 7}));
}

TEST(SpecialTokens, EndOfGenerationTokens) {
  PM_REQUIRE_FIXTURE(path, "tokenizer/ggml-vocab-gpt-2.gguf");
  auto tok = load_vocab(path);
  ASSERT_NE(tok, nullptr);
  const auto eot = tok->find("<|endoftext|>");
  ASSERT_TRUE(eot);
  EXPECT_TRUE(tok->is_eog(*eot));
  EXPECT_TRUE(tok->is_control(*eot));
  EXPECT_FALSE(tok->is_eog(0));
  EXPECT_EQ(tok->encode("<|endoftext|>", false, true), std::vector<TokenId>{*eot});
  EXPECT_NE(tok->encode("<|endoftext|>", false, false), std::vector<TokenId>{*eot});
}

TEST(SpecialTokens, UserDefinedTokensAreMatchedEvenWithoutParseSpecial) {
  PM_REQUIRE_FIXTURE(path, "tokenizer/ggml-vocab-deepseek-coder.gguf");
  auto tok = load_vocab(path);
  ASSERT_NE(tok, nullptr);
  const auto u = tok->find("ü");  // a user-defined token of this vocab
  ASSERT_TRUE(u);
  ASSERT_EQ(tok->token_type(*u), TokenType::kUserDefined);
  const auto ids = tok->encode("Führer", false, false);
  EXPECT_NE(std::find(ids.begin(), ids.end(), *u), ids.end());
  EXPECT_EQ(tok->decode(ids), "Führer");
  // Its end-of-sentence token doubles as end of turn.
  EXPECT_EQ(tok->special().eot, tok->special().eos);
  EXPECT_TRUE(tok->is_eog(tok->special().eos));
}

// ---------------------------------------------------------------------------------------------
// WordPiece

TEST(WordPiece, BasicTokenization) {
  EXPECT_EQ(WordPieceTokenizer::basic_tokenize("Héllo, WORLD!  周六回家\tÅngström's"),
            (std::vector<std::string>{"hello", ",", "world", "!", "周", "六", "回", "家", "angstrom", "'", "s"}));
  EXPECT_EQ(WordPieceTokenizer::basic_tokenize(std::string("a\0b\x7f c\xE2\x80\x8B", 9)),
            (std::vector<std::string>{"ab", "c"}));
}

TEST(WordPiece, ClsSepAndUnknownWords) {
  PM_REQUIRE_FIXTURE(path, "tokenizer/ggml-vocab-bert-bge.gguf");
  auto tok = load_vocab(path);
  ASSERT_NE(tok, nullptr);
  const auto ids = tok->encode("Hello World!", true, false);
  ASSERT_EQ(ids.size(), 5u);
  EXPECT_EQ(ids.front(), *tok->find("[CLS]"));
  EXPECT_EQ(ids.back(), *tok->find("[SEP]"));
  EXPECT_EQ(tok->decode(ids), "hello world !");
  // A character the vocab has no piece for turns the whole word into [UNK].
  const auto unk = tok->encode("abc\xF0\x9F\xA6\x99", false, false);
  EXPECT_EQ(unk, std::vector<TokenId>{tok->special().unk});
}

TEST(WordPiece, HuggingFaceStyleVocab) {
  VocabSpec spec;
  spec.model = "bert";
  spec.tokens = {"[PAD]", "[UNK]", "[CLS]", "[SEP]", "un", "##aff", "##able", "play", "##ing", ","};
  spec.types = {3, 3, 3, 3, 1, 1, 1, 1, 1, 1};
  auto tok = build_tokenizer(spec);
  ASSERT_TRUE(tok.is_ok()) << tok.status().to_string();
  EXPECT_EQ((*tok)->encode("Unaffable, playing xyz", true, false), (std::vector<TokenId>{2, 4, 5, 6, 9, 7, 8, 1, 3}));
  EXPECT_EQ((*tok)->decode({4, 5, 6, 9, 7, 8}), "unaffable , playing");
}

// ---------------------------------------------------------------------------------------------
// Pre-tokenizer presets

std::vector<std::string> split_with(const std::string& preset, const std::string& text) {
  auto pt = PreTokenizer::create(pre_tokenizer_preset(preset).patterns);
  EXPECT_TRUE(pt.is_ok()) << pt.status().to_string();
  if (!pt.is_ok()) return {};
  std::vector<std::string> out;
  for (std::string_view p : (*pt)->split(text)) out.emplace_back(p);
  return out;
}

TEST(PreTokenizer, EveryPresetCompiles) {
  for (const char* name :
       {"gpt-2",          "default",      "llama-bpe",  "llama3",      "qwen2",      "deepseek-llm",
        "deepseek-coder", "deepseek-v3",  "falcon",     "starcoder",   "refact",     "mpt",
        "command-r",      "smollm",       "olmo",       "dbrx",        "smaug-bpe",  "stablelm2",
        "poro-chat",      "chatglm-bpe",  "viking",     "jais",        "tekken",     "codeshell",
        "bloom",          "gpt3-finnish", "exaone",     "chameleon",   "minerva-7b", "gpt-4o",
        "superbpe",       "bailingmoe",   "seed-coder", "roberta-bpe", "phi-2",      "jina-v2-code"}) {
    const PreTokenizerPreset preset = pre_tokenizer_preset(name);
    EXPECT_TRUE(preset.known) << name;
    auto pt = PreTokenizer::create(preset.patterns);
    EXPECT_TRUE(pt.is_ok()) << name << ": " << pt.status().to_string();
  }
  EXPECT_FALSE(pre_tokenizer_preset("no-such-preset").known);
}

TEST(PreTokenizer, Splits) {
  EXPECT_EQ(split_with("gpt-2", "Hello world's  end\n"),
            (std::vector<std::string>{"Hello", " world", "'s", " ", " end", "\n"}));
  EXPECT_EQ(split_with("llama-bpe", "I'VE 12345 apples!!\n\n"),
            (std::vector<std::string>{"I", "'VE", " ", "123", "45", " apples", "!!\n\n"}));
  EXPECT_EQ(split_with("qwen2", "abc 123"), (std::vector<std::string>{"abc", " ", "1", "2", "3"}));
  // Invalid UTF-8 bytes become pieces of their own; nothing is lost.
  EXPECT_EQ(split_with("gpt-2", "a\xFF b"), (std::vector<std::string>{"a", "\xFF", " b"}));
  // Zero-length matches split without producing empty pieces.
  EXPECT_EQ(split_with("superbpe", "x1234567"), (std::vector<std::string>{"x", "1", "234", "567"}));
}

// ---------------------------------------------------------------------------------------------
// In-memory vocabularies: algorithms on known answers

TEST(SentencePiece, HighestScoreMergesFirstAndBytesFallBack) {
  VocabSpec spec;
  spec.model = "llama";
  // "▁ab" can come from "▁a"+"b" (score of "▁a" irrelevant: the merged token's score counts).
  spec.tokens = {"<unk>",
                 "<s>",
                 "</s>",
                 "<0x63>",
                 "\xE2\x96\x81",
                 "a",
                 "b",
                 "\xE2\x96\x81"
                 "a",
                 "ab",
                 "\xE2\x96\x81"
                 "ab"};
  spec.scores = {0, 0, 0, 0, -1, -1, -1, -3, -2, -4};
  spec.types = {2, 3, 3, 6, 1, 1, 1, 1, 1, 1};
  auto tok = build_tokenizer(spec);
  ASSERT_TRUE(tok.is_ok()) << tok.status().to_string();
  // "ab" (-2) merges before "▁a" (-3); then "▁"+"ab" -> "▁ab". 'c' is only a byte token.
  EXPECT_EQ((*tok)->encode("abc", false, false), (std::vector<TokenId>{9, 3}));
  EXPECT_EQ((*tok)->encode("abc", true, false), (std::vector<TokenId>{1, 9, 3}));
  EXPECT_EQ((*tok)->decode({1, 9, 3}), "abc");
  EXPECT_EQ((*tok)->encode("", false, false), std::vector<TokenId>{});
}

TEST(BytePairEncoding, MergesApplyInRankOrder) {
  VocabSpec spec;
  spec.model = "gpt2";
  spec.pre = "gpt-2";
  spec.tokens = {"a",
                 "b",
                 "c",
                 "\xC4\xA0",
                 "ab",
                 "bc",
                 "abc",
                 "\xC4\xA0"
                 "a"};  // Ġ = space
  spec.merges = {"b c", "a b", "a bc", "\xC4\xA0 a"};
  spec.has_merges = true;
  auto tok = build_tokenizer(spec);
  ASSERT_TRUE(tok.is_ok()) << tok.status().to_string();
  // "b c" ranks before "a b": abc -> a bc -> abc.
  EXPECT_EQ((*tok)->encode("abc", false, false), (std::vector<TokenId>{6}));
  // " ab": "a b" (rank 1) wins over "Ġ a" (rank 3), and "Ġ ab" is not a merge.
  EXPECT_EQ((*tok)->encode("ab ab", false, false), (std::vector<TokenId>{4, 3, 4}));
  EXPECT_EQ((*tok)->encode(" a", false, false), (std::vector<TokenId>{7}));
  EXPECT_EQ((*tok)->decode({4, 3, 4}), "ab ab");
  EXPECT_TRUE((*tok)->load_note().empty());
}

// ---------------------------------------------------------------------------------------------
// Malformed metadata

std::vector<uint8_t> make_vocab_gguf(const std::function<void(GgufWriter&)>& edit) {
  GgufWriter w;
  w.set_string("general.architecture", "llama");
  w.set_string("tokenizer.ggml.model", "llama");
  w.set_string_array("tokenizer.ggml.tokens", {"<unk>", "<s>", "</s>", "a"});
  w.set_f32_array("tokenizer.ggml.scores", {0, 0, 0, -1});
  w.set_i32_array("tokenizer.ggml.token_type", {2, 3, 3, 1});
  edit(w);
  return w.to_bytes();
}

Status vocab_load_status(const std::vector<uint8_t>& bytes) {
  auto gguf = GgufFile::parse(bytes.data(), bytes.size(), "vocab.gguf");
  if (!gguf.is_ok()) return gguf.status();
  auto tok = Tokenizer::from_gguf(**gguf);
  return tok.status();
}

void expect_error(const std::function<void(GgufWriter&)>& edit, const std::string& needle) {
  const Status s = vocab_load_status(make_vocab_gguf(edit));
  EXPECT_FALSE(s.is_ok()) << "expected an error mentioning " << needle;
  EXPECT_NE(s.message().find(needle), std::string::npos) << s.to_string();
  EXPECT_NE(s.message().find("vocab.gguf"), std::string::npos) << s.to_string();
}

TEST(MalformedVocab, WellFormedBaselineLoads) {
  EXPECT_TRUE(vocab_load_status(make_vocab_gguf([](GgufWriter&) {})).is_ok());
}

TEST(MalformedVocab, Errors) {
  // GgufWriter::set replaces an existing key, so each edit overrides the baseline.
  expect_error([](GgufWriter& w) { w.set_string("tokenizer.ggml.tokens", "not an array"); }, "tokenizer.ggml.tokens");
  expect_error([](GgufWriter& w) { w.set_string_array("tokenizer.ggml.tokens", {}); }, "tokenizer.ggml.tokens");
  expect_error([](GgufWriter& w) { w.set_f32_array("tokenizer.ggml.scores", {0, 0}); }, "tokenizer.ggml.scores");
  expect_error(
      [](GgufWriter& w) {
        w.set_i32_array("tokenizer.ggml.token_type", {1, 1, 1, 1, 1});
      },
      "tokenizer.ggml.token_type");
  expect_error(
      [](GgufWriter& w) {
        w.set_i32_array("tokenizer.ggml.token_type", {2, 3, 3, 42});
      },
      "tokenizer.ggml.token_type[3]");
  expect_error([](GgufWriter& w) { w.set_string("tokenizer.ggml.model", "t5-unigram"); }, "tokenizer.ggml.model");
  expect_error([](GgufWriter& w) { w.set_u32("tokenizer.ggml.bos_token_id", 4); }, "tokenizer.ggml.bos_token_id");
  expect_error([](GgufWriter& w) { w.set_u32("tokenizer.ggml.eos_token_id", 1000000); }, "tokenizer.ggml.eos_token_id");
  expect_error([](GgufWriter& w) { w.set_string("tokenizer.ggml.model", "gpt2"); }, "tokenizer.ggml.merges");
  expect_error(
      [](GgufWriter& w) {
        w.set_string("tokenizer.ggml.model", "gpt2");
        w.set_string_array("tokenizer.ggml.merges", {"a b", "ab"});
      },
      "tokenizer.ggml.merges[1]");
  expect_error([](GgufWriter& w) { w.set_string("tokenizer.ggml.scores", "x"); }, "tokenizer.ggml.scores");
}

TEST(MalformedVocab, MissingKeys) {
  {
    GgufWriter w;
    w.set_string("tokenizer.ggml.model", "llama");
    const Status s = vocab_load_status(w.to_bytes());
    EXPECT_FALSE(s.is_ok());
    EXPECT_NE(s.message().find("tokenizer.ggml.tokens"), std::string::npos) << s.to_string();
  }
  {
    GgufWriter w;
    w.set_string_array("tokenizer.ggml.tokens", {"a"});
    const Status s = vocab_load_status(w.to_bytes());
    EXPECT_FALSE(s.is_ok());
    EXPECT_NE(s.message().find("tokenizer.ggml.model"), std::string::npos) << s.to_string();
  }
}

TEST(MalformedVocab, UnknownPreTokenizerFallsBackWithANote) {
  const auto bytes = make_vocab_gguf([](GgufWriter& w) {
    w.set_string("tokenizer.ggml.model", "gpt2");
    w.set_string("tokenizer.ggml.pre", "brand-new-model");
    w.set_string_array("tokenizer.ggml.merges", {"a a"});
  });
  auto gguf = GgufFile::parse(bytes.data(), bytes.size(), "vocab.gguf");
  ASSERT_TRUE(gguf.is_ok()) << gguf.status().to_string();
  auto tok = Tokenizer::from_gguf(**gguf);
  ASSERT_TRUE(tok.is_ok()) << tok.status().to_string();
  EXPECT_NE((*tok)->load_note().find("brand-new-model"), std::string::npos);
  EXPECT_EQ((*tok)->pre_tokenizer(), "brand-new-model");
}

TEST(Robustness, OutOfRangeIdsAndInvalidTextDoNotCrash) {
  PM_REQUIRE_FIXTURE(path, "tokenizer/ggml-vocab-llama-spm.gguf");
  auto tok = load_vocab(path);
  ASSERT_NE(tok, nullptr);
  EXPECT_EQ(tok->token_to_piece(-5, true), "");
  EXPECT_EQ(tok->token_to_piece(tok->n_vocab(), true), "");
  EXPECT_EQ(tok->decode({-1, 1 << 30}), "");
  const std::string bad("\xFF\xC0\x80 abc \xE4\xB8", 10);
  EXPECT_EQ(tok->decode(tok->encode(bad, false, false)), bad);
}

TEST(Robustness, RandomBytesAndRandomIds) {
  std::mt19937 rng(20260101);
  for (const char* name : kVocabs) {
    PM_REQUIRE_FIXTURE(path, std::string("tokenizer/ggml-vocab-") + name + ".gguf");
    auto tok = load_vocab(path);
    ASSERT_NE(tok, nullptr);
    for (int round = 0; round < 40; ++round) {
      std::string text(rng() % 200, '\0');
      // Mostly ASCII with some high bytes, so both valid and invalid UTF-8 show up.
      for (char& c : text) c = static_cast<char>(rng() % 4 == 0 ? 0x80 + rng() % 128 : rng() % 128);
      const auto ids = tok->encode(text, true, round % 2 == 0);
      for (TokenId id : ids) ASSERT_TRUE(id >= 0 && id < tok->n_vocab()) << name;
      if (tok->kind() == VocabKind::kBpe) {
        // Byte-level BPE represents valid UTF-8 exactly, as far as the vocab has every byte
        // (falcon lacks a few C0 controls). Invalid bytes can collide with user-defined tokens
        // such as deepseek-coder's "þ", which decode as their text.
        std::string valid;
        for (size_t i = 0, n = rng() % 60; i < n; ++i) {
          const char32_t ranges[][2] = {{0x20, 0x7E},     {0x09, 0x0A},       {0xA0, 0x17F},
                                        {0x4E00, 0x9FFF}, {0x1F300, 0x1FAFF}, {0x0400, 0x04FF}};
          const auto& r = ranges[rng() % 6];
          unicode::append_utf8(r[0] + rng() % (r[1] - r[0] + 1), valid);
        }
        EXPECT_EQ(tok->decode(tok->encode(valid, false, false)), valid) << name;
      }
      std::vector<TokenId> random_ids(rng() % 50);
      for (TokenId& id : random_ids) id = static_cast<TokenId>(rng() % (tok->n_vocab() + 10)) - 5;
      StreamingDetokenizer stream(*tok, round % 3 == 0);
      std::string streamed;
      for (TokenId id : random_ids) streamed += stream.push(id);
      streamed += stream.flush();
      EXPECT_TRUE(unicode::is_valid_utf8(streamed)) << name;
      (void)tok->decode(random_ids, true);
    }
  }
}

// Random vocabularies (random texts, types, scores, merges, special ids, flags): building must
// succeed or fail with a Status, and whatever builds must tokenize random text without crashing.
TEST(Robustness, RandomVocabSpecs) {
  std::mt19937 rng(77);
  const char* const models[] = {"llama", "gpt2", "bert"};
  const char* const pres[] = {"gpt-2", "llama-bpe", "qwen2", "deepseek-coder", "falcon", "nonsense", ""};
  auto random_text = [&](size_t max_len) {
    std::string t(rng() % (max_len + 1), '\0');
    for (char& c : t) c = "ab \xC4\xA0\xE2\x96\x81#<>|x\n"[rng() % 14];
    return t;
  };
  int built = 0;
  for (int round = 0; round < 300; ++round) {
    VocabSpec spec;
    spec.model = models[rng() % 3];
    spec.pre = pres[rng() % 7];
    const size_t n = 1 + rng() % 40;
    for (size_t i = 0; i < n; ++i) spec.tokens.push_back(random_text(6));
    if (rng() % 2) {
      for (size_t i = 0; i < n + (rng() % 10 == 0); ++i) spec.scores.push_back(double(int(rng() % 100)) - 50);
    }
    if (rng() % 2) {
      for (size_t i = 0; i < n + (rng() % 10 == 0); ++i) spec.types.push_back(int64_t(rng() % 8));
    }
    spec.has_merges = rng() % 5 != 0;
    for (size_t i = 0, m = rng() % 30; i < m; ++i) spec.merges.push_back(random_text(5));
    if (rng() % 2) spec.bos = int64_t(rng() % (n + 2)) - 1;
    if (rng() % 2) spec.eos = int64_t(rng() % (n + 2)) - 1;
    if (rng() % 2) spec.unk = int64_t(rng() % (n + 2)) - 1;
    if (rng() % 2) spec.add_bos = rng() % 2 == 0;
    if (rng() % 2) spec.add_space_prefix = rng() % 2 == 0;
    auto tok = build_tokenizer(spec);
    if (!tok.is_ok()) {
      EXPECT_FALSE(tok.status().message().empty());
      continue;
    }
    ++built;
    for (int k = 0; k < 5; ++k) {
      const auto ids = (*tok)->encode(random_text(40), k % 2 == 0, k % 3 == 0);
      for (TokenId id : ids) ASSERT_TRUE(id >= 0 && id < (*tok)->n_vocab());
      (void)(*tok)->decode(ids, k % 2 == 0);
    }
  }
  EXPECT_GT(built, 30);  // the random specs exercise the tokenizers, not only the validation
}

}  // namespace
}  // namespace pm
