// Syntax tree of a parsed template (internal to src/generate/jinja/). Every node keeps the byte
// offset in the source where it starts, so run-time errors can name a line and column.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "generate/jinja/jinja.h"
#include "generate/jinja/value.h"

namespace pm::jinja {

struct Expr;
using ExprPtr = std::unique_ptr<Expr>;

struct Expr {
  enum class Kind : uint8_t {
    kLiteral,    // value
    kName,       // name
    kList,       // items (tuples are lists too)
    kDict,       // items: key0, value0, key1, value1, ...
    kAttr,       // items[0].name
    kSubscript,  // items[0][items[1]]
    kSlice,      // items[0][items[1]:items[2]:items[3]] (absent parts are null)
    kCall,       // items[0](items[1..], kwargs)
    kFilter,     // items[0] | name(items[1..], kwargs)
    kTest,       // items[0] is [not] name(items[1..])
    kNot,        // not items[0]
    kNeg,        // -items[0]
    kPos,        // +items[0]
    kBinary,     // items[0] op items[1]
    kAnd,
    kOr,
    kCond,  // items[0] if items[1] else items[2] (items[2] may be null)
  };
  Kind kind;
  uint32_t pos = 0;
  std::string name;      // names, attributes, filters, tests, binary operators ("+", "in", "not in", ...)
  bool negated = false;  // kTest: "is not"
  Value value;           // kLiteral
  std::vector<ExprPtr> items;
  std::vector<std::pair<std::string, ExprPtr>> kwargs;

  Expr(Kind k, uint32_t p) : kind(k), pos(p) {}
};

struct Node;
using NodePtr = std::unique_ptr<Node>;
using Body = std::vector<NodePtr>;

struct Node {
  enum class Kind : uint8_t {
    kText,    // text
    kOutput,  // {{ expr }}
    kIf,      // conds[i] -> bodies[i]; bodies.size() == conds.size() + 1 when there is an else
    kFor,     // for targets in expr [if cond] : bodies[0], else bodies[1]
    kSet,     // set targets = expr, or set ns.attr = expr (attr non-empty), or block set (bodies[0])
    kMacro,   // macro name(params = defaults) : bodies[0]
    kBreak,
    kContinue,
    kBlock,  // a body rendered as is ({% generation %}, {% filter %} is not supported)
  };
  Kind kind;
  uint32_t pos = 0;
  std::string text;
  std::vector<std::string> targets;
  std::string attr;
  ExprPtr expr;
  ExprPtr cond;
  std::vector<ExprPtr> conds;
  std::vector<Body> bodies;
  std::vector<ExprPtr> defaults;  // kMacro: one per target (null = required)

  Node(Kind k, uint32_t p) : kind(k), pos(p) {}
};

struct Template::Parsed {
  std::string source;
  Body body;
  Limits limits;
};

}  // namespace pm::jinja
