// Rendering a parsed template (ast.h): a tree-walking interpreter with Python semantics for the
// operations chat templates use, and a budget of steps, output bytes and nesting so a hostile
// template ends in an error instead of a hang or a crash.
#include <algorithm>
#include <cerrno>
#include <cmath>
#include <ctime>
#include <unordered_map>

#include "generate/jinja/ast.h"

namespace pm::jinja {
namespace {

// ---- UTF-8 helpers: Python indexes, slices and measures strings in code points. ----

// Byte offsets of each code point's start, plus the end offset.
std::vector<size_t> code_point_starts(const std::string& s) {
  std::vector<size_t> at;
  for (size_t i = 0; i < s.size(); ++i)
    if ((static_cast<unsigned char>(s[i]) & 0xC0) != 0x80) at.push_back(i);
  at.push_back(s.size());
  return at;
}

uint32_t decode_at(const std::string& s, size_t i, size_t& len) {
  const unsigned char c = static_cast<unsigned char>(s[i]);
  len = c >= 0xF0 ? 4 : c >= 0xE0 ? 3 : c >= 0xC0 ? 2 : 1;
  if (i + len > s.size()) {
    len = 1;
    return c;
  }
  if (len == 1) return c;
  uint32_t cp = c & (0xFF >> (len + 1));
  for (size_t k = 1; k < len; ++k) cp = (cp << 6) | (static_cast<unsigned char>(s[i + k]) & 0x3F);
  return cp;
}

// Python's str.isspace() characters.
bool is_py_space(uint32_t cp) {
  return cp == ' ' || (cp >= 0x09 && cp <= 0x0D) || (cp >= 0x1C && cp <= 0x1F) || cp == 0x85 || cp == 0xA0 ||
         cp == 0x1680 || (cp >= 0x2000 && cp <= 0x200A) || cp == 0x2028 || cp == 0x2029 || cp == 0x202F ||
         cp == 0x205F || cp == 0x3000;
}

// str.strip / lstrip / rstrip: `chars` undefined or None = whitespace; else any of its code points.
std::string py_strip(const std::string& s, const Value& chars, bool left, bool right) {
  std::vector<uint32_t> set;
  const bool ws = !chars.is_string();
  if (!ws) {
    for (size_t i = 0, len = 0; i < chars.str().size(); i += len) set.push_back(decode_at(chars.str(), i, len));
  }
  auto strip_it = [&](uint32_t cp) {
    return ws ? is_py_space(cp) : std::find(set.begin(), set.end(), cp) != set.end();
  };
  size_t b = 0, e = s.size();
  if (left) {
    while (b < e) {
      size_t len;
      if (!strip_it(decode_at(s, b, len))) break;
      b += len;
    }
  }
  if (right) {
    while (e > b) {
      size_t k = e - 1;
      while (k > b && (static_cast<unsigned char>(s[k]) & 0xC0) == 0x80) --k;
      size_t len;
      if (!strip_it(decode_at(s, k, len))) break;
      e = k;
    }
  }
  return s.substr(b, e - b);
}

std::string ascii_lower(std::string s) {
  for (char& c : s)
    if (c >= 'A' && c <= 'Z') c = char(c - 'A' + 'a');
  return s;
}
std::string ascii_upper(std::string s) {
  for (char& c : s)
    if (c >= 'a' && c <= 'z') c = char(c - 'a' + 'A');
  return s;
}
bool is_alpha(char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'); }

// Python slice indices over a sequence of n elements.
std::vector<int64_t> slice_indices(int64_t n, const Value& start, const Value& stop, const Value& step_v, Status& st) {
  std::vector<int64_t> idx;
  const int64_t step = step_v.is_int() ? step_v.as_int() : 1;
  if (step == 0) {
    st = Status::invalid_argument("slice step cannot be zero");
    return idx;
  }
  auto norm = [&](const Value& v, int64_t def, bool is_start) {
    if (!v.is_int()) return def;
    int64_t i = v.as_int();
    if (i < 0) i += n;
    if (step > 0) return std::clamp<int64_t>(i, 0, n);
    return std::clamp<int64_t>(i, -1, n - 1);
    (void)is_start;
  };
  const int64_t b = norm(start, step > 0 ? 0 : n - 1, true);
  const int64_t e = norm(stop, step > 0 ? n : -1, false);
  if (step > 0)
    for (int64_t i = b; i < e; i += step) idx.push_back(i);
  else
    for (int64_t i = b; i > e; i += step) idx.push_back(i);
  return idx;
}

struct Frame {
  std::unordered_map<std::string, Value> vars;
};

enum class Flow { kNormal, kBreak, kContinue };

class Interpreter {
 public:
  Interpreter(const Template::Parsed& p, const RenderOptions& o) : p_(p), opt_(o), lim_(o.limits) {}

  ~Interpreter() {
    // Namespaces may hold themselves (set ns.x = ns): empty them so the shared pointers free.
    for (Value& ns : namespaces_) ns.obj().clear();
  }

  Result<std::string> run(const nlohmann::ordered_json& context) {
    auto globals = std::make_shared<Frame>();
    install_globals(*globals);
    if (context.is_object()) {
      for (auto it = context.begin(); it != context.end(); ++it) {
        Value v = Value::from_json(it.value());
        if (v.depth() > Value::kMaxDepth)
          return Status::invalid_argument("chat template: variable '" + it.key() + "' is nested too deeply");
        globals->vars[it.key()] = std::move(v);
      }
    } else if (!context.is_null()) {
      return Status::invalid_argument("chat template: the render context must be a JSON object");
    }
    frames_.push_back(globals);
    frames_.push_back(std::make_shared<Frame>());  // the template's own top-level variables
    std::string out;
    out_ = &out;
    Flow flow;
    PM_RETURN_IF_ERROR(render(p_.body, flow).with_context("chat template"));
    return out;
  }

 private:
  // ---- errors and budget ----
  Status error(uint32_t pos, const std::string& what) const {
    return Status::invalid_argument(describe_position(p_.source, pos) + ": " + what);
  }
  Status tick(uint32_t pos, int64_t n = 1) {
    steps_ += n;
    if (steps_ > lim_.max_steps)
      return error(pos, "the template ran too long (more than " + std::to_string(lim_.max_steps) + " steps)");
    return Status::ok();
  }
  // Charges the making of a string or list of `size` bytes / elements.
  Status charge(uint32_t pos, size_t size) {
    if (size > lim_.max_output_bytes)
      return error(pos, "a value grew past " + std::to_string(lim_.max_output_bytes) + " bytes");
    return tick(pos, int64_t(size / 64));
  }
  Status emit(uint32_t pos, std::string_view s) {
    if (out_->size() + s.size() > lim_.max_output_bytes)
      return error(pos, "the output grew past " + std::to_string(lim_.max_output_bytes) + " bytes");
    out_->append(s);
    return Status::ok();
  }

  // ---- variables ----
  const Value* lookup(const std::string& name) const {
    for (size_t i = frames_.size(); i-- > 0;) {
      auto it = frames_[i]->vars.find(name);
      if (it != frames_[i]->vars.end()) return &it->second;
    }
    return nullptr;
  }
  void assign(const std::string& name, Value v) { frames_.back()->vars[name] = std::move(v); }

  Status assign_targets(uint32_t pos, const std::vector<std::string>& targets, const Value& v) {
    if (targets.size() == 1) {
      assign(targets[0], v);
      return Status::ok();
    }
    if (!v.is_array() || v.arr().size() != targets.size())
      return error(
          pos, "cannot unpack " + std::string(v.type_name()) + " into " + std::to_string(targets.size()) + " names");
    for (size_t i = 0; i < targets.size(); ++i) assign(targets[i], v.arr()[i]);
    return Status::ok();
  }

  void install_globals(Frame& g) {
    g.vars["range"] = Value::function(
        [this](CallArgs& a) -> Result<Value> {
          int64_t start = 0, stop = 0, step = 1;
          for (const Value& v : a.args)
            if (!v.is_int()) return error(uint32_t(a.pos), "range() takes integers, not " + std::string(v.type_name()));
          if (a.args.size() == 1)
            stop = a.args[0].as_int();
          else if (a.args.size() >= 2) {
            start = a.args[0].as_int();
            stop = a.args[1].as_int();
          }
          if (a.args.size() >= 3) step = a.args[2].as_int();
          if (a.args.empty() || a.args.size() > 3) return error(uint32_t(a.pos), "range() takes 1 to 3 arguments");
          if (step == 0) return error(uint32_t(a.pos), "range() step must not be zero");
          const double n = std::max(0.0, std::ceil((double(stop) - double(start)) / double(step)));
          if (n > double(kMaxListLength))
            return error(uint32_t(a.pos), "range() of " + std::to_string(int64_t(n)) + " numbers is too long");
          Array out;
          for (int64_t i = start; step > 0 ? i < stop : i > stop; i += step) out.push_back(Value(i));
          return Value::array(std::move(out));
        },
        "range");
    g.vars["namespace"] = Value::function(
        [this](CallArgs& a) -> Result<Value> {
          Object o;
          for (const Value& v : a.args)
            if (v.is_object())
              for (const auto& kv : v.obj()) o.push_back(kv);
          for (const auto& kv : a.kwargs) o.push_back(kv);
          Value ns = Value::namespace_object(std::move(o));
          if (ns.depth() > Value::kMaxDepth) return error(uint32_t(a.pos), "value nested too deeply");
          namespaces_.push_back(ns);
          return ns;
        },
        "namespace");
    g.vars["dict"] = Value::function(
        [this](CallArgs& a) -> Result<Value> {
          Object o;
          for (const Value& v : a.args)
            if (v.is_object())
              for (const auto& kv : v.obj()) o.push_back(kv);
          for (const auto& kv : a.kwargs) o.push_back(kv);
          Value d = Value::object(std::move(o));
          if (d.depth() > Value::kMaxDepth) return error(uint32_t(a.pos), "value nested too deeply");
          return d;
        },
        "dict");
    g.vars["raise_exception"] = Value::function(
        [this](CallArgs& a) -> Result<Value> {
          return error(uint32_t(a.pos), "the template raised an error: " + a.get(0, "message").to_str());
        },
        "raise_exception");
    g.vars["strftime_now"] = Value::function(
        [this](CallArgs& a) -> Result<Value> {
          const Value& fmt = a.get(0, "format");
          if (!fmt.is_string()) return error(uint32_t(a.pos), "strftime_now() takes a format string");
          const std::time_t t = opt_.now_unix ? std::time_t(*opt_.now_unix) : std::time(nullptr);
          std::tm tm{};
          localtime_r(&t, &tm);
          char buf[256];
          const size_t n = fmt.str().size() < 64 ? std::strftime(buf, sizeof buf, fmt.str().c_str(), &tm) : 0;
          return Value(std::string(buf, n));
        },
        "strftime_now");
  }

  // ---- statements ----
  Status render(const Body& body, Flow& flow) {
    flow = Flow::kNormal;
    for (const NodePtr& n : body) {
      PM_RETURN_IF_ERROR(render_node(*n, flow));
      if (flow != Flow::kNormal) return Status::ok();
    }
    return Status::ok();
  }

  Status render_node(const Node& n, Flow& flow) {
    PM_RETURN_IF_ERROR(tick(n.pos));
    switch (n.kind) {
      case Node::Kind::kText:
        return emit(n.pos, n.text);
      case Node::Kind::kOutput: {
        PM_ASSIGN_OR_RETURN(Value v, eval(*n.expr));
        return emit(n.pos, v.to_str());
      }
      case Node::Kind::kIf:
        for (size_t i = 0; i < n.conds.size(); ++i) {
          PM_ASSIGN_OR_RETURN(Value c, eval(*n.conds[i]));
          if (c.truthy()) return render(n.bodies[i], flow);
        }
        if (n.bodies.size() > n.conds.size()) return render(n.bodies.back(), flow);
        return Status::ok();
      case Node::Kind::kFor:
        return render_for(n);
      case Node::Kind::kSet: {
        Value v;
        if (!n.bodies.empty()) {
          std::string captured;
          std::string* saved = out_;
          out_ = &captured;
          Flow f;
          Status st = render(n.bodies[0], f);
          out_ = saved;
          PM_RETURN_IF_ERROR(st);
          v = Value(std::move(captured));
        } else {
          PM_ASSIGN_OR_RETURN(v, eval(*n.expr));
        }
        if (!n.attr.empty()) {
          const Value* ns = lookup(n.targets[0]);
          if (!ns || !ns->is_namespace())
            return error(n.pos, "cannot set '" + n.attr + "' on '" + n.targets[0] +
                                    "': only namespace() objects take attributes");
          ns->set(n.attr, std::move(v));
          return Status::ok();
        }
        return assign_targets(n.pos, n.targets, v);
      }
      case Node::Kind::kMacro: {
        const Node* node = &n;
        assign(n.text, Value::function([this, node](CallArgs& a) { return call_macro(*node, a); }, n.text));
        return Status::ok();
      }
      case Node::Kind::kBreak:
        flow = Flow::kBreak;
        return Status::ok();
      case Node::Kind::kContinue:
        flow = Flow::kContinue;
        return Status::ok();
      case Node::Kind::kBlock:
        return render(n.bodies[0], flow);
    }
    return Status::ok();
  }

  Result<Array> iterate(uint32_t pos, const Value& v) {
    Array items;
    switch (v.kind()) {
      case Value::Kind::kUndefined:
        return items;  // jinja2's default Undefined iterates as empty
      case Value::Kind::kArray:
        return v.arr();
      case Value::Kind::kObject:
        for (const auto& kv : v.obj()) items.push_back(Value(kv.first));
        return items;
      case Value::Kind::kString: {
        const std::vector<size_t> at = code_point_starts(v.str());
        for (size_t i = 0; i + 1 < at.size(); ++i) items.push_back(Value(v.str().substr(at[i], at[i + 1] - at[i])));
        return items;
      }
      default:
        return error(pos, std::string("cannot iterate over ") + v.type_name());
    }
  }

  Status render_for(const Node& n) {
    PM_ASSIGN_OR_RETURN(Value seq, eval(*n.expr));
    PM_ASSIGN_OR_RETURN(Array items, iterate(n.expr->pos, seq));
    frames_.push_back(std::make_shared<Frame>());
    struct Pop {
      ~Pop() { f.pop_back(); }
      std::vector<std::shared_ptr<Frame>>& f;
    } pop{frames_};
    if (n.cond) {  // `for x in xs if cond`: filtered before the loop, so loop.length counts what passes
      Array kept;
      for (const Value& it : items) {
        PM_RETURN_IF_ERROR(tick(n.pos));
        PM_RETURN_IF_ERROR(assign_targets(n.pos, n.targets, it));
        PM_ASSIGN_OR_RETURN(Value c, eval(*n.cond));
        if (c.truthy()) kept.push_back(it);
      }
      items = std::move(kept);
    }
    const int64_t len = int64_t(items.size());
    for (int64_t i = 0; i < len; ++i) {
      PM_RETURN_IF_ERROR(tick(n.pos));
      PM_RETURN_IF_ERROR(assign_targets(n.pos, n.targets, items[size_t(i)]));
      Object loop = {{"index", Value(i + 1)},      {"index0", Value(i)},
                     {"revindex", Value(len - i)}, {"revindex0", Value(len - i - 1)},
                     {"first", Value(i == 0)},     {"last", Value(i == len - 1)},
                     {"length", Value(len)},       {"depth", Value(1)},
                     {"depth0", Value(0)}};
      loop.emplace_back("previtem", i > 0 ? items[size_t(i - 1)] : Value());
      loop.emplace_back("nextitem", i + 1 < len ? items[size_t(i + 1)] : Value());
      assign("loop", Value::object(std::move(loop)));
      Flow flow;
      PM_RETURN_IF_ERROR(render(n.bodies[0], flow));
      if (flow == Flow::kBreak) break;
    }
    if (len == 0 && n.bodies.size() > 1) {
      Flow flow;
      PM_RETURN_IF_ERROR(render(n.bodies[1], flow));
    }
    return Status::ok();
  }

  Result<Value> call_macro(const Node& m, CallArgs& a) {
    if (++call_depth_ > std::min(lim_.max_depth, 32)) {
      --call_depth_;
      return error(uint32_t(a.pos), "macro calls nested too deeply");
    }
    // A macro sees the globals, the template's top-level names and its own parameters.
    std::vector<std::shared_ptr<Frame>> saved = frames_;
    frames_.resize(std::min<size_t>(frames_.size(), 2));
    frames_.push_back(std::make_shared<Frame>());
    std::string captured;
    std::string* saved_out = out_;
    out_ = &captured;
    Status st;
    if (a.args.size() > m.targets.size())
      st = error(uint32_t(a.pos), "macro '" + m.text + "' takes " + std::to_string(m.targets.size()) + " arguments");
    for (size_t i = 0; st.is_ok() && i < m.targets.size(); ++i) {
      Value v = a.get(i, m.targets[i]);
      if (v.is_undefined() && m.defaults[i]) {
        Result<Value> d = eval(*m.defaults[i]);
        if (!d.is_ok())
          st = d.status();
        else
          v = *d;
      }
      assign(m.targets[i], v);
    }
    if (st.is_ok()) {
      Flow flow;
      st = render(m.bodies[0], flow);
    }
    out_ = saved_out;
    frames_ = std::move(saved);
    --call_depth_;
    PM_RETURN_IF_ERROR(st);
    return Value(std::move(captured));
  }

  // ---- expressions ----
  Result<Value> eval(const Expr& e) {
    switch (e.kind) {
      case Expr::Kind::kLiteral:
        return e.value;
      case Expr::Kind::kName: {
        const Value* v = lookup(e.name);
        return v ? *v : Value();
      }
      case Expr::Kind::kList: {
        Array items;
        for (const ExprPtr& x : e.items) {
          PM_ASSIGN_OR_RETURN(Value v, eval(*x));
          items.push_back(std::move(v));
        }
        return make_array(e.pos, std::move(items));
      }
      case Expr::Kind::kDict: {
        Object o;
        for (size_t i = 0; i + 1 < e.items.size(); i += 2) {
          PM_ASSIGN_OR_RETURN(Value k, eval(*e.items[i]));
          PM_ASSIGN_OR_RETURN(Value v, eval(*e.items[i + 1]));
          if (!k.is_string()) return error(e.items[i]->pos, "dict keys must be strings here");
          bool replaced = false;
          for (auto& kv : o)
            if (kv.first == k.str()) {
              kv.second = v;
              replaced = true;
            }
          if (!replaced) o.emplace_back(k.str(), std::move(v));
        }
        Value d = Value::object(std::move(o));
        if (d.depth() > Value::kMaxDepth) return error(e.pos, "value nested too deeply");
        return d;
      }
      case Expr::Kind::kAttr: {
        PM_ASSIGN_OR_RETURN(Value obj, eval(*e.items[0]));
        return get_attr(e.pos, obj, e.name);
      }
      case Expr::Kind::kSubscript: {
        PM_ASSIGN_OR_RETURN(Value obj, eval(*e.items[0]));
        PM_ASSIGN_OR_RETURN(Value key, eval(*e.items[1]));
        return get_item(e.pos, obj, key);
      }
      case Expr::Kind::kSlice:
        return eval_slice(e);
      case Expr::Kind::kCall:
        return eval_call(e);
      case Expr::Kind::kFilter: {
        PM_ASSIGN_OR_RETURN(Value v, eval(*e.items[0]));
        PM_ASSIGN_OR_RETURN(CallArgs a, eval_args(e, 1));
        return apply_filter(e.pos, e.name, v, a);
      }
      case Expr::Kind::kTest: {
        PM_ASSIGN_OR_RETURN(Value v, eval(*e.items[0]));
        PM_ASSIGN_OR_RETURN(CallArgs a, eval_args(e, 1));
        PM_ASSIGN_OR_RETURN(bool r, apply_test(e.pos, e.name, v, a));
        return Value(r != e.negated);
      }
      case Expr::Kind::kNot: {
        PM_ASSIGN_OR_RETURN(Value v, eval(*e.items[0]));
        return Value(!v.truthy());
      }
      case Expr::Kind::kNeg:
      case Expr::Kind::kPos: {
        PM_ASSIGN_OR_RETURN(Value v, eval(*e.items[0]));
        if (!v.is_number())
          return error(e.pos, std::string("bad operand type for unary ") + (e.kind == Expr::Kind::kNeg ? "-" : "+") +
                                  ": " + v.type_name());
        if (e.kind == Expr::Kind::kPos) return v.kind() == Value::Kind::kFloat ? v : Value(v.as_int());
        if (v.kind() == Value::Kind::kFloat) return Value(-v.as_float());
        if (v.as_int() == INT64_MIN) return error(e.pos, "integer overflow");
        return Value(-v.as_int());
      }
      case Expr::Kind::kAnd:
      case Expr::Kind::kOr: {
        PM_ASSIGN_OR_RETURN(Value a, eval(*e.items[0]));
        // Python returns the deciding operand itself ("x or 'default'").
        if ((e.kind == Expr::Kind::kAnd) != a.truthy()) return a;
        return eval(*e.items[1]);
      }
      case Expr::Kind::kCond: {
        PM_ASSIGN_OR_RETURN(Value c, eval(*e.items[1]));
        if (c.truthy()) return eval(*e.items[0]);
        if (e.items[2]) return eval(*e.items[2]);
        return Value();
      }
      case Expr::Kind::kBinary: {
        PM_ASSIGN_OR_RETURN(Value a, eval(*e.items[0]));
        PM_ASSIGN_OR_RETURN(Value b, eval(*e.items[1]));
        return binary(e.pos, e.name, a, b);
      }
    }
    return Value();
  }

  // Lists are capped well below the output limit: each element costs ~100 bytes of memory.
  static constexpr size_t kMaxListLength = size_t(1) << 18;
  Status check_list_size(uint32_t pos, size_t n) {
    if (n > kMaxListLength) return error(pos, "a list grew past " + std::to_string(kMaxListLength) + " items");
    return tick(pos, int64_t(n / 8));
  }
  Result<Value> make_array(uint32_t pos, Array items) {
    PM_RETURN_IF_ERROR(check_list_size(pos, items.size()));
    Value v = Value::array(std::move(items));
    if (v.depth() > Value::kMaxDepth) return error(pos, "value nested too deeply");
    return v;
  }

  Result<CallArgs> eval_args(const Expr& e, size_t first) {
    CallArgs a;
    a.pos = e.pos;
    for (size_t i = first; i < e.items.size(); ++i) {
      PM_ASSIGN_OR_RETURN(Value v, eval(*e.items[i]));
      a.args.push_back(std::move(v));
    }
    for (const auto& [k, x] : e.kwargs) {
      PM_ASSIGN_OR_RETURN(Value v, eval(*x));
      a.kwargs.emplace_back(k, std::move(v));
    }
    return a;
  }

  Status undefined_error(uint32_t pos, const Expr* what) const {
    std::string name = "value";
    if (what && what->kind == Expr::Kind::kName)
      name = "'" + what->name + "'";
    else if (what && what->kind == Expr::Kind::kAttr)
      name = "'" + what->name + "'";
    return error(pos, name + " is undefined");
  }

  Result<Value> get_attr(uint32_t pos, const Value& obj, const std::string& name) {
    if (obj.is_undefined()) return error(pos, "cannot read attribute '" + name + "' of an undefined value");
    if (obj.is_object()) {
      if (const Value* v = obj.find(name)) return *v;
      return Value();
    }
    if (obj.is_array()) {  // jinja2 falls back to item lookup; lists have no named items
      return Value();
    }
    return Value();
  }

  Result<Value> get_item(uint32_t pos, const Value& obj, const Value& key) {
    switch (obj.kind()) {
      case Value::Kind::kUndefined:
        return error(pos, "cannot index an undefined value");
      case Value::Kind::kObject:
        if (key.is_string()) {
          if (const Value* v = obj.find(key.str())) return *v;
        }
        return Value();
      case Value::Kind::kArray: {
        if (!key.is_int()) return Value();
        int64_t i = key.as_int();
        const int64_t n = int64_t(obj.arr().size());
        if (i < 0) i += n;
        if (i < 0 || i >= n) return Value();
        return obj.arr()[size_t(i)];
      }
      case Value::Kind::kString: {
        if (!key.is_int()) return Value();
        const std::vector<size_t> at = code_point_starts(obj.str());
        int64_t i = key.as_int();
        const int64_t n = int64_t(at.size()) - 1;
        if (i < 0) i += n;
        if (i < 0 || i >= n) return Value();
        return Value(obj.str().substr(at[size_t(i)], at[size_t(i) + 1] - at[size_t(i)]));
      }
      default:
        return Value();
    }
  }

  Result<Value> eval_slice(const Expr& e) {
    PM_ASSIGN_OR_RETURN(Value obj, eval(*e.items[0]));
    Value parts[3];
    for (int i = 0; i < 3; ++i) {
      if (!e.items[size_t(i) + 1]) continue;
      PM_ASSIGN_OR_RETURN(parts[i], eval(*e.items[size_t(i) + 1]));
      if (!parts[i].is_none() && !parts[i].is_int()) return error(e.pos, "slice indices must be integers");
    }
    Status st;
    if (obj.is_array()) {
      const std::vector<int64_t> idx = slice_indices(int64_t(obj.arr().size()), parts[0], parts[1], parts[2], st);
      if (!st.is_ok()) return error(e.pos, st.message());
      Array out;
      for (int64_t i : idx) out.push_back(obj.arr()[size_t(i)]);
      return make_array(e.pos, std::move(out));
    }
    if (obj.is_string()) {
      const std::vector<size_t> at = code_point_starts(obj.str());
      const std::vector<int64_t> idx = slice_indices(int64_t(at.size()) - 1, parts[0], parts[1], parts[2], st);
      if (!st.is_ok()) return error(e.pos, st.message());
      std::string out;
      for (int64_t i : idx) out += obj.str().substr(at[size_t(i)], at[size_t(i) + 1] - at[size_t(i)]);
      return Value(std::move(out));
    }
    if (obj.is_undefined()) return error(e.pos, "cannot slice an undefined value");
    return error(e.pos, std::string("cannot slice ") + obj.type_name());
  }

  Result<Value> eval_call(const Expr& e) {
    PM_RETURN_IF_ERROR(tick(e.pos));
    const Expr& callee = *e.items[0];
    if (callee.kind == Expr::Kind::kAttr) {
      PM_ASSIGN_OR_RETURN(Value obj, eval(*callee.items[0]));
      PM_ASSIGN_OR_RETURN(CallArgs a, eval_args(e, 1));
      if (obj.is_undefined()) return error(callee.pos, "cannot call '" + callee.name + "' on an undefined value");
      if (!obj.is_namespace() || !obj.find(callee.name)) {
        bool found = false;
        Result<Value> r = call_method(e.pos, obj, callee.name, a, found);
        if (found) return r;
      }
      PM_ASSIGN_OR_RETURN(Value f, get_attr(callee.pos, obj, callee.name));
      if (!f.is_function())
        return error(callee.pos, std::string(obj.type_name()) + " has no method '" + callee.name + "'");
      return f.fn()(a);
    }
    PM_ASSIGN_OR_RETURN(Value f, eval(callee));
    PM_ASSIGN_OR_RETURN(CallArgs a, eval_args(e, 1));
    if (!f.is_function()) {
      if (callee.kind == Expr::Kind::kName) return error(callee.pos, "'" + callee.name + "' is not a function");
      return error(callee.pos, std::string("cannot call a ") + f.type_name());
    }
    return f.fn()(a);
  }

  // ---- methods of strings, dicts and lists ----
  Result<Value> call_method(uint32_t pos, const Value& obj, const std::string& name, CallArgs& a, bool& found) {
    found = true;
    if (obj.is_string()) {
      const std::string& s = obj.str();
      if (name == "startswith" || name == "endswith") {
        const Value& arg = a.get(0, "prefix");
        std::vector<std::string> options;
        if (arg.is_string()) {
          options.push_back(arg.str());
        } else if (arg.is_array()) {
          for (const Value& x : arg.arr())
            if (x.is_string()) options.push_back(x.str());
        } else {
          return error(pos, name + "() takes a string");
        }
        for (const std::string& o : options) {
          if (name == "startswith" ? s.compare(0, o.size(), o) == 0
                                   : s.size() >= o.size() && s.compare(s.size() - o.size(), o.size(), o) == 0)
            return Value(true);
        }
        return Value(false);
      }
      if (name == "strip") return Value(py_strip(s, a.get(0, "chars"), true, true));
      if (name == "lstrip") return Value(py_strip(s, a.get(0, "chars"), true, false));
      if (name == "rstrip") return Value(py_strip(s, a.get(0, "chars"), false, true));
      if (name == "upper") return Value(ascii_upper(s));
      if (name == "lower") return Value(ascii_lower(s));
      if (name == "title") return Value(title(s));
      if (name == "capitalize") return Value(capitalize(s));
      if (name == "split" || name == "rsplit") return split(pos, s, a, name == "rsplit");
      if (name == "splitlines") {
        Array out;
        size_t b = 0;
        for (size_t i = 0; i <= s.size(); ++i) {
          if (i == s.size() || s[i] == '\n') {
            if (i > b || i < s.size()) out.push_back(Value(s.substr(b, i - b)));
            b = i + 1;
          }
        }
        if (!out.empty() && s.empty()) out.clear();
        return make_array(pos, std::move(out));
      }
      if (name == "replace") return replace(pos, s, a.get(0, "old"), a.get(1, "new"), a.get(2, "count"));
      if (name == "find" || name == "count" || name == "index") {
        const Value& sub = a.get(0, "sub");
        if (!sub.is_string()) return error(pos, name + "() takes a string");
        if (name == "count") {
          if (sub.str().empty()) return Value(int64_t(obj.length() + 1));
          int64_t c = 0;
          for (size_t at = s.find(sub.str()); at != std::string::npos; at = s.find(sub.str(), at + sub.str().size()))
            ++c;
          return Value(c);
        }
        const size_t at = s.find(sub.str());
        if (at == std::string::npos) {
          if (name == "index") return error(pos, "substring not found");
          return Value(int64_t(-1));
        }
        int64_t cps = 0;  // code point index of the byte offset
        for (size_t i = 0; i < at; ++i) cps += (static_cast<unsigned char>(s[i]) & 0xC0) != 0x80;
        return Value(cps);
      }
      if (name == "join") {
        PM_ASSIGN_OR_RETURN(Array items, iterate(pos, a.get(0, "iterable")));
        std::string out;
        for (size_t i = 0; i < items.size(); ++i) {
          if (!items[i].is_string())
            return error(pos, "join() takes strings, found " + std::string(items[i].type_name()));
          if (i) out += s;
          out += items[i].str();
          PM_RETURN_IF_ERROR(charge(pos, out.size()));
        }
        return Value(std::move(out));
      }
      if (name == "isdigit" || name == "isspace" || name == "isalpha" || name == "isalnum" || name == "islower" ||
          name == "isupper") {
        if (s.empty()) return Value(false);
        bool all = true, cased = false;
        for (char c : s) {
          const bool d = c >= '0' && c <= '9';
          if (name == "isdigit")
            all &= d;
          else if (name == "isspace")
            all &= is_py_space(uint32_t(static_cast<unsigned char>(c)));
          else if (name == "isalpha")
            all &= is_alpha(c);
          else if (name == "isalnum")
            all &= is_alpha(c) || d;
          else if (name == "islower") {
            all &= !(c >= 'A' && c <= 'Z');
            cased |= c >= 'a' && c <= 'z';
          } else {
            all &= !(c >= 'a' && c <= 'z');
            cased |= c >= 'A' && c <= 'Z';
          }
        }
        if (name == "islower" || name == "isupper") all = all && cased;
        return Value(all);
      }
    } else if (obj.is_object() && !obj.is_namespace()) {
      if (name == "get") {
        const Value& k = a.get(0, "key");
        if (k.is_string())
          if (const Value* v = obj.find(k.str())) return *v;
        return a.args.size() > 1 ? a.args[1] : a.has(1, "default") ? a.get(1, "default") : Value::none();
      }
      if (name == "items" || name == "keys" || name == "values") {
        Array out;
        for (const auto& [k, v] : obj.obj()) {
          if (name == "items")
            out.push_back(Value::array({Value(k), v}));
          else
            out.push_back(name == "keys" ? Value(k) : v);
        }
        return make_array(pos, std::move(out));
      }
    } else if (obj.is_array()) {
      if (name == "index" || name == "count") {
        const Value& x = a.get(0, "value");
        int64_t c = 0;
        for (size_t i = 0; i < obj.arr().size(); ++i) {
          if (!values_equal(obj.arr()[i], x)) continue;
          if (name == "index") return Value(int64_t(i));
          ++c;
        }
        if (name == "index") return error(pos, "list.index(x): x not in list");
        return Value(c);
      }
    }
    found = false;
    return Value();
  }

  static std::string title(const std::string& s) {
    std::string out = s;
    bool prev_cased = false;
    for (char& c : out) {
      if (is_alpha(c)) {
        c = prev_cased ? ascii_lower(std::string(1, c))[0] : ascii_upper(std::string(1, c))[0];
        prev_cased = true;
      } else {
        prev_cased = false;
      }
    }
    return out;
  }
  static std::string capitalize(const std::string& s) {
    std::string out = ascii_lower(s);
    if (!out.empty()) out[0] = ascii_upper(out.substr(0, 1))[0];
    return out;
  }

  Result<Value> split(uint32_t pos, const std::string& s, const CallArgs& a, bool from_right) {
    const Value& sep = a.get(0, "sep");
    const Value& maxv = a.get(1, "maxsplit");
    int64_t max = maxv.is_int() ? maxv.as_int() : -1;
    if (max < 0) max = INT64_MAX;
    std::vector<std::string> parts;
    if (!sep.is_string()) {  // runs of whitespace; no empty strings
      std::vector<std::pair<size_t, size_t>> words;
      size_t i = 0;
      while (i < s.size()) {
        while (i < s.size() && is_py_space(uint32_t(static_cast<unsigned char>(s[i])))) ++i;
        if (i >= s.size()) break;
        size_t j = i;
        while (j < s.size() && !is_py_space(uint32_t(static_cast<unsigned char>(s[j])))) ++j;
        words.emplace_back(i, j);
        i = j;
      }
      const bool limited = int64_t(words.size()) - 1 > max;  // more words than maxsplit allows
      if (limited && !from_right) {
        for (int64_t w = 0; w < max; ++w)
          parts.push_back(s.substr(words[size_t(w)].first, words[size_t(w)].second - words[size_t(w)].first));
        parts.push_back(py_strip(s.substr(words[size_t(max)].first), Value(), false, true));
      } else if (limited) {
        const size_t k = words.size() - size_t(max);
        parts.push_back(py_strip(s.substr(0, words[k - 1].second), Value(), true, false));
        for (size_t w = k; w < words.size(); ++w)
          parts.push_back(s.substr(words[w].first, words[w].second - words[w].first));
      } else {
        for (const auto& [b, e] : words) parts.push_back(s.substr(b, e - b));
      }
    } else {
      const std::string& d = sep.str();
      if (d.empty()) return error(pos, "split(): empty separator");
      if (!from_right) {
        size_t b = 0;
        int64_t n = 0;
        for (size_t at = s.find(d); at != std::string::npos && n < max; at = s.find(d, b), ++n) {
          parts.push_back(s.substr(b, at - b));
          b = at + d.size();
        }
        parts.push_back(s.substr(b));
      } else {
        size_t e = s.size();
        int64_t n = 0;
        std::vector<std::string> rev;
        while (n < max && e >= d.size()) {
          const size_t at = s.rfind(d, e - d.size());
          if (at == std::string::npos) break;
          rev.push_back(s.substr(at + d.size(), e - at - d.size()));
          e = at;
          ++n;
        }
        rev.push_back(s.substr(0, e));
        parts.assign(rev.rbegin(), rev.rend());
      }
    }
    Array out;
    for (std::string& p : parts) out.push_back(Value(std::move(p)));
    return make_array(pos, std::move(out));
  }

  Result<Value> replace(uint32_t pos, const std::string& s, const Value& from, const Value& to, const Value& count) {
    if (!from.is_string() || !to.is_string()) return error(pos, "replace() takes two strings");
    int64_t max = count.is_int() ? count.as_int() : -1;
    if (max < 0) max = INT64_MAX;
    std::string out;
    if (from.str().empty()) {  // Python inserts `to` between characters
      const std::vector<size_t> at = code_point_starts(s);
      int64_t n = 0;
      for (size_t i = 0; i + 1 < at.size(); ++i) {
        if (n++ < max) out += to.str();
        out += s.substr(at[i], at[i + 1] - at[i]);
        PM_RETURN_IF_ERROR(charge(pos, out.size()));
      }
      if (n < max) out += to.str();
      return Value(std::move(out));
    }
    size_t b = 0;
    int64_t n = 0;
    for (size_t at = s.find(from.str()); at != std::string::npos && n < max; at = s.find(from.str(), b), ++n) {
      out += s.substr(b, at - b);
      out += to.str();
      PM_RETURN_IF_ERROR(charge(pos, out.size()));
      b = at + from.str().size();
    }
    out += s.substr(b);
    return Value(std::move(out));
  }

  // ---- operators ----
  Result<Value> binary(uint32_t pos, const std::string& op, const Value& a, const Value& b) {
    auto type_error = [&]() {
      return error(pos, "unsupported operand types for " + op + ": " + a.type_name() + " and " + b.type_name());
    };
    if (op == "==") return Value(values_equal(a, b));
    if (op == "!=") return Value(!values_equal(a, b));
    if (op == "<" || op == ">" || op == "<=" || op == ">=") {
      bool ok;
      const int c = compare_values(a, b, ok);
      if (!ok)
        return error(pos, "cannot compare " + std::string(a.type_name()) + " and " + b.type_name() + " with " + op);
      return Value(op == "<" ? c < 0 : op == ">" ? c > 0 : op == "<=" ? c <= 0 : c >= 0);
    }
    if (op == "in" || op == "not in") {
      bool in = false;
      if (b.is_string()) {
        if (!a.is_string())
          return error(pos, "'in <string>' needs a string on the left, not " + std::string(a.type_name()));
        in = b.str().find(a.str()) != std::string::npos;
      } else if (b.is_array()) {
        for (const Value& x : b.arr())
          if (values_equal(a, x)) {
            in = true;
            break;
          }
      } else if (b.is_object()) {
        in = a.is_string() && b.find(a.str()) != nullptr;
      } else if (!b.is_undefined()) {
        return error(pos, std::string("argument of type ") + b.type_name() + " is not iterable");
      }
      return Value(op == "in" ? in : !in);
    }
    if (op == "~") {
      std::string s = a.to_str() + b.to_str();
      PM_RETURN_IF_ERROR(charge(pos, s.size()));
      return Value(std::move(s));
    }
    if (op == "+") {
      if (a.is_string() && b.is_string()) {
        PM_RETURN_IF_ERROR(charge(pos, a.str().size() + b.str().size()));
        return Value(a.str() + b.str());
      }
      if (a.is_array() && b.is_array()) {
        PM_RETURN_IF_ERROR(check_list_size(pos, a.arr().size() + b.arr().size()));
        Array out = a.arr();
        out.insert(out.end(), b.arr().begin(), b.arr().end());
        return make_array(pos, std::move(out));
      }
    }
    if (op == "*" && ((a.is_string() || a.is_array()) && b.is_int())) {
      const int64_t n = std::max<int64_t>(0, b.as_int());
      const size_t unit = a.is_string() ? a.str().size() : a.arr().size();
      if (unit && uint64_t(n) > lim_.max_output_bytes / unit) return error(pos, "repetition result is too large");
      if (a.is_array()) PM_RETURN_IF_ERROR(check_list_size(pos, unit * size_t(n)));
      PM_RETURN_IF_ERROR(charge(pos, unit * size_t(n)));
      if (a.is_string()) {
        std::string out;
        for (int64_t i = 0; i < n; ++i) out += a.str();
        return Value(std::move(out));
      }
      Array out;
      for (int64_t i = 0; i < n; ++i) out.insert(out.end(), a.arr().begin(), a.arr().end());
      return make_array(pos, std::move(out));
    }
    if (op == "*" && a.is_int() && (b.is_string() || b.is_array())) return binary(pos, op, b, a);
    if (!a.is_number() || !b.is_number()) {
      if (a.is_undefined() || b.is_undefined()) return error(pos, "an undefined value used with " + op);
      return type_error();
    }
    const bool ints = a.kind() != Value::Kind::kFloat && b.kind() != Value::Kind::kFloat;
    const double x = a.as_float(), y = b.as_float();
    if (op == "/") {
      if (y == 0) return error(pos, "division by zero");
      return Value(x / y);
    }
    if (ints) {
      const int64_t i = a.as_int(), j = b.as_int();
      int64_t r = 0;
      if (op == "+") {
        if (__builtin_add_overflow(i, j, &r)) return error(pos, "integer overflow");
        return Value(r);
      }
      if (op == "-") {
        if (__builtin_sub_overflow(i, j, &r)) return error(pos, "integer overflow");
        return Value(r);
      }
      if (op == "*") {
        if (__builtin_mul_overflow(i, j, &r)) return error(pos, "integer overflow");
        return Value(r);
      }
      if (op == "//" || op == "%") {
        if (j == 0) return error(pos, "integer division or modulo by zero");
        if (i == INT64_MIN && j == -1) return error(pos, "integer overflow");
        int64_t q = i / j, m = i % j;
        if (m != 0 && ((m < 0) != (j < 0))) {
          --q;
          m += j;
        }  // Python floors
        return Value(op == "//" ? q : m);
      }
      if (op == "**") {
        if (j < 0) return Value(std::pow(x, y));
        int64_t acc = 1;
        for (int64_t k = 0; k < j; ++k) {
          if (__builtin_mul_overflow(acc, i, &acc)) return error(pos, "integer overflow");
          if (acc == 0 || acc == 1) break;
          if (acc == -1) {
            acc = (j % 2) ? -1 : 1;
            break;
          }
        }
        return Value(acc);
      }
    }
    if (op == "+") return Value(x + y);
    if (op == "-") return Value(x - y);
    if (op == "*") return Value(x * y);
    if (op == "//" || op == "%") {
      if (y == 0) return error(pos, "float division or modulo by zero");
      const double q = std::floor(x / y);
      return Value(op == "//" ? q : x - q * y);
    }
    if (op == "**") return Value(std::pow(x, y));
    return type_error();
  }

  // ---- filters ----
  Result<Value> apply_filter(uint32_t pos, const std::string& name, const Value& v, CallArgs& a) {
    PM_RETURN_IF_ERROR(tick(pos));
    if (name == "tojson") {
      Value::JsonStyle st;
      const Value& indent = a.get(1, "indent");
      if (indent.is_int()) st.indent = int(std::clamp<int64_t>(indent.as_int(), 0, 64));
      st.ensure_ascii = a.get(0, "ensure_ascii").truthy();
      st.sort_keys = a.get(3, "sort_keys").truthy();
      const Value& seps = a.get(2, "separators");
      if (seps.is_array() && seps.arr().size() == 2 && seps.arr()[0].is_string() && seps.arr()[1].is_string()) {
        st.item_sep = seps.arr()[0].str();
        st.key_sep = seps.arr()[1].str();
      }
      std::string out;
      Status s = v.to_json(out, st);
      if (!s.is_ok()) return error(pos, s.message());
      PM_RETURN_IF_ERROR(charge(pos, out.size()));
      return Value(std::move(out));
    }
    if (name == "trim" || name == "strip") return Value(py_strip(v.to_str(), a.get(0, "chars"), true, true));
    if (name == "length" || name == "count") {
      if (!(v.is_string() || v.is_array() || v.is_object() || v.is_undefined()))
        return error(pos, std::string("object of type ") + v.type_name() + " has no length");
      return Value(int64_t(v.length()));
    }
    if (name == "upper") return Value(ascii_upper(v.to_str()));
    if (name == "lower") return Value(ascii_lower(v.to_str()));
    if (name == "capitalize") return Value(capitalize(v.to_str()));
    if (name == "title") return Value(title(v.to_str()));
    if (name == "string") return Value(v.to_str());
    if (name == "safe" || (name == "list" && v.is_array())) return v;
    if (name == "list") {
      PM_ASSIGN_OR_RETURN(Array items, iterate(pos, v));
      return make_array(pos, std::move(items));
    }
    if (name == "default" || name == "d") {
      const bool boolean = a.get(1, "boolean").truthy();
      if (v.is_undefined() || (boolean && !v.truthy()))
        return a.has(0, "default_value") ? a.get(0, "default_value") : Value("");
      return v;
    }
    if (name == "items") {
      if (v.is_undefined()) return make_array(pos, {});
      if (!v.is_object()) return error(pos, std::string("items: expected a dict, found ") + v.type_name());
      Array out;
      for (const auto& [k, x] : v.obj()) out.push_back(Value::array({Value(k), x}));
      return make_array(pos, std::move(out));
    }
    if (name == "join") {
      PM_ASSIGN_OR_RETURN(Array items, iterate(pos, v));
      const Value& sep = a.get(0, "d");
      const Value& attr = a.get(1, "attribute");
      std::string out;
      for (size_t i = 0; i < items.size(); ++i) {
        if (i) out += sep.is_string() ? sep.str() : "";
        Value x = items[i];
        if (attr.is_string()) {
          PM_ASSIGN_OR_RETURN(x, get_attr(pos, x, attr.str()));
        }
        out += x.to_str();
        PM_RETURN_IF_ERROR(charge(pos, out.size()));
      }
      return Value(std::move(out));
    }
    if (name == "first" || name == "last") {
      PM_ASSIGN_OR_RETURN(Array items, iterate(pos, v));
      if (items.empty()) return Value();
      return name == "first" ? items.front() : items.back();
    }
    if (name == "reverse") {
      if (v.is_string()) {
        PM_ASSIGN_OR_RETURN(Array items, iterate(pos, v));
        std::string out;
        for (size_t i = items.size(); i-- > 0;) out += items[i].str();
        return Value(std::move(out));
      }
      PM_ASSIGN_OR_RETURN(Array items, iterate(pos, v));
      std::reverse(items.begin(), items.end());
      return make_array(pos, std::move(items));
    }
    if (name == "int") {
      const Value& def = a.has(0, "default") ? a.get(0, "default") : Value(int64_t(0));
      if (v.is_number()) return Value(v.as_int());
      if (v.is_string()) {
        const std::string t = py_strip(v.str(), Value(), true, true);
        char* end = nullptr;
        errno = 0;
        const long long i = std::strtoll(t.c_str(), &end, 10);
        if (!t.empty() && end && *end == '\0' && errno == 0) return Value(int64_t(i));
        const double f = std::strtod(t.c_str(), &end);
        if (!t.empty() && end && *end == '\0' && std::isfinite(f) && std::fabs(f) < 9.2e18) return Value(int64_t(f));
      }
      return def;
    }
    if (name == "float") {
      const Value& def = a.has(0, "default") ? a.get(0, "default") : Value(0.0);
      if (v.is_number()) return Value(v.as_float());
      if (v.is_string()) {
        const std::string t = py_strip(v.str(), Value(), true, true);
        char* end = nullptr;
        const double f = std::strtod(t.c_str(), &end);
        if (!t.empty() && end && *end == '\0') return Value(f);
      }
      return def;
    }
    if (name == "abs") {
      if (!v.is_number()) return error(pos, std::string("abs: expected a number, found ") + v.type_name());
      if (v.kind() == Value::Kind::kFloat) return Value(std::fabs(v.as_float()));
      if (v.as_int() == INT64_MIN) return error(pos, "integer overflow");
      return Value(v.as_int() < 0 ? -v.as_int() : v.as_int());
    }
    if (name == "round") {
      if (!v.is_number()) return error(pos, std::string("round: expected a number, found ") + v.type_name());
      const Value& p = a.get(0, "precision");
      const double scale = std::pow(10.0, double(p.is_int() ? std::clamp<int64_t>(p.as_int(), -20, 20) : 0));
      const Value& method = a.get(1, "method");
      const std::string m = method.is_string() ? method.str() : "common";
      const double x = v.as_float() * scale;
      const double r = m == "ceil" ? std::ceil(x) : m == "floor" ? std::floor(x) : std::round(x);
      return Value(r / scale);
    }
    if (name == "replace") return replace(pos, v.to_str(), a.get(0, "old"), a.get(1, "new"), a.get(2, "count"));
    if (name == "indent") {
      const Value& w = a.get(0, "width");
      const std::string pad =
          w.is_string() ? w.str() : std::string(size_t(w.is_int() ? std::clamp<int64_t>(w.as_int(), 0, 64) : 4), ' ');
      const bool first = a.get(1, "first").truthy(), blank = a.get(2, "blank").truthy();
      const std::string s = v.to_str();
      std::string out;
      size_t b = 0;
      bool is_first = true;
      while (b <= s.size()) {
        size_t e = s.find('\n', b);
        const bool last = e == std::string::npos;
        if (last) e = s.size();
        const std::string line = s.substr(b, e - b);
        if ((!is_first || first) && (blank || !py_strip(line, Value(), true, true).empty())) out += pad;
        out += line;
        if (!last) out += '\n';
        PM_RETURN_IF_ERROR(charge(pos, out.size()));
        is_first = false;
        if (last) break;
        b = e + 1;
      }
      return Value(std::move(out));
    }
    if (name == "map") {
      PM_ASSIGN_OR_RETURN(Array items, iterate(pos, v));
      Array out;
      const Value& attr = a.get(99, "attribute");
      if (attr.is_string()) {
        const Value& def = a.get(99, "default");
        for (const Value& x : items) {
          PM_ASSIGN_OR_RETURN(Value y, get_attr(pos, x, attr.str()));
          out.push_back(y.is_undefined() ? def : y);
        }
      } else {
        if (a.args.empty() || !a.args[0].is_string()) return error(pos, "map: give a filter name or attribute=");
        CallArgs rest;
        rest.pos = pos;
        rest.args.assign(a.args.begin() + 1, a.args.end());
        for (const Value& x : items) {
          PM_ASSIGN_OR_RETURN(Value y, apply_filter(pos, a.args[0].str(), x, rest));
          out.push_back(std::move(y));
        }
      }
      return make_array(pos, std::move(out));
    }
    if (name == "select" || name == "reject" || name == "selectattr" || name == "rejectattr") {
      PM_ASSIGN_OR_RETURN(Array items, iterate(pos, v));
      const bool by_attr = name == "selectattr" || name == "rejectattr";
      const bool keep = name == "select" || name == "selectattr";
      size_t k = 0;
      std::string attr;
      if (by_attr) {
        if (a.args.empty() || !a.args[0].is_string()) return error(pos, name + ": give an attribute name");
        attr = a.args[0].str();
        k = 1;
      }
      std::string test;
      if (k < a.args.size()) {
        if (!a.args[k].is_string()) return error(pos, name + ": the test name must be a string");
        test = a.args[k].str();
      }
      CallArgs targs;
      targs.pos = pos;
      if (k + 1 < a.args.size()) targs.args.assign(a.args.begin() + long(k) + 1, a.args.end());
      Array out;
      for (const Value& x : items) {
        PM_RETURN_IF_ERROR(tick(pos));
        Value y = x;
        if (by_attr) {
          PM_ASSIGN_OR_RETURN(y, get_attr(pos, x, attr));
        }
        bool ok;
        if (test.empty())
          ok = y.truthy();
        else {
          PM_ASSIGN_OR_RETURN(ok, apply_test(pos, test, y, targs));
        }
        if (ok == keep) out.push_back(x);
      }
      return make_array(pos, std::move(out));
    }
    if (name == "unique") {
      PM_ASSIGN_OR_RETURN(Array items, iterate(pos, v));
      Array out;
      for (const Value& x : items) {
        PM_RETURN_IF_ERROR(tick(pos, int64_t(out.size() / 64)));
        bool seen = false;
        for (const Value& y : out)
          if (values_equal(x, y)) {
            seen = true;
            break;
          }
        if (!seen) out.push_back(x);
      }
      return make_array(pos, std::move(out));
    }
    if (name == "sort" || name == "min" || name == "max") {
      PM_ASSIGN_OR_RETURN(Array items, iterate(pos, v));
      const bool reverse = name == "sort" && a.get(0, "reverse").truthy();
      const Value& attr = a.get(name == "sort" ? 2 : 1, "attribute");
      const bool cs = a.get(name == "sort" ? 1 : 0, "case_sensitive").truthy();
      Array keys;
      for (const Value& x : items) {
        Value key = x;
        if (attr.is_string()) {
          PM_ASSIGN_OR_RETURN(key, get_attr(pos, x, attr.str()));
        }
        if (key.is_string() && !cs) key = Value(ascii_lower(key.str()));
        keys.push_back(key);
      }
      std::vector<size_t> order(items.size());
      for (size_t i = 0; i < order.size(); ++i) order[i] = i;
      bool ok = true;
      PM_RETURN_IF_ERROR(tick(pos, int64_t(items.size())));
      std::stable_sort(order.begin(), order.end(), [&](size_t i, size_t j) {
        bool o;
        const int c = compare_values(keys[i], keys[j], o);
        ok = ok && o;
        return reverse ? c > 0 : c < 0;
      });
      if (!ok) return error(pos, name + ": the items cannot be ordered");
      if (name != "sort") {
        if (items.empty()) return Value();
        return name == "min" ? items[order.front()] : items[order.back()];
      }
      Array out;
      for (size_t i : order) out.push_back(items[i]);
      return make_array(pos, std::move(out));
    }
    if (name == "sum") {
      PM_ASSIGN_OR_RETURN(Array items, iterate(pos, v));
      Value acc = a.has(1, "start") ? a.get(1, "start") : Value(int64_t(0));
      const Value& attr = a.get(0, "attribute");
      for (const Value& x : items) {
        Value y = x;
        if (attr.is_string()) {
          PM_ASSIGN_OR_RETURN(y, get_attr(pos, x, attr.str()));
        }
        PM_ASSIGN_OR_RETURN(acc, binary(pos, "+", acc, y));
      }
      return acc;
    }
    if (name == "dictsort") {
      if (!v.is_object()) return error(pos, "dictsort: expected a dict");
      Array out;
      for (const auto& [k, x] : v.obj()) out.push_back(Value::array({Value(k), x}));
      std::stable_sort(out.begin(), out.end(), [](const Value& x, const Value& y) {
        return ascii_lower(x.arr()[0].str()) < ascii_lower(y.arr()[0].str());
      });
      return make_array(pos, std::move(out));
    }
    if (name == "wordcount") {
      PM_ASSIGN_OR_RETURN(Value parts, split(pos, v.to_str(), CallArgs{}, false));
      return Value(int64_t(parts.arr().size()));
    }
    return error(pos, "unknown filter '" + name + "'");
  }

  // ---- tests ----
  Result<bool> apply_test(uint32_t pos, const std::string& name, const Value& v, CallArgs& a) {
    const Value& arg = a.get(0, "other");
    if (name == "defined") return !v.is_undefined();
    if (name == "undefined") return v.is_undefined();
    if (name == "none") return v.is_none();
    if (name == "string") return v.is_string();
    if (name == "mapping") return v.is_object();
    if (name == "iterable") return v.is_string() || v.is_array() || v.is_object();
    if (name == "sequence") return v.is_string() || v.is_array() || v.is_object();
    if (name == "number") return v.is_number();
    if (name == "integer") return v.kind() == Value::Kind::kInt;
    if (name == "float") return v.kind() == Value::Kind::kFloat;
    if (name == "boolean") return v.is_bool();
    if (name == "true") return v.is_bool() && v.as_bool();
    if (name == "false") return v.is_bool() && !v.as_bool();
    if (name == "callable") return v.is_function();
    if (name == "equalto" || name == "eq" || name == "==" || name == "sameas") return values_equal(v, arg);
    if (name == "ne" || name == "!=") return !values_equal(v, arg);
    if (name == "lt" || name == "gt" || name == "le" || name == "ge" || name == "lessthan" || name == "greaterthan") {
      bool ok;
      const int c = compare_values(v, arg, ok);
      if (!ok) return error(pos, "cannot compare " + std::string(v.type_name()) + " and " + arg.type_name());
      if (name == "lt" || name == "lessthan") return c < 0;
      if (name == "gt" || name == "greaterthan") return c > 0;
      return name == "le" ? c <= 0 : c >= 0;
    }
    if (name == "odd" || name == "even") {
      if (!v.is_int()) return error(pos, name + ": expected an integer");
      return (v.as_int() % 2 != 0) == (name == "odd");
    }
    if (name == "divisibleby") {
      if (!v.is_int() || !arg.is_int() || arg.as_int() == 0)
        return error(pos, "divisibleby: expected non-zero integers");
      return v.as_int() % arg.as_int() == 0;
    }
    if (name == "in") {
      PM_ASSIGN_OR_RETURN(Value r, binary(pos, "in", v, arg));
      return r.truthy();
    }
    if (name == "lower" || name == "upper") {
      if (!v.is_string()) return false;
      return v.str() == (name == "lower" ? ascii_lower(v.str()) : ascii_upper(v.str()));
    }
    return error(pos, "unknown test '" + name + "'");
  }

  const Template::Parsed& p_;
  const RenderOptions& opt_;
  const Limits& lim_;
  std::vector<std::shared_ptr<Frame>> frames_;
  std::vector<Value> namespaces_;
  std::string* out_ = nullptr;
  int64_t steps_ = 0;
  int call_depth_ = 0;
};

}  // namespace

Result<std::string> Template::render(const nlohmann::ordered_json& context, const RenderOptions& options) const {
  if (!parsed_) return Status::invalid_argument("chat template: not parsed");
  RenderOptions o = options;
  Interpreter in(*parsed_, o);
  return in.run(context);
}

}  // namespace pm::jinja
