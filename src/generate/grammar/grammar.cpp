// GBNF parser and lowering to the byte-level rule table (see grammar.h).
#include "generate/grammar/grammar.h"

#include <algorithm>
#include <cstring>
#include <map>
#include <unordered_map>

namespace pm {
namespace {

constexpr uint32_t kMaxCodePoint = 0x10FFFF;
constexpr uint32_t kMaxRepeat = 100000;

using Range = std::pair<uint32_t, uint32_t>;  // inclusive code point range
using Seq = std::vector<GrammarElem>;

void append_utf8(std::string& out, uint32_t cp) {
  if (cp < 0x80) {
    out += char(cp);
  } else if (cp < 0x800) {
    out += char(0xC0 | (cp >> 6));
    out += char(0x80 | (cp & 0x3F));
  } else if (cp < 0x10000) {
    out += char(0xE0 | (cp >> 12));
    out += char(0x80 | ((cp >> 6) & 0x3F));
    out += char(0x80 | (cp & 0x3F));
  } else {
    out += char(0xF0 | (cp >> 18));
    out += char(0x80 | ((cp >> 12) & 0x3F));
    out += char(0x80 | ((cp >> 6) & 0x3F));
    out += char(0x80 | (cp & 0x3F));
  }
}

int utf8_len(uint32_t cp) { return cp < 0x80 ? 1 : cp < 0x800 ? 2 : cp < 0x10000 ? 3 : 4; }

// Splits [lo, hi] (same-length code points after the first cut) into runs whose UTF-8 forms are
// a product of byte ranges, e.g. U+0800..U+FFFF -> [E0][A0-BF][80-BF] | [E1-EF][80-BF][80-BF].
void utf8_ranges(uint32_t lo, uint32_t hi, std::vector<std::vector<std::pair<uint8_t, uint8_t>>>& out) {
  static const uint32_t kBounds[] = {0x7F, 0x7FF, 0xFFFF};
  for (uint32_t b : kBounds) {
    if (lo <= b && hi > b) {
      utf8_ranges(lo, b, out);
      utf8_ranges(b + 1, hi, out);
      return;
    }
  }
  const int n = utf8_len(lo);
  for (int i = 1; i < n; ++i) {
    const uint32_t m = (uint32_t(1) << (6 * i)) - 1;
    if ((lo & ~m) != (hi & ~m)) {
      if ((lo & m) != 0) {
        utf8_ranges(lo, lo | m, out);
        utf8_ranges((lo | m) + 1, hi, out);
        return;
      }
      if ((hi & m) != m) {
        utf8_ranges(lo, (hi & ~m) - 1, out);
        utf8_ranges(hi & ~m, hi, out);
        return;
      }
    }
  }
  std::string a, b;
  append_utf8(a, lo);
  append_utf8(b, hi);
  std::vector<std::pair<uint8_t, uint8_t>> seq;
  for (int i = 0; i < n; ++i) seq.push_back({uint8_t(a[size_t(i)]), uint8_t(b[size_t(i)])});
  out.push_back(std::move(seq));
}

class Parser {
 public:
  explicit Parser(std::string_view text) : src_(text), g_(std::make_shared<Grammar>()) {}

  Result<std::shared_ptr<const Grammar>> run(std::string_view root_name) {
    Status st = parse_all();
    if (!st.is_ok()) return st;
    for (size_t r = 0; r < g_->n_rules(); ++r)
      if (!defined_[r]) return error_at(first_use_[r], "undefined rule '" + g_->rule_names[r] + "'");
    auto it = by_name_.find(std::string(root_name));
    if (it == by_name_.end() || !defined_[it->second])
      return Status::invalid_argument("grammar: no rule named '" + std::string(root_name) + "' (the start rule)");
    g_->root = it->second;
    PM_RETURN_IF_ERROR(check());
    return std::shared_ptr<const Grammar>(g_);
  }

 private:
  std::string_view src_;
  size_t pos_ = 0;
  std::shared_ptr<Grammar> g_;
  std::unordered_map<std::string, uint32_t> by_name_;
  std::vector<bool> defined_;
  std::vector<size_t> first_use_;
  std::unordered_map<ByteSet, uint32_t, ByteSetHash> set_ids_;
  std::map<std::vector<Range>, GrammarElem> class_cache_;
  std::vector<uint32_t> aux_count_;

