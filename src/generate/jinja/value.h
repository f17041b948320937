// Values of the Jinja-subset interpreter (jinja.h): Python-like data with reference semantics for
// lists, dicts and namespaces (a template's `ns.x = ...` must be seen by every holder of `ns`).
//
// Printing follows Python's str() (None, True, 1.5, ['a'], {'k': 'v'}) because that is what the
// HF reference renderer (jinja2 under transformers) produces; JSON follows json.dumps with
// ensure_ascii=False, which is how transformers' `tojson` filter serialises tool schemas.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <utility>
#include <vector>

#include "core/status.h"

namespace pm::jinja {

class Value;
using Array = std::vector<Value>;
// Insertion-ordered (Python dicts keep insertion order; tojson output depends on it).
using Object = std::vector<std::pair<std::string, Value>>;

struct CallArgs;
// A callable: a macro, a global function (range, namespace...) or a bound method.
using Function = std::function<Result<Value>(CallArgs&)>;

class Value {
 public:
  enum class Kind : uint8_t { kUndefined, kNone, kBool, kInt, kFloat, kString, kArray, kObject, kFunction };

  Value() = default;  // undefined
  static Value none() {
    Value v;
    v.kind_ = Kind::kNone;
    return v;
  }
  Value(bool b) : kind_(Kind::kBool), b_(b) {}     // NOLINT: implicit by design, like Python literals
  Value(int64_t i) : kind_(Kind::kInt), i_(i) {}   // NOLINT
  Value(int i) : kind_(Kind::kInt), i_(i) {}       // NOLINT
  Value(double f) : kind_(Kind::kFloat), f_(f) {}  // NOLINT
  Value(std::string s) : kind_(Kind::kString), s_(std::make_shared<std::string>(std::move(s))) {}  // NOLINT
  Value(const char* s) : Value(std::string(s)) {}                                                  // NOLINT
  static Value array(Array a = {});
  static Value object(Object o = {});
  static Value namespace_object(Object o);  // an object whose attributes `set ns.x = ...` may change
  static Value function(Function f, std::string name);
  static Value from_json(const nlohmann::ordered_json& j);

  Kind kind() const { return kind_; }
  bool is_undefined() const { return kind_ == Kind::kUndefined; }
  bool is_none() const { return kind_ == Kind::kNone; }
  bool is_bool() const { return kind_ == Kind::kBool; }
  bool is_int() const { return kind_ == Kind::kInt || kind_ == Kind::kBool; }  // Python: bool is an int
  bool is_number() const { return kind_ == Kind::kInt || kind_ == Kind::kFloat || kind_ == Kind::kBool; }
  bool is_string() const { return kind_ == Kind::kString; }
  bool is_array() const { return kind_ == Kind::kArray; }
  bool is_object() const { return kind_ == Kind::kObject; }
  bool is_namespace() const { return kind_ == Kind::kObject && namespace_; }
  bool is_function() const { return kind_ == Kind::kFunction; }

  // Nesting of lists and dicts when the value was made (1 for a flat list). Bounded by the
  // interpreter so destruction, printing and comparison never recurse deeply.
  int depth() const { return depth_; }
  static constexpr int kMaxDepth = 200;

  bool as_bool() const { return b_; }
  int64_t as_int() const { return kind_ == Kind::kBool ? int64_t(b_) : kind_ == Kind::kFloat ? int64_t(f_) : i_; }
  double as_float() const { return kind_ == Kind::kFloat ? f_ : double(as_int()); }
  const std::string& str() const { return *s_; }
  Array& arr() const { return *a_; }
  Object& obj() const { return *o_; }
  const Function& fn() const { return fn_->f; }
  const std::string& fn_name() const { return fn_->name; }

  // Object key lookup (nullptr when absent).
  const Value* find(std::string_view key) const;
  void set(const std::string& key, Value v) const;  // objects only

  bool truthy() const;
  size_t length() const;  // strings (in code points), arrays, objects
  const char* type_name() const;

  // Python str() / repr() of the value.
  std::string to_str(int depth = 0) const;
  std::string repr(int depth = 0) const;
  // json.dumps(value, ensure_ascii=False, indent=indent, separators=..., sort_keys=...). indent < 0:
  // single line. Errors: functions and undefined values have no JSON form.
  struct JsonStyle {
    int indent = -1;
    std::string item_sep;  // "" = the Python default for the indent (", " or ",")
    std::string key_sep = ": ";
    bool sort_keys = false;
    bool ensure_ascii = false;
  };
  Status to_json(std::string& out, const JsonStyle& style, int depth = 0) const;
  nlohmann::ordered_json to_nlohmann() const;  // undefined and functions become null

 private:
  struct Fn {
    Function f;
    std::string name;
  };
  Kind kind_ = Kind::kUndefined;
  bool b_ = false;
  bool namespace_ = false;
  uint16_t depth_ = 0;
  int64_t i_ = 0;
  double f_ = 0;
  std::shared_ptr<std::string> s_;
  std::shared_ptr<Array> a_;
  std::shared_ptr<Object> o_;
  std::shared_ptr<Fn> fn_;
};

// Python equality (1 == 1.0 == True, deep for lists and dicts) and ordering (numbers, strings,
// lists); ordering of other kinds is an error reported by the caller.
bool values_equal(const Value& a, const Value& b, int depth = 0);
// <0, 0, >0; false in `ok` when the kinds cannot be ordered.
int compare_values(const Value& a, const Value& b, bool& ok, int depth = 0);

// Python float repr: shortest text that reads back to the same double, with ".0" on integers.
std::string python_float(double f);
// Appends `s` as a JSON string literal, json.dumps style.
void append_json_string(std::string& out, std::string_view s, bool ensure_ascii);

// Arguments of a call: positional, then keyword (`tojson(indent=4)`).
struct CallArgs {
  std::vector<Value> args;
  std::vector<std::pair<std::string, Value>> kwargs;
  // Set by the interpreter so functions can report errors at the call site and charge work.
  size_t pos = 0;

  // The i-th positional argument, or the keyword `name`, or undefined.
  const Value& get(size_t i, std::string_view name) const;
  bool has(size_t i, std::string_view name) const { return !get(i, name).is_undefined(); }
};

}  // namespace pm::jinja
