// Append-only text logs beside an encrypted store, sealed line by line with its page key (the
// server's access log, server/access_log.h; the device bridge's call log,
// assistant/automation/device_bridge.h). Each log names its own format (header tag, HKDF info).
//
// File (mode 0600), text lines:
//   line 1   "<header prefix><salt: 16 random bytes, 32 hex digits>"
//            (e.g. "pocketmind-access-log v1 aes-256-gcm hkdf-sha256 <salt>")
//   line k   base64( nonce (12 random bytes) | AES-256-GCM ciphertext of the line | tag (16) )
//   line key = HKDF-SHA256(input key = the store's page key, salt, info = the format's info), 32 bytes
//   associated data of every line = line 1 (a line only decrypts in the file it was written to)
// Each line is one write(2) of one whole line with O_APPEND. A line torn by a crash fails its tag
// and is counted as damaged by the reader; the writer starts a fresh line after it. A file whose
// header itself was torn (no newline yet: nothing was written after it) is started over. What the
// file shows without the key: how many lines there are, their sizes, and the file's times; not
// their content. Lines are not chained: deleting or reordering whole lines is not detected.
//
// A plain log left in an encrypted store (written before it was encrypted) is converted when the
// sealed log is opened with the key: its lines are appended, sealed, to the sealed file, which is
// fsync'ed before the plain file is removed (a crash in between may repeat those lines, never lose
// them). The removed file's disk blocks are not overwritten.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "core/status.h"
#include "store/crypto_vfs.h"

namespace pm::store {

// What tells one sealed log from another: a line key from one never opens the lines of another.
struct SealedLogFormat {
  const char* header_prefix;  // line 1 up to the salt, ending in a space
  const char* hkdf_info;      // HKDF-SHA256 info of the line key
};

// The longest line append() takes (the file is read whole by the reader).
inline constexpr size_t kMaxSealedLineBytes = size_t(16) << 20;

class SealedLog {
 public:
  // Opens (creates) the sealed log at PATH under the page key; a plain log at PLAIN_PATH ("" =
  // none) is converted into it first (see above).
  static Result<std::unique_ptr<SealedLog>> open(const std::string& path, const SealedLogFormat& format,
                                                 const StoreKey& page_key, const std::string& plain_path);
  ~SealedLog();
  SealedLog(const SealedLog&) = delete;
  SealedLog& operator=(const SealedLog&) = delete;

  // Appends one line (without its newline: a line holding '\n' or '\r', or over
  // kMaxSealedLineBytes, is refused). Not thread-safe: the caller locks.
  Status append(const std::string& line);
  const std::string& path() const { return path_; }

 private:
  SealedLog() = default;
  int fd_ = -1;
  std::string path_;
  std::string header_;  // line 1 (the lines' associated data)
  StoreKey line_key_{};
};

struct SealedLogContents {
  std::vector<std::string> lines;  // decrypted, oldest first
  int64_t damaged = 0;             // lines that failed authentication (torn or altered)
};

// Reads the sealed log at PATH (which must exist). A header of another format or damaged: kCorrupt.
Result<SealedLogContents> read_sealed_log(const std::string& path, const SealedLogFormat& format,
                                          const StoreKey& page_key);

// Splits text into its non-empty lines (a final line without '\n' included).
std::vector<std::string> split_log_lines(const std::string& text);

// The lines of the plain (unsealed) log at PATH (split_log_lines); nullopt when there is no file.
Result<std::optional<std::vector<std::string>>> read_plain_log(const std::string& path);

// Writes all of `data` to fd (retrying short writes and EINTR); errors name `path`.
Status write_fully(int fd, const std::string& data, const std::string& path);

// A log beside the store in DIR: DIR/<plain_name> in a plain store, DIR/<sealed_name> (sealed in
// `format`) in an encrypted one; `what` names it in errors ("access log").
struct StoreLogFiles {
  const char* plain_name;
  const char* sealed_name;
  SealedLogFormat format;
  const char* what;
};

struct StoreLogContents {
  std::string path;                // the file read ("" when there is none yet)
  bool encrypted = false;          // DIR is an encrypted store (a key was given)
  std::vector<std::string> lines;  // oldest first
  int64_t damaged = 0;             // sealed lines that failed authentication (torn or altered)
};

// Reads DIR's log: the plain file without a key; with the key of an encrypted store the sealed
// file, decrypted, after a plain leftover (written before the store was encrypted) has been
// converted, as the log's writer would on opening it. No file yet: no lines. Without a key in an
// encrypted store: the error naming the passphrase (need_key_for_log).
Result<StoreLogContents> read_store_log(const std::string& dir, const std::optional<StoreKey>& key,
                                        const StoreLogFiles& files);

// Without a key, DIR must not be an encrypted store: its logs are never written or read in the
// clear there. The error names `what` and the passphrase options.
Status need_key_for_log(const std::string& dir, const std::optional<StoreKey>& key, const std::string& what);

}  // namespace pm::store
