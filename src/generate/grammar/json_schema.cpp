// JSON Schema -> GBNF (see json_schema.h).
#include "generate/grammar/json_schema.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <deque>
#include <map>
#include <optional>
#include <set>
#include <vector>

#include "generate/grammar/grammar.h"

namespace pm {
namespace {

using Json = nlohmann::ordered_json;
using Range = std::pair<uint32_t, uint32_t>;

constexpr size_t kMaxDepth = 64;          // nested schemas
constexpr size_t kMaxRules = 20000;       // emitted rules
constexpr int64_t kMaxSchemaRepeat = 10000;     // minItems / maxItems / maxLength in the grammar
constexpr int kMaxIntDigits = 16;

// ---- integer ranges as digit-string grammars ----

std::string digits_range_same_len(const std::string& x, const std::string& y) {
  // x <= y, same length, decimal strings (leading zeros allowed here).
  const size_t n = x.size();
  if (n == 0) return "";
  auto cls = [](char a, char b) {
    if (a == b) return std::string("\"") + a + "\"";
    return std::string("[") + a + "-" + b + "]";
  };
  if (n == 1) return cls(x[0], y[0]);
  if (x[0] == y[0]) return "\"" + std::string(1, x[0]) + "\" " + digits_range_same_len(x.substr(1), y.substr(1));
  const std::string x_rest = x.substr(1), y_rest = y.substr(1);
  const bool x_zero = x_rest.find_first_not_of('0') == std::string::npos;
  const bool y_nine = y_rest.find_first_not_of('9') == std::string::npos;
  std::vector<std::string> alts;
  char mid_lo = char(x[0] + 1), mid_hi = char(y[0] - 1);
  if (x_zero) mid_lo = x[0];
  else alts.push_back("\"" + std::string(1, x[0]) + "\" " + digits_range_same_len(x_rest, std::string(n - 1, '9')));
  if (y_nine) mid_hi = y[0];
  if (mid_lo <= mid_hi) alts.push_back(cls(mid_lo, mid_hi) + " [0-9]{" + std::to_string(n - 1) + "}");
  if (!y_nine) alts.push_back("\"" + std::string(1, y[0]) + "\" " + digits_range_same_len(std::string(n - 1, '0'), y_rest));
  std::string out = "(";
  for (size_t i = 0; i < alts.size(); ++i) out += (i ? " | " : "") + alts[i];
  return out + ")";
}

int64_t pow10(int n) {
  int64_t p = 1;
  for (int i = 0; i < n; ++i) p *= 10;
  return p;
}
int n_digits(int64_t v) { return v < 10 ? 1 : 1 + n_digits(v / 10); }

// Non-negative integers in [a, b] (b = nullopt: unbounded) without leading zeros.
std::string nonneg_range(int64_t a, std::optional<int64_t> b) {
  std::vector<std::string> alts;
  const int la = n_digits(a);
  const int lb = b ? n_digits(*b) : la;
  for (int len = la; len <= lb; ++len) {
    const int64_t lo = std::max<int64_t>(a, len == 1 ? 0 : pow10(len - 1));
    const int64_t hi = b ? std::min<int64_t>(*b, pow10(len) - 1) : pow10(len) - 1;
    if (lo > hi) continue;
    alts.push_back(digits_range_same_len(std::to_string(lo), std::to_string(hi)));
  }
  if (!b && la < kMaxIntDigits) alts.push_back("[1-9] [0-9]{" + std::to_string(la) + "," + std::to_string(kMaxIntDigits - 1) + "}");
  std::string out = "(";
  for (size_t i = 0; i < alts.size(); ++i) out += (i ? " | " : "") + alts[i];
  return out + ")";
}

// Integers in [lo, hi]; either bound may be absent. Caller ensures lo <= hi.
std::string int_range(std::optional<int64_t> lo, std::optional<int64_t> hi) {
  std::vector<std::string> alts;
  if (!lo || *lo < 0) {  // negative part: -[max(1,-hi) .. -lo]
    const int64_t a = hi && *hi < 0 ? -*hi : 1;
    std::optional<int64_t> b;
    if (lo) b = -*lo;
    if (!b || a <= *b) alts.push_back("\"-\" " + nonneg_range(a, b));
  }
  if (!hi || *hi >= 0) {
    const int64_t a = lo && *lo > 0 ? *lo : 0;
    alts.push_back(nonneg_range(a, hi));
  }
  std::string out = "(";
  for (size_t i = 0; i < alts.size(); ++i) out += (i ? " | " : "") + alts[i];
  return out + ")";
}

// ---- classes in JSON string form ----

std::string hex_cp(uint32_t cp) {
  char buf[16];
  std::snprintf(buf, sizeof buf, "\\U%08X", cp);
  return buf;
}

std::vector<Range> normalize(std::vector<Range> r) {
  std::sort(r.begin(), r.end());
  std::vector<Range> out;
  for (const Range& x : r) {
    if (!out.empty() && x.first <= out.back().second + 1) out.back().second = std::max(out.back().second, x.second);
    else out.push_back(x);
  }
  return out;
}
std::vector<Range> complement(const std::vector<Range>& r) {
  std::vector<Range> out;
  uint32_t next = 0;
  for (const Range& x : r) {
    if (x.first > next) out.push_back({next, x.first - 1});
    next = x.second + 1;
  }
  if (next <= 0x10FFFF) out.push_back({next, 0x10FFFF});
  return out;
}
bool contains(const std::vector<Range>& r, uint32_t cp) {
  for (const Range& x : r)
    if (cp >= x.first && cp <= x.second) return true;
  return false;
}
std::vector<Range> subtract(const std::vector<Range>& r, const std::vector<Range>& minus) {
  return normalize(complement(normalize([&] {
    std::vector<Range> u = complement(r);
    u.insert(u.end(), minus.begin(), minus.end());
    return u;
  }())));
}

// A set of decoded characters as the JSON-string text that encodes them: raw characters except
// '"', '\\' and controls, which are escaped ('"' -> \", '\\' -> \\); controls are left out.
std::optional<std::string> json_chars(const std::vector<Range>& ranges) {
  const std::vector<Range> raw = subtract(ranges, {{0, 0x1F}, {'"', '"'}, {'\\', '\\'}});
  std::vector<std::string> alts;
  if (!raw.empty()) {
    std::string c = "[";
    for (const Range& x : raw) c += x.first == x.second ? hex_cp(x.first) : hex_cp(x.first) + "-" + hex_cp(x.second);
    alts.push_back(c + "]");
  }
  if (contains(ranges, '"')) alts.push_back("\"\\\\\\\"\"");
  if (contains(ranges, '\\')) alts.push_back("\"\\\\\\\\\"");
  if (alts.empty()) return std::nullopt;
  if (alts.size() == 1) return alts[0];
  std::string out = "(";
  for (size_t i = 0; i < alts.size(); ++i) out += (i ? " | " : "") + alts[i];
  return out + ")";
}

// ---- regex (ECMAScript subset) -> GBNF over the JSON-encoded string body ----

class RegexCompiler {
 public:
  RegexCompiler(std::string_view re, std::string where) : re_(re), where_(std::move(where)) {}

