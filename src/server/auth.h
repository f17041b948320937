// Apps and access control for `pocketmind serve`. Each app that calls the server has a bearer
// token ("pm-" + 64 hex digits from 32 random bytes) and a set of scopes:
//   chat, completions, embeddings        model-only: never see personal data
//   search:<source>, write:<source>      read / write one personal-data source (sms, note, calendar,
//                                        call, photo, contact, email); "search:*" / "write:*" = all
//   forget, ask, automations             the assistant endpoints
// Only the SHA-256 of a token is kept, in DIR/apps.sqlite (DIR: the store directory `serve --db`
// uses):
//   apps(name TEXT PRIMARY KEY, token_sha256 TEXT hex, scopes TEXT comma-separated, created TEXT ISO 8601)
// In an encrypted store (DIR/store.key) apps.sqlite is encrypted with the store's page key
// (store/side_db.h; WAL mode); a plain one left there from before is converted on the first open
// with the key. A plain store keeps a plain apps.sqlite (rollback journal), as before.
#pragma once

#include <sqlite3.h>

#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "core/status.h"
#include "store/crypto_vfs.h"

namespace pm::store {
class SideDb;
}

namespace pm::server {

inline constexpr const char* kAppsFile = "apps.sqlite";
inline constexpr const char* kAccessLogFile = "access.log";

struct AppInfo {
  std::string name;
  std::vector<std::string> scopes;
  std::string created;
};

// Checks a scope list ("chat,search:sms"): every entry known, no duplicates. Errors name the entry.
Result<std::vector<std::string>> parse_scopes(const std::string& text);
// True when `scopes` grants `wanted` (exact, or "search:*" for any "search:<source>").
bool has_scope(const std::vector<std::string>& scopes, const std::string& wanted);
// SHA-256 of text, lower-case hex (OpenSSL EVP).
std::string sha256_hex(const std::string& text);
// Equal strings, in time independent of where they differ.
bool constant_time_equal(const std::string& a, const std::string& b);

class AppRegistry {
 public:
  // `key`: the store's page key when DIR is an encrypted store (app_registry_key), else nullopt.
  static Result<std::unique_ptr<AppRegistry>> open(const std::string& dir,
                                                   const std::optional<store::StoreKey>& key = std::nullopt);
  ~AppRegistry();
  AppRegistry(const AppRegistry&) = delete;
  AppRegistry& operator=(const AppRegistry&) = delete;

  // Creates an app and returns its token (shown once; only its hash is stored).
  Result<std::string> add(const std::string& name, const std::vector<std::string>& scopes);
  Result<std::vector<AppInfo>> list();
  // kNotFound when there is no such app.
  Status remove(const std::string& name);
  // The app a bearer token belongs to, or nullopt.
  Result<std::optional<AppInfo>> authenticate(const std::string& token);

 private:
  AppRegistry() = default;
  std::mutex mu_;
  std::unique_ptr<store::SideDb> file_;  // owns the connection (and the VFS of an encrypted store)
  sqlite3* db_ = nullptr;                // file_->handle()
  std::string path_;
};

// The key AppRegistry::open needs for DIR given the user's passphrase ("" = none): nullopt for a
// plain store, the page key of an encrypted one, or the error naming what is missing. A new DIR
// given a passphrase becomes an encrypted store (store::side_file_key).
Result<std::optional<store::StoreKey>> app_registry_key(const std::string& dir, const std::string& passphrase);

}  // namespace pm::server
