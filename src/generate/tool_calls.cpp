#include "generate/tool_calls.h"

#include <cctype>
#include <cmath>

#include "generate/grammar/grammar.h"
#include "generate/grammar/json_schema.h"
#include "generate/grammar/matcher.h"
#include "generate/jinja/jinja.h"

namespace pm {
namespace {

using Json = nlohmann::ordered_json;

const char* kHermesCloser = "</tool_call>";

bool contains(std::string_view s, std::string_view what) { return s.find(what) != std::string_view::npos; }

std::string trim(std::string_view s) {
  size_t b = 0, e = s.size();
  while (b < e && std::isspace(static_cast<unsigned char>(s[b]))) ++b;
  while (e > b && std::isspace(static_cast<unsigned char>(s[e - 1]))) --e;
  return std::string(s.substr(b, e - b));
}

// End (one past) of the JSON object or array starting at s[from], or npos while unfinished.
size_t json_value_end(std::string_view s, size_t from) {
  int depth = 0;
  bool in_string = false, escaped = false;
  for (size_t i = from; i < s.size(); ++i) {
    const char c = s[i];
    if (in_string) {
      if (escaped)
        escaped = false;
      else if (c == '\\')
        escaped = true;
      else if (c == '"')
        in_string = false;
      continue;
    }
    if (c == '"')
      in_string = true;
    else if (c == '{' || c == '[')
      ++depth;
    else if (c == '}' || c == ']') {
      if (--depth <= 0) return i + 1;
    }
  }
  return std::string_view::npos;
}

// {"name": ..., "arguments" | "parameters": object or JSON text} -> call.
ParsedToolCall call_from_json(const Json& j, std::string raw) {
  ParsedToolCall c;
  c.raw = std::move(raw);
  if (!j.is_object() || !j.contains("name") || !j["name"].is_string()) {
    c.error = "a call must be an object with a string \"name\"";
    return c;
  }
  c.name = j["name"].get<std::string>();
  const char* key = j.contains("arguments") ? "arguments" : j.contains("parameters") ? "parameters" : nullptr;
  if (!key) return c;  // no arguments: an empty object
  Json a = j[key];
  if (a.is_string()) a = Json::parse(a.get<std::string>(), nullptr, false);
  if (a.is_discarded() || !a.is_object()) {
    c.error = std::string("\"") + key + "\" must be a JSON object";
    return c;
  }
  c.arguments = std::move(a);
  return c;
}

// ---- JSON Schema validation ----

// Every byte a token of its own: for running a grammar over plain text.
std::shared_ptr<const TokenTrie> byte_trie() {
  static const std::shared_ptr<const TokenTrie> trie = [] {
    std::vector<std::string> pieces;
    for (int b = 0; b < 256; ++b) pieces.push_back(std::string(1, char(b)));
    return TokenTrie::build(std::move(pieces), {});
  }();
  return trie;
}

class Validator {
 public:
  explicit Validator(const Json& root) : root_(root) {}