  Status error_at(size_t at, const std::string& what) const {
    size_t line = 1, col = 1;
    for (size_t i = 0; i < at && i < src_.size(); ++i) {
      if (src_[i] == '\n') { ++line; col = 1; } else { ++col; }
    }
    return Status::invalid_argument("grammar: line " + std::to_string(line) + ", column " + std::to_string(col) +
                                    ": " + what);
  }
  Status error(const std::string& what) const { return error_at(pos_, what); }

  bool at_end() const { return pos_ >= src_.size(); }
  char peek(size_t k = 0) const { return pos_ + k < src_.size() ? src_[pos_ + k] : '\0'; }
  static bool is_name_char(char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' || c == '-';
  }
  void skip_space() {
    while (!at_end()) {
      const char c = peek();
      if (c == ' ' || c == '\t' || c == '\r' || c == '\n') {
        ++pos_;
      } else if (c == '#') {
        while (!at_end() && peek() != '\n') ++pos_;
      } else {
        break;
      }
    }
  }
  // True when the text at pos_ is `name ::=` (the start of the next rule).
  bool at_rule_start() const {
    size_t p = pos_;
    while (p < src_.size() && is_name_char(src_[p])) ++p;
    if (p == pos_) return false;
    while (p < src_.size() && (src_[p] == ' ' || src_[p] == '\t')) ++p;
    return src_.substr(p, 3) == "::=";
  }

  uint32_t rule_id(const std::string& name, size_t at) {
    auto [it, fresh] = by_name_.try_emplace(name, uint32_t(g_->n_rules()));
    if (fresh) {
      g_->rule_names.push_back(name);
      g_->rule_alts.emplace_back();
      defined_.push_back(false);
      first_use_.push_back(at);
      aux_count_.push_back(0);
    }
    return it->second;
  }
  uint32_t new_aux_rule(uint32_t parent) {
    // '#' cannot appear in a rule name, so helper names never collide with written ones.
    const std::string name = g_->rule_names[parent] + "#" + std::to_string(++aux_count_[parent]);
    const uint32_t id = rule_id(name, pos_);
    defined_[id] = true;
    return id;
  }
  Status add_alt(uint32_t rule, const Seq& seq) {
    if (g_->elems.size() + seq.size() + 1 > kMaxGrammarElems)
      return error("the grammar is too large (more than " + std::to_string(kMaxGrammarElems) + " elements)");
    if (g_->n_rules() > kMaxGrammarRules)
      return error("the grammar is too large (more than " + std::to_string(kMaxGrammarRules) + " rules)");
    g_->rule_alts[rule].push_back(uint32_t(g_->elems.size()));
    g_->elems.insert(g_->elems.end(), seq.begin(), seq.end());
    g_->elems.push_back({GrammarElemKind::kEnd, 0});
    return Status::ok();
  }
  GrammarElem bytes_elem(const ByteSet& s) {
    auto [it, fresh] = set_ids_.try_emplace(s, uint32_t(g_->byte_sets.size()));
    if (fresh) g_->byte_sets.push_back(s);
    return {GrammarElemKind::kBytes, it->second};
  }
  GrammarElem byte_elem(uint8_t b) {
    ByteSet s;
    s.add(b);
    return bytes_elem(s);
  }

  Status parse_all() {
    skip_space();
    while (!at_end()) {
      const size_t start = pos_;
      while (!at_end() && is_name_char(peek())) ++pos_;
      if (pos_ == start) return error(std::string("expected a rule name, found '") + peek() + "'");
      const std::string name(src_.substr(start, pos_ - start));
      while (peek() == ' ' || peek() == '\t') ++pos_;
      if (src_.substr(pos_, 3) != "::=") return error("expected '::=' after rule name '" + name + "'");
      pos_ += 3;
      const uint32_t id = rule_id(name, start);
      if (defined_[id]) return error_at(start, "rule '" + name + "' is defined twice");
      defined_[id] = true;
      PM_RETURN_IF_ERROR(parse_alternatives(id, 0));
      skip_space();
    }
    return Status::ok();
  }

  // alternatives := sequence ('|' sequence)* ; ends at ')' (nested) or the next rule / EOF.
  Status parse_alternatives(uint32_t rule, size_t depth) {
    if (depth > kMaxGrammarNesting) return error("groups nested too deeply");
    while (true) {
      Seq seq;
      PM_RETURN_IF_ERROR(parse_sequence(rule, depth, seq));
      PM_RETURN_IF_ERROR(add_alt(rule, seq));
      skip_space();
      if (peek() == '|') {
        ++pos_;
        continue;
      }
      return Status::ok();
    }
  }

