// Model-backed request parsing (rule_parser.h): the output schema, the prompt, reading the
// model's output back through the same normalizer and validator as the deterministic parser,
// and generation under the schema's grammar.
#include "assistant/automation/model_parser.h"

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <functional>

#include "assistant/automation/rule_parser.h"
#include "generate/grammar/grammar.h"
#include "generate/grammar/json_schema.h"
#include "generate/grammar/matcher.h"

namespace pm::automation {

namespace {

using json = nlohmann::ordered_json;

const char* const kTimePattern = "^([01][0-9]|2[0-3]):[0-5][0-9]$";
const char* const kDatePattern = "^[0-9]{4}-(0[1-9]|1[0-2])-(0[1-9]|[12][0-9]|3[01])$";

// Bounds free strings so that generation always ends (a model may otherwise write forever).
void bound_strings(json& schema) {
  if (schema.is_object()) {
    if (schema.value("type", json()) == "string" && !schema.contains("pattern") && !schema.contains("enum") &&
        !schema.contains("maxLength"))
      schema["maxLength"] = 48;
    schema.erase("description");
    for (auto it = schema.begin(); it != schema.end(); ++it) bound_strings(*it);
  } else if (schema.is_array()) {
    for (json& v : schema) bound_strings(v);
  }
}

json time_str() { return {{"type", "string"}, {"pattern", kTimePattern}}; }

}  // namespace

json rules_output_schema(const ToolRegistry& registry) {
  json weekdays = {{"type", "array"},
                   {"items", {{"enum", {"mon", "tue", "wed", "thu", "fri", "sat", "sun"}}}},
                   {"minItems", 1},
                   {"maxItems", 7}};
  json events = json::array();
  for (const EventDef& e : builtin_events()) events.push_back(e.name);
  // Every filter key of the catalog's events: percentages 1-100, everything else a string.
  json filter_properties = json::object();
  for (const EventDef& e : builtin_events())
    for (const std::string& k : e.filter_keys) {
      if (filter_properties.contains(k)) continue;
      bool percent = false;
      for (const EventParam& p : e.params)
        if (p.name == k) percent = p.percent;
      filter_properties[k] = percent ? json{{"type", "integer"}, {"minimum", 1}, {"maximum", 100}}
                                     : json{{"type", "string"}};
    }
  json filter = {{"type", "object"}, {"properties", filter_properties}, {"additionalProperties", false}};
  json trigger = {
      {"anyOf",
       json::array({
           {{"type", "object"},
            {"properties",
             {{"type", {{"const", "time"}}},
              {"at", time_str()},
              {"weekdays", weekdays},
              {"date", {{"type", "string"}, {"pattern", kDatePattern}}}}},
            {"required", {"type", "at"}},
            {"additionalProperties", false}},
           {{"type", "object"},
            {"properties",
             {{"type", {{"const", "interval"}}},
              {"every_minutes", {{"type", "integer"}, {"minimum", 1}, {"maximum", 1440}}},
              {"between", {{"type", "array"}, {"items", time_str()}, {"minItems", 2}, {"maxItems", 2}}}}},
            {"required", {"type", "every_minutes"}},
            {"additionalProperties", false}},
           {{"type", "object"},
            {"properties", {{"type", {{"const", "event"}}}, {"event", {{"enum", events}}}, {"filter", filter}}},
            {"required", {"type", "event"}},
            {"additionalProperties", false}},
       })}};
  json percent = {{"type", "integer"}, {"minimum", 0}, {"maximum", 100}};
  json condition = {
      {"anyOf",
       json::array({
           {{"type", "object"},
            {"properties",
             {{"type", {{"const", "time_between"}}},
              {"after", time_str()},
              {"before", time_str()},
              {"weekdays", weekdays}}},
            {"required", {"type", "after", "before"}},
            {"additionalProperties", false}},
           {{"type", "object"},
            {"properties", {{"type", {{"const", "battery"}}}, {"below", percent}}},
            {"required", {"type", "below"}},
            {"additionalProperties", false}},
           {{"type", "object"},
            {"properties", {{"type", {{"const", "battery"}}}, {"above", percent}}},
            {"required", {"type", "above"}},
            {"additionalProperties", false}},
           {{"type", "object"},
            {"properties", {{"type", {{"const", "location"}}}, {"place", {{"type", "string"}, {"minLength", 1}}}}},
            {"required", {"type", "place"}},
            {"additionalProperties", false}},
           {{"type", "object"},
            {"properties",
             {{"type", {{"const", "state"}}},
              {"key", {{"enum", state_keys()}}},
              {"equals", {{"enum", {"on", "off", "silent", "vibrate", "normal", true, false}}}}}},
            {"required", {"type", "key", "equals"}},
            {"additionalProperties", false}},
       })}};
  json actions = json::array();
  for (const ToolDef& t : registry.tools())
    actions.push_back({{"type", "object"},
                       {"properties", {{"tool", {{"const", t.name}}}, {"args", t.schema}}},
                       {"required", {"tool", "args"}},
                       {"additionalProperties", false}});
  json rule = {{"type", "object"},
               {"properties",
                {{"name", {{"type", "string"}, {"minLength", 1}}},
                 {"mode", {{"enum", {"single", "restart", "queued", "parallel"}}}},
                 {"triggers", {{"type", "array"}, {"items", trigger}, {"minItems", 1}, {"maxItems", 3}}},
                 {"conditions", {{"type", "array"}, {"items", condition}, {"maxItems", 3}}},
                 {"actions", {{"type", "array"}, {"items", {{"anyOf", actions}}}, {"minItems", 1}, {"maxItems", 4}}}}},
               {"required", {"name", "mode", "triggers", "conditions", "actions"}},
               {"additionalProperties", false}};
  json out = {{"type", "object"},
              {"properties", {{"rules", {{"type", "array"}, {"items", rule}, {"minItems", 1}, {"maxItems", 4}}}}},
              {"required", {"rules"}},
              {"additionalProperties", false}};
  bound_strings(out);
  return out;
}

std::string model_prompt(std::string_view request, const LocalTime& now, const ToolRegistry& registry, bool compact) {
  char when[64];
  std::snprintf(when, sizeof when, "%04d-%02d-%02dT%02d:%02d (UTC%+03d:%02d)", now.year, now.month, now.day, now.hour,
                now.minute, now.utc_offset_minutes / 60, std::abs(now.utc_offset_minutes % 60));
  if (compact) {
    std::string p = "Write the request as device automation rules, JSON {\"rules\": [...]}. Tools:";
    for (const ToolDef& t : registry.tools()) {
      p += " " + t.name + "(";
      const json props = t.schema.value("properties", json::object());
      const json req = t.schema.value("required", json::array());
      bool first = true;
      for (auto it = props.begin(); it != props.end(); ++it) {
        p +=
            (first ? "" : ",") + it.key() + (std::find(req.begin(), req.end(), json(it.key())) == req.end() ? "?" : "");
        first = false;
      }
      p += ")";
    }
    p += ". Now: " + std::string(when) + ". Request: " + std::string(request) + "\n";
    return p;
  }
  std::string p =
      "You turn a user's request into device automation rules, written as JSON {\"rules\": [...]}.\n"
      "Each rule: {\"name\", \"mode\": \"single\", \"triggers\": [...], \"conditions\": [...], \"actions\": "
      "[{\"tool\", \"args\"}]}. Triggers are alternatives; independent parts of a request are separate rules.\n"
      "Trigger types: time {at: \"HH:MM\", weekdays?: [mon..sun], date?: \"YYYY-MM-DD\"}, interval {every_minutes, "
      "between?: [\"HH:MM\",\"HH:MM\"]}, event {event, filter?}.\n"
      "Condition types: time_between {after, before, weekdays?}, battery {above|below}, location {place}, state {key, "
      "equals}.\n"
      "Conventions: times are 24-hour (晚上8点 = 20:00, 下午3点 = 15:00); 工作日 = mon-fri, 周末 = sat,sun; every day "
      "omits "
      "weekdays; a one-off request gets a date; reminders are notification.show {text}; the favourites playlist is "
      "\"favorites\"; places home and work; switches take \"on\"/\"off\".\n"
      "Events:";
  for (const EventDef& e : builtin_events()) {
    p += " " + e.name;
    if (!e.filter_keys.empty()) {
      p += " {";
      for (size_t i = 0; i < e.filter_keys.size(); ++i) p += (i ? ", " : "") + e.filter_keys[i];
      p += "}";
    }
    p += ";";
  }
  p += "\nTools:\n";
  for (const ToolDef& t : registry.tools()) {
    p += "- " + t.name + ": " + t.description + ". args: " + t.schema.value("properties", json::object()).dump() + "\n";
  }
  p += "Current time: " + std::string(when) + "\nRequest: " + std::string(request) + "\n";
  return p;
}

Result<ParsedRequest> rules_from_model_output(std::string_view output, std::string_view request,
                                              const ToolRegistry& registry) {
  const json j = json::parse(output.begin(), output.end(), nullptr, false);
  if (j.is_discarded() || !j.is_object())
    return Status::invalid_argument("could not understand: the model's output is not a JSON object");
  if (!j.contains("rules") || !j["rules"].is_array() || j["rules"].empty())
    return Status::invalid_argument("could not understand: the model's output holds no rules");
  ParsedRequest out;
  out.zh = is_chinese_text(request);
  for (size_t i = 0; i < j["rules"].size(); ++i) {
    Result<Rule> r = rule_from_json(j["rules"][i]);
    if (!r.is_ok()) return r.status().with_context("model output: rules[" + std::to_string(i) + "]");
    normalize_rule(*r);
    std::vector<std::string> problems = validate(*r, registry);
    if (!problems.empty()) {
      std::string msg = "model output: rules[" + std::to_string(i) + "] is not valid: ";
      for (size_t k = 0; k < problems.size(); ++k) msg += (k ? "; " : "") + problems[k];
      return Status::invalid_argument(msg);
    }
    out.rules.push_back(std::move(*r));
  }
  return out;
}

Result<ParsedRequest> parse_request_with_model(Session& session, const Tokenizer& tokenizer, const ChatTemplate& tmpl,
                                               std::string_view text, const LocalTime& now,
                                               const ToolRegistry& registry, const ModelParseOptions& options) {
  Result<std::string> gbnf = json_schema_value_to_gbnf(rules_output_schema(registry));
  if (!gbnf.is_ok()) return gbnf.status().with_context("rule schema");
  Result<std::shared_ptr<const Grammar>> grammar = parse_grammar(*gbnf);
  if (!grammar.is_ok()) return grammar.status().with_context("rule grammar");
  // The full prompt when it leaves room for the answer, else the compact one; the answer gets
  // what the context has left (at most options.max_tokens).
  auto tokens_for = [&](bool compact) {
    std::vector<ChatMessage> messages = {ChatMessage("system", model_prompt(text, now, registry, compact)),
                                         ChatMessage("user", std::string(text))};
    return tokenizer.encode(render_chat(tmpl, messages, /*add_generation_prompt=*/true), /*add_special=*/true,
                            /*parse_special=*/true);
  };
  std::vector<TokenId> tokens = tokens_for(false);
  int64_t max_tokens = options.max_tokens;
  if (options.n_ctx > 0) {
    if (int64_t(tokens.size()) + max_tokens > options.n_ctx) tokens = tokens_for(true);
    max_tokens = std::min<int64_t>(max_tokens, options.n_ctx - int64_t(tokens.size()));
    if (max_tokens < 64)
      return Status::invalid_argument("the model's context (" + std::to_string(options.n_ctx) +
                                      " tokens) is too small for the rule prompt (" + std::to_string(tokens.size()) +
                                      " tokens) and an answer");
  }
  GenerateOptions opt;
  opt.max_tokens = int32_t(max_tokens);
  opt.sampler.seed = options.seed;
  opt.sampler.temperature = options.temperature;
  opt.grammar = std::make_shared<GrammarEngine>(*grammar, TokenTrie::build(tokenizer));
  Result<GenerateResult> r = generate(session, tokenizer, tokens, opt);
  if (!r.is_ok()) return r.status();
  if (r->finish != FinishReason::kEndOfGeneration)
    return Status::invalid_argument(std::string("could not understand: the model's output did not complete (") +
                                    finish_reason_name(r->finish) + " after " + std::to_string(r->tokens.size()) +
                                    " tokens)");
  return rules_from_model_output(r->text, text, registry);
}

}  // namespace pm::automation
