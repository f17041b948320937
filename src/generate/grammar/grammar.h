// Context-free grammars for constrained decoding, written in a GBNF-compatible form and lowered
// to a byte-level rule table that the matcher (grammar/matcher.h) runs as a pushdown automaton.
//
// Grammar text (GBNF, as llama.cpp documents it):
//   root   ::= object                  # one rule per definition; `root` is the start rule
//   object ::= "{" ws ( pair ( "," ws pair )* )? "}"
//   pair   ::= string ":" ws value
//   ws     ::= [ \t\n]{0,3}
// - rule names: [a-zA-Z0-9_-]+ ; a definition may continue over several lines (a new line that
//   starts with `name ::=` begins the next rule); `#` starts a comment to the end of the line.
// - "literal" (UTF-8, escapes \n \r \t \\ \" \' \[ \] \- \xHH \uHHHH \UHHHHHHHH), [a-z0-9_]
//   character classes with ranges, [^...] negation (over all Unicode scalar values), `.` = any
//   character, rule references, ( groups ), alternation `|`, and the postfix operators ? * +
//   {m} {m,} {m,n}.
// - Classes are over code points; they are lowered to UTF-8 byte sequences, so the matcher
//   works on bytes and tokens that end inside a multi-byte character are handled exactly.
// Rules that can call themselves before consuming input with something left to match after the
// call (left recursion) are rejected, as are undefined rules and grammars that match nothing.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "core/status.h"

namespace pm {

// A set of bytes (bit b of w[b / 64]).
struct ByteSet {
  uint64_t w[4] = {0, 0, 0, 0};
  bool has(uint8_t b) const { return (w[b >> 6] >> (b & 63)) & 1; }
  void add(uint8_t b) { w[b >> 6] |= uint64_t(1) << (b & 63); }
  void add_range(uint8_t lo, uint8_t hi) {
    for (unsigned b = lo; b <= hi; ++b) add(uint8_t(b));
  }
  bool operator==(const ByteSet& o) const {
    return w[0] == o.w[0] && w[1] == o.w[1] && w[2] == o.w[2] && w[3] == o.w[3];
  }
};

// For hash maps keyed by byte sets (grammar classes, token-trie subtrees).
struct ByteSetHash {
  size_t operator()(const ByteSet& s) const {
    uint64_t h = s.w[0] * 0x9E3779B97F4A7C15ull;
    h ^= s.w[1] + 0x632BE59BD9B4E019ull + (h << 6) + (h >> 2);
    h ^= s.w[2] + 0x85EBCA77C2B2AE63ull + (h << 6) + (h >> 2);
    h ^= s.w[3] + 0xC2B2AE3D27D4EB4Full + (h << 6) + (h >> 2);
    return size_t(h);
  }
};

// One element of a rule alternative.
enum class GrammarElemKind : uint8_t {
  kEnd,    // end of the alternative
  kBytes,  // one byte from byte_sets[arg]
  kRule,   // rule number arg
};
struct GrammarElem {
  GrammarElemKind kind = GrammarElemKind::kEnd;
  uint32_t arg = 0;
};

// The lowered grammar. Alternatives are laid out back to back in `elems`, each ending in kEnd;
// rule_alts[r] lists the positions in `elems` where rule r's alternatives start.
struct Grammar {
  std::vector<GrammarElem> elems;             // [total elements of all alternatives]
  std::vector<std::vector<uint32_t>> rule_alts;  // [n_rules][n_alternatives] start positions
  std::vector<std::string> rule_names;        // [n_rules]; helper rules are named "parent#N"
  std::vector<ByteSet> byte_sets;             // [distinct byte sets]
  uint32_t root = 0;

  size_t n_rules() const { return rule_alts.size(); }
};

// Size limits that keep a hostile grammar or schema from taking unbounded time or memory.
inline constexpr size_t kMaxGrammarElems = 1u << 21;
inline constexpr size_t kMaxGrammarRules = 1u << 18;
inline constexpr size_t kMaxGrammarNesting = 256;  // nested ( ) groups

// Parses GBNF text; errors carry "line L, column C: ...". `root_name` picks the start rule.
Result<std::shared_ptr<const Grammar>> parse_grammar(std::string_view text, std::string_view root_name = "root");

// Writes a GBNF string literal ("..." with escapes) for `bytes`.
std::string gbnf_quote(std::string_view bytes);

}  // namespace pm
