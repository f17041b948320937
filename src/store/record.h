// A personal-data record (DESIGN.md "Personal-data records") and its JSON Lines form.
//
//   {"id": "sms-0001", "source": "sms", "time": "2026-11-20T08:15:00+08:00",
//    "sender": "妈妈", "recipients": ["me"], "title": null, "text": "周六回家吃饭吗？",
//    "start": null, "end": null, "location": null, "tags": [], "meta": {}}
//
// Every other input format (.ics, vCard, notes) is converted into this.
#pragma once

#include <cstdint>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/status.h"
#include "store/time_util.h"

namespace pm::store {

inline constexpr size_t kMaxIdBytes = 256;
inline constexpr size_t kMaxTextBytes = 256 * 1024;   // text (transcripts can be long)
inline constexpr size_t kMaxFieldBytes = 4096;        // sender, title, location, each recipient and tag
inline constexpr size_t kMaxLineBytes = 1024 * 1024;  // one JSON Lines record

// The sources DESIGN.md allows, in the order documented there.
const std::vector<std::string>& known_sources();
bool is_known_source(std::string_view source);

struct Record {
  std::string id;      // unique within the store; 1..kMaxIdBytes bytes, no control characters
  std::string source;  // one of known_sources()
  Timestamp time;      // required
  std::optional<std::string> sender;
  std::vector<std::string> recipients;
  std::optional<std::string> title;
  std::optional<std::string> text;
  std::optional<Timestamp> start;  // calendar events
  std::optional<Timestamp> end;
  std::optional<std::string> location;
  std::vector<std::string> tags;
  nlohmann::json meta = nlohmann::json::object();
};

// Parses and validates one JSON Lines record. Errors name the field and what was expected
// ("field \"time\": missing (required, ISO 8601)"); the caller adds file:line.
Result<Record> parse_record(std::string_view line);
// Validates a record built in code (by the .ics / vCard / notes converters) with the same rules.
Status validate_record(const Record& r);

// What a converter of another format (.ics, vCard) produced: records, and the problems found
// (1-based line number, reason) for parts that were skipped.
struct ConvertResult {
  std::vector<Record> records;
  std::vector<std::pair<int64_t, std::string>> errors;
};

// The record in the JSON Lines form above (times keep their original UTC offset).
nlohmann::json record_to_json(const Record& r);

}  // namespace pm::store
