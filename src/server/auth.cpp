#include "server/auth.h"

#include <openssl/evp.h>
#include <openssl/rand.h>

#include <algorithm>
#include <ctime>
#include <filesystem>
#include <set>

#include "store/side_db.h"

namespace pm::server {
namespace {

const std::set<std::string>& known_sources() {
  static const std::set<std::string> s = {"sms", "note", "calendar", "call", "photo", "contact", "email", "*"};
  return s;
}

std::string now_iso8601() {
  const std::time_t t = std::time(nullptr);
  std::tm tm{};
  gmtime_r(&t, &tm);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &tm);
  return buf;
}

std::string join(const std::vector<std::string>& v) {
  std::string out;
  for (const auto& s : v) out += (out.empty() ? "" : ",") + s;
  return out;
}

std::vector<std::string> split_commas(const std::string& text) {
  std::vector<std::string> out;
  size_t start = 0;
  while (start <= text.size()) {
    size_t end = text.find(',', start);
    if (end == std::string::npos) end = text.size();
    std::string item = text.substr(start, end - start);
    item.erase(0, item.find_first_not_of(" \t"));
    item.erase(item.find_last_not_of(" \t") + 1);
    out.push_back(item);
    start = end + 1;
  }
  return out;
}

}  // namespace

Result<std::vector<std::string>> parse_scopes(const std::string& text) {
  static const std::set<std::string> plain = {"chat", "completions", "embeddings", "forget", "ask", "automations",
                                                "tools"};
  std::vector<std::string> out;
  for (const std::string& s : split_commas(text)) {
    if (s.empty()) return Status::invalid_argument("scopes: empty entry in \"" + text + "\"");
    const size_t colon = s.find(':');
    bool ok = plain.count(s) > 0;
    if (!ok && colon != std::string::npos) {
      const std::string kind = s.substr(0, colon);
      ok = (kind == "search" || kind == "write") && known_sources().count(s.substr(colon + 1)) > 0;
    }
    if (!ok)
      return Status::invalid_argument("scopes: unknown scope \"" + s +
                                      "\" (chat, completions, embeddings, ask, automations, tools, forget, "
                                      "search:SOURCE, write:SOURCE with SOURCE one of sms, note, calendar, call, "
                                      "photo, contact, email, *)");
    if (std::find(out.begin(), out.end(), s) != out.end())
      return Status::invalid_argument("scopes: \"" + s + "\" given twice");
    out.push_back(s);
  }
  return out;
}

bool has_scope(const std::vector<std::string>& scopes, const std::string& wanted) {
  if (std::find(scopes.begin(), scopes.end(), wanted) != scopes.end()) return true;
  const size_t colon = wanted.find(':');
  if (colon == std::string::npos) return false;
  const std::string any = wanted.substr(0, colon) + ":*";
  return std::find(scopes.begin(), scopes.end(), any) != scopes.end();
}

std::string sha256_hex(const std::string& text) {
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int n = 0;
  EVP_Digest(text.data(), text.size(), digest, &n, EVP_sha256(), nullptr);
  static const char* hex = "0123456789abcdef";
  std::string out;
  for (unsigned int i = 0; i < n; ++i) {
    out += hex[digest[i] >> 4];
    out += hex[digest[i] & 15];
  }
  return out;
}

bool constant_time_equal(const std::string& a, const std::string& b) {
  if (a.size() != b.size()) return false;
  unsigned char diff = 0;
  for (size_t i = 0; i < a.size(); ++i) diff |= static_cast<unsigned char>(a[i] ^ b[i]);
  return diff == 0;
}

Result<std::optional<store::StoreKey>> app_registry_key(const std::string& dir, const std::string& passphrase) {
  return store::side_file_key(dir, passphrase, kAppsFile, /*create=*/true);
}

Result<std::unique_ptr<AppRegistry>> AppRegistry::open(const std::string& dir,
                                                       const std::optional<store::StoreKey>& key) {
  std::error_code ec;
  std::filesystem::create_directories(dir, ec);
  if (ec) return Status::io_error(dir + ": cannot create the directory: " + ec.message());
  std::unique_ptr<AppRegistry> r(new AppRegistry());
  r->path_ = (std::filesystem::path(dir) / kAppsFile).string();
  PM_ASSIGN_OR_RETURN(r->file_,
                      store::SideDb::open(r->path_, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE, key));
  r->db_ = r->file_->handle();
  sqlite3_busy_timeout(r->db_, 5000);
  char* err = nullptr;
  if (sqlite3_exec(r->db_,
                   "CREATE TABLE IF NOT EXISTS apps(name TEXT PRIMARY KEY, token_sha256 TEXT NOT NULL UNIQUE,"
                   " scopes TEXT NOT NULL, created TEXT NOT NULL)",
                   nullptr, nullptr, &err) != SQLITE_OK) {
    std::string m = err ? err : "unknown error";
    if (sqlite3_extended_errcode(r->db_) == SQLITE_IOERR_DATA) m = store::sqlite_error_text(r->db_);
    sqlite3_free(err);
    return Status::io_error(r->path_ + ": " + m);
  }
  if (key) {  // as durable as the store's other databases
    sqlite3_exec(r->db_, "PRAGMA synchronous=FULL", nullptr, nullptr, nullptr);
  }
  return r;
}

