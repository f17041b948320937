// The device bridge: where rule actions reach the device (notifications, settings, media, ...).
//
// A phone build implements DeviceBridge over the platform's APIs. The default LoggingBridge
// appends each call as one JSON line {time, rule, tool, args} to DIR/device_calls.jsonl, so
// everything is testable on a desktop; tests (and the CLI's testing options) can make named
// tools fail or hang.
#pragma once

#include <condition_variable>
#include <cstdint>
#include <mutex>
#include <set>
#include <string>

#include <nlohmann/json.hpp>

#include "core/status.h"

namespace pm::automation {

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
  explicit LoggingBridge(std::string log_path) : log_path_(std::move(log_path)) {}
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
  mutable std::mutex mu_;
  std::condition_variable cv_;
  std::set<std::string> failing_, hanging_, gated_;
  bool released_ = false;
  int waiting_ = 0;
  int64_t logged_ = 0;
};

}  // namespace pm::automation