  Result<std::string> run() {
    bool anchored_start = false, anchored_end = false;
    if (!re_.empty() && re_[0] == '^') { anchored_start = true; pos_ = 1; }
    std::string_view body = re_;
    if (body.size() >= 2 && body.back() == '$' && body[body.size() - 2] != '\\') {
      anchored_end = true;
      re_ = re_.substr(0, re_.size() - 1);
    } else if (body.size() == 1 && body[0] == '$') {
      anchored_end = true;
      re_ = "";
    }
    Result<std::string> e = alternation(0);
    if (!e.is_ok()) return e.status();
    if (pos_ < re_.size()) return err("unexpected ')'");
    const std::string any = "char*";
    return std::string(anchored_start ? "" : any + " ") + *e + (anchored_end ? "" : " " + any);
  }

 private:
  std::string_view re_;
  std::string where_;
  size_t pos_ = 0;

  Status err(const std::string& what) const {
    return Status::invalid_argument(where_ + ": pattern at offset " + std::to_string(pos_) + ": " + what);
  }
  bool more() const { return pos_ < re_.size(); }
  char peek() const { return more() ? re_[pos_] : '\0'; }

  Result<std::string> alternation(size_t depth) {
    if (depth > 32) return err("groups nested too deeply");
    std::vector<std::string> alts;
    while (true) {
      Result<std::string> s = sequence(depth);
      if (!s.is_ok()) return s;
      alts.push_back(*s);
      if (peek() == '|') { ++pos_; continue; }
      break;
    }
    std::string out = "(";
    for (size_t i = 0; i < alts.size(); ++i) out += (i ? " | " : "") + (alts[i].empty() ? std::string("\"\"") : alts[i]);
    return out + ")";
  }

  Result<std::string> sequence(size_t depth) {
    std::string out;
    while (more() && peek() != '|' && peek() != ')') {
      Result<std::string> atom_r = atom(depth);
      if (!atom_r.is_ok()) return atom_r;
      std::string a = "(" + *atom_r + ")";
      // quantifiers
      while (more()) {
        const char q = peek();
        if (q == '*' || q == '+' || q == '?') {
          a += q;
          ++pos_;
        } else if (q == '{') {
          const size_t close = re_.find('}', pos_);
          if (close == std::string_view::npos) return err("unterminated {m,n}");
          const std::string body(re_.substr(pos_ + 1, close - pos_ - 1));
          bool ok = !body.empty();
          for (char ch : body) ok = ok && ((ch >= '0' && ch <= '9') || ch == ',');
          if (!ok) return err("bad repetition {" + body + "}");
          a += "{" + body + "}";
          pos_ = close + 1;
        } else {
          break;
        }
        a = "(" + a + ")";
        if (peek() == '?') ++pos_;  // lazy quantifier: same language
      }
      out += (out.empty() ? "" : " ") + a;
    }
    return out;
  }

