#include "store/store_key.h"

#include <fcntl.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/rand.h>
#include <unistd.h>

#include <cstring>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>

namespace pm::store {
namespace {

constexpr const char* kFormat = "pocketmind-store-key";
constexpr int kSaltBytes = 32;
constexpr int kMinIterations = 100000;
constexpr int kMaxIterations = 100000000;
constexpr size_t kMaxKeyFileBytes = 64 * 1024;

constexpr char kWrapAad[] = "pocketmind store key v1";
constexpr size_t kWrappedBytes = 12 + 32 + 16;  // nonce | encrypted page key | tag

// The key-encryption key: PBKDF2-HMAC-SHA256 of the passphrase.
Result<StoreKey> derive_kek(const std::string& passphrase, const std::vector<uint8_t>& salt, int iterations) {
  StoreKey kek;
  if (PKCS5_PBKDF2_HMAC(passphrase.data(), int(passphrase.size()), salt.data(), int(salt.size()), iterations,
                        EVP_sha256(), int(kek.size()), kek.data()) != 1)
    return Status::internal("PBKDF2 failed");
  return kek;
}

// AES-256-GCM of the page key under the KEK. False: OpenSSL failed.
bool wrap(const StoreKey& kek, const StoreKey& key, std::vector<uint8_t>* wrapped) {
  wrapped->assign(kWrappedBytes, 0);
  uint8_t* nonce = wrapped->data();
  uint8_t* ct = nonce + 12;
  uint8_t* tag = ct + 32;
  if (RAND_bytes(nonce, 12) != 1) return false;
  EVP_CIPHER_CTX* c = EVP_CIPHER_CTX_new();
  int n = 0;
  const bool ok =
      c && EVP_EncryptInit_ex(c, EVP_aes_256_gcm(), nullptr, kek.data(), nonce) == 1 &&
      EVP_EncryptUpdate(c, nullptr, &n, reinterpret_cast<const uint8_t*>(kWrapAad), sizeof kWrapAad - 1) == 1 &&
      EVP_EncryptUpdate(c, ct, &n, key.data(), 32) == 1 && EVP_EncryptFinal_ex(c, ct + n, &n) == 1 &&
      EVP_CIPHER_CTX_ctrl(c, EVP_CTRL_GCM_GET_TAG, 16, tag) == 1;
  EVP_CIPHER_CTX_free(c);
  return ok;
}

// The inverse; false when the tag does not verify (a wrong passphrase, a damaged file).
bool unwrap(const StoreKey& kek, const std::vector<uint8_t>& wrapped, StoreKey* key) {
  if (wrapped.size() != kWrappedBytes) return false;
  const uint8_t* nonce = wrapped.data();
  const uint8_t* ct = nonce + 12;
  uint8_t tag[16];
  std::memcpy(tag, ct + 32, 16);
  EVP_CIPHER_CTX* c = EVP_CIPHER_CTX_new();
  int n = 0;
  const bool ok =
      c && EVP_DecryptInit_ex(c, EVP_aes_256_gcm(), nullptr, kek.data(), nonce) == 1 &&
      EVP_DecryptUpdate(c, nullptr, &n, reinterpret_cast<const uint8_t*>(kWrapAad), sizeof kWrapAad - 1) == 1 &&
      EVP_DecryptUpdate(c, key->data(), &n, ct, 32) == 1 &&
      EVP_CIPHER_CTX_ctrl(c, EVP_CTRL_GCM_SET_TAG, 16, tag) == 1 && EVP_DecryptFinal_ex(c, key->data() + n, &n) == 1;
  EVP_CIPHER_CTX_free(c);
  if (!ok) OPENSSL_cleanse(key->data(), key->size());
  return ok;
}

Status check_passphrase(const std::string& passphrase) {
  if (passphrase.empty()) return Status::invalid_argument("the passphrase is empty");
  if (passphrase.size() > kMaxPassphraseBytes)
    return Status::invalid_argument("the passphrase is longer than " + std::to_string(kMaxPassphraseBytes) + " bytes");
  return Status::ok();
}

// Writes `text` to `path` so that a crash leaves either no file or the whole file.
Status write_atomically(const std::string& dir, const std::string& path, const std::string& text) {
  const std::string tmp = path + ".tmp";
  const int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  if (fd < 0) return Status::io_error(tmp + ": cannot create");
  size_t done = 0;
  while (done < text.size()) {
    const ssize_t n = ::write(fd, text.data() + done, text.size() - done);
    if (n <= 0) {
      ::close(fd);
      ::unlink(tmp.c_str());
      return Status::io_error(tmp + ": write failed");
    }
    done += size_t(n);
  }
  const bool synced = ::fsync(fd) == 0;
  ::close(fd);
  if (!synced || ::rename(tmp.c_str(), path.c_str()) != 0) {
    ::unlink(tmp.c_str());
    return Status::io_error(path + ": cannot write");
  }
  const int dfd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (dfd >= 0) {
    (void)::fsync(dfd);
    ::close(dfd);
  }
  return Status::ok();
}

}  // namespace

std::string to_hex(const uint8_t* p, size_t n) {
  static const char* d = "0123456789abcdef";
  std::string s;
  for (size_t i = 0; i < n; ++i) s.append(1, d[p[i] >> 4]).append(1, d[p[i] & 15]);
  return s;
}

bool from_hex(const std::string& s, std::vector<uint8_t>* out) {
  if (s.size() % 2) return false;
  out->clear();
  auto nib = [](char c) -> int {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
  };
  for (size_t i = 0; i < s.size(); i += 2) {
    const int hi = nib(s[i]), lo = nib(s[i + 1]);
    if (hi < 0 || lo < 0) return false;
    out->push_back(uint8_t(hi * 16 + lo));
  }
  return true;
}

// Writes DIR/store.key holding `key` wrapped under `passphrase` (new salt), atomically.
Status write_key_file(const std::string& dir, const std::string& passphrase, int iterations, const StoreKey& key) {
  const std::string path = (std::filesystem::path(dir) / kStoreKeyFile).string();
  std::vector<uint8_t> salt(kSaltBytes);
  if (RAND_bytes(salt.data(), kSaltBytes) != 1) return Status::internal("no random bytes for the salt");
  PM_ASSIGN_OR_RETURN(StoreKey kek, derive_kek(passphrase, salt, iterations));
  std::vector<uint8_t> wrapped;
  const bool ok = wrap(kek, key, &wrapped);
  OPENSSL_cleanse(kek.data(), kek.size());
  if (!ok) return Status::internal("AES-256-GCM key wrap failed");
  const nlohmann::json j = {{"format", kFormat},
                            {"version", 1},
                            {"kdf", "pbkdf2-hmac-sha256"},
                            {"iterations", iterations},
                            {"salt", to_hex(salt.data(), salt.size())},
                            {"cipher", "aes-256-gcm"},
                            {"page_size", kCryptPageSize},
                            {"reserve_bytes", kCryptReserveBytes},
                            {"wrapped_key", to_hex(wrapped.data(), wrapped.size())}};
  return write_atomically(dir, path, j.dump(2) + "\n");
}

Result<StoreKey> create_store_key(const std::string& dir, const std::string& passphrase, int iterations) {
  PM_RETURN_IF_ERROR(check_passphrase(passphrase));
  const std::string path = (std::filesystem::path(dir) / kStoreKeyFile).string();
  std::error_code ec;
  if (std::filesystem::exists(path, ec)) return Status::invalid_argument(path + ": already exists");
  StoreKey key;
  if (RAND_bytes(key.data(), int(key.size())) != 1) return Status::internal("no random bytes for the store key");
  PM_RETURN_IF_ERROR(write_key_file(dir, passphrase, iterations, key));
  return key;
}

Status change_store_passphrase(const std::string& dir, const std::string& old_passphrase,
                               const std::string& new_passphrase) {
  PM_RETURN_IF_ERROR(check_passphrase(new_passphrase).with_context("new passphrase"));
  PM_ASSIGN_OR_RETURN(StoreKey key, unlock_store_key(dir, old_passphrase));
  const Status s = write_key_file(dir, new_passphrase, kKdfIterations, key);
  OPENSSL_cleanse(key.data(), key.size());
  return s;
}

Result<StoreKey> unlock_store_key(const std::string& dir, const std::string& passphrase) {
  PM_RETURN_IF_ERROR(check_passphrase(passphrase));
  const std::string path = (std::filesystem::path(dir) / kStoreKeyFile).string();
  std::ifstream in(path, std::ios::binary);
  if (!in) return Status::io_error(path + ": cannot read the store's key file");
  std::string text;
  {
    std::ostringstream ss;
    ss << in.rdbuf();
    text = ss.str();
  }
  if (text.size() > kMaxKeyFileBytes) return Status::corrupt(path + ": too large for a key file");
  const nlohmann::json j = nlohmann::json::parse(text, nullptr, false);
  if (j.is_discarded() || !j.is_object()) return Status::corrupt(path + ": not a JSON object (damaged key file)");
  auto str = [&](const char* field, std::string* out) -> Status {
    auto it = j.find(field);
    if (it == j.end() || !it->is_string())
      return Status::corrupt(path + ": field \"" + field + "\" missing or not a string");
    *out = it->get<std::string>();
    return Status::ok();
  };
  auto num = [&](const char* field, int64_t* out) -> Status {
    auto it = j.find(field);
    if (it == j.end() || !it->is_number_integer())
      return Status::corrupt(path + ": field \"" + field + "\" missing or not an integer");
    *out = it->get<int64_t>();
    return Status::ok();
  };
  std::string format, kdf, cipher, salt_hex, wrapped_hex;
  int64_t version = 0, iterations = 0, page_size = 0, reserve = 0;
  PM_RETURN_IF_ERROR(str("format", &format));
  if (format != kFormat)
    return Status::corrupt(path + ": field \"format\" is \"" + format + "\", expected \"" + kFormat + "\"");
  PM_RETURN_IF_ERROR(num("version", &version));
  if (version != 1)
    return Status::unsupported(path + ": key file version " + std::to_string(version) + " (this pocketmind reads 1)");
  PM_RETURN_IF_ERROR(str("kdf", &kdf));
  if (kdf != "pbkdf2-hmac-sha256")
    return Status::unsupported(path + ": kdf \"" + kdf + "\" (expected pbkdf2-hmac-sha256)");
  PM_RETURN_IF_ERROR(num("iterations", &iterations));
  if (iterations < kMinIterations || iterations > kMaxIterations)
    return Status::corrupt(path + ": iterations " + std::to_string(iterations) + " outside [" +
                           std::to_string(kMinIterations) + ", " + std::to_string(kMaxIterations) + "]");
  PM_RETURN_IF_ERROR(str("cipher", &cipher));
  if (cipher != "aes-256-gcm") return Status::unsupported(path + ": cipher \"" + cipher + "\" (expected aes-256-gcm)");
  PM_RETURN_IF_ERROR(num("page_size", &page_size));
  PM_RETURN_IF_ERROR(num("reserve_bytes", &reserve));
  if (page_size != kCryptPageSize || reserve != kCryptReserveBytes)
    return Status::unsupported(path + ": page_size " + std::to_string(page_size) + " / reserve_bytes " +
                               std::to_string(reserve) + " (expected " + std::to_string(kCryptPageSize) + " / " +
                               std::to_string(kCryptReserveBytes) + ")");
  std::vector<uint8_t> salt, wrapped;
  PM_RETURN_IF_ERROR(str("salt", &salt_hex));
  if (!from_hex(salt_hex, &salt) || salt.size() < 16)
    return Status::corrupt(path + ": field \"salt\" is not at least 16 bytes of hex");
  PM_RETURN_IF_ERROR(str("wrapped_key", &wrapped_hex));
  if (!from_hex(wrapped_hex, &wrapped) || wrapped.size() != kWrappedBytes)
    return Status::corrupt(path + ": field \"wrapped_key\" is not " + std::to_string(kWrappedBytes) + " bytes of hex");
  PM_ASSIGN_OR_RETURN(StoreKey kek, derive_kek(passphrase, salt, int(iterations)));
  StoreKey key;
  const bool ok = unwrap(kek, wrapped, &key);
  OPENSSL_cleanse(kek.data(), kek.size());
  if (!ok) return Status::invalid_argument(dir + ": wrong passphrase for this encrypted store");
  return key;
}

Result<std::optional<StoreKey>> store_key_for_open(const std::string& dir, const std::string& passphrase,
                                                   bool database_exists, bool create) {
  std::error_code ec;
  const bool key_exists = std::filesystem::exists(std::filesystem::path(dir) / kStoreKeyFile, ec);
  if (!key_exists) {
    if (passphrase.empty()) return std::optional<StoreKey>();
    if (database_exists)
      return Status::invalid_argument(dir +
                                      ": this store is not encrypted, but a passphrase was given "
                                      "(unset POCKETMIND_PASSPHRASE / drop --passphrase-file)");
    if (!create) return Status::not_found(dir + ": no store here");
    PM_ASSIGN_OR_RETURN(StoreKey k, create_store_key(dir, passphrase));
    return std::optional<StoreKey>(k);
  }
  if (passphrase.empty())
    return Status::invalid_argument(dir + ": this store is encrypted (" + kStoreKeyFile +
                                    "): give its passphrase in POCKETMIND_PASSPHRASE or with --passphrase-file FILE");
  PM_ASSIGN_OR_RETURN(StoreKey k, unlock_store_key(dir, passphrase));
  return std::optional<StoreKey>(k);
}

}  // namespace pm::store
