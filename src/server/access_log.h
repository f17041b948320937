// The server's access log: one line per denial and notable event (auth.h, server.cpp), written
// while `pocketmind serve` runs and read back with `pocketmind apps log`.
//
// Plain store: DIR/access.log, text, one "<ISO 8601 time> <event>" line per event (unchanged).
//
// Encrypted store (DIR/store.key): DIR/access.log.enc, mode 0600, text lines:
//   line 1   "pocketmind-access-log v1 aes-256-gcm hkdf-sha256 <salt: 16 random bytes, 32 hex digits>"
//   line k   base64( nonce (12 random bytes) | AES-256-GCM ciphertext of "<ISO 8601 time> <event>" | tag (16) )
//   line key = HKDF-SHA256(input key = the store's page key, salt, info "pocketmind access log v1"), 32 bytes
//   associated data of every line = line 1 (a line only decrypts in the file it was written to)
// Each event is one write(2) of one whole line with O_APPEND. A line torn by a crash fails its tag
// and is counted as damaged by the reader; the writer starts a fresh line after it. What the file
// shows without the key: how many events there were, their sizes, and the file's times; not their
// content or time. Lines are not chained: deleting or reordering whole lines is not detected.
//
// A plain DIR/access.log left in an encrypted store (written before this was encrypted) is
// converted when the log is next opened with the key: its lines are appended, encrypted, to
// access.log.enc, which is fsync'ed before access.log is removed (a crash in between may repeat
// those lines, never lose them). The removed file's disk blocks are not overwritten.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "core/status.h"
#include "store/crypto_vfs.h"

namespace pm::server {

inline constexpr const char* kSealedAccessLogFile = "access.log.enc";

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
  int fd_ = -1;
  std::string path_;
  std::optional<store::StoreKey> line_key_;  // HKDF of the page key (encrypted stores)
  std::string header_;                       // line 1 of access.log.enc (the lines' associated data)
};

struct AccessLogContents {
  std::string path;                // the file read ("" when there is none yet)
  std::vector<std::string> lines;  // "<ISO 8601 time> <event>", oldest first
  int64_t damaged = 0;             // encrypted lines that failed authentication (torn or altered)
};

// Reads DIR's access log (decrypting with the key of an encrypted store). No file yet: no lines.
Result<AccessLogContents> read_access_log(const std::string& dir, const std::optional<store::StoreKey>& key);

}  // namespace pm::server