  // One code point of the pattern (UTF-8).
  uint32_t take_cp() {
    const uint8_t c = uint8_t(re_[pos_]);
    int n = c < 0x80 ? 1 : c >= 0xF0 ? 4 : c >= 0xE0 ? 3 : 2;
    uint32_t cp = n == 1 ? c : c & (0xFF >> (n + 1));
    for (int i = 1; i < n && pos_ + size_t(i) < re_.size(); ++i) cp = (cp << 6) | (uint8_t(re_[pos_ + size_t(i)]) & 0x3F);
    pos_ += size_t(n);
    return cp;
  }

  // Escapes that name classes; returns false when `e` is not one.
  static bool class_escape(char e, std::vector<Range>& out) {
    std::vector<Range> r;
    switch (e) {
      case 'd': case 'D': r = {{'0', '9'}}; break;
      case 'w': case 'W': r = {{'0', '9'}, {'A', 'Z'}, {'_', '_'}, {'a', 'z'}}; break;
      case 's': case 'S': r = {{'\t', '\r'}, {' ', ' '}, {0xA0, 0xA0}, {0x2028, 0x2029}, {0xFEFF, 0xFEFF}}; break;
      default: return false;
    }
    if (e >= 'A' && e <= 'Z') r = complement(normalize(r));
    out.insert(out.end(), r.begin(), r.end());
    return true;
  }

  Status escape_cp(uint32_t& cp) {
    const char e = peek();
    ++pos_;
    switch (e) {
      case 'n': cp = '\n'; break;
      case 't': cp = '\t'; break;
      case 'r': cp = '\r'; break;
      case 'f': cp = '\f'; break;
      case 'v': cp = '\v'; break;
      case '0': cp = 0; break;
      case 'u': case 'x': {
        const int n = e == 'u' ? 4 : 2;
        cp = 0;
        for (int i = 0; i < n; ++i) {
          const char h = peek();
          const int v = h >= '0' && h <= '9' ? h - '0' : h >= 'a' && h <= 'f' ? h - 'a' + 10 : h >= 'A' && h <= 'F' ? h - 'A' + 10 : -1;
          if (v < 0) return err("bad \\" + std::string(1, e) + " escape");
          cp = cp * 16 + uint32_t(v);
          ++pos_;
        }
        break;
      }
      default:
        if ((e >= 'a' && e <= 'z') || (e >= 'A' && e <= 'Z') || (e >= '1' && e <= '9'))
          return err(std::string("unsupported escape \\") + e + " (backreferences, \\b and \\p are not supported)");
        cp = uint8_t(e);
    }
    return Status::ok();
  }

  Result<std::string> chars(const std::vector<Range>& r) {
    std::optional<std::string> s = json_chars(normalize(r));
    if (!s) return err("a character set that no JSON string character can match");
    return *s;
  }

  Result<std::string> atom(size_t depth) {
    const char c = peek();
    if (c == '(') {
      ++pos_;
      if (peek() == '?') {
        if (re_.substr(pos_, 2) == "?:") pos_ += 2;
        else return err("lookaround and named groups are not supported");
      }
      Result<std::string> inner = alternation(depth + 1);
      if (!inner.is_ok()) return inner;
      if (peek() != ')') return err("missing ')'");
      ++pos_;
      return *inner;
    }
    if (c == '[') return char_class();
    if (c == '.') {
      ++pos_;
      return chars(complement({{'\n', '\n'}, {'\r', '\r'}, {0x2028, 0x2029}}));
    }
    if (c == '\\') {
      ++pos_;
      if (!more()) return err("trailing backslash");
      std::vector<Range> r;
      if (class_escape(peek(), r)) { ++pos_; return chars(r); }
      uint32_t cp;
      PM_RETURN_IF_ERROR(escape_cp(cp));
      return chars({{cp, cp}});
    }
    if (c == '*' || c == '+' || c == '?' || c == '{') return err(std::string("nothing to repeat before '") + c + "'");
    if (c == '^' || c == '$') return err("anchors are supported only at the start and end of the pattern");
    const uint32_t cp = take_cp();
    return chars({{cp, cp}});
  }

