// The server's access log: one line per denial and notable event (auth.h, server.cpp), written
// while `pocketmind serve` runs and read back with `pocketmind apps log`.
//
// Plain store: DIR/access.log, text, one "<ISO 8601 time> <event>" line per event (unchanged).
//
// Encrypted store (DIR/store.key): DIR/access.log.enc, a sealed log (store/sealed_log.h: one
// AES-256-GCM line per event under an HKDF-SHA256 key of the page key) with
//   line 1   "pocketmind-access-log v1 aes-256-gcm hkdf-sha256 <salt: 32 hex digits>"
//   HKDF info "pocketmind access log v1"
// and the plain lines "<ISO 8601 time> <event>" inside. What the file shows without the key: how
// many events there were, their sizes, and the file's times; not their content or time.
//
// A plain DIR/access.log left in an encrypted store (written before this was encrypted) is
// converted when the log is next opened with the key (sealed_log.h: appended, fsync'ed, then the
// plain file removed; a crash in between may repeat lines, never lose them).
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "core/status.h"
#include "server/auth.h"
#include "store/crypto_vfs.h"
#include "store/sealed_log.h"

namespace pm::server {

inline constexpr const char* kSealedAccessLogFile = "access.log.enc";
inline constexpr store::SealedLogFormat kAccessLogFormat = {"pocketmind-access-log v1 aes-256-gcm hkdf-sha256 ",
                                                            "pocketmind access log v1"};

class AccessLog {
 public:
  // Opens (creates) the log of DIR: DIR/access.log without a key, DIR/access.log.enc with one.
  static Result<std::unique_ptr<AccessLog>> open(const std::string& dir, const std::optional<store::StoreKey>& key);
  ~AccessLog();
  AccessLog(const AccessLog&) = delete;
  AccessLog& operator=(const AccessLog&) = delete;

  // Appends "<time> <event>" as one line (encrypted with a key). Not thread-safe: the caller locks.
  Status append(const std::string& time, const std::string& event);
  const std::string& path() const { return path_; }

 private:
  AccessLog() = default;
  int fd_ = -1;  // plain stores
  std::string path_;
  std::unique_ptr<store::SealedLog> sealed_;  // encrypted stores
};

inline constexpr store::StoreLogFiles kAccessLogFiles = {kAccessLogFile, kSealedAccessLogFile, kAccessLogFormat,
                                                        "access log"};

// Lines "<ISO 8601 time> <event>", oldest first.
using AccessLogContents = store::StoreLogContents;

// Reads DIR's access log (decrypting with the key of an encrypted store). No file yet: no lines.
inline Result<AccessLogContents> read_access_log(const std::string& dir, const std::optional<store::StoreKey>& key) {
  return store::read_store_log(dir, key, kAccessLogFiles);
}

}  // namespace pm::server
