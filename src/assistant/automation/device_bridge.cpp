#include "assistant/automation/device_bridge.h"

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "store/time_util.h"

namespace pm::automation {
namespace fs = std::filesystem;

Result<std::shared_ptr<LoggingBridge>> LoggingBridge::open(const std::string& dir,
                                                           const std::optional<store::StoreKey>& key) {
  PM_RETURN_IF_ERROR(store::need_key_for_log(dir, key, "device call log"));
  const std::string plain = (fs::path(dir) / kDeviceCallLogFile).string();
  if (!key) return std::make_shared<LoggingBridge>(plain);
  auto bridge = std::make_shared<LoggingBridge>((fs::path(dir) / kSealedDeviceCallLogFile).string());
  PM_ASSIGN_OR_RETURN(bridge->sealed_, store::SealedLog::open(bridge->log_path_, kDeviceCallLogFormat, *key, plain));
  return bridge;
}

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
  if (sealed_) {
    PM_RETURN_IF_ERROR(sealed_->append(line.dump()));
    ++logged_;
    return Status::ok();
  }
  const std::string text = line.dump() + "\n";
  std::FILE* f = std::fopen(log_path_.c_str(), "ab");
  if (!f) return Status::io_error(log_path_ + ": cannot open for appending");
  const bool ok = std::fwrite(text.data(), 1, text.size(), f) == text.size();
  if (std::fclose(f) != 0 || !ok) return Status::io_error(log_path_ + ": write failed");
  ++logged_;
  return Status::ok();
}

}  // namespace pm::automation
