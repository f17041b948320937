#define PCRE2_CODE_UNIT_WIDTH 8
#include "tokenizer/pretokenizer.h"

#include <pcre2.h>

#include <array>

#include "tokenizer/unicode.h"

namespace pm {
namespace {

// The expressions below are the published pre-tokenizer patterns of each model family (from
// their tokenizer.json files, as llama.cpp lists them per tokenizer.ggml.pre). Where llama.cpp
// rewrites a pattern for std::regex (case-insensitive groups, possessive quantifiers), the
// original is used: PCRE2 handles it.

// GPT-2. The trailing "|\s+" of the original is unnecessary: unmatched whitespace becomes a
// gap piece, which is what that alternative would have produced.
constexpr const char* kGpt2 = R"('s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S))";

constexpr const char* kLlama3 =
    R"((?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,3}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+)";

constexpr const char* kQwen2 =
    R"((?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+)";

constexpr const char* kSeedCoder =
    R"((?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1}| ?[^\s\p{L}\p{N}\r\n]+|\s*[\r\n]+|\s+(?!\S)|\s+)";

constexpr const char* kBailingMoe =
    R"('(?i:[sdmt]|ll|ve|re)|[^\r\n\p{L}\p{N}]?+\p{L}+|\p{N}| ?[^\s\p{L}\p{N}]++[\r\n]*|\s*[\r\n]|\s+(?!\S)|\s+)";

constexpr const char* kTekken =
    R"([^\r\n\p{L}\p{N}]?[\p{Lu}\p{Lt}\p{Lm}\p{Lo}\p{M}]*[\p{Ll}\p{Lm}\p{Lo}\p{M}]+|[^\r\n\p{L}\p{N}]?[\p{Lu}\p{Lt}\p{Lm}\p{Lo}\p{M}]+[\p{Ll}\p{Lm}\p{Lo}\p{M}]*|\p{N}| ?[^\s\p{L}\p{N}]+[\r\n/]*|\s*[\r\n]+|\s+(?!\S)|\s+)";

constexpr const char* kGpt4o =
    R"([^\r\n\p{L}\p{N}]?[\p{Lu}\p{Lt}\p{Lm}\p{Lo}\p{M}]*[\p{Ll}\p{Lm}\p{Lo}\p{M}]+(?i:'s|'t|'re|'ve|'m|'ll|'d)?|[^\r\n\p{L}\p{N}]?[\p{Lu}\p{Lt}\p{Lm}\p{Lo}\p{M}]+[\p{Ll}\p{Lm}\p{Lo}\p{M}]*(?i:'s|'t|'re|'ve|'m|'ll|'d)?|\p{N}{1,3}| ?[^\s\p{L}\p{N}]+[\r\n/]*|\s*[\r\n]+|\s+(?!\S)|\s+)";

// " ?[^(\s|.,!?…。，、।۔،)]+"
constexpr const char* kPoro = R"( ?[^(\s|.,!?\x{2026}\x{3002}\x{FF0C}\x{3001}\x{0964}\x{06D4}\x{060C})]+)";

// CJK ideographs U+4E00..U+9FA5, U+0800..U+4E00 and Hangul U+AC00..U+D7FF (deepseek).
constexpr const char* kDeepseekCjk = R"([\x{4E00}-\x{9FA5}\x{0800}-\x{4E00}\x{AC00}-\x{D7FF}]+)";

// deepseek-llm's letter class (cased letters of a fixed list), as code point ranges.
constexpr const char* kDeepseekLlmLetters =
    R"(\s?[)"
    R"(\x{41}-\x{5A}\x{61}-\x{7A}\x{B5}\x{C0}-\x{D6}\x{D8}-\x{F6}\x{F8}-\x{1BA})"
    R"(\x{1BC}-\x{1BF}\x{1C4}-\x{293}\x{295}-\x{2AF}\x{370}-\x{373}\x{376}\x{377})"
    R"(\x{37B}-\x{37D}\x{37F}\x{386}\x{388}-\x{38A}\x{38C}\x{38E}-\x{3A1}\x{3A3}-\x{3F5})"
    R"(\x{3F7}-\x{481}\x{48A}-\x{52F}\x{531}-\x{556}\x{10A0}-\x{10C5}\x{13A0}-\x{13F5})"
    R"(\x{13F8}-\x{13FD}\x{1C90}-\x{1CBA}\x{1CBD}-\x{1CBF}\x{1D00}-\x{1D2B})"
    R"(\x{1D6B}-\x{1D77}\x{1D79}-\x{1D9A}\x{1E00}-\x{1F15}\x{1F18}-\x{1F1D})"
    R"(\x{1F20}-\x{1F45}\x{1F48}-\x{1F4D}\x{1F50}-\x{1F57}\x{1F59}\x{1F5B}\x{1F5D})"
    R"(\x{1F5F}-\x{1F7D}\x{1F80}-\x{1FB4}\x{1FB6}-\x{1FBC}\x{1FBE}\x{1FC2}-\x{1FC4})"
    R"(\x{1FC6}-\x{1FCC}\x{1FD0}-\x{1FD3}\x{1FD6}-\x{1FDB}\x{1FE0}-\x{1FEC})"
    R"(\x{1FF2}-\x{1FF4}\x{1FF6}-\x{1FFC}\x{2102}\x{2107}\x{210A}-\x{2113}\x{2115})"
    R"(\x{2119}-\x{211D}\x{2124}\x{2126}\x{2128}\x{212A}-\x{212D}\x{212F}-\x{2134}\x{2139})"
    R"(\x{213C}-\x{213F}\x{2145}-\x{2149}\x{214E}\x{2183}\x{2184}\x{2C00}-\x{2C7B})"
    R"(\x{2C7E}-\x{2CE4}\x{2CEB}-\x{2CEE}\x{2CF2}\x{2CF3}\x{A640}-\x{A66D}\x{A680}-\x{A69B})"
    R"(\x{A722}-\x{A76F}\x{A771}-\x{A787}\x{A78B}-\x{A78E}\x{AB70}-\x{ABBF})"
    R"(\x{FB00}-\x{FB06}\x{FB13}-\x{FB17}\x{FF21}-\x{FF3A}\x{FF41}-\x{FF5A})"
    R"(\x{10400}-\x{1044F}\x{104B0}-\x{104D3}\x{104D8}-\x{104FB}\x{10C80}-\x{10CB2})"
    R"(\x{10CC0}-\x{10CF2}\x{118A0}-\x{118DF}\x{1E900}-\x{1E943})"
    R"(]+)";

struct NamedPreset {
  std::array<std::string_view, 12> names;
  std::vector<std::string> patterns;
  bool ignore_merges = false;
  bool add_bos = false;
  bool add_sep = false;
};

const std::vector<NamedPreset>& presets() {
  static const std::vector<NamedPreset> table = {
      {{"gpt-2", "default", "phi-2", "jina-es", "jina-de", "gigachat", "jina-v2-es", "jina-v2-de", "a.x-4.0", "mellum",
        "exaone4"},
       {kGpt2}},
      {{"mpt", "olmo", "jais", "trillion", "granite-docling"}, {kGpt2}},
      {{"jina-v1-en", "jina-v2-code", "roberta-bpe"}, {kGpt2}, false, false, true},
      {{"llama3", "llama-v3", "llama-bpe", "falcon3", "falcon-h1", "pixtral", "midm-2.0", "lfm2"},
       {kLlama3},
       true,
       true},
      {{"dbrx", "smaug-bpe", "glm4", "chatglm-bpe"}, {kLlama3}},
      {{"qwen2", "deepseek-r1-qwen", "kormo", "megrez", "stablelm2", "hunyuan", "grok-2"}, {kQwen2}},
      {{"deepseek-llm"},
       {"[\r\n]", kDeepseekLlmLetters,
        R"(\s?[!-/:-~\x{FF01}-\x{FF0F}\x{FF1A}-\x{FF5E}\x{2018}-\x{201F}\x{3000}-\x{3002}]+)", "\\s+$", kDeepseekCjk,
        "\\p{N}+"}},
      {{"deepseek-v3", "hunyuan-dense"},
       {"\\p{N}{1,3}", R"([\x{4E00}-\x{9FA5}\x{3040}-\x{309F}\x{30A0}-\x{30FF}]+)",
        R"([!"#$%&'()*+,\-./:;<=>?@\[\\\]^_`{|}~][A-Za-z]+|[^\r\n\p{L}\p{P}\p{S}]?[\p{L}\p{M}]+| ?[\p{P}\p{S}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+)"}},
      {{"deepseek-coder"}, {"[\r\n]", "\\s?\\p{L}+", "\\s?\\p{P}+", kDeepseekCjk, "\\p{N}"}},
      {{"falcon"}, {R"([\p{P}\$\+<=>\^~\|`]+)", kGpt2, "[0-9][0-9][0-9]"}},
      {{"starcoder", "refact", "command-r", "smollm", "codeshell", "exaone", "minerva-7b"}, {"\\p{N}", kGpt2}},
      {{"poro-chat", "bloom", "gpt3-finnish"}, {kPoro}},
      {{"viking"}, {kPoro, "\\p{N}"}},
      {{"tekken"}, {kTekken}, true, true},
      {{"chameleon"},
       {"<sentinel:[0-9]+>", "(IMGIMG)((A|B|C|D|E|F|G|H|I){1,4})Z", "([\\t\\n]|    |  )", "\\p{N}",
        "[\\p{P}!-/:-@\\[-`{-~]", kGpt2},
       false,
       true},
      {{"gpt-4o", "llama4", "minimax-m2"}, {kGpt4o}},
      {{"superbpe"}, {"\\p{N}+", "(?=(\\d{3})+(?!\\d))"}},
      {{"bailingmoe", "bailingmoe2", "llada-moe"}, {kBailingMoe}},
      {{"seed-coder"}, {kSeedCoder}},
  };
  return table;
}

}  // namespace

PreTokenizerPreset pre_tokenizer_preset(std::string_view name) {
  for (const auto& p : presets()) {
    for (std::string_view n : p.names) {
      if (!n.empty() && n == name) {
        return PreTokenizerPreset{p.patterns, p.ignore_merges, p.add_bos, p.add_sep, true};
      }
    }
  }
  PreTokenizerPreset fallback;
  fallback.patterns = {kGpt2};
  fallback.known = false;
  return fallback;
}

struct PreTokenizer::Regex {
  std::string pattern;
  pcre2_code* code = nullptr;
  ~Regex() { pcre2_code_free(code); }
};

PreTokenizer::~PreTokenizer() = default;

Result<std::unique_ptr<PreTokenizer>> PreTokenizer::create(const std::vector<std::string>& patterns) {
  std::unique_ptr<PreTokenizer> pt(new PreTokenizer());
  for (const auto& pattern : patterns) {
    auto re = std::make_unique<Regex>();
    re->pattern = pattern;
    int error_code = 0;
    PCRE2_SIZE error_offset = 0;
    re->code = pcre2_compile(reinterpret_cast<PCRE2_SPTR>(pattern.data()), pattern.size(), PCRE2_UTF | PCRE2_UCP,
                             &error_code, &error_offset, nullptr);
    if (re->code == nullptr) {
      PCRE2_UCHAR message[256];
      pcre2_get_error_message(error_code, message, sizeof(message));
      return Status::invalid_argument("pre-tokenizer regex /" + pattern + "/ at offset " +
                                      std::to_string(error_offset) + ": " + reinterpret_cast<const char*>(message));
    }
    // JIT is an optimisation only: when unavailable the interpreter runs the same pattern.
    (void)pcre2_jit_compile(re->code, PCRE2_JIT_COMPLETE);
    pt->regexes_.push_back(std::move(re));
  }
  return pt;
}

void PreTokenizer::split_one(const Regex& re, std::string_view piece, std::vector<std::string_view>& out) const {
  pcre2_match_data* md = pcre2_match_data_create_from_pattern(re.code, nullptr);
  const auto* subject = reinterpret_cast<PCRE2_SPTR>(piece.data());
  const size_t n = piece.size();
  size_t emitted = 0;  // end of what has been cut off so far
  size_t start = 0;    // where the next search begins
  uint32_t options = 0;
  while (start <= n) {
    const int rc = pcre2_match(re.code, subject, n, start, options | PCRE2_NO_UTF_CHECK, md, nullptr);
    if (rc < 0) {
      if (options == 0) break;  // no further match (or a matching error: keep the rest whole)
      // After an empty match no non-empty one starts here: move one character on.
      options = 0;
      start += start < n ? unicode::utf8_seq_len(static_cast<uint8_t>(piece[start])) : 1;
      continue;
    }
    const PCRE2_SIZE* ov = pcre2_get_ovector_pointer(md);
    const size_t ms = ov[0], me = ov[1];
    if (ms > emitted) out.push_back(piece.substr(emitted, ms - emitted));
    if (me > ms) out.push_back(piece.substr(ms, me - ms));
    if (ms > emitted || me > ms) emitted = me;
    start = me;
    options = me == ms ? (PCRE2_NOTEMPTY_ATSTART | PCRE2_ANCHORED) : 0;
  }
  if (emitted < n) out.push_back(piece.substr(emitted));
  pcre2_match_data_free(md);
}

std::vector<std::string_view> PreTokenizer::split(std::string_view text) const {
  std::vector<std::string_view> pieces, next;
  // Valid UTF-8 runs go through the regexes; each invalid byte is a piece of its own.
  size_t i = 0;
  while (i < text.size()) {
    size_t run_end = i;
    while (run_end < text.size()) {
      const size_t len = unicode::check_utf8_at(text, run_end);
      if (len == 0 || len == unicode::kIncomplete) break;
      run_end += len;
    }
    if (run_end > i) {
      std::vector<std::string_view> run_pieces{text.substr(i, run_end - i)};
      for (const auto& re : regexes_) {
        next.clear();
        for (std::string_view p : run_pieces) split_one(*re, p, next);
        run_pieces.swap(next);
      }
      pieces.insert(pieces.end(), run_pieces.begin(), run_pieces.end());
    }
    if (run_end < text.size()) pieces.push_back(text.substr(run_end, 1));
    i = run_end + (run_end < text.size() ? 1 : 0);
  }
  return pieces;
}

}  // namespace pm