  Status parse_sequence(uint32_t rule, size_t depth, Seq& seq) {
    while (true) {
      skip_space();
      if (at_end()) return Status::ok();
      const char c = peek();
      if (c == '|' || c == ')') return Status::ok();
      if (at_rule_start()) return Status::ok();  // the next rule (or a missing ')')
      Seq item;
      const size_t item_start = pos_;
      if (c == '"') {
        PM_RETURN_IF_ERROR(parse_literal(item));
      } else if (c == '[') {
        GrammarElem e;
        PM_RETURN_IF_ERROR(parse_class(rule, e));
        item.push_back(e);
      } else if (c == '.') {
        ++pos_;
        GrammarElem e;
        PM_RETURN_IF_ERROR(lower_class(rule, {{0, kMaxCodePoint}}, e));
        item.push_back(e);
      } else if (c == '(') {
        ++pos_;
        const uint32_t sub = new_aux_rule(rule);
        PM_RETURN_IF_ERROR(parse_alternatives(sub, depth + 1));
        skip_space();
        if (peek() != ')') return error("expected ')' to close the group opened at " + where(item_start));
        ++pos_;
        item.push_back({GrammarElemKind::kRule, sub});
      } else if (is_name_char(c)) {
        const size_t start = pos_;
        while (!at_end() && is_name_char(peek())) ++pos_;
        item.push_back({GrammarElemKind::kRule, rule_id(std::string(src_.substr(start, pos_ - start)), start)});
      } else {
        return error(std::string("unexpected character '") + c + "'");
      }
      PM_RETURN_IF_ERROR(parse_postfix(rule, item));
      seq.insert(seq.end(), item.begin(), item.end());
      if (seq.size() > kMaxGrammarElems) return error("the grammar is too large");
    }
  }

  std::string where(size_t at) const {
    size_t line = 1, col = 1;
    for (size_t i = 0; i < at && i < src_.size(); ++i) {
      if (src_[i] == '\n') { ++line; col = 1; } else { ++col; }
    }
    return "line " + std::to_string(line) + ", column " + std::to_string(col);
  }

  Status parse_number(uint32_t& out) {
    const size_t start = pos_;
    uint64_t v = 0;
    while (peek() >= '0' && peek() <= '9') {
      v = v * 10 + uint64_t(peek() - '0');
      if (v > kMaxRepeat) return error_at(start, "repetition count above " + std::to_string(kMaxRepeat));
      ++pos_;
    }
    if (pos_ == start) return error("expected a number");
    out = uint32_t(v);
    return Status::ok();
  }

  Status parse_postfix(uint32_t rule, Seq& item) {
    while (true) {
      const char c = peek();
      uint32_t lo = 0, hi = 0;
      bool unbounded = false;
      if (c == '*') { lo = 0; unbounded = true; ++pos_; }
      else if (c == '+') { lo = 1; unbounded = true; ++pos_; }
      else if (c == '?') { lo = 0; hi = 1; ++pos_; }
      else if (c == '{') {
        ++pos_;
        while (peek() == ' ') ++pos_;
        PM_RETURN_IF_ERROR(parse_number(lo));
        while (peek() == ' ') ++pos_;
        if (peek() == '}') {
          hi = lo;
        } else if (peek() == ',') {
          ++pos_;
          while (peek() == ' ') ++pos_;
          if (peek() == '}') unbounded = true;
          else PM_RETURN_IF_ERROR(parse_number(hi));
          while (peek() == ' ') ++pos_;
          if (!unbounded && hi < lo) return error("repetition {m,n} with n < m");
        }
        if (peek() != '}') return error("expected '}' to close the repetition");
        ++pos_;
      } else {
        return Status::ok();
      }
      PM_RETURN_IF_ERROR(repeat(rule, item, lo, hi, unbounded));
    }
  }