  Result<std::string> char_class() {
    ++pos_;  // [
    bool negated = false;
    if (peek() == '^') { negated = true; ++pos_; }
    std::vector<Range> r;
    bool first = true;
    while (true) {
      if (!more()) return err("unterminated character class");
      if (peek() == ']' && !first) { ++pos_; break; }
      first = false;
      uint32_t lo;
      if (peek() == '\\') {
        ++pos_;
        if (class_escape(peek(), r)) { ++pos_; continue; }
        PM_RETURN_IF_ERROR(escape_cp(lo));
      } else {
        lo = take_cp();
      }
      uint32_t hi = lo;
      if (peek() == '-' && pos_ + 1 < re_.size() && re_[pos_ + 1] != ']') {
        ++pos_;
        if (peek() == '\\') {
          ++pos_;
          PM_RETURN_IF_ERROR(escape_cp(hi));
        } else {
          hi = take_cp();
        }
        if (hi < lo) return err("reversed range in character class");
      }
      r.push_back({lo, hi});
    }
    r = normalize(r);
    if (negated) r = complement(r);
    return chars(r);
  }
};

// ---- the schema compiler ----

class SchemaCompiler {
 public:
  explicit SchemaCompiler(const Json& root) : root_(root) {}

  Result<std::string> run() {
    Result<std::string> r = visit(root_, "root", "#", 0);
    if (!r.is_ok()) return r.status();
    // Refs are compiled after the schema that used them so recursion works.
    while (!pending_.empty()) {
      const auto [pointer, name] = pending_.front();
      pending_.pop_front();
      Result<const Json*> target = resolve(pointer);
      if (!target.is_ok()) return target.status();
      Result<std::string> body = visit(**target, name, pointer, 0);
      if (!body.is_ok()) return body.status();
      define(name, *body);
    }
    std::string out = "root ::= " + *r + "\n";
    for (const auto& [name, body] : rules_) out += name + " ::= " + body + "\n";
    return out;
  }

 private:
  const Json& root_;
  std::vector<std::pair<std::string, std::string>> rules_;
  std::set<std::string> names_;
  std::map<std::string, std::string> by_body_;
  std::map<std::string, std::string> ref_rules_;
  std::deque<std::pair<std::string, std::string>> pending_;

  static Status bad(const std::string& where, const std::string& what) {
    return Status::invalid_argument("JSON schema " + where + ": " + what);
  }
  static Status unsupported(const std::string& where, const std::string& keyword) {
    return Status::unsupported("JSON schema " + where + ": unsupported keyword '" + keyword + "'");
  }

  std::string fresh_name(const std::string& hint) {
    std::string base;
    for (char c : hint) base += (std::isalnum(uint8_t(c)) ? c : '-');
    if (base.empty()) base = "r";
    if (base.size() > 40) base = base.substr(0, 40);
    std::string name = base;
    for (int i = 2; names_.count(name) || name == "root" || name == "char" || name == "ws"; ++i) name = base + "-" + std::to_string(i);
    names_.insert(name);
    return name;
  }
  void define(const std::string& name, const std::string& body) { rules_.push_back({name, body}); }
  // A rule for `body`, shared with any earlier rule with the same body.
  Result<std::string> rule(const std::string& hint, const std::string& body) {
    auto it = by_body_.find(body);
    if (it != by_body_.end()) return it->second;
    if (rules_.size() > kMaxRules) return bad("#", "the schema is too large (more than " + std::to_string(kMaxRules) + " grammar rules)");
    const std::string name = fresh_name(hint);
    define(name, body);
    by_body_.emplace(body, name);
    return name;
  }
  // Built-in rules, defined on first use.
  std::string builtin(const std::string& name) {
    if (names_.count(name)) return name;
    names_.insert(name);
    static const std::map<std::string, std::string> kRules = {
        {"ws", "[ \\t\\n]{0,3}"},
        {"char", "[^\"\\\\\\x00-\\x1F] | \"\\\\\" ([\"\\\\/bfnrt] | \"u\" ([0-9a-cA-CeEfF] [0-9a-fA-F]{3} | [dD] [0-7] [0-9a-fA-F]{2}))"},
        {"string", "\"\\\"\" char* \"\\\"\""},
        {"integer", "\"-\"? (\"0\" | [1-9] [0-9]{0,15})"},
        {"number", "\"-\"? (\"0\" | [1-9] [0-9]{0,15}) (\".\" [0-9]{1,16})? ([eE] [-+]? [0-9]{1,2})?"},
        {"boolean", "\"true\" | \"false\""},
        {"null", "\"null\""},
        {"value", "object | array | string | number | boolean | null"},
        {"object", "\"{\" ws (string ws \":\" ws value ws (\",\" ws string ws \":\" ws value ws)*)? \"}\""},
        {"array", "\"[\" ws (value ws (\",\" ws value ws)*)? \"]\""},
        {"date", "[0-9]{4} \"-\" ((\"0\" [13578] | \"1\" [02]) \"-\" (\"0\" [1-9] | [12] [0-9] | \"3\" [01]) | (\"0\" [469] | \"11\") \"-\" (\"0\" [1-9] | [12] [0-9] | \"30\") | \"02-\" (\"0\" [1-9] | \"1\" [0-9] | \"2\" [0-9]))"},
        {"time", "([01] [0-9] | \"2\" [0-3]) \":\" [0-5] [0-9] \":\" [0-5] [0-9] (\".\" [0-9]{1,6})? (\"Z\" | [+-] ([01] [0-9] | \"2\" [0-3]) \":\" [0-5] [0-9])"},
        {"uuid", "[0-9a-fA-F]{8} \"-\" [0-9a-fA-F]{4} \"-\" [0-9a-fA-F]{4} \"-\" [0-9a-fA-F]{4} \"-\" [0-9a-fA-F]{12}"},
    };
    static const std::map<std::string, std::vector<std::string>> kDeps = {
        {"string", {"char"}}, {"value", {"object", "array", "string", "number", "boolean", "null"}},
        {"object", {"ws", "string", "value"}}, {"array", {"ws", "value"}}};
    define(name, kRules.at(name));
    if (auto d = kDeps.find(name); d != kDeps.end())
      for (const std::string& dep : d->second) builtin(dep);
    return name;
  }