  Status check(const Json& s, const Json& v, const std::string& path, int depth) {
    if (depth > 64) return Status::invalid_argument(path + ": the schema nests too deeply");
    if (s.is_boolean()) {
      if (!s.get<bool>()) return Status::invalid_argument(path + ": no value is allowed here");
      return Status::ok();
    }
    if (!s.is_object()) return Status::ok();
    if (s.contains("$ref") && s["$ref"].is_string()) {
      const std::string ref = s["$ref"].get<std::string>();
      const Json* target = resolve(ref);
      if (!target) return Status::invalid_argument(path + ": unresolvable $ref " + ref);
      PM_RETURN_IF_ERROR(check(*target, v, path, depth + 1));
    }
    if (s.contains("type")) PM_RETURN_IF_ERROR(check_type(s["type"], v, path));
    if (s.contains("const") && s["const"] != v)
      return Status::invalid_argument(path + ": expected " + s["const"].dump());
    if (s.contains("enum") && s["enum"].is_array()) {
      bool found = false;
      for (const Json& e : s["enum"]) found = found || e == v;
      if (!found) return Status::invalid_argument(path + ": " + v.dump() + " is not one of " + s["enum"].dump());
    }
    for (const char* key : {"anyOf", "oneOf"}) {
      if (!s.contains(key) || !s[key].is_array()) continue;
      Status first;
      bool ok = false;
      for (const Json& alt : s[key]) {
        Status st = check(alt, v, path, depth + 1);
        if (st.is_ok()) {
          ok = true;
          break;
        }
        if (first.is_ok()) first = st;
      }
      if (!ok)
        return Status::invalid_argument(path + ": matches none of the " + key + " alternatives (" + first.message() +
                                        ")");
    }
    if (s.contains("allOf") && s["allOf"].is_array())
      for (const Json& alt : s["allOf"]) PM_RETURN_IF_ERROR(check(alt, v, path, depth + 1));
    if (v.is_object()) PM_RETURN_IF_ERROR(check_object(s, v, path, depth));
    if (v.is_array()) {
      if (s.contains("minItems") && s["minItems"].is_number() && double(v.size()) < s["minItems"].get<double>())
        return Status::invalid_argument(path + ": fewer than " + s["minItems"].dump() + " items");
      if (s.contains("maxItems") && s["maxItems"].is_number() && double(v.size()) > s["maxItems"].get<double>())
        return Status::invalid_argument(path + ": more than " + s["maxItems"].dump() + " items");
      if (s.contains("items") && (s["items"].is_object() || s["items"].is_boolean()))
        for (size_t i = 0; i < v.size(); ++i)
          PM_RETURN_IF_ERROR(check(s["items"], v[i], path + "[" + std::to_string(i) + "]", depth + 1));
    }
    if (v.is_string()) PM_RETURN_IF_ERROR(check_string(s, v.get<std::string>(), path));
    if (v.is_number()) {
      const double x = v.get<double>();
      auto bound = [&](const char* key, auto fails, const char* what) -> Status {
        if (s.contains(key) && s[key].is_number() && fails(x, s[key].get<double>()))
          return Status::invalid_argument(path + ": " + v.dump() + " " + what + " " + s[key].dump());
        return Status::ok();
      };
      PM_RETURN_IF_ERROR(bound(
          "minimum", [](double a, double b) { return a < b; }, "is below the minimum"));
      PM_RETURN_IF_ERROR(bound(
          "maximum", [](double a, double b) { return a > b; }, "is above the maximum"));
      PM_RETURN_IF_ERROR(bound(
          "exclusiveMinimum", [](double a, double b) { return a <= b; }, "is not above"));
      PM_RETURN_IF_ERROR(bound(
          "exclusiveMaximum", [](double a, double b) { return a >= b; }, "is not below"));
    }
    return Status::ok();
  }

 private:
  const Json* resolve(const std::string& ref) const {
    if (ref == "#") return &root_;
    for (const char* prefix : {"#/$defs/", "#/definitions/"}) {
      const std::string p = prefix;
      if (ref.compare(0, p.size(), p) != 0) continue;
      const std::string section = p.substr(2, p.size() - 3);
      const std::string name = ref.substr(p.size());
      if (root_.contains(section) && root_[section].is_object() && root_[section].contains(name))
        return &root_[section][name];
    }
    return nullptr;
  }

  static bool has_type(const std::string& t, const Json& v) {
    if (t == "object") return v.is_object();
    if (t == "array") return v.is_array();
    if (t == "string") return v.is_string();
    if (t == "boolean") return v.is_boolean();
    if (t == "null") return v.is_null();
    if (t == "number") return v.is_number();
    if (t == "integer")
      return v.is_number_integer() || (v.is_number_float() && std::floor(v.get<double>()) == v.get<double>());
    return true;
  }
  static Status check_type(const Json& type, const Json& v, const std::string& path) {
    if (type.is_string()) {
      if (!has_type(type.get<std::string>(), v))
        return Status::invalid_argument(path + ": expected " + type.get<std::string>() + ", found " + v.dump());
    } else if (type.is_array()) {
      for (const Json& t : type)
        if (t.is_string() && has_type(t.get<std::string>(), v)) return Status::ok();
      return Status::invalid_argument(path + ": expected one of " + type.dump() + ", found " + v.dump());
    }
    return Status::ok();
  }

