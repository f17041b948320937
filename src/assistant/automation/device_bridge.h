// The device bridge: where rule actions reach the device (notifications, settings, media, ...).
//
// A phone build implements DeviceBridge over the platform's APIs. The default LoggingBridge
// appends each call as one JSON line {time, rule, tool, args} to DIR/device_calls.jsonl, so
// everything is testable on a desktop; tests (and the CLI's testing options) can make named
// tools fail or hang.
//
// The args are personal data (a message's text, a contact), so in an encrypted store
// (DIR/store.key) the log is DIR/device_calls.jsonl.enc instead, a sealed log
// (store/sealed_log.h: each JSON line AES-256-GCM under an HKDF-SHA256 key of the store's page key)
// with header "pocketmind-device-calls v1 aes-256-gcm hkdf-sha256 <salt>" and HKDF info
// "pocketmind device calls v1"; a plain device_calls.jsonl left from before is converted into it
// when the bridge is opened with the key. `pocketmind automation calls --db DIR` reads either.
#pragma once

#include <condition_variable>
#include <cstdint>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "core/status.h"
#include "store/crypto_vfs.h"
#include "store/sealed_log.h"

namespace pm::automation {

inline constexpr const char* kDeviceCallLogFile = "device_calls.jsonl";
inline constexpr const char* kSealedDeviceCallLogFile = "device_calls.jsonl.enc";
inline constexpr store::SealedLogFormat kDeviceCallLogFormat = {
    "pocketmind-device-calls v1 aes-256-gcm hkdf-sha256 ", "pocketmind device calls v1"};

class DeviceBridge {
 public:
  virtual ~DeviceBridge() = default;
  // Performs one tool call. May block; the scheduler abandons a call after its timeout (the
  // bridge must stay valid while it runs: the scheduler holds it by shared_ptr).
  virtual Status call(const std::string& rule_id, const std::string& tool, const nlohmann::json& args,
                      int64_t now_s) = 0;
};

class LoggingBridge : public DeviceBridge {
 public:
  // Logs in the clear to LOG_PATH (created on the first call).
  explicit LoggingBridge(std::string log_path) : log_path_(std::move(log_path)) {}
  // The bridge of the store directory DIR: DIR/device_calls.jsonl without a key (refused when DIR
  // is an encrypted store), the sealed DIR/device_calls.jsonl.enc with the store's page key
  // (opened, and a plain leftover converted, now; the bridge keeps only the derived line key).
  static Result<std::shared_ptr<LoggingBridge>> open(const std::string& dir, const std::optional<store::StoreKey>& key);
  ~LoggingBridge() override;

  Status call(const std::string& rule_id, const std::string& tool, const nlohmann::json& args,
              int64_t now_s) override;

  // Testing: calls to a failing tool return an error (and are not logged); calls to a hanging
  // tool block until release_hangs() (or the bridge's destruction). Calls to a gated tool block
  // like hanging ones but are logged once released and then succeed.
  void inject_failure(const std::string& tool) { std::lock_guard<std::mutex> l(mu_); failing_.insert(tool); }
  void inject_hang(const std::string& tool) { std::lock_guard<std::mutex> l(mu_); hanging_.insert(tool); }
  void inject_gate(const std::string& tool) { std::lock_guard<std::mutex> l(mu_); gated_.insert(tool); }
  void release_hangs();
  int waiting() const { std::lock_guard<std::mutex> l(mu_); return waiting_; }  // calls blocked now
  int64_t calls_logged() const { std::lock_guard<std::mutex> l(mu_); return logged_; }

 private:
  std::string log_path_;
  std::unique_ptr<store::SealedLog> sealed_;  // encrypted stores
  mutable std::mutex mu_;
  std::condition_variable cv_;
  std::set<std::string> failing_, hanging_, gated_;
  bool released_ = false;
  int waiting_ = 0;
  int64_t logged_ = 0;
};

inline constexpr store::StoreLogFiles kDeviceCallLogFiles = {kDeviceCallLogFile, kSealedDeviceCallLogFile,
                                                            kDeviceCallLogFormat, "device call log"};

// JSON lines {time, rule, tool, args}, oldest first.
using DeviceCallLog = store::StoreLogContents;

// Reads DIR's device call log, decrypting it with the key of an encrypted store (a plain leftover
// is converted first, as the bridge would). No file yet: no lines. Without a key in an encrypted
// store: the error naming the passphrase.
inline Result<DeviceCallLog> read_device_calls(const std::string& dir, const std::optional<store::StoreKey>& key) {
  return store::read_store_log(dir, key, kDeviceCallLogFiles);
}

}  // namespace pm::automation
