// JSON Schema -> GBNF grammar (grammar.h) whose sentences are JSON texts valid under the schema.
//
// Supported (anything else is an error that names the keyword and its location):
//   type (one or a list), const, enum, anyOf, oneOf (compiled as anyOf: keep the branches
//   disjoint), allOf with one member, $ref to "#", "#/$defs/..." or "#/definitions/..." (nested and
//   recursive), object: properties (emitted in the order written), required,
//   additionalProperties (false / true / schema; when absent, no extra properties are generated),
//   array: items, minItems, maxItems; string: minLength, maxLength, pattern (ECMAScript subset:
//   literals, ., classes, \d \w \s, groups, |, ? * + {m,n}; unanchored patterns get .* around them),
//   format date | time | date-time | uuid; integer: minimum, maximum, exclusiveMinimum,
//   exclusiveMaximum; number: the same (bounded numbers are generated without exponent, a sound
//   subset of the range); boolean; null; {} or true = any JSON value. Annotations (title,
//   description, default, examples, $schema, $id, $comment, ...) are ignored.
// Output is compact JSON with at most a few whitespace characters between tokens; integers have
// at most 16 digits and exponents 2, so every sentence parses into a double without overflow.
// Contradictory schemas (minLength > maxLength, empty enum, unsatisfiable recursion...) are
// errors, not grammars that match nothing.
#pragma once

#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

#include "core/status.h"

namespace pm {

// The schema as text (JSON). Errors: JSON syntax, unsupported keywords, contradictions.
Result<std::string> json_schema_to_gbnf(std::string_view schema_json);
Result<std::string> json_schema_value_to_gbnf(const nlohmann::ordered_json& schema);

}  // namespace pm