  Status check_object(const Json& s, const Json& v, const std::string& path, int depth) {
    if (s.contains("required") && s["required"].is_array()) {
      for (const Json& r : s["required"])
        if (r.is_string() && !v.contains(r.get<std::string>()))
          return Status::invalid_argument(path + ": missing required property \"" + r.get<std::string>() + "\"");
    }
    const Json* props = s.contains("properties") && s["properties"].is_object() ? &s["properties"] : nullptr;
    for (auto it = v.begin(); it != v.end(); ++it) {
      const std::string p = path + "." + it.key();
      if (props && props->contains(it.key())) {
        PM_RETURN_IF_ERROR(check((*props)[it.key()], it.value(), p, depth + 1));
      } else if (s.contains("additionalProperties")) {
        const Json& ap = s["additionalProperties"];
        if (ap.is_boolean() && !ap.get<bool>()) return Status::invalid_argument(p + ": property not allowed");
        if (ap.is_object()) PM_RETURN_IF_ERROR(check(ap, it.value(), p, depth + 1));
      }
    }
    return Status::ok();
  }

  static Status check_string(const Json& s, const std::string& str, const std::string& path) {
    size_t cps = 0;
    for (unsigned char c : str) cps += (c & 0xC0) != 0x80;
    if (s.contains("minLength") && s["minLength"].is_number() && double(cps) < s["minLength"].get<double>())
      return Status::invalid_argument(path + ": shorter than " + s["minLength"].dump() + " characters");
    if (s.contains("maxLength") && s["maxLength"].is_number() && double(cps) > s["maxLength"].get<double>())
      return Status::invalid_argument(path + ": longer than " + s["maxLength"].dump() + " characters");
    if (!(s.contains("pattern") && s["pattern"].is_string()) && !(s.contains("format") && s["format"].is_string()))
      return Status::ok();
    // Patterns and formats are checked with the grammar engine itself: the same ECMAScript subset
    // json_schema.h compiles, so validation agrees with what constrained decoding produces (and no
    // backtracking regex runs on model output).
    Json sub = {{"type", "string"}};
    for (const char* key : {"pattern", "format"})
      if (s.contains(key)) sub[key] = s[key];
    Result<std::string> gbnf = json_schema_value_to_gbnf(sub);
    if (!gbnf.is_ok()) return Status::invalid_argument(path + ": " + gbnf.status().message());
    Result<std::shared_ptr<const Grammar>> g = parse_grammar(*gbnf);
    if (!g.is_ok()) return Status::invalid_argument(path + ": " + g.status().message());
    GrammarMatcher m(std::make_shared<GrammarEngine>(*g, byte_trie()));
    if (m.accept_bytes(Json(str).dump(-1, ' ', false, Json::error_handler_t::replace)) && m.is_accepting())
      return Status::ok();
    if (s.contains("pattern") && s["pattern"].is_string())
      return Status::invalid_argument(path + ": \"" + str + "\" does not match " + s["pattern"].get<std::string>());
    return Status::invalid_argument(path + ": \"" + str + "\" is not a valid " + s["format"].dump());
    return Status::ok();
  }