  // item becomes item{lo,hi} (or item{lo,} when unbounded).
  Status repeat(uint32_t rule, Seq& item, uint32_t lo, uint32_t hi, bool unbounded) {
    GrammarElem x = item.size() == 1 ? item[0] : GrammarElem{GrammarElemKind::kRule, 0};
    if (item.size() != 1) {
      const uint32_t sub = new_aux_rule(rule);
      PM_RETURN_IF_ERROR(add_alt(sub, item));
      x = {GrammarElemKind::kRule, sub};
    }
    Seq out;
    if (uint64_t(lo) + (unbounded ? 0 : hi) > kMaxGrammarElems) return error("repetition too large");
    for (uint32_t i = 0; i < lo; ++i) out.push_back(x);
    if (unbounded) {
      const uint32_t star = new_aux_rule(rule);  // star ::= x star |
      PM_RETURN_IF_ERROR(add_alt(star, {x, {GrammarElemKind::kRule, star}}));
      PM_RETURN_IF_ERROR(add_alt(star, {}));
      out.push_back({GrammarElemKind::kRule, star});
    } else if (hi > lo) {
      uint32_t prev = new_aux_rule(rule);  // opt1 ::= x |
      PM_RETURN_IF_ERROR(add_alt(prev, {x}));
      PM_RETURN_IF_ERROR(add_alt(prev, {}));
      for (uint32_t k = 2; k <= hi - lo; ++k) {  // optk ::= x opt(k-1) |
        const uint32_t opt = new_aux_rule(rule);
        PM_RETURN_IF_ERROR(add_alt(opt, {x, {GrammarElemKind::kRule, prev}}));
        PM_RETURN_IF_ERROR(add_alt(opt, {}));
        prev = opt;
      }
      out.push_back({GrammarElemKind::kRule, prev});
    }
    item = std::move(out);
    return Status::ok();
  }

  Status parse_hex(int digits, uint32_t& cp) {
    cp = 0;
    for (int i = 0; i < digits; ++i) {
      const char h = peek();
      int v = h >= '0' && h <= '9' ? h - '0' : h >= 'a' && h <= 'f' ? h - 'a' + 10 : h >= 'A' && h <= 'F' ? h - 'A' + 10 : -1;
      if (v < 0) return error("expected " + std::to_string(digits) + " hex digits");
      cp = cp * 16 + uint32_t(v);
      ++pos_;
    }
    if (cp > kMaxCodePoint || (cp >= 0xD800 && cp <= 0xDFFF)) return error("escape is not a Unicode scalar value");
    return Status::ok();
  }

  // One character of a literal or class at pos_: an escape or one UTF-8 character.
  // `raw` receives the bytes of a raw (unescaped) character; cp its code point.
  Status parse_char(uint32_t& cp, bool& escaped_byte) {
    escaped_byte = false;
    if (at_end()) return error("unexpected end of input");
    const unsigned char c = uint8_t(peek());
    if (c == '\\') {
      ++pos_;
      const char e = peek();
      ++pos_;
      switch (e) {
        case 'n': cp = '\n'; return Status::ok();
        case 'r': cp = '\r'; return Status::ok();
        case 't': cp = '\t'; return Status::ok();
        case '\\': case '"': case '\'': case '[': case ']': case '-': case '^': case '/': cp = uint8_t(e); return Status::ok();
        case 'x': return parse_hex(2, cp);
        case 'u': return parse_hex(4, cp);
        case 'U': return parse_hex(8, cp);
        default: --pos_; return error(std::string("unknown escape '\\") + e + "'");
      }
    }
    if (c < 0x80) {
      cp = c;
      ++pos_;
      return Status::ok();
    }
    const int n = c >= 0xF0 && c < 0xF5 ? 4 : c >= 0xE0 ? 3 : c >= 0xC2 && c < 0xE0 ? 2 : 0;
    if (n == 0 || c >= 0xF5) return error("invalid UTF-8 byte");
    cp = c & (0xFF >> (n + 1));
    for (int i = 1; i < n; ++i) {
      const unsigned char d = uint8_t(peek(size_t(i)));
      if ((d & 0xC0) != 0x80) return error("invalid UTF-8 sequence");
      cp = (cp << 6) | (d & 0x3F);
    }
    if (cp < (n == 2 ? 0x80u : n == 3 ? 0x800u : 0x10000u) || cp > kMaxCodePoint || (cp >= 0xD800 && cp <= 0xDFFF))
      return error("invalid UTF-8 sequence");
    pos_ += size_t(n);
    return Status::ok();
  }

  Status parse_literal(Seq& item) {
    const size_t start = pos_;
    ++pos_;  // "
    std::string bytes;
    while (true) {
      if (at_end() || peek() == '\n') return error_at(start, "unterminated string literal");
      if (peek() == '"') { ++pos_; break; }
      uint32_t cp;
      bool eb;
      PM_RETURN_IF_ERROR(parse_char(cp, eb));
      append_utf8(bytes, cp);
    }
    for (char b : bytes) item.push_back(byte_elem(uint8_t(b)));
    return Status::ok();
  }

