// Template text -> syntax tree (ast.h). Two stages: the lexer splits the source into text and tag
// tokens, applying whitespace control the way jinja2 does with trim_blocks and lstrip_blocks; the
// parser is a recursive descent with jinja2's operator precedence (lowest first):
//   a if c else b | or | and | not | comparisons, in, not in | + - | ~ | * / // % | ** |
//   unary - + | postfix . [] () | filters (|) and tests (is)
#include <algorithm>
#include <cerrno>
#include <cstdlib>
#include <cstring>

#include "generate/jinja/ast.h"

namespace pm::jinja {

std::string describe_position(std::string_view src, size_t offset) {
  offset = std::min(offset, src.size());
  size_t line = 1, col = 1;
  for (size_t i = 0; i < offset; ++i) {
    if (src[i] == '\n') {
      ++line;
      col = 1;
    } else if ((static_cast<unsigned char>(src[i]) & 0xC0) != 0x80)
      ++col;
  }
  return "line " + std::to_string(line) + ", column " + std::to_string(col);
}

namespace {

struct Token {
  enum Kind : uint8_t { kText, kVarBegin, kVarEnd, kBlockBegin, kBlockEnd, kName, kString, kInt, kFloat, kOp, kEof };
  Kind kind;
  uint32_t pos;
  std::string text;  // text, names, string values, operators
  int64_t i = 0;
  double f = 0;
};

bool is_space(char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v'; }
bool is_name_start(char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_'; }
bool is_digit(char c) { return c >= '0' && c <= '9'; }

class Lexer {
 public:
  explicit Lexer(std::string_view src) : src_(src) {}

  Status run(std::vector<Token>& out) {
    size_t i = 0;
    bool strip_ws = false;  // the previous tag ended with '-'
    bool trim_nl = false;   // the previous tag was a block or comment (trim_blocks)
    const size_t n = src_.size();
    while (i <= n) {
      size_t j = find_tag(i);
      size_t begin = i, end = j;
      if (strip_ws) {
        while (begin < end && is_space(src_[begin])) ++begin;
      } else if (trim_nl) {
        if (begin < end && src_[begin] == '\n')
          ++begin;
        else if (begin + 1 < end && src_[begin] == '\r' && src_[begin + 1] == '\n')
          begin += 2;
      }
      if (j == n) {
        if (begin < end) out.push_back({Token::kText, uint32_t(begin), std::string(src_.substr(begin, end - begin))});
        break;
      }
      const char type = src_[j + 1];
      const char mod = j + 2 < n ? src_[j + 2] : '\0';
      if (mod == '-') {
        while (end > begin && is_space(src_[end - 1])) --end;
      } else if (type != '{' && mod != '+') {
        // lstrip_blocks: spaces and tabs from the start of the line up to a block or comment tag.
        size_t k = end;
        while (k > i && (src_[k - 1] == ' ' || src_[k - 1] == '\t')) --k;
        if (k == 0 || src_[k - 1] == '\n') end = std::max(begin, k);
      }
      if (begin < end) out.push_back({Token::kText, uint32_t(begin), std::string(src_.substr(begin, end - begin))});
      size_t p = j + 2 + (mod == '-' || mod == '+' ? 1 : 0);
      if (type == '#') {
        const size_t close = src_.find("#}", p);
        if (close == std::string_view::npos) return error(j, "the comment is not closed with '#}'");
        strip_ws = close > p && src_[close - 1] == '-';
        trim_nl = !strip_ws && !(close > p && src_[close - 1] == '+');
        i = close + 2;
        continue;
      }
      const bool is_var = type == '{';
      out.push_back({is_var ? Token::kVarBegin : Token::kBlockBegin, uint32_t(j), ""});
      const size_t first = out.size();
      PM_RETURN_IF_ERROR(tokens(p, is_var, out, strip_ws, trim_nl));
      i = p;
      if (!is_var && out.size() == first + 2 && out[first].kind == Token::kName && out[first].text == "raw") {
        // {% raw %}...{% endraw %}: the text in between is output as written.
        out.resize(first - 1);
        size_t k = i;
        for (;; ++k) {
          k = src_.find("{%", k);
          if (k == std::string_view::npos) return error(j, "'raw' is not closed with '{% endraw %}'");
          size_t q = k + 2;
          if (q < n && (src_[q] == '-' || src_[q] == '+')) ++q;
          while (q < n && is_space(src_[q])) ++q;
          if (src_.compare(q, 6, "endraw") != 0) continue;
          q += 6;
          while (q < n && is_space(src_[q])) ++q;
          const bool dash = q < n && src_[q] == '-';
          if (dash) ++q;
          if (src_.compare(q, 2, "%}") != 0) continue;
          size_t tb = i, te = k;
          if (strip_ws)
            while (tb < te && is_space(src_[tb])) ++tb;
          if (src_[k + 2] == '-')
            while (te > tb && is_space(src_[te - 1])) --te;
          if (tb < te) out.push_back({Token::kText, uint32_t(tb), std::string(src_.substr(tb, te - tb))});
          strip_ws = dash;
          trim_nl = !dash;
          i = q + 2;
          break;
        }
      }
    }
    out.push_back({Token::kEof, uint32_t(n), ""});
    return Status::ok();
  }

 private:
  size_t find_tag(size_t from) const {
    for (size_t k = from; k + 1 < src_.size(); ++k) {
      if (src_[k] == '{' && (src_[k + 1] == '{' || src_[k + 1] == '%' || src_[k + 1] == '#')) return k;
    }
    return src_.size();
  }

  Status error(size_t pos, const std::string& what) const {
    return Status::invalid_argument(describe_position(src_, pos) + ": " + what);
  }

  // Tokens of one tag from p to its closing delimiter; p is left after it.
  Status tokens(size_t& p, bool is_var, std::vector<Token>& out, bool& strip_ws, bool& trim_nl) {
    const size_t n = src_.size();
    const size_t start = p;
    int depth = 0;  // open brackets: a '}' inside a dict literal does not end a {{ }} tag
    while (true) {
      while (p < n && is_space(src_[p])) ++p;
      if (p >= n) return error(start - 2, is_var ? "'{{' is not closed with '}}'" : "'{%' is not closed with '%}'");
      const char c = src_[p];
      const char d = p + 1 < n ? src_[p + 1] : '\0';
      const char e = p + 2 < n ? src_[p + 2] : '\0';
      const char close = is_var ? '}' : '%';
      if (depth == 0 || !is_var) {
        if ((c == '-' || c == '+') && d == close && e == '}') {
          out.push_back({is_var ? Token::kVarEnd : Token::kBlockEnd, uint32_t(p), ""});
          strip_ws = c == '-';
          trim_nl = !is_var && c != '+' && c != '-';
          p += 3;
          return Status::ok();
        }
        if (c == close && d == '}') {
          out.push_back({is_var ? Token::kVarEnd : Token::kBlockEnd, uint32_t(p), ""});
          strip_ws = false;
          trim_nl = !is_var;
          p += 2;
          return Status::ok();
        }
      }
      if (is_name_start(c)) {
        size_t q = p;
        while (q < n && (is_name_start(src_[q]) || is_digit(src_[q]))) ++q;
        out.push_back({Token::kName, uint32_t(p), std::string(src_.substr(p, q - p))});
        p = q;
      } else if (is_digit(c)) {
        PM_RETURN_IF_ERROR(number(p, out));
      } else if (c == '\'' || c == '"') {
        PM_RETURN_IF_ERROR(string(p, out));
      } else {
        static const char* const kOps2[] = {"//", "**", "==", "!=", "<=", ">="};
        std::string op;
        for (const char* o : kOps2)
          if (c == o[0] && d == o[1]) op = o;
        if (op.empty()) {
          if (!std::strchr("+-*/%~<>()[]{},.:|=", c)) return error(p, std::string("unexpected character '") + c + "'");
          op = std::string(1, c);
        }
        if (op == "(" || op == "[" || op == "{") ++depth;
        if ((op == ")" || op == "]" || op == "}") && depth > 0) --depth;
        out.push_back({Token::kOp, uint32_t(p), op});
        p += op.size();
      }
    }
  }

  Status number(size_t& p, std::vector<Token>& out) {
    const size_t n = src_.size(), start = p;
    std::string digits;
    bool is_float = false;
    auto take_digits = [&] {
      while (p < n && (is_digit(src_[p]) || (src_[p] == '_' && p + 1 < n && is_digit(src_[p + 1])))) {
        if (src_[p] != '_') digits += src_[p];
        ++p;
      }
    };
    take_digits();
    if (p + 1 < n && src_[p] == '.' && is_digit(src_[p + 1])) {
      is_float = true;
      digits += src_[p++];
      take_digits();
    }
    if (p < n && (src_[p] == 'e' || src_[p] == 'E')) {
      size_t q = p + 1;
      if (q < n && (src_[q] == '+' || src_[q] == '-')) ++q;
      if (q < n && is_digit(src_[q])) {
        is_float = true;
        digits += 'e';
        digits.append(src_.substr(p + 1, q - p - 1));
        p = q;
        take_digits();
      }
    }
    Token t{is_float ? Token::kFloat : Token::kInt, uint32_t(start), digits};
    if (is_float) {
      t.f = std::strtod(digits.c_str(), nullptr);
    } else {
      errno = 0;
      t.i = std::strtoll(digits.c_str(), nullptr, 10);
      if (errno == ERANGE) return error(start, "integer literal " + digits + " is too large");
    }
    out.push_back(std::move(t));
    return Status::ok();
  }

  static void append_utf8(std::string& s, uint32_t cp) {
    if (cp < 0x80)
      s += char(cp);
    else if (cp < 0x800) {
      s += char(0xC0 | (cp >> 6));
      s += char(0x80 | (cp & 0x3F));
    } else if (cp < 0x10000) {
      s += char(0xE0 | (cp >> 12));
      s += char(0x80 | ((cp >> 6) & 0x3F));
      s += char(0x80 | (cp & 0x3F));
    } else {
      s += char(0xF0 | (cp >> 18));
      s += char(0x80 | ((cp >> 12) & 0x3F));
      s += char(0x80 | ((cp >> 6) & 0x3F));
      s += char(0x80 | (cp & 0x3F));
    }
  }

  // A string literal with Python's escapes (\n \t \r \\ \' \" \xHH \uHHHH; others kept as written).
  Status string(size_t& p, std::vector<Token>& out) {
    const size_t n = src_.size(), start = p;
    const char q = src_[p++];
    std::string s;
    while (true) {
      if (p >= n) return error(start, "the string literal is not closed");
      const char c = src_[p++];
      if (c == q) break;
      if (c != '\\' || p >= n) {
        s += c;
        continue;
      }
      const char e = src_[p++];
      switch (e) {
        case 'n':
          s += '\n';
          break;
        case 't':
          s += '\t';
          break;
        case 'r':
          s += '\r';
          break;
        case '0':
          s += '\0';
          break;
        case 'b':
          s += '\b';
          break;
        case 'f':
          s += '\f';
          break;
        case '\\':
          s += '\\';
          break;
        case '\'':
          s += '\'';
          break;
        case '"':
          s += '"';
          break;
        case '\n':
          break;  // line continuation
        case 'x':
        case 'u': {
          const size_t len = e == 'x' ? 2 : 4;
          uint32_t cp = 0;
          bool ok = p + len <= n;
          for (size_t k = 0; ok && k < len; ++k) {
            const char h = src_[p + k];
            const int v = is_digit(h)              ? h - '0'
                          : (h >= 'a' && h <= 'f') ? h - 'a' + 10
                          : (h >= 'A' && h <= 'F') ? h - 'A' + 10
                                                   : -1;
            if (v < 0) ok = false;
            cp = cp * 16 + uint32_t(v);
          }
          if (!ok) return error(p - 2, std::string("bad \\") + e + " escape in a string literal");
          p += len;
          append_utf8(s, cp);
          break;
        }
        default:
          s += '\\';
          s += e;
      }
    }
    out.push_back({Token::kString, uint32_t(start), std::move(s)});
    return Status::ok();
  }

  std::string_view src_;
};

class Parser {
 public:
  Parser(std::string_view src, std::vector<Token> toks, const Limits& limits)
      : src_(src), t_(std::move(toks)), limits_(limits) {}

  Result<Body> parse() {
    Body body;
    std::string end;
    PM_RETURN_IF_ERROR(parse_body(body, {}, end));
    return body;
  }

 private:
  const Token& cur() const { return t_[k_]; }
  bool at_op(const char* op) const { return cur().kind == Token::kOp && cur().text == op; }
  bool at_name(const char* name) const { return cur().kind == Token::kName && cur().text == name; }
  const Token& peek(size_t ahead = 1) const { return t_[std::min(k_ + ahead, t_.size() - 1)]; }
  void next() {
    if (k_ + 1 < t_.size()) ++k_;
  }

  Status error(uint32_t pos, const std::string& what) const {
    return Status::invalid_argument(describe_position(src_, pos) + ": " + what);
  }
  Status unexpected(const char* wanted) const {
    std::string got;
    switch (cur().kind) {
      case Token::kEof:
        got = "the end of the template";
        break;
      case Token::kVarEnd:
        got = "'}}'";
        break;
      case Token::kBlockEnd:
        got = "'%}'";
        break;
      case Token::kText:
        got = "text";
        break;
      case Token::kString:
        got = "a string";
        break;
      case Token::kInt:
      case Token::kFloat:
        got = "a number";
        break;
      default:
        got = "'" + cur().text + "'";
    }
    return error(cur().pos, std::string("expected ") + wanted + ", found " + got);
  }
  Status expect_op(const char* op) {
    if (!at_op(op)) return unexpected((std::string("'") + op + "'").c_str());
    next();
    return Status::ok();
  }
  Status expect_block_end() {
    if (cur().kind != Token::kBlockEnd) return unexpected("'%}'");
    next();
    return Status::ok();
  }
  Result<std::string> expect_name() {
    if (cur().kind != Token::kName) return unexpected("a name");
    std::string s = cur().text;
    next();
    return s;
  }

  struct DepthGuard {
    explicit DepthGuard(int& d) : d_(d) { ++d_; }
    ~DepthGuard() { --d_; }
    int& d_;
  };

  // Statements until a {% tag %} named in `ends` (consumed up to and including its name; what
  // follows the name is for the caller). At the top level (`ends` empty) until the end.
  Status parse_body(Body& body, std::initializer_list<const char*> ends, std::string& ended_by, uint32_t open_pos = 0) {
    DepthGuard g(depth_);
    if (depth_ > limits_.max_depth) return error(cur().pos, "statements nested too deeply");
    while (true) {
      const Token& t = cur();
      switch (t.kind) {
        case Token::kEof:
          if (ends.size() == 0) return Status::ok();
          {
            std::string want;
            for (const char* e : ends) want += std::string(want.empty() ? "" : " or ") + "'" + e + "'";
            return error(open_pos, "the block starting here is never closed (expected " + want + ")");
          }
        case Token::kText: {
          auto n = std::make_unique<Node>(Node::Kind::kText, t.pos);
          n->text = t.text;
          body.push_back(std::move(n));
          next();
          break;
        }
        case Token::kVarBegin: {
          auto n = std::make_unique<Node>(Node::Kind::kOutput, t.pos);
          next();
          PM_ASSIGN_OR_RETURN(n->expr, parse_expr());
          if (cur().kind != Token::kVarEnd) return unexpected("'}}'");
          next();
          body.push_back(std::move(n));
          break;
        }
        case Token::kBlockBegin: {
          const Token& t = cur();
          next();
          if (cur().kind != Token::kName) return unexpected("a statement name");
          const std::string name = cur().text;
          for (const char* e : ends) {
            if (name == e) {
              ended_by = name;
              next();
              return Status::ok();
            }
          }
          PM_RETURN_IF_ERROR(parse_statement(body, t.pos));
          break;
        }
        default:
          return unexpected("text or a tag");
      }
    }
  }

  // `pos`: where the statement's {% tag starts.
  Status parse_statement(Body& body, uint32_t pos) {
    const std::string name = cur().text;
    next();
    std::string ended;
    if (name == "if") {
      auto n = std::make_unique<Node>(Node::Kind::kIf, pos);
      while (true) {
        PM_ASSIGN_OR_RETURN(ExprPtr c, parse_expr());
        n->conds.push_back(std::move(c));
        PM_RETURN_IF_ERROR(expect_block_end());
        n->bodies.emplace_back();
        PM_RETURN_IF_ERROR(parse_body(n->bodies.back(), {"elif", "else", "endif"}, ended, pos));
        if (ended == "elif") continue;
        if (ended == "else") {
          PM_RETURN_IF_ERROR(expect_block_end());
          n->bodies.emplace_back();
          PM_RETURN_IF_ERROR(parse_body(n->bodies.back(), {"endif"}, ended, pos));
        }
        break;
      }
      body.push_back(std::move(n));
      return expect_block_end();
    }
    if (name == "for") {
      auto n = std::make_unique<Node>(Node::Kind::kFor, pos);
      const bool paren = at_op("(");
      if (paren) next();
      while (true) {
        PM_ASSIGN_OR_RETURN(std::string t, expect_name());
        n->targets.push_back(t);
        if (!at_op(",")) break;
        next();
      }
      if (paren) PM_RETURN_IF_ERROR(expect_op(")"));
      if (!at_name("in")) return unexpected("'in'");
      next();
      PM_ASSIGN_OR_RETURN(n->expr, parse_tuple(/*allow_cond=*/false));
      if (at_name("if")) {
        next();
        PM_ASSIGN_OR_RETURN(n->cond, parse_expr());
      }
      if (at_name("recursive")) return error(cur().pos, "recursive loops are not supported");
      PM_RETURN_IF_ERROR(expect_block_end());
      n->bodies.emplace_back();
      PM_RETURN_IF_ERROR(parse_body(n->bodies.back(), {"else", "endfor"}, ended, pos));
      if (ended == "else") {
        PM_RETURN_IF_ERROR(expect_block_end());
        n->bodies.emplace_back();
        PM_RETURN_IF_ERROR(parse_body(n->bodies.back(), {"endfor"}, ended, pos));
      }
      body.push_back(std::move(n));
      return expect_block_end();
    }
    if (name == "set") {
      auto n = std::make_unique<Node>(Node::Kind::kSet, pos);
      const bool paren = at_op("(");
      if (paren) next();
      PM_ASSIGN_OR_RETURN(std::string first, expect_name());
      n->targets.push_back(first);
      if (at_op(".")) {
        next();
        PM_ASSIGN_OR_RETURN(n->attr, expect_name());
      } else {
        while (at_op(",")) {
          next();
          PM_ASSIGN_OR_RETURN(std::string t, expect_name());
          n->targets.push_back(t);
        }
      }
      if (paren) PM_RETURN_IF_ERROR(expect_op(")"));
      if (cur().kind == Token::kBlockEnd && n->targets.size() == 1 && n->attr.empty()) {
        next();
        n->bodies.emplace_back();
        PM_RETURN_IF_ERROR(parse_body(n->bodies.back(), {"endset"}, ended, pos));
        body.push_back(std::move(n));
        return expect_block_end();
      }
      PM_RETURN_IF_ERROR(expect_op("="));
      PM_ASSIGN_OR_RETURN(n->expr, parse_tuple(true));
      body.push_back(std::move(n));
      return expect_block_end();
    }
    if (name == "macro") {
      auto n = std::make_unique<Node>(Node::Kind::kMacro, pos);
      PM_ASSIGN_OR_RETURN(n->text, expect_name());
      PM_RETURN_IF_ERROR(expect_op("("));
      while (!at_op(")")) {
        PM_ASSIGN_OR_RETURN(std::string p, expect_name());
        n->targets.push_back(p);
        ExprPtr def;
        if (at_op("=")) {
          next();
          PM_ASSIGN_OR_RETURN(def, parse_expr());
        }
        n->defaults.push_back(std::move(def));
        if (!at_op(",")) break;
        next();
      }
      PM_RETURN_IF_ERROR(expect_op(")"));
      PM_RETURN_IF_ERROR(expect_block_end());
      n->bodies.emplace_back();
      PM_RETURN_IF_ERROR(parse_body(n->bodies.back(), {"endmacro"}, ended, pos));
      if (cur().kind == Token::kName) next();  // {% endmacro name %}
      body.push_back(std::move(n));
      return expect_block_end();
    }
    if (name == "break" || name == "continue") {
      body.push_back(std::make_unique<Node>(name == "break" ? Node::Kind::kBreak : Node::Kind::kContinue, pos));
      return expect_block_end();
    }
    if (name == "generation") {  // transformers' assistant-mask marker: renders its body
      auto n = std::make_unique<Node>(Node::Kind::kBlock, pos);
      PM_RETURN_IF_ERROR(expect_block_end());
      n->bodies.emplace_back();
      PM_RETURN_IF_ERROR(parse_body(n->bodies.back(), {"endgeneration"}, ended, pos));
      body.push_back(std::move(n));
      return expect_block_end();
    }
    return error(pos, "unsupported statement '" + name + "'");
  }

  // expr (',' expr)* -> one expression or a list (tuple).
  Result<ExprPtr> parse_tuple(bool allow_cond) {
    const uint32_t pos = cur().pos;
    PM_ASSIGN_OR_RETURN(ExprPtr first, parse_expr(allow_cond));
    if (!at_op(",")) return first;
    auto list = std::make_unique<Expr>(Expr::Kind::kList, pos);
    list->items.push_back(std::move(first));
    while (at_op(",")) {
      next();
      if (cur().kind == Token::kBlockEnd || cur().kind == Token::kVarEnd) break;
      PM_ASSIGN_OR_RETURN(ExprPtr e, parse_expr(allow_cond));
      list->items.push_back(std::move(e));
    }
    return list;
  }

  Result<ExprPtr> parse_expr(bool allow_cond = true) {
    DepthGuard g(depth_);
    if (depth_ > limits_.max_depth) return error(cur().pos, "expression nested too deeply");
    PM_ASSIGN_OR_RETURN(ExprPtr e, parse_or());
    while (allow_cond && at_name("if")) {
      auto c = std::make_unique<Expr>(Expr::Kind::kCond, cur().pos);
      next();
      PM_ASSIGN_OR_RETURN(ExprPtr test, parse_or());
      ExprPtr other;
      if (at_name("else")) {
        next();
        PM_ASSIGN_OR_RETURN(other, parse_expr());
      }
      c->items.push_back(std::move(e));
      c->items.push_back(std::move(test));
      c->items.push_back(std::move(other));
      e = std::move(c);
    }
    return e;
  }

  ExprPtr binary(Expr::Kind k, const std::string& op, uint32_t pos, ExprPtr a, ExprPtr b) {
    auto e = std::make_unique<Expr>(k, pos);
    e->name = op;
    e->items.push_back(std::move(a));
    e->items.push_back(std::move(b));
    return e;
  }

  Result<ExprPtr> parse_or() {
    PM_ASSIGN_OR_RETURN(ExprPtr e, parse_and());
    while (at_name("or")) {
      const uint32_t pos = cur().pos;
      next();
      PM_ASSIGN_OR_RETURN(ExprPtr r, parse_and());
      e = binary(Expr::Kind::kOr, "or", pos, std::move(e), std::move(r));
    }
    return e;
  }
  Result<ExprPtr> parse_and() {
    PM_ASSIGN_OR_RETURN(ExprPtr e, parse_not());
    while (at_name("and")) {
      const uint32_t pos = cur().pos;
      next();
      PM_ASSIGN_OR_RETURN(ExprPtr r, parse_not());
      e = binary(Expr::Kind::kAnd, "and", pos, std::move(e), std::move(r));
    }
    return e;
  }
  Result<ExprPtr> parse_not() {
    if (at_name("not")) {
      DepthGuard g(depth_);
      if (depth_ > limits_.max_depth) return error(cur().pos, "expression nested too deeply");
      auto e = std::make_unique<Expr>(Expr::Kind::kNot, cur().pos);
      next();
      PM_ASSIGN_OR_RETURN(ExprPtr x, parse_not());
      e->items.push_back(std::move(x));
      return ExprPtr(std::move(e));
    }
    return parse_compare();
  }
  Result<ExprPtr> parse_compare() {
    PM_ASSIGN_OR_RETURN(ExprPtr e, parse_math1());
    while (true) {
      const uint32_t pos = cur().pos;
      std::string op;
      if (cur().kind == Token::kOp && (cur().text == "==" || cur().text == "!=" || cur().text == "<" ||
                                       cur().text == ">" || cur().text == "<=" || cur().text == ">=")) {
        op = cur().text;
        next();
      } else if (at_name("in")) {
        op = "in";
        next();
      } else if (at_name("not") && peek().kind == Token::kName && peek().text == "in") {
        op = "not in";
        next();
        next();
      } else {
        return e;
      }
      PM_ASSIGN_OR_RETURN(ExprPtr r, parse_math1());
      e = binary(Expr::Kind::kBinary, op, pos, std::move(e), std::move(r));
    }
  }
  Result<ExprPtr> parse_math1() {
    PM_ASSIGN_OR_RETURN(ExprPtr e, parse_concat());
    while (at_op("+") || at_op("-")) {
      const std::string op = cur().text;
      const uint32_t pos = cur().pos;
      next();
      PM_ASSIGN_OR_RETURN(ExprPtr r, parse_concat());
      e = binary(Expr::Kind::kBinary, op, pos, std::move(e), std::move(r));
    }
    return e;
  }
  Result<ExprPtr> parse_concat() {
    PM_ASSIGN_OR_RETURN(ExprPtr e, parse_math2());
    while (at_op("~")) {
      const uint32_t pos = cur().pos;
      next();
      PM_ASSIGN_OR_RETURN(ExprPtr r, parse_math2());
      e = binary(Expr::Kind::kBinary, "~", pos, std::move(e), std::move(r));
    }
    return e;
  }
  Result<ExprPtr> parse_math2() {
    PM_ASSIGN_OR_RETURN(ExprPtr e, parse_pow());
    while (at_op("*") || at_op("/") || at_op("//") || at_op("%")) {
      const std::string op = cur().text;
      const uint32_t pos = cur().pos;
      next();
      PM_ASSIGN_OR_RETURN(ExprPtr r, parse_pow());
      e = binary(Expr::Kind::kBinary, op, pos, std::move(e), std::move(r));
    }
    return e;
  }
  Result<ExprPtr> parse_pow() {
    PM_ASSIGN_OR_RETURN(ExprPtr e, parse_unary(true));
    while (at_op("**")) {
      const uint32_t pos = cur().pos;
      next();
      PM_ASSIGN_OR_RETURN(ExprPtr r, parse_unary(true));
      e = binary(Expr::Kind::kBinary, "**", pos, std::move(e), std::move(r));
    }
    return e;
  }
  Result<ExprPtr> parse_unary(bool with_filter) {
    DepthGuard g(depth_);
    if (depth_ > limits_.max_depth) return error(cur().pos, "expression nested too deeply");
    ExprPtr e;
    if (at_op("-") || at_op("+")) {
      e = std::make_unique<Expr>(at_op("-") ? Expr::Kind::kNeg : Expr::Kind::kPos, cur().pos);
      next();
      PM_ASSIGN_OR_RETURN(ExprPtr x, parse_unary(false));
      e->items.push_back(std::move(x));
    } else {
      PM_ASSIGN_OR_RETURN(e, parse_primary());
    }
    PM_ASSIGN_OR_RETURN(e, parse_postfix(std::move(e)));
    if (with_filter) return parse_filters(std::move(e));
    return e;
  }

  Result<ExprPtr> parse_primary() {
    const Token& t = cur();
    const uint32_t pos = t.pos;
    switch (t.kind) {
      case Token::kName: {
        auto e = std::make_unique<Expr>(Expr::Kind::kLiteral, pos);
        if (t.text == "true" || t.text == "True")
          e->value = Value(true);
        else if (t.text == "false" || t.text == "False")
          e->value = Value(false);
        else if (t.text == "none" || t.text == "None")
          e->value = Value::none();
        else {
          e->kind = Expr::Kind::kName;
          e->name = t.text;
        }
        next();
        return ExprPtr(std::move(e));
      }
      case Token::kString: {
        std::string s;
        while (cur().kind == Token::kString) {  // adjacent literals concatenate, as in Python
          s += cur().text;
          next();
        }
        auto e = std::make_unique<Expr>(Expr::Kind::kLiteral, pos);
        e->value = Value(std::move(s));
        return ExprPtr(std::move(e));
      }
      case Token::kInt:
      case Token::kFloat: {
        auto e = std::make_unique<Expr>(Expr::Kind::kLiteral, pos);
        e->value = t.kind == Token::kInt ? Value(t.i) : Value(t.f);
        next();
        return ExprPtr(std::move(e));
      }
      case Token::kOp:
        if (t.text == "(") {
          next();
          if (at_op(")")) {  // empty tuple
            next();
            return ExprPtr(std::make_unique<Expr>(Expr::Kind::kList, pos));
          }
          PM_ASSIGN_OR_RETURN(ExprPtr e, parse_tuple(true));
          PM_RETURN_IF_ERROR(expect_op(")"));
          return e;
        }
        if (t.text == "[") {
          auto e = std::make_unique<Expr>(Expr::Kind::kList, pos);
          next();
          while (!at_op("]")) {
            PM_ASSIGN_OR_RETURN(ExprPtr x, parse_expr());
            e->items.push_back(std::move(x));
            if (!at_op(",")) break;
            next();
          }
          PM_RETURN_IF_ERROR(expect_op("]"));
          return ExprPtr(std::move(e));
        }
        if (t.text == "{") {
          auto e = std::make_unique<Expr>(Expr::Kind::kDict, pos);
          next();
          while (!at_op("}")) {
            PM_ASSIGN_OR_RETURN(ExprPtr k, parse_expr());
            PM_RETURN_IF_ERROR(expect_op(":"));
            PM_ASSIGN_OR_RETURN(ExprPtr v, parse_expr());
            e->items.push_back(std::move(k));
            e->items.push_back(std::move(v));
            if (!at_op(",")) break;
            next();
          }
          PM_RETURN_IF_ERROR(expect_op("}"));
          return ExprPtr(std::move(e));
        }
        break;
      default:
        break;
    }
    return unexpected("an expression");
  }

  Status parse_call_args(Expr& call) {
    PM_RETURN_IF_ERROR(expect_op("("));
    while (!at_op(")")) {
      if (cur().kind == Token::kName && peek().kind == Token::kOp && peek().text == "=") {
        std::string key = cur().text;
        next();
        next();
        PM_ASSIGN_OR_RETURN(ExprPtr v, parse_expr());
        call.kwargs.emplace_back(std::move(key), std::move(v));
      } else {
        if (!call.kwargs.empty()) return error(cur().pos, "a positional argument follows keyword arguments");
        PM_ASSIGN_OR_RETURN(ExprPtr v, parse_expr());
        call.items.push_back(std::move(v));
      }
      if (!at_op(",")) break;
      next();
    }
    return expect_op(")");
  }

  Result<ExprPtr> parse_postfix(ExprPtr e) {
    while (true) {
      const uint32_t pos = cur().pos;
      if (at_op(".")) {
        next();
        if (cur().kind == Token::kInt) {  // x.0 is x[0]
          auto s = std::make_unique<Expr>(Expr::Kind::kSubscript, pos);
          auto idx = std::make_unique<Expr>(Expr::Kind::kLiteral, cur().pos);
          idx->value = Value(cur().i);
          next();
          s->items.push_back(std::move(e));
          s->items.push_back(std::move(idx));
          e = std::move(s);
          continue;
        }
        auto a = std::make_unique<Expr>(Expr::Kind::kAttr, pos);
        PM_ASSIGN_OR_RETURN(a->name, expect_name());
        a->items.push_back(std::move(e));
        e = std::move(a);
      } else if (at_op("[")) {
        next();
        ExprPtr parts[3];
        bool slice = false;
        if (!at_op(":")) {
          PM_ASSIGN_OR_RETURN(parts[0], parse_expr());
        }
        if (at_op(":")) {
          slice = true;
          next();
          if (!at_op(":") && !at_op("]")) {
            PM_ASSIGN_OR_RETURN(parts[1], parse_expr());
          }
          if (at_op(":")) {
            next();
            if (!at_op("]")) {
              PM_ASSIGN_OR_RETURN(parts[2], parse_expr());
            }
          }
        }
        PM_RETURN_IF_ERROR(expect_op("]"));
        auto s = std::make_unique<Expr>(slice ? Expr::Kind::kSlice : Expr::Kind::kSubscript, pos);
        s->items.push_back(std::move(e));
        for (int i = 0; i < (slice ? 3 : 1); ++i) s->items.push_back(std::move(parts[i]));
        e = std::move(s);
      } else if (at_op("(")) {
        auto c = std::make_unique<Expr>(Expr::Kind::kCall, e->kind == Expr::Kind::kName ? e->pos : pos);
        c->items.push_back(std::move(e));
        PM_RETURN_IF_ERROR(parse_call_args(*c));
        e = std::move(c);
      } else {
        return e;
      }
    }
  }

  Result<ExprPtr> parse_filters(ExprPtr e) {
    while (true) {
      if (at_op("|")) {
        auto f = std::make_unique<Expr>(Expr::Kind::kFilter, cur().pos);
        next();
        PM_ASSIGN_OR_RETURN(f->name, expect_name());
        f->items.push_back(std::move(e));
        if (at_op("(")) PM_RETURN_IF_ERROR(parse_call_args(*f));
        e = std::move(f);
      } else if (at_name("is")) {
        auto t = std::make_unique<Expr>(Expr::Kind::kTest, cur().pos);
        next();
        if (at_name("not")) {
          t->negated = true;
          next();
        }
        if (cur().kind != Token::kName) return unexpected("a test name");
        t->name = cur().text;
        next();
        t->items.push_back(std::move(e));
        if (at_op("(")) {
          PM_RETURN_IF_ERROR(parse_call_args(*t));
        } else if (cur().kind == Token::kString || cur().kind == Token::kInt || cur().kind == Token::kFloat ||
                   at_op("[") || at_op("{") ||
                   (cur().kind == Token::kName && cur().text != "else" && cur().text != "or" && cur().text != "and" &&
                    cur().text != "if" && cur().text != "is" && cur().text != "not" && cur().text != "in")) {
          // `is divisibleby 3`, `is equalto 'x'`: one argument without parentheses.
          PM_ASSIGN_OR_RETURN(ExprPtr arg, parse_primary());
          PM_ASSIGN_OR_RETURN(arg, parse_postfix(std::move(arg)));
          t->items.push_back(std::move(arg));
        }
        e = std::move(t);
      } else if (at_op("(")) {
        auto c = std::make_unique<Expr>(Expr::Kind::kCall, cur().pos);
        c->items.push_back(std::move(e));
        PM_RETURN_IF_ERROR(parse_call_args(*c));
        e = std::move(c);
      } else {
        return e;
      }
    }
  }

  std::string_view src_;
  std::vector<Token> t_;
  size_t k_ = 0;
  int depth_ = 0;
  Limits limits_;
};

}  // namespace

Result<Template> Template::parse(std::string_view raw, const Limits& limits) {
  // As jinja2 does before lexing: every \r\n and \r becomes \n, and one trailing newline of
  // the template is dropped (keep_trailing_newline=False).
  std::string source;
  source.reserve(raw.size());
  for (size_t i = 0; i < raw.size(); ++i) {
    if (raw[i] == '\r') {
      source += '\n';
      if (i + 1 < raw.size() && raw[i + 1] == '\n') ++i;
    } else {
      source += raw[i];
    }
  }
  if (!source.empty() && source.back() == '\n') source.pop_back();
  std::vector<Token> tokens;
  PM_RETURN_IF_ERROR(Lexer(source).run(tokens).with_context("chat template"));
  Parser p(source, std::move(tokens), limits);
  Result<Body> body = p.parse();
  if (!body.is_ok()) return body.status().with_context("chat template");
  auto parsed = std::make_shared<Parsed>();
  parsed->source = std::move(source);
  parsed->body = std::move(*body);
  parsed->limits = limits;
  Template t;
  t.parsed_ = std::move(parsed);
  return t;
}

const std::string& Template::source() const { return parsed_->source; }

}  // namespace pm::jinja