  const Json& root_;
};

}  // namespace

Result<std::vector<ToolSpec>> parse_tools(const Json& tools) {
  if (tools.is_null()) return std::vector<ToolSpec>();
  if (!tools.is_array()) return Status::invalid_argument("tools: expected an array");
  std::vector<ToolSpec> out;
  for (size_t i = 0; i < tools.size(); ++i) {
    const std::string where = "tools[" + std::to_string(i) + "]";
    const Json& t = tools[i];
    if (!t.is_object()) return Status::invalid_argument(where + ": expected an object");
    const Json& fn = t.contains("function") ? t["function"] : t;
    if (!fn.is_object() || !fn.contains("name") || !fn["name"].is_string() || fn["name"].get<std::string>().empty())
      return Status::invalid_argument(where + ".function.name: expected a non-empty string");
    ToolSpec spec;
    spec.name = fn["name"].get<std::string>();
    if (fn.contains("description") && fn["description"].is_string())
      spec.description = fn["description"].get<std::string>();
    if (fn.contains("parameters")) {
      if (!fn["parameters"].is_object())
        return Status::invalid_argument(where + ".function.parameters: expected a JSON Schema object");
      spec.parameters = fn["parameters"];
    }
    for (const ToolSpec& other : out)
      if (other.name == spec.name)
        return Status::invalid_argument(where + ": a second tool named \"" + spec.name + "\"");
    out.push_back(std::move(spec));
  }
  return out;
}

const char* tool_call_syntax_name(ToolCallSyntax s) {
  switch (s) {
    case ToolCallSyntax::kHermes:
      return "hermes";
    case ToolCallSyntax::kLlama3:
      return "llama3";
    case ToolCallSyntax::kMistral:
      return "mistral";
  }
  return "hermes";
}

ToolCallSyntax tool_call_syntax_for(const ChatTemplate& t) {
  const std::string src = t.compiled ? t.compiled->source() : "";
  if (contains(src, "[TOOL_CALLS]")) return ToolCallSyntax::kMistral;
  if (contains(src, "<tool_call>")) return ToolCallSyntax::kHermes;
  if (t.format == ChatFormat::kLlama3) return ToolCallSyntax::kLlama3;
  if (t.format == ChatFormat::kMistral) return ToolCallSyntax::kMistral;
  return ToolCallSyntax::kHermes;
}

std::string tool_call_opener(ToolCallSyntax s) {
  switch (s) {
    case ToolCallSyntax::kHermes:
      return "<tool_call>";
    case ToolCallSyntax::kLlama3:
      return "{\"name\"";
    case ToolCallSyntax::kMistral:
      return "[TOOL_CALLS]";
  }
  return "<tool_call>";
}

Result<std::string> tool_call_grammar(const std::vector<ToolSpec>& tools, ToolCallSyntax syntax) {
  if (tools.empty()) return Status::invalid_argument("tool calls: no tools given");
  const char* args_key = syntax == ToolCallSyntax::kLlama3 ? "parameters" : "arguments";
  Json alts = Json::array();
  for (const ToolSpec& t : tools) {
    Json params = t.parameters;
    if (params.empty()) params = Json{{"type", "object"}};
    alts.push_back(Json{{"type", "object"},
                        {"properties", {{"name", {{"const", t.name}}}, {args_key, params}}},
                        {"required", {"name", args_key}},
                        {"additionalProperties", false}});
  }
  const Json schema = alts.size() == 1 ? alts[0] : Json{{"anyOf", alts}};
  Result<std::string> body = json_schema_value_to_gbnf(schema);
  if (!body.is_ok()) return body.status().with_context("tool parameters");
  // The compiled grammar's start rule becomes the call body inside the syntax's frame.
  std::string g = *body;
  if (g.compare(0, 9, "root ::= ") != 0) return Status::internal("tool calls: unexpected grammar layout");
  g.replace(0, 4, "tool-call-body");
  switch (syntax) {
    case ToolCallSyntax::kHermes:
      return "root ::= \"<tool_call>\\n\" tool-call-body \"\\n</tool_call>\"\n" + g;
    case ToolCallSyntax::kLlama3:
      return "root ::= tool-call-body\n" + g;
    case ToolCallSyntax::kMistral:
      return "root ::= \"[TOOL_CALLS]\" \" \"? \"[\" tool-call-body (\", \" tool-call-body)* \"]\"\n" + g;
  }
  return g;
}

Result<std::shared_ptr<GrammarEngine>> tool_call_engine(const std::vector<ToolSpec>& tools, ToolCallSyntax syntax,
                                                        const Tokenizer& tokenizer) {
  PM_ASSIGN_OR_RETURN(std::string gbnf, tool_call_grammar(tools, syntax));
  Result<std::shared_ptr<const Grammar>> grammar = parse_grammar(gbnf);
  if (!grammar.is_ok()) return grammar.status().with_context("tool-call grammar");
  return std::make_shared<GrammarEngine>(*grammar, TokenTrie::build(tokenizer));
}

Status validate_json(const Json& schema, const Json& value) { return Validator(schema).check(schema, value, "$", 0); }

Status validate_tool_call(const std::vector<ToolSpec>& tools, const ParsedToolCall& call) {
  for (const ToolSpec& t : tools) {
    if (t.name != call.name) continue;
    Status st = validate_json(t.parameters, call.arguments);
    return st.is_ok() ? st : st.with_context("tool \"" + t.name + "\" arguments");
  }
  return Status::invalid_argument("unknown tool \"" + call.name + "\"");
}

// ---- streaming ----

bool ToolCallStream::emit_text(std::string_view s) {
  std::string text(s);
  if (syntax_ == ToolCallSyntax::kLlama3) {  // Llama 3 may announce a call with <|python_tag|>
    for (size_t at; (at = text.find("<|python_tag|>")) != std::string::npos;) text.erase(at, 14);
  }
  if (text.empty()) return true;
  content_ += text;
  if (!on_event_) return true;
  ToolStreamEvent e;
  e.text = std::move(text);
  return on_event_(e);
}

bool ToolCallStream::emit_calls(const std::string& raw) {
  std::vector<ParsedToolCall> found;
  const std::string opener = tool_call_opener(syntax_);
  std::string body = raw;
  if (syntax_ == ToolCallSyntax::kHermes) {
    body = raw.substr(opener.size());
    const size_t close = body.find(kHermesCloser);
    const bool closed = close != std::string::npos;
    if (closed) body.resize(close);
    Json j = Json::parse(trim(body), nullptr, false);
    ParsedToolCall c = j.is_discarded() ? ParsedToolCall{} : call_from_json(j, raw);
    if (j.is_discarded()) {
      c.raw = raw;
      c.error = closed ? "the call is not valid JSON" : "the call is unfinished";
    }
    found.push_back(std::move(c));
  } else if (syntax_ == ToolCallSyntax::kLlama3) {
    Json j = Json::parse(trim(raw), nullptr, false);
    if (j.is_discarded()) {
      ParsedToolCall c;
      c.raw = raw;
      c.error = "the call is not valid JSON";
      found.push_back(std::move(c));
    } else {
      found.push_back(call_from_json(j, raw));
    }
  } else {
    Json j = Json::parse(trim(raw.substr(opener.size())), nullptr, false);
    if (j.is_object()) j = Json::array({j});
    if (!j.is_array() || j.empty()) {
      ParsedToolCall c;
      c.raw = raw;
      c.error = "[TOOL_CALLS] must be followed by a JSON array of calls";
      found.push_back(std::move(c));
    } else {
      for (const Json& x : j) found.push_back(call_from_json(x, raw));
    }
  }
  for (ParsedToolCall& c : found) {
    if (c.error.empty() && tools_) {
      Status st = validate_tool_call(*tools_, c);
      if (!st.is_ok()) c.error = st.message();
    }
    calls_.push_back(c);
    if (on_event_) {
      ToolStreamEvent e;
      e.is_call = true;
      e.call = std::move(c);
      if (!on_event_(e)) return false;
    }
  }
  return true;
}

size_t ToolCallStream::call_end(size_t from) const {
  const std::string opener = tool_call_opener(syntax_);
  switch (syntax_) {
    case ToolCallSyntax::kHermes: {
      const size_t at = buf_.find(kHermesCloser, from + opener.size());
      return at == std::string::npos ? at : at + std::string_view(kHermesCloser).size();
    }
    case ToolCallSyntax::kLlama3:
      return json_value_end(buf_, from);
    case ToolCallSyntax::kMistral: {
      size_t i = from + opener.size();
      while (i < buf_.size() && std::isspace(static_cast<unsigned char>(buf_[i]))) ++i;
      if (i >= buf_.size()) return std::string::npos;
      if (buf_[i] != '[' && buf_[i] != '{') return i;  // malformed: the opener alone is the "call"
      return json_value_end(buf_, i);
    }
  }
  return std::string::npos;
}

bool ToolCallStream::push(std::string_view text) {
  buf_ += text;
  const std::string opener = tool_call_opener(syntax_);
  while (true) {
    if (!in_call_) {
      const size_t at = buf_.find(opener);
      if (at == std::string::npos) {
        const size_t hold = stop_holdback(buf_, {opener});
        const bool ok = emit_text(std::string_view(buf_).substr(0, buf_.size() - hold));
        buf_.erase(0, buf_.size() - hold);
        return ok;
      }
      if (!emit_text(std::string_view(buf_).substr(0, at))) return false;
      buf_.erase(0, at);
      in_call_ = true;
    }
    const size_t end = call_end(0);
    if (end == std::string::npos) return true;
    const std::string raw = buf_.substr(0, end);
    buf_.erase(0, end);
    in_call_ = false;
    if (!emit_calls(raw)) return false;
  }
}

bool ToolCallStream::finish() {
  if (buf_.empty()) return true;
  const std::string rest = std::move(buf_);
  buf_.clear();
  if (in_call_) {
    in_call_ = false;
    return emit_calls(rest);
  }
  return emit_text(rest);
}

ParsedToolOutput parse_tool_calls(std::string_view text, ToolCallSyntax syntax, const std::vector<ToolSpec>* tools) {
  ToolCallStream s(syntax, tools, nullptr);
  (void)s.push(text);
  (void)s.finish();
  return {s.content(), s.calls()};
}

Result<ToolGenerateResult> generate_with_tools(Session& session, const Tokenizer& tokenizer,
                                               std::vector<TokenId> prompt, GenerateOptions options,
                                               const ToolGenerateOptions& to, const ToolEventCallback& on_event) {
  std::shared_ptr<GrammarEngine> engine = to.engine;
  if (!engine) {
    PM_ASSIGN_OR_RETURN(engine, tool_call_engine(to.tools, to.syntax, tokenizer));
  }
  const std::string opener = tool_call_opener(to.syntax);
  options.grammar = engine;
  options.grammar_triggers = {opener};
  options.render_special = to.syntax == ToolCallSyntax::kMistral;  // [TOOL_CALLS] is a control token
  ToolCallStream stream(to.syntax, &to.tools, on_event);
  if (to.force_call) {
    // The reply starts with the opener: it goes in the prompt, and the grammar starts after it.
    const std::vector<TokenId> more = tokenizer.encode(opener, /*add_special=*/false, /*parse_special=*/true);
    prompt.insert(prompt.end(), more.begin(), more.end());
    options.grammar_prefix = opener;
    (void)stream.push(opener);
  }
  bool cancelled = false;
  TextCallback cb = [&](std::string_view t) {
    if (!stream.push(t)) cancelled = true;
    return !cancelled;
  };
  Result<GenerateResult> r = generate(session, tokenizer, prompt, options, cb);
  if (!r.is_ok()) return r.status();
  if (!cancelled) (void)stream.finish();
  ToolGenerateResult out;
  out.generation = std::move(*r);
  if (to.force_call) out.generation.text = opener + out.generation.text;
  out.content = stream.content();
  out.calls = stream.calls();
  return out;
}

}  // namespace pm