AppRegistry::~AppRegistry() = default;  // file_ closes the connection

Result<std::string> AppRegistry::add(const std::string& name, const std::vector<std::string>& scopes) {
  if (name.empty() || name.size() > 128) return Status::invalid_argument("app name must be 1-128 bytes");
  if (scopes.empty()) return Status::invalid_argument("an app needs at least one scope");
  unsigned char bytes[32];
  if (RAND_bytes(bytes, sizeof bytes) != 1) return Status::internal("RAND_bytes failed: no random token");
  static const char* hex = "0123456789abcdef";
  std::string token = "pm-";
  for (unsigned char b : bytes) {
    token += hex[b >> 4];
    token += hex[b & 15];
  }
  std::lock_guard<std::mutex> lock(mu_);
  sqlite3_stmt* s = nullptr;
  sqlite3_prepare_v2(db_, "INSERT INTO apps(name, token_sha256, scopes, created) VALUES(?,?,?,?)", -1, &s, nullptr);
  const std::string hash = sha256_hex(token), sc = join(scopes), created = now_iso8601();
  sqlite3_bind_text(s, 1, name.c_str(), -1, SQLITE_TRANSIENT);
  sqlite3_bind_text(s, 2, hash.c_str(), -1, SQLITE_TRANSIENT);
  sqlite3_bind_text(s, 3, sc.c_str(), -1, SQLITE_TRANSIENT);
  sqlite3_bind_text(s, 4, created.c_str(), -1, SQLITE_TRANSIENT);
  const int rc = sqlite3_step(s);
  sqlite3_finalize(s);
  if (rc == SQLITE_CONSTRAINT) return Status::invalid_argument("an app named \"" + name + "\" exists already");
  if (rc != SQLITE_DONE) return Status::io_error(path_ + ": " + store::sqlite_error_text(db_));
  return token;
}

Result<std::vector<AppInfo>> AppRegistry::list() {
  std::lock_guard<std::mutex> lock(mu_);
  sqlite3_stmt* s = nullptr;
  sqlite3_prepare_v2(db_, "SELECT name, scopes, created FROM apps ORDER BY name", -1, &s, nullptr);
  std::vector<AppInfo> out;
  int rc;
  while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
    AppInfo a;
    a.name = reinterpret_cast<const char*>(sqlite3_column_text(s, 0));
    a.scopes = split_commas(reinterpret_cast<const char*>(sqlite3_column_text(s, 1)));
    a.created = reinterpret_cast<const char*>(sqlite3_column_text(s, 2));
    out.push_back(std::move(a));
  }
  sqlite3_finalize(s);
  if (rc != SQLITE_DONE) return Status::io_error(path_ + ": " + store::sqlite_error_text(db_));
  return out;
}

Status AppRegistry::remove(const std::string& name) {
  std::lock_guard<std::mutex> lock(mu_);
  sqlite3_stmt* s = nullptr;
  sqlite3_prepare_v2(db_, "DELETE FROM apps WHERE name = ?", -1, &s, nullptr);
  sqlite3_bind_text(s, 1, name.c_str(), -1, SQLITE_TRANSIENT);
  const int rc = sqlite3_step(s);
  sqlite3_finalize(s);
  if (rc != SQLITE_DONE) return Status::io_error(path_ + ": " + store::sqlite_error_text(db_));
  if (sqlite3_changes(db_) == 0) return Status::not_found("no app named \"" + name + "\"");
  return Status::ok();
}

Result<std::optional<AppInfo>> AppRegistry::authenticate(const std::string& token) {
  if (token.size() != 67 || token.rfind("pm-", 0) != 0) return std::optional<AppInfo>();
  const std::string hash = sha256_hex(token);
  std::lock_guard<std::mutex> lock(mu_);
  // Every stored hash is compared in constant time (no early exit on the first match).
  sqlite3_stmt* s = nullptr;
  sqlite3_prepare_v2(db_, "SELECT name, token_sha256, scopes, created FROM apps", -1, &s, nullptr);
  std::optional<AppInfo> found;
  int rc;
  while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
    const std::string stored = reinterpret_cast<const char*>(sqlite3_column_text(s, 1));
    if (constant_time_equal(stored, hash) && !found) {
      AppInfo a;
      a.name = reinterpret_cast<const char*>(sqlite3_column_text(s, 0));
      a.scopes = split_commas(reinterpret_cast<const char*>(sqlite3_column_text(s, 2)));
      a.created = reinterpret_cast<const char*>(sqlite3_column_text(s, 3));
      found = std::move(a);
    }
  }
  sqlite3_finalize(s);
  if (rc != SQLITE_DONE) return Status::io_error(path_ + ": " + store::sqlite_error_text(db_));
  return found;
}

}  // namespace pm::server
