#include "server/access_log.h"

#include <fcntl.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/kdf.h>
#include <openssl/rand.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "server/auth.h"
#include "store/store_key.h"

namespace pm::server {
namespace fs = std::filesystem;
namespace {

constexpr char kHeaderPrefix[] = "pocketmind-access-log v1 aes-256-gcm hkdf-sha256 ";
constexpr char kHkdfInfo[] = "pocketmind access log v1";
constexpr size_t kSaltBytes = 16;
constexpr size_t kNonceBytes = 12;
constexpr size_t kTagBytes = 16;
constexpr size_t kMaxLineBytes = 1u << 20;  // an event line; longer ones are cut

std::string to_hex(const uint8_t* p, size_t n) {
  static const char* hex = "0123456789abcdef";
  std::string s;
  for (size_t i = 0; i < n; ++i) {
    s += hex[p[i] >> 4];
    s += hex[p[i] & 15];
  }
  return s;
}

bool from_hex(const std::string& s, std::vector<uint8_t>* out) {
  if (s.size() % 2) return false;
  out->clear();
  auto nib = [](char c) -> int {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    return -1;
  };
  for (size_t i = 0; i < s.size(); i += 2) {
    const int hi = nib(s[i]), lo = nib(s[i + 1]);
    if (hi < 0 || lo < 0) return false;
    out->push_back(uint8_t(hi * 16 + lo));
  }
  return true;
}

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

Result<store::StoreKey> derive_line_key(const store::StoreKey& page_key, const std::vector<uint8_t>& salt) {
  store::StoreKey out;
  EVP_PKEY_CTX* c = EVP_PKEY_CTX_new_id(EVP_PKEY_HKDF, nullptr);
  size_t n = out.size();
  const bool ok = c && EVP_PKEY_derive_init(c) == 1 && EVP_PKEY_CTX_set_hkdf_md(c, EVP_sha256()) == 1 &&
                  EVP_PKEY_CTX_set1_hkdf_salt(c, salt.data(), int(salt.size())) == 1 &&
                  EVP_PKEY_CTX_set1_hkdf_key(c, page_key.data(), int(page_key.size())) == 1 &&
                  EVP_PKEY_CTX_add1_hkdf_info(c, reinterpret_cast<const unsigned char*>(kHkdfInfo),
                                              int(sizeof kHkdfInfo - 1)) == 1 &&
                  EVP_PKEY_derive(c, out.data(), &n) == 1 && n == out.size();
  EVP_PKEY_CTX_free(c);
  if (!ok) return Status::internal("HKDF-SHA256 failed: no access log key");
  return out;
}

// nonce | ciphertext | tag of `plain`, with the header as associated data.
Result<std::vector<uint8_t>> seal(const store::StoreKey& key, const std::string& header, const std::string& plain) {
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
  if (!ok) return Status::internal("AES-256-GCM failed on an access log line");
  return out;
}

bool open_sealed(const store::StoreKey& key, const std::string& header, const std::vector<uint8_t>& sealed,
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

Status write_all(int fd, const std::string& data, const std::string& path) {
  size_t done = 0;
  while (done < data.size()) {
    const ssize_t w = ::write(fd, data.data() + done, data.size() - done);
    if (w < 0 && errno == EINTR) continue;
    if (w <= 0) return Status::io_error(path + ": cannot write: " + std::strerror(errno));
    done += size_t(w);
  }
  return Status::ok();
}

Result<std::string> read_whole(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return Status::io_error(path + ": cannot read");
  std::ostringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

std::vector<std::string> split_lines(const std::string& text) {
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

// The header of access.log.enc -> the line key; errors name the file.
Result<store::StoreKey> key_from_header(const std::string& path, const std::string& header,
                                        const store::StoreKey& page_key) {
  const size_t prefix = sizeof kHeaderPrefix - 1;
  std::vector<uint8_t> salt;
  if (header.compare(0, prefix, kHeaderPrefix) != 0 ||
      !from_hex(header.substr(std::min(prefix, header.size())), &salt) || salt.size() != kSaltBytes)
    return Status::corrupt(path + ": line 1 is not \"" + std::string(kHeaderPrefix) + "<32 hex digits>\"");
  return derive_line_key(page_key, salt);
}

// Without a key, DIR must not be an encrypted store (its log is never written or read in the clear).
Status need_key_if_encrypted(const std::string& dir, const std::optional<store::StoreKey>& key) {
  std::error_code ec;
  if (!key && fs::exists(fs::path(dir) / store::kStoreKeyFile, ec))
    return Status::invalid_argument(dir + ": this store is encrypted (" + store::kStoreKeyFile +
                                    "): its access log is read and written with its passphrase "
                                    "(POCKETMIND_PASSPHRASE or --passphrase-file FILE)");
  return Status::ok();
}

}  // namespace

Result<std::unique_ptr<AccessLog>> AccessLog::open(const std::string& dir, const std::optional<store::StoreKey>& key) {
  std::unique_ptr<AccessLog> log(new AccessLog());
  PM_RETURN_IF_ERROR(need_key_if_encrypted(dir, key));
  if (!key) {
    log->path_ = (fs::path(dir) / kAccessLogFile).string();
    log->fd_ = ::open(log->path_.c_str(), O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0666);
    if (log->fd_ < 0) return Status::io_error(log->path_ + ": cannot open the access log: " + std::strerror(errno));
    return log;
  }
  log->path_ = (fs::path(dir) / kSealedAccessLogFile).string();
  log->fd_ = ::open(log->path_.c_str(), O_RDWR | O_APPEND | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
  if (log->fd_ >= 0) {  // a new file: its salt and header, on disk before any line
    uint8_t salt[kSaltBytes];
    if (RAND_bytes(salt, sizeof salt) != 1) return Status::internal("no random bytes for the access log salt");
    log->header_ = kHeaderPrefix + to_hex(salt, sizeof salt);
    PM_RETURN_IF_ERROR(write_all(log->fd_, log->header_ + "\n", log->path_));
    if (::fsync(log->fd_) != 0) return Status::io_error(log->path_ + ": fsync failed: " + std::strerror(errno));
  } else {
    if (errno != EEXIST)
      return Status::io_error(log->path_ + ": cannot create the access log: " + std::strerror(errno));
    log->fd_ = ::open(log->path_.c_str(), O_RDWR | O_APPEND | O_CLOEXEC);
    if (log->fd_ < 0) return Status::io_error(log->path_ + ": cannot open the access log: " + std::strerror(errno));
    PM_ASSIGN_OR_RETURN(std::string text, read_whole(log->path_));
    if (text.find('\n') == std::string::npos) {  // created, but killed before its header was whole: start over
      uint8_t salt[kSaltBytes];
      if (RAND_bytes(salt, sizeof salt) != 1) return Status::internal("no random bytes for the access log salt");
      log->header_ = kHeaderPrefix + to_hex(salt, sizeof salt);
      if (::ftruncate(log->fd_, 0) != 0)
        return Status::io_error(log->path_ + ": cannot truncate: " + std::strerror(errno));
      PM_RETURN_IF_ERROR(write_all(log->fd_, log->header_ + "\n", log->path_));
    } else {
      log->header_ = text.substr(0, text.find('\n'));
      if (text.back() != '\n')  // a line torn by a crash: the next one starts afresh
        PM_RETURN_IF_ERROR(write_all(log->fd_, "\n", log->path_));
    }
  }
  PM_ASSIGN_OR_RETURN(store::StoreKey line_key, key_from_header(log->path_, log->header_, *key));
  log->line_key_ = line_key;
  // A plain access.log from before the store was encrypted: its lines move into this file.
  const std::string plain_path = (fs::path(dir) / kAccessLogFile).string();
  std::error_code ec;
  if (fs::exists(plain_path, ec)) {
    PM_ASSIGN_OR_RETURN(std::string text, read_whole(plain_path));
    for (const std::string& line : split_lines(text)) {
      PM_ASSIGN_OR_RETURN(std::vector<uint8_t> sealed, seal(*log->line_key_, log->header_, line));
      PM_RETURN_IF_ERROR(write_all(log->fd_, base64(sealed) + "\n", log->path_));
    }
    if (::fsync(log->fd_) != 0) return Status::io_error(log->path_ + ": fsync failed: " + std::strerror(errno));
    if (!fs::remove(plain_path, ec) && ec)
      return Status::io_error(plain_path + ": cannot remove after encrypting its lines: " + ec.message());
    const int dfd = ::open(dir.c_str(), O_DIRECTORY | O_RDONLY | O_CLOEXEC);
    if (dfd >= 0) {
      ::fsync(dfd);
      ::close(dfd);
    }
  }
  return log;
}

AccessLog::~AccessLog() {
  if (line_key_) OPENSSL_cleanse(line_key_->data(), line_key_->size());
  if (fd_ >= 0) ::close(fd_);
}

Status AccessLog::append(const std::string& time, const std::string& event) {
  std::string line = time + " " + event;
  if (line.size() > kMaxLineBytes) line.resize(kMaxLineBytes);
  for (char& c : line)
    if (c == '\n' || c == '\r') c = ' ';  // one event, one line
  if (!line_key_) return write_all(fd_, line + "\n", path_);
  PM_ASSIGN_OR_RETURN(std::vector<uint8_t> sealed, seal(*line_key_, header_, line));
  return write_all(fd_, base64(sealed) + "\n", path_);
}

Result<AccessLogContents> read_access_log(const std::string& dir, const std::optional<store::StoreKey>& key) {
  AccessLogContents out;
  std::error_code ec;
  PM_RETURN_IF_ERROR(need_key_if_encrypted(dir, key));
  if (!key) {
    const std::string path = (fs::path(dir) / kAccessLogFile).string();
    if (!fs::exists(path, ec)) return out;
    PM_ASSIGN_OR_RETURN(std::string text, read_whole(path));
    out.path = path;
    out.lines = split_lines(text);
    return out;
  }
  const std::string path = (fs::path(dir) / kSealedAccessLogFile).string();
  // A plain access.log still there (the server has not run since the store was encrypted) is
  // converted first, as the server would.
  if (fs::exists(fs::path(dir) / kAccessLogFile, ec)) {
    PM_ASSIGN_OR_RETURN(std::unique_ptr<AccessLog> converted, AccessLog::open(dir, key));
  }
  if (!fs::exists(path, ec)) return out;
  PM_ASSIGN_OR_RETURN(std::string text, read_whole(path));
  out.path = path;
  std::vector<std::string> lines = split_lines(text);
  if (lines.empty()) return out;
  PM_ASSIGN_OR_RETURN(store::StoreKey line_key, key_from_header(path, lines[0], *key));
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

}  // namespace pm::server
