#include "store/record.h"

#include <algorithm>

#include "store/utf8.h"

namespace pm::store {

const std::vector<std::string>& known_sources() {
  static const std::vector<std::string> kSources = {"sms", "note", "calendar", "call", "photo", "contact", "email"};
  return kSources;
}

bool is_known_source(std::string_view source) {
  const auto& s = known_sources();
  return std::find(s.begin(), s.end(), source) != s.end();
}

namespace {

using nlohmann::json;

Status field_error(const std::string& field, const std::string& what) {
  return Status::invalid_argument("field \"" + field + "\": " + what);
}

const char* type_name(const json& v) {
  switch (v.type()) {
    case json::value_t::null:
      return "null";
    case json::value_t::object:
      return "an object";
    case json::value_t::array:
      return "an array";
    case json::value_t::string:
      return "a string";
    case json::value_t::boolean:
      return "a boolean";
    case json::value_t::number_integer:
    case json::value_t::number_unsigned:
    case json::value_t::number_float:
      return "a number";
    default:
      return "an unknown value";
  }
}

Status check_text(const std::string& field, const std::string& s, size_t max_bytes) {
  if (s.size() > max_bytes)
    return field_error(field, std::to_string(s.size()) + " bytes; the limit is " + std::to_string(max_bytes));
  if (size_t bad = find_invalid_utf8(s); bad != std::string::npos)
    return field_error(field, "invalid UTF-8 at byte " + std::to_string(bad));
  return Status::ok();
}

// A string or null/absent field.
Result<std::optional<std::string>> opt_string(const json& obj, const char* field, size_t max_bytes) {
  auto it = obj.find(field);
  if (it == obj.end() || it->is_null()) return std::optional<std::string>();
  if (!it->is_string()) return field_error(field, std::string("expected a string or null, got ") + type_name(*it));
  std::string s = it->get<std::string>();
  PM_RETURN_IF_ERROR(check_text(field, s, max_bytes));
  return std::optional<std::string>(std::move(s));
}

Result<std::vector<std::string>> string_list(const json& obj, const char* field) {
  std::vector<std::string> out;
  auto it = obj.find(field);
  if (it == obj.end() || it->is_null()) return out;
  if (!it->is_array()) return field_error(field, std::string("expected an array of strings, got ") + type_name(*it));
  if (it->size() > 1000) return field_error(field, "more than 1000 entries");
  for (size_t i = 0; i < it->size(); ++i) {
    const json& v = (*it)[i];
    const std::string name = std::string(field) + "[" + std::to_string(i) + "]";
    if (!v.is_string()) return field_error(name, std::string("expected a string, got ") + type_name(v));
    std::string s = v.get<std::string>();
    PM_RETURN_IF_ERROR(check_text(name, s, kMaxFieldBytes));
    out.push_back(std::move(s));
  }
  return out;
}

Result<std::optional<Timestamp>> opt_time(const json& obj, const char* field) {
  auto it = obj.find(field);
  if (it == obj.end() || it->is_null()) return std::optional<Timestamp>();
  if (!it->is_string()) return field_error(field, std::string("expected an ISO 8601 string, got ") + type_name(*it));
  Result<Timestamp> t = parse_iso8601(it->get_ref<const std::string&>());
  if (!t.is_ok()) return field_error(field, t.status().message());
  return std::optional<Timestamp>(*t);
}

}  // namespace

Status validate_record(const Record& r) {
  if (r.id.empty()) return field_error("id", "empty");
  PM_RETURN_IF_ERROR(check_text("id", r.id, kMaxIdBytes));
  for (unsigned char c : r.id)
    if (c < 0x20 || c == 0x7F) return field_error("id", "contains a control character");
  if (!is_known_source(r.source)) {
    std::string list;
    for (const auto& s : known_sources()) list += (list.empty() ? "" : ", ") + s;
    std::string msg(1, '"');
    msg.append(utf8_prefix(r.source, 64)).append("\" is not one of ").append(list);
    return field_error("source", msg);
  }
  if (r.sender) PM_RETURN_IF_ERROR(check_text("sender", *r.sender, kMaxFieldBytes));
  if (r.title) PM_RETURN_IF_ERROR(check_text("title", *r.title, kMaxFieldBytes));
  if (r.location) PM_RETURN_IF_ERROR(check_text("location", *r.location, kMaxFieldBytes));
  if (r.text) PM_RETURN_IF_ERROR(check_text("text", *r.text, kMaxTextBytes));
  for (const auto& s : r.recipients) PM_RETURN_IF_ERROR(check_text("recipients", s, kMaxFieldBytes));
  for (const auto& s : r.tags) PM_RETURN_IF_ERROR(check_text("tags", s, kMaxFieldBytes));
  if (r.start && r.end && r.end->epoch_s < r.start->epoch_s) return field_error("end", "before \"start\"");
  if (!r.meta.is_object()) return field_error("meta", "expected an object");
  return Status::ok();
}

Result<Record> parse_record(std::string_view line) {
  if (line.size() > kMaxLineBytes)
    return Status::invalid_argument("line is " + std::to_string(line.size()) + " bytes; the limit is " +
                                    std::to_string(kMaxLineBytes));
  if (size_t bad = find_invalid_utf8(line); bad != std::string::npos)
    return Status::invalid_argument("invalid UTF-8 at byte " + std::to_string(bad + 1) + " of the line");
  json j;
  try {
    j = json::parse(line.begin(), line.end());
  } catch (const json::exception& e) {
    std::string what = e.what();
    if (size_t p = what.find("] "); p != std::string::npos) what = what.substr(p + 2);
    return Status::invalid_argument("not valid JSON: " + what);
  }
  if (!j.is_object()) return Status::invalid_argument(std::string("expected a JSON object, got ") + type_name(j));

  Record r;
  auto id = j.find("id");
  if (id == j.end() || id->is_null()) return field_error("id", "missing (required)");
  if (!id->is_string()) return field_error("id", std::string("expected a string, got ") + type_name(*id));
  r.id = id->get<std::string>();

  auto source = j.find("source");
  if (source == j.end() || source->is_null()) return field_error("source", "missing (required)");
  if (!source->is_string()) return field_error("source", std::string("expected a string, got ") + type_name(*source));
  r.source = source->get<std::string>();

  auto time = j.find("time");
  if (time == j.end() || time->is_null()) return field_error("time", "missing (required, ISO 8601)");
  PM_ASSIGN_OR_RETURN(std::optional<Timestamp> t, opt_time(j, "time"));
  r.time = *t;

  PM_ASSIGN_OR_RETURN(r.sender, opt_string(j, "sender", kMaxFieldBytes));
  PM_ASSIGN_OR_RETURN(r.recipients, string_list(j, "recipients"));
  PM_ASSIGN_OR_RETURN(r.title, opt_string(j, "title", kMaxFieldBytes));
  PM_ASSIGN_OR_RETURN(r.text, opt_string(j, "text", kMaxTextBytes));
  PM_ASSIGN_OR_RETURN(r.start, opt_time(j, "start"));
  PM_ASSIGN_OR_RETURN(r.end, opt_time(j, "end"));
  PM_ASSIGN_OR_RETURN(r.location, opt_string(j, "location", kMaxFieldBytes));
  PM_ASSIGN_OR_RETURN(r.tags, string_list(j, "tags"));
  if (auto meta = j.find("meta"); meta != j.end() && !meta->is_null()) {
    if (!meta->is_object()) return field_error("meta", std::string("expected an object, got ") + type_name(*meta));
    r.meta = *meta;
  }
  PM_RETURN_IF_ERROR(validate_record(r));
  return r;
}

nlohmann::json record_to_json(const Record& r) {
  auto opt = [](const std::optional<std::string>& s) { return s ? json(*s) : json(nullptr); };
  auto opt_t = [](const std::optional<Timestamp>& t) { return t ? json(format_iso8601(*t)) : json(nullptr); };
  return json{{"id", r.id},
              {"source", r.source},
              {"time", format_iso8601(r.time)},
              {"sender", opt(r.sender)},
              {"recipients", r.recipients},
              {"title", opt(r.title)},
              {"text", opt(r.text)},
              {"start", opt_t(r.start)},
              {"end", opt_t(r.end)},
              {"location", opt(r.location)},
              {"tags", r.tags},
              {"meta", r.meta}};
}

}  // namespace pm::store