  Status parse_class(uint32_t rule, GrammarElem& out) {
    const size_t start = pos_;
    ++pos_;  // [
    bool negated = false;
    if (peek() == '^') { negated = true; ++pos_; }
    std::vector<Range> ranges;
    while (true) {
      if (at_end() || peek() == '\n') return error_at(start, "unterminated character class");
      if (peek() == ']') { ++pos_; break; }
      uint32_t lo, hi;
      bool eb;
      PM_RETURN_IF_ERROR(parse_char(lo, eb));
      hi = lo;
      if (peek() == '-' && peek(1) != ']' && peek(1) != '\0' && peek(1) != '\n') {
        ++pos_;
        PM_RETURN_IF_ERROR(parse_char(hi, eb));
        if (hi < lo) return error("character range is reversed");
      }
      ranges.push_back({lo, hi});
    }
    std::sort(ranges.begin(), ranges.end());
    std::vector<Range> merged;
    for (const Range& r : ranges) {
      if (!merged.empty() && r.first <= merged.back().second + 1) merged.back().second = std::max(merged.back().second, r.second);
      else merged.push_back(r);
    }
    if (negated) {
      std::vector<Range> comp;
      uint32_t next = 0;
      for (const Range& r : merged) {
        if (r.first > next) comp.push_back({next, r.first - 1});
        next = r.second + 1;
      }
      if (next <= kMaxCodePoint) comp.push_back({next, kMaxCodePoint});
      merged = std::move(comp);
    }
    if (merged.empty()) return error_at(start, "character class matches nothing");
    return lower_class(rule, merged, out);
  }

  // A code point class as one element: a byte set when it is ASCII only, else a helper rule
  // whose alternatives are the UTF-8 byte-range sequences.
  Status lower_class(uint32_t rule, std::vector<Range> ranges, GrammarElem& out) {
    // Surrogates are not characters.
    std::vector<Range> cut;
    for (const Range& r : ranges) {
      if (r.second < 0xD800 || r.first > 0xDFFF) { cut.push_back(r); continue; }
      if (r.first < 0xD800) cut.push_back({r.first, 0xD7FF});
      if (r.second > 0xDFFF) cut.push_back({0xE000, r.second});
    }
    if (cut.empty()) return error("character class matches nothing");
    auto cached = class_cache_.find(cut);
    if (cached != class_cache_.end()) { out = cached->second; return Status::ok(); }
    ByteSet ascii;
    bool has_ascii = false;
    std::vector<std::vector<std::pair<uint8_t, uint8_t>>> multi;
    for (const Range& r : cut) {
      if (r.first < 0x80) {
        ascii.add_range(uint8_t(r.first), uint8_t(std::min<uint32_t>(r.second, 0x7F)));
        has_ascii = true;
      }
      if (r.second >= 0x80) utf8_ranges(std::max<uint32_t>(r.first, 0x80), r.second, multi);
    }
    if (multi.empty()) {
      out = bytes_elem(ascii);
    } else {
      const uint32_t sub = new_aux_rule(rule);
      if (has_ascii) PM_RETURN_IF_ERROR(add_alt(sub, {bytes_elem(ascii)}));
      // Merge sequences of the same length whose tails agree (leading bytes become one set).
      std::vector<std::pair<ByteSet, std::vector<std::pair<uint8_t, uint8_t>>>> groups;
      for (const auto& s : multi) {
        std::vector<std::pair<uint8_t, uint8_t>> tail(s.begin() + 1, s.end());
        bool merged = false;
        for (auto& g : groups) {
          if (g.second == tail) { g.first.add_range(s[0].first, s[0].second); merged = true; break; }
        }
        if (!merged) {
          ByteSet lead;
          lead.add_range(s[0].first, s[0].second);
          groups.push_back({lead, tail});
        }
      }
      for (const auto& g : groups) {
        Seq seq{bytes_elem(g.first)};
        for (const auto& [lo, hi] : g.second) {
          ByteSet bs;
          bs.add_range(lo, hi);
          seq.push_back(bytes_elem(bs));
        }
        PM_RETURN_IF_ERROR(add_alt(sub, seq));
      }
      out = {GrammarElemKind::kRule, sub};
    }
    class_cache_.emplace(std::move(cut), out);
    return Status::ok();
  }

