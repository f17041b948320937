// Sealed logs (sealed_log.h), the line format the access log and the device call log share: lines
// never on disk in the clear, read back with the page key, bound to their log's format, torn lines
// counted and skipped, a plain log left from before converted without losing a line.
#include "store/sealed_log.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

#include "test_util.h"

namespace pm::store {
namespace {

namespace fs = std::filesystem;

constexpr SealedLogFormat kA = {"pocketmind-test-a v1 aes-256-gcm hkdf-sha256 ", "pocketmind test a v1"};
constexpr SealedLogFormat kSamePrefixOtherInfo = {"pocketmind-test-a v1 aes-256-gcm hkdf-sha256 ", "other info"};
constexpr SealedLogFormat kB = {"pocketmind-test-b v1 aes-256-gcm hkdf-sha256 ", "pocketmind test b v1"};

StoreKey test_key(uint8_t seed) {
  StoreKey k;
  for (size_t i = 0; i < k.size(); ++i) k[i] = uint8_t(seed + i * 7);
  return k;
}

TEST(SealedLog, LinesAreSealedAndReadBackOnlyUnderTheirKeyAndFormat) {
  const std::string dir = test::temp_dir(), path = dir + "/a.log.enc";
  const StoreKey key = test_key(1);
  {
    Result<std::unique_ptr<SealedLog>> log = SealedLog::open(path, kA, key, "");
    ASSERT_TRUE(log.is_ok()) << log.status().message();
    ASSERT_TRUE((*log)->append(R"({"tool": "sms.send", "args": {"text": "SECRET-7731 见面"}})").is_ok());
    ASSERT_TRUE((*log)->append("second line").is_ok());
    EXPECT_FALSE((*log)->append("two\nlines").is_ok());  // one line per append, or nothing
    EXPECT_FALSE((*log)->append("cr\rinside").is_ok());
  }
  const std::string bytes = test::read_text(path);
  EXPECT_EQ(bytes.find("SECRET-7731"), std::string::npos);
  EXPECT_EQ(bytes.find("sms.send"), std::string::npos);
  EXPECT_EQ(bytes.find("second"), std::string::npos);
  EXPECT_EQ(bytes.rfind(kA.header_prefix, 0), 0u);
  EXPECT_EQ(fs::status(path).permissions() & (fs::perms::group_read | fs::perms::others_read), fs::perms::none);

  Result<SealedLogContents> read = read_sealed_log(path, kA, key);
  ASSERT_TRUE(read.is_ok()) << read.status().message();
  EXPECT_EQ(read->lines, (std::vector<std::string>{R"({"tool": "sms.send", "args": {"text": "SECRET-7731 见面"}})",
                                                   "second line"}));
  EXPECT_EQ(read->damaged, 0);
  // Another key, or another log's key derivation under the same header: every line fails.
  read = read_sealed_log(path, kA, test_key(2));
  ASSERT_TRUE(read.is_ok());
  EXPECT_TRUE(read->lines.empty());
  EXPECT_EQ(read->damaged, 2);
  read = read_sealed_log(path, kSamePrefixOtherInfo, key);
  ASSERT_TRUE(read.is_ok());
  EXPECT_EQ(read->damaged, 2);
  // Another log's header: refused as corrupt, naming the file (and not appended to).
  Result<SealedLogContents> other = read_sealed_log(path, kB, key);
  ASSERT_FALSE(other.is_ok());
  EXPECT_EQ(other.status().code(), StatusCode::kCorrupt);
  EXPECT_NE(other.status().message().find(path), std::string::npos);
  EXPECT_FALSE(SealedLog::open(path, kB, key, "").is_ok());
}

TEST(SealedLog, TornLinesAndTornHeadersAreSurvived) {
  const std::string dir = test::temp_dir(), path = dir + "/t.log.enc";
  const StoreKey key = test_key(3);
  ASSERT_TRUE(SealedLog::open(path, kA, key, "").is_ok());
  {
    Result<std::unique_ptr<SealedLog>> log = SealedLog::open(path, kA, key, "");
    ASSERT_TRUE(log.is_ok());
    ASSERT_TRUE((*log)->append("before the crash").is_ok());
  }
  std::ofstream(path, std::ios::app) << "QUJDRA";  // a crash mid-line
  {
    Result<std::unique_ptr<SealedLog>> log = SealedLog::open(path, kA, key, "");
    ASSERT_TRUE(log.is_ok()) << log.status().message();
    ASSERT_TRUE((*log)->append("after the crash").is_ok());
  }
  Result<SealedLogContents> read = read_sealed_log(path, kA, key);
  ASSERT_TRUE(read.is_ok()) << read.status().message();
  EXPECT_EQ(read->lines, (std::vector<std::string>{"before the crash", "after the crash"}));
  EXPECT_EQ(read->damaged, 1);

  // A header torn before its newline: no lines yet, and the next open starts the file over.
  const std::string torn = dir + "/h.log.enc";
  std::ofstream(torn) << "pocketmind-test-a v1 aes";
  read = read_sealed_log(torn, kA, key);
  ASSERT_TRUE(read.is_ok()) << read.status().message();
  EXPECT_TRUE(read->lines.empty());
  {
    Result<std::unique_ptr<SealedLog>> log = SealedLog::open(torn, kA, key, "");
    ASSERT_TRUE(log.is_ok()) << log.status().message();
    ASSERT_TRUE((*log)->append("fresh").is_ok());
  }
  read = read_sealed_log(torn, kA, key);
  ASSERT_TRUE(read.is_ok()) << read.status().message();
  EXPECT_EQ(read->lines, std::vector<std::string>{"fresh"});
}

TEST(SealedLog, APlainLogIsConvertedAndRemoved) {
  const std::string dir = test::temp_dir(), path = dir + "/c.log.enc", plain = dir + "/c.log";
  std::ofstream(plain) << "old line one PLAIN-5521\n\nold line two\n";
  const StoreKey key = test_key(5);
  {
    Result<std::unique_ptr<SealedLog>> log = SealedLog::open(path, kA, key, plain);
    ASSERT_TRUE(log.is_ok()) << log.status().message();
    ASSERT_TRUE((*log)->append("new line").is_ok());
  }
  EXPECT_FALSE(fs::exists(plain));
  EXPECT_EQ(test::read_text(path).find("PLAIN-5521"), std::string::npos);
  Result<SealedLogContents> read = read_sealed_log(path, kA, key);
  ASSERT_TRUE(read.is_ok()) << read.status().message();
  EXPECT_EQ(read->lines, (std::vector<std::string>{"old line one PLAIN-5521", "old line two", "new line"}));
}

TEST(SealedLog, KeylessUseOfAnEncryptedStoreIsRefused) {
  const std::string dir = test::temp_dir();
  EXPECT_TRUE(need_key_for_log(dir, std::nullopt, "test log").is_ok());  // a plain store
  std::ofstream(dir + "/store.key") << "{}";
  const Status s = need_key_for_log(dir, std::nullopt, "test log");
  ASSERT_FALSE(s.is_ok());
  EXPECT_NE(s.message().find("test log"), std::string::npos) << s.message();
  EXPECT_NE(s.message().find("passphrase"), std::string::npos) << s.message();
  EXPECT_TRUE(need_key_for_log(dir, test_key(1), "test log").is_ok());
}

}  // namespace
}  // namespace pm::store
