// Pieces the store verbs (ingest, search, forget) share.
#pragma once

#include <chrono>
#include <ctime>
#include <string>

#include "core/status.h"
#include "store/time_util.h"

namespace pm::cli {

// --now: an ISO 8601 time, or (empty) the system clock on the local UTC offset.
inline Result<store::Timestamp> parse_now(const std::string& text) {
  if (!text.empty()) {
    Result<store::Timestamp> t = store::parse_iso8601(text);
    if (!t.is_ok()) return t.status().with_context("--now");
    return t;
  }
  store::Timestamp t;
  t.epoch_s =
      std::chrono::duration_cast<std::chrono::seconds>(std::chrono::system_clock::now().time_since_epoch()).count();
  std::time_t tt = std::time_t(t.epoch_s);
  std::tm tm{};
  if (localtime_r(&tt, &tm)) t.offset_s = int32_t(tm.tm_gmtoff);
  return t;
}

}  // namespace pm::cli
