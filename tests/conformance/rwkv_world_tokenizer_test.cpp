// RWKV World tokenizer: the known vector for rwkv_vocab_v20230424.txt, round trips of any text
// and any byte string, the greedy longest-match rule, streaming detokenization, the vocab file
// parser (and its errors), llama.cpp-style GGUF vocabularies ("rwkv"), the byte-level
// vocabulary, and `pocketmind tokenize` on the vocab file.
#include <gtest/gtest.h>

#include <cstdio>
#include <fstream>
#include <random>
#include <sstream>

#include "formats/gguf.h"
#include "test_util.h"
#include "tokenizer/rwkv_world.h"
#include "tokenizer/tokenizer.h"
#include "tokenizer/unicode.h"

namespace pm {
namespace {

constexpr const char* kVocabFixture = "tokenizer/rwkv_vocab_v20230424.txt";

// The case from the fixtures README (llama.cpp's RWKV test), tokenized without special tokens.
constexpr std::string_view kKnownText = "I'll 'd test блабла 以下は、]) -> <|endoftext|><|padding|> int";
const std::vector<TokenId> kKnownIds = {74,    5229,  274,   101,   32223, 5092, 27980, 2795, 27980, 33,
                                        10399, 10258, 10139, 10079, 1682,  3463, 295,   125,  25258, 7588,
                                        2318,  125,   790,   125,   49520, 125,  63,    21888};

const std::vector<std::string> kTexts = {
    "Hello world! The quick brown fox jumps over the lazy dog.",
    "周六回家吃饭吗？我们在老地方见",
    "明天早上六点半提醒我给妈妈打电话",
    "今日はいい天気ですね。東京駅で三時に会いましょう。",
    "Привет, как дела? Съешь же ещё этих мягких французских булок.",
    "👍🏽 🎉 👨‍👩‍👧 ❤️ 🇨🇳",
    "Meet 妈妈 at 18:30 — 在老地方 🍜, ok?\n\n\tDone. Ünïcödé ñ 𠀀𪚥",
    "int main() {\n    return 0;  // 注释\n}\n",
    "   leading and trailing spaces   \r\n",
    "<|endoftext|> and <s> as plain text",
    "",
};

const Tokenizer* world_vocab() {
  static std::unique_ptr<Tokenizer> tok = [] {
    std::unique_ptr<Tokenizer> t;
    const std::string path = test::fixture(kVocabFixture);
    if (path.empty()) return t;
    auto r = Tokenizer::from_rwkv_vocab_file(path);
    EXPECT_TRUE(r.is_ok()) << r.status().to_string();
    if (r.is_ok()) t = std::move(r).value();
    return t;
  }();
  return tok.get();
}

#define PM_REQUIRE_WORLD(var)                    \
  PM_REQUIRE_FIXTURE(var##_path, kVocabFixture); \
  const Tokenizer* var = world_vocab();          \
  ASSERT_NE(var, nullptr)

std::string write_temp(const std::string& name, const std::string& bytes) {
  const std::string path = test::temp_dir() + "/" + name;
  std::ofstream(path, std::ios::binary) << bytes;
  return path;
}

// The token text llama.cpp's converter stores: Python's repr(bytes) without b'' around it.
std::string python_bytes_repr_body(std::string_view bytes) {
  const bool has_single = bytes.find('\'') != std::string_view::npos;
  const bool has_double = bytes.find('"') != std::string_view::npos;
  const bool escape_single = has_single && has_double;  // repr picks "..." when only ' occurs
  std::string out;
  for (char c : bytes) {
    const auto b = static_cast<uint8_t>(c);
    if (c == '\\') {
      out += "\\\\";
    } else if (c == '\'' && escape_single) {
      out += "\\'";
    } else if (c == '\t') {
      out += "\\t";
    } else if (c == '\n') {
      out += "\\n";
    } else if (c == '\r') {
      out += "\\r";
    } else if (b >= 0x20 && b < 0x7f) {
      out += c;
    } else {
      char hex[8];
      std::snprintf(hex, sizeof(hex), "\\x%02x", b);
      out += hex;
    }
  }
  return out;
}

// A GGUF vocabulary as llama.cpp's convert_hf_to_gguf.py writes an RWKV World model's: "<s>"
// (control), the escaped tokens 1..N, "[PADn]" (unused) up to 65536, eot = 261 ("\n\n").
std::vector<uint8_t> world_gguf_bytes(const Tokenizer& world) {
  std::vector<std::string> tokens = {"<s>"};
  std::vector<int32_t> types = {int32_t(TokenType::kControl)};
  for (TokenId id = 1; id < world.n_vocab(); ++id) {
    tokens.push_back(python_bytes_repr_body(world.token_text(id)));
    types.push_back(int32_t(TokenType::kNormal));
  }
  for (int i = world.n_vocab(); i < 65536; ++i) {
    tokens.push_back("[PAD" + std::to_string(i) + "]");
    types.push_back(int32_t(TokenType::kUnused));
  }
  GgufWriter w;
  w.set_string("general.architecture", "rwkv7");
  w.set_string("tokenizer.ggml.model", "rwkv");
  w.set_string_array("tokenizer.ggml.tokens", tokens);
  w.set_i32_array("tokenizer.ggml.token_type", types);
  w.set_u32("tokenizer.ggml.eot_token_id", 261);
  return w.to_bytes();
}

Result<std::unique_ptr<Tokenizer>> tokenizer_from_gguf_bytes(const std::vector<uint8_t>& bytes) {
  PM_ASSIGN_OR_RETURN(std::unique_ptr<GgufFile> gguf, GgufFile::parse(bytes.data(), bytes.size(), "mem.gguf"));
  return Tokenizer::from_gguf(*gguf);
}

// ---------------------------------------------------------------------------------------------
// The real vocabulary

TEST(RwkvWorld, KnownVector) {
  PM_REQUIRE_WORLD(tok);
  EXPECT_EQ(tok->kind(), VocabKind::kRwkvWorld);
  EXPECT_EQ(tok->n_vocab(), 65530);
  // "<|endoftext|>" in the text is plain bytes by default, as the vector shows.
  EXPECT_EQ(test::ids_string(tok->encode(kKnownText, /*add_special=*/false, /*parse_special=*/false)), test::ids_string(kKnownIds));
  // No BOS by default, so add_special changes nothing.
  EXPECT_EQ(test::ids_string(tok->encode(kKnownText, true, false)), test::ids_string(kKnownIds));
  // With parse_special it is token 0; the text around it is tokenized normally.
  EXPECT_EQ(test::ids_string(tok->encode(kKnownText, false, true)),
            " 74 5229 274 101 32223 5092 27980 2795 27980 33 10399 10258 10139 10079 1682 3463 33 0 61 125 49520 125 "
            "63 21888");
}

TEST(RwkvWorld, SpotChecks) {
  PM_REQUIRE_WORLD(tok);
  EXPECT_EQ(tok->encode("Hello", false, false), (std::vector<TokenId>{33155}));  // RWKV-World-HF-Tokenizer's check
  EXPECT_EQ(tok->encode(" Hello", false, false), (std::vector<TokenId>{36786}));
  EXPECT_EQ(tok->encode("hello world", false, false), (std::vector<TokenId>{34550, 40213}));
  EXPECT_EQ(tok->encode("\n\n", false, false), (std::vector<TokenId>{261}));
  EXPECT_EQ(test::ids_string(tok->encode("周六回家吃饭吗？我们在老地方见", false, false)),
            " 11105 10679 11414 11920 11035 18089 11053 19156 12605 10402 11454 15640 11459 13036 16519");
  EXPECT_EQ(test::ids_string(tok->encode("Привет, мир!", false, false)), " 27858 27950 27930 45 32732 2810 34");
  // A character the vocab lacks is spelled in byte tokens (id = byte + 1).
  EXPECT_EQ(tok->encode("𠀀", false, false), (std::vector<TokenId>{241, 161, 129, 129}));
  // The longest token: 128 spaces.
  EXPECT_EQ(tok->encode(std::string(128, ' '), false, false), (std::vector<TokenId>{65529}));
  EXPECT_EQ(tok->encode(std::string(129, ' '), false, false), (std::vector<TokenId>{65529, 33}));
}

TEST(RwkvWorld, SpecialTokens) {
  PM_REQUIRE_WORLD(tok);
  EXPECT_EQ(tok->token_text(0), "<|endoftext|>");
  EXPECT_TRUE(tok->is_control(0));
  EXPECT_TRUE(tok->is_eog(0));
  EXPECT_EQ(tok->special().eos, 0);
  EXPECT_FALSE(tok->special().add_bos);
  EXPECT_FALSE(tok->is_eog(261));  // the vocab file names no eot
  EXPECT_EQ(tok->token_to_piece(0, false), "");
  EXPECT_EQ(tok->token_to_piece(0, true), "<|endoftext|>");
  EXPECT_EQ(tok->decode({33155, 0, 261}), "Hello\n\n");
  EXPECT_EQ(tok->decode({33155, 0}, /*render_special=*/true), "Hello<|endoftext|>");
  EXPECT_EQ(tok->encode("<|endoftext|>", false, true), (std::vector<TokenId>{0}));
  EXPECT_EQ(tok->token_to_piece(-1, true), "");
  EXPECT_EQ(tok->token_to_piece(tok->n_vocab(), true), "");
}

TEST(RwkvWorld, EveryByteIsAToken) {
  PM_REQUIRE_WORLD(tok);
  for (int b = 0; b < 256; ++b) {
    const std::string s(1, char(b));
    const std::vector<TokenId> ids = tok->encode(s, false, false);
    ASSERT_EQ(ids.size(), 1u) << b;
    EXPECT_EQ(ids[0], b + 1) << b;
    EXPECT_EQ(tok->token_to_piece(ids[0], false), s);
  }
}

TEST(RwkvWorld, RoundTripText) {
  PM_REQUIRE_WORLD(tok);
  for (const std::string& text : kTexts) {
    EXPECT_EQ(tok->decode(tok->encode(text, false, false)), text) << text;
    // <|endoftext|> becomes token 0, which renders as its text only when asked.
    EXPECT_EQ(tok->decode(tok->encode(text, true, true), /*render_special=*/true), text) << text;
  }
}

TEST(RwkvWorld, RoundTripRandomBytes) {
  PM_REQUIRE_WORLD(tok);
  static const char kPieces[] = "ab \n\xe4\xb8\x80\xe5\x9c\xa8\xf0\x9f";
  std::mt19937 rng(20230424);
  for (int i = 0; i < 2000; ++i) {
    std::string s(rng() % 200, '\0');
    const int mode = i % 3;
    for (char& c : s) {
      if (mode == 0)
        c = char(rng() & 0xFF);  // any byte
      else if (mode == 1)
        c = char(0x80 | (rng() & 0x7F));  // UTF-8 fragments
      else
        c = kPieces[rng() % (sizeof(kPieces) - 1)];  // pieces of real tokens
    }
    ASSERT_EQ(tok->decode(tok->encode(s, false, false)), s) << "case " << i;
  }
}

TEST(RwkvWorld, GreedyLongestMatch) {
  PM_REQUIRE_WORLD(tok);
  size_t max_len = 0;
  for (TokenId id = 1; id < tok->n_vocab(); ++id) max_len = std::max(max_len, tok->token_text(id).size());
  EXPECT_EQ(max_len, 128u);
  for (const std::string& text : kTexts) {
    size_t pos = 0;
    for (TokenId id : tok->encode(text, false, false)) {
      const std::string& piece = tok->token_text(id);
      ASSERT_EQ(text.compare(pos, piece.size(), piece), 0) << text;
      // No longer token starts here.
      for (size_t len = piece.size() + 1; len <= max_len && pos + len <= text.size(); ++len) {
        const auto longer = tok->find(std::string_view(text).substr(pos, len));
        EXPECT_TRUE(!longer || tok->is_control(*longer))
            << text << ": at byte " << pos << " token " << id << " (" << piece.size() << " bytes) was chosen over "
            << *longer << " (" << len << " bytes)";
      }
      pos += piece.size();
    }
    EXPECT_EQ(pos, text.size());
  }
}

TEST(RwkvWorld, GreedyLongestMatchOnATinyVocab) {
  // Left to right, the longest token at each position, no lookahead: "abcde" is abcd + e even
  // though ab + cde would also do.
  const std::string path = write_temp("tiny.txt",
                                      "1 'a' 1\n2 'b' 1\n3 'c' 1\n4 'd' 1\n5 'e' 1\n6 'ab' 2\n7 'abc' 3\n"
                                      "8 'cde' 3\n9 'abcd' 4\n");
  auto tok = Tokenizer::from_rwkv_vocab_file(path);
  ASSERT_TRUE(tok.is_ok()) << tok.status().to_string();
  EXPECT_EQ((*tok)->encode("abcde", false, false), (std::vector<TokenId>{9, 5}));   // abcd + e
  EXPECT_EQ((*tok)->encode("abce", false, false), (std::vector<TokenId>{7, 5}));    // abc + e
  EXPECT_EQ((*tok)->encode("abab", false, false), (std::vector<TokenId>{6, 6}));    // ab + ab
  EXPECT_EQ((*tok)->encode("cdeab", false, false), (std::vector<TokenId>{8, 6}));   // cde + ab
  EXPECT_EQ((*tok)->encode("cda", false, false), (std::vector<TokenId>{3, 4, 1}));  // cd is no token
  // A byte no token starts with is dropped when the vocab has no unknown token.
  EXPECT_EQ((*tok)->encode("azb", false, false), (std::vector<TokenId>{1, 2}));
}

TEST(RwkvWorld, StreamingNeverSplitsACharacter) {
  PM_REQUIRE_WORLD(tok);
  bool saw_partial_token = false;
  for (const std::string& text : kTexts) {
    StreamingDetokenizer stream(*tok);
    std::string joined;
    for (TokenId id : tok->encode(text, false, false)) {
      if (!unicode::is_valid_utf8(tok->token_to_piece(id, false))) saw_partial_token = true;
      const std::string out = stream.push(id);
      EXPECT_TRUE(unicode::is_valid_utf8(out)) << text;
      EXPECT_EQ(out.find("\xEF\xBF\xBD"), std::string::npos) << text;  // no U+FFFD for valid text
      joined += out;
    }
    joined += stream.flush();
    EXPECT_EQ(joined, text);
  }
  EXPECT_TRUE(saw_partial_token) << "the texts should include characters spelled in byte tokens";
}

// ---------------------------------------------------------------------------------------------
// The vocab file format

TEST(RwkvVocabFile, Literals) {
  const std::string path = write_temp("literals.txt",
                                      "1 'a' 1\n"
                                      "2 '\\u00e9' 2\n"
                                      "3 \"it's\" 4\n"
                                      "4 b'\\xff\\x00' 2\n"
                                      "5 '\\x41\\101\\n' 3\r\n"  // CRLF line end
                                      "6 'a b' 3\n"
                                      "7 '\\\\' 1\n"
                                      "8 '\\'' 1\n"
                                      "9 '\\q' 2\n"  // unknown escape keeps its backslash, as in Python
                                      "10 '日本' 6\n"
                                      "11 '\\U0001F600' 4\n"
                                      "12 b'\\u' 2\n"   // \u is no escape in bytes
                                      "13 '\\xe9' 2\n"  // str: U+00E9, two bytes in UTF-8
                                      "14 B\"\\t\\\"\" 2\n"
                                      "15 ' ' 1\n"
                                      "\n");  // trailing blank line
  auto tok = Tokenizer::from_rwkv_vocab_file(path);
  ASSERT_TRUE(tok.is_ok()) << tok.status().to_string();
  const Tokenizer& t = **tok;
  ASSERT_EQ(t.n_vocab(), 16);
  const std::vector<std::string> expected = {"<|endoftext|>",
                                             "a",
                                             "\xC3\xA9",
                                             "it's",
                                             std::string("\xff\x00", 2),
                                             "AA\n",
                                             "a b",
                                             "\\",
                                             "'",
                                             "\\q",
                                             "日本",
                                             "\xF0\x9F\x98\x80",
                                             "\\u",
                                             "\xC3\xA9",
                                             "\t\"",
                                             " "};
  for (TokenId id = 0; id < t.n_vocab(); ++id) EXPECT_EQ(t.token_text(id), expected[id]) << id;
  // Equal texts: the higher id wins.
  EXPECT_EQ(t.encode("\xC3\xA9", false, false), (std::vector<TokenId>{13}));
}

TEST(RwkvVocabFile, ParsePythonLiteralErrors) {
  for (const char* bad : {"'abc", "abc", "'a'b", "'\\x4'", "'\\xzz'", "'\\u12'", "'\\ud800'", "'\\U00110000'",
                          "b'\xC3\xA9'", "'\xC3'", "b'\\777'", "'\\N{DIGIT ONE}'", "'", "''x", "r'a'", "'a\\'"}) {
    EXPECT_FALSE(parse_python_literal(bad).is_ok()) << bad;
  }
  EXPECT_EQ(*parse_python_literal("''"), "");
  EXPECT_EQ(*parse_python_literal("u'x'"), "x");
  EXPECT_EQ(*parse_python_literal("'\\0'"), std::string(1, '\0'));
  EXPECT_EQ(*parse_python_literal("'\\a\\b\\f\\v'"), "\a\b\f\v");
  EXPECT_EQ(*parse_python_literal("'\\777'"), "\xC7\xBF");  // U+01FF
}

struct BadVocab {
  const char* name;
  const char* text;
  int line;
  const char* message;  // part of the expected message
};

TEST(RwkvVocabFile, ErrorsNameFileAndLine) {
  const BadVocab cases[] = {
      {"bad literal", "1 'a' 1\n2 'b 1\n", 2, "malformed literal"},
      {"bad escape", "1 'a' 1\n2 'b' 1\n3 '\\xZZ' 1\n", 3, "malformed literal"},
      {"wrong length", "1 'a' 1\n2 '\xC3\xA9' 1\n", 2, "2 bytes long but the line says 1"},
      {"duplicate id", "1 'a' 1\n2 'b' 1\n2 'c' 1\n", 3, "duplicate id 2 (already on line 2)"},
      {"id out of range", "1 'a' 1\n5 'b' 1\n", 2, "out of range"},
      {"id zero", "0 'a' 1\n", 1, "out of range"},
      {"id not a number", "x 'a' 1\n", 1, "not a number"},
      {"length not a number", "1 'a' one\n", 1, "not a number"},
      {"missing fields", "1 'a' 1\n2 'b'\n", 2, "expected 'ID LITERAL LENGTH'"},
      {"non-ascii in bytes", "1 b'\xC3\xA9' 2\n", 1, "bytes literal"},
      {"empty token", "1 '' 0\n", 1, "empty token"},
      {"blank lines counted", "1 'a' 1\n\n\n2 'b' 2\n", 4, "1 bytes long but the line says 2"},
  };
  for (const BadVocab& c : cases) {
    const std::string path = write_temp("bad.txt", c.text);
    auto tok = Tokenizer::from_rwkv_vocab_file(path);
    ASSERT_FALSE(tok.is_ok()) << c.name;
    const std::string& msg = tok.status().message();
    EXPECT_NE(msg.find(path), std::string::npos) << c.name << ": " << msg;
    EXPECT_NE(msg.find("line " + std::to_string(c.line) + ":"), std::string::npos) << c.name << ": " << msg;
    EXPECT_NE(msg.find(c.message), std::string::npos) << c.name << ": " << msg;
  }
  auto missing = Tokenizer::from_rwkv_vocab_file("/nonexistent/rwkv_vocab.txt");
  ASSERT_FALSE(missing.is_ok());
  EXPECT_NE(missing.status().message().find("/nonexistent/rwkv_vocab.txt"), std::string::npos);
  auto empty = Tokenizer::from_rwkv_vocab_file(write_temp("empty.txt", "\n"));
  EXPECT_FALSE(empty.is_ok());
}

TEST(RwkvVocabFile, CorruptedFilesNeverCrash) {
  PM_REQUIRE_FIXTURE(path, kVocabFixture);
  std::string head;
  {
    std::istringstream in(test::read_text(path));
    std::string line;
    for (int i = 0; i < 400 && std::getline(in, line); ++i) head += line + "\n";
  }
  std::mt19937 rng(7);
  const std::string dir = test::temp_dir();
  int n_ok = 0;
  for (int i = 0; i < 300; ++i) {
    std::string s = head;
    for (int k = 0, n = 1 + int(rng() % 4); k < n; ++k) {
      const size_t at = rng() % s.size();
      switch (rng() % 4) {
        case 0:
          s[at] = char(rng() & 0xFF);
          break;
        case 1:
          s.erase(at, 1 + rng() % 3);
          break;
        case 2:
          s.insert(at, 1, "'\"\\b x0\n"[rng() % 8]);
          break;
        default:
          s.resize(at);
          break;
      }
      if (s.empty()) s.push_back('1');
    }
    const std::string file = dir + "/c" + std::to_string(i) + ".txt";
    std::ofstream(file, std::ios::binary) << s;
    auto tok = Tokenizer::from_rwkv_vocab_file(file);
    if (tok.is_ok()) {
      ++n_ok;
      (*tok)->decode((*tok)->encode("abc \xE4\xB8\x80 \xFF", false, true));
    } else {
      EXPECT_NE(tok.status().message().find(file), std::string::npos) << tok.status().message();
    }
  }
  EXPECT_LT(n_ok, 300);
}

// ---------------------------------------------------------------------------------------------
// GGUF and byte-level vocabularies

TEST(RwkvGguf, UnescapesLikeLlamaCpp) {
  EXPECT_EQ(*unescape_rwkv_token("abc"), "abc");
  EXPECT_EQ(*unescape_rwkv_token("\\x00\\xff\\xE4"), std::string("\x00\xff\xe4", 3));
  EXPECT_EQ(*unescape_rwkv_token("\\t\\n\\r"), "\t\n\r");
  EXPECT_EQ(*unescape_rwkv_token("\\\\"), "\\");
  EXPECT_EQ(*unescape_rwkv_token("\\'\""), "'\"");
  EXPECT_FALSE(unescape_rwkv_token("a\\").is_ok());
  EXPECT_FALSE(unescape_rwkv_token("\\x4").is_ok());
  EXPECT_FALSE(unescape_rwkv_token("\\xg0").is_ok());
  EXPECT_EQ(python_bytes_repr_body("it's"), "it's");  // the test's own escaper, against repr()
  EXPECT_EQ(python_bytes_repr_body("'\""), "\\'\"");
  EXPECT_EQ(python_bytes_repr_body("\xe4\xb8\x80\\\n"), "\\xe4\\xb8\\x80\\\\\\n");
}

TEST(RwkvGguf, LoadsAndTokenizesLikeTheVocabFile) {
  PM_REQUIRE_WORLD(world);
  auto loaded = tokenizer_from_gguf_bytes(world_gguf_bytes(*world));
  ASSERT_TRUE(loaded.is_ok()) << loaded.status().to_string();
  const Tokenizer& tok = **loaded;
  EXPECT_EQ(tok.kind(), VocabKind::kRwkvWorld);
  ASSERT_EQ(tok.n_vocab(), 65536);
  for (TokenId id = 1; id < world->n_vocab(); ++id) {
    ASSERT_EQ(tok.token_text(id), world->token_text(id)) << id;
    ASSERT_EQ(tok.token_to_piece(id, false), world->token_to_piece(id, false)) << id;
  }
  EXPECT_EQ(test::ids_string(tok.encode(kKnownText, false, false)), test::ids_string(kKnownIds));
  for (const std::string& text : kTexts) {
    EXPECT_EQ(tok.encode(text, false, false), world->encode(text, false, false)) << text;
    EXPECT_EQ(tok.decode(tok.encode(text, false, false)), text);
  }
  // Token 0 is "<s>" (control, end of generation); eot 261 ("\n\n") stays ordinary text and
  // does not end generation (answers have blank lines; RWKV chats stop on "\n\nUser:");
  // padding tokens are never produced and decode to nothing.
  EXPECT_TRUE(tok.is_control(0));
  EXPECT_TRUE(tok.is_eog(0));
  EXPECT_FALSE(tok.is_eog(261));
  EXPECT_FALSE(tok.is_control(261));
  EXPECT_EQ(tok.encode("a\n\nb", false, false), world->encode("a\n\nb", false, false));
  EXPECT_EQ(tok.token_to_piece(261, false), "\n\n");
  EXPECT_EQ(tok.encode("<s>", false, true), (std::vector<TokenId>{0}));
  EXPECT_EQ(tok.encode("<s>", false, false), world->encode("<s>", false, false));
  EXPECT_EQ(tok.encode("[PAD65535]", false, true), world->encode("[PAD65535]", false, false));
  EXPECT_EQ(tok.token_to_piece(65535, true), "");
}

TEST(RwkvGguf, MalformedEscapeIsAnError) {
  GgufWriter w;
  w.set_string("tokenizer.ggml.model", "rwkv");
  w.set_string_array("tokenizer.ggml.tokens", {"<s>", "a", "b\\"});
  auto tok = tokenizer_from_gguf_bytes(w.to_bytes());
  ASSERT_FALSE(tok.is_ok());
  EXPECT_NE(tok.status().message().find("mem.gguf"), std::string::npos) << tok.status().message();
  EXPECT_NE(tok.status().message().find("tokenizer.ggml.tokens[2]"), std::string::npos) << tok.status().message();
}

TEST(RwkvGguf, ByteLevelVocab) {
  // 256 single-byte tokens in the escaped form (tiny byte-level RWKV models converted to GGUF).
  std::vector<std::string> tokens;
  for (int b = 0; b < 256; ++b) tokens.push_back(python_bytes_repr_body(std::string(1, char(b))));
  GgufWriter w;
  w.set_string("tokenizer.ggml.model", "rwkv");
  w.set_string_array("tokenizer.ggml.tokens", tokens);
  auto loaded = tokenizer_from_gguf_bytes(w.to_bytes());
  ASSERT_TRUE(loaded.is_ok()) << loaded.status().to_string();
  const Tokenizer& tok = **loaded;
  EXPECT_EQ(tok.n_vocab(), 256);
  EXPECT_FALSE(tok.is_eog(0));  // byte 0 is ordinary text here
  std::string all;
  for (int b = 0; b < 256; ++b) all += char(b);
  const std::vector<TokenId> ids = tok.encode(all, true, true);
  ASSERT_EQ(ids.size(), 256u);
  for (int b = 0; b < 256; ++b) EXPECT_EQ(ids[b], b);
  EXPECT_EQ(tok.decode(ids), all);

  const std::unique_ptr<Tokenizer> bytes = Tokenizer::byte_level();
  EXPECT_EQ(bytes->n_vocab(), 256);
  EXPECT_EQ(bytes->encode(all, true, true), ids);
  EXPECT_EQ(bytes->decode(ids), all);
  EXPECT_FALSE(bytes->is_eog(0));
}

// ---------------------------------------------------------------------------------------------
// The command line

TEST(RwkvWorldCli, TokenizeTheVocabFile) {
  PM_REQUIRE_FIXTURE(path, kVocabFixture);
  auto r = test::run_pocketmind({"tokenize", "-m", path, std::string(kKnownText)});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.out, test::ids_string(kKnownIds).substr(1) + "\n");

  r = test::run_pocketmind({"tokenize", "-m", path, "--parse-special", "<|endoftext|>Hello"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.out, "0 33155\n");

  const std::string cases = write_temp("cases.inp", "Hello\n__ggml_vocab_test__\n\n\n\n__ggml_vocab_test__\n");
  r = test::run_pocketmind({"tokenize", "-m", path, "--cases", cases});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.out, " 33155\n 261\n");
}

TEST(RwkvWorldCli, MalformedVocabFileFails) {
  const std::string path = write_temp("broken_vocab.txt", "1 'a' 1\n2 'b' 7\n");
  const auto r = test::run_pocketmind({"tokenize", "-m", path, "ab"});
  EXPECT_NE(r.exit_code, 0);
  EXPECT_NE(r.err.find("line 2"), std::string::npos) << r.err;
}

}  // namespace
}  // namespace pm