  Result<const Json*> resolve(const std::string& pointer) {
    if (pointer == "#") return &root_;
    if (pointer.rfind("#/", 0) != 0) return Status::unsupported("JSON schema: $ref '" + pointer + "': only local references (#/...) are supported");
    const Json* cur = &root_;
    size_t i = 2;
    while (i <= pointer.size()) {
      size_t j = pointer.find('/', i);
      if (j == std::string::npos) j = pointer.size();
      std::string tok = pointer.substr(i, j - i);
      std::string key;
      for (size_t k = 0; k < tok.size(); ++k) {
        if (tok[k] == '~' && k + 1 < tok.size()) { key += tok[k + 1] == '1' ? '/' : '~'; ++k; }
        else key += tok[k];
      }
      if (!cur->is_object() || !cur->contains(key)) return bad("$ref '" + pointer + "'", "points at nothing");
      cur = &(*cur)[key];
      i = j + 1;
    }
    return cur;
  }

  static bool is_annotation(const std::string& k) {
    static const std::set<std::string> kIgnored = {"$schema", "$id", "$comment", "title", "description", "default",
                                                   "examples", "deprecated", "readOnly", "writeOnly", "$defs",
                                                   "definitions", "$anchor", "contentMediaType", "contentEncoding"};
    return kIgnored.count(k) > 0;
  }

  static std::string alternation(const std::vector<std::string>& alts) {
    std::string out;
    for (size_t i = 0; i < alts.size(); ++i) out += (i ? " | " : "") + alts[i];
    return out;
  }