  // Productivity (the root can derive some string) and unbounded left recursion.
  Status check() {
    const Grammar& g = *g_;
    const size_t n = g.n_rules();
    auto alt_end = [&](uint32_t p) { while (g.elems[p].kind != GrammarElemKind::kEnd) ++p; return p; };
    std::vector<char> productive(n, 0), nullable(n, 0);
    for (bool changed = true; changed;) {
      changed = false;
      for (size_t r = 0; r < n; ++r) {
        for (uint32_t a : g.rule_alts[r]) {
          bool prod = true, null = true;
          for (uint32_t p = a; g.elems[p].kind != GrammarElemKind::kEnd; ++p) {
            const GrammarElem& e = g.elems[p];
            if (e.kind == GrammarElemKind::kBytes) { null = false; }
            else { prod = prod && productive[e.arg]; null = null && nullable[e.arg]; }
          }
          if (prod && !productive[r]) { productive[r] = 1; changed = true; }
          if (null && !nullable[r]) { nullable[r] = 1; changed = true; }
        }
      }
    }
    if (!productive[g.root])
      return Status::invalid_argument("grammar: rule '" + g.rule_names[g.root] +
                                      "' matches no finite string (every alternative recurses forever)");
    // Left-call graph: r -> s when s can be called before r consumed any byte. A cycle through an
    // edge that leaves something to match after the call would grow the stack without bound.
    struct Edge { uint32_t to; bool tail; };
    std::vector<std::vector<Edge>> edges(n);
    for (size_t r = 0; r < n; ++r) {
      for (uint32_t a : g.rule_alts[r]) {
        for (uint32_t p = a; g.elems[p].kind == GrammarElemKind::kRule; ++p) {
          const uint32_t s = g.elems[p].arg;
          edges[r].push_back({s, g.elems[p + 1].kind == GrammarElemKind::kEnd});
          if (!nullable[s]) break;
        }
        (void)alt_end;
      }
    }
    // Tarjan's strongly connected components, iteratively.
    std::vector<int32_t> index(n, -1), low(n, 0), comp(n, -1);
    std::vector<uint32_t> stack;
    std::vector<char> on_stack(n, 0);
    int32_t counter = 0, n_comp = 0;
    for (size_t start = 0; start < n; ++start) {
      if (index[start] >= 0) continue;
      std::vector<std::pair<uint32_t, size_t>> work{{uint32_t(start), 0}};
      index[start] = low[start] = counter++;
      stack.push_back(uint32_t(start));
      on_stack[start] = 1;
      while (!work.empty()) {
        auto& [v, i] = work.back();
        if (i < edges[v].size()) {
          const uint32_t w = edges[v][i++].to;
          if (index[w] < 0) {
            index[w] = low[w] = counter++;
            stack.push_back(w);
            on_stack[w] = 1;
            work.push_back({w, 0});
          } else if (on_stack[w]) {
            low[v] = std::min(low[v], index[w]);
          }
        } else {
          const uint32_t done = v;
          if (low[done] == index[done]) {
            while (true) {
              const uint32_t x = stack.back();
              stack.pop_back();
              on_stack[x] = 0;
              comp[x] = n_comp;
              if (x == done) break;
            }
            ++n_comp;
          }
          work.pop_back();
          if (!work.empty()) low[work.back().first] = std::min(low[work.back().first], low[done]);
        }
      }
    }
    for (size_t r = 0; r < n; ++r)
      for (const Edge& e : edges[r])
        if (!e.tail && comp[e.to] == comp[r])
          return Status::invalid_argument("grammar: rule '" + g.rule_names[r] + "' is left-recursive (through '" +
                                          g.rule_names[e.to] + "'); rewrite it with repetition, e.g. a ::= b (\"x\" b)*");
    return Status::ok();
  }
};

}  // namespace

Result<std::shared_ptr<const Grammar>> parse_grammar(std::string_view text, std::string_view root_name) {
  return Parser(text).run(root_name);
}

std::string gbnf_quote(std::string_view bytes) {
  static const char kHex[] = "0123456789ABCDEF";
  std::string out = "\"";
  for (char ch : bytes) {
    const uint8_t c = uint8_t(ch);
    if (c == '"' || c == '\\') { out += '\\'; out += ch; }
    else if (c == '\n') out += "\\n";
    else if (c == '\r') out += "\\r";
    else if (c == '\t') out += "\\t";
    else if (c < 0x20 || c == 0x7F) { out += "\\x"; out += kHex[c >> 4]; out += kHex[c & 15]; }
    else out += ch;
  }
  return out + "\"";
}

}  // namespace pm
