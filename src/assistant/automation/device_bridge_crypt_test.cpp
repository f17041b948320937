// The device bridge's call log (device_bridge.h) in an encrypted store: a tool call's arguments
// are personal data, so DIR/device_calls.jsonl.enc holds them sealed with the store's key; they
// read back with the key; without it the bridge refuses; a plain log left from before is
// converted; a plain store keeps its plain DIR/device_calls.jsonl.
#include "assistant/automation/device_bridge.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <sstream>

#include "store/store_key.h"
#include "test_util.h"

namespace pm::automation {
namespace {

namespace fs = std::filesystem;

const char* const kBridgePass = "bridge 口令 5";


TEST(DeviceBridgeCrypt, ToolArgumentsAreSealedAndReadBackWithTheKey) {
  const std::string dir = test::temp_dir();
  Result<store::StoreKey> key = store::create_store_key(dir, kBridgePass, 100000);
  ASSERT_TRUE(key.is_ok()) << key.status().message();
  {
    Result<std::shared_ptr<LoggingBridge>> bridge = LoggingBridge::open(dir, *key);
    ASSERT_TRUE(bridge.is_ok()) << bridge.status().message();
    ASSERT_TRUE((*bridge)->call("r1", "sms.send", {{"to", "王医生"}, {"text", "APPT-60213 明天复诊"}}, 1764554400).is_ok());
    ASSERT_TRUE((*bridge)->call("r2", "alarm.set", {{"time", "07:00"}}, 1764554460).is_ok());
    EXPECT_EQ((*bridge)->calls_logged(), 2);
  }
  EXPECT_FALSE(fs::exists(dir + "/" + kDeviceCallLogFile));
  ASSERT_TRUE(fs::exists(dir + "/" + kSealedDeviceCallLogFile));
  const std::string bytes = test::dir_bytes(dir);
  for (const char* secret : {"APPT-60213", "王医生", "sms.send", "\"args\""})
    EXPECT_EQ(bytes.find(secret), std::string::npos) << secret;

  Result<DeviceCallLog> log = read_device_calls(dir, *key);
  ASSERT_TRUE(log.is_ok()) << log.status().message();
  EXPECT_TRUE(log->encrypted);
  EXPECT_EQ(log->path, dir + "/" + kSealedDeviceCallLogFile);
  ASSERT_EQ(log->lines.size(), 2u);
  const nlohmann::json first = nlohmann::json::parse(log->lines[0]);
  EXPECT_EQ(first["rule"], "r1");
  EXPECT_EQ(first["tool"], "sms.send");
  EXPECT_EQ(first["args"]["text"], "APPT-60213 明天复诊");
  EXPECT_EQ(nlohmann::json::parse(log->lines[1])["tool"], "alarm.set");

  // No key: the bridge and the reader refuse, and no plain file appears.
  Result<std::shared_ptr<LoggingBridge>> keyless = LoggingBridge::open(dir, std::nullopt);
  ASSERT_FALSE(keyless.is_ok());
  EXPECT_NE(keyless.status().message().find("passphrase"), std::string::npos) << keyless.status().message();
  EXPECT_FALSE(read_device_calls(dir, std::nullopt).is_ok());
  EXPECT_FALSE(fs::exists(dir + "/" + kDeviceCallLogFile));
  // Another key reads no call.
  store::StoreKey other = *key;
  other[5] ^= 0x40;
  log = read_device_calls(dir, other);
  ASSERT_TRUE(log.is_ok());
  EXPECT_TRUE(log->lines.empty());
  EXPECT_EQ(log->damaged, 2);
}

TEST(DeviceBridgeCrypt, PlainLogLeftInAnEncryptedStoreIsConverted) {
  const std::string dir = test::temp_dir();
  std::ofstream(dir + "/" + kDeviceCallLogFile)
      << R"({"time":"2026-11-30T08:00:00Z","rule":"r1","tool":"notification.show","args":{"text":"OLD-3381"}})"
      << "\n";
  Result<store::StoreKey> key = store::create_store_key(dir, kBridgePass, 100000);
  ASSERT_TRUE(key.is_ok());
  {
    Result<std::shared_ptr<LoggingBridge>> bridge = LoggingBridge::open(dir, *key);
    ASSERT_TRUE(bridge.is_ok()) << bridge.status().message();
    ASSERT_TRUE((*bridge)->call("r2", "notification.show", {{"text", "NEW-9902"}}, 1764554400).is_ok());
  }
  EXPECT_FALSE(fs::exists(dir + "/" + kDeviceCallLogFile));
  EXPECT_EQ(test::dir_bytes(dir).find("OLD-3381"), std::string::npos);
  Result<DeviceCallLog> log = read_device_calls(dir, *key);
  ASSERT_TRUE(log.is_ok()) << log.status().message();
  ASSERT_EQ(log->lines.size(), 2u);
  EXPECT_EQ(nlohmann::json::parse(log->lines[0])["args"]["text"], "OLD-3381");
  EXPECT_EQ(nlohmann::json::parse(log->lines[1])["args"]["text"], "NEW-9902");
}

TEST(DeviceBridgeCrypt, PlainStoreKeepsItsPlainLog) {
  const std::string dir = test::temp_dir();
  Result<std::shared_ptr<LoggingBridge>> bridge = LoggingBridge::open(dir, std::nullopt);
  ASSERT_TRUE(bridge.is_ok()) << bridge.status().message();
  EXPECT_FALSE(fs::exists(dir + "/" + kDeviceCallLogFile));  // created on the first call, as before
  ASSERT_TRUE((*bridge)->call("r1", "alarm.set", {{"time", "07:00"}}, 1764554400).is_ok());
  const std::string text = test::read_text(dir + "/" + kDeviceCallLogFile);
  EXPECT_NE(text.find("\"tool\":\"alarm.set\""), std::string::npos) << text;
  Result<DeviceCallLog> log = read_device_calls(dir, std::nullopt);
  ASSERT_TRUE(log.is_ok()) << log.status().message();
  EXPECT_FALSE(log->encrypted);
  ASSERT_EQ(log->lines.size(), 1u);
  EXPECT_EQ(nlohmann::json::parse(log->lines[0])["args"]["time"], "07:00");
  EXPECT_FALSE(fs::exists(dir + "/" + kSealedDeviceCallLogFile));
}

}  // namespace
}  // namespace pm::automation