  // Returns a GBNF expression (usually a rule name) for the values `s` accepts.
  Result<std::string> visit(const Json& s, const std::string& hint, const std::string& where, size_t depth) {
    if (depth > kMaxDepth) return bad(where, "nested more than " + std::to_string(kMaxDepth) + " levels deep");
    if (s.is_boolean()) {
      if (!s.get<bool>()) return bad(where, "schema 'false' accepts no value");
      return builtin("value");
    }
    if (!s.is_object()) return bad(where, "a schema must be an object or a boolean");

    for (const char* comb : {"$ref", "anyOf", "oneOf", "allOf", "const", "enum"}) {
      if (!s.contains(comb)) continue;
      for (const auto& [k, v] : s.items()) {
        if (k == comb || is_annotation(k) || k == "type") continue;
        // enum/const with a matching type keyword are fine; anything else alongside is not.
        return Status::unsupported("JSON schema " + where + ": keyword '" + k + "' alongside '" + comb + "' is not supported");
      }
    }
    if (s.contains("$ref")) {
      if (!s["$ref"].is_string()) return bad(where + "/$ref", "must be a string");
      const std::string ptr = s["$ref"].get<std::string>();
      auto it = ref_rules_.find(ptr);
      if (it != ref_rules_.end()) return it->second;
      PM_RETURN_IF_ERROR(resolve(ptr).status());
      const std::string name = fresh_name("ref-" + ptr.substr(ptr.rfind('/') + 1));
      ref_rules_.emplace(ptr, name);
      pending_.push_back({ptr, name});
      return name;
    }
    for (const char* comb : {"anyOf", "oneOf"}) {
      if (!s.contains(comb)) continue;
      const Json& list = s[comb];
      if (!list.is_array() || list.empty()) return bad(where + "/" + comb, "must be a non-empty array");
      std::vector<std::string> alts;
      for (size_t i = 0; i < list.size(); ++i) {
        Result<std::string> a = visit(list[i], hint + "-" + std::to_string(i), where + "/" + comb + "/" + std::to_string(i), depth + 1);
        if (!a.is_ok()) return a;
        alts.push_back(*a);
      }
      return rule(hint, alternation(alts));
    }
    if (s.contains("allOf")) {
      const Json& list = s["allOf"];
      if (!list.is_array() || list.size() != 1) return unsupported(where, "allOf (with more than one member)");
      return visit(list[0], hint, where + "/allOf/0", depth + 1);
    }
    if (s.contains("const")) return rule(hint, gbnf_quote(s["const"].dump()));
    if (s.contains("enum")) {
      const Json& list = s["enum"];
      if (!list.is_array()) return bad(where + "/enum", "must be an array");
      if (list.empty()) return bad(where + "/enum", "is empty: no value can satisfy the schema");
      std::vector<std::string> alts;
      for (const Json& v : list) alts.push_back(gbnf_quote(v.dump()));
      return rule(hint, alternation(alts));
    }

    // Types: explicit, or inferred from the keywords present.
    std::vector<std::string> types;
    if (s.contains("type")) {
      const Json& t = s["type"];
      if (t.is_string()) types.push_back(t.get<std::string>());
      else if (t.is_array() && !t.empty()) {
        for (const Json& x : t) {
          if (!x.is_string()) return bad(where + "/type", "must be a string or an array of strings");
          types.push_back(x.get<std::string>());
        }
      } else {
        return bad(where + "/type", "must be a string or a non-empty array of strings");
      }
    }
    static const std::map<std::string, std::string> kKeywordType = {
        {"properties", "object"}, {"required", "object"}, {"additionalProperties", "object"},
        {"items", "array"}, {"minItems", "array"}, {"maxItems", "array"},
        {"minLength", "string"}, {"maxLength", "string"}, {"pattern", "string"}, {"format", "string"},
        {"minimum", "number"}, {"maximum", "number"}, {"exclusiveMinimum", "number"}, {"exclusiveMaximum", "number"}};
    for (const auto& [k, v] : s.items()) {
      if (k == "type" || is_annotation(k)) continue;
      auto it = kKeywordType.find(k);
      if (it == kKeywordType.end()) return unsupported(where, k);
      if (!s.contains("type") && std::find(types.begin(), types.end(), it->second) == types.end()) types.push_back(it->second);
    }
    if (types.empty()) return builtin("value");
    std::vector<std::string> alts;
    for (const std::string& t : types) {
      Result<std::string> a = typed(s, t, types.size() > 1 ? hint + "-" + t : hint, where, depth);
      if (!a.is_ok()) return a;
      alts.push_back(*a);
    }
    if (alts.size() == 1) return alts[0];
    return rule(hint, alternation(alts));
  }

  static Result<std::optional<int64_t>> get_count(const Json& s, const char* key, const std::string& where) {
    if (!s.contains(key)) return std::optional<int64_t>();
    const Json& v = s[key];
    if (!v.is_number_integer() && !(v.is_number_float() && std::floor(v.get<double>()) == v.get<double>()))
      return bad(where + "/" + key, "must be a non-negative integer");
    const double d = v.get<double>();
    if (d < 0) return bad(where + "/" + key, "must be a non-negative integer");
    if (d > double(kMaxSchemaRepeat)) return Status::unsupported("JSON schema " + where + "/" + key + ": values above " + std::to_string(kMaxSchemaRepeat) + " are not supported");
    return std::optional<int64_t>(int64_t(d));
  }
  static Result<std::optional<double>> get_number(const Json& s, const char* key, const std::string& where) {
    if (!s.contains(key)) return std::optional<double>();
    if (!s[key].is_number()) return bad(where + "/" + key, "must be a number");
    const double d = s[key].get<double>();
    if (!std::isfinite(d) || std::fabs(d) > 1e15) return Status::unsupported("JSON schema " + where + "/" + key + ": bounds beyond 1e15 are not supported");
    return std::optional<double>(d);
  }

  Result<std::string> typed(const Json& s, const std::string& type, const std::string& hint, const std::string& where, size_t depth) {
    if (type == "null") return builtin("null");
    if (type == "boolean") return builtin("boolean");
    if (type == "string") return string_schema(s, hint, where);
    if (type == "integer" || type == "number") return number_schema(s, type == "integer", hint, where);
    if (type == "array") return array_schema(s, hint, where, depth);
    if (type == "object") return object_schema(s, hint, where, depth);
    return bad(where + "/type", "unknown type '" + type + "'");
  }

