// libFuzzer target: the iCalendar parser and RRULE expansion (store/ical.h) on arbitrary files.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "store/ical.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  pm::store::IcsOptions o;
  o.window_begin_s = 1767225600;  // 2026-01-01
  o.window_end_s = 1830297600;    // 2028-01-01
  o.default_offset_s = 8 * 3600;
  o.max_occurrences = 200;
  const pm::store::ConvertResult c = pm::store::parse_ics(text, o);
  for (const auto& r : c.records) (void)pm::store::validate_record(r);
  return 0;
}
