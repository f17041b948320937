// libFuzzer target: the JSON Lines record parser (store/record.h) on arbitrary lines.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "store/record.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view line(reinterpret_cast<const char*>(data), size);
  pm::Result<pm::store::Record> r = pm::store::parse_record(line);
  if (r.is_ok()) {
    // A record that parsed must validate and serialize back.
    if (!pm::store::validate_record(*r).is_ok()) __builtin_trap();
    (void)pm::store::record_to_json(*r).dump();
  }
  return 0;
}