  Result<std::string> string_schema(const Json& s, const std::string& hint, const std::string& where) {
    Result<std::optional<int64_t>> min_len = get_count(s, "minLength", where);
    if (!min_len.is_ok()) return min_len.status();
    Result<std::optional<int64_t>> max_len = get_count(s, "maxLength", where);
    if (!max_len.is_ok()) return max_len.status();
    const bool has_len = min_len->has_value() || max_len->has_value();
    if (s.contains("pattern") && s.contains("format")) return Status::unsupported("JSON schema " + where + ": 'pattern' together with 'format' is not supported");
    if (s.contains("pattern")) {
      if (has_len) return Status::unsupported("JSON schema " + where + ": 'pattern' together with 'minLength'/'maxLength' is not supported");
      if (!s["pattern"].is_string()) return bad(where + "/pattern", "must be a string");
      builtin("char");
      Result<std::string> body = RegexCompiler(s["pattern"].get<std::string>(), "JSON schema " + where + "/pattern").run();
      if (!body.is_ok()) return body.status();
      return rule(hint, "\"\\\"\" " + *body + " \"\\\"\"");
    }
    if (s.contains("format")) {
      if (has_len) return Status::unsupported("JSON schema " + where + ": 'format' together with 'minLength'/'maxLength' is not supported");
      if (!s["format"].is_string()) return bad(where + "/format", "must be a string");
      const std::string f = s["format"].get<std::string>();
      std::string body;
      if (f == "date") body = builtin("date");
      else if (f == "time") body = builtin("time");
      else if (f == "date-time") body = builtin("date") + " \"T\" " + builtin("time");
      else if (f == "uuid") body = builtin("uuid");
      else return Status::unsupported("JSON schema " + where + ": unsupported keyword 'format' value '" + f + "' (supported: date, time, date-time, uuid)");
      return rule(hint, "\"\\\"\" " + body + " \"\\\"\"");
    }
    if (!has_len) return builtin("string");
    const int64_t lo = min_len->value_or(0);
    if (max_len->has_value() && **max_len < lo) return bad(where, "minLength " + std::to_string(lo) + " > maxLength " + std::to_string(**max_len) + ": no string satisfies the schema");
    builtin("char");
    std::string rep = max_len->has_value() ? "{" + std::to_string(lo) + "," + std::to_string(**max_len) + "}" : "{" + std::to_string(lo) + ",}";
    return rule(hint, "\"\\\"\" char" + rep + " \"\\\"\"");
  }

  Result<std::string> number_schema(const Json& s, bool integer, const std::string& hint, const std::string& where) {
    Result<std::optional<double>> mn = get_number(s, "minimum", where), mx = get_number(s, "maximum", where);
    Result<std::optional<double>> xmn = get_number(s, "exclusiveMinimum", where), xmx = get_number(s, "exclusiveMaximum", where);
    for (auto* r : {&mn, &mx, &xmn, &xmx})
      if (!r->is_ok()) return r->status();
    if (!mn->has_value() && !mx->has_value() && !xmn->has_value() && !xmx->has_value()) return builtin(integer ? "integer" : "number");
    // Integer bounds of the values allowed without a fraction.
    std::optional<int64_t> ilo, ihi;
    if (mn->has_value()) ilo = int64_t(std::ceil(**mn));
    if (xmn->has_value()) { const int64_t v = int64_t(std::floor(**xmn)) + 1; ilo = ilo ? std::max(*ilo, v) : v; }
    if (mx->has_value()) ihi = int64_t(std::floor(**mx));
    if (xmx->has_value()) { const int64_t v = int64_t(std::ceil(**xmx)) - 1; ihi = ihi ? std::min(*ihi, v) : v; }
    std::vector<std::string> alts;
    if (!ilo || !ihi || *ilo <= *ihi) alts.push_back(int_range(ilo, ihi));
    if (!integer) {
      // k.ddd with k >= 0 lies in [k, k+1): need k >= lower bound and k+1 <= upper bound.
      const std::optional<int64_t> plo = ilo ? std::optional<int64_t>(std::max<int64_t>(*ilo, 0)) : std::optional<int64_t>(0);
      std::optional<int64_t> phi;
      if (ihi) phi = *ihi - 1;
      if (!phi || *phi >= *plo) alts.push_back(nonneg_range(*plo, phi) + " \".\" [0-9]{1,6}");
      // -k.ddd lies in (-(k+1), -k]: need -k <= upper bound and -(k+1) >= lower bound.
      {
        const int64_t nlo = ihi ? std::max<int64_t>(0, -*ihi) : 0;
        std::optional<int64_t> nhi;
        if (ilo) nhi = -*ilo - 1;
        if (!nhi || *nhi >= nlo) alts.push_back("\"-\" " + nonneg_range(nlo, nhi) + " \".\" [0-9]{1,6}");
      }
    }
    if (alts.empty()) return bad(where, "minimum > maximum: no number satisfies the schema");
    return rule(hint, alternation(alts));
  }

