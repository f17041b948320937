#include "store/sealed_log.h"

#include <fcntl.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/kdf.h>
#include <openssl/rand.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "store/store_key.h"

namespace pm::store {
namespace fs = std::filesystem;
namespace {

constexpr size_t kLogSaltBytes = 16;
constexpr size_t kNonceBytes = 12;
constexpr size_t kTagBytes = 16;

std::string base64(const std::vector<uint8_t>& bytes) {
  std::string out(4 * ((bytes.size() + 2) / 3) + 1, '\0');
  const int n = EVP_EncodeBlock(reinterpret_cast<unsigned char*>(out.data()), bytes.data(), int(bytes.size()));
  out.resize(size_t(n));
  return out;
}

bool unbase64(const std::string& text, std::vector<uint8_t>* out) {
  if (text.empty() || text.size() % 4 != 0) return false;
  out->assign(text.size() / 4 * 3, 0);
  const int n = EVP_DecodeBlock(out->data(), reinterpret_cast<const unsigned char*>(text.data()), int(text.size()));
  if (n < 0) return false;
  size_t pad = 0;
  if (text.back() == '=') ++pad;
  if (text.size() >= 2 && text[text.size() - 2] == '=') ++pad;
  out->resize(size_t(n) - pad);
  return true;
}

Result<StoreKey> derive_line_key(const StoreKey& page_key, const std::vector<uint8_t>& salt, const char* info) {
  StoreKey out;
  EVP_PKEY_CTX* c = EVP_PKEY_CTX_new_id(EVP_PKEY_HKDF, nullptr);
  size_t n = out.size();
  const bool ok = c && EVP_PKEY_derive_init(c) == 1 && EVP_PKEY_CTX_set_hkdf_md(c, EVP_sha256()) == 1 &&
                  EVP_PKEY_CTX_set1_hkdf_salt(c, salt.data(), int(salt.size())) == 1 &&
                  EVP_PKEY_CTX_set1_hkdf_key(c, page_key.data(), int(page_key.size())) == 1 &&
                  EVP_PKEY_CTX_add1_hkdf_info(c, reinterpret_cast<const unsigned char*>(info),
                                              int(std::strlen(info))) == 1 &&
                  EVP_PKEY_derive(c, out.data(), &n) == 1 && n == out.size();
  EVP_PKEY_CTX_free(c);
  if (!ok) return Status::internal("HKDF-SHA256 failed: no log line key");
  return out;
}

// nonce | ciphertext | tag of `plain`, with the header as associated data.
Result<std::vector<uint8_t>> seal(const StoreKey& key, const std::string& header, const std::string& plain) {
  std::vector<uint8_t> out(kNonceBytes + plain.size() + kTagBytes);
  if (RAND_bytes(out.data(), int(kNonceBytes)) != 1) return Status::internal("no random bytes for a nonce");
  EVP_CIPHER_CTX* c = EVP_CIPHER_CTX_new();
  int n = 0;
  const bool ok =
      c && EVP_EncryptInit_ex(c, EVP_aes_256_gcm(), nullptr, nullptr, nullptr) == 1 &&
      EVP_CIPHER_CTX_ctrl(c, EVP_CTRL_GCM_SET_IVLEN, int(kNonceBytes), nullptr) == 1 &&
      EVP_EncryptInit_ex(c, nullptr, nullptr, key.data(), out.data()) == 1 &&
      EVP_EncryptUpdate(c, nullptr, &n, reinterpret_cast<const uint8_t*>(header.data()), int(header.size())) == 1 &&
      EVP_EncryptUpdate(c, out.data() + kNonceBytes, &n, reinterpret_cast<const uint8_t*>(plain.data()),
                        int(plain.size())) == 1 &&
      EVP_EncryptFinal_ex(c, out.data() + kNonceBytes + plain.size(), &n) == 1 &&
      EVP_CIPHER_CTX_ctrl(c, EVP_CTRL_GCM_GET_TAG, int(kTagBytes), out.data() + kNonceBytes + plain.size()) == 1;
  EVP_CIPHER_CTX_free(c);
  if (!ok) return Status::internal("AES-256-GCM failed on a log line");
  return out;
}

bool open_sealed(const StoreKey& key, const std::string& header, const std::vector<uint8_t>& sealed,
                 std::string* plain) {
  if (sealed.size() < kNonceBytes + kTagBytes) return false;
  const size_t len = sealed.size() - kNonceBytes - kTagBytes;
  plain->assign(len, '\0');
  EVP_CIPHER_CTX* c = EVP_CIPHER_CTX_new();
  int n = 0;
  std::vector<uint8_t> tag(sealed.end() - kTagBytes, sealed.end());
  const bool ok =
      c && EVP_DecryptInit_ex(c, EVP_aes_256_gcm(), nullptr, nullptr, nullptr) == 1 &&
      EVP_CIPHER_CTX_ctrl(c, EVP_CTRL_GCM_SET_IVLEN, int(kNonceBytes), nullptr) == 1 &&
      EVP_DecryptInit_ex(c, nullptr, nullptr, key.data(), sealed.data()) == 1 &&
      EVP_DecryptUpdate(c, nullptr, &n, reinterpret_cast<const uint8_t*>(header.data()), int(header.size())) == 1 &&
      EVP_DecryptUpdate(c, reinterpret_cast<uint8_t*>(plain->data()), &n, sealed.data() + kNonceBytes, int(len)) == 1 &&
      EVP_CIPHER_CTX_ctrl(c, EVP_CTRL_GCM_SET_TAG, int(kTagBytes), tag.data()) == 1 &&
      EVP_DecryptFinal_ex(c, reinterpret_cast<uint8_t*>(plain->data()) + len, &n) == 1;
  EVP_CIPHER_CTX_free(c);
  return ok;
}

Result<std::string> read_whole(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return Status::io_error(path + ": cannot read");
  std::ostringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

// Line 1 of a sealed log -> the line key; errors name the file.
Result<StoreKey> key_from_header(const std::string& path, const std::string& header, const SealedLogFormat& format,
                                 const StoreKey& page_key) {
  const std::string prefix = format.header_prefix;
  std::vector<uint8_t> salt;
  if (header.compare(0, prefix.size(), prefix) != 0 ||
      !from_hex(header.substr(std::min(prefix.size(), header.size())), &salt) || salt.size() != kLogSaltBytes)
    return Status::corrupt(path + ": line 1 is not \"" + prefix + "<32 hex digits>\"");
  return derive_line_key(page_key, salt, format.hkdf_info);
}

Result<std::string> new_header(const SealedLogFormat& format) {
  uint8_t salt[kLogSaltBytes];
  if (RAND_bytes(salt, sizeof salt) != 1) return Status::internal("no random bytes for a log salt");
  return std::string(format.header_prefix) + to_hex(salt, sizeof salt);
}

Status sync_fd(int fd, const std::string& path) {
  if (::fsync(fd) != 0) return Status::io_error(path + ": fsync failed: " + std::strerror(errno));
  return Status::ok();
}

}  // namespace

Status write_fully(int fd, const std::string& data, const std::string& path) {
  size_t done = 0;
  while (done < data.size()) {
    const ssize_t w = ::write(fd, data.data() + done, data.size() - done);
    if (w < 0 && errno == EINTR) continue;
    if (w <= 0) return Status::io_error(path + ": cannot write: " + std::strerror(errno));
    done += size_t(w);
  }
  return Status::ok();
}

std::vector<std::string> split_log_lines(const std::string& text) {
  std::vector<std::string> lines;
  size_t start = 0;
  while (start < text.size()) {
    size_t end = text.find('\n', start);
    if (end == std::string::npos) end = text.size();
    if (end > start) lines.push_back(text.substr(start, end - start));
    start = end + 1;
  }
  return lines;
}

Result<std::optional<std::vector<std::string>>> read_plain_log(const std::string& path) {
  std::error_code ec;
  if (!fs::exists(path, ec)) return std::optional<std::vector<std::string>>();
  std::ifstream in(path, std::ios::binary);
  if (!in) return Status::io_error(path + ": cannot read");
  std::ostringstream ss;
  ss << in.rdbuf();
  return std::optional<std::vector<std::string>>(split_log_lines(ss.str()));
}

Result<StoreLogContents> read_store_log(const std::string& dir, const std::optional<StoreKey>& key,
                                        const StoreLogFiles& files) {
  PM_RETURN_IF_ERROR(need_key_for_log(dir, key, files.what));
  StoreLogContents out;
  out.encrypted = key.has_value();
  const std::string plain = (fs::path(dir) / files.plain_name).string();
  if (!key) {
    PM_ASSIGN_OR_RETURN(std::optional<std::vector<std::string>> lines, read_plain_log(plain));
    if (lines) {
      out.path = plain;
      out.lines = std::move(*lines);
    }
    return out;
  }
  const std::string sealed = (fs::path(dir) / files.sealed_name).string();
  std::error_code ec;
  if (fs::exists(plain, ec)) {  // opening the sealed log converts the plain one
    PM_ASSIGN_OR_RETURN(std::unique_ptr<SealedLog> converted, SealedLog::open(sealed, files.format, *key, plain));
  }
  if (!fs::exists(sealed, ec)) return out;
  PM_ASSIGN_OR_RETURN(SealedLogContents read, read_sealed_log(sealed, files.format, *key));
  out.path = sealed;
  out.lines = std::move(read.lines);
  out.damaged = read.damaged;
  return out;
}

Status need_key_for_log(const std::string& dir, const std::optional<StoreKey>& key, const std::string& what) {
  std::error_code ec;
  if (!key && fs::exists(fs::path(dir) / kStoreKeyFile, ec))
    return Status::invalid_argument(dir + ": this store is encrypted (" + kStoreKeyFile + "): its " + what +
                                    " is read and written with its passphrase "
                                    "(POCKETMIND_PASSPHRASE or --passphrase-file FILE)");
  return Status::ok();
}

Result<std::unique_ptr<SealedLog>> SealedLog::open(const std::string& path, const SealedLogFormat& format,
                                                   const StoreKey& page_key, const std::string& plain_path) {
  std::unique_ptr<SealedLog> log(new SealedLog());
  log->path_ = path;
  log->fd_ = ::open(path.c_str(), O_RDWR | O_APPEND | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
  if (log->fd_ >= 0) {  // a new file: its salt and header, on disk before any line
    PM_ASSIGN_OR_RETURN(log->header_, new_header(format));
    PM_RETURN_IF_ERROR(write_fully(log->fd_, log->header_ + "\n", path));
    PM_RETURN_IF_ERROR(sync_fd(log->fd_, path));
  } else {
    if (errno != EEXIST) return Status::io_error(path + ": cannot create: " + std::strerror(errno));
    log->fd_ = ::open(path.c_str(), O_RDWR | O_APPEND | O_CLOEXEC);
    if (log->fd_ < 0) return Status::io_error(path + ": cannot open: " + std::strerror(errno));
    PM_ASSIGN_OR_RETURN(std::string text, read_whole(path));
    if (text.find('\n') == std::string::npos) {  // created, but killed before its header was whole: start over
      PM_ASSIGN_OR_RETURN(log->header_, new_header(format));
      if (::ftruncate(log->fd_, 0) != 0) return Status::io_error(path + ": cannot truncate: " + std::strerror(errno));
      PM_RETURN_IF_ERROR(write_fully(log->fd_, log->header_ + "\n", path));
      PM_RETURN_IF_ERROR(sync_fd(log->fd_, path));
    } else {
      log->header_ = text.substr(0, text.find('\n'));
      if (text.back() != '\n')  // a line torn by a crash: the next one starts afresh
        PM_RETURN_IF_ERROR(write_fully(log->fd_, "\n", path));
    }
  }
  PM_ASSIGN_OR_RETURN(log->line_key_, key_from_header(path, log->header_, format, page_key));
  // A plain log from before the store was encrypted: its lines move into this file.
  std::error_code ec;
  if (!plain_path.empty() && fs::exists(plain_path, ec)) {
    PM_ASSIGN_OR_RETURN(std::string text, read_whole(plain_path));
    for (const std::string& line : split_log_lines(text)) {
      PM_ASSIGN_OR_RETURN(std::vector<uint8_t> sealed, seal(log->line_key_, log->header_, line));
      PM_RETURN_IF_ERROR(write_fully(log->fd_, base64(sealed) + "\n", path));
    }
    PM_RETURN_IF_ERROR(sync_fd(log->fd_, path));
    if (!fs::remove(plain_path, ec) && ec)
      return Status::io_error(plain_path + ": cannot remove after encrypting its lines: " + ec.message());
    const std::string dir = fs::path(plain_path).parent_path().string();
    const int dfd = ::open(dir.empty() ? "." : dir.c_str(), O_DIRECTORY | O_RDONLY | O_CLOEXEC);
    if (dfd >= 0) {
      ::fsync(dfd);
      ::close(dfd);
    }
  }
  return log;
}

SealedLog::~SealedLog() {
  OPENSSL_cleanse(line_key_.data(), line_key_.size());
  if (fd_ >= 0) ::close(fd_);
}

Status SealedLog::append(const std::string& line) {
  if (line.size() > kMaxSealedLineBytes)
    return Status::invalid_argument(path_ + ": a line of " + std::to_string(line.size()) + " bytes (at most " +
                                    std::to_string(kMaxSealedLineBytes) + ")");
  if (line.find_first_of("\r\n") != std::string::npos)
    return Status::invalid_argument(path_ + ": a log line may not hold a line break");
  PM_ASSIGN_OR_RETURN(std::vector<uint8_t> sealed, seal(line_key_, header_, line));
  return write_fully(fd_, base64(sealed) + "\n", path_);
}

Result<SealedLogContents> read_sealed_log(const std::string& path, const SealedLogFormat& format,
                                          const StoreKey& page_key) {
  SealedLogContents out;
  PM_ASSIGN_OR_RETURN(std::string text, read_whole(path));
  std::vector<std::string> lines = split_log_lines(text);
  if (lines.empty()) return out;
  if (text.find('\n') == std::string::npos) return out;  // a header torn before any line
  PM_ASSIGN_OR_RETURN(StoreKey line_key, key_from_header(path, lines[0], format, page_key));
  std::vector<uint8_t> sealed;
  std::string plain;
  for (size_t i = 1; i < lines.size(); ++i) {
    if (unbase64(lines[i], &sealed) && open_sealed(line_key, lines[0], sealed, &plain))
      out.lines.push_back(plain);
    else
      ++out.damaged;
  }
  OPENSSL_cleanse(line_key.data(), line_key.size());
  return out;
}

}  // namespace pm::store
