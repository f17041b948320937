#include "generate/jinja/value.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstdlib>

namespace pm::jinja {

Value Value::array(Array a) {
  Value v;
  v.kind_ = Kind::kArray;
  int d = 0;
  for (const Value& e : a) d = std::max(d, int(e.depth_));
  v.depth_ = uint16_t(std::min(d + 1, 65535));
  v.a_ = std::make_shared<Array>(std::move(a));
  return v;
}

Value Value::object(Object o) {
  Value v;
  v.kind_ = Kind::kObject;
  int d = 0;
  for (const auto& kv : o) d = std::max(d, int(kv.second.depth_));
  v.depth_ = uint16_t(std::min(d + 1, 65535));
  v.o_ = std::make_shared<Object>(std::move(o));
  return v;
}

Value Value::namespace_object(Object o) {
  Value v = object(std::move(o));
  v.namespace_ = true;
  return v;
}

Value Value::function(Function f, std::string name) {
  Value v;
  v.kind_ = Kind::kFunction;
  v.fn_ = std::make_shared<Fn>(Fn{std::move(f), std::move(name)});
  return v;
}

Value Value::from_json(const nlohmann::ordered_json& j) {
  switch (j.type()) {
    case nlohmann::ordered_json::value_t::null:
      return none();
    case nlohmann::ordered_json::value_t::boolean:
      return Value(j.get<bool>());
    case nlohmann::ordered_json::value_t::number_integer:
      return Value(j.get<int64_t>());
    case nlohmann::ordered_json::value_t::number_unsigned: {
      const uint64_t u = j.get<uint64_t>();
      return u > uint64_t(INT64_MAX) ? Value(double(u)) : Value(int64_t(u));
    }
    case nlohmann::ordered_json::value_t::number_float:
      return Value(j.get<double>());
    case nlohmann::ordered_json::value_t::string:
      return Value(j.get<std::string>());
    case nlohmann::ordered_json::value_t::array: {
      Array a;
      a.reserve(j.size());
      for (const auto& e : j) a.push_back(from_json(e));
      return array(std::move(a));
    }
    case nlohmann::ordered_json::value_t::object: {
      Object o;
      o.reserve(j.size());
      for (auto it = j.begin(); it != j.end(); ++it) o.emplace_back(it.key(), from_json(it.value()));
      return object(std::move(o));
    }
    default:
      return none();  // binary / discarded: not produced by JSON text
  }
}

const Value* Value::find(std::string_view key) const {
  if (kind_ != Kind::kObject) return nullptr;
  for (const auto& [k, v] : *o_)
    if (k == key) return &v;
  return nullptr;
}

void Value::set(const std::string& key, Value v) const {
  for (auto& [k, old] : *o_)
    if (k == key) {
      old = std::move(v);
      return;
    }
  o_->emplace_back(key, std::move(v));
}

bool Value::truthy() const {
  switch (kind_) {
    case Kind::kUndefined:
    case Kind::kNone:
      return false;
    case Kind::kBool:
      return b_;
    case Kind::kInt:
      return i_ != 0;
    case Kind::kFloat:
      return f_ != 0;
    case Kind::kString:
      return !s_->empty();
    case Kind::kArray:
      return !a_->empty();
    case Kind::kObject:
      return !o_->empty();
    case Kind::kFunction:
      return true;
  }
  return false;
}

size_t Value::length() const {
  switch (kind_) {
    case Kind::kString: {
      size_t n = 0;  // Python counts code points, not bytes ("你好" has length 2)
      for (unsigned char c : *s_) n += (c & 0xC0) != 0x80;
      return n;
    }
    case Kind::kArray:
      return a_->size();
    case Kind::kObject:
      return o_->size();
    default:
      return 0;
  }
}

const char* Value::type_name() const {
  switch (kind_) {
    case Kind::kUndefined:
      return "undefined";
    case Kind::kNone:
      return "none";
    case Kind::kBool:
      return "boolean";
    case Kind::kInt:
      return "integer";
    case Kind::kFloat:
      return "float";
    case Kind::kString:
      return "string";
    case Kind::kArray:
      return "list";
    case Kind::kObject:
      return namespace_ ? "namespace" : "dict";
    case Kind::kFunction:
      return "function";
  }
  return "?";
}

std::string python_float(double f) {
  if (std::isnan(f)) return "nan";
  if (std::isinf(f)) return f > 0 ? "inf" : "-inf";
  // Shortest scientific form that reads back exactly, then laid out the way Python's repr does:
  // plain digits for exponents in [-4, 16), "1e+16" / "1.5e-05" outside.
  char buf[64];
  for (int prec = 0; prec <= 17; ++prec) {
    std::snprintf(buf, sizeof buf, "%.*e", prec, f);
    if (std::strtod(buf, nullptr) == f) break;
  }
  std::string s = buf;
  const size_t e = s.find('e');
  const int exp = std::atoi(s.c_str() + e + 1);
  std::string sign, digits;
  for (size_t i = 0; i < e; ++i) {
    if (s[i] == '-')
      sign = "-";
    else if (s[i] != '.')
      digits += s[i];
  }
  while (digits.size() > 1 && digits.back() == '0') digits.pop_back();
  if (exp >= -4 && exp < 16) {
    if (exp < 0) return sign + "0." + std::string(size_t(-exp - 1), '0') + digits;
    std::string ip = digits.substr(0, std::min(digits.size(), size_t(exp) + 1));
    ip.append(size_t(exp) + 1 - ip.size(), '0');
    const std::string fp = digits.size() > size_t(exp) + 1 ? digits.substr(size_t(exp) + 1) : "0";
    return sign + ip + "." + fp;
  }
  char eb[16];
  std::snprintf(eb, sizeof eb, "e%c%02d", exp < 0 ? '-' : '+', exp < 0 ? -exp : exp);
  return sign + digits.substr(0, 1) + (digits.size() > 1 ? "." + digits.substr(1) : "") + eb;
}

void append_json_string(std::string& out, std::string_view s, bool ensure_ascii) {
  out += '"';
  for (size_t i = 0; i < s.size(); ++i) {
    const unsigned char c = static_cast<unsigned char>(s[i]);
    switch (c) {
      case '"':
        out += "\\\"";
        break;
      case '\\':
        out += "\\\\";
        break;
      case '\n':
        out += "\\n";
        break;
      case '\r':
        out += "\\r";
        break;
      case '\t':
        out += "\\t";
        break;
      case '\b':
        out += "\\b";
        break;
      case '\f':
        out += "\\f";
        break;
      default:
        if (c < 0x20) {
          char buf[8];
          std::snprintf(buf, sizeof buf, "\\u%04x", c);
          out += buf;
        } else if (c >= 0x80 && ensure_ascii) {
          // Decode one UTF-8 sequence; malformed bytes are written as U+FFFD.
          uint32_t cp = 0xFFFD;
          size_t n = c >= 0xF0 ? 4 : c >= 0xE0 ? 3 : c >= 0xC0 ? 2 : 1;
          if (n > 1 && i + n <= s.size()) {
            cp = c & (0xFF >> (n + 1));
            for (size_t k = 1; k < n; ++k) cp = (cp << 6) | (static_cast<unsigned char>(s[i + k]) & 0x3F);
            i += n - 1;
          }
          char buf[16];
          if (cp >= 0x10000) {
            cp -= 0x10000;
            std::snprintf(buf, sizeof buf, "\\u%04x\\u%04x", 0xD800 + (cp >> 10), 0xDC00 + (cp & 0x3FF));
          } else {
            std::snprintf(buf, sizeof buf, "\\u%04x", cp);
          }
          out += buf;
        } else {
          out += char(c);
        }
    }
  }
  out += '"';
}

namespace {

// Python repr of a string: single quotes unless the text holds a ' and no ".
std::string py_repr_string(const std::string& s) {
  const bool dq = s.find('\'') != std::string::npos && s.find('"') == std::string::npos;
  const char q = dq ? '"' : '\'';
  std::string out(1, q);
  for (char c : s) {
    if (c == q || c == '\\') {
      out += '\\';
      out += c;
    } else if (c == '\n')
      out += "\\n";
    else if (c == '\r')
      out += "\\r";
    else if (c == '\t')
      out += "\\t";
    else
      out += c;
  }
  out += q;
  return out;
}

}  // namespace

std::string Value::repr(int depth) const {
  if (kind_ == Kind::kString) return py_repr_string(*s_);
  return to_str(depth);
}

std::string Value::to_str(int depth) const {
  if (depth > kMaxDepth) return "...";  // a namespace that holds itself
  switch (kind_) {
    case Kind::kUndefined:
      return "";
    case Kind::kNone:
      return "None";
    case Kind::kBool:
      return b_ ? "True" : "False";
    case Kind::kInt:
      return std::to_string(i_);
    case Kind::kFloat:
      return python_float(f_);
    case Kind::kString:
      return *s_;
    case Kind::kArray: {
      std::string out = "[";
      for (size_t i = 0; i < a_->size(); ++i) out += (i ? ", " : "") + (*a_)[i].repr(depth + 1);
      return out + "]";
    }
    case Kind::kObject: {
      std::string out = namespace_ ? "<Namespace {" : "{";
      for (size_t i = 0; i < o_->size(); ++i)
        out += (i ? ", " : "") + py_repr_string((*o_)[i].first) + ": " + (*o_)[i].second.repr(depth + 1);
      return out + (namespace_ ? "}>" : "}");
    }
    case Kind::kFunction:
      return "<function " + fn_->name + ">";
  }
  return "";
}

Status Value::to_json(std::string& out, const JsonStyle& st, int depth) const {
  if (depth > kMaxDepth) return Status::invalid_argument("tojson: value nested too deeply");
  const std::string item_sep = !st.item_sep.empty() ? st.item_sep : st.indent >= 0 ? "," : ", ";
  auto newline = [&](int d) {
    if (st.indent < 0) return;
    out += '\n';
    out.append(size_t(st.indent) * size_t(d), ' ');
  };
  switch (kind_) {
    case Kind::kUndefined:
      return Status::invalid_argument("tojson: the value is undefined");
    case Kind::kFunction:
      return Status::invalid_argument("tojson: a function has no JSON form");
    case Kind::kNone:
      out += "null";
      return Status::ok();
    case Kind::kBool:
      out += b_ ? "true" : "false";
      return Status::ok();
    case Kind::kInt:
      out += std::to_string(i_);
      return Status::ok();
    case Kind::kFloat:
      out += std::isnan(f_) ? "NaN" : std::isinf(f_) ? (f_ > 0 ? "Infinity" : "-Infinity") : python_float(f_);
      return Status::ok();
    case Kind::kString:
      append_json_string(out, *s_, st.ensure_ascii);
      return Status::ok();
    case Kind::kArray: {
      if (a_->empty()) {
        out += "[]";
        return Status::ok();
      }
      out += '[';
      for (size_t i = 0; i < a_->size(); ++i) {
        if (i) out += item_sep;
        newline(depth + 1);
        PM_RETURN_IF_ERROR((*a_)[i].to_json(out, st, depth + 1));
      }
      newline(depth);
      out += ']';
      return Status::ok();
    }
    case Kind::kObject: {
      if (o_->empty()) {
        out += "{}";
        return Status::ok();
      }
      std::vector<const std::pair<std::string, Value>*> items;
      for (const auto& kv : *o_) items.push_back(&kv);
      if (st.sort_keys)
        std::stable_sort(items.begin(), items.end(), [](auto* a, auto* b) { return a->first < b->first; });
      out += '{';
      for (size_t i = 0; i < items.size(); ++i) {
        if (i) out += item_sep;
        newline(depth + 1);
        append_json_string(out, items[i]->first, st.ensure_ascii);
        out += st.key_sep;
        PM_RETURN_IF_ERROR(items[i]->second.to_json(out, st, depth + 1));
      }
      newline(depth);
      out += '}';
      return Status::ok();
    }
  }
  return Status::ok();
}

nlohmann::ordered_json Value::to_nlohmann() const {
  switch (kind_) {
    case Kind::kBool:
      return b_;
    case Kind::kInt:
      return i_;
    case Kind::kFloat:
      return f_;
    case Kind::kString:
      return *s_;
    case Kind::kArray: {
      nlohmann::ordered_json j = nlohmann::ordered_json::array();
      for (const Value& v : *a_) j.push_back(v.to_nlohmann());
      return j;
    }
    case Kind::kObject: {
      nlohmann::ordered_json j = nlohmann::ordered_json::object();
      for (const auto& [k, v] : *o_) j[k] = v.to_nlohmann();
      return j;
    }
    default:
      return nullptr;
  }
}

bool values_equal(const Value& a, const Value& b, int depth) {
  if (depth > Value::kMaxDepth) return false;
  if (a.is_number() && b.is_number()) {
    if (a.kind() == Value::Kind::kFloat || b.kind() == Value::Kind::kFloat) return a.as_float() == b.as_float();
    return a.as_int() == b.as_int();
  }
  if (a.kind() != b.kind()) return false;
  switch (a.kind()) {
    case Value::Kind::kUndefined:
    case Value::Kind::kNone:
      return true;
    case Value::Kind::kString:
      return a.str() == b.str();
    case Value::Kind::kArray: {
      if (&a.arr() == &b.arr()) return true;
      if (a.arr().size() != b.arr().size()) return false;
      for (size_t i = 0; i < a.arr().size(); ++i)
        if (!values_equal(a.arr()[i], b.arr()[i], depth + 1)) return false;
      return true;
    }
    case Value::Kind::kObject: {
      if (&a.obj() == &b.obj()) return true;
      if (a.obj().size() != b.obj().size()) return false;
      for (const auto& [k, v] : a.obj()) {
        const Value* w = b.find(k);
        if (!w || !values_equal(v, *w, depth + 1)) return false;
      }
      return true;
    }
    case Value::Kind::kFunction:
      return &a.fn() == &b.fn();
    default:
      return false;
  }
}

int compare_values(const Value& a, const Value& b, bool& ok, int depth) {
  ok = depth <= Value::kMaxDepth;
  if (!ok) return 0;
  if (a.is_number() && b.is_number()) {
    const double x = a.as_float(), y = b.as_float();
    if (a.kind() != Value::Kind::kFloat && b.kind() != Value::Kind::kFloat)
      return a.as_int() < b.as_int() ? -1 : a.as_int() > b.as_int();
    return x < y ? -1 : x > y;
  }
  if (a.is_string() && b.is_string()) return a.str().compare(b.str()) < 0 ? -1 : a.str() == b.str() ? 0 : 1;
  if (a.is_array() && b.is_array()) {
    const size_t n = std::min(a.arr().size(), b.arr().size());
    for (size_t i = 0; i < n; ++i) {
      const int c = compare_values(a.arr()[i], b.arr()[i], ok, depth + 1);
      if (!ok || c != 0) return c;
    }
    return a.arr().size() < b.arr().size() ? -1 : a.arr().size() > b.arr().size();
  }
  ok = false;
  return 0;
}

const Value& CallArgs::get(size_t i, std::string_view name) const {
  static const Value kUndefined;
  if (i < args.size()) return args[i];
  for (const auto& [k, v] : kwargs)
    if (k == name) return v;
  return kUndefined;
}

}  // namespace pm::jinja