  Result<std::string> array_schema(const Json& s, const std::string& hint, const std::string& where, size_t depth) {
    std::string item = builtin("value");
    if (s.contains("items")) {
      if (s["items"].is_array()) return unsupported(where, "items (as an array of schemas; use one schema)");
      Result<std::string> r = visit(s["items"], hint + "-item", where + "/items", depth + 1);
      if (!r.is_ok()) return r;
      item = *r;
    }
    Result<std::optional<int64_t>> mn = get_count(s, "minItems", where), mx = get_count(s, "maxItems", where);
    if (!mn.is_ok()) return mn.status();
    if (!mx.is_ok()) return mx.status();
    const int64_t lo = mn->value_or(0);
    if (mx->has_value() && **mx < lo) return bad(where, "minItems " + std::to_string(lo) + " > maxItems " + std::to_string(**mx) + ": no array satisfies the schema");
    builtin("ws");
    if (mx->has_value() && **mx == 0) return rule(hint, "\"[\" ws \"]\"");
    const std::string rest_rep = "{" + std::to_string(std::max<int64_t>(0, lo - 1)) + "," +
                                 (mx->has_value() ? std::to_string(**mx - 1) : "") + "}";
    std::string list = item + " ws (\",\" ws " + item + " ws)" + rest_rep;
    if (lo == 0) list = "(" + list + ")?";
    return rule(hint, "\"[\" ws " + list + " \"]\"");
  }

  Result<std::string> object_schema(const Json& s, const std::string& hint, const std::string& where, size_t depth) {
    builtin("ws");
    struct Prop { std::string name; std::string value; bool required; };
    std::vector<Prop> props;
    std::set<std::string> required;
    if (s.contains("required")) {
      if (!s["required"].is_array()) return bad(where + "/required", "must be an array of strings");
      for (const Json& r : s["required"]) {
        if (!r.is_string()) return bad(where + "/required", "must be an array of strings");
        required.insert(r.get<std::string>());
      }
    }
    if (s.contains("properties")) {
      if (!s["properties"].is_object()) return bad(where + "/properties", "must be an object");
      for (const auto& [name, sub] : s["properties"].items()) {
        Result<std::string> v = visit(sub, hint + "-" + name, where + "/properties/" + name, depth + 1);
        if (!v.is_ok()) return v.status();
        props.push_back({name, *v, required.count(name) > 0});
      }
    }
    // Extra properties: only when additionalProperties allows them.
    std::optional<std::string> extra;
    if (s.contains("additionalProperties")) {
      const Json& ap = s["additionalProperties"];
      if (!(ap.is_boolean() && !ap.get<bool>())) {
        Result<std::string> v = visit(ap, hint + "-extra", where + "/additionalProperties", depth + 1);
        if (!v.is_ok()) return v.status();
        extra = *v;
      }
    }
    for (const std::string& r : required) {
      if (std::none_of(props.begin(), props.end(), [&](const Prop& p) { return p.name == r; })) {
        if (s.contains("additionalProperties") && !extra)
          return bad(where, "property '" + r + "' is required but additionalProperties is false and it is not in properties: no object satisfies the schema");
        props.push_back({r, extra ? *extra : builtin("value"), true});
      }
    }
    auto kv = [&](const Prop& p) { return gbnf_quote(Json(p.name).dump()) + " ws \":\" ws " + p.value + " ws"; };
    std::string extra_kv, extra_rest;
    if (extra) {
      builtin("string");
      Result<std::string> r1 = rule(hint + "-kv", builtin("string") + " ws \":\" ws " + *extra + " ws");
      if (!r1.is_ok()) return r1;
      extra_kv = *r1;
      extra_rest = "(\",\" ws " + extra_kv + ")*";
    }
    // rest[i]: properties i.. after something was written; first[i]: the first written from i.
    const size_t n = props.size();
    std::vector<std::string> rest(n + 1), first(n + 1);
    rest[n] = extra ? extra_rest : "";
    first[n] = extra ? "(" + extra_kv + " " + extra_rest + ")?" : "";
    for (size_t i = n; i-- > 0;) {
      std::string r = props[i].required ? "\",\" ws " + kv(props[i]) : "(\",\" ws " + kv(props[i]) + ")?";
      if (!rest[i + 1].empty()) r += " " + rest[i + 1];
      Result<std::string> rn = rule(hint + "-rest", r);
      if (!rn.is_ok()) return rn;
      rest[i] = *rn;
      std::string f = kv(props[i]) + (rest[i + 1].empty() ? "" : " " + rest[i + 1]);
      if (!props[i].required) f += " | " + (first[i + 1].empty() ? std::string("\"\"") : first[i + 1]);
      Result<std::string> fn = rule(hint + "-first", f);
      if (!fn.is_ok()) return fn;
      first[i] = *fn;
    }
    return rule(hint, "\"{\" ws " + (first[0].empty() ? std::string("") : first[0] + " ") + "\"}\"");
  }
};

}  // namespace

Result<std::string> json_schema_value_to_gbnf(const nlohmann::ordered_json& schema) {
  return SchemaCompiler(schema).run();
}

Result<std::string> json_schema_to_gbnf(std::string_view schema_json) {
  Json j = Json::parse(schema_json.begin(), schema_json.end(), nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded()) return Status::invalid_argument("JSON schema: not valid JSON");
  return json_schema_value_to_gbnf(j);
}

}  // namespace pm
