#include "assistant/automation/device_bridge.h"

#include <cstdio>

#include "store/time_util.h"

namespace pm::automation {

LoggingBridge::~LoggingBridge() { release_hangs(); }

void LoggingBridge::release_hangs() {
  std::lock_guard<std::mutex> l(mu_);
  released_ = true;
  cv_.notify_all();
}

Status LoggingBridge::call(const std::string& rule_id, const std::string& tool, const nlohmann::json& args,
                           int64_t now_s) {
  std::unique_lock<std::mutex> l(mu_);
  if (failing_.count(tool)) return Status::internal("tool " + tool + " failed (injected failure)");
  const bool hang = hanging_.count(tool) != 0;
  if (hang || gated_.count(tool)) {
    ++waiting_;
    cv_.wait(l, [&] { return released_; });
    --waiting_;
    if (hang) return Status::cancelled("tool " + tool + " hung (injected) and was released");
  }
  const nlohmann::json line = {{"time", store::format_iso8601(now_s, 0)}, {"rule", rule_id}, {"tool", tool}, {"args", args}};
  const std::string text = line.dump() + "\n";
  std::FILE* f = std::fopen(log_path_.c_str(), "ab");
  if (!f) return Status::io_error(log_path_ + ": cannot open for appending");
  const bool ok = std::fwrite(text.data(), 1, text.size(), f) == text.size();
  if (std::fclose(f) != 0 || !ok) return Status::io_error(log_path_ + ": write failed");
  ++logged_;
  return Status::ok();
}

}  // namespace pm::automation
